/* The client's side of a Socket.IO connection (protocol v5, or v4 over Engine.IO v3), sans
 * I/O: namespaces multiplexed over one Engine.IO client session (sio/eio_client.h), CONNECT with
 * auth, acks both ways, binary attachments, and reconnection with exponential backoff.
 *
 * The caller drives the Engine.IO session as usual and forwards three of its events here: OPEN
 * (sio_sio_client_eio_open), each MESSAGE (sio_sio_client_receive) and CLOSED
 * (sio_sio_client_eio_closed). What this session sends goes into the Engine.IO session; what it
 * has for the application comes out of sio_sio_client_next_event(). Reconnection re-opens the
 * same Engine.IO session (sio_eio_client_free, then sio_eio_client_open) when its delay has
 * passed, and CONNECTs again every namespace that was joined.
 *
 * Backoff: attempt n (from 0) waits min(delay * 2^n, delay_max) ms, moved by up to
 * randomization x that value in either direction with the caller's random source, as
 * socket.io-client does; with randomization 0 the delays are exact and no random value is asked
 * for.
 *
 * Connection-state recovery (v5): a CONNECT reply with a string `pid` makes the namespace keep it,
 * and the last argument of each EVENT that follows when it is a string (the offset); the next
 * CONNECT of the namespace carries {"pid":…,"offset":…} merged with its auth (the auth's members
 * last), as socket.io-client does.
 *
 * Memory: namespaces, their buffered emits, awaited ack ids, events not yet returned (EVENTs and
 * ACKs with copies of their attachments, EVENTs kept until a CONNECT reply among them) and
 * binary packets being assembled use the configuration's sio_allocator. An event's bytes are
 * valid until the next call of sio_sio_client_next_event() or sio_sio_client_free(), however
 * many inputs came before the events were drained.
 *
 * Transition table (nsp states: PENDING = CONNECT to send or sent; JOINED; LEFT):
 *
 *   state        | input                                  | next state   | output
 *   -------------+----------------------------------------+--------------+-----------------------
 *   (none)       | open                                   | CONNECTING   | Engine.IO opened
 *   CONNECTING   | Engine.IO OPEN                         | OPEN         | CONNECT for each PENDING
 *                |                                        |              | nsp (v4: "/" is implicit);
 *                |                                        |              | CONNECT_ERROR naming the
 *                |                                        |              | error for one the Engine.IO
 *                |                                        |              | session refuses (nsp LEFT);
 *                |                                        |              | RECONNECTED after attempts
 *   CONNECTING   | connect timeout                        | RECONNECT_   | Engine.IO closed;
 *                |                                        | WAIT / CLOSED| RECONNECT_SCHEDULED
 *   any          | connect(nsp, auth)                     | same         | CONNECT when OPEN
 *   OPEN         | EVENT / BINARY_EVENT for a PENDING nsp | OPEN         | nothing yet: kept (at most
 *                |                                        |              | MAX_EARLY_EVENTS)
 *   OPEN         | CONNECT reply for nsp                  | OPEN         | the kept EVENTs (their
 *                |                                        |              | offsets taken), then
 *                |                                        |              | CONNECTED (sid; recovered
 *                |                                        |              | when its v5 `pid` is the
 *                |                                        |              | one the CONNECT carried);
 *                |                                        |              | the nsp's buffered emits
 *                |                                        |              | sent
 *   OPEN         | v5 CONNECT reply without a string sid  | OPEN         | CONNECT_ERROR (a message
 *                |                                        |              | of its own); nsp LEFT
 *   OPEN         | CONNECT_ERROR for nsp                  | OPEN         | CONNECT_ERROR; nsp LEFT
 *   OPEN         | EVENT / BINARY_EVENT for a JOINED nsp  | OPEN         | EVENT (+ ack id)
 *   OPEN         | ACK for an id the nsp awaits           | OPEN         | ACK; id forgotten
 *   OPEN         | DISCONNECT for nsp                     | OPEN         | DISCONNECTED "io server
 *                |                                        |              | disconnect"; nsp LEFT
 *   OPEN         | packet for an unknown nsp, unknown ack | OPEN         | nothing
 *   OPEN         | undecodable packet                     | RECONNECT_   | Engine.IO closed;
 *                |                                        | WAIT         | DISCONNECTED "parse error"
 *   any          | emit(nsp) JOINED / PENDING             | same         | sent / buffered
 *   any          | disconnect(nsp)                        | same         | DISCONNECT sent (JOINED);
 *                |                                        |              | DISCONNECTED "io client
 *                |                                        |              | disconnect"; nsp LEFT
 *   OPEN,        | Engine.IO CLOSED (not asked for)       | RECONNECT_   | DISCONNECTED with its
 *   CONNECTING   |                                        | WAIT / CLOSED| reason for each JOINED
 *                |                                        |              | nsp (back to PENDING;
 *                |                                        |              | ack ids of emits sent
 *                |                                        |              | forgotten, of buffered
 *                |                                        |              | ones kept; kept EVENTs
 *                |                                        |              | dropped);
 *                |                                        |              | RECONNECT_SCHEDULED, or
 *                |                                        |              | RECONNECT_FAILED + CLOSED
 *   RECONNECT_   | reconnect delay                        | CONNECTING   | RECONNECTING; Engine.IO
 *   WAIT         |                                        |              | opened again
 *   any          | close()                                | CLOSED       | DISCONNECTED "io client
 *                |                                        |              | disconnect"; Engine.IO
 *                |                                        |              | closed; CLOSED
 */
