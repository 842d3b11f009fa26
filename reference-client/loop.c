/* The client's poll() loop (rc_loop.h). A client has a handful of descriptors (polling GET and
 * POST, a WebSocket, a probe, the program's own input), so watches live in one small array;
 * a watch removed while handlers run is blanked and squeezed out after the round. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rc_loop.h"

typedef struct watch {
    rc_fd_handler handler;
    void *ctx;
} watch;

struct rc_loop {
    struct pollfd *fds;
    watch *watches;
    size_t count, cap;
    bool has_holes;
    rc_client **clients;
    uint64_t *client_deadline;
    size_t nclients, cap_clients;
};

uint64_t rc_loop_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

rc_loop *rc_loop_new(void)
{
    return calloc(1, sizeof(rc_loop));
}

void rc_loop_free(rc_loop *loop)
{
    if (!loop)
        return;
    free(loop->fds);
    free(loop->watches);
    free(loop->clients);
    free(loop->client_deadline);
    free(loop);
}

static long slot_of(const rc_loop *loop, int fd)
{
    for (size_t i = 0; i < loop->count; i++)
        if (loop->fds[i].fd == fd)
            return (long)i;
    return -1;
}

bool rc_loop_watch(rc_loop *loop, int fd, short events, rc_fd_handler h, void *ctx)
{
    if (fd < 0 || slot_of(loop, fd) >= 0)
        return false;
    if (loop->count == loop->cap) {
        size_t cap = loop->cap ? loop->cap * 2 : 8;
        struct pollfd *fds = realloc(loop->fds, cap * sizeof *fds);
        if (!fds)
            return false;
        loop->fds = fds;
        watch *w = realloc(loop->watches, cap * sizeof *w);
        if (!w)
            return false;
        loop->watches = w;
        loop->cap = cap;
    }
    loop->fds[loop->count] = (struct pollfd){.fd = fd, .events = events};
    loop->watches[loop->count] = (watch){h, ctx};
    loop->count++;
    return true;
}

void rc_loop_set_events(rc_loop *loop, int fd, short events)
{
    long i = slot_of(loop, fd);
    if (i >= 0)
        loop->fds[i].events = events;
}

void rc_loop_unwatch(rc_loop *loop, int fd)
{
    long i = slot_of(loop, fd);
    if (i < 0)
        return;
    loop->fds[i].fd = -1; /* poll() skips it; squeezed out after the round */
    loop->fds[i].revents = 0;
    loop->has_holes = true;
}

bool rc_loop_add_client(rc_loop *loop, rc_client *c)
{
    if (loop->nclients == loop->cap_clients) {
        size_t cap = loop->cap_clients ? loop->cap_clients * 2 : 2;
        rc_client **cl = realloc(loop->clients, cap * sizeof *cl);
        if (!cl)
            return false;
        loop->clients = cl;
        uint64_t *d = realloc(loop->client_deadline, cap * sizeof *d);
        if (!d)
            return false;
        loop->client_deadline = d;
        loop->cap_clients = cap;
    }
    loop->clients[loop->nclients] = c;
    loop->client_deadline[loop->nclients] = 0; /* processed in the first round */
    loop->nclients++;
    return true;
}

void rc_loop_remove_client(rc_loop *loop, rc_client *c)
{
    for (size_t i = 0; i < loop->nclients; i++) {
        if (loop->clients[i] != c)
            continue;
        loop->nclients--;
        loop->clients[i] = loop->clients[loop->nclients];
        loop->client_deadline[i] = loop->client_deadline[loop->nclients];
        return;
    }
}

static void squeeze(rc_loop *loop)
{
    size_t w = 0;
    for (size_t r = 0; r < loop->count; r++) {
        if (loop->fds[r].fd < 0)
            continue;
        loop->fds[w] = loop->fds[r];
        loop->watches[w] = loop->watches[r];
        w++;
    }
    loop->count = w;
    loop->has_holes = false;
}

void rc_loop_run_once(rc_loop *loop, uint64_t deadline)
{
    for (size_t i = 0; i < loop->nclients; i++)
        if (loop->client_deadline[i] < deadline)
            deadline = loop->client_deadline[i];
    uint64_t now = rc_loop_now();
    uint64_t wait = deadline > now ? deadline - now : 0;
    int timeout = wait > 60000 ? 60000 : (int)wait;
    int n = poll(loop->fds, (nfds_t)loop->count, timeout);
    size_t count = loop->count; /* watches added by handlers wait for the next round */
    for (size_t i = 0; n > 0 && i < count; i++) {
        short rev = loop->fds[i].revents;
        loop->fds[i].revents = 0;
        if (rev && loop->fds[i].fd >= 0)
            loop->watches[i].handler(loop, loop->fds[i].fd, rev, loop->watches[i].ctx);
    }
    if (n < 0 && errno != EINTR)
        return;
    if (loop->has_holes)
        squeeze(loop);
    for (size_t i = 0; i < loop->nclients; i++)
        loop->client_deadline[i] = rc_client_process(loop->clients[i]);
    if (loop->has_holes)
        squeeze(loop);
}
