/* Socket.IO server: one client per Engine.IO session, packets decoded and attachments assembled
 * by the codec, namespaces joined with CONNECT and left with DISCONNECT, and the close rules of
 * checklist ERR-03 (any protocol violation closes the whole connection). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio/base64.h"

#include "sio_server.h"

/* ------------------------------------------------------------------ namespaces */

static srv_namespace *namespace_new(srv_socketio *sio, const char *name, const nsp_handlers *h)
{
    srv_namespace *nsp = xcalloc(1, sizeof *nsp);
    nsp->sio = sio;
    nsp->name = xstrndup(name, strlen(name));
    nsp->handlers = h;
    nsp->next = sio->namespaces;
    sio->namespaces = nsp;
    return nsp;
}

/* Existing namespace, or one created now for a name the fixture accepts (SIO-NSP-08); NULL for
 * an unknown name (SIO-NSP-04, exact comparison SIO-NSP-09). */
static srv_namespace *namespace_lookup(srv_socketio *sio, const char *name)
{
    for (srv_namespace *nsp = sio->namespaces; nsp; nsp = nsp->next)
        if (strcmp(nsp->name, name) == 0)
            return nsp;
    bool known = false;
    const nsp_handlers *h = fixture_handlers_for(name, &known);
    if (!known || sio->namespace_count >= SERVER_MAX_DYNAMIC_NAMESPACES)
        return NULL;
    sio->namespace_count++;
    return namespace_new(sio, name, h);
}

srv_socketio *srv_socketio_new(server *srv)
{
    srv_socketio *sio = xcalloc(1, sizeof *sio);
    sio->srv = srv;
    return sio;
}

void srv_socketio_free(srv_socketio *sio)
{
    while (sio->namespaces) {
        srv_namespace *nsp = sio->namespaces;
        sio->namespaces = nsp->next;
        srv_acks_free(nsp);
        free(nsp->name);
        free(nsp);
    }
    for (size_t i = 0; i < sio->log_count; i++)
        free(sio->log[(sio->log_first + i) % SERVER_MAX_LOG_RECORDS]);
    free(sio->log);
    free(sio);
}

/* ------------------------------------------------------------------ packets out */

/* A packet without payload array: CONNECT reply, CONNECT_ERROR, DISCONNECT. */
static void send_simple(srv_client *client, sio_pkt_type type, const char *nsp, const char *json)
{
    sio_pkt pkt = {.type = type,
                   .nsp = sio_span_of(nsp, strlen(nsp)),
                   .data = json ? sio_span_of(json, strlen(json)) : SIO_SPAN_NULL};
    uint8_t text[SERVER_MAX_PATH + 512];
    size_t n = 0;
    if (sio_pkt_encode(&pkt, NULL, text, sizeof text, &n) == SIO_OK)
        eio_send(client->eio, false, text, n);
}

/* ------------------------------------------------------------------ sockets */

