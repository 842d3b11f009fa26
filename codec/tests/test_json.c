/* JSON validator: accept/reject tables (JSONTestSuite style), error offsets, the depth bound,
 * and a cross-check of every table entry against cJSON's verdict where the two must agree. */
#include <cjson/cJSON.h>

#include "check.h"
#include "sio/json.h"

static sio_err validate_str(const char *s, size_t *at)
{
    return sio_json_validate((const uint8_t *)s, strlen(s), NULL, at);
}

static const char *const accepted[] = {
    "[]",
    "{}",
    "0",
    "-0",
    "1",
    "-1",
    "123",
    "1.5",
    "-0.25",
    "1e5",
    "1E5",
    "1e+5",
    "1e-5",
    "1.5e10",
    "0e0",
    "\"\"",
    "\"a\"",
    "true",
    "false",
    "null",
    " [ ] ",
    "\t\n\r{}\r\n",
    "[1,2,3]",
    "[[[]]]",
    "{\"a\":1}",
    "{\"a\":{\"b\":[true,false,null]}}",
    "{\"a\":1,\"a\":2}",
    "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
    "\"\\u0000\"",
    "\"\\u00e9\"",
    "\"\\uD83D\\uDE00\"",
    "\"\\ud83d\\ude00\"",
    "\"\xc3\xa9\"",
    "\"\xe2\x82\xac\"",
    "\"\xf0\x9f\x98\x80\"",
    "\"\xe2\x80\xa8\"",
    "\"\x7f\"",
    "[1 , 2 ]",
    "{ \"k\" : \"v\" }",
    "[\"message\",1,\"2\",{\"3\":[true]}]",
    "-1.0e-0",
    "1e0001",
    "{\"\":0}",
};

struct reject {
    const char *text;
    sio_err err;
    size_t at;
};

