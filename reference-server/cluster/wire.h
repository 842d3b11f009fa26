/* The classic Redis adapter protocol of Node's socket.io (`@socket.io/redis-adapter` 8.3.x): what
 * the nodes of a cluster publish to each other, decoded and encoded byte for byte as Node does.
 * The layout is written out in reference-server/cluster/README.md; in short:
 *
 *   broadcast  on P#nsp# or P#nsp#room#    msgpack [uid, {type:2, data, nsp}, {rooms, except, flags}]
 *   request    on P-request#nsp#          JSON {uid, requestId?, type, …}; msgpack for type 7
 *   response   on P-response#nsp#[uid#]   JSON {requestId, …} or {type, requestId, …}; msgpack for type 9
 *
 * P is the channel prefix (`socket.io` by default). A body that starts with `{` is JSON, anything
 * else msgpack, on every channel.
 *
 * Values (event arguments, ack answers, socket data) are JavaScript values on the wire. Here they
 * are held as Socket.IO JSON text, the form the server writes to its clients: byte arrays become
 * `{"_placeholder":true,"num":k}` with the bytes as attachment k, exactly as socket.io-parser would
 * deconstruct the value Node decoded. Object keys are written in JavaScript's property order
 * (integer-like keys first, ascending), numbers as JavaScript prints them, dates as ISO strings.
 *
 * Bytes are read with msgpack-c (msgpack_unpack_next) after a shape check of our own that bounds
 * depth and announced counts; JSON with libsiocodec's validator and readers. Every decoded message
 * lives in one msgpack zone, released by cluster_msg_free. Nothing here does I/O. */
#ifndef REFSERVER_CLUSTER_WIRE_H
#define REFSERVER_CLUSTER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "sio/common.h"

#include "buf.h"

/* Bounds on what a peer may send; past them the message is refused with the error named. */
#define CLUSTER_MAX_DEPTH       32u         /* nesting of arrays and maps (msgpack-c's own stack) */
#define CLUSTER_MAX_MESSAGE     (16u << 20) /* bytes of one message */
#define CLUSTER_MAX_ATTACHMENTS 256u        /* byte arrays in one value */
#define CLUSTER_MAX_UID         64u         /* bytes of a node uid or request id we keep */
/* A node's uid: six characters of [A-Za-z0-9_-], like Node's uid2(6). */
#define CLUSTER_UID_LEN 6u

typedef enum cluster_err {
    CLUSTER_OK = 0,
    CLUSTER_ERR_TOO_BIG,           /* more than CLUSTER_MAX_MESSAGE bytes */
    CLUSTER_ERR_EMPTY,             /* no bytes */
    CLUSTER_ERR_MSGPACK_TRUNCATED, /* a value runs past the end */
    CLUSTER_ERR_MSGPACK_TRAILING,  /* bytes after the value */
    CLUSTER_ERR_MSGPACK_RESERVED,  /* byte 0xc1, which msgpack never uses */
    CLUSTER_ERR_MSGPACK_COUNT,     /* an array or map announces more entries than bytes remain */
    CLUSTER_ERR_DEPTH,             /* nested deeper than CLUSTER_MAX_DEPTH */
    CLUSTER_ERR_JSON,              /* a body starting with `{` that is not valid JSON */
    CLUSTER_ERR_UTF8,              /* a string that is not UTF-8 */
    CLUSTER_ERR_KEY,               /* a map key JavaScript could not use as a property name here */
    CLUSTER_ERR_ATTACHMENTS,       /* more than CLUSTER_MAX_ATTACHMENTS byte arrays */
    CLUSTER_ERR_SHAPE,             /* not the message's outer shape (array of 3, object) */
    CLUSTER_ERR_FIELD,             /* a field has the wrong type */
    CLUSTER_ERR_PACKET_TYPE,       /* a broadcast packet whose type is not 2 (EVENT) */
    CLUSTER_ERR_NO_MEMORY,
    CLUSTER_ERR_COUNT_ /* number of codes */
} cluster_err;

const char *cluster_err_name(cluster_err e);

/* ------------------------------------------------------------------ values */

/* A JavaScript value as Socket.IO JSON text (NUL-terminated) plus the byte arrays its
 * placeholders refer to (views into the message bytes, or into the zone). An absent value
 * (field missing, or `undefined`) has json == NULL. */
typedef struct cluster_value {
    const char *json;
    size_t len;
    const sio_span *attachments;
    uint32_t attachment_count;
} cluster_value;

typedef struct cluster_strings {
    const char *const *items; /* NUL-terminated UTF-8 */
    size_t count;
} cluster_strings;

