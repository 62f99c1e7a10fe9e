/* test-bootxml.c: golden-file tests for bootxml, plus the properties every
 * rewrite must have.
 *
 * Every case in $abs_srcdir/tests/data/bootxml/ runs; a new case needs no
 * code change, and a file no case uses fails the test.  For a case CASE:
 *
 *   CASE-in.xml                the input, as libvirt (or virt-install) prints it
 *   CASE-info.txt              what bootxml_parse says of it (format below)
 *   CASE-OP-out.xml            bootxml_set_first for OP = pxeboot (network),
 *     or CASE-OP.err           diskboot (disk), cdromboot (cdrom); on failure
 *                              the .err file holds the errno name ("ENODEV")
 *   CASE-onceset-out.xml|.err  optional: bootxml_set_once(in, ONCE_ID)
 *   CASE-onceclear-out.xml|.err optional: bootxml_set_once(in, NULL)
 *   CASE-from.xml              optional: a backup, and then
 *   CASE-apply-out.xml|.err    bootxml_apply_order(in, from)
 *
 * CASE-info.txt: "style S", "first CLASS|none", "uefi yes|no", "once ID|-",
 * "classes C...", then one "boot CLASS DEVICE|- ORDER" line per entry; or
 * "error ENAME" when the input does not parse.
 *
 * VIRTMCD_REGENERATE=1 rewrites the expected files instead of comparing
 * (optional ones only where they exist: create an empty one to add it).
 * Read the diffs before committing them. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootxml.h"
#include "tap.h"
#include "util.h"

#define ONCE_ID "20261122T013015.123456Z"
#define MAX_FILE (4 * 1024 * 1024)

static const char *dir;
static bool regenerate;
static char **claimed;

static const struct {
    const char *name;
    BootClass cls;
} ops[] = {
    { "pxeboot", BOOT_CLASS_NETWORK },
    { "diskboot", BOOT_CLASS_DISK },
    { "cdromboot", BOOT_CLASS_CDROM },
};

static const char *errno_name(int r)
{
    static __thread char buf[32];

    switch (-r) {
    case EINVAL:
        return "EINVAL";
    case ENODEV:
        return "ENODEV";
    case ENOMEM:
        return "ENOMEM";
    case EOPNOTSUPP:
        return "EOPNOTSUPP";
    default:
        snprintf(buf, sizeof(buf), "E%d", -r);
        return buf;
    }
}

static char *path_of(const char *name)
{
    char *p = strdup_printf("%s/%s", dir, name);

    if (!p)
        abort();
    return p;
}

static void claim(const char *name)
{
    if (strv_push(&claimed, name) < 0)
        abort();
}

static bool exists(const char *name)
{
    _cleanup_free_ char *p = path_of(name);

    return access(p, F_OK) == 0;
}

/* The file's text, or NULL when it does not exist. */
static char *slurp(const char *name)
{
    _cleanup_free_ char *p = path_of(name);
    char *s = NULL;
    int r;

    r = read_file(p, MAX_FILE, &s, NULL);
    if (r == -ENOENT)
        return NULL;
    if (r < 0) {
        fprintf(stderr, "%s: %s\n", p, strerror(-r));
        abort();
    }
    return s;
}

static void spew(const char *name, const char *text)
{
    _cleanup_free_ char *p = path_of(name);
    FILE *f = fopen(p, "w");

    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "%s: cannot write: %m\n", p);
        abort();
    }
}

static void check_file(const char *name, const char *actual)
{
    _cleanup_free_ char *expected = NULL;

    claim(name);
    if (regenerate) {
        spew(name, actual);
        return;
    }
    expected = slurp(name);
    tap_checks++;
    if (!expected) {
        tap_failures++;
        fprintf(stderr, "%s: missing (VIRTMCD_REGENERATE=1 writes it)\n", name);
    } else if (!streq(expected, actual)) {
        tap_failures++;
        fprintf(stderr, "%s: differs from the actual output:\n%s\n", name, actual);
    }
}

