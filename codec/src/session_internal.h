/* Memory and item lists shared by the sessions (not part of the public API). */
#ifndef SIO_SESSION_INTERNAL_H
#define SIO_SESSION_INTERNAL_H

#include <stdlib.h>
#include <string.h>

#include "sio/eio_server.h"
#include "sio/packet.h"

/* The session allocator, or libc when none was given (the only place the codec calls libc's
 * allocator, and only on behalf of a session). size 0 frees. */
static inline void *sio__mem(const sio_allocator *a, void *p, size_t size)
{
    if (a)
        return a->realloc(a->ctx, p, size);
    if (size == 0) {
        free(p);
        return NULL;
    }
    return realloc(p, size);
}

/* A v4 polling payload joins its records with 0x1E, so a text message holding that byte cannot
 * go into one (it would arrive as two records); over WebSocket it travels as it is (EIO-PKT-11). */
static inline bool sio__fits_polling(int protocol, bool binary, const uint8_t *p, size_t n)
{
    return protocol != 4 || binary || n == 0 || memchr(p, 0x1E, n) == NULL;
}

/* ------------------------------------------------------------------ Socket.IO (session_pkt.c) */

static inline bool sio__span_is(sio_span a, const char *b, size_t n)
{
    return a.len == n && (n == 0 || memcmp(a.ptr, b, n) == 0);
}

/* A packet's namespace as sessions keep it: an empty one is "/". */
static inline sio_span sio__nsp_name(sio_span nsp)
{
    return nsp.len == 0 ? sio_span_of("/", 1) : nsp;
}

/* Allocates the inbox's slots and copy table and starts its assembler. */
sio_err sio__inbox_init(sio__pkt_inbox *in, const sio_allocator *a, int protocol,
                        uint32_t max_attachments);
/* Starts the assembler again (a new connection, another protocol). */
void sio__inbox_restart(sio__pkt_inbox *in, int protocol, uint32_t max_attachments);
/* One Engine.IO message; *complete when a packet is ready (sio__inbox_result). */
sio_err sio__inbox_feed(sio__pkt_inbox *in, const sio_allocator *a, uint32_t max_attachments,
                        bool binary, const uint8_t *p, size_t n, bool *complete);
/* The completed packet; its views stay valid until the next feed. */
void sio__inbox_result(sio__pkt_inbox *in, sio_pkt *pkt, const sio_span **attachments,
                       uint32_t *count);
void sio__inbox_drop(sio__pkt_inbox *in, const sio_allocator *a); /* copies freed */
void sio__inbox_free(sio__pkt_inbox *in, const sio_allocator *a);

/* Encodes `pkt` under `protocol`'s rules into memory of `a` (*out, *len; freed by the caller). */
sio_err sio__pkt_encode_alloc(const sio_allocator *a, const sio_pkt *pkt, int protocol,
                              uint8_t **out, size_t *len);

/* An outgoing packet or an event of a session, with its bytes. */
struct sio_eio_item {
    sio_eio_item *next;
    uint8_t kind;    /* queue: sio_eio_type; events: the session's event type */
    uint8_t channel; /* events: sio_eio_channel */
    bool binary;
    uint16_t close_code;
    const char *content_type;
    size_t split; /* client REQUEST: data holds the target, then (from split) the body */
    size_t len;
    uint8_t data[];
};

static inline sio_eio_item *sio__item_new(const sio_allocator *a, uint8_t kind, size_t len)
{
    sio_eio_item *it = (sio_eio_item *)sio__mem(a, NULL, sizeof *it + len);
    if (it) {
        memset(it, 0, sizeof *it);
        it->kind = kind;
        it->len = len;
    }
    return it;
}

static inline void sio__list_push(sio_eio_item_list *l, sio_eio_item *it)
{
    if (l->tail)
        l->tail->next = it;
    else
        l->head = it;
    l->tail = it;
    l->count++;
}

static inline sio_eio_item *sio__list_pop(sio_eio_item_list *l)
{
    sio_eio_item *it = l->head;
    if (it) {
        l->head = it->next;
        if (!l->head)
            l->tail = NULL;
        l->count--;
    }
    return it;
}

static inline void sio__list_clear(const sio_allocator *a, sio_eio_item_list *l)
{
    sio_eio_item *it;
    while ((it = sio__list_pop(l)) != NULL)
        sio__mem(a, it, 0);
}

#endif
