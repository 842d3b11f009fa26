/* The SSE2 path of the byte scanners: 16 bytes per instruction, with what every x86-64 CPU has.
 * SSE2 has no byte shuffle, so bytes are classified by comparisons, and a block holding bytes
 * >= 0x80 has its UTF-8 checked by the scalar state machine. */
#include "simd_internal.h"

#if SIO__HAVE_X86
#include <emmintrin.h>
#include <string.h>

#include "json_blocks.h"
#include "sio/utf8.h"

__attribute__((always_inline)) static inline uint64_t bits16(__m128i v)
{
    return (uint64_t)(uint32_t)_mm_movemask_epi8(v);
}

size_t sio__ascii_run_sse2(const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; n - i >= 16; i += 16) {
        unsigned high = (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(p + i)));
        if (high)
            return i + (size_t)__builtin_ctz(high);
    }
    while (i < n && p[i] < 0x80)
        i++;
    return i;
}

/* ---------------------------------------------------------------- JSON */

__attribute__((always_inline)) static inline void json_block_sse2(const uint8_t *p,
                                                                  sio_utf8_state *u8,
                                                                  json_block_masks *m)
{
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    const __m128i comma = _mm_set1_epi8(','), colon = _mm_set1_epi8(':');
    const __m128i case_bit = _mm_set1_epi8(0x20);
    const __m128i open = _mm_set1_epi8('{'), close = _mm_set1_epi8('}');
    const __m128i space = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t');
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    const __m128i c1f = _mm_set1_epi8(0x1F), zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
    memset(m, 0, sizeof *m);
    for (unsigned k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + 16 * k));
        __m128i folded = _mm_or_si128(v, case_bit); /* [ ] are { } without the 0x20 bit */
        __m128i bracket = _mm_or_si128(_mm_cmpeq_epi8(folded, open), _mm_cmpeq_epi8(folded, close));
        __m128i ws = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, space), _mm_cmpeq_epi8(v, tab)),
                                  _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
        __m128i from_zero = _mm_sub_epi8(v, zero); /* digits become 0..9 */
        __m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(from_zero, nine), from_zero);
        unsigned shift = 16 * k;
        m->comma |= bits16(_mm_cmpeq_epi8(v, comma)) << shift;
        m->colon |= bits16(_mm_cmpeq_epi8(v, colon)) << shift;
        m->bracket |= bits16(bracket) << shift;
        m->ws |= bits16(ws) << shift;
        m->digit |= bits16(digit) << shift;
        m->zero |= bits16(_mm_cmpeq_epi8(v, zero)) << shift;
        m->quote |= bits16(_mm_cmpeq_epi8(v, quote)) << shift;
        m->backslash |= bits16(_mm_cmpeq_epi8(v, backslash)) << shift;
        m->ctrl |= bits16(_mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f)) << shift;
        m->high |= bits16(v) << shift;
    }
    if (m->high != 0 || !sio_utf8_complete(u8))
        m->utf8_error = sio_utf8_feed(u8, p, 64, NULL) != SIO_OK;
}

__attribute__((always_inline)) static inline void json_classify_sse2(const uint8_t *p, void *u8,
                                                                     json_block_masks *m)
{
    json_block_sse2(p, (sio_utf8_state *)u8, m);
}

__attribute__((always_inline)) static inline bool u8_pending_sse2(const void *u8)
{
    return !sio_utf8_complete((const sio_utf8_state *)u8);
}

bool sio__json_accept_sse2(const uint8_t *p, size_t n, uint32_t max_depth)
{
    sio_utf8_state u8;
    sio_utf8_init(&u8);
    return json_accept_blocks(p, n, max_depth, json_classify_sse2, u8_pending_sse2, &u8);
}

size_t sio__json_find_stop_sse2(const uint8_t *p, size_t n, size_t i, bool brackets)
{
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    const __m128i case_bit = _mm_set1_epi8(0x20);
    const __m128i open = _mm_set1_epi8('{'), close = _mm_set1_epi8('}');
    for (; i < n && n - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        __m128i stop = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
        if (brackets) {
            __m128i folded = _mm_or_si128(v, case_bit);
            stop = _mm_or_si128(
                stop, _mm_or_si128(_mm_cmpeq_epi8(folded, open), _mm_cmpeq_epi8(folded, close)));
        }
        unsigned bits = (unsigned)_mm_movemask_epi8(stop);
        if (bits)
            return i + (size_t)__builtin_ctz(bits);
    }
    return sio__json_find_stop_tail(p, n, i, brackets);
}

/* ---------------------------------------------------------------- WebSocket masking */

void sio__ws_mask_sse2(uint8_t *p, size_t len, uint32_t key4)
{
    const __m128i key = _mm_set1_epi32((int)key4);
    size_t i = 0;
    for (; len - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        _mm_storeu_si128((__m128i *)(p + i), _mm_xor_si128(v, key));
    }
    sio__ws_mask_tail(p, i, len, key4);
}

#endif
