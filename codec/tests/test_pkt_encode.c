/* Socket.IO packet encoder: the documents' examples byte for byte, namespace and type rules,
 * sizing, refusals, and decode(encode(p)) == p. */
#include "pkt_internal.h"     /* sio__pkt_encoded_len, called directly (codec/src) */
#include "session_internal.h" /* sio__pkt_encode_alloc, likewise */

#include "check.h"
#include "counting_alloc.h"
#include "sio/eio.h"
#include "sio/packet.h"
#include "sio/utf8.h"

static sio_span S(const char *s)
{
    return s ? sio_span_of(s, strlen(s)) : SIO_SPAN_NULL;
}

static sio_pkt make(int type, const char *nsp, long long id, unsigned attachments, const char *data)
{
    sio_pkt p;
    memset(&p, 0, sizeof p);
    p.type = (sio_pkt_type)type;
    p.nsp = S(nsp ? nsp : "/");
    p.has_id = id >= 0;
    p.id = id >= 0 ? (uint64_t)id : 0;
    p.attachments = attachments;
    p.data = S(data);
    return p;
}

/* Attachments for the payload encoder: attachment k of a list is k % 5 bytes long, so every base64
 * remainder and the empty attachment come up. */
#define MAX_LIST_ATTACHMENTS 256
static const uint8_t attachment_bytes[4] = {0xFB, 0xFF, 0x00, 0x3E};

/* Fills att and returns how many; false past MAX_LIST_ATTACHMENTS (the attachment counts of up to
 * 100,000 that test_encoded_len_digits writes). */
static bool list_attachments(const sio_pkt *pkts, size_t count, sio_span *att, size_t *natt)
{
    *natt = 0;
    for (size_t i = 0; i < count; i++) {
        if (pkts[i].attachments > MAX_LIST_ATTACHMENTS - *natt)
            return false;
        for (uint32_t k = 0; k < pkts[i].attachments; k++, ++*natt)
            att[*natt] = sio_span_of(*natt % 5 ? attachment_bytes : NULL, *natt % 5);
    }
    return true;
}

/* The payload encoder gives what sio_pkt_encode of each packet then sio_eio_payload_encode (v4)
 * of the texts and attachments give: the same error, or the same bytes, with the same sizing
 * answers. */
static void check_eio_payload(const sio_pkt *pkts, size_t count, const sio_pkt_options *opt)
{
    static sio_span att[MAX_LIST_ATTACHMENTS];
    static sio_eio_packet recs[64 + MAX_LIST_ATTACHMENTS];
    static uint8_t texts[4096], two[8192], one[8192];
    size_t natt = 0, nrec = 0, used = 0, a = 0, twon = 0;
    if (!list_attachments(pkts, count, att, &natt))
        return;
    sio_err want = SIO_OK;
    for (size_t i = 0; i < count && want == SIO_OK; i++) {
        size_t tn = 0;
        want = sio_pkt_encode(&pkts[i], opt, texts + used, sizeof texts - used, &tn);
        recs[nrec++] = (sio_eio_packet){SIO_EIO_MESSAGE, false, false, {texts + used, tn}};
        used += tn;
        for (uint32_t k = 0; k < pkts[i].attachments; k++)
            recs[nrec++] = (sio_eio_packet){SIO_EIO_MESSAGE, true, false, att[a++]};
    }
    if (want == SIO_OK)
        want = sio_eio_payload_encode(SIO_EIO_PAYLOAD_V4, recs, nrec, two, sizeof two, &twon);
    size_t onen = 0, n = 0;
    sio_err got = sio_pkt_encode_eio_payload(pkts, count, att, natt, opt, one, sizeof one, &onen);
    CHECK_ERR(got, want);
    if (want != SIO_OK || got != SIO_OK)
        return;
    CHECK_MEM(one, onen, two, twon);
    CHECK_ERR(sio_pkt_encode_eio_payload(pkts, count, att, natt, opt, NULL, 0, &n),
              SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, onen);
    CHECK_ERR(sio_pkt_encode_eio_payload(pkts, count, att, natt, opt, one, onen - 1, &n),
              SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, onen);
    memset(one, 0, sizeof one);
    CHECK_ERR(sio_pkt_encode_eio_payload(pkts, count, att, natt, opt, one, onen, &n), SIO_OK);
    CHECK_MEM(one, n, two, twon);
}

