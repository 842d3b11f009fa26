/* The wire module seen from outside the server (wire_ffi.h): decoding into a description and
 * encoding from one, for the vectors' replay through ctypes and for the fuzz target. */
#include <stdlib.h>
#include <string.h>

#include "sio/json.h"

#include "wire.h"
#include "wire_ffi.h"

/* The description is read with libsiocodec's tree-less JSON readers, so each value's JSON text is
 * handed to the encoders exactly as the decoder wrote it (no number reprinted). Strings taken out
 * of it are kept in `pool`, released at the end. */
typedef struct reader {
    char *pool[4096];
    size_t used;
} reader;

static sio_span member(sio_span obj, const char *name)
{
    sio_span v = SIO_SPAN_NULL;
    if (sio_json_object_get(obj, name, strlen(name), &v) != SIO_OK)
        return SIO_SPAN_NULL;
    return v;
}

static const char *str(reader *r, sio_span obj, const char *name)
{
    sio_span v = member(obj, name);
    size_t n = 0;
    if (v.ptr == NULL || sio_json_kind_of(v) != SIO_JSON_STRING ||
        r->used == sizeof r->pool / sizeof *r->pool)
        return NULL;
    sio_json_string_unescape(v, NULL, 0, &n);
    char *s = malloc(n + 1);
    sio_json_string_unescape(v, (uint8_t *)s, n, &n);
    s[n] = '\0';
    r->pool[r->used++] = s;
    return s;
}

static bool number(sio_span obj, const char *name, int64_t *out)
{
    sio_span v = member(obj, name);
    return v.ptr != NULL && sio_json_get_int(v, out) == SIO_OK;
}

static bool is_true(sio_span obj, const char *name)
{
    sio_span v = member(obj, name);
    return v.ptr != NULL && sio_json_kind_of(v) == SIO_JSON_TRUE;
}

/* Up to `cap` strings of an array member. */
static size_t strings(reader *r, sio_span obj, const char *name, const char **out, size_t cap)
{
    sio_span arr = member(obj, name), item;
    sio_json_iter it;
    size_t n = 0;
    if (arr.ptr == NULL || sio_json_array_iter(arr, &it) != SIO_OK)
        return 0;
    while (n < cap && sio_json_next(&it, NULL, &item) &&
           r->used < sizeof r->pool / sizeof *r->pool) {
        size_t len = 0;
        sio_json_string_unescape(item, NULL, 0, &len);
        char *s = malloc(len + 1);
        sio_json_string_unescape(item, (uint8_t *)s, len, &len);
        s[len] = '\0';
        r->pool[r->used++] = s;
        out[n++] = s;
    }
    return n;
}

/* A described value {json, attachments}: its JSON text (a span of the description) and bytes. */
typedef struct owned_value {
    sio_span json;
    sio_span atts[CLUSTER_MAX_ATTACHMENTS];
    uint8_t *bytes[CLUSTER_MAX_ATTACHMENTS];
    uint32_t natts;
} owned_value;

