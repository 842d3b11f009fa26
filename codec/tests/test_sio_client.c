/* The Socket.IO client session against the Socket.IO server session, each on its Engine.IO
 * session, over the in-memory network of session_pump.h: every row of the transition table in
 * sio/sio_client.h (namespaces, CONNECT with auth, acks both ways, attachments, disconnects,
 * reconnection with its backoff, v4), and the backoff formula on its own. */
#include "session_pump.h"
#include "sio/sio_client.h"
#include "sio/sio_server.h"

typedef struct world {
    pump net;
    sio_sio_client client;
    sio_sio_client_config ccfg;
    sio_sio_server server;
    sio_sio_server_config scfg;
    bool server_sio_open;
    char client_log[4096]; /* the client's events, one line each */
    char server_log[4096]; /* the server application's view */
    uint64_t server_ack_id;
    uint32_t early_events; /* EVENTs the server sends before it answers a CONNECT */
    bool early_binary;     /* … the first of them a BINARY_EVENT */
    bool hold_connect;     /* … and the CONNECT is not answered */
    uint8_t attachment[8]; /* the first attachment of the last event that had one */
    size_t attachment_len;
    bool manual_acks; /* the server application leaves acks to the test */
    bool late_drain;  /* the client's events are read once the network settles, not after each
                        message (as an application reading all Engine.IO events first does) */
} world;

static world w;
static int user_root, user_custom, user_auth;

/* Whether `data` holds `needle` (the data is not NUL-terminated). */
static bool has(sio_span data, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= data.len; i++)
        if (memcmp(data.ptr + i, needle, n) == 0)
            return true;
    return false;
}

static void log_line(char *log, size_t cap, const char *fmt, const char *a, sio_span b)
{
    size_t used = strlen(log);
    snprintf(log + used, cap - used, fmt, a, (int)b.len, b.ptr ? (const char *)b.ptr : "");
}

/* ------------------------------------------------------------------ the server application */

/* EVENTs sent straight into the Engine.IO session, before the namespace's CONNECT is answered:
 * ["early",1], ["early",2], … (the first a BINARY_EVENT with one attachment when asked for;
 * the second with ack id 7). */
static void send_early_events(sio_span nsp)
{
    char text[SIO_SIO_CLIENT_MAX_NAMESPACE + 64];
    int prefix = nsp.len == 1 ? 0 : (int)nsp.len;
    for (uint32_t i = 1; i <= w.early_events; i++) {
        bool binary = i == 1 && w.early_binary;
        int n = binary ? snprintf(text, sizeof text,
                                  "51-%.*s%s[\"early\",%u,{\"_placeholder\":true,\"num\":0}]",
                                  prefix, (const char *)nsp.ptr, prefix ? "," : "", i)
                       : snprintf(text, sizeof text, "2%.*s%s%s[\"early\",%u]", prefix,
                                  (const char *)nsp.ptr, prefix ? "," : "", i == 2 ? "7" : "", i);
        sio_eio_server_send(&w.net.server, false, (const uint8_t *)text, (size_t)n, w.net.now);
        if (binary)
            sio_eio_server_send(&w.net.server, true, (const uint8_t *)"\x0a\x0b\x0c", 3, w.net.now);
    }
}

/* Accepts "/" and "/custom", refuses "/auth"; answers acks with ["ok"]; "ask" makes it emit
 * with an ack id; "bin" sends an attachment back; "kick" disconnects the namespace. */
static void server_event(const sio_sio_server_event *ev)
{
    char line[600];
    switch (ev->type) {
    case SIO_SIO_SERVER_EV_NONE:
        return;
    case SIO_SIO_SERVER_EV_CONNECT:
        snprintf(line, sizeof line, "connect %.*s %.*s", (int)ev->nsp.len,
                 (const char *)ev->nsp.ptr, (int)ev->data.len, (const char *)ev->data.ptr);
        log_line(w.server_log, sizeof w.server_log, "%s%.*s\n", line, SIO_SPAN_NULL);
        send_early_events(ev->nsp);
        if (w.hold_connect)
            return;
        if (ev->nsp.len == 5 && memcmp(ev->nsp.ptr, "/auth", 5) == 0)
            sio_sio_server_refuse(&w.server, ev->nsp, sio_span_of("{\"message\":\"no\"}", 16));
        else
            sio_sio_server_accept(&w.server, ev->nsp, sio_span_of("sock", 4), &user_root,
                                  w.net.now);
        return;
    case SIO_SIO_SERVER_EV_EVENT:
        log_line(w.server_log, sizeof w.server_log, "event %s%.*s\n", "", ev->data);
        if (ev->has_id && !w.manual_acks)
            sio_sio_server_emit(&w.server, ev->nsp, true, sio_span_of("[\"ok\"]", 6), NULL, 0, true,
                                ev->id, w.net.now);
        if (has(ev->data, "\"ask\""))
            sio_sio_server_emit(&w.server, ev->nsp, false, sio_span_of("[\"q\"]", 5), NULL, 0, true,
                                w.server_ack_id++, w.net.now);
        if (has(ev->data, "\"bin\"")) {
            const sio_span att = sio_span_of("\x05\x06", 2);
            sio_sio_server_emit(&w.server, ev->nsp, false,
                                sio_span_of("[\"b\",{\"_placeholder\":true,\"num\":0}]", 35), &att,
                                1, false, 0, w.net.now);
        }
        if (has(ev->data, "\"kick\""))
            sio_sio_server_disconnect(&w.server, ev->nsp, w.net.now);
        return;
    case SIO_SIO_SERVER_EV_ACK:
        log_line(w.server_log, sizeof w.server_log, "ack %s%.*s\n", "", ev->data);
        return;
    case SIO_SIO_SERVER_EV_DISCONNECT:
        log_line(w.server_log, sizeof w.server_log, "left %s%.*s\n", "", ev->nsp);
        return;
    case SIO_SIO_SERVER_EV_CLOSE:
        log_line(w.server_log, sizeof w.server_log, "close %s%.*s\n", ev->why, SIO_SPAN_NULL);
        return;
    }
}

