/* The load generator's scenarios and command line (see loadgen.c for what each measures). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>

#include "loadgen.h"

typedef struct options {
    int port;
    const char *scenario;
    size_t conns, concurrency;
    double rate, duration, warmup, settle, timeout;
    unsigned inflight;
    int server_pid;
    size_t pad;
    size_t warm_conns;
    unsigned burst;
} options;

/* Samples and counters the scenarios share. */
typedef struct stats {
    uint32_t *lat_us; /* round-trip samples taken inside the measured window */
    size_t nlat, cap;
    uint64_t win_start, win_end;
    uint64_t replies, in_window;
    uint64_t slots[64]; /* replies or deliveries per second of the measured window */
    uint64_t joined, delivered;
    uint64_t t0;
    uint64_t seq;
    const options *opt;
    /* CPU seconds of the server and of this process at the window's edges */
    double srv_cpu0, srv_cpu1, own_cpu0, own_cpu1;
    bool window_open;
} stats;

static char pad_text[LG_MAX_SEND / 2];

/* ------------------------------------------------------------------ helpers */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples, in milliseconds. */
static double pct_ms(const uint32_t *v, size_t n, double p)
{
    if (n == 0)
        return -1.0;
    size_t k = (size_t)(p / 100.0 * (double)n);
    if (k >= n)
        k = n - 1;
    return v[k] / 1000.0;
}

/* Median of the per-second slot counts: one slow second (a neighbour on the core) moves it less
 * than it moves the mean. */
static double median_slots(const uint64_t *slots, size_t n)
{
    uint64_t tmp[64];
    if (n == 0)
        return -1.0;
    memcpy(tmp, slots, n * sizeof *tmp);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && tmp[j - 1] > tmp[j]; j--) {
            uint64_t t = tmp[j];
            tmp[j] = tmp[j - 1];
            tmp[j - 1] = t;
        }
    return n % 2 ? (double)tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2.0;
}

static size_t window_slots(const stats *S)
{
    size_t n = (size_t)((S->win_end - S->win_start) / 1000000000u);
    return n > 64 ? 64 : n;
}

/* Counts one reply or delivery into the measured window and its one-second slot. */
static void count_in_window(stats *S, uint64_t now)
{
    if (now < S->win_start || now >= S->win_end)
        return;
    S->in_window++;
    size_t slot = (size_t)((now - S->win_start) / 1000000000u);
    if (slot < 64)
        S->slots[slot]++;
}

static double own_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* Notes the CPU clocks once when the measured window opens, so the report can say whether the
 * server or this load generator was the busy one (on 2 shared cores either can saturate). */
static void window_tick(stats *S, uint64_t now)
{
    if (!S->window_open && now >= S->win_start) {
        S->window_open = true;
        S->srv_cpu0 = proc_cpu_seconds(S->opt->server_pid);
        S->own_cpu0 = own_cpu_seconds();
    }
}

static void window_close(stats *S)
{
    S->srv_cpu1 = proc_cpu_seconds(S->opt->server_pid);
    S->own_cpu1 = own_cpu_seconds();
}

/* Server CPU seconds during the window per million replies or deliveries counted in it. */
static double window_cpu_per_million(const stats *S)
{
    if (!S->window_open || S->srv_cpu0 < 0 || S->srv_cpu1 < 0 || S->in_window == 0)
        return -1.0;
    return (S->srv_cpu1 - S->srv_cpu0) / ((double)S->in_window / 1e6);
}

/* Cores used by the server and by the load generator during the window. */
static void print_cores(const stats *S)
{
    double secs = (double)(S->win_end - S->win_start) / 1e9;
    bool ok = S->window_open && S->srv_cpu0 >= 0 && S->srv_cpu1 >= 0;
    printf(",\"server_cores\":%.3f,\"loadgen_cores\":%.3f",
           ok ? (S->srv_cpu1 - S->srv_cpu0) / secs : -1.0,
           S->window_open ? (S->own_cpu1 - S->own_cpu0) / secs : -1.0);
}