/* v5: a random id of its own (SIO-PKT-19 d); v4: the Engine.IO sid, "<nsp>#<sid>" outside "/". */
static char *new_socket_id(srv_client *client, const char *nsp)
{
    if (client->protocol == 4) {
        bool root = strcmp(nsp, "/") == 0;
        size_t n = (root ? 0 : strlen(nsp) + 1) + SERVER_SID_LEN;
        char *id = xmalloc(n + 1);
        snprintf(id, n + 1, "%s%s%s", root ? "" : nsp, root ? "" : "#", eio_sid(client->eio));
        return id;
    }
    uint8_t raw[15];
    size_t n = 0;
    char *out = xmalloc(SERVER_SOCKET_ID_LEN + 1);
    server *srv = client->sio->srv;
    if (srv->cfg.deterministic) { /* "sio-socket--" and the count in 8 digits, see new_sid() */
        snprintf(out, SERVER_SOCKET_ID_LEN + 1, "sio-socket--%08" PRIu32,
                 ++srv->socket_ids_issued % 100000000u);
        return out;
    }
    server_random_bytes(client->sio->srv, raw, sizeof raw);
    sio_base64_encode(raw, sizeof raw, (uint8_t *)out, SERVER_SOCKET_ID_LEN, &n);
    for (size_t i = 0; i < SERVER_SOCKET_ID_LEN; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    out[SERVER_SOCKET_ID_LEN] = '\0';
    return out;
}

static srv_socket *find_socket(srv_client *client, const char *nsp)
{
    for (srv_socket *s = client->sockets; s; s = s->client_next)
        if (strcmp(s->nsp->name, nsp) == 0)
            return s;
    return NULL;
}

static void run_connection_handler(timer *t);

static srv_socket *socket_attach(srv_client *client, srv_namespace *nsp)
{
    srv_socket *sock = xcalloc(1, sizeof *sock);
    sock->client = client;
    sock->nsp = nsp;
    sock->connected = true;
    sock->id = new_socket_id(client, nsp->name);
    timer_init(&sock->handler_timer, run_connection_handler, sock);
    sock->client_next = client->sockets;
    client->sockets = sock;
    sock->nsp_next = nsp->sockets;
    if (nsp->sockets)
        nsp->sockets->nsp_prev = sock;
    nsp->sockets = sock;
    nsp->socket_count++;
    return sock;
}

/* Leaves the namespace: `disconnecting` with rooms, rooms left, `disconnect` (SIO-DC-02). */
static void socket_detach(srv_socket *sock, const char *reason)
{
    srv_namespace *nsp = sock->nsp;
    srv_client *client = sock->client;
    if (nsp->handlers->disconnecting)
        nsp->handlers->disconnecting(sock, reason);
    sock->connected = false;
    for (size_t i = 0; i < sock->room_count; i++)
        free(sock->rooms[i]);
    free(sock->rooms);
    sock->rooms = NULL;
    sock->room_count = 0;
    srv_acks_forget_socket(sock);
    if (nsp->handlers->disconnected)
        nsp->handlers->disconnected(sock, reason);
    srv_socket **pp = &client->sockets;
    while (*pp && *pp != sock)
        pp = &(*pp)->client_next;
    if (*pp)
        *pp = sock->client_next;
    if (sock->nsp_prev)
        sock->nsp_prev->nsp_next = sock->nsp_next;
    else
        nsp->sockets = sock->nsp_next;
    if (sock->nsp_next)
        sock->nsp_next->nsp_prev = sock->nsp_prev;
    nsp->socket_count--;
    timer_stop(&client->sio->srv->loop, &sock->handler_timer);
    free(sock->auth);
    free(sock->id);
    free(sock);
}

/* ------------------------------------------------------------------ clients */

static void client_free(srv_client *client)
{
    timer_stop(&client->sio->srv->loop, &client->connect_timer);
    free(client->pending_text);
    for (uint32_t i = 0; i < client->pending_count; i++)
        free(client->pending_attachments[i]);
    free(client);
}

/* The server ends the whole connection: every socket leaves with `reason`, then Engine.IO
 * closes (flushing what is queued first). */
static void client_close(srv_client *client, const char *reason)
{
    if (client->closing)
        return;
    client->closing = true;
    while (client->sockets)
        socket_detach(client->sockets, reason);
    session *s = client->eio;
    s->app_data = NULL;
    client_free(client);
    eio_close(s);
}

/* Reason strings of SIO-DC-05 for a close the server decides on. */
static const char *forced_close_reason(const srv_client *client)
{
    return eio_on_websocket(client->eio) ? "forced close" : "forced server close";
}

static void protocol_violation(srv_client *client, const char *why)
{
    log_msg(client->sio->srv, LOG_DEBUG, "session %s: Socket.IO violation: %s",
            eio_sid(client->eio), why);
    fixture_log_error(client, why);
    client_close(client, forced_close_reason(client));
}

static void on_connect_timeout(timer *t)
{
    srv_client *client = t->ctx;
    if (client->sockets == NULL)
        client_close(client, "forced close"); /* SIO-NSP-01 */
}

static void handle_connect(srv_client *client, const char *name, sio_span auth);

static void socketio_open(session *s)
{
    srv_client *client = xcalloc(1, sizeof *client);
    client->sio = s->srv->sio;
    client->eio = s;
    s->app_data = client;
    client->protocol = eio_protocol(s) == 3 ? 4 : 5;
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    opt.protocol = client->protocol;
    sio_pkt_assembler_init(&client->assembler, &opt, client->slots,
                           SIO_PKT_MAX_ATTACHMENTS_DEFAULT);
    timer_init(&client->connect_timer, on_connect_timeout, client);
    timer_start(&s->srv->loop, &client->connect_timer, s->srv->cfg.connect_timeout);
    if (client->protocol == 4)
        handle_connect(client, "/",
                       SIO_SPAN_NULL); /* v4 clients are in "/" at once (SIO-PKT-19 a) */
}

/* The Engine.IO session ended on its own (transport close, ping timeout, parse error…). */
static void socketio_close(session *s, const char *reason)
{
    srv_client *client = s->app_data;
    if (client == NULL)
        return;
    client->closing = true;
    while (client->sockets)
        socket_detach(client->sockets, reason);
    s->app_data = NULL;
    client_free(client);
}

void srv_socket_disconnect(srv_socket *sock, bool close_connection)
{
    srv_client *client = sock->client;
    if (!close_connection) {
        send_simple(client, SIO_PKT_DISCONNECT, sock->nsp->name, NULL);
        socket_detach(sock, "server namespace disconnect");
        return;
    }
    for (srv_socket *s = client->sockets; s; s = s->client_next)
        send_simple(client, SIO_PKT_DISCONNECT, s->nsp->name, NULL);
    client_close(client, "server namespace disconnect"); /* as Node reports it (§2.22) */
}

/* ------------------------------------------------------------------ packets in */

/* v4 CONNECT carries its auth as a query string in the namespace ("/custom?token=abc"): it
 * becomes the object {"token":"abc"} (SIO-PKT-19 b). */
static void query_to_json(sio_span query, buf *out)
{
    sio_json_writer w;
    size_t need = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            buf_reserve(out, need);
        sio_json_writer_init(&w, pass ? out->data : NULL, pass ? need : 0);
        sio_json_write_begin_object(&w);
        for (size_t i = 0; i < query.len;) {
            size_t start = i;
            while (i < query.len && query.ptr[i] != '&')
                i++;
            sio_span pair = sio_span_of(query.ptr + start, i++ - start);
            const uint8_t *eq = memchr(pair.ptr, '=', pair.len);
            size_t klen = eq ? (size_t)(eq - pair.ptr) : pair.len;
            uint8_t key[SERVER_MAX_PATH], val[SERVER_MAX_PATH];
            size_t kn = 0, vn = 0;
            if (klen == 0 ||
                sio_http_percent_decode(sio_span_of(pair.ptr, klen), true, key, sizeof key, &kn) ||
                sio_http_percent_decode(eq ? sio_span_of(eq + 1, pair.len - klen - 1)
                                           : SIO_SPAN_NULL,
                                        true, val, sizeof val, &vn))
                continue;
            sio_json_write_key(&w, key, kn);
            sio_json_write_string(&w, val, vn);
        }
        sio_json_write_end_object(&w);
        if (sio_json_writer_finish(&w, &need) != SIO_OK && pass)
            need = 0;
    }
    out->len = need;
}

