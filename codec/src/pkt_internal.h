/* Socket.IO packet helpers shared by the codec sources (not part of the public API). */
#ifndef SIO_PKT_INTERNAL_H
#define SIO_PKT_INTERNAL_H

#include "sio/packet.h"

/* sio_pkt_check_payload for a payload that sio_json_validate has just accepted (or no payload):
 * the same verdicts, without rescanning the text to find where the value ends. */
sio_err sio__pkt_check_validated_payload(int type, sio_span data, const sio_pkt_options *opt);

/* sio_pkt_check_placeholders for a payload that sio_json_validate has accepted: the same
 * verdicts and offsets, reading each object without first scanning for its end. */
sio_err sio__pkt_check_validated_placeholders(sio_span data, uint32_t attachments, size_t *err_at);

/* The length of the text sio_pkt_encode writes for `pkt` when it accepts it, computed from the
 * fields without checking them, so a caller sizes its buffer and encodes in one pass. */
size_t sio__pkt_encoded_len(const sio_pkt *pkt);

#endif
