/* Engine.IO requests before any session: the query parameters Engine.IO reads, the WebSocket
 * handshake headers, the checks of REQUIREMENTS.md group B in the order Node's verify() makes them,
 * and the HTTP answer to each refusal (EIO-HS-05/07/12/13/15). */
#include <string.h>

#include "sio/eio_server.h"
#include "http_internal.h"

/* Engine.IO's error codes (EIO-HS-12), in Node's numbering. */
enum {
    EIO_CODE_TRANSPORT = 0,
    EIO_CODE_SID = 1,
    EIO_CODE_METHOD = 2,
    EIO_CODE_BAD_REQUEST = 3,
    EIO_CODE_FORBIDDEN = 4,
    EIO_CODE_PROTOCOL = 5
};

static const char *const eio_code_messages[] = {
    "Transport unknown", "Session ID unknown", "Bad handshake method",
    "Bad request",       "Forbidden",          "Unsupported protocol version"};

/* A parameter longer than its field is kept as present but marked invalid (a 0x01 byte), which
 * no check accepts. */
static bool query_field(sio_span q, const char *name, char *out, size_t cap)
{
    size_t n = 0;
    sio_err rc = sio_http_query_get(q, name, (uint8_t *)out, cap - 1, &n);
    if (rc == SIO_ERR_HTTP_NOT_FOUND)
        return false;
    out[rc == SIO_OK ? n : 0] = '\0';
    if (rc != SIO_OK)
        out[0] = '\x01';
    return true;
}

/* Node keeps only the digits of j (EIO-PKT-20). */
static void read_jsonp_index(sio_span query, sio_eio_request *out)
{
    char j[64];
    if (!query_field(query, "j", j, sizeof j))
        return;
    size_t n = 0;
    for (const char *p = j; *p && n < SIO_EIO_JSONP_MAX_INDEX_DIGITS; p++)
        if (*p >= '0' && *p <= '9')
            out->jsonp_index[n++] = *p;
    out->jsonp_index[n] = '\0';
    out->jsonp = true;
}

