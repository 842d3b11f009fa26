/* Engine.IO JSONP polling (EIO-PKT-20): GET bodies '___eio[n]("…");' and form-encoded POST
 * bodies 'd=…'. Legacy (v3 spec §JSONP) but still served by Node for EIO=3 and EIO=4. */
#include "eio_internal.h"
#include "sio/json.h"
#include "sio/utf8.h"

static const char jsonp_head[] = "___eio[";

static sio_err check_index(const uint8_t *index, size_t n)
{
    if (n > SIO_EIO_JSONP_MAX_INDEX_DIGITS || (!index && n))
        return SIO_ERR_EIO_JSONP_INDEX;
    for (size_t i = 0; i < n; i++)
        if (index[i] < '0' || index[i] > '9')
            return SIO_ERR_EIO_JSONP_INDEX;
    return SIO_OK;
}

/* JSON.stringify's escaping, plus U+2028/U+2029: valid JSON but line terminators in older
 * JavaScript, and the body is evaluated as a script. */
static void put_js_string_body(eio_out *w, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        const char *esc = c == '"'    ? "\\\""
                          : c == '\\' ? "\\\\"
                          : c == '\b' ? "\\b"
                          : c == '\f' ? "\\f"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t"
                                      : NULL;
        if (esc) {
            eio_put(w, esc, 2);
        } else if (c < 0x20) {
            uint8_t u[6] = {'\\', 'u', '0', '0', (uint8_t)hex[c >> 4], (uint8_t)hex[c & 15]};
            eio_put(w, u, sizeof u);
        } else if (c == 0xE2 && i + 2 < n && p[i + 1] == 0x80 && (p[i + 2] | 1) == 0xA9) {
            eio_put(w, p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
            i += 2;
        } else {
            eio_put_byte(w, c);
        }
    }
}

sio_err sio_eio_jsonp_encode(const uint8_t *index, size_t index_len, const uint8_t *payload,
                             size_t n, uint8_t *out, size_t cap, size_t *written)
{
    if (!written || (!payload && n))
        return SIO_ERR_INVALID_ARGUMENT;
    sio_err rc = check_index(index, index_len);
    if (rc == SIO_OK)
        rc = sio_utf8_validate(payload, n, NULL);
    if (rc != SIO_OK)
        return rc;
    eio_out w = eio_out_make(out, cap);
    eio_put(&w, jsonp_head, sizeof jsonp_head - 1);
    eio_put(&w, index, index_len);
    eio_put(&w, "](\"", 3);
    put_js_string_body(&w, payload, n);
    eio_put(&w, "\");", 3);
    return eio_out_finish(&w, written);
}

/* Length of the JSON string token starting at p[0] == '"', or 0 when it is not closed. */
static size_t string_token_len(const uint8_t *p, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (p[i] == '\\')
            i++;
        else if (p[i] == '"')
            return i + 1;
    }
    return 0;
}

sio_err sio_eio_jsonp_decode(const uint8_t *p, size_t n, sio_span *index, uint8_t *out, size_t cap,
                             size_t *written)
{
    const size_t head = sizeof jsonp_head - 1;
    if (!written || !index || (!p && n))
        return SIO_ERR_INVALID_ARGUMENT;
    *written = 0;
    if (n < head || memcmp(p, jsonp_head, head) != 0)
        return SIO_ERR_EIO_JSONP_FORMAT;
    const uint8_t *close = memchr(p + head, ']', n - head);
    if (!close)
        return SIO_ERR_EIO_JSONP_FORMAT;
    size_t digits = (size_t)(close - (p + head));
    sio_err rc = check_index(p + head, digits);
    if (rc != SIO_OK)
        return rc;
    size_t pos = head + digits + 1;
    if (pos + 2 > n || p[pos] != '(' || p[pos + 1] != '"')
        return SIO_ERR_EIO_JSONP_FORMAT;
    pos++;
    size_t tok = string_token_len(p + pos, n - pos);
    if (tok == 0 || n - pos - tok != 2 || p[pos + tok] != ')' || p[pos + tok + 1] != ';')
        return SIO_ERR_EIO_JSONP_FORMAT;
    if ((rc = sio_json_validate(p + pos, tok, NULL, NULL)) != SIO_OK)
        return rc;
    *index = sio_span_of(digits ? p + head : NULL, digits);
    return sio_json_string_unescape(sio_span_of(p + pos, tok), out, out ? cap : 0, written);
}

/* ---------------------------------------------------------------- POST bodies */

/* Form encoding as browsers submit it: alphanumerics and "*-._" as is, space as '+'. */
static void put_form_byte(eio_out *w, uint8_t c)
{
    static const char hex[] = "0123456789ABCDEF";
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '*' || c == '-' || c == '.' || c == '_';
    if (plain) {
        eio_put_byte(w, c);
    } else if (c == ' ') {
        eio_put_byte(w, '+');
    } else {
        uint8_t e[3] = {'%', (uint8_t)hex[c >> 4], (uint8_t)hex[c & 15]};
        eio_put(w, e, sizeof e);
    }
}

sio_err sio_eio_jsonp_post_encode(const uint8_t *payload, size_t n, uint8_t *out, size_t cap,
                                  size_t *written)
{
    if (!written || (!payload && n))
        return SIO_ERR_INVALID_ARGUMENT;
    sio_err rc = sio_utf8_validate(payload, n, NULL);
    if (rc != SIO_OK)
        return rc;
    eio_out w = eio_out_make(out, cap);
    eio_put(&w, "d=", 2);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = payload[i];
        /* Backslash + newline would come out as backslash-backslash-n, which the server reads
         * back as backslash + 'n': the escaping cannot carry it. */
        if (c == '\\' && i + 1 < n && payload[i + 1] == '\n')
            return SIO_ERR_INVALID_ARGUMENT;
        if (c == '\\' && i + 1 < n && payload[i + 1] == 'n') {
            put_form_byte(&w, '\\'); /* the loop then writes the original backslash */
        } else if (c == '\n') {
            put_form_byte(&w, '\\');
            c = 'n';
        }
        put_form_byte(&w, c);
    }
    return eio_out_finish(&w, written);
}
