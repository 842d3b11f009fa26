/* Outgoing Socket.IO packets: payload arrays written with the codec's JSON writer (received
 * values are re-written so that binary placeholders are renumbered in the order they are sent,
 * SIO-PKT-09), packet text from the codec's packet encoder, then the attachments; emits to one
 * socket, and the entry points of rooms and broadcast (whose work is the adapter's, rooms.c). */
#include <stdlib.h>
#include <string.h>

#include "socketio.h"

/* ------------------------------------------------------------------ JSON helpers */

bool srv_json_string_dup(sio_span token, char *out, size_t cap)
{
    size_t n = 0;
    if (sio_json_kind_of(token) != SIO_JSON_STRING ||
        sio_json_string_unescape(token, (uint8_t *)out, cap - 1, &n) != SIO_OK ||
        memchr(out, '\0', n) != NULL)
        return false;
    out[n] = '\0';
    return true;
}

sio_span srv_json_array_at(sio_span array, size_t index)
{
    sio_json_iter it;
    sio_span v = SIO_SPAN_NULL;
    if (sio_json_array_iter(array, &it) != SIO_OK)
        return v;
    for (size_t i = 0; sio_json_next(&it, NULL, &v); i++)
        if (i == index)
            return v;
    return SIO_SPAN_NULL;
}

/* ------------------------------------------------------------------ payload writing */

/* Collects the attachments in the order their placeholders are written. */
typedef struct attachment_list {
    sio_span *items;
    uint32_t count, cap;
} attachment_list;

static void attachment_push(attachment_list *l, sio_span bytes)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->count++] = bytes;
}

/* The attachment a received placeholder object stands for, if it is one (SIO-PKT-11). */
static bool placeholder_target(const srv_value *v, sio_span obj, sio_span *bytes)
{
    sio_span flag, num;
    int64_t k = 0;
    if (v->attachment_count == 0 || sio_json_object_get(obj, "_placeholder", 12, &flag) != SIO_OK ||
        sio_json_kind_of(flag) != SIO_JSON_TRUE ||
        sio_json_object_get(obj, "num", 3, &num) != SIO_OK || sio_json_get_int(num, &k) != SIO_OK ||
        k < 0 || (uint64_t)k >= v->attachment_count)
        return false;
    *bytes = v->attachments[k];
    return true;
}

static void write_value(sio_json_writer *w, const srv_value *ctx, sio_span json,
                        attachment_list *atts);

static void write_members(sio_json_writer *w, const srv_value *ctx, sio_span json, bool object,
                          attachment_list *atts)
{
    sio_json_iter it;
    sio_span key, value;
    if (object) {
        sio_json_object_iter(json, &it);
        sio_json_write_begin_object(w);
    } else {
        sio_json_array_iter(json, &it);
        sio_json_write_begin_array(w);
    }
    while (sio_json_next(&it, object ? &key : NULL, &value)) {
        if (object) {
            uint8_t *name = xmalloc(key.len);
            size_t n = 0;
            sio_json_string_unescape(key, name, key.len, &n);
            sio_json_write_key(w, name, n);
            free(name);
        }
        write_value(w, ctx, value, atts);
    }
    if (object)
        sio_json_write_end_object(w);
    else
        sio_json_write_end_array(w);
}

/* Re-writes a received value; placeholders become fresh ones pointing at the same bytes. The
 * recursion depth is bounded by the JSON depth limit the codec enforced on receipt. */
static void write_value(sio_json_writer *w, const srv_value *ctx, sio_span json,
                        attachment_list *atts)
{
    sio_span bytes;
    switch (sio_json_kind_of(json)) {
    case SIO_JSON_OBJECT:
#ifdef MUTANT_PLACEHOLDER_NUM_IGNORED /* SIO-PKT-11: attachments bound in placeholder order */
        if (ctx->attachment_count &&
            sio_json_object_get(json, "_placeholder", 12, &bytes) == SIO_OK) {
            sio_json_write_placeholder(w, NULL);
            attachment_push(atts, ctx->attachments[atts->count % ctx->attachment_count]);
            break;
        }
#endif
        if (placeholder_target(ctx, json, &bytes)) {
            sio_json_write_placeholder(w, NULL);
            attachment_push(atts, bytes);
        } else {
            write_members(w, ctx, json, true, atts);
        }
        break;
    case SIO_JSON_ARRAY:
        write_members(w, ctx, json, false, atts);
        break;
    default: {
        sio_span token = sio_json_trim(json);
        sio_json_write_raw(w, token.ptr, token.len);
        break;
    }
    }
}

