/* Fuzz target: one Socket.IO packet (sio_pkt_decode, sio_pkt_encode, sio_pkt_encode_eio_message
 * and sio_pkt_encode_eio_payload), protocol v5 and v4, strict and compat.
 *
 * Input: byte 0 = options (common/sio_check.h), then the packet text (the Engine.IO message
 * data, without its "4"). Oracles:
 *  - the Engine.IO message encoder writes "4" and the packet encoder's text, or refuses with
 *    the error the Engine.IO packet encoder gives that text;
 *  - the polling payload encoder writes, or refuses, what the Engine.IO v4 payload encoder does
 *    with that text and the packet's attachments (made up);
 *  - decode -> encode -> decode gives the same packet (SIO-PKT-01, 02, 04, 09, 16); a binary
 *    packet whose placeholders do not fit its attachment count is refused by the encoder with
 *    the error sio_pkt_check_placeholders gives;
 *  - strict input is canonical: re-encoding gives it back, except the accepted non-canonical
 *    namespace forms, "/," or a final "/" for the root and a final namespace with no comma;
 *  - an accepted payload is valid JSON and passes sio_pkt_check_payload for its type;
 *  - compat accepts every packet strict accepts, with the same fields;
 *  - the error offset lies inside the input. */
#include "sio_check.h"

#include "sio/eio.h"

#include <stdlib.h>

static uint8_t *encode(const sio_pkt *pkt, const sio_pkt_options *opt, size_t *len)
{
    size_t need = 0;
    sio_err e = sio_pkt_encode(pkt, opt, NULL, 0, &need);
    FUZZ_ASSERT(e == SIO_ERR_BUFFER_TOO_SMALL, "sio: encoder refused a decoded packet");
    uint8_t *out = malloc(need);
    if (!out)
        abort();
    FUZZ_ASSERT(sio_pkt_encode(pkt, opt, out, need, len) == SIO_OK && *len == need,
                "sio: encoder failed at the announced size");
    return out;
}

/* The one-pass Engine.IO message encoder writes "4" and the text sio_pkt_encode wrote, or refuses
 * the packet with the error sio_eio_packet_encode gives that text (a query that is not UTF-8). */
static void check_eio_message(const sio_pkt *pkt, const sio_pkt_options *opt, const uint8_t *text,
                              size_t tlen)
{
    size_t want_len = 0, need = 0;
    sio_err want =
        sio_eio_packet_encode(4, SIO_EIO_MESSAGE, SIO_EIO_ENC_TEXT, text, tlen, NULL, 0, &want_len);
    sio_err got = sio_pkt_encode_eio_message(pkt, opt, NULL, 0, &need);
    FUZZ_ASSERT(got == want, "sio: message encoder and packet + Engine.IO encoders disagree");
    if (got != SIO_ERR_BUFFER_TOO_SMALL)
        return;
    FUZZ_ASSERT(need == want_len && need == tlen + 1, "sio: message encoder sized differently");
    uint8_t *msg = malloc(need);
    if (!msg)
        abort();
    size_t mlen = 0;
    FUZZ_ASSERT(sio_pkt_encode_eio_message(pkt, opt, msg, need, &mlen) == SIO_OK && mlen == need,
                "sio: message encoder failed at the announced size");
    if (msg[0] != '4' || memcmp(msg + 1, text, tlen) != 0)
        fuzz_fail_diff("sio: message encoder wrote other bytes", text, tlen, msg + 1, mlen - 1);
    free(msg);
}

/* The one-pass payload encoder against the packet's text and its attachments (prefixes of the
 * text, of every length) given to sio_eio_payload_encode (v4): same error, or same bytes. */
static void check_eio_payload(const sio_pkt *pkt, const sio_pkt_options *opt, const uint8_t *text,
                              size_t tlen)
{
    enum { MAX_ATT = 16 };
    if (pkt->attachments > MAX_ATT)
        return;
    sio_span att[MAX_ATT];
    sio_eio_packet recs[MAX_ATT + 1];
    recs[0] = (sio_eio_packet){SIO_EIO_MESSAGE, false, false, sio_span_of(text, tlen)};
    for (uint32_t k = 0; k < pkt->attachments; k++) {
        att[k] = sio_span_of(text, k % (tlen + 1));
        recs[k + 1] = (sio_eio_packet){SIO_EIO_MESSAGE, true, false, att[k]};
    }
    size_t want_len = 0, need = 0, n = pkt->attachments;
    sio_err want = sio_eio_payload_encode(SIO_EIO_PAYLOAD_V4, recs, n + 1, NULL, 0, &want_len);
    sio_err got = sio_pkt_encode_eio_payload(pkt, 1, att, n, opt, NULL, 0, &need);
    FUZZ_ASSERT(got == want,
                "sio: payload encoder and packet + Engine.IO payload encoders disagree");
    if (got != SIO_ERR_BUFFER_TOO_SMALL)
        return;
    FUZZ_ASSERT(need == want_len, "sio: payload encoder sized differently");
    uint8_t *one = malloc(need), *two = malloc(need);
    if (!one || !two)
        abort();
    size_t onen = 0, twon = 0;
    FUZZ_ASSERT(sio_pkt_encode_eio_payload(pkt, 1, att, n, opt, one, need, &onen) == SIO_OK &&
                    onen == need,
                "sio: payload encoder failed at the announced size");
    FUZZ_ASSERT(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V4, recs, n + 1, two, need, &twon) == SIO_OK,
                "sio: Engine.IO payload encoder failed at the announced size");
    if (memcmp(one, two, need) != 0)
        fuzz_fail_diff("sio: payload encoder wrote other bytes", two, twon, one, onen);
    free(one);
    free(two);
}

