/* TCP: the listening socket, accepting, non-blocking reads and writes, closing. Input is handed
 * to the HTTP or WebSocket layer according to the connection state. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eio.h"
#include "server.h"

static void on_conn_event(event_loop *loop, int fd, void *ctx, short revents);

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL, 0);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static void on_listen_event(event_loop *loop, int fd, void *ctx, short revents);

int net_listen(server *srv)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)srv->cfg.port);
    if (inet_pton(AF_INET, srv->cfg.host, &addr.sin_addr) != 1) {
        log_msg(srv, LOG_ERROR, "--host %s is not an IPv4 address", srv->cfg.host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1024) < 0 ||
        set_nonblocking(fd) < 0) {
        log_msg(srv, LOG_ERROR, "cannot listen on %s:%d: %s", srv->cfg.host, srv->cfg.port,
                strerror(errno));
        close(fd);
        return -1;
    }
    socklen_t len = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &len);
    srv->listen_fd = fd;
    loop_add_fd(&srv->loop, fd, POLLIN, on_listen_event, srv);
    return ntohs(addr.sin_port);
}

static void on_linger_timeout(timer *t)
{
    conn_close(t->ctx);
}

/* The end of the round: a connection with nothing left to write is closed; else its input is
 * read (a POST body that completed, requests pipelined behind an answered GET). */
static void on_end_of_round(deferred *d)
{
    conn *c = d->ctx;
    bool input = c->input_waits;
    c->input_waits = false;
    if (c->close_waits)
        conn_close(c);
    else if (input)
        http_deferred_input(c);
}

void conn_defer_input(conn *c)
{
    c->input_waits = true;
    loop_defer(&c->srv->loop, &c->end_of_round);
}

static bool flush_output(conn *c);

static void on_flush(deferred *d)
{
    flush_output(d->ctx);
}

static conn *conn_new(server *srv, int fd)
{
    conn *c = xcalloc(1, sizeof *c);
    c->srv = srv;
    c->fd = fd;
    c->id = ++srv->next_conn_id;
    c->state = CONN_HTTP_HEAD;
    sio_http_parser_init(&c->http);
    timer_init(&c->linger, on_linger_timeout, c);
    deferred_init(&c->end_of_round, on_end_of_round, c);
    deferred_init(&c->flush, on_flush, c);
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->conn_count++;
    loop_add_fd(&srv->loop, fd, POLLIN, on_conn_event, c);
    timer_start(&srv->loop, &c->linger, SERVER_HTTP_IDLE_MS);
    return c;
}

/* Accepts everything pending; above --max-connections new sockets are closed at once. */
static void on_listen_event(event_loop *loop, int fd, void *ctx, short revents)
{
    server *srv = ctx;
    (void)loop;
    (void)revents;
    for (int i = 0; i < 256; i++) {
        int cfd = accept(fd, NULL, NULL);
        if (cfd < 0)
            return;
        if (srv->cfg.max_connections && srv->conn_count >= srv->cfg.max_connections) {
            close(cfd);
            log_msg(srv, LOG_WARN, "connection refused: --max-connections reached");
            continue;
        }
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        set_nonblocking(cfd);
        conn_new(srv, cfd);
    }
}

/* poll() interest follows the state: read unless paused or closing, write while output waits. */
static void update_interest(conn *c)
{
    short ev = 0;
    if (!c->read_paused)
        ev |= POLLIN;
    if (buf_size(&c->out) > 0)
        ev |= POLLOUT;
    loop_set_events(&c->srv->loop, c->fd, ev);
}

void conn_close(conn *c)
{
    server *srv = c->srv;
    if (c->session)
        eio_conn_lost(c->session, c);
    timer_stop(&srv->loop, &c->linger);
    loop_cancel(&srv->loop, &c->end_of_round);
    loop_cancel(&srv->loop, &c->flush);
    loop_remove_fd(&srv->loop, c->fd);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->conn_count--;
    buf_reset(&c->in);
    buf_reset(&c->out);
    if (c->ws) {
        buf_reset(&c->ws->message);
        free(c->ws);
    }
    free(c);
}

/* Writes as much as the socket takes now; the rest waits for POLLOUT. Returns false if the
 * connection was closed. */
static bool flush_output(conn *c)
{
    while (buf_size(&c->out) > 0) {
        ssize_t n = write(c->fd, buf_begin(&c->out), buf_size(&c->out));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            conn_close(c);
            return false;
        }
        buf_consume(&c->out, (size_t)n);
    }
    if (buf_size(&c->out) == 0 && c->state == CONN_CLOSING && !c->await_peer_close) {
        conn_close(c);
        return false;
    }
    /* Drained: stop asking for POLLOUT, and read again once below the high-water mark. */
    c->read_paused = buf_size(&c->out) > SERVER_OUTPUT_HIGH_WATER;
    update_interest(c);
    return true;
}

