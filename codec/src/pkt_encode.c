/* Socket.IO text packet encoder. It refuses anything the decoder would refuse under the same
 * options, so a packet this library sends always decodes back to itself. */
#include <string.h>

#include "copy_internal.h"
#include "pkt_internal.h"
#include "sio/base64.h"
#include "sio/eio.h"
#include "sio/utf8.h"

/* The checks and the writer are shared by the one-packet encoders and the payload encoder; they
 * stay inlined in each (a call apiece costs the one-packet encoders about 2%). */
#if defined(__GNUC__)
#define PKT_INLINE static inline __attribute__((always_inline))
#else
#define PKT_INLINE static inline
#endif

static bool is_root(sio_span nsp)
{
    return nsp.len == 0 || (nsp.len == 1 && nsp.ptr[0] == '/');
}

/* The type actually written: binary-ness follows the attachment count. */
PKT_INLINE sio_err wire_type(const sio_pkt *pkt, int *type)
{
    int t = (int)pkt->type;
    if (t < 0 || t > 6)
        return SIO_ERR_PKT_TYPE;
    bool event = t == SIO_PKT_EVENT || t == SIO_PKT_BINARY_EVENT;
    bool ack = t == SIO_PKT_ACK || t == SIO_PKT_BINARY_ACK;
    if (pkt->attachments > 0 && !event && !ack)
        return SIO_ERR_INVALID_ARGUMENT;
    if (event)
        t = pkt->attachments > 0 ? SIO_PKT_BINARY_EVENT : SIO_PKT_EVENT;
    if (ack)
        t = pkt->attachments > 0 ? SIO_PKT_BINARY_ACK : SIO_PKT_ACK;
    *type = t;
    return SIO_OK;
}

static sio_err check_namespace(const sio_pkt *pkt, int type, const sio_pkt_options *opt)
{
    if (pkt->query.len > 0 && (opt->protocol != 4 || type != SIO_PKT_CONNECT))
        return SIO_ERR_INVALID_ARGUMENT;
    if (is_root(pkt->nsp))
        return SIO_OK;
    if (pkt->nsp.ptr[0] != '/' || sio_utf8_validate(pkt->nsp.ptr, pkt->nsp.len, NULL) != SIO_OK)
        return SIO_ERR_PKT_NSP_INVALID;
    if (memchr(pkt->nsp.ptr, ',', pkt->nsp.len) ||
        (pkt->query.ptr && memchr(pkt->query.ptr, ',', pkt->query.len)))
        return SIO_ERR_PKT_NSP_COMMA;
    return SIO_OK;
}

PKT_INLINE sio_err check_fields(const sio_pkt *pkt, int type, const sio_pkt_options *opt)
{
    sio_err e = check_namespace(pkt, type, opt);
    if (e != SIO_OK)
        return e;
    if (pkt->attachments > opt->max_attachments)
        return SIO_ERR_PKT_TOO_MANY_ATTACHMENTS;
    bool is_ack = type == SIO_PKT_ACK || type == SIO_PKT_BINARY_ACK;
    bool may_have_id = is_ack || type == SIO_PKT_EVENT || type == SIO_PKT_BINARY_EVENT;
    if (pkt->has_id && pkt->id > SIO_PKT_ACK_ID_MAX)
        return SIO_ERR_PKT_ACK_ID_RANGE;
    if (pkt->has_id && !may_have_id && !opt->compat)
        return SIO_ERR_PKT_ACK_ID_UNEXPECTED;
    if (!pkt->has_id && is_ack && !opt->compat)
        return SIO_ERR_PKT_ACK_ID_MISSING;
    if (pkt->data.ptr) {
        if (pkt->data.len == 0)
            return SIO_ERR_INVALID_ARGUMENT;
        uint8_t b = pkt->data.ptr[0];
        if (b == ' ' || b == '\t' || b == '\n' || b == '\r')
            return SIO_ERR_PKT_PAYLOAD_SPACE;
        sio_json_options jo = {opt->json_max_depth};
        e = sio_json_validate(pkt->data.ptr, pkt->data.len, &jo, NULL);
        if (e != SIO_OK)
            return e;
        if (pkt->attachments > 0)
            e = sio__pkt_check_validated_placeholders(pkt->data, pkt->attachments, NULL);
        if (e != SIO_OK)
            return e;
    }
    return sio__pkt_check_validated_payload(type, pkt->data, opt);
}

