/* HTTP/1.1 heads (RFC 9112 §2-§7): requests as a Socket.IO server receives them, responses and
 * chunked bodies as a Socket.IO client receives them.
 *
 * Only what Engine.IO needs: the request line or status line, the header fields, the body
 * framing (Content-Length, chunked, or, for a response, until the connection closes), a chunked
 * body decoder, and lookups in the query string and the headers. Requests and responses that a
 * peer sends are written by that peer itself; they are plain text with a fixed shape.
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
    SIO_HTTP_BODY_NONE = 0,       /* no body: a request with neither Content-Length nor
                                     Transfer-Encoding; a 1xx, 204 or 304 response */
    SIO_HTTP_BODY_LENGTH = 1,     /* Content-Length bytes follow the head */
    SIO_HTTP_BODY_CHUNKED = 2,    /* Transfer-Encoding: chunked */
    SIO_HTTP_BODY_UNTIL_CLOSE = 3 /* a response with neither: the body ends when the connection
                                     does (RFC 9112 §6.3 item 8) */
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

/* ------------------------------------------------------------------ response */

/* Longest chunk-size line (size, extensions, CRLF) and longest trailer line of a chunked body; a
 * longer one is SIO_ERR_HTTP_CHUNK_TOO_LONG. */
#define SIO_HTTP_MAX_CHUNK_LINE 1024u
/* Trailer bytes (all trailer lines and the final CRLF) of a chunked body; more is
 * SIO_ERR_HTTP_CHUNK_TOO_LONG. */
#define SIO_HTTP_MAX_TRAILER SIO_HTTP_DEFAULT_MAX_HEAD_BYTES

typedef struct sio_http_response {
    int version_minor; /* 0 or 1 */
    int status;        /* three digits, 100-999 */
    sio_span reason;   /* the reason phrase, possibly empty */
    sio_http_header headers[SIO_HTTP_MAX_HEADERS];
    size_t header_count;
    size_t head_len;         /* bytes of the head including its final CRLF CRLF; 0 = incomplete */
    sio_http_body body;      /* framing of the body that follows the head */
    uint64_t content_length; /* when body == SIO_HTTP_BODY_LENGTH */
} sio_http_response;

/* Parses the response head at the start of buf[0..len), as sio_http_request_parse does a
 * request (same parser state, limits and incremental contract; max_target is unused). The
 * status line is "HTTP/1.x SP 3DIGIT SP reason", the space before an empty reason optional;
 * SIO_ERR_HTTP_STATUS_LINE otherwise, as soon as the line has arrived. Body framing follows
 * RFC 9112 §6.3: none for 1xx, 204 and 304; chunked when Transfer-Encoding is "chunked" (any
 * other coding: SIO_ERR_HTTP_TRANSFER_CODING; with a Content-Length too:
 * SIO_ERR_HTTP_LENGTH_AND_CHUNKED); Content-Length; else until the connection closes. The
 * caller knows when a request had no body to answer (HEAD, a 101 switch) and ignores `body`. */
SIO_API sio_err sio_http_response_parse(sio_http_parser *ps, const uint8_t *buf, size_t len,
                                        const sio_http_limits *limits, sio_http_response *resp);

/* Where a chunked body decoder is (private to the decoder). */
typedef enum sio_http_chunked_state {
    SIO_HTTP_CHUNKED_SIZE = 0,     /* reading a chunk-size line */
    SIO_HTTP_CHUNKED_DATA = 1,     /* inside a chunk's data */
    SIO_HTTP_CHUNKED_DATA_END = 2, /* the CRLF after a chunk's data */
    SIO_HTTP_CHUNKED_TRAILER = 3,  /* trailer lines after the last chunk */
    SIO_HTTP_CHUNKED_DONE = 4,     /* the body is complete */
    SIO_HTTP_CHUNKED_FAILED = 5    /* an error was returned; every later call returns it */
} sio_http_chunked_state;

/* A chunked body decoder (RFC 9112 §7.1): chunk sizes in hexadecimal, extensions skipped,
 * trailers read and dropped. Plain data, no pointers: it may be copied. */
typedef struct sio_http_chunked {
    uint64_t remaining;   /* data bytes left in the current chunk */
    uint32_t line_len;    /* bytes of the current size or trailer line so far */
    uint32_t trailer_len; /* trailer bytes so far */
    uint8_t digits;       /* hex digits of the current size */
    bool size_ended;      /* whitespace or ';' came after the size digits */
    bool in_extension;    /* ';' came: an extension runs to the end of the line */
    bool saw_cr;          /* the line's CR arrived, its LF is due */
    sio_http_chunked_state state;
    sio_err error;
} sio_http_chunked;

SIO_API void sio_http_chunked_init(sio_http_chunked *d);

/* Reads from data[0..len) until it has a piece of body data or used everything: *piece is a view
 * into `data` (empty when nothing came), *consumed the bytes used. Call again with the rest until
 * *consumed reaches len or the body is done (sio_http_chunked_done; bytes after the body belong
 * to the next response). Errors are final: SIO_ERR_HTTP_CHUNK (a size that is not hexadecimal
 * or above 2^60, a missing CRLF after the data, a bad byte in a line),
 * SIO_ERR_HTTP_CHUNK_TOO_LONG (a line or the trailers past the bounds above). */
SIO_API sio_err sio_http_chunked_feed(sio_http_chunked *d, const uint8_t *data, size_t len,
                                      size_t *consumed, sio_span *piece);

SIO_API bool sio_http_chunked_done(const sio_http_chunked *d);

/* ------------------------------------------------------------------ lookups */

/* The last header named `name` (ASCII, compared case-insensitively), or NULL. */
SIO_API const sio_http_header *sio_http_header_find(const sio_http_request *req, const char *name);

/* True when some header named `name` holds `token` as one element of its comma-separated list
 * (case-insensitive), e.g. Connection: keep-alive, Upgrade. */
SIO_API bool sio_http_header_has_token(const sio_http_request *req, const char *name,
                                       const char *token);

/* The same two lookups in a response head. */
SIO_API const sio_http_header *sio_http_response_header_find(const sio_http_response *resp,
                                                             const char *name);
SIO_API bool sio_http_response_has_token(const sio_http_response *resp, const char *name,
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