/* Sends `message` carrying a sequence number and the send time (ns since start). */
static void send_message(stats *S, lg_conn *c)
{
    char text[LG_MAX_SEND];
    uint64_t t = now_ns() - S->t0;
    int n = snprintf(text, sizeof text, "2[\"message\",%" PRIu64 ",%" PRIu64 ",\"%s\"]", S->seq++,
                     t, pad_text);
    send_sio(c, text, (size_t)n);
    c->inflight++;
    c->sent++;
}

static lg_conn *next_ready(lg_loop *L, size_t *rr)
{
    for (size_t tries = 0; tries < L->nconns; tries++) {
        lg_conn *c = &L->conns[(*rr)++ % L->nconns];
        if (c->state == LG_READY)
            return c;
    }
    return NULL;
}

/* `message-back` arrives: a round trip completes. Samples are kept only inside the window. */
static void on_echo(lg_loop *L, lg_conn *c, const uint8_t *p, size_t n)
{
    stats *S = L->scenario;
    sio_json_iter it;
    if (!event_is(p, n, "message-back", &it))
        return;
    (void)next_int(&it);
    int64_t t = next_int(&it);
    uint64_t now = now_ns();
    if (c->inflight)
        c->inflight--;
    c->received++;
    S->replies++;
    count_in_window(S, now);
    if (t >= 0 && S->t0 + (uint64_t)t >= S->win_start && now < S->win_end && S->nlat < S->cap)
        S->lat_us[S->nlat++] = (uint32_t)((now - S->t0 - (uint64_t)t) / 1000u);
}

static void print_common(const lg_loop *L, const options *o)
{
    printf("\"scenario\":\"%s\",\"conns\":%zu,\"ready\":%zu,\"failures\":%zu,\"last_error\":\"%s\"",
           o->scenario, o->conns, L->ready, L->failures, L->last_error);
}

/* ------------------------------------------------------------------ scenarios */

/* A first batch of connections is opened and closed untimed, so a just-started server (a JIT
 * still compiling, pools still growing) is not measured cold. */
static void setup_warmup(lg_loop *L, const options *o, uint64_t deadline)
{
    size_t n = o->warm_conns < o->conns ? o->warm_conns : o->conns;
    connect_all(L, 0, n, o->concurrency, deadline);
    for (size_t i = 0; i < n; i++)
        conn_close(L, &L->conns[i]);
    L->failures = 0;
    L->last_error[0] = '\0';
}

static int run_setup(lg_loop *L, const options *o, uint64_t deadline)
{
    setup_warmup(L, o, deadline);
    uint64_t start = now_ns();
    size_t ok = connect_all(L, 0, o->conns, o->concurrency, deadline);
    double secs = (double)(now_ns() - start) / 1e9;
    uint32_t *each = calloc(o->conns, sizeof *each);
    size_t k = 0;
    for (size_t i = 0; i < o->conns && each; i++)
        if (L->conns[i].state == LG_READY)
            each[k++] = (uint32_t)((L->conns[i].ready_ns - L->conns[i].opened_ns) / 1000u);
    qsort(each, k, sizeof *each, cmp_u32);
    printf("{");
    print_common(L, o);
    printf(",\"seconds\":%.4f,\"conns_per_s\":%.1f,\"concurrency\":%zu,\"setup_p50_ms\":%.3f,"
           "\"setup_p99_ms\":%.3f}\n",
           secs, ok / secs, o->concurrency, pct_ms(each, k, 50), pct_ms(each, k, 99));
    free(each);
    return ok == o->conns ? 0 : 1;
}

/* Paced sends: the schedule is computed from the start time, so a stall is followed by a
 * catch-up burst (as an open-loop client would do) rather than silently lowering the rate. */