/* Compare an operation's result with BASE-out.xml or BASE.err. */
static void check_result(const char *base, int r, const char *out)
{
    _cleanup_free_ char *out_name = strdup_printf("%s-out.xml", base);
    _cleanup_free_ char *err_name = strdup_printf("%s.err", base);
    _cleanup_free_ char *err_text = NULL;

    if (!out_name || !err_name)
        abort();
    if (r >= 0) {
        if (regenerate && exists(err_name)) {
            _cleanup_free_ char *p = path_of(err_name);

            (void)unlink(p);
        }
        check_file(out_name, out);
        return;
    }
    if (regenerate && exists(out_name)) {
        _cleanup_free_ char *p = path_of(out_name);

        (void)unlink(p);
    }
    err_text = strdup_printf("%s\n", errno_name(r));
    if (!err_text)
        abort();
    check_file(err_name, err_text);
}

static char *describe(const char *xml)
{
    _cleanup_(boot_info_freep) BootInfo *b = NULL;
    Buf buf = {};
    int r;

    r = bootxml_parse(xml, &b);
    if (r < 0) {
        buf_printf(&buf, "error %s\n", errno_name(r));
        return buf_steal(&buf);
    }
    buf_printf(&buf, "style %s\n", boot_style_to_string(b->style));
    buf_printf(&buf, "first %s\n",
               boot_info_first(b) == _BOOT_CLASS_INVALID ? "none"
                                                        : boot_class_to_string(boot_info_first(b)));
    buf_printf(&buf, "uefi %s\n", b->uefi ? "yes" : "no");
    buf_printf(&buf, "once %s\n", b->once_restore ? b->once_restore : "-");
    buf_puts(&buf, "classes");
    for (int c = 0; c < _BOOT_CLASS_MAX; c++)
        if (b->has_class[c])
            buf_printf(&buf, " %s", boot_class_to_string((BootClass)c));
    buf_puts(&buf, "\n");
    for (size_t i = 0; i < b->n_entries; i++)
        buf_printf(&buf, "boot %s %s %u\n", boot_class_to_string(b->entries[i].cls),
                   b->entries[i].device ? b->entries[i].device : "-", b->entries[i].order);
    return buf_steal(&buf);
}

/* The text without its <boot .../> lines: what must not change. */
static char *without_boot_lines(const char *xml)
{
    Buf buf = {};

    for (const char *p = xml; *p;) {
        const char *nl = strchr(p, '\n'), *end = nl ? nl + 1 : p + strlen(p);
        const char *q = p;

        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (!startswith(q, "<boot "))
            buf_append(&buf, p, (size_t)(end - p));
        p = end;
    }
    return buf_steal(&buf);
}

static bool same_order(const char *a, const char *b)
{
    _cleanup_(boot_info_freep) BootInfo *x = NULL;
    _cleanup_(boot_info_freep) BootInfo *y = NULL;

    return bootxml_parse(a, &x) >= 0 && bootxml_parse(b, &y) >= 0 && boot_info_same_order(x, y);
}

static void check_only_boot_lines_changed(const char *what, const char *in, const char *out)
{
    _cleanup_free_ char *a = without_boot_lines(in);
    _cleanup_free_ char *b = without_boot_lines(out);

    tap_checks++;
    if (!a || !b || !streq(a, b)) {
        tap_failures++;
        fprintf(stderr, "%s: more than <boot> lines changed\n", what);
    }
}

static void run_set_first(const char *name, const char *in, BootStyle in_style, size_t k)
{
    _cleanup_free_ char *base = strdup_printf("%s-%s", name, ops[k].name);
    _cleanup_free_ char *out = NULL, *again = NULL, *back = NULL;
    _cleanup_(boot_info_freep) BootInfo *b = NULL;
    int r;

    if (!base)
        abort();
    r = bootxml_set_first(in, ops[k].cls, &out);
    check_result(base, r, out);
    if (r < 0) {
        CHECK(out == NULL);
        return;
    }

    /* The output parses, in the same style (per-device when there was
     * none), with the chosen class first. */
    CHECK_INT(bootxml_parse(out, &b), 0);
    if (b) {
        CHECK_INT(boot_info_first(b), ops[k].cls);
        CHECK_INT(b->style, in_style == BOOT_STYLE_NONE ? BOOT_STYLE_PER_DEVICE : in_style);
    }
    check_only_boot_lines_changed(base, in, out);

    /* Idempotent: twice is once. */
    CHECK_INT(bootxml_set_first(out, ops[k].cls, &again), 0);
    CHECK_STR(again, out);

    /* defaultboot: the input's order comes back from it as a backup. */
    CHECK_INT(bootxml_apply_order(out, in, &back), 0);
    CHECK(back && same_order(back, in));
    if (back && in_style == BOOT_STYLE_NONE)
        CHECK_STR(back, in);
}

