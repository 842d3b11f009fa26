/* Engine.IO polling payloads: v4 (EIO-PKT-03, 06, 07, 12), v3 text (EIO-PKT-15, 16, 19) and
 * v3 XHR2 (EIO-PKT-17), decoding, limits and encoding. */
#include "check.h"
#include "eio_internal.h" /* sio__eio_payload_bound, called directly (codec/src) */
#include "sio/eio.h"

#define S(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

static size_t count_of(sio_eio_payload_format f, const uint8_t *p, size_t n,
                       const sio_eio_options *o, sio_err *rc)
{
    size_t c = 0;
    *rc = sio_eio_payload_validate(f, p, n, o, &c);
    return c;
}

static void test_v4_decode(void)
{
    sio_eio_payload_iter it;
    sio_eio_packet pkt;
    bool has;
    sio_eio_payload_iter_init(&it, SIO_EIO_PAYLOAD_V4,
                              S("4hello\x1e"
                                "bAQIDBA==\x1e"
                                "2"),
                              NULL);
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_OK);
    CHECK(has && pkt.type == SIO_EIO_MESSAGE && !pkt.binary);
    CHECK_STR(pkt.data.ptr, pkt.data.len, "hello");
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_OK);
    CHECK(has && pkt.binary && pkt.base64);
    CHECK_STR(pkt.data.ptr, pkt.data.len, "AQIDBA==");
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_OK);
    CHECK(has && pkt.type == SIO_EIO_PING && pkt.data.len == 0);
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_OK);
    CHECK(!has);
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_OK);
    CHECK(!has);
}

/* The body is checked as UTF-8 once, before its first record, and its records are then not
 * checked again; a body that is not UTF-8 is read record by record as ever: the records before
 * the bad one come out, the bad one fails with its UTF-8 error (a message, a message cut
 * inside a character by the separator, and in compat mode a base64 record, which strict mode
 * refuses as base64), and a body with more than one error fails at its first. */
static void test_v4_utf8(void)
{
    static const struct {
        const char *body;
        size_t len;
        bool compat;
        size_t good; /* records before the error */
        sio_err err;
    } cases[] = {
        {"4caf\xc3\xa9\x1e"
         "4x\xc3(",
         11, false, 1, SIO_ERR_UTF8_INVALID},
        {"4\xc3\x1e"
         "\xa9",
         4, false, 0, SIO_ERR_UTF8_TRUNCATED},
        {"4ok\x1e"
         "b\xff\x1e"
         "4",
         8, true, 1, SIO_ERR_UTF8_INVALID},
        {"4ok\x1e"
         "b\xff\x1e"
         "4",
         8, false, 1, SIO_ERR_BASE64_CHAR},
        {"4ok\x1e"
         "\x1e"
         "4\xff",
         7, false, 1, SIO_ERR_EIO_EMPTY_RECORD},
        {"4\xed\xa0\x80\x1e"
         "\x1e",
         6, false, 0, SIO_ERR_UTF8_INVALID},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sio_eio_options o = {.compat = cases[c].compat};
        sio_eio_payload_iter it;
        sio_eio_packet pkt;
        bool has = false;
        sio_eio_payload_iter_init(&it, SIO_EIO_PAYLOAD_V4, (const uint8_t *)cases[c].body,
                                  cases[c].len, &o);
        for (size_t k = 0; k < cases[c].good; k++) {
            CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_OK);
            CHECK(has);
        }
        CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), cases[c].err);
        CHECK(!has);
    }
    /* A valid body: every record, multi-byte characters next to the separators. */
    sio_eio_payload_iter it;
    sio_eio_packet pkt;
    bool has = false;
    sio_eio_payload_iter_init(&it, SIO_EIO_PAYLOAD_V4,
                              S("4\xc3\xa9\x1e"
                                "4\xf0\x9f\x98\x80\x1e"
                                "4\xe2\x82\xac"),
                              NULL);
    for (int k = 0; k < 3; k++) {
        CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_OK);
        CHECK(has && pkt.type == SIO_EIO_MESSAGE);
    }
    CHECK_STR(pkt.data.ptr, pkt.data.len, "\xe2\x82\xac");
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_OK);
    CHECK(!has);
}

/* Node dispatches the packets before a bad record; the iterator allows the same, and stays
 * failed afterwards. */
