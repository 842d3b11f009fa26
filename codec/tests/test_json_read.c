/* Tree-less readers over validated JSON: kinds, iteration, member lookup, unescaping, integers. */
#include "check.h"
#include "sio/json.h"

static sio_span S(const char *s)
{
    return sio_span_of(s, strlen(s));
}

static void test_kinds(void)
{
    CHECK_EQ_INT(sio_json_kind_of(S("{}")), SIO_JSON_OBJECT);
    CHECK_EQ_INT(sio_json_kind_of(S(" [1]")), SIO_JSON_ARRAY);
    CHECK_EQ_INT(sio_json_kind_of(S("\"x\"")), SIO_JSON_STRING);
    CHECK_EQ_INT(sio_json_kind_of(S("-1")), SIO_JSON_NUMBER);
    CHECK_EQ_INT(sio_json_kind_of(S("0.5")), SIO_JSON_NUMBER);
    CHECK_EQ_INT(sio_json_kind_of(S("true")), SIO_JSON_TRUE);
    CHECK_EQ_INT(sio_json_kind_of(S("false")), SIO_JSON_FALSE);
    CHECK_EQ_INT(sio_json_kind_of(S("\tnull ")), SIO_JSON_NULL);
    CHECK_EQ_INT(sio_json_kind_of(S("")), SIO_JSON_NONE);
    CHECK_EQ_INT(sio_json_kind_of(S("  ")), SIO_JSON_NONE);
    CHECK_EQ_INT(sio_json_kind_of(SIO_SPAN_NULL), SIO_JSON_NONE);
    sio_span t = sio_json_trim(S("  [1, 2]\n"));
    CHECK_STR(t.ptr, t.len, "[1, 2]");
}

static void test_array_iteration(void)
{
    const char *text = " [\"message\", 1 ,\"2\",{\"3\":[true, \"]\"]}, [], \"a\\\"]\" ] ";
    sio_json_iter it;
    sio_span v, k;
    CHECK_ERR(sio_json_array_iter(S(text), &it), SIO_OK);
    const char *want[] = {"\"message\"", "1", "\"2\"", "{\"3\":[true, \"]\"]}", "[]", "\"a\\\"]\""};
    size_t i = 0;
    while (sio_json_next(&it, &k, &v)) {
        CHECK(i < 6);
        if (i < 6)
            CHECK_STR(v.ptr, v.len, want[i]);
        CHECK(k.ptr == NULL);
        i++;
    }
    CHECK_EQ_INT(i, 6);
    CHECK(!sio_json_next(&it, NULL, &v)); /* stays at the end */
    CHECK_EQ_INT(sio_json_count(S(text)), 6);
    CHECK_EQ_INT(sio_json_count(S("[]")), 0);
    CHECK_EQ_INT(sio_json_count(S("[ ]")), 0);
    CHECK_EQ_INT(sio_json_count(S("{\"a\":1,\"b\":{}}")), 2);
    CHECK_EQ_INT(sio_json_count(S("\"x\"")), 0);
    CHECK_ERR(sio_json_array_iter(S("{}"), &it), SIO_ERR_JSON_TYPE);
    CHECK_ERR(sio_json_object_iter(S("[]"), &it), SIO_ERR_JSON_TYPE);
    CHECK_ERR(sio_json_array_iter(S("   "), &it), SIO_ERR_JSON_TYPE);

    /* A span that runs on past the value (a member handed out by an outer iterator is exact,
     * but callers may pass the rest of a buffer): iteration ends at the bracket that closes the
     * value's own level, with brackets in nested members and strings skipped. */
    CHECK_EQ_INT(sio_json_count(S("[1,[2,\"]\"],{\"}\":3}] ,4]")), 3);
    CHECK_EQ_INT(sio_json_count(S("{\"a\":[1]} ,\"b\":2}")), 1);
    CHECK_ERR(sio_json_array_iter(S("[[],[]]]]"), &it), SIO_OK);
    CHECK(sio_json_next(&it, NULL, &v));
    CHECK_STR(v.ptr, v.len, "[]");
    CHECK(sio_json_next(&it, NULL, &v));
    CHECK(!sio_json_next(&it, NULL, &v));
    CHECK(!sio_json_next(&it, NULL, &v));
}

static void test_object(void)
{
    const char *obj =
        "{ \"sid\" : \"abc\", \"n\":{\"sid\":1}, \"caf\\u00e9\":2, \"a\":1, \"a\":[3] }";
    sio_span v;
    CHECK_ERR(sio_json_object_get(S(obj), "sid", 3, &v), SIO_OK);
    CHECK_STR(v.ptr, v.len, "\"abc\"");
    CHECK_ERR(sio_json_object_get(S(obj), "n", 1, &v), SIO_OK);
    CHECK_STR(v.ptr, v.len, "{\"sid\":1}");
    CHECK_ERR(sio_json_object_get(S(obj), "caf\xc3\xa9", 5, &v), SIO_OK);
    CHECK_STR(v.ptr, v.len, "2");
    /* Duplicate keys: the last wins, as JSON.parse. */
    CHECK_ERR(sio_json_object_get(S(obj), "a", 1, &v), SIO_OK);
    CHECK_STR(v.ptr, v.len, "[3]");
    CHECK_ERR(sio_json_object_get(S(obj), "missing", 7, &v), SIO_ERR_JSON_NOT_FOUND);
    CHECK_ERR(sio_json_object_get(S(obj), "si", 2, &v), SIO_ERR_JSON_NOT_FOUND);
    CHECK_ERR(sio_json_object_get(S("[1]"), "a", 1, &v), SIO_ERR_JSON_TYPE);
    CHECK_ERR(sio_json_object_get(S("{\"\":5}"), "", 0, &v), SIO_OK);
    CHECK_STR(v.ptr, v.len, "5");
    /* Object iteration hands out the raw key tokens. */
    sio_json_iter it;
    sio_span k;
    CHECK_ERR(sio_json_object_iter(S("{\"x\":1,\"y\\n\":null}"), &it), SIO_OK);
    CHECK(sio_json_next(&it, &k, &v));
    CHECK_STR(k.ptr, k.len, "\"x\"");
    CHECK_STR(v.ptr, v.len, "1");
    CHECK(sio_json_next(&it, &k, &v));
    CHECK_STR(k.ptr, k.len, "\"y\\n\"");
    CHECK_STR(v.ptr, v.len, "null");
    CHECK(!sio_json_next(&it, &k, &v));
}

