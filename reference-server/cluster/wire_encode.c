/* Encoding what this node publishes, in Node's layout: msgpack through msgpack-c (whose shortest
 * forms are notepack's), JSON through libsiocodec's writer (JSON.stringify's output), keys in the
 * order Node's adapter builds its objects. */
#include <string.h>

#include "wire.h"
#include "wire_internal.h"

/* ------------------------------------------------------------------ channels */

static void channel(buf *out, const char *key, const char *kind, const char *nsp, const char *tail)
{
    buf_append_str(out, key);
    buf_append_str(out, kind);
    buf_append_str(out, "#");
    buf_append_str(out, nsp);
    buf_append_str(out, "#");
    if (tail) {
        buf_append_str(out, tail);
        buf_append_str(out, "#");
    }
    buf_append(out, "", 1);
    out->len--; /* NUL-terminated, the terminator not counted */
}

void cluster_channel_broadcast(buf *out, const char *key, const char *nsp)
{
    channel(out, key, "", nsp, NULL);
}

void cluster_channel_room(buf *out, const char *key, const char *nsp, const char *room)
{
    channel(out, key, "", nsp, room);
}

void cluster_channel_request(buf *out, const char *key, const char *nsp)
{
    channel(out, key, "-request", nsp, NULL);
}

void cluster_channel_response(buf *out, const char *key, const char *nsp)
{
    channel(out, key, "-response", nsp, NULL);
}

void cluster_channel_own_response(buf *out, const char *key, const char *nsp, const char *uid)
{
    channel(out, key, "-response", nsp, uid);
}

bool cluster_channel_room_of(const char *key, const char *nsp, sio_span ch, sio_span *room)
{
    size_t k = strlen(key), n = strlen(nsp);
    size_t head = k + 1 + n + 1; /* P#nsp# */
    if (ch.len < head || memcmp(ch.ptr, key, k) != 0 || ch.ptr[k] != '#' ||
        memcmp(ch.ptr + k + 1, nsp, n) != 0 || ch.ptr[k + 1 + n] != '#')
        return false;
    if (ch.len == head) {
        *room = sio_span_of(ch.ptr + head, 0);
        return true;
    }
    if (ch.ptr[ch.len - 1] != '#') /* P#nsp#room# */
        return false;
    *room = sio_span_of(ch.ptr + head, ch.len - head - 1);
    return true;
}

void cluster_broadcast_channel(buf *out, const char *key, const char *nsp, const cluster_target *t)
{
    if (t->room_count == 1)
        cluster_channel_room(out, key, nsp, t->rooms[0]);
    else
        cluster_channel_broadcast(out, key, nsp);
}

/* ------------------------------------------------------------------ msgpack */

static void pack_cstr(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void pack_strings(msgpack_packer *pk, const char *const *items, size_t n)
{
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        pack_cstr(pk, items[i]);
}

static void pack_flags(msgpack_packer *pk, const cluster_flags *f)
{
    msgpack_pack_map(pk, (size_t)f->has_volatile + f->has_compress + f->has_timeout);
    if (f->has_volatile) {
        pack_cstr(pk, "volatile");
        f->is_volatile ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    }
    if (f->has_compress) {
        pack_cstr(pk, "compress");
        f->compress ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    }
    if (f->has_timeout) {
        pack_cstr(pk, "timeout");
        msgpack_pack_uint64(pk, f->timeout_ms);
    }
}

/* {rooms, except, flags}, Node's order for broadcast options. */
static void pack_opts(msgpack_packer *pk, const cluster_target *t)
{
    msgpack_pack_map(pk, 3);
    pack_cstr(pk, "rooms");
    pack_strings(pk, t->rooms, t->room_count);
    pack_cstr(pk, "except");
    pack_strings(pk, t->except, t->except_count);
    pack_cstr(pk, "flags");
    pack_flags(pk, &t->flags);
}

/* {type:2, data, nsp} */
static cluster_err pack_packet(msgpack_packer *pk, const char *nsp, sio_span data,
                               const sio_span *atts, uint32_t n)
{
    msgpack_pack_map(pk, 3);
    pack_cstr(pk, "type");
    msgpack_pack_uint64(pk, 2);
    pack_cstr(pk, "data");
    cluster_err e = cluster_pack_json_value(pk, data, atts, n);
    pack_cstr(pk, "nsp");
    pack_cstr(pk, nsp);
    return e;
}

static cluster_err done(buf *out, size_t mark, cluster_err e)
{
    if (e != CLUSTER_OK)
        out->len = mark; /* nothing half-written stays */
    return e;
}

cluster_err cluster_broadcast_encode(buf *out, const char *uid, const char *nsp, sio_span data_json,
                                     const sio_span *attachments, uint32_t attachment_count,
                                     const cluster_target *t)
{
    size_t mark = out->len;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, cluster_buf_write);
    msgpack_pack_array(&pk, 3);
    pack_cstr(&pk, uid);
    cluster_err e = pack_packet(&pk, nsp, data_json, attachments, attachment_count);
    pack_opts(&pk, t);
    return done(out, mark, e);
}

