/* The incremental parser: every case is fed whole, then in pieces of 1, 2, 3, 5 and 7 bytes;
 * the transcript of frames, messages and the final error (with its byte position) must be
 * identical each time. */
#include "check.h"
#include "sio/ws.h"

#include <stdlib.h>

#define MAX_STREAM 70000
#define MAX_LOG    4096

/* What a run produced, in a form that does not depend on how the input was split. */
typedef struct transcript {
    char log[MAX_LOG];
    size_t log_len;
    uint8_t frame_bytes[MAX_STREAM]; /* payload of the frame being reassembled */
    size_t frame_len;
    sio_err err;
    size_t err_at; /* absolute index one past the byte the error was found at */
    bool frame_ms; /* the frame's first piece started a message */
    int frames, messages, controls;
    uint16_t last_close;
} transcript;

static void log_add(transcript *t, const char *s)
{
    size_t n = strlen(s);
    if (t->log_len + n < MAX_LOG) {
        memcpy(t->log + t->log_len, s, n + 1);
        t->log_len += n;
    }
}

static void log_payload(transcript *t, const uint8_t *p, size_t n)
{
    char hex[3];
    for (size_t i = 0; i < n && i < 40; i++) {
        snprintf(hex, sizeof hex, "%02x", p[i]);
        log_add(t, hex);
    }
    if (n > 40) {
        char more[32];
        snprintf(more, sizeof more, "..(%zu)", n);
        log_add(t, more);
    }
}

static void record(transcript *t, const sio_ws_event *ev)
{
    char line[96];
    if (ev->type == SIO_WS_EV_CONTROL) {
        snprintf(line, sizeof line, "[ctl op=%u code=%u ", ev->frame.opcode, ev->close_code);
        log_add(t, line);
        log_payload(t, ev->payload.ptr, ev->payload.len);
        log_add(t, "]");
        t->controls++;
        t->last_close = ev->close_code;
        return;
    }
    if (t->frame_len + ev->payload.len > MAX_STREAM) {
        CHECK(!"frame larger than the test buffer");
        return;
    }
    if (ev->frame_start) {
        t->frame_len = 0;
        t->frame_ms = ev->message_start;
    } else if (ev->message_start) {
        CHECK(!"message_start on a piece that does not start its frame");
    }
    if (ev->payload.len)
        memcpy(t->frame_bytes + t->frame_len, ev->payload.ptr, ev->payload.len);
    t->frame_len += ev->payload.len;
    if (!ev->frame_end)
        return;
    snprintf(line, sizeof line, "[data op=%u fin=%d text=%d ms=%d me=%d ", ev->frame.opcode,
             ev->frame.fin, ev->text, t->frame_ms, ev->message_end);
    log_add(t, line);
    log_payload(t, t->frame_bytes, t->frame_len);
    log_add(t, "]");
    t->frames++;
    t->messages += ev->message_end;
}

/* xorshift32: a fixed sequence, so failures reproduce. */
static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

#define STEP_RANDOM ((size_t)-1)
static uint32_t split_rng = 12345;

/* Feeds `in` (copied: the parser unmasks in place) in pieces of `step` bytes (0 = whole,
 * STEP_RANDOM = random sizes from 1 to 16). */
static void run(transcript *t, const uint8_t *in, size_t len, size_t step, sio_ws_role role,
                uint64_t max)
{
    static uint8_t buf[MAX_STREAM];
    memset(t, 0, sizeof *t);
    memcpy(buf, in, len);
    sio_ws_parser p;
    sio_ws_parser_init(&p, role, max);
    size_t pos = 0;
    while (pos < len) {
        size_t piece = step == STEP_RANDOM ? 1 + rng_next(&split_rng) % 16 : step;
        size_t end = piece == 0 || len - pos < piece ? len : pos + piece;
        while (pos < end) {
            sio_ws_event ev;
            size_t used = 0;
            sio_err rc = sio_ws_parser_feed(&p, buf + pos, end - pos, &used, &ev);
            pos += used;
            if (rc != SIO_OK) {
                t->err = rc;
                t->err_at = pos;
                return;
            }
            if (ev.type == SIO_WS_EV_NONE) {
                if (pos != end)
                    CHECK_EQ_INT(pos, end); /* NONE means every byte was absorbed */
                break;
            }
            record(t, &ev);
        }
    }
}

