/* The vector paths of the byte scanners: what is compiled in, which path is selected, and the
 * per-path functions. Public selection API: sio/simd.h.
 *
 * x86-64 with GCC or Clang builds the SSE2 and AVX2 variants; AVX2 functions carry a target
 * attribute, so the library builds with the default flags and runs on any x86-64 CPU (AVX2 is
 * used only when the CPU reports it). -DSIO_NO_SIMD builds the scalar path alone.
 *
 * Each vector function does the common case fast and leaves the rest to the scalar code: it
 * returns how far it got (a prefix known to be valid, an index where a stop byte is) or whether
 * it could accept the input, and the caller's scalar code takes over from there, so results and
 * error offsets are the scalar path's by construction. */
#ifndef SIO_SIMD_INTERNAL_H
#define SIO_SIMD_INTERNAL_H

#include <stdatomic.h>
#include <string.h>

#include "sio/simd.h"

#if !defined(SIO_NO_SIMD) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SIO__HAVE_X86    1
#define SIO__TARGET_AVX2 __attribute__((target("avx2,bmi,bmi2,pclmul")))
#endif

/* The selected path, or -1 before the first call has detected the best one. */
extern atomic_int sio__simd_current;

sio_simd_path sio__simd_detect(void);

static inline sio_simd_path sio__simd_path(void)
{
    int v = atomic_load_explicit(&sio__simd_current, memory_order_relaxed);
    return v >= 0 ? (sio_simd_path)v : sio__simd_detect();
}

/* ---- WebSocket masking (sio/ws.h), every path: p[*i..len) eight bytes a step while eight are
 * left, XOR-ed with key8 (the key repeated, rotated to p[*i]); returns the OR of the bytes
 * written, and leaves *i at the first byte not done. */
static inline uint64_t sio__ws_mask_words(uint8_t *p, size_t *i, size_t len, uint64_t key8)
{
    uint64_t high = 0;
    for (; len - *i >= 8; *i += 8) {
        uint64_t w;
        memcpy(&w, p + *i, 8);
        w ^= key8;
        high |= w;
        memcpy(p + *i, &w, 8);
    }
    return high;
}

#if SIO__HAVE_X86
/* ---- UTF-8 (sio/utf8.h) */
/* The ASCII run from p[i] on, after a vector loop: eight bytes per step, then one at a time
 * (short texts, where the vector loop never runs, cost what the scalar path's words cost). */
static inline size_t sio__ascii_run_tail(const uint8_t *p, size_t n, size_t i)
{
    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & UINT64_C(0x8080808080808080))
            return i + (size_t)__builtin_ctzll(w & UINT64_C(0x8080808080808080)) / 8;
    }
    while (i < n && p[i] < 0x80)
        i++;
    return i;
}

/* Length of the leading run of ASCII bytes (exact). */
size_t sio__ascii_run_sse2(const uint8_t *p, size_t n);
size_t sio__ascii_run_avx2(const uint8_t *p, size_t n);
/* A prefix of p[0..n) that is valid UTF-8 and ends where a character starts (the start of the
 * first 32-byte block holding an error, or of a sequence the end cuts). */
size_t sio__utf8_valid_prefix_avx2(const uint8_t *p, size_t n);

/* ---- Byte constants of the AVX2 path, each in all 32 lanes (simd.c). They are defined apart
 * from their users on purpose: a vector constant whose value the compiler sees is rebuilt with
 * a broadcast from a general register (three instructions) wherever it is not kept in a vector
 * register, which the JSON blocks have too few of; one it knows only as read-only memory is
 * read from there as an operand. */
enum {
    SIO__K_NIBBLE,      /* 0x0F */
    SIO__K_QUOTE,       /* '"' */
    SIO__K_BACKSLASH,   /* '\\' */
    SIO__K_ZERO,        /* '0' */
    SIO__K_CTRL_MAX,    /* 0x1F */
    SIO__K_F,           /* 'f' */
    SIO__K_E,           /* 'e' */
    SIO__K_THIRD_BIAS,  /* 0x60: 0xE0 - 0x80 */
    SIO__K_FOURTH_BIAS, /* 0x70: 0xF0 - 0x80 */
    SIO__K_TOP_BIT,     /* 0x80 */
    SIO__K_BYTES
};
extern const uint8_t sio__avx2_bytes[SIO__K_BYTES][32];

