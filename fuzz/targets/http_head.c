/* Fuzz target: HTTP/1.1 request heads (sio/http.h), the first bytes of every polling request
 * and of the WebSocket upgrade.
 *
 * Input: byte 0 = options (bit 0: small limits, 256-byte head, 4 headers, 64-byte target),
 * then a split header (fuzz_common.h), then the bytes received. Oracles:
 *  - parsing incrementally (everything received so far, after each read) and in one call give
 *    the same verdict, head length and fields;
 *  - decode -> encode -> decode: a parsed head written back in canonical form parses to the
 *    same method, target, version, headers and body framing;
 *  - lookups agree with the parsed fields (last header of a name, query values inside the
 *    query, percent-decoding never grows); an upgrade's key gets a 28-byte accept value. */
#include "fuzz_log.h"
#include "sio/http.h"
#include "sio/ws.h"

#include <strings.h>

static const sio_http_limits small_limits = {256, 4, 64};

/* The fields of a parsed head, as offsets into its buffer, for comparison. */
static void log_request(fuzz_log *l, sio_err e, const sio_http_request *r, const uint8_t *base)
{
    log_u64(l, (uint64_t)e);
    log_u64(l, e == SIO_OK ? r->head_len : 0);
    if (e != SIO_OK || r->head_len == 0)
        return;
    const sio_span spans[4] = {r->method, r->target, r->path, r->query};
    for (size_t i = 0; i < 4; i++)
        log_u64(l, (uint64_t)(spans[i].ptr ? spans[i].ptr - base : -1)), log_u64(l, spans[i].len);
    log_u64(l, (uint64_t)r->version_minor << 32 | (uint64_t)r->has_query << 16 | (uint64_t)r->body);
    log_u64(l, r->content_length);
    log_u64(l, r->header_count);
    for (size_t i = 0; i < r->header_count; i++) {
        log_u64(l, (uint64_t)(r->headers[i].name.ptr - base)), log_u64(l, r->headers[i].name.len);
        log_u64(l, (uint64_t)(r->headers[i].value.ptr ? r->headers[i].value.ptr - base : 0));
        log_u64(l, r->headers[i].value.len);
    }
}

static sio_err parse_split(const uint8_t *p, size_t n, const sio_http_limits *lim,
                           fuzz_splitter *sp, sio_http_request *req)
{
    sio_http_parser ps;
    sio_http_parser_init(&ps);
    size_t have = 0;
    sio_err e = SIO_OK;
    memset(req, 0, sizeof *req);
    while (have < n) {
        have += fuzz_splitter_next(sp, n - have);
        e = sio_http_request_parse(&ps, p, have, lim, req);
        if (e != SIO_OK || req->head_len > 0)
            break;
    }
    return e;
}

