/* The Engine.IO server session: every row of the transition table in sio/eio_server.h, the
 * request reader's checks in Node's order, refusals, and memory (every allocation released,
 * allocation failure ends the session). Each test writes what the session said as a
 * transcript, one line per event, and compares it with the expected text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "counting_alloc.h"
#include "sio/eio_server.h"

/* ------------------------------------------------------------------ transcripts */

static char transcript[8192];

static const char *channel_name(sio_eio_channel c)
{
    static const char *const names[] = {"GET", "POST", "WS", "PROBE"};
    return names[c];
}

static void say(const char *fmt, const char *a, size_t n, const char *b)
{
    size_t used = strlen(transcript);
    snprintf(transcript + used, sizeof transcript - used, fmt, a, (int)n, b);
}

/* What the application does with a message, set per test. */
typedef void (*on_message_fn)(sio_eio_server *s, const sio_eio_server_event *ev);
static on_message_fn on_message;

/* Drains the session into the transcript: "RESPOND GET <body>", "WS PROBE <text>",
 * "WSBIN WS <hex len>", "WSCLOSE PROBE", "MSG <data>", "BINMSG <len>", "UPGRADED",
 * "CLOSED <reason>[ app]". */
static void drain(sio_eio_server *s)
{
    sio_eio_server_event ev;
    char num[32];
    for (;;) {
        CHECK_ERR(sio_eio_server_next_event(s, &ev), SIO_OK);
        switch (ev.type) {
        case SIO_EIO_SERVER_EV_NONE:
            return;
        case SIO_EIO_SERVER_EV_RESPOND:
            say("RESPOND %s %.*s|", channel_name(ev.channel), 0, "");
            say("%s%.*s\n", "", ev.data.len, (const char *)ev.data.ptr);
            break;
        case SIO_EIO_SERVER_EV_WS_SEND:
            if (ev.binary) {
                snprintf(num, sizeof num, "%zu", ev.data.len);
                say("WSBIN %s %.*s\n", channel_name(ev.channel), strlen(num), num);
            } else {
                say("WS %s %.*s\n", channel_name(ev.channel), ev.data.len,
                    (const char *)ev.data.ptr);
            }
            break;
        case SIO_EIO_SERVER_EV_WS_CLOSE:
            snprintf(num, sizeof num, "%u", ev.close_code);
            say("WSCLOSE %s %.*s\n", channel_name(ev.channel), strlen(num), num);
            break;
        case SIO_EIO_SERVER_EV_MESSAGE:
            if (ev.binary) {
                snprintf(num, sizeof num, "%zu", ev.data.len);
                say("BINMSG %s%.*s\n", "", strlen(num), num);
            } else {
                say("MSG %s%.*s\n", "", ev.data.len, (const char *)ev.data.ptr);
            }
            if (on_message)
                on_message(s, &ev);
            break;
        case SIO_EIO_SERVER_EV_UPGRADED:
            say("UPGRADED%s%.*s\n", "", 0, "");
            break;
        case SIO_EIO_SERVER_EV_CLOSED:
            say("CLOSED %s%.*s\n", sio_eio_close_reason_name(ev.reason), 0, "");
            if (ev.by_application)
                say("  by application%s%.*s\n", "", 0, "");
            return;
        }
    }
}

#define EXPECT_TRANSCRIPT(s, text)                                                                 \
    do {                                                                                           \
        transcript[0] = '\0';                                                                      \
        drain(s);                                                                                  \
        if (strcmp(transcript, text) != 0)                                                         \
            fprintf(stderr, "%s:%d: transcript:\n%s--- expected:\n%s", __FILE__, __LINE__,         \
                    transcript, text);                                                             \
        CHECK(strcmp(transcript, text) == 0);                                                      \
    } while (0)

/* ------------------------------------------------------------------ requests */

static sio_eio_server_config cfg;

static void reset_config(void)
{
    sio_eio_server_config_init(&cfg);
    cfg.ping_interval_ms = 300;
    cfg.ping_timeout_ms = 200;
    cfg.upgrade_timeout_ms = 1000;
    cfg.max_payload = 100;
    cfg.allow_eio3 = true;
    cfg.alloc = &counting;
    on_message = NULL;
}

/* Parses "METHOD target" plus extra header lines into a request the session reads. */
static sio_err read_request(const char *method, const char *target, const char *headers,
                            sio_eio_request *er)
{
    static char head[1024];
    snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n", method, target, headers);
    static sio_http_request req;
    sio_http_parser ps;
    sio_http_parser_init(&ps);
    if (sio_http_request_parse(&ps, (const uint8_t *)head, strlen(head), NULL, &req) != SIO_OK)
        return SIO_ERR_INVALID_ARGUMENT;
    return sio_eio_request_read(&req, &cfg, er);
}

static const char WS_HEADERS[] = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                 "Sec-WebSocket-Version: 13\r\n";

#define SID "eio-session-00000001"

static const char OPEN_POLLING[] =
    "0{\"sid\":\"" SID "\",\"upgrades\":[\"websocket\"],\"pingInterval\":300,"
    "\"pingTimeout\":200,\"maxPayload\":100}";

/* A polling session at time 0 whose handshake response has been drained. */
static void open_polling(sio_eio_server *s, const char *query)
{
    sio_eio_request er;
    char target[256];
    snprintf(target, sizeof target, "/engine.io/?%s", query);
    CHECK_ERR(read_request("GET", target, "", &er), SIO_OK);
    CHECK_ERR(sio_eio_server_open(s, &cfg, &er, SID, strlen(SID), 0), SIO_OK);
    transcript[0] = '\0';
    drain(s);
}

static sio_err poll(sio_eio_server *s, const char *method, const char *query, const char *headers,
                    uint64_t now)
{
    sio_eio_request er;
    char target[256];
    snprintf(target, sizeof target, "/engine.io/?sid=" SID "&%s", query);
    sio_err rc = read_request(method, target, headers, &er);
    return rc != SIO_OK ? rc : sio_eio_server_request(s, &er, now);
}

