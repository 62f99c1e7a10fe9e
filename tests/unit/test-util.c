/* test-util.c: strings, names, decoding, time formats, buffers. */
#include "config.h"

#include "tap.h"
#include "util.h"

static void test_names(void)
{
    char big[300];

    CHECK(machine_name_valid("vm1", 3));
    CHECK(machine_name_valid("web 01", 6));
    CHECK(!machine_name_valid("", 0));
    CHECK(!machine_name_valid(".", 1));
    CHECK(!machine_name_valid("..", 2));
    CHECK(machine_name_valid("...", 3));
    CHECK(!machine_name_valid("a/b", 3));
    CHECK(!machine_name_valid("a\0b", 3));
    CHECK(!machine_name_valid("a\x01", 2));
    CHECK(!machine_name_valid("a\x7f", 2));
    memset(big, 'a', sizeof(big));
    CHECK(machine_name_valid(big, 255));
    CHECK(!machine_name_valid(big, 256));
}

static void test_decode(void)
{
    char *s = NULL;
    size_t n = 0;

    CHECK_INT(percent_decode("web%2001", 8, &s, &n), 0);
    CHECK_STR(s, "web 01");
    CHECK_INT(n, 6);
    free(s);
    CHECK_INT(percent_decode("a%2fb", 5, &s, &n), 0);
    CHECK_STR(s, "a/b");
    free(s);
    CHECK_INT(percent_decode("a%00b", 5, &s, &n), 0);
    CHECK_INT(n, 3);
    CHECK_INT(strlen(s), 1);
    free(s);
    CHECK_INT(percent_decode("%zz", 3, &s, &n), -EINVAL);
    CHECK_INT(percent_decode("%2", 2, &s, &n), -EINVAL);
    CHECK_INT(percent_decode("%", 1, &s, &n), -EINVAL);
    /* Decoded once: %252f stays %2f. */
    CHECK_INT(percent_decode("%252f", 5, &s, &n), 0);
    CHECK_STR(s, "%2f");
    free(s);
}

static void check_uri(const char *in, const char *want)
{
    char *s = uri_strip_credentials(in);

    CHECK_STR(s, want);
    free(s);
}

static void test_uri(void)
{
    check_uri("qemu:///system", "qemu:///system");
    check_uri("test:///srv/node.xml", "test:///srv/node.xml");
    check_uri("test://user:secret@/srv/node.xml", "test:///srv/node.xml");
    check_uri("qemu+ssh://root@kvm09/system", "qemu+ssh://kvm09/system");
    check_uri("qemu+ssh://root:pw@kvm09:2222/system", "qemu+ssh://kvm09:2222/system");
    /* The userinfo ends at the authority's last '@'. */
    check_uri("qemu+ssh://a@b:c@kvm09/system", "qemu+ssh://kvm09/system");
    check_uri("qemu+tcp://u:p@kvm09", "qemu+tcp://kvm09");
    /* An '@' after the authority is not userinfo. */
    check_uri("test:///srv/a@b.xml", "test:///srv/a@b.xml");
    check_uri("qemu+ssh://kvm09/system?name=a@b", "qemu+ssh://kvm09/system?name=a@b");
    /* Secret-looking parameters go, the others stay in order. */
    check_uri("qemu+ssh://root@kvm09/system?keyfile=/root/.ssh/id&no_verify=1",
              "qemu+ssh://kvm09/system?no_verify=1");
    check_uri("qemu+ssh://kvm09/system?no_verify=1&keyfile=/k&socket=/s",
              "qemu+ssh://kvm09/system?no_verify=1&socket=/s");
    check_uri("esx://h/?Password=x&PASS%77ORD=y&token=z", "esx://h/");
    check_uri("esx://h/?api_secret&x=1", "esx://h/?x=1");
    check_uri("qemu+ssh://kvm09/system?", "qemu+ssh://kvm09/system");
    check_uri("qemu+ssh://kvm09/system?&&a=1&&", "qemu+ssh://kvm09/system?a=1");
    check_uri("qemu+ssh://kvm09/system?%zz=1", "qemu+ssh://kvm09/system?%zz=1");
    check_uri("qemu+ssh://kvm09/system?pass%zz=1", "qemu+ssh://kvm09/system");
    /* A fragment stays; a '?' inside it is no query. */
    check_uri("test:///a?key=1#frag?x", "test:///a#frag?x");
    /* No "://": no authority, the query is still cleaned. */
    check_uri("qemu:/system?password=x", "qemu:/system");
    check_uri("", "");
    check_uri("user:pw@host", "user:pw@host");
}

