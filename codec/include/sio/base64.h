/* Base64 (RFC 4648 §4, standard alphabet, padded), as Engine.IO uses for binary packets. */
#ifndef SIO_BASE64_H
#define SIO_BASE64_H

#include "sio/common.h"

typedef enum sio_base64_mode {
    /* Length a multiple of 4, only alphabet characters, '=' only as final padding,
     * unused bits of the last character zero. */
    SIO_BASE64_STRICT = 0,
    /* What Node's Buffer.from(s, "base64") does: characters outside the alphabet are
     * skipped, padding is optional, '-' and '_' are read as '+' and '/', the first '=' ends
     * the input. Non-ASCII input is read as UTF-8 text the way Node reads the JavaScript
     * string: each UTF-16 code unit by its low byte, so U+0762 counts as 'b' and the high
     * surrogate of U+1F600 (D83D) as '='; bytes that are not well-formed UTF-8 are skipped. */
    SIO_BASE64_LENIENT = 1
} sio_base64_mode;

/* Exact encoded size of n bytes: 4 * ceil(n / 3). */
SIO_API size_t sio_base64_encoded_len(size_t n);

SIO_API sio_err sio_base64_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                                  size_t *written);

/* Decoded size is at most 3 * ceil(n / 4). Errors: SIO_ERR_BASE64_CHAR, SIO_ERR_BASE64_PADDING,
 * SIO_ERR_BASE64_LENGTH (strict only), SIO_ERR_BUFFER_TOO_SMALL. */
SIO_API sio_err sio_base64_decode(const uint8_t *in, size_t n, sio_base64_mode mode, uint8_t *out,
                                  size_t cap, size_t *written);

#endif
