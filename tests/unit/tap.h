/* tap.h: the few checks unit tests need.  A failed check prints where and
 * what, and the program exits 1 at the end (automake's harness: 0 pass,
 * 77 skip, other fail). */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_failures;
static int tap_checks;

#define CHECK(cond)                                                             \
    do {                                                                        \
        tap_checks++;                                                           \
        if (!(cond)) {                                                          \
            tap_failures++;                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                       \
    } while (0)

#define CHECK_STR(a, b)                                                         \
    do {                                                                        \
        const char *_a = (a), *_b = (b);                                        \
        tap_checks++;                                                           \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                \
            tap_failures++;                                                     \
            fprintf(stderr, "%s:%d: '%s' != '%s' (%s vs %s)\n", __FILE__, __LINE__, \
                    _a ? _a : "(null)", _b ? _b : "(null)", #a, #b);            \
        }                                                                       \
    } while (0)

#define CHECK_INT(a, b)                                                         \
    do {                                                                        \
        long long _a = (long long)(a), _b = (long long)(b);                     \
        tap_checks++;                                                           \
        if (_a != _b) {                                                         \
            tap_failures++;                                                     \
            fprintf(stderr, "%s:%d: %lld != %lld (%s vs %s)\n", __FILE__, __LINE__, \
                    _a, _b, #a, #b);                                            \
        }                                                                       \
    } while (0)

static inline int tap_done(void)
{
    printf("%d checks, %d failed\n", tap_checks, tap_failures);
    return tap_failures ? 1 : 0;
}
