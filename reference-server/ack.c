/* Server -> client acknowledgements (SIO-ACK-03/04/05): ids from a per-namespace counter, one
 * id shared by every recipient of a broadcast, answers matched by id and socket, optional
 * timeout. Replays and unknown ids are ignored. */
#include <stdlib.h>
#include <string.h>

#include "socketio.h"

/* Forgets the ack, and tells the sockets that never answered that the id is no longer awaited
 * (their codec sessions would otherwise keep it). */
static void ack_free(ack_wait *a)
{
    srv_namespace *nsp = a->nsp;
    sio_span name = sio_span_of(nsp->name, strlen(nsp->name));
    for (size_t i = 0; i < a->expected_count; i++)
        if (a->expected[i])
            sio_sio_server_forget_ack(&a->expected[i]->client->proto, name, a->id);
    ack_wait **pp = &nsp->acks;
    while (*pp && *pp != a)
        pp = &(*pp)->next;
    if (*pp)
        *pp = a->next;
    if (a->cluster_request && nsp->sio->adapter->ack_released)
        nsp->sio->adapter->ack_released(a);
    timer_stop(&nsp->sio->srv->loop, &a->timeout);
    buf_reset(&a->responses);
    free(a->forward_request_id);
    free(a->expected);
#ifdef MUTANT_ACK_IDS_PER_SOCKET
    free(a->expected_ids);
#endif
    free(a);
}

/* A broadcast ack is complete once every local recipient answered and, across a cluster, every
 * other node reported its client count and their clients answered too (socket.io's
 * emitWithAck: expected servers, then expected clients). */
static bool ack_complete(const ack_wait *a)
{
    return a->pending == 0 && a->nodes_reported == a->nodes_expected && a->remote_pending == 0;
}

/* Reports to the requester (if still connected) and forgets the ack. */
static void ack_finish(ack_wait *a, bool timed_out, const srv_value *reply)
{
    srv_socketio *sio = a->nsp->sio;
    if (a->requester && a->requester->connected)
        sio->app->ack_result(sio->app_state, a->requester, a->kind, timed_out, reply, &a->responses,
                             a->response_count);
    ack_free(a);
}

static void on_ack_timeout(timer *t)
{
    ack_finish(t->ctx, true, NULL);
}

/* Each socket the packet goes to owes an answer. */
static void expect_answer(void *ctx, srv_socket *sock)
{
    ack_wait *a = ctx;
    a->expected[a->expected_count++] = sock;
}

void srv_emit_with_ack(const broadcast_target *t, srv_socket *requester, ack_kind kind,
                       uint64_t timeout_ms, const char *event, const payload_item *items, size_t n)
{
    srv_namespace *nsp = t->nsp;
    ack_wait *a = xcalloc(1, sizeof *a);
    a->nsp = nsp;
    a->id = nsp->next_ack_id++;
    a->kind = kind;
    a->requester = requester;
    timer_init(&a->timeout, on_ack_timeout, a);
    a->next = nsp->acks;
    nsp->acks = a;
    srv_packet out;
    if (!srv_packet_encode(&out, nsp, event, items, n, true, a->id)) {
        ack_free(a);
        return;
    }
    const srv_adapter *adapter = nsp->sio->adapter;
    a->expected = xcalloc(nsp->socket_count ? nsp->socket_count : 1, sizeof *a->expected);
#ifdef MUTANT_ACK_IDS_PER_SOCKET /* SIO-ACK-05: every recipient's id comes from its own counter */
    a->expected_ids = xcalloc(nsp->socket_count ? nsp->socket_count : 1, sizeof(uint64_t));
    for (srv_socket *s = nsp->sockets; s; s = s->nsp_next) {
        srv_packet own;
        uint64_t id = s->acks_sent;
        if (broadcast_includes(t, s) && srv_packet_encode(&own, nsp, event, items, n, true, id)) {
            s->acks_sent++;
            a->expected_ids[a->expected_count] = id;
            expect_answer(a, s);
            srv_packet_send(&own, s);
            srv_packet_free(&own);
        }
    }
#else
    adapter->broadcast(t, &out, expect_answer, a);
#endif
    a->pending = a->expected_count;
    if (kind == ACK_BROADCAST && adapter->broadcast_with_ack && !t->local) {
        a->nodes_expected = -1; /* until the adapter knows how many nodes there are */
        adapter->broadcast_with_ack(t, &out, a, timeout_ms);
    }
    srv_packet_free(&out);
#ifdef MUTANT_ACK_TIMEOUT_NEVER_FIRES /* SIO-ACK-04: an emit's ack timeout is not armed */
    if (kind == ACK_WITH_TIMEOUT)
        kind = ACK_PLAIN;
#endif
    if (kind != ACK_PLAIN)
        timer_start(&nsp->sio->srv->loop, &a->timeout, timeout_ms);
    if (kind == ACK_BROADCAST && ack_complete(a))
        ack_finish(a, false, NULL);
}

