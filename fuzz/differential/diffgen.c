/* Input generator for the differential check (make differential): reads the fuzz corpora, makes
 * deterministic mutations of them, decodes every input with libsiocodec in strict and in compat
 * mode, and writes one record per input on stdout for driver.js, which decodes the same bytes
 * with socket.io-parser 4.2.7 / engine.io-parser 5.2.3 and compares.
 *
 *   diffgen COUNT SEED KIND:DIR...     KIND = eio_packet | eio_payload | sio_packet | sio_attach
 *
 * Record: kind (u8), input (u32 little-endian length + bytes), strict result, compat result
 * (each u32 length + JSON text: {"ok":true,"v":VALUE} or {"ok":false,"err":"SIO_ERR_..."}).
 * Only inputs whose text parts are valid UTF-8 are written: Node receives text as JavaScript
 * strings, so invalid bytes never reach its parsers as bytes (the transport replaces them). */
#include "sio/eio.h"
#include "sio/json.h"
#include "sio/packet.h"
#include "sio/utf8.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { K_EIO_PACKET = 1, K_EIO_PAYLOAD = 2, K_SIO_PACKET = 3, K_SIO_MESSAGE = 4 };
static const uint8_t SEP[4] = {0x00, 0xFF, 'A', 'T'};
#define MAX_INPUT 4096

typedef struct entry {
    int kind;
    uint8_t *p;
    size_t n;
} entry;

static entry *corpus;
static size_t corpus_len, corpus_cap;

/* ------------------------------------------------------------------ output helpers */

typedef struct out {
    char *p;
    size_t len, cap;
} out;

static void out_put(out *o, const void *p, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        o->cap = (o->len + n + 1) * 2;
        o->p = realloc(o->p, o->cap);
        if (!o->p)
            abort();
    }
    memcpy(o->p + o->len, p, n);
    o->len += n;
}

static void out_str(out *o, const char *s)
{
    out_put(o, s, strlen(s));
}

static void out_hex(out *o, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char h[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
        out_put(o, h, 2);
    }
}

/* A JSON string literal of UTF-8 text, escaped by the codec's own writer. */
static void out_json_string(out *o, const uint8_t *p, size_t n)
{
    sio_json_writer w;
    sio_json_writer_init(&w, NULL, 0);
    sio_json_write_string(&w, p, n);
    size_t need = 0;
    sio_json_writer_finish(&w, &need);
    char *buf = malloc(need + 1);
    if (!buf)
        abort();
    sio_json_writer_init(&w, (uint8_t *)buf, need);
    sio_json_write_string(&w, p, n);
    sio_json_writer_finish(&w, &need);
    out_put(o, buf, need);
    free(buf);
}

static void out_fail(out *o, sio_err e)
{
    out_str(o, "{\"ok\":false,\"err\":\"");
    out_str(o, sio_err_name(e) ? sio_err_name(e) : "?");
    out_str(o, "\"}");
}

/* ------------------------------------------------------------------ codec results */

/* [type, binary, "hex of the bytes"] */
static void eio_value(out *o, const sio_eio_packet *pkt, bool compat)
{
    char head[32];
    snprintf(head, sizeof head, "[%d,%s,\"", (int)pkt->type, pkt->binary ? "true" : "false");
    out_str(o, head);
    if (pkt->binary) {
        size_t need = 0;
        sio_eio_packet_binary(pkt, compat, NULL, 0, &need);
        uint8_t *b = malloc(need + 1);
        if (!b)
            abort();
        sio_eio_packet_binary(pkt, compat, b, need, &need);
        out_hex(o, b, need);
        free(b);
    } else {
        out_hex(o, pkt->data.ptr, pkt->data.len);
    }
    out_str(o, "\"]");
}

static void eio_packet_result(out *o, const uint8_t *p, size_t n, bool compat)
{
    sio_eio_options opt = {compat, false, 0, 0};
    sio_eio_packet pkt;
    sio_err e = sio_eio_packet_decode(4, SIO_EIO_FRAME_WS_TEXT, p, n, &opt, &pkt);
    if (e != SIO_OK) {
        out_fail(o, e);
        return;
    }
    out_str(o, "{\"ok\":true,\"v\":");
    eio_value(o, &pkt, compat);
    out_str(o, "}");
}