static sio_err get(sio_eio_server *s, uint64_t now)
{
    return poll(s, "GET", "EIO=4&transport=polling", "", now);
}

static sio_err post(sio_eio_server *s, const char *body, uint64_t now)
{
    char headers[64];
    snprintf(headers, sizeof headers, "Content-Length: %zu\r\n", strlen(body));
    sio_err rc = poll(s, "POST", "EIO=4&transport=polling", headers, now);
    if (rc == SIO_OK)
        rc = sio_eio_server_post_body(s, (const uint8_t *)body, strlen(body), now);
    return rc;
}

static sio_err upgrade(sio_eio_server *s, const char *transport, uint64_t now)
{
    sio_eio_request er;
    char target[256];
    snprintf(target, sizeof target, "/engine.io/?EIO=4&sid=" SID "&transport=%s", transport);
    sio_err rc = read_request("GET", target, WS_HEADERS, &er);
    return rc != SIO_OK ? rc : sio_eio_server_upgrade(s, &er, now);
}

static sio_err ws(sio_eio_server *s, sio_eio_channel ch, const char *text, uint64_t now)
{
    return sio_eio_server_ws_message(s, ch, true, (const uint8_t *)text, strlen(text), now);
}

static void finish(sio_eio_server *s)
{
    sio_eio_server_free(s);
    CHECK_EQ_INT(live_blocks, 0);
}

/* ------------------------------------------------------------------ request reader */

