/* The cluster adapter (cluster_adapter.h): srv_adapter over the in-memory adapter plus Redis.
 *
 * What this node publishes, and when:
 *   broadcast (not local, no acks)   msgpack on P#nsp# or P#nsp#room#, after local delivery
 *   broadcast with acks              request 7 (msgpack); NUMSUB tells how many nodes report
 *   fetchSockets, allRooms           NUMSUB first; request 5 or 1 only when another node exists
 *   serverSideEmit                   request 6 (with a requestId when an answer is wanted)
 *   socketsJoin/Leave, disconnect    request 2, 3, 4; applied here when it comes back
 *   answers to other nodes           on P-response#nsp#, or the asker's own channel when
 *                                    --adapter-specific-response is set (type 6: always shared)
 * Every request this node waits on is a cluster_request, found by its requestId when answers
 * arrive, ended by its last answer, its timeout, or (type 7) the ack it belongs to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/link.h"
#include "cluster/wire.h"

#include "cluster_adapter.h"

/* The channels of one namespace (srv_namespace.adapter_data). */
typedef struct cluster_nsp {
    char *pattern;      /* P#nsp#* (broadcasts) */
    char *request;      /* P-request#nsp# */
    char *response;     /* P-response#nsp# */
    char *own_response; /* P-response#nsp#<uid># */
} cluster_nsp;

typedef struct cluster_request {
    struct cluster_request *next;
    struct cluster_node *node;
    srv_namespace *nsp;
    char id[CLUSTER_UID_LEN + 1];
    int type;           /* cluster_request_type */
    long long expected; /* answers awaited from the other nodes; -1 until NUMSUB told */
    long long received;
    buf items;    /* JSON values, comma-separated */
    char **names; /* ALL_ROOMS: the rooms collected, to keep each once */
    size_t name_count;
    timer timeout;
    srv_socket *requester;
    srv_query_done done;
    void *ctx;
    ack_wait *ack;       /* type 7 */
    bool numsub_pending; /* the NUMSUB answer will still arrive */
    bool abandoned;      /* ended before it: freed by the NUMSUB answer */
} cluster_request;

typedef struct cluster_node {
    srv_socketio *sio;
    server *srv;
    cluster_link *link;
    char uid[CLUSTER_UID_LEN + 1];
    int fds[2]; /* the link's descriptors registered in the loop, -1 when free */
    timer backoff;
    cluster_request *requests;
} cluster_node;

static const char uid_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Six characters of [A-Za-z0-9_-], as Node's uid2(6). */
static void random_uid(server *srv, char out[CLUSTER_UID_LEN + 1])
{
    uint8_t raw[CLUSTER_UID_LEN];
    server_random_bytes(srv, raw, sizeof raw);
    for (size_t i = 0; i < CLUSTER_UID_LEN; i++)
        out[i] = uid_alphabet[raw[i] & 63];
    out[CLUSTER_UID_LEN] = '\0';
}

static cluster_nsp *channels_of(const srv_namespace *nsp)
{
    return nsp->adapter_data;
}

static bool same(sio_span s, const char *text)
{
    return text && s.len == strlen(text) && memcmp(s.ptr, text, s.len) == 0;
}

static bool from_self(const cluster_node *n, const cluster_msg *m)
{
    return m->uid && strcmp(m->uid, n->uid) == 0;
}

/* ------------------------------------------------------------------ the loop's side */

static void arm_backoff(cluster_node *n)
{
    uint64_t due = cluster_link_deadline(n->link);
    if (due == 0)
        timer_stop(&n->srv->loop, &n->backoff);
    else
        timer_start_at(&n->srv->loop, &n->backoff, due);
}

static void on_link_io(event_loop *loop, int fd, void *ctx, short revents)
{
    cluster_node *n = ctx;
    (void)loop;
    cluster_link_io(n->link, fd, revents, loop_now_ms());
    arm_backoff(n);
}

static void on_backoff(timer *t)
{
    cluster_node *n = t->ctx;
    cluster_link_tick(n->link, loop_now_ms());
    arm_backoff(n);
}

static void on_watch(void *ctx, int fd, short events)
{
    cluster_node *n = ctx;
    int slot = n->fds[0] == fd ? 0 : n->fds[1] == fd ? 1 : -1;
    if (events == 0) {
        if (slot >= 0) {
            loop_remove_fd(&n->srv->loop, fd);
            n->fds[slot] = -1;
        }
    } else if (slot >= 0) {
        loop_set_events(&n->srv->loop, fd, events);
    } else {
        slot = n->fds[0] < 0 ? 0 : 1;
        n->fds[slot] = fd;
        loop_add_fd(&n->srv->loop, fd, events, on_link_io, n);
    }
}