static int run_echo_rate(lg_loop *L, const options *o, stats *S, uint64_t deadline)
{
    L->on_event = on_echo;
    uint64_t start = now_ns(), sent = 0;
    S->win_start = start + (uint64_t)(o->warmup * 1e9);
    S->win_end = S->win_start + (uint64_t)(o->duration * 1e9);
    size_t rr = 0;
    uint64_t now;
    while ((now = now_ns()) < S->win_end && now < deadline) {
        window_tick(S, now);
        uint64_t due = (uint64_t)((double)(now - start) / 1e9 * o->rate);
        for (unsigned burst = 0; sent < due && burst < 1000; burst++, sent++) {
            lg_conn *c = next_ready(L, &rr);
            if (c == NULL)
                break;
            send_message(S, c);
            loop_flush(L, c);
        }
        loop_step(L, 1);
    }
    window_close(S);
    uint64_t drain = now_ns() + 2000000000u;
    while (S->replies < S->seq && now_ns() < drain && now_ns() < deadline)
        loop_step(L, 5);
    qsort(S->lat_us, S->nlat, sizeof *S->lat_us, cmp_u32);
    printf("{");
    print_common(L, o);
    printf(",\"rate\":%.1f,\"sent\":%" PRIu64 ",\"replies\":%" PRIu64 ",\"samples\":%zu,"
           "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f",
           o->rate, S->seq, S->replies, S->nlat, pct_ms(S->lat_us, S->nlat, 50),
           pct_ms(S->lat_us, S->nlat, 90), pct_ms(S->lat_us, S->nlat, 99),
           pct_ms(S->lat_us, S->nlat, 99.9), pct_ms(S->lat_us, S->nlat, 100));
    /* Below 95% of the offered rate inside the window, the server (or this process) did not keep
     * up: the rate is above saturation, and its CPU per message says little. */
    bool saturated = (double)S->in_window < 0.95 * o->rate * o->duration;
    printf(",\"window_replies\":%" PRIu64 ",\"msgs_per_s_mean\":%.1f,\"cpu_s_per_million\":%.3f"
           ",\"saturated\":%s",
           S->in_window, (double)S->in_window / o->duration, window_cpu_per_million(S),
           saturated ? "true" : "false");
    print_cores(S);
    printf("}\n");
    return S->nlat > 0 && S->replies >= S->seq * 99 / 100 ? 0 : 1;
}

/* Closed loop: every reply is answered with a new message while the window is open. */
static int run_echo_max(lg_loop *L, const options *o, stats *S, uint64_t deadline)
{
    L->on_event = on_echo;
    uint64_t start = now_ns();
    S->win_start = start + (uint64_t)(o->warmup * 1e9);
    S->win_end = S->win_start + (uint64_t)(o->duration * 1e9);
    uint64_t now;
    while ((now = now_ns()) < S->win_end && now < deadline) {
        window_tick(S, now);
        for (size_t i = 0; i < L->nconns; i++) {
            lg_conn *c = &L->conns[i];
            if (c->state != LG_READY || c->inflight >= o->inflight)
                continue;
            while (c->inflight < o->inflight)
                send_message(S, c);
            loop_flush(L, c);
        }
        loop_step(L, 1);
    }
    window_close(S);
    uint64_t drain = now_ns() + 3000000000u;
    while (S->replies < S->seq && now_ns() < drain && now_ns() < deadline)
        loop_step(L, 5);
    size_t slots = window_slots(S);
    qsort(S->lat_us, S->nlat, sizeof *S->lat_us, cmp_u32);
    printf("{");
    print_common(L, o);
    printf(",\"inflight\":%u,\"window_replies\":%" PRIu64 ",\"msgs_per_s\":%.1f,"
           "\"msgs_per_s_mean\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"unanswered\":%" PRIu64
           ",\"cpu_s_per_million\":%.3f",
           o->inflight, S->in_window, median_slots(S->slots, slots),
           (double)S->in_window / o->duration, pct_ms(S->lat_us, S->nlat, 50),
           pct_ms(S->lat_us, S->nlat, 99), S->seq - S->replies,
           S->window_open && S->in_window
               ? (S->srv_cpu1 - S->srv_cpu0) / ((double)S->in_window / 1e6)
               : -1.0);
    print_cores(S);
    printf("}\n");
    return S->in_window > 0 && S->replies == S->seq ? 0 : 1;
}

