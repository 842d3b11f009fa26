/* JSON validation 64 bytes at a time, for the vector paths (scan_avx2.c).
 *
 * A vector path classifies one 64-byte block into bit masks, bit i for byte i (quotes,
 * backslashes, whitespace, the punctuation , : and the four brackets, digits, '0', control
 * bytes, bytes >= 0x80) and says
 * whether the block is valid UTF-8 as far as it goes. Everything after that is shared and works
 * on whole masks, so that the work per token is a few bit operations and no branch:
 *
 *   1. escapes: each backslash not itself escaped escapes the next byte, which must be one of
 *      " \ / b f n r t u (\u: four hex digits, surrogates in pairs, checked on the bytes);
 *   2. strings: the unescaped quotes, prefix-XORed, mark the bytes inside strings (the opening
 *      quote included, the closing one not);
 *   3. containers: a loop over the brackets alone keeps the stack of open containers and marks
 *      which bytes lie directly inside an object, an array, or neither (the top level);
 *   4. grammar, as successors: every token but the first follows the end of another token,
 *      past whitespace. Adding a token-end mask, shifted by one, to the whitespace mask carries
 *      each bit over the whitespace run after it and lands it on the next token. JSON's grammar
 *      is then a handful of rules on where the tokens after each kind of token land: after '{'
 *      a quote or '}', after ':' a value, after a member name ':', after a value ',' or the
 *      closer of its container, after ',' a member name (in an object) or a value (in an
 *      array). Member names are the strings that land after '{' or after ',' in an object;
 *      their closing quotes are found by adding their opening quotes to the inside-string mask
 *      (the carry runs to the end of the string). Every ':' must land after a member name;
 *   5. atoms (runs of other bytes outside strings): a run of digits is a valid number when it
 *      is the whole atom (found again by one addition) and has no leading zero; any other atom
 *      (true, false, null, a sign, a fraction, an exponent, garbage) is checked byte by byte.
 *
 * Every addition, shift and the string and container state carry over from one block to the
 * next. The text's start is a token end too, so the first token must be a value, and at the end
 * nothing may be pending but the top value's end.
 *
 * It only ever answers "valid" or "not sure": any doubt (an error of any kind, a nesting deeper
 * than max_depth) returns false, and the scalar validator then decides and reports the error
 * and its offset. So the vector paths accept exactly what the scalar path accepts and never
 * need to reproduce its error reporting. */
#ifndef SIO_JSON_BLOCKS_H
#define SIO_JSON_BLOCKS_H

#include <string.h>

#include "sio/json.h"

/* One block's classification, bit i for byte i. */
typedef struct json_block_masks {
    uint64_t quote, backslash, ws, comma, colon, bracket, digit, zero, ctrl, high;
    bool utf8_error; /* the block (with the bytes before it) is not valid UTF-8 */
} json_block_masks;

#define JSON_INLINE __attribute__((always_inline)) static inline

/* Escapes are rare: their state lives apart from the rest, behind a function call. */
typedef struct json_escapes_state {
    const uint8_t *p;
    size_t n;
    uint64_t carry;        /* 1 when the next block's first byte is escaped */
    size_t pair_backslash; /* the backslash of a low surrogate already checked with its pair */
} json_escapes_state;

/* One bit each, carried from a block to the next: a token end whose successor is not found yet
 * (the block ended first, or the whitespace after it did), per kind of token end. */
typedef struct json_pending {
    uint64_t start, open_object, open_array, comma, colon, name, value;
} json_pending;

typedef struct json_walk {
    const uint8_t *p;
    size_t n;
    uint64_t in_string;   /* all ones when a string is open at the end of the last block */
    uint64_t atom_carry;  /* 1 when the last block ended inside an atom */
    uint64_t name_carry;  /* 1 when a member name is open at the end of the last block */
    uint64_t digit_carry; /* 1 when a run of digits starting an atom reached the block's end */
    uint64_t zero_carry;  /* 1 when an atom started with '0' at the last byte of the block */
    json_pending pend;
    uint32_t depth, max_depth;
    uint64_t levels; /* the innermost 64 levels, bit 0 the innermost: 1 for an object */
    uint64_t *stack; /* bit d - 64 for level d + 1 once more than 64 are open */
} json_walk;

