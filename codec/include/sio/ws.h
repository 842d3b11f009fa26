/* WebSocket (RFC 6455, version 13): frames, close payloads and the opening-handshake keys.
 *
 * Three parts:
 *   - an incremental frame parser (sio_ws_parser) fed with whatever a socket read returned, one
 *     byte or a megabyte; it unmasks payload bytes in place and hands back views into the
 *     caller's buffer, so a server never has to hold a whole frame or message;
 *   - encoders for frame headers, whole frames and close payloads;
 *   - Sec-WebSocket-Key validation and Sec-WebSocket-Accept computation.
 *
 * The parser enforces every MUST of RFC 6455 §5 that concerns received bytes: masking by role
 * (§5.1, §5.3), minimal length encodings and the 64-bit MSB (§5.2), reserved bits and opcodes
 * (§5.2), control frames at most 125 bytes and never fragmented (§5.5), fragmentation order
 * (§5.4), close payloads (§5.5.1, §7.4) and UTF-8 text (§8.1), plus a message size limit.
 * sio_ws_close_code_for() says which close code each failure calls for (§7.4.1).
 *
 * No extension is supported: RSV1-3 must be zero (no permessage-deflate).
 */
#ifndef SIO_WS_H
#define SIO_WS_H

#include "sio/common.h"
#include "sio/utf8.h"

/* ------------------------------------------------------------------ limits and constants */

/* Largest payload of a close, ping or pong frame (§5.5). */
#define SIO_WS_MAX_CONTROL_PAYLOAD 125u
/* Largest frame header: 2 bytes, 8 bytes of extended length, 4 bytes of mask key. */
#define SIO_WS_MAX_HEADER 14u
/* Message size limit a server gets unless it asks for another one: Engine.IO's default
 * maxHttpBufferSize, which the official server also applies to WebSocket messages (EIO-POLL-06). */
#define SIO_WS_DEFAULT_MAX_MESSAGE 1000000u
/* Length of a Sec-WebSocket-Accept value: base64 of a 20-byte SHA-1 digest. */
#define SIO_WS_ACCEPT_LEN 28u
/* Length of a valid Sec-WebSocket-Key: base64 of 16 bytes. */
#define SIO_WS_KEY_LEN 24u

typedef enum sio_ws_role {
    SIO_WS_ROLE_SERVER = 0, /* reads client frames: every frame MUST be masked */
    SIO_WS_ROLE_CLIENT = 1  /* reads server frames: no frame may be masked */
} sio_ws_role;

typedef enum sio_ws_opcode {
    SIO_WS_OP_CONTINUATION = 0x0,
    SIO_WS_OP_TEXT = 0x1,
    SIO_WS_OP_BINARY = 0x2,
    SIO_WS_OP_CLOSE = 0x8,
    SIO_WS_OP_PING = 0x9,
    SIO_WS_OP_PONG = 0xA
} sio_ws_opcode;

/* Close status codes this library names (§7.4.1). */
#define SIO_WS_CLOSE_NORMAL           1000u
#define SIO_WS_CLOSE_GOING_AWAY       1001u
#define SIO_WS_CLOSE_PROTOCOL_ERROR   1002u
#define SIO_WS_CLOSE_UNSUPPORTED_DATA 1003u
#define SIO_WS_CLOSE_NO_STATUS        1005u /* never on the wire: "the close frame had no code" */
#define SIO_WS_CLOSE_ABNORMAL         1006u /* never on the wire: "no close frame at all" */
#define SIO_WS_CLOSE_INVALID_PAYLOAD  1007u
#define SIO_WS_CLOSE_POLICY           1008u
#define SIO_WS_CLOSE_TOO_BIG          1009u
#define SIO_WS_CLOSE_INTERNAL_ERROR   1011u

/* ------------------------------------------------------------------ frame headers */

/* The fields of a frame header (§5.2). `rsv` holds RSV1 RSV2 RSV3 as bits 2 1 0. */
typedef struct sio_ws_frame_header {
    uint64_t payload_len;
    bool fin;
    bool masked;
    uint8_t rsv;
    uint8_t opcode;
    uint8_t mask[4];
} sio_ws_frame_header;

/* Decodes the header at the start of `p`, checking everything a single header can break:
 * RSV bits, reserved opcodes, control frames longer than 125 bytes or without FIN, masking
 * against `role`, non-minimal lengths and the 64-bit MSB. On SIO_OK *header_len is its size.
 * When `len` is too short to say, SIO_ERR_WS_TRUNCATED with *header_len set to the bytes
 * needed so far (2 until the second byte is known). Each rule is applied as soon as the bytes
 * it needs are there (RSV, opcode and control FIN on the first byte), so a bad frame fails
 * at the earliest byte that shows it. */
