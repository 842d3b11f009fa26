/* Client fixture (conformance/CLIENT-FIXTURE.md) for the reference client (reference-client/,
 * on libsiocodec's client sessions). The scripted server holds the scenario: this program
 * connects as configured, obeys do-* events, answers every server ack with the event's own
 * arguments, and prints one JSON line per thing it saw. `--eio3` runs the Engine.IO 3 /
 * Socket.IO 4 profile. JSON is read and written with the codec's tree-less readers and writer,
 * so arguments travel byte for byte. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binjson.h"
#include "rc_loop.h"

/* How long `do-disconnect` lets the close packets leave before the process exits. */
#define LEAVE_GRACE_MS 1500u

static rc_client *client;
static sio_span config;
static bool eio3, leaving;
static uint64_t exit_at = UINT64_MAX;
static volatile sig_atomic_t stop;

/* ------------------------------------------------------------------ JSON lines */

typedef struct line {
    sio_json_writer w;
} line;

/* One line at a time; large enough for the largest event the client accepts, in base64. */
static uint8_t line_buf[2 * RC_DEFAULT_MAX_MESSAGE + 4096];

static void line_start(line *l, const char *ev)
{
    sio_json_writer_init(&l->w, line_buf, sizeof line_buf);
    sio_json_write_begin_object(&l->w);
    sio_json_write_key(&l->w, (const uint8_t *)"ev", 2);
    sio_json_write_string(&l->w, (const uint8_t *)ev, strlen(ev));
}

static void key(line *l, const char *k)
{
    sio_json_write_key(&l->w, (const uint8_t *)k, strlen(k));
}

static void put_str(line *l, const char *k, sio_span v)
{
    key(l, k);
    sio_json_write_string(&l->w, v.ptr ? v.ptr : (const uint8_t *)"", v.len);
}

static void put_raw(line *l, const char *k, sio_span json)
{
    key(l, k);
    if (json.len)
        sio_json_write_raw(&l->w, json.ptr, json.len);
    else
        sio_json_write_null(&l->w);
}

