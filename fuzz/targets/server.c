/* Fuzz target: the whole reference server (reference-server/, compiled unchanged without its
 * main.c) driven through a scripted in-memory network (fuzz/server/fake_net.c): connections,
 * client bytes with arbitrary read boundaries, half-closes, resets, blocked writes and the
 * passing of time, over polling, WebSocket and the upgrade between them.
 *
 * Input: byte 0 = configuration (bit 0: Engine.IO echo application instead of Socket.IO,
 * bit 1: --allow-eio3, bit 2: max payload 64 bytes, bit 3: ping interval 300 ms), then
 * operations, each one byte and its arguments:
 *   op % 8 = 0 connect | 1 send <conn> <len> <bytes> | 2 send <conn> <len16> <bytes>
 *            3 half-close <conn> | 4 wait <n> (n x 100 ms) | 5 toggle blocked writes <conn>
 *            6 reset <conn> | 7 send a WebSocket frame <conn> <opcode> <len> <payload>
 * The text "SID!" in sent bytes is replaced by the newest session id the server announced, so
 * mutations can reach an existing session. Oracles, besides the sanitizers and leak checks:
 *  - the server never emits bytes the codec rejects: every response it writes parses as
 *    HTTP/1.1, each polling body as an Engine.IO payload, each WebSocket stream with the frame
 *    parser, each packet inside with the Engine.IO decoder and, for the Socket.IO
 *    application, each message with the Socket.IO decoder (strict);
 *  - JSON bodies (errors) are valid JSON;
 *  - after the script, a new client still gets an Engine.IO handshake. */
#include "fake_net.h"
#include "fuzz_log.h"

#include "eio.h"
#include "server.h"
#include "socketio.h"

#include "sio/eio.h"
#include "sio/json.h"
#include "sio/packet.h"
#include "sio/ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

static server srv;
static char last_sid[64];
static size_t last_sid_len;

/* ------------------------------------------------------------------ checking what was written */

static bool allow_eio3;
static bool check_sio_app;

/* A Socket.IO message is strict v5, or v4 for an Engine.IO v3 session. */
static void check_sio_message(const uint8_t *p, size_t n, int eio_protocol)
{
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    opt.protocol = eio_protocol == 3 ? 4 : 5;
    opt.max_attachments = 1000;
    sio_pkt pkt;
    if (sio_pkt_decode(p, n, &opt, &pkt, NULL) != SIO_OK)
        fuzz_fail_diff("server: wrote a Socket.IO packet the codec rejects", p, n, NULL, 0);
}

/* An open packet must parse as one (sio_eio_open_decode); messages as Socket.IO packets. */
static void check_eio_packet(const sio_eio_packet *pkt, int protocol)
{
    if (pkt->type == SIO_EIO_OPEN && !pkt->binary) {
        uint8_t *text = malloc(pkt->data.len + 1);
        if (!text)
            abort();
        text[0] = '0';
        memcpy(text + 1, pkt->data.ptr, pkt->data.len);
        sio_eio_open open;
        if (sio_eio_open_decode(protocol, text, pkt->data.len + 1, &open) != SIO_OK)
            fuzz_fail_diff("server: wrote an open packet the codec rejects", text,
                           pkt->data.len + 1, NULL, 0);
        free(text);
    }
    if (check_sio_app && pkt->type == SIO_EIO_MESSAGE && !pkt->binary)
        check_sio_message(pkt->data.ptr, pkt->data.len, protocol);
}

/* A polling body: v4 records, or (EIO3) v3 text or XHR2 framing. */
static void check_payload(const uint8_t *p, size_t n, bool octet)
{
    static const sio_eio_payload_format formats[3] = {SIO_EIO_PAYLOAD_V4, SIO_EIO_PAYLOAD_V3_TEXT,
                                                      SIO_EIO_PAYLOAD_V3_BINARY};
    for (int f = octet ? 2 : 0; f < (octet ? 3 : allow_eio3 ? 2 : 1); f++) {
        if (sio_eio_payload_validate(formats[f], p, n, NULL, NULL) != SIO_OK)
            continue;
        sio_eio_payload_iter it;
        sio_eio_payload_iter_init(&it, formats[f], p, n, NULL);
        sio_eio_packet pkt;
        bool has = true;
        while (sio_eio_payload_next(&it, &pkt, &has) == SIO_OK && has)
            check_eio_packet(&pkt, f == 0 ? 4 : 3);
        return;
    }
    fuzz_fail_diff("server: wrote a polling body the codec rejects", p, n, NULL, 0);
}