/* The refusal sent for a middleware error: v5 the object, v4 only its message as a string. */
static void send_refusal(srv_client *client, const char *name, const char *error_json)
{
    sio_span msg;
    char text[256];
    if (client->protocol == 4 &&
        sio_json_object_get(sio_span_of(error_json, strlen(error_json)), "message", 7, &msg) ==
            SIO_OK &&
        msg.len < sizeof text) {
        memcpy(text, msg.ptr, msg.len);
        text[msg.len] = '\0';
        error_json = text;
    }
    send_simple(client, SIO_PKT_CONNECT_ERROR, name, error_json);
}

/* CONNECT (SIO-PKT-13/14, SIO-NSP-03/04/05/07/11). */
static void handle_connect(srv_client *client, const char *name, sio_span auth)
{
    if (find_socket(client, name)) {
        protocol_violation(client, "duplicate CONNECT");
        return;
    }
    srv_namespace *nsp = namespace_lookup(client->sio, name);
    if (nsp == NULL) {
        send_simple(client, SIO_PKT_CONNECT_ERROR, name, "{\"message\":\"Invalid namespace\"}");
        return;
    }
    sio_span auth_obj = auth.ptr ? auth : sio_span_of("{}", 2);
    char error_json[256];
    if (nsp->handlers->admit && !nsp->handlers->admit(nsp, auth_obj, error_json)) {
        send_refusal(client, name, error_json);
        return;
    }
    srv_socket *sock = socket_attach(client, nsp);
    timer_stop(&client->sio->srv->loop, &client->connect_timer);
    if (client->protocol == 4) {
        send_simple(client, SIO_PKT_CONNECT, name, NULL);
    } else {
        char reply[64];
        snprintf(reply, sizeof reply, "{\"sid\":\"%s\"}", sock->id);
        send_simple(client, SIO_PKT_CONNECT, name, reply); /* before anything the handler emits */
    }
    if (!eio_on_websocket(client->eio)) {
        if (nsp->handlers->connected) /* polling: the GET body keeps the order anyway */
            nsp->handlers->connected(sock, auth_obj);
        return;
    }
    sock->auth = xmalloc(auth_obj.len);
    memcpy(sock->auth, auth_obj.ptr, auth_obj.len);
    sock->auth_len = auth_obj.len;
    timer_start(&client->sio->srv->loop, &sock->handler_timer, SERVER_CONNECTION_HANDLER_DELAY_MS);
}

