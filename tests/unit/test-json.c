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

int main(void)
{
    test_build();
    test_parse();
    return tap_done();
}
