/* Base64 (RFC 4648 §4) encoding, and decoding in two modes: strict, for what we validate
 * (Sec-WebSocket-Key, our own vectors), and lenient, mirroring Node's Buffer.from(s, "base64")
 * so the harness can predict what the official server accepts from a peer. */
#include "sio/base64.h"

#include "simd_internal.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#define B64_PAD  64 /* '=' */
#define B64_SKIP 65 /* anything else */

/* Value + 1 of each character of the standard alphabet and of '=' (B64_PAD + 1); 0 for all
 * other bytes. One load per character instead of a chain of range tests. */
static const uint8_t base64_table[256] = {
    ['A'] = 1,  ['B'] = 2,          ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,
    ['H'] = 8,  ['I'] = 9,          ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
    ['O'] = 15, ['P'] = 16,         ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
    ['V'] = 22, ['W'] = 23,         ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
    ['c'] = 29, ['d'] = 30,         ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
    ['j'] = 36, ['k'] = 37,         ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
    ['q'] = 43, ['r'] = 44,         ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
    ['x'] = 50, ['y'] = 51,         ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58,         ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63,
    ['/'] = 64, ['='] = B64_PAD + 1};

/* 6-bit value of a character; '-' and '_' (url-safe alphabet) only when `url_safe`. */
static inline unsigned base64_value(uint8_t c, bool url_safe)
{
    unsigned t = base64_table[c];
    if (t != 0)
        return t - 1;
    if (url_safe && c == '-')
        return 62;
    if (url_safe && c == '_')
        return 63;
    return B64_SKIP;
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
    size_t o = 0, i = 0;
#if SIO__HAVE_X86
    if (n >= 28 && sio__simd_path() == SIO_SIMD_AVX2) { /* 24 bytes a step, then as below */
        i = sio__base64_encode_groups_avx2(in, n, out);
        o = i / 3 * 4;
    }
#endif
    for (; n - i >= 3; i += 3, o += 4) { /* whole groups: no per-byte tests */
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o] = (uint8_t)base64_alphabet[v >> 18];
        out[o + 1] = (uint8_t)base64_alphabet[(v >> 12) & 63];
        out[o + 2] = (uint8_t)base64_alphabet[(v >> 6) & 63];
        out[o + 3] = (uint8_t)base64_alphabet[v & 63];
    }
    if (i < n) { /* one or two bytes left: padded */
        uint32_t v = (uint32_t)in[i] << 16 | (n - i > 1 ? (uint32_t)in[i + 1] << 8 : 0u);
        out[o] = (uint8_t)base64_alphabet[v >> 18];
        out[o + 1] = (uint8_t)base64_alphabet[(v >> 12) & 63];
        out[o + 2] = n - i > 1 ? (uint8_t)base64_alphabet[(v >> 6) & 63] : '=';
        out[o + 3] = '=';
    }
    return SIO_OK;
}

/* Four characters of the standard alphabet (no '=', nothing to skip) as one 24-bit group, tested
 * with one comparison: a table value minus one is 0..63 only for those characters, while 0
 * (not in the alphabet) wraps to a huge number and '=' gives 64. */
static inline bool base64_quad(const uint8_t *in, uint32_t *group)
{
    unsigned t0 = base64_table[in[0]] - 1u, t1 = base64_table[in[1]] - 1u;
    unsigned t2 = base64_table[in[2]] - 1u, t3 = base64_table[in[3]] - 1u;
    if ((t0 | t1 | t2 | t3) >= 64u)
        return false;
    *group = (uint32_t)t0 << 18 | (uint32_t)t1 << 12 | (uint32_t)t2 << 6 | (uint32_t)t3;
    return true;
}

/* Strict form checks before any byte is written: alphabet, length, padding placement. Leading
 * whole groups of ordinary characters are passed four at a time; they hold no '=' either. */
static sio_err base64_strict_check(const uint8_t *in, size_t n, size_t *pad)
{
    *pad = 0;
    size_t plain = 0;
    uint32_t group;
#if SIO__HAVE_X86
    if (n >= 32 && sio__simd_path() == SIO_SIMD_AVX2) /* 32 characters a step first */
        plain = sio__base64_plain_blocks_avx2(in, n);
#endif
    while (n - plain >= 4 && base64_quad(in + plain, &group))
        plain += 4;
    for (size_t i = plain; i < n; i++) {
        unsigned v = base64_value(in[i], false);
        if (v == B64_SKIP)
            return SIO_ERR_BASE64_CHAR;
    }
    if (n % 4 != 0)
        return SIO_ERR_BASE64_LENGTH;
    if (n > 0 && in[n - 1] == '=')
        *pad = (n > 1 && in[n - 2] == '=') ? 2 : 1;
    for (size_t i = plain; i < n - *pad; i++)
        if (in[i] == '=')
            return SIO_ERR_BASE64_PADDING;
    if (*pad == 0)
        return SIO_OK;
    /* The bits of the last data character that fall past the final byte must be zero. */
    unsigned last = base64_value(in[n - *pad - 1], false);
    unsigned unused_mask = *pad == 2 ? 0x0Fu : 0x03u;
    return (last & unused_mask) ? SIO_ERR_BASE64_PADDING : SIO_OK;
}

