/* The wrapped socket calls; see fake_net.h. */
#include "fake_net.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

fake_net_state fake_net;

ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_accept(int fd, struct sockaddr *addr, socklen_t *len);
int __real_poll(struct pollfd *fds, nfds_t nfds, int timeout);
int __real_close(int fd);
int __real_shutdown(int fd, int how);
int __real_socket(int domain, int type, int protocol);
int __real_bind(int fd, const struct sockaddr *addr, socklen_t len);
int __real_listen(int fd, int backlog);
int __real_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int __real_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int __real_fcntl(int fd, int cmd, ...);
int __real_clock_gettime(clockid_t clk, struct timespec *ts);

/* Prototypes of the wrappers (the linker finds them by name). */
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_accept(int fd, struct sockaddr *addr, socklen_t *len);
int __wrap_poll(struct pollfd *fds, nfds_t nfds, int timeout);
int __wrap_close(int fd);
int __wrap_shutdown(int fd, int how);
int __wrap_socket(int domain, int type, int protocol);
int __wrap_bind(int fd, const struct sockaddr *addr, socklen_t len);
int __wrap_listen(int fd, int backlog);
int __wrap_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int __wrap_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int __wrap_fcntl(int fd, int cmd, ...);
int __wrap_clock_gettime(clockid_t clk, struct timespec *ts);

static bool is_fake(int fd)
{
    return fake_net.active && fd >= FAKE_FD_BASE && fd < FAKE_CONN_FD(FAKE_MAX_CONNS);
}

static fake_conn *conn_of(int fd)
{
    if (fd < FAKE_CONN_FD(0) || fd >= FAKE_CONN_FD(FAKE_MAX_CONNS))
        return NULL;
    fake_conn *c = &fake_net.conns[fd - FAKE_CONN_FD(0)];
    return c->used && c->open ? c : NULL;
}

void fake_net_reset(void)
{
    memset(&fake_net, 0, sizeof fake_net);
}

void fake_net_send(unsigned i, const uint8_t *p, size_t n)
{
    fake_conn *c = &fake_net.conns[i];
    if (n == 0)
        return;
    uint8_t *more = realloc(c->in, c->in_len + n + 1);
    if (!more)
        abort();
    c->in = more;
    memcpy(c->in + c->in_len, p, n);
    c->in_len += n;
}

void fake_net_free(void)
{
    for (unsigned i = 0; i < FAKE_MAX_CONNS; i++) {
        free(fake_net.conns[i].in);
        free(fake_net.conns[i].out);
    }
    fake_net_reset();
}

/* Random bytes are a counter, so session ids are the same on every run of an input. */
static ssize_t read_random(uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(fake_net.random_counter++ * 37u + 11u);
    return (ssize_t)n;
}

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    if (!is_fake(fd))
        return __real_read(fd, buf, n);
    if (fd == FAKE_RANDOM_FD)
        return read_random(buf, n);
    fake_conn *c = conn_of(fd);
    if (!c) {
        errno = EBADF;
        return -1;
    }
    if (c->peer_reset) {
        errno = ECONNRESET;
        return -1;
    }
    if (c->in_len == 0) {
        if (c->peer_eof || c->shut)
            return 0;
        errno = EAGAIN;
        return -1;
    }
    size_t take = n < c->in_len ? n : c->in_len;
    memcpy(buf, c->in, take);
    memmove(c->in, c->in + take, c->in_len - take);
    c->in_len -= take;
    return (ssize_t)take;
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (!is_fake(fd))
        return __real_write(fd, buf, n);
    fake_conn *c = conn_of(fd);
    if (!c || c->shut || c->peer_reset) {
        errno = EPIPE;
        return -1;
    }
    if (c->write_blocked) {
        errno = EAGAIN;
        return -1;
    }
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n)
            cap *= 2;
        uint8_t *more = realloc(c->out, cap);
        if (!more)
            abort();
        c->out = more;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, buf, n);
    c->out_len += n;
    return (ssize_t)n;
}

