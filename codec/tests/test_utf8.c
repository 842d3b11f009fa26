#include "check.h"
#include "sio/utf8.h"

#define BYTES(s) (const uint8_t *)(s), sizeof(s) - 1

/* One-shot validation: outcome and reported position. */
static void expect_validate(const char *what, const uint8_t *p, size_t len, sio_err want,
                            size_t want_at)
{
    size_t at = 12345;
    sio_err rc = sio_utf8_validate(p, len, &at);
    if (rc != want || (want != SIO_OK && at != want_at))
        fprintf(stderr, "case: %s\n", what);
    CHECK_ERR(rc, want);
    if (want != SIO_OK)
        CHECK_EQ_INT(at, want_at);
}

/* Feeds the input split at every position and one byte at a time; the failing chunk and the
 * offset inside it must point at the same absolute byte each time. */
static void expect_feed_splits(const uint8_t *p, size_t len, bool valid, size_t bad)
{
    for (size_t split = 0; split <= len; split++) {
        sio_utf8_state st;
        sio_utf8_init(&st);
        size_t at = 0;
        sio_err rc = sio_utf8_feed(&st, p, split, &at);
        size_t base = 0;
        if (rc == SIO_OK) {
            base = split;
            rc = sio_utf8_feed(&st, p + split, len - split, &at);
        }
        CHECK_ERR(rc, valid ? SIO_OK : SIO_ERR_UTF8_INVALID);
        if (!valid)
            CHECK_EQ_INT(base + at, bad);
    }
    sio_utf8_state st;
    sio_utf8_init(&st);
    size_t i = 0, at = 99;
    sio_err rc = SIO_OK;
    for (; i < len && rc == SIO_OK; i++)
        rc = sio_utf8_feed(&st, p + i, 1, &at);
    CHECK_ERR(rc, valid ? SIO_OK : SIO_ERR_UTF8_INVALID);
    if (!valid) {
        CHECK_EQ_INT(i - 1, bad);
        CHECK_EQ_INT(at, 0);
    }
}

static void test_valid_boundaries(void)
{
    expect_validate("empty", (const uint8_t *)"", 0, SIO_OK, 0);
    expect_validate("ascii incl NUL and DEL", BYTES("a\x00\x7f"), SIO_OK, 0);
    expect_validate("U+0080", BYTES("\xc2\x80"), SIO_OK, 0);
    expect_validate("U+07FF", BYTES("\xdf\xbf"), SIO_OK, 0);
    expect_validate("U+0800", BYTES("\xe0\xa0\x80"), SIO_OK, 0);
    expect_validate("U+D7FF", BYTES("\xed\x9f\xbf"), SIO_OK, 0);
    expect_validate("U+E000", BYTES("\xee\x80\x80"), SIO_OK, 0);
    expect_validate("U+FFFF", BYTES("\xef\xbf\xbf"), SIO_OK, 0);
    expect_validate("U+10000", BYTES("\xf0\x90\x80\x80"), SIO_OK, 0);
    expect_validate("U+10FFFF", BYTES("\xf4\x8f\xbf\xbf"), SIO_OK, 0);
    expect_validate("Hello-mu@", BYTES("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"), SIO_OK, 0);
}

static void test_invalid_bytes(void)
{
    expect_validate("lone continuation", BYTES("a\x80"), SIO_ERR_UTF8_INVALID, 1);
    expect_validate("lone BF", BYTES("\xbf"), SIO_ERR_UTF8_INVALID, 0);
    expect_validate("C0 overlong lead", BYTES("\xc0\x80"), SIO_ERR_UTF8_INVALID, 0);
    expect_validate("C1 overlong lead", BYTES("\xc1\xbf"), SIO_ERR_UTF8_INVALID, 0);
    expect_validate("E0 overlong", BYTES("\xe0\x9f\xbf"), SIO_ERR_UTF8_INVALID, 1);
    expect_validate("F0 overlong", BYTES("\xf0\x8f\xbf\xbf"), SIO_ERR_UTF8_INVALID, 1);
    expect_validate("U+D800", BYTES("\xed\xa0\x80"), SIO_ERR_UTF8_INVALID, 1);
    expect_validate("U+DFFF", BYTES("\xed\xbf\xbf"), SIO_ERR_UTF8_INVALID, 1);
    expect_validate("U+110000", BYTES("\xf4\x90\x80\x80"), SIO_ERR_UTF8_INVALID, 1);
    expect_validate("F5 lead", BYTES("\xf5\x80\x80\x80"), SIO_ERR_UTF8_INVALID, 0);
    expect_validate("FE", BYTES("ab\xfe"), SIO_ERR_UTF8_INVALID, 2);
    expect_validate("FF", BYTES("\xff"), SIO_ERR_UTF8_INVALID, 0);
    expect_validate("2-byte cut by ascii",
                    BYTES("\xc2"
                          "A"),
                    SIO_ERR_UTF8_INVALID, 1);
    expect_validate("3-byte cut by ascii",
                    BYTES("x\xe2\x82"
                          "A"),
                    SIO_ERR_UTF8_INVALID, 3);
    expect_validate("4-byte cut by lead", BYTES("\xf0\x9f\x98\xc2\x80"), SIO_ERR_UTF8_INVALID, 3);
}

