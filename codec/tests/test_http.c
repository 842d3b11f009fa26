#include <stdlib.h>

#include "check.h"
#include "sio/http.h"

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

static sio_err parse_all(const char *text, const sio_http_limits *lim, sio_http_request *req)
{
    sio_http_parser ps;
    sio_http_parser_init(&ps);
    return sio_http_request_parse(&ps, (const uint8_t *)text, strlen(text), lim, req);
}

static void test_complete_request(void)
{
    static const char head[] = "GET /socket.io/?EIO=4&transport=polling&t=N8 HTTP/1.1\r\n"
                               "Host: 127.0.0.1:3000\r\n"
                               "Connection:  keep-alive \r\n"
                               "\r\nBODY";
    sio_http_request req;
    CHECK_ERR(parse_all(head, NULL, &req), SIO_OK);
    CHECK_EQ_INT(req.head_len, sizeof head - 1 - 4);
    CHECK_STR(req.method.ptr, req.method.len, "GET");
    CHECK_STR(req.path.ptr, req.path.len, "/socket.io/");
    CHECK_STR(req.query.ptr, req.query.len, "EIO=4&transport=polling&t=N8");
    CHECK_EQ_INT(req.version_minor, 1);
    CHECK_EQ_INT(req.header_count, 2);
    CHECK_STR(req.headers[1].value.ptr, req.headers[1].value.len, "keep-alive");
    CHECK_EQ_INT(req.body, SIO_HTTP_BODY_NONE);
    CHECK(sio_http_header_find(&req, "HOST") == &req.headers[0]);
    CHECK(sio_http_header_find(&req, "upgrade") == NULL);
}

/* Fed one byte at a time, the head completes exactly at its last byte. */
static void test_incremental(void)
{
    static const char head[] = "POST /x?sid=a HTTP/1.0\r\nContent-Length: 12\r\n\r\n";
    size_t n = sizeof head - 1;
    sio_http_parser ps;
    sio_http_request req;
    sio_http_parser_init(&ps);
    for (size_t i = 1; i < n; i++) {
        CHECK_ERR(sio_http_request_parse(&ps, (const uint8_t *)head, i, NULL, &req), SIO_OK);
        CHECK_EQ_INT(req.head_len, 0);
    }
    CHECK_ERR(sio_http_request_parse(&ps, (const uint8_t *)head, n, NULL, &req), SIO_OK);
    CHECK_EQ_INT(req.head_len, n);
    CHECK_EQ_INT(req.version_minor, 0);
    CHECK_EQ_INT(req.body, SIO_HTTP_BODY_LENGTH);
    CHECK_EQ_INT(req.content_length, 12);
}

static void expect_error(const char *text, const sio_http_limits *lim, sio_err want)
{
    sio_http_request req;
    sio_err rc = parse_all(text, lim, &req);
    if (rc != want)
        fprintf(stderr, "case: %s\n", text);
    CHECK_ERR(rc, want);
}

static void test_errors(void)
{
    expect_error("GET / HTTP/2.0\r\n\r\n", NULL, SIO_ERR_HTTP_VERSION);
    expect_error("GET  / HTTP/1.1\r\n\r\n", NULL, SIO_ERR_HTTP_TARGET);
    expect_error("G(T / HTTP/1.1\r\n\r\n", NULL, SIO_ERR_HTTP_METHOD);
    expect_error("GET http://a/ HTTP/1.1\r\n\r\n", NULL, SIO_ERR_HTTP_TARGET);
    expect_error("GET /a#b HTTP/1.1\r\n\r\n", NULL, SIO_ERR_HTTP_TARGET);
    expect_error("GET\r\n\r\n", NULL, SIO_ERR_HTTP_REQUEST_LINE);
    expect_error("GET / HTTP/1.1\r\nHost\r\n\r\n", NULL, SIO_ERR_HTTP_HEADER_LINE);
    expect_error("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", NULL, SIO_ERR_HTTP_HEADER_LINE);
    expect_error("GET / HTTP/1.1\r\nA b: c\r\n\r\n", NULL, SIO_ERR_HTTP_HEADER_NAME);
    expect_error("GET / HTTP/1.1\r\n: c\r\n\r\n", NULL, SIO_ERR_HTTP_HEADER_NAME);
    expect_error("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", NULL, SIO_ERR_HTTP_HEADER_VALUE);
    expect_error("GET / HTTP/1.1\nA: b\r\n\r\n", NULL, SIO_ERR_HTTP_BARE_CR_OR_LF);
    expect_error("GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", NULL, SIO_ERR_HTTP_CONTENT_LENGTH);
    expect_error("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", NULL,
                 SIO_ERR_HTTP_CONTENT_LENGTH);
    expect_error("GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", NULL,
                 SIO_ERR_HTTP_CONTENT_LENGTH);
    expect_error("GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", NULL,
                 SIO_ERR_HTTP_TRANSFER_CODING);
    expect_error("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", NULL,
                 SIO_ERR_HTTP_LENGTH_AND_CHUNKED);
}

