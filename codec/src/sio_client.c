/* The client side of a Socket.IO connection: see sio/sio_client.h for the model and the
 * transition table. */
#include <stdio.h>
#include <string.h>

#include "session_internal.h"
#include "sio/json.h"
#include "sio/sio_client.h"

typedef enum nsp_state { NSP_PENDING = 0, NSP_JOINED = 1, NSP_LEFT = 2 } nsp_state;

struct sio_sio_client_nsp {
    sio_sio_client_nsp *next;
    void *user;
    nsp_state state;
    bool connect_sent;    /* the CONNECT of this Engine.IO session went out */
    uint64_t next_ack_id; /* ids of our acks, from 0 per namespace */
    uint64_t sent_below;  /* ack ids below this went out; the others wait in `buffer` */
    uint64_t *acks;       /* ids we await */
    uint32_t ack_count, ack_cap;
    sio_eio_item_list buffer;                /* emits (text, then attachments) waiting for JOINED */
    sio_sio_client_item *early, *early_tail; /* EVENTs that came before the CONNECT reply */
    uint32_t early_count;
    uint8_t *auth; /* v5: the JSON object; v4: the query */
    size_t name_len, auth_len;
    /* Connection-state recovery: the last CONNECT reply's pid and the last event's offset, as
     * JSON strings (empty: none). */
    uint8_t pid[SIO_SIO_CLIENT_MAX_RECOVERY_TOKEN], offset[SIO_SIO_CLIENT_MAX_RECOVERY_TOKEN];
    size_t pid_len, offset_len;
    char name[SIO_SIO_CLIENT_MAX_NAMESPACE + 1];
};

struct sio_sio_client_item {
    sio_sio_client_item *next;
    sio_sio_client_event_type type;
    void *user;
    bool has_id;
    uint64_t id;
    sio_sio_client_reason reason;
    uint32_t attempt;
    uint64_t delay_ms;
    bool recovered;
    const sio_span *attachments;
    uint32_t attachment_count;
    void *owned; /* copies of the attachments (spans, then bytes) of a received EVENT or ACK */
    size_t nsp_len, len;
    uint8_t data[]; /* the namespace, then the data */
};

#define NEVER  UINT64_MAX
#define MEM(s) ((s)->cfg->alloc)

static sio_sio_client_nsp *find(const sio_sio_client *s, sio_span nsp)
{
    nsp = sio__nsp_name(nsp);
    for (sio_sio_client_nsp *n = s->namespaces; n; n = n->next)
        if (sio__span_is(nsp, n->name, n->name_len))
            return n;
    return NULL;
}

static sio_span name_of(const sio_sio_client_nsp *n)
{
    return sio_span_of(n->name, n->name_len);
}

/* ------------------------------------------------------------------ events */

/* An event, not queued yet; the namespace and the data are copied. */
static sio_sio_client_item *item_new(sio_sio_client *s, sio_sio_client_event_type type,
                                     sio_span nsp, void *user, sio_span data)
{
    sio_sio_client_item *it = sio__mem(MEM(s), NULL, sizeof *it + nsp.len + data.len);
    if (!it)
        return NULL;
    memset(it, 0, sizeof *it);
    it->type = type;
    it->user = user;
    it->nsp_len = nsp.len;
    it->len = data.len;
    if (nsp.len)
        memcpy(it->data, nsp.ptr, nsp.len);
    if (data.len)
        memcpy(it->data + nsp.len, data.ptr, data.len);
    return it;
}

static void item_free(sio_sio_client *s, sio_sio_client_item *it)
{
    if (it)
        sio__mem(MEM(s), it->owned, 0);
    sio__mem(MEM(s), it, 0);
}

static void items_free(sio_sio_client *s, sio_sio_client_item *it)
{
    while (it) {
        sio_sio_client_item *next = it->next;
        item_free(s, it);
        it = next;
    }
}

/* Appends a chain of events (`first` … `last`) to the queue. */
static void queue_items(sio_sio_client *s, sio_sio_client_item *first, sio_sio_client_item *last)
{
    if (s->events_tail)
        s->events_tail->next = first;
    else
        s->events = first;
    s->events_tail = last;
}

/* Queues an event. Allocation failure drops it (the caller learns nothing it could act on
 * anyway). */
static sio_sio_client_item *push(sio_sio_client *s, sio_sio_client_event_type type, sio_span nsp,
                                 void *user, sio_span data)
{
    sio_sio_client_item *it = item_new(s, type, nsp, user, data);
    if (it)
        queue_items(s, it, it);
    return it;
}

static void push_nsp(sio_sio_client *s, sio_sio_client_event_type type, sio_sio_client_nsp *n,
                     sio_span data, sio_sio_client_reason reason)
{
    sio_sio_client_item *it = push(s, type, name_of(n), n->user, data);
    if (it)
        it->reason = reason;
}

