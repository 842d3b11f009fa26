/* Engine.IO packets and polling payloads, protocol v4 and v3 (for older peers).
 *
 * Wire forms handled here (REQUIREMENTS.md group A, EIO-PKT-*):
 *   text packet        '<type 0-6>[<UTF-8 data>]'             WS text frame, or one payload record
 *   v4 base64 record   'b<base64>'                             binary message in a polling payload
 *   v3 base64 record   'b<type><base64>'                       binary packet in a v3 text payload
 *   v4 binary frame    raw bytes (always a message)            WS binary frame
 *   v3 binary frame    '<type byte 0x00-0x06><bytes>'          WS binary frame
 *   v4 payload         records joined by 0x1E
 *   v3 text payload    '<len>:<record>' repeated, len in UTF-16 code units; the body '0:'
 *                      alone is the payload without packets
 *   v3 XHR2 payload    <00|01><one byte per decimal digit>FF<packet> repeated
 *   JSONP              GET body '___eio[<n>]("<JSON string>");', POST body 'd=<form-encoded>'
 *   WebTransport       1/3/9-byte length header (top bit = binary) + packet
 *   open packet        '0{"sid":…,"upgrades":[…],"pingInterval":N,"pingTimeout":N,"maxPayload":N}'
 *
 * Decoders are strict by default. Setting `compat` in sio_eio_options reproduces what the Node.js
 * reference (engine.io 6 / engine.io-parser 5) accepts where the specification is silent; each
 * difference is listed at the option and in vectors/eio/README.md.
 */
#ifndef SIO_EIO_H
#define SIO_EIO_H

#include "sio/common.h"

/* ------------------------------------------------------------------ limits */

/* Records accepted in one polling payload unless sio_eio_options.max_records says otherwise.
 * A 1 000 000-byte body (Node's default maxHttpBufferSize) holds at most 500 000 v4 records. */
#define SIO_EIO_DEFAULT_MAX_RECORDS 500000u
/* WebTransport: largest packet accepted unless sio_eio_options.max_payload says otherwise
 * (Node passes its maxHttpBufferSize, 1 000 000 by default). */
#define SIO_EIO_DEFAULT_MAX_PAYLOAD 1000000u
/* v3 length prefixes (text '<len>:' and XHR2 digit bytes) may have at most this many digits
 * (leading zeros included, which only compat mode accepts). Node stops at 310 characters. */
#define SIO_EIO_V3_MAX_LENGTH_DIGITS 10u
/* JSONP callback index: at most this many decimal digits. */
#define SIO_EIO_JSONP_MAX_INDEX_DIGITS 10u
/* Open packet: at most this many entries in "upgrades". */
#define SIO_EIO_OPEN_MAX_UPGRADES 4u
/* Open packet: timing and size values are integers in 0 .. 2^53-1 (JavaScript's safe range). */
#define SIO_EIO_OPEN_MAX_NUMBER 9007199254740991ull

/* ------------------------------------------------------------------ types */

typedef enum sio_eio_type {
    SIO_EIO_OPEN = 0,
    SIO_EIO_CLOSE = 1,
    SIO_EIO_PING = 2,
    SIO_EIO_PONG = 3,
    SIO_EIO_MESSAGE = 4,
    SIO_EIO_UPGRADE = 5,
    SIO_EIO_NOOP = 6
} sio_eio_type;

/* Where a packet came from: the same bytes mean different things on different transports. */
typedef enum sio_eio_frame {
    SIO_EIO_FRAME_RECORD = 0,   /* one record of a polling payload (always text) */
    SIO_EIO_FRAME_WS_TEXT = 1,  /* a WebSocket text frame (or a WebTransport text packet) */
    SIO_EIO_FRAME_WS_BINARY = 2 /* a WebSocket binary frame */
} sio_eio_frame;

/* How an encoder writes a packet. */
typedef enum sio_eio_encoding {
    SIO_EIO_ENC_TEXT = 0,   /* '<digit><data>'; data must be UTF-8 */
    SIO_EIO_ENC_BASE64 = 1, /* v4 'b<base64>' (messages only), v3 'b<digit><base64>' */
    SIO_EIO_ENC_BINARY =
        2 /* WS binary frame: v4 the bytes as is (messages only), v3 type byte + bytes */
} sio_eio_encoding;

