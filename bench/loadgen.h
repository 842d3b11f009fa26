/* Shared state of the load generator: connections, the poll loop and the scenario hooks. */
#ifndef BENCH_LOADGEN_H
#define BENCH_LOADGEN_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sio/json.h"
#include "sio/ws.h"

/* Largest Socket.IO packet a client sends; the scenarios send small events only. */
#define LG_MAX_SEND 1024

typedef struct lg_buf {
    uint8_t *ptr;
    size_t len, cap;
} lg_buf;

typedef enum lg_state {
    LG_CLOSED = 0,
    LG_HANDSHAKE, /* TCP connecting or waiting for the 101 answer */
    LG_WS_OPEN,   /* WebSocket open, Socket.IO CONNECT not yet answered */
    LG_READY      /* connected to namespace "/" */
} lg_state;

typedef struct lg_conn {
    int fd;
    lg_state state;
    uint32_t mask_seed;
    uint64_t opened_ns, ready_ns;
    lg_buf tx;  /* bytes not yet accepted by the socket */
    lg_buf rx;  /* the HTTP answer while it is incomplete */
    lg_buf msg; /* a WebSocket message spanning several reads */
    sio_ws_parser ws;
    uint32_t inflight; /* scenario: messages sent and not yet answered */
    uint64_t sent, received;
    bool joined;
} lg_conn;

typedef struct lg_loop lg_loop;
typedef void (*lg_packet_hook)(lg_loop *L, lg_conn *c, const uint8_t *p, size_t n);

struct lg_loop {
    int port;
    lg_conn *conns;
    size_t nconns;
    struct pollfd *pfds;
    size_t *pidx;
    size_t opened, ready, in_flight, failures;
    char last_error[128];
    lg_packet_hook on_event; /* EVENT on "/": p points at the JSON array */
    lg_packet_hook on_ack;   /* ACK on "/": p points at the JSON array after the id */
    void *scenario;          /* the running scenario's own state */
};

uint64_t now_ns(void);
double proc_cpu_seconds(int pid);
double proc_stat_cpu_seconds(int pid);
long proc_rss_kib(int pid);

void buf_append(lg_buf *b, const void *p, size_t n);
void buf_consume(lg_buf *b, size_t n);

void loop_init(lg_loop *L, int port, size_t nconns);
void loop_free(lg_loop *L);
void loop_step(lg_loop *L, int wait_ms);
void loop_flush(lg_loop *L, lg_conn *c);
int conn_open(lg_loop *L, lg_conn *c);
void conn_close(lg_loop *L, lg_conn *c);
void conn_fail(lg_loop *L, lg_conn *c, const char *why);
size_t connect_all(lg_loop *L, size_t first, size_t count, size_t concurrency, uint64_t deadline);

void send_sio(lg_conn *c, const char *sio_text, size_t n);
void on_sio_packet(lg_loop *L, lg_conn *c, const uint8_t *p, size_t n);
bool event_is(const uint8_t *json, size_t n, const char *name, sio_json_iter *it);
int64_t next_int(sio_json_iter *it);

#endif