/* An optional operation runs when one of its expected files exists. */
static bool wanted(const char *base)
{
    _cleanup_free_ char *o = strdup_printf("%s-out.xml", base);
    _cleanup_free_ char *e = strdup_printf("%s.err", base);

    if (!o || !e)
        abort();
    return exists(o) || exists(e);
}

static void run_once(const char *name, const char *in)
{
    _cleanup_free_ char *set_base = strdup_printf("%s-onceset", name);
    _cleanup_free_ char *clear_base = strdup_printf("%s-onceclear", name);

    if (!set_base || !clear_base)
        abort();
    if (wanted(set_base)) {
        _cleanup_free_ char *out = NULL, *again = NULL, *cleared = NULL;
        _cleanup_(boot_info_freep) BootInfo *b = NULL;
        _cleanup_(boot_info_freep) BootInfo *c = NULL;
        int r = bootxml_set_once(in, ONCE_ID, &out);

        check_result(set_base, r, out);
        if (r >= 0) {
            CHECK_INT(bootxml_parse(out, &b), 0);
            CHECK(b && b->once_restore && streq(b->once_restore, ONCE_ID));
            CHECK(same_order(in, out));
            CHECK_INT(bootxml_set_once(out, ONCE_ID, &again), 0);
            CHECK_STR(again, out);
            CHECK_INT(bootxml_set_once(out, NULL, &cleared), 0);
            CHECK_INT(bootxml_parse(cleared, &c), 0);
            CHECK(c && !c->once_restore);
        }
    }
    if (wanted(clear_base)) {
        _cleanup_free_ char *out = NULL, *again = NULL;
        _cleanup_(boot_info_freep) BootInfo *b = NULL;
        int r = bootxml_set_once(in, NULL, &out);

        check_result(clear_base, r, out);
        if (r >= 0) {
            CHECK_INT(bootxml_parse(out, &b), 0);
            CHECK(b && !b->once_restore);
            CHECK(same_order(in, out));
            CHECK_INT(bootxml_set_once(out, NULL, &again), 0);
            CHECK_STR(again, out);
        }
    }
}

static void run_apply(const char *name, const char *in)
{
    _cleanup_free_ char *from_name = strdup_printf("%s-from.xml", name);
    _cleanup_free_ char *base = strdup_printf("%s-apply", name);
    _cleanup_free_ char *from = NULL, *out = NULL, *again = NULL;
    _cleanup_(boot_info_freep) BootInfo *f = NULL;
    _cleanup_(boot_info_freep) BootInfo *b = NULL;
    int r;

    if (!from_name || !base)
        abort();
    from = slurp(from_name);
    if (!from)
        return;
    claim(from_name);
    r = bootxml_apply_order(in, from, &out);
    check_result(base, r, out);
    if (r < 0)
        return;
    CHECK_INT(bootxml_apply_order(out, from, &again), 0);
    CHECK_STR(again, out);
    CHECK_INT(bootxml_parse(from, &f), 0);
    CHECK_INT(bootxml_parse(out, &b), 0);
    if (f && b && b->n_entries)
        CHECK_INT(b->style, f->style);
}

static void run_case(const char *name)
{
    _cleanup_free_ char *in_name = strdup_printf("%s-in.xml", name);
    _cleanup_free_ char *info_name = strdup_printf("%s-info.txt", name);
    _cleanup_free_ char *in = NULL, *info = NULL;
    _cleanup_(boot_info_freep) BootInfo *b = NULL;
    BootStyle style = BOOT_STYLE_NONE;

    if (!in_name || !info_name)
        abort();
    claim(in_name);
    in = slurp(in_name);
    if (!in)
        abort();
    info = describe(in);
    if (!info)
        abort();
    check_file(info_name, info);

    if (bootxml_parse(in, &b) >= 0) {
        _cleanup_free_ char *same = NULL, *plain = NULL;

        style = b->style;
        /* Written back unchanged, byte for byte. */
        if (!b->once_restore) {
            CHECK_INT(bootxml_set_once(in, NULL, &plain), 0);
            if (plain && !streq(plain, in))
                fprintf(stderr, "%s: does not survive a round trip\n", in_name);
            CHECK_STR(plain, in);
        }
        /* Its own order applied to itself changes no order. */
        CHECK_INT(bootxml_apply_order(in, in, &same), 0);
        CHECK(same && same_order(same, in));
    }
    for (size_t k = 0; k < ELEMENTSOF(ops); k++)
        run_set_first(name, in, style, k);
    run_once(name, in);
    run_apply(name, in);
}

