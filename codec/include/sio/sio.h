/* Umbrella header: every layer of libsiocodec. */
#ifndef SIO_SIO_H
#define SIO_SIO_H

#include "sio/common.h"
#include "sio/errors.h"
#include "sio/utf8.h"
#include "sio/base64.h"
#include "sio/json.h"
#include "sio/ws.h"
#include "sio/http.h"
#include "sio/eio.h"
#include "sio/packet.h"
#include "sio/simd.h"
#include "sio/eio_server.h"
#include "sio/eio_client.h"
#include "sio/sio_server.h"
#include "sio/sio_client.h"

#endif
