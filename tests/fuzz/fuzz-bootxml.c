/* fuzz-bootxml.c: libFuzzer target for the boot-order rewriter and domxml.
 *
 * Beyond "no crash, no leak", it checks what every rewrite promises: the
 * output parses, the chosen class comes first, a second rewrite changes
 * nothing, and the input's order can be applied back.  Seeds are in
 * tests/fuzz/corpus/fuzz-bootxml/.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Isrc \
 *       $(pkg-config --cflags libxml-2.0) tests/fuzz/fuzz-bootxml.c src/bootxml.c \
 *       src/domxml.c src/xmlutil.c src/util.c $(pkg-config --libs libxml-2.0) -o fuzz-bootxml */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootxml.h"
#include "domxml.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ONCE_ID "20261122T013015.123456Z"

#define FAIL(...)                                   \
    do {                                            \
        fprintf(stderr, "fuzz-bootxml: " __VA_ARGS__); \
        fputc('\n', stderr);                        \
        abort();                                    \
    } while (0)

static void check_set_first(const char *xml, const BootInfo *in, BootClass c)
{
    _cleanup_free_ char *out = NULL, *again = NULL, *back = NULL;
    _cleanup_(boot_info_freep) BootInfo *b = NULL;
    _cleanup_(boot_info_freep) BootInfo *r = NULL;
    int k;

    k = bootxml_set_first(xml, c, &out);
    if (k < 0) {
        if (out)
            FAIL("set_first wrote its result on failure");
        if (in && k == -ENODEV && in->has_class[c])
            FAIL("set_first: -ENODEV for a class that exists");
        return;
    }
    if (!in)
        FAIL("set_first succeeded on XML bootxml_parse refuses");
    if (bootxml_parse(out, &b) < 0)
        FAIL("set_first output does not parse");
    if (boot_info_first(b) != c)
        FAIL("set_first(%s) output starts with %d", boot_class_to_string(c), boot_info_first(b));
    if (bootxml_set_first(out, c, &again) < 0 || !streq(again, out))
        FAIL("set_first is not idempotent");
    if (bootxml_apply_order(out, xml, &back) < 0)
        FAIL("apply_order of the input onto set_first's output failed");
    if (bootxml_parse(back, &r) < 0 || !boot_info_same_order(r, in))
        FAIL("apply_order did not restore the input's order");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_free_ char *xml = malloc(size + 1);
    _cleanup_(boot_info_freep) BootInfo *info = NULL;
    _cleanup_(dom_info_freep) DomInfo *dom = NULL;
    _cleanup_free_ char *applied = NULL, *once = NULL, *cleared = NULL;

    if (!xml)
        return 0;
    memcpy(xml, data, size);
    xml[size] = '\0';

    (void)bootxml_parse(xml, &info);
    for (int c = 0; c < _BOOT_CLASS_MAX; c++)
        check_set_first(xml, info, (BootClass)c);

    if (bootxml_apply_order(xml, xml, &applied) >= 0) {
        _cleanup_(boot_info_freep) BootInfo *a = NULL;

        if (!info)
            FAIL("apply_order succeeded on XML bootxml_parse refuses");
        if (bootxml_parse(applied, &a) < 0 || !boot_info_same_order(a, info))
            FAIL("apply_order(x, x) changed the order");
    }

    /* set_once does not care about boot elements, so it also edits domains
     * whose boot order bootxml_parse refuses (mixed styles). */
    if (bootxml_set_once(xml, ONCE_ID, &once) >= 0 && info) {
        _cleanup_(boot_info_freep) BootInfo *o = NULL;

        if (bootxml_parse(once, &o) < 0 || !o->once_restore || !streq(o->once_restore, ONCE_ID))
            FAIL("set_once did not set the marker");
        if (bootxml_set_once(once, NULL, &cleared) >= 0) {
            boot_info_free(o);
            o = NULL;
            if (bootxml_parse(cleared, &o) < 0 || o->once_restore)
                FAIL("set_once(NULL) did not clear the marker");
        } else
            FAIL("set_once(NULL) failed on set_once's output");
    }

    (void)domxml_parse(xml, &dom);
    return 0;
}
