/* Fuzz target: the codec's server sessions (sio/eio_server.h, sio/sio_server.h) driven directly,
 * as a server drives them, by a scripted client: connections carrying HTTP/1.1 requests or a
 * WebSocket, arbitrary read boundaries, half-closes, resets and the passing of time, over
 * polling, WebSocket and the upgrade between them. The harness is a small synchronous I/O
 * adapter: the codec's HTTP parser reads request heads, sio_eio_request_read classifies them,
 * the codec's frame parser reads WebSocket streams, and the sessions' events are checked and
 * carried out in memory. The application on top is the Engine.IO echo, or a small Socket.IO
 * application whose reactions the client's events choose (see app_event()).
 *
 * Input: byte 0 = configuration (bit 0: Engine.IO echo application instead of Socket.IO,
 * bit 1: allow EIO=3, bit 2: max payload 64 bytes, bit 3: ping interval 300 ms), then
 * operations, each one byte and its arguments:
 *   op % 8 = 0 connect | 1 send <conn> <len> <bytes> | 2 send <conn> <len16> <bytes>
 *            3 half-close <conn> | 4 wait <n> (n x 100 ms) | 5 (no operation) <conn>
 *            6 reset <conn> | 7 send a WebSocket frame <conn> <opcode> <len> <payload>
 * The text "SID!" in sent bytes is replaced by the newest session id, so mutations can reach
 * an existing session. Oracles, besides the sanitizers and leak checks:
 *  - every event names a channel the session holds: a response only for a held GET or an open
 *    POST, WebSocket messages and closes only for the WebSocket or probe, nothing after CLOSED;
 *  - every response body decodes as the session's payload format (v4, v3 text or XHR2, JSONP),
 *    every WebSocket message as an Engine.IO packet, open packets with sio_eio_open_decode and,
 *    for the Socket.IO application, every message with the strict Socket.IO decoder;
 *  - Socket.IO events name a namespace the application accepted; the deadlines never lie in
 *    the past after a timeout;
 *  - after the script, a new client still gets an Engine.IO handshake. */
#include "fuzz_log.h"

#include "sio/eio_server.h"
#include "sio/json.h"
#include "sio/packet.h"
#include "sio/sio_server.h"
#include "sio/ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONNS    32
#define MAX_SESSIONS 16
#define MAX_HEAD     8192u

typedef enum conn_state { C_HTTP, C_BODY, C_HELD, C_WS, C_CLOSED } conn_state;

typedef struct fconn {
    bool used;
    conn_state state;
    int session; /* index, or -1 */
    sio_eio_channel channel;
    fuzz_log in;
    size_t body_len; /* C_BODY: bytes of the POST body */
    sio_ws_parser ws;
    fuzz_log message; /* a fragmented WebSocket message */
    bool message_text;
} fconn;

typedef struct fsession {
    bool used;
    bool echo;
    sio_eio_server eio;
    sio_sio_server sio;
    bool sio_open;
    uint8_t channels; /* what the harness believes the session holds */
    int conn[4];      /* the connection of each channel, or -1 */
    char sid[16];
    uint64_t next_ack_id;
} fsession;

static sio_eio_server_config eio_cfg;
static sio_sio_server_config sio_cfg;
static fconn conns[MAX_CONNS];
static fsession sessions[MAX_SESSIONS];
static unsigned nconns;
static uint64_t now;
static char last_sid[16];
static unsigned sids_issued;
static bool main_is_echo;   /* the echo application also on /socket.io/ (configuration bit 0) */
static int namespace_token; /* what accept() hands back: its address marks a joined namespace */

static void drain(int si);

/* ------------------------------------------------------------------ oracles */

static void check_sio_message(const uint8_t *p, size_t n, int protocol)
{
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    opt.protocol = protocol == 3 ? 4 : 5;
    opt.max_attachments = 1000;
    sio_pkt pkt;
    if (sio_pkt_decode(p, n, &opt, &pkt, NULL) != SIO_OK) {
        opt.protocol = 5; /* what a v4 client gets is checked under v5 rules too (sio_server.c) */
        if (sio_pkt_decode(p, n, &opt, &pkt, NULL) != SIO_OK)
            fuzz_fail_diff("server: sent a Socket.IO packet the codec rejects", p, n, NULL, 0);
    }
}

