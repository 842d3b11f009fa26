/* The reference server: one thread, one poll() loop (loop.c), TCP connections carrying HTTP/1.1
 * requests or a WebSocket (net.c, http_serve.c, ws_transport.c), Engine.IO sessions on top of
 * them (the codec's sessions, carried by eio_adapter.c), the Engine.IO echo application (app_echo.c),
 * Socket.IO on top of Engine.IO (sio_server.c, sio_emit.c, sio_ack.c) and the fixture
 * application (fixture.c). Every byte format comes from libsiocodec.
 *
 * Re-entrancy rule: a connection is never freed inside a call chain that may still use it
 * (conn_close_after_write closes from a timer), and a session is freed only by the loop that
 * carries out its events, after its CLOSED event (eio_adapter.c, drain()).
 *
 * Ownership: the server owns connections and sessions; a session points at the connections that
 * currently carry it (held GET, POST in progress, WebSocket, probing WebSocket) and each such
 * connection points back at its session, so either side can be torn down first.
 */
#ifndef REFSERVER_SERVER_H
#define REFSERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sio/eio_server.h"
#include "sio/sio_server.h"
#include "sio/http.h"
#include "sio/packet.h"
#include "sio/ws.h"

#include "buf.h"
#include "loop.h"

/* ------------------------------------------------------------------ defaults */

/* The command line's defaults (main.c prints them in --help). */
#define SERVER_DEFAULT_HOST               "127.0.0.1"
#define SERVER_DEFAULT_PORT               3000u
#define SERVER_DEFAULT_PATH               "/socket.io/"
#define SERVER_DEFAULT_ECHO_PATH          "/engine.io/"
#define SERVER_DEFAULT_PING_INTERVAL_MS   SIO_EIO_SERVER_DEFAULT_PING_INTERVAL_MS
#define SERVER_DEFAULT_PING_TIMEOUT_MS    SIO_EIO_SERVER_DEFAULT_PING_TIMEOUT_MS
#define SERVER_DEFAULT_MAX_PAYLOAD        SIO_EIO_DEFAULT_MAX_PAYLOAD
#define SERVER_DEFAULT_CONNECT_TIMEOUT_MS SIO_SIO_SERVER_DEFAULT_CONNECT_TIMEOUT_MS
#define SERVER_DEFAULT_UPGRADE_TIMEOUT_MS SIO_EIO_SERVER_DEFAULT_UPGRADE_TIMEOUT_MS
#define SERVER_DEFAULT_CORS_ORIGIN        "*"
/* A cluster's channel prefix and requests timeout: Node's redis-adapter's defaults. */
#define SERVER_DEFAULT_ADAPTER_KEY                 "socket.io"
#define SERVER_DEFAULT_ADAPTER_REQUESTS_TIMEOUT_MS 5000u

/* ------------------------------------------------------------------ named bounds */

/* Largest value of a time option (one day), of --max-payload, of --max-connections, of --port. */
#define SERVER_MAX_TIME_MS           86400000u
#define SERVER_MAX_PAYLOAD_LIMIT     (1u << 30)
#define SERVER_MAX_CONNECTIONS_LIMIT (1u << 30)
#define SERVER_MAX_PORT              65535u

/* Bytes read from a socket per read() call. */
#define SERVER_READ_CHUNK 16384u
/* Emptied buffer blocks of BUF_FIRST_BLOCK bytes kept for reuse (buf_keep_blocks): a broadcast's
 * round fills one per receiver; at most this many (1 MiB) stay allocated when they are emptied. */
#define SERVER_KEPT_FIRST_BLOCKS 4096u
/* A connection whose unsent output grows past this is too slow a reader: it is dropped. Large
 * enough for a few max-size payloads. */
#define SERVER_MAX_PENDING_OUTPUT(cfg) ((size_t)(cfg)->max_payload * 4u + 1048576u)
/* Unprocessed input a connection may hold: one request head and a max-size body, plus what
 * a client may pipeline behind a held GET. */
#define SERVER_MAX_INPUT(cfg)                                                                      \
    ((size_t)(cfg)->max_payload + SIO_HTTP_DEFAULT_MAX_HEAD_BYTES + 65536u)
/* Above this much unsent output the server stops reading from the connection (backpressure). */
#define SERVER_OUTPUT_HIGH_WATER 262144u
/* Engine.IO sessions are found by sid in a chained hash table of this many buckets. */
#define SERVER_SESSION_BUCKETS 16384u
/* Bytes of an Engine.IO sid (base64url of 15 random bytes). */
#define SERVER_SID_LEN            20u
#define SERVER_MAX_INITIAL_PACKET 1000u /* bytes of --initial-packet */
/* An HTTP connection must complete its next request (head and body) within this time, and an
 * idle keep-alive connection is closed after it; held GETs and WebSockets are exempt (the
 * Engine.IO heartbeat watches them). Stops slow or silent clients from pinning descriptors. */
#define SERVER_HTTP_IDLE_MS 30000u
/* A socket the server has decided to close gets this long to flush its output. */
#define SERVER_LINGER_MS 2000u
/* Maximum length of --path and of a namespace name we accept. */
#define SERVER_MAX_PATH 256u

typedef enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 } log_level;

typedef enum app_kind { APP_SOCKETIO = 0, APP_ENGINEIO_ECHO = 1 } app_kind;