static void server_opened(pump *p)
{
    sio_sio_server_event ev;
    sio_sio_server_open(&w.server, &w.scfg, &p->server, p->now, &ev);
    w.server_sio_open = true;
    server_event(&ev);
}

static void server_message(pump *p, bool binary, sio_span data)
{
    sio_sio_server_event ev;
    sio_sio_server_receive(&w.server, binary, data.ptr, data.len, p->now, &ev);
    server_event(&ev);
}

static void server_closed(pump *p, const sio_eio_server_event *ev)
{
    (void)p;
    (void)ev;
    sio_sio_server_free(&w.server);
    w.server_sio_open = false;
}

/* ------------------------------------------------------------------ the client */

static const char *event_name(sio_sio_client_event_type t)
{
    static const char *const names[] = {
        "none",      "connected",    "connect-error", "event",  "ack",   "disconnected",
        "scheduled", "reconnecting", "reconnected",   "failed", "closed"};
    return names[t];
}

static void drain_sio_client(void)
{
    sio_sio_client_event ev;
    for (;;) {
        CHECK_ERR(sio_sio_client_next_event(&w.client, &ev), SIO_OK);
        if (ev.type == SIO_SIO_CLIENT_EV_NONE)
            return;
        char line[700];
        int n = snprintf(line, sizeof line, "%s %.*s", event_name(ev.type), (int)ev.nsp.len,
                         (const char *)ev.nsp.ptr);
        if (ev.data.ptr)
            n += snprintf(line + n, sizeof line - (size_t)n, " %.*s", (int)ev.data.len,
                          (const char *)ev.data.ptr);
        if (ev.type == SIO_SIO_CLIENT_EV_DISCONNECTED)
            n += snprintf(line + n, sizeof line - (size_t)n, " (%s)",
                          sio_sio_client_reason_name(ev.reason));
        if (ev.type == SIO_SIO_CLIENT_EV_RECONNECT_SCHEDULED)
            n += snprintf(line + n, sizeof line - (size_t)n, "#%u %llu ms", ev.attempt,
                          (unsigned long long)ev.delay_ms);
        if (ev.attachment_count) {
            n += snprintf(line + n, sizeof line - (size_t)n, " +%u", ev.attachment_count);
            for (uint32_t i = 0; i < ev.attachment_count; i++) {
                n += snprintf(line + n, sizeof line - (size_t)n, " ");
                for (size_t j = 0; j < ev.attachments[i].len && j < 8; j++)
                    n += snprintf(line + n, sizeof line - (size_t)n, "%02x",
                                  ev.attachments[i].ptr[j]);
            }
            w.attachment_len = ev.attachments[0].len < sizeof w.attachment ? ev.attachments[0].len
                                                                           : sizeof w.attachment;
            memcpy(w.attachment, ev.attachments[0].ptr, w.attachment_len);
        }
        if (ev.recovered)
            n += snprintf(line + n, sizeof line - (size_t)n, " recovered");
        if (ev.has_id)
            snprintf(line + n, sizeof line - (size_t)n, " id=%llu", (unsigned long long)ev.id);
        log_line(w.client_log, sizeof w.client_log, "%s%.*s\n", line, SIO_SPAN_NULL);
        if (ev.type == SIO_SIO_CLIENT_EV_EVENT && ev.has_id)
            sio_sio_client_ack(&w.client, ev.nsp, ev.id, sio_span_of("[\"thanks\"]", 10), NULL, 0,
                               w.net.now);
    }
}

static void client_event(pump *p, const sio_eio_client_event *ev)
{
    if (ev->type == SIO_EIO_CLIENT_EV_OPEN)
        sio_sio_client_eio_open(&w.client, p->now);
    else if (ev->type == SIO_EIO_CLIENT_EV_CLOSED)
        sio_sio_client_eio_closed(&w.client, ev->reason, p->now);
    drain_sio_client();
}

static void client_message(pump *p, bool binary, sio_span data)
{
    sio_sio_client_receive(&w.client, binary, data.ptr, data.len, p->now);
    if (!w.late_drain)
        drain_sio_client();
}

static uint64_t deadlines(pump *p)
{
    uint64_t d = sio_sio_client_next_deadline(&w.client);
    if (w.server_sio_open && sio_sio_server_next_deadline(&w.server) < d)
        d = sio_sio_server_next_deadline(&w.server);
    (void)p;
    return d;
}

static void timeouts(pump *p)
{
    sio_sio_client_timeout(&w.client, p->now);
    drain_sio_client();
    if (w.server_sio_open) {
        sio_sio_server_event ev;
        sio_sio_server_timeout(&w.server, p->now, &ev);
        server_event(&ev);
    }
}

