/* {"$bin":…} and placeholders, both ways (binjson.h). */
#include <stdlib.h>
#include <string.h>

#include "binjson.h"

typedef struct walk {
    sio_json_writer w;
    bool to_placeholders;
    /* to placeholders: where the decoded bytes go (NULL in the sizing pass) */
    uint8_t *bytes;
    size_t bytes_used;
    rc_bin_args *args;
    sio_err err;
    /* from placeholders */
    const sio_span *attachments;
    uint32_t count;
} walk;

static void value(walk *k, sio_span v);

/* The one member of an object, when it has exactly one. */
static bool only_member(sio_span obj, sio_span *key, sio_span *val)
{
    sio_json_iter it;
    if (sio_json_object_iter(obj, &it) != SIO_OK || !sio_json_next(&it, key, val))
        return false;
    sio_span k2, v2;
    return !sio_json_next(&it, &k2, &v2);
}

/* {"$bin":"<base64>"} becomes a placeholder; its bytes are decoded into the attachments. */
static bool bin_object(walk *k, sio_span obj)
{
    sio_span key, val;
    if (!only_member(obj, &key, &val) || !sio_json_string_equals(key, (const uint8_t *)"$bin", 4) ||
        sio_json_kind_of(val) != SIO_JSON_STRING)
        return false;
    size_t n = 0, cap = val.len;
    uint8_t *text = malloc(cap ? cap : 1), *dst = k->bytes ? k->bytes + k->bytes_used : NULL;
    sio_err rc = text ? sio_json_string_unescape(val, text, cap, &n) : SIO_ERR_NO_MEMORY;
    size_t len = 0;
    if (rc == SIO_OK)
        rc = sio_base64_decode(text, n, SIO_BASE64_STRICT, dst, dst ? 3 * (n / 4 + 1) : 0, &len);
    if (rc == SIO_ERR_BUFFER_TOO_SMALL && !dst)
        rc = SIO_OK; /* sizing pass: len is the size needed */
    free(text);
    uint32_t num = 0;
    if (rc == SIO_OK && k->args->count >= RC_BIN_MAX_ATTACHMENTS)
        rc = SIO_ERR_LIMIT;
    if (rc == SIO_OK)
        rc = sio_json_write_placeholder(&k->w, &num);
    if (rc != SIO_OK) {
        k->err = k->err ? k->err : rc;
        return true;
    }
    if (dst)
        k->args->attachments[num] = sio_span_of(dst, len);
    k->args->count = num + 1;
    k->bytes_used += dst ? len : 3 * (n / 4 + 1);
    return true;
}

/* {"_placeholder":true,"num":k} becomes {"$bin":"<base64 of attachment k>"}. */
static bool placeholder_object(walk *k, sio_span obj)
{
    sio_span flag, num;
    int64_t i = -1;
    if (sio_json_count(obj) != 2 || sio_json_object_get(obj, "_placeholder", 12, &flag) != SIO_OK ||
        sio_json_kind_of(flag) != SIO_JSON_TRUE ||
        sio_json_object_get(obj, "num", 3, &num) != SIO_OK || sio_json_get_int(num, &i) != SIO_OK ||
        i < 0 || (uint64_t)i >= k->count)
        return false;
    const sio_span *a = &k->attachments[i];
    size_t n = sio_base64_encoded_len(a->len), written = 0;
    uint8_t *text = malloc(n ? n : 1);
    if (!text) {
        k->err = SIO_ERR_NO_MEMORY;
        return true;
    }
    sio_base64_encode(a->ptr, a->len, text, n, &written);
    sio_json_write_begin_object(&k->w);
    sio_json_write_key(&k->w, (const uint8_t *)"$bin", 4);
    sio_json_write_string(&k->w, text, written);
    sio_json_write_end_object(&k->w);
    free(text);
    return true;
}

