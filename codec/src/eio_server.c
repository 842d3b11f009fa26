/* The server side of an Engine.IO session: see sio/eio_server.h for the model and the
 * transition table. Outgoing packets wait in `queue` while polling has no GET; everything the
 * caller must act on waits in `events`, in the order it happened. */
#include <string.h>

#include "eio_internal.h"
#include "session_internal.h"
#include "sio/eio_server.h"

#define CH(c)  ((uint8_t)(1u << (c)))
#define NEVER  UINT64_MAX
#define MEM(s) ((s)->cfg->alloc)

static const char TEXT_PLAIN[] = "text/plain; charset=UTF-8";
static const char OCTETS[] = "application/octet-stream";
static const char JAVASCRIPT[] = "text/javascript; charset=UTF-8";

/* ------------------------------------------------------------------ item lists */

static sio_eio_item *item_new(sio_eio_server *s, uint8_t kind, size_t len)
{
    return sio__item_new(MEM(s), kind, len);
}

#define list_push sio__list_push
#define list_pop  sio__list_pop

static void list_clear(sio_eio_server *s, sio_eio_item_list *l)
{
    sio__list_clear(MEM(s), l);
}

static bool attached(const sio_eio_server *s, sio_eio_channel c)
{
    return (s->channels & CH(c)) != 0;
}

static void terminate(sio_eio_server *s, sio_eio_close_reason reason, sio_eio_type get_reply);

/* Allocation failure: the session cannot keep its promises. The channels it could not answer
 * stay attached; the CLOSED event tells the caller to drop their connections. */
static void out_of_memory(sio_eio_server *s)
{
    list_clear(s, &s->queue);
    if (s->state != SIO_EIO_SERVER_CLOSED) {
        s->by_application = s->closing;
        s->state = SIO_EIO_SERVER_CLOSED;
        s->reason = SIO_EIO_REASON_TRANSPORT_ERROR;
    }
}

static void push_event(sio_eio_server *s, sio_eio_item *it)
{
    if (it)
        list_push(&s->events, it);
    else
        out_of_memory(s);
}

/* ------------------------------------------------------------------ output */

/* One packet as one WebSocket message: text packets as '<digit><data>', binary messages as a
 * binary message (v4 the bytes, v3 type byte + bytes) or, with b64, as 'b<base64>' text. */
static void ws_send(sio_eio_server *s, sio_eio_channel ch, sio_eio_type type, bool binary,
                    const uint8_t *p, size_t n)
{
    sio_eio_encoding enc = !binary  ? SIO_EIO_ENC_TEXT
                           : s->b64 ? SIO_EIO_ENC_BASE64
                                    : SIO_EIO_ENC_BINARY;
    /* sized by formula: the encoder checks the text once, while writing it */
    size_t need = sio__eio_packet_encoded_len(s->protocol, enc, n);
    sio_eio_item *it = item_new(s, SIO_EIO_SERVER_EV_WS_SEND, need);
    if (it) {
        it->channel = (uint8_t)ch;
        it->binary = enc == SIO_EIO_ENC_BINARY;
        if (sio_eio_packet_encode(s->protocol, type, enc, p, n, it->data, need, &it->len) !=
            SIO_OK) {
            sio__mem(MEM(s), it, 0);
            return; /* not encodable (text that is not UTF-8): nothing is sent */
        }
    }
    push_event(s, it);
}

static void ws_close(sio_eio_server *s, sio_eio_channel ch)
{
    sio_eio_item *it = item_new(s, SIO_EIO_SERVER_EV_WS_CLOSE, 0);
    if (it) {
        it->channel = (uint8_t)ch;
        it->close_code = SIO_WS_CLOSE_NORMAL;
    }
    s->channels &= (uint8_t)~CH(ch);
    push_event(s, it);
}

/* Payload bytes wrapped for JSONP (EIO-PKT-20) into a RESPOND item. */
static sio_eio_item *jsonp_item(sio_eio_server *s, const uint8_t *body, size_t n)
{
    size_t idx = strlen(s->jsonp_index), need = 0;
    const uint8_t *index = (const uint8_t *)s->jsonp_index;
    sio_eio_jsonp_encode(index, idx, body, n, NULL, 0, &need);
    sio_eio_item *it = item_new(s, SIO_EIO_SERVER_EV_RESPOND, need);
    if (it && sio_eio_jsonp_encode(index, idx, body, n, it->data, need, &it->len) != SIO_OK)
        it->len = 0;
    return it;
}

/* Answers the held GET with packets as one payload in the session's format: v4, v3 text, or
 * v3 binary (XHR2) when there is binary data and neither b64 nor JSONP. */
