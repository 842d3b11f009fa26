/* UTF-8 validation per RFC 3629 §3-4, as a byte-at-a-time state machine.
 *
 * The state keeps the range the next continuation byte must fall into, so overlongs
 * (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points above U+10FFFF (F4 90..BF)
 * are caught at the first byte that makes them impossible. That is the byte reported, which
 * lets a WebSocket endpoint fail a fragmented text message as early as the bytes allow. */
#include "sio/utf8.h"

#include <string.h>

#include "simd_internal.h"

#define CONT_LO 0x80u
#define CONT_HI 0xBFu

void sio_utf8_init(sio_utf8_state *st)
{
    st->need = 0;
    st->lo = CONT_LO;
    st->hi = CONT_HI;
}

/* Sets up the state for a lead byte; false when `b` can never start a sequence
 * (continuation bytes, C0/C1 which only make overlongs, F5..FF beyond U+10FFFF). */
static bool utf8_lead(sio_utf8_state *st, uint8_t b)
{
    st->lo = CONT_LO;
    st->hi = CONT_HI;
    if (b >= 0xC2 && b <= 0xDF) {
        st->need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
        st->need = 2;
        if (b == 0xE0)
            st->lo = 0xA0; /* below: overlong 3-byte form */
        if (b == 0xED)
            st->hi = 0x9F; /* above: UTF-16 surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        st->need = 3;
        if (b == 0xF0)
            st->lo = 0x90; /* below: overlong 4-byte form */
        if (b == 0xF4)
            st->hi = 0x8F; /* above: beyond U+10FFFF */
    } else {
        return false;
    }
    return true;
}

/* Length of the leading run of ASCII bytes. Text on the wire is mostly ASCII, so whole words
 * (or vectors) are tested for a high bit first; memcpy keeps the load free of alignment
 * assumptions. */
static size_t ascii_run(sio_simd_path path, const uint8_t *p, size_t len)
{
#if SIO__HAVE_X86
    if (path == SIO_SIMD_AVX2)
        return sio__ascii_run_avx2(p, len);
    if (path == SIO_SIMD_SSE2)
        return sio__ascii_run_sse2(p, len);
#else
    (void)path;
#endif
    size_t i = 0;
    for (; len - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & UINT64_C(0x8080808080808080))
            break;
    }
    while (i < len && p[i] < 0x80)
        i++;
    return i;
}

/* The AVX2 path checks whole 32-byte blocks first, then the tail as one more padded block, and
 * leaves to the loop below only what follows the valid prefix it found: the block where the
 * first error is (so the loop still reports that error's exact offset), or a tail that is not
 * valid by itself (it may end inside a character the next call completes). */
sio_err sio_utf8_feed(sio_utf8_state *st, const uint8_t *p, size_t len, size_t *bad_at)
{
    sio_simd_path path = sio__simd_path();
    size_t i = 0;
#if SIO__HAVE_X86
    if (path == SIO_SIMD_AVX2 && st->need == 0)
        i = sio__utf8_valid_prefix_avx2(p, len);
#endif
    for (; i < len; i++) {
        if (st->need == 0) {
            i += ascii_run(path, p + i, len - i);
            if (i == len)
                break;
        }
        uint8_t b = p[i];
        bool ok;
        if (st->need == 0) {
            ok = utf8_lead(st, b); /* b >= 0x80: ascii_run stopped here */
        } else {
            ok = b >= st->lo && b <= st->hi;
            if (ok) {
                st->need--;
                st->lo = CONT_LO;
                st->hi = CONT_HI;
            }
        }
        if (!ok) {
            if (bad_at)
                *bad_at = i;
            return SIO_ERR_UTF8_INVALID;
        }
    }
    return SIO_OK;
}

bool sio_utf8_complete(const sio_utf8_state *st)
{
    return st->need == 0;
}

sio_err sio_utf8_validate(const uint8_t *p, size_t len, size_t *bad_at)
{
#if SIO__HAVE_X86
    /* The vector path settles a valid text in one call (its tail included), without the state
     * the incremental form keeps; only an invalid text goes on below, to locate the error. */
    if (sio__simd_path() == SIO_SIMD_AVX2 && sio__utf8_valid_prefix_avx2(p, len) == len)
        return SIO_OK;
#endif
    sio_utf8_state st;
    sio_utf8_init(&st);
    sio_err rc = sio_utf8_feed(&st, p, len, bad_at);
    if (rc != SIO_OK)
        return rc;
    if (sio_utf8_complete(&st))
        return SIO_OK;
    /* The input is valid so far, so the unfinished sequence starts at the last lead byte. */
    size_t start = len;
    while (start > 0 && (p[start - 1] & 0xC0u) == 0x80u)
        start--;
    if (bad_at)
        *bad_at = start > 0 ? start - 1 : 0;
    return SIO_ERR_UTF8_TRUNCATED;
}

size_t sio_utf8_utf16_units(const uint8_t *p, size_t len)
{
    size_t units = 0;
    for (size_t i = 0; i < len; i++) {
        if ((p[i] & 0xC0u) != 0x80u)
            units++; /* every code point starts with exactly one non-continuation byte */
        if (p[i] >= 0xF0u)
            units++; /* 4-byte forms are above U+FFFF: a surrogate pair in UTF-16 */
    }
    return units;
}
