/* Fuzz target: WebSocket close payloads with their UTF-8 reasons (RFC 6455 §5.5.1, §7.4),
 * and the opening-handshake key and accept value (§4.2.1, §4.2.2).
 *
 * Input: byte 0 selects the check (bit 0 clear: close payload; set: Sec-WebSocket-Key), the
 * rest is the payload or the key. Oracles:
 *  - a close payload decodes exactly when its length, code and reason are acceptable by an
 *    independent reading of §5.5.1/§7.4 (the code table is written out below) and the reason
 *    is UTF-8; decode -> encode reproduces the payload;
 *  - a key validates exactly when it is strict base64 of 16 bytes; the accept value is always
 *    28 characters of base64 of 20 bytes, and matches RFC 6455's worked example. */
#include "fuzz_common.h"
#include "sio/base64.h"
#include "sio/ws.h"

#include <string.h>

/* §7.4.1-7.4.2 and the IANA registry: which status codes may appear on the wire. */
static bool code_sendable(unsigned code)
{
    if (code >= 3000 && code <= 4999)
        return true;
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

static void check_close(const uint8_t *p, size_t n)
{
    uint16_t code = 0;
    sio_span reason = SIO_SPAN_NULL;
    sio_err e = sio_ws_close_payload_decode(p, n, &code, &reason);
    fuzz_reached(e == SIO_OK);
    bool expect = n == 0 || (n >= 2 && n <= SIO_WS_MAX_CONTROL_PAYLOAD &&
                             code_sendable((unsigned)p[0] << 8 | p[1]) &&
                             sio_utf8_validate(p + 2, n - 2, NULL) == SIO_OK);
    FUZZ_ASSERT((e == SIO_OK) == expect, "ws close: verdict differs from RFC 6455 §5.5.1");
    if (n >= 2)
        FUZZ_ASSERT(sio_ws_close_code_valid((uint16_t)(p[0] << 8 | p[1])) ==
                        code_sendable((unsigned)p[0] << 8 | p[1]),
                    "ws close: sio_ws_close_code_valid differs from the code table");
    if (e != SIO_OK)
        return;
    uint8_t out[SIO_WS_MAX_CONTROL_PAYLOAD];
    size_t wrote = 0;
    FUZZ_ASSERT(sio_ws_close_payload_encode(code, reason.ptr, reason.len, out, sizeof out,
                                            &wrote) == SIO_OK,
                "ws close: cannot encode what was decoded");
    FUZZ_ASSERT(wrote == n && memcmp(out, p, n) == 0,
                "ws close: decode -> encode changed the payload");
}

static void check_key(const uint8_t *p, size_t n)
{
    uint8_t raw[64];
    size_t got = 0;
    bool expect = n == SIO_WS_KEY_LEN &&
                  sio_base64_decode(p, n, SIO_BASE64_STRICT, raw, sizeof raw, &got) == SIO_OK &&
                  got == 16;
    sio_err e = sio_ws_key_validate(p, n);
    fuzz_reached(e == SIO_OK);
    FUZZ_ASSERT((e == SIO_OK) == expect,
                "ws key: verdict differs from 'strict base64 of 16 bytes'");
    uint8_t accept[SIO_WS_ACCEPT_LEN];
    size_t wrote = 0;
    FUZZ_ASSERT(sio_ws_accept_compute(p, n, accept, sizeof accept, &wrote) == SIO_OK &&
                    wrote == SIO_WS_ACCEPT_LEN,
                "ws key: accept value not 28 bytes");
    FUZZ_ASSERT(sio_base64_decode(accept, wrote, SIO_BASE64_STRICT, raw, sizeof raw, &got) ==
                        SIO_OK &&
                    got == 20,
                "ws key: accept value is not base64 of a SHA-1 digest");
}

/* RFC 6455 §1.3: the one answer everybody can check by hand. */
static void check_rfc_example(void)
{
    static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
    static const char want[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    uint8_t out[SIO_WS_ACCEPT_LEN];
    size_t wrote = 0;
    sio_ws_accept_compute((const uint8_t *)key, strlen(key), out, sizeof out, &wrote);
    FUZZ_ASSERT(wrote == SIO_WS_ACCEPT_LEN && memcmp(out, want, wrote) == 0,
                "ws key: RFC 6455 §1.3 example gives the wrong accept value");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t mode = fuzz_take_u8(&in);
    static bool example_checked;
    if (!example_checked)
        check_rfc_example();
    example_checked = true;
    if (mode & 1u)
        check_key(in.p, in.n);
    else
        check_close(in.p, in.n);
    return 0;
}
