/* Diagnostics on standard error: "<seconds since start>.<ms> <level> <message>". Standard output
 * carries only the READY line (and fixture log records), so tools can read it. */
#include <stdarg.h>
#include <stdio.h>

#include "server.h"

void log_msg(const server *srv, log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    static uint64_t started;
    if (level > srv->cfg.log_level)
        return;
    uint64_t now = loop_now_ms();
    if (started == 0)
        started = now;
    fprintf(stderr, "%llu.%03llu %s ", (unsigned long long)((now - started) / 1000),
            (unsigned long long)((now - started) % 1000), names[level]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
