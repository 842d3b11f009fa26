/* The server's side of one Socket.IO connection (protocol v5, and v4 over Engine.IO v3), sans
 * I/O: namespaces joined with CONNECT and left with DISCONNECT, binary packets reassembled from
 * their attachments, acknowledgements matched both ways, the connect deadline, and the close
 * rules of REQUIREMENTS.md ERR-03 (any protocol violation closes the whole connection).
 *
 * It sits on an Engine.IO server session (sio/eio_server.h): the caller hands it each message
 * event of that session (sio_sio_server_receive) and gets back at most one event for the
 * application; everything the session sends or closes goes into the Engine.IO session, whose
 * events the caller then drains as usual. Which namespaces exist, who may join and what an
 * event means is the application's business: the session reports a CONNECT and the
 * application answers with sio_sio_server_accept or sio_sio_server_refuse.
 *
 * Memory: the struct is the caller's; joined namespaces, awaited ack ids and the text and
 * attachments of a binary packet still being assembled are allocated through the
 * configuration's sio_allocator (libc when NULL). The bytes of an event (namespace, data,
 * attachments) stay valid until the next call of receive() or timeout(), or free().
 *
 * Transition table ("nsp" = the namespace a packet names; violation = the Engine.IO session is
 * closed and the event CLOSE reports why; the application then drops every namespace):
 *
 *   state      | input                                    | next state | output
 *   -----------+------------------------------------------+------------+--------------------------
 *   (none)     | open, v5                                 | WAITING    | connect deadline set
 *   (none)     | open, v4                                 | WAITING    | CONNECT "/" with {} (v4
 *              |                                          |            | clients are in "/" at once)
 *   WAITING,   | CONNECT nsp not joined                   | same       | CONNECT event (auth object;
 *   JOINED     |                                          |            | v4: the query as an object)
 *   any        | accept(nsp)                              | JOINED     | CONNECT reply (v5 with sid);
 *              |                                          |            | connect deadline cleared
 *   any        | refuse(nsp, error)                       | same       | CONNECT_ERROR with error
 *   JOINED     | CONNECT nsp joined                       | CLOSED     | violation "duplicate CONNECT"
 *   JOINED     | EVENT / BINARY_EVENT nsp joined          | JOINED     | EVENT event (+ ack id)
 *   JOINED     | ACK / BINARY_ACK nsp joined, id awaited  | JOINED     | ACK event; id forgotten
 *   JOINED     | ACK, id not awaited (unknown, replayed)  | JOINED     | nothing (SIO-ACK-03)
 *   JOINED     | DISCONNECT nsp joined                    | JOINED     | DISCONNECT event; nsp left
 *   any open   | packet for nsp not joined                | CLOSED     | violation
 *   any open   | CONNECT_ERROR from the client            | CLOSED     | violation
 *   any open   | namespace longer than max_namespace      | CLOSED     | violation
 *   any open   | undecodable packet, attachment error     | CLOSED     | violation (codec's message)
 *   any open   | binary packet header                     | same       | nothing until the last
 *              |                                          |            | attachment has arrived
 *   WAITING    | connect deadline                         | CLOSED     | CLOSE "forced close"
 *   any open   | disconnect(nsp)                          | same       | DISCONNECT sent; nsp left
 *   any open   | close()                                  | CLOSED     | Engine.IO session closed
 *   any open   | the Engine.IO session ended              | CLOSED     | (the caller frees both)
 *
 * "any open" = WAITING or JOINED. Violations close with Node's reason for a server-side close:
 * "forced close" over WebSocket, "forced server close" over polling (SIO-DC-05).
 */
#ifndef SIO_SIO_SERVER_H
#define SIO_SIO_SERVER_H

#include "sio/common.h"
#include "sio/eio_server.h"
#include "sio/packet.h"

/* ------------------------------------------------------------------ limits */

/* A client that joins no namespace within this time is closed (connectTimeout, SIO-NSP-01). */
#define SIO_SIO_SERVER_DEFAULT_CONNECT_TIMEOUT_MS 45000u
/* Longest namespace name accepted from a client; longer ones close the connection. */
#define SIO_SIO_SERVER_DEFAULT_MAX_NAMESPACE 256u

typedef struct sio_sio_server_config {
    uint32_t connect_timeout_ms; /* SIO_SIO_SERVER_DEFAULT_CONNECT_TIMEOUT_MS */
    uint32_t max_namespace;      /* bytes; SIO_SIO_SERVER_DEFAULT_MAX_NAMESPACE */
    uint32_t max_attachments;    /* per packet; SIO_PKT_MAX_ATTACHMENTS_DEFAULT */
    const sio_allocator *alloc;  /* NULL: libc realloc and free */
} sio_sio_server_config;

SIO_API void sio_sio_server_config_init(sio_sio_server_config *cfg);

/* ------------------------------------------------------------------ events */

typedef enum sio_sio_server_state {
    SIO_SIO_SERVER_WAITING = 0, /* no namespace joined yet (the connect deadline runs) */
    SIO_SIO_SERVER_JOINED = 1,  /* a namespace was joined (leaving them all changes nothing) */
    SIO_SIO_SERVER_CLOSED = 2   /* closed (violation, deadline, close(), or Engine.IO ended) */
} sio_sio_server_state;

