/* Unit tests of the event loop: the timer heap's order under random starts and stops, restarts,
 * and descriptors removed while a poll round is being dispatched. */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "loop.h"

#define TIMERS 500

static uint64_t fired_at[TIMERS];
static int fire_order[TIMERS], fired_count;

static void record_fire(timer *t)
{
    int i = (int)(intptr_t)t->ctx;
    fire_order[fired_count++] = i;
    fired_at[i] = t->deadline_ms;
}

/* Random deadlines, a third of them stopped again: the rest fire once each, in deadline order. */
static void test_heap_order(void)
{
    event_loop loop;
    static timer timers[TIMERS];
    bool stopped[TIMERS] = {false};
    loop_init(&loop);
    srand(7);
    for (int i = 0; i < TIMERS; i++) {
        timer_init(&timers[i], record_fire, (void *)(intptr_t)i);
        timer_start(&loop, &timers[i], (uint64_t)(rand() % 30));
    }
    for (int i = 0; i < TIMERS; i += 3) {
        timer_stop(&loop, &timers[i]);
        stopped[i] = true;
    }
    timer_start(&loop, &timers[1], 40); /* a restart moves the deadline */
    uint64_t end = loop_now_ms() + 2000;
    while (loop.nheap > 0 && loop_now_ms() < end)
        loop_run_once(&loop, 10);
    int expected = 0;
    for (int i = 0; i < TIMERS; i++)
        expected += !stopped[i];
    CHECK_EQ_INT(fired_count, expected);
    for (int k = 1; k < fired_count; k++)
        CHECK(fired_at[fire_order[k - 1]] <= fired_at[fire_order[k]]);
    CHECK_EQ_INT(fire_order[fired_count - 1], 1);
    for (int i = 0; i < TIMERS; i++)
        CHECK(!timer_active(&timers[i]));
    loop_free(&loop);
}

static int pipe_a[2], pipe_b[2], handled;

/* The first readable descriptor's handler removes the second: it must not be called. */
static void remove_other(event_loop *loop, int fd, void *ctx, short revents)
{
    char c;
    (void)ctx;
    (void)revents;
    CHECK_EQ_INT(read(fd, &c, 1), 1);
    handled++;
    loop_remove_fd(loop, fd == pipe_a[0] ? pipe_b[0] : pipe_a[0]);
}

static void test_remove_during_dispatch(void)
{
    event_loop loop;
    loop_init(&loop);
    CHECK(pipe(pipe_a) == 0 && pipe(pipe_b) == 0);
    loop_add_fd(&loop, pipe_a[0], POLLIN, remove_other, NULL);
    loop_add_fd(&loop, pipe_b[0], POLLIN, remove_other, NULL);
    CHECK_EQ_INT(write(pipe_a[1], "x", 1), 1);
    CHECK_EQ_INT(write(pipe_b[1], "y", 1), 1);
    loop_run_once(&loop, 100);
    CHECK_EQ_INT(handled, 1);
    CHECK_EQ_INT(loop.nfds, 1); /* the hole was squeezed out */
    loop_free(&loop);
    close(pipe_a[0]);
    close(pipe_a[1]);
    close(pipe_b[0]);
    close(pipe_b[1]);
}

int main(void)
{
    test_heap_order();
    test_remove_during_dispatch();
    CHECK_DONE();
}
