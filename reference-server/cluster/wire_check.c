/* The shape check that runs before msgpack-c sees a message, and the error names.
 *
 * msgpack-c allocates an array's or map's elements as soon as it reads the header, so a peer could
 * announce 2^32 elements in five bytes and make the decoder reserve gigabytes; and its fixed parse
 * stack turns deep nesting into an out-of-memory error. This walk reads only the headers, allocates
 * nothing, and refuses every announced count that the remaining bytes cannot hold (each element
 * takes at least one byte, each map entry two) and every nesting deeper than CLUSTER_MAX_DEPTH, with
 * the offset of the byte at fault. */
#include "wire.h"

const char *cluster_err_name(cluster_err e)
{
    static const char *const names[CLUSTER_ERR_COUNT_] = {
        [CLUSTER_OK] = "CLUSTER_OK",
        [CLUSTER_ERR_TOO_BIG] = "CLUSTER_ERR_TOO_BIG",
        [CLUSTER_ERR_EMPTY] = "CLUSTER_ERR_EMPTY",
        [CLUSTER_ERR_MSGPACK_TRUNCATED] = "CLUSTER_ERR_MSGPACK_TRUNCATED",
        [CLUSTER_ERR_MSGPACK_TRAILING] = "CLUSTER_ERR_MSGPACK_TRAILING",
        [CLUSTER_ERR_MSGPACK_RESERVED] = "CLUSTER_ERR_MSGPACK_RESERVED",
        [CLUSTER_ERR_MSGPACK_COUNT] = "CLUSTER_ERR_MSGPACK_COUNT",
        [CLUSTER_ERR_DEPTH] = "CLUSTER_ERR_DEPTH",
        [CLUSTER_ERR_JSON] = "CLUSTER_ERR_JSON",
        [CLUSTER_ERR_UTF8] = "CLUSTER_ERR_UTF8",
        [CLUSTER_ERR_KEY] = "CLUSTER_ERR_KEY",
        [CLUSTER_ERR_ATTACHMENTS] = "CLUSTER_ERR_ATTACHMENTS",
        [CLUSTER_ERR_SHAPE] = "CLUSTER_ERR_SHAPE",
        [CLUSTER_ERR_FIELD] = "CLUSTER_ERR_FIELD",
        [CLUSTER_ERR_PACKET_TYPE] = "CLUSTER_ERR_PACKET_TYPE",
        [CLUSTER_ERR_NO_MEMORY] = "CLUSTER_ERR_NO_MEMORY",
    };
    return (unsigned)e < CLUSTER_ERR_COUNT_ && names[e] ? names[e] : "CLUSTER_ERR_UNKNOWN";
}

static uint64_t be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* What one header byte announces: `fixed` bytes of header after it, then either `payload` bytes
 * (read from the header when `len_bytes` > 0) or `children` values. */
typedef struct header {
    unsigned fixed;     /* bytes after the first, before any payload */
    unsigned len_bytes; /* size of a big-endian length within those (0: none) */
    unsigned payload;   /* fixed payload bytes (ints, floats, fixext data + type) */
    unsigned per_child; /* 1 array, 2 map, 0 scalar */
    uint64_t children;  /* for fix containers */
} header;

static bool read_header(uint8_t b, header *h)
{
    *h = (header){0, 0, 0, 0, 0};
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return true;
    if (b >= 0xa0 && b <= 0xbf)
        return h->payload = b & 0x1f, true;
    if (b >= 0x90 && b <= 0x9f)
        return h->per_child = 1, h->children = b & 0x0f, true;
    if (b >= 0x80 && b <= 0x8f)
        return h->per_child = 2, h->children = b & 0x0f, true;
    switch (b) {
    case 0xc4:
    case 0xd9:
        return h->fixed = h->len_bytes = 1, true;
    case 0xc5:
    case 0xda:
        return h->fixed = h->len_bytes = 2, true;
    case 0xc6:
    case 0xdb:
        return h->fixed = h->len_bytes = 4, true;
    case 0xc7:
        return h->fixed = 2, h->len_bytes = 1, true; /* length, type */
    case 0xc8:
        return h->fixed = 3, h->len_bytes = 2, true;
    case 0xc9:
        return h->fixed = 5, h->len_bytes = 4, true;
    case 0xca:
    case 0xce:
    case 0xd2:
        return h->payload = 4, true;
    case 0xcb:
    case 0xcf:
    case 0xd3:
        return h->payload = 8, true;
    case 0xcc:
    case 0xd0:
        return h->payload = 1, true;
    case 0xcd:
    case 0xd1:
        return h->payload = 2, true;
    case 0xd4:
        return h->payload = 2, true; /* type + 1 */
    case 0xd5:
        return h->payload = 3, true;
    case 0xd6:
        return h->payload = 5, true;
    case 0xd7:
        return h->payload = 9, true;
    case 0xd8:
        return h->payload = 17, true;
    case 0xdc:
        return h->fixed = 2, h->per_child = 1, true;
    case 0xdd:
        return h->fixed = 4, h->per_child = 1, true;
    case 0xde:
        return h->fixed = 2, h->per_child = 2, true;
    case 0xdf:
        return h->fixed = 4, h->per_child = 2, true;
    default:
        return false; /* 0xc1 */
    }
}

static cluster_err fail(size_t *err_at, size_t at, cluster_err e)
{
    if (err_at)
        *err_at = at;
    return e;
}

cluster_err cluster_msgpack_check(const uint8_t *p, size_t len, size_t *err_at)
{
    /* pending[d]: values still to read at depth d (the top level holds one). */
    uint64_t pending[CLUSTER_MAX_DEPTH + 1];
    unsigned depth = 0;
    size_t pos = 0;
    pending[0] = 1;
    if (err_at)
        *err_at = 0;
    for (;;) {
        while (depth > 0 && pending[depth] == 0)
            depth--;
        if (depth == 0 && pending[0] == 0)
            break;
        if (pos >= len)
            return fail(err_at, len, CLUSTER_ERR_MSGPACK_TRUNCATED);
        size_t at = pos;
        header h;
        if (!read_header(p[pos], &h))
            return fail(err_at, at, CLUSTER_ERR_MSGPACK_RESERVED);
        pending[depth]--;
        pos++;
        if (len - pos < h.fixed)
            return fail(err_at, len, CLUSTER_ERR_MSGPACK_TRUNCATED);
        uint64_t n = h.per_child ? (h.fixed ? be(p + pos, h.fixed) : h.children)
                                 : (h.len_bytes ? be(p + pos, h.len_bytes) : 0);
        pos += h.fixed;
        if (!h.per_child) {
            uint64_t body = h.payload + n;
            if (len - pos < body)
                return fail(err_at, len, CLUSTER_ERR_MSGPACK_TRUNCATED);
            pos += body;
            continue;
        }
        /* msgpack-c refuses to open a container, even an empty one, past its stack. */
        if (depth + 1 > CLUSTER_MAX_DEPTH)
            return fail(err_at, at, CLUSTER_ERR_DEPTH);
        if (n > (len - pos) / h.per_child)
            return fail(err_at, at, CLUSTER_ERR_MSGPACK_COUNT);
        if (n > 0)
            pending[++depth] = n * h.per_child;
    }
    if (pos != len)
        return fail(err_at, pos, CLUSTER_ERR_MSGPACK_TRAILING);
    return CLUSTER_OK;
}
