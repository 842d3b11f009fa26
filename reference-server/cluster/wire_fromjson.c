/* JSON text in the two directions the adapter needs it: a peer's JSON body read into msgpack
 * objects (so that one decoder reads both encodings), and this server's Socket.IO JSON values
 * packed as notepack packs what JSON.parse and socket.io-parser make of them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"

int cluster_buf_write(void *data, const char *p, size_t len)
{
    buf_append((buf *)data, p, len);
    return 0;
}

/* The double JSON.parse makes of a number token. */
static double number_value(sio_span tok)
{
    char small[64];
    char *text = tok.len < sizeof small ? small : malloc(tok.len + 1);
    if (text == NULL)
        return NAN;
    memcpy(text, tok.ptr, tok.len);
    text[tok.len] = '\0';
    double d = strtod(text, NULL);
    if (text != small)
        free(text);
    return d;
}

/* ------------------------------------------------------------------ JSON -> msgpack objects */

static cluster_err object_from_json(msgpack_zone *zone, sio_span v, msgpack_object *out);

static cluster_err string_from_json(msgpack_zone *zone, sio_span tok, msgpack_object *out)
{
    size_t n = 0;
    sio_json_string_unescape(tok, NULL, 0, &n);
    char *s = msgpack_zone_malloc(zone, n ? n : 1);
    if (s == NULL)
        return CLUSTER_ERR_NO_MEMORY;
    if (sio_json_string_unescape(tok, (uint8_t *)s, n, &n) != SIO_OK)
        return CLUSTER_ERR_JSON;
    out->type = MSGPACK_OBJECT_STR;
    out->via.str.ptr = s;
    out->via.str.size = (uint32_t)n;
    return CLUSTER_OK;
}

static void number_from_json(sio_span tok, msgpack_object *out)
{
    double d = number_value(tok);
    if (isfinite(d) && floor(d) == d && d >= 0 && d < 18446744073709551616.0) {
        out->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        out->via.u64 = (uint64_t)d;
    } else if (isfinite(d) && floor(d) == d && d < 0 && d >= -9223372036854775808.0) {
        out->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
        out->via.i64 = (int64_t)d;
    } else {
        out->type = MSGPACK_OBJECT_FLOAT64;
        out->via.f64 = d;
    }
}

static cluster_err container_from_json(msgpack_zone *zone, sio_span v, bool object,
                                       msgpack_object *out)
{
    size_t n = sio_json_count(v);
    sio_json_iter it;
    if ((object ? sio_json_object_iter(v, &it) : sio_json_array_iter(v, &it)) != SIO_OK)
        return CLUSTER_ERR_JSON;
    void *items = msgpack_zone_malloc(
        zone, (n ? n : 1) * (object ? sizeof(msgpack_object_kv) : sizeof(msgpack_object)));
    if (items == NULL)
        return CLUSTER_ERR_NO_MEMORY;
    sio_span key, val;
    for (size_t i = 0; i < n && sio_json_next(&it, &key, &val); i++) {
        cluster_err e;
        if (object) {
            msgpack_object_kv *kv = (msgpack_object_kv *)items + i;
            e = string_from_json(zone, key, &kv->key);
            if (e == CLUSTER_OK)
                e = object_from_json(zone, val, &kv->val);
        } else {
            e = object_from_json(zone, val, (msgpack_object *)items + i);
        }
        if (e != CLUSTER_OK)
            return e;
    }
    if (object) {
        out->type = MSGPACK_OBJECT_MAP;
        out->via.map.ptr = items;
        out->via.map.size = (uint32_t)n;
    } else {
        out->type = MSGPACK_OBJECT_ARRAY;
        out->via.array.ptr = items;
        out->via.array.size = (uint32_t)n;
    }
    return CLUSTER_OK;
}

static cluster_err object_from_json(msgpack_zone *zone, sio_span v, msgpack_object *out)
{
    switch (sio_json_kind_of(v)) {
    case SIO_JSON_OBJECT:
        return container_from_json(zone, v, true, out);
    case SIO_JSON_ARRAY:
        return container_from_json(zone, v, false, out);
    case SIO_JSON_STRING:
        return string_from_json(zone, sio_json_trim(v), out);
    case SIO_JSON_NUMBER:
        number_from_json(sio_json_trim(v), out);
        return CLUSTER_OK;
    case SIO_JSON_TRUE:
    case SIO_JSON_FALSE:
        out->type = MSGPACK_OBJECT_BOOLEAN;
        out->via.boolean = sio_json_kind_of(v) == SIO_JSON_TRUE;
        return CLUSTER_OK;
    case SIO_JSON_NULL:
        out->type = MSGPACK_OBJECT_NIL;
        return CLUSTER_OK;
    default:
        return CLUSTER_ERR_JSON;
    }
}

