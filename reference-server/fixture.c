/* The fixture application of conformance/FIXTURE.md: namespaces "/", "/custom", "/auth" (token
 * middleware) and "/dyn-<digits>"; the official-suite handlers (auth, message, message-with-ack)
 * and the extended events that make rooms, broadcast, acks and disconnects observable; the
 * disconnect log. Nothing is emitted unless a client asked for it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/wire.h"
#include "cluster_adapter.h"
#include "socketio.h"

#define ITEMS(...)             ((const payload_item[]){__VA_ARGS__})
#define COUNT(...)             (sizeof((const payload_item[]){__VA_ARGS__}) / sizeof(payload_item))
#define EMIT(sock, event, ...) srv_emit(sock, event, ITEMS(__VA_ARGS__), COUNT(__VA_ARGS__))

static payload_item rest_of(const srv_value *payload, size_t from)
{
    return (payload_item){.kind = ITEM_REST, .value = *payload, .from = from};
}

static payload_item raw_json(const void *p, size_t n)
{
    return (payload_item){.kind = ITEM_RAW, .bytes = sio_span_of(p, n)};
}

/* ------------------------------------------------------------------ disconnect log (section 5) */

/* The application's state: the disconnect log, a ring of JSON records. */
typedef struct fixture_state {
    char **log;
    size_t first, count; /* oldest record, records held */
} fixture_state;

void *fixture_state_new(void)
{
    return xcalloc(1, sizeof(fixture_state));
}

static void fixture_free(void *state)
{
    fixture_state *f = state;
    for (size_t i = 0; i < f->count; i++)
        free(f->log[(f->first + i) % FIXTURE_MAX_LOG_RECORDS]);
    free(f->log);
    free(f);
}

/* One record: {"event","nsp","sid","reason","rooms"} for disconnecting/disconnect, or
 * {"event":"error","nsp","sid","message"} when `reason` is NULL and `message` given. */
static void log_record(srv_socket *sock, const char *event, const char *reason, const char *message)
{
    fixture_state *f = srv_app_state(sock);
    buf rec = {0};
    sio_json_writer w;
    size_t n = 0;
    buf rooms = {0};
    srv_socket_rooms_json(sock, &rooms);
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            buf_reserve(&rec, n);
        sio_json_writer_init(&w, pass ? rec.data : NULL, pass ? n : 0);
        sio_json_write_begin_object(&w);
        sio_json_write_key(&w, (const uint8_t *)"event", 5);
        sio_json_write_string(&w, (const uint8_t *)event, strlen(event));
        sio_json_write_key(&w, (const uint8_t *)"nsp", 3);
        sio_json_write_string(&w, (const uint8_t *)sock->nsp->name, strlen(sock->nsp->name));
        sio_json_write_key(&w, (const uint8_t *)"sid", 3);
        sio_json_write_string(&w, (const uint8_t *)sock->id, strlen(sock->id));
        const char *text = reason ? reason : message;
        sio_json_write_key(&w, (const uint8_t *)(reason ? "reason" : "message"), reason ? 6 : 7);
        sio_json_write_string(&w, (const uint8_t *)text, strlen(text));
        if (reason) {
            sio_json_write_key(&w, (const uint8_t *)"rooms", 5);
            sio_json_write_raw(&w, buf_begin(&rooms), buf_size(&rooms));
        }
        sio_json_write_end_object(&w);
        sio_json_writer_finish(&w, &n);
    }
    if (f->log == NULL)
        f->log = xcalloc(FIXTURE_MAX_LOG_RECORDS, sizeof *f->log);
    if (f->count == FIXTURE_MAX_LOG_RECORDS) { /* full: the oldest record goes */
        free(f->log[f->first]);
        f->first = (f->first + 1) % FIXTURE_MAX_LOG_RECORDS;
        f->count--;
    }
    f->log[(f->first + f->count++) % FIXTURE_MAX_LOG_RECORDS] = xstrndup((const char *)rec.data, n);
    log_msg(sock->nsp->sio->srv, LOG_INFO, "fixture log %.*s", (int)n, (const char *)rec.data);
    buf_reset(&rec);
    buf_reset(&rooms);
}