static void start(int eio_protocol, bool upgrade)
{
    memset(&w, 0, sizeof w);
    pump_init(&w.net);
    w.net.ccfg.protocol = eio_protocol;
    w.net.ccfg.upgrade = upgrade;
    w.net.ccfg.path = sio_span_of("/socket.io/", 11);
    w.net.server_opened = server_opened;
    w.net.server_message = server_message;
    w.net.server_closed = server_closed;
    w.net.client_event = client_event;
    w.net.client_message = client_message;
    w.net.extra_deadline = deadlines;
    w.net.extra_timeout = timeouts;
    sio_sio_server_config_init(&w.scfg);
    w.scfg.alloc = &counting;
    sio_sio_client_config_init(&w.ccfg);
    w.ccfg.alloc = &counting;
    w.ccfg.randomization = 0; /* exact delays */
    w.ccfg.attempts = 3;
    CHECK_ERR(sio_sio_client_open(&w.client, &w.ccfg, &w.net.client, &w.net.ccfg, w.net.now),
              SIO_OK);
}

static void finish(void)
{
    if (getenv("PUMP_LOG"))
        fprintf(stderr, "--- network\n%s--- client\n%s--- server\n%s", w.net.log, w.client_log,
                w.server_log);
    sio_sio_client_free(&w.client);
    if (w.server_sio_open)
        sio_sio_server_free(&w.server);
    pump_free(&w.net);
    CHECK_EQ_INT(live_blocks, 0);
}

/* The network settles; events the test's own calls produced are read too. */
static void settle(void)
{
    run(&w.net);
    drain_sio_client();
}

static bool client_saw(const char *line)
{
    return strstr(w.client_log, line) != NULL;
}

static bool server_saw(const char *line)
{
    return strstr(w.server_log, line) != NULL;
}

static sio_span S(const char *text)
{
    return sio_span_of(text, strlen(text));
}

/* ------------------------------------------------------------------ tests */

static void test_namespaces_and_acks(void)
{
    start(4, true);
    CHECK_ERR(
        sio_sio_client_connect(&w.client, S("/"), S("{\"token\":\"a\"}"), &user_root, w.net.now),
        SIO_OK);
    CHECK_ERR(sio_sio_client_connect(&w.client, S("/"), SIO_SPAN_NULL, &user_root, w.net.now),
              SIO_ERR_SIO_WRONG_STATE);
    /* emitted before the namespace is joined: buffered, sent after the CONNECT reply */
    uint64_t id = 99;
    CHECK_ERR(
        sio_sio_client_emit(&w.client, S("/"), S("[\"early\",1]"), NULL, 0, true, &id, w.net.now),
        SIO_OK);
    CHECK_EQ_INT(id, 0);
    settle();
    CHECK(server_saw("connect / {\"token\":\"a\"}\n"));
    CHECK(client_saw("connected / sock\n"));
    CHECK(server_saw("event [\"early\",1]\n"));
    CHECK(client_saw("ack / [\"ok\"] id=0\n"));
    CHECK(sio_sio_client_state_of(&w.client) == SIO_SIO_CLIENT_OPEN);
    /* a second namespace, and a refused one */
    sio_sio_client_connect(&w.client, S("/custom"), SIO_SPAN_NULL, &user_custom, w.net.now);
    sio_sio_client_connect(&w.client, S("/auth"), S("{}"), &user_auth, w.net.now);
    settle();
    CHECK(client_saw("connected /custom sock\n"));
    CHECK(client_saw("connect-error /auth {\"message\":\"no\"}\n"));
    CHECK_ERR(
        sio_sio_client_emit(&w.client, S("/auth"), S("[\"x\"]"), NULL, 0, false, NULL, w.net.now),
        SIO_ERR_SIO_NOT_JOINED);
    /* the server asks for an ack; the client's answer reaches it */
    sio_sio_client_emit(&w.client, S("/custom"), S("[\"ask\"]"), NULL, 0, false, NULL, w.net.now);
    settle();
    CHECK(client_saw("event /custom [\"q\"] id=0\n"));
    CHECK(server_saw("ack [\"thanks\"]\n"));
    /* binary both ways */
    const sio_span att = S("\x01\x02\x03");
    sio_sio_client_emit(&w.client, S("/custom"), S("[\"bin\",{\"_placeholder\":true,\"num\":0}]"),
                        &att, 1, false, NULL, w.net.now);
    settle();
    CHECK(server_saw("event [\"bin\",{\"_placeholder\":true,\"num\":0}]\n"));
    CHECK(client_saw("event /custom [\"b\",{\"_placeholder\":true,\"num\":0}] +1 0506\n"));
    /* the server disconnects a namespace; the client leaves one */
    sio_sio_client_emit(&w.client, S("/custom"), S("[\"kick\"]"), NULL, 0, false, NULL, w.net.now);
    settle();
    CHECK(client_saw("disconnected /custom (io server disconnect)\n"));
    CHECK_ERR(sio_sio_client_disconnect(&w.client, S("/"), w.net.now), SIO_OK);
    settle();
    CHECK(server_saw("left /\n"));
    CHECK(client_saw("disconnected / (io client disconnect)\n"));
    CHECK_ERR(sio_sio_client_disconnect(&w.client, S("/"), w.net.now), SIO_ERR_SIO_NOT_JOINED);
    /* close */
    sio_sio_client_connect(&w.client, S("/"), SIO_SPAN_NULL, &user_root, w.net.now);
    settle();
    sio_sio_client_close(&w.client, w.net.now);
    settle();
    CHECK(client_saw("closed \n"));
    CHECK(sio_sio_client_state_of(&w.client) == SIO_SIO_CLIENT_CLOSED);
    CHECK(w.net.server_closed_seen);
    finish();
}

