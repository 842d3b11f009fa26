/* The Socket.IO server session: every row of the transition table in sio/sio_server.h, on top
 * of a real Engine.IO server session over WebSocket (what the Engine.IO session is asked to
 * send is read back from its events), and memory (every allocation released). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "counting_alloc.h"
#include "sio/sio_server.h"

static sio_eio_server_config eio_cfg;
static sio_sio_server_config sio_cfg;
static char sent[4096]; /* what the Engine.IO session sent, one message a line */

/* An Engine.IO session over WebSocket (v4, or v3 for Socket.IO v4), its open packet read. */
static void open_eio(sio_eio_server *eio, int protocol)
{
    sio_eio_server_config_init(&eio_cfg);
    eio_cfg.allow_eio3 = true;
    eio_cfg.alloc = &counting;
    sio_eio_request er;
    memset(&er, 0, sizeof er);
    er.kind = SIO_EIO_REQUEST_HANDSHAKE;
    er.protocol = protocol;
    er.websocket = true;
    CHECK_ERR(sio_eio_server_open(eio, &eio_cfg, &er, "sid", 3, 0), SIO_OK);
    sio_eio_server_event ev;
    sio_eio_server_next_event(eio, &ev); /* the open packet */
    sio_eio_server_next_event(eio, &ev);
    CHECK(ev.type == SIO_EIO_SERVER_EV_NONE);
}

/* Reads what the Socket.IO session made the Engine.IO session send: text messages as they
 * are (without the Engine.IO type), binary ones as "<n bytes>", a close as "CLOSE". */
static const char *sent_by(sio_eio_server *eio)
{
    sent[0] = '\0';
    sio_eio_server_event ev;
    for (;;) {
        sio_eio_server_next_event(eio, &ev);
        size_t used = strlen(sent);
        if (ev.type == SIO_EIO_SERVER_EV_NONE)
            break;
        if (ev.type == SIO_EIO_SERVER_EV_WS_SEND && ev.binary)
            snprintf(sent + used, sizeof sent - used, "<%zu bytes>\n", ev.data.len);
        else if (ev.type == SIO_EIO_SERVER_EV_WS_SEND)
            snprintf(sent + used, sizeof sent - used, "%.*s\n", (int)ev.data.len - 1,
                     (const char *)ev.data.ptr + 1);
        else if (ev.type == SIO_EIO_SERVER_EV_CLOSED)
            snprintf(sent + used, sizeof sent - used, "CLOSED\n");
        else if (ev.type == SIO_EIO_SERVER_EV_WS_CLOSE)
            snprintf(sent + used, sizeof sent - used, "CLOSE\n");
    }
    return sent;
}

#define EXPECT_SENT(eio, text)                                                                     \
    do {                                                                                           \
        const char *got_ = sent_by(eio);                                                           \
        if (strcmp(got_, text) != 0)                                                               \
            fprintf(stderr, "%s:%d: sent:\n%s--- expected:\n%s", __FILE__, __LINE__, got_, text);  \
        CHECK(strcmp(got_, text) == 0);                                                            \
    } while (0)

static void receive(sio_sio_server *s, const char *text, sio_sio_server_event *ev)
{
    sio_sio_server_receive(s, false, (const uint8_t *)text, strlen(text), 1, ev);
}

static bool span_is(sio_span s, const char *text)
{
    return s.len == strlen(text) && memcmp(s.ptr, text, s.len) == 0;
}

static void start(sio_eio_server *eio, sio_sio_server *s, int eio_protocol)
{
    open_eio(eio, eio_protocol);
    sio_sio_server_config_init(&sio_cfg);
    sio_cfg.connect_timeout_ms = 1000;
    sio_cfg.alloc = &counting;
    sio_sio_server_event ev;
    CHECK_ERR(sio_sio_server_open(s, &sio_cfg, eio, 0, &ev), SIO_OK);
    CHECK(ev.type == (eio_protocol == 3 ? SIO_SIO_SERVER_EV_CONNECT : SIO_SIO_SERVER_EV_NONE));
}

