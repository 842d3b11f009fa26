/* Socket.IO v5 on top of Engine.IO sessions: clients (one per session), namespaces, sockets,
 * rooms, broadcast, acknowledgements both ways, binary attachments, disconnect. The fixture
 * application (fixture.c) plugs in through the namespace hooks declared here. */
#ifndef REFSERVER_SIO_SERVER_H
#define REFSERVER_SIO_SERVER_H

#include "sio/json.h"
#include "sio/packet.h"

#include "eio.h"

/* Bytes of a v5 Socket.IO socket id (independent of the Engine.IO sid, EIO-HS-16). */
#define SERVER_SOCKET_ID_LEN 20u
/* Rooms one socket may join besides its own-id room. */
#define SERVER_MAX_ROOMS_PER_SOCKET 1024u
/* Over WebSocket the namespace's connection handler runs this long after the CONNECT reply was
 * written, on a later loop turn. The reply thus always leaves in a TCP segment of its own, ahead of anything
 * the handler emits: clients that attach a fresh one-shot listener after each frame (the
 * official socket.io-protocol suite's waitFor(), checklist §2.23) would otherwise lose the
 * handler's first packet when both arrive in one read. Other clients see no difference. */
#define SERVER_CONNECTION_HANDLER_DELAY_MS 2u
/* Namespaces created on demand (the fixture's /dyn-<digits>) are kept, as Node keeps them;
 * beyond this many a new dynamic name is refused as an unknown namespace. */
#define SERVER_MAX_DYNAMIC_NAMESPACES 10000u
/* Records the fixture's disconnect log keeps until a client fetches them; beyond this the
 * oldest are dropped, so a server nobody asks stays bounded. */
#define SERVER_MAX_LOG_RECORDS 10000u
/* Longest room name accepted from a client. */
#define SERVER_MAX_ROOM_NAME 1024u

struct srv_socket;
struct srv_namespace;
struct ack_wait;

/* A JSON value received from a client, with the attachments its placeholders refer to. */
typedef struct srv_value {
    sio_span json;
    const sio_span *attachments;
    uint32_t attachment_count;
} srv_value;

/* What a namespace does with its sockets (fixture.c provides them). */
typedef struct nsp_handlers {
    /* Middleware: true admits the CONNECT; false refuses with `error_json` (a JSON object
     * written into the buffer given, at most 256 bytes). */
    bool (*admit)(struct srv_namespace *nsp, sio_span auth, char *error_json);
    void (*connected)(struct srv_socket *sock, sio_span auth);
    /* An event: `payload` is the whole array (name first); has_id when the client wants an ack. */
    void (*event)(struct srv_socket *sock, const srv_value *payload, bool has_id, uint64_t id);
    /* disconnecting: rooms still joined; disconnect: rooms left. */
    void (*disconnecting)(struct srv_socket *sock, const char *reason);
    void (*disconnected)(struct srv_socket *sock, const char *reason);
} nsp_handlers;

typedef struct srv_namespace {
    struct srv_namespace *next;
    struct srv_socketio *sio;
    char *name;
    const nsp_handlers *handlers;
    struct srv_socket *sockets; /* connected sockets, newest first */
    size_t socket_count;
    uint64_t next_ack_id;  /* server -> client ack ids, from 0 (SIO-ACK-03) */
    struct ack_wait *acks; /* acks the server is waiting for */
} srv_namespace;

typedef struct srv_client {
    struct srv_socketio *sio;
    session *eio;
    int protocol;               /* Socket.IO 5, or 4 for Engine.IO v3 peers */
    struct srv_socket *sockets; /* one per joined namespace */
    timer connect_timer;        /* SIO-NSP-01 */
    bool closing;
    /* A binary packet waiting for its attachments: copies of its text and of each attachment
     * received so far, because the assembler keeps views into them. */
    sio_pkt_assembler assembler;
    sio_span slots[SIO_PKT_MAX_ATTACHMENTS_DEFAULT];
    uint8_t *pending_text;
    uint8_t *pending_attachments[SIO_PKT_MAX_ATTACHMENTS_DEFAULT];
    uint32_t pending_count;
} srv_client;

typedef struct srv_socket {
    struct srv_socket *nsp_next, *nsp_prev; /* in the namespace */
    struct srv_socket *client_next;         /* in the client */
    srv_client *client;
    srv_namespace *nsp;
    char *id;     /* v5: random; v4: sid or "<nsp>#<sid>" */
    char **rooms; /* joined rooms besides the own-id room */
    size_t room_count;
    bool connected;
    timer handler_timer; /* runs the connection handler */
    uint8_t *auth;       /* CONNECT payload kept for the handler */
    size_t auth_len;
} srv_socket;

/* A server -> client ack the server waits for: one socket (server-ack), or every socket that
 * got a broadcast (bc-ack, SIO-ACK-05). */
typedef enum ack_kind { ACK_PLAIN = 0, ACK_WITH_TIMEOUT = 1, ACK_BROADCAST = 2 } ack_kind;

