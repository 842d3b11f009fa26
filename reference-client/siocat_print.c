/* siocat's printer: each traced unit decoded by layer with the codec (HTTP heads, WebSocket frame
 * headers, Engine.IO payloads and packets, Socket.IO packets), printed as a text line
 *
 *     > #2 post     EIO    message
 *
 * (direction, connection, what it carries, layer, the unit) or as a JSON object, and, with
 * --bytes, followed by its bytes in hex with the field labels of the docs pages (docs/gen,
 * conformance/recorder/annotate.py: "Engine.IO type 4 (message)", "namespace", "ack id", ...). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "siocat.h"

/* Text shown of a payload on a human line; the JSON lines carry all of it. */
#define SHOWN_TEXT 300u
/* Hex rows of one field on a human line (16 bytes a row). */
#define SHOWN_ROWS 4u
/* Labelled fields of one unit; past it the rest is one field. */
#define MAX_FIELDS 128

typedef struct field {
    size_t off, len;
    char label[72];
} field;

typedef struct fields {
    field f[MAX_FIELDS];
    int n;
} fields;

static void add(fields *fs, size_t off, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(fields *fs, size_t off, size_t len, const char *fmt, ...)
{
    if (len == 0)
        return;
    if (fs->n == MAX_FIELDS) { /* the last field stretches to cover the rest */
        field *last = &fs->f[MAX_FIELDS - 1];
        last->len = off + len - last->off;
        snprintf(last->label, sizeof last->label, "the rest");
        return;
    }
    field *f = &fs->f[fs->n++];
    f->off = off;
    f->len = len;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->label, sizeof f->label, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ JSON lines */

typedef struct jfield {
    const char *key;
    char kind; /* s: UTF-8 bytes, j: raw JSON, u: unsigned, b: bool, t: number text, F: fields */
    const uint8_t *p;
    size_t n;
    unsigned long long u;
} jfield;

typedef struct jline {
    jfield f[24];
    int n;
    const fields *fs;
    const uint8_t *bytes; /* the unit's bytes, for "hex" */
    size_t nbytes;
} jline;

static void j_add(jline *l, const char *key, char kind, const void *p, size_t n,
                  unsigned long long u)
{
    if (l->n < (int)(sizeof l->f / sizeof l->f[0]))
        l->f[l->n++] = (jfield){key, kind, p, n, u};
}
static void j_str(jline *l, const char *key, const char *s)
{
    j_add(l, key, 's', s, strlen(s), 0);
}

static void j_write(sio_json_writer *w, const jline *l)
{
    sio_json_write_begin_object(w);
    for (int i = 0; i < l->n; i++) {
        const jfield *f = &l->f[i];
        char num[32];
        sio_json_write_key(w, (const uint8_t *)f->key, strlen(f->key));
        switch (f->kind) {
        case 's':
            if (sio_json_write_string(w, f->p, f->n) != SIO_OK)
                w->err = SIO_OK, sio_json_write_null(w); /* not UTF-8: see "hex" */
            break;
        case 'j':
            if (f->n)
                sio_json_write_raw(w, f->p, f->n);
            else
                sio_json_write_null(w);
            break;
        case 'u':
            snprintf(num, sizeof num, "%llu", f->u);
            sio_json_write_number_text(w, (const uint8_t *)num, strlen(num));
            break;
        case 'b':
            sio_json_write_bool(w, f->u != 0);
            break;
        case 't':
            sio_json_write_number_text(w, f->p, f->n);
            break;
        }
    }
    if (l->fs) {
        char *hex = malloc(l->nbytes * 2 + 1);
        for (size_t i = 0; hex && i < l->nbytes; i++)
            snprintf(hex + 2 * i, 3, "%02x", l->bytes[i]);
        sio_json_write_key(w, (const uint8_t *)"hex", 3);
        sio_json_write_string(w, (const uint8_t *)(hex ? hex : ""), hex ? l->nbytes * 2 : 0);
        free(hex);
        sio_json_write_key(w, (const uint8_t *)"fields", 6);
        sio_json_write_begin_array(w);
        for (int i = 0; i < l->fs->n; i++) {
            const field *f = &l->fs->f[i];
            sio_json_write_begin_object(w);
            sio_json_write_key(w, (const uint8_t *)"offset", 6);
            sio_json_write_int(w, (int64_t)f->off);
            sio_json_write_key(w, (const uint8_t *)"length", 6);
            sio_json_write_int(w, (int64_t)f->len);
            sio_json_write_key(w, (const uint8_t *)"label", 5);
            sio_json_write_string(w, (const uint8_t *)f->label, strlen(f->label));
            sio_json_write_end_object(w);
        }
        sio_json_write_end_array(w);
    }
    sio_json_write_end_object(w);
}

static void j_print(printer *p, const jline *l)
{
    sio_json_writer w;
    size_t n = 0;
    sio_json_writer_init(&w, NULL, 0);
    j_write(&w, l);
    sio_json_writer_finish(&w, &n);
    uint8_t *buf = malloc(n + 1);
    if (!buf)
        return;
    sio_json_writer_init(&w, buf, n);
    j_write(&w, l);
    if (sio_json_writer_finish(&w, &n) == SIO_OK) {
        fwrite(buf, 1, n, p->out);
        fputc('\n', p->out);
    }
    free(buf);
    fflush(p->out);
}

/* The common keys of a trace line. */
static void j_start(jline *l, printer *p, uint64_t now, const rc_trace *t, const char *layer,
                    char *tbuf, size_t tcap)
{
    memset(l, 0, sizeof *l);
    snprintf(tbuf, tcap, "%.3f", (double)(now - p->t0) / 1000.0);
    j_add(l, "t", 't', tbuf, strlen(tbuf), 0);
    if (t) {
        j_str(l, "dir", t->kind == RC_TRACE_NOTE ? "note" : t->sent ? "out" : "in");
        j_add(l, "link", 'u', NULL, 0, (unsigned long long)t->link);
        j_str(l, "channel", rc_channel_name(t->channel));
    }
    j_str(l, "layer", layer);
}

/* ------------------------------------------------------------------ text lines */

static void text_line(printer *p, const rc_trace *t, const char *layer, int indent, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
static void text_line(printer *p, const rc_trace *t, const char *layer, int indent, const char *fmt,
                      ...)
{
    char where[24];
    snprintf(where, sizeof where, "#%d %s", t->link, rc_channel_name(t->channel));
    char dir = t->kind == RC_TRACE_NOTE || t->kind <= RC_TRACE_TCP_CLOSE ? '*'
               : t->sent                                                 ? '>'
                                                                         : '<';
    fprintf(p->out, "%c %-12s %-4s %*s", dir, t->link ? where : "", layer, indent, "");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->out, fmt, ap);
    va_end(ap);
    fputc('\n', p->out);
}

/* Printable text of at most SHOWN_TEXT bytes. */
static void shown(char *out, size_t cap, const uint8_t *s, size_t n)
{
    size_t w = 0, limit = n < SHOWN_TEXT ? n : SHOWN_TEXT;
    for (size_t i = 0; i < limit && w + 16 < cap; i++)
        out[w++] = s[i] == '\n' || s[i] == '\r' || s[i] == 0x1e ? ' ' : (char)s[i];
    if (limit < n)
        w += (size_t)snprintf(out + w, cap - w, "... (%zu bytes)", n);
    out[w] = '\0';
}

static void hex_preview(char *out, size_t cap, const uint8_t *s, size_t n)
{
    size_t w = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && i < 16 && w + 4 < cap; i++)
        w += (size_t)snprintf(out + w, cap - w, "%s%02x", i ? " " : "", s[i]);
    if (n > 16 && w + 4 < cap)
        snprintf(out + w, cap - w, " ...");
}

static void dump(printer *p, const uint8_t *base, const fields *fs)
{
    for (int i = 0; i < fs->n; i++) {
        const field *f = &fs->f[i];
        size_t rows = (f->len + 15) / 16, shown_rows = rows < SHOWN_ROWS ? rows : SHOWN_ROWS;
        for (size_t r = 0; r < shown_rows; r++) {
            char hex[52] = "";
            size_t w = 0;
            for (size_t b = r * 16; b < f->len && b < r * 16 + 16; b++)
                w += (size_t)snprintf(hex + w, sizeof hex - w, "%02x ", base[f->off + b]);
            fprintf(p->out, "      %-48s %s\n", hex, r == 0 ? f->label : "");
        }
        if (rows > shown_rows)
            fprintf(p->out, "      ... %zu more bytes\n", f->len - shown_rows * 16);
    }
}

/* ------------------------------------------------------------------ HTTP */

static void http_fields(const uint8_t *head, size_t n, bool request, fields *fs)
{
    size_t pos = 0;
    bool first = true;
    while (pos < n) {
        const uint8_t *eol = memchr(head + pos, '\n', n - pos);
        size_t end = eol ? (size_t)(eol - head) + 1 : n, len = end - pos;
        if (len <= 2) {
            add(fs, pos, len, "end of head");
        } else if (first) {
            add(fs, pos, len, request ? "request line" : "status line");
        } else {
            const uint8_t *colon = memchr(head + pos, ':', len);
            size_t nlen = colon ? (size_t)(colon - (head + pos)) : 0;
            char name[48];
            for (size_t i = 0; i < nlen && i < sizeof name - 1; i++)
                name[i] = (char)(head[pos + i] >= 'A' && head[pos + i] <= 'Z' ? head[pos + i] + 32
                                                                              : head[pos + i]);
            name[nlen < sizeof name - 1 ? nlen : sizeof name - 1] = '\0';
            add(fs, pos, len, "header %s", name);
        }
        first = false;
        pos = end;
    }
}

static void print_payload(printer *p, uint64_t now, const rc_trace *t, const uint8_t *body,
                          size_t n, const char *content_type);

static void print_http(printer *p, uint64_t now, const rc_trace *t)
{
    bool request = t->kind == RC_TRACE_HTTP_REQUEST;
    const uint8_t *h = t->head.ptr;
    const uint8_t *eol = memchr(h, '\r', t->head.len);
    size_t first = eol ? (size_t)(eol - h) : t->head.len;
    fields fs = {.n = 0};
    if (p->bytes)
        http_fields(h, t->head.len, request, &fs);
    if (p->json) {
        jline l;
        char tb[32];
        j_start(&l, p, now, t, "http", tb, sizeof tb);
        j_add(&l, request ? "request" : "status_line", 's', h, first, 0);
        if (t->content_type && t->content_type[0])
            j_str(&l, "content_type", t->content_type);
        j_add(&l, "body_length", 'u', NULL, 0, t->body.len);
        if (!request && t->status != 200 && t->body.len)
            j_add(&l, "body", 's', t->body.ptr, t->body.len, 0);
        l.fs = p->bytes ? &fs : NULL;
        l.bytes = h;
        l.nbytes = t->head.len;
        j_print(p, &l);
    } else {
        char extra[200] = "";
        if (t->body.len || !request)
            snprintf(extra, sizeof extra, "  (%s%s%zu bytes)",
                     t->content_type ? t->content_type : "",
                     t->content_type && t->content_type[0] ? ", " : "", t->body.len);
        text_line(p, t, "HTTP", 0, "%.*s%s", (int)first, (const char *)h, extra);
        if (p->bytes)
            dump(p, h, &fs);
    }
    sio_http_response r;
    sio_http_parser ps;
    sio_http_parser_init(&ps);
    int status = 200;
    if (!request && sio_http_response_parse(&ps, h, t->head.len, NULL, &r) == SIO_OK)
        status = r.status;
    /* A POST is answered "ok", not with a payload. */
    bool payload = request || t->channel != SIO_EIO_CHANNEL_POST;
    if (t->body.len && status == 200 && payload)
        print_payload(p, now, t, t->body.ptr, t->body.len, t->content_type);
    else if (t->body.len && !p->json) {
        char text[SHOWN_TEXT + 32];
        shown(text, sizeof text, t->body.ptr, t->body.len);
        text_line(p, t, "HTTP", 0, "body: %s", text);
    }
}

/* ------------------------------------------------------------------ WebSocket frames */

static const char *opcode_name(uint8_t op)
{
    switch (op) {
    case SIO_WS_OP_CONTINUATION:
        return "continuation";
    case SIO_WS_OP_TEXT:
        return "text";
    case SIO_WS_OP_BINARY:
        return "binary";
    case SIO_WS_OP_CLOSE:
        return "close";
    case SIO_WS_OP_PING:
        return "ping";
    case SIO_WS_OP_PONG:
        return "pong";
    default:
        return "reserved";
    }
}

static void print_frame(printer *p, uint64_t now, const rc_trace *t)
{
    sio_ws_frame_header h;
    size_t hl = 0;
    sio_ws_header_decode(t->head.ptr, t->head.len,
                         t->sent ? SIO_WS_ROLE_SERVER : SIO_WS_ROLE_CLIENT, &h, &hl);
    char detail[200] = "";
    if (h.opcode == SIO_WS_OP_CLOSE && t->body.len >= 2)
        snprintf(detail, sizeof detail, ", code %u%s%.*s",
                 (unsigned)(t->body.ptr[0] << 8 | t->body.ptr[1]), t->body.len > 2 ? " " : "",
                 (int)(t->body.len - 2), (const char *)t->body.ptr + 2);
    /* The wire bytes: the header, then the payload as sent (masked by the client). */
    size_t total = t->head.len + t->body.len;
    uint8_t *wire = malloc(total ? total : 1);
    if (!wire)
        return;
    memcpy(wire, t->head.ptr, t->head.len);
    const sio_span payload = t->masked.ptr ? t->masked : t->body;
    if (payload.len)
        memcpy(wire + t->head.len, payload.ptr, payload.len);
    fields fs = {.n = 0};
    if (p->bytes) {
        add(&fs, 0, 1, "FIN and opcode");
        add(&fs, 1, t->head.len - 1 - (h.masked ? 4 : 0), "mask bit and length");
        if (h.masked)
            add(&fs, t->head.len - 4, 4, "masking key");
        add(&fs, t->head.len, payload.len, h.masked ? "payload (masked)" : "payload");
    }
    if (p->json) {
        jline l;
        char tb[32];
        j_start(&l, p, now, t, "ws", tb, sizeof tb);
        j_str(&l, "opcode", opcode_name(h.opcode));
        j_add(&l, "fin", 'b', NULL, 0, h.fin);
        j_add(&l, "masked", 'b', NULL, 0, h.masked);
        j_add(&l, "length", 'u', NULL, 0, t->body.len);
        if (h.opcode == SIO_WS_OP_CLOSE && t->body.len >= 2)
            j_add(&l, "close_code", 'u', NULL, 0, (unsigned)(t->body.ptr[0] << 8 | t->body.ptr[1]));
        l.fs = p->bytes ? &fs : NULL;
        l.bytes = wire;
        l.nbytes = total;
        j_print(p, &l);
    } else {
        text_line(p, t, "WS", 0, "%s%s, %zu bytes%s%s", opcode_name(h.opcode), h.fin ? " FIN" : "",
                  t->body.len, h.masked ? ", masked" : "", detail);
        if (p->bytes)
            dump(p, wire, &fs);
    }
    free(wire);
}

/* ------------------------------------------------------------------ Socket.IO */

static const char *const SIO_NAMES[] = {"CONNECT",       "DISCONNECT",   "EVENT",     "ACK",
                                        "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"};
static const char *const EIO_NAMES[] = {"open",    "close",   "ping", "pong",
                                        "message", "upgrade", "noop"};

/* The byte before `at` that opens a member of a container ('[', '{' or ','), skipping space. */
static size_t member_start(const uint8_t *base, size_t at)
{
    while (at > 0 && base[at - 1] != '[' && base[at - 1] != '{' && base[at - 1] != ',')
        at--;
    return at > 0 ? at - 1 : 0;
}

/* Fields of a Socket.IO packet text at base[at..at+n). */
static void sio_fields(const uint8_t *base, size_t at, size_t n, const sio_pkt *pkt, fields *fs)
{
    const uint8_t *s = base + at;
    size_t pos = 1;
    add(fs, at, 1, "Socket.IO type %c (%s)", s[0], SIO_NAMES[pkt->type]);
    if (pkt->type == SIO_PKT_BINARY_EVENT || pkt->type == SIO_PKT_BINARY_ACK) {
        const uint8_t *dash = memchr(s + pos, '-', n - pos);
        size_t end = dash ? (size_t)(dash - s) + 1 : pos;
        add(fs, at + pos, end - pos, "attachment count");
        pos = end;
    }
    if (pos < n && s[pos] == '/') {
        const uint8_t *comma = memchr(s + pos, ',', n - pos);
        size_t end = comma ? (size_t)(comma - s) + 1 : n;
        add(fs, at + pos, end - pos, "namespace");
        pos = end;
    }
    size_t digits = pos;
    while (digits < n && s[digits] >= '0' && s[digits] <= '9')
        digits++;
    add(fs, at + pos, digits - pos, "ack id");
    pos = digits;
    if (pos >= n)
        return;
    sio_span data = sio_span_of(s + pos, n - pos);
    sio_json_iter it;
    sio_span v;
    if (sio_json_array_iter(data, &it) != SIO_OK) {
        add(fs, at + pos, n - pos, "payload");
        return;
    }
    bool event = pkt->type == SIO_PKT_EVENT || pkt->type == SIO_PKT_BINARY_EVENT;
    int i = 0;
    size_t last_end = at + pos;
    while (sio_json_next(&it, NULL, &v)) {
        size_t vstart = (size_t)(v.ptr - base), vend = vstart + v.len;
        size_t start = member_start(base, vstart);
        int num = event ? i : i + 1;
        sio_span flag;
        bool ph = sio_json_kind_of(v) == SIO_JSON_OBJECT &&
                  sio_json_object_get(v, "_placeholder", 12, &flag) == SIO_OK;
        if (i == 0 && event)
            add(fs, start, vend - start, "event name");
        else
            add(fs, start, vend - start, ph ? "argument %d (placeholder)" : "argument %d", num);
        last_end = vend;
        i++;
    }
    add(fs, last_end, at + n - last_end, i ? "end of array" : "payload");
}

static void print_sio(printer *p, uint64_t now, const rc_trace *t, const uint8_t *s, size_t n,
                      sio_pkt *out, bool *ok)
{
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    opt.protocol = p->eio == 3 ? 4 : 5;
    opt.compat = true;
    sio_err rc = sio_pkt_decode(s, n, &opt, out, NULL);
    *ok = rc == SIO_OK;
    int dir = t->sent ? 0 : 1;
    if (*ok && out->attachments) {
        p->attachments_due[dir] = out->attachments;
        p->attachments_total[dir] = out->attachments;
    }
    if (p->json) {
        jline l;
        char tb[32];
        j_start(&l, p, now, t, "sio", tb, sizeof tb);
        if (*ok) {
            j_str(&l, "type", SIO_NAMES[out->type]);
            j_add(&l, "nsp", 's', out->nsp.len ? out->nsp.ptr : (const uint8_t *)"/",
                  out->nsp.len ? out->nsp.len : 1, 0);
            if (out->has_id)
                j_add(&l, "id", 'u', NULL, 0, out->id);
            if (out->attachments)
                j_add(&l, "attachments", 'u', NULL, 0, out->attachments);
            j_add(&l, "data", 'j', out->data.ptr, out->data.len, 0);
        } else {
            j_str(&l, "error", sio_err_name(rc));
            j_add(&l, "text", 's', s, n, 0);
        }
        j_print(p, &l);
        return;
    }
    char text[SHOWN_TEXT + 32], id[32] = "", att[32] = "";
    if (!*ok) {
        shown(text, sizeof text, s, n);
        text_line(p, t, "SIO", 4, "(does not decode: %s) %s", sio_err_name(rc), text);
        return;
    }
    shown(text, sizeof text, out->data.ptr ? out->data.ptr : (const uint8_t *)"", out->data.len);
    if (out->has_id)
        snprintf(id, sizeof id, " id=%llu", (unsigned long long)out->id);
    if (out->attachments)
        snprintf(att, sizeof att, " +%u attachment%s", out->attachments,
                 out->attachments == 1 ? "" : "s");
    text_line(p, t, "SIO", 4, "%s %.*s%s%s%s%s", SIO_NAMES[out->type],
              out->nsp.len ? (int)out->nsp.len : 1, out->nsp.len ? (const char *)out->nsp.ptr : "/",
              id, att, text[0] ? " " : "", text);
}

/* ------------------------------------------------------------------ Engine.IO */

/* The open packet's members: "open: sid", ... then "end of object". */
static void open_fields(const uint8_t *base, size_t at, size_t n, fields *fs)
{
    sio_json_iter it;
    sio_span k, v;
    if (sio_json_object_iter(sio_span_of(base + at, n), &it) != SIO_OK) {
        add(fs, at, n, "data");
        return;
    }
    size_t last = at;
    while (sio_json_next(&it, &k, &v)) {
        size_t start = member_start(base, (size_t)(k.ptr - base));
        size_t end = (size_t)(v.ptr - base) + v.len;
        add(fs, start, end - start, "open: %.*s", k.len > 2 ? (int)k.len - 2 : 0,
            (const char *)k.ptr + 1);
        last = end;
    }
    add(fs, last, at + n - last, "end of object");
}

/* The fields of an Engine.IO record base[start..end): what precedes it (a separator or a
 * length), its type or binary marker, then its data (the open packet's members, a Socket.IO
 * packet's fields, or plain data). */
static void eio_fields(printer *p, const uint8_t *base, size_t start, size_t end,
                       const sio_eio_packet *pkt, bool ws_binary, const sio_pkt *sp, bool sio_ok,
                       fields *fs)
{
    size_t data_at = pkt->data.ptr ? (size_t)(pkt->data.ptr - base) : end; /* empty data */
    /* Where the record's own bytes begin: its type character, its 'b', or its data. */
    size_t type_at = ws_binary && p->eio == 4     ? data_at
                     : pkt->base64 && p->eio == 3 ? data_at - 2
                                                  : data_at - 1;
    add(fs, start, type_at - start,
        p->eio == 3 && !ws_binary ? "record length" : "record separator");
    if (pkt->base64) {
        add(fs, type_at, 1, "binary marker");
        if (p->eio == 3)
            add(fs, type_at + 1, 1, "Engine.IO type %d (%s)", pkt->type, EIO_NAMES[pkt->type]);
        add(fs, data_at, pkt->data.len, "base64 data");
        return;
    }
    if (type_at < data_at)
        add(fs, type_at, 1, "Engine.IO type %d (%s)", pkt->type, EIO_NAMES[pkt->type]);
    if (sp && sio_ok)
        sio_fields(base, data_at, pkt->data.len, sp, fs);
    else if (pkt->binary)
        add(fs, data_at, pkt->data.len, "binary data");
    else if (pkt->type == SIO_EIO_OPEN)
        open_fields(base, data_at, pkt->data.len, fs);
    else if ((pkt->type == SIO_EIO_PING || pkt->type == SIO_EIO_PONG) && pkt->data.len == 5 &&
             !memcmp(pkt->data.ptr, "probe", 5))
        add(fs, data_at, 5, "probe data");
    else
        add(fs, data_at, pkt->data.len, "data");
}

/* A binary message that completes a Socket.IO binary packet: "attachment k of n". */
static void print_attachment(printer *p, uint64_t now, const rc_trace *t, size_t nraw)
{
    int dir = t->sent ? 0 : 1;
    if (!p->attachments_due[dir])
        return;
    uint32_t k = p->attachments_total[dir] - p->attachments_due[dir]--;
    if (p->json) {
        jline l;
        char tb[32];
        j_start(&l, p, now, t, "sio", tb, sizeof tb);
        j_str(&l, "type", "attachment");
        j_add(&l, "num", 'u', NULL, 0, k);
        j_add(&l, "length", 'u', NULL, 0, nraw);
        j_print(p, &l);
    } else {
        text_line(p, t, "SIO", 4, "attachment %u of %u (%zu bytes)", k + 1,
                  p->attachments_total[dir], nraw);
    }
}

/* One Engine.IO packet of the record base[start..end) (a separator or a length before it
 * included): its line, the Socket.IO line of a text message, and its labelled bytes. */
static void print_eio_packet(printer *p, uint64_t now, const rc_trace *t, const uint8_t *base,
                             size_t start, size_t end, const sio_eio_packet *pkt, bool ws_binary)
{
    uint8_t *bytes = NULL;
    size_t nbytes = 0;
    if (pkt->binary && pkt->base64) {
        size_t need = 0;
        sio_eio_packet_binary(pkt, true, NULL, 0, &need);
        bytes = malloc(need ? need : 1);
        if (bytes)
            sio_eio_packet_binary(pkt, true, bytes, need, &nbytes);
    }
    const uint8_t *raw = bytes ? bytes : pkt->data.ptr;
    size_t nraw = bytes ? nbytes : pkt->data.len;
    bool is_sio = pkt->type == SIO_EIO_MESSAGE && !pkt->binary;
    sio_pkt sp;
    bool sio_ok = false;
    if (is_sio) { /* decoded here for the fields; print_sio decodes it again for its line */
        sio_pkt_options opt;
        sio_pkt_options_init(&opt);
        opt.protocol = p->eio == 3 ? 4 : 5;
        opt.compat = true;
        sio_ok = sio_pkt_decode(pkt->data.ptr, pkt->data.len, &opt, &sp, NULL) == SIO_OK;
    }
    fields fs = {.n = 0};
    if (p->bytes)
        eio_fields(p, base, start, end, pkt, ws_binary, is_sio ? &sp : NULL, sio_ok, &fs);
    if (p->json) {
        jline l;
        char tb[32];
        char *b64 = NULL;
        size_t w = 0;
        j_start(&l, p, now, t, "eio", tb, sizeof tb);
        j_str(&l, "type", EIO_NAMES[pkt->type]);
        j_add(&l, "binary", 'b', NULL, 0, pkt->binary);
        if (!pkt->binary) {
            j_add(&l, "data", 's', pkt->data.ptr, pkt->data.len, 0);
        } else if ((b64 = malloc(sio_base64_encoded_len(nraw) + 1)) != NULL) {
            sio_base64_encode(raw, nraw, (uint8_t *)b64, sio_base64_encoded_len(nraw), &w);
            j_add(&l, "data_base64", 's', b64, w, 0);
        }
        for (int i = 0; i < fs.n; i++) /* offsets from the record's first byte */
            fs.f[i].off -= start;
        l.fs = p->bytes ? &fs : NULL;
        l.bytes = base + start;
        l.nbytes = end - start;
        j_print(p, &l);
        free(b64);
    } else {
        char text[SHOWN_TEXT + 32] = "";
        if (pkt->binary)
            hex_preview(text, sizeof text, raw, nraw);
        else if (!is_sio)
            shown(text, sizeof text, pkt->data.ptr, pkt->data.len);
        text_line(p, t, "EIO", 2, "%s%s%s%s", EIO_NAMES[pkt->type], pkt->binary ? " (binary)" : "",
                  text[0] ? " " : "", text);
    }
    if (is_sio)
        print_sio(p, now, t, pkt->data.ptr, pkt->data.len, &sp, &sio_ok);
    else if (pkt->binary)
        print_attachment(p, now, t, nraw);
    if (p->bytes && !p->json)
        dump(p, base, &fs);
    free(bytes);
}

static void print_payload(printer *p, uint64_t now, const rc_trace *t, const uint8_t *body,
                          size_t n, const char *content_type)
{
    bool octets = content_type && strncmp(content_type, "application/octet-stream", 24) == 0;
    sio_eio_payload_format fmt = p->eio == 4 ? SIO_EIO_PAYLOAD_V4
                                 : octets    ? SIO_EIO_PAYLOAD_V3_BINARY
                                             : SIO_EIO_PAYLOAD_V3_TEXT;
    sio_eio_options opt = {.b64 = true};
    sio_eio_payload_iter it;
    sio_eio_payload_iter_init(&it, fmt, body, n, &opt);
    size_t at = 0;
    for (;;) {
        sio_eio_packet pkt;
        bool has = false;
        sio_err rc = sio_eio_payload_next(&it, &pkt, &has);
        if (rc != SIO_OK) {
            char text[SHOWN_TEXT + 32];
            shown(text, sizeof text, body + at, n - at);
            if (p->json) {
                jline l;
                char tb[32];
                j_start(&l, p, now, t, "eio", tb, sizeof tb);
                j_str(&l, "error", sio_err_name(rc));
                j_print(p, &l);
            } else {
                text_line(p, t, "EIO", 2, "(payload does not decode: %s) %s", sio_err_name(rc),
                          text);
            }
            return;
        }
        if (!has)
            return;
        /* The record ends where the next begins, less the v4 separator between them. */
        size_t next = it.pos < n ? it.pos : n, end = next;
        if (fmt == SIO_EIO_PAYLOAD_V4 && it.pos <= n && end > at && body[end - 1] == 0x1e)
            end--;
        print_eio_packet(p, now, t, body, at, end, &pkt, false);
        at = next;
    }
}

static void print_message(printer *p, uint64_t now, const rc_trace *t)
{
    sio_eio_options opt = {.b64 = true};
    sio_eio_packet pkt;
    sio_err rc =
        sio_eio_packet_decode(p->eio, t->binary ? SIO_EIO_FRAME_WS_BINARY : SIO_EIO_FRAME_WS_TEXT,
                              t->body.ptr, t->body.len, &opt, &pkt);
    if (rc == SIO_OK) {
        print_eio_packet(p, now, t, t->body.ptr, 0, t->body.len, &pkt, t->binary);
    } else if (!p->json) {
        char text[SHOWN_TEXT + 32];
        shown(text, sizeof text, t->body.ptr, t->body.len);
        text_line(p, t, "EIO", 2, "(not an Engine.IO packet: %s) %s", sio_err_name(rc), text);
    }
}

/* ------------------------------------------------------------------ entry points */

void print_trace(printer *p, const rc_trace *t, uint64_t now)
{
    p->eio = t->eio ? t->eio : p->eio;
    if (p->quiet)
        return;
    switch (t->kind) {
    case RC_TRACE_HTTP_REQUEST:
    case RC_TRACE_HTTP_RESPONSE:
        print_http(p, now, t);
        break;
    case RC_TRACE_WS_FRAME:
        print_frame(p, now, t);
        break;
    case RC_TRACE_WS_MESSAGE:
        print_message(p, now, t);
        break;
    default: {
        const char *what = t->kind == RC_TRACE_TCP_CONNECT ? "connecting to"
                           : t->kind == RC_TRACE_TCP_OPEN  ? "connected"
                           : t->kind == RC_TRACE_TCP_CLOSE ? "closed:"
                                                           : "";
        if (p->json) {
            jline l;
            char tb[32];
            j_start(&l, p, now, t, t->kind == RC_TRACE_NOTE ? "note" : "tcp", tb, sizeof tb);
            j_str(&l, "what",
                  t->kind == RC_TRACE_TCP_CONNECT ? "connect"
                  : t->kind == RC_TRACE_TCP_OPEN  ? "open"
                  : t->kind == RC_TRACE_TCP_CLOSE ? "close"
                                                  : "note");
            if (t->note)
                j_str(&l, "note", t->note);
            j_print(p, &l);
        } else {
            text_line(p, t, t->kind == RC_TRACE_NOTE ? "" : "TCP", 0, "%s%s%s", what,
                      what[0] && t->note ? " " : "", t->note ? t->note : "");
        }
    }
    }
    fflush(p->out);
}

void print_app(printer *p, uint64_t now, const char *what, ...)
{
    va_list ap;
    if (p->json) {
        jline l;
        char tb[32];
        j_start(&l, p, now, NULL, "app", tb, sizeof tb);
        j_str(&l, "event", what);
        va_start(ap, what);
        const char *key;
        while ((key = va_arg(ap, const char *)) != NULL) {
            const char *kind = va_arg(ap, const char *);
            if (kind[0] == 'u') {
                j_add(&l, key, 'u', NULL, 0, va_arg(ap, unsigned long long));
            } else { /* a flag ('f') is written as its JSON value, "true" */
                const char *v = va_arg(ap, const char *);
                j_add(&l, key, kind[0] == 'f' ? 'j' : kind[0], v, v ? strlen(v) : 0, 0);
            }
        }
        va_end(ap);
        j_print(p, &l);
        return;
    }
    fprintf(p->out, "= %s", what);
    va_start(ap, what);
    const char *key;
    while ((key = va_arg(ap, const char *)) != NULL) {
        const char *kind = va_arg(ap, const char *);
        if (kind[0] == 'u')
            fprintf(p->out, " %s=%llu", key, va_arg(ap, unsigned long long));
        else if (kind[0] == 'f') { /* a flag: its name alone, when set */
            if (va_arg(ap, const char *))
                fprintf(p->out, " %s", key);
        } else if (kind[0] == 'j' || !strcmp(key, "nsp") || !strcmp(key, "name"))
            fprintf(p->out, " %s", va_arg(ap, const char *));
        else
            fprintf(p->out, " %s=%s", key, va_arg(ap, const char *));
    }
    va_end(ap);
    fputc('\n', p->out);
    fflush(p->out);
}

void print_error(printer *p, uint64_t now, const char *message)
{
    fprintf(stderr, "siocat: %s\n", message);
    fflush(stderr);
    if (p->json)
        print_app(p, now, "error", "message", "s", message, (const char *)NULL);
}