/* True when `longer` is `shorter` with `ins` inserted at some offset. */
static bool is_insertion(const uint8_t *longer, size_t llen, const uint8_t *shorter, size_t slen,
                         const char *ins)
{
    size_t k = strlen(ins), i = 0;
    if (llen != slen + k)
        return false;
    while (i < slen && longer[i] == shorter[i])
        i++;
    return memcmp(longer + i, ins, k) == 0 && memcmp(longer + i + k, shorter + i, slen - i) == 0;
}

/* Strict accepts the root namespace written as "/," or as a final "/", and any other namespace
 * ending the packet without its comma; the encoder writes none of these forms. Nothing else may
 * change between the input and its re-encoding. */
static void check_canonical(const uint8_t *p, size_t n, const sio_pkt *pkt, const uint8_t *enc,
                            size_t elen)
{
    if (elen == n && memcmp(enc, p, n) == 0)
        return;
    bool root = pkt->nsp.len == 1 && pkt->nsp.ptr[0] == '/';
    bool comma_added = is_insertion(enc, elen, p, n, ",") && enc[elen - 1] == ',';
    static const char *const root_forms[] = {"/,", "/"};
    bool root_dropped = false;
    for (size_t i = 0; root && i < sizeof root_forms / sizeof *root_forms; i++)
        root_dropped |= is_insertion(p, n, enc, elen, root_forms[i]);
    bool ok = comma_added || root_dropped;
    if (!ok)
        fuzz_fail_diff("sio: strict packet is not canonical", p, n, enc, elen);
}

static void check_accepted(const uint8_t *p, size_t n, const sio_pkt_options *opt,
                           const sio_pkt *pkt)
{
    if (pkt->data.ptr) {
        sio_json_options jo = {opt->json_max_depth};
        FUZZ_ASSERT(sio_json_validate(pkt->data.ptr, pkt->data.len, &jo, NULL) == SIO_OK,
                    "sio: accepted payload is not valid JSON");
        FUZZ_ASSERT(sio_pkt_check_payload((int)pkt->type, pkt->data, opt) == SIO_OK,
                    "sio: accepted payload fails check_payload");
    }
    /* The decoder leaves placeholders to the assembler; the encoder checks them itself. */
    if (pkt->attachments > 0 && pkt->data.ptr) {
        sio_err pe = sio_pkt_check_placeholders(pkt->data, pkt->attachments, NULL);
        if (pe != SIO_OK) {
            size_t need = 0;
            FUZZ_ASSERT(sio_pkt_encode(pkt, opt, NULL, 0, &need) == pe,
                        "sio: encoder and check_placeholders disagree");
            FUZZ_ASSERT(sio_pkt_encode_eio_message(pkt, opt, NULL, 0, &need) == pe,
                        "sio: message encoder and check_placeholders disagree");
            sio_span empty[16] = {SIO_SPAN_NULL};
            if (pkt->attachments <= 16)
                FUZZ_ASSERT(sio_pkt_encode_eio_payload(pkt, 1, empty, pkt->attachments, opt, NULL,
                                                       0, &need) == pe,
                            "sio: payload encoder and check_placeholders disagree");
            return;
        }
    }
    size_t elen = 0;
    uint8_t *enc = encode(pkt, opt, &elen);
    check_eio_message(pkt, opt, enc, elen);
    check_eio_payload(pkt, opt, enc, elen);
    sio_pkt again;
    sio_err e = sio_pkt_decode(enc, elen, opt, &again, NULL);
    if (e != SIO_OK)
        fuzz_fail_diff("sio: decoder rejects the encoder's output", p, n, enc, elen);
    FUZZ_ASSERT(sio_pkt_same(pkt, &again), "sio: decode -> encode -> decode changed the packet");
    if (!opt->compat && opt->protocol == 5) /* v4 adds query-string forms; not checked */
        check_canonical(p, n, pkt, enc, elen);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    sio_pkt_options opt = sio_options_of(fuzz_take_u8(&in));
    sio_pkt pkt;
    size_t err_at = 0;
    sio_err e = sio_pkt_decode(in.p, in.n, &opt, &pkt, &err_at);
    fuzz_reached(e == SIO_OK);
    if (e != SIO_OK) {
        FUZZ_ASSERT(err_at <= in.n, "sio: error offset past the end");
        return 0;
    }
    check_accepted(in.p, in.n, &opt, &pkt);
    if (!opt.compat) {
        sio_pkt_options lax = opt;
        lax.compat = true;
        sio_pkt wide;
        FUZZ_ASSERT(sio_pkt_decode(in.p, in.n, &lax, &wide, NULL) == SIO_OK,
                    "sio: compat rejects a packet strict accepts");
        FUZZ_ASSERT(sio_pkt_same(&pkt, &wide), "sio: compat and strict decode differently");
    }
    return 0;
}