static void push_attempt(sio_sio_client *s, sio_sio_client_event_type type, uint32_t attempt,
                         uint64_t delay)
{
    sio_sio_client_item *it = push(s, type, SIO_SPAN_NULL, NULL, SIO_SPAN_NULL);
    if (it) {
        it->attempt = attempt;
        it->delay_ms = delay;
    }
}

sio_err sio_sio_client_next_event(sio_sio_client *s, sio_sio_client_event *ev)
{
    item_free(s, s->current);
    s->current = NULL;
    memset(ev, 0, sizeof *ev);
    sio_sio_client_item *it = s->events;
    if (!it)
        return SIO_OK;
    s->events = it->next;
    if (!s->events)
        s->events_tail = NULL;
    s->current = it;
    ev->type = it->type;
    ev->nsp = sio_span_of(it->data, it->nsp_len);
    ev->nsp_user = it->user;
    ev->data = it->len || it->type == SIO_SIO_CLIENT_EV_EVENT || it->type == SIO_SIO_CLIENT_EV_ACK
                   ? sio_span_of(it->data + it->nsp_len, it->len)
                   : SIO_SPAN_NULL;
    ev->attachments = it->attachments;
    ev->attachment_count = it->attachment_count;
    ev->has_id = it->has_id;
    ev->id = it->id;
    ev->reason = it->reason;
    ev->attempt = it->attempt;
    ev->delay_ms = it->delay_ms;
    ev->recovered = it->recovered;
    return SIO_OK;
}