/* Broadcast flags (socket.io's BroadcastFlags). Unknown flags are ignored. */
typedef struct cluster_flags {
    bool has_volatile, is_volatile;
    bool has_compress, compress;
    bool has_local, local;
    bool has_timeout;
    uint64_t timeout_ms;
} cluster_flags;

typedef struct cluster_opts {
    cluster_strings rooms;  /* all sockets when empty */
    cluster_strings except; /* sockets in any of these rooms are left out */
    cluster_flags flags;
} cluster_opts;

/* The Socket.IO packet a broadcast carries: always an EVENT; `nsp` NULL means "/". */
typedef struct cluster_packet {
    const char *nsp;
    cluster_value data; /* the [event, ...args] array */
} cluster_packet;

/* ------------------------------------------------------------------ messages */

typedef enum cluster_request_type {
    CLUSTER_REQ_SOCKETS = 0,           /* the socket ids in some rooms (answered, never sent) */
    CLUSTER_REQ_ALL_ROOMS = 1,         /* every room of the namespace */
    CLUSTER_REQ_REMOTE_JOIN = 2,       /* matching sockets join rooms; no answer */
    CLUSTER_REQ_REMOTE_LEAVE = 3,      /* matching sockets leave rooms; no answer */
    CLUSTER_REQ_REMOTE_DISCONNECT = 4, /* matching sockets are disconnected; no answer */
    CLUSTER_REQ_REMOTE_FETCH = 5,      /* matching sockets, described */
    CLUSTER_REQ_SERVER_SIDE_EMIT = 6,  /* an event for the other nodes' applications */
    CLUSTER_REQ_BROADCAST = 7,         /* a broadcast whose clients' acks are collected */
    CLUSTER_REQ_BROADCAST_CLIENT_COUNT = 8, /* (responses only) how many clients got it */
    CLUSTER_REQ_BROADCAST_ACK = 9,          /* (responses only) one client's ack */
    CLUSTER_REQ_UNKNOWN = -1                /* any other type: ignored, as Node does */
} cluster_request_type;

typedef enum cluster_msg_kind {
    CLUSTER_MSG_BROADCAST = 1,
    CLUSTER_MSG_REQUEST = 2,
    CLUSTER_MSG_RESPONSE = 3
} cluster_msg_kind;

/* One decoded message. Strings and values live in `zone` (and in the input bytes, for
 * attachments: keep them until cluster_msg_free). Fields a message does not carry are empty. */
typedef struct cluster_msg {
    cluster_msg_kind kind;
    bool msgpack;    /* the body was msgpack (else JSON) */
    const char *uid; /* sender's uid; NULL when absent or not a string */
    /* broadcast and request 7 */
    cluster_packet packet;
    bool has_packet;
    cluster_opts opts;
    /* request and response */
    int type; /* cluster_request_type; CLUSTER_REQ_UNKNOWN when absent or other */
    bool has_type;
    const char *request_id; /* NULL when absent */
    cluster_strings
        rooms; /* request 0: rooms asked; 2, 3: rooms to join or leave; ALL_ROOMS answer */
    bool has_rooms;
    bool close;             /* request 4 (JavaScript truthiness) */
    const char *sid, *room; /* the legacy remote join/leave form {requestId, sid, room} */
    cluster_value data;     /* request 6: [event, ...args]; response 6: the answer */
    cluster_value sockets;  /* response 0 / 5: the socket list, as JSON */
    cluster_value ack;      /* response 9: the client's first ack argument (`packet`) */
    bool has_client_count;
    uint64_t client_count; /* response 8 */
    msgpack_zone *zone;
} cluster_msg;

/* Decoders: on failure *out is freed and zeroed, and *err_at (may be NULL) gets the offset of the
 * offending byte where there is one. */
cluster_err cluster_broadcast_decode(const uint8_t *p, size_t len, cluster_msg *out,
                                     size_t *err_at);
cluster_err cluster_request_decode(const uint8_t *p, size_t len, cluster_msg *out, size_t *err_at);
cluster_err cluster_response_decode(const uint8_t *p, size_t len, cluster_msg *out, size_t *err_at);
void cluster_msg_free(cluster_msg *m);

/* The decoded message as one JSON object (for vectors, tests and logs): kind, uid, packet, opts,
 * type, requestId, …, every value with its attachments in hex. */
void cluster_msg_describe(const cluster_msg *m, buf *out);

/* Checks that `len` bytes are exactly one msgpack value within the bounds above (no decoding,
 * no allocation). The decoders run it first; exported for the fuzz target. */
