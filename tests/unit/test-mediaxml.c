/* test-mediaxml.c: the virtual CD of a definition: what it holds, the URLs
 * we insert, the drive added on the machine type's bus with our alias, and
 * an eject that leaves the definition as it was. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "mediaxml.h"
#include "tap.h"
#include "util.h"

static const char pc[] =
    "<domain type='kvm'><name>g</name><os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>"
    "</os><devices><disk type='file' device='disk'><source file='/i/g.img'/>"
    "<target dev='hda' bus='ide'/></disk></devices></domain>";
static const char q35[] =
    "<domain type='kvm'><name>g</name><os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type>"
    "</os><devices><disk type='file' device='disk'><source file='/i/g.img'/>"
    "<target dev='sda' bus='sata'/></disk></devices></domain>";
static const char with_cd[] =
    "<domain type='kvm'><name>g</name><devices><disk type='file' device='cdrom'>"
    "<source file='/iso/old.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>"
    "</devices></domain>";

static void test_urls(void)
{
    CHECK_INT(mediaxml_check_url("http://10.0.0.1/a.iso"), 0);
    CHECK_INT(mediaxml_check_url("https://h.example:8443/p/a.iso?t=1&u=2"), 0);
    CHECK_INT(mediaxml_check_url("http://[::1]:8080/a.iso"), 0);
    CHECK_INT(mediaxml_check_url("ftp://h/a.iso"), -EINVAL);
    CHECK_INT(mediaxml_check_url("/srv/a.iso"), -EINVAL);
    CHECK_INT(mediaxml_check_url("http://user:pw@h/a.iso"), -EINVAL);
    CHECK_INT(mediaxml_check_url("http://h/"), -EINVAL);
    CHECK_INT(mediaxml_check_url("http://h"), -EINVAL);
    CHECK_INT(mediaxml_check_url("http:///a.iso"), -EINVAL);
    CHECK_INT(mediaxml_check_url("http://h:0/a.iso"), -EINVAL);
    CHECK_INT(mediaxml_check_url("http://h:x/a.iso"), -EINVAL);
    CHECK_INT(mediaxml_check_url("http://h/a b.iso"), -EINVAL);
    CHECK_INT(mediaxml_check_url("http://h/a'.iso"), -EINVAL);
    CHECK_INT(mediaxml_check_url("http://h/a.iso#x"), -EINVAL);
    CHECK_INT(mediaxml_check_url("http://[::1/a.iso"), -EINVAL);
    CHECK_INT(mediaxml_check_url(""), -EINVAL);
    CHECK_INT(mediaxml_check_url(NULL), -EINVAL);
}

static void test_insert_eject(const char *xml, const char *bus, const char *target)
{
    _cleanup_free_ char *a = NULL, *disk = NULL, *b = NULL, *c = NULL, *live = NULL;
    _cleanup_(media_state_clear) MediaState s0 = { 0 }, s1 = { 0 }, s2 = { 0 }, s3 = { 0 };

    CHECK_INT(mediaxml_get(xml, &s0), 0);
    CHECK(!s0.drive);
    CHECK(s0.image == NULL);
    CHECK_INT(mediaxml_set(xml, "https://h.example/p/a.iso?t=1", false, &a, &disk), 0);
    CHECK_INT(mediaxml_get(a, &s1), 0);
    CHECK(s1.drive);
    CHECK_STR(s1.bus, bus);
    CHECK_STR(s1.target, target);
    CHECK_STR(s1.image, "https://h.example/p/a.iso?t=1");
    CHECK(disk && strstr(disk, "<source protocol=\"https\" name=\"/p/a.iso\" query=\"t=1\">"));
    CHECK(disk && strstr(disk, "<host name=\"h.example\" port=\"443\"/>"));
    CHECK(disk && strstr(disk, "<alias name=\"ua-virtmcd-cd\"/>"));
    CHECK(disk && strstr(disk, "<readonly/>"));
    /* A live definition keeps the drive, empty. */
    CHECK_INT(mediaxml_set(a, NULL, true, &live, NULL), 0);
    CHECK_INT(mediaxml_get(live, &s3), 0);
    CHECK(s3.drive);
    CHECK(s3.image == NULL);
    /* The persistent one loses the drive virtmcd added: as before. */
    CHECK_INT(mediaxml_set(a, NULL, false, &b, NULL), 0);
    CHECK_INT(mediaxml_get(b, &s2), 0);
    CHECK(!s2.drive);
    CHECK(b && !strstr(b, "cdrom"));
    /* Ejecting from no drive changes nothing. */
    CHECK_INT(mediaxml_set(xml, NULL, false, &c, NULL), 0);
    CHECK(c && !strstr(c, "cdrom"));
}

static void test_existing_drive(void)
{
    _cleanup_free_ char *a = NULL, *b = NULL;
    _cleanup_(media_state_clear) MediaState s0 = { 0 }, s1 = { 0 }, s2 = { 0 };

    CHECK_INT(mediaxml_get(with_cd, &s0), 0);
    CHECK(s0.drive);
    CHECK_STR(s0.image, "/iso/old.iso");
    CHECK_INT(mediaxml_set(with_cd, "http://10.0.0.1:8000/b.iso", false, &a, NULL), 0);
    CHECK_INT(mediaxml_get(a, &s1), 0);
    CHECK_STR(s1.target, "hdc");
    CHECK_STR(s1.image, "http://10.0.0.1:8000/b.iso");
    CHECK(a && !strstr(a, "ua-virtmcd-cd"));
    /* A drive of the definition's own stays, empty. */
    CHECK_INT(mediaxml_set(a, NULL, false, &b, NULL), 0);
    CHECK_INT(mediaxml_get(b, &s2), 0);
    CHECK(s2.drive);
    CHECK(s2.image == NULL);
}

static void test_full_ide(void)
{
    const char *full =
        "<domain><name>g</name><devices>"
        "<disk type='file' device='disk'><target dev='hda' bus='ide'/></disk>"
        "<disk type='file' device='disk'><target dev='hdb' bus='ide'/></disk>"
        "<disk type='file' device='disk'><target dev='hdc' bus='ide'/></disk>"
        "<disk type='file' device='disk'><target dev='hdd' bus='ide'/></disk>"
        "</devices></domain>";
    char *out = NULL;

    CHECK_INT(mediaxml_set(full, "http://h/a.iso", false, &out, NULL), -EINVAL);
    CHECK(out == NULL);
    CHECK_INT(mediaxml_set("<domain", "http://h/a.iso", false, &out, NULL), -EINVAL);
    CHECK_INT(mediaxml_set(pc, "ftp://h/a.iso", false, &out, NULL), -EINVAL);
}

int main(void)
{
    test_urls();
    test_insert_eject(pc, "ide", "hdb");
    test_insert_eject(q35, "sata", "sdb");
    test_existing_drive();
    test_full_ide();
    return tap_done();
}
