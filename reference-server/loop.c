/* poll() loop and timer heap. See loop.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "loop.h"

uint64_t loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void loop_init(event_loop *loop)
{
    memset(loop, 0, sizeof *loop);
}

void loop_free(event_loop *loop)
{
    free(loop->pfds);
    free(loop->handlers);
    free(loop->ctxs);
    free(loop->slot_of_fd);
    free(loop->heap);
    memset(loop, 0, sizeof *loop);
}

static void grow_fd_map(event_loop *loop, int fd)
{
    size_t need = (size_t)fd + 1;
    if (need <= loop->slot_of_fd_cap)
        return;
    size_t cap = loop->slot_of_fd_cap ? loop->slot_of_fd_cap : 64;
    while (cap < need)
        cap *= 2;
    loop->slot_of_fd = xrealloc(loop->slot_of_fd, cap * sizeof(int));
    for (size_t i = loop->slot_of_fd_cap; i < cap; i++)
        loop->slot_of_fd[i] = -1;
    loop->slot_of_fd_cap = cap;
}

void loop_add_fd(event_loop *loop, int fd, short events, fd_handler h, void *ctx)
{
    grow_fd_map(loop, fd);
    if (loop->nfds == loop->cap_fds) {
        loop->cap_fds = loop->cap_fds ? loop->cap_fds * 2 : 64;
        loop->pfds = xrealloc(loop->pfds, loop->cap_fds * sizeof *loop->pfds);
        loop->handlers = xrealloc(loop->handlers, loop->cap_fds * sizeof *loop->handlers);
        loop->ctxs = xrealloc(loop->ctxs, loop->cap_fds * sizeof *loop->ctxs);
    }
    size_t i = loop->nfds++;
    loop->pfds[i] = (struct pollfd){.fd = fd, .events = events, .revents = 0};
    loop->handlers[i] = h;
    loop->ctxs[i] = ctx;
    loop->slot_of_fd[fd] = (int)i;
}

void loop_set_events(event_loop *loop, int fd, short events)
{
    if (fd >= 0 && (size_t)fd < loop->slot_of_fd_cap && loop->slot_of_fd[fd] >= 0)
        loop->pfds[loop->slot_of_fd[fd]].events = events;
}

/* Removal only blanks the slot (poll ignores negative fds) so that a dispatch pass in progress
 * keeps valid indices; the holes are squeezed out after the pass. */
void loop_remove_fd(event_loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->slot_of_fd_cap || loop->slot_of_fd[fd] < 0)
        return;
    size_t i = (size_t)loop->slot_of_fd[fd];
    loop->pfds[i].fd = -1;
    loop->pfds[i].revents = 0;
    loop->slot_of_fd[fd] = -1;
    loop->has_holes = true;
}

static void compact_fds(event_loop *loop)
{
    size_t w = 0;
    for (size_t r = 0; r < loop->nfds; r++) {
        if (loop->pfds[r].fd < 0)
            continue;
        loop->pfds[w] = loop->pfds[r];
        loop->handlers[w] = loop->handlers[r];
        loop->ctxs[w] = loop->ctxs[r];
        loop->slot_of_fd[loop->pfds[w].fd] = (int)w;
        w++;
    }
    loop->nfds = w;
    loop->has_holes = false;
}

/* ------------------------------------------------------------------ timer heap */

static bool timer_before(const timer *a, const timer *b)
{
    return a->deadline_ms < b->deadline_ms || (a->deadline_ms == b->deadline_ms && a->seq < b->seq);
}

static void heap_place(event_loop *loop, size_t i, timer *t)
{
    loop->heap[i] = t;
    t->heap_index = i;
}

static void sift_up(event_loop *loop, size_t i)
{
    timer *t = loop->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(t, loop->heap[parent]))
            break;
        heap_place(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_place(loop, i, t);
}

static void sift_down(event_loop *loop, size_t i)
{
    timer *t = loop->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= loop->nheap)
            break;
        if (child + 1 < loop->nheap && timer_before(loop->heap[child + 1], loop->heap[child]))
            child++;
        if (!timer_before(loop->heap[child], t))
            break;
        heap_place(loop, i, loop->heap[child]);
        i = child;
    }
    heap_place(loop, i, t);
}

