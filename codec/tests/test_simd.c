/* Every codec path gives the same results: each scanner is run on the scalar path and on every
 * vector path this build and CPU offer (sio/simd.h), and the verdicts, error offsets and outputs
 * must be identical. The inputs are hand-picked cases placed at every offset around the 16-, 32-
 * and 64-byte boundaries the vector paths work in, and deterministic pseudo-random texts. */
#include <stdint.h>
#include <stdlib.h>

#include "pkt_internal.h"  /* the placeholder walk, called directly (codec/src) */
#include "simd_internal.h" /* the block validator, called directly (codec/src) */

#include "check.h"
#include "sio/base64.h"
#include "sio/json.h"
#include "sio/simd.h"
#include "sio/utf8.h"
#include "sio/ws.h"

static sio_simd_path paths[SIO_SIMD_PATHS];
static int npaths;

static void find_paths(void)
{
    for (int k = 0; k < SIO_SIMD_PATHS; k++)
        if (sio_simd_available((sio_simd_path)k))
            paths[npaths++] = (sio_simd_path)k;
}

/* ---------------------------------------------------------------- JSON validation */

typedef struct json_result {
    sio_err err;
    size_t at;
} json_result;

static json_result validate_on(sio_simd_path path, const uint8_t *p, size_t n, uint32_t depth)
{
    sio_json_options opt = {depth};
    json_result r = {SIO_OK, 0};
    CHECK_ERR(sio_simd_select(path), SIO_OK);
    r.err = sio_json_validate(p, n, &opt, &r.at);
    if (r.err == SIO_OK)
        r.at = 0;
    return r;
}

static int json_mismatches;

/* The AVX2 block validator is called only for texts of SIO__JSON_BLOCKS_MIN bytes and more;
 * here it sees every text: it must accept exactly what the scalar path accepts (accepting less
 * would be correct but slow, so it counts as a failure too). */
static void blocks_same(const uint8_t *p, size_t n, uint32_t depth, sio_err scalar)
{
#if SIO__HAVE_X86
    if (!sio_simd_available(SIO_SIMD_AVX2))
        return;
    bool accepted = sio__json_accept_avx2(p, n, depth ? depth : SIO_JSON_MAX_DEPTH_DEFAULT);
    if (accepted != (scalar == SIO_OK)) {
        check_failed++;
        if (json_mismatches++ < 20)
            fprintf(stderr, "json blocks (%zu bytes, depth %u): %s, scalar: %s: %.*s\n", n, depth,
                    accepted ? "accepted" : "not accepted", sio_err_name(scalar),
                    (int)(n > 120 ? 120 : n), (const char *)p);
    } else {
        check_passed++;
    }
#else
    (void)p, (void)n, (void)depth, (void)scalar;
#endif
}

/* The text must get the same verdict and offset on every path; `expect_ok` is the scalar
 * verdict the case was written for (-1: not stated). */
static void json_same(const uint8_t *p, size_t n, uint32_t depth, int expect_ok)
{
    json_result want = validate_on(SIO_SIMD_SCALAR, p, n, depth);
    blocks_same(p, n, depth, want.err);
    if (expect_ok >= 0 && (want.err == SIO_OK) != expect_ok) {
        check_failed++;
        fprintf(stderr, "json case %.*s: scalar says %s\n", (int)(n > 80 ? 80 : n), (const char *)p,
                sio_err_name(want.err));
    }
    for (int k = 1; k < npaths; k++) {
        json_result got = validate_on(paths[k], p, n, depth);
        if (got.err != want.err || got.at != want.at) {
            check_failed++;
            if (json_mismatches++ < 20)
                fprintf(stderr,
                        "json (%zu bytes, depth %u) on %s: %s at %zu, scalar: %s at %zu: %.*s\n", n,
                        depth, sio_simd_path_name(paths[k]), sio_err_name(got.err), got.at,
                        sio_err_name(want.err), want.at, (int)(n > 120 ? 120 : n), (const char *)p);
        } else {
            check_passed++;
        }
    }
}

