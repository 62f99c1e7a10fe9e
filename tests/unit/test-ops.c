/* test-ops.c: the operations layer on libvirt's test driver, without HTTP:
 * rights, power with start guards and force, boot changes and their backups
 * (keyed by UUID), restore, one-time orders undone once the machine booted
 * with them -- by the worker after a start event, and by reconciliation
 * after an outage (started and still running, started and stopped again,
 * not started) -- bounded locks that never delay another machine, and the
 * fallback when a running machine's QEMU cannot be given a new order live
 * (the test driver has no QEMU monitor): "applies" next_boot, pending until
 * a cold start, force_reset cold. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootxml.h"
#include "conf.h"
#include "log.h"
#include "ops.h"
#include "tap.h"
#include "util.h"
#include "virt.h"

static Conf conf;

static const Conf *acquire(void **ref)
{
    *ref = NULL;
    return &conf;
}

static void release(void *ref)
{
}

static Machine find(const char *name)
{
    Machine m = { 0 };

    CHECK_INT(virt_machine_find(name, NULL, &m, NULL), 0);
    return m;
}

static char *first_of(const Machine *m, bool *ret_once)
{
    OpsBootState st = { 0 };
    char *s;

    if (ops_boot_get(NULL, m, &st) < 0)
        return strdup("?");
    s = strdup(boot_class_to_string(boot_info_first(st.info)));
    if (ret_once)
        *ret_once = st.info->once_restore != NULL;
    ops_boot_state_clear(&st);
    return s;
}

static size_t nbackups(const Machine *m)
{
    _cleanup_free_ BackupEntry *v = NULL;
    size_t n = 0;

    (void)backup_list(conf.backup_dir, m->uuid, &v, &n);
    return n;
}

static int refuse_all(const OpsCaller *who, const Machine *m, void *userdata)
{
    (*(unsigned *)userdata)++;
    error_setf("machine '%s' is running elsewhere (test guard)", m->name);
    return -EBUSY;
}

typedef struct Holder {
    Machine m;
    const char *op;
    MachineLock *lock;
} Holder;

int main(void)
{
    const char *srcdir = getenv("abs_srcdir") ? getenv("abs_srcdir") : ".";
    char uri[1024], dir[] = "/tmp/test-ops-XXXXXX";
    OpsCaller op = { .conf = &conf, .user = "olga", .role = ROLE_OPERATOR };
    OpsCaller admin = { .conf = &conf, .user = "ada", .role = ROLE_ADMIN };
    OpsCaller reader = { .conf = &conf, .user = "ulf", .role = ROLE_USER };
    OpsBootRequest pxe_once = { .target = BOOT_TARGET_NETWORK, .once = true };
    OpsBootRequest pxe = { .target = BOOT_TARGET_NETWORK };
    OpsBootRequest disk = { .target = BOOT_TARGET_DISK };
    OpsBootResult br = { 0 };
    OpsPowerResult pr;
    PowerOpts popts = { .force_off_timeout = 1 };
    PowerResult pres;
    unsigned guard_calls = 0;
    Machine m, run;
    char *f;
    bool once;

    log_setup(LOG_TARGET_STDERR, LOG_WARNING);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 99;
    }
    snprintf(uri, sizeof(uri), "test://%s/tests/data/node.xml", srcdir);
    conf = (Conf){ .uri = uri, .backup_dir = dir, .backup_keep = 50, .force_off_timeout = 1,
                   .lock_timeout = 1, .lock_queue = 4, .live_update = true };

    /* ---- without the worker: reconciliation called as after an outage ---- */
    CHECK_INT(virt_init(&conf, NULL, 5000), 0);
    m = find("vm-off");

    /* Rights come from the caller, whatever the front end. */
    CHECK_INT(ops_boot_set(&reader, &m, &pxe, &br), -EACCES);
    CHECK(error_get() && strstr(error_get(), "operator"));
    CHECK_INT(ops_power(&reader, &m, POWER_ON, false, &pr), -EACCES);
    CHECK_INT(ops_power(&op, &m, POWER_ON, true, &pr), -EACCES);
    CHECK_INT(nbackups(&m), 0);

    /* Not started since: the one-time order stays. */
    CHECK_INT(ops_boot_set(&op, &m, &pxe_once, &br), 0);
    CHECK(br.changed);
    CHECK_STR(machine_state_to_string(br.machine.state), "shut off");
    CHECK_INT(nbackups(&m), 1);
    ops_boot_result_clear(&br);
    CHECK_INT(ops_boot_reconcile(&conf, &m, 0), 0);
    f = first_of(&m, &once);
    CHECK_STR(f, "network");
    CHECK(once);
    free(f);

    /* Started by virtmcd: the order is back before the start is answered
     * (the caller's next reset meets it), and the start event that follows
     * finds nothing left to do. */
    CHECK_INT(ops_power(&op, &m, POWER_ON, false, &pr), 0);
    CHECK_STR(machine_state_to_string(pr.machine.state), "running");
    f = first_of(&m, &once);
    CHECK_STR(f, "disk");
    CHECK(!once);
    free(f);
    CHECK_INT(ops_boot_reconcile(&conf, &m, 0), 0);

    /* Armed while running: the running boot is not the one-time one. */
    CHECK_INT(ops_boot_set(&op, &m, &pxe_once, &br), 0);
    ops_boot_result_clear(&br);
    CHECK_INT(ops_boot_reconcile(&conf, &m, 0), 0);
    f = first_of(&m, &once);
    CHECK_STR(f, "network");
    free(f);
    /* A power cycle boots it: then it is undone, before the answer. */
    CHECK_INT(ops_power(&op, &m, POWER_CYCLE, false, &pr), 0);
    f = first_of(&m, NULL);
    CHECK_STR(f, "disk");
    free(f);
    CHECK_INT(ops_boot_reconcile(&conf, &m, 0), 0);

    /* Started and stopped again outside virtmcd while nobody watched: the reason for being
     * off changed since the arming. */
    CHECK_INT(ops_power(&op, &m, POWER_OFF, false, &pr), 0);
    CHECK_INT(ops_boot_set(&op, &m, &pxe_once, &br), 0);
    ops_boot_result_clear(&br);
    CHECK_INT(virt_power((Host *)m.host, m.name, POWER_ON, &popts, &pres, &run), 0);
    CHECK_INT(virt_power((Host *)m.host, m.name, POWER_SOFT_OFF, &popts, &pres, &run), 0);
    run = find("vm-off");
    if (run.state == MACHINE_SHUT_OFF) {
        CHECK_INT(ops_boot_reconcile(&conf, &run, 0), 1);
        f = first_of(&m, &once);
        CHECK_STR(f, "disk");
        CHECK(!once);
        free(f);
    } else {
        /* The test driver shuts down at once; if not, stop it hard. */
        CHECK_INT(ops_power(&op, &m, POWER_OFF, false, &pr), 0);
        CHECK_INT(ops_boot_reconcile(&conf, &m, 0), 1);
    }

    /* Backups are the machine's, by UUID; a restore saves first. */
    {
        _cleanup_free_ BackupEntry *v = NULL;
        _cleanup_free_ char *folder = strdup_printf("%s/%s", dir, m.uuid), *xml = NULL;
        OpsRestoreResult rr = { 0 };
        size_t n = 0, before;
        struct stat st;

        CHECK(stat(folder, &st) == 0 && S_ISDIR(st.st_mode));
        CHECK_INT(ops_backups_list(&reader, &m, &v, &n), 0);
        CHECK(n >= 4);
        CHECK_INT(ops_backup_read(&op, &m, v[0].id, &xml), -EACCES);
        CHECK_INT(ops_backup_read(&admin, &m, v[0].id, &xml), 0);
        CHECK(xml && strstr(xml, "<name>vm-off</name>"));
        CHECK_INT(ops_backup_read(&admin, &m, "20000101T000000.000000Z", &xml), -ENOENT);
        before = nbackups(&m);
        CHECK_INT(ops_backup_restore(&op, &m, v[n - 1].id, &rr), -EACCES);
        CHECK_INT(ops_backup_restore(&admin, &m, v[n - 1].id, &rr), 0);
        CHECK(rr.backup_id && backup_id_valid(rr.backup_id));
        CHECK_INT(nbackups(&m), before + 1);
        free(rr.backup_id);
    }

    /* A running machine without a QEMU monitor: live_update falls back to
     * the next start, silently; force_reset then restarts it (cold). */
    for (int live = 1; live >= 0; live--) {
        OpsBootState st = { 0 };

        conf.live_update = live;
        run = find("vm-running");
        CHECK_INT(ops_boot_set(&op, &run, live ? &pxe : &disk, &br), 0);
        CHECK(br.changed);
        CHECK_STR(boot_applies_to_string(br.applies), "next_boot");
        ops_boot_result_clear(&br);
        CHECK_INT(ops_boot_get(NULL, &run, &st), 0);
        CHECK(st.pending);
        ops_boot_state_clear(&st);
        CHECK_INT(ops_power(&op, &run, POWER_FORCE_RESET, false, &pr), 0);
        CHECK(pr.cold);
        CHECK_INT(ops_boot_get(NULL, &run, &st), 0);
        CHECK(!st.pending);
        ops_boot_state_clear(&st);
        /* Unchanged, and the running machine has it already. */
        CHECK_INT(ops_boot_set(&op, &run, live ? &pxe : &disk, &br), 0);
        CHECK(!br.changed);
        CHECK_STR(boot_applies_to_string(br.applies), "next_reset");
        ops_boot_result_clear(&br);
        /* A warm reset when nothing is pending. */
        CHECK_INT(ops_power(&op, &run, POWER_FORCE_RESET, false, &pr), 0);
        CHECK(!pr.cold);
    }
    conf.live_update = true;
    /* Shut off: the next start. */
    m = find("vm-off");
    CHECK_INT(ops_boot_set(&op, &m, &pxe, &br), 0);
    CHECK_STR(boot_applies_to_string(br.applies), "next_boot");
    ops_boot_result_clear(&br);

    /* Start guards: a refusal changes nothing; an admin's force skips them. */
    CHECK_INT(ops_add_start_guard(refuse_all, &guard_calls), 0);
    m = find("vm-nonic");
    CHECK_INT(ops_power(&op, &m, POWER_ON, false, &pr), -EBUSY);
    CHECK(error_get() && strstr(error_get(), "running elsewhere"));
    CHECK_INT(find("vm-nonic").state, MACHINE_SHUT_OFF);
    CHECK_INT(guard_calls, 1);
    /* Not a start: no guard. */
    CHECK_INT(ops_power(&op, &m, POWER_OFF, false, &pr), 0);
    CHECK_INT(pr.result, POWER_RESULT_UNCHANGED);
    CHECK_INT(guard_calls, 1);
    CHECK_INT(ops_power(&admin, &m, POWER_ON, true, &pr), 0);
    CHECK_INT(pr.machine.state, MACHINE_RUNNING);
    CHECK_INT(guard_calls, 1);
    /* Running already: power_on does not start it, so no guard either. */
    CHECK_INT(ops_power(&op, &m, POWER_ON, false, &pr), 0);
    CHECK_INT(pr.result, POWER_RESULT_UNCHANGED);
    CHECK_INT(guard_calls, 1);

    /* A long operation on one machine: another machine is served at once,
     * the same machine waits at most lock_timeout, then names the holder. */
    {
        Holder h = { .m = find("vm-paused"), .op = "restore" };
        Machine other = find("vm-running");

        CHECK_INT(virt_machine_lock(h.m.host, h.m.name, h.op, 1000, 4, &h.lock), 0);
        CHECK_INT(ops_power(&op, &other, POWER_NMI, false, &pr), 0);
        CHECK_INT(ops_boot_set(&op, &other, &pxe, &br), 0);
        ops_boot_result_clear(&br);
        CHECK_INT(ops_power(&op, &h.m, POWER_ON, false, &pr), -ETIMEDOUT);
        CHECK(error_get() && strstr(error_get(), "restore"));
        CHECK_INT(ops_boot_set(&op, &h.m, &disk, &br), -ETIMEDOUT);
        virt_machine_unlock(h.lock);
        CHECK_INT(ops_boot_set(&op, &h.m, &disk, &br), 0);
        ops_boot_result_clear(&br);
    }
    CHECK_INT((int)virt_shutdown(now_usec() + 10000000u, false), 0);

    /* ---- with the worker: a start event undoes the one-time order ---- */
    CHECK_INT(ops_init(acquire, release), 0);
    CHECK_INT(virt_init(&conf, NULL, 5000), 0);
    ops_drain();
    m = find("vm-off");
    CHECK_INT(ops_boot_set(&op, &m, &pxe_once, &br), 0);
    ops_boot_result_clear(&br);
    /* (the refusing guard is still there: an admin's force starts it) */
    CHECK_INT(ops_power(&admin, &m, POWER_ON, true, &pr), 0);
    for (int i = 0; i < 200; i++) {
        bool armed = true;

        ops_drain();
        free(first_of(&m, &armed));
        if (!armed)
            break;
        usleep(10000);
    }
    f = first_of(&m, &once);
    CHECK_STR(f, "disk");
    CHECK(!once);
    free(f);
    CHECK(ops_shutdown(5000));
    CHECK_INT((int)virt_shutdown(now_usec() + 10000000u, false), 0);

    {
        _cleanup_free_ char *cmd = strdup_printf("rm -rf '%s'", dir);

        CHECK(system(cmd) == 0);
    }
    return tap_done();
}