/* The server goes away: the namespaces are left with the transport's reason, attempts follow
 * with delays 1000, 2000, 4000 (no randomization), and the namespaces are joined again once the
 * server is back; with every attempt failing the client gives up after `attempts`. */
static void test_reconnection(void)
{
    start(4, true);
    sio_sio_client_connect(&w.client, S("/"), SIO_SPAN_NULL, &user_root, w.net.now);
    sio_sio_client_connect(&w.client, S("/custom"), SIO_SPAN_NULL, &user_custom, w.net.now);
    settle();
    CHECK(client_saw("connected / sock\n") && client_saw("connected /custom sock\n"));
    w.net.server_down = true;
    sio_eio_server_abort(&w.net.server, SIO_EIO_REASON_SERVER_SHUTDOWN, w.net.now);
    settle();
    CHECK(client_saw("disconnected / (transport close)\n"));
    CHECK(client_saw("disconnected /custom (transport close)\n"));
    CHECK(client_saw("scheduled #1 1000 ms\n"));
    CHECK(sio_sio_client_state_of(&w.client) == SIO_SIO_CLIENT_RECONNECT_WAIT);
    advance(&w.net, 1000);
    CHECK(client_saw("scheduled #1 1000 ms\nreconnecting \n"));
    CHECK(client_saw("scheduled #2 2000 ms\n"));
    w.net.server_down = false;
    w.server_log[0] = '\0';
    advance(&w.net, 2000);
    CHECK(client_saw("reconnected \n"));
    CHECK(server_saw("connect / {}\n") && server_saw("connect /custom {}\n"));
    CHECK(sio_sio_client_state_of(&w.client) == SIO_SIO_CLIENT_OPEN);
    /* every attempt fails: 1000, 2000, 4000, then no attempt is left */
    w.client_log[0] = '\0';
    w.net.server_down = true;
    sio_eio_server_abort(&w.net.server, SIO_EIO_REASON_SERVER_SHUTDOWN, w.net.now);
    advance(&w.net, 20000);
    CHECK(client_saw("scheduled #1 1000 ms\nreconnecting \n"));
    CHECK(client_saw("scheduled #2 2000 ms\n"));
    CHECK(client_saw("scheduled #3 4000 ms\n"));
    CHECK(client_saw("failed \nclosed \n"));
    CHECK(sio_sio_client_state_of(&w.client) == SIO_SIO_CLIENT_CLOSED);
    finish();
}

/* A dead server: the Engine.IO ping timeout leaves the namespaces and reconnects. */
static void test_ping_timeout(void)
{
    start(4, true);
    sio_sio_client_connect(&w.client, S("/"), SIO_SPAN_NULL, &user_root, w.net.now);
    settle();
    w.net.server_mute = true;
    advance(&w.net, 600);
    CHECK(client_saw("disconnected / (ping timeout)\n"));
    CHECK(client_saw("scheduled #1 1000 ms\n"));
    finish();
}

/* Socket.IO v4 over Engine.IO v3: "/" is joined at once, others carry their auth as a query. */
static void test_v4(void)
{
    start(3, false);
    sio_sio_client_connect(&w.client, S("/"), SIO_SPAN_NULL, &user_root, w.net.now);
    sio_sio_client_connect(&w.client, S("/custom"), S("token=x"), &user_custom, w.net.now);
    settle();
    CHECK(server_saw("connect / {}\n"));
    CHECK(server_saw("connect /custom {\"token\":\"x\"}\n"));
    CHECK(client_saw("connected / srv-sid\n"));
    CHECK(client_saw("connected /custom srv-sid\n"));
    sio_sio_client_emit(&w.client, S("/custom"), S("[\"hi\"]"), NULL, 0, true, NULL, w.net.now);
    settle();
    CHECK(client_saw("ack /custom [\"ok\"] id=0\n"));
    finish();
}

/* The connect deadline: an Engine.IO session that never opens is given up and retried. */
static void test_connect_timeout(void)
{
    start(4, true);
    w.net.server_mute = true; /* the handshake is never answered */
    sio_sio_client_connect(&w.client, S("/"), SIO_SPAN_NULL, &user_root, w.net.now);
    settle();
    advance(&w.net, SIO_SIO_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS);
    CHECK(client_saw("scheduled #1 1000 ms\n"));
    finish();
}

/* A packet the server should not send: the connection is dropped as a parse error. */
static void test_parse_error(void)
{
    start(4, true);
    sio_sio_client_connect(&w.client, S("/"), SIO_SPAN_NULL, &user_root, w.net.now);
    settle();
    sio_eio_server_send(&w.net.server, false, (const uint8_t *)"9", 1, w.net.now);
    settle();
    CHECK(client_saw("disconnected / (parse error)\n"));
    finish();
}

/* Packets for namespaces the client is not in are ignored; attachments of an emit buffered
 * while the namespace is pending go after its text; bounds and states of the calls. */
