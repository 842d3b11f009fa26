/* Fuzz target: adapter (reference-server/cluster/wire*.c), the decoder of what other nodes of a
 * cluster publish on Redis: broadcasts, requests and responses of Node's classic Redis adapter.
 *
 * Input: byte 0 picks the channel kind (% 3: broadcast, request, response); the rest is the
 * message body. Oracles:
 *  - the shape check and msgpack-c agree: a body the check accepts, msgpack-c decodes whole; a
 *    body the check refuses as truncated, reserved or trailing, msgpack-c refuses too (the check's
 *    other refusals, counts and depth, are exactly what msgpack-c must not be given);
 *  - every value of a decoded message is valid JSON whose placeholders are numbered 0..n-1 for
 *    its n attachments (what the server writes to its clients);
 *  - re-encoding is stable: the description of a decoded message, encoded through the server's
 *    encoders and decoded again, reaches a fixed point after one round (one round may change a
 *    value the way JavaScript would: 2^64 wraps, NaN becomes null). */
#include <stdlib.h>
#include <string.h>

#include "cluster/wire.h"
#include "cluster/wire_ffi.h"
#include "fuzz_common.h"
#include "sio/json.h"
#include "sio/packet.h"

static fuzz_buffer desc1, desc2, desc3, enc1, enc2;

static void check_value(const cluster_value *v, const char *what)
{
    if (v->json == NULL)
        return;
    sio_json_options opt = {.max_depth = SIO_JSON_MAX_DEPTH_CAP};
    FUZZ_ASSERT(sio_json_validate((const uint8_t *)v->json, v->len, &opt, NULL) == SIO_OK, what);
    FUZZ_ASSERT(sio_pkt_check_placeholders(sio_span_of(v->json, v->len), v->attachment_count,
                                           NULL) == SIO_OK,
                "adapter: placeholders do not match the attachments");
}

static void check_msgpack_agreement(const uint8_t *p, size_t n)
{
    size_t at = 0;
    cluster_err e = cluster_msgpack_check(p, n, &at);
    if (e != CLUSTER_OK && e != CLUSTER_ERR_MSGPACK_TRUNCATED &&
        e != CLUSTER_ERR_MSGPACK_RESERVED && e != CLUSTER_ERR_MSGPACK_TRAILING)
        return;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(&u, (const char *)p, n, &off);
    bool whole = r == MSGPACK_UNPACK_SUCCESS && off == n;
    msgpack_unpacked_destroy(&u);
    FUZZ_ASSERT(whole == (e == CLUSTER_OK), "adapter: the shape check and msgpack-c disagree");
}

/* Decodes into a description (NUL-terminated) in `b`; false when refused. */
static bool describe(int kind, const uint8_t *p, size_t n, fuzz_buffer *b, char **out, size_t *len)
{
    if (cluster_describe_bytes(kind, p, n, NULL, 0, len) != CLUSTER_OK)
        return false;
    *out = (char *)fuzz_buffer_get(b, *len + 1);
    FUZZ_ASSERT(cluster_describe_bytes(kind, p, n, *out, *len, len) == CLUSTER_OK,
                "adapter: describe twice");
    (*out)[*len] = '\0';
    return true;
}

/* Encodes a description; false when it names something the server never sends. */
static bool encode(const char *d, fuzz_buffer *b, uint8_t **out, size_t *len)
{
    if (cluster_encode_described(d, NULL, 0, len) != CLUSTER_OK)
        return false;
    *out = fuzz_buffer_get(b, *len + 1);
    FUZZ_ASSERT(cluster_encode_described(d, (char *)*out, *len, len) == CLUSTER_OK,
                "adapter: encode twice");
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = CLUSTER_MSG_BROADCAST + data[0] % 3;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (n > 0 && !(kind != CLUSTER_MSG_BROADCAST && p[0] == '{'))
        check_msgpack_agreement(p, n);

    cluster_msg m;
    cluster_err e = kind == CLUSTER_MSG_BROADCAST ? cluster_broadcast_decode(p, n, &m, NULL)
                    : kind == CLUSTER_MSG_REQUEST ? cluster_request_decode(p, n, &m, NULL)
                                                  : cluster_response_decode(p, n, &m, NULL);
    fuzz_reached(e == CLUSTER_OK);
    if (e != CLUSTER_OK)
        return 0;
    check_value(&m.packet.data, "adapter: packet data is not valid JSON");
    check_value(&m.data, "adapter: data is not valid JSON");
    check_value(&m.sockets, "adapter: sockets is not valid JSON");
    check_value(&m.ack, "adapter: ack is not valid JSON");
    cluster_msg_free(&m);

    char *d1, *d2, *d3;
    size_t l1, l2, l3, e1, e2;
    uint8_t *b1, *b2;
    FUZZ_ASSERT(describe(kind, p, n, &desc1, &d1, &l1), "adapter: decoded, then refused");
    if (!encode(d1, &enc1, &b1, &e1))
        return 0;
    FUZZ_ASSERT(describe(kind, b1, e1, &desc2, &d2, &l2),
                "adapter: refuses what the server encodes");
    FUZZ_ASSERT(encode(d2, &enc2, &b2, &e2), "adapter: cannot encode a second time");
    FUZZ_ASSERT(describe(kind, b2, e2, &desc3, &d3, &l3), "adapter: refuses its second encoding");
    if (l2 != l3 || memcmp(d2, d3, l2) != 0)
        fuzz_fail_diff("adapter: re-encoding is not stable after one round", (const uint8_t *)d2,
                       l2, (const uint8_t *)d3, l3);
    return 0;
}
