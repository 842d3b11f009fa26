/* HTTP/1.1 request heads (RFC 9112 §2-§6), as a Socket.IO server receives them.
 *
 * Only what an Engine.IO server needs: the request line, the header fields, the body framing
 * (Content-Length or chunked) and lookups in the query string and the headers. Responses are
 * written by the server itself; they are plain text with a fixed shape.
 *
 * Incremental: call sio_http_request_parse with everything received so far each time more bytes
 * arrive. It returns SIO_OK with head_len = 0 while the blank line that ends the head has not been
 * seen, and remembers in the parser how far it has already searched, so feeding a head in n pieces
 * costs O(total length). Once the head is complete every field is a view (sio_span) into the
 * caller's buffer; the buffer must stay unchanged while the views are used.
 *
 * Strict: lines end with CRLF (a bare CR or LF is rejected), no obs-fold, header names are tokens,
 * values hold no control byte other than HTAB, the request-target is origin-form ("/path?query")
 * or "*", and the version is HTTP/1.0 or HTTP/1.1. One leading empty line is skipped, as RFC 9112
 * §2.2 allows.
 */
#ifndef SIO_HTTP_H
#define SIO_HTTP_H

#include "sio/common.h"

/* ------------------------------------------------------------------ limits */

/* Request line + headers + the blank line; a longer head is SIO_ERR_HTTP_HEAD_TOO_LARGE. */
#define SIO_HTTP_DEFAULT_MAX_HEAD_BYTES 8192u
/* Header lines kept per request (the size of sio_http_request.headers). */
#define SIO_HTTP_MAX_HEADERS 64u
/* Bytes of the request-target (path and query); a longer one is SIO_ERR_HTTP_TARGET_TOO_LONG. */
#define SIO_HTTP_DEFAULT_MAX_TARGET 4096u
/* Query parameter names are compared after percent-decoding into a buffer of this size; longer
 * names never match. */
#define SIO_HTTP_MAX_QUERY_NAME 64u

/* Zero fields mean the defaults above; max_headers above SIO_HTTP_MAX_HEADERS is capped to it. */
typedef struct sio_http_limits {
    size_t max_head_bytes;
    size_t max_headers;
    size_t max_target;
} sio_http_limits;

/* ------------------------------------------------------------------ request */

typedef struct sio_http_header {
    sio_span name;  /* token, as received (compare case-insensitively) */
    sio_span value; /* without leading/trailing spaces and tabs */
} sio_http_header;

typedef enum sio_http_body {
    SIO_HTTP_BODY_NONE = 0,   /* no Content-Length and no Transfer-Encoding: empty body */
    SIO_HTTP_BODY_LENGTH = 1, /* Content-Length bytes follow the head */
    SIO_HTTP_BODY_CHUNKED = 2 /* Transfer-Encoding: chunked */
} sio_http_body;

typedef struct sio_http_request {
    sio_span method;   /* e.g. "GET" (case-sensitive token) */
    sio_span target;   /* the whole request-target */
    sio_span path;     /* target up to '?' */
    sio_span query;    /* after '?', without it (empty when absent) */
    bool has_query;    /* a '?' was present */
    int version_minor; /* 0 or 1 */
    sio_http_header headers[SIO_HTTP_MAX_HEADERS];
    size_t header_count;
    size_t head_len;         /* bytes of the head including its final CRLF CRLF; 0 = incomplete */
    sio_http_body body;      /* framing of the body that follows the head */
    uint64_t content_length; /* when body == SIO_HTTP_BODY_LENGTH */
} sio_http_request;

/* Search state kept between calls for the same request; zero it (sio_http_parser_init) for each
 * new request. */
typedef struct sio_http_parser {
    size_t scanned; /* bytes already known not to end the head */
} sio_http_parser;

SIO_API void sio_http_parser_init(sio_http_parser *ps);

/* Parses the head at the start of buf[0..len). SIO_OK with req->head_len > 0: complete (the body,
 * if any, starts at buf + head_len). SIO_OK with req->head_len == 0: more bytes are needed.
 * `limits` may be NULL. Errors: SIO_ERR_HTTP_* (the request must be refused with 400, or 431 for
 * SIO_ERR_HTTP_HEAD_TOO_LARGE / SIO_ERR_HTTP_TOO_MANY_HEADERS, 414 for
 * SIO_ERR_HTTP_TARGET_TOO_LONG, 501 for SIO_ERR_HTTP_TRANSFER_CODING). A head that cannot fit
 * in max_head_bytes is rejected as soon as that many bytes arrived without its end, and a bad
 * request line as soon as its line ending has arrived. */
SIO_API sio_err sio_http_request_parse(sio_http_parser *ps, const uint8_t *buf, size_t len,
                                       const sio_http_limits *limits, sio_http_request *req);

/* ------------------------------------------------------------------ lookups */

/* The last header named `name` (ASCII, compared case-insensitively), or NULL. */
SIO_API const sio_http_header *sio_http_header_find(const sio_http_request *req, const char *name);

/* True when some header named `name` holds `token` as one element of its comma-separated list
 * (case-insensitive), e.g. Connection: keep-alive, Upgrade. */
SIO_API bool sio_http_header_has_token(const sio_http_request *req, const char *name,
                                       const char *token);

/* Raw (still percent-encoded) value of the first query parameter whose percent-decoded name is
 * `name`. "a" without '=' has an empty value. SIO_ERR_HTTP_NOT_FOUND when absent. */
SIO_API sio_err sio_http_query_raw(sio_span query, const char *name, sio_span *value);

/* Percent-decodes `in` ("%41" -> 'A'; '+' -> ' ' when plus_is_space, as in form-encoded query
 * strings). The result is never longer than the input. Errors: SIO_ERR_HTTP_PERCENT_ESCAPE and the
 * encoder conventions of sio/common.h. */
SIO_API sio_err sio_http_percent_decode(sio_span in, bool plus_is_space, uint8_t *out, size_t cap,
                                        size_t *written);

/* sio_http_query_raw followed by sio_http_percent_decode (with '+' as space). */
SIO_API sio_err sio_http_query_get(sio_span query, const char *name, uint8_t *out, size_t cap,
                                   size_t *written);

#endif