static void finish(sio_eio_server *eio, sio_sio_server *s)
{
    sio_sio_server_free(s);
    sio_eio_server_free(eio);
    CHECK_EQ_INT(live_blocks, 0);
}

static int user_a, user_b;

/* ------------------------------------------------------------------ namespaces */

static void test_connect_accept_refuse(void)
{
    sio_eio_server eio;
    sio_sio_server s;
    sio_sio_server_event ev;
    start(&eio, &s, 4);
    CHECK(sio_sio_server_state_of(&s) == SIO_SIO_SERVER_WAITING);
    CHECK_EQ_INT(sio_sio_server_next_deadline(&s), 1000);
    receive(&s, "0", &ev);
    CHECK(ev.type == SIO_SIO_SERVER_EV_CONNECT && span_is(ev.nsp, "/") && span_is(ev.data, "{}"));
    CHECK_ERR(sio_sio_server_accept(&s, ev.nsp, sio_span_of("abc", 3), &user_a, 1), SIO_OK);
    EXPECT_SENT(&eio, "0{\"sid\":\"abc\"}\n");
    CHECK(sio_sio_server_state_of(&s) == SIO_SIO_SERVER_JOINED);
    CHECK_EQ_INT(sio_sio_server_next_deadline(&s), UINT64_MAX);
    CHECK(sio_sio_server_joined(&s, sio_span_of("/", 1)));
    CHECK_ERR(sio_sio_server_accept(&s, sio_span_of("/", 1), sio_span_of("x", 1), NULL, 1),
              SIO_ERR_SIO_WRONG_STATE);
    /* a namespace with auth, refused */
    receive(&s, "0/auth,{\"token\":\"no\"}", &ev);
    CHECK(ev.type == SIO_SIO_SERVER_EV_CONNECT && span_is(ev.nsp, "/auth"));
    CHECK(span_is(ev.data, "{\"token\":\"no\"}"));
    static const char refusal[] = "{\"message\":\"not authorized\"}";
    CHECK_ERR(sio_sio_server_refuse(&s, ev.nsp, sio_span_of(refusal, sizeof refusal - 1)), SIO_OK);
    EXPECT_SENT(&eio, "4/auth,{\"message\":\"not authorized\"}\n");
    CHECK(!sio_sio_server_joined(&s, sio_span_of("/auth", 5)));
    /* ... and later accepted */
    receive(&s, "0/auth,{\"token\":\"ok\"}", &ev);
    CHECK_ERR(sio_sio_server_accept(&s, ev.nsp, sio_span_of("def", 3), &user_b, 2), SIO_OK);
    EXPECT_SENT(&eio, "0/auth,{\"sid\":\"def\"}\n");
    /* a second CONNECT to a joined namespace closes the connection (SIO-NSP-05) */
    receive(&s, "0/auth,", &ev);
    CHECK(ev.type == SIO_SIO_SERVER_EV_CLOSE && ev.error == SIO_ERR_SIO_DUPLICATE_CONNECT);
    CHECK(strcmp(ev.why, "duplicate CONNECT") == 0 && ev.reason == SIO_EIO_REASON_FORCED_CLOSE);
    CHECK(sio_sio_server_state_of(&s) == SIO_SIO_SERVER_CLOSED);
    EXPECT_SENT(&eio, "CLOSE\nCLOSED\n");
    receive(&s, "2[\"late\"]", &ev); /* after CLOSE: nothing */
    CHECK(ev.type == SIO_SIO_SERVER_EV_NONE);
    finish(&eio, &s);
}

