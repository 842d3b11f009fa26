/* The in-memory adapter: rooms kept on each socket, broadcast to the sockets of this process.
 * A cluster adapter (rooms and broadcasts shared between servers) replaces it through
 * srv_adapter (socketio.h). */
#include <stdlib.h>
#include <string.h>

#include "socketio.h"

static bool memory_in_room(const srv_socket *sock, const char *room)
{
    if (strcmp(sock->id, room) == 0)
        return true; /* own-id room (SIO-ROOM-01) */
    for (size_t i = 0; i < sock->room_count; i++)
        if (strcmp(sock->rooms[i], room) == 0)
            return true;
    return false;
}

static bool memory_join(srv_socket *sock, const char *room)
{
    if (memory_in_room(sock, room))
        return true;
    if (sock->room_count >= SERVER_MAX_ROOMS_PER_SOCKET)
        return false;
    sock->rooms = xrealloc(sock->rooms, (sock->room_count + 1) * sizeof *sock->rooms);
    sock->rooms[sock->room_count++] = xstrndup(room, strlen(room));
    return true;
}

static void memory_leave(srv_socket *sock, const char *room)
{
    for (size_t i = 0; i < sock->room_count; i++) {
        if (strcmp(sock->rooms[i], room) == 0) {
            free(sock->rooms[i]);
            sock->rooms[i] = sock->rooms[--sock->room_count];
            return;
        }
    }
}

static void memory_leave_all(srv_socket *sock)
{
    for (size_t i = 0; i < sock->room_count; i++)
        free(sock->rooms[i]);
    free(sock->rooms);
    sock->rooms = NULL;
    sock->room_count = 0;
}

static void memory_rooms_json(const srv_socket *sock, buf *out)
{
    sio_json_writer w;
    size_t need = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            buf_reserve(out, need);
        sio_json_writer_init(&w, pass ? out->data + out->len : NULL, pass ? need : 0);
        sio_json_write_begin_array(&w);
#ifndef MUTANT_OWN_ROOM_UNLISTED /* SIO-ROOM-01: the own-id room is missing from the list */
        if (sock->connected)
            sio_json_write_string(&w, (const uint8_t *)sock->id, strlen(sock->id));
#endif
        for (size_t i = 0; i < sock->room_count; i++)
            sio_json_write_string(&w, (const uint8_t *)sock->rooms[i], strlen(sock->rooms[i]));
        sio_json_write_end_array(&w);
        sio_json_writer_finish(&w, &need);
    }
    out->len += need;
}

bool broadcast_includes(const broadcast_target *t, const srv_socket *sock)
{
#ifdef MUTANT_BROADCAST_INCLUDES_SENDER /* SIO-BC-02: a namespace broadcast reaches its sender */
    broadcast_target with_sender = *t;
    if (t->room_count == 0 && t->except_count == 0)
        with_sender.skip = NULL;
    t = &with_sender;
#endif
#ifdef MUTANT_EXCEPT_IGNORED /* SIO-BC-05: excepted rooms are not left out */
    broadcast_target without_except = *t;
    without_except.except_count = 0;
    t = &without_except;
#endif
    if (sock == t->skip || !sock->connected || sock->client->closing)
        return false;
    bool in = t->room_count == 0;
    for (size_t i = 0; !in && i < t->room_count; i++)
        in = srv_socket_in_room(sock, t->rooms[i]);
    for (size_t i = 0; in && i < t->except_count; i++)
        in = !srv_socket_in_room(sock, t->except[i]);
    return in;
}

/* The same encoded bytes to every socket of the target (SIO-BC-06). */
static void memory_broadcast(const broadcast_target *t, const srv_packet *p,
                             void (*each)(void *ctx, srv_socket *sock), void *ctx)
{
#ifdef MUTANT_ROOMS_ACROSS_NAMESPACES /* SIO-ROOM-02: a room reaches its members in every namespace */
    for (srv_namespace *n = t->nsp->sio->namespaces; n && t->room_count; n = n->next) {
        broadcast_target there = *t;
        there.nsp = n;
        for (srv_socket *s = n->sockets; s && n != t->nsp; s = s->nsp_next)
            if (broadcast_includes(&there, s))
                srv_packet_send(p, s);
    }
#endif
    for (srv_socket *s = t->nsp->sockets; s; s = s->nsp_next) {
        if (!broadcast_includes(t, s) || (t->is_volatile && !eio_writable(s->client->eio)))
            continue;
        if (each)
            each(ctx, s);
        srv_packet_send(p, s);
    }
}

const srv_adapter srv_memory_adapter = {memory_join,
                                        memory_leave,
                                        memory_leave_all,
                                        memory_in_room,
                                        memory_rooms_json,
                                        memory_broadcast,
                                        NULL,
                                        NULL,
                                        NULL,
                                        NULL};
