/* The AVX2 path of the byte scanners: 32 bytes per instruction, byte shuffles as 16-entry
 * look-up tables. Every function here carries the avx2 target attribute, so this file builds
 * with the default flags; simd.c calls into it only when the CPU has AVX2. */
#include "simd_internal.h"

#if SIO__HAVE_X86
#include <immintrin.h>
#include <string.h>

#define AVX2 SIO__TARGET_AVX2 __attribute__((always_inline)) static inline

#define JSON_TARGET SIO__TARGET_AVX2
#include "json_blocks.h"

/* ---------------------------------------------------------------- UTF-8
 * Validation by look-up (after Keiser and Lemire, "Validating UTF-8 in less than one instruction
 * per byte", 2021): every error of RFC 3629 shows in the pair (previous byte, this byte), except
 * a missing or surplus third or fourth byte, which shows from the bytes two and three back.
 * Three tables, indexed by the previous byte's high nibble, its low nibble and this byte's high
 * nibble, each give the error kinds that nibble allows; an error is a kind all three allow. */

enum {
    U8_TOO_SHORT = 1 << 0,  /* lead byte, then no continuation */
    U8_TOO_LONG = 1 << 1,   /* ASCII, then a continuation */
    U8_OVERLONG_3 = 1 << 2, /* E0 80..9F */
    U8_TOO_LARGE = 1 << 3,  /* F4 90..BF, F5..FF 90..BF */
    U8_SURROGATE = 1 << 4,  /* ED A0..BF */
    U8_OVERLONG_2 = 1 << 5, /* C0 or C1, then a continuation */
    U8_OVERLONG_4 = 1 << 6, /* F0 80..8F; also F5..FF 80..8F */
    U8_TWO_CONTS = 1 << 7,  /* continuation, continuation: fine only as a 3rd or 4th byte */
    U8_ANY_LOW = U8_TOO_SHORT | U8_TOO_LONG | U8_TWO_CONTS
};

/* A 16-entry table in both 128-bit lanes, as the byte shuffle indexes each lane. The tables are
 * stored twice over (LANES2) and read with one load: broadcast from 16 bytes, each took a load
 * and an insert wherever the table was not still in a register (in the JSON blocks, 2.5% of
 * their instructions). */
#define LANES2(...)                                                                                \
    {                                                                                              \
        __VA_ARGS__, __VA_ARGS__                                                                   \
    }
AVX2 __m256i table16(const uint8_t t[32])
{
    return _mm256_loadu_si256((const __m256i *)t);
}

/* One of the byte constants of simd_internal.h. */
AVX2 __m256i byte32(int k)
{
    return _mm256_load_si256((const __m256i *)sio__avx2_bytes[k]);
}

static const uint8_t u8_by_prev_high[32] =
    LANES2(U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG,
           U8_TOO_LONG, U8_TOO_LONG, U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS,
           U8_TOO_SHORT | U8_OVERLONG_2, U8_TOO_SHORT, U8_TOO_SHORT | U8_OVERLONG_3 | U8_SURROGATE,
           U8_TOO_SHORT | U8_TOO_LARGE | U8_OVERLONG_4);

#define U8_F5_UP (U8_ANY_LOW | U8_TOO_LARGE | U8_OVERLONG_4)
static const uint8_t u8_by_prev_low[32] =
    LANES2(U8_ANY_LOW | U8_OVERLONG_3 | U8_OVERLONG_2 | U8_OVERLONG_4, /* C0 E0 F0 */
           U8_ANY_LOW | U8_OVERLONG_2,                                 /* C1 */
           U8_ANY_LOW, U8_ANY_LOW, U8_ANY_LOW | U8_TOO_LARGE,          /* F4 */
           U8_F5_UP, U8_F5_UP, U8_F5_UP, U8_F5_UP, U8_F5_UP, U8_F5_UP, U8_F5_UP, U8_F5_UP,
           U8_F5_UP | U8_SURROGATE, /* ED */
           U8_F5_UP, U8_F5_UP);

