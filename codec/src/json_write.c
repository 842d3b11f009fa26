/* Compact JSON writer into a caller buffer, mirroring JSON.stringify's output so encoded packets
 * compare byte for byte with what the Node implementation sends. */
#include <string.h>

#include "sio/json.h"
#include "sio/utf8.h"

void sio_json_writer_init(sio_json_writer *w, uint8_t *out, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->cap = out ? cap : 0;
    w->err = SIO_OK;
}

static void emit(sio_json_writer *w, const void *s, size_t n)
{
    if (w->len + n <= w->cap)
        memcpy(w->out + w->len, s, n);
    else if (w->len < w->cap)
        memcpy(w->out + w->len, s, w->cap - w->len); /* partial fill is harmless */
    w->len += n;
}

static void emit_byte(sio_json_writer *w, uint8_t c)
{
    emit(w, &c, 1);
}

static sio_err fail(sio_json_writer *w, sio_err e)
{
    if (w->err == SIO_OK)
        w->err = e;
    return w->err;
}

static bool in_object(const sio_json_writer *w)
{
    uint32_t d = w->depth - 1;
    return w->depth > 0 && ((w->is_object[d / 8] >> (d % 8)) & 1u);
}

/* Checks that a value may come now and writes the separating comma. */
static sio_err before_value(sio_json_writer *w)
{
    if (w->err != SIO_OK)
        return w->err;
    if (w->done || (in_object(w) && !w->after_key))
        return fail(w, SIO_ERR_JSON_WRITER_STATE);
    if (w->need_comma && !w->after_key)
        emit_byte(w, ',');
    w->after_key = 0;
    return SIO_OK;
}

static sio_err after_value(sio_json_writer *w)
{
    w->need_comma = 1;
    if (w->depth == 0)
        w->done = 1;
    return SIO_OK;
}

static sio_err begin(sio_json_writer *w, bool object)
{
    sio_err e = before_value(w);
    if (e != SIO_OK)
        return e;
    if (w->depth >= SIO_JSON_WRITER_MAX_DEPTH)
        return fail(w, SIO_ERR_JSON_DEPTH);
    uint32_t d = w->depth++;
    if (object)
        w->is_object[d / 8] |= (uint8_t)(1u << (d % 8));
    else
        w->is_object[d / 8] &= (uint8_t) ~(1u << (d % 8));
    w->need_comma = 0;
    emit_byte(w, object ? '{' : '[');
    return SIO_OK;
}

static sio_err end(sio_json_writer *w, bool object)
{
    if (w->err != SIO_OK)
        return w->err;
    if (w->depth == 0 || in_object(w) != object || w->after_key)
        return fail(w, SIO_ERR_JSON_WRITER_STATE);
    w->depth--;
    emit_byte(w, object ? '}' : ']');
    return after_value(w);
}

sio_err sio_json_write_begin_array(sio_json_writer *w)
{
    return begin(w, false);
}
sio_err sio_json_write_end_array(sio_json_writer *w)
{
    return end(w, false);
}
sio_err sio_json_write_begin_object(sio_json_writer *w)
{
    return begin(w, true);
}
sio_err sio_json_write_end_object(sio_json_writer *w)
{
    return end(w, true);
}

/* Escapes as JSON.stringify: the two mandatory characters, short forms for five controls,
 * \u00xx (lower-case hex) for the other controls; all else verbatim. */
