/* The Engine.IO client session against the server session (session_pump.h): every row of the
 * transition table in sio/eio_client.h, in v4 and v3, over polling, the upgrade and WebSocket
 * only; and the events a scripted server gives where the real one would not (bad handshakes,
 * error statuses, probe failures). */
#include "session_pump.h"

/* The server application echoes every message; the client records what it received. */
static char received[1024];

static void echo(pump *p, bool binary, sio_span data)
{
    sio_eio_server_send(&p->server, binary, data.ptr, data.len, p->now);
}

static void record(pump *p, bool binary, sio_span data)
{
    (void)p;
    size_t used = strlen(received);
    if (binary)
        snprintf(received + used, sizeof received - used, "<%zu bytes>", data.len);
    else
        snprintf(received + used, sizeof received - used, "%.*s|", (int)data.len,
                 (const char *)data.ptr);
}

static void start(pump *p, int protocol, bool upgrade, bool websocket_only)
{
    pump_init(p);
    received[0] = '\0';
    p->ccfg.protocol = protocol;
    p->ccfg.upgrade = upgrade;
    p->ccfg.websocket_only = websocket_only;
    p->server_message = echo;
    p->client_message = record;
    CHECK_ERR(sio_eio_client_open(&p->client, &p->ccfg, p->now), SIO_OK);
    CHECK(sio_eio_client_state_of(&p->client) == SIO_EIO_CLIENT_OPENING);
    run(p);
}

static void finish(pump *p)
{
    if (getenv("PUMP_LOG"))
        fprintf(stderr, "---\n%s", p->log);
    pump_free(p);
    CHECK_EQ_INT(live_blocks, 0);
}

static void send_text(pump *p, const char *text)
{
    CHECK_ERR(sio_eio_client_send(&p->client, false, (const uint8_t *)text, strlen(text), p->now),
              SIO_OK);
    run(p);
}

/* ------------------------------------------------------------------ polling and upgrade */

static void test_polling_then_upgrade(void)
{
    pump p;
    start(&p, 4, true, false);
    /* handshake GET, then the probe and a long-poll GET (released by the noop) */
    CHECK(strncmp(p.log, "GET /engine.io/?EIO=4&transport=polling\n", 40) == 0);
    CHECK(strstr(p.log, "ws-open /engine.io/?EIO=4&transport=websocket&sid=srv-sid\n") != NULL);
    CHECK(strstr(p.log, "c>probe 2probe\n") != NULL && strstr(p.log, "s>probe 3probe\n") != NULL);
    CHECK(strstr(p.log, "c>probe 5\n") != NULL);
    CHECK(sio_eio_client_state_of(&p.client) == SIO_EIO_CLIENT_WEBSOCKET);
    CHECK(sio_eio_server_state_of(&p.server) == SIO_EIO_SERVER_WEBSOCKET);
    CHECK_STR(sio_eio_client_sid(&p.client).ptr, sio_eio_client_sid(&p.client).len, "srv-sid");
    CHECK_EQ_INT(sio_eio_client_ping_interval(&p.client), 300);
    CHECK_EQ_INT(sio_eio_client_ping_timeout(&p.client), 200);
    CHECK_EQ_INT(sio_eio_client_max_payload(&p.client), 1000000);
    send_text(&p, "hello");
    CHECK_ERR(sio_eio_client_send(&p.client, true, (const uint8_t *)"\x01\x02", 2, p.now), SIO_OK);
    run(&p);
    CHECK(strcmp(received, "hello|<2 bytes>") == 0);
    /* heartbeat: the server pings, the client answers; both stay open */
    advance(&p, 2000);
    CHECK(!p.client_closed && !p.server_closed_seen);
    CHECK(strstr(p.log, "s>ws 2\nc>ws 3\n") != NULL);
    /* the client closes: "1" over the WebSocket, then the close */
    sio_eio_client_close(&p.client, p.now);
    run(&p);
    CHECK(p.client_closed && p.client_reason == SIO_EIO_REASON_FORCED_CLOSE);
    CHECK(p.server_closed_seen && p.server_reason == SIO_EIO_REASON_TRANSPORT_CLOSE);
    CHECK_ERR(sio_eio_client_send(&p.client, false, (const uint8_t *)"x", 1, p.now),
              SIO_ERR_EIO_SESSION_CLOSED);
    finish(&p);
}

