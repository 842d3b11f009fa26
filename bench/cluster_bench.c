/* A broadcast crossing a cluster: one sender on node A emits to a room whose N members are all
 * connected to node B, so every delivery goes A -> Redis -> B. Built on the load generator's
 * connection loop (loadgen.c), one loop per node.
 *
 *   cluster_bench --port-a A --port-b B --pids PID_A,PID_B,PID_REDIS [--receivers N]
 *                 [--inflight K] [--duration S] [--warmup S] [--timeout S]
 *
 * The sender keeps at most K broadcasts undelivered (K × N deliveries outstanding), so the nodes
 * stay busy without a queue growing in them. Prints one JSON line: deliveries per second in the
 * measured window (median of its seconds), and the CPU seconds node A, node B and Redis spent in
 * it, per million deliveries. Nothing may be lost: the run fails when a delivery is missing. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"

typedef struct run {
    uint64_t delivered, in_window, joined;
    uint64_t win_start, win_end;
    uint64_t slots[64];
} run;

static void on_delivery(lg_loop *L, lg_conn *c, const uint8_t *p, size_t n)
{
    run *R = L->scenario;
    sio_json_iter it;
    (void)c;
    if (!event_is(p, n, "to", &it))
        return;
    R->delivered++;
    uint64_t now = now_ns();
    if (now >= R->win_start && now < R->win_end) {
        R->in_window++;
        size_t slot = (size_t)((now - R->win_start) / 1000000000u);
        if (slot < 64)
            R->slots[slot]++;
    }
}

static void on_join(lg_loop *L, lg_conn *c, const uint8_t *p, size_t n)
{
    run *R = L->scenario;
    (void)p, (void)n;
    if (!c->joined) {
        c->joined = true;
        R->joined++;
    }
}

static double median(uint64_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n == 0 ? -1.0 : n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static void step_both(lg_loop *A, lg_loop *B)
{
    loop_step(A, 0);
    loop_step(B, 1);
}

int main(int argc, char **argv)
{
    int port_a = 0, port_b = 0, pids[3] = {0, 0, 0};
    size_t receivers = 200;
    unsigned inflight = 8;
    double duration = 3, warmup = 1, timeout = 60;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port-a"))
            port_a = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--port-b"))
            port_b = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--pids"))
            sscanf(argv[i + 1], "%d,%d,%d", &pids[0], &pids[1], &pids[2]);
        else if (!strcmp(argv[i], "--receivers"))
            receivers = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--inflight"))
            inflight = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--duration"))
            duration = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup"))
            warmup = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--timeout"))
            timeout = atof(argv[i + 1]);
    }
    if (!port_a || !port_b || receivers == 0 || duration < 1) {
        fprintf(stderr,
                "usage: cluster_bench --port-a A --port-b B --pids A,B,REDIS [--receivers N] "
                "[--inflight K] [--duration S] [--warmup S] [--timeout S]\n");
        return 2;
    }
    uint64_t deadline = now_ns() + (uint64_t)(timeout * 1e9);
    run R = {0};
    lg_loop A, B;
    loop_init(&A, port_a, 1);
    loop_init(&B, port_b, receivers);
    A.scenario = B.scenario = &R;
    size_t ok_a = connect_all(&A, 0, 1, 1, deadline),
           ok_b = connect_all(&B, 0, receivers, 100, deadline);
    B.on_ack = on_join;
    for (size_t i = 0; i < B.nconns; i++) {
        static const char join[] = "21[\"join\",\"bench\"]";
        if (B.conns[i].state == LG_READY) {
            send_sio(&B.conns[i], join, sizeof join - 1);
            loop_flush(&B, &B.conns[i]);
        }
    }
    while (R.joined < receivers && now_ns() < deadline)
        step_both(&A, &B);
    if (ok_a != 1 || ok_b != receivers || R.joined != receivers) {
        printf(
            "{\"error\":\"set-up incomplete: sender %zu of 1, receivers %zu of %zu, joined %" PRIu64
            "\"}\n",
            ok_a, ok_b, receivers, R.joined);
        return 1;
    }
    B.on_event = on_delivery;
    uint64_t start = now_ns(), sent = 0, now;
    R.win_start = start + (uint64_t)(warmup * 1e9);
    R.win_end = R.win_start + (uint64_t)(duration * 1e9);
    double cpu0[3] = {-1, -1, -1}, cpu1[3];
    bool open = false;
    char text[128];
    while ((now = now_ns()) < R.win_end && now < deadline && A.conns[0].state == LG_READY) {
        if (!open && now >= R.win_start) {
            open = true;
            for (int k = 0; k < 3; k++)
                cpu0[k] = proc_cpu_seconds(pids[k]);
        }
        while (sent * receivers - R.delivered < (uint64_t)inflight * receivers) {
            int n = snprintf(text, sizeof text, "2[\"to\",\"bench\",%" PRIu64 "]", sent++);
            send_sio(&A.conns[0], text, (size_t)n);
        }
        loop_flush(&A, &A.conns[0]);
        step_both(&A, &B);
    }
    for (int k = 0; k < 3; k++)
        cpu1[k] = proc_cpu_seconds(pids[k]);
    uint64_t drain = now_ns() + 5000000000u;
    while (R.delivered < sent * receivers && now_ns() < drain && now_ns() < deadline)
        step_both(&A, &B);
    uint64_t missing = sent * receivers - R.delivered;
    size_t slots = (size_t)(duration < 64 ? duration : 64);
    double per_million = R.in_window ? (double)R.in_window / 1e6 : -1;
    printf("{\"receivers\":%zu,\"inflight\":%u,\"broadcasts\":%" PRIu64
           ",\"window_deliveries\":%" PRIu64
           ",\"deliveries_per_s\":%.1f,\"deliveries_per_s_mean\":%.1f,\"undelivered\":%" PRIu64,
           receivers, inflight, sent, R.in_window, median(R.slots, slots),
           (double)R.in_window / duration, missing);
    static const char *names[3] = {"node_a", "node_b", "redis"};
    double total = 0;
    for (int k = 0; k < 3; k++) {
        double used = open && cpu0[k] >= 0 && cpu1[k] >= 0 ? cpu1[k] - cpu0[k] : -1;
        total += used > 0 ? used : 0;
        printf(",\"%s_cpu_s\":%.3f,\"%s_cpu_s_per_million\":%.3f", names[k], used, names[k],
               used >= 0 && per_million > 0 ? used / per_million : -1.0);
    }
    printf(",\"cluster_cpu_s_per_million\":%.3f}\n", per_million > 0 ? total / per_million : -1.0);
    loop_free(&A);
    loop_free(&B);
    return R.in_window > 0 && missing == 0 ? 0 : 1;
}
