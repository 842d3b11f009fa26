/* Fuzz target: the codec's client sessions (sio/eio_client.h, and sio/sio_client.h on top)
 * driven by a scripted server. The script answers the client's requests and WebSocket opens
 * (with canned or arbitrary bodies, error statuses or lost connections), sends WebSocket
 * messages, lets time pass and makes the application act. Oracles, besides the sanitizers and
 * leak checks:
 *  - the client never has two GETs or two POSTs in flight, and writes WebSocket messages only on
 *    a WebSocket that is open; after CLOSED it says nothing until it is opened again;
 *  - request targets start with the path and name the protocol, the transport and, once open,
 *    the session id;
 *  - every POST body decodes as a payload in the client's format, every packet in it and every
 *    WebSocket message as an Engine.IO packet, and every message of the Socket.IO layer with the
 *    strict Socket.IO decoder;
 *  - no deadline lies in the past after a timeout.
 *
 * Input: byte 0 = configuration (bit 0: Engine.IO v3, bit 1: WebSocket only, bit 2: no upgrade,
 * bit 3: b64, bit 4: the Socket.IO client on top), then operations, one byte and arguments:
 *   op % 8 = 0 answer the oldest request or WebSocket open <how>: how % 4 = 0 canned (the open
 *              packet for a handshake, a noop for a long poll, "ok" for a POST, opened for a
 *              WebSocket), 1 a body <len> <bytes>, 2 an error status, 3 the connection is lost
 *            1 a text WebSocket message <channel> <len> <bytes> | 2 the same, binary
 *            3 lose <channel> | 4 wait <n> (n x 50 ms) | 5 the application sends <len> <bytes>
 *            6 the application closes | 7 the application joins a namespace <len> <name> */
#include "fuzz_log.h"

#include "sio/eio_client.h"
#include "sio/packet.h"
#include "sio/sio_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PENDING 8

typedef struct pending {
    sio_eio_channel channel;
    bool ws_open;
    bool handshake;
} pending;

static sio_eio_client_config ecfg;
static sio_sio_client_config scfg;
static sio_eio_client eio;
static sio_sio_client sio;
static bool with_sio;
static uint64_t now;
static pending queue[MAX_PENDING];
static unsigned npending;
static uint8_t open_ws; /* WebSockets the client may write on (bit per channel) */
static bool closed;     /* the Engine.IO session reported CLOSED and was not reopened */

static void drain(void);

/* ------------------------------------------------------------------ oracles */

static void check_sio_message(const uint8_t *p, size_t n)
{
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    opt.protocol = ecfg.protocol == 3 ? 4 : 5;
    sio_pkt pkt;
    if (sio_pkt_decode(p, n, &opt, &pkt, NULL) != SIO_OK)
        fuzz_fail_diff("client: sent a Socket.IO packet the codec rejects", p, n, NULL, 0);
}

static void check_eio_packet(const sio_eio_packet *pkt)
{
    if (with_sio && pkt->type == SIO_EIO_MESSAGE && !pkt->binary)
        check_sio_message(pkt->data.ptr, pkt->data.len);
}

static void check_post(const sio_eio_client_event *ev)
{
    bool octets =
        ev->content_type && strncmp(ev->content_type, "application/octet-stream", 24) == 0;
    sio_eio_payload_format fmt = ecfg.protocol == 4 ? SIO_EIO_PAYLOAD_V4
                                 : octets           ? SIO_EIO_PAYLOAD_V3_BINARY
                                                    : SIO_EIO_PAYLOAD_V3_TEXT;
    sio_eio_options opt = {.b64 = true};
    if (sio_eio_payload_validate(fmt, ev->data.ptr, ev->data.len, &opt, NULL) != SIO_OK)
        fuzz_fail_diff("client: POSTed a body the codec rejects", ev->data.ptr, ev->data.len, NULL,
                       0);
    sio_eio_payload_iter it;
    sio_eio_payload_iter_init(&it, fmt, ev->data.ptr, ev->data.len, &opt);
    sio_eio_packet pkt;
    bool has = true;
    while (sio_eio_payload_next(&it, &pkt, &has) == SIO_OK && has)
        check_eio_packet(&pkt);
}

