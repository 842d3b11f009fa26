/* A single-threaded poll() event loop with one-shot timers on a monotonic clock and an
 * end-of-round phase.
 *
 * File descriptors are registered with a handler; the loop calls it with the poll() revents.
 * Timers are caller-owned structs kept in a binary min-heap ordered by deadline, so starting,
 * stopping and firing are O(log n) and an idle server sleeps until the nearest deadline.
 * Deferred work (caller-owned too) runs once at the end of the round in which it was queued,
 * after every ready descriptor was handled and every due timer fired (Redis's beforeSleep):
 * input that must wait for the rest of the round, connections to close, output to write. */
#ifndef REFSERVER_LOOP_H
#define REFSERVER_LOOP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_loop;
typedef void (*fd_handler)(struct event_loop *loop, int fd, void *ctx, short revents);

typedef struct timer {
    uint64_t deadline_ms;
    uint64_t seq;      /* tie-break: timers with the same deadline fire in start order */
    size_t heap_index; /* position in the heap; TIMER_INACTIVE when not started */
    void (*fire)(struct timer *t);
    void *ctx;
} timer;

#define TIMER_INACTIVE ((size_t)-1)

/* Work for the end of the round; queued at most once at a time. */
typedef struct deferred {
    struct deferred *next, *prev;
    void (*run)(struct deferred *d);
    void *ctx;
    bool queued;
} deferred;

/* Deferred work the end-of-round phase runs in one round at most (work queued by work is run
 * in the same round); the rest waits for the next round, so a task that re-queues itself
 * cannot starve I/O. */
#define LOOP_MAX_DEFERRED_PER_ROUND 100000u

typedef struct event_loop {
    struct pollfd *pfds;
    fd_handler *handlers;
    void **ctxs;
    size_t nfds, cap_fds;
    int *slot_of_fd; /* fd -> index in pfds, -1 when absent */
    size_t slot_of_fd_cap;
    bool has_holes; /* some pfds entries were removed during dispatch */
    timer **heap;
    size_t nheap, cap_heap;
    uint64_t timer_seq;
    deferred *deferred_head, *deferred_tail; /* the end-of-round queue, in queuing order */
} event_loop;

uint64_t loop_now_ms(void);
void loop_init(event_loop *loop);
void loop_free(event_loop *loop);
void loop_add_fd(event_loop *loop, int fd, short events, fd_handler h, void *ctx);
void loop_set_events(event_loop *loop, int fd, short events);
void loop_remove_fd(event_loop *loop, int fd);

void timer_init(timer *t, void (*fire)(timer *t), void *ctx);
void timer_start(event_loop *loop, timer *t, uint64_t delay_ms); /* restarts if active */
/* Starts (or restarts) the timer for an absolute deadline on loop_now_ms()'s clock. */
void timer_start_at(event_loop *loop, timer *t, uint64_t deadline_ms);
void timer_stop(event_loop *loop, timer *t);
static inline bool timer_active(const timer *t)
{
    return t->heap_index != TIMER_INACTIVE;
}

void deferred_init(deferred *d, void (*run)(deferred *d), void *ctx);
/* Queues `d` for the end of this round (no effect when already queued). */
void loop_defer(event_loop *loop, deferred *d);
void loop_cancel(event_loop *loop, deferred *d);

/* One poll() round: waits for I/O or the next deadline (at most max_wait_ms, not at all when
 * deferred work waits), dispatches, fires due timers, then runs the end-of-round phase. */
void loop_run_once(event_loop *loop, int max_wait_ms);

#endif
