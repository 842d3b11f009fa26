/* The reference client: a Socket.IO client (v5 over Engine.IO 4, or v4 over Engine.IO 3) on
 * libsiocodec's client sessions (sio/eio_client.h, sio/sio_client.h).
 *
 * The sessions hold every protocol rule; this library carries out what they ask for on real
 * connections: HTTP/1.1 requests for the long-polling transport (one keep-alive connection per
 * channel, GET and POST), WebSocket connections for the session and the upgrade probe, and the
 * timers. Byte formats (HTTP heads, chunked bodies, WebSocket frames, the accept key) are the
 * codec's too.
 *
 * Two halves:
 *  - the application side (rc_client_*, rc_join, rc_emit, ...): namespaces, emits with or
 *    without ack, answers to the server's acks, volatile emits, events through a callback;
 *  - the I/O side (rc_io and the rc_link_* functions): the client never opens a socket or reads
 *    a clock itself. rc_net.h provides the I/O side on sockets and a poll() loop (rc_loop.h); a
 *    test or a fuzzer provides its own, in memory.
 *
 * Every byte that crosses a connection can be observed through the trace callback, layer by
 * layer (TCP, HTTP, WebSocket frames and messages); siocat prints them.
 *
 * Re-entrancy: callbacks run inside rc_client_process(). They may call any application-side
 * function of the same client (emit, ack, join, leave, close); the work they cause is carried
 * out before rc_client_process() returns. */
#ifndef RC_H
#define RC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sio/sio.h"

/* ------------------------------------------------------------------ limits and defaults */

/* Path of the Socket.IO endpoint unless configured. */
#define RC_DEFAULT_PATH "/socket.io/"
/* Largest response body (after dechunking) and WebSocket message the client accepts; past it the
 * connection is given up as a transport error. socket.io-client has no limit of its own (its
 * WebSocket library takes 100 MiB); 16 MiB holds the suite's 10 MB event. */
#define RC_DEFAULT_MAX_MESSAGE (16u * 1024u * 1024u)
/* How long a connection the client is done with may take to finish: the last POST ("1") waits
 * for its answer, a closed WebSocket for the server's close frame. Then it is dropped. */
#define RC_LINGER_MS 1000u
/* Longest host name the client keeps. */
#define RC_MAX_HOST 255u

/* ------------------------------------------------------------------ configuration */

typedef enum rc_transports {
    RC_TRANSPORTS_POLLING_UPGRADE = 0, /* polling first, then WebSocket when offered (default) */
    RC_TRANSPORTS_POLLING = 1,         /* long-polling only */
    RC_TRANSPORTS_WEBSOCKET = 2        /* WebSocket only */
} rc_transports;

typedef struct rc_client rc_client;
typedef struct rc_link rc_link;
typedef struct rc_event rc_event;
typedef struct rc_trace rc_trace;
typedef struct rc_io rc_io;

typedef struct rc_config {
    const char *host; /* server name or address; the tests use 127.0.0.1 */
    uint16_t port;
    const char *path;  /* RC_DEFAULT_PATH when NULL */
    const char *query; /* extra query parameters, URL-encoded, without '?' (NULL: none) */
    int eio;           /* 4 (default when 0) or 3 */
    rc_transports transports;
    /* WebSocket only, but a connection attempt whose WebSocket fails is followed by polling
     * ones (socket.io-client's tryAllTransports). */
    bool fallback_to_polling;
    /* Reconnection, backoff, connect timeout and attachment bound, as the Socket.IO client
     * session takes them (sio_sio_client_config_init gives socket.io-client's defaults; its
     * `random` is filled in from the I/O side). */
    sio_sio_client_config session;
    size_t max_message; /* RC_DEFAULT_MAX_MESSAGE when 0 */
    void (*on_event)(rc_client *c, const rc_event *ev, void *user);
    void (*on_trace)(rc_client *c, const rc_trace *t, void *user); /* may be NULL */
    void *user;
    const rc_io *io; /* the I/O side (rc_net_io() for sockets) */
    void *io_ctx;
} rc_config;

