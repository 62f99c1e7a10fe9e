/* test-json.c: reply shapes and the body readers. */
#include "config.h"

#include "json.h"
#include "tap.h"
#include "util.h"

static void test_build(void)
{
    Json *o = json_obj(), *a = json_arr();
    char *s;
    size_t n = 0;

    json_set_str(o, "name", "vm/1");
    json_set_int(o, "n", 3);
    json_set_bool(o, "ok", true);
    json_set_null(o, "none");
    json_set_str(o, "nullstr", NULL);
    json_push_str(a, "x");
    CHECK_STR(json_as_str(json_arr_get(a, 0)), "x");
    CHECK(json_arr_get(a, 1) == NULL);
    CHECK(json_arr_get(o, 0) == NULL);
    json_set(o, "list", a);
    s = json_dump(o, &n);
    CHECK_STR(s, "{\"name\":\"vm/1\",\"n\":3,\"ok\":true,\"none\":null,\"nullstr\":null,"
                 "\"list\":[\"x\"]}");
    CHECK_INT(n, strlen(s));
    free(s);
    json_unref(o);

    s = json_error_body("bad \"name\"\n", &n);
    CHECK_STR(s, "{\"error\":\"bad \\\"name\\\"\\n\"}");
    free(s);
}

static void test_parse(void)
{
    static const char *const keys[] = { "first", "persistent", NULL };
    const char *str = NULL;
    Json *j = NULL;
    bool b = false;
    uint64_t u = 0;

    CHECK_INT(json_parse_object("{\"first\":\"network\",\"persistent\":false}", 38, &j), 0);
    CHECK_INT(json_check_keys(j, keys), 0);
    CHECK_INT(json_get_str(j, "first", &str), 0);
    CHECK_STR(str, "network");
    CHECK_INT(json_get_bool(j, "persistent", &b), 0);
    CHECK(!b);
    CHECK_INT(json_get_bool(j, "first", &b), -EINVAL);
    CHECK_INT(json_get_str(j, "missing", &str), -ENOENT);
    json_unref(j);

    CHECK_INT(json_parse_object("{\"count\": 3, \"x\": 1}", 20, &j), 0);
    CHECK_INT(json_get_uint(j, "count", 10, &u), 0);
    CHECK_INT(u, 3);
    CHECK_INT(json_get_uint(j, "count", 2, &u), -EINVAL);
    CHECK_INT(json_check_keys(j, keys), -EINVAL);
    CHECK_STR(error_get(), "unknown key 'count'");
    json_unref(j);

    CHECK_INT(json_parse_object("{\"a\":", 5, &j), -EINVAL);
    CHECK_INT(json_parse_object("[1,2]", 5, &j), -EINVAL);
    CHECK_INT(json_parse_object("{} x", 4, &j), -EINVAL);
    CHECK_INT(json_parse_object("{} \n", 4, &j), 0);
    json_unref(j);
    CHECK_INT(json_parse_object("{\"a\":1,}", 8, &j), -EINVAL);
    CHECK_INT(json_parse_object("{\"a\":\"\xff\"}", 8, &j), -EINVAL);
    CHECK_INT(json_parse_object("{\"a\":\0}", 7, &j), -EINVAL);
    CHECK_INT(json_parse_object("", 0, &j), -EINVAL);
}

/* Text written by JsonText parses back to what was written. */
static void test_text(void)
{
    static const char odd[] = "q\"b\\s/n\nr\rt\tc\x01\x1f\x7f caf\xc3\xa9";
    _cleanup_json_ Json *j = NULL;
    JsonText t = { 0 };
    const char *str;
    char *s;
    size_t n = 0;

    json_text_lit(&t, "{\"s\":");
    json_text_str(&t, odd);
    json_text_lit(&t, ",\"n\":");
    json_text_int(&t, -42);
    json_text_lit(&t, ",\"z\":");
    json_text_str(&t, NULL);
    json_text_lit(&t, "}");
    s = json_text_steal(&t, &n);
    CHECK(s != NULL);
    CHECK_INT(n, strlen(s));
    CHECK(t.buf == NULL && t.len == 0);
    CHECK_INT(json_parse_object(s, n, &j), 0);
    CHECK_INT(json_get_str(j, "s", &str), 0);
    CHECK_STR(str, odd);
    CHECK(json_is_null(json_get(j, "z")));
    free(s);
    /* Growth past the first reservation, many times over. */
    for (int i = 0; i < 10000; i++)
        json_text_lit(&t, "0123456789");
    CHECK_INT(t.len, 100000);
    json_text_clear(&t);
}

/* json_parse: any value, as virtmc reads a server's answers. */
static void test_parse_any(void)
{
    Json *j = NULL;
    long long n = 0;
    bool b = false;

    CHECK_INT(json_parse("[{\"n\":5,\"b\":true},\"x\"] \n", 24, &j), 0);
    CHECK_INT(json_is_array(j), true);
    CHECK_INT(json_arr_len(j), 2);
    CHECK_INT(json_as_int(json_get(json_arr_get(j, 0), "n"), &n), 0);
    CHECK_INT(n, 5);
    CHECK_INT(json_as_bool(json_get(json_arr_get(j, 0), "b"), &b), 0);
    CHECK_INT(b, true);
    CHECK_INT(json_as_int(json_arr_get(j, 1), &n), -EINVAL);
    CHECK_INT(json_as_bool(json_arr_get(j, 1), &b), -EINVAL);
    CHECK_STR(json_as_str(json_arr_get(j, 1)), "x");
    CHECK_INT(json_arr_get(j, 2) == NULL, true);
    CHECK_INT(json_arr_get(json_arr_get(j, 0), 0) == NULL, true);
    json_unref(j);

    /* j still holds the old pointer: "null" must set it to NULL. */
    CHECK_INT(json_parse("null", 4, &j), 0);
    CHECK_INT(j == NULL, true);
    CHECK_INT(json_parse("[1] [2]", 7, &j), -EINVAL);
    CHECK_INT(json_parse("[1", 2, &j), -EINVAL);
    CHECK_INT(json_parse("5", 1, &j), 0);
    CHECK_INT(json_as_int(j, &n), 0);
    CHECK_INT(n, 5);
    json_unref(j);
    CHECK_INT(json_parse("nul", 3, &j), -EINVAL);
}

int main(void)
{
    test_build();
    test_parse();
    test_text();
    test_parse_any();
    return tap_done();
}
