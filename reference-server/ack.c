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
    timer_stop(&nsp->sio->srv->loop, &a->timeout);
    buf_reset(&a->responses);
    free(a->expected);
#ifdef MUTANT_ACK_IDS_PER_SOCKET
    free(a->expected_ids);
#endif
    free(a);
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
    nsp->sio->adapter->broadcast(t, &out, expect_answer, a);
#endif
    srv_packet_free(&out);
    a->pending = a->expected_count;
#ifdef MUTANT_ACK_TIMEOUT_NEVER_FIRES /* SIO-ACK-04: an emit's ack timeout is not armed */
    if (kind == ACK_WITH_TIMEOUT)
        kind = ACK_PLAIN;
#endif
    if (kind != ACK_PLAIN)
        timer_start(&nsp->sio->srv->loop, &a->timeout, timeout_ms);
    if (kind == ACK_BROADCAST && a->pending == 0)
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
            if (a->kind == ACK_BROADCAST) {
                sio_span first = srv_json_array_at(payload->json, 0);
                if (a->response_count++)
                    buf_append_str(&a->responses, ",");
                if (first.len)
                    buf_append(&a->responses, first.ptr, sio_json_trim(first).len);
                else
                    buf_append_str(&a->responses, "null");
            }
            if (a->pending == 0)
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
        if (a->requester == NULL && (a->pending == 0 || a->kind == ACK_PLAIN))
            ack_free(a);
        else if (a->pending == 0 && a->kind == ACK_BROADCAST)
            ack_finish(a, false, NULL);
        a = next;
    }
}

void srv_acks_free(srv_namespace *nsp)
{
    while (nsp->acks)
        ack_free(nsp->acks);
}
