/* Engine.IO single packets, v4 and v3 (EIO-PKT-01, 02, 03, 04, 05, 06, 08, 09, 10, 11, 16, 18). */
#include "eio_internal.h" /* sio__eio_packet_encoded_len, called directly (codec/src) */

#include "check.h"
#include "sio/eio.h"

#define S(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

static sio_eio_packet pkt;

static sio_err dec(int protocol, sio_eio_frame frame, const uint8_t *p, size_t n,
                   const sio_eio_options *o)
{
    memset(&pkt, 0xAB, sizeof pkt);
    return sio_eio_packet_decode(protocol, frame, p, n, o, &pkt);
}

static void test_text_types(void)
{
    static const char *const names[] = {"0", "1", "2probe", "3probe", "4hello", "5", "6"};
    for (int t = 0; t <= 6; t++) {
        const char *s = names[t];
        CHECK_ERR(dec(4, SIO_EIO_FRAME_WS_TEXT, (const uint8_t *)s, strlen(s), NULL), SIO_OK);
        CHECK_EQ_INT(pkt.type, t);
        CHECK(!pkt.binary && !pkt.base64);
        CHECK_STR(pkt.data.ptr, pkt.data.len, s + 1);
    }
    /* Message without data (EIO-PKT-04), and one holding 0x1E over WebSocket (EIO-PKT-11). */
    CHECK_ERR(dec(4, SIO_EIO_FRAME_WS_TEXT, S("4"), NULL), SIO_OK);
    CHECK_EQ_INT(pkt.data.len, 0);
    CHECK_ERR(dec(4, SIO_EIO_FRAME_WS_TEXT,
                  S("4a\x1e"
                    "4b"),
                  NULL),
              SIO_OK);
    CHECK_STR(pkt.data.ptr, pkt.data.len,
              "a\x1e"
              "4b");
    /* UTF-8 data, and the same rules in v3. */
    CHECK_ERR(dec(4, SIO_EIO_FRAME_RECORD, S("4\xe2\x82\xac\xf0\x9f\x98\x80"), NULL), SIO_OK);
    CHECK_EQ_INT(pkt.data.len, 7);
    CHECK_ERR(dec(3, SIO_EIO_FRAME_RECORD, S("2probe"), NULL), SIO_OK);
    CHECK_EQ_INT(pkt.type, SIO_EIO_PING);
}

static void test_text_errors(void)
{
    CHECK_ERR(dec(4, SIO_EIO_FRAME_WS_TEXT, S(""), NULL), SIO_ERR_EIO_EMPTY_PACKET);
    CHECK_ERR(dec(4, SIO_EIO_FRAME_RECORD, S("abc"), NULL), SIO_ERR_EIO_UNKNOWN_TYPE);
    CHECK_ERR(dec(4, SIO_EIO_FRAME_RECORD, S("a123"), NULL), SIO_ERR_EIO_UNKNOWN_TYPE);
    CHECK_ERR(dec(4, SIO_EIO_FRAME_RECORD, S("7"), NULL), SIO_ERR_EIO_UNKNOWN_TYPE);
    CHECK_ERR(dec(4, SIO_EIO_FRAME_RECORD, S("{"), NULL), SIO_ERR_EIO_UNKNOWN_TYPE);
    CHECK_ERR(dec(3, SIO_EIO_FRAME_RECORD, S("/"), NULL), SIO_ERR_EIO_UNKNOWN_TYPE);
    CHECK_ERR(dec(4, SIO_EIO_FRAME_RECORD, S("4\xc3\x28"), NULL), SIO_ERR_UTF8_INVALID);
    CHECK_ERR(dec(4, SIO_EIO_FRAME_RECORD, S("4\xe2\x82"), NULL), SIO_ERR_UTF8_TRUNCATED);
    sio_eio_options compat = {.compat = true};
    CHECK_ERR(dec(4, SIO_EIO_FRAME_RECORD, S("abc"), &compat), SIO_ERR_EIO_UNKNOWN_TYPE);
    CHECK_ERR(dec(5, SIO_EIO_FRAME_RECORD, S("4"), NULL), SIO_ERR_INVALID_ARGUMENT);
    CHECK_ERR(sio_eio_packet_decode(4, SIO_EIO_FRAME_RECORD, S("4"), NULL, NULL),
              SIO_ERR_INVALID_ARGUMENT);
}

