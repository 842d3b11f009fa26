/* The floor for the server benchmarks: the least work a server can do to give the load generator
 * (bench/loadgen) the same bytes as the fixture does, so that what it costs is, nearly all of it,
 * what the kernel costs on this machine for the same connections and messages.
 *
 * One thread, one poll() loop (the readiness call the reference server uses, so a ratio to this
 * floor measures the reference's own work), no protocol state beyond what the load generator
 * checks: the WebSocket upgrade (a fixed answer: the load generator always sends the same key),
 * the Engine.IO open packet, the Socket.IO CONNECT reply, and three events:
 *
 *   42["message",...]        -> 42["message-back",...] to the sender (echo);
 *   421["join","bench"]      -> 431[["bench"]] to the sender, which joins the room;
 *   42["to","bench",...]     -> 42["to",...] to every other member of the room (fan-out).
 *
 * Frames are read with a hand-written header reader (client frames are masked, as RFC 6455
 * requires) and written unmasked. Writes:
 *   echo      one write() per read() that held messages: the replies of one read go together;
 *   fan-out   --fanout each (default): one write() per delivery, as soon as the broadcast is read;
 *             --fanout round: each receiver's deliveries of one poll round go out in one write()
 *             at the end of the round (what coalescing can reach when several broadcasts arrive
 *             in one round).
 * A socket whose kernel buffer is full keeps the rest in its own buffer and waits for POLLOUT.
 *
 * Prints "READY <port>" once listening; SIGTERM ends it. Only 127.0.0.1 is bound. */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sio/ws.h"

#define MAX_CONNS  65536
#define READ_CHUNK 65536

typedef struct out_buf {
    uint8_t *p;
    size_t len, cap;
} out_buf;

typedef struct conn {
    int fd;
    bool upgraded, in_room, queued;
    uint8_t *in; /* bytes not yet parsed (a partial head or frame) */
    size_t in_len, in_cap;
    out_buf out; /* bytes the kernel did not take yet, or deliveries waiting for the round's end */
} conn;