static void test_body_framing(void)
{
    sio_http_request req;
    CHECK_ERR(parse_all("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", NULL, &req),
              SIO_OK);
    CHECK_EQ_INT(req.body, SIO_HTTP_BODY_CHUNKED);
    CHECK_ERR(parse_all("POST / HTTP/1.1\r\nContent-Length: 7, 7\r\ncontent-length: 7\r\n\r\n",
                        NULL, &req),
              SIO_OK);
    CHECK_EQ_INT(req.body, SIO_HTTP_BODY_LENGTH);
    CHECK_EQ_INT(req.content_length, 7);
}

/* Each limit: exactly at the bound is accepted, one past it is refused. */
static void test_limits(void)
{
    sio_http_limits lim = {0, 2, 5};
    sio_http_request req;
    CHECK_ERR(parse_all("GET /abcd HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", &lim, &req), SIO_OK);
    expect_error("GET /abcde HTTP/1.1\r\n\r\n", &lim, SIO_ERR_HTTP_TARGET_TOO_LONG);
    expect_error("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &lim,
                 SIO_ERR_HTTP_TOO_MANY_HEADERS);

    static const char head[] = "GET / HTTP/1.1\r\n\r\n"; /* 18 bytes */
    sio_http_limits exact = {18, 0, 0}, short_by_one = {17, 0, 0};
    CHECK_ERR(parse_all(head, &exact, &req), SIO_OK);
    CHECK_EQ_INT(req.head_len, 18);
    expect_error(head, &short_by_one, SIO_ERR_HTTP_HEAD_TOO_LARGE);

    /* An unterminated head is refused as soon as the limit is reached, not later. */
    sio_http_parser ps;
    sio_http_parser_init(&ps);
    CHECK_ERR(sio_http_request_parse(&ps, S("GET / HTTP/1.1\r\n"), &short_by_one, &req), SIO_OK);
    sio_http_parser_init(&ps);
    CHECK_ERR(sio_http_request_parse(&ps, S("GET / HTTP/1.1\r\nX"), &short_by_one, &req),
              SIO_ERR_HTTP_HEAD_TOO_LARGE);
}

/* A bad request line is refused once its CRLF is in, before the rest of the head. */
static void test_early_request_line_error(void)
{
    sio_http_parser ps;
    sio_http_request req;
    sio_http_parser_init(&ps);
    CHECK_ERR(sio_http_request_parse(&ps, S("GET / HTTP/9.9"), NULL, &req), SIO_OK);
    CHECK_ERR(sio_http_request_parse(&ps, S("GET / HTTP/9.9\r\n"), NULL, &req),
              SIO_ERR_HTTP_VERSION);
    sio_http_parser_init(&ps);
    CHECK_ERR(sio_http_request_parse(&ps, S("\x16\x03\x01 binary\n"), NULL, &req),
              SIO_ERR_HTTP_BARE_CR_OR_LF);
    sio_http_parser_init(&ps);
    CHECK_ERR(sio_http_request_parse(&ps, S("GET /ok HTTP/1.1\r\nHost"), NULL, &req), SIO_OK);
}

static void test_leading_empty_line(void)
{
    sio_http_request req;
    CHECK_ERR(parse_all("\r\nGET / HTTP/1.1\r\n\r\n", NULL, &req), SIO_OK);
    CHECK_STR(req.method.ptr, req.method.len, "GET");
    expect_error("\r\n\r\nGET / HTTP/1.1\r\n\r\n", NULL, SIO_ERR_HTTP_REQUEST_LINE);
}

