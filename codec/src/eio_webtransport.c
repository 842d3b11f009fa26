/* Engine.IO over WebTransport (EIO-PKT-21): packets on one stream, each behind a header shaped
 * like WebSocket's length field: 7 bits, or 126 + u16, or 127 + u64 (big-endian); the top bit
 * of the first byte marks a binary packet. Not in the protocol document; Node implements it in
 * engine.io-parser's createPacketEncoderStream/createPacketDecoderStream. */
#include "eio_internal.h"

#define WT_BINARY 0x80u
#define WT_LEN16  126u
#define WT_LEN64  127u

/* Parses the header: SIO_OK with *hdr = 0 when more bytes are needed. */
static sio_err wt_header(const uint8_t *p, size_t n, const sio_eio_options *o, size_t *hdr,
                         uint64_t *len)
{
    *hdr = 0;
    if (n < 1)
        return SIO_OK;
    unsigned l7 = p[0] & 0x7Fu;
    uint64_t v = l7, min = 0;
    size_t h = 1;
    if (l7 == WT_LEN16 || l7 == WT_LEN64) {
        h = l7 == WT_LEN16 ? 3 : 9;
        if (n < h)
            return SIO_OK;
        v = 0;
        for (size_t i = 1; i < h; i++)
            v = (v << 8) | p[i];
        min = l7 == WT_LEN16 ? WT_LEN16 : 65536u;
    }
    uint64_t max = o->max_payload ? o->max_payload : SIO_EIO_DEFAULT_MAX_PAYLOAD;
    if (v == 0)
        return SIO_ERR_EIO_WT_ZERO_LENGTH;
    if (v > max)
        return SIO_ERR_EIO_WT_TOO_LARGE;
    /* Node's encoder always picks the shortest form; its decoder takes any. */
    if (v < min && !o->compat)
        return SIO_ERR_EIO_WT_NON_MINIMAL;
    *hdr = h;
    *len = v;
    return SIO_OK;
}

sio_err sio_eio_wt_decode(const uint8_t *p, size_t n, const sio_eio_options *opt,
                          sio_eio_packet *pkt, size_t *consumed)
{
    static const sio_eio_options defaults;
    if (!pkt || !consumed || (!p && n))
        return SIO_ERR_INVALID_ARGUMENT;
    const sio_eio_options *o = opt ? opt : &defaults;
    *consumed = 0;
    size_t hdr;
    uint64_t len;
    sio_err rc = wt_header(p, n, o, &hdr, &len);
    if (rc != SIO_OK || hdr == 0 || len > n - hdr)
        return rc;
    sio_eio_frame frame = (p[0] & WT_BINARY) ? SIO_EIO_FRAME_WS_BINARY : SIO_EIO_FRAME_WS_TEXT;
    rc = sio_eio_packet_decode(4, frame, p + hdr, (size_t)len, o, pkt);
    if (rc == SIO_OK)
        *consumed = hdr + (size_t)len;
    return rc;
}

sio_err sio_eio_wt_encode(const sio_eio_packet *pkt, uint8_t *out, size_t cap, size_t *written)
{
    if (!pkt || !written || (unsigned)pkt->type > SIO_EIO_NOOP || (!pkt->data.ptr && pkt->data.len))
        return SIO_ERR_INVALID_ARGUMENT;
    /* Binary packets carry raw message bytes; an empty one would announce length zero. */
    if (pkt->binary && (pkt->base64 || pkt->type != SIO_EIO_MESSAGE || pkt->data.len == 0))
        return SIO_ERR_INVALID_ARGUMENT;
    size_t body = pkt->data.len + (pkt->binary ? 0 : 1);
    uint8_t flag = pkt->binary ? WT_BINARY : 0;
    eio_out w = eio_out_make(out, cap);
    if (body < WT_LEN16) {
        eio_put_byte(&w, (uint8_t)(flag | body));
    } else {
        size_t bytes = body < 65536u ? 2 : 8;
        eio_put_byte(&w, (uint8_t)(flag | (bytes == 2 ? WT_LEN16 : WT_LEN64)));
        for (size_t i = bytes; i-- > 0;)
            eio_put_byte(&w, (uint8_t)((uint64_t)body >> (8 * i)));
    }
    if (pkt->binary) {
        eio_put(&w, pkt->data.ptr, pkt->data.len);
        return eio_out_finish(&w, written);
    }
    size_t n;
    uint8_t *room = eio_room(&w, body);
    sio_err rc = sio_eio_packet_encode(4, pkt->type, SIO_EIO_ENC_TEXT, pkt->data.ptr, pkt->data.len,
                                       room, room ? body : 0, &n);
    if (rc != SIO_OK && rc != SIO_ERR_BUFFER_TOO_SMALL)
        return rc;
    w.len += body;
    return eio_out_finish(&w, written);
}
