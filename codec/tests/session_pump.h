/* An in-memory network between a client and a server Engine.IO session (and the Socket.IO
 * sessions on them), for the session tests. What either side asks for (a request, a WebSocket
 * message, a response, a close) is copied into a delivery and queued, as a network would carry
 * it; deliveries arrive one at a time, and after each the receiving side's events are drained
 * completely, as an I/O adapter does. Each client REQUEST becomes an HTTP request head that the
 * codec parses and sio_eio_request_read classifies for the server session. Applications are the
 * test's callbacks. Every allocation goes through a counting allocator, so a test can check that
 * nothing is left behind. */
#ifndef SIO_TEST_SESSION_PUMP_H
#define SIO_TEST_SESSION_PUMP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "counting_alloc.h"
#include "sio/eio_client.h"
#include "sio/eio_server.h"

typedef enum delivery_kind {
    TO_SERVER_REQUEST, /* a client REQUEST or WS_OPEN */
    TO_SERVER_WS,      /* a client WebSocket message */
    TO_SERVER_LOST,    /* the client closed a WebSocket */
    TO_CLIENT_RESPONSE,
    TO_CLIENT_WS,
    TO_CLIENT_LOST
} delivery_kind;

typedef struct delivery {
    struct delivery *next;
    delivery_kind kind;
    sio_eio_channel channel;
    bool ws_open; /* TO_SERVER_REQUEST: a WebSocket, not HTTP */
    bool binary;
    int status;
    char method[8];
    char content_type[40];
    size_t target_len, len;
    char target[SIO_EIO_CLIENT_MAX_TARGET];
    uint8_t data[];
} delivery;

typedef struct pump pump;

struct pump {
    sio_eio_client client;
    sio_eio_client_config ccfg;
    sio_eio_server server;
    sio_eio_server_config scfg;
    bool server_open;    /* the server session exists */
    bool server_down;    /* requests are answered 503 and WebSockets refused */
    bool server_mute;    /* what the server sends is lost (a dead server) */
    bool refuse_upgrade; /* WebSocket upgrades for the session are refused */
    uint64_t now;
    delivery *head, *tail, *arrived; /* in transit; the last one delivered */
    void (*server_message)(pump *p, bool binary, sio_span data);
    void (*client_message)(pump *p, bool binary, sio_span data);
    void (*client_event)(pump *p, const sio_eio_client_event *ev); /* OPEN, UPGRADED, CLOSED */
    void (*server_opened)(pump *p);
    void (*server_closed)(pump *p, const sio_eio_server_event *ev);
    uint64_t (*extra_deadline)(pump *p); /* the layers on top (Socket.IO sessions) */
    void (*extra_timeout)(pump *p);
    char log[8192]; /* what crossed the network, one line each */
    int requests, posts, ws_opens;
    sio_eio_close_reason client_reason, server_reason;
    bool client_closed, server_closed_seen;
    void *user;
};

static void note(pump *p, const char *what, sio_span a, sio_span b)
{
    size_t used = strlen(p->log);
    snprintf(p->log + used, sizeof p->log - used, "%s %.*s%s%.*s\n", what, (int)a.len,
             a.ptr ? (const char *)a.ptr : "", b.len ? " " : "", (int)b.len,
             b.ptr ? (const char *)b.ptr : "");
}

static void pump_init(pump *p)
{
    memset(p, 0, sizeof *p);
    sio_eio_client_config_init(&p->ccfg);
    p->ccfg.alloc = &counting;
    sio_eio_server_config_init(&p->scfg);
    p->scfg.ping_interval_ms = 300;
    p->scfg.ping_timeout_ms = 200;
    p->scfg.allow_eio3 = true;
    p->scfg.alloc = &counting;
    p->now = 1000;
}

static delivery *send_off(pump *p, delivery_kind kind, sio_eio_channel ch, sio_span data)
{
    delivery *d = calloc(1, sizeof *d + data.len);
    if (!d)
        abort();
    d->kind = kind;
    d->channel = ch;
    d->len = data.len;
    if (data.len)
        memcpy(d->data, data.ptr, data.len);
    if (p->tail)
        p->tail->next = d;
    else
        p->head = d;
    p->tail = d;
    return d;
}

static sio_span binary_or(const sio_span data, bool binary)
{
    return binary ? sio_span_of("<binary>", 8) : data;
}

/* ------------------------------------------------------------------ the client's side */

