/* UTF-8 validation (RFC 3629): one-shot and incremental, reporting the first bad byte.
 * Rejects overlong forms, surrogates (U+D800..U+DFFF) and code points above U+10FFFF. */
#ifndef SIO_UTF8_H
#define SIO_UTF8_H

#include "sio/common.h"

/* Incremental validator state; zero-initialise with sio_utf8_init. */
typedef struct sio_utf8_state {
    uint32_t need;   /* continuation bytes still expected */
    uint32_t lo, hi; /* allowed range of the next continuation byte */
} sio_utf8_state;

SIO_API void sio_utf8_init(sio_utf8_state *st);

/* Feeds `len` bytes. SIO_OK, or SIO_ERR_UTF8_INVALID with *bad_at set to the index (within this
 * call's bytes) of the first byte that cannot be part of valid UTF-8. `bad_at` may be NULL.
 * Overlongs, surrogates and values above U+10FFFF are reported at their second byte, the first
 * one that rules them out. After an error, call sio_utf8_init before feeding again. */
SIO_API sio_err sio_utf8_feed(sio_utf8_state *st, const uint8_t *p, size_t len, size_t *bad_at);

/* True when the bytes fed so far do not end inside a multi-byte sequence. */
SIO_API bool sio_utf8_complete(const sio_utf8_state *st);

/* One-shot: SIO_OK, SIO_ERR_UTF8_INVALID (bad byte at *bad_at) or SIO_ERR_UTF8_TRUNCATED
 * (input ends inside a sequence; *bad_at = start of that sequence). */
SIO_API sio_err sio_utf8_validate(const uint8_t *p, size_t len, size_t *bad_at);

/* Number of UTF-16 code units the (valid) UTF-8 text encodes to: what JavaScript's
 * String.length reports, used by Engine.IO v3 length prefixes. */
SIO_API size_t sio_utf8_utf16_units(const uint8_t *p, size_t len);

#endif