static const uint8_t u8_by_cur_high[32] =
    LANES2(U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
           U8_TOO_SHORT, U8_TOO_SHORT,
           U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 | U8_OVERLONG_4, /* 80..8F */
           U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 | U8_TOO_LARGE,  /* 90..9F */
           U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | U8_TOO_LARGE,   /* A0..AF */
           U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | U8_TOO_LARGE,   /* B0..BF */
           U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT);

AVX2 __m256i u8_prev1(__m256i cur, __m256i prev)
{
    return _mm256_alignr_epi8(cur, _mm256_permute2x128_si256(prev, cur, 0x21), 15);
}

AVX2 __m256i u8_prev2(__m256i cur, __m256i prev)
{
    return _mm256_alignr_epi8(cur, _mm256_permute2x128_si256(prev, cur, 0x21), 14);
}

AVX2 __m256i u8_prev3(__m256i cur, __m256i prev)
{
    return _mm256_alignr_epi8(cur, _mm256_permute2x128_si256(prev, cur, 0x21), 13);
}

/* Non-zero bytes where `cur` (preceded by `prev`) breaks UTF-8. */
AVX2 __m256i u8_errors(__m256i cur, __m256i prev)
{
    const __m256i nibble = byte32(SIO__K_NIBBLE);
    const __m256i by_prev_high = table16(u8_by_prev_high);
    const __m256i by_prev_low = table16(u8_by_prev_low);
    const __m256i by_cur_high = table16(u8_by_cur_high);
    __m256i p1 = u8_prev1(cur, prev);
    __m256i kinds = _mm256_and_si256(
        _mm256_and_si256(
            _mm256_shuffle_epi8(by_prev_high, _mm256_and_si256(_mm256_srli_epi16(p1, 4), nibble)),
            _mm256_shuffle_epi8(by_prev_low, _mm256_and_si256(p1, nibble))),
        _mm256_shuffle_epi8(by_cur_high, _mm256_and_si256(_mm256_srli_epi16(cur, 4), nibble)));
    /* A third byte (two after E0..FF) or fourth (three after F0..FF) must be a continuation
     * after a continuation: exactly the pairs flagged U8_TWO_CONTS, so XOR cancels them. Less
     * 0x60 (0x70) with saturation, a byte keeps its top bit exactly when it is E0..FF (F0..FF). */
    __m256i third = _mm256_subs_epu8(u8_prev2(cur, prev), byte32(SIO__K_THIRD_BIAS));
    __m256i fourth = _mm256_subs_epu8(u8_prev3(cur, prev), byte32(SIO__K_FOURTH_BIAS));
    __m256i must_continue =
        _mm256_and_si256(_mm256_or_si256(third, fourth), byte32(SIO__K_TOP_BIT));
    return _mm256_xor_si256(kinds, must_continue);
}

/* Non-zero when the block's last bytes start a sequence that needs bytes after the block. */
AVX2 __m256i u8_incomplete(__m256i cur)
{
    const __m256i last_ok = _mm256_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                             -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                             -1, (char)0xEF, (char)0xDF, (char)0xBF);
    return _mm256_subs_epu8(cur, last_ok);
}

AVX2 bool all_zero(__m256i v)
{
    return _mm256_testz_si256(v, v) != 0;
}

/* p[0..128) is ASCII: no byte has its top bit set. */
AVX2 bool ascii128(const uint8_t *p)
{
    __m256i any = _mm256_or_si256(_mm256_or_si256(_mm256_loadu_si256((const __m256i *)p),
                                                  _mm256_loadu_si256((const __m256i *)(p + 32))),
                                  _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(p + 64)),
                                                  _mm256_loadu_si256((const __m256i *)(p + 96))));
    return _mm256_movemask_epi8(any) == 0;
}

SIO__TARGET_AVX2 size_t sio__ascii_run_avx2(const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; n - i >= 32; i += 32) {
        uint32_t high =
            (uint32_t)_mm256_movemask_epi8(_mm256_loadu_si256((const __m256i *)(p + i)));
        if (high)
            return i + (size_t)__builtin_ctz(high);
    }
    return sio__ascii_run_tail(p, n, i);
}