/* One complete WebSocket message from the server. */
static void check_ws_message(const uint8_t *p, size_t n, bool text)
{
    sio_eio_options opt;
    memset(&opt, 0, sizeof opt);
    opt.b64 = true; /* a b64=1 session gets binary as 'b' text frames (EIO-PKT-10) */
    sio_eio_packet pkt;
    sio_eio_frame frame = text ? SIO_EIO_FRAME_WS_TEXT : SIO_EIO_FRAME_WS_BINARY;
    if (sio_eio_packet_decode(4, frame, p, n, &opt, &pkt) == SIO_OK) {
        check_eio_packet(&pkt, 4);
        return;
    }
    if (allow_eio3 && sio_eio_packet_decode(3, frame, p, n, &opt, &pkt) == SIO_OK) {
        check_eio_packet(&pkt, 3);
        return;
    }
    fuzz_fail_diff("server: wrote a WebSocket message the Engine.IO codec rejects", p, n, NULL, 0);
}

/* Server-to-client frames: unmasked, parsed as a client would. A stream cut short by the
 * connection's end is fine; a frame the parser rejects is not. */
static void check_ws_stream(const uint8_t *p, size_t n)
{
    uint8_t *copy = malloc(n + 1);
    if (!copy)
        abort();
    memcpy(copy, p, n);
    sio_ws_parser ps;
    sio_ws_parser_init(&ps, SIO_WS_ROLE_CLIENT, UINT64_MAX);
    fuzz_log msg = {NULL, 0, 0};
    size_t off = 0;
    while (off < n && !sio_ws_parser_closed(&ps)) {
        size_t used = 0;
        sio_ws_event ev;
        if (sio_ws_parser_feed(&ps, copy + off, n - off, &used, &ev) != SIO_OK)
            fuzz_fail_diff("server: wrote a WebSocket frame the codec rejects", p, n, NULL, 0);
        off += used;
        if (ev.type == SIO_WS_EV_NONE)
            break;
        if (ev.type != SIO_WS_EV_DATA)
            continue;
        if (ev.message_start)
            msg.len = 0;
        log_put(&msg, ev.payload.ptr, ev.payload.len);
        if (ev.message_end)
            check_ws_message(msg.p, msg.len, ev.text);
    }
    log_free(&msg);
    free(copy);
}

/* Finds header `name` (case-insensitive) in a response head. */
static sio_span find_header(const uint8_t *head, size_t n, const char *name)
{
    size_t k = strlen(name);
    for (size_t i = 0; i + k + 1 < n; i++)
        if ((i == 0 || head[i - 1] == '\n') && strncasecmp((const char *)head + i, name, k) == 0 &&
            head[i + k] == ':') {
            size_t s = i + k + 1, e = s;
            while (s < n && head[s] == ' ')
                s++;
            for (e = s; e < n && head[e] != '\r'; e++)
                ;
            return sio_span_of(head + s, e - s);
        }
    return SIO_SPAN_NULL;
}

static bool span_starts(sio_span s, const char *prefix)
{
    size_t k = strlen(prefix);
    return s.len >= k && strncasecmp((const char *)s.ptr, prefix, k) == 0;
}

static void check_body(int status, sio_span type, const uint8_t *body, size_t len)
{
    if (status == 200 && span_starts(type, "text/plain"))
        check_payload(body, len, false);
    else if (status == 200 && span_starts(type, "application/octet-stream"))
        check_payload(body, len, true);
    else if (span_starts(type, "application/json") &&
             sio_json_validate(body, len, NULL, NULL) != SIO_OK)
        fuzz_fail_diff("server: wrote a JSON body that is not JSON", body, len, NULL, 0);
}

/* Responses one after another; a 101 hands the rest of the stream to the WebSocket check. */
static void check_output(unsigned index, const uint8_t *p, size_t n)
{
    if (getenv("FUZZ_SERVER_DUMP")) /* to see what a seed makes the server say */
        fprintf(stderr, "--- connection %u wrote %zu bytes:\n%.*s\n", index, n, (int)n,
                (const char *)p);
    size_t off = 0;
    while (off < n) {
        const uint8_t *r = p + off;
        size_t left = n - off;
        size_t end = fuzz_find(r, left, (const uint8_t *)"\r\n\r\n", 4);
        if (end == left)
            return; /* cut short when the connection ended */
        if (left < 13 || memcmp(r, "HTTP/1.1 ", 9) != 0 || r[9] < '1' || r[9] > '5')
            fuzz_fail_diff("server: wrote something that is not an HTTP/1.1 response", r, left,
                           NULL, 0);
        int status = (r[9] - '0') * 100 + (r[10] - '0') * 10 + (r[11] - '0');
        size_t head = end + 4;
        if (status == 101) {
            check_ws_stream(r + head, left - head);
            return;
        }
        sio_span cl = find_header(r, end, "Content-Length");
        if (!cl.ptr)
            fuzz_fail_diff("server: response without Content-Length", r, end, NULL, 0);
        size_t body = 0;
        for (size_t i = 0; i < cl.len; i++)
            body = body * 10 + (size_t)(cl.ptr[i] - '0');
        if (head + body > left)
            return;
        check_body(status, find_header(r, end, "Content-Type"), r + head, body);
        off += head + body;
    }
}