static void test_v4_errors(void)
{
    sio_eio_payload_iter it;
    sio_eio_packet pkt;
    bool has;
    sio_err rc;
    sio_eio_payload_iter_init(&it, SIO_EIO_PAYLOAD_V4, S("4x\x1e"), NULL);
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_OK);
    CHECK(has);
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_ERR_EIO_EMPTY_RECORD);
    CHECK(!has);
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_ERR_EIO_EMPTY_RECORD);
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V4, S("4x\x1e"), NULL, NULL),
              SIO_ERR_EIO_EMPTY_RECORD);
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V4,
                                       S("\x1e"
                                         "4x"),
                                       NULL, NULL),
              SIO_ERR_EIO_EMPTY_RECORD);
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V4,
                                       S("4a\x1e\x1e"
                                         "4b"),
                                       NULL, NULL),
              SIO_ERR_EIO_EMPTY_RECORD);
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V4, S(""), NULL, NULL),
              SIO_ERR_EIO_EMPTY_PAYLOAD);
    /* An empty body as a null pointer: the same verdict, no arithmetic on the pointer. */
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V4, NULL, 0, NULL, NULL),
              SIO_ERR_EIO_EMPTY_PAYLOAD);
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_TEXT, NULL, 0, NULL, NULL),
              SIO_ERR_EIO_EMPTY_PAYLOAD);
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V4,
                                       S("4a\x1e"
                                         "abc"),
                                       NULL, NULL),
              SIO_ERR_EIO_UNKNOWN_TYPE);
    /* Records limit: at the bound and one past it. */
    sio_eio_options lim = {.max_records = 3};
    CHECK_EQ_INT(count_of(SIO_EIO_PAYLOAD_V4,
                          S("1\x1e"
                            "2\x1e"
                            "3"),
                          &lim, &rc),
                 3);
    CHECK_ERR(rc, SIO_OK);
    count_of(SIO_EIO_PAYLOAD_V4,
             S("1\x1e"
               "2\x1e"
               "3\x1e"
               "4"),
             &lim, &rc);
    CHECK_ERR(rc, SIO_ERR_EIO_TOO_MANY_RECORDS);
}

static void test_v4_default_record_limit(void)
{
    /* 500000 one-byte records joined by separators is exactly the default bound. */
    static uint8_t body[2 * SIO_EIO_DEFAULT_MAX_RECORDS + 1];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (i % 2) ? 0x1E : '6';
    sio_err rc;
    size_t n = 2 * SIO_EIO_DEFAULT_MAX_RECORDS - 1;
    CHECK_EQ_INT(count_of(SIO_EIO_PAYLOAD_V4, body, n, NULL, &rc), SIO_EIO_DEFAULT_MAX_RECORDS);
    CHECK_ERR(rc, SIO_OK);
    count_of(SIO_EIO_PAYLOAD_V4, body, n + 2, NULL, &rc);
    CHECK_ERR(rc, SIO_ERR_EIO_TOO_MANY_RECORDS);
}

