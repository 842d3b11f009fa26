/* Per-type payload rules and placeholder checks, shared by the decoder, the encoder and the
 * attachment assembler so that all three agree on what a valid packet is. */
#include <string.h>

#include "json_internal.h"
#include "pkt_internal.h"
#include "simd_internal.h"

void sio_pkt_options_init(sio_pkt_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->protocol = 5;
    opt->compat = false;
    opt->max_attachments = SIO_PKT_MAX_ATTACHMENTS_DEFAULT;
    opt->json_max_depth = 0;
}

const char *sio_pkt_type_name(int type, int protocol)
{
    switch (type) {
    case SIO_PKT_CONNECT:
        return "CONNECT";
    case SIO_PKT_DISCONNECT:
        return "DISCONNECT";
    case SIO_PKT_EVENT:
        return "EVENT";
    case SIO_PKT_ACK:
        return "ACK";
    case SIO_PKT_CONNECT_ERROR:
        return protocol == 4 ? "ERROR" : "CONNECT_ERROR";
    case SIO_PKT_BINARY_EVENT:
        return "BINARY_EVENT";
    case SIO_PKT_BINARY_ACK:
        return "BINARY_ACK";
    default:
        return NULL;
    }
}

/* Names with a meaning of their own on the receiving side; an event under one of them would be
 * taken for a lifecycle notification. */
static const struct {
    const char *name;
    size_t len;
} reserved_events[] = {{"connect", 7},        {"connect_error", 13}, {"disconnect", 10},
                       {"disconnecting", 13}, {"newListener", 11},   {"removeListener", 14}};

/* The bytes of a name without escapes against the reserved names of its length (each compare
 * of a constant length is a word or two, not a call). */
static bool is_reserved_plain(const uint8_t *s, size_t n)
{
    switch (n) {
    case 7:
        return memcmp(s, "connect", 7) == 0;
    case 10:
        return memcmp(s, "disconnect", 10) == 0;
    case 11:
        return memcmp(s, "newListener", 11) == 0;
    case 13:
        return memcmp(s, "connect_error", 13) == 0 || memcmp(s, "disconnecting", 13) == 0;
    case 14:
        return memcmp(s, "removeListener", 14) == 0;
    default:
        return false;
    }
}

/* A name token without backslashes unescapes to its own bytes, so it is compared as it stands;
 * only a name with escapes needs sio_json_string_equals. `plain` says the caller knows there is
 * no backslash. */
static bool is_reserved_event(sio_span name, bool plain)
{
#ifdef MUTANT_RESERVED_NAMES_ACCEPTED /* SIO-PKT-06: `connect`, `disconnect`… taken as events */
    return false;
#endif
    sio_span t = name; /* a value span from sio_json_next: no whitespace around it */
    plain = plain || (t.len >= 2 && t.ptr[0] == '"' && t.ptr[t.len - 1] == '"' &&
                      !memchr(t.ptr + 1, '\\', t.len - 2));
    if (plain)
        return is_reserved_plain(t.ptr + 1, t.len - 2);
    for (size_t i = 0; i < sizeof reserved_events / sizeof reserved_events[0]; i++) {
        const char *s = reserved_events[i].name;
        size_t n = reserved_events[i].len;
        if (sio_json_string_equals(name, (const uint8_t *)s, n))
            return true;
    }
    return false;
}

/* The first '"' or '\\' at or after p[i] (n when none): eight bytes a word while there are
 * eight, where a byte equal to one of them is found as a zero byte of the word XORed with it
 * (the lowest such flag is exact). */