const char *sio_sio_client_reason_name(sio_sio_client_reason r)
{
    static const char *const names[] = {"io server disconnect", "io client disconnect",
                                        "transport close",      "transport error",
                                        "ping timeout",         "parse error"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "unknown";
}

/* ------------------------------------------------------------------ sending */

static sio_err encode_send(sio_sio_client *s, const sio_pkt *pkt, const sio_span *atts,
                           uint32_t count, uint64_t now)
{
    uint8_t *text = NULL;
    size_t len = 0;
    sio_err rc = sio__pkt_encode_alloc(MEM(s), pkt, s->protocol, &text, &len);
    if (rc == SIO_OK)
        rc = sio_eio_client_send(s->eio, false, text, len, now);
    for (uint32_t i = 0; rc == SIO_OK && i < count; i++)
        rc = sio_eio_client_send(s->eio, true, atts[i].ptr, atts[i].len, now);
    sio__mem(MEM(s), text, 0);
    return rc;
}

/* The v5 CONNECT payload with recovery: {"pid":…[,"offset":…][,the auth's members]} (the auth
 * last, so its members win, as Object.assign in socket.io-client). Returns its length. */
static size_t recovery_payload(const sio_sio_client_nsp *n, uint8_t *out)
{
    size_t w = 0;
    memcpy(out + w, "{\"pid\":", 7);
    w += 7;
    memcpy(out + w, n->pid, n->pid_len);
    w += n->pid_len;
    if (n->offset_len) {
        memcpy(out + w, ",\"offset\":", 10);
        w += 10;
        memcpy(out + w, n->offset, n->offset_len);
        w += n->offset_len;
    }
    /* the auth object's members: between its braces, without the white space around them */
    const uint8_t *a = n->auth, *end = a ? a + n->auth_len : a;
    while (a < end && *a != '{')
        a++;
    while (end > a && end[-1] != '}')
        end--;
    if (end - a >= 2) {
        a++, end--;
        while (a < end && (*a == ' ' || *a == 9 || *a == 10 || *a == 13))
            a++;
        while (end > a && (end[-1] == ' ' || end[-1] == 9 || end[-1] == 10 || end[-1] == 13))
            end--;
    }
    if (end > a) {
        out[w++] = ',';
        memcpy(out + w, a, (size_t)(end - a));
        w += (size_t)(end - a);
    }
    out[w++] = '}';
    return w;
}

/* Whether the encoder takes a CONNECT for `nsp` with `auth` (v5 a JSON object, v4 a query): a
 * name or an auth it refuses is the application's mistake, told by sio_sio_client_connect() in
 * any state of the connection rather than found when the CONNECT is due. The recovery form adds
 * only JSON strings the decoder took to a valid object, so the plain form decides. */
static sio_err connect_encodable(const sio_sio_client *s, sio_span nsp, sio_span auth)
{
    sio_pkt pkt = {.type = SIO_PKT_CONNECT, .nsp = nsp};
    if (s->protocol == 4)
        pkt.query = auth;
    else if (auth.len)
        pkt.data = auth;
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    opt.protocol = s->protocol;
    size_t need = 0;
    sio_err rc = sio_pkt_encode(&pkt, &opt, NULL, 0, &need);
    return rc == SIO_ERR_BUFFER_TOO_SMALL ? SIO_OK : rc;
}

/* CONNECT for a namespace: v5 with its auth object (and its recovery state); v4 with its query
 * ("/" is implicit in v4: the server confirms it on its own). Fails when the Engine.IO session
 * refuses the message (a name holding 0x1E cannot travel in a v4 polling payload). */
static sio_err send_connect(sio_sio_client *s, sio_sio_client_nsp *n, uint64_t now)
{
    n->connect_sent = true;
    if (s->protocol == 4 && sio__span_is(name_of(n), "/", 1))
        return SIO_OK;
    uint8_t payload[SIO_SIO_CLIENT_MAX_AUTH + 2 * SIO_SIO_CLIENT_MAX_RECOVERY_TOKEN + 24];
    sio_pkt pkt = {.type = SIO_PKT_CONNECT, .nsp = name_of(n)};
    if (s->protocol == 4)
        pkt.query = sio_span_of(n->auth, n->auth_len);
    else if (n->pid_len)
        pkt.data = sio_span_of(payload, recovery_payload(n, payload));
    else if (n->auth_len)
        pkt.data = sio_span_of(n->auth, n->auth_len);
    return encode_send(s, &pkt, NULL, 0, now);
}

/* Buffered emits go out once the namespace is joined: text, then its attachments. */
static void send_buffer(sio_sio_client *s, sio_sio_client_nsp *n, uint64_t now)
{
    sio_eio_item *it;
    while ((it = sio__list_pop(&n->buffer)) != NULL) {
        sio_eio_client_send(s->eio, it->binary, it->data, it->len, now);
        sio__mem(MEM(s), it, 0);
    }
    n->sent_below = n->next_ack_id;
}

static sio_err await_ack(sio_sio_client *s, sio_sio_client_nsp *n, uint64_t id)
{
    if (n->ack_count == n->ack_cap) {
        uint32_t cap = n->ack_cap ? n->ack_cap * 2 : 4;
        uint64_t *more = sio__mem(MEM(s), n->acks, cap * sizeof *more);
        if (!more)
            return SIO_ERR_NO_MEMORY;
        n->acks = more;
        n->ack_cap = cap;
    }
    n->acks[n->ack_count++] = id;
    return SIO_OK;
}

/* Appends a message to a namespace's buffer. */
static sio_err buffer_message(sio_sio_client *s, sio_sio_client_nsp *n, bool binary,
                              const uint8_t *p, size_t len)
{
    sio_eio_item *it = sio__item_new(MEM(s), 0, len);
    if (!it)
        return SIO_ERR_NO_MEMORY;
    it->binary = binary;
    if (len)
        memcpy(it->data, p, len);
    sio__list_push(&n->buffer, it);
    return SIO_OK;
}

/* A packet for a namespace still PENDING: its messages wait in the namespace's buffer. */
static sio_err buffer_packet(sio_sio_client *s, sio_sio_client_nsp *n, const sio_pkt *pkt,
                             const sio_span *atts, uint32_t count)
{
    uint8_t *text = NULL;
    size_t len = 0;
    sio_err rc = sio__pkt_encode_alloc(MEM(s), pkt, s->protocol, &text, &len);
    if (rc == SIO_OK)
        rc = buffer_message(s, n, false, text, len);
    for (uint32_t i = 0; rc == SIO_OK && i < count; i++)
        rc = buffer_message(s, n, true, atts[i].ptr, atts[i].len);
    sio__mem(MEM(s), text, 0);
    return rc;
}

sio_err sio_sio_client_emit(sio_sio_client *s, sio_span nsp, sio_span data,
                            const sio_span *attachments, uint32_t count, bool want_ack,
                            uint64_t *id, uint64_t now_ms)
{
    sio_sio_client_nsp *n = find(s, nsp);
    if (!n || n->state == NSP_LEFT || s->state == SIO_SIO_CLIENT_CLOSED)
        return SIO_ERR_SIO_NOT_JOINED;
    sio_pkt pkt = {.type = SIO_PKT_EVENT,
                   .attachments = count,
                   .nsp = name_of(n),
                   .has_id = want_ack,
                   .id = n->next_ack_id,
                   .data = data};
    bool now_out = n->state == NSP_JOINED && s->state == SIO_SIO_CLIENT_OPEN;
    sio_err rc = now_out ? encode_send(s, &pkt, attachments, count, now_ms)
                         : buffer_packet(s, n, &pkt, attachments, count);
    if (rc == SIO_OK && want_ack) {
        rc = await_ack(s, n, n->next_ack_id);
        if (id)
            *id = n->next_ack_id;
        n->next_ack_id++;
    }
    if (now_out)
        n->sent_below = n->next_ack_id;
    return rc;
}

sio_err sio_sio_client_ack(sio_sio_client *s, sio_span nsp, uint64_t id, sio_span data,
                           const sio_span *attachments, uint32_t count, uint64_t now_ms)
{
    sio_sio_client_nsp *n = find(s, nsp);
    if (!n || n->state != NSP_JOINED || s->state != SIO_SIO_CLIENT_OPEN)
        return SIO_ERR_SIO_NOT_JOINED;
    sio_pkt pkt = {.type = SIO_PKT_ACK,
                   .attachments = count,
                   .nsp = name_of(n),
                   .has_id = true,
                   .id = id,
                   .data = data};
    return encode_send(s, &pkt, attachments, count, now_ms);
}

/* ------------------------------------------------------------------ namespaces */

/* Events kept for a namespace that will not be joined with them are dropped. */
static void drop_early(sio_sio_client *s, sio_sio_client_nsp *n)
{
    items_free(s, n->early);
    n->early = n->early_tail = NULL;
    n->early_count = 0;
}

/* The connection the emits with ids below `sent_below` went out on is gone, and their answers
 * with it; the ids of emits still in the buffer are kept, as their packets go out on the next
 * connection (socket.io-client's _clearAcks spares the ids of its sendBuffer too). */
static void forget_sent_acks(sio_sio_client_nsp *n)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n->ack_count; i++)
        if (n->acks[i] >= n->sent_below)
            n->acks[kept++] = n->acks[i];
    n->ack_count = kept;
}

