/* siocat: a command-line Socket.IO client that shows what crosses the wire (siocat.c), and its
 * printer (siocat_print.c): every unit the client sends or receives, decoded layer by layer
 * (TCP, HTTP, WebSocket, Engine.IO, Socket.IO), as text lines or JSON lines, with the bytes of
 * each unit in hex and labelled fields on request. */
#ifndef SIOCAT_H
#define SIOCAT_H

#include <stdio.h>

#include "rc.h"

typedef struct printer {
    FILE *out;
    bool json;  /* one JSON object per line */
    bool bytes; /* hex with field labels */
    bool quiet; /* application events only */
    int eio;
    uint64_t t0;
    uint32_t attachments_due[2]; /* binary messages still due for a packet, by direction */
    uint32_t attachments_total[2];
} printer;

/* One line per unit of the trace (with its labelled bytes when asked). */
void print_trace(printer *p, const rc_trace *t, uint64_t now);

/* An application-level line: `what` (connect, event, ack, ...), then key/value pairs as
 * (const char *key, const char *kind, value) triples ended by NULL: kind "s" a C string, "j" raw
 * JSON (const char *), "u" an unsigned long long, "f" a flag (const char *: "true" when set,
 * NULL when not; text shows its name alone, JSON `true`). */
void print_app(printer *p, uint64_t now, const char *what, ...);

/* An error line: stderr always, and stdout in JSON mode. */
void print_error(printer *p, uint64_t now, const char *message);

#endif