static void test_edges(void)
{
    start(4, true);
    sio_sio_client_connect(&w.client, S("/"), SIO_SPAN_NULL, &user_root, w.net.now);
    const sio_span att = S("\x09\x08");
    CHECK_ERR(sio_sio_client_emit(&w.client, S("/"),
                                  S("[\"bin\",{\"_placeholder\":true,\"num\":0}]"), &att, 1, false,
                                  NULL, w.net.now),
              SIO_OK); /* buffered until joined */
    CHECK_ERR(sio_sio_client_ack(&w.client, S("/"), 1, S("[]"), NULL, 0, w.net.now),
              SIO_ERR_SIO_NOT_JOINED);
    settle();
    CHECK(server_saw("event [\"bin\",{\"_placeholder\":true,\"num\":0}]\n"));
    CHECK(client_saw("event / [\"b\",{\"_placeholder\":true,\"num\":0}] +1 0506\n"));
    w.client_log[0] = '\0';
    sio_eio_server_send(&w.net.server, false, (const uint8_t *)"2/elsewhere,[\"x\"]", 17,
                        w.net.now);
    sio_eio_server_send(&w.net.server, false, (const uint8_t *)"35[]", 4, w.net.now);
    settle();
    CHECK(w.client_log[0] == '\0'); /* neither is reported */
    char long_name[SIO_SIO_CLIENT_MAX_NAMESPACE + 2];
    memset(long_name, 'n', sizeof long_name);
    long_name[0] = '/';
    CHECK_ERR(sio_sio_client_connect(&w.client, sio_span_of(long_name, sizeof long_name),
                                     SIO_SPAN_NULL, NULL, w.net.now),
              SIO_ERR_LIMIT);
    sio_sio_client_close(&w.client, w.net.now);
    CHECK_ERR(sio_sio_client_connect(&w.client, S("/x"), SIO_SPAN_NULL, NULL, w.net.now),
              SIO_ERR_SIO_WRONG_STATE);
    finish(); /* events still queued are freed with the session */
}

/* A v5 CONNECT reply without a sid (a Socket.IO 2 server, or none) refuses the namespace; the
 * real reply that follows is ignored. */
static void test_connect_reply_without_sid(void)
{
    start(4, true);
    sio_sio_client_connect(&w.client, S("/"), SIO_SPAN_NULL, &user_root, w.net.now);
    settle();
    sio_sio_client_connect(&w.client, S("/x"), SIO_SPAN_NULL, &user_custom, w.net.now);
    sio_eio_server_send(&w.net.server, false, (const uint8_t *)"0/x,", 4, w.net.now);
    settle();
    CHECK(client_saw("connect-error /x {\"message\":\"the CONNECT reply has no sid"));
    CHECK(!client_saw("connected /x"));
    sio_sio_client_connect(&w.client, S("/y"), SIO_SPAN_NULL, &user_custom, w.net.now);
    sio_eio_server_send(&w.net.server, false, (const uint8_t *)"0/y,{\"sid\":1}", 13, w.net.now);
    settle();
    CHECK(client_saw("connect-error /y"));
    CHECK(!client_saw("connected /y"));
    finish();
}

/* How many times `needle` occurs in the client's log. */
static int client_count(const char *needle)
{
    int count = 0;
    for (const char *at = w.client_log; (at = strstr(at, needle)) != NULL; at++)
        count++;
    return count;
}

/* EVENTs that arrive before the CONNECT reply are handed over, in order, just before CONNECTED
 * (CSIO-BUF-03), their attachments and ack ids intact; SIO_SIO_CLIENT_MAX_EARLY_EVENTS are kept
 * and the one past the bound is dropped. */
static void test_early_events(void)
{
    start(4, true);
    w.early_events = SIO_SIO_CLIENT_MAX_EARLY_EVENTS + 1;
    w.early_binary = true;
    sio_sio_client_connect(&w.client, S("/"), SIO_SPAN_NULL, &user_root, w.net.now);
    settle();
    CHECK(client_saw("event / [\"early\",1,{\"_placeholder\":true,\"num\":0}] +1 0a0b0c\n"
                     "event / [\"early\",2] id=7\nevent / [\"early\",3]\n"));
    CHECK(w.attachment_len == 3 && memcmp(w.attachment, "\x0a\x0b\x0c", 3) == 0);
    char last[64];
    snprintf(last, sizeof last, "event / [\"early\",%u]\nconnected / sock\n",
             SIO_SIO_CLIENT_MAX_EARLY_EVENTS);
    CHECK(client_saw(last));
    CHECK_EQ_INT(client_count("event / [\"early\","), SIO_SIO_CLIENT_MAX_EARLY_EVENTS);
    CHECK(client_count("connected / sock\n") == 1);
    /* the early event's ack request is answered once joined (the server ignores an id it did
     * not issue, but the client may send it) */
    CHECK(strstr(w.net.log, "37[\"thanks\"]") != NULL);
    finish();
}

/* Kept EVENTs go with a namespace that is refused, or whose connection is lost before the
 * reply; nothing of them is delivered later. */
