/* Engine.IO session lifecycle: creation and lookup by sid, the outgoing packet queue, delivery
 * over the current transport, the heartbeat, and closing. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio/base64.h"
#include "sio/eio.h"

#include "eio.h"

/* ------------------------------------------------------------------ sid table */

static size_t sid_bucket(const uint8_t *sid, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ sid[i]) * 1099511628211ull;
    return (size_t)(h % SERVER_SESSION_BUCKETS);
}

session *eio_find(server *srv, const uint8_t *sid, size_t len)
{
    if (len != SERVER_SID_LEN)
        return NULL;
    for (session *s = srv->sessions[sid_bucket(sid, len)]; s; s = s->hash_next)
        if (memcmp(s->sid, sid, len) == 0)
            return s;
    return NULL;
}

static void table_remove(session *s)
{
    session **pp = &s->srv->sessions[sid_bucket((const uint8_t *)s->sid, SERVER_SID_LEN)];
    while (*pp && *pp != s)
        pp = &(*pp)->hash_next;
    if (*pp)
        *pp = s->hash_next;
    s->srv->session_count--;
}

/* 15 random bytes in URL-safe base64: 20 characters, unguessable and unique (EIO-HS-16).
 * With --deterministic the n-th session is "eio-session-" and n in 8 digits (also 20 characters),
 * so that a recording depends only on what the client sent. */
static void new_sid(server *srv, char out[SERVER_SID_LEN + 1])
{
    if (srv->cfg.deterministic) {
        do /* the count wraps after 10^8 sessions; a wrapped id still in use is skipped */
            snprintf(out, SERVER_SID_LEN + 1, "eio-session-%08" PRIu32,
                     ++srv->sids_issued % 100000000u);
        while (eio_find(srv, (const uint8_t *)out, SERVER_SID_LEN) != NULL);
        return;
    }
    for (;;) {
        uint8_t raw[15];
        size_t written = 0;
        server_random_bytes(srv, raw, sizeof raw);
        sio_base64_encode(raw, sizeof raw, (uint8_t *)out, SERVER_SID_LEN, &written);
        for (size_t i = 0; i < SERVER_SID_LEN; i++)
            out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
        out[SERVER_SID_LEN] = '\0';
        if (eio_find(srv, (const uint8_t *)out, SERVER_SID_LEN) == NULL)
            return;
    }
}

static void on_ping_due(timer *t);
static void on_heartbeat_timeout(timer *t);
static void on_upgrade_timeout(timer *t);

session *eio_session_new(server *srv, int protocol, bool b64, app_kind app)
{
    session *s = xcalloc(1, sizeof *s);
    s->srv = srv;
    s->protocol = protocol;
    s->b64 = b64;
    s->app = app == APP_ENGINEIO_ECHO ? &echo_app : &socketio_app;
    new_sid(srv, s->sid);
    timer_init(&s->ping_timer, on_ping_due, s);
    timer_init(&s->timeout_timer, on_heartbeat_timeout, s);
    timer_init(&s->upgrade_timer, on_upgrade_timeout, s);
    size_t b = sid_bucket((const uint8_t *)s->sid, SERVER_SID_LEN);
    s->hash_next = srv->sessions[b];
    srv->sessions[b] = s;
    srv->session_count++;
    return s;
}

/* v4: the server pings every pingInterval and expects a pong within pingTimeout (EIO-HB-01/03).
 * v3: the client pings; the server only waits pingInterval + pingTimeout for it (EIO-HB-08). */
void eio_heartbeat_start(session *s)
{
    const server_config *cfg = &s->srv->cfg;
    if (s->protocol == 4)
        timer_start(&s->srv->loop, &s->ping_timer, cfg->ping_interval);
    else
        timer_start(&s->srv->loop, &s->timeout_timer,
                    (uint64_t)cfg->ping_interval + cfg->ping_timeout);
}

/* ------------------------------------------------------------------ outgoing packets */

