/* Fuzz target: the reference client's receive path (reference-client/: its connections, which read
 * HTTP responses, chunked bodies, WebSocket handshakes and frames with the codec, and the client
 * sessions behind them), fed server bytes. An in-memory I/O side plays the network: the client's
 * connections open (or are refused) when the input says, bytes arrive on them, they end, time
 * passes, the application acts. Oracles, besides the sanitizers and leak checks:
 *  - everything the client writes parses: on a polling connection, a sequence of whole HTTP/1.1
 *    requests (GET or POST to the configured path, naming EIO and the transport, POST bodies
 *    exactly Content-Length long and decoding as payloads in the client's format); on a WebSocket,
 *    one upgrade request with a valid key, then masked frames whose data messages decode as
 *    Engine.IO packets;
 *  - no deadline the client returns lies in the past.
 *
 * Input: byte 0 = configuration (bit 0: Engine.IO 3; bits 1-2: transports 0 polling then
 * WebSocket, 1 polling, 2 WebSocket, 3 WebSocket falling back to polling; bit 3: no
 * reconnection; bit 4: max_message 64 bytes), then operations, one byte (op % 8) and arguments;
 * <k> picks one of the open connections (k modulo their number, in the order they were opened):
 *   0 <k> connected            1 <k> connect refused
 *   2 <k> <len> <bytes>         3 <k> <len hi> <len lo> <bytes>   server bytes arrive
 *   4 <k> <what> a canned answer (what % 8): 0 the handshake (HTTP 200, an open packet),
 *     1 HTTP 200 "ok", 2 HTTP 101 with the right accept key, 3 frame "3probe", 4 HTTP 200 noop,
 *     5 frame with an open packet, 6 frame "2" (ping), 7 HTTP 200 with a Socket.IO CONNECT reply
 *   5 <k> <how> the connection ends (how odd: reset)     6 <n> n x 50 ms pass
 *   7 <a> <len> <bytes> the application (a % 4): 0 emit with ack, 1 join, 2 leave, 3 close */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "fuzz_common.h"

#define MAX_LINKS 32

typedef struct fake_link {
    rc_link *link;
    bool connect_reported;
    bool head_seen; /* WebSocket: the upgrade request went out */
    sio_ws_parser frames;
    uint8_t message[4096];
    size_t message_len;
    bool message_text, message_cut;
} fake_link;

static fake_link links[MAX_LINKS];
static int nlinks;
static uint64_t now;
static uint32_t random_state;
static int eio;

/* ------------------------------------------------------------------ the I/O side */

static int io_open(void *ctx, rc_link *link, const char *host, uint16_t port)
{
    (void)ctx;
    (void)host;
    (void)port;
    if (nlinks == MAX_LINKS)
        return EMFILE;
    fake_link *f = &links[nlinks++];
    memset(f, 0, sizeof *f);
    f->link = link;
    sio_ws_parser_init(&f->frames, SIO_WS_ROLE_SERVER, 1u << 20);
    rc_link_set_io_data(link, f);
    return 0;
}

static void io_want_write(void *ctx, rc_link *link)
{
    (void)ctx;
    (void)link;
}

static void io_close(void *ctx, rc_link *link)
{
    (void)ctx;
    fake_link *f = rc_link_io_data(link);
    if (!f)
        return;
    int i = (int)(f - links);
    memmove(&links[i], &links[i + 1], (size_t)(nlinks - i - 1) * sizeof links[0]);
    nlinks--;
    for (int j = i; j < nlinks; j++)
        rc_link_set_io_data(links[j].link, &links[j]);
    rc_link_set_io_data(link, NULL);
}

static uint64_t io_now(void *ctx)
{
    (void)ctx;
    return now;
}

static void io_random(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        random_state = random_state * 1103515245u + 12345u;
        out[i] = (uint8_t)(random_state >> 16);
    }
}

static const rc_io fake_io = {io_open, io_want_write, io_close, io_now, io_random};

/* ------------------------------------------------------------------ oracles on what it writes */

