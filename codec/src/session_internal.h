/* Memory and item lists shared by the sessions (not part of the public API). */
#ifndef SIO_SESSION_INTERNAL_H
#define SIO_SESSION_INTERNAL_H

#include <stdlib.h>

#include "sio/common.h"

/* The session allocator, or libc when none was given (the only place the codec calls libc's
 * allocator, and only on behalf of a session). size 0 frees. */
static inline void *sio__mem(const sio_allocator *a, void *p, size_t size)
{
    if (a)
        return a->realloc(a->ctx, p, size);
    if (size == 0) {
        free(p);
        return NULL;
    }
    return realloc(p, size);
}

#endif