static void test_v3_text(void)
{
    sio_eio_payload_iter it;
    sio_eio_packet pkt;
    bool has;
    sio_err rc;
    sio_eio_payload_iter_init(&it, SIO_EIO_PAYLOAD_V3_TEXT, S("6:4hello2:4\xe2\x82\xac"), NULL);
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_OK);
    CHECK_STR(pkt.data.ptr, pkt.data.len, "hello");
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_OK);
    CHECK_STR(pkt.data.ptr, pkt.data.len, "\xe2\x82\xac");
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_OK);
    CHECK(!has);
    /* An astral character counts two units. */
    CHECK_EQ_INT(count_of(SIO_EIO_PAYLOAD_V3_TEXT, S("3:4\xf0\x9f\x98\x80"), NULL, &rc), 1);
    CHECK_ERR(rc, SIO_OK);
    count_of(SIO_EIO_PAYLOAD_V3_TEXT, S("2:4\xf0\x9f\x98\x80"), NULL, &rc);
    CHECK_ERR(rc, SIO_ERR_EIO_V3_SPLIT_CHARACTER);
    CHECK_EQ_INT(count_of(SIO_EIO_PAYLOAD_V3_TEXT, S("0:"), NULL, &rc), 0);
    CHECK_ERR(rc, SIO_OK);
    /* '0:' beside other records: strict rejects it wherever it stands, before any packet is
     * returned; compat skips it as engine.io-parser 2.x does. */
    static const char *const empties[] = {"6:4hello0:", "0:6:4hello", "1:60:1:6", "0:0:"};
    static const size_t empty_packets[] = {1, 1, 2, 0};
    sio_eio_options compat = {.compat = true};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        const uint8_t *body = (const uint8_t *)empties[i];
        size_t len = strlen(empties[i]);
        sio_eio_payload_iter_init(&it, SIO_EIO_PAYLOAD_V3_TEXT, body, len, NULL);
        CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_ERR_EIO_EMPTY_RECORD);
        CHECK(!has);
        CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_TEXT, body, len, NULL, NULL),
                  SIO_ERR_EIO_EMPTY_RECORD);
        CHECK_EQ_INT(count_of(SIO_EIO_PAYLOAD_V3_TEXT, body, len, &compat, &rc), empty_packets[i]);
        CHECK_ERR(rc, SIO_OK);
    }
    /* Compat also takes '00:' (leading zero) as the empty payload. */
    CHECK_EQ_INT(count_of(SIO_EIO_PAYLOAD_V3_TEXT, S("00:"), &compat, &rc), 0);
    CHECK_ERR(rc, SIO_OK);
    count_of(SIO_EIO_PAYLOAD_V3_TEXT, S("00:"), NULL, &rc);
    CHECK_ERR(rc, SIO_ERR_EIO_V3_LENGTH);
    /* A framing error anywhere rejects the payload before its first packet is returned. */
    sio_eio_payload_iter_init(&it, SIO_EIO_PAYLOAD_V3_TEXT, S("6:4hello5:42[]"), NULL);
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_ERR_EIO_V3_TRUNCATED);
    CHECK(!has);
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_TEXT, S("6:4hello1:x"), NULL, NULL),
              SIO_ERR_EIO_UNKNOWN_TYPE);
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_TEXT, S(""), NULL, NULL),
              SIO_ERR_EIO_EMPTY_PAYLOAD);
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_TEXT, S(":4"), NULL, NULL),
              SIO_ERR_EIO_V3_LENGTH);
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_TEXT, S("a:4"), NULL, NULL),
              SIO_ERR_EIO_V3_LENGTH);
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_TEXT, S("6"), NULL, NULL),
              SIO_ERR_EIO_V3_TRUNCATED);
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_TEXT, S("2:4\xff"), NULL, NULL),
              SIO_ERR_UTF8_INVALID);
}

static void test_v3_length_digits(void)
{
    sio_eio_options compat = {.compat = true};
    sio_err rc;
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_TEXT, S("06:4hello"), NULL, NULL),
              SIO_ERR_EIO_V3_LENGTH);
    CHECK_EQ_INT(count_of(SIO_EIO_PAYLOAD_V3_TEXT, S("06:4hello"), &compat, &rc), 1);
    CHECK_ERR(rc, SIO_OK);
    /* SIO_EIO_V3_MAX_LENGTH_DIGITS (10) digits pass, 11 do not. */
    CHECK_EQ_INT(count_of(SIO_EIO_PAYLOAD_V3_TEXT, S("0000000006:4hello"), &compat, &rc), 1);
    CHECK_ERR(rc, SIO_OK);
    count_of(SIO_EIO_PAYLOAD_V3_TEXT, S("00000000006:4hello"), &compat, &rc);
    CHECK_ERR(rc, SIO_ERR_EIO_V3_LENGTH_DIGITS);
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_TEXT, S("9999999999:4"), NULL, NULL),
              SIO_ERR_EIO_V3_TRUNCATED);
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_TEXT, S("99999999999:4"), NULL, NULL),
              SIO_ERR_EIO_V3_LENGTH_DIGITS);
}