/* Prints the line (one too long is reported as an error line). */
static void line_end(line *l)
{
    sio_json_write_end_object(&l->w);
    size_t n = 0;
    if (sio_json_writer_finish(&l->w, &n) == SIO_OK) {
        fwrite(line_buf, 1, n, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    } else {
        fprintf(stdout, "{\"ev\":\"error\",\"message\":\"fixture: a line of %zu bytes\"}\n", n);
        fflush(stdout);
    }
}

static void say_error(const char *message, const char *command)
{
    line l;
    line_start(&l, "error");
    put_str(&l, "message", sio_span_of(message, strlen(message)));
    if (command)
        put_str(&l, "command", sio_span_of(command, strlen(command)));
    line_end(&l);
}

/* ------------------------------------------------------------------ reading JSON */

static sio_span get(sio_span obj, const char *k)
{
    sio_span v;
    return sio_json_kind_of(obj) == SIO_JSON_OBJECT &&
                   sio_json_object_get(obj, k, strlen(k), &v) == SIO_OK
               ? sio_json_trim(v)
               : SIO_SPAN_NULL;
}

/* A JSON string value unescaped into out (NUL-terminated); `fallback` when absent. */
static const char *get_str(sio_span obj, const char *k, char *out, size_t cap, const char *fallback)
{
    sio_span v = get(obj, k);
    size_t n = 0;
    if (sio_json_kind_of(v) != SIO_JSON_STRING ||
        sio_json_string_unescape(v, (uint8_t *)out, cap - 1, &n) != SIO_OK)
        return fallback;
    out[n] = '\0';
    return out;
}

static bool get_num(sio_span obj, const char *k, double *out)
{
    sio_span v = get(obj, k);
    if (sio_json_kind_of(v) != SIO_JSON_NUMBER)
        return false;
    char text[64];
    snprintf(text, sizeof text, "%.*s", (int)v.len, (const char *)v.ptr);
    *out = strtod(text, NULL);
    return true;
}

static bool is_null_or_absent(sio_span v)
{
    return v.len == 0 || sio_json_kind_of(v) == SIO_JSON_NULL;
}

/* ------------------------------------------------------------------ actions */

static void perform(sio_span action, const char *kind, const char *where);

typedef struct ack_tag {
    char nsp[SIO_SIO_CLIENT_MAX_NAMESPACE + 1];
    char *tag; /* raw JSON of the tag */
} ack_tag;

static void on_ack(rc_client *c, sio_span nsp, sio_span data, const sio_span *atts, uint32_t n,
                   void *ctx)
{
    (void)c;
    ack_tag *t = ctx;
    char *args = rc_bin_json_from_packet(data, atts, n);
    line l;
    line_start(&l, "ack");
    put_str(&l, "nsp", nsp);
    put_raw(&l, "tag", sio_span_of(t->tag, strlen(t->tag)));
    put_raw(&l, "args", sio_span_of(args ? args : "[]", args ? strlen(args) : 2));
    line_end(&l);
    free(args);
    free(t->tag);
    free(t);
}

/* ["event", ...args, (index)] as a JSON text (malloc'ed). */
static char *event_array(const char *event, sio_span args, int index)
{
    sio_json_writer w;
    size_t cap = strlen(event) * 6 + args.len + 32, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    sio_json_writer_init(&w, (uint8_t *)out, cap - 1);
    sio_json_write_begin_array(&w);
    sio_json_write_string(&w, (const uint8_t *)event, strlen(event));
    sio_json_iter it;
    sio_span v;
    if (sio_json_array_iter(args, &it) == SIO_OK)
        while (sio_json_next(&it, NULL, &v))
            sio_json_write_raw(&w, v.ptr, v.len);
    if (index >= 0)
        sio_json_write_int(&w, index);
    sio_json_write_end_array(&w);
    if (sio_json_writer_finish(&w, &n) != SIO_OK) {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    return out;
}

static void do_emit(sio_span a, const char *kind)
{
    char name[SIO_SIO_CLIENT_MAX_NAMESPACE + 1], event_name[512];
    const char *nsp = get_str(a, "nsp", name, sizeof name, "/");
    const char *event = get_str(a, "event", event_name, sizeof event_name, "");
    double count = 0;
    bool counted = get_num(a, "count", &count) && count >= 1;
    sio_span vol = get(a, "volatile");
    unsigned flags = sio_json_kind_of(vol) == SIO_JSON_TRUE ? RC_EMIT_VOLATILE : 0;
    bool with_ack = !strcmp(kind, "emit-ack");
    for (int i = 0; i < (counted ? (int)count : 1); i++) {
        char *text = event_array(event, get(a, "args"), counted ? i : -1);
        rc_bin_args b;
        sio_err rc =
            text ? rc_bin_args_from_json(sio_span_of(text, strlen(text)), &b) : SIO_ERR_NO_MEMORY;
        ack_tag *t = NULL;
        if (rc == SIO_OK && with_ack && (t = calloc(1, sizeof *t)) != NULL) {
            sio_span tag = get(a, "tag");
            t->tag = malloc(tag.len + 5);
            snprintf(t->tag, tag.len + 5, "%.*s", tag.len ? (int)tag.len : 4,
                     tag.len ? (const char *)tag.ptr : "null");
            snprintf(t->nsp, sizeof t->nsp, "%s", nsp);
        }
        if (rc == SIO_OK)
            rc = rc_emit(client, sio_span_of(nsp, strlen(nsp)), sio_span_of(b.json, b.json_len),
                         b.attachments, b.count, flags, t ? on_ack : NULL, t, NULL);
        if (rc != SIO_OK) {
            say_error(sio_err_message(rc), kind);
            if (t) {
                free(t->tag);
                free(t);
            }
        }
        rc_bin_args_free(&b);
        free(text);
    }
}

static void join(const char *nsp, sio_span auth)
{
    sio_err rc = rc_join(client, sio_span_of(nsp, strlen(nsp)),
                         is_null_or_absent(auth) ? SIO_SPAN_NULL : auth);
    if (rc != SIO_OK)
        say_error(sio_err_message(rc), "join");
}

static void perform(sio_span a, const char *kind, const char *where)
{
    char nsp[SIO_SIO_CLIENT_MAX_NAMESPACE + 1];
    if (!strcmp(kind, "emit") || !strcmp(kind, "emit-ack")) {
        do_emit(a, kind);
    } else if (!strcmp(kind, "join")) {
        join(get_str(a, "nsp", nsp, sizeof nsp, "/"), get(a, "auth"));
    } else if (!strcmp(kind, "leave")) {
        const char *name = get_str(a, "nsp", nsp, sizeof nsp, "/");
        sio_err rc = rc_leave(client, sio_span_of(name, strlen(name)));
        if (rc != SIO_OK)
            say_error(sio_err_message(rc), "leave");
    } else if (!strcmp(kind, "disconnect")) {
        leaving = true;
        rc_close(client);
        exit_at = rc_loop_now() + LEAVE_GRACE_MS;
    } else {
        line l;
        line_start(&l, "unsupported");
        put_str(&l, "command", sio_span_of(kind, strlen(kind)));
        put_str(&l, "where", sio_span_of(where, strlen(where)));
        line_end(&l);
    }
}

/* Runs the config's actions of list `list` that apply to namespace `nsp` (`match` is the key
 * naming the namespace: "nsp" for on_connect, "on" for on_disconnect). */
static void run_actions(const char *list, const char *match, const char *nsp, const char *where)
{
    sio_json_iter it;
    sio_span a;
    if (sio_json_array_iter(get(config, list), &it) != SIO_OK)
        return;
    while (sio_json_next(&it, NULL, &a)) {
        char on[SIO_SIO_CLIENT_MAX_NAMESPACE + 1], when[16], kind[32];
        bool any = !strcmp(get_str(a, "when", when, sizeof when, ""), "any");
        if (strcmp(get_str(a, match, on, sizeof on, "/"), nsp) && !any)
            continue;
        perform(a, get_str(a, "do", kind, sizeof kind, ""), where);
    }
}

/* ------------------------------------------------------------------ the client's events */

static void event(const rc_event *ev, const char *nsp)
{
    char *full = rc_bin_json_from_packet(ev->data, ev->attachments, ev->attachment_count);
    sio_span name;
    char *args = full ? rc_json_array_rest(sio_span_of(full, strlen(full)), &name) : NULL;
    line l;
    line_start(&l, "event");
    put_str(&l, "nsp", ev->nsp);
    put_raw(&l, "name", name);
    put_raw(&l, "args", sio_span_of(args ? args : "[]", args ? strlen(args) : 2));
    key(&l, "ack");
    sio_json_write_bool(&l.w, ev->has_ack);
    line_end(&l);
    if (ev->has_ack && args) { /* answered with its own arguments (CSIO-ACK-05, CSIO-BIN-02) */
        rc_bin_args b;
        if (rc_bin_args_from_json(sio_span_of(args, strlen(args)), &b) == SIO_OK)
            rc_ack(client, ev->nsp, ev->ack_id, sio_span_of(b.json, b.json_len), b.attachments,
                   b.count);
        rc_bin_args_free(&b);
    }
    char cmd[64];
    size_t n = 0;
    if (sio_json_kind_of(name) == SIO_JSON_STRING &&
        sio_json_string_unescape(name, (uint8_t *)cmd, sizeof cmd - 1, &n) == SIO_OK &&
        (cmd[n] = '\0', !strncmp(cmd, "do-", 3)) && args) {
        sio_span first;
        char *rest = rc_json_array_rest(sio_span_of(args, strlen(args)), &first);
        (void)nsp;
        perform(first.len ? first : sio_span_of("{}", 2), cmd + 3, "command");
        free(rest);
    }
    free(full);
    free(args);
}

static void connect_error(const rc_event *ev)
{
    sio_span data = ev->data, message = data, detail = SIO_SPAN_NULL;
    if (sio_json_kind_of(data) == SIO_JSON_OBJECT) {
        message = get(data, "message");
        detail = get(data, "data");
    }
    char text[600] = "";
    size_t n = 0;
    if (sio_json_kind_of(message) == SIO_JSON_STRING &&
        sio_json_string_unescape(message, (uint8_t *)text, sizeof text - 1, &n) == SIO_OK)
        text[n] = '\0';
    else
        snprintf(text, sizeof text, "%.*s", (int)message.len, (const char *)message.ptr);
    line l;
    line_start(&l, "connect_error");
    put_str(&l, "nsp", ev->nsp);
    put_str(&l, "message", sio_span_of(text, strlen(text)));
    put_raw(&l, "data", detail);
    line_end(&l);
}

static void simple(const char *ev, const char *k, uint32_t n)
{
    line l;
    line_start(&l, ev);
    if (k) {
        key(&l, k);
        sio_json_write_int(&l.w, n);
    }
    line_end(&l);
}

static void on_event(rc_client *c, const rc_event *ev, void *user)
{
    (void)c;
    (void)user;
    char nsp[SIO_SIO_CLIENT_MAX_NAMESPACE + 1];
    snprintf(nsp, sizeof nsp, "%.*s", (int)ev->nsp.len,
             ev->nsp.ptr ? (const char *)ev->nsp.ptr : "");
    line l;
    switch (ev->type) {
    case RC_EV_CONNECT:
        line_start(&l, "connect");
        put_str(&l, "nsp", ev->nsp);
        put_str(&l, "id", ev->sid);
        put_raw(&l, "recovered", ev->recovered ? sio_span_of("true", 4) : sio_span_of("false", 5));
        line_end(&l);
        run_actions("on_connect", "nsp", nsp, "on_connect");
        break;
    case RC_EV_CONNECT_ERROR:
        connect_error(ev);
        break;
    case RC_EV_DISCONNECT:
        line_start(&l, "disconnect");
        put_str(&l, "nsp", ev->nsp);
        put_str(&l, "reason", sio_span_of(ev->reason, strlen(ev->reason)));
        line_end(&l);
        if (!leaving)
            run_actions("on_disconnect", "on", nsp, "on_disconnect");
        break;
    case RC_EV_EVENT:
        event(ev, nsp);
        break;
    case RC_EV_RECONNECT_ATTEMPT:
        simple("reconnect_attempt", "n", ev->attempt);
        break;
    case RC_EV_RECONNECT:
        simple("reconnect", "n", ev->attempt);
        break;
    case RC_EV_RECONNECT_FAILED:
        simple("reconnect_failed", NULL, 0);
        break;
    case RC_EV_ERROR:
        say_error(ev->message, NULL);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ configuration */

/* query {"k":"v",...} as k=v&... (values percent-encoded; numbers as written). */
static char *query_string(sio_span q)
{
    sio_json_iter it;
    sio_span k, v;
    if (sio_json_object_iter(q, &it) != SIO_OK)
        return NULL;
    size_t cap = q.len * 3 + 1, w = 0;
    char *out = calloc(1, cap);
    while (out && sio_json_next(&it, &k, &v)) {
        for (int part = 0; part < 2; part++) {
            sio_span s = part ? v : k;
            uint8_t text[1024];
            size_t n = 0;
            if (sio_json_kind_of(s) == SIO_JSON_STRING)
                sio_json_string_unescape(s, text, sizeof text, &n);
            else
                n = s.len < sizeof text ? s.len : sizeof text, memcpy(text, s.ptr, n);
            if (!part && w)
                out[w++] = '&';
            for (size_t i = 0; i < n && w + 4 < cap; i++) {
                uint8_t c = text[i];
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    strchr("-._~", c))
                    out[w++] = (char)c;
                else
                    w += (size_t)snprintf(out + w, cap - w, "%%%02X", c);
            }
            if (!part)
                out[w++] = '=';
        }
    }
    return out;
}

static rc_transports transports_of(void)
{
    sio_span t = get(config, "transports");
    sio_json_iter it;
    sio_span first;
    char name[16] = "";
    size_t n = 0;
    if (sio_json_array_iter(t, &it) == SIO_OK && sio_json_next(&it, NULL, &first) &&
        sio_json_string_unescape(first, (uint8_t *)name, sizeof name - 1, &n) == SIO_OK)
        name[n] = '\0';
    size_t count = sio_json_count(t);
    if (!strcmp(name, "websocket"))
        return RC_TRANSPORTS_WEBSOCKET;
    if (count == 1 || sio_json_kind_of(get(config, "upgrade")) == SIO_JSON_FALSE)
        return RC_TRANSPORTS_POLLING;
    return RC_TRANSPORTS_POLLING_UPGRADE;
}

static void reconnection(sio_sio_client_config *s)
{
    sio_span r = get(config, "reconnection");
    double v;
    if (sio_json_kind_of(get(r, "enabled")) == SIO_JSON_FALSE)
        s->reconnection = false;
    if (get_num(r, "delayMs", &v))
        s->delay_ms = (uint32_t)v;
    if (get_num(r, "delayMaxMs", &v))
        s->delay_max_ms = (uint32_t)v;
    if (get_num(r, "jitter", &v))
        s->randomization = (uint32_t)(v * 1000.0 + 0.5);
    if (get_num(r, "attempts", &v))
        s->attempts = (uint32_t)v;
    if (get_num(config, "timeoutMs", &v))
        s->connect_timeout_ms = (uint32_t)v;
}

static void capabilities(void)
{
    printf("{\"agent\":\"siotest reference client %s (libsiocodec, C)\",\"features\":["
           "\"multiplex\",\"dynamic-join\",\"leave\",\"auth-object\",\"binary\",\"ack-answer\","
           "\"volatile\",\"buffer\",\"ws-only\",\"polling-only\",\"upgrade\",\"attempts\","
           "\"timeout\",\"recovery\"]}\n",
           sio_version());
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    int arg = 1;
    if (arg < argc && !strcmp(argv[arg], "--eio3"))
        eio3 = true, arg++;
    if (arg < argc && !strcmp(argv[arg], "--capabilities")) {
        capabilities();
        return 0;
    }
    if (arg >= argc) {
        fprintf(stderr, "usage: fixture [--eio3] '<config JSON>' | --capabilities\n");
        return 2;
    }
    config = sio_span_of(argv[arg], strlen(argv[arg]));
    if (sio_json_validate(config.ptr, config.len, NULL, NULL) != SIO_OK) {
        fprintf(stderr, "fixture: the configuration is not JSON\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    char url[256], path[512], host[RC_MAX_HOST + 1] = "127.0.0.1";
    unsigned port = 0;
    sscanf(get_str(config, "url", url, sizeof url, ""), "http://%255[^:/]:%u", host, &port);
    rc_loop *loop = rc_loop_new();
    rc_config cfg;
    rc_config_init(&cfg);
    cfg.host = host;
    cfg.port = (uint16_t)port;
    cfg.path = get_str(config, "path", path, sizeof path, RC_DEFAULT_PATH);
    char *query = query_string(get(config, "query"));
    cfg.query = query;
    cfg.eio = eio3 ? 3 : 4;
    cfg.transports = transports_of();
    cfg.fallback_to_polling = sio_json_kind_of(get(config, "tryAllTransports")) == SIO_JSON_TRUE;
    reconnection(&cfg.session);
    cfg.on_event = on_event;
    cfg.io = rc_loop_io();
    cfg.io_ctx = loop;
    char err[200];
    client = rc_client_new(&cfg, err, sizeof err);
    if (!client) {
        fprintf(stderr, "fixture: %s\n", err);
        return 2;
    }
    rc_loop_add_client(loop, client);
    rc_client_start(client);
    sio_span nsps = get(config, "namespaces"), auth = get(config, "auth"), n;
    sio_json_iter it;
    char name[SIO_SIO_CLIENT_MAX_NAMESPACE + 1];
    if (sio_json_array_iter(nsps, &it) != SIO_OK)
        join("/", auth);
    else
        while (sio_json_next(&it, NULL, &n)) {
            size_t len = 0;
            if (sio_json_string_unescape(n, (uint8_t *)name, sizeof name - 1, &len) == SIO_OK) {
                name[len] = '\0';
                join(name, auth);
            }
        }
    /* Runs until stopped (SIGTERM), even with nothing left to do; after do-disconnect, until the
     * close packets left. */
    while (!stop) {
        rc_loop_run_once(loop, exit_at);
        if (leaving && (rc_client_idle(client) || rc_loop_now() >= exit_at))
            break;
    }
    rc_loop_remove_client(loop, client);
    rc_client_free(client);
    rc_loop_free(loop);
    free(query);
    return 0;
}