/* The start of the character that p[0..i) cuts (i when it cuts none); p[0..i) is valid but for
 * its last, unfinished sequence. */
static size_t utf8_boundary(const uint8_t *p, size_t i)
{
    for (size_t back = 1; back <= 3 && back <= i; back++) {
        uint8_t b = p[i - back];
        if (b < 0x80)
            return i;
        if (b >= 0xC0) {
            size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
            return len > back ? i - back : i;
        }
    }
    return i;
}

SIO__TARGET_AVX2 size_t sio__utf8_valid_prefix_avx2(const uint8_t *p, size_t n)
{
    __m256i prev = _mm256_setzero_si256(), incomplete = _mm256_setzero_si256();
    size_t i = 0;
    for (; n - i >= 32; i += 32) {
        __m256i cur = _mm256_loadu_si256((const __m256i *)(p + i));
        if (_mm256_movemask_epi8(cur) == 0) {
            if (!all_zero(incomplete))
                break; /* the sequence the last block started has no continuation */
            /* ASCII tends to go on: the next 128 bytes at a time while they are ASCII too
             * (nothing is pending after an ASCII block, and ASCII before a block is as good
             * as this one for the rules that look back). */
            while (n - i >= 32 + 128 && ascii128(p + i + 32))
                i += 128;
        } else {
            if (!all_zero(u8_errors(cur, prev)))
                break;
            incomplete = u8_incomplete(cur);
            prev = cur;
            continue;
        }
        incomplete = _mm256_setzero_si256();
        prev = cur;
    }
    if (i < n && n - i < 32) {
        /* The tail as one more block: the last 32 bytes of the text when it has that many and
         * they reach back at least 3 bytes before the tail (enough for every rule to see the
         * bytes before the tail's first), with the errors before the tail masked off, as they
         * were checked already; else a copy padded with zero bytes: ASCII, so they cannot hide
         * an error, and a sequence the tail leaves unfinished is an error against them. The
         * whole text is then valid, or the byte loop takes over at the boundary as for a bad
         * block. */
        size_t overlap = 32 - (n - i);
        if (n >= 32 && overlap >= 3) {
            __m256i cur = _mm256_loadu_si256((const __m256i *)(p + n - 32));
            const __m256i index =
                _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
                                 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
            __m256i fresh = _mm256_cmpgt_epi8(index, _mm256_set1_epi8((char)(overlap - 1)));
            if (_mm256_movemask_epi8(cur) == 0) {
                if (all_zero(incomplete))
                    return n;
            } else if (all_zero(_mm256_and_si256(u8_errors(cur, _mm256_setzero_si256()), fresh)) &&
                       all_zero(u8_incomplete(cur))) {
                return n;
            }
            return utf8_boundary(p, i);
        }
        uint8_t tail[32] = {0};
        memcpy(tail, p + i, n - i);
        __m256i cur = _mm256_loadu_si256((const __m256i *)tail);
        bool ascii = _mm256_movemask_epi8(cur) == 0;
        if (ascii ? all_zero(incomplete) : all_zero(u8_errors(cur, prev)))
            return n;
    }
    return utf8_boundary(p, i);
}

/* ---------------------------------------------------------------- JSON */

/* Bit masks of the 32 bytes at p (bit k for p[k]): '"' or '\\' in *in_string, those or a
 * bracket in *between. */
AVX2 void stop_bits32(const uint8_t *p, uint32_t *in_string, uint32_t *between)
{
    __m256i v = _mm256_loadu_si256((const __m256i *)p);
    __m256i qb = _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"')),
                                 _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\')));
    /* '[' and '{', ']' and '}' differ only in the bit 0x20 */
    __m256i folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
    __m256i br = _mm256_or_si256(_mm256_cmpeq_epi8(folded, _mm256_set1_epi8('{')),
                                 _mm256_cmpeq_epi8(folded, _mm256_set1_epi8('}')));
    *in_string = (uint32_t)_mm256_movemask_epi8(qb);
    *between = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(qb, br));
}

