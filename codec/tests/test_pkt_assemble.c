/* Attachment reconstruction: sequencing errors, placeholder checks at completion, any order of
 * placeholders, and views indexed by num [SIO-PKT-09..12]. */
#include "check.h"
#include "sio/eio.h"
#include "sio/json.h"
#include "sio/packet.h"
#include "pkt_internal.h"

#include <stdlib.h>

static sio_span slots[SIO_PKT_MAX_ATTACHMENTS_DEFAULT];

static sio_err text(sio_pkt_assembler *a, const char *s, bool *done)
{
    return sio_pkt_assembler_text(a, (const uint8_t *)s, strlen(s), done, NULL);
}

static sio_err binary(sio_pkt_assembler *a, const uint8_t *p, size_t n, bool *done)
{
    return sio_pkt_assembler_binary(a, p, n, done, NULL);
}

static void test_plain_packets(void)
{
    sio_pkt_assembler a;
    bool done = false;
    CHECK_ERR(sio_pkt_assembler_init(&a, NULL, slots, 10), SIO_OK);
    CHECK_ERR(sio_pkt_assembler_result(&a, NULL, NULL, NULL), SIO_ERR_PKT_INCOMPLETE);
    CHECK_ERR(text(&a, "2[\"hello\"]", &done), SIO_OK);
    CHECK(done);
    sio_pkt pkt;
    uint32_t count = 99;
    const sio_span *att = NULL;
    CHECK_ERR(sio_pkt_assembler_result(&a, &pkt, &att, &count), SIO_OK);
    CHECK_EQ_INT(pkt.type, SIO_PKT_EVENT);
    CHECK_EQ_INT(count, 0);
    /* A placeholder in a non-binary packet is a plain object. */
    CHECK_ERR(text(&a, "2[\"a\",{\"_placeholder\":true,\"num\":5}]", &done), SIO_OK);
    CHECK(done);
}

/* v5 document example: 52-/admin,[...] then <01 02> and <03 04>. */
static void test_two_attachments(void)
{
    sio_pkt_assembler a;
    bool done = true;
    const uint8_t b0[] = {1, 2}, b1[] = {3, 4};
    sio_pkt_assembler_init(&a, NULL, slots, 10);
    CHECK_ERR(text(&a,
                   "52-/admin,[\"baz\",{\"_placeholder\":true,\"num\":0},"
                   "{\"_placeholder\":true,\"num\":1}]",
                   &done),
              SIO_OK);
    CHECK(!done);
    CHECK_ERR(sio_pkt_assembler_result(&a, NULL, NULL, NULL), SIO_ERR_PKT_INCOMPLETE);
    CHECK_ERR(binary(&a, b0, 2, &done), SIO_OK);
    CHECK(!done);
    CHECK_ERR(binary(&a, b1, 2, &done), SIO_OK);
    CHECK(done);
    sio_pkt pkt;
    const sio_span *att;
    uint32_t count;
    CHECK_ERR(sio_pkt_assembler_result(&a, &pkt, &att, &count), SIO_OK);
    CHECK_EQ_INT(count, 2);
    CHECK_STR(pkt.nsp.ptr, pkt.nsp.len, "/admin");
    CHECK_MEM(att[0].ptr, att[0].len, b0, 2);
    CHECK_MEM(att[1].ptr, att[1].len, b1, 2);
    /* A binary after completion has no header to belong to. */
    CHECK_ERR(binary(&a, b0, 2, &done), SIO_ERR_PKT_UNEXPECTED_BINARY);
}

