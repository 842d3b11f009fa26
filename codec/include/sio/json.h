/* JSON (RFC 8259): strict validation without a tree, and tree-less helpers over validated text.
 *
 * Socket.IO carries its payloads as JSON text. The codec never builds a tree: it validates the
 * text once (sio_json_validate), then the helpers below read values as views (sio_span) into the
 * caller's buffer. The helpers assume their input is validated JSON; on other input they do not
 * crash or read out of bounds, but their results are unspecified.
 *
 * A "value span" is the exact bytes of one JSON value, with no surrounding whitespace. Helpers
 * that take a value span also accept leading/trailing whitespace around it.
 *
 * Validation rules (all strict RFC 8259, no extensions):
 *   - exactly one value, optionally surrounded by whitespace (space, tab, LF, CR); anything else
 *     after it is SIO_ERR_JSON_TRAILING; an empty or all-whitespace text is SIO_ERR_JSON_EMPTY;
 *   - numbers: no leading zeros, no '+', no bare '.', digits required after '.', 'e' and '-';
 *   - strings: no unescaped byte below 0x20, only the escapes \" \\ \/ \b \f \n \r \t \uXXXX,
 *     a \u escape of a surrogate must form a high+low pair, raw bytes must be valid UTF-8;
 *   - nesting of arrays and objects at most max_depth levels (`[]` is depth 1, `[[]]` depth 2).
 * Duplicate object keys are valid JSON; lookups return the last one, as JavaScript's JSON.parse.
 */
#ifndef SIO_JSON_H
#define SIO_JSON_H

#include "sio/common.h"

/* Default maximum nesting depth. Socket.IO payloads are shallow; a bound keeps a hostile peer
 * from making any consumer recurse without limit. */
#define SIO_JSON_MAX_DEPTH_DEFAULT 64
/* Largest max_depth the validator accepts (its nesting stack is a fixed bit array). */
#define SIO_JSON_MAX_DEPTH_CAP 1024

typedef struct sio_json_options {
    uint32_t max_depth; /* 0 means SIO_JSON_MAX_DEPTH_DEFAULT; above the cap: INVALID_ARGUMENT */
} sio_json_options;

typedef enum sio_json_kind {
    SIO_JSON_NONE = 0, /* not a JSON value (empty span or unexpected first byte) */
    SIO_JSON_OBJECT = 1,
    SIO_JSON_ARRAY = 2,
    SIO_JSON_STRING = 3,
    SIO_JSON_NUMBER = 4,
    SIO_JSON_TRUE = 5,
    SIO_JSON_FALSE = 6,
    SIO_JSON_NULL = 7
} sio_json_kind;

/* Validates `len` bytes as one JSON text. `opt` may be NULL (defaults). On failure returns a
 * SIO_ERR_JSON_* code and sets *err_at (if not NULL) to the offset of the offending byte (for
 * SIO_ERR_JSON_TRUNCATED: `len`; for SIO_ERR_JSON_DEPTH: the bracket that opens one level too
 * many). */
SIO_API sio_err sio_json_validate(const uint8_t *p, size_t len, const sio_json_options *opt,
                                  size_t *err_at);

/* Kind of the value starting at the first non-whitespace byte of `v`. */
SIO_API sio_json_kind sio_json_kind_of(sio_span v);

/* The value span starting at the first non-whitespace byte of `text` (validated JSON), i.e.
 * `text` without surrounding whitespace. */
SIO_API sio_span sio_json_trim(sio_span text);

/* Iteration over the members of an array or object value, in text order. Starting costs O(1);
 * each step skips one member, so a full iteration reads the container once, and walking a whole
 * value by iterating every nested container reads each byte once per level above it. */
typedef struct sio_json_iter {
    const uint8_t *p;
    size_t len;
    size_t pos; /* next byte to read */
    int is_object;
} sio_json_iter;

/* Starts iterating `array` (SIO_ERR_JSON_TYPE if it is not an array). */
SIO_API sio_err sio_json_array_iter(sio_span array, sio_json_iter *it);
/* Starts iterating `object` (SIO_ERR_JSON_TYPE if it is not an object). */
SIO_API sio_err sio_json_object_iter(sio_span object, sio_json_iter *it);
/* Next element: true and *value set, or false at the end. For objects *key is the key's string
 * token including its quotes (use sio_json_string_equals/unescape on it); `key` may be NULL. */
SIO_API bool sio_json_next(sio_json_iter *it, sio_span *key, sio_span *value);

/* Number of elements of an array or members of an object (0 for other kinds). */
SIO_API size_t sio_json_count(sio_span container);

/* Value of member `key` (raw UTF-8, `key_len` bytes, compared after unescaping the JSON key) of
 * the object `object`. SIO_ERR_JSON_TYPE if not an object, SIO_ERR_JSON_NOT_FOUND if absent. */