typedef struct server_config {
    const char *host;
    int port;
    const char *path;       /* main endpoint, e.g. "/socket.io/" */
    const char *echo_path;  /* extra Engine.IO echo endpoint ("" = none) */
    uint32_t ping_interval; /* ms */
    uint32_t ping_timeout;  /* ms */
    uint32_t max_payload;   /* bytes */
    uint32_t connect_timeout;
    uint32_t upgrade_timeout; /* ms a started WebSocket upgrade may take (--upgrade-timeout) */
    uint32_t max_connections;
    bool allow_eio3;
    bool deterministic; /* ids from counters instead of the random source (--deterministic) */
    const char
        *initial_packet; /* echo endpoint: message sent right after the open packet, or NULL */
    app_kind app;
    log_level log_level;
    const char *cors_origin; /* NULL or "" = no CORS headers */
    /* A cluster (conformance/FIXTURE.md section 8): the Redis URL (NULL = a server of its own),
     * the channel prefix, how long a cluster-wide request waits, and whether answers go to the
     * asking node's own response channel. */
    const char *adapter_url;
    const char *adapter_key;
    uint32_t adapter_requests_timeout;
    bool adapter_specific_response;
    const char *adapter_uid; /* the node's uid (recordings); NULL = drawn at random */
} server_config;

struct session;
struct server;

/* ------------------------------------------------------------------ connections */

typedef enum conn_state {
    CONN_HTTP_HEAD = 0, /* reading a request head */
    CONN_HTTP_BODY,     /* reading a POST body of known length */
    CONN_HELD_GET,      /* a long-poll GET waiting for packets */
    CONN_WEBSOCKET,     /* upgraded */
    CONN_CLOSING        /* flushing output, then closed */
} conn_state;

typedef struct conn {
    struct server *srv;
    int fd;
    uint64_t id;
    conn_state state;
    buf in;
    buf out;
    sio_http_parser http;
    size_t head_len;          /* parsed head length while reading a body */
    uint64_t body_len;        /* expected body length */
    uint64_t skip_bytes;      /* body bytes of an answered request still to be discarded */
    bool keep_alive;          /* after the current response */
    bool read_paused;         /* backpressure */
    bool await_peer_close;    /* CONN_CLOSING: a WebSocket waiting for the peer's close */
    bool head_request;        /* the current request is HEAD: its answer has a head only */
    struct session *session;  /* the session this connection carries, if any */
    uint8_t channel;          /* ... as this sio_eio_channel */
    struct ws_state *ws;      /* WebSocket state, once upgraded */
    timer linger;             /* HTTP idle deadline, then the CONN_CLOSING deadline */
    deferred end_of_round;    /* what waits for the end of the poll round: */
    bool input_waits;         /* ... input (http_serve.c), */
    bool close_waits;         /* ... or the close of a connection with nothing left to write */
    deferred flush;           /* output written at the end of the round, in one write() */
    struct conn *next, *prev; /* all connections, for shutdown */
} conn;

/* WebSocket state of an upgraded connection. */
typedef struct ws_state {
    sio_ws_parser parser;
    buf message; /* the data message being assembled */
    bool message_text;
    bool close_sent;
    bool close_received;
    bool failed; /* the peer broke the protocol: its further bytes are discarded */
} ws_state;

/* ------------------------------------------------------------------ server */

typedef struct server {
    server_config cfg;
    event_loop loop;
    int listen_fd;
    uint64_t next_conn_id;
    size_t conn_count;
    conn *conns;
    sio_eio_server_config eio_cfg[2]; /* Engine.IO of the Socket.IO and the echo endpoint */
    struct session *sessions[SERVER_SESSION_BUCKETS];
    size_t session_count;
    struct srv_socketio *sio;
    const struct srv_app *app; /* the application on the Socket.IO endpoint (app.h) */
    void *app_state;
    int random_fd;
    uint32_t sids_issued;       /* --deterministic: Engine.IO sessions created so far */
    uint32_t socket_ids_issued; /* --deterministic: Socket.IO v5 socket ids handed out so far */
    int port;                   /* the port listened on, once listening */
    volatile int stop;
    bool shutting_down; /* set by eio_close_all: no new session from then on */
} server;

/* log.c */
void log_msg(const server *srv, log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* net.c */
int net_listen(server *srv);
void net_close_all(server *srv);
void conn_write(conn *c, const void *data, size_t len);
void conn_close(conn *c); /* immediately */
void conn_close_after_write(conn *c);
void conn_resume_reading(conn *c); /* after a state change, process buffered input */
void server_random_bytes(server *srv, uint8_t *out, size_t n);

/* http_serve.c */
void http_handle_input(conn *c);
void http_respond(conn *c, int status, const char *content_type, const void *body, size_t len);
void http_respond_error(conn *c, int status, int code, const char *message);
void http_respond_raw_400(conn *c, const char *message);     /* refused WebSocket upgrade */
void http_expect_body(conn *c, const sio_http_request *req); /* the body is needed first */
void http_hold(conn *c);           /* the handler answers later (long-poll GET) */
void http_deferred_input(conn *c); /* at the end of the round */
/* Queues the connection's input for the end of the round. */
void conn_defer_input(conn *c);

/* handshake.c: in a cluster, the facts of a session's first request as the members of Node's
 * socket.handshake without `auth` (JSON members, no braces); and a JSON string appended to a
 * buffer. */
char *handshake_facts(const conn *c, const sio_http_request *req);
void json_append_string(buf *out, const void *s, size_t n);

/* ws_transport.c */
/* Writes the 101 with the accept key the codec computed (sio_eio_request_read). */
void ws_accept_upgrade(conn *c, const char *accept_key);
void ws_handle_input(conn *c);
void ws_send_text(conn *c, const void *data, size_t len);
void ws_send_binary(conn *c, const void *data, size_t len);
void ws_send_close(conn *c, uint16_t code);
/* Input on a WebSocket we are closing: wait for the peer's close frame (closing handshake). */
void ws_drain_input(conn *c);

#endif