static size_t decimal_digits(uint64_t v)
{
    size_t n = 1;
    for (; v >= 10; v /= 10)
        n++;
    return n;
}

/* Writes v in decimal at w; returns the end. */
static uint8_t *put_decimal(uint8_t *w, uint64_t v)
{
    size_t n = decimal_digits(v);
    for (size_t k = n; k-- > 0; v /= 10)
        w[k] = (uint8_t)('0' + v % 10);
    return w + n;
}

static uint8_t *put_bytes(uint8_t *w, const uint8_t *s, size_t n)
{
    if (n)
        memcpy(w, s, n);
    return w + n;
}

/* Mirrors the writes of write_text below, field by field. */
size_t sio__pkt_encoded_len(const sio_pkt *pkt)
{
    size_t n = 1; /* type */
    if (pkt->attachments > 0)
        n += decimal_digits(pkt->attachments) + 1;
    if (!is_root(pkt->nsp) || pkt->query.len > 0) {
        n += is_root(pkt->nsp) ? 1 : pkt->nsp.len;
        if (pkt->query.len > 0)
            n += 1 + pkt->query.len;
        n += 1;
    }
    if (pkt->has_id)
        n += decimal_digits(pkt->id);
    if (pkt->data.ptr)
        n += pkt->data.len;
    return n;
}

/* The text of an accepted packet, at w, which has room for sio__pkt_encoded_len bytes; returns
 * its end. */
PKT_INLINE uint8_t *write_text(uint8_t *w, const sio_pkt *pkt, int type)
{
    *w++ = (uint8_t)('0' + type);
    if (pkt->attachments > 0) {
        w = put_decimal(w, pkt->attachments);
        *w++ = '-';
    }
    if (!is_root(pkt->nsp) || pkt->query.len > 0) {
        if (is_root(pkt->nsp))
            *w++ = '/';
        else
            w = put_bytes(w, pkt->nsp.ptr, pkt->nsp.len);
        if (pkt->query.len > 0) {
            *w++ = '?';
            w = put_bytes(w, pkt->query.ptr, pkt->query.len);
        }
        *w++ = ',';
    }
    if (pkt->has_id)
        w = put_decimal(w, pkt->id);
    if (pkt->data.ptr) {
        sio__copy(w, pkt->data.ptr, pkt->data.len); /* long: see copy_internal.h */
        w += pkt->data.len;
    }
    return w;
}

/* An Engine.IO text message must be UTF-8 (sio_eio_packet_encode checks it). The namespace has
 * been checked and a validated JSON payload is UTF-8, so only the query is left; a comma follows
 * it in the text, so a character it leaves unfinished is an invalid byte there, not a truncated
 * text. */
static sio_err check_query_utf8(const sio_pkt *pkt)
{
    if (pkt->query.len == 0)
        return SIO_OK;
    sio_err e = sio_utf8_validate(pkt->query.ptr, pkt->query.len, NULL);
    return e == SIO_ERR_UTF8_TRUNCATED ? SIO_ERR_UTF8_INVALID : e;
}

static const sio_pkt_options *options_or_defaults(const sio_pkt_options *opt)
{
    static const sio_pkt_options defaults = {
        .protocol = 5, .compat = false, .max_attachments = SIO_PKT_MAX_ATTACHMENTS_DEFAULT};
    return opt ? opt : &defaults; /* what sio_pkt_options_init gives */
}

/* Everything sio_pkt_encode checks; *type gets the type written. */
PKT_INLINE sio_err check_packet(const sio_pkt *pkt, const sio_pkt_options *opt, int *type)
{
    sio_err e = wire_type(pkt, type);
    return e == SIO_OK ? check_fields(pkt, *type, opt) : e;
}

/* Checks everything first, so a refused packet gets its own error whatever the buffer, then
 * writes the Engine.IO message type when asked and the text in one pass. */
static sio_err encode(const sio_pkt *pkt, const sio_pkt_options *opt, bool eio_message,
                      uint8_t *out, size_t cap, size_t *written)
{
    opt = options_or_defaults(opt);
    int type;
    sio_err e = check_packet(pkt, opt, &type);
    if (e == SIO_OK && eio_message)
        e = check_query_utf8(pkt);
    if (e != SIO_OK)
        return e;
    size_t prefix = eio_message ? 1 : 0, need = prefix + sio__pkt_encoded_len(pkt);
    if (written)
        *written = need;
    if (!out || need > cap)
        return SIO_ERR_BUFFER_TOO_SMALL;
    if (eio_message)
        out[0] = (uint8_t)('0' + SIO_EIO_MESSAGE);
    write_text(out + prefix, pkt, type);
    return SIO_OK;
}

