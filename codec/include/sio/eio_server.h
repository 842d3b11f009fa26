/* The server's side of one Engine.IO session (protocol v4, and v3 when allowed), sans I/O:
 * handshake, polling discipline, the upgrade probe, heartbeat deadlines and closing.
 *
 * The session never touches a socket or a clock. The caller (an I/O adapter: sockets, HTTP,
 * WebSocket framing) tells it what arrived, with the current time in milliseconds, and drains
 * what it has to say with sio_eio_server_next_event(): responses to HTTP requests, WebSocket
 * messages, WebSocket closes, messages for the application and, last, the end of the session.
 * sio_eio_server_next_deadline() says when to call sio_eio_server_timeout() next.
 *
 * Transports are named by channel: the held long-poll GET, the POST whose body is awaited, the
 * WebSocket carrying the session and the WebSocket probed for an upgrade. The caller maps each
 * channel to its own connection; the session says when a channel is answered or released.
 *
 * Requests are first classified without a session (sio_eio_request_read: the query, the
 * WebSocket headers, the checks of Engine.IO's handshake in Node's order), then handed to a new
 * session (sio_eio_server_open) or to the one the sid names (sio_eio_server_request,
 * sio_eio_server_upgrade). A refused request gets the HTTP answer of sio_eio_refusal_for().
 *
 * Memory: the struct is the caller's; packets waiting for a GET, response bodies and outgoing
 * WebSocket messages are allocated through the sio_allocator of the configuration (libc when
 * NULL) and released by the session. Received data is never copied except JSONP bodies and
 * base64 records: a JSONP body is decoded into a buffer that lives until the input is done, each
 * base64 record into a scratch buffer that lives until the next record or the end of the input.
 *
 * Lifetimes: an event's bytes are valid until the next call of sio_eio_server_next_event() or
 * sio_eio_server_free(). Received bytes handed to sio_eio_server_post_body() or
 * sio_eio_server_ws_message() must stay valid until next_event() has returned
 * SIO_EIO_SERVER_EV_NONE (MESSAGE events are views into them).
 *
 * Re-entrancy: while the caller handles an event of a session it may call send() and close()
 * on that session (their output comes out of the same next_event() loop, in order) and any
 * function on other sessions, but not next_event() on the same session: that call would read
 * the next packet of the input before the application is done with the current one.
 *
 * Transition table (state: how the session is carried; `closing`: the application closed it
 * while packets were still queued for polling; "held GET" = channel GET; "release the GET with
 * X" = a RESPOND event answering it with the one packet X; "CLOSED r" = every channel released,
 * WebSocket channels closed with 1000, then the CLOSED event with reason r).
 *
 *   state      | input                                    | next state | output
 *   -----------+------------------------------------------+------------+--------------------------------
 *   (none)     | open, polling                            | POLLING    | open packet (+ initial packet)
 *              |                                          |            | answers the handshake GET
 *   (none)     | open, WebSocket                          | WEBSOCKET  | open packet (+ initial packet)
 *   POLLING    | GET, none held                           | POLLING    | held; answered with the queue
 *              |                                          |            | at once if packets wait
 *   POLLING    | GET, one held                            | CLOSED     | request refused 400; held GET
 *              |                                          |            | released with "1"; CLOSED
 *              |                                          |            | "transport error"
 *   POLLING    | GET while `closing`, queue empty         | CLOSED     | released with "1"; CLOSED
 *              |                                          |            | "forced server close"
 *   any open   | POST, none open / POST body complete     | same       | packets delivered in order;
 *              |                                          |            | then RESPOND "ok" on POST
 *   any open   | POST while one is open, or a binary      | CLOSED     | request refused 400; CLOSED
 *              | content type on v4                       |            | "transport error"
 *   any open   | POST chunked / longer than max_payload   | same       | refused 411 / 413
 *   any open   | GET/POST naming the other transport      | same       | refused 400 "Bad request"
 *   POLLING    | WebSocket upgrade, transport=websocket   | PROBING    | PROBE channel; upgrade deadline
 *   other      | WebSocket upgrade                        | same       | refused after the 101 (close)
 *   PROBING    | "2probe" on PROBE                        | PROBED     | "3probe" on PROBE; held GET
 *              |                                          |            | released with "6" if no packet
 *              |                                          |            | waits
 *   PROBED     | GET, queue empty                         | PROBED     | "6" answers it at once
 *   PROBING,   | "5" on PROBE                             | WEBSOCKET  | held GET released with "6";
 *   PROBED     |                                          |            | UPGRADED; queue sent over the
 *              |                                          |            | WebSocket
 *   PROBING,   | anything else on PROBE, a bad packet,    | POLLING    | PROBE closed (1000)
 *   PROBED     | upgrade deadline                         |            |
 *   PROBING,   | PROBE lost                               | POLLING    | -
 *   PROBED     |                                          |            |
 *   any open   | "1" received                             | CLOSED     | held GET released with "6";
 *              |                                          |            | CLOSED "transport close"
 *   any open   | GET, POST or WebSocket lost              | CLOSED     | CLOSED "transport close"
 *   any open   | undecodable packet or payload            | CLOSED     | CLOSED "parse error"
 *   any open   | v4: "2" received / v3: "3" received      | CLOSED     | CLOSED "transport error"
 *   any open   | v3: "2" received                         | same       | "3" sent; ping deadline renewed
 *   any open   | v4: ping deadline                        | same       | "2" sent; pong deadline set
 *   any open   | v4: "3" received while a pong is due     | same       | next ping pingInterval later
 *   any open   | v4: pong deadline / v3: ping deadline    | CLOSED     | CLOSED "ping timeout"
 *   any open   | application message (send)               | same       | WebSocket message, or queued
 *              |                                          |            | and the held GET answered
 *   WEBSOCKET  | application close                        | CLOSED     | CLOSED "forced server close"
 *   POLLING…   | application close, queue empty           | CLOSED     | CLOSED "forced server close"
 *   POLLING…   | application close, packets queued        | `closing`  | queue goes with the next GET
 *   `closing`  | v4 ping deadline                         | CLOSED     | CLOSED "forced server close"
 *   any open   | shutdown (sio_eio_server_abort)          | CLOSED     | CLOSED with the reason given
 *
 * Open packet, "1" and the packets of one POST or WebSocket message are handled as a unit: a
 * close the application asks for while they are delivered takes effect after the last of them
 * (messages after it are dropped), and so does a close caused by a later packet.
 */
