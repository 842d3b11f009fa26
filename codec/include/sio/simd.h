/* Which code path the byte scanners take: portable C, or SIMD instructions.
 *
 * The scanners that read every byte have a portable scalar path, always built and always
 * tested, and vector paths where the compiler and the CPU offer them (x86-64 with GCC or Clang;
 * AVX2 is detected at run time, SSE2 is part of x86-64):
 *
 *   scanner                                  SSE2                     AVX2
 *   UTF-8 validation (sio_utf8_*)            runs of ASCII, 16 bytes  whole validation, 32 bytes
 *   JSON validation (sio_json_validate)      scalar                   64-byte blocks, texts of
 *                                                                     64 bytes and more
 *   JSON readers (iteration, lookups)        string/bracket search    string/bracket search
 *   WebSocket unmasking (sio_ws_mask)        16 bytes                 32 bytes
 *   base64 encoding (sio_base64_encode)      scalar                   24 bytes a step, from 28
 *   base64 decoding (sio_base64_decode)      scalar                   scalar
 *
 * SIO_SIMD_NEON is reserved for arm64, which builds the scalar path today. Every path gives the
 * same results and the same error offsets: a vector path that meets anything unusual (an error,
 * a rare escape) hands the input to the scalar path, which reports it.
 *
 * The chosen path is the codec's only process-wide setting: it starts as the best one this CPU
 * supports, and changes only when sio_simd_select is called (tests and benchmarks call it to run
 * every path). Reading it is thread-safe; select it before other threads use the codec.
 */
#ifndef SIO_SIMD_H
#define SIO_SIMD_H

#include "sio/common.h"

typedef enum sio_simd_path {
    SIO_SIMD_SCALAR = 0, /* portable C, one byte or one machine word at a time */
    SIO_SIMD_SSE2 = 1,   /* x86-64: 16-byte vectors (every x86-64 CPU has SSE2) */
    SIO_SIMD_AVX2 = 2,   /* x86-64: 32-byte vectors and byte shuffles, when the CPU has AVX2 */
    SIO_SIMD_NEON = 3    /* arm64 (reserved: not built yet) */
} sio_simd_path;

#define SIO_SIMD_PATHS 4

/* True when `path` is compiled into this library and the CPU runs it. */
SIO_API bool sio_simd_available(sio_simd_path path);

/* The fastest available path: what the codec uses until sio_simd_select is called. */
SIO_API sio_simd_path sio_simd_best(void);

/* Makes every scanner take `path` from now on. SIO_ERR_INVALID_ARGUMENT (and no change) when
 * the path is not available. */
SIO_API sio_err sio_simd_select(sio_simd_path path);

/* The path in use. */
SIO_API sio_simd_path sio_simd_selected(void);

/* "scalar", "sse2", "avx2", "neon"; NULL for a value outside the enum. */
SIO_API const char *sio_simd_path_name(sio_simd_path path);

#endif