static void check_ws_message(fake_link *f)
{
    if (f->message_cut)
        return;
    sio_eio_options opt = {.b64 = true};
    sio_eio_packet pkt;
    if (sio_eio_packet_decode(eio,
                              f->message_text ? SIO_EIO_FRAME_WS_TEXT : SIO_EIO_FRAME_WS_BINARY,
                              f->message, f->message_len, &opt, &pkt) != SIO_OK)
        fuzz_fail_diff("refclient: a WebSocket message that is not an Engine.IO packet", f->message,
                       f->message_len, NULL, 0);
}

/* Masked frames: the client's own messages. Control frames the client answers (pong, close) are
 * valid frames too; data messages must be Engine.IO packets. */
static void check_frames(fake_link *f, uint8_t *p, size_t n)
{
    while (n) {
        size_t used = 0;
        sio_ws_event ev;
        sio_err rc = sio_ws_parser_feed(&f->frames, p, n, &used, &ev);
        if (rc != SIO_OK)
            fuzz_fail_diff("refclient: wrote a bad WebSocket frame", p, n, NULL, 0);
        p += used;
        n -= used;
        if (ev.type != SIO_WS_EV_DATA)
            continue;
        if (ev.message_start && ev.frame_start) {
            f->message_len = 0;
            f->message_text = ev.text;
            f->message_cut = false;
        }
        if (f->message_len + ev.payload.len <= sizeof f->message) {
            memcpy(f->message + f->message_len, ev.payload.ptr, ev.payload.len);
            f->message_len += ev.payload.len;
        } else {
            f->message_cut = true;
        }
        if (ev.message_end)
            check_ws_message(f);
    }
}

static bool target_ok(const sio_http_request *req, const char *transport)
{
    sio_span v;
    char want[16];
    snprintf(want, sizeof want, "%d", eio);
    return req->path.len == 11 && memcmp(req->path.ptr, "/socket.io/", 11) == 0 &&
           sio_http_query_raw(req->query, "EIO", &v) == SIO_OK && v.len == 1 &&
           v.ptr[0] == want[0] && sio_http_query_raw(req->query, "transport", &v) == SIO_OK &&
           v.len == strlen(transport) && memcmp(v.ptr, transport, v.len) == 0;
}

static void check_post_body(const sio_http_request *req, const uint8_t *body, size_t n)
{
    const sio_http_header *ct = sio_http_header_find(req, "content-type");
    bool octets =
        ct && ct->value.len >= 24 && memcmp(ct->value.ptr, "application/octet-stream", 24) == 0;
    sio_eio_payload_format fmt = eio == 4 ? SIO_EIO_PAYLOAD_V4
                                 : octets ? SIO_EIO_PAYLOAD_V3_BINARY
                                          : SIO_EIO_PAYLOAD_V3_TEXT;
    sio_eio_options opt = {.b64 = true};
    if (sio_eio_payload_validate(fmt, body, n, &opt, NULL) != SIO_OK)
        fuzz_fail_diff("refclient: a POST body that does not decode as a payload", body, n, NULL,
                       0);
}

/* Whole HTTP requests, back to back (a WebSocket's upgrade request, then its frames). */
static void check_output(fake_link *f, uint8_t *p, size_t n)
{
    bool websocket = f->link->websocket;
    while (n && !(websocket && f->head_seen)) {
        sio_http_parser ps;
        sio_http_request req;
        sio_http_parser_init(&ps);
        if (sio_http_request_parse(&ps, p, n, NULL, &req) != SIO_OK || req.head_len == 0)
            fuzz_fail_diff("refclient: wrote something that is not a whole HTTP request", p, n,
                           NULL, 0);
        bool post = req.method.len == 4 && memcmp(req.method.ptr, "POST", 4) == 0;
        bool get = req.method.len == 3 && memcmp(req.method.ptr, "GET", 3) == 0;
        size_t body = post && req.body == SIO_HTTP_BODY_LENGTH ? (size_t)req.content_length : 0;
        FUZZ_ASSERT(get || post, "refclient: a request neither GET nor POST");
        FUZZ_ASSERT(target_ok(&req, websocket ? "websocket" : "polling"),
                    "refclient: a request target without the path, EIO or transport");
        FUZZ_ASSERT(!post || req.body == SIO_HTTP_BODY_LENGTH, "refclient: a POST without length");
        FUZZ_ASSERT(req.head_len + body <= n, "refclient: a POST body cut short");
        if (websocket) {
            const sio_http_header *key = sio_http_header_find(&req, "sec-websocket-key");
            FUZZ_ASSERT(get && key && sio_ws_key_validate(key->value.ptr, key->value.len) == SIO_OK,
                        "refclient: a WebSocket request without a valid key");
            f->head_seen = true;
        }
        if (post)
            check_post_body(&req, p + req.head_len, body);
        p += req.head_len + body;
        n -= req.head_len + body;
    }
    if (n)
        check_frames(f, p, n);
}

