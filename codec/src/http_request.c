/* HTTP/1.1 request-head parser: request line, header fields, body framing. See sio/http.h.
 * The pieces a response head shares (head end, line endings, header lines, Content-Length, the
 * limits) are sio__http_* functions, used by http_response.c too. */
#include <string.h>

#include "http_internal.h"

/* RFC 9110 §5.6.2 tchar: the bytes allowed in methods and header names. */
static bool is_tchar(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static uint8_t ascii_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

bool sio__http_span_equals_nocase(sio_span s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(s.ptr[i]) != ascii_lower((uint8_t)lit[i]))
            return false;
    return true;
}

void sio_http_parser_init(sio_http_parser *ps)
{
    ps->scanned = 0;
}

/* Finds the CRLF CRLF that ends the head, resuming where the previous call stopped. Returns the
 * head length, or 0 when it is not there yet. The search starts after one leading empty line
 * (allowed before the request line), so that line is not mistaken for the end of an empty head. */
size_t sio__http_find_head_end(sio_http_parser *ps, const uint8_t *buf, size_t len,
                               bool skip_empty_line)
{
    size_t start = ps->scanned > 3 ? ps->scanned - 3 : 0;
    size_t skip = (skip_empty_line && len >= 2 && buf[0] == '\r' && buf[1] == '\n') ? 2 : 0;
    if (start < skip)
        start = skip;
    for (size_t i = start; i + 4 <= len; i++) {
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return i + 4;
    }
    ps->scanned = len;
    return 0;
}

/* Every CR must be followed by LF and every LF preceded by CR, inside the head. */
sio_err sio__http_check_line_endings(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\r' && (i + 1 >= n || p[i + 1] != '\n'))
            return SIO_ERR_HTTP_BARE_CR_OR_LF;
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            return SIO_ERR_HTTP_BARE_CR_OR_LF;
    }
    return SIO_OK;
}

/* The request-target: origin-form or "*". Visible ASCII only; no fragment. */
static sio_err parse_target(sio_span t, size_t max_target, sio_http_request *req)
{
    if (t.len > max_target)
        return SIO_ERR_HTTP_TARGET_TOO_LONG;
    if (t.len == 0 || (t.ptr[0] != '/' && !(t.len == 1 && t.ptr[0] == '*')))
        return SIO_ERR_HTTP_TARGET;
    size_t q = t.len;
    for (size_t i = 0; i < t.len; i++) {
        uint8_t c = t.ptr[i];
        if (c <= 0x20 || c >= 0x7f || c == '#')
            return SIO_ERR_HTTP_TARGET;
        if (c == '?' && q == t.len)
            q = i;
    }
    req->target = t;
    req->path = sio_span_of(t.ptr, q);
    req->has_query = q < t.len;
    req->query = req->has_query ? sio_span_of(t.ptr + q + 1, t.len - q - 1) : sio_span_of(t.ptr, 0);
    return SIO_OK;
}

/* "METHOD SP target SP HTTP/1.x", exactly one space between the parts. */
static sio_err parse_request_line(const uint8_t *p, size_t n, const sio_http_limits *lim,
                                  sio_http_request *req)
{
    const uint8_t *sp1 = memchr(p, ' ', n);
    if (sp1 == NULL)
        return SIO_ERR_HTTP_REQUEST_LINE;
    size_t mlen = (size_t)(sp1 - p);
    if (mlen == 0)
        return SIO_ERR_HTTP_METHOD;
    for (size_t i = 0; i < mlen; i++)
        if (!is_tchar(p[i]))
            return SIO_ERR_HTTP_METHOD;
    const uint8_t *rest = sp1 + 1;
    size_t rlen = n - mlen - 1;
    if (rlen < 9 || rest[rlen - 9] != ' ')
        return SIO_ERR_HTTP_REQUEST_LINE;
    const uint8_t *ver = rest + rlen - 8;
    if (memcmp(ver, "HTTP/1.", 7) != 0 || (ver[7] != '0' && ver[7] != '1'))
        return SIO_ERR_HTTP_VERSION;
    req->method = sio_span_of(p, mlen);
    req->version_minor = ver[7] - '0';
    return parse_target(sio_span_of(rest, rlen - 9), lim->max_target, req);
}