/* ---- properties that need no data file ---- */

static void test_strings(void)
{
    for (int c = 0; c < _BOOT_CLASS_MAX; c++)
        CHECK_INT(boot_class_from_string(boot_class_to_string((BootClass)c)), c);
    CHECK_INT(boot_class_from_string("pxe"), _BOOT_CLASS_INVALID);
    CHECK_INT(boot_class_from_string(NULL), _BOOT_CLASS_INVALID);
    CHECK(boot_class_to_string(_BOOT_CLASS_MAX) == NULL);
    CHECK_STR(boot_style_to_string(BOOT_STYLE_NONE), "none");
    CHECK_STR(boot_style_to_string(BOOT_STYLE_OS), "os");
    CHECK_STR(boot_style_to_string(BOOT_STYLE_PER_DEVICE), "per-device");
    CHECK(boot_style_to_string(_BOOT_STYLE_MAX) == NULL);
    CHECK(boot_style_to_string((BootStyle)-1) == NULL);
    CHECK(boot_class_to_string(_BOOT_CLASS_INVALID) == NULL);
    CHECK_INT(boot_info_first(NULL), _BOOT_CLASS_INVALID);
}

static void test_errors(void)
{
    static const char *const bad[] = {
        "",
        "not xml",
        "<domain>",
        "<network><name>x</name></network>",
        "<x:domain xmlns:x='urn:x'/>",
        "<!DOCTYPE domain [<!ENTITY a 'b'>]><domain><name>&a;</name></domain>",
        "<domain><name>&ext;</name></domain>",
        "<domain><os><boot dev='usb'/></os></domain>",
    };
    const char *ok = "<domain type='kvm'>\n  <name>t</name>\n  <devices>\n"
                     "    <interface type='user'>\n      <mac address='52:54:00:00:00:01'/>\n"
                     "    </interface>\n  </devices>\n</domain>\n";
    char *out = (char *)"untouched";
    BootInfo *b = (BootInfo *)&out;

    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        error_clear();
        CHECK_INT(bootxml_parse(bad[i], &b), -EINVAL);
        CHECK(error_get() != NULL);
        CHECK_INT(bootxml_set_first(bad[i], BOOT_CLASS_NETWORK, &out), -EINVAL);
        CHECK_INT(bootxml_apply_order(bad[i], ok, &out), -EINVAL);
        CHECK_INT(bootxml_apply_order(ok, bad[i], &out), -EINVAL);
        CHECK_INT(bootxml_set_once(bad[i], ONCE_ID, &out), -EINVAL);
    }
    CHECK_INT(bootxml_parse(NULL, &b), -EINVAL);
    CHECK_INT(bootxml_set_first(ok, _BOOT_CLASS_INVALID, &out), -EINVAL);
    CHECK_INT(bootxml_set_first(ok, _BOOT_CLASS_MAX, &out), -EINVAL);
    CHECK_INT(bootxml_set_first(ok, BOOT_CLASS_DISK, &out), -ENODEV);
    CHECK_INT(bootxml_set_once(ok, "", &out), -EINVAL);
    /* ret_* is written only on success. */
    CHECK_STR(out, "untouched");
    CHECK(b == (BootInfo *)&out);
}