/* The Engine.IO message encoder gives what the two encoders give one after the other: the same
 * error, or the same bytes (also under Engine.IO v3), with the same sizing answers. The packet
 * alone as a polling payload is checked too. */
static void check_eio_message(const sio_pkt *p, const sio_pkt_options *opt)
{
    check_eio_payload(p, 1, opt);
    uint8_t text[512], two[512], one[512];
    size_t tn = 0, twon = 0, onen = 0, v3n = 0;
    sio_err want = sio_pkt_encode(p, opt, text, sizeof text, &tn);
    if (want == SIO_OK)
        want = sio_eio_packet_encode(4, SIO_EIO_MESSAGE, SIO_EIO_ENC_TEXT, text, tn, two,
                                     sizeof two, &twon);
    sio_err got = sio_pkt_encode_eio_message(p, opt, one, sizeof one, &onen);
    CHECK_ERR(got, want);
    if (want != SIO_OK || got != SIO_OK)
        return;
    CHECK_MEM(one, onen, two, twon);
    CHECK_ERR(sio_eio_packet_encode(3, SIO_EIO_MESSAGE, SIO_EIO_ENC_TEXT, text, tn, two, sizeof two,
                                    &v3n),
              SIO_OK);
    CHECK_MEM(one, onen, two, v3n);
    size_t n = 0;
    CHECK_ERR(sio_pkt_encode_eio_message(p, opt, NULL, 0, &n), SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, onen);
    CHECK_ERR(sio_pkt_encode_eio_message(p, opt, one, onen - 1, &n), SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, onen);
    CHECK_ERR(sio_pkt_encode_eio_message(p, opt, one, onen, NULL), SIO_OK);
    CHECK_MEM(one, onen, two, twon);
}

static void check_encode(const sio_pkt *p, const sio_pkt_options *opt, const char *want)
{
    uint8_t buf[256];
    size_t n = 0;
    sio_err e = sio_pkt_encode(p, opt, buf, sizeof buf, &n);
    CHECK_ERR(e, SIO_OK);
    if (e != SIO_OK)
        return;
    CHECK_STR(buf, n, want);
    CHECK_EQ_INT(sio__pkt_encoded_len(p), n); /* what the sessions size their buffers by */
    /* Round trip: what we write decodes back to the same fields. */
    sio_pkt back;
    CHECK_ERR(sio_pkt_decode(buf, n, opt, &back, NULL), SIO_OK);
    CHECK_EQ_INT(back.attachments, p->attachments);
    CHECK_EQ_INT(back.has_id, p->has_id);
    CHECK_EQ_INT(back.id, p->id);
    CHECK_EQ_INT(back.data.len, p->data.len);
    check_eio_message(p, opt);
}

