/* JSON helpers shared by the codec sources (not part of the public API). */
#ifndef SIO_JSON_INTERNAL_H
#define SIO_JSON_INTERNAL_H

#include "sio/json.h"

/* Starts iterating a container that sio_json_validate has accepted (whitespace around it
 * allowed). Validated text holds nothing but whitespace after its value, so the value ends at
 * the last non-whitespace byte; sio_json_array_iter has to find that end by scanning the whole
 * value instead. The caller knows the container's kind. */
void sio__json_iter_validated(sio_span text, bool is_object, sio_json_iter *it);

/* Index just past the string token whose opening quote is at p[i] (n at the latest). */
size_t sio__json_skip_string(const uint8_t *p, size_t n, size_t i);

/* Index just past the value starting at p[i]: a string, a container up to its matching
 * bracket, or a scalar up to the next whitespace or , ] } : (n at the latest). */
size_t sio__json_skip_value(const uint8_t *p, size_t n, size_t i);

/* Index of the first quote, backslash or bracket at or after p[i] (n when none): in validated
 * text, the next string or container boundary. 16 or 32 bytes at a time on the vector paths. */
size_t sio__json_find_structure(const uint8_t *p, size_t n, size_t i);

/* Index of the first byte at or after p[i] that is not JSON whitespace (n at the latest). */
size_t sio__json_skip_ws(const uint8_t *p, size_t n, size_t i);

/* sio_json_object_get for the object whose '{' is at p[0], inside validated text that may go
 * on after it (n bytes from p to the end of the text): the members are read up to the matching
 * '}', so the object's end need not be found first. */
sio_err sio__json_object_get_validated(const uint8_t *p, size_t n, const char *key, size_t key_len,
                                       sio_span *value);

#endif