static conn *conns[MAX_CONNS];
static struct pollfd pfds[MAX_CONNS];
static int nfds_used;
static int room[MAX_CONNS], room_size;
static int round_queue[MAX_CONNS], round_count;
static bool fanout_per_round;
static volatile sig_atomic_t stop;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void out_append(out_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            die("realloc");
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* One unmasked server frame (text) holding `a` then `b`. */
static size_t frame(uint8_t *dst, const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen + blen, h = 2;
    dst[0] = 0x81;
    if (n < 126) {
        dst[1] = (uint8_t)n;
    } else {
        dst[1] = 126;
        dst[2] = (uint8_t)(n >> 8);
        dst[3] = (uint8_t)n;
        h = 4;
    }
    memcpy(dst + h, a, alen);
    memcpy(dst + h + alen, b, blen);
    return h + n;
}

/* Writes what the connection holds; what the kernel does not take waits for POLLOUT. */
static void flush(conn *c, int slot)
{
    size_t done = 0;
    while (done < c->out.len) {
        ssize_t k = write(c->fd, c->out.p + done, c->out.len - done);
        if (k > 0) {
            done += (size_t)k;
        } else if (k < 0 && errno == EINTR) {
            continue;
        } else {
            break;
        }
    }
    memmove(c->out.p, c->out.p + done, c->out.len - done);
    c->out.len -= done;
    pfds[slot].events = (short)(POLLIN | (c->out.len ? POLLOUT : 0));
}

/* Sends bytes now, unless earlier ones still wait (order is kept). */
static void send_now(conn *c, int slot, const uint8_t *p, size_t n)
{
    if (c->out.len == 0) {
        ssize_t k = write(c->fd, p, n);
        if (k == (ssize_t)n)
            return;
        if (k > 0) {
            p += k;
            n -= (size_t)k;
        }
    }
    out_append(&c->out, p, n);
    pfds[slot].events = POLLIN | POLLOUT;
}

static void fan_out(int from, const uint8_t *f, size_t n)
{
    for (int i = 0; i < room_size; i++) {
        int slot = room[i];
        conn *c = conns[slot];
        if (slot == from || !c)
            continue;
        if (!fanout_per_round) {
            send_now(c, slot, f, n);
            continue;
        }
        out_append(&c->out, f, n);
        if (!c->queued) {
            c->queued = true;
            round_queue[round_count++] = slot;
        }
    }
}

#define STARTS(p, n, lit) ((n) >= sizeof(lit) - 1 && memcmp(p, lit, sizeof(lit) - 1) == 0)

/* One Engine.IO text message from the client; replies go to `reply` (written after the read). */
static void on_message(int slot, const uint8_t *m, size_t n, out_buf *reply)
{
    uint8_t f[1100];
    if (STARTS(m, n, "40")) {
        static const char connect_reply[] = "40{\"sid\":\"floor-socket-id-000000\"}";
        out_append(reply, f, frame(f, connect_reply, sizeof connect_reply - 1, "", 0));
    } else if (STARTS(m, n, "42[\"message\",") && n < 1000) {
        size_t skip = sizeof "42[\"message\"" - 1;
        out_append(reply, f, frame(f, "42[\"message-back\"", 17, m + skip, n - skip));
    } else if (STARTS(m, n, "42[\"to\",\"bench\",") && n < 1000) {
        size_t skip = sizeof "42[\"to\",\"bench\"" - 1;
        fan_out(slot, f, frame(f, "42[\"to\"", 7, m + skip, n - skip));
    } else if (STARTS(m, n, "42") && memmem(m, n, "[\"join\",\"bench\"]", 16)) {
        /* 42<id>["join","bench"]: the ack carries the id and the rooms */
        const uint8_t *open = memchr(m, '[', n);
        size_t id_len = (size_t)(open - m) - 2;
        if (!conns[slot]->in_room) {
            conns[slot]->in_room = true;
            room[room_size++] = slot;
        }
        uint8_t head[32] = "43";
        memcpy(head + 2, m + 2, id_len < 20 ? id_len : 20);
        out_append(reply, f, frame(f, head, 2 + (id_len < 20 ? id_len : 20), "[[\"bench\"]]", 11));
    }
    /* "3" (pong) and anything else: nothing to answer */
}

/* Parses whole client frames from c->in; returns bytes used. */
static size_t on_frames(int slot, conn *c, out_buf *reply)
{
    size_t pos = 0;
    for (;;) {
        uint8_t *p = c->in + pos;
        size_t left = c->in_len - pos;
        if (left < 2)
            break;
        size_t len = p[1] & 0x7F, h = 2;
        if (len == 126) {
            if (left < 4)
                break;
            len = (size_t)p[2] << 8 | p[3];
            h = 4;
        } else if (len == 127) {
            fprintf(stderr, "floor_server: frame too big for the floor\n");
            exit(1);
        }
        if (left < h + 4 + len)
            break;
        uint8_t *key = p + h, *payload = p + h + 4;
        for (size_t i = 0; i < len; i++)
            payload[i] ^= key[i & 3];
        if ((p[0] & 0x0F) == 1)
            on_message(slot, payload, len, reply);
        pos += h + 4 + len;
    }
    return pos;
}

static const char open_packet[] = "0{\"sid\":\"floor-session-id-00000\",\"upgrades\":[],"
                                  "\"pingInterval\":25000,\"pingTimeout\":20000,"
                                  "\"maxPayload\":1000000}";

/* The upgrade answer: the load generator sends one fixed key, so the accept value is computed
 * once with the codec and reused. */
static char upgrade_answer[256];
static size_t upgrade_answer_len;

static void make_upgrade_answer(void)
{
    static const char key[] = "YmVuY2gtbG9hZGdlbi1reQ==";
    uint8_t accept[SIO_WS_ACCEPT_LEN];
    size_t w = 0;
    sio_ws_accept_compute((const uint8_t *)key, sizeof key - 1, accept, sizeof accept, &w);
    int n = snprintf(upgrade_answer, sizeof upgrade_answer,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %.*s\r\n\r\n",
                     (int)w, (const char *)accept);
    upgrade_answer_len = (size_t)n;
}

static void close_conn(int slot)
{
    conn *c = conns[slot];
    close(c->fd);
    for (int i = 0; i < room_size; i++)
        if (room[i] == slot) {
            room[i] = room[--room_size];
            break;
        }
    free(c->in);
    free(c->out.p);
    free(c);
    conns[slot] = NULL;
    pfds[slot].fd = -1;
}

static void on_readable(int slot)
{
    conn *c = conns[slot];
    static uint8_t chunk[READ_CHUNK];
    ssize_t k = read(c->fd, chunk, sizeof chunk);
    if (k <= 0) {
        if (k == 0 || (errno != EAGAIN && errno != EINTR))
            close_conn(slot);
        return;
    }
    if (c->in_len + (size_t)k > c->in_cap) {
        c->in_cap = (c->in_len + (size_t)k) * 2;
        c->in = realloc(c->in, c->in_cap);
        if (!c->in)
            die("realloc");
    }
    memcpy(c->in + c->in_len, chunk, (size_t)k);
    c->in_len += (size_t)k;
    out_buf reply = {0};
    static uint8_t reply_space[READ_CHUNK * 2];
    reply.p = reply_space; /* grows into the heap only if one read answers more than this */
    reply.cap = sizeof reply_space;
    size_t used = 0;
    if (!c->upgraded) {
        uint8_t *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!end)
            return;
        used = (size_t)(end - c->in) + 4;
        c->upgraded = true;
        uint8_t f[256];
        out_append(&reply, upgrade_answer, upgrade_answer_len);
        out_append(&reply, f, frame(f, open_packet, sizeof open_packet - 1, "", 0));
    }
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    used = on_frames(slot, c, &reply);
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    if (reply.len)
        send_now(c, slot, reply.p, reply.len);
    if (reply.p != reply_space)
        free(reply.p);
}

