/* JSON writer: compact output equal to JSON.stringify's, placeholders numbered in write order,
 * sizing, and refusal of out-of-order calls. Every output is re-validated and parsed by cJSON. */
#include <cjson/cJSON.h>

#include "check.h"
#include "sio/json.h"

#define U8(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

static void check_output(sio_json_writer *w, const char *want)
{
    size_t n = 0;
    CHECK_ERR(sio_json_writer_finish(w, &n), SIO_OK);
    CHECK_STR(w->out, n, want);
    CHECK_ERR(sio_json_validate(w->out, n, NULL, NULL), SIO_OK);
    cJSON *root = cJSON_ParseWithLength((const char *)w->out, n);
    CHECK(root != NULL);
    cJSON_Delete(root);
}

/* The SIO-suite's plain-text event: ["message-back",1,"2",{"3":[true]}]. */
static void test_event_payload(void)
{
    uint8_t buf[128];
    sio_json_writer w;
    sio_json_writer_init(&w, buf, sizeof buf);
    sio_json_write_begin_array(&w);
    sio_json_write_string(&w, U8("message-back"));
    sio_json_write_int(&w, 1);
    sio_json_write_string(&w, U8("2"));
    sio_json_write_begin_object(&w);
    sio_json_write_key(&w, U8("3"));
    sio_json_write_begin_array(&w);
    sio_json_write_bool(&w, true);
    sio_json_write_end_array(&w);
    sio_json_write_end_object(&w);
    CHECK_ERR(sio_json_write_end_array(&w), SIO_OK);
    check_output(&w, "[\"message-back\",1,\"2\",{\"3\":[true]}]");
}

/* Deconstruction: binaries anywhere become placeholders numbered depth-first. */
static void test_placeholders(void)
{
    uint8_t buf[256];
    sio_json_writer w;
    uint32_t a = 99, b = 99;
    sio_json_writer_init(&w, buf, sizeof buf);
    sio_json_write_begin_array(&w);
    sio_json_write_string(&w, U8("bin"));
    sio_json_write_placeholder(&w, &a);
    sio_json_write_begin_object(&w);
    sio_json_write_key(&w, U8("x"));
    sio_json_write_begin_array(&w);
    sio_json_write_placeholder(&w, &b);
    sio_json_write_end_array(&w);
    sio_json_write_end_object(&w);
    sio_json_write_end_array(&w);
    check_output(&w, "[\"bin\",{\"_placeholder\":true,\"num\":0},"
                     "{\"x\":[{\"_placeholder\":true,\"num\":1}]}]");
    CHECK_EQ_INT(a, 0);
    CHECK_EQ_INT(b, 1);
    CHECK_EQ_INT(w.placeholders, 2);
}

static void test_escaping(void)
{
    uint8_t buf[256];
    sio_json_writer w;
    sio_json_writer_init(&w, buf, sizeof buf);
    sio_json_write_begin_object(&w);
    sio_json_write_key(&w, U8("k\"\\"));
    sio_json_write_string(&w, U8("\b\f\n\r\t\x01\x1f\x7f/\xe2\x80\xa8\xc3\xa9"));
    sio_json_write_key(&w, U8(""));
    sio_json_write_string(&w, (const uint8_t *)"a\0b", 3);
    sio_json_write_end_object(&w);
    check_output(&w, "{\"k\\\"\\\\\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f/\xe2\x80\xa8\xc3\xa9\","
                     "\"\":\"a\\u0000b\"}");
    sio_json_writer_init(&w, buf, sizeof buf);
    CHECK_ERR(sio_json_write_string(&w, U8("\xc3")), SIO_ERR_JSON_UTF8);
    sio_json_writer_init(&w, buf, sizeof buf);
    CHECK_ERR(sio_json_write_string(&w, U8("\xed\xa0\x80")), SIO_ERR_JSON_UTF8);
}

static void test_scalars(void)
{
    uint8_t buf[128];
    sio_json_writer w;
    sio_json_writer_init(&w, buf, sizeof buf);
    sio_json_write_begin_array(&w);
    sio_json_write_int(&w, 0);
    sio_json_write_int(&w, -42);
    sio_json_write_int(&w, INT64_MIN);
    sio_json_write_int(&w, INT64_MAX);
    sio_json_write_number_text(&w, U8("1.5e3"));
    sio_json_write_null(&w);
    sio_json_write_bool(&w, false);
    sio_json_write_raw(&w, U8(" {\"a\" : [1]} "));
    sio_json_write_begin_array(&w);
    sio_json_write_end_array(&w);
    sio_json_write_begin_object(&w);
    sio_json_write_end_object(&w);
    sio_json_write_end_array(&w);
    check_output(&w, "[0,-42,-9223372036854775808,9223372036854775807,1.5e3,null,false,"
                     "{\"a\" : [1]},[],{}]");
    sio_json_writer_init(&w, buf, sizeof buf);
    CHECK_ERR(sio_json_write_number_text(&w, U8("01")), SIO_ERR_JSON_NUMBER);
    sio_json_writer_init(&w, buf, sizeof buf);
    CHECK_ERR(sio_json_write_number_text(&w, U8("\"1\"")), SIO_ERR_JSON_NUMBER);
    sio_json_writer_init(&w, buf, sizeof buf);
    CHECK_ERR(sio_json_write_raw(&w, U8("[1,]")), SIO_ERR_JSON_SYNTAX);
    sio_json_writer_init(&w, buf, sizeof buf);
    sio_json_write_string(&w, U8("top"));
    check_output(&w, "\"top\"");
}

