/* Engine.IO packets, v4 and v3: one WebSocket frame or one polling record (EIO-PKT-01..11,
 * 16, 18). */
#include "eio_internal.h"
#include "sio/base64.h"
#include "sio/utf8.h"

static const sio_eio_options eio_defaults;

static bool is_type_digit(uint8_t c)
{
    return c >= '0' && c <= '6';
}

static void set_packet(sio_eio_packet *out, sio_eio_type type, bool binary, bool base64,
                       const uint8_t *p, size_t n)
{
    out->type = type;
    out->binary = binary;
    out->base64 = base64;
    out->data = sio_span_of(n ? p : NULL, n);
}

/* Strict mode wants the whole text to be canonical base64; Node's decoder never fails, so compat
 * only requires the text to be UTF-8 like any other text. */
static sio_err check_base64(const uint8_t *p, size_t n, bool compat, bool utf8_known)
{
    if (compat)
        return utf8_known ? SIO_OK : sio_utf8_validate(p, n, NULL);
    size_t need;
    sio_err rc = sio_base64_decode(p, n, SIO_BASE64_STRICT, NULL, 0, &need);
    return rc == SIO_ERR_BUFFER_TOO_SMALL ? SIO_OK : rc;
}

/* 'b…' text: v4 'b<base64>' is always a message; v3 'b<type><base64>' keeps the type digit. */
static sio_err decode_base64_text(int protocol, sio_eio_frame frame, const uint8_t *p, size_t n,
                                  const sio_eio_options *o, bool utf8_known, sio_eio_packet *out)
{
    /* Over WebSocket, binary travels in binary frames unless the session asked for base64. */
    if (frame == SIO_EIO_FRAME_WS_TEXT && !o->b64 && !o->compat)
        return SIO_ERR_EIO_BASE64_ON_WEBSOCKET;
    sio_eio_type type = SIO_EIO_MESSAGE;
    size_t skip = 1;
    if (protocol == 3) {
        if (n < 2 || !is_type_digit(p[1]))
            return SIO_ERR_EIO_UNKNOWN_TYPE;
        type = (sio_eio_type)(p[1] - '0');
        skip = 2;
    } else if (n == 1 && !o->compat) {
        /* A bare 'b' is more likely a truncated record than an intended empty message. */
        return SIO_ERR_EIO_EMPTY_BINARY;
    }
    sio_err rc = check_base64(p + skip, n - skip, o->compat, utf8_known);
    if (rc != SIO_OK)
        return rc;
    set_packet(out, type, true, true, p + skip, n - skip);
    return SIO_OK;
}

/* `utf8_known`: the caller has validated the text as UTF-8 already (a whole polling body). */
static sio_err decode_text(int protocol, sio_eio_frame frame, const uint8_t *p, size_t n,
                           const sio_eio_options *o, bool utf8_known, sio_eio_packet *out)
{
    if (n == 0)
        return SIO_ERR_EIO_EMPTY_PACKET;
    if (p[0] == 'b')
        return decode_base64_text(protocol, frame, p, n, o, utf8_known, out);
#ifdef MUTANT_UNKNOWN_EIO_TYPE_IGNORED /* EIO-PKT-02: an unknown type is read as a noop */
    if (!is_type_digit(p[0])) {
        set_packet(out, SIO_EIO_NOOP, false, false, p + 1, n - 1);
        return SIO_OK;
    }
#endif
    if (!is_type_digit(p[0]))
        return SIO_ERR_EIO_UNKNOWN_TYPE;
    sio_err rc = utf8_known ? SIO_OK : sio_utf8_validate(p + 1, n - 1, NULL);
    if (rc != SIO_OK)
        return rc;
    set_packet(out, (sio_eio_type)(p[0] - '0'), false, false, p + 1, n - 1);
    return SIO_OK;
}

/* v4 binary frames carry only message bytes; v3 ones start with the packet type as a byte. */
static sio_err decode_binary(int protocol, const uint8_t *p, size_t n, sio_eio_packet *out)
{
    if (protocol == 4) {
        set_packet(out, SIO_EIO_MESSAGE, true, false, p, n);
        return SIO_OK;
    }
    if (n == 0)
        return SIO_ERR_EIO_EMPTY_PACKET;
    if (p[0] > SIO_EIO_NOOP)
        return SIO_ERR_EIO_UNKNOWN_TYPE;
    set_packet(out, (sio_eio_type)p[0], true, false, p + 1, n - 1);
    return SIO_OK;
}

