/* The client's I/O side on sockets (rc_loop_io): non-blocking TCP connections watched by the
 * loop, reads and writes reported to the links, the monotonic clock, the kernel's random bytes. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rc_loop.h"

/* Bytes read from a socket per read() call. */
#define NET_READ_CHUNK 65536u

typedef struct net_sock {
    int fd;
    rc_link *link;
    rc_loop *loop;
    bool connecting;
    bool at_eof; /* the end (or an error) was reported; nothing more is read */
} net_sock;

static short events_for(const net_sock *s)
{
    if (s->connecting)
        return POLLOUT;
    short ev = s->at_eof ? 0 : POLLIN;
    if (rc_link_output(s->link).len)
        ev |= POLLOUT;
    return ev;
}

static void update(net_sock *s)
{
    rc_loop_set_events(s->loop, s->fd, events_for(s));
}

static void finish_connect(net_sock *s)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    s->connecting = false;
    if (err)
        s->at_eof = true;
    rc_link_connected(s->link, err);
    update(s);
}

static void read_some(net_sock *s)
{
    uint8_t buf[NET_READ_CHUNK];
    for (int rounds = 0; rounds < 16; rounds++) { /* bounded: other sockets get their turn */
        ssize_t n = read(s->fd, buf, sizeof buf);
        if (n > 0) {
            rc_link_received(s->link, buf, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        s->at_eof = true;
        rc_link_closed(s->link, n == 0 ? 0 : errno);
        return;
    }
}

static void write_some(net_sock *s)
{
    sio_span out = rc_link_output(s->link);
    while (out.len) {
        ssize_t n = send(s->fd, out.ptr, out.len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && !s->at_eof) {
                s->at_eof = true;
                rc_link_closed(s->link, errno);
            }
            return;
        }
        rc_link_wrote(s->link, (size_t)n);
        out = rc_link_output(s->link);
    }
}

static void on_ready(rc_loop *loop, int fd, short revents, void *ctx)
{
    (void)loop;
    (void)fd;
    net_sock *s = ctx;
    if (s->connecting) {
        finish_connect(s);
        return;
    }
    if ((revents & POLLOUT) && !s->at_eof)
        write_some(s);
    if ((revents & (POLLIN | POLLHUP | POLLERR)) && !s->at_eof)
        read_some(s);
    update(s);
}

/* A non-blocking connect to the first address of host:port that accepts one. */
static int start_connect(const char *host, uint16_t port, int *fd_out)
{
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0)
        return gai == EAI_SYSTEM ? errno : EHOSTUNREACH;
    int err = ECONNREFUSED;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
            *fd_out = fd;
            freeaddrinfo(res);
            return 0;
        }
        err = errno;
        close(fd);
    }
    freeaddrinfo(res);
    return err;
}

static int net_open(void *io_ctx, rc_link *link, const char *host, uint16_t port)
{
    int fd = -1;
    int err = start_connect(host, port, &fd);
    if (err)
        return err;
    net_sock *s = calloc(1, sizeof *s);
    if (!s || !rc_loop_watch(io_ctx, fd, POLLOUT, on_ready, s)) {
        free(s);
        close(fd);
        return ENOMEM;
    }
    s->fd = fd;
    s->link = link;
    s->loop = io_ctx;
    s->connecting = true;
    rc_link_set_io_data(link, s);
    return 0;
}

static void net_want_write(void *io_ctx, rc_link *link)
{
    (void)io_ctx;
    net_sock *s = rc_link_io_data(link);
    if (s)
        update(s);
}

static void net_close(void *io_ctx, rc_link *link)
{
    net_sock *s = rc_link_io_data(link);
    if (!s)
        return;
    rc_loop_unwatch(io_ctx, s->fd);
    close(s->fd);
    free(s);
    rc_link_set_io_data(link, NULL);
}

static uint64_t net_now(void *io_ctx)
{
    (void)io_ctx;
    return rc_loop_now();
}

static void net_random(void *io_ctx, uint8_t *out, size_t n)
{
    (void)io_ctx;
    while (n) {
        ssize_t got = getrandom(out, n, 0);
        if (got <= 0) {
            if (got < 0 && errno == EINTR)
                continue;
            abort(); /* no randomness: WebSocket masks would be predictable */
        }
        out += got;
        n -= (size_t)got;
    }
}

const rc_io *rc_loop_io(void)
{
    static const rc_io io = {net_open, net_want_write, net_close, net_now, net_random};
    return &io;
}