/* Valid texts (1) and invalid ones (0), each a trap for one rule of the block validator. */
static const struct {
    const char *text;
    int ok;
} json_cases[] = {
    {"{}", 1},
    {"[]", 1},
    {"0", 1},
    {"-0.5e+10", 1},
    {"true", 1},
    {"false", 1},
    {"null", 1},
    {"\"\"", 1},
    {" \t\r\n[ 1 , 2 ] \n", 1},
    {"[1,\"a\",{\"k\":[true,false,null]},-2.5E-3,0]", 1},
    {"{\"a\":{\"b\":{\"c\":[[[{}]]]}}}", 1},
    {"[\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00\"]", 1},
    {"[\"\\\\\"]", 1},
    {"[\"\\\\\\\"\"]", 1},
    {"{\"\":\"\"}", 1},
    {"[\"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x99\x82\"]", 1},
    /* the highest lead byte of each length, then ASCII: U+07FF, U+FFFD, U+10FFFF */
    {"[\"\xdf\xbf"
     "a\xef\xbf\xbd"
     "a\xf4\x8f\xbf\xbf"
     "a\"]",
     1},
    {"", 0},
    {"   ", 0},
    {"[", 0},
    {"]", 0},
    {"[1,]", 0},
    {"[,1]", 0},
    {"{\"a\"}", 0},
    {"{\"a\":}", 0},
    {"{\"a\":1,}", 0},
    {"{,\"a\":1}", 0},
    {"{\"a\" 1}", 0},
    {"{1:2}", 0},
    {"[\"a\":1]", 0},
    {"{\"a\":1:2}", 0},
    {"{\"a\":\"b\":\"c\"}", 0},
    {"[1 2]", 0},
    {"1 2", 0},
    {"[1]]", 0},
    {"[}", 0},
    {"{]", 0},
    {"[{]}", 0},
    {"01", 0},
    {"[01]", 0},
    {"[-]", 0},
    {"[1.]", 0},
    {"[.5]", 0},
    {"[1e]", 0},
    {"[+1]", 0},
    {"[tru]", 0},
    {"[truex]", 0},
    {"[nul]", 0},
    {"[fals]", 0},
    {"[True]", 0},
    {"[1x]", 0},
    {"[\"a\"x]", 0},
    {"[\"a\\x\"]", 0},
    {"[\"a\\u12\"]", 0},
    {"[\"\\uD800\"]", 0},
    {"[\"\\uDC00\"]", 0},
    {"[\"\\uD800\\u0041\"]", 0},
    {"[\"a\x01\"]", 0},
    {"[\"\xc3\"]", 0},
    {"[\"\xed\xa0\x80\"]", 0},
    {"[\"\xc0\xaf\"]", 0},
    {"[\"\xf4\x90\x80\x80\"]", 0},
    {"[\xc3\xa9]", 0},
    {"[1]\x01", 0},
    /* control bytes in a string: 0x1F is the last one, 0x7F is not one */
    {"[\"a\x1f\"]", 0},
    {"[\"\x7f \"]", 1},
    {"[\\\"a\"]", 0},
    {"\"abc", 0},
    {"[\"abc\\\"]", 0},
    {"{\"a\":[1,{\"b\":2]}", 0},
    /* escapes: runs of backslashes of each length, each byte after one, \u forms and pairs */
    {"[\"\\n\"]", 1},
    {"[\"\\\\\\\\\"]", 1},
    {"[\"\\\\\\\\\\\"\"]", 1},
    {"[\"\\\\\\\\\\\\\\\\\"]", 1},
    {"[\"\\\\\\\\\"\"]", 0},
    {"[\"\\q\"]", 0},
    {"[\"\\a\"]", 0},
    {"[\"\\U0041\"]", 0},
    {"[\"\\'\"]", 0},
    {"[\"\\%\"]", 0},
    {"[\"\\e\"]", 0},
    {"[\"\\v\"]", 0},
    {"[\"\\0\"]", 0},
    {"[\"\\ \"]", 0},
    {"[\"\\\xc3\xa9\"]", 0},
    {"[\"\\u0041\\u0042\"]", 1},
    {"[\"\\uDBFF\\uDFFF\\n\"]", 1},
    {"[\"\\uD83D\\\\\"]", 0},
    {"[\"\\uD83Dx\"]", 0},
    {"[\"\\uD83D\\uD83D\"]", 0},
    {"[\"\\u00G0\"]", 0},
    {"[\"a\",\\n]", 0},
    /* numbers: digit runs, leading zeros, digits then more */
    {"[0,10,-0,100,7]", 1},
    {"[10.5e3,0e1,0.0,-9]", 1},
    {"[00]", 0},
    {"[0 1]", 0},
    {"[-01]", 0},
    {"[01.5]", 0},
    {"[1-]", 0},
    {"[1a]", 0},
    /* the grammar's states: each token after each kind of token */
    {"[true,false,null,\"a\",{},[]]", 1},
    {"{\"a\":[],\"b\":{},\"c\":{\"d\":[[],[{}]]}}", 1},
    {"[{\"a\":1},{\"b\":[2]}]", 1},
    {"{\"a\":1}}", 0},
    {"[1],", 0},
    {"{}[]", 0},
    {"{\"a\"::1}", 0},
    {"{\"a\",1}", 0},
    {"[:]", 0},
    {"{:}", 0},
    {"[null\"a\"]", 0},
    {"{\"a\":1\"b\":2}", 0},
    {"[[]{}]", 0},
    {"{\"a\":{}\"b\":1}", 0},
    {"[\"a\"\"b\"]", 0},
    {"\"a\" ", 1},
    {"\"a\"1", 0},
    {"1\"a\"", 0},
    /* the rules that depend on the container: a value where a name is due, or a name */
    {"{\"a\":1,2}", 0},
    {"{\"a\":1,[]}", 0},
    {"{\"a\":1,{}}", 0},
    {"[1,\"a\":2]", 0},
    {"[{},\"a\":2]", 0},
    {"{\"a\":[1,2],\"b\":{\"c\":[{}]},\"d\":\"e\"}", 1},
    {"{}:1", 0},
    {"[] ,", 0},
};

