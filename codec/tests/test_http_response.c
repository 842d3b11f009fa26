/* HTTP/1.1 response heads and chunked bodies (sio/http.h), as a client receives them. */
#include <stdlib.h>

#include "check.h"
#include "sio/http.h"

#define S_(lit) lit, sizeof(lit) - 1

static sio_err parse_all(const char *text, sio_http_response *resp)
{
    sio_http_parser ps;
    sio_http_parser_init(&ps);
    return sio_http_response_parse(&ps, (const uint8_t *)text, strlen(text), NULL, resp);
}

static void test_complete_response(void)
{
    static const char head[] = "HTTP/1.1 200 OK\r\n"
                               "Content-Type: text/plain; charset=UTF-8\r\n"
                               "Content-Length: 5\r\n"
                               "Connection: keep-alive\r\n"
                               "\r\nhello";
    sio_http_response resp;
    CHECK_ERR(parse_all(head, &resp), SIO_OK);
    CHECK_EQ_INT(resp.head_len, sizeof head - 1 - 5);
    CHECK_EQ_INT(resp.status, 200);
    CHECK_EQ_INT(resp.version_minor, 1);
    CHECK_STR(resp.reason.ptr, resp.reason.len, "OK");
    CHECK_EQ_INT(resp.header_count, 3);
    CHECK_EQ_INT(resp.body, SIO_HTTP_BODY_LENGTH);
    CHECK_EQ_INT(resp.content_length, 5);
    const sio_http_header *h = sio_http_response_header_find(&resp, "content-TYPE");
    CHECK(h != NULL && h == &resp.headers[0]);
    CHECK(sio_http_response_has_token(&resp, "connection", "Keep-Alive"));
    CHECK(!sio_http_response_has_token(&resp, "connection", "upgrade"));
}

/* Fed byte by byte, the head completes exactly at its last byte. */
static void test_incremental(void)
{
    static const char head[] = "HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
    size_t n = sizeof head - 1;
    sio_http_parser ps;
    sio_http_parser_init(&ps);
    sio_http_response resp;
    for (size_t i = 1; i < n; i++) {
        CHECK_ERR(sio_http_response_parse(&ps, (const uint8_t *)head, i, NULL, &resp), SIO_OK);
        CHECK_EQ_INT(resp.head_len, 0);
    }
    CHECK_ERR(sio_http_response_parse(&ps, (const uint8_t *)head, n, NULL, &resp), SIO_OK);
    CHECK_EQ_INT(resp.head_len, n);
    CHECK_EQ_INT(resp.status, 101);
    CHECK_EQ_INT(resp.version_minor, 0);
    CHECK_EQ_INT(resp.body, SIO_HTTP_BODY_NONE);
}

static void test_status_lines(void)
{
    sio_http_response resp;
    CHECK_ERR(parse_all("HTTP/1.1 204\r\n\r\n", &resp), SIO_OK); /* no reason, no space */
    CHECK_EQ_INT(resp.status, 204);
    CHECK_EQ_INT(resp.reason.len, 0);
    CHECK_ERR(parse_all("HTTP/1.1 404 \r\n\r\n", &resp), SIO_OK);
    CHECK_ERR(parse_all("HTTP/1.1 400 Bad\tRequest here\r\n\r\n", &resp), SIO_OK);
    CHECK_STR(resp.reason.ptr, resp.reason.len, "Bad\tRequest here");
    CHECK_ERR(parse_all("HTTP/2.0 200 OK\r\n\r\n", &resp), SIO_ERR_HTTP_STATUS_LINE);
    CHECK_ERR(parse_all("HTTP/1.1 20 OK\r\n\r\n", &resp), SIO_ERR_HTTP_STATUS_LINE);
    CHECK_ERR(parse_all("HTTP/1.1 2000 OK\r\n\r\n", &resp), SIO_ERR_HTTP_STATUS_LINE);
    CHECK_ERR(parse_all("HTTP/1.1 099 Low\r\n\r\n", &resp), SIO_ERR_HTTP_STATUS_LINE);
    CHECK_ERR(parse_all("HTTP/1.1  200 OK\r\n\r\n", &resp), SIO_ERR_HTTP_STATUS_LINE);
    CHECK_ERR(parse_all("HTTP/1.1 200 O\x01K\r\n\r\n", &resp), SIO_ERR_HTTP_STATUS_LINE);
    CHECK_ERR(parse_all("HTTP/1.1 200 OK\n\r\n", &resp), SIO_ERR_HTTP_BARE_CR_OR_LF);
    CHECK_ERR(parse_all("HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n", &resp),
              SIO_ERR_HTTP_BARE_CR_OR_LF);
    CHECK_ERR(parse_all("HTTP/1.1 200 OK\r\n folded\r\n\r\n", &resp), SIO_ERR_HTTP_HEADER_LINE);
    /* A peer that is not an HTTP server is found out from its first bytes. */
    CHECK_ERR(parse_all("SSH-2.0-OpenSSH", &resp), SIO_ERR_HTTP_STATUS_LINE);
    CHECK_ERR(parse_all("H", &resp), SIO_OK);
    sio_http_parser ps; /* nothing received yet, not even a buffer */
    sio_http_parser_init(&ps);
    CHECK_ERR(sio_http_response_parse(&ps, NULL, 0, NULL, &resp), SIO_OK);
    CHECK_EQ_INT(resp.head_len, 0);
    CHECK_ERR(parse_all("HTTP/1.1 200 OK\r\n", &resp), SIO_OK); /* line fine, head incomplete */
    CHECK_EQ_INT(resp.head_len, 0);
    CHECK_ERR(parse_all("HTTP/1.1 2x0 OK\r\n", &resp), SIO_ERR_HTTP_STATUS_LINE);
}