SIO_API sio_err sio_ws_header_decode(const uint8_t *p, size_t len, sio_ws_role role,
                                     sio_ws_frame_header *h, size_t *header_len);

/* Size of the header for this payload length: 2, 4 or 10 bytes, plus 4 when masked. */
SIO_API size_t sio_ws_header_size(uint64_t payload_len, bool masked);

/* Writes the header in its minimal form. It writes what it is told, reserved bits and opcodes
 * and oversized control frames included, so that a test client can send broken frames; it
 * only refuses what cannot be expressed (opcode > 15, rsv > 7, length >= 2^63):
 * SIO_ERR_INVALID_ARGUMENT. */
SIO_API sio_err sio_ws_header_encode(const sio_ws_frame_header *h, uint8_t *out, size_t cap,
                                     size_t *written);

/* Writes a whole frame: the header of `h` with payload_len = len, then the payload, masked
 * with h->mask when h->masked. `payload` and `out` must not overlap. */
SIO_API sio_err sio_ws_frame_encode(const sio_ws_frame_header *h, const uint8_t *payload,
                                    size_t len, uint8_t *out, size_t cap, size_t *written);

/* XORs `len` bytes in place with the mask key, starting at byte `offset` of the payload (so a
 * payload can be (un)masked piece by piece). Masking and unmasking are the same operation. */
SIO_API void sio_ws_mask(uint8_t *p, size_t len, const uint8_t key[4], uint64_t offset);

/* ------------------------------------------------------------------ incremental parser */

typedef enum sio_ws_event_type {
    SIO_WS_EV_NONE = 0,   /* all input absorbed; feed more bytes */
    SIO_WS_EV_DATA = 1,   /* a piece of a text or binary message */
    SIO_WS_EV_CONTROL = 2 /* a whole close, ping or pong frame */
} sio_ws_event_type;

/* One thing the parser found.
 *  DATA: `payload` is unmasked message bytes, a view into the buffer passed to the call; an
 *        empty frame gives one event with an empty payload. `text` says the message is text
 *        (then the bytes so far are valid UTF-8, checked as they arrive). The four flags place
 *        the piece: first/last piece of its frame, first/last piece of its message.
 *  CONTROL: `payload` is the whole unmasked payload, held inside the parser and valid until
 *        the next call. For a close frame, `close_code` is its status code (0 when the payload
 *        is empty) and `close_reason` its UTF-8 reason, both already validated.
 *  `frame` is the header of the frame the event comes from (mask key included). */
typedef struct sio_ws_event {
    sio_ws_event_type type;
    sio_ws_frame_header frame;
    sio_span payload;
    bool text;
    bool frame_start;
    bool frame_end;
    bool message_start;
    bool message_end;
    uint16_t close_code;
    sio_span close_reason;
} sio_ws_event;

/* Where the parser is in the byte stream (private to the parser). */
typedef enum sio_ws_parse_state {
    SIO_WS_PARSE_HEADER = 0,  /* collecting a frame header */
    SIO_WS_PARSE_PAYLOAD = 1, /* inside a frame's payload */
    SIO_WS_PARSE_CLOSED = 2,  /* a valid close frame was read; nothing may follow */
    SIO_WS_PARSE_FAILED = 3   /* a protocol error was returned; every later call returns it */
} sio_ws_parse_state;

/* Parser state. Fields are private: use the functions below. The struct is plain data (no
 * pointers into itself), so it may be copied between calls. */
typedef struct sio_ws_parser {
    uint64_t max_message;      /* limit on a data message's total payload, across fragments */
    uint64_t message_len;      /* payload bytes of the current data message so far */
    uint64_t frame_pos;        /* payload bytes of the current frame seen so far */
    sio_ws_frame_header frame; /* the frame being read */
    sio_utf8_state utf8;       /* validator for the current text message */
    sio_ws_parse_state state;  /* header, payload, closed or failed */
    sio_err error;             /* once failed, the error every later call returns */
    uint8_t role;              /* sio_ws_role */
    bool in_message;           /* a fragmented data message is open */
    bool message_text;         /* ... and it is text */
    uint8_t header_have;       /* header bytes collected in `header` */
    uint8_t header_need;       /* header bytes needed, as far as known */
    uint8_t control_have;      /* control payload bytes collected in `control` */
    uint8_t header[SIO_WS_MAX_HEADER];
    uint8_t control[SIO_WS_MAX_CONTROL_PAYLOAD];
} sio_ws_parser;

