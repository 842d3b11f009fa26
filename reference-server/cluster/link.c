/* The link to Redis (link.h): two non-blocking connections and one transition table. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "link.h"

typedef struct waiter {
    cluster_numsub_cb answer; /* NULL: a reply nobody waits for (SELECT) */
    void *ctx;
} waiter;

typedef struct conn {
    const char *name; /* "pub" or "sub", for the log */
    int fd;           /* -1 when closed */
    bool connected;
    short watching;
    redisReader *reader;
    buf out;
} conn;

typedef struct names {
    char **items;
    size_t count, cap;
} names;

struct cluster_link {
    struct sockaddr_in addr;
    int db;
    cluster_link_callbacks cb;
    void *ctx;
    cluster_link_state state;
    conn pub, sub;
    names channels, patterns;   /* what the sub connection is to be subscribed to */
    size_t confirmations_due;   /* subscribe confirmations still to come */
    size_t sub_replies_to_skip; /* the sub connection's SELECT reply */
    waiter *waiting;            /* the pub connection's questions, in order (a ring) */
    size_t wait_head, wait_count;
    uint64_t deadline, backoff_ms, now;
    cluster_link_stats stats;
};

/* ------------------------------------------------------------------ URL */

bool cluster_link_parse_url(const char *url, char host[64], uint16_t *port, int *db, char why[128])
{
    const char *p = url;
    if (strncmp(p, "redis://", 8) != 0)
        return snprintf(why, 128, "the adapter URL must start with redis://"), false;
    p += 8;
    const char *colon = strchr(p, ':');
    if (colon == NULL || colon == p || (size_t)(colon - p) >= 64)
        return snprintf(why, 128, "the adapter URL needs HOST:PORT"), false;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) != 1)
        return snprintf(why, 128, "the adapter host must be an IPv4 address or localhost"), false;
    char *end;
    long v = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || v < 1 || v > 65535 || (*end != '\0' && *end != '/'))
        return snprintf(why, 128, "the adapter port must be 1-65535"), false;
    *port = (uint16_t)v;
    *db = 0;
    if (*end == '/' && end[1] != '\0') {
        char *dbend;
        long d = strtol(end + 1, &dbend, 10);
        if (dbend == end + 1 || *dbend != '\0' || d < 0 || d > 1000000)
            return snprintf(why, 128, "the adapter database must be a number"), false;
        *db = (int)d;
    }
    return true;
}

/* ------------------------------------------------------------------ set-up */

static void names_add(names *n, const char *s)
{
    for (size_t i = 0; i < n->count; i++)
        if (strcmp(n->items[i], s) == 0)
            return;
    if (n->count == n->cap) {
        n->cap = n->cap ? 2 * n->cap : 8;
        n->items = xrealloc(n->items, n->cap * sizeof *n->items);
    }
    n->items[n->count++] = xstrndup(s, strlen(s));
}

static void names_free(names *n)
{
    for (size_t i = 0; i < n->count; i++)
        free(n->items[i]);
    free(n->items);
}

cluster_link *cluster_link_new(const char *host, uint16_t port, int db,
                               const cluster_link_callbacks *cb, void *ctx)
{
    cluster_link *l = xcalloc(1, sizeof *l);
    l->addr.sin_family = AF_INET;
    l->addr.sin_port = htons(port);
    if (inet_pton(AF_INET, host, &l->addr.sin_addr) != 1) {
        free(l);
        return NULL;
    }
    l->db = db;
    l->cb = *cb;
    l->ctx = ctx;
    l->pub = (conn){.name = "pub", .fd = -1};
    l->sub = (conn){.name = "sub", .fd = -1};
    l->waiting = xcalloc(CLUSTER_LINK_MAX_WAITING, sizeof *l->waiting);
    l->backoff_ms = CLUSTER_LINK_BACKOFF_MIN_MS;
    return l;
}

static void say(cluster_link *l, const char *fmt, const char *a, const char *b)
{
    char line[256];
    snprintf(line, sizeof line, fmt, a, b);
    if (l->cb.log)
        l->cb.log(l->ctx, line);
}

static void watch(cluster_link *l, conn *c, short events)
{
    if (c->fd >= 0 && c->watching != events) {
        c->watching = events;
        l->cb.watch(l->ctx, c->fd, events);
    }
}

