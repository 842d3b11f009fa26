/* The server's Socket.IO layer on top of Engine.IO sessions: one client per session, whose
 * protocol state is the codec's Socket.IO server session (sio/sio_server.h); namespaces and
 * their sockets; payloads written with placeholders renumbered; rooms and broadcast behind an
 * adapter (rooms.c); server -> client acks (ack.c). The application plugs in through app.h. */
#ifndef REFSERVER_SOCKETIO_H
#define REFSERVER_SOCKETIO_H

#include "sio/json.h"
#include "sio/packet.h"
#include "sio/sio_server.h"

#include "app.h"
#include "eio.h"

/* Bytes of a v5 Socket.IO socket id (independent of the Engine.IO sid, EIO-HS-16). */
#define SERVER_SOCKET_ID_LEN 20u
/* Rooms one socket may join besides its own-id room. */
#define SERVER_MAX_ROOMS_PER_SOCKET 1024u
/* Over WebSocket the namespace's connection handler runs this long after the CONNECT reply was
 * written, on a later loop turn. The reply thus always leaves in a TCP segment of its own, ahead
 * of anything the handler emits: clients that attach a fresh one-shot listener after each frame
 * (the official socket.io-protocol suite's waitFor(), conformance/REQUIREMENTS.md notes) would
 * otherwise lose the handler's first packet when both arrive in one read. Other clients see no
 * difference. */
#define SERVER_CONNECTION_HANDLER_DELAY_MS 2u
/* Namespaces created on demand (the fixture's /dyn-<digits>) are kept, as Node keeps them;
 * beyond this many a new name is refused as an unknown namespace. */
#define SERVER_MAX_DYNAMIC_NAMESPACES 10000u
/* Longest room name accepted from a client. */
#define SERVER_MAX_ROOM_NAME 1024u

struct srv_socket;
struct ack_wait;
struct srv_adapter;

typedef struct srv_namespace {
    struct srv_namespace *next;
    struct srv_socketio *sio;
    char *name;
    const srv_nsp_handlers *handlers;
    struct srv_socket *sockets; /* connected sockets, newest first */
    size_t socket_count;
    uint64_t next_ack_id;  /* server -> client ack ids, from 0 (SIO-ACK-03) */
    struct ack_wait *acks; /* acks the server is waiting for */
    void *adapter_data;    /* the adapter's per-namespace state (the cluster's channel names) */
} srv_namespace;

/* One Socket.IO connection (one Engine.IO session). */
typedef struct srv_client {
    struct srv_socketio *sio;
    session *eio;
    sio_sio_server proto;       /* the protocol state (codec) */
    struct srv_socket *sockets; /* one per joined namespace */
    timer connect_timer;        /* the codec's connect deadline (SIO-NSP-01) */
    bool closing;
} srv_client;

typedef struct srv_socket {
    struct srv_socket *nsp_next, *nsp_prev; /* in the namespace */
    struct srv_socket *client_next;         /* in the client */
    srv_client *client;
    srv_namespace *nsp;
    char *id;     /* v5: random; v4: sid or "<nsp>#<sid>" */
    char **rooms; /* joined rooms besides the own-id room (the in-memory adapter's) */
    size_t room_count;
    bool connected;
    timer handler_timer; /* runs the connection handler */
    uint8_t *auth;       /* CONNECT payload kept for the handler */
    size_t auth_len;
#ifdef MUTANT_ACK_IDS_PER_SOCKET /* SIO-ACK-05: each socket numbers the acks it is sent (ack.c) */
    uint64_t acks_sent;
#endif
    char *handshake_auth; /* in a cluster: the CONNECT payload as JSON, for fetchSockets */
} srv_socket;

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
#ifdef MUTANT_ACK_IDS_PER_SOCKET
    uint64_t *expected_ids; /* the id each expected socket was sent */
#endif
    /* A broadcast ack across a cluster: how many other nodes must report their client count
     * (-1 until Redis told how many nodes there are), how many did, and the answers their
     * clients still owe. */
    long long nodes_expected;
    long long nodes_reported;
    uint64_t remote_pending;
    void *cluster_request; /* the adapter's record of the request, dropped with the ack */
    /* Set when the broadcast came from another node (request type 7): each answer goes back to
     * that node through `forward` instead of being collected. */
    void (*forward)(struct ack_wait *a, const srv_value *answer);
    char *forward_request_id;
} ack_wait;

typedef struct srv_socketio {
    server *srv;
    sio_sio_server_config cfg; /* the codec sessions' */
    const srv_app *app;
    void *app_state;
    const struct srv_adapter *adapter; /* rooms and broadcast */
    struct cluster_node *cluster;      /* the cluster adapter's state, or NULL (rooms.c alone) */
    srv_namespace *namespaces;
    size_t namespace_count;
} srv_socketio;

srv_socketio *srv_socketio_new(server *srv, const srv_app *app, void *app_state);
void srv_socketio_free(srv_socketio *sio);
/* The application's state, from any socket. */
void *srv_app_state(const srv_socket *sock);
/* The namespace of that name, created now if the application has it (NULL otherwise). */
srv_namespace *srv_namespace_get(srv_socketio *sio, const char *name);

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
    bool has_id; /* an EVENT that awaits an ack with `id` */
    uint64_t id;
    size_t data_len; /* the payload array: the last data_len bytes of `text` */
} srv_packet;

/* Encodes EVENT `event` (or, when event is NULL, ACK) with the items as payload array. */
bool srv_packet_encode(srv_packet *out, srv_namespace *nsp, const char *event,
                       const payload_item *items, size_t n, bool has_id, uint64_t id);
/* Encodes an EVENT whose payload array is already Socket.IO JSON (a broadcast from another
 * node of the cluster); the attachments are views the caller keeps alive. */
