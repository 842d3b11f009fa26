/* The adapter wire module through plain buffers, for callers outside the server: the vectors'
 * replay (conformance/siocodec/adapter.py, through build/libsiocluster.so), the unit tests and the
 * fuzz target. Not part of the server, which uses wire.h directly. */
#ifndef REFSERVER_CLUSTER_WIRE_FFI_H
#define REFSERVER_CLUSTER_WIRE_FFI_H

#include <stddef.h>
#include <stdint.h>

/* Decodes a message of `kind` (cluster_msg_kind) and writes its description (cluster_msg_describe)
 * into out[0..cap): returns the cluster_err; *written is the description's length, copied only
 * when it fits. */
int cluster_describe_bytes(int kind, const uint8_t *p, size_t len, char *out, size_t cap,
                           size_t *written);

/* Encodes the message a description names, through the server's encoders: returns the
 * cluster_err; *written is the length of the bytes, copied only when they fit. */
int cluster_encode_described(const char *description, char *out, size_t cap, size_t *written);

#endif