static void test_request_read(void)
{
    reset_config();
    sio_eio_request er;
    /* transport first, even for a POST without sid (EIO-HS-05) */
    CHECK_ERR(read_request("POST", "/e/?EIO=4&transport=carrier-pigeon", "", &er),
              SIO_ERR_EIO_TRANSPORT_UNKNOWN);
    CHECK_ERR(read_request("GET", "/e/?EIO=4", "", &er), SIO_ERR_EIO_TRANSPORT_UNKNOWN);
    CHECK_ERR(read_request("GET", "/e/?EIO=4&transport=websocket", "Upgrade: websocket\r\n", &er),
              SIO_ERR_EIO_WS_HANDSHAKE);
    CHECK(er.websocket);
    CHECK_ERR(read_request("POST", "/e/?EIO=4&transport=polling", "", &er), SIO_ERR_EIO_BAD_METHOD);
    CHECK_ERR(read_request("GET", "/e/?EIO=4&transport=websocket", "", &er),
              SIO_ERR_EIO_BAD_REQUEST); /* EIO-HS-07 */
    CHECK_ERR(read_request("GET", "/e/?EIO=4&transport=polling", WS_HEADERS, &er),
              SIO_ERR_EIO_BAD_REQUEST); /* EIO-HS-15 */
    CHECK_ERR(read_request("GET", "/e/?EIO=4&transport=websocket", WS_HEADERS, &er), SIO_OK);
    CHECK(er.kind == SIO_EIO_REQUEST_HANDSHAKE && er.websocket && er.protocol == 4);
    CHECK(strcmp(er.accept_key, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
    /* two Sec-WebSocket-Key lines (RFC 6455 section 11.3.1: at most one), same or different */
    static const char TWO_KEYS[] = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                   "sec-websocket-key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n"
                                   "Sec-WebSocket-Version: 13\r\n";
    CHECK_ERR(read_request("GET", "/e/?EIO=4&transport=websocket", TWO_KEYS, &er),
              SIO_ERR_EIO_WS_HANDSHAKE);
    static const char SAME_KEY_TWICE[] = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                         "Sec-WebSocket-Version: 13\r\n";
    CHECK_ERR(read_request("GET", "/e/?EIO=4&transport=websocket", SAME_KEY_TWICE, &er),
              SIO_ERR_EIO_WS_HANDSHAKE);
    CHECK_ERR(read_request("GET", "/e/?EIO=5&transport=polling", "", &er), SIO_OK);
    CHECK_EQ_INT(er.protocol, 0); /* reported, refused by open */
    CHECK_ERR(read_request("GET", "/e/?EIO=3&transport=polling&b64=1&j=a1b2", "", &er), SIO_OK);
    CHECK(er.protocol == 3 && er.b64 && er.jsonp && strcmp(er.jsonp_index, "12") == 0);
    cfg.allow_eio3 = false;
    CHECK_ERR(read_request("GET", "/e/?EIO=3&transport=polling", "", &er), SIO_OK);
    CHECK_EQ_INT(er.protocol, 0);
    CHECK_ERR(read_request("PUT", "/e/?EIO=4&transport=polling&sid=abc", "", &er), SIO_OK);
    CHECK(er.kind == SIO_EIO_REQUEST_POLL && er.method == SIO_EIO_METHOD_OTHER);
    CHECK(er.sid_len == 3 && memcmp(er.sid, "abc", 3) == 0);
    CHECK_ERR(read_request("POST", "/e/?EIO=4&transport=polling&sid=abc",
                           "Content-Type: application/octet-stream\r\nContent-Length: 3\r\n", &er),
              SIO_OK);
    CHECK(er.octet_stream && er.content_length == 3 && !er.chunked);
    CHECK_ERR(read_request("GET", "/e/?EIO=4&transport=websocket&sid=abc", WS_HEADERS, &er),
              SIO_OK);
    CHECK(er.kind == SIO_EIO_REQUEST_UPGRADE);
}

static void test_refusals(void)
{
    sio_eio_refusal r = sio_eio_refusal_for(SIO_ERR_EIO_TRANSPORT_UNKNOWN, false);
    CHECK(r.status == 400 && r.code == 0 && strcmp(r.message, "Transport unknown") == 0);
    r = sio_eio_refusal_for(SIO_ERR_EIO_TRANSPORT_UNKNOWN, true);
    CHECK(r.status == 400 && r.code == -1 && strcmp(r.message, "Transport unknown") == 0);
    r = sio_eio_refusal_for(SIO_ERR_EIO_SESSION_UNKNOWN, false);
    CHECK(r.code == 1 && strcmp(r.message, "Session ID unknown") == 0);
    CHECK_EQ_INT(sio_eio_refusal_for(SIO_ERR_EIO_BAD_METHOD, false).code, 2);
    CHECK_EQ_INT(sio_eio_refusal_for(SIO_ERR_EIO_BAD_REQUEST, false).code, 3);
    r = sio_eio_refusal_for(SIO_ERR_EIO_FORBIDDEN, false);
    CHECK(r.status == 403 && r.code == 4);
    CHECK_EQ_INT(sio_eio_refusal_for(SIO_ERR_EIO_UNSUPPORTED_PROTOCOL, false).code, 5);
    r = sio_eio_refusal_for(SIO_ERR_EIO_WS_HANDSHAKE, true);
    CHECK(r.status == 400 && r.code == -1 && strcmp(r.message, "Bad request") == 0);
    CHECK_EQ_INT(sio_eio_refusal_for(SIO_ERR_EIO_CHUNKED_POST, false).status, 411);
    CHECK_EQ_INT(sio_eio_refusal_for(SIO_ERR_EIO_PAYLOAD_TOO_LARGE, false).status, 413);
    CHECK_EQ_INT(sio_eio_refusal_for(SIO_ERR_EIO_BAD_METHOD_ON_SESSION, false).status, 500);
    CHECK_EQ_INT(sio_eio_refusal_for(SIO_ERR_EIO_SECOND_WEBSOCKET, false).status, 101);
    r = sio_eio_refusal_for(SIO_ERR_EIO_OVERLAPPING_GET, false);
    CHECK(r.status == 400 && r.code == -1 && r.message == NULL);
    CHECK(strcmp(sio_eio_close_reason_name(SIO_EIO_REASON_PING_TIMEOUT), "ping timeout") == 0);
    CHECK(strcmp(sio_eio_close_reason_name((sio_eio_close_reason)99), "unknown") == 0);
}

/* ------------------------------------------------------------------ open */

static void test_open(void)
{
    reset_config();
    sio_eio_server s;
    sio_eio_request er;
    CHECK_ERR(read_request("GET", "/e/?EIO=4&transport=polling", "", &er), SIO_OK);
    CHECK_ERR(sio_eio_server_open(&s, &cfg, &er, SID, strlen(SID), 0), SIO_OK);
    CHECK(sio_eio_server_state_of(&s) == SIO_EIO_SERVER_POLLING);
    char expect[512];
    snprintf(expect, sizeof expect, "RESPOND GET |%s\n", OPEN_POLLING);
    EXPECT_TRANSCRIPT(&s, expect);
    CHECK_EQ_INT(sio_eio_server_next_deadline(&s), 300); /* v4: first ping */
    CHECK_EQ_INT(sio_eio_server_protocol(&s), 4);
    CHECK_STR(sio_eio_server_sid(&s).ptr, sio_eio_server_sid(&s).len, SID);
    finish(&s);

    /* initial packet in the same first response (EIO-HS-21) */
    cfg.initial_packet = sio_span_of("hi", 2);
    open_polling(&s, "EIO=4&transport=polling");
    snprintf(expect, sizeof expect,
             "RESPOND GET |%s\x1e"
             "4hi\n",
             OPEN_POLLING);
    CHECK(strcmp(transcript, expect) == 0);
    finish(&s);
    cfg.initial_packet = SIO_SPAN_NULL;

    /* WebSocket: the open packet without upgrades is the first message */
    CHECK_ERR(read_request("GET", "/e/?EIO=4&transport=websocket", WS_HEADERS, &er), SIO_OK);
    CHECK_ERR(sio_eio_server_open(&s, &cfg, &er, SID, strlen(SID), 0), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "WS WS 0{\"sid\":\"" SID "\",\"upgrades\":[],\"pingInterval\":300,"
                          "\"pingTimeout\":200,\"maxPayload\":100}\n");
    CHECK(sio_eio_server_on_websocket(&s) && sio_eio_server_writable(&s));
    finish(&s);

    /* v3 text payload, client heartbeat: deadline pingInterval + pingTimeout */
    open_polling(&s, "EIO=3&transport=polling");
    CHECK(strncmp(transcript, "RESPOND GET |110:0{", 19) == 0); /* '<length>:' records */
    CHECK_EQ_INT(sio_eio_server_next_deadline(&s), 500);
    finish(&s);

    /* JSONP: the payload wrapped in ___eio[n]("...") */
    open_polling(&s, "EIO=4&transport=polling&j=7");
    CHECK(strncmp(transcript, "RESPOND GET |___eio[7](\"0{", 26) == 0);
    finish(&s);

    /* refused: unsupported version, or v3 when not allowed */
    CHECK_ERR(read_request("GET", "/e/?EIO=5&transport=polling", "", &er), SIO_OK);
    CHECK_ERR(sio_eio_server_open(&s, &cfg, &er, SID, strlen(SID), 0),
              SIO_ERR_EIO_UNSUPPORTED_PROTOCOL);
    CHECK_ERR(sio_eio_server_open(&s, &cfg, &er, SID, 0, 0), SIO_ERR_INVALID_ARGUMENT);
    finish(&s);
}

/* ------------------------------------------------------------------ polling */

static void test_polling_get(void)
{
    reset_config();
    sio_eio_server s;
    open_polling(&s, "EIO=4&transport=polling");
    CHECK(!sio_eio_server_writable(&s));
    CHECK_ERR(get(&s, 10), SIO_OK); /* held: nothing waits */
    EXPECT_TRANSCRIPT(&s, "");
    CHECK(sio_eio_server_writable(&s));
    CHECK_ERR(sio_eio_server_send(&s, false, (const uint8_t *)"a", 1, 11), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |4a\n");
    /* packets queued without a GET go together with the next one, binary as base64 */
    sio_eio_server_send(&s, false, (const uint8_t *)"b", 1, 12);
    sio_eio_server_send(&s, true, (const uint8_t *)"\x01\x02", 2, 12);
    EXPECT_TRANSCRIPT(&s, "");
    CHECK_ERR(get(&s, 13), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |4b\x1e"
                          "bAQI=\n");
    /* text holding the record separator cannot go into a v4 polling payload */
    CHECK_ERR(sio_eio_server_send(&s, false,
                                  (const uint8_t *)"a\x1e"
                                                   "b",
                                  3, 13),
              SIO_ERR_EIO_SEPARATOR_IN_TEXT);
    /* a second GET while one is held ends the session (EIO-POLL-01) */
    CHECK_ERR(get(&s, 14), SIO_OK);
    CHECK_ERR(get(&s, 15), SIO_ERR_EIO_OVERLAPPING_GET);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |1\nCLOSED transport error\n");
    CHECK_ERR(get(&s, 16), SIO_ERR_EIO_SESSION_CLOSED);
    CHECK_ERR(sio_eio_server_send(&s, false, (const uint8_t *)"x", 1, 16),
              SIO_ERR_EIO_SESSION_CLOSED);
    EXPECT_TRANSCRIPT(&s, ""); /* CLOSED is reported once */
    finish(&s);
}

static void test_polling_post(void)
{
    reset_config();
    sio_eio_server s;
    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(post(&s,
                   "4one\x1e"
                   "4two\x1e"
                   "6\x1e"
                   "bAQI=",
                   5),
              SIO_OK);
    EXPECT_TRANSCRIPT(&s, "MSG one\nMSG two\nBINMSG 2\nRESPOND POST |ok\n");
    /* chunked and oversized bodies are refused; the session goes on (EIO-POLL-05) */
    CHECK_ERR(poll(&s, "POST", "EIO=4&transport=polling", "Transfer-Encoding: chunked\r\n", 6),
              SIO_ERR_EIO_CHUNKED_POST);
    CHECK_ERR(poll(&s, "POST", "EIO=4&transport=polling", "Content-Length: 101\r\n", 6),
              SIO_ERR_EIO_PAYLOAD_TOO_LARGE);
    CHECK_ERR(poll(&s, "POST", "EIO=4&transport=polling", "Content-Length: 100\r\n", 6), SIO_OK);
    /* the wrong transport, another method */
    CHECK_ERR(poll(&s, "GET", "EIO=4&transport=websocket", "", 7), SIO_ERR_EIO_BAD_REQUEST);
    CHECK_ERR(poll(&s, "PUT", "EIO=4&transport=polling", "", 7), SIO_ERR_EIO_BAD_METHOD_ON_SESSION);
    /* a POST while one is open ends the session (EIO-POLL-02) */
    CHECK_ERR(get(&s, 8), SIO_OK);
    CHECK_ERR(poll(&s, "POST", "EIO=4&transport=polling", "Content-Length: 1\r\n", 8),
              SIO_ERR_EIO_OVERLAPPING_POST);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |1\nCLOSED transport error\n");
    finish(&s);

    /* a binary content type on v4 ends the session (EIO-PKT-14) */
    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(poll(&s, "POST", "EIO=4&transport=polling",
                   "Content-Type: application/octet-stream\r\nContent-Length: 1\r\n", 9),
              SIO_ERR_EIO_BINARY_POST);
    EXPECT_TRANSCRIPT(&s, "CLOSED transport error\n");
    finish(&s);
}

/* A bad record: the packets before it are delivered, then the session ends; the POST is still
 * answered before CLOSED (EIO-PKT-02/03). */
static void test_bad_payload(void)
{
    reset_config();
    sio_eio_server s;
    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(get(&s, 1), SIO_OK);
    CHECK_ERR(post(&s,
                   "4ok\x1e"
                   "9bad",
                   2),
              SIO_OK);
    EXPECT_TRANSCRIPT(&s, "MSG ok\nRESPOND GET |1\nRESPOND POST |ok\nCLOSED parse error\n");
    finish(&s);
}

/* "1" from the client: the held GET gets a noop (EIO-CL-01); packets after it are not read. */
static void test_client_close(void)
{
    reset_config();
    sio_eio_server s;
    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(get(&s, 1), SIO_OK);
    CHECK_ERR(post(&s,
                   "4a\x1e"
                   "1\x1e"
                   "4b",
                   2),
              SIO_OK);
    EXPECT_TRANSCRIPT(&s, "MSG a\nRESPOND GET |6\nRESPOND POST |ok\nCLOSED transport close\n");
    finish(&s);
}

/* ------------------------------------------------------------------ application close */

static void close_on_message(sio_eio_server *s, const sio_eio_server_event *ev)
{
    (void)ev;
    sio_eio_server_send(s, false, (const uint8_t *)"bye", 3, 3);
    sio_eio_server_close(s, 3);
}

static void test_application_close(void)
{
    reset_config();
    sio_eio_server s;
    /* polling, nothing queued: at once */
    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(get(&s, 1), SIO_OK);
    sio_eio_server_close(&s, 2);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |1\nCLOSED forced server close\n  by application\n");
    finish(&s);

    /* polling with packets queued: they go with the next GET, the GET after gets "1" */
    open_polling(&s, "EIO=4&transport=polling");
    sio_eio_server_send(&s, false, (const uint8_t *)"last", 4, 1);
    sio_eio_server_close(&s, 1);
    CHECK(!sio_eio_server_writable(&s));
    CHECK_ERR(sio_eio_server_send(&s, false, (const uint8_t *)"x", 1, 1),
              SIO_ERR_EIO_SESSION_CLOSED);
    CHECK_ERR(upgrade(&s, "websocket", 1), SIO_ERR_EIO_SESSION_UNKNOWN);
    EXPECT_TRANSCRIPT(&s, "");
    CHECK_ERR(get(&s, 2), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |4last\n");
    CHECK_ERR(get(&s, 3), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |1\nCLOSED forced server close\n  by application\n");
    finish(&s);

    /* closing, the client never fetches: the next ping deadline ends it */
    open_polling(&s, "EIO=4&transport=polling");
    sio_eio_server_send(&s, false, (const uint8_t *)"last", 4, 1);
    sio_eio_server_close(&s, 1);
    sio_eio_server_timeout(&s, 300);
    EXPECT_TRANSCRIPT(&s, "CLOSED forced server close\n  by application\n");
    finish(&s);

    /* a close during a POST takes effect after it; later messages are dropped, the answer
     * sent before the close still goes out with the next GET */
    open_polling(&s, "EIO=4&transport=polling");
    on_message = close_on_message;
    CHECK_ERR(post(&s,
                   "4a\x1e"
                   "4b",
                   3),
              SIO_OK);
    EXPECT_TRANSCRIPT(&s, "MSG a\nRESPOND POST |ok\n");
    CHECK_ERR(get(&s, 4), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |4bye\n");
    on_message = NULL;
    finish(&s);

    /* ... and a "1" after it ends the session with the client's reason (the application asked
     * first, so it is not told) */
    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(get(&s, 1), SIO_OK);
    on_message = close_on_message;
    CHECK_ERR(post(&s,
                   "4a\x1e"
                   "1",
                   3),
              SIO_OK);
    EXPECT_TRANSCRIPT(&s, "MSG a\nRESPOND GET |4bye\nRESPOND POST |ok\nCLOSED transport close\n"
                          "  by application\n");
    on_message = NULL;
    finish(&s);

    /* abort (shutdown) */
    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(get(&s, 1), SIO_OK);
    sio_eio_server_abort(&s, SIO_EIO_REASON_SERVER_SHUTDOWN, 2);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |1\nCLOSED server shutting down\n");
    finish(&s);
}

/* ------------------------------------------------------------------ upgrade */

static void test_upgrade(void)
{
    reset_config();
    sio_eio_server s;
    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(upgrade(&s, "websocket", 100), SIO_OK);
    CHECK(sio_eio_server_state_of(&s) == SIO_EIO_SERVER_PROBING);
    CHECK_EQ_INT(sio_eio_server_next_deadline(&s), 300); /* ping first, then the upgrade's 1100 */
    CHECK_ERR(upgrade(&s, "websocket", 101), SIO_ERR_EIO_SECOND_WEBSOCKET);
    CHECK_ERR(get(&s, 102), SIO_OK);
    CHECK_ERR(ws(&s, SIO_EIO_CHANNEL_PROBE, "2probe", 103), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "WS PROBE 3probe\nRESPOND GET |6\n"); /* EIO-UP-01/02 */
    CHECK(sio_eio_server_state_of(&s) == SIO_EIO_SERVER_PROBED);
    CHECK_ERR(get(&s, 104), SIO_OK); /* PROBED, nothing waits: a noop at once */
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |6\n");
    sio_eio_server_send(&s, false, (const uint8_t *)"queued", 6, 105);
    CHECK_ERR(get(&s, 106), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |4queued\n");
    CHECK_ERR(get(&s, 107), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |6\n");
    CHECK_ERR(post(&s, "4during", 108), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "MSG during\nRESPOND POST |ok\n");
    sio_eio_server_send(&s, false, (const uint8_t *)"pending", 7, 109);
    CHECK_ERR(get(&s, 110), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |4pending\n");
    sio_eio_server_send(&s, false, (const uint8_t *)"over ws", 7, 111);
    CHECK_ERR(get(&s, 112), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |4over ws\n");
    CHECK_ERR(get(&s, 113), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |6\n");
    sio_eio_server_send(&s, true, (const uint8_t *)"\x07", 1, 114);
    CHECK_ERR(ws(&s, SIO_EIO_CHANNEL_PROBE, "5", 115), SIO_OK); /* EIO-UP-03 */
    EXPECT_TRANSCRIPT(&s, "UPGRADED\nWSBIN WS 1\n");
    CHECK(sio_eio_server_state_of(&s) == SIO_EIO_SERVER_WEBSOCKET);
    CHECK_EQ_INT(sio_eio_server_next_deadline(&s), 300); /* the upgrade deadline is gone */
    CHECK_ERR(get(&s, 116), SIO_ERR_EIO_BAD_REQUEST);    /* polling is over */
    CHECK_ERR(upgrade(&s, "websocket", 117), SIO_ERR_EIO_SECOND_WEBSOCKET);
    CHECK_ERR(ws(&s, SIO_EIO_CHANNEL_WEBSOCKET, "4hello", 118), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "MSG hello\n");
    /* the application close over WebSocket is immediate */
    sio_eio_server_close(&s, 119);
    EXPECT_TRANSCRIPT(&s, "WSCLOSE WS 1000\nCLOSED forced server close\n  by application\n");
    finish(&s);
}

/* "5" without a probe completes the upgrade too (EIO-UP-06); a transport=polling WebSocket
 * is refused after the 101. */
static void test_upgrade_without_probe(void)
{
    reset_config();
    sio_eio_server s;
    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(upgrade(&s, "polling", 1), SIO_ERR_EIO_SECOND_WEBSOCKET);
    CHECK_ERR(upgrade(&s, "websocket", 1), SIO_OK);
    CHECK_ERR(get(&s, 1), SIO_OK); /* held while PROBING */
    EXPECT_TRANSCRIPT(&s, "");
    CHECK_ERR(ws(&s, SIO_EIO_CHANNEL_PROBE, "5", 2), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |6\nUPGRADED\n");
    finish(&s);
}

static void test_probe_failures(void)
{
    reset_config();
    sio_eio_server s;
    open_polling(&s, "EIO=4&transport=polling");
    /* anything but "2probe" / "5" closes the probe; polling goes on (EIO-UP-07) */
    CHECK_ERR(upgrade(&s, "websocket", 1), SIO_OK);
    CHECK_ERR(ws(&s, SIO_EIO_CHANNEL_PROBE, "4early", 2), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "WSCLOSE PROBE 1000\n");
    CHECK(sio_eio_server_state_of(&s) == SIO_EIO_SERVER_POLLING);
    CHECK_ERR(ws(&s, SIO_EIO_CHANNEL_PROBE, "5", 2), SIO_ERR_EIO_WRONG_STATE);
    /* a second "2probe" */
    CHECK_ERR(upgrade(&s, "websocket", 3), SIO_OK);
    CHECK_ERR(ws(&s, SIO_EIO_CHANNEL_PROBE, "2probe", 3), SIO_OK);
    CHECK_ERR(ws(&s, SIO_EIO_CHANNEL_PROBE, "2probe", 3), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "WS PROBE 3probe\nWSCLOSE PROBE 1000\n");
    /* an undecodable packet */
    CHECK_ERR(upgrade(&s, "websocket", 4), SIO_OK);
    CHECK_ERR(ws(&s, SIO_EIO_CHANNEL_PROBE, "9", 4), SIO_ERR_EIO_UNKNOWN_TYPE);
    EXPECT_TRANSCRIPT(&s, "WSCLOSE PROBE 1000\n");
    finish(&s);
}

/* The upgrade deadline alone, and the probe lost. */
static void test_probe_deadline_and_loss(void)
{
    reset_config();
    cfg.upgrade_timeout_ms = 100;
    sio_eio_server s;
    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(upgrade(&s, "websocket", 10), SIO_OK);
    CHECK_EQ_INT(sio_eio_server_next_deadline(&s), 110);
    sio_eio_server_timeout(&s, 109);
    EXPECT_TRANSCRIPT(&s, "");
    sio_eio_server_timeout(&s, 110);
    EXPECT_TRANSCRIPT(&s, "WSCLOSE PROBE 1000\n");
    CHECK(sio_eio_server_state_of(&s) == SIO_EIO_SERVER_POLLING);
    CHECK_ERR(upgrade(&s, "websocket", 120), SIO_OK);
    sio_eio_server_channel_lost(&s, SIO_EIO_CHANNEL_PROBE, 121);
    EXPECT_TRANSCRIPT(&s, "");
    CHECK(sio_eio_server_state_of(&s) == SIO_EIO_SERVER_POLLING);
    CHECK_EQ_INT(sio_eio_server_next_deadline(&s), 300);
    finish(&s);
}

/* ------------------------------------------------------------------ heartbeat */

static void test_heartbeat_v4(void)
{
    reset_config();
    sio_eio_server s;
    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(get(&s, 1), SIO_OK);
    sio_eio_server_timeout(&s, 299);
    EXPECT_TRANSCRIPT(&s, "");
    sio_eio_server_timeout(&s, 300); /* EIO-HB-01 */
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |2\n");
    CHECK_EQ_INT(sio_eio_server_next_deadline(&s), 500);
    CHECK_ERR(post(&s, "3", 350), SIO_OK); /* EIO-HB-02: next ping pingInterval later */
    EXPECT_TRANSCRIPT(&s, "RESPOND POST |ok\n");
    CHECK_EQ_INT(sio_eio_server_next_deadline(&s), 650);
    CHECK_ERR(post(&s, "3", 360), SIO_OK); /* unsolicited: harmless (EIO-HB-06) */
    EXPECT_TRANSCRIPT(&s, "RESPOND POST |ok\n");
    CHECK_EQ_INT(sio_eio_server_next_deadline(&s), 650);
    sio_eio_server_timeout(&s, 650);
    CHECK_ERR(get(&s, 651), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |2\n");
    CHECK_ERR(get(&s, 652), SIO_OK);
    sio_eio_server_timeout(&s, 850); /* EIO-HB-03 */
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |1\nCLOSED ping timeout\n");
    CHECK_EQ_INT(sio_eio_server_next_deadline(&s), UINT64_MAX);
    finish(&s);

    /* a ping from the client is the wrong direction in v4 (EIO-HB-05) */
    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(post(&s, "2", 1), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND POST |ok\nCLOSED transport error\n");
    finish(&s);
}

static void test_heartbeat_v3(void)
{
    reset_config();
    sio_eio_server s;
    open_polling(&s, "EIO=3&transport=polling");
    CHECK_ERR(poll(&s, "GET", "EIO=3&transport=polling", "", 1), SIO_OK);
    char body[] = "1:2";
    CHECK_ERR(poll(&s, "POST", "EIO=3&transport=polling", "Content-Length: 3\r\n", 400), SIO_OK);
    CHECK_ERR(sio_eio_server_post_body(&s, (const uint8_t *)body, 3, 400), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |1:3\nRESPOND POST |ok\n"); /* EIO-HB-08 */
    CHECK_EQ_INT(sio_eio_server_next_deadline(&s), 900);
    sio_eio_server_timeout(&s, 900);
    EXPECT_TRANSCRIPT(&s, "CLOSED ping timeout\n");
    finish(&s);

    /* a pong from a v3 client is the wrong direction */
    open_polling(&s, "EIO=3&transport=polling");
    CHECK_ERR(poll(&s, "POST", "EIO=3&transport=polling", "Content-Length: 3\r\n", 1), SIO_OK);
    CHECK_ERR(sio_eio_server_post_body(&s, (const uint8_t *)"1:3", 3, 1), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND POST |ok\nCLOSED transport error\n");
    finish(&s);

    /* v3 binary (XHR2) bodies both ways */
    open_polling(&s, "EIO=3&transport=polling");
    static const uint8_t xhr2[] = {1, 2, 0xff, 4, 9};
    CHECK_ERR(poll(&s, "POST", "EIO=3&transport=polling",
                   "Content-Type: application/octet-stream\r\nContent-Length: 5\r\n", 1),
              SIO_OK);
    CHECK_ERR(sio_eio_server_post_body(&s, xhr2, sizeof xhr2, 1), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "BINMSG 1\nRESPOND POST |ok\n");
    finish(&s);
}

/* ------------------------------------------------------------------ WebSocket */

static void open_ws(sio_eio_server *s, const char *query)
{
    sio_eio_request er;
    char target[128];
    snprintf(target, sizeof target, "/e/?%s", query);
    CHECK_ERR(read_request("GET", target, WS_HEADERS, &er), SIO_OK);
    CHECK_ERR(sio_eio_server_open(s, &cfg, &er, SID, strlen(SID), 0), SIO_OK);
    transcript[0] = '\0';
    drain(s);
}

static void test_websocket(void)
{
    reset_config();
    sio_eio_server s;
    open_ws(&s, "EIO=4&transport=websocket");
    CHECK_ERR(sio_eio_server_send(&s, true, (const uint8_t *)"\x01\x02\x03", 3, 1), SIO_OK);
    CHECK_ERR(sio_eio_server_send(&s, false, (const uint8_t *)"\xff", 1, 1), SIO_ERR_UTF8_INVALID);
    /* over WebSocket the record separator travels as it is (EIO-PKT-11) */
    CHECK_ERR(sio_eio_server_send(&s, false,
                                  (const uint8_t *)"a\x1e"
                                                   "b",
                                  3, 1),
              SIO_OK);
    sio_eio_server_timeout(&s, 300);
    EXPECT_TRANSCRIPT(&s, "WSBIN WS 3\nWS WS 4a\x1e"
                          "b\nWS WS 2\n");
    CHECK_ERR(sio_eio_server_ws_message(&s, SIO_EIO_CHANNEL_WEBSOCKET, false,
                                        (const uint8_t *)"\x09", 1, 301),
              SIO_OK);
    EXPECT_TRANSCRIPT(&s, "BINMSG 1\n");
    CHECK_ERR(ws(&s, SIO_EIO_CHANNEL_WEBSOCKET, "9", 302), SIO_ERR_EIO_UNKNOWN_TYPE);
    EXPECT_TRANSCRIPT(&s, "WSCLOSE WS 1000\nCLOSED parse error\n");
    finish(&s);

    /* b64: binary goes out as 'b' text and comes in as 'b' text (EIO-PKT-10) */
    open_ws(&s, "EIO=4&transport=websocket&b64=1");
    sio_eio_server_send(&s, true, (const uint8_t *)"\x01\x02", 2, 1);
    CHECK_ERR(ws(&s, SIO_EIO_CHANNEL_WEBSOCKET, "bAQID", 2), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "WS WS bAQI=\nBINMSG 3\n");
    CHECK_ERR(ws(&s, SIO_EIO_CHANNEL_WEBSOCKET, "1", 3), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "WSCLOSE WS 1000\nCLOSED transport close\n");
    finish(&s);

    /* the WebSocket lost */
    open_ws(&s, "EIO=4&transport=websocket");
    sio_eio_server_channel_lost(&s, SIO_EIO_CHANNEL_WEBSOCKET, 1);
    EXPECT_TRANSCRIPT(&s, "CLOSED transport close\n");
    finish(&s);

    /* a base64 record that does not decode, over polling */
    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(post(&s, "b!!!!", 1), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND POST |ok\nCLOSED parse error\n");
    finish(&s);
}

/* JSONP polling: POST bodies come form-encoded as d=... (EIO-PKT-20); a session ending while
 * probing closes the probe too. */
static void test_jsonp_and_probe_at_end(void)
{
    reset_config();
    sio_eio_server s;
    open_polling(&s, "EIO=4&transport=polling&j=0");
    CHECK_ERR(post(&s, "d=4hello%20there", 1), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "MSG hello there\nRESPOND POST |ok\n");
    CHECK_ERR(get(&s, 2), SIO_OK);
    sio_eio_server_send(&s, false, (const uint8_t *)"x", 1, 3);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |___eio[0](\"4x\");\n");
    CHECK_ERR(post(&s, "e=4", 4), SIO_OK); /* no d field: an empty body, which does not decode */
    EXPECT_TRANSCRIPT(&s, "RESPOND POST |ok\nCLOSED parse error\n");
    finish(&s);

    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(upgrade(&s, "websocket", 1), SIO_OK);
    sio_eio_server_abort(&s, SIO_EIO_REASON_SERVER_SHUTDOWN, 2);
    EXPECT_TRANSCRIPT(&s, "WSCLOSE PROBE 1000\nCLOSED server shutting down\n");
    finish(&s);
}

/* The bytes of each binary message, in hex, on the line after its BINMSG. */
static void say_bytes(sio_eio_server *s, const sio_eio_server_event *ev)
{
    (void)s;
    if (!ev->binary)
        return;
    char hex[2 * 16 + 1] = "";
    for (size_t i = 0; i < ev->data.len && i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", ev->data.ptr[i]);
    say("  %s%.*s\n", hex, 0, "");
}

/* A JSONP body is decoded into a buffer of its own: the base64 records in it are decoded one
 * after the other while the rest of the body is still read (a JSONP body and a base64 record
 * once shared one buffer, so the second record freed the body being read). */
static void test_jsonp_base64_records(void)
{
    static const struct {
        const char *query, *body, *transcript;
    } cases[] = {
        /* v3: 6:b4AQID6:b4AQID2:40, form-encoded */
        {"EIO=3&transport=polling&j=0", "d=6%3Ab4AQID6%3Ab4AQID2%3A40",
         "BINMSG 3\n  010203\nBINMSG 3\n  010203\nMSG 0\nRESPOND POST |ok\n"},
        /* v3: text around two different records, one last */
        {"EIO=3&transport=polling&j=1", "d=2%3A4a6%3Ab4AQID2%3A4b6%3Ab4BAUG",
         "MSG a\nBINMSG 3\n  010203\nMSG b\nBINMSG 3\n  040506\nRESPOND POST |ok\n"},
        /* v3 with b64=1: a lone record */
        {"EIO=3&transport=polling&b64=1&j=2", "d=6%3Ab4BAUG",
         "BINMSG 3\n  040506\nRESPOND POST |ok\n"},
        /* v4: records separated by \x1e */
        {"EIO=4&transport=polling&j=0", "d=4a%1EbAQID%1EbBAUG%1E4z",
         "MSG a\nBINMSG 3\n  010203\nBINMSG 3\n  040506\nMSG z\nRESPOND POST |ok\n"},
        {"EIO=4&transport=polling&j=0", "d=bAQID%1EbBAUG",
         "BINMSG 3\n  010203\nBINMSG 3\n  040506\nRESPOND POST |ok\n"},
        /* a record that does not decode after one that did: the session ends after the first */
        {"EIO=4&transport=polling&j=0", "d=bAQID%1Eb!!!!%1E4z",
         "BINMSG 3\n  010203\nRESPOND POST |ok\nCLOSED parse error\n"},
    };
    reset_config();
    on_message = say_bytes;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sio_eio_server s;
        open_polling(&s, cases[i].query);
        CHECK_ERR(post(&s, cases[i].body, 1), SIO_OK);
        EXPECT_TRANSCRIPT(&s, cases[i].transcript);
        finish(&s);
    }
    on_message = NULL;
}

static void test_channel_loss(void)
{
    reset_config();
    sio_eio_server s;
    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(get(&s, 1), SIO_OK);
    sio_eio_server_channel_lost(&s, SIO_EIO_CHANNEL_GET, 2); /* EIO-POLL-03 */
    EXPECT_TRANSCRIPT(&s, "CLOSED transport close\n");
    finish(&s);

    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(poll(&s, "POST", "EIO=4&transport=polling", "Content-Length: 9\r\n", 1), SIO_OK);
    sio_eio_server_channel_lost(&s, SIO_EIO_CHANNEL_POST, 2);
    EXPECT_TRANSCRIPT(&s, "CLOSED transport close\n");
    finish(&s);

    open_polling(&s, "EIO=4&transport=polling");
    sio_eio_server_channel_lost(&s, SIO_EIO_CHANNEL_GET, 2); /* not held: nothing happens */
    EXPECT_TRANSCRIPT(&s, "");
    CHECK_ERR(sio_eio_server_post_body(&s, (const uint8_t *)"4x", 2, 3), SIO_ERR_EIO_WRONG_STATE);
    finish(&s);
}

/* ------------------------------------------------------------------ limits and memory */

static void test_queue_bound(void)
{
    reset_config();
    cfg.max_queued = 3;
    sio_eio_server s;
    open_polling(&s, "EIO=4&transport=polling");
    for (int i = 0; i < 3; i++)
        CHECK_ERR(sio_eio_server_send(&s, false, (const uint8_t *)"x", 1, 1), SIO_OK);
    CHECK_ERR(sio_eio_server_send(&s, false, (const uint8_t *)"y", 1, 1), SIO_ERR_EIO_QUEUE_FULL);
    CHECK_ERR(get(&s, 2), SIO_OK);
    EXPECT_TRANSCRIPT(&s, "RESPOND GET |4x\x1e"
                          "4x\x1e"
                          "4x\n");
    finish(&s);
}

/* Every allocation failure ends the session cleanly: CLOSED with the channels it could not
 * answer, and no block left behind. */
static void test_out_of_memory(void)
{
    reset_config();
    for (long budget = 0; budget < 12; budget++) {
        sio_eio_server s;
        sio_eio_request er;
        CHECK_ERR(read_request("GET", "/e/?EIO=4&transport=polling", "", &er), SIO_OK);
        fail_after = budget;
        sio_err rc = sio_eio_server_open(&s, &cfg, &er, SID, strlen(SID), 0);
        CHECK(rc == SIO_OK || rc == SIO_ERR_NO_MEMORY);
        transcript[0] = '\0';
        drain(&s);
        if (sio_eio_server_state_of(&s) != SIO_EIO_SERVER_CLOSED) {
            get(&s, 1);
            sio_eio_server_send(&s, false, (const uint8_t *)"m", 1, 1);
            post(&s,
                 "4a\x1e"
                 "bAQI=",
                 2);
            transcript[0] = '\0';
            drain(&s);
        }
        fail_after = -1;
        sio_eio_server_free(&s);
        CHECK_EQ_INT(live_blocks, 0);
    }
    /* a closed session reports the channels left unanswered */
    sio_eio_server s;
    open_polling(&s, "EIO=4&transport=polling");
    CHECK_ERR(get(&s, 1), SIO_OK);
    fail_after = 0;
    CHECK_ERR(sio_eio_server_send(&s, false, (const uint8_t *)"m", 1, 2), SIO_ERR_NO_MEMORY);
    fail_after = -1;
    sio_eio_server_event ev;
    sio_eio_server_next_event(&s, &ev);
    CHECK(ev.type == SIO_EIO_SERVER_EV_CLOSED && ev.channels_left == 1u << SIO_EIO_CHANNEL_GET);
    finish(&s);
}

int main(void)
{
    test_request_read();
    test_refusals();
    test_open();
    test_polling_get();
    test_polling_post();
    test_bad_payload();
    test_client_close();
    test_application_close();
    test_upgrade();
    test_upgrade_without_probe();
    test_probe_failures();
    test_probe_deadline_and_loss();
    test_heartbeat_v4();
    test_heartbeat_v3();
    test_websocket();
    test_jsonp_and_probe_at_end();
    test_jsonp_base64_records();
    test_channel_loss();
    test_queue_bound();
    test_out_of_memory();
    CHECK_DONE();
}