/* `max_message` bounds each data message (sum of its fragments' payloads); a frame whose
 * length would pass it fails as soon as its header is read (SIO_ERR_WS_MESSAGE_TOO_BIG).
 * Pass SIO_WS_DEFAULT_MAX_MESSAGE unless you have a reason, UINT64_MAX for no limit. */
SIO_API void sio_ws_parser_init(sio_ws_parser *p, sio_ws_role role, uint64_t max_message);

/* Reads from `data` until it has one event or has used all `len` bytes. Call again with the
 * rest (data + *consumed) until it returns SIO_WS_EV_NONE. `data` must be writable: payload
 * bytes are unmasked in place. Each call reports at most one event, so the views it returns
 * stay valid while the caller handles them.
 * Errors are final: the parser keeps returning the same error; send a close frame with
 * sio_ws_close_code_for(err) and drop the connection. On error *consumed counts the bytes up
 * to and including the one found bad (for a text message, the first byte that cannot be
 * UTF-8). After a close frame the stream is over: any further byte is
 * SIO_ERR_WS_DATA_AFTER_CLOSE. */
SIO_API sio_err sio_ws_parser_feed(sio_ws_parser *p, uint8_t *data, size_t len, size_t *consumed,
                                   sio_ws_event *ev);

/* True once a close frame has been read. */
SIO_API bool sio_ws_parser_closed(const sio_ws_parser *p);

/* sizeof the public structs, so bindings in other languages can check their mirrors. */
SIO_API size_t sio_ws_parser_sizeof(void);
SIO_API size_t sio_ws_event_sizeof(void);

/* The close code to send after a parser or close-payload error: 1009 when a message was too
 * big, 1007 when text or a close reason was not UTF-8, 1002 for any other WebSocket protocol
 * error, 1011 for anything else (not the peer's fault), 1000 for SIO_OK. */
SIO_API uint16_t sio_ws_close_code_for(sio_err err);

/* ------------------------------------------------------------------ close payloads */

/* True for codes a peer may send (§7.4.1, §7.4.2, IANA registry): 1000-1003, 1007-1014,
 * 3000-4999. 1004 (reserved), 1005, 1006 and 1015 (local-only), 0-999, 1016-2999 and 5000+
 * are not. */
SIO_API bool sio_ws_close_code_valid(uint16_t code);

/* Splits a received close payload (§5.5.1). Empty: *code = 0, empty reason. Otherwise a 2-byte
 * big-endian code that sio_ws_close_code_valid() accepts and a UTF-8 reason. Errors:
 * SIO_ERR_WS_CLOSE_PAYLOAD_LENGTH (1 byte), SIO_ERR_WS_CONTROL_TOO_LONG (over 125 bytes),
 * SIO_ERR_WS_CLOSE_CODE, SIO_ERR_WS_CLOSE_REASON_UTF8. */
SIO_API sio_err sio_ws_close_payload_decode(const uint8_t *p, size_t len, uint16_t *code,
                                            sio_span *reason);

/* Writes a close payload. code 0 writes an empty payload (then the reason must be empty);
 * otherwise the code must be valid and the reason UTF-8, 123 bytes at most. */
SIO_API sio_err sio_ws_close_payload_encode(uint16_t code, const uint8_t *reason, size_t reason_len,
                                            uint8_t *out, size_t cap, size_t *written);

/* ------------------------------------------------------------------ opening handshake */

/* SIO_OK when `key` (the header value, surrounding whitespace already removed) is strict
 * base64 of exactly 16 bytes (§4.1, §4.2.1 item 5), else SIO_ERR_WS_KEY_INVALID. A bad key
 * is found before any WebSocket exists: answer it with HTTP 400, not a close frame. */
SIO_API sio_err sio_ws_key_validate(const uint8_t *key, size_t len);

/* Sec-WebSocket-Accept: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) (§4.2.2).
 * Writes SIO_WS_ACCEPT_LEN bytes (no terminating NUL). Computes for any key, valid or not,
 * so a client can check a server's answer to a key it chose. */
SIO_API sio_err sio_ws_accept_compute(const uint8_t *key, size_t len, uint8_t *out, size_t cap,
                                      size_t *written);

#endif