static void test_examples(void)
{
    sio_pkt p;
    p = make(0, "/", -1, 0, NULL);
    check_encode(&p, NULL, "0");
    p = make(0, "/admin", -1, 0, "{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}");
    check_encode(&p, NULL, "0/admin,{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}");
    p = make(4, "/", -1, 0, "{\"message\":\"Not authorized\"}");
    check_encode(&p, NULL, "4{\"message\":\"Not authorized\"}");
    p = make(2, "/", -1, 0, "[\"foo\"]");
    check_encode(&p, NULL, "2[\"foo\"]");
    p = make(2, "/admin", -1, 0, "[\"bar\"]");
    check_encode(&p, NULL, "2/admin,[\"bar\"]");
    p = make(2, "/", -1, 1, "[\"baz\",{\"_placeholder\":true,\"num\":0}]");
    check_encode(&p, NULL, "51-[\"baz\",{\"_placeholder\":true,\"num\":0}]");
    p = make(5, "/admin", -1, 2,
             "[\"baz\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
    check_encode(&p, NULL,
                 "52-/admin,[\"baz\",{\"_placeholder\":true,\"num\":0},"
                 "{\"_placeholder\":true,\"num\":1}]");
    p = make(2, "/", 12, 0, "[\"foo\"]");
    check_encode(&p, NULL, "212[\"foo\"]");
    p = make(3, "/admin", 13, 0, "[\"bar\"]");
    check_encode(&p, NULL, "3/admin,13[\"bar\"]");
    p = make(3, "/", 15, 1, "[\"bar\",{\"_placeholder\":true,\"num\":0}]");
    check_encode(&p, NULL, "61-15[\"bar\",{\"_placeholder\":true,\"num\":0}]");
    p = make(1, "/", -1, 0, NULL);
    check_encode(&p, NULL, "1");
    p = make(1, "/admin", -1, 0, NULL);
    check_encode(&p, NULL, "1/admin,");
    p = make(3, "/", 456, 0, "[1,\"2\",{\"3\":[false]}]");
    check_encode(&p, NULL, "3456[1,\"2\",{\"3\":[false]}]");
    p = make(6, "/", 789, 2,
             "[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
    check_encode(&p, NULL,
                 "62-789[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
    p = make(4, "/random", -1, 0, "{\"message\":\"Invalid namespace\"}");
    check_encode(&p, NULL, "4/random,{\"message\":\"Invalid namespace\"}");
    /* An empty namespace span means the root too. */
    p = make(2, "", -1, 0, "[\"x\"]");
    check_encode(&p, NULL, "2[\"x\"]");
    /* A namespace decoded without its comma (the suite's "40/custom") is written with it. */
    sio_pkt d;
    CHECK_ERR(sio_pkt_decode((const uint8_t *)"0/custom", 8, NULL, &d, NULL), SIO_OK);
    check_encode(&d, NULL, "0/custom,");
    CHECK_ERR(sio_pkt_decode((const uint8_t *)"1/custom", 8, NULL, &d, NULL), SIO_OK);
    check_encode(&d, NULL, "1/custom,");
    CHECK_ERR(sio_pkt_decode((const uint8_t *)"0/,", 3, NULL, &d, NULL), SIO_OK);
    check_encode(&d, NULL, "0");
    /* Type 5 with no attachments is written as a plain EVENT. */
    p = make(5, "/", -1, 0, "[\"x\"]");
    uint8_t buf[32];
    size_t n;
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_OK);
    CHECK_STR(buf, n, "2[\"x\"]");
}

static void test_v4(void)
{
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    opt.protocol = 4;
    sio_pkt p = make(0, "/admin", -1, 0, NULL);
    check_encode(&p, &opt, "0/admin,");
    p = make(4, "/admin", -1, 0, "\"Not authorized\"");
    check_encode(&p, &opt, "4/admin,\"Not authorized\"");
    p = make(3, "/admin", 456, 0, "[]");
    check_encode(&p, &opt, "3/admin,456[]");
    p = make(6, "/admin", 456, 1, "[{\"_placeholder\":true,\"num\":0}]");
    check_encode(&p, &opt, "61-/admin,456[{\"_placeholder\":true,\"num\":0}]");
    p = make(0, "/custom", -1, 0, NULL);
    p.query = S("token=abc");
    check_encode(&p, &opt, "0/custom?token=abc,");
    /* v4 ERROR with an object: strict refuses, compat writes it (Node does for v4 clients). */
    p = make(4, "/random", -1, 0, "{\"message\":\"Invalid namespace\"}");
    uint8_t buf[64];
    size_t n;
    CHECK_ERR(sio_pkt_encode(&p, &opt, buf, sizeof buf, &n), SIO_ERR_PKT_PAYLOAD_KIND);
    opt.compat = true;
    check_encode(&p, &opt, "4/random,{\"message\":\"Invalid namespace\"}");
    /* A query string exists only on v4 CONNECT. */
    opt.compat = false;
    p = make(2, "/custom", -1, 0, "[\"a\"]");
    p.query = S("x=1");
    CHECK_ERR(sio_pkt_encode(&p, &opt, buf, sizeof buf, &n), SIO_ERR_INVALID_ARGUMENT);
    opt.protocol = 5;
    p = make(0, "/custom", -1, 0, NULL);
    p.query = S("x=1");
    CHECK_ERR(sio_pkt_encode(&p, &opt, buf, sizeof buf, &n), SIO_ERR_INVALID_ARGUMENT);
}

static void test_refusals(void)
{
    static const struct {
        const char *nsp, *data;
        sio_err want;
    } refused[] = {
        {"/a,b", "[\"hello\"]", SIO_ERR_PKT_NSP_COMMA},
        {"admin", "[\"hello\"]", SIO_ERR_PKT_NSP_INVALID},
        {"/\xC3", "[\"hello\"]", SIO_ERR_PKT_NSP_INVALID},
        {"/", "[\"connect\"]", SIO_ERR_PKT_EVENT_RESERVED},
        {"/", "[\"a\",]", SIO_ERR_JSON_SYNTAX},
        {"/", " [\"a\"]", SIO_ERR_PKT_PAYLOAD_SPACE},
        {"/", "[\"\xC3\"]", SIO_ERR_JSON_UTF8},
        {"/", "[\"a\xED\xA0\x80\"]", SIO_ERR_JSON_UTF8},
        {"/", "[\"a\"]\xC3\xA9", SIO_ERR_JSON_TRAILING},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sio_pkt r = make(2, refused[i].nsp, -1, 0, refused[i].data);
        uint8_t out[64];
        size_t w = 0;
        CHECK_ERR(sio_pkt_encode_eio_message(&r, NULL, out, sizeof out, &w), refused[i].want);
        check_eio_message(&r, NULL);
    }
    uint8_t buf[64];
    size_t n;
    sio_pkt p = make(2, "/a,b", -1, 0, "[\"hello\"]");
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_PKT_NSP_COMMA);
    p = make(2, "/a,b", -1, 1, "[\"hello\",{\"_placeholder\":true,\"num\":0}]");
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_PKT_NSP_COMMA);
    p = make(2, "admin", -1, 0, "[\"hello\"]");
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_PKT_NSP_INVALID);
    p = make(7, "/", -1, 0, NULL);
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_PKT_TYPE);
    p = make(0, "/", -1, 1, "{}");
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_INVALID_ARGUMENT);
    p = make(2, "/", -1, 0, "[\"connect\"]");
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_PKT_EVENT_RESERVED);
    p = make(1, "/", -1, 0, "{}");
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_PKT_PAYLOAD_UNEXPECTED);
    p = make(0, "/", -1, 0, "[]");
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_PKT_PAYLOAD_KIND);
    p = make(2, "/", -1, 0, "[\"a\",]");
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_JSON_SYNTAX);
    p = make(2, "/", -1, 0, " [\"a\"]");
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_PKT_PAYLOAD_SPACE);
    p = make(2, "/", -1, 0, NULL);
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_PKT_PAYLOAD_MISSING);
    p = make(3, "/", -1, 0, "[]");
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_PKT_ACK_ID_MISSING);
    p = make(0, "/", 1, 0, NULL);
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_PKT_ACK_ID_UNEXPECTED);
    p = make(2, "/", (long long)SIO_PKT_ACK_ID_MAX + 1, 0, "[\"a\"]");
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_PKT_ACK_ID_RANGE);
    p = make(2, "/", -1, 11, "[\"a\"]");
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_PKT_TOO_MANY_ATTACHMENTS);
    p = make(2, "/", -1, 1, "[\"a\",{\"_placeholder\":true,\"num\":1}]");
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_ERR_PKT_PLACEHOLDER_RANGE);
    p = make(2, "/", (long long)SIO_PKT_ACK_ID_MAX, 0, "[\"a\"]");
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sizeof buf, &n), SIO_OK);
    CHECK_STR(buf, n, "29007199254740991[\"a\"]");
}