/* ------------------------------------------------------------------ driving the server */

static void run_loop(int wait_ms)
{
    /* Several rounds: handlers may make more work ready (a flush after a state change). */
    for (int i = 0; i < 4; i++)
        loop_run_once(&srv.loop, i == 0 ? wait_ms : 0);
}

static void server_start(uint8_t cfgbits)
{
    memset(&srv, 0, sizeof srv);
    srv.cfg = (server_config){.host = "127.0.0.1",
                              .port = 0,
                              .path = "/socket.io/",
                              .echo_path = "",
                              .ping_interval = 25000,
                              .ping_timeout = 20000,
                              .max_payload = 1000000,
                              .connect_timeout = 45000,
                              .upgrade_timeout = SIO_EIO_SERVER_DEFAULT_UPGRADE_TIMEOUT_MS,
                              .app = APP_SOCKETIO,
                              .log_level = LOG_ERROR,
                              .cors_origin = "*"};
    srv.cfg.app = (cfgbits & 1u) ? APP_ENGINEIO_ECHO : APP_SOCKETIO;
    srv.cfg.allow_eio3 = (cfgbits >> 1) & 1u;
    if (cfgbits & 4u)
        srv.cfg.max_payload = 64;
    if (cfgbits & 8u)
        srv.cfg.ping_interval = 300, srv.cfg.ping_timeout = 200;
    allow_eio3 = srv.cfg.allow_eio3;
    check_sio_app = srv.cfg.app == APP_SOCKETIO;
    srv.listen_fd = -1;
    srv.random_fd = FAKE_RANDOM_FD;
    loop_init(&srv.loop);
    eio_configure(&srv);
    srv.app = fixture_app();
    srv.app_state = fixture_state_new();
    srv.sio = srv_socketio_new(&srv, srv.app, srv.app_state);
    FUZZ_ASSERT(net_listen(&srv) > 0, "server: fake listen failed");
}

/* The shutdown sequence of main.c: close sessions, let final bytes out, drop everything. */
static void server_stop(void)
{
    eio_close_all(&srv);
    for (int i = 0; i < 4 && srv.conn_count > 0; i++)
        loop_run_once(&srv.loop, 0);
    net_close_all(&srv);
    srv_socketio_free(srv.sio);
    loop_free(&srv.loop);
    memset(&srv, 0, sizeof srv); /* what the server did not free is now unreachable: a leak */
}

/* Picks up session ids as soon as the server writes an Engine.IO open packet
 * ('0{"sid":"…","upgrades"'), so the next client bytes can name the session. */
static size_t scanned[FAKE_MAX_CONNS];

static void scan_new_output(void)
{
    static const uint8_t marker[] = "0{\"sid\":\"";
    for (unsigned i = 0; i < fake_net.accepted; i++) {
        const fake_conn *c = &fake_net.conns[i];
        if (c->out_len == 0)
            continue;
        size_t from = scanned[i] > 16 ? scanned[i] - 16 : 0; /* a marker split across writes */
        size_t at = from + fuzz_find(c->out + from, c->out_len - from, marker, sizeof marker - 1);
        scanned[i] = c->out_len;
        if (at >= c->out_len)
            continue;
        size_t start = at + sizeof marker - 1, end = start;
        while (end < c->out_len && c->out[end] != '"' && end - start < sizeof last_sid)
            end++;
        static const char upgrades[] = "\",\"upgrades\"";
        bool engine_io = end + sizeof upgrades - 1 <= c->out_len &&
                         memcmp(c->out + end, upgrades, sizeof upgrades - 1) == 0;
        if (engine_io) { /* not a Socket.IO CONNECT reply, which also has a "sid" */
            memcpy(last_sid, c->out + start, end - start);
            last_sid_len = end - start;
        }
    }
}

