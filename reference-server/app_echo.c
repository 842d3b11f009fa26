/* The Engine.IO echo application (FIXTURE.md section 4): every message goes straight back to its
 * session, text as text and binary as binary; nothing else is ever sent. */
#include "eio.h"

static void echo_message(session *s, bool binary, const uint8_t *p, size_t n)
{
    eio_send(s, binary, p, n);
}

const eio_app echo_app = {NULL, echo_message, NULL};
