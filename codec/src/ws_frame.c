/* WebSocket frame headers (RFC 6455 §5.2): decoding with every per-frame check, minimal
 * encoding, and masking (§5.3). */
#include "sio/ws.h"

#include <string.h>

#include "copy_internal.h"
#include "simd_internal.h"

static bool ws_opcode_reserved(uint8_t op)
{
    return (op >= 0x3 && op <= 0x7) || op >= 0xB;
}

/* Checks on the first byte alone, so a bad frame fails at the earliest byte possible. */
static sio_err ws_header_check_byte0(uint8_t b0)
{
    if (b0 & 0x70u)
        return SIO_ERR_WS_RSV_SET;
    if (ws_opcode_reserved(b0 & 0x0Fu))
        return SIO_ERR_WS_OPCODE;
    if ((b0 & 0x08u) && !(b0 & 0x80u))
        return SIO_ERR_WS_CONTROL_FRAGMENTED;
    return SIO_OK;
}

/* Checks that need the second byte: control length and masking by role. */
static sio_err ws_header_check_byte1(uint8_t b0, uint8_t b1, sio_ws_role role)
{
    bool masked = (b1 & 0x80u) != 0;
    if ((b0 & 0x08u) && (b1 & 0x7Fu) > SIO_WS_MAX_CONTROL_PAYLOAD)
        return SIO_ERR_WS_CONTROL_TOO_LONG;
#ifndef MUTANT_UNMASKED_FRAMES_ACCEPTED /* WS-11: a client's frame need not be masked */
    if (role == SIO_WS_ROLE_SERVER && !masked)
        return SIO_ERR_WS_UNMASKED;
#endif
    if (role == SIO_WS_ROLE_CLIENT && masked)
        return SIO_ERR_WS_MASKED;
    return SIO_OK;
}

/* Reads the 16- or 64-bit extended length, which must not fit a shorter form (§5.2:
 * "the minimal number of bytes MUST be used"). */
static sio_err ws_extended_length(const uint8_t *p, uint8_t len7, uint64_t *out)
{
    if (len7 < 126) {
        *out = len7;
        return SIO_OK;
    }
    size_t n = len7 == 126 ? 2 : 8;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    if (n == 8 && (v >> 63))
        return SIO_ERR_WS_LENGTH_MSB;
    if (v < (n == 2 ? 126u : 65536u))
        return SIO_ERR_WS_LENGTH_NOT_MINIMAL;
    *out = v;
    return SIO_OK;
}

sio_err sio_ws_header_decode(const uint8_t *p, size_t len, sio_ws_role role, sio_ws_frame_header *h,
                             size_t *header_len)
{
    *header_len = 2;
    sio_err rc = len > 0 ? ws_header_check_byte0(p[0]) : SIO_ERR_WS_TRUNCATED;
    if (rc == SIO_OK && len < 2)
        rc = SIO_ERR_WS_TRUNCATED;
    if (rc != SIO_OK)
        return rc;
    rc = ws_header_check_byte1(p[0], p[1], role);
    if (rc != SIO_OK)
        return rc;
    uint8_t len7 = p[1] & 0x7Fu;
    bool masked = (p[1] & 0x80u) != 0;
    size_t need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0);
    *header_len = need;
    if (len < need)
        return SIO_ERR_WS_TRUNCATED;
    uint64_t payload_len;
    rc = ws_extended_length(p + 2, len7, &payload_len);
    if (rc != SIO_OK)
        return rc;
    h->payload_len = payload_len;
    h->fin = (p[0] & 0x80u) != 0;
    h->rsv = (uint8_t)((p[0] >> 4) & 0x7u);
    h->opcode = p[0] & 0x0Fu;
    h->masked = masked;
    memset(h->mask, 0, sizeof h->mask);
    if (masked)
        memcpy(h->mask, p + need - 4, 4);
    return SIO_OK;
}

