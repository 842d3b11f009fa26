/* The AVX2 path of base64 (sio_base64_encode and sio_base64_decode, base64.c): 24 bytes become
 * 32 characters per step and back, with byte shuffles and 16-bit multiplies instead of one table
 * look-up per character (the method of Muła and Lemire, "Faster Base64 Encoding and Decoding
 * Using AVX2 Instructions", 2018). The functions carry the avx2 target attribute, so this file
 * builds with the default flags; base64.c calls them only when the AVX2 path is selected. The
 * decoder takes only blocks of 32 characters of the standard alphabet; a block holding anything
 * else ('=', a character to skip or to refuse) is left to the scalar code, which reads it as it
 * would have without the vector path. */
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

/* ---------------------------------------------------------------- decoding */

/* Bits of the character classes, by low nibble and by high nibble: a byte is in the standard
 * alphabet exactly when the two entries share no bit. Bit 0x10 is in every low-nibble entry and
 * in the high-nibble entries 0, 1 and 8..F (no alphabet character there); the four other bits
 * each stand for one row of the table of bytes and mark the low nibbles that row lacks:
 * 0x01 row 2 (only 2B '+' and 2F '/'), 0x02 row 3 (only 30..39), 0x04 rows 4 and 6 (not 40 or
 * 60), 0x08 rows 5 and 7 (only 50..5A and 70..7A). */
static const uint8_t b64_by_low[16] = {0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                       0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A};
static const uint8_t b64_by_high[16] = {0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
                                        0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10};
/* What to add to a character to get its value, by high nibble: '+' 2B -> 62, digits 30.. -> 52..,
 * A.. 41 -> 0.., a.. 61 -> 26..; '/' 2F -> 63 takes row 1 (its nibble minus one). */
static const int8_t b64_add_by_high[16] = {0, 16, 19, 4, -65, -65, -71, -71,
                                           0, 0,  0,  0, 0,   0,   0,   0};

/* True when the 32 characters are all of the standard alphabet; then *values holds their 6-bit
 * values, one per byte. */
SIO__TARGET_AVX2 static inline bool alphabet_values(__m256i chars, __m256i *values)
{
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    const __m256i by_low =
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)b64_by_low));
    const __m256i by_high =
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)b64_by_high));
    const __m256i add_by_high =
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)b64_add_by_high));
    __m256i high = _mm256_and_si256(_mm256_srli_epi16(chars, 4), nibble);
    __m256i low = _mm256_and_si256(chars, nibble);
    if (!_mm256_testz_si256(_mm256_shuffle_epi8(by_low, low), _mm256_shuffle_epi8(by_high, high)))
        return false;
    __m256i slash = _mm256_cmpeq_epi8(chars, _mm256_set1_epi8('/')); /* -1 there, else 0 */
    *values =
        _mm256_add_epi8(chars, _mm256_shuffle_epi8(add_by_high, _mm256_add_epi8(high, slash)));
    return true;
}

/* Four 6-bit values a b c d per 32-bit lane -> the group's three bytes, first byte first, the
 * lanes' 24 bytes packed at the start of the vector. Multiply-adds join the values in pairs
 * (a * 64 + b) and the pairs into a 24-bit group (ab * 4096 + cd), whose bytes a shuffle puts in
 * wire order and a lane permute packs together. */
SIO__TARGET_AVX2 static inline __m256i group_bytes(__m256i values)
{
    __m256i pairs = _mm256_maddubs_epi16(values, _mm256_set1_epi32(0x01400140));
    __m256i groups = _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x00011000));
    const __m256i order =
        _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, /**/
                         2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
    __m256i bytes = _mm256_shuffle_epi8(groups, order);
    return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7));
}

SIO__TARGET_AVX2 size_t sio__base64_plain_blocks_avx2(const uint8_t *in, size_t n)
{
    size_t i = 0;
    __m256i values;
    while (n - i >= 32 && alphabet_values(_mm256_loadu_si256((const __m256i *)(in + i)), &values))
        i += 32;
    return i;
}

SIO__TARGET_AVX2 size_t sio__base64_decode_blocks_avx2(const uint8_t *in, size_t n, uint8_t *out,
                                                       size_t room)
{
    size_t i = 0, o = 0;
    __m256i values;
    while (n - i >= 32 && room - o >= 24 &&
           alphabet_values(_mm256_loadu_si256((const __m256i *)(in + i)), &values)) {
        __m256i bytes = group_bytes(values);
        _mm_storeu_si128((__m128i *)(out + o), _mm256_castsi256_si128(bytes));
        _mm_storel_epi64((__m128i *)(out + o + 16), _mm256_extracti128_si256(bytes, 1));
        i += 32;
        o += 24;
    }
    return i;
}

#endif
