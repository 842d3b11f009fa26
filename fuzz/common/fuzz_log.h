/* A growing byte log: targets write what a parser reported into one, in a fixed layout, so that
 * two runs of a parser over the same bytes (one-shot and incremental) can be compared with one
 * memcmp. */
#ifndef FUZZ_LOG_H
#define FUZZ_LOG_H

#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

typedef struct fuzz_log {
    uint8_t *p;
    size_t len, cap;
} fuzz_log;

static inline void log_put(fuzz_log *l, const void *p, size_t n)
{
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap : 256;
        while (cap < l->len + n)
            cap *= 2;
        uint8_t *more = realloc(l->p, cap);
        if (!more)
            abort();
        l->p = more;
        l->cap = cap;
    }
    /* Short pieces (tags, numbers) byte by byte: cheaper than a memcpy call under ASan. */
    if (n <= 16) {
        const uint8_t *b = p;
        for (size_t i = 0; i < n; i++)
            l->p[l->len + i] = b[i];
    } else {
        memcpy(l->p + l->len, p, n);
    }
    l->len += n;
}

static inline void log_u64(fuzz_log *l, uint64_t v)
{
    log_put(l, &v, sizeof v);
}

static inline void log_span(fuzz_log *l, const uint8_t *p, size_t n)
{
    log_u64(l, n);
    log_put(l, p, n);
}

static inline bool log_equal(const fuzz_log *a, const fuzz_log *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* Fails with both logs printed when they differ. */
static inline void log_assert_equal(const fuzz_log *a, const fuzz_log *b, const char *what)
{
    if (!log_equal(a, b))
        fuzz_fail_diff(what, a->p, a->len, b->p, b->len);
}

/* Empties a log but keeps its buffer, for logs reused from one input to the next. */
static inline void log_reset(fuzz_log *l)
{
    l->len = 0;
}

static inline void log_free(fuzz_log *l)
{
    free(l->p);
    l->p = NULL;
    l->len = l->cap = 0;
}

#endif
