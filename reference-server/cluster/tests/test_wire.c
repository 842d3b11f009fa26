/* Unit tests of the adapter wire module against bytes captured from two socket.io 4.8.3 servers
 * joined by @socket.io/redis-adapter 8.3.0 (uids r00001, r00002 made deterministic), and against
 * the corners of JavaScript's value model the module reproduces. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cluster/wire.h"
#include "cluster/wire_ffi.h"
#include "cluster/wire_internal.h"

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static char *hex_of(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        sprintf(s + 2 * i, "%02x", p[i]);
    s[2 * n] = '\0';
    return s;
}

static void check_hex(const char *where, buf *b, const char *want)
{
    char *got = hex_of(buf_begin(b), buf_size(b));
    if (strcmp(got, want) != 0) {
        check_failed++;
        fprintf(stderr, "%s:\n  want %s\n  got  %s\n", where, want, got);
    } else {
        check_passed++;
    }
    free(got);
}

/* The JSON writers do not terminate their output; the tests read it as a C string. */
static const char *cstr(buf *b)
{
    buf_append(b, "", 1);
    b->len--;
    return (const char *)buf_begin(b);
}

static void check_text(const char *where, const char *got, size_t len, const char *want)
{
    if (len != strlen(want) || memcmp(got, want, len) != 0) {
        check_failed++;
        fprintf(stderr, "%s:\n  want %s\n  got  %.*s\n", where, want, (int)len, got);
    } else {
        check_passed++;
    }
}

/* Decodes, describes, and compares the description. */
static void check_decoded(int kind, const char *hex, const char *want)
{
    uint8_t bytes[4096];
    size_t n = hex[0] == '{' ? strlen(hex) : unhex(hex, bytes);
    if (hex[0] == '{')
        memcpy(bytes, hex, n);
    char out[8192];
    size_t len = 0;
    int e = cluster_describe_bytes(kind, bytes, n, out, sizeof out, &len);
    if (e != CLUSTER_OK) {
        check_failed++;
        fprintf(stderr, "decode of %.60s failed: %s\n", hex, cluster_err_name((cluster_err)e));
        return;
    }
    check_text(hex, out, len, want);
}

static void check_refused(int kind, const char *hex, cluster_err want)
{
    uint8_t bytes[4096];
    size_t n = unhex(hex, bytes);
    char out[8192];
    size_t len = 0;
    int e = cluster_describe_bytes(kind, bytes, n, out, sizeof out, &len);
    if (e != (int)want) {
        check_failed++;
        fprintf(stderr, "%s: want %s, got %s\n", hex, cluster_err_name(want),
                cluster_err_name((cluster_err)e));
    } else {
        check_passed++;
    }
}

static const char *const ROOM1[] = {"room1"};
static const char *const ROOM2[] = {"room2"};

