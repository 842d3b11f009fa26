/* The client's side of an Engine.IO session (protocol v4, or v3), sans I/O: the polling
 * handshake, the long-poll loop and its POSTs, the upgrade probe, WebSocket-only sessions,
 * heartbeat answers and dead-server detection, closing.
 *
 * The session never opens a connection or reads a clock. It asks the caller, through events,
 * to make HTTP requests (a long-poll GET, a POST) and to open, write and close WebSockets; the
 * caller reports what came back (a response with its status and body, a WebSocket opened or
 * failed, a message, a lost connection) with the current time in milliseconds, and calls
 * sio_eio_client_timeout() at sio_eio_client_next_deadline(). Channels name the transports as
 * on the server side: GET, POST, WEBSOCKET and PROBE.
 *
 * Memory: the struct is the caller's; request targets, bodies, outgoing messages and queued
 * packets are allocated through the configuration's sio_allocator (libc when NULL). An event's
 * bytes are valid until the next call of sio_eio_client_next_event() or free(); MESSAGE events
 * view the bytes handed in (response bodies and WebSocket messages must stay valid until
 * next_event() returns NONE).
 *
 * Transition table (the client acts on its own only through events; "GET" = a REQUEST event for
 * a long-poll GET; "POST" = a REQUEST event with the queued packets, at most one in flight):
 *
 *   state      | input                                      | next state | output
 *   -----------+--------------------------------------------+------------+------------------------
 *   (none)     | open, polling                              | OPENING    | REQUEST GET handshake
 *   (none)     | open, websocket_only                       | OPENING    | WS_OPEN WEBSOCKET
 *   OPENING    | handshake answer: open packet              | POLLING /  | OPEN; the packets after
 *              |                                            | WEBSOCKET  | it; GET (polling); probe
 *              |                                            |            | when the server offers
 *              |                                            |            | websocket (WS_OPEN PROBE)
 *   OPENING    | anything else, an error status, lost       | CLOSED     | CLOSED "transport error" /
 *              |                                            |            | "parse error"
 *   POLLING    | GET answered                               | POLLING    | its packets; the next GET
 *   POLLING    | POST answered "ok"                         | POLLING    | next POST if packets wait
 *   any open   | send (application message)                 | same       | POST, queued, or WS_SEND
 *   PROBING    | probe opened                               | PROBING    | WS_SEND PROBE "2probe"
 *   PROBING    | "3probe" on PROBE                          | PAUSING    | no new GET or POST
 *   PAUSING    | no GET and no POST left in flight          | WEBSOCKET  | WS_SEND PROBE "5";
 *              |                                            |            | UPGRADED; queued packets
 *              |                                            |            | over the WebSocket
 *   PROBING,   | probe failed, lost, or anything else on it | POLLING    | WS_CLOSE PROBE; polling
 *   PAUSING    |                                            |            | goes on (GET if none)
 *   any open   | "2" (v4) received                          | same       | "3" sent; ping deadline
 *              |                                            |            | renewed
 *   any open   | "3" (v3) received                          | same       | pong deadline cleared
 *   any open   | v3: ping due                               | same       | "2" sent; pong deadline
 *   any open   | v4: no ping within pingInterval+Timeout /  | CLOSED     | CLOSED "ping timeout"
 *              | v3: no pong within pingTimeout             |            |
 *   any open   | "1" received, connection lost              | CLOSED     | CLOSED "transport close"
 *   any open   | an error status, an undecodable packet     | CLOSED     | CLOSED "transport error"
 *              |                                            |            | / "parse error"
 *   WEBSOCKET  | close()                                    | CLOSED     | "1" sent; CLOSED "forced
 *              |                                            |            | close" (by_application)
 *   POLLING…   | close(), no POST in flight                 | CLOSED     | POST: the queued packets
 *              |                                            |            | and "1"; CLOSED "forced
 *              |                                            |            | close" (by_application)
 *   POLLING…   | close(), a POST in flight                  | same,      | no new GET or POST; send()
 *              |                                            | `closing`  | refused
 *   `closing`  | POST answered                              | CLOSED     | the last POST as above;
 *              |                                            |            | CLOSED "forced close"
 *   OPENING    | close()                                    | CLOSED     | CLOSED "forced close"
 *   CLOSED     | open                                       | OPENING    | a new session (reconnect)
 */
