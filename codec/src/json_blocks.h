/* JSON validation 64 bytes at a time, for the vector paths (scan_avx2.c).
 *
 * In two stages, after the structural indexing of simdjson (Langdale and Lemire, "Parsing
 * gigabytes of JSON per second", 2019):
 *
 *   1. a vector path classifies one 64-byte block into bit masks, bit i for byte i (quotes,
 *      backslashes, whitespace, the structural bytes , : [ ] { }, control bytes, bytes >= 0x80)
 *      and says whether the block is valid UTF-8 as far as it goes. On the masks: each backslash
 *      not itself escaped escapes the next byte, which must be one of " \ / b f n r t u (\u:
 *      four hex digits, surrogates in pairs, checked on the bytes); the unescaped quotes,
 *      prefix-XORed, mark the bytes inside strings (the opening quote included, the closing one
 *      not); a control byte inside a string, a backslash or a byte >= 0x80 outside one is an
 *      error. What is left are the tokens: the structural bytes outside strings, the opening
 *      quotes, and the first byte of each atom (a run of other bytes outside strings: a number
 *      or a literal, checked on its bytes, together with the byte after it);
 *   2. the grammar walks the tokens alone, one table look-up each: a state (what may come next)
 *      and the token's class give the next state, or the opening or closing of a container,
 *      whose stack holds the state to resume after it. String contents and whitespace are never
 *      visited.
 *
 * The string state, the atom run and the escape carry over from one block to the next, and so
 * do the grammar's state and stack. It only ever answers "valid" or "not sure": any doubt (an
 * error of any kind, a nesting deeper than max_depth) returns false, and the scalar validator
 * then decides and reports the error and its offset. So the vector paths accept exactly what
 * the scalar path accepts and never need to reproduce its error reporting. */
#ifndef SIO_JSON_BLOCKS_H
#define SIO_JSON_BLOCKS_H

#include <string.h>

#include "sio/json.h"

/* One block's classification, bit i for byte i. */
typedef struct json_block_masks {
    uint64_t quote, backslash, ws, structural, digit, zero, ctrl, high;
    uint64_t simple_escape, u; /* " \ / b f n r t, and u (only when there is a backslash) */
    bool utf8_error;           /* the block (with the bytes before it) is not valid UTF-8 */
} json_block_masks;

#define JSON_INLINE __attribute__((always_inline)) static inline

/* Escapes are rare: their state lives apart from the rest, behind a function call. */
typedef struct json_escapes_state {
    const uint8_t *p;
    size_t n;
    uint64_t carry;        /* 1 when the next block's first byte is escaped */
    size_t pair_backslash; /* the backslash of a low surrogate already checked with its pair */
} json_escapes_state;

/* The grammar's states: what the next token may be. */
enum {
    JSON_ST_START,        /* the top value */
    JSON_ST_VALUE_OBJECT, /* a member's value, after ':' */
    JSON_ST_VALUE_ARRAY,  /* an element, after ',' */
    JSON_ST_ARRAY_FIRST,  /* an element or ']', after '[' */
    JSON_ST_KEY,          /* a member name, after ',' */
    JSON_ST_OBJECT_FIRST, /* a member name or '}', after '{' */
    JSON_ST_COLON,        /* ':' after a member name */
    JSON_ST_AFTER_OBJECT, /* ',' or '}' after a member's value */
    JSON_ST_AFTER_ARRAY,  /* ',' or ']' after an element */
    JSON_ST_END           /* nothing: the top value is complete */
};

/* The transitions live in registers, not in a table in memory, so that a token costs the state
 * a shift and a mask rather than a load: for each kind of token a 64-bit row holds the next
 * state of every state, six bits each (state k's at bits 6k..6k+5). A state is kept as six times
 * its number, the shift that reads its entry; entries from 56 on are actions. Opening a
 * container is six actions, by kind and by where the grammar resumes once it closes (at the top,
 * in an object, in an array), so that the action alone says both. */
#define JSON_SHIFT(state) (6 * (state))
enum { JSON_DO_CLOSE = 56, JSON_DO_FAIL, JSON_DO_OPEN };
#define JSON_OPEN(resume, is_array) (JSON_DO_OPEN + 2 * (resume) + (is_array))
/* The states to resume at, by the `resume` of JSON_OPEN: 0, 1, 2. */
#define JSON_RESUME_SHIFTS                                                                         \
    (JSON_SHIFT(JSON_ST_END) | JSON_SHIFT(JSON_ST_AFTER_OBJECT) << 6 |                             \
     JSON_SHIFT(JSON_ST_AFTER_ARRAY) << 12)
