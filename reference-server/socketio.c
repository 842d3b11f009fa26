/* The Socket.IO layer: one client per Engine.IO session, whose packets the codec's session
 * decodes, assembles and checks (sio/sio_server.h); here its events become namespaces, sockets
 * and calls into the application (app.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio/base64.h"

#include "socketio.h"

static void handle_event(srv_client *client, const sio_sio_server_event *ev);

/* ------------------------------------------------------------------ namespaces */

static srv_namespace *namespace_new(srv_socketio *sio, const char *name, const srv_nsp_handlers *h)
{
    srv_namespace *nsp = xcalloc(1, sizeof *nsp);
    nsp->sio = sio;
    nsp->name = xstrndup(name, strlen(name));
    nsp->handlers = h;
    nsp->next = sio->namespaces;
    sio->namespaces = nsp;
    if (sio->adapter->namespace_created)
        sio->adapter->namespace_created(nsp);
    return nsp;
}

/* Existing namespace, or one created now for a name the application knows (SIO-NSP-08); NULL
 * for an unknown name (SIO-NSP-04, exact comparison SIO-NSP-09). */
static srv_namespace *namespace_lookup(srv_socketio *sio, const char *name)
{
    for (srv_namespace *nsp = sio->namespaces; nsp; nsp = nsp->next)
        if (strcmp(nsp->name, name) == 0)
            return nsp;
    const srv_nsp_handlers *h = sio->app->namespace_handlers(sio->app_state, name);
    if (!h || sio->namespace_count >= SERVER_MAX_DYNAMIC_NAMESPACES)
        return NULL;
    sio->namespace_count++;
    return namespace_new(sio, name, h);
}

srv_namespace *srv_namespace_get(srv_socketio *sio, const char *name)
{
    return namespace_lookup(sio, name);
}

srv_socketio *srv_socketio_new(server *srv, const srv_app *app, void *app_state)
{
    srv_socketio *sio = xcalloc(1, sizeof *sio);
    sio->srv = srv;
    sio->app = app;
    sio->app_state = app_state;
    sio->adapter = &srv_memory_adapter;
    sio_sio_server_config_init(&sio->cfg);
    sio->cfg.connect_timeout_ms = srv->cfg.connect_timeout;
    sio->cfg.max_namespace = SERVER_MAX_PATH;
    return sio;
}

void srv_socketio_free(srv_socketio *sio)
{
    while (sio->namespaces) {
        srv_namespace *nsp = sio->namespaces;
        sio->namespaces = nsp->next;
        srv_acks_free(nsp);
        free(nsp->adapter_data);
        free(nsp->name);
        free(nsp);
    }
    if (sio->app->free)
        sio->app->free(sio->app_state);
    free(sio);
}

void *srv_app_state(const srv_socket *sock)
{
    return sock->nsp->sio->app_state;
}

/* ------------------------------------------------------------------ sockets */

/* v5: a random id of its own (SIO-PKT-19 d); v4: the Engine.IO sid, "<nsp>#<sid>" outside "/".
 * With --deterministic the n-th v5 id is "sio-socket--" and n in 8 digits. */