/* A decoded packet. `data` is a view into the decoded input.
 *   binary = false:               data is UTF-8 text (possibly empty).
 *   binary = true, base64 = false: data is the raw bytes.
 *   binary = true, base64 = true:  data is the base64 text of a 'b' record; sio_eio_packet_binary()
 *                                  turns it into bytes in a caller buffer.
 * Encoders read the same struct; with binary and base64 both set they copy the base64 text as is. */
typedef struct sio_eio_packet {
    sio_eio_type type;
    bool binary;
    bool base64;
    sio_span data;
} sio_eio_packet;

/* Decoder options; a zeroed struct (or NULL) means strict with default limits.
 *
 * compat = true accepts what Node accepts where the spec is silent:
 *   - base64 is decoded like Buffer.from(s, "base64") (SIO_BASE64_LENIENT)       EIO-PKT-08
 *   - a v4 'b' record with no base64 text is a zero-length binary message          EIO-PKT-08
 *   - 'b' text frames on WebSocket are binary messages even without b64            EIO-PKT-09
 *   - v3 length prefixes may have leading zeros ('06:4hello')                      EIO-PKT-15
 *   - v3 text: a '0:' record beside other records is skipped, as engine.io-parser
 *     2.x does (strict: SIO_ERR_EIO_EMPTY_RECORD; a record holds a packet, and a
 *     packet has at least its type; the 2.x encoder writes '0:' only as the whole
 *     body of an empty payload, which both modes accept)                           EIO-PKT-15
 *   - v3 XHR2: any marker byte other than 00 means binary, a length running past
 *     the end is cut short, and an empty body is an empty payload                 EIO-PKT-17
 *   - WebTransport: non-minimal length headers (126 + u16 below 126, …)            EIO-PKT-21
 *   - JSONP POST bodies: a malformed %XX escape is kept as literal text            EIO-PKT-20
 * Strict rejects each of these with a named error. Both modes reject empty v4 records, unknown
 * types and invalid UTF-8 (Node turns those into an error packet and closes the session). */
typedef struct sio_eio_options {
    bool compat;
    /* The session was opened with b64=1: base64 'b' text frames on WebSocket are expected
     * (EIO-PKT-10), so strict mode accepts them too. */
    bool b64;
    size_t max_records;   /* 0 = SIO_EIO_DEFAULT_MAX_RECORDS */
    uint64_t max_payload; /* WebTransport packet size limit; 0 = SIO_EIO_DEFAULT_MAX_PAYLOAD */
} sio_eio_options;

/* ------------------------------------------------------------------ packets */

/* Decodes one packet. `protocol` is 3 or 4 (else SIO_ERR_INVALID_ARGUMENT); `opt` may be NULL.
 * Errors: SIO_ERR_EIO_EMPTY_PACKET, SIO_ERR_EIO_UNKNOWN_TYPE, SIO_ERR_EIO_EMPTY_BINARY,
 * SIO_ERR_EIO_BASE64_ON_WEBSOCKET, SIO_ERR_BASE64_* (strict base64), SIO_ERR_UTF8_*. */
SIO_API sio_err sio_eio_packet_decode(int protocol, sio_eio_frame frame, const uint8_t *p, size_t n,
                                      const sio_eio_options *opt, sio_eio_packet *out);

/* The bytes of a binary packet: copies raw data, or decodes base64 data (leniently when
 * `compat`). A text packet gives SIO_ERR_INVALID_ARGUMENT. Encoder conventions apply. */
SIO_API sio_err sio_eio_packet_binary(const sio_eio_packet *pkt, bool compat, uint8_t *out,
                                      size_t cap, size_t *written);

/* Encodes one packet. For SIO_EIO_ENC_TEXT `data` must be valid UTF-8 (SIO_ERR_UTF8_*); v4
 * base64 and binary encodings are for messages only (SIO_ERR_INVALID_ARGUMENT otherwise). */
SIO_API sio_err sio_eio_packet_encode(int protocol, sio_eio_type type, sio_eio_encoding enc,
                                      const uint8_t *data, size_t n, uint8_t *out, size_t cap,
                                      size_t *written);