#define JSON_ENTRY(state, next) ((uint64_t)(next) << JSON_SHIFT(state))
/* Every entry JSON_DO_FAIL but the ones given. */
#define JSON_ALL_FAIL                                                                              \
    (JSON_ENTRY(0, JSON_DO_FAIL) | JSON_ENTRY(1, JSON_DO_FAIL) | JSON_ENTRY(2, JSON_DO_FAIL) |     \
     JSON_ENTRY(3, JSON_DO_FAIL) | JSON_ENTRY(4, JSON_DO_FAIL) | JSON_ENTRY(5, JSON_DO_FAIL) |     \
     JSON_ENTRY(6, JSON_DO_FAIL) | JSON_ENTRY(7, JSON_DO_FAIL) | JSON_ENTRY(8, JSON_DO_FAIL) |     \
     JSON_ENTRY(9, JSON_DO_FAIL))
#define JSON_SET(state, next) (JSON_ENTRY(state, JSON_DO_FAIL ^ (next)))
/* (JSON_ALL_FAIL ^ JSON_SET(k, x) puts x in entry k.) */
#define JSON_OPENS(is_array)                                                                       \
    (JSON_SET(JSON_ST_START, JSON_OPEN(0, is_array)) |                                             \
     JSON_SET(JSON_ST_VALUE_OBJECT, JSON_OPEN(1, is_array)) |                                      \
     JSON_SET(JSON_ST_VALUE_ARRAY, JSON_OPEN(2, is_array)) |                                       \
     JSON_SET(JSON_ST_ARRAY_FIRST, JSON_OPEN(2, is_array)))
/* A string or an atom completes a value: where the grammar goes next, by where it stood. */
#define JSON_VALUE_DONE                                                                            \
    (JSON_SET(JSON_ST_START, JSON_SHIFT(JSON_ST_END)) |                                            \
     JSON_SET(JSON_ST_VALUE_OBJECT, JSON_SHIFT(JSON_ST_AFTER_OBJECT)) |                            \
     JSON_SET(JSON_ST_VALUE_ARRAY, JSON_SHIFT(JSON_ST_AFTER_ARRAY)) |                              \
     JSON_SET(JSON_ST_ARRAY_FIRST, JSON_SHIFT(JSON_ST_AFTER_ARRAY)))

#define JSON_ROW_ATOM (JSON_ALL_FAIL ^ JSON_VALUE_DONE)
#define JSON_ROW_QUOTE                                                                             \
    (JSON_ALL_FAIL ^ JSON_VALUE_DONE ^ JSON_SET(JSON_ST_KEY, JSON_SHIFT(JSON_ST_COLON)) ^          \
     JSON_SET(JSON_ST_OBJECT_FIRST, JSON_SHIFT(JSON_ST_COLON)))
#define JSON_ROW_OPEN_OBJECT (JSON_ALL_FAIL ^ JSON_OPENS(0))
#define JSON_ROW_OPEN_ARRAY  (JSON_ALL_FAIL ^ JSON_OPENS(1))
#define JSON_ROW_CLOSE_OBJECT                                                                      \
    (JSON_ALL_FAIL ^ JSON_SET(JSON_ST_OBJECT_FIRST, JSON_DO_CLOSE) ^                               \
     JSON_SET(JSON_ST_AFTER_OBJECT, JSON_DO_CLOSE))
#define JSON_ROW_CLOSE_ARRAY                                                                       \
    (JSON_ALL_FAIL ^ JSON_SET(JSON_ST_ARRAY_FIRST, JSON_DO_CLOSE) ^                                \
     JSON_SET(JSON_ST_AFTER_ARRAY, JSON_DO_CLOSE))
#define JSON_ROW_COMMA                                                                             \
    (JSON_ALL_FAIL ^ JSON_SET(JSON_ST_AFTER_OBJECT, JSON_SHIFT(JSON_ST_KEY)) ^                     \
     JSON_SET(JSON_ST_AFTER_ARRAY, JSON_SHIFT(JSON_ST_VALUE_ARRAY)))
