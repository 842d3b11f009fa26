/* One connection of the client: an HTTP/1.1 keep-alive connection carrying polling requests, or
 * a WebSocket. Requests and frames are written into `out`; what the I/O side received waits in
 * `in` and is read here, with the codec's response parser, chunked decoder and frame parser. What
 * a connection produces for the sessions is handed to client.c, which runs them at once. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

static const rc_config *cfg_of(const rc_link *l)
{
    return &l->client->cfg;
}

static void trace(rc_link *l, rc_trace_kind kind, bool sent, sio_span head, sio_span body,
                  const char *note)
{
    rc_trace t = {.kind = kind,
                  .sent = sent,
                  .link = l->id,
                  .channel = l->channel,
                  .eio = l->client->eio_cfg.protocol,
                  .head = head,
                  .body = body,
                  .content_type = l->content_type,
                  .note = note};
    rc_client_trace(l->client, &t);
}

static void want_write(rc_link *l)
{
    if (rc_buf_size(&l->out) && l->state != RC_LINK_CONNECTING && l->state != RC_LINK_DEAD)
        cfg_of(l)->io->want_write(cfg_of(l)->io_ctx, l);
}

rc_link *rc_link_new(rc_client *c, sio_eio_channel ch)
{
    rc_link *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->client = c;
    l->id = ++c->next_link_id;
    l->channel = ch;
    l->state = RC_LINK_CONNECTING;
    l->next = c->links;
    c->links = l;
    char where[RC_MAX_HOST + 16];
    snprintf(where, sizeof where, "%s:%u", c->host, c->cfg.port);
    trace(l, RC_TRACE_TCP_CONNECT, true, SIO_SPAN_NULL, SIO_SPAN_NULL, where);
    int err = c->cfg.io->open(c->cfg.io_ctx, l, c->host, c->cfg.port);
    if (err) { /* reported like a connect that failed later */
        l->connect_reported = true;
        l->connect_err = err;
    }
    return l;
}

void rc_link_free(rc_link *l)
{
    rc_buf_free(&l->out);
    rc_buf_free(&l->in);
    rc_buf_free(&l->body);
    rc_buf_free(&l->message);
    rc_buf_free(&l->frame);
    rc_buf_free(&l->head);
    rc_buf_free(&l->request);
    free(l);
}

void rc_link_drop(rc_link *l, const char *why)
{
    if (l->state == RC_LINK_DEAD)
        return;
    if (l->client->by_channel[l->channel] == l) /* an idle one, still the channel's */
        l->client->by_channel[l->channel] = NULL;
    cfg_of(l)->io->close(cfg_of(l)->io_ctx, l);
    l->state = RC_LINK_DEAD;
    l->attached = false;
    trace(l, RC_TRACE_TCP_CLOSE, true, SIO_SPAN_NULL, SIO_SPAN_NULL, why);
}

void rc_link_linger(rc_link *l)
{
    if (l->state == RC_LINK_DEAD)
        return;
    l->attached = false;
    l->state = RC_LINK_LINGER;
    l->linger_due = l->client->now + RC_LINGER_MS;
}

/* ------------------------------------------------------------------ writing */

static void write_host(rc_link *l)
{
    const rc_client *c = l->client;
    bool v6 = strchr(c->host, ':') != NULL;
    rc_buf_printf(&l->out, "Host: %s%s%s:%u\r\n", v6 ? "[" : "", c->host, v6 ? "]" : "",
                  c->cfg.port);
}

/* Response reading starts afresh for each request (the previous body stays valid until the
 * next head has arrived: the session may still be reading it). */
static void expect_response(rc_link *l)
{
    sio_http_parser_init(&l->hp);
    l->head_len = 0;
    l->close_after = false;
}

