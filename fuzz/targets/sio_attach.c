/* Fuzz target: Socket.IO attachment reconstruction (sio_pkt_assembler_*), a packet followed by
 * its binary Engine.IO messages (SIO-PKT-09..12).
 *
 * Input: byte 0 = options (common/sio_check.h), then messages separated by the 4 bytes
 * 00 FF 41 54 ("\0\xffAT"); each message is a kind byte (bit 0 set: binary, clear: text) and
 * its bytes. Oracles:
 *  - the assembler agrees, message by message (error, completion), with a one-shot model built
 *    from sio_pkt_decode and sio_pkt_check_placeholders over the same sequence;
 *  - a completed packet equals what sio_pkt_decode gives for its text, and its attachments are
 *    exactly the binary messages that followed, in order;
 *  - each text message, as an Engine.IO message ('4' before it), given to
 *    sio_pkt_assembler_eio_message and to its two steps (sio_eio_packet_decode, then
 *    sio_pkt_assembler_text) in two more assemblers: same error, offset, completion and state. */
#include "sio_check.h"

#include <stdlib.h>

#include "sio/eio.h"

#define MAX_SLOTS 64
static const uint8_t SEP[4] = {0x00, 0xFF, 'A', 'T'};

/* The one-shot model: what should happen to each message. */
typedef struct model {
    sio_pkt_options opt;
    sio_pkt pkt;
    const uint8_t *bins[MAX_SLOTS];
    size_t bin_lens[MAX_SLOTS];
    uint32_t received;
    bool waiting;
} model;

static sio_err model_text(model *m, const uint8_t *p, size_t n, bool *complete)
{
    *complete = false;
    if (m->waiting) {
        m->waiting = false;
        return SIO_ERR_PKT_TEXT_DURING_BINARY;
    }
    sio_err e = sio_pkt_decode(p, n, &m->opt, &m->pkt, NULL);
    if (e != SIO_OK)
        return e;
    m->received = 0;
    m->waiting = m->pkt.attachments > 0;
    bool binary_type = m->pkt.type == SIO_PKT_BINARY_EVENT || m->pkt.type == SIO_PKT_BINARY_ACK;
    if (!m->waiting && binary_type && m->pkt.data.ptr) {
        /* Zero attachments (compat): complete at once, so its placeholders are checked now. */
        e = sio_pkt_check_placeholders(m->pkt.data, 0, NULL);
        if (e != SIO_OK)
            return e;
    }
    *complete = !m->waiting;
    return SIO_OK;
}

static sio_err model_binary(model *m, const uint8_t *p, size_t n, bool *complete)
{
    *complete = false;
    if (!m->waiting)
        return SIO_ERR_PKT_UNEXPECTED_BINARY;
    m->bins[m->received] = p;
    m->bin_lens[m->received++] = n;
    if (m->received < m->pkt.attachments)
        return SIO_OK;
    m->waiting = false;
    sio_err e = m->pkt.data.ptr ? sio_pkt_check_placeholders(m->pkt.data, m->pkt.attachments, NULL)
                                : SIO_OK;
    *complete = e == SIO_OK;
    return e;
}

/* A completed packet must be the model's packet with the model's binaries, in order. */
static void check_result(const sio_pkt_assembler *a, const model *m)
{
    sio_pkt pkt;
    const sio_span *att = NULL;
    uint32_t count = 0;
    FUZZ_ASSERT(sio_pkt_assembler_result(a, &pkt, &att, &count) == SIO_OK,
                "sio attach: no result after completion");
    FUZZ_ASSERT(sio_pkt_same(&pkt, &m->pkt), "sio attach: packet differs from sio_pkt_decode");
    FUZZ_ASSERT(count == m->pkt.attachments, "sio attach: attachment count differs");
    for (uint32_t k = 0; k < count; k++)
        FUZZ_ASSERT(att[k].ptr == m->bins[k] && att[k].len == m->bin_lens[k],
                    "sio attach: attachment k is not the k-th binary message");
}

/* The one-step Engine.IO message and its two steps, side by side. */
typedef struct eio_pair {
    sio_pkt_assembler one, two;
    sio_span one_slots[MAX_SLOTS], two_slots[MAX_SLOTS];
} eio_pair;

