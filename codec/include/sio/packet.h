/* Socket.IO packets (protocol v5, and v4 for Engine.IO v3 peers) and binary attachments.
 *
 * Text form (one Engine.IO message, without its leading "4"):
 *
 *     <type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
 *
 * followed, for BINARY_EVENT/BINARY_ACK, by <attachments> binary Engine.IO messages whose places
 * in the payload are marked by {"_placeholder":true,"num":k} objects (k counts from 0).
 *
 * Decoding rules and the choices made where the protocol documents are silent or Node's
 * socket.io-parser is more lenient. "compat" is sio_pkt_options.compat: off by default (strict),
 * on to accept what Node accepts. Checklist IDs in brackets.
 *
 *   type         one character '0'..'6' [SIO-PKT-03]; anything else SIO_ERR_PKT_TYPE, in both
 *                modes also JavaScript whitespace, which Node reads as type 0 (Number(" ") is 0).
 *                An empty packet is SIO_ERR_PKT_EMPTY; compat decodes it as CONNECT "/" as
 *                Node's parser does [SIO-PKT-18].
 *   attachments  only for types 5/6, where it is mandatory: decimal digits then '-'
 *                [SIO-PKT-10]. No digits, or no '-' right after them ("51[", "5a-", "51.5-"):
 *                SIO_ERR_PKT_ATTACHMENTS. More than max_attachments (default 10):
 *                SIO_ERR_PKT_TOO_MANY_ATTACHMENTS. Zero ("50-"): SIO_ERR_PKT_ATTACHMENTS_ZERO,
 *                accepted in compat (socket.io-parser 4.2.6 accepts it, 4.2.7 rejects it).
 *                A leading zero ("501-"): SIO_ERR_PKT_LEADING_ZERO, accepted in compat.
 *                Node reads the field with Number(), so it also takes "+1", "1.", "1 ", "0x1",
 *                "1e0"; no encoder writes these and both modes reject them
 *                (SIO_ERR_PKT_ATTACHMENTS).
 *   namespace    present only when the next character is '/', read up to the first ','
 *                [SIO-PKT-02]; absent means "/" (and "/," also means "/"). Without a comma the
 *                namespace runs to the end of the packet, as in Node: "40/custom" is accepted in
 *                both modes because nothing follows it. Where that would swallow a payload
 *                (the namespace then contains '[', '{' or '"', e.g. `2/x1["a"]`), strict mode
 *                reports SIO_ERR_PKT_NSP_UNTERMINATED and compat returns the whole rest as the
 *                namespace, as Node does. Invalid UTF-8 in it: SIO_ERR_PKT_NSP_INVALID.
 *                v4 CONNECT only: a '?' in the namespace starts a query string, returned in
 *                `query` without the '?' [SIO-PKT-19].
 *   ack id       the run of decimal digits after the namespace [SIO-PKT-04]. Above 2^53-1
 *                (SIO_PKT_ACK_ID_MAX, the largest integer JavaScript represents exactly):
 *                SIO_ERR_PKT_ACK_ID_RANGE in both modes (Node would silently round it). A leading
 *                zero ("42007[...]"): SIO_ERR_PKT_LEADING_ZERO, accepted in compat as 7. On
 *                CONNECT, DISCONNECT and CONNECT_ERROR: SIO_ERR_PKT_ACK_ID_UNEXPECTED, accepted
 *                (and reported) in compat. ACK/BINARY_ACK without one: SIO_ERR_PKT_ACK_ID_MISSING,
 *                accepted in compat [SIO-PKT-18].
 *   payload      everything after the header, one RFC 8259 JSON text (sio/json.h; JSON errors are
 *                returned as their SIO_ERR_JSON_* code, so trailing garbage is
 *                SIO_ERR_JSON_TRAILING). It must start right after the header: whitespace there
 *                is SIO_ERR_PKT_PAYLOAD_SPACE in both modes (Node reads it as ack id 0), and
 *                JavaScript whitespace that JSON does not allow (form feed, vertical tab, U+00A0,
 *                ...), which Node also reads as ack id 0 (or as NaN inside the digits, "2123\f5"),
 *                is SIO_ERR_JSON_SYNTAX in both modes. A \u escape of an unpaired surrogate,
 *                which JSON.parse keeps, is SIO_ERR_JSON_SURROGATE in both modes.
 *                Per type [SIO-PKT-05]:
 *                  CONNECT        absent or object
 *                  DISCONNECT     absent (SIO_ERR_PKT_PAYLOAD_UNEXPECTED) [SIO-PKT-15]
 *                  EVENT, BINARY_EVENT  a non-empty array whose first element is a number or a
 *                                 string other than connect, connect_error, disconnect,
 *                                 disconnecting, newListener, removeListener [SIO-PKT-06,08];
 *                                 absent is SIO_ERR_PKT_PAYLOAD_MISSING, accepted in compat
 *                                 [SIO-PKT-07]
 *                  ACK, BINARY_ACK      absent or array
 *                  CONNECT_ERROR  string or object (v5); string (v4), object too in compat
 *                                 because Node sends one to v4 clients [SIO-PKT-19]; absent is
 *                                 SIO_ERR_PKT_PAYLOAD_MISSING, accepted in compat
 *                A wrong kind is SIO_ERR_PKT_PAYLOAD_KIND.
 *
 * Placeholders [SIO-PKT-11] are checked only when a binary packet's attachments are complete
 * (sio_pkt_assembler): every object whose (last) "_placeholder" member is the boolean true must
 * have a "num" member written as an integer (no fraction or exponent) in [0, attachments).
 * "_placeholder":"true" and the like leave the object a plain object. Placeholders in a non-binary
 * packet are plain objects. A binary packet with zero attachments (compat "50-") is complete at
 * once and its placeholders are checked then, so any placeholder in it is out of range.
 *
 * Encoding [SIO-PKT-01,02,09,16,17]: the root namespace is omitted, any other one is followed by
 * a comma; a namespace containing ',' is refused. EVENT/ACK are written as BINARY_EVENT/
 * BINARY_ACK (5/6) exactly when attachments > 0, and 5/6 with zero attachments as 2/3. The
 * payload is written verbatim and checked with the same rules as decoding (under the given
 * options), so the encoder never produces what the decoder rejects.
 */