/* The query is the one part of the text the packet checks leave unchecked for UTF-8: the
 * Engine.IO message encoder checks it as sio_eio_packet_encode checks the whole text, a character
 * cut short by the comma after it included. */
static void test_eio_message_query(void)
{
    static const char *const queries[] = {
        "t=\xC3\xA9",         "t=\xC3",     "\xC3",    "t=\xE2\x82",     "t=\xF0\x9F\x99",
        "t=\xF0\x9F\x99\x82", "t=\xFF",     "t=\x80x", "t=\xED\xA0\x80", "t=\xC0\xAF",
        "t=\xF4\x90\x80\x80", "t=1&u=\xC3", "t=1&u=2",
    };
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    opt.protocol = 4;
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        for (int with_nsp = 0; with_nsp < 2; with_nsp++) {
            sio_pkt p = make(0, with_nsp ? "/admin" : "/", -1, 0, with_nsp ? "{}" : NULL);
            p.query = S(queries[i]);
            check_eio_message(&p, &opt);
            bool utf8 = sio_utf8_validate(p.query.ptr, p.query.len, NULL) == SIO_OK;
            size_t w = 0;
            uint8_t out[64];
            CHECK_ERR(sio_pkt_encode_eio_message(&p, &opt, out, sizeof out, &w),
                      utf8 ? SIO_OK : SIO_ERR_UTF8_INVALID);
        }
    }
}