static void queue_push(session *s, uint8_t type, bool binary, const uint8_t *p, size_t n)
{
    out_packet *op = xmalloc(sizeof *op + n);
    op->next = NULL;
    op->type = type;
    op->binary = binary;
    op->len = n;
    if (n)
        memcpy(op->data, p, n);
    if (s->queue_tail)
        s->queue_tail->next = op;
    else
        s->queue_head = op;
    s->queue_tail = op;
    s->queue_count++;
}

static void queue_clear(session *s)
{
    while (s->queue_head) {
        out_packet *op = s->queue_head;
        s->queue_head = op->next;
        free(op);
    }
    s->queue_tail = NULL;
    s->queue_count = 0;
}

/* One packet as one WebSocket frame: text packets as '<digit><data>', binary messages as a
 * binary frame (v4: the bytes; v3: type byte + bytes) or, with b64, as a 'b…' text frame. */
void eio_ws_send_packet(session *s, conn *ws, uint8_t type, bool binary, const uint8_t *p, size_t n)
{
    sio_eio_encoding enc = !binary  ? SIO_EIO_ENC_TEXT
                           : s->b64 ? SIO_EIO_ENC_BASE64
                                    : SIO_EIO_ENC_BINARY;
    size_t need = 0;
    sio_eio_packet_encode(s->protocol, (sio_eio_type)type, enc, p, n, NULL, 0, &need);
    uint8_t *frame = xmalloc(need);
    size_t written = 0;
    if (sio_eio_packet_encode(s->protocol, (sio_eio_type)type, enc, p, n, frame, need, &written) ==
        SIO_OK) {
        if (enc == SIO_EIO_ENC_BINARY)
            ws_send_binary(ws, frame, written);
        else
            ws_send_text(ws, frame, written);
    }
    free(frame);
}

/* The body of a GET: the packets as one payload in the session's format (v4, v3 text, v3
 * binary when there is binary data and no b64), wrapped for JSONP sessions (EIO-PKT-20). */
static void respond_payload(session *s, conn *get, const sio_eio_packet *pkts, size_t count)
{
    bool any_binary = false;
    for (size_t i = 0; i < count; i++)
        any_binary |= pkts[i].binary;
    sio_eio_payload_format fmt = s->protocol == 4                       ? SIO_EIO_PAYLOAD_V4
                                 : (any_binary && !s->b64 && !s->jsonp) ? SIO_EIO_PAYLOAD_V3_BINARY
                                                                        : SIO_EIO_PAYLOAD_V3_TEXT;
    size_t need = 0, written = 0;
    sio_eio_payload_encode(fmt, pkts, count, NULL, 0, &need);
    uint8_t *body = xmalloc(need);
    sio_err rc = sio_eio_payload_encode(fmt, pkts, count, body, need, &written);
    const char *ctype =
        fmt == SIO_EIO_PAYLOAD_V3_BINARY ? "application/octet-stream" : "text/plain; charset=UTF-8";
    if (rc == SIO_OK && s->jsonp) {
        uint8_t *wrapped = NULL;
        size_t wneed = 0, idx_len = strlen(s->jsonp_index);
        sio_eio_jsonp_encode((const uint8_t *)s->jsonp_index, idx_len, body, written, NULL, 0,
                             &wneed);
        wrapped = xmalloc(wneed);
        rc = sio_eio_jsonp_encode((const uint8_t *)s->jsonp_index, idx_len, body, written, wrapped,
                                  wneed, &written);
        free(body);
        body = wrapped;
        ctype = "text/javascript; charset=UTF-8";
    }
    if (rc != SIO_OK)
        log_msg(s->srv, LOG_ERROR, "session %s: payload encoding failed: %s", s->sid,
                sio_err_name(rc));
    http_respond(get, 200, ctype, body, rc == SIO_OK ? written : 0);
    free(body);
}

