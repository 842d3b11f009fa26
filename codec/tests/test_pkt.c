/* Socket.IO packet decoder: every example of the v5 and v4 protocol documents, REQUIREMENTS.md's
 * group E cases, socket.io-parser's rejected inputs, and the strict/compat split. */
#include "check.h"
#include "sio/packet.h"

enum { STRICT = 1, COMPAT = 2, BOTH = 3 };

struct decode_case {
    const char *text;
    int protocol;
    int modes;   /* the modes this row applies to */
    sio_err err; /* SIO_OK for an accepted packet */
    int type;
    const char *nsp;
    long long id; /* -1: none */
    unsigned attachments;
    const char *data; /* NULL: absent */
};

static const struct decode_case cases[] = {
    /* v5 document, §Packet encoding › Examples and the sample session */
    {"0", 5, BOTH, SIO_OK, 0, "/", -1, 0, NULL},
    {"0/admin,{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}", 5, BOTH, SIO_OK, 0, "/admin", -1, 0,
     "{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}"},
    {"4{\"message\":\"Not authorized\"}", 5, BOTH, SIO_OK, 4, "/", -1, 0,
     "{\"message\":\"Not authorized\"}"},
    {"2[\"foo\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"foo\"]"},
    {"2/admin,[\"bar\"]", 5, BOTH, SIO_OK, 2, "/admin", -1, 0, "[\"bar\"]"},
    {"51-[\"baz\",{\"_placeholder\":true,\"num\":0}]", 5, BOTH, SIO_OK, 5, "/", -1, 1,
     "[\"baz\",{\"_placeholder\":true,\"num\":0}]"},
    {"52-/admin,[\"baz\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", 5,
     BOTH, SIO_OK, 5, "/admin", -1, 2,
     "[\"baz\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]"},
    {"212[\"foo\"]", 5, BOTH, SIO_OK, 2, "/", 12, 0, "[\"foo\"]"},
    {"3/admin,13[\"bar\"]", 5, BOTH, SIO_OK, 3, "/admin", 13, 0, "[\"bar\"]"},
    {"61-15[\"bar\",{\"_placeholder\":true,\"num\":0}]", 5, BOTH, SIO_OK, 6, "/", 15, 1,
     "[\"bar\",{\"_placeholder\":true,\"num\":0}]"},
    {"1", 5, BOTH, SIO_OK, 1, "/", -1, 0, NULL},
    {"1/admin,", 5, BOTH, SIO_OK, 1, "/admin", -1, 0, NULL},
    {"0{\"sid\":\"wZX3oN0bSVIhsaknAAAI\"}", 5, BOTH, SIO_OK, 0, "/", -1, 0,
     "{\"sid\":\"wZX3oN0bSVIhsaknAAAI\"}"},
    {"2[\"hey\",\"Jude\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"hey\",\"Jude\"]"},
    {"0/admin,", 5, BOTH, SIO_OK, 0, "/admin", -1, 0, NULL},
    {"2/admin,1[\"tellme\"]", 5, BOTH, SIO_OK, 2, "/admin", 1, 0, "[\"tellme\"]"},
    {"61-/admin,1[{\"_placeholder\":true,\"num\":0}]", 5, BOTH, SIO_OK, 6, "/admin", 1, 1,
     "[{\"_placeholder\":true,\"num\":0}]"},
    /* v4 document */
    {"2[\"hello\",1]", 4, BOTH, SIO_OK, 2, "/", -1, 0, "[\"hello\",1]"},
    {"2/admin,456[\"project:delete\",123]", 4, BOTH, SIO_OK, 2, "/admin", 456, 0,
     "[\"project:delete\",123]"},
    {"3/admin,456[]", 4, BOTH, SIO_OK, 3, "/admin", 456, 0, "[]"},
    {"4/admin,\"Not authorized\"", 4, BOTH, SIO_OK, 4, "/admin", -1, 0, "\"Not authorized\""},
    {"51-[\"hello\",{\"_placeholder\":true,\"num\":0}]", 4, BOTH, SIO_OK, 5, "/", -1, 1,
     "[\"hello\",{\"_placeholder\":true,\"num\":0}]"},
    {"51-/admin,456[\"project:delete\",{\"_placeholder\":true,\"num\":0}]", 4, BOTH, SIO_OK, 5,
     "/admin", 456, 1, "[\"project:delete\",{\"_placeholder\":true,\"num\":0}]"},
    {"61-/admin,456[{\"_placeholder\":true,\"num\":0}]", 4, BOTH, SIO_OK, 6, "/admin", 456, 1,
     "[{\"_placeholder\":true,\"num\":0}]"},
    /* SIO-suite and REQUIREMENTS.md group E */
    {"0{\"token\":\"123\"}", 5, BOTH, SIO_OK, 0, "/", -1, 0, "{\"token\":\"123\"}"},
    {"0/custom", 5, BOTH, SIO_OK, 0, "/custom", -1, 0, NULL},
    {"1/custom", 5, BOTH, SIO_OK, 1, "/custom", -1, 0, NULL},
    {"0/random", 5, BOTH, SIO_OK, 0, "/random", -1, 0, NULL},
    {"0/,", 5, BOTH, SIO_OK, 0, "/", -1, 0, NULL},
    {"2[\"message\",1,\"2\",{\"3\":[true]}]", 5, BOTH, SIO_OK, 2, "/", -1, 0,
     "[\"message\",1,\"2\",{\"3\":[true]}]"},
    {"2456[\"message-with-ack\",1,\"2\",{\"3\":[false]}]", 5, BOTH, SIO_OK, 2, "/", 456, 0,
     "[\"message-with-ack\",1,\"2\",{\"3\":[false]}]"},
    {"3456[1,\"2\",{\"3\":[false]}]", 5, BOTH, SIO_OK, 3, "/", 456, 0, "[1,\"2\",{\"3\":[false]}]"},
    {"20[\"a\"]", 5, BOTH, SIO_OK, 2, "/", 0, 0, "[\"a\"]"},
    {"2[1,2]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[1,2]"},
    {"2[\"connection\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"connection\"]"},
    {"2[\"error\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"error\"]"},
    {"2[\"connectx\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"connectx\"]"},
    {"2[\"connec\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"connec\"]"},
    /* names one byte past the shortest and longest reserved lengths (7 and 14) */
    {"2[\"removeListeners\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"removeListeners\"]"},
    {"2[\"removeListene\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"removeListene\"]"},
    {"2[\"Connect\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"Connect\"]"},
    /* each reserved length with its last byte changed, a non-ASCII name */
    {"2[\"connecT\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"connecT\"]"},
    {"2[\"disconnecT\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"disconnecT\"]"},
    {"2[\"newListeneR\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"newListeneR\"]"},
    {"2[\"connect_erroR\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"connect_erroR\"]"},
    {"2[\"disconnectinG\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"disconnectinG\"]"},
    {"2[\"removeListeneR\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"removeListeneR\"]"},
    {"2[\"\xc3\xa9v\xc3\xa8nement\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0,
     "[\"\xc3\xa9v\xc3\xa8nement\"]"},
    {"2[\"con\\\"nect\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"con\\\"nect\"]"},
    {"2[-1.5e3,\"connect\"]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[-1.5e3,\"connect\"]"},
    {"2[ 0]", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[ 0]"},
    {"3[]", 5, COMPAT, SIO_OK, 3, "/", -1, 0, "[]"},
    {"30[]", 5, BOTH, SIO_OK, 3, "/", 0, 0, "[]"},
    {"39007199254740991[]", 5, BOTH, SIO_OK, 3, "/", 9007199254740991LL, 0, "[]"},
    {"4\"Unauthorized\"", 5, BOTH, SIO_OK, 4, "/", -1, 0, "\"Unauthorized\""},
    {"510-[\"a\"]", 5, BOTH, SIO_OK, 5, "/", -1, 10, "[\"a\"]"},
    {"2[\"a\"] ", 5, BOTH, SIO_OK, 2, "/", -1, 0, "[\"a\"] "},
    {"4/random,{\"message\":\"Invalid namespace\"}", 5, BOTH, SIO_OK, 4, "/random", -1, 0,
     "{\"message\":\"Invalid namespace\"}"},
    {"2/\xc3\xa9,[\"x\"]", 5, BOTH, SIO_OK, 2, "/\xc3\xa9", -1, 0, "[\"x\"]"},
    /* rejected everywhere */
    {"7", 5, BOTH, SIO_ERR_PKT_TYPE, 0, NULL, -1, 0, NULL},
    {"9[]", 5, BOTH, SIO_ERR_PKT_TYPE, 0, NULL, -1, 0, NULL},
    {"999", 5, BOTH, SIO_ERR_PKT_TYPE, 0, NULL, -1, 0, NULL},
    {"abc", 5, BOTH, SIO_ERR_PKT_TYPE, 0, NULL, -1, 0, NULL},
    {"5", 5, BOTH, SIO_ERR_PKT_ATTACHMENTS, 0, NULL, -1, 0, NULL},
    {"51", 5, BOTH, SIO_ERR_PKT_ATTACHMENTS, 0, NULL, -1, 0, NULL},
    {"51[\"a\"]", 5, BOTH, SIO_ERR_PKT_ATTACHMENTS, 0, NULL, -1, 0, NULL},
    {"5a-", 5, BOTH, SIO_ERR_PKT_ATTACHMENTS, 0, NULL, -1, 0, NULL},
    {"51.23-", 5, BOTH, SIO_ERR_PKT_ATTACHMENTS, 0, NULL, -1, 0, NULL},
    {"5-1-", 5, BOTH, SIO_ERR_PKT_ATTACHMENTS, 0, NULL, -1, 0, NULL},
    {"5-[\"a\"]", 5, BOTH, SIO_ERR_PKT_ATTACHMENTS, 0, NULL, -1, 0, NULL},
    {"511-[\"a\"]", 5, BOTH, SIO_ERR_PKT_TOO_MANY_ATTACHMENTS, 0, NULL, -1, 0, NULL},
    {"599999999999999999999-[\"a\"]", 5, BOTH, SIO_ERR_PKT_TOO_MANY_ATTACHMENTS, 0, NULL, -1, 0,
     NULL},
    {"442[\"some\",\"data\"", 5, COMPAT, SIO_ERR_JSON_TRUNCATED, 0, NULL, -1, 0, NULL},
    {"0/admin,\"invalid\"", 5, BOTH, SIO_ERR_PKT_PAYLOAD_KIND, 0, NULL, -1, 0, NULL},
    {"0[]", 5, BOTH, SIO_ERR_PKT_PAYLOAD_KIND, 0, NULL, -1, 0, NULL},
    {"0null", 5, BOTH, SIO_ERR_PKT_PAYLOAD_KIND, 0, NULL, -1, 0, NULL},
    {"1/admin,{}", 5, BOTH, SIO_ERR_PKT_PAYLOAD_UNEXPECTED, 0, NULL, -1, 0, NULL},
    {"1{}", 5, BOTH, SIO_ERR_PKT_PAYLOAD_UNEXPECTED, 0, NULL, -1, 0, NULL},
    {"2/admin,\"invalid", 5, BOTH, SIO_ERR_JSON_TRUNCATED, 0, NULL, -1, 0, NULL},
    {"2/admin,{}", 5, BOTH, SIO_ERR_PKT_PAYLOAD_KIND, 0, NULL, -1, 0, NULL},
    {"2{}", 5, BOTH, SIO_ERR_PKT_PAYLOAD_KIND, 0, NULL, -1, 0, NULL},
    {"2\"a\"", 5, BOTH, SIO_ERR_PKT_PAYLOAD_KIND, 0, NULL, -1, 0, NULL},
    {"2[{\"toString\":\"foo\"}]", 5, BOTH, SIO_ERR_PKT_EVENT_NAME, 0, NULL, -1, 0, NULL},
    {"2[true,\"foo\"]", 5, BOTH, SIO_ERR_PKT_EVENT_NAME, 0, NULL, -1, 0, NULL},
    {"2[null,\"bar\"]", 5, BOTH, SIO_ERR_PKT_EVENT_NAME, 0, NULL, -1, 0, NULL},
    {"2[]", 5, BOTH, SIO_ERR_PKT_EVENT_EMPTY, 0, NULL, -1, 0, NULL},
    {"2[\"connect\"]", 5, BOTH, SIO_ERR_PKT_EVENT_RESERVED, 0, NULL, -1, 0, NULL},
    {"2[\"disconnect\",\"123\"]", 5, BOTH, SIO_ERR_PKT_EVENT_RESERVED, 0, NULL, -1, 0, NULL},
    {"2[\"connect_error\"]", 5, BOTH, SIO_ERR_PKT_EVENT_RESERVED, 0, NULL, -1, 0, NULL},
    {"2[\"disconnecting\"]", 5, BOTH, SIO_ERR_PKT_EVENT_RESERVED, 0, NULL, -1, 0, NULL},
    {"2[\"newListener\"]", 5, BOTH, SIO_ERR_PKT_EVENT_RESERVED, 0, NULL, -1, 0, NULL},
    {"2[\"removeListener\"]", 5, BOTH, SIO_ERR_PKT_EVENT_RESERVED, 0, NULL, -1, 0, NULL},
    {"2[\"\\u0063onnect\"]", 5, BOTH, SIO_ERR_PKT_EVENT_RESERVED, 0, NULL, -1, 0, NULL},
    /* the event name read from the first bytes: whitespace, numbers, escapes, near misses */
    {"2[ \"connect\"]", 5, BOTH, SIO_ERR_PKT_EVENT_RESERVED, 0, NULL, -1, 0, NULL},
    {"2[\r\n\t\"newListener\" ,1]", 5, BOTH, SIO_ERR_PKT_EVENT_RESERVED, 0, NULL, -1, 0, NULL},
    {"2[\"disconnect\\u0069ng\"]", 5, BOTH, SIO_ERR_PKT_EVENT_RESERVED, 0, NULL, -1, 0, NULL},
    {"2[ ]", 5, BOTH, SIO_ERR_PKT_EVENT_EMPTY, 0, NULL, -1, 0, NULL},
    {"2[ {\"a\":1}]", 5, BOTH, SIO_ERR_PKT_EVENT_NAME, 0, NULL, -1, 0, NULL},
    {"2[ false]", 5, BOTH, SIO_ERR_PKT_EVENT_NAME, 0, NULL, -1, 0, NULL},
    {"51-[\"disconnect\",{\"_placeholder\":true,\"num\":0}]", 5, BOTH, SIO_ERR_PKT_EVENT_RESERVED,
     0, NULL, -1, 0, NULL},
    {"2abc[\"message\"]", 5, BOTH, SIO_ERR_JSON_SYNTAX, 0, NULL, -1, 0, NULL},
    {"2[\"a\"]x", 5, BOTH, SIO_ERR_JSON_TRAILING, 0, NULL, -1, 0, NULL},
    {"2[\"a\"", 5, BOTH, SIO_ERR_JSON_TRUNCATED, 0, NULL, -1, 0, NULL},
    {"31{}", 5, BOTH, SIO_ERR_PKT_PAYLOAD_KIND, 0, NULL, -1, 0, NULL},
    {"31\"a\"", 5, BOTH, SIO_ERR_PKT_PAYLOAD_KIND, 0, NULL, -1, 0, NULL},
    {"4[]", 5, BOTH, SIO_ERR_PKT_PAYLOAD_KIND, 0, NULL, -1, 0, NULL},
    {"41", 5, STRICT, SIO_ERR_PKT_ACK_ID_UNEXPECTED, 0, NULL, -1, 0, NULL},
    {"2 [\"message\"]", 5, BOTH, SIO_ERR_PKT_PAYLOAD_SPACE, 0, NULL, -1, 0, NULL},
    {"21 [\"message\"]", 5, BOTH, SIO_ERR_PKT_PAYLOAD_SPACE, 0, NULL, -1, 0, NULL},
    {"212345678901234567890[\"a\"]", 5, BOTH, SIO_ERR_PKT_ACK_ID_RANGE, 0, NULL, -1, 0, NULL},
    {"29007199254740992[\"a\"]", 5, BOTH, SIO_ERR_PKT_ACK_ID_RANGE, 0, NULL, -1, 0, NULL},
    {"2/\xff,[\"a\"]", 5, BOTH, SIO_ERR_PKT_NSP_INVALID, 0, NULL, -1, 0, NULL},
    {"2[\"a\",\xff]", 5, BOTH, SIO_ERR_JSON_SYNTAX, 0, NULL, -1, 0, NULL},
    {"4{\"message\":\"x\"}", 4, STRICT, SIO_ERR_PKT_PAYLOAD_KIND, 0, NULL, -1, 0, NULL},
    /* strict only */
    {"", 5, STRICT, SIO_ERR_PKT_EMPTY, 0, NULL, -1, 0, NULL},
    {"2", 5, STRICT, SIO_ERR_PKT_PAYLOAD_MISSING, 0, NULL, -1, 0, NULL},
    {"2/admin,", 5, STRICT, SIO_ERR_PKT_PAYLOAD_MISSING, 0, NULL, -1, 0, NULL},
    {"4", 5, STRICT, SIO_ERR_PKT_PAYLOAD_MISSING, 0, NULL, -1, 0, NULL},
    {"51-", 5, STRICT, SIO_ERR_PKT_PAYLOAD_MISSING, 0, NULL, -1, 0, NULL},
    {"3", 5, STRICT, SIO_ERR_PKT_ACK_ID_MISSING, 0, NULL, -1, 0, NULL},
    {"3[]", 4, STRICT, SIO_ERR_PKT_ACK_ID_MISSING, 0, NULL, -1, 0, NULL},
    {"012{}", 5, STRICT, SIO_ERR_PKT_ACK_ID_UNEXPECTED, 0, NULL, -1, 0, NULL},
    {"11", 5, STRICT, SIO_ERR_PKT_ACK_ID_UNEXPECTED, 0, NULL, -1, 0, NULL},
    {"442[\"some\",\"data\"", 5, STRICT, SIO_ERR_PKT_ACK_ID_UNEXPECTED, 0, NULL, -1, 0, NULL},
    {"2007[\"a\"]", 5, STRICT, SIO_ERR_PKT_LEADING_ZERO, 0, NULL, -1, 0, NULL},
    {"501-[\"a\"]", 5, STRICT, SIO_ERR_PKT_LEADING_ZERO, 0, NULL, -1, 0, NULL},
    {"50-[\"a\"]", 5, STRICT, SIO_ERR_PKT_ATTACHMENTS_ZERO, 0, NULL, -1, 0, NULL},
    {"50-", 5, STRICT, SIO_ERR_PKT_ATTACHMENTS_ZERO, 0, NULL, -1, 0, NULL},
    {"2/x1[\"a\"]", 5, STRICT, SIO_ERR_PKT_NSP_UNTERMINATED, 0, NULL, -1, 0, NULL},
    {"0/custom{\"token\":\"1\"}", 5, STRICT, SIO_ERR_PKT_NSP_UNTERMINATED, 0, NULL, -1, 0, NULL},
    /* compat: what Node's parser accepts */
    {"", 5, COMPAT, SIO_OK, 0, "/", -1, 0, NULL},
    {"2", 5, COMPAT, SIO_OK, 2, "/", -1, 0, NULL},
    {"4", 5, COMPAT, SIO_OK, 4, "/", -1, 0, NULL},
    {"3", 5, COMPAT, SIO_OK, 3, "/", -1, 0, NULL},
    {"31", 5, COMPAT, SIO_OK, 3, "/", 1, 0, NULL},
    {"012{}", 5, COMPAT, SIO_OK, 0, "/", 12, 0, "{}"},
    {"2007[\"a\"]", 5, COMPAT, SIO_OK, 2, "/", 7, 0, "[\"a\"]"},
    {"501-[\"a\"]", 5, COMPAT, SIO_OK, 5, "/", -1, 1, "[\"a\"]"},
    {"50-[\"message\",\"z\"]", 5, COMPAT, SIO_OK, 5, "/", -1, 0, "[\"message\",\"z\"]"},
    {"2/x1[\"a\"]", 5, COMPAT, SIO_OK, 2, "/x1[\"a\"]", -1, 0, NULL},
    {"4{\"message\":\"x\"}", 4, COMPAT, SIO_OK, 4, "/", -1, 0, "{\"message\":\"x\"}"},
    {"3[]", 4, COMPAT, SIO_OK, 3, "/", -1, 0, "[]"},
};

static void run_case(const struct decode_case *c, int mode)
{
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    opt.protocol = c->protocol;
    opt.compat = mode == COMPAT;
    sio_pkt pkt;
    size_t at = 0;
    sio_err e = sio_pkt_decode((const uint8_t *)c->text, strlen(c->text), &opt, &pkt, &at);
    if (e != c->err)
        fprintf(stderr, "case \"%s\" (%s): got %s at %zu\n", c->text,
                mode == COMPAT ? "compat" : "strict", sio_err_name(e), at);
    CHECK_ERR(e, c->err);
    if (e != SIO_OK || c->err != SIO_OK) {
        CHECK(at <= strlen(c->text));
        return;
    }
    CHECK_EQ_INT(pkt.type, c->type);
    CHECK_STR(pkt.nsp.ptr, pkt.nsp.len, c->nsp);
    CHECK_EQ_INT(pkt.has_id, c->id >= 0);
    if (c->id >= 0)
        CHECK_EQ_INT(pkt.id, c->id);
    CHECK_EQ_INT(pkt.attachments, c->attachments);
    if (c->data)
        CHECK_STR(pkt.data.ptr, pkt.data.len, c->data);
    else
        CHECK(pkt.data.ptr == NULL);
}

static void test_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].modes & STRICT)
            run_case(&cases[i], STRICT);
        if (cases[i].modes & COMPAT)
            run_case(&cases[i], COMPAT);
    }
}

