/* Base64 (RFC 4648 §4) encoding, and decoding in two modes: strict, for what we validate
 * (Sec-WebSocket-Key, our own vectors), and lenient, mirroring Node's Buffer.from(s, "base64")
 * so the harness can predict what the official server accepts from a peer. */
#include "sio/base64.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#define B64_PAD 64  /* '=' */
#define B64_SKIP 65 /* anything else */

/* 6-bit value of a character; '-' and '_' (url-safe alphabet) only when `url_safe`. */
static unsigned base64_value(uint8_t c, bool url_safe)
{
    if (c >= 'A' && c <= 'Z')
        return (unsigned)(c - 'A');
    if (c >= 'a' && c <= 'z')
        return (unsigned)(c - 'a' + 26);
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0' + 52);
    if (c == '+' || (url_safe && c == '-'))
        return 62;
    if (c == '/' || (url_safe && c == '_'))
        return 63;
    return c == '=' ? B64_PAD : B64_SKIP;
}

size_t sio_base64_encoded_len(size_t n)
{
    return (n / 3 + (n % 3 != 0)) * 4;
}

sio_err sio_base64_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *written)
{
    size_t need = sio_base64_encoded_len(n);
    *written = need;
    if (need > cap)
        return SIO_ERR_BUFFER_TOO_SMALL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        size_t left = n - i;
        uint32_t v = (uint32_t)in[i] << 16;
        if (left > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        out[o++] = (uint8_t)base64_alphabet[(v >> 18) & 63];
        out[o++] = (uint8_t)base64_alphabet[(v >> 12) & 63];
        out[o++] = left > 1 ? (uint8_t)base64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = left > 2 ? (uint8_t)base64_alphabet[v & 63] : '=';
    }
    return SIO_OK;
}

/* Strict form checks before any byte is written: alphabet, length, padding placement. */
static sio_err base64_strict_check(const uint8_t *in, size_t n, size_t *pad)
{
    *pad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = base64_value(in[i], false);
        if (v == B64_SKIP)
            return SIO_ERR_BASE64_CHAR;
    }
    if (n % 4 != 0)
        return SIO_ERR_BASE64_LENGTH;
    if (n > 0 && in[n - 1] == '=')
        *pad = (n > 1 && in[n - 2] == '=') ? 2 : 1;
    for (size_t i = 0; i < n - *pad; i++)
        if (in[i] == '=')
            return SIO_ERR_BASE64_PADDING;
    if (*pad == 0)
        return SIO_OK;
    /* The bits of the last data character that fall past the final byte must be zero. */
    unsigned last = base64_value(in[n - *pad - 1], false);
    unsigned unused_mask = *pad == 2 ? 0x0Fu : 0x03u;
    return (last & unused_mask) ? SIO_ERR_BASE64_PADDING : SIO_OK;
}

/* Shared decoding loop: 6-bit groups into bytes. In lenient mode unknown characters are
 * skipped and the first '=' ends the input, as Node does; a lone trailing character
 * carries fewer than 8 bits and yields nothing. Counts every byte, writes those that fit. */
static size_t base64_decode_bits(const uint8_t *in, size_t n, bool lenient, uint8_t *out,
                                 size_t cap)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = base64_value(in[i], lenient);
        if (v == B64_PAD)
            break;
        if (v == B64_SKIP)
            continue;
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o < cap)
                out[o] = (uint8_t)(acc >> bits);
            o++;
            acc &= (1u << bits) - 1u;
        }
    }
    return o;
}

sio_err sio_base64_decode(const uint8_t *in, size_t n, sio_base64_mode mode, uint8_t *out,
                          size_t cap, size_t *written)
{
    bool lenient = mode == SIO_BASE64_LENIENT;
    *written = 0;
    if (!lenient) {
        size_t pad;
        sio_err rc = base64_strict_check(in, n, &pad);
        if (rc != SIO_OK)
            return rc;
        size_t need = n / 4 * 3 - pad;
        if (need > cap) {
            *written = need;
            return SIO_ERR_BUFFER_TOO_SMALL;
        }
    }
    size_t got = base64_decode_bits(in, n, lenient, out, cap);
    *written = got;
    return got > cap ? SIO_ERR_BUFFER_TOO_SMALL : SIO_OK;
}
