/* Engine.IO on the reference server: an I/O adapter over the codec's server sessions
 * (sio/eio_server.h). The codec decides every protocol step; this layer routes requests and
 * WebSocket messages to the session the sid names, maps the session's channels (held GET, POST,
 * WebSocket, probe) to connections, carries out its events (HTTP responses, WebSocket frames
 * and closes), keeps one timer per session on its next deadline, and hands messages and closes
 * to the application on top (Socket.IO, or the echo application). */
#ifndef REFSERVER_EIO_H
#define REFSERVER_EIO_H

#include "sio/eio_server.h"

#include "server.h"

struct session;

/* What an application on top of Engine.IO sees (app_echo.c, sio_server.c). */
typedef struct eio_app {
    void (*open)(struct session *s);
    /* One message; `p` is valid only during the call. */
    void (*message)(struct session *s, bool binary, const uint8_t *p, size_t n);
    /* The session is gone (not called when the application itself asked for the close). */
    void (*close)(struct session *s, const char *reason);
} eio_app;

typedef struct session {
    sio_eio_server eio; /* the protocol state (codec) */
    server *srv;
    struct session *hash_next; /* sessions by sid */
    const eio_app *app;
    void *app_data;
    conn *channel[4]; /* the connection carrying each sio_eio_channel, or NULL */
    timer deadline;   /* fires at sio_eio_server_next_deadline() */
    deferred flush;   /* its events, at the end of the round (eio_flush) */
    bool draining;    /* its events are being carried out (see drain()) */
    char *handshake;  /* in a cluster: handshake_facts() of its first request */
} session;

/* Called by the HTTP layer for a request under an Engine.IO path. */
void eio_handle_request(conn *c, const sio_http_request *req, app_kind app);
/* The whole body of a POST that eio_handle_request accepted has arrived. */
void eio_handle_post_body(conn *c, const uint8_t *body, size_t n);
/* A complete WebSocket data message on a connection that carries (or probes) a session. */
void eio_ws_message(conn *c, bool text, const uint8_t *p, size_t n);
/* A connection carrying a session is going away (peer closed, error, shutdown). */
void eio_conn_lost(session *s, conn *c);

/* For the application. What it sends leaves at the end of the loop round (or, from inside the
 * session's own message handler, right after the handler returns). */
void eio_send(session *s, bool binary, const uint8_t *p, size_t n);
/* The application talked to the codec session directly (the Socket.IO layer does): carry out
 * its events at the end of the round. */
void eio_flush(session *s);
void eio_close(session *s);          /* flush what is queued, then close */
bool eio_writable(const session *s); /* a message sent now leaves at once */
bool eio_on_websocket(const session *s);
int eio_protocol(const session *s); /* 4, or 3 */
const char *eio_sid(const session *s);
session *eio_find(server *srv, const uint8_t *sid, size_t len);
/* Fills srv->eio_cfg from srv->cfg (before the first request). */
void eio_configure(server *srv);
void eio_close_all(server *srv); /* shutdown */

/* Applications (app_echo.c, sio_server.c). */
extern const eio_app echo_app;
extern const eio_app socketio_app;

#endif
