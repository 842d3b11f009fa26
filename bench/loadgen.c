/* Load generator for the server benchmarks: many Socket.IO clients over WebSocket in one
 * single-threaded poll() process, built on libsiocodec (WebSocket frames, Engine.IO packets,
 * JSON), so every server under test is driven by exactly the same client code.
 *
 * Scenarios (one per run, chosen with --scenario; results as one JSON object on stdout):
 *   setup       open --conns connections, --concurrency at a time, up to the Socket.IO CONNECT
 *               reply, after --warm-conns untimed ones; connections per second.
 *   echo-rate   --conns clients send `message` at --rate messages/s in total for --duration
 *               seconds after --warmup; round-trip latency percentiles of `message-back`, and
 *               the server's CPU seconds per million messages at that rate.
 *   echo-max    each of --conns clients keeps --inflight messages outstanding; replies/s.
 *   broadcast   --conns receivers join room "bench"; one more client emits `to("bench", …)`
 *               keeping at most --inflight broadcasts undelivered; deliveries/s and the server's
 *               CPU seconds per million deliveries (the CPU clock of --server-pid).
 *   broadcast-rate  the same room, broadcasts at --rate per second in groups of --burst sent
 *               together; the server's CPU seconds per million deliveries at that rate.
 *   idle        open --conns connections, wait --settle seconds answering pings, and report the
 *               server's RSS growth per connection (from /proc/<--server-pid>/status).
 *
 * Every loop is bounded by --timeout seconds; only 127.0.0.1 is ever contacted.
 */
#define _DEFAULT_SOURCE /* SOCK_NONBLOCK and SOCK_CLOEXEC for socket() */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "sio/eio.h"
#include "sio/json.h"
#include "sio/ws.h"

#include "loadgen.h"

/* ------------------------------------------------------------------ time and /proc */

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* utime + stime of a process in seconds; the figure the CPU-per-delivery ratio needs. The
 * process's CPU clock (what its own getrusage and CLOCK_PROCESS_CPUTIME_ID report, in ns) when
 * the kernel gives it, else /proc/<pid>/stat, which counts in clock ticks (10 ms). */
double proc_cpu_seconds(int pid)
{
    clockid_t clock;
    struct timespec ts;
    if (clock_getcpuclockid((pid_t)pid, &clock) == 0 && clock_gettime(clock, &ts) == 0)
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    return proc_stat_cpu_seconds(pid);
}

