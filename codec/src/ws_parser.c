/* Incremental WebSocket frame parser (RFC 6455 §5): bytes in, at most one event out per call.
 *
 * Data payloads are never copied: they are unmasked where they lie and returned as views, so
 * a frame of any size streams through without the parser or the caller holding all of it.
 * Control payloads (at most 125 bytes) are gathered inside the parser, because a close frame
 * has to be validated as a whole and ping/pong payloads have to be echoed as a whole. */
#include "sio/ws.h"

#include <string.h>

#include "simd_internal.h"

void sio_ws_parser_init(sio_ws_parser *p, sio_ws_role role, uint64_t max_message)
{
    memset(p, 0, sizeof *p);
    p->role = (uint8_t)role;
    p->max_message = max_message;
    p->header_need = 1;
    p->state = SIO_WS_PARSE_HEADER;
    sio_utf8_init(&p->utf8);
}

bool sio_ws_parser_closed(const sio_ws_parser *p)
{
    return p->state == SIO_WS_PARSE_CLOSED;
}

size_t sio_ws_parser_sizeof(void)
{
    return sizeof(sio_ws_parser);
}

size_t sio_ws_event_sizeof(void)
{
    return sizeof(sio_ws_event);
}

/* Rules that need the message context (§5.4): where a frame may appear, and the size limit,
 * checked against the declared length so an oversized message fails before its payload. */
static sio_err ws_frame_begin(sio_ws_parser *p)
{
    const sio_ws_frame_header *f = &p->frame;
    p->frame_pos = 0;
    p->header_have = 0;
    p->header_need = 1;
    p->control_have = 0;
    p->state = SIO_WS_PARSE_PAYLOAD;
    if (f->opcode & 0x8u)
        return SIO_OK;
    if (f->opcode == SIO_WS_OP_CONTINUATION && !p->in_message)
        return SIO_ERR_WS_UNEXPECTED_CONTINUATION;
    if (f->opcode != SIO_WS_OP_CONTINUATION) {
        if (p->in_message)
            return SIO_ERR_WS_MESSAGE_INTERRUPTED;
        p->in_message = true;
        p->message_text = f->opcode == SIO_WS_OP_TEXT;
        p->message_len = 0;
        sio_utf8_init(&p->utf8);
    }
    if (f->payload_len > p->max_message - p->message_len)
        return SIO_ERR_WS_MESSAGE_TOO_BIG;
    p->message_len += f->payload_len;
    return SIO_OK;
}

/* Gathers header bytes; *done once a whole header has been read and accepted. */
static sio_err ws_read_header(sio_ws_parser *p, const uint8_t *data, size_t len, size_t *used,
                              bool *done)
{
    *done = false;
    /* A header usually lies whole in the buffer: decoded there, it costs one decode instead of
     * the three of the gathering loop (one byte, two, then the whole length). A header the
     * buffer cuts short, or a bad one, goes through the loop, which consumes exactly the bytes
     * up to the error. */
    if (p->header_have == 0) {
        size_t need = 0;
        if (sio_ws_header_decode(data + *used, len - *used, (sio_ws_role)p->role, &p->frame,
                                 &need) == SIO_OK) {
            *used += need;
            *done = true;
            return ws_frame_begin(p);
        }
    }
    while (*used < len) {
        /* Up to the bytes the header is known to need; the decoder runs only once they are in. */
        size_t take = (size_t)(p->header_need - p->header_have);
        if (take > len - *used)
            take = len - *used;
        memcpy(p->header + p->header_have, data + *used, take);
        p->header_have = (uint8_t)(p->header_have + take);
        *used += take;
        if (p->header_have < p->header_need)
            continue;
        size_t need = 0;
        sio_err rc =
            sio_ws_header_decode(p->header, p->header_have, (sio_ws_role)p->role, &p->frame, &need);
        if (rc == SIO_ERR_WS_TRUNCATED) {
            p->header_need = (uint8_t)need;
            continue;
        }
        if (rc != SIO_OK)
            return rc;
        *done = true;
        return ws_frame_begin(p);
    }
    return SIO_OK;
}

/* A control frame's payload is complete: validate it and report it whole. */
static sio_err ws_control_done(sio_ws_parser *p, sio_ws_event *ev)
{
    ev->type = SIO_WS_EV_CONTROL;
    ev->payload = sio_span_of(p->control, p->control_have);
    ev->frame_start = ev->frame_end = true;
    p->state = SIO_WS_PARSE_HEADER;
    if (p->frame.opcode != SIO_WS_OP_CLOSE)
        return SIO_OK;
    p->state = SIO_WS_PARSE_CLOSED;
    return sio_ws_close_payload_decode(p->control, p->control_have, &ev->close_code,
                                       &ev->close_reason);
}

