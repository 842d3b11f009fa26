/* Engine.IO sessions (protocol v4, and v3 with --allow-eio3): handshake, polling and WebSocket
 * transports, upgrade, heartbeat, close. The application on top (Socket.IO or the echo app)
 * sees opened sessions, whole messages and closes with a reason (checklist SIO-DC-05 names). */
#ifndef REFSERVER_EIO_H
#define REFSERVER_EIO_H

#include "sio/eio.h"

#include "server.h"

typedef enum eio_transport { EIO_POLLING = 0, EIO_WEBSOCKET = 1 } eio_transport;

typedef enum eio_upgrade_state {
    UPGRADE_NONE = 0, /* no second transport */
    UPGRADE_PROBING,  /* a WebSocket with this sid is open, "2probe" not yet seen */
    UPGRADE_PROBED,   /* "3probe" sent; waiting for "5" */
    UPGRADE_DONE      /* the session moved to the WebSocket */
} eio_upgrade_state;

/* A packet waiting for the next polling GET. */
typedef struct out_packet {
    struct out_packet *next;
    uint8_t type; /* sio_eio_type */
    bool binary;
    size_t len;
    uint8_t data[];
} out_packet;

struct session;

typedef struct eio_app {
    void (*open)(struct session *s);
    /* One message packet; `p` is valid only during the call. */
    void (*message)(struct session *s, bool binary, const uint8_t *p, size_t n);
    /* The session is gone (not called when the application itself asked for the close). */
    void (*close)(struct session *s, const char *reason);
} eio_app;

typedef struct session {
    server *srv;
    struct session *hash_next;
    char sid[SERVER_SID_LEN + 1];
    int protocol; /* 4, or 3 */
    bool b64;     /* binary as base64 text (query b64) */
    const eio_app *app;
    void *app_data;
    eio_transport transport;
    eio_upgrade_state upgrade;
    conn *get;   /* held long-poll GET */
    conn *post;  /* POST whose body is being received */
    conn *ws;    /* active WebSocket */
    conn *probe; /* WebSocket being probed for an upgrade */
    out_packet *queue_head, *queue_tail;
    size_t queue_count;
    timer ping_timer;    /* v4: next ping due */
    timer timeout_timer; /* v4: pong due; v3: client ping due */
    timer upgrade_timer; /* probing WebSocket must finish the upgrade */
    bool closing;        /* the application closed it; deliver what is queued, then "1" */
    bool in_dispatch;    /* delivering received packets; closing is deferred */
    bool deferred_app_close;
    const char *deferred_reason; /* a termination requested during dispatch */
    uint8_t deferred_reply;
    bool jsonp;        /* JSONP polling (query j): bodies wrapped / form-encoded */
    char *jsonp_index; /* the digits of j */
} session;

/* Called by the HTTP layer for a request under an Engine.IO path. */
void eio_handle_request(conn *c, const sio_http_request *req, app_kind app);
/* The whole body of a POST that eio_handle_request accepted has arrived. */
void eio_handle_post_body(conn *c, const sio_http_request *req, const uint8_t *body, size_t n);
/* A complete WebSocket data message on a connection that carries (or probes) a session. */
void eio_ws_message(conn *c, bool text, const uint8_t *p, size_t n);
/* A connection carrying a session is going away (peer closed, error, shutdown). */
void eio_conn_lost(session *s, conn *c);

/* For the application. */
void eio_send(session *s, bool binary, const uint8_t *p, size_t n);
void eio_close(session *s); /* flush what is queued, then close */
session *eio_find(server *srv, const uint8_t *sid, size_t len);
void eio_close_all(server *srv); /* shutdown */

/* Shared by the eio_*.c files. */
session *eio_session_new(server *srv, int protocol, bool b64, app_kind app);
void eio_heartbeat_start(session *s);
void eio_send_packet(session *s, uint8_t type, bool binary, const uint8_t *p, size_t n);
void eio_ws_send_packet(session *s, conn *ws, uint8_t type, bool binary, const uint8_t *p,
                        size_t n);
void eio_flush(session *s);
void eio_terminate(session *s, const char *reason, uint8_t get_reply);
void eio_release_get(session *s, uint8_t type);
void eio_dispatch_begin(session *s);
void eio_dispatch_end(session *s); /* may free the session */
void eio_on_pong(session *s);
void eio_receive_packet(session *s, const sio_eio_packet *pkt);
void eio_deliver_message(session *s, const sio_eio_packet *pkt);
void eio_on_v3_ping(session *s);

/* Applications (app_echo.c, sio_server.c). */
extern const eio_app echo_app;
extern const eio_app socketio_app;

#endif