static void respond_get(sio_eio_server *s, const sio_eio_packet *pkts, size_t count)
{
    bool any_binary = false;
    for (size_t i = 0; i < count; i++)
        any_binary |= pkts[i].binary;
    sio_eio_payload_format fmt = s->protocol == 4                       ? SIO_EIO_PAYLOAD_V4
                                 : (any_binary && !s->b64 && !s->jsonp) ? SIO_EIO_PAYLOAD_V3_BINARY
                                                                        : SIO_EIO_PAYLOAD_V3_TEXT;
    /* sized by a bound: the encoder checks the packets once, while writing them */
    size_t cap = sio__eio_payload_bound(pkts, count);
    sio_eio_item *it = item_new(s, SIO_EIO_SERVER_EV_RESPOND, cap);
    if (it && sio_eio_payload_encode(fmt, pkts, count, it->data, cap, &it->len) != SIO_OK)
        it->len = 0;
    if (it && s->jsonp) {
        sio_eio_item *wrapped = jsonp_item(s, it->data, it->len);
        sio__mem(MEM(s), it, 0);
        it = wrapped;
    }
    if (it) {
        it->channel = SIO_EIO_CHANNEL_GET;
        it->content_type = s->jsonp                           ? JAVASCRIPT
                           : fmt == SIO_EIO_PAYLOAD_V3_BINARY ? OCTETS
                                                              : TEXT_PLAIN;
    }
    s->channels &= (uint8_t)~CH(SIO_EIO_CHANNEL_GET);
    push_event(s, it);
}

/* Answers the held GET with one control packet ("1" close, "6" noop). */
static void release_get(sio_eio_server *s, sio_eio_type type)
{
    if (!attached(s, SIO_EIO_CHANNEL_GET))
        return;
    sio_eio_packet pkt = {type, false, false, SIO_SPAN_NULL};
    respond_get(s, &pkt, 1);
}

/* The whole queue as one payload for the held GET. */
static void flush_to_get(sio_eio_server *s)
{
#ifdef MUTANT_ONE_PACKET_PER_GET /* EIO-PKT-07: a GET takes only the oldest buffered packet */
    sio_eio_item *first = list_pop(&s->queue);
    sio_eio_packet one = {(sio_eio_type)first->kind, first->binary, false,
                          sio_span_of(first->data, first->len)};
    respond_get(s, &one, 1);
    sio__mem(MEM(s), first, 0);
    return;
#endif
    sio_eio_packet *pkts = sio__mem(MEM(s), NULL, s->queue.count * sizeof *pkts);
    if (!pkts) {
        out_of_memory(s);
        return;
    }
    size_t i = 0;
    for (sio_eio_item *it = s->queue.head; it; it = it->next, i++)
        pkts[i] = (sio_eio_packet){(sio_eio_type)it->kind, it->binary, false,
                                   sio_span_of(it->data, it->len)};
    respond_get(s, pkts, i);
    sio__mem(MEM(s), pkts, 0);
    list_clear(s, &s->queue);
}

/* Sends whatever is queued if the transport can take it now. */
static void flush(sio_eio_server *s)
{
    if (s->state == SIO_EIO_SERVER_WEBSOCKET && attached(s, SIO_EIO_CHANNEL_WEBSOCKET)) {
        for (sio_eio_item *it = s->queue.head; it; it = it->next)
            ws_send(s, SIO_EIO_CHANNEL_WEBSOCKET, (sio_eio_type)it->kind, it->binary, it->data,
                    it->len);
        list_clear(s, &s->queue);
    } else if (attached(s, SIO_EIO_CHANNEL_GET) && s->queue.count > 0) {
        flush_to_get(s);
    }
}

static sio_err send_packet(sio_eio_server *s, sio_eio_type type, bool binary, const uint8_t *p,
                           size_t n)
{
    if (s->state == SIO_EIO_SERVER_WEBSOCKET && attached(s, SIO_EIO_CHANNEL_WEBSOCKET) &&
        s->queue.count == 0) {
        ws_send(s, SIO_EIO_CHANNEL_WEBSOCKET, type, binary, p, n);
        return s->state == SIO_EIO_SERVER_CLOSED ? SIO_ERR_NO_MEMORY : SIO_OK;
    }
#ifdef MUTANT_UPGRADE_WITHOUT_NOOP /* EIO-UP-02: polling is released only once `5` arrives */
    if (type == SIO_EIO_NOOP && s->state == SIO_EIO_SERVER_PROBED)
        return SIO_OK;
#endif
    if (s->queue.count >= s->cfg->max_queued)
        return SIO_ERR_EIO_QUEUE_FULL;
    if (!sio__fits_polling(s->protocol, binary, p, n))
        return SIO_ERR_EIO_SEPARATOR_IN_TEXT;
    sio_eio_item *it = item_new(s, (uint8_t)type, n);
    if (!it) {
        out_of_memory(s);
        return SIO_ERR_NO_MEMORY;
    }
    it->binary = binary;
    if (n)
        memcpy(it->data, p, n);
    list_push(&s->queue, it);
    flush(s);
    return SIO_OK;
}