/* Messages sent while the probe is under way wait, then go over the WebSocket in order. */
static void probe_message(pump *p, const sio_eio_client_event *ev)
{
    if (ev->type == SIO_EIO_CLIENT_EV_OPEN)
        sio_eio_client_send(&p->client, false, (const uint8_t *)"early", 5, p->now);
}

static void test_send_during_probe(void)
{
    pump p;
    pump_init(&p);
    received[0] = '\0';
    p.server_message = echo;
    p.client_message = record;
    p.client_event = probe_message;
    CHECK_ERR(sio_eio_client_open(&p.client, &p.ccfg, p.now), SIO_OK);
    run(&p);
    CHECK(strcmp(received, "early|") == 0);
    CHECK(sio_eio_client_state_of(&p.client) == SIO_EIO_CLIENT_WEBSOCKET);
    finish(&p);
}

static void test_polling_only(void)
{
    pump p;
    start(&p, 4, false, false);
    CHECK(sio_eio_client_state_of(&p.client) == SIO_EIO_CLIENT_POLLING);
    CHECK_EQ_INT(p.ws_opens, 0);
    send_text(&p, "a");
    send_text(&p, "b");
    CHECK_ERR(sio_eio_client_send(&p.client, false,
                                  (const uint8_t *)"x\x1e"
                                                   "y",
                                  3, p.now),
              SIO_ERR_EIO_SEPARATOR_IN_TEXT);
    CHECK(strcmp(received, "a|b|") == 0);
    CHECK(strstr(p.log, "POST /engine.io/?EIO=4&transport=polling&sid=srv-sid 4a\n") != NULL);
    /* binary from the server over polling: a base64 record */
    sio_eio_server_send(&p.server, true, (const uint8_t *)"\x01\x02", 2, p.now);
    run(&p);
    CHECK(strcmp(received, "a|b|<2 bytes>") == 0);
    /* heartbeat over polling */
    advance(&p, 1000);
    CHECK(!p.client_closed && !p.server_closed_seen);
    /* close over polling: a POST "1" */
    sio_eio_client_close(&p.client, p.now);
    run(&p);
    CHECK(strstr(p.log, "sid=srv-sid 1\n") != NULL);
    CHECK(p.server_closed_seen && p.server_reason == SIO_EIO_REASON_TRANSPORT_CLOSE);
    finish(&p);
}

/* With cache_buster, every polling request has a `t` of its own, also after a reconnection;
 * WebSocket requests have none. */
static void test_cache_buster(void)
{
    pump p;
    pump_init(&p);
    p.ccfg.cache_buster = true;
    p.server_message = echo;
    p.client_message = record;
    received[0] = '\0';
    sio_eio_client_open(&p.client, &p.ccfg, p.now);
    run(&p);
    CHECK(strstr(p.log, "GET /engine.io/?EIO=4&transport=polling&t=1\n") != NULL);
    CHECK(strstr(p.log, "GET /engine.io/?EIO=4&transport=polling&sid=srv-sid&t=2\n") != NULL);
    CHECK(strstr(p.log, "ws-open /engine.io/?EIO=4&transport=websocket&sid=srv-sid\n") != NULL);
    sio_eio_client_free(&p.client);
    sio_eio_client_open(&p.client, &p.ccfg, p.now); /* a reconnection: the count goes on */
    sio_eio_client_event ev;
    sio_eio_client_next_event(&p.client, &ev);
    CHECK(ev.type == SIO_EIO_CLIENT_EV_REQUEST && ev.target.len > 3 &&
          memcmp(ev.target.ptr + ev.target.len - 4, "&t=", 3) == 0 &&
          ev.target.ptr[ev.target.len - 1] != '1');
    finish(&p);
}

