/* The encoders' payload copy (codec/src/copy_internal.h): which copies go in slices (length
 * and distance modulo 4 KiB, each at its bound and one past), that a sliced copy writes exactly
 * the source bytes and nothing around them, and the encoders that use it at such a distance. */
#include <stdint.h>
#include <stdlib.h>

#include "copy_internal.h" /* called directly (codec/src) */

#include "check.h"
#include "sio/eio.h"
#include "sio/packet.h"
#include "sio/ws.h"

#define ARENA (64u << 10)

static uint8_t *arena; /* page-aligned, so offsets in it are offsets modulo 4 KiB */

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31u + seed);
}

/* The destination `ahead` bytes past the source modulo 4 KiB: src at 4096 + 16, dst at
 * 32768 + 16 + ahead. */
static uint8_t *src_at(void)
{
    return arena + 4096 + 16;
}

static uint8_t *dst_for(size_t ahead)
{
    return arena + 32768 + 16 + ahead; /* 7 pages past src: no overlap */
}

static void test_which_copies_are_sliced(void)
{
    uint8_t *src = arena + 8192;
    /* distance modulo 4 KiB: 0 is a plain copy, 1 to 63 sliced, 64 not */
    CHECK(!sio__copy_sliced(src + 16384, src, 4096));
    CHECK(sio__copy_sliced(src + 16384 + 1, src, 4096));
    CHECK(sio__copy_sliced(src + 16384 + 63, src, 4096));
    CHECK(!sio__copy_sliced(src + 16384 + 64, src, 4096));
    /* a destination before the source counts the same way modulo 4 KiB */
    CHECK(sio__copy_sliced(src - 4096 + 1, src, 4096));
    CHECK(!sio__copy_sliced(src - 1, src, 4096)); /* 4095 ahead */
    /* length: from 2048 bytes on */
    CHECK(!sio__copy_sliced(src + 16384 + 1, src, 2047));
    CHECK(sio__copy_sliced(src + 16384 + 1, src, 2048));
    CHECK(!sio__copy_sliced(src + 16384 + 1, src, 0));
}

/* Every length around the slice size and the threshold, at sliced and plain distances: the
 * destination holds the source bytes and the bytes on either side are untouched. */
static void test_copy_bytes(void)
{
    static const size_t lengths[] = {0, 1, 255, 256, 257, 2047, 2048, 2049, 2303, 2304, 2305, 9000};
    static const size_t aheads[] = {0, 1, 2, 31, 63, 64, 100};
    for (size_t a = 0; a < sizeof aheads / sizeof aheads[0]; a++) {
        for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
            size_t n = lengths[l];
            uint8_t *src = src_at(), *dst = dst_for(aheads[a]);
            fill(src, n, (unsigned)l);
            memset(dst - 8, 0xAA, n + 16);
            sio__copy(dst, src, n);
            CHECK_MEM(dst, n, src, n);
            bool guards = true;
            for (size_t k = 1; k <= 8; k++)
                guards = guards && dst[-(ptrdiff_t)k] == 0xAA && dst[n + k - 1] == 0xAA;
            CHECK(guards);
        }
    }
}

/* The encoders whose payload copy is sliced give the same bytes at an aliasing distance: an
 * Engine.IO text (header '4'), a Socket.IO packet ('2' then the payload), the same packet as an
 * Engine.IO message ("42") and a WebSocket frame (a 4-byte header at this length), each payload
 * landing 1 byte ahead of its source. */
static void test_encoders_at_aliasing_distance(void)
{
    size_t n = 5000;
    uint8_t *text = src_at();
    text[0] = '[';
    text[1] = '"';
    memset(text + 2, 'a', n - 4);
    text[n - 2] = '"';
    text[n - 1] = ']';
    CHECK(sio__copy_sliced(dst_for(1), text, n));
    uint8_t *out = dst_for(1) - 1; /* after the one-byte header, the payload is 1 ahead */
    size_t w = 0;
    CHECK_ERR(sio_eio_packet_encode(4, SIO_EIO_MESSAGE, SIO_EIO_ENC_TEXT, text, n, out, n + 1, &w),
              SIO_OK);
    CHECK_EQ_INT(w, n + 1);
    CHECK_EQ_INT(out[0], '4');
    CHECK_MEM(out + 1, n, text, n);

    out = dst_for(1) - 1; /* after '2' */
    sio_pkt pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.type = SIO_PKT_EVENT;
    pkt.nsp = sio_span_of("/", 1);
    pkt.data = sio_span_of(text, n);
    CHECK_ERR(sio_pkt_encode(&pkt, NULL, out, n + 1, &w), SIO_OK);
    CHECK_EQ_INT(w, n + 1);
    CHECK_EQ_INT(out[0], '2');
    CHECK_MEM(out + 1, n, text, n);

    out = dst_for(1) - 2; /* after "42" */
    CHECK_ERR(sio_pkt_encode_eio_message(&pkt, NULL, out, n + 2, &w), SIO_OK);
    CHECK_EQ_INT(w, n + 2);
    CHECK_MEM(out, 2, "42", 2);
    CHECK_MEM(out + 2, n, text, n);

    out = dst_for(1) - 4; /* after the 4-byte header */
    sio_ws_frame_header h = {0};
    h.fin = true;
    h.opcode = SIO_WS_OP_TEXT;
    CHECK_ERR(sio_ws_frame_encode(&h, text, n, out, n + 4, &w), SIO_OK);
    CHECK_EQ_INT(w, n + 4);
    CHECK_MEM(out + 4, n, text, n);
}

int main(void)
{
    arena = aligned_alloc(4096, ARENA);
    if (arena == NULL)
        return 1;
    test_which_copies_are_sliced();
    test_copy_bytes();
    test_encoders_at_aliasing_distance();
    free(arena);
    CHECK_DONE();
}