bool srv_packet_from_json(srv_packet *out, srv_namespace *nsp, sio_span json,
                          const sio_span *attachments, uint32_t attachment_count, bool has_id,
                          uint64_t id);
/* The payload array of an encoded packet. */
sio_span srv_packet_data(const srv_packet *p);
void srv_packet_free(srv_packet *out);
/* Writes the packet to one socket (through its client's codec session). */
void srv_packet_send(const srv_packet *out, srv_socket *sock);

void srv_emit(srv_socket *sock, const char *event, const payload_item *items, size_t n);
/* A volatile emit (SIO-BC-07): dropped unless the transport can take it now. */
bool srv_emit_volatile(srv_socket *sock, const char *event, const payload_item *items, size_t n);
void srv_ack_reply(srv_socket *sock, uint64_t id, const payload_item *items, size_t n);

/* ------------------------------------------------------------------ rooms and broadcast */

/* A broadcast target: sockets of `nsp` in any of `rooms` (all when room_count is 0), minus
 * those in any of `except` rooms, minus `skip` (the sender, or NULL). Each once (SIO-BC-04). */
typedef struct broadcast_target {
    srv_namespace *nsp;
    const char *const *rooms;
    size_t room_count;
    const char *const *except;
    size_t except_count;
    const srv_socket *skip;
    bool is_volatile;  /* skip sockets whose transport cannot take a packet now (SIO-BC-07) */
    bool compress_off; /* compress(false): carried across a cluster; no effect on our writes */
    bool local;        /* this node only (io.local): a cluster adapter publishes nothing */
} broadcast_target;

/* Rooms and broadcast, as a table of operations so that a cluster adapter (rooms and
 * broadcasts shared between servers) can replace the in-memory one of rooms.c. */
typedef struct srv_adapter {
    bool (*join)(srv_socket *sock, const char *room); /* false: SERVER_MAX_ROOMS_PER_SOCKET */
    void (*leave)(srv_socket *sock, const char *room);
    void (*leave_all)(srv_socket *sock);
    bool (*in_room)(const srv_socket *sock, const char *room);
    /* Appends ["<own id>","r1",…] to `out`. */
    void (*rooms_json)(const srv_socket *sock, buf *out);
    /* Sends `p` to every socket of the target; `each`, when given, is told of each recipient
     * (broadcast acks count them). */
    void (*broadcast)(const broadcast_target *t, const srv_packet *p,
                      void (*each)(void *ctx, srv_socket *sock), void *ctx);
    /* The rest is a cluster adapter's (NULL in the in-memory one). The broadcast of `p`, which
     * awaits acks in `a`, goes to the other nodes too; their counts and answers come back into
     * `a` (srv_ack_remote_count, srv_ack_remote_answer). */
    void (*broadcast_with_ack)(const broadcast_target *t, const srv_packet *p, ack_wait *a,
                               uint64_t timeout_ms);
    void (*ack_released)(ack_wait *a);             /* `a` is about to be freed */
    void (*namespace_created)(srv_namespace *nsp); /* subscribe its channels */
    void (*socket_left)(srv_socket *sock);         /* forget it in pending requests */
} srv_adapter;

extern const srv_adapter srv_memory_adapter;

bool srv_socket_in_room(const srv_socket *sock, const char *room);
bool srv_socket_join(srv_socket *sock, const char *room);
void srv_socket_leave(srv_socket *sock, const char *room);
void srv_socket_rooms_json(const srv_socket *sock, buf *out);
/* Whether a connected socket belongs to the target (rooms.c). */
bool broadcast_includes(const broadcast_target *t, const srv_socket *sock);
/* Encodes once and writes the same bytes to every target socket (SIO-BC-06). */
void srv_broadcast(const broadcast_target *t, const char *event, const payload_item *items,
                   size_t n);

/* ------------------------------------------------------------------ acks and disconnect */

/* Emits `event` with a fresh ack id to every socket in the target (one socket for a plain ack)
 * and waits; the result goes to `requester` through the application's ack_result. */
void srv_emit_with_ack(const broadcast_target *t, srv_socket *requester, ack_kind kind,
                       uint64_t timeout_ms, const char *event, const payload_item *items, size_t n);
void srv_ack_received(srv_socket *sock, uint64_t id, const srv_value *payload);
/* A broadcast ack across a cluster: how many nodes answer besides this one (once known), one
 * node's client count, one remote client's answer (its first argument). */
void srv_ack_remote_nodes(ack_wait *a, long long others);
void srv_ack_remote_count(ack_wait *a, uint64_t clients);
void srv_ack_remote_answer(ack_wait *a, const srv_value *first);
/* Emits to the target's local sockets with a fresh ack id; each answer goes to `forward`
 * (a broadcast with acks another node asked for). */
size_t srv_emit_forwarding_acks(const broadcast_target *t, sio_span json,
                                const sio_span *attachments, uint32_t attachment_count,
                                uint64_t timeout_ms, const char *request_id,
                                void (*forward)(ack_wait *a, const srv_value *answer));
void srv_acks_forget_socket(srv_socket *sock);
void srv_acks_free(srv_namespace *nsp);

/* Server-side disconnect: one namespace (sends DISCONNECT, SIO-DC-03) or the whole connection
 * (DISCONNECT for each namespace, then the Engine.IO close, SIO-DC-04). */
void srv_socket_disconnect(srv_socket *sock, bool close_connection);

/* JSON helpers (emit.c) */
bool srv_json_string_dup(sio_span token, char *out, size_t cap); /* unescaped, NUL-terminated */
sio_span srv_json_array_at(sio_span array, size_t index);        /* empty span when absent */

#endif
