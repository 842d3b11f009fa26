/* The cluster adapter: the server as one node of a cluster of Socket.IO servers that meet in
 * Redis, speaking Node's classic `@socket.io/redis-adapter` protocol (cluster/README.md) through
 * the cluster module (cluster/link.h, cluster/wire.h). It replaces the in-memory adapter of
 * rooms.c behind srv_adapter: rooms stay on the sockets of this node, broadcasts are delivered
 * here and published for the other nodes, and the other nodes' broadcasts and requests are
 * carried out here. Redis going away never stops local delivery (the link reconnects). */
#ifndef REFSERVER_CLUSTER_ADAPTER_H
#define REFSERVER_CLUSTER_ADAPTER_H

#include "socketio.h"

/* Joins the cluster of srv->cfg.adapter_url (the adapter replaces the in-memory one and the
 * link starts connecting). False, with a reason, when the URL is not `redis://HOST:PORT[/DB]`. */
bool srv_cluster_start(srv_socketio *sio, char why[128]);
/* Every subscription is confirmed (READY may be printed). */
bool srv_cluster_up(const srv_socketio *sio);
void srv_cluster_free(srv_socketio *sio);

/* Cluster-wide questions; without a cluster this node answers alone, at once. */
typedef enum srv_query_kind {
    SRV_QUERY_ALL_ROOMS,        /* every room of the namespace, socket-id rooms included */
    SRV_QUERY_FETCH_SOCKETS,    /* the sockets in a room (every socket when room is NULL) */
    SRV_QUERY_SERVER_SIDE_EMIT, /* an event for the other nodes' applications */
} srv_query_kind;

/* Called exactly once: `items` is a JSON array (room names, socket descriptions
 * {id, handshake, rooms, data}, or the other nodes' answers), `error` NULL or the adapter's
 * message (a timeout) with what came in before it; `requester` NULL when the socket left. */
typedef void (*srv_query_done)(void *ctx, srv_socket *requester, const char *error, sio_span items);

/* `sse` is the encoded event of a SRV_QUERY_SERVER_SIDE_EMIT ([event, ...args]); `done` NULL
 * for a server-side emit that wants no answer. */
void srv_cluster_query(srv_namespace *nsp, srv_query_kind kind, const char *room,
                       const srv_packet *sse, srv_socket *requester, srv_query_done done,
                       void *ctx);

/* socketsJoin (CLUSTER_REQ_REMOTE_JOIN), socketsLeave (_LEAVE), disconnectSockets(close)
 * (_DISCONNECT) over the sockets in room `target` of every node. In a cluster the origin acts
 * when its own request comes back from Redis, as Node's does. */
void srv_cluster_remote(srv_namespace *nsp, int type, const char *target, const char *room,
                        bool close);

#endif
