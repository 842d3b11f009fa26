/* Growable byte buffers with a consumed prefix (client_internal.h). Allocation failures leave
 * the buffer as it was and return false; the callers treat a short buffer as a lost connection. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

/* Room for `n` more bytes: the consumed prefix is reclaimed first, then the buffer grows. */
static bool reserve(rc_buf *b, size_t n)
{
    if (b->off && b->off == b->len)
        b->off = b->len = 0;
    if (b->len + n <= b->cap)
        return true;
    if (b->off) {
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->len + n <= b->cap)
            return true;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) {
        if (cap > SIZE_MAX / 2)
            return false;
        cap *= 2;
    }
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

bool rc_buf_append(rc_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return true;
    if (!reserve(b, n))
        return false;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return true;
}

bool rc_buf_printf(rc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n + 1))
        return false;
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

void rc_buf_consume(rc_buf *b, size_t n)
{
    b->off += n < b->len - b->off ? n : b->len - b->off;
}

void rc_buf_clear(rc_buf *b)
{
    b->off = b->len = 0;
}

void rc_buf_free(rc_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}