/* Answers the held GET with one control packet ("1" close, "6" noop) in the session's format. */
void eio_release_get(session *s, uint8_t type)
{
    conn *get = s->get;
    if (get == NULL)
        return;
    s->get = NULL;
    get->session = NULL;
    sio_eio_packet pkt = {(sio_eio_type)type, false, false, SIO_SPAN_NULL};
    respond_payload(s, get, &pkt, 1);
}

/* Encodes the whole queue as one polling payload and answers the held GET with it. */
static void flush_queue_to_get(session *s)
{
    conn *get = s->get;
    sio_eio_packet *pkts = xcalloc(s->queue_count, sizeof *pkts);
    size_t i = 0;
    for (out_packet *op = s->queue_head; op; op = op->next, i++)
        pkts[i] = (sio_eio_packet){(sio_eio_type)op->type, op->binary, false,
                                   sio_span_of(op->data, op->len)};
    s->get = NULL;
    get->session = NULL;
    respond_payload(s, get, pkts, s->queue_count);
    free(pkts);
    queue_clear(s);
}

/* Sends whatever is queued if the transport can take it now. */
void eio_flush(session *s)
{
    if (s->transport == EIO_WEBSOCKET && s->ws) {
        for (out_packet *op = s->queue_head; op; op = op->next)
            eio_ws_send_packet(s, s->ws, op->type, op->binary, op->data, op->len);
        queue_clear(s);
    } else if (s->get && s->queue_count > 0) {
        flush_queue_to_get(s);
    }
}

void eio_send_packet(session *s, uint8_t type, bool binary, const uint8_t *p, size_t n)
{
    if (s->transport == EIO_WEBSOCKET && s->ws && s->queue_count == 0) {
        eio_ws_send_packet(s, s->ws, type, binary, p, n);
        return;
    }
    if (s->queue_count >= SERVER_MAX_QUEUED_PACKETS) {
        log_msg(s->srv, LOG_WARN, "session %s: polling client does not collect its packets",
                s->sid);
        return;
    }
    queue_push(s, type, binary, p, n);
    eio_flush(s);
}

void eio_send(session *s, bool binary, const uint8_t *p, size_t n)
{
    if (!s->closing)
        eio_send_packet(s, SIO_EIO_MESSAGE, binary, p, n);
}

/* ------------------------------------------------------------------ closing */

/* Detaches every connection from the session and answers or closes it as the cause requires:
 * a held GET gets `get_reply` (SIO_EIO_CLOSE, or SIO_EIO_NOOP after a client close), a
 * WebSocket is closed, a POST in progress is left to finish on its own. */
static void release_connections(session *s, uint8_t get_reply)
{
    eio_release_get(s, get_reply);
    if (s->post) {
        s->post->session = NULL;
        s->post = NULL;
    }
    conn *wss[2] = {s->ws, s->probe};
    s->ws = s->probe = NULL;
    for (int i = 0; i < 2; i++) {
        if (wss[i]) {
            wss[i]->session = NULL;
            ws_send_close(wss[i], SIO_WS_CLOSE_NORMAL);
        }
    }
}

static void session_free(session *s)
{
    event_loop *loop = &s->srv->loop;
    timer_stop(loop, &s->ping_timer);
    timer_stop(loop, &s->timeout_timer);
    timer_stop(loop, &s->upgrade_timer);
    table_remove(s);
    queue_clear(s);
    free(s->jsonp_index);
    free(s);
}

/* Ends the session now. The application hears `reason` unless it asked for the close itself. */
void eio_terminate(session *s, const char *reason, uint8_t get_reply)
{
    if (s->in_dispatch) {
        if (!s->deferred_reason) {
            s->deferred_reason = reason;
            s->deferred_reply = get_reply;
        }
        return;
    }
    log_msg(s->srv, LOG_DEBUG, "session %s closed: %s", s->sid, reason);
    bool tell_app = !s->closing;
    s->closing = true;
    release_connections(s, get_reply);
    if (tell_app && s->app->close)
        s->app->close(s, reason);
    session_free(s);
}

