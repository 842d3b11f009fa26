/* Frame headers and whole frames: RFC 6455 §5.7 examples byte for byte, both directions,
 * every length boundary, and each per-header rejection at its bound. */
#include "check.h"
#include "sio/ws.h"

#define BYTES(s) (const uint8_t *)(s), sizeof(s) - 1

static const uint8_t KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Decodes `frame`, checks the header and payload, then encodes them back to the same bytes. */
static void round_trip(const uint8_t *frame, size_t len, sio_ws_role role, bool fin, uint8_t opcode,
                       const uint8_t *payload, size_t plen)
{
    sio_ws_frame_header h;
    size_t hlen = 0;
    CHECK_ERR(sio_ws_header_decode(frame, len, role, &h, &hlen), SIO_OK);
    CHECK_EQ_INT(h.fin, fin);
    CHECK_EQ_INT(h.opcode, opcode);
    CHECK_EQ_INT(h.rsv, 0);
    CHECK_EQ_INT(h.payload_len, plen);
    CHECK_EQ_INT(hlen + plen, len);
    CHECK_EQ_INT(hlen, sio_ws_header_size(plen, h.masked));
    static uint8_t body[70000], out[70016];
    memcpy(body, frame + hlen, plen);
    if (h.masked)
        sio_ws_mask(body, plen, h.mask, 0);
    CHECK_MEM(body, plen, payload, plen);
    size_t w = 0;
    CHECK_ERR(sio_ws_frame_encode(&h, payload, plen, out, sizeof out, &w), SIO_OK);
    CHECK_MEM(out, w, frame, len);
}

static void test_rfc_5_7(void)
{
    round_trip(BYTES("\x81\x05Hello"), SIO_WS_ROLE_CLIENT, true, 1, BYTES("Hello"));
    round_trip(BYTES("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"), SIO_WS_ROLE_SERVER, true, 1,
               BYTES("Hello"));
    round_trip(BYTES("\x01\x03Hel"), SIO_WS_ROLE_CLIENT, false, 1, BYTES("Hel"));
    round_trip(BYTES("\x80\x02lo"), SIO_WS_ROLE_CLIENT, true, 0, BYTES("lo"));
    round_trip(BYTES("\x89\x05Hello"), SIO_WS_ROLE_CLIENT, true, 9, BYTES("Hello"));
    round_trip(BYTES("\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"), SIO_WS_ROLE_SERVER, true, 10,
               BYTES("Hello"));
    /* 256 bytes and 64 KiB of binary data in one unmasked frame. */
    static uint8_t frame[65546], payload[65536];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7);
    memcpy(frame, "\x82\x7e\x01\x00", 4);
    memcpy(frame + 4, payload, 256);
    round_trip(frame, 260, SIO_WS_ROLE_CLIENT, true, 2, payload, 256);
    memcpy(frame, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    memcpy(frame + 10, payload, 65536);
    round_trip(frame, sizeof frame, SIO_WS_ROLE_CLIENT, true, 2, payload, 65536);
}

static void expect_header(const uint8_t *p, size_t len, sio_ws_role role, sio_err want,
                          size_t want_len)
{
    sio_ws_frame_header h;
    size_t hlen = 0;
    CHECK_ERR(sio_ws_header_decode(p, len, role, &h, &hlen), want);
    if (want == SIO_OK || want == SIO_ERR_WS_TRUNCATED)
        CHECK_EQ_INT(hlen, want_len);
}

static void test_header_decode(void)
{
    const sio_ws_role C = SIO_WS_ROLE_CLIENT, S = SIO_WS_ROLE_SERVER;
    expect_header(NULL, 0, C, SIO_ERR_WS_TRUNCATED, 2);
    expect_header(BYTES("\x82"), C, SIO_ERR_WS_TRUNCATED, 2);
    expect_header(BYTES("\x82\x7e\x00"), C, SIO_ERR_WS_TRUNCATED, 4);
    expect_header(BYTES("\x82\x7f\x00\x00\x00"), C, SIO_ERR_WS_TRUNCATED, 10);
    expect_header(BYTES("\x82\xfe\x00\x7e\x01\x02\x03"), S, SIO_ERR_WS_TRUNCATED, 8);
    expect_header(BYTES("\x82\xfe\x00\x7e\x01\x02\x03\x04"), S, SIO_OK, 8);
    expect_header(BYTES("\x82\x7d"), C, SIO_OK, 2);
    expect_header(BYTES("\x82\x7e\x00\x7e"), C, SIO_OK, 4);
    expect_header(BYTES("\x82\x7e\x00\x7d"), C, SIO_ERR_WS_LENGTH_NOT_MINIMAL, 0);
    expect_header(BYTES("\x82\x7e\xff\xff"), C, SIO_OK, 4);
    expect_header(BYTES("\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff"), C,
                  SIO_ERR_WS_LENGTH_NOT_MINIMAL, 0);
    expect_header(BYTES("\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00"), C, SIO_OK, 10);
    expect_header(BYTES("\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff"), C, SIO_OK, 10);
    expect_header(BYTES("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00"), C, SIO_ERR_WS_LENGTH_MSB, 0);
    /* The first byte is judged before the second arrives. */
    expect_header(BYTES("\xc2"), C, SIO_ERR_WS_RSV_SET, 0);
    expect_header(BYTES("\x83"), C, SIO_ERR_WS_OPCODE, 0);
    expect_header(BYTES("\x09"), C, SIO_ERR_WS_CONTROL_FRAGMENTED, 0);
    expect_header(BYTES("\x89\x7d"), C, SIO_OK, 2);
    expect_header(BYTES("\x89\x7e"), C, SIO_ERR_WS_CONTROL_TOO_LONG, 0);
    expect_header(BYTES("\x88\x7f"), C, SIO_ERR_WS_CONTROL_TOO_LONG, 0);
    expect_header(BYTES("\x81\x00"), S, SIO_ERR_WS_UNMASKED, 0);
    expect_header(BYTES("\x81\x80"), C, SIO_ERR_WS_MASKED, 0);
    for (unsigned op = 0; op < 16; op++) {
        uint8_t b[2] = {(uint8_t)(0x80u | op), 0};
        bool known = op <= 2 || (op >= 8 && op <= 10);
        expect_header(b, 2, C, known ? SIO_OK : SIO_ERR_WS_OPCODE, 2);
    }
}