/* ------------------------------------------------------------------ polling payloads */

typedef enum sio_eio_payload_format {
    SIO_EIO_PAYLOAD_V4 = 0,       /* records joined by 0x1E */
    SIO_EIO_PAYLOAD_V3_TEXT = 1,  /* '<len>:<record>' */
    SIO_EIO_PAYLOAD_V3_BINARY = 2 /* XHR2: <marker><digit bytes>FF<packet> */
} sio_eio_payload_format;

/* Reads a payload one packet at a time. v4: each record is checked when it is reached, so a
 * server can dispatch the packets before a bad one, as Node does; use sio_eio_payload_validate
 * first to reject the whole body instead. v3 (both formats): the first call checks the whole
 * payload, so a framing or packet error anywhere rejects it before any packet is returned. */
typedef struct sio_eio_payload_iter {
    sio_eio_payload_format format;
    sio_eio_options opt;
    const uint8_t *p;
    size_t len;
    size_t pos;   /* offset of the next record */
    size_t count; /* packets returned so far */
    sio_err err;  /* sticky: once an error is returned, every later call returns it */
    bool checked; /* v3: the whole payload was validated; v4: the whole body is UTF-8 */
} sio_eio_payload_iter;

SIO_API void sio_eio_payload_iter_init(sio_eio_payload_iter *it, sio_eio_payload_format format,
                                       const uint8_t *p, size_t n, const sio_eio_options *opt);

/* SIO_OK and *has = true with the next packet in *pkt; SIO_OK and *has = false at the end;
 * otherwise an error (SIO_ERR_EIO_*), which is then returned by every later call. */
SIO_API sio_err sio_eio_payload_next(sio_eio_payload_iter *it, sio_eio_packet *pkt, bool *has);

/* Checks a whole payload without yielding packets; *count (may be NULL) gets the packet count. */
SIO_API sio_err sio_eio_payload_validate(sio_eio_payload_format format, const uint8_t *p, size_t n,
                                         const sio_eio_options *opt, size_t *count);

/* Encodes packets (see sio_eio_packet for how binary data is given). Binary packets are written
 * as base64 records in the text formats and as type byte + bytes in the XHR2 format, which needs
 * raw bytes (base64 = true there is SIO_ERR_INVALID_ARGUMENT). An empty list is
 * SIO_ERR_INVALID_ARGUMENT in v4 and XHR2 (an empty body does not decode) and '0:' in v3 text.
 * Text, and base64 text given as is, must be UTF-8 (SIO_ERR_UTF8_*); in v4, whose records are
 * joined by 0x1E, it must not hold that byte (SIO_ERR_EIO_SEPARATOR_IN_TEXT). */
SIO_API sio_err sio_eio_payload_encode(sio_eio_payload_format format, const sio_eio_packet *pkts,
                                       size_t count, uint8_t *out, size_t cap, size_t *written);

/* ------------------------------------------------------------------ JSONP (EIO-PKT-20) */

/* GET body: '___eio[' index '](' JSON string of payload ');', escaped like JSON.stringify plus
 * \u2028 and \u2029. `index` is the decimal digits of the j query value (may be empty; the
 * server drops non-digits, as Node does). Payload must be UTF-8. */
SIO_API sio_err sio_eio_jsonp_encode(const uint8_t *index, size_t index_len, const uint8_t *payload,
                                     size_t n, uint8_t *out, size_t cap, size_t *written);

/* Parses a GET body back: *index views the digits; the unescaped payload goes to out.
 * Errors: SIO_ERR_EIO_JSONP_FORMAT, SIO_ERR_EIO_JSONP_INDEX, JSON string errors. */
SIO_API sio_err sio_eio_jsonp_decode(const uint8_t *p, size_t n, sio_span *index, uint8_t *out,
                                     size_t cap, size_t *written);

/* POST body: 'd=' + the payload form-encoded after the client's newline escaping (a literal
 * backslash-n becomes backslash-backslash-n, a newline becomes backslash-n). */
SIO_API sio_err sio_eio_jsonp_post_encode(const uint8_t *payload, size_t n, uint8_t *out,
                                          size_t cap, size_t *written);