static void test_captured_broadcasts(void)
{
    /* io.to("room1").except("room2").emit("hello", 1) on node r00001 */
    const char *hello = "93a672303030303183a47479706502a46461746192a568656c6c6f01a36e7370a12f83a572"
                        "6f6f6d7391a5726f6f6d"
                        "31a665786365707491a5726f6f6d32a5666c61677380";
    check_decoded(CLUSTER_MSG_BROADCAST, hello,
                  "{\"kind\":\"broadcast\",\"encoding\":\"msgpack\",\"uid\":\"r00001\",\"packet\":{"
                  "\"nsp\":\"/\",\"data\":"
                  "{\"json\":[\"hello\",1],\"attachments\":[]}},\"opts\":{\"rooms\":[\"room1\"],"
                  "\"except\":[\"room2\"],"
                  "\"flags\":{}}}");
    buf b = {0};
    cluster_target t = {ROOM1, 1, ROOM2, 1, {0}};
    CHECK(cluster_broadcast_encode(&b, "r00001", "/", sio_span_of("[\"hello\",1]", 11), NULL, 0,
                                   &t) == CLUSTER_OK);
    check_hex("encode to(room1).except(room2)", &b, hello);
    buf_reset(&b);
    cluster_broadcast_channel(&b, "socket.io", "/", &t);
    CHECK(strcmp((char *)buf_begin(&b), "socket.io#/#room1#") == 0);
    buf_reset(&b);

    /* io.emit("bin", Buffer [1,2,3]): type stays 2, the bytes inline as bin 8 */
    const char *bin = "93a672303030303183a47479706502a46461746192a362696ec403010203a36e7370a12f83a5"
                      "726f6f6d7390a66578"
                      "6365707490a5666c61677380";
    check_decoded(CLUSTER_MSG_BROADCAST, bin,
                  "{\"kind\":\"broadcast\",\"encoding\":\"msgpack\",\"uid\":\"r00001\",\"packet\":{"
                  "\"nsp\":\"/\",\"data\":"
                  "{\"json\":[\"bin\",{\"_placeholder\":true,\"num\":0}],\"attachments\":["
                  "\"010203\"]}},\"opts\":"
                  "{\"rooms\":[],\"except\":[],\"flags\":{}}}");
    const uint8_t three[] = {1, 2, 3};
    sio_span att = sio_span_of(three, 3);
    cluster_target all = {NULL, 0, NULL, 0, {0}};
    const char *ph = "[\"bin\",{\"_placeholder\":true,\"num\":0}]";
    CHECK(cluster_broadcast_encode(&b, "r00001", "/", sio_span_of(ph, strlen(ph)), &att, 1, &all) ==
          CLUSTER_OK);
    check_hex("encode binary", &b, bin);
    buf_reset(&b);
    cluster_broadcast_channel(&b, "socket.io", "/", &all);
    CHECK(strcmp((char *)buf_begin(&b), "socket.io#/#") == 0);
    buf_reset(&b);

    /* io.volatile.compress(false).emit("v", "x") */
    const char *vol = "93a672303030303183a47479706502a46461746192a176a178a36e7370a12f83a5726f6f6d73"
                      "90a665786365707490"
                      "a5666c61677382a8766f6c6174696c65c3a8636f6d7072657373c2";
    cluster_target vt = {
        NULL, 0, NULL, 0, {.has_volatile = true, .is_volatile = true, .has_compress = true}};
    CHECK(cluster_broadcast_encode(&b, "r00001", "/", sio_span_of("[\"v\",\"x\"]", 9), NULL, 0,
                                   &vt) == CLUSTER_OK);
    check_hex("encode volatile, compress false", &b, vol);
    buf_reset(&b);
    check_decoded(CLUSTER_MSG_BROADCAST, vol,
                  "{\"kind\":\"broadcast\",\"encoding\":\"msgpack\",\"uid\":\"r00001\",\"packet\":{"
                  "\"nsp\":\"/\",\"data\":"
                  "{\"json\":[\"v\",\"x\"],\"attachments\":[]}},\"opts\":{\"rooms\":[],\"except\":["
                  "],\"flags\":"
                  "{\"volatile\":true,\"compress\":false}}}");

    /* the emitter: uid "emitter", options in the order rooms, flags, except */
    check_decoded(CLUSTER_MSG_BROADCAST,
                  "93a7656d697474657283a47479706502a46461746192ac66726f6d2d656d697474657201a36e7370"
                  "a12f83a5726f6f6d739"
                  "1a5726f6f6d31a5666c61677380a665786365707490",
                  "{\"kind\":\"broadcast\",\"encoding\":\"msgpack\",\"uid\":\"emitter\",\"packet\":"
                  "{\"nsp\":\"/\",\"data\":"
                  "{\"json\":[\"from-emitter\",1],\"attachments\":[]}},\"opts\":{\"rooms\":["
                  "\"room1\"],\"except\":[],"
                  "\"flags\":{}}}");
}