/* Each literal and a prefix of it followed by 0 to 3 zero bytes (which belong to its atom) and
 * ']', at every offset of the first block boundary. */
static void json_literals_then_zeros(void)
{
    static const char *const words[] = {"true", "false", "null", "tru", "fals", "nul"};
    uint8_t buf[160];
    for (size_t w = 0; w < 6; w++)
        for (size_t zeros = 0; zeros <= 3; zeros++)
            for (size_t shift = 50; shift <= 70; shift++) {
                size_t len = strlen(words[w]), n = 0;
                memset(buf, ' ', shift);
                n = shift;
                buf[n++] = '[';
                memcpy(buf + n, words[w], len);
                n += len;
                memset(buf + n, 0, zeros);
                n += zeros;
                buf[n++] = ']';
                json_same(buf, n, 0, zeros == 0 && w < 3);
            }
}

/* A literal at `at` (at most 256) with the byte `after` after it, in a text of 300 bytes: the
 * block path looks for literals on its vectors in the steady blocks of such a long text (0 to
 * 192), and at its last block (256) on the bytes; between values of strings (compact) or of
 * spaces. Returns the length. */
static size_t literal_text(uint8_t *buf, size_t at, const char *word, int after, bool compact)
{
    size_t len = strlen(word), n = at;
    memset(buf, compact ? 'x' : ' ', at);
    buf[0] = '[';
    if (compact) /* ["xx…", before the word */
        buf[1] = '"', buf[at - 2] = '"', buf[at - 1] = ',';
    memcpy(buf + n, word, len);
    n += len;
    buf[n++] = (uint8_t)after;
    size_t end = 300; /* long enough for steady blocks, from 0 to 192 */
    memset(buf + n, compact ? 'x' : ' ', end - n);
    if (compact) /* ,"xx…"] after it */
        buf[n] = ',', buf[n + 1] = '"', buf[end - 2] = '"';
    buf[end - 1] = ']';
    return end;
}

/* Each literal at every place of the first three blocks and across the boundaries, and across
 * the boundary of the last steady block and the last block, followed by
 * bytes that end an atom and bytes that do not (every byte value near the boundary), and with
 * each of its bytes replaced by bytes that are close to it (same low nibble, other case, the
 * next letter, another literal's letter, a byte >= 0x80, a zero byte). */
static void json_literals_everywhere(void)
{
    static const char *const words[] = {"true", "false", "null"};
    static const uint8_t afters[] = {' ', ',', ']', '}', ':', '"',  '\n', 'e',
                                     'l', 'x', '0', '-', 0,   0x80, 0xc3, 0x7f};
    uint8_t buf[320], word[8];
    for (size_t w = 0; w < 3; w++)
        for (int compact = 0; compact <= 1; compact++)
            for (size_t at = 4; at <= 256; at++) {
                if (at > 134 && at < 244)
                    continue;
                /* every byte value after it when that byte is at 63, 0 or 1 in its block */
                size_t len = strlen(words[w]);
                bool near = (at + len + 1) % 64 <= 2;
                for (int after = 0; after < 256; after++) {
                    if (!near && !memchr(afters, after, sizeof afters))
                        continue;
                    size_t n = literal_text(buf, at, words[w], after, compact);
                    bool ws = after == ' ' || after == '\t' || after == '\n' || after == '\r';
                    json_same(buf, n, 0, ws); /* valid when the word ends at whitespace */
                }
                for (size_t j = 0; j < len; j++) {
                    const uint8_t c = (uint8_t)words[w][j];
                    const uint8_t others[] = {c ^ 0x10, c ^ 0x20, c + 1, c ^ 0x80, 'e',
                                              'l',      'u',      0,     ' ',      '"'};
                    for (size_t o = 0; o < sizeof others; o++) {
                        if (others[o] == c)
                            continue;
                        memcpy(word, words[w], len + 1);
                        word[j] = others[o];
                        size_t n = literal_text(buf, at, (const char *)word, ' ', compact);
                        json_same(buf, n, 0, others[o] ? 0 : -1); /* 0 cuts the word */
                    }
                }
            }
}

/* An atom that fills a whole block and more: its length is not within the block. */
static void json_long_atoms(void)
{
    uint8_t buf[200];
    const uint8_t fills[] = {'t', 'n', 'f', '1', 0x01, 'x'};
    for (size_t f = 0; f < sizeof fills; f++)
        for (size_t n = 60; n <= 140; n++) {
            memset(buf, fills[f], n);
            json_same(buf, n, 0, fills[f] == '1');
            memcpy(buf, "[", 1);
            json_same(buf, n, 0, 0);
        }
}

