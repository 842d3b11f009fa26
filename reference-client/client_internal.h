/* The reference client's internals: connections (links), byte buffers, the client struct. */
#ifndef RC_CLIENT_INTERNAL_H
#define RC_CLIENT_INTERNAL_H

#include "rc.h"

/* ------------------------------------------------------------------ buffers */

/* Bytes with a consumed prefix: data is p[off..len). */
typedef struct rc_buf {
    uint8_t *p;
    size_t len, cap, off;
} rc_buf;

bool rc_buf_append(rc_buf *b, const void *p, size_t n);
bool rc_buf_printf(rc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rc_buf_consume(rc_buf *b, size_t n);
void rc_buf_clear(rc_buf *b);
void rc_buf_free(rc_buf *b);
static inline size_t rc_buf_size(const rc_buf *b)
{
    return b->len - b->off;
}
static inline uint8_t *rc_buf_data(const rc_buf *b)
{
    return b->p ? b->p + b->off : NULL;
}

/* ------------------------------------------------------------------ links */

typedef enum rc_link_state {
    RC_LINK_CONNECTING = 0, /* TCP connect in progress; the first request waits in `out` */
    RC_LINK_IDLE = 1,       /* open, nothing in flight (a kept-alive polling connection) */
    RC_LINK_REQUEST = 2,    /* an HTTP request went out; its response is being read */
    RC_LINK_UPGRADING = 3,  /* the WebSocket opening handshake went out */
    RC_LINK_WEBSOCKET = 4,  /* a WebSocket */
    RC_LINK_LINGER = 5,     /* the client is done with it; the last bytes finish (RC_LINGER_MS) */
    RC_LINK_DEAD = 6        /* closed; freed at the end of the round */
} rc_link_state;

struct rc_link {
    rc_client *client;
    rc_link *next; /* every link of the client */
    int id;
    sio_eio_channel channel;
    rc_link_state state;
    bool attached; /* the session's channel maps to this link */
    bool websocket;
    bool close_after; /* the current response ends the connection */
    bool reused;      /* the current request went on a connection that had answered one */
    rc_buf request;   /* … and its bytes, sent again on a new connection if need be */
    bool close_sent;  /* WebSocket close frame written */
    /* Reported by the I/O side, handled by rc_client_process(). */
    bool connect_reported, closed_reported;
    int connect_err, closed_err;
    void *io_data;
    rc_buf out, in;
    uint64_t linger_due;
    /* The response being read. */
    sio_http_parser hp;
    sio_http_response resp;
    size_t head_len; /* 0 while the head is incomplete */
    sio_http_chunked chunked;
    rc_buf body;
    char content_type[128];
    /* The WebSocket. */
    sio_ws_parser wsp;
    rc_buf message; /* the data message being assembled */
    bool message_text;
    rc_buf frame; /* the payload of the frame being read, for the trace */
    rc_buf head;  /* the response head (`resp` views into it) */
    char ws_key[SIO_WS_KEY_LEN + 1];
};

/* ------------------------------------------------------------------ the client */

typedef struct rc_pending_ack rc_pending_ack;
typedef struct rc_nsp rc_nsp;

struct rc_client {
    rc_config cfg;
    char host[RC_MAX_HOST + 1];
    char *path, *query;
    sio_eio_client_config eio_cfg;
    sio_eio_client eio;
    sio_sio_client sio;
    bool started, closing, ever_open;
    rc_link *links;
    rc_link *by_channel[4];
    int next_link_id;
    rc_pending_ack *acks;
    rc_nsp *namespaces;
    char handshake_excerpt[96]; /* the start of the last handshake answer, for error messages */
    bool attempt_opened;        /* the Engine.IO session of this connection attempt opened */
    char attempt_error[600];    /* the first error of this attempt */
    uint64_t now;
};

/* link.c: one connection. */
rc_link *rc_link_new(rc_client *c, sio_eio_channel ch);
void rc_link_http_request(rc_link *l, const sio_eio_client_event *ev);
void rc_link_ws_open(rc_link *l, sio_span target);
void rc_link_ws_send(rc_link *l, uint8_t opcode, const uint8_t *p, size_t n);
void rc_link_ws_close(rc_link *l, uint16_t code);
void rc_link_linger(rc_link *l);
void rc_link_drop(rc_link *l, const char *why);
/* Acts on what the I/O side reported and on the input (calls back into client.c). */
void rc_link_process(rc_link *l);
void rc_link_free(rc_link *l);

/* client.c: what links report. */
void rc_client_response(rc_client *c, rc_link *l);
void rc_client_ws_opened(rc_client *c, rc_link *l);
void rc_client_ws_message(rc_client *c, rc_link *l, bool text, const uint8_t *p, size_t n);
void rc_client_link_failed(rc_client *c, rc_link *l, const char *message);
void rc_client_trace(rc_client *c, const rc_trace *t);
void rc_client_error(rc_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
