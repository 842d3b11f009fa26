/* The client side of an Engine.IO session: see sio/eio_client.h for the model and the
 * transition table. Packets to send wait in `queue` while no POST can carry them; everything the
 * caller must act on waits in `events`, in order. */
#include <stdio.h>
#include <string.h>

#include "eio_internal.h"
#include "session_internal.h"
#include "sio/eio_client.h"

#define CH(c)  ((uint8_t)(1u << (c)))
#define NEVER  UINT64_MAX
#define MEM(c) ((c)->cfg->alloc)

static const char TEXT_PLAIN[] = "text/plain;charset=UTF-8";
static const char OCTETS[] = "application/octet-stream";

static void terminate(sio_eio_client *c, sio_eio_close_reason reason);
static void flush(sio_eio_client *c);

/* ------------------------------------------------------------------ events */

static bool busy(const sio_eio_client *c, sio_eio_channel ch)
{
    return (c->in_flight & CH(ch)) != 0;
}

static void push(sio_eio_client *c, sio_eio_item *it)
{
    if (it) {
        sio__list_push(&c->events, it);
        return;
    }
    /* Out of memory: the session ends; the caller drops its connections at CLOSED. */
    sio__list_clear(MEM(c), &c->queue);
    c->in_flight = 0;
    c->state = SIO_EIO_CLIENT_CLOSED;
    c->reason = SIO_EIO_REASON_TRANSPORT_ERROR;
}

/* The session id as a query value: bytes other than RFC 3986's unreserved ones percent-encoded
 * (a sid may hold '+', '/' or '=', which a query would read otherwise), as encodeURIComponent
 * does in socket.io-client. */
static void write_sid(const sio_eio_client *c, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < c->sid_len; i++) {
        uint8_t b = (uint8_t)c->sid[i];
        bool unreserved = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') ||
                          (b >= '0' && b <= '9') || b == '-' || b == '.' || b == '_' || b == '~';
        if (unreserved) {
            *out++ = (char)b;
        } else {
            *out++ = '%';
            *out++ = hex[b >> 4];
            *out++ = hex[b & 15];
        }
    }
    *out = '\0';
}

/* The request target: path?EIO=n&transport=t[&sid=…][&b64=1][&t=…][&query]. The cache
 * buster of a polling request is a counter in base 36, never the same twice in a row (it goes
 * on across reconnections). */