static void on_disconnecting(srv_socket *sock, const char *reason)
{
    log_record(sock, "disconnecting", reason, NULL);
}

static void on_disconnected(srv_socket *sock, const char *reason)
{
    log_record(sock, "disconnect", reason, NULL);
}

/* A Socket.IO protocol error: an "error" record for each socket of the client (SIO-DC-08). */
static void on_protocol_error(void *state, srv_socket *sock, const char *why)
{
    (void)state;
    log_record(sock, "error", NULL, why);
}

/* ------------------------------------------------------------------ connection */

static void on_connected(srv_socket *sock, sio_span auth)
{
    srv_value v = {auth, NULL, 0};
    EMIT(sock, "auth", (payload_item){.kind = ITEM_VALUE, .value = v});
}

/* "/auth": admits only {"token":"ok"} (SIO-NSP-07). */
static bool admit_token(srv_namespace *nsp, sio_span auth, char *error_json)
{
    sio_span token, ignored;
    (void)nsp;
    if (sio_json_object_get(auth, "token", 5, &token) == SIO_OK &&
        sio_json_string_equals(token, (const uint8_t *)"ok", 2))
        return true;
    bool with_data = sio_json_object_get(auth, "withData", 8, &ignored) == SIO_OK;
    strcpy(error_json, with_data ? "{\"message\":\"not authorized\",\"data\":{\"code\":42}}"
                                 : "{\"message\":\"not authorized\"}");
    return false;
}

/* ------------------------------------------------------------------ extended events (section 3) */

static void ack_rooms(srv_socket *sock, bool has_id, uint64_t id)
{
    if (!has_id)
        return;
    buf rooms = {0};
    srv_socket_rooms_json(sock, &rooms);
    srv_ack_reply(sock, id, ITEMS(raw_json(buf_begin(&rooms), buf_size(&rooms))), 1);
    buf_reset(&rooms);
}

/* Room names from a JSON string or array of strings; false when malformed. */
static bool read_rooms(sio_span v, char names[][SERVER_MAX_ROOM_NAME], size_t *count, size_t max)
{
    *count = 0;
    if (sio_json_kind_of(v) == SIO_JSON_STRING)
        return (*count = 1, srv_json_string_dup(v, names[0], SERVER_MAX_ROOM_NAME));
    sio_json_iter it;
    sio_span el;
    if (sio_json_array_iter(v, &it) != SIO_OK)
        return false;
    while (sio_json_next(&it, NULL, &el))
        if (*count >= max || !srv_json_string_dup(el, names[(*count)++], SERVER_MAX_ROOM_NAME))
            return false;
    return true;
}

#define MAX_TARGET_ROOMS 8

/* to / to-many / except / to-except: emit to a room selection (SIO-BC-03/04/05). */
static void room_emit(srv_socket *sock, const srv_value *payload, const char *kind)
{
    static char rooms[MAX_TARGET_ROOMS][SERVER_MAX_ROOM_NAME], except[1][SERVER_MAX_ROOM_NAME];
    const char *room_ptrs[MAX_TARGET_ROOMS], *except_ptrs[1] = {except[0]};
    size_t nrooms = 0, nexcept = 0, first_arg = 2;
    broadcast_target t = {.nsp = sock->nsp, .rooms = room_ptrs, .except = except_ptrs};
    bool ok = read_rooms(srv_json_array_at(payload->json, 1), rooms, &nrooms, MAX_TARGET_ROOMS);
    if (strcmp(kind, "except") == 0) {
        memcpy(except[0], rooms[0], SERVER_MAX_ROOM_NAME);
        ok = ok && nrooms == 1;
        nexcept = 1;
        nrooms = 0;
    } else if (strcmp(kind, "to-except") == 0) {
        ok = ok && srv_json_string_dup(srv_json_array_at(payload->json, 2), except[0],
                                       SERVER_MAX_ROOM_NAME);
        nexcept = 1;
        first_arg = 3;
    } else {
        t.skip = sock; /* to(room) from a socket excludes the sender */
    }
    if (!ok || (nrooms == 0 && nexcept == 0))
        return;
    for (size_t i = 0; i < nrooms; i++)
        room_ptrs[i] = rooms[i];
    t.room_count = nrooms;
    t.except_count = nexcept;
    const char *event = nexcept ? "except" : "to";
    srv_broadcast(&t, event, ITEMS(rest_of(payload, first_arg)), 1);
}

