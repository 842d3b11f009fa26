/* Fuzz target: Engine.IO polling payloads (sio_eio_payload_*). This file is the v4 target
 * (records joined by 0x1E); eio_payload_v3.c includes it for the v3 text ('<len>:<record>')
 * and XHR2 binary formats.
 *
 * Input: byte 0 = options (bit 0: compat; v3 only, bit 1: XHR2 binary format), then the body.
 * Oracles:
 *  - the iterator and sio_eio_payload_validate agree on verdict, error and packet count;
 *  - decode -> encode -> decode keeps every packet's type, kind and bytes (EIO-PKT-06, 07,
 *    15-17);
 *  - what strict decoding accepts is canonical: re-encoding reproduces the body exactly;
 *  - compat accepts every body strict accepts, with the same packets;
 *  - what the encoder writes decodes back: the body taken as one text message (and, in the text
 *    formats, as the base64 text of one binary message) is either refused by the encoder or
 *    comes back from the decoder as that one packet. */
#include "eio_check.h"

#ifndef EIO_PAYLOAD_V3
#define EIO_PAYLOAD_V3 0
#endif

typedef struct payload {
    sio_err err;
    size_t count;
    sio_eio_packet *pkts;
    size_t *ends; /* iterator position after each packet: where its record ends */
    size_t cap;
} payload;

/* Kept between inputs: the arrays of each decoding. */
static payload first_run, again_run, wide_run;

/* All packets up to the end or the first error, via the iterator, into `out`, whose arrays are
 * kept from one input to the next and grow as packets come (one slot ahead for the iterator to
 * write into). */
static void iterate(payload *out, sio_eio_payload_format f, const uint8_t *p, size_t n,
                    const sio_eio_options *opt)
{
    out->err = SIO_OK;
    out->count = 0;
    sio_eio_payload_iter it;
    sio_eio_payload_iter_init(&it, f, p, n, opt);
    bool has = true;
    while (has) {
        FUZZ_ASSERT(out->count <= n, "eio payload: more packets than bytes");
        if (out->count == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 16;
            out->pkts = realloc(out->pkts, sizeof(sio_eio_packet) * out->cap);
            out->ends = realloc(out->ends, sizeof(size_t) * out->cap);
            if (!out->pkts || !out->ends)
                abort();
        }
        out->err = sio_eio_payload_next(&it, &out->pkts[out->count], &has);
        if (out->err != SIO_OK)
            break;
        out->ends[out->count] = it.pos;
        out->count += has;
    }
    if (out->err != SIO_OK) {
        sio_eio_packet extra;
        FUZZ_ASSERT(sio_eio_payload_next(&it, &extra, &has) == out->err,
                    "eio payload: error not sticky");
    }
}

static void check_validate_agrees(sio_eio_payload_format f, const uint8_t *p, size_t n,
                                  const sio_eio_options *opt, const payload *it)
{
    size_t count = 0;
    sio_err e = sio_eio_payload_validate(f, p, n, opt, &count);
    FUZZ_ASSERT(e == it->err, "eio payload: validate and the iterator disagree");
    FUZZ_ASSERT(e != SIO_OK || count == it->count, "eio payload: validate miscounts packets");
    if (f != SIO_EIO_PAYLOAD_V4)
        FUZZ_ASSERT(e == SIO_OK || it->count == 0,
                    "eio payload: v3 returned packets before an error");
}

static uint8_t *encode(sio_eio_payload_format f, const sio_eio_packet *pkts, size_t count,
                       size_t *len)
{
    size_t need = 0;
    sio_err e = sio_eio_payload_encode(f, pkts, count, NULL, 0, &need);
    FUZZ_ASSERT(e == SIO_ERR_BUFFER_TOO_SMALL, "eio payload: encoder refused decoded packets");
    static fuzz_buffer out_buf;
    uint8_t *out = fuzz_buffer_get(&out_buf, need);
    FUZZ_ASSERT(sio_eio_payload_encode(f, pkts, count, out, need, len) == SIO_OK && *len == need,
                "eio payload: encoder failed at the announced size");
    return out;
}

static void check_same_packets(const payload *a, const payload *b, bool compat)
{
    FUZZ_ASSERT(a->count == b->count, "eio payload: packet count changed");
    for (size_t i = 0; i < a->count; i++)
        FUZZ_ASSERT(eio_same_packet(&a->pkts[i], &b->pkts[i], compat),
                    "eio payload: a packet changed meaning");
}

/* Zero-length '0:' records of a v3 text body: strict decoding accepts one only as the whole body
 * (the empty payload) and rejects it next to other records (SIO_ERR_EIO_EMPTY_RECORD); compat skips
 * them anywhere, as engine.io-parser 2.x does. The encoder never writes them, so they are removed
 * from the input before the canonical comparison. Record boundaries are the body start and each
 * record's end. */
static size_t drop_empty_v3_records(const uint8_t *p, size_t n, const payload *pl, uint8_t *out)
{
    size_t len = 0, from = 0;
    for (size_t i = 0; i <= pl->count; i++) {
        size_t boundary = i == 0 ? 0 : pl->ends[i - 1];
        memcpy(out + len, p + from, boundary - from);
        len += boundary - from;
        from = boundary;
        while (from + 2 <= n && p[from] == '0' && p[from + 1] == ':')
            from += 2;
    }
    memcpy(out + len, p + from, n - from);
    return len + n - from;
}