/* A compact document (no indentation) gets no whitespace added. */
static void test_compact(void)
{
    const char *in = "<domain type='kvm'><name>c</name><os><type>hvm</type><boot dev='hd'/></os>"
                     "<devices><disk type='file' device='disk'><target dev='vda'/></disk>"
                     "<interface type='user'><mac address='52:54:00:00:00:01'/>"
                     "<address type='pci' slot='0x03'/></interface></devices></domain>";
    const char *backup = "<domain><devices><interface><mac address='52:54:00:00:00:01'/>"
                         "<boot order='7'/></interface></devices></domain>";
    _cleanup_free_ char *os = NULL, *pd = NULL, *once = NULL;

    CHECK_INT(bootxml_set_first(in, BOOT_CLASS_NETWORK, &os), 0);
    CHECK_STR(os, "<domain type='kvm'><name>c</name><os><type>hvm</type><boot dev='network'/>"
                  "<boot dev='hd'/></os><devices><disk type='file' device='disk'>"
                  "<target dev='vda'/></disk><interface type='user'>"
                  "<mac address='52:54:00:00:00:01'/><address type='pci' slot='0x03'/>"
                  "</interface></devices></domain>");
    CHECK_INT(bootxml_apply_order(in, backup, &pd), 0);
    CHECK_STR(pd, "<domain type='kvm'><name>c</name><os><type>hvm</type></os><devices>"
                  "<disk type='file' device='disk'><target dev='vda'/></disk>"
                  "<interface type='user'><mac address='52:54:00:00:00:01'/><boot order='1'/>"
                  "<address type='pci' slot='0x03'/></interface></devices></domain>");
    CHECK_INT(bootxml_set_once(in, "a'b\"c<&>", &once), 0);
    CHECK(once && strstr(once, "</name><metadata><virtmcd:instance xmlns:virtmcd=\"" VIRTMCD_XMLNS
                               "\"><virtmcd:boot-once restore=\"a'b&quot;c&lt;&amp;&gt;\"/>"
                               "</virtmcd:instance></metadata><os>"));
}

/* bootxml_set_firmware: UEFI by autoselection without Secure Boot, and
 * back; the loader and NVRAM of the other firmware go, the order stays. */
static void test_firmware(void)
{
    const char *in = "<domain type='kvm'>\n  <name>f</name>\n  <os>\n"
                     "    <type arch='x86_64' machine='pc'>hvm</type>\n"
                     "    <boot dev='network'/>\n    <boot dev='hd'/>\n  </os>\n"
                     "  <devices>\n    <disk type='file' device='disk'>\n"
                     "      <target dev='vda'/>\n    </disk>\n  </devices>\n</domain>\n";
    const char *pflash = "<domain type='kvm'><name>p</name><os><type>hvm</type>"
                         "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd"
                         "</loader><nvram>/var/lib/libvirt/qemu/nvram/p_VARS.fd</nvram>"
                         "<boot dev='hd'/></os></domain>";
    _cleanup_free_ char *efi = NULL, *back = NULL, *again = NULL, *legacy = NULL;
    _cleanup_(boot_info_freep) BootInfo *a = NULL, *b = NULL, *c = NULL;

    CHECK_INT(bootxml_set_firmware(in, true, &efi), 0);
    CHECK_STR(efi, "<domain type='kvm'>\n  <name>f</name>\n  <os firmware='efi'>\n"
                   "    <type arch='x86_64' machine='pc'>hvm</type>\n    <firmware>\n"
                   "      <feature enabled='no' name='secure-boot'/>\n    </firmware>\n"
                   "    <boot dev='network'/>\n    <boot dev='hd'/>\n  </os>\n"
                   "  <devices>\n    <disk type='file' device='disk'>\n"
                   "      <target dev='vda'/>\n    </disk>\n  </devices>\n</domain>\n");
    CHECK_INT(bootxml_parse(in, &a), 0);
    CHECK_INT(bootxml_parse(efi, &b), 0);
    CHECK(a && b && !a->uefi && b->uefi && boot_info_same_order(a, b));
    CHECK_INT(bootxml_set_firmware(efi, true, &again), 0);
    CHECK_STR(again, efi);
    CHECK_INT(bootxml_set_firmware(efi, false, &back), 0);
    CHECK_STR(back, in);
    CHECK_INT(bootxml_set_firmware(pflash, false, &legacy), 0);
    CHECK_STR(legacy, "<domain type='kvm'><name>p</name><os><type>hvm</type><boot dev='hd'/>"
                      "</os></domain>");
    CHECK_INT(bootxml_parse(legacy, &c), 0);
    CHECK(c && !c->uefi);
    CHECK_INT(bootxml_set_firmware("<domain><name>x</name></domain>", true, &legacy), -EINVAL);
    CHECK_INT(bootxml_set_firmware("<domain", false, &legacy), -EINVAL);
}

typedef struct Job {
    const char *in;
    const char *expected;
    bool ok;
} Job;