#ifndef SIO_EIO_SERVER_H
#define SIO_EIO_SERVER_H

#include "sio/common.h"
#include "sio/eio.h"
#include "sio/http.h"
#include "sio/ws.h"

/* ------------------------------------------------------------------ limits */

/* Packets queued for a polling client that does not collect them; further ones are refused
 * with SIO_ERR_EIO_QUEUE_FULL (the session goes on). */
#define SIO_EIO_SERVER_DEFAULT_MAX_QUEUED 100000u
/* A probing WebSocket must send "5" within this time after it opened (engine.io's
 * upgradeTimeout), else it is closed and the session goes on over polling. */
#define SIO_EIO_SERVER_DEFAULT_UPGRADE_TIMEOUT_MS 10000u
/* Heartbeat defaults (Node's). */
#define SIO_EIO_SERVER_DEFAULT_PING_INTERVAL_MS 25000u
#define SIO_EIO_SERVER_DEFAULT_PING_TIMEOUT_MS  20000u
/* Longest session id a session stores (the reference server uses 20 characters). */
#define SIO_EIO_MAX_SID_LEN 32u
/* Longest value of `transport` and `EIO` read from a query; longer ones are unknown. */
#define SIO_EIO_MAX_QUERY_VALUE 15u

/* ------------------------------------------------------------------ configuration */

