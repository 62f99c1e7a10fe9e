/* test-http.c: unit tests for the parts of http.c that need no connection.
 *
 * Covers the reply's header list: it grows as needed, so no header is ever
 * dropped (there was a fixed limit of 8 whose overflow callers ignored),
 * keeps the order given, and is freed by reply_clear(). */
#include "config.h"

#include <stdio.h>

#include "http.h"
#include "tap.h"
#include "util.h"

static void test_headers(void)
{
    Reply rep = { 0 };
    char name[32], value[32];

    reply_set(&rep, 200, "application/json", strdup("{}"), 2);
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "X-Header-%d", i);
        snprintf(value, sizeof(value), "value %d", i);
        CHECK_INT(reply_add_header(&rep, name, value), 0);
    }
    CHECK_INT(rep.n_headers, 100);
    CHECK(!rep.oom);
    for (size_t i = 0; i < rep.n_headers; i++) {
        snprintf(name, sizeof(name), "X-Header-%zu", i);
        snprintf(value, sizeof(value), "value %zu", i);
        CHECK_STR(rep.headers[i].name, name);
        CHECK_STR(rep.headers[i].value, value);
    }
    CHECK_INT(rep.status, 200);
    reply_clear(&rep);
    CHECK_INT(rep.n_headers, 0);
    CHECK(!rep.headers && !rep.body && rep.status == 0);
    /* A cleared reply takes headers again. */
    CHECK_INT(reply_add_header(&rep, "Retry-After", "1"), 0);
    CHECK_INT(rep.n_headers, 1);
    reply_clear(&rep);
}

int main(void)
{
    test_headers();
    return tap_done();
}