/* A character of 2, 3 and 4 bytes at every place of texts of 64 to 140 bytes (the last block
 * is then the text's last 64 bytes, or a padded copy), alone or with another near the end, whole
 * and cut short. */
static void json_utf8_tails(void)
{
    static const char *const chars[] = {"\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x99\x82"};
    uint8_t buf[160];
    for (size_t n = 64; n <= 140; n++)
        for (size_t c = 0; c < 3; c++) {
            size_t len = c + 2;
            for (size_t at = 2; at + len + 2 <= n; at++) {
                memset(buf, 'x', n);
                buf[0] = '[', buf[1] = '"', buf[n - 2] = '"', buf[n - 1] = ']';
                memcpy(buf + at, chars[c], len);
                json_same(buf, n, 0, 1);
                if (at + len <= n - 4) { /* and one more character near the end */
                    memcpy(buf + n - 4, "\xc3\xa9", 2);
                    json_same(buf, n, 0, 1);
                }
                buf[at + len - 1] = 'x';
                json_same(buf, n, 0, 0);
            }
        }
}

static void json_cases_everywhere(void)
{
    for (size_t c = 0; c < sizeof json_cases / sizeof json_cases[0]; c++) {
        const char *t = json_cases[c].text;
        size_t len = strlen(t);
        json_same((const uint8_t *)t, len, 0, json_cases[c].ok);
        /* The same text after 0..130 bytes of a string, so each of its bytes meets every
         * position in a block: ["xxx…", <text>] (valid exactly when the text is); and after
         * 256 bytes more, with 85 spaces after it, in the steady blocks of a long text. */
        uint8_t buf[768];
        for (size_t lead = 0; lead <= 256; lead += 256)
            for (size_t shift = lead; shift <= lead + (lead ? 63 : 130); shift++) {
                size_t n = 0;
                buf[n++] = '[';
                buf[n++] = '"';
                memset(buf + n, 'x', shift);
                n += shift;
                memcpy(buf + n, "\",", 2);
                n += 2;
                memcpy(buf + n, t, len);
                n += len;
                buf[n++] = ']';
                memset(buf + n, ' ', lead / 3); /* so that the text's blocks are steady too */
                n += lead / 3;
                json_same(buf, n, 0, len ? json_cases[c].ok : 0);
                /* and after whitespace instead, which the successor rule must carry over */
                memset(buf, ' ', shift);
                memcpy(buf + shift, t, len);
                memset(buf + shift + len, ' ', lead / 3);
                json_same(buf, shift + len + lead / 3, 0, json_cases[c].ok);
            }
    }
}

/* Runs of 1 to 140 backslashes in a string, then a quote, an escape letter, a byte no escape
 * allows or the string's end, the run starting at every position of a block: runs of either
 * parity, within one block, reaching its last byte, and longer than a block. */
static void json_backslash_runs(void)
{
    static const char after[] = {'"', 'n', 'q', '/'};
    uint8_t buf[256 + 64 + 140 + 3 + 80];
    for (size_t run = 1; run <= 140; run += run < 70 ? 1 : 7)
        for (size_t a = 0; a < sizeof after; a++)
            for (size_t at = 256; at < 256 + 64; at++) {
                size_t n = 0;
                buf[n++] = '[';
                buf[n++] = '"';
                memset(buf + n, 'x', at - n);
                n = at;
                memset(buf + n, '\\', run);
                n += run;
                buf[n++] = (uint8_t)after[a];
                memcpy(buf + n, "\"]", 2);
                n += 2;
                memset(buf + n, ' ', 80); /* so that the run's blocks are steady */
                n += 80;
                json_same(buf, n, 0, -1);
            }
}

/* Every sequence of up to six items (brackets, punctuation, a string, a number, a space): the
 * block validator's rules of succession must accept exactly the sequences the grammar accepts.
 * Each sequence as it is, and after 60 spaces so that it crosses the first block boundary. */
static const char *const json_items[] = {"{", "}", "[", "]", ",", ":", "\"a\"", "1", " "};
#define JSON_ITEMS (sizeof json_items / sizeof json_items[0])

static void json_sequence(uint8_t *buf, size_t n, int items_left)
{
    if (n > 60) {
        json_same(buf + 60, n - 60, 0, -1);
        json_same(buf, n, 0, -1);
    }
    if (items_left == 0)
        return;
    for (size_t k = 0; k < JSON_ITEMS; k++) {
        size_t len = strlen(json_items[k]);
        memcpy(buf + n, json_items[k], len);
        json_sequence(buf, n + len, items_left - 1);
    }
}

static void json_sequences(void)
{
    uint8_t buf[60 + 6 * 3];
    memset(buf, ' ', 60);
    json_sequence(buf, 60, 6);
}