static void leave(sio_sio_client *s, sio_sio_client_nsp *n, sio_sio_client_reason reason, bool tell)
{
    bool was_joined = n->state == NSP_JOINED;
    n->state = NSP_LEFT;
    n->ack_count = 0;
    n->pid_len = n->offset_len = 0; /* a namespace left has no state to recover */
    sio__list_clear(MEM(s), &n->buffer);
    drop_early(s, n);
    if (tell && was_joined)
        push_nsp(s, SIO_SIO_CLIENT_EV_DISCONNECTED, n, SIO_SPAN_NULL, reason);
}

/* A CONNECT that could not be sent when the connection opened: the namespace is refused with a
 * payload of the client's own that names the error (a CONNECT_ERROR, as for a server refusal),
 * rather than left waiting for a reply that cannot come. */
static void connect_not_sent(sio_sio_client *s, sio_sio_client_nsp *n, sio_err rc)
{
    char message[160];
    int len = snprintf(message, sizeof message,
                       "{\"message\":\"the CONNECT could not be sent: %s\"}", sio_err_name(rc));
    push_nsp(s, SIO_SIO_CLIENT_EV_CONNECT_ERROR, n, sio_span_of(message, (size_t)len), 0);
    leave(s, n, SIO_SIO_CLIENT_REASON_CLIENT_DISCONNECT, false);
}

sio_err sio_sio_client_connect(sio_sio_client *s, sio_span nsp, sio_span auth, void *user,
                               uint64_t now_ms)
{
    nsp = sio__nsp_name(nsp);
    if (nsp.len > SIO_SIO_CLIENT_MAX_NAMESPACE || auth.len > SIO_SIO_CLIENT_MAX_AUTH)
        return SIO_ERR_LIMIT;
    if (s->state == SIO_SIO_CLIENT_CLOSED)
        return SIO_ERR_SIO_WRONG_STATE;
    sio_sio_client_nsp *n = find(s, nsp);
    if (n && n->state != NSP_LEFT)
        return SIO_ERR_SIO_WRONG_STATE;
    sio_err refused = connect_encodable(s, nsp, auth);
    if (refused != SIO_OK)
        return refused;
    uint8_t *copy = NULL;
    if (auth.len && (copy = sio__mem(MEM(s), NULL, auth.len)) == NULL)
        return SIO_ERR_NO_MEMORY;
    if (!n) {
        n = sio__mem(MEM(s), NULL, sizeof *n);
        if (!n) {
            sio__mem(MEM(s), copy, 0);
            return SIO_ERR_NO_MEMORY;
        }
        memset(n, 0, sizeof *n);
        memcpy(n->name, nsp.ptr, nsp.len);
        n->name_len = nsp.len;
        sio_sio_client_nsp **tail = &s->namespaces; /* in the order they were asked for */
        while (*tail)
            tail = &(*tail)->next;
        *tail = n;
    }
    n->user = user;
    n->state = NSP_PENDING;
    n->connect_sent = false;
    sio__mem(MEM(s), n->auth, 0);
    n->auth = copy;
    n->auth_len = auth.len;
    if (auth.len)
        memcpy(n->auth, auth.ptr, auth.len);
    sio_err rc = s->state == SIO_SIO_CLIENT_OPEN ? send_connect(s, n, now_ms) : SIO_OK;
    if (rc != SIO_OK) /* not joining, and told so: the namespace may be asked for again */
        leave(s, n, SIO_SIO_CLIENT_REASON_CLIENT_DISCONNECT, false);
    return rc;
}

sio_err sio_sio_client_disconnect(sio_sio_client *s, sio_span nsp, uint64_t now_ms)
{
    sio_sio_client_nsp *n = find(s, nsp);
    if (!n || n->state == NSP_LEFT)
        return SIO_ERR_SIO_NOT_JOINED;
    if (n->state == NSP_JOINED && s->state == SIO_SIO_CLIENT_OPEN) {
        sio_pkt pkt = {.type = SIO_PKT_DISCONNECT, .nsp = name_of(n)};
        encode_send(s, &pkt, NULL, 0, now_ms);
    }
    leave(s, n, SIO_SIO_CLIENT_REASON_CLIENT_DISCONNECT, true);
    return SIO_OK;
}