static void drain_client(pump *p)
{
    sio_eio_client_event ev;
    for (;;) {
        CHECK_ERR(sio_eio_client_next_event(&p->client, &ev), SIO_OK);
        delivery *d;
        switch (ev.type) {
        case SIO_EIO_CLIENT_EV_NONE:
            return;
        case SIO_EIO_CLIENT_EV_REQUEST:
        case SIO_EIO_CLIENT_EV_WS_OPEN:
            d = send_off(p, TO_SERVER_REQUEST, ev.channel, ev.data);
            d->ws_open = ev.type == SIO_EIO_CLIENT_EV_WS_OPEN;
            snprintf(d->method, sizeof d->method, "%s", d->ws_open ? "GET" : ev.method);
            memcpy(d->target, ev.target.ptr, ev.target.len);
            d->target_len = ev.target.len;
            snprintf(d->content_type, sizeof d->content_type, "%s",
                     ev.content_type ? ev.content_type : "");
            note(p, d->ws_open ? "ws-open" : ev.method, ev.target, ev.data);
            p->requests += !d->ws_open;
            p->posts += !d->ws_open && ev.channel == SIO_EIO_CHANNEL_POST;
            p->ws_opens += d->ws_open;
            break;
        case SIO_EIO_CLIENT_EV_WS_SEND:
            note(p, ev.channel == SIO_EIO_CHANNEL_PROBE ? "c>probe" : "c>ws",
                 binary_or(ev.data, ev.binary), SIO_SPAN_NULL);
            send_off(p, TO_SERVER_WS, ev.channel, ev.data)->binary = ev.binary;
            break;
        case SIO_EIO_CLIENT_EV_WS_CLOSE:
            note(p, "c-close", SIO_SPAN_NULL, SIO_SPAN_NULL);
            send_off(p, TO_SERVER_LOST, ev.channel, SIO_SPAN_NULL);
            break;
        case SIO_EIO_CLIENT_EV_MESSAGE:
            if (p->client_message)
                p->client_message(p, ev.binary, ev.data);
            break;
        case SIO_EIO_CLIENT_EV_CLOSED:
            p->client_closed = true;
            p->client_reason = ev.reason;
            /* fall through */
        case SIO_EIO_CLIENT_EV_OPEN:
        case SIO_EIO_CLIENT_EV_UPGRADED:
            if (p->client_event)
                p->client_event(p, &ev);
            break;
        }
    }
}

/* ------------------------------------------------------------------ the server's side */

static void drain_server(pump *p)
{
    sio_eio_server_event ev;
    while (p->server_open) {
        CHECK_ERR(sio_eio_server_next_event(&p->server, &ev), SIO_OK);
        if (ev.type == SIO_EIO_SERVER_EV_NONE)
            return;
        bool lost = p->server_mute && ev.type != SIO_EIO_SERVER_EV_MESSAGE &&
                    ev.type != SIO_EIO_SERVER_EV_CLOSED;
        delivery *d;
        switch (lost ? SIO_EIO_SERVER_EV_NONE : ev.type) {
        case SIO_EIO_SERVER_EV_NONE:
        case SIO_EIO_SERVER_EV_UPGRADED:
            break;
        case SIO_EIO_SERVER_EV_RESPOND:
            note(p, ev.channel == SIO_EIO_CHANNEL_GET ? "s>get" : "s>post", ev.data, SIO_SPAN_NULL);
            d = send_off(p, TO_CLIENT_RESPONSE, ev.channel, ev.data);
            d->status = 200;
            snprintf(d->content_type, sizeof d->content_type, "%s", ev.content_type);
            break;
        case SIO_EIO_SERVER_EV_WS_SEND:
            note(p, ev.channel == SIO_EIO_CHANNEL_PROBE ? "s>probe" : "s>ws",
                 binary_or(ev.data, ev.binary), SIO_SPAN_NULL);
            send_off(p, TO_CLIENT_WS, ev.channel, ev.data)->binary = ev.binary;
            break;
        case SIO_EIO_SERVER_EV_WS_CLOSE:
            note(p, "s-close", SIO_SPAN_NULL, SIO_SPAN_NULL);
            send_off(p, TO_CLIENT_LOST, ev.channel, SIO_SPAN_NULL);
            break;
        case SIO_EIO_SERVER_EV_MESSAGE:
            if (p->server_message)
                p->server_message(p, ev.binary, ev.data);
            break;
        case SIO_EIO_SERVER_EV_CLOSED:
            p->server_closed_seen = true;
            p->server_reason = ev.reason;
            if (p->server_closed)
                p->server_closed(p, &ev);
            sio_eio_server_free(&p->server);
            p->server_open = false;
            break;
        }
    }
}

static sio_err read_request(pump *p, const delivery *d, sio_eio_request *er)
{
    char head[SIO_EIO_CLIENT_MAX_TARGET + 400];
    snprintf(head, sizeof head,
             "%s %.*s HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n%s%s%s%s\r\n", d->method,
             (int)d->target_len, d->target, d->len, d->content_type[0] ? "Content-Type: " : "",
             d->content_type, d->content_type[0] ? "\r\n" : "",
             d->ws_open ? "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n"
                        : "");
    sio_http_parser ps;
    sio_http_request req;
    sio_http_parser_init(&ps);
    if (sio_http_request_parse(&ps, (const uint8_t *)head, strlen(head), NULL, &req) != SIO_OK ||
        req.head_len == 0)
        return SIO_ERR_INVALID_ARGUMENT;
    return sio_eio_request_read(&req, &p->scfg, er);
}