SIO_API sio_err sio_json_object_get(sio_span object, const char *key, size_t key_len,
                                    sio_span *value);

/* True when the JSON string token `str` (with quotes) unescapes to exactly `s`/`n`. */
SIO_API bool sio_json_string_equals(sio_span str, const uint8_t *s, size_t n);

/* Unescapes the JSON string token `str` (with quotes) into UTF-8. SIO_ERR_JSON_TYPE if `str` is
 * not a string; SIO_ERR_BUFFER_TOO_SMALL with *written = size needed. The result never exceeds
 * the token's length. */
SIO_API sio_err sio_json_string_unescape(sio_span str, uint8_t *out, size_t cap, size_t *written);

/* Integer value of a number token written without fraction or exponent (`-12`, `0`).
 * SIO_ERR_JSON_TYPE if not a number, SIO_ERR_JSON_NOT_INTEGER if it has a fraction or exponent,
 * SIO_ERR_JSON_INT_RANGE if outside int64_t. */
SIO_API sio_err sio_json_get_int(sio_span num, int64_t *out);

/* ---------------------------------------------------------------- writer
 * Writes compact JSON (no whitespace, as JavaScript's JSON.stringify) into a caller buffer.
 * Commas and colons are placed automatically. Every call returns the writer's first error so far
 * (sticky), so a sequence can be checked once at sio_json_writer_finish. When the buffer is too
 * small the writer keeps counting, and finish reports SIO_ERR_BUFFER_TOO_SMALL with the size
 * needed. Strings are escaped as JSON.stringify does: \" \\ \b \f \n \r \t, other bytes below
 * 0x20 as \u00xx, everything else (including U+2028/U+2029 and DEL) unchanged.
 *
 * Binary values are written as placeholders {"_placeholder":true,"num":k}, k counting from 0 in
 * the order they are written: writing the payload depth-first in document order gives exactly
 * Socket.IO's deconstruction numbering; `placeholders` is then the attachment count. */
#define SIO_JSON_WRITER_MAX_DEPTH 64

typedef struct sio_json_writer {
    uint8_t *out;
    size_t cap;
    size_t len;  /* bytes produced so far (may exceed cap) */
    sio_err err; /* first error (never SIO_ERR_BUFFER_TOO_SMALL) */
    uint32_t depth;
    uint32_t placeholders; /* placeholders written so far */
    uint8_t need_comma;    /* the next member needs a separating comma */
    uint8_t after_key;     /* a key was written, its value is due */
    uint8_t done;          /* the top-level value is complete */
    uint8_t is_object[SIO_JSON_WRITER_MAX_DEPTH / 8];
} sio_json_writer;

/* `out` may be NULL when cap is 0 (sizing pass). */
SIO_API void sio_json_writer_init(sio_json_writer *w, uint8_t *out, size_t cap);
SIO_API sio_err sio_json_write_begin_array(sio_json_writer *w);
SIO_API sio_err sio_json_write_end_array(sio_json_writer *w);
SIO_API sio_err sio_json_write_begin_object(sio_json_writer *w);
SIO_API sio_err sio_json_write_end_object(sio_json_writer *w);
/* A member key (UTF-8, escaped here); only inside an object, before each value. */
SIO_API sio_err sio_json_write_key(sio_json_writer *w, const uint8_t *s, size_t n);
/* A string value (UTF-8, escaped here). Invalid UTF-8 is SIO_ERR_JSON_UTF8. */
SIO_API sio_err sio_json_write_string(sio_json_writer *w, const uint8_t *s, size_t n);
SIO_API sio_err sio_json_write_int(sio_json_writer *w, int64_t v);
/* A number given as its JSON text (validated: SIO_ERR_JSON_NUMBER when it is not one). */
SIO_API sio_err sio_json_write_number_text(sio_json_writer *w, const uint8_t *s, size_t n);
SIO_API sio_err sio_json_write_bool(sio_json_writer *w, bool b);
SIO_API sio_err sio_json_write_null(sio_json_writer *w);
/* An already-encoded JSON value, copied verbatim after validation (default options). */
SIO_API sio_err sio_json_write_raw(sio_json_writer *w, const uint8_t *json, size_t n);
/* A binary placeholder; *num (may be NULL) receives its number. */
SIO_API sio_err sio_json_write_placeholder(sio_json_writer *w, uint32_t *num);
/* SIO_OK with *written = length; SIO_ERR_BUFFER_TOO_SMALL with *written = size needed;
 * SIO_ERR_JSON_WRITER_STATE if no complete value was written; or the first error. */
SIO_API sio_err sio_json_writer_finish(sio_json_writer *w, size_t *written);

#endif