/* Lists of packets as one polling payload: every prefix and rotation of a mixed list (namespaces,
 * ack ids, a binary event with two attachments, an ack, a CONNECT with auth); the first refused
 * packet's own error before any record's; 0x1E in a namespace or a query, and after a query that
 * is not UTF-8; the arguments. */
static void test_eio_payload(void)
{
    const sio_pkt list[] = {
        make(2, "/", -1, 0, "[\"hello\"]"),
        make(2, "/chat", 42, 0, "[\"a\",1]"),
        make(2, "/", 7, 2,
             "[\"up\",{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0}]"),
        make(3, "/chat", 7, 0, "[]"),
        make(0, "/admin", -1, 0, "{\"token\":\"\xC3\xA9\"}"),
        make(1, "/admin", -1, 0, NULL),
    };
    enum { N = sizeof list / sizeof list[0] };
    sio_pkt rot[N];
    for (size_t len = 1; len <= N; len++)
        for (size_t first = 0; first < N; first++) {
            for (size_t k = 0; k < len; k++)
                rot[k] = list[(first + k) % N];
            check_eio_payload(rot, len, NULL);
        }
    sio_pkt sep_nsp = make(0, "/a\036b", -1, 0, NULL), refused = make(2, "/", -1, 0, "[\"a\",]");
    sio_pkt two[2] = {list[0], sep_nsp};
    uint8_t out[256];
    size_t n = 99;
    CHECK_ERR(sio_pkt_encode_eio_payload(two, 2, NULL, 0, NULL, out, sizeof out, &n),
              SIO_ERR_EIO_SEPARATOR_IN_TEXT);
    CHECK_EQ_INT(n, 0);
    check_eio_payload(two, 2, NULL);
    two[0] = sep_nsp; /* the packet's own error comes first, as sio_pkt_encode meets it first */
    two[1] = refused;
    CHECK_ERR(sio_pkt_encode_eio_payload(two, 2, NULL, 0, NULL, out, sizeof out, &n),
              SIO_ERR_JSON_SYNTAX);
    check_eio_payload(two, 2, NULL);
    sio_pkt_options v4;
    sio_pkt_options_init(&v4);
    v4.protocol = 4;
    static const char *const queries[] = {"t=\036", "\036", "t=1&u=\036x", "t=\xC3&u=\036"};
    static const sio_err want[] = {SIO_ERR_EIO_SEPARATOR_IN_TEXT, SIO_ERR_EIO_SEPARATOR_IN_TEXT,
                                   SIO_ERR_EIO_SEPARATOR_IN_TEXT, SIO_ERR_UTF8_INVALID};
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        sio_pkt q = make(0, "/admin", -1, 0, "{}");
        q.query = S(queries[i]);
        CHECK_ERR(sio_pkt_encode_eio_payload(&q, 1, NULL, 0, &v4, out, sizeof out, &n), want[i]);
        check_eio_payload(&q, 1, &v4);
    }
    /* Arguments: no packets, attachments that do not add up, a missing list or span, no *written. */
    sio_span att[2] = {S("ab"), S("c")};
    CHECK_ERR(sio_pkt_encode_eio_payload(list, 0, NULL, 0, NULL, out, sizeof out, &n),
              SIO_ERR_INVALID_ARGUMENT);
    CHECK_ERR(sio_pkt_encode_eio_payload(list, 3, att, 1, NULL, out, sizeof out, &n),
              SIO_ERR_INVALID_ARGUMENT);
    CHECK_ERR(sio_pkt_encode_eio_payload(list, 2, att, 1, NULL, out, sizeof out, &n),
              SIO_ERR_INVALID_ARGUMENT);
    CHECK_ERR(sio_pkt_encode_eio_payload(list, 3, NULL, 2, NULL, out, sizeof out, &n),
              SIO_ERR_INVALID_ARGUMENT);
    CHECK_ERR(sio_pkt_encode_eio_payload(NULL, 1, NULL, 0, NULL, out, sizeof out, &n),
              SIO_ERR_INVALID_ARGUMENT);
    att[1] = sio_span_of(NULL, 1);
    CHECK_ERR(sio_pkt_encode_eio_payload(list, 3, att, 2, NULL, out, sizeof out, &n),
              SIO_ERR_INVALID_ARGUMENT);
    CHECK_ERR(sio_pkt_encode_eio_payload(list, 1, NULL, 0, NULL, out, sizeof out, NULL),
              SIO_ERR_INVALID_ARGUMENT);
    att[1] = S("c");
    CHECK_ERR(sio_pkt_encode_eio_payload(list, 3, att, 2, NULL, out, sizeof out, &n), SIO_OK);
    CHECK_STR(out, n,
              "42[\"hello\"]\x1e"
              "42/chat,42[\"a\",1]\x1e"
              "452-7[\"up\",{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0}]"
              "\x1e"
              "bYWI=\x1e"
              "bYw==");
}