typedef struct sio_eio_server_config {
    uint32_t ping_interval_ms;   /* v4: a ping every interval; v3: the client's period */
    uint32_t ping_timeout_ms;    /* v4: pong due this long after a ping; v3: added slack */
    uint32_t upgrade_timeout_ms; /* SIO_EIO_SERVER_DEFAULT_UPGRADE_TIMEOUT_MS */
    uint32_t max_payload;        /* announced maxPayload; longer POST bodies are refused 413 */
    uint32_t max_queued;         /* SIO_EIO_SERVER_DEFAULT_MAX_QUEUED */
    bool allow_eio3;             /* also accept EIO=3 */
    sio_span initial_packet;     /* a message sent right after the open packet, in the same first
                                    response (engine.io's initialPacket); NULL ptr = none */
    const sio_allocator *alloc;  /* NULL: libc realloc and free */
} sio_eio_server_config;

/* Node's defaults: 25 s / 20 s heartbeat, 1 000 000 bytes, 10 s upgrade, v4 only. */
SIO_API void sio_eio_server_config_init(sio_eio_server_config *cfg);

/* ------------------------------------------------------------------ requests */

typedef enum sio_eio_request_kind {
    SIO_EIO_REQUEST_HANDSHAKE = 0, /* no sid: opens a session (polling GET or WebSocket) */
    SIO_EIO_REQUEST_POLL = 1,      /* a request of an existing session over HTTP */
    SIO_EIO_REQUEST_UPGRADE = 2    /* a WebSocket for an existing session */
} sio_eio_request_kind;

typedef enum sio_eio_method {
    SIO_EIO_METHOD_GET = 0,
    SIO_EIO_METHOD_POST = 1,
    SIO_EIO_METHOD_OTHER = 2
} sio_eio_method;

/* What Engine.IO reads from a request head. */
typedef struct sio_eio_request {
    sio_eio_request_kind kind;
    sio_eio_method method;
    int protocol;             /* 4, 3 (with allow_eio3) or 0: EIO missing or unsupported */
    bool websocket;           /* an upgrade to WebSocket (Upgrade: websocket) */
    bool transport_websocket; /* transport=websocket (else polling) */
    bool b64;                 /* binary as base64 text (query b64 present) */
    bool jsonp;               /* JSONP polling (query j present) */
    bool octet_stream;        /* POST: Content-Type application/octet-stream */
    bool chunked;             /* POST: Transfer-Encoding chunked */
    uint64_t content_length;  /* POST */
    char jsonp_index[SIO_EIO_JSONP_MAX_INDEX_DIGITS + 1]; /* the digits of j */
    char sid[SIO_EIO_MAX_SID_LEN + 1];                    /* kind != HANDSHAKE */
    size_t sid_len;
    char accept_key[SIO_WS_ACCEPT_LEN + 1]; /* websocket: Sec-WebSocket-Accept */
} sio_eio_request;

/* Reads a request for an Engine.IO endpoint and makes the checks that need no session, in the
 * order Node's verify() makes them (so a request with several faults gets Node's code):
 * transport, WebSocket handshake headers, then, without a sid, the method and the
 * transport/upgrade agreement. The protocol version is reported, not checked: Node asks its
 * allowRequest hook first; an unsupported one is refused with SIO_ERR_EIO_UNSUPPORTED_PROTOCOL
 * by sio_eio_server_open.
 * Errors: SIO_ERR_EIO_TRANSPORT_UNKNOWN, SIO_ERR_EIO_WS_HANDSHAKE, SIO_ERR_EIO_BAD_METHOD,
 * SIO_ERR_EIO_BAD_REQUEST. */
SIO_API sio_err sio_eio_request_read(const sio_http_request *req, const sio_eio_server_config *cfg,
                                     sio_eio_request *out);

/* The HTTP answer to a refused request. */
typedef struct sio_eio_refusal {
    int status;          /* HTTP status (101: accept the WebSocket, then close it with 1000) */
    int code;            /* Engine.IO error code of a JSON body {"code":N,"message":"…"}; -1 for
                            an empty body, or for the raw text of a refused WebSocket upgrade */
    const char *message; /* the body's message (JSON or, for WebSocket upgrades, raw text) */
} sio_eio_refusal;

