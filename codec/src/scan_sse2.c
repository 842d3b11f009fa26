/* The SSE2 path of the byte scanners: 16 bytes per instruction, with what every x86-64 CPU has:
 * runs of ASCII (UTF-8 validation), the stops of the JSON readers, WebSocket unmasking. */
#include "simd_internal.h"

#if SIO__HAVE_X86
#include <emmintrin.h>
#include <string.h>

#include "sio/utf8.h"

size_t sio__ascii_run_sse2(const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; n - i >= 16; i += 16) {
        unsigned high = (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(p + i)));
        if (high)
            return i + (size_t)__builtin_ctz(high);
    }
    return sio__ascii_run_tail(p, n, i);
}

/* ---------------------------------------------------------------- JSON
 * No block validator here: without a byte shuffle, classifying a block takes a dozen
 * comparisons per 16 bytes and UTF-8 has to be checked byte by byte, and the whole measured no
 * faster than the scalar scan (json_validate.c). Only the readers' scanning is vectorised. */

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

bool sio__ws_mask_sse2(uint8_t *p, size_t len, uint32_t key4)
{
    const __m128i key = _mm_set1_epi32((int)key4);
    __m128i high = _mm_setzero_si128();
    size_t i = 0;
    for (; len - i >= 16; i += 16) {
        __m128i v = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(p + i)), key);
        high = _mm_or_si128(high, v);
        _mm_storeu_si128((__m128i *)(p + i), v);
    }
    bool ascii = sio__ws_mask_tail(p, i, len, key4);
    return ascii && _mm_movemask_epi8(high) == 0;
}

#endif