static void test_body_framing(void)
{
    sio_http_response resp;
    CHECK_ERR(parse_all("HTTP/1.1 200 OK\r\n\r\n", &resp), SIO_OK);
    CHECK_EQ_INT(resp.body, SIO_HTTP_BODY_UNTIL_CLOSE);
    CHECK_ERR(parse_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &resp), SIO_OK);
    CHECK_EQ_INT(resp.body, SIO_HTTP_BODY_CHUNKED);
    CHECK_ERR(parse_all("HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n", &resp), SIO_OK);
    CHECK_EQ_INT(resp.body, SIO_HTTP_BODY_NONE);
    CHECK_ERR(parse_all("HTTP/1.1 100 Continue\r\n\r\n", &resp), SIO_OK);
    CHECK_EQ_INT(resp.body, SIO_HTTP_BODY_NONE);
    CHECK_ERR(parse_all("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", &resp),
              SIO_OK);
    CHECK_EQ_INT(resp.content_length, 3);
    CHECK_ERR(parse_all("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", &resp),
              SIO_ERR_HTTP_CONTENT_LENGTH);
    CHECK_ERR(parse_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &resp),
              SIO_ERR_HTTP_TRANSFER_CODING);
    CHECK_ERR(
        parse_all("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                  &resp),
        SIO_ERR_HTTP_LENGTH_AND_CHUNKED);
}

/* The head bound applies as for requests: at max_head_bytes without its end, an error. */
static void test_head_bound(void)
{
    sio_http_limits lim = {.max_head_bytes = 64};
    char head[128];
    memset(head, 'a', sizeof head);
    memcpy(head, "HTTP/1.1 200 OK\r\nX: ", 20);
    sio_http_parser ps;
    sio_http_response resp;
    /* 64 bytes exactly, the last four the end of the head: accepted. */
    memcpy(head + 60, "\r\n\r\n", 4);
    sio_http_parser_init(&ps);
    CHECK_ERR(sio_http_response_parse(&ps, (const uint8_t *)head, 64, &lim, &resp), SIO_OK);
    CHECK_EQ_INT(resp.head_len, 64);
    /* One byte more before the end: refused at the bound. */
    memset(head + 60, 'a', 4);
    memcpy(head + 61, "\r\n\r\n", 4);
    sio_http_parser_init(&ps);
    CHECK_ERR(sio_http_response_parse(&ps, (const uint8_t *)head, 65, &lim, &resp),
              SIO_ERR_HTTP_HEAD_TOO_LARGE);
}

/* ------------------------------------------------------------------ chunked bodies */

/* Decodes `body` in reads of `step` bytes; the data goes to out. Returns the first error, with
 * *used the bytes consumed when the body ended. */
static sio_err dechunk(const char *body, size_t len, size_t step, char *out, size_t *out_len,
                       size_t *used)
{
    sio_http_chunked d;
    sio_http_chunked_init(&d);
    size_t pos = 0;
    *out_len = 0;
    while (pos < len && !sio_http_chunked_done(&d)) {
        size_t end = pos + step < len ? pos + step : len;
        size_t at = pos;
        while (at < end && !sio_http_chunked_done(&d)) {
            size_t consumed;
            sio_span piece;
            sio_err rc =
                sio_http_chunked_feed(&d, (const uint8_t *)body + at, end - at, &consumed, &piece);
            if (rc != SIO_OK)
                return rc;
            memcpy(out + *out_len, piece.ptr, piece.len);
            *out_len += piece.len;
            at += consumed;
        }
        pos = at;
    }
    *used = pos;
    return sio_http_chunked_done(&d) ? SIO_OK : SIO_ERR_HTTP_CHUNK;
}

