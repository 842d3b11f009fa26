/* msgpack values as Socket.IO JSON: what a Node node's clients would receive for the value its
 * adapter decoded (notepack.io 3.0.1), after socket.io-parser deconstructed it and JSON.stringify
 * wrote it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sio/utf8.h"

#include "wire.h"
#include "wire_internal.h"

/* ------------------------------------------------------------------ property order */

static bool array_index(const uint8_t *s, size_t n, uint32_t *out)
{
    /* A canonical decimal below 2^32 - 1: no sign, no leading zero (except "0" itself). */
    if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v >= 0xffffffffu)
        return false;
    *out = (uint32_t)v;
    return true;
}

static int by_name_then_position(const void *a, const void *b)
{
    const js_property *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = n ? memcmp(x->key, y->key, n) : 0;
    if (c == 0 && x->key_len != y->key_len)
        c = x->key_len < y->key_len ? -1 : 1;
    if (c == 0)
        c = x->first < y->first ? -1 : x->first > y->first;
    return c;
}

static int by_enumeration_order(const void *a, const void *b)
{
    const js_property *x = a, *y = b;
    if (x->is_index != y->is_index)
        return x->is_index ? -1 : 1;
    if (x->is_index)
        return x->index < y->index ? -1 : x->index > y->index;
    return x->first < y->first ? -1 : x->first > y->first;
}

void cluster_js_order(js_property *props, size_t n, bool drop_proto, size_t *count)
{
    /* Sorting by name brings duplicates together in O(n log n): a hostile map of many keys costs
     * no more than a sort. */
    qsort(props, n, sizeof *props, by_name_then_position);
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && props[j].key_len == props[i].key_len &&
               (props[i].key_len == 0 || memcmp(props[j].key, props[i].key, props[i].key_len) == 0))
            j++;
        js_property p = props[i];
        p.last = props[j - 1].first;
        p.is_index = array_index(p.key, p.key_len, &p.index);
        if (!(drop_proto && p.key_len == 9 && memcmp(p.key, "__proto__", 9) == 0))
            props[out++] = p;
        i = j;
    }
    qsort(props, out, sizeof *props, by_enumeration_order);
    *count = out;
}

/* ------------------------------------------------------------------ extensions */

typedef enum ext_form { EXT_FIXED, EXT_8, EXT_16, EXT_32 } ext_form;

static const uint8_t *ext_data(const value_writer *vw, const msgpack_object_ext *e, size_t *off)
{
    const uint8_t *d = (const uint8_t *)e->ptr;
    if (vw->base == NULL || d < vw->base + 2 || d > vw->base + vw->base_len)
        return NULL;
    *off = (size_t)(d - vw->base);
    return d;
}

/* Which header carried the extension: notepack gives fixext 1 of type 0 (`undefined`) and ext 8 of
 * type 0 (an ArrayBuffer) different meanings, and msgpack-c does not say. The header sits just
 * before the type byte; a length byte equal to a fixext prefix cannot occur for those sizes. */
static ext_form ext_form_of(const value_writer *vw, const msgpack_object_ext *e)
{
    size_t off;
    const uint8_t *b = vw->base;
    if (ext_data(vw, e, &off) == NULL)
        return EXT_32;
    static const uint8_t fixed[17] = {[1] = 0xd4, [2] = 0xd5, [4] = 0xd6, [8] = 0xd7, [16] = 0xd8};
    if (e->size <= 16 && fixed[e->size] && b[off - 2] == fixed[e->size])
        return EXT_FIXED;
    if (off >= 3 && b[off - 3] == 0xc7 && b[off - 2] == e->size)
        return EXT_8;
    if (off >= 4 && b[off - 4] == 0xc8 && ((uint32_t)b[off - 3] << 8 | b[off - 2]) == e->size)
        return EXT_16;
    return EXT_32;
}