/* Defaults: v4, polling with upgrade, RC_DEFAULT_PATH, socket.io-client's reconnection. */
void rc_config_init(rc_config *cfg);

/* ------------------------------------------------------------------ events */

typedef enum rc_event_type {
    RC_EV_OPEN = 1,                /* the Engine.IO session is open: `sid` */
    RC_EV_UPGRADE = 2,             /* the session moved to WebSocket */
    RC_EV_CONNECT = 3,             /* `nsp` joined: `sid` is its socket id */
    RC_EV_CONNECT_ERROR = 4,       /* `nsp` refused: `data` is the server's payload; or, with
                                     `retrying`, the connection attempt failed (`data`:
                                     {"message":…}) and the namespace is joined again with the
                                     next one, as socket.io-client reports it */
    RC_EV_DISCONNECT = 5,          /* `nsp` left: `reason` */
    RC_EV_EVENT = 6,               /* `data` is the array (name first), `attachments`; with
                                     `has_ack`, answer with rc_ack(nsp, ack_id, ...) */
    RC_EV_ERROR = 7,               /* a connection failed: `message` says how (the sessions then
                                     reconnect, or give up with RC_EV_CLOSED) */
    RC_EV_RECONNECT_SCHEDULED = 8, /* attempt `attempt` in `delay_ms` */
    RC_EV_RECONNECT_ATTEMPT = 9,   /* attempt `attempt` starts */
    RC_EV_RECONNECT = 10,          /* open again after `attempt` attempts */
    RC_EV_RECONNECT_FAILED = 11,   /* no attempt left */
    RC_EV_CLOSED = 12              /* nothing more will happen (connections may still linger:
                                     rc_client_idle()) */
} rc_event_type;

struct rc_event {
    rc_event_type type;
    sio_span nsp;
    sio_span sid;
    bool recovered; /* CONNECT: the server recovered the namespace's state (connection-state
                       recovery: the same pid as the one the CONNECT carried) */
    sio_span data;
    const sio_span *attachments;
    uint32_t attachment_count;
    bool has_ack;
    uint64_t ack_id;
    bool retrying;
    const char *reason;  /* DISCONNECT: socket.io-client's reason string */
    const char *message; /* ERROR */
    uint32_t attempt;
    uint64_t delay_ms;
};

/* The answer to an emit with ack: `data` is the array, with its attachments. */
typedef void (*rc_ack_fn)(rc_client *c, sio_span nsp, sio_span data, const sio_span *attachments,
                          uint32_t attachment_count, void *ctx);

/* ------------------------------------------------------------------ application side */

/* A client for `cfg` (copied, strings too); NULL when out of memory or `cfg` is invalid (`err`
 * says why). Nothing happens before rc_client_start(). */
rc_client *rc_client_new(const rc_config *cfg, char *err, size_t err_cap);
/* Opens the Engine.IO session; namespaces joined before are CONNECTed once it is open. */
sio_err rc_client_start(rc_client *c);
void rc_client_free(rc_client *c);

/* Joins `nsp` with `auth` (v5: a JSON object, or empty; v4: a URL-encoded query). */
sio_err rc_join(rc_client *c, sio_span nsp, sio_span auth);
/* Leaves `nsp`; leaving the last namespace closes the connection (as socket.io-client does). */
sio_err rc_leave(rc_client *c, sio_span nsp);

/* Flags of rc_emit. */
#define RC_EMIT_VOLATILE                                                                           \
    1u /* dropped unless the namespace is joined and the transport can take
                               it at once (no POST in flight, the WebSocket's output drained) */

/* Emits `args` (a JSON array, event name first, placeholders numbering `attachments` in order)
 * on `nsp`. Sent when joined, buffered while the namespace is connecting or the connection is
 * being re-established. With `on_ack` the server's answer is handed to it (once); pending
 * answers are forgotten when the namespace is left or the connection lost. *dropped (may be
 * NULL) tells whether a volatile emit was dropped. */
sio_err rc_emit(rc_client *c, sio_span nsp, sio_span args, const sio_span *attachments,
                uint32_t attachment_count, unsigned flags, rc_ack_fn on_ack, void *ack_ctx,
                bool *dropped);