static void test_sequencing(void)
{
    sio_pkt_assembler a;
    bool done;
    const uint8_t w[] = "world";
    sio_pkt_assembler_init(&a, NULL, slots, 10);
    CHECK_ERR(binary(&a, w, 5, &done), SIO_ERR_PKT_UNEXPECTED_BINARY);
    CHECK_ERR(text(&a, "51-[\"hello\",{\"_placeholder\":true,\"num\":0}]", &done), SIO_OK);
    CHECK_ERR(text(&a, "2[\"hello\"]", &done), SIO_ERR_PKT_TEXT_DURING_BINARY);
    /* After an error the assembler is idle again. */
    CHECK_ERR(text(&a, "2[\"hello\"]", &done), SIO_OK);
    CHECK(done);
    /* Decode errors pass through with their offset. */
    size_t at = 0;
    CHECK_ERR(sio_pkt_assembler_text(&a, (const uint8_t *)"5a-", 3, &done, &at),
              SIO_ERR_PKT_ATTACHMENTS);
    CHECK_EQ_INT(at, 1);
    /* An empty binary message is a valid (empty) attachment. */
    CHECK_ERR(text(&a, "61-15[{\"_placeholder\":true,\"num\":0}]", &done), SIO_OK);
    CHECK_ERR(binary(&a, w, 0, &done), SIO_OK);
    CHECK(done);
}

static sio_err feed_one(const char *header, bool *done)
{
    sio_pkt_assembler a;
    const uint8_t w[] = "world";
    sio_pkt_assembler_init(&a, NULL, slots, 10);
    sio_err e = text(&a, header, done);
    if (e != SIO_OK || *done)
        return e;
    return binary(&a, w, 5, done);
}

static void test_placeholders(void)
{
    bool done;
    CHECK_ERR(feed_one("51-[\"hello\",{\"_placeholder\":true,\"num\":\"splice\"}]", &done),
              SIO_ERR_PKT_PLACEHOLDER);
    CHECK_ERR(feed_one("51-[\"hello\",{\"_placeholder\":true,\"num\":1}]", &done),
              SIO_ERR_PKT_PLACEHOLDER_RANGE);
    CHECK_ERR(feed_one("51-[\"hello\",{\"_placeholder\":true,\"num\":-1}]", &done),
              SIO_ERR_PKT_PLACEHOLDER_RANGE);
    CHECK_ERR(feed_one("51-[\"hello\",{\"_placeholder\":true}]", &done), SIO_ERR_PKT_PLACEHOLDER);
    CHECK_ERR(feed_one("51-[\"hello\",{\"_placeholder\":true,\"num\":0.5}]", &done),
              SIO_ERR_PKT_PLACEHOLDER);
    CHECK_ERR(feed_one("51-[\"hello\",{\"_placeholder\":true,\"num\":1e0}]", &done),
              SIO_ERR_PKT_PLACEHOLDER);
    CHECK_ERR(feed_one("51-[\"hello\",{\"_placeholder\":true,\"num\":null}]", &done),
              SIO_ERR_PKT_PLACEHOLDER);
    /* Deeply nested placeholders are found too. */
    CHECK_ERR(feed_one("51-[\"a\",{\"b\":[[{\"c\":{\"_placeholder\":true,\"num\":3}}]]}]", &done),
              SIO_ERR_PKT_PLACEHOLDER_RANGE);
    /* Not placeholders: the flag must be the boolean true (the last duplicate counts). */
    CHECK_ERR(feed_one("51-[\"a\",{\"_placeholder\":\"true\",\"num\":7}]", &done), SIO_OK);
    CHECK(done);
    CHECK_ERR(feed_one("51-[\"a\",{\"_placeholder\":1,\"num\":7}]", &done), SIO_OK);
    CHECK_ERR(
        feed_one("51-[\"a\",{\"_placeholder\":true,\"_placeholder\":false,\"num\":7}]", &done),
        SIO_OK);
    CHECK_ERR(
        feed_one("51-[\"a\",{\"_placeholder\":false,\"_placeholder\":true,\"num\":7}]", &done),
        SIO_ERR_PKT_PLACEHOLDER_RANGE);
    /* Inside strings, braces are text. */
    CHECK_ERR(feed_one("51-[\"{\\\"_placeholder\\\":true,\\\"num\\\":9}\"]", &done), SIO_OK);
    /* No placeholder at all: the attachment is unreferenced, which Node tolerates. */
    CHECK_ERR(feed_one("51-[\"hello\"]", &done), SIO_OK);
    CHECK(done);
}

