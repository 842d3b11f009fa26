/* The reference client's connections (link.c) against scripted server bytes, over an in-memory I/O
 * side with virtual time: keep-alive reuse and Connection: close, chunked bodies, the
 * max_message bound on bodies (Content-Length and chunked) at the bound and one past, the linger
 * of a last POST (RC_LINGER_MS, at the bound and one before), the WebSocket handshake (a wrong
 * accept key refused), pings answered with pongs, the server's close frame answered; a server
 * that closes kept-alive connections with or just after its answers; volatile emits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "client_internal.h"

#define MAX_OPEN 16

static rc_link *opened[MAX_OPEN];
static bool closed[MAX_OPEN];
static int nopened;
static uint64_t clock_ms;
static char events[4096]; /* the client's events, one line each */

static int io_open(void *ctx, rc_link *l, const char *host, uint16_t port)
{
    (void)ctx, (void)host, (void)port;
    if (nopened == MAX_OPEN)
        return EMFILE;
    rc_link_set_io_data(l, &opened[nopened]);
    opened[nopened++] = l;
    return 0;
}

static void io_want_write(void *ctx, rc_link *l)
{
    (void)ctx, (void)l;
}

static void io_close(void *ctx, rc_link *l)
{
    (void)ctx;
    rc_link **slot = rc_link_io_data(l);
    if (slot)
        closed[slot - opened] = true;
    rc_link_set_io_data(l, NULL);
}

static uint64_t io_now(void *ctx)
{
    (void)ctx;
    return clock_ms;
}

static void io_random(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    memset(out, 0x5a, n);
}

static const rc_io mem_io = {io_open, io_want_write, io_close, io_now, io_random};

static void on_event(rc_client *c, const rc_event *ev, void *user)
{
    (void)c, (void)user;
    size_t used = strlen(events);
    snprintf(events + used, sizeof events - used, "%d %.*s %s\n", (int)ev->type, (int)ev->data.len,
             ev->data.ptr ? (const char *)ev->data.ptr : "", ev->message ? ev->message : "");
}

static rc_client *start(rc_transports transports, size_t max_message)
{
    memset(opened, 0, sizeof opened);
    memset(closed, 0, sizeof closed);
    nopened = 0;
    clock_ms = 1000;
    events[0] = '\0';
    rc_config cfg;
    rc_config_init(&cfg);
    cfg.transports = transports;
    cfg.max_message = max_message;
    cfg.session.randomization = 0;
    cfg.on_event = on_event;
    cfg.io = &mem_io;
    rc_client *c = rc_client_new(&cfg, NULL, 0);
    CHECK(c != NULL);
    CHECK_ERR(rc_client_start(c), SIO_OK);
    CHECK_ERR(rc_join(c, sio_span_of("/", 1), SIO_SPAN_NULL), SIO_OK);
    rc_client_process(c);
    return c;
}

/* What the client wrote on connection k (NUL-terminated copy), and taken. */
static char written[8192];
static const char *take(int k)
{
    sio_span out = rc_link_output(opened[k]);
    size_t n = out.len < sizeof written - 1 ? out.len : sizeof written - 1;
    memcpy(written, out.ptr, n);
    written[n] = '\0';
    rc_link_wrote(opened[k], out.len);
    return written;
}

static void connect(rc_client *c, int k)
{
    rc_link_connected(opened[k], 0);
    rc_client_process(c);
}

static void answer(rc_client *c, int k, const char *bytes, size_t n)
{
    CHECK(!closed[k]);
    if (closed[k]) /* the client dropped it: its memory is gone */
        return;
    rc_link_received(opened[k], (const uint8_t *)bytes, n);
    rc_client_process(c);
}

static void answer_text(rc_client *c, int k, const char *text)
{
    answer(c, k, text, strlen(text));
}

static void answer_200(rc_client *c, int k, const char *extra, const char *body)
{
    char buf[2048];
    int n = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\n%sContent-Length: %zu\r\n\r\n%s", extra,
                     strlen(body), body);
    answer(c, k, buf, (size_t)n);
}

#define OPEN_PACKET                                                                                \
    "0{\"sid\":\"s1\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,"               \
    "\"maxPayload\":1000000}"

/* The handshake (chunked, with an extension), the POST of the CONNECT, the long-poll GET on the
 * same kept-alive connection; a response with Connection: close makes the next GET connect anew. */
