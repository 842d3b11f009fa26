/* Engine.IO over WebSocket: packets from whole WebSocket messages, and the upgrade of a polling
 * session (checklist group D): "2probe" -> "3probe", a noop releases the held GET, "5" moves
 * the session to the WebSocket and flushes what polling had buffered, in order. */
#include <string.h>

#include "eio.h"

static void drop_probe(session *s, conn *c)
{
    s->probe = NULL;
    s->upgrade = UPGRADE_NONE;
    timer_stop(&s->srv->loop, &s->upgrade_timer);
    c->session = NULL;
    ws_send_close(c, SIO_WS_CLOSE_NORMAL);
}

/* "5": the WebSocket becomes the transport. A GET still held is released with a noop first,
 * so nothing queued is lost or reordered (EIO-UP-03). */
static void complete_upgrade(session *s, conn *c)
{
    timer_stop(&s->srv->loop, &s->upgrade_timer);
    eio_release_get(s, SIO_EIO_NOOP);
    s->probe = NULL;
    s->ws = c;
    s->transport = EIO_WEBSOCKET;
    s->upgrade = UPGRADE_DONE;
    eio_flush(s);
}

/* Packets on the probing WebSocket: only "2probe" then "5" are allowed (EIO-UP-01, 06, 07). */
static void probe_packet(session *s, conn *c, const sio_eio_packet *pkt)
{
    bool probe =
        pkt->type == SIO_EIO_PING && pkt->data.len == 5 && memcmp(pkt->data.ptr, "probe", 5) == 0;
    if (probe && s->upgrade == UPGRADE_PROBING) {
        eio_ws_send_packet(s, c, SIO_EIO_PONG, false, (const uint8_t *)"probe", 5);
        s->upgrade = UPGRADE_PROBED;
        if (s->get && s->queue_count == 0)
            eio_send_packet(s, SIO_EIO_NOOP, false, NULL, 0); /* EIO-UP-02 */
    } else if (pkt->type == SIO_EIO_UPGRADE) {
        complete_upgrade(s, c);
    } else {
        drop_probe(s, c);
    }
}

void eio_ws_message(conn *c, bool text, const uint8_t *p, size_t n)
{
    session *s = c->session;
    if (s == NULL)
        return;
    sio_eio_options opt = {.b64 = s->b64};
    sio_eio_packet pkt;
    sio_err rc = sio_eio_packet_decode(
        s->protocol, text ? SIO_EIO_FRAME_WS_TEXT : SIO_EIO_FRAME_WS_BINARY, p, n, &opt, &pkt);
    if (c == s->probe) {
        if (rc == SIO_OK)
            probe_packet(s, c, &pkt);
        else
            drop_probe(s, c);
        return;
    }
    if (rc != SIO_OK) {
        log_msg(s->srv, LOG_DEBUG, "session %s: bad packet: %s", s->sid, sio_err_name(rc));
        eio_terminate(s, "parse error", SIO_EIO_CLOSE); /* EIO-PKT-02/03 */
        return;
    }
    eio_dispatch_begin(s);
    eio_receive_packet(s, &pkt);
    eio_dispatch_end(s);
}
