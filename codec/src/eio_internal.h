/* Helpers shared by the Engine.IO sources (not part of the public API). */
#ifndef SIO_EIO_INTERNAL_H
#define SIO_EIO_INTERNAL_H

#include <string.h>

#include "copy_internal.h"
#include "sio/eio.h"

/* An output cursor that keeps counting past `cap`, so one pass both writes (when everything
 * fits) and measures (when it does not). */
typedef struct eio_out {
    uint8_t *buf;
    size_t cap;
    size_t len;
} eio_out;

static inline eio_out eio_out_make(uint8_t *buf, size_t cap)
{
    eio_out w;
    w.buf = buf;
    w.cap = buf ? cap : 0;
    w.len = 0;
    return w;
}

static inline void eio_put(eio_out *w, const void *p, size_t n)
{
    if (n && w->len <= w->cap && n <= w->cap - w->len)
        sio__copy(w->buf + w->len, p, n);
    w->len += n;
}

static inline void eio_put_byte(eio_out *w, uint8_t b)
{
    if (w->len < w->cap)
        w->buf[w->len] = b;
    w->len++;
}

/* Space for n more bytes at the cursor, or NULL when they do not fit (the caller then only
 * advances the count). */
static inline uint8_t *eio_room(eio_out *w, size_t n)
{
    return (w->len <= w->cap && n <= w->cap - w->len) ? w->buf + w->len : NULL;
}

/* SIO_OK or SIO_ERR_BUFFER_TOO_SMALL, with *written = bytes produced or needed. */
static inline sio_err eio_out_finish(const eio_out *w, size_t *written)
{
    *written = w->len;
    return w->len > w->cap ? SIO_ERR_BUFFER_TOO_SMALL : SIO_OK;
}

/* sio_eio_packet_decode of a text record (SIO_EIO_FRAME_RECORD, `opt` not NULL) that the caller
 * has validated as UTF-8 already, as part of a whole body: the same result without a second
 * UTF-8 pass. */
sio_err sio__eio_record_decode_utf8(int protocol, const uint8_t *p, size_t n,
                                    const sio_eio_options *opt, sio_eio_packet *out);

/* Decimal digits of v, written most significant first. */
static inline void eio_put_decimal(eio_out *w, uint64_t v)
{
    uint8_t tmp[20];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (uint8_t)('0' + v % 10);
        v /= 10;
    } while (v);
    eio_put(w, tmp + i, sizeof tmp - i);
}

static inline size_t eio_max_records(const sio_eio_options *o)
{
    return o->max_records ? o->max_records : SIO_EIO_DEFAULT_MAX_RECORDS;
}

/* What sio_eio_packet_encode writes for n bytes of data in encoding `enc` when it accepts them,
 * computed without checking them, so a caller sizes its buffer and encodes in one pass. */
size_t sio__eio_packet_encoded_len(int protocol, sio_eio_encoding enc, size_t n);

/* At least what sio_eio_payload_encode writes for these packets in any format, from their
 * lengths alone (no byte is read), so a session sizes a payload's buffer and encodes it in one
 * pass, the packets checked once. */
size_t sio__eio_payload_bound(const sio_eio_packet *pkts, size_t count);

/* Writes `data` base64-encoded at the cursor. */
void sio__eio_put_base64(eio_out *w, const uint8_t *data, size_t n);

/* Writes one packet as a text record: '<digit><text>' or, for binary packets, v4 'b<base64>' /
 * v3 'b<digit><base64>'. Shared by the v4 and v3 text payload encoders. */
sio_err sio__eio_put_text_record(eio_out *w, int protocol, const sio_eio_packet *pkt);

/* Length in bytes and in UTF-16 code units of what sio__eio_put_text_record writes. */
sio_err sio__eio_text_record_size(int protocol, const sio_eio_packet *pkt, size_t *bytes,
                                  size_t *units);

#endif