/* ------------------------------------------------------------------ closing */

/* Ends the session now: the held GET gets `get_reply`, WebSockets are closed, the POST whose
 * body is awaited is left to the caller (its body finds no session), then CLOSED. During an
 * input the end waits for the input to finish (the first cause wins). */
static void terminate(sio_eio_server *s, sio_eio_close_reason reason, sio_eio_type get_reply)
{
    if (s->state == SIO_EIO_SERVER_CLOSED)
        return;
    if (s->in_input) {
        if (!s->has_deferred) {
            s->has_deferred = true;
            s->reason = reason;
            s->deferred_reply = (uint8_t)get_reply;
        }
        return;
    }
    s->by_application = s->closing;
    s->closing = true;
    release_get(s, get_reply);
    s->channels &= (uint8_t)~CH(SIO_EIO_CHANNEL_POST);
    if (attached(s, SIO_EIO_CHANNEL_WEBSOCKET))
        ws_close(s, SIO_EIO_CHANNEL_WEBSOCKET);
    if (attached(s, SIO_EIO_CHANNEL_PROBE))
        ws_close(s, SIO_EIO_CHANNEL_PROBE);
    list_clear(s, &s->queue);
    s->ping_due = s->pong_due = s->upgrade_due = NEVER;
    s->state = SIO_EIO_SERVER_CLOSED;
    s->reason = reason;
}

/* Application close: over WebSocket everything is already written, so close now; over polling
 * the queue goes out with the next GET and the GET after it gets "1" (EIO-CL-03). */
static void close_after_flush(sio_eio_server *s)
{
    if (s->state == SIO_EIO_SERVER_WEBSOCKET || s->queue.count == 0)
        terminate(s, SIO_EIO_REASON_FORCED_SERVER_CLOSE, SIO_EIO_CLOSE);
    else
        flush(s); /* a held GET takes the queue; the next GET closes */
}

void sio_eio_server_close(sio_eio_server *s, uint64_t now_ms)
{
    (void)now_ms;
    if (s->closing || s->state == SIO_EIO_SERVER_CLOSED)
        return;
    s->closing = true;
    if (s->in_input)
        s->deferred_app_close = true;
    else
        close_after_flush(s);
}

void sio_eio_server_abort(sio_eio_server *s, sio_eio_close_reason reason, uint64_t now_ms)
{
    (void)now_ms;
    terminate(s, reason, SIO_EIO_CLOSE);
}

/* ------------------------------------------------------------------ open */

void sio_eio_server_config_init(sio_eio_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->ping_interval_ms = SIO_EIO_SERVER_DEFAULT_PING_INTERVAL_MS;
    cfg->ping_timeout_ms = SIO_EIO_SERVER_DEFAULT_PING_TIMEOUT_MS;
    cfg->upgrade_timeout_ms = SIO_EIO_SERVER_DEFAULT_UPGRADE_TIMEOUT_MS;
    cfg->max_payload = SIO_EIO_DEFAULT_MAX_PAYLOAD;
    cfg->max_queued = SIO_EIO_SERVER_DEFAULT_MAX_QUEUED;
}

/* The open packet: sid, upgrades (["websocket"] over polling), heartbeat, maxPayload. */
static sio_err send_open_packet(sio_eio_server *s, bool polling)
{
    sio_eio_open o;
    memset(&o, 0, sizeof o);
    o.sid = sio_span_of(s->sid, s->sid_len);
    o.has_upgrades = true;
    o.upgrade_count = polling ? 1 : 0;
    o.upgrades[0] = sio_span_of("websocket", 9);
    o.ping_interval = s->cfg->ping_interval_ms;
    o.ping_timeout = s->cfg->ping_timeout_ms;
    o.max_payload = s->cfg->max_payload;
    o.has_max_payload = true;
    uint8_t json[SIO_EIO_MAX_SID_LEN * 6 + 160];
    size_t n = 0;
    sio_err rc = sio_eio_open_encode(&o, json, sizeof json, &n);
    return rc == SIO_OK ? send_packet(s, SIO_EIO_OPEN, false, json + 1, n - 1) : rc;
}

/* v4: the server pings every pingInterval and expects a pong within pingTimeout (EIO-HB-01/03).
 * v3: the client pings; the server only waits pingInterval + pingTimeout for it (EIO-HB-08). */
static void heartbeat_start(sio_eio_server *s, uint64_t now)
{
    if (s->protocol == 4)
        s->ping_due = now + s->cfg->ping_interval_ms;
    else
        s->pong_due = now + (uint64_t)s->cfg->ping_interval_ms + s->cfg->ping_timeout_ms;
#ifdef MUTANT_FIRST_PING_AT_ONCE /* EIO-HB-01: the first ping goes out with the open packet */
    if (s->protocol == 4)
        s->ping_due = now;
#endif
}

