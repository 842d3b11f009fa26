/* Fuzz target: the incremental WebSocket frame parser (sio_ws_parser_*), RFC 6455 §5.
 *
 * Input: byte 0 = options (bit 0: read as a client, i.e. server frames; bits 1-2: message
 * limit 1000000 / 16 / 1000 / none), then a split header (fuzz_common.h), then the byte
 * stream. Oracles:
 *  - the stream fed in reads of input-chosen sizes gives the same frames, message bytes,
 *    control frames, error and error offset as the stream fed in one read (the one-shot run);
 *  - a completed text message is valid UTF-8; a close frame's code is one a peer may send;
 *  - re-encoding every completed frame (sio_ws_frame_encode, same mask key) reproduces the
 *    input bytes exactly, since the parser only accepts minimal headers;
 *  - each frame's header decodes on its own (sio_ws_header_decode) to the same fields. */
#include "fuzz_log.h"
#include "sio/ws.h"

static const uint64_t limits[4] = {SIO_WS_DEFAULT_MAX_MESSAGE, 16, 1000, UINT64_MAX};

typedef struct run {
    fuzz_log log;     /* what the parser reported, in a split-independent form */
    fuzz_log frames;  /* completed frames re-encoded */
    fuzz_log payload; /* payload of the frame being read */
    fuzz_log message; /* bytes of the text message being read */
    size_t frames_end; /* input offset just past the last completed frame */
    sio_err err;
} run;

/* Logs a completed frame and re-encodes it. Only completed frames are logged: how much of an
 * unfinished frame was handed out before an error depends on where the reads ended. */
static void frame_done(run *r, const sio_ws_frame_header *h, size_t at)
{
    sio_ws_frame_header copy = *h;
    size_t need = sio_ws_header_size(r->payload.len, h->masked) + r->payload.len, wrote = 0;
    uint8_t *out = malloc(need);
    if (!out)
        abort();
    log_put(&r->log, "F", 1);
    log_put(&r->log, &h->opcode, 1);
    log_put(&r->log, &h->fin, 1);
    log_span(&r->log, r->payload.p, r->payload.len);
    FUZZ_ASSERT(h->payload_len == r->payload.len, "ws: frame payload length differs from header");
    FUZZ_ASSERT(sio_ws_frame_encode(&copy, r->payload.p, r->payload.len, out, need, &wrote) == SIO_OK &&
                    wrote == need, "ws: re-encoding a parsed frame failed");
    sio_ws_frame_header again;
    size_t hlen = 0;
    FUZZ_ASSERT(sio_ws_header_decode(out, wrote, copy.masked ? SIO_WS_ROLE_SERVER : SIO_WS_ROLE_CLIENT,
                                     &again, &hlen) == SIO_OK && again.payload_len == h->payload_len &&
                    again.opcode == h->opcode && again.fin == h->fin,
                "ws: header of a parsed frame does not decode alone");
    log_put(&r->frames, out, wrote);
    r->frames_end = at;
    free(out);
    r->payload.len = 0;
}

static void on_data(run *r, const sio_ws_event *ev)
{
    if (ev->message_start)
        r->message.len = 0;
    log_put(&r->payload, ev->payload.ptr, ev->payload.len);
    if (ev->text)
        log_put(&r->message, ev->payload.ptr, ev->payload.len);
    if (ev->message_end) {
        log_put(&r->log, "M", 1);
        FUZZ_ASSERT(!ev->text || sio_utf8_validate(r->message.p, r->message.len, NULL) == SIO_OK,
                    "ws: a completed text message is not UTF-8");
    }
}

static void on_control(run *r, const sio_ws_event *ev)
{
    log_put(&r->log, "C", 1);
    log_u64(&r->log, ev->close_code);
    if (ev->frame.opcode == SIO_WS_OP_CLOSE && ev->close_code)
        FUZZ_ASSERT(sio_ws_close_code_valid(ev->close_code), "ws: close frame with an invalid code");
    log_put(&r->payload, ev->payload.ptr, ev->payload.len);
}

/* Feeds one read, event by event, until the parser wants more bytes or fails. */
static bool feed(run *r, sio_ws_parser *ps, uint8_t *buf, size_t len, size_t base)
{
    size_t off = 0;
    for (;;) {
        size_t used = 0;
        sio_ws_event ev;
        memset(&ev, 0, sizeof ev);
        r->err = sio_ws_parser_feed(ps, buf + off, len - off, &used, &ev);
        FUZZ_ASSERT(used <= len - off, "ws: consumed more than it was given");
        off += used;
        if (r->err != SIO_OK) {
            log_u64(&r->log, (uint64_t)r->err);
            log_u64(&r->log, base + off);
            return false;
        }
        if (ev.type == SIO_WS_EV_NONE) {
            FUZZ_ASSERT(off == len, "ws: asked for more bytes before using these");
            return true;
        }
        ev.type == SIO_WS_EV_DATA ? on_data(r, &ev) : on_control(r, &ev);
        if (ev.type == SIO_WS_EV_CONTROL || ev.frame_end)
            frame_done(r, &ev.frame, base + off);
    }
}

/* Runs the parser over a private copy of the stream (it unmasks in place). */
static void run_stream(run *r, const uint8_t *p, size_t n, uint8_t opts, fuzz_splitter *sp)
{
    memset(r, 0, sizeof *r);
    uint8_t *copy = malloc(n + 1);
    if (!copy)
        abort();
    memcpy(copy, p, n);
    sio_ws_parser ps;
    sio_ws_parser_init(&ps, (opts & 1u) ? SIO_WS_ROLE_CLIENT : SIO_WS_ROLE_SERVER, limits[(opts >> 1) & 3u]);
    size_t off = 0;
    while (off < n) {
        size_t len = sp ? fuzz_splitter_next(sp, n - off) : n - off;
        if (!feed(r, &ps, copy + off, len, off))
            break;
        off += len;
    }
    log_put(&r->log, "E", 1);
    log_put(&r->log, (uint8_t[]){(uint8_t)sio_ws_parser_closed(&ps)}, 1);
    free(copy);
}

static void free_run(run *r)
{
    log_free(&r->log);
    log_free(&r->frames);
    log_free(&r->payload);
    log_free(&r->message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t opts = fuzz_take_u8(&in);
    fuzz_splitter sp;
    fuzz_splitter_init(&sp, &in);
    run whole, split;
    run_stream(&whole, in.p, in.n, opts, NULL);
    fuzz_reached(whole.err == SIO_OK);
    FUZZ_ASSERT(whole.frames_end <= in.n && whole.frames.len == whole.frames_end &&
                    memcmp(whole.frames.p ? whole.frames.p : in.p, in.p, whole.frames_end) == 0,
                "ws: re-encoded frames differ from the input");
    run_stream(&split, in.p, in.n, opts, &sp);
    log_assert_equal(&whole.log, &split.log, "ws: split reads and one read disagree");
    free_run(&whole);
    free_run(&split);
    return 0;
}