static void test_early_events_dropped(void)
{
    start(4, true);
    w.early_events = 2;
    sio_sio_client_connect(&w.client, S("/"), SIO_SPAN_NULL, &user_root, w.net.now);
    sio_sio_client_connect(&w.client, S("/auth"), S("{}"), &user_auth, w.net.now);
    settle();
    CHECK(client_saw("event / [\"early\",1]\nevent / [\"early\",2] id=7\nconnected / sock\n"));
    CHECK(client_saw("connect-error /auth {\"message\":\"no\"}\n"));
    CHECK(!client_saw("event /auth"));
    /* the server holds the next CONNECT after its events, then goes away */
    sio_sio_client_connect(&w.client, S("/custom"), SIO_SPAN_NULL, &user_custom, w.net.now);
    w.hold_connect = true;
    settle();
    CHECK(!client_saw("event /custom"));
    w.net.server_down = true;
    sio_eio_server_abort(&w.net.server, SIO_EIO_REASON_SERVER_SHUTDOWN, w.net.now);
    settle();
    CHECK(client_saw("scheduled #1 1000 ms\n"));
    w.net.server_down = false;
    w.hold_connect = false;
    w.early_events = 0;
    advance(&w.net, 1000);
    CHECK(client_saw("connected /custom sock\n"));
    CHECK(!client_saw("event /custom"));
    finish();
}

/* A lost connection forgets the ack ids of emits that went out on it, and keeps those of emits
 * still buffered, which go out on the next one: their ACK is delivered, even after a failed
 * attempt in between. */
static void test_buffered_ack_ids_kept(void)
{
    start(4, true);
    sio_sio_client_connect(&w.client, S("/"), SIO_SPAN_NULL, &user_root, w.net.now);
    settle();
    CHECK(client_saw("connected / sock\n"));
    uint64_t sent_id = 99, buffered_id = 99;
    CHECK_ERR(
        sio_sio_client_emit(&w.client, S("/"), S("[\"out\"]"), NULL, 0, true, &sent_id, w.net.now),
        SIO_OK);
    w.net.server_down = true; /* before the emit arrives: its ACK never comes */
    sio_eio_server_abort(&w.net.server, SIO_EIO_REASON_SERVER_SHUTDOWN, w.net.now);
    settle();
    CHECK(client_saw("disconnected / (transport close)\nscheduled #1 1000 ms\n"));
    CHECK_ERR(sio_sio_client_emit(&w.client, S("/"), S("[\"later\"]"), NULL, 0, true, &buffered_id,
                                  w.net.now),
              SIO_OK);
    CHECK_EQ_INT(sent_id, 0);
    CHECK_EQ_INT(buffered_id, 1);
    advance(&w.net, 1000); /* the first attempt fails too */
    CHECK(client_saw("scheduled #2 2000 ms\n"));
    w.net.server_down = false;
    advance(&w.net, 2000);
    CHECK(client_saw("reconnected \n"));
    CHECK(server_saw("event [\"later\"]\n"));
    CHECK(client_saw("ack / [\"ok\"] id=1\n"));
    /* an ACK for the emit that went out on the lost connection is not reported */
    sio_eio_server_send(&w.net.server, false, (const uint8_t *)"30[\"late\"]", 10, w.net.now);
    settle();
    CHECK(!client_saw("id=0"));
    finish();
}

/* The server answers a held CONNECT itself, with `reply` as its payload. */
static void reply_connect(const char *reply)
{
    char text[400];
    int n = snprintf(text, sizeof text, "0%s", reply);
    sio_eio_server_send(&w.net.server, false, (const uint8_t *)text, (size_t)n, w.net.now);
    settle();
}

/* The server goes away and comes back; the client's next CONNECT reaches it (held). */
static void reconnect_held(uint64_t delay_ms)
{
    w.net.server_down = true;
    sio_eio_server_abort(&w.net.server, SIO_EIO_REASON_SERVER_SHUTDOWN, w.net.now);
    settle();
    w.net.server_down = false;
    w.server_log[0] = '\0';
    w.client_log[0] = '\0';
    advance(&w.net, delay_ms);
}

/* Connection-state recovery (CSIO-RC-09): after a reply with a pid, the next CONNECT carries it
 * and the last event's string offset, merged with the auth; CONNECTED says recovered only for
 * the same pid. A pid or offset of SIO_SIO_CLIENT_MAX_RECOVERY_TOKEN bytes is kept, one byte
 * more ends recovery. */