/* utime + stime from /proc/<pid>/stat, in clock ticks. */
double proc_stat_cpu_seconds(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1.0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields are counted after the last ')'. */
    char *p = strrchr(buf, ')');
    unsigned long utime = 0, stime = 0;
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1.0;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* VmRSS in KiB, or -1; resident memory is what a connection really costs the machine. */
long proc_rss_kib(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* ------------------------------------------------------------------ buffers */

/* Appends to a growable byte buffer; aborts on allocation failure (a benchmark has no way on). */
void buf_append(lg_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        b->ptr = realloc(b->ptr, cap);
        if (b->ptr == NULL) {
            perror("loadgen: realloc");
            exit(2);
        }
        b->cap = cap;
    }
    memcpy(b->ptr + b->len, p, n);
    b->len += n;
}

/* Drops the first n bytes; frees the storage once empty so 10,000 idle clients stay small. */
void buf_consume(lg_buf *b, size_t n)
{
    if (n >= b->len) {
        free(b->ptr);
        *b = (lg_buf){0};
        return;
    }
    memmove(b->ptr, b->ptr + n, b->len - n);
    b->len -= n;
}

/* ------------------------------------------------------------------ sending */

/* Queues one masked WebSocket text frame (clients must mask, RFC 6455 §5.3). */
static void send_text(lg_conn *c, const uint8_t *payload, size_t n)
{
    uint8_t frame[LG_MAX_SEND + SIO_WS_MAX_HEADER];
    sio_ws_frame_header h = {0};
    h.fin = true;
    h.opcode = SIO_WS_OP_TEXT;
    h.masked = true;
    memcpy(h.mask, &c->mask_seed, 4);
    size_t written = 0;
    if (sio_ws_frame_encode(&h, payload, n, frame, sizeof frame, &written) != SIO_OK) {
        fprintf(stderr, "loadgen: frame encode failed\n");
        exit(2);
    }
    buf_append(&c->tx, frame, written);
}

/* An Engine.IO message carrying a Socket.IO packet whose text is given (e.g. `2["x"]`). */
void send_sio(lg_conn *c, const char *sio_text, size_t n)
{
    uint8_t pkt[LG_MAX_SEND];
    size_t written = 0;
    if (sio_eio_packet_encode(4, SIO_EIO_MESSAGE, SIO_EIO_ENC_TEXT, (const uint8_t *)sio_text, n,
                              pkt, sizeof pkt, &written) != SIO_OK) {
        fprintf(stderr, "loadgen: packet encode failed\n");
        exit(2);
    }
    send_text(c, pkt, written);
}

static void send_eio(lg_conn *c, sio_eio_type type)
{
    uint8_t pkt[8];
    size_t written = 0;
    sio_eio_packet_encode(4, type, SIO_EIO_ENC_TEXT, NULL, 0, pkt, sizeof pkt, &written);
    send_text(c, pkt, written);
}

/* Writes what is queued; a full socket buffer simply leaves the rest for the next POLLOUT. */
static void flush_tx(lg_loop *L, lg_conn *c)
{
    while (c->tx.len > 0) {
        ssize_t k = send(c->fd, c->tx.ptr, c->tx.len, MSG_NOSIGNAL);
        if (k > 0) {
            buf_consume(&c->tx, (size_t)k);
            continue;
        }
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        conn_fail(L, c, "send failed");
        return;
    }
}

/* ------------------------------------------------------------------ connecting */

static const char WS_KEY[] = "YmVuY2gtbG9hZGdlbi1reQ==";

/* Starts a non-blocking TCP connect to 127.0.0.1 and queues the WebSocket upgrade request. */
int conn_open(lg_loop *L, lg_conn *c)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)L->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->state = LG_HANDSHAKE;
    c->mask_seed = (uint32_t)(c - L->conns) * 2654435761u + 1u;
    c->opened_ns = now_ns();
    L->in_flight++;
    sio_ws_parser_init(&c->ws, SIO_WS_ROLE_CLIENT, UINT64_MAX);
    char req[256];
    int n = snprintf(req, sizeof req,
                     "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                     "Host: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     L->port, WS_KEY);
    buf_append(&c->tx, req, (size_t)n);
    L->opened++;
    return 0;
}

/* Closes the socket and forgets the connection's buffers. */
void conn_close(lg_loop *L, lg_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->tx.ptr);
    free(c->rx.ptr);
    free(c->msg.ptr);
    c->tx = c->rx = c->msg = (lg_buf){0};
    if (c->state == LG_READY)
        L->ready--;
    else if (c->state != LG_CLOSED)
        L->in_flight--;
    c->state = LG_CLOSED;
}

void conn_fail(lg_loop *L, lg_conn *c, const char *why)
{
    if (L->failures++ < 5)
        fprintf(stderr, "loadgen: connection %ld: %s\n", (long)(c - L->conns), why);
    snprintf(L->last_error, sizeof L->last_error, "%s", why);
    conn_close(L, c);
}

/* Checks the 101 answer and its Sec-WebSocket-Accept; returns the head length, 0 when the head
 * is still incomplete, -1 when the server refused. */
static long handshake_response(const lg_buf *rx)
{
    const char *p = (const char *)rx->ptr;
    const char *end = NULL;
    for (size_t i = 3; i < rx->len; i++)
        if (memcmp(p + i - 3, "\r\n\r\n", 4) == 0) {
            end = p + i + 1;
            break;
        }
    if (end == NULL)
        return rx->len > 8192 ? -1 : 0;
    if (rx->len < 12 || memcmp(p, "HTTP/1.1 101", 12) != 0)
        return -1;
    uint8_t accept[SIO_WS_ACCEPT_LEN];
    size_t w = 0;
    sio_ws_accept_compute((const uint8_t *)WS_KEY, sizeof WS_KEY - 1, accept, sizeof accept, &w);
    size_t head = (size_t)(end - p);
    for (size_t i = 0; i + w <= head; i++)
        if (memcmp(p + i, accept, w) == 0)
            return (long)head;
    return -1;
}

/* ------------------------------------------------------------------ receiving */