static void object(walk *k, sio_span obj)
{
    if (k->to_placeholders ? bin_object(k, obj) : placeholder_object(k, obj))
        return;
    sio_json_iter it;
    sio_span key, val;
    sio_json_object_iter(obj, &it);
    sio_json_write_begin_object(&k->w);
    while (sio_json_next(&it, &key, &val)) {
        size_t n = 0;
        uint8_t *name = malloc(key.len ? key.len : 1);
        if (!name) {
            k->err = SIO_ERR_NO_MEMORY;
            return;
        }
        sio_json_string_unescape(key, name, key.len, &n);
        sio_json_write_key(&k->w, name, n);
        free(name);
        value(k, val);
    }
    sio_json_write_end_object(&k->w);
}

static void value(walk *k, sio_span v)
{
    sio_json_kind kind = sio_json_kind_of(v);
    if (kind == SIO_JSON_OBJECT) {
        object(k, sio_json_trim(v));
    } else if (kind == SIO_JSON_ARRAY) {
        sio_json_iter it;
        sio_span item;
        sio_json_array_iter(v, &it);
        sio_json_write_begin_array(&k->w);
        while (sio_json_next(&it, NULL, &item))
            value(k, item);
        sio_json_write_end_array(&k->w);
    } else {
        sio_span t = sio_json_trim(v);
        sio_json_write_raw(&k->w, t.ptr, t.len);
    }
}

/* One pass of the walk into out[0..cap) (cap 0: sizing). */
static sio_err run(walk *k, sio_span json, uint8_t *out, size_t cap, size_t *len)
{
    sio_json_writer_init(&k->w, out, cap);
    k->err = SIO_OK;
    value(k, json);
    sio_err rc = sio_json_writer_finish(&k->w, len);
    return k->err ? k->err : rc;
}

sio_err rc_bin_args_from_json(sio_span json, rc_bin_args *out)
{
    memset(out, 0, sizeof *out);
    sio_err rc = sio_json_validate(json.ptr, json.len, NULL, NULL);
    if (rc != SIO_OK)
        return rc;
    walk k = {.to_placeholders = true, .args = out};
    size_t len = 0;
    rc = run(&k, json, NULL, 0, &len);
    if (rc != SIO_OK && rc != SIO_ERR_BUFFER_TOO_SMALL)
        return rc;
    out->json = malloc(len ? len : 1);
    out->bytes = malloc(k.bytes_used ? k.bytes_used : 1);
    if (!out->json || !out->bytes)
        return SIO_ERR_NO_MEMORY;
    out->count = 0;
    k.bytes = out->bytes;
    k.bytes_used = 0;
    rc = run(&k, json, out->json, len, &out->json_len);
    return rc;
}

void rc_bin_args_free(rc_bin_args *a)
{
    free(a->json);
    free(a->bytes);
    memset(a, 0, sizeof *a);
}

char *rc_bin_json_from_packet(sio_span json, const sio_span *attachments, uint32_t count)
{
    walk k = {.to_placeholders = false, .attachments = attachments, .count = count};
    size_t len = 0;
    if (json.len == 0)
        json = sio_span_of("[]", 2);
    sio_err rc = run(&k, json, NULL, 0, &len);
    if (rc != SIO_OK && rc != SIO_ERR_BUFFER_TOO_SMALL)
        return NULL;
    char *out = malloc(len + 1);
    if (!out || run(&k, json, (uint8_t *)out, len, &len) != SIO_OK) {
        free(out);
        return NULL;
    }
    out[len] = '\0';
    return out;
}

char *rc_json_array_rest(sio_span array, sio_span *first)
{
    *first = SIO_SPAN_NULL;
    char *out = malloc(array.len + 3);
    if (!out)
        return NULL;
    size_t w = 0;
    out[w++] = '[';
    sio_json_iter it;
    sio_span v;
    if (sio_json_array_iter(array, &it) == SIO_OK) {
        for (int i = 0; sio_json_next(&it, NULL, &v); i++) {
            if (i == 0) {
                *first = v;
                continue;
            }
            if (i > 1)
                out[w++] = ',';
            memcpy(out + w, v.ptr, v.len);
            w += v.len;
        }
    }
    out[w++] = ']';
    out[w] = '\0';
    return out;
}