static void on_state(void *ctx, bool up)
{
    cluster_node *n = ctx;
    log_msg(n->srv, up ? LOG_INFO : LOG_WARN, "cluster: Redis link %s (node %s)",
            up ? "up, subscribed" : "down", n->uid);
}

static void on_log(void *ctx, const char *line)
{
    cluster_node *n = ctx;
    log_msg(n->srv, LOG_WARN, "cluster: %s", line);
}

/* ------------------------------------------------------------------ publishing */

static void publish(cluster_node *n, const char *channel, const buf *body)
{
    if (buf_size(body) == 0) /* nothing encoded: the encoder refused the value (logged) */
        return;
    if (!cluster_link_publish(n->link, channel, buf_begin(body), buf_size(body)))
        log_msg(n->srv, LOG_DEBUG, "cluster: publication on %s dropped (Redis link down)", channel);
}

/* An answer to another node's request `m`: on the shared response channel, or on the asker's
 * own one (Node's publishOnSpecificResponseChannel). */
static void respond(cluster_node *n, srv_namespace *nsp, const cluster_msg *m, const buf *body,
                    bool always_shared)
{
    if (!n->srv->cfg.adapter_specific_response || always_shared || m->uid == NULL) {
        publish(n, channels_of(nsp)->response, body);
        return;
    }
    buf channel = {0};
    cluster_channel_own_response(&channel, n->srv->cfg.adapter_key, nsp->name, m->uid);
    publish(n, (const char *)buf_begin(&channel), body);
    buf_reset(&channel);
}

/* ------------------------------------------------------------------ local sockets */

static broadcast_target target_of(srv_namespace *nsp, const cluster_opts *o)
{
    return (broadcast_target){.nsp = nsp,
                              .rooms = o->rooms.items,
                              .room_count = o->rooms.count,
                              .except = o->except.items,
                              .except_count = o->except.count,
                              .is_volatile = o->flags.has_volatile && o->flags.is_volatile,
                              .local = true};
}

/* {"id","handshake":{…,"auth"},"rooms":[…],"data":{"auth"}}: Node's fetchSockets entry, with
 * the fixture's socket.data (FIXTURE.md section 9). */
static void describe_socket(const srv_socket *s, buf *out)
{
    const char *auth = s->handshake_auth ? s->handshake_auth : "{}";
    const char *facts = s->client->eio->handshake;
    buf_append_str(out, "{\"id\":");
    json_append_string(out, s->id, strlen(s->id));
    buf_append_str(out, ",\"handshake\":{");
    if (facts) {
        buf_append_str(out, facts);
        buf_append_str(out, ",");
    }
    buf_append_str(out, "\"auth\":");
    buf_append_str(out, auth);
    buf_append_str(out, "},\"rooms\":");
    srv_socket_rooms_json(s, out);
    buf_append_str(out, ",\"data\":{\"auth\":");
    buf_append_str(out, auth);
    buf_append_str(out, "}}");
}

/* The local sockets matching `t`, described, comma-separated; returns how many. */
static size_t describe_matching(const broadcast_target *t, buf *out)
{
    size_t count = 0;
    for (srv_socket *s = t->nsp->sockets; s; s = s->nsp_next) {
        if (!broadcast_includes(t, s))
            continue;
        if (count++)
            buf_append_str(out, ",");
        describe_socket(s, out);
    }
    return count;
}