cluster_err cluster_msgpack_from_json(msgpack_zone *zone, sio_span json, msgpack_object *out)
{
    sio_json_options opt = {.max_depth = CLUSTER_MAX_DEPTH};
    sio_err e = sio_json_validate(json.ptr, json.len, &opt, NULL);
    if (e == SIO_ERR_JSON_DEPTH)
        return CLUSTER_ERR_DEPTH;
    if (e == SIO_ERR_JSON_UTF8)
        return CLUSTER_ERR_UTF8;
    if (e != SIO_OK)
        return CLUSTER_ERR_JSON;
    return object_from_json(zone, json, out);
}

/* ------------------------------------------------------------------ Socket.IO JSON -> msgpack */

/* The attachment a placeholder object stands for (socket.io-parser's reconstruction), or -1. */
static long placeholder_index(sio_span obj, uint32_t natts)
{
    sio_span flag, num;
    int64_t k;
    if (sio_json_object_get(obj, "_placeholder", 12, &flag) != SIO_OK ||
        sio_json_kind_of(flag) != SIO_JSON_TRUE ||
        sio_json_object_get(obj, "num", 3, &num) != SIO_OK || sio_json_get_int(num, &k) != SIO_OK ||
        k < 0 || (uint64_t)k >= natts)
        return -1;
    return (long)k;
}

/* notepack's number encoding, including what it does past the 64-bit range: the high word is
 * the quotient by 2^32 and the low word the value, each taken modulo 2^32. */
static void pack_js_number(msgpack_packer *pk, double d)
{
    if (!isfinite(d) || floor(d) != d) {
        msgpack_pack_double(pk, d);
        return;
    }
    if (d >= 0 && d < 18446744073709551616.0) {
        msgpack_pack_uint64(pk, (uint64_t)d);
        return;
    }
    if (d < 0 && d >= -2147483648.0) {
        msgpack_pack_int64(pk, (int64_t)d);
        return;
    }
    double hi = fmod(floor(d / 4294967296.0), 4294967296.0), lo = fmod(d, 4294967296.0);
    if (hi < 0)
        hi += 4294967296.0;
    if (lo < 0)
        lo += 4294967296.0;
    uint32_t h = (uint32_t)hi, l = (uint32_t)lo;
    uint8_t b[9] = {d >= 0 ? 0xcf : 0xd3, (uint8_t)(h >> 24), (uint8_t)(h >> 16),
                    (uint8_t)(h >> 8),    (uint8_t)h,         (uint8_t)(l >> 24),
                    (uint8_t)(l >> 16),   (uint8_t)(l >> 8),  (uint8_t)l};
    msgpack_pack_ext_body(pk, b, sizeof b); /* raw bytes: ext_body appends them unchanged */
}

typedef struct json_walk {
    const sio_span *atts;
    uint32_t natts;
    bool stringify; /* JSON.stringify (Buffers as objects) instead of msgpack */
    msgpack_packer *pk;
    sio_json_writer *w;
    cluster_err err;
} json_walk;

static void walk_value(json_walk *jw, sio_span v);

static void walk_string(json_walk *jw, sio_span tok)
{
    size_t n = 0;
    sio_json_string_unescape(tok, NULL, 0, &n);
    uint8_t *s = malloc(n ? n : 1);
    if (s == NULL) {
        jw->err = CLUSTER_ERR_NO_MEMORY;
        return;
    }
    sio_json_string_unescape(tok, s, n, &n);
    if (jw->stringify) {
        sio_json_write_string(jw->w, s, n);
    } else {
        msgpack_pack_str(jw->pk, n);
        msgpack_pack_str_body(jw->pk, s, n);
    }
    free(s);
}

static void walk_binary(json_walk *jw, sio_span b)
{
    if (!jw->stringify) {
        msgpack_pack_bin(jw->pk, b.len);
        msgpack_pack_bin_body(jw->pk, b.ptr, b.len);
        return;
    }
    /* Buffer.prototype.toJSON */
    sio_json_write_begin_object(jw->w);
    sio_json_write_key(jw->w, (const uint8_t *)"type", 4);
    sio_json_write_string(jw->w, (const uint8_t *)"Buffer", 6);
    sio_json_write_key(jw->w, (const uint8_t *)"data", 4);
    sio_json_write_begin_array(jw->w);
    for (size_t i = 0; i < b.len; i++)
        sio_json_write_int(jw->w, b.ptr[i]);
    sio_json_write_end_array(jw->w);
    sio_json_write_end_object(jw->w);
}

