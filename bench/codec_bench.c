/* Codec throughput of libsiocodec on the shared input file (bench/gen_inputs.py).
 *
 * Decode takes each record the way the reference server receives it: WebSocket frame parser
 * (ws_frame only), Engine.IO packet or polling payload decoder, then the Socket.IO attachment
 * assembler (which validates the JSON payload and the placeholders). Encode goes back from the
 * decoded packets to the same wire form. Timing follows the protocol shared with the Node and
 * Python programs: warm-up, repetitions of whole passes, median. One JSON object on stdout.
 *
 * --check: no timing; checks the packet counts and the byte-for-byte round trip of every record.
 * --callgrind N: instead of timing, run N passes of each category and direction between
 * callgrind client requests, so `valgrind --tool=callgrind` dumps one instruction count each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <valgrind/callgrind.h>

#include "sio/eio.h"
#include "sio/packet.h"
#include "sio/simd.h"
#include "sio/ws.h"

#define NCAT 8
static const char *const CATEGORY[NCAT] = {"small_event",  "ack_event",     "namespaced_event",
                                           "binary_event", "large_payload", "polling_payload",
                                           "ws_frame",     "deep_binary"};
enum { CAT_POLLING = 5, CAT_WS = 6 };
enum { PART_TEXT = 0, PART_BINARY = 1 };
#define MAX_PARTS 8
#define MAX_ATT   SIO_PKT_MAX_ATTACHMENTS_DEFAULT

typedef struct part {
    int kind;
    uint8_t *data;
    size_t len;
    int absent; /* a byte value the part does not hold (the scan floor's needle), or -1 */
} part;

/* A decoded Socket.IO packet, kept for the encode pass (views into the input). */
typedef struct dpkt {
    sio_pkt pkt;
    sio_span att[MAX_ATT];
    uint32_t natt;
} dpkt;

typedef struct record {
    int category;
    uint32_t packets;
    size_t nparts;
    part parts[MAX_PARTS];
    dpkt *decoded;
    size_t ndecoded;
    /* polling: the decoded packets as one list, and their attachments as another, in order */
    sio_pkt *pkt_list;
    sio_span *att_list;
    size_t natt_list;
} record;

typedef struct timing {
    double warmup, rep_s;
    int reps;
} timing;

static uint8_t *scratch; /* decode copies and encode output; one big reusable buffer */
static size_t scratch_cap = 4u << 20;
static volatile size_t sink; /* keeps the work observable so the compiler cannot drop it */

static void die(const char *what)
{
    fprintf(stderr, "codec_bench: %s\n", what);
    exit(1);
}

static void check(sio_err e, const char *what)
{
    if (e != SIO_OK) {
        fprintf(stderr, "codec_bench: %s: %s\n", what, sio_err_name(e));
        exit(1);
    }
}

/* ------------------------------------------------------------------ input file */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A byte value that does not occur in p[0..n), or -1 when all 256 do. */
static int absent_byte(const uint8_t *p, size_t n)
{
    bool seen[256] = {false};
    for (size_t i = 0; i < n; i++)
        seen[p[i]] = true;
    for (int b = 255; b >= 0; b--)
        if (!seen[b])
            return b;
    return -1;
}

/* Loads the container documented in bench/gen_inputs.py; each part gets its own allocation so
 * decoders that work in place (frame unmasking) can be given fresh copies. */
static record *read_inputs(const char *path, size_t *count)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die("cannot open inputs");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)size);
    if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size)
        die("cannot read inputs");
    fclose(f);
    if (size < 14 || memcmp(buf, "SIOBENCH1\n", 10) != 0)
        die("not a benchmark input file");
    size_t n = rd32(buf + 10), off = 14;
    record *recs = calloc(n, sizeof *recs);
    for (size_t i = 0; i < n; i++) {
        record *r = &recs[i];
        r->category = buf[off];
        r->nparts = buf[off + 1];
        r->packets = rd32(buf + off + 2);
        off += 6;
        if (r->nparts > MAX_PARTS || r->category >= NCAT)
            die("record out of range");
        for (size_t j = 0; j < r->nparts; j++) {
            part *pt = &r->parts[j];
            pt->kind = buf[off];
            pt->len = rd32(buf + off + 1);
            off += 5;
            pt->data = malloc(pt->len ? pt->len : 1);
            memcpy(pt->data, buf + off, pt->len);
            pt->absent = absent_byte(pt->data, pt->len);
            off += pt->len;
        }
    }
    free(buf);
    *count = n;
    return recs;
}