static uint32_t be32(const char *p)
{
    const uint8_t *u = (const uint8_t *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

bool cluster_is_undefined(const msgpack_object *o)
{
    /* msgpack-c points an extension's data into the message, after at least a prefix and a type
     * byte; for fixext 1 the prefix is two bytes back (for ext 8 of size 1, the length byte 01). */
    return o->type == MSGPACK_OBJECT_EXT && o->via.ext.type == 0 && o->via.ext.size == 1 &&
           ((const uint8_t *)o->via.ext.ptr)[-2] == 0xd4;
}

/* The time value of a date extension (notepack's arithmetic, in doubles as JavaScript does it);
 * false when the extension is not a date. *bad: a timestamp notepack would misread. */
static bool ext_date(const value_writer *vw, const msgpack_object_ext *e, double *ms, bool *bad)
{
    ext_form form = ext_form_of(vw, e);
    *bad = false;
    if (form == EXT_FIXED && e->type == 0 &&
        e->size == 8) { /* legacy: signed hi, unsigned lo, in ms */
        *ms = (double)(int32_t)be32(e->ptr) * 4294967296.0 + (double)be32(e->ptr + 4);
        return true;
    }
    if (e->type != -1 || form == EXT_16 || form == EXT_32)
        return false;
    if (form == EXT_FIXED && e->size == 4) {
        *ms = (double)be32(e->ptr) * 1e3;
        return true;
    }
    if (form == EXT_FIXED && e->size == 8) {
        uint32_t hi = be32(e->ptr), lo = be32(e->ptr + 4);
        double s = (double)(hi & 3) * 4294967296.0 + (double)lo;
        *ms = s * 1e3 + (double)(hi >> 2) / 1e6;
        return true;
    }
    if (form == EXT_8 && e->size == 12) {
        double ns = (double)be32(e->ptr);
        double sec = (double)(int32_t)be32(e->ptr + 4) * 4294967296.0 + (double)be32(e->ptr + 8);
        *ms = sec * 1e3 + ns / 1e6;
        return true;
    }
    /* ext 8 of type -1 is always read as a 12-byte timestamp by notepack, whatever its length. */
    *bad = form == EXT_8;
    return false;
}

/* ------------------------------------------------------------------ values */

/* msgpack-c leaves the pointer of an empty string or byte array NULL; the codec's writers and
 * the server's buffers want a real one. */
static const void *nonnull(const void *p)
{
    return p ? p : "";
}

static void fail(value_writer *vw, cluster_err e)
{
    if (vw->err == CLUSTER_OK)
        vw->err = e;
}

static void write_binary(value_writer *vw, const void *p, size_t n)
{
    if (vw->natts >= CLUSTER_MAX_ATTACHMENTS) {
        fail(vw, CLUSTER_ERR_ATTACHMENTS);
        return;
    }
    if (vw->atts)
        vw->atts[vw->natts] = sio_span_of(p, n);
    vw->natts++;
    sio_json_write_placeholder(&vw->w, NULL);
}

static void write_number(value_writer *vw, double d)
{
    char text[32];
    if (!isfinite(d)) { /* JSON.stringify writes NaN and the infinities as null */
        sio_json_write_null(&vw->w);
        return;
    }
    size_t n = cluster_js_number(d, text);
    sio_json_write_number_text(&vw->w, (const uint8_t *)text, n);
}

static void write_ext(value_writer *vw, const msgpack_object_ext *e)
{
    double ms;
    bool bad;
    if (ext_date(vw, e, &ms, &bad)) {
        char iso[48];
        if (cluster_js_date_iso(ms, iso))
            sio_json_write_string(&vw->w, (const uint8_t *)iso, strlen(iso));
        else
            sio_json_write_null(&vw->w);
        return;
    }
    if (bad) {
        fail(vw, CLUSTER_ERR_FIELD);
        return;
    }
    ext_form form = ext_form_of(vw, e);
    if (e->type == 0 && form == EXT_FIXED && e->size == 1) { /* undefined, inside an array */
        sio_json_write_null(&vw->w);
        return;
    }
    if (e->type == 0 && form != EXT_FIXED) { /* an ArrayBuffer */
        write_binary(vw, e->ptr, e->size);
        return;
    }
    /* Any other extension: notepack returns [type, Buffer]. */
    sio_json_write_begin_array(&vw->w);
    sio_json_write_int(&vw->w, e->type);
    write_binary(vw, e->ptr, e->size);
    sio_json_write_end_array(&vw->w);
}

/* The property name JavaScript makes of a map key (ToPropertyKey), into `scratch` when it is
 * not the key's own bytes. */
static bool key_name(const msgpack_object *k, char scratch[32], const uint8_t **name, size_t *len)
{
    switch (k->type) {
    case MSGPACK_OBJECT_STR:
        *name = (const uint8_t *)(k->via.str.ptr ? k->via.str.ptr : "");
        *len = k->via.str.size;
        return true;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: {
        double d = k->type == MSGPACK_OBJECT_POSITIVE_INTEGER   ? (double)k->via.u64
                   : k->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? (double)k->via.i64
                                                                : k->via.f64;
        if (isnan(d))
            *len = strlen(strcpy(scratch, "NaN"));
        else if (isinf(d))
            *len = strlen(strcpy(scratch, d > 0 ? "Infinity" : "-Infinity"));
        else
            *len = cluster_js_number(d, scratch);
        *name = (const uint8_t *)scratch;
        return true;
    }
    case MSGPACK_OBJECT_NIL:
        *len = strlen(strcpy(scratch, "null"));
        *name = (const uint8_t *)scratch;
        return true;
    case MSGPACK_OBJECT_BOOLEAN:
        *len = strlen(strcpy(scratch, k->via.boolean ? "true" : "false"));
        *name = (const uint8_t *)scratch;
        return true;
    default:
        if (cluster_is_undefined(k)) {
            *len = strlen(strcpy(scratch, "undefined"));
            *name = (const uint8_t *)scratch;
            return true;
        }
        return false; /* an array, map, byte array or extension as a name: refused */
    }
}

static void write_map(value_writer *vw, const msgpack_object_map *m)
{
    js_property *props = calloc(m->size ? m->size : 1, sizeof *props);
    char(*scratch)[32] = calloc(m->size ? m->size : 1, sizeof *scratch);
    if (props == NULL || scratch == NULL) {
        free(props);
        free(scratch);
        fail(vw, CLUSTER_ERR_NO_MEMORY);
        return;
    }
    for (size_t i = 0; i < m->size; i++) {
        if (!key_name(&m->ptr[i].key, scratch[i], &props[i].key, &props[i].key_len)) {
            fail(vw, CLUSTER_ERR_KEY);
            break;
        }
        if (sio_utf8_validate(props[i].key, props[i].key_len, NULL) != SIO_OK) {
            fail(vw, CLUSTER_ERR_UTF8);
            break;
        }
        props[i].first = i;
    }
    size_t count = 0;
    if (vw->err == CLUSTER_OK)
        cluster_js_order(props, m->size, !vw->from_json, &count);
    sio_json_write_begin_object(&vw->w);
    for (size_t i = 0; i < count && vw->err == CLUSTER_OK; i++) {
        const msgpack_object *v = &m->ptr[props[i].last].val;
        if (cluster_is_undefined(v))
            continue; /* a property whose value is undefined is not written */
        sio_json_write_key(&vw->w, props[i].key, props[i].key_len);
        cluster_write_msgpack_value(vw, v);
    }
    sio_json_write_end_object(&vw->w);
    free(props);
    free(scratch);
}

void cluster_write_msgpack_value(value_writer *vw, const msgpack_object *o)
{
    if (vw->err != CLUSTER_OK)
        return;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        sio_json_write_null(&vw->w);
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        sio_json_write_bool(&vw->w, o->via.boolean);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 <= (1ull << 53))
            sio_json_write_int(&vw->w, (int64_t)o->via.u64);
        else
            write_number(vw, (double)o->via.u64); /* JavaScript holds it as a double */
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        if (o->via.i64 >= -(1ll << 53))
            sio_json_write_int(&vw->w, o->via.i64);
        else
            write_number(vw, (double)o->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        write_number(vw, o->via.f64);
        break;
    case MSGPACK_OBJECT_STR:
        if (sio_utf8_validate(nonnull(o->via.str.ptr), o->via.str.size, NULL) != SIO_OK)
            fail(vw, CLUSTER_ERR_UTF8);
        else
            sio_json_write_string(&vw->w, nonnull(o->via.str.ptr), o->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
        write_binary(vw, nonnull(o->via.bin.ptr), o->via.bin.size);
        break;
    case MSGPACK_OBJECT_EXT:
        write_ext(vw, &o->via.ext);
        break;
    case MSGPACK_OBJECT_ARRAY:
        sio_json_write_begin_array(&vw->w);
        for (uint32_t i = 0; i < o->via.array.size && vw->err == CLUSTER_OK; i++)
            cluster_write_msgpack_value(vw, &o->via.array.ptr[i]);
        sio_json_write_end_array(&vw->w);
        break;
    case MSGPACK_OBJECT_MAP:
        write_map(vw, &o->via.map);
        break;
    default:
        fail(vw, CLUSTER_ERR_FIELD);
    }
}

cluster_err cluster_value_from_msgpack(msgpack_zone *zone, const uint8_t *base, size_t base_len,
                                       const msgpack_object *o, cluster_value *out)
{
    *out = (cluster_value){NULL, 0, NULL, 0};
    if (cluster_is_undefined(o))
        return CLUSTER_OK; /* absent */
    /* Sizing pass, then the real one into zone memory. */
    value_writer vw = {
        .err = CLUSTER_OK, .base = base, .base_len = base_len, .from_json = base == NULL};
    sio_json_writer_init(&vw.w, NULL, 0);
    cluster_write_msgpack_value(&vw, o);
    size_t need = 0;
    sio_err e = sio_json_writer_finish(&vw.w, &need);
    if (vw.err != CLUSTER_OK)
        return vw.err;
    if (e != SIO_OK && e != SIO_ERR_BUFFER_TOO_SMALL)
        return CLUSTER_ERR_DEPTH; /* the only writer limit a checked message can reach */
    char *text = msgpack_zone_malloc(zone, need + 1);
    sio_span *atts = msgpack_zone_malloc(zone, (vw.natts ? vw.natts : 1) * sizeof *atts);
    if (text == NULL || atts == NULL)
        return CLUSTER_ERR_NO_MEMORY;
    value_writer real = {.atts = atts,
                         .err = CLUSTER_OK,
                         .base = base,
                         .base_len = base_len,
                         .from_json = base == NULL};
    sio_json_writer_init(&real.w, (uint8_t *)text, need);
    cluster_write_msgpack_value(&real, o);
    size_t len = 0;
    if (sio_json_writer_finish(&real.w, &len) != SIO_OK || real.err != CLUSTER_OK)
        return real.err != CLUSTER_OK ? real.err : CLUSTER_ERR_NO_MEMORY;
    text[len] = '\0';
    *out = (cluster_value){text, len, atts, real.natts};
    return CLUSTER_OK;
}