typedef enum sio_sio_server_event_type {
    SIO_SIO_SERVER_EV_NONE = 0,       /* nothing for the application */
    SIO_SIO_SERVER_EV_CONNECT = 1,    /* the client asks to join `nsp`; `data` = auth object.
                                         Answer with accept() or refuse() */
    SIO_SIO_SERVER_EV_EVENT = 2,      /* `data` = the payload array (event name first) with its
                                         `attachments`; `has_id`: the client wants an ack `id` */
    SIO_SIO_SERVER_EV_ACK = 3,        /* the answer to an emit that awaited ack `id`; `data` =
                                         the arguments array ("[]" when it had none) */
    SIO_SIO_SERVER_EV_DISCONNECT = 4, /* the client left `nsp` ("client namespace disconnect") */
    SIO_SIO_SERVER_EV_CLOSE = 5       /* the connection ends: `why`, `error` (a violation) or the
                                         connect deadline; the Engine.IO session was closed.
                                         Every namespace is left with `reason` */
} sio_sio_server_event_type;

typedef struct sio_sio_server_event {
    sio_sio_server_event_type type;
    sio_span nsp;   /* the namespace's name */
    void *nsp_user; /* what the application gave accept() for it (EVENT, ACK, DISCONNECT) */
    sio_span data;
    const sio_span *attachments;
    uint32_t attachment_count;
    bool has_id;
    uint64_t id;
    sio_err error;               /* CLOSE: the violation's code (SIO_OK for the deadline) */
    const char *why;             /* CLOSE: what the client did wrong, in words */
    sio_eio_close_reason reason; /* CLOSE: the reason every namespace is left with */
} sio_sio_server_event;

/* ------------------------------------------------------------------ session */

typedef struct sio_sio_nsp sio_sio_nsp; /* a joined namespace (private) */

/* Session state. Fields are private: use the functions below. */
typedef struct sio_sio_server {
    const sio_sio_server_config *cfg;
    sio_eio_server *eio;
    sio_sio_server_state state;
    uint8_t protocol; /* 5, or 4 */
    uint64_t connect_due;
    sio_sio_nsp *namespaces; /* joined, newest first */
    sio__pkt_inbox inbox;
    uint8_t *scratch; /* the v4 CONNECT query as JSON; freed on the next call */
} sio_sio_server;

/* Starts the Socket.IO side of an Engine.IO session that has just opened (v5 over Engine.IO v4,
 * v4 over v3). *ev is NONE, or for v4 the CONNECT to "/" every v4 client makes implicitly
 * (SIO-PKT-19 a). `cfg` and `eio` must outlive the session. */
SIO_API sio_err sio_sio_server_open(sio_sio_server *s, const sio_sio_server_config *cfg,
                                    sio_eio_server *eio, uint64_t now_ms, sio_sio_server_event *ev);

/* One message of the Engine.IO session (text or binary). At most one event out. After CLOSE,
 * further messages give NONE. */
SIO_API void sio_sio_server_receive(sio_sio_server *s, bool binary, const uint8_t *p, size_t n,
                                    uint64_t now_ms, sio_sio_server_event *ev);

/* The answer to a CONNECT event: join `nsp` and reply CONNECT (v5 with {"sid":sid}). `user`
 * comes back in every event of the namespace. SIO_ERR_SIO_WRONG_STATE when already joined or
 * closed. */
SIO_API sio_err sio_sio_server_accept(sio_sio_server *s, sio_span nsp, sio_span sid, void *user,
                                      uint64_t now_ms);
/* ... or refuse it: CONNECT_ERROR with `error_json` as the payload (v5: an object with
 * "message"; v4 clients expect the message alone, as a JSON string). */
SIO_API sio_err sio_sio_server_refuse(sio_sio_server *s, sio_span nsp, sio_span error_json);

/* Sends a packet encoded once (sio_pkt_encode) to this connection: the text, then each
 * attachment as a binary message. `nsp` must be joined (SIO_ERR_SIO_NOT_JOINED otherwise);
 * `await_id`: an ACK with `id` is expected in the namespace (reported once). Errors of
 * sio_eio_server_send. */
SIO_API sio_err sio_sio_server_send(sio_sio_server *s, sio_span nsp, sio_span text,
                                    const sio_span *attachments, uint32_t count, bool await_id,
                                    uint64_t id, uint64_t now_ms);

/* Encodes and sends EVENT (ACK when `ack`) with payload `data` (a JSON array whose
 * placeholders number the attachments in order); BINARY_* when there are attachments. */
SIO_API sio_err sio_sio_server_emit(sio_sio_server *s, sio_span nsp, bool ack, sio_span data,
                                    const sio_span *attachments, uint32_t count, bool has_id,
                                    uint64_t id, uint64_t now_ms);

/* An awaited ack id will not be answered any more (the server's wait timed out). */
SIO_API void sio_sio_server_forget_ack(sio_sio_server *s, sio_span nsp, uint64_t id);

/* Server-side namespace disconnect (SIO-DC-03): DISCONNECT sent, the namespace left. */
SIO_API sio_err sio_sio_server_disconnect(sio_sio_server *s, sio_span nsp, uint64_t now_ms);

/* Closes the connection (the Engine.IO session, after what is queued). */
SIO_API void sio_sio_server_close(sio_sio_server *s, uint64_t now_ms);

/* The connect deadline: CLOSE "forced close" when no namespace was joined in time. */
SIO_API void sio_sio_server_timeout(sio_sio_server *s, uint64_t now_ms, sio_sio_server_event *ev);
SIO_API uint64_t sio_sio_server_next_deadline(const sio_sio_server *s);

SIO_API sio_sio_server_state sio_sio_server_state_of(const sio_sio_server *s);
SIO_API int sio_sio_server_protocol(const sio_sio_server *s);
/* Whether `nsp` is joined. */
SIO_API bool sio_sio_server_joined(const sio_sio_server *s, sio_span nsp);

/* Releases the session's memory (call when the Engine.IO session has ended, or after CLOSE). */
SIO_API void sio_sio_server_free(sio_sio_server *s);

#endif