/* Application close: over WebSocket everything is already written, so close now; over polling
 * the queue goes out with the next GET and the GET after it gets "1" (EIO-CL-03). */
static void close_after_flush(session *s)
{
    if (s->transport == EIO_WEBSOCKET || s->queue_count == 0)
        eio_terminate(s, "forced server close", SIO_EIO_CLOSE);
    else
        eio_flush(s); /* a held GET takes the queue; the next GET closes */
}

void eio_close(session *s)
{
    if (s->closing)
        return;
    s->closing = true;
    if (s->in_dispatch)
        s->deferred_app_close = true;
    else
        close_after_flush(s);
}

/* Packets of one POST or WebSocket message are being delivered: a close requested meanwhile
 * waits until the delivery loop is done with the session. */
void eio_dispatch_begin(session *s)
{
    s->in_dispatch = true;
}

void eio_dispatch_end(session *s)
{
    s->in_dispatch = false;
    if (s->deferred_reason)
        eio_terminate(s, s->deferred_reason, s->deferred_reply);
    else if (s->deferred_app_close)
        close_after_flush(s);
}

void eio_close_all(server *srv)
{
    srv->shutting_down = true;
    for (size_t b = 0; b < SERVER_SESSION_BUCKETS; b++)
        while (srv->sessions[b])
            eio_terminate(srv->sessions[b], "server shutting down", SIO_EIO_CLOSE);
}

/* The peer dropped a connection: losing the held GET, an unfinished POST or the active
 * WebSocket ends the session (EIO-POLL-03, SIO-DC-05 "transport close"); losing a probe only
 * cancels the upgrade. */
void eio_conn_lost(session *s, conn *c)
{
    c->session = NULL;
    if (c == s->probe) {
        s->probe = NULL;
        s->upgrade = UPGRADE_NONE;
        timer_stop(&s->srv->loop, &s->upgrade_timer);
        return;
    }
    if (c == s->get)
        s->get = NULL;
    else if (c == s->post)
        s->post = NULL;
    else if (c == s->ws)
        s->ws = NULL;
    else
        return;
    eio_terminate(s, "transport close", SIO_EIO_CLOSE);
}

/* ------------------------------------------------------------------ heartbeat */

static void on_ping_due(timer *t)
{
    session *s = t->ctx;
    if (s->closing) {
        eio_terminate(s, "forced server close",
                      SIO_EIO_CLOSE); /* the client never fetched the close */
        return;
    }
    eio_send_packet(s, SIO_EIO_PING, false, NULL, 0);
    timer_start(&s->srv->loop, &s->timeout_timer, s->srv->cfg.ping_timeout);
}

static void on_heartbeat_timeout(timer *t)
{
    eio_terminate(t->ctx, "ping timeout", SIO_EIO_CLOSE);
}

/* v4 pong: the peer is alive; the next ping is due pingInterval from now (EIO-HB-02). */
void eio_on_pong(session *s)
{
    if (!timer_active(&s->timeout_timer))
        return; /* unsolicited pong: harmless (EIO-HB-06) */
    timer_stop(&s->srv->loop, &s->timeout_timer);
    timer_start(&s->srv->loop, &s->ping_timer, s->srv->cfg.ping_interval);
}

/* v3 ping: answer with a bare pong, as Node does (EIO-HB-08), and wait for the next ping. */
void eio_on_v3_ping(session *s)
{
    eio_send_packet(s, SIO_EIO_PONG, false, NULL, 0);
    eio_heartbeat_start(s);
}

static void on_upgrade_timeout(timer *t)
{
    session *s = t->ctx;
    if (s->probe) {
        conn *probe = s->probe;
        s->probe = NULL;
        s->upgrade = UPGRADE_NONE;
        probe->session = NULL;
        ws_send_close(probe, SIO_WS_CLOSE_NORMAL);
    }
}
