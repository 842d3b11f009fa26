/* Growable byte buffers with a consumed prefix, so that reading and writing sockets never moves
 * bytes more than once per call. Memory is released when a buffer is emptied, which keeps idle
 * connections small. Allocation failure is fatal (the server cannot keep its promises without
 * memory). */
#ifndef REFSERVER_BUF_H
#define REFSERVER_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct buf {
    uint8_t *data;
    size_t start; /* consumed prefix */
    size_t len;   /* end of valid data */
    size_t cap;
} buf;

static inline size_t buf_size(const buf *b)
{
    return b->len - b->start;
}

static inline uint8_t *buf_begin(const buf *b)
{
    return b->data + b->start;
}

void buf_reserve(buf *b, size_t extra); /* room for `extra` more bytes at the end */
void buf_append(buf *b, const void *p, size_t n);
void buf_append_str(buf *b, const char *s);
void buf_consume(buf *b, size_t n); /* drop n bytes from the front */
void buf_reset(buf *b);             /* empty and free */
/* Keeps one emptied block of exactly `bytes` for the next buffer that grows to that size, instead
 * of freeing it and allocating it again (0: keep none, and free the one kept). The server reads
 * into an empty input buffer in blocks of its read size and empties it again once the input is
 * handled, so without it every read would allocate and free a block too large for the
 * allocator's per-size caches. Off by default; for single-threaded programs only (the block is
 * one per process). */
void buf_keep_one_block(size_t bytes);
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrndup(const char *s, size_t n);

#endif