static void emit_escaped(sio_json_writer *w, const uint8_t *s, size_t n)
{
    emit_byte(w, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        emit(w, s + run, i - run);
        run = i + 1;
        const char *short_form = c == '"'    ? "\\\""
                                 : c == '\\' ? "\\\\"
                                 : c == '\b' ? "\\b"
                                 : c == '\f' ? "\\f"
                                 : c == '\n' ? "\\n"
                                 : c == '\r' ? "\\r"
                                 : c == '\t' ? "\\t"
                                             : NULL;
        if (short_form) {
            emit(w, short_form, 2);
        } else {
            char u[6] = {
                '\\', 'u', '0', '0', "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 0xF]};
            emit(w, u, sizeof u);
        }
    }
    emit(w, s + run, n - run);
    emit_byte(w, '"');
}

static sio_err write_string_token(sio_json_writer *w, const uint8_t *s, size_t n)
{
    if (n && !s)
        return fail(w, SIO_ERR_INVALID_ARGUMENT);
    if (sio_utf8_validate(s, n, NULL) != SIO_OK)
        return fail(w, SIO_ERR_JSON_UTF8);
    emit_escaped(w, s, n);
    return SIO_OK;
}

sio_err sio_json_write_key(sio_json_writer *w, const uint8_t *s, size_t n)
{
    if (w->err != SIO_OK)
        return w->err;
    if (!in_object(w) || w->after_key)
        return fail(w, SIO_ERR_JSON_WRITER_STATE);
    if (w->need_comma)
        emit_byte(w, ',');
    sio_err e = write_string_token(w, s, n);
    if (e != SIO_OK)
        return e;
    emit_byte(w, ':');
    w->after_key = 1;
    return SIO_OK;
}

sio_err sio_json_write_string(sio_json_writer *w, const uint8_t *s, size_t n)
{
    sio_err e = before_value(w);
    if (e == SIO_OK)
        e = write_string_token(w, s, n);
    return e == SIO_OK ? after_value(w) : e;
}

sio_err sio_json_write_int(sio_json_writer *w, int64_t v)
{
    sio_err e = before_value(w);
    if (e != SIO_OK)
        return e;
    char digits[24];
    size_t k = sizeof digits;
    /* Work on the negative magnitude so INT64_MIN needs no special case. */
    int64_t neg = v < 0 ? v : -v;
    do {
        digits[--k] = (char)('0' - (neg % 10));
        neg /= 10;
    } while (neg != 0);
    if (v < 0)
        digits[--k] = '-';
    emit(w, digits + k, sizeof digits - k);
    return after_value(w);
}

static sio_err write_checked(sio_json_writer *w, const uint8_t *s, size_t n, sio_json_kind want)
{
    sio_err e = before_value(w);
    if (e != SIO_OK)
        return e;
    if (!s || sio_json_validate(s, n, NULL, NULL) != SIO_OK)
        return fail(w, want == SIO_JSON_NUMBER ? SIO_ERR_JSON_NUMBER : SIO_ERR_JSON_SYNTAX);
    sio_span t = sio_json_trim(sio_span_of(s, n));
    if (want == SIO_JSON_NUMBER && sio_json_kind_of(t) != SIO_JSON_NUMBER)
        return fail(w, SIO_ERR_JSON_NUMBER);
    emit(w, t.ptr, t.len);
    return after_value(w);
}

sio_err sio_json_write_number_text(sio_json_writer *w, const uint8_t *s, size_t n)
{
    return write_checked(w, s, n, SIO_JSON_NUMBER);
}

sio_err sio_json_write_raw(sio_json_writer *w, const uint8_t *json, size_t n)
{
    return write_checked(w, json, n, SIO_JSON_NONE);
}

sio_err sio_json_write_bool(sio_json_writer *w, bool b)
{
    sio_err e = before_value(w);
    if (e != SIO_OK)
        return e;
    emit(w, b ? "true" : "false", b ? 4 : 5);
    return after_value(w);
}

sio_err sio_json_write_null(sio_json_writer *w)
{
    sio_err e = before_value(w);
    if (e != SIO_OK)
        return e;
    emit(w, "null", 4);
    return after_value(w);
}

sio_err sio_json_write_placeholder(sio_json_writer *w, uint32_t *num)
{
    uint32_t k = w->placeholders;
    sio_json_write_begin_object(w);
    sio_json_write_key(w, (const uint8_t *)"_placeholder", 12);
    sio_json_write_bool(w, true);
    sio_json_write_key(w, (const uint8_t *)"num", 3);
    sio_json_write_int(w, k);
    sio_err e = sio_json_write_end_object(w);
    if (e == SIO_OK) {
        w->placeholders = k + 1;
        if (num)
            *num = k;
    }
    return e;
}

sio_err sio_json_writer_finish(sio_json_writer *w, size_t *written)
{
    if (w->err != SIO_OK)
        return w->err;
    if (!w->done)
        return fail(w, SIO_ERR_JSON_WRITER_STATE);
    if (written)
        *written = w->len;
    return w->len <= w->cap ? SIO_OK : SIO_ERR_BUFFER_TOO_SMALL;
}