/* Nesting at and past the bound, for bounds inside and beyond the 64 levels kept in a register. */
static void json_depths(void)
{
    static uint8_t buf[7 * 1100 + 8];
    const uint32_t bounds[] = {1, 2, 63, 64, 65, 127, 128, 129, 1024};
    for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
        for (uint32_t depth = bounds[b] - 1; depth <= bounds[b] + 1 && depth <= 1100; depth++) {
            if (depth == 0)
                continue;
            for (int kind = 0; kind < 3; kind++) { /* arrays, objects, alternating */
                size_t n = 0;
                for (uint32_t d = 0; d < depth; d++) {
                    bool object = kind == 1 || (kind == 2 && d % 2);
                    if (object) {
                        memcpy(buf + n, "{\"k\":", 5);
                        n += 5;
                    } else {
                        buf[n++] = '[';
                    }
                }
                buf[n++] = '1';
                for (uint32_t d = depth; d-- > 0;) {
                    bool object = kind == 1 || (kind == 2 && d % 2);
                    buf[n++] = object ? '}' : ']';
                }
                json_same(buf, n, bounds[b], depth <= bounds[b]);
                /* a mismatched closer at the deepest level */
                buf[n - 1] = buf[n - 1] == ']' ? '}' : ']';
                json_same(buf, n, bounds[b], 0);
            }
        }
    }
}

/* Deterministic pseudo-random numbers (xorshift64*), so a failure reproduces. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}

static const char *const json_pieces[] = {
    "{",          "}",
    "[",          "]",
    ",",          ":",
    "\"",         "\"a\"",
    "\"k\":",     "1",
    "0",          "-",
    ".",          "e",
    "12",         "true",
    "false",      "null",
    " ",          "\n",
    "\\",         "\\\"",
    "\\u",        "00e9",
    "\xc3\xa9",   "\xe6\x97\xa5",
    "\xff",       "\x01",
    "x",          "\"\\uD83D\\uDE00\"",
    "\"sp ace\"",
};

/* Random texts: well-formed ones built by a small generator, then mutated. */
static size_t gen_value(uint8_t *out, size_t cap, int depth)
{
    size_t n = 0;
    int kind = (int)(rng() % (depth > 5 ? 4 : 6));
    const char *atoms[] = {"0",     "-12",  "3.5e-2", "true",
                           "false", "null", "\"s\"",  "\"\\n\xc3\xa9\""};
    if (kind < 4) {
        const char *a = atoms[rng() % 8];
        size_t len = strlen(a);
        if (len > cap)
            return 0;
        memcpy(out, a, len);
        return len;
    }
    bool object = kind == 5;
    if (cap < 2)
        return 0;
    out[n++] = object ? '{' : '[';
    int members = (int)(rng() % 4);
    for (int i = 0; i < members && cap - n > 16; i++) {
        if (i)
            out[n++] = ',';
        if (rng() % 4 == 0)
            out[n++] = ' ';
        if (object) {
            memcpy(out + n, "\"key\":", 6);
            n += 6;
        }
        n += gen_value(out + n, cap - n - 2, depth + 1);
    }
    out[n++] = object ? '}' : ']';
    return n;
}

static void json_random(void)
{
    static uint8_t buf[4096];
    for (int i = 0; i < 20000; i++) {
        size_t n = 0;
        if (i % 2) {
            n = gen_value(buf, 3000, 0);
            int edits = (int)(rng() % 3);
            for (int e = 0; e < edits && n > 0; e++) {
                const char *piece =
                    json_pieces[rng() % (sizeof json_pieces / sizeof json_pieces[0])];
                size_t at = rng() % n, len = strlen(piece);
                if (n + len < sizeof buf && rng() % 2) {
                    memmove(buf + at + len, buf + at, n - at);
                    memcpy(buf + at, piece, len);
                    n += len;
                } else {
                    buf[at] = (uint8_t)piece[0];
                }
            }
        } else {
            int count = (int)(rng() % 60);
            for (int k = 0; k < count; k++) {
                const char *piece =
                    json_pieces[rng() % (sizeof json_pieces / sizeof json_pieces[0])];
                size_t len = strlen(piece);
                if (n + len > sizeof buf)
                    break;
                memcpy(buf + n, piece, len);
                n += len;
            }
        }
        const uint32_t depths[] = {0, 1, 3, 100};
        json_same(buf, n, depths[rng() % 4], -1);
    }
}

/* ---------------------------------------------------------------- JSON readers */

/* The readers skip strings and containers with the vector scanners: their results on every
 * path must match the scalar path's. */
static void readers_same(const uint8_t *p, size_t n)
{
    sio_span text = sio_span_of(p, n);
    size_t want_count = 0, want_trim = 0;
    sio_err want_get = SIO_OK;
    sio_span want_value = SIO_SPAN_NULL;
    for (int k = 0; k < npaths; k++) {
        sio_simd_select(paths[k]);
        size_t count = sio_json_count(text);
        size_t trim = sio_json_trim(text).len;
        sio_span value = SIO_SPAN_NULL;
        sio_err get = sio_json_object_get(text, "key", 3, &value);
        if (k == 0) {
            want_count = count, want_trim = trim, want_get = get, want_value = value;
            continue;
        }
        CHECK_EQ_INT(count, want_count);
        CHECK_EQ_INT(trim, want_trim);
        CHECK_ERR(get, want_get);
        CHECK(value.ptr == want_value.ptr && value.len == want_value.len);
    }
}

