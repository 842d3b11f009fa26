/* Strict RFC 8259 validation, iterative: the nesting is a stack of container kinds, one byte a
 * level, so a hostile text cannot drive recursion, and the depth bound is checked where each
 * level opens. */
#include <string.h>

#include "simd_internal.h"
#include "sio/json.h"

typedef struct json_scan {
    const uint8_t *p;
    size_t n, i;
    size_t err_at;
    uint32_t max_depth;
} json_scan;

static sio_err scan_fail(json_scan *s, sio_err e, size_t at)
{
    s->err_at = at;
    return e;
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads the 4 hex digits after "\u" at s->i (pointing at 'u'); *cp gets the code unit. */
static sio_err read_u_escape(json_scan *s, uint32_t *cp)
{
    uint32_t v = 0;
    for (size_t k = 1; k <= 4; k++) {
        if (s->i + k >= s->n)
            return scan_fail(s, SIO_ERR_JSON_TRUNCATED, s->n);
        int h = hex_value(s->p[s->i + k]);
        if (h < 0)
            return scan_fail(s, SIO_ERR_JSON_ESCAPE, s->i + k);
        v = v * 16 + (uint32_t)h;
    }
    *cp = v;
    s->i += 5;
    return SIO_OK;
}

/* s->i points just after a backslash. A high surrogate must be followed at once by an escaped
 * low surrogate: JSON text is UTF-8, so an unpaired one cannot be represented. */
static sio_err scan_escape(json_scan *s)
{
    size_t start = s->i - 1;
    if (s->i >= s->n)
        return scan_fail(s, SIO_ERR_JSON_TRUNCATED, s->n);
    uint8_t c = s->p[s->i];
    if (c != 'u') {
        if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' &&
            c != 't')
            return scan_fail(s, SIO_ERR_JSON_ESCAPE, s->i);
        s->i++;
        return SIO_OK;
    }
    uint32_t cp;
    sio_err e = read_u_escape(s, &cp);
    if (e != SIO_OK)
        return e;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return scan_fail(s, SIO_ERR_JSON_SURROGATE, start);
    if (cp < 0xD800 || cp > 0xDBFF)
        return SIO_OK;
    if (s->i < s->n && s->p[s->i] != '\\')
        return scan_fail(s, SIO_ERR_JSON_SURROGATE, start);
    if (s->i + 1 >= s->n)
        return scan_fail(s, SIO_ERR_JSON_TRUNCATED, s->n);
    if (s->p[s->i + 1] != 'u')
        return scan_fail(s, SIO_ERR_JSON_SURROGATE, start);
    s->i++;
    e = read_u_escape(s, &cp);
    if (e != SIO_OK)
        return e;
    if (cp < 0xDC00 || cp > 0xDFFF)
        return scan_fail(s, SIO_ERR_JSON_SURROGATE, start);
    return SIO_OK;
}

/* 1 for string content bytes that need no attention (ASCII from 0x20 on, except '"' and
 * '\\'); the scan stops at every other byte. */
#define CLASS_ROW(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const uint8_t string_plain[256] = {
    CLASS_ROW(0),
    CLASS_ROW(0),
    1,
    1,
    0,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1, /* 0x20..0x2F: '"' stops */
    CLASS_ROW(1),
    CLASS_ROW(1),
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    0,
    1,
    1,
    1, /* 0x50..0x5F: '\\' stops */
    CLASS_ROW(1),
    CLASS_ROW(1),
    CLASS_ROW(0),
    CLASS_ROW(0),
    CLASS_ROW(0),
    CLASS_ROW(0),
    CLASS_ROW(0),
    CLASS_ROW(0),
    CLASS_ROW(0),
    CLASS_ROW(0),
};

/* Checks the multi-byte sequence whose lead byte is p[i] (RFC 3629 ranges, as sio_utf8_feed)
 * and returns the index to resume the string scan at. The first failure is kept in *bad and
 * reported only at the closing quote, so that a control byte or a bad escape later in the
 * string still wins, as when the raw bytes were checked as a whole. A sequence cut short by
 * the closing quote is reported at its lead byte (a truncated sequence); a byte that cannot
 * continue it is reported itself and then scanned as string content. */
