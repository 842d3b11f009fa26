/* Engine.IO over the server's connections: see eio.h. The codec's session owns every protocol
 * rule; what is here is routing (sid table, endpoint), connections per channel, the timer, and
 * the application on top. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio/base64.h"

#include "app.h"
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
        if (memcmp(eio_sid(s), sid, len) == 0)
            return s;
    return NULL;
}

static void table_add(session *s)
{
    size_t b = sid_bucket((const uint8_t *)eio_sid(s), SERVER_SID_LEN);
    s->hash_next = s->srv->sessions[b];
    s->srv->sessions[b] = s;
    s->srv->session_count++;
}

static void table_remove(session *s)
{
    session **pp = &s->srv->sessions[sid_bucket((const uint8_t *)eio_sid(s), SERVER_SID_LEN)];
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

/* ------------------------------------------------------------------ channels and events */

static void attach(session *s, sio_eio_channel ch, conn *c)
{
    s->channel[ch] = c;
    c->session = s;
    c->channel = (uint8_t)ch;
}

/* The connection of a channel the session has just released. */
static conn *take(session *s, sio_eio_channel ch)
{
    conn *c = s->channel[ch];
    s->channel[ch] = NULL;
    if (c)
        c->session = NULL;
    return c;
}

/* The session ended: whatever still points at it lets go, the application hears why (unless
 * it asked), and the memory goes. */
static void session_closed(session *s, const sio_eio_server_event *ev)
{
    const char *reason = sio_eio_close_reason_name(ev->reason);
    log_msg(s->srv, LOG_DEBUG, "session %s closed: %s", eio_sid(s), reason);
    for (int ch = 0; ch < 4; ch++) {
        conn *c = take(s, (sio_eio_channel)ch);
        if (c && (ev->channels_left & (1u << ch)) && ch != SIO_EIO_CHANNEL_POST)
            conn_close_after_write(c); /* the session could not answer it (out of memory) */
    }
    timer_stop(&s->srv->loop, &s->deadline);
    loop_cancel(&s->srv->loop, &s->flush);
    table_remove(s);
    if (!ev->by_application && s->app->close)
        s->app->close(s, reason);
    sio_eio_server_free(&s->eio);
    free(s->handshake);
    free(s);
}

static void reschedule(session *s)
{
    uint64_t due = sio_eio_server_next_deadline(&s->eio);
    if (due == UINT64_MAX)
        timer_stop(&s->srv->loop, &s->deadline);
    else if (!timer_active(&s->deadline) || s->deadline.deadline_ms != due)
        timer_start_at(&s->srv->loop, &s->deadline, due);
}

/* Carries out the session's events until it has none. A session whose events are already being
 * carried out further up the stack is left to that loop (which also reads its input one packet
 * at a time); the application may thus send and close from inside its message handler. Returns
 * false when the session has been freed. */
static bool drain(session *s)
{
    if (s->draining)
        return true;
    s->draining = true;
    sio_eio_server_event ev;
    for (;;) {
        sio_eio_server_next_event(&s->eio, &ev);
        conn *c;
        switch (ev.type) {
        case SIO_EIO_SERVER_EV_NONE:
            s->draining = false;
            reschedule(s);
            return true;
        case SIO_EIO_SERVER_EV_RESPOND:
            if ((c = take(s, ev.channel)) != NULL)
                http_respond(c, 200, ev.content_type, ev.data.ptr, ev.data.len);
            break;
        case SIO_EIO_SERVER_EV_WS_SEND:
            if ((c = s->channel[ev.channel]) != NULL && ev.binary)
                ws_send_binary(c, ev.data.ptr, ev.data.len);
            else if (c)
                ws_send_text(c, ev.data.ptr, ev.data.len);
            break;
        case SIO_EIO_SERVER_EV_WS_CLOSE:
            if ((c = take(s, ev.channel)) != NULL)
                ws_send_close(c, ev.close_code);
            break;
        case SIO_EIO_SERVER_EV_UPGRADED:
            if ((c = take(s, SIO_EIO_CHANNEL_PROBE)) != NULL)
                attach(s, SIO_EIO_CHANNEL_WEBSOCKET, c);
            break;
        case SIO_EIO_SERVER_EV_MESSAGE:
            s->app->message(s, ev.binary, ev.data.ptr, ev.data.len);
            break;
        case SIO_EIO_SERVER_EV_CLOSED:
            session_closed(s, &ev);
            return false;
        }
    }
}

static void on_flush(deferred *d)
{
    drain(d->ctx);
}

void eio_flush(session *s)
{
    if (!s->draining)
        loop_defer(&s->srv->loop, &s->flush);
}

static void on_deadline(timer *t)
{
    session *s = t->ctx;
    sio_eio_server_timeout(&s->eio, loop_now_ms());
    drain(s);
}

/* ------------------------------------------------------------------ requests */

static const sio_eio_server_config *endpoint_config(server *srv, app_kind app)
{
    return &srv->eio_cfg[app == APP_ENGINEIO_ECHO ? 1 : 0];
}