static void check_target(const sio_eio_client_event *ev, bool websocket)
{
    char want[64];
    snprintf(want, sizeof want, "%.*s?EIO=%d&transport=%s", (int)ecfg.path.len,
             (const char *)ecfg.path.ptr, ecfg.protocol, websocket ? "websocket" : "polling");
    size_t n = strlen(want);
    if (ev->target.len < n || memcmp(ev->target.ptr, want, n) != 0)
        fuzz_fail_diff("client: a request target without path, protocol and transport",
                       ev->target.ptr, ev->target.len, (const uint8_t *)want, n);
    sio_span sid = sio_eio_client_sid(&eio);
    bool has_sid = ev->target.len >= n + 5 + sid.len && memcmp(ev->target.ptr + n, "&sid=", 5) == 0;
    if (sid.len && (!has_sid || memcmp(ev->target.ptr + n + 5, sid.ptr, sid.len) != 0))
        fuzz_fail_diff("client: a request of an open session without its sid", ev->target.ptr,
                       ev->target.len, sid.ptr, sid.len);
}

/* A new request or WebSocket open: never a second one of the same kind in flight. */
static void check_new(const sio_eio_client_event *ev, bool ws)
{
    for (unsigned i = 0; i < npending; i++)
        if (queue[i].channel == ev->channel)
            fuzz_fail("client: a second request on a channel that has one in flight");
    if (npending == MAX_PENDING)
        fuzz_fail("client: too many requests in flight");
    queue[npending++] = (pending){ev->channel, ws, sio_eio_client_sid(&eio).len == 0};
}

/* ------------------------------------------------------------------ driving */

static void forget_channel(sio_eio_channel ch)
{
    for (unsigned i = 0; i < npending; i++) {
        if (queue[i].channel == ch) {
            memmove(queue + i, queue + i + 1, (npending - i - 1) * sizeof *queue);
            npending--;
            return;
        }
    }
}

static void sio_drain(void)
{
    sio_sio_client_event ev;
    while (with_sio && sio_sio_client_next_event(&sio, &ev) == SIO_OK &&
           ev.type != SIO_SIO_CLIENT_EV_NONE)
        if (ev.type == SIO_SIO_CLIENT_EV_EVENT && ev.has_id)
            sio_sio_client_ack(&sio, ev.nsp, ev.id, sio_span_of("[1]", 3), NULL, 0, now);
}

static void drain(void)
{
    sio_eio_client_event ev;
    for (int rounds = 0; rounds < 10000; rounds++) {
        if (sio_eio_client_next_event(&eio, &ev) != SIO_OK)
            fuzz_fail("client: next_event failed without an allocation failure");
        switch (ev.type) {
        case SIO_EIO_CLIENT_EV_NONE:
            sio_drain();
            return;
        case SIO_EIO_CLIENT_EV_REQUEST:
            FUZZ_ASSERT(!closed, "client: a request after CLOSED");
            check_target(&ev, false);
            check_new(&ev, false);
            if (ev.channel == SIO_EIO_CHANNEL_POST)
                check_post(&ev);
            break;
        case SIO_EIO_CLIENT_EV_WS_OPEN:
            FUZZ_ASSERT(!closed, "client: a WebSocket open after CLOSED");
            check_target(&ev, true);
            check_new(&ev, true);
            break;
        case SIO_EIO_CLIENT_EV_WS_SEND: {
            if (!(open_ws & (1u << ev.channel)))
                fuzz_fail("client: writes on a WebSocket that is not open");
            sio_eio_options opt = {.b64 = true};
            sio_eio_packet pkt;
            if (sio_eio_packet_decode(ecfg.protocol,
                                      ev.binary ? SIO_EIO_FRAME_WS_BINARY : SIO_EIO_FRAME_WS_TEXT,
                                      ev.data.ptr, ev.data.len, &opt, &pkt) != SIO_OK)
                fuzz_fail_diff("client: sent a WebSocket message the codec rejects", ev.data.ptr,
                               ev.data.len, NULL, 0);
            check_eio_packet(&pkt);
            break;
        }
        case SIO_EIO_CLIENT_EV_WS_CLOSE:
            open_ws &= (uint8_t) ~(1u << ev.channel);
            forget_channel(ev.channel);
            break;
        case SIO_EIO_CLIENT_EV_UPGRADED:
            FUZZ_ASSERT(open_ws & (1u << SIO_EIO_CHANNEL_PROBE),
                        "client: upgraded without a probe");
            open_ws = (uint8_t)((open_ws & ~(1u << SIO_EIO_CHANNEL_PROBE)) |
                                (1u << SIO_EIO_CHANNEL_WEBSOCKET));
            break;
        case SIO_EIO_CLIENT_EV_OPEN:
            if (with_sio)
                sio_sio_client_eio_open(&sio, now);
            break;
        case SIO_EIO_CLIENT_EV_MESSAGE:
            if (with_sio)
                sio_sio_client_receive(&sio, ev.binary, ev.data.ptr, ev.data.len, now);
            sio_drain();
            break;
        case SIO_EIO_CLIENT_EV_CLOSED:
            closed = true;
            npending = 0; /* the caller drops every connection */
            open_ws = 0;
            if (with_sio)
                sio_sio_client_eio_closed(&sio, ev.reason, now);
            sio_drain();
            break;
        }
    }
    fuzz_fail("client: events never end");
}