/* A whole Engine.IO message arrived: answer the protocol, hand Socket.IO packets up. */
static void on_eio_text(lg_loop *L, lg_conn *c, const uint8_t *p, size_t n)
{
    sio_eio_packet pkt;
    if (sio_eio_packet_decode(4, SIO_EIO_FRAME_WS_TEXT, p, n, NULL, &pkt) != SIO_OK) {
        conn_fail(L, c, "bad Engine.IO packet");
        return;
    }
    switch (pkt.type) {
    case SIO_EIO_OPEN:
        send_sio(c, "0", 1); /* Socket.IO CONNECT to "/" */
        break;
    case SIO_EIO_PING:
        send_eio(c, SIO_EIO_PONG);
        break;
    case SIO_EIO_MESSAGE:
        on_sio_packet(L, c, pkt.data.ptr, pkt.data.len);
        break;
    case SIO_EIO_CLOSE:
        conn_fail(L, c, "server closed the session");
        break;
    default:
        break;
    }
}

/* One parser event: data pieces are gathered into a whole message (usually a view, copied only
 * when a message spans reads), control frames answered or ended on. */
static void on_ws_event(lg_loop *L, lg_conn *c, const sio_ws_event *ev)
{
    if (ev->type == SIO_WS_EV_CONTROL) {
        if (ev->frame.opcode == SIO_WS_OP_CLOSE)
            conn_fail(L, c, "server sent a close frame");
        return;
    }
    if (ev->message_start && ev->message_end) {
        if (ev->text)
            on_eio_text(L, c, ev->payload.ptr, ev->payload.len);
        return;
    }
    buf_append(&c->msg, ev->payload.ptr, ev->payload.len);
    if (ev->message_end) {
        lg_buf whole = c->msg;
        c->msg = (lg_buf){0};
        if (ev->text)
            on_eio_text(L, c, whole.ptr, whole.len);
        free(whole.ptr);
    }
}

/* Runs the frame parser over freshly read bytes (unmasked in place, so `data` is writable). */
static void feed_ws(lg_loop *L, lg_conn *c, uint8_t *data, size_t len)
{
    while (len > 0 && c->state != LG_CLOSED) {
        size_t used = 0;
        sio_ws_event ev;
        sio_err e = sio_ws_parser_feed(&c->ws, data, len, &used, &ev);
        if (e != SIO_OK) {
            conn_fail(L, c, sio_err_name(e));
            return;
        }
        data += used;
        len -= used;
        if (ev.type == SIO_WS_EV_NONE)
            break;
        on_ws_event(L, c, &ev);
    }
}

/* Bytes before the 101 answer are kept until the head is complete; what follows is frames. */
static void on_bytes(lg_loop *L, lg_conn *c, uint8_t *data, size_t len)
{
    if (c->state != LG_HANDSHAKE) {
        feed_ws(L, c, data, len);
        return;
    }
    buf_append(&c->rx, data, len);
    long head = handshake_response(&c->rx);
    if (head < 0) {
        conn_fail(L, c, "WebSocket upgrade refused");
        return;
    }
    if (head == 0)
        return;
    c->state = LG_WS_OPEN;
    lg_buf rest = c->rx;
    c->rx = (lg_buf){0};
    feed_ws(L, c, rest.ptr + head, rest.len - (size_t)head);
    free(rest.ptr);
}

static void read_conn(lg_loop *L, lg_conn *c)
{
    static uint8_t chunk[1 << 16];
    for (int rounds = 0; rounds < 8 && c->state != LG_CLOSED; rounds++) {
        ssize_t k = recv(c->fd, chunk, sizeof chunk, 0);
        if (k > 0) {
            on_bytes(L, c, chunk, (size_t)k);
            if ((size_t)k < sizeof chunk)
                return;
            continue;
        }
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        conn_fail(L, c, k == 0 ? "server closed the connection" : "recv failed");
        return;
    }
}

/* ------------------------------------------------------------------ the loop */

/* One poll() round over every open connection, at most `wait_ms` long. */
void loop_step(lg_loop *L, int wait_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < L->nconns; i++) {
        lg_conn *c = &L->conns[i];
        if (c->state == LG_CLOSED)
            continue;
        L->pfds[n].fd = c->fd;
        L->pfds[n].events = (short)(POLLIN | (c->tx.len ? POLLOUT : 0));
        L->pfds[n].revents = 0;
        L->pidx[n++] = i;
    }
    if (poll(L->pfds, (nfds_t)n, wait_ms) <= 0)
        return;
    for (size_t k = 0; k < n; k++) {
        lg_conn *c = &L->conns[L->pidx[k]];
        short ev = L->pfds[k].revents;
        if (ev & (POLLIN | POLLHUP | POLLERR))
            read_conn(L, c);
        if (c->state != LG_CLOSED && c->tx.len && (ev & POLLOUT))
            flush_tx(L, c);
    }
}