static void test_sizing(void)
{
    sio_pkt p = make(2, "/chat", 42, 0, "[\"hello\",\"world\"]");
    const char *want = "2/chat,42[\"hello\",\"world\"]";
    size_t n = 0;
    CHECK_ERR(sio_pkt_encode(&p, NULL, NULL, 0, &n), SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, strlen(want));
    uint8_t small[5];
    CHECK_ERR(sio_pkt_encode(&p, NULL, small, sizeof small, &n), SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, strlen(want));
    uint8_t exact[64];
    CHECK_ERR(sio_pkt_encode(&p, NULL, exact, strlen(want), &n), SIO_OK);
    CHECK_STR(exact, n, want);
}

/* Payload built with the JSON writer: binaries become placeholders and the count is the
 * attachment count, so the packet goes out as BINARY_EVENT [SIO-PKT-09]. */
static void test_writer_to_packet(void)
{
    uint8_t json[128];
    sio_json_writer w;
    sio_json_writer_init(&w, json, sizeof json);
    sio_json_write_begin_array(&w);
    sio_json_write_string(&w, (const uint8_t *)"bin", 3);
    sio_json_write_placeholder(&w, NULL);
    sio_json_write_begin_object(&w);
    sio_json_write_key(&w, (const uint8_t *)"x", 1);
    sio_json_write_begin_array(&w);
    sio_json_write_placeholder(&w, NULL);
    sio_json_write_end_array(&w);
    sio_json_write_end_object(&w);
    sio_json_write_end_array(&w);
    size_t jn = 0;
    CHECK_ERR(sio_json_writer_finish(&w, &jn), SIO_OK);
    sio_pkt p = make(2, "/", -1, w.placeholders, NULL);
    p.data = sio_span_of(json, jn);
    check_encode(&p, NULL,
                 "52-[\"bin\",{\"_placeholder\":true,\"num\":0},"
                 "{\"x\":[{\"_placeholder\":true,\"num\":1}]}]");
}