static void test_keep_alive_and_chunks(void)
{
    rc_client *c = start(RC_TRANSPORTS_POLLING, 0);
    CHECK_EQ_INT(nopened, 1);
    connect(c, 0);
    CHECK(strncmp(take(0), "GET /socket.io/?EIO=4&transport=polling&t=1 HTTP/1.1\r\n", 54) == 0);
    CHECK(strstr(written, "Host: 127.0.0.1:3000\r\n") != NULL);
    static const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "11;x=1\r\n0{\"sid\":\"s1\",\"upg\r\n"
                                  "48\r\nrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,"
                                  "\"maxPayload\":1000000}\r\n0\r\n\r\n";
    for (size_t i = 0; i < sizeof chunked - 1; i += 7) /* in pieces */
        answer(c, 0, chunked + i, sizeof chunked - 1 - i < 7 ? sizeof chunked - 1 - i : 7);
    CHECK(strstr(events, "1  \n") != NULL); /* RC_EV_OPEN */
    CHECK_EQ_INT(nopened, 2);               /* the POST's connection */
    CHECK(strstr(take(0), "GET /socket.io/?EIO=4&transport=polling&sid=s1&t=") == written);
    connect(c, 1);
    CHECK(strstr(take(1), "\r\n\r\n40") != NULL);
    answer_200(c, 1, "", "ok");
    answer_200(c, 0, "Connection: close\r\n", "40{\"sid\":\"sock\"}");
    CHECK(strstr(events, "3  \n") != NULL); /* RC_EV_CONNECT */
    CHECK(closed[0]);
    CHECK_EQ_INT(nopened, 3); /* the next GET on a new connection */
    CHECK(!closed[1]);        /* the POST's connection is kept */
    rc_client_free(c);
}

/* The handshake answered, then the connection closed in the same round although the answer said
 * keep-alive (netty-socketio does so): the next GET goes on a new connection. Then the long-poll
 * GET reused on a kept-alive connection that the server closes before any byte of its answer:
 * the same request goes again on a new connection, once (`answer_before_second_close`: that
 * one is answered; else it is closed too, and the connection is given up). */
static void test_server_closes_kept_alive(bool answer_resent)
{
    rc_client *c = start(RC_TRANSPORTS_POLLING, 0);
    connect(c, 0);
    take(0);
    static const char open_answer[] = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
                                      "Content-Length: 89\r\n\r\n" OPEN_PACKET;
    rc_link_received(opened[0], (const uint8_t *)open_answer, sizeof open_answer - 1);
    rc_link_closed(opened[0], 0);
    rc_client_process(c);
    CHECK(strstr(events, "1  \n") != NULL); /* RC_EV_OPEN */
    CHECK(strstr(events, "7 ") == NULL);    /* no RC_EV_ERROR */
    CHECK(closed[0]);
    CHECK_EQ_INT(nopened, 3); /* the POST's connection, and a new one for the GET */
    connect(c, 1);
    take(1);
    answer_200(c, 1, "", "ok");
    connect(c, 2);
    CHECK(strstr(take(2), "GET /socket.io/?EIO=4&transport=polling&sid=s1&t=") == written);
    answer_200(c, 2, "", "40{\"sid\":\"sock\"}");
    CHECK(strstr(events, "3  \n") != NULL); /* RC_EV_CONNECT */
    char again[512];
    snprintf(again, sizeof again, "%s", take(2)); /* the next long poll, on the same connection */
    CHECK(strstr(again, "GET /socket.io/?EIO=4&transport=polling&sid=s1&t=") == again);
    rc_link_closed(opened[2], 0);
    rc_client_process(c);
    CHECK(closed[2]);
    CHECK_EQ_INT(nopened, 4);
    CHECK(strstr(events, "7 ") == NULL);
    connect(c, 3);
    CHECK(strcmp(take(3), again) == 0); /* the same bytes */
    if (answer_resent) {
        answer_200(c, 3, "", "42[\"x\",1]");
        CHECK(strstr(events, "6 [\"x\",1] \n") != NULL); /* RC_EV_EVENT */
        CHECK(strstr(events, "7 ") == NULL);
    } else {
        rc_link_closed(opened[3], 0);
        rc_client_process(c);
        CHECK(strstr(events, "7  the server closed the connection before its answer was "
                             "complete\n") != NULL);
        CHECK_EQ_INT(nopened, 4); /* not sent a third time */
    }
    rc_client_free(c);
}

