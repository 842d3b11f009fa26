/* Fuzz target: the codec paths (sio/simd.h) against each other. Every scanner with a vector path
 * runs on the input once per available path (scalar, SSE2, AVX2, NEON); the verdicts, error
 * offsets and output bytes must all equal the scalar path's.
 *
 * For JSON, the AVX2 block validator is also called directly, whatever the text's length, and
 * must accept exactly the texts the scalar scan accepts.
 *
 * Input: byte 0 picks the scanner (bits 0-2) and, for JSON, the nesting bound (bits 3-4: 64,
 * 1, 3, 1024); the rest is the text:
 *   0, 6-7  sio_json_validate;
 *   1       sio_utf8_validate, and sio_utf8_feed in two reads cut at an input-chosen place
 *           (the first text byte is the cut, as a share of 255);
 *   2       sio_base64_decode, strict and lenient, and sio_base64_encode of the same bytes;
 *   3       sio_ws_mask: 4 key bytes, 1 offset byte, then the payload;
 *   4       the JSON readers (sio_json_trim, sio_json_count, sio_json_object_get) on any text;
 *   5       sio_json_validate, then on a valid text the placeholder walk of a binary event's
 *           payload (sio__pkt_check_validated_placeholders, 2 attachments): its error and
 *           offset (the AVX2 path walks texts of up to 512 bytes on bit masks). */
#include <string.h>

#include "fuzz_common.h"
#include "pkt_internal.h"  /* the placeholder walk, called directly */
#include "simd_internal.h" /* the block validator, called directly */
#include "sio/base64.h"
#include "sio/json.h"
#include "sio/simd.h"
#include "sio/utf8.h"
#include "sio/ws.h"

enum { SCAN_JSON, SCAN_UTF8, SCAN_BASE64, SCAN_MASK, SCAN_READERS, SCAN_PLACEHOLDERS };

/* What one path produced: an error, an offset and some bytes. */
typedef struct outcome {
    sio_err err;
    size_t at, len;
    uint8_t *bytes;
} outcome;

static fuzz_buffer out_buf[SIO_SIMD_PATHS];

static outcome run_json(const uint8_t *p, size_t n, uint32_t depth)
{
    sio_json_options opt = {depth};
    outcome o = {SIO_OK, 0, 0, NULL};
    o.err = sio_json_validate(p, n, &opt, &o.at);
    if (o.err == SIO_OK)
        o.at = 0;
    return o;
}

static outcome run_utf8(const uint8_t *p, size_t n)
{
    outcome o = {SIO_OK, 0, 0, NULL};
    size_t at = 0, bad = 0;
    o.err = sio_utf8_validate(p, n, &at);
    size_t cut = n ? (size_t)p[0] * n / 256 : 0;
    sio_utf8_state st;
    sio_utf8_init(&st);
    sio_err inc = sio_utf8_feed(&st, p, cut, &bad);
    size_t inc_at = bad;
    if (inc == SIO_OK) {
        inc = sio_utf8_feed(&st, p + cut, n - cut, &bad);
        inc_at = cut + bad;
    }
    /* the incremental verdict and offset are folded into `len` so one comparison covers both */
    o.at = o.err == SIO_OK ? 0 : at;
    o.len = inc == SIO_OK ? (sio_utf8_complete(&st) ? 0 : 1) : 2 + inc_at;
    return o;
}

/* The input decoded strict and lenient, and encoded: the three outputs side by side. */
static outcome run_base64(const uint8_t *p, size_t n, int path)
{
    size_t cap = 3 * ((n + 3) / 4) + 1, enc_len = sio_base64_encoded_len(n), written = 0;
    outcome o = {SIO_OK, 0, 0, fuzz_buffer_get(&out_buf[path], 2 * cap + enc_len)};
    size_t strict_len = 0, lenient_len = 0;
    memset(o.bytes, 0, 2 * cap); /* bytes no decoder writes compare equal */
    o.err = sio_base64_decode(p, n, SIO_BASE64_STRICT, o.bytes, cap, &strict_len);
    sio_err lenient = sio_base64_decode(p, n, SIO_BASE64_LENIENT, o.bytes + cap, cap, &lenient_len);
    o.at = lenient == SIO_OK ? lenient_len : (size_t)-1;
    FUZZ_ASSERT(sio_base64_encode(p, n, o.bytes + 2 * cap, enc_len, &written) == SIO_OK &&
                    written == enc_len,
                "simd_paths: base64 encoding failed at its announced length");
    o.len = 2 * cap + enc_len;
    return o;
}

