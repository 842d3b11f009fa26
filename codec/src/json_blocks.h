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
 *      error. An atom is a run of other bytes outside strings: a number or a literal, checked
 *      on its bytes, together with the byte after it (numbers of digits alone on the masks,
 *      and in long texts the literals on the vectors: see json_walk_block);
 *   2. the grammar is checked on the masks too, as rules of succession: each byte that is not
 *      whitespace outside a string must follow (skipping that whitespace) a byte of the right
 *      kind: a value must follow ':' '[' ',' or the start of the text; a member name '{' or
 *      ',' inside an object; ',' a value's end; a closing bracket a value's end or an opening
 *      bracket; ':' a member name. A string is a member name when it follows '{', or ',' inside
 *      an object (which string opened where is carried to its closing quote by one addition).
 *      Only the brackets are visited one by one: a stack of container kinds checks that each
 *      closes what opened last, within the depth bound, and gives, for every byte between two
 *      brackets, the kind of the container it is in (object, array, none), for the rules that
 *      depend on it. String contents, members and elements are never visited.
 *
 * The string state, the atom run, the escape and the kind of the last byte that is not
 * whitespace carry over from one block to the next, and so does the stack. It only ever
 * answers "valid" or "not sure": any doubt (an error of any kind, a nesting deeper than
 * max_depth) returns false, and the scalar validator
 * then decides and reports the error and its offset. So the vector paths accept exactly what
 * the scalar path accepts and never need to reproduce its error reporting. */
#ifndef SIO_JSON_BLOCKS_H
#define SIO_JSON_BLOCKS_H

#include <string.h>

#include "sio/json.h"

/* The vector path that includes this file defines JSON_TARGET first, the target attribute its
 * functions need (so that all of them inline together), and then, after it:
 *   struct json_block, one block as the path holds it, with the UTF-8 state carried between
 *   blocks;
 *   json_block_load(b, p): the 64 bytes at p;
 *   json_block_load_last(b, end, rest): the 64 bytes before end, of which the last `rest` are
 *   the block's (the masks give them from bit 0, and the bytes after them as spaces);
 *   json_block_mask(b, class): the block's bytes of one class below, bit i for byte i (called
 *   with a constant class, each when first needed, so that a mask lives no longer than it must);
 *   json_block_escapes(b, &simple, &u): the bytes that may follow a backslash, " \ / b f n r t
 *   and u;
 *   json_block_utf8_error(b, high): whether the block, after the ones before it, is not valid
 *   UTF-8 (`high`: it may have a byte >= 0x80; false when it has none); once per block, in order;
 *   json_block_utf8_pending(b): the text ends inside a character;
 *   json_block_literals(at, &four, &five): bit i of four set when "true" or "null" is at
 *   at[i], of five when "false" is (whether or not an atom starts there); reads at[0..68), so
 *   it is called only where the text has that many bytes from the block's start;
 *   json_prefix_xor(x): bit i of the result is the XOR of bits 0..i. */
enum {
    JSON_QUOTE,
    JSON_BACKSLASH,
    JSON_WS, /* space, tab, line feed, carriage return */
    JSON_COMMA,
    JSON_COLON,
    JSON_OPEN_OBJECT,
    JSON_OPEN_ARRAY,
    JSON_CLOSE, /* ] and } */
    JSON_DIGIT,
    JSON_ZERO,
    JSON_CTRL, /* 0x00..0x1F */
    JSON_HIGH  /* 0x80..0xFF */
};

#define JSON_INLINE JSON_TARGET __attribute__((always_inline)) static inline