sio_err sio_pkt_encode(const sio_pkt *pkt, const sio_pkt_options *opt, uint8_t *out, size_t cap,
                       size_t *written)
{
    return encode(pkt, opt, false, out, cap, written);
}

sio_err sio_pkt_encode_eio_message(const sio_pkt *pkt, const sio_pkt_options *opt, uint8_t *out,
                                   size_t cap, size_t *written)
{
    return encode(pkt, opt, true, out, cap, written);
}

/* ------------------------------------------------------------------ a v4 polling payload */

#define EIO_SEPARATOR 0x1E

/* A v4 payload joins its records with 0x1E. Of a packet's text only the namespace and the query
 * can hold it: a validated payload cannot (JSON has no raw control characters). */
static bool has_separator(sio_span s)
{
    return s.len > 0 && memchr(s.ptr, EIO_SEPARATOR, s.len) != NULL;
}

/* What the Engine.IO payload encoder refuses in a packet's message: a query that is not UTF-8,
 * then the separator. */
static sio_err check_record(const sio_pkt *pkt)
{
    sio_err e = check_query_utf8(pkt);
    if (e == SIO_OK && (has_separator(pkt->nsp) || has_separator(pkt->query)))
        e = SIO_ERR_EIO_SEPARATOR_IN_TEXT;
    return e;
}

/* Every check: each packet's own (sio_pkt_encode's, met first in the two-step encoding), the
 * attachment list, then what the Engine.IO payload encoder refuses in each packet's record;
 * *need gets the payload's length. */
static sio_err check_payload_packets(const sio_pkt *pkts, size_t count, const sio_span *att,
                                     size_t natt, const sio_pkt_options *opt, size_t *need)
{
    size_t attachments = 0, n = count - 1; /* the separators between packets */
    for (size_t i = 0; i < count; i++) {
        int type;
        sio_err e = check_packet(&pkts[i], opt, &type);
        if (e != SIO_OK)
            return e;
        attachments += pkts[i].attachments;
        n += 1 + sio__pkt_encoded_len(&pkts[i]); /* "4" and the text */
    }
    if (attachments != natt)
        return SIO_ERR_INVALID_ARGUMENT;
    for (size_t k = 0; k < natt; k++) {
        if (!att[k].ptr && att[k].len)
            return SIO_ERR_INVALID_ARGUMENT;
        n += 2 + sio_base64_encoded_len(att[k].len); /* separator, "b" and the base64 */
    }
    for (size_t i = 0; i < count; i++) {
        sio_err e = check_record(&pkts[i]);
        if (e != SIO_OK)
            return e;
    }
    *need = n;
    return SIO_OK;
}

sio_err sio_pkt_encode_eio_payload(const sio_pkt *pkts, size_t count, const sio_span *att,
                                   size_t natt, const sio_pkt_options *opt, uint8_t *out,
                                   size_t cap, size_t *written)
{
    if (!written)
        return SIO_ERR_INVALID_ARGUMENT;
    *written = 0;
    /* Zero packets would be an empty body, which no v4 decoder accepts. */
    if (!pkts || count == 0 || (!att && natt))
        return SIO_ERR_INVALID_ARGUMENT;
    opt = options_or_defaults(opt);
    size_t need = 0;
    sio_err e = check_payload_packets(pkts, count, att, natt, opt, &need);
    if (e != SIO_OK)
        return e;
    *written = need;
    if (!out || need > cap)
        return SIO_ERR_BUFFER_TOO_SMALL;
    uint8_t *w = out;
    const sio_span *a = att;
    for (size_t i = 0; i < count; i++) {
        int type = 0;
        (void)wire_type(&pkts[i], &type);
        if (i)
            *w++ = EIO_SEPARATOR;
        *w++ = (uint8_t)('0' + SIO_EIO_MESSAGE);
        w = write_text(w, &pkts[i], type);
        for (uint32_t k = 0; k < pkts[i].attachments; k++, a++) {
            size_t len = sio_base64_encoded_len(a->len), wrote = 0;
            *w++ = EIO_SEPARATOR;
            *w++ = 'b';
            (void)sio_base64_encode(a->ptr, a->len, w, len, &wrote);
            w += len;
        }
    }
    return SIO_OK;
}