JSON_INLINE void json_walk_init(json_walk *w, json_escapes_state *es, uint64_t *stack,
                                const uint8_t *p, size_t n, uint32_t max_depth)
{
    memset(w, 0, sizeof *w);
    w->p = es->p = p;
    w->n = es->n = n;
    w->pend.start = 1;
    w->max_depth = max_depth;
    w->stack = stack;
    es->carry = 0;
    es->pair_backslash = SIZE_MAX;
}

JSON_INLINE unsigned json_ctz64(uint64_t x)
{
    return (unsigned)__builtin_ctzll(x);
}

/* Bit i of the result is the XOR of bits 0..i: 1 inside a string that opened in this block. */
JSON_INLINE uint64_t json_prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/* a + b, where b's bit 0 also brings in *carry (the callers' b never has bit 0 set when a carry
 * comes in); *carry becomes the carry out. */
JSON_INLINE uint64_t json_add(uint64_t a, uint64_t b, uint64_t *carry)
{
    uint64_t sum = a + (b | *carry);
    *carry = sum < a;
    return sum;
}

/* Where the tokens after some token ends stand: `moved` holds the byte after each end, which
 * the addition carries over the whitespace run starting there (if any) onto the next token.
 * *pending brings in an end from the previous block (as the byte before bit 0) and takes out
 * one whose successor lies beyond this block: `next` (an end on the last byte) or one carried
 * past the block's end. */
JSON_INLINE uint64_t json_land(uint64_t moved, uint64_t ws, uint64_t *pending, uint64_t next)
{
    uint64_t landed = json_add(ws, moved, pending) & ~ws;
    *pending |= next;
    return landed;
}

JSON_INLINE uint64_t json_successors(uint64_t ends, uint64_t ws, uint64_t *pending)
{
    return json_land(ends << 1, ws, pending, ends >> 63);
}

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

/* Finds the escaped bytes of the block at `base` and checks each escape: bit i of *escaped is
 * set for an escaped byte (bit 0 when the previous block's last backslash escapes this block's
 * first byte). */