/* Answers the server's emit-with-ack `ack_id` on `nsp`. */
sio_err rc_ack(rc_client *c, sio_span nsp, uint64_t ack_id, sio_span args,
               const sio_span *attachments, uint32_t attachment_count);

/* Leaves every namespace and closes the connection; no reconnection. */
void rc_close(rc_client *c);

/* True once the client is closed and no connection is left to finish. */
bool rc_client_idle(const rc_client *c);
sio_sio_client_state rc_client_state(const rc_client *c);
sio_eio_client_state rc_client_transport_state(const rc_client *c);
const rc_config *rc_client_config(const rc_client *c);

/* ------------------------------------------------------------------ trace */

typedef enum rc_trace_kind {
    RC_TRACE_TCP_CONNECT = 1,   /* a connection is being opened (`note`: host:port) */
    RC_TRACE_TCP_OPEN = 2,      /* ... and is open */
    RC_TRACE_TCP_CLOSE = 3,     /* a connection ended (`note`: why) */
    RC_TRACE_HTTP_REQUEST = 4,  /* sent: `head` and `body` */
    RC_TRACE_HTTP_RESPONSE = 5, /* received: `head`, `body` (dechunked), `status` */
    RC_TRACE_WS_FRAME = 6,      /* one frame: `head` the wire bytes of its header, `body` its
                                   payload (unmasked); `opcode`, `fin` */
    RC_TRACE_WS_MESSAGE = 7,    /* one whole WebSocket data message: `body`, `binary` */
    RC_TRACE_NOTE = 8           /* something the client decided (`note`) */
} rc_trace_kind;

struct rc_trace {
    rc_trace_kind kind;
    bool sent;               /* client to server */
    int link;                /* connection number, from 1 */
    sio_eio_channel channel; /* what the connection carries */
    int eio;                 /* the session's Engine.IO version */
    sio_span head;
    sio_span body;
    sio_span masked; /* WS_FRAME sent: the payload as it went on the wire */
    int status;
    uint8_t opcode;
    bool fin;
    bool binary;
    const char *content_type; /* HTTP: the body's Content-Type (NUL-terminated, may be "") */
    const char *note;
};

/* "get", "post", "websocket" or "probe". */
const char *rc_channel_name(sio_eio_channel ch);

/* ------------------------------------------------------------------ I/O side */

struct rc_io {
    /* Opens a TCP connection to host:port for `link`, then reports rc_link_connected(); an error
     * known at once is returned (an errno value) instead. */
    int (*open)(void *io_ctx, rc_link *link, const char *host, uint16_t port);
    /* `link` has bytes to write (rc_link_output). */
    void (*want_write)(void *io_ctx, rc_link *link);
    /* The client is done with `link`'s connection: close it, report nothing more. */
    void (*close)(void *io_ctx, rc_link *link);
    /* Monotonic time in milliseconds. */
    uint64_t (*now)(void *io_ctx);
    /* `n` random bytes (WebSocket keys and masks, backoff jitter). */
    void (*random)(void *io_ctx, uint8_t *out, size_t n);
};

/* What the I/O side reports. They only record what happened; rc_client_process() acts on it. */
void rc_link_connected(rc_link *link, int err); /* err: 0, or the errno of a failed connect */
void rc_link_received(rc_link *link, const uint8_t *p, size_t n);
void rc_link_closed(rc_link *link, int err); /* the peer closed (err 0) or the connection broke */

/* Bytes waiting to be written on `link`, and how many the I/O side wrote. */
sio_span rc_link_output(const rc_link *link);
void rc_link_wrote(rc_link *link, size_t n);
/* The I/O side's own pointer for a link (its socket). */
void *rc_link_io_data(const rc_link *link);
void rc_link_set_io_data(rc_link *link, void *data);

/* The end of an I/O round: acts on what arrived, fires due timers, runs the sessions and the
 * callbacks, frees finished connections. Returns the next deadline (UINT64_MAX: none). */
uint64_t rc_client_process(rc_client *c);

#endif
