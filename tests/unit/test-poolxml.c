/* test-poolxml.c: the clone definition made from a template (golden files
 * in tests/data/poolxml/: <case>-in.xml -> <case>-clone-out.xml; a
 * VIRTMCD_REGENERATE=1 run rewrites the expected files, whose diff a person
 * then reads), the template's disks, the pool metadata both ways. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domxml.h"
#include "poolxml.h"
#include "tap.h"
#include "util.h"

#define MAX_FILE (1024 * 1024)

static char *data_dir;
static bool regenerate;

static char *load(const char *name)
{
    _cleanup_free_ char *p = strdup_printf("%s/%s", data_dir, name);
    char *s = NULL;

    if (read_file(p, MAX_FILE, &s, NULL) < 0) {
        fprintf(stderr, "%s: cannot read\n", p);
        return NULL;
    }
    return s;
}

static void golden(const char *name, const char *got)
{
    _cleanup_free_ char *p = strdup_printf("%s/%s", data_dir, name);
    _cleanup_free_ char *want = NULL;

    if (regenerate) {
        FILE *f = fopen(p, "w");

        CHECK(f != NULL);
        if (f) {
            fputs(got, f);
            fclose(f);
        }
        return;
    }
    if (read_file(p, MAX_FILE, &want, NULL) < 0) {
        fprintf(stderr, "%s: missing (VIRTMCD_REGENERATE=1 writes it)\n", name);
        CHECK(false);
        return;
    }
    CHECK_STR(got, want);
}

static void test_template_disks(void)
{
    _cleanup_free_ char *xml = load("template-in.xml");
    _cleanup_free_ char *bad = load("network-disk-in.xml");
    PoolDisk *d = NULL;
    size_t n = 0;

    CHECK(xml && bad);
    CHECK_INT(poolxml_template_disks(xml, &d, &n), 0);
    /* The read-only disk and the CD-ROM are shared, not cloned. */
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(d[0].target, "vda");
        CHECK_STR(d[0].type, "file");
        CHECK_STR(d[0].source, "/var/lib/libvirt/images/deb12.img");
        CHECK(d[0].vol_pool == NULL);
        CHECK_STR(d[0].format, "raw");
        CHECK_STR(d[1].target, "vdb");
        CHECK_STR(d[1].type, "volume");
        CHECK_STR(d[1].source, "deb12-data.qcow2");
        CHECK_STR(d[1].vol_pool, "data");
        CHECK(d[1].format == NULL);
    }
    pool_disks_free(d, n);
    /* A network disk cannot be a storage volume: the error names it. */
    error_clear();
    CHECK_INT(poolxml_template_disks(bad, &d, &n), -EINVAL);
    CHECK(error_get() && strstr(error_get(), "'vda'") && strstr(error_get(), "network"));
    CHECK_INT(poolxml_template_disks("<nodomain/>", &d, &n), -EINVAL);
}

static DomPool sample_meta(char **vols)
{
    return (DomPool){
        .name = (char *)"deb12",
        .template_name = (char *)"deb12-template",
        .state = (char *)"pending",
        .created = 1764660000,
        .since = 1764660000,
        .volumes = vols,
    };
}

static void test_clone(void)
{
    _cleanup_free_ char *xml = load("template-in.xml");
    _cleanup_free_ char *out = NULL;
    char *vols[] = { (char *)"/var/lib/libvirt/images/ci-deb12-x1-vda.qcow2",
                     (char *)"/data/ci-deb12-x1-vdb.qcow2", NULL };
    const char *sources[] = { vols[0], "ci-deb12-x1-vdb.qcow2" };
    DomPool meta = sample_meta(vols);
    PoolCloneSpec spec = { .name = "ci-deb12-x1", .sources = sources, .n_sources = 2,
                           .format = "qcow2", .meta = &meta };
    _cleanup_(dom_info_freep) DomInfo *info = NULL;

    CHECK(xml);
    CHECK_INT(poolxml_clone(xml, &spec, &out), 0);
    if (!out)
        return;
    golden("template-clone-out.xml", out);
    /* What domxml (the machine table) reads back from it. */
    CHECK_INT(domxml_parse(out, &info), 0);
    if (!info)
        return;
    CHECK_STR(info->pool.name, "deb12");
    CHECK_STR(info->pool.template_name, "deb12-template");
    CHECK_STR(info->pool.state, "pending");
    CHECK_INT(info->pool.created, 1764660000);
    CHECK(info->pool.volumes && info->pool.volumes[0] && info->pool.volumes[1] &&
          !info->pool.volumes[2]);
    CHECK_STR(info->pool.volumes[0], vols[0]);
    CHECK(info->owner == NULL);
    CHECK_INT(info->n_tags, 0);
    CHECK(info->ifaces[0].mac == NULL);
    CHECK_STR(info->disks[0].source, vols[0]);
    CHECK_STR(info->disks[1].source, "data/ci-deb12-x1-vdb.qcow2");
    CHECK_STR(info->disks[2].source, "/srv/shared.img");
    CHECK(strstr(out, "<uuid>") == NULL);
    CHECK(strstr(out, "52:54:00:aa:bb") == NULL);
    CHECK(strstr(out, "kept &amp; intact") != NULL);

    /* A source count that does not match the template is refused. */
    spec.n_sources = 1;
    CHECK_INT(poolxml_clone(xml, &spec, &out), -EINVAL);
}