static void join_or_leave(srv_socket *sock, const srv_value *payload, bool join, bool has_id,
                          uint64_t id)
{
    char room[SERVER_MAX_ROOM_NAME];
    if (!srv_json_string_dup(srv_json_array_at(payload->json, 1), room, sizeof room))
        return;
    if (join)
        srv_socket_join(sock, room);
    else
        srv_socket_leave(sock, room);
    ack_rooms(sock, has_id, id);
}

static uint64_t number_arg(const srv_value *payload, size_t index)
{
    int64_t v = 0;
    if (sio_json_get_int(srv_json_array_at(payload->json, index), &v) != SIO_OK || v < 0)
        return 0;
    return (uint64_t)v;
}

static void server_ack(srv_socket *sock, const srv_value *payload, ack_kind kind)
{
    broadcast_target one = {
        .nsp = sock->nsp, .rooms = (const char *const[]){sock->id}, .room_count = 1};
    broadcast_target all = {.nsp = sock->nsp};
    size_t first_arg = kind == ACK_PLAIN ? 1 : 2;
    uint64_t ms = kind == ACK_PLAIN ? 0 : number_arg(payload, 1);
    srv_emit_with_ack(kind == ACK_BROADCAST ? &all : &one, sock, kind, ms, "need-ack",
                      ITEMS(rest_of(payload, first_arg)), 1);
}

/* Reports a server -> client ack (ack.c calls this). */
static void on_ack_result(void *state, srv_socket *requester, ack_kind kind, bool timed_out,
                          const srv_value *reply, const buf *responses, size_t response_count)
{
    (void)state;
    (void)response_count;
    if (kind == ACK_BROADCAST) {
        buf list = {0};
        buf_append_str(&list, "[");
        buf_append(&list, buf_begin(responses), buf_size(responses));
        buf_append_str(&list, "]");
        const char *flag = timed_out ? "true" : "false";
        EMIT(requester, "bc-ack-result", raw_json(flag, strlen(flag)),
             raw_json(buf_begin(&list), buf_size(&list)));
        buf_reset(&list);
    } else if (timed_out) {
        srv_emit(requester, "ack-timeout", NULL, 0);
    } else {
        EMIT(requester, "ack-result", rest_of(reply, 0));
    }
}

static void send_log(srv_socket *sock, bool has_id, uint64_t id)
{
    fixture_state *f = srv_app_state(sock);
    if (!has_id)
        return;
    buf list = {0};
    buf_append_str(&list, "[");
    for (size_t i = 0; i < f->count; i++) {
        char **rec = &f->log[(f->first + i) % FIXTURE_MAX_LOG_RECORDS];
        if (i)
            buf_append_str(&list, ",");
        buf_append_str(&list, *rec);
        free(*rec);
        *rec = NULL;
    }
    buf_append_str(&list, "]");
    srv_ack_reply(sock, id, ITEMS(raw_json(buf_begin(&list), buf_size(&list))), 1);
    buf_reset(&list);
    f->first = 0;
    f->count = 0;
}