#ifndef SIO_SIO_CLIENT_H
#define SIO_SIO_CLIENT_H

#include "sio/common.h"
#include "sio/eio_client.h"
#include "sio/packet.h"

/* socket.io-client's defaults. */
#define SIO_SIO_CLIENT_DEFAULT_DELAY_MS           1000u
#define SIO_SIO_CLIENT_DEFAULT_DELAY_MAX_MS       5000u
#define SIO_SIO_CLIENT_DEFAULT_RANDOMIZATION      500u /* per mille: 0.5 */
#define SIO_SIO_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS 20000u
/* Longest namespace name, and longest auth (v5 JSON object, v4 query), a client keeps. */
#define SIO_SIO_CLIENT_MAX_NAMESPACE 256u
#define SIO_SIO_CLIENT_MAX_AUTH      4096u
/* EVENTs kept per namespace while its CONNECT reply has not come; those past it are dropped. */
#define SIO_SIO_CLIENT_MAX_EARLY_EVENTS 64u
/* Connection-state recovery: the longest `pid` or offset (a JSON string, quotes and escapes
 * included) a namespace keeps; a longer one ends recovery for the namespace (its next CONNECT
 * carries neither). */
#define SIO_SIO_CLIENT_MAX_RECOVERY_TOKEN 128u

typedef struct sio_sio_client_config {
    bool reconnection;             /* default true */
    uint32_t attempts;             /* reconnection attempts before giving up; 0 = no limit */
    uint32_t delay_ms;             /* first reconnection delay */
    uint32_t delay_max_ms;         /* cap of the delays */
    uint32_t randomization;        /* per mille of a delay it may move by (0 = exact delays) */
    uint32_t (*random)(void *ctx); /* uniform 32-bit values (needed when randomization > 0) */
    void *random_ctx;
    uint32_t connect_timeout_ms; /* the Engine.IO session must open within this time */
    uint32_t max_attachments;    /* per received packet */
    const sio_allocator *alloc;  /* NULL: libc realloc and free */
} sio_sio_client_config;

SIO_API void sio_sio_client_config_init(sio_sio_client_config *cfg);

typedef enum sio_sio_client_state {
    SIO_SIO_CLIENT_CONNECTING = 0,     /* the Engine.IO session is opening */
    SIO_SIO_CLIENT_OPEN = 1,           /* the Engine.IO session is open */
    SIO_SIO_CLIENT_RECONNECT_WAIT = 2, /* waiting for the next attempt */
    SIO_SIO_CLIENT_CLOSED = 3          /* closed by the application, or gave up */
} sio_sio_client_state;

/* Why a namespace was left (socket.io-client's reason strings). */
typedef enum sio_sio_client_reason {
    SIO_SIO_CLIENT_REASON_SERVER_DISCONNECT = 0, /* "io server disconnect" */
    SIO_SIO_CLIENT_REASON_CLIENT_DISCONNECT = 1, /* "io client disconnect" */
    SIO_SIO_CLIENT_REASON_TRANSPORT_CLOSE = 2,   /* "transport close" */
    SIO_SIO_CLIENT_REASON_TRANSPORT_ERROR = 3,   /* "transport error" */
    SIO_SIO_CLIENT_REASON_PING_TIMEOUT = 4,      /* "ping timeout" */
    SIO_SIO_CLIENT_REASON_PARSE_ERROR = 5        /* "parse error" */
} sio_sio_client_reason;

SIO_API const char *sio_sio_client_reason_name(sio_sio_client_reason r);

typedef enum sio_sio_client_event_type {
    SIO_SIO_CLIENT_EV_NONE = 0,
    SIO_SIO_CLIENT_EV_CONNECTED = 1,           /* `nsp` joined; `data` = its socket id */
    SIO_SIO_CLIENT_EV_CONNECT_ERROR = 2,       /* `nsp` refused; `data` = the server's payload */
    SIO_SIO_CLIENT_EV_EVENT = 3,               /* `data` = the array (name first), attachments;
                                                  `has_id`: answer with sio_sio_client_ack */
    SIO_SIO_CLIENT_EV_ACK = 4,                 /* the answer to an emit with ack `id` */
    SIO_SIO_CLIENT_EV_DISCONNECTED = 5,        /* `nsp` left with `reason` */
    SIO_SIO_CLIENT_EV_RECONNECT_SCHEDULED = 6, /* attempt `attempt` in `delay_ms` */
    SIO_SIO_CLIENT_EV_RECONNECTING = 7,        /* the Engine.IO session was opened again */
    SIO_SIO_CLIENT_EV_RECONNECTED = 8,         /* open again after `attempt` attempts */
    SIO_SIO_CLIENT_EV_RECONNECT_FAILED = 9,    /* no attempt left */
    SIO_SIO_CLIENT_EV_CLOSED = 10              /* nothing more will happen */
} sio_sio_client_event_type;