/* ------------------------------------------------------------------ the connection */

void sio_sio_client_config_init(sio_sio_client_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->reconnection = true;
    cfg->delay_ms = SIO_SIO_CLIENT_DEFAULT_DELAY_MS;
    cfg->delay_max_ms = SIO_SIO_CLIENT_DEFAULT_DELAY_MAX_MS;
    cfg->randomization = SIO_SIO_CLIENT_DEFAULT_RANDOMIZATION;
    cfg->connect_timeout_ms = SIO_SIO_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS;
    cfg->max_attachments = SIO_PKT_MAX_ATTACHMENTS_DEFAULT;
}

uint64_t sio_sio_client_backoff(const sio_sio_client_config *cfg, uint32_t attempt, uint32_t random)
{
    uint64_t ms = cfg->delay_ms;
    for (uint32_t i = 0; i < attempt && ms < cfg->delay_max_ms; i++)
        ms *= 2;
    if (cfg->randomization) {
        /* r = random / 2^32 in [0, 1): the delay moves by floor(r x randomization x ms), down
         * when floor(10 r) is even, up when it is odd. */
        double r = (double)random / 4294967296.0;
        uint64_t deviation = (uint64_t)(r * cfg->randomization / 1000.0 * (double)ms);
        bool down = (((uint64_t)random * 10u) >> 32) % 2 == 0;
        ms = down ? ms - deviation : ms + deviation;
    }
    return ms < cfg->delay_max_ms ? ms : cfg->delay_max_ms;
}

static sio_err open_engine(sio_sio_client *s, uint64_t now)
{
    sio_eio_client_free(s->eio);
    sio_err rc = sio_eio_client_open(s->eio, s->eio_cfg, now);
    s->state = SIO_SIO_CLIENT_CONNECTING;
    s->connect_due = now + s->cfg->connect_timeout_ms;
    s->protocol = s->eio_cfg->protocol == 3 ? 4 : 5;
    sio__inbox_drop(&s->inbox, MEM(s));
    sio__inbox_restart(&s->inbox, s->protocol, s->cfg->max_attachments);
    return rc;
}

sio_err sio_sio_client_open(sio_sio_client *s, const sio_sio_client_config *cfg,
                            sio_eio_client *eio, const sio_eio_client_config *eio_cfg,
                            uint64_t now_ms)
{
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    s->eio = eio;
    s->eio_cfg = eio_cfg;
    s->state = SIO_SIO_CLIENT_CLOSED;
    s->reconnect_due = s->connect_due = NEVER;
    if (!cfg || !eio || !eio_cfg || (cfg->randomization && !cfg->random) ||
        cfg->randomization > 1000)
        return SIO_ERR_INVALID_ARGUMENT;
    sio_err rc =
        sio__inbox_init(&s->inbox, MEM(s), eio_cfg->protocol == 3 ? 4 : 5, cfg->max_attachments);
    return rc != SIO_OK ? rc : open_engine(s, now_ms);
}

/* The connection is gone (not by the application's close): every joined namespace is left
 * with the reason and will be joined again, its buffered emits and their ack ids kept; events
 * kept for a CONNECT reply that will not come are dropped; the next attempt is scheduled, or
 * none is left. */
static void connection_lost(sio_sio_client *s, sio_sio_client_reason reason, uint64_t now)
{
    for (sio_sio_client_nsp *n = s->namespaces; n; n = n->next) {
        if (n->state == NSP_JOINED)
            push_nsp(s, SIO_SIO_CLIENT_EV_DISCONNECTED, n, SIO_SPAN_NULL, reason);
        if (n->state != NSP_LEFT) {
            n->state = NSP_PENDING;
            n->connect_sent = false;
            forget_sent_acks(n);
            drop_early(s, n);
        }
    }
    s->connect_due = NEVER;
    if (!s->cfg->reconnection || (s->cfg->attempts && s->attempts >= s->cfg->attempts)) {
        if (s->cfg->reconnection)
            push_attempt(s, SIO_SIO_CLIENT_EV_RECONNECT_FAILED, s->attempts, 0);
        s->state = SIO_SIO_CLIENT_CLOSED;
        push_attempt(s, SIO_SIO_CLIENT_EV_CLOSED, s->attempts, 0);
        return;
    }
    uint32_t r = s->cfg->randomization ? s->cfg->random(s->cfg->random_ctx) : 0;
    uint64_t delay = sio_sio_client_backoff(s->cfg, s->attempts, r);
    s->attempts++;
    s->state = SIO_SIO_CLIENT_RECONNECT_WAIT;
    s->reconnect_due = now + delay;
    push_attempt(s, SIO_SIO_CLIENT_EV_RECONNECT_SCHEDULED, s->attempts, delay);
}

