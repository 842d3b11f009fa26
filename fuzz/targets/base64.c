/* Fuzz target: base64 (sio/base64.h), the decoder behind Engine.IO's "b" packets.
 *
 * Input: byte 0 picks which decoder's verdict is reported to the seed check (bit 0: lenient);
 * the rest is the text to decode. Oracles:
 *  - strict acceptance implies lenient acceptance with the same bytes, and strict input is
 *    canonical: encoding the decoded bytes gives the input back exactly;
 *  - whatever lenient decodes re-encodes to text that strict decodes to the same bytes;
 *  - encoding the raw input sizes itself correctly and strict-decodes back to it. */
#include "fuzz_common.h"
#include "sio/base64.h"

#include <stdlib.h>
#include <string.h>

typedef struct decoded {
    sio_err err;
    uint8_t *buf;
    size_t len;
} decoded;

/* Output buffers, kept between inputs (fuzz_buffer_get poisons what lies past each request). */
static fuzz_buffer strict_buf, lenient_buf, enc_buf, back_buf;

/* Decodes into a buffer of the documented worst-case size (3 * ceil(n / 4)). */
static decoded decode(const uint8_t *p, size_t n, sio_base64_mode mode, fuzz_buffer *b)
{
    decoded d = {SIO_OK, fuzz_buffer_get(b, 3 * ((n + 3) / 4) + 1), 0};
    d.err = sio_base64_decode(p, n, mode, d.buf, 3 * ((n + 3) / 4), &d.len);
    return d;
}

/* Encodes with the (NULL, 0) sizing call first, as the common.h contract promises. */
static uint8_t *encode(const uint8_t *p, size_t n, size_t *len, fuzz_buffer *b)
{
    size_t need = 0;
    sio_err e = sio_base64_encode(p, n, NULL, 0, &need);
    FUZZ_ASSERT(need == sio_base64_encoded_len(n),
                "base64: sizing call disagrees with encoded_len");
    FUZZ_ASSERT(e == (need ? SIO_ERR_BUFFER_TOO_SMALL : SIO_OK), "base64: sizing call status");
    uint8_t *out = fuzz_buffer_get(b, need + 1);
    FUZZ_ASSERT(sio_base64_encode(p, n, out, need, len) == SIO_OK, "base64: encode failed");
    FUZZ_ASSERT(*len == need, "base64: encode wrote a different size than announced");
    return out;
}

/* Strict text must survive decode -> encode unchanged. */
static void check_strict(const uint8_t *p, size_t n, const decoded *strict, const decoded *lenient)
{
    FUZZ_ASSERT(lenient->err == SIO_OK, "base64: strict accepts what lenient rejects");
    FUZZ_ASSERT(lenient->len == strict->len && memcmp(lenient->buf, strict->buf, strict->len) == 0,
                "base64: strict and lenient decode to different bytes");
    size_t elen = 0;
    uint8_t *enc = encode(strict->buf, strict->len, &elen, &enc_buf);
    FUZZ_ASSERT(elen == n && memcmp(enc, p, n) == 0, "base64: strict input is not canonical");
}

/* Any bytes, once encoded, must strict-decode back to themselves. */
static void check_roundtrip(const uint8_t *raw, size_t n)
{
    size_t elen = 0;
    uint8_t *enc = encode(raw, n, &elen, &enc_buf);
    decoded back = decode(enc, elen, SIO_BASE64_STRICT, &back_buf);
    FUZZ_ASSERT(back.err == SIO_OK, "base64: strict rejects the encoder's output");
    FUZZ_ASSERT(back.len == n && memcmp(back.buf, raw, n) == 0, "base64: round trip changed bytes");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    bool report_lenient = fuzz_take_u8(&in) & 1u;
    decoded strict = decode(in.p, in.n, SIO_BASE64_STRICT, &strict_buf);
    decoded lenient = decode(in.p, in.n, SIO_BASE64_LENIENT, &lenient_buf);
    fuzz_reached((report_lenient ? lenient.err : strict.err) == SIO_OK);
    if (strict.err == SIO_OK)
        check_strict(in.p, in.n, &strict, &lenient);
    if (lenient.err == SIO_OK)
        check_roundtrip(lenient.buf, lenient.len);
    check_roundtrip(in.p, in.n);
    return 0;
}
