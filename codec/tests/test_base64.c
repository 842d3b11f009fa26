#include "check.h"
#include "sio/base64.h"

#define BYTES(s) (const uint8_t *)(s), sizeof(s) - 1

static void expect_decode(const char *in, sio_base64_mode mode, sio_err want, const char *bytes,
                          size_t nbytes)
{
    uint8_t out[64];
    size_t written = 777;
    sio_err rc =
        sio_base64_decode((const uint8_t *)in, strlen(in), mode, out, sizeof out, &written);
    if (rc != want)
        fprintf(stderr, "case: \"%s\" mode %d\n", in, (int)mode);
    CHECK_ERR(rc, want);
    if (want == SIO_OK)
        CHECK_MEM(out, written, bytes, nbytes);
}

static void test_encode(void)
{
    static const char *const rfc4648[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        uint8_t out[16];
        size_t written = 0, n = strlen(rfc4648[i][0]);
        CHECK_EQ_INT(sio_base64_encoded_len(n), strlen(rfc4648[i][1]));
        CHECK_ERR(sio_base64_encode((const uint8_t *)rfc4648[i][0], n, out, sizeof out, &written),
                  SIO_OK);
        CHECK_STR(out, written, rfc4648[i][1]);
    }
    uint8_t all[3] = {0xfb, 0xff, 0xbf}, out[4];
    size_t written = 0;
    CHECK_ERR(sio_base64_encode(all, 3, NULL, 0, &written), SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(written, 4);
    CHECK_ERR(sio_base64_encode(all, 3, out, 3, &written), SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_ERR(sio_base64_encode(all, 3, out, 4, &written), SIO_OK);
    CHECK_STR(out, written, "+/+/");
}

/* RFC 4648's definition taken literally, one bit at a time: the reference every path of the
 * encoder (scripts/run-unit-tests.sh runs this program once per path) must match. */
static size_t reference_encode(const uint8_t *in, size_t n, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, bits = 8 * n;
    for (size_t b = 0; b < bits; b += 6) {
        unsigned v = 0;
        for (size_t k = b; k < b + 6; k++) {
            unsigned bit = k < bits ? (in[k / 8] >> (7 - k % 8)) & 1u : 0u;
            v = v << 1 | bit;
        }
        out[o++] = alphabet[v];
    }
    while (o % 4)
        out[o++] = '=';
    return o;
}

/* Every length from 0 to 300 (the vector path's 24-byte steps, its 28-byte minimum and the
 * tails after it) at four source alignments, bytes from a fixed generator that reaches all
 * 256 values; the output may not be written past its length. */
static void test_encode_lengths(void)
{
    static uint8_t src[304 + 4];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof src; i++) {
        x = x * 1103515245u + 12345u;
        src[i] = (uint8_t)(x >> 16);
    }
    char want[404];
    uint8_t got[404 + 8];
    for (size_t align = 0; align < 4; align++) {
        for (size_t n = 0; n <= 300; n++) {
            size_t wn = reference_encode(src + align, n, want), gn = 0;
            memset(got, 0xAA, sizeof got);
            CHECK_ERR(sio_base64_encode(src + align, n, got, wn, &gn), SIO_OK);
            CHECK_MEM(got, gn, want, wn);
            CHECK_EQ_INT(got[wn], 0xAA);
        }
    }
    /* every byte value in every position of a group, through the vector steps too */
    uint8_t all[3 * 256];
    for (size_t i = 0; i < 256; i++) {
        all[i] = (uint8_t)i;
        all[256 + i] = (uint8_t)(255 - i);
        all[512 + i] = (uint8_t)(i * 7);
    }
    static char want_all[1024];
    static uint8_t got_all[1024];
    size_t wn = reference_encode(all, sizeof all, want_all), gn = 0;
    CHECK_ERR(sio_base64_encode(all, sizeof all, got_all, sizeof got_all, &gn), SIO_OK);
    CHECK_MEM(got_all, gn, want_all, wn);
}

static void test_strict(void)
{
    const sio_base64_mode S = SIO_BASE64_STRICT;
    expect_decode("", S, SIO_OK, "", 0);
    expect_decode("Zg==", S, SIO_OK, "f", 1);
    expect_decode("Zm8=", S, SIO_OK, "fo", 2);
    expect_decode("Zm9vYmFy", S, SIO_OK, "foobar", 6);
    expect_decode("+/+/", S, SIO_OK, "\xfb\xff\xbf", 3);
    expect_decode("AAECAwQFBgcICQoLDA0ODw==", S, SIO_OK,
                  "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", 16);
    expect_decode("Zg", S, SIO_ERR_BASE64_LENGTH, NULL, 0);
    expect_decode("Zg=", S, SIO_ERR_BASE64_LENGTH, NULL, 0);
    expect_decode("Zm9vY", S, SIO_ERR_BASE64_LENGTH, NULL, 0);
    expect_decode("Zg=\n", S, SIO_ERR_BASE64_CHAR, NULL, 0);
    expect_decode("Zm 8", S, SIO_ERR_BASE64_CHAR, NULL, 0);
    expect_decode("-_-_", S, SIO_ERR_BASE64_CHAR, NULL, 0);
    expect_decode("Zm\x80=", S, SIO_ERR_BASE64_CHAR, NULL, 0);
    expect_decode("Zh==", S, SIO_ERR_BASE64_PADDING, NULL, 0); /* non-zero trailing bits */
    expect_decode("Zm9=", S, SIO_ERR_BASE64_PADDING, NULL, 0);
    expect_decode("Zg==Zg==", S, SIO_ERR_BASE64_PADDING, NULL, 0);
    expect_decode("Z===", S, SIO_ERR_BASE64_PADDING, NULL, 0);
    expect_decode("====", S, SIO_ERR_BASE64_PADDING, NULL, 0);
    expect_decode("Zg=A", S, SIO_ERR_BASE64_PADDING, NULL, 0);
    expect_decode("=Zg=", S, SIO_ERR_BASE64_PADDING, NULL, 0);
}

/* Expected outputs taken from Node's Buffer.from(s, "base64"). */
static void test_lenient(void)
{
    const sio_base64_mode L = SIO_BASE64_LENIENT;
    expect_decode("Zg==", L, SIO_OK, "f", 1);
    expect_decode("Zg", L, SIO_OK, "f", 1);
    expect_decode("Zg=", L, SIO_OK, "f", 1);
    expect_decode("Z", L, SIO_OK, "", 0);
    expect_decode("Zm9vY", L, SIO_OK, "foo", 3);
    expect_decode("YWJj ZA", L, SIO_OK, "abcd", 4);
    expect_decode("YQ!!==", L, SIO_OK, "a", 1);
    expect_decode("Zm9v\r\nYmFy\n", L, SIO_OK, "foobar", 6);
    expect_decode("YR==", L, SIO_OK, "a", 1);     /* trailing bits ignored */
    expect_decode("YQ==YQ==", L, SIO_OK, "a", 1); /* the first '=' ends the data */
    expect_decode("YWJ=jZA", L, SIO_OK, "ab", 2);
    expect_decode("=YQ", L, SIO_OK, "", 0);
    expect_decode("Y-_z", L, SIO_OK, "\x63\xef\xf3", 3);
    expect_decode("Y/+z", L, SIO_OK, "\x63\xff\xb3", 3);
    expect_decode("!!!", L, SIO_OK, "", 0);
}

/* Non-ASCII text: Node's Buffer.from(s, "base64") reads each UTF-16 code unit of the string by
 * its low byte (outputs taken from Node.js 20). */
static void test_lenient_non_ascii(void)
{
    const sio_base64_mode L = SIO_BASE64_LENIENT;
    expect_decode("\xc9\xae\xdb\xb6"
                  "3",
                  L, SIO_OK, "\x9f", 1);                          /* U+026E 'n', U+06F6 skipped */
    expect_decode("Q\xdd\x91", L, SIO_OK, "A", 1);                /* U+0751 reads as 'Q' */
    expect_decode("QUJ\xc5\x84", L, SIO_OK, "ABC", 3);            /* U+0144 reads as 'D' */
    expect_decode("QUJD\xc3\xa9", L, SIO_OK, "ABC", 3);           /* U+00E9: E9 is skipped */
    expect_decode("QQ\xf0\x9f\x98\x80QQ", L, SIO_OK, "A", 1);     /* D83D reads as '=': end */
    expect_decode("QU\xf0\x90\x81\x81=", L, SIO_OK, "A@", 2);     /* U+10041: D800 DC41, 00 'A' */
    expect_decode("\xc5\xa2\xc5\xa0\xc5\xa2", L, SIO_OK, "m", 1); /* 'b', '`' skipped, 'b' */
    expect_decode("AQ\xe2\xb4\xbd\xc5\xa2\xc5\xa2", L, SIO_OK, "\x01", 1); /* U+2D3D is '=' */
    /* Not well-formed UTF-8 is skipped byte by byte (Node would see U+FFFD, also skipped): the
     * overlong C1 81 would otherwise read as 'A'; so would a surrogate ED 81 81 or a cut 4-byte
     * sequence. */
    expect_decode("QQ\xc1\x81", L, SIO_OK, "A", 1);
    expect_decode("QQ\xed\xa1\x81", L, SIO_OK, "A", 1);
    expect_decode("QQ\xf0\x90\x81", L, SIO_OK, "A", 1);
    expect_decode("QQ\xe2"
                  "A",
                  L, SIO_OK, "A\x00", 2);
    expect_decode("QQ\xff\x80", L, SIO_OK, "A", 1);
    /* Strict mode still rejects any of it. */
    expect_decode("QUJ\xc5\x84", SIO_BASE64_STRICT, SIO_ERR_BASE64_CHAR, NULL, 0);
}

static void test_buffer_sizes(void)
{
    uint8_t out[6];
    size_t written = 0;
    CHECK_ERR(sio_base64_decode(BYTES("Zm9vYmFy"), SIO_BASE64_STRICT, NULL, 0, &written),
              SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(written, 6);
    CHECK_ERR(sio_base64_decode(BYTES("Zm9vYg=="), SIO_BASE64_STRICT, out, 3, &written),
              SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(written, 4);
    CHECK_ERR(sio_base64_decode(BYTES("Zm9v Ym Fy"), SIO_BASE64_LENIENT, out, 5, &written),
              SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(written, 6);
    CHECK_ERR(sio_base64_decode(BYTES("Zm9v Ym Fy"), SIO_BASE64_LENIENT, out, 6, &written), SIO_OK);
    CHECK_STR(out, written, "foobar");
}

/* Every byte string of length 0..5 over a few values round-trips through strict decode. */
static void test_round_trip(void)
{
    static const uint8_t vals[] = {0x00, 0x3f, 0x80, 0xff};
    uint8_t in[5], enc[8], dec[5];
    for (size_t n = 0; n <= 5; n++) {
        size_t combos = 1;
        for (size_t k = 0; k < n; k++)
            combos *= 4;
        for (size_t c = 0; c < combos; c++) {
            size_t x = c, elen = 0, dlen = 0;
            for (size_t k = 0; k < n; k++, x /= 4)
                in[k] = vals[x % 4];
            CHECK_ERR(sio_base64_encode(in, n, enc, sizeof enc, &elen), SIO_OK);
            CHECK_ERR(sio_base64_decode(enc, elen, SIO_BASE64_STRICT, dec, n, &dlen), SIO_OK);
            CHECK_MEM(dec, dlen, in, n);
        }
    }
}

int main(void)
{
    test_encode();
    test_encode_lengths();
    test_strict();
    test_lenient();
    test_lenient_non_ascii();
    test_buffer_sizes();
    test_round_trip();
    CHECK_DONE();
}