/* A request arrives: the server session (new, or the one the sid names) takes it, or it is
 * refused (an error status, or a WebSocket that does not open). */
static void server_takes(pump *p, delivery *d)
{
    sio_eio_request er;
    sio_err rc = p->server_down ? SIO_ERR_EIO_SESSION_UNKNOWN : read_request(p, d, &er);
    bool opened = false;
    if (rc == SIO_OK && er.kind == SIO_EIO_REQUEST_HANDSHAKE && !p->server_open) {
        rc = sio_eio_server_open(&p->server, &p->scfg, &er, "srv-sid", 7, p->now);
        p->server_open = opened = rc == SIO_OK;
    } else if (rc == SIO_OK && er.kind == SIO_EIO_REQUEST_UPGRADE && p->server_open) {
        rc = p->refuse_upgrade ? SIO_ERR_EIO_SECOND_WEBSOCKET
                               : sio_eio_server_upgrade(&p->server, &er, p->now);
    } else if (rc == SIO_OK && er.kind == SIO_EIO_REQUEST_POLL && p->server_open) {
        rc = sio_eio_server_request(&p->server, &er, p->now);
        if (rc == SIO_OK && d->channel == SIO_EIO_CHANNEL_POST)
            rc = sio_eio_server_post_body(&p->server, d->data, d->len, p->now);
    } else if (rc == SIO_OK) {
        rc = SIO_ERR_EIO_SESSION_UNKNOWN;
    }
    if (rc == SIO_OK && d->ws_open) {
        sio_eio_client_ws_opened(&p->client, d->channel, p->now);
    } else if (rc != SIO_OK && d->ws_open) {
        sio_eio_client_channel_lost(&p->client, d->channel, p->now);
    } else if (rc != SIO_OK) {
        delivery *r = send_off(p, TO_CLIENT_RESPONSE, d->channel, SIO_SPAN_NULL);
        r->status = p->server_down ? 503 : 400;
    }
    if (opened && p->server_opened)
        p->server_opened(p);
}

/* ------------------------------------------------------------------ the network */

static void deliver(pump *p, delivery *d)
{
    switch (d->kind) {
    case TO_SERVER_REQUEST:
        server_takes(p, d);
        break;
    case TO_SERVER_WS:
        if (p->server_open)
            sio_eio_server_ws_message(&p->server, d->channel, !d->binary, d->data, d->len, p->now);
        break;
    case TO_SERVER_LOST:
        if (p->server_open)
            sio_eio_server_channel_lost(&p->server, d->channel, p->now);
        break;
    case TO_CLIENT_RESPONSE:
        sio_eio_client_response(&p->client, d->channel, d->status,
                                sio_span_of(d->content_type, strlen(d->content_type)), d->data,
                                d->len, p->now);
        break;
    case TO_CLIENT_WS:
        sio_eio_client_ws_message(&p->client, d->channel, !d->binary, d->data, d->len, p->now);
        break;
    case TO_CLIENT_LOST:
        sio_eio_client_channel_lost(&p->client, d->channel, p->now);
        break;
    }
}

/* Until nothing is in transit and both sides are quiet. A delivery's bytes stay until the next
 * one: the receiving side's events (messages) view them until drained. */
static void run(pump *p)
{
    for (int i = 0; i < 10000; i++) {
        drain_client(p);
        drain_server(p);
        delivery *d = p->head;
        if (!d)
            return;
        p->head = d->next;
        if (!p->head)
            p->tail = NULL;
        free(p->arrived);
        p->arrived = d;
        deliver(p, d);
    }
    CHECK(!"the pump did not settle");
}

/* Time passes to now + ms, deadline by deadline. */
static void advance(pump *p, uint64_t ms)
{
    uint64_t until = p->now + ms;
    run(p);
    for (int steps = 0; steps < 1000; steps++) {
        uint64_t next = sio_eio_client_next_deadline(&p->client);
        if (p->server_open && sio_eio_server_next_deadline(&p->server) < next)
            next = sio_eio_server_next_deadline(&p->server);
        if (p->extra_deadline && p->extra_deadline(p) < next)
            next = p->extra_deadline(p);
        if (next > until)
            break;
        p->now = next > p->now ? next : p->now;
        sio_eio_client_timeout(&p->client, p->now);
        if (p->server_open)
            sio_eio_server_timeout(&p->server, p->now);
        if (p->extra_timeout)
            p->extra_timeout(p);
        run(p);
    }
    p->now = until;
    run(p);
}

static void pump_free(pump *p)
{
    while (p->head) {
        delivery *d = p->head;
        p->head = d->next;
        free(d);
    }
    p->tail = NULL;
    free(p->arrived);
    p->arrived = NULL;
    sio_eio_client_free(&p->client);
    if (p->server_open)
        sio_eio_server_free(&p->server);
    p->server_open = false;
}

#endif