static void check_eio_packet(const fsession *s, const sio_eio_packet *pkt, int protocol)
{
    if (pkt->type == SIO_EIO_OPEN && !pkt->binary) {
        fuzz_log text = {NULL, 0, 0};
        log_put(&text, "0", 1);
        log_put(&text, pkt->data.ptr, pkt->data.len);
        sio_eio_open open;
        if (sio_eio_open_decode(protocol, text.p, text.len, &open) != SIO_OK)
            fuzz_fail_diff("server: sent an open packet the codec rejects", text.p, text.len, NULL,
                           0);
        log_free(&text);
    }
    if (!s->echo && pkt->type == SIO_EIO_MESSAGE && !pkt->binary)
        check_sio_message(pkt->data.ptr, pkt->data.len, protocol);
}

static void check_payload(const fsession *s, const char *type, const uint8_t *p, size_t n)
{
    int protocol = sio_eio_server_protocol(&s->eio);
    fuzz_log unwrapped = {NULL, 0, 0};
    if (strncmp(type, "text/javascript", 15) == 0) { /* JSONP */
        size_t need = 0;
        sio_span index;
        sio_eio_jsonp_decode(p, n, &index, NULL, 0, &need);
        uint8_t *out = malloc(need ? need : 1);
        if (!out)
            abort();
        if (sio_eio_jsonp_decode(p, n, &index, out, need, &need) != SIO_OK)
            fuzz_fail_diff("server: wrote a JSONP body the codec rejects", p, n, NULL, 0);
        log_put(&unwrapped, out, need);
        free(out);
        p = unwrapped.p;
        n = unwrapped.len;
    }
    sio_eio_payload_format fmt = protocol == 4 ? SIO_EIO_PAYLOAD_V4
                                 : strncmp(type, "application/octet-stream", 24) == 0
                                     ? SIO_EIO_PAYLOAD_V3_BINARY
                                     : SIO_EIO_PAYLOAD_V3_TEXT;
    sio_eio_options opt = {.b64 = true};
    if (sio_eio_payload_validate(fmt, p, n, &opt, NULL) != SIO_OK)
        fuzz_fail_diff("server: wrote a polling body the codec rejects", p, n, NULL, 0);
    sio_eio_payload_iter it;
    sio_eio_payload_iter_init(&it, fmt, p, n, &opt);
    sio_eio_packet pkt;
    bool has = true;
    while (sio_eio_payload_next(&it, &pkt, &has) == SIO_OK && has)
        check_eio_packet(s, &pkt, protocol);
    log_free(&unwrapped);
}

static void check_ws_message(const fsession *s, bool binary, const uint8_t *p, size_t n)
{
    int protocol = sio_eio_server_protocol(&s->eio);
    sio_eio_options opt = {.b64 = true};
    sio_eio_packet pkt;
    if (sio_eio_packet_decode(protocol, binary ? SIO_EIO_FRAME_WS_BINARY : SIO_EIO_FRAME_WS_TEXT, p,
                              n, &opt, &pkt) != SIO_OK)
        fuzz_fail_diff("server: sent a WebSocket message the Engine.IO codec rejects", p, n, NULL,
                       0);
    check_eio_packet(s, &pkt, protocol);
}

static void need_channel(const fsession *s, sio_eio_channel ch, const char *what)
{
    if (!(s->channels & (1u << ch)))
        fuzz_fail(what);
}

/* ------------------------------------------------------------------ connections */

static void conn_close(int ci)
{
    fconn *c = &conns[ci];
    c->state = C_CLOSED;
    log_free(&c->in);
    log_free(&c->message);
}

/* The session let go of a channel: its connection goes back to reading requests (HTTP) or is
 * closed (WebSocket). */
static void release(fsession *s, sio_eio_channel ch, bool close_it)
{
    int ci = s->conn[ch];
    s->channels &= (uint8_t) ~(1u << ch);
    s->conn[ch] = -1;
    if (ci < 0)
        return;
    conns[ci].session = -1;
    if (close_it)
        conn_close(ci);
    else if (conns[ci].state == C_HELD)
        conns[ci].state = C_HTTP;
}