cluster_err cluster_request_broadcast(buf *out, const char *uid, const char *request_id,
                                      const char *nsp, sio_span data_json,
                                      const sio_span *attachments, uint32_t attachment_count,
                                      const cluster_target *t)
{
    size_t mark = out->len;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, cluster_buf_write);
    msgpack_pack_map(&pk, 5);
    pack_cstr(&pk, "uid");
    pack_cstr(&pk, uid);
    pack_cstr(&pk, "requestId");
    pack_cstr(&pk, request_id);
    pack_cstr(&pk, "type");
    msgpack_pack_uint64(&pk, CLUSTER_REQ_BROADCAST);
    pack_cstr(&pk, "packet");
    cluster_err e = pack_packet(&pk, nsp, data_json, attachments, attachment_count);
    pack_cstr(&pk, "opts");
    pack_opts(&pk, t);
    return done(out, mark, e);
}

cluster_err cluster_response_broadcast_ack(buf *out, const char *request_id, sio_span answer_json,
                                           const sio_span *attachments, uint32_t attachment_count)
{
    size_t mark = out->len;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, cluster_buf_write);
    msgpack_pack_map(&pk, 3);
    pack_cstr(&pk, "type");
    msgpack_pack_uint64(&pk, CLUSTER_REQ_BROADCAST_ACK);
    pack_cstr(&pk, "requestId");
    pack_cstr(&pk, request_id);
    pack_cstr(&pk, "packet");
    return done(out, mark,
                cluster_pack_json_value(&pk, answer_json, attachments, attachment_count));
}

/* ------------------------------------------------------------------ JSON */

/* A JSON object written with the codec's writer into `out` (sized first, then written). */
typedef void (*json_body)(sio_json_writer *w, const void *ctx, cluster_err *err);

static cluster_err write_json(buf *out, json_body body, const void *ctx)
{
    sio_json_writer w;
    cluster_err e = CLUSTER_OK;
    size_t need = 0;
    sio_json_writer_init(&w, NULL, 0);
    body(&w, ctx, &e);
    sio_err se = sio_json_writer_finish(&w, &need);
    if (e != CLUSTER_OK || (se != SIO_OK && se != SIO_ERR_BUFFER_TOO_SMALL))
        return e != CLUSTER_OK ? e : CLUSTER_ERR_JSON;
    buf_reserve(out, need + 1);
    sio_json_writer_init(&w, out->data + out->len, need);
    body(&w, ctx, &e);
    size_t len = 0;
    if (sio_json_writer_finish(&w, &len) != SIO_OK || e != CLUSTER_OK)
        return e != CLUSTER_OK ? e : CLUSTER_ERR_JSON;
    out->len += len;
    return CLUSTER_OK;
}

static void key(sio_json_writer *w, const char *k)
{
    sio_json_write_key(w, (const uint8_t *)k, strlen(k));
}

static void string(sio_json_writer *w, const char *s)
{
    sio_json_write_string(w, (const uint8_t *)s, strlen(s));
}

static void strings(sio_json_writer *w, const char *const *items, size_t n)
{
    sio_json_write_begin_array(w);
    for (size_t i = 0; i < n; i++)
        string(w, items[i]);
    sio_json_write_end_array(w);
}

/* {rooms, except}: the options of JSON requests carry no flags. */
static void rooms_except(sio_json_writer *w, const cluster_target *t)
{
    key(w, "opts");
    sio_json_write_begin_object(w);
    key(w, "rooms");
    strings(w, t->rooms, t->room_count);
    key(w, "except");
    strings(w, t->except, t->except_count);
    sio_json_write_end_object(w);
}

typedef struct request_fields {
    const char *uid, *request_id;
    int type;
    const cluster_target *target;
    const char *const *rooms;
    size_t room_count;
    bool has_rooms, has_close, close;
    sio_span data;
    const sio_span *atts;
    uint32_t natts;
    bool has_data;
    uint64_t count;
    bool has_count, type_first;
    sio_span raw_sockets;
} request_fields;

