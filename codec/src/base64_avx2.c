/* The AVX2 path of the base64 encoder (sio_base64_encode, base64.c): 24 input bytes become 32
 * characters per step, with byte shuffles and 16-bit multiplies instead of one table look-up
 * per character (the method of Muła and Lemire, "Faster Base64 Encoding and Decoding Using AVX2
 * Instructions", 2018). The function carries the avx2 target attribute, so this file builds
 * with the default flags; base64.c calls it only when the AVX2 path is selected. */
#include "simd_internal.h"

#if SIO__HAVE_X86
#include <immintrin.h>

/* Each 32-bit lane holds one group's three bytes b0 b1 b2 as the bytes b1 b0 b2 b1, so that its
 * low 16 bits read b0:b1 and its high 16 bits b1:b2, most significant byte first. */
SIO__TARGET_AVX2 static inline __m256i groups_in_lanes(const uint8_t *in)
{
    const __m256i order = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10, /**/
                                           1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
    /* bytes 0..11 in the low 128-bit half, 12..23 in the high one (each loads 16, uses 12) */
    __m128i lo = _mm_loadu_si128((const __m128i *)in);
    __m128i hi = _mm_loadu_si128((const __m128i *)(in + 12));
    __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
    return _mm256_shuffle_epi8(both, order);
}

/* The four 6-bit values of each lane's group, one per byte, first value in the lowest byte.
 * In b0:b1 the first value is bits 10..15 and the second 4..9; in b1:b2 the third is bits 6..11
 * and the fourth 0..5. A high multiply moves the first and third down to bit 0 of their 16-bit
 * halves (times 2^6 and 2^10, keeping the high 16 bits); a low multiply moves the second and
 * fourth up to bit 8 (times 2^4 and 2^8). */
SIO__TARGET_AVX2 static inline __m256i six_bit_values(__m256i lanes)
{
    __m256i first_third = _mm256_and_si256(lanes, _mm256_set1_epi32(0x0FC0FC00));
    first_third = _mm256_mulhi_epu16(first_third, _mm256_set1_epi32(0x04000040));
    __m256i second_fourth = _mm256_and_si256(lanes, _mm256_set1_epi32(0x003F03F0));
    second_fourth = _mm256_mullo_epi16(second_fourth, _mm256_set1_epi32(0x01000010));
    return _mm256_or_si256(first_third, second_fourth);
}

/* The alphabet's character of each value: the value plus an offset that depends only on its
 * range (A-Z, a-z, 0-9, '+', '/'). The range becomes a table index by one saturating
 * subtraction (0 for 0..51, 1..12 for 52..63) with 13 put in for 0..25. */
SIO__TARGET_AVX2 static inline __m256i to_alphabet(__m256i values)
{
    enum { UPPER = 'A', LOWER = 'a' - 26, DIGIT = '0' - 52, PLUS = '+' - 62, SLASH = '/' - 63 };
    const __m256i offset_of =
        _mm256_setr_epi8(LOWER, DIGIT, DIGIT, DIGIT, DIGIT, DIGIT, DIGIT, DIGIT, DIGIT, DIGIT,
                         DIGIT, PLUS, SLASH, UPPER, 0, 0, LOWER, DIGIT, DIGIT, DIGIT, DIGIT, DIGIT,
                         DIGIT, DIGIT, DIGIT, DIGIT, DIGIT, PLUS, SLASH, UPPER, 0, 0);
    __m256i index = _mm256_subs_epu8(values, _mm256_set1_epi8(51));
    __m256i upper = _mm256_cmpgt_epi8(_mm256_set1_epi8(26), values);
    index = _mm256_or_si256(index, _mm256_and_si256(upper, _mm256_set1_epi8(13)));
    return _mm256_add_epi8(values, _mm256_shuffle_epi8(offset_of, index));
}

SIO__TARGET_AVX2 size_t sio__base64_encode_groups_avx2(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    for (; n - i >= 28; i += 24, o += 32) { /* 28: the second load reads 4 bytes past the 24 */
        __m256i chars = to_alphabet(six_bit_values(groups_in_lanes(in + i)));
        _mm256_storeu_si256((__m256i *)(out + o), chars);
    }
    return i;
}

#endif
