/* Reading validated JSON without a tree: every helper walks the text with bounds checks, so
 * unvalidated input gives unspecified results but never an out-of-bounds read. */
#include "json_internal.h"
#include "simd_internal.h"

static bool is_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws_at(const uint8_t *p, size_t n, size_t i)
{
    while (i < n && is_ws(p[i]))
        i++;
    return i;
}

/* Bytes that end a run of plain bytes: in a string, its quote and backslash; in a container,
 * also the brackets. The skipping loops go through such runs with one table look-up per byte. */
enum { STOP_STRING = 1, STOP_CONTAINER = 2 };
static const uint8_t stop_at[256] = {
    ['"'] = STOP_STRING | STOP_CONTAINER,
    ['\\'] = STOP_STRING,
    ['['] = STOP_CONTAINER,
    [']'] = STOP_CONTAINER,
    ['{'] = STOP_CONTAINER,
    ['}'] = STOP_CONTAINER,
};

/* Index of the first byte at or after i that stops a run (`stop`: STOP_STRING or
 * STOP_CONTAINER); n when none. The vector paths compare 16 or 32 bytes at a time. */
static inline size_t find_stop(const uint8_t *p, size_t n, size_t i, uint8_t stop)
{
#if SIO__HAVE_X86
    sio_simd_path path = sio__simd_path();
    if (path == SIO_SIMD_AVX2)
        return sio__json_find_stop_avx2(p, n, i, stop == STOP_CONTAINER);
    if (path == SIO_SIMD_SSE2)
        return sio__json_find_stop_sse2(p, n, i, stop == STOP_CONTAINER);
#endif
    while (i < n && !(stop_at[p[i]] & stop))
        i++;
    return i;
}

size_t sio__json_find_structure(const uint8_t *p, size_t n, size_t i)
{
    return find_stop(p, n, i, STOP_CONTAINER);
}

size_t sio__json_skip_ws(const uint8_t *p, size_t n, size_t i)
{
    return skip_ws_at(p, n, i);
}

/* Index just past the string token whose opening quote is at i. */
size_t sio__json_skip_string(const uint8_t *p, size_t n, size_t i)
{
    i++;
    while (i < n) {
        i = find_stop(p, n, i, STOP_STRING);
        if (i >= n)
            break;
        if (p[i] == '"')
            return i + 1;
        i += 2; /* the backslash and the byte it escapes */
    }
    return n;
}

/* Index just past the value starting at i. Containers are skipped by counting brackets outside
 * strings: in validated text they balance, so no stack is needed. */
size_t sio__json_skip_value(const uint8_t *p, size_t n, size_t i)
{
    if (i >= n)
        return n;
    if (p[i] == '"')
        return sio__json_skip_string(p, n, i);
    if (p[i] != '[' && p[i] != '{') {
        while (i < n && !is_ws(p[i]) && p[i] != ',' && p[i] != ']' && p[i] != '}' && p[i] != ':')
            i++;
        return i;
    }
    size_t depth = 0;
    while (i < n) {
        i = find_stop(p, n, i, STOP_CONTAINER);
        if (i >= n)
            break;
        uint8_t c = p[i];
        if (c == '"') {
            i = sio__json_skip_string(p, n, i);
            continue;
        }
        if (c == '[' || c == '{')
            depth++;
        else if ((c == ']' || c == '}') && --depth == 0)
            return i + 1;
        i++;
    }
    return n;
}

sio_span sio_json_trim(sio_span text)
{
    if (!text.ptr)
        return SIO_SPAN_NULL;
    size_t start = skip_ws_at(text.ptr, text.len, 0);
    size_t end = sio__json_skip_value(text.ptr, text.len, start);
    return sio_span_of(text.ptr + start, end - start);
}

sio_json_kind sio_json_kind_of(sio_span v)
{
    if (!v.ptr)
        return SIO_JSON_NONE;
    size_t i = skip_ws_at(v.ptr, v.len, 0);
    if (i >= v.len)
        return SIO_JSON_NONE;
    switch (v.ptr[i]) {
    case '{':
        return SIO_JSON_OBJECT;
    case '[':
        return SIO_JSON_ARRAY;
    case '"':
        return SIO_JSON_STRING;
    case 't':
        return SIO_JSON_TRUE;
    case 'f':
        return SIO_JSON_FALSE;
    case 'n':
        return SIO_JSON_NULL;
    default:
        if (v.ptr[i] == '-' || (v.ptr[i] >= '0' && v.ptr[i] <= '9'))
            return SIO_JSON_NUMBER;
        return SIO_JSON_NONE;
    }
}

