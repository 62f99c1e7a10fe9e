/* test-metaxml.c: owner, description and tags in virtmcd's metadata
 * element: the limits of a change, and the merge into the element as
 * libvirt returns it (without its namespace) or as a definition holds it
 * (prefixed), keeping the boot markers. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "metaxml.h"
#include "tap.h"
#include "util.h"
#include "xmlns.h"

static MetaTagChange tag(const char *k, const char *v)
{
    return (MetaTagChange){ .key = (char *)k, .value = (char *)v };
}

static int check_one(MetaPatch p)
{
    return meta_patch_check(&p);
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);

    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_limits(void)
{
    _cleanup_free_ char *o255 = repeat('o', 255), *o256 = repeat('o', 256);
    _cleanup_free_ char *d4096 = repeat('d', 4096), *d4097 = repeat('d', 4097);
    _cleanup_free_ char *k63 = repeat('k', 63), *k64 = repeat('k', 64);
    _cleanup_free_ char *v255 = repeat('v', 255), *v256 = repeat('v', 256);
    MetaTagChange many[META_TAGS_MAX + 1];

    CHECK_INT(check_one((MetaPatch){ 0 }), 0);
    CHECK_INT(check_one((MetaPatch){ .owner = META_SET, .owner_value = o255 }), 0);
    CHECK_INT(check_one((MetaPatch){ .owner = META_SET, .owner_value = o256 }), -EINVAL);
    CHECK_INT(check_one((MetaPatch){ .owner = META_SET, .owner_value = "" }), -EINVAL);
    CHECK_INT(check_one((MetaPatch){ .owner = META_SET, .owner_value = "a\nb" }), -EINVAL);
    CHECK_INT(check_one((MetaPatch){ .owner = META_SET, .owner_value = "a\x7f" }), -EINVAL);
    CHECK_INT(check_one((MetaPatch){ .owner = META_SET, .owner_value = "J\xc3\xbcrgen" }), 0);
    CHECK_INT(check_one((MetaPatch){ .owner = META_SET, .owner_value = "bad \xc3" }), -EINVAL);
    CHECK_INT(check_one((MetaPatch){ .owner = META_SET, .owner_value = "overlong \xc0\xaf" }),
              -EINVAL);
    CHECK_INT(check_one((MetaPatch){ .owner = META_SET, .owner_value = "surrogate \xed\xa0\x80" }),
              -EINVAL);
    CHECK_INT(check_one((MetaPatch){ .owner = META_SET, .owner_value = "c1 \xc2\x85" }), -EINVAL);
    CHECK_INT(check_one((MetaPatch){ .owner = META_SET, .owner_value = "\xf0\x9f\x90\xa7" }), 0);
    CHECK_INT(check_one((MetaPatch){ .owner = META_DELETE }), 0);
    CHECK_INT(check_one((MetaPatch){ .description = META_SET, .description_value = d4096 }), 0);
    CHECK_INT(check_one((MetaPatch){ .description = META_SET, .description_value = d4097 }),
              -EINVAL);
    CHECK_INT(check_one((MetaPatch){ .description = META_SET, .description_value = "a\n\tb" }), 0);
    CHECK_INT(check_one((MetaPatch){ .description = META_SET, .description_value = "a\rb" }),
              -EINVAL);

    CHECK_INT(check_one((MetaPatch){ .tags = (MetaTagChange[]){ tag(k63, "x") }, .n_tags = 1 }), 0);
    CHECK_INT(check_one((MetaPatch){ .tags = (MetaTagChange[]){ tag(k64, "x") }, .n_tags = 1 }),
              -EINVAL);
    CHECK_INT(check_one((MetaPatch){ .tags = (MetaTagChange[]){ tag("", "x") }, .n_tags = 1 }),
              -EINVAL);
    CHECK_INT(check_one((MetaPatch){ .tags = (MetaTagChange[]){ tag("a:b", "x") }, .n_tags = 1 }),
              -EINVAL);
    CHECK_INT(check_one((MetaPatch){ .tags = (MetaTagChange[]){ tag("A-z_0.9", v255) }, .n_tags = 1 }),
              0);
    CHECK_INT(check_one((MetaPatch){ .tags = (MetaTagChange[]){ tag("k", v256) }, .n_tags = 1 }),
              -EINVAL);
    CHECK_INT(check_one((MetaPatch){ .tags = (MetaTagChange[]){ tag("k", NULL) }, .n_tags = 1 }), 0);
    CHECK_INT(check_one((MetaPatch){ .tags = (MetaTagChange[]){ tag("k", "\t") }, .n_tags = 1 }),
              -EINVAL);
    for (size_t i = 0; i <= META_TAGS_MAX; i++)
        many[i] = tag("k", "v");
    CHECK_INT(check_one((MetaPatch){ .tags = many, .n_tags = META_TAGS_MAX }), 0);
    CHECK_INT(check_one((MetaPatch){ .tags = many, .n_tags = META_TAGS_MAX + 1 }), -EINVAL);
}

/* As virDomainGetMetadata returns it: no prefix, no namespace. */
static const char libvirt_form[] =
    "<instance>\n  <boot-once restore=\"X&amp;1\" armed-state=\"running\"/>\n"
    "  <owner>bob</owner>\n  <tag key=\"team\">infra</tag>\n  <tag key=\"env\">ci</tag>\n"
    "  <live-boot order=\"os hd\" at=\"42\"/>\n</instance>";

