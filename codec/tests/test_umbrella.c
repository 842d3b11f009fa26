/* sio/sio.h alone is enough to use every layer: one call into each, with nothing else included
 * (this file fails to compile if the umbrella header misses a layer). */
#include "sio/sio.h"

#include "check.h"

int main(void)
{
    uint8_t out[64];
    size_t n = 0;
    CHECK_ERR(sio_utf8_validate((const uint8_t *)"ok", 2, NULL), SIO_OK);
    CHECK_ERR(sio_base64_encode((const uint8_t *)"ok", 2, out, sizeof out, &n), SIO_OK);
    CHECK_ERR(sio_json_validate((const uint8_t *)"[1]", 3, NULL, NULL), SIO_OK);
    CHECK(sio_ws_parser_sizeof() == sizeof(sio_ws_parser));
    sio_http_parser hp;
    sio_http_parser_init(&hp);
    CHECK(hp.scanned == 0);
    CHECK_ERR(
        sio_eio_packet_encode(4, SIO_EIO_PING, SIO_EIO_ENC_TEXT, NULL, 0, out, sizeof out, &n),
        SIO_OK);
    sio_pkt_options po;
    sio_pkt_options_init(&po);
    CHECK_EQ_INT(po.protocol, 5);
    sio_eio_server_config esc;
    sio_eio_server_config_init(&esc);
    CHECK_EQ_INT(esc.max_queued, SIO_EIO_SERVER_DEFAULT_MAX_QUEUED);
    sio_eio_client_config ecc;
    sio_eio_client_config_init(&ecc);
    CHECK_EQ_INT(ecc.protocol, 4);
    sio_sio_server_config ssc;
    sio_sio_server_config_init(&ssc);
    CHECK_EQ_INT(ssc.connect_timeout_ms, SIO_SIO_SERVER_DEFAULT_CONNECT_TIMEOUT_MS);
    sio_sio_client_config scc;
    sio_sio_client_config_init(&scc);
    CHECK_EQ_INT(scc.delay_ms, SIO_SIO_CLIENT_DEFAULT_DELAY_MS);
    CHECK(sio_simd_available(SIO_SIMD_SCALAR));
    CHECK(sio_err_name(SIO_OK) != NULL && sio_version() != NULL);
    CHECK_DONE();
}