static void test_captured_requests(void)
{
    /* broadcast with ack: msgpack request of type 7 */
    const char *ask = "85a3756964a6723030303031a9726571756573744964a6723030303033a47479706507a67061"
                      "636b657483a4747970"
                      "6502a46461746192a361736b2aa36e7370a12fa46f70747383a5726f6f6d7390a66578636570"
                      "7490a5666c61677381a7"
                      "74696d656f7574cd03e8";
    check_decoded(CLUSTER_MSG_REQUEST, ask,
                  "{\"kind\":\"request\",\"encoding\":\"msgpack\",\"uid\":\"r00001\",\"requestId\":"
                  "\"r00003\",\"type\":7,"
                  "\"packet\":{\"nsp\":\"/"
                  "\",\"data\":{\"json\":[\"ask\",42],\"attachments\":[]}},\"opts\":{\"rooms\":[],"
                  "\"except\":[],\"flags\":{\"timeout\":1000}}}");
    buf b = {0};
    cluster_target t = {NULL, 0, NULL, 0, {.has_timeout = true, .timeout_ms = 1000}};
    CHECK(cluster_request_broadcast(&b, "r00001", "r00003", "/", sio_span_of("[\"ask\",42]", 10),
                                    NULL, 0, &t) == CLUSTER_OK);
    check_hex("encode broadcast request", &b, ask);
    buf_reset(&b);

    cluster_target fetch = {ROOM1, 1, NULL, 0, {0}};
    cluster_request_fetch(&b, "r00001", "r00004", &fetch);
    check_text("fetch request", (char *)buf_begin(&b), buf_size(&b),
               "{\"uid\":\"r00001\",\"requestId\":\"r00004\",\"type\":5,\"opts\":{\"rooms\":["
               "\"room1\"],\"except\":[]}}");
    buf_reset(&b);
    const char *const room3[] = {"room3"};
    cluster_target join = {ROOM2, 1, NULL, 0, {0}};
    cluster_request_rooms(&b, "r00001", CLUSTER_REQ_REMOTE_JOIN, &join, room3, 1);
    check_text("join request", (char *)buf_begin(&b), buf_size(&b),
               "{\"uid\":\"r00001\",\"type\":2,\"opts\":{\"rooms\":[\"room2\"],\"except\":[]},"
               "\"rooms\":[\"room3\"]}");
    check_decoded(CLUSTER_MSG_REQUEST, cstr(&b),
                  "{\"kind\":\"request\",\"encoding\":\"json\",\"uid\":\"r00001\",\"type\":2,"
                  "\"opts\":{\"rooms\":"
                  "[\"room2\"],\"except\":[],\"flags\":{}},\"rooms\":[\"room3\"]}");
    buf_reset(&b);
    cluster_target dis = {ROOM2, 1, NULL, 0, {0}};
    cluster_request_disconnect(&b, "r00001", &dis, true);
    check_text("disconnect request", (char *)buf_begin(&b), buf_size(&b),
               "{\"uid\":\"r00001\",\"type\":4,\"opts\":{\"rooms\":[\"room2\"],\"except\":[]},"
               "\"close\":true}");
    buf_reset(&b);
    CHECK(cluster_request_server_side_emit(&b, "r00001", "r00005", sio_span_of("[\"ping\",2]", 10),
                                           NULL, 0) == CLUSTER_OK);
    check_text("server-side emit", (char *)buf_begin(&b), buf_size(&b),
               "{\"uid\":\"r00001\",\"requestId\":\"r00005\",\"type\":6,\"data\":[\"ping\",2]}");
    buf_reset(&b);
    cluster_request_all_rooms(&b, "r00001", "r00006");
    check_text("all rooms", (char *)buf_begin(&b), buf_size(&b),
               "{\"uid\":\"r00001\",\"requestId\":\"r00006\",\"type\":1}");
    buf_reset(&b);
}