static void test_base64_records(void)
{
    uint8_t buf[16];
    size_t n;
    sio_eio_options compat = {.compat = true}, b64 = {.b64 = true};
    CHECK_ERR(dec(4, SIO_EIO_FRAME_RECORD, S("bAQIDBA=="), NULL), SIO_OK);
    CHECK(pkt.binary && pkt.base64 && pkt.type == SIO_EIO_MESSAGE);
    CHECK_ERR(sio_eio_packet_binary(&pkt, false, buf, sizeof buf, &n), SIO_OK);
    CHECK_MEM(buf, n, "\x01\x02\x03\x04", 4);
    CHECK_ERR(sio_eio_packet_binary(&pkt, false, NULL, 0, &n), SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, 4);
    /* Strict base64 only; Node skips junk (EIO-PKT-08). */
    CHECK_ERR(dec(4, SIO_EIO_FRAME_RECORD, S("b!!AQ=="), NULL), SIO_ERR_BASE64_CHAR);
    CHECK_ERR(dec(4, SIO_EIO_FRAME_RECORD, S("bAQI"), NULL), SIO_ERR_BASE64_LENGTH);
    CHECK_ERR(dec(4, SIO_EIO_FRAME_RECORD, S("b!!AQ=="), &compat), SIO_OK);
    CHECK_ERR(sio_eio_packet_binary(&pkt, true, buf, sizeof buf, &n), SIO_OK);
    CHECK_MEM(buf, n, "\x01", 1);
    /* 'b' alone: strict error, compat empty message (EIO-PKT-08). */
    CHECK_ERR(dec(4, SIO_EIO_FRAME_RECORD, S("b"), NULL), SIO_ERR_EIO_EMPTY_BINARY);
    CHECK_ERR(dec(4, SIO_EIO_FRAME_RECORD, S("b"), &compat), SIO_OK);
    CHECK(pkt.binary && pkt.data.len == 0);
    /* On WebSocket only with b64 or compat (EIO-PKT-09, 10). */
    CHECK_ERR(dec(4, SIO_EIO_FRAME_WS_TEXT, S("bAQID"), NULL), SIO_ERR_EIO_BASE64_ON_WEBSOCKET);
    CHECK_ERR(dec(4, SIO_EIO_FRAME_WS_TEXT, S("bAQID"), &b64), SIO_OK);
    CHECK_ERR(dec(4, SIO_EIO_FRAME_WS_TEXT, S("bAQID"), &compat), SIO_OK);
    /* v3 keeps the type digit (EIO-PKT-16). */
    CHECK_ERR(dec(3, SIO_EIO_FRAME_RECORD, S("b4AQIDBA=="), NULL), SIO_OK);
    CHECK(pkt.type == SIO_EIO_MESSAGE && pkt.base64);
    CHECK_STR(pkt.data.ptr, pkt.data.len, "AQIDBA==");
    CHECK_ERR(dec(3, SIO_EIO_FRAME_RECORD, S("b4"), NULL), SIO_OK);
    CHECK_EQ_INT(pkt.data.len, 0);
    CHECK_ERR(dec(3, SIO_EIO_FRAME_RECORD, S("b"), NULL), SIO_ERR_EIO_UNKNOWN_TYPE);
    CHECK_ERR(dec(3, SIO_EIO_FRAME_RECORD, S("b9AQ=="), &compat), SIO_ERR_EIO_UNKNOWN_TYPE);
    CHECK_ERR(sio_eio_packet_binary(&(sio_eio_packet){SIO_EIO_MESSAGE, false, false, {0, 0}}, false,
                                    buf, sizeof buf, &n),
              SIO_ERR_INVALID_ARGUMENT);
}

static void test_binary_frames(void)
{
    static const uint8_t v3[] = {4, 1, 2, 3, 4};
    CHECK_ERR(dec(4, SIO_EIO_FRAME_WS_BINARY, v3 + 1, 4, NULL), SIO_OK);
    CHECK(pkt.type == SIO_EIO_MESSAGE && pkt.binary && !pkt.base64);
    CHECK_MEM(pkt.data.ptr, pkt.data.len, v3 + 1, 4);
    CHECK_ERR(dec(4, SIO_EIO_FRAME_WS_BINARY, NULL, 0, NULL), SIO_OK);
    CHECK_EQ_INT(pkt.data.len, 0);
    CHECK_ERR(dec(3, SIO_EIO_FRAME_WS_BINARY, v3, 5, NULL), SIO_OK);
    CHECK_EQ_INT(pkt.type, SIO_EIO_MESSAGE);
    CHECK_MEM(pkt.data.ptr, pkt.data.len, v3 + 1, 4);
    CHECK_ERR(dec(3, SIO_EIO_FRAME_WS_BINARY, NULL, 0, NULL), SIO_ERR_EIO_EMPTY_PACKET);
    static const uint8_t bad[] = {7, 1};
    CHECK_ERR(dec(3, SIO_EIO_FRAME_WS_BINARY, bad, 2, NULL), SIO_ERR_EIO_UNKNOWN_TYPE);
    static const uint8_t six[] = {6};
    CHECK_ERR(dec(3, SIO_EIO_FRAME_WS_BINARY, six, 1, NULL), SIO_OK);
    CHECK_EQ_INT(pkt.type, SIO_EIO_NOOP);
}

