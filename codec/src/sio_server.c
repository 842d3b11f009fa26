/* The server side of a Socket.IO connection: see sio/sio_server.h for the model and the
 * transition table. */
#include <string.h>

#include "session_internal.h"
#include "sio/http.h"
#include "sio/json.h"
#include "sio/sio_server.h"

struct sio_sio_nsp {
    sio_sio_nsp *next;
    void *user;
    uint64_t *acks; /* ids of acks awaited from the client in this namespace */
    uint32_t ack_count, ack_cap;
    size_t name_len;
    char name[];
};

#define NEVER  UINT64_MAX
#define MEM(s) ((s)->cfg->alloc)

/* The namespace a packet names. */
static sio_sio_nsp *find(const sio_sio_server *s, sio_span nsp)
{
    nsp = sio__nsp_name(nsp);
    for (sio_sio_nsp *n = s->namespaces; n; n = n->next)
        if (sio__span_is(nsp, n->name, n->name_len))
            return n;
    return NULL;
}

static void nsp_free(sio_sio_server *s, sio_sio_nsp *n)
{
    sio__mem(MEM(s), n->acks, 0);
    sio__mem(MEM(s), n, 0);
}

static void unlink_nsp(sio_sio_server *s, sio_sio_nsp *n)
{
    sio_sio_nsp **pp = &s->namespaces;
    while (*pp && *pp != n)
        pp = &(*pp)->next;
    if (*pp)
        *pp = n->next;
    nsp_free(s, n);
}

static void free_namespaces(sio_sio_server *s)
{
    while (s->namespaces) {
        sio_sio_nsp *n = s->namespaces;
        s->namespaces = n->next;
        nsp_free(s, n);
    }
}

/* ------------------------------------------------------------------ sending */

/* Encodes a packet and hands it to the Engine.IO session. Outgoing packets are checked under
 * the v5 rules for both protocols: they differ only in that v4 wants a string for CONNECT_ERROR,
 * and the application may give v4 clients the object form too (the wire form is the same). */
static sio_err encode_send(sio_sio_server *s, const sio_pkt *pkt, const sio_span *atts,
                           uint32_t count, bool await_id, uint64_t now)
{
    uint8_t *text = NULL;
    size_t len = 0;
    sio_err rc = sio__pkt_encode_alloc(MEM(s), pkt, 5, &text, &len);
    if (rc == SIO_OK)
        rc = sio_sio_server_send(s, pkt->nsp, sio_span_of(text, len), atts, count, await_id,
                                 pkt->id, now);
    sio__mem(MEM(s), text, 0);
    return rc;
}

/* A packet without payload array (CONNECT reply, CONNECT_ERROR, DISCONNECT). */
static sio_err send_simple(sio_sio_server *s, sio_pkt_type type, sio_span nsp, sio_span data,
                           uint64_t now)
{
    uint8_t *text = NULL;
    size_t len = 0;
    sio_pkt pkt = {.type = type, .nsp = nsp, .data = data};
    sio_err rc = sio__pkt_encode_alloc(MEM(s), &pkt, 5, &text, &len);
    if (rc == SIO_OK)
        rc = sio_eio_server_send(s->eio, false, text, len, now);
    sio__mem(MEM(s), text, 0);
    return rc;
}

sio_err sio_sio_server_send(sio_sio_server *s, sio_span nsp, sio_span text,
                            const sio_span *attachments, uint32_t count, bool await_id, uint64_t id,
                            uint64_t now_ms)
{
    if (s->state == SIO_SIO_SERVER_CLOSED)
        return SIO_ERR_EIO_SESSION_CLOSED;
    sio_sio_nsp *n = find(s, nsp);
    if (!n)
        return SIO_ERR_SIO_NOT_JOINED;
    if (await_id && n->ack_count == n->ack_cap) {
        uint32_t cap = n->ack_cap ? n->ack_cap * 2 : 4;
        uint64_t *more = sio__mem(MEM(s), n->acks, cap * sizeof *more);
        if (!more)
            return SIO_ERR_NO_MEMORY;
        n->acks = more;
        n->ack_cap = cap;
    }
    sio_err rc = sio_eio_server_send(s->eio, false, text.ptr, text.len, now_ms);
    for (uint32_t i = 0; rc == SIO_OK && i < count; i++)
        rc = sio_eio_server_send(s->eio, true, attachments[i].ptr, attachments[i].len, now_ms);
    if (rc == SIO_OK && await_id)
        n->acks[n->ack_count++] = id;
    return rc;
}