sio_err sio_eio_server_open(sio_eio_server *s, const sio_eio_server_config *cfg,
                            const sio_eio_request *req, const char *sid, size_t sid_len,
                            uint64_t now_ms)
{
    memset(s, 0, sizeof *s);
    s->state = SIO_EIO_SERVER_CLOSED;
    s->closed_reported = true; /* nothing to report unless the session opens */
    s->cfg = cfg;
    if (!cfg || !req || req->kind != SIO_EIO_REQUEST_HANDSHAKE || !sid || sid_len == 0 ||
        sid_len > SIO_EIO_MAX_SID_LEN)
        return SIO_ERR_INVALID_ARGUMENT;
    if (req->protocol != 4 && !(req->protocol == 3 && cfg->allow_eio3))
        return SIO_ERR_EIO_UNSUPPORTED_PROTOCOL;
    memcpy(s->sid, sid, sid_len);
    s->sid_len = (uint8_t)sid_len;
    s->protocol = (uint8_t)req->protocol;
    s->b64 = req->b64;
    s->jsonp = req->jsonp && !req->websocket;
    if (s->jsonp)
        memcpy(s->jsonp_index, req->jsonp_index, sizeof s->jsonp_index);
    s->ping_due = s->pong_due = s->upgrade_due = NEVER;
    s->closed_reported = false;
    s->state = req->websocket ? SIO_EIO_SERVER_WEBSOCKET : SIO_EIO_SERVER_POLLING;
    if (req->websocket)
        s->channels = CH(SIO_EIO_CHANNEL_WEBSOCKET);
    sio_err rc = send_open_packet(s, !req->websocket);
    if (rc == SIO_OK && cfg->initial_packet.ptr) /* EIO-HS-21: in the same first response */
        rc = send_packet(s, SIO_EIO_MESSAGE, false, cfg->initial_packet.ptr,
                         cfg->initial_packet.len);
    if (!req->websocket) { /* the handshake GET takes what is queued so far */
        s->channels |= CH(SIO_EIO_CHANNEL_GET);
        flush(s);
    }
    heartbeat_start(s, now_ms);
    return rc == SIO_ERR_NO_MEMORY ? rc : SIO_OK;
}

/* ------------------------------------------------------------------ polling requests */

/* A long-poll GET: answered at once when packets wait, otherwise held (EIO-POLL-04). A second
 * GET while one is held ends the session (EIO-POLL-01). */
static sio_err polling_get(sio_eio_server *s)
{
#ifdef MUTANT_OVERLAPPING_GET_ALLOWED /* EIO-POLL-01: the new GET replaces the held one */
    release_get(s, SIO_EIO_NOOP);
#endif
    if (attached(s, SIO_EIO_CHANNEL_GET)) {
        terminate(s, SIO_EIO_REASON_TRANSPORT_ERROR, SIO_EIO_CLOSE);
        return SIO_ERR_EIO_OVERLAPPING_GET;
    }
    s->channels |= CH(SIO_EIO_CHANNEL_GET);
    if (s->state == SIO_EIO_SERVER_PROBED && s->queue.count == 0)
        send_packet(s, SIO_EIO_NOOP, false, NULL, 0); /* release polling (EIO-UP-02) */
    else if (s->closing && s->queue.count == 0)
        terminate(s, SIO_EIO_REASON_FORCED_SERVER_CLOSE, SIO_EIO_CLOSE);
    else
        flush(s);
#ifdef MUTANT_GET_ANSWERED_AT_ONCE /* EIO-POLL-04: an idle GET gets a noop instead of waiting */
    if (attached(s, SIO_EIO_CHANNEL_GET))
        release_get(s, SIO_EIO_NOOP);
#endif
    return SIO_OK;
}

/* A POST: checked now, answered once its body has arrived and been delivered. */
static sio_err polling_post(sio_eio_server *s, const sio_eio_request *req)
{
    if (attached(s, SIO_EIO_CHANNEL_POST)) {
        terminate(s, SIO_EIO_REASON_TRANSPORT_ERROR, SIO_EIO_CLOSE); /* EIO-POLL-02 */
        return SIO_ERR_EIO_OVERLAPPING_POST;
    }
    if (s->protocol == 4 && req->octet_stream) {
        terminate(s, SIO_EIO_REASON_TRANSPORT_ERROR, SIO_EIO_CLOSE); /* EIO-PKT-14 */
        return SIO_ERR_EIO_BINARY_POST;
    }
    if (req->chunked)
        return SIO_ERR_EIO_CHUNKED_POST;
    if (req->content_length > s->cfg->max_payload)
        return SIO_ERR_EIO_PAYLOAD_TOO_LARGE; /* session kept (EIO-POLL-05) */
    s->channels |= CH(SIO_EIO_CHANNEL_POST);
    s->post_octets = req->octet_stream; /* v3: the body is in the binary (XHR2) format */
    return SIO_OK;
}