static void *job_run(void *p)
{
    Job *j = p;

    j->ok = true;
    for (int i = 0; i < 200; i++) {
        _cleanup_free_ char *out = NULL;
        _cleanup_(boot_info_freep) BootInfo *b = NULL;

        if (bootxml_set_first(j->in, BOOT_CLASS_NETWORK, &out) < 0 || !streq(out, j->expected) ||
            bootxml_parse(out, &b) < 0 || bootxml_parse("<broken", &b) != -EINVAL)
            j->ok = false;
    }
    return NULL;
}

/* The daemon calls bootxml from many threads at once. */

/* ---- the running QEMU: bootxml_live_plan, bootxml_order_key, live-boot ---- */

#define LIVE_HEAD "<domain type='kvm' id='7'><name>g</name><devices>"
#define LIVE_TAIL "</devices></domain>"
/* Two disks, a cdrom, two NICs, as a live definition names them. */
#define LIVE_DEVS                                                                                \
    "<disk type='file' device='disk'><target dev='vda' bus='virtio'/>%s"                         \
    "<alias name='virtio-disk0'/></disk>"                                                        \
    "<disk type='file' device='disk'><target dev='vdb' bus='virtio'/>%s"                         \
    "<alias name='virtio-disk1'/></disk>"                                                        \
    "<disk type='file' device='cdrom'><target dev='sda' bus='sata'/>%s"                          \
    "<alias name='sata0-0-0'/></disk>"                                                           \
    "<interface type='user'><mac address='52:54:00:00:00:01'/>%s<alias name='net0'/>"          \
    "</interface>"                                                                               \
    "<interface type='user'><mac address='52:54:00:00:00:02'/>%s<alias name='net1'/>"          \
    "</interface>"

/* "alias=index ..." of the plan for (live, new). */
static char *plan_text(const char *live, const char *new_xml)
{
    BootIndex *plan = NULL;
    size_t n = 0;
    Buf b = {};
    char *s;
    int r = bootxml_live_plan(live, new_xml, &plan, &n);

    if (r < 0)
        return strdup(errno_name(r));
    for (size_t i = 0; i < n; i++)
        buf_printf(&b, "%s%s=%d", i ? " " : "", plan[i].alias, plan[i].index);
    boot_index_free(plan, n);
    s = buf_steal(&b);
    buf_free(&b);
    return s ? s : strdup("");
}

static char *dom(const char *os, const char *b1, const char *b2, const char *b3, const char *b4,
                 const char *b5)
{
    _cleanup_free_ char *devs = strdup_printf(LIVE_DEVS, b1, b2, b3, b4, b5);

    return strdup_printf("<domain type='kvm'><name>g</name><os><type>hvm</type>%s</os>"
                         "<devices>%s</devices></domain>", os, devs);
}