#define JSON_ROW_COLON (JSON_ALL_FAIL ^ JSON_SET(JSON_ST_COLON, JSON_SHIFT(JSON_ST_VALUE_OBJECT)))

/* The row of each byte that starts a token: every byte but the seven structural ones starts an
 * atom (the atom check judges it). One line per high nibble. */
#define A               JSON_ROW_ATOM
#define JSON_ROW16_ATOM A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A
/* clang-format off */
static const uint64_t json_token_row[256] = {
    JSON_ROW16_ATOM, /* 0x00 */
    JSON_ROW16_ATOM, /* 0x10 */
    A, A, JSON_ROW_QUOTE, A, A, A, A, A, A, A, A, A, JSON_ROW_COMMA, A, A, A, /* 0x20 */
    A, A, A, A, A, A, A, A, A, A, JSON_ROW_COLON, A, A, A, A, A, /* 0x30 */
    JSON_ROW16_ATOM, /* 0x40 */
    A, A, A, A, A, A, A, A, A, A, A, JSON_ROW_OPEN_ARRAY, A, JSON_ROW_CLOSE_ARRAY, A, A, /* 0x50 */
    JSON_ROW16_ATOM, /* 0x60 */
    A, A, A, A, A, A, A, A, A, A, A, JSON_ROW_OPEN_OBJECT, A, JSON_ROW_CLOSE_OBJECT, A, A, /* 0x70 */
    JSON_ROW16_ATOM, /* 0x80 */
    JSON_ROW16_ATOM, /* 0x90 */
    JSON_ROW16_ATOM, /* 0xA0 */
    JSON_ROW16_ATOM, /* 0xB0 */
    JSON_ROW16_ATOM, /* 0xC0 */
    JSON_ROW16_ATOM, /* 0xD0 */
    JSON_ROW16_ATOM, /* 0xE0 */
    JSON_ROW16_ATOM, /* 0xF0 */
};
/* clang-format on */
#undef JSON_ROW16_ATOM
#undef A

typedef struct json_walk {
    const uint8_t *p;
    size_t n;
    uint64_t in_string;   /* all ones when a string is open at the end of the last block */
    uint64_t atom_carry;  /* 1 when the last block ended inside an atom */
    uint64_t digit_carry; /* 1 when a run of digits starting an atom reached the block's end */
    uint64_t zero_carry;  /* 1 when an atom started with '0' at the last byte of the block */
    uint32_t state;       /* JSON_SHIFT of the grammar's state */
    uint32_t depth, max_depth;
    uint8_t *resume; /* resume[d]: the state after the container at depth d + 1 closes */
} json_walk;

JSON_INLINE void json_walk_init(json_walk *w, json_escapes_state *es, uint8_t *resume,
                                const uint8_t *p, size_t n, uint32_t max_depth)
{
    memset(w, 0, sizeof *w);
    w->p = es->p = p;
    w->n = es->n = n;
    w->state = JSON_SHIFT(JSON_ST_START);
    w->max_depth = max_depth;
    w->resume = resume;
    es->carry = 0;
    es->pair_backslash = SIZE_MAX;
}

JSON_INLINE unsigned json_ctz64(uint64_t x)
{
    return (unsigned)__builtin_ctzll(x);
}

/* Bit i of the result is the XOR of bits 0..i: 1 inside a string that opened in this block.
 * Each vector path gives its own (a carry-less multiply where there is one). */
typedef uint64_t (*json_prefix_xor_fn)(uint64_t x);

