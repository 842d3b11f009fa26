/* Umbrella header: every layer of libsiocodec. */
#ifndef SIO_SIO_H
#define SIO_SIO_H
#include "sio/common.h"
#include "sio/errors.h"
#endif
