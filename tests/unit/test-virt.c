/* test-virt.c: the host module against libvirt's test driver: the machine
 * table, lookups across hosts, a host that is down, power actions. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "tap.h"
#include "util.h"
#include "virt.h"

/* Two lockers of one machine exclude each other; other machines never wait. */
typedef struct Locker {
    const char *name;
    unsigned rounds;
    _Atomic int *inside;
    _Atomic int *overlaps;
} Locker;

static void *locker_main(void *arg)
{
    Locker *l = arg;

    for (unsigned i = 0; i < l->rounds; i++) {
        MachineLock *lock = NULL;

        if (virt_machine_lock(virt_host_find("alpha"), l->name, "test", 10000, 100, &lock) < 0)
            continue;
        if (atomic_fetch_add(l->inside, 1) != 0)
            atomic_fetch_add(l->overlaps, 1);
        usleep(200);
        atomic_fetch_sub(l->inside, 1);
        virt_machine_unlock(lock);
    }
    return NULL;
}

typedef struct Waiter {
    const char *name;
    unsigned timeout_ms;
    unsigned max_waiters;
    int r;
    char msg[256];
} Waiter;

static void *waiter_main(void *arg)
{
    Waiter *w = arg;
    MachineLock *lock = NULL;

    error_clear();
    w->r = virt_machine_lock(virt_host_find("alpha"), w->name, "power_on", w->timeout_ms,
                             w->max_waiters, &lock);
    snprintf(w->msg, sizeof(w->msg), "%s", error_get() ? error_get() : "");
    virt_machine_unlock(lock);
    return NULL;
}

static void test_locks(void)
{
    _Atomic int inside = 0, overlaps = 0;
    Locker l = { .name = "vm-off", .rounds = 200, .inside = &inside, .overlaps = &overlaps };
    pthread_t t[4];
    MachineLock *a = NULL, *b = NULL;
    Waiter w1 = { .name = "vm-off", .timeout_ms = 300, .max_waiters = 5 };
    Waiter w2 = { .name = "vm-off", .timeout_ms = 300, .max_waiters = 1 };
    Waiter other = { .name = "vm-running", .timeout_ms = 300 };

    for (size_t i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, locker_main, &l) == 0);
    for (size_t i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK_INT(atomic_load(&overlaps), 0);

    /* A held lock: a waiter times out naming the holder's operation, and one
     * waiter too many is refused at once; another machine is not held up. */
    CHECK_INT(virt_machine_lock(virt_host_find("alpha"), "vm-off", "pxeboot", 1000, 1, &a), 0);
    CHECK(pthread_create(&t[0], NULL, waiter_main, &w1) == 0);
    /* Until w1 waits, w2 could take its place: wait for the registry to say so. */
    for (int i = 0; i < 1000; i++) {
        Waiter probe = { .name = "vm-off", .timeout_ms = 1, .max_waiters = 1 };

        waiter_main(&probe);
        if (probe.r == -EAGAIN)
            break;
        usleep(1000);
    }
    waiter_main(&w2);
    CHECK_INT(w2.r, -EAGAIN);
    CHECK(strstr(w2.msg, "pxeboot") != NULL);
    waiter_main(&other);
    CHECK_INT(other.r, 0);
    pthread_join(t[0], NULL);
    CHECK_INT(w1.r, -ETIMEDOUT);
    CHECK(strstr(w1.msg, "pxeboot is running") == NULL && strstr(w1.msg, "pxeboot") != NULL);
    virt_machine_unlock(a);
    /* Released: free again. */
    CHECK_INT(virt_machine_lock(virt_host_find("alpha"), "vm-off", "x", 100, 0, &a), 0);
    CHECK_INT(virt_machine_lock(virt_host_find("alpha"), "vm-running", "y", 100, 0, &b), 0);
    CHECK(a && b && a != b);
    virt_machine_unlock(b);
    virt_machine_unlock(a);
}

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

    /* UUIDs find machines too, ambiguous across the two hosts alike. */
    CHECK_INT(virt_machine_find_uuid("6695eb01-f6a4-8304-79aa-97f2502e1940", "beta", &m, NULL),
              0);
    CHECK_STR(m.name, "vm-off");
    CHECK_INT(virt_machine_find_uuid("6695EB01-F6A4-8304-79AA-97F2502E1940", NULL, &m, &hosts),
              -ENOTUNIQ);
    strv_free(hosts);
    hosts = NULL;

    test_locks();
    CHECK_INT((int)virt_shutdown(now_usec() + 10000000u, false), 0);
    return tap_done();
}