/* A close while a POST is in flight waits for it: the last POST carries what was still queued,
 * then "1"; nothing is sent after it, and send() is refused meanwhile. */
static void test_close_after_post_in_flight(void)
{
    pump p;
    start(&p, 4, false, false);
    sio_eio_client_send(&p.client, false, (const uint8_t *)"a", 1, p.now); /* POST in flight */
    sio_eio_client_send(&p.client, false, (const uint8_t *)"b", 1, p.now); /* queued */
    sio_eio_client_close(&p.client, p.now);
    CHECK(!p.client_closed);
    CHECK_ERR(sio_eio_client_send(&p.client, false, (const uint8_t *)"c", 1, p.now),
              SIO_ERR_EIO_SESSION_CLOSED);
    run(&p);
    CHECK(strstr(p.log, "sid=srv-sid 4a\n") != NULL);
    CHECK(strstr(p.log, "sid=srv-sid 4b\x1e"
                        "1\n") != NULL);
    CHECK_EQ_INT(p.posts, 2);
    CHECK(p.client_closed && p.client_reason == SIO_EIO_REASON_FORCED_CLOSE);
    CHECK(p.server_closed_seen && p.server_reason == SIO_EIO_REASON_TRANSPORT_CLOSE);
    finish(&p);
}

/* POST bodies stay under the server's maxPayload; packets past it go with the next POST. */
static void test_post_batching(void)
{
    pump p;
    pump_init(&p);
    p.ccfg.upgrade = false;
    p.scfg.max_payload = 10;
    p.server_message = echo;
    p.client_message = record;
    received[0] = '\0';
    sio_eio_client_open(&p.client, &p.ccfg, p.now);
    run(&p);
    int before = p.posts;
    /* queued while a POST is in flight: a first POST takes "aaaa", the rest wait */
    sio_eio_client_send(&p.client, false, (const uint8_t *)"aaaa", 4, p.now);
    sio_eio_client_send(&p.client, false, (const uint8_t *)"bbbb", 4, p.now);
    sio_eio_client_send(&p.client, false, (const uint8_t *)"cccc", 4, p.now);
    run(&p);
    CHECK(strcmp(received, "aaaa|bbbb|cccc|") == 0);
    CHECK_EQ_INT(p.posts - before, 3);
    finish(&p);
}

static void test_websocket_only(void)
{
    pump p;
    start(&p, 4, true, true);
    CHECK(strncmp(p.log, "ws-open /engine.io/?EIO=4&transport=websocket\n", 46) == 0);
    CHECK_EQ_INT(p.requests, 0);
    CHECK(sio_eio_client_state_of(&p.client) == SIO_EIO_CLIENT_WEBSOCKET);
    send_text(&p, "over ws");
    CHECK(strcmp(received, "over ws|") == 0);
    /* the server goes away: the WebSocket is lost */
    sio_eio_server_abort(&p.server, SIO_EIO_REASON_SERVER_SHUTDOWN, p.now);
    run(&p);
    CHECK(p.client_closed && p.client_reason == SIO_EIO_REASON_TRANSPORT_CLOSE);
    finish(&p);
}

/* ------------------------------------------------------------------ heartbeat */

/* A server that stops answering: no ping within pingInterval + pingTimeout ends the session. */
static void test_dead_server_v4(void)
{
    pump p;
    start(&p, 4, true, false);
    p.server_mute = true;
    advance(&p, 499);
    CHECK(!p.client_closed);
    advance(&p, 2);
    CHECK(p.client_closed && p.client_reason == SIO_EIO_REASON_PING_TIMEOUT);
    finish(&p);
}