sio_err sio_eio_server_request(sio_eio_server *s, const sio_eio_request *req, uint64_t now_ms)
{
    (void)now_ms;
    if (s->state == SIO_EIO_SERVER_CLOSED)
        return SIO_ERR_EIO_SESSION_CLOSED;
    if (req->kind != SIO_EIO_REQUEST_POLL)
        return SIO_ERR_INVALID_ARGUMENT;
    if (req->transport_websocket != (s->state == SIO_EIO_SERVER_WEBSOCKET))
        return SIO_ERR_EIO_BAD_REQUEST;
#ifdef MUTANT_POST_ANSWERED_FIRST /* EIO-POLL-08: the packets of the POST answered before */
    if (s->input_is_post && !s->in_input)
        s->in_input = true;
#endif
    if (req->method == SIO_EIO_METHOD_GET)
        return polling_get(s);
    if (req->method == SIO_EIO_METHOD_POST)
        return polling_post(s, req);
    return SIO_ERR_EIO_BAD_METHOD_ON_SESSION;
}

/* The POST's answer, once its packets were delivered (EIO-POLL-08). */
static void answer_post(sio_eio_server *s)
{
    sio_eio_item *ok = item_new(s, SIO_EIO_SERVER_EV_RESPOND, 2);
    if (ok) {
        ok->channel = SIO_EIO_CHANNEL_POST;
        ok->content_type = "text/html";
        memcpy(ok->data, "ok", 2);
    }
    push_event(s, ok);
}

/* A JSONP POST carries the payload form-encoded as d=… (EIO-PKT-20). The decoded payload is
 * the input: it lives in its own buffer until the input is done, apart from `scratch`, which each
 * base64 record of it replaces. */
static sio_err jsonp_unwrap(sio_eio_server *s, const uint8_t **body, size_t *n)
{
    size_t need = 0;
    sio_eio_jsonp_post_decode(*body, *n, NULL, NULL, 0, &need);
    s->unwrapped = sio__mem(MEM(s), NULL, need ? need : 1);
    if (!s->unwrapped)
        return SIO_ERR_NO_MEMORY;
    if (sio_eio_jsonp_post_decode(*body, *n, NULL, s->unwrapped, need, n) != SIO_OK)
        *n = 0;
    *body = s->unwrapped;
    return SIO_OK;
}

sio_err sio_eio_server_post_body(sio_eio_server *s, const uint8_t *body, size_t len,
                                 uint64_t now_ms)
{
    (void)now_ms;
    if (!attached(s, SIO_EIO_CHANNEL_POST) || s->in_input)
        return SIO_ERR_EIO_WRONG_STATE;
    s->channels &= (uint8_t)~CH(SIO_EIO_CHANNEL_POST);
    bool octets = s->post_octets;
    if (s->jsonp && jsonp_unwrap(s, &body, &len) != SIO_OK) {
        out_of_memory(s);
        return SIO_ERR_NO_MEMORY;
    }
    sio_eio_payload_format fmt = s->protocol == 4 ? SIO_EIO_PAYLOAD_V4
                                 : octets         ? SIO_EIO_PAYLOAD_V3_BINARY
                                                  : SIO_EIO_PAYLOAD_V3_TEXT;
    sio_eio_options opt = {.b64 = s->b64};
#ifdef MUTANT_POST_ANSWERED_FIRST /* EIO-POLL-08: "ok" at once, the packets read at the next request */
    uint8_t *copy = sio__mem(MEM(s), NULL, len ? len : 1); /* the caller's buffer is gone by then */
    if (!copy) {
        out_of_memory(s);
        return SIO_ERR_NO_MEMORY;
    }
    memcpy(copy, body, len);
    answer_post(s);
    sio_eio_payload_iter_init(&s->input.post, fmt, copy, len, &opt);
    s->input_is_post = true; /* in_input is set by the next request */
    s->input_now = now_ms;
    return SIO_OK;
#endif
    sio_eio_payload_iter_init(&s->input.post, fmt, body, len, &opt);
    s->in_input = true;
    s->input_is_post = true;
    s->input_now = now_ms;
    return SIO_OK;
}

/* ------------------------------------------------------------------ WebSocket */

sio_err sio_eio_server_upgrade(sio_eio_server *s, const sio_eio_request *req, uint64_t now_ms)
{
    if (s->state == SIO_EIO_SERVER_CLOSED || s->closing)
        return SIO_ERR_EIO_SESSION_UNKNOWN;
    if (s->state != SIO_EIO_SERVER_POLLING || !req->transport_websocket)
        return SIO_ERR_EIO_SECOND_WEBSOCKET; /* one WebSocket per session (EIO-UP-09) */
    s->channels |= CH(SIO_EIO_CHANNEL_PROBE);
    s->state = SIO_EIO_SERVER_PROBING;
    s->upgrade_due = now_ms + s->cfg->upgrade_timeout_ms;
    return SIO_OK;
}