/* Another node's broadcast with acks (cluster request type 7): the local recipients' answers go
 * back through `forward`, one by one; nothing is reported here. Returns the recipient count. */
size_t srv_emit_forwarding_acks(const broadcast_target *t, sio_span json,
                                const sio_span *attachments, uint32_t attachment_count,
                                uint64_t timeout_ms, const char *request_id,
                                void (*forward)(ack_wait *a, const srv_value *answer))
{
    srv_namespace *nsp = t->nsp;
    srv_packet out;
    uint64_t id = nsp->next_ack_id;
    if (!srv_packet_from_json(&out, nsp, json, attachments, attachment_count, true, id))
        return 0;
    nsp->next_ack_id++;
    ack_wait *a = xcalloc(1, sizeof *a);
    a->nsp = nsp;
    a->id = id;
    a->kind = ACK_BROADCAST;
    a->forward = forward;
    a->forward_request_id = xstrndup(request_id, strlen(request_id));
    timer_init(&a->timeout, on_ack_timeout, a);
    a->next = nsp->acks;
    nsp->acks = a;
    a->expected = xcalloc(nsp->socket_count ? nsp->socket_count : 1, sizeof *a->expected);
    srv_memory_adapter.broadcast(t, &out, expect_answer, a);
    srv_packet_free(&out);
    size_t count = a->pending = a->expected_count;
    if (count == 0)
        ack_free(a);
    else
        timer_start(&nsp->sio->srv->loop, &a->timeout, timeout_ms);
    return count;
}

void srv_ack_remote_nodes(ack_wait *a, long long others)
{
    a->nodes_expected = others;
    if (ack_complete(a))
        ack_finish(a, false, NULL);
}

void srv_ack_remote_count(ack_wait *a, uint64_t clients)
{
    a->nodes_reported++;
    a->remote_pending += clients;
    if (ack_complete(a))
        ack_finish(a, false, NULL);
}

/* Appends one answer's first argument to the broadcast's list. */
static void collect_answer(ack_wait *a, sio_span first)
{
    if (a->response_count++)
        buf_append_str(&a->responses, ",");
    if (first.len)
        buf_append(&a->responses, first.ptr, sio_json_trim(first).len);
    else
        buf_append_str(&a->responses, "null");
}

void srv_ack_remote_answer(ack_wait *a, const srv_value *first)
{
    collect_answer(a, first->json);
    if (a->remote_pending)
        a->remote_pending--;
    if (ack_complete(a))
        ack_finish(a, false, NULL);
}

/* Records one answer; the ack completes when every expected socket has answered. */
void srv_ack_received(srv_socket *sock, uint64_t id, const srv_value *payload)
{
    for (ack_wait *a = sock->nsp->acks; a; a = a->next) {
#ifdef MUTANT_ACK_IDS_PER_SOCKET /* each recipient answers with the id it was sent */
        bool sent_to_sock = false;
        for (size_t i = 0; i < a->expected_count; i++)
            sent_to_sock |= a->expected[i] == sock && a->expected_ids[i] == id;
        if (!sent_to_sock)
            continue;
        id = a->id;
#endif
        if (a->id != id)
            continue;
        for (size_t i = 0; i < a->expected_count; i++) {
            if (a->expected[i] != sock)
                continue;
            a->expected[i] = NULL;
            a->pending--;
            sio_span first = srv_json_array_at(payload->json, 0);
            if (a->forward) {
                srv_value answer = {first, payload->attachments, payload->attachment_count};
                a->forward(a, &answer);
            } else if (a->kind == ACK_BROADCAST) {
                collect_answer(a, first);
            }
            if (a->kind != ACK_BROADCAST ? a->pending == 0 : ack_complete(a))
                ack_finish(a, false, payload);
            return;
        }
        return; /* this id was not sent to this socket: ignored (SIO-ACK-03) */
    }
}

/* A socket left: it can no longer answer, nor receive results. */
void srv_acks_forget_socket(srv_socket *sock)
{
    ack_wait *a = sock->nsp->acks;
    while (a) {
        ack_wait *next = a->next;
        if (a->requester == sock)
            a->requester = NULL;
        for (size_t i = 0; i < a->expected_count; i++) {
            if (a->expected[i] == sock) {
                a->expected[i] = NULL;
                a->pending--;
            }
        }
        if (a->forward ? a->pending == 0
                       : a->requester == NULL && (a->pending == 0 || a->kind == ACK_PLAIN))
            ack_free(a); /* nobody left to answer, or nobody to tell */
        else if (a->kind == ACK_BROADCAST && ack_complete(a))
            ack_finish(a, false, NULL);
        a = next;
    }
}

void srv_acks_free(srv_namespace *nsp)
{
    while (nsp->acks)
        ack_free(nsp->acks);
}
