/* test-addrcache.c: guest addresses: the pure parts (the source and family
 * names, deep copies, the JSON shape of API.md section 3), then
 * virt_machine_addresses and the address cache against libvirt's test
 * driver, which answers 192.168.0.x/24 per NIC from every source for a
 * running domain: the first fill, a machine read as soon as it starts
 * (with a refresh period far longer than the test), its entry gone once it
 * stops, the cache emptied when address_refresh becomes 0 and filled again
 * when it comes back, and a bounded stop. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "addrcache.h"
#include "api.h"
#include "conf.h"
#include "json.h"
#include "log.h"
#include "tap.h"
#include "util.h"
#include "virt.h"

/* The cache thread reads the configuration while the test changes it. */
static pthread_mutex_t conf_mutex = PTHREAD_MUTEX_INITIALIZER;
static Conf conf;

static const Conf *acquire(void **ref)
{
    pthread_mutex_lock(&conf_mutex);
    *ref = &conf_mutex;
    return &conf;
}

static void release(void *ref)
{
    if (ref)
        pthread_mutex_unlock(ref);
}

static void set_refresh(unsigned seconds)
{
    pthread_mutex_lock(&conf_mutex);
    conf.address_refresh = seconds;
    pthread_mutex_unlock(&conf_mutex);
    addrcache_wake();
}

static char *dump(Json *j)
{
    char *s = json_dump(j, NULL);

    json_unref(j);
    return s;
}

static void test_names(void)
{
    CHECK_STR(virt_addr_source_to_string(VIRT_ADDR_SOURCE_LEASE), "lease");
    CHECK_STR(virt_addr_source_to_string(VIRT_ADDR_SOURCE_AGENT), "agent");
    CHECK_STR(virt_addr_source_to_string(VIRT_ADDR_SOURCE_ARP), "arp");
    CHECK(!virt_addr_source_to_string(_VIRT_ADDR_SOURCE_INVALID));
    CHECK(!virt_addr_source_to_string(_VIRT_ADDR_SOURCE_MAX));
    CHECK_INT(virt_addr_source_from_string("agent"), VIRT_ADDR_SOURCE_AGENT);
    CHECK_INT(virt_addr_source_from_string("dhcp"), _VIRT_ADDR_SOURCE_INVALID);
    CHECK_INT(virt_addr_source_from_string(NULL), _VIRT_ADDR_SOURCE_INVALID);
    CHECK_STR(virt_addr_family_to_string(VIRT_ADDR_IPV4), "ipv4");
    CHECK_STR(virt_addr_family_to_string(VIRT_ADDR_IPV6), "ipv6");
    CHECK_INT(virt_addr_family_from_string("ipv6"), VIRT_ADDR_IPV6);
}

static void test_copy_and_json(void)
{
    VirtIpAddr eth0[] = {
        { .address = (char *)"192.0.2.7", .prefix = 24, .family = VIRT_ADDR_IPV4 },
        { .address = (char *)"2001:db8::7", .prefix = 64, .family = VIRT_ADDR_IPV6 },
    };
    VirtIface ifs[] = {
        { .name = (char *)"eth0", .mac = (char *)"52:54:00:aa:bb:cc", .addrs = eth0,
          .n_addrs = 2 },
        { .name = (char *)"lo", .mac = NULL },
    };
    VirtAddresses a = { .source = VIRT_ADDR_SOURCE_AGENT, .ifaces = ifs, .n_ifaces = 2 };
    VirtAddresses empty = { .source = _VIRT_ADDR_SOURCE_INVALID };
    _cleanup_(virt_addresses_freep) VirtAddresses *d = virt_addresses_dup(&a);
    _cleanup_(virt_addresses_freep) VirtAddresses *e = virt_addresses_dup(&empty);
    _cleanup_free_ char *s = NULL, *se = NULL;

    CHECK(d && e);
    if (!d || !e)
        return;
    /* Deep: nothing of the copy points into the original. */
    CHECK_INT(d->source, VIRT_ADDR_SOURCE_AGENT);
    CHECK_INT(d->n_ifaces, 2);
    CHECK(d->ifaces != ifs);
    CHECK_STR(d->ifaces[0].name, "eth0");
    CHECK(d->ifaces[0].name != ifs[0].name);
    CHECK_STR(d->ifaces[0].mac, "52:54:00:aa:bb:cc");
    CHECK_INT(d->ifaces[0].n_addrs, 2);
    CHECK(d->ifaces[0].addrs != eth0);
    CHECK_STR(d->ifaces[0].addrs[1].address, "2001:db8::7");
    CHECK(d->ifaces[0].addrs[1].address != eth0[1].address);
    CHECK_INT(d->ifaces[0].addrs[1].prefix, 64);
    CHECK_INT(d->ifaces[0].addrs[1].family, VIRT_ADDR_IPV6);
    CHECK(!d->ifaces[1].mac);
    CHECK_INT(d->ifaces[1].n_addrs, 0);
    CHECK_INT(e->n_ifaces, 0);
    virt_addresses_free(NULL);

    /* API.md section 3, key for key; a missing MAC is null. */
    s = dump(api_addresses_json(d));
    CHECK_STR(s, "[{\"interface\":\"eth0\",\"mac\":\"52:54:00:aa:bb:cc\",\"addresses\":["
                 "{\"address\":\"192.0.2.7\",\"prefix\":24,\"family\":\"ipv4\"},"
                 "{\"address\":\"2001:db8::7\",\"prefix\":64,\"family\":\"ipv6\"}],"
                 "\"source\":\"agent\"},"
                 "{\"interface\":\"lo\",\"mac\":null,\"addresses\":[],\"source\":\"agent\"}]");
    se = dump(api_addresses_json(e));
    CHECK_STR(se, "[]");
}