static void on_join_ack(lg_loop *L, lg_conn *c, const uint8_t *p, size_t n)
{
    (void)p;
    (void)n;
    stats *S = L->scenario;
    if (!c->joined) {
        c->joined = true;
        S->joined++;
    }
}

static void on_delivery(lg_loop *L, lg_conn *c, const uint8_t *p, size_t n)
{
    stats *S = L->scenario;
    sio_json_iter it;
    (void)c;
    if (!event_is(p, n, "to", &it))
        return;
    S->delivered++;
    count_in_window(S, now_ns());
}

/* Receivers 1..N join the room; each acknowledges with its room list. */
static bool join_room(lg_loop *L, stats *S, uint64_t deadline)
{
    L->on_ack = on_join_ack;
    for (size_t i = 1; i < L->nconns; i++) {
        if (L->conns[i].state != LG_READY)
            continue;
        static const char join[] = "21[\"join\",\"bench\"]";
        send_sio(&L->conns[i], join, sizeof join - 1);
        loop_flush(L, &L->conns[i]);
    }
    while (S->joined < L->ready - 1 && now_ns() < deadline)
        loop_step(L, 5);
    return S->joined + 1 >= L->ready;
}

/* Every receiver joins the room (the error is printed when not all did); deliveries are then
 * counted. */
static bool room_ready(lg_loop *L, const options *o, stats *S, uint64_t deadline)
{
    if (!join_room(L, S, deadline) || L->conns[0].state != LG_READY) {
        printf("{");
        print_common(L, o);
        printf(",\"error\":\"room join incomplete: %" PRIu64 " of %zu\"}\n", S->joined,
               o->conns - 1);
        return false;
    }
    L->on_event = on_delivery;
    return true;
}

/* The sender emits broadcast number `seq` to the room. */
static void send_to_room(lg_loop *L, uint64_t seq)
{
    char text[LG_MAX_SEND];
    int n = snprintf(text, sizeof text, "2[\"to\",\"bench\",%" PRIu64 ",\"%s\"]", seq, pad_text);
    send_sio(&L->conns[0], text, (size_t)n);
}

/* Waits (bounded) for every emitted broadcast to reach every receiver: nothing may be lost.
 * Returns the deliveries missing. */
static uint64_t drain_deliveries(lg_loop *L, stats *S, uint64_t expected, uint64_t deadline)
{
    uint64_t drain = now_ns() + 3000000000u;
    while (S->delivered < expected && now_ns() < drain && now_ns() < deadline)
        loop_step(L, 5);
    return expected - S->delivered;
}

/* One sender, N receivers: the sender keeps at most `inflight` broadcasts undelivered, so the
 * server is kept busy without an unbounded queue building up in it. */
static int run_broadcast(lg_loop *L, const options *o, stats *S, uint64_t deadline)
{
    size_t receivers = o->conns - 1;
    if (!room_ready(L, o, S, deadline))
        return 1;
    uint64_t start = now_ns(), sent = 0;
    S->win_start = start + (uint64_t)(o->warmup * 1e9);
    S->win_end = S->win_start + (uint64_t)(o->duration * 1e9);
    uint64_t now;
    while ((now = now_ns()) < S->win_end && now < deadline && L->conns[0].state == LG_READY) {
        window_tick(S, now);
        while ((sent * receivers) - S->delivered < (uint64_t)o->inflight * receivers)
            send_to_room(L, sent++);
        loop_flush(L, &L->conns[0]);
        loop_step(L, 1);
    }
    window_close(S);
    uint64_t missing = drain_deliveries(L, S, sent * receivers, deadline);
    double cpu =
        S->window_open && S->srv_cpu0 >= 0 && S->srv_cpu1 >= 0 ? S->srv_cpu1 - S->srv_cpu0 : -1;
    size_t slots = window_slots(S);
    printf("{");
    print_common(L, o);
    printf(",\"receivers\":%zu,\"inflight\":%u,\"window_deliveries\":%" PRIu64 ","
           "\"deliveries_per_s\":%.1f,\"deliveries_per_s_mean\":%.1f,\"server_cpu_s\":%.3f,"
           "\"cpu_s_per_million\":%.3f,\"broadcasts\":%" PRIu64 ",\"undelivered\":%" PRIu64,
           receivers, o->inflight, S->in_window, median_slots(S->slots, slots),
           (double)S->in_window / o->duration, cpu,
           cpu >= 0 && S->in_window ? cpu / ((double)S->in_window / 1e6) : -1.0, sent, missing);
    print_cores(S);
    printf("}\n");
    return S->in_window > 0 && missing == 0 ? 0 : 1;
}