static void server_bin(srv_socket *sock)
{
    static const uint8_t one_two[] = {1, 2}, three[] = {3};
    static const char object[] = "{\"x\":[{\"_placeholder\":true,\"num\":0}]}";
    const sio_span attachment = sio_span_of(three, 1);
    /* bin(<01 02>, {"x":[<03>]}): the object's placeholder is renumbered to 1 when written. */
    srv_value x = {sio_span_of(object, sizeof object - 1), &attachment, 1};
    EMIT(sock, "bin", (payload_item){.kind = ITEM_BINARY, .bytes = sio_span_of(one_two, 2)},
         (payload_item){.kind = ITEM_VALUE, .value = x});
}

/* FIXTURE.md section 2, fixture-info: the parts this fixture offers (all but RECOVERY); in a
 * cluster, the cluster parts and the adapter settings too (sections 8 and 9). */
static const char fixture_parts[] =
    "\"extended\",\"close-connection\",\"auth\",\"connect-error-data\",\"dynamic\",\"refuse\","
    "\"volatile\",\"app-error\",\"echo\",\"log\",\"initial-packet\"";
static const char cluster_parts[] =
    ",\"cluster\",\"cluster-ack\",\"cluster-rooms\",\"cluster-fetch\","
    "\"cluster-sse\",\"cluster-remote\"";

static void fixture_info(srv_socket *sock, uint64_t id)
{
    const server_config *cfg = &sock->nsp->sio->srv->cfg;
    buf info = {0};
    buf_append_str(&info, "{\"name\":\"siotest reference-server\",\"parts\":[");
    buf_append_str(&info, fixture_parts);
    if (cfg->adapter_url)
        buf_append_str(&info, cluster_parts);
    buf_append_str(&info, "]");
    if (cfg->adapter_url) {
        char timeout[32];
        snprintf(timeout, sizeof timeout, "%u", cfg->adapter_requests_timeout);
        buf_append_str(&info,
                       ",\"settings\":{\"adapter\":{\"protocol\":\"socket.io-redis-adapter\","
                       "\"url\":");
        json_append_string(&info, cfg->adapter_url, strlen(cfg->adapter_url));
        buf_append_str(&info, ",\"key\":");
        json_append_string(&info, cfg->adapter_key, strlen(cfg->adapter_key));
        buf_append_str(&info, ",\"requestsTimeoutMs\":");
        buf_append_str(&info, timeout);
        buf_append_str(&info, ",\"specificResponse\":");
        buf_append_str(&info, cfg->adapter_specific_response ? "true}}" : "false}}");
    }
    buf_append_str(&info, "}");
    srv_ack_reply(sock, id, ITEMS(raw_json(buf_begin(&info), buf_size(&info))), 1);
    buf_reset(&info);
}

/* ------------------------------------------------------------------ cluster events (section 9) */

/* What an answer from the cluster is for: the client's ack id, and for public-rooms the rooms
 * of the first question while the socket list is fetched. */
typedef struct pending_answer {
    uint64_t ack_id;
    char *rooms; /* JSON array */
    char *room;  /* room-size: the room asked about */
} pending_answer;

static pending_answer *pending_new(uint64_t ack_id)
{
    pending_answer *p = xcalloc(1, sizeof *p);
    p->ack_id = ack_id;
    return p;
}

static void pending_free(pending_answer *p)
{
    free(p->rooms);
    free(p->room);
    free(p);
}

/* Acks {"error":"<message>"} for a failed question. */
static void ack_error(srv_socket *sock, uint64_t id, const char *error)
{
    buf obj = {0};
    buf_append_str(&obj, "{\"error\":");
    json_append_string(&obj, error, strlen(error));
    buf_append_str(&obj, "}");
    srv_ack_reply(sock, id, ITEMS(raw_json(buf_begin(&obj), buf_size(&obj))), 1);
    buf_reset(&obj);
}

