/* Internals shared by the files of the adapter wire module (not part of its interface). */
#ifndef REFSERVER_CLUSTER_WIRE_INTERNAL_H
#define REFSERVER_CLUSTER_WIRE_INTERNAL_H

#include "sio/json.h"

#include "wire.h"

/* JSON.stringify of a Date whose time value is `ms`: its ISO string; false for an invalid date
 * (written as null). */
bool cluster_js_date_iso(double ms, char out[48]);

/* One property of an object being written, in JavaScript's order. */
typedef struct js_property {
    const uint8_t *key; /* property name (UTF-8) */
    size_t key_len;
    size_t first;  /* position of its first occurrence among the members */
    size_t last;   /* position of its last occurrence: the value an object keeps */
    bool is_index; /* an array index ("0" … "4294967294"), enumerated first, ascending */
    uint32_t index;
} js_property;

/* Orders the `n` members of an object as a JavaScript object built from them enumerates its own
 * properties: array-index names first in ascending numeric order, then the other names in the
 * order they first appeared; a name given twice keeps its first position and its last value.
 * `drop_proto`: the object was built by assignment (notepack's decoder), where `__proto__` sets the
 * prototype rather than a property, so it is dropped; JSON.parse makes it an own property. `props`
 * holds one entry per member with key, key_len and first (its position) filled; on return its
 * first `*count` entries are the properties to write, in order. */
void cluster_js_order(js_property *props, size_t n, bool drop_proto, size_t *count);

/* Writes a msgpack value (from msgpack-c) as Socket.IO JSON; each byte array becomes a placeholder
 * and its bytes are appended to `atts` (NULL when only sizing). `undefined` at the top is null. */
typedef struct value_writer {
    sio_json_writer w;
    sio_span *atts;
    uint32_t natts;
    cluster_err err;
    /* The msgpack bytes the objects were decoded from (msgpack-c points into them for strings,
     * byte arrays and extensions): extension forms are told apart by their header bytes. */
    const uint8_t *base;
    size_t base_len;
    bool from_json; /* the objects came from JSON.parse (see cluster_js_order) */
} value_writer;

void cluster_write_msgpack_value(value_writer *vw, const msgpack_object *o);
/* True for the d4 00 00 form of `undefined` (notepack's fixext 1 of type 0). */
bool cluster_is_undefined(const msgpack_object *o);

/* Converts a msgpack object decoded from `base` (NULL: built from JSON text) into a cluster_value
 * allocated in `zone`. */
cluster_err cluster_value_from_msgpack(msgpack_zone *zone, const uint8_t *base, size_t base_len,
                                       const msgpack_object *o, cluster_value *out);

/* Builds a msgpack_object tree in `zone` from validated JSON text (JSON.parse's meaning: every
 * number is a double, integral ones become msgpack integers). */
cluster_err cluster_msgpack_from_json(msgpack_zone *zone, sio_span json, msgpack_object *out);

/* Packs Socket.IO JSON (validated; placeholders refer to `atts`) as notepack would pack the value
 * JSON.parse and socket.io-parser's reconstruction make of it. */
cluster_err cluster_pack_json_value(msgpack_packer *pk, sio_span json, const sio_span *atts,
                                    uint32_t natts);

/* Writes Socket.IO JSON into a JSON text as JSON.stringify would write the reconstructed value:
 * each placeholder as {"type":"Buffer","data":[…]} (what Node publishes for a Buffer in a JSON
 * request). */
cluster_err cluster_json_value_stringify(sio_json_writer *w, sio_span json, const sio_span *atts,
                                         uint32_t natts);

/* msgpack-c output into a buf. */
int cluster_buf_write(void *data, const char *p, size_t len);

#endif