static void test_meta_apply(void)
{
    _cleanup_free_ char *a = NULL, *b = NULL;
    char *vols[] = { (char *)"/p/v1.qcow2", NULL };
    DomPool meta = sample_meta(vols);
    DomPool none = { 0 };

    CHECK_INT(poolxml_meta_apply(NULL, &meta, &a), 0);
    CHECK_STR(a, "<instance><pool name='deb12' template='deb12-template' state='pending' "
                 "created='1764660000' since='1764660000'/><volume path='/p/v1.qcow2'/>"
                 "</instance>");
    /* Checkout: the owner stays where it is, the pool part is replaced. */
    meta.state = (char *)"running";
    meta.since = meta.checkout = 1764663600;
    meta.lifetime = 4;
    meta.expires = 1764678000;
    CHECK_INT(poolxml_meta_apply("<virtmcd:instance xmlns:virtmcd='http://virtmcd.org/xmlns/"
                                 "domain/1.0'><virtmcd:owner>alice</virtmcd:owner>"
                                 "<virtmcd:pool name='old'/><virtmcd:volume path='/old'/>"
                                 "</virtmcd:instance>", &meta, &b), 0);
    CHECK_STR(b, "<instance><owner>alice</owner><pool name='deb12' template='deb12-template' "
                 "state='running' created='1764660000' since='1764663600' "
                 "checkout='1764663600' lifetime='4' expires='1764678000'/>"
                 "<volume path='/p/v1.qcow2'/></instance>");
    CHECK_INT(poolxml_meta_apply(NULL, &none, &a), -EINVAL);
    CHECK_INT(poolxml_meta_apply("<bad", &meta, &a), -EINVAL);
}

static void test_volume_format(void)
{
    _cleanup_free_ char *f = poolxml_volume_format(
        "<volume type='file'><name>v</name><target><path>/p/v</path>"
        "<format type='qcow2'/></target></volume>");

    CHECK_STR(f, "qcow2");
    CHECK(poolxml_volume_format("<volume/>") == NULL);
    CHECK(poolxml_volume_format("<pool/>") == NULL);
    CHECK(poolxml_volume_format("not xml") == NULL);
}

static void test_volume_backing(void)
{
    _cleanup_free_ char *b = poolxml_volume_backing(
        "<volume><name>c-vda.qcow2</name><target><path>/p/c-vda.qcow2</path></target>"
        "<backingStore><path>/p/t&amp;1.img</path><format type='raw'/></backingStore>"
        "</volume>");

    CHECK_STR(b, "/p/t&1.img");
    CHECK(poolxml_volume_backing("<volume><name>v</name></volume>") == NULL);
    CHECK(poolxml_volume_backing("<volume><backingStore><path/></backingStore></volume>") ==
          NULL);
    CHECK(poolxml_volume_backing("not xml") == NULL);
}

static void test_clone_volume_match(void)
{
    _cleanup_free_ char *clone = NULL;

    CHECK_INT(poolxml_clone_volume_match("ci-small-0a1b2c-vda.qcow2", "ci-", "small", &clone), 1);
    CHECK_STR(clone, "ci-small-0a1b2c");
    CHECK_INT(poolxml_clone_volume_match("small-0a1b2c-sd_b.img", NULL, "small", NULL), 1);
    CHECK_INT(poolxml_clone_volume_match("small-0a1b2c-vda.img", "", "small", NULL), 1);
    /* Another prefix, another pool, a pool whose name starts the same. */
    CHECK_INT(poolxml_clone_volume_match("small-0a1b2c-vda.qcow2", "ci-", "small", NULL), 0);
    CHECK_INT(poolxml_clone_volume_match("ci-smaller-0a1b2c-vda.qcow2", "ci-", "small", NULL), 0);
    CHECK_INT(poolxml_clone_volume_match("ci-small-x-0a1b2c-vda.qcow2", "ci-", "small", NULL), 0);
    /* Pool "small-0a1b2c"'s clone is not one of pool "small": the target has no '-'. */
    CHECK_INT(poolxml_clone_volume_match("small-0a1b2c-123456-vda.qcow2", NULL, "small", NULL), 0);
    CHECK_INT(poolxml_clone_volume_match("small-0a1b2c-123456-vda.qcow2", NULL, "small-0a1b2c",
                                         NULL), 1);
    /* Not six lower-case hex digits, no target, another extension. */
    CHECK_INT(poolxml_clone_volume_match("ci-small-0A1B2C-vda.qcow2", "ci-", "small", NULL), 0);
    CHECK_INT(poolxml_clone_volume_match("ci-small-0a1b2-vda.qcow2", "ci-", "small", NULL), 0);
    CHECK_INT(poolxml_clone_volume_match("ci-small-keep01-vda.qcow2", "ci-", "small", NULL), 0);
    CHECK_INT(poolxml_clone_volume_match("ci-small-0a1b2c-.qcow2", "ci-", "small", NULL), 0);
    CHECK_INT(poolxml_clone_volume_match("ci-small-0a1b2c.qcow2", "ci-", "small", NULL), 0);
    CHECK_INT(poolxml_clone_volume_match("ci-small-0a1b2c-vda.raw", "ci-", "small", NULL), 0);
    CHECK_INT(poolxml_clone_volume_match("ci-small-0a1b2c-vda.qcow2.bak", "ci-", "small", NULL),
              0);
    CHECK_INT(poolxml_clone_volume_match("ci-small-0a1b2c-vda", "ci-", "small", NULL), 0);
}

