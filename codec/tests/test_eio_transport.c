/* Engine.IO JSONP bodies (EIO-PKT-20), WebTransport framing (EIO-PKT-21) and the open packet
 * (EIO-HS-01, 02, 24). */
#include "check.h"
#include "sio/eio.h"

#define S(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

static uint8_t out[256];
static size_t n;

static void test_jsonp_get(void)
{
    sio_span idx;
    CHECK_ERR(sio_eio_jsonp_encode(S("3"), S("0{\"sid\":\"x\"}"), out, sizeof out, &n), SIO_OK);
    CHECK_STR(out, n, "___eio[3](\"0{\\\"sid\\\":\\\"x\\\"}\");");
    /* JSON.stringify escapes, lower-case \u00xx, and the two JavaScript line terminators. */
    CHECK_ERR(sio_eio_jsonp_encode(S("12"), S("4a\x1e\n\\\x7f\xe2\x80\xa8\xe2\x80\xa9\xe2\x82\xac"),
                                   out, sizeof out, &n),
              SIO_OK);
    CHECK_STR(out, n, "___eio[12](\"4a\\u001e\\n\\\\\x7f\\u2028\\u2029\xe2\x82\xac\");");
    CHECK_ERR(sio_eio_jsonp_decode(out, n, &idx, out + 128, 128, &n), SIO_OK);
    CHECK_STR(idx.ptr, idx.len, "12");
    CHECK_STR(out + 128, n, "4a\x1e\n\\\x7f\xe2\x80\xa8\xe2\x80\xa9\xe2\x82\xac");
    CHECK_ERR(sio_eio_jsonp_encode(S(""), S("6"), out, sizeof out, &n), SIO_OK);
    CHECK_STR(out, n, "___eio[](\"6\");");
    CHECK_ERR(sio_eio_jsonp_encode(S("1a"), S("6"), out, sizeof out, &n), SIO_ERR_EIO_JSONP_INDEX);
    /* Index digits: SIO_EIO_JSONP_MAX_INDEX_DIGITS (10) pass, 11 do not. */
    CHECK_ERR(sio_eio_jsonp_encode(S("1234567890"), S("6"), out, sizeof out, &n), SIO_OK);
    CHECK_ERR(sio_eio_jsonp_encode(S("12345678901"), S("6"), out, sizeof out, &n),
              SIO_ERR_EIO_JSONP_INDEX);
    CHECK_ERR(sio_eio_jsonp_decode(S("___eio[12345678901](\"6\");"), &idx, out, sizeof out, &n),
              SIO_ERR_EIO_JSONP_INDEX);
    CHECK_ERR(sio_eio_jsonp_decode(S("___eio[1](\"6\")"), &idx, out, sizeof out, &n),
              SIO_ERR_EIO_JSONP_FORMAT);
    CHECK_ERR(sio_eio_jsonp_decode(S("___eio[1]('6');"), &idx, out, sizeof out, &n),
              SIO_ERR_EIO_JSONP_FORMAT);
    CHECK_ERR(sio_eio_jsonp_decode(S("__eio[1](\"6\");"), &idx, out, sizeof out, &n),
              SIO_ERR_EIO_JSONP_FORMAT);
    CHECK_ERR(sio_eio_jsonp_decode(S("___eio[1](\"\\x\");"), &idx, out, sizeof out, &n),
              SIO_ERR_JSON_ESCAPE);
    CHECK_ERR(sio_eio_jsonp_decode(S("___eio[1](\"4\\u00e9\");"), &idx, out, 1, &n),
              SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, 3);
}