static void test_error_offsets(void)
{
    sio_pkt pkt;
    size_t at = 99;
    CHECK_ERR(sio_pkt_decode((const uint8_t *)"2/admin,[\"a\"]x", 14, NULL, &pkt, &at),
              SIO_ERR_JSON_TRAILING);
    CHECK_EQ_INT(at, 13);
    CHECK_ERR(sio_pkt_decode((const uint8_t *)"52x", 3, NULL, &pkt, &at), SIO_ERR_PKT_ATTACHMENTS);
    CHECK_EQ_INT(at, 2);
    CHECK_ERR(sio_pkt_decode((const uint8_t *)"2/x1[\"a\"]", 9, NULL, &pkt, &at),
              SIO_ERR_PKT_NSP_UNTERMINATED);
    CHECK_EQ_INT(at, 4);
    CHECK_ERR(sio_pkt_decode((const uint8_t *)"x", 1, NULL, &pkt, &at), SIO_ERR_PKT_TYPE);
    CHECK_EQ_INT(at, 0);
}

/* v4 CONNECT carries the query string inside the namespace [SIO-PKT-19]. */
static void test_v4_query(void)
{
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    opt.protocol = 4;
    sio_pkt pkt;
    const char *t = "0/custom?token=abc,";
    CHECK_ERR(sio_pkt_decode((const uint8_t *)t, strlen(t), &opt, &pkt, NULL), SIO_OK);
    CHECK_STR(pkt.nsp.ptr, pkt.nsp.len, "/custom");
    CHECK_STR(pkt.query.ptr, pkt.query.len, "token=abc");
    /* In v5 the '?' is part of the namespace; in v4 only CONNECT splits it. */
    opt.protocol = 5;
    CHECK_ERR(sio_pkt_decode((const uint8_t *)t, strlen(t), &opt, &pkt, NULL), SIO_OK);
    CHECK_STR(pkt.nsp.ptr, pkt.nsp.len, "/custom?token=abc");
    CHECK_EQ_INT(pkt.query.len, 0);
    opt.protocol = 4;
    const char *ev = "2/a?b,[\"x\"]";
    CHECK_ERR(sio_pkt_decode((const uint8_t *)ev, strlen(ev), &opt, &pkt, NULL), SIO_OK);
    CHECK_STR(pkt.nsp.ptr, pkt.nsp.len, "/a?b");
}

