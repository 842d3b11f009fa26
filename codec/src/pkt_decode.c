/* Socket.IO text packet decoder: header fields left to right, then the payload. The rules and
 * the strict/compat choices are documented in sio/packet.h. */
#include <string.h>

#include "pkt_internal.h"
#include "sio/utf8.h"

typedef struct pkt_cursor {
    const uint8_t *p;
    size_t n, i;
    size_t err_at;
    const sio_pkt_options *opt;
} pkt_cursor;

static sio_err cursor_fail(pkt_cursor *c, sio_err e, size_t at)
{
    c->err_at = at;
    return e;
}

static bool is_digit(uint8_t b)
{
    return b >= '0' && b <= '9';
}

static size_t digit_run(const pkt_cursor *c)
{
    size_t k = c->i;
    while (k < c->n && is_digit(c->p[k]))
        k++;
    return k - c->i;
}

static sio_err read_attachments(pkt_cursor *c, sio_pkt *out)
{
    size_t digits = digit_run(c);
    size_t start = c->i;
    if (digits == 0)
        return cursor_fail(c, SIO_ERR_PKT_ATTACHMENTS, start);
    if (start + digits >= c->n || c->p[start + digits] != '-')
        return cursor_fail(c, SIO_ERR_PKT_ATTACHMENTS, start + digits);
    if (digits > 1 && c->p[start] == '0' && !c->opt->compat)
        return cursor_fail(c, SIO_ERR_PKT_LEADING_ZERO, start);
    uint64_t v = 0;
    for (size_t k = 0; k < digits; k++) {
        v = v * 10 + (uint64_t)(c->p[start + k] - '0');
        if (v > c->opt->max_attachments)
            return cursor_fail(c, SIO_ERR_PKT_TOO_MANY_ATTACHMENTS, start);
    }
    if (v == 0 && !c->opt->compat)
        return cursor_fail(c, SIO_ERR_PKT_ATTACHMENTS_ZERO, start);
    out->attachments = (uint32_t)v;
    c->i = start + digits + 1;
    return SIO_OK;
}

/* v4 clients put the CONNECT query string inside the namespace ("/nsp?token=abc"). */
static void split_query(sio_pkt *out)
{
    const uint8_t *q = memchr(out->nsp.ptr, '?', out->nsp.len);
    if (!q)
        return;
    size_t before = (size_t)(q - out->nsp.ptr);
    out->query = sio_span_of(q + 1, out->nsp.len - before - 1);
    out->nsp.len = before;
}

static sio_err read_namespace(pkt_cursor *c, sio_pkt *out)
{
    if (c->i >= c->n || c->p[c->i] != '/')
        return SIO_OK;
    size_t start = c->i;
    const uint8_t *comma = memchr(c->p + start, ',', c->n - start);
    size_t end = comma ? (size_t)(comma - c->p) : c->n;
    if (!comma && !c->opt->compat) {
        /* Node reads to the end here; if a payload was meant to follow, the namespace
         * swallowed it because the comma was forgotten. */
        for (size_t k = start; k < end; k++)
            if (c->p[k] == '[' || c->p[k] == '{' || c->p[k] == '"')
                return cursor_fail(c, SIO_ERR_PKT_NSP_UNTERMINATED, k);
    }
    size_t bad = 0;
    if (sio_utf8_validate(c->p + start, end - start, &bad) != SIO_OK)
        return cursor_fail(c, SIO_ERR_PKT_NSP_INVALID, start + bad);
    if (end - start > 1)
        out->nsp = sio_span_of(c->p + start, end - start);
    if (c->opt->protocol == 4 && out->type == SIO_PKT_CONNECT)
        split_query(out);
    c->i = comma ? end + 1 : end;
    return SIO_OK;
}

static sio_err read_ack_id(pkt_cursor *c, sio_pkt *out)
{
    size_t digits = digit_run(c);
    size_t start = c->i;
    bool is_ack = out->type == SIO_PKT_ACK || out->type == SIO_PKT_BINARY_ACK;
    if (digits == 0) {
        if (is_ack && !c->opt->compat)
            return cursor_fail(c, SIO_ERR_PKT_ACK_ID_MISSING, start);
        return SIO_OK;
    }
    bool has_ack = is_ack || out->type == SIO_PKT_EVENT || out->type == SIO_PKT_BINARY_EVENT;
    if (!has_ack && !c->opt->compat)
        return cursor_fail(c, SIO_ERR_PKT_ACK_ID_UNEXPECTED, start);
    if (digits > 1 && c->p[start] == '0' && !c->opt->compat)
        return cursor_fail(c, SIO_ERR_PKT_LEADING_ZERO, start);
    uint64_t v = 0;
    for (size_t k = 0; k < digits; k++) {
        v = v * 10 + (uint64_t)(c->p[start + k] - '0');
        if (v > SIO_PKT_ACK_ID_MAX)
            return cursor_fail(c, SIO_ERR_PKT_ACK_ID_RANGE, start);
    }
    out->has_id = true;
    out->id = v;
    c->i = start + digits;
    return SIO_OK;
}

static sio_err read_payload(pkt_cursor *c, sio_pkt *out)
{
    size_t start = c->i;
    if (start < c->n) {
        uint8_t b = c->p[start];
        if (b == ' ' || b == '\t' || b == '\n' || b == '\r')
            return cursor_fail(c, SIO_ERR_PKT_PAYLOAD_SPACE, start);
        sio_json_options jo = {c->opt->json_max_depth};
        size_t at = 0;
        sio_err e = sio_json_validate(c->p + start, c->n - start, &jo, &at);
        if (e != SIO_OK)
            return cursor_fail(c, e, start + at);
        out->data = sio_span_of(c->p + start, c->n - start);
    }
    sio_err e = sio__pkt_check_validated_payload(out->type, out->data, c->opt);
    return e == SIO_OK ? SIO_OK : cursor_fail(c, e, start);
}

static void pkt_clear(sio_pkt *out)
{
    memset(out, 0, sizeof *out);
    out->nsp = sio_span_of("/", 1);
    out->query = sio_span_of(NULL, 0);
    out->data = SIO_SPAN_NULL;
}

sio_err sio_pkt_decode(const uint8_t *p, size_t len, const sio_pkt_options *opt, sio_pkt *out,
                       size_t *err_at)
{
    sio_pkt_options defaults;
    if (!opt) {
        sio_pkt_options_init(&defaults);
        opt = &defaults;
    }
    pkt_cursor c = {p, len, 0, 0, opt};
    pkt_clear(out);
    sio_err e = SIO_OK;
    if (!p && len)
        return SIO_ERR_INVALID_ARGUMENT;
    if (len == 0) {
        e = opt->compat ? SIO_OK : SIO_ERR_PKT_EMPTY;
    } else if (p[0] < '0' || p[0] > '6') {
        e = SIO_ERR_PKT_TYPE;
    } else {
        out->type = (sio_pkt_type)(p[0] - '0');
        c.i = 1;
        if (out->type == SIO_PKT_BINARY_EVENT || out->type == SIO_PKT_BINARY_ACK)
            e = read_attachments(&c, out);
        if (e == SIO_OK)
            e = read_namespace(&c, out);
        if (e == SIO_OK)
            e = read_ack_id(&c, out);
        if (e == SIO_OK)
            e = read_payload(&c, out);
    }
    if (e != SIO_OK && err_at)
        *err_at = c.err_at;
    return e;
}
