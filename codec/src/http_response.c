/* HTTP/1.1 response heads and chunked bodies, as a client receives them. See sio/http.h. */
#include <string.h>

#include "http_internal.h"

/* "HTTP/1.x SP 3DIGIT [SP reason]": the reason is any visible text, spaces and tabs. */
static sio_err parse_status_line(const uint8_t *p, size_t n, sio_http_response *resp)
{
    if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
        return SIO_ERR_HTTP_STATUS_LINE;
    int status = 0;
    for (size_t i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9')
            return SIO_ERR_HTTP_STATUS_LINE;
        status = status * 10 + (p[i] - '0');
    }
    if (status < 100 || (n > 12 && p[12] != ' '))
        return SIO_ERR_HTTP_STATUS_LINE;
    size_t rs = n > 12 ? 13 : 12;
    for (size_t i = rs; i < n; i++)
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
            return SIO_ERR_HTTP_STATUS_LINE;
    resp->version_minor = p[7] - '0';
    resp->status = status;
    resp->reason = sio_span_of(p + rs, n - rs);
    return SIO_OK;
}

/* RFC 9112 §6.3: no body for 1xx, 204 and 304; then Transfer-Encoding, Content-Length, or the
 * rest of the connection. */
static sio_err detect_body(sio_http_response *resp)
{
    bool has_length, chunked;
    resp->body = SIO_HTTP_BODY_UNTIL_CLOSE;
    sio_err rc = sio__http_read_framing(resp->headers, resp->header_count, &has_length,
                                        &resp->content_length, &chunked);
    if (rc != SIO_OK)
        return rc;
    if (resp->status < 200 || resp->status == 204 || resp->status == 304)
        resp->body = SIO_HTTP_BODY_NONE;
    else if (chunked)
        resp->body = SIO_HTTP_BODY_CHUNKED;
    else if (has_length)
        resp->body = SIO_HTTP_BODY_LENGTH;
    return SIO_OK;
}

static sio_err parse_head(const uint8_t *buf, size_t head_len, const sio_http_limits *lim,
                          sio_http_response *resp)
{
    size_t pos = 0, end = head_len - 2; /* the final empty line */
    while (pos < end) {
        const uint8_t *eol = memchr(buf + pos, '\r', end - pos);
        size_t n = (size_t)(eol - (buf + pos));
        sio_err rc;
        if (pos == 0)
            rc = parse_status_line(buf, n, resp);
        else if (resp->header_count >= lim->max_headers)
            rc = SIO_ERR_HTTP_TOO_MANY_HEADERS;
        else
            rc = sio__http_parse_header_line(buf + pos, n, &resp->headers[resp->header_count++]);
        if (rc != SIO_OK)
            return rc;
        pos += n + 2;
    }
    return detect_body(resp);
}

/* The status line as soon as it has arrived, so a peer that is not an HTTP server is found out
 * without waiting for a blank line that may never come. */
static sio_err check_early_status_line(const uint8_t *buf, size_t len)
{
    if (len == 0)
        return SIO_OK; /* nothing yet (buf may be NULL) */
    const uint8_t *eol = memchr(buf, '\n', len);
    if (eol == NULL) /* what has come must at least start like a status line */
        return memcmp(buf, "HTTP/1.", len < 7 ? len : 7) != 0 ? SIO_ERR_HTTP_STATUS_LINE : SIO_OK;
    size_t n = (size_t)(eol - buf);
    if (n == 0 || buf[n - 1] != '\r')
        return SIO_ERR_HTTP_BARE_CR_OR_LF;
    sio_http_response scratch;
    return parse_status_line(buf, n - 1, &scratch);
}

sio_err sio_http_response_parse(sio_http_parser *ps, const uint8_t *buf, size_t len,
                                const sio_http_limits *limits, sio_http_response *resp)
{
    if (ps == NULL || resp == NULL || (buf == NULL && len > 0))
        return SIO_ERR_INVALID_ARGUMENT;
    sio_http_limits lim = sio__http_effective_limits(limits);
    memset(resp, 0, sizeof *resp);
    size_t avail = len < lim.max_head_bytes ? len : lim.max_head_bytes;
    size_t head_len = sio__http_find_head_end(ps, buf, avail, false);
    sio_err rc = check_early_status_line(buf, head_len ? head_len : avail);
    if (head_len == 0)
        return rc != SIO_OK ? rc : len >= lim.max_head_bytes ? SIO_ERR_HTTP_HEAD_TOO_LARGE : SIO_OK;
    if (rc == SIO_OK)
        rc = sio__http_check_line_endings(buf, head_len);
    if (rc == SIO_OK)
        rc = parse_head(buf, head_len, &lim, resp);
    if (rc != SIO_OK) {
        memset(resp, 0, sizeof *resp);
        return rc;
    }
    resp->head_len = head_len;
    return SIO_OK;
}