static void take_bytes(fuzz_input *in, size_t len, const uint8_t **p, size_t *n)
{
    *n = len < in->n ? len : in->n;
    *p = in->p;
    in->p += *n;
    in->n -= *n;
}

/* The oldest request gets its answer. */
static void answer(fuzz_input *in)
{
    uint8_t how = fuzz_take_u8(in) % 4;
    const uint8_t *p = NULL;
    size_t n = 0;
    if (how == 1)
        take_bytes(in, fuzz_take_u8(in), &p, &n);
    if (npending == 0)
        return;
    pending r = queue[0];
    memmove(queue, queue + 1, (npending - 1) * sizeof *queue);
    npending--;
    if (how == 3 || (r.ws_open && how == 2)) {
        sio_eio_client_channel_lost(&eio, r.channel, now);
    } else if (r.ws_open) {
        open_ws |= (uint8_t)(1u << r.channel);
        sio_eio_client_ws_opened(&eio, r.channel, now);
    } else if (how == 2) {
        sio_eio_client_response(&eio, r.channel, 400, SIO_SPAN_NULL, NULL, 0, now);
    } else {
        static const char open4[] = "0{\"sid\":\"abc\",\"upgrades\":[\"websocket\"],"
                                    "\"pingInterval\":300,\"pingTimeout\":200,\"maxPayload\":100}";
        static const char open3[] = "93:0{\"sid\":\"abc\",\"upgrades\":[\"websocket\"],"
                                    "\"pingInterval\":300,\"pingTimeout\":200,\"maxPayload\":100}";
        const char *canned = r.channel == SIO_EIO_CHANNEL_POST ? "ok"
                             : r.handshake        ? (ecfg.protocol == 4 ? open4 : open3)
                             : ecfg.protocol == 4 ? "6"
                                                  : "1:6";
        if (how == 0) {
            p = (const uint8_t *)canned;
            n = strlen(canned);
        }
        sio_eio_client_response(&eio, r.channel, 200, SIO_SPAN_NULL, p, n, now);
    }
}

/* A WebSocket message from the server; a canned open packet when the byte says so. */
static void ws_message(fuzz_input *in, bool binary)
{
    uint8_t b = fuzz_take_u8(in);
    sio_eio_channel ch = b & 1 ? SIO_EIO_CHANNEL_PROBE : SIO_EIO_CHANNEL_WEBSOCKET;
    const uint8_t *p;
    size_t n;
    take_bytes(in, fuzz_take_u8(in), &p, &n);
    if (!(open_ws & (1u << ch)))
        return;
    uint8_t *copy = malloc(n ? n : 1); /* the client views it until drained */
    if (!copy)
        abort();
    if (n)
        memcpy(copy, p, n);
    sio_eio_client_ws_message(&eio, ch, !binary, copy, n, now);
    drain();
    free(copy);
}