/* Lenient mode reads non-ASCII text as Node reads a JavaScript string: each UTF-16 code unit
 * by its low byte. Reads the UTF-8 sequence at in[*i] (a lead byte >= 0x80), advances *i past
 * it and stores the low bytes of its one or two code units; returns how many (0 for bytes that
 * are not well-formed UTF-8, which Node's text decoders turn into U+FFFD, low byte FD, a skip). */
static unsigned base64_code_unit_bytes(const uint8_t *in, size_t n, size_t *i, uint8_t low[2])
{
    uint8_t c = in[*i];
    size_t len = c >= 0xC2 && c <= 0xDF   ? 2
                 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4
                                          : 0;
    if (len == 0 || len > n - *i) {
        *i += 1;
        return 0;
    }
    uint32_t cp = c & (0x7Fu >> len);
    for (size_t k = 1; k < len; k++) {
        if ((in[*i + k] & 0xC0) != 0x80) {
            *i += 1;
            return 0;
        }
        cp = (cp << 6) | (in[*i + k] & 0x3Fu);
    }
    static const uint32_t min_of_len[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_of_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *i += 1;
        return 0;
    }
    *i += len;
    if (cp < 0x10000) {
        low[0] = (uint8_t)cp;
        return 1;
    }
    cp -= 0x10000;
    low[0] = (uint8_t)(0xD800u + (cp >> 10));    /* high surrogate */
    low[1] = (uint8_t)(0xDC00u + (cp & 0x3FFu)); /* low surrogate */
    return 2;
}

/* Accumulator of the decoding loop: 6-bit values in, whole bytes out. */
typedef struct base64_acc {
    uint32_t acc;
    unsigned bits;
    size_t o;
} base64_acc;

static inline void base64_push(base64_acc *a, unsigned v, uint8_t *out, size_t cap)
{
    a->acc = (a->acc << 6) | v;
    a->bits += 6;
    if (a->bits >= 8) {
        a->bits -= 8;
        if (a->o < cap)
            out[a->o] = (uint8_t)(a->acc >> a->bits);
        a->o++;
        a->acc &= (1u << a->bits) - 1u;
    }
}

/* Shared decoding loop: 6-bit groups into bytes. In lenient mode unknown characters are
 * skipped and the first '=' ends the input, as Node does; a lone trailing character
 * carries fewer than 8 bits and yields nothing. Counts every byte, writes those that fit.
 * Whenever the accumulator is empty, whole ordinary groups go three bytes at a time (whole
 * blocks of 32 characters first on the AVX2 path); any other character takes the one-at-a-time
 * path. */
static size_t base64_decode_bits(const uint8_t *in, size_t n, bool lenient, uint8_t *out,
                                 size_t cap)
{
    base64_acc a = {0, 0, 0};
#if SIO__HAVE_X86
    bool avx2 = n >= 32 && sio__simd_path() == SIO_SIMD_AVX2;
#endif
    for (size_t i = 0; i < n; i++) {
        uint32_t group;
#if SIO__HAVE_X86
        if (avx2 && a.bits == 0 && n - i >= 32 && a.o <= cap && cap - a.o >= 24) {
            size_t used = sio__base64_decode_blocks_avx2(in + i, n - i, out + a.o, cap - a.o);
            i += used;
            a.o += used / 4 * 3;
        }
#endif
        while (a.bits == 0 && n - i >= 4 && base64_quad(in + i, &group)) {
            for (unsigned k = 0; k < 3; k++, a.o++)
                if (a.o < cap)
                    out[a.o] = (uint8_t)(group >> (16 - 8 * k));
            i += 4;
        }
        if (i == n)
            break;
        unsigned v = base64_value(in[i], lenient);
        if (v == B64_SKIP && lenient && in[i] >= 0x80) {
            /* Non-ASCII: the low bytes of its code units count, and one that reads as '='
             * ends the input, as in Node. */
            uint8_t low[2];
            size_t at = i;
            unsigned units = base64_code_unit_bytes(in, n, &at, low);
            i = at - 1; /* the loop's i++ moves past the sequence */
            bool stop = false;
            for (unsigned u = 0; u < units && !stop; u++) {
                unsigned lv = base64_value(low[u], true);
                stop = lv == B64_PAD;
                if (lv < B64_PAD)
                    base64_push(&a, lv, out, cap);
            }
            if (stop)
                break;
            continue;
        }
        if (v == B64_PAD)
            break;
        if (v == B64_SKIP)
            continue;
        base64_push(&a, v, out, cap);
    }
    return a.o;
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