static void test_chunked(void)
{
    static const char body[] = "5\r\nhello\r\n9;name=\"v\"\r\n, world!!\r\n"
                               "0\r\nTrailer: x\r\n\r\nNEXT";
    size_t len = sizeof body - 1;
    for (size_t step = 1; step <= len; step++) {
        char out[64];
        size_t n, used;
        CHECK_ERR(dechunk(body, len, step, out, &n, &used), SIO_OK);
        CHECK_STR(out, n, "hello, world!!");
        CHECK_EQ_INT(used, len - 4); /* "NEXT" is the next response's */
    }
    char out[64];
    size_t n, used;
    CHECK_ERR(dechunk(S_("0\r\n\r\n"), 1, out, &n, &used), SIO_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_ERR(dechunk(S_("00 ; x\r\n\r\n"), 3, out, &n, &used), SIO_OK);
    CHECK_ERR(dechunk(S_("fF\r\n"), 4, out, &n, &used), SIO_ERR_HTTP_CHUNK); /* incomplete */
}

static void test_chunked_errors(void)
{
    char out[64];
    size_t n, used;
    CHECK_ERR(dechunk(S_("\r\n"), 1, out, &n, &used), SIO_ERR_HTTP_CHUNK);  /* no size */
    CHECK_ERR(dechunk(S_("g\r\n"), 1, out, &n, &used), SIO_ERR_HTTP_CHUNK); /* not hex */
    CHECK_ERR(dechunk(S_("-1\r\n"), 1, out, &n, &used), SIO_ERR_HTTP_CHUNK);
    CHECK_ERR(dechunk(S_("1 2\r\n"), 1, out, &n, &used), SIO_ERR_HTTP_CHUNK);     /* two sizes */
    CHECK_ERR(dechunk(S_("1\nx\r\n"), 1, out, &n, &used), SIO_ERR_HTTP_CHUNK);    /* bare LF */
    CHECK_ERR(dechunk(S_("1\r\nxy\r\n"), 1, out, &n, &used), SIO_ERR_HTTP_CHUNK); /* no CRLF */
    CHECK_ERR(dechunk(S_("1;a\x01\r\nx\r\n0\r\n\r\n"), 1, out, &n, &used), SIO_ERR_HTTP_CHUNK);
    /* Sizes: 15 hex digits at most. */
    CHECK_ERR(dechunk(S_("000000000000001\r\nx\r\n0\r\n\r\n"), 1, out, &n, &used), SIO_OK);
    CHECK_ERR(dechunk(S_("0000000000000001\r\nx\r\n0\r\n\r\n"), 1, out, &n, &used),
              SIO_ERR_HTTP_CHUNK);
    /* After an error every call returns it. */
    sio_http_chunked d;
    sio_http_chunked_init(&d);
    size_t consumed;
    sio_span piece;
    CHECK_ERR(sio_http_chunked_feed(&d, (const uint8_t *)"z", 1, &consumed, &piece),
              SIO_ERR_HTTP_CHUNK);
    CHECK_ERR(sio_http_chunked_feed(&d, (const uint8_t *)"0\r\n\r\n", 5, &consumed, &piece),
              SIO_ERR_HTTP_CHUNK);
}

/* A line of exactly SIO_HTTP_MAX_CHUNK_LINE bytes (CRLF included) passes; one more does not. The
 * trailers are bounded by SIO_HTTP_MAX_TRAILER in total. */
static void test_chunked_bounds(void)
{
    size_t cap = SIO_HTTP_MAX_TRAILER + 2 * SIO_HTTP_MAX_CHUNK_LINE;
    char *body = malloc(cap), *out = malloc(cap);
    size_t n, used;
    for (size_t extra = 0; extra < 2; extra++) {
        size_t line = SIO_HTTP_MAX_CHUNK_LINE + extra;
        memset(body, 'e', line);
        memcpy(body, "1;", 2);
        memcpy(body + line - 2, "\r\nx\r\n0\r\n\r\n", 10);
        CHECK_ERR(dechunk(body, line + 8, 7, out, &n, &used),
                  extra ? SIO_ERR_HTTP_CHUNK_TOO_LONG : SIO_OK);
    }
    for (size_t extra = 0; extra < 2; extra++) {
        /* "0\r\n", then trailer lines of 100 bytes, then the final CRLF: SIO_HTTP_MAX_TRAILER
         * trailer bytes in all, or one more. */
        size_t total = SIO_HTTP_MAX_TRAILER + extra, pos = 3;
        memcpy(body, "0\r\n", 3);
        while (total - (pos - 3) > 2) {
            size_t left = total - (pos - 3) - 2, k = left < 100 ? left : 100;
            if (k < 4 && left > k)
                k = left; /* keep the last line long enough to be one */
            memset(body + pos, 't', k);
            body[pos] = 'T', body[pos + 1] = ':';
            memcpy(body + pos + k - 2, "\r\n", 2);
            pos += k;
        }
        memcpy(body + pos, "\r\n", 2);
        pos += 2;
        CHECK_EQ_INT(pos - 3, total);
        CHECK_ERR(dechunk(body, pos, 64, out, &n, &used),
                  extra ? SIO_ERR_HTTP_CHUNK_TOO_LONG : SIO_OK);
    }
    free(body);
    free(out);
}

int main(void)
{
    test_complete_response();
    test_incremental();
    test_status_lines();
    test_body_framing();
    test_head_bound();
    test_chunked();
    test_chunked_errors();
    test_chunked_bounds();
    CHECK_DONE();
}