static size_t name_stop(const uint8_t *p, size_t n, size_t i)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
        uint64_t found = (((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
        if (found)
            return i + (size_t)__builtin_ctzll(found) / 8;
    }
    while (i < n && p[i] != '"' && p[i] != '\\')
        i++;
    return i;
}

/* The usual validated event, '[' then a name without escapes or a number, is judged from its
 * first bytes: the text is valid JSON, so the name's closing quote is there and a '-' or a
 * digit starts a number. Anything else (a backslash in the name, another kind, an empty
 * array) is left to the iterator: false. */
static bool check_event_fast(sio_span data, sio_err *verdict)
{
    const uint8_t *p = data.ptr;
    size_t n = data.len, i = 1;
    if (n < 2 || p[0] != '[')
        return false;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    if (i < n && (p[i] == '-' || (p[i] >= '0' && p[i] <= '9'))) {
        *verdict = SIO_OK;
        return true;
    }
    if (i == n || p[i] != '"')
        return false;
    size_t end = name_stop(p, n, i + 1);
    if (end == n || p[end] != '"')
        return false;
    bool reserved = is_reserved_event(sio_span_of(p + i, end + 1 - i), true);
    *verdict = reserved ? SIO_ERR_PKT_EVENT_RESERVED : SIO_OK;
    return true;
}

static sio_err check_event(sio_span data, bool validated)
{
    sio_json_iter it;
    sio_span first;
    if (validated) {
        sio_err verdict;
        if (check_event_fast(data, &verdict))
            return verdict;
        if (sio_json_kind_of(data) != SIO_JSON_ARRAY)
            return SIO_ERR_PKT_PAYLOAD_KIND;
        sio__json_iter_validated(data, false, &it);
    } else if (sio_json_array_iter(data, &it) != SIO_OK) {
        return SIO_ERR_PKT_PAYLOAD_KIND;
    }
    if (!sio_json_next(&it, NULL, &first))
        return SIO_ERR_PKT_EVENT_EMPTY;
    sio_json_kind k = sio_json_kind_of(first);
    if (k == SIO_JSON_NUMBER)
        return SIO_OK;
    if (k != SIO_JSON_STRING)
        return SIO_ERR_PKT_EVENT_NAME;
    return is_reserved_event(first, false) ? SIO_ERR_PKT_EVENT_RESERVED : SIO_OK;
}

static sio_err check_connect_error(sio_json_kind k, const sio_pkt_options *opt)
{
    if (k == SIO_JSON_STRING)
        return SIO_OK;
    if (k == SIO_JSON_OBJECT && (opt->protocol != 4 || opt->compat))
        return SIO_OK;
    return SIO_ERR_PKT_PAYLOAD_KIND;
}

static sio_err check_payload(int type, sio_span data, const sio_pkt_options *opt, bool validated)
{
    sio_pkt_options defaults;
    if (!opt) {
        sio_pkt_options_init(&defaults);
        opt = &defaults;
    }
    if (!data.ptr) {
        bool required =
            type == SIO_PKT_EVENT || type == SIO_PKT_BINARY_EVENT || type == SIO_PKT_CONNECT_ERROR;
        return required && !opt->compat ? SIO_ERR_PKT_PAYLOAD_MISSING : SIO_OK;
    }
    /* (An event's payload kind is judged by check_event, from its first bytes.) */
    switch (type) {
    case SIO_PKT_CONNECT:
        return sio_json_kind_of(data) == SIO_JSON_OBJECT ? SIO_OK : SIO_ERR_PKT_PAYLOAD_KIND;
    case SIO_PKT_DISCONNECT:
#ifdef MUTANT_DISCONNECT_DATA_IGNORED /* SIO-PKT-15: a DISCONNECT's payload is not looked at */
        return SIO_OK;
#endif
        return SIO_ERR_PKT_PAYLOAD_UNEXPECTED;
    case SIO_PKT_EVENT:
    case SIO_PKT_BINARY_EVENT:
        return check_event(data, validated);
    case SIO_PKT_ACK:
    case SIO_PKT_BINARY_ACK:
        return sio_json_kind_of(data) == SIO_JSON_ARRAY ? SIO_OK : SIO_ERR_PKT_PAYLOAD_KIND;
    case SIO_PKT_CONNECT_ERROR:
        return check_connect_error(sio_json_kind_of(data), opt);
    default:
        return SIO_ERR_PKT_TYPE;
    }
}

sio_err sio_pkt_check_payload(int type, sio_span data, const sio_pkt_options *opt)
{
    return check_payload(type, data, opt, false);
}

sio_err sio__pkt_check_validated_payload(int type, sio_span data, const sio_pkt_options *opt)
{
    return check_payload(type, data, opt, true);
}

/* Member lookup in the object at p[0] (n bytes to the end of the payload): after validation
 * the members can be read from '{' onwards; otherwise the object is delimited first. */
static sio_err placeholder_member(const uint8_t *p, size_t n, bool validated, const char *key,
                                  size_t key_len, sio_span *value)
{
    if (validated)
        return sio__json_object_get_validated(p, n, key, key_len, value);
    return sio_json_object_get(sio_json_trim(sio_span_of(p, n)), key, key_len, value);
}

/* One object: a placeholder only when its (last) _placeholder member is the boolean true. */
static sio_err check_one_placeholder(const uint8_t *p, size_t n, bool validated,
                                     uint32_t attachments)
{
    sio_span flag, num;
    if (placeholder_member(p, n, validated, "_placeholder", 12, &flag) != SIO_OK ||
        sio_json_kind_of(flag) != SIO_JSON_TRUE)
        return SIO_OK;
    int64_t k;
    if (placeholder_member(p, n, validated, "num", 3, &num) != SIO_OK ||
        sio_json_get_int(num, &k) != SIO_OK)
        return SIO_ERR_PKT_PLACEHOLDER;
    if (k < 0 || (uint64_t)k >= attachments)
        return SIO_ERR_PKT_PLACEHOLDER_RANGE;
    return SIO_OK;
}

/* Visits every object at any depth by scanning for '{' outside strings: no recursion, and each
 * object is read by the tree-less lookup. */
static sio_err check_placeholders(sio_span data, uint32_t attachments, size_t *err_at,
                                  bool validated)
{
    const uint8_t *p = data.ptr;
    size_t n = p ? data.len : 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') {
            for (i++; i < n && p[i] != '"'; i++)
                if (p[i] == '\\')
                    i++;
            continue;
        }
        if (p[i] != '{')
            continue;
        sio_err e = check_one_placeholder(p + i, n - i, validated, attachments);
        if (e != SIO_OK) {
            if (err_at)
                *err_at = i;
            return e;
        }
    }
    return SIO_OK;
}

