/* The encoders' copy of a payload into the caller's buffer (not part of the public API).
 *
 * An encoder writes a short header and then the payload, so the payload's destination is often
 * a few bytes past where its source sits modulo 4 KiB (both buffers page-aligned, the header in
 * between). For long copies glibc's memcpy uses `rep movsb`, and on the AMD EPYC the benchmarks
 * run on that instruction then moves about 1.2 GB/s instead of 15-20 GB/s: each store looks like
 * it may feed the loads just behind it (the 4 KiB aliasing of the store-to-load check). A long
 * copy at such a distance is therefore done in 256-byte slices, which glibc copies with vector
 * moves; every other copy is a plain memcpy. */
#ifndef SIO_COPY_INTERNAL_H
#define SIO_COPY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* From this length on glibc may choose `rep movsb` (its threshold is 2 KiB or more). */
#define SIO__COPY_SLICED_MIN 2048
/* Destinations this many bytes past the source (modulo 4 KiB) or closer, but not 0, are sliced. */
#define SIO__COPY_NEAR_ALIAS 63
#define SIO__COPY_SLICE      256

/* True when a copy of n bytes from src to dst goes in slices (see above). */
static inline bool sio__copy_sliced(const void *dst, const void *src, size_t n)
{
    uintptr_t ahead = ((uintptr_t)dst - (uintptr_t)src) & 4095u;
    return n >= SIO__COPY_SLICED_MIN && ahead != 0 && ahead <= SIO__COPY_NEAR_ALIAS;
}

/* The sliced copy (copy.c); out of line, as it is the rare case. */
void sio__copy_slices(uint8_t *dst, const uint8_t *src, size_t n);

/* memcpy(dst, src, n) for buffers that do not overlap. */
static inline void sio__copy(void *dst, const void *src, size_t n)
{
    if (sio__copy_sliced(dst, src, n))
        sio__copy_slices((uint8_t *)dst, (const uint8_t *)src, n);
    else if (n)
        memcpy(dst, src, n);
}

#endif