SIO__TARGET_AVX2 void sio__json_stop_masks_avx2(const uint8_t *p, size_t n, uint64_t *in_string,
                                                uint64_t *between)
{
    for (size_t k = 0; k < (n + 63) / 64; k++)
        in_string[k] = between[k] = 0;
    uint32_t s, b;
    size_t i = 0;
    for (; n - i >= 32; i += 32) {
        stop_bits32(p + i, &s, &b);
        in_string[i / 64] |= (uint64_t)s << (i % 64);
        between[i / 64] |= (uint64_t)b << (i % 64);
    }
    if (i == n)
        return;
    if (n >= 32) { /* the last 32 bytes, shifted down to the bytes from i on */
        stop_bits32(p + n - 32, &s, &b);
        s >>= 32 - (n - i);
        b >>= 32 - (n - i);
    } else { /* a text shorter than a vector, padded with zero bytes, which are no stop */
        uint8_t tail[32] = {0};
        memcpy(tail, p, n);
        stop_bits32(tail, &s, &b);
    }
    in_string[i / 64] |= (uint64_t)s << (i % 64);
    between[i / 64] |= (uint64_t)b << (i % 64);
}

/* Class bits of the bytes the grammar cares about, from two 16-entry tables (by low and by high
 * nibble) whose AND is non-zero only for these bytes; the digits take the top bit, which the
 * byte mask reads directly. */
enum {
    CL_COMMA = 1,       /* 0x2C */
    CL_COLON = 2,       /* 0x3A */
    CL_OPEN_ARRAY = 4,  /* 0x5B */
    CL_OPEN_OBJECT = 8, /* 0x7B */
    CL_CLOSE = 16,      /* 0x5D 0x7D */
    CL_SPACE = 32,      /* 0x20 */
    CL_CONTROL_WS = 64, /* 0x09 0x0A 0x0D */
    CL_DIGIT = 128,     /* 0x30..0x39 */
    CL_WS = CL_SPACE | CL_CONTROL_WS
};

static const uint8_t json_by_low[32] =
    LANES2(CL_SPACE | CL_DIGIT, CL_DIGIT, CL_DIGIT, CL_DIGIT, CL_DIGIT, CL_DIGIT, CL_DIGIT,
           CL_DIGIT, CL_DIGIT, CL_CONTROL_WS | CL_DIGIT, CL_COLON | CL_CONTROL_WS,
           CL_OPEN_ARRAY | CL_OPEN_OBJECT, CL_COMMA, CL_CLOSE | CL_CONTROL_WS, 0, 0);
static const uint8_t json_by_high[32] =
    LANES2(CL_CONTROL_WS, 0, CL_COMMA | CL_SPACE, CL_COLON | CL_DIGIT, 0, CL_OPEN_ARRAY | CL_CLOSE,
           0, CL_OPEN_OBJECT | CL_CLOSE, 0, 0, 0, 0, 0, 0, 0, 0);

/* The bytes that may follow a backslash, by the same two look-ups: one bit per high nibble
 * (2: " /, 5: \, 6: b f n, 7: r t) for the simple escapes, and one for u. */
enum { ESC_2X = 1, ESC_5X = 2, ESC_6X = 4, ESC_7X = 8, ESC_SIMPLE = 15, ESC_U = 16 };
static const uint8_t escape_by_low[32] = LANES2(0, 0, ESC_2X | ESC_6X | ESC_7X, 0, ESC_7X, ESC_U,
                                                ESC_6X, 0, 0, 0, 0, 0, ESC_5X, 0, ESC_6X, ESC_2X);
static const uint8_t escape_by_high[32] =
    LANES2(0, 0, ESC_2X, 0, 0, ESC_5X, ESC_6X, ESC_7X | ESC_U, 0, 0, 0, 0, 0, 0, 0, 0);

AVX2 uint64_t bits64(__m256i lo, __m256i hi)
{
    return (uint64_t)(uint32_t)_mm256_movemask_epi8(lo) |
           (uint64_t)(uint32_t)_mm256_movemask_epi8(hi) << 32;
}

