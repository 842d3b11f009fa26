/* Fuzz target: JSON validation and the tree-less helpers (sio/json.h), which check every
 * Socket.IO payload.
 *
 * Input: the JSON text itself. Oracles:
 *  - agreement with cJSON (Debian libcjson 1.7.15) on accept/reject, at the same depth limit
 *    (1000), on the inputs where cJSON is strict; see cjson_is_strict_on() for the exclusions;
 *  - a number-shaped run outside strings that breaks RFC 8259's number grammar forces a reject;
 *  - the depth bound: text of nesting depth D validates at max_depth D and fails at D - 1 with
 *    SIO_ERR_JSON_DEPTH;
 *  - decode -> encode -> decode: walking a valid value with the iterators and writing it back
 *    with the writer gives valid compact JSON, and doing that again gives the same bytes;
 *    integers read with sio_json_get_int print back as the same token. */
#include "fuzz_common.h"
#include "sio/json.h"
#include "sio/utf8.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CJSON_DEPTH 1000u

/* Lexical facts about the text that decide whether cJSON can be compared, found with a
 * string-aware scan (outside strings only, except `ctl_in_string`). */
typedef struct scan {
    bool ctl_outside;    /* a byte below 0x20 other than space, tab, LF, CR */
    bool ctl_in_string;  /* any byte below 0x20 inside a string */
    bool bad_u_escape;   /* a \u inside a string not followed by four hex digits */
    bool bad_number;     /* a number-shaped run that breaks RFC 8259 §6 */
    uint32_t max_nesting;
} scan;

/* RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static bool number_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return false;
    if (i < n && s[i] == '.') {
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    return i == n;
}

static bool number_char(uint8_t c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* Length of the string starting at the quote at p[0] (through the closing quote, or to n). */
static bool hex4(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < 4; i++)
        if (i >= n || !((p[i] >= '0' && p[i] <= '9') || ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')))
            return false;
    return true;
}

static size_t skip_string(const uint8_t *p, size_t n, scan *sc)
{
    size_t i = 1;
    while (i < n && p[i] != '"') {
        sc->ctl_in_string |= p[i] < 0x20;
        if (p[i] == '\\' && i + 1 < n && p[i + 1] == 'u')
            sc->bad_u_escape |= !hex4(p + i + 2, n - i - 2);
        i += (p[i] == '\\') ? 2 : 1;
    }
    return i < n ? i + 1 : n;
}

static scan scan_text(const uint8_t *p, size_t n)
{
    scan sc = {false, false, false, false, 0};
    uint32_t nesting = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c == '"') {
            i += skip_string(p + i, n - i, &sc);
            continue;
        }
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            sc.ctl_outside = true;
        if (c == '[' || c == '{')
            sc.max_nesting = ++nesting > sc.max_nesting ? nesting : sc.max_nesting;
        if ((c == ']' || c == '}') && nesting > 0)
            nesting--;
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t j = i;
            while (j < n && number_char(p[j]))
                j++;
            bool glued = i > 0 && ((p[i - 1] | 0x20) >= 'a' && (p[i - 1] | 0x20) <= 'z');
            sc.bad_number |= !glued && !number_ok(p + i, j - i);
            i = j;
            continue;
        }
        i++;
    }
    return sc;
}

/* cJSON 1.7.15 accepts more than RFC 8259 in these places, so they are not compared:
 * any control byte counts as whitespace to it; it lets raw control bytes and invalid UTF-8
 * through in strings; it reads a \u escape whose four characters are not all hex digits as
 * U+0000; it skips a leading UTF-8 BOM; it reads numbers with strtod, which takes leading zeros,
 * "1.", "-.5" and the like. */
static bool cjson_is_strict_on(const uint8_t *p, size_t n, const scan *sc)
{
    if (sc->ctl_outside || sc->ctl_in_string || sc->bad_u_escape || sc->bad_number)
        return false;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        return false;
    return sio_utf8_validate(p, n, NULL) == SIO_OK;
}

/* cJSON's verdict on exactly these bytes: one value, then only RFC whitespace. */
static bool cjson_accepts(const uint8_t *p, size_t n)
{
    char *copy = malloc(n + 1);
    if (!copy)
        abort();
    memcpy(copy, p, n);
    copy[n] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(copy, n, &end, 0);
    bool ok = root != NULL;
    for (size_t i = ok ? (size_t)(end - copy) : n; i < n; i++)
        ok &= copy[i] == ' ' || copy[i] == '\t' || copy[i] == '\n' || copy[i] == '\r';
    cJSON_Delete(root);
    free(copy);
    return ok;
}

static sio_err validate_depth(const uint8_t *p, size_t n, uint32_t depth)
{
    sio_json_options opt = {depth};
    return sio_json_validate(p, n, &opt, NULL);
}

static void write_value(sio_json_writer *w, sio_span v);

/* Unescapes a string token into a fresh buffer (never longer than the token). */
static uint8_t *unescape(sio_span tok, size_t *len)
{
    uint8_t *buf = malloc(tok.len + 1);
    if (!buf)
        abort();
    FUZZ_ASSERT(sio_json_string_unescape(tok, buf, tok.len, len) == SIO_OK,
                "json: unescape failed on a validated string");
    FUZZ_ASSERT(sio_json_string_equals(tok, buf, *len), "json: string_equals disagrees with unescape");
    return buf;
}

