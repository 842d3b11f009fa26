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
    fuzz_log log;         /* what the parser reported, in a split-independent form */
    fuzz_log payload;     /* payload of the frame being read */
    fuzz_log message;     /* bytes of the text message being read */
    const uint8_t *input; /* the stream as given (the parser unmasks its own copy) */
    size_t input_len;
    size_t frames_len;  /* bytes of the completed frames re-encoded so far */
    size_t frames_end;  /* input offset just past the last completed frame */
    bool frames_differ; /* a re-encoded frame differs from the input bytes at its place */
    sio_err err;
} run;

/* Logs a completed frame and re-encodes it. Only completed frames are logged: how much of an
 * unfinished frame was handed out before an error depends on where the reads ended. */
static void frame_done(run *r, const sio_ws_frame_header *h, size_t at)
{
    sio_ws_frame_header copy = *h;
    size_t need = sio_ws_header_size(r->payload.len, h->masked) + r->payload.len, wrote = 0;
    static fuzz_buffer out_buf;
    uint8_t *out = fuzz_buffer_get(&out_buf, need);
    log_put(&r->log, "F", 1);
    log_put(&r->log, &h->opcode, 1);
    log_put(&r->log, &h->fin, 1);
    log_span(&r->log, r->payload.p, r->payload.len);
    FUZZ_ASSERT(h->payload_len == r->payload.len, "ws: frame payload length differs from header");
    FUZZ_ASSERT(sio_ws_frame_encode(&copy, r->payload.p, r->payload.len, out, need, &wrote) ==
                        SIO_OK &&
                    wrote == need,
                "ws: re-encoding a parsed frame failed");
    sio_ws_frame_header again;
    size_t hlen = 0;
    FUZZ_ASSERT(
        sio_ws_header_decode(out, wrote, copy.masked ? SIO_WS_ROLE_SERVER : SIO_WS_ROLE_CLIENT,
                             &again, &hlen) == SIO_OK &&
            again.payload_len == h->payload_len && again.opcode == h->opcode && again.fin == h->fin,
        "ws: header of a parsed frame does not decode alone");
    /* The re-encoded frames, one after the other, must be the input's first bytes (checked on
     * the one-read run; the split run has to agree with it anyway). */
    if (r->input) {
        if (wrote > r->input_len - r->frames_len ||
            memcmp(out, r->input + r->frames_len, wrote) != 0)
            r->frames_differ = true;
        else
            r->frames_len += wrote;
    }
    r->frames_end = at;
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
        FUZZ_ASSERT(sio_ws_close_code_valid(ev->close_code),
                    "ws: close frame with an invalid code");
    log_put(&r->payload, ev->payload.ptr, ev->payload.len);
}

/* Feeds one read, event by event, until the parser wants more bytes or fails. */
static bool feed(run *r, sio_ws_parser *ps, uint8_t *buf, size_t len, size_t base)
{
    size_t off = 0;
    for (;;) {
        size_t used = 0;
        sio_ws_event ev;
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

/* Runs the parser over a private copy of the stream (it unmasks in place). The logs keep their
 * buffers from one input to the next. */
static void run_stream(run *r, const uint8_t *p, size_t n, uint8_t opts, fuzz_splitter *sp)
{
    log_reset(&r->log);
    log_reset(&r->payload);
    log_reset(&r->message);
    r->input = sp ? NULL : p;
    r->input_len = sp ? 0 : n;
    r->frames_len = r->frames_end = 0;
    r->frames_differ = false;
    r->err = SIO_OK;
    static fuzz_buffer copy_buf;
    uint8_t *copy = fuzz_buffer_get(&copy_buf, n + 1);
    memcpy(copy, p, n);
    sio_ws_parser ps;
    sio_ws_parser_init(&ps, (opts & 1u) ? SIO_WS_ROLE_CLIENT : SIO_WS_ROLE_SERVER,
                       limits[(opts >> 1) & 3u]);
    size_t off = 0;
    while (off < n) {
        size_t len = sp ? fuzz_splitter_next(sp, n - off) : n - off;
        if (!feed(r, &ps, copy + off, len, off))
            break;
        off += len;
    }
    log_put(&r->log, "E", 1);
    log_put(&r->log, (uint8_t[]){(uint8_t)sio_ws_parser_closed(&ps)}, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t opts = fuzz_take_u8(&in);
    fuzz_splitter sp;
    fuzz_splitter_init(&sp, &in);
    static run whole, split;
    run_stream(&whole, in.p, in.n, opts, NULL);
    fuzz_reached(whole.err == SIO_OK);
    FUZZ_ASSERT(whole.frames_end <= in.n && !whole.frames_differ &&
                    whole.frames_len == whole.frames_end,
                "ws: re-encoded frames differ from the input");
    run_stream(&split, in.p, in.n, opts, &sp);
    log_assert_equal(&whole.log, &split.log, "ws: split reads and one read disagree");
    return 0;
}