static sio_sio_client_reason reason_of(sio_eio_close_reason r)
{
    switch (r) {
    case SIO_EIO_REASON_PING_TIMEOUT:
        return SIO_SIO_CLIENT_REASON_PING_TIMEOUT;
    case SIO_EIO_REASON_PARSE_ERROR:
        return SIO_SIO_CLIENT_REASON_PARSE_ERROR;
    case SIO_EIO_REASON_TRANSPORT_ERROR:
        return SIO_SIO_CLIENT_REASON_TRANSPORT_ERROR;
    default:
        return SIO_SIO_CLIENT_REASON_TRANSPORT_CLOSE;
    }
}

void sio_sio_client_eio_closed(sio_sio_client *s, sio_eio_close_reason reason, uint64_t now_ms)
{
    if (s->state == SIO_SIO_CLIENT_CLOSED || s->state == SIO_SIO_CLIENT_RECONNECT_WAIT)
        return;
    sio_sio_client_reason r = s->closing_for_reconnect ? s->pending_reason : reason_of(reason);
    s->closing_for_reconnect = false;
    connection_lost(s, r, now_ms);
}

void sio_sio_client_eio_open(sio_sio_client *s, uint64_t now_ms)
{
    if (s->state != SIO_SIO_CLIENT_CONNECTING)
        return;
    s->state = SIO_SIO_CLIENT_OPEN;
    s->connect_due = NEVER;
    if (s->attempts)
        push_attempt(s, SIO_SIO_CLIENT_EV_RECONNECTED, s->attempts, 0);
    s->attempts = 0;
    for (sio_sio_client_nsp *n = s->namespaces; n; n = n->next) {
        if (n->state != NSP_PENDING || n->connect_sent)
            continue;
        sio_err rc = send_connect(s, n, now_ms);
        if (rc != SIO_OK)
            connect_not_sent(s, n, rc);
    }
}

/* We end the Engine.IO session ourselves (a parse error, the connect deadline) and reconnect:
 * its CLOSED, forwarded by the caller, is reported with our reason. */
static void close_for_reconnect(sio_sio_client *s, sio_sio_client_reason reason, uint64_t now)
{
    s->closing_for_reconnect = true;
    s->pending_reason = reason;
    sio_eio_client_close(s->eio, now);
}

void sio_sio_client_close(sio_sio_client *s, uint64_t now_ms)
{
    if (s->state == SIO_SIO_CLIENT_CLOSED)
        return;
    for (sio_sio_client_nsp *n = s->namespaces; n; n = n->next) {
        if (n->state == NSP_JOINED && s->state == SIO_SIO_CLIENT_OPEN) {
            sio_pkt pkt = {.type = SIO_PKT_DISCONNECT, .nsp = name_of(n)};
            encode_send(s, &pkt, NULL, 0, now_ms);
        }
        leave(s, n, SIO_SIO_CLIENT_REASON_CLIENT_DISCONNECT, true);
    }
    s->state = SIO_SIO_CLIENT_CLOSED;
    s->reconnect_due = s->connect_due = NEVER;
    sio_eio_client_close(s->eio, now_ms);
    push_attempt(s, SIO_SIO_CLIENT_EV_CLOSED, s->attempts, 0);
}

uint64_t sio_sio_client_next_deadline(const sio_sio_client *s)
{
    return s->reconnect_due < s->connect_due ? s->reconnect_due : s->connect_due;
}

void sio_sio_client_timeout(sio_sio_client *s, uint64_t now_ms)
{
    if (s->state == SIO_SIO_CLIENT_CONNECTING && s->connect_due <= now_ms) {
        s->connect_due = NEVER;
        close_for_reconnect(s, SIO_SIO_CLIENT_REASON_TRANSPORT_ERROR, now_ms);
        return;
    }
    if (s->state == SIO_SIO_CLIENT_RECONNECT_WAIT && s->reconnect_due <= now_ms) {
        s->reconnect_due = NEVER;
        open_engine(s, now_ms);
        push_attempt(s, SIO_SIO_CLIENT_EV_RECONNECTING, s->attempts, 0);
    }
}

/* ------------------------------------------------------------------ receiving */

/* What a namespace whose v5 CONNECT reply has no sid is refused with (socket.io-client reports
 * a connect_error too: such a reply comes from a Socket.IO 2 server, or from no Socket.IO
 * server at all). */
static const char NO_SID[] = "{\"message\":\"the CONNECT reply has no sid (not a Socket.IO v3+ "
                             "server)\"}";

/* The socket id of a CONNECT reply: v5 {"sid":"…"} (false without one); v4 none, the Engine.IO
 * sid stands for it. */