static void test_v3(void)
{
    pump p;
    start(&p, 3, true, false);
    CHECK(strncmp(p.log, "GET /engine.io/?EIO=3&transport=polling\n", 40) == 0);
    CHECK(sio_eio_client_state_of(&p.client) == SIO_EIO_CLIENT_WEBSOCKET);
    send_text(&p, "v3");
    CHECK_ERR(sio_eio_client_send(&p.client, true, (const uint8_t *)"\x07", 1, p.now), SIO_OK);
    run(&p);
    CHECK(strcmp(received, "v3|<1 bytes>") == 0);
    /* v3: the client pings every pingInterval, the server answers */
    advance(&p, 1000);
    CHECK(strstr(p.log, "c>ws 2\ns>ws 3\n") != NULL);
    CHECK(!p.client_closed && !p.server_closed_seen);
    /* ... and a server that does not answer times out */
    p.server_mute = true;
    advance(&p, 300 + 200 + 1);
    CHECK(p.client_closed && p.client_reason == SIO_EIO_REASON_PING_TIMEOUT);
    finish(&p);

    /* v3 over polling, binary both ways (XHR2 bodies) */
    start(&p, 3, false, false);
    CHECK_ERR(sio_eio_client_send(&p.client, true, (const uint8_t *)"\x01\x02\x03", 3, p.now),
              SIO_OK);
    run(&p);
    CHECK(strcmp(received, "<3 bytes>") == 0);
    advance(&p, 1000);
    CHECK(!p.client_closed);
    finish(&p);
}

/* ------------------------------------------------------------------ failures */

static void test_server_closes(void)
{
    pump p;
    start(&p, 4, false, false);
    sio_eio_server_close(&p.server, p.now); /* over polling: "1" with the next GET */
    run(&p);
    CHECK(p.client_closed && p.client_reason == SIO_EIO_REASON_TRANSPORT_CLOSE);
    finish(&p);
}

static void test_refused_handshake(void)
{
    pump p;
    pump_init(&p);
    p.server_down = true;
    sio_eio_client_open(&p.client, &p.ccfg, p.now);
    run(&p);
    CHECK(p.client_closed && p.client_reason == SIO_EIO_REASON_TRANSPORT_ERROR);
    /* reopened (a reconnection) once the server is back */
    p.server_down = false;
    p.client_closed = false;
    sio_eio_client_free(&p.client);
    CHECK_ERR(sio_eio_client_open(&p.client, &p.ccfg, p.now), SIO_OK);
    run(&p);
    CHECK(sio_eio_client_state_of(&p.client) == SIO_EIO_CLIENT_WEBSOCKET);
    finish(&p);
}

/* The probe refused: polling goes on and the session keeps working. */
static void test_probe_refused(void)
{
    pump p;
    pump_init(&p);
    p.refuse_upgrade = true;
    p.server_message = echo;
    p.client_message = record;
    received[0] = '\0';
    sio_eio_client_open(&p.client, &p.ccfg, p.now);
    run(&p);
    CHECK_EQ_INT(p.ws_opens, 1);
    CHECK(sio_eio_client_state_of(&p.client) == SIO_EIO_CLIENT_POLLING);
    send_text(&p, "still polling");
    CHECK(strcmp(received, "still polling|") == 0);
    finish(&p);
}

/* Scripted server answers the real one would not give. */
/* Opens a session whose handshake is answered with `sid`; returns the state after the answer
 * and the target of the next request (the long poll) in `target`. */
static sio_eio_client_state open_with_sid(const char *sid, char *target, size_t cap)
{
    sio_eio_client_config cfg;
    sio_eio_client c;
    sio_eio_client_event ev;
    sio_eio_client_config_init(&cfg);
    cfg.alloc = &counting;
    memset(&c, 0, sizeof c);
    sio_eio_client_open(&c, &cfg, 0);
    sio_eio_client_next_event(&c, &ev);
    char open[600];
    int n =
        snprintf(open, sizeof open,
                 "0{\"sid\":\"%s\",\"upgrades\":[],\"pingInterval\":100,\"pingTimeout\":50}", sid);
    sio_eio_client_response(&c, SIO_EIO_CHANNEL_GET, 200, SIO_SPAN_NULL, (const uint8_t *)open,
                            (size_t)n, 1);
    target[0] = '\0';
    while (sio_eio_client_next_event(&c, &ev) == SIO_OK && ev.type != SIO_EIO_CLIENT_EV_NONE)
        if (ev.type == SIO_EIO_CLIENT_EV_REQUEST)
            snprintf(target, cap, "%.*s", (int)ev.target.len, (const char *)ev.target.ptr);
    sio_eio_client_state state = sio_eio_client_state_of(&c);
    sio_eio_client_free(&c);
    return state;
}

