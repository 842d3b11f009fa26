/* The application interface of the server's Socket.IO layer: what an application provides
 * (namespaces and their handlers, a handshake filter, what to do with protocol errors and ack
 * results) and keeps (its own state). The fixture of conformance/FIXTURE.md (fixture.c) is one
 * such application. The Engine.IO echo application sits on Engine.IO directly (eio_app, eio.h). */
#ifndef REFSERVER_APP_H
#define REFSERVER_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sio/common.h"

#include "buf.h"

/* Bytes of the JSON object a namespace middleware refuses a CONNECT with. */
#define SERVER_MAX_ERROR_JSON 256u
/* Bytes of the reason a handshake filter refuses a handshake with. */
#define SERVER_MAX_REFUSAL 64u

struct srv_socket;
struct srv_namespace;
struct srv_client;

/* A JSON value received from a client, with the attachments its placeholders refer to. */
typedef struct srv_value {
    sio_span json;
    const sio_span *attachments;
    uint32_t attachment_count;
} srv_value;

/* Who waits for a server -> client ack: one socket (server-ack), the same with a deadline, or
 * every socket that got a broadcast (bc-ack, SIO-ACK-05). */
typedef enum ack_kind { ACK_PLAIN = 0, ACK_WITH_TIMEOUT = 1, ACK_BROADCAST = 2 } ack_kind;

/* What a namespace does with its sockets. */
typedef struct srv_nsp_handlers {
    /* Middleware: true admits the CONNECT; false refuses with `error_json` (a JSON object of at
     * most SERVER_MAX_ERROR_JSON - 1 bytes written into the buffer given). */
    bool (*admit)(struct srv_namespace *nsp, sio_span auth, char *error_json);
    void (*connected)(struct srv_socket *sock, sio_span auth);
    /* An event: `payload` is the whole array (name first); has_id when the client wants an ack. */
    void (*event)(struct srv_socket *sock, const srv_value *payload, bool has_id, uint64_t id);
    /* disconnecting: rooms still joined; disconnected: rooms left. */
    void (*disconnecting)(struct srv_socket *sock, const char *reason);
    void (*disconnected)(struct srv_socket *sock, const char *reason);
} srv_nsp_handlers;

typedef struct srv_app {
    /* Node's allowRequest, for handshakes on the application's endpoint: true refuses with
     * `message` (NUL-terminated, at most SERVER_MAX_REFUSAL - 1 bytes, JSON-safe). May be NULL. */
    bool (*refuse_handshake)(void *state, sio_span query, char *message);
    /* The handlers of namespace `name`, or NULL when the application has no such namespace
     * (the client is refused with "Invalid namespace"). */
    const srv_nsp_handlers *(*namespace_handlers)(void *state, const char *name);
    /* A protocol violation is about to close a client's connection; called once per namespace
     * the client had joined, before its sockets leave (SIO-DC-08). May be NULL. */
    void (*protocol_error)(void *state, struct srv_socket *sock, const char *why);
    /* The outcome of an emit with ack (ack.c): `reply` for a plain ack, or `responses` (the
     * first arguments, comma-separated JSON) of a broadcast ack; `timed_out` when the deadline
     * came first. */
    void (*ack_result)(void *state, struct srv_socket *requester, ack_kind kind, bool timed_out,
                       const srv_value *reply, const buf *responses, size_t response_count);
    /* A server-side event from another node of the cluster (Node's serverSideEmit): `payload`
     * is [event, ...args]. `answer` is non-NULL when the sender wants an answer: the
     * application appends one JSON value to it (nothing appended: no answer). May be NULL. */
    void (*server_side_event)(void *state, struct srv_namespace *nsp, const srv_value *payload,
                              buf *answer);
    /* Releases the state (at shutdown). May be NULL. */
    void (*free)(void *state);
    /* Namespaces created at start, NULL-terminated (in a cluster the other nodes count this
     * one by their subscriptions before any client connects). May be NULL. */
    const char *const *namespaces;
} srv_app;

/* Records the fixture's disconnect log keeps until a client fetches them; beyond this the
 * oldest are dropped, so a server nobody asks stays bounded. */
#define FIXTURE_MAX_LOG_RECORDS 10000u

/* fixture.c: the conformance fixture, with a fresh disconnect log as its state. */
const srv_app *fixture_app(void);
void *fixture_state_new(void);

#endif