static size_t write_target(sio_eio_client *c, bool websocket, bool with_sid, char *out, size_t cap)
{
    const sio_eio_client_config *cfg = c->cfg;
    char sid[SIO_EIO_CLIENT_MAX_SID * 3 + 1] = "";
    if (with_sid)
        write_sid(c, sid);
    char t[20] = "";
    if (cfg->cache_buster && !websocket) {
        char digits[16];
        int nd = 0;
        uint32_t v = ++c->requests;
        do
            digits[nd++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
        while ((v /= 36) != 0);
        int w = snprintf(t, sizeof t, "&t=");
        while (nd > 0)
            t[w++] = digits[--nd];
        t[w] = '\0';
    }
    int n = snprintf(out, cap, "%.*s?EIO=%d&transport=%s%s%s%s%s%s%.*s", (int)cfg->path.len,
                     (const char *)cfg->path.ptr, c->protocol, websocket ? "websocket" : "polling",
                     with_sid ? "&sid=" : "", sid, cfg->b64 ? "&b64=1" : "", t,
                     cfg->query.len ? "&" : "", (int)cfg->query.len,
                     cfg->query.len ? (const char *)cfg->query.ptr : "");
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* A REQUEST (GET, or POST with `body`) or a WS_OPEN for `ch`. */
static void ask(sio_eio_client *c, sio_eio_client_event_type type, sio_eio_channel ch,
                const uint8_t *body, size_t body_len, const char *content_type)
{
    char target[SIO_EIO_CLIENT_MAX_TARGET];
    bool websocket = type == SIO_EIO_CLIENT_EV_WS_OPEN;
    size_t n = write_target(c, websocket, c->sid_len > 0, target, sizeof target);
    if (n == 0) {
        terminate(c, SIO_EIO_REASON_TRANSPORT_ERROR); /* the target does not fit */
        return;
    }
    sio_eio_item *it = sio__item_new(MEM(c), (uint8_t)type, n + body_len);
    if (it) {
        it->channel = (uint8_t)ch;
        it->split = n;
        it->content_type = content_type;
        memcpy(it->data, target, n);
        if (body_len)
            memcpy(it->data + n, body, body_len);
    }
    c->in_flight |= CH(ch);
    push(c, it);
}

static void ws_send(sio_eio_client *c, sio_eio_channel ch, sio_eio_type type, bool binary,
                    const uint8_t *p, size_t n)
{
    sio_eio_encoding enc = !binary       ? SIO_EIO_ENC_TEXT
                           : c->cfg->b64 ? SIO_EIO_ENC_BASE64
                                         : SIO_EIO_ENC_BINARY;
    /* sized by formula: the encoder checks the text once, while writing it */
    size_t need = sio__eio_packet_encoded_len(c->protocol, enc, n);
    sio_eio_item *it = sio__item_new(MEM(c), SIO_EIO_CLIENT_EV_WS_SEND, need);
    if (it) {
        it->channel = (uint8_t)ch;
        it->binary = enc == SIO_EIO_ENC_BINARY;
        if (sio_eio_packet_encode(c->protocol, type, enc, p, n, it->data, need, &it->len) !=
            SIO_OK) {
            sio__mem(MEM(c), it, 0);
            return;
        }
    }
    push(c, it);
}

static void ws_close(sio_eio_client *c, sio_eio_channel ch)
{
    sio_eio_item *it = sio__item_new(MEM(c), SIO_EIO_CLIENT_EV_WS_CLOSE, 0);
    if (it)
        it->channel = (uint8_t)ch;
    c->in_flight &= (uint8_t)~CH(ch);
    push(c, it);
}

static void push_simple(sio_eio_client *c, sio_eio_client_event_type type)
{
    push(c, sio__item_new(MEM(c), (uint8_t)type, 0));
}

/* ------------------------------------------------------------------ sending */

/* The queued packets that fit one POST body under the server's maxPayload (at least one). */
static size_t batch(sio_eio_client *c, sio_eio_packet *pkts, size_t cap, bool *binary)
{
    size_t count = 0, bytes = 0;
    *binary = false;
    for (sio_eio_item *it = c->queue.head; it && count < cap; it = it->next) {
        size_t cost = it->binary ? 2 + (it->len + 2) / 3 * 4 : 2 + it->len;
        if (count > 0 && c->max_payload && bytes + cost > c->max_payload)
            break;
        pkts[count++] = (sio_eio_packet){(sio_eio_type)it->kind, it->binary, false,
                                         sio_span_of(it->data, it->len)};
        bytes += cost;
        *binary |= it->binary;
    }
    return count;
}

/* One POST with as many queued packets as maxPayload allows, when none is in flight. */
static void post_queue(sio_eio_client *c)
{
    if (busy(c, SIO_EIO_CHANNEL_POST) || c->queue.count == 0)
        return;
    sio_eio_packet *pkts = sio__mem(MEM(c), NULL, c->queue.count * sizeof *pkts);
    if (!pkts) {
        push(c, NULL);
        return;
    }
    bool binary = false;
    size_t count = batch(c, pkts, c->queue.count, &binary);
    sio_eio_payload_format fmt = c->protocol == 4         ? SIO_EIO_PAYLOAD_V4
                                 : binary && !c->cfg->b64 ? SIO_EIO_PAYLOAD_V3_BINARY
                                                          : SIO_EIO_PAYLOAD_V3_TEXT;
    /* sized by a bound: the encoder checks the packets once, while writing them */
    size_t cap = sio__eio_payload_bound(pkts, count), need = 0;
    uint8_t *body = sio__mem(MEM(c), NULL, cap);
    if (body && sio_eio_payload_encode(fmt, pkts, count, body, cap, &need) == SIO_OK)
        ask(c, SIO_EIO_CLIENT_EV_REQUEST, SIO_EIO_CHANNEL_POST, body, need,
            fmt == SIO_EIO_PAYLOAD_V3_BINARY ? OCTETS : TEXT_PLAIN);
    else if (!body)
        push(c, NULL);
    sio__mem(MEM(c), body, 0);
    sio__mem(MEM(c), pkts, 0);
    for (size_t i = 0; i < count; i++)
        sio__mem(MEM(c), sio__list_pop(&c->queue), 0);
}

static void flush(sio_eio_client *c)
{
    if (c->closing)
        return; /* everything goes with the last POST */
    if (c->state == SIO_EIO_CLIENT_WEBSOCKET) {
        for (sio_eio_item *it = c->queue.head; it; it = it->next)
            ws_send(c, SIO_EIO_CHANNEL_WEBSOCKET, (sio_eio_type)it->kind, it->binary, it->data,
                    it->len);
        sio__list_clear(MEM(c), &c->queue);
    } else if (c->state == SIO_EIO_CLIENT_POLLING || c->state == SIO_EIO_CLIENT_PROBING) {
        post_queue(c);
    }
}

static sio_err send_packet(sio_eio_client *c, sio_eio_type type, bool binary, const uint8_t *p,
                           size_t n)
{
    if (c->state == SIO_EIO_CLIENT_WEBSOCKET && c->queue.count == 0) {
        ws_send(c, SIO_EIO_CHANNEL_WEBSOCKET, type, binary, p, n);
        return SIO_OK;
    }
    if (!sio__fits_polling(c->protocol, binary, p, n))
        return SIO_ERR_EIO_SEPARATOR_IN_TEXT;
    sio_eio_item *it = sio__item_new(MEM(c), (uint8_t)type, n);
    if (!it) {
        push(c, NULL);
        return SIO_ERR_NO_MEMORY;
    }
    it->binary = binary;
    if (n)
        memcpy(it->data, p, n);
    sio__list_push(&c->queue, it);
    flush(c);
    return SIO_OK;
}

/* ------------------------------------------------------------------ closing */

/* Ends the session now: open WebSockets are closed, requests in flight are left to the caller
 * (it drops them at CLOSED), then CLOSED. */
static void terminate(sio_eio_client *c, sio_eio_close_reason reason)
{
    if (c->state == SIO_EIO_CLIENT_CLOSED)
        return;
    if (busy(c, SIO_EIO_CHANNEL_WEBSOCKET))
        ws_close(c, SIO_EIO_CHANNEL_WEBSOCKET);
    if (busy(c, SIO_EIO_CHANNEL_PROBE))
        ws_close(c, SIO_EIO_CHANNEL_PROBE);
    sio__list_clear(MEM(c), &c->queue);
    c->in_flight = 0;
    c->ping_due = c->pong_due = NEVER;
    c->state = SIO_EIO_CLIENT_CLOSED;
    c->reason = reason;
}

/* The last POST of a polling session: every packet still queued, then "1", in one body (past
 * maxPayload if it must: nothing may be left behind). */
static void finish_close(sio_eio_client *c)
{
    sio_eio_item *it = sio__item_new(MEM(c), SIO_EIO_CLOSE, 0);
    if (it) {
        sio__list_push(&c->queue, it);
        c->max_payload = 0;
        post_queue(c);
    }
    terminate(c, SIO_EIO_REASON_FORCED_CLOSE);
}

void sio_eio_client_close(sio_eio_client *c, uint64_t now_ms)
{
    (void)now_ms;
    if (c->state == SIO_EIO_CLIENT_CLOSED || !c->cfg || c->closing)
        return;
    c->by_application = true;
    if (c->state == SIO_EIO_CLIENT_WEBSOCKET) {
        ws_send(c, SIO_EIO_CHANNEL_WEBSOCKET, SIO_EIO_CLOSE, false, NULL, 0);
        terminate(c, SIO_EIO_REASON_FORCED_CLOSE);
    } else if (c->state == SIO_EIO_CLIENT_OPENING) {
        terminate(c, SIO_EIO_REASON_FORCED_CLOSE);
    } else {
        c->closing = true; /* polling: after the POST in flight, if there is one */
        if (!busy(c, SIO_EIO_CHANNEL_POST))
            finish_close(c);
    }
}

/* ------------------------------------------------------------------ opening */

void sio_eio_client_config_init(sio_eio_client_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->protocol = 4;
    cfg->upgrade = true;
    cfg->path = sio_span_of("/engine.io/", 11);
}

sio_err sio_eio_client_open(sio_eio_client *c, const sio_eio_client_config *cfg, uint64_t now_ms)
{
    (void)now_ms;
    uint32_t requests = c->requests; /* the cache buster goes on across reconnections */
    memset(c, 0, sizeof *c);
    c->requests = requests;
    c->cfg = cfg;
    c->state = SIO_EIO_CLIENT_CLOSED;
    c->closed_reported = true;
    c->ping_due = c->pong_due = NEVER;
    if (!cfg || (cfg->protocol != 3 && cfg->protocol != 4) || !cfg->path.ptr)
        return SIO_ERR_INVALID_ARGUMENT;
    c->protocol = (uint8_t)cfg->protocol;
    c->state = SIO_EIO_CLIENT_OPENING;
    c->closed_reported = false;
    if (cfg->websocket_only)
        ask(c, SIO_EIO_CLIENT_EV_WS_OPEN, SIO_EIO_CHANNEL_WEBSOCKET, NULL, 0, NULL);
    else
        ask(c, SIO_EIO_CLIENT_EV_REQUEST, SIO_EIO_CHANNEL_GET, NULL, 0, NULL);
    return c->state == SIO_EIO_CLIENT_CLOSED ? SIO_ERR_NO_MEMORY : SIO_OK;
}

/* v4: the server pings every pingInterval; it is dead when none came within pingInterval +
 * pingTimeout. v3: the client pings every pingInterval and wants a pong within pingTimeout. */
static void heartbeat_start(sio_eio_client *c, uint64_t now)
{
    if (c->protocol == 4)
        c->ping_due = now + c->ping_interval + c->ping_timeout;
    else
        c->ping_due = now + c->ping_interval;
}

/* The open packet: '0' and its JSON, which the packet's data follows directly in the input. */
static bool handle_open(sio_eio_client *c, const sio_eio_packet *pkt, uint64_t now)
{
    sio_eio_open o;
    if (pkt->type != SIO_EIO_OPEN || pkt->binary || pkt->data.len == 0 ||
        sio_eio_open_read(c->protocol, pkt->data.ptr - 1, pkt->data.len + 1, &o) != SIO_OK ||
        o.sid_escaped || o.sid.len == 0 || o.sid.len > SIO_EIO_CLIENT_MAX_SID) {
        terminate(c, SIO_EIO_REASON_PARSE_ERROR);
        return false;
    }
    memcpy(c->sid, o.sid.ptr, o.sid.len);
    c->sid[o.sid.len] = '\0';
    c->sid_len = (uint8_t)o.sid.len;
    c->ping_interval = o.ping_interval;
    c->ping_timeout = o.ping_timeout;
    c->max_payload = o.has_max_payload ? o.max_payload : 0;
    for (size_t i = 0; i < o.upgrade_count; i++)
        c->upgrades_websocket |= o.upgrades[i].len == 9 && !o.upgrade_escaped[i] &&
                                 memcmp(o.upgrades[i].ptr, "websocket", 9) == 0;
    bool websocket = busy(c, SIO_EIO_CHANNEL_WEBSOCKET);
    c->state = websocket ? SIO_EIO_CLIENT_WEBSOCKET : SIO_EIO_CLIENT_POLLING;
    push_simple(c, SIO_EIO_CLIENT_EV_OPEN);
    heartbeat_start(c, now);
    if (!websocket && c->cfg->upgrade && c->upgrades_websocket) {
        c->state = SIO_EIO_CLIENT_PROBING;
        ask(c, SIO_EIO_CLIENT_EV_WS_OPEN, SIO_EIO_CHANNEL_PROBE, NULL, 0, NULL);
    }
    flush(c); /* what the application sent before the open */
    return true;
}

/* ------------------------------------------------------------------ upgrade */

static void next_get(sio_eio_client *c)
{
    if (!c->closing && (c->state == SIO_EIO_CLIENT_POLLING || c->state == SIO_EIO_CLIENT_PROBING) &&
        !busy(c, SIO_EIO_CHANNEL_GET))
        ask(c, SIO_EIO_CLIENT_EV_REQUEST, SIO_EIO_CHANNEL_GET, NULL, 0, NULL);
}

/* Polling has nothing in flight any more: "5" on the probe, which becomes the transport, and
 * the packets that waited go over it. */
static void finish_pause(sio_eio_client *c)
{
    if (c->closing || c->state != SIO_EIO_CLIENT_PAUSING || busy(c, SIO_EIO_CHANNEL_GET) ||
        busy(c, SIO_EIO_CHANNEL_POST) || c->has_input)
        return;
    ws_send(c, SIO_EIO_CHANNEL_PROBE, SIO_EIO_UPGRADE, false, NULL, 0);
    c->in_flight =
        (uint8_t)((c->in_flight & ~CH(SIO_EIO_CHANNEL_PROBE)) | CH(SIO_EIO_CHANNEL_WEBSOCKET));
    c->state = SIO_EIO_CLIENT_WEBSOCKET;
    push_simple(c, SIO_EIO_CLIENT_EV_UPGRADED);
    flush(c);
}

/* The probe failed: polling goes on. */
static void abort_probe(sio_eio_client *c, bool close_it)
{
    if (close_it && busy(c, SIO_EIO_CHANNEL_PROBE))
        ws_close(c, SIO_EIO_CHANNEL_PROBE);
    c->in_flight &= (uint8_t)~CH(SIO_EIO_CHANNEL_PROBE);
    c->state = SIO_EIO_CLIENT_POLLING;
    if (!c->has_input)
        next_get(c);
    flush(c);
}

sio_err sio_eio_client_ws_opened(sio_eio_client *c, sio_eio_channel channel, uint64_t now_ms)
{
    (void)now_ms;
    if ((channel != SIO_EIO_CHANNEL_WEBSOCKET && channel != SIO_EIO_CHANNEL_PROBE) ||
        !busy(c, channel))
        return SIO_ERR_EIO_WRONG_STATE;
    if (channel == SIO_EIO_CHANNEL_PROBE && c->state == SIO_EIO_CLIENT_PROBING && !c->probe_sent) {
        c->probe_sent = true;
        ws_send(c, SIO_EIO_CHANNEL_PROBE, SIO_EIO_PING, false, (const uint8_t *)"probe", 5);
    }
    return SIO_OK; /* WebSocket-only: the open packet comes as the first message */
}

static void probe_message(sio_eio_client *c, bool text, const uint8_t *p, size_t n)
{
    sio_eio_options opt = {.b64 = c->cfg->b64};
    sio_eio_packet pkt;
    bool pong =
        sio_eio_packet_decode(c->protocol, text ? SIO_EIO_FRAME_WS_TEXT : SIO_EIO_FRAME_WS_BINARY,
                              p, n, &opt, &pkt) == SIO_OK &&
        pkt.type == SIO_EIO_PONG && pkt.data.len == 5 && memcmp(pkt.data.ptr, "probe", 5) == 0;
    if (pong && c->state == SIO_EIO_CLIENT_PROBING && c->probe_sent) {
        c->state = SIO_EIO_CLIENT_PAUSING;
        finish_pause(c);
    } else {
        abort_probe(c, true);
    }
}

/* ------------------------------------------------------------------ receiving */

sio_err sio_eio_client_response(sio_eio_client *c, sio_eio_channel channel, int status,
                                sio_span content_type, const uint8_t *body, size_t len,
                                uint64_t now_ms)
{
    if ((channel != SIO_EIO_CHANNEL_GET && channel != SIO_EIO_CHANNEL_POST) || !busy(c, channel) ||
        c->has_input)
        return SIO_ERR_EIO_WRONG_STATE;
    c->in_flight &= (uint8_t)~CH(channel);
    if (status != 200) {
        terminate(c, SIO_EIO_REASON_TRANSPORT_ERROR);
        return SIO_ERR_EIO_HTTP_STATUS;
    }
    if (channel == SIO_EIO_CHANNEL_POST) {
        if (c->closing)
            finish_close(c);
        flush(c);
        finish_pause(c);
        return SIO_OK;
    }
    bool octets = content_type.len >= 24 && memcmp(content_type.ptr, OCTETS, 24) == 0;
    sio_eio_payload_format fmt = c->protocol == 4 ? SIO_EIO_PAYLOAD_V4
                                 : octets         ? SIO_EIO_PAYLOAD_V3_BINARY
                                                  : SIO_EIO_PAYLOAD_V3_TEXT;
    sio_eio_options opt = {.b64 = true};
    sio_eio_payload_iter_init(&c->input, fmt, body, len, &opt);
    c->has_input = true;
    c->input_is_ws = false;
    c->input_is_handshake = c->state == SIO_EIO_CLIENT_OPENING;
    c->input_now = now_ms;
    return SIO_OK;
}

sio_err sio_eio_client_ws_message(sio_eio_client *c, sio_eio_channel channel, bool text,
                                  const uint8_t *p, size_t n, uint64_t now_ms)
{
    if ((channel != SIO_EIO_CHANNEL_WEBSOCKET && channel != SIO_EIO_CHANNEL_PROBE) ||
        !busy(c, channel) || c->has_input)
        return SIO_ERR_EIO_WRONG_STATE;
    if (channel == SIO_EIO_CHANNEL_PROBE) {
        probe_message(c, text, p, n);
        return SIO_OK;
    }
    sio_eio_options opt = {.b64 = true};
    sio_err rc =
        sio_eio_packet_decode(c->protocol, text ? SIO_EIO_FRAME_WS_TEXT : SIO_EIO_FRAME_WS_BINARY,
                              p, n, &opt, &c->ws_packet);
    if (rc != SIO_OK) {
        terminate(c, SIO_EIO_REASON_PARSE_ERROR);
        return rc;
    }
    c->has_input = true;
    c->input_is_ws = true;
    c->ws_pending = true;
    c->input_is_handshake = c->state == SIO_EIO_CLIENT_OPENING;
    c->input_now = now_ms;
    return SIO_OK;
}

void sio_eio_client_channel_lost(sio_eio_client *c, sio_eio_channel channel, uint64_t now_ms)
{
    (void)now_ms;
    if (!busy(c, channel))
        return;
    c->in_flight &= (uint8_t)~CH(channel);
    if (channel == SIO_EIO_CHANNEL_PROBE && c->state != SIO_EIO_CLIENT_CLOSED)
        abort_probe(c, false);
    else
        terminate(c, channel == SIO_EIO_CHANNEL_WEBSOCKET && c->state != SIO_EIO_CLIENT_OPENING
                         ? SIO_EIO_REASON_TRANSPORT_CLOSE
                         : SIO_EIO_REASON_TRANSPORT_ERROR);
}

/* A message for the application, base64 records decoded into the scratch buffer first. */
static bool deliver(sio_eio_client *c, const sio_eio_packet *pkt, sio_eio_client_event *ev)
{
    sio_span data = pkt->data;
    if (pkt->binary && pkt->base64) {
        size_t need = 0, n = 0;
        sio_eio_packet_binary(pkt, false, NULL, 0, &need);
        sio__mem(MEM(c), c->scratch, 0);
        c->scratch = sio__mem(MEM(c), NULL, need ? need : 1);
        if (!c->scratch || sio_eio_packet_binary(pkt, false, c->scratch, need, &n) != SIO_OK) {
            terminate(c, SIO_EIO_REASON_PARSE_ERROR);
            return false;
        }
        data = sio_span_of(c->scratch, n);
    }
    memset(ev, 0, sizeof *ev);
    ev->type = SIO_EIO_CLIENT_EV_MESSAGE;
    ev->binary = pkt->binary;
    ev->data = data;
    return true;
}

static bool receive_packet(sio_eio_client *c, const sio_eio_packet *pkt, sio_eio_client_event *ev)
{
    uint64_t now = c->input_now;
    switch (pkt->type) {
    case SIO_EIO_CLOSE:
        terminate(c, SIO_EIO_REASON_TRANSPORT_CLOSE);
        return false;
    case SIO_EIO_PING: /* v4: the server's heartbeat, answered with its data */
        send_packet(c, SIO_EIO_PONG, false, pkt->data.ptr, pkt->data.len);
        if (c->protocol == 4)
            c->ping_due = now + c->ping_interval + c->ping_timeout;
        return false;
    case SIO_EIO_PONG: /* v3: the answer to our ping */
        if (c->protocol == 3 && c->pong_due != NEVER) {
            c->pong_due = NEVER;
            c->ping_due = now + c->ping_interval;
        }
        return false;
    case SIO_EIO_MESSAGE:
        return deliver(c, pkt, ev);
    default:
        return false; /* open, upgrade, noop: nothing to do */
    }
}

/* The input is done: polling asks for the next GET, or finishes a pause. */
static void end_input(sio_eio_client *c)
{
    c->has_input = false;
    sio__mem(MEM(c), c->scratch, 0);
    c->scratch = NULL;
    if (c->input_is_handshake && c->state == SIO_EIO_CLIENT_OPENING)
        terminate(c, SIO_EIO_REASON_PARSE_ERROR); /* no packet at all */
    c->input_is_handshake = false;
    if (!c->input_is_ws)
        next_get(c);
    finish_pause(c);
}

/* The next packet of the input; true when it gave a MESSAGE event. */
static bool step_input(sio_eio_client *c, sio_eio_client_event *ev)
{
    if (c->state == SIO_EIO_CLIENT_CLOSED) {
        end_input(c);
        return false;
    }
    sio_eio_packet pkt;
    if (c->input_is_ws) {
        if (!c->ws_pending) { /* its one packet was handled */
            end_input(c);
            return false;
        }
        c->ws_pending = false;
        pkt = c->ws_packet;
    } else {
        bool has = false;
        if (sio_eio_payload_next(&c->input, &pkt, &has) != SIO_OK) {
            terminate(c, SIO_EIO_REASON_PARSE_ERROR);
            end_input(c);
            return false;
        }
        if (!has) {
            end_input(c);
            return false;
        }
    }
    if (c->input_is_handshake) {
        c->input_is_handshake = false;
        handle_open(c, &pkt, c->input_now);
        return false;
    }
    return receive_packet(c, &pkt, ev);
}

/* ------------------------------------------------------------------ application and time */

sio_err sio_eio_client_send(sio_eio_client *c, bool binary, const uint8_t *p, size_t n,
                            uint64_t now_ms)
{
    (void)now_ms;
    if (!c->cfg || c->state == SIO_EIO_CLIENT_CLOSED || c->closing)
        return SIO_ERR_EIO_SESSION_CLOSED;
    if (!binary) {
        sio_err rc = sio_utf8_validate(p, n, NULL);
        if (rc != SIO_OK)
            return rc;
    }
    return send_packet(c, SIO_EIO_MESSAGE, binary, p, n);
}

uint64_t sio_eio_client_next_deadline(const sio_eio_client *c)
{
    return c->ping_due < c->pong_due ? c->ping_due : c->pong_due;
}

void sio_eio_client_timeout(sio_eio_client *c, uint64_t now_ms)
{
    if (c->state == SIO_EIO_CLIENT_CLOSED)
        return;
    if (c->pong_due <= now_ms) {
        terminate(c, SIO_EIO_REASON_PING_TIMEOUT);
        return;
    }
    if (c->ping_due > now_ms)
        return;
    if (c->protocol == 4) { /* no ping from the server in time: it is gone */
        terminate(c, SIO_EIO_REASON_PING_TIMEOUT);
        return;
    }
    c->ping_due = NEVER;
    c->pong_due = now_ms + c->ping_timeout;
    send_packet(c, SIO_EIO_PING, false, NULL, 0);
}

sio_err sio_eio_client_next_event(sio_eio_client *c, sio_eio_client_event *ev)
{
    sio__mem(MEM(c), c->current, 0);
    c->current = NULL;
    memset(ev, 0, sizeof *ev);
    if (!c->cfg)
        return SIO_OK;
    for (;;) {
        sio_eio_item *it = sio__list_pop(&c->events);
        if (it) {
            c->current = it;
            ev->type = (sio_eio_client_event_type)it->kind;
            ev->channel = (sio_eio_channel)it->channel;
            ev->binary = it->binary;
            ev->content_type = it->content_type;
            if (ev->type == SIO_EIO_CLIENT_EV_REQUEST) {
                ev->method = ev->channel == SIO_EIO_CHANNEL_POST ? "POST" : "GET";
                ev->target = sio_span_of(it->data, it->split);
                ev->data = sio_span_of(it->data + it->split, it->len - it->split);
            } else if (ev->type == SIO_EIO_CLIENT_EV_WS_OPEN) {
                ev->target = sio_span_of(it->data, it->len);
            } else {
                ev->data = sio_span_of(it->data, it->len);
            }
            return SIO_OK;
        }
        if (!c->has_input)
            break;
        if (step_input(c, ev))
            return SIO_OK;
    }
    memset(ev, 0, sizeof *ev);
    if (c->state == SIO_EIO_CLIENT_CLOSED && !c->closed_reported) {
        c->closed_reported = true;
        ev->type = SIO_EIO_CLIENT_EV_CLOSED;
        ev->reason = c->reason;
        ev->by_application = c->by_application;
    }
    return SIO_OK;
}

void sio_eio_client_free(sio_eio_client *c)
{
    if (!c->cfg)
        return;
    sio__list_clear(MEM(c), &c->queue);
    sio__list_clear(MEM(c), &c->events);
    sio__mem(MEM(c), c->current, 0);
    sio__mem(MEM(c), c->scratch, 0);
    c->current = NULL;
    c->scratch = NULL;
}

sio_eio_client_state sio_eio_client_state_of(const sio_eio_client *c)
{
    return c->state;
}

int sio_eio_client_protocol(const sio_eio_client *c)
{
    return c->protocol;
}

sio_span sio_eio_client_sid(const sio_eio_client *c)
{
    return sio_span_of(c->sid, c->sid_len);
}

uint64_t sio_eio_client_ping_interval(const sio_eio_client *c)
{
    return c->ping_interval;
}

uint64_t sio_eio_client_ping_timeout(const sio_eio_client *c)
{
    return c->ping_timeout;
}

uint64_t sio_eio_client_max_payload(const sio_eio_client *c)
{
    return c->max_payload;
}