static void drop_probe(sio_eio_server *s, bool close_it)
{
    s->state = SIO_EIO_SERVER_POLLING;
    s->upgrade_due = NEVER;
    if (close_it)
        ws_close(s, SIO_EIO_CHANNEL_PROBE);
    else
        s->channels &= (uint8_t)~CH(SIO_EIO_CHANNEL_PROBE);
}

/* "5": the WebSocket becomes the transport. A GET still held is released with a noop first,
 * so nothing queued is lost or reordered (EIO-UP-03). */
static void complete_upgrade(sio_eio_server *s)
{
    s->upgrade_due = NEVER;
    release_get(s, SIO_EIO_NOOP);
    s->channels =
        (uint8_t)((s->channels & ~CH(SIO_EIO_CHANNEL_PROBE)) | CH(SIO_EIO_CHANNEL_WEBSOCKET));
    s->state = SIO_EIO_SERVER_WEBSOCKET;
    push_event(s, item_new(s, SIO_EIO_SERVER_EV_UPGRADED, 0));
    flush(s);
}

/* Packets on the probing WebSocket: only "2probe" then "5" are allowed (EIO-UP-01, 06, 07). */
static void probe_packet(sio_eio_server *s, const sio_eio_packet *pkt)
{
    bool probe =
        pkt->type == SIO_EIO_PING && pkt->data.len == 5 && memcmp(pkt->data.ptr, "probe", 5) == 0;
    if (probe && s->state == SIO_EIO_SERVER_PROBING) {
        ws_send(s, SIO_EIO_CHANNEL_PROBE, SIO_EIO_PONG, false, (const uint8_t *)"probe", 5);
        s->state = SIO_EIO_SERVER_PROBED;
        if (attached(s, SIO_EIO_CHANNEL_GET) && s->queue.count == 0)
            send_packet(s, SIO_EIO_NOOP, false, NULL, 0); /* EIO-UP-02 */
    } else if (pkt->type == SIO_EIO_UPGRADE) {
        complete_upgrade(s);
    } else {
        drop_probe(s, true);
    }
}

sio_err sio_eio_server_ws_message(sio_eio_server *s, sio_eio_channel channel, bool text,
                                  const uint8_t *p, size_t n, uint64_t now_ms)
{
    if ((channel != SIO_EIO_CHANNEL_WEBSOCKET && channel != SIO_EIO_CHANNEL_PROBE) ||
        !attached(s, channel) || s->in_input)
        return SIO_ERR_EIO_WRONG_STATE;
    sio_eio_options opt = {.b64 = s->b64};
    sio_eio_packet pkt;
    sio_err rc = sio_eio_packet_decode(
        s->protocol, text ? SIO_EIO_FRAME_WS_TEXT : SIO_EIO_FRAME_WS_BINARY, p, n, &opt, &pkt);
    if (channel == SIO_EIO_CHANNEL_PROBE) {
        if (rc == SIO_OK)
            probe_packet(s, &pkt);
        else
            drop_probe(s, true);
        return rc;
    }
    if (rc != SIO_OK) {
        terminate(s, SIO_EIO_REASON_PARSE_ERROR, SIO_EIO_CLOSE); /* EIO-PKT-02/03 */
        return rc;
    }
    s->input.ws = pkt;
    s->has_ws_packet = true;
    s->in_input = true;
    s->input_is_post = false;
    s->input_now = now_ms;
    return SIO_OK;
}

/* The peer dropped a connection: losing the held GET, an open POST or the active WebSocket
 * ends the session (EIO-POLL-03, SIO-DC-05 "transport close"); losing a probe only cancels the
 * upgrade. */
void sio_eio_server_channel_lost(sio_eio_server *s, sio_eio_channel channel, uint64_t now_ms)
{
    (void)now_ms;
    if (!attached(s, channel))
        return;
    if (channel == SIO_EIO_CHANNEL_PROBE) {
        drop_probe(s, false);
        return;
    }
    s->channels &= (uint8_t)~CH(channel);
    terminate(s, SIO_EIO_REASON_TRANSPORT_CLOSE, SIO_EIO_CLOSE);
}

/* ------------------------------------------------------------------ received packets */

/* v4 pong: the peer is alive; the next ping is due pingInterval from now (EIO-HB-02). An
 * unsolicited pong is harmless (EIO-HB-06). */
static void on_pong(sio_eio_server *s)
{
    if (s->pong_due == NEVER)
        return;
    s->pong_due = NEVER;
    s->ping_due = s->input_now + s->cfg->ping_interval_ms;
}