/* Poll (bounded) until the cache has (want true) or lacks an entry. */
static bool wait_entry(const char *name, bool want)
{
    Host *h = virt_host_at(0);

    for (int i = 0; i < 400; i++) {
        VirtAddresses *a = NULL;
        bool has = addrcache_get(h, name, &a) == 0;

        virt_addresses_free(a);
        if (has == want)
            return true;
        usleep(25000);
    }
    return false;
}

static bool wait_size(size_t n)
{
    for (int i = 0; i < 400; i++) {
        if (addrcache_size() == n)
            return true;
        usleep(25000);
    }
    return false;
}

static void test_driver(const char *srcdir)
{
    _cleanup_(virt_addresses_freep) VirtAddresses *a = NULL;
    _cleanup_(virt_addresses_freep) VirtAddresses *c = NULL;
    char uri[1024];
    PowerOpts po = { .force_off_timeout = 1 };
    PowerResult pr;
    Machine m;
    Host *h;

    snprintf(uri, sizeof(uri), "test://%s/tests/data/node.xml", srcdir);
    /* Far longer than the test: whatever it sees after the first fill came
     * from events. */
    conf = (Conf){ .uri = uri, .address_refresh = 3600 };

    CHECK_INT(addrcache_init(acquire, release), 0);
    CHECK_INT(virt_init(&conf, NULL, 5000), 0);
    h = virt_host_at(0);

    /* Straight from libvirt. */
    CHECK_INT(virt_machine_addresses(h, "vm-running", &a), 0);
    if (a) {
        CHECK_INT(a->source, VIRT_ADDR_SOURCE_LEASE);
        CHECK_INT(a->n_ifaces, 1);
        CHECK_STR(a->ifaces[0].mac, "52:54:00:00:01:01");
        CHECK_INT(a->ifaces[0].n_addrs, 1);
        if (a->ifaces[0].n_addrs == 1) {
            CHECK_STR(a->ifaces[0].addrs[0].address, "192.168.0.1");
            CHECK_INT(a->ifaces[0].addrs[0].prefix, 24);
            CHECK_INT(a->ifaces[0].addrs[0].family, VIRT_ADDR_IPV4);
        }
    }
    CHECK_INT(virt_machine_addresses(h, "vm-off", &c), -EBUSY);
    CHECK(error_get() && strstr(error_get(), "not running"));
    CHECK_INT(virt_machine_addresses(h, "no-such-vm", &c), -ENOENT);
    CHECK(!c);

    /* The first fill: every active machine, none that is off. */
    CHECK_INT(addrcache_start(), 0);
    CHECK(wait_entry("vm-running", true));
    CHECK(wait_entry("vm-transient", true));
    CHECK(addrcache_get(h, "vm-off", &c) == -ENOENT);
    CHECK(addrcache_get(virt_host_at(0), "vm-running", &c) == 0);
    if (c) {
        CHECK_INT(c->n_ifaces, 1);
        CHECK_INT(c->source, VIRT_ADDR_SOURCE_LEASE);
    }

    /* Started: read at its event, not at the next refresh an hour away. */
    CHECK_INT(virt_power(h, "vm-off", POWER_ON, &po, &pr, &m), 0);
    CHECK(wait_entry("vm-off", true));
    /* Stopped: its entry goes. */
    CHECK_INT(virt_power(h, "vm-off", POWER_OFF, &po, &pr, &m), 0);
    CHECK(wait_entry("vm-off", false));
    CHECK(wait_entry("vm-running", true));

    /* address_refresh = 0 turns the cache off and empties it; back on, it
     * fills again at once. */
    set_refresh(0);
    CHECK(wait_size(0));
    set_refresh(3600);
    CHECK(wait_entry("vm-running", true));

    CHECK(addrcache_stop(5000));
    CHECK_INT(addrcache_size(), 0);
    CHECK_INT(virt_shutdown(now_usec() + 5000000u, false), 0);
}

int main(void)
{
    const char *srcdir = getenv("abs_srcdir") ? getenv("abs_srcdir") : ".";

    log_setup(LOG_TARGET_STDERR, LOG_WARNING);
    test_names();
    test_copy_and_json();
    test_driver(srcdir);
    return tap_done();
}