/* Maps an error of sio_eio_request_read, sio_eio_server_open, sio_eio_server_request or
 * sio_eio_server_upgrade to its answer; `websocket` = the request asked for an upgrade (refused
 * upgrades get a raw 400 text body and the connection is closed, EIO-HS-13). */
SIO_API sio_eio_refusal sio_eio_refusal_for(sio_err rc, bool websocket);

/* ------------------------------------------------------------------ session */

typedef enum sio_eio_server_state {
    SIO_EIO_SERVER_POLLING = 0,   /* carried by long-polling */
    SIO_EIO_SERVER_PROBING = 1,   /* a WebSocket is open for an upgrade, "2probe" not yet seen */
    SIO_EIO_SERVER_PROBED = 2,    /* "3probe" sent, waiting for "5" */
    SIO_EIO_SERVER_WEBSOCKET = 3, /* carried by a WebSocket */
    SIO_EIO_SERVER_CLOSED = 4     /* ended; CLOSED event returned or pending */
} sio_eio_server_state;

typedef enum sio_eio_channel {
    SIO_EIO_CHANNEL_GET = 0,       /* the held long-poll GET */
    SIO_EIO_CHANNEL_POST = 1,      /* the POST whose body was handed in */
    SIO_EIO_CHANNEL_WEBSOCKET = 2, /* the WebSocket carrying the session */
    SIO_EIO_CHANNEL_PROBE = 3      /* the WebSocket probed for an upgrade */
} sio_eio_channel;

/* Why a session ended, with Node's reason strings (SIO-DC-05). */
typedef enum sio_eio_close_reason {
    SIO_EIO_REASON_TRANSPORT_CLOSE = 0,     /* "transport close" */
    SIO_EIO_REASON_PING_TIMEOUT = 1,        /* "ping timeout" */
    SIO_EIO_REASON_PARSE_ERROR = 2,         /* "parse error" */
    SIO_EIO_REASON_TRANSPORT_ERROR = 3,     /* "transport error" */
    SIO_EIO_REASON_FORCED_SERVER_CLOSE = 4, /* "forced server close" */
    SIO_EIO_REASON_FORCED_CLOSE = 5,        /* "forced close" */
    SIO_EIO_REASON_SERVER_SHUTDOWN = 6,     /* "server shutting down" */
    SIO_EIO_REASON_CLIENT_DISCONNECT = 7    /* "io client disconnect" (client side) */
} sio_eio_close_reason;

/* Node's string for a reason; "unknown" for a value outside the enum. */
SIO_API const char *sio_eio_close_reason_name(sio_eio_close_reason r);

typedef enum sio_eio_server_event_type {
    SIO_EIO_SERVER_EV_NONE = 0,     /* nothing more for now */
    SIO_EIO_SERVER_EV_RESPOND = 1,  /* answer the request on `channel` (GET or POST): 200,
                                       `content_type`, body `data`; the channel is released */
    SIO_EIO_SERVER_EV_WS_SEND = 2,  /* one WebSocket message on `channel` (WEBSOCKET or PROBE):
                                       text, or binary when `binary` */
    SIO_EIO_SERVER_EV_WS_CLOSE = 3, /* close the WebSocket `channel` with `close_code`; it no
                                       longer carries the session */
    SIO_EIO_SERVER_EV_MESSAGE = 4,  /* a message for the application (binary when `binary`) */
    SIO_EIO_SERVER_EV_CLOSED = 5,   /* the session ended with `reason`; nothing follows: free it.
                                       `by_application` when sio_eio_server_close asked */
    SIO_EIO_SERVER_EV_UPGRADED = 6  /* the upgrade completed: the PROBE channel's WebSocket is
                                       now the WEBSOCKET channel */
} sio_eio_server_event_type;

typedef struct sio_eio_server_event {
    sio_eio_server_event_type type;
    sio_eio_channel channel;
    bool binary;
    bool by_application;
    uint16_t close_code;
    sio_eio_close_reason reason;
    uint8_t channels_left; /* CLOSED: channels (bit 1 << sio_eio_channel) the session could not
                              answer for lack of memory: the caller drops their connections */
    const char *content_type;
    sio_span data;
} sio_eio_server_event;