typedef struct json_block json_block;
JSON_INLINE void json_block_load(json_block *b, const uint8_t *p);
JSON_INLINE void json_block_load_last(json_block *b, const uint8_t *end, size_t rest);
JSON_INLINE uint64_t json_block_mask(const json_block *b, int class);
JSON_INLINE void json_block_escapes(const json_block *b, uint64_t *simple, uint64_t *u);
JSON_INLINE bool json_block_utf8_error(json_block *b, bool high);
JSON_INLINE bool json_block_utf8_pending(const json_block *b);
JSON_INLINE void json_block_literals(const uint8_t *at, uint64_t *four, uint64_t *five);
JSON_INLINE uint64_t json_prefix_xor(uint64_t x);

/* json_block_literals reads this many bytes past the block. */
#define JSON_LITERAL_READ 8
/* Texts from this length on have steady blocks (json_walk_block). */
#define JSON_STEADY_MIN 256

/* Escapes are rare: their state lives apart from the rest, behind a function call. */
typedef struct json_escapes_state {
    const uint8_t *p;
    size_t n;
    uint64_t carry;        /* 1 when the next block's first byte is escaped */
    size_t pair_backslash; /* the backslash of a low surrogate already checked with its pair */
} json_escapes_state;

/* Container kinds on the stack; kinds[0] is the top level, inside no container. */
enum { JSON_IN_TOP = 0, JSON_IN_ARRAY = 1, JSON_IN_OBJECT = 2 };

typedef struct json_walk {
    const uint8_t *p;
    size_t n;
    uint64_t in_string;   /* all ones when a string is open at the end of the last block */
    uint64_t atom_carry;  /* 1 when the last block ended inside an atom */
    uint64_t digit_carry; /* 1 when a run of digits starting an atom reached the block's end */
    uint64_t zero_carry;  /* 1 when an atom started with '0' at the last byte of the block */
    uint64_t literal_end; /* the next block's bytes that follow a literal of this one */
    uint64_t name_carry;  /* 1 when the string open at the block's end opened where a name may */
    /* 1 when the last byte before the next block that is not whitespace outside a string is
     * of the kind: the successors' carries of json_after. value_due starts at 1: the start of
     * the text is where a value is due. */
    uint64_t value_due, after_open, after_comma, after_value, after_name;
    uint32_t depth, max_depth;
    uint8_t *kinds; /* kinds[d]: the kind of the container at depth d */
} json_walk;

JSON_INLINE void json_walk_init(json_walk *w, json_escapes_state *es, uint8_t *kinds,
                                const uint8_t *p, size_t n, uint32_t max_depth)
{
    memset(w, 0, sizeof *w);
    w->p = es->p = p;
    w->n = es->n = n;
    w->value_due = 1;
    w->max_depth = max_depth;
    w->kinds = kinds;
    kinds[0] = JSON_IN_TOP;
    es->carry = 0;
    es->pair_backslash = SIZE_MAX;
}

JSON_INLINE unsigned json_ctz64(uint64_t x)
{
    return (unsigned)__builtin_ctzll(x);
}