#ifndef SIO_EIO_CLIENT_H
#define SIO_EIO_CLIENT_H

#include "sio/common.h"
#include "sio/eio.h"
#include "sio/eio_server.h" /* sio_eio_channel, sio_eio_close_reason */

/* Longest request target the client builds (path, query and its own parameters). */
#define SIO_EIO_CLIENT_MAX_TARGET 2048u
/* The longest session id a client takes from an open packet (Node's are 20 bytes, a UUID such as
 * netty-socketio's 36); a longer one ends the session as a parse error. */
#define SIO_EIO_CLIENT_MAX_SID 255u

typedef struct sio_eio_client_config {
    int protocol;        /* 4 (default) or 3 */
    bool websocket_only; /* no polling: the session starts on a WebSocket */
    bool upgrade;        /* probe and move to WebSocket when the server offers it (default) */
    bool b64;            /* ask for binary data as base64 text (b64=1) */
    bool cache_buster;   /* a `t` parameter on every polling request, different each time (as
                            socket.io-client's timestampRequests; CEIO-HS-03) */
    sio_span path;       /* endpoint path, "/engine.io/" by default (not copied) */
    sio_span query;      /* extra query parameters, URL-encoded, without '?' (not copied) */
    const sio_allocator *alloc; /* NULL: libc realloc and free */
} sio_eio_client_config;

/* v4, polling first with upgrade, path "/engine.io/", no extra query. */
SIO_API void sio_eio_client_config_init(sio_eio_client_config *cfg);

typedef enum sio_eio_client_state {
    SIO_EIO_CLIENT_OPENING = 0,   /* handshake in flight */
    SIO_EIO_CLIENT_POLLING = 1,   /* open over long-polling */
    SIO_EIO_CLIENT_PROBING = 2,   /* a WebSocket is being probed for an upgrade */
    SIO_EIO_CLIENT_PAUSING = 3,   /* "3probe" received; polling is finishing */
    SIO_EIO_CLIENT_WEBSOCKET = 4, /* open over WebSocket */
    SIO_EIO_CLIENT_CLOSED = 5     /* ended (or not opened yet) */
} sio_eio_client_state;

typedef enum sio_eio_client_event_type {
    SIO_EIO_CLIENT_EV_NONE = 0,
    SIO_EIO_CLIENT_EV_REQUEST = 1,  /* make an HTTP request on `channel` (GET or POST): `method`,
                                       `target`, `content_type` and body `data` (POST) */
    SIO_EIO_CLIENT_EV_WS_OPEN = 2,  /* open a WebSocket to `target` as `channel` */
    SIO_EIO_CLIENT_EV_WS_SEND = 3,  /* one WebSocket message on `channel`, binary when `binary` */
    SIO_EIO_CLIENT_EV_WS_CLOSE = 4, /* close the WebSocket `channel` (1000); it is released */
    SIO_EIO_CLIENT_EV_OPEN = 5,     /* the session is open: sid(), ping_interval(), … */
    SIO_EIO_CLIENT_EV_MESSAGE = 6,  /* a message for the application */
    SIO_EIO_CLIENT_EV_UPGRADED =
        7,                       /* the session moved to the WebSocket (PROBE became WEBSOCKET) */
    SIO_EIO_CLIENT_EV_CLOSED = 8 /* the session ended with `reason`; the caller drops every
                                       connection it still has for it, once it has carried out
                                       the events before (a last POST "1", WebSocket closes) */
} sio_eio_client_event_type;

typedef struct sio_eio_client_event {
    sio_eio_client_event_type type;
    sio_eio_channel channel;
    bool binary;
    bool by_application;
    sio_eio_close_reason reason;
    const char *method;       /* REQUEST: "GET" or "POST" */
    const char *content_type; /* REQUEST POST */
    sio_span target;          /* REQUEST, WS_OPEN: path and query */
    sio_span data;
} sio_eio_client_event;