static void test_xhr2(void)
{
    static const uint8_t body[] = {0, 6, 0xFF, '4', 'h', 'e', 'l', 'l', 'o',
                                   1, 5, 0xFF, 4,   1,   2,   3,   4};
    sio_eio_payload_iter it;
    sio_eio_packet pkt;
    bool has;
    sio_err rc;
    sio_eio_options compat = {.compat = true};
    sio_eio_payload_iter_init(&it, SIO_EIO_PAYLOAD_V3_BINARY, body, sizeof body, NULL);
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_OK);
    CHECK(has && !pkt.binary);
    CHECK_STR(pkt.data.ptr, pkt.data.len, "hello");
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_OK);
    CHECK(has && pkt.binary && !pkt.base64 && pkt.type == SIO_EIO_MESSAGE);
    CHECK_MEM(pkt.data.ptr, pkt.data.len, "\x01\x02\x03\x04", 4);
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_OK);
    CHECK(!has);
    static const uint8_t marker2[] = {2, 1, 0xFF, 4};
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_BINARY, marker2, 4, NULL, NULL),
              SIO_ERR_EIO_XHR2_MARKER);
    CHECK_EQ_INT(count_of(SIO_EIO_PAYLOAD_V3_BINARY, marker2, 4, &compat, &rc), 1);
    CHECK_ERR(rc, SIO_OK);
    static const uint8_t digit12[] = {0,   12,  0xFF, '4', 'a', 'b', 'c', 'd',
                                      'e', 'f', 'g',  'h', 'i', 'j', 'k'};
    CHECK_ERR(
        sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_BINARY, digit12, sizeof digit12, NULL, NULL),
        SIO_ERR_EIO_XHR2_DIGIT);
    CHECK_ERR(
        sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_BINARY, digit12, sizeof digit12, &compat, NULL),
        SIO_ERR_EIO_XHR2_DIGIT);
    static const uint8_t longer[] = {0, 9, 0xFF, '4', 'h', 'i'};
    CHECK_ERR(
        sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_BINARY, longer, sizeof longer, NULL, NULL),
        SIO_ERR_EIO_V3_TRUNCATED);
    CHECK_EQ_INT(count_of(SIO_EIO_PAYLOAD_V3_BINARY, longer, sizeof longer, &compat, &rc), 1);
    static const uint8_t noend[] = {0, 1, 2};
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_BINARY, noend, 3, &compat, NULL),
              SIO_ERR_EIO_V3_TRUNCATED);
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_BINARY, NULL, 0, NULL, NULL),
              SIO_ERR_EIO_EMPTY_PAYLOAD);
    CHECK_EQ_INT(count_of(SIO_EIO_PAYLOAD_V3_BINARY, NULL, 0, &compat, &rc), 0);
    CHECK_ERR(rc, SIO_OK);
    static const uint8_t zero[] = {1, 0, 0xFF};
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_BINARY, zero, 3, NULL, NULL),
              SIO_ERR_EIO_EMPTY_PACKET);
}

/* v4 joins records with 0x1E, so a text (or base64 text given as is) holding it would come back
 * as two records: "0/a<1E>b," (a CONNECT to the namespace "/a<1E>b", which a Socket.IO packet
 * may name) came back as "40/a" and a base64 record "b,", which strict decoding refuses. The
 * separator is refused at the start, in the middle and at the end, and when it stands alone;
 * the v3 formats, which frame records by length, carry it. */
static void test_encode_separator(void)
{
    static const char *const texts[] = {"0/a\036b,", "\036abc", "abc\036", "\036"};
    uint8_t out[64];
    size_t n = 99;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        sio_span data = {(const uint8_t *)texts[i], strlen(texts[i])};
        sio_eio_packet text = {SIO_EIO_MESSAGE, false, false, data};
        sio_eio_packet b64 = {SIO_EIO_MESSAGE, true, true, data};
        sio_eio_packet ok = {SIO_EIO_MESSAGE, false, false, {(const uint8_t *)"ok", 2}};
        sio_eio_packet after[2] = {ok, text};
        CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V4, &text, 1, out, sizeof out, &n),
                  SIO_ERR_EIO_SEPARATOR_IN_TEXT);
        CHECK_EQ_INT(n, 0);
        CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V4, &text, 1, NULL, 0, &n),
                  SIO_ERR_EIO_SEPARATOR_IN_TEXT);
        CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V4, after, 2, out, sizeof out, &n),
                  SIO_ERR_EIO_SEPARATOR_IN_TEXT);
        CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V4, &b64, 1, out, sizeof out, &n),
                  SIO_ERR_EIO_SEPARATOR_IN_TEXT);
        CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V3_TEXT, &text, 1, out, sizeof out, &n),
                  SIO_OK);
        size_t count = 0;
        CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_TEXT, out, n, NULL, &count), SIO_OK);
        CHECK_EQ_INT(count, 1);
        CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V3_BINARY, &text, 1, out, sizeof out, &n),
                  SIO_OK);
    }
}