static void drain_output(void)
{
    for (int i = 0; i < nlinks; i++) {
        sio_span out = rc_link_output(links[i].link);
        if (!out.len || !links[i].connect_reported) /* a request waits for its connection */
            continue;
        uint8_t *copy = malloc(out.len);
        memcpy(copy, out.ptr, out.len);
        check_output(&links[i], copy, out.len);
        free(copy);
        rc_link_wrote(links[i].link, out.len);
    }
}

/* ------------------------------------------------------------------ canned answers */

static void deliver(fake_link *f, const void *p, size_t n)
{
    rc_link_received(f->link, p, n);
}

static void http_answer(fake_link *f, const char *status, const char *body)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 %s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     status, strlen(body), body);
    deliver(f, buf, (size_t)n);
}

static void frame(fake_link *f, const char *text)
{
    uint8_t buf[256];
    size_t n = 0;
    sio_ws_frame_header h = {.fin = true, .opcode = SIO_WS_OP_TEXT};
    sio_ws_frame_encode(&h, (const uint8_t *)text, strlen(text), buf, sizeof buf, &n);
    deliver(f, buf, n);
}

#define OPEN_V4                                                                                    \
    "0{\"sid\":\"fz\",\"upgrades\":[\"websocket\"],\"pingInterval\":300,\"pingTimeout\":200,"      \
    "\"maxPayload\":1000}"
#define OPEN_V3                                                                                    \
    "0{\"sid\":\"fz\",\"upgrades\":[\"websocket\"],\"pingInterval\":300,\"pingTimeout\":200}"

static void canned(fake_link *f, uint8_t what)
{
    char body[160];
    switch (what % 8) {
    case 0:
        if (eio == 4)
            http_answer(f, "200 OK", OPEN_V4);
        else
            snprintf(body, sizeof body, "%zu:%s", strlen(OPEN_V3), OPEN_V3),
                http_answer(f, "200 OK", body);
        break;
    case 1:
        http_answer(f, "200 OK", "ok");
        break;
    case 2: {
        uint8_t accept[SIO_WS_ACCEPT_LEN];
        size_t n = 0;
        sio_ws_accept_compute((const uint8_t *)f->link->ws_key, strlen(f->link->ws_key), accept,
                              sizeof accept, &n);
        char head[200];
        int hn = snprintf(head, sizeof head,
                          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Accept: %.*s\r\n\r\n",
                          (int)n, (const char *)accept);
        deliver(f, head, (size_t)hn);
        break;
    }
    case 3:
        frame(f, "3probe");
        break;
    case 4:
        http_answer(f, "200 OK", eio == 4 ? "6" : "1:6");
        break;
    case 5:
        frame(f, eio == 4 ? OPEN_V4 : OPEN_V3);
        break;
    case 6:
        frame(f, "2");
        break;
    default:
        http_answer(f, "200 OK", eio == 4 ? "40{\"sid\":\"s\"}" : "2:40");
        break;
    }
}

/* ------------------------------------------------------------------ the application */

