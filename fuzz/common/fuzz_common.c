/* Implementation of the helpers in fuzz_common.h. */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#ifdef FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#endif

fuzz_report_state fuzz_report;

uint8_t *fuzz_buffer_get(fuzz_buffer *b, size_t n)
{
    if (n > b->cap || !b->p) {
        free(b->p);
        b->cap = n > 2 * b->cap ? n : 2 * b->cap;
        if (b->cap < 64)
            b->cap = 64;
        b->p = malloc(b->cap);
        if (!b->p)
            abort();
    }
#ifdef FUZZ_ASAN
    /* malloc'd memory starts on a shadow granule, so the poisoned tail begins exactly at n. */
    __asan_unpoison_memory_region(b->p, b->cap);
    __asan_poison_memory_region(b->p + n, b->cap - n);
#endif
    return b->p;
}

uint8_t fuzz_take_u8(fuzz_input *in)
{
    if (in->n == 0)
        return 0;
    uint8_t b = in->p[0];
    in->p++;
    in->n--;
    return b;
}

void fuzz_splitter_init(fuzz_splitter *s, fuzz_input *in)
{
    size_t want = fuzz_take_u8(in) & 15u;
    if (want > in->n)
        want = in->n;
    s->sizes = in->p;
    s->count = want;
    s->next = 0;
    in->p += want;
    in->n -= want;
}

/* A cycle of all-zero sizes would never finish the stream, so a zero read is only allowed
 * when the previous read was not also zero. */
size_t fuzz_splitter_next(fuzz_splitter *s, size_t left)
{
    if (s->count == 0)
        return left;
    size_t prev = s->next == 0 ? s->sizes[s->count - 1] : s->sizes[s->next - 1];
    size_t len = s->sizes[s->next];
    s->next = (s->next + 1) % s->count;
    if (len == 0 && prev == 0)
        len = 1;
    return len < left ? len : left;
}

size_t fuzz_find(const uint8_t *p, size_t n, const uint8_t *sep, size_t seplen)
{
    if (seplen == 0 || n < seplen)
        return n;
    /* memchr and a byte loop rather than memcmp: libFuzzer hooks every memcmp call and records
     * its operands, and the separators are in the targets' dictionaries already. */
    for (size_t i = 0; i + seplen <= n; i++) {
        const uint8_t *hit = memchr(p + i, sep[0], n - seplen + 1 - i);
        if (!hit)
            return n;
        i = (size_t)(hit - p);
        size_t k = 1;
        while (k < seplen && p[i + k] == sep[k])
            k++;
        if (k == seplen)
            return i;
    }
    return n;
}

void fuzz_reached(bool accepted)
{
    fuzz_report.reached = true;
    fuzz_report.accepted = accepted;
}

_Noreturn void fuzz_fail(const char *what)
{
    fprintf(stderr, "oracle failure: %s\n", what);
    fflush(stderr);
    abort();
}

static void print_hex(const char *label, const uint8_t *p, size_t n)
{
    fprintf(stderr, "%s (%zu bytes):", label, n);
    for (size_t i = 0; i < n && i < 256; i++)
        fprintf(stderr, " %02x", p[i]);
    fprintf(stderr, "%s\n", n > 256 ? " ..." : "");
}

_Noreturn void fuzz_fail_diff(const char *what, const uint8_t *a, size_t alen, const uint8_t *b,
                              size_t blen)
{
    print_hex("  first ", a, alen);
    print_hex("  second", b, blen);
    fuzz_fail(what);
}