static void write_item(sio_json_writer *w, const payload_item *it, attachment_list *atts)
{
    switch (it->kind) {
    case ITEM_VALUE:
        write_value(w, &it->value, it->value.json, atts);
        break;
    case ITEM_REST: {
        sio_json_iter iter;
        sio_span v;
        sio_json_array_iter(it->value.json, &iter);
        for (size_t i = 0; sio_json_next(&iter, NULL, &v); i++)
            if (i >= it->from)
                write_value(w, &it->value, v, atts);
        break;
    }
    case ITEM_RAW:
        sio_json_write_raw(w, it->bytes.ptr, it->bytes.len);
        break;
    case ITEM_STRING:
        sio_json_write_string(w, it->bytes.ptr, it->bytes.len);
        break;
    case ITEM_BINARY:
        sio_json_write_placeholder(w, NULL);
        attachment_push(atts, it->bytes);
        break;
    }
}

/* Writes the payload array (into `out`, or only counting when it does not fit). */
static sio_err write_payload(uint8_t *out, size_t cap, size_t *written, const char *event,
                             const payload_item *items, size_t n, attachment_list *atts)
{
    sio_json_writer w;
    sio_json_writer_init(&w, out, cap);
    atts->count = 0;
    sio_json_write_begin_array(&w);
    if (event)
        sio_json_write_string(&w, (const uint8_t *)event, strlen(event));
    for (size_t i = 0; i < n; i++)
        write_item(&w, &items[i], atts);
    sio_json_write_end_array(&w);
    return sio_json_writer_finish(&w, written);
}

/* Bytes that make a received array's elements differ from what the writer would produce: JSON
 * whitespace (the writer drops it between tokens) and the backslash (the writer spells member
 * names' escapes its own way). Inside strings they would be copied as they are, so this is
 * conservative. */
static const uint8_t verbatim_stop[256] = {
    [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, ['\\'] = 1,
};

/* Whether the text holds a byte of verbatim_stop, eight bytes a step. The text is validated JSON,
 * where the only bytes below 0x21 are whitespace (control characters must be escaped inside
 * strings), so "below 0x21 or a backslash" is exactly verbatim_stop there; outside JSON the test
 * would only answer yes more often, which sends the emit to the JSON writer. */
static bool has_verbatim_stop(sio_span text)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    for (; i + 8 <= text.len; i += 8) {
        uint64_t w;
        memcpy(&w, text.ptr + i, 8);
        /* nonzero exactly when some byte is below 0x21, or some byte of x is zero */
        uint64_t below_0x21 = (w - ones * 0x21) & ~w & highs;
        uint64_t x = w ^ (ones * '\\');
        uint64_t backslash = (x - ones) & ~x & highs;
        if (below_0x21 | backslash)
            return true;
    }
    for (; i < text.len; i++)
        if (verbatim_stop[text.ptr[i]])
            return true;
    return false;
}

/* The elements of a received array from index `from` on, as one slice of its text ("a,b,c"),
 * when copying that slice gives exactly the bytes write_value would: nothing to renumber (no
 * attachments) and nothing to reformat (no byte of verbatim_stop). Only the first `from`
 * elements are stepped over; the slice ends where the array's last element does. */
static bool rest_slice(const payload_item *it, sio_span *slice)
{
    if (it->kind != ITEM_REST || it->value.attachment_count > 0)
        return false;
    /* a received value: validated JSON, at most whitespace around it */
    sio_span array = it->value.json, v = SIO_SPAN_NULL;
    while (array.len > 0 && verbatim_stop[array.ptr[array.len - 1]])
        array.len--;
    sio_json_iter iter;
    if (sio_json_array_iter(array, &iter) != SIO_OK)
        return false;
    for (size_t i = 0; i <= it->from; i++)
        if (!sio_json_next(&iter, NULL, &v)) {
            *slice = SIO_SPAN_NULL; /* no element from `from` on */
            return true;
        }
    const uint8_t *end = array.ptr + array.len - 1; /* the closing ']' */
    while (end > v.ptr && verbatim_stop[end[-1]])
        end--; /* whitespace before it (a backslash cannot stand there) */
    *slice = sio_span_of(v.ptr, (size_t)(end - v.ptr));
    return !has_verbatim_stop(*slice);
}