/* Bytes that may follow an atom: whitespace, punctuation, a quote. */
static const uint8_t json_atom_end[256] = {
    [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [','] = 1, [':'] = 1,
    ['['] = 1, [']'] = 1,  ['{'] = 1,  ['}'] = 1,  ['"'] = 1,
};

JSON_TARGET static inline bool json_hex4(const uint8_t *p, size_t n, size_t i, uint32_t *v)
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
JSON_TARGET static bool json_u_escape_ok(json_escapes_state *es, size_t at)
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

/* Bytes that may follow a backslash, \u apart. */
static const uint8_t json_simple_escape[256] = {
    ['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1, ['f'] = 1, ['n'] = 1, ['r'] = 1, ['t'] = 1,
};

/* Bit i set when byte i of the block is escaped: it follows a run of backslashes of odd length
 * (a backslash escaped inside such a run is marked too). *carry brings in 1 when the last block's
 * final byte escapes this block's first, and takes out the same for the next block. In a run of
 * backslashes the ones at an even distance from the run's start escape the byte after them;
 * `marked` is those backslashes and the bytes they escape, for runs starting on either parity,
 * from one subtraction: the successors of the backslashes with every odd position set, less the
 * backslashes, is `marked` with its odd positions flipped (as with the even ones: the rule is
 * symmetric; test_simd checks runs of every length at every position against the scalar scan). */
JSON_INLINE uint64_t json_escaped(uint64_t backslash, uint64_t *carry)
{
    const uint64_t odd = UINT64_C(0xAAAAAAAAAAAAAAAA);
    uint64_t first = *carry;
    uint64_t escaping = backslash & ~first; /* an escaped backslash is content */
    uint64_t marked = ((escaping << 1 | odd) - escaping) ^ odd;
    *carry = (marked & backslash) >> 63;
    return marked ^ (escaping | first);
}

/* The \u escapes among the escaped bytes `u` of the block at `base` (bit i for its 'u'), each
 * with its four hex digits and, for a high surrogate, the low one after it. */
JSON_TARGET __attribute__((noinline)) static bool json_u_escapes_ok(json_escapes_state *es,
                                                                    uint64_t u, size_t base)
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
JSON_INLINE bool json_escapes_ok(json_escapes_state *es, const json_block *b, uint64_t backslash,
                                 const uint8_t *block, size_t base, bool steady, uint64_t *escaped)
{
    uint64_t esc = json_escaped(backslash, &es->carry);
    uint64_t simple, u;
    if (steady || backslash) {
        json_block_escapes(b, &simple, &u);
    } else {
        /* Only the first byte is escaped (by the last block): judged on its own. */
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
JSON_TARGET static inline size_t json_number_end(const uint8_t *p, size_t n, size_t i)
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
JSON_TARGET static bool json_atom_slow(const uint8_t *p, size_t n, size_t i)
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

/* The atom of `len` bytes at p[i] is true, false or null: its first `len` bytes compared as
 * one word (the length too: zero bytes after a literal belong to its atom and would compare
 * equal to the word's upper bytes); the grammar's rules judge what follows it. */
JSON_INLINE bool json_literal_ok(const uint8_t *p, size_t n, size_t i, unsigned len)
{
    if (n - i < 8 || len - 4 > 1)
        return false;
    /* The words as this little-endian machine loads them. */
    const uint64_t w_true = 't' | 'r' << 8 | 'u' << 16 | (uint64_t)'e' << 24;
    const uint64_t w_null = 'n' | 'u' << 8 | 'l' << 16 | (uint64_t)'l' << 24;
    const uint64_t w_false = 'f' | 'a' << 8 | 'l' << 16 | (uint64_t)'s' << 24 | (uint64_t)'e' << 32;
    uint64_t x;
    memcpy(&x, p + i, 8);
    uint64_t head = x & ((UINT64_C(1) << 8 * len) - 1);
    return len == 4 ? (head == w_true) | (head == w_null) : head == w_false;
}

/* Checks the atom whose run of digits from its start ends at p[at] (a non-digit that is still
 * part of the atom, as in 1.5 or 2e3): the digits are walked back to the atom's start. */
JSON_TARGET static bool json_digit_atom_ok(const uint8_t *p, size_t n, size_t at)
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
JSON_INLINE bool json_atoms_ok(json_walk *w, const json_block *b, uint64_t other,
                               uint64_t atom_start, uint64_t literals, size_t base)
{
    uint64_t digit = json_block_mask(b, JSON_DIGIT);
    uint64_t digits = other & digit;
    uint64_t digit_start = atom_start & digit;
    uint64_t run_end = json_add(digits, digit_start, &w->digit_carry) & ~digits;
    uint64_t zero_start = atom_start & json_block_mask(b, JSON_ZERO);
    uint64_t zero_ok = zero_start << 1 | w->zero_carry;
    w->zero_carry = zero_start >> 63;
    if (zero_ok & ~run_end)
        return false;
    for (uint64_t longer = run_end & other; longer; longer &= longer - 1)
        if (!json_digit_atom_ok(w->p, w->n, base + json_ctz64(longer)))
            return false;
    for (uint64_t others = atom_start & ~(digit | literals); others; others &= others - 1) {
        unsigned k = json_ctz64(others);
        /* The atom's length, when it ends inside the block (the shift brings in zeros; a run
         * of all 64 bytes goes on into the next block). */
        uint64_t run = other >> k;
        unsigned len = ~run ? json_ctz64(~run) : 64;
        size_t at = base + k;
        if (!(k + len < 64 && json_literal_ok(w->p, w->n, at, len)) &&
            !json_atom_ok(w->p, w->n, at))
            return false;
    }
    return true;
}

/* The atoms that start with a literal's whole word (json_block_literals), without a branch on
 * how many there are, in *literals: they are literals when the byte after the word ends the
 * atom, here or at the start of the next block. False when one goes on after its word. */
JSON_INLINE bool json_literal_atoms(json_walk *w, uint64_t other, uint64_t atom_start,
                                    const uint8_t *block, uint64_t *literals)
{
    uint64_t four, five;
    json_block_literals(block, &four, &five);
    four &= atom_start;
    five &= atom_start;
    uint64_t end = four << 4 | five << 5 | w->literal_end;
    w->literal_end = four >> 60 | five >> 59;
    *literals = four | five;
    return !(end & other);
}

/* Bit i set when the last byte before byte i that is not whitespace (`ws`: whitespace outside
 * strings) is in x; bits land only on bytes that are not such whitespace. *carry brings in the
 * same for the block's first byte and takes it out for the next block. A run of whitespace
 * after a byte of x is crossed by one addition: the carry runs through it to the byte after. */
JSON_INLINE uint64_t json_after(uint64_t x, uint64_t ws, uint64_t *carry)
{
    uint64_t next = x << 1 | *carry, through;
    uint64_t out = __builtin_add_overflow(ws, next & ws, &through);
    *carry = x >> 63 | out;
    return (next | through) & ~ws;
}

/* The kind of container each byte of the block is in, from the kind after each bracket (`after`:
 * bit k set when the container after the bracket at k is of the kind; `in`: 1 when the block
 * starts in one): every byte from a bracket's successor to the next bracket, that bracket
 * included, as it is judged by what precedes it. One addition fills each gap between brackets. */
JSON_INLINE uint64_t json_inside(uint64_t brackets, uint64_t after, uint64_t in)
{
    uint64_t gaps = ~brackets;
    return (gaps + (after << 1 | in)) ^ gaps;
}

/* The brackets of one block, in order, on the stack of container kinds: each closing bracket
 * must close the kind opened last, no container deeper than max_depth. Sets bit k of *object
 * or *array when the closing bracket at k leaves the grammar inside an object or an array
 * (after an opening bracket, the kind is the bracket's own). */
JSON_INLINE bool json_walk_brackets(json_walk *w, const uint8_t *block, uint64_t brackets,
                                    uint64_t *object, uint64_t *array)
{
    uint32_t depth = w->depth;
    uint8_t *kinds = w->kinds;
    uint64_t in_object = 0, in_array = 0;
    for (; brackets; brackets &= brackets - 1) {
        unsigned k = json_ctz64(brackets);
        unsigned c = block[k];
        /* [ ] are 0x5B 0x5D, { } 0x7B 0x7D: bit 5 gives the kind, bit 1 opening or closing. */
        unsigned kind = (c >> 5 & 1) + JSON_IN_ARRAY;
        if (c & 2) {
            if (depth >= w->max_depth)
                return false;
            kinds[++depth] = (uint8_t)kind;
            continue;
        }
        if (kinds[depth] != kind)
            return false;
        kind = kinds[--depth];
        in_object |= (uint64_t)(kind >> 1) << k;
        in_array |= (uint64_t)(kind & 1) << k;
    }
    w->depth = depth;
    *object = in_object;
    *array = in_array;
    return true;
}

/* The grammar's rules on one block's masks (see the top of this file); `ws` is the whitespace
 * outside strings, 0 in compact texts, where each rule reads the byte just before. */
JSON_INLINE bool json_grammar(json_walk *w, const json_block *b, const uint8_t *block,
                              uint64_t quote, uint64_t in_string, uint64_t other,
                              uint64_t atom_start, uint64_t ws)
{
    uint64_t outside = ~in_string;
    uint64_t comma = json_block_mask(b, JSON_COMMA) & outside;
    uint64_t colon = json_block_mask(b, JSON_COLON) & outside;
    uint64_t open_object = json_block_mask(b, JSON_OPEN_OBJECT) & outside;
    uint64_t open_array = json_block_mask(b, JSON_OPEN_ARRAY) & outside;
    uint64_t close = json_block_mask(b, JSON_CLOSE) & outside;
    uint64_t opening = quote & in_string, closing = quote & outside;

    uint64_t value_due = json_after(colon | comma | open_array, ws, &w->value_due);
    uint64_t after_open = json_after(open_object | open_array, ws, &w->after_open);
    uint64_t after_comma = json_after(comma, ws, &w->after_comma);
    uint64_t after_value = json_after(closing | close | other, ws, &w->after_value);
    uint64_t value_start = atom_start | open_object | open_array;
    /* An atom or a container where no value is due, a string neither there nor after an
     * opening bracket, ',' not after a value, a closing bracket after neither a value nor an
     * opening bracket. (An opening bracket of the wrong kind is the stack's to find.) */
    if ((value_start & ~value_due) | (opening & ~(value_due | after_open)) |
        (comma & ~after_value) | (close & ~(after_value | after_open)))
        return false;
    /* The strings that may be names, marked at their closing quotes: those after an opening
     * bracket or ',' (they are names when that is inside an object). */
    uint64_t may_name = opening & (after_open | after_comma);
    uint64_t may_name_end = json_add(in_string, may_name, &w->name_carry) & ~in_string;
    uint64_t value_after_comma = value_start & after_comma;

    uint64_t brackets = open_object | open_array | close, object_after = 0, array_after = 0;
    uint8_t kind_in = w->kinds[w->depth];
    if (brackets && !json_walk_brackets(w, block, brackets, &object_after, &array_after))
        return false;
    uint64_t in_object = json_inside(brackets, object_after | open_object, kind_in >> 1);
    uint64_t in_array = json_inside(brackets, array_after | open_array, kind_in & 1);
    uint64_t after_name = json_after(may_name_end & in_object, ws, &w->after_name);
    /* ':' after anything but a name, ',' or a closing bracket after a name, ',' outside any
     * container, anything but a name after ',' in an object. */
    return !((colon & ~after_name) | ((comma | close) & after_name) |
             (comma & ~(in_object | in_array)) | (value_after_comma & in_object));
}

/* Everything after classification, for the block at p[base] (classified from `block`). A long
 * text's blocks are `steady`: they take no branch on what the block holds (backslashes, bytes
 * >= 0x80, how many literals), since in a text that has them, the blocks with and without come
 * in no order a predictor could learn, and a mispredicted branch costs more than the work it
 * skips. The literals are then found on the vectors, which reads JSON_LITERAL_READ bytes past
 * the block. A short text's few blocks skip what they do not need. */
JSON_INLINE bool json_walk_block(json_walk *w, json_escapes_state *es, json_block *b,
                                 const uint8_t *block, size_t base, bool steady)
{
    uint64_t escaped = 0, backslash = json_block_mask(b, JSON_BACKSLASH);
    if ((steady || (backslash | es->carry)) &&
        !json_escapes_ok(es, b, backslash, block, base, steady, &escaped))
        return false;
    uint64_t quote = json_block_mask(b, JSON_QUOTE) & ~escaped;
    uint64_t in_string = json_prefix_xor(quote) ^ w->in_string;
    w->in_string = (uint64_t)0 - (in_string >> 63);
    uint64_t outside = ~in_string;
    /* Control bytes inside strings, backslashes or bytes >= 0x80 outside them. */
    uint64_t high = json_block_mask(b, JSON_HIGH);
    uint64_t bad = (json_block_mask(b, JSON_CTRL) & in_string) | ((backslash | high) & outside);
    if (bad || json_block_utf8_error(b, steady || high != 0))
        return false;
    uint64_t ws_all = json_block_mask(b, JSON_WS);
    uint64_t structural = json_block_mask(b, JSON_COMMA) | json_block_mask(b, JSON_COLON) |
                          json_block_mask(b, JSON_OPEN_OBJECT) |
                          json_block_mask(b, JSON_OPEN_ARRAY) | json_block_mask(b, JSON_CLOSE);
    uint64_t other = ~(ws_all | structural | quote | in_string);
    uint64_t atom_start = other & ~(other << 1 | w->atom_carry);
    w->atom_carry = other >> 63;
    /* Either the literals are found on the vectors, or each atom is looked at in turn. An atom
     * that starts in the last block and ends in this one was judged there. */
    uint64_t literals = 0;
    bool literals_end;
    if (steady) {
        literals_end = json_literal_atoms(w, other, atom_start, block, &literals);
    } else {
        literals_end = !(w->literal_end & other);
        w->literal_end = 0;
    }
    if (!literals_end || !json_atoms_ok(w, b, other, atom_start, literals, base))
        return false;
    /* The grammar last: its loop over the brackets is the one branch of a long text's blocks
     * that depends on the data, and with the atoms judged before it fewer values have to live
     * across that loop (the benchmark's large payloads validate about 2% faster). */
    uint64_t ws = ws_all & outside;
    return ws ? json_grammar(w, b, block, quote, in_string, other, atom_start, ws)
              : json_grammar(w, b, block, quote, in_string, other, atom_start, 0);
}

/* After the last block: the top value complete (the last byte that is not whitespace ends a
 * value, outside any container), no string left open. */
JSON_INLINE bool json_walk_finish(const json_walk *w)
{
    return w->after_value && w->depth == 0 && w->in_string == 0;
}

/* The block loop, inlined into the path. The last, partial block is loaded from a copy padded
 * with spaces, which are whitespace to the grammar and ASCII to UTF-8. */
JSON_INLINE bool json_accept_blocks(const uint8_t *p, size_t n, uint32_t max_depth, json_block *b)
{
    json_walk w;
    json_escapes_state es;
    uint8_t kinds[SIO_JSON_MAX_DEPTH_CAP + 1];
    json_walk_init(&w, &es, kinds, p, n, max_depth);
    size_t base = 0;
    if (n >= JSON_STEADY_MIN) {
        for (; n - base >= 64 + JSON_LITERAL_READ; base += 64) {
            json_block_load(b, p + base);
            if (!json_walk_block(&w, &es, b, p + base, base, true))
                return false;
        }
    }
    for (; n - base >= 64; base += 64) {
        json_block_load(b, p + base);
        if (!json_walk_block(&w, &es, b, p + base, base, false))
            return false;
    }
    if (base < n && n >= 64 && n - base <= 61) {
        /* The text's last 64 bytes, the bytes before `base` left out (at least 3 of them, for
         * the UTF-8 rules that look back). */
        json_block_load_last(b, p + n, n - base);
        if (!json_walk_block(&w, &es, b, p + base, base, false) || json_block_utf8_pending(b))
            return false;
    } else if (base < n) {
        uint8_t tail[64];
        memset(tail, ' ', sizeof tail);
        memcpy(tail, p + base, n - base);
        json_block_load(b, tail);
        if (!json_walk_block(&w, &es, b, tail, base, false))
            return false;
    } else if (json_block_utf8_pending(b)) {
        return false;
    }
    return json_walk_finish(&w);
}

#endif
