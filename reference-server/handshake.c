/* What a cluster peer learns about a socket's connection (fetchSockets, cluster request type 5):
 * the facts of the request that opened its Engine.IO session, in the shape of Node's
 * socket.handshake (headers, time, address, xdomain, secure, issued, url, query). Captured only
 * by a server in a cluster, so a server of its own keeps its per-session memory. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "sio/json.h"

#include "server.h"

void json_append_string(buf *out, const void *s, size_t n)
{
    sio_json_writer w;
    size_t need = 0;
    sio_json_writer_init(&w, NULL, 0);
    sio_json_write_string(&w, s, n);
    sio_json_writer_finish(&w, &need);
    buf_reserve(out, need);
    sio_json_writer_init(&w, out->data + out->len, need);
    sio_json_write_string(&w, s, n);
    if (sio_json_writer_finish(&w, &need) == SIO_OK)
        out->len += need;
}

static void append_key(buf *out, const char *key)
{
    json_append_string(out, key, strlen(key));
    buf_append_str(out, ":");
}

/* Header names lower-cased, as Node's http module gives them; a repeated header keeps its
 * first value. */
static void append_headers(buf *out, const sio_http_request *req)
{
    bool first = true;
    buf_append_str(out, "{");
    for (size_t i = 0; i < req->header_count; i++) {
        const sio_http_header *h = &req->headers[i];
        char name[128];
        size_t n = h->name.len < sizeof name ? h->name.len : sizeof name - 1;
        for (size_t k = 0; k < n; k++) {
            char ch = (char)h->name.ptr[k];
            name[k] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
        }
        bool repeated = false;
        for (size_t j = 0; j < i && !repeated; j++)
            repeated = req->headers[j].name.len == h->name.len &&
                       strncasecmp((const char *)req->headers[j].name.ptr,
                                   (const char *)h->name.ptr, h->name.len) == 0;
        if (repeated)
            continue;
        if (!first)
            buf_append_str(out, ",");
        first = false;
        json_append_string(out, name, n);
        buf_append_str(out, ":");
        json_append_string(out, h->value.ptr, h->value.len);
    }
    buf_append_str(out, "}");
}

/* The query as an object of decoded strings (Node's querystring; a repeated name keeps its
 * first value here). */
static void append_query(buf *out, sio_span query)
{
    buf_append_str(out, "{");
    const uint8_t *p = query.ptr, *end = query.ptr + query.len;
    bool first = true;
    while (p < end) {
        const uint8_t *amp = memchr(p, '&', (size_t)(end - p));
        const uint8_t *stop = amp ? amp : end;
        const uint8_t *eq = memchr(p, '=', (size_t)(stop - p));
        sio_span name = sio_span_of(p, (size_t)((eq ? eq : stop) - p));
        sio_span value = eq ? sio_span_of(eq + 1, (size_t)(stop - eq - 1)) : SIO_SPAN_NULL;
        uint8_t dn[256], dv[1024];
        size_t nn = 0, nv = 0;
        if (name.len && sio_http_percent_decode(name, true, dn, sizeof dn, &nn) == SIO_OK &&
            sio_http_percent_decode(value, true, dv, sizeof dv, &nv) == SIO_OK) {
            if (!first)
                buf_append_str(out, ",");
            first = false;
            json_append_string(out, dn, nn);
            buf_append_str(out, ":");
            json_append_string(out, dv, nv);
        }
        p = stop + 1;
    }
    buf_append_str(out, "}");
}

/* JavaScript's Date.prototype.toString for now, in UTC: "Mon Dec 07 2026 03:29:14 GMT+0000
 * (Coordinated Universal Time)". */
static void append_time(buf *out, time_t now)
{
    struct tm tm;
    char text[96];
    gmtime_r(&now, &tm);
    size_t n = strftime(text, sizeof text,
                        "%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)", &tm);
    json_append_string(out, text, n);
}

char *handshake_facts(const conn *c, const sio_http_request *req)
{
    buf out = {0};
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    char address[INET_ADDRSTRLEN] = "";
    if (getpeername(c->fd, (struct sockaddr *)&peer, &len) == 0 && peer.sin_family == AF_INET)
        inet_ntop(AF_INET, &peer.sin_addr, address, sizeof address);
    char issued[32];
    snprintf(issued, sizeof issued, "%lld",
             (long long)now.tv_sec * 1000 + (long long)(now.tv_nsec / 1000000));
    append_key(&out, "headers");
    append_headers(&out, req);
    buf_append_str(&out, ",");
    append_key(&out, "time");
    append_time(&out, now.tv_sec);
    buf_append_str(&out, ",");
    append_key(&out, "address");
    json_append_string(&out, address, strlen(address));
    buf_append_str(&out, ",");
    append_key(&out, "xdomain");
    buf_append_str(&out, sio_http_header_find(req, "origin") ? "true" : "false");
    buf_append_str(&out, ",");
    append_key(&out, "secure");
    buf_append_str(&out, "false,");
    append_key(&out, "issued");
    buf_append_str(&out, issued);
    buf_append_str(&out, ",");
    append_key(&out, "url");
    json_append_string(&out, req->target.ptr, req->target.len);
    buf_append_str(&out, ",");
    append_key(&out, "query");
    append_query(&out, req->query);
    char *text = xstrndup((const char *)buf_begin(&out), buf_size(&out));
    buf_reset(&out);
    return text;
}
