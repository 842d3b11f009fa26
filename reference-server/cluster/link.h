/* The node's link to Redis: two non-blocking connections, as Node's adapter keeps them, one that
 * publishes and asks (PUBLISH, PUBSUB NUMSUB) and one that subscribes, driven by the server's
 * poll() loop. RESP is built with hiredis's formatter and read with hiredis's reader.
 *
 * The link never blocks and never gives up: when a connection fails or Redis closes it, both are
 * dropped (pending questions are answered "failed"), the link waits a backoff delay that doubles
 * from CLUSTER_LINK_BACKOFF_MIN_MS to CLUSTER_LINK_BACKOFF_MAX_MS, connects again, and subscribes
 * again to everything it was subscribed to. Publications made while it is down are not queued:
 * they are counted and dropped (local delivery does not depend on Redis).
 *
 * States (one transition table for both connections taken together):
 *
 *   state        event                               next         action
 *   DOWN         start / backoff deadline            CONNECTING   two non-blocking connect()s
 *   CONNECTING   both sockets writable, no error     SUBSCRIBING  SELECT db (if not 0); SUBSCRIBE and
 *                                                                 PSUBSCRIBE everything wanted
 *   SUBSCRIBING  every subscription confirmed        UP           on_state(up)
 *   UP           a new subscription wanted           UP           (P)SUBSCRIBE it
 *   any          connect error, EOF, read/write      DOWN         close both, fail pending questions,
 *                error, a reply hiredis refuses                   on_state(down) if it was UP, arm the
 *                                                                 backoff deadline
 */
#ifndef REFSERVER_CLUSTER_LINK_H
#define REFSERVER_CLUSTER_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sio/common.h"

#define CLUSTER_LINK_BACKOFF_MIN_MS 50u
#define CLUSTER_LINK_BACKOFF_MAX_MS 2000u
/* Bytes waiting to be written to Redis beyond which further publications are dropped. */
#define CLUSTER_LINK_MAX_PENDING (64u << 20)
/* Questions (NUMSUB) waiting for their answer at once. */
#define CLUSTER_LINK_MAX_WAITING 4096u

typedef enum cluster_link_state {
    CLUSTER_LINK_DOWN = 0,
    CLUSTER_LINK_CONNECTING = 1,
    CLUSTER_LINK_SUBSCRIBING = 2,
    CLUSTER_LINK_UP = 3
} cluster_link_state;

typedef struct cluster_link_callbacks {
    /* Watch `fd` for `events` (POLLIN, POLLOUT); 0 stops watching it (the fd is about to close). */
    void (*watch)(void *ctx, int fd, short events);
    /* A publication on a subscribed channel (`pattern` empty) or matching a pattern. */
    void (*message)(void *ctx, sio_span pattern, sio_span channel, sio_span data);
    /* The link came up (every subscription confirmed) or went down. */
    void (*state)(void *ctx, bool up);
    /* One line for the server's log. */
    void (*log)(void *ctx, const char *line);
} cluster_link_callbacks;

typedef struct cluster_link cluster_link;

/* Parses `redis://HOST:PORT[/DB]` (HOST an IPv4 address or `localhost`). False with a reason
 * (NUL-terminated, at most 127 bytes) when it is not such a URL. */
bool cluster_link_parse_url(const char *url, char host[64], uint16_t *port, int *db, char why[128]);

cluster_link *cluster_link_new(const char *host, uint16_t port, int db,
                               const cluster_link_callbacks *cb, void *ctx);
void cluster_link_free(cluster_link *l);

/* Starts connecting (at once) and keeps the link up from then on. */
void cluster_link_start(cluster_link *l, uint64_t now_ms);
cluster_link_state cluster_link_state_of(const cluster_link *l);

/* Subscriptions, kept across reconnections. */
void cluster_link_subscribe(cluster_link *l, const char *channel);
void cluster_link_psubscribe(cluster_link *l, const char *pattern);

/* PUBLISH on the publishing connection; false (the message dropped) when the link is not UP or
 * too much is waiting to be written. */
bool cluster_link_publish(cluster_link *l, const char *channel, const uint8_t *data, size_t len);

/* PUBSUB NUMSUB `channel`: `answer` is called once, with the count, or with ok false when the link
 * is not UP or goes down before the answer. */
typedef void (*cluster_numsub_cb)(void *ctx, bool ok, long long count);
void cluster_link_numsub(cluster_link *l, const char *channel, cluster_numsub_cb answer, void *ctx);

/* The loop's side: readiness of one of the link's fds, and the backoff deadline (0: none). */
void cluster_link_io(cluster_link *l, int fd, short revents, uint64_t now_ms);
uint64_t cluster_link_deadline(const cluster_link *l);
void cluster_link_tick(cluster_link *l, uint64_t now_ms);

/* Counters, for logs and tests. */
typedef struct cluster_link_stats {
    uint64_t connects, disconnects, published, dropped, received;
} cluster_link_stats;
cluster_link_stats cluster_link_stats_of(const cluster_link *l);

#endif