/* Copies client bytes, replacing each "SID!" with the newest announced session id. */
static void send_with_sid(unsigned conn, const uint8_t *p, size_t n)
{
    fuzz_log out = {NULL, 0, 0};
    for (size_t i = 0; i < n;) {
        if (i + 4 <= n && memcmp(p + i, "SID!", 4) == 0) {
            log_put(&out, last_sid, last_sid_len);
            i += 4;
        } else {
            log_put(&out, p + i++, 1);
        }
    }
    fake_net_send(conn, out.p, out.len);
    log_free(&out);
}

/* A masked client frame, so the WebSocket side is reachable without hand-made headers. */
static void send_frame(unsigned conn, uint8_t opcode, const uint8_t *p, size_t n)
{
    sio_ws_frame_header h = {n, true, true, 0, opcode, {1, 2, 3, 4}};
    size_t need = sio_ws_header_size(n, true) + n, wrote = 0;
    uint8_t *out = malloc(need);
    if (!out)
        abort();
    if (sio_ws_frame_encode(&h, p, n, out, need, &wrote) == SIO_OK)
        fake_net_send(conn, out, wrote);
    free(out);
}

static unsigned pick_conn(fuzz_input *in)
{
    unsigned n = fake_net.accepted ? fake_net.accepted : 1;
    return fuzz_take_u8(in) % n;
}

static void take_bytes(fuzz_input *in, size_t len, const uint8_t **p, size_t *n)
{
    *n = len < in->n ? len : in->n;
    *p = in->p;
    in->p += *n;
    in->n -= *n;
}

/* Operations that name a connection read its index even when there is none yet (so the input
 * layout does not depend on state) and then do nothing. */
static void run_op(uint8_t op, fuzz_input *in)
{
    const uint8_t *p;
    size_t n;
    unsigned c;
    bool any = fake_net.accepted > 0;
    switch (op % 8) {
    case 0:
        fake_net.pending_accepts++;
        break;
    case 1:
    case 2:
        c = pick_conn(in);
        take_bytes(
            in, op % 8 == 1 ? fuzz_take_u8(in) : (size_t)fuzz_take_u8(in) << 8 | fuzz_take_u8(in),
            &p, &n);
        if (any)
            send_with_sid(c, p, n);
        break;
    case 3:
        c = pick_conn(in);
        fake_net.conns[c].peer_eof |= any;
        break;
    case 4:
        run_loop(100 * (fuzz_take_u8(in) + 1));
        scan_new_output();
        return;
    case 5:
        c = pick_conn(in);
        fake_net.conns[c].write_blocked ^= any;
        break;
    case 6:
        c = pick_conn(in);
        fake_net.conns[c].peer_reset |= any;
        break;
    default: {
        c = pick_conn(in);
        uint8_t opcode = fuzz_take_u8(in) & 0x0f;
        take_bytes(in, fuzz_take_u8(in), &p, &n);
        if (any)
            send_frame(c, opcode, p, n);
    }
    }
    run_loop(0);
    scan_new_output();
}

/* Whatever the script did, a new client must still get a handshake: the server keeps serving
 * everyone else (DESIGN.md, "never a crash, a hang or a silent drop"). */
static void check_still_serving(void)
{
    static const char request[] =
        "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n";
    unsigned before = fake_net.accepted;
    if (before >= FAKE_MAX_CONNS)
        return;
    fake_net.pending_accepts = 1;
    run_loop(0);
    FUZZ_ASSERT(fake_net.accepted == before + 1, "server: stopped accepting connections");
    fake_net_send(before, (const uint8_t *)request, sizeof request - 1);
    run_loop(0);
    const fake_conn *c = &fake_net.conns[before];
    static const uint8_t open[] = "0{\"sid\":\"";
    FUZZ_ASSERT(c->out_len > 0 && fuzz_find(c->out, c->out_len, open, sizeof open - 1) < c->out_len,
                "server: a new client got no handshake after the script ran");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    fake_net_reset();
    fake_net.active = true;
    fake_net.now_ms = 1000000;
    fake_net.on_close = check_output;
    last_sid_len = 0;
    memset(scanned, 0, sizeof scanned);
    server_start(fuzz_take_u8(&in));
    unsigned ops = 0;
    while (in.n > 0 && ops++ < 512)
        run_op(fuzz_take_u8(&in), &in);
    fuzz_reached(fake_net.accepted > 0);
    check_still_serving();
    server_stop();
    fake_net.active = false;
    fake_net_free();
    return 0;
}
