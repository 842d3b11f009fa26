/* Engine.IO over HTTP: request validation with the status codes and JSON bodies of checklist
 * group B, the handshake, long-poll GETs, POSTs, and the packets they carry. */
#include <stdlib.h>
#include <string.h>

#include "sio/eio.h"

#include "eio.h"

/* Engine.IO error codes and messages (EIO-HS-12). */
enum {
    EIO_ERR_TRANSPORT = 0,
    EIO_ERR_SID = 1,
    EIO_ERR_METHOD = 2,
    EIO_ERR_BAD_REQUEST = 3,
    EIO_ERR_FORBIDDEN = 4,
    EIO_ERR_PROTOCOL = 5
};
static const char *const eio_error_messages[] = {
    "Transport unknown", "Session ID unknown", "Bad handshake method",
    "Bad request",       "Forbidden",          "Unsupported protocol version"};

/* The query parameters Engine.IO looks at, percent-decoded. */
typedef struct eio_query {
    char transport[16];
    char eio[8];
    char sid[64];
    char jsonp_index[SIO_EIO_JSONP_MAX_INDEX_DIGITS + 1]; /* digits of j */
    bool has_transport, has_eio, has_sid, b64, jsonp;
} eio_query;

/* A parameter longer than its field is kept as present but empty, which no check accepts. */
static bool query_field(sio_span q, const char *name, char *out, size_t cap)
{
    size_t n = 0;
    sio_err rc = sio_http_query_get(q, name, (uint8_t *)out, cap - 1, &n);
    if (rc == SIO_ERR_HTTP_NOT_FOUND)
        return false;
    out[rc == SIO_OK ? n : 0] = '\0';
    if (rc != SIO_OK)
        out[0] = '\x01';
    return true;
}

static void read_query(const sio_http_request *req, eio_query *q)
{
    memset(q, 0, sizeof *q);
    q->has_transport = query_field(req->query, "transport", q->transport, sizeof q->transport);
    q->has_eio = query_field(req->query, "EIO", q->eio, sizeof q->eio);
    q->has_sid = query_field(req->query, "sid", q->sid, sizeof q->sid) && q->sid[0] != '\0';
    sio_span raw;
    q->b64 = sio_http_query_raw(req->query, "b64", &raw) == SIO_OK;
    char j[64];
    if (query_field(req->query, "j", j, sizeof j)) {
        size_t n = 0; /* Node keeps only the digits of j */
        for (const char *p = j; *p && n < SIO_EIO_JSONP_MAX_INDEX_DIGITS; p++)
            if (*p >= '0' && *p <= '9')
                q->jsonp_index[n++] = *p;
        q->jsonp_index[n] = '\0';
        q->jsonp = true;
    }
}

static void refuse(conn *c, bool upgrade, int code)
{
    if (upgrade)
        http_respond_raw_400(c, eio_error_messages[code]);
    else
        http_respond_error(c, 400, code, eio_error_messages[code]);
}

