/* A test driver for the Redis link against a real redis-server: commands on standard input, one
 * per line, events on standard output, one per line, all in one poll() loop like the server's.
 *
 *   in:  sub CHANNEL | psub PATTERN | pub CHANNEL HEX | numsub CHANNEL | quit
 *   out: up | down | msg PATTERN|- CHANNEL HEX | numsub ok|failed N | pub ok|dropped | log TEXT
 * Used by conformance/tests/cluster_selftest/test_link.py. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster/link.h"

static struct pollfd fds[8];
static int nfds = 1; /* fds[0] is standard input */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_watch(void *ctx, int fd, short events)
{
    (void)ctx;
    for (int i = 1; i < nfds; i++)
        if (fds[i].fd == fd) {
            if (events)
                fds[i].events = events;
            else
                fds[i] = fds[--nfds];
            return;
        }
    if (events && nfds < 8)
        fds[nfds++] = (struct pollfd){.fd = fd, .events = events};
}

static void hex_out(sio_span s)
{
    for (size_t i = 0; i < s.len; i++)
        printf("%02x", s.ptr[i]);
}

static void on_message(void *ctx, sio_span pattern, sio_span channel, sio_span data)
{
    (void)ctx;
    printf("msg %.*s %.*s ", pattern.len ? (int)pattern.len : 1,
           pattern.len ? (const char *)pattern.ptr : "-", (int)channel.len,
           (const char *)channel.ptr);
    hex_out(data);
    printf("\n");
    fflush(stdout);
}

static void on_state(void *ctx, bool up)
{
    (void)ctx;
    printf("%s\n", up ? "up" : "down");
    fflush(stdout);
}

static void on_log(void *ctx, const char *line)
{
    (void)ctx;
    printf("log %s\n", line);
    fflush(stdout);
}

static void on_numsub(void *ctx, bool ok, long long count)
{
    (void)ctx;
    printf("numsub %s %lld\n", ok ? "ok" : "failed", count);
    fflush(stdout);
}

static bool command(cluster_link *l, char *line)
{
    char *verb = strtok(line, " \n"), *a = strtok(NULL, " \n"), *b = strtok(NULL, " \n");
    if (verb == NULL)
        return true;
    if (strcmp(verb, "quit") == 0)
        return false;
    if (strcmp(verb, "sub") == 0 && a)
        cluster_link_subscribe(l, a);
    else if (strcmp(verb, "psub") == 0 && a)
        cluster_link_psubscribe(l, a);
    else if (strcmp(verb, "numsub") == 0 && a)
        cluster_link_numsub(l, a, on_numsub, NULL);
    else if (strcmp(verb, "pub") == 0 && a && b) {
        size_t n = strlen(b) / 2;
        uint8_t *data = malloc(n + 1);
        for (size_t i = 0; i < n; i++) {
            unsigned v;
            sscanf(b + 2 * i, "%2x", &v);
            data[i] = (uint8_t)v;
        }
        printf("pub %s\n", cluster_link_publish(l, a, data, n) ? "ok" : "dropped");
        fflush(stdout);
        free(data);
    }
    return true;
}

int main(int argc, char **argv)
{
    char host[64], why[128];
    uint16_t port;
    int db;
    if (argc != 2 || !cluster_link_parse_url(argv[1], host, &port, &db, why)) {
        fprintf(stderr, "usage: link_probe redis://HOST:PORT[/DB]\n");
        return 2;
    }
    cluster_link_callbacks cb = {on_watch, on_message, on_state, on_log};
    cluster_link *l = cluster_link_new(host, port, db, &cb, NULL);
    fds[0] = (struct pollfd){.fd = 0, .events = POLLIN};
    cluster_link_start(l, now_ms());
    char line[1 << 16];
    size_t have = 0;
    for (bool running = true; running;) {
        uint64_t deadline = cluster_link_deadline(l), now = now_ms();
        int wait = deadline ? (deadline > now ? (int)(deadline - now) : 0) : 1000;
        poll(fds, (nfds_t)nfds, wait);
        struct pollfd ready[8];
        int n = nfds;
        memcpy(ready, fds, sizeof ready);
        for (int i = 0; i < n && running; i++) {
            if (!ready[i].revents)
                continue;
            if (ready[i].fd != 0) {
                cluster_link_io(l, ready[i].fd, ready[i].revents, now_ms());
                continue;
            }
            ssize_t got = read(0, line + have, sizeof line - 1 - have);
            if (got <= 0)
                running = false;
            have += got > 0 ? (size_t)got : 0;
            char *nl;
            while (running && (nl = memchr(line, '\n', have)) != NULL) {
                *nl = '\0';
                running = command(l, line);
                have -= (size_t)(nl + 1 - line);
                memmove(line, nl + 1, have);
            }
        }
        cluster_link_tick(l, now_ms());
    }
    cluster_link_free(l);
    return 0;
}