static void on_event(rc_client *c, const rc_event *ev, void *user)
{
    (void)user;
    if (ev->type == RC_EV_EVENT && ev->has_ack) /* answer with the event's own arguments */
        rc_ack(c, ev->nsp, ev->ack_id, ev->data, ev->attachments, ev->attachment_count);
}

static void on_ack(rc_client *c, sio_span nsp, sio_span data, const sio_span *atts, uint32_t n,
                   void *ctx)
{
    (void)c, (void)nsp, (void)data, (void)atts, (void)n, (void)ctx;
}

static void application(rc_client *c, uint8_t action, sio_span bytes)
{
    switch (action % 4) {
    case 0:
        rc_emit(c, sio_span_of("/", 1), bytes, NULL, 0, 0, on_ack, NULL, NULL);
        break;
    case 1:
        rc_join(c, bytes, SIO_SPAN_NULL);
        break;
    case 2:
        rc_leave(c, bytes);
        break;
    default:
        rc_close(c);
        break;
    }
}

/* ------------------------------------------------------------------ the input */

static fake_link *pick(fuzz_input *in)
{
    uint8_t k = fuzz_take_u8(in);
    return nlinks ? &links[k % nlinks] : NULL;
}

static sio_span take(fuzz_input *in, size_t n)
{
    if (n > in->n)
        n = in->n;
    sio_span s = sio_span_of(in->p, n);
    in->p += n;
    in->n -= n;
    return s;
}

static void step(rc_client *c, fuzz_input *in)
{
    uint8_t op = fuzz_take_u8(in) % 8;
    fake_link *f = op == 6 || op == 7 ? NULL : pick(in);
    sio_span bytes;
    size_t n;
    switch (op) {
    case 0:
    case 1:
        if (f && !f->connect_reported) {
            f->connect_reported = true;
            rc_link_connected(f->link, op ? ECONNREFUSED : 0);
        }
        break;
    case 2:
    case 3:
        n = fuzz_take_u8(in);
        if (op == 3)
            n = n << 8 | fuzz_take_u8(in);
        bytes = take(in, n);
        if (f && f->connect_reported)
            deliver(f, bytes.ptr, bytes.len);
        break;
    case 4:
        n = fuzz_take_u8(in);
        if (f && f->connect_reported)
            canned(f, (uint8_t)n);
        break;
    case 5:
        n = fuzz_take_u8(in);
        if (f && f->connect_reported)
            rc_link_closed(f->link, n & 1 ? ECONNRESET : 0);
        break;
    case 6:
        now += 50u * fuzz_take_u8(in);
        break;
    default:
        n = fuzz_take_u8(in);
        bytes = take(in, fuzz_take_u8(in));
        application(c, (uint8_t)n, bytes);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t bits = fuzz_take_u8(&in);
    nlinks = 0;
    now = 1000;
    random_state = 1;
    eio = bits & 1 ? 3 : 4;
    rc_config cfg;
    rc_config_init(&cfg);
    cfg.port = 3000;
    cfg.eio = eio;
    cfg.transports = (rc_transports)((bits >> 1) & 3) == 3 ? RC_TRANSPORTS_WEBSOCKET
                                                           : (rc_transports)((bits >> 1) & 3);
    cfg.fallback_to_polling = ((bits >> 1) & 3) == 3;
    cfg.session.reconnection = !(bits & 8);
    cfg.session.randomization = 0;
    cfg.max_message = bits & 16 ? 64 : 0;
    cfg.on_event = on_event;
    cfg.io = &fake_io;
    rc_client *c = rc_client_new(&cfg, NULL, 0);
    if (!c)
        return 0;
    rc_client_start(c);
    rc_join(c, sio_span_of("/", 1), SIO_SPAN_NULL);
    for (int steps = 0; in.n && steps < 2000; steps++) {
        step(c, &in);
        uint64_t next = rc_client_process(c);
        FUZZ_ASSERT(next >= now, "refclient: a deadline in the past after a round");
        drain_output();
    }
    fuzz_reached(c->ever_open);
    rc_client_free(c);
    return 0;
}