static void test_merge(void)
{
    _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;
    _cleanup_(meta_info_clear) MetaInfo ia = { 0 }, ib = { 0 };
    MetaPatch p = {
        .owner = META_SET, .owner_value = "d<a>ve & 'co'",
        .description = META_SET, .description_value = "line\nnext \"q\"",
        .tags = (MetaTagChange[]){ tag("team", NULL), tag("zone", "b"), tag("env", "prod") },
        .n_tags = 3,
    };
    const char *prefixed = "<virtmcd:instance xmlns:virtmcd=\"" VIRTMCD_XMLNS "\">"
                           "<virtmcd:owner>alice</virtmcd:owner>"
                           "<virtmcd:description>old</virtmcd:description>"
                           "<virtmcd:tag key=\"a\">1</virtmcd:tag></virtmcd:instance>";

    CHECK_INT(metaxml_apply(libvirt_form, &p, &a, &ia), 0);
    /* Quotes escaped in text too, as libvirt's own writer does. */
    CHECK_STR(a, "<instance><owner>d&lt;a&gt;ve &amp; &apos;co&apos;</owner>"
                 "<description>line\nnext &quot;q&quot;</description>"
                 "<tag key='env'>prod</tag><tag key='zone'>b</tag>"
                 "<boot-once restore='X&amp;1' armed-state='running'/>"
                 "<live-boot order='os hd' at='42'/></instance>");
    CHECK_STR(ia.owner, "d<a>ve & 'co'");
    CHECK_INT(ia.n_tags, 2);
    if (ia.n_tags == 2) {
        CHECK_STR(ia.tags[0].key, "env");
        CHECK_STR(ia.tags[1].value, "b");
    }
    /* What it wrote reads back the same, and an empty patch keeps it. */
    CHECK_INT(metaxml_apply(a, &(MetaPatch){ 0 }, &b, &ib), 0);
    CHECK_STR(b, a);
    CHECK_STR(ib.description, "line\nnext \"q\"");

    /* Prefixed, as in a definition. */
    CHECK_INT(metaxml_apply(prefixed, &(MetaPatch){ .description = META_DELETE, .tags_clear = true,
                                                    .tags = (MetaTagChange[]){ tag("n", "1") },
                                                    .n_tags = 1 },
                            &c, NULL),
              0);
    CHECK_STR(c, "<instance><owner>alice</owner><tag key='n'>1</tag></instance>");
    /* None yet. */
    CHECK_INT(metaxml_apply(NULL, &(MetaPatch){ .owner = META_SET, .owner_value = "x" }, &d, NULL),
              0);
    CHECK_STR(d, "<instance><owner>x</owner></instance>");
    CHECK_INT(metaxml_apply("<instance", &(MetaPatch){ 0 }, &e, NULL), -EINVAL);
    CHECK(e == NULL);
}

static void test_too_many_after_merge(void)
{
    Buf b = { 0 };
    _cleanup_free_ char *xml = NULL, *out = NULL;

    buf_puts(&b, "<instance>");
    for (int i = 0; i < META_TAGS_MAX; i++)
        buf_printf(&b, "<tag key='t%d'>v</tag>", i);
    buf_puts(&b, "</instance>");
    xml = buf_steal(&b);
    buf_free(&b);
    CHECK_INT(metaxml_apply(xml, &(MetaPatch){ .tags = (MetaTagChange[]){ tag("t1", "w") },
                                               .n_tags = 1 },
                            &out, NULL),
              0);
    free(out);
    out = NULL;
    CHECK_INT(metaxml_apply(xml, &(MetaPatch){ .tags = (MetaTagChange[]){ tag("new", "w") },
                                               .n_tags = 1 },
                            &out, NULL),
              -EINVAL);
    CHECK(out == NULL);
}

int main(void)
{
    test_limits();
    test_merge();
    test_too_many_after_merge();
    return tap_done();
}