static void attach(int si, sio_eio_channel ch, int ci)
{
    sessions[si].channels |= (uint8_t)(1u << ch);
    sessions[si].conn[ch] = ci;
    conns[ci].session = si;
    conns[ci].channel = ch;
}

/* ------------------------------------------------------------------ the application */

/* Whether a JSON token is the string `lit` (written without escapes). */
static bool token_is(sio_span token, const char *lit)
{
    size_t n = strlen(lit);
    return token.len == n + 2 && token.ptr[0] == '"' && memcmp(token.ptr + 1, lit, n) == 0;
}

/* The Socket.IO application: namespaces other than "/deny" are accepted; an event's name picks
 * the reaction: "ack" answers its ack, "ask" emits with an ack id, "bin" emits an attachment,
 * "leave" disconnects the namespace, "close" closes the connection; anything else is echoed. */
static void app_event(fsession *s, const sio_sio_server_event *ev)
{
    sio_span name = SIO_SPAN_NULL;
    sio_json_iter it;
    if (sio_json_array_iter(ev->data, &it) == SIO_OK)
        sio_json_next(&it, NULL, &name);
#define NAMED(lit) token_is(name, lit)
    if (ev->has_id && NAMED("ack")) {
        sio_sio_server_emit(&s->sio, ev->nsp, true, sio_span_of("[1]", 3), NULL, 0, true, ev->id,
                            now);
    } else if (NAMED("ask")) {
        sio_sio_server_emit(&s->sio, ev->nsp, false, sio_span_of("[\"q\"]", 5), NULL, 0, true,
                            s->next_ack_id++, now);
    } else if (NAMED("bin")) {
        const sio_span att = sio_span_of("\x01\x02", 2);
        sio_sio_server_emit(&s->sio, ev->nsp, false,
                            sio_span_of("[\"b\",{\"_placeholder\":true,\"num\":0}]", 35), &att, 1,
                            false, 0, now);
    } else if (NAMED("leave")) {
        sio_sio_server_disconnect(&s->sio, ev->nsp, now);
    } else if (NAMED("close")) {
        sio_sio_server_close(&s->sio, now);
    } else {
        sio_sio_server_send(&s->sio, ev->nsp, sio_span_of("2[\"echo\"]", 9), ev->attachments, 0,
                            false, 0, now);
    }
#undef NAMED
}

static void sio_event(fsession *s, const sio_sio_server_event *ev)
{
    switch (ev->type) {
    case SIO_SIO_SERVER_EV_NONE:
    case SIO_SIO_SERVER_EV_CLOSE:
        return;
    case SIO_SIO_SERVER_EV_CONNECT:
        if (ev->nsp.len == 5 && memcmp(ev->nsp.ptr, "/deny", 5) == 0)
            sio_sio_server_refuse(&s->sio, ev->nsp, sio_span_of("{\"message\":\"no\"}", 16));
        else
            sio_sio_server_accept(&s->sio, ev->nsp, sio_span_of("socket-id", 9), &namespace_token,
                                  now);
        return;
    default:
        FUZZ_ASSERT(ev->nsp_user == &namespace_token,
                    "server: a Socket.IO event for a namespace the application did not accept");
        if (ev->type == SIO_SIO_SERVER_EV_EVENT)
            app_event(s, ev);
    }
}

static void app_message(fsession *s, const sio_eio_server_event *ev)
{
    if (s->echo) {
        sio_eio_server_send(&s->eio, ev->binary, ev->data.ptr, ev->data.len, now);
        return;
    }
    sio_sio_server_event sev;
    sio_sio_server_receive(&s->sio, ev->binary, ev->data.ptr, ev->data.len, now, &sev);
    sio_event(s, &sev);
}

/* ------------------------------------------------------------------ sessions */

static void session_free(int si)
{
    fsession *s = &sessions[si];
    for (int ch = 0; ch < 4; ch++)
        release(s, (sio_eio_channel)ch, ch >= SIO_EIO_CHANNEL_WEBSOCKET);
    if (s->sio_open)
        sio_sio_server_free(&s->sio);
    sio_eio_server_free(&s->eio);
    s->used = false;
}