/* Runs every split and compares with the one-shot transcript; returns the one-shot run. */
static transcript *expect_stream(const char *name, const uint8_t *in, size_t len, sio_ws_role role,
                                 uint64_t max, sio_err want)
{
    static transcript whole, split;
    static const size_t steps[] = {1, 2, 3, 5, 7, STEP_RANDOM, STEP_RANDOM};
    run(&whole, in, len, 0, role, max);
    if (whole.err != want)
        fprintf(stderr, "case %s: %s\n", name, whole.log);
    CHECK_ERR(whole.err, want);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        run(&split, in, len, steps[i], role, max);
        bool same = split.err == whole.err && split.err_at == whole.err_at &&
                    strcmp(split.log, whole.log) == 0;
        if (!same)
            fprintf(stderr, "case %s step %zu:\n  %s\n  %s\n", name, steps[i], whole.log,
                    split.log);
        CHECK(same);
    }
    return &whole;
}

#define HEX_MAX 512
static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    while (s[0] && s[1]) {
        if (s[0] == ' ') {
            s++;
            continue;
        }
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static transcript *hex_case(const char *name, const char *hex, sio_ws_role role, sio_err want)
{
    uint8_t b[HEX_MAX];
    size_t n = unhex(hex, b);
    return expect_stream(name, b, n, role, SIO_WS_DEFAULT_MAX_MESSAGE, want);
}

#define SRV SIO_WS_ROLE_SERVER
#define CLI SIO_WS_ROLE_CLIENT

static void test_rfc_examples(void)
{
    transcript *t = hex_case("5.7 unmasked Hello", "810548656c6c6f", CLI, SIO_OK);
    CHECK_EQ_INT(t->messages, 1);
    CHECK(strstr(t->log, "[data op=1 fin=1 text=1 ms=1 me=1 48656c6c6f]") != NULL);
    t = hex_case("5.7 masked Hello", "818537fa213d7f9f4d5158", SRV, SIO_OK);
    CHECK(strstr(t->log, "48656c6c6f]") != NULL);
    t = hex_case("5.7 fragmented", "010348656c80026c6f", CLI, SIO_OK);
    CHECK_EQ_INT(t->frames, 2);
    CHECK_EQ_INT(t->messages, 1);
    CHECK(strstr(t->log, "[data op=0 fin=1 text=1 ms=0 me=1 6c6f]") != NULL);
    t = hex_case("5.7 ping", "890548656c6c6f", CLI, SIO_OK);
    CHECK_EQ_INT(t->controls, 1);
    t = hex_case("5.7 masked pong", "8a8537fa213d7f9f4d5158", SRV, SIO_OK);
    CHECK(strstr(t->log, "[ctl op=10 code=0 48656c6c6f]") != NULL);
}

static void test_lengths(void)
{
    static uint8_t s[MAX_STREAM];
    size_t sizes[] = {125, 126, 65535, 65536};
    for (size_t i = 0; i < 4; i++) {
        sio_ws_frame_header h = {
            .fin = true, .opcode = SIO_WS_OP_BINARY, .masked = true, .mask = {1, 2, 3, 4}};
        static uint8_t payload[65536];
        memset(payload, 0x2a, sizes[i]);
        size_t w = 0;
        CHECK_ERR(sio_ws_frame_encode(&h, payload, sizes[i], s, sizeof s, &w), SIO_OK);
        transcript *t = expect_stream("length", s, w, SRV, SIO_WS_DEFAULT_MAX_MESSAGE, SIO_OK);
        CHECK_EQ_INT(t->frame_len, sizes[i]);
        CHECK(t->frame_len == sizes[i] && t->frame_bytes[sizes[i] - 1] == 0x2a);
    }
    hex_case("16-bit length for 125", "827e007d", CLI, SIO_ERR_WS_LENGTH_NOT_MINIMAL);
    hex_case("64-bit length for 65535", "827f000000000000ffff", CLI, SIO_ERR_WS_LENGTH_NOT_MINIMAL);
    hex_case("64-bit MSB", "827f8000000000000000", CLI, SIO_ERR_WS_LENGTH_MSB);
    /* A huge, valid declared length is refused by the limit before any payload arrives. */
    transcript *t =
        hex_case("2^32 bytes declared", "827f0000000100000000", CLI, SIO_ERR_WS_MESSAGE_TOO_BIG);
    CHECK_EQ_INT(t->err_at, 10);
}

static void test_limit(void)
{
    uint8_t s[256];
    size_t n = unhex("820a 00112233445566778899", s);
    expect_stream("limit exact", s, n, CLI, 10, SIO_OK);
    expect_stream("limit +1", s, n, CLI, 9, SIO_ERR_WS_MESSAGE_TOO_BIG);
    n = unhex("0205 0011223344 8005 5566778899", s);
    expect_stream("limit across fragments exact", s, n, CLI, 10, SIO_OK);
    transcript *t =
        expect_stream("limit across fragments +1", s, n, CLI, 9, SIO_ERR_WS_MESSAGE_TOO_BIG);
    CHECK_EQ_INT(t->frames, 1);
    CHECK_EQ_INT(t->err_at, 9);
    n = unhex("0205 0011223344 897b", s); /* a control frame is not counted */
    memset(s + n, 0, 123);
    n += 123;
    n += unhex("8005 5566778899", s + n);
    expect_stream("ping inside limited message", s, n, CLI, 10, SIO_OK);
}

static void test_header_rules(void)
{
    hex_case("RSV1", "c100", CLI, SIO_ERR_WS_RSV_SET);
    hex_case("RSV2", "a100", CLI, SIO_ERR_WS_RSV_SET);
    hex_case("RSV3", "9100", CLI, SIO_ERR_WS_RSV_SET);
    const char *reserved[] = {"8300", "8400", "8500", "8600", "8700",
                              "8b00", "8c00", "8d00", "8e00", "8f00"};
    for (size_t i = 0; i < 10; i++)
        hex_case("reserved opcode", reserved[i], CLI, SIO_ERR_WS_OPCODE);
    hex_case("unmasked to server", "810161", SRV, SIO_ERR_WS_UNMASKED);
    hex_case("masked to client", "818100000000 61", CLI, SIO_ERR_WS_MASKED);
    hex_case("ping without FIN", "0900", CLI, SIO_ERR_WS_CONTROL_FRAGMENTED);
    hex_case("close without FIN", "0800", CLI, SIO_ERR_WS_CONTROL_FRAGMENTED);
    hex_case("ping 126 (16-bit)", "897e007e", CLI, SIO_ERR_WS_CONTROL_TOO_LONG);
    transcript *t = hex_case("incomplete header is no event", "817e00", CLI, SIO_OK);
    CHECK_EQ_INT(t->frames, 0);
    t = hex_case("RSV fails at byte 1", "f100", CLI, SIO_ERR_WS_RSV_SET);
    CHECK_EQ_INT(t->err_at, 1);
    t = hex_case("control 126 fails at byte 2", "897e007e", CLI, SIO_ERR_WS_CONTROL_TOO_LONG);
    CHECK_EQ_INT(t->err_at, 2);
}

static void test_control_bounds(void)
{
    uint8_t s[200];
    s[0] = 0x89;
    s[1] = 125;
    memset(s + 2, 'p', 125);
    transcript *t = expect_stream("ping 125", s, 127, CLI, 100, SIO_OK);
    CHECK_EQ_INT(t->controls, 1);
    s[1] = 126;
    s[2] = 0;
    s[3] = 126;
    expect_stream("ping 126", s, 130, CLI, 1000, SIO_ERR_WS_CONTROL_TOO_LONG);
    hex_case("empty pong", "8a00", CLI, SIO_OK);
}

static void test_fragmentation(void)
{
    transcript *t = hex_case("ping between fragments", "010148 890170 80016900", CLI, SIO_OK);
    CHECK_EQ_INT(t->controls, 1);
    CHECK_EQ_INT(t->messages, 1);
    t = hex_case("three fragments, empty middle", "020101 0000 800102", CLI, SIO_OK);
    CHECK_EQ_INT(t->frames, 3);
    CHECK_EQ_INT(t->messages, 1);
    hex_case("continuation first", "800161", CLI, SIO_ERR_WS_UNEXPECTED_CONTINUATION);
    hex_case("continuation after final", "810161 800162", CLI, SIO_ERR_WS_UNEXPECTED_CONTINUATION);
    hex_case("text inside text", "010161 810162", CLI, SIO_ERR_WS_MESSAGE_INTERRUPTED);
    hex_case("binary inside text", "010161 820162", CLI, SIO_ERR_WS_MESSAGE_INTERRUPTED);
    t = hex_case("empty text message", "8100", CLI, SIO_OK);
    CHECK(strstr(t->log, "[data op=1 fin=1 text=1 ms=1 me=1 ]") != NULL);
}

static void test_text_utf8(void)
{
    /* κόσμε then U+110000 (f4 90 ..): fails at the 0x90, in the second fragment. */
    transcript *t =
        hex_case("bad utf8 across fragments", "0107 cebae1bdb9cf83 8008 cebcceb5f4908080", CLI,
                 SIO_ERR_WS_TEXT_UTF8);
    CHECK_EQ_INT(t->err_at, 9 + 2 + 6);
    CHECK_EQ_INT(t->frames, 1);
    t = hex_case("utf8 sequence split over fragments", "0102 e282 8001 ac", CLI, SIO_OK);
    CHECK(strstr(t->log, "[data op=0 fin=1 text=1 ms=0 me=1 ac]") != NULL);
    t = hex_case("text ends mid-sequence", "8102 e282", CLI, SIO_ERR_WS_TEXT_UTF8);
    CHECK_EQ_INT(t->err_at, 4);
    hex_case("binary is not checked", "8202 e282", CLI, SIO_OK);
    hex_case("masked invalid utf8", "8182 00000000 c0af", SRV, SIO_ERR_WS_TEXT_UTF8);
    hex_case("fail before the frame ends", "8105 61ff", CLI, SIO_ERR_WS_TEXT_UTF8);
}

static void test_close(void)
{
    transcript *t = hex_case("close 1000 bye", "880503e8627965", CLI, SIO_OK);
    CHECK_EQ_INT(t->last_close, 1000);
    t = hex_case("empty close", "8800", CLI, SIO_OK);
    CHECK_EQ_INT(t->controls, 1);
    CHECK_EQ_INT(t->last_close, 0);
    hex_case("close 1 byte", "880103", CLI, SIO_ERR_WS_CLOSE_PAYLOAD_LENGTH);
    hex_case("close 1005", "880203ed", CLI, SIO_ERR_WS_CLOSE_CODE);
    hex_case("close 999", "880203e7", CLI, SIO_ERR_WS_CLOSE_CODE);
    hex_case("close 5000", "88021388", CLI, SIO_ERR_WS_CLOSE_CODE);
    hex_case("close reason bad", "880403e8c0af", CLI, SIO_ERR_WS_CLOSE_REASON_UTF8);
    hex_case("bytes after close", "8800 8100", CLI, SIO_ERR_WS_DATA_AFTER_CLOSE);
    t = hex_case("close inside fragmented message", "010161 8800", CLI, SIO_OK);
    CHECK_EQ_INT(t->controls, 1);
}

/* After an error the parser keeps reporting it and reads nothing more. */
static void test_sticky_error_and_closed(void)
{
    uint8_t s[] = {0xc1, 0x00, 0x81, 0x00};
    sio_ws_parser p;
    sio_ws_event ev;
    size_t used = 0;
    sio_ws_parser_init(&p, CLI, 100);
    CHECK_ERR(sio_ws_parser_feed(&p, s, sizeof s, &used, &ev), SIO_ERR_WS_RSV_SET);
    CHECK_EQ_INT(used, 1);
    CHECK_ERR(sio_ws_parser_feed(&p, s + 2, 2, &used, &ev), SIO_ERR_WS_RSV_SET);
    CHECK_EQ_INT(used, 0);
    CHECK_EQ_INT(ev.type, SIO_WS_EV_NONE);
    uint8_t c[] = {0x88, 0x02, 0x03, 0xe8};
    sio_ws_parser_init(&p, CLI, 100);
    CHECK(!sio_ws_parser_closed(&p));
    CHECK_ERR(sio_ws_parser_feed(&p, c, sizeof c, &used, &ev), SIO_OK);
    CHECK_EQ_INT(ev.type, SIO_WS_EV_CONTROL);
    CHECK_EQ_INT(ev.close_code, 1000);
    CHECK(sio_ws_parser_closed(&p));
    CHECK_ERR(sio_ws_parser_feed(&p, c, 0, &used, &ev), SIO_OK);
    CHECK_EQ_INT(ev.type, SIO_WS_EV_NONE);
    CHECK_EQ_INT(sio_ws_parser_sizeof(), sizeof(sio_ws_parser));
    CHECK_EQ_INT(sio_ws_event_sizeof(), sizeof(sio_ws_event));
}

/* Views point into the caller's buffer, already unmasked: no copy was made. */
static void test_zero_copy(void)
{
    uint8_t s[] = {0x82, 0x83, 1, 2, 3, 4, 0x11 ^ 1, 0x22 ^ 2, 0x33 ^ 3};
    sio_ws_parser p;
    sio_ws_event ev;
    size_t used = 0;
    sio_ws_parser_init(&p, SRV, 100);
    CHECK_ERR(sio_ws_parser_feed(&p, s, 7, &used, &ev), SIO_OK);
    CHECK_EQ_INT(used, 7);
    CHECK(ev.payload.ptr == s + 6 && ev.payload.len == 1);
    CHECK(ev.frame_start && !ev.frame_end && ev.message_start && !ev.message_end);
    CHECK_EQ_INT(s[6], 0x11);
    CHECK_ERR(sio_ws_parser_feed(&p, s + 7, 2, &used, &ev), SIO_OK);
    CHECK(ev.payload.ptr == s + 7 && ev.payload.len == 2);
    CHECK(!ev.frame_start && ev.frame_end && !ev.message_start && ev.message_end);
    CHECK_EQ_INT(s[7], 0x22);
    CHECK_EQ_INT(s[8], 0x33);
    CHECK_EQ_INT(ev.frame.mask[3], 4);
}

static void test_close_codes_for_errors(void)
{
    CHECK_EQ_INT(sio_ws_close_code_for(SIO_ERR_WS_MESSAGE_TOO_BIG), 1009);
    CHECK_EQ_INT(sio_ws_close_code_for(SIO_ERR_WS_TEXT_UTF8), 1007);
    CHECK_EQ_INT(sio_ws_close_code_for(SIO_ERR_WS_CLOSE_REASON_UTF8), 1007);
    CHECK_EQ_INT(sio_ws_close_code_for(SIO_ERR_WS_RSV_SET), 1002);
    CHECK_EQ_INT(sio_ws_close_code_for(SIO_ERR_WS_CLOSE_CODE), 1002);
    CHECK_EQ_INT(sio_ws_close_code_for(SIO_ERR_WS_UNMASKED), 1002);
    CHECK_EQ_INT(sio_ws_close_code_for(SIO_ERR_WS_DATA_AFTER_CLOSE), 1002);
    CHECK_EQ_INT(sio_ws_close_code_for(SIO_ERR_BUFFER_TOO_SMALL), 1011);
    CHECK_EQ_INT(sio_ws_close_code_for(SIO_OK), 1000);
    for (int code = 200; code < 300; code++)
        if (sio_err_name(code))
            CHECK(sio_ws_close_code_for((sio_err)code) != 1011);
}

/* Appends one random frame (any opcode, sometimes broken) to s; returns its size. */
static size_t random_frame(uint32_t *rng, uint8_t *s, size_t cap, sio_ws_role role)
{
    static const uint8_t ops[] = {0, 0, 1, 1, 2, 2, 8, 9, 10, 3};
    uint8_t payload[300];
    uint32_t r = rng_next(rng);
    size_t len = r % 8 == 0 ? 126 + rng_next(rng) % 150 : rng_next(rng) % 12;
    for (size_t i = 0; i < len; i++)
        payload[i] =
            r % 3 == 0 ? (uint8_t)rng_next(rng) : (uint8_t) "ok\xce\xba\xe2\x82\xac!"[i % 8];
    sio_ws_frame_header h = {.fin = (r >> 8) % 3 != 0,
                             .opcode = ops[(r >> 12) % 10],
                             .masked = role == SIO_WS_ROLE_SERVER ? (r >> 16) % 50 != 0
                                                                  : (r >> 16) % 50 == 0};
    if ((h.opcode & 8) && (r >> 20) % 4 != 0) {
        h.fin = true;
        len = len > 125 ? 2 : len; /* keep most control frames valid */
        if (h.opcode == 8 && len >= 2) {
            payload[0] = 0x03;
            payload[1] = 0xe8;
        }
    }
    uint32_t key = rng_next(rng);
    memcpy(h.mask, &key, 4);
    size_t w = 0;
    if (sio_ws_frame_encode(&h, payload, len, s, cap, &w) != SIO_OK)
        return 0;
    if ((r >> 24) % 16 == 0 && w > 0)
        s[rng_next(rng) % w] ^= (uint8_t)(1u << (rng_next(rng) % 8)); /* a flipped bit */
    return w;
}

/* Random streams of random frames: whatever the outcome, it must not depend on how the
 * bytes were split (expect_stream checks every split against the one-shot run). */
static void test_random_streams(void)
{
    uint32_t rng = 0x9e3779b9u;
    static uint8_t s[4096];
    int ok = 0, failed = 0;
    for (int iter = 0; iter < 1500; iter++) {
        sio_ws_role role = iter % 2 ? SIO_WS_ROLE_SERVER : SIO_WS_ROLE_CLIENT;
        size_t n = 0, frames = 1 + rng_next(&rng) % 8;
        for (size_t f = 0; f < frames; f++)
            n += random_frame(&rng, s + n, sizeof s - n, role);
        uint64_t max = iter % 3 ? SIO_WS_DEFAULT_MAX_MESSAGE : 200;
        static transcript whole;
        run(&whole, s, n, 0, role, max);
        expect_stream("random", s, n, role, max, whole.err);
        ok += whole.err == SIO_OK;
        failed += whole.err != SIO_OK;
    }
    CHECK(ok > 100 && failed > 100); /* both outcomes well represented */
}

int main(void)
{
    test_rfc_examples();
    test_lengths();
    test_limit();
    test_header_rules();
    test_control_bounds();
    test_fragmentation();
    test_text_utf8();
    test_close();
    test_sticky_error_and_closed();
    test_zero_copy();
    test_close_codes_for_errors();
    test_random_streams();
    CHECK_DONE();
}