static const eio_app *endpoint_app(app_kind app)
{
    return app == APP_ENGINEIO_ECHO ? &echo_app : &socketio_app;
}

/* A refused request: JSON {"code","message"}, a raw 400 for a WebSocket upgrade (the
 * connection is then closed, EIO-HS-13), or an empty body. */
static void refuse(conn *c, sio_err rc, bool websocket)
{
    sio_eio_refusal r = sio_eio_refusal_for(rc, websocket);
    log_msg(c->srv, LOG_DEBUG, "conn %llu: Engine.IO request refused: %s",
            (unsigned long long)c->id, sio_err_name(rc));
    if (r.code >= 0)
        http_respond_error(c, r.status, r.code, r.message);
    else if (r.message)
        http_respond_raw_400(c, r.message);
    else
        http_respond(c, r.status, NULL, NULL, 0);
}

/* The application may turn a handshake down first (Node's allowRequest, EIO-HS-18). */
static bool refused_by_app(conn *c, const sio_http_request *req, bool upgrade, app_kind app)
{
    const srv_app *a = c->srv->app;
    char message[SERVER_MAX_REFUSAL];
    if (app != APP_SOCKETIO || !a || !a->refuse_handshake ||
        !a->refuse_handshake(c->srv->app_state, req->query, message))
        return false;
    sio_eio_refusal r = sio_eio_refusal_for(SIO_ERR_EIO_FORBIDDEN, upgrade);
    if (upgrade)
        http_respond_raw_400(c, message);
    else
        http_respond_error(c, r.status, r.code, message);
    return true;
}

/* A new session (EIO-HS-01/02): polling answers the GET with the open packet; WebSocket
 * switches protocols and sends it as the first frame. The application may refuse it first;
 * Node asks allowRequest before it looks at the protocol version. */
static void handshake(conn *c, const sio_http_request *req, const sio_eio_request *er, app_kind app)
{
    server *srv = c->srv;
    if (refused_by_app(c, req, er->websocket, app))
        return;
    if (er->protocol == 0) {
        refuse(c, SIO_ERR_EIO_UNSUPPORTED_PROTOCOL, er->websocket);
        return;
    }
    if (srv->shutting_down) {
        /* A request read during the final drain must not create a session nobody frees. */
        if (er->websocket)
            http_respond_raw_400(c, "Server shutting down");
        else
            http_respond_error(c, 503, 3, "Server shutting down");
        return;
    }
    session *s = xcalloc(1, sizeof *s);
    s->srv = srv;
    s->app = endpoint_app(app);
    timer_init(&s->deadline, on_deadline, s);
    deferred_init(&s->flush, on_flush, s);
    if (srv->cfg.adapter_url && app == APP_SOCKETIO)
        s->handshake = handshake_facts(c, req);
    char sid[SERVER_SID_LEN + 1];
    new_sid(srv, sid);
    if (er->websocket)
        ws_accept_upgrade(c, er->accept_key);
    sio_eio_server_open(&s->eio, endpoint_config(srv, app), er, sid, SERVER_SID_LEN, loop_now_ms());
    table_add(s);
    attach(s, er->websocket ? SIO_EIO_CHANNEL_WEBSOCKET : SIO_EIO_CHANNEL_GET, c);
    if (!er->websocket)
        http_hold(c);
    log_msg(srv, LOG_DEBUG, "session %s opened over %s (EIO=%d)", sid,
            er->websocket ? "websocket" : "polling", er->protocol);
    if (!drain(s))
        return;
    if (s->app->open)
        s->app->open(s);
    drain(s);
}

/* A WebSocket for an existing session: a probe for the upgrade, or refused after the 101 when
 * the session already has one (EIO-UP-09). */
static void upgrade(conn *c, session *s, const sio_eio_request *er)
{
    sio_err rc = sio_eio_server_upgrade(&s->eio, er, loop_now_ms());
    if (rc == SIO_ERR_EIO_SESSION_UNKNOWN) {
        refuse(c, rc, true);
        return;
    }
    ws_accept_upgrade(c, er->accept_key);
    if (rc != SIO_OK) {
        ws_send_close(c, SIO_WS_CLOSE_NORMAL); /* one WebSocket per session */
        return;
    }
    attach(s, SIO_EIO_CHANNEL_PROBE, c);
    drain(s);
}

/* A GET or POST of an existing session. Each endpoint is a server of its own: a sid of the
 * other endpoint's application is unknown here (EIO-HS-08/10/19, EIO-UP-04/05). */