static size_t scan_utf8_sequence(const uint8_t *p, size_t n, size_t i, size_t *bad)
{
    uint8_t b = p[i], lo = 0x80, hi = 0xBF;
    size_t need;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        lo = b == 0xE0 ? 0xA0 : lo; /* below: overlong 3-byte form */
        hi = b == 0xED ? 0x9F : hi; /* above: UTF-16 surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        lo = b == 0xF0 ? 0x90 : lo; /* below: overlong 4-byte form */
        hi = b == 0xF4 ? 0x8F : hi; /* above: beyond U+10FFFF */
    } else {
        *bad = i;
        return i + 1;
    }
    for (size_t k = 1; k <= need; k++, lo = 0x80, hi = 0xBF) {
        if (i + k >= n)
            return n; /* the string is unterminated: that error wins */
        uint8_t c = p[i + k];
        if (c < lo || c > hi) {
            *bad = c == '"' ? i : i + k;
            return i + k;
        }
    }
    return i + need + 1;
}

/* Bytes of string content that need no attention (ASCII from 0x20 on, except '"' and '\\')
 * eight at a time: the result has bit 7 of each byte that stops the scan set, and its lowest set
 * bit is exact (a byte's borrow only reaches the bytes above it, after a byte that stops). */
static inline uint64_t string_stops(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), high = ones * 0x80;
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    uint64_t stops = ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) |
                     ((w - ones * 0x20) & ~w) | w;
    return stops & high;
}

/* The first byte at or after p[i] that is not plain string content (n when none). */
static inline size_t plain_run_end(const uint8_t *p, size_t n, size_t i)
{
    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        uint64_t stops = string_stops(w);
        if (stops)
            return i + (size_t)__builtin_ctzll(stops) / 8;
    }
    while (i < n && string_plain[p[i]])
        i++;
    return i;
}

/* The rest of a string from p[i] on, where something other than plain content was met: escapes,
 * non-ASCII characters (the first invalid one is reported at the closing quote, so that a
 * control byte or a bad escape later in the string still wins, as when the raw bytes were checked
 * as a whole), control bytes, the end of the text. */
static sio_err scan_string_rest(json_scan *s, size_t i)
{
    const uint8_t *p = s->p;
    size_t n = s->n;
    size_t bad = SIZE_MAX; /* first byte that is not valid UTF-8 */
    for (;;) {
        i = plain_run_end(p, n, i);
        if (i >= n)
            break;
        uint8_t c = p[i];
        if (c >= 0x80) {
            i = bad == SIZE_MAX ? scan_utf8_sequence(p, n, i, &bad) : i + 1;
        } else if (c == '"') {
            if (bad != SIZE_MAX)
                return scan_fail(s, SIO_ERR_JSON_UTF8, bad);
            s->i = i + 1;
            return SIO_OK;
        } else if (c < 0x20) {
            return scan_fail(s, SIO_ERR_JSON_CONTROL_CHAR, i);
        } else {
            s->i = i + 1; /* c is '\\' */
            sio_err e = scan_escape(s);
            if (e != SIO_OK)
                return e;
            i = s->i;
        }
    }
    return scan_fail(s, SIO_ERR_JSON_TRUNCATED, n);
}

static size_t skip_digits(json_scan *s)
{
    const uint8_t *p = s->p;
    size_t start = s->i, i = start, n = s->n;
    while (i < n && (uint8_t)(p[i] - '0') <= 9)
        i++;
    s->i = i;
    return i - start;
}