static void eio_payload_result(out *o, const uint8_t *p, size_t n, bool compat)
{
    sio_eio_options opt = {compat, false, 0, 0};
    sio_err e = sio_eio_payload_validate(SIO_EIO_PAYLOAD_V4, p, n, &opt, NULL);
    if (e != SIO_OK) {
        out_fail(o, e);
        return;
    }
    sio_eio_payload_iter it;
    sio_eio_payload_iter_init(&it, SIO_EIO_PAYLOAD_V4, p, n, &opt);
    sio_eio_packet pkt;
    bool has = true, first = true;
    out_str(o, "{\"ok\":true,\"v\":[");
    while (sio_eio_payload_next(&it, &pkt, &has) == SIO_OK && has) {
        out_str(o, first ? "" : ",");
        eio_value(o, &pkt, compat);
        first = false;
    }
    out_str(o, "]}");
}

/* {"t":type,"nsp":"…","id":n,"att":n,"data":<payload JSON>} with absent fields left out. */
static void sio_value(out *o, const sio_pkt *pkt)
{
    char num[48];
    snprintf(num, sizeof num, "{\"t\":%d,\"nsp\":", (int)pkt->type);
    out_str(o, num);
    out_json_string(o, pkt->nsp.ptr, pkt->nsp.len);
    if (pkt->has_id) {
        snprintf(num, sizeof num, ",\"id\":%llu", (unsigned long long)pkt->id);
        out_str(o, num);
    }
    if (pkt->type == SIO_PKT_BINARY_EVENT || pkt->type == SIO_PKT_BINARY_ACK) {
        snprintf(num, sizeof num, ",\"att\":%u", pkt->attachments);
        out_str(o, num);
    }
    if (pkt->data.ptr) {
        out_str(o, ",\"data\":");
        out_put(o, pkt->data.ptr, pkt->data.len);
    }
}

static sio_pkt_options sio_opts(bool compat)
{
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    opt.compat = compat;
    return opt;
}

static void sio_packet_result(out *o, const uint8_t *p, size_t n, bool compat)
{
    sio_pkt_options opt = sio_opts(compat);
    sio_pkt pkt;
    sio_err e = sio_pkt_decode(p, n, &opt, &pkt, NULL);
    if (e != SIO_OK) {
        out_fail(o, e);
        return;
    }
    out_str(o, "{\"ok\":true,\"v\":");
    sio_value(o, &pkt);
    out_str(o, "}}");
}

/* The messages of a sio_attach input: kind byte + bytes, separated by SEP. */
static size_t next_message(const uint8_t **p, size_t *n, const uint8_t **msg, size_t *len,
                           bool *bin)
{
    size_t i = 0;
    while (i + 4 <= *n && memcmp(*p + i, SEP, 4) != 0)
        i++;
    if (i + 4 > *n)
        i = *n;
    *bin = i > 0 && ((*p)[0] & 1u);
    *msg = i > 0 ? *p + 1 : *p;
    *len = i > 0 ? i - 1 : 0;
    size_t step = i < *n ? i + 4 : i;
    *p += step;
    *n -= step;
    return step;
}

/* Every completed packet with its attachments ("bins", hex, by placeholder number). */
static void sio_message_result(out *o, const uint8_t *p, size_t n, bool compat)
{
    sio_pkt_options opt = sio_opts(compat);
    sio_span slots[16];
    sio_pkt_assembler a;
    sio_pkt_assembler_init(&a, &opt, slots, 16);
    out list = {NULL, 0, 0};
    bool first = true, pending = false;
    while (n > 0) {
        const uint8_t *msg;
        size_t len;
        bool bin, done = false;
        next_message(&p, &n, &msg, &len, &bin);
        sio_err e = bin ? sio_pkt_assembler_binary(&a, msg, len, &done, NULL)
                        : sio_pkt_assembler_text(&a, msg, len, &done, NULL);
        if (e != SIO_OK) {
            free(list.p);
            out_fail(o, e);
            return;
        }
        pending = !done;
        if (!done)
            continue;
        sio_pkt pkt;
        const sio_span *att;
        uint32_t count = 0;
        sio_pkt_assembler_result(&a, &pkt, &att, &count);
        out_str(&list, first ? "" : ",");
        sio_value(&list, &pkt);
        out_str(&list, ",\"bins\":[");
        for (uint32_t k = 0; k < count; k++) {
            out_str(&list, k ? ",\"" : "\"");
            out_hex(&list, att[k].ptr, att[k].len);
            out_str(&list, "\"");
        }
        out_str(&list, "]}");
        first = false;
    }
    if (pending) {
        free(list.p);
        out_fail(o, SIO_ERR_PKT_INCOMPLETE);
        return;
    }
    out_str(o, "{\"ok\":true,\"v\":[");
    out_put(o, list.p ? list.p : "", list.len);
    out_str(o, "]}");
    free(list.p);
}

