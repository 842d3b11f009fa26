/* Helpers shared by every fuzz target, in both builds: the libFuzzer build (clang,
 * -fsanitize=fuzzer) and the replay build (any C11 compiler, fuzz/replay/replay_main.c).
 *
 * Oracle failures call fuzz_fail(), which prints the reason and aborts: libFuzzer then saves
 * the input as a crash artifact, and the replay driver dies with a non-zero status. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The entry point every target defines; libFuzzer or the replay driver calls it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A cursor over the fuzz input; reads past the end yield zeros, never fail. */
typedef struct fuzz_input {
    const uint8_t *p;
    size_t n;
} fuzz_input;

uint8_t fuzz_take_u8(fuzz_input *in);

/* Splits a stream into reads whose sizes come from the input itself.
 * Header byte h: (h & 15) size bytes follow; each gives the length of one read (0 allowed),
 * used in turn, cycling. With no size bytes the whole stream is one read. */
typedef struct fuzz_splitter {
    const uint8_t *sizes;
    size_t count, next;
} fuzz_splitter;

/* Reads the header and size bytes from the front of `in`. */
void fuzz_splitter_init(fuzz_splitter *s, fuzz_input *in);
/* Length of the next read when `left` bytes remain; never 0 twice in a full cycle. */
size_t fuzz_splitter_next(fuzz_splitter *s, size_t left);

/* Finds `sep` in [p, p+n); returns its offset or n when absent. */
size_t fuzz_find(const uint8_t *p, size_t n, const uint8_t *sep, size_t seplen);

/* A buffer kept from one input to the next, for outputs the code under test writes. Each
 * fuzz_buffer_get() returns room for exactly n bytes: under AddressSanitizer the bytes past n
 * are poisoned, so an overflow is reported as it would be for malloc(n), without an allocation
 * per input. */
typedef struct fuzz_buffer {
    uint8_t *p;
    size_t cap;
} fuzz_buffer;

uint8_t *fuzz_buffer_get(fuzz_buffer *b, size_t n);

/* Tells the replay driver the target's main parser ran on the payload (`accepted` is its
 * verdict). The seed check uses it to prove each seed reaches the parser it was made for. */
void fuzz_reached(bool accepted);

/* Read by the replay driver after each input; reset before each. */
typedef struct fuzz_report_state {
    bool reached, accepted;
} fuzz_report_state;
extern fuzz_report_state fuzz_report;

/* Prints "oracle failure: <what>" and aborts. */
_Noreturn void fuzz_fail(const char *what);

/* Prints both sides of a failed comparison in hex (first 256 bytes each), then fails. */
_Noreturn void fuzz_fail_diff(const char *what, const uint8_t *a, size_t alen, const uint8_t *b,
                              size_t blen);

#define FUZZ_ASSERT(cond, what)                                                                    \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(what);                                                                       \
    } while (0)

#endif