/* Every JSON request and response, keys in the order Node's adapter writes them. */
static void request_body(sio_json_writer *w, const void *ctx, cluster_err *err)
{
    const request_fields *f = ctx;
    sio_json_write_begin_object(w);
    if (f->type_first) { /* responses of types 6 and 8: {type, requestId, …} */
        key(w, "type");
        sio_json_write_int(w, f->type);
    }
    if (f->uid) {
        key(w, "uid");
        string(w, f->uid);
    }
    if (f->request_id) {
        key(w, "requestId");
        string(w, f->request_id);
    }
    if (f->type >= 0 && !f->type_first) {
        key(w, "type");
        sio_json_write_int(w, f->type);
    }
    if (f->target)
        rooms_except(w, f->target);
    if (f->has_rooms) {
        key(w, "rooms");
        strings(w, f->rooms, f->room_count);
    }
    if (f->has_close) {
        key(w, "close");
        sio_json_write_bool(w, f->close);
    }
    if (f->has_data) {
        key(w, "data");
        cluster_err e = cluster_json_value_stringify(w, f->data, f->atts, f->natts);
        if (e != CLUSTER_OK)
            *err = e;
    }
    if (f->has_count) {
        key(w, "clientCount");
        sio_json_write_int(w, (int64_t)f->count);
    }
    if (f->raw_sockets.ptr) {
        key(w, "sockets");
        if (sio_json_write_raw(w, f->raw_sockets.ptr, f->raw_sockets.len) != SIO_OK)
            *err = CLUSTER_ERR_JSON;
    }
    sio_json_write_end_object(w);
}

static cluster_err json_message(buf *out, const request_fields *f)
{
    size_t mark = out->len;
    return done(out, mark, write_json(out, request_body, f));
}

void cluster_request_all_rooms(buf *out, const char *uid, const char *request_id)
{
    json_message(out, &(request_fields){
                          .uid = uid, .request_id = request_id, .type = CLUSTER_REQ_ALL_ROOMS});
}

void cluster_request_fetch(buf *out, const char *uid, const char *request_id,
                           const cluster_target *t)
{
    json_message(out, &(request_fields){.uid = uid,
                                        .request_id = request_id,
                                        .type = CLUSTER_REQ_REMOTE_FETCH,
                                        .target = t});
}

void cluster_request_rooms(buf *out, const char *uid, int type, const cluster_target *t,
                           const char *const *rooms, size_t room_count)
{
    json_message(out, &(request_fields){.uid = uid,
                                        .type = type,
                                        .target = t,
                                        .rooms = rooms,
                                        .room_count = room_count,
                                        .has_rooms = true});
}

void cluster_request_disconnect(buf *out, const char *uid, const cluster_target *t, bool close)
{
    json_message(out, &(request_fields){.uid = uid,
                                        .type = CLUSTER_REQ_REMOTE_DISCONNECT,
                                        .target = t,
                                        .has_close = true,
                                        .close = close});
}

cluster_err cluster_request_server_side_emit(buf *out, const char *uid, const char *request_id,
                                             sio_span data_json, const sio_span *attachments,
                                             uint32_t attachment_count)
{
    return json_message(out, &(request_fields){.uid = uid,
                                               .request_id = request_id,
                                               .type = CLUSTER_REQ_SERVER_SIDE_EMIT,
                                               .data = data_json,
                                               .atts = attachments,
                                               .natts = attachment_count,
                                               .has_data = true});
}

void cluster_response_rooms(buf *out, const char *request_id, const char *const *rooms,
                            size_t count)
{
    json_message(out, &(request_fields){.request_id = request_id,
                                        .type = -1,
                                        .rooms = rooms,
                                        .room_count = count,
                                        .has_rooms = true});
}

static void sockets_body(sio_json_writer *w, const void *ctx, cluster_err *err)
{
    const request_fields *f = ctx;
    (void)err;
    sio_json_write_begin_object(w);
    key(w, "requestId");
    string(w, f->request_id);
    key(w, "sockets");
    strings(w, f->rooms, f->room_count);
    sio_json_write_end_object(w);
}

void cluster_response_socket_ids(buf *out, const char *request_id, const char *const *ids,
                                 size_t count)
{
    size_t mark = out->len;
    request_fields f = {.request_id = request_id, .rooms = ids, .room_count = count};
    done(out, mark, write_json(out, sockets_body, &f));
}

cluster_err cluster_response_sockets(buf *out, const char *request_id, sio_span sockets_json)
{
    if (sockets_json.ptr == NULL)
        return CLUSTER_ERR_JSON;
    return json_message(
        out, &(request_fields){.request_id = request_id, .type = -1, .raw_sockets = sockets_json});
}

cluster_err cluster_response_server_side_emit(buf *out, const char *request_id,
                                              sio_span answer_json, const sio_span *attachments,
                                              uint32_t attachment_count)
{
    return json_message(out, &(request_fields){.request_id = request_id,
                                               .type = CLUSTER_REQ_SERVER_SIDE_EMIT,
                                               .type_first = true,
                                               .data = answer_json,
                                               .atts = attachments,
                                               .natts = attachment_count,
                                               .has_data = true});
}

void cluster_response_client_count(buf *out, const char *request_id, uint64_t count)
{
    json_message(out, &(request_fields){.request_id = request_id,
                                        .type = CLUSTER_REQ_BROADCAST_CLIENT_COUNT,
                                        .type_first = true,
                                        .count = count,
                                        .has_count = true});
}

void cluster_response_legacy_join(buf *out, const char *request_id)
{
    json_message(out, &(request_fields){.request_id = request_id, .type = -1});
}