static void test_jsonp_post(void)
{
    sio_eio_options compat = {.compat = true};
    CHECK_ERR(sio_eio_jsonp_post_encode(S("4a b\n\\n\xe2\x82\xac"), out, sizeof out, &n), SIO_OK);
    CHECK_STR(out, n, "d=4a+b%5Cn%5C%5Cn%E2%82%AC");
    CHECK_ERR(sio_eio_jsonp_post_decode(out, n, NULL, out + 128, 128, &n), SIO_OK);
    CHECK_STR(out + 128, n, "4a b\n\\n\xe2\x82\xac");
    CHECK_ERR(sio_eio_jsonp_post_encode(S("4\\\n"), out, sizeof out, &n), SIO_ERR_INVALID_ARGUMENT);
    CHECK_ERR(sio_eio_jsonp_post_decode(S("x=1&d=4hi&y"), NULL, out, sizeof out, &n), SIO_OK);
    CHECK_STR(out, n, "4hi");
    CHECK_ERR(sio_eio_jsonp_post_decode(S("%64=4hi"), NULL, out, sizeof out, &n), SIO_OK);
    CHECK_ERR(sio_eio_jsonp_post_decode(S("d=1&d=2"), NULL, out, sizeof out, &n),
              SIO_ERR_EIO_FORM_NO_DATA);
    CHECK_ERR(sio_eio_jsonp_post_decode(S("e=4"), NULL, out, sizeof out, &n),
              SIO_ERR_EIO_FORM_NO_DATA);
    CHECK_ERR(sio_eio_jsonp_post_decode(S("d=4%zz"), NULL, out, sizeof out, &n),
              SIO_ERR_EIO_FORM_ESCAPE);
    CHECK_ERR(sio_eio_jsonp_post_decode(S("d=4%zz"), &compat, out, sizeof out, &n), SIO_OK);
    CHECK_STR(out, n, "4%zz");
    CHECK_ERR(sio_eio_jsonp_post_decode(S("d=4%E2%82"), NULL, out, sizeof out, &n),
              SIO_ERR_UTF8_TRUNCATED);
    CHECK_ERR(sio_eio_jsonp_post_decode(S("d=4%FF"), NULL, out, sizeof out, &n),
              SIO_ERR_UTF8_INVALID);
    CHECK_ERR(sio_eio_jsonp_post_decode(S("d=4hello"), NULL, NULL, 0, &n),
              SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, 6);
}

