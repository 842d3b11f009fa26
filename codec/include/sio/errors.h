/* Every error libsiocodec can return, with a stable name and a one-line message.
 *
 * Codes are grouped by layer in fixed ranges, one definition file per layer:
 *   0-99 common (errors_common.def)   100-199 UTF-8 and JSON (errors_json.def)
 *   200-299 WebSocket (errors_ws.def) 300-399 HTTP heads and bodies (errors_http.def)
 *   400-499 Engine.IO (errors_eio.def) 500-599 Socket.IO (errors_sio.def)
 * A code's number and name never change once released.
 */
#ifndef SIO_ERRORS_H
#define SIO_ERRORS_H

#include "sio/common.h"

typedef enum sio_err {
#define SIO_ERROR(name, value, message) name = value,
#include "sio/errors_common.def"
#include "sio/errors_json.def"
#include "sio/errors_ws.def"
#include "sio/errors_http.def"
#include "sio/errors_eio.def"
#include "sio/errors_sio.def"
#undef SIO_ERROR
    SIO_ERR__END
} sio_err;

/* "SIO_ERR_WS_BAD_OPCODE" for a known code, NULL otherwise. */
SIO_API const char *sio_err_name(int code);
/* One-line English explanation; "unknown error" for an unknown code. */
SIO_API const char *sio_err_message(int code);

#endif