size_t sio_ws_header_size(uint64_t payload_len, bool masked)
{
    size_t n = payload_len < 126 ? 2 : payload_len <= 0xFFFFu ? 4 : 10;
    return n + (masked ? 4 : 0);
}

sio_err sio_ws_header_encode(const sio_ws_frame_header *h, uint8_t *out, size_t cap,
                             size_t *written)
{
    *written = 0;
    if (h->opcode > 0xF || h->rsv > 7 || (h->payload_len >> 63))
        return SIO_ERR_INVALID_ARGUMENT;
    size_t need = sio_ws_header_size(h->payload_len, h->masked);
    *written = need;
    if (need > cap)
        return SIO_ERR_BUFFER_TOO_SMALL;
    uint64_t n = h->payload_len;
    out[0] = (uint8_t)((h->fin ? 0x80u : 0) | (unsigned)h->rsv << 4 | h->opcode);
    size_t pos = 2, ext = n < 126 ? 0 : n <= 0xFFFFu ? 2 : 8;
    out[1] = (uint8_t)((h->masked ? 0x80u : 0) | (ext == 0 ? n : ext == 2 ? 126u : 127u));
    for (size_t i = 0; i < ext; i++)
        out[pos++] = (uint8_t)(n >> (8 * (ext - 1 - i)));
    if (h->masked)
        memcpy(out + pos, h->mask, 4);
    return SIO_OK;
}

sio_err sio_ws_frame_encode(const sio_ws_frame_header *h, const uint8_t *payload, size_t len,
                            uint8_t *out, size_t cap, size_t *written)
{
    sio_ws_frame_header hh = *h;
    hh.payload_len = len;
    size_t hlen;
    sio_err rc = sio_ws_header_encode(&hh, out, cap, &hlen);
    if (rc == SIO_ERR_INVALID_ARGUMENT) {
        *written = 0;
        return rc;
    }
    *written = hlen + len;
    if (rc != SIO_OK || hlen + len > cap || hlen + len < hlen)
        return SIO_ERR_BUFFER_TOO_SMALL;
    sio__copy(out + hlen, payload, len);
    if (hh.masked)
        sio_ws_mask(out + hlen, len, hh.mask, 0);
    return SIO_OK;
}

/* The portable path: eight bytes per step, the key rotated to this offset and repeated over a
 * word, so each byte meets the key byte the byte-by-byte loop would give it. */
static bool ws_mask_scalar(uint8_t *p, size_t len, const uint8_t key[4], uint64_t offset)
{
    uint8_t rotated[8];
    for (size_t j = 0; j < 8; j++)
        rotated[j] = key[(offset + j) & 3u];
    uint64_t k;
    memcpy(&k, rotated, 8);
    size_t i = 0;
    uint64_t high = sio__ws_mask_words(p, &i, len, k);
    for (; i < len; i++) {
        p[i] ^= key[(offset + i) & 3u];
        high |= p[i];
    }
    return (high & UINT64_C(0x8080808080808080)) == 0;
}

/* The vector paths take 16 or 32 bytes a step, then words: the key as a little-endian word,
 * rotated by a shift to this offset. Steps that are multiples of 4 keep the rotation. */
bool sio__ws_mask_ascii(uint8_t *p, size_t len, const uint8_t key[4], uint64_t offset)
{
#if SIO__HAVE_X86
    sio_simd_path path = sio__simd_path();
    if (path != SIO_SIMD_SCALAR) {
        uint32_t key4;
        memcpy(&key4, key, 4);
        unsigned shift = (unsigned)(offset & 3u) * 8;
        if (shift)
            key4 = key4 >> shift | key4 << (32 - shift);
        return path == SIO_SIMD_AVX2 ? sio__ws_mask_avx2(p, len, key4)
                                     : sio__ws_mask_sse2(p, len, key4);
    }
#endif
    return ws_mask_scalar(p, len, key, offset);
}

void sio_ws_mask(uint8_t *p, size_t len, const uint8_t key[4], uint64_t offset)
{
    (void)sio__ws_mask_ascii(p, len, key, offset);
}
