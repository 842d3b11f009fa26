/* The Engine.IO open packet (EIO-HS-01, 02, 24): '0' + the handshake JSON object. The official
 * suites compare the key set exactly, so the encoder writes exactly these keys in Node's order
 * and the decoder refuses any other key. */
#include "eio_internal.h"
#include "sio/json.h"

enum open_key { K_SID, K_UPGRADES, K_PING_INTERVAL, K_PING_TIMEOUT, K_MAX_PAYLOAD, K_COUNT };

static const char *const open_key_names[K_COUNT] = {"sid", "upgrades", "pingInterval",
                                                    "pingTimeout", "maxPayload"};

static void write_number_member(sio_json_writer *jw, enum open_key k, uint64_t v)
{
    const char *name = open_key_names[k];
    sio_json_write_key(jw, (const uint8_t *)name, strlen(name));
    sio_json_write_int(jw, (int64_t)v);
}

sio_err sio_eio_open_encode(const sio_eio_open *o, uint8_t *out, size_t cap, size_t *written)
{
    if (!o || !written || o->upgrade_count > SIO_EIO_OPEN_MAX_UPGRADES ||
        o->ping_interval > SIO_EIO_OPEN_MAX_NUMBER || o->ping_timeout > SIO_EIO_OPEN_MAX_NUMBER ||
        o->max_payload > SIO_EIO_OPEN_MAX_NUMBER)
        return SIO_ERR_INVALID_ARGUMENT;
    eio_out w = eio_out_make(out, cap);
    eio_put_byte(&w, '0');
    uint8_t *room = eio_room(&w, 0);
    sio_json_writer jw;
    sio_json_writer_init(&jw, room, room ? w.cap - w.len : 0);
    sio_json_write_begin_object(&jw);
    sio_json_write_key(&jw, (const uint8_t *)"sid", 3);
    sio_json_write_string(&jw, o->sid.ptr, o->sid.len);
    if (o->has_upgrades) {
        sio_json_write_key(&jw, (const uint8_t *)"upgrades", 8);
        sio_json_write_begin_array(&jw);
        for (size_t i = 0; i < o->upgrade_count; i++)
            sio_json_write_string(&jw, o->upgrades[i].ptr, o->upgrades[i].len);
        sio_json_write_end_array(&jw);
    }
    write_number_member(&jw, K_PING_INTERVAL, o->ping_interval);
    write_number_member(&jw, K_PING_TIMEOUT, o->ping_timeout);
    if (o->has_max_payload)
        write_number_member(&jw, K_MAX_PAYLOAD, o->max_payload);
    sio_json_write_end_object(&jw);
    size_t n;
    sio_err rc = sio_json_writer_finish(&jw, &n);
    if (rc != SIO_OK && rc != SIO_ERR_BUFFER_TOO_SMALL)
        return rc;
    w.len += n;
    return eio_out_finish(&w, written);
}

/* A string token's contents without the quotes; escaped when it holds a backslash. */
static sio_err string_view(sio_span tok, sio_span *view, bool *escaped)
{
    if (sio_json_kind_of(tok) != SIO_JSON_STRING)
        return SIO_ERR_EIO_OPEN_TYPE;
    *view = sio_span_of(tok.ptr + 1, tok.len - 2);
    *escaped = view->len && memchr(view->ptr, '\\', view->len) != NULL;
    return SIO_OK;
}

static sio_err read_number(sio_span tok, uint64_t *out)
{
    int64_t v;
    if (sio_json_kind_of(tok) != SIO_JSON_NUMBER || sio_json_get_int(tok, &v) != SIO_OK || v < 0 ||
        (uint64_t)v > SIO_EIO_OPEN_MAX_NUMBER)
        return SIO_ERR_EIO_OPEN_TYPE;
    *out = (uint64_t)v;
    return SIO_OK;
}

static sio_err read_upgrades(sio_span tok, sio_eio_open *o)
{
    sio_json_iter it;
    sio_span item;
    if (sio_json_array_iter(tok, &it) != SIO_OK)
        return SIO_ERR_EIO_OPEN_TYPE;
    while (sio_json_next(&it, NULL, &item)) {
        if (o->upgrade_count == SIO_EIO_OPEN_MAX_UPGRADES)
            return SIO_ERR_EIO_OPEN_TOO_MANY_UPGRADES;
        size_t i = o->upgrade_count++;
        sio_err rc = string_view(item, &o->upgrades[i], &o->upgrade_escaped[i]);
        if (rc != SIO_OK)
            return rc;
    }
    o->has_upgrades = true;
    return SIO_OK;
}

static sio_err read_member(enum open_key k, sio_span value, sio_eio_open *o)
{
    switch (k) {
    case K_SID:
        return string_view(value, &o->sid, &o->sid_escaped);
    case K_UPGRADES:
        return read_upgrades(value, o);
    case K_PING_INTERVAL:
        return read_number(value, &o->ping_interval);
    case K_PING_TIMEOUT:
        return read_number(value, &o->ping_timeout);
    case K_MAX_PAYLOAD:
        o->has_max_payload = true;
        return read_number(value, &o->max_payload);
    default:
        return SIO_ERR_EIO_OPEN_KEY;
    }
}

static enum open_key key_of(sio_span key)
{
    for (int k = 0; k < K_COUNT; k++) {
        const char *name = open_key_names[k];
        if (sio_json_string_equals(key, (const uint8_t *)name, strlen(name)))
            return (enum open_key)k;
    }
    return K_COUNT;
}

/* `lenient`: the client's reading (unknown keys skipped, maxPayload and upgrades optional). */
static sio_err open_decode(int protocol, const uint8_t *p, size_t n, sio_eio_open *o, bool lenient)
{
    if ((protocol != 3 && protocol != 4) || !o || (!p && n))
        return SIO_ERR_INVALID_ARGUMENT;
    memset(o, 0, sizeof *o);
    if (n < 2 || p[0] != '0')
        return SIO_ERR_EIO_OPEN_NOT_OPEN;
    sio_err rc = sio_json_validate(p + 1, n - 1, NULL, NULL);
    if (rc != SIO_OK)
        return rc;
    sio_span obj = sio_json_trim(sio_span_of(p + 1, n - 1));
    sio_json_iter it;
    if (sio_json_object_iter(obj, &it) != SIO_OK)
        return SIO_ERR_EIO_OPEN_NOT_OPEN;
    unsigned seen = 0;
    sio_span key, value;
    while (sio_json_next(&it, &key, &value)) {
        enum open_key k = key_of(key);
        if (k == K_COUNT && lenient)
            continue;
        if (k == K_COUNT || (seen & (1u << k)))
            return SIO_ERR_EIO_OPEN_KEY;
        seen |= 1u << k;
        if ((rc = read_member(k, value, o)) != SIO_OK)
            return rc;
    }
    /* v3 servers predate maxPayload, and the v3 spec's WebSocket-only example has no upgrades. */
    unsigned required = protocol == 4 && !lenient
                            ? (1u << K_COUNT) - 1
                            : (1u << K_SID) | (1u << K_PING_INTERVAL) | (1u << K_PING_TIMEOUT);
    return (seen & required) == required ? SIO_OK : SIO_ERR_EIO_OPEN_KEY;
}

sio_err sio_eio_open_decode(int protocol, const uint8_t *p, size_t n, sio_eio_open *o)
{
    return open_decode(protocol, p, n, o, false);
}

sio_err sio_eio_open_read(int protocol, const uint8_t *p, size_t n, sio_eio_open *o)
{
    return open_decode(protocol, p, n, o, true);
}