/* The payload of an emit that only passes received arguments on (the fixture's echo and room
 * emits), written without the JSON writer: '[', the event name, the received elements' text,
 * ']'. Returns false when the emit needs the writer (other items, a name to escape). */
static bool verbatim_payload(buf *json, const char *event, const payload_item *items, size_t n)
{
    sio_span slices[4];
    if (n > sizeof slices / sizeof slices[0])
        return false;
    size_t elen = event ? strlen(event) : 0, total = elen + 4 + n;
    for (size_t i = 0; i < n; i++) {
        if (!rest_slice(&items[i], &slices[i]))
            return false;
        total += slices[i].len;
    }
    for (size_t i = 0; i < elen; i++)
        if (event[i] < 0x20 || event[i] > 0x7E || event[i] == '"' || event[i] == '\\')
            return false;
    buf_reserve(json, total);
    uint8_t *o = json->data + json->len;
    *o++ = '[';
    bool first = true;
    if (event) {
        *o++ = '"';
        memcpy(o, event, elen);
        o += elen;
        *o++ = '"';
        first = false;
    }
    for (size_t i = 0; i < n; i++) {
        if (slices[i].len == 0)
            continue;
        if (!first)
            *o++ = ',';
        memcpy(o, slices[i].ptr, slices[i].len);
        o += slices[i].len;
        first = false;
    }
    *o++ = ']';
    json->len = (size_t)(o - json->data);
    return true;
}

/* The payload text into `json`: verbatim when the emit allows it, else by the JSON writer in one
 * pass (a second one only when the first did not fit the guess). */
static sio_err payload_text(buf *json, const char *event, const payload_item *items, size_t n,
                            attachment_list *atts)
{
    atts->count = 0;
    if (verbatim_payload(json, event, items, n))
        return SIO_OK;
    size_t guess = 256, len = 0;
    for (size_t i = 0; i < n; i++)
        guess += items[i].value.json.len + items[i].bytes.len + 16;
    buf_reserve(json, guess);
    sio_err rc = write_payload(json->data, guess, &len, event, items, n, atts);
    if (rc == SIO_ERR_BUFFER_TOO_SMALL) {
        buf_reserve(json, len);
        rc = write_payload(json->data, len, &len, event, items, n, atts);
    }
    json->len = rc == SIO_OK ? len : 0;
    return rc;
}

bool srv_packet_encode(srv_packet *out, srv_namespace *nsp, const char *event,
                       const payload_item *items, size_t n, bool has_id, uint64_t id)
{
    attachment_list atts = {0};
    buf json = {0};
    memset(out, 0, sizeof *out);
    sio_err rc = payload_text(&json, event, items, n, &atts);
    sio_pkt pkt = {.type = event ? SIO_PKT_EVENT : SIO_PKT_ACK,
                   .attachments = atts.count,
                   .nsp = sio_span_of(nsp->name, strlen(nsp->name)),
                   .has_id = has_id,
                   .id = id,
                   .data = sio_span_of(buf_begin(&json), buf_size(&json))};
    if (rc == SIO_OK) {
        /* type, attachment count and '-', namespace and ',', id: 48 bytes cover all but the name */
        size_t cap = buf_size(&json) + pkt.nsp.len + 48, text_len = 0;
        buf_reserve(&out->text, cap);
        rc = sio_pkt_encode(&pkt, NULL, out->text.data, cap, &text_len);
        out->text.len = rc == SIO_OK ? text_len : 0;
    }
    size_t data_len = buf_size(&json); /* the payload ends the packet text */
    buf_reset(&json);
    if (rc != SIO_OK) {
        log_msg(nsp->sio->srv, LOG_ERROR, "cannot encode packet: %s", sio_err_name(rc));
        free(atts.items);
        buf_reset(&out->text);
        return false;
    }
    out->attachments = atts.items;
    out->attachment_count = atts.count;
    out->has_id = has_id && event != NULL;
    out->id = id;
    out->data_len = data_len;
    return true;
}

