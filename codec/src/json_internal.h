/* JSON helpers shared by the codec sources (not part of the public API). */
#ifndef SIO_JSON_INTERNAL_H
#define SIO_JSON_INTERNAL_H

#include "sio/json.h"

/* Starts iterating a container that sio_json_validate has accepted (whitespace around it
 * allowed). Validated text holds nothing but whitespace after its value, so the value ends at
 * the last non-whitespace byte; sio_json_array_iter has to find that end by scanning the whole
 * value instead. The caller knows the container's kind. */
void json_iter_validated(sio_span text, bool is_object, sio_json_iter *it);

#endif