AVX2 __m256i nibble_classes(__m256i v, const uint8_t low[32], const uint8_t high[32])
{
    const __m256i by_low = table16(low);
    const __m256i by_high = table16(high);
    const __m256i nibble = byte32(SIO__K_NIBBLE);
    return _mm256_and_si256(
        _mm256_shuffle_epi8(by_low, _mm256_and_si256(v, nibble)),
        _mm256_shuffle_epi8(by_high, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble)));
}

AVX2 __m256i has_class(__m256i classes, int bits)
{
    return _mm256_cmpgt_epi8(_mm256_and_si256(classes, _mm256_set1_epi8((char)bits)),
                             _mm256_setzero_si256());
}

/* One block for json_blocks.h: its two halves, their classes, and the UTF-8 state. The last
 * block of a text may be the text's last 64 bytes, of which only the last 64 - shift are new:
 * each mask is shifted down by `shift`, and the bytes past the end read as spaces (`pad`). */
struct json_block {
    __m256i lo, hi, cl_lo, cl_hi;
    __m256i prev, incomplete; /* the last block's second half; a sequence it left open */
    unsigned shift;
    uint64_t pad;
};

AVX2 void json_block_classify(json_block *b, const uint8_t *p)
{
    b->lo = _mm256_loadu_si256((const __m256i *)p);
    b->hi = _mm256_loadu_si256((const __m256i *)(p + 32));
    b->cl_lo = nibble_classes(b->lo, json_by_low, json_by_high);
    b->cl_hi = nibble_classes(b->hi, json_by_low, json_by_high);
}

AVX2 void json_block_load(json_block *b, const uint8_t *p)
{
    json_block_classify(b, p);
    b->shift = 0;
    b->pad = 0;
}

AVX2 void json_block_load_last(json_block *b, const uint8_t *end, size_t rest)
{
    json_block_classify(b, end - 64);
    b->shift = (unsigned)(64 - rest);
    b->pad = ~(uint64_t)0 << rest;
}

/* One class bit, moved to the top of each byte (a 16-bit shift: what crosses into the byte
 * above stays below its top bit) and read by the byte mask. */
#define CLASS_BIT(b, bit)                                                                          \
    bits64(_mm256_slli_epi16((b)->cl_lo, 7 - __builtin_ctz(bit)),                                  \
           _mm256_slli_epi16((b)->cl_hi, 7 - __builtin_ctz(bit)))
#define EQ_BITS(b, k)                                                                              \
    bits64(_mm256_cmpeq_epi8((b)->lo, byte32(k)), _mm256_cmpeq_epi8((b)->hi, byte32(k)))

AVX2 uint64_t json_block_bits(const json_block *b, int class)
{
    const __m256i c1f = byte32(SIO__K_CTRL_MAX);
    switch (class) {
    case JSON_QUOTE:
        return EQ_BITS(b, SIO__K_QUOTE);
    case JSON_BACKSLASH:
        return EQ_BITS(b, SIO__K_BACKSLASH);
    case JSON_WS:
        return bits64(has_class(b->cl_lo, CL_WS), has_class(b->cl_hi, CL_WS));
    case JSON_COMMA:
        return CLASS_BIT(b, CL_COMMA);
    case JSON_COLON:
        return CLASS_BIT(b, CL_COLON);
    case JSON_OPEN_OBJECT:
        return CLASS_BIT(b, CL_OPEN_OBJECT);
    case JSON_OPEN_ARRAY:
        return CLASS_BIT(b, CL_OPEN_ARRAY);
    case JSON_CLOSE:
        return CLASS_BIT(b, CL_CLOSE);
    case JSON_DIGIT:
        return bits64(b->cl_lo, b->cl_hi);
    case JSON_ZERO:
        return EQ_BITS(b, SIO__K_ZERO);
    case JSON_CTRL:
        return bits64(_mm256_cmpeq_epi8(_mm256_max_epu8(b->lo, c1f), c1f),
                      _mm256_cmpeq_epi8(_mm256_max_epu8(b->hi, c1f), c1f));
    default: /* JSON_HIGH */
        return bits64(b->lo, b->hi);
    }
}

AVX2 uint64_t json_block_mask(const json_block *b, int class)
{
    return json_block_bits(b, class) >> b->shift | (class == JSON_WS ? b->pad : 0);
}