typedef struct ack_wait {
    struct ack_wait *next;
    srv_namespace *nsp;
    uint64_t id;
    ack_kind kind;
    srv_socket *requester; /* told the result; NULL once it left */
    srv_socket **expected; /* sockets that have not answered; NULL entries answered/left */
    size_t expected_count, pending;
    buf responses; /* broadcast: JSON texts of first arguments, comma-separated */
    size_t response_count;
    timer timeout;
} ack_wait;

typedef struct srv_socketio {
    server *srv;
    srv_namespace *namespaces;
    size_t namespace_count;
    char **log;                  /* fixture disconnect log: a ring of JSON records */
    size_t log_first, log_count; /* oldest record, records held */
} srv_socketio;

srv_socketio *srv_socketio_new(server *srv);
void srv_socketio_free(srv_socketio *sio);

/* ------------------------------------------------------------------ outgoing payloads */

/* One element of an outgoing payload array. */
typedef enum item_kind {
    ITEM_VALUE,  /* a received JSON value (placeholders renumbered, attachments carried) */
    ITEM_REST,   /* the elements of a received array from index `from` on ("...args") */
    ITEM_RAW,    /* JSON text written as is */
    ITEM_STRING, /* a UTF-8 string */
    ITEM_BINARY  /* bytes, sent as an attachment */
} item_kind;

typedef struct payload_item {
    item_kind kind;
    srv_value value; /* ITEM_VALUE, ITEM_REST */
    size_t from;     /* ITEM_REST */
    sio_span bytes;  /* ITEM_RAW, ITEM_STRING, ITEM_BINARY */
} payload_item;

/* An encoded Socket.IO packet ready to be written to any number of clients. */
typedef struct srv_packet {
    buf text;              /* the packet text */
    sio_span *attachments; /* in placeholder order; views into the items' buffers */
    uint32_t attachment_count;
} srv_packet;

/* Encodes EVENT `event` (or, when event is NULL, ACK) with the items as payload array. */
bool srv_packet_encode(srv_packet *out, srv_namespace *nsp, const char *event,
                       const payload_item *items, size_t n, bool has_id, uint64_t id);
void srv_packet_free(srv_packet *out);
void srv_packet_send(const srv_packet *out, srv_client *client);

/* Emits to one socket; with `ack` the server waits for an answer (sio_ack.c). */
void srv_emit(srv_socket *sock, const char *event, const payload_item *items, size_t n);
bool srv_emit_volatile(srv_socket *sock, const char *event, const payload_item *items, size_t n);
void srv_ack_reply(srv_socket *sock, uint64_t id, const payload_item *items, size_t n);

/* ------------------------------------------------------------------ rooms and broadcast */

bool srv_socket_in_room(const srv_socket *sock, const char *room);
bool srv_socket_join(srv_socket *sock, const char *room);
void srv_socket_leave(srv_socket *sock, const char *room);
/* Writes ["<own id>","r1",…] into `out` (appended). */
void srv_socket_rooms_json(const srv_socket *sock, buf *out);

/* A broadcast target: sockets of `nsp` in any of `rooms` (all when room_count is 0), minus
 * those in any of `except` rooms, minus `skip` (the sender, or NULL). Each once (SIO-BC-04). */
typedef struct broadcast_target {
    srv_namespace *nsp;
    const char *const *rooms;
    size_t room_count;
    const char *const *except;
    size_t except_count;
    const srv_socket *skip;
} broadcast_target;

bool broadcast_includes(const broadcast_target *t, const srv_socket *sock);
/* Encodes once and writes the same bytes to every target socket (SIO-BC-06). */
void srv_broadcast(const broadcast_target *t, const char *event, const payload_item *items,
                   size_t n);

/* ------------------------------------------------------------------ acks and disconnect */

/* Emits `event` with a fresh ack id to every socket in the target (one socket for a plain ack)
 * and waits; the result goes to `requester` through the fixture's ack_result hooks. */
void srv_emit_with_ack(const broadcast_target *t, srv_socket *requester, ack_kind kind,
                       uint64_t timeout_ms, const char *event, const payload_item *items, size_t n);
void srv_ack_received(srv_socket *sock, uint64_t id, const srv_value *payload);
void srv_acks_forget_socket(srv_socket *sock);
void srv_acks_free(srv_namespace *nsp);

/* Server-side disconnect: one namespace (sends DISCONNECT, SIO-DC-03) or the whole connection
 * (DISCONNECT for each namespace, then the Engine.IO close, SIO-DC-04). */
void srv_socket_disconnect(srv_socket *sock, bool close_connection);

/* fixture.c */
const nsp_handlers *fixture_handlers_for(const char *nsp_name, bool *dynamic_ok);
void fixture_ack_result(srv_socket *requester, ack_kind kind, bool timed_out,
                        const srv_value *reply, const buf *responses, size_t response_count);
void fixture_log_error(srv_client *client, const char *message);

/* JSON helpers (sio_emit.c) */
bool json_string_dup(sio_span token, char *out, size_t cap); /* unescaped, NUL-terminated */
sio_span json_array_at(sio_span array, size_t index);        /* empty span when absent */

#endif