/* Carries out a session's events, checking each against the channels it holds. */
static void drain(int si)
{
    fsession *s = &sessions[si];
    sio_eio_server_event ev;
    while (s->used) {
        FUZZ_ASSERT(sio_eio_server_next_event(&s->eio, &ev) == SIO_OK,
                    "server: next_event failed without an allocation failure");
        switch (ev.type) {
        case SIO_EIO_SERVER_EV_NONE:
            return;
        case SIO_EIO_SERVER_EV_RESPOND:
            need_channel(s, ev.channel,
                         "server: a response for a request the session does not hold");
            if (ev.channel == SIO_EIO_CHANNEL_GET)
                check_payload(s, ev.content_type, ev.data.ptr, ev.data.len);
            release(s, ev.channel, false);
            break;
        case SIO_EIO_SERVER_EV_WS_SEND:
            need_channel(s, ev.channel,
                         "server: a WebSocket message on a channel it does not hold");
            check_ws_message(s, ev.binary, ev.data.ptr, ev.data.len);
            break;
        case SIO_EIO_SERVER_EV_WS_CLOSE:
            need_channel(s, ev.channel, "server: closes a WebSocket it does not hold");
            release(s, ev.channel, true);
            break;
        case SIO_EIO_SERVER_EV_UPGRADED: {
            need_channel(s, SIO_EIO_CHANNEL_PROBE, "server: upgraded without a probe");
            int ci = s->conn[SIO_EIO_CHANNEL_PROBE];
            release(s, SIO_EIO_CHANNEL_PROBE, false);
            attach(si, SIO_EIO_CHANNEL_WEBSOCKET, ci);
            break;
        }
        case SIO_EIO_SERVER_EV_MESSAGE:
            app_message(s, &ev);
            break;
        case SIO_EIO_SERVER_EV_CLOSED:
            FUZZ_ASSERT(sio_eio_server_next_event(&s->eio, &ev) == SIO_OK &&
                            ev.type == SIO_EIO_SERVER_EV_NONE,
                        "server: an event after CLOSED");
            session_free(si);
            return;
        }
    }
}

static void timeouts(void)
{
    for (int si = 0; si < MAX_SESSIONS; si++) {
        fsession *s = &sessions[si];
        if (!s->used)
            continue;
        if (s->sio_open && sio_sio_server_next_deadline(&s->sio) <= now) {
            sio_sio_server_event ev;
            sio_sio_server_timeout(&s->sio, now, &ev);
            sio_event(s, &ev);
        }
        if (sio_eio_server_next_deadline(&s->eio) <= now) {
            sio_eio_server_timeout(&s->eio, now);
            FUZZ_ASSERT(sio_eio_server_next_deadline(&s->eio) > now,
                        "server: a deadline still due after timeout()");
        }
        drain(si);
    }
}

/* ------------------------------------------------------------------ requests */

static int find_session(const sio_eio_request *er, bool echo)
{
    for (int si = 0; si < MAX_SESSIONS; si++)
        if (sessions[si].used && sessions[si].echo == echo &&
            er->sid_len == strlen(sessions[si].sid) &&
            memcmp(er->sid, sessions[si].sid, er->sid_len) == 0)
            return si;
    return -1;
}

static void handshake(int ci, const sio_eio_request *er, bool echo)
{
    int si = 0;
    while (si < MAX_SESSIONS && sessions[si].used)
        si++;
    if (si == MAX_SESSIONS) {
        conn_close(ci);
        return;
    }
    fsession *s = &sessions[si];
    memset(s, 0, sizeof *s);
    for (int ch = 0; ch < 4; ch++)
        s->conn[ch] = -1;
    snprintf(s->sid, sizeof s->sid, "sid%u", ++sids_issued % 100000);
    if (sio_eio_server_open(&s->eio, &eio_cfg, er, s->sid, strlen(s->sid), now) != SIO_OK) {
        conn_close(ci); /* refused: unsupported protocol */
        return;
    }
    s->used = true;
    s->echo = echo;
    memcpy(last_sid, s->sid, sizeof last_sid);
    attach(si, er->websocket ? SIO_EIO_CHANNEL_WEBSOCKET : SIO_EIO_CHANNEL_GET, ci);
    conns[ci].state = er->websocket ? C_WS : C_HELD;
    if (er->websocket)
        sio_ws_parser_init(&conns[ci].ws, SIO_WS_ROLE_SERVER, eio_cfg.max_payload);
    drain(si);
    if (!echo && s->used) {
        sio_sio_server_event ev;
        s->sio_open = sio_sio_server_open(&s->sio, &sio_cfg, &s->eio, now, &ev) == SIO_OK;
        sio_event(s, &ev);
        drain(si);
    }
}