static void json_readers(void)
{
    static uint8_t buf[4096];
    for (int i = 0; i < 3000; i++) {
        size_t pad = rng() % 70, n = pad;
        memset(buf, ' ', pad);
        n += gen_value(buf + pad, 3000, 0);
        readers_same(buf, n);
        if (n > 2) /* cut anywhere: the readers must stay in bounds and agree */
            readers_same(buf, rng() % n);
    }
}

/* ---------------------------------------------------------------- UTF-8 */

static void utf8_same(const uint8_t *p, size_t n)
{
    sio_err want = SIO_OK, want_inc = SIO_OK;
    size_t want_at = 0, want_inc_at = 0;
    for (int k = 0; k < npaths; k++) {
        sio_simd_select(paths[k]);
        size_t at = 0, inc_at = 0;
        sio_err one = sio_utf8_validate(p, n, &at);
        /* in two pieces, cut in the middle */
        sio_utf8_state st;
        sio_utf8_init(&st);
        size_t cut = n / 2, bad = 0;
        sio_err inc = sio_utf8_feed(&st, p, cut, &bad);
        if (inc == SIO_OK) {
            inc = sio_utf8_feed(&st, p + cut, n - cut, &bad);
            inc_at = cut + bad;
        } else {
            inc_at = bad;
        }
        if (inc == SIO_OK && !sio_utf8_complete(&st))
            inc = SIO_ERR_UTF8_TRUNCATED;
        if (one == SIO_OK)
            at = 0;
        if (inc == SIO_OK || inc == SIO_ERR_UTF8_TRUNCATED)
            inc_at = 0;
        if (k == 0) {
            want = one, want_at = at, want_inc = inc, want_inc_at = inc_at;
            continue;
        }
        CHECK_ERR(one, want);
        CHECK_EQ_INT(at, want_at);
        CHECK_ERR(inc, want_inc);
        CHECK_EQ_INT(inc_at, want_inc_at);
    }
}

static void utf8_everywhere(void)
{
    static const char *const seqs[] = {
        "\xc3\xa9",
        "\xe6\x97\xa5",
        "\xf0\x9f\x99\x82",
        "\xc3",
        "\xe6\x97",
        "\xf0\x9f\x99",
        "\x80",
        "\xbf",
        "\xc0\xaf",
        "\xc1\xbf",
        "\xe0\x80\x80",
        "\xed\xa0\x80",
        "\xf0\x80\x80\x80",
        "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80",
        "\xff",
        "\xef\xbf\xbf",
        "\xf4\x8f\xbf\xbf",
        "\xe0\xa0\x80",
        "\xed\x9f\xbf",
        /* a valid character, then an error: the two on each side of a tail's first byte */
        "\xc3\xa9\x80",
        "\xf0\x9f\x99\x82\xc3",
        "\xe6\x97\xa5\xe6\x97",
    };
    uint8_t buf[300];
    for (size_t s = 0; s < sizeof seqs / sizeof seqs[0]; s++) {
        size_t len = strlen(seqs[s]);
        for (size_t at = 0; at < 140; at++) {
            for (size_t tail = 0; tail < 40; tail += 13) {
                memset(buf, 'a', at);
                memcpy(buf + at, seqs[s], len);
                memset(buf + at + len, 'b', tail);
                utf8_same(buf, at + len + tail);
            }
        }
    }
    static uint8_t big[2048];
    for (int i = 0; i < 5000; i++) {
        size_t n = rng() % sizeof big;
        for (size_t k = 0; k < n; k++) {
            uint64_t r = rng();
            /* mostly text, some multi-byte characters, rarely a stray byte */
            if (r % 8 < 5)
                big[k] = (uint8_t)(' ' + r % 90);
            else if (r % 8 < 7 && k + 3 < n)
                k += (size_t)snprintf((char *)big + k, 5, "%s", seqs[(r >> 8) % 3]) - 1;
            else
                big[k] = (uint8_t)(r >> 16);
        }
        utf8_same(big, n);
    }
}

/* ---------------------------------------------------------------- WebSocket masking */

/* Every path unmasks alike and says alike whether the result is all ASCII (which the frame
 * parser reads to skip a text piece's UTF-8 check): random bytes, and ASCII text with one byte
 * above 0x7F put at every position in turn, each at several lengths, start offsets and key
 * offsets around the 4-, 8-, 16- and 32-byte steps. */
