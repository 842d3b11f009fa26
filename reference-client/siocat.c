/* siocat: talk to a Socket.IO server by hand, or from a script, and see every byte.
 *
 *   siocat [options] http://host[:port][/namespace][?query]
 *
 * It connects with the reference client (rc.h), prints every unit sent and received, decoded by
 * layer (siocat_print.c), and reads commands on standard input:
 *
 *   emit [/nsp] NAME [JSON ...]      emit NAME with the JSON values as arguments
 *   emitack [/nsp] NAME [JSON ...]   the same, asking for an ack
 *   ack [/nsp] ID [JSON ...]         answer the server's ack ID (with --no-auto-ack)
 *   join /nsp [AUTH]                 join another namespace (AUTH: a JSON object)
 *   leave /nsp                       leave it
 *   close                            close the connection and exit
 *
 * {"$bin":"<base64>"} in a JSON value stands for bytes (sent as an attachment), both ways.
 * Exit status: 0 done, 1 a protocol or connection error (or --timeout ran out while waiting),
 * 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "binjson.h"
#include "rc_loop.h"
#include "siocat.h"

/* Scripted emits, awaited events and query parameters a command line may hold. */
#define MAX_SCRIPT 64
/* Longest standard-input command line, its newline excluded: 1 MiB - 1 bytes; a longer line is
 * reported and ignored. */
#define MAX_LINE (1u << 20)
/* After close, how long siocat lets the last bytes leave before it exits anyway. */
#define CLOSE_GRACE_MS (RC_LINGER_MS + 500u)

typedef struct scripted_emit {
    const char *name, *args;
    bool want_ack, acked;
} scripted_emit;

typedef struct siocat {
    rc_client *client;
    rc_loop *loop;
    printer pr;
    char nsp[SIO_SIO_CLIENT_MAX_NAMESPACE + 1];
    const char *auth;
    bool eio3, auto_ack, scripted;
    scripted_emit emits[MAX_SCRIPT];
    int nemits;
    const char *waits[MAX_SCRIPT];
    bool seen[MAX_SCRIPT];
    int nwaits;
    bool ever_open, joined, closing, failed, stdin_open;
    bool close_when_joined; /* standard input ended before the namespace was joined */
    uint64_t deadline, close_deadline;
    uint32_t timeout_ms;
    char *line;
    size_t line_len;
} siocat;

static siocat S;

static void usage(FILE *out)
{
    fputs("usage: siocat [options] http://host[:port][/namespace][?query]\n"
          "\n"
          "Connects to a Socket.IO server, prints every packet sent and received decoded by\n"
          "layer (HTTP, WebSocket frame, Engine.IO, Socket.IO), and reads commands on stdin:\n"
          "  emit [/nsp] NAME [JSON ...]     emitack [/nsp] NAME [JSON ...]\n"
          "  ack [/nsp] ID [JSON ...]        join /nsp [AUTH]     leave /nsp     close\n"
          "{\"$bin\":\"<base64>\"} in JSON stands for bytes.\n"
          "\n"
          "  --transport polling|websocket   one transport only (default: polling, then upgrade)\n"
          "  --eio3                          Engine.IO 3 / Socket.IO 4 (older servers)\n"
          "  --path PATH                     endpoint path (default /socket.io/)\n"
          "  --auth JSON                     CONNECT payload (with --eio3: a query string)\n"
          "  --query k=v                     extra query parameter (repeatable)\n"
          "  --no-reconnect                  give up when the connection is lost\n"
          "  --emit NAME JSON                emit once connected (JSON: the arguments, space-\n"
          "                                  separated values; repeatable)\n"
          "  --emitack NAME JSON             the same with an ack, awaited\n"
          "  --wait-for EVENT                wait for this event from the server (repeatable;\n"
          "                                  `disconnect`: until the server ends the namespace)\n"
          "  --timeout MS                    give up waiting after MS (exit 1), or run for MS\n"
          "  --max-message BYTES             largest response body or WebSocket message taken\n"
          "                                  (default 16777216; past it the connection is\n"
          "                                  given up)\n"
          "  --no-auto-ack                   do not answer the server's acks by themselves\n"
          "                                  (by default they are answered with the event's\n"
          "                                  own arguments)\n"
          "  --bytes                         hex of every unit with labelled fields\n"
          "  --json                          one JSON object per line\n"
          "  --quiet                         application events only\n"
          "With --emit, --emitack or --wait-for, siocat exits once all are done; otherwise it\n"
          "runs until stdin ends, `close`, or the server ends the connection.\n"
          "Exit status: 0 done, 1 protocol or connection error, 2 usage.\n",
          out);
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("siocat: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (siocat --help)\n", stderr);
    va_end(ap);
    exit(2);
}