/* Queues output, written at the end of the poll round (the loop's end-of-round phase): a
 * frame's header and payload, the replies to the messages one read() brought, and the
 * broadcasts that reached a client in one round leave together, in one write() per connection
 * and round, before the loop waits again. Whatever the socket does not take waits for
 * POLLOUT. */
void conn_write(conn *c, const void *data, size_t len)
{
    if (len == 0)
        return;
    if (buf_size(&c->out) + len > SERVER_MAX_PENDING_OUTPUT(&c->srv->cfg)) {
        log_msg(c->srv, LOG_WARN, "conn %llu: output above bound, dropping a slow reader",
                (unsigned long long)c->id);
        shutdown(c->fd, SHUT_RDWR); /* reported as an error on the next poll round */
        return;
    }
    buf_append(&c->out, data, len);
    loop_defer(&c->srv->loop, &c->flush);
}

void conn_close_after_write(conn *c)
{
    if (c->state == CONN_CLOSING)
        return;
    c->state = CONN_CLOSING;
    c->read_paused = false;
    /* Closed at the end of the round or from the timer, never here: callers up the stack still
     * use the connection. */
    bool done = buf_size(&c->out) == 0 && !c->await_peer_close;
    if (done) {
        c->close_waits = true;
        loop_defer(&c->srv->loop, &c->end_of_round);
    } else {
        timer_start(&c->srv->loop, &c->linger, SERVER_LINGER_MS);
    }
    update_interest(c);
}

/* Hands buffered input to the layer that owns the connection's current state. */
static void dispatch_input(conn *c)
{
    if (c->state == CONN_WEBSOCKET)
        ws_handle_input(c);
    else if (c->state == CONN_HTTP_HEAD || c->state == CONN_HTTP_BODY)
        http_handle_input(c);
}

void conn_resume_reading(conn *c)
{
    if (buf_size(&c->in) > 0)
        dispatch_input(c);
}

/* Reads what is available (bounded per event so one client cannot monopolise the loop). */
static bool read_input(conn *c)
{
    for (int rounds = 0; rounds < 4; rounds++) {
        buf_reserve(&c->in, SERVER_READ_CHUNK);
        ssize_t n = read(c->fd, c->in.data + c->in.len, SERVER_READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            conn_close(c);
            return false;
        }
        c->in.len += (size_t)n;
        if ((size_t)n < SERVER_READ_CHUNK)
            break;
    }
    if (buf_size(&c->in) == 0)
        buf_reset(&c->in);
    if (buf_size(&c->in) > SERVER_MAX_INPUT(&c->srv->cfg)) {
        log_msg(c->srv, LOG_WARN, "conn %llu: unread input above bound", (unsigned long long)c->id);
        conn_close(c);
        return false;
    }
    return true;
}

static void on_conn_event(event_loop *loop, int fd, void *ctx, short revents)
{
    conn *c = ctx;
    (void)loop;
    (void)fd;
    if (revents & (POLLERR | POLLNVAL)) {
        conn_close(c);
        return;
    }
    if ((revents & POLLOUT) && !flush_output(c))
        return;
    if (revents & (POLLIN | POLLHUP)) {
        if (!read_input(c))
            return;
        if (c->state == CONN_CLOSING && c->await_peer_close)
            ws_drain_input(c);
        else if (c->state == CONN_CLOSING)
            buf_reset(&c->in); /* the peer may still be sending; its bytes no longer matter */
        else
            dispatch_input(c);
    }
}

void net_close_all(server *srv)
{
    while (srv->conns)
        conn_close(srv->conns);
    if (srv->listen_fd >= 0) {
        loop_remove_fd(&srv->loop, srv->listen_fd);
        close(srv->listen_fd);
        srv->listen_fd = -1;
    }
}

/* Session ids must be unguessable: read from the kernel's random source. */
void server_random_bytes(server *srv, uint8_t *out, size_t n)
{
    size_t got = 0;
    for (int tries = 0; got < n && tries < 8; tries++) {
        ssize_t r = read(srv->random_fd, out + got, n - got);
        if (r > 0)
            got += (size_t)r;
    }
    if (got < n) {
        log_msg(srv, LOG_ERROR, "random source failed");
        abort();
    }
}