static void test_encode(void)
{
    uint8_t out[64];
    size_t n;
    static const uint8_t bytes[] = {1, 2, 3, 4};
    sio_eio_packet two[2] = {{SIO_EIO_MESSAGE, false, false, {(const uint8_t *)"hello", 5}},
                             {SIO_EIO_MESSAGE, true, false, {bytes, 4}}};
    CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V4, two, 2, out, sizeof out, &n), SIO_OK);
    CHECK_STR(out, n,
              "4hello\x1e"
              "bAQIDBA==");
    CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V3_TEXT, two, 2, out, sizeof out, &n), SIO_OK);
    CHECK_STR(out, n, "6:4hello10:b4AQIDBA==");
    CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V3_BINARY, two, 2, out, sizeof out, &n),
              SIO_OK);
    CHECK_MEM(out, n,
              "\x00\x06\xff"
              "4hello\x01\x05\xff\x04\x01\x02\x03\x04",
              17);
    CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V4, two, 2, out, 10, &n),
              SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, 16);
    sio_eio_packet euro = {SIO_EIO_MESSAGE, false, false, {(const uint8_t *)"\xe2\x82\xac", 3}};
    CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V3_TEXT, &euro, 1, out, sizeof out, &n),
              SIO_OK);
    CHECK_STR(out, n, "2:4\xe2\x82\xac");
    CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V3_BINARY, &euro, 1, out, sizeof out, &n),
              SIO_OK);
    CHECK_MEM(out, n,
              "\x00\x04\xff"
              "4\xe2\x82\xac",
              7);
    CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V3_TEXT, NULL, 0, out, sizeof out, &n),
              SIO_OK);
    CHECK_STR(out, n, "0:");
    CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V4, NULL, 0, out, sizeof out, &n),
              SIO_ERR_INVALID_ARGUMENT);
    sio_eio_packet ping_bin = {SIO_EIO_PING, true, false, {bytes, 4}};
    CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V4, &ping_bin, 1, out, sizeof out, &n),
              SIO_ERR_INVALID_ARGUMENT);
    sio_eio_packet pre = {SIO_EIO_MESSAGE, true, true, {(const uint8_t *)"AQID", 4}};
    CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V4, &pre, 1, out, sizeof out, &n), SIO_OK);
    CHECK_STR(out, n, "bAQID");
    CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V3_BINARY, &pre, 1, out, sizeof out, &n),
              SIO_ERR_INVALID_ARGUMENT);
    test_encode_separator();
}

static void test_limits_and_edges(void)
{
    sio_err rc;
    sio_eio_options lim = {.max_records = 2};
    /* Compat: '0:' records carry no packet and do not count. */
    sio_eio_options lim_compat = {.max_records = 2, .compat = true};
    CHECK_EQ_INT(
        count_of(SIO_EIO_PAYLOAD_V3_TEXT, S("6:4hello0:2:4\xe2\x82\xac"), &lim_compat, &rc), 2);
    CHECK_ERR(rc, SIO_OK);
    count_of(SIO_EIO_PAYLOAD_V3_TEXT, S("1:61:61:6"), &lim, &rc);
    CHECK_ERR(rc, SIO_ERR_EIO_TOO_MANY_RECORDS);
    static const uint8_t three[] = {0, 1, 0xFF, '6', 0, 1, 0xFF, '6', 0, 1, 0xFF, '6'};
    CHECK_EQ_INT(count_of(SIO_EIO_PAYLOAD_V3_BINARY, three, 8, &lim, &rc), 2);
    CHECK_ERR(rc, SIO_OK);
    count_of(SIO_EIO_PAYLOAD_V3_BINARY, three, sizeof three, &lim, &rc);
    CHECK_ERR(rc, SIO_ERR_EIO_TOO_MANY_RECORDS);
    /* Ten XHR2 digit bytes pass the digit bound (then overrun the body), eleven do not. */
    static const uint8_t ten[] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0xFF, '4'};
    static const uint8_t eleven[] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0xFF, '4'};
    CHECK_ERR(sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_BINARY, ten, sizeof ten, NULL, NULL),
              SIO_ERR_EIO_V3_TRUNCATED);
    CHECK_ERR(
        sio_eio_payload_validate(SIO_EIO_PAYLOAD_V3_BINARY, eleven, sizeof eleven, NULL, NULL),
        SIO_ERR_EIO_V3_LENGTH_DIGITS);
    /* Bad arguments. */
    sio_eio_payload_iter it;
    sio_eio_packet pkt;
    bool has;
    sio_eio_payload_iter_init(&it, SIO_EIO_PAYLOAD_V4, NULL, 3, NULL);
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_ERR_INVALID_ARGUMENT);
    sio_eio_payload_iter_init(&it, SIO_EIO_PAYLOAD_V4, S("4"), NULL);
    CHECK_ERR(sio_eio_payload_next(&it, NULL, &has), SIO_ERR_INVALID_ARGUMENT);
    sio_eio_payload_iter_init(&it, (sio_eio_payload_format)9, S("4"), NULL);
    CHECK_ERR(sio_eio_payload_next(&it, &pkt, &has), SIO_ERR_INVALID_ARGUMENT);
    /* v3 length of a pre-encoded base64 packet counts its characters. */
    uint8_t out[32];
    size_t n;
    sio_eio_packet pre = {SIO_EIO_MESSAGE, true, true, {(const uint8_t *)"AQIDBA==", 8}};
    CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V3_TEXT, &pre, 1, out, sizeof out, &n),
              SIO_OK);
    CHECK_STR(out, n, "10:b4AQIDBA==");
    sio_eio_packet astral = {
        SIO_EIO_MESSAGE, false, false, {(const uint8_t *)"\xf0\x9f\x98\x80", 4}};
    CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V3_TEXT, &astral, 1, out, sizeof out, &n),
              SIO_OK);
    CHECK_STR(out, n, "3:4\xf0\x9f\x98\x80");
    sio_eio_packet bad = {SIO_EIO_MESSAGE, false, false, {(const uint8_t *)"\xc0\x80", 2}};
    CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V4, &bad, 1, out, sizeof out, &n),
              SIO_ERR_UTF8_INVALID);
    CHECK_EQ_INT(n, 0);
}