static void wait_ms(uint64_t ms)
{
    uint64_t until = now + ms;
    for (int steps = 0; steps < 64; steps++) {
        uint64_t next = sio_eio_client_next_deadline(&eio);
        if (with_sio && sio_sio_client_next_deadline(&sio) < next)
            next = sio_sio_client_next_deadline(&sio);
        if (next > until)
            break;
        now = next > now ? next : now;
        sio_eio_client_timeout(&eio, now);
        if (with_sio)
            sio_sio_client_timeout(&sio, now);
        if (with_sio && sio_eio_client_state_of(&eio) == SIO_EIO_CLIENT_OPENING)
            closed = false; /* reopened for a reconnection */
        drain();
        FUZZ_ASSERT(sio_eio_client_next_deadline(&eio) > now,
                    "client: a deadline still due after timeout()");
    }
    now = until;
}

static void app_send(fuzz_input *in)
{
    const uint8_t *p;
    size_t n;
    take_bytes(in, fuzz_take_u8(in), &p, &n);
    if (!with_sio) {
        sio_eio_client_send(&eio, false, p, n, now);
        return;
    }
    /* an event whose name is the bytes as a JSON string when they are plain */
    char data[300];
    size_t k = 0;
    data[k++] = '[';
    data[k++] = '"';
    for (size_t i = 0; i < n && k < sizeof data - 3; i++)
        if (p[i] >= 'a' && p[i] <= 'z')
            data[k++] = (char)p[i];
    data[k++] = '"';
    data[k++] = ']';
    uint64_t id = 0;
    sio_sio_client_emit(&sio, sio_span_of("/", 1), sio_span_of(data, k), NULL, 0, n & 1, &id, now);
}

static void join(fuzz_input *in)
{
    const uint8_t *p;
    size_t n;
    take_bytes(in, fuzz_take_u8(in), &p, &n);
    if (!with_sio)
        return;
    char name[64] = "/";
    size_t k = 1;
    for (size_t i = 0; i < n && k < sizeof name - 1; i++)
        if (p[i] >= 'a' && p[i] <= 'z')
            name[k++] = (char)p[i];
    sio_sio_client_connect(&sio, sio_span_of(name, k), SIO_SPAN_NULL, NULL, now);
}

static void run_op(uint8_t op, fuzz_input *in)
{
    switch (op % 8) {
    case 0:
        answer(in);
        break;
    case 1:
    case 2:
        ws_message(in, op % 8 == 2);
        return;
    case 3: {
        sio_eio_channel ch = (sio_eio_channel)(fuzz_take_u8(in) % 4);
        forget_channel(ch);
        open_ws &= (uint8_t) ~(1u << ch);
        sio_eio_client_channel_lost(&eio, ch, now);
        break;
    }
    case 4:
        wait_ms(50 * ((uint64_t)fuzz_take_u8(in) + 1));
        break;
    case 5:
        app_send(in);
        break;
    case 6:
        if (with_sio)
            sio_sio_client_close(&sio, now);
        else
            sio_eio_client_close(&eio, now);
        break;
    default:
        join(in);
    }
    drain();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t bits = fuzz_take_u8(&in);
    sio_eio_client_config_init(&ecfg);
    ecfg.protocol = bits & 1u ? 3 : 4;
    ecfg.websocket_only = bits & 2u;
    ecfg.upgrade = !(bits & 4u);
    ecfg.b64 = bits & 8u;
    with_sio = bits & 16u;
    ecfg.path = sio_span_of(with_sio ? "/socket.io/" : "/engine.io/", 11);
    sio_sio_client_config_init(&scfg);
    scfg.randomization = 0;
    scfg.attempts = 3;
    now = 1000;
    npending = 0;
    open_ws = 0;
    closed = false;
    memset(&eio, 0, sizeof eio);
    if (with_sio) {
        FUZZ_ASSERT(sio_sio_client_open(&sio, &scfg, &eio, &ecfg, now) == SIO_OK,
                    "client: the Socket.IO client did not open");
        sio_sio_client_connect(&sio, sio_span_of("/", 1), SIO_SPAN_NULL, NULL, now);
    } else {
        FUZZ_ASSERT(sio_eio_client_open(&eio, &ecfg, now) == SIO_OK,
                    "client: the Engine.IO client did not open");
    }
    drain();
    unsigned ops = 0;
    while (in.n > 0 && ops++ < 512)
        run_op(fuzz_take_u8(&in), &in);
    fuzz_reached(sio_eio_client_state_of(&eio) != SIO_EIO_CLIENT_OPENING);
    if (with_sio)
        sio_sio_client_free(&sio);
    sio_eio_client_free(&eio);
    return 0;
}