static uint64_t now(void)
{
    return rc_loop_now();
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    char message[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    print_error(&S.pr, now(), message);
    S.failed = true;
}

static void close_now(void)
{
    if (S.closing)
        return;
    S.closing = true;
    S.close_deadline = now() + CLOSE_GRACE_MS;
    rc_close(S.client);
}

/* ------------------------------------------------------------------ JSON arguments */

/* "v1 v2 ..." (JSON values separated by whitespace) into `out` as ",v1,v2". The validator's
 * offset of trailing bytes marks where each value ends. */
static bool json_values(const char *text, char *out, size_t cap, char *err, size_t err_cap)
{
    size_t w = 0, n = strlen(text), pos = 0;
    out[0] = '\0';
    while (pos < n) {
        while (pos < n && (text[pos] == ' ' || text[pos] == '\t'))
            pos++;
        if (pos == n)
            break;
        size_t err_at = 0, end = n;
        sio_err rc = sio_json_validate((const uint8_t *)text + pos, n - pos, NULL, &err_at);
        if (rc == SIO_ERR_JSON_TRAILING)
            end = pos + err_at;
        else if (rc != SIO_OK) {
            snprintf(err, err_cap, "not JSON at \"%.20s\": %s", text + pos + err_at,
                     sio_err_message(rc));
            return false;
        }
        while (end > pos && (text[end - 1] == ' ' || text[end - 1] == '\t'))
            end--;
        if (w + (end - pos) + 2 > cap) {
            snprintf(err, err_cap, "arguments too long");
            return false;
        }
        out[w++] = ',';
        memcpy(out + w, text + pos, end - pos);
        w += end - pos;
        out[w] = '\0';
        pos = end;
    }
    return true;
}

/* ["NAME",v1,...] with {"$bin"} turned into attachments. */
static bool build_args(const char *name, const char *values, rc_bin_args *out, char *err,
                       size_t err_cap)
{
    size_t cap = strlen(name) * 6 + strlen(values) + 16;
    char *text = malloc(cap), *rest = malloc(strlen(values) + 2);
    sio_json_writer w;
    size_t n = 0;
    bool ok = text && rest && json_values(values, rest, strlen(values) + 2, err, err_cap);
    if (ok) {
        sio_json_writer_init(&w, (uint8_t *)text, cap);
        sio_json_write_string(&w, (const uint8_t *)name, strlen(name));
        ok = sio_json_writer_finish(&w, &n) == SIO_OK;
        if (!ok)
            snprintf(err, err_cap, "the event name is not UTF-8");
    }
    if (ok) {
        memmove(text + 1, text, n);
        text[0] = '[';
        n++;
        size_t r = strlen(rest);
        memcpy(text + n, rest, r);
        n += r;
        text[n++] = ']';
        sio_err rc = rc_bin_args_from_json(sio_span_of(text, n), out);
        if (rc != SIO_OK) {
            snprintf(err, err_cap, "bad arguments: %s", sio_err_message(rc));
            ok = false;
        }
    }
    free(text);
    free(rest);
    return ok;
}

/* ------------------------------------------------------------------ scripted runs */

static bool script_done(void)
{
    if (!S.joined) /* the emits go out once the namespace is joined */
        return false;
    for (int i = 0; i < S.nemits; i++)
        if (S.emits[i].want_ack && !S.emits[i].acked)
            return false;
    for (int i = 0; i < S.nwaits; i++)
        if (!S.seen[i])
            return false;
    return true;
}

static void check_script(void)
{
    if (S.scripted && !S.closing && script_done())
        close_now();
}

/* What a scripted run still waits for, for the timeout message. */
static void describe_waits(char *out, size_t cap)
{
    size_t w = 0;
    out[0] = '\0';
    for (int i = 0; i < S.nemits && w < cap; i++)
        if (S.emits[i].want_ack && !S.emits[i].acked)
            w += (size_t)snprintf(out + w, cap - w, "%sthe ack of %s", w ? ", " : "",
                                  S.emits[i].name);
    for (int i = 0; i < S.nwaits && w < cap; i++)
        if (!S.seen[i])
            w += (size_t)snprintf(out + w, cap - w, "%sevent %s", w ? ", " : "", S.waits[i]);
}

/* What an ack answers: the emit's name, and its entry in the script if it has one. */
typedef struct awaited_ack {
    scripted_emit *script;
    char name[256];
} awaited_ack;

static void on_ack(rc_client *c, sio_span nsp, sio_span data, const sio_span *atts, uint32_t n,
                   void *ctx)
{
    (void)c;
    awaited_ack *a = ctx;
    char *args = rc_bin_json_from_packet(data, atts, n);
    char where[SIO_SIO_CLIENT_MAX_NAMESPACE + 1];
    snprintf(where, sizeof where, "%.*s", (int)nsp.len, (const char *)nsp.ptr);
    print_app(&S.pr, now(), "ack", "nsp", "s", where, "name", "s", a->name, "args", "j",
              args ? args : "[]", (const char *)NULL);
    free(args);
    if (a->script) {
        a->script->acked = true;
        check_script();
    }
    free(a);
}

/* An emit of the script (a failure fails the run) or of a typed command (it is reported). */
static void emit(sio_span nsp, const char *name, const char *values, bool want_ack,
                 scripted_emit *script)
{
    rc_bin_args a;
    char err[200], message[300];
    sio_err rc = SIO_ERR_INVALID_ARGUMENT;
    awaited_ack *ack = want_ack ? calloc(1, sizeof *ack) : NULL;
    if (ack) {
        ack->script = script;
        snprintf(ack->name, sizeof ack->name, "%s", name);
    }
    if (build_args(name, values, &a, err, sizeof err)) {
        rc = rc_emit(S.client, nsp, sio_span_of(a.json, a.json_len), a.attachments, a.count, 0,
                     ack ? on_ack : NULL, ack, NULL);
        snprintf(err, sizeof err, "%s", sio_err_message(rc));
    }
    if (rc != SIO_OK)
        free(ack);
    rc_bin_args_free(&a);
    snprintf(message, sizeof message, "emit %s: %s", name, err);
    if (rc != SIO_OK && script)
        fail("%s", message);
    else if (rc != SIO_OK)
        print_error(&S.pr, now(), message);
}

/* ------------------------------------------------------------------ the client's events */

static void on_trace(rc_client *c, const rc_trace *t, void *user)
{
    (void)c;
    (void)user;
    print_trace(&S.pr, t, now());
}

static void event_line(const rc_event *ev, const char *where)
{
    char *full = rc_bin_json_from_packet(ev->data, ev->attachments, ev->attachment_count);
    sio_span name = SIO_SPAN_NULL;
    char *args = full ? rc_json_array_rest(sio_span_of(full, strlen(full)), &name) : NULL;
    char name_text[256] = "", id[24] = "";
    size_t n = 0;
    if (sio_json_kind_of(name) == SIO_JSON_STRING &&
        sio_json_string_unescape(name, (uint8_t *)name_text, sizeof name_text - 1, &n) == SIO_OK)
        name_text[n] = '\0';
    else
        snprintf(name_text, sizeof name_text, "%.*s", (int)name.len, (const char *)name.ptr);
    if (ev->has_ack)
        snprintf(id, sizeof id, "%llu", (unsigned long long)ev->ack_id);
    print_app(&S.pr, now(), "event", "nsp", "s", where, "name", "s", name_text, "args", "j",
              args ? args : "[]", ev->has_ack ? "ack_id" : (const char *)NULL, "s", id,
              (const char *)NULL);
    for (int i = 0; i < S.nwaits; i++)
        if (!strcmp(S.waits[i], name_text))
            S.seen[i] = true;
    if (ev->has_ack && S.auto_ack && args) {
        rc_bin_args a; /* answered with the event's own arguments */
        if (rc_bin_args_from_json(sio_span_of(args, strlen(args)), &a) == SIO_OK)
            rc_ack(S.client, ev->nsp, ev->ack_id, sio_span_of(a.json, a.json_len), a.attachments,
                   a.count);
        rc_bin_args_free(&a);
    }
    free(full);
    free(args);
    check_script();
}

static void on_event(rc_client *c, const rc_event *ev, void *user)
{
    (void)c;
    (void)user;
    char where[SIO_SIO_CLIENT_MAX_NAMESPACE + 1], text[640];
    snprintf(where, sizeof where, "%.*s", (int)ev->nsp.len,
             ev->nsp.ptr ? (const char *)ev->nsp.ptr : "");
    switch (ev->type) {
    case RC_EV_OPEN:
        S.ever_open = true;
        snprintf(text, sizeof text, "%.*s", (int)ev->sid.len, (const char *)ev->sid.ptr);
        print_app(&S.pr, now(), "open", "sid", "s", text, (const char *)NULL);
        break;
    case RC_EV_UPGRADE:
        print_app(&S.pr, now(), "upgrade", (const char *)NULL);
        break;
    case RC_EV_CONNECT:
        snprintf(text, sizeof text, "%.*s", (int)ev->sid.len, (const char *)ev->sid.ptr);
        if (ev->recovered) /* connection-state recovery: the server kept the namespace's state */
            print_app(&S.pr, now(), "connect", "nsp", "s", where, "sid", "s", text, "recovered",
                      "f", "true", (const char *)NULL);
        else
            print_app(&S.pr, now(), "connect", "nsp", "s", where, "sid", "s", text,
                      (const char *)NULL);
        S.joined |= !strcmp(where, S.nsp);
        if (S.joined && S.close_when_joined)
            close_now();
        check_script();
        break;
    case RC_EV_CONNECT_ERROR:
        snprintf(text, sizeof text, "%.*s", (int)ev->data.len, (const char *)ev->data.ptr);
        print_app(&S.pr, now(), "connect_error", "nsp", "s", where, "data", "j", text,
                  (const char *)NULL);
        if (!ev->retrying) /* a refusal; a failed attempt is reported as an error already */
            fail("namespace %s refused: %s", where, text[0] ? text : "(no reason given)");
        break;
    case RC_EV_DISCONNECT:
        print_app(&S.pr, now(), "disconnect", "nsp", "s", where, "reason", "s", ev->reason,
                  (const char *)NULL);
        for (int i = 0; i < S.nwaits; i++) /* --wait-for disconnect: until the server ends it */
            S.seen[i] |= !strcmp(S.waits[i], "disconnect") && !strcmp(where, S.nsp);
        check_script();
        break;
    case RC_EV_EVENT:
        event_line(ev, where);
        break;
    case RC_EV_ERROR:
        if (!S.ever_open) { /* the first connection is not retried */
            fail("%s", ev->message);
            close_now();
        } else {
            print_error(&S.pr, now(), ev->message);
        }
        break;
    case RC_EV_RECONNECT_SCHEDULED:
        print_app(&S.pr, now(), "reconnect_scheduled", "attempt", "u",
                  (unsigned long long)ev->attempt, "delay_ms", "u",
                  (unsigned long long)ev->delay_ms, (const char *)NULL);
        break;
    case RC_EV_RECONNECT_ATTEMPT:
        print_app(&S.pr, now(), "reconnect_attempt", "attempt", "u",
                  (unsigned long long)ev->attempt, (const char *)NULL);
        break;
    case RC_EV_RECONNECT:
        print_app(&S.pr, now(), "reconnect", "attempts", "u", (unsigned long long)ev->attempt,
                  (const char *)NULL);
        break;
    case RC_EV_RECONNECT_FAILED:
        fail("gave up reconnecting after %u attempts", ev->attempt);
        break;
    case RC_EV_CLOSED:
        print_app(&S.pr, now(), "closed", (const char *)NULL);
        if (!S.closing && !S.failed && !rc_client_config(S.client)->session.reconnection &&
            S.ever_open && (S.scripted ? !script_done() : false))
            fail("the connection was lost");
        else if (!S.closing && S.scripted && !script_done() && !S.failed)
            fail("the connection ended before the script was done");
        if (!S.closing) {
            S.closing = true;
            S.close_deadline = now() + CLOSE_GRACE_MS;
        }
        break;
    }
}

/* ------------------------------------------------------------------ commands */

/* The next word of *s (NUL-terminated in place), or NULL. */
static char *word(char **s)
{
    char *p = *s;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return NULL;
    char *start = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    if (*p)
        *p++ = '\0';
    *s = p;
    return start;
}

static void command(char *line)
{
    char *rest = line;
    char *cmd = word(&rest);
    if (!cmd || cmd[0] == '#')
        return;
    char *arg = word(&rest);
    sio_span nsp = sio_span_of(S.nsp, strlen(S.nsp));
    if (arg && arg[0] == '/' && strcmp(cmd, "join") && strcmp(cmd, "leave")) {
        nsp = sio_span_of(arg, strlen(arg));
        arg = word(&rest);
    }
    if (!strcmp(cmd, "emit") || !strcmp(cmd, "emitack")) {
        if (!arg) {
            print_error(&S.pr, now(), "usage: emit [/nsp] NAME [JSON ...]");
            return;
        }
        emit(nsp, arg, rest, cmd[4] == 'a', NULL);
    } else if (!strcmp(cmd, "ack") && arg) {
        rc_bin_args a;
        char err[200];
        if (build_args("", rest, &a, err, sizeof err)) {
            sio_span first;
            char *tail = rc_json_array_rest(sio_span_of(a.json, a.json_len), &first);
            sio_err rc = rc_ack(S.client, nsp, strtoull(arg, NULL, 10),
                                sio_span_of(tail, tail ? strlen(tail) : 0), a.attachments, a.count);
            if (rc != SIO_OK)
                print_error(&S.pr, now(), sio_err_message(rc));
            free(tail);
        } else {
            print_error(&S.pr, now(), err);
        }
        rc_bin_args_free(&a);
    } else if (!strcmp(cmd, "join") && arg) {
        sio_err rc =
            rc_join(S.client, sio_span_of(arg, strlen(arg)), sio_span_of(rest, strlen(rest)));
        if (rc != SIO_OK)
            print_error(&S.pr, now(), sio_err_message(rc));
    } else if (!strcmp(cmd, "leave") && arg) {
        sio_err rc = rc_leave(S.client, sio_span_of(arg, strlen(arg)));
        if (rc != SIO_OK)
            print_error(&S.pr, now(), sio_err_message(rc));
    } else if (!strcmp(cmd, "close")) {
        close_now();
    } else {
        print_error(&S.pr, now(),
                    "commands: emit [/nsp] NAME [JSON ...] | emitack [/nsp] NAME [JSON ...] | "
                    "ack [/nsp] ID [JSON ...] | join /nsp [AUTH] | leave /nsp | close");
    }
}

static void on_stdin(rc_loop *loop, int fd, short revents, void *ctx)
{
    (void)ctx;
    (void)revents;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        rc_loop_unwatch(loop, fd);
        S.stdin_open = false;
        if (S.line_len) { /* a last line without its newline */
            S.line[S.line_len] = '\0';
            S.line_len = 0;
            command(S.line);
        }
        if (!S.scripted && S.joined) /* input done: leave */
            close_now();
        else if (!S.scripted) /* ... once the connection has come to something */
            S.close_when_joined = true;
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            bool too_long = S.line_len == MAX_LINE;
            S.line[too_long ? 0 : S.line_len] = '\0';
            if (S.line_len && !too_long && S.line[S.line_len - 1] == '\r')
                S.line[S.line_len - 1] = '\0';
            S.line_len = 0;
            command(S.line);
        } else if (S.line_len < MAX_LINE - 1) {
            S.line[S.line_len++] = buf[i];
        } else if (S.line_len == MAX_LINE - 1) { /* said once; the rest of the line is dropped */
            print_error(&S.pr, now(), "a command line longer than 1 MiB: ignored");
            S.line_len = MAX_LINE;
        }
    }
}