static void run_connection_handler(timer *t)
{
    srv_socket *sock = t->ctx;
    if (sock->nsp->handlers->connected)
        sock->nsp->handlers->connected(sock, sio_span_of(sock->auth, sock->auth_len));
    free(sock->auth);
    sock->auth = NULL;
}

/* A complete packet (attachments included). */
static void handle_packet(srv_client *client, const sio_pkt *pkt, const sio_span *atts,
                          uint32_t natt)
{
    char name[SERVER_MAX_PATH + 1];
    if (pkt->nsp.len > SERVER_MAX_PATH || memchr(pkt->nsp.ptr, '\0', pkt->nsp.len)) {
        protocol_violation(client, "namespace too long");
        return;
    }
    memcpy(name, pkt->nsp.ptr, pkt->nsp.len);
    name[pkt->nsp.len] = '\0';
    if (pkt->type == SIO_PKT_CONNECT) {
        buf auth = {0};
        if (client->protocol == 4)
            query_to_json(pkt->query, &auth);
        handle_connect(client, name,
                       client->protocol == 4 ? sio_span_of(auth.data, auth.len) : pkt->data);
        buf_reset(&auth);
        return;
    }
    srv_socket *sock = find_socket(client, name);
    if (sock == NULL || pkt->type == SIO_PKT_CONNECT_ERROR) {
        protocol_violation(client, sock ? "CONNECT_ERROR from a client"
                                        : "packet for a namespace not joined");
        return;
    }
    srv_value payload = {pkt->data, atts, natt};
    if (pkt->type == SIO_PKT_DISCONNECT) {
        socket_detach(sock, "client namespace disconnect"); /* SIO-DC-01: no reply */
    } else if (pkt->type == SIO_PKT_EVENT || pkt->type == SIO_PKT_BINARY_EVENT) {
        if (pkt->data.ptr && sock->nsp->handlers->event)
            sock->nsp->handlers->event(sock, &payload, pkt->has_id, pkt->id);
    } else if (pkt->has_id) {
        if (!pkt->data.ptr)
            payload.json = sio_span_of("[]", 2);
        srv_ack_received(sock, pkt->id, &payload);
    }
}

static void clear_pending(srv_client *client)
{
    free(client->pending_text);
    client->pending_text = NULL;
    for (uint32_t i = 0; i < client->pending_count; i++)
        free(client->pending_attachments[i]);
    client->pending_count = 0;
}

/* Feeds one Engine.IO message to the assembler; the text of a binary packet and its
 * attachments are copied, since they arrive in separate messages (SIO-PKT-12). */
static sio_err assemble(srv_client *client, bool binary, const uint8_t *p, size_t n, bool *complete)
{
    size_t err_at = 0;
    if (!binary) {
        sio_err rc = sio_pkt_assembler_text(&client->assembler, p, n, complete, &err_at);
        if (rc != SIO_OK || *complete)
            return rc;
        client->pending_text = xmalloc(n ? n : 1);
        memcpy(client->pending_text, p, n);
        sio_pkt_options opt = client->assembler.opt;
        sio_pkt_assembler_init(&client->assembler, &opt, client->slots,
                               SIO_PKT_MAX_ATTACHMENTS_DEFAULT);
        return sio_pkt_assembler_text(&client->assembler, client->pending_text, n, complete,
                                      &err_at);
    }
    uint8_t *copy = NULL;
    if (client->pending_text) {
        copy = xmalloc(n ? n : 1);
        if (n) /* an empty attachment may come with p == NULL */
            memcpy(copy, p, n);
        client->pending_attachments[client->pending_count++] = copy;
    }
    return sio_pkt_assembler_binary(&client->assembler, copy ? copy : p, n, complete, &err_at);
}

static void socketio_message(session *s, bool binary, const uint8_t *p, size_t n)
{
    srv_client *client = s->app_data;
    if (client == NULL || client->closing)
        return;
    bool complete = false;
    sio_err rc = assemble(client, binary, p, n, &complete);
    if (rc != SIO_OK) {
        clear_pending(client);
        protocol_violation(client, sio_err_message(rc));
        return;
    }
    if (!complete)
        return;
    sio_pkt pkt;
    const sio_span *atts = NULL;
    uint32_t natt = 0;
    sio_pkt_assembler_result(&client->assembler, &pkt, &atts, &natt);
    handle_packet(client, &pkt, atts, natt);
    client = s->app_data; /* the handler may have closed the client */
    if (client)
        clear_pending(client);
}

const eio_app socketio_app = {socketio_open, socketio_message, socketio_close};
