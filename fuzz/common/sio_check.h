/* Shared by the Socket.IO fuzz targets: the options byte and packet comparison. */
#ifndef FUZZ_SIO_CHECK_H
#define FUZZ_SIO_CHECK_H

#include "fuzz_common.h"
#include "sio/packet.h"

#include <string.h>

/* Options byte: bit 0 protocol 4 (else 5), bit 1 compat, bits 2-3 max attachments
 * 10 (default) / 1 / 3 / 64. */
static inline sio_pkt_options sio_options_of(uint8_t b)
{
    static const uint32_t max_att[4] = {SIO_PKT_MAX_ATTACHMENTS_DEFAULT, 1, 3, 64};
    sio_pkt_options o;
    sio_pkt_options_init(&o);
    o.protocol = (b & 1u) ? 4 : 5;
    o.compat = (b >> 1) & 1u;
    o.max_attachments = max_att[(b >> 2) & 3u];
    return o;
}

static inline bool sio_span_same(sio_span a, sio_span b)
{
    if ((a.ptr == NULL) != (b.ptr == NULL) && (a.len || b.len))
        return false;
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Same packet, allowing 5/6 with no attachments to come back as 2/3 (the encoder's rule). */
static inline bool sio_pkt_same(const sio_pkt *a, const sio_pkt *b)
{
    sio_pkt_type ta = a->type, tb = b->type;
    if (a->attachments == 0 && (ta == SIO_PKT_BINARY_EVENT || ta == SIO_PKT_BINARY_ACK))
        ta = ta == SIO_PKT_BINARY_EVENT ? SIO_PKT_EVENT : SIO_PKT_ACK;
    if (b->attachments == 0 && (tb == SIO_PKT_BINARY_EVENT || tb == SIO_PKT_BINARY_ACK))
        tb = tb == SIO_PKT_BINARY_EVENT ? SIO_PKT_EVENT : SIO_PKT_ACK;
    return ta == tb && a->attachments == b->attachments && sio_span_same(a->nsp, b->nsp) &&
           sio_span_same(a->query, b->query) && a->has_id == b->has_id &&
           (!a->has_id || a->id == b->id) && (a->data.ptr == NULL) == (b->data.ptr == NULL) &&
           sio_span_same(a->data, b->data);
}

#endif
