/* A decoded message as one JSON object: what the vectors under vectors/adapter/ state as
 * `decoded`, what the fuzz target compares, what logs show. Values are embedded as they are held
 * (Socket.IO JSON) with their attachments in hex. */
#include <stdio.h>
#include <string.h>

#include "wire.h"

static void json_string(buf *out, const char *s)
{
    buf_append_str(out, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p, esc[2] = '\0';
            buf_append_str(out, esc);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            buf_append_str(out, esc);
        } else {
            buf_append(out, p, 1);
        }
    }
    buf_append_str(out, "\"");
}

static void field(buf *out, bool *first, const char *name)
{
    buf_append_str(out, *first ? "\"" : ",\"");
    buf_append_str(out, name);
    buf_append_str(out, "\":");
    *first = false;
}

static void strings(buf *out, const cluster_strings *s)
{
    buf_append_str(out, "[");
    for (size_t i = 0; i < s->count; i++) {
        if (i)
            buf_append_str(out, ",");
        json_string(out, s->items[i]);
    }
    buf_append_str(out, "]");
}

static void value(buf *out, const cluster_value *v)
{
    static const char hex[] = "0123456789abcdef";
    buf_append_str(out, "{\"json\":");
    buf_append(out, v->json, v->len);
    buf_append_str(out, ",\"attachments\":[");
    for (uint32_t i = 0; i < v->attachment_count; i++) {
        buf_append_str(out, i ? ",\"" : "\"");
        for (size_t j = 0; j < v->attachments[i].len; j++) {
            char pair[2] = {hex[v->attachments[i].ptr[j] >> 4], hex[v->attachments[i].ptr[j] & 15]};
            buf_append(out, pair, 2);
        }
        buf_append_str(out, "\"");
    }
    buf_append_str(out, "]}");
}

static void flags(buf *out, const cluster_flags *f)
{
    bool first = true;
    char n[32];
    buf_append_str(out, "{");
    if (f->has_volatile)
        field(out, &first, "volatile"), buf_append_str(out, f->is_volatile ? "true" : "false");
    if (f->has_compress)
        field(out, &first, "compress"), buf_append_str(out, f->compress ? "true" : "false");
    if (f->has_local)
        field(out, &first, "local"), buf_append_str(out, f->local ? "true" : "false");
    if (f->has_timeout) {
        snprintf(n, sizeof n, "%llu", (unsigned long long)f->timeout_ms);
        field(out, &first, "timeout"), buf_append_str(out, n);
    }
    buf_append_str(out, "}");
}

static void opts(buf *out, const cluster_opts *o)
{
    buf_append_str(out, "{\"rooms\":");
    strings(out, &o->rooms);
    buf_append_str(out, ",\"except\":");
    strings(out, &o->except);
    buf_append_str(out, ",\"flags\":");
    flags(out, &o->flags);
    buf_append_str(out, "}");
}

static void opt_string(buf *out, bool *first, const char *name, const char *s)
{
    if (s) {
        field(out, first, name);
        json_string(out, s);
    }
}

static void opt_value(buf *out, bool *first, const char *name, const cluster_value *v)
{
    if (v->json) {
        field(out, first, name);
        value(out, v);
    }
}

void cluster_msg_describe(const cluster_msg *m, buf *out)
{
    static const char *const kinds[] = {"", "broadcast", "request", "response"};
    bool first = true;
    char n[32];
    buf_append_str(out, "{");
    field(out, &first, "kind");
    json_string(out, kinds[m->kind]);
    field(out, &first, "encoding");
    json_string(out, m->msgpack ? "msgpack" : "json");
    opt_string(out, &first, "uid", m->uid);
    opt_string(out, &first, "requestId", m->request_id);
    if (m->has_type) {
        snprintf(n, sizeof n, "%d", m->type);
        field(out, &first, "type"), buf_append_str(out, n);
    }
    if (m->has_packet) {
        field(out, &first, "packet");
        buf_append_str(out, "{\"nsp\":");
        json_string(out, m->packet.nsp ? m->packet.nsp : "/");
        buf_append_str(out, ",\"data\":");
        value(out, &m->packet.data);
        buf_append_str(out, "}");
    }
    bool has_opts =
        m->kind == CLUSTER_MSG_BROADCAST ||
        (m->kind == CLUSTER_MSG_REQUEST && m->type >= CLUSTER_REQ_REMOTE_JOIN &&
         m->type <= CLUSTER_REQ_BROADCAST && m->type != CLUSTER_REQ_SERVER_SIDE_EMIT && !m->sid);
    if (has_opts)
        field(out, &first, "opts"), opts(out, &m->opts);
    if (m->has_rooms)
        field(out, &first, "rooms"), strings(out, &m->rooms);
    if (m->kind == CLUSTER_MSG_REQUEST && m->type == CLUSTER_REQ_REMOTE_DISCONNECT)
        field(out, &first, "close"), buf_append_str(out, m->close ? "true" : "false");
    opt_string(out, &first, "sid", m->sid);
    opt_string(out, &first, "room", m->room);
    opt_value(out, &first, "data", &m->data);
    opt_value(out, &first, "sockets", &m->sockets);
    opt_value(out, &first, "ack", &m->ack);
    if (m->has_client_count) {
        snprintf(n, sizeof n, "%llu", (unsigned long long)m->client_count);
        field(out, &first, "clientCount"), buf_append_str(out, n);
    }
    buf_append_str(out, "}");
}