static void existing(int ci, const sio_eio_request *er, bool echo)
{
    int si = find_session(er, echo);
    fconn *c = &conns[ci];
    if (si < 0) {
        if (er->websocket)
            conn_close(ci);
        return; /* refused: unknown sid */
    }
    fsession *s = &sessions[si];
    if (er->kind == SIO_EIO_REQUEST_UPGRADE) {
        sio_err rc = sio_eio_server_upgrade(&s->eio, er, now);
        if (rc != SIO_OK) {
            conn_close(ci);
            return;
        }
        attach(si, SIO_EIO_CHANNEL_PROBE, ci);
        c->state = C_WS;
        sio_ws_parser_init(&c->ws, SIO_WS_ROLE_SERVER, eio_cfg.max_payload);
    } else if (sio_eio_server_request(&s->eio, er, now) == SIO_OK) {
        bool get = er->method == SIO_EIO_METHOD_GET;
        attach(si, get ? SIO_EIO_CHANNEL_GET : SIO_EIO_CHANNEL_POST, ci);
        c->state = get ? C_HELD : C_BODY;
        c->body_len = get ? 0 : (size_t)er->content_length;
    }
    drain(si);
}

static bool has_prefix(sio_span path, const char *prefix)
{
    return path.len >= strlen(prefix) && memcmp(path.ptr, prefix, strlen(prefix)) == 0;
}

/* One complete request head at the front of the input. */
static void route(int ci, const sio_http_request *req)
{
    bool echo = has_prefix(req->path, "/engine.io/");
    if (!echo && !has_prefix(req->path, "/socket.io/")) {
        conn_close(ci);
        return;
    }
    echo = echo || main_is_echo;
    sio_eio_request er;
    if (sio_eio_request_read(req, &eio_cfg, &er) != SIO_OK) {
        if (er.websocket)
            conn_close(ci);
        return;
    }
    if (er.kind == SIO_EIO_REQUEST_HANDSHAKE)
        handshake(ci, &er, echo);
    else
        existing(ci, &er, echo);
}

static void consume(fconn *c, size_t n)
{
    memmove(c->in.p, c->in.p + n, c->in.len - n);
    c->in.len -= n;
}

static void http_input(int ci)
{
    fconn *c = &conns[ci];
    for (int rounds = 0; rounds < 64 && c->state == C_HTTP && c->in.len > 0; rounds++) {
        sio_http_parser ps;
        sio_http_request req;
        sio_http_parser_init(&ps);
        if (sio_http_request_parse(&ps, c->in.p, c->in.len, NULL, &req) != SIO_OK) {
            conn_close(ci);
            return;
        }
        if (req.head_len == 0) {
            if (c->in.len > MAX_HEAD)
                conn_close(ci);
            return;
        }
        size_t head = req.head_len;
        uint64_t body = req.body == SIO_HTTP_BODY_LENGTH ? req.content_length : 0;
        route(ci, &req); /* views into c->in stay valid: nothing is consumed before this */
        if (c->state == C_CLOSED)
            return;
        if (c->state == C_BODY) {
            consume(c, head);
            return;
        }
        if (c->state == C_WS) {
            consume(c, head);
            return;
        }
        if (body > c->in.len - head) { /* an answered request's body that has not arrived */
            conn_close(ci);
            return;
        }
        consume(c, head + (size_t)body);
    }
}

static void body_input(int ci)
{
    fconn *c = &conns[ci];
    if (c->in.len < c->body_len)
        return;
    int si = c->session;
    if (si < 0) {
        conn_close(ci);
        return;
    }
    fsession *s = &sessions[si];
    if (sio_eio_server_post_body(&s->eio, c->in.p, c->body_len, now) != SIO_OK)
        release(s, SIO_EIO_CHANNEL_POST, true);
    drain(si); /* the POST's answer releases it back to C_HTTP */
    if (c->state != C_CLOSED) {
        c->state = C_HTTP;
        consume(c, c->body_len);
    }
}

