/* JSONP POST bodies (EIO-PKT-20): the 'd' field of an application/x-www-form-urlencoded body,
 * then the newline unescaping Node applies ('\\n' -> '\n', '\n' -> newline). */
#include "eio_internal.h"
#include "sio/utf8.h"

/* Reads the decoded bytes of one form value with up to three bytes of lookahead. */
typedef struct form_reader {
    const uint8_t *p;
    size_t len, pos;
    bool compat;
    int ahead[3]; /* -1 past the end */
    size_t n_ahead;
} form_reader;

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static sio_err form_decode_byte(form_reader *r, int *b)
{
    uint8_t c = r->p[r->pos];
    if (c == '+') {
        *b = ' ';
        r->pos++;
        return SIO_OK;
    }
    if (c == '%') {
        int hi = r->pos + 2 < r->len ? hex_value(r->p[r->pos + 1]) : -1;
        int lo = hi >= 0 ? hex_value(r->p[r->pos + 2]) : -1;
        if (lo >= 0) {
            *b = hi * 16 + lo;
            r->pos += 3;
            return SIO_OK;
        }
        /* Node's querystring keeps a malformed escape as literal text. */
        if (!r->compat)
            return SIO_ERR_EIO_FORM_ESCAPE;
    }
    *b = c;
    r->pos++;
    return SIO_OK;
}

static sio_err form_fill(form_reader *r)
{
    while (r->n_ahead < 3) {
        int b = -1;
        if (r->pos < r->len) {
            sio_err rc = form_decode_byte(r, &b);
            if (rc != SIO_OK)
                return rc;
        }
        r->ahead[r->n_ahead++] = b;
    }
    return SIO_OK;
}

static void form_drop(form_reader *r, size_t k)
{
    for (size_t i = k; i < r->n_ahead; i++)
        r->ahead[i - k] = r->ahead[i];
    r->n_ahead -= k;
}

/* Finds the single 'd' field (raw "d" or its escaped form "%64"); Node ignores a body whose 'd'
 * is missing or repeated, which here is an error so the caller can see why nothing arrived. */
static sio_err find_d_field(const uint8_t *p, size_t n, sio_span *value)
{
    size_t found = 0, pos = 0;
    while (pos <= n) {
        const uint8_t *amp = memchr(p + pos, '&', n - pos);
        size_t end = amp ? (size_t)(amp - p) : n;
        const uint8_t *eq = memchr(p + pos, '=', end - pos);
        size_t key_end = eq ? (size_t)(eq - p) : end;
        size_t klen = key_end - pos;
        bool is_d = (klen == 1 && p[pos] == 'd') ||
                    (klen == 3 && p[pos] == '%' && p[pos + 1] == '6' && p[pos + 2] == '4');
        if (is_d) {
            found++;
            size_t vstart = eq ? key_end + 1 : end;
            *value = sio_span_of(p + vstart, end - vstart);
        }
        pos = end + 1;
    }
    return found == 1 ? SIO_OK : SIO_ERR_EIO_FORM_NO_DATA;
}

static void put_checked(eio_out *w, sio_utf8_state *st, sio_err *rc, uint8_t c)
{
    if (*rc == SIO_OK)
        *rc = sio_utf8_feed(st, &c, 1, NULL);
    eio_put_byte(w, c);
}

sio_err sio_eio_jsonp_post_decode(const uint8_t *p, size_t n, const sio_eio_options *opt,
                                  uint8_t *out, size_t cap, size_t *written)
{
    if (!written || (!p && n))
        return SIO_ERR_INVALID_ARGUMENT;
    *written = 0;
    sio_span value = SIO_SPAN_NULL;
    sio_err rc = find_d_field(p ? p : (const uint8_t *)"", n, &value);
    if (rc != SIO_OK)
        return rc;
    form_reader r = {value.ptr, value.len, 0, opt && opt->compat, {0, 0, 0}, 0};
    eio_out w = eio_out_make(out, cap);
    sio_utf8_state st;
    sio_utf8_init(&st);
    sio_err utf = SIO_OK;
    for (;;) {
        if ((rc = form_fill(&r)) != SIO_OK)
            return rc;
        const int *a = r.ahead;
        if (a[0] < 0)
            break;
        if (a[0] == '\\' && a[1] == '\\' && a[2] == 'n') {
            put_checked(&w, &st, &utf, '\\');
            put_checked(&w, &st, &utf, 'n');
            form_drop(&r, 3);
        } else if (a[0] == '\\' && a[1] == 'n') {
            put_checked(&w, &st, &utf, '\n');
            form_drop(&r, 2);
        } else {
            put_checked(&w, &st, &utf, (uint8_t)a[0]);
            form_drop(&r, 1);
        }
    }
    if (utf == SIO_OK && !sio_utf8_complete(&st))
        utf = SIO_ERR_UTF8_TRUNCATED;
    if (utf != SIO_OK)
        return utf;
    return eio_out_finish(&w, written);
}