/* Acks {"<key>":<json>}. */
static void ack_object(srv_socket *sock, uint64_t id, const char *key, sio_span json)
{
    buf obj = {0};
    buf_append_str(&obj, "{");
    json_append_string(&obj, key, strlen(key));
    buf_append_str(&obj, ":");
    buf_append(&obj, json.ptr, json.len);
    buf_append_str(&obj, "}");
    srv_ack_reply(sock, id, ITEMS(raw_json(buf_begin(&obj), buf_size(&obj))), 1);
    buf_reset(&obj);
}

/* public-rooms, second half: every room minus the socket ids (Node: allRooms() minus the ids of
 * fetchSockets()). */
static void public_rooms_sockets(void *ctx, srv_socket *sock, const char *error, sio_span items)
{
    pending_answer *p = ctx;
    if (sock && error) {
        ack_error(sock, p->ack_id, error);
    } else if (sock) {
        buf out = {0};
        sio_json_iter rooms_it;
        sio_span room;
        buf_append_str(&out, "[");
        sio_json_array_iter(sio_span_of(p->rooms, strlen(p->rooms)), &rooms_it);
        while (sio_json_next(&rooms_it, NULL, &room)) {
            bool is_id = false;
            sio_json_iter sockets_it;
            sio_span described, id;
            sio_json_array_iter(items, &sockets_it);
            while (!is_id && sio_json_next(&sockets_it, NULL, &described))
                is_id = sio_json_object_get(described, "id", 2, &id) == SIO_OK &&
                        sio_json_trim(id).len == sio_json_trim(room).len &&
                        memcmp(sio_json_trim(id).ptr, sio_json_trim(room).ptr,
                               sio_json_trim(id).len) == 0;
            if (is_id)
                continue;
            if (buf_size(&out) > 1)
                buf_append_str(&out, ",");
            buf_append(&out, sio_json_trim(room).ptr, sio_json_trim(room).len);
        }
        buf_append_str(&out, "]");
        ack_object(sock, p->ack_id, "rooms", sio_span_of(buf_begin(&out), buf_size(&out)));
        buf_reset(&out);
    }
    pending_free(p);
}

static void public_rooms_all(void *ctx, srv_socket *sock, const char *error, sio_span items)
{
    pending_answer *p = ctx;
    if (sock == NULL || error) {
        if (sock)
            ack_error(sock, p->ack_id, error);
        pending_free(p);
        return;
    }
    p->rooms = xstrndup((const char *)items.ptr, items.len);
    srv_cluster_query(sock->nsp, SRV_QUERY_FETCH_SOCKETS, NULL, NULL, sock, public_rooms_sockets,
                      p);
}

static size_t array_length(sio_span array)
{
    sio_json_iter it;
    sio_span v;
    size_t n = 0;
    if (sio_json_array_iter(array, &it) == SIO_OK)
        while (sio_json_next(&it, NULL, &v))
            n++;
    return n;
}

static void room_size_answer(void *ctx, srv_socket *sock, const char *error, sio_span items)
{
    pending_answer *p = ctx;
    if (sock && error) {
        ack_error(sock, p->ack_id, error);
    } else if (sock) {
        char size[32];
        snprintf(size, sizeof size, "%zu", array_length(items));
        ack_object(sock, p->ack_id, "size", sio_span_of(size, strlen(size)));
    }
    pending_free(p);
}

static void fetch_answer(void *ctx, srv_socket *sock, const char *error, sio_span items)
{
    pending_answer *p = ctx;
    if (sock && error)
        ack_error(sock, p->ack_id, error);
    else if (sock)
        ack_object(sock, p->ack_id, "sockets", items);
    pending_free(p);
}

/* server-side-emit-ack: {"error": null or the message, "responses": [...]}, partial answers
 * included (serverSideEmitWithAck). */
static void sse_answer(void *ctx, srv_socket *sock, const char *error, sio_span items)
{
    pending_answer *p = ctx;
    if (sock) {
        buf obj = {0};
        buf_append_str(&obj, "{\"error\":");
        if (error)
            json_append_string(&obj, error, strlen(error));
        else
            buf_append_str(&obj, "null");
        buf_append_str(&obj, ",\"responses\":");
        buf_append(&obj, items.ptr, items.len);
        buf_append_str(&obj, "}");
        srv_ack_reply(sock, p->ack_id, ITEMS(raw_json(buf_begin(&obj), buf_size(&obj))), 1);
        buf_reset(&obj);
    }
    pending_free(p);
}