/* The XHR2 encoder takes binary packets as raw bytes only (a text record 'b4…' inside an XHR2
 * body decodes to base64 data), so such packets are decoded first, as a server would. Returns
 * whether any packet was converted (the body is then not expected back byte for byte). */
static bool raw_for_xhr2(payload *pl, eio_meaning *keep, bool compat)
{
    bool converted = false;
    for (size_t i = 0; i < pl->count; i++) {
        keep[i].bytes = NULL;
        if (!pl->pkts[i].binary || !pl->pkts[i].base64)
            continue;
        keep[i] = eio_meaning_of(&pl->pkts[i], compat);
        pl->pkts[i] = eio_packet_of(&keep[i]);
        converted = true;
    }
    return converted;
}

static void check_roundtrip(sio_eio_payload_format f, const uint8_t *p, size_t n,
                            const sio_eio_options *opt, const payload *first)
{
    payload raw = {SIO_OK, first->count, first->pkts, NULL, 0};
    eio_meaning *keep = NULL;
    bool converted = false;
    if (f == SIO_EIO_PAYLOAD_V3_BINARY) { /* only XHR2 bodies have packets to convert */
        raw.pkts = malloc(sizeof(sio_eio_packet) * (first->count + 1));
        keep = malloc(sizeof(eio_meaning) * (first->count + 1));
        if (!raw.pkts || !keep)
            abort();
        memcpy(raw.pkts, first->pkts, sizeof(sio_eio_packet) * first->count);
        converted = raw_for_xhr2(&raw, keep, opt->compat);
    }
    size_t elen = 0;
    uint8_t *enc = encode(f, raw.pkts, raw.count, &elen);
    iterate(&again_run, f, enc, elen, opt);
    FUZZ_ASSERT(again_run.err == SIO_OK, "eio payload: decoder rejects the encoder's output");
    check_same_packets(first, &again_run, opt->compat);
    const uint8_t *norm = p;
    size_t nlen = n;
    if (f == SIO_EIO_PAYLOAD_V3_TEXT) {
        static fuzz_buffer norm_buf;
        uint8_t *buf = fuzz_buffer_get(&norm_buf, n + 1);
        nlen = drop_empty_v3_records(p, n, first, buf);
        norm = buf;
    }
    if (!opt->compat && !converted)
        FUZZ_ASSERT(elen == nlen && memcmp(enc, norm, nlen) == 0,
                    "eio payload: strict body is not canonical");
    if (keep) {
        for (size_t i = 0; i < first->count; i++)
            free(keep[i].bytes);
        free(keep);
        free(raw.pkts);
    }
}

/* The encoder's side of the contract, from packets the decoder did not make: a text holding the
 * v4 separator once went out as two records. Base64 text is copied as is, so it comes back only
 * from lenient decoding; XHR2 takes raw bytes only. */
static void check_encoder_output(sio_eio_payload_format f, const uint8_t *p, size_t n)
{
    sio_span data = sio_span_of(n ? p : NULL, n);
    const sio_eio_packet as_is[2] = {{SIO_EIO_MESSAGE, false, false, data},
                                     {SIO_EIO_MESSAGE, true, true, data}};
    for (size_t k = 0; k < (f == SIO_EIO_PAYLOAD_V3_BINARY ? 1u : 2u); k++) {
        size_t need = 0, len = 0;
        if (sio_eio_payload_encode(f, &as_is[k], 1, NULL, 0, &need) != SIO_ERR_BUFFER_TOO_SMALL)
            continue;
        static fuzz_buffer out_buf;
        uint8_t *out = fuzz_buffer_get(&out_buf, need);
        FUZZ_ASSERT(sio_eio_payload_encode(f, &as_is[k], 1, out, need, &len) == SIO_OK &&
                        len == need,
                    "eio payload: encoder failed at the announced size");
        sio_eio_options opt;
        memset(&opt, 0, sizeof opt);
        opt.compat = as_is[k].base64;
        iterate(&again_run, f, out, len, &opt);
        FUZZ_ASSERT(again_run.err == SIO_OK && again_run.count == 1,
                    "eio payload: the encoder wrote what does not decode to its one packet");
        FUZZ_ASSERT(eio_same_packet(&as_is[k], &again_run.pkts[0], opt.compat),
                    "eio payload: the encoder's packet changed meaning");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t flags = fuzz_take_u8(&in);
    sio_eio_payload_format f = !EIO_PAYLOAD_V3 ? SIO_EIO_PAYLOAD_V4
                               : (flags & 2u)  ? SIO_EIO_PAYLOAD_V3_BINARY
                                               : SIO_EIO_PAYLOAD_V3_TEXT;
    sio_eio_options opt;
    memset(&opt, 0, sizeof opt);
    opt.compat = flags & 1u;
    iterate(&first_run, f, in.p, in.n, &opt);
    fuzz_reached(first_run.err == SIO_OK);
    check_validate_agrees(f, in.p, in.n, &opt, &first_run);
    check_encoder_output(f, in.p, in.n);
    if (first_run.err == SIO_OK && first_run.count > 0) {
        check_roundtrip(f, in.p, in.n, &opt, &first_run);
        if (!opt.compat) {
            sio_eio_options lax = opt;
            lax.compat = true;
            iterate(&wide_run, f, in.p, in.n, &lax);
            FUZZ_ASSERT(wide_run.err == SIO_OK,
                        "eio payload: compat rejects a body strict accepts");
            check_same_packets(&first_run, &wide_run, true);
        }
    }
    return 0;
}