/* A body of max_message bytes is read; one byte more gives the connection up (with Content-Length
 * at once, chunked as soon as the excess arrives). The body: a noop carrying 199 bytes of data. */
static void test_body_bound(bool chunked_body)
{
    for (int extra = 0; extra < 2; extra++) {
        rc_client *c = start(RC_TRANSPORTS_POLLING, 200);
        connect(c, 0);
        take(0);
        answer_200(c, 0, "", OPEN_PACKET);
        take(0);
        char body[300];
        memset(body, 'y', sizeof body);
        body[0] = '6';
        size_t n = 200 + (size_t)extra;
        char buf[600];
        int hn;
        if (chunked_body) {
            hn = snprintf(buf, sizeof buf,
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n", n);
            memcpy(buf + hn, body, n);
            memcpy(buf + hn + n, "\r\n0\r\n\r\n", 7);
            hn += (int)n + 7;
        } else {
            hn = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
            memcpy(buf + hn, body, n);
            hn += (int)n;
        }
        events[0] = '\0';
        answer(c, 0, buf, (size_t)hn);
        CHECK((strstr(events, "longer than 200 bytes") != NULL) == (extra == 1));
        rc_client_free(c);
    }
}

/* A close while a POST is out: once it is answered the last POST ("1") goes, and lingers
 * RC_LINGER_MS for its answer before its connection is dropped. */
static void test_linger(void)
{
    rc_client *c = start(RC_TRANSPORTS_POLLING, 0);
    connect(c, 0);
    take(0);
    answer_200(c, 0, "", OPEN_PACKET);
    connect(c, 1);
    take(1); /* the CONNECT, unanswered */
    rc_close(c);
    rc_client_process(c);
    CHECK(!closed[1]);
    answer_200(c, 1, "", "ok"); /* the CONNECT's POST answered: the last POST follows */
    take(1);                    /* the namespace never joined: no DISCONNECT, only "1" */
    CHECK(strstr(written, "Content-Length: 1\r\n\r\n1") != NULL);
    uint64_t sent = clock_ms;
    clock_ms = sent + RC_LINGER_MS - 1;
    rc_client_process(c);
    CHECK(!closed[1]);
    clock_ms = sent + RC_LINGER_MS;
    rc_client_process(c);
    CHECK(closed[1]);
    CHECK(rc_client_idle(c));
    rc_client_free(c);
}

static void server_frame(rc_client *c, int k, uint8_t opcode, const char *payload, size_t n)
{
    uint8_t buf[256];
    size_t w = 0;
    sio_ws_frame_header h = {.fin = true, .opcode = opcode};
    sio_ws_frame_encode(&h, (const uint8_t *)payload, n, buf, sizeof buf, &w);
    answer(c, k, (const char *)buf, w);
}

/* The client's frames: unmasked with the key the test's random source gave (0x5a each). */
static const char *unmasked_payload(const char *wire, size_t *n)
{
    static char payload[512];
    const uint8_t *w = (const uint8_t *)wire;
    CHECK((w[1] & 0x80) != 0);
    *n = w[1] & 0x7f;
    for (size_t i = 0; i < *n; i++)
        payload[i] = (char)(w[6 + i] ^ 0x5a);
    return payload;
}

/* The WebSocket of connection 0 opened: its handshake answered and the open packet sent. */
static void websocket_open(rc_client *c)
{
    connect(c, 0);
    CHECK(strstr(take(0), "Sec-WebSocket-Key: WlpaWlpaWlpaWlpaWlpaWg==\r\n") != NULL);
    /* base64(SHA-1("WlpaWlpaWlpaWlpaWlpaWg==" + GUID)) */
    uint8_t accept[SIO_WS_ACCEPT_LEN + 1];
    size_t an = 0;
    sio_ws_accept_compute((const uint8_t *)"WlpaWlpaWlpaWlpaWlpaWg==", 24, accept, sizeof accept,
                          &an);
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %.*s\r\n\r\n",
                      (int)an, (const char *)accept);
    answer(c, 0, head, (size_t)hn);
    server_frame(c, 0, SIO_WS_OP_TEXT, OPEN_PACKET, strlen(OPEN_PACKET));
    CHECK(strstr(events, "1  \n") != NULL);
}

