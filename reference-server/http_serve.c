/* HTTP/1.1 on a connection: request heads through the codec's parser, routing to the Engine.IO
 * endpoints, CORS, and responses. One request at a time per connection; the next pipelined one
 * is parsed after the current one has been answered. */
#include <stdio.h>
#include <string.h>

#include "eio.h"

static const char *status_text(int status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

static void append_cors(conn *c, buf *b)
{
    const char *origin = c->srv->cfg.cors_origin;
    if (origin && *origin) {
        buf_append_str(b, "Access-Control-Allow-Origin: ");
        buf_append_str(b, origin);
        buf_append_str(b, "\r\n");
    }
}

/* Drops the answered request (head and body) from the input, including body bytes that have not
 * arrived yet, and gets ready for the next request on the connection. */
static void finish_request(conn *c)
{
    uint64_t total = c->head_len + c->body_len;
    size_t have = buf_size(&c->in);
    if (total > have) {
        c->skip_bytes = total - have;
        buf_consume(&c->in, have);
    } else {
        buf_consume(&c->in, (size_t)total);
    }
    c->head_len = 0;
    c->body_len = 0;
    c->head_request = false;
    sio_http_parser_init(&c->http);
    c->state = CONN_HTTP_HEAD;
    timer_start(&c->srv->loop, &c->linger, SERVER_HTTP_IDLE_MS);
    if (!c->keep_alive)
        conn_close_after_write(c);
    else if (buf_size(&c->in) > 0)
        conn_defer_input(c);
}

/* A response to HEAD keeps its whole head, Content-Length included, and carries no content
 * (RFC 9110 section 9.3.2): on a kept-alive connection the client would otherwise read the body
 * as the start of the next response. */
void http_respond(conn *c, int status, const char *content_type, const void *body, size_t len)
{
    char line[160];
    buf head = {0};
    snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", status, status_text(status));
    buf_append_str(&head, line);
    if (content_type) {
        snprintf(line, sizeof line, "Content-Type: %s\r\n", content_type);
        buf_append_str(&head, line);
    }
    snprintf(line, sizeof line, "Content-Length: %zu\r\n", len);
    buf_append_str(&head, line);
    if (status == 200 && content_type && strncmp(content_type, "text/plain", 10) == 0)
        buf_append_str(&head, "Cache-Control: no-store\r\n");
    append_cors(c, &head);
    buf_append_str(&head,
                   c->keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
    conn_write(c, buf_begin(&head), buf_size(&head));
    if (!c->head_request)
        conn_write(c, body, len);
    buf_reset(&head);
    finish_request(c);
}

/* Engine.IO rejections: JSON {"code":N,"message":"…"} (EIO-HS-12). */
void http_respond_error(conn *c, int status, int code, const char *message)
{
    char body[160];
    int n = snprintf(body, sizeof body, "{\"code\":%d,\"message\":\"%s\"}", code, message);
    http_respond(c, status, "application/json", body, (size_t)n);
}

/* A refused WebSocket upgrade: plain text, then the TCP connection is dropped (EIO-HS-13). */
void http_respond_raw_400(conn *c, const char *message)
{
    c->keep_alive = false;
    http_respond(c, 400, "text/html", message, strlen(message));
}

/* The handler wants the body. A client that asked "Expect: 100-continue" (curl does for larger
 * bodies) is told to send it now instead of waiting for its own timeout. */
void http_expect_body(conn *c, const sio_http_request *req)
{
    c->state = CONN_HTTP_BODY;
    if (req->version_minor == 1 && sio_http_header_has_token(req, "expect", "100-continue") &&
        buf_size(&c->in) < c->head_len + c->body_len) {
        static const char reply[] = "HTTP/1.1 100 Continue\r\n\r\n";
        conn_write(c, reply, sizeof reply - 1);
    }
}

void http_hold(conn *c)
{
    c->state = CONN_HELD_GET;
    timer_stop(&c->srv->loop, &c->linger);
}

/* CORS preflight (EIO-HS-17): 204 with the allowed methods and the requested headers echoed. */
static void respond_preflight(conn *c, const sio_http_request *req)
{
    buf head = {0};
    buf_append_str(&head, "HTTP/1.1 204 No Content\r\n");
    append_cors(c, &head);
    buf_append_str(&head, "Access-Control-Allow-Methods: GET,HEAD,PUT,PATCH,POST,DELETE\r\n");
    const sio_http_header *h = sio_http_header_find(req, "access-control-request-headers");
    if (h) {
        buf_append_str(&head, "Access-Control-Allow-Headers: ");
        buf_append(&head, h->value.ptr, h->value.len);
        buf_append_str(&head, "\r\n");
    }
    buf_append_str(&head, "Vary: Access-Control-Request-Headers\r\nContent-Length: 0\r\n");
    buf_append_str(&head,
                   c->keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
    conn_write(c, buf_begin(&head), buf_size(&head));
    buf_reset(&head);
    finish_request(c);
}

static bool path_has_prefix(sio_span path, const char *prefix)
{
    size_t n = strlen(prefix);
    return n > 0 && path.len >= n && memcmp(path.ptr, prefix, n) == 0;
}

static bool wants_keep_alive(const sio_http_request *req)
{
    if (sio_http_header_has_token(req, "connection", "close"))
        return false;
    return req->version_minor == 1 || sio_http_header_has_token(req, "connection", "keep-alive");
}

/* Sends a complete request head to its endpoint (EIO-HS-03: prefix match on the path). */
static void route_request(conn *c, const sio_http_request *req)
{
    const server_config *cfg = &c->srv->cfg;
    c->head_len = req->head_len;
    c->body_len = req->body == SIO_HTTP_BODY_LENGTH ? req->content_length : 0;
    c->keep_alive = wants_keep_alive(req);
    c->head_request = req->method.len == 4 && memcmp(req->method.ptr, "HEAD", 4) == 0;
    bool main_path = path_has_prefix(req->path, cfg->path);
    bool echo_path = !main_path && path_has_prefix(req->path, cfg->echo_path);
    if (!main_path && !echo_path) {
        http_respond(c, 404, "text/plain", "Not Found", 9);
    } else if (req->method.len == 7 && memcmp(req->method.ptr, "OPTIONS", 7) == 0 &&
               cfg->cors_origin && *cfg->cors_origin) {
        respond_preflight(c, req);
    } else {
        eio_handle_request(c, req, echo_path ? APP_ENGINEIO_ECHO : cfg->app);
    }
}

static int status_for_parse_error(sio_err rc)
{
    switch (rc) {
    case SIO_ERR_HTTP_HEAD_TOO_LARGE:
    case SIO_ERR_HTTP_TOO_MANY_HEADERS:
        return 431;
    case SIO_ERR_HTTP_TARGET_TOO_LONG:
        return 414;
    case SIO_ERR_HTTP_TRANSFER_CODING:
        return 501;
    default:
        return 400;
    }
}

/* The request whose body has just completed: the head is still at the front of the input
 * buffer, the body right after it. */
static void complete_body(conn *c)
{
    eio_handle_post_body(c, buf_begin(&c->in) + c->head_len, (size_t)c->body_len);
}

/* Input handled at the end of a poll round. A POST's packets are dispatched once every
 * connection that was readable in the same round has been read, so a GET sent together with
 * the POST is already held when the POST's packets act (a client close "1" then releases it
 * with a noop instead of finding no GET). Requests pipelined behind a long-poll GET are picked
 * up here once that GET has been answered. */
void http_deferred_input(conn *c)
{
    if (c->state == CONN_HTTP_BODY && buf_size(&c->in) >= c->head_len + c->body_len)
        complete_body(c);
    if (c->state == CONN_HTTP_HEAD)
        http_handle_input(c);
}

/* A head the parser refused may still name its method: HEAD's answer then has no content either. */
static bool starts_with_head_method(const buf *in)
{
    return buf_size(in) >= 5 && memcmp(buf_begin(in), "HEAD ", 5) == 0;
}

/* Drops body bytes of an already answered request; false when more are still expected. */
static bool skip_answered_body(conn *c)
{
    size_t n = buf_size(&c->in) < c->skip_bytes ? buf_size(&c->in) : (size_t)c->skip_bytes;
    buf_consume(&c->in, n);
    c->skip_bytes -= n;
    return c->skip_bytes == 0;
}

void http_handle_input(conn *c)
{
    for (int requests = 0; requests < 64; requests++) {
        if (c->skip_bytes && !skip_answered_body(c))
            return;
        if (c->state == CONN_HTTP_BODY) {
            if (buf_size(&c->in) >= c->head_len + c->body_len)
                conn_defer_input(c);
            return;
        }
        if (c->state != CONN_HTTP_HEAD || buf_size(&c->in) == 0)
            return;
        sio_http_request req;
        sio_err rc =
            sio_http_request_parse(&c->http, buf_begin(&c->in), buf_size(&c->in), NULL, &req);
        if (rc != SIO_OK) {
            log_msg(c->srv, LOG_DEBUG, "conn %llu: bad request: %s", (unsigned long long)c->id,
                    sio_err_name(rc));
            c->keep_alive = false;
            c->head_len = buf_size(&c->in);
            c->head_request = starts_with_head_method(&c->in);
            http_respond(c, status_for_parse_error(rc), "text/plain", sio_err_message(rc),
                         strlen(sio_err_message(rc)));
            return;
        }
        if (req.head_len == 0)
            return;
        route_request(c, &req);
        if (c->state == CONN_CLOSING)
            return;
    }
}