static bool value_of(sio_span v, owned_value *out)
{
    memset(out, 0, sizeof *out);
    if (v.ptr == NULL)
        return false;
    out->json = member(v, "json");
    sio_span atts = member(v, "attachments"), item;
    sio_json_iter it;
    if (out->json.ptr == NULL || atts.ptr == NULL || sio_json_array_iter(atts, &it) != SIO_OK)
        return false;
    while (sio_json_next(&it, NULL, &item) && out->natts < CLUSTER_MAX_ATTACHMENTS) {
        size_t n = 0;
        sio_json_string_unescape(item, NULL, 0, &n);
        char *hex = malloc(n + 1);
        sio_json_string_unescape(item, (uint8_t *)hex, n, &n);
        uint8_t *b = malloc(n / 2 + 1);
        for (size_t i = 0; i < n / 2; i++) {
            char pair[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
            b[i] = (uint8_t)strtoul(pair, NULL, 16);
        }
        free(hex);
        out->bytes[out->natts] = b;
        out->atts[out->natts++] = sio_span_of(b, n / 2);
    }
    return true;
}

static void value_free(owned_value *v)
{
    for (uint32_t i = 0; i < v->natts; i++)
        free(v->bytes[i]);
}

/* Room lists and flags of a described `opts`. */
typedef struct owned_target {
    cluster_target t;
    const char *rooms[1024], *except[1024];
} owned_target;

static void target_of(reader *r, sio_span opts, owned_target *o)
{
    memset(o, 0, sizeof *o);
    if (opts.ptr == NULL)
        return;
    o->t.room_count = strings(r, opts, "rooms", o->rooms, 1024);
    o->t.except_count = strings(r, opts, "except", o->except, 1024);
    o->t.rooms = o->rooms;
    o->t.except = o->except;
    sio_span flags = member(opts, "flags");
    int64_t timeout;
    if (flags.ptr == NULL)
        return;
    if (member(flags, "volatile").ptr)
        o->t.flags.has_volatile = true, o->t.flags.is_volatile = is_true(flags, "volatile");
    if (member(flags, "compress").ptr)
        o->t.flags.has_compress = true, o->t.flags.compress = is_true(flags, "compress");
    if (number(flags, "timeout", &timeout) && timeout >= 0)
        o->t.flags.has_timeout = true, o->t.flags.timeout_ms = (uint64_t)timeout;
}

static cluster_err encode_request(reader *r, sio_span d, buf *out)
{
    int64_t type = -1;
    const char *uid = str(r, d, "uid"), *rid = str(r, d, "requestId");
    owned_target t;
    owned_value v = {0};
    cluster_err e = CLUSTER_OK;
    const char *rooms[1024];
    number(d, "type", &type);
    /* The server always writes its uid, and a requestId where an answer is awaited. */
    if (uid == NULL ||
        (rid == NULL && (type == CLUSTER_REQ_ALL_ROOMS || type == CLUSTER_REQ_REMOTE_FETCH ||
                         type == CLUSTER_REQ_BROADCAST)))
        return CLUSTER_ERR_FIELD;
    target_of(r, member(d, "opts"), &t);
    switch (type) {
    case CLUSTER_REQ_ALL_ROOMS:
        cluster_request_all_rooms(out, uid, rid);
        break;
    case CLUSTER_REQ_REMOTE_JOIN:
    case CLUSTER_REQ_REMOTE_LEAVE:
        if (member(d, "opts").ptr == NULL)
            return CLUSTER_ERR_FIELD; /* the legacy form: never sent by the server */
        cluster_request_rooms(out, uid, (int)type, &t.t, rooms,
                              strings(r, d, "rooms", rooms, 1024));
        break;
    case CLUSTER_REQ_REMOTE_DISCONNECT:
        if (member(d, "opts").ptr == NULL)
            return CLUSTER_ERR_FIELD;
        cluster_request_disconnect(out, uid, &t.t, is_true(d, "close"));
        break;
    case CLUSTER_REQ_REMOTE_FETCH:
        cluster_request_fetch(out, uid, rid, &t.t);
        break;
    case CLUSTER_REQ_SERVER_SIDE_EMIT:
        e = value_of(member(d, "data"), &v)
                ? cluster_request_server_side_emit(out, uid, rid, v.json, v.atts, v.natts)
                : CLUSTER_ERR_FIELD;
        break;
    case CLUSTER_REQ_BROADCAST: {
        sio_span packet = member(d, "packet");
        e = packet.ptr && value_of(member(packet, "data"), &v)
                ? cluster_request_broadcast(out, uid, rid, str(r, packet, "nsp"), v.json, v.atts,
                                            v.natts, &t.t)
                : CLUSTER_ERR_FIELD;
        break;
    }
    default:
        e = CLUSTER_ERR_FIELD;
    }
    value_free(&v);
    return e;
}

static cluster_err encode_response(reader *r, sio_span d, buf *out)
{
    int64_t type = -1, count;
    const char *rid = str(r, d, "requestId");
    const char *rooms[1024];
    owned_value v = {0};
    cluster_err e = CLUSTER_OK;
    number(d, "type", &type);
    if (rid == NULL)
        return CLUSTER_ERR_FIELD; /* every response the server writes names its request */
    if (number(d, "clientCount", &count) && count >= 0) {
        cluster_response_client_count(out, rid, (uint64_t)count);
    } else if (type == CLUSTER_REQ_BROADCAST_ACK || type == CLUSTER_REQ_SERVER_SIDE_EMIT) {
        if (!value_of(member(d, type == CLUSTER_REQ_BROADCAST_ACK ? "ack" : "data"), &v))
            e = CLUSTER_ERR_FIELD;
        else if (type == CLUSTER_REQ_BROADCAST_ACK)
            e = cluster_response_broadcast_ack(out, rid, v.json, v.atts, v.natts);
        else
            e = cluster_response_server_side_emit(out, rid, v.json, v.atts, v.natts);
    } else if (member(d, "rooms").ptr) {
        cluster_response_rooms(out, rid, rooms, strings(r, d, "rooms", rooms, 1024));
    } else if (value_of(member(d, "sockets"), &v)) {
        e = cluster_response_sockets(out, rid, v.json);
    } else {
        cluster_response_legacy_join(out, rid);
    }
    value_free(&v);
    return e;
}

int cluster_encode_described(const char *description, char *out, size_t cap, size_t *written)
{
    sio_span d = sio_span_of(description, strlen(description));
    reader *r = calloc(1, sizeof *r);
    buf b = {0};
    cluster_err e = CLUSTER_ERR_JSON;
    const char *kind =
        sio_json_validate(d.ptr, d.len, NULL, NULL) == SIO_OK ? str(r, d, "kind") : NULL;
    *written = 0;
    if (kind && strcmp(kind, "broadcast") == 0 && str(r, d, "uid") != NULL) {
        sio_span packet = member(d, "packet");
        owned_value v;
        owned_target t;
        target_of(r, member(d, "opts"), &t);
        e = packet.ptr && value_of(member(packet, "data"), &v)
                ? cluster_broadcast_encode(&b, str(r, d, "uid"), str(r, packet, "nsp"), v.json,
                                           v.atts, v.natts, &t.t)
                : CLUSTER_ERR_FIELD;
        if (packet.ptr)
            value_free(&v);
    } else if (kind && strcmp(kind, "request") == 0) {
        e = encode_request(r, d, &b);
    } else if (kind && strcmp(kind, "response") == 0) {
        e = encode_response(r, d, &b);
    }
    for (size_t i = 0; i < r->used; i++)
        free(r->pool[i]);
    free(r);
    if (e == CLUSTER_OK) {
        *written = buf_size(&b);
        if (out && cap >= buf_size(&b))
            memcpy(out, buf_begin(&b), buf_size(&b));
    }
    buf_reset(&b);
    return (int)e;
}

int cluster_describe_bytes(int kind, const uint8_t *p, size_t len, char *out, size_t cap,
                           size_t *written)
{
    cluster_msg m;
    cluster_err e = kind == CLUSTER_MSG_BROADCAST ? cluster_broadcast_decode(p, len, &m, NULL)
                    : kind == CLUSTER_MSG_REQUEST ? cluster_request_decode(p, len, &m, NULL)
                                                  : cluster_response_decode(p, len, &m, NULL);
    *written = 0;
    if (e != CLUSTER_OK)
        return (int)e;
    buf b = {0};
    cluster_msg_describe(&m, &b);
    cluster_msg_free(&m);
    *written = buf_size(&b);
    if (out && cap >= buf_size(&b))
        memcpy(out, buf_begin(&b), buf_size(&b));
    buf_reset(&b);
    return CLUSTER_OK;
}