static void test_websocket(void)
{
    rc_client *c = start(RC_TRANSPORTS_WEBSOCKET, 0);
    websocket_open(c);
    size_t n;
    const char *p = unmasked_payload(take(0), &n);
    CHECK(n == 2 && memcmp(p, "40", 2) == 0); /* the CONNECT */
    server_frame(c, 0, SIO_WS_OP_PING, "hb", 2);
    p = unmasked_payload(take(0), &n);
    CHECK((uint8_t)written[0] == 0x8a && n == 2 && memcmp(p, "hb", 2) == 0); /* its pong */
    server_frame(c, 0, SIO_WS_OP_CLOSE, "\x03\xe9", 2);
    p = unmasked_payload(take(0), &n);
    CHECK((uint8_t)written[0] == 0x88 && n == 2 && memcmp(p, "\x03\xe9", 2) == 0); /* echoed */
    rc_link_closed(opened[0], 0);
    rc_client_process(c);
    CHECK(closed[0]);
    CHECK(rc_client_state(c) == SIO_SIO_CLIENT_RECONNECT_WAIT);
    rc_client_free(c);
}

/* A volatile emit: with the client's flag, rc_emit()'s `dropped`, and what the WebSocket carries. */
static bool emit_volatile(rc_client *c, const char *args)
{
    bool dropped = false;
    CHECK_ERR(rc_emit(c, sio_span_of("/", 1), sio_span_of(args, strlen(args)), NULL, 0,
                      RC_EMIT_VOLATILE, NULL, NULL, &dropped),
              SIO_OK);
    rc_client_process(c);
    return dropped;
}

/* Volatile emits (RC_EMIT_VOLATILE) go out only when the namespace is joined and the transport
 * takes them at once: dropped before the CONNECT reply, while the WebSocket still holds unwritten
 * output, and once the connection is lost; sent otherwise. A plain emit is never dropped. */
static void test_volatile_emits(void)
{
    rc_client *c = start(RC_TRANSPORTS_WEBSOCKET, 0);
    websocket_open(c);
    size_t n;
    const char *p = unmasked_payload(take(0), &n);
    CHECK(n == 2 && memcmp(p, "40", 2) == 0);
    CHECK(emit_volatile(c, "[\"v\",0]")); /* not joined yet */
    CHECK_EQ_INT(rc_link_output(opened[0]).len, 0);
    const char *joined = "40{\"sid\":\"a\"}";
    server_frame(c, 0, SIO_WS_OP_TEXT, joined, strlen(joined));
    CHECK(!emit_volatile(c, "[\"v\",1]"));
    p = unmasked_payload(take(0), &n);
    CHECK(n == 9 && memcmp(p, "42[\"v\",1]", 9) == 0);
    bool dropped = true;
    CHECK_ERR(rc_emit(c, sio_span_of("/", 1), sio_span_of("[\"plain\"]", 9), NULL, 0, 0, NULL, NULL,
                      &dropped),
              SIO_OK);
    rc_client_process(c);
    CHECK(!dropped);
    CHECK(emit_volatile(c, "[\"v\",2]")); /* the plain emit is not written yet */
    p = unmasked_payload(take(0), &n);
    CHECK(n == 11 && memcmp(p, "42[\"plain\"]", 11) == 0);
    CHECK_EQ_INT(rc_link_output(opened[0]).len, 0); /* v 2 is nowhere */
    CHECK(!emit_volatile(c, "[\"v\",3]"));
    p = unmasked_payload(take(0), &n);
    CHECK(n == 9 && memcmp(p, "42[\"v\",3]", 9) == 0);
    rc_link_closed(opened[0], 0);
    rc_client_process(c);
    CHECK(emit_volatile(c, "[\"v\",4]")); /* the connection is gone */
    rc_client_free(c);
}

static void test_wrong_accept(void)
{
    rc_client *c = start(RC_TRANSPORTS_WEBSOCKET, 0);
    connect(c, 0);
    take(0);
    answer_text(
        c, 0,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n");
    CHECK(strstr(events, "wrong Sec-WebSocket-Accept") != NULL);
    CHECK(closed[0]);
    rc_client_free(c);
}

int main(void)
{
    test_keep_alive_and_chunks();
    test_server_closes_kept_alive(true);
    test_server_closes_kept_alive(false);
    test_body_bound(false);
    test_body_bound(true);
    test_linger();
    test_websocket();
    test_volatile_emits();
    test_wrong_accept();
    CHECK_DONE();
}