/* One sender, N receivers, broadcasts at a fixed rate (open loop, as echo-rate): every 1/rate
 * seconds on average, in groups of --burst sent back to back in one write, so that the server
 * reads a group in one go (several broadcasts in one round of its loop). Server CPU per delivery
 * at a rate below saturation is the figure; when the backlog passes --inflight broadcasts the
 * rate is above what the server (or this process) sustains, and the run says so. */
static int run_broadcast_rate(lg_loop *L, const options *o, stats *S, uint64_t deadline)
{
    size_t receivers = o->conns - 1;
    if (!room_ready(L, o, S, deadline))
        return 1;
    uint64_t start = now_ns(), sent = 0, max_backlog = 0;
    S->win_start = start + (uint64_t)(o->warmup * 1e9);
    S->win_end = S->win_start + (uint64_t)(o->duration * 1e9);
    unsigned burst = o->burst ? o->burst : 1;
    bool saturated = false;
    uint64_t now;
    while ((now = now_ns()) < S->win_end && now < deadline && L->conns[0].state == LG_READY) {
        window_tick(S, now);
        uint64_t due = (uint64_t)((double)(now - start) / 1e9 * o->rate);
        uint64_t backlog = sent - S->delivered / receivers;
        if (backlog > max_backlog)
            max_backlog = backlog;
        if (backlog > (uint64_t)o->inflight * burst)
            saturated = true;
        else
            while (sent < due) { /* a whole group each time the schedule is behind */
                for (unsigned k = 0; k < burst; k++)
                    send_to_room(L, sent++);
                loop_flush(L, &L->conns[0]);
            }
        loop_step(L, 1);
    }
    window_close(S);
    uint64_t missing = drain_deliveries(L, S, sent * receivers, deadline);
    printf("{");
    print_common(L, o);
    printf(",\"receivers\":%zu,\"rate\":%.1f,\"burst\":%u,\"window_deliveries\":%" PRIu64
           ",\"deliveries_per_s_mean\":%.1f,\"cpu_s_per_million\":%.3f,\"broadcasts\":%" PRIu64
           ",\"undelivered\":%" PRIu64 ",\"max_backlog\":%" PRIu64 ",\"saturated\":%s",
           receivers, o->rate, burst, S->in_window, (double)S->in_window / o->duration,
           window_cpu_per_million(S), sent, missing, max_backlog, saturated ? "true" : "false");
    print_cores(S);
    printf("}\n");
    return S->in_window > 0 && missing == 0 ? 0 : 1;
}

/* RSS before and after N idle connections; the loop keeps answering pings while it settles. */
static int run_idle(lg_loop *L, const options *o, uint64_t deadline)
{
    long before = proc_rss_kib(o->server_pid);
    uint64_t start = now_ns();
    size_t ok = connect_all(L, 0, o->conns, o->concurrency, deadline);
    double connect_s = (double)(now_ns() - start) / 1e9;
    uint64_t settle_end = now_ns() + (uint64_t)(o->settle * 1e9);
    while (now_ns() < settle_end && now_ns() < deadline)
        loop_step(L, 20);
    long after = proc_rss_kib(o->server_pid);
    printf("{");
    print_common(L, o);
    printf(",\"rss_before_kib\":%ld,\"rss_after_kib\":%ld,\"kib_per_conn\":%.3f,"
           "\"connect_s\":%.3f,\"still_ready\":%zu}\n",
           before, after, ok ? (double)(after - before) / (double)L->ready : -1.0, connect_s,
           L->ready);
    return ok == o->conns && L->ready == o->conns ? 0 : 1;
}

/* ------------------------------------------------------------------ command line */