static void test_captured_responses(void)
{
    buf b = {0};
    cluster_response_client_count(&b, "r00003", 2);
    check_text("client count", (char *)buf_begin(&b), buf_size(&b),
               "{\"type\":8,\"requestId\":\"r00003\",\"clientCount\":2}");
    buf_reset(&b);
    const char *ack =
        "83a47479706509a9726571756573744964a6723030303033a67061636b6574a861636b2d63314042";
    CHECK(cluster_response_broadcast_ack(&b, "r00003", sio_span_of("\"ack-c1@B\"", 10), NULL, 0) ==
          CLUSTER_OK);
    check_hex("broadcast ack", &b, ack);
    buf_reset(&b);
    check_decoded(CLUSTER_MSG_RESPONSE, ack,
                  "{\"kind\":\"response\",\"encoding\":\"msgpack\",\"requestId\":\"r00003\","
                  "\"type\":9,\"ack\":{\"json\":"
                  "\"ack-c1@B\",\"attachments\":[]}}");
    CHECK(cluster_response_server_side_emit(&b, "r00005", sio_span_of("\"pong-from-B\"", 13), NULL,
                                            0) == CLUSTER_OK);
    check_text("sse answer", (char *)buf_begin(&b), buf_size(&b),
               "{\"type\":6,\"requestId\":\"r00005\",\"data\":\"pong-from-B\"}");
    buf_reset(&b);
    const char *const rooms[] = {"kyyq6lcvGlENJeRGAAAA", "room1"};
    cluster_response_rooms(&b, "r00006", rooms, 2);
    check_text("rooms answer", (char *)buf_begin(&b), buf_size(&b),
               "{\"requestId\":\"r00006\",\"rooms\":[\"kyyq6lcvGlENJeRGAAAA\",\"room1\"]}");
    check_decoded(CLUSTER_MSG_RESPONSE, cstr(&b),
                  "{\"kind\":\"response\",\"encoding\":\"json\",\"requestId\":\"r00006\",\"rooms\":"
                  "[\"kyyq6lcvGlENJeRGAAAA\",\"room1\"]}");
    buf_reset(&b);
}

static void check_number(double d, const char *want)
{
    char out[32];
    size_t n = cluster_js_number(d, out);
    check_text(want, out, n, want);
}

static void test_js_numbers(void)
{
    check_number(0.1, "0.1");
    check_number(-0.0, "0");
    check_number(1.0, "1");
    check_number(1e21, "1e+21");
    check_number(1e20, "100000000000000000000");
    check_number(123456789012345680000.0, "123456789012345680000");
    check_number(1.5e-7, "1.5e-7");
    check_number(0.000001, "0.000001");
    check_number(1.0 / 3, "0.3333333333333333");
    check_number(-2.5, "-2.5");
    check_number(5e-324, "5e-324");
    check_number(1.7976931348623157e308, "1.7976931348623157e+308");
    check_number(18446744073709551615.0, "18446744073709552000");
    check_number(0.1f, "0.10000000149011612");
    char iso[48];
    CHECK(cluster_js_date_iso(1796597850122.0, iso) &&
          strcmp(iso, "2026-12-06T22:57:30.122Z") == 0);
    CHECK(cluster_js_date_iso(-1.0, iso) && strcmp(iso, "1969-12-31T23:59:59.999Z") == 0);
    CHECK(cluster_js_date_iso(8.64e15, iso) && strcmp(iso, "+275760-09-13T00:00:00.000Z") == 0);
    CHECK(!cluster_js_date_iso(8.64e15 + 1, iso));
}