static void check_unescape(const char *token, const char *want, size_t want_len)
{
    uint8_t out[64];
    size_t n = 0;
    CHECK_ERR(sio_json_string_unescape(S(token), out, sizeof out, &n), SIO_OK);
    CHECK_MEM(out, n, want, want_len);
    CHECK(sio_json_string_equals(S(token), (const uint8_t *)want, want_len));
}

static void test_strings(void)
{
    check_unescape("\"plain\"", "plain", 5);
    check_unescape("\"\"", "", 0);
    check_unescape("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8);
    check_unescape("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6);
    check_unescape("\"\\ud83d\\ude00!\"", "\xf0\x9f\x98\x80!", 5);
    check_unescape("\"\xf0\x9f\x98\x80\"", "\xf0\x9f\x98\x80", 4);
    check_unescape("\"a\\u0000b\"", "a\0b", 3);
    CHECK(!sio_json_string_equals(S("\"abc\""), (const uint8_t *)"ab", 2));
    CHECK(!sio_json_string_equals(S("\"ab\""), (const uint8_t *)"abc", 3));
    CHECK(!sio_json_string_equals(S("12"), (const uint8_t *)"12", 2));
    /* Sizing pass and too-small buffer. */
    size_t n = 0;
    CHECK_ERR(sio_json_string_unescape(S("\"hello\""), NULL, 0, &n), SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, 5);
    uint8_t small[3];
    CHECK_ERR(sio_json_string_unescape(S("\"hello\""), small, sizeof small, &n),
              SIO_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n, 5);
    CHECK_ERR(sio_json_string_unescape(S("[]"), small, sizeof small, &n), SIO_ERR_JSON_TYPE);
}

static void test_integers(void)
{
    int64_t v = 0;
    CHECK_ERR(sio_json_get_int(S("0"), &v), SIO_OK);
    CHECK_EQ_INT(v, 0);
    CHECK_ERR(sio_json_get_int(S("-0"), &v), SIO_OK);
    CHECK_EQ_INT(v, 0);
    CHECK_ERR(sio_json_get_int(S("456"), &v), SIO_OK);
    CHECK_EQ_INT(v, 456);
    CHECK_ERR(sio_json_get_int(S(" -17 "), &v), SIO_OK);
    CHECK_EQ_INT(v, -17);
    CHECK_ERR(sio_json_get_int(S("9007199254740991"), &v), SIO_OK);
    CHECK_EQ_INT(v, 9007199254740991LL);
    CHECK_ERR(sio_json_get_int(S("9223372036854775807"), &v), SIO_OK);
    CHECK(v == INT64_MAX);
    CHECK_ERR(sio_json_get_int(S("-9223372036854775808"), &v), SIO_OK);
    CHECK(v == INT64_MIN);
    CHECK_ERR(sio_json_get_int(S("9223372036854775808"), &v), SIO_ERR_JSON_INT_RANGE);
    CHECK_ERR(sio_json_get_int(S("-9223372036854775809"), &v), SIO_ERR_JSON_INT_RANGE);
    CHECK_ERR(sio_json_get_int(S("1.0"), &v), SIO_ERR_JSON_NOT_INTEGER);
    CHECK_ERR(sio_json_get_int(S("1e2"), &v), SIO_ERR_JSON_NOT_INTEGER);
    CHECK_ERR(sio_json_get_int(S("\"1\""), &v), SIO_ERR_JSON_TYPE);
    CHECK_ERR(sio_json_get_int(S("true"), &v), SIO_ERR_JSON_TYPE);
}

/* Reading values of an unvalidated, truncated text stays inside the buffer (checked by ASan). */
static void test_truncated_input_is_safe(void)
{
    const char *cut[] = {"[\"abc", "{\"a\":[1,{", "{\"a", "[1,", "\"\\u12", "\"\\"};
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        sio_json_iter it;
        sio_span k, v;
        size_t count = 0;
        if (sio_json_array_iter(S(cut[i]), &it) == SIO_OK ||
            sio_json_object_iter(S(cut[i]), &it) == SIO_OK)
            while (sio_json_next(&it, &k, &v) && count < 10)
                count++;
        uint8_t out[16];
        size_t n;
        sio_json_string_unescape(S(cut[i]), out, sizeof out, &n);
        CHECK(count < 10);
    }
}

int main(void)
{
    test_kinds();
    test_array_iteration();
    test_object();
    test_strings();
    test_integers();
    test_truncated_input_is_safe();
    CHECK_DONE();
}