sio_err sio_sio_server_emit(sio_sio_server *s, sio_span nsp, bool ack, sio_span data,
                            const sio_span *attachments, uint32_t count, bool has_id, uint64_t id,
                            uint64_t now_ms)
{
    sio_pkt pkt = {.type = ack ? SIO_PKT_ACK : SIO_PKT_EVENT,
                   .attachments = count,
                   .nsp = nsp,
                   .has_id = has_id,
                   .id = id,
                   .data = data};
    return encode_send(s, &pkt, attachments, count, has_id && !ack, now_ms);
}

/* ------------------------------------------------------------------ namespaces */

sio_err sio_sio_server_accept(sio_sio_server *s, sio_span nsp, sio_span sid, void *user,
                              uint64_t now_ms)
{
    if (s->state == SIO_SIO_SERVER_CLOSED || find(s, nsp))
        return SIO_ERR_SIO_WRONG_STATE;
    nsp = sio__nsp_name(nsp);
    sio_sio_nsp *n = sio__mem(MEM(s), NULL, sizeof *n + nsp.len + 1);
    if (!n)
        return SIO_ERR_NO_MEMORY;
    memset(n, 0, sizeof *n);
    n->user = user;
    n->name_len = nsp.len;
    memcpy(n->name, nsp.ptr, nsp.len);
    n->name[nsp.len] = '\0';
    n->next = s->namespaces;
    s->namespaces = n;
    s->state = SIO_SIO_SERVER_JOINED;
    s->connect_due = NEVER;
    if (s->protocol == 4) /* "0/nsp": v4 replies without data */
        return send_simple(s, SIO_PKT_CONNECT, nsp, SIO_SPAN_NULL, now_ms);
    uint8_t reply[SIO_EIO_MAX_SID_LEN * 6 + 16];
    sio_json_writer w;
    size_t len = 0;
    sio_json_writer_init(&w, reply, sizeof reply);
    sio_json_write_begin_object(&w);
    sio_json_write_key(&w, (const uint8_t *)"sid", 3);
    sio_json_write_string(&w, sid.ptr, sid.len);
    sio_json_write_end_object(&w);
    sio_err rc = sio_json_writer_finish(&w, &len);
    if (rc != SIO_OK)
        return rc;
    return send_simple(s, SIO_PKT_CONNECT, nsp, sio_span_of(reply, len), now_ms);
}

sio_err sio_sio_server_refuse(sio_sio_server *s, sio_span nsp, sio_span error_json)
{
    if (s->state == SIO_SIO_SERVER_CLOSED)
        return SIO_ERR_EIO_SESSION_CLOSED;
    return send_simple(s, SIO_PKT_CONNECT_ERROR, nsp, error_json, 0);
}

sio_err sio_sio_server_disconnect(sio_sio_server *s, sio_span nsp, uint64_t now_ms)
{
    sio_sio_nsp *n = find(s, nsp);
    if (s->state == SIO_SIO_SERVER_CLOSED || !n)
        return SIO_ERR_SIO_NOT_JOINED;
    sio_err rc = send_simple(s, SIO_PKT_DISCONNECT, sio_span_of(n->name, n->name_len),
                             SIO_SPAN_NULL, now_ms);
    unlink_nsp(s, n);
    return rc;
}