static bool span_is(sio_span s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

/* Protocol from the EIO parameter: "4", or "3" when v3 is allowed; 0 = unsupported (EIO-HS-04). */
static int protocol_of(const server *srv, const eio_query *q)
{
    if (q->has_eio && strcmp(q->eio, "4") == 0)
        return 4;
    if (srv->cfg.allow_eio3 && q->has_eio && strcmp(q->eio, "3") == 0)
        return 3;
    return 0;
}

/* The open packet's JSON (without the leading '0'), queued as the session's first packet. */
static void queue_open_packet(session *s, bool polling)
{
    const server_config *cfg = &s->srv->cfg;
    sio_eio_open o;
    memset(&o, 0, sizeof o);
    o.sid = sio_span_of(s->sid, SERVER_SID_LEN);
    o.has_upgrades = true;
    o.upgrade_count = polling ? 1 : 0;
    o.upgrades[0] = sio_span_of("websocket", 9);
    o.ping_interval = cfg->ping_interval;
    o.ping_timeout = cfg->ping_timeout;
    o.max_payload = cfg->max_payload;
    o.has_max_payload = true;
    uint8_t json[256];
    size_t n = 0;
    if (sio_eio_open_encode(&o, json, sizeof json, &n) == SIO_OK)
        eio_send_packet(s, SIO_EIO_OPEN, false, json + 1, n - 1);
}

/* The fixture's application-level refusal (FIXTURE.md section 3, EIO-HS-18): a Socket.IO
 * handshake whose query carries `refuse=<reason>` is turned down with that reason, as Node's
 * allowRequest does. The reason is echoed only when it is 1-40 letters, digits or '-', so it
 * can go into JSON and a response body unescaped; anything else is refused as "Forbidden". */
static bool refused_by_app(conn *c, const sio_http_request *req, bool upgrade, app_kind app)
{
    char reason[48];
    if (app != APP_SOCKETIO || !query_field(req->query, "refuse", reason, sizeof reason))
        return false;
    size_t n = strlen(reason);
    bool plain = n >= 1 && n <= 40;
    for (size_t i = 0; plain && i < n; i++) {
        char ch = reason[i];
        plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                ch == '-';
    }
    const char *message = plain ? reason : eio_error_messages[EIO_ERR_FORBIDDEN];
    if (upgrade)
        http_respond_raw_400(c, message);
    else
        http_respond_error(c, 403, EIO_ERR_FORBIDDEN, message);
    return true;
}

/* A new session (EIO-HS-01/02): polling answers the GET with the open packet; WebSocket
 * switches protocols and sends it as the first frame. The application may refuse it first;
 * Node asks allowRequest before it looks at the protocol version. */
static void handshake(conn *c, const sio_http_request *req, const eio_query *q, bool upgrade,
                      app_kind app, const char *accept_key)
{
    if (refused_by_app(c, req, upgrade, app))
        return;
    int protocol = protocol_of(c->srv, q);
    if (protocol == 0) {
        refuse(c, upgrade, EIO_ERR_PROTOCOL);
        return;
    }
    if (c->srv->shutting_down) {
        /* A request read during the final drain must not create a session nobody frees. */
        if (upgrade)
            http_respond_raw_400(c, "Server shutting down");
        else
            http_respond_error(c, 503, EIO_ERR_BAD_REQUEST, "Server shutting down");
        return;
    }
    session *s = eio_session_new(c->srv, protocol, q->b64, app);
    if (!upgrade && q->jsonp) {
        s->jsonp = true;
        s->jsonp_index = xstrndup(q->jsonp_index, strlen(q->jsonp_index));
    }
    if (upgrade) {
        ws_accept_upgrade(c, req, accept_key);
        s->transport = EIO_WEBSOCKET;
        s->ws = c;
    }
    c->session = s;
    log_msg(c->srv, LOG_DEBUG, "session %s opened over %s (EIO=%d)", s->sid,
            upgrade ? "websocket" : "polling", protocol);
    eio_dispatch_begin(s);
    queue_open_packet(s, !upgrade);
    const char *initial = c->srv->cfg.initial_packet;
    if (app == APP_ENGINEIO_ECHO && initial) /* EIO-HS-21: in the same first response */
        eio_send_packet(s, SIO_EIO_MESSAGE, false, (const uint8_t *)initial, strlen(initial));
    if (!upgrade) { /* the GET takes what is queued so far; the application's packets wait */
        s->get = c;
        http_hold(c);
        eio_flush(s);
    }
    eio_heartbeat_start(s);
    if (s->app->open)
        s->app->open(s);
    eio_flush(s);
    eio_dispatch_end(s);
}

/* A long-poll GET: answered at once when packets wait, otherwise held (EIO-POLL-04). A second
 * GET while one is held kills the session (EIO-POLL-01). */
static void polling_get(conn *c, session *s)
{
    if (s->get) {
        http_respond(c, 400, NULL, NULL, 0);
        eio_terminate(s, "transport error", SIO_EIO_CLOSE);
        return;
    }
    s->get = c;
    c->session = s;
    http_hold(c);
    if (s->upgrade == UPGRADE_PROBED && s->queue_count == 0) {
        eio_send_packet(s, SIO_EIO_NOOP, false, NULL, 0); /* release polling (EIO-UP-02) */
    } else if (s->closing && s->queue_count == 0) {
        eio_terminate(s, "forced server close", SIO_EIO_CLOSE);
    } else {
        eio_flush(s);
    }
}

/* A POST: checked now, answered once its body has arrived and been dispatched. */
static void polling_post(conn *c, session *s, const sio_http_request *req)
{
    const sio_http_header *ct = sio_http_header_find(req, "content-type");
    if (s->post) {
        http_respond(c, 400, NULL, NULL, 0); /* overlapping POST (EIO-POLL-02) */
        eio_terminate(s, "transport error", SIO_EIO_CLOSE);
    } else if (s->protocol == 4 && ct && ct->value.len >= 24 &&
               strncmp((const char *)ct->value.ptr, "application/octet-stream", 24) == 0) {
        http_respond(c, 400, NULL, NULL, 0); /* v4 payloads are text (EIO-PKT-14) */
        eio_terminate(s, "transport error", SIO_EIO_CLOSE);
    } else if (req->body == SIO_HTTP_BODY_CHUNKED) {
        http_respond(c, 411, NULL, NULL, 0);
    } else if (req->content_length > c->srv->cfg.max_payload) {
        http_respond(c, 413, NULL, NULL, 0); /* session kept (EIO-POLL-05) */
    } else {
        s->post = c;
        c->session = s;
        http_expect_body(c, req);
    }
}

/* Requests carrying a sid (EIO-HS-08/10/19, EIO-UP-04/05). Each endpoint is a server of its
 * own: a sid of the other endpoint's application is unknown here. */
static void existing_session(conn *c, const sio_http_request *req, const eio_query *q, bool upgrade,
                             app_kind app, const char *accept_key)
{
    session *s = eio_find(c->srv, (const uint8_t *)q->sid, strlen(q->sid));
    if (s != NULL && s->app != (app == APP_ENGINEIO_ECHO ? &echo_app : &socketio_app))
        s = NULL;
    if (s == NULL || (s->closing && upgrade)) {
        refuse(c, upgrade, EIO_ERR_SID);
    } else if (upgrade) {
        ws_accept_upgrade(c, req, accept_key);
        if (s->transport == EIO_WEBSOCKET || s->upgrade != UPGRADE_NONE ||
            strcmp(q->transport, "websocket") != 0) {
            ws_send_close(c, SIO_WS_CLOSE_NORMAL); /* one WebSocket per session */
            return;
        }
        s->probe = c;
        c->session = s;
        s->upgrade = UPGRADE_PROBING;
        timer_start(&c->srv->loop, &s->upgrade_timer, c->srv->cfg.upgrade_timeout);
    } else if (strcmp(q->transport, s->transport == EIO_WEBSOCKET ? "websocket" : "polling") != 0) {
        refuse(c, false, EIO_ERR_BAD_REQUEST);
    } else if (span_is(req->method, "GET")) {
        polling_get(c, s);
    } else if (span_is(req->method, "POST")) {
        polling_post(c, s, req);
    } else {
        http_respond(c, 500, NULL, NULL, 0);
    }
}

/* The checks happen in the order Node's verify() makes them, so that a request with several
 * faults gets the same code (EIO-HS-05: transport first). */
void eio_handle_request(conn *c, const sio_http_request *req, app_kind app)
{
    eio_query q;
    read_query(req, &q);
    bool upgrade = sio_http_header_has_token(req, "upgrade", "websocket");
    if (!q.has_transport ||
        (strcmp(q.transport, "polling") != 0 && strcmp(q.transport, "websocket") != 0)) {
        refuse(c, upgrade, EIO_ERR_TRANSPORT);
        return;
    }
    char accept_key[SIO_WS_ACCEPT_LEN + 1] = "";
    if (upgrade && !ws_check_handshake(c, req, accept_key))
        return;
    if (q.has_sid) {
        existing_session(c, req, &q, upgrade, app, accept_key);
    } else if (!span_is(req->method, "GET")) {
        refuse(c, upgrade, EIO_ERR_METHOD);
    } else if (strcmp(q.transport, "websocket") == 0 ? !upgrade : upgrade) {
        refuse(c, upgrade, EIO_ERR_BAD_REQUEST); /* EIO-HS-07, EIO-HS-15 */
    } else {
        handshake(c, req, &q, upgrade, app, accept_key);
    }
}

/* ------------------------------------------------------------------ received packets */

/* One packet from the client, on whichever transport (checklist C and ERR-01/02). */
void eio_receive_packet(session *s, const sio_eio_packet *pkt)
{
    switch (pkt->type) {
    case SIO_EIO_CLOSE:
        eio_terminate(s, "transport close",
                      SIO_EIO_NOOP); /* the held GET gets a noop (EIO-CL-01) */
        break;
    case SIO_EIO_PING:
        if (s->protocol == 3)
            eio_on_v3_ping(s);
        else
            eio_terminate(s, "transport error", SIO_EIO_CLOSE); /* wrong direction (EIO-HB-05) */
        break;
    case SIO_EIO_PONG:
        if (s->protocol == 4)
            eio_on_pong(s);
        else
            eio_terminate(s, "transport error", SIO_EIO_CLOSE);
        break;
    case SIO_EIO_MESSAGE:
        eio_deliver_message(s, pkt);
        break;
    default:
        break; /* open, upgrade, noop on the active transport are ignored (EIO-POLL-07) */
    }
}

/* Hands a message to the application, decoding base64 records to bytes first. */
void eio_deliver_message(session *s, const sio_eio_packet *pkt)
{
    if (s->closing || s->deferred_reason)
        return;
    if (!pkt->binary || !pkt->base64) {
        s->app->message(s, pkt->binary, pkt->data.ptr, pkt->data.len);
        return;
    }
    size_t need = 0;
    sio_eio_packet_binary(pkt, false, NULL, 0, &need);
    uint8_t *bytes = xmalloc(need);
    size_t n = 0;
    if (sio_eio_packet_binary(pkt, false, bytes, need, &n) == SIO_OK)
        s->app->message(s, true, bytes, n);
    else
        eio_terminate(s, "parse error", SIO_EIO_CLOSE);
    free(bytes);
}

static sio_eio_payload_format post_format(const session *s, const sio_http_request *req)
{
    if (s->protocol == 4)
        return SIO_EIO_PAYLOAD_V4;
    const sio_http_header *ct = sio_http_header_find(req, "content-type");
    bool octets = ct && ct->value.len >= 24 &&
                  strncmp((const char *)ct->value.ptr, "application/octet-stream", 24) == 0;
    return octets ? SIO_EIO_PAYLOAD_V3_BINARY : SIO_EIO_PAYLOAD_V3_TEXT;
}

/* Dispatches every packet of the body in order; a bad record closes the session after the
 * packets before it were delivered (EIO-PKT-02/03). The POST is answered "ok" afterwards, so
 * the replies are already queued for the next GET (EIO-POLL-08). */
/* A JSONP POST carries the payload form-encoded as d=… (EIO-PKT-20). */
static uint8_t *jsonp_unwrap(const uint8_t *body, size_t *n)
{
    size_t need = 0;
    sio_eio_jsonp_post_decode(body, *n, NULL, NULL, 0, &need);
    uint8_t *out = xmalloc(need);
    if (sio_eio_jsonp_post_decode(body, *n, NULL, out, need, n) != SIO_OK)
        *n = 0;
    return out;
}

void eio_handle_post_body(conn *c, const sio_http_request *req, const uint8_t *body, size_t n)
{
    session *s = c->session;
    if (s == NULL) {
        http_respond_error(c, 400, EIO_ERR_SID, eio_error_messages[EIO_ERR_SID]);
        return;
    }
    s->post = NULL;
    c->session = NULL;
    uint8_t *unwrapped = s->jsonp ? jsonp_unwrap(body, &n) : NULL;
    if (unwrapped)
        body = unwrapped;
    sio_eio_options opt = {.b64 = s->b64};
    sio_eio_payload_iter it;
    sio_eio_payload_iter_init(&it, post_format(s, req), body, n, &opt);
    eio_dispatch_begin(s);
    for (size_t i = 0; i <= n && !s->deferred_reason; i++) {
        sio_eio_packet pkt;
        bool has = false;
        sio_err rc = sio_eio_payload_next(&it, &pkt, &has);
        if (rc != SIO_OK) {
            log_msg(s->srv, LOG_DEBUG, "session %s: bad payload: %s", s->sid, sio_err_name(rc));
            eio_terminate(s, "parse error", SIO_EIO_CLOSE);
        }
        if (rc != SIO_OK || !has)
            break;
        eio_receive_packet(s, &pkt);
    }
    eio_dispatch_end(s);
    free(unwrapped);
    http_respond(c, 200, "text/html", "ok", 2);
}
