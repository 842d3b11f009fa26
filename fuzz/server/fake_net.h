/* A scripted, in-memory network for the reference server. The server is linked with
 * -Wl,--wrap=<call> for each socket call it makes (read, write, accept, poll, close, shutdown,
 * socket, bind, listen, setsockopt, getsockname, fcntl, clock_gettime), so nothing in
 * reference-server/ changes: descriptors in the fake range are served from the tables below,
 * every other descriptor goes to the real call (libFuzzer's own files keep working).
 *
 * Time is virtual: CLOCK_MONOTONIC reads fake_net.now_ms, and a poll() that finds nothing ready
 * moves the clock forward by its timeout, so the server's timers fire as they would in a quiet
 * network. */
#ifndef FUZZ_FAKE_NET_H
#define FUZZ_FAKE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_FD_BASE    900
#define FAKE_LISTEN_FD  FAKE_FD_BASE
#define FAKE_RANDOM_FD  (FAKE_FD_BASE + 1)
#define FAKE_MAX_CONNS  32
#define FAKE_CONN_FD(i) (FAKE_FD_BASE + 2 + (i))

typedef struct fake_conn {
    bool used;          /* handed out by accept() */
    bool open;          /* not yet closed by the server */
    bool peer_eof;      /* the client half-closed: reads return 0 once `in` is drained */
    bool peer_reset;    /* reads fail with ECONNRESET */
    bool write_blocked; /* writes fail with EAGAIN */
    bool shut;          /* the server called shutdown() */
    uint8_t *in;        /* bytes the client sent that the server has not read */
    size_t in_len;
    uint8_t *out; /* everything the server wrote */
    size_t out_len, out_cap;
} fake_conn;

typedef struct fake_net_state {
    bool active; /* wrappers serve fake descriptors only while a run is active */
    uint64_t now_ms;
    unsigned pending_accepts;
    unsigned accepted;
    uint32_t random_counter;
    fake_conn conns[FAKE_MAX_CONNS];
    /* Called when the server closes a connection, with everything it wrote to it. */
    void (*on_close)(unsigned index, const uint8_t *out, size_t len);
} fake_net_state;

extern fake_net_state fake_net;

void fake_net_reset(void);
/* Queues client bytes for connection i. */
void fake_net_send(unsigned i, const uint8_t *p, size_t n);
/* Frees every buffer (after the server has been torn down). */
void fake_net_free(void);

#endif