static void result(out *o, int kind, const uint8_t *p, size_t n, bool compat)
{
    o->len = 0;
    if (kind == K_EIO_PACKET)
        eio_packet_result(o, p, n, compat);
    else if (kind == K_EIO_PAYLOAD)
        eio_payload_result(o, p, n, compat);
    else if (kind == K_SIO_PACKET)
        sio_packet_result(o, p, n, compat);
    else
        sio_message_result(o, p, n, compat);
}

/* ------------------------------------------------------------------ inputs */

/* Text must be UTF-8 to reach Node's parsers unchanged (see the header comment). */
static bool text_parts_valid(int kind, const uint8_t *p, size_t n)
{
    if (kind != K_SIO_MESSAGE)
        return sio_utf8_validate(p, n, NULL) == SIO_OK;
    while (n > 0) {
        const uint8_t *msg;
        size_t len;
        bool bin;
        next_message(&p, &n, &msg, &len, &bin);
        if (!bin && sio_utf8_validate(msg, len, NULL) != SIO_OK)
            return false;
    }
    return true;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static const char *const tokens[] = {"\x1e",
                                     "b",
                                     "4",
                                     "0",
                                     "2",
                                     "-",
                                     ",",
                                     "/",
                                     "/admin,",
                                     "[",
                                     "]",
                                     "{",
                                     "}",
                                     "\"",
                                     ":",
                                     "1-",
                                     "[\"a\"]",
                                     "{\"_placeholder\":true,\"num\":0}",
                                     "\"num\":1",
                                     "null",
                                     "true",
                                     " ",
                                     "AQID",
                                     "==",
                                     "\xc3\xa9",
                                     "9007199254740993",
                                     "007",
                                     "\"disconnect\"",
                                     "?x=1",
                                     "\x00\xff"
                                     "AT\x01",
                                     "\x00\xff"
                                     "AT\x00",
                                     "e5",
                                     ".5",
                                     "\\u0000"};

/* One random edit: change, insert or delete bytes, insert a protocol token, or splice. */
static size_t mutate(uint8_t *buf, size_t n, size_t cap)
{
    size_t pos = n ? rng() % (n + 1) : 0;
    switch (rng() % 6) {
    case 0:
        if (n)
            buf[rng() % n] = (uint8_t)(rng() % 128);
        return n;
    case 1:
        if (n)
            memmove(buf + pos - (pos == n), buf + pos + (pos < n), n - pos - (pos < n)), n--;
        return n;
    case 2: {
        const char *t = tokens[rng() % (sizeof tokens / sizeof *tokens)];
        size_t k = strlen(t) ? strlen(t) : 1;
        if (t[0] == '\0' && t[1] == (char)0xff)
            k = 5;
        if (n + k > cap)
            return n;
        memmove(buf + pos + k, buf + pos, n - pos);
        memcpy(buf + pos, t, k);
        return n + k;
    }
    case 3: {
        const entry *e = &corpus[rng() % corpus_len];
        size_t from = e->n ? rng() % e->n : 0, k = e->n - from;
        if (n + k > cap)
            k = cap - n;
        memmove(buf + pos + k, buf + pos, n - pos);
        memcpy(buf + pos, e->p + from, k);
        return n + k;
    }
    case 4:
        if (n && n < cap) {
            memmove(buf + pos + 1, buf + pos, n - pos);
            buf[pos] = (uint8_t)("0123456789-/,[]{}\"b\x1e"[rng() % 21]);
            return n + 1;
        }
        return n;
    default:
        if (n > 1)
            return pos ? pos : 1; /* truncate */
        return n;
    }
}

static void add_entry(int kind, const uint8_t *p, size_t n)
{
    if (corpus_len == corpus_cap) {
        corpus_cap = corpus_cap ? corpus_cap * 2 : 1024;
        corpus = realloc(corpus, corpus_cap * sizeof *corpus);
        if (!corpus)
            abort();
    }
    uint8_t *copy = malloc(n + 1);
    if (!copy)
        abort();
    memcpy(copy, p, n);
    corpus[corpus_len++] = (entry){kind, copy, n};
}

/* Strips the fuzz target's option byte, keeping only what both sides read the same way:
 * Engine.IO v4 text, Socket.IO v5 with default limits. */
static void load_file(int kind, const uint8_t *p, size_t n)
{
    if (n == 0 || n > MAX_INPUT)
        return;
    uint8_t opts = p[0];
    if (kind == K_EIO_PACKET && ((opts & 1u) || ((opts >> 1) & 3u) == 2))
        return;
    if ((kind == K_SIO_PACKET || kind == K_SIO_MESSAGE) && ((opts & 1u) || ((opts >> 2) & 3u)))
        return;
    add_entry(kind, p + 1, n - 1);
}

static int kind_of(const char *name)
{
    static const char *const names[] = {"", "eio_packet", "eio_payload", "sio_packet",
                                        "sio_attach"};
    for (int k = 1; k <= 4; k++)
        if (strcmp(name, names[k]) == 0)
            return k;
    return 0;
}

static void load_dir(int kind, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char path[4096];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        static uint8_t buf[MAX_INPUT + 2];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        load_file(kind, buf, n);
    }
    if (d)
        closedir(d);
}