static void test_parse(void)
{
    unsigned long long v = 0;
    bool b = false;

    CHECK_INT(parse_uint("42", 0, 100, &v), 0);
    CHECK_INT(v, 42);
    CHECK_INT(parse_uint("101", 0, 100, &v), -ERANGE);
    CHECK_INT(parse_uint("-1", 0, 100, &v), -EINVAL);
    CHECK_INT(parse_uint("4x", 0, 100, &v), -EINVAL);
    CHECK_INT(parse_uint("", 0, 100, &v), -EINVAL);
    CHECK_INT(parse_bool("yes", &b), 0);
    CHECK(b);
    CHECK_INT(parse_bool("0", &b), 0);
    CHECK(!b);
    CHECK_INT(parse_bool("maybe", &b), -EINVAL);
}

static void test_strv(void)
{
    char **v = strv_split(" web-*, db-? ,,x ", ',');

    CHECK_INT(strv_length(v), 3);
    CHECK_STR(v[0], "web-*");
    CHECK_STR(v[1], "db-?");
    CHECK_STR(v[2], "x");
    strv_free(v);
    CHECK(glob_match("web-*", "web-01"));
    CHECK(!glob_match("db-?", "db-10"));
}

static void test_time(void)
{
    char buf[32];

    /* 2026-11-22 01:30:15.123456 UTC */
    format_timestamp(1795311015123456ull, buf);
    CHECK_STR(buf, "20261122T013015.123456Z");
    format_rfc3339(1795311015123456ull, buf);
    CHECK_STR(buf, "2026-11-22T01:30:15Z");
}

static void test_buf(void)
{
    Buf b = { 0 };
    char *s;

    buf_puts(&b, "a");
    buf_printf(&b, "%d-%s", 42, "x");
    for (int i = 0; i < 1000; i++)
        buf_puts(&b, "y");
    s = buf_steal(&b);
    CHECK_INT(strlen(s), 1005);
    CHECK(strncmp(s, "a42-xy", 6) == 0);
    free(s);
    CHECK(b.data == NULL);
}

static void test_utf8(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "plain", "plain" },
        { "caf\xc3\xa9", "caf\xc3\xa9" },         /* é */
        { "\xe2\x82\xac 5", "\xe2\x82\xac 5" },   /* € */
        { "\xf0\x9f\x92\xbb", "\xf0\x9f\x92\xbb" }, /* 4 bytes */
        { "a\xff" "b", "a?b" },
        { "\xc3\x28", "?(" },                      /* bad continuation */
        { "\xc0\xaf", "??" },                      /* overlong '/' */
        { "\xed\xa0\x80", "???" },                /* surrogate */
        { "\xf4\x90\x80\x80", "????" },          /* above U+10FFFF */
        { "end\xe2\x82", "end??" },               /* truncated */
    };

    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        char *s = utf8_sanitize(cases[i].in);

        CHECK_STR(s, cases[i].out);
        free(s);
    }
}

static void test_error(void)
{
    error_clear();
    CHECK(error_get() == NULL);
    error_setf("machine '%s' not found", "vm1");
    CHECK_STR(error_get(), "machine 'vm1' not found");
    error_clear();
    CHECK(error_get() == NULL);
}

static void test_hex(void)
{
    static const uint8_t bytes[] = { 0x00, 0x7f, 0xa5, 0xff };
    uint8_t back[4] = { 0 };
    char hex[9];

    hex_encode(bytes, sizeof(bytes), hex);
    CHECK_STR(hex, "007fa5ff");
    CHECK_INT(hex_decode(hex, 8, back), 0);
    CHECK(memcmp(back, bytes, sizeof(bytes)) == 0);
    CHECK_INT(hex_decode("007FA5FF", 8, back), 0);
    CHECK(memcmp(back, bytes, sizeof(bytes)) == 0);
    CHECK_INT(hex_decode("0g", 2, back), -EINVAL);
    CHECK_INT(hex_decode("0", 1, back), -EINVAL);
    CHECK_INT(hex_digit('z'), -1);
    /* FNV-1a's published test vector for "a". */
    CHECK(fnv1a64("a", 1) == UINT64_C(0xaf63dc4c8601ec8c));
}

int main(void)
{
    test_hex();
    test_names();
    test_decode();
    test_uri();
    test_parse();
    test_strv();
    test_time();
    test_buf();
    test_utf8();
    test_error();
    return tap_done();
}
