/* Fuzz target: the Engine.IO forms beside packets and payloads (sio/eio.h): the open packet,
 * JSONP bodies (GET and POST, EIO-PKT-20) and WebTransport streams (EIO-PKT-21).
 *
 * Input: byte 0 = mode (bits 0-1: 0 open packet, 1 JSONP GET body, 2 JSONP POST body,
 * 3 WebTransport stream; bit 2: v3 for the open packet, compat otherwise), then a split header
 * (fuzz_common.h, used by the WebTransport mode) and the bytes. Oracles:
 *  - decode -> encode -> decode keeps every field (open packet: sid, upgrades, numbers; JSONP:
 *    index and payload);
 *  - WebTransport: bytes arriving in reads of input-chosen sizes give the same packets and
 *    error as the whole stream at once, and strict streams re-encode byte for byte. */
#include "eio_check.h"
#include "fuzz_log.h"
#include "sio/json.h"

/* Buffers kept between inputs (fuzz_buffer_get poisons what lies past each request) and logs
 * that keep their memory. */
static fuzz_buffer tok_buf, enc_buf, payload_buf, back_buf;
static fuzz_log before, after, whole, split, reenc;

/* A JSON string's contents (a view without quotes) as UTF-8, escapes undone (malloc'd). */
static uint8_t *contents(sio_span view, bool escaped, size_t *len)
{
    uint8_t *tok = fuzz_buffer_get(&tok_buf, view.len + 2), *out = malloc(view.len + 1);
    if (!out)
        abort();
    tok[0] = tok[view.len + 1] = '"';
    if (view.len)
        memcpy(tok + 1, view.ptr, view.len);
    if (escaped) {
        FUZZ_ASSERT(sio_json_string_unescape(sio_span_of(tok, view.len + 2), out, view.len, len) ==
                        SIO_OK,
                    "eio open: escaped string does not unescape");
    } else {
        if (view.len)
            memcpy(out, view.ptr, view.len);
        *len = view.len;
    }
    return out;
}

/* The open packet's fields with every string unescaped, for comparison. */
static void log_open(fuzz_log *l, const sio_eio_open *o)
{
    size_t len = 0;
    uint8_t *s = contents(o->sid, o->sid_escaped, &len);
    log_span(l, s, len);
    free(s);
    log_u64(l, o->upgrade_count | (uint64_t)o->has_upgrades << 32 |
                   (uint64_t)o->has_max_payload << 33);
    for (size_t i = 0; i < o->upgrade_count; i++) {
        s = contents(o->upgrades[i], o->upgrade_escaped[i], &len);
        log_span(l, s, len);
        free(s);
    }
    log_u64(l, o->ping_interval);
    log_u64(l, o->ping_timeout);
    log_u64(l, o->has_max_payload ? o->max_payload : 0);
}

/* Re-encoding needs unescaped strings: the encoder escapes them itself. */
static void check_open(int protocol, const uint8_t *p, size_t n)
{
    sio_eio_open o;
    sio_err e = sio_eio_open_decode(protocol, p, n, &o);
    fuzz_reached(e == SIO_OK);
    if (e != SIO_OK)
        return;
    log_reset(&before);
    log_reset(&after);
    log_open(&before, &o);
    sio_eio_open plain = o;
    uint8_t *kept[1 + SIO_EIO_OPEN_MAX_UPGRADES];
    size_t len = 0;
    kept[0] = contents(o.sid, o.sid_escaped, &len);
    plain.sid = sio_span_of(kept[0], len);
    plain.sid_escaped = false;
    for (size_t i = 0; i < o.upgrade_count; i++) {
        kept[1 + i] = contents(o.upgrades[i], o.upgrade_escaped[i], &len);
        plain.upgrades[i] = sio_span_of(kept[1 + i], len);
        plain.upgrade_escaped[i] = false;
    }
    size_t need = 0, wrote = 0;
    sio_eio_open_encode(&plain, NULL, 0, &need);
    uint8_t *enc = fuzz_buffer_get(&enc_buf, need + 1);
    FUZZ_ASSERT(sio_eio_open_encode(&plain, enc, need, &wrote) == SIO_OK && wrote == need,
                "eio open: cannot encode a decoded open packet");
    sio_eio_open again;
    if (sio_eio_open_decode(protocol, enc, wrote, &again) != SIO_OK)
        fuzz_fail_diff("eio open: decoder rejects the encoder's output", p, n, enc, wrote);
    log_open(&after, &again);
    log_assert_equal(&before, &after, "eio open: decode -> encode -> decode changed a field");
    for (size_t i = 0; i <= o.upgrade_count; i++)
        free(kept[i]);
}

static void check_jsonp_get(const uint8_t *p, size_t n)
{
    sio_span index;
    size_t len = 0, need = 0, wrote = 0;
    uint8_t *payload = fuzz_buffer_get(&payload_buf, n + 1);
    sio_err e = sio_eio_jsonp_decode(p, n, &index, payload, n, &len);
    fuzz_reached(e == SIO_OK);
    if (e == SIO_OK) {
        sio_eio_jsonp_encode(index.ptr, index.len, payload, len, NULL, 0, &need);
        uint8_t *enc = fuzz_buffer_get(&enc_buf, need + 1),
                *back = fuzz_buffer_get(&back_buf, need + 1);
        FUZZ_ASSERT(sio_eio_jsonp_encode(index.ptr, index.len, payload, len, enc, need, &wrote) ==
                        SIO_OK,
                    "eio jsonp: cannot encode a decoded body");
        sio_span index2;
        size_t len2 = 0;
        FUZZ_ASSERT(sio_eio_jsonp_decode(enc, wrote, &index2, back, need, &len2) == SIO_OK,
                    "eio jsonp: decoder rejects the encoder's output");
        FUZZ_ASSERT(len2 == len && (len == 0 || memcmp(back, payload, len) == 0) &&
                        index2.len == index.len &&
                        (index.len == 0 || memcmp(index2.ptr, index.ptr, index.len) == 0),
                    "eio jsonp: decode -> encode -> decode changed the body");
    }
}