static void test_recovery(void)
{
    start(4, true);
    w.hold_connect = true;
    sio_sio_client_connect(&w.client, S("/"), S("{\"t\":\"x\"}"), &user_root, w.net.now);
    settle();
    CHECK(server_saw("connect / {\"t\":\"x\"}\n"));
    reply_connect("{\"sid\":\"s1\",\"pid\":\"pid-1\"}");
    CHECK(client_saw("connected / s1\n")); /* nothing to recover the first time */
    sio_eio_server_send(&w.net.server, false, (const uint8_t *)"2[\"news\",\"hello\",\"off-7\"]",
                        25, w.net.now);
    sio_eio_server_send(&w.net.server, false, (const uint8_t *)"2[\"count\",3]", 12, w.net.now);
    settle();
    reconnect_held(1000);
    CHECK(server_saw("connect / {\"pid\":\"pid-1\",\"offset\":\"off-7\",\"t\":\"x\"}\n"));
    reply_connect("{\"sid\":\"s2\",\"pid\":\"pid-1\"}");
    CHECK(client_saw("connected / s2 recovered\n"));
    /* another pid: not recovered; the new pid is the one sent next */
    reconnect_held(1000);
    reply_connect("{\"sid\":\"s3\",\"pid\":\"pid-2\"}");
    CHECK(client_saw("connected / s3\n"));
    /* the bound: a pid of MAX_RECOVERY_TOKEN bytes (quotes included) is kept, one more is not */
    for (size_t extra = 0; extra < 2; extra++) {
        char reply[300], pid[SIO_SIO_CLIENT_MAX_RECOVERY_TOKEN];
        size_t chars = SIO_SIO_CLIENT_MAX_RECOVERY_TOKEN - 2 + extra;
        memset(pid, 'p', chars);
        snprintf(reply, sizeof reply, "{\"sid\":\"s4\",\"pid\":\"%.*s\"}", (int)chars, pid);
        reconnect_held(1000);
        reply_connect(reply);
        reconnect_held(1000);
        CHECK(has(S(w.server_log), "\"pid\":\"ppp") == (extra == 0));
        reply_connect("{\"sid\":\"s5\"}");
    }
    /* the same bound on the offset: one past it ends recovery (no older offset is resumed) */
    for (size_t extra = 0; extra < 2; extra++) {
        char event[300], offset[SIO_SIO_CLIENT_MAX_RECOVERY_TOKEN];
        size_t chars = SIO_SIO_CLIENT_MAX_RECOVERY_TOKEN - 2 + extra;
        memset(offset, 'o', chars);
        reconnect_held(1000);
        reply_connect("{\"sid\":\"s6\",\"pid\":\"pid-6\"}");
        int n = snprintf(event, sizeof event, "2[\"news\",\"%.*s\"]", (int)chars, offset);
        sio_eio_server_send(&w.net.server, false, (const uint8_t *)event, (size_t)n, w.net.now);
        settle();
        reconnect_held(1000);
        CHECK(has(S(w.server_log), "\"offset\":\"ooo") == (extra == 0));
        CHECK(has(S(w.server_log), "\"pid\":\"pid-6\"") == (extra == 0));
        reply_connect("{\"sid\":\"s7\"}");
    }
    /* without a pid in the reply, the next CONNECT is the auth alone */
    reconnect_held(1000);
    CHECK(server_saw("connect / {\"t\":\"x\"}\n"));
    finish();
}

/* EVENTs kept until the CONNECT reply reach the application with it, so their offsets count: an
 * offset that came in an early event is the one the next CONNECT resumes from. */
static void test_recovery_offset_of_early_events(void)
{
    start(4, true);
    w.hold_connect = true;
    sio_sio_client_connect(&w.client, S("/"), SIO_SPAN_NULL, &user_root, w.net.now);
    settle();
    sio_eio_server_send(&w.net.server, false, (const uint8_t *)"2[\"news\",\"off-1\"]", 17,
                        w.net.now);
    sio_eio_server_send(&w.net.server, false, (const uint8_t *)"2[\"news\",\"off-2\"]", 17,
                        w.net.now);
    settle();
    CHECK(!client_saw("event /")); /* kept until the reply */
    reply_connect("{\"sid\":\"s1\",\"pid\":\"pid-1\"}");
    CHECK(client_saw("event / [\"news\",\"off-2\"]\nconnected / s1\n"));
    reconnect_held(1000);
    CHECK(server_saw("connect / {\"pid\":\"pid-1\",\"offset\":\"off-2\"}\n"));
    finish();
}

/* A CONNECT the client cannot send is never a silent wait for a reply: connect() returns the
 * encoder's refusal of a name or an auth in any state of the connection, and the Engine.IO
 * session's refusal when it sends at once; a CONNECT due when the connection opens that the
 * session refuses (a name holding 0x1E cannot travel in a v4 polling payload) ends in a
 * CONNECT_ERROR naming the error. The namespace may be asked for again. */
static void test_connect_not_sent(void)
{
    start(4, false); /* polling only */
    CHECK_ERR(sio_sio_client_connect(&w.client, S("/"), S("[1]"), &user_root, w.net.now),
              SIO_ERR_PKT_PAYLOAD_KIND); /* v5 auth is an object */
    CHECK_ERR(sio_sio_client_connect(&w.client, S("/a,b"), SIO_SPAN_NULL, NULL, w.net.now),
              SIO_ERR_PKT_NSP_COMMA);
    CHECK_ERR(sio_sio_client_connect(&w.client, S("/"), SIO_SPAN_NULL, &user_root, w.net.now),
              SIO_OK);
    CHECK_ERR(
        sio_sio_client_connect(&w.client, S("/rs\x1e"), SIO_SPAN_NULL, &user_custom, w.net.now),
        SIO_OK); /* not open yet: checked when the CONNECT is due */
    settle();
    CHECK(client_saw("connected / sock\n"));
    CHECK(client_saw("connect-error /rs\x1e {\"message\":\"the CONNECT could not be sent: "
                     "SIO_ERR_EIO_SEPARATOR_IN_TEXT\"}\n"));
    CHECK_ERR(
        sio_sio_client_emit(&w.client, S("/rs\x1e"), S("[\"x\"]"), NULL, 0, false, NULL, w.net.now),
        SIO_ERR_SIO_NOT_JOINED);
    /* open now: the session's refusal comes back from connect() itself, every time */
    for (int i = 0; i < 2; i++)
        CHECK_ERR(
            sio_sio_client_connect(&w.client, S("/rs\x1e"), SIO_SPAN_NULL, &user_custom, w.net.now),
            SIO_ERR_EIO_SEPARATOR_IN_TEXT);
    CHECK_ERR(sio_sio_client_connect(&w.client, S("/x"), S("[1]"), NULL, w.net.now),
              SIO_ERR_PKT_PAYLOAD_KIND);
    CHECK_ERR(
        sio_sio_client_connect(&w.client, S("/custom"), SIO_SPAN_NULL, &user_custom, w.net.now),
        SIO_OK);
    settle();
    CHECK(client_saw("connected /custom sock\n"));
    finish();
}