static void close_conn(cluster_link *l, conn *c)
{
    if (c->fd >= 0) {
        l->cb.watch(l->ctx, c->fd, 0);
        close(c->fd);
    }
    c->fd = -1;
    c->connected = false;
    c->watching = 0;
    if (c->reader)
        redisReaderFree(c->reader);
    c->reader = NULL;
    buf_reset(&c->out);
}

/* Any failure: both connections go, pending questions are answered "failed", and the next attempt
 * is armed after the backoff delay. */
static void go_down(cluster_link *l, const char *why, const char *detail)
{
    bool was_up = l->state == CLUSTER_LINK_UP;
    say(l, "redis: %s%s; reconnecting", why, detail);
    close_conn(l, &l->pub);
    close_conn(l, &l->sub);
    while (l->wait_count > 0) {
        waiter w = l->waiting[l->wait_head];
        l->wait_head = (l->wait_head + 1) % CLUSTER_LINK_MAX_WAITING;
        l->wait_count--;
        if (w.answer)
            w.answer(w.ctx, false, 0);
    }
    l->state = CLUSTER_LINK_DOWN;
    l->deadline = l->now + l->backoff_ms;
    l->backoff_ms = l->backoff_ms * 2 > CLUSTER_LINK_BACKOFF_MAX_MS ? CLUSTER_LINK_BACKOFF_MAX_MS
                                                                    : l->backoff_ms * 2;
    if (was_up) {
        l->stats.disconnects++;
        if (l->cb.state)
            l->cb.state(l->ctx, false);
    }
}

static bool open_conn(cluster_link *l, conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return false;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    c->reader = redisReaderCreate();
    if (c->reader == NULL)
        return false;
    if (connect(c->fd, (struct sockaddr *)&l->addr, sizeof l->addr) == 0) {
        c->connected = true;
        return true;
    }
    return errno == EINPROGRESS;
}

static void connected(cluster_link *l);

void cluster_link_start(cluster_link *l, uint64_t now_ms)
{
    l->now = now_ms;
    l->deadline = 0;
    l->state = CLUSTER_LINK_CONNECTING;
    if (!open_conn(l, &l->pub) || !open_conn(l, &l->sub)) {
        go_down(l, "connect: ", strerror(errno));
        return;
    }
    watch(l, &l->pub, l->pub.connected ? POLLIN : POLLOUT);
    watch(l, &l->sub, l->sub.connected ? POLLIN : POLLOUT);
    if (l->pub.connected && l->sub.connected)
        connected(l);
}

void cluster_link_free(cluster_link *l)
{
    if (l == NULL)
        return;
    l->state = CLUSTER_LINK_DOWN; /* no state callback from here on */
    close_conn(l, &l->pub);
    close_conn(l, &l->sub);
    for (; l->wait_count > 0;
         l->wait_count--, l->wait_head = (l->wait_head + 1) % CLUSTER_LINK_MAX_WAITING)
        if (l->waiting[l->wait_head].answer)
            l->waiting[l->wait_head].answer(l->waiting[l->wait_head].ctx, false, 0);
    names_free(&l->channels);
    names_free(&l->patterns);
    free(l->waiting);
    free(l);
}

cluster_link_state cluster_link_state_of(const cluster_link *l)
{
    return l->state;
}

cluster_link_stats cluster_link_stats_of(const cluster_link *l)
{
    return l->stats;
}

uint64_t cluster_link_deadline(const cluster_link *l)
{
    return l->state == CLUSTER_LINK_DOWN ? l->deadline : 0;
}

void cluster_link_tick(cluster_link *l, uint64_t now_ms)
{
    l->now = now_ms;
    if (l->state == CLUSTER_LINK_DOWN && l->deadline != 0 && now_ms >= l->deadline)
        cluster_link_start(l, now_ms);
}

/* ------------------------------------------------------------------ commands */

static void command(cluster_link *l, conn *c, int argc, const char **argv, const size_t *lens)
{
    char *cmd = NULL;
    int n = redisFormatCommandArgv(&cmd, argc, argv, lens);
    if (n < 0 || cmd == NULL)
        return;
    buf_append(&c->out, cmd, (size_t)n);
    redisFreeCommand(cmd);
    watch(l, c, POLLIN | POLLOUT);
}