AVX2 void json_block_escapes(const json_block *b, uint64_t *simple, uint64_t *u)
{
    __m256i cl_lo = nibble_classes(b->lo, escape_by_low, escape_by_high);
    __m256i cl_hi = nibble_classes(b->hi, escape_by_low, escape_by_high);
    *simple = bits64(has_class(cl_lo, ESC_SIMPLE), has_class(cl_hi, ESC_SIMPLE)) >> b->shift;
    *u = bits64(has_class(cl_lo, ESC_U), has_class(cl_hi, ESC_U)) >> b->shift;
}

AVX2 bool json_block_utf8_error(json_block *b, bool high)
{
    bool error;
    if (!high) {
        error = !all_zero(b->incomplete);
        b->incomplete = _mm256_setzero_si256();
    } else if (b->shift == 0) {
        error = !all_zero(_mm256_or_si256(u8_errors(b->lo, b->prev), u8_errors(b->hi, b->lo)));
        b->incomplete = u8_incomplete(b->hi);
    } else {
        /* The text's last 64 bytes: the errors among the new bytes, which all have at least 3
         * bytes before them in the block (every rule sees what it needs); the ones before were
         * checked with the last block. */
        const __m256i index =
            _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                             20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
        const __m256i first = _mm256_set1_epi8((char)(b->shift - 1));
        const __m256i first_hi = _mm256_set1_epi8((char)(b->shift - 33));
        __m256i err_lo = _mm256_and_si256(u8_errors(b->lo, _mm256_setzero_si256()),
                                          _mm256_cmpgt_epi8(index, first));
        __m256i err_hi =
            _mm256_and_si256(u8_errors(b->hi, b->lo), _mm256_cmpgt_epi8(index, first_hi));
        error = !all_zero(_mm256_or_si256(err_lo, err_hi));
        b->incomplete = u8_incomplete(b->hi);
    }
    b->prev = b->hi;
    return error;
}

AVX2 bool json_block_utf8_pending(const json_block *b)
{
    return !all_zero(b->incomplete);
}

/* Literal words, by the first byte's low nibble (t 4, f 6, n E), which selects the bytes that
 * must follow it; the other nibbles select 0x80, which no byte outside a string can be. */
static const uint8_t literal_byte[4][32] = {LANES2(0x80, 0x80, 0x80, 0x80, 't', 0x80, 'f', 0x80,
                                                   0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 'n', 0x80),
                                            LANES2(0x80, 0x80, 0x80, 0x80, 'r', 0x80, 'a', 0x80,
                                                   0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 'u', 0x80),
                                            LANES2(0x80, 0x80, 0x80, 0x80, 'u', 0x80, 'l', 0x80,
                                                   0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 'l', 0x80),
                                            LANES2(0x80, 0x80, 0x80, 0x80, 'e', 0x80, 's', 0x80,
                                                   0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 'l', 0x80)};

/* Where the 32 bytes at q + k are the k-th byte of the literal that the bytes at q start. */
AVX2 __m256i literal_same(const uint8_t *q, __m256i first, int k)
{
    __m256i want = _mm256_shuffle_epi8(table16(literal_byte[k]), first);
    return _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(q + k)), want);
}

/* For the 32 bytes at q: the starts of "true" and "null" (*four) and of "false" (*five), each
 * byte compared with the one its first byte calls for. (Written out: as a loop, gcc -O2 keeps
 * the loop and its counter, 4% of the time of a long text.) */
AVX2 void literal_starts32(const uint8_t *q, uint32_t *four, uint32_t *five)
{
    __m256i v0 = _mm256_loadu_si256((const __m256i *)q);
    __m256i first = _mm256_and_si256(v0, byte32(SIO__K_NIBBLE));
    __m256i same =
        _mm256_and_si256(_mm256_and_si256(literal_same(q, first, 0), literal_same(q, first, 1)),
                         _mm256_and_si256(literal_same(q, first, 2), literal_same(q, first, 3)));
    __m256i is_f = _mm256_cmpeq_epi8(v0, byte32(SIO__K_F));
    __m256i e4 = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(q + 4)), byte32(SIO__K_E));
    *four = (uint32_t)_mm256_movemask_epi8(_mm256_andnot_si256(is_f, same));
    *five = (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(_mm256_and_si256(is_f, e4), same));
}

