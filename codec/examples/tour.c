/* A tour of libsiocodec: what a server does with one polling POST body that carries a Socket.IO
 * binary event, and how it answers over WebSocket. Built and run by `make test`; README.md quotes it. */
#include <stdio.h>
#include <string.h>

#include "sio/eio.h"
#include "sio/packet.h"
#include "sio/ws.h"

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "tour.c:%d: %s\n", __LINE__, #cond);                                   \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(void)
{
    /* 1. An Engine.IO v4 polling body: a message record and a base64 binary record. */
    static const char body[] = "451-[\"upload\",{\"_placeholder\":true,\"num\":0}]\x1e"
                               "bAQID";
    sio_eio_payload_iter it;
    sio_eio_packet rec;
    bool has;
    sio_eio_payload_iter_init(&it, SIO_EIO_PAYLOAD_V4, (const uint8_t *)body, strlen(body), NULL);

    /* 2. Socket.IO: the assembler joins a binary packet with the attachments that follow it. */
    sio_span slots[SIO_PKT_MAX_ATTACHMENTS_DEFAULT];
    sio_pkt_assembler asm_;
    EXPECT(sio_pkt_assembler_init(&asm_, NULL, slots, SIO_PKT_MAX_ATTACHMENTS_DEFAULT) == SIO_OK);
    uint8_t bytes[16];
    size_t nbytes = 0;
    bool complete = false;
    while (sio_eio_payload_next(&it, &rec, &has) == SIO_OK && has) {
        if (!rec.binary) { /* "4" + Socket.IO text */
            EXPECT(rec.type == SIO_EIO_MESSAGE);
            EXPECT(sio_pkt_assembler_text(&asm_, rec.data.ptr, rec.data.len, &complete, NULL) ==
                   SIO_OK);
        } else { /* "b" + base64: decode into our own buffer, then hand it over */
            EXPECT(sio_eio_packet_binary(&rec, false, bytes, sizeof bytes, &nbytes) == SIO_OK);
            EXPECT(sio_pkt_assembler_binary(&asm_, bytes, nbytes, &complete, NULL) == SIO_OK);
        }
    }
    EXPECT(complete);
    sio_pkt pkt;
    const sio_span *att;
    uint32_t natt;
    EXPECT(sio_pkt_assembler_result(&asm_, &pkt, &att, &natt) == SIO_OK);
    EXPECT(pkt.type == SIO_PKT_BINARY_EVENT && natt == 1 && att[0].len == 3);
    printf("event %.*s with %u attachment(s), first byte %02x\n", (int)pkt.data.len,
           (const char *)pkt.data.ptr, (unsigned)natt, att[0].ptr[0]);

    /* 3. The answer, over WebSocket: Socket.IO ack -> Engine.IO message -> server frame (unmasked). */
    sio_pkt ack = {.type = SIO_PKT_ACK,
                   .nsp = sio_span_of("/", 1),
                   .has_id = true,
                   .id = 7,
                   .data = sio_span_of("[\"ok\"]", 6)};
    uint8_t eio_text[64], frame[80];
    size_t n_eio, n_frame;
    /* "4" + the packet text: what sio_pkt_encode then sio_eio_packet_encode write, in one pass */
    EXPECT(sio_pkt_encode_eio_message(&ack, NULL, eio_text, sizeof eio_text, &n_eio) == SIO_OK);
    sio_ws_frame_header h = {.fin = true, .opcode = SIO_WS_OP_TEXT};
    EXPECT(sio_ws_frame_encode(&h, eio_text, n_eio, frame, sizeof frame, &n_frame) == SIO_OK);
    EXPECT(n_frame == 2 + strlen("437[\"ok\"]") &&
           memcmp(frame + 2, "437[\"ok\"]", n_frame - 2) == 0);
    printf("frame: %zu bytes, text %.*s\n", n_frame, (int)(n_frame - 2), (const char *)frame + 2);

    /* 4. Every failure is a named code with a message: an EVENT payload must be an array. */
    EXPECT(sio_pkt_decode((const uint8_t *)"2{}", 3, NULL, &pkt, NULL) == SIO_ERR_PKT_PAYLOAD_KIND);
    printf("2{} -> %s: %s\n", sio_err_name(SIO_ERR_PKT_PAYLOAD_KIND),
           sio_err_message(SIO_ERR_PKT_PAYLOAD_KIND));
    return 0;
}
