/* Chunked transfer coding (RFC 9112 §7.1), decoded incrementally. See sio/http.h.
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   last-chunk   = 1*("0") [ chunk-ext ] CRLF
 *
 * Sizes are at most 15 hex digits (2^60 - 1: beyond any body a client keeps); an extension is
 * skipped up to the end of its line, which must hold no control byte other than HTAB. Trailer
 * lines are checked the same way and dropped. */
#include <string.h>

#include "http_internal.h"

#define MAX_SIZE_DIGITS 15u

void sio_http_chunked_init(sio_http_chunked *d)
{
    memset(d, 0, sizeof *d);
    d->state = SIO_HTTP_CHUNKED_SIZE;
}

bool sio_http_chunked_done(const sio_http_chunked *d)
{
    return d->state == SIO_HTTP_CHUNKED_DONE;
}

static sio_err fail(sio_http_chunked *d, sio_err err)
{
    d->state = SIO_HTTP_CHUNKED_FAILED;
    d->error = err;
    return err;
}

/* One byte of a line (a size line or a trailer line). Returns SIO_OK and sets *line_done at the
 * LF that ends it. */
static sio_err line_byte(sio_http_chunked *d, uint8_t c, bool *line_done)
{
    *line_done = false;
    if (++d->line_len > SIO_HTTP_MAX_CHUNK_LINE)
        return SIO_ERR_HTTP_CHUNK_TOO_LONG;
    if (d->saw_cr) {
        if (c != '\n')
            return SIO_ERR_HTTP_CHUNK;
        *line_done = true;
        return SIO_OK;
    }
    if (c == '\r') {
        d->saw_cr = true;
        return SIO_OK;
    }
    if ((c < 0x20 && c != '\t') || c == 0x7f)
        return SIO_ERR_HTTP_CHUNK;
    if (d->state != SIO_HTTP_CHUNKED_SIZE || d->in_extension)
        return SIO_OK;
    int v = sio__http_hex_value(c);
    if (v < 0 || d->size_ended) { /* after the size: whitespace, then ';' and an extension */
        if (d->digits == 0 || (c != ';' && c != ' ' && c != '\t'))
            return SIO_ERR_HTTP_CHUNK;
        d->size_ended = true;
        d->in_extension = c == ';';
        return SIO_OK;
    }
    if (++d->digits > MAX_SIZE_DIGITS)
        return SIO_ERR_HTTP_CHUNK;
    d->remaining = d->remaining * 16u + (uint64_t)v;
    return SIO_OK;
}

static void start_line(sio_http_chunked *d)
{
    d->line_len = 0;
    d->saw_cr = false;
    d->in_extension = false;
    d->size_ended = false;
}

/* The size line ended: data follows, or the trailers after the last chunk. */
static sio_err size_line_done(sio_http_chunked *d)
{
    if (d->digits == 0)
        return SIO_ERR_HTTP_CHUNK;
    d->digits = 0;
    start_line(d);
    d->state = d->remaining ? SIO_HTTP_CHUNKED_DATA : SIO_HTTP_CHUNKED_TRAILER;
    return SIO_OK;
}

/* One byte outside chunk data. */
static sio_err step(sio_http_chunked *d, uint8_t c)
{
    bool line_done;
    sio_err rc;
    switch (d->state) {
    case SIO_HTTP_CHUNKED_SIZE:
        rc = line_byte(d, c, &line_done);
        return rc != SIO_OK || !line_done ? rc : size_line_done(d);
    case SIO_HTTP_CHUNKED_DATA_END: /* CRLF after the data */
        if (c != (d->saw_cr ? '\n' : '\r'))
            return SIO_ERR_HTTP_CHUNK;
        if (!d->saw_cr) {
            d->saw_cr = true;
            return SIO_OK;
        }
        start_line(d);
        d->state = SIO_HTTP_CHUNKED_SIZE;
        return SIO_OK;
    case SIO_HTTP_CHUNKED_TRAILER:
        if (++d->trailer_len > SIO_HTTP_MAX_TRAILER)
            return SIO_ERR_HTTP_CHUNK_TOO_LONG;
        rc = line_byte(d, c, &line_done);
        if (rc != SIO_OK || !line_done)
            return rc;
        if (d->line_len == 2) /* the empty line: the body is complete */
            d->state = SIO_HTTP_CHUNKED_DONE;
        start_line(d);
        return SIO_OK;
    default:
        return SIO_ERR_HTTP_CHUNK;
    }
}

sio_err sio_http_chunked_feed(sio_http_chunked *d, const uint8_t *data, size_t len,
                              size_t *consumed, sio_span *piece)
{
    *consumed = 0;
    *piece = sio_span_of(data, 0);
    if (d->state == SIO_HTTP_CHUNKED_FAILED)
        return d->error;
    size_t i = 0;
    while (i < len && d->state != SIO_HTTP_CHUNKED_DONE) {
        if (d->state == SIO_HTTP_CHUNKED_DATA) {
            size_t n = len - i < d->remaining ? len - i : (size_t)d->remaining;
            d->remaining -= n;
            if (d->remaining == 0) {
                d->state = SIO_HTTP_CHUNKED_DATA_END;
                d->saw_cr = false;
            }
            *piece = sio_span_of(data + i, n);
            *consumed = i + n;
            return SIO_OK;
        }
        sio_err rc = step(d, data[i++]);
        if (rc != SIO_OK) {
            *consumed = i;
            return fail(d, rc);
        }
    }
    *consumed = i;
    return SIO_OK;
}
