/* Socket.IO v5 on top of Engine.IO sessions: clients (one per session), namespaces, sockets,
 * rooms, broadcast, acknowledgements both ways, binary attachments, disconnect. The fixture
 * application (fixture.c) plugs in through the namespace hooks declared here. */
#ifndef REFSERVER_SIO_SERVER_H
#define REFSERVER_SIO_SERVER_H

#include "sio/json.h"
#include "sio/packet.h"

#include "eio.h"

/* Bytes of a v5 Socket.IO socket id (independent of the Engine.IO sid, EIO-HS-16). */
#define SIO_SOCKET_ID_LEN 20u
/* Rooms one socket may join besides its own-id room. */
#define SIO_MAX_ROOMS_PER_SOCKET 1024u
/* Over WebSocket the namespace's connection handler runs this long after the CONNECT reply was
 * written, on a later loop turn. The reply thus always leaves in a TCP segment of its own, ahead of anything
 * the handler emits: clients that attach a fresh one-shot listener after each frame (the
 * official socket.io-protocol suite's waitFor(), checklist §2.23) would otherwise lose the
 * handler's first packet when both arrive in one read. Other clients see no difference. */
#define SIO_CONNECTION_HANDLER_DELAY_MS 2u
/* Namespaces created on demand (the fixture's /dyn-<digits>) are kept, as Node keeps them;
 * beyond this many a new dynamic name is refused as an unknown namespace. */
#define SIO_MAX_DYNAMIC_NAMESPACES 10000u
/* Records the fixture's disconnect log keeps until a client fetches them; beyond this the
 * oldest are dropped, so a server nobody asks stays bounded. */
#define SIO_MAX_LOG_RECORDS 10000u
/* Longest room name accepted from a client. */
#define SIO_MAX_ROOM_NAME 1024u

struct sio_socket;
struct sio_namespace;
struct ack_wait;

/* A JSON value received from a client, with the attachments its placeholders refer to. */
typedef struct sio_value {
    sio_span json;
    const sio_span *attachments;
    uint32_t attachment_count;
} sio_value;

/* What a namespace does with its sockets (fixture.c provides them). */
typedef struct nsp_handlers {
    /* Middleware: true admits the CONNECT; false refuses with `error_json` (a JSON object
     * written into the buffer given, at most 256 bytes). */
    bool (*admit)(struct sio_namespace *nsp, sio_span auth, char *error_json);
    void (*connected)(struct sio_socket *sock, sio_span auth);
    /* An event: `payload` is the whole array (name first); has_id when the client wants an ack. */
    void (*event)(struct sio_socket *sock, const sio_value *payload, bool has_id, uint64_t id);
    /* disconnecting: rooms still joined; disconnect: rooms left. */
    void (*disconnecting)(struct sio_socket *sock, const char *reason);
    void (*disconnected)(struct sio_socket *sock, const char *reason);
} nsp_handlers;

typedef struct sio_namespace {
    struct sio_namespace *next;
    struct sio_server *sio;
    char *name;
    const nsp_handlers *handlers;
    struct sio_socket *sockets; /* connected sockets, newest first */
    size_t socket_count;
    uint64_t next_ack_id;  /* server -> client ack ids, from 0 (SIO-ACK-03) */
    struct ack_wait *acks; /* acks the server is waiting for */
} sio_namespace;

typedef struct sio_client {
    struct sio_server *sio;
    session *eio;
    int protocol;               /* Socket.IO 5, or 4 for Engine.IO v3 peers */
    struct sio_socket *sockets; /* one per joined namespace */
    timer connect_timer;        /* SIO-NSP-01 */
    bool closing;
    /* A binary packet waiting for its attachments: copies of its text and of each attachment
     * received so far, because the assembler keeps views into them. */
    sio_pkt_assembler assembler;
    sio_span slots[SIO_PKT_MAX_ATTACHMENTS_DEFAULT];
    uint8_t *pending_text;
    uint8_t *pending_attachments[SIO_PKT_MAX_ATTACHMENTS_DEFAULT];
    uint32_t pending_count;
} sio_client;

typedef struct sio_socket {
    struct sio_socket *nsp_next, *nsp_prev; /* in the namespace */
    struct sio_socket *client_next;         /* in the client */
    sio_client *client;
    sio_namespace *nsp;
    char *id;     /* v5: random; v4: sid or "<nsp>#<sid>" */
    char **rooms; /* joined rooms besides the own-id room */
    size_t room_count;
    bool connected;
    timer handler_timer; /* runs the connection handler */
    uint8_t *auth;       /* CONNECT payload kept for the handler */
    size_t auth_len;
} sio_socket;

/* A server -> client ack the server waits for: one socket (server-ack), or every socket that
 * got a broadcast (bc-ack, SIO-ACK-05). */