/* ------------------------------------------------------------------ the command line */

typedef struct url {
    char host[RC_MAX_HOST + 1];
    uint16_t port;
    char nsp[SIO_SIO_CLIENT_MAX_NAMESPACE + 1];
    char query[2048];
} url;

/* http://host[:port][/namespace][?query]; ws:// is taken as http://. */
static void parse_url(const char *s, url *u)
{
    memset(u, 0, sizeof *u);
    if (!strncmp(s, "https://", 8) || !strncmp(s, "wss://", 6))
        die_usage("%s: TLS is not supported; use http://", s);
    if (!strncmp(s, "http://", 7))
        s += 7;
    else if (!strncmp(s, "ws://", 5))
        s += 5;
    else
        die_usage("%s: the URL must start with http://", s);
    const char *host_end = strpbrk(s, "/?");
    size_t hl = host_end ? (size_t)(host_end - s) : strlen(s);
    const char *colon = NULL;
    if (s[0] == '[') { /* [::1]:3000 */
        const char *close = memchr(s, ']', hl);
        if (!close)
            die_usage("bad IPv6 address in the URL");
        snprintf(u->host, sizeof u->host, "%.*s", (int)(close - s - 1), s + 1);
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = memchr(s, ':', hl);
        snprintf(u->host, sizeof u->host, "%.*s", (int)(colon ? (size_t)(colon - s) : hl), s);
    }
    if (!u->host[0])
        die_usage("the URL names no host");
    u->port = 80;
    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (end != s + hl || port < 1 || port > 65535)
            die_usage("bad port in the URL");
        u->port = (uint16_t)port;
    }
    s += hl;
    const char *q = strchr(s, '?');
    size_t pl = q ? (size_t)(q - s) : strlen(s);
    snprintf(u->nsp, sizeof u->nsp, "%.*s", (int)pl, s);
    if (!u->nsp[0] || !strcmp(u->nsp, "/"))
        snprintf(u->nsp, sizeof u->nsp, "/");
    if (q)
        snprintf(u->query, sizeof u->query, "%s", q + 1);
}