/* Placeholders may come in any order; slot k is always the k-th binary message. */
static void test_any_order(void)
{
    sio_pkt_assembler a;
    bool done;
    const uint8_t x[] = {0xAA}, y[] = {0xBB}, z[] = {0xCC};
    sio_pkt_assembler_init(&a, NULL, slots, 10);
    CHECK_ERR(text(&a,
                   "63-7[{\"_placeholder\":true,\"num\":2},{\"_placeholder\":true,\"num\":0},"
                   "{\"k\":{\"_placeholder\":true,\"num\":1}}]",
                   &done),
              SIO_OK);
    binary(&a, x, 1, &done);
    binary(&a, y, 1, &done);
    CHECK(!done);
    CHECK_ERR(binary(&a, z, 1, &done), SIO_OK);
    CHECK(done);
    const sio_span *att;
    uint32_t count;
    sio_pkt pkt;
    CHECK_ERR(sio_pkt_assembler_result(&a, &pkt, &att, &count), SIO_OK);
    CHECK_EQ_INT(pkt.type, SIO_PKT_BINARY_ACK);
    CHECK_EQ_INT(pkt.id, 7);
    CHECK_EQ_INT(count, 3);
    CHECK(att[0].ptr == x && att[1].ptr == y && att[2].ptr == z);
}

static void test_limits_and_compat(void)
{
    sio_pkt_assembler a;
    sio_pkt_options opt;
    sio_pkt_options_init(&opt);
    bool done;
    CHECK_ERR(sio_pkt_assembler_init(&a, &opt, slots, 9), SIO_ERR_INVALID_ARGUMENT);
    opt.max_attachments = 2;
    CHECK_ERR(sio_pkt_assembler_init(&a, &opt, slots, 2), SIO_OK);
    CHECK_ERR(text(&a,
                   "53-[\"hello\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,"
                   "\"num\":1},{\"_placeholder\":true,\"num\":2}]",
                   &done),
              SIO_ERR_PKT_TOO_MANY_ATTACHMENTS);
    /* compat "50-": complete at once; any placeholder is then out of range. */
    opt.compat = true;
    opt.max_attachments = 10;
    sio_pkt_assembler_init(&a, &opt, slots, 10);
    CHECK_ERR(text(&a, "50-[\"message\",\"z\"]", &done), SIO_OK);
    CHECK(done);
    CHECK_ERR(text(&a, "50-[\"m\",{\"_placeholder\":true,\"num\":0}]", &done),
              SIO_ERR_PKT_PLACEHOLDER_RANGE);
    opt.compat = false;
    sio_pkt_assembler_init(&a, &opt, slots, 10);
    CHECK_ERR(text(&a, "50-[\"message\",\"z\"]", &done), SIO_ERR_PKT_ATTACHMENTS_ZERO);
}

/* The one-pass check of validated text (sio__pkt_check_validated_placeholders) against the object
 * lookup (sio_pkt_check_placeholders): same error, same offset. */
static void same_verdict(const char *json, uint32_t attachments)
{
    sio_span d = sio_span_of((const uint8_t *)json, strlen(json));
    CHECK_ERR(sio_json_validate(d.ptr, d.len, NULL, NULL), SIO_OK);
    size_t at1 = 7777, at2 = 7777;
    sio_err e1 = sio_pkt_check_placeholders(d, attachments, &at1);
    sio_err e2 = sio__pkt_check_validated_placeholders(d, attachments, &at2);
    CHECK_ERR(e2, e1);
    CHECK_EQ_INT(at2, at1);
}

