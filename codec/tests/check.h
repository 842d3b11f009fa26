/* A minimal unit-test harness: CHECK* record failures and go on; main() ends with
 * CHECK_DONE(), which prints "<program>: N passed, N failed" and returns non-zero on failure. */
#ifndef SIO_TEST_CHECK_H
#define SIO_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(actual, expected)                                                             \
    do {                                                                                           \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                            \
        if (a_ == e_) {                                                                            \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: %s: expected %lld, got %lld\n", __FILE__, __LINE__, #actual,   \
                    e_, a_);                                                                       \
        }                                                                                          \
    } while (0)

/* Compares an error code by name so failures read "expected SIO_ERR_X, got SIO_ERR_Y". */
#define CHECK_ERR(actual, expected)                                                                \
    do {                                                                                           \
        int a_ = (int)(actual), e_ = (int)(expected);                                              \
        if (a_ == e_) {                                                                            \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: %s: expected %s, got %s\n", __FILE__, __LINE__, #actual,       \
                    sio_err_name(e_), sio_err_name(a_));                                           \
        }                                                                                          \
    } while (0)

#define CHECK_MEM(ptr, len, expected_ptr, expected_len)                                            \
    do {                                                                                           \
        size_t l_ = (size_t)(len), el_ = (size_t)(expected_len);                                   \
        if (l_ == el_ && (l_ == 0 || memcmp((ptr), (expected_ptr), l_) == 0)) {                    \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: bytes differ: %s (%zu bytes, %zu expected)\n", __FILE__,       \
                    __LINE__, #ptr, l_, el_);                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_STR(ptr, len, cstr) CHECK_MEM(ptr, len, cstr, strlen(cstr))

/* The codec's test programs (built with -DCHECK_SIMD_PATHS, linked with libsiocodec) run on
 * the codec path named by SIO_TEST_SIMD (scalar, sse2, avx2, neon; scripts/run-unit-tests.sh
 * runs each program once per path, but test_simd once, as it compares the paths itself). A path this build or CPU lacks ends the program with
 * status 77, which the runner reports as "not available", never as a pass. Other users of this
 * header (the server's loop tests) do not link the codec and leave this out. */
#ifdef CHECK_SIMD_PATHS
#include "sio/simd.h"

#define CHECK_PATH_UNAVAILABLE 77

__attribute__((constructor)) static void check_select_simd_path(void)
{
    const char *want = getenv("SIO_TEST_SIMD");
    if (want == NULL || *want == '\0')
        return;
    for (int k = 0; k < SIO_SIMD_PATHS; k++) {
        const char *name = sio_simd_path_name((sio_simd_path)k);
        if (name && strcmp(name, want) == 0) {
            if (sio_simd_select((sio_simd_path)k) == SIO_OK)
                return;
            printf("SIO_TEST_SIMD=%s: path not available in this build or CPU\n", want);
            exit(CHECK_PATH_UNAVAILABLE);
        }
    }
    fprintf(stderr, "SIO_TEST_SIMD=%s: unknown path\n", want);
    exit(2);
}
#endif

#define CHECK_DONE()                                                                               \
    do {                                                                                           \
        printf("%s: %d passed, %d failed\n", __FILE__, check_passed, check_failed);                \
        return check_failed ? 1 : (check_passed ? 0 : 2);                                          \
    } while (0)

#endif