#ifndef SIO_PACKET_H
#define SIO_PACKET_H

#include "sio/common.h"
#include "sio/json.h"

#define SIO_PKT_MAX_ATTACHMENTS_DEFAULT 10
#define SIO_PKT_ACK_ID_MAX              9007199254740991ULL /* 2^53 - 1 */

typedef enum sio_pkt_type {
    SIO_PKT_CONNECT = 0,
    SIO_PKT_DISCONNECT = 1,
    SIO_PKT_EVENT = 2,
    SIO_PKT_ACK = 3,
    SIO_PKT_CONNECT_ERROR = 4, /* "ERROR" in protocol v4 */
    SIO_PKT_BINARY_EVENT = 5,
    SIO_PKT_BINARY_ACK = 6
} sio_pkt_type;

typedef struct sio_pkt_options {
    int protocol;             /* 5 or 4 */
    bool compat;              /* accept what Node's socket.io-parser accepts (see above) */
    uint32_t max_attachments; /* attachments per binary packet */
    uint32_t json_max_depth;  /* payload nesting bound; 0 = SIO_JSON_MAX_DEPTH_DEFAULT */
} sio_pkt_options;

/* Protocol 5, strict, SIO_PKT_MAX_ATTACHMENTS_DEFAULT, default JSON depth. */
SIO_API void sio_pkt_options_init(sio_pkt_options *opt);

typedef struct sio_pkt {
    sio_pkt_type type;
    uint32_t attachments; /* announced count (types 5/6) */
    sio_span nsp;         /* namespace; "/" when absent */
    sio_span query;       /* v4 CONNECT: query string after '?', else empty */
    bool has_id;
    uint64_t id;   /* ack id, when has_id */
    sio_span data; /* JSON payload text; ptr NULL when absent */
} sio_pkt;

/* "CONNECT" ... "BINARY_ACK" ("ERROR" for type 4 under protocol 4); NULL for a bad type. */
SIO_API const char *sio_pkt_type_name(int type, int protocol);

/* Decodes one text packet. `opt` may be NULL (defaults). Views in *out point into `p` (or to a
 * static "/" for the root namespace). On error *err_at (may be NULL) is the offending offset. */
SIO_API sio_err sio_pkt_decode(const uint8_t *p, size_t len, const sio_pkt_options *opt,
                               sio_pkt *out, size_t *err_at);

/* Checks a (validated) payload against the rules for `type` under `opt` (see above). */
SIO_API sio_err sio_pkt_check_payload(int type, sio_span data, const sio_pkt_options *opt);

/* Checks every placeholder in the (validated) payload against `attachments`; *err_at (may be
 * NULL) gets the offset of the bad placeholder object in `data`. Each object is looked up on its
 * own, so the cost grows with length x nesting depth; the decoder, the assembler and the encoder
 * check their validated payloads in one pass instead, with the same results. */
SIO_API sio_err sio_pkt_check_placeholders(sio_span data, uint32_t attachments, size_t *err_at);

/* Encodes `pkt` as text (see the rules above). `opt` may be NULL. Needs `out`/`cap`/`*written`
 * as every encoder; the binary attachments are sent by the caller after this text. */
SIO_API sio_err sio_pkt_encode(const sio_pkt *pkt, const sio_pkt_options *opt, uint8_t *out,
                               size_t cap, size_t *written);

/* Encodes `pkt` as the Engine.IO message that carries it (v4 and v3 alike): "4" then the text
 * sio_pkt_encode writes. Byte for byte and error for error what sio_pkt_encode followed by
 * sio_eio_packet_encode(SIO_EIO_MESSAGE, SIO_EIO_ENC_TEXT) give, in one pass: the text is
 * checked once (a validated payload is UTF-8 already, so only the query is checked for UTF-8
 * again) and copied once. */
SIO_API sio_err sio_pkt_encode_eio_message(const sio_pkt *pkt, const sio_pkt_options *opt,
                                           uint8_t *out, size_t cap, size_t *written);