/* A message for the application; base64 records are decoded into the scratch buffer first,
 * which holds only the record of the MESSAGE event last returned (the packet itself may be a
 * view into `unwrapped`, never into `scratch`). Returns true when `ev` holds a MESSAGE event. */
static bool deliver(sio_eio_server *s, const sio_eio_packet *pkt, sio_eio_server_event *ev)
{
    if (s->closing || s->has_deferred)
        return false;
    sio_span data = pkt->data;
    if (pkt->binary && pkt->base64) {
        size_t need = 0, n = 0;
        sio_eio_packet_binary(pkt, false, NULL, 0, &need);
        sio__mem(MEM(s), s->scratch, 0);
        s->scratch = sio__mem(MEM(s), NULL, need ? need : 1);
        if (!s->scratch) {
            out_of_memory(s);
            return false;
        }
        if (sio_eio_packet_binary(pkt, false, s->scratch, need, &n) != SIO_OK) {
            terminate(s, SIO_EIO_REASON_PARSE_ERROR, SIO_EIO_CLOSE);
            return false;
        }
        data = sio_span_of(s->scratch, n);
    }
    memset(ev, 0, sizeof *ev);
    ev->type = SIO_EIO_SERVER_EV_MESSAGE;
    ev->binary = pkt->binary;
    ev->data = data;
    return true;
}

/* One packet from the client, on whichever transport (REQUIREMENTS.md group C, ERR-01/02). */
static bool receive_packet(sio_eio_server *s, const sio_eio_packet *pkt, sio_eio_server_event *ev)
{
#ifdef MUTANT_ANY_PACKET_IS_LIVENESS /* EIO-HB-04: every packet counts as a pong */
    if (s->protocol == 4)
        on_pong(s);
#endif
    switch (pkt->type) {
    case SIO_EIO_CLOSE:
#ifdef MUTANT_CLIENT_CLOSE_IGNORED_ON_POLLING /* EIO-CL-01: `1` in a POST is dropped */
        if (s->input_is_post)
            return false;
#endif
        terminate(s, SIO_EIO_REASON_TRANSPORT_CLOSE, SIO_EIO_NOOP); /* EIO-CL-01 */
        return false;
    case SIO_EIO_PING:
#ifdef MUTANT_CLIENT_PING_ANSWERED /* EIO-HB-05: a v4 client ping answered as in v3 */
        if (s->protocol == 4) {
            send_packet(s, SIO_EIO_PONG, false, NULL, 0);
            return false;
        }
#endif
        if (s->protocol == 3) { /* answered with a bare pong, as Node does (EIO-HB-08) */
            send_packet(s, SIO_EIO_PONG, false, NULL, 0);
            heartbeat_start(s, s->input_now);
        } else {
            terminate(s, SIO_EIO_REASON_TRANSPORT_ERROR, SIO_EIO_CLOSE); /* EIO-HB-05 */
        }
        return false;
    case SIO_EIO_PONG:
        if (s->protocol == 4)
            on_pong(s);
        else
            terminate(s, SIO_EIO_REASON_TRANSPORT_ERROR, SIO_EIO_CLOSE);
        return false;
    case SIO_EIO_MESSAGE:
        return deliver(s, pkt, ev);
    default:
        return false; /* open, upgrade, noop on the active transport are ignored (EIO-POLL-07) */
    }
}

/* The input is done: a close asked for meanwhile happens now, then a POST is answered "ok", so
 * the replies are already queued for the next GET (EIO-POLL-08). */
static void end_input(sio_eio_server *s)
{
    bool post = s->input_is_post;
    s->in_input = false;
    s->input_is_post = false;
    s->has_ws_packet = false;
    sio__mem(MEM(s), s->scratch, 0);
    sio__mem(MEM(s), s->unwrapped, 0);
    s->scratch = s->unwrapped = NULL;
    if (s->has_deferred) {
        s->has_deferred = false;
        terminate(s, s->reason, (sio_eio_type)s->deferred_reply);
    } else if (s->deferred_app_close) {
        close_after_flush(s);
    }
    s->deferred_app_close = false;
#ifndef MUTANT_POST_ANSWERED_FIRST
    if (post)
        answer_post(s);
#else /* EIO-POLL-08: the POST was answered when its body came; its copy is freed */
    if (post)
        sio__mem(MEM(s), (void *)s->input.post.p, 0);
#endif
}

/* Reads the next packet of the input; true when it gave a MESSAGE event. A bad record ends the
 * session after the packets before it were delivered (EIO-PKT-02/03). */