/* Writes queued bytes at once rather than waiting for the next poll round: keeps latency honest. */
void loop_flush(lg_loop *L, lg_conn *c)
{
    if (c->state != LG_CLOSED && c->tx.len)
        flush_tx(L, c);
}

/* Raises the descriptor limit to the hard limit: 10,000 clients need 10,000 descriptors. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

void loop_init(lg_loop *L, int port, size_t nconns)
{
    memset(L, 0, sizeof *L);
    raise_nofile();
    L->port = port;
    L->nconns = nconns;
    L->conns = calloc(nconns, sizeof *L->conns);
    L->pfds = calloc(nconns, sizeof *L->pfds);
    L->pidx = calloc(nconns, sizeof *L->pidx);
    if (L->conns == NULL || L->pfds == NULL || L->pidx == NULL) {
        perror("loadgen: calloc");
        exit(2);
    }
    for (size_t i = 0; i < nconns; i++) {
        L->conns[i].fd = -1;
        L->conns[i].state = LG_CLOSED;
    }
}

void loop_free(lg_loop *L)
{
    for (size_t i = 0; i < L->nconns; i++)
        if (L->conns[i].state != LG_CLOSED)
            conn_close(L, &L->conns[i]);
    free(L->conns);
    free(L->pfds);
    free(L->pidx);
}

/* Opens conns[first..first+count) keeping at most `concurrency` handshakes in flight, until all
 * are ready or `deadline` passes. Returns the number that became ready. */
size_t connect_all(lg_loop *L, size_t first, size_t count, size_t concurrency, uint64_t deadline)
{
    size_t next = first, end = first + count;
    size_t ready_before = L->ready;
    while (now_ns() < deadline) {
        while (next < end && L->in_flight < concurrency) {
            if (conn_open(L, &L->conns[next]) < 0) {
                L->failures++;
                snprintf(L->last_error, sizeof L->last_error, "socket/connect: %s",
                         strerror(errno));
            } else {
                loop_flush(L, &L->conns[next]);
            }
            next++;
        }
        if (next >= end && L->in_flight == 0)
            break;
        loop_step(L, 5);
    }
    return L->ready - ready_before;
}

/* ------------------------------------------------------------------ Socket.IO side */

/* Reads `[<string>, ...]`: true when the first element is the event name `name`. The iterator
 * is left on the second element. Uses the codec's tree-less JSON readers. */
bool event_is(const uint8_t *json, size_t n, const char *name, sio_json_iter *it)
{
    sio_span v;
    if (sio_json_array_iter(sio_span_of(json, n), it) != SIO_OK || !sio_json_next(it, NULL, &v))
        return false;
    return sio_json_string_equals(v, (const uint8_t *)name, strlen(name));
}

/* Next element as an integer, or -1. */
int64_t next_int(sio_json_iter *it)
{
    sio_span v;
    int64_t x = -1;
    if (!sio_json_next(it, NULL, &v) || sio_json_get_int(v, &x) != SIO_OK)
        return -1;
    return x;
}

/* A Socket.IO packet on namespace "/": CONNECT replies mark the client ready; events and acks
 * go to the scenario. The packet text is validated as JSON before anything reads it. */
void on_sio_packet(lg_loop *L, lg_conn *c, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    size_t i = 1;
    while (p[0] == '3' && i < n && p[i] >= '0' && p[i] <= '9')
        i++;
    if (i < n && sio_json_validate(p + i, n - i, NULL, NULL) != SIO_OK) {
        conn_fail(L, c, "reply is not JSON");
        return;
    }
    switch (p[0]) {
    case '0':
        if (c->state != LG_READY) {
            c->state = LG_READY;
            c->ready_ns = now_ns();
            L->ready++;
            L->in_flight--;
        }
        break;
    case '2':
        if (L->on_event)
            L->on_event(L, c, p + 1, n - 1);
        break;
    case '3':
        if (L->on_ack)
            L->on_ack(L, c, p + i, n - i);
        break;
    case '4':
        conn_fail(L, c, "CONNECT refused");
        break;
    default:
        break;
    }
}