/* number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ("e"/"E") [ "+"/"-" ] 1*DIGIT ] */
static sio_err scan_number(json_scan *s)
{
    if (s->p[s->i] == '-')
        s->i++;
    size_t int_start = s->i;
    size_t digits = skip_digits(s);
    if (digits == 0)
        return scan_fail(s, s->i == s->n ? SIO_ERR_JSON_TRUNCATED : SIO_ERR_JSON_NUMBER, s->i);
    if (digits > 1 && s->p[int_start] == '0')
        return scan_fail(s, SIO_ERR_JSON_NUMBER, int_start);
    if (s->i < s->n && s->p[s->i] == '.') {
        s->i++;
        if (skip_digits(s) == 0)
            return scan_fail(s, s->i == s->n ? SIO_ERR_JSON_TRUNCATED : SIO_ERR_JSON_NUMBER, s->i);
    }
    if (s->i < s->n && (s->p[s->i] == 'e' || s->p[s->i] == 'E')) {
        s->i++;
        if (s->i < s->n && (s->p[s->i] == '+' || s->p[s->i] == '-'))
            s->i++;
        if (skip_digits(s) == 0)
            return scan_fail(s, s->i == s->n ? SIO_ERR_JSON_TRUNCATED : SIO_ERR_JSON_NUMBER, s->i);
    }
    return SIO_OK;
}

/* The literal at s->i is not the whole word: the first byte that differs, or the end. */
static sio_err literal_error(json_scan *s, const char *word, size_t wlen)
{
    for (size_t k = 0; k < wlen; k++) {
        if (s->i + k >= s->n)
            return scan_fail(s, SIO_ERR_JSON_TRUNCATED, s->n);
        if (s->p[s->i + k] != (uint8_t)word[k])
            return scan_fail(s, SIO_ERR_JSON_SYNTAX, s->i + k);
    }
    return SIO_OK; /* not reached: the word differs somewhere */
}

/* Index of the first byte at or after p[i] that is not JSON whitespace (n at the latest).
 * Whitespace bytes are all at or below ' ', so most calls return after one comparison. */
static inline size_t ws_end(const uint8_t *p, size_t n, size_t i)
{
    const uint64_t ws = (UINT64_C(1) << ' ') | (1u << '\t') | (1u << '\n') | (1u << '\r');
    while (i < n && p[i] <= ' ' && ((ws >> p[i]) & 1))
        i++;
    return i;
}

/* The usual number: an optional '-' and digits, without a leading zero, and no fraction or
 * exponent after them. Index past it, or 0 for the full grammar (scan_number) to judge. */
static inline size_t plain_number_end(const uint8_t *p, size_t n, size_t i)
{
    size_t start = i + (p[i] == '-'), k = start;
    while (k < n && (uint8_t)(p[k] - '0') <= 9)
        k++;
    if (k == start || (k - start > 1 && p[start] == '0'))
        return 0;
    if (k < n && (p[k] == '.' || (p[k] | 0x20) == 'e'))
        return 0;
    return k;
}

/* Index past the literal at p[i] ('t', 'f' or 'n'), or 0 when the text has not the whole word. */
static inline size_t literal_end(const uint8_t *p, size_t n, size_t i)
{
    uint32_t w, want;
    if (n - i < 4)
        return 0;
    memcpy(&w, p + i, 4);
    if (p[i] == 'f') {
        memcpy(&want, "fals", 4);
        return w == want && n - i >= 5 && p[i + 4] == 'e' ? i + 5 : 0;
    }
    memcpy(&want, p[i] == 't' ? "true" : "null", 4);
    return w == want ? i + 4 : 0;
}

/* One pass over the text with the grammar as a state machine of three states (a value is due,
 * a value has ended, a member name is due), the position and the innermost container's kind in
 * locals. The common tokens are read inline; the rest (escapes, non-ASCII, fractions, errors)
 * goes through the functions above, which take and give back the position in `s`. */