static bool step_input(sio_eio_server *s, sio_eio_server_event *ev)
{
    if (s->has_deferred || s->state == SIO_EIO_SERVER_CLOSED) {
        end_input(s);
        return false;
    }
    if (!s->input_is_post) {
        if (!s->has_ws_packet) {
            end_input(s);
            return false;
        }
        s->has_ws_packet = false;
        return receive_packet(s, &s->input.ws, ev);
    }
    sio_eio_packet pkt;
    bool has = false;
    if (sio_eio_payload_next(&s->input.post, &pkt, &has) != SIO_OK) {
        terminate(s, SIO_EIO_REASON_PARSE_ERROR, SIO_EIO_CLOSE);
        end_input(s);
        return false;
    }
    if (!has) {
        end_input(s);
        return false;
    }
    return receive_packet(s, &pkt, ev);
}

/* ------------------------------------------------------------------ application and time */

sio_err sio_eio_server_send(sio_eio_server *s, bool binary, const uint8_t *p, size_t n,
                            uint64_t now_ms)
{
    (void)now_ms;
    if (s->closing || s->state == SIO_EIO_SERVER_CLOSED)
        return SIO_ERR_EIO_SESSION_CLOSED;
    if (!binary) {
        sio_err rc = sio_utf8_validate(p, n, NULL);
        if (rc != SIO_OK)
            return rc;
    }
    return send_packet(s, SIO_EIO_MESSAGE, binary, p, n);
}

bool sio_eio_server_writable(const sio_eio_server *s)
{
    if (s->closing || s->state == SIO_EIO_SERVER_CLOSED)
        return false;
    return s->state == SIO_EIO_SERVER_WEBSOCKET || attached(s, SIO_EIO_CHANNEL_GET);
}

uint64_t sio_eio_server_next_deadline(const sio_eio_server *s)
{
    uint64_t d = s->ping_due < s->pong_due ? s->ping_due : s->pong_due;
    return s->upgrade_due < d ? s->upgrade_due : d;
}

void sio_eio_server_timeout(sio_eio_server *s, uint64_t now_ms)
{
    if (s->upgrade_due <= now_ms) { /* the probe did not finish in time */
        s->upgrade_due = NEVER;
        if (attached(s, SIO_EIO_CHANNEL_PROBE))
            drop_probe(s, true);
    }
    if (s->ping_due <= now_ms) {
        s->ping_due = NEVER;
        if (s->closing) { /* the client never fetched the close */
            terminate(s, SIO_EIO_REASON_FORCED_SERVER_CLOSE, SIO_EIO_CLOSE);
            return;
        }
        send_packet(s, SIO_EIO_PING, false, NULL, 0);
        s->pong_due = now_ms + s->cfg->ping_timeout_ms;
    }
    if (s->pong_due <= now_ms)
        terminate(s, SIO_EIO_REASON_PING_TIMEOUT, SIO_EIO_CLOSE);
}

/* ------------------------------------------------------------------ events */

static void fill_from_item(sio_eio_server_event *ev, const sio_eio_item *it)
{
    memset(ev, 0, sizeof *ev);
    ev->type = (sio_eio_server_event_type)it->kind;
    ev->channel = (sio_eio_channel)it->channel;
    ev->binary = it->binary;
    ev->close_code = it->close_code;
    ev->content_type = it->content_type;
    ev->data = sio_span_of(it->data, it->len);
}

sio_err sio_eio_server_next_event(sio_eio_server *s, sio_eio_server_event *ev)
{
    sio__mem(MEM(s), s->current, 0);
    s->current = NULL;
    for (;;) {
        sio_eio_item *it = list_pop(&s->events);
        if (it) {
            s->current = it;
            fill_from_item(ev, it);
            return SIO_OK;
        }
        if (!s->in_input)
            break;
        if (step_input(s, ev))
            return SIO_OK;
    }
    memset(ev, 0, sizeof *ev);
    if (s->state == SIO_EIO_SERVER_CLOSED && !s->closed_reported) {
        s->closed_reported = true;
        ev->type = SIO_EIO_SERVER_EV_CLOSED;
        ev->reason = s->reason;
        ev->by_application = s->by_application;
        ev->channels_left = s->channels;
    }
    return SIO_OK;
}

void sio_eio_server_free(sio_eio_server *s)
{
    if (!s->cfg)
        return;
    list_clear(s, &s->queue);
    list_clear(s, &s->events);
    sio__mem(MEM(s), s->current, 0);
    sio__mem(MEM(s), s->scratch, 0);
    sio__mem(MEM(s), s->unwrapped, 0);
    s->current = NULL;
    s->scratch = s->unwrapped = NULL;
}

sio_eio_server_state sio_eio_server_state_of(const sio_eio_server *s)
{
    return s->state;
}

int sio_eio_server_protocol(const sio_eio_server *s)
{
    return s->protocol;
}

sio_span sio_eio_server_sid(const sio_eio_server *s)
{
    return sio_span_of(s->sid, s->sid_len);
}

bool sio_eio_server_on_websocket(const sio_eio_server *s)
{
    return s->state == SIO_EIO_SERVER_WEBSOCKET;
}