static sio_err eio_then_text(sio_pkt_assembler *a, const uint8_t *p, size_t n, bool *done,
                             size_t *at)
{
    *done = false;
    sio_eio_packet ep;
    sio_err e = sio_eio_packet_decode(4, SIO_EIO_FRAME_WS_TEXT, p, n, NULL, &ep);
    if (e != SIO_OK)
        return e;
    return sio_pkt_assembler_text(a, ep.data.ptr, ep.data.len, done, at);
}

static void eio_pair_message(eio_pair *e, const uint8_t *msg, size_t n, bool binary)
{
    bool done_one = false, done_two = false;
    size_t at_one = 0, at_two = 0;
    sio_err got, want;
    if (binary) {
        got = sio_pkt_assembler_binary(&e->one, msg, n, &done_one, &at_one);
        want = sio_pkt_assembler_binary(&e->two, msg, n, &done_two, &at_two);
    } else {
        got = sio_pkt_assembler_eio_message(&e->one, msg, n, &done_one, &at_one);
        want = eio_then_text(&e->two, msg, n, &done_two, &at_two);
    }
    FUZZ_ASSERT(got == want, "sio attach: Engine.IO message in one step: another error");
    FUZZ_ASSERT(at_one == at_two, "sio attach: Engine.IO message in one step: another offset");
    FUZZ_ASSERT(done_one == done_two, "sio attach: Engine.IO message in one step: completion");
    FUZZ_ASSERT(e->one.state == e->two.state && e->one.received == e->two.received &&
                    sio_pkt_same(&e->one.pkt, &e->two.pkt),
                "sio attach: Engine.IO message in one step: another assembler state");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    model m;
    memset(&m, 0, sizeof m);
    m.opt = sio_options_of(fuzz_take_u8(&in));
    sio_span slots[MAX_SLOTS];
    sio_pkt_assembler a;
    FUZZ_ASSERT(sio_pkt_assembler_init(&a, &m.opt, slots, MAX_SLOTS) == SIO_OK,
                "sio attach: init failed");
    eio_pair *pair = malloc(sizeof *pair);
    /* Each text message again with '4' before it, kept while the assemblers view it. */
    uint8_t *eio_texts = malloc(2 * size + 1), *eio_next = eio_texts;
    FUZZ_ASSERT(pair && eio_texts, "sio attach: out of memory");
    FUZZ_ASSERT(sio_pkt_assembler_init(&pair->one, &m.opt, pair->one_slots, MAX_SLOTS) == SIO_OK &&
                    sio_pkt_assembler_init(&pair->two, &m.opt, pair->two_slots, MAX_SLOTS) ==
                        SIO_OK,
                "sio attach: init failed");
    bool reached = false, all_ok = true;
    while (in.n > 0) {
        size_t len = fuzz_find(in.p, in.n, SEP, sizeof SEP);
        bool binary = len > 0 && (in.p[0] & 1u);
        const uint8_t *msg = len > 0 ? in.p + 1 : in.p;
        size_t mlen = len > 0 ? len - 1 : 0;
        bool done = false, want_done = false;
        sio_err got = binary ? sio_pkt_assembler_binary(&a, msg, mlen, &done, NULL)
                             : sio_pkt_assembler_text(&a, msg, mlen, &done, NULL);
        sio_err want = binary ? model_binary(&m, msg, mlen, &want_done)
                              : model_text(&m, msg, mlen, &want_done);
        reached = true;
        all_ok &= got == SIO_OK;
        FUZZ_ASSERT(got == want, "sio attach: assembler and one-shot model disagree on an error");
        FUZZ_ASSERT(got != SIO_OK || done == want_done,
                    "sio attach: completion differs from the model");
        if (got == SIO_OK && done)
            check_result(&a, &m);
        if (binary) {
            eio_pair_message(pair, msg, mlen, true);
        } else {
            eio_next[0] = '4';
            memcpy(eio_next + 1, msg, mlen);
            eio_pair_message(pair, eio_next, mlen + 1, false);
            eio_next += mlen + 1;
        }
        size_t step = len + (len < in.n ? sizeof SEP : 0);
        in.p += step;
        in.n -= step;
    }
    if (reached)
        fuzz_reached(all_ok && !m.waiting);
    free(eio_texts);
    free(pair);
    return 0;
}