static sio_err scan_text(json_scan *s)
{
    const uint8_t *p = s->p;
    size_t n = s->n, i = ws_end(p, n, 0), next;
    uint8_t is_object[SIO_JSON_MAX_DEPTH_CAP];
    uint32_t depth = 0;
    bool object = false;
    sio_err e;
    if (i == n)
        return scan_fail(s, SIO_ERR_JSON_EMPTY, i);

value: /* i < n */
    switch (p[i]) {
    case '"':
        next = plain_run_end(p, n, i + 1);
        if (next < n && p[next] == '"') {
            i = next + 1;
        } else {
            if ((e = scan_string_rest(s, next)) != SIO_OK)
                return e;
            i = s->i;
        }
        goto after_value;
    case '{':
    case '[':
        if (depth >= s->max_depth)
            return scan_fail(s, SIO_ERR_JSON_DEPTH, i);
        object = p[i] == '{';
        is_object[depth++] = object;
        i = ws_end(p, n, i + 1);
        if (i == n)
            return scan_fail(s, SIO_ERR_JSON_TRUNCATED, n);
        if (p[i] == (object ? '}' : ']'))
            goto close;
        if (object)
            goto key;
        goto value;
    case 't':
    case 'f':
    case 'n':
        if ((next = literal_end(p, n, i)) == 0) {
            s->i = i;
            return literal_error(s,
                                 p[i] == 't'   ? "true"
                                 : p[i] == 'f' ? "false"
                                               : "null",
                                 p[i] == 'f' ? 5 : 4);
        }
        i = next;
        goto after_value;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        if ((next = plain_number_end(p, n, i)) == 0) {
            s->i = i;
            if ((e = scan_number(s)) != SIO_OK)
                return e;
            next = s->i;
        }
        i = next;
        goto after_value;
    default:
        return scan_fail(s, SIO_ERR_JSON_SYNTAX, i);
    }

close: /* p[i] closes the innermost container */
    i++;
    depth--;
    object = depth > 0 && is_object[depth - 1];

after_value:
    i = ws_end(p, n, i);
    if (depth == 0) {
        if (i != n)
            return scan_fail(s, SIO_ERR_JSON_TRAILING, i);
        return SIO_OK;
    }
    if (i == n)
        return scan_fail(s, SIO_ERR_JSON_TRUNCATED, n);
    if (p[i] == (object ? '}' : ']'))
        goto close;
    if (p[i] != ',')
        return scan_fail(s, SIO_ERR_JSON_SYNTAX, i);
    i = ws_end(p, n, i + 1);
    if (i == n)
        return scan_fail(s, SIO_ERR_JSON_TRUNCATED, n);
    if (!object)
        goto value;

key: /* i < n, in an object */
    if (p[i] != '"')
        return scan_fail(s, SIO_ERR_JSON_SYNTAX, i);
    next = plain_run_end(p, n, i + 1);
    if (next < n && p[next] == '"') {
        i = next + 1;
    } else {
        if ((e = scan_string_rest(s, next)) != SIO_OK)
            return e;
        i = s->i;
    }
    i = ws_end(p, n, i);
    if (i == n)
        return scan_fail(s, SIO_ERR_JSON_TRUNCATED, n);
    if (p[i] != ':')
        return scan_fail(s, SIO_ERR_JSON_SYNTAX, i);
    i = ws_end(p, n, i + 1);
    if (i == n)
        return scan_fail(s, SIO_ERR_JSON_TRUNCATED, n);
    goto value;
}

sio_err sio_json_validate(const uint8_t *p, size_t len, const sio_json_options *opt, size_t *err_at)
{
    json_scan s;
    s.p = p;
    s.n = len;
    s.i = 0;
    s.err_at = 0;
    s.max_depth = (opt && opt->max_depth) ? opt->max_depth : SIO_JSON_MAX_DEPTH_DEFAULT;
    if (s.max_depth > SIO_JSON_MAX_DEPTH_CAP || (p == NULL && len > 0))
        return SIO_ERR_INVALID_ARGUMENT;
#if SIO__HAVE_X86
    /* The AVX2 path accepts valid text in blocks; anything else is judged (and its error
     * located) by the scalar scan below. A block costs about what the scalar scan spends on
     * SIO__JSON_BLOCKS_MIN bytes, so shorter texts go to the scalar scan at once. */
    sio_simd_path path = sio__simd_path();
    if (len >= SIO__JSON_BLOCKS_MIN) {
        if (path == SIO_SIMD_AVX2 && sio__json_accept_avx2(p, len, s.max_depth))
            return SIO_OK;
    }
#endif
    sio_err e = scan_text(&s);
    if (e != SIO_OK && err_at)
        *err_at = s.err_at;
    return e;
}
