/* WebSocket on an upgraded connection: the opening handshake, frames in through the codec's
 * incremental parser (assembling fragmented messages up to --max-payload), frames out, control
 * frames and the closing handshake. Whole messages go to Engine.IO (eio_adapter.c). */
#include <stdlib.h>
#include <string.h>

#include "eio.h"

/* Writes the 101 response and turns the connection into a WebSocket. Bytes after the head are
 * already frames; they are read once the caller is done. */
void ws_accept_upgrade(conn *c, const char *accept_key)
{
    buf head = {0};
    buf_append_str(&head, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Accept: ");
    buf_append_str(&head, accept_key);
    buf_append_str(&head, "\r\n");
    const char *origin = c->srv->cfg.cors_origin;
    if (origin && *origin) {
        buf_append_str(&head, "Access-Control-Allow-Origin: ");
        buf_append_str(&head, origin);
        buf_append_str(&head, "\r\n");
    }
    buf_append_str(&head, "\r\n");
    conn_write(c, buf_begin(&head), buf_size(&head));
    buf_reset(&head);
    buf_consume(&c->in, c->head_len);
    c->head_len = 0;
    c->state = CONN_WEBSOCKET;
    timer_stop(&c->srv->loop, &c->linger);
    c->ws = xcalloc(1, sizeof *c->ws);
    sio_ws_parser_init(&c->ws->parser, SIO_WS_ROLE_SERVER, c->srv->cfg.max_payload);
}

static void send_frame(conn *c, uint8_t opcode, const void *data, size_t len)
{
    if (c->ws == NULL || c->ws->close_sent)
        return;
    sio_ws_frame_header h = {.payload_len = len, .fin = true, .opcode = opcode};
    uint8_t header[SIO_WS_MAX_HEADER];
    size_t n = 0;
    sio_ws_header_encode(&h, header, sizeof header, &n);
    conn_write(c, header, n);
    conn_write(c, data, len);
}

void ws_send_text(conn *c, const void *data, size_t len)
{
    send_frame(c, SIO_WS_OP_TEXT, data, len);
}

void ws_send_binary(conn *c, const void *data, size_t len)
{
    send_frame(c, SIO_WS_OP_BINARY, data, len);
}

/* Sends our close frame. If the peer has not closed yet, the connection then waits (bounded by
 * the linger timer) for the peer's close frame or EOF, reading and discarding what the peer
 * still sends, so the peer can read our close frame instead of a reset (RFC 6455 §7.1.1). */
void ws_send_close(conn *c, uint16_t code)
{
    if (c->ws && !c->ws->close_sent) {
        uint8_t payload[2];
        size_t n = 0;
        sio_ws_close_payload_encode(code, NULL, 0, payload, sizeof payload, &n);
        send_frame(c, SIO_WS_OP_CLOSE, payload, n);
        c->ws->close_sent = true;
    }
    c->await_peer_close = c->ws && !c->ws->close_received;
    conn_close_after_write(c);
}

void ws_drain_input(conn *c)
{
    while (!c->ws->failed && buf_size(&c->in) > 0) {
        sio_ws_event ev;
        size_t used = 0;
        sio_err rc =
            sio_ws_parser_feed(&c->ws->parser, buf_begin(&c->in), buf_size(&c->in), &used, &ev);
        if (rc != SIO_OK || (ev.type == SIO_WS_EV_CONTROL && ev.frame.opcode == SIO_WS_OP_CLOSE)) {
            conn_close(c);
            return;
        }
        buf_consume(&c->in, used);
        if (ev.type == SIO_WS_EV_NONE)
            break;
    }
    buf_reset(&c->in);
}

/* A protocol error from the peer: close with the code the codec names (1002, 1007, 1009). */
static void fail_connection(conn *c, sio_err rc)
{
    log_msg(c->srv, LOG_DEBUG, "conn %llu: WebSocket error %s", (unsigned long long)c->id,
            sio_err_name(rc));
    c->ws->failed = true;
    session *s = c->session;
    if (s)
        eio_conn_lost(s, c);
#ifdef MUTANT_NO_CLOSE_CODE_1009 /* EIO-POLL-06: an oversized message closes as a protocol error */
    if (rc == SIO_ERR_WS_MESSAGE_TOO_BIG) {
        ws_send_close(c, SIO_WS_CLOSE_PROTOCOL_ERROR);
        return;
    }
#endif
    ws_send_close(c, sio_ws_close_code_for(rc));
}

static void handle_control(conn *c, const sio_ws_event *ev)
{
    if (ev->frame.opcode == SIO_WS_OP_PING) {
#ifdef MUTANT_PONG_WITHOUT_PAYLOAD /* WS-02: the pong does not carry the ping's payload */
        send_frame(c, SIO_WS_OP_PONG, "", 0);
        return;
#endif
        send_frame(c, SIO_WS_OP_PONG, ev->payload.ptr, ev->payload.len);
    } else if (ev->frame.opcode == SIO_WS_OP_CLOSE) {
        c->ws->close_received = true;
        session *s = c->session;
        if (s)
            eio_conn_lost(s, c); /* "transport close" */
        ws_send_close(c, ev->close_code ? ev->close_code : SIO_WS_CLOSE_NORMAL);
    }
}

/* Collects the pieces of a data message; a message that is one piece is delivered without a
 * copy. */
static void handle_data(conn *c, const sio_ws_event *ev)
{
    ws_state *ws = c->ws;
    if (ev->message_start)
        ws->message_text = ev->text;
    if (ev->message_start && ev->message_end) {
        eio_ws_message(c, ev->text, ev->payload.ptr, ev->payload.len);
        return;
    }
    buf_append(&ws->message, ev->payload.ptr, ev->payload.len);
    if (ev->message_end) {
        buf whole = ws->message;
        memset(&ws->message, 0, sizeof ws->message);
        eio_ws_message(c, ws->message_text, buf_begin(&whole), buf_size(&whole));
        buf_reset(&whole);
    }
}

void ws_handle_input(conn *c)
{
    while (c->state == CONN_WEBSOCKET && buf_size(&c->in) > 0) {
        sio_ws_event ev;
        size_t used = 0;
        sio_err rc =
            sio_ws_parser_feed(&c->ws->parser, buf_begin(&c->in), buf_size(&c->in), &used, &ev);
        if (rc != SIO_OK) {
            buf_reset(&c->in);
            fail_connection(c, rc);
            return;
        }
        if (ev.type == SIO_WS_EV_DATA)
            handle_data(c, &ev);
        else if (ev.type == SIO_WS_EV_CONTROL)
            handle_control(c, &ev);
        if (c->state != CONN_WEBSOCKET)
            return; /* closing: the input no longer matters */
        buf_consume(&c->in, used);
        if (ev.type == SIO_WS_EV_NONE)
            break;
    }
}