static void mask_same(const uint8_t *src, size_t size, size_t start, size_t len, uint64_t offset)
{
    static uint8_t want[600], got[600];
    const uint8_t key[4] = {0x37, 0xFA, 0x21, 0x3D};
    sio_simd_select(SIO_SIMD_SCALAR);
    memcpy(want, src, size);
    bool want_ascii = sio__ws_mask_ascii(want + start, len, key, offset);
    bool ascii = true;
    for (size_t i = 0; i < len; i++)
        ascii = ascii && want[start + i] < 0x80;
    CHECK(want_ascii == ascii);
    for (int k = 1; k < npaths; k++) {
        sio_simd_select(paths[k]);
        memcpy(got, src, size);
        CHECK(sio__ws_mask_ascii(got + start, len, key, offset) == want_ascii);
        CHECK(memcmp(got, want, size) == 0);
        memcpy(got, src, size);
        sio_ws_mask(got + start, len, key, offset);
        CHECK(memcmp(got, want, size) == 0);
    }
}

static void mask_everywhere(void)
{
    static uint8_t src[600], text[80];
    const uint8_t key[4] = {0x37, 0xFA, 0x21, 0x3D};
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)rng();
    for (size_t len = 0; len < 300; len += 1 + len / 16)
        for (uint64_t offset = 0; offset < 9; offset++)
            for (size_t start = 0; start < 5; start++)
                mask_same(src, sizeof src, start, len, offset);
    for (size_t len = 1; len <= 72; len++) {
        for (size_t high = 0; high <= len; high++) { /* high == len: all ASCII */
            for (uint64_t offset = 0; offset < 4; offset++) {
                for (size_t i = 0; i < sizeof text; i++) /* masked ASCII: unmasks to 'a'.. */
                    text[i] = (uint8_t)(('a' + (i + len) % 26) ^ key[(offset + i) & 3u]);
                if (high < len)
                    text[high] = (uint8_t)(0xC3 ^ key[(offset + high) & 3u]);
                mask_same(text, sizeof text, 0, len, offset);
            }
        }
    }
}

/* ---------------------------------------------------------------- base64 */

/* Decodes with room for `cap` bytes (the buffers hold 1024 and a guard after them): every path
 * gives the same error, count and bytes, and none writes past `cap`. */
static void base64_same_cap(const uint8_t *p, size_t n, size_t cap)
{
    static uint8_t want[2][1024 + 32], got[1024 + 32];
    sio_err want_err[2] = {SIO_OK, SIO_OK};
    size_t want_n[2] = {0, 0};
    for (int k = 0; k < npaths; k++) {
        sio_simd_select(paths[k]);
        for (int mode = 0; mode < 2; mode++) {
            size_t w = 0;
            uint8_t *out = k == 0 ? want[mode] : got;
            memset(out, 0xA5, 1024 + 32);
            sio_err e = sio_base64_decode(p, n, (sio_base64_mode)mode, out, cap, &w);
            for (size_t g = cap; g < 1024 + 32; g++)
                CHECK(out[g] == 0xA5);
            if (k == 0) {
                want_err[mode] = e, want_n[mode] = w;
                continue;
            }
            CHECK_ERR(e, want_err[mode]);
            CHECK_EQ_INT(w, want_n[mode]);
            CHECK(memcmp(got, want[mode], cap) == 0);
        }
    }
}

/* As the decoder is called with room to spare, and with exactly the room the text needs, one
 * byte less and 23 bytes less (a vector block writes 24). */
static void base64_same(const uint8_t *p, size_t n)
{
    base64_same_cap(p, n, 1024);
    size_t need = n / 4 * 3;
    for (size_t less = 0; less < 4; less++)
        if (need >= less && need - less <= 1024)
            base64_same_cap(p, n, need - less);
    if (need >= 23 && need - 23 <= 1024)
        base64_same_cap(p, n, need - 23);
}

#define ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

static char base64_alphabet_at(size_t i)
{
    return ALPHABET[i % 64];
}

static void base64_everywhere(void)
{
    static uint8_t raw[700], text[1000];
    for (int i = 0; i < 3000; i++) {
        size_t n = rng() % 700, w = 0;
        for (size_t k = 0; k < n; k++)
            raw[k] = (uint8_t)rng();
        sio_base64_encode(raw, n, text, sizeof text, &w);
        base64_same(text, w);
        if (w > 0) { /* one byte changed: outside the alphabet, '=', a url-safe character */
            const uint8_t swaps[] = {'*', '=', '-', '_', 0xC3, ' '};
            text[rng() % w] = swaps[rng() % sizeof swaps];
            base64_same(text, w);
        }
    }
    /* Every byte value at every position of 96 characters (three vector blocks): the vector
     * decoder must take a block exactly when every character in it is of the alphabet. */
    for (unsigned b = 0; b < 256; b++) {
        for (size_t at = 0; at < 96; at += 1 + (b & 7)) {
            for (size_t i = 0; i < 96; i++)
                text[i] = (uint8_t)base64_alphabet_at(i * 7 + b);
            text[at] = (uint8_t)b;
            base64_same_cap(text, 96, 1024);
#if SIO__HAVE_X86
            /* Taking fewer blocks would be correct but slow: that counts as a failure too. */
            if (sio_simd_available(SIO_SIMD_AVX2)) {
                bool alphabet = memchr(ALPHABET, (int)b, 64) != NULL && b != 0;
                CHECK_EQ_INT(sio__base64_plain_blocks_avx2(text, 96), alphabet ? 96 : at / 32 * 32);
            }
#endif
        }
    }
}