/* Session ids: a UUID (netty-socketio's, longer than the server side's own bound) and one of
 * SIO_EIO_CLIENT_MAX_SID bytes are taken, one byte more is a parse error; a sid's reserved bytes
 * are percent-encoded in the targets that carry it. */
static void test_session_ids(void)
{
    char target[SIO_EIO_CLIENT_MAX_TARGET], sid[SIO_EIO_CLIENT_MAX_SID + 2];
    CHECK(open_with_sid("2e5dd2a2-3a9b-4be5-b9de-9d0f709be606", target, sizeof target) ==
          SIO_EIO_CLIENT_POLLING);
    CHECK(strstr(target, "&sid=2e5dd2a2-3a9b-4be5-b9de-9d0f709be606") != NULL);
    memset(sid, 's', SIO_EIO_CLIENT_MAX_SID);
    sid[SIO_EIO_CLIENT_MAX_SID] = '\0';
    CHECK(open_with_sid(sid, target, sizeof target) == SIO_EIO_CLIENT_POLLING);
    CHECK(strstr(target, sid) != NULL);
    sid[SIO_EIO_CLIENT_MAX_SID] = 's';
    sid[SIO_EIO_CLIENT_MAX_SID + 1] = '\0';
    CHECK(open_with_sid(sid, target, sizeof target) == SIO_EIO_CLIENT_CLOSED);
    CHECK(open_with_sid("a+b/c=d~e.f_g-h", target, sizeof target) == SIO_EIO_CLIENT_POLLING);
    CHECK_STR(target, strlen(target),
              "/engine.io/?EIO=4&transport=polling&sid=a%2Bb%2Fc%3Dd~e.f_g-h");
}