static void test_values(void)
{
    /* map keys in JavaScript's order: "1" before "b", a repeated key keeps its first place and last value */
    check_decoded(CLUSTER_MSG_BROADCAST,
                  "93a178"
                  "82a474797065"
                  "02"
                  "a464617461"
                  "92a165"
                  "83a162"
                  "01"
                  "a131"
                  "02"
                  "a162"
                  "03"
                  "80",
                  "{\"kind\":\"broadcast\",\"encoding\":\"msgpack\",\"uid\":\"x\",\"packet\":{"
                  "\"nsp\":\"/\",\"data\":"
                  "{\"json\":[\"e\",{\"1\":2,\"b\":3}],\"attachments\":[]}},\"opts\":{\"rooms\":[],"
                  "\"except\":[],"
                  "\"flags\":{}}}");
    /* undefined (d4 00 00) in an array is null, in a map the property is dropped; an ArrayBuffer
     * (c7 of type 0) is binary */
    check_decoded(CLUSTER_MSG_BROADCAST,
                  "93a178"
                  "82a474797065"
                  "02"
                  "a464617461"
                  "94a165"
                  "d40000"
                  "81a161d40000"
                  "c7020001ff"
                  "80",
                  "{\"kind\":\"broadcast\",\"encoding\":\"msgpack\",\"uid\":\"x\",\"packet\":{"
                  "\"nsp\":\"/\",\"data\":"
                  "{\"json\":[\"e\",null,{},{\"_placeholder\":true,\"num\":0}],\"attachments\":["
                  "\"01ff\"]}},\"opts\":"
                  "{\"rooms\":[],\"except\":[],\"flags\":{}}}");
    /* timestamp 32 and a float64 NaN */
    check_decoded(CLUSTER_MSG_BROADCAST,
                  "93a178"
                  "82a474797065"
                  "02"
                  "a464617461"
                  "93a165"
                  "d6ff00000001"
                  "cb7ff8000000000000"
                  "80",
                  "{\"kind\":\"broadcast\",\"encoding\":\"msgpack\",\"uid\":\"x\",\"packet\":{"
                  "\"nsp\":\"/\",\"data\":"
                  "{\"json\":[\"e\",\"1970-01-01T00:00:01.000Z\",null],\"attachments\":[]}},"
                  "\"opts\":{\"rooms\":[],"
                  "\"except\":[],\"flags\":{}}}");
    /* numeric rooms are their decimal text */
    check_decoded(
        CLUSTER_MSG_BROADCAST,
        "93a178"
        "82a474797065"
        "02"
        "a464617461"
        "91a165"
        "82a5726f6f6d73"
        "9207cb3ff8000000000000"
        "a6657863657074"
        "90",
        "{\"kind\":\"broadcast\",\"encoding\":\"msgpack\",\"uid\":\"x\",\"packet\":{\"nsp\":\"/"
        "\",\"data\":"
        "{\"json\":[\"e\"],\"attachments\":[]}},\"opts\":{\"rooms\":[\"7\",\"1.5\"],\"except\":[],"
        "\"flags\":{}}}");
    /* JSON -> msgpack in JavaScript's order, numbers as notepack writes them */
    buf b = {0};
    const char *json = "[\"e\",{\"b\":1,\"2\":-33,\"a\":1.5,\"b\":4294967296}]";
    cluster_target all = {NULL, 0, NULL, 0, {0}};
    CHECK(cluster_broadcast_encode(&b, "u", "/", sio_span_of(json, strlen(json)), NULL, 0, &all) ==
          CLUSTER_OK);
    check_hex("key order and number forms", &b,
              "93a17583a47479706502a46461746192a16583a132d0dfa162cf0000000100000000a161cb3ff8000000"
              "000000a36e7370a12f"
              "83a5726f6f6d7390a665786365707490a5666c61677380");
    buf_reset(&b);
}