static void write_members(sio_json_writer *w, sio_span v, bool object)
{
    sio_json_iter it;
    sio_span key, val;
    size_t members = 0;
    FUZZ_ASSERT((object ? sio_json_object_iter(v, &it) : sio_json_array_iter(v, &it)) == SIO_OK,
                "json: iterator refused a container");
    object ? sio_json_write_begin_object(w) : sio_json_write_begin_array(w);
    while (sio_json_next(&it, object ? &key : NULL, &val)) {
        if (object) {
            size_t klen = 0;
            uint8_t *k = unescape(key, &klen);
            sio_json_write_key(w, k, klen);
            free(k);
        }
        write_value(w, val);
        members++;
    }
    FUZZ_ASSERT(members == sio_json_count(v), "json: count disagrees with iteration");
    object ? sio_json_write_end_object(w) : sio_json_write_end_array(w);
}

/* An integer token must print back as itself ("-0" excepted, which is the integer 0). */
static void check_int(sio_span num)
{
    int64_t v = 0;
    if (sio_json_get_int(num, &v) != SIO_OK)
        return;
    char text[32];
    int len = snprintf(text, sizeof text, "%" PRId64, v);
    bool minus_zero = num.len == 2 && memcmp(num.ptr, "-0", 2) == 0;
    FUZZ_ASSERT(minus_zero || ((size_t)len == num.len && memcmp(text, num.ptr, num.len) == 0),
                "json: get_int does not print back as the same token");
}

static void write_value(sio_json_writer *w, sio_span v)
{
    v = sio_json_trim(v);
    switch (sio_json_kind_of(v)) {
    case SIO_JSON_OBJECT:
    case SIO_JSON_ARRAY:
        write_members(w, v, sio_json_kind_of(v) == SIO_JSON_OBJECT);
        break;
    case SIO_JSON_STRING: {
        size_t len = 0;
        uint8_t *s = unescape(v, &len);
        FUZZ_ASSERT(sio_json_write_string(w, s, len) == SIO_OK, "json: writer refused a string");
        free(s);
        break;
    }
    case SIO_JSON_NUMBER:
        check_int(v);
        sio_json_write_number_text(w, v.ptr, v.len);
        break;
    case SIO_JSON_TRUE:
    case SIO_JSON_FALSE:
        sio_json_write_bool(w, sio_json_kind_of(v) == SIO_JSON_TRUE);
        break;
    case SIO_JSON_NULL:
        sio_json_write_null(w);
        break;
    default:
        fuzz_fail("json: a validated value has no kind");
    }
}

/* Rewrites valid JSON in compact form, sizing the buffer with a first pass. */
static uint8_t *rewrite(const uint8_t *p, size_t n, size_t *len)
{
    sio_json_writer w;
    sio_json_writer_init(&w, NULL, 0);
    write_value(&w, sio_span_of(p, n));
    size_t need = 0;
    sio_err e = sio_json_writer_finish(&w, &need);
    FUZZ_ASSERT(e == SIO_ERR_BUFFER_TOO_SMALL, "json: sizing pass of the writer failed");
    uint8_t *out = malloc(need);
    if (!out)
        abort();
    sio_json_writer_init(&w, out, need);
    write_value(&w, sio_span_of(p, n));
    FUZZ_ASSERT(sio_json_writer_finish(&w, len) == SIO_OK && *len == need,
                "json: writer failed with a buffer of the announced size");
    return out;
}

static void check_roundtrip(const uint8_t *p, size_t n)
{
    size_t alen = 0, blen = 0;
    uint8_t *a = rewrite(p, n, &alen);
    FUZZ_ASSERT(sio_json_validate(a, alen, NULL, NULL) == SIO_OK, "json: rewritten text is invalid");
    FUZZ_ASSERT(sio_json_count(sio_span_of(a, alen)) == sio_json_count(sio_span_of(p, n)),
                "json: rewriting changed the member count");
    uint8_t *b = rewrite(a, alen, &blen);
    FUZZ_ASSERT(alen == blen && memcmp(a, b, alen) == 0, "json: rewriting is not a fixed point");
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t err_at = 0;
    sio_err e = sio_json_validate(data, size, NULL, &err_at);
    fuzz_reached(e == SIO_OK);
    FUZZ_ASSERT(e == SIO_OK || err_at <= size, "json: error offset past the end");
    scan sc = scan_text(data, size);
    if (sc.bad_number)
        FUZZ_ASSERT(e != SIO_OK, "json: accepted a number RFC 8259 forbids");
    sio_err deep = validate_depth(data, size, CJSON_DEPTH);
    if (cjson_is_strict_on(data, size, &sc))
        FUZZ_ASSERT((deep == SIO_OK) == cjson_accepts(data, size), "json: cJSON disagrees");
    if (deep != SIO_OK)
        return 0;
    uint32_t depth = sc.max_nesting;
    FUZZ_ASSERT(validate_depth(data, size, depth ? depth : 1) == SIO_OK, "json: fails at its own depth");
    if (depth > 1)
        FUZZ_ASSERT(validate_depth(data, size, depth - 1) == SIO_ERR_JSON_DEPTH,
                    "json: one level past max_depth was not SIO_ERR_JSON_DEPTH");
    if (depth <= SIO_JSON_WRITER_MAX_DEPTH)
        check_roundtrip(data, size);
    return 0;
}