/* ---- JSON (sio/json.h) */
/* Texts shorter than this are validated by the scalar scan: one 64-byte block of the vector
 * paths costs about as much as the scalar scan of this many bytes (measured on AVX2). */
#define SIO__JSON_BLOCKS_MIN 64
/* True when p[0..n) is valid JSON nested at most max_depth deep; false means "not sure": the
 * scalar validator decides and reports. (AVX2 only: see scan_sse2.c.) */
bool sio__json_accept_avx2(const uint8_t *p, size_t n, uint32_t max_depth);
/* Index of the first byte at or after i that is '"' or '\\' (n when none); with `brackets`,
 * also [ ] { }. */
size_t sio__json_find_stop_sse2(const uint8_t *p, size_t n, size_t i, bool brackets);
size_t sio__json_find_stop_avx2(const uint8_t *p, size_t n, size_t i, bool brackets);

/* The stops of a short text p[0..n) (n <= 512) as bit masks, bit i of word i / 64 for byte i,
 * (n + 63) / 64 words each, bits from n on clear: '"' and '\\' in `in_string`, those and
 * [ ] { } in `between` (the placeholder walk, pkt_payload.c). */
void sio__json_stop_masks_avx2(const uint8_t *p, size_t n, uint64_t *in_string, uint64_t *between);

/* The bytes from `i` on, one at a time (a vector loop's tail). */
static inline size_t sio__json_find_stop_tail(const uint8_t *p, size_t n, size_t i, bool brackets)
{
    for (; i < n; i++) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\' || (brackets && ((c | 0x20) == '{' || (c | 0x20) == '}')))
            return i;
    }
    return n;
}

/* ---- WebSocket masking (sio/ws.h): key4 is the key rotated to the first byte's offset. Each
 * function returns true when every unmasked byte is ASCII, which the frame parser reads to skip
 * the UTF-8 check of a text piece (an ASCII run leaves the validator's state as it was). */
/* The bytes from `i` on (a vector loop's tail; i is a multiple of 4): a word of 8, one of 4,
 * then the last three at most one at a time. */
static inline bool sio__ws_mask_tail(uint8_t *p, size_t i, size_t len, uint32_t key4)
{
    uint64_t high = sio__ws_mask_words(p, &i, len, (uint64_t)key4 << 32 | key4);
    if (len - i >= 4) {
        uint32_t w;
        memcpy(&w, p + i, 4);
        w ^= key4;
        high |= w;
        memcpy(p + i, &w, 4);
        i += 4;
    }
    for (; i < len; i++) {
        p[i] ^= (uint8_t)(key4 >> (8 * (i & 3))); /* little-endian: byte k of the key */
        high |= p[i];
    }
    return (high & UINT64_C(0x8080808080808080)) == 0;
}

bool sio__ws_mask_sse2(uint8_t *p, size_t len, uint32_t key4);
bool sio__ws_mask_avx2(uint8_t *p, size_t len, uint32_t key4);

/* ---- base64 (sio/base64.h) */
/* Encodes leading chunks of 24 bytes into out, 32 characters each, while at least 28 bytes are
 * left (it reads 4 past each chunk); returns the bytes consumed (a multiple of 24).
 * base64_avx2.c. */
size_t sio__base64_encode_groups_avx2(const uint8_t *in, size_t n, uint8_t *out);
/* Leading blocks of 32 characters of the standard alphabet ('=' is not), decoded into 24 bytes
 * each while at least 32 characters are left and `room` holds 24 more bytes; returns the
 * characters consumed (a multiple of 32). The block it stops at is the scalar code's. */
size_t sio__base64_decode_blocks_avx2(const uint8_t *in, size_t n, uint8_t *out, size_t room);
/* The same blocks, only counted: the characters they hold (a multiple of 32). */
size_t sio__base64_plain_blocks_avx2(const uint8_t *in, size_t n);
#endif

/* sio_ws_mask, also telling whether every byte it leaves is ASCII (ws_frame.c). */
bool sio__ws_mask_ascii(uint8_t *p, size_t len, const uint8_t key[4], uint64_t offset);

#endif