/* The sessions size a payload's buffer by sio__eio_payload_bound and encode once: the bound is
 * never below what any format writes, for text (multi-byte, so v3 counts fewer units than
 * bytes), binary data at every base64 remainder, data already in base64, empty data and no
 * packets, with lengths whose decimal form gains a digit (9/10, 99/100, ...). */
static void test_payload_bound(void)
{
    static uint8_t data[100001];
    memset(data, 'x', sizeof data);
    memcpy(data, "\xC3\xA9\xE2\x82\xAC", 5);
    static const size_t lens[] = {0,  1,  2,  3,   4,   5,    8,     9,     10,
                                  11, 98, 99, 100, 101, 9999, 10000, 100000};
    const sio_eio_payload_format formats[] = {SIO_EIO_PAYLOAD_V4, SIO_EIO_PAYLOAD_V3_TEXT,
                                              SIO_EIO_PAYLOAD_V3_BINARY};
    sio_eio_packet pkts[3 * sizeof lens / sizeof lens[0]];
    size_t n = 0;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        sio_span d = sio_span_of(lens[i] ? data : NULL, lens[i]);
        pkts[n++] = (sio_eio_packet){SIO_EIO_MESSAGE, false, false, d};
        pkts[n++] = (sio_eio_packet){SIO_EIO_MESSAGE, true, false, d};
        pkts[n++] = (sio_eio_packet){SIO_EIO_PING, false, false, d};
    }
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
        for (size_t first = 0; first < n; first++) {
            for (size_t count = 0; first + count <= n && count <= 4; count++) {
                size_t need = 0;
                sio_err rc =
                    sio_eio_payload_encode(formats[f], pkts + first, count, NULL, 0, &need);
                if (rc != SIO_ERR_BUFFER_TOO_SMALL)
                    continue; /* refused (no packets in v4, a v4 binary ping): nothing to size */
                CHECK(sio__eio_payload_bound(pkts + first, count) >= need);
            }
        }
    }
    /* base64 text copied as is: the bound counts its own length */
    sio_eio_packet b64 = {SIO_EIO_MESSAGE, true, true, sio_span_of("AQID", 4)};
    size_t need = 0;
    CHECK_ERR(sio_eio_payload_encode(SIO_EIO_PAYLOAD_V4, &b64, 1, NULL, 0, &need),
              SIO_ERR_BUFFER_TOO_SMALL);
    CHECK(sio__eio_payload_bound(&b64, 1) >= need);
}

int main(void)
{
    test_limits_and_edges();
    test_payload_bound();
    test_v4_decode();
    test_v4_errors();
    test_v4_utf8();
    test_v4_default_record_limit();
    test_v3_text();
    test_v3_length_digits();
    test_xhr2();
    test_encode();
    CHECK_DONE();
}