typedef enum ack_kind { ACK_PLAIN = 0, ACK_WITH_TIMEOUT = 1, ACK_BROADCAST = 2 } ack_kind;

typedef struct ack_wait {
    struct ack_wait *next;
    sio_namespace *nsp;
    uint64_t id;
    ack_kind kind;
    sio_socket *requester; /* told the result; NULL once it left */
    sio_socket **expected; /* sockets that have not answered; NULL entries answered/left */
    size_t expected_count, pending;
    buf responses; /* broadcast: JSON texts of first arguments, comma-separated */
    size_t response_count;
    timer timeout;
} ack_wait;

typedef struct sio_server {
    server *srv;
    sio_namespace *namespaces;
    size_t namespace_count;
    char **log;                  /* fixture disconnect log: a ring of JSON records */
    size_t log_first, log_count; /* oldest record, records held */
} sio_server;

sio_server *sio_server_new(server *srv);
void sio_server_free(sio_server *sio);

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
    sio_value value; /* ITEM_VALUE, ITEM_REST */
    size_t from;     /* ITEM_REST */
    sio_span bytes;  /* ITEM_RAW, ITEM_STRING, ITEM_BINARY */
} payload_item;

/* An encoded Socket.IO packet ready to be written to any number of clients. */
typedef struct sio_out {
    buf text;              /* the packet text */
    sio_span *attachments; /* in placeholder order; views into the items' buffers */
    uint32_t attachment_count;
} sio_out;

/* Encodes EVENT `event` (or, when event is NULL, ACK) with the items as payload array. */
bool sio_out_encode(sio_out *out, sio_namespace *nsp, const char *event, const payload_item *items,
                    size_t n, bool has_id, uint64_t id);
void sio_out_free(sio_out *out);
void sio_out_send(const sio_out *out, sio_client *client);

/* Emits to one socket; with `ack` the server waits for an answer (sio_ack.c). */
void sio_emit(sio_socket *sock, const char *event, const payload_item *items, size_t n);
bool sio_emit_volatile(sio_socket *sock, const char *event, const payload_item *items, size_t n);
void sio_ack_reply(sio_socket *sock, uint64_t id, const payload_item *items, size_t n);

/* ------------------------------------------------------------------ rooms and broadcast */

bool sio_socket_in_room(const sio_socket *sock, const char *room);
bool sio_socket_join(sio_socket *sock, const char *room);
void sio_socket_leave(sio_socket *sock, const char *room);
/* Writes ["<own id>","r1",…] into `out` (appended). */
void sio_socket_rooms_json(const sio_socket *sock, buf *out);

/* A broadcast target: sockets of `nsp` in any of `rooms` (all when room_count is 0), minus
 * those in any of `except` rooms, minus `skip` (the sender, or NULL). Each once (SIO-BC-04). */
typedef struct broadcast_target {
    sio_namespace *nsp;
    const char *const *rooms;
    size_t room_count;
    const char *const *except;
    size_t except_count;
    const sio_socket *skip;
} broadcast_target;

bool broadcast_includes(const broadcast_target *t, const sio_socket *sock);
/* Encodes once and writes the same bytes to every target socket (SIO-BC-06). */
void sio_broadcast(const broadcast_target *t, const char *event, const payload_item *items,
                   size_t n);

/* ------------------------------------------------------------------ acks and disconnect */

/* Emits `event` with a fresh ack id to every socket in the target (one socket for a plain ack)
 * and waits; the result goes to `requester` through the fixture's ack_result hooks. */
void sio_emit_with_ack(const broadcast_target *t, sio_socket *requester, ack_kind kind,
                       uint64_t timeout_ms, const char *event, const payload_item *items, size_t n);
void sio_ack_received(sio_socket *sock, uint64_t id, const sio_value *payload);
void sio_acks_forget_socket(sio_socket *sock);
void sio_acks_free(sio_namespace *nsp);

/* Server-side disconnect: one namespace (sends DISCONNECT, SIO-DC-03) or the whole connection
 * (DISCONNECT for each namespace, then the Engine.IO close, SIO-DC-04). */
void sio_socket_disconnect(sio_socket *sock, bool close_connection);

/* fixture.c */
const nsp_handlers *fixture_handlers_for(const char *nsp_name, bool *dynamic_ok);
void fixture_ack_result(sio_socket *requester, ack_kind kind, bool timed_out,
                        const sio_value *reply, const buf *responses, size_t response_count);
void fixture_log_error(sio_client *client, const char *message);

/* JSON helpers (sio_emit.c) */
bool json_string_dup(sio_span token, char *out, size_t cap); /* unescaped, NUL-terminated */
sio_span json_array_at(sio_span array, size_t index);        /* empty span when absent */

#endif
