/* Engine.IO polling payloads: v4 records joined by 0x1E (EIO-PKT-03, 06, 07), v3 length-prefixed
 * text (EIO-PKT-15, 16, 19) and v3 XHR2 binary framing (EIO-PKT-17). */
#include "eio_internal.h"
#include "sio/base64.h"
#include "sio/utf8.h"

#define EIO_SEPARATOR 0x1E
#define EIO_XHR2_END  0xFF

static sio_err iter_fail(sio_eio_payload_iter *it, sio_err rc)
{
    it->err = rc;
    return rc;
}

/* ---------------------------------------------------------------- v4 */
/* Records are split at 0x1E, an ASCII byte, which no UTF-8 character contains: when the whole
 * body is UTF-8 (one pass, made before the first record: it->checked), so is every record, and
 * the records are decoded without checking it again. A body that is not is read as before,
 * record by record, so each error is still reported at the record that holds it. */

static sio_err v4_next(sio_eio_payload_iter *it, sio_eio_packet *pkt, bool *has)
{
    if (it->pos > it->len) {
        *has = false;
        return SIO_OK;
    }
    /* An empty body may come as a null pointer: no offset is added to it. */
    if (it->len == 0)
        return SIO_ERR_EIO_EMPTY_PAYLOAD;
    const uint8_t *start = it->p + it->pos;
    const uint8_t *sep = memchr(start, EIO_SEPARATOR, it->len - it->pos);
    size_t n = sep ? (size_t)(sep - start) : it->len - it->pos;
    /* Node splits on 0x1E and decodes each piece, so "" is a packet without a type. */
    if (n == 0)
        return SIO_ERR_EIO_EMPTY_RECORD;
    if (it->count >= eio_max_records(&it->opt))
        return SIO_ERR_EIO_TOO_MANY_RECORDS;
    sio_err rc = it->checked
                     ? sio__eio_record_decode_utf8(4, start, n, &it->opt, pkt)
                     : sio_eio_packet_decode(4, SIO_EIO_FRAME_RECORD, start, n, &it->opt, pkt);
    if (rc != SIO_OK)
        return rc;
    it->pos += n + 1; /* past the separator, or past the end for the last record */
    *has = true;
    return SIO_OK;
}

/* ---------------------------------------------------------------- v3 text */

/* Reads '<digits>:' at it->pos. Leading zeros are Node's leniency (Number("06") == 6). */
static sio_err v3_read_length(sio_eio_payload_iter *it, uint64_t *value)
{
    size_t digits = 0, start = it->pos;
    uint64_t v = 0;
    while (it->pos < it->len && it->p[it->pos] != ':') {
        uint8_t c = it->p[it->pos];
        if (c < '0' || c > '9')
            return SIO_ERR_EIO_V3_LENGTH;
        if (++digits > SIO_EIO_V3_MAX_LENGTH_DIGITS)
            return SIO_ERR_EIO_V3_LENGTH_DIGITS;
        v = v * 10 + (uint64_t)(c - '0');
        it->pos++;
    }
    if (it->pos == it->len)
        return SIO_ERR_EIO_V3_TRUNCATED;
    if (digits == 0 || (digits > 1 && it->p[start] == '0' && !it->opt.compat))
        return SIO_ERR_EIO_V3_LENGTH;
    it->pos++;
    *value = v;
    return SIO_OK;
}

/* Advances over `units` UTF-16 code units of (already validated) UTF-8 text. */
static sio_err v3_skip_units(sio_eio_payload_iter *it, uint64_t units)
{
    uint64_t seen = 0;
    while (seen < units) {
        if (it->pos >= it->len)
            return SIO_ERR_EIO_V3_TRUNCATED;
        uint8_t lead = it->p[it->pos];
        size_t bytes = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        seen += bytes == 4 ? 2 : 1;
        it->pos += bytes;
    }
    /* Stopping between the two halves of a surrogate pair would cut a character in two. */
    return seen == units ? SIO_OK : SIO_ERR_EIO_V3_SPLIT_CHARACTER;
}

static sio_err v3_text_next(sio_eio_payload_iter *it, sio_eio_packet *pkt, bool *has)
{
    while (it->pos < it->len) {
        uint64_t units;
        sio_err rc = v3_read_length(it, &units);
        if (rc != SIO_OK)
            return rc;
        size_t start = it->pos;
        if ((rc = v3_skip_units(it, units)) != SIO_OK)
            return rc;
        if (units == 0) {
            /* A record holds a packet, and a packet has at least its type character, so '0:'
             * carries none. The body '0:' alone is how engine.io-parser 2.x writes a payload
             * without packets: accepted in both modes. Next to other records, 2.x skips it:
             * compat does the same, strict rejects it as v4 rejects an empty record. */
            if (it->opt.compat || (start == 2 && it->len == 2))
                continue;
            return SIO_ERR_EIO_EMPTY_RECORD;
        }
        if (it->count >= eio_max_records(&it->opt))
            return SIO_ERR_EIO_TOO_MANY_RECORDS;
        rc = sio_eio_packet_decode(3, SIO_EIO_FRAME_RECORD, it->p + start, it->pos - start,
                                   &it->opt, pkt);
        if (rc != SIO_OK)
            return rc;
        *has = true;
        return SIO_OK;
    }
    *has = false;
    return SIO_OK;
}

/* ---------------------------------------------------------------- v3 XHR2 */

/* One byte per decimal digit. Node appends the decimal form of any byte below FF, but then skips
 * as many bytes as that text has characters, so a byte above 09 misaligns the record: both modes
 * reject it. */
