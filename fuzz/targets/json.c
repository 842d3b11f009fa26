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
#include <stdlib.h>
#include <string.h>

#define CJSON_DEPTH 1000u

/* Lexical facts about the text that decide whether cJSON can be compared, found with a
 * string-aware scan (outside strings only, except `ctl_in_string`). */
typedef struct scan {
    bool ctl_outside;   /* a byte below 0x20 other than space, tab, LF, CR */
    bool ctl_in_string; /* any byte below 0x20 inside a string */
    bool bad_u_escape;  /* a \u inside a string not followed by four hex digits */
    bool bad_number;    /* a number-shaped run that breaks RFC 8259 §6 */
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
        if (i >= n ||
            !((p[i] >= '0' && p[i] <= '9') || ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')))
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

/* cJSON's nodes and strings come from an arena sized for each input and reset before each parse
 * (a parse allocates once per value, and cJSON is not the code under test). A parse needs at most
 * one 64-byte node per input byte (`[[[[`) plus each string's unescaped bytes, so 128 bytes per
 * input byte always suffice; running out is a harness bug, reported as such. */
#define CJSON_ARENA_PER_BYTE 128u
static uint8_t *cjson_arena;
static size_t cjson_arena_cap, cjson_arena_used;

static void *arena_alloc(size_t n)
{
    size_t at = (cjson_arena_used + 15u) & ~(size_t)15u;
    if (at > cjson_arena_cap || n > cjson_arena_cap - at)
        fuzz_fail("json: cJSON needed more than the arena bound");
    cjson_arena_used = at + n;
    return cjson_arena + at;
}

static void arena_free(void *p)
{
    (void)p;
}

/* cJSON's verdict on exactly these bytes: one value, then only RFC whitespace. */
static bool cjson_accepts(const uint8_t *p, size_t n)
{
    static bool hooked;
    static fuzz_buffer text, arena;
    if (!hooked) {
        cJSON_Hooks hooks = {arena_alloc, arena_free};
        cJSON_InitHooks(&hooks);
        hooked = true;
    }
    cjson_arena_cap = CJSON_ARENA_PER_BYTE * (n + 1);
    cjson_arena = fuzz_buffer_get(&arena, cjson_arena_cap);
    cjson_arena_used = 0;
    char *copy = (char *)fuzz_buffer_get(&text, n + 1);
    memcpy(copy, p, n);
    copy[n] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(copy, n, &end, 0);
    bool ok = root != NULL;
    for (size_t i = ok ? (size_t)(end - copy) : n; i < n; i++)
        ok &= copy[i] == ' ' || copy[i] == '\t' || copy[i] == '\n' || copy[i] == '\r';
    cJSON_Delete(root);
    return ok;
}

static sio_err validate_depth(const uint8_t *p, size_t n, uint32_t depth)
{
    sio_json_options opt = {depth};
    return sio_json_validate(p, n, &opt, NULL);
}

/* One walk of a validated value with the iterators, written back with the writer. The walk that
 * sizes the output also checks sio_json_count against the iteration at every container. */
typedef struct rewriter {
    sio_json_writer w;
    bool check_counts;
} rewriter;

static void write_value(rewriter *r, sio_span v);

/* Unescapes a string token into a buffer kept between calls (never longer than the token); the
 * result is used before the next call. */
static const uint8_t *unescape(sio_span tok, size_t *len)
{
    static fuzz_buffer out;
    uint8_t *buf = fuzz_buffer_get(&out, tok.len);
    FUZZ_ASSERT(sio_json_string_unescape(tok, buf, tok.len, len) == SIO_OK,
                "json: unescape failed on a validated string");
    FUZZ_ASSERT(sio_json_string_equals(tok, buf, *len),
                "json: string_equals disagrees with unescape");
    return buf;
}

static void write_members(rewriter *r, sio_span v, bool object)
{
    sio_json_iter it;
    sio_span key, val;
    size_t members = 0;
    FUZZ_ASSERT((object ? sio_json_object_iter(v, &it) : sio_json_array_iter(v, &it)) == SIO_OK,
                "json: iterator refused a container");
    object ? sio_json_write_begin_object(&r->w) : sio_json_write_begin_array(&r->w);
    while (sio_json_next(&it, object ? &key : NULL, &val)) {
        if (object) {
            size_t klen = 0;
            const uint8_t *k = unescape(key, &klen);
            sio_json_write_key(&r->w, k, klen);
        }
        write_value(r, val);
        members++;
    }
    if (r->check_counts)
        FUZZ_ASSERT(members == sio_json_count(v), "json: count disagrees with iteration");
    object ? sio_json_write_end_object(&r->w) : sio_json_write_end_array(&r->w);
}

/* Decimal text of v, written out independently of the codec. */
static size_t print_int(int64_t v, char out[21])
{
    uint64_t m = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
    char digits[20];
    size_t k = 0, n = 0;
    do {
        digits[k++] = (char)('0' + m % 10u);
        m /= 10u;
    } while (m);
    if (v < 0)
        out[n++] = '-';
    while (k)
        out[n++] = digits[--k];
    return n;
}

/* An integer token must print back as itself ("-0" excepted, which is the integer 0). */
static void check_int(sio_span num)
{
    int64_t v = 0;
    if (sio_json_get_int(num, &v) != SIO_OK)
        return;
    char text[21];
    size_t len = print_int(v, text);
    bool same = len == num.len;
    for (size_t i = 0; same && i < len; i++)
        same = (uint8_t)text[i] == num.ptr[i];
    bool minus_zero = num.len == 2 && num.ptr[0] == '-' && num.ptr[1] == '0';
    FUZZ_ASSERT(minus_zero || same, "json: get_int does not print back as the same token");
}

/* `v` is exactly one value (the iterator hands members out without surrounding whitespace). */
static void write_value(rewriter *r, sio_span v)
{
    sio_json_kind kind = sio_json_kind_of(v);
    switch (kind) {
    case SIO_JSON_OBJECT:
    case SIO_JSON_ARRAY:
        write_members(r, v, kind == SIO_JSON_OBJECT);
        break;
    case SIO_JSON_STRING: {
        size_t len = 0;
        const uint8_t *s = unescape(v, &len);
        FUZZ_ASSERT(sio_json_write_string(&r->w, s, len) == SIO_OK,
                    "json: writer refused a string");
        break;
    }
    case SIO_JSON_NUMBER:
        check_int(v);
        sio_json_write_number_text(&r->w, v.ptr, v.len);
        break;
    case SIO_JSON_TRUE:
    case SIO_JSON_FALSE:
        sio_json_write_bool(&r->w, kind == SIO_JSON_TRUE);
        break;
    case SIO_JSON_NULL:
        sio_json_write_null(&r->w);
        break;
    default:
        fuzz_fail("json: a validated value has no kind");
    }
}

/* Writes `v` in compact form into out[0..cap) (out NULL: sizing only); returns the writer's
 * verdict and sets *len to the bytes written or needed. */
static sio_err rewrite(sio_span v, uint8_t *out, size_t cap, bool check_counts, size_t *len)
{
    rewriter r = {.check_counts = check_counts};
    sio_json_writer_init(&r.w, out, cap);
    write_value(&r, v);
    return sio_json_writer_finish(&r.w, len);
}

/* Rewrites valid text: a sizing walk, a walk into a buffer of exactly the announced size, then
 * the rewritten text again into a buffer of its own length, which must give the same bytes. */
static void check_roundtrip(const uint8_t *p, size_t n)
{
    static fuzz_buffer abuf, bbuf;
    sio_span top = sio_json_trim(sio_span_of(p, n));
    size_t need = 0, alen = 0, blen = 0;
    FUZZ_ASSERT(rewrite(top, NULL, 0, true, &need) == SIO_ERR_BUFFER_TOO_SMALL,
                "json: sizing pass of the writer failed");
    uint8_t *a = fuzz_buffer_get(&abuf, need);
    FUZZ_ASSERT(rewrite(top, a, need, false, &alen) == SIO_OK && alen == need,
                "json: writer failed with a buffer of the announced size");
    FUZZ_ASSERT(sio_json_validate(a, alen, NULL, NULL) == SIO_OK,
                "json: rewritten text is invalid");
    FUZZ_ASSERT(sio_json_count(sio_span_of(a, alen)) == sio_json_count(top),
                "json: rewriting changed the member count");
    uint8_t *b = fuzz_buffer_get(&bbuf, alen);
    sio_err e = rewrite(sio_span_of(a, alen), b, alen, false, &blen);
    if (e != SIO_OK || blen != alen || memcmp(a, b, alen) != 0)
        fuzz_fail_diff("json: rewriting is not a fixed point", a, alen, b, e == SIO_OK ? blen : 0);
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
    FUZZ_ASSERT(validate_depth(data, size, depth ? depth : 1) == SIO_OK,
                "json: fails at its own depth");
    if (depth > 1)
        FUZZ_ASSERT(validate_depth(data, size, depth - 1) == SIO_ERR_JSON_DEPTH,
                    "json: one level past max_depth was not SIO_ERR_JSON_DEPTH");
    if (depth <= SIO_JSON_WRITER_MAX_DEPTH)
        check_roundtrip(data, size);
    return 0;
}