/* An outgoing packet or event (private). */
typedef struct sio_eio_item sio_eio_item;

typedef struct sio_eio_item_list {
    sio_eio_item *head, *tail;
    uint32_t count;
} sio_eio_item_list;

/* Session state. Fields are private: use the functions below. */
typedef struct sio_eio_server {
    const sio_eio_server_config *cfg; /* the caller's, kept alive for the session's life */
    sio_eio_server_state state;
    uint8_t protocol;   /* 4 or 3 */
    uint8_t channels;   /* bit per sio_eio_channel currently attached */
    bool b64;           /* binary as base64 text */
    bool jsonp;         /* JSONP polling */
    bool closing;       /* the application closed it; the queue goes out first */
    bool in_input;      /* a POST body or WebSocket message is being delivered */
    bool input_is_post; /* ... from a POST (answered "ok" when done) */
    bool post_octets;   /* the open POST is application/octet-stream (v3 XHR2 body) */
    bool has_ws_packet; /* the WebSocket input's packet is not yet handled */
    bool has_deferred;  /* a termination waits for the end of the input */
    bool deferred_app_close;
    bool closed_reported; /* the CLOSED event was returned */
    bool by_application;
    sio_eio_close_reason reason; /* deferred or final */
    uint8_t deferred_reply;      /* packet type the held GET gets on the deferred termination */
    char sid[SIO_EIO_MAX_SID_LEN + 1];
    uint8_t sid_len;
    char jsonp_index[SIO_EIO_JSONP_MAX_INDEX_DIGITS + 1];
    uint64_t ping_due;        /* v4: next ping; UINT64_MAX = none */
    uint64_t pong_due;        /* v4: pong awaited by then; v3: client ping awaited by then */
    uint64_t upgrade_due;     /* the probe must finish by then */
    sio_eio_item_list queue;  /* packets waiting for a GET */
    sio_eio_item_list events; /* events not yet returned */
    sio_eio_item *current;    /* the event last returned (freed on the next call) */
    uint8_t *unwrapped;       /* a JSONP POST's decoded payload, freed when the input is done */
    uint8_t *scratch;         /* the base64 record last delivered, decoded; freed at the next
                                 one or when the input is done */
    uint64_t input_now;       /* the time the input was handed in */
    union {
        sio_eio_payload_iter post; /* a POST body */
        sio_eio_packet ws;         /* a WebSocket message */
    } input;
} sio_eio_server;

/* Opens a session for a handshake request (kind SIO_EIO_REQUEST_HANDSHAKE) with the caller's
 * session id (unique among the caller's sessions; at most SIO_EIO_MAX_SID_LEN bytes, URL-safe).
 * Over polling the handshake GET becomes the held GET and is answered at once with the open
 * packet; over WebSocket the open packet is the first message. `cfg` must outlive the session.
 * Errors (no session was created): SIO_ERR_EIO_UNSUPPORTED_PROTOCOL, SIO_ERR_INVALID_ARGUMENT. */
SIO_API sio_err sio_eio_server_open(sio_eio_server *s, const sio_eio_server_config *cfg,
                                    const sio_eio_request *req, const char *sid, size_t sid_len,
                                    uint64_t now_ms);

/* A GET, POST or other method naming this session over HTTP (kind SIO_EIO_REQUEST_POLL).
 * SIO_OK: a GET is held (the RESPOND event answers it); a POST's body is to be read and handed
 * to sio_eio_server_post_body. Errors (the request is answered per sio_eio_refusal_for; the
 * first three also end the session): SIO_ERR_EIO_OVERLAPPING_GET, SIO_ERR_EIO_OVERLAPPING_POST,
 * SIO_ERR_EIO_BINARY_POST, SIO_ERR_EIO_CHUNKED_POST, SIO_ERR_EIO_PAYLOAD_TOO_LARGE,
 * SIO_ERR_EIO_BAD_REQUEST (wrong transport), SIO_ERR_EIO_BAD_METHOD_ON_SESSION,
 * SIO_ERR_EIO_SESSION_CLOSED. */