static sio_err xhr2_read_length(sio_eio_payload_iter *it, uint64_t *value)
{
    size_t digits = 0, start = it->pos;
    uint64_t v = 0;
    while (it->pos < it->len && it->p[it->pos] != EIO_XHR2_END) {
        uint8_t b = it->p[it->pos++];
        if (b > 9)
            return SIO_ERR_EIO_XHR2_DIGIT;
        if (++digits > SIO_EIO_V3_MAX_LENGTH_DIGITS)
            return SIO_ERR_EIO_V3_LENGTH_DIGITS;
        v = v * 10 + b;
    }
    if (it->pos == it->len)
        return SIO_ERR_EIO_V3_TRUNCATED;
    if (digits == 0 || (digits > 1 && it->p[start] == 0 && !it->opt.compat))
        return SIO_ERR_EIO_V3_LENGTH;
    it->pos++;
    *value = v;
    return SIO_OK;
}

static sio_err xhr2_next(sio_eio_payload_iter *it, sio_eio_packet *pkt, bool *has)
{
    if (it->pos >= it->len) {
        *has = false;
        return SIO_OK;
    }
    uint8_t marker = it->p[it->pos++];
    if (marker > 1 && !it->opt.compat)
        return SIO_ERR_EIO_XHR2_MARKER;
    uint64_t n;
    sio_err rc = xhr2_read_length(it, &n);
    if (rc != SIO_OK)
        return rc;
    if (n > it->len - it->pos) {
        if (!it->opt.compat)
            return SIO_ERR_EIO_V3_TRUNCATED;
        n = it->len - it->pos; /* Node's slice() silently stops at the end */
    }
    if (it->count >= eio_max_records(&it->opt))
        return SIO_ERR_EIO_TOO_MANY_RECORDS;
    const uint8_t *start = it->p + it->pos;
    it->pos += (size_t)n;
    /* Text records hold the UTF-8 bytes of a text packet; binary ones a type byte + data. */
    sio_eio_frame frame = marker == 0 ? SIO_EIO_FRAME_RECORD : SIO_EIO_FRAME_WS_BINARY;
    rc = sio_eio_packet_decode(3, frame, start, (size_t)n, &it->opt, pkt);
    if (rc == SIO_OK)
        *has = true;
    return rc;
}

/* ---------------------------------------------------------------- iteration */

void sio_eio_payload_iter_init(sio_eio_payload_iter *it, sio_eio_payload_format format,
                               const uint8_t *p, size_t n, const sio_eio_options *opt)
{
    static const sio_eio_options defaults;
    it->format = format;
    it->opt = opt ? *opt : defaults;
    it->p = p;
    it->len = p ? n : 0;
    it->pos = 0;
    it->count = 0;
    it->err = (p || !n) ? SIO_OK : SIO_ERR_INVALID_ARGUMENT;
    it->checked = false;
}

static sio_err read_one(sio_eio_payload_iter *it, sio_eio_packet *pkt, bool *has)
{
    switch (it->format) {
    case SIO_EIO_PAYLOAD_V4:
        return v4_next(it, pkt, has);
    case SIO_EIO_PAYLOAD_V3_TEXT:
        return v3_text_next(it, pkt, has);
    case SIO_EIO_PAYLOAD_V3_BINARY:
        return xhr2_next(it, pkt, has);
    }
    return SIO_ERR_INVALID_ARGUMENT;
}

/* v3 rejects a payload as a whole: walk it once before handing out the first packet. */
static sio_err v3_check_all(sio_eio_payload_iter *it)
{
    if (it->len == 0 && !(it->format == SIO_EIO_PAYLOAD_V3_BINARY && it->opt.compat))
        return SIO_ERR_EIO_EMPTY_PAYLOAD;
    if (it->format == SIO_EIO_PAYLOAD_V3_TEXT) {
        sio_err rc = sio_utf8_validate(it->p, it->len, NULL);
        if (rc != SIO_OK)
            return rc;
    }
    sio_eio_packet pkt;
    bool has = true;
    while (has) {
        sio_err rc = read_one(it, &pkt, &has);
        if (rc != SIO_OK)
            return rc;
        it->count += has;
    }
    it->pos = 0;
    it->count = 0;
    it->checked = true;
    return SIO_OK;
}

sio_err sio_eio_payload_next(sio_eio_payload_iter *it, sio_eio_packet *pkt, bool *has)
{
    if (!it || !pkt || !has)
        return SIO_ERR_INVALID_ARGUMENT;
    *has = false;
    if (it->err != SIO_OK)
        return it->err;
    if (it->format != SIO_EIO_PAYLOAD_V4 && !it->checked) {
        sio_err rc = v3_check_all(it);
        if (rc != SIO_OK)
            return iter_fail(it, rc);
    }
    if (it->format == SIO_EIO_PAYLOAD_V4 && it->pos == 0 && !it->checked)
        it->checked = sio_utf8_validate(it->p, it->len, NULL) == SIO_OK;
    sio_err rc = read_one(it, pkt, has);
    if (rc != SIO_OK)
        return iter_fail(it, rc);
    it->count += *has;
    return SIO_OK;
}

sio_err sio_eio_payload_validate(sio_eio_payload_format format, const uint8_t *p, size_t n,
                                 const sio_eio_options *opt, size_t *count)
{
    sio_eio_payload_iter it;
    sio_eio_packet pkt;
    bool has = true;
    sio_eio_payload_iter_init(&it, format, p, n, opt);
    while (has) {
        sio_err rc = sio_eio_payload_next(&it, &pkt, &has);
        if (rc != SIO_OK)
            return rc;
    }
    if (count)
        *count = it.count;
    return SIO_OK;
}