static bool connect_sid(const sio_sio_client *s, const sio_pkt *pkt, sio_span *out)
{
    sio_span sid;
    if (s->protocol == 4) {
        *out = sio_eio_client_sid(s->eio);
        return true;
    }
    if (!pkt->data.ptr || sio_json_object_get(pkt->data, "sid", 3, &sid) != SIO_OK ||
        sio_json_kind_of(sid) != SIO_JSON_STRING || sid.len < 2)
        return false;
    *out = sio_span_of(sid.ptr + 1, sid.len - 2);
    return true;
}

/* A received EVENT or ACK as an event, not queued yet, with copies of its namespace, data and
 * attachments: the inbox reuses its own copies for the next packet, which may be received before
 * the application has read this one (a polling answer or a read of several WebSocket frames
 * carries several packets). NULL without memory. */
static sio_sio_client_item *received(sio_sio_client *s, sio_sio_client_event_type type,
                                     const sio_sio_client_nsp *n, const sio_pkt *pkt, sio_span data,
                                     const sio_span *atts, uint32_t natt)
{
    sio_sio_client_item *it = item_new(s, type, name_of(n), n->user, data);
    if (!it)
        return NULL;
    it->has_id = pkt->has_id;
    it->id = pkt->id;
    if (natt) {
        size_t bytes = natt * sizeof(sio_span);
        for (uint32_t i = 0; i < natt; i++)
            bytes += atts[i].len;
        sio_span *copies = sio__mem(MEM(s), NULL, bytes);
        if (!copies) {
            item_free(s, it);
            return NULL;
        }
        uint8_t *at = (uint8_t *)(copies + natt);
        for (uint32_t i = 0; i < natt; i++) {
            if (atts[i].len)
                memcpy(at, atts[i].ptr, atts[i].len);
            copies[i] = sio_span_of(at, atts[i].len);
            at += atts[i].len;
        }
        it->owned = copies;
        it->attachments = copies;
        it->attachment_count = natt;
    }
    return it;
}

static void ack_event(sio_sio_client *s, sio_sio_client_nsp *n, const sio_pkt *pkt,
                      const sio_span *atts, uint32_t natt)
{
    for (uint32_t i = 0; i < n->ack_count; i++) {
        if (n->acks[i] != pkt->id)
            continue;
        n->acks[i] = n->acks[--n->ack_count];
        sio_span data = pkt->data.ptr ? pkt->data : sio_span_of("[]", 2);
        sio_sio_client_item *it = received(s, SIO_SIO_CLIENT_EV_ACK, n, pkt, data, atts, natt);
        if (it)
            queue_items(s, it, it);
        return;
    }
}

/* Keeps a JSON string token (quotes included) in `dst`; false past the bound. */
static bool keep_token(uint8_t *dst, size_t *dst_len, sio_span token)
{
    if (token.len > SIO_SIO_CLIENT_MAX_RECOVERY_TOKEN)
        return false;
    memcpy(dst, token.ptr, token.len);
    *dst_len = token.len;
    return true;
}

/* A CONNECT reply: whether it recovers the state the CONNECT asked for (the same pid), and the
 * pid to send next time (none when the reply has none, or one past the bound). */
static bool take_pid(sio_sio_client *s, sio_sio_client_nsp *n, const sio_pkt *pkt)
{
    sio_span pid;
    bool has = s->protocol == 5 && pkt->data.ptr &&
               sio_json_object_get(pkt->data, "pid", 3, &pid) == SIO_OK &&
               sio_json_kind_of(pid) == SIO_JSON_STRING;
    bool recovered =
        has && n->pid_len && pid.len == n->pid_len && memcmp(pid.ptr, n->pid, pid.len) == 0;
    if (!has || !keep_token(n->pid, &n->pid_len, pid))
        n->pid_len = n->offset_len = 0;
    return recovered;
}

/* An EVENT of a namespace with a pid: its last argument, when a string, is the offset to resume
 * from (socket.io-client's _lastOffset). One past the bound ends recovery for the namespace
 * rather than resume from an older offset. */
static void take_offset(sio_sio_client_nsp *n, sio_span args)
{
    sio_json_iter it;
    sio_span value, last = SIO_SPAN_NULL;
    if (!n->pid_len || sio_json_array_iter(args, &it) != SIO_OK)
        return;
    while (sio_json_next(&it, NULL, &value))
        last = value;
    if (last.ptr && sio_json_kind_of(last) == SIO_JSON_STRING &&
        !keep_token(n->offset, &n->offset_len, last))
        n->pid_len = n->offset_len = 0;
}

/* An EVENT for a namespace whose CONNECT reply has not come yet (a server that emits on
 * connection before it answers): kept and handed over just before CONNECTED, as
 * socket.io-client's receive buffer does; past SIO_SIO_CLIENT_MAX_EARLY_EVENTS, or without
 * memory, dropped. */
