/* Shared by the Engine.IO fuzz targets: the options byte, and comparing packets by meaning
 * (type, text or binary, and the bytes carried, with base64 decoded). */
#ifndef FUZZ_EIO_CHECK_H
#define FUZZ_EIO_CHECK_H

#include "fuzz_common.h"
#include "sio/eio.h"

#include <stdlib.h>
#include <string.h>

/* What a packet means, independent of how it was written. `bytes` is malloc'd. */
typedef struct eio_meaning {
    sio_eio_type type;
    bool binary;
    uint8_t *bytes;
    size_t len;
} eio_meaning;

/* Binary packets are compared by their bytes: base64 text is decoded (leniently in compat). */
static inline eio_meaning eio_meaning_of(const sio_eio_packet *pkt, bool compat)
{
    eio_meaning m = {pkt->type, pkt->binary, NULL, 0};
    size_t need = pkt->data.len;
    if (pkt->binary) {
        sio_err e = sio_eio_packet_binary(pkt, compat, NULL, 0, &need);
        FUZZ_ASSERT(e == SIO_OK || e == SIO_ERR_BUFFER_TOO_SMALL,
                    "eio: cannot size a binary packet");
    }
    m.bytes = malloc(need + 1);
    if (!m.bytes)
        abort();
    if (pkt->binary)
        FUZZ_ASSERT(sio_eio_packet_binary(pkt, compat, m.bytes, need, &m.len) == SIO_OK,
                    "eio: decoded binary packet has no bytes");
    else if (need)
        memcpy(m.bytes, pkt->data.ptr, need);
    if (!pkt->binary)
        m.len = need;
    return m;
}

static inline bool eio_same_meaning(const eio_meaning *a, const eio_meaning *b)
{
    return a->type == b->type && a->binary == b->binary && a->len == b->len &&
           (a->len == 0 || memcmp(a->bytes, b->bytes, a->len) == 0);
}

/* Whether two packets mean the same (eio_meaning_of both, then eio_same_meaning); two text
 * packets are compared in place, without copies. */
static inline bool eio_same_packet(const sio_eio_packet *a, const sio_eio_packet *b, bool compat)
{
    if (!a->binary && !b->binary)
        return a->type == b->type && a->data.len == b->data.len &&
               (a->data.len == 0 || memcmp(a->data.ptr, b->data.ptr, a->data.len) == 0);
    eio_meaning x = eio_meaning_of(a, compat), y = eio_meaning_of(b, compat);
    bool same = eio_same_meaning(&x, &y);
    free(x.bytes);
    free(y.bytes);
    return same;
}

/* A packet built from its meaning, ready for the encoders (raw bytes, no base64). */
static inline sio_eio_packet eio_packet_of(const eio_meaning *m)
{
    sio_eio_packet p;
    p.type = m->type;
    p.binary = m->binary;
    p.base64 = false;
    p.data = sio_span_of(m->bytes, m->len);
    return p;
}

#endif
