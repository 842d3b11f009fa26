/* Bytes in JSON text for the client's programs: {"$bin":"<base64>"} anywhere in a value stands
 * for a byte buffer (the convention of conformance/CLIENT-FIXTURE.md). Emits turn such objects
 * into Socket.IO placeholders and attachments; received packets turn back into them for
 * printing. Both walks use the codec's JSON readers and writer, so every other value is copied
 * byte for byte. */
#ifndef RC_BINJSON_H
#define RC_BINJSON_H

#include "rc.h"

/* Attachments per emit the programs build (the codec's default bound on a received packet). */
#define RC_BIN_MAX_ATTACHMENTS SIO_PKT_MAX_ATTACHMENTS_DEFAULT

typedef struct rc_bin_args {
    uint8_t *json; /* the JSON with placeholders */
    size_t json_len;
    sio_span attachments[RC_BIN_MAX_ATTACHMENTS];
    uint32_t count;
    uint8_t *bytes; /* the attachments' storage */
} rc_bin_args;

/* `json` (validated here) with every {"$bin":…} replaced by a placeholder, numbered depth-first.
 * SIO_ERR_JSON_* for invalid JSON, SIO_ERR_BASE64_* for a bad $bin string, SIO_ERR_LIMIT past
 * RC_BIN_MAX_ATTACHMENTS. Free with rc_bin_args_free (also after an error). */
sio_err rc_bin_args_from_json(sio_span json, rc_bin_args *out);
void rc_bin_args_free(rc_bin_args *a);

/* `json` (a received payload) with every placeholder replaced by {"$bin":"<base64>"} of its
 * attachment; a malloc'ed NUL-terminated string, NULL when out of memory. */
char *rc_bin_json_from_packet(sio_span json, const sio_span *attachments, uint32_t count);

/* The elements of a JSON array after the first, as a new array text (malloc'ed, NUL-terminated),
 * and the first element in *first (a view into `array`; empty when there is none). */
char *rc_json_array_rest(sio_span array, sio_span *first);

#endif