static void command2(cluster_link *l, conn *c, const char *a, const char *b)
{
    const char *argv[2] = {a, b};
    size_t lens[2] = {strlen(a), strlen(b)};
    command(l, c, 2, argv, lens);
}

static bool wait_for(cluster_link *l, cluster_numsub_cb answer, void *ctx)
{
    if (l->wait_count == CLUSTER_LINK_MAX_WAITING)
        return false;
    l->waiting[(l->wait_head + l->wait_count) % CLUSTER_LINK_MAX_WAITING] = (waiter){answer, ctx};
    l->wait_count++;
    return true;
}

/* Both sockets are connected: select the database, subscribe to everything wanted. */
static void connected(cluster_link *l)
{
    char db[16];
    l->state = CLUSTER_LINK_SUBSCRIBING;
    l->sub_replies_to_skip = 0;
    if (l->db != 0) {
        snprintf(db, sizeof db, "%d", l->db);
        command2(l, &l->pub, "SELECT", db);
        wait_for(l, NULL, NULL);
        command2(l, &l->sub, "SELECT", db);
        l->sub_replies_to_skip = 1;
    }
    l->confirmations_due = l->channels.count + l->patterns.count;
    for (size_t i = 0; i < l->channels.count; i++)
        command2(l, &l->sub, "SUBSCRIBE", l->channels.items[i]);
    for (size_t i = 0; i < l->patterns.count; i++)
        command2(l, &l->sub, "PSUBSCRIBE", l->patterns.items[i]);
    if (l->confirmations_due == 0) {
        l->state = CLUSTER_LINK_UP;
        l->backoff_ms = CLUSTER_LINK_BACKOFF_MIN_MS;
        l->stats.connects++;
        if (l->cb.state)
            l->cb.state(l->ctx, true);
    }
}

void cluster_link_subscribe(cluster_link *l, const char *channel)
{
    size_t before = l->channels.count;
    names_add(&l->channels, channel);
    if (l->channels.count != before && l->sub.connected && l->state != CLUSTER_LINK_CONNECTING) {
        l->confirmations_due++;
        command2(l, &l->sub, "SUBSCRIBE", channel);
    }
}

void cluster_link_psubscribe(cluster_link *l, const char *pattern)
{
    size_t before = l->patterns.count;
    names_add(&l->patterns, pattern);
    if (l->patterns.count != before && l->sub.connected && l->state != CLUSTER_LINK_CONNECTING) {
        l->confirmations_due++;
        command2(l, &l->sub, "PSUBSCRIBE", pattern);
    }
}

bool cluster_link_publish(cluster_link *l, const char *channel, const uint8_t *data, size_t len)
{
    if (l->state != CLUSTER_LINK_UP || buf_size(&l->pub.out) > CLUSTER_LINK_MAX_PENDING ||
        !wait_for(l, NULL, NULL)) {
        l->stats.dropped++;
        return false;
    }
    const char *argv[3] = {"PUBLISH", channel, (const char *)data};
    size_t lens[3] = {7, strlen(channel), len};
    command(l, &l->pub, 3, argv, lens);
    l->stats.published++;
    return true;
}

void cluster_link_numsub(cluster_link *l, const char *channel, cluster_numsub_cb answer, void *ctx)
{
    if (l->state != CLUSTER_LINK_UP || !wait_for(l, answer, ctx)) {
        answer(ctx, false, 0);
        return;
    }
    const char *argv[3] = {"PUBSUB", "NUMSUB", channel};
    size_t lens[3] = {6, 6, strlen(channel)};
    command(l, &l->pub, 3, argv, lens);
}

/* ------------------------------------------------------------------ replies */

static bool is(const redisReply *r, const char *s)
{
    return r->type == REDIS_REPLY_STRING && r->len == strlen(s) && memcmp(r->str, s, r->len) == 0;
}

static sio_span span_of(const redisReply *r)
{
    return sio_span_of(r->str, r->len);
}

