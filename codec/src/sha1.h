/* SHA-1 (FIPS 180-4), internal to libsiocodec: only the WebSocket accept key needs it, and
 * there it is a checksum of a public value, not a security measure. */
#ifndef SIO_SHA1_H
#define SIO_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SIO__SHA1_DIGEST_LEN 20u

typedef struct sio__sha1_ctx {
    uint32_t h[5];
    uint64_t total;    /* bytes hashed so far */
    uint8_t block[64]; /* the current, partly filled, 64-byte block */
} sio__sha1_ctx;

void sio__sha1_init(sio__sha1_ctx *c);
void sio__sha1_update(sio__sha1_ctx *c, const uint8_t *p, size_t len);
void sio__sha1_final(sio__sha1_ctx *c, uint8_t digest[SIO__SHA1_DIGEST_LEN]);

#endif
