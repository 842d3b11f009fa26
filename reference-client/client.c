/* The reference client: carries out what the codec's client sessions ask for (link.c does the
 * connections) and turns their events into the application's. See rc.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

/* An emit waiting for its ack: the application's callback. */
struct rc_pending_ack {
    rc_pending_ack *next;
    rc_ack_fn fn;
    void *ctx;
    uint64_t id;
    size_t nsp_len;
    char nsp[SIO_SIO_CLIENT_MAX_NAMESPACE + 1];
};

/* A namespace the application joined, and whether it is connected now (volatile emits and the
 * "last namespace left" rule need it; the session keeps the protocol state). */
struct rc_nsp {
    rc_nsp *next;
    bool joined, active; /* active: joined or joining */
    size_t len;
    char name[SIO_SIO_CLIENT_MAX_NAMESPACE + 1];
};

static void pump(rc_client *c);

/* ------------------------------------------------------------------ configuration */

void rc_config_init(rc_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "127.0.0.1";
    cfg->port = 3000;
    cfg->path = RC_DEFAULT_PATH;
    cfg->eio = 4;
    sio_sio_client_config_init(&cfg->session);
    cfg->max_message = RC_DEFAULT_MAX_MESSAGE;
}

const char *rc_channel_name(sio_eio_channel ch)
{
    static const char *const names[] = {"get", "post", "websocket", "probe"};
    return (unsigned)ch < 4 ? names[ch] : "?";
}