/* Frames in; whole data messages to the session; a close frame or an error loses the channel. */
static void ws_input(int ci)
{
    fconn *c = &conns[ci];
    size_t off = 0;
    while (c->state == C_WS && off < c->in.len) {
        sio_ws_event ev;
        size_t used = 0;
        sio_err rc = sio_ws_parser_feed(&c->ws, c->in.p + off, c->in.len - off, &used, &ev);
        int si = c->session;
        if (rc != SIO_OK || (ev.type == SIO_WS_EV_CONTROL && ev.frame.opcode == SIO_WS_OP_CLOSE)) {
            if (si >= 0) {
                sio_eio_channel ch = c->channel;
                release(&sessions[si], ch, true);
                sio_eio_server_channel_lost(&sessions[si].eio, ch, now);
                drain(si);
            }
            conn_close(ci);
            return;
        }
        off += used;
        if (ev.type == SIO_WS_EV_NONE)
            break;
        if (ev.type != SIO_WS_EV_DATA)
            continue;
        if (ev.message_start) {
            c->message.len = 0;
            c->message_text = ev.text;
        }
        log_put(&c->message, ev.payload.ptr, ev.payload.len);
        if (ev.message_end && si >= 0) {
            fuzz_log whole = c->message;
            memset(&c->message, 0, sizeof c->message);
            sio_eio_server_ws_message(&sessions[si].eio, c->channel, c->message_text, whole.p,
                                      whole.len, now);
            drain(si);
            log_free(&whole);
        }
    }
    if (c->state == C_WS)
        consume(c, off);
}

/* Hands the input to whatever the connection's state reads, again after each change of state
 * (a head switches to a body or a WebSocket; an answered request to the next one). A held GET
 * leaves pipelined bytes waiting for its answer. */
static void process(int ci)
{
    for (int rounds = 0; rounds < 8 && conns[ci].in.len > 0; rounds++) {
        conn_state before = conns[ci].state;
        size_t left = conns[ci].in.len;
        if (before == C_HTTP)
            http_input(ci);
        else if (before == C_BODY)
            body_input(ci);
        else if (before == C_WS)
            ws_input(ci);
        if (conns[ci].state == before && conns[ci].in.len == left)
            break;
    }
}

/* The peer went away: the session loses the channel the connection carried. */
static void peer_gone(int ci)
{
    fconn *c = &conns[ci];
    int si = c->session;
    if (si >= 0) {
        sio_eio_channel ch = c->channel;
        release(&sessions[si], ch, false);
        sio_eio_server_channel_lost(&sessions[si].eio, ch, now);
        drain(si);
    }
    conn_close(ci);
}

/* ------------------------------------------------------------------ the script */

/* Copies client bytes, replacing each "SID!" with the newest session id. */
static void send_bytes(int ci, const uint8_t *p, size_t n)
{
    fconn *c = &conns[ci];
    if (c->state == C_CLOSED)
        return;
    for (size_t i = 0; i < n;) {
        if (i + 4 <= n && memcmp(p + i, "SID!", 4) == 0) {
            log_put(&c->in, last_sid, strlen(last_sid));
            i += 4;
        } else {
            log_put(&c->in, p + i++, 1);
        }
    }
    process(ci);
}

/* A masked client frame, so the WebSocket side is reachable without hand-made headers. */
static void send_frame(int ci, uint8_t opcode, const uint8_t *p, size_t n)
{
    sio_ws_frame_header h = {n, true, true, 0, opcode, {1, 2, 3, 4}};
    size_t need = sio_ws_header_size(n, true) + n, wrote = 0;
    uint8_t *out = malloc(need);
    if (!out)
        abort();
    if (sio_ws_frame_encode(&h, p, n, out, need, &wrote) == SIO_OK)
        send_bytes(ci, out, wrote);
    free(out);
}

static void take_bytes(fuzz_input *in, size_t len, const uint8_t **p, size_t *n)
{
    *n = len < in->n ? len : in->n;
    *p = in->p;
    in->p += *n;
    in->n -= *n;
}

