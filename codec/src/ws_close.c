/* Close frame payloads (RFC 6455 §5.5.1, §7.4) and the close code each failure calls for. */
#include "sio/ws.h"

#include <string.h>

bool sio_ws_close_code_valid(uint16_t code)
{
    /* 1004 is reserved, 1005/1006/1015 only ever describe a closure locally; 1012-1014 were
     * registered with IANA after the RFC and are sent by real servers (restart, try again). */
    if (code >= 1000 && code <= 1014)
        return code != 1004 && code != 1005 && code != 1006;
    return code >= 3000 && code <= 4999;
}

sio_err sio_ws_close_payload_decode(const uint8_t *p, size_t len, uint16_t *code, sio_span *reason)
{
    *code = 0;
    *reason = sio_span_of(p, 0);
    if (len > SIO_WS_MAX_CONTROL_PAYLOAD)
        return SIO_ERR_WS_CONTROL_TOO_LONG;
    if (len == 0)
        return SIO_OK;
    if (len == 1)
        return SIO_ERR_WS_CLOSE_PAYLOAD_LENGTH;
    uint16_t c = (uint16_t)(p[0] << 8 | p[1]);
    if (!sio_ws_close_code_valid(c))
        return SIO_ERR_WS_CLOSE_CODE;
    if (sio_utf8_validate(p + 2, len - 2, NULL) != SIO_OK)
        return SIO_ERR_WS_CLOSE_REASON_UTF8;
    *code = c;
    *reason = sio_span_of(p + 2, len - 2);
    return SIO_OK;
}

sio_err sio_ws_close_payload_encode(uint16_t code, const uint8_t *reason, size_t reason_len,
                                    uint8_t *out, size_t cap, size_t *written)
{
    *written = 0;
    if (code == 0) {
        return reason_len == 0 ? SIO_OK : SIO_ERR_INVALID_ARGUMENT;
    }
    if (!sio_ws_close_code_valid(code))
        return SIO_ERR_WS_CLOSE_CODE;
    if (reason_len > SIO_WS_MAX_CONTROL_PAYLOAD - 2)
        return SIO_ERR_WS_CONTROL_TOO_LONG;
    if (sio_utf8_validate(reason, reason_len, NULL) != SIO_OK)
        return SIO_ERR_WS_CLOSE_REASON_UTF8;
    *written = 2 + reason_len;
    if (*written > cap)
        return SIO_ERR_BUFFER_TOO_SMALL;
    out[0] = (uint8_t)(code >> 8);
    out[1] = (uint8_t)code;
    if (reason_len > 0)
        memcpy(out + 2, reason, reason_len);
    return SIO_OK;
}

uint16_t sio_ws_close_code_for(sio_err err)
{
    switch (err) {
    case SIO_OK:
        return SIO_WS_CLOSE_NORMAL;
    case SIO_ERR_WS_MESSAGE_TOO_BIG:
    case SIO_ERR_LIMIT:
        return SIO_WS_CLOSE_TOO_BIG;
    case SIO_ERR_WS_TEXT_UTF8:
    case SIO_ERR_WS_CLOSE_REASON_UTF8:
    case SIO_ERR_UTF8_INVALID:
    case SIO_ERR_UTF8_TRUNCATED:
        return SIO_WS_CLOSE_INVALID_PAYLOAD;
    default:
        break;
    }
    /* Every other WebSocket error is the peer breaking the framing rules. */
    if (err >= 200 && err <= 299)
        return SIO_WS_CLOSE_PROTOCOL_ERROR;
    return SIO_WS_CLOSE_INTERNAL_ERROR;
}
