/* What the Socket.IO sessions (server and client side) share: the inbox that assembles binary
 * packets from copies of their messages, and packet encoding into allocated memory. */
#include "pkt_internal.h"
#include "session_internal.h"

/* Slots and the copy table exist only once a binary packet has come: a connection that never
 * receives one does not pay for them. */
sio_err sio__inbox_init(sio__pkt_inbox *in, const sio_allocator *a, int protocol,
                        uint32_t max_attachments)
{
    (void)a;
    memset(in, 0, sizeof *in);
    sio__inbox_restart(in, protocol, max_attachments);
    return SIO_OK;
}

/* The assembler for a text message: with slots for a binary packet, without for any other (its
 * type byte says which, and only binary packets use slots). */
static sio_err start_assembler(sio__pkt_inbox *in, uint32_t max_attachments, bool binary)
{
    sio_pkt_options opt = in->assembler.opt;
    opt.max_attachments = binary ? max_attachments : 0;
    return sio_pkt_assembler_init(&in->assembler, &opt, binary ? in->slots : NULL,
                                  binary ? max_attachments : 0);
}

void sio__inbox_restart(sio__pkt_inbox *in, int protocol, uint32_t max_attachments)
{
    (void)max_attachments;
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    opt.protocol = protocol;
    opt.max_attachments = 0;
    sio_pkt_assembler_init(&in->assembler, &opt, NULL, 0);
}

static sio_err make_room(sio__pkt_inbox *in, const sio_allocator *a, uint32_t max_attachments)
{
    if (in->slots)
        return SIO_OK;
    in->slots = sio__mem(a, NULL, (max_attachments + 1) * sizeof *in->slots);
    in->copies = sio__mem(a, NULL, (max_attachments + 1) * sizeof *in->copies);
    return in->slots && in->copies ? SIO_OK : SIO_ERR_NO_MEMORY;
}

void sio__inbox_drop(sio__pkt_inbox *in, const sio_allocator *a)
{
    for (uint32_t i = 0; in->copies && i < in->copy_count; i++)
        sio__mem(a, in->copies[i], 0);
    in->copy_count = 0;
    in->release = false;
}

static uint8_t *copy_bytes(sio__pkt_inbox *in, const sio_allocator *a, const uint8_t *p, size_t n)
{
    uint8_t *c = sio__mem(a, NULL, n ? n : 1);
    if (c) {
        if (n) /* an empty attachment may come with p == NULL */
            memcpy(c, p, n);
        in->copies[in->copy_count++] = c;
    }
    return c;
}

/* The text of a binary packet is copied and fed again from the copy; the attachments after it
 * are copied as they come (SIO-PKT-12). */
sio_err sio__inbox_feed(sio__pkt_inbox *in, const sio_allocator *a, uint32_t max_attachments,
                        bool binary, const uint8_t *p, size_t n, bool *complete)
{
    if (in->release)
        sio__inbox_drop(in, a);
    if (!binary && in->assembler.state != SIO_PKT_ASM_WAITING) {
        bool binary_packet = n > 0 && (p[0] == '5' || p[0] == '6');
        sio_err rc = binary_packet ? make_room(in, a, max_attachments) : SIO_OK;
        if (rc == SIO_OK)
            rc = start_assembler(in, max_attachments, binary_packet);
        if (rc != SIO_OK)
            return rc;
    }
    if (!binary) {
        sio_err rc = sio_pkt_assembler_text(&in->assembler, p, n, complete, NULL);
        if (rc != SIO_OK || *complete)
            return rc;
        uint8_t *text = copy_bytes(in, a, p, n);
        if (!text)
            return SIO_ERR_NO_MEMORY;
        sio_pkt_options opt = in->assembler.opt;
        sio_pkt_assembler_init(&in->assembler, &opt, in->slots, max_attachments);
        return sio_pkt_assembler_text(&in->assembler, text, n, complete, NULL);
    }
    const uint8_t *bytes = p;
    if (in->copy_count > 0 && in->assembler.state == SIO_PKT_ASM_WAITING) {
        bytes = copy_bytes(in, a, p, n);
        if (!bytes)
            return SIO_ERR_NO_MEMORY;
    }
    return sio_pkt_assembler_binary(&in->assembler, bytes, n, complete, NULL);
}

void sio__inbox_result(sio__pkt_inbox *in, sio_pkt *pkt, const sio_span **attachments,
                       uint32_t *count)
{
    sio_pkt_assembler_result(&in->assembler, pkt, attachments, count);
    in->release = in->copy_count > 0;
}

void sio__inbox_free(sio__pkt_inbox *in, const sio_allocator *a)
{
    if (in->copies)
        sio__inbox_drop(in, a);
    sio__mem(a, in->copies, 0);
    sio__mem(a, in->slots, 0);
    in->copies = NULL;
    in->slots = NULL;
}

sio_err sio__pkt_encode_alloc(const sio_allocator *a, const sio_pkt *pkt, int protocol,
                              uint8_t **out, size_t *len)
{
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    opt.protocol = protocol;
    if (pkt->attachments > opt.max_attachments)
        opt.max_attachments = pkt->attachments;
    /* Sized from the fields, so the payload is checked once, while it is written. Without
     * memory, a check-only pass still gives a refused packet its own error first. */
    size_t need = sio__pkt_encoded_len(pkt), ignored;
    *out = sio__mem(a, NULL, need);
    if (!*out) {
        sio_err rc = sio_pkt_encode(pkt, &opt, NULL, 0, &ignored);
        return rc != SIO_OK && rc != SIO_ERR_BUFFER_TOO_SMALL ? rc : SIO_ERR_NO_MEMORY;
    }
    sio_err rc = sio_pkt_encode(pkt, &opt, *out, need, len);
    if (rc != SIO_OK) {
        sio__mem(a, *out, 0);
        *out = NULL;
    }
    return rc;
}