static void on_accept(int lfd)
{
    for (int i = 0; i < 64; i++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            return;
        if (fd >= MAX_CONNS) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = calloc(1, sizeof *c);
        if (!c)
            die("calloc");
        c->fd = fd;
        conns[fd] = c;
        pfds[fd].fd = fd;
        pfds[fd].events = POLLIN;
        if (fd + 1 > nfds_used)
            nfds_used = fd + 1;
    }
}

/* --fanout round: each receiver's deliveries of the round in one write. */
static void end_of_round(void)
{
    for (int i = 0; i < round_count; i++) {
        int slot = round_queue[i];
        conn *c = conns[slot];
        if (!c)
            continue;
        c->queued = false;
        flush(c, slot);
    }
    round_count = 0;
}

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int listen_on(int port)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (lfd < 0)
        die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4096) < 0)
        die("bind/listen");
    socklen_t len = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &len);
    printf("READY %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    return lfd;
}

int main(int argc, char **argv)
{
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port"))
            port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--fanout"))
            fanout_per_round = !strcmp(argv[i + 1], "round");
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGPIPE, SIG_IGN);
    make_upgrade_answer();
    for (int i = 0; i < MAX_CONNS; i++)
        pfds[i].fd = -1;
    int lfd = listen_on(port);
    pfds[lfd].fd = lfd;
    pfds[lfd].events = POLLIN;
    nfds_used = lfd + 1;
    while (!stop) {
        int ready = poll(pfds, (nfds_t)nfds_used, 1000);
        if (ready < 0 && errno != EINTR)
            die("poll");
        for (int slot = 0; slot < nfds_used && ready > 0; slot++) {
            short ev = pfds[slot].revents;
            if (!ev || pfds[slot].fd < 0)
                continue;
            ready--;
            if (slot == lfd)
                on_accept(lfd);
            else if (ev & (POLLIN | POLLHUP | POLLERR))
                on_readable(slot);
            else if ((ev & POLLOUT) && conns[slot])
                flush(conns[slot], slot);
        }
        if (round_count)
            end_of_round();
    }
    for (int slot = 0; slot < nfds_used; slot++)
        if (conns[slot])
            close_conn(slot);
    close(lfd);
    return 0;
}