static char *new_socket_id(srv_client *client, const char *nsp)
{
#ifdef MUTANT_SOCKET_ID_IS_SID /* EIO-HS-16: v5 sockets get v4 ids (the sid on "/") */
    if (client) {
#else
    if (sio_sio_server_protocol(&client->proto) == 4) {
#endif
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
    if (srv->cfg.deterministic) {
        snprintf(out, SERVER_SOCKET_ID_LEN + 1, "sio-socket--%08" PRIu32,
                 ++srv->socket_ids_issued % 100000000u);
        return out;
    }
    server_random_bytes(srv, raw, sizeof raw);
    sio_base64_encode(raw, sizeof raw, (uint8_t *)out, SERVER_SOCKET_ID_LEN, &n);
    for (size_t i = 0; i < SERVER_SOCKET_ID_LEN; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    out[SERVER_SOCKET_ID_LEN] = '\0';
    return out;
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

/* Leaves the namespace: `disconnecting` with rooms, rooms left, `disconnected` (SIO-DC-02). */
static void socket_detach(srv_socket *sock, const char *reason)
{
    srv_namespace *nsp = sock->nsp;
    srv_client *client = sock->client;
    if (nsp->handlers->disconnecting)
        nsp->handlers->disconnecting(sock, reason);
    sock->connected = false;
    nsp->sio->adapter->leave_all(sock);
    srv_acks_forget_socket(sock);
    if (nsp->sio->adapter->socket_left)
        nsp->sio->adapter->socket_left(sock);
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
    free(sock->handshake_auth);
    free(sock->id);
    free(sock);
}

static sio_span name_of(const srv_socket *sock)
{
    return sio_span_of(sock->nsp->name, strlen(sock->nsp->name));
}

/* ------------------------------------------------------------------ clients */

/* Every socket leaves with `reason`; the client is gone afterwards. */
static void client_release(srv_client *client, const char *reason)
{
    client->closing = true;
    while (client->sockets)
        socket_detach(client->sockets, reason);
    client->eio->app_data = NULL;
    timer_stop(&client->sio->srv->loop, &client->connect_timer);
    sio_sio_server_free(&client->proto);
    free(client);
}

/* The server ends the whole connection: the codec closes Engine.IO (after what is queued),
 * then every socket leaves. */
static void client_close(srv_client *client, const char *reason)
{
    if (client->closing)
        return;
    session *s = client->eio;
    sio_sio_server_close(&client->proto, loop_now_ms());
    client_release(client, reason);
    eio_flush(s);
}

static void reschedule(srv_client *client)
{
    event_loop *loop = &client->sio->srv->loop;
    uint64_t due = sio_sio_server_next_deadline(&client->proto);
    if (due == UINT64_MAX)
        timer_stop(loop, &client->connect_timer);
    else if (!timer_active(&client->connect_timer) || client->connect_timer.deadline_ms != due)
        timer_start_at(loop, &client->connect_timer, due);
}

static void on_connect_timeout(timer *t)
{
    srv_client *client = t->ctx;
    sio_sio_server_event ev;
    sio_sio_server_timeout(&client->proto, loop_now_ms(), &ev);
    handle_event(client, &ev);
}

static void socketio_open(session *s)
{
    srv_client *client = xcalloc(1, sizeof *client);
    client->sio = s->srv->sio;
    client->eio = s;
    s->app_data = client;
    timer_init(&client->connect_timer, on_connect_timeout, client);
    sio_sio_server_event ev;
    sio_sio_server_open(&client->proto, &client->sio->cfg, &s->eio, loop_now_ms(), &ev);
    handle_event(client, &ev); /* v4 clients are in "/" at once (SIO-PKT-19 a) */
}

/* The Engine.IO session ended on its own (transport close, ping timeout, parse error…). */
static void socketio_close(session *s, const char *reason)
{
    srv_client *client = s->app_data;
    if (client)
        client_release(client, reason);
}

void srv_socket_disconnect(srv_socket *sock, bool close_connection)
{
    srv_client *client = sock->client;
    if (!close_connection) {
        sio_sio_server_disconnect(&client->proto, name_of(sock), loop_now_ms());
        socket_detach(sock, "server namespace disconnect");
        eio_flush(client->eio);
        return;
    }
#ifndef MUTANT_FULL_DISCONNECT_WITHOUT_PACKETS /* SIO-DC-04: the connection just closes */
    for (srv_socket *s = client->sockets; s; s = s->client_next)
        sio_sio_server_disconnect(&client->proto, name_of(s), loop_now_ms());
#endif
    client_close(client, "server namespace disconnect"); /* as Node reports it */
}

/* ------------------------------------------------------------------ events from the codec */

/* The refusal sent for a middleware error: v5 the object, v4 only its message as a string. */
static void refuse(srv_client *client, sio_span nsp, const char *error_json)
{
    sio_span msg, json = sio_span_of(error_json, strlen(error_json));
    if (sio_sio_server_protocol(&client->proto) == 4 &&
        sio_json_object_get(json, "message", 7, &msg) == SIO_OK)
        json = msg;
#ifdef MUTANT_CONNECT_ERROR_WITHOUT_DATA /* SIO-PKT-14: the refusal's `data` is dropped */
    char only_message[SERVER_MAX_ERROR_JSON];
    if (sio_sio_server_protocol(&client->proto) == 5 &&
        sio_json_object_get(json, "message", 7, &msg) == SIO_OK) {
        snprintf(only_message, sizeof only_message, "{\"message\":%.*s}", (int)msg.len, msg.ptr);
        json = sio_span_of(only_message, strlen(only_message));
    }
#endif
    sio_sio_server_refuse(&client->proto, nsp, json);
}

/* CONNECT (SIO-PKT-13/14, SIO-NSP-03/04/07/11): the namespace, its middleware, then the
 * socket, the reply, and the connection handler (over WebSocket a moment later, see
 * SERVER_CONNECTION_HANDLER_DELAY_MS). */
static void on_connect(srv_client *client, sio_span nsp_name, sio_span auth)
{
    char name[SERVER_MAX_PATH + 1];
    memcpy(name, nsp_name.ptr, nsp_name.len);
    name[nsp_name.len] = '\0';
    srv_namespace *nsp = namespace_lookup(client->sio, name);
    if (nsp == NULL) {
        static const char invalid[] = "{\"message\":\"Invalid namespace\"}";
        sio_sio_server_refuse(&client->proto, nsp_name, sio_span_of(invalid, sizeof invalid - 1));
        return;
    }
    char error_json[SERVER_MAX_ERROR_JSON];
    if (nsp->handlers->admit && !nsp->handlers->admit(nsp, auth, error_json)) {
        refuse(client, nsp_name, error_json);
        return;
    }
    srv_socket *sock = socket_attach(client, nsp);
    if (client->sio->cluster) /* fetchSockets describes it with its handshake */
        sock->handshake_auth = xstrndup((const char *)auth.ptr, auth.len);
    sio_sio_server_accept(&client->proto, nsp_name, sio_span_of(sock->id, strlen(sock->id)), sock,
                          loop_now_ms());
    if (!eio_on_websocket(client->eio)) {
        if (nsp->handlers->connected) /* polling: the GET body keeps the order anyway */
            nsp->handlers->connected(sock, auth);
        return;
    }
    sock->auth = xmalloc(auth.len);
    memcpy(sock->auth, auth.ptr, auth.len);
    sock->auth_len = auth.len;
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

/* The codec closed the connection: a protocol violation (logged, and reported to the
 * application for each socket, SIO-DC-08) or the connect deadline. */
static void on_close(srv_client *client, const sio_sio_server_event *ev)
{
    if (ev->error != SIO_OK) {
        log_msg(client->sio->srv, LOG_DEBUG, "session %s: Socket.IO violation: %s",
                eio_sid(client->eio), ev->why);
        const srv_app *app = client->sio->app;
        for (srv_socket *s = client->sockets; s && app->protocol_error; s = s->client_next)
            app->protocol_error(client->sio->app_state, s, ev->why);
    }
    session *s = client->eio;
    client_release(client, sio_eio_close_reason_name(ev->reason));
    eio_flush(s);
}

/* Hands one event of the codec to the application. A handler may close the whole client
 * (disconnect-me), which frees it: the session's app_data tells. */
static void handle_event(srv_client *client, const sio_sio_server_event *ev)
{
    session *s = client->eio;
    srv_socket *sock = ev->nsp_user;
    srv_value payload = {ev->data, ev->attachments, ev->attachment_count};
    switch (ev->type) {
    case SIO_SIO_SERVER_EV_NONE:
        break;
    case SIO_SIO_SERVER_EV_CONNECT:
        on_connect(client, ev->nsp, ev->data);
        break;
    case SIO_SIO_SERVER_EV_EVENT:
        if (sock->nsp->handlers->event)
            sock->nsp->handlers->event(sock, &payload, ev->has_id, ev->id);
        break;
    case SIO_SIO_SERVER_EV_ACK:
        srv_ack_received(sock, ev->id, &payload);
        break;
    case SIO_SIO_SERVER_EV_DISCONNECT:
        socket_detach(sock, "client namespace disconnect"); /* SIO-DC-01: no reply */
        break;
    case SIO_SIO_SERVER_EV_CLOSE:
        on_close(client, ev);
        return;
    }
    if (s->app_data == client)
        reschedule(client);
    eio_flush(s);
}

static void socketio_message(session *s, bool binary, const uint8_t *p, size_t n)
{
    srv_client *client = s->app_data;
    if (client == NULL || client->closing)
        return;
    sio_sio_server_event ev;
    sio_sio_server_receive(&client->proto, binary, p, n, loop_now_ms(), &ev);
    handle_event(client, &ev);
}

const eio_app socketio_app = {socketio_open, socketio_message, socketio_close};