static outcome run_mask(const uint8_t *p, size_t n, int path)
{
    outcome o = {SIO_OK, 0, 0, NULL};
    if (n < 5)
        return o;
    uint8_t key[4];
    memcpy(key, p, 4);
    o.len = n - 5;
    o.bytes = fuzz_buffer_get(&out_buf[path], o.len);
    if (o.len)
        memcpy(o.bytes, p + 5, o.len);
    sio_ws_mask(o.bytes, o.len, key, p[4]);
    return o;
}

static outcome run_readers(const uint8_t *p, size_t n)
{
    sio_span text = sio_span_of(p, n), value = SIO_SPAN_NULL;
    outcome o = {SIO_OK, 0, 0, NULL};
    o.err = sio_json_object_get(text, "key", 3, &value);
    o.at = sio_json_count(text) * 1000003u + sio_json_trim(text).len;
    o.len = value.ptr ? (size_t)(value.ptr - p) * 1000003u + value.len : 0;
    return o;
}

/* The JSON verdict, and for a valid text the walk's error and offset folded into `len`. */
static outcome run_placeholders(const uint8_t *p, size_t n, uint32_t depth)
{
    outcome o = run_json(p, n, depth);
    if (o.err != SIO_OK)
        return o;
    size_t at = 0;
    sio_err e = sio__pkt_check_validated_placeholders(sio_span_of(p, n), 2, &at);
    o.len = e == SIO_OK ? 0 : (size_t)e * 1000003u + at + 1;
    return o;
}

static outcome run(int scanner, const uint8_t *p, size_t n, uint32_t depth, int path)
{
    switch (scanner) {
    case SCAN_UTF8:
        return run_utf8(p, n);
    case SCAN_BASE64:
        return run_base64(p, n, path);
    case SCAN_MASK:
        return run_mask(p, n, path);
    case SCAN_READERS:
        return run_readers(p, n);
    case SCAN_PLACEHOLDERS:
        return run_placeholders(p, n, depth);
    default:
        return run_json(p, n, depth);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t opts = fuzz_take_u8(&in);
    int scanner = opts & 7;
    static const uint32_t depths[4] = {0, 1, 3, 1024};
    uint32_t depth = depths[(opts >> 3) & 3];
    sio_simd_path before = sio_simd_selected();
    sio_simd_select(SIO_SIMD_SCALAR);
    outcome want = run(scanner, in.p, in.n, depth, 0);
    fuzz_reached(want.err == SIO_OK);
#if SIO__HAVE_X86
    /* The block validator sees short texts too (the public call leaves them to the scalar
     * scan): it must accept exactly what the scalar path accepts. */
    if ((scanner == SCAN_JSON || scanner > SCAN_READERS) && sio_simd_available(SIO_SIMD_AVX2))
        FUZZ_ASSERT(sio__json_accept_avx2(in.p, in.n, depth ? depth : SIO_JSON_MAX_DEPTH_DEFAULT) ==
                        (want.err == SIO_OK),
                    "simd_paths: the AVX2 block validator and the scalar scan disagree");
#endif
    for (int k = 1; k < SIO_SIMD_PATHS; k++) {
        if (sio_simd_select((sio_simd_path)k) != SIO_OK)
            continue;
        outcome got = run(scanner, in.p, in.n, depth, k);
        if (got.err != want.err) {
            const char *a = sio_err_name(got.err), *b = sio_err_name(want.err);
            fuzz_fail_diff(
                "simd_paths: the error differs from the scalar path's (this path's, then "
                "the scalar path's)",
                (const uint8_t *)a, a ? strlen(a) : 0, (const uint8_t *)b, b ? strlen(b) : 0);
        }
        FUZZ_ASSERT(got.at == want.at, "simd_paths: the offset differs from the scalar path's");
        FUZZ_ASSERT(got.len == want.len, "simd_paths: the length differs from the scalar path's");
        if (got.len && got.bytes && memcmp(got.bytes, want.bytes, got.len) != 0)
            fuzz_fail_diff("simd_paths: the output differs from the scalar path's", got.bytes,
                           got.len, want.bytes, want.len);
    }
    sio_simd_select(before);
    return 0;
}