static void test_volume_xml(void)
{
    _cleanup_free_ char *linked = poolxml_volume_xml("c-vda.qcow2", 1048576, "/p/t&1.img", "raw");
    _cleanup_free_ char *full = poolxml_volume_xml("c-vda.img", 512, NULL, "raw");
    _cleanup_free_ char *bare = poolxml_volume_xml("c-vda.img", 512, NULL, NULL);

    CHECK_STR(linked, "<volume><name>c-vda.qcow2</name><capacity unit='bytes'>1048576</capacity>"
                      "<allocation unit='bytes'>0</allocation><target><format type='qcow2'/>"
                      "</target><backingStore><path>/p/t&amp;1.img</path><format type='raw'/>"
                      "</backingStore></volume>");
    CHECK_STR(full, "<volume><name>c-vda.img</name><capacity unit='bytes'>512</capacity>"
                    "<target><format type='raw'/></target></volume>");
    CHECK_STR(bare, "<volume><name>c-vda.img</name><capacity unit='bytes'>512</capacity>"
                    "<target></target></volume>");
}

static void test_states(void)
{
    for (int s = 0; s < _POOL_STATE_MAX; s++)
        CHECK_INT(pool_state_from_string(pool_state_to_string((PoolState)s)), s);
    CHECK_INT(pool_state_from_string("gone"), _POOL_STATE_INVALID);
}

static void test_state_machine(void)
{
    const long long now = 1764660000;
    static const struct {
        PoolClone c;
        PoolAction want;
        bool counts;
    } cases[] = {
        /* pending: start it, then check it, until timeout (15 min here) */
        { { POOL_STATE_PENDING, false, now - 60, 0 }, POOL_ACTION_START, true },
        { { POOL_STATE_PENDING, true, now - 60, 0 }, POOL_ACTION_CHECK, true },
        { { POOL_STATE_PENDING, true, now - 15 * 60, 0 }, POOL_ACTION_CHECK, true },
        { { POOL_STATE_PENDING, true, now - 15 * 60 - 1, 0 }, POOL_ACTION_RECYCLE, false },
        { { POOL_STATE_PENDING, false, now - 16 * 60, 0 }, POOL_ACTION_RECYCLE, false },
        /* ready: kept until ready_ttl (60 min here), unless it stopped */
        { { POOL_STATE_READY, true, now - 3600, 0 }, POOL_ACTION_KEEP, true },
        { { POOL_STATE_READY, true, now - 3601, 0 }, POOL_ACTION_RECYCLE, false },
        { { POOL_STATE_READY, false, now, 0 }, POOL_ACTION_RECYCLE, false },
        /* a start in the future (a clock step back) is not stale */
        { { POOL_STATE_READY, true, now + 3600, 0 }, POOL_ACTION_KEEP, true },
        /* running: the owner's until the lease ends, even stopped */
        { { POOL_STATE_RUNNING, true, now - 7200, now + 1 }, POOL_ACTION_KEEP, false },
        { { POOL_STATE_RUNNING, false, now - 7200, now + 1 }, POOL_ACTION_KEEP, false },
        { { POOL_STATE_RUNNING, true, now - 7200, now }, POOL_ACTION_EXPIRE, false },
        { { POOL_STATE_RUNNING, true, now - 7200, 0 }, POOL_ACTION_KEEP, false },
        { { POOL_STATE_COMPLETED, true, now, 0 }, POOL_ACTION_DELETE, false },
        { { _POOL_STATE_INVALID, true, now, 0 }, POOL_ACTION_IGNORE, false },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        PoolAction a = pool_next_action(&cases[i].c, now, 15, 60);

        if (a != cases[i].want)
            fprintf(stderr, "  case %zu: %s, expected %s\n", i, pool_action_to_string(a),
                    pool_action_to_string(cases[i].want));
        CHECK_INT(a, cases[i].want);
        CHECK_INT(pool_action_counts(&cases[i].c, a), cases[i].counts);
    }
}

int main(void)
{
    const char *srcdir = getenv("abs_srcdir");

    data_dir = strdup_printf("%s/tests/data/poolxml", srcdir && *srcdir ? srcdir : ".");
    regenerate = getenv("VIRTMCD_REGENERATE") && streq(getenv("VIRTMCD_REGENERATE"), "1");
    test_template_disks();
    test_clone();
    test_meta_apply();
    test_volume_format();
    test_volume_xml();
    test_volume_backing();
    test_clone_volume_match();
    test_states();
    test_state_machine();
    free(data_dir);
    return tap_done();
}