/* The room (or null) of fetch-sockets and room-size; false when it is neither. */
static bool room_arg(const srv_value *payload, size_t index, char *room, bool *all)
{
    sio_span v = srv_json_array_at(payload->json, index);
    *all = sio_json_kind_of(v) == SIO_JSON_NULL;
    return *all || srv_json_string_dup(v, room, SERVER_MAX_ROOM_NAME);
}

static void server_side_emit(srv_socket *sock, const srv_value *payload, bool has_id, uint64_t id,
                             bool with_ack)
{
    srv_packet p;
    const char *event = with_ack ? "fixture-sse-ack" : "fixture-sse";
    if (!srv_packet_encode(&p, sock->nsp, event, ITEMS(rest_of(payload, 1)), 1, false, 0))
        return;
    bool answer = with_ack && has_id;
    srv_cluster_query(sock->nsp, SRV_QUERY_SERVER_SIDE_EMIT, NULL, &p, sock,
                      answer ? sse_answer : NULL, answer ? pending_new(id) : NULL);
    srv_packet_free(&p);
}

/* remote-join(room, target) / remote-leave(room, target) / remote-disconnect(target, close). */
static void remote_change(srv_socket *sock, const srv_value *payload, int type, bool has_id,
                          uint64_t id)
{
    static char room[SERVER_MAX_ROOM_NAME], target[SERVER_MAX_ROOM_NAME];
    bool disconnect = type == CLUSTER_REQ_REMOTE_DISCONNECT;
    bool ok = srv_json_string_dup(srv_json_array_at(payload->json, disconnect ? 1 : 2), target,
                                  sizeof target);
    if (!disconnect)
        ok = ok && srv_json_string_dup(srv_json_array_at(payload->json, 1), room, sizeof room);
    bool close = sio_json_kind_of(srv_json_array_at(payload->json, 2)) == SIO_JSON_TRUE;
    srv_namespace *nsp = sock->nsp;
    if (has_id) /* ack() once the request is on its way (before a disconnect may end sock) */
        srv_ack_reply(sock, id, NULL, 0);
    if (ok)
        srv_cluster_remote(nsp, type, target, disconnect ? NULL : room, disconnect && close);
}

/* The cluster events; false when `name` is none of them. */
static bool cluster_event(srv_socket *sock, const char *name, const srv_value *payload, bool has_id,
                          uint64_t id)
{
    char room[SERVER_MAX_ROOM_NAME];
    bool all = false;
    if (strcmp(name, "local-emit") == 0) {
        broadcast_target t = {.nsp = sock->nsp, .local = true};
        srv_broadcast(&t, "local", ITEMS(rest_of(payload, 1)), 1);
    } else if (strcmp(name, "volatile-broadcast") == 0) {
        broadcast_target t = {.nsp = sock->nsp, .is_volatile = true, .compress_off = true};
        srv_broadcast(&t, "vol", ITEMS(rest_of(payload, 1)), 1);
    } else if (strcmp(name, "public-rooms") == 0) {
        if (has_id)
            srv_cluster_query(sock->nsp, SRV_QUERY_ALL_ROOMS, NULL, NULL, sock, public_rooms_all,
                              pending_new(id));
    } else if (strcmp(name, "room-size") == 0) {
        if (has_id && room_arg(payload, 1, room, &all))
            srv_cluster_query(sock->nsp, SRV_QUERY_FETCH_SOCKETS, all ? NULL : room, NULL, sock,
                              room_size_answer, pending_new(id));
    } else if (strcmp(name, "fetch-sockets") == 0) {
        if (has_id && room_arg(payload, 1, room, &all))
            srv_cluster_query(sock->nsp, SRV_QUERY_FETCH_SOCKETS, all ? NULL : room, NULL, sock,
                              fetch_answer, pending_new(id));
    } else if (strcmp(name, "server-side-emit") == 0 || strcmp(name, "server-side-emit-ack") == 0) {
        server_side_emit(sock, payload, has_id, id, name[16] == '-');
    } else if (strcmp(name, "remote-join") == 0) {
        remote_change(sock, payload, CLUSTER_REQ_REMOTE_JOIN, has_id, id);
    } else if (strcmp(name, "remote-leave") == 0) {
        remote_change(sock, payload, CLUSTER_REQ_REMOTE_LEAVE, has_id, id);
    } else if (strcmp(name, "remote-disconnect") == 0) {
        remote_change(sock, payload, CLUSTER_REQ_REMOTE_DISCONNECT, has_id, id);
    } else {
        return false;
    }
    return true;
}