static void test_depth_option(void)
{
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    opt.json_max_depth = 2;
    sio_pkt pkt;
    CHECK_ERR(sio_pkt_decode((const uint8_t *)"2[\"a\",[1]]", 10, &opt, &pkt, NULL), SIO_OK);
    CHECK_ERR(sio_pkt_decode((const uint8_t *)"2[\"a\",[[1]]]", 12, &opt, &pkt, NULL),
              SIO_ERR_JSON_DEPTH);
    opt.max_attachments = 2;
    CHECK_ERR(sio_pkt_decode((const uint8_t *)"52-[\"a\"]", 8, &opt, &pkt, NULL), SIO_OK);
    CHECK_ERR(sio_pkt_decode((const uint8_t *)"53-[\"a\"]", 8, &opt, &pkt, NULL),
              SIO_ERR_PKT_TOO_MANY_ATTACHMENTS);
}

static void test_names(void)
{
    CHECK(strcmp(sio_pkt_type_name(4, 5), "CONNECT_ERROR") == 0);
    CHECK(strcmp(sio_pkt_type_name(4, 4), "ERROR") == 0);
    CHECK(strcmp(sio_pkt_type_name(6, 5), "BINARY_ACK") == 0);
    CHECK(sio_pkt_type_name(7, 5) == NULL);
    CHECK(sio_pkt_type_name(-1, 5) == NULL);
}