/* Bytes that may follow an atom: whitespace, punctuation, a quote. */
static const uint8_t json_atom_end[256] = {
    [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [','] = 1, [':'] = 1,
    ['['] = 1, [']'] = 1,  ['{'] = 1,  ['}'] = 1,  ['"'] = 1,
};

/* Bytes that may follow a backslash, \u apart. */
static const uint8_t json_simple_escape[256] = {
    ['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1, ['f'] = 1, ['n'] = 1, ['r'] = 1, ['t'] = 1,
};

static inline bool json_hex4(const uint8_t *p, size_t n, size_t i, uint32_t *v)
{
    if (i > n || n - i < 4)
        return false;
    uint32_t x = 0;
    for (size_t k = 0; k < 4; k++) {
        uint8_t c = p[i + k], d;
        if (c >= '0' && c <= '9')
            d = (uint8_t)(c - '0');
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (uint8_t)((c | 0x20) - 'a' + 10);
        else
            return false;
        x = x << 4 | d;
    }
    *v = x;
    return true;
}

/* p[at] is the 'u' of "\u". A high surrogate must be followed at once by an escaped low one;
 * that second backslash is noted so the escape loop does not judge it alone. */
static bool json_u_escape_ok(json_escapes_state *es, size_t at)
{
    const uint8_t *p = es->p;
    uint32_t hi, lo;
    if (!json_hex4(p, es->n, at + 1, &hi) || (hi >= 0xDC00 && hi <= 0xDFFF))
        return false;
    if (hi < 0xD800 || hi > 0xDBFF)
        return true;
    if (es->n - at < 11 || p[at + 5] != '\\' || p[at + 6] != 'u' ||
        !json_hex4(p, es->n, at + 7, &lo) || lo < 0xDC00 || lo > 0xDFFF)
        return false;
    es->pair_backslash = at + 5;
    return true;
}

/* Bit i set when byte i of the block is escaped: it follows a run of backslashes of odd length.
 * *carry brings in 1 when the last block's final byte escapes this block's first, and takes out
 * the same for the next block. A run's length is odd when it starts and ends (at the byte after
 * it) on positions of different parity; adding each run's first bit to the backslash mask
 * carries it to that end. Runs starting on even and on odd positions are added apart, so that
 * each sum's carries stay within its own runs. */
JSON_INLINE uint64_t json_escaped(uint64_t backslash, uint64_t *carry)
{
    const uint64_t even = UINT64_C(0x5555555555555555);
    uint64_t first = *carry;
    backslash &= ~first; /* an escaped backslash is content */
    uint64_t starts = backslash & ~(backslash << 1);
    /* (A run reaching the block's end from an even position is even: it escapes nothing beyond;
     * from an odd one it is odd, and the next block's first byte is escaped.) */
    uint64_t even_ends = backslash + (starts & even), odd_ends;
    *carry = __builtin_add_overflow(backslash, starts & ~even, &odd_ends);
    return ((even_ends & ~backslash & ~even) | (odd_ends & ~backslash & even)) | first;
}

/* The \u escapes among the escaped bytes `u` of the block at `base` (bit i for its 'u'), each
 * with its four hex digits and, for a high surrogate, the low one after it. */
__attribute__((noinline)) static bool json_u_escapes_ok(json_escapes_state *es, uint64_t u,
                                                        size_t base)
{
    for (; u; u &= u - 1) {
        size_t at = base + json_ctz64(u);
        if (at - 1 == es->pair_backslash)
            continue; /* the low half of a pair, checked with its high half */
        if (!json_u_escape_ok(es, at))
            return false;
    }
    return true;
}

/* The escaped bytes of the block at `base` (from `block`), each checked: one of " \ / b f n r t,
 * or u with what must follow it. */
JSON_INLINE bool json_escapes_ok(json_escapes_state *es, const json_block_masks *m,
                                 const uint8_t *block, size_t base, uint64_t *escaped)
{
    uint64_t esc = json_escaped(m->backslash, &es->carry);
    uint64_t simple = m->simple_escape, u = m->u;
    if (m->backslash == 0) {
        /* Only the first byte is escaped (by the last block), and the classifier, seeing no
         * backslash, left these masks out. */
        simple = json_simple_escape[block[0]];
        u = block[0] == 'u';
    }
    if (esc & ~(simple | u))
        return false;
    *escaped = esc;
    return !(esc & u) || json_u_escapes_ok(es, esc & u, base);
}

/* Index just past the number starting at p[i], or 0 when none starts there:
 * number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ("e"/"E") [ "+"/"-" ] 1*DIGIT ] */
static inline size_t json_number_end(const uint8_t *p, size_t n, size_t i)
{
    if (p[i] == '-' && ++i == n)
        return 0;
    if (p[i] == '0') {
        i++;
    } else if ((uint8_t)(p[i] - '1') <= 8) {
        for (i++; i < n && (uint8_t)(p[i] - '0') <= 9; i++) {
        }
    } else {
        return 0;
    }
    if (i < n && p[i] == '.') {
        size_t start = ++i;
        while (i < n && (uint8_t)(p[i] - '0') <= 9)
            i++;
        if (i == start)
            return 0;
    }
    if (i < n && (p[i] | 0x20) == 'e') {
        if (++i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        size_t start = i;
        while (i < n && (uint8_t)(p[i] - '0') <= 9)
            i++;
        if (i == start)
            return 0;
    }
    return i;
}

/* The atom starting at p[i] is a number or a literal, followed by the end or a delimiter. */
static bool json_atom_slow(const uint8_t *p, size_t n, size_t i)
{
    size_t end;
    switch (p[i]) {
    case 't':
        end = n - i >= 4 && memcmp(p + i, "true", 4) == 0 ? i + 4 : 0;
        break;
    case 'f':
        end = n - i >= 5 && memcmp(p + i, "false", 5) == 0 ? i + 5 : 0;
        break;
    case 'n':
        end = n - i >= 4 && memcmp(p + i, "null", 4) == 0 ? i + 4 : 0;
        break;
    default:
        end = json_number_end(p, n, i);
    }
    return end != 0 && (end == n || json_atom_end[p[end]]);
}

/* As json_atom_slow; the literals are compared as one 8-byte word, without a branch on which
 * literal it is (true and false come in random order). */
JSON_INLINE bool json_atom_ok(const uint8_t *p, size_t n, size_t i)
{
    if (n - i < 8)
        return json_atom_slow(p, n, i);
    uint64_t x;
    memcpy(&x, p + i, 8);
    uint32_t w4 = (uint32_t)x, w_true, w_null, w_fals;
    memcpy(&w_true, "true", 4);
    memcpy(&w_null, "null", 4);
    memcpy(&w_fals, "fals", 4);
    unsigned four = (w4 == w_true) | (w4 == w_null);
    unsigned five = (w4 == w_fals) & ((uint8_t)(x >> 32) == 'e');
    unsigned after = (uint8_t)(x >> (32 + 8 * five));
    unsigned ok = (four | five) & json_atom_end[after];
    return ok || json_atom_slow(p, n, i);
}

/* Checks the atom whose run of digits from its start ends at p[at] (a non-digit that is still
 * part of the atom, as in 1.5 or 2e3): the digits are walked back to the atom's start. */
static bool json_digit_atom_ok(const uint8_t *p, size_t n, size_t at)
{
    size_t start = at;
    while (start > 0 && (uint8_t)(p[start - 1] - '0') <= 9)
        start--;
    return json_atom_ok(p, n, start);
}

/* a + b, where b's bit 0 also brings in *carry (the callers' b never has bit 0 set when a carry
 * comes in); *carry becomes the carry out. */
JSON_INLINE uint64_t json_add(uint64_t a, uint64_t b, uint64_t *carry)
{
    uint64_t sum = a + (b | *carry);
    *carry = sum < a;
    return sum;
}

/* Atoms that start with a digit are numbers made of digits alone when the run of digits from
 * their start (found by one addition: the carry runs through it) ends where the atom does; then
 * only a leading zero can be wrong, and the run after a '0' must end at once. The others (a
 * sign, a fraction, an exponent, a literal, garbage) are checked on their bytes. */
JSON_INLINE bool json_atoms_ok(json_walk *w, const json_block_masks *m, uint64_t other,
                               uint64_t atom_start, size_t base)
{
    uint64_t digits = other & m->digit;
    uint64_t digit_start = atom_start & m->digit;
    uint64_t run_end = json_add(digits, digit_start, &w->digit_carry) & ~digits;
    uint64_t zero_start = atom_start & m->zero;
    uint64_t zero_ok = zero_start << 1 | w->zero_carry;
    w->zero_carry = zero_start >> 63;
    if (zero_ok & ~run_end)
        return false;
    for (uint64_t longer = run_end & other; longer; longer &= longer - 1)
        if (!json_digit_atom_ok(w->p, w->n, base + json_ctz64(longer)))
            return false;
    for (uint64_t others = atom_start & ~m->digit; others; others &= others - 1)
        if (!json_atom_ok(w->p, w->n, base + json_ctz64(others)))
            return false;
    return true;
}

/* The tokens of one block (block: the bytes classified, p + base or a padded copy), in order,
 * through the grammar. */
JSON_INLINE bool json_walk_tokens(json_walk *w, const uint8_t *block, uint64_t tokens)
{
    uint32_t state = w->state, depth = w->depth;
    while (tokens) {
        unsigned k = json_ctz64(tokens);
        tokens &= tokens - 1;
        state = (uint32_t)(json_token_row[block[k]] >> state) & 63;
        if (state < JSON_DO_CLOSE)
            continue;
        if (state == JSON_DO_CLOSE) {
            state = w->resume[--depth];
            continue;
        }
        if (state == JSON_DO_FAIL || depth >= w->max_depth)
            return false;
        uint32_t open = state - JSON_DO_OPEN;
        w->resume[depth++] = (uint8_t)((JSON_RESUME_SHIFTS >> (6 * (open >> 1))) & 63);
        state = open & 1 ? JSON_SHIFT(JSON_ST_ARRAY_FIRST) : JSON_SHIFT(JSON_ST_OBJECT_FIRST);
    }
    w->state = state;
    w->depth = depth;
    return true;
}

/* Everything after classification, for the block at p[base] (classified from `block`). */
JSON_INLINE bool json_walk_block(json_walk *w, json_escapes_state *es, const json_block_masks *m,
                                 const uint8_t *block, size_t base, json_prefix_xor_fn prefix_xor)
{
    uint64_t escaped = 0;
    if ((m->backslash | es->carry) && !json_escapes_ok(es, m, block, base, &escaped))
        return false;
    uint64_t quote = m->quote & ~escaped;
    uint64_t in_string = prefix_xor(quote) ^ w->in_string;
    w->in_string = (uint64_t)0 - (in_string >> 63);
    uint64_t outside = ~in_string;
    /* Control bytes inside strings, backslashes or bytes >= 0x80 outside them. */
    uint64_t bad = (m->ctrl & in_string) | ((m->backslash | m->high) & outside);
    if (bad | m->utf8_error)
        return false;
    uint64_t other = ~(m->ws | m->structural | quote | in_string);
    uint64_t atom_start = other & ~(other << 1 | w->atom_carry);
    w->atom_carry = other >> 63;
    uint64_t tokens = (m->structural & outside) | (quote & in_string) | atom_start;
    return json_walk_tokens(w, block, tokens) && json_atoms_ok(w, m, other, atom_start, base);
}

/* After the last block: the top value complete, no string left open. */
JSON_INLINE bool json_walk_finish(const json_walk *w)
{
    return w->state == JSON_SHIFT(JSON_ST_END) && w->in_string == 0;
}

/* The block loop each vector path runs with its own classifier: `classify` fills the masks of
 * one 64-byte block, carrying the UTF-8 state `u8` from block to block, `u8_pending` says
 * whether the text ends inside a character, and `prefix_xor` is the path's prefix XOR. The last, partial block is classified from a copy
 * padded with spaces, which are whitespace to the grammar and ASCII to UTF-8. Inlined into each
 * path, where both functions are known and inlined too. */
typedef void (*json_classify_fn)(const uint8_t *p, void *u8, json_block_masks *m);
typedef bool (*json_u8_pending_fn)(const void *u8);

JSON_INLINE bool json_accept_blocks(const uint8_t *p, size_t n, uint32_t max_depth,
                                    json_classify_fn classify, json_u8_pending_fn u8_pending,
                                    json_prefix_xor_fn prefix_xor, void *u8)
{
    json_walk w;
    json_escapes_state es;
    uint8_t resume[SIO_JSON_MAX_DEPTH_CAP];
    json_block_masks m;
    json_walk_init(&w, &es, resume, p, n, max_depth);
    size_t base = 0;
    for (; n - base >= 64; base += 64) {
        classify(p + base, u8, &m);
        if (!json_walk_block(&w, &es, &m, p + base, base, prefix_xor))
            return false;
    }
    if (base < n) {
        uint8_t tail[64];
        memset(tail, ' ', sizeof tail);
        memcpy(tail, p + base, n - base);
        classify(tail, u8, &m);
        if (!json_walk_block(&w, &es, &m, tail, base, prefix_xor))
            return false;
    } else if (u8_pending(u8)) {
        return false;
    }
    return json_walk_finish(&w);
}

#endif