bool srv_packet_from_json(srv_packet *out, srv_namespace *nsp, sio_span json,
                          const sio_span *attachments, uint32_t attachment_count, bool has_id,
                          uint64_t id)
{
    memset(out, 0, sizeof *out);
    sio_pkt pkt = {.type = SIO_PKT_EVENT,
                   .attachments = attachment_count,
                   .nsp = sio_span_of(nsp->name, strlen(nsp->name)),
                   .has_id = has_id,
                   .id = id,
                   .data = json};
    /* sized by the same bound as srv_packet_encode, so the payload is checked once */
    size_t cap = json.len + pkt.nsp.len + 48, text_len = 0;
    buf_reserve(&out->text, cap);
    if (sio_pkt_encode(&pkt, NULL, out->text.data, cap, &text_len) != SIO_OK) {
        buf_reset(&out->text);
        return false;
    }
    out->text.len = text_len;
    if (attachment_count) {
        out->attachments = xcalloc(attachment_count, sizeof *out->attachments);
        memcpy(out->attachments, attachments, attachment_count * sizeof *attachments);
    }
    out->attachment_count = attachment_count;
    out->has_id = has_id;
    out->id = id;
    out->data_len = json.len;
    return true;
}

sio_span srv_packet_data(const srv_packet *p)
{
    return sio_span_of(p->text.data + p->text.len - p->data_len, p->data_len);
}

void srv_packet_free(srv_packet *out)
{
    buf_reset(&out->text);
    free(out->attachments);
    memset(out, 0, sizeof *out);
}

/* The packet text as one Engine.IO message, then each attachment as a binary message; an
 * EVENT with an id registers the ack the client owes (the codec matches it, SIO-ACK-03). */
void srv_packet_send(const srv_packet *out, srv_socket *sock)
{
    srv_client *client = sock->client;
    if (client->closing)
        return;
    sio_sio_server_send(&client->proto, sio_span_of(sock->nsp->name, strlen(sock->nsp->name)),
                        sio_span_of(buf_begin(&out->text), buf_size(&out->text)), out->attachments,
                        out->attachment_count, out->has_id, out->id, loop_now_ms());
    eio_flush(client->eio);
}

void srv_emit(srv_socket *sock, const char *event, const payload_item *items, size_t n)
{
    srv_packet out;
    if (srv_packet_encode(&out, sock->nsp, event, items, n, false, 0)) {
        srv_packet_send(&out, sock);
        srv_packet_free(&out);
    }
}

/* A volatile emit (SIO-BC-07): dropped when the client's transport cannot take a packet right
 * now, that is a polling session with no GET held, as Node does. Returns whether it was sent. */
bool srv_emit_volatile(srv_socket *sock, const char *event, const payload_item *items, size_t n)
{
    if (!eio_writable(sock->client->eio))
        return false;
    srv_emit(sock, event, items, n);
    return true;
}

void srv_ack_reply(srv_socket *sock, uint64_t id, const payload_item *items, size_t n)
{
    srv_packet out;
    if (srv_packet_encode(&out, sock->nsp, NULL, items, n, true, id)) {
        srv_packet_send(&out, sock);
        srv_packet_free(&out);
    }
}

/* ------------------------------------------------------------------ rooms and broadcast */

bool srv_socket_in_room(const srv_socket *sock, const char *room)
{
    return sock->nsp->sio->adapter->in_room(sock, room);
}

bool srv_socket_join(srv_socket *sock, const char *room)
{
    return sock->nsp->sio->adapter->join(sock, room);
}

void srv_socket_leave(srv_socket *sock, const char *room)
{
    sock->nsp->sio->adapter->leave(sock, room);
}

void srv_socket_rooms_json(const srv_socket *sock, buf *out)
{
    sock->nsp->sio->adapter->rooms_json(sock, out);
}

void srv_broadcast(const broadcast_target *t, const char *event, const payload_item *items,
                   size_t n)
{
    srv_packet out;
    if (!srv_packet_encode(&out, t->nsp, event, items, n, false, 0))
        return;
    t->nsp->sio->adapter->broadcast(t, &out, NULL, NULL);
    srv_packet_free(&out);
}