static uint32_t lcg(uint32_t *state)
{
    *state = *state * 1103515245u + 12345u;
    return *state >> 8;
}

static bool same_span(sio_span a, sio_span b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Whatever the strict decoder accepts, the encoder writes, and the result decodes to the same
 * fields: mutations of valid packets must never break that (nor crash, under ASan). */
static void test_mutations_round_trip(void)
{
    static const char *const seeds[] = {
        "52-/admin,7[\"baz\",{\"_placeholder\":true,\"num\":0},{\"x\":1}]",
        "0/custom,{\"token\":\"abc\"}",
        "3/a,13[\"bar\",[1,2]]",
        "4{\"message\":\"Not authorized\"}",
    };
    static const char alphabet[] = "0123456/,-[]{}\"a ";
    uint32_t rng = 777;
    int accepted = 0;
    char buf[96];
    uint8_t out[128];
    for (int round = 0; round < 20000; round++) {
        const char *seed = seeds[round % 4];
        size_t n = strlen(seed), pos = lcg(&rng) % n;
        memcpy(buf, seed, n + 1);
        char c = alphabet[lcg(&rng) % (sizeof alphabet - 1)];
        if (lcg(&rng) % 2) {
            buf[pos] = c;
        } else {
            memmove(buf + pos, buf + pos + 1, n - pos);
            n--;
        }
        sio_pkt a, b;
        if (sio_pkt_decode((const uint8_t *)buf, n, NULL, &a, NULL) != SIO_OK)
            continue;
        /* A lone binary header is not checked against attachments it does not have yet; the
         * encoder, which knows the count, refuses bad placeholders. */
        if (a.attachments > 0 &&
            sio_pkt_check_placeholders(a.data, a.attachments, NULL) != SIO_OK) {
            size_t len = 0;
            sio_err e = sio_pkt_encode(&a, NULL, out, sizeof out, &len);
            CHECK(e == SIO_ERR_PKT_PLACEHOLDER || e == SIO_ERR_PKT_PLACEHOLDER_RANGE);
            continue;
        }
        accepted++;
        size_t len = 0;
        sio_err e = sio_pkt_encode(&a, NULL, out, sizeof out, &len);
        CHECK_ERR(e, SIO_OK);
        if (e != SIO_OK) {
            fprintf(stderr, "decoded but not encodable: %s\n", buf);
            continue;
        }
        CHECK_ERR(sio_pkt_decode(out, len, NULL, &b, NULL), SIO_OK);
        bool same = a.type == b.type && a.attachments == b.attachments && a.has_id == b.has_id &&
                    a.id == b.id && same_span(a.nsp, b.nsp) && same_span(a.data, b.data);
        if (!same)
            fprintf(stderr, "round trip changed: %s\n", buf);
        CHECK(same);
    }
    CHECK(accepted > 1000);
}

int main(void)
{
    test_table();
    test_mutations_round_trip();
    test_error_offsets();
    test_v4_query();
    test_depth_option();
    test_names();
    CHECK_DONE();
}
