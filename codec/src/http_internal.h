/* Pieces of HTTP/1.1 head parsing shared by the request and response parsers (codec internal). */
#ifndef SIO_HTTP_INTERNAL_H
#define SIO_HTTP_INTERNAL_H

#include "sio/http.h"

bool sio__http_span_equals_nocase(sio_span s, const char *lit);
/* The length of the head (through CRLF CRLF) at the start of buf, or 0 while it is incomplete;
 * resumes where the previous call of the same parser stopped. `skip_empty_line`: one leading
 * CRLF is not the end of an empty head (requests, RFC 9112 §2.2). */
size_t sio__http_find_head_end(sio_http_parser *ps, const uint8_t *buf, size_t len,
                               bool skip_empty_line);
/* Every CR is followed by LF and every LF preceded by CR. */
sio_err sio__http_check_line_endings(const uint8_t *p, size_t n);
/* One "name: value" line without its CRLF. */
sio_err sio__http_parse_header_line(const uint8_t *p, size_t n, sio_http_header *h);
/* A Content-Length value; repeated values must agree (*seen carries that across fields). */
sio_err sio__http_parse_content_length(sio_span v, bool *seen, uint64_t *out);
/* The body framing a head's fields declare (RFC 9112 §6.1-§6.3): Content-Length (*has_length,
 * *content_length) and Transfer-Encoding (*chunked; only a single "chunked" coding is
 * understood). Both at once are refused (SIO_ERR_HTTP_LENGTH_AND_CHUNKED: smuggling). */
sio_err sio__http_read_framing(const sio_http_header *headers, size_t count, bool *has_length,
                               uint64_t *content_length, bool *chunked);
/* The value of a hex digit, or -1. */
static inline int sio__http_hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
sio_http_limits sio__http_effective_limits(const sio_http_limits *limits);
/* The last header named `name` in headers[0..count), or NULL. */
const sio_http_header *sio__http_headers_find(const sio_http_header *headers, size_t count,
                                              const char *name);
bool sio__http_headers_have_token(const sio_http_header *headers, size_t count, const char *name,
                                  const char *token);

#endif