static void usage(void)
{
    fprintf(stderr, "usage: loadgen --port N --scenario "
                    "setup|echo-rate|echo-max|broadcast|broadcast-rate|idle\n"
                    "  [--conns N] [--concurrency N] [--rate R] [--duration S] [--warmup S]\n"
                    "  [--inflight K] [--server-pid PID] [--settle S] [--timeout S] [--pad BYTES]\n"
                    "  [--warm-conns N] [--burst K]\n");
    exit(2);
}

static void parse_args(int argc, char **argv, options *o)
{
    *o = (options){0, NULL, 100, 100, 1000, 5, 1, 2, 60, 8, 0, 32, 200, 1};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--port"))
            o->port = atoi(v);
        else if (!strcmp(k, "--scenario"))
            o->scenario = v;
        else if (!strcmp(k, "--conns"))
            o->conns = (size_t)atol(v);
        else if (!strcmp(k, "--concurrency"))
            o->concurrency = (size_t)atol(v);
        else if (!strcmp(k, "--rate"))
            o->rate = atof(v);
        else if (!strcmp(k, "--duration"))
            o->duration = atof(v);
        else if (!strcmp(k, "--warmup"))
            o->warmup = atof(v);
        else if (!strcmp(k, "--settle"))
            o->settle = atof(v);
        else if (!strcmp(k, "--timeout"))
            o->timeout = atof(v);
        else if (!strcmp(k, "--inflight"))
            o->inflight = (unsigned)atoi(v);
        else if (!strcmp(k, "--server-pid"))
            o->server_pid = atoi(v);
        else if (!strcmp(k, "--pad"))
            o->pad = (size_t)atol(v);
        else if (!strcmp(k, "--warm-conns"))
            o->warm_conns = (size_t)atol(v);
        else if (!strcmp(k, "--burst"))
            o->burst = (unsigned)atoi(v);
        else
            usage();
    }
    if (o->port <= 0 || o->scenario == NULL || o->conns == 0 || o->duration > 60)
        usage();
    if (o->pad >= sizeof pad_text)
        o->pad = sizeof pad_text - 1;
}

int main(int argc, char **argv)
{
    options o;
    parse_args(argc, argv, &o);
    memset(pad_text, 'x', o.pad);
    bool bcast = !strcmp(o.scenario, "broadcast") || !strcmp(o.scenario, "broadcast-rate");
    lg_loop L;
    loop_init(&L, o.port, bcast ? o.conns + 1 : o.conns);
    stats S = {0};
    S.opt = &o;
    S.t0 = now_ns();
    S.cap = (size_t)(o.rate * (o.duration + o.warmup + 1)) + 4 * 1024 * 1024;
    S.lat_us = malloc(S.cap * sizeof *S.lat_us);
    L.scenario = &S;
    uint64_t deadline = now_ns() + (uint64_t)(o.timeout * 1e9);
    int rc;
    if (!strcmp(o.scenario, "setup") || !strcmp(o.scenario, "idle")) {
        rc =
            !strcmp(o.scenario, "setup") ? run_setup(&L, &o, deadline) : run_idle(&L, &o, deadline);
    } else {
        size_t ok = connect_all(&L, 0, L.nconns, o.concurrency, deadline);
        if (ok != L.nconns) {
            printf("{");
            print_common(&L, &o);
            printf(",\"error\":\"only %zu of %zu clients connected\"}\n", ok, L.nconns);
            rc = 1;
        } else if (bcast) {
            o.conns = L.nconns;
            rc = !strcmp(o.scenario, "broadcast") ? run_broadcast(&L, &o, &S, deadline)
                                                  : run_broadcast_rate(&L, &o, &S, deadline);
        } else if (!strcmp(o.scenario, "echo-rate")) {
            rc = run_echo_rate(&L, &o, &S, deadline);
        } else if (!strcmp(o.scenario, "echo-max")) {
            rc = run_echo_max(&L, &o, &S, deadline);
        } else {
            usage();
            rc = 2;
        }
    }
    fflush(stdout);
    free(S.lat_us);
    loop_free(&L);
    return rc;
}