int __wrap_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    if (!is_fake(fd))
        return __real_accept(fd, addr, len);
    if (fake_net.pending_accepts == 0 || fake_net.accepted >= FAKE_MAX_CONNS) {
        errno = EAGAIN;
        return -1;
    }
    fake_net.pending_accepts--;
    fake_conn *c = &fake_net.conns[fake_net.accepted];
    c->used = c->open = true;
    return FAKE_CONN_FD(fake_net.accepted++);
}

static short fake_revents(const struct pollfd *p)
{
    if (p->fd == FAKE_LISTEN_FD)
        return (p->events & POLLIN) && fake_net.pending_accepts ? POLLIN : 0;
    fake_conn *c = conn_of(p->fd);
    if (!c)
        return POLLNVAL;
    short r = 0;
    if ((p->events & POLLIN) && (c->in_len || c->peer_eof || c->peer_reset || c->shut))
        r |= POLLIN;
    if ((p->events & POLLOUT) && !c->write_blocked)
        r |= POLLOUT;
    if (c->shut)
        r |= POLLHUP;
    return r;
}

/* Ready descriptors are reported at once; with none ready, the clock moves by the timeout. */
int __wrap_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
    bool all_fake = fake_net.active;
    for (nfds_t i = 0; i < nfds; i++)
        all_fake &= fds[i].fd < 0 || is_fake(fds[i].fd);
    if (!all_fake)
        return __real_poll(fds, nfds, timeout);
    int ready = 0;
    for (nfds_t i = 0; i < nfds; i++) {
        fds[i].revents = fds[i].fd < 0 ? 0 : fake_revents(&fds[i]);
        ready += fds[i].revents != 0;
    }
    if (ready == 0 && timeout > 0)
        fake_net.now_ms += (uint64_t)timeout;
    return ready;
}

int __wrap_close(int fd)
{
    if (!is_fake(fd))
        return __real_close(fd);
    fake_conn *c = conn_of(fd);
    if (c) {
        c->open = false;
        if (fake_net.on_close)
            fake_net.on_close((unsigned)(fd - FAKE_CONN_FD(0)), c->out, c->out_len);
    }
    return 0;
}

int __wrap_shutdown(int fd, int how)
{
    if (!is_fake(fd))
        return __real_shutdown(fd, how);
    fake_conn *c = conn_of(fd);
    if (c)
        c->shut = true;
    return 0;
}

int __wrap_socket(int domain, int type, int protocol)
{
    return fake_net.active ? FAKE_LISTEN_FD : __real_socket(domain, type, protocol);
}

int __wrap_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    return is_fake(fd) ? 0 : __real_bind(fd, addr, len);
}

int __wrap_listen(int fd, int backlog)
{
    return is_fake(fd) ? 0 : __real_listen(fd, backlog);
}

int __wrap_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    return is_fake(fd) ? 0 : __real_setsockopt(fd, level, name, val, len);
}

int __wrap_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
    if (!is_fake(fd))
        return __real_getsockname(fd, addr, len);
    struct sockaddr_in in;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_port = htons(3000);
    memcpy(addr, &in, *len < sizeof in ? *len : sizeof in);
    return 0;
}

/* The server only uses F_GETFL and F_SETFL (to set O_NONBLOCK), both with an int argument. */
int __wrap_fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    int arg = va_arg(ap, int);
    va_end(ap);
    return is_fake(fd) ? 0 : __real_fcntl(fd, cmd, arg);
}

int __wrap_clock_gettime(clockid_t clk, struct timespec *ts)
{
    if (!fake_net.active || clk != CLOCK_MONOTONIC)
        return __real_clock_gettime(clk, ts);
    ts->tv_sec = (time_t)(fake_net.now_ms / 1000u);
    ts->tv_nsec = (long)(fake_net.now_ms % 1000u) * 1000000L;
    return 0;
}