/* ------------------------------------------------------------------ decode */

typedef struct decoder {
    sio_pkt_assembler asm_;
    sio_span slots[MAX_ATT];
    sio_ws_parser ws;
    dpkt *out; /* where completed packets go, or NULL when only counting */
    size_t nout;
    uint8_t *bin; /* base64 attachments of polling payloads are decoded here */
    size_t bin_used;
} decoder;

static void decoder_init(decoder *d)
{
    memset(d, 0, sizeof *d);
    check(sio_pkt_assembler_init(&d->asm_, NULL, d->slots, MAX_ATT), "assembler init");
    sio_ws_parser_init(&d->ws, SIO_WS_ROLE_SERVER, UINT64_MAX);
}

/* A packet is complete: keep it for the encoder, or just count it. */
static void complete(decoder *d)
{
    sio_pkt pkt;
    const sio_span *att;
    uint32_t n;
    check(sio_pkt_assembler_result(&d->asm_, &pkt, &att, &n), "assembler result");
    if (d->out != NULL) {
        dpkt *dp = &d->out[d->nout];
        dp->pkt = pkt;
        dp->natt = n;
        memcpy(dp->att, att, n * sizeof *att);
    }
    d->nout++;
    sink += pkt.data.len;
}

/* One Engine.IO message (text or binary) into the Socket.IO assembler; a text message in one
 * step (sio_pkt_assembler_eio_message, which does what sio_eio_packet_decode then
 * sio_pkt_assembler_text do). */
static void feed_message(decoder *d, sio_eio_frame frame, const uint8_t *p, size_t n)
{
    sio_eio_packet ep;
    bool done = false;
    if (frame == SIO_EIO_FRAME_WS_TEXT && n > 0 && p[0] == '4') {
        check(sio_pkt_assembler_eio_message(&d->asm_, p, n, &done, NULL), "packet");
    } else {
        check(sio_eio_packet_decode(4, frame, p, n, NULL, &ep), "eio decode");
        if (ep.binary)
            check(sio_pkt_assembler_binary(&d->asm_, ep.data.ptr, ep.data.len, &done, NULL),
                  "attach");
        else
            check(sio_pkt_assembler_text(&d->asm_, ep.data.ptr, ep.data.len, &done, NULL),
                  "packet");
    }
    if (done)
        complete(d);
}

/* Polling body: records in order; base64 attachments are decoded to bytes, as every server does
 * before handing them to the application. */
static void decode_polling(decoder *d, const part *pt)
{
    sio_eio_payload_iter it;
    sio_eio_packet ep;
    bool has = false, done = false;
    sio_eio_payload_iter_init(&it, SIO_EIO_PAYLOAD_V4, pt->data, pt->len, NULL);
    while (check(sio_eio_payload_next(&it, &ep, &has), "payload"), has) {
        if (!ep.binary) {
            check(sio_pkt_assembler_text(&d->asm_, ep.data.ptr, ep.data.len, &done, NULL),
                  "packet");
        } else {
            size_t w = 0;
            uint8_t *dst = d->bin + d->bin_used;
            check(sio_eio_packet_binary(&ep, false, dst, 1u << 16, &w), "base64");
            if (d->out != NULL)
                d->bin_used += w;
            check(sio_pkt_assembler_binary(&d->asm_, dst, w, &done, NULL), "attach");
        }
        if (done)
            complete(d);
    }
}

/* One masked frame: the parser unmasks in place, so it works on a copy, as on a read buffer. */
static void decode_ws(decoder *d, const part *pt, uint8_t *copy)
{
    memcpy(copy, pt->data, pt->len);
    size_t used = 0;
    sio_ws_event ev;
    check(sio_ws_parser_feed(&d->ws, copy, pt->len, &used, &ev), "ws frame");
    if (ev.type != SIO_WS_EV_DATA || !ev.message_end || used != pt->len)
        die("ws frame: expected one whole message");
    feed_message(d, SIO_EIO_FRAME_WS_TEXT, ev.payload.ptr, ev.payload.len);
}