static bool span_is(sio_span s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

/* How many header lines carry `name` (compared without case). */
static size_t header_lines(const sio_http_request *req, const char *name)
{
    size_t lines = 0;
    for (size_t i = 0; i < req->header_count; i++)
        if (sio__http_span_equals_nocase(req->headers[i].name, name))
            lines++;
    return lines;
}

/* GET, version 13, exactly one valid key and "Connection: upgrade"; computes the accept key.
 * RFC 6455 section 11.3.1: Sec-WebSocket-Key must not appear more than once; with two, which
 * key the accept would answer is anyone's guess, so the handshake is refused like a bad key. */
static bool ws_handshake_ok(const sio_http_request *req, sio_eio_request *out)
{
    const sio_http_header *key = sio_http_header_find(req, "sec-websocket-key");
    const sio_http_header *version = sio_http_header_find(req, "sec-websocket-version");
    size_t written = 0;
    if (!span_is(req->method, "GET") || key == NULL || version == NULL ||
        header_lines(req, "sec-websocket-key") != 1 || !span_is(version->value, "13") ||
        !sio_http_header_has_token(req, "connection", "upgrade") ||
        sio_ws_key_validate(key->value.ptr, key->value.len) != SIO_OK ||
        sio_ws_accept_compute(key->value.ptr, key->value.len, (uint8_t *)out->accept_key,
                              SIO_WS_ACCEPT_LEN, &written) != SIO_OK)
        return false;
    out->accept_key[written] = '\0';
    return true;
}

static int protocol_of(const char *eio, const sio_eio_server_config *cfg)
{
    if (strcmp(eio, "4") == 0)
        return 4;
    if (cfg->allow_eio3 && strcmp(eio, "3") == 0)
        return 3;
    return 0;
}

/* Content-Type application/octet-stream (compared as Node's check does, by prefix). */
static bool is_octet_stream(const sio_http_request *req)
{
    const sio_http_header *ct = sio_http_header_find(req, "content-type");
    return ct && ct->value.len >= 24 && memcmp(ct->value.ptr, "application/octet-stream", 24) == 0;
}

sio_err sio_eio_request_read(const sio_http_request *req, const sio_eio_server_config *cfg,
                             sio_eio_request *out)
{
    char transport[SIO_EIO_MAX_QUERY_VALUE + 1], eio[8];
    memset(out, 0, sizeof *out);
    bool has_transport = query_field(req->query, "transport", transport, sizeof transport);
    bool has_eio = query_field(req->query, "EIO", eio, sizeof eio);
    bool has_sid = query_field(req->query, "sid", out->sid, sizeof out->sid) && out->sid[0];
    sio_span raw;
    out->b64 = sio_http_query_raw(req->query, "b64", &raw) == SIO_OK;
    read_jsonp_index(req->query, out);
    out->websocket = sio_http_header_has_token(req, "upgrade", "websocket");
    out->method = span_is(req->method, "GET")    ? SIO_EIO_METHOD_GET
                  : span_is(req->method, "POST") ? SIO_EIO_METHOD_POST
                                                 : SIO_EIO_METHOD_OTHER;
    if (!has_transport ||
        (strcmp(transport, "polling") != 0 && strcmp(transport, "websocket") != 0))
        return SIO_ERR_EIO_TRANSPORT_UNKNOWN;
    out->transport_websocket = strcmp(transport, "websocket") == 0;
    if (out->websocket && !ws_handshake_ok(req, out))
        return SIO_ERR_EIO_WS_HANDSHAKE;
    if (has_sid) {
        out->sid_len = strlen(out->sid);
        out->kind = out->websocket ? SIO_EIO_REQUEST_UPGRADE : SIO_EIO_REQUEST_POLL;
        out->octet_stream = is_octet_stream(req);
        out->chunked = req->body == SIO_HTTP_BODY_CHUNKED;
        out->content_length = req->content_length;
        return SIO_OK;
    }
    if (out->method != SIO_EIO_METHOD_GET)
        return SIO_ERR_EIO_BAD_METHOD;
    if (out->transport_websocket != out->websocket)
        return SIO_ERR_EIO_BAD_REQUEST; /* EIO-HS-07, EIO-HS-15 */
    out->kind = SIO_EIO_REQUEST_HANDSHAKE;
    out->protocol = has_eio ? protocol_of(eio, cfg) : 0;
#ifdef MUTANT_EIO_VERSION_UNCHECKED /* EIO-HS-04: a polling handshake with any EIO value gets v4 */
    if (has_eio && !out->websocket && out->protocol == 0)
        out->protocol = 4;
#endif
    return SIO_OK;
}

static sio_eio_refusal coded(int status, int code, bool websocket)
{
    sio_eio_refusal r = {status, code, eio_code_messages[code]};
    if (websocket) { /* a raw 400 text answer, then the connection is closed (EIO-HS-13) */
        r.status = 400;
        r.code = -1;
    }
    return r;
}

sio_eio_refusal sio_eio_refusal_for(sio_err rc, bool websocket)
{
    switch (rc) {
    case SIO_ERR_EIO_TRANSPORT_UNKNOWN:
        return coded(400, EIO_CODE_TRANSPORT, websocket);
    case SIO_ERR_EIO_SESSION_UNKNOWN:
    case SIO_ERR_EIO_SESSION_CLOSED:
        return coded(400, EIO_CODE_SID, websocket);
    case SIO_ERR_EIO_BAD_METHOD:
        return coded(400, EIO_CODE_METHOD, websocket);
    case SIO_ERR_EIO_BAD_REQUEST:
        return coded(400, EIO_CODE_BAD_REQUEST, websocket);
    case SIO_ERR_EIO_FORBIDDEN:
        return coded(403, EIO_CODE_FORBIDDEN, websocket);
    case SIO_ERR_EIO_UNSUPPORTED_PROTOCOL:
        return coded(400, EIO_CODE_PROTOCOL, websocket);
    case SIO_ERR_EIO_WS_HANDSHAKE:
        return (sio_eio_refusal){400, -1, "Bad request"};
    case SIO_ERR_EIO_CHUNKED_POST:
        return (sio_eio_refusal){411, -1, NULL};
    case SIO_ERR_EIO_PAYLOAD_TOO_LARGE:
        return (sio_eio_refusal){413, -1, NULL}; /* the session is kept (EIO-POLL-05) */
    case SIO_ERR_EIO_BAD_METHOD_ON_SESSION:
        return (sio_eio_refusal){500, -1, NULL};
    case SIO_ERR_EIO_SECOND_WEBSOCKET:
        return (sio_eio_refusal){101, -1, NULL};
    default: /* overlapping GET or POST, binary v4 POST (EIO-POLL-01/02, EIO-PKT-14) */
        return (sio_eio_refusal){400, -1, NULL};
    }
}

const char *sio_eio_close_reason_name(sio_eio_close_reason r)
{
    static const char *const names[] = {
        "transport close",     "ping timeout", "parse error",          "transport error",
        "forced server close", "forced close", "server shutting down", "io client disconnect"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "unknown";
}