static void test_webtransport(void)
{
    sio_eio_packet pkt;
    size_t used;
    sio_eio_options compat = {.compat = true}, small = {.max_payload = 10};
    static const uint8_t stream[] = {5, '4', '1', 0xE2, 0x82, 0xAC, 1, '2', 0x83, 1, 2, 3};
    CHECK_ERR(sio_eio_wt_decode(stream, sizeof stream, NULL, &pkt, &used), SIO_OK);
    CHECK_EQ_INT(used, 6);
    CHECK_STR(pkt.data.ptr, pkt.data.len, "1\xe2\x82\xac");
    CHECK_ERR(sio_eio_wt_decode(stream + 6, 2, NULL, &pkt, &used), SIO_OK);
    CHECK(used == 2 && pkt.type == SIO_EIO_PING);
    CHECK_ERR(sio_eio_wt_decode(stream + 8, 4, NULL, &pkt, &used), SIO_OK);
    CHECK(used == 4 && pkt.binary && pkt.data.len == 3);
    CHECK_ERR(sio_eio_wt_decode(stream + 8, 3, NULL, &pkt, &used), SIO_OK);
    CHECK_EQ_INT(used, 0);
    CHECK_ERR(sio_eio_wt_decode(NULL, 0, NULL, &pkt, &used), SIO_OK);
    CHECK_EQ_INT(used, 0);
    static const uint8_t zero[] = {0}, eleven[] = {11}, ten[] = {10};
    CHECK_ERR(sio_eio_wt_decode(zero, 1, NULL, &pkt, &used), SIO_ERR_EIO_WT_ZERO_LENGTH);
    CHECK_ERR(sio_eio_wt_decode(eleven, 1, &small, &pkt, &used), SIO_ERR_EIO_WT_TOO_LARGE);
    CHECK_ERR(sio_eio_wt_decode(ten, 1, &small, &pkt, &used), SIO_OK);
    CHECK_EQ_INT(used, 0);
    static const uint8_t huge[] = {0xFF, 1, 0, 0, 0, 0, 0, 0, 0};
    CHECK_ERR(sio_eio_wt_decode(huge, sizeof huge, NULL, &pkt, &used), SIO_ERR_EIO_WT_TOO_LARGE);
    static const uint8_t nonmin[] = {0xFE, 0, 3, 1, 2, 3};
    CHECK_ERR(sio_eio_wt_decode(nonmin, sizeof nonmin, NULL, &pkt, &used),
              SIO_ERR_EIO_WT_NON_MINIMAL);
    CHECK_ERR(sio_eio_wt_decode(nonmin, sizeof nonmin, &compat, &pkt, &used), SIO_OK);
    CHECK_EQ_INT(used, 6);
    /* Encoder headers, as engine.io-parser's tests expect them. */
    static const uint8_t three[] = {1, 2, 3};
    sio_eio_packet bin = {SIO_EIO_MESSAGE, true, false, {three, 3}};
    CHECK_ERR(sio_eio_wt_encode(&bin, out, sizeof out, &n), SIO_OK);
    CHECK_MEM(out, n, "\x83\x01\x02\x03", 4);
    sio_eio_packet txt = {SIO_EIO_MESSAGE, false, false, {(const uint8_t *)"1\xe2\x82\xac", 4}};
    CHECK_ERR(sio_eio_wt_encode(&txt, out, sizeof out, &n), SIO_OK);
    CHECK_MEM(out, n,
              "\x05"
              "41\xe2\x82\xac",
              6);
    static uint8_t big[70000];
    bin.data = sio_span_of(big, 12345);
    CHECK_ERR(sio_eio_wt_encode(&bin, NULL, 0, &n), SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, 12348);
    CHECK_ERR(sio_eio_wt_encode(&bin, out, 3, &n), SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_MEM(out, 3, "\xfe\x30\x39", 3);
    bin.data = sio_span_of(big, 70000);
    CHECK_ERR(sio_eio_wt_encode(&bin, out, 9, &n), SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_MEM(out, 9, "\xff\x00\x00\x00\x00\x00\x01\x11\x70", 9);
    bin.data = sio_span_of(big, 0);
    CHECK_ERR(sio_eio_wt_encode(&bin, out, sizeof out, &n), SIO_ERR_INVALID_ARGUMENT);
}

static void test_open(void)
{
    static const char v4[] = "0{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"upgrades\":[\"websocket\"],"
                             "\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}";
    sio_eio_open o;
    CHECK_ERR(sio_eio_open_decode(4, S(v4), &o), SIO_OK);
    CHECK_STR(o.sid.ptr, o.sid.len, "lv_VI97HAXpY6yYWAAAC");
    CHECK(!o.sid_escaped && o.has_upgrades && o.upgrade_count == 1 && o.has_max_payload);
    CHECK_STR(o.upgrades[0].ptr, o.upgrades[0].len, "websocket");
    CHECK(o.ping_interval == 25000 && o.ping_timeout == 20000 && o.max_payload == 1000000);
    CHECK_ERR(sio_eio_open_encode(&o, out, sizeof out, &n), SIO_OK);
    CHECK_STR(out, n, v4);
    CHECK_ERR(sio_eio_open_encode(&o, out, 10, &n), SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, sizeof v4 - 1);
    /* Key order is free on input; the set is not. */
    CHECK_ERR(sio_eio_open_decode(4,
                                  S("0{\"upgrades\":[],\"sid\":\"a\",\"maxPayload\":1,"
                                    "\"pingTimeout\":2,\"pingInterval\":3}"),
                                  &o),
              SIO_OK);
    CHECK_ERR(sio_eio_open_decode(4,
                                  S("0{\"sid\":\"a\",\"upgrades\":[],\"pingInterval\":3,"
                                    "\"pingTimeout\":2}"),
                                  &o),
              SIO_ERR_EIO_OPEN_KEY);
    CHECK_ERR(
        sio_eio_open_decode(3, S("0{\"sid\":\"a\",\"pingInterval\":3,\"pingTimeout\":2}"), &o),
        SIO_OK);
    CHECK(!o.has_upgrades && !o.has_max_payload);
    CHECK_ERR(sio_eio_open_decode(4,
                                  S("0{\"sid\":\"a\",\"sid\":\"b\",\"upgrades\":[],"
                                    "\"pingInterval\":3,\"pingTimeout\":2,\"maxPayload\":1}"),
                                  &o),
              SIO_ERR_EIO_OPEN_KEY);
    CHECK_ERR(sio_eio_open_decode(4,
                                  S("0{\"sid\":1,\"upgrades\":[],\"pingInterval\":3,"
                                    "\"pingTimeout\":2,\"maxPayload\":1}"),
                                  &o),
              SIO_ERR_EIO_OPEN_TYPE);
    /* A client's reading: extra keys skipped, upgrades and maxPayload optional. */
    static const char extra[] = "0{\"x\":1,\"maxPayload\":9,\"pingTimeout\":2,\"upgrades\":[],"
                                "\"pingInterval\":3,\"sid\":\"s\",\"y\":{\"z\":[]}}";
    CHECK_ERR(sio_eio_open_decode(4, S(extra), &o), SIO_ERR_EIO_OPEN_KEY);
    CHECK_ERR(sio_eio_open_read(4, S(extra), &o), SIO_OK);
    CHECK(o.ping_interval == 3 && o.ping_timeout == 2 && o.max_payload == 9);
    CHECK_STR(o.sid.ptr, o.sid.len, "s");
    CHECK_ERR(sio_eio_open_read(4, S("0{\"sid\":\"a\",\"pingInterval\":3,\"pingTimeout\":2}"), &o),
              SIO_OK);
    CHECK(!o.has_max_payload && !o.has_upgrades);
    CHECK_ERR(sio_eio_open_read(4, S("0{\"sid\":\"a\",\"pingInterval\":3,\"x\":2}"), &o),
              SIO_ERR_EIO_OPEN_KEY); /* no pingTimeout */
    CHECK_ERR(sio_eio_open_read(
                  4, S("0{\"sid\":\"a\",\"sid\":\"b\",\"pingInterval\":3,\"pingTimeout\":2}"), &o),
              SIO_ERR_EIO_OPEN_KEY);
    CHECK_ERR(
        sio_eio_open_read(4, S("0{\"sid\":\"a\",\"pingInterval\":\"3\",\"pingTimeout\":2}"), &o),
        SIO_ERR_EIO_OPEN_TYPE);
    CHECK_ERR(sio_eio_open_decode(4,
                                  S("0{\"sid\":\"a\",\"upgrades\":[],\"pingInterval\":3.5,"
                                    "\"pingTimeout\":2,\"maxPayload\":1}"),
                                  &o),
              SIO_ERR_EIO_OPEN_TYPE);
    CHECK_ERR(sio_eio_open_decode(4,
                                  S("0{\"sid\":\"a\",\"upgrades\":[],\"pingInterval\":-1,"
                                    "\"pingTimeout\":2,\"maxPayload\":1}"),
                                  &o),
              SIO_ERR_EIO_OPEN_TYPE);
    CHECK_ERR(sio_eio_open_decode(4, S("0[]"), &o), SIO_ERR_EIO_OPEN_NOT_OPEN);
    CHECK_ERR(sio_eio_open_decode(4, S("4{}"), &o), SIO_ERR_EIO_OPEN_NOT_OPEN);
    CHECK_ERR(sio_eio_open_decode(4, S("0{"), &o), SIO_ERR_JSON_TRUNCATED);
    /* Upgrades: SIO_EIO_OPEN_MAX_UPGRADES (4) pass, 5 do not. */
    CHECK_ERR(sio_eio_open_decode(4,
                                  S("0{\"sid\":\"a\",\"upgrades\":[\"a\",\"b\",\"c\",\"d\"],"
                                    "\"pingInterval\":3,\"pingTimeout\":2,\"maxPayload\":1}"),
                                  &o),
              SIO_OK);
    CHECK_ERR(sio_eio_open_decode(4,
                                  S("0{\"sid\":\"a\",\"upgrades\":[\"a\",\"b\",\"c\",\"d\","
                                    "\"e\"],\"pingInterval\":3,\"pingTimeout\":2,"
                                    "\"maxPayload\":1}"),
                                  &o),
              SIO_ERR_EIO_OPEN_TOO_MANY_UPGRADES);
    /* Numbers: 2^53-1 passes, 2^53 does not. */
    CHECK_ERR(sio_eio_open_decode(4,
                                  S("0{\"sid\":\"a\",\"upgrades\":[],\"pingInterval\":"
                                    "9007199254740991,\"pingTimeout\":2,\"maxPayload\":1}"),
                                  &o),
              SIO_OK);
    CHECK_ERR(sio_eio_open_decode(4,
                                  S("0{\"sid\":\"a\",\"upgrades\":[],\"pingInterval\":"
                                    "9007199254740992,\"pingTimeout\":2,\"maxPayload\":1}"),
                                  &o),
              SIO_ERR_EIO_OPEN_TYPE);
    CHECK_ERR(sio_eio_open_decode(4,
                                  S("0{\"sid\":\"a\\\"b\",\"upgrades\":[],\"pingInterval\":3,"
                                    "\"pingTimeout\":2,\"maxPayload\":1}"),
                                  &o),
              SIO_OK);
    CHECK(o.sid_escaped);
    sio_eio_open ws = {.sid = {(const uint8_t *)"a\"b", 3},
                       .has_upgrades = true,
                       .ping_interval = 300,
                       .ping_timeout = 200,
                       .max_payload = 1000000,
                       .has_max_payload = true};
    CHECK_ERR(sio_eio_open_encode(&ws, out, sizeof out, &n), SIO_OK);
    CHECK_STR(out, n,
              "0{\"sid\":\"a\\\"b\",\"upgrades\":[],\"pingInterval\":300,"
              "\"pingTimeout\":200,\"maxPayload\":1000000}");
    ws.ping_timeout = SIO_EIO_OPEN_MAX_NUMBER + 1;
    CHECK_ERR(sio_eio_open_encode(&ws, out, sizeof out, &n), SIO_ERR_INVALID_ARGUMENT);
}

static void test_edges(void)
{
    sio_span idx;
    sio_eio_packet pkt;
    size_t used;
    CHECK_ERR(sio_eio_jsonp_decode(S("___eio[](\"6\");"), &idx, out, sizeof out, &n), SIO_OK);
    CHECK(idx.len == 0);
    CHECK_STR(out, n, "6");
    CHECK_ERR(sio_eio_jsonp_decode(S("___eio[1](\"6\");x"), &idx, out, sizeof out, &n),
              SIO_ERR_EIO_JSONP_FORMAT);
    CHECK_ERR(sio_eio_jsonp_decode(S("___eio[1](\"6);"), &idx, out, sizeof out, &n),
              SIO_ERR_EIO_JSONP_FORMAT);
    CHECK_ERR(sio_eio_jsonp_encode(S("1"), S("4\xff"), out, sizeof out, &n), SIO_ERR_UTF8_INVALID);
    /* A bare 'd' field is an empty payload; the payload layer then rejects it. */
    CHECK_ERR(sio_eio_jsonp_post_decode(S("d"), NULL, out, sizeof out, &n), SIO_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_ERR(sio_eio_jsonp_post_decode(S(""), NULL, out, sizeof out, &n),
              SIO_ERR_EIO_FORM_NO_DATA);
    /* Headers that have not fully arrived ask for more bytes. */
    static const uint8_t h16[] = {0x7E, 0x01}, h64[] = {0xFF, 0, 0, 0, 0, 0, 0, 0};
    CHECK_ERR(sio_eio_wt_decode(h16, sizeof h16, NULL, &pkt, &used), SIO_OK);
    CHECK_EQ_INT(used, 0);
    CHECK_ERR(sio_eio_wt_decode(h64, sizeof h64, NULL, &pkt, &used), SIO_OK);
    CHECK_EQ_INT(used, 0);
    /* The default max_payload (1000000) itself is fine, one more byte is not. */
    static const uint8_t at_max[] = {0xFF, 0, 0, 0, 0, 0, 0x0F, 0x42, 0x40};
    static const uint8_t past_max[] = {0xFF, 0, 0, 0, 0, 0, 0x0F, 0x42, 0x41};
    CHECK_ERR(sio_eio_wt_decode(at_max, sizeof at_max, NULL, &pkt, &used), SIO_OK);
    CHECK_EQ_INT(used, 0);
    CHECK_ERR(sio_eio_wt_decode(past_max, sizeof past_max, NULL, &pkt, &used),
              SIO_ERR_EIO_WT_TOO_LARGE);
    static const uint8_t badtext[] = {2, '9', 'x'};
    CHECK_ERR(sio_eio_wt_decode(badtext, sizeof badtext, NULL, &pkt, &used),
              SIO_ERR_EIO_UNKNOWN_TYPE);
    CHECK_EQ_INT(used, 0);
    /* A v3-style open packet: no upgrades, no maxPayload. */
    sio_eio_open v3 = {
        .sid = {(const uint8_t *)"x", 1}, .ping_interval = 25000, .ping_timeout = 5000};
    CHECK_ERR(sio_eio_open_encode(&v3, out, sizeof out, &n), SIO_OK);
    CHECK_STR(out, n, "0{\"sid\":\"x\",\"pingInterval\":25000,\"pingTimeout\":5000}");
    CHECK_ERR(sio_eio_open_decode(4, S("0"), &v3), SIO_ERR_EIO_OPEN_NOT_OPEN);
    CHECK_ERR(sio_eio_open_decode(2, S("0{}"), &v3), SIO_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    test_edges();
    test_jsonp_get();
    test_jsonp_post();
    test_webtransport();
    test_open();
    CHECK_DONE();
}