sio_err sio_pkt_check_placeholders(sio_span data, uint32_t attachments, size_t *err_at)
{
    return check_placeholders(data, attachments, err_at, false);
}

/* ---------------------------------------------------------------- one pass over validated text
 * Looking each object up (check_placeholders) walks every object's subtree again for each object
 * around it: O(length x depth): the last attachment of a 1 MB binary event nested 62 objects
 * deep took 52 ms to check, against 0.4 ms in one pass. Validated text is walked once instead,
 * with a stack of open containers; each object's last `_placeholder` and `num` values are noted
 * as they pass and judged at its closing brace. The first bad object by position is reported, as
 * the lookup would. Deeper than the stack: the lookup does it. */

#define PH_STACK 128

typedef struct ph_level {
    size_t start;  /* offset of the '{' or '[' */
    size_t num_at; /* the last "num" value: offset and length (0: none yet) */
    size_t num_len;
    bool is_object;
    bool flag_true; /* the last "_placeholder" value is `true` */
} ph_level;

typedef struct ph_walk {
    ph_level stack[PH_STACK];
    int top; /* index of the innermost open container; -1 at the top level */
    sio_err err;
    size_t err_at;
    uint32_t attachments;
} ph_walk;

/* A "num" of 1 to 18 digits (no sign, fraction or exponent: what encoders write) read at once;
 * false for anything else, which sio_json_get_int reads and judges. */
static bool ph_plain_index(const uint8_t *p, size_t len, int64_t *k)
{
    if (len == 0 || len > 18)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *k = v;
    return true;
}

static void ph_close_object(ph_walk *w, const uint8_t *p, const ph_level *l)
{
    if (!l->flag_true)
        return;
    int64_t k;
    sio_err e = SIO_OK;
    if (l->num_len == 0 || (!ph_plain_index(p + l->num_at, l->num_len, &k) &&
                            sio_json_get_int(sio_span_of(p + l->num_at, l->num_len), &k) != SIO_OK))
        e = SIO_ERR_PKT_PLACEHOLDER;
    else if (k < 0 || (uint64_t)k >= w->attachments)
        e = SIO_ERR_PKT_PLACEHOLDER_RANGE;
    if (e != SIO_OK && (w->err == SIO_OK || l->start < w->err_at)) {
        w->err = e;
        w->err_at = l->start;
    }
}