static void decode_record(decoder *d, const record *r, uint8_t *copy)
{
    if (r->category == CAT_POLLING) {
        decode_polling(d, &r->parts[0]);
        return;
    }
    if (r->category == CAT_WS) {
        decode_ws(d, &r->parts[0], copy);
        return;
    }
    for (size_t j = 0; j < r->nparts; j++)
        feed_message(
            d, r->parts[j].kind == PART_TEXT ? SIO_EIO_FRAME_WS_TEXT : SIO_EIO_FRAME_WS_BINARY,
            r->parts[j].data, r->parts[j].len);
}

/* ------------------------------------------------------------------ encode */

/* What an encode produced: `ntext` bytes at `text`, in the output buffer, then `natt` binary
 * messages. An Engine.IO v4 binary message over WebSocket is the attachment's bytes
 * unchanged, so they are handed on by reference, as Node's and python-engineio's encoders hand on
 * the Buffer or bytes they were given: copying them would be the socket writer's work, not the
 * encoder's. */
typedef struct wire {
    const uint8_t *text;
    size_t ntext;
    const sio_span *att;
    uint32_t natt;
} wire;

static size_t wire_bytes(const wire *w)
{
    size_t n = w->ntext;
    for (uint32_t k = 0; k < w->natt; k++)
        n += w->att[k].len;
    return n;
}

/* Socket.IO packet -> Engine.IO text message (and raw binary messages for attachments), as a
 * server writes it to a WebSocket: the message in one call (sio_pkt_encode_eio_message, which
 * writes what sio_pkt_encode then sio_eio_packet_encode write). The text goes to `out`, using
 * no more than cap / 2. */
static void encode_packet(const dpkt *dp, uint8_t *out, size_t cap, wire *w)
{
    sio_pkt pkt = dp->pkt;
    pkt.attachments = dp->natt;
    check(sio_pkt_encode_eio_message(&pkt, NULL, out, cap / 2, &w->ntext), "packet encode");
    w->text = out;
    w->att = dp->att;
    w->natt = dp->natt;
}

/* Polling: every packet's text and attachments become records of one v4 payload, written in one
 * call (sio_pkt_encode_eio_payload, which writes what sio_pkt_encode of each packet then
 * sio_eio_payload_encode write) from the record's packet list, as Node's and Python's encoders
 * start from their lists of decoded packets. */
static void encode_polling(const record *r, uint8_t *out, size_t cap, wire *wr)
{
    size_t w = 0;
    check(sio_pkt_encode_eio_payload(r->pkt_list, r->ndecoded, r->att_list, r->natt_list, NULL, out,
                                     cap / 2, &w),
          "payload encode");
    *wr = (wire){.text = out, .ntext = w};
}

/* The list encode_polling starts from, made once with the decoded packets. */
static void make_polling_lists(record *r)
{
    r->pkt_list = calloc(r->ndecoded + 1, sizeof *r->pkt_list);
    r->att_list = calloc(r->ndecoded * MAX_ATT + 1, sizeof *r->att_list);
    if (r->pkt_list == NULL || r->att_list == NULL)
        die("out of memory");
    for (size_t i = 0; i < r->ndecoded; i++) {
        r->pkt_list[i] = r->decoded[i].pkt;
        r->pkt_list[i].attachments = r->decoded[i].natt;
        for (uint32_t k = 0; k < r->decoded[i].natt; k++)
            r->att_list[r->natt_list++] = r->decoded[i].att[k];
    }
}

/* WebSocket: the Engine.IO message in one unmasked text frame (servers do not mask). The
 * message is written once, SIO_WS_MAX_HEADER bytes in, and its header just before it, as a
 * server that knows the header's largest size writes a frame without copying the message. */