static const struct reject rejected[] = {
    {"", SIO_ERR_JSON_EMPTY, 0},
    {"   ", SIO_ERR_JSON_EMPTY, 3},
    {"[", SIO_ERR_JSON_TRUNCATED, 1},
    {"[1,", SIO_ERR_JSON_TRUNCATED, 3},
    {"{\"a\"", SIO_ERR_JSON_TRUNCATED, 4},
    {"{\"a\":", SIO_ERR_JSON_TRUNCATED, 5},
    {"\"abc", SIO_ERR_JSON_TRUNCATED, 4},
    {"tru", SIO_ERR_JSON_TRUNCATED, 3},
    {"[1,]", SIO_ERR_JSON_SYNTAX, 3},
    {"[,1]", SIO_ERR_JSON_SYNTAX, 1},
    {"{,}", SIO_ERR_JSON_SYNTAX, 1},
    {"{\"a\":1,}", SIO_ERR_JSON_SYNTAX, 7},
    {"{\"a\" 1}", SIO_ERR_JSON_SYNTAX, 5},
    {"{a:1}", SIO_ERR_JSON_SYNTAX, 1},
    {"{1:1}", SIO_ERR_JSON_SYNTAX, 1},
    {"['a']", SIO_ERR_JSON_SYNTAX, 1},
    {"[1 2]", SIO_ERR_JSON_SYNTAX, 3},
    {"[1}", SIO_ERR_JSON_SYNTAX, 2},
    {"{\"a\":1]", SIO_ERR_JSON_SYNTAX, 6},
    {"True", SIO_ERR_JSON_SYNTAX, 0},
    {"nul1", SIO_ERR_JSON_SYNTAX, 3},
    {"NaN", SIO_ERR_JSON_SYNTAX, 0},
    {"Infinity", SIO_ERR_JSON_SYNTAX, 0},
    {"undefined", SIO_ERR_JSON_SYNTAX, 0},
    {"+1", SIO_ERR_JSON_SYNTAX, 0},
    {".5", SIO_ERR_JSON_SYNTAX, 0},
    {"\xef\xbb\xbf[]", SIO_ERR_JSON_SYNTAX, 0},
    {"[\x00]", SIO_ERR_JSON_TRUNCATED, 1}, /* strlen stops at the NUL: "[" */
    {"01", SIO_ERR_JSON_NUMBER, 0},
    {"-01", SIO_ERR_JSON_NUMBER, 1},
    {"00", SIO_ERR_JSON_NUMBER, 0},
    {"1.", SIO_ERR_JSON_TRUNCATED, 2},
    {"[1.]", SIO_ERR_JSON_NUMBER, 3},
    {"[1.e5]", SIO_ERR_JSON_NUMBER, 3},
    {"[1e]", SIO_ERR_JSON_NUMBER, 3},
    {"[1e+]", SIO_ERR_JSON_NUMBER, 4},
    {"[-]", SIO_ERR_JSON_NUMBER, 2},
    {"[-a]", SIO_ERR_JSON_NUMBER, 2},
    {"[0x10]", SIO_ERR_JSON_SYNTAX, 2},
    {"1 2", SIO_ERR_JSON_TRAILING, 2},
    {"[]]", SIO_ERR_JSON_TRAILING, 2},
    {"{}x", SIO_ERR_JSON_TRAILING, 2},
    {"[\"a\"]x", SIO_ERR_JSON_TRAILING, 5},
    {"\"a\tb\"", SIO_ERR_JSON_CONTROL_CHAR, 2},
    {"\"a\nb\"", SIO_ERR_JSON_CONTROL_CHAR, 2},
    {"\"\x1f\"", SIO_ERR_JSON_CONTROL_CHAR, 1},
    {"\"\\x41\"", SIO_ERR_JSON_ESCAPE, 2},
    {"\"\\'\"", SIO_ERR_JSON_ESCAPE, 2},
    {"\"\\u00g0\"", SIO_ERR_JSON_ESCAPE, 5},
    {"\"\\u12\"", SIO_ERR_JSON_ESCAPE, 5},
    {"\"\\uD800\"", SIO_ERR_JSON_SURROGATE, 1},
    {"\"\\uDC00\"", SIO_ERR_JSON_SURROGATE, 1},
    {"\"\\uD800\\u0041\"", SIO_ERR_JSON_SURROGATE, 1},
    {"\"\\uD800\\uD800\"", SIO_ERR_JSON_SURROGATE, 1},
    {"\"\\uD800x\"", SIO_ERR_JSON_SURROGATE, 1},
    {"\"\\uDBFF\\n\"", SIO_ERR_JSON_SURROGATE, 1},
    {"\"\xff\"", SIO_ERR_JSON_UTF8, 1},
    {"\"\xc3\"", SIO_ERR_JSON_UTF8, 1},
    {"\"ab\xc0\xaf\"", SIO_ERR_JSON_UTF8, 3},
    {"\"\xed\xa0\x80\"", SIO_ERR_JSON_UTF8, 2},
    {"\"\xf4\x90\x80\x80\"", SIO_ERR_JSON_UTF8, 2},
    {"[\xc3\xa9]", SIO_ERR_JSON_SYNTAX, 1},
};

/* cJSON is lenient in places RFC 8259 is not (lone surrogates, malformed UTF-8, leading zeros,
 * "1.", a UTF-8 BOM), so it is consulted only for structural verdicts. */
static bool cjson_accepts(const char *s)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(s, &end, 1);
    if (root)
        cJSON_Delete(root);
    return root != NULL;
}

static void test_tables(void)
{
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        size_t at = 99;
        sio_err e = validate_str(accepted[i], &at);
        if (e != SIO_OK)
            fprintf(stderr, "rejected: %s\n", accepted[i]);
        CHECK_ERR(e, SIO_OK);
        CHECK(cjson_accepts(accepted[i]));
    }
    for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++) {
        const struct reject *r = &rejected[i];
        size_t at = 999;
        sio_err e = validate_str(r->text, &at);
        if (e != r->err || at != r->at)
            fprintf(stderr, "reject case %zu: got %s at %zu\n", i, sio_err_name(e), at);
        CHECK_ERR(e, r->err);
        CHECK_EQ_INT(at, r->at);
        bool structural = r->err != SIO_ERR_JSON_SURROGATE && r->err != SIO_ERR_JSON_UTF8 &&
                          r->err != SIO_ERR_JSON_CONTROL_CHAR && r->err != SIO_ERR_JSON_ESCAPE &&
                          r->err != SIO_ERR_JSON_NUMBER && (uint8_t)r->text[0] != 0xEF &&
                          !(r->text[0] >= '0' && r->text[0] <= '9');
        if (structural)
            CHECK(!cjson_accepts(r->text));
    }
}