static void existing_session(conn *c, const sio_http_request *req, const sio_eio_request *er,
                             app_kind app)
{
    session *s = eio_find(c->srv, (const uint8_t *)er->sid, er->sid_len);
    if (s == NULL || s->app != endpoint_app(app)) {
        refuse(c, SIO_ERR_EIO_SESSION_UNKNOWN, er->websocket);
        return;
    }
    if (er->kind == SIO_EIO_REQUEST_UPGRADE) {
        upgrade(c, s, er);
        return;
    }
    sio_err rc = sio_eio_server_request(&s->eio, er, loop_now_ms());
    if (rc != SIO_OK) {
        refuse(c, rc, false);
    } else if (er->method == SIO_EIO_METHOD_GET) {
#ifdef MUTANT_OVERLAPPING_GET_ALLOWED /* EIO-POLL-01: the held GET's noop goes to the held connection */
        if (s->channel[SIO_EIO_CHANNEL_GET] && !drain(s)) {
            refuse(c, SIO_ERR_EIO_SESSION_UNKNOWN, false);
            return;
        }
#endif
        attach(s, SIO_EIO_CHANNEL_GET, c);
        http_hold(c);
    } else {
        attach(s, SIO_EIO_CHANNEL_POST, c);
        http_expect_body(c, req);
    }
    drain(s);
}

void eio_handle_request(conn *c, const sio_http_request *req, app_kind app)
{
    sio_eio_request er;
    sio_err rc = sio_eio_request_read(req, endpoint_config(c->srv, app), &er);
    if (rc != SIO_OK)
        refuse(c, rc, er.websocket);
    else if (er.kind == SIO_EIO_REQUEST_HANDSHAKE)
        handshake(c, req, &er, app);
    else
        existing_session(c, req, &er, app);
}

/* Dispatches every packet of the body in order (drain reads them one at a time); the POST is
 * answered "ok" afterwards. A body whose session ended meanwhile finds no session. */
void eio_handle_post_body(conn *c, const uint8_t *body, size_t n)
{
    session *s = c->session;
    if (s == NULL) {
        refuse(c, SIO_ERR_EIO_SESSION_UNKNOWN, false);
        return;
    }
    sio_err rc = sio_eio_server_post_body(&s->eio, body, n, loop_now_ms());
    if (rc == SIO_ERR_EIO_WRONG_STATE) { /* not awaited: answered as a body without session */
        take(s, SIO_EIO_CHANNEL_POST);
        refuse(c, SIO_ERR_EIO_SESSION_UNKNOWN, false);
    }
    drain(s);
}

void eio_ws_message(conn *c, bool text, const uint8_t *p, size_t n)
{
    session *s = c->session;
    if (s == NULL)
        return;
    sio_err rc =
        sio_eio_server_ws_message(&s->eio, (sio_eio_channel)c->channel, text, p, n, loop_now_ms());
    if (rc != SIO_OK)
        log_msg(s->srv, LOG_DEBUG, "session %s: bad packet: %s", eio_sid(s), sio_err_name(rc));
    drain(s);
}

void eio_conn_lost(session *s, conn *c)
{
    sio_eio_channel ch = (sio_eio_channel)c->channel;
    if (s->channel[ch] == c)
        take(s, ch);
    c->session = NULL;
    sio_eio_server_channel_lost(&s->eio, ch, loop_now_ms());
    drain(s);
}

/* ------------------------------------------------------------------ for the application */

void eio_send(session *s, bool binary, const uint8_t *p, size_t n)
{
    sio_err rc = sio_eio_server_send(&s->eio, binary, p, n, loop_now_ms());
    if (rc == SIO_ERR_EIO_QUEUE_FULL)
        log_msg(s->srv, LOG_WARN, "session %s: polling client does not collect its packets",
                eio_sid(s));
    eio_flush(s);
}

void eio_close(session *s)
{
    sio_eio_server_close(&s->eio, loop_now_ms());
    eio_flush(s);
}

bool eio_writable(const session *s)
{
    return sio_eio_server_writable(&s->eio);
}

bool eio_on_websocket(const session *s)
{
    return sio_eio_server_on_websocket(&s->eio);
}

int eio_protocol(const session *s)
{
    return sio_eio_server_protocol(&s->eio);
}

/* The codec keeps the sid NUL-terminated. */
const char *eio_sid(const session *s)
{
    return (const char *)sio_eio_server_sid(&s->eio).ptr;
}

void eio_configure(server *srv)
{
    for (int i = 0; i < 2; i++) {
        sio_eio_server_config *e = &srv->eio_cfg[i];
        sio_eio_server_config_init(e);
        e->ping_interval_ms = srv->cfg.ping_interval;
        e->ping_timeout_ms = srv->cfg.ping_timeout;
        e->upgrade_timeout_ms = srv->cfg.upgrade_timeout;
        e->max_payload = srv->cfg.max_payload;
        e->allow_eio3 = srv->cfg.allow_eio3;
    }
    const char *initial = srv->cfg.initial_packet; /* the echo endpoint's (EIO-HS-21) */
    if (initial)
        srv->eio_cfg[1].initial_packet = sio_span_of(initial, strlen(initial));
}

void eio_close_all(server *srv)
{
    srv->shutting_down = true;
    for (size_t b = 0; b < SERVER_SESSION_BUCKETS; b++) {
        while (srv->sessions[b]) {
            session *s = srv->sessions[b];
            sio_eio_server_abort(&s->eio, SIO_EIO_REASON_SERVER_SHUTDOWN, loop_now_ms());
            drain(s);
        }
    }
}