/* One "name: value" line (without its CRLF). */
sio_err sio__http_parse_header_line(const uint8_t *p, size_t n, sio_http_header *h)
{
    if (n > 0 && is_ows(p[0]))
        return SIO_ERR_HTTP_HEADER_LINE; /* obs-fold, RFC 9112 §5.2 */
    const uint8_t *colon = memchr(p, ':', n);
    if (colon == NULL)
        return SIO_ERR_HTTP_HEADER_LINE;
    size_t nlen = (size_t)(colon - p);
    if (nlen == 0)
        return SIO_ERR_HTTP_HEADER_NAME;
    for (size_t i = 0; i < nlen; i++)
        if (!is_tchar(p[i]))
            return SIO_ERR_HTTP_HEADER_NAME;
    size_t vs = nlen + 1, ve = n;
    while (vs < ve && is_ows(p[vs]))
        vs++;
    while (ve > vs && is_ows(p[ve - 1]))
        ve--;
    for (size_t i = vs; i < ve; i++)
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
            return SIO_ERR_HTTP_HEADER_VALUE;
    h->name = sio_span_of(p, nlen);
    h->value = sio_span_of(p + vs, ve - vs);
    return SIO_OK;
}

/* Decimal Content-Length; repeated fields (or "5, 5" lists) must all agree (RFC 9110 §8.6). */
sio_err sio__http_parse_content_length(sio_span v, bool *seen, uint64_t *out)
{
    size_t i = 0;
    do {
        while (i < v.len && (is_ows(v.ptr[i]) || v.ptr[i] == ','))
            i++;
        uint64_t n = 0;
        size_t digits = 0;
        while (i < v.len && v.ptr[i] >= '0' && v.ptr[i] <= '9') {
            if (n > (UINT64_MAX - 9) / 10)
                return SIO_ERR_HTTP_CONTENT_LENGTH;
            n = n * 10 + (uint64_t)(v.ptr[i++] - '0');
            digits++;
        }
        while (i < v.len && is_ows(v.ptr[i]))
            i++;
        if (digits == 0 || (i < v.len && v.ptr[i] != ',') || (*seen && n != *out))
            return SIO_ERR_HTTP_CONTENT_LENGTH;
        *seen = true;
        *out = n;
    } while (i < v.len);
    return SIO_OK;
}

sio_err sio__http_read_framing(const sio_http_header *headers, size_t count, bool *has_length,
                               uint64_t *content_length, bool *chunked)
{
    *has_length = *chunked = false;
    *content_length = 0;
    for (size_t i = 0; i < count; i++) {
        const sio_http_header *h = &headers[i];
        if (sio__http_span_equals_nocase(h->name, "content-length")) {
            sio_err rc = sio__http_parse_content_length(h->value, has_length, content_length);
            if (rc != SIO_OK)
                return rc;
        } else if (sio__http_span_equals_nocase(h->name, "transfer-encoding")) {
            if (*chunked || !sio__http_span_equals_nocase(h->value, "chunked"))
                return SIO_ERR_HTTP_TRANSFER_CODING;
            *chunked = true;
        }
    }
    return *has_length && *chunked ? SIO_ERR_HTTP_LENGTH_AND_CHUNKED : SIO_OK;
}

/* A request's body: none unless its fields declare one. */
static sio_err detect_body(sio_http_request *req)
{
    bool has_length, chunked;
    req->body = SIO_HTTP_BODY_NONE;
    sio_err rc = sio__http_read_framing(req->headers, req->header_count, &has_length,
                                        &req->content_length, &chunked);
    if (rc != SIO_OK)
        return rc;
    if (chunked)
        req->body = SIO_HTTP_BODY_CHUNKED;
    else if (has_length)
        req->body = SIO_HTTP_BODY_LENGTH;
    return SIO_OK;
}