void sio_sio_server_forget_ack(sio_sio_server *s, sio_span nsp, uint64_t id)
{
    sio_sio_nsp *n = find(s, nsp);
    for (uint32_t i = 0; n && i < n->ack_count; i++) {
        if (n->acks[i] == id) {
            n->acks[i] = n->acks[--n->ack_count];
            return;
        }
    }
}

/* ------------------------------------------------------------------ closing */

static void close_connection(sio_sio_server *s, sio_sio_server_event *ev, sio_err error,
                             const char *why, sio_eio_close_reason reason)
{
    s->state = SIO_SIO_SERVER_CLOSED;
    s->connect_due = NEVER;
    free_namespaces(s);
    sio__inbox_drop(&s->inbox, MEM(s));
    memset(ev, 0, sizeof *ev);
    ev->type = SIO_SIO_SERVER_EV_CLOSE;
    ev->error = error;
    ev->why = why;
    ev->reason = reason;
    sio_eio_server_close(s->eio, 0);
}

/* Any protocol violation closes the whole connection (ERR-03), with Node's reason for a
 * server-side close on the current transport (SIO-DC-05). */
static void violation(sio_sio_server *s, sio_sio_server_event *ev, sio_err error, const char *why)
{
    close_connection(s, ev, error, why,
                     sio_eio_server_on_websocket(s->eio) ? SIO_EIO_REASON_FORCED_CLOSE
                                                         : SIO_EIO_REASON_FORCED_SERVER_CLOSE);
}

void sio_sio_server_close(sio_sio_server *s, uint64_t now_ms)
{
    if (s->state == SIO_SIO_SERVER_CLOSED)
        return;
    s->state = SIO_SIO_SERVER_CLOSED;
    s->connect_due = NEVER;
    free_namespaces(s);
    sio__inbox_drop(&s->inbox, MEM(s));
    sio_eio_server_close(s->eio, now_ms);
}

uint64_t sio_sio_server_next_deadline(const sio_sio_server *s)
{
    return s->connect_due;
}

void sio_sio_server_timeout(sio_sio_server *s, uint64_t now_ms, sio_sio_server_event *ev)
{
    memset(ev, 0, sizeof *ev);
    if (s->state == SIO_SIO_SERVER_WAITING && s->connect_due <= now_ms) /* SIO-NSP-01 */
        close_connection(s, ev, SIO_OK, "no namespace joined in time", SIO_EIO_REASON_FORCED_CLOSE);
}

/* ------------------------------------------------------------------ receiving */

/* v4 CONNECT carries its auth as a query string in the namespace ("/custom?token=abc"): it
 * becomes the object {"token":"abc"} (SIO-PKT-19 b). Pairs that do not decode, or longer than
 * max_namespace, are left out. */
static sio_err write_query_object(const sio_sio_server *s, sio_span query, uint8_t *out, size_t cap,
                                  size_t *written)
{
    sio_json_writer w;
    uint8_t key[SIO_SIO_SERVER_DEFAULT_MAX_NAMESPACE], val[SIO_SIO_SERVER_DEFAULT_MAX_NAMESPACE];
    (void)s;
    sio_json_writer_init(&w, out, cap);
    sio_json_write_begin_object(&w);
    for (size_t i = 0; i < query.len;) {
        size_t start = i;
        while (i < query.len && query.ptr[i] != '&')
            i++;
        sio_span pair = sio_span_of(query.ptr + start, i++ - start);
        const uint8_t *eq = memchr(pair.ptr, '=', pair.len);
        size_t klen = eq ? (size_t)(eq - pair.ptr) : pair.len, kn = 0, vn = 0;
        sio_span value = eq ? sio_span_of(eq + 1, pair.len - klen - 1) : SIO_SPAN_NULL;
        if (klen == 0 ||
            sio_http_percent_decode(sio_span_of(pair.ptr, klen), true, key, sizeof key, &kn) ||
            sio_http_percent_decode(value, true, val, sizeof val, &vn))
            continue;
        sio_json_write_key(&w, key, kn);
        sio_json_write_string(&w, val, vn);
    }
    sio_json_write_end_object(&w);
    return sio_json_writer_finish(&w, written);
}