/* Server-side events from the other nodes: `fixture-sse` goes on to this node's own clients of
 * the namespace as `sse`; `fixture-sse-ack` is answered with this node's port. */
static void on_server_side_event(void *state, srv_namespace *nsp, const srv_value *payload,
                                 buf *answer)
{
    char name[32];
    (void)state;
    if (!srv_json_string_dup(srv_json_array_at(payload->json, 0), name, sizeof name))
        return;
    if (strcmp(name, "fixture-sse") == 0) {
        broadcast_target t = {.nsp = nsp, .local = true};
        srv_broadcast(&t, "sse", ITEMS(rest_of(payload, 1)), 1);
    } else if (strcmp(name, "fixture-sse-ack") == 0 && answer) {
        char port[16];
        snprintf(port, sizeof port, "%d", nsp->sio->srv->port);
        buf_append_str(answer, port);
    }
}

/* Dispatches one event by name (FIXTURE.md sections 2 and 3). */
static void on_event(srv_socket *sock, const srv_value *payload, bool has_id, uint64_t id)
{
    sio_span name_token = srv_json_array_at(payload->json, 0);
    char name[32];
    if (!srv_json_string_dup(name_token, name, sizeof name))
        return; /* numeric or unknown names: no listener (ERR-04) */
    if (strcmp(name, "message") == 0) {
        EMIT(sock, "message-back", rest_of(payload, 1));
    } else if (strcmp(name, "message-with-ack") == 0) {
        if (has_id)
            srv_ack_reply(sock, id, ITEMS(rest_of(payload, 1)), 1);
    } else if (strcmp(name, "fixture-info") == 0) {
        if (has_id)
            fixture_info(sock, id);
    } else if (strcmp(name, "join") == 0 || strcmp(name, "leave") == 0) {
        join_or_leave(sock, payload, name[0] == 'j', has_id, id);
    } else if (strcmp(name, "rooms") == 0) {
        ack_rooms(sock, has_id, id);
    } else if (strcmp(name, "to") == 0 || strcmp(name, "to-many") == 0 ||
               strcmp(name, "except") == 0 || strcmp(name, "to-except") == 0) {
        room_emit(sock, payload, name);
    } else if (strcmp(name, "broadcast") == 0 || strcmp(name, "nsp-emit") == 0) {
        bool all = name[0] == 'n';
        broadcast_target t = {.nsp = sock->nsp, .skip = all ? NULL : sock};
        srv_broadcast(&t, all ? "nsp" : "bc", ITEMS(rest_of(payload, 1)), 1);
    } else if (strcmp(name, "server-ack") == 0) {
        server_ack(sock, payload, ACK_PLAIN);
    } else if (strcmp(name, "server-ack-timeout") == 0) {
        server_ack(sock, payload, ACK_WITH_TIMEOUT);
    } else if (strcmp(name, "bc-ack") == 0) {
        server_ack(sock, payload, ACK_BROADCAST);
    } else if (strcmp(name, "double-ack") == 0) {
        if (has_id)
            srv_ack_reply(sock, id, ITEMS(raw_json("1", 1)), 1); /* the second call is dropped */
#ifdef MUTANT_SECOND_ACK_SENT /* SIO-ACK-01: the handler's second ack goes out too */
        if (has_id)
            srv_ack_reply(sock, id, ITEMS(raw_json("2", 1)), 1);
#endif
    } else if (strcmp(name, "server-bin") == 0) {
        server_bin(sock);
    } else if (strcmp(name, "disconnect-me") == 0) {
        srv_socket_disconnect(sock, sio_json_kind_of(srv_json_array_at(payload->json, 1)) ==
                                        SIO_JSON_TRUE);
    } else if (strcmp(name, "log") == 0) {
        send_log(sock, has_id, id);
    } else if (strcmp(name, "volatile") == 0) {
        srv_emit_volatile(sock, "vol", ITEMS(rest_of(payload, 1)), 1);
    } else if (sock->nsp->sio->cluster && cluster_event(sock, name, payload, has_id, id)) {
        return;
    } else if (strcmp(name, "app-error") == 0) {
        /* The application fails on this event (ERR-05): nothing goes to the client, no ack; the
         * failure is only recorded, as Node's socket "error" event would be. */
        log_record(sock, "error", NULL, "app-error");
#ifdef MUTANT_APP_ERROR_CLOSES /* ERR-05: a failing handler ends the connection */
        srv_socket_disconnect(sock, true);
#endif
    }
}