static void test_scripted_answers(void)
{
    sio_eio_client_config cfg;
    sio_eio_client c;
    sio_eio_client_event ev;
    sio_eio_client_config_init(&cfg);
    cfg.alloc = &counting;
    /* a handshake answer that is not an open packet */
    memset(&c, 0, sizeof c);
    sio_eio_client_open(&c, &cfg, 0);
    sio_eio_client_next_event(&c, &ev);
    CHECK(ev.type == SIO_EIO_CLIENT_EV_REQUEST && strcmp(ev.method, "GET") == 0);
    CHECK_ERR(sio_eio_client_response(&c, SIO_EIO_CHANNEL_GET, 200, SIO_SPAN_NULL,
                                      (const uint8_t *)"4hello", 6, 1),
              SIO_OK);
    sio_eio_client_next_event(&c, &ev);
    CHECK(ev.type == SIO_EIO_CLIENT_EV_CLOSED && ev.reason == SIO_EIO_REASON_PARSE_ERROR);
    sio_eio_client_free(&c);
    /* an open packet followed by a message in the same answer; then a bad GET body */
    sio_eio_client_open(&c, &cfg, 0);
    sio_eio_client_next_event(&c, &ev);
    static const char open_and_message[] =
        "0{\"sid\":\"abc\",\"upgrades\":[],\"pingInterval\":100,\"pingTimeout\":50,"
        "\"maxPayload\":1000}\x1e"
        "4hi";
    sio_eio_client_response(&c, SIO_EIO_CHANNEL_GET, 200, SIO_SPAN_NULL,
                            (const uint8_t *)open_and_message, sizeof open_and_message - 1, 1);
    sio_eio_client_next_event(&c, &ev);
    CHECK(ev.type == SIO_EIO_CLIENT_EV_OPEN);
    sio_eio_client_next_event(&c, &ev);
    CHECK(ev.type == SIO_EIO_CLIENT_EV_MESSAGE && ev.data.len == 2);
    sio_eio_client_next_event(&c, &ev); /* the next long-poll GET, with the sid */
    CHECK(ev.type == SIO_EIO_CLIENT_EV_REQUEST);
    CHECK_STR(ev.target.ptr, ev.target.len, "/engine.io/?EIO=4&transport=polling&sid=abc");
    CHECK_EQ_INT(sio_eio_client_next_deadline(&c), 151);
    CHECK_ERR(sio_eio_client_response(&c, SIO_EIO_CHANNEL_POST, 200, SIO_SPAN_NULL, NULL, 0, 2),
              SIO_ERR_EIO_WRONG_STATE); /* no POST in flight */
    sio_eio_client_response(&c, SIO_EIO_CHANNEL_GET, 200, SIO_SPAN_NULL, (const uint8_t *)"9", 1,
                            2);
    sio_eio_client_next_event(&c, &ev);
    CHECK(ev.type == SIO_EIO_CLIENT_EV_CLOSED && ev.reason == SIO_EIO_REASON_PARSE_ERROR);
    sio_eio_client_free(&c);
    /* an error status on the long poll */
    sio_eio_client_open(&c, &cfg, 0);
    sio_eio_client_next_event(&c, &ev);
    sio_eio_client_response(&c, SIO_EIO_CHANNEL_GET, 200, SIO_SPAN_NULL,
                            (const uint8_t *)open_and_message, sizeof open_and_message - 5, 1);
    while (sio_eio_client_next_event(&c, &ev) == SIO_OK && ev.type != SIO_EIO_CLIENT_EV_NONE)
        ;
    CHECK_ERR(sio_eio_client_response(&c, SIO_EIO_CHANNEL_GET, 500, SIO_SPAN_NULL, NULL, 0, 3),
              SIO_ERR_EIO_HTTP_STATUS);
    sio_eio_client_next_event(&c, &ev);
    CHECK(ev.type == SIO_EIO_CLIENT_EV_CLOSED && ev.reason == SIO_EIO_REASON_TRANSPORT_ERROR);
    sio_eio_client_free(&c);
    /* an empty handshake answer */
    sio_eio_client_open(&c, &cfg, 0);
    sio_eio_client_next_event(&c, &ev);
    sio_eio_client_response(&c, SIO_EIO_CHANNEL_GET, 200, SIO_SPAN_NULL, (const uint8_t *)"", 0, 1);
    sio_eio_client_next_event(&c, &ev);
    CHECK(ev.type == SIO_EIO_CLIENT_EV_CLOSED && ev.reason == SIO_EIO_REASON_PARSE_ERROR);
    sio_eio_client_free(&c);
    /* a probe answered with something else than "3probe": the probe is closed, polling goes on;
     * then an undecodable WebSocket message on a WebSocket-only session */
    static const char open_ws[] = "0{\"sid\":\"abc\",\"upgrades\":[\"websocket\"],"
                                  "\"pingInterval\":100,\"pingTimeout\":50,\"maxPayload\":9}";
    sio_eio_client_open(&c, &cfg, 0);
    sio_eio_client_next_event(&c, &ev);
    sio_eio_client_response(&c, SIO_EIO_CHANNEL_GET, 200, SIO_SPAN_NULL, (const uint8_t *)open_ws,
                            sizeof open_ws - 1, 1);
    while (sio_eio_client_next_event(&c, &ev) == SIO_OK && ev.type != SIO_EIO_CLIENT_EV_NONE)
        ;
    CHECK(sio_eio_client_state_of(&c) == SIO_EIO_CLIENT_PROBING);
    CHECK_ERR(sio_eio_client_ws_opened(&c, SIO_EIO_CHANNEL_PROBE, 2), SIO_OK);
    sio_eio_client_next_event(&c, &ev);
    CHECK(ev.type == SIO_EIO_CLIENT_EV_WS_SEND && ev.channel == SIO_EIO_CHANNEL_PROBE);
    CHECK_ERR(
        sio_eio_client_ws_message(&c, SIO_EIO_CHANNEL_PROBE, true, (const uint8_t *)"3nope", 5, 3),
        SIO_OK);
    sio_eio_client_next_event(&c, &ev);
    CHECK(ev.type == SIO_EIO_CLIENT_EV_WS_CLOSE && ev.channel == SIO_EIO_CHANNEL_PROBE);
    CHECK(sio_eio_client_state_of(&c) == SIO_EIO_CLIENT_POLLING);
    sio_eio_client_free(&c);
    cfg.websocket_only = true;
    sio_eio_client_open(&c, &cfg, 0);
    sio_eio_client_next_event(&c, &ev);
    CHECK(ev.type == SIO_EIO_CLIENT_EV_WS_OPEN);
    sio_eio_client_ws_opened(&c, SIO_EIO_CHANNEL_WEBSOCKET, 1);
    CHECK_ERR(
        sio_eio_client_ws_message(&c, SIO_EIO_CHANNEL_WEBSOCKET, true, (const uint8_t *)"9", 1, 2),
        SIO_ERR_EIO_UNKNOWN_TYPE);
    sio_eio_client_next_event(&c, &ev);
    CHECK(ev.type == SIO_EIO_CLIENT_EV_WS_CLOSE);
    sio_eio_client_next_event(&c, &ev);
    CHECK(ev.type == SIO_EIO_CLIENT_EV_CLOSED && ev.reason == SIO_EIO_REASON_PARSE_ERROR);
    sio_eio_client_free(&c);
    cfg.websocket_only = false;
    /* allocation failure at every step of a polling session: CLOSED, nothing left behind */
    for (long budget = 0; budget < 8; budget++) {
        fail_after = budget;
        sio_err rc = sio_eio_client_open(&c, &cfg, 0);
        CHECK(rc == SIO_OK || rc == SIO_ERR_NO_MEMORY);
        sio_eio_client_next_event(&c, &ev);
        sio_eio_client_response(&c, SIO_EIO_CHANNEL_GET, 200, SIO_SPAN_NULL,
                                (const uint8_t *)open_and_message, sizeof open_and_message - 5, 1);
        sio_eio_client_send(&c, false, (const uint8_t *)"m", 1, 1);
        while (sio_eio_client_next_event(&c, &ev) == SIO_OK && ev.type != SIO_EIO_CLIENT_EV_NONE)
            ;
        fail_after = -1;
        sio_eio_client_free(&c);
        CHECK_EQ_INT(live_blocks, 0);
    }
    /* configuration and bounds */
    cfg.protocol = 5;
    CHECK_ERR(sio_eio_client_open(&c, &cfg, 0), SIO_ERR_INVALID_ARGUMENT);
    cfg.protocol = 4;
    char long_query[SIO_EIO_CLIENT_MAX_TARGET];
    memset(long_query, 'q', sizeof long_query);
    cfg.query = sio_span_of(long_query, sizeof long_query);
    sio_eio_client_open(&c, &cfg, 0);
    sio_eio_client_next_event(&c, &ev);
    CHECK(ev.type == SIO_EIO_CLIENT_EV_CLOSED && ev.reason == SIO_EIO_REASON_TRANSPORT_ERROR);
    sio_eio_client_free(&c);
    CHECK_EQ_INT(live_blocks, 0);
}

int main(void)
{
    test_session_ids();
    test_polling_then_upgrade();
    test_send_during_probe();
    test_polling_only();
    test_post_batching();
    test_websocket_only();
    test_dead_server_v4();
    test_v3();
    test_server_closes();
    test_close_after_post_in_flight();
    test_cache_buster();
    test_refused_handshake();
    test_probe_refused();
    test_scripted_answers();
    CHECK_DONE();
}