__attribute__((noinline)) static bool json_escapes(json_escapes_state *es, uint64_t backslash,
                                                   size_t base, uint64_t *escaped)
{
    uint64_t esc = es->carry;
    es->carry = 0;
    while (backslash) {
        unsigned k = json_ctz64(backslash);
        backslash &= backslash - 1;
        if ((esc >> k) & 1)
            continue; /* an escaped backslash is content */
        if (k == 63)
            es->carry = 1;
        else
            esc |= (uint64_t)1 << (k + 1);
        if (base + k == es->pair_backslash)
            continue;
        size_t at = base + k + 1;
        if (at >= es->n)
            return false;
        uint8_t e = es->p[at];
        if (e == 'u' ? !json_u_escape_ok(es, at) : !json_simple_escape[e])
            return false;
    }
    *escaped = esc;
    return true;
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

/* Which brackets of a block open, and which belong to objects. */
typedef struct json_brackets {
    uint64_t opens, objects;
} json_brackets;

/* The containers: for each bracket of the block at p[base] (in order) the stack moves, and the
 * bytes after it get the context it leaves. *object and *array come back with the bytes that
 * lie directly inside an object or an array: the loop only notes where each of the two changes
 * (a flip on the byte after the bracket), and a prefix XOR spreads the flips. The innermost 64
 * levels of the stack live in one register (bit 0: the innermost is an object), so a bracket
 * costs a shift, not a load; deeper levels (max_depth above 64) go to w->stack. The bracket's
 * kind is read from its byte: { and [ have bit 1 set, } and ] not; { and } have bit 5 set.
 * False when a bracket does not match or the nesting passes max_depth. */
JSON_INLINE bool json_containers(json_walk *w, uint64_t brackets, size_t base, json_brackets *kinds,
                                 uint64_t *object, uint64_t *array)
{
    uint64_t object_in = (uint64_t)0 - (w->depth > 0 && (w->levels & 1));
    uint64_t array_in = (uint64_t)0 - (w->depth > 0 && !(w->levels & 1));
    uint64_t object_flips = 0, array_flips = 0, opens = 0, objects = 0;
    uint64_t levels = w->levels;
    uint32_t d = w->depth;
    bool in_object = object_in != 0, in_array = array_in != 0;
    const uint8_t *p = w->p + base;
    while (brackets) {
        unsigned b = json_ctz64(brackets);
        uint64_t bit = brackets & (0 - brackets);
        brackets &= brackets - 1;
        uint64_t object = (p[b] >> 5) & 1;
        objects |= bit & (0 - object);
        if (p[b] & 2) {
            if (d >= w->max_depth)
                return false;
            if (d >= 64) /* the level falling out of the register is kept in memory */
                w->stack[(d - 64) / 64] = (w->stack[(d - 64) / 64] & ~((uint64_t)1 << (d % 64))) |
                                          (levels >> 63) << (d % 64);
            levels = levels << 1 | object;
            d++;
            opens |= bit;
        } else {
            if (d == 0 || (levels & 1) != object)
                return false;
            levels >>= 1;
            d--;
            if (d >= 64) /* a level comes back from memory */
                levels |= ((w->stack[(d - 64) / 64] >> (d % 64)) & 1) << 63;
        }
        bool now_object = d > 0 && (levels & 1), now_array = d > 0 && !(levels & 1);
        /* on the last byte, bit << 1 is 0: the change shows from the next block on */
        object_flips |= (bit << 1) & (0 - (uint64_t)(in_object != now_object));
        array_flips |= (bit << 1) & (0 - (uint64_t)(in_array != now_array));
        in_object = now_object;
        in_array = now_array;
    }
    w->levels = levels;
    w->depth = d;
    kinds->opens = opens;
    kinds->objects = objects;
    *object = json_prefix_xor(object_flips) ^ object_in;
    *array = json_prefix_xor(array_flips) ^ array_in;
    return true;
}

/* Everything after classification, for the block starting at p[base]. */
JSON_INLINE bool json_walk_block(json_walk *w, json_escapes_state *es, const json_block_masks *m,
                                 size_t base)
{
    uint64_t escaped = 0;
    if ((m->backslash | es->carry) && !json_escapes(es, m->backslash, base, &escaped))
        return false;
    uint64_t quote = m->quote & ~escaped;
    uint64_t in_string = json_prefix_xor(quote) ^ w->in_string;
    w->in_string = (uint64_t)0 - (in_string >> 63);
    uint64_t outside = ~in_string;
    /* Control bytes inside strings, backslashes or bytes >= 0x80 outside them. */
    uint64_t bad = (m->ctrl & in_string) | ((m->backslash | m->high) & outside);
    if (bad | m->utf8_error)
        return false;

    uint64_t open_quote = quote & in_string, close_quote = quote & outside;
    uint64_t ws = m->ws & outside, comma = m->comma & outside, colon = m->colon & outside;
    uint64_t brackets = m->bracket & outside;
    uint64_t in_object, in_array;
    json_brackets kinds;
    if (!json_containers(w, brackets, base, &kinds, &in_object, &in_array))
        return false;
    uint64_t at_top = ~(in_object | in_array);
    uint64_t opens = kinds.opens, closes = brackets & ~kinds.opens;
    uint64_t open_object = opens & kinds.objects, open_array = opens & ~kinds.objects;
    uint64_t other = ~(m->ws | m->comma | m->colon | m->bracket | quote | in_string);
    uint64_t atom_start = other & ~(other << 1 | w->atom_carry);
    uint64_t after_atom = (other << 1 | w->atom_carry) & ~other;
    w->atom_carry = other >> 63;
    uint64_t value_start = open_quote | opens | atom_start;

    json_pending *pend = &w->pend;
    uint64_t after_start = json_successors(0, ws, &pend->start);
    uint64_t after_open_object = json_successors(open_object, ws, &pend->open_object);
    uint64_t after_open_array = json_successors(open_array, ws, &pend->open_array);
    uint64_t after_comma = json_successors(comma, ws, &pend->comma);
    uint64_t after_colon = json_successors(colon, ws, &pend->colon);
    /* Member names, and their closing quotes: the carry of the addition runs from the opening
     * quote through the string and stops on its closing quote. */
    uint64_t name_open = open_quote & (after_open_object | (after_comma & in_object));
    uint64_t name_close = json_add(in_string, name_open, &w->name_carry) & outside;
    uint64_t after_name = json_successors(name_close, ws, &pend->name);
    /* Values end at a closing quote (not a name's), a closer, or an atom's last byte; for atoms
     * the byte after it is known already (an atom on a block's last byte is the next block's
     * after_atom). */
    uint64_t value_end = (close_quote & ~name_close) | closes;
    uint64_t after_value =
        json_land(value_end << 1 | after_atom, ws, &pend->value, value_end >> 63);

    uint64_t err =
        (after_start & ~value_start) | (after_open_object & ~(open_quote | closes)) |
        (after_open_array & ~(value_start | closes)) | (after_colon & ~value_start) |
        (after_name & ~colon) | (colon & ~after_name) |
        (after_comma & ((in_object & ~open_quote) | (in_array & ~value_start) | at_top)) |
        (after_value & (at_top | ~(comma | closes)));
    /* Which kind of closer stands after '{' or a value was checked by the container loop. */

    /* Atoms: digits-only atoms by mask, the rest byte by byte. */
    uint64_t digits = other & m->digit;
    uint64_t digit_start = atom_start & m->digit;
    uint64_t run_end = json_add(digits, digit_start, &w->digit_carry) & ~digits;
    uint64_t zero_start = atom_start & m->zero;
    /* A leading '0' must be the whole run of digits: its run ends on the next byte. */
    uint64_t zero_ok = zero_start << 1 | w->zero_carry;
    w->zero_carry = zero_start >> 63;
    err |= zero_ok & ~run_end;
    if (err)
        return false;
    uint64_t not_digits = run_end & other;
    while (not_digits) {
        if (!json_digit_atom_ok(w->p, w->n, base + json_ctz64(not_digits)))
            return false;
        not_digits &= not_digits - 1;
    }
    uint64_t others = atom_start & ~m->digit;
    while (others) {
        if (!json_atom_ok(w->p, w->n, base + json_ctz64(others)))
            return false;
        others &= others - 1;
    }
    return true;
}

/* After the last block: the top value complete, nothing else pending, no string left open. */
JSON_INLINE bool json_walk_finish(const json_walk *w)
{
    const json_pending *p = &w->pend;
    /* The top value ended before the text did (p->value), or with its last byte (an atom). */
    return w->depth == 0 && w->in_string == 0 && (p->value | w->atom_carry) &&
           !(p->start | p->open_object | p->open_array | p->comma | p->colon | p->name);
}

/* The block loop each vector path runs with its own classifier: `classify` fills the masks of
 * one 64-byte block, carrying the UTF-8 state `u8` from block to block, and `u8_pending` says
 * whether the text ends inside a character. The last, partial block is classified from a copy
 * padded with spaces, which are whitespace to the grammar and ASCII to UTF-8. Inlined into each
 * path, where both functions are known and inlined too. */
typedef void (*json_classify_fn)(const uint8_t *p, void *u8, json_block_masks *m);
typedef bool (*json_u8_pending_fn)(const void *u8);

JSON_INLINE bool json_accept_blocks(const uint8_t *p, size_t n, uint32_t max_depth,
                                    json_classify_fn classify, json_u8_pending_fn u8_pending,
                                    void *u8)
{
    json_walk w;
    json_escapes_state es;
    uint64_t stack[SIO_JSON_MAX_DEPTH_CAP / 64];
    json_block_masks m;
    json_walk_init(&w, &es, stack, p, n, max_depth);
    size_t base = 0;
    for (; n - base >= 64; base += 64) {
        classify(p + base, u8, &m);
        if (!json_walk_block(&w, &es, &m, base))
            return false;
    }
    if (base < n) {
        uint8_t tail[64];
        memset(tail, ' ', sizeof tail);
        memcpy(tail, p + base, n - base);
        classify(tail, u8, &m);
        if (!json_walk_block(&w, &es, &m, base))
            return false;
    } else if (u8_pending(u8)) {
        return false;
    }
    return json_walk_finish(&w);
}

#endif
