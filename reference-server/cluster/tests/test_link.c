/* Unit tests of the Redis link that need no Redis: URL parsing, and what the link does when
 * nothing listens (it goes down, arms its backoff, and doubles it up to the bound). The link
 * against a real redis-server (subscribe, publish, NUMSUB, a restart) is tested by
 * conformance/tests/cluster_selftest/test_link.py through tests/link_probe.c. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "cluster/link.h"

static void check_url(const char *url, bool ok, const char *host, unsigned port, int db)
{
    char h[64] = "", why[128] = "";
    uint16_t p = 0;
    int d = -1;
    bool got = cluster_link_parse_url(url, h, &p, &d, why);
    CHECK(got == ok);
    if (got && ok) {
        CHECK(strcmp(h, host) == 0);
        CHECK_EQ_INT(p, port);
        CHECK_EQ_INT(d, db);
    }
    if (!got)
        CHECK(why[0] != '\0');
}

typedef struct seen {
    int fds[8];
    short events[8];
    int up, down, logs;
} seen;

static void on_watch(void *ctx, int fd, short events)
{
    seen *s = ctx;
    int slot = -1;
    for (int i = 0; i < 8 && slot < 0; i++)
        if (s->fds[i] == fd)
            slot = i;
    for (int i = 0; i < 8 && slot < 0; i++)
        if (s->fds[i] == -1)
            slot = i;
    if (slot >= 0) {
        s->fds[slot] = events ? fd : -1;
        s->events[slot] = events;
    }
}

static void on_message(void *ctx, sio_span pattern, sio_span channel, sio_span data)
{
    (void)ctx, (void)pattern, (void)channel, (void)data;
}

static void on_state(void *ctx, bool up)
{
    seen *s = ctx;
    up ? s->up++ : s->down++;
}

static void on_log(void *ctx, const char *line)
{
    seen *s = ctx;
    (void)line;
    s->logs++;
}

static int numsub_answers, numsub_failed;

static void on_numsub(void *ctx, bool ok, long long count)
{
    (void)ctx, (void)count;
    numsub_answers++;
    numsub_failed += !ok;
}

/* A port nothing listens on: bound, then closed. */
static uint16_t closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/* Runs the link's fds until it is DOWN again (a refused connect reports at once or on POLLOUT). */
static void run_until_down(cluster_link *l, seen *s, uint64_t now)
{
    for (int round = 0; round < 100 && cluster_link_state_of(l) != CLUSTER_LINK_DOWN; round++) {
        struct pollfd p[8];
        int n = 0;
        for (int i = 0; i < 8; i++)
            if (s->fds[i] >= 0)
                p[n++] = (struct pollfd){.fd = s->fds[i], .events = s->events[i]};
        poll(p, (nfds_t)n, 1000);
        for (int i = 0; i < n; i++)
            if (p[i].revents)
                cluster_link_io(l, p[i].fd, p[i].revents, now);
    }
}

static void test_backoff_without_redis(void)
{
    seen s = {.fds = {-1, -1, -1, -1, -1, -1, -1, -1}};
    cluster_link_callbacks cb = {on_watch, on_message, on_state, on_log};
    cluster_link *l = cluster_link_new("127.0.0.1", closed_port(), 0, &cb, &s);
    cluster_link_subscribe(l, "socket.io-request#/#");
    cluster_link_numsub(l, "x", on_numsub, NULL);
    CHECK_EQ_INT(numsub_answers, 1); /* not UP: answered "failed" at once */
    CHECK_EQ_INT(numsub_failed, 1);
    CHECK(!cluster_link_publish(l, "x", (const uint8_t *)"y", 1));
    uint64_t now = 1000, expect = CLUSTER_LINK_BACKOFF_MIN_MS;
    cluster_link_start(l, now);
    for (int attempt = 0; attempt < 8; attempt++) {
        run_until_down(l, &s, now);
        CHECK_EQ_INT(cluster_link_state_of(l), CLUSTER_LINK_DOWN);
        CHECK_EQ_INT(cluster_link_deadline(l), now + expect); /* 50, 100, 200, … up to the bound */
        cluster_link_tick(l, now + expect - 1);               /* not yet */
        CHECK_EQ_INT(cluster_link_state_of(l), CLUSTER_LINK_DOWN);
        now += expect;
        cluster_link_tick(l, now);
        expect =
            expect * 2 > CLUSTER_LINK_BACKOFF_MAX_MS ? CLUSTER_LINK_BACKOFF_MAX_MS : expect * 2;
    }
    CHECK_EQ_INT(s.up, 0);
    CHECK_EQ_INT(s.down, 0); /* never came up, so never reported going down */
    CHECK(s.logs >= 8);
    CHECK_EQ_INT(cluster_link_stats_of(l).dropped, 1);
    cluster_link_free(l);
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(s.fds[i], -1); /* every fd unwatched before it closed */
}

int main(void)
{
    check_url("redis://127.0.0.1:6379", true, "127.0.0.1", 6379, 0);
    check_url("redis://localhost:7000/3", true, "127.0.0.1", 7000, 3);
    check_url("redis://127.0.0.1:6379/", true, "127.0.0.1", 6379, 0);
    check_url("rediss://127.0.0.1:6379", false, "", 0, 0);
    check_url("redis://127.0.0.1", false, "", 0, 0);
    check_url("redis://127.0.0.1:0", false, "", 0, 0);
    check_url("redis://127.0.0.1:65536", false, "", 0, 0);
    check_url("redis://example.org:6379", false, "", 0, 0);
    check_url("redis://127.0.0.1:6379/x", false, "", 0, 0);
    test_backoff_without_redis();
    CHECK_DONE();
}