static void test_one_pass_agrees(void)
{
    static const char *const cases[] = {
        "[\"a\",{\"_placeholder\":true,\"num\":0}]",
        "[\"a\",{\"_placeholder\":true,\"num\":1}]",
        "[\"a\",{\"_placeholder\":true,\"num\":-1}]",
        "[\"a\",{\"_placeholder\":true,\"num\":1.5}]",
        "[\"a\",{\"_placeholder\":true,\"num\":\"0\"}]",
        "[\"a\",{\"_placeholder\":true,\"num\":[0]}]",
        "[\"a\",{\"_placeholder\":true,\"num\":{\"num\":0}}]",
        "[\"a\",{\"_placeholder\":true}]",
        "[\"a\",{\"_placeholder\":false,\"num\":9}]",
        "[\"a\",{\"_placeholder\":\"true\",\"num\":9}]",
        "[\"a\",{\"_placeholder\":[true],\"num\":9}]",
        "[\"a\",{\"_placeholder\":true,\"_placeholder\":false,\"num\":9}]",
        "[\"a\",{\"_placeholder\":false,\"_placeholder\":true,\"num\":9,\"num\":0}]",
        "[\"a\",{\"num\":0,\"num\":9,\"_placeholder\":true}]",
        "[\"a\",{\"\\u005fplaceholder\":true,\"n\\u0075m\":3}]",
        /* names of the same length that differ, one byte shorter, longer with escapes */
        "[\"a\",{\"_placeholdeR\":true,\"nuM\":0,\"num\":7}]",
        "[\"a\",{\"_placeholde\":true,\"nu\":0,\"_placeholder\":true,\"num\":0}]",
        "[\"a\",{\"_placeholder\":true,\"\\u006eum\":2}]",
        "[\"a\",{\"\\u005f\\u0070laceholder\":true,\"num\":1}]",
        "[\"a\",{\"x\":\"{\\\"_placeholder\\\":true}\",\"y\":\"\\\\\"}]",
        "[\"a\" , { \"_placeholder\" : true , \"num\" : 7 } ]",
        "[\"a\",{\"_placeholder\":true,\"num\":9,\"in\":{\"_placeholder\":true,\"num\":0}}]",
        "[\"a\",{\"in\":{\"_placeholder\":true,\"num\":9},\"_placeholder\":true}]",
        "[\"a\",[{\"_placeholder\":true,\"num\":8}],{\"_placeholder\":true}]",
        /* the walk reads a num of up to 18 digits itself: at the bound and one past it */
        "[\"a\",{\"_placeholder\":true,\"num\":999999999999999999}]",
        "[\"a\",{\"_placeholder\":true,\"num\":1000000000000000000}]",
        "[\"a\",{\"_placeholder\":true,\"num\":99999999999999999999}]",
        "[\"a\",{\"_placeholder\":true,\"num\":-0}]",
        "[\"a\",{\"_placeholder\":true,\"num\":0e0}]",
        "{\"_placeholder\":true,\"num\":4}",
        "[{},[],\"\",0,null,true,false]",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (uint32_t n = 0; n < 6; n++)
            same_verdict(cases[i], n);
    /* Around the one-pass stack (128 open containers: `depth` objects around the placeholder
     * object): at 127 the walk runs, at 128 and past it the lookup takes over; same answer. */
    for (size_t depth = 120; depth <= 132; depth++) {
        char *buf = malloc(depth * 8 + 64);
        size_t len = 0;
        for (size_t k = 0; k < depth; k++)
            len += (size_t)sprintf(buf + len, "{\"a\":");
        len +=
            (size_t)sprintf(buf + len, "{\"_placeholder\":true,\"num\":%u}", (unsigned)(depth % 3));
        for (size_t k = 0; k < depth; k++)
            buf[len++] = '}';
        buf[len] = 0;
        sio_span d = sio_span_of((const uint8_t *)buf, len);
        sio_json_options jo = {SIO_JSON_MAX_DEPTH_CAP};
        CHECK_ERR(sio_json_validate(d.ptr, d.len, &jo, NULL), SIO_OK);
        size_t at1 = 1, at2 = 1;
        CHECK_ERR(sio__pkt_check_validated_placeholders(d, 2, &at2),
                  sio_pkt_check_placeholders(d, 2, &at1));
        CHECK_EQ_INT(at2, at1);
        free(buf);
    }
}

/* The two steps sio_pkt_assembler_eio_message stands for: the Engine.IO decode of the text, then,
 * when that succeeds, its data into the assembler. */
static sio_err eio_then_text(sio_pkt_assembler *a, const uint8_t *p, size_t n, bool *done,
                             size_t *at)
{
    *done = false;
    if (n == 0 || p[0] != '4')
        return SIO_ERR_INVALID_ARGUMENT;
    sio_eio_packet ep;
    sio_err e = sio_eio_packet_decode(4, SIO_EIO_FRAME_WS_TEXT, p, n, NULL, &ep);
    if (e != SIO_OK)
        return e;
    CHECK(!ep.binary && ep.type == SIO_EIO_MESSAGE);
    return sio_pkt_assembler_text(a, ep.data.ptr, ep.data.len, done, at);
}

static bool same_span(sio_span x, sio_span y)
{
    return x.ptr == y.ptr && x.len == y.len;
}

static bool same_assembler(const sio_pkt_assembler *x, const sio_pkt_assembler *y)
{
    const sio_pkt *p = &x->pkt, *q = &y->pkt;
    return x->state == y->state && x->received == y->received && p->type == q->type &&
           p->attachments == q->attachments && same_span(p->nsp, q->nsp) &&
           same_span(p->query, q->query) && p->has_id == q->has_id && p->id == q->id &&
           same_span(p->data, q->data);
}

/* Brings an assembler to one of three states: idle, waiting for an attachment, or holding a
 * completed packet. */
static void prepare(sio_pkt_assembler *a, const sio_pkt_options *opt, int state)
{
    static const char *before[] = {NULL, "51-[\"up\",{\"_placeholder\":true,\"num\":0}]",
                                   "2/chat,7[\"done\"]"};
    sio_pkt_assembler_init(a, opt, slots, SIO_PKT_MAX_ATTACHMENTS_DEFAULT);
    bool done;
    if (before[state])
        CHECK_ERR(text(a, before[state], &done), SIO_OK);
}

static int one_step_cases;

/* One text, both ways, from each state, strict and compat: same error, offset, completion and
 * assembler afterwards (views into the same bytes). */
static void one_step_agrees(const uint8_t *p, size_t n)
{
    for (int compat = 0; compat <= 1; compat++) {
        sio_pkt_options opt;
        sio_pkt_options_init(&opt);
        opt.compat = compat;
        for (int state = 0; state < 3; state++) {
            sio_pkt_assembler one, two;
            prepare(&one, &opt, state);
            prepare(&two, &opt, state);
            bool done_one = true, done_two = true;
            size_t at_one = 12345, at_two = 12345;
            sio_err e_one = sio_pkt_assembler_eio_message(&one, p, n, &done_one, &at_one);
            sio_err e_two = eio_then_text(&two, p, n, &done_two, &at_two);
            CHECK_ERR(e_one, e_two);
            CHECK_EQ_INT(at_one, at_two);
            CHECK_EQ_INT(done_one, done_two);
            CHECK(same_assembler(&one, &two));
            one_step_cases++;
        }
    }
}

static void test_eio_message_in_one_step(void)
{
    static const char *texts[] = {
        "42[\"a\",1]",
        "4",
        "40",
        "41",
        "40/admin,",
        "40/admin?token=1,{\"k\":\"v\"}",
        "40/n\xC3\xA9,{}",
        "40/n\xC3,{}",
        "40/n\xFF",
        "42[\"\xC3\xA9\"]",
        "42[\"\xC3\"]",
        "42[\"\xED\xA0\x80\"]",
        "42[\"\xF4\x90\x80\x80\"]",
        "42[\"\xC0\xAF\"]",
        "42[\"\xE6\x97\xA5\xF0\x9F\x99\x82\"]",
        "42[1]\xC3",
        "42\xC3[1]",
        "42[1,\xC3\xA9]",
        "43/x,7[\"\xE6\x97\xA5\"]",
        "43/x,7[\"\xE6\x97\"]",
        "451-[\"up\",{\"_placeholder\":true,\"num\":0}]",
        "451-[\"\xC3\",{\"_placeholder\":true,\"num\":0}]",
        "450-[\"up\"]",
        "45\xFF-[\"up\"]",
        "411-[\"up\"]",
        "44{\"message\":\"\xC3\xA9\"}",
        "42 [1]",
        "49",
        "3probe",
        "b4AQID",
        "",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        one_step_agrees((const uint8_t *)texts[i], strlen(texts[i]));
    one_step_agrees(NULL, 0);
    /* A text long enough for the vector paths, with a bad byte (or a character cut short, or a
     * good one) written over it at every place: in the header, the namespace, the payload's
     * strings and between them. */
    static const char base[] =
        "42/chat-room-with-a-long-name,17[\"event\",\"abcdefghijklmnopqrstuvw"
        "xyz abcdefghijklmnopqrstuvwxyz\",{\"n\":1,\"ok\":true},\"0123456789"
        "abcdefghij\"]";
    static const char *bad[] = {"\xFF",         "\xC3",     "\xE6\x97",
                                "\xED\xA0\x80", "\xC3\xA9", "\xF0\x9F\x99\x82"};
    uint8_t buf[sizeof base];
    for (size_t at = 1; at < sizeof base - 1; at++) {
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            size_t k = strlen(bad[b]);
            if (at + k > sizeof base - 1)
                continue;
            memcpy(buf, base, sizeof base - 1);
            memcpy(buf + at, bad[b], k);
            one_step_agrees(buf, sizeof base - 1);
        }
    }
    CHECK(one_step_cases > 4000);
}

/* ["x…x", {placeholder 1}]: `len` x's in the string, an escape (\" or \\) before the x at `at`
 * (none when at == len), `gap` spaces after the string. */
static void near_case(char *buf, size_t len, size_t at, bool quote, size_t gap)
{
    size_t n = 0;
    buf[n++] = '[';
    buf[n++] = '"';
    for (size_t k = 0; k < len; k++) {
        if (k == at) {
            buf[n++] = '\\';
            buf[n++] = quote ? '"' : '\\';
        }
        buf[n++] = 'x';
    }
    buf[n++] = '"';
    for (size_t k = 0; k < gap; k++)
        buf[n++] = ' ';
    strcpy(buf + n, ",{\"_placeholder\":true,\"num\":1}]");
}

/* The walk looks at the first 16 bytes after a token one by one in texts of up to 512 bytes, and
 * leaves the rest to the vector searches: strings of every length around that, with an escaped
 * quote or backslash at every place in them, followed by every number of spaces up to 20 before
 * the next bracket; then texts of 500 to 520 bytes, one placeholder near the end. */
static void test_one_pass_near_and_far(void)
{
    char buf[1200];
    for (size_t len = 0; len <= 40; len++)
        for (size_t at = 0; at <= len; at++)
            for (int quote = 0; quote < 2; quote++)
                for (size_t gap = 0; gap <= 20; gap++) {
                    near_case(buf, len, at, quote, gap);
                    same_verdict(buf, 1);
                    same_verdict(buf, 2);
                }
    const char *tail = ",{\"_placeholder\":true,\"num\":1}]";
    for (size_t total = 500; total <= 520; total++) {
        size_t fill = total - strlen(tail) - 3; /* the bracket and two quotes */
        size_t n = (size_t)sprintf(buf, "[\"%*s\"%s", (int)fill, "", tail);
        CHECK_EQ_INT(n, total);
        same_verdict(buf, 1);
        same_verdict(buf, 2);
    }
}

int main(void)
{
    test_plain_packets();
    test_two_attachments();
    test_sequencing();
    test_placeholders();
    test_any_order();
    test_limits_and_compat();
    test_one_pass_agrees();
    test_eio_message_in_one_step();
    test_one_pass_near_and_far();
    CHECK_DONE();
}