static void test_header_tokens(void)
{
    sio_http_request req;
    CHECK_ERR(parse_all("GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n"
                        "upgrade: WebSocket\r\n\r\n",
                        NULL, &req),
              SIO_OK);
    CHECK(sio_http_header_has_token(&req, "connection", "upgrade"));
    CHECK(sio_http_header_has_token(&req, "Upgrade", "websocket"));
    CHECK(!sio_http_header_has_token(&req, "connection", "close"));
}

static void test_query(void)
{
    sio_span q = sio_span_of("EIO=4&%74ransport=web%73ocket&flag&sid=a%2Bb+c&EIO=3", 51);
    uint8_t out[32];
    size_t n = 0;
    sio_span raw;
    CHECK_ERR(sio_http_query_get(q, "EIO", out, sizeof out, &n), SIO_OK);
    CHECK_STR(out, n, "4");
    CHECK_ERR(sio_http_query_get(q, "transport", out, sizeof out, &n), SIO_OK);
    CHECK_STR(out, n, "websocket");
    CHECK_ERR(sio_http_query_get(q, "sid", out, sizeof out, &n), SIO_OK);
    CHECK_STR(out, n, "a+b c");
    CHECK_ERR(sio_http_query_raw(q, "flag", &raw), SIO_OK);
    CHECK_EQ_INT(raw.len, 0);
    CHECK_ERR(sio_http_query_raw(q, "missing", &raw), SIO_ERR_HTTP_NOT_FOUND);
    CHECK_ERR(sio_http_query_get(sio_span_of("a=%4", 4), "a", out, sizeof out, &n),
              SIO_ERR_HTTP_PERCENT_ESCAPE);
    CHECK_ERR(sio_http_query_get(sio_span_of("a=%zz", 5), "a", out, sizeof out, &n),
              SIO_ERR_HTTP_PERCENT_ESCAPE);
    CHECK_ERR(sio_http_query_get(sio_span_of("a=abc", 5), "a", out, 2, &n),
              SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, 3);
}

/* Random bytes never crash the parser and never produce a head longer than the input. */
static void test_garbage(void)
{
    uint8_t buf[256];
    unsigned seed = 12345;
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(round % 256);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (uint8_t) "GET /?=&%:\r\n \tAz0"[(seed >> 16) % 17];
        }
        sio_http_parser ps;
        sio_http_request req;
        sio_http_parser_init(&ps);
        sio_err rc = sio_http_request_parse(&ps, buf, n, NULL, &req);
        CHECK(rc != SIO_OK || req.head_len <= n);
    }
}

/* Fed in two pieces split at every position, a head gives the same result as in one piece. */
static void test_every_split(void)
{
    static const char *const heads[] = {
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        "\r\nPOST /x HTTP/1.0\r\nContent-Length: 3\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
    };
    for (size_t h = 0; h < sizeof heads / sizeof heads[0]; h++) {
        size_t n = strlen(heads[h]);
        sio_http_request whole, piece;
        sio_err want = parse_all(heads[h], NULL, &whole);
        for (size_t cut = 1; cut < n; cut++) {
            sio_http_parser ps;
            sio_http_parser_init(&ps);
            sio_err first =
                sio_http_request_parse(&ps, (const uint8_t *)heads[h], cut, NULL, &piece);
            CHECK(first == SIO_OK && piece.head_len == 0);
            sio_err rc = sio_http_request_parse(&ps, (const uint8_t *)heads[h], n, NULL, &piece);
            CHECK_ERR(rc, want);
            CHECK_EQ_INT(piece.head_len, whole.head_len);
            CHECK_EQ_INT(piece.header_count, whole.header_count);
        }
    }
}

int main(void)
{
    test_complete_request();
    test_incremental();
    test_errors();
    test_body_framing();
    test_limits();
    test_leading_empty_line();
    test_early_request_line_error();
    test_header_tokens();
    test_query();
    test_garbage();
    test_every_split();
    CHECK_DONE();
}