static void encode_ws(const record *r, uint8_t *out, size_t cap, wire *w)
{
    encode_packet(&r->decoded[0], out + SIO_WS_MAX_HEADER, cap - 2 * SIO_WS_MAX_HEADER, w);
    sio_ws_frame_header h = {.payload_len = w->ntext, .fin = true, .opcode = SIO_WS_OP_TEXT};
    uint8_t header[SIO_WS_MAX_HEADER];
    size_t hn = 0;
    check(sio_ws_header_encode(&h, header, sizeof header, &hn), "frame header encode");
    uint8_t *frame = out + SIO_WS_MAX_HEADER - hn;
    memcpy(frame, header, hn);
    w->text = frame;
    w->ntext += hn;
}

static size_t encode_record(const record *r, wire *w)
{
    if (r->category == CAT_POLLING)
        encode_polling(r, scratch, scratch_cap, w);
    else if (r->category == CAT_WS)
        encode_ws(r, scratch, scratch_cap, w);
    else
        encode_packet(&r->decoded[0], scratch, scratch_cap, w);
    return wire_bytes(w);
}

/* ------------------------------------------------------------------ passes and timing */

typedef struct group {
    record **recs;
    size_t n;
    uint64_t packets, bytes;
    size_t identical; /* records whose re-encoding is byte for byte the input */
} group;

static decoder pass_decoder;

static void decode_pass(const group *g)
{
    pass_decoder.out = NULL;
    pass_decoder.nout = 0;
    for (size_t i = 0; i < g->n; i++)
        decode_record(&pass_decoder, g->recs[i], scratch);
    sink += pass_decoder.nout;
}

static void encode_pass(const group *g)
{
    wire w;
    for (size_t i = 0; i < g->n; i++)
        sink += encode_record(g->recs[i], &w);
}

/* ------------------------------------------------------------------ floors
 * What the memory system costs for the same bytes, as the library's fastest routines do it:
 * the scan floor reads every byte of every part once (memchr for a byte the part does not hold,
 * so it runs to the end), the copy floor writes every byte once (memcpy into the output buffer).
 * A decoder reads its input at least once, an encoder writes its output at least once. */

static size_t scan_part(const part *pt)
{
    if (pt->absent >= 0)
        return memchr(pt->data, pt->absent, pt->len) == NULL;
    size_t hits = 0; /* every value occurs: count the 0xFF bytes, still one pass */
    const uint8_t *p = pt->data, *end = pt->data + pt->len;
    while ((p = memchr(p, 0xFF, (size_t)(end - p))) != NULL) {
        hits++;
        p++;
    }
    return hits;
}

static void floor_scan_pass(const group *g)
{
    for (size_t i = 0; i < g->n; i++)
        for (size_t j = 0; j < g->recs[i]->nparts; j++)
            sink += scan_part(&g->recs[i]->parts[j]);
}