static bool name_known(char **names, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* Adds a room to an ALL_ROOMS collection once. */
static void collect_room(cluster_request *r, const char *room)
{
    if (name_known(r->names, r->name_count, room))
        return;
    r->names = xrealloc(r->names, (r->name_count + 1) * sizeof *r->names);
    r->names[r->name_count++] = xstrndup(room, strlen(room));
    if (r->items.len)
        buf_append_str(&r->items, ",");
    json_append_string(&r->items, room, strlen(room));
}

/* Every room of the namespace's local sockets (own-id rooms included). */
static void collect_local_rooms(cluster_request *r)
{
    for (srv_socket *s = r->nsp->sockets; s; s = s->nsp_next) {
        collect_room(r, s->id);
        for (size_t i = 0; i < s->room_count; i++)
            collect_room(r, s->rooms[i]);
    }
}

/* socketsJoin/Leave/disconnectSockets on the local sockets matching `t`. A whole-connection
 * disconnect may free other sockets of the same client: each is found again by id. */
static void apply_remote(srv_namespace *nsp, const broadcast_target *t, int type,
                         const cluster_strings *rooms, bool close)
{
    size_t count = 0;
    char **ids = NULL;
    for (srv_socket *s = nsp->sockets; s; s = s->nsp_next) {
        if (!broadcast_includes(t, s))
            continue;
        ids = xrealloc(ids, (count + 1) * sizeof *ids);
        ids[count++] = xstrndup(s->id, strlen(s->id));
    }
    for (size_t i = 0; i < count; i++) {
        srv_socket *s = nsp->sockets;
        while (s && strcmp(s->id, ids[i]) != 0)
            s = s->nsp_next;
        for (size_t k = 0; s && type != CLUSTER_REQ_REMOTE_DISCONNECT && k < rooms->count; k++) {
            if (type == CLUSTER_REQ_REMOTE_JOIN)
                srv_socket_join(s, rooms->items[k]);
            else
                srv_socket_leave(s, rooms->items[k]);
        }
        if (s && type == CLUSTER_REQ_REMOTE_DISCONNECT)
            srv_socket_disconnect(s, close);
        free(ids[i]);
    }
    free(ids);
}

/* ------------------------------------------------------------------ requests this node waits on */

static void on_request_timeout(timer *t);

static cluster_request *request_new(cluster_node *n, srv_namespace *nsp, int type)
{
    cluster_request *r = xcalloc(1, sizeof *r);
    r->node = n;
    r->nsp = nsp;
    r->type = type;
    r->expected = -1;
    random_uid(n->srv, r->id);
    timer_init(&r->timeout, on_request_timeout, r);
    r->next = n->requests;
    n->requests = r;
    return r;
}

static void request_unlink(cluster_request *r)
{
    cluster_request **pp = &r->node->requests;
    while (*pp && *pp != r)
        pp = &(*pp)->next;
    if (*pp)
        *pp = r->next;
}

static void request_free(cluster_request *r)
{
    timer_stop(&r->node->srv->loop, &r->timeout);
    for (size_t i = 0; i < r->name_count; i++)
        free(r->names[i]);
    free(r->names);
    buf_reset(&r->items);
    free(r);
}

/* Ends the request: unlinked at once; freed now, or by the NUMSUB answer still to come. */
static void request_drop(cluster_request *r)
{
    request_unlink(r);
    if (r->numsub_pending)
        r->abandoned = true;
    else
        request_free(r);
}

/* Tells the application and ends the request (a request of this node alone, not linked, is
 * only emptied). */
static void request_complete(cluster_request *r, const char *error)
{
    buf list = {0};
    buf_append_str(&list, "[");
    buf_append(&list, buf_begin(&r->items), buf_size(&r->items));
    buf_append_str(&list, "]");
    srv_query_done done = r->done;
    void *ctx = r->ctx;
    srv_socket *requester = r->requester;
    if (r->node) {
        request_drop(r);
    } else {
        for (size_t i = 0; i < r->name_count; i++)
            free(r->names[i]);
        free(r->names);
        buf_reset(&r->items);
    }
    if (done)
        done(ctx, requester, error, sio_span_of(buf_begin(&list), buf_size(&list)));
    buf_reset(&list);
}

static void on_request_timeout(timer *t)
{
    cluster_request *r = t->ctx;
    char why[128];
    if (r->type == CLUSTER_REQ_SERVER_SIDE_EMIT)
        snprintf(why, sizeof why, "timeout reached: only %lld responses received out of %lld",
                 r->received, r->expected);
    else
        snprintf(why, sizeof why, "timeout reached while waiting for %s response",
                 r->type == CLUSTER_REQ_ALL_ROOMS ? "allRooms" : "fetchSockets");
    request_complete(r, why);
}

/* The node count arrived: a broadcast ack learns how many nodes report; a question is asked
 * (or answered at once when this node is alone). */
static void on_numsub(void *ctx, bool ok, long long count)
{
    cluster_request *r = ctx;
    r->numsub_pending = false;
    if (r->abandoned) {
        request_free(r);
        return;
    }
    cluster_node *n = r->node;
    long long others = ok && count > 1 ? count - 1 : 0;
    if (!ok)
        log_msg(n->srv, LOG_WARN, "cluster: no node count from Redis; answering alone");
    if (r->type == CLUSTER_REQ_BROADCAST) {
        srv_ack_remote_nodes(r->ack, others); /* may end the ack, and this request with it */
        return;
    }
    r->expected = others;
    if (r->received >= others) {
        request_complete(r, NULL);
        return;
    }
    timer_start(&n->srv->loop, &r->timeout, n->srv->cfg.adapter_requests_timeout);
}

static void ask_node_count(cluster_request *r)
{
    r->numsub_pending = true;
    cluster_link_numsub(r->node->link, channels_of(r->nsp)->request, on_numsub, r);
}

static cluster_request *request_by_id(cluster_node *n, srv_namespace *nsp, const char *id)
{
    for (cluster_request *r = n->requests; r && id; r = r->next)
        if (r->nsp == nsp && strcmp(r->id, id) == 0)
            return r;
    return NULL;
}

/* Appends the elements of a JSON array to the request's items. */
static void collect_array(cluster_request *r, const cluster_value *v)
{
    sio_json_iter it;
    sio_span el;
    if (v->json == NULL || sio_json_array_iter(sio_span_of(v->json, v->len), &it) != SIO_OK)
        return;
    while (sio_json_next(&it, NULL, &el)) {
        sio_span token = sio_json_trim(el);
        if (r->items.len)
            buf_append_str(&r->items, ",");
        buf_append(&r->items, token.ptr, token.len);
    }
}

typedef cluster_err (*decoder_fn)(const uint8_t *p, size_t len, cluster_msg *out, size_t *err_at);

/* Decodes one message with `fn`; a message refused is logged (`kind`, the offending byte) and
 * dropped. */
static bool decode(cluster_node *n, decoder_fn fn, const char *kind, sio_span data, cluster_msg *m)
{
    size_t at = 0;
    cluster_err e = fn(data.ptr, data.len, m, &at);
    if (e != CLUSTER_OK)
        log_msg(n->srv, LOG_WARN, "cluster: %s refused (%s at byte %zu)", kind, cluster_err_name(e),
                at);
    return e == CLUSTER_OK;
}

static void on_response(cluster_node *n, srv_namespace *nsp, sio_span data)
{
    cluster_msg m;
    if (!decode(n, cluster_response_decode, "response", data, &m))
        return;
    cluster_request *r = request_by_id(n, nsp, m.request_id);
    if (r == NULL) {
        cluster_msg_free(&m); /* another node's request, or one that ended */
        return;
    }
    if (r->type == CLUSTER_REQ_BROADCAST) {
        if (m.type == CLUSTER_REQ_BROADCAST_CLIENT_COUNT && m.has_client_count) {
            srv_ack_remote_count(r->ack, m.client_count);
        } else if (m.type == CLUSTER_REQ_BROADCAST_ACK) {
            srv_value answer = {m.ack.json ? sio_span_of(m.ack.json, m.ack.len)
                                           : sio_span_of("null", 4),
                                m.ack.attachments, m.ack.attachment_count};
            srv_ack_remote_answer(r->ack, &answer);
        }
        cluster_msg_free(&m);
        return;
    }
    if (r->type == CLUSTER_REQ_ALL_ROOMS) {
        for (size_t i = 0; i < m.rooms.count; i++)
            collect_room(r, m.rooms.items[i]);
    } else if (r->type == CLUSTER_REQ_REMOTE_FETCH) {
        collect_array(r, &m.sockets);
    } else if (r->type == CLUSTER_REQ_SERVER_SIDE_EMIT) {
        if (r->items.len)
            buf_append_str(&r->items, ",");
        if (m.data.json)
            buf_append(&r->items, m.data.json, m.data.len);
        else
            buf_append_str(&r->items, "null");
    }
    cluster_msg_free(&m);
    r->received++; /* an answer may come before the node count does */
    if (r->expected >= 0 && r->received >= r->expected)
        request_complete(r, NULL);
}

/* ------------------------------------------------------------------ other nodes' requests */

static void answer_sockets(cluster_node *n, srv_namespace *nsp, const cluster_msg *m)
{
    broadcast_target t = {.nsp = nsp, .rooms = m->rooms.items, .room_count = m->rooms.count};
    const char **ids = NULL;
    size_t count = 0;
    for (srv_socket *s = nsp->sockets; s; s = s->nsp_next) {
        if (!broadcast_includes(&t, s))
            continue;
        ids = xrealloc(ids, (count + 1) * sizeof *ids);
        ids[count++] = s->id;
    }
    buf body = {0};
    cluster_response_socket_ids(&body, m->request_id, ids, count);
    respond(n, nsp, m, &body, false);
    buf_reset(&body);
    free(ids);
}

static void answer_all_rooms(cluster_node *n, srv_namespace *nsp, const cluster_msg *m)
{
    cluster_request scratch = {.nsp = nsp};
    collect_local_rooms(&scratch);
    buf body = {0};
    cluster_response_rooms(&body, m->request_id, (const char *const *)scratch.names,
                           scratch.name_count);
    respond(n, nsp, m, &body, false);
    buf_reset(&body);
    for (size_t i = 0; i < scratch.name_count; i++)
        free(scratch.names[i]);
    free(scratch.names);
    buf_reset(&scratch.items);
}

static void answer_fetch(cluster_node *n, srv_namespace *nsp, const cluster_msg *m)
{
    broadcast_target t = target_of(nsp, &m->opts);
    buf list = {0}, body = {0};
    buf_append_str(&list, "[");
    describe_matching(&t, &list);
    buf_append_str(&list, "]");
    if (cluster_response_sockets(&body, m->request_id,
                                 sio_span_of(buf_begin(&list), buf_size(&list))) == CLUSTER_OK)
        respond(n, nsp, m, &body, false);
    buf_reset(&list);
    buf_reset(&body);
}

/* A join, leave or disconnect, for the matching sockets of this node (the origin's own request
 * included), or the legacy single-socket form, answered {requestId}. */
static void remote_change(cluster_node *n, srv_namespace *nsp, const cluster_msg *m)
{
    if (m->sid) {
        broadcast_target t = {
            .nsp = nsp, .rooms = (const char *const[]){m->sid}, .room_count = 1, .local = true};
        cluster_strings one = {(const char *const[]){m->room ? m->room : ""}, m->room ? 1u : 0u};
        bool here = false;
        for (srv_socket *s = nsp->sockets; s && !here; s = s->nsp_next)
            here = strcmp(s->id, m->sid) == 0;
        if (!here)
            return;
        apply_remote(nsp, &t, m->type, &one, m->close);
        if (m->request_id) {
            buf body = {0};
            cluster_response_legacy_join(&body, m->request_id);
            respond(n, nsp, m, &body, false);
            buf_reset(&body);
        }
        return;
    }
    broadcast_target t = target_of(nsp, &m->opts);
    apply_remote(nsp, &t, m->type, &m->rooms, m->close);
}

static void answer_server_side_emit(cluster_node *n, srv_namespace *nsp, const cluster_msg *m)
{
    const srv_app *app = n->sio->app;
    if (!app->server_side_event || m->data.json == NULL)
        return;
    srv_value payload = {sio_span_of(m->data.json, m->data.len), m->data.attachments,
                         m->data.attachment_count};
    buf answer = {0};
    app->server_side_event(n->sio->app_state, nsp, &payload, m->request_id ? &answer : NULL);
    if (m->request_id && buf_size(&answer)) {
        buf body = {0};
        if (cluster_response_server_side_emit(&body, m->request_id,
                                              sio_span_of(buf_begin(&answer), buf_size(&answer)),
                                              NULL, 0) == CLUSTER_OK)
            respond(n, nsp, m, &body, true);
        buf_reset(&body);
    }
    buf_reset(&answer);
}

/* One local client answered another node's broadcast: a type 9 response, msgpack, on the
 * shared response channel (every node listens there, CL-RQ-06). */
static void forward_answer(ack_wait *a, const srv_value *answer)
{
    cluster_node *n = a->nsp->sio->cluster;
    buf body = {0};
    if (n &&
        cluster_response_broadcast_ack(&body, a->forward_request_id, answer->json,
                                       answer->attachments, answer->attachment_count) == CLUSTER_OK)
        publish(n, channels_of(a->nsp)->response, &body);
    buf_reset(&body);
}

static void answer_broadcast(cluster_node *n, srv_namespace *nsp, const cluster_msg *m)
{
    if (!m->has_packet || m->request_id == NULL || m->packet.data.json == NULL)
        return;
    broadcast_target t = target_of(nsp, &m->opts);
    uint64_t timeout =
        m->opts.flags.has_timeout ? m->opts.flags.timeout_ms : n->srv->cfg.adapter_requests_timeout;
    size_t count = srv_emit_forwarding_acks(
        &t, sio_span_of(m->packet.data.json, m->packet.data.len), m->packet.data.attachments,
        m->packet.data.attachment_count, timeout, m->request_id, forward_answer);
    buf body = {0};
    cluster_response_client_count(&body, m->request_id, count);
    respond(n, nsp, m, &body, false);
    buf_reset(&body);
}

static void on_request(cluster_node *n, srv_namespace *nsp, sio_span data)
{
    cluster_msg m;
    if (!decode(n, cluster_request_decode, "request", data, &m))
        return;
    bool own = from_self(n, &m);
    switch (m.type) {
    case CLUSTER_REQ_SOCKETS:
        if (!own && m.request_id)
            answer_sockets(n, nsp, &m);
        break;
    case CLUSTER_REQ_ALL_ROOMS:
        if (!own && m.request_id)
            answer_all_rooms(n, nsp, &m);
        break;
    case CLUSTER_REQ_REMOTE_JOIN:
    case CLUSTER_REQ_REMOTE_LEAVE:
    case CLUSTER_REQ_REMOTE_DISCONNECT:
        remote_change(n, nsp, &m); /* the origin too: it acts on its own echo */
        break;
    case CLUSTER_REQ_REMOTE_FETCH:
        if (!own && m.request_id)
            answer_fetch(n, nsp, &m);
        break;
    case CLUSTER_REQ_SERVER_SIDE_EMIT:
        if (!own)
            answer_server_side_emit(n, nsp, &m);
        break;
    case CLUSTER_REQ_BROADCAST:
        if (!own)
            answer_broadcast(n, nsp, &m);
        break;
    default:
        break; /* unknown types are ignored, as Node does */
    }
    cluster_msg_free(&m);
}

/* ------------------------------------------------------------------ other nodes' broadcasts */

static void on_broadcast(cluster_node *n, srv_namespace *nsp, sio_span data)
{
    cluster_msg m;
    if (!decode(n, cluster_broadcast_decode, "broadcast", data, &m))
        return;
    const char *packet_nsp = m.packet.nsp ? m.packet.nsp : "/";
    if (!from_self(n, &m) && strcmp(packet_nsp, nsp->name) == 0 && m.packet.data.json) {
        broadcast_target t = target_of(nsp, &m.opts);
        srv_packet p;
        if (srv_packet_from_json(&p, nsp, sio_span_of(m.packet.data.json, m.packet.data.len),
                                 m.packet.data.attachments, m.packet.data.attachment_count, false,
                                 0)) {
            srv_memory_adapter.broadcast(&t, &p, NULL, NULL);
            srv_packet_free(&p);
        }
    }
    cluster_msg_free(&m);
}

static void on_message(void *ctx, sio_span pattern, sio_span channel, sio_span data)
{
    cluster_node *n = ctx;
    for (srv_namespace *nsp = n->sio->namespaces; nsp; nsp = nsp->next) {
        cluster_nsp *ch = channels_of(nsp);
        if (ch == NULL)
            continue;
        if (pattern.len) {
            if (same(pattern, ch->pattern)) {
                on_broadcast(n, nsp, data);
                return;
            }
        } else if (same(channel, ch->request)) {
            on_request(n, nsp, data);
            return;
        } else if (same(channel, ch->response) || same(channel, ch->own_response)) {
            on_response(n, nsp, data);
            return;
        }
    }
}

/* ------------------------------------------------------------------ srv_adapter */

/* The flags Node writes for what the application chained. */
static cluster_flags flags_of(const broadcast_target *t)
{
    cluster_flags f = {0};
    if (t->is_volatile)
        f.has_volatile = f.is_volatile = true;
    if (t->compress_off)
        f.has_compress = true, f.compress = false;
    return f;
}

/* The except list Node builds: the sender's own id first (socket.broadcast / socket.to). */
static const char **except_of(const broadcast_target *t, size_t *count)
{
    const char **except = xcalloc(t->except_count + 1, sizeof *except);
    *count = 0;
    if (t->skip)
        except[(*count)++] = t->skip->id;
    for (size_t i = 0; i < t->except_count; i++)
        except[(*count)++] = t->except[i];
    return except;
}

/* Delivered here first, then published unless local. A broadcast whose recipients owe an ack
 * (`each` given) is published by cluster_broadcast_with_ack as request 7 instead. */
static void cluster_broadcast(const broadcast_target *t, const srv_packet *p,
                              void (*each)(void *ctx, srv_socket *sock), void *ctx)
{
    srv_memory_adapter.broadcast(t, p, each, ctx);
    cluster_node *n = t->nsp->sio->cluster;
    if (t->local || each || n == NULL)
        return;
    size_t except_count;
    const char **except = except_of(t, &except_count);
    cluster_target ct = {t->rooms, t->room_count, except, except_count, flags_of(t)};
    buf body = {0}, channel = {0};
    if (cluster_broadcast_encode(&body, n->uid, t->nsp->name, srv_packet_data(p), p->attachments,
                                 p->attachment_count, &ct) == CLUSTER_OK) {
        cluster_broadcast_channel(&channel, n->srv->cfg.adapter_key, t->nsp->name, &ct);
        publish(n, (const char *)buf_begin(&channel), &body);
    }
    buf_reset(&body);
    buf_reset(&channel);
    free(except);
}

static void cluster_broadcast_with_ack(const broadcast_target *t, const srv_packet *p, ack_wait *a,
                                       uint64_t timeout_ms)
{
    cluster_node *n = t->nsp->sio->cluster;
    cluster_request *r = request_new(n, t->nsp, CLUSTER_REQ_BROADCAST);
    r->ack = a;
    a->cluster_request = r;
    size_t except_count;
    const char **except = except_of(t, &except_count);
    cluster_target ct = {t->rooms, t->room_count, except, except_count, flags_of(t)};
    ct.flags.has_timeout = true;
    ct.flags.timeout_ms = timeout_ms;
    buf body = {0};
    if (cluster_request_broadcast(&body, n->uid, r->id, t->nsp->name, srv_packet_data(p),
                                  p->attachments, p->attachment_count, &ct) == CLUSTER_OK)
        publish(n, channels_of(t->nsp)->request, &body);
    buf_reset(&body);
    free(except);
    ask_node_count(r);
}

static void cluster_ack_released(ack_wait *a)
{
    cluster_request *r = a->cluster_request;
    a->cluster_request = NULL;
    if (r)
        request_drop(r);
}

static char *channel_text(void (*make)(buf *, const char *, const char *), const char *key,
                          const char *nsp)
{
    buf b = {0};
    make(&b, key, nsp);
    char *text = xstrndup((const char *)buf_begin(&b), strlen((const char *)buf_begin(&b)));
    buf_reset(&b);
    return text;
}

/* Channel names, and the subscriptions (kept by the link across reconnections). The request
 * channel is subscribed exactly once per namespace: Redis counts the nodes by it (CL-RQ-05). */
static void cluster_namespace_created(srv_namespace *nsp)
{
    cluster_node *n = nsp->sio->cluster;
    const char *key = n->srv->cfg.adapter_key;
    cluster_nsp *ch = xcalloc(1, sizeof *ch);
    buf b = {0};
    cluster_channel_broadcast(&b, key, nsp->name);
    buf_append_str(&b, "*");
    buf_append(&b, "", 1);
    ch->pattern = xstrndup((const char *)buf_begin(&b), buf_size(&b) - 1);
    buf_reset(&b);
    ch->request = channel_text(cluster_channel_request, key, nsp->name);
    ch->response = channel_text(cluster_channel_response, key, nsp->name);
    cluster_channel_own_response(&b, key, nsp->name, n->uid);
    ch->own_response = xstrndup((const char *)buf_begin(&b), strlen((const char *)buf_begin(&b)));
    buf_reset(&b);
    nsp->adapter_data = ch;
    cluster_link_psubscribe(n->link, ch->pattern);
    cluster_link_subscribe(n->link, ch->request);
    cluster_link_subscribe(n->link, ch->response);
    cluster_link_subscribe(n->link, ch->own_response);
}

static void cluster_socket_left(srv_socket *sock)
{
    cluster_node *n = sock->nsp->sio->cluster;
    for (cluster_request *r = n ? n->requests : NULL; r; r = r->next)
        if (r->requester == sock)
            r->requester = NULL;
}

/* Rooms stay on this node's sockets (the in-memory adapter's); only questions about them cross
 * the cluster. */
static bool cluster_join(srv_socket *sock, const char *room)
{
    return srv_memory_adapter.join(sock, room);
}

static void cluster_leave(srv_socket *sock, const char *room)
{
    srv_memory_adapter.leave(sock, room);
}

static void cluster_leave_all(srv_socket *sock)
{
    srv_memory_adapter.leave_all(sock);
}

static bool cluster_in_room(const srv_socket *sock, const char *room)
{
    return srv_memory_adapter.in_room(sock, room);
}

static void cluster_rooms_json(const srv_socket *sock, buf *out)
{
    srv_memory_adapter.rooms_json(sock, out);
}

static const srv_adapter cluster_adapter = {cluster_join,
                                            cluster_leave,
                                            cluster_leave_all,
                                            cluster_in_room,
                                            cluster_rooms_json,
                                            cluster_broadcast,
                                            cluster_broadcast_with_ack,
                                            cluster_ack_released,
                                            cluster_namespace_created,
                                            cluster_socket_left};

/* ------------------------------------------------------------------ the application's side */

void srv_cluster_query(srv_namespace *nsp, srv_query_kind kind, const char *room,
                       const srv_packet *sse, srv_socket *requester, srv_query_done done, void *ctx)
{
    cluster_node *n = nsp->sio->cluster;
    static const int types[] = {CLUSTER_REQ_ALL_ROOMS, CLUSTER_REQ_REMOTE_FETCH,
                                CLUSTER_REQ_SERVER_SIDE_EMIT};
    cluster_request local = {.nsp = nsp, .type = types[kind], .expected = -1};
    cluster_request *r = n ? request_new(n, nsp, types[kind]) : &local;
    r->requester = requester;
    r->done = done;
    r->ctx = ctx;
    const char *rooms[1] = {room};
    cluster_target ct = {rooms, room ? 1u : 0u, NULL, 0, {0}};
    broadcast_target t = {.nsp = nsp, .rooms = rooms, .room_count = room ? 1u : 0u};
    buf body = {0};
    if (kind == SRV_QUERY_ALL_ROOMS) {
        collect_local_rooms(r);
        if (n)
            cluster_request_all_rooms(&body, n->uid, r->id);
    } else if (kind == SRV_QUERY_FETCH_SOCKETS) {
        describe_matching(&t, &r->items);
        if (n)
            cluster_request_fetch(&body, n->uid, r->id, &ct);
    } else if (n) {
        cluster_request_server_side_emit(&body, n->uid, done ? r->id : NULL, srv_packet_data(sse),
                                         sse->attachments, sse->attachment_count);
    }
    if (n == NULL) { /* alone: this node's answer is the whole answer */
        request_complete(&local, NULL);
        return;
    }
    /* The request goes out at once; answers are counted once Redis says how many to await. */
    publish(n, channels_of(nsp)->request, &body);
    buf_reset(&body);
    if (kind == SRV_QUERY_SERVER_SIDE_EMIT && done == NULL) {
        request_drop(r);
        return;
    }
    ask_node_count(r);
}

void srv_cluster_remote(srv_namespace *nsp, int type, const char *target, const char *room,
                        bool close)
{
    cluster_node *n = nsp->sio->cluster;
    const char *rooms[1] = {room};
    cluster_strings change = {rooms, room ? 1u : 0u};
    broadcast_target t = {.nsp = nsp, .rooms = (const char *const[]){target}, .room_count = 1};
    if (n == NULL) {
        apply_remote(nsp, &t, type, &change, close);
        return;
    }
    cluster_target ct = {(const char *const[]){target}, 1, NULL, 0, {0}};
    buf body = {0};
    if (type == CLUSTER_REQ_REMOTE_DISCONNECT)
        cluster_request_disconnect(&body, n->uid, &ct, close);
    else
        cluster_request_rooms(&body, n->uid, type, &ct, rooms, 1);
    publish(n, channels_of(nsp)->request, &body);
    buf_reset(&body);
}

/* ------------------------------------------------------------------ start and end */

bool srv_cluster_start(srv_socketio *sio, char why[128])
{
    server *srv = sio->srv;
    char host[64];
    uint16_t port;
    int db;
    if (!cluster_link_parse_url(srv->cfg.adapter_url, host, &port, &db, why))
        return false;
    const char *uid = srv->cfg.adapter_uid;
    if (uid && (strlen(uid) != CLUSTER_UID_LEN || strspn(uid, uid_alphabet) != CLUSTER_UID_LEN)) {
        snprintf(why, 128, "--adapter-uid: six characters of [A-Za-z0-9_-]");
        return false;
    }
    cluster_node *n = xcalloc(1, sizeof *n);
    n->sio = sio;
    n->srv = srv;
    n->fds[0] = n->fds[1] = -1;
    if (uid)
        memcpy(n->uid, uid, CLUSTER_UID_LEN + 1);
    else
        random_uid(srv, n->uid);
    timer_init(&n->backoff, on_backoff, n);
    static const cluster_link_callbacks callbacks = {on_watch, on_message, on_state, on_log};
    n->link = cluster_link_new(host, port, db, &callbacks, n);
    sio->cluster = n;
    sio->adapter = &cluster_adapter;
    for (srv_namespace *nsp = sio->namespaces; nsp; nsp = nsp->next)
        cluster_namespace_created(nsp);
    cluster_link_start(n->link, loop_now_ms());
    arm_backoff(n);
    log_msg(srv, LOG_INFO, "cluster: node %s joining through %s:%u", n->uid, host, port);
    return true;
}

bool srv_cluster_up(const srv_socketio *sio)
{
    return sio->cluster && cluster_link_state_of(sio->cluster->link) == CLUSTER_LINK_UP;
}

void srv_cluster_free(srv_socketio *sio)
{
    cluster_node *n = sio->cluster;
    if (n == NULL)
        return;
    while (n->requests) {
        cluster_request *r = n->requests;
        if (r->ack)
            r->ack->cluster_request = NULL;
        request_complete(r, "the server is shutting down");
    }
    for (srv_namespace *nsp = sio->namespaces; nsp; nsp = nsp->next) {
        cluster_nsp *ch = channels_of(nsp);
        if (ch == NULL)
            continue;
        free(ch->pattern);
        free(ch->request);
        free(ch->response);
        free(ch->own_response);
    }
    cluster_link_free(n->link); /* tells on_watch to drop its descriptors */
    timer_stop(&n->srv->loop, &n->backoff);
    sio->cluster = NULL;
    sio->adapter = &srv_memory_adapter;
    free(n);
}