cluster_err cluster_msgpack_check(const uint8_t *p, size_t len, size_t *err_at);

/* ------------------------------------------------------------------ channels */

/* Channel names of namespace `nsp` under prefix `key` (written NUL-terminated into `out`). */
void cluster_channel_broadcast(buf *out, const char *key, const char *nsp); /* P#nsp# */
void cluster_channel_room(buf *out, const char *key, const char *nsp,
                          const char *room);                               /* P#nsp#room# */
void cluster_channel_request(buf *out, const char *key, const char *nsp);  /* P-request#nsp# */
void cluster_channel_response(buf *out, const char *key, const char *nsp); /* P-response#nsp# */
void cluster_channel_own_response(buf *out, const char *key, const char *nsp, const char *uid);
/* The room a broadcast channel names (empty for P#nsp#); false when `channel` is not a broadcast
 * channel of (key, nsp). */
bool cluster_channel_room_of(const char *key, const char *nsp, sio_span channel, sio_span *room);

/* ------------------------------------------------------------------ encoders
 * Values given as Socket.IO JSON (validated) with attachments, as the server holds them. Output is
 * appended to `out`. A value that cannot be written (invalid JSON, a placeholder past the
 * attachments) is CLUSTER_ERR_JSON and leaves `out` as it was. */

/* How a broadcast is addressed. Flags are written in the order volatile, compress, timeout, and
 * only when set (Node writes the flags the application chained, in that order for ours). */
typedef struct cluster_target {
    const char *const *rooms;
    size_t room_count;
    const char *const *except;
    size_t except_count;
    cluster_flags flags;
} cluster_target;

/* msgpack [uid, {type:2, data, nsp}, {rooms, except, flags}] (the channel: cluster_broadcast_channel). */
cluster_err cluster_broadcast_encode(buf *out, const char *uid, const char *nsp, sio_span data_json,
                                     const sio_span *attachments, uint32_t attachment_count,
                                     const cluster_target *t);
/* The channel Node publishes a broadcast on: P#nsp#room# for exactly one room, else P#nsp#. */
void cluster_broadcast_channel(buf *out, const char *key, const char *nsp, const cluster_target *t);

/* JSON requests (their key order is Node's). `request_id` may be NULL where Node omits it. */
void cluster_request_all_rooms(buf *out, const char *uid, const char *request_id);
void cluster_request_fetch(buf *out, const char *uid, const char *request_id,
                           const cluster_target *t);
/* type 2 (join) or 3 (leave): the sockets matching `t` join or leave `rooms`. */
void cluster_request_rooms(buf *out, const char *uid, int type, const cluster_target *t,
                           const char *const *rooms, size_t room_count);
void cluster_request_disconnect(buf *out, const char *uid, const cluster_target *t, bool close);
cluster_err cluster_request_server_side_emit(buf *out, const char *uid, const char *request_id,
                                             sio_span data_json, const sio_span *attachments,
                                             uint32_t attachment_count);
/* msgpack {uid, requestId, type:7, packet:{type:2, data, nsp}, opts:{rooms, except, flags}}. */
cluster_err cluster_request_broadcast(buf *out, const char *uid, const char *request_id,
                                      const char *nsp, sio_span data_json,
                                      const sio_span *attachments, uint32_t attachment_count,
                                      const cluster_target *t);

/* Responses. */
void cluster_response_rooms(buf *out, const char *request_id, const char *const *rooms,
                            size_t count);
void cluster_response_socket_ids(buf *out, const char *request_id, const char *const *ids,
                                 size_t count);
/* {requestId, sockets:<sockets_json>} where sockets_json is a JSON array the caller wrote. */
cluster_err cluster_response_sockets(buf *out, const char *request_id, sio_span sockets_json);
cluster_err cluster_response_server_side_emit(buf *out, const char *request_id,
                                              sio_span answer_json, const sio_span *attachments,
                                              uint32_t attachment_count);
void cluster_response_client_count(buf *out, const char *request_id, uint64_t count);
/* msgpack {type:9, requestId, packet:<answer>}. */
cluster_err cluster_response_broadcast_ack(buf *out, const char *request_id, sio_span answer_json,
                                           const sio_span *attachments, uint32_t attachment_count);
void cluster_response_legacy_join(buf *out, const char *request_id);

/* ------------------------------------------------------------------ helpers */

/* JavaScript's Number::toString for a finite double (shortest round-trip digits, JavaScript's
 * choice between plain and exponent notation). `out` holds at least 32 bytes; returns the length. */
size_t cluster_js_number(double d, char *out);

#endif