static void test_backoff(void)
{
    sio_sio_client_config cfg;
    sio_sio_client_config_init(&cfg);
    cfg.randomization = 0;
    static const uint64_t exact[] = {1000, 2000, 4000, 5000, 5000};
    for (uint32_t a = 0; a < 5; a++)
        CHECK_EQ_INT(sio_sio_client_backoff(&cfg, a, 12345), exact[a]);
    cfg.randomization = 500;
    /* r = 0.05: floor(10 r) = 0 is even, the delay goes down by floor(0.05 x 0.5 x 1000) = 25 */
    CHECK_EQ_INT(sio_sio_client_backoff(&cfg, 0, (uint32_t)(0.05 * 4294967296.0) + 1), 975);
    /* r = 0.15: odd, up by floor(0.15 x 0.5 x 2000) = 150 */
    CHECK_EQ_INT(sio_sio_client_backoff(&cfg, 1, (uint32_t)(0.15 * 4294967296.0) + 1), 2150);
    /* the cap holds after the move */
    CHECK_EQ_INT(sio_sio_client_backoff(&cfg, 3, 0xFFFFFFFFu), 5000);
    for (uint32_t r = 0; r < 4000000000u; r += 99999989u) {
        uint64_t d = sio_sio_client_backoff(&cfg, 1, r);
        CHECK(d >= 1000 && d <= 3000);
    }
    /* randomization needs a random source */
    sio_sio_client s;
    sio_eio_client e;
    sio_eio_client_config ecfg;
    sio_eio_client_config_init(&ecfg);
    memset(&e, 0, sizeof e);
    CHECK_ERR(sio_sio_client_open(&s, &cfg, &e, &ecfg, 0), SIO_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(sio_sio_client_reason_name(SIO_SIO_CLIENT_REASON_PARSE_ERROR), "parse error") ==
          0);
}

/* Received EVENTs and ACKs keep their own attachments: the inbox reuses its copies for the next
 * packet, and an application may read the events of several messages at once (one polling answer
 * carries several packets). */
static void test_attachments_outlive_the_next_packet(void)
{
    start(4, false);
    w.late_drain = w.manual_acks = true;
    CHECK_ERR(sio_sio_client_connect(&w.client, S("/"), SIO_SPAN_NULL, &user_root, w.net.now),
              SIO_OK);
    settle();
    CHECK(client_saw("connected / sock\n"));
    uint64_t id = 0;
    CHECK_ERR(sio_sio_client_emit(&w.client, S("/"), S("[\"e\"]"), NULL, 0, true, &id, w.net.now),
              SIO_OK);
    settle(); /* the server has the emit; its ack goes out below, with the others */
    CHECK(server_saw("event [\"e\"]\n"));
    w.client_log[0] = '\0';
    const sio_span a1 = S("\x01\x02\x03"), a2 = S("\x04\x05\x06"), a3 = S("\x07");
    const sio_span b = S("[\"b\",{\"_placeholder\":true,\"num\":0}]");
    const sio_span c = S("[\"c\",{\"_placeholder\":true,\"num\":0}]");
    sio_sio_server_emit(&w.server, S("/"), false, b, &a1, 1, false, 0, w.net.now);
    sio_sio_server_emit(&w.server, S("/"), false, c, &a2, 1, false, 0, w.net.now);
    sio_sio_server_emit(&w.server, S("/"), true, S("[{\"_placeholder\":true,\"num\":0}]"), &a3, 1,
                        true, id, w.net.now);
    sio_sio_server_emit(&w.server, S("/"), false, b, &a1, 1, false, 0, w.net.now);
    sio_sio_server_emit(&w.server, S("/"), false, S("[\"text\"]"), NULL, 0, false, 0, w.net.now);
    settle();
    CHECK(client_saw("event / [\"b\",{\"_placeholder\":true,\"num\":0}] +1 010203\n"
                     "event / [\"c\",{\"_placeholder\":true,\"num\":0}] +1 040506\n"
                     "ack / [{\"_placeholder\":true,\"num\":0}] +1 07 id=0\n"
                     "event / [\"b\",{\"_placeholder\":true,\"num\":0}] +1 010203\n"
                     "event / [\"text\"]\n"));
    finish();
}

int main(void)
{
    test_namespaces_and_acks();
    test_reconnection();
    test_ping_timeout();
    test_v4();
    test_connect_timeout();
    test_parse_error();
    test_edges();
    test_connect_reply_without_sid();
    test_early_events();
    test_early_events_dropped();
    test_buffered_ack_ids_kept();
    test_recovery();
    test_recovery_offset_of_early_events();
    test_connect_not_sent();
    test_backoff();
    test_attachments_outlive_the_next_packet();
    CHECK_DONE();
}