static void check_jsonp_post(const uint8_t *p, size_t n, bool compat)
{
    sio_eio_options opt;
    memset(&opt, 0, sizeof opt);
    opt.compat = compat;
    size_t len = 0, need = 0, wrote = 0, len2 = 0;
    uint8_t *payload = fuzz_buffer_get(&payload_buf, n + 1);
    sio_err e = sio_eio_jsonp_post_decode(p, n, &opt, payload, n, &len);
    fuzz_reached(e == SIO_OK);
    /* A raw newline after a backslash decodes (Node keeps raw newlines) but no client escaping
     * can carry it, so the encoder refuses it: nothing to round-trip. */
    bool carriable = fuzz_find(payload, len, (const uint8_t *)"\\\n", 2) == len;
    if (e == SIO_OK && carriable) {
        sio_eio_jsonp_post_encode(payload, len, NULL, 0, &need);
        uint8_t *enc = fuzz_buffer_get(&enc_buf, need + 1),
                *back = fuzz_buffer_get(&back_buf, need + 1);
        FUZZ_ASSERT(sio_eio_jsonp_post_encode(payload, len, enc, need, &wrote) == SIO_OK,
                    "eio jsonp post: cannot encode a decoded body");
        FUZZ_ASSERT(sio_eio_jsonp_post_decode(enc, wrote, &opt, back, need, &len2) == SIO_OK &&
                        len2 == len && (len == 0 || memcmp(back, payload, len) == 0),
                    "eio jsonp post: decode -> encode -> decode changed the payload");
    }
}

/* Writes a packet back with its header, from its meaning (base64 text decoded to bytes). A
 * binary packet with no bytes cannot be written (its header would announce zero bytes). */
static bool reencode(fuzz_log *out, const eio_meaning *m)
{
    if (m->binary && m->len == 0)
        return false;
    sio_eio_packet raw = eio_packet_of(m);
    size_t need = 0, wrote = 0;
    sio_eio_wt_encode(&raw, NULL, 0, &need);
    uint8_t *enc = fuzz_buffer_get(&enc_buf, need + 1);
    FUZZ_ASSERT(sio_eio_wt_encode(&raw, enc, need, &wrote) == SIO_OK,
                "eio wt: cannot encode a packet");
    log_put(out, enc, wrote);
    return true;
}

/* Decodes every packet of the first `have` bytes; returns where decoding stopped. */
static size_t wt_decode_all(const uint8_t *p, size_t have, const sio_eio_options *opt,
                            fuzz_log *log, fuzz_log *out, bool *writable, sio_err *err)
{
    size_t off = 0;
    *err = SIO_OK;
    for (;;) {
        sio_eio_packet pkt;
        size_t used = 0;
        *err = sio_eio_wt_decode(p + off, have - off, opt, &pkt, &used);
        if (*err != SIO_OK || used == 0)
            return off;
        eio_meaning m = eio_meaning_of(&pkt, opt->compat);
        log_u64(log, (uint64_t)m.type << 8 | m.binary);
        log_span(log, m.bytes, m.len);
        if (out)
            *writable &= reencode(out, &m);
        free(m.bytes);
        off += used;
    }
}

static void check_webtransport(fuzz_input *in, bool compat)
{
    fuzz_splitter sp;
    fuzz_splitter_init(&sp, in);
    sio_eio_options opt;
    memset(&opt, 0, sizeof opt);
    opt.compat = compat;
    log_reset(&whole);
    log_reset(&split);
    log_reset(&reenc);
    sio_err e1, e2 = SIO_OK;
    bool writable = true;
    size_t end = wt_decode_all(in->p, in->n, &opt, &whole, &reenc, &writable, &e1);
    fuzz_reached(e1 == SIO_OK);
    log_u64(&whole, (uint64_t)e1);
    /* A receiver that decodes after each read, keeping undecoded bytes for the next one. */
    size_t have = 0, done = 0;
    while (have < in->n && e2 == SIO_OK) {
        have += fuzz_splitter_next(&sp, in->n - have);
        done += wt_decode_all(in->p + done, have - done, &opt, &split, NULL, NULL, &e2);
    }
    log_u64(&split, (uint64_t)e2);
    log_assert_equal(&whole, &split, "eio wt: split reads and one read disagree");
    if (!compat && writable && end > 0)
        FUZZ_ASSERT(reenc.len == end && memcmp(reenc.p, in->p, end) == 0,
                    "eio wt: strict stream does not re-encode to itself");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t mode = fuzz_take_u8(&in);
    bool flag = (mode >> 2) & 1u;
    switch (mode & 3u) {
    case 0:
        check_open(flag ? 3 : 4, in.p, in.n);
        break;
    case 1:
        check_jsonp_get(in.p, in.n);
        break;
    case 2:
        check_jsonp_post(in.p, in.n, flag);
        break;
    default:
        check_webtransport(&in, flag);
    }
    return 0;
}