static bool connect_event(sio_sio_server *s, const sio_pkt *pkt, sio_sio_server_event *ev)
{
    sio_span auth = pkt->data.ptr ? pkt->data : sio_span_of("{}", 2);
    if (s->protocol == 4) {
        size_t need = 0;
        write_query_object(s, pkt->query, NULL, 0, &need);
        s->scratch = sio__mem(MEM(s), NULL, need ? need : 1);
        if (!s->scratch || write_query_object(s, pkt->query, s->scratch, need, &need) != SIO_OK)
            need = 0;
        auth = need ? sio_span_of(s->scratch, need) : sio_span_of("{}", 2);
    }
    ev->type = SIO_SIO_SERVER_EV_CONNECT;
    ev->nsp = sio__nsp_name(pkt->nsp);
    ev->data = auth;
    return true;
}

/* An ACK for an id this namespace awaits is reported once; others are ignored (SIO-ACK-03). */
static void ack_event(sio_sio_nsp *n, const sio_pkt *pkt, sio_sio_server_event *ev)
{
    for (uint32_t i = 0; i < n->ack_count; i++) {
        if (n->acks[i] != pkt->id)
            continue;
        n->acks[i] = n->acks[--n->ack_count];
        ev->type = SIO_SIO_SERVER_EV_ACK;
        ev->id = pkt->id;
        ev->data = pkt->data.ptr ? pkt->data : sio_span_of("[]", 2);
        return;
    }
}

/* A complete packet (attachments included). */
static void handle_packet(sio_sio_server *s, const sio_pkt *pkt, const sio_span *atts,
                          uint32_t natt, sio_sio_server_event *ev)
{
    if (pkt->nsp.len > s->cfg->max_namespace ||
        (pkt->nsp.len && memchr(pkt->nsp.ptr, 0, pkt->nsp.len))) {
        violation(s, ev, SIO_ERR_SIO_NAMESPACE_TOO_LONG, "namespace too long");
        return;
    }
    sio_sio_nsp *n = find(s, pkt->nsp);
#ifdef MUTANT_DUPLICATE_CONNECT_IGNORED /* SIO-NSP-05: a CONNECT for a joined namespace is dropped */
    if (pkt->type == SIO_PKT_CONNECT && n)
        return;
#endif
    if (pkt->type == SIO_PKT_CONNECT) {
        if (n)
            violation(s, ev, SIO_ERR_SIO_DUPLICATE_CONNECT, "duplicate CONNECT"); /* SIO-NSP-05 */
        else
            connect_event(s, pkt, ev);
        return;
    }
    if (!n || pkt->type == SIO_PKT_CONNECT_ERROR) {
        if (n)
            violation(s, ev, SIO_ERR_SIO_CONNECT_ERROR_FROM_CLIENT, "CONNECT_ERROR from a client");
        else
            violation(s, ev, SIO_ERR_SIO_NOT_JOINED, "packet for a namespace not joined");
        return;
    }
    ev->nsp = sio_span_of(n->name, n->name_len);
    ev->nsp_user = n->user;
    ev->data = pkt->data;
    ev->attachments = atts;
    ev->attachment_count = natt;
#ifdef MUTANT_CLIENT_DISCONNECT_CLOSES /* SIO-DC-01: leaving a namespace ends the connection */
    if (pkt->type == SIO_PKT_DISCONNECT) {
        violation(s, ev, SIO_OK, "client namespace disconnect");
        return;
    }
#endif
    if (pkt->type == SIO_PKT_DISCONNECT) { /* SIO-DC-01: no reply */
        ev->type = SIO_SIO_SERVER_EV_DISCONNECT;
        ev->nsp = pkt->nsp; /* the record is freed now; the packet's bytes stay */
        unlink_nsp(s, n);
    } else if (pkt->type == SIO_PKT_EVENT || pkt->type == SIO_PKT_BINARY_EVENT) {
        if (pkt->data.ptr) {
            ev->type = SIO_SIO_SERVER_EV_EVENT;
            ev->has_id = pkt->has_id;
            ev->id = pkt->id;
        }
    } else if (pkt->has_id) {
        ack_event(n, pkt, ev);
    }
}