AVX2 void json_block_literals(const uint8_t *at, uint64_t *four, uint64_t *five)
{
    uint32_t four_lo, five_lo, four_hi, five_hi;
    literal_starts32(at, &four_lo, &five_lo);
    literal_starts32(at + 32, &four_hi, &five_hi);
    *four = (uint64_t)four_hi << 32 | four_lo;
    *five = (uint64_t)five_hi << 32 | five_lo;
}

/* The prefix XOR of the JSON blocks as one carry-less multiply by all ones (every CPU with AVX2
 * has it; simd.c checks both). */
AVX2 uint64_t json_prefix_xor(uint64_t x)
{
    __m128i all_ones = _mm_set1_epi8((char)0xFF);
    return (uint64_t)_mm_cvtsi128_si64(
        _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)x), all_ones, 0));
}

/* The block loop keeps more values live than there are general registers. GCC's generic tuning
 * waits them out on the stack; its tuning for AMD's Zen parks them in vector registers, which
 * takes fewer instructions (the large payloads of bench/: 4% fewer to decode, callgrind). Only
 * the choice of instructions changes: the code is AVX2 all the same and runs on any CPU that
 * has it. */
__attribute__((target("avx2,bmi,bmi2,pclmul,tune=znver3"))) bool sio__json_accept_avx2(
    const uint8_t *p, size_t n, uint32_t max_depth)
{
    json_block b;
    b.prev = b.incomplete = _mm256_setzero_si256();
    return json_accept_blocks(p, n, max_depth, &b);
}

SIO__TARGET_AVX2 size_t sio__json_find_stop_avx2(const uint8_t *p, size_t n, size_t i,
                                                 bool brackets)
{
    const __m256i quote = _mm256_set1_epi8('"'), backslash = _mm256_set1_epi8('\\');
    const __m256i case_bit = _mm256_set1_epi8(0x20);
    const __m256i open = _mm256_set1_epi8('{'), close = _mm256_set1_epi8('}');
    for (; i < n && n - i >= 32; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(p + i));
        __m256i stop =
            _mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, backslash));
        if (brackets) {
            /* [ ] are { } without the 0x20 bit. */
            __m256i folded = _mm256_or_si256(v, case_bit);
            stop = _mm256_or_si256(stop, _mm256_or_si256(_mm256_cmpeq_epi8(folded, open),
                                                         _mm256_cmpeq_epi8(folded, close)));
        }
        uint32_t bits = (uint32_t)_mm256_movemask_epi8(stop);
        if (bits)
            return i + (size_t)__builtin_ctz(bits);
    }
    return sio__json_find_stop_tail(p, n, i, brackets);
}

/* ---------------------------------------------------------------- WebSocket masking */

SIO__TARGET_AVX2 bool sio__ws_mask_avx2(uint8_t *p, size_t len, uint32_t key4)
{
    const __m256i key = _mm256_set1_epi32((int)key4);
    __m256i high = _mm256_setzero_si256();
    size_t i = 0;
    for (; len - i >= 32; i += 32) {
        __m256i v = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(p + i)), key);
        high = _mm256_or_si256(high, v);
        _mm256_storeu_si256((__m256i *)(p + i), v);
    }
    __m128i high16 = _mm_setzero_si128();
    if (len - i >= 16) { /* a frame's payload is often short: half a vector before the words */
        __m128i v =
            _mm_xor_si128(_mm_loadu_si128((const __m128i *)(p + i)), _mm256_castsi256_si128(key));
        high16 = v;
        _mm_storeu_si128((__m128i *)(p + i), v);
        i += 16;
    }
    bool ascii = sio__ws_mask_tail(p, i, len, key4);
    return ascii && _mm256_movemask_epi8(high) == 0 && _mm_movemask_epi8(high16) == 0;
}

#endif
