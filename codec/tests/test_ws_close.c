/* Close payloads (RFC 6455 §5.5.1, §7.4): which codes may travel, reason UTF-8, lengths. */
#include "check.h"
#include "sio/ws.h"

#define BYTES(s) (const uint8_t *)(s), sizeof(s) - 1

static void test_code_ranges(void)
{
    int valid = 0;
    for (unsigned c = 0; c <= 0xFFFF; c++)
        valid += sio_ws_close_code_valid((uint16_t)c);
    CHECK_EQ_INT(valid, 4 + 8 + 2000);
    static const uint16_t ok[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
                                  1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999};
    static const uint16_t bad[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK(sio_ws_close_code_valid(ok[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!sio_ws_close_code_valid(bad[i]));
}

static void expect_decode(const uint8_t *p, size_t len, sio_err want, uint16_t code,
                          const char *reason)
{
    uint16_t got = 77;
    sio_span r;
    CHECK_ERR(sio_ws_close_payload_decode(p, len, &got, &r), want);
    if (want == SIO_OK) {
        CHECK_EQ_INT(got, code);
        CHECK_STR(r.ptr, r.len, reason);
    }
}

static void test_decode(void)
{
    expect_decode(NULL, 0, SIO_OK, 0, "");
    expect_decode(BYTES("\x03"), SIO_ERR_WS_CLOSE_PAYLOAD_LENGTH, 0, "");
    expect_decode(BYTES("\x03\xe8"), SIO_OK, 1000, "");
    expect_decode(BYTES("\x03\xe8normal"), SIO_OK, 1000, "normal");
    expect_decode(BYTES("\x0f\xa0\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"), SIO_OK, 4000,
                  "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5");
    expect_decode(BYTES("\x03\xed"), SIO_ERR_WS_CLOSE_CODE, 0, "");
    expect_decode(BYTES("\x03\xee"), SIO_ERR_WS_CLOSE_CODE, 0, "");
    expect_decode(BYTES("\x03\xec"), SIO_ERR_WS_CLOSE_CODE, 0, "");
    expect_decode(BYTES("\x03\xef"), SIO_OK, 1007, "");
    expect_decode(BYTES("\x03\xf7"), SIO_ERR_WS_CLOSE_CODE, 0, "");
    expect_decode(BYTES("\x03\xf6"), SIO_OK, 1014, "");
    expect_decode(BYTES("\x0b\xb7"), SIO_ERR_WS_CLOSE_CODE, 0, "");
    expect_decode(BYTES("\x0b\xb8"), SIO_OK, 3000, "");
    expect_decode(BYTES("\x13\x87"), SIO_OK, 4999, "");
    expect_decode(BYTES("\x13\x88"), SIO_ERR_WS_CLOSE_CODE, 0, "");
    expect_decode(BYTES("\x03\xe8\xed\xa0\x80"), SIO_ERR_WS_CLOSE_REASON_UTF8, 0, "");
    expect_decode(BYTES("\x03\xe8\xe2\x82"), SIO_ERR_WS_CLOSE_REASON_UTF8, 0, "");
    uint8_t big[126];
    big[0] = 0x03;
    big[1] = 0xe8;
    memset(big + 2, 'r', sizeof big - 2);
    expect_decode(
        big, 125, SIO_OK, 1000,
        "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
        "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr");
    expect_decode(big, 126, SIO_ERR_WS_CONTROL_TOO_LONG, 0, "");
}

static void test_encode(void)
{
    uint8_t out[130], reason[124];
    size_t w = 5;
    CHECK_ERR(sio_ws_close_payload_encode(0, NULL, 0, out, sizeof out, &w), SIO_OK);
    CHECK_EQ_INT(w, 0);
    CHECK_ERR(sio_ws_close_payload_encode(0, BYTES("x"), out, sizeof out, &w),
              SIO_ERR_INVALID_ARGUMENT);
    CHECK_ERR(sio_ws_close_payload_encode(1000, BYTES("bye"), NULL, 0, &w),
              SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(w, 5);
    CHECK_ERR(sio_ws_close_payload_encode(1000, BYTES("bye"), out, 5, &w), SIO_OK);
    CHECK_MEM(out, w,
              "\x03\xe8"
              "bye",
              5);
    CHECK_ERR(sio_ws_close_payload_encode(1005, NULL, 0, out, sizeof out, &w),
              SIO_ERR_WS_CLOSE_CODE);
    CHECK_ERR(sio_ws_close_payload_encode(1000, BYTES("\xff"), out, sizeof out, &w),
              SIO_ERR_WS_CLOSE_REASON_UTF8);
    memset(reason, 'a', sizeof reason);
    CHECK_ERR(sio_ws_close_payload_encode(4000, reason, 123, out, sizeof out, &w), SIO_OK);
    CHECK_EQ_INT(w, 125);
    CHECK_ERR(sio_ws_close_payload_encode(4000, reason, 124, out, sizeof out, &w),
              SIO_ERR_WS_CONTROL_TOO_LONG);
}

int main(void)
{
    test_code_ranges();
    test_decode();
    test_encode();
    CHECK_DONE();
}