/* Unmasks and checks the next piece of a data frame, and describes it in *ev. */
static sio_err ws_data_piece(sio_ws_parser *p, uint8_t *piece, size_t n, bool ascii, size_t *used,
                             sio_ws_event *ev)
{
    const sio_ws_frame_header *f = &p->frame;
    /* An ASCII piece outside a character leaves the validator where it was: nothing to check. */
    if (p->message_text && !(ascii && p->utf8.need == 0)) {
        size_t bad = 0;
        if (sio_utf8_feed(&p->utf8, piece, n, &bad) != SIO_OK) {
            *used += bad + 1;
            return SIO_ERR_WS_TEXT_UTF8;
        }
    }
    ev->type = SIO_WS_EV_DATA;
    ev->payload = sio_span_of(piece, n);
    ev->text = p->message_text;
    ev->frame_start = p->frame_pos == 0;
    ev->message_start = ev->frame_start && f->opcode != SIO_WS_OP_CONTINUATION;
    p->frame_pos += n;
    *used += n;
    ev->frame_end = p->frame_pos == f->payload_len;
    ev->message_end = ev->frame_end && f->fin;
    if (ev->frame_end)
        p->state = SIO_WS_PARSE_HEADER;
    if (ev->message_end) {
        p->in_message = false;
        if (p->message_text && !sio_utf8_complete(&p->utf8))
            return SIO_ERR_WS_TEXT_UTF8; /* the message ends inside a character */
    }
    return SIO_OK;
}

/* Reads payload bytes of the current frame; *have_event when *ev was filled. */
static sio_err ws_read_payload(sio_ws_parser *p, uint8_t *data, size_t len, size_t *used,
                               sio_ws_event *ev, bool *have_event)
{
    const sio_ws_frame_header *f = &p->frame;
    uint64_t left = f->payload_len - p->frame_pos;
    size_t n = left < len - *used ? (size_t)left : len - *used;
    *have_event = false;
    if (n == 0 && left > 0)
        return SIO_OK;
    uint8_t *piece = data + *used;
    bool ascii = false; /* known only from the unmasking pass */
    if (f->masked)
        ascii = sio__ws_mask_ascii(piece, n, f->mask, p->frame_pos);
    ev->frame = *f;
    if (f->opcode & 0x8u) {
        if (n > 0)
            memcpy(p->control + p->control_have, piece, n);
        p->control_have = (uint8_t)(p->control_have + n);
        p->frame_pos += n;
        *used += n;
        if (p->frame_pos < f->payload_len)
            return SIO_OK;
        *have_event = true;
        return ws_control_done(p, ev);
    }
    *have_event = true;
    return ws_data_piece(p, piece, n, ascii, used, ev);
}

/* One step of the state machine; *stop when the call should return. */
static sio_err ws_step(sio_ws_parser *p, uint8_t *data, size_t len, size_t *used, sio_ws_event *ev,
                       bool *stop)
{
    bool done = false;
    *stop = true;
    switch (p->state) {
    case SIO_WS_PARSE_HEADER: {
        if (*used == len)
            return SIO_OK;
        sio_err rc = ws_read_header(p, data, len, used, &done);
        *stop = rc != SIO_OK || !done;
        return rc;
    }
    case SIO_WS_PARSE_PAYLOAD: {
        sio_err rc = ws_read_payload(p, data, len, used, ev, &done);
        *stop = rc != SIO_OK || done || *used == len;
        return rc;
    }
    case SIO_WS_PARSE_CLOSED:
        if (*used == len)
            return SIO_OK;
        (*used)++;
        return SIO_ERR_WS_DATA_AFTER_CLOSE;
    default:
        return p->error;
    }
}

sio_err sio_ws_parser_feed(sio_ws_parser *p, uint8_t *data, size_t len, size_t *consumed,
                           sio_ws_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->type = SIO_WS_EV_NONE;
    *consumed = 0;
    if (p->state == SIO_WS_PARSE_FAILED)
        return p->error;
    size_t used = 0;
    bool stop = false;
    sio_err rc = SIO_OK;
    while (!stop && rc == SIO_OK)
        rc = ws_step(p, data, len, &used, ev, &stop);
    *consumed = used;
    if (rc != SIO_OK) {
        p->state = SIO_WS_PARSE_FAILED;
        p->error = rc;
        ev->type = SIO_WS_EV_NONE;
    }
    return rc;
}