static void test_v4(void)
{
    sio_eio_server eio;
    sio_sio_server s;
    sio_sio_server_event ev;
    open_eio(&eio, 3);
    sio_sio_server_config_init(&sio_cfg);
    sio_cfg.alloc = &counting;
    CHECK_ERR(sio_sio_server_open(&s, &sio_cfg, &eio, 0, &ev), SIO_OK);
    CHECK_EQ_INT(sio_sio_server_protocol(&s), 4);
    CHECK(ev.type == SIO_SIO_SERVER_EV_CONNECT && span_is(ev.nsp, "/") && span_is(ev.data, "{}"));
    CHECK_ERR(sio_sio_server_accept(&s, ev.nsp, SIO_SPAN_NULL, &user_a, 1), SIO_OK);
    EXPECT_SENT(&eio, "0\n"); /* v4 replies without data */
    /* v4 auth travels as a query in the namespace (SIO-PKT-19 b) */
    receive(&s, "0/custom?token=abc&x=%41", &ev);
    CHECK(ev.type == SIO_SIO_SERVER_EV_CONNECT && span_is(ev.nsp, "/custom"));
    CHECK(span_is(ev.data, "{\"token\":\"abc\",\"x\":\"A\"}"));
    CHECK_ERR(sio_sio_server_accept(&s, ev.nsp, SIO_SPAN_NULL, &user_b, 1), SIO_OK);
    EXPECT_SENT(&eio, "0/custom,\n");
    /* the unknown-namespace refusal keeps its object form for v4 clients too */
    receive(&s, "0/nope", &ev);
    static const char invalid[] = "{\"message\":\"Invalid namespace\"}";
    CHECK_ERR(sio_sio_server_refuse(&s, ev.nsp, sio_span_of(invalid, sizeof invalid - 1)), SIO_OK);
    EXPECT_SENT(&eio, "4/nope,{\"message\":\"Invalid namespace\"}\n");
    finish(&eio, &s);
}

/* ------------------------------------------------------------------ packets */

static void test_events_and_acks(void)
{
    sio_eio_server eio;
    sio_sio_server s;
    sio_sio_server_event ev;
    start(&eio, &s, 4);
    receive(&s, "0", &ev);
    sio_sio_server_accept(&s, ev.nsp, sio_span_of("a", 1), &user_a, 1);
    sent_by(&eio);
    receive(&s, "2[\"hello\",1]", &ev);
    CHECK(ev.type == SIO_SIO_SERVER_EV_EVENT && ev.nsp_user == &user_a && !ev.has_id);
    CHECK(span_is(ev.data, "[\"hello\",1]"));
    receive(&s, "27[\"ask\"]", &ev);
    CHECK(ev.type == SIO_SIO_SERVER_EV_EVENT && ev.has_id && ev.id == 7);
    CHECK_ERR(sio_sio_server_emit(&s, sio_span_of("/", 1), true, sio_span_of("[\"ok\"]", 6), NULL,
                                  0, true, 7, 2),
              SIO_OK);
    EXPECT_SENT(&eio, "37[\"ok\"]\n");
    /* server -> client ack: awaited once (SIO-ACK-03) */
    CHECK_ERR(sio_sio_server_emit(&s, sio_span_of("/", 1), false, sio_span_of("[\"q\"]", 5), NULL,
                                  0, true, 0, 3),
              SIO_OK);
    EXPECT_SENT(&eio, "20[\"q\"]\n");
    receive(&s, "31[1]", &ev); /* unknown id */
    CHECK(ev.type == SIO_SIO_SERVER_EV_NONE);
    receive(&s, "30", &ev); /* no arguments: "[]" */
    CHECK(ev.type == SIO_SIO_SERVER_EV_ACK && ev.id == 0 && span_is(ev.data, "[]"));
    receive(&s, "30[2]", &ev); /* replayed */
    CHECK(ev.type == SIO_SIO_SERVER_EV_NONE);
    /* an ack the server stopped waiting for */
    sio_sio_server_emit(&s, sio_span_of("/", 1), false, sio_span_of("[\"q\"]", 5), NULL, 0, true, 1,
                        3);
    sent_by(&eio);
    sio_sio_server_forget_ack(&s, sio_span_of("/", 1), 1);
    receive(&s, "31[]", &ev);
    CHECK(ev.type == SIO_SIO_SERVER_EV_NONE);
    /* binary both ways: the header waits for its attachments (SIO-PKT-12) */
    receive(&s, "51-[\"up\",{\"_placeholder\":true,\"num\":0}]", &ev);
    CHECK(ev.type == SIO_SIO_SERVER_EV_NONE);
    sio_sio_server_receive(&s, true, (const uint8_t *)"\x01\x02", 2, 4, &ev);
    CHECK(ev.type == SIO_SIO_SERVER_EV_EVENT && ev.attachment_count == 1);
    CHECK(ev.attachments[0].len == 2 && ev.attachments[0].ptr[1] == 2);
    const sio_span att = sio_span_of("\x09", 1);
    CHECK_ERR(sio_sio_server_emit(&s, sio_span_of("/", 1), false,
                                  sio_span_of("[\"b\",{\"_placeholder\":true,\"num\":0}]", 35),
                                  &att, 1, false, 0, 5),
              SIO_OK);
    EXPECT_SENT(&eio, "51-[\"b\",{\"_placeholder\":true,\"num\":0}]\n<1 bytes>\n");
    /* sending to a namespace not joined */
    CHECK_ERR(sio_sio_server_emit(&s, sio_span_of("/x", 2), false, sio_span_of("[\"b\"]", 5), NULL,
                                  0, false, 0, 5),
              SIO_ERR_SIO_NOT_JOINED);
    finish(&eio, &s);
}