typedef struct sio_eio_client {
    const sio_eio_client_config *cfg;
    sio_eio_client_state state;
    uint8_t protocol;
    uint32_t requests; /* polling requests made, for the cache buster (kept by open()) */
    uint8_t
        in_flight; /* bit per channel: GET / POST requests awaiting their answer, WebSockets open */
    bool probe_sent; /* "2probe" went out on the probe */
    bool closed_reported;
    bool by_application;
    bool has_input; /* a response body or WebSocket message is being delivered */
    bool closing;   /* close() came while a POST was in flight: the last POST follows it */
    sio_eio_close_reason reason;
    char sid[SIO_EIO_CLIENT_MAX_SID + 1];
    uint8_t sid_len;
    bool upgrades_websocket; /* the server offered "websocket" */
    uint64_t ping_interval, ping_timeout, max_payload;
    uint64_t ping_due; /* v3: our next ping; v4: the server's ping is late after this */
    uint64_t pong_due; /* v3: the server's pong is late after this */
    uint64_t input_now;
    sio_eio_item_list queue;  /* packets waiting to be sent */
    sio_eio_item_list events; /* events not yet returned */
    sio_eio_item *current;    /* the event last returned (freed on the next call) */
    uint8_t *scratch;         /* decoded base64 input */
    sio_eio_payload_iter input;
    sio_eio_packet ws_packet;
    bool input_is_ws;        /* the input is one WebSocket message ... */
    bool ws_pending;         /* ... whose packet is not handled yet */
    bool input_is_handshake; /* the input's first packet must be the open packet */
} sio_eio_client;

/* Starts a session in zeroed memory, or again (a reconnection) after sio_eio_client_free.
 * `cfg` must outlive the session. */
SIO_API sio_err sio_eio_client_open(sio_eio_client *c, const sio_eio_client_config *cfg,
                                    uint64_t now_ms);

/* The answer to a REQUEST on `channel`: HTTP status, Content-Type (NULL when absent) and body.
 * The body's packets are delivered by next_event(). */
SIO_API sio_err sio_eio_client_response(sio_eio_client *c, sio_eio_channel channel, int status,
                                        sio_span content_type, const uint8_t *body, size_t len,
                                        uint64_t now_ms);

/* The WebSocket of a WS_OPEN event is open (101 received, accept key checked by the caller). */
SIO_API sio_err sio_eio_client_ws_opened(sio_eio_client *c, sio_eio_channel channel,
                                         uint64_t now_ms);

/* One whole WebSocket message on `channel`. */
SIO_API sio_err sio_eio_client_ws_message(sio_eio_client *c, sio_eio_channel channel, bool text,
                                          const uint8_t *p, size_t n, uint64_t now_ms);

/* A request failed, a WebSocket could not open, or a connection was lost. */
SIO_API void sio_eio_client_channel_lost(sio_eio_client *c, sio_eio_channel channel,
                                         uint64_t now_ms);

/* A message from the application: sent at once over WebSocket, else with the next POST.
 * SIO_ERR_EIO_SESSION_CLOSED when closed; SIO_ERR_UTF8_* for text that is not UTF-8;
 * SIO_ERR_EIO_SEPARATOR_IN_TEXT for v4 text holding 0x1E that would go into a POST. */
SIO_API sio_err sio_eio_client_send(sio_eio_client *c, bool binary, const uint8_t *p, size_t n,
                                    uint64_t now_ms);

/* Ends the session: "1" to the server (over polling after every packet still queued, once the
 * POST in flight is answered), then CLOSED "forced close". */
SIO_API void sio_eio_client_close(sio_eio_client *c, uint64_t now_ms);

SIO_API void sio_eio_client_timeout(sio_eio_client *c, uint64_t now_ms);
SIO_API uint64_t sio_eio_client_next_deadline(const sio_eio_client *c);
SIO_API sio_err sio_eio_client_next_event(sio_eio_client *c, sio_eio_client_event *ev);
SIO_API void sio_eio_client_free(sio_eio_client *c);

SIO_API sio_eio_client_state sio_eio_client_state_of(const sio_eio_client *c);
SIO_API int sio_eio_client_protocol(const sio_eio_client *c);
SIO_API sio_span sio_eio_client_sid(const sio_eio_client *c); /* empty before OPEN */
SIO_API uint64_t sio_eio_client_ping_interval(const sio_eio_client *c);
SIO_API uint64_t sio_eio_client_ping_timeout(const sio_eio_client *c);
SIO_API uint64_t sio_eio_client_max_payload(const sio_eio_client *c);

#endif