/* Splits the complete head into lines and parses each. */
static sio_err parse_head(const uint8_t *buf, size_t head_len, const sio_http_limits *lim,
                          sio_http_request *req)
{
    size_t pos = (buf[0] == '\r') ? 2 : 0;
    size_t end = head_len - 2; /* the final empty line */
    bool first = true;
    while (pos < end) {
        const uint8_t *eol = memchr(buf + pos, '\r', end - pos);
        size_t n = (size_t)(eol - (buf + pos));
        sio_err rc;
        if (first) {
            rc = parse_request_line(buf + pos, n, lim, req);
            first = false;
        } else if (req->header_count >= lim->max_headers) {
            rc = SIO_ERR_HTTP_TOO_MANY_HEADERS;
        } else {
            rc = sio__http_parse_header_line(buf + pos, n, &req->headers[req->header_count++]);
        }
        if (rc != SIO_OK)
            return rc;
        pos += n + 2;
    }
    return detect_body(req);
}

sio_http_limits sio__http_effective_limits(const sio_http_limits *limits)
{
    sio_http_limits lim = {SIO_HTTP_DEFAULT_MAX_HEAD_BYTES, SIO_HTTP_MAX_HEADERS,
                           SIO_HTTP_DEFAULT_MAX_TARGET};
    if (limits != NULL) {
        if (limits->max_head_bytes)
            lim.max_head_bytes = limits->max_head_bytes;
        if (limits->max_headers && limits->max_headers < SIO_HTTP_MAX_HEADERS)
            lim.max_headers = limits->max_headers;
        if (limits->max_target)
            lim.max_target = limits->max_target;
    }
    return lim;
}

/* While the head is incomplete: a request line that has fully arrived is checked at once, so a
 * peer sending garbage is refused without waiting for a blank line that may never come. */
static sio_err check_early_request_line(const uint8_t *buf, size_t len, const sio_http_limits *lim)
{
    size_t start = (len >= 2 && buf[0] == '\r' && buf[1] == '\n') ? 2 : 0;
    const uint8_t *eol = len > start ? memchr(buf + start, '\n', len - start) : NULL;
    if (eol == NULL)
        return SIO_OK;
    size_t n = (size_t)(eol - (buf + start));
    if (n == 0 || buf[start + n - 1] != '\r')
        return SIO_ERR_HTTP_BARE_CR_OR_LF;
    sio_http_request scratch;
    return parse_request_line(buf + start, n - 1, lim, &scratch);
}

sio_err sio_http_request_parse(sio_http_parser *ps, const uint8_t *buf, size_t len,
                               const sio_http_limits *limits, sio_http_request *req)
{
    if (ps == NULL || req == NULL || (buf == NULL && len > 0))
        return SIO_ERR_INVALID_ARGUMENT;
    sio_http_limits lim = sio__http_effective_limits(limits);
    memset(req, 0, sizeof *req);
    size_t head_len =
        sio__http_find_head_end(ps, buf, len < lim.max_head_bytes ? len : lim.max_head_bytes, true);
    if (head_len == 0) {
        sio_err rc = check_early_request_line(
            buf, len < lim.max_head_bytes ? len : lim.max_head_bytes, &lim);
        if (rc != SIO_OK)
            return rc;
        return len >= lim.max_head_bytes ? SIO_ERR_HTTP_HEAD_TOO_LARGE : SIO_OK;
    }
    /* The request line is judged first, exactly as when it arrives before the rest of the head,
     * so the error does not depend on how the bytes were split into reads. */
    sio_err rc = check_early_request_line(buf, head_len, &lim);
    if (rc == SIO_OK)
        rc = sio__http_check_line_endings(buf, head_len);
    if (rc == SIO_OK)
        rc = parse_head(buf, head_len, &lim, req);
    if (rc != SIO_OK) {
        memset(req, 0, sizeof *req);
        return rc;
    }
    req->head_len = head_len;
    return SIO_OK;
}
