/* Numbers and dates as JavaScript writes them, so that a value decoded from a Node peer reaches
 * this server's clients in the same bytes Node's own clients would get (JSON.stringify). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "wire_internal.h"

/* The shortest decimal digits that read back as `d` (d > 0, finite), and the decimal exponent n
 * such that d = 0.DIGITS × 10^n: printf's correctly rounded %e at each precision, the first that
 * round-trips (the closest such digits, as ECMAScript asks). */
static size_t shortest_digits(double d, char digits[24], int *n)
{
    char text[40];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*e", precision - 1, d);
        if (strtod(text, NULL) == d || precision == 17)
            break;
    }
    /* text is "D[.DDD]e±XX" */
    size_t k = 0;
    const char *e = strchr(text, 'e');
    for (const char *c = text; c < e; c++)
        if (*c != '.')
            digits[k++] = *c;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    digits[k] = '\0';
    *n = atoi(e + 1) + 1;
    return k;
}

size_t cluster_js_number(double d, char *out)
{
    size_t len = 0;
    if (d == 0) { /* -0 prints as 0 */
        memcpy(out, "0", 2);
        return 1;
    }
    if (d < 0) {
        out[len++] = '-';
        d = -d;
    }
    char digits[24];
    int n;
    int k = (int)shortest_digits(d, digits, &n);
    if (k <= n && n <= 21) { /* an integer: the digits, then n - k zeros */
        memcpy(out + len, digits, (size_t)k);
        len += (size_t)k;
        for (int i = k; i < n; i++)
            out[len++] = '0';
    } else if (0 < n && n <= 21) { /* the point falls inside the digits */
        memcpy(out + len, digits, (size_t)n);
        len += (size_t)n;
        out[len++] = '.';
        memcpy(out + len, digits + n, (size_t)(k - n));
        len += (size_t)(k - n);
    } else if (-6 < n && n <= 0) { /* 0.000ddd */
        out[len++] = '0';
        out[len++] = '.';
        for (int i = 0; i < -n; i++)
            out[len++] = '0';
        memcpy(out + len, digits, (size_t)k);
        len += (size_t)k;
    } else { /* d[.ddd]e±x */
        out[len++] = digits[0];
        if (k > 1) {
            out[len++] = '.';
            memcpy(out + len, digits + 1, (size_t)(k - 1));
            len += (size_t)(k - 1);
        }
        len += (size_t)snprintf(out + len, 32 - len, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
    out[len] = '\0';
    return len;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

bool cluster_js_date_iso(double ms, char out[48])
{
    /* TimeClip: beyond ±8.64e15 ms a Date is invalid, and JSON.stringify writes null. */
    if (!isfinite(ms) || fabs(ms) > 8.64e15)
        return false;
    int64_t t = (int64_t)ms; /* ToIntegerOrInfinity truncates toward zero */
    int64_t day = t >= 0 ? t / 86400000 : -((-t + 86399999) / 86400000);
    int64_t in_day = t - day * 86400000;
    int64_t y;
    unsigned mo, d;
    civil_from_days(day, &y, &mo, &d);
    unsigned h = (unsigned)(in_day / 3600000), mi = (unsigned)(in_day / 60000 % 60);
    unsigned s = (unsigned)(in_day / 1000 % 60), milli = (unsigned)(in_day % 1000);
    char year[24];
    if (y >= 0 && y <= 9999)
        snprintf(year, sizeof year, "%04lld", (long long)y);
    else /* expanded years: a sign and six digits */
        snprintf(year, sizeof year, "%c%06lld", y < 0 ? '-' : '+', (long long)(y < 0 ? -y : y));
    snprintf(out, 48, "%s-%02u-%02uT%02u:%02u:%02u.%03uZ", year, mo % 100, d % 100, h % 100,
             mi % 100, s % 100, milli % 1000);
    return true;
}