static void test_truncated(void)
{
    expect_validate("2-byte missing 1", BYTES("ab\xc2"), SIO_ERR_UTF8_TRUNCATED, 2);
    expect_validate("3-byte missing 1", BYTES("\xe2\x82"), SIO_ERR_UTF8_TRUNCATED, 0);
    expect_validate("4-byte missing 1", BYTES("z\xf0\x9f\x98"), SIO_ERR_UTF8_TRUNCATED, 1);
    expect_validate("4-byte missing 3", BYTES("zz\xf4"), SIO_ERR_UTF8_TRUNCATED, 2);
    sio_utf8_state st;
    sio_utf8_init(&st);
    CHECK(sio_utf8_complete(&st));
    CHECK_ERR(sio_utf8_feed(&st, BYTES("\xf0\x9f"), NULL), SIO_OK);
    CHECK(!sio_utf8_complete(&st));
    CHECK_ERR(sio_utf8_feed(&st, BYTES("\x98"), NULL), SIO_OK);
    CHECK(!sio_utf8_complete(&st));
    CHECK_ERR(sio_utf8_feed(&st, BYTES("\x80"), NULL), SIO_OK);
    CHECK(sio_utf8_complete(&st));
    CHECK_ERR(sio_utf8_feed(&st, NULL, 0, NULL), SIO_OK);
}

static void test_chunk_splits(void)
{
    expect_feed_splits(BYTES("\xce\xba\xe1\xbd\xb9\xcf\x83\xf0\x9f\x98\x80!"), true, 0);
    /* The §6.1-style case: a text message whose bad byte sits in a later fragment. */
    expect_feed_splits(BYTES("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80"
                             "edited"),
                       false, 12);
    expect_feed_splits(BYTES("ab\xed\xa0\x80"), false, 3);
    expect_feed_splits(BYTES("ab\xe0\x80\x80"), false, 3);
    expect_feed_splits(BYTES("\xf0\x90\x80"
                             "A"),
                       false, 3);
    expect_feed_splits(BYTES("\x80"), false, 0);
}

/* Every single byte value at the start of input: exactly 00-7F accepted alone. */
static void test_every_lone_byte(void)
{
    int accepted = 0, truncated = 0;
    for (int b = 0; b < 256; b++) {
        uint8_t byte = (uint8_t)b;
        sio_err rc = sio_utf8_validate(&byte, 1, NULL);
        accepted += rc == SIO_OK;
        truncated += rc == SIO_ERR_UTF8_TRUNCATED;
    }
    CHECK_EQ_INT(accepted, 128);
    CHECK_EQ_INT(truncated, (0xDF - 0xC2 + 1) + 16 + 5);
}

static void test_utf16_units(void)
{
    CHECK_EQ_INT(sio_utf8_utf16_units(NULL, 0), 0);
    CHECK_EQ_INT(sio_utf8_utf16_units(BYTES("hello")), 5);
    CHECK_EQ_INT(sio_utf8_utf16_units(BYTES("\xc3\xa9")), 1);
    CHECK_EQ_INT(sio_utf8_utf16_units(BYTES("\xe2\x82\xac")), 1);
    CHECK_EQ_INT(sio_utf8_utf16_units(BYTES("\xf0\x9f\x98\x80")), 2);
    CHECK_EQ_INT(sio_utf8_utf16_units(BYTES("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z")), 6);
}

int main(void)
{
    test_valid_boundaries();
    test_invalid_bytes();
    test_truncated();
    test_chunk_splits();
    test_every_lone_byte();
    test_utf16_units();
    CHECK_DONE();
}