sio_err sio_eio_packet_decode(int protocol, sio_eio_frame frame, const uint8_t *p, size_t n,
                              const sio_eio_options *opt, sio_eio_packet *out)
{
    if ((protocol != 3 && protocol != 4) || !out || (!p && n))
        return SIO_ERR_INVALID_ARGUMENT;
    const sio_eio_options *o = opt ? opt : &eio_defaults;
    switch (frame) {
    case SIO_EIO_FRAME_RECORD:
    case SIO_EIO_FRAME_WS_TEXT:
        return decode_text(protocol, frame, p, n, o, false, out);
    case SIO_EIO_FRAME_WS_BINARY:
        return decode_binary(protocol, p, n, out);
    }
    return SIO_ERR_INVALID_ARGUMENT;
}

sio_err sio_eio_packet_binary(const sio_eio_packet *pkt, bool compat, uint8_t *out, size_t cap,
                              size_t *written)
{
    if (!pkt || !written || !pkt->binary)
        return SIO_ERR_INVALID_ARGUMENT;
    if (!out)
        cap = 0;
    if (pkt->base64)
        return sio_base64_decode(pkt->data.ptr, pkt->data.len,
                                 compat ? SIO_BASE64_LENIENT : SIO_BASE64_STRICT, out, cap,
                                 written);
    eio_out w = eio_out_make(out, cap);
    eio_put(&w, pkt->data.ptr, pkt->data.len);
    return eio_out_finish(&w, written);
}

void sio__eio_put_base64(eio_out *w, const uint8_t *data, size_t n)
{
    size_t need = sio_base64_encoded_len(n);
    uint8_t *room = eio_room(w, need);
    size_t wr;
    if (room)
        (void)sio_base64_encode(data, n, room, need, &wr);
    w->len += need;
}

size_t sio__eio_packet_encoded_len(int protocol, sio_eio_encoding enc, size_t n)
{
    size_t v3_type = protocol == 3 ? 1 : 0; /* v3 keeps the type beside binary data */
    switch (enc) {
    case SIO_EIO_ENC_BASE64:
        return 1 + v3_type + sio_base64_encoded_len(n);
    case SIO_EIO_ENC_BINARY:
        return v3_type + n;
    default:
        return 1 + n;
    }
}

sio_err sio_eio_packet_encode(int protocol, sio_eio_type type, sio_eio_encoding enc,
                              const uint8_t *data, size_t n, uint8_t *out, size_t cap,
                              size_t *written)
{
    if ((protocol != 3 && protocol != 4) || (unsigned)type > SIO_EIO_NOOP || !written ||
        (!data && n))
        return SIO_ERR_INVALID_ARGUMENT;
    /* v4 has no way to say "binary ping": binary forms imply a message. */
    if (protocol == 4 && enc != SIO_EIO_ENC_TEXT && type != SIO_EIO_MESSAGE)
        return SIO_ERR_INVALID_ARGUMENT;
    eio_out w = eio_out_make(out, cap);
    switch (enc) {
    case SIO_EIO_ENC_TEXT: {
        sio_err rc = sio_utf8_validate(data, n, NULL);
        if (rc != SIO_OK)
            return rc;
        eio_put_byte(&w, (uint8_t)('0' + type));
        eio_put(&w, data, n);
        break;
    }
    case SIO_EIO_ENC_BASE64:
        eio_put_byte(&w, 'b');
        if (protocol == 3)
            eio_put_byte(&w, (uint8_t)('0' + type));
        sio__eio_put_base64(&w, data, n);
        break;
    case SIO_EIO_ENC_BINARY:
        if (protocol == 3)
            eio_put_byte(&w, (uint8_t)type);
        eio_put(&w, data, n);
        break;
    default:
        return SIO_ERR_INVALID_ARGUMENT;
    }
    return eio_out_finish(&w, written);
}

sio_err sio__eio_record_decode_utf8(int protocol, const uint8_t *p, size_t n,
                                    const sio_eio_options *opt, sio_eio_packet *out)
{
    return decode_text(protocol, SIO_EIO_FRAME_RECORD, p, n, opt, true, out);
}