/* A NUL inside a string is a control character; outside, a syntax error. */
static void test_embedded_nul(void)
{
    size_t at = 0;
    const uint8_t in_string[] = {'"', 'a', 0, '"'};
    CHECK_ERR(sio_json_validate(in_string, sizeof in_string, NULL, &at), SIO_ERR_JSON_CONTROL_CHAR);
    CHECK_EQ_INT(at, 2);
    const uint8_t in_array[] = {'[', 0, ']'};
    CHECK_ERR(sio_json_validate(in_array, sizeof in_array, NULL, &at), SIO_ERR_JSON_SYNTAX);
    CHECK_EQ_INT(at, 1);
    CHECK_ERR(sio_json_validate(NULL, 0, NULL, &at), SIO_ERR_JSON_EMPTY);
}

/* The validator reads string content eight bytes at a time and the usual numbers and literals
 * without the full grammar: every kind of byte that ends a plain run is placed at each offset
 * around those words, and each short form is cut at every length, in strings that are values,
 * member names and the whole text. */
static void expect_at(const char *text, size_t n, sio_err err, size_t at)
{
    size_t got_at = 999;
    sio_err got = sio_json_validate((const uint8_t *)text, n, NULL, &got_at);
    if (got != err || (err != SIO_OK && got_at != at))
        fprintf(stderr, "%.*s: got %s at %zu, want %s at %zu\n", (int)n, text, sio_err_name(got),
                got_at, sio_err_name(err), at);
    CHECK_ERR(got, err);
    if (err != SIO_OK)
        CHECK_EQ_INT(got_at, at);
}

static void test_string_words(void)
{
    static const struct {
        const char *stop; /* what follows the run of plain bytes */
        sio_err err;
        size_t at; /* from the first byte of `stop` */
    } stops[] = {
        {"\"", SIO_OK, 0},
        {"\x01\"", SIO_ERR_JSON_CONTROL_CHAR, 0},
        {"\x1f\"", SIO_ERR_JSON_CONTROL_CHAR, 0},
        {"\\n\"", SIO_OK, 0},
        {"\\q\"", SIO_ERR_JSON_ESCAPE, 1},
        {"\\u00e9x\"", SIO_OK, 0},
        {"\xc3\xa9\"", SIO_OK, 0},
        {"\xf0\x9f\x99\x82\"", SIO_OK, 0},
        {"\xc3\"", SIO_ERR_JSON_UTF8, 0},
        {"\xff\x01\"", SIO_ERR_JSON_CONTROL_CHAR, 1},
        {"\x7f\x20\"", SIO_OK, 0},
        {"", SIO_ERR_JSON_TRUNCATED, 0},
    };
    static const char *const wraps[][2] = {{"", ""}, {"[", ",1]"}, {"{", ":0}"}, {" [", "] "}};
    char text[96];
    for (size_t s = 0; s < sizeof stops / sizeof stops[0]; s++) {
        for (size_t w = 0; w < sizeof wraps / sizeof wraps[0]; w++) {
            for (size_t run = 0; run <= 20; run++) {
                size_t n = 0;
                n += (size_t)sprintf(text + n, "%s\"", wraps[w][0]);
                for (size_t k = 0; k < run; k++)
                    text[n++] = (char)('a' + k % 26);
                size_t stop_at = n;
                n += (size_t)sprintf(text + n, "%s", stops[s].stop);
                bool closed = stops[s].stop[0] != 0;
                if (closed)
                    n += (size_t)sprintf(text + n, "%s", wraps[w][1]);
                sio_err err = stops[s].err;
                size_t at = err == SIO_ERR_JSON_TRUNCATED ? n : stop_at + stops[s].at;
                expect_at(text, n, err, at);
            }
        }
    }
}