static void test_live_plan(void)
{
    static const char *const B1 = "<boot order='1'/>", *const B2 = "<boot order='2'/>",
                              *const B3 = "<boot order='3'/>";
    static const struct {
        const char *desc, *os, *b[5], *expected;
    } cases[] = {
        { "per-device: the order values, -1 for the rest", "", { B2, "", "", B1, B3 },
          "virtio-disk0=2 virtio-disk1=-1 sata0-0-0=-1 net0=1 net1=3" },
        { "os network,hd: first NIC 1, first disk 2 (libvirt's legacy mapping)",
          "<boot dev='network'/><boot dev='hd'/>", { "", "", "", "", "" },
          "virtio-disk0=2 virtio-disk1=-1 sata0-0-0=-1 net0=1 net1=-1" },
        { "os cdrom,hd,network", "<boot dev='cdrom'/><boot dev='hd'/><boot dev='network'/>",
          { "", "", "", "", "" }, "virtio-disk0=2 virtio-disk1=-1 sata0-0-0=1 net0=3 net1=-1" },
        { "os hd only: no NIC boots", "<boot dev='hd'/>", { "", "", "", "", "" },
          "virtio-disk0=1 virtio-disk1=-1 sata0-0-0=-1 net0=-1 net1=-1" },
        { "no boot element: QEMU gets none", "", { "", "", "", "", "" },
          "virtio-disk0=-1 virtio-disk1=-1 sata0-0-0=-1 net0=-1 net1=-1" },
    };
    _cleanup_free_ char *live = NULL, *ldevs = strdup_printf(LIVE_DEVS, "", "", "", "", "");

    live = strdup_printf("%s%s%s", LIVE_HEAD, ldevs, LIVE_TAIL);
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        _cleanup_free_ char *new_xml = dom(cases[i].os, cases[i].b[0], cases[i].b[1],
                                           cases[i].b[2], cases[i].b[3], cases[i].b[4]);
        _cleanup_free_ char *got = plan_text(live, new_xml);

        CHECK_STR(got, cases[i].expected);
        if (!streq_ptr(got, cases[i].expected))
            fprintf(stderr, "  case: %s\n", cases[i].desc);
    }

    /* Matched by MAC and target, not position: the new definition lists the
     * NICs the other way round; a device the live one lacks is ignored, a
     * live device without an alias is left out. */
    {
        const char *new_xml =
            "<domain><name>g</name><os><type>hvm</type></os><devices>"
            "<interface type='user'><mac address='52:54:00:00:00:02'/><boot order='1'/></interface>"
            "<interface type='user'><mac address='52:54:00:00:00:01'/><boot order='2'/></interface>"
            "<interface type='user'><mac address='52:54:00:00:00:03'/><boot order='3'/></interface>"
            "<disk type='file' device='disk'><target dev='vda'/><boot order='4'/></disk>"
            "</devices></domain>";
        const char *live2 =
            "<domain id='1'><name>g</name><devices>"
            "<disk type='file' device='disk'><target dev='vda'/><alias name='virtio-disk0'/></disk>"
            "<disk type='file' device='disk'><target dev='vdz'/></disk>"
            "<interface type='user'><mac address='52:54:00:00:00:01'/><alias name='net0'/>"
            "</interface>"
            "<interface type='user'><mac address='52:54:00:00:00:02'/><alias name='ua-n2'/>"
            "</interface>"
            "</devices></domain>";
        _cleanup_free_ char *got = plan_text(live2, new_xml);

        CHECK_STR(got, "virtio-disk0=4 net0=2 ua-n2=1");
    }
    {
        _cleanup_free_ char *got = plan_text("<domain", live);

        CHECK_STR(got, "EINVAL");
    }
}

static void test_order_key(void)
{
    static const char *const B1 = "<boot order='1'/>", *const B2 = "<boot order='2'/>";
    _cleanup_free_ char *os_xml = dom("<boot dev='network'/><boot dev='hd'/>", "", "", "", "", "");
    _cleanup_free_ char *pd = dom("", B2, "", "", B1, "");
    _cleanup_free_ char *pd2 = dom("", B1, "", "", B2, "");
    _cleanup_(boot_info_freep) BootInfo *a = NULL;
    _cleanup_(boot_info_freep) BootInfo *b = NULL;
    _cleanup_(boot_info_freep) BootInfo *c = NULL;
    _cleanup_free_ char *ka = NULL, *kb = NULL, *kc = NULL;

    CHECK_INT(bootxml_parse(os_xml, &a), 0);
    CHECK_INT(bootxml_parse(pd, &b), 0);
    CHECK_INT(bootxml_parse(pd2, &c), 0);
    if (!a || !b || !c)
        return;
    ka = bootxml_order_key(a);
    kb = bootxml_order_key(b);
    kc = bootxml_order_key(c);
    CHECK_STR(ka, "os network, hd");
    CHECK_STR(kb, "per-device network 52:54:00:00:00:01, disk vda");
    CHECK_STR(kc, "per-device disk vda, network 52:54:00:00:00:01");
    CHECK(!a->live_boot);
}

