/* Engine.IO polling payload encoders: v4 (0x1E-joined), v3 text (length-prefixed in UTF-16
 * code units) and v3 XHR2 (binary framing). */
#include <string.h>

#include "eio_internal.h"
#include "sio/base64.h"
#include "sio/utf8.h"

#define EIO_SEPARATOR 0x1E
#define EIO_XHR2_END  0xFF

static sio_err check_packet(int protocol, const sio_eio_packet *pkt)
{
    if ((unsigned)pkt->type > SIO_EIO_NOOP || (!pkt->data.ptr && pkt->data.len))
        return SIO_ERR_INVALID_ARGUMENT;
    if (protocol == 4 && pkt->binary && pkt->type != SIO_EIO_MESSAGE)
        return SIO_ERR_INVALID_ARGUMENT;
    if (pkt->binary && !pkt->base64)
        return SIO_OK;
    /* Text, and base64 text copied as is, must be UTF-8 (v3 lengths count its characters); in v4
     * it must not hold the separator, or the record would come back as two. */
    sio_err rc = sio_utf8_validate(pkt->data.ptr, pkt->data.len, NULL);
    if (rc == SIO_OK && protocol == 4 && pkt->data.len &&
        memchr(pkt->data.ptr, EIO_SEPARATOR, pkt->data.len))
        rc = SIO_ERR_EIO_SEPARATOR_IN_TEXT;
    return rc;
}

sio_err sio__eio_text_record_size(int protocol, const sio_eio_packet *pkt, size_t *bytes,
                                  size_t *units)
{
    sio_err rc = check_packet(protocol, pkt);
    if (rc != SIO_OK)
        return rc;
    if (!pkt->binary) {
        *bytes = 1 + pkt->data.len;
        *units = 1 + sio_utf8_utf16_units(pkt->data.ptr, pkt->data.len);
        return SIO_OK;
    }
    size_t prefix = protocol == 3 ? 2 : 1;
    size_t body = pkt->base64 ? pkt->data.len : sio_base64_encoded_len(pkt->data.len);
    *bytes = prefix + body;
    *units = prefix + (pkt->base64 ? sio_utf8_utf16_units(pkt->data.ptr, pkt->data.len) : body);
    return SIO_OK;
}

sio_err sio__eio_put_text_record(eio_out *w, int protocol, const sio_eio_packet *pkt)
{
    sio_err rc = check_packet(protocol, pkt);
    if (rc != SIO_OK)
        return rc;
    if (!pkt->binary) {
        eio_put_byte(w, (uint8_t)('0' + pkt->type));
        eio_put(w, pkt->data.ptr, pkt->data.len);
        return SIO_OK;
    }
    eio_put_byte(w, 'b');
    if (protocol == 3)
        eio_put_byte(w, (uint8_t)('0' + pkt->type));
    if (pkt->base64)
        eio_put(w, pkt->data.ptr, pkt->data.len);
    else
        sio__eio_put_base64(w, pkt->data.ptr, pkt->data.len);
    return SIO_OK;
}

/* Per packet at most 23 bytes besides the data (one to spare here): v4 a separator and 'b' (or
 * the type digit); v3 text the length in decimal (the UTF-16 units never outnumber the bytes:
 * at most 20 digits), ':' and 'b' with the type digit; XHR2 a marker, up to 20 length digits,
 * 0xFF and the type. Then the data, base64-encoded in the text formats when it is binary
 * (longer than the raw bytes XHR2 writes instead). */
#define EIO_RECORD_OVERHEAD_MAX 24

size_t sio__eio_payload_bound(const sio_eio_packet *pkts, size_t count)
{
    size_t n = 2; /* v3 text writes "0:" for no packets */
    for (size_t i = 0; i < count; i++) {
        size_t len = pkts[i].data.len;
        bool encodes_base64 = pkts[i].binary && !pkts[i].base64;
        n += EIO_RECORD_OVERHEAD_MAX + (encodes_base64 ? sio_base64_encoded_len(len) : len);
    }
    return n;
}

static sio_err encode_v4(eio_out *w, const sio_eio_packet *pkts, size_t count)
{
    /* Zero packets would be an empty body, which every v4 decoder rejects (EIO-PKT-03). */
    if (count == 0)
        return SIO_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < count; i++) {
        if (i)
            eio_put_byte(w, EIO_SEPARATOR);
        sio_err rc = sio__eio_put_text_record(w, 4, &pkts[i]);
        if (rc != SIO_OK)
            return rc;
    }
    return SIO_OK;
}

static sio_err encode_v3_text(eio_out *w, const sio_eio_packet *pkts, size_t count)
{
    if (count == 0) {
        eio_put(w, "0:", 2); /* what Node's v3 encoder writes for an empty list */
        return SIO_OK;
    }
    for (size_t i = 0; i < count; i++) {
        size_t bytes, units;
        sio_err rc = sio__eio_text_record_size(3, &pkts[i], &bytes, &units);
        if (rc != SIO_OK)
            return rc;
        eio_put_decimal(w, units);
        eio_put_byte(w, ':');
        if ((rc = sio__eio_put_text_record(w, 3, &pkts[i])) != SIO_OK)
            return rc;
    }
    return SIO_OK;
}

/* XHR2 writes the length as one byte per decimal digit (a "6" is the byte 06). */
static void put_xhr2_header(eio_out *w, uint8_t marker, size_t length)
{
    uint8_t digits[20];
    size_t i = sizeof digits;
    do {
        digits[--i] = (uint8_t)(length % 10);
        length /= 10;
    } while (length);
    eio_put_byte(w, marker);
    eio_put(w, digits + i, sizeof digits - i);
    eio_put_byte(w, EIO_XHR2_END);
}

static sio_err encode_xhr2(eio_out *w, const sio_eio_packet *pkts, size_t count)
{
    if (count == 0)
        return SIO_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < count; i++) {
        const sio_eio_packet *pkt = &pkts[i];
        sio_err rc = check_packet(3, pkt);
        if (rc != SIO_OK)
            return rc;
        /* Binary records carry raw bytes: base64 data must be decoded by the caller first. */
        if (pkt->binary && pkt->base64)
            return SIO_ERR_INVALID_ARGUMENT;
        put_xhr2_header(w, pkt->binary ? 1 : 0, 1 + pkt->data.len);
        eio_put_byte(w, pkt->binary ? (uint8_t)pkt->type : (uint8_t)('0' + pkt->type));
        eio_put(w, pkt->data.ptr, pkt->data.len);
    }
    return SIO_OK;
}

sio_err sio_eio_payload_encode(sio_eio_payload_format format, const sio_eio_packet *pkts,
                               size_t count, uint8_t *out, size_t cap, size_t *written)
{
    if (!written || (!pkts && count))
        return SIO_ERR_INVALID_ARGUMENT;
    eio_out w = eio_out_make(out, cap);
    sio_err rc;
    switch (format) {
    case SIO_EIO_PAYLOAD_V4:
        rc = encode_v4(&w, pkts, count);
        break;
    case SIO_EIO_PAYLOAD_V3_TEXT:
        rc = encode_v3_text(&w, pkts, count);
        break;
    case SIO_EIO_PAYLOAD_V3_BINARY:
        rc = encode_xhr2(&w, pkts, count);
        break;
    default:
        rc = SIO_ERR_INVALID_ARGUMENT;
    }
    if (rc != SIO_OK) {
        *written = 0;
        return rc;
    }
    return eio_out_finish(&w, written);
}
