/* Path selection for the byte scanners (sio/simd.h). */
#include "simd_internal.h"

atomic_int sio__simd_current = -1;

#if SIO__HAVE_X86
#define REP8(c) c, c, c, c, c, c, c, c
#define REP32(c)                                                                                   \
    {                                                                                              \
        REP8(c), REP8(c), REP8(c), REP8(c)                                                         \
    }
const uint8_t sio__avx2_bytes[SIO__K_BYTES][32]
    __attribute__((aligned(32))) = {[SIO__K_NIBBLE] = REP32(0x0F),
                                    [SIO__K_QUOTE] = REP32('"'),
                                    [SIO__K_BACKSLASH] = REP32('\\'),
                                    [SIO__K_ZERO] = REP32('0'),
                                    [SIO__K_CTRL_MAX] = REP32(0x1F),
                                    [SIO__K_F] = REP32('f'),
                                    [SIO__K_E] = REP32('e'),
                                    [SIO__K_THIRD_BIAS] = REP32(0x60),
                                    [SIO__K_FOURTH_BIAS] = REP32(0x70),
                                    [SIO__K_TOP_BIT] = REP32(0x80)};
#endif

static bool cpu_has(sio_simd_path path)
{
    switch (path) {
    case SIO_SIMD_SCALAR:
        return true;
#if SIO__HAVE_X86
    case SIO_SIMD_SSE2:
        return true; /* part of x86-64 itself */
    case SIO_SIMD_AVX2:
        /* The builtin also checks that the operating system saves the 32-byte registers. The
         * AVX2 path uses the bit-manipulation instructions and the carry-less multiply too,
         * which the CPUs with AVX2 have. */
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("bmi") != 0 &&
               __builtin_cpu_supports("bmi2") != 0 && __builtin_cpu_supports("pclmul") != 0;
#endif
    default:
        return false;
    }
}

bool sio_simd_available(sio_simd_path path)
{
    return (unsigned)path < SIO_SIMD_PATHS && cpu_has(path);
}

sio_simd_path sio_simd_best(void)
{
    static const sio_simd_path fastest_first[] = {SIO_SIMD_AVX2, SIO_SIMD_NEON, SIO_SIMD_SSE2};
    for (size_t i = 0; i < sizeof fastest_first / sizeof fastest_first[0]; i++)
        if (cpu_has(fastest_first[i]))
            return fastest_first[i];
    return SIO_SIMD_SCALAR;
}

sio_simd_path sio__simd_detect(void)
{
    int best = (int)sio_simd_best();
    int unset = -1;
    /* Two threads detecting at once agree; a selection made meanwhile wins. */
    atomic_compare_exchange_strong(&sio__simd_current, &unset, best);
    return (sio_simd_path)atomic_load(&sio__simd_current);
}

sio_err sio_simd_select(sio_simd_path path)
{
    if (!sio_simd_available(path))
        return SIO_ERR_INVALID_ARGUMENT;
    atomic_store(&sio__simd_current, (int)path);
    return SIO_OK;
}

sio_simd_path sio_simd_selected(void)
{
    return sio__simd_path();
}

const char *sio_simd_path_name(sio_simd_path path)
{
    switch (path) {
    case SIO_SIMD_SCALAR:
        return "scalar";
    case SIO_SIMD_SSE2:
        return "sse2";
    case SIO_SIMD_AVX2:
        return "avx2";
    case SIO_SIMD_NEON:
        return "neon";
    }
    return NULL;
}
