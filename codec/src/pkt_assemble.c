/* Binary packet reconstruction: a text header announcing N attachments, then N binary messages.
 * The assembler only records views; the payload keeps its placeholders, and the attachment of
 * placeholder k is slot k, because attachments travel in placeholder order. */
#include <string.h>

#include "pkt_internal.h"
#include "sio/utf8.h"

sio_err sio_pkt_assembler_init(sio_pkt_assembler *a, const sio_pkt_options *opt, sio_span *slots,
                               size_t slot_cap)
{
    memset(a, 0, sizeof *a);
    if (opt)
        a->opt = *opt;
    else
        sio_pkt_options_init(&a->opt);
    if (slot_cap < a->opt.max_attachments || (slot_cap > 0 && !slots))
        return SIO_ERR_INVALID_ARGUMENT;
    a->slots = slots;
    a->slot_cap = slot_cap;
    a->state = SIO_PKT_ASM_IDLE;
    return SIO_OK;
}

static sio_err assembler_fail(sio_pkt_assembler *a, sio_err e)
{
    a->state = SIO_PKT_ASM_IDLE;
    a->received = 0;
    return e;
}

/* All attachments are in: only now can placeholder numbers be judged against the count. */
static sio_err assembler_finish(sio_pkt_assembler *a, bool *complete, size_t *err_at)
{
    size_t at = 0;
    sio_err e = sio__pkt_check_validated_placeholders(a->pkt.data, a->pkt.attachments, &at);
#ifdef MUTANT_PLACEHOLDER_NUM_IGNORED /* SIO-PKT-11: `num` is not checked (emit.c ignores it) */
    e = SIO_OK;
#endif
    if (e != SIO_OK) {
        if (err_at)
            *err_at = at;
        return assembler_fail(a, e);
    }
    a->state = SIO_PKT_ASM_COMPLETE;
    *complete = true;
    return SIO_OK;
}

static sio_err assembler_start(sio_pkt_assembler *a, bool *complete, size_t *err_at);

sio_err sio_pkt_assembler_text(sio_pkt_assembler *a, const uint8_t *p, size_t len, bool *complete,
                               size_t *err_at)
{
    *complete = false;
    if (a->state == SIO_PKT_ASM_WAITING)
        return assembler_fail(a, SIO_ERR_PKT_TEXT_DURING_BINARY);
    a->state = SIO_PKT_ASM_IDLE;
    a->received = 0;
    sio_err e = sio_pkt_decode(p, len, &a->opt, &a->pkt, err_at);
    if (e != SIO_OK)
        return assembler_fail(a, e);
    return assembler_start(a, complete, err_at);
}

sio_err sio_pkt_assembler_eio_message(sio_pkt_assembler *a, const uint8_t *p, size_t len,
                                      bool *complete, size_t *err_at)
{
    *complete = false;
    if (!p || len == 0 || p[0] != '4')
        return SIO_ERR_INVALID_ARGUMENT;
    sio_pkt pkt;
    if (a->state != SIO_PKT_ASM_WAITING &&
        sio_pkt_decode(p + 1, len - 1, &a->opt, &pkt, NULL) == SIO_OK) {
        /* A packet that decodes is UTF-8 from end to end (its header is ASCII but for the
         * namespace, which is checked, and its payload is JSON, which is UTF-8), so the
         * Engine.IO check of the text has nothing left to find. */
        a->pkt = pkt;
        a->received = 0;
        return assembler_start(a, complete, err_at);
    }
    /* Anything else takes the two steps, for their error and the state they leave: the
     * Engine.IO check of the text (its failure leaves the assembler as it was), then the text
     * into the assembler. */
    sio_err e = sio_utf8_validate(p + 1, len - 1, NULL);
    if (e != SIO_OK)
        return e;
    return sio_pkt_assembler_text(a, p + 1, len - 1, complete, err_at);
}

/* A text packet was decoded into a->pkt: complete, or waiting for its attachments. */
static sio_err assembler_start(sio_pkt_assembler *a, bool *complete, size_t *err_at)
{
    bool binary = a->pkt.type == SIO_PKT_BINARY_EVENT || a->pkt.type == SIO_PKT_BINARY_ACK;
    if (binary && a->pkt.attachments > a->slot_cap)
        return assembler_fail(a, SIO_ERR_PKT_TOO_MANY_ATTACHMENTS);
    if (binary && a->pkt.attachments > 0) {
        a->state = SIO_PKT_ASM_WAITING;
        return SIO_OK;
    }
    if (binary)
        return assembler_finish(a, complete, err_at); /* compat "50-": nothing to wait for */
    a->state = SIO_PKT_ASM_COMPLETE;
    *complete = true;
    return SIO_OK;
}

sio_err sio_pkt_assembler_binary(sio_pkt_assembler *a, const uint8_t *p, size_t len, bool *complete,
                                 size_t *err_at)
{
    *complete = false;
    if (a->state != SIO_PKT_ASM_WAITING)
        return assembler_fail(a, SIO_ERR_PKT_UNEXPECTED_BINARY);
    if (!p && len)
        return assembler_fail(a, SIO_ERR_INVALID_ARGUMENT);
    a->slots[a->received++] = sio_span_of(p, len);
    if (a->received < a->pkt.attachments)
        return SIO_OK;
    return assembler_finish(a, complete, err_at);
}

sio_err sio_pkt_assembler_result(const sio_pkt_assembler *a, sio_pkt *pkt,
                                 const sio_span **attachments, uint32_t *count)
{
    if (a->state != SIO_PKT_ASM_COMPLETE)
        return SIO_ERR_PKT_INCOMPLETE;
    if (pkt)
        *pkt = a->pkt;
    if (attachments)
        *attachments = a->slots;
    if (count)
        *count = a->received;
    return SIO_OK;
}