static void floor_copy_pass(const group *g)
{
    for (size_t i = 0; i < g->n; i++) {
        size_t at = 0;
        for (size_t j = 0; j < g->recs[i]->nparts; j++) {
            const part *pt = &g->recs[i]->parts[j];
            memcpy(scratch + at, pt->data, pt->len);
            at += pt->len;
        }
        sink += scratch[at / 2];
    }
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Warm-up, then `reps` repetitions of whole passes lasting at least rep_s of this process's CPU
 * time (the cores are shared: time spent descheduled is not the codec's). Wall-clock rates are
 * kept alongside. Reports median passes per CPU second. */
static void measure(void (*pass)(const group *), const group *g, const timing *t, const char *name)
{
    double cpu_rates[64], wall_rates[64];
    double warm_end = clock_s(CLOCK_MONOTONIC) + t->warmup;
    pass(g);
    while (clock_s(CLOCK_MONOTONIC) < warm_end)
        pass(g);
    int reps = t->reps > 64 ? 64 : t->reps;
    for (int r = 0; r < reps; r++) {
        long passes = 0;
        double cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), wall0 = clock_s(CLOCK_MONOTONIC), cpu;
        do {
            pass(g);
            passes++;
            cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
        } while (cpu < t->rep_s);
        cpu_rates[r] = (double)passes / cpu;
        wall_rates[r] = (double)passes / (clock_s(CLOCK_MONOTONIC) - wall0);
    }
    printf("\"%s\":{\"passes_per_s_reps\":[", name);
    for (int r = 0; r < reps; r++)
        printf("%s%.3f", r ? "," : "", cpu_rates[r]);
    printf("],\"wall_passes_per_s_reps\":[");
    for (int r = 0; r < reps; r++)
        printf("%s%.3f", r ? "," : "", wall_rates[r]);
    double med = median(cpu_rates, reps);
    printf("],\"packets_per_s\":%.1f,\"mb_per_s\":%.3f}", med * (double)g->packets,
           med * (double)g->bytes / 1e6);
}

/* The payload of a single whole frame (unmasked into `out` when masked); 0 when not one. */
static size_t frame_payload(const uint8_t *f, size_t n, sio_ws_role role, uint8_t *out)
{
    sio_ws_frame_header h;
    size_t hl = 0;
    if (sio_ws_header_decode(f, n, role, &h, &hl) != SIO_OK || hl + h.payload_len != n)
        return 0;
    memcpy(out, f + hl, (size_t)h.payload_len);
    if (h.masked)
        sio_ws_mask(out, (size_t)h.payload_len, h.mask, 0);
    return (size_t)h.payload_len;
}

/* True when encoding the decoded record gives back the input bytes (for frames: the same
 * payload, since clients mask and servers do not), so every implementation is shown to do the
 * same work on the same bytes. */
static bool roundtrip_identical(const record *r)
{
    wire w;
    size_t n = encode_record(r, &w);
    uint8_t *want = scratch + scratch_cap / 2; /* encode_record only uses the lower half */
    size_t wn = 0;
    if (r->category == CAT_WS) {
        uint8_t *got = malloc(n);
        size_t gn = frame_payload(w.text, n, SIO_WS_ROLE_CLIENT, got);
        wn = frame_payload(r->parts[0].data, r->parts[0].len, SIO_WS_ROLE_SERVER, want);
        bool same = gn == wn && gn > 0 && memcmp(got, want, gn) == 0;
        free(got);
        return same;
    }
    for (size_t j = 0; j < r->nparts; j++) {
        memcpy(want + wn, r->parts[j].data, r->parts[j].len);
        wn += r->parts[j].len;
    }
    if (n != wn || memcmp(w.text, want, w.ntext) != 0)
        return false;
    for (uint32_t k = 0, at = (uint32_t)w.ntext; k < w.natt; at += (uint32_t)w.att[k++].len)
        if (memcmp(w.att[k].ptr, want + at, w.att[k].len) != 0)
            return false;
    return true;
}

/* Decodes every record once, keeping the packets the encode pass starts from; returns the
 * bytes of `bin` used by decoded base64 attachments, which must outlive the encode passes. */
static size_t predecode(group *g, uint8_t *bin)
{
    decoder d;
    decoder_init(&d);
    d.bin = bin;
    for (size_t i = 0; i < g->n; i++) {
        record *r = g->recs[i];
        r->decoded = calloc(r->packets + 1, sizeof *r->decoded);
        d.out = r->decoded;
        d.nout = 0;
        /* a ws frame is unmasked into its own copy, which the decoded views keep pointing at */
        uint8_t *copy = r->category == CAT_WS ? malloc(r->parts[0].len) : scratch;
        if (copy == NULL)
            die("out of memory");
        decode_record(&d, r, copy);
        r->ndecoded = d.nout;
        if (r->ndecoded != r->packets)
            die("decoded packet count differs from the input file");
        if (r->category == CAT_POLLING)
            make_polling_lists(r);
        g->identical += roundtrip_identical(r);
    }
    return d.bin_used;
}

typedef struct pass_kind {
    const char *name;
    void (*pass)(const group *);
} pass_kind;

static const pass_kind PASSES[] = {{"decode", decode_pass},
                                   {"encode", encode_pass},
                                   {"floor_scan", floor_scan_pass},
                                   {"floor_copy", floor_copy_pass}};
#define NPASSES (sizeof PASSES / sizeof PASSES[0])

static void callgrind_runs(const group *g, int cat, int passes)
{
    char name[64];
    for (size_t k = 0; k < NPASSES; k++) {
        PASSES[k].pass(g); /* untimed: warms what the counted passes touch */
        CALLGRIND_ZERO_STATS;
        for (int i = 0; i < passes; i++)
            PASSES[k].pass(g);
        snprintf(name, sizeof name, "%s %s", PASSES[k].name, CATEGORY[cat]);
        CALLGRIND_DUMP_STATS_AT(name);
    }
}

/* Sorts the records into one group per category. */
static void group_records(record *recs, size_t nrec, group *groups)
{
    for (int c = 0; c < NCAT; c++)
        groups[c].recs = calloc(nrec, sizeof(record *));
    for (size_t i = 0; i < nrec; i++) {
        group *g = &groups[recs[i].category];
        g->recs[g->n++] = &recs[i];
        g->packets += recs[i].packets;
        for (size_t j = 0; j < recs[i].nparts; j++)
            g->bytes += recs[i].parts[j].len;
    }
}

/* --check: no timing, only whether every category decodes to the announced packets and
 * re-encodes byte for byte (what Node's parsers produce for the same packets). A plain
 * "N passed, N failed" line closes the output, so it can run among the tests. */
static int print_check(const group *groups)
{
    int passed = 0, failed = 0;
    for (int c = 0; c < NCAT; c++) {
        bool ok = groups[c].identical == groups[c].n;
        printf("%s %s: %zu of %zu records re-encoded byte for byte\n", ok ? "ok  " : "FAIL",
               CATEGORY[c], groups[c].identical, groups[c].n);
        if (ok)
            passed++;
        else
            failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

static void print_results(const group *groups, const timing *t, int callgrind_passes)
{
    printf("{\"impl\":\"c\",\"versions\":{\"libsiocodec\":\"%s\"},\"simd\":\"%s\",", sio_version(),
           sio_simd_path_name(sio_simd_selected()));
    if (callgrind_passes)
        printf("\"callgrind_passes\":%d,", callgrind_passes);
    printf("\"categories\":{");
    for (int c = 0; c < NCAT; c++) {
        const group *g = &groups[c];
        printf("%s\"%s\":{\"packets\":%llu,\"bytes\":%llu,\"records\":%zu,"
               "\"roundtrip_identical\":%zu",
               c ? "," : "", CATEGORY[c], (unsigned long long)g->packets,
               (unsigned long long)g->bytes, g->n, g->identical);
        if (callgrind_passes) {
            callgrind_runs(g, c, callgrind_passes);
        } else {
            for (size_t k = 0; k < NPASSES; k++) {
                printf(",");
                measure(PASSES[k].pass, g, t, PASSES[k].name);
            }
        }
        printf("}");
        fflush(stdout);
    }
    printf("}}\n");
}

/* --simd scalar|sse2|avx2|neon: the codec path to measure (default: the best available). */
static void select_path(const char *name)
{
    for (int k = 0; k < SIO_SIMD_PATHS; k++)
        if (!strcmp(name, sio_simd_path_name((sio_simd_path)k)) &&
            sio_simd_select((sio_simd_path)k) == SIO_OK)
            return;
    die("--simd: path unknown or not available on this CPU");
}

int main(int argc, char **argv)
{
    timing t = {0.2, 0.2, 5};
    int callgrind_passes = 0;
    bool check_only = false;
    const char *inputs = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
            t.warmup = atof(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            t.reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rep-time") && i + 1 < argc)
            t.rep_s = atof(argv[++i]);
        else if (!strcmp(argv[i], "--callgrind") && i + 1 < argc)
            callgrind_passes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--check"))
            check_only = true;
        else if (!strcmp(argv[i], "--simd") && i + 1 < argc)
            select_path(argv[++i]);
        else
            inputs = argv[i];
    }
    if (inputs == NULL)
        die("usage: codec_bench INPUTS [--warmup s] [--reps n] [--rep-time s] [--callgrind passes]"
            " [--check]");
    size_t nrec = 0;
    record *recs = read_inputs(inputs, &nrec);
    scratch = malloc(scratch_cap);
    uint8_t *bin = malloc(16u << 20);
    decoder_init(&pass_decoder);
    pass_decoder.bin = malloc(1u << 16);
    group groups[NCAT] = {{0}};
    group_records(recs, nrec, groups);
    size_t bin_off = 0;
    for (int c = 0; c < NCAT; c++)
        bin_off += predecode(&groups[c], bin + bin_off);
    if (check_only)
        return print_check(groups);
    print_results(groups, &t, callgrind_passes);
    return 0;
}