static void keep_early(sio_sio_client *s, sio_sio_client_nsp *n, const sio_pkt *pkt,
                       const sio_span *atts, uint32_t natt)
{
    if (n->early_count >= SIO_SIO_CLIENT_MAX_EARLY_EVENTS)
        return;
    sio_sio_client_item *it = received(s, SIO_SIO_CLIENT_EV_EVENT, n, pkt, pkt->data, atts, natt);
    if (!it)
        return;
    if (n->early_tail)
        n->early_tail->next = it;
    else
        n->early = it;
    n->early_tail = it;
    n->early_count++;
}

static void handle_packet(sio_sio_client *s, const sio_pkt *pkt, const sio_span *atts,
                          uint32_t natt, uint64_t now)
{
    sio_sio_client_nsp *n = find(s, pkt->nsp);
    if (!n || n->state == NSP_LEFT)
        return; /* a namespace this client is not in */
    sio_span sid = SIO_SPAN_NULL;
    if (pkt->type == SIO_PKT_CONNECT && n->state == NSP_PENDING && !connect_sid(s, pkt, &sid)) {
        push_nsp(s, SIO_SIO_CLIENT_EV_CONNECT_ERROR, n, sio_span_of(NO_SID, sizeof NO_SID - 1), 0);
        leave(s, n, SIO_SIO_CLIENT_REASON_SERVER_DISCONNECT, false);
    } else if (pkt->type == SIO_PKT_CONNECT) {
        if (n->state == NSP_PENDING) {
            n->state = NSP_JOINED;
            bool recovered = take_pid(s, n, pkt);
            /* the kept EVENTs reach the application now: their offsets count from now too */
            for (sio_sio_client_item *it = n->early; it; it = it->next)
                take_offset(n, sio_span_of(it->data + it->nsp_len, it->len));
            if (n->early)
                queue_items(s, n->early, n->early_tail);
            n->early = n->early_tail = NULL;
            n->early_count = 0;
            sio_sio_client_item *it =
                push(s, SIO_SIO_CLIENT_EV_CONNECTED, name_of(n), n->user, sid);
            if (it)
                it->recovered = recovered;
            send_buffer(s, n, now);
        }
    } else if (pkt->type == SIO_PKT_CONNECT_ERROR) {
        push_nsp(s, SIO_SIO_CLIENT_EV_CONNECT_ERROR, n, pkt->data, 0);
        leave(s, n, SIO_SIO_CLIENT_REASON_SERVER_DISCONNECT, false);
    } else if (n->state != NSP_JOINED) {
        if (pkt->type == SIO_PKT_EVENT || pkt->type == SIO_PKT_BINARY_EVENT)
            keep_early(s, n, pkt, atts, natt);
    } else if (pkt->type == SIO_PKT_DISCONNECT) {
        leave(s, n, SIO_SIO_CLIENT_REASON_SERVER_DISCONNECT, true);
    } else if (pkt->type == SIO_PKT_EVENT || pkt->type == SIO_PKT_BINARY_EVENT) {
        take_offset(n, pkt->data);
        sio_sio_client_item *it =
            received(s, SIO_SIO_CLIENT_EV_EVENT, n, pkt, pkt->data, atts, natt);
        if (it)
            queue_items(s, it, it);
    } else if (pkt->has_id) {
        ack_event(s, n, pkt, atts, natt);
    }
}

void sio_sio_client_receive(sio_sio_client *s, bool binary, const uint8_t *p, size_t n,
                            uint64_t now_ms)
{
    if (s->state != SIO_SIO_CLIENT_OPEN)
        return;
    bool complete = false;
    sio_err rc =
        sio__inbox_feed(&s->inbox, MEM(s), s->cfg->max_attachments, binary, p, n, &complete);
    if (rc != SIO_OK) { /* what the server sent does not decode: reconnect */
        sio__inbox_drop(&s->inbox, MEM(s));
        close_for_reconnect(s, SIO_SIO_CLIENT_REASON_PARSE_ERROR, now_ms);
        return;
    }
    if (!complete)
        return;
    sio_pkt pkt;
    const sio_span *atts = NULL;
    uint32_t natt = 0;
    sio__inbox_result(&s->inbox, &pkt, &atts, &natt);
    handle_packet(s, &pkt, atts, natt, now_ms);
}

/* ------------------------------------------------------------------ life */

sio_sio_client_state sio_sio_client_state_of(const sio_sio_client *s)
{
    return s->state;
}

void sio_sio_client_free(sio_sio_client *s)
{
    if (!s->cfg)
        return;
    while (s->namespaces) {
        sio_sio_client_nsp *n = s->namespaces;
        s->namespaces = n->next;
        sio__list_clear(MEM(s), &n->buffer);
        items_free(s, n->early);
        sio__mem(MEM(s), n->acks, 0);
        sio__mem(MEM(s), n->auth, 0);
        sio__mem(MEM(s), n, 0);
    }
    items_free(s, s->events);
    s->events = s->events_tail = NULL;
    item_free(s, s->current);
    s->current = NULL;
    sio__inbox_free(&s->inbox, MEM(s));
}