void timer_init(timer *t, void (*fire)(timer *t), void *ctx)
{
    memset(t, 0, sizeof *t);
    t->heap_index = TIMER_INACTIVE;
    t->fire = fire;
    t->ctx = ctx;
}

void timer_stop(event_loop *loop, timer *t)
{
    if (!timer_active(t))
        return;
    size_t i = t->heap_index;
    t->heap_index = TIMER_INACTIVE;
    timer *last = loop->heap[--loop->nheap];
    if (i == loop->nheap)
        return;
    heap_place(loop, i, last);
    sift_down(loop, i);
    sift_up(loop, last->heap_index);
}

void timer_start(event_loop *loop, timer *t, uint64_t delay_ms)
{
    timer_start_at(loop, t, loop_now_ms() + delay_ms);
}

void timer_start_at(event_loop *loop, timer *t, uint64_t deadline_ms)
{
    timer_stop(loop, t);
    if (loop->nheap == loop->cap_heap) {
        loop->cap_heap = loop->cap_heap ? loop->cap_heap * 2 : 64;
        loop->heap = xrealloc(loop->heap, loop->cap_heap * sizeof *loop->heap);
    }
    t->deadline_ms = deadline_ms;
    t->seq = loop->timer_seq++;
    heap_place(loop, loop->nheap++, t);
    sift_up(loop, t->heap_index);
}

/* Fires every timer whose deadline has passed. A bound on the number fired per round keeps a
 * timer that re-arms itself with delay 0 from starving I/O. */
static void run_timers(event_loop *loop)
{
    uint64_t now = loop_now_ms();
    for (size_t fired = 0; loop->nheap > 0 && fired < 100000; fired++) {
        timer *t = loop->heap[0];
        if (t->deadline_ms > now)
            break;
        timer_stop(loop, t);
        t->fire(t);
    }
}

/* ------------------------------------------------------------------ end of round */

void deferred_init(deferred *d, void (*run)(deferred *d), void *ctx)
{
    memset(d, 0, sizeof *d);
    d->run = run;
    d->ctx = ctx;
}

void loop_defer(event_loop *loop, deferred *d)
{
    if (d->queued)
        return;
    d->queued = true;
    d->next = NULL;
    d->prev = loop->deferred_tail;
    if (loop->deferred_tail)
        loop->deferred_tail->next = d;
    else
        loop->deferred_head = d;
    loop->deferred_tail = d;
}

void loop_cancel(event_loop *loop, deferred *d)
{
    if (!d->queued)
        return;
    if (d->prev)
        d->prev->next = d->next;
    else
        loop->deferred_head = d->next;
    if (d->next)
        d->next->prev = d->prev;
    else
        loop->deferred_tail = d->prev;
    d->next = d->prev = NULL;
    d->queued = false;
}

static void run_deferred(event_loop *loop)
{
    for (size_t ran = 0; loop->deferred_head && ran < LOOP_MAX_DEFERRED_PER_ROUND; ran++) {
        deferred *d = loop->deferred_head;
        loop_cancel(loop, d);
        d->run(d);
    }
}

static int poll_timeout(event_loop *loop, int max_wait_ms)
{
    if (loop->deferred_head)
        return 0;
    if (loop->nheap == 0)
        return max_wait_ms;
    uint64_t now = loop_now_ms(), due = loop->heap[0]->deadline_ms;
    uint64_t wait = due > now ? due - now : 0;
    return wait < (uint64_t)max_wait_ms ? (int)wait : max_wait_ms;
}

void loop_run_once(event_loop *loop, int max_wait_ms)
{
    int n = poll(loop->pfds, (nfds_t)loop->nfds, poll_timeout(loop, max_wait_ms));
    if (n < 0 && errno != EINTR)
        return;
    size_t count = loop->nfds; /* handlers may add fds; those wait for the next round */
    for (size_t i = 0; n > 0 && i < count; i++) {
        short rev = loop->pfds[i].revents;
        if (rev == 0 || loop->pfds[i].fd < 0)
            continue;
        loop->pfds[i].revents = 0;
        loop->handlers[i](loop, loop->pfds[i].fd, loop->ctxs[i], rev);
    }
    if (loop->has_holes)
        compact_fds(loop);
    run_timers(loop);
    run_deferred(loop);
}