static void test_header_encode(void)
{
    static const struct {
        uint64_t len;
        size_t size;
        const char *bytes;
    } cases[] = {
        {0, 2, "\x82\x00"},
        {125, 2, "\x82\x7d"},
        {126, 4, "\x82\x7e\x00\x7e"},
        {65535, 4, "\x82\x7e\xff\xff"},
        {65536, 10, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00"},
        {0x7fffffffffffffffull, 10, "\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sio_ws_frame_header h = {.payload_len = cases[i].len, .fin = true, .opcode = 2};
        uint8_t out[14];
        size_t w = 0;
        CHECK_EQ_INT(sio_ws_header_size(cases[i].len, false), cases[i].size);
        CHECK_EQ_INT(sio_ws_header_size(cases[i].len, true), cases[i].size + 4);
        CHECK_ERR(sio_ws_header_encode(&h, out, sizeof out, &w), SIO_OK);
        CHECK_MEM(out, w, cases[i].bytes, cases[i].size);
        CHECK_ERR(sio_ws_header_encode(&h, out, w - 1, &w), SIO_ERR_BUFFER_TOO_SMALL);
        CHECK_EQ_INT(w, cases[i].size);
    }
    /* Broken frames can be written on purpose, for tests of other endpoints. */
    sio_ws_frame_header bad = {.payload_len = 200, .fin = false, .rsv = 5, .opcode = 0xB};
    uint8_t out[14];
    size_t w = 0;
    CHECK_ERR(sio_ws_header_encode(&bad, out, sizeof out, &w), SIO_OK);
    CHECK_MEM(out, w, "\x5b\x7e\x00\xc8", 4);
    bad.opcode = 16;
    CHECK_ERR(sio_ws_header_encode(&bad, out, sizeof out, &w), SIO_ERR_INVALID_ARGUMENT);
    bad.opcode = 1;
    bad.rsv = 8;
    CHECK_ERR(sio_ws_header_encode(&bad, out, sizeof out, &w), SIO_ERR_INVALID_ARGUMENT);
    bad.rsv = 0;
    bad.payload_len = 1ull << 63;
    CHECK_ERR(sio_ws_header_encode(&bad, out, sizeof out, &w), SIO_ERR_INVALID_ARGUMENT);
}

static void test_frame_encode_and_mask(void)
{
    sio_ws_frame_header h = {.fin = true, .opcode = 1, .masked = true};
    memcpy(h.mask, KEY, 4);
    uint8_t out[16];
    size_t w = 0;
    CHECK_ERR(sio_ws_frame_encode(&h, BYTES("Hello"), NULL, 0, &w), SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(w, 11);
    CHECK_ERR(sio_ws_frame_encode(&h, BYTES("Hello"), out, 10, &w), SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_ERR(sio_ws_frame_encode(&h, BYTES("Hello"), out, 11, &w), SIO_OK);
    CHECK_MEM(out, w, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
    /* Unmasking in pieces at any offset equals unmasking at once. */
    uint8_t a[9], b[9];
    memcpy(a, "abcdefghi", 9);
    memcpy(b, "abcdefghi", 9);
    sio_ws_mask(a, 9, KEY, 0);
    sio_ws_mask(b, 2, KEY, 0);
    sio_ws_mask(b + 2, 5, KEY, 2);
    sio_ws_mask(b + 7, 2, KEY, 7);
    CHECK_MEM(a, 9, b, 9);
    sio_ws_mask(a, 9, KEY, 0);
    CHECK_MEM(a, 9, "abcdefghi", 9);
    h.masked = false;
    CHECK_ERR(sio_ws_frame_encode(&h, NULL, 0, out, sizeof out, &w), SIO_OK);
    CHECK_MEM(out, w, "\x81\x00", 2);
}

int main(void)
{
    test_rfc_5_7();
    test_header_decode();
    test_header_encode();
    test_frame_encode_and_mask();
    CHECK_DONE();
}