/* True when the member name token [name, name_end) (quotes included) is the name `want`
 * (`len` bytes, plain ASCII). Escapes only make a token longer than the name it stands for, so
 * a token of exactly the quoted length matches by its bytes, a shorter one never, and only a
 * longer one with a backslash needs unescaping. */
static bool ph_name_is(const uint8_t *p, size_t name, size_t name_end, const char *want, size_t len)
{
    size_t token = name_end - name;
    if (token == len + 2)
        return memcmp(p + name + 1, want, len) == 0;
    return token > len + 2 && memchr(p + name + 1, '\\', token - 2) &&
           sio_json_string_equals(sio_span_of(p + name, token), (const uint8_t *)want, len);
}

/* The member name [name, name_end) of the innermost object has its value at p[v]: notes it when
 * the name is "_placeholder" or "num" (the last of each wins, as with JSON.parse). A container
 * value counts as its opening bracket, which no integer or `true` starts with. */
static void ph_member(ph_walk *w, const uint8_t *p, size_t n, size_t name, size_t name_end,
                      size_t v)
{
    bool flag = ph_name_is(p, name, name_end, "_placeholder", 12);
    if (!flag && !ph_name_is(p, name, name_end, "num", 3))
        return;
    ph_level *l = &w->stack[w->top];
    if (flag) {
        l->flag_true = v < n && p[v] == 't';
        return;
    }
    size_t end = v >= n                       ? n
                 : p[v] == '"'                ? sio__json_skip_string(p, n, v)
                 : p[v] == '{' || p[v] == '[' ? v + 1
                                              : sio__json_skip_value(p, n, v);
    l->num_at = v;
    l->num_len = end - v;
}

/* The next string, bracket or backslash, and the end of a string, as sio__json_find_structure
 * and sio__json_skip_string find them. In a short text (an event's payload of a few hundred
 * bytes) the first PH_NEAR bytes are looked at one by one: the next quote or bracket is most
 * often a few bytes away, where a vector search would cost its set-up for each token; past them
 * the vector search takes over. Long texts take the vector search at once: with one byte at a
 * time the branch on each byte costs more than the set-ups it saves (the 1 MB binary event:
 * 3% fewer instructions, 20% more time). */
#define PH_NEAR       16
#define PH_SHORT_TEXT 512

/* The bytes the walk stops at: in a string its quote and backslash (PH_IN_STRING); between
 * tokens also the brackets. */
enum { PH_IN_STRING = 1, PH_BETWEEN = 2 };
static const uint8_t ph_stop[256] = {
    ['"'] = PH_IN_STRING | PH_BETWEEN,
    ['\\'] = PH_IN_STRING | PH_BETWEEN,
    ['['] = PH_BETWEEN,
    [']'] = PH_BETWEEN,
    ['{'] = PH_BETWEEN,
    ['}'] = PH_BETWEEN,
};

/* On the AVX2 path a short text's stops are found for the whole text at once, as bit masks
 * (bit i of word i / 64 for byte i): the walk then goes from stop to stop by counting zero
 * bits, where the byte loop above costs a few instructions per byte. NULL on the other paths
 * and for long texts, which keep the searches above. */
typedef struct ph_stops {
    uint64_t in_string[PH_SHORT_TEXT / 64]; /* '"' and '\\' */
    uint64_t between[PH_SHORT_TEXT / 64];   /* those and [ ] { } */
} ph_stops;

static const ph_stops *ph_find_stops(ph_stops *s, const uint8_t *p, size_t n)
{
#if SIO__HAVE_X86
    if (n <= PH_SHORT_TEXT && sio__simd_path() == SIO_SIMD_AVX2) {
        sio__json_stop_masks_avx2(p, n, s->in_string, s->between);
        return s;
    }
#else
    (void)p;
    (void)n;
#endif
    (void)s;
    return NULL;
}

/* The first set bit at or after i, or n when none (bits from n on are clear). The next stop is
 * most often in the same word. */
static inline size_t ph_next_bit(const uint64_t *mask, size_t i, size_t n)
{
    if (i >= n)
        return n;
    uint64_t bits = mask[i / 64] >> (i % 64);
    if (bits)
        return i + (size_t)__builtin_ctzll(bits);
    for (size_t k = i / 64 + 1; k < (n + 63) / 64; k++)
        if (mask[k])
            return k * 64 + (size_t)__builtin_ctzll(mask[k]);
    return n;
}

