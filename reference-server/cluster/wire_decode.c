/* Decoding what a peer published: broadcasts, requests and responses, msgpack or JSON. Field
 * meanings follow what Node's adapter does with them (reference-server/cluster/README.md): a
 * missing `nsp` is "/", missing rooms mean none, a key given twice keeps its last value, numbers
 * used as room names are their decimal text. */
#include <math.h>
#include <string.h>

#include "sio/utf8.h"

#include "wire.h"
#include "wire_internal.h"

typedef struct decoder {
    cluster_msg *m;
    const uint8_t *base; /* msgpack bytes (NULL for JSON bodies) */
    size_t len;
} decoder;

static const msgpack_object *map_get(const msgpack_object *map, const char *name)
{
    const msgpack_object *found = NULL;
    size_t n = strlen(name);
    if (map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++) { /* the last one wins, as in a JS object */
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            memcmp(k->via.str.ptr, name, n) == 0)
            found = &map->via.map.ptr[i].val;
    }
    /* a property whose value is undefined is as good as absent */
    return found && !cluster_is_undefined(found) ? found : NULL;
}

static const char *zone_string(msgpack_zone *zone, const char *p, size_t n)
{
    char *s = msgpack_zone_malloc(zone, n + 1);
    if (s) {
        if (n > 0) /* msgpack-c gives an empty string a NULL pointer */
            memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* A string field (NULL when absent or of another type). */
static cluster_err get_string(decoder *d, const msgpack_object *map, const char *name,
                              const char **out)
{
    const msgpack_object *v = map_get(map, name);
    *out = NULL;
    if (v == NULL || v->type != MSGPACK_OBJECT_STR)
        return CLUSTER_OK;
    if (v->via.str.size &&
        sio_utf8_validate((const uint8_t *)v->via.str.ptr, v->via.str.size, NULL) != SIO_OK)
        return CLUSTER_ERR_UTF8;
    *out = zone_string(d->m->zone, v->via.str.ptr, v->via.str.size);
    return *out ? CLUSTER_OK : CLUSTER_ERR_NO_MEMORY;
}

/* A room name: a string, or a number as JavaScript writes it. */
static cluster_err room_name(decoder *d, const msgpack_object *o, const char **out)
{
    char text[32];
    switch (o->type) {
    case MSGPACK_OBJECT_STR:
        if (o->via.str.size &&
            sio_utf8_validate((const uint8_t *)o->via.str.ptr, o->via.str.size, NULL) != SIO_OK)
            return CLUSTER_ERR_UTF8;
        *out = zone_string(d->m->zone, o->via.str.ptr, o->via.str.size);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: {
        double v = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER   ? (double)o->via.u64
                   : o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? (double)o->via.i64
                                                                : o->via.f64;
        if (!isfinite(v))
            return CLUSTER_ERR_FIELD;
        size_t n = cluster_js_number(v, text);
        *out = zone_string(d->m->zone, text, n);
        break;
    }
    default:
        return CLUSTER_ERR_FIELD;
    }
    return *out ? CLUSTER_OK : CLUSTER_ERR_NO_MEMORY;
}

/* An array of room names; absent is empty (JavaScript's new Set(undefined)). */
static cluster_err get_rooms(decoder *d, const msgpack_object *map, const char *name,
                             cluster_strings *out, bool *present)
{
    const msgpack_object *v = map_get(map, name);
    *out = (cluster_strings){NULL, 0};
    if (present)
        *present = v != NULL;
    if (v == NULL || v->type == MSGPACK_OBJECT_NIL)
        return CLUSTER_OK;
    if (v->type != MSGPACK_OBJECT_ARRAY)
        return CLUSTER_ERR_FIELD;
    const char **items = msgpack_zone_malloc(d->m->zone, (v->via.array.size + 1) * sizeof *items);
    if (items == NULL)
        return CLUSTER_ERR_NO_MEMORY;
    for (uint32_t i = 0; i < v->via.array.size; i++) {
        cluster_err e = room_name(d, &v->via.array.ptr[i], &items[i]);
        if (e != CLUSTER_OK)
            return e;
    }
    *out = (cluster_strings){items, v->via.array.size};
    return CLUSTER_OK;
}

/* JavaScript truthiness of a scalar (containers, byte arrays and extensions are objects: true). */
static bool truthy(const msgpack_object *v)
{
    if (v == NULL)
        return false;
    switch (v->type) {
    case MSGPACK_OBJECT_NIL:
        return false;
    case MSGPACK_OBJECT_BOOLEAN:
        return v->via.boolean;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return v->via.u64 != 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return true;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return v->via.f64 != 0 && !isnan(v->via.f64);
    case MSGPACK_OBJECT_STR:
        return v->via.str.size != 0;
    default:
        return true;
    }
}

static bool number_of(const msgpack_object *v, double *out)
{
    if (v == NULL)
        return false;
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *out = (double)v->via.u64;
    else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = (double)v->via.i64;
    else if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64)
        *out = v->via.f64;
    else
        return false;
    return true;
}

static cluster_err get_opts(decoder *d, const msgpack_object *opts, cluster_opts *out)
{
    if (opts == NULL || opts->type != MSGPACK_OBJECT_MAP)
        return CLUSTER_ERR_FIELD;
    cluster_err e = get_rooms(d, opts, "rooms", &out->rooms, NULL);
    if (e == CLUSTER_OK)
        e = get_rooms(d, opts, "except", &out->except, NULL);
    if (e != CLUSTER_OK)
        return e;
    const msgpack_object *flags = map_get(opts, "flags");
    if (flags == NULL || flags->type != MSGPACK_OBJECT_MAP)
        return CLUSTER_OK;
    cluster_flags *f = &out->flags;
    const msgpack_object *v;
    if ((v = map_get(flags, "volatile")) != NULL)
        f->has_volatile = true, f->is_volatile = truthy(v);
    if ((v = map_get(flags, "compress")) != NULL)
        f->has_compress = true, f->compress = truthy(v);
    if ((v = map_get(flags, "local")) != NULL)
        f->has_local = true, f->local = truthy(v);
    double t;
    if (number_of(map_get(flags, "timeout"), &t) && t >= 0 && t < 1e15)
        f->has_timeout = true, f->timeout_ms = (uint64_t)t;
    return CLUSTER_OK;
}

static cluster_err get_value(decoder *d, const msgpack_object *v, cluster_value *out)
{
    if (v == NULL)
        return *out = (cluster_value){NULL, 0, NULL, 0}, CLUSTER_OK;
    return cluster_value_from_msgpack(d->m->zone, d->base, d->len, v, out);
}

static cluster_err get_packet(decoder *d, const msgpack_object *packet)
{
    cluster_msg *m = d->m;
    if (packet == NULL || packet->type != MSGPACK_OBJECT_MAP)
        return CLUSTER_ERR_FIELD;
    double type;
    if (!number_of(map_get(packet, "type"), &type) || type != 2)
        return CLUSTER_ERR_PACKET_TYPE;
    const msgpack_object *nsp = map_get(packet, "nsp");
    if (nsp != NULL && nsp->type != MSGPACK_OBJECT_STR)
        return CLUSTER_ERR_FIELD; /* Node compares it with its namespace name and drops the message */
    cluster_err e = get_string(d, packet, "nsp", &m->packet.nsp);
    const msgpack_object *data = map_get(packet, "data");
    if (e == CLUSTER_OK &&
        (data == NULL || data->type != MSGPACK_OBJECT_ARRAY || data->via.array.size == 0))
        return CLUSTER_ERR_FIELD; /* an event is [name, ...args] */
    if (e == CLUSTER_OK)
        e = get_value(d, data, &m->packet.data);
    m->has_packet = e == CLUSTER_OK;
    return e;
}

/* ------------------------------------------------------------------ the three decoders */

static cluster_err start(cluster_msg *out, const uint8_t *p, size_t len, bool json_allowed,
                         msgpack_object *root, size_t *err_at, decoder *d)
{
    memset(out, 0, sizeof *out);
    out->type = CLUSTER_REQ_UNKNOWN;
    *d = (decoder){out, NULL, 0};
    if (err_at)
        *err_at = 0;
    if (len == 0)
        return CLUSTER_ERR_EMPTY;
    if (len > CLUSTER_MAX_MESSAGE)
        return CLUSTER_ERR_TOO_BIG;
    if (json_allowed && p[0] == '{') {
        out->zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
        if (out->zone == NULL)
            return CLUSTER_ERR_NO_MEMORY;
        return cluster_msgpack_from_json(out->zone, sio_span_of(p, len), root);
    }
    cluster_err e = cluster_msgpack_check(p, len, err_at);
    if (e != CLUSTER_OK)
        return e;
    out->msgpack = true;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(&u, (const char *)p, len, &off);
    out->zone = msgpack_unpacked_release_zone(&u);
    *root = u.data;
    msgpack_unpacked_destroy(&u);
    if (r != MSGPACK_UNPACK_SUCCESS || out->zone == NULL)
        return r == MSGPACK_UNPACK_NOMEM_ERROR ? CLUSTER_ERR_NO_MEMORY
                                               : CLUSTER_ERR_MSGPACK_TRUNCATED;
    *d = (decoder){out, p, len};
    return CLUSTER_OK;
}

static cluster_err finish(cluster_msg *out, cluster_err e)
{
    if (e != CLUSTER_OK)
        cluster_msg_free(out);
    return e;
}

cluster_err cluster_broadcast_decode(const uint8_t *p, size_t len, cluster_msg *out, size_t *err_at)
{
    msgpack_object root;
    decoder d;
    /* Broadcasts are always msgpack: a `{` there is the integer 123, not an array. */
    cluster_err e = start(out, p, len, false, &root, err_at, &d);
    out->kind = CLUSTER_MSG_BROADCAST;
    if (e != CLUSTER_OK)
        return finish(out, e);
    if (root.type != MSGPACK_OBJECT_ARRAY || root.via.array.size < 3)
        return finish(out,
                      CLUSTER_ERR_SHAPE); /* [uid, packet, opts]; Node ignores extra elements */
    const msgpack_object *items = root.via.array.ptr;
    if (items[0].type == MSGPACK_OBJECT_STR) {
        if (items[0].via.str.size && sio_utf8_validate((const uint8_t *)items[0].via.str.ptr,
                                                       items[0].via.str.size, NULL) != SIO_OK)
            return finish(out, CLUSTER_ERR_UTF8);
        out->uid = zone_string(out->zone, items[0].via.str.ptr, items[0].via.str.size);
    }
    e = get_packet(&d, &items[1]);
    if (e == CLUSTER_OK)
        e = get_opts(&d, &items[2], &out->opts);
    return finish(out, e);
}

static cluster_err request_fields(decoder *d, const msgpack_object *root)
{
    cluster_msg *m = d->m;
    const msgpack_object *v;
    cluster_err e = CLUSTER_OK;
    switch (m->type) {
    case CLUSTER_REQ_SOCKETS:
        return get_rooms(d, root, "rooms", &m->rooms, &m->has_rooms);
    case CLUSTER_REQ_REMOTE_JOIN:
    case CLUSTER_REQ_REMOTE_LEAVE:
    case CLUSTER_REQ_REMOTE_DISCONNECT:
        m->close = truthy(map_get(root, "close"));
        if ((v = map_get(root, "opts")) == NULL) { /* the legacy form: one socket by id */
            e = get_string(d, root, "sid", &m->sid);
            if (e == CLUSTER_OK)
                e = get_string(d, root, "room", &m->room);
            return e;
        }
        e = get_opts(d, v, &m->opts);
        if (e == CLUSTER_OK && m->type != CLUSTER_REQ_REMOTE_DISCONNECT)
            e = get_rooms(d, root, "rooms", &m->rooms, &m->has_rooms);
        return e;
    case CLUSTER_REQ_REMOTE_FETCH:
        return get_opts(d, map_get(root, "opts"), &m->opts);
    case CLUSTER_REQ_SERVER_SIDE_EMIT:
        v = map_get(root, "data");
        if (v == NULL || v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size == 0)
            return CLUSTER_ERR_FIELD; /* [event, ...args] */
        return get_value(d, v, &m->data);
    case CLUSTER_REQ_BROADCAST:
        e = get_packet(d, map_get(root, "packet"));
        if (e == CLUSTER_OK)
            e = get_opts(d, map_get(root, "opts"), &m->opts);
        return e;
    default:
        return CLUSTER_OK; /* ALL_ROOMS carries nothing more; unknown types are ignored */
    }
}

static cluster_err type_field(const msgpack_object *root, int *type, bool *has)
{
    double t;
    *has = number_of(map_get(root, "type"), &t);
    *type = *has && t >= 0 && t <= 9 && floor(t) == t ? (int)t : CLUSTER_REQ_UNKNOWN;
    return CLUSTER_OK;
}

cluster_err cluster_request_decode(const uint8_t *p, size_t len, cluster_msg *out, size_t *err_at)
{
    msgpack_object root;
    decoder d;
    cluster_err e = start(out, p, len, true, &root, err_at, &d);
    out->kind = CLUSTER_MSG_REQUEST;
    if (e != CLUSTER_OK)
        return finish(out, e);
    if (root.type != MSGPACK_OBJECT_MAP)
        return finish(out, CLUSTER_ERR_SHAPE);
    type_field(&root, &out->type, &out->has_type);
    if (out->type == CLUSTER_REQ_BROADCAST_CLIENT_COUNT || out->type == CLUSTER_REQ_BROADCAST_ACK)
        out->type = CLUSTER_REQ_UNKNOWN; /* response types, not requests */
    e = get_string(&d, &root, "uid", &out->uid);
    if (e == CLUSTER_OK)
        e = get_string(&d, &root, "requestId", &out->request_id);
    if (e == CLUSTER_OK)
        e = request_fields(&d, &root);
    return finish(out, e);
}

cluster_err cluster_response_decode(const uint8_t *p, size_t len, cluster_msg *out, size_t *err_at)
{
    msgpack_object root;
    decoder d;
    cluster_err e = start(out, p, len, true, &root, err_at, &d);
    out->kind = CLUSTER_MSG_RESPONSE;
    if (e != CLUSTER_OK)
        return finish(out, e);
    if (root.type != MSGPACK_OBJECT_MAP)
        return finish(out, CLUSTER_ERR_SHAPE);
    type_field(&root, &out->type, &out->has_type);
    double count;
    if (number_of(map_get(&root, "clientCount"), &count) && count >= 0 && count < 1e15)
        out->has_client_count = true, out->client_count = (uint64_t)count;
    e = get_string(&d, &root, "requestId", &out->request_id);
    if (e == CLUSTER_OK)
        e = get_rooms(&d, &root, "rooms", &out->rooms, &out->has_rooms);
    if (e == CLUSTER_OK)
        e = get_value(&d, map_get(&root, "data"), &out->data);
    if (e == CLUSTER_OK)
        e = get_value(&d, map_get(&root, "sockets"), &out->sockets);
    if (e == CLUSTER_OK)
        e = get_value(&d, map_get(&root, "packet"), &out->ack);
    return finish(out, e);
}

void cluster_msg_free(cluster_msg *m)
{
    if (m->zone)
        msgpack_zone_free(m->zone);
    memset(m, 0, sizeof *m);
}
