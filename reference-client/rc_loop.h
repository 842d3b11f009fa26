/* The client's event loop and its I/O side on sockets: one thread, one poll() per round.
 *
 * A round polls every watched descriptor (the clients' connections, and whatever else the
 * program watches, such as siocat's standard input) until the nearest deadline, calls the
 * handlers of the ready ones, then ends with rc_client_process() for every client (the
 * before-sleep phase: the sessions run, output is queued, timers fire). Handlers only record
 * what happened; the clients act on it at the end of the round. */
#ifndef RC_LOOP_H
#define RC_LOOP_H

#include <poll.h>

#include "rc.h"

typedef struct rc_loop rc_loop;
typedef void (*rc_fd_handler)(rc_loop *loop, int fd, short revents, void *ctx);

rc_loop *rc_loop_new(void);
void rc_loop_free(rc_loop *loop);

/* Watches `fd` for `events` (POLLIN, POLLOUT); a descriptor is watched once. */
bool rc_loop_watch(rc_loop *loop, int fd, short events, rc_fd_handler h, void *ctx);
void rc_loop_set_events(rc_loop *loop, int fd, short events);
void rc_loop_unwatch(rc_loop *loop, int fd);

/* A client whose connections use this loop (rc_config.io = rc_loop_io(), io_ctx = the loop). */
bool rc_loop_add_client(rc_loop *loop, rc_client *c);
void rc_loop_remove_client(rc_loop *loop, rc_client *c);

/* One round, waiting at most until `deadline` (loop clock, ms) or the clients' deadlines. */
void rc_loop_run_once(rc_loop *loop, uint64_t deadline);

/* The loop's clock (monotonic ms). */
uint64_t rc_loop_now(void);

/* The I/O side on sockets: TCP connections through this loop, the monotonic clock, random bytes
 * from the kernel. io_ctx is the rc_loop. */
const rc_io *rc_loop_io(void);

#endif