static void test_disconnects(void)
{
    sio_eio_server eio;
    sio_sio_server s;
    sio_sio_server_event ev;
    start(&eio, &s, 4);
    receive(&s, "0/custom,", &ev);
    sio_sio_server_accept(&s, ev.nsp, sio_span_of("c", 1), &user_b, 1);
    sent_by(&eio);
    receive(&s, "1/custom,", &ev); /* SIO-DC-01: no reply */
    CHECK(ev.type == SIO_SIO_SERVER_EV_DISCONNECT && ev.nsp_user == &user_b);
    CHECK(span_is(ev.nsp, "/custom"));
    EXPECT_SENT(&eio, "");
    CHECK(sio_sio_server_state_of(&s) == SIO_SIO_SERVER_JOINED);
    CHECK_EQ_INT(sio_sio_server_next_deadline(&s), UINT64_MAX);
    /* server-side namespace disconnect (SIO-DC-03) */
    receive(&s, "0/custom,", &ev);
    sio_sio_server_accept(&s, ev.nsp, sio_span_of("d", 1), &user_b, 1);
    sent_by(&eio);
    CHECK_ERR(sio_sio_server_disconnect(&s, sio_span_of("/custom", 7), 2), SIO_OK);
    EXPECT_SENT(&eio, "1/custom,\n");
    CHECK_ERR(sio_sio_server_disconnect(&s, sio_span_of("/custom", 7), 2), SIO_ERR_SIO_NOT_JOINED);
    /* then a packet for it is a violation */
    receive(&s, "2/custom,[\"x\"]", &ev);
    CHECK(ev.type == SIO_SIO_SERVER_EV_CLOSE && ev.error == SIO_ERR_SIO_NOT_JOINED);
    EXPECT_SENT(&eio, "CLOSE\nCLOSED\n");
    finish(&eio, &s);

    /* close(): the Engine.IO session closes */
    start(&eio, &s, 4);
    sio_sio_server_close(&s, 1);
    CHECK(sio_sio_server_state_of(&s) == SIO_SIO_SERVER_CLOSED);
    EXPECT_SENT(&eio, "CLOSE\nCLOSED\n");
    finish(&eio, &s);
}