/* Ack ids and attachment counts at each number of digits and one past (9/10, 99/100, ...), up to
 * the largest id, with and without namespace and query: the length computed from the fields is
 * what the encoder writes. */
static void test_encoded_len_digits(void)
{
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    opt.protocol = 4;
    opt.max_attachments = 100000;
    char want[128];
    uint8_t buf[128];
    size_t n;
    for (uint64_t p10 = 1; p10 <= SIO_PKT_ACK_ID_MAX; p10 *= 10) {
        uint64_t ids[] = {p10 - 1, p10};
        for (int k = 0; k < 2; k++) {
            sio_pkt p = make(2, "/chat", (long long)ids[k], 0, "[\"a\"]");
            snprintf(want, sizeof want, "2/chat,%llu[\"a\"]", (unsigned long long)ids[k]);
            check_encode(&p, NULL, want);
        }
    }
    sio_pkt p = make(3, "/", (long long)SIO_PKT_ACK_ID_MAX, 0, "[]");
    check_encode(&p, NULL, "39007199254740991[]");
    for (uint32_t att = 1; att <= 100000; att *= 10) {
        uint32_t counts[] = {att - 1 ? att - 1 : 1, att};
        for (int k = 0; k < 2; k++) {
            p = make(6, "/", 7, counts[k], "[]");
            snprintf(want, sizeof want, "6%u-7[]", counts[k]);
            check_encode(&p, &opt, want);
        }
    }
    p = make(0, "/", -1, 0, NULL);
    p.query = sio_span_of("t=1", 3); /* the root written as "/" because a query follows */
    check_encode(&p, &opt, "0/?t=1,");
    p = make(0, "/admin", -1, 0, "{}");
    p.query = sio_span_of("t=1", 3);
    check_encode(&p, &opt, "0/admin?t=1,{}");
    /* a refused packet still gets its error, with the buffer sized from its fields */
    p = make(2, "/", -1, 0, "[\"connect\"]");
    CHECK_ERR(sio_pkt_encode(&p, NULL, buf, sio__pkt_encoded_len(&p), &n),
              SIO_ERR_PKT_EVENT_RESERVED);
}

/* The sessions' encoder sizes its block from the fields and checks the packet while writing it;
 * without memory a refused packet still gets its own error, an accepted one SIO_ERR_NO_MEMORY. */
static void test_encode_alloc(void)
{
    sio_pkt ok = make(2, "/chat", 5, 0, "[\"hi\"]"), refused = make(2, "/", -1, 0, "[\"connect\"]");
    uint8_t *text = (uint8_t *)"not touched";
    size_t len = 0;
    CHECK_ERR(sio__pkt_encode_alloc(&counting, &ok, 5, &text, &len), SIO_OK);
    CHECK_STR(text, len, "2/chat,5[\"hi\"]");
    CHECK_EQ_INT(live_blocks, 1);
    sio__mem(&counting, text, 0);
    CHECK_ERR(sio__pkt_encode_alloc(&counting, &refused, 5, &text, &len),
              SIO_ERR_PKT_EVENT_RESERVED);
    CHECK(text == NULL);
    fail_after = 0;
    CHECK_ERR(sio__pkt_encode_alloc(&counting, &ok, 5, &text, &len), SIO_ERR_NO_MEMORY);
    CHECK(text == NULL);
    CHECK_ERR(sio__pkt_encode_alloc(&counting, &refused, 5, &text, &len),
              SIO_ERR_PKT_EVENT_RESERVED);
    fail_after = -1;
    CHECK_EQ_INT(live_blocks, 0);
}

int main(void)
{
    test_examples();
    test_v4();
    test_refusals();
    test_sizing();
    test_eio_message_query();
    test_eio_payload();
    test_writer_to_packet();
    test_encoded_len_digits();
    test_encode_alloc();
    CHECK_DONE();
}
