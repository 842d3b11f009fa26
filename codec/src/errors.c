#include "sio/common.h"

const char *sio_version(void)
{
    return "0.1.0";
}

const char *sio_err_name(int code)
{
    switch (code) {
#define SIO_ERROR(name, value, message)                                                            \
    case value:                                                                                    \
        return #name;
#include "sio/errors_common.def"
#include "sio/errors_json.def"
#include "sio/errors_ws.def"
#include "sio/errors_http.def"
#include "sio/errors_eio.def"
#include "sio/errors_sio.def"
#undef SIO_ERROR
    default:
        return NULL;
    }
}

const char *sio_err_message(int code)
{
    switch (code) {
#define SIO_ERROR(name, value, message)                                                            \
    case value:                                                                                    \
        return message;
#include "sio/errors_common.def"
#include "sio/errors_json.def"
#include "sio/errors_ws.def"
#include "sio/errors_http.def"
#include "sio/errors_eio.def"
#include "sio/errors_sio.def"
#undef SIO_ERROR
    default:
        return "unknown error";
    }
}