static uint32_t number(const char *s, const char *what)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v > 86400000ul)
        die_usage("%s: not a number of milliseconds: %s", what, s);
    return (uint32_t)v;
}

static void add_query(char *q, size_t cap, const char *kv)
{
    if (!strchr(kv, '='))
        die_usage("--query takes k=v, not %s", kv);
    size_t n = strlen(q);
    snprintf(q + n, cap - n, "%s%s", n ? "&" : "", kv);
}

enum {
    OPT_TRANSPORT = 256,
    OPT_EIO3,
    OPT_PATH,
    OPT_AUTH,
    OPT_QUERY,
    OPT_NO_RECONNECT,
    OPT_EMIT,
    OPT_EMITACK,
    OPT_WAIT,
    OPT_TIMEOUT,
    OPT_NO_AUTO_ACK,
    OPT_BYTES,
    OPT_JSON,
    OPT_QUIET,
    OPT_MAX_MESSAGE,
    OPT_HELP
};

static void parse_args(int argc, char **argv, rc_config *cfg, url *u)
{
    static const struct option opts[] = {{"transport", required_argument, NULL, OPT_TRANSPORT},
                                         {"eio3", no_argument, NULL, OPT_EIO3},
                                         {"path", required_argument, NULL, OPT_PATH},
                                         {"auth", required_argument, NULL, OPT_AUTH},
                                         {"query", required_argument, NULL, OPT_QUERY},
                                         {"no-reconnect", no_argument, NULL, OPT_NO_RECONNECT},
                                         {"emit", required_argument, NULL, OPT_EMIT},
                                         {"emitack", required_argument, NULL, OPT_EMITACK},
                                         {"wait-for", required_argument, NULL, OPT_WAIT},
                                         {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                         {"no-auto-ack", no_argument, NULL, OPT_NO_AUTO_ACK},
                                         {"bytes", no_argument, NULL, OPT_BYTES},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"quiet", no_argument, NULL, OPT_QUIET},
                                         {"max-message", required_argument, NULL, OPT_MAX_MESSAGE},
                                         {"help", no_argument, NULL, OPT_HELP},
                                         {NULL, 0, NULL, 0}};
    static char extra_query[2048];
    int o;
    opterr = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case OPT_TRANSPORT:
            if (!strcmp(optarg, "polling"))
                cfg->transports = RC_TRANSPORTS_POLLING;
            else if (!strcmp(optarg, "websocket"))
                cfg->transports = RC_TRANSPORTS_WEBSOCKET;
            else
                die_usage("--transport is polling or websocket, not %s", optarg);
            break;
        case OPT_EIO3:
            S.eio3 = true;
            break;
        case OPT_PATH:
            cfg->path = optarg;
            break;
        case OPT_AUTH:
            S.auth = optarg;
            break;
        case OPT_QUERY:
            add_query(extra_query, sizeof extra_query, optarg);
            break;
        case OPT_NO_RECONNECT:
            cfg->session.reconnection = false;
            break;
        case OPT_EMIT:
        case OPT_EMITACK:
            if (optind >= argc)
                die_usage("--emit takes NAME and JSON");
            if (S.nemits == MAX_SCRIPT)
                die_usage("at most %d --emit and --emitack", MAX_SCRIPT);
            S.emits[S.nemits++] = (scripted_emit){optarg, argv[optind++], o == OPT_EMITACK, false};
            S.scripted = true;
            break;
        case OPT_WAIT:
            if (S.nwaits == MAX_SCRIPT)
                die_usage("at most %d --wait-for", MAX_SCRIPT);
            S.waits[S.nwaits++] = optarg;
            S.scripted = true;
            break;
        case OPT_TIMEOUT:
            S.timeout_ms = number(optarg, "--timeout");
            break;
        case OPT_NO_AUTO_ACK:
            S.auto_ack = false;
            break;
        case OPT_BYTES:
            S.pr.bytes = true;
            break;
        case OPT_JSON:
            S.pr.json = true;
            break;
        case OPT_QUIET:
            S.pr.quiet = true;
            break;
        case OPT_MAX_MESSAGE: {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (!*optarg || *end || v == 0 || v > (1ull << 30))
                die_usage("--max-message takes 1 to 1073741824 bytes, not %s", optarg);
            cfg->max_message = (size_t)v;
            break;
        }
        case OPT_HELP:
        case 'h':
            usage(stdout);
            exit(0);
        default:
            die_usage("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        die_usage(optind >= argc ? "no URL given" : "one URL only");
    parse_url(argv[optind], u);
    if (extra_query[0])
        add_query(u->query, sizeof u->query, extra_query);
    if (S.auth && !S.eio3 &&
        (sio_json_validate((const uint8_t *)S.auth, strlen(S.auth), NULL, NULL) != SIO_OK ||
         sio_json_kind_of(sio_span_of(S.auth, strlen(S.auth))) != SIO_JSON_OBJECT))
        die_usage("--auth takes a JSON object: %s", S.auth);
    for (int i = 0; i < S.nemits; i++) {
        rc_bin_args a;
        char err[200];
        if (!build_args(S.emits[i].name, S.emits[i].args, &a, err, sizeof err))
            die_usage("--emit %s: %s", S.emits[i].name, err);
        rc_bin_args_free(&a);
    }
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    rc_config cfg;
    rc_config_init(&cfg);
    url u;
    S.auto_ack = true;
    S.pr.out = stdout;
    parse_args(argc, argv, &cfg, &u);
    snprintf(S.nsp, sizeof S.nsp, "%s", u.nsp);
    S.loop = rc_loop_new();
    S.line = malloc(MAX_LINE + 1);
    if (!S.loop || !S.line)
        return 1;
    cfg.host = u.host;
    cfg.port = u.port;
    cfg.query = u.query;
    cfg.eio = S.eio3 ? 3 : 4;
    cfg.on_event = on_event;
    cfg.on_trace = on_trace;
    cfg.io = rc_loop_io();
    cfg.io_ctx = S.loop;
    S.pr.eio = cfg.eio;
    S.pr.t0 = now();
    char err[200];
    S.client = rc_client_new(&cfg, err, sizeof err);
    if (!S.client)
        die_usage("%s", err);
    rc_loop_add_client(S.loop, S.client);
    rc_client_start(S.client);
    sio_err rc = rc_join(S.client, sio_span_of(S.nsp, strlen(S.nsp)),
                         S.auth ? sio_span_of(S.auth, strlen(S.auth)) : SIO_SPAN_NULL);
    if (rc != SIO_OK)
        die_usage("namespace %s: %s", S.nsp, sio_err_message(rc));
    for (int i = 0; i < S.nemits; i++) /* buffered until the namespace is joined */
        emit(sio_span_of(S.nsp, strlen(S.nsp)), S.emits[i].name, S.emits[i].args,
             S.emits[i].want_ack, &S.emits[i]);
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    S.stdin_open = rc_loop_watch(S.loop, STDIN_FILENO, POLLIN, on_stdin, NULL);
    S.deadline = S.timeout_ms ? now() + S.timeout_ms : UINT64_MAX;
    for (;;) {
        uint64_t until = S.closing ? S.close_deadline : S.deadline;
        rc_loop_run_once(S.loop, until);
        if (S.closing && (rc_client_idle(S.client) || now() >= S.close_deadline))
            break;
        if (!S.closing && now() >= S.deadline) {
            if (S.scripted && !script_done()) {
                char waits[600];
                describe_waits(waits, sizeof waits);
                fail("timeout: after %u ms still waiting for %s", S.timeout_ms, waits);
            }
            close_now();
        }
    }
    fflush(stdout);
    rc_loop_remove_client(S.loop, S.client);
    rc_client_free(S.client);
    rc_loop_free(S.loop);
    free(S.line);
    return S.failed ? 1 : 0;
}
