/* String and number values of validated JSON: unescaping, comparison, integer parsing. */
#include <string.h>

#include "sio/json.h"

static uint32_t hex4(const uint8_t *p, size_t n, size_t i)
{
    uint32_t v = 0;
    for (size_t k = 0; k < 4; k++) {
        uint8_t c = i + k < n ? p[i + k] : '0';
        uint32_t h = c >= 'a'   ? (uint32_t)(c - 'a' + 10)
                     : c >= 'A' ? (uint32_t)(c - 'A' + 10)
                                : (uint32_t)(c - '0');
        v = v * 16 + (h & 0xF);
    }
    return v;
}

static size_t put_utf8(uint32_t cp, uint8_t out[4])
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

static uint8_t simple_escape(uint8_t c)
{
    switch (c) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return c; /* '"', '\\', '/' stand for themselves */
    }
}

/* Decodes the piece of string content at *i (one raw byte or one escape) into out[0..3];
 * returns its length and advances *i. Content ends at n (the closing quote). */
static size_t next_piece(const uint8_t *p, size_t n, size_t *i, uint8_t out[4])
{
    uint8_t c = p[*i];
    if (c != '\\' || *i + 1 >= n) {
        out[0] = c;
        (*i)++;
        return 1;
    }
    uint8_t e = p[*i + 1];
    if (e != 'u') {
        out[0] = simple_escape(e);
        *i += 2;
        return 1;
    }
    uint32_t cp = hex4(p, n, *i + 2);
    *i += 6;
    if (cp >= 0xD800 && cp <= 0xDBFF && *i + 6 <= n && p[*i] == '\\' && p[*i + 1] == 'u') {
        uint32_t lo = hex4(p, n, *i + 2);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            *i += 6;
        }
    }
    return put_utf8(cp, out);
}

/* The content bytes of a string token: between the quotes. */
static bool string_content(sio_span str, const uint8_t **p, size_t *n)
{
    sio_span t = sio_json_trim(str);
    if (t.len < 2 || t.ptr[0] != '"' || t.ptr[t.len - 1] != '"')
        return false;
    *p = t.ptr + 1;
    *n = t.len - 2;
    return true;
}

bool sio_json_string_equals(sio_span str, const uint8_t *s, size_t n)
{
    const uint8_t *p;
    size_t len;
    if (!string_content(str, &p, &len))
        return false;
    /* Without escapes the content is its own unescaped form. */
    if (!memchr(p, '\\', len))
        return len == n && (n == 0 || memcmp(p, s, n) == 0);
    size_t i = 0, j = 0;
    while (i < len) {
        uint8_t piece[4];
        size_t k = next_piece(p, len, &i, piece);
        if (j + k > n || memcmp(piece, s + j, k) != 0)
            return false;
        j += k;
    }
    return j == n;
}

sio_err sio_json_string_unescape(sio_span str, uint8_t *out, size_t cap, size_t *written)
{
    const uint8_t *p;
    size_t len;
    if (!string_content(str, &p, &len))
        return SIO_ERR_JSON_TYPE;
    size_t i = 0, w = 0;
    while (i < len) {
        /* Runs without a backslash are their own unescaped form: copied whole. */
        const uint8_t *bs = memchr(p + i, '\\', len - i);
        size_t run = bs ? (size_t)(bs - (p + i)) : len - i;
        if (out && w + run <= cap && run > 0)
            memcpy(out + w, p + i, run);
        i += run;
        w += run;
        if (i == len)
            break;
        uint8_t piece[4];
        size_t k = next_piece(p, len, &i, piece);
        if (out && w + k <= cap)
            memcpy(out + w, piece, k);
        w += k;
    }
    if (written)
        *written = w;
    return w <= cap ? SIO_OK : SIO_ERR_BUFFER_TOO_SMALL;
}

sio_err sio_json_get_int(sio_span num, int64_t *out)
{
    if (sio_json_kind_of(num) != SIO_JSON_NUMBER)
        return SIO_ERR_JSON_TYPE;
    sio_span t = sio_json_trim(num);
    size_t i = 0;
    bool negative = t.ptr[0] == '-';
    if (negative)
        i++;
    /* Accumulate as a negative value: -INT64_MIN is not representable. */
    int64_t v = 0;
    for (; i < t.len; i++) {
        uint8_t c = t.ptr[i];
        if (c < '0' || c > '9')
            return SIO_ERR_JSON_NOT_INTEGER;
        int d = c - '0';
        if (v < (INT64_MIN + d) / 10)
            return SIO_ERR_JSON_INT_RANGE;
        v = v * 10 - d;
    }
    if (!negative) {
        if (v == INT64_MIN)
            return SIO_ERR_JSON_INT_RANGE;
        v = -v;
    }
    if (out)
        *out = v;
    return SIO_OK;
}