static void pub_reply(cluster_link *l, redisReply *r)
{
    if (l->wait_count == 0) {
        say(l, "redis: a reply nobody asked for on the %s connection%s", "pub", "");
        return;
    }
    waiter w = l->waiting[l->wait_head];
    l->wait_head = (l->wait_head + 1) % CLUSTER_LINK_MAX_WAITING;
    l->wait_count--;
    if (r->type == REDIS_REPLY_ERROR)
        say(l, "redis: %s%s", r->str, " (pub)");
    if (w.answer == NULL)
        return;
    /* NUMSUB answers [channel, count] */
    bool ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
              r->element[1]->type == REDIS_REPLY_INTEGER;
    w.answer(w.ctx, ok, ok ? r->element[1]->integer : 0);
}

static void sub_reply(cluster_link *l, redisReply *r)
{
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && is(r->element[0], "message") &&
        r->element[2]->type == REDIS_REPLY_STRING) {
        l->stats.received++;
        l->cb.message(l->ctx, sio_span_of("", 0), span_of(r->element[1]), span_of(r->element[2]));
        return;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 4 && is(r->element[0], "pmessage") &&
        r->element[3]->type == REDIS_REPLY_STRING) {
        l->stats.received++;
        l->cb.message(l->ctx, span_of(r->element[1]), span_of(r->element[2]),
                      span_of(r->element[3]));
        return;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
        (is(r->element[0], "subscribe") || is(r->element[0], "psubscribe"))) {
        if (l->confirmations_due > 0 && --l->confirmations_due == 0 &&
            l->state == CLUSTER_LINK_SUBSCRIBING) {
            l->state = CLUSTER_LINK_UP;
            l->backoff_ms = CLUSTER_LINK_BACKOFF_MIN_MS;
            l->stats.connects++;
            say(l, "redis: connected and subscribed%s%s", "", "");
            if (l->cb.state)
                l->cb.state(l->ctx, true);
        }
        return;
    }
    if (l->sub_replies_to_skip > 0 && r->type != REDIS_REPLY_ARRAY) {
        l->sub_replies_to_skip--;
        return;
    }
    if (r->type == REDIS_REPLY_ERROR)
        say(l, "redis: %s%s", r->str, " (sub)");
}

/* ------------------------------------------------------------------ I/O */

static bool flush(cluster_link *l, conn *c)
{
    while (buf_size(&c->out) > 0) {
        ssize_t n = send(c->fd, buf_begin(&c->out), buf_size(&c->out), MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            go_down(l, "write: ", strerror(errno));
            return false;
        }
        buf_consume(&c->out, (size_t)n);
    }
    watch(l, c, buf_size(&c->out) ? POLLIN | POLLOUT : POLLIN);
    return true;
}

/* Reads what Redis sent and handles every complete reply; false once the link went down. */
static bool drain(cluster_link *l, conn *c)
{
    uint8_t chunk[65536];
    for (;;) {
        ssize_t n = read(c->fd, chunk, sizeof chunk);
        if (n == 0) {
            go_down(l, "connection closed by Redis", "");
            return false;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n < 0) {
            go_down(l, "read: ", strerror(errno));
            return false;
        }
        if (redisReaderFeed(c->reader, (const char *)chunk, (size_t)n) != REDIS_OK) {
            go_down(l, "reply refused: ", c->reader->errstr);
            return false;
        }
        void *reply = NULL;
        bool is_sub = c == &l->sub;
        while (c->fd >= 0) {
            if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
                go_down(l, "reply refused: ", c->reader->errstr);
                return false;
            }
            if (reply == NULL)
                break;
            if (is_sub)
                sub_reply(l, reply);
            else
                pub_reply(l, reply);
            freeReplyObject(reply);
        }
        if (c->fd < 0)
            return false;
    }
}

void cluster_link_io(cluster_link *l, int fd, short revents, uint64_t now_ms)
{
    l->now = now_ms;
    conn *c = fd == l->pub.fd ? &l->pub : fd == l->sub.fd ? &l->sub : NULL;
    if (c == NULL || fd < 0)
        return;
    if (!c->connected) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            go_down(l, "connect: ", strerror(err ? err : errno));
            return;
        }
        c->connected = true;
        watch(l, c, buf_size(&c->out) ? POLLIN | POLLOUT : POLLIN);
        if (l->pub.connected && l->sub.connected)
            connected(l);
        return;
    }
    if ((revents & (POLLIN | POLLHUP | POLLERR)) && !drain(l, c))
        return;
    if (c->fd >= 0)
        flush(l, c);
}