typedef struct sio_sio_client_event {
    sio_sio_client_event_type type;
    sio_span nsp;
    void *nsp_user; /* what connect() was given for the namespace */
    sio_span data;
    const sio_span *attachments;
    uint32_t attachment_count;
    bool has_id;
    uint64_t id;
    sio_sio_client_reason reason;
    uint32_t attempt;
    uint64_t delay_ms;
    bool recovered; /* CONNECTED: the server recovered the namespace's state (same `pid`) */
} sio_sio_client_event;

typedef struct sio_sio_client_nsp sio_sio_client_nsp;   /* a namespace (private) */
typedef struct sio_sio_client_item sio_sio_client_item; /* an event (private) */

typedef struct sio_sio_client {
    const sio_sio_client_config *cfg;
    const sio_eio_client_config *eio_cfg;
    sio_eio_client *eio;
    sio_sio_client_state state;
    uint8_t protocol;
    bool closing_for_reconnect; /* we closed Engine.IO ourselves; it is not the application's */
    sio_sio_client_reason pending_reason;
    uint32_t attempts; /* reconnection attempts since the last open */
    uint64_t reconnect_due, connect_due;
    sio_sio_client_nsp *namespaces;
    sio_sio_client_item *events, *events_tail;
    sio_sio_client_item *current;
    sio__pkt_inbox inbox;
} sio_sio_client;

/* Starts the client and opens `eio` with `eio_cfg` (both must outlive the session). */
SIO_API sio_err sio_sio_client_open(sio_sio_client *s, const sio_sio_client_config *cfg,
                                    sio_eio_client *eio, const sio_eio_client_config *eio_cfg,
                                    uint64_t now_ms);

/* Joins `nsp` (now when open, else once open). `auth`: v5 a JSON object (empty: none); v4 a
 * URL-encoded query that travels with the namespace. SIO_ERR_SIO_WRONG_STATE when the namespace
 * is already known and not LEFT; SIO_ERR_LIMIT past the bounds above; the encoder's error for a
 * name or an auth it refuses (SIO_ERR_PKT_*), in any state; when open, the Engine.IO session's
 * error if it refuses the CONNECT (the namespace is then not joined, and may be asked for again). */
SIO_API sio_err sio_sio_client_connect(sio_sio_client *s, sio_span nsp, sio_span auth, void *user,
                                       uint64_t now_ms);

/* Emits `data` (a JSON array, event name first, placeholders numbering the attachments in
 * order) to `nsp`: sent when JOINED, buffered while PENDING. With `want_ack` the next ack id of
 * the namespace is used and written to *id. SIO_ERR_SIO_NOT_JOINED for an unknown or LEFT nsp;
 * encoder errors for a payload the server would refuse. */
SIO_API sio_err sio_sio_client_emit(sio_sio_client *s, sio_span nsp, sio_span data,
                                    const sio_span *attachments, uint32_t count, bool want_ack,
                                    uint64_t *id, uint64_t now_ms);

/* Answers the server's ack request `id` with `data` (a JSON array) and attachments. */
SIO_API sio_err sio_sio_client_ack(sio_sio_client *s, sio_span nsp, uint64_t id, sio_span data,
                                   const sio_span *attachments, uint32_t count, uint64_t now_ms);

/* Leaves `nsp`: DISCONNECT sent when joined, DISCONNECTED "io client disconnect". */
SIO_API sio_err sio_sio_client_disconnect(sio_sio_client *s, sio_span nsp, uint64_t now_ms);

/* Leaves every namespace and closes the Engine.IO session; no reconnection. */
SIO_API void sio_sio_client_close(sio_sio_client *s, uint64_t now_ms);

/* The Engine.IO session's events the caller forwards. */
SIO_API void sio_sio_client_eio_open(sio_sio_client *s, uint64_t now_ms);
SIO_API void sio_sio_client_receive(sio_sio_client *s, bool binary, const uint8_t *p, size_t n,
                                    uint64_t now_ms);
SIO_API void sio_sio_client_eio_closed(sio_sio_client *s, sio_eio_close_reason reason,
                                       uint64_t now_ms);

SIO_API void sio_sio_client_timeout(sio_sio_client *s, uint64_t now_ms);
SIO_API uint64_t sio_sio_client_next_deadline(const sio_sio_client *s);
SIO_API sio_err sio_sio_client_next_event(sio_sio_client *s, sio_sio_client_event *ev);

/* The delay before reconnection attempt `attempt` (from 0) under `cfg`, with `random` as the
 * random value drawn for it (ignored when randomization is 0). */
SIO_API uint64_t sio_sio_client_backoff(const sio_sio_client_config *cfg, uint32_t attempt,
                                        uint32_t random);

SIO_API sio_sio_client_state sio_sio_client_state_of(const sio_sio_client *s);
SIO_API void sio_sio_client_free(sio_sio_client *s);

#endif