#if defined(__GNUC__) || defined(__clang__)
#define PH_WALK_INLINE static inline __attribute__((always_inline))
#else
#define PH_WALK_INLINE static inline
#endif

PH_WALK_INLINE size_t ph_next_structure(const ph_stops *s, const uint8_t *p, size_t n, size_t i)
{
    if (s)
        return ph_next_bit(s->between, i, n);
    if (n > PH_SHORT_TEXT)
        return sio__json_find_structure(p, n, i);
    size_t near = n - i < PH_NEAR ? n : i + PH_NEAR;
    for (; i < near; i++)
        if (ph_stop[p[i]] & PH_BETWEEN)
            return i;
    return i < n ? sio__json_find_structure(p, n, i) : n;
}

/* `open` is the opening quote; a string longer than PH_NEAR bytes is searched again from it by
 * the vector search. */
PH_WALK_INLINE size_t ph_skip_string(const ph_stops *s, const uint8_t *p, size_t n, size_t open)
{
    if (s) {
        for (size_t i = ph_next_bit(s->in_string, open + 1, n); i < n;
             i = ph_next_bit(s->in_string, i + 2, n))
            if (p[i] == '"')
                return i + 1; /* else a backslash: the byte it escapes is skipped */
        return n;
    }
    if (n > PH_SHORT_TEXT)
        return sio__json_skip_string(p, n, open);
    size_t i = open + 1, near = n - i < PH_NEAR ? n : i + PH_NEAR;
    for (; i < near; i++) {
        if (!(ph_stop[p[i]] & PH_IN_STRING))
            continue;
        if (p[i] == '"')
            return i + 1;
        i++; /* the byte a backslash escapes */
    }
    return i < n ? sio__json_skip_string(p, n, open) : n;
}

/* Goes from one string or bracket to the next (the scanners skip everything between), so the
 * numbers, literals and punctuation in between cost nothing: in validated text a string is a
 * member name exactly when ':' follows it, and then its value follows the ':'. Returns false
 * when the text is nested deeper than the stack. */
PH_WALK_INLINE bool ph_walk_stops(ph_walk *w, const uint8_t *p, size_t n, const ph_stops *s)
{
    size_t i = 0;
    while ((i = ph_next_structure(s, p, n, i)) < n) {
        uint8_t c = p[i];
        if (c == '"') {
            size_t end = ph_skip_string(s, p, n, i);
            size_t colon = sio__json_skip_ws(p, n, end);
            if (w->top >= 0 && colon < n && p[colon] == ':')
                ph_member(w, p, n, i, end, sio__json_skip_ws(p, n, colon + 1));
            i = end;
        } else if (c == '{' || c == '[') {
            if (w->top + 1 >= PH_STACK)
                return false;
            ph_level *l = &w->stack[++w->top];
            memset(l, 0, sizeof *l);
            l->start = i;
            l->is_object = c == '{';
            i++;
        } else if (c == '}' || c == ']') {
            if (w->top >= 0) {
                if (w->stack[w->top].is_object)
                    ph_close_object(w, p, &w->stack[w->top]);
                w->top--;
            }
            i++;
        } else { /* a backslash, which validated text holds only inside strings */
            i++;
        }
    }
    return true;
}

/* With and without the stops' masks as two copies of the walk (inlined into each call, the
 * test for masks at every stop is settled there), so the walk over long texts costs what it
 * did without them. */
static bool ph_walk_text(ph_walk *w, const uint8_t *p, size_t n)
{
    ph_stops found;
    const ph_stops *s = ph_find_stops(&found, p, n);
    return s ? ph_walk_stops(w, p, n, s) : ph_walk_stops(w, p, n, NULL);
}

sio_err sio__pkt_check_validated_placeholders(sio_span data, uint32_t attachments, size_t *err_at)
{
    ph_walk w;
    w.top = -1;
    w.err = SIO_OK;
    w.err_at = 0;
    w.attachments = attachments;
    if (!data.ptr || !ph_walk_text(&w, data.ptr, data.len))
        return check_placeholders(data, attachments, err_at, true);
    if (w.err != SIO_OK && err_at)
        *err_at = w.err_at;
    return w.err;
}