/* Encodes `count` packets (at least one) as one Engine.IO v4 polling payload, the form a polling
 * GET answer or POST body carries them in: each packet's message ("4" and its text), then one
 * base64 record ("b" and the base64) per attachment, all joined by 0x1E. `att` holds the
 * attachments of every packet in order: pkts[0].attachments of them, then pkts[1]'s, and so on,
 * `natt` in all (another total is SIO_ERR_INVALID_ARGUMENT). Byte for byte what sio_pkt_encode
 * of each packet followed by sio_eio_payload_encode(SIO_EIO_PAYLOAD_V4) of those records write,
 * and it refuses what they refuse: each packet's own errors, then a query that is not UTF-8
 * (SIO_ERR_UTF8_INVALID) or a namespace or query holding 0x1E (SIO_ERR_EIO_SEPARATOR_IN_TEXT).
 * In one pass: every text is checked once and written once, straight into `out`. */
SIO_API sio_err sio_pkt_encode_eio_payload(const sio_pkt *pkts, size_t count, const sio_span *att,
                                           size_t natt, const sio_pkt_options *opt, uint8_t *out,
                                           size_t cap, size_t *written);

/* ---------------------------------------------------------------- attachments
 * Incremental reconstruction [SIO-PKT-12]: feed each Engine.IO message in arrival order. A text
 * message is decoded; a binary packet then waits for its N binary messages. A text message while
 * waiting is SIO_ERR_PKT_TEXT_DURING_BINARY; a binary message when nothing waits is
 * SIO_ERR_PKT_UNEXPECTED_BINARY. When the last attachment arrives the placeholders are checked.
 * The caller keeps the text and binary buffers alive until it has used the result; `slots` is a
 * caller array with room for max_attachments views. After an error the assembler is idle again
 * (the connection is to be closed anyway); after a completed packet the next text starts anew. */
typedef enum sio_pkt_assembler_state {
    SIO_PKT_ASM_IDLE = 0,    /* no packet started */
    SIO_PKT_ASM_WAITING = 1, /* a binary packet waits for its attachments */
    SIO_PKT_ASM_COMPLETE = 2 /* a packet is ready (sio_pkt_assembler_result) */
} sio_pkt_assembler_state;

typedef struct sio_pkt_assembler {
    sio_pkt_options opt;
    sio_span *slots;
    size_t slot_cap;
    sio_pkt pkt;
    uint32_t received;
    sio_pkt_assembler_state state;
} sio_pkt_assembler;

/* SIO_ERR_INVALID_ARGUMENT when slot_cap < opt->max_attachments. `opt` may be NULL. */
SIO_API sio_err sio_pkt_assembler_init(sio_pkt_assembler *a, const sio_pkt_options *opt,
                                       sio_span *slots, size_t slot_cap);
/* One text message; *complete tells whether a packet is ready. */
SIO_API sio_err sio_pkt_assembler_text(sio_pkt_assembler *a, const uint8_t *p, size_t len,
                                       bool *complete, size_t *err_at);
/* One Engine.IO v4 message packet given as its text, '4' and then the Socket.IO packet, as a
 * WebSocket text frame carries it: the same error, offset, completion and assembler state as
 * sio_eio_packet_decode (protocol 4) of the text followed by sio_pkt_assembler_text of its data,
 * but the text is checked for UTF-8 once, not twice: a Socket.IO packet that decodes is UTF-8
 * throughout (its namespace is checked, its payload is JSON), so only a text that does not
 * decode takes the separate Engine.IO check. An Engine.IO error (the text is not UTF-8) leaves
 * the assembler as it was and *err_at untouched. SIO_ERR_INVALID_ARGUMENT for a text that does
 * not start with '4' (the other Engine.IO packets carry no Socket.IO packet). */
SIO_API sio_err sio_pkt_assembler_eio_message(sio_pkt_assembler *a, const uint8_t *p, size_t len,
                                              bool *complete, size_t *err_at);
/* One binary message; *complete tells whether the packet is ready. */
SIO_API sio_err sio_pkt_assembler_binary(sio_pkt_assembler *a, const uint8_t *p, size_t len,
                                         bool *complete, size_t *err_at);
/* The completed packet and its attachments, indexed by placeholder num
 * (SIO_ERR_PKT_INCOMPLETE when no packet is complete). */
SIO_API sio_err sio_pkt_assembler_result(const sio_pkt_assembler *a, sio_pkt *pkt,
                                         const sio_span **attachments, uint32_t *count);

/* The receiving side of a Socket.IO session (private to sio/sio_server.h and sio/sio_client.h):
 * an assembler whose binary packets are kept in copies, because their text and attachments
 * arrive in separate messages whose bytes the caller does not keep. */
typedef struct sio__pkt_inbox {
    sio_pkt_assembler assembler;
    sio_span *slots;  /* max_attachments views */
    uint8_t **copies; /* the pending binary packet's text and attachments */
    uint32_t copy_count;
    bool release; /* the last packet viewed the copies: free them before the next message */
} sio__pkt_inbox;

#endif
