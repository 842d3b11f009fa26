/* Types and conventions shared by every layer of libsiocodec.
 *
 * - Decoders never allocate: they return views (sio_span) into the caller's buffer.
 * - Encoders write into a caller buffer: `out`/`cap` in, `*written` out. When `cap` is too
 *   small they return SIO_ERR_BUFFER_TOO_SMALL and set `*written` to the size needed, so
 *   calling once with (NULL, 0) sizes the buffer.
 * - Every failure is a named sio_err (see sio/errors.h).
 */
#ifndef SIO_COMMON_H
#define SIO_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Marks the library's public functions (the shared library exports nothing else). Defined
 * before sio/errors.h is read, which uses it. */
#if defined(SIO_BUILDING) && defined(__GNUC__)
#define SIO_API __attribute__((visibility("default")))
#else
#define SIO_API
#endif

#include "sio/errors.h"

/* A read-only view of bytes owned by someone else. */
typedef struct sio_span {
    const uint8_t *ptr;
    size_t len;
} sio_span;

#define SIO_SPAN_NULL ((sio_span){NULL, 0})

static inline sio_span sio_span_of(const void *ptr, size_t len)
{
    sio_span s;
    s.ptr = (const uint8_t *)ptr;
    s.len = len;
    return s;
}

/* Where the sessions (sio/eio_server.h, …) get memory: `realloc` behaves as C's realloc when
 * `size` > 0 (NULL `ptr` allocates) and frees `ptr`, returning NULL, when `size` is 0. A NULL
 * allocator means libc's realloc and free. Nothing else in the codec allocates. */
typedef struct sio_allocator {
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void *ctx;
} sio_allocator;

/* Library version, "MAJOR.MINOR.PATCH". */
SIO_API const char *sio_version(void);

#endif