/* The session's random source: the I/O side's bytes. */
static uint32_t random_u32(void *ctx)
{
    rc_client *c = ctx;
    uint8_t b[4];
    c->cfg.io->random(c->cfg.io_ctx, b, sizeof b);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

rc_client *rc_client_new(const rc_config *cfg, char *err, size_t err_cap)
{
    const char *why = NULL;
    if (!cfg->io || !cfg->on_event)
        why = "the configuration needs an I/O side and an event callback";
    else if (!cfg->host || !cfg->host[0] || strlen(cfg->host) > RC_MAX_HOST)
        why = "the host is empty or too long";
    else if (cfg->eio != 0 && cfg->eio != 3 && cfg->eio != 4)
        why = "the Engine.IO version is 3 or 4";
    rc_client *c = why ? NULL : calloc(1, sizeof *c);
    if (c) {
        c->cfg = *cfg;
        c->cfg.eio = cfg->eio ? cfg->eio : 4;
        if (!c->cfg.max_message)
            c->cfg.max_message = RC_DEFAULT_MAX_MESSAGE;
        c->cfg.session.random = random_u32;
        c->cfg.session.random_ctx = c;
        snprintf(c->host, sizeof c->host, "%s", cfg->host);
        c->path = copy_string(cfg->path ? cfg->path : RC_DEFAULT_PATH);
        c->query = copy_string(cfg->query ? cfg->query : "");
        if (!c->path || !c->query) {
            rc_client_free(c);
            c = NULL;
            why = "out of memory";
        }
    } else if (!why) {
        why = "out of memory";
    }
    if (c) {
        sio_eio_client_config_init(&c->eio_cfg);
        c->eio_cfg.protocol = c->cfg.eio;
        c->eio_cfg.websocket_only = cfg->transports == RC_TRANSPORTS_WEBSOCKET;
        c->eio_cfg.upgrade = cfg->transports == RC_TRANSPORTS_POLLING_UPGRADE;
        c->eio_cfg.cache_buster = true;
        c->eio_cfg.path = sio_span_of(c->path, strlen(c->path));
        c->eio_cfg.query = sio_span_of(c->query, strlen(c->query));
    }
    if (!c && err && err_cap)
        snprintf(err, err_cap, "%s", why);
    return c;
}

sio_err rc_client_start(rc_client *c)
{
    if (c->started)
        return SIO_ERR_SIO_WRONG_STATE;
    c->started = true;
    c->now = c->cfg.io->now(c->cfg.io_ctx);
    return sio_sio_client_open(&c->sio, &c->cfg.session, &c->eio, &c->eio_cfg, c->now);
}

void rc_client_free(rc_client *c)
{
    if (!c)
        return;
    while (c->links) {
        rc_link *l = c->links;
        c->links = l->next;
        if (l->state != RC_LINK_DEAD)
            c->cfg.io->close(c->cfg.io_ctx, l);
        rc_link_free(l);
    }
    while (c->acks) {
        rc_pending_ack *a = c->acks;
        c->acks = a->next;
        free(a);
    }
    while (c->namespaces) {
        rc_nsp *n = c->namespaces;
        c->namespaces = n->next;
        free(n);
    }
    if (c->started) {
        sio_sio_client_free(&c->sio);
        sio_eio_client_free(&c->eio);
    }
    free(c->path);
    free(c->query);
    free(c);
}

const rc_config *rc_client_config(const rc_client *c)
{
    return &c->cfg;
}

/* ------------------------------------------------------------------ tracing and errors */

void rc_client_trace(rc_client *c, const rc_trace *t)
{
    if (c->cfg.on_trace)
        c->cfg.on_trace(c, t, c->cfg.user);
}

static void emit_event(rc_client *c, const rc_event *ev)
{
    c->cfg.on_event(c, ev, c->cfg.user);
}

void rc_client_error(rc_client *c, const char *fmt, ...)
{
    char message[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (!c->attempt_error[0])
        snprintf(c->attempt_error, sizeof c->attempt_error, "%s", message);
    rc_event ev = {.type = RC_EV_ERROR, .message = message};
    emit_event(c, &ev);
}

/* The start of a body as printable text, for error messages. */
static void excerpt(char *out, size_t cap, const uint8_t *p, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n && w + 5 < cap; i++)
        out[w++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
    if (n > 0 && w + 5 >= cap)
        memcpy(out + w, "...", 3), w += 3;
    out[w] = '\0';
}

/* ------------------------------------------------------------------ what links report */

/* A link's channel is given up: the session hears of it (unless the link was not its own any
 * more), with a message for the application when one is given. */
void rc_client_link_failed(rc_client *c, rc_link *l, const char *message)
{
    if (!l->attached)
        return;
    l->attached = false;
    if (c->by_channel[l->channel] == l)
        c->by_channel[l->channel] = NULL;
    if (message && l->channel == SIO_EIO_CHANNEL_PROBE) {
        rc_trace t = {.kind = RC_TRACE_NOTE,
                      .link = l->id,
                      .channel = l->channel,
                      .note = "the upgrade probe failed; polling goes on"};
        rc_client_trace(c, &t);
    } else if (message) {
        rc_client_error(c, "%s", message);
    }
    sio_eio_client_channel_lost(&c->eio, l->channel, c->now);
    pump(c);
}

void rc_client_response(rc_client *c, rc_link *l)
{
    const sio_http_response *r = &l->resp;
    const uint8_t *body = rc_buf_data(&l->body);
    size_t len = rc_buf_size(&l->body);
    bool handshake = sio_eio_client_state_of(&c->eio) == SIO_EIO_CLIENT_OPENING;
    if (handshake)
        excerpt(c->handshake_excerpt, sizeof c->handshake_excerpt, body, len);
    if (r->status != 200) {
        char text[96];
        excerpt(text, sizeof text, body, len);
        rc_client_error(c, "HTTP %d %.*s answering %s %s%s: %s%s", r->status, (int)r->reason.len,
                        (const char *)r->reason.ptr,
                        l->channel == SIO_EIO_CHANNEL_POST ? "a POST to" : "a GET of", c->path,
                        handshake ? " (the handshake)" : "", text,
                        handshake && r->status == 404
                            ? " -- is this a Socket.IO server, and is the path right (--path)?"
                            : "");
    }
    sio_eio_client_response(&c->eio, l->channel, r->status,
                            sio_span_of(l->content_type, strlen(l->content_type)), body, len,
                            c->now);
    pump(c);
}

void rc_client_ws_opened(rc_client *c, rc_link *l)
{
    sio_eio_client_ws_opened(&c->eio, l->channel, c->now);
    pump(c);
}

void rc_client_ws_message(rc_client *c, rc_link *l, bool text, const uint8_t *p, size_t n)
{
    bool handshake = sio_eio_client_state_of(&c->eio) == SIO_EIO_CLIENT_OPENING;
    if (handshake)
        excerpt(c->handshake_excerpt, sizeof c->handshake_excerpt, p, n);
    sio_err rc = sio_eio_client_ws_message(&c->eio, l->channel, text, p, n, c->now);
    if (rc != SIO_OK && rc != SIO_ERR_EIO_WRONG_STATE && !handshake)
        rc_client_error(c,
                        "the server sent a WebSocket message that is not an Engine.IO "
                        "packet (%s)",
                        sio_err_message(rc));
    pump(c);
}

/* ------------------------------------------------------------------ the Engine.IO session */

static rc_link *link_for(rc_client *c, sio_eio_channel ch, bool reuse)
{
    rc_link *l = c->by_channel[ch];
    if (l && reuse && l->state == RC_LINK_IDLE)
        return l;
    if (l) { /* a connection that cannot carry the next request */
        l->attached = false;
        rc_link_drop(l, "replaced");
    }
    l = rc_link_new(c, ch);
    if (l)
        l->attached = true;
    c->by_channel[ch] = l;
    return l;
}

/* The session ended: connections still finishing (a last POST, closing WebSockets) linger, the
 * others are closed now. */
static void release_links(rc_client *c)
{
    for (int ch = 0; ch < 4; ch++) {
        rc_link *l = c->by_channel[ch];
        c->by_channel[ch] = NULL;
        if (!l)
            continue;
        l->attached = false;
        if (rc_buf_size(&l->out) || l->state == RC_LINK_CONNECTING ||
            (ch == SIO_EIO_CHANNEL_POST && l->state == RC_LINK_REQUEST))
            rc_link_linger(l);
        else
            rc_link_drop(l, "the Engine.IO session ended");
    }
}

static const char *close_reason_text(sio_eio_close_reason r)
{
    switch (r) {
    case SIO_EIO_REASON_PING_TIMEOUT:
        return "ping timeout";
    case SIO_EIO_REASON_PARSE_ERROR:
        return "parse error";
    case SIO_EIO_REASON_TRANSPORT_ERROR:
        return "transport error";
    case SIO_EIO_REASON_FORCED_CLOSE:
        return "forced close";
    default:
        return "transport close";
    }
}

static void new_attempt(rc_client *c)
{
    c->attempt_opened = false;
    c->attempt_error[0] = '\0';
}

/* A connection attempt failed before its session opened: every namespace waiting for it hears
 * of it (socket.io-client's connect_error), and is joined again with the next attempt. */
static void attempt_failed(rc_client *c, sio_eio_close_reason reason)
{
    const char *why = c->attempt_error[0]                     ? c->attempt_error
                      : reason == SIO_EIO_REASON_FORCED_CLOSE ? "timeout"
                                                              : close_reason_text(reason);
    char data[sizeof c->attempt_error + 32];
    sio_json_writer w;
    size_t n = 0;
    sio_json_writer_init(&w, (uint8_t *)data, sizeof data);
    sio_json_write_begin_object(&w);
    sio_json_write_key(&w, (const uint8_t *)"message", 7);
    sio_json_write_string(&w, (const uint8_t *)why, strlen(why));
    sio_json_write_end_object(&w);
    if (sio_json_writer_finish(&w, &n) != SIO_OK)
        n = 0;
    if (c->eio_cfg.websocket_only && c->cfg.fallback_to_polling) {
        c->eio_cfg.websocket_only = false; /* the next attempts poll */
        c->eio_cfg.upgrade = false;
    }
    for (rc_nsp *ns = c->namespaces; ns; ns = ns->next) {
        if (!ns->active || ns->joined)
            continue;
        rc_event e = {.type = RC_EV_CONNECT_ERROR,
                      .nsp = sio_span_of(ns->name, ns->len),
                      .data = sio_span_of(data, n),
                      .retrying = true};
        emit_event(c, &e);
    }
}

static void eio_closed(rc_client *c, const sio_eio_client_event *ev)
{
    if (!c->attempt_opened && !c->closing)
        attempt_failed(c, ev->reason);
    if (!c->ever_open && ev->reason == SIO_EIO_REASON_PARSE_ERROR)
        rc_client_error(c,
                        "not a Socket.IO server: the answer to the handshake is not an "
                        "Engine.IO open packet (\"%s\")",
                        c->handshake_excerpt);
    else if (ev->reason == SIO_EIO_REASON_PING_TIMEOUT)
        rc_client_error(c, "the server stopped sending pings (ping timeout)");
    rc_trace t = {.kind = RC_TRACE_NOTE, .note = close_reason_text(ev->reason)};
    char note[80];
    snprintf(note, sizeof note, "Engine.IO session closed: %s", close_reason_text(ev->reason));
    t.note = note;
    rc_client_trace(c, &t);
    release_links(c);
    sio_sio_client_eio_closed(&c->sio, ev->reason, c->now);
}

static void upgraded(rc_client *c)
{
    rc_link *l = c->by_channel[SIO_EIO_CHANNEL_PROBE];
    c->by_channel[SIO_EIO_CHANNEL_PROBE] = NULL;
    c->by_channel[SIO_EIO_CHANNEL_WEBSOCKET] = l;
    if (l)
        l->channel = SIO_EIO_CHANNEL_WEBSOCKET;
    for (int ch = SIO_EIO_CHANNEL_GET; ch <= SIO_EIO_CHANNEL_POST; ch++) {
        rc_link *p = c->by_channel[ch]; /* polling is over: its idle connections go */
        if (p && p->state == RC_LINK_IDLE) {
            c->by_channel[ch] = NULL;
            p->attached = false;
            rc_link_drop(p, "upgraded to WebSocket");
        }
    }
    rc_event e = {.type = RC_EV_UPGRADE};
    emit_event(c, &e);
}

static void eio_event(rc_client *c, const sio_eio_client_event *ev)
{
    rc_link *l;
    switch (ev->type) {
    case SIO_EIO_CLIENT_EV_REQUEST:
        if ((l = link_for(c, ev->channel, true)) != NULL)
            rc_link_http_request(l, ev);
        break;
    case SIO_EIO_CLIENT_EV_WS_OPEN:
        if ((l = link_for(c, ev->channel, false)) != NULL)
            rc_link_ws_open(l, ev->target);
        break;
    case SIO_EIO_CLIENT_EV_WS_SEND:
        if ((l = c->by_channel[ev->channel]) != NULL)
            rc_link_ws_send(l, ev->binary ? SIO_WS_OP_BINARY : SIO_WS_OP_TEXT, ev->data.ptr,
                            ev->data.len);
        break;
    case SIO_EIO_CLIENT_EV_WS_CLOSE:
        if ((l = c->by_channel[ev->channel]) != NULL) {
            c->by_channel[ev->channel] = NULL;
            l->attached = false;
            if (l->state == RC_LINK_WEBSOCKET) {
                rc_link_ws_close(l, SIO_WS_CLOSE_NORMAL);
                rc_link_linger(l);
            } else {
                rc_link_drop(l, "WebSocket given up");
            }
        }
        break;
    case SIO_EIO_CLIENT_EV_OPEN: {
        c->ever_open = c->attempt_opened = true;
        rc_event e = {.type = RC_EV_OPEN, .sid = sio_eio_client_sid(&c->eio)};
        emit_event(c, &e);
        sio_sio_client_eio_open(&c->sio, c->now);
        break;
    }
    case SIO_EIO_CLIENT_EV_MESSAGE:
        sio_sio_client_receive(&c->sio, ev->binary, ev->data.ptr, ev->data.len, c->now);
        break;
    case SIO_EIO_CLIENT_EV_UPGRADED:
        upgraded(c);
        break;
    case SIO_EIO_CLIENT_EV_CLOSED:
        eio_closed(c, ev);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ namespaces and acks */

static rc_nsp *nsp_find(rc_client *c, sio_span name)
{
    if (name.len == 0)
        name = sio_span_of("/", 1);
    for (rc_nsp *n = c->namespaces; n; n = n->next)
        if (n->len == name.len && memcmp(n->name, name.ptr, name.len) == 0)
            return n;
    return NULL;
}

static bool any_active(const rc_client *c)
{
    for (const rc_nsp *n = c->namespaces; n; n = n->next)
        if (n->active)
            return true;
    return false;
}

static void forget_acks(rc_client *c, sio_span nsp)
{
    for (rc_pending_ack **p = &c->acks; *p;) {
        rc_pending_ack *a = *p;
        if (a->nsp_len == nsp.len && memcmp(a->nsp, nsp.ptr, nsp.len) == 0) {
            *p = a->next;
            free(a);
        } else {
            p = &a->next;
        }
    }
}

static void ack_arrived(rc_client *c, const sio_sio_client_event *ev)
{
    for (rc_pending_ack **p = &c->acks; *p; p = &(*p)->next) {
        rc_pending_ack *a = *p;
        if (a->id == ev->id && a->nsp_len == ev->nsp.len &&
            memcmp(a->nsp, ev->nsp.ptr, ev->nsp.len) == 0) {
            *p = a->next;
            a->fn(c, ev->nsp, ev->data, ev->attachments, ev->attachment_count, a->ctx);
            free(a);
            return;
        }
    }
}

/* A namespace ended for good (refused, or left by either side): once none is left, the
 * connection closes, as socket.io-client's Manager does when its last socket is gone. */
static void nsp_ended(rc_client *c, sio_span name)
{
    rc_nsp *n = nsp_find(c, name);
    if (n)
        n->joined = n->active = false;
    forget_acks(c, name);
    if (!any_active(c) && !c->closing)
        rc_close(c);
}

/* ------------------------------------------------------------------ the Socket.IO session */

static void sio_event(rc_client *c, const sio_sio_client_event *ev)
{
    rc_event e = {.nsp = ev->nsp, .attempt = ev->attempt, .delay_ms = ev->delay_ms};
    rc_nsp *n;
    switch (ev->type) {
    case SIO_SIO_CLIENT_EV_CONNECTED:
        if ((n = nsp_find(c, ev->nsp)) != NULL)
            n->joined = true;
        e.type = RC_EV_CONNECT;
        e.sid = ev->data;
        e.recovered = ev->recovered;
        emit_event(c, &e);
        return;
    case SIO_SIO_CLIENT_EV_CONNECT_ERROR:
        e.type = RC_EV_CONNECT_ERROR;
        e.data = ev->data;
        emit_event(c, &e);
        nsp_ended(c, ev->nsp);
        return;
    case SIO_SIO_CLIENT_EV_EVENT:
        e.type = RC_EV_EVENT;
        e.data = ev->data;
        e.attachments = ev->attachments;
        e.attachment_count = ev->attachment_count;
        e.has_ack = ev->has_id;
        e.ack_id = ev->id;
        emit_event(c, &e);
        return;
    case SIO_SIO_CLIENT_EV_ACK:
        ack_arrived(c, ev);
        return;
    case SIO_SIO_CLIENT_EV_DISCONNECTED:
        e.type = RC_EV_DISCONNECT;
        e.reason = sio_sio_client_reason_name(ev->reason);
        if ((n = nsp_find(c, ev->nsp)) != NULL)
            n->joined = false;
        forget_acks(c, ev->nsp);
        emit_event(c, &e);
        if (ev->reason == SIO_SIO_CLIENT_REASON_SERVER_DISCONNECT ||
            ev->reason == SIO_SIO_CLIENT_REASON_CLIENT_DISCONNECT)
            nsp_ended(c, ev->nsp);
        return;
    case SIO_SIO_CLIENT_EV_RECONNECT_SCHEDULED:
        e.type = RC_EV_RECONNECT_SCHEDULED;
        break;
    case SIO_SIO_CLIENT_EV_RECONNECTING:
        new_attempt(c);
        e.type = RC_EV_RECONNECT_ATTEMPT;
        break;
    case SIO_SIO_CLIENT_EV_RECONNECTED:
        e.type = RC_EV_RECONNECT;
        break;
    case SIO_SIO_CLIENT_EV_RECONNECT_FAILED:
        e.type = RC_EV_RECONNECT_FAILED;
        break;
    case SIO_SIO_CLIENT_EV_CLOSED:
        c->closing = true;
        e.type = RC_EV_CLOSED;
        break;
    default:
        return;
    }
    emit_event(c, &e);
}

/* Runs both sessions until neither has anything left to say. The Engine.IO session's events are
 * drained first each time: a MESSAGE views the input, which must stay valid until then. */
static void pump(rc_client *c)
{
    if (!c->started)
        return;
    for (bool progress = true; progress;) {
        progress = false;
        sio_eio_client_event eev;
        for (;;) {
            sio_eio_client_next_event(&c->eio, &eev);
            if (eev.type == SIO_EIO_CLIENT_EV_NONE)
                break;
            eio_event(c, &eev);
            progress = true;
        }
        sio_sio_client_event sev;
        for (;;) {
            sio_sio_client_next_event(&c->sio, &sev);
            if (sev.type == SIO_SIO_CLIENT_EV_NONE)
                break;
            sio_event(c, &sev);
            progress = true;
        }
    }
}

/* ------------------------------------------------------------------ the application */

sio_err rc_join(rc_client *c, sio_span nsp, sio_span auth)
{
    if (nsp.len == 0)
        nsp = sio_span_of("/", 1);
    if (nsp.len > SIO_SIO_CLIENT_MAX_NAMESPACE)
        return SIO_ERR_LIMIT;
    if (!c->started || c->closing)
        return SIO_ERR_SIO_WRONG_STATE;
    sio_err rc = sio_sio_client_connect(&c->sio, nsp, auth, NULL, c->cfg.io->now(c->cfg.io_ctx));
    if (rc != SIO_OK)
        return rc;
    rc_nsp *n = nsp_find(c, nsp);
    if (!n && (n = calloc(1, sizeof *n)) != NULL) {
        memcpy(n->name, nsp.ptr, nsp.len);
        n->len = nsp.len;
        n->next = c->namespaces;
        c->namespaces = n;
    }
    if (n)
        n->active = true;
    return SIO_OK;
}

sio_err rc_leave(rc_client *c, sio_span nsp)
{
    if (nsp.len == 0)
        nsp = sio_span_of("/", 1);
    if (!c->started)
        return SIO_ERR_SIO_NOT_JOINED;
    return sio_sio_client_disconnect(&c->sio, nsp, c->cfg.io->now(c->cfg.io_ctx));
}

/* Whether the transport takes a packet at once (socket.io-client's `writable`): a WebSocket
 * whose output is drained, or polling with no POST in flight. */
static bool transport_writable(const rc_client *c)
{
    const rc_link *l;
    switch (sio_eio_client_state_of(&c->eio)) {
    case SIO_EIO_CLIENT_WEBSOCKET:
        l = c->by_channel[SIO_EIO_CHANNEL_WEBSOCKET];
        return l && l->state == RC_LINK_WEBSOCKET && rc_buf_size(&l->out) == 0;
    case SIO_EIO_CLIENT_POLLING:
    case SIO_EIO_CLIENT_PROBING:
        l = c->by_channel[SIO_EIO_CHANNEL_POST];
        return !l || l->state == RC_LINK_IDLE;
    default:
        return false;
    }
}

sio_err rc_emit(rc_client *c, sio_span nsp, sio_span args, const sio_span *attachments,
                uint32_t attachment_count, unsigned flags, rc_ack_fn on_ack, void *ack_ctx,
                bool *dropped)
{
    if (nsp.len == 0)
        nsp = sio_span_of("/", 1);
    if (dropped)
        *dropped = false;
    if (!c->started)
        return SIO_ERR_SIO_NOT_JOINED;
    if (flags & RC_EMIT_VOLATILE) {
        const rc_nsp *n = nsp_find(c, nsp);
        if (!n || !n->joined || sio_sio_client_state_of(&c->sio) != SIO_SIO_CLIENT_OPEN ||
            !transport_writable(c)) {
            if (dropped)
                *dropped = true;
            return SIO_OK;
        }
    }
    rc_pending_ack *a = NULL;
    if (on_ack && (a = calloc(1, sizeof *a)) == NULL)
        return SIO_ERR_NO_MEMORY;
    uint64_t id = 0;
    sio_err rc = sio_sio_client_emit(&c->sio, nsp, args, attachments, attachment_count,
                                     on_ack != NULL, &id, c->cfg.io->now(c->cfg.io_ctx));
    if (rc != SIO_OK || !a) {
        free(a);
        return rc;
    }
    a->fn = on_ack;
    a->ctx = ack_ctx;
    a->id = id;
    memcpy(a->nsp, nsp.ptr, nsp.len);
    a->nsp_len = nsp.len;
    a->next = c->acks;
    c->acks = a;
    return SIO_OK;
}

sio_err rc_ack(rc_client *c, sio_span nsp, uint64_t ack_id, sio_span args,
               const sio_span *attachments, uint32_t attachment_count)
{
    if (nsp.len == 0)
        nsp = sio_span_of("/", 1);
    if (!c->started)
        return SIO_ERR_SIO_NOT_JOINED;
    return sio_sio_client_ack(&c->sio, nsp, ack_id, args, attachments, attachment_count,
                              c->cfg.io->now(c->cfg.io_ctx));
}

void rc_close(rc_client *c)
{
    if (!c->started || c->closing)
        return;
    c->closing = true;
    for (rc_nsp *n = c->namespaces; n; n = n->next)
        n->joined = n->active = false;
    sio_sio_client_close(&c->sio, c->cfg.io->now(c->cfg.io_ctx));
}

bool rc_client_idle(const rc_client *c)
{
    if (c->started && sio_sio_client_state_of(&c->sio) != SIO_SIO_CLIENT_CLOSED)
        return false;
    for (const rc_link *l = c->links; l; l = l->next)
        if (l->state != RC_LINK_DEAD)
            return false;
    return true;
}

sio_sio_client_state rc_client_state(const rc_client *c)
{
    return c->started ? sio_sio_client_state_of(&c->sio) : SIO_SIO_CLIENT_CLOSED;
}

sio_eio_client_state rc_client_transport_state(const rc_client *c)
{
    return c->started ? sio_eio_client_state_of(&c->eio) : SIO_EIO_CLIENT_CLOSED;
}

/* ------------------------------------------------------------------ the round */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t rc_client_process(rc_client *c)
{
    c->now = c->cfg.io->now(c->cfg.io_ctx);
    pump(c); /* what the application did since the last round */
    for (rc_link *l = c->links; l; l = l->next)
        rc_link_process(l);
    if (c->started && sio_eio_client_next_deadline(&c->eio) <= c->now) {
        sio_eio_client_timeout(&c->eio, c->now);
        pump(c);
    }
    if (c->started && sio_sio_client_next_deadline(&c->sio) <= c->now) {
        sio_sio_client_timeout(&c->sio, c->now);
        pump(c);
    }
    uint64_t next = UINT64_MAX;
    for (rc_link **p = &c->links; *p;) {
        rc_link *l = *p;
        if (l->state == RC_LINK_LINGER && l->linger_due <= c->now)
            rc_link_drop(l, "gave up waiting for the end of the connection");
        if (l->state == RC_LINK_DEAD) {
            *p = l->next;
            rc_link_free(l);
            continue;
        }
        if (l->state == RC_LINK_LINGER)
            next = min_u64(next, l->linger_due);
        if (l->connect_reported || l->closed_reported) /* reported during this round */
            next = c->now;
        p = &l->next;
    }
    if (c->started) {
        next = min_u64(next, sio_eio_client_next_deadline(&c->eio));
        next = min_u64(next, sio_sio_client_next_deadline(&c->sio));
    }
    return next;
}