static void test_sizing(void)
{
    sio_json_writer w;
    size_t need = 0, n = 0;
    sio_json_writer_init(&w, NULL, 0);
    sio_json_write_begin_array(&w);
    sio_json_write_string(&w, U8("hello"));
    sio_json_write_placeholder(&w, NULL);
    sio_json_write_end_array(&w);
    CHECK_ERR(sio_json_writer_finish(&w, &need), SIO_ERR_BUFFER_TOO_SMALL);
    const char *want = "[\"hello\",{\"_placeholder\":true,\"num\":0}]";
    CHECK_EQ_INT(need, strlen(want));
    uint8_t small[10];
    sio_json_writer_init(&w, small, sizeof small);
    sio_json_write_begin_array(&w);
    sio_json_write_string(&w, U8("hello"));
    sio_json_write_placeholder(&w, NULL);
    sio_json_write_end_array(&w);
    CHECK_ERR(sio_json_writer_finish(&w, &n), SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, need);
    CHECK_MEM(small, sizeof small, want, sizeof small); /* filled as far as it goes */
    uint8_t exact[64];
    sio_json_writer_init(&w, exact, need);
    sio_json_write_begin_array(&w);
    sio_json_write_string(&w, U8("hello"));
    sio_json_write_placeholder(&w, NULL);
    sio_json_write_end_array(&w);
    CHECK_ERR(sio_json_writer_finish(&w, &n), SIO_OK);
    CHECK_STR(exact, n, want);
}

static void test_state_errors(void)
{
    uint8_t buf[64];
    sio_json_writer w;
    sio_json_writer_init(&w, buf, sizeof buf);
    CHECK_ERR(sio_json_write_key(&w, U8("a")), SIO_ERR_JSON_WRITER_STATE); /* not in object */
    sio_json_writer_init(&w, buf, sizeof buf);
    sio_json_write_begin_object(&w);
    CHECK_ERR(sio_json_write_int(&w, 1), SIO_ERR_JSON_WRITER_STATE);     /* value without key */
    CHECK_ERR(sio_json_write_end_object(&w), SIO_ERR_JSON_WRITER_STATE); /* sticky */
    sio_json_writer_init(&w, buf, sizeof buf);
    sio_json_write_begin_object(&w);
    sio_json_write_key(&w, U8("a"));
    CHECK_ERR(sio_json_write_end_object(&w), SIO_ERR_JSON_WRITER_STATE); /* key without value */
    sio_json_writer_init(&w, buf, sizeof buf);
    sio_json_write_begin_array(&w);
    CHECK_ERR(sio_json_write_end_object(&w), SIO_ERR_JSON_WRITER_STATE); /* wrong closer */
    sio_json_writer_init(&w, buf, sizeof buf);
    sio_json_write_begin_array(&w);
    size_t n;
    CHECK_ERR(sio_json_writer_finish(&w, &n), SIO_ERR_JSON_WRITER_STATE); /* unbalanced */
    sio_json_writer_init(&w, buf, sizeof buf);
    CHECK_ERR(sio_json_writer_finish(&w, &n), SIO_ERR_JSON_WRITER_STATE); /* nothing */
    sio_json_writer_init(&w, buf, sizeof buf);
    sio_json_write_int(&w, 1);
    CHECK_ERR(sio_json_write_int(&w, 2), SIO_ERR_JSON_WRITER_STATE); /* second top value */
    sio_json_writer_init(&w, buf, sizeof buf);
    CHECK_ERR(sio_json_write_end_array(&w), SIO_ERR_JSON_WRITER_STATE);
    /* Nesting beyond the writer's depth is refused. */
    sio_json_writer_init(&w, buf, sizeof buf);
    sio_err e = SIO_OK;
    for (int i = 0; i <= SIO_JSON_WRITER_MAX_DEPTH && e == SIO_OK; i++)
        e = sio_json_write_begin_array(&w);
    CHECK_ERR(e, SIO_ERR_JSON_DEPTH);
}

int main(void)
{
    test_event_payload();
    test_placeholders();
    test_escaping();
    test_scalars();
    test_sizing();
    test_state_errors();
    CHECK_DONE();
}
