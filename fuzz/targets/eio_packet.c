/* Fuzz target: one Engine.IO packet (sio_eio_packet_decode / _encode / _binary), v3 and v4,
 * as a polling record, a WebSocket text frame or a WebSocket binary frame.
 *
 * Input: byte 0 = options (bit 0: v3, bits 1-2: frame 0 record / 1 WS text / 2 WS binary /
 * 3 record, bit 3: compat, bit 4: b64), then the packet bytes. Oracles:
 *  - decode -> encode -> decode keeps type, kind and bytes (EIO-PKT-01, 05, 06, 16, 18);
 *  - what strict decoding accepts is canonical: re-encoding reproduces the input exactly;
 *  - compat accepts everything strict accepts, with the same meaning. */
#include "eio_check.h"

typedef struct eio_case {
    int protocol;
    sio_eio_frame frame;
    sio_eio_options opt;
} eio_case;

static eio_case case_of(uint8_t b)
{
    eio_case c;
    memset(&c, 0, sizeof c);
    c.protocol = (b & 1u) ? 3 : 4;
    unsigned frame = (b >> 1) & 3u;
    c.frame = frame == 1   ? SIO_EIO_FRAME_WS_TEXT
              : frame == 2 ? SIO_EIO_FRAME_WS_BINARY
                           : SIO_EIO_FRAME_RECORD;
    c.opt.compat = (b >> 3) & 1u;
    c.opt.b64 = (b >> 4) & 1u;
    return c;
}

/* The encoding that writes a packet back onto the same kind of frame. */
static sio_eio_encoding encoding_for(const eio_case *c, const sio_eio_packet *pkt)
{
    if (!pkt->binary)
        return SIO_EIO_ENC_TEXT;
    return c->frame == SIO_EIO_FRAME_WS_BINARY ? SIO_EIO_ENC_BINARY : SIO_EIO_ENC_BASE64;
}

static uint8_t *encode(const eio_case *c, const sio_eio_packet *pkt, const eio_meaning *m,
                       size_t *len)
{
    sio_eio_encoding enc = encoding_for(c, pkt);
    size_t need = 0;
    sio_err e = sio_eio_packet_encode(c->protocol, m->type, enc, m->bytes, m->len, NULL, 0, &need);
    FUZZ_ASSERT(e == SIO_ERR_BUFFER_TOO_SMALL || (e == SIO_OK && need == 0),
                "eio: encoder refused a packet the decoder produced");
    uint8_t *out = malloc(need + 1);
    if (!out)
        abort();
    e = sio_eio_packet_encode(c->protocol, m->type, enc, m->bytes, m->len, out, need, len);
    FUZZ_ASSERT(e == SIO_OK && *len == need, "eio: encoder failed at the announced size");
    return out;
}

static void check_roundtrip(const eio_case *c, const uint8_t *p, size_t n,
                            const sio_eio_packet *pkt)
{
    eio_meaning m = eio_meaning_of(pkt, c->opt.compat);
    size_t elen = 0;
    uint8_t *enc = encode(c, pkt, &m, &elen);
    sio_eio_packet again;
    FUZZ_ASSERT(sio_eio_packet_decode(c->protocol, c->frame, enc, elen, &c->opt, &again) == SIO_OK,
                "eio: decoder rejects the encoder's output");
    eio_meaning m2 = eio_meaning_of(&again, c->opt.compat);
    FUZZ_ASSERT(eio_same_meaning(&m, &m2), "eio: decode-encode-decode changed the packet");
    if (!c->opt.compat)
        FUZZ_ASSERT(elen == n && memcmp(enc, p, n) == 0, "eio: strict input is not canonical");
    free(m.bytes);
    free(m2.bytes);
    free(enc);
}

/* Compat only widens what is accepted; it never changes what a strict packet means. */
static void check_compat(const eio_case *c, const uint8_t *p, size_t n, const sio_eio_packet *pkt)
{
    eio_case lax = *c;
    lax.opt.compat = true;
    sio_eio_packet other;
    FUZZ_ASSERT(sio_eio_packet_decode(lax.protocol, lax.frame, p, n, &lax.opt, &other) == SIO_OK,
                "eio: compat rejects a packet strict accepts");
    eio_meaning a = eio_meaning_of(pkt, false), b = eio_meaning_of(&other, true);
    FUZZ_ASSERT(eio_same_meaning(&a, &b), "eio: compat and strict decode to different packets");
    free(a.bytes);
    free(b.bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    eio_case c = case_of(fuzz_take_u8(&in));
    sio_eio_packet pkt;
    sio_err e = sio_eio_packet_decode(c.protocol, c.frame, in.p, in.n, &c.opt, &pkt);
    fuzz_reached(e == SIO_OK);
    if (e != SIO_OK)
        return 0;
    FUZZ_ASSERT(pkt.type <= SIO_EIO_NOOP, "eio: decoded type out of range");
    FUZZ_ASSERT(pkt.data.len == 0 ||
                    (pkt.data.ptr >= in.p && pkt.data.ptr + pkt.data.len <= in.p + in.n),
                "eio: data view outside the input");
    check_roundtrip(&c, in.p, in.n, &pkt);
    if (!c.opt.compat)
        check_compat(&c, in.p, in.n, &pkt);
    return 0;
}