static void test_short_forms(void)
{
    /* Every cut of a literal or number inside an array, then the whole form followed by a byte
     * that may not follow it. */
    static const char *const forms[] = {"true", "false",     "null", "-12",
                                        "0",    "123456789", "1.5",  "-0e+1"};
    char text[64];
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        size_t len = strlen(forms[f]);
        for (size_t cut = 1; cut <= len; cut++) {
            int n = sprintf(text, "[%.*s", (int)cut, forms[f]);
            expect_at(text, (size_t)n, SIO_ERR_JSON_TRUNCATED, (size_t)n);
            n = sprintf(text, "%.*s", (int)cut, forms[f]);
            bool is_number = forms[f][0] == '-' || (forms[f][0] >= '0' && forms[f][0] <= '9');
            bool complete =
                cut == len || (is_number && forms[f][cut - 1] >= '0' && forms[f][cut - 1] <= '9');
            if (complete)
                expect_at(text, (size_t)n, SIO_OK, 0);
        }
        int n = sprintf(text, "[%sx]", forms[f]);
        expect_at(text, (size_t)n, SIO_ERR_JSON_SYNTAX, len + 1);
        n = sprintf(text, "%s ,", forms[f]);
        expect_at(text, (size_t)n, SIO_ERR_JSON_TRAILING, len + 1);
    }
    expect_at("[tru]", 5, SIO_ERR_JSON_SYNTAX, 4);
    expect_at("[fals]", 6, SIO_ERR_JSON_SYNTAX, 5);
    expect_at("[falsy]", 7, SIO_ERR_JSON_SYNTAX, 5);
    expect_at("[nul ]", 6, SIO_ERR_JSON_SYNTAX, 4);
    expect_at("[truefalse]", 11, SIO_ERR_JSON_SYNTAX, 5);
    expect_at("[-]", 3, SIO_ERR_JSON_NUMBER, 2);
    expect_at("-", 1, SIO_ERR_JSON_TRUNCATED, 1);
    expect_at("[0123]", 6, SIO_ERR_JSON_NUMBER, 1);
    expect_at("[-00]", 5, SIO_ERR_JSON_NUMBER, 2);
    expect_at("[1E2,1e-2,10.25]", 16, SIO_OK, 0);
    expect_at("[1.]", 4, SIO_ERR_JSON_NUMBER, 3);
}

static void nested(char *buf, size_t depth, char open, char close)
{
    for (size_t i = 0; i < depth; i++) {
        buf[i] = open;
        buf[2 * depth - 1 - i] = close;
    }
    buf[2 * depth] = 0;
}

static void test_depth(void)
{
    char buf[2 * 1100 + 1];
    size_t at = 0;
    nested(buf, SIO_JSON_MAX_DEPTH_DEFAULT, '[', ']');
    CHECK_ERR(validate_str(buf, &at), SIO_OK);
    nested(buf, SIO_JSON_MAX_DEPTH_DEFAULT + 1, '[', ']');
    CHECK_ERR(validate_str(buf, &at), SIO_ERR_JSON_DEPTH);
    CHECK_EQ_INT(at, SIO_JSON_MAX_DEPTH_DEFAULT);
    /* Objects count the same as arrays. */
    const char *obj3 = "{\"a\":{\"b\":{\"c\":1}}}";
    sio_json_options opt = {3};
    CHECK_ERR(sio_json_validate((const uint8_t *)obj3, strlen(obj3), &opt, NULL), SIO_OK);
    opt.max_depth = 2;
    CHECK_ERR(sio_json_validate((const uint8_t *)obj3, strlen(obj3), &opt, &at),
              SIO_ERR_JSON_DEPTH);
    CHECK_EQ_INT(at, 10);
    opt.max_depth = 1;
    CHECK_ERR(sio_json_validate((const uint8_t *)"[1,[2]]", 7, &opt, &at), SIO_ERR_JSON_DEPTH);
    CHECK_ERR(sio_json_validate((const uint8_t *)"[1,2]", 5, &opt, &at), SIO_OK);
    CHECK_ERR(sio_json_validate((const uint8_t *)"1", 1, &opt, &at), SIO_OK);
    /* The cap is honoured exactly, and anything above it is refused as an argument. */
    opt.max_depth = SIO_JSON_MAX_DEPTH_CAP;
    nested(buf, SIO_JSON_MAX_DEPTH_CAP, '[', ']');
    CHECK_ERR(sio_json_validate((const uint8_t *)buf, strlen(buf), &opt, &at), SIO_OK);
    nested(buf, SIO_JSON_MAX_DEPTH_CAP + 1, '[', ']');
    CHECK_ERR(sio_json_validate((const uint8_t *)buf, strlen(buf), &opt, &at), SIO_ERR_JSON_DEPTH);
    opt.max_depth = SIO_JSON_MAX_DEPTH_CAP + 1;
    CHECK_ERR(sio_json_validate((const uint8_t *)"[]", 2, &opt, &at), SIO_ERR_INVALID_ARGUMENT);
    /* Mixed nesting: closers must match their openers at every level. */
    CHECK_ERR(validate_str("[{\"a\":[{}]}]", &at), SIO_OK);
    CHECK_ERR(validate_str("[{\"a\":[{}}]]", &at), SIO_ERR_JSON_SYNTAX);
    CHECK_EQ_INT(at, 9);
}