/* ---------------------------------------------------------------- placeholder walk */

/* Appends one piece of a binary event's payload: strings holding the bytes the walk stops at
 * (escaped quotes and backslashes, brackets), placeholder objects with good and bad numbers,
 * member names that only look like "_placeholder", nesting, whitespace. */
static size_t ph_piece(char *out, size_t cap, bool harmless)
{
    static const char *const pieces[] = {
        "\"a[b]{c}\"",
        "\"\\\"{\\\\\"",
        "\"x\\\\\"",
        "{\"_placeholder\":true,\"num\":0}",
        "{\"_placeholder\":true,\"num\":2}",
        "{\"num\":1,\"_placeholder\":true}",
        "{\"_placeholder\":true,\"num\":-1}",
        "{\"_placeholder\":true,\"num\":1.0}",
        "{\"_placeholder\":true,\"num\":\"0\"}",
        "{\"_placeholder\":true,\"num\":12345678901234567890}",
        "{\"_placeholder\":true}",
        "{\"_placeholder\":false,\"num\":9}",
        "{\"\\u005fplaceholder\":true,\"num\":7}",
        "{\"n\\u0075m\":0,\"_placeholder\":true}",
        "[[{\"k\":[1,{\"_placeholder\":true,\"num\":1}]}]]",
        " { \"_placeholder\" : true , \"num\" : 0 } ",
        "\"\u00e9t\u00e9 [\"",
        "123",
        "null",
    };
    /* the pieces that are no error with one attachment or more */
    static const int harmless_pieces[] = {0, 1, 2, 3, 11, 13, 15, 16, 17, 18};
    const char *piece =
        harmless ? pieces[harmless_pieces[rng() % (sizeof harmless_pieces / sizeof(int))]]
                 : pieces[rng() % (sizeof pieces / sizeof pieces[0])];
    size_t n = strlen(piece);
    if (n > cap)
        return 0;
    memcpy(out, piece, n);
    return n;
}

/* The walk with the AVX2 stop masks (texts up to 512 bytes) gives the scalar walk's error and
 * offset for texts of every length around the 32- and 64-byte steps of the masks and the
 * 512-byte bound past which they are not used. */
static void placeholders_everywhere(void)
{
    static char text[700];
    for (int round = 0; round < 4000; round++) {
        /* every other text: one piece that may be an error among harmless ones, so that each
         * kind of error is the first one somewhere */
        size_t target = 2 + rng() % 620, n = 0, odd_one = round % 2 ? rng() % 24 : SIZE_MAX;
        text[n++] = '[';
        for (size_t piece = 0; n < target; piece++) {
            if (n > 1)
                text[n++] = ',';
            bool harmless = odd_one != SIZE_MAX && piece != odd_one;
            size_t k = ph_piece(text + n, sizeof text - n - 2, harmless);
            if (k == 0)
                break;
            n += k;
        }
        text[n++] = ']';
        if (sio_json_validate((const uint8_t *)text, n, NULL, NULL) != SIO_OK) {
            check_failed++;
            fprintf(stderr, "placeholder text not valid JSON: %.*s\n", (int)n, text);
            continue;
        }
        sio_span data = sio_span_of((const uint8_t *)text, n);
        for (uint32_t attachments = 1; attachments <= 3; attachments += 2) {
            size_t want_at = 0;
            sio_simd_select(SIO_SIMD_SCALAR);
            sio_err want = sio__pkt_check_validated_placeholders(data, attachments, &want_at);
            for (int k = 1; k < npaths; k++) {
                size_t at = 0;
                sio_simd_select(paths[k]);
                CHECK_ERR(sio__pkt_check_validated_placeholders(data, attachments, &at), want);
                CHECK_EQ_INT(at, want_at);
            }
        }
    }
}

int main(void)
{
    find_paths();
    CHECK(npaths >= 1 && paths[0] == SIO_SIMD_SCALAR);
    printf("paths compared with scalar:");
    for (int k = 1; k < npaths; k++)
        printf(" %s", sio_simd_path_name(paths[k]));
    printf("\n");
    sio_simd_path before = sio_simd_selected();
    json_cases_everywhere();
    json_backslash_runs();
    json_sequences();
    json_long_atoms();
    json_literals_then_zeros();
    json_literals_everywhere();
    json_utf8_tails();
    json_depths();
    json_random();
    json_readers();
    utf8_everywhere();
    mask_everywhere();
    base64_everywhere();
    placeholders_everywhere();
    sio_simd_select(before);
    CHECK_DONE();
}