SIO_API sio_err sio_eio_server_request(sio_eio_server *s, const sio_eio_request *req,
                                       uint64_t now_ms);

/* The body of the POST accepted by sio_eio_server_request. Its packets are delivered by
 * next_event(); the POST is answered "ok" after the last one. The bytes must stay valid (and
 * unchanged) until next_event() returns NONE. */
SIO_API sio_err sio_eio_server_post_body(sio_eio_server *s, const uint8_t *body, size_t len,
                                         uint64_t now_ms);

/* A WebSocket for this session (kind SIO_EIO_REQUEST_UPGRADE). SIO_OK: switch protocols; the
 * WebSocket is the PROBE channel. SIO_ERR_EIO_SECOND_WEBSOCKET: switch protocols, then close it
 * with 1000 (one WebSocket per session). SIO_ERR_EIO_SESSION_UNKNOWN: refuse before switching
 * (the session is closing). */
SIO_API sio_err sio_eio_server_upgrade(sio_eio_server *s, const sio_eio_request *req,
                                       uint64_t now_ms);

/* One whole WebSocket message on `channel` (WEBSOCKET or PROBE). Same lifetime rule as a POST
 * body. */
SIO_API sio_err sio_eio_server_ws_message(sio_eio_server *s, sio_eio_channel channel, bool text,
                                          const uint8_t *p, size_t n, uint64_t now_ms);

/* The caller lost a channel (peer closed, I/O error, WebSocket protocol error). */
SIO_API void sio_eio_server_channel_lost(sio_eio_server *s, sio_eio_channel channel,
                                         uint64_t now_ms);

/* A message from the application. SIO_ERR_EIO_SESSION_CLOSED once closed or closing;
 * SIO_ERR_EIO_QUEUE_FULL when max_queued packets wait for a GET (the message is dropped);
 * SIO_ERR_UTF8_* for text that is not UTF-8; SIO_ERR_EIO_SEPARATOR_IN_TEXT for v4 text holding
 * 0x1E that would have to wait for a polling GET (over WebSocket it is sent). */
SIO_API sio_err sio_eio_server_send(sio_eio_server *s, bool binary, const uint8_t *p, size_t n,
                                    uint64_t now_ms);

/* True when a message sent now leaves at once (WebSocket, or a GET is held): volatile packets
 * are dropped otherwise, as Node does (SIO-BC-07). */
SIO_API bool sio_eio_server_writable(const sio_eio_server *s);

/* The application closes the session: over WebSocket at once, over polling after the queued
 * packets went out with the next GET (the GET after it gets "1"). */
SIO_API void sio_eio_server_close(sio_eio_server *s, uint64_t now_ms);

/* Ends the session at once with `reason` (e.g. SIO_EIO_REASON_SERVER_SHUTDOWN), the held GET
 * answered "1". */
SIO_API void sio_eio_server_abort(sio_eio_server *s, sio_eio_close_reason reason, uint64_t now_ms);

/* Handles every deadline that has passed by `now_ms`. */
SIO_API void sio_eio_server_timeout(sio_eio_server *s, uint64_t now_ms);

/* The earliest deadline, or UINT64_MAX when none is set. */
SIO_API uint64_t sio_eio_server_next_deadline(const sio_eio_server *s);

/* The next event: SIO_OK with ev->type NONE when there is nothing more for now. Errors only for
 * allocation failure (SIO_ERR_NO_MEMORY; the session is then closed). */
SIO_API sio_err sio_eio_server_next_event(sio_eio_server *s, sio_eio_server_event *ev);

/* Releases the session's memory (any state). */
SIO_API void sio_eio_server_free(sio_eio_server *s);

SIO_API sio_eio_server_state sio_eio_server_state_of(const sio_eio_server *s);
SIO_API int sio_eio_server_protocol(const sio_eio_server *s);
SIO_API sio_span sio_eio_server_sid(const sio_eio_server *s);
/* The transport carrying the session: true for WebSocket. */
SIO_API bool sio_eio_server_on_websocket(const sio_eio_server *s);

#endif