/* ------------------------------------------------------------------ namespaces */

static const srv_nsp_handlers open_namespace = {NULL, on_connected, on_event, on_disconnecting,
                                                on_disconnected};
static const srv_nsp_handlers auth_namespace = {admit_token, on_connected, on_event,
                                                on_disconnecting, on_disconnected};

/* "/dyn-" followed by one or more ASCII digits and nothing else. */
static bool is_dynamic_name(const char *name)
{
    if (strncmp(name, "/dyn-", 5) != 0 || name[5] == '\0')
        return false;
    for (const char *p = name + 5; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static const srv_nsp_handlers *namespace_handlers(void *state, const char *name)
{
    (void)state;
    if (strcmp(name, "/") == 0 || strcmp(name, "/custom") == 0 || is_dynamic_name(name))
        return &open_namespace;
    if (strcmp(name, "/auth") == 0)
        return &auth_namespace;
    return NULL;
}

/* ------------------------------------------------------------------ handshake (section 3) */

/* The application-level refusal (EIO-HS-18): a handshake whose query carries `refuse=<reason>`
 * is turned down with that reason, as Node's allowRequest does. The reason is echoed only when
 * it is 1-40 letters, digits or '-', so it can go into JSON and a response body unescaped;
 * anything else is refused as "Forbidden". */
static bool refuse_handshake(void *state, sio_span query, char *message)
{
    char reason[48];
    size_t n = 0;
    (void)state;
    sio_err rc = sio_http_query_get(query, "refuse", (uint8_t *)reason, sizeof reason - 1, &n);
    if (rc == SIO_ERR_HTTP_NOT_FOUND)
        return false;
    reason[rc == SIO_OK ? n : 0] = '\0';
    n = strlen(reason); /* a decoded NUL ends the reason */
    bool plain = rc == SIO_OK && n >= 1 && n <= 40;
    for (size_t i = 0; plain && i < n; i++) {
        char ch = reason[i];
        plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                ch == '-';
    }
    snprintf(message, SERVER_MAX_REFUSAL, "%s", plain ? reason : "Forbidden");
    return true;
}

static const char *const static_namespaces[] = {"/", "/custom", "/auth", NULL};

static const srv_app fixture = {refuse_handshake, namespace_handlers,   on_protocol_error,
                                on_ack_result,    on_server_side_event, fixture_free,
                                static_namespaces};

const srv_app *fixture_app(void)
{
    return &fixture;
}
