/* Growable byte buffers with a consumed prefix, so that reading and writing sockets never moves
 * bytes more than once per call. Memory is released when a buffer is emptied, which keeps idle
 * connections small. Allocation failure is fatal (the server cannot keep its promises without
 * memory). */
#ifndef REFSERVER_BUF_H
#define REFSERVER_BUF_H

#include <stdbool.h>
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
/* Every buffer that starts empty gets a block of BUF_FIRST_BLOCK bytes (more when more is
 * asked), and an emptied buffer gives its block back. buf_keep_blocks keeps emptied blocks for the
 * next buffers instead of freeing them: up to `first_blocks` blocks of BUF_FIRST_BLOCK bytes (a
 * connection's output of one round, a packet being written) and one block of `large_bytes` (the
 * server's read size: every read goes into an empty input buffer, emptied again once handled).
 * Without them a broadcast to a thousand clients allocates and frees a thousand output blocks per
 * round, beyond what the allocator's per-size caches hold, and every read allocates and frees a
 * block too large for them. buf_keep_blocks(0, 0) frees every kept block. Off by default; for
 * single-threaded programs only (the kept blocks are one set per process). buf_kept_blocks: how
 * many blocks of BUF_FIRST_BLOCK bytes are kept, and whether the large one is. */
#define BUF_FIRST_BLOCK 256u
void buf_keep_blocks(size_t first_blocks, size_t large_bytes);
size_t buf_kept_blocks(bool *large);
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrndup(const char *s, size_t n);

#endif
