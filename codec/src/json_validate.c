/* Strict RFC 8259 validation, iterative: the nesting is a bit stack (1 = object) so a hostile
 * text cannot drive recursion, and the depth bound is checked where each level opens. */
#include "sio/json.h"
#include "sio/utf8.h"

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
        s->stack[d / 8] &= (uint8_t)~(1u << (d % 8));
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

/* String content bytes that need no attention are nonzero: ASCII is 1, bytes of multi-byte
 * UTF-8 are 3 (bit 1: the string is checked as UTF-8 at its closing quote). '"', '\\' and the
 * control bytes are 0: the scan stops at them. */
#define CLASS_ROW(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const uint8_t string_class[256] = {
    CLASS_ROW(0), CLASS_ROW(0),
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20..0x2F: '"' stops */
    CLASS_ROW(1), CLASS_ROW(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50..0x5F: '\\' stops */
    CLASS_ROW(1), CLASS_ROW(1),
    CLASS_ROW(3), CLASS_ROW(3), CLASS_ROW(3), CLASS_ROW(3),
    CLASS_ROW(3), CLASS_ROW(3), CLASS_ROW(3), CLASS_ROW(3),
};

/* s->i points at the opening quote. Raw bytes are checked as UTF-8 once the closing quote is
 * found: '"' and '\\' never occur inside a multi-byte sequence, so the scan cannot cut one. */
static sio_err scan_string(json_scan *s)
{
    size_t raw_start = ++s->i;
    unsigned seen = 0;
    for (;;) {
        unsigned k;
        while (s->i < s->n && (k = string_class[s->p[s->i]]) != 0) {
            seen |= k;
            s->i++;
        }
        if (s->i >= s->n)
            break;
        uint8_t c = s->p[s->i];
        if (c == '"') {
            size_t bad = 0;
            if ((seen & 2) &&
                sio_utf8_validate(s->p + raw_start, s->i - raw_start, &bad) != SIO_OK)
                return scan_fail(s, SIO_ERR_JSON_UTF8, raw_start + bad);
            s->i++;
            return SIO_OK;
        }
        if (c < 0x20)
            return scan_fail(s, SIO_ERR_JSON_CONTROL_CHAR, s->i);
        s->i += 1;
        sio_err e = scan_escape(s); /* c is '\\' */
        if (e != SIO_OK)
            return e;
    }
    return scan_fail(s, SIO_ERR_JSON_TRUNCATED, s->n);
}

static size_t skip_digits(json_scan *s)
{
    size_t start = s->i;
    while (s->i < s->n && s->p[s->i] >= '0' && s->p[s->i] <= '9')
        s->i++;
    return s->i - start;
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
            return scan_fail(s, s->i == s->n ? SIO_ERR_JSON_TRUNCATED : SIO_ERR_JSON_NUMBER,
                             s->i);
    }
    if (s->i < s->n && (s->p[s->i] == 'e' || s->p[s->i] == 'E')) {
        s->i++;
        if (s->i < s->n && (s->p[s->i] == '+' || s->p[s->i] == '-'))
            s->i++;
        if (skip_digits(s) == 0)
            return scan_fail(s, s->i == s->n ? SIO_ERR_JSON_TRUNCATED : SIO_ERR_JSON_NUMBER,
                             s->i);
    }
    return SIO_OK;
}

static sio_err scan_literal(json_scan *s, const char *word, size_t wlen)
{
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

enum { WANT_VALUE, WANT_KEY, WANT_MEMBER_END };

/* One value was expected at s->i: opens a container or consumes a scalar. */
static sio_err step_value(json_scan *s, int *state)
{
    if (s->i == s->n)
        return scan_fail(s, SIO_ERR_JSON_TRUNCATED, s->n);
    uint8_t c = s->p[s->i];
    if (c != '{' && c != '[') {
        *state = WANT_MEMBER_END;
        return scan_scalar(s);
    }
    sio_err e = push(s, c == '{');
    if (e != SIO_OK)
        return e;
    skip_ws(s);
    if (s->i < s->n && s->p[s->i] == (c == '{' ? '}' : ']')) {
        s->depth--;
        s->i++;
        *state = WANT_MEMBER_END;
    } else {
        *state = c == '{' ? WANT_KEY : WANT_VALUE;
    }
    return SIO_OK;
}

static sio_err step_key(json_scan *s, int *state)
{
    if (s->i == s->n)
        return scan_fail(s, SIO_ERR_JSON_TRUNCATED, s->n);
    if (s->p[s->i] != '"')
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
    *state = WANT_VALUE;
    return SIO_OK;
}

/* After a value inside a container: a comma or the matching closer. */
static sio_err step_member_end(json_scan *s, int *state)
{
    if (s->i == s->n)
        return scan_fail(s, SIO_ERR_JSON_TRUNCATED, s->n);
    bool object = top_is_object(s);
    uint8_t c = s->p[s->i];
    if (c == ',') {
        s->i++;
        *state = object ? WANT_KEY : WANT_VALUE;
    } else if (c == (object ? '}' : ']')) {
        s->i++;
        s->depth--;
    } else {
        return scan_fail(s, SIO_ERR_JSON_SYNTAX, s->i);
    }
    return SIO_OK;
}

static sio_err scan_text(json_scan *s)
{
    skip_ws(s);
    if (s->i == s->n)
        return scan_fail(s, SIO_ERR_JSON_EMPTY, s->i);
    int state = WANT_VALUE;
    for (;;) {
        sio_err e;
        if (state == WANT_VALUE)
            e = step_value(s, &state);
        else if (state == WANT_KEY)
            e = step_key(s, &state);
        else if (s->depth == 0)
            break;
        else
            e = step_member_end(s, &state);
        if (e != SIO_OK)
            return e;
        skip_ws(s);
    }
    if (s->i != s->n)
        return scan_fail(s, SIO_ERR_JSON_TRAILING, s->i);
    return SIO_OK;
}

sio_err sio_json_validate(const uint8_t *p, size_t len, const sio_json_options *opt,
                          size_t *err_at)
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
    sio_err e = scan_text(&s);
    if (e != SIO_OK && err_at)
        *err_at = s.err_at;
    return e;
}
