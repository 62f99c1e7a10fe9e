/* ops-power.c: power actions for every front end (API.md section 1): the
 * caller's rights, the machine's lock, the caller's precondition, the start
 * guards, the pending-change policy of force_reset, then virt_power for the
 * libvirt calls.  It never edits a definition. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>

#include "log.h"
#include "ops-private.h"
#include "util.h"

#define MAX_GUARDS 8
static struct {
    OpsStartGuard fn;
    void *userdata;
} guards[MAX_GUARDS];
static size_t n_guards;

/* Held from a start's guard check to its end, so that two starts through
 * virtmcd never both pass a check only one may pass (two machines sharing a
 * disk).  Taken after the machine's lock, released before it; waited for
 * at most [power] lock_timeout. */
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;

static int start_lock_take(const Conf *conf, const Machine *m)
{
    uint64_t deadline = realtime_usec() + (uint64_t)conf->lock_timeout * 1000000u;
    struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000u),
                           .tv_nsec = (long)(deadline % 1000000u) * 1000 };
    int r = pthread_mutex_timedlock(&start_lock, &ts);

    if (r == 0)
        return 0;
    error_setf("the start of '%s' waited %u s for other starts to be checked; try again",
               m->name, conf->lock_timeout);
    return -ETIMEDOUT;
}

int ops_add_start_guard(OpsStartGuard fn, void *userdata)
{
    if (n_guards == MAX_GUARDS)
        return -E2BIG;
    guards[n_guards].fn = fn;
    guards[n_guards].userdata = userdata;
    n_guards++;
    return 0;
}

static int check_start_guards(const OpsCaller *who, const Machine *m)
{
    for (size_t i = 0; i < n_guards; i++) {
        int r = guards[i].fn(who, m, guards[i].userdata);

        if (r < 0)
            return r;
    }
    return 0;
}

/* Whether a successful action started a new QEMU.  A warm reset keeps its
 * QEMU: its one-time order is restored only once the reset burst is over
 * (ops_boot_on_reboot), as SeaBIOS answers a reset with one of its own. */
static bool starts_qemu(PowerAction a, bool cold)
{
    return a == POWER_ON || a == POWER_CYCLE || a == POWER_CYCLEPOWER ||
           (a == POWER_FORCE_RESET && cold);
}

int ops_power(const OpsCaller *who, const Machine *m, PowerAction a, bool force,
              OpsPowerResult *ret)
{
    return ops_power_if(who, m, a, force, NULL, ret);
}

int ops_power_if(const OpsCaller *who, const Machine *m, PowerAction a, bool force,
                 const OpsPrecondition *pre, OpsPowerResult *ret)
{
    const char *action = power_action_to_string(a);
    PowerOpts opts = { .force_off_timeout = who->conf->force_off_timeout };
    OpsPowerResult res = { 0 };
    MachineLock *lock = NULL;
    bool starting = false;
    Machine now;
    int r;

    if (!action) {
        error_setf("unknown power action");
        return -EINVAL;
    }
    r = ops_require_machine(who, m, ROLE_OPERATOR, action);
    if (r < 0)
        return r;
    if (force) {
        r = ops_require(who, ROLE_ADMIN, "force=1");
        if (r < 0)
            return r;
    }
    r = ops_lock(who->conf, m, action, &lock);
    if (r < 0)
        return r;
    r = ops_precondition(pre, m);
    if (r < 0)
        goto out;
    if (n_guards > 0) {
        /* Under the lock, from libvirt: the guards judge the state the
         * action will really meet. */
        r = virt_machine_refresh((Host *)m->host, m->name, &now);
        if (r == 0 && power_action_starts(a, now.state)) {
            r = start_lock_take(who->conf, m);
            if (r < 0)
                goto out;
            starting = true;
            if (force)
                log_notice("%s on '%s' by %s from %s: start guards skipped (force=1)", action,
                           m->name, ops_who(who), who->peer ? who->peer : "-");
            else
                r = check_start_guards(who, &now);
        }
        if (r < 0)
            goto out;
    }
    if (a == POWER_FORCE_RESET) {
        /* A warm reset keeps QEMU and the order it started with. */
        opts.cold_reset = ops_boot_pending(m);
        res.cold = opts.cold_reset;
    }
    r = virt_power((Host *)m->host, m->name, a, &opts, &res.result, &res.machine);
    if (r == 0 && a == POWER_REBOOT && res.result == POWER_RESULT_REQUESTED)
        ops_watch_reboot(&res.machine, who->conf->reboot_timeout);
    else if (r == 0 && res.result == POWER_RESULT_DONE && starts_qemu(a, res.cold) &&
             machine_state_is_active(res.machine.state))
        /* A new QEMU booted a one-time order: done with it. */
        ops_boot_after_power(who->conf, m);
out:
    /* virt_power wrote the started machine, with what it uses, to the
     * table: the next start's check sees it. */
    if (starting)
        pthread_mutex_unlock(&start_lock);
    virt_machine_unlock(lock);
    if (r < 0)
        return r;
    log_info("%s on '%s' by %s: %s, now %s%s", action, m->name, ops_who(who),
             power_result_to_string(res.result), machine_state_to_string(res.machine.state),
             res.cold ? " (restarted to apply a pending boot change)" : "");
    *ret = res;
    return 0;
}

void ops_power_escalate(const Conf *conf, Host *h, const char *name)
{
    PowerOpts opts = { .force_off_timeout = conf->force_off_timeout };
    MachineLock *lock = NULL;
    PowerResult pr;
    Machine m, after;
    int r;

    if (virt_machine_find(name, virt_host_name(h), &m, NULL) < 0)
        return;
    r = ops_lock(conf, &m, "reboot escalation", &lock);
    if (r < 0) {
        log_error("'%s' ignored its reboot request, and it cannot be reset now: %s", name,
                  error_get() ? error_get() : strerror(-r));
        return;
    }
    r = virt_machine_refresh(h, name, &m);
    if (r == 0 && machine_state_is_active(m.state)) {
        opts.cold_reset = ops_boot_pending(&m);
        r = virt_power(h, name, POWER_FORCE_RESET, &opts, &pr, &after);
        if (r == 0) {
            char f_machine[300];
            const char *fields[] = { f_machine, "ACTION=reboot-escalation", NULL };

            /* The journal's MACHINE=/ACTION= fields make it part of the
             * same audit trail as the request that asked for the reboot. */
            snprintf(f_machine, sizeof(f_machine), "MACHINE=%s", name);
            (void)log_internal(LOG_NOTICE, 0, fields,
                               "reboot of '%s': the guest did not reboot within %u s of the "
                               "ACPI request; reset it hard%s", name, conf->reboot_timeout,
                               opts.cold_reset ? " (restarted to apply a pending boot change)"
                                               : "");
        }
        else
            log_error("reboot of '%s': the guest ignored the ACPI request and the hard reset "
                      "failed: %s", name, error_get() ? error_get() : strerror(-r));
    }
    virt_machine_unlock(lock);
}