void rc_link_http_request(rc_link *l, const sio_eio_client_event *ev)
{
    size_t start = rc_buf_size(&l->out);
    bool post = ev->channel == SIO_EIO_CHANNEL_POST;
    rc_buf_printf(&l->out, "%s %.*s HTTP/1.1\r\n", ev->method, (int)ev->target.len,
                  (const char *)ev->target.ptr);
    write_host(l);
    rc_buf_printf(&l->out, "Accept: */*\r\n");
    if (post)
        rc_buf_printf(&l->out, "Content-Type: %s\r\nContent-Length: %zu\r\n", ev->content_type,
                      ev->data.len);
    rc_buf_printf(&l->out, "\r\n");
    size_t head_end = rc_buf_size(&l->out);
    if (post)
        rc_buf_append(&l->out, ev->data.ptr, ev->data.len);
    const uint8_t *base = rc_buf_data(&l->out);
    snprintf(l->content_type, sizeof l->content_type, "%s", post ? ev->content_type : "");
    trace(l, RC_TRACE_HTTP_REQUEST, true, sio_span_of(base + start, head_end - start),
          sio_span_of(base + head_end, post ? ev->data.len : 0), NULL);
    expect_response(l);
    l->reused = l->state == RC_LINK_IDLE;
    rc_buf_clear(&l->request);
    if (l->reused)
        rc_buf_append(&l->request, base + start, rc_buf_size(&l->out) - start);
    if (l->state == RC_LINK_IDLE)
        l->state = RC_LINK_REQUEST;
    want_write(l);
}

void rc_link_ws_open(rc_link *l, sio_span target)
{
    uint8_t nonce[16];
    size_t n = 0;
    cfg_of(l)->io->random(cfg_of(l)->io_ctx, nonce, sizeof nonce);
    sio_base64_encode(nonce, sizeof nonce, (uint8_t *)l->ws_key, SIO_WS_KEY_LEN, &n);
    l->ws_key[n] = '\0';
    l->websocket = true;
    rc_buf_printf(&l->out, "GET %.*s HTTP/1.1\r\n", (int)target.len, (const char *)target.ptr);
    write_host(l);
    rc_buf_printf(&l->out,
                  "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n",
                  l->ws_key);
    l->content_type[0] = '\0';
    trace(l, RC_TRACE_HTTP_REQUEST, true, sio_span_of(rc_buf_data(&l->out), rc_buf_size(&l->out)),
          SIO_SPAN_NULL, NULL);
    expect_response(l);
    sio_ws_parser_init(&l->wsp, SIO_WS_ROLE_CLIENT, cfg_of(l)->max_message);
}

/* One masked frame (RFC 6455 §5.3: every client frame is masked, with a fresh key). */
void rc_link_ws_send(rc_link *l, uint8_t opcode, const uint8_t *p, size_t n)
{
    if (l->state != RC_LINK_WEBSOCKET || l->close_sent)
        return;
    sio_ws_frame_header h = {.fin = true, .opcode = opcode, .masked = true, .payload_len = n};
    cfg_of(l)->io->random(cfg_of(l)->io_ctx, h.mask, sizeof h.mask);
    uint8_t head[SIO_WS_MAX_HEADER];
    size_t hn = 0;
    sio_ws_header_encode(&h, head, sizeof head, &hn);
    size_t at = rc_buf_size(&l->out);
    if (!rc_buf_append(&l->out, head, hn) || !rc_buf_append(&l->out, p, n))
        return;
    uint8_t *wire = rc_buf_data(&l->out) + at + hn;
    sio_ws_mask(wire, n, h.mask, 0);
    rc_trace t = {.kind = RC_TRACE_WS_FRAME,
                  .sent = true,
                  .link = l->id,
                  .channel = l->channel,
                  .eio = l->client->eio_cfg.protocol,
                  .head = sio_span_of(head, hn),
                  .body = sio_span_of(p, n),
                  .masked = sio_span_of(wire, n),
                  .opcode = opcode,
                  .fin = true,
                  .binary = opcode == SIO_WS_OP_BINARY};
    rc_client_trace(l->client, &t);
    if (opcode == SIO_WS_OP_TEXT || opcode == SIO_WS_OP_BINARY) {
        t.kind = RC_TRACE_WS_MESSAGE;
        rc_client_trace(l->client, &t);
    }
    want_write(l);
}

