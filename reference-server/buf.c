/* Byte buffers and checked allocation. */
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

static size_t kept_block_bytes; /* 0: no block is kept */
static uint8_t *kept_block;

void buf_keep_one_block(size_t bytes)
{
    free(kept_block);
    kept_block = NULL;
    kept_block_bytes = bytes;
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
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra)
        cap *= 2;
    if (b->data == NULL && kept_block != NULL && cap == kept_block_bytes) {
        b->data = kept_block;
        kept_block = NULL;
    } else {
        b->data = xrealloc(b->data, cap);
    }
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
    if (b->data != NULL && kept_block == NULL && b->cap == kept_block_bytes)
        kept_block = b->data;
    else
        free(b->data);
    b->data = NULL;
    b->start = b->len = b->cap = 0;
}
