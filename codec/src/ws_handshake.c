/* Opening-handshake keys (RFC 6455 §4.1, §4.2.2). */
#include "sio/base64.h"
#include "sio/ws.h"

#include "sha1.h"

/* The fixed GUID the RFC appends to the key before hashing (§1.3). */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

sio_err sio_ws_key_validate(const uint8_t *key, size_t len)
{
    uint8_t nonce[16];
    size_t got = 0;
    /* Strict decoding with room for exactly 16 bytes: a longer or malformed value fails. */
    if (len != SIO_WS_KEY_LEN)
        return SIO_ERR_WS_KEY_INVALID;
    sio_err rc = sio_base64_decode(key, len, SIO_BASE64_STRICT, nonce, sizeof nonce, &got);
    return rc == SIO_OK && got == sizeof nonce ? SIO_OK : SIO_ERR_WS_KEY_INVALID;
}

sio_err sio_ws_accept_compute(const uint8_t *key, size_t len, uint8_t *out, size_t cap,
                              size_t *written)
{
    *written = SIO_WS_ACCEPT_LEN;
    if (cap < SIO_WS_ACCEPT_LEN)
        return SIO_ERR_BUFFER_TOO_SMALL;
    sio__sha1_ctx ctx;
    uint8_t digest[SIO__SHA1_DIGEST_LEN];
    sio__sha1_init(&ctx);
    sio__sha1_update(&ctx, key, len);
    sio__sha1_update(&ctx, (const uint8_t *)ws_guid, sizeof ws_guid - 1);
    sio__sha1_final(&ctx, digest);
    return sio_base64_encode(digest, sizeof digest, out, cap, written);
}