static void test_encode(void)
{
    uint8_t out[32];
    size_t n;
    static const uint8_t bytes[] = {1, 2, 3, 4};
    CHECK_ERR(sio_eio_packet_encode(4, SIO_EIO_MESSAGE, SIO_EIO_ENC_TEXT, S("hello"), out,
                                    sizeof out, &n),
              SIO_OK);
    CHECK_STR(out, n, "4hello");
    CHECK_ERR(
        sio_eio_packet_encode(4, SIO_EIO_PING, SIO_EIO_ENC_TEXT, NULL, 0, out, sizeof out, &n),
        SIO_OK);
    CHECK_STR(out, n, "2");
    CHECK_ERR(sio_eio_packet_encode(4, SIO_EIO_MESSAGE, SIO_EIO_ENC_BASE64, bytes, 4, out,
                                    sizeof out, &n),
              SIO_OK);
    CHECK_STR(out, n, "bAQIDBA==");
    CHECK_ERR(sio_eio_packet_encode(3, SIO_EIO_MESSAGE, SIO_EIO_ENC_BASE64, bytes, 4, out,
                                    sizeof out, &n),
              SIO_OK);
    CHECK_STR(out, n, "b4AQIDBA==");
    CHECK_ERR(sio_eio_packet_encode(4, SIO_EIO_MESSAGE, SIO_EIO_ENC_BINARY, bytes, 4, out,
                                    sizeof out, &n),
              SIO_OK);
    CHECK_MEM(out, n, bytes, 4);
    CHECK_ERR(sio_eio_packet_encode(3, SIO_EIO_MESSAGE, SIO_EIO_ENC_BINARY, bytes, 4, out,
                                    sizeof out, &n),
              SIO_OK);
    CHECK_MEM(out, n, "\x04\x01\x02\x03\x04", 5);
    /* Sizing, too-small buffers, bad arguments. */
    CHECK_ERR(sio_eio_packet_encode(4, SIO_EIO_MESSAGE, SIO_EIO_ENC_BASE64, bytes, 4, NULL, 0, &n),
              SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, 9);
    CHECK_ERR(sio_eio_packet_encode(4, SIO_EIO_MESSAGE, SIO_EIO_ENC_TEXT, S("hello"), out, 5, &n),
              SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, 6);
    CHECK_ERR(
        sio_eio_packet_encode(4, SIO_EIO_PING, SIO_EIO_ENC_BINARY, bytes, 4, out, sizeof out, &n),
        SIO_ERR_INVALID_ARGUMENT);
    CHECK_ERR(
        sio_eio_packet_encode(4, (sio_eio_type)7, SIO_EIO_ENC_TEXT, NULL, 0, out, sizeof out, &n),
        SIO_ERR_INVALID_ARGUMENT);
    CHECK_ERR(
        sio_eio_packet_encode(4, SIO_EIO_MESSAGE, SIO_EIO_ENC_TEXT, S("\xff"), out, sizeof out, &n),
        SIO_ERR_UTF8_INVALID);
}

/* The length the session encoders size their buffers by is what the encoder writes, for each
 * encoding and protocol, at every base64 group boundary (n = 3k, 3k + 1, 3k + 2). */
static void test_encoded_len(void)
{
    static const sio_eio_encoding encs[] = {SIO_EIO_ENC_TEXT, SIO_EIO_ENC_BASE64,
                                            SIO_EIO_ENC_BINARY};
    uint8_t data[300], out[512];
    memset(data, 'x', sizeof data);
    for (int protocol = 3; protocol <= 4; protocol++) {
        for (size_t e = 0; e < sizeof encs / sizeof encs[0]; e++) {
            for (size_t n = 0; n <= sizeof data; n += n < 8 ? 1 : 73) {
                size_t want = 0;
                CHECK_ERR(sio_eio_packet_encode(protocol, SIO_EIO_MESSAGE, encs[e], data, n, out,
                                                sizeof out, &want),
                          SIO_OK);
                CHECK_EQ_INT(sio__eio_packet_encoded_len(protocol, encs[e], n), want);
            }
        }
    }
}

int main(void)
{
    test_text_types();
    test_text_errors();
    test_base64_records();
    test_binary_frames();
    test_encode();
    test_encoded_len();
    CHECK_DONE();
}