static void test_live_boot_meta(void)
{
    const char *inst = "<virtmcd:instance xmlns:virtmcd=\"" VIRTMCD_XMLNS "\">"
                       "<virtmcd:boot-once restore=\"X&amp;1\" armed-state=\"running\"/>"
                       "<virtmcd:live-boot order=\"old\" at=\"42\"/>"
                       "<other:x xmlns:other=\"urn:o\"/>"
                       "</virtmcd:instance>";
    _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *live = NULL;
    _cleanup_(boot_info_freep) BootInfo *bi = NULL;

    CHECK_INT(bootxml_meta_set_live_boot(inst, "per-device disk vda", 7, &a), 0);
    CHECK_STR(a, "<instance><boot-once restore='X&amp;1' armed-state='running'/>"
                 "<live-boot order='per-device disk vda' at='7'/></instance>");
    CHECK_INT(bootxml_meta_set_live_boot(NULL, "os hd", 1, &b), 0);
    CHECK_STR(b, "<instance><live-boot order='os hd' at='1'/></instance>");
    CHECK_INT(bootxml_meta_set_live_boot(inst, NULL, 0, &c), 0);
    CHECK_STR(c, "<instance><boot-once restore='X&amp;1' armed-state='running'/></instance>");
    CHECK_INT(bootxml_meta_set_live_boot("<x", "os hd", 1, &c), -EINVAL);
    /* As libvirt returns it: no namespace.  Every marker stays, text too. */
    free(a);
    a = NULL;
    CHECK_INT(bootxml_meta_set_live_boot("<instance><boot-once restore=\"Y\"/><owner>bob</owner>"
                                         "<live-boot order=\"old\" at=\"1\"/></instance>",
                                         "os hd", 2, &a),
              0);
    CHECK_STR(a, "<instance><boot-once restore='Y'/><owner>bob</owner>"
                 "<live-boot order='os hd' at='2'/></instance>");

    /* bootxml_parse reads the record from a live definition. */
    live = strdup_printf("<domain id='3'><name>g</name><metadata>%s</metadata><os><type>hvm</type>"
                         "<boot dev='hd'/></os><devices/></domain>", inst);
    CHECK_INT(bootxml_parse(live, &bi), 0);
    CHECK_STR(bi ? bi->live_boot : NULL, "old");
    CHECK_INT(bi ? bi->live_boot_at : 0, 42);
    CHECK_STR(bi ? bi->once_restore : NULL, "X&1");
}

static void test_threads(void)
{
    _cleanup_free_ char *in = slurp("web-uefi-in.xml");
    _cleanup_free_ char *expected = NULL;
    pthread_t t[8];
    Job jobs[8];

    if (!in) {
        fprintf(stderr, "web-uefi-in.xml missing, thread test skipped\n");
        return;
    }
    CHECK_INT(bootxml_set_first(in, BOOT_CLASS_NETWORK, &expected), 0);
    for (size_t i = 0; i < ELEMENTSOF(t); i++) {
        jobs[i] = (Job){ .in = in, .expected = expected };
        CHECK_INT(pthread_create(&t[i], NULL, job_run, &jobs[i]), 0);
    }
    for (size_t i = 0; i < ELEMENTSOF(t); i++) {
        CHECK_INT(pthread_join(t[i], NULL), 0);
        CHECK(jobs[i].ok);
    }
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(void)
{
    const char *srcdir = getenv("abs_srcdir");
    _cleanup_free_ char *d = NULL;
    struct dirent **entries = NULL;
    size_t n_cases = 0;
    int n;

    d = strdup_printf("%s/tests/data/bootxml", srcdir && *srcdir ? srcdir : ".");
    if (!d)
        abort();
    dir = d;
    test_firmware();
    regenerate = getenv("VIRTMCD_REGENERATE") && streq(getenv("VIRTMCD_REGENERATE"), "1");
    n = scandir(dir, &entries, NULL, cmp_names);
    if (n < 0) {
        fprintf(stderr, "%s: %m\n", dir);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        const char *f = entries[i]->d_name;

        if (endswith(f, "-in.xml")) {
            _cleanup_free_ char *name = strndup(f, strlen(f) - strlen("-in.xml"));

            if (!name)
                abort();
            run_case(name);
            n_cases++;
        }
    }
    CHECK(n_cases > 0);
    /* Every file belongs to a case (after a regeneration too). */
    for (int i = 0; i < n; i++) {
        const char *f = entries[i]->d_name;
        bool used = streq(f, ".") || streq(f, "..");

        for (char **c = claimed; !used && c && *c; c++)
            used = streq(*c, f);
        if (!used && exists(f)) {
            tap_checks++;
            tap_failures++;
            fprintf(stderr, "%s: no case uses this file\n", f);
        }
    }
    for (int i = 0; i < n; i++)
        free(entries[i]);
    free(entries);

    test_strings();
    test_errors();
    test_compact();
    test_threads();
    test_live_plan();
    test_order_key();
    test_live_boot_meta();
    strv_free(claimed);
    printf("%zu cases%s\n", n_cases, regenerate ? " regenerated" : "");
    return tap_done();
}
