/* Strict RFC 8259 validation, iterative: the nesting is a bit stack (1 = object) so a hostile
 * text cannot drive recursion, and the depth bound is checked where each level opens. */
#include <string.h>

#include "simd_internal.h"
#include "sio/json.h"

typedef struct json_scan {
    const uint8_t *p;
    size_t n, i;
    size_t err_at;
    uint32_t depth, max_depth;
    uint8_t stack[SIO_JSON_MAX_DEPTH_CAP / 8];
} json_scan;

static sio_err scan_fail(json_scan *s, sio_err e, size_t at)
{
    s->err_at = at;
    return e;
}

/* Whitespace bytes are all at or below ' ', so most calls return after one comparison. */
static inline void skip_ws(json_scan *s)
{
    if (s->i < s->n && s->p[s->i] > ' ')
        return;
    while (s->i < s->n) {
        uint8_t c = s->p[s->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        s->i++;
    }
}

static bool top_is_object(const json_scan *s)
{
    uint32_t d = s->depth - 1;
    return (s->stack[d / 8] >> (d % 8)) & 1u;
}

static sio_err push(json_scan *s, bool object)
{
    if (s->depth >= s->max_depth)
        return scan_fail(s, SIO_ERR_JSON_DEPTH, s->i);
    uint32_t d = s->depth++;
    if (object)
        s->stack[d / 8] |= (uint8_t)(1u << (d % 8));
    else
        s->stack[d / 8] &= (uint8_t) ~(1u << (d % 8));
    s->i++;
    return SIO_OK;
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

/* s->i points at the opening quote. */
static sio_err scan_string(json_scan *s)
{
    const uint8_t *p = s->p;
    size_t n = s->n, i = s->i + 1;
    size_t bad = SIZE_MAX; /* first byte that is not valid UTF-8 */
    for (;;) {
        /* Four bytes per bounds check while they last; strings end within a few. */
        while (n - i >= 4 && string_plain[p[i]] && string_plain[p[i + 1]] &&
               string_plain[p[i + 2]] && string_plain[p[i + 3]])
            i += 4;
        while (i < n && string_plain[p[i]])
            i++;
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

/* With the whole word in bounds, one comparison settles the usual case; the loop finds the
 * offending byte otherwise. */
static inline sio_err scan_literal(json_scan *s, const char *word, size_t wlen)
{
    if (s->n - s->i >= wlen && memcmp(s->p + s->i, word, wlen) == 0) {
        s->i += wlen;
        return SIO_OK;
    }
    for (size_t k = 0; k < wlen; k++) {
        if (s->i + k >= s->n)
            return scan_fail(s, SIO_ERR_JSON_TRUNCATED, s->n);
        if (s->p[s->i + k] != (uint8_t)word[k])
            return scan_fail(s, SIO_ERR_JSON_SYNTAX, s->i + k);
    }
    s->i += wlen;
    return SIO_OK;
}

static sio_err scan_scalar(json_scan *s)
{
    uint8_t c = s->p[s->i];
    if (c == '"')
        return scan_string(s);
    if (c == '-' || (c >= '0' && c <= '9'))
        return scan_number(s);
    if (c == 't')
        return scan_literal(s, "true", 4);
    if (c == 'f')
        return scan_literal(s, "false", 5);
    if (c == 'n')
        return scan_literal(s, "null", 4);
    return scan_fail(s, SIO_ERR_JSON_SYNTAX, s->i);
}

typedef enum scan_state { WANT_VALUE, WANT_KEY, WANT_MEMBER_END } scan_state;

/* Closes the innermost container; *object becomes the kind of the one around it. */
static void pop(json_scan *s, bool *object)
{
    s->i++;
    s->depth--;
    *object = s->depth > 0 && top_is_object(s);
}

/* s->i is at '{' or '['. An empty container is closed at once. */
static sio_err open_container(json_scan *s, uint8_t c, bool *object, scan_state *state)
{
    sio_err e = push(s, c == '{');
    if (e != SIO_OK)
        return e;
    *object = c == '{';
    skip_ws(s);
    if (s->i < s->n && s->p[s->i] == (c == '{' ? '}' : ']')) {
        pop(s, object);
        *state = WANT_MEMBER_END;
    } else {
        *state = c == '{' ? WANT_KEY : WANT_VALUE;
    }
    return SIO_OK;
}

/* s->i is at the byte c where a member key is due; the ':' after it is consumed. */
static sio_err scan_key(json_scan *s, uint8_t c)
{
    if (c != '"')
        return scan_fail(s, SIO_ERR_JSON_SYNTAX, s->i);
    sio_err e = scan_string(s);
    if (e != SIO_OK)
        return e;
    skip_ws(s);
    if (s->i == s->n)
        return scan_fail(s, SIO_ERR_JSON_TRUNCATED, s->n);
    if (s->p[s->i] != ':')
        return scan_fail(s, SIO_ERR_JSON_SYNTAX, s->i);
    s->i++;
    return SIO_OK;
}

/* After a value inside a container: a comma or the matching closer. */
static sio_err member_end(json_scan *s, uint8_t c, bool *object, scan_state *state)
{
    if (c == ',') {
        s->i++;
        *state = *object ? WANT_KEY : WANT_VALUE;
    } else if (c == (*object ? '}' : ']')) {
        pop(s, object);
    } else {
        return scan_fail(s, SIO_ERR_JSON_SYNTAX, s->i);
    }
    return SIO_OK;
}

/* The kind of the innermost open container is kept in `object`, so only closing a level reads
 * the bit stack. Every state needs a byte, so the end of the text is checked once per step. */
static sio_err scan_text(json_scan *s)
{
    skip_ws(s);
    if (s->i == s->n)
        return scan_fail(s, SIO_ERR_JSON_EMPTY, s->i);
    scan_state state = WANT_VALUE;
    bool object = false;
    for (;;) {
        if (state == WANT_MEMBER_END && s->depth == 0)
            break;
        if (s->i == s->n)
            return scan_fail(s, SIO_ERR_JSON_TRUNCATED, s->n);
        uint8_t c = s->p[s->i];
        sio_err e;
        if (state == WANT_MEMBER_END) {
            e = member_end(s, c, &object, &state);
        } else if (state == WANT_KEY) {
            e = scan_key(s, c);
            state = WANT_VALUE;
        } else if (c == '{' || c == '[') {
            e = open_container(s, c, &object, &state);
        } else {
            e = scan_scalar(s);
            state = WANT_MEMBER_END;
        }
        if (e != SIO_OK)
            return e;
        skip_ws(s);
    }
    if (s->i != s->n)
        return scan_fail(s, SIO_ERR_JSON_TRAILING, s->i);
    return SIO_OK;
}

sio_err sio_json_validate(const uint8_t *p, size_t len, const sio_json_options *opt, size_t *err_at)
{
    json_scan s;
    s.p = p;
    s.n = len;
    s.i = 0;
    s.err_at = 0;
    s.depth = 0;
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