static sio_err iter_start(sio_span v, sio_json_iter *it, sio_json_kind want)
{
    if (sio_json_kind_of(v) != want)
        return SIO_ERR_JSON_TYPE;
    /* No search for the closing bracket: sio_json_next skips whole members and stops at the
     * first bracket that closes this level, so starting is O(1) and nested iteration costs one
     * walk per level rather than two. */
    size_t start = skip_ws_at(v.ptr, v.len, 0);
    it->p = v.ptr + start;
    it->len = v.len - start;
    it->pos = 1;
    it->is_object = want == SIO_JSON_OBJECT;
    return SIO_OK;
}

void sio__json_iter_validated(sio_span text, bool is_object, sio_json_iter *it)
{
    size_t start = skip_ws_at(text.ptr, text.len, 0);
    size_t end = text.len;
    while (end > start && is_ws(text.ptr[end - 1]))
        end--;
    it->p = text.ptr + start;
    it->len = end - start;
    it->pos = 1;
    it->is_object = is_object;
}

sio_err sio_json_array_iter(sio_span array, sio_json_iter *it)
{
    return iter_start(array, it, SIO_JSON_ARRAY);
}

sio_err sio_json_object_iter(sio_span object, sio_json_iter *it)
{
    return iter_start(object, it, SIO_JSON_OBJECT);
}

bool sio_json_next(sio_json_iter *it, sio_span *key, sio_span *value)
{
    size_t i = skip_ws_at(it->p, it->len, it->pos);
    if (i < it->len && it->p[i] == ',')
        i = skip_ws_at(it->p, it->len, i + 1);
    if (i >= it->len || it->p[i] == ']' || it->p[i] == '}') {
        it->pos = it->len;
        return false;
    }
    if (it->is_object) {
        size_t kend = sio__json_skip_string(it->p, it->len, i);
        if (key)
            *key = sio_span_of(it->p + i, kend - i);
        i = skip_ws_at(it->p, it->len, kend);
        if (i < it->len && it->p[i] == ':')
            i++;
        i = skip_ws_at(it->p, it->len, i);
    } else if (key) {
        *key = SIO_SPAN_NULL;
    }
    size_t vend = sio__json_skip_value(it->p, it->len, i);
    if (value)
        *value = sio_span_of(it->p + i, vend - i);
    it->pos = vend;
    return vend > i;
}

size_t sio_json_count(sio_span container)
{
    sio_json_iter it;
    if (sio_json_array_iter(container, &it) != SIO_OK &&
        sio_json_object_iter(container, &it) != SIO_OK)
        return 0;
    size_t count = 0;
    while (sio_json_next(&it, NULL, NULL))
        count++;
    return count;
}

/* The last duplicate wins, as with JSON.parse on the JavaScript side. */
static sio_err object_lookup(sio_json_iter *it, const char *key, size_t key_len, sio_span *value)
{
    sio_span k, v;
    bool found = false;
    while (sio_json_next(it, &k, &v)) {
        if (sio_json_string_equals(k, (const uint8_t *)key, key_len)) {
            found = true;
            if (value)
                *value = v;
        }
    }
    return found ? SIO_OK : SIO_ERR_JSON_NOT_FOUND;
}

sio_err sio_json_object_get(sio_span object, const char *key, size_t key_len, sio_span *value)
{
    sio_json_iter it;
    sio_err e = sio_json_object_iter(object, &it);
    if (e != SIO_OK)
        return e;
    return object_lookup(&it, key, key_len, value);
}

sio_err sio__json_object_get_validated(const uint8_t *p, size_t n, const char *key, size_t key_len,
                                       sio_span *value)
{
    sio_json_iter it = {p, n, 1, 1};
    return object_lookup(&it, key, key_len, value);
}