/* What the previous event viewed is released now. */
static void release_previous(sio_sio_server *s)
{
    sio__mem(MEM(s), s->scratch, 0);
    s->scratch = NULL;
}

void sio_sio_server_receive(sio_sio_server *s, bool binary, const uint8_t *p, size_t n,
                            uint64_t now_ms, sio_sio_server_event *ev)
{
    (void)now_ms;
    memset(ev, 0, sizeof *ev);
    release_previous(s);
    if (s->state == SIO_SIO_SERVER_CLOSED)
        return;
    bool complete = false;
    sio_err rc =
        sio__inbox_feed(&s->inbox, MEM(s), s->cfg->max_attachments, binary, p, n, &complete);
    if (rc != SIO_OK) {
        violation(s, ev, rc, sio_err_message(rc));
        return;
    }
    if (!complete)
        return;
    sio_pkt pkt;
    const sio_span *atts = NULL;
    uint32_t natt = 0;
    sio__inbox_result(&s->inbox, &pkt, &atts, &natt);
    handle_packet(s, &pkt, atts, natt, ev);
}

/* ------------------------------------------------------------------ life */

void sio_sio_server_config_init(sio_sio_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->connect_timeout_ms = SIO_SIO_SERVER_DEFAULT_CONNECT_TIMEOUT_MS;
    cfg->max_namespace = SIO_SIO_SERVER_DEFAULT_MAX_NAMESPACE;
    cfg->max_attachments = SIO_PKT_MAX_ATTACHMENTS_DEFAULT;
}

sio_err sio_sio_server_open(sio_sio_server *s, const sio_sio_server_config *cfg,
                            sio_eio_server *eio, uint64_t now_ms, sio_sio_server_event *ev)
{
    memset(s, 0, sizeof *s);
    memset(ev, 0, sizeof *ev);
    s->cfg = cfg;
    s->eio = eio;
    s->state = SIO_SIO_SERVER_CLOSED;
    s->connect_due = NEVER;
    if (!cfg || !eio || cfg->max_namespace > SIO_SIO_SERVER_DEFAULT_MAX_NAMESPACE)
        return SIO_ERR_INVALID_ARGUMENT;
    s->protocol = sio_eio_server_protocol(eio) == 3 ? 4 : 5;
    sio_err rc = sio__inbox_init(&s->inbox, MEM(s), s->protocol, cfg->max_attachments);
    if (rc != SIO_OK)
        return rc;
    s->state = SIO_SIO_SERVER_WAITING;
    s->connect_due = now_ms + cfg->connect_timeout_ms;
#ifdef MUTANT_NO_CONNECT_TIMEOUT /* SIO-NSP-01: a connection may stay without a namespace */
    s->connect_due = NEVER;
#endif
    if (s->protocol == 4) { /* v4 clients are in "/" at once (SIO-PKT-19 a) */
        ev->type = SIO_SIO_SERVER_EV_CONNECT;
        ev->nsp = sio_span_of("/", 1);
        ev->data = sio_span_of("{}", 2);
    }
    return SIO_OK;
}

void sio_sio_server_free(sio_sio_server *s)
{
    if (!s->cfg)
        return;
    free_namespaces(s);
    sio__inbox_free(&s->inbox, MEM(s));
    sio__mem(MEM(s), s->scratch, 0);
    s->scratch = NULL;
}

sio_sio_server_state sio_sio_server_state_of(const sio_sio_server *s)
{
    return s->state;
}

int sio_sio_server_protocol(const sio_sio_server *s)
{
    return s->protocol;
}

bool sio_sio_server_joined(const sio_sio_server *s, sio_span nsp)
{
    return find(s, nsp) != NULL;
}