static void walk_object(json_walk *jw, sio_span v)
{
    long k = placeholder_index(v, jw->natts);
    if (k >= 0) {
        walk_binary(jw, jw->atts[k]);
        return;
    }
    size_t n = sio_json_count(v);
    js_property *props = calloc(n ? n : 1, sizeof *props);
    sio_span *vals = calloc(n ? n : 1, sizeof *vals);
    uint8_t **names = calloc(n ? n : 1, sizeof *names);
    sio_json_iter it;
    sio_span key, val;
    size_t i = 0;
    if (props == NULL || vals == NULL || names == NULL || sio_json_object_iter(v, &it) != SIO_OK) {
        jw->err = CLUSTER_ERR_NO_MEMORY;
        n = 0;
    }
    for (; i < n && sio_json_next(&it, &key, &val); i++) {
        size_t len = 0;
        sio_json_string_unescape(key, NULL, 0, &len);
        names[i] = malloc(len ? len : 1);
        if (names[i] == NULL) {
            jw->err = CLUSTER_ERR_NO_MEMORY;
            break;
        }
        sio_json_string_unescape(key, names[i], len, &len);
        props[i] = (js_property){.key = names[i], .key_len = len, .first = i};
        vals[i] = val;
    }
    size_t count = 0;
    if (jw->err == CLUSTER_OK)
        cluster_js_order(props, i, false, &count); /* JSON.parse keeps __proto__ as a property */
    if (jw->stringify)
        sio_json_write_begin_object(jw->w);
    else
        msgpack_pack_map(jw->pk, count);
    for (size_t j = 0; j < count && jw->err == CLUSTER_OK; j++) {
        if (jw->stringify) {
            sio_json_write_key(jw->w, props[j].key, props[j].key_len);
        } else {
            msgpack_pack_str(jw->pk, props[j].key_len);
            msgpack_pack_str_body(jw->pk, props[j].key, props[j].key_len);
        }
        walk_value(jw, vals[props[j].last]);
    }
    if (jw->stringify)
        sio_json_write_end_object(jw->w);
    for (size_t j = 0; j < i; j++)
        free(names[j]);
    free(names);
    free(vals);
    free(props);
}

static void walk_value(json_walk *jw, sio_span v)
{
    if (jw->err != CLUSTER_OK)
        return;
    sio_json_iter it;
    sio_span item;
    switch (sio_json_kind_of(v)) {
    case SIO_JSON_OBJECT:
        walk_object(jw, v);
        return;
    case SIO_JSON_ARRAY:
        if (jw->stringify)
            sio_json_write_begin_array(jw->w);
        else
            msgpack_pack_array(jw->pk, sio_json_count(v));
        sio_json_array_iter(v, &it);
        while (sio_json_next(&it, NULL, &item))
            walk_value(jw, item);
        if (jw->stringify)
            sio_json_write_end_array(jw->w);
        return;
    case SIO_JSON_STRING:
        walk_string(jw, sio_json_trim(v));
        return;
    case SIO_JSON_NUMBER:
        if (jw->stringify) {
            char text[32];
            double d = number_value(sio_json_trim(v));
            if (isfinite(d))
                sio_json_write_number_text(jw->w, (const uint8_t *)text,
                                           cluster_js_number(d, text));
            else
                sio_json_write_null(jw->w);
        } else {
            pack_js_number(jw->pk, number_value(sio_json_trim(v)));
        }
        return;
    case SIO_JSON_TRUE:
    case SIO_JSON_FALSE:
        if (jw->stringify)
            sio_json_write_bool(jw->w, sio_json_kind_of(v) == SIO_JSON_TRUE);
        else if (sio_json_kind_of(v) == SIO_JSON_TRUE)
            msgpack_pack_true(jw->pk);
        else
            msgpack_pack_false(jw->pk);
        return;
    case SIO_JSON_NULL:
        if (jw->stringify)
            sio_json_write_null(jw->w);
        else
            msgpack_pack_nil(jw->pk);
        return;
    default:
        jw->err = CLUSTER_ERR_JSON;
    }
}

static cluster_err check_json(sio_span json, const sio_span *atts, uint32_t natts)
{
    (void)atts;
    sio_json_options opt = {.max_depth = SIO_JSON_MAX_DEPTH_DEFAULT};
    if (json.len == 0 || sio_json_validate(json.ptr, json.len, &opt, NULL) != SIO_OK)
        return CLUSTER_ERR_JSON;
    if (natts > CLUSTER_MAX_ATTACHMENTS)
        return CLUSTER_ERR_ATTACHMENTS;
    return CLUSTER_OK;
}

cluster_err cluster_pack_json_value(msgpack_packer *pk, sio_span json, const sio_span *atts,
                                    uint32_t natts)
{
    cluster_err e = check_json(json, atts, natts);
    if (e != CLUSTER_OK)
        return e;
    json_walk jw = {atts, natts, false, pk, NULL, CLUSTER_OK};
    walk_value(&jw, sio_json_trim(json));
    return jw.err;
}

cluster_err cluster_json_value_stringify(sio_json_writer *w, sio_span json, const sio_span *atts,
                                         uint32_t natts)
{
    cluster_err e = check_json(json, atts, natts);
    if (e != CLUSTER_OK)
        return e;
    json_walk jw = {atts, natts, true, NULL, w, CLUSTER_OK};
    walk_value(&jw, sio_json_trim(json));
    return jw.err;
}
