/* An allocator for the session tests that counts the blocks it has handed out (a test checks
 * the count is back at zero when the sessions are freed) and can be told to fail. */
#ifndef SIO_TEST_COUNTING_ALLOC_H
#define SIO_TEST_COUNTING_ALLOC_H

#include <stdlib.h>

#include "sio/common.h"

static long live_blocks;
static long fail_after = -1; /* allocations left before failing; -1 = never fail */

static void *counting_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (n == 0) {
        if (p)
            live_blocks--;
        free(p);
        return NULL;
    }
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    if (!p)
        live_blocks++;
    return realloc(p, n);
}

static const sio_allocator counting = {counting_realloc, NULL};

#endif
