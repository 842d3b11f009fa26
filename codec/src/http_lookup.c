/* Lookups in a parsed request head: headers by name, query parameters with percent-decoding. */
#include <string.h>

#include "http_internal.h"

static uint8_t ascii_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static bool equals_nocase(const uint8_t *p, size_t n, const char *lit, size_t lit_len)
{
    if (n != lit_len)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(p[i]) != ascii_lower((uint8_t)lit[i]))
            return false;
    return true;
}

const sio_http_header *sio__http_headers_find(const sio_http_header *headers, size_t count,
                                              const char *name)
{
    size_t n = strlen(name);
    for (size_t i = count; i-- > 0;)
        if (equals_nocase(headers[i].name.ptr, headers[i].name.len, name, n))
            return &headers[i];
    return NULL;
}

const sio_http_header *sio_http_header_find(const sio_http_request *req, const char *name)
{
    return sio__http_headers_find(req->headers, req->header_count, name);
}

const sio_http_header *sio_http_response_header_find(const sio_http_response *resp,
                                                     const char *name)
{
    return sio__http_headers_find(resp->headers, resp->header_count, name);
}

/* Whether the comma-separated list `v` has an element equal to `token`, ignoring case and the
 * spaces around elements. */
static bool list_has_token(sio_span v, const char *token)
{
    size_t tlen = strlen(token), i = 0;
    while (i < v.len) {
        while (i < v.len && (v.ptr[i] == ' ' || v.ptr[i] == '\t' || v.ptr[i] == ','))
            i++;
        size_t start = i;
        while (i < v.len && v.ptr[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (v.ptr[end - 1] == ' ' || v.ptr[end - 1] == '\t'))
            end--;
        if (end > start && equals_nocase(v.ptr + start, end - start, token, tlen))
            return true;
    }
    return false;
}

bool sio__http_headers_have_token(const sio_http_header *headers, size_t count, const char *name,
                                  const char *token)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < count; i++) {
        const sio_http_header *h = &headers[i];
        if (equals_nocase(h->name.ptr, h->name.len, name, n) && list_has_token(h->value, token))
            return true;
    }
    return false;
}

bool sio_http_header_has_token(const sio_http_request *req, const char *name, const char *token)
{
    return sio__http_headers_have_token(req->headers, req->header_count, name, token);
}

bool sio_http_response_has_token(const sio_http_response *resp, const char *name, const char *token)
{
    return sio__http_headers_have_token(resp->headers, resp->header_count, name, token);
}

sio_err sio_http_percent_decode(sio_span in, bool plus_is_space, uint8_t *out, size_t cap,
                                size_t *written)
{
    if (written == NULL || (out == NULL && cap > 0))
        return SIO_ERR_INVALID_ARGUMENT;
    size_t n = 0;
    for (size_t i = 0; i < in.len; i++, n++) {
        uint8_t c = in.ptr[i];
        if (c == '%') {
            if (in.len - i < 3 || sio__http_hex_value(in.ptr[i + 1]) < 0 ||
                sio__http_hex_value(in.ptr[i + 2]) < 0)
                return SIO_ERR_HTTP_PERCENT_ESCAPE;
            c = (uint8_t)(sio__http_hex_value(in.ptr[i + 1]) * 16 +
                          sio__http_hex_value(in.ptr[i + 2]));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (n < cap)
            out[n] = c;
    }
    *written = n;
    return n <= cap ? SIO_OK : SIO_ERR_BUFFER_TOO_SMALL;
}

/* Walks "name=value&name=value" and returns the first parameter whose decoded name matches.
 * Names that do not decode, or decode to more than SIO_HTTP_MAX_QUERY_NAME bytes, never match. */
sio_err sio_http_query_raw(sio_span query, const char *name, sio_span *value)
{
    if (name == NULL || value == NULL)
        return SIO_ERR_INVALID_ARGUMENT;
    size_t want = strlen(name), i = 0;
    while (i < query.len) {
        size_t start = i;
        while (i < query.len && query.ptr[i] != '&')
            i++;
        sio_span pair = sio_span_of(query.ptr + start, i - start);
        i++; /* past '&' */
        const uint8_t *eq = pair.len ? memchr(pair.ptr, '=', pair.len) : NULL;
        size_t name_len = eq ? (size_t)(eq - pair.ptr) : pair.len;
        uint8_t decoded[SIO_HTTP_MAX_QUERY_NAME];
        size_t got = 0;
        if (sio_http_percent_decode(sio_span_of(pair.ptr, name_len), true, decoded, sizeof decoded,
                                    &got) != SIO_OK)
            continue;
        if (got == want && memcmp(decoded, name, want) == 0) {
            *value = eq ? sio_span_of(eq + 1, pair.len - name_len - 1) : sio_span_of(pair.ptr, 0);
            return SIO_OK;
        }
    }
    return SIO_ERR_HTTP_NOT_FOUND;
}

sio_err sio_http_query_get(sio_span query, const char *name, uint8_t *out, size_t cap,
                           size_t *written)
{
    sio_span raw;
    sio_err rc = sio_http_query_raw(query, name, &raw);
    if (rc != SIO_OK)
        return rc;
    return sio_http_percent_decode(raw, true, out, cap, written);
}