void rc_link_ws_close(rc_link *l, uint16_t code)
{
    if (l->state == RC_LINK_WEBSOCKET && !l->close_sent) {
        uint8_t payload[2] = {(uint8_t)(code >> 8), (uint8_t)code};
        rc_link_ws_send(l, SIO_WS_OP_CLOSE, payload, code ? 2 : 0);
        l->close_sent = true;
    }
}

/* ------------------------------------------------------------------ failures */

static void fail(rc_link *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(rc_link *l, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (l->attached)
        rc_client_link_failed(l->client, l, message);
    rc_link_drop(l, message);
}

/* ------------------------------------------------------------------ HTTP responses */

static bool keeps_alive(const sio_http_response *r)
{
    if (sio_http_response_has_token(r, "connection", "close"))
        return false;
    return r->version_minor == 1 || sio_http_response_has_token(r, "connection", "keep-alive");
}

/* The head, once complete, moves out of `in` into `head` (and `resp` views into that copy). */
static bool read_head(rc_link *l)
{
    sio_err rc =
        sio_http_response_parse(&l->hp, rc_buf_data(&l->in), rc_buf_size(&l->in), NULL, &l->resp);
    if (rc == SIO_OK && l->resp.head_len == 0)
        return false;
    if (rc == SIO_OK) {
        l->head_len = l->resp.head_len;
        rc_buf_clear(&l->head);
        rc_buf_append(&l->head, rc_buf_data(&l->in), l->head_len);
        rc_buf_consume(&l->in, l->head_len);
        sio_http_parser_init(&l->hp);
        rc = sio_http_response_parse(&l->hp, rc_buf_data(&l->head), l->head_len, NULL, &l->resp);
    }
    if (rc != SIO_OK) {
        fail(l, "the server's answer is not HTTP/1.1 (%s: %s)", sio_err_name(rc),
             sio_err_message(rc));
        return false;
    }
    l->close_after = !keeps_alive(&l->resp);
    const sio_http_header *ct = sio_http_response_header_find(&l->resp, "content-type");
    snprintf(l->content_type, sizeof l->content_type, "%.*s", ct ? (int)ct->value.len : 0,
             ct ? (const char *)ct->value.ptr : "");
    rc_buf_clear(&l->body);
    sio_http_chunked_init(&l->chunked);
    return true;
}

static bool append_body(rc_link *l, const uint8_t *p, size_t n)
{
    if (rc_buf_size(&l->body) + n > cfg_of(l)->max_message) {
        fail(l, "response body longer than %zu bytes (the client's max_message)",
             cfg_of(l)->max_message);
        return false;
    }
    rc_buf_append(&l->body, p, n);
    return true;
}

/* Moves body bytes from `in` into `body`. *done once the body is complete; false on failure. */
static bool read_body(rc_link *l, bool at_eof, bool *done)
{
    const uint8_t *p = rc_buf_data(&l->in);
    size_t avail = rc_buf_size(&l->in);
    *done = false;
    if (l->resp.body == SIO_HTTP_BODY_NONE) {
        *done = true;
    } else if (l->resp.body == SIO_HTTP_BODY_LENGTH) {
        if (l->resp.content_length > cfg_of(l)->max_message) {
            fail(l, "response body of %llu bytes, longer than %zu bytes (the client's max_message)",
                 (unsigned long long)l->resp.content_length, cfg_of(l)->max_message);
            return false;
        }
        size_t left = (size_t)l->resp.content_length - rc_buf_size(&l->body);
        size_t n = avail < left ? avail : left;
        if (!append_body(l, p, n))
            return false;
        rc_buf_consume(&l->in, n);
        *done = n == left;
    } else if (l->resp.body == SIO_HTTP_BODY_UNTIL_CLOSE) {
        if (!append_body(l, p, avail))
            return false;
        rc_buf_consume(&l->in, avail);
        *done = at_eof;
    } else {
        size_t used = 0;
        while (used < avail && !sio_http_chunked_done(&l->chunked)) {
            size_t consumed;
            sio_span piece;
            sio_err rc =
                sio_http_chunked_feed(&l->chunked, p + used, avail - used, &consumed, &piece);
            if (rc != SIO_OK) {
                fail(l, "bad chunked body from the server (%s)", sio_err_message(rc));
                return false;
            }
            used += consumed;
            if (!append_body(l, piece.ptr, piece.len))
                return false;
        }
        rc_buf_consume(&l->in, used);
        *done = sio_http_chunked_done(&l->chunked);
    }
    return true;
}

/* A whole response: traced, then handed to the session (which may send the next request on
 * this very link). */
static void response_complete(rc_link *l)
{
    trace(l, RC_TRACE_HTTP_RESPONSE, false, sio_span_of(rc_buf_data(&l->head), l->head_len),
          sio_span_of(rc_buf_data(&l->body), rc_buf_size(&l->body)), NULL);
    l->head_len = 0;
    bool attached = l->attached;
    /* A server may say keep-alive and close anyway (netty-socketio does after every answer): a
     * connection whose end came with the answer is not used again. */
    if (l->state == RC_LINK_LINGER || l->close_after || l->closed_reported) {
        if (attached)
            l->client->by_channel[l->channel] = NULL;
        rc_link_drop(l, l->state == RC_LINK_LINGER ? "done"
                        : l->close_after           ? "the server ends the connection"
                                                   : "closed by the server after its answer");
    } else {
        l->state = RC_LINK_IDLE;
    }
    if (attached)
        rc_client_response(l->client, l);
}

static void read_response(rc_link *l, bool at_eof)
{
    if (l->head_len == 0 && !read_head(l)) {
        if (at_eof && l->state != RC_LINK_DEAD)
            fail(l, "the server closed the connection before its answer was complete");
        return;
    }
    bool done;
    if (!read_body(l, at_eof, &done))
        return;
    if (done)
        response_complete(l);
    else if (at_eof)
        fail(l, "the server closed the connection in the middle of a response body");
}

/* ------------------------------------------------------------------ WebSocket */

static bool header_is(const sio_http_response *r, const char *name, const char *value)
{
    const sio_http_header *h = sio_http_response_header_find(r, name);
    return h && h->value.len == strlen(value) && memcmp(h->value.ptr, value, h->value.len) == 0;
}

/* RFC 6455 §4.1: 101, Upgrade: websocket, Connection: Upgrade, and the accept key of our key. */
static void read_upgrade(rc_link *l)
{
    if (l->head_len == 0 && !read_head(l))
        return;
    const sio_http_response *r = &l->resp;
    uint8_t accept[SIO_WS_ACCEPT_LEN + 1];
    size_t n = 0;
    sio_ws_accept_compute((const uint8_t *)l->ws_key, strlen(l->ws_key), accept, sizeof accept, &n);
    accept[n] = '\0';
    trace(l, RC_TRACE_HTTP_RESPONSE, false, sio_span_of(rc_buf_data(&l->head), l->head_len),
          SIO_SPAN_NULL, NULL);
    if (r->status != 101)
        fail(l, "WebSocket upgrade refused: HTTP %d %.*s", r->status, (int)r->reason.len,
             (const char *)r->reason.ptr);
    else if (!sio_http_response_has_token(r, "upgrade", "websocket") ||
             !sio_http_response_has_token(r, "connection", "upgrade"))
        fail(l,
             "WebSocket upgrade answered 101 without Upgrade: websocket and Connection: Upgrade");
    else if (!header_is(r, "sec-websocket-accept", (const char *)accept))
        fail(l, "WebSocket upgrade answered with a wrong Sec-WebSocket-Accept (expected %s)",
             (const char *)accept);
    if (l->state == RC_LINK_DEAD)
        return;
    l->head_len = 0;
    l->state = RC_LINK_WEBSOCKET;
    if (l->attached)
        rc_client_ws_opened(l->client, l);
}

static void trace_frame(rc_link *l, const sio_ws_event *ev, sio_span payload)
{
    uint8_t head[SIO_WS_MAX_HEADER];
    size_t hn = 0;
    sio_ws_header_encode(&ev->frame, head, sizeof head, &hn);
    rc_trace t = {.kind = RC_TRACE_WS_FRAME,
                  .link = l->id,
                  .channel = l->channel,
                  .eio = l->client->eio_cfg.protocol,
                  .head = sio_span_of(head, hn),
                  .body = payload,
                  .opcode = ev->frame.opcode,
                  .fin = ev->frame.fin};
    rc_client_trace(l->client, &t);
}

static void control_frame(rc_link *l, const sio_ws_event *ev)
{
    trace_frame(l, ev, ev->payload);
    if (ev->frame.opcode == SIO_WS_OP_PING) {
        uint8_t copy[SIO_WS_MAX_CONTROL_PAYLOAD];
        memcpy(copy, ev->payload.ptr, ev->payload.len);
        rc_link_ws_send(l, SIO_WS_OP_PONG, copy, ev->payload.len);
    } else if (ev->frame.opcode == SIO_WS_OP_CLOSE) {
        rc_link_ws_close(l, ev->close_code ? ev->close_code : SIO_WS_CLOSE_NORMAL);
        if (l->attached) {
            char why[160];
            snprintf(why, sizeof why, "the server closed the WebSocket (code %u)", ev->close_code);
            rc_trace t = {.kind = RC_TRACE_NOTE, .link = l->id, .channel = l->channel, .note = why};
            rc_client_trace(l->client, &t);
            rc_client_link_failed(l->client, l, NULL);
        }
        rc_link_linger(l);
    }
}

static void data_frame(rc_link *l, const sio_ws_event *ev)
{
    if (ev->message_start && ev->frame_start) {
        rc_buf_clear(&l->message);
        l->message_text = ev->text;
    }
    if (ev->frame_start)
        rc_buf_clear(&l->frame);
    rc_buf_append(&l->frame, ev->payload.ptr, ev->payload.len);
    rc_buf_append(&l->message, ev->payload.ptr, ev->payload.len);
    if (ev->frame_end)
        trace_frame(l, ev, sio_span_of(rc_buf_data(&l->frame), rc_buf_size(&l->frame)));
    if (!ev->message_end)
        return;
    rc_trace t = {.kind = RC_TRACE_WS_MESSAGE,
                  .link = l->id,
                  .channel = l->channel,
                  .eio = l->client->eio_cfg.protocol,
                  .body = sio_span_of(rc_buf_data(&l->message), rc_buf_size(&l->message)),
                  .binary = !l->message_text};
    rc_client_trace(l->client, &t);
    if (l->attached && l->state == RC_LINK_WEBSOCKET)
        rc_client_ws_message(l->client, l, l->message_text, rc_buf_data(&l->message),
                             rc_buf_size(&l->message));
}

static void read_frames(rc_link *l)
{
    while (rc_buf_size(&l->in) && l->state != RC_LINK_DEAD) {
        size_t consumed = 0;
        sio_ws_event ev;
        sio_err rc =
            sio_ws_parser_feed(&l->wsp, rc_buf_data(&l->in), rc_buf_size(&l->in), &consumed, &ev);
        rc_buf_consume(&l->in, consumed);
        if (rc != SIO_OK) {
            rc_link_ws_close(l, sio_ws_close_code_for(rc));
            fail(l, "bad WebSocket frame from the server (%s: %s)", sio_err_name(rc),
                 sio_err_message(rc));
            return;
        }
        if (ev.type == SIO_WS_EV_NONE)
            return;
        if (ev.type == SIO_WS_EV_CONTROL)
            control_frame(l, &ev);
        else
            data_frame(l, &ev);
    }
}

/* ------------------------------------------------------------------ what the I/O side said */

static void connected(rc_link *l)
{
    const rc_client *c = l->client;
    l->connect_reported = false;
    if (l->connect_err) {
        fail(l, "cannot connect to %s:%u: %s", c->host, c->cfg.port, strerror(l->connect_err));
        return;
    }
    trace(l, RC_TRACE_TCP_OPEN, true, SIO_SPAN_NULL, SIO_SPAN_NULL, NULL);
    if (l->state == RC_LINK_CONNECTING)
        l->state = l->websocket           ? RC_LINK_UPGRADING
                   : rc_buf_size(&l->out) ? RC_LINK_REQUEST
                                          : RC_LINK_IDLE;
    want_write(l);
}

static void read_input(rc_link *l, bool at_eof)
{
    switch (l->state) {
    case RC_LINK_REQUEST:
        read_response(l, at_eof);
        break;
    case RC_LINK_UPGRADING:
        read_upgrade(l);
        if (l->state == RC_LINK_WEBSOCKET)
            read_frames(l);
        break;
    case RC_LINK_WEBSOCKET:
        read_frames(l);
        break;
    case RC_LINK_LINGER:
        if (l->websocket)
            read_frames(l);
        else if (!rc_buf_size(&l->out))
            read_response(l, at_eof);
        break;
    case RC_LINK_IDLE:
        if (rc_buf_size(&l->in)) /* bytes nobody asked for: the connection is not reused */
            rc_link_drop(l, "the server sent bytes without a request");
        break;
    default:
        break;
    }
}

/* A kept-alive connection the server closed before any byte of the answer to a request sent on
 * it: the server ended the idle connection while the request was on its way, and cannot have
 * acted on it (RFC 9112 §9.3.1). The request goes again, once, on a new connection, as
 * browsers do. */
static bool resend(rc_link *l)
{
    if (l->state != RC_LINK_REQUEST || !l->reused || !l->attached || rc_buf_size(&l->in))
        return false;
    rc_client *c = l->client;
    rc_link *n = rc_link_new(c, l->channel);
    if (!n)
        return false; /* failed as any other lost connection */
    l->attached = false;
    rc_link_drop(l, "closed by the server before any answer: the request goes again on a new "
                    "connection");
    n->attached = true;
    c->by_channel[l->channel] = n;
    rc_buf_append(&n->out, rc_buf_data(&l->request), rc_buf_size(&l->request));
    snprintf(n->content_type, sizeof n->content_type, "%s", l->content_type);
    expect_response(n);
    return true;
}

static void closed(rc_link *l)
{
    l->closed_reported = false;
    if (l->state == RC_LINK_DEAD)
        return;
    if (resend(l))
        return;
    read_input(l, true); /* a body that ends with the connection */
    if (l->state == RC_LINK_DEAD)
        return;
    if (l->state == RC_LINK_IDLE || l->state == RC_LINK_LINGER) {
        if (l->attached)
            l->client->by_channel[l->channel] = NULL;
        rc_link_drop(l, l->closed_err ? strerror(l->closed_err) : "closed by the server");
        return;
    }
    if (l->closed_err)
        fail(l, "connection to the server lost: %s", strerror(l->closed_err));
    else
        fail(l, "the server closed the connection");
}

void rc_link_process(rc_link *l)
{
    if (l->state == RC_LINK_DEAD)
        return;
    if (l->connect_reported)
        connected(l);
    if (l->state != RC_LINK_DEAD && l->state != RC_LINK_CONNECTING && rc_buf_size(&l->in))
        read_input(l, false);
    if (l->closed_reported)
        closed(l);
    /* A WebSocket we closed is done once both close frames crossed. */
    if (l->state == RC_LINK_LINGER && l->websocket && l->close_sent &&
        sio_ws_parser_closed(&l->wsp) && !rc_buf_size(&l->out))
        rc_link_drop(l, "WebSocket closed");
}

/* ------------------------------------------------------------------ the I/O side's calls */

void rc_link_connected(rc_link *l, int err)
{
    l->connect_reported = true;
    l->connect_err = err;
}

void rc_link_received(rc_link *l, const uint8_t *p, size_t n)
{
    if (l->state != RC_LINK_DEAD)
        rc_buf_append(&l->in, p, n);
}

void rc_link_closed(rc_link *l, int err)
{
    l->closed_reported = true;
    l->closed_err = err;
}

sio_span rc_link_output(const rc_link *l)
{
    return sio_span_of(rc_buf_data(&l->out), rc_buf_size(&l->out));
}

void rc_link_wrote(rc_link *l, size_t n)
{
    rc_buf_consume(&l->out, n);
}

void *rc_link_io_data(const rc_link *l)
{
    return l->io_data;
}

void rc_link_set_io_data(rc_link *l, void *data)
{
    l->io_data = data;
}