static void test_refusals(void)
{
    check_refused(CLUSTER_MSG_BROADCAST, "", CLUSTER_ERR_EMPTY);
    check_refused(CLUSTER_MSG_BROADCAST, "93a17801", CLUSTER_ERR_MSGPACK_TRUNCATED);
    check_refused(CLUSTER_MSG_BROADCAST, "93a178", CLUSTER_ERR_MSGPACK_COUNT);
    check_refused(CLUSTER_MSG_BROADCAST, "c1", CLUSTER_ERR_MSGPACK_RESERVED);
    check_refused(CLUSTER_MSG_BROADCAST, "ddffffffff00", CLUSTER_ERR_MSGPACK_COUNT);
    check_refused(CLUSTER_MSG_BROADCAST, "9000", CLUSTER_ERR_MSGPACK_TRAILING);
    check_refused(CLUSTER_MSG_BROADCAST, "92a17801", CLUSTER_ERR_SHAPE);
    check_refused(CLUSTER_MSG_BROADCAST, "93a17882a47479706503a464617461910080",
                  CLUSTER_ERR_PACKET_TYPE);
    check_refused(CLUSTER_MSG_REQUEST, "7b7d7d", CLUSTER_ERR_JSON);
    /* 32 nested arrays pass the shape check, 33 do not */
    char deep[80] = "";
    for (int i = 0; i < 33; i++)
        strcat(deep, "91");
    strcat(deep, "00");
    uint8_t bytes[64];
    size_t at = 0;
    CHECK_EQ_INT(cluster_msgpack_check(bytes, unhex(deep, bytes), &at), CLUSTER_ERR_DEPTH);
    CHECK_EQ_INT(at, 32);
    CHECK_EQ_INT(cluster_msgpack_check(bytes + 1, unhex(deep + 2, bytes + 1), &at), CLUSTER_OK);
}

/* A broadcast of exactly `total` bytes: [x, {type:2, data:["e", <bin 32>]}, {}]. */
static uint8_t *sized_broadcast(size_t total)
{
    static const uint8_t head[] = {0x93, 0xa1, 'x', 0x82, 0xa4, 't',  'y',  'p', 'e', 0x02,
                                   0xa4, 'd',  'a', 't',  'a',  0x92, 0xa1, 'e', 0xc6};
    size_t n = total - sizeof head - 4 - 1;
    uint8_t *m = calloc(total, 1);
    memcpy(m, head, sizeof head);
    m[sizeof head] = (uint8_t)(n >> 24), m[sizeof head + 1] = (uint8_t)(n >> 16);
    m[sizeof head + 2] = (uint8_t)(n >> 8), m[sizeof head + 3] = (uint8_t)n;
    m[total - 1] = 0x80;
    return m;
}

static void test_message_size_bound(void)
{
    cluster_msg m;
    uint8_t *at_bound = sized_broadcast(CLUSTER_MAX_MESSAGE);
    CHECK_EQ_INT(cluster_broadcast_decode(at_bound, CLUSTER_MAX_MESSAGE, &m, NULL), CLUSTER_OK);
    CHECK_EQ_INT(m.packet.data.attachment_count, 1);
    cluster_msg_free(&m);
    free(at_bound);
    uint8_t *past = sized_broadcast(CLUSTER_MAX_MESSAGE + 1);
    CHECK_EQ_INT(cluster_broadcast_decode(past, CLUSTER_MAX_MESSAGE + 1, &m, NULL),
                 CLUSTER_ERR_TOO_BIG);
    free(past);
    CHECK_EQ_INT(cluster_broadcast_decode((const uint8_t *)"", 0, &m, NULL), CLUSTER_ERR_EMPTY);
}

static void test_channels(void)
{
    buf b = {0};
    cluster_channel_own_response(&b, "socket.io", "/chat", "r00007");
    CHECK(strcmp((char *)buf_begin(&b), "socket.io-response#/chat#r00007#") == 0);
    buf_reset(&b);
    sio_span room;
    const char *ch = "socket.io#/#kyyq6lcvGlENJeRGAAAA#";
    CHECK(cluster_channel_room_of("socket.io", "/", sio_span_of(ch, strlen(ch)), &room));
    CHECK_MEM(room.ptr, room.len, "kyyq6lcvGlENJeRGAAAA", 20);
    CHECK(cluster_channel_room_of("socket.io", "/", sio_span_of("socket.io#/#", 12), &room) &&
          room.len == 0);
    CHECK(!cluster_channel_room_of("socket.io", "/", sio_span_of("socket.io#/chat#", 16), &room));
}

int main(void)
{
    test_captured_broadcasts();
    test_captured_requests();
    test_captured_responses();
    test_js_numbers();
    test_values();
    test_refusals();
    test_channels();
    test_message_size_bound();
    CHECK_DONE();
}