static void test_violations(void)
{
    static const char *const bad[] = {"4{\"message\":\"x\"}", /* CONNECT_ERROR from the client */
                                      "2/other,[\"x\"]",      /* namespace not joined */
                                      "9",                    /* undecodable */
                                      "2[\"x\"",              /* bad JSON */
                                      NULL};
    static const sio_err codes[] = {SIO_ERR_SIO_CONNECT_ERROR_FROM_CLIENT, SIO_ERR_SIO_NOT_JOINED,
                                    SIO_ERR_PKT_TYPE, SIO_ERR_JSON_TRUNCATED};
    for (int i = 0; bad[i]; i++) {
        sio_eio_server eio;
        sio_sio_server s;
        sio_sio_server_event ev;
        start(&eio, &s, 4);
        receive(&s, "0", &ev);
        sio_sio_server_accept(&s, ev.nsp, sio_span_of("a", 1), &user_a, 1);
        sent_by(&eio);
        receive(&s, bad[i], &ev);
        CHECK(ev.type == SIO_SIO_SERVER_EV_CLOSE);
        CHECK_ERR(ev.error, codes[i]);
        CHECK(ev.why != NULL && ev.reason == SIO_EIO_REASON_FORCED_CLOSE);
        finish(&eio, &s);
    }
    /* a namespace longer than the bound, and at the bound */
    sio_eio_server eio;
    sio_sio_server s;
    sio_sio_server_event ev;
    char packet[600];
    start(&eio, &s, 4);
    snprintf(packet, sizeof packet, "0/%0*d,", (int)sio_cfg.max_namespace - 1, 0);
    receive(&s, packet, &ev);
    CHECK(ev.type == SIO_SIO_SERVER_EV_CONNECT && ev.nsp.len == sio_cfg.max_namespace);
    snprintf(packet, sizeof packet, "0/%0*d,", (int)sio_cfg.max_namespace, 0);
    receive(&s, packet, &ev);
    CHECK(ev.type == SIO_SIO_SERVER_EV_CLOSE && ev.error == SIO_ERR_SIO_NAMESPACE_TOO_LONG);
    finish(&eio, &s);
    /* a binary message nobody announced */
    start(&eio, &s, 4);
    sio_sio_server_receive(&s, true, (const uint8_t *)"x", 1, 1, &ev);
    CHECK(ev.type == SIO_SIO_SERVER_EV_CLOSE && ev.error == SIO_ERR_PKT_UNEXPECTED_BINARY);
    finish(&eio, &s);
    /* text while attachments are awaited; the copies of the pending packet are freed */
    start(&eio, &s, 4);
    receive(&s, "0", &ev);
    sio_sio_server_accept(&s, ev.nsp, sio_span_of("a", 1), &user_a, 1);
    receive(&s, "52-[\"up\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]",
            &ev);
    sio_sio_server_receive(&s, true, (const uint8_t *)"\x01", 1, 1, &ev);
    receive(&s, "2[\"x\"]", &ev);
    CHECK(ev.type == SIO_SIO_SERVER_EV_CLOSE && ev.error == SIO_ERR_PKT_TEXT_DURING_BINARY);
    finish(&eio, &s);
}

static void test_connect_deadline(void)
{
    sio_eio_server eio;
    sio_sio_server s;
    sio_sio_server_event ev;
    start(&eio, &s, 4);
    sio_sio_server_timeout(&s, 999, &ev);
    CHECK(ev.type == SIO_SIO_SERVER_EV_NONE);
    sio_sio_server_timeout(&s, 1000, &ev); /* SIO-NSP-01 */
    CHECK(ev.type == SIO_SIO_SERVER_EV_CLOSE && ev.error == SIO_OK);
    CHECK(ev.reason == SIO_EIO_REASON_FORCED_CLOSE);
    EXPECT_SENT(&eio, "CLOSE\nCLOSED\n");
    finish(&eio, &s);
}

int main(void)
{
    test_connect_accept_refuse();
    test_v4();
    test_events_and_acks();
    test_disconnects();
    test_violations();
    test_connect_deadline();
    CHECK_DONE();
}
