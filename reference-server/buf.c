/* Byte buffers and checked allocation. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Out of memory: nothing sensible is left to do in a single-threaded test server. */
static void out_of_memory(void)
{
    fputs("reference-server: out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        out_of_memory();
    return p;
}

void *xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (p == NULL)
        out_of_memory();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        out_of_memory();
    return q;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Emptied blocks kept for reuse: a stack of BUF_FIRST_BLOCK blocks and one large block. */
static uint8_t **kept_first;
static size_t kept_first_count, kept_first_max;
static uint8_t *kept_large;
static size_t kept_large_bytes;

void buf_keep_blocks(size_t first_blocks, size_t large_bytes)
{
    while (kept_first_count > 0)
        free(kept_first[--kept_first_count]);
    free(kept_first);
    free(kept_large);
    kept_first = first_blocks ? xmalloc(first_blocks * sizeof *kept_first) : NULL;
    kept_first_max = first_blocks;
    kept_large = NULL;
    kept_large_bytes = large_bytes;
}

size_t buf_kept_blocks(bool *large)
{
    *large = kept_large != NULL;
    return kept_first_count;
}

/* A kept block of `cap` bytes, or NULL. */
static uint8_t *take_kept(size_t cap)
{
    if (cap == BUF_FIRST_BLOCK && kept_first_count > 0)
        return kept_first[--kept_first_count];
    if (cap == kept_large_bytes && kept_large != NULL) {
        uint8_t *p = kept_large;
        kept_large = NULL;
        return p;
    }
    return NULL;
}

/* Keeps the block of an emptied buffer if there is room for it; false if it must be freed. */
static bool keep(uint8_t *p, size_t cap)
{
    if (cap == BUF_FIRST_BLOCK && kept_first_count < kept_first_max) {
        kept_first[kept_first_count++] = p;
        return true;
    }
    if (cap == kept_large_bytes && kept_large == NULL) {
        kept_large = p;
        return true;
    }
    return false;
}

/* Makes room at the end: first by sliding the unconsumed bytes to the front, then by growing
 * geometrically. */
void buf_reserve(buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return;
    if (b->start > 0) {
        size_t live = buf_size(b);
        memmove(b->data, b->data + b->start, live);
        b->start = 0;
        b->len = live;
        if (b->cap - b->len >= extra)
            return;
    }
    size_t cap = b->cap ? b->cap : BUF_FIRST_BLOCK;
    while (cap - b->len < extra)
        cap *= 2;
    uint8_t *kept = b->data == NULL ? take_kept(cap) : NULL;
    b->data = kept != NULL ? kept : xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_append(buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void buf_append_str(buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_consume(buf *b, size_t n)
{
    b->start += n;
    if (b->start >= b->len)
        buf_reset(b);
}

void buf_reset(buf *b)
{
    if (b->data != NULL && !keep(b->data, b->cap))
        free(b->data);
    b->data = NULL;
    b->start = b->len = b->cap = 0;
}
