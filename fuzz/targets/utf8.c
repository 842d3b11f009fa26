/* Fuzz target: UTF-8 validation (sio/utf8.h), used for WebSocket text frames, close reasons
 * and every text packet.
 *
 * Input: a split header (fuzz_common.h) then the text. Oracles:
 *  - the one-shot validator agrees with a small independent reference decoder written from
 *    RFC 3629 §4 (verdict and position of the first bad byte);
 *  - feeding the same bytes in reads of input-chosen sizes gives the same verdict and position;
 *  - for valid text, the UTF-16 length matches the reference count. */
#include "fuzz_common.h"
#include "sio/utf8.h"

typedef struct ref_result {
    sio_err err;
    size_t at;      /* first bad byte, or start of the truncated sequence */
    size_t units16; /* UTF-16 code units, valid input only */
} ref_result;

/* Allowed range of the second byte for lead byte b (RFC 3629 §4 table); 0 if b is no lead. */
static int ref_second(uint8_t b, uint8_t *lo, uint8_t *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF)
        return 1;
    if (b == 0xE0)
        *lo = 0xA0;
    if (b == 0xED)
        *hi = 0x9F;
    if (b >= 0xE0 && b <= 0xEF)
        return 2;
    if (b == 0xF0)
        *lo = 0x90;
    if (b == 0xF4)
        *hi = 0x8F;
    if (b >= 0xF0 && b <= 0xF4)
        return 3;
    return 0;
}

static ref_result ref_validate(const uint8_t *p, size_t n)
{
    ref_result r = {SIO_OK, 0, 0};
    size_t i = 0;
    while (i < n) {
        uint8_t lo, hi;
        int more = p[i] < 0x80 ? 0 : ref_second(p[i], &lo, &hi);
        if (p[i] >= 0x80 && more == 0)
            return (ref_result){SIO_ERR_UTF8_INVALID, i, 0};
        for (int k = 1; k <= more; k++) {
            if (i + (size_t)k >= n)
                return (ref_result){SIO_ERR_UTF8_TRUNCATED, i, 0};
            uint8_t c = p[i + (size_t)k];
            if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF))
                return (ref_result){SIO_ERR_UTF8_INVALID, i + (size_t)k, 0};
        }
        r.units16 += more == 3 ? 2 : 1;
        i += (size_t)more + 1;
    }
    return r;
}

/* Feeds the text in reads chosen by the splitter; reports the absolute bad position. */
static sio_err feed_split(fuzz_splitter *sp, const uint8_t *p, size_t n, size_t *at)
{
    sio_utf8_state st;
    sio_utf8_init(&st);
    size_t off = 0;
    while (off < n) {
        size_t len = fuzz_splitter_next(sp, n - off), bad = 0;
        if (sio_utf8_feed(&st, p + off, len, &bad) != SIO_OK) {
            FUZZ_ASSERT(bad < len, "utf8: feed reports a bad byte outside its read");
            *at = off + bad;
            return SIO_ERR_UTF8_INVALID;
        }
        off += len;
    }
    return sio_utf8_complete(&st) ? SIO_OK : SIO_ERR_UTF8_TRUNCATED;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    fuzz_splitter sp;
    fuzz_splitter_init(&sp, &in);
    size_t at = 0, inc_at = 0;
    sio_err one = sio_utf8_validate(in.p, in.n, &at);
    fuzz_reached(one == SIO_OK);
    ref_result ref = ref_validate(in.p, in.n);
    FUZZ_ASSERT(one == ref.err, "utf8: verdict differs from the RFC 3629 reference");
    FUZZ_ASSERT(one == SIO_OK || at == ref.at, "utf8: bad position differs from the reference");
    sio_err inc = feed_split(&sp, in.p, in.n, &inc_at);
    FUZZ_ASSERT(inc == one, "utf8: incremental and one-shot verdicts differ");
    FUZZ_ASSERT(inc != SIO_ERR_UTF8_INVALID || inc_at == at,
                "utf8: incremental and one-shot bad positions differ");
    if (one == SIO_OK)
        FUZZ_ASSERT(sio_utf8_utf16_units(in.p, in.n) == ref.units16, "utf8: UTF-16 length wrong");
    return 0;
}