/* Extracts the payload of a POST body: the single 'd' field of an
 * application/x-www-form-urlencoded body ('+' is a space, %XX escapes), then undoes the newline
 * escaping. Strict rejects malformed %XX escapes; compat keeps them literally (Node's qs).
 * Errors: SIO_ERR_EIO_FORM_NO_DATA, SIO_ERR_EIO_FORM_ESCAPE, SIO_ERR_UTF8_*. */
SIO_API sio_err sio_eio_jsonp_post_decode(const uint8_t *p, size_t n, const sio_eio_options *opt,
                                          uint8_t *out, size_t cap, size_t *written);

/* ------------------------------------------------------------------ WebTransport (EIO-PKT-21) */

/* Decodes the packet at the start of a WebTransport stream buffer. SIO_OK with *consumed > 0:
 * a packet was decoded (text packets as WS text frames, binary ones as v4 binary frames);
 * SIO_OK with *consumed = 0: more bytes are needed. A header announcing zero bytes or more
 * than max_payload is rejected as soon as it is complete.
 * Errors: SIO_ERR_EIO_WT_ZERO_LENGTH, SIO_ERR_EIO_WT_TOO_LARGE, SIO_ERR_EIO_WT_NON_MINIMAL,
 * and those of sio_eio_packet_decode. */
SIO_API sio_err sio_eio_wt_decode(const uint8_t *p, size_t n, const sio_eio_options *opt,
                                  sio_eio_packet *pkt, size_t *consumed);

/* Encodes one packet with its header: binary packets (raw message bytes, at least one) set the
 * top bit; text packets are '<digit><data>'. Other binary packets: SIO_ERR_INVALID_ARGUMENT. */
SIO_API sio_err sio_eio_wt_encode(const sio_eio_packet *pkt, uint8_t *out, size_t cap,
                                  size_t *written);

/* ------------------------------------------------------------------ open packet */

/* The handshake data. Strings are views of JSON string contents; when *_escaped is set they
 * still contain backslash escapes (undo them with the JSON layer's string unescape). */
typedef struct sio_eio_open {
    sio_span sid;
    bool sid_escaped;
    sio_span upgrades[SIO_EIO_OPEN_MAX_UPGRADES];
    bool upgrade_escaped[SIO_EIO_OPEN_MAX_UPGRADES];
    size_t upgrade_count;
    bool has_upgrades; /* v3 may omit "upgrades" */
    uint64_t ping_interval;
    uint64_t ping_timeout;
    uint64_t max_payload;
    bool has_max_payload; /* v3 may omit "maxPayload" */
} sio_eio_open;

/* Writes '0{"sid":…,"upgrades":[…],"pingInterval":N,"pingTimeout":N,"maxPayload":N}' in exactly
 * that key order (upgrades/maxPayload left out when has_* is false). Strings are JSON-escaped. */
SIO_API sio_err sio_eio_open_encode(const sio_eio_open *o, uint8_t *out, size_t cap,
                                    size_t *written);

/* Parses an open packet ('0' + JSON object, as a text packet). v4: exactly the five keys, in any
 * order; v3: sid, pingInterval and pingTimeout required, upgrades and maxPayload optional.
 * Errors: SIO_ERR_EIO_OPEN_NOT_OPEN, SIO_ERR_EIO_OPEN_KEY, SIO_ERR_EIO_OPEN_TYPE,
 * SIO_ERR_EIO_OPEN_TOO_MANY_UPGRADES, JSON errors. */
SIO_API sio_err sio_eio_open_decode(int protocol, const uint8_t *p, size_t n, sio_eio_open *o);

/* The same packet as a client reads it: keys it does not know are skipped and `upgrades` and
 * `maxPayload` are optional in v4 too (a client must accept an open packet with extra keys,
 * CEIO-HS-06); sid, pingInterval and pingTimeout are required, a known key twice is still
 * SIO_ERR_EIO_OPEN_KEY and a value of the wrong type SIO_ERR_EIO_OPEN_TYPE. */
SIO_API sio_err sio_eio_open_read(int protocol, const uint8_t *p, size_t n, sio_eio_open *o);

#endif