static void put_u32(uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fwrite(b, 1, 4, stdout);
}

static void emit(int kind, const uint8_t *p, size_t n, out *strict, out *compat)
{
    uint8_t k = (uint8_t)kind;
    fwrite(&k, 1, 1, stdout);
    put_u32((uint32_t)n);
    fwrite(p, 1, n, stdout);
    result(strict, kind, p, n, false);
    result(compat, kind, p, n, true);
    put_u32((uint32_t)strict->len);
    fwrite(strict->p, 1, strict->len, stdout);
    put_u32((uint32_t)compat->len);
    fwrite(compat->p, 1, compat->len, stdout);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: diffgen COUNT SEED KIND:DIR...\n");
        return 2;
    }
    unsigned long long count = strtoull(argv[1], NULL, 10);
    rng_state = strtoull(argv[2], NULL, 10);
    for (int i = 3; i < argc; i++) {
        char *colon = strchr(argv[i], ':');
        if (!colon)
            continue;
        *colon = '\0';
        if (kind_of(argv[i]))
            load_dir(kind_of(argv[i]), colon + 1);
    }
    if (corpus_len == 0) {
        fprintf(stderr, "diffgen: empty corpus\n");
        return 1;
    }
    out strict = {NULL, 0, 0}, compat = {NULL, 0, 0};
    static uint8_t buf[MAX_INPUT];
    unsigned long long written = 0, skipped = 0;
    for (size_t i = 0; i < corpus_len && written < count; i++)
        if (text_parts_valid(corpus[i].kind, corpus[i].p, corpus[i].n))
            emit(corpus[i].kind, corpus[i].p, corpus[i].n, &strict, &compat), written++;
    while (written < count) {
        const entry *base = &corpus[rng() % corpus_len];
        size_t n = base->n;
        memcpy(buf, base->p, n);
        for (unsigned edits = 1 + (unsigned)(rng() % 4); edits > 0; edits--)
            n = mutate(buf, n, sizeof buf);
        if (!text_parts_valid(base->kind, buf, n)) {
            skipped++;
            continue;
        }
        emit(base->kind, buf, n, &strict, &compat);
        written++;
    }
    fflush(stdout);
    fprintf(stderr,
            "diffgen: %zu corpus entries, %llu inputs written, %llu mutants skipped (not UTF-8)\n",
            corpus_len, written, skipped);
    free(strict.p);
    free(compat.p);
    return 0;
}
