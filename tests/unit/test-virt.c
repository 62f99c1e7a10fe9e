/* test-virt.c: the host module against libvirt's test driver: the machine
 * table, lookups across hosts, a host that is down, power actions. */
#include "config.h"

#include <stdio.h>

#include "conf.h"
#include "log.h"
#include "tap.h"
#include "util.h"
#include "virt.h"

int main(void)
{
    const char *srcdir = getenv("abs_srcdir") ? getenv("abs_srcdir") : ".";
    char uri[1024], bad[1024];
    ConfHost hs[3];
    Conf conf = { 0 };
    Machine *ms = NULL, m;
    size_t n = 0;
    char **hosts = NULL;
    PowerResult pr;
    PowerOpts opts = { .force_off_timeout = 1 };

    log_setup(LOG_TARGET_STDERR, LOG_WARNING);
    snprintf(uri, sizeof(uri), "test://%s/tests/data/node.xml", srcdir);
    snprintf(bad, sizeof(bad), "test://%s/tests/data/no-such-node.xml", srcdir);
    /* Two hosts on the same node file hold the same names: ambiguity.  A
     * third cannot connect: down. */
    hs[0] = (ConfHost){ .name = (char *)"alpha", .uri = uri };
    hs[1] = (ConfHost){ .name = (char *)"beta", .uri = uri };
    hs[2] = (ConfHost){ .name = (char *)"gamma", .uri = bad };
    conf.hosts = hs;
    conf.n_hosts = 3;
    conf.uri = uri;

    CHECK_INT(virt_init(&conf, NULL, 5000), 0);
    CHECK_INT(virt_host_count(), 3);
    CHECK(virt_host_up(virt_host_find("alpha")));
    CHECK(virt_host_up(virt_host_find("beta")));
    CHECK(!virt_host_up(virt_host_find("gamma")));
    CHECK_INT(virt_hosts_up(), 2);
    CHECK(virt_host_retry_after(virt_host_find("gamma")) >= 1);

    CHECK_INT(virt_machines(&ms, &n), 0);
    CHECK_INT(n, 16);
    for (size_t i = 1; i < n; i++)
        CHECK(strcmp(ms[i - 1].name, ms[i].name) <= 0);
    free(ms);

    /* Same name on two hosts. */
    CHECK_INT(virt_machine_find("vm-off", NULL, &m, &hosts), -ENOTUNIQ);
    CHECK_INT(strv_length(hosts), 2);
    strv_free(hosts);
    hosts = NULL;
    CHECK_INT(virt_machine_find("vm-off", "beta", &m, NULL), 0);
    CHECK_STR(virt_host_name(m.host), "beta");
    CHECK_INT(m.state, MACHINE_SHUT_OFF);
    CHECK_INT(m.id, -1);
    CHECK(m.persistent);
    CHECK_STR(m.uuid, "6695eb01-f6a4-8304-79aa-97f2502e1940");
    /* Absent, while a host that might have it is down. */
    CHECK_INT(virt_machine_find("nobody", NULL, &m, NULL), -ENOTCONN);
    CHECK_INT(virt_machine_find("nobody", "alpha", &m, NULL), -ENOENT);
    CHECK_INT(virt_machine_find("vm-off", "delta", &m, NULL), -ENOENT);
    CHECK_INT(virt_machine_find("vm-transient", "alpha", &m, NULL), 0);
    CHECK(!m.persistent);
    CHECK_INT(m.state, MACHINE_RUNNING);
    CHECK(m.id > 0);

    /* Power: the table follows every action. */
    CHECK_INT(virt_power(virt_host_find("alpha"), "vm-off", POWER_ON, &opts, &pr, &m), 0);
    CHECK_INT(pr, POWER_RESULT_DONE);
    CHECK_INT(m.state, MACHINE_RUNNING);
    CHECK_INT(virt_machine_find("vm-off", "alpha", &m, NULL), 0);
    CHECK_INT(m.state, MACHINE_RUNNING);
    CHECK(m.id > 0);
    /* The other host's machine of the same name did not move. */
    CHECK_INT(virt_machine_find("vm-off", "beta", &m, NULL), 0);
    CHECK_INT(m.state, MACHINE_SHUT_OFF);
    CHECK_INT(virt_power(virt_host_find("alpha"), "vm-off", POWER_ON, &opts, &pr, &m), 0);
    CHECK_INT(pr, POWER_RESULT_UNCHANGED);
    CHECK_INT(virt_power(virt_host_find("alpha"), "vm-off", POWER_FORCE_OFF, &opts, &pr, &m), 0);
    CHECK_INT(m.state, MACHINE_SHUT_OFF);
    CHECK_INT(virt_power(virt_host_find("alpha"), "vm-off", POWER_REBOOT, &opts, &pr, &m),
              -EBUSY);
    CHECK(error_get() != NULL);
    CHECK_INT(virt_power(virt_host_find("alpha"), "nobody", POWER_ON, &opts, &pr, &m), -ENOENT);
    CHECK_INT(virt_power(virt_host_find("gamma"), "vm-off", POWER_ON, &opts, &pr, &m),
              -ENOTCONN);

    /* Names and strings. */
    CHECK_STR(machine_state_to_string(MACHINE_IDLE), "idle");
    CHECK_STR(machine_state_to_string(MACHINE_IN_SHUTDOWN), "in shutdown");
    CHECK_INT(machine_state_from_string("shut off"), MACHINE_SHUT_OFF);
    CHECK_INT(machine_state_from_string("off"), _MACHINE_STATE_INVALID);
    CHECK_INT(power_action_from_string("force_reboot"), POWER_FORCE_RESET);
    CHECK_INT(power_action_from_string("explode"), _POWER_ACTION_INVALID);

    {
        MachineLock *a = virt_machine_lock(virt_host_find("alpha"), "vm-off");
        MachineLock *b = virt_machine_lock(virt_host_find("alpha"), "vm-running");

        CHECK(a && b && a != b);
        virt_machine_unlock(b);
        virt_machine_unlock(a);
    }
    CHECK_INT((int)virt_shutdown(now_usec() + 10000000u, false), 0);
    return tap_done();
}
