/* Fuzz target: Engine.IO v3 polling payloads, text ('<len>:<record>') and XHR2 binary
 * framing; the checks are those of eio_payload.c, which this file builds in v3 mode. */
#define EIO_PAYLOAD_V3 1
#include "eio_payload.c"
