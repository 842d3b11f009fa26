/* SHA-1 (FIPS 180 examples), Sec-WebSocket-Accept (RFC 6455 §1.3, §4.2.2) and key checks. */
#include "check.h"
#include "sha1.h"
#include "sio/ws.h"

#define BYTES(s) (const uint8_t *)(s), sizeof(s) - 1

static void hex20(const uint8_t d[20], char out[41])
{
    for (int i = 0; i < 20; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void expect_sha1(const uint8_t *p, size_t len, size_t step, const char *want)
{
    sio__sha1_ctx c;
    uint8_t d[20];
    char hex[41];
    sio__sha1_init(&c);
    for (size_t i = 0; i < len; i += step)
        sio__sha1_update(&c, p + i, len - i < step ? len - i : step);
    sio__sha1_final(&c, d);
    hex20(d, hex);
    CHECK_STR(hex, 40, want);
}

static void test_sha1(void)
{
    static const char *const msg2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    for (size_t step = 1; step <= 64; step *= 4) {
        expect_sha1(BYTES(""), step, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        expect_sha1(BYTES("abc"), step, "a9993e364706816aba3e25717850c26c9cd0d89d");
        expect_sha1((const uint8_t *)msg2, strlen(msg2), step,
                    "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    }
    static uint8_t million[1000000];
    memset(million, 'a', sizeof million);
    expect_sha1(million, sizeof million, 4096, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    /* 55, 56 and 64 bytes: the padding boundaries. */
    expect_sha1(million, 55, 55, "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    expect_sha1(million, 56, 56, "c2db330f6083854c99d4b5bfb6e8f29f201be699");
    expect_sha1(million, 64, 64, "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}

static void test_accept(void)
{
    uint8_t out[SIO_WS_ACCEPT_LEN];
    size_t w = 0;
    CHECK_ERR(sio_ws_accept_compute(BYTES("dGhlIHNhbXBsZSBub25jZQ=="), NULL, 0, &w),
              SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(w, 28);
    CHECK_ERR(sio_ws_accept_compute(BYTES("dGhlIHNhbXBsZSBub25jZQ=="), out, sizeof out, &w),
              SIO_OK);
    CHECK_STR(out, w, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK_ERR(sio_ws_accept_compute(BYTES("x3JJHMbDL1EzLkh9GBhXDw=="), out, sizeof out, &w),
              SIO_OK);
    CHECK_STR(out, w, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

static void test_key(void)
{
    CHECK_ERR(sio_ws_key_validate(BYTES("dGhlIHNhbXBsZSBub25jZQ==")), SIO_OK);
    CHECK_ERR(sio_ws_key_validate(BYTES("AAAAAAAAAAAAAAAAAAAAAA==")), SIO_OK);
    CHECK_ERR(sio_ws_key_validate(BYTES("dGhlIHNhbXBsZSBub25jZQ")), SIO_ERR_WS_KEY_INVALID);
    CHECK_ERR(sio_ws_key_validate(BYTES("dGhlIHNhbXBsZSBub25jZR==")), SIO_ERR_WS_KEY_INVALID);
    CHECK_ERR(sio_ws_key_validate(BYTES("dGhlIHNhbXBsZSBub25jZQ=")), SIO_ERR_WS_KEY_INVALID);
    CHECK_ERR(sio_ws_key_validate(BYTES("dGhlIHNhbXBsZSBub25jZQ==A")), SIO_ERR_WS_KEY_INVALID);
    CHECK_ERR(sio_ws_key_validate(BYTES("dGhlIHNhbXBsZSBub25jZQAA")), SIO_ERR_WS_KEY_INVALID);
    CHECK_ERR(sio_ws_key_validate(BYTES("dGhlIHNhbXBsZSBub25j-Q==")), SIO_ERR_WS_KEY_INVALID);
    CHECK_ERR(sio_ws_key_validate(BYTES("AAAAAAAAAAAAAAAAAAAA")), SIO_ERR_WS_KEY_INVALID);
    CHECK_ERR(sio_ws_key_validate(NULL, 0), SIO_ERR_WS_KEY_INVALID);
}

int main(void)
{
    test_sha1();
    test_accept();
    test_key();
    CHECK_DONE();
}