/* method SP target SP HTTP/1.x CRLF, then "name: value" CRLF each, then CRLF. */
static uint8_t *write_head(const sio_http_request *r, size_t *len)
{
    fuzz_log w = {NULL, 0, 0};
    log_put(&w, r->method.ptr, r->method.len);
    log_put(&w, " ", 1);
    log_put(&w, r->target.ptr, r->target.len);
    log_put(&w, r->version_minor ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n", 11);
    for (size_t i = 0; i < r->header_count; i++) {
        log_put(&w, r->headers[i].name.ptr, r->headers[i].name.len);
        log_put(&w, ": ", 2);
        log_put(&w, r->headers[i].value.ptr, r->headers[i].value.len);
        log_put(&w, "\r\n", 2);
    }
    log_put(&w, "\r\n", 2);
    *len = w.len;
    return w.p;
}

static bool same_span(sio_span a, sio_span b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* The canonical form may be longer than the original (": " after each name), so it is parsed
 * with a head limit of its own length. */
static void check_rewrite(const sio_http_request *r)
{
    size_t len = 0;
    uint8_t *text = write_head(r, &len);
    sio_http_limits fit = {len, 0, 0};
    const sio_http_limits *lim = &fit;
    sio_http_parser ps;
    sio_http_parser_init(&ps);
    sio_http_request again;
    FUZZ_ASSERT(sio_http_request_parse(&ps, text, len, lim, &again) == SIO_OK &&
                    again.head_len == len,
                "http: a head written back from its fields does not parse");
    bool same = same_span(r->method, again.method) && same_span(r->target, again.target) &&
                r->version_minor == again.version_minor && r->header_count == again.header_count &&
                r->body == again.body && r->content_length == again.content_length;
    for (size_t i = 0; same && i < r->header_count; i++)
        same = same_span(r->headers[i].name, again.headers[i].name) &&
               same_span(r->headers[i].value, again.headers[i].value);
    FUZZ_ASSERT(same, "http: decode -> encode -> decode changed the head");
    free(text);
}

/* header_find must return the last header whose name matches case-insensitively. */
static void check_lookups(const sio_http_request *r)
{
    static const char *const names[] = {"EIO", "transport", "sid", "b64", "j"};
    for (size_t i = 0; i < r->header_count; i++) {
        char name[128];
        if (r->headers[i].name.len >= sizeof name)
            continue;
        memcpy(name, r->headers[i].name.ptr, r->headers[i].name.len);
        name[r->headers[i].name.len] = '\0';
        const sio_http_header *h = sio_http_header_find(r, name);
        size_t last = i;
        for (size_t j = i + 1; j < r->header_count; j++)
            if (r->headers[j].name.len == r->headers[i].name.len &&
                strncasecmp((const char *)r->headers[j].name.ptr, name, r->headers[i].name.len) ==
                    0)
                last = j;
        FUZZ_ASSERT(h == &r->headers[last], "http: header_find did not return the last match");
    }
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        sio_span v;
        uint8_t out[512];
        size_t wrote = 0;
        if (sio_http_query_raw(r->query, names[i], &v) != SIO_OK)
            continue;
        FUZZ_ASSERT(v.len == 0 ||
                        (v.ptr >= r->query.ptr && v.ptr + v.len <= r->query.ptr + r->query.len),
                    "http: query value outside the query");
        sio_err e = sio_http_query_get(r->query, names[i], out, sizeof out, &wrote);
        FUZZ_ASSERT(e != SIO_OK || wrote <= v.len, "http: percent-decoding grew the value");
    }
}

static void check_upgrade(const sio_http_request *r)
{
    const sio_http_header *key = sio_http_header_find(r, "Sec-WebSocket-Key");
    if (!key || !sio_http_header_has_token(r, "Connection", "upgrade"))
        return;
    uint8_t accept[SIO_WS_ACCEPT_LEN];
    size_t wrote = 0;
    if (sio_ws_key_validate(key->value.ptr, key->value.len) == SIO_OK)
        FUZZ_ASSERT(sio_ws_accept_compute(key->value.ptr, key->value.len, accept, sizeof accept,
                                          &wrote) == SIO_OK &&
                        wrote == SIO_WS_ACCEPT_LEN,
                    "http: no accept value for a valid key");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    const sio_http_limits *lim = (fuzz_take_u8(&in) & 1u) ? &small_limits : NULL;
    fuzz_splitter sp;
    fuzz_splitter_init(&sp, &in);
    sio_http_parser ps;
    sio_http_parser_init(&ps);
    sio_http_request whole, split;
    memset(&whole, 0, sizeof whole);
    sio_err e = sio_http_request_parse(&ps, in.p, in.n, lim, &whole);
    fuzz_reached(e == SIO_OK && whole.head_len > 0);
    sio_err e2 = parse_split(in.p, in.n, lim, &sp, &split);
    fuzz_log a = {NULL, 0, 0}, b = {NULL, 0, 0};
    log_request(&a, e, &whole, in.p);
    log_request(&b, e2, &split, in.p);
    log_assert_equal(&a, &b, "http: incremental and one-shot parses disagree");
    log_free(&a);
    log_free(&b);
    if (e == SIO_OK && whole.head_len > 0) {
        FUZZ_ASSERT(whole.head_len <= in.n, "http: head longer than the input");
        check_rewrite(&whole);
        check_lookups(&whole);
        check_upgrade(&whole);
    }
    return 0;
}
