#include "check.h"
#include "sio/common.h"

/* Every code in the tables has a unique name and a message; unknown codes are reported as such. */
int main(void)
{
    int named = 0;
    for (int code = 0; code < 600; code++) {
        const char *name = sio_err_name(code);
        if (!name)
            continue;
        named++;
        CHECK(strncmp(name, "SIO_", 4) == 0);
        CHECK(strcmp(sio_err_message(code), "unknown error") != 0);
        for (int other = code + 1; other < 600; other++) {
            const char *n2 = sio_err_name(other);
            if (n2)
                CHECK(strcmp(name, n2) != 0);
        }
    }
    CHECK(named >= 4);
    CHECK_ERR(SIO_OK, 0);
    CHECK(sio_err_name(-1) == NULL);
    CHECK(strcmp(sio_err_message(9999), "unknown error") == 0);
    CHECK(strcmp(sio_version(), "0.1.0") == 0);
    CHECK_DONE();
}