/* Every prefix of a valid text is rejected (a truncated message must never validate), except
 * prefixes that are themselves complete numbers. */
static void test_prefixes(void)
{
    const char *full = "{\"a\":[1,\"x\\u00e9\",true,null,{\"b\":-2.5e3}],\"c\":\"\xe2\x82\xac\"}";
    size_t n = strlen(full);
    int rejected_count = 0;
    for (size_t k = 0; k < n; k++) {
        size_t at = 0;
        if (sio_json_validate((const uint8_t *)full, k, NULL, &at) != SIO_OK)
            rejected_count++;
        CHECK(at <= k);
    }
    CHECK_EQ_INT(rejected_count, (long long)n);
    CHECK_ERR(sio_json_validate((const uint8_t *)full, n, NULL, NULL), SIO_OK);
}

/* Deterministic mutations (replace, insert, delete one byte from a JSON-significant alphabet) of
 * valid texts. Whatever this validator accepts, cJSON must accept too: cJSON is the more lenient
 * of the two, so a text only we accept would be a bug here. The reverse (cJSON accepts, we
 * reject) is expected only for the leniencies listed at cjson_accepts (malformed numbers and
 * \u escapes, in practice). */
static uint32_t lcg(uint32_t *state)
{
    *state = *state * 1103515245u + 12345u;
    return *state >> 8;
}

static void test_mutations_against_cjson(void)
{
    static const char *const seeds[] = {
        "{\"sid\":\"abc\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000}",
        "[\"message\",1,\"2\",{\"3\":[true,false,null]},-0.5e3]",
        "[{\"_placeholder\":true,\"num\":0},\"\\u00e9\\n\"]",
    };
    static const char alphabet[] = "{}[]\",:01-.eE \\tnfu";
    uint32_t rng = 12345;
    int ours_only = 0, agree = 0;
    char buf[128];
    for (int round = 0; round < 20000; round++) {
        const char *seed = seeds[round % 3];
        size_t n = strlen(seed), pos = lcg(&rng) % n;
        char c = alphabet[lcg(&rng) % (sizeof alphabet - 1)];
        int op = (int)(lcg(&rng) % 3);
        memcpy(buf, seed, n + 1);
        if (op == 0) {
            buf[pos] = c;
        } else if (op == 1) {
            memmove(buf + pos + 1, buf + pos, n - pos + 1);
            buf[pos] = c;
            n++;
        } else {
            memmove(buf + pos, buf + pos + 1, n - pos);
            n--;
        }
        bool ours = sio_json_validate((const uint8_t *)buf, n, NULL, NULL) == SIO_OK;
        bool theirs = cjson_accepts(buf);
        if (ours && !theirs) {
            ours_only++;
            fprintf(stderr, "accepted here, rejected by cJSON: %s\n", buf);
        } else if (ours == theirs) {
            agree++;
        }
    }
    CHECK_EQ_INT(ours_only, 0);
    CHECK(agree > 15000);
}

int main(void)
{
    test_mutations_against_cjson();
    test_tables();
    test_embedded_nul();
    test_string_words();
    test_short_forms();
    test_depth();
    test_prefixes();
    CHECK_DONE();
}