/* Time passes in steps of at most one deadline, as a loop would wake for each. */
static void wait_ms(uint64_t ms)
{
    uint64_t until = now + ms;
    for (int steps = 0; steps < 64; steps++) {
        uint64_t next = until;
        for (int si = 0; si < MAX_SESSIONS; si++) {
            if (!sessions[si].used)
                continue;
            uint64_t d = sio_eio_server_next_deadline(&sessions[si].eio);
            if (sessions[si].sio_open && sio_sio_server_next_deadline(&sessions[si].sio) < d)
                d = sio_sio_server_next_deadline(&sessions[si].sio);
            next = d < next ? d : next;
        }
        now = next > now ? next : now;
        timeouts();
        if (now >= until)
            break;
    }
    now = until;
}

/* Operations that name a connection read its index even when there is none yet (so the input
 * layout does not depend on state) and then do nothing. */
static int pick_conn(fuzz_input *in)
{
    uint8_t b = fuzz_take_u8(in);
    return nconns ? (int)(b % nconns) : -1;
}

static void run_op(uint8_t op, fuzz_input *in)
{
    const uint8_t *p;
    size_t n;
    int c = op % 8 == 0 || op % 8 == 4 ? -1 : pick_conn(in);
    switch (op % 8) {
    case 0:
        if (nconns < MAX_CONNS) {
            memset(&conns[nconns], 0, sizeof conns[nconns]);
            conns[nconns].session = -1;
            nconns++;
        }
        break;
    case 1:
    case 2:
        take_bytes(
            in, op % 8 == 1 ? fuzz_take_u8(in) : (size_t)fuzz_take_u8(in) << 8 | fuzz_take_u8(in),
            &p, &n);
        if (c >= 0)
            send_bytes(c, p, n);
        break;
    case 3:
    case 6:
        if (c >= 0 && conns[c].state != C_CLOSED)
            peer_gone(c);
        break;
    case 4:
        wait_ms(100 * ((uint64_t)fuzz_take_u8(in) + 1));
        break;
    case 5:
        break;
    default: {
        uint8_t opcode = fuzz_take_u8(in) & 0x0f;
        take_bytes(in, fuzz_take_u8(in), &p, &n);
        if (c >= 0)
            send_frame(c, opcode, p, n);
    }
    }
}

/* Whatever the script did, a new client must still get a handshake (DESIGN.md: "never a
 * crash, a hang or a silent drop"). */
static void check_still_serving(void)
{
    static const char request[] = "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\n\r\n";
    int si = 0;
    while (si < MAX_SESSIONS && sessions[si].used)
        si++;
    if (si == MAX_SESSIONS || nconns == MAX_CONNS)
        return;
    int ci = (int)nconns++;
    memset(&conns[ci], 0, sizeof conns[ci]);
    conns[ci].session = -1;
    send_bytes(ci, (const uint8_t *)request, sizeof request - 1);
    FUZZ_ASSERT(sessions[si].used && sessions[si].echo,
                "server: a new client got no handshake after the script ran");
}

static void configure(uint8_t bits)
{
    sio_eio_server_config_init(&eio_cfg);
    eio_cfg.allow_eio3 = (bits >> 1) & 1u;
    if (bits & 4u)
        eio_cfg.max_payload = 64;
    if (bits & 8u) {
        eio_cfg.ping_interval_ms = 300;
        eio_cfg.ping_timeout_ms = 200;
    }
    sio_sio_server_config_init(&sio_cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    memset(conns, 0, sizeof conns);
    memset(sessions, 0, sizeof sessions);
    nconns = 0;
    now = 1000000;
    last_sid[0] = '\0';
    sids_issued = 0;
    uint8_t bits = fuzz_take_u8(&in);
    configure(bits);
    main_is_echo = bits & 1u;
    unsigned ops = 0;
    while (in.n > 0 && ops++ < 512)
        run_op(fuzz_take_u8(&in), &in);
    fuzz_reached(nconns > 0);
    check_still_serving();
    for (int si = 0; si < MAX_SESSIONS; si++) /* shutdown */
        if (sessions[si].used) {
            sio_eio_server_abort(&sessions[si].eio, SIO_EIO_REASON_SERVER_SHUTDOWN, now);
            drain(si);
        }
    for (unsigned ci = 0; ci < nconns; ci++)
        conn_close((int)ci);
    return 0;
}
