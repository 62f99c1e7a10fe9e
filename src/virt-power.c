/* virt-power.c: power actions of API.md section 1 on one machine.
 *
 * Decides from the machine's current state which libvirt calls an action
 * needs, makes them, and writes the state after into the table before
 * answering, so a client reads its own write.  It never edits a definition. */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "strtable.h"
#include "util.h"
#include "virt-private.h"

static const char *const power_action_table[_POWER_ACTION_MAX] = {
    [POWER_ON] = "power_on",       [POWER_OFF] = "power_off",
    [POWER_SOFT_OFF] = "soft_off", [POWER_CYCLE] = "power_cycle",
    [POWER_FORCE_RESET] = "force_reset", [POWER_REBOOT] = "reboot",
    [POWER_FORCE_OFF] = "force_off", [POWER_NMI] = "nmi",
    [POWER_CYCLEPOWER] = "cyclepower",
};
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(power_action, power_action_table, PowerAction, )
DEFINE_STRING_TABLE_FROM_STRING_FN(action_from_table, power_action_table, PowerAction, static)

PowerAction power_action_from_string(const char *s)
{
    /* The original controller's code answers force_reboot. */
    if (s && streq(s, "force_reboot"))
        return POWER_FORCE_RESET;
    return action_from_table(s);
}

static const char *const power_result_table[_POWER_RESULT_MAX] = {
    [POWER_RESULT_DONE] = "done",
    [POWER_RESULT_REQUESTED] = "requested",
    [POWER_RESULT_UNCHANGED] = "unchanged",
};
DEFINE_STRING_TABLE_TO_STRING_FN(result_to_string, power_result_table, PowerResult, static)

const char *power_result_to_string(PowerResult r)
{
    const char *s = result_to_string(r);

    return s ? s : "done";
}

bool power_action_starts(PowerAction a, MachineState s)
{
    bool active = machine_state_is_active(s);

    switch (a) {
    case POWER_ON:
        return !active || s == MACHINE_CRASHED;
    case POWER_CYCLE:
    case POWER_CYCLEPOWER:
        return !active;
    default:
        return false;
    }
}

static int current_state(virDomainPtr dom, const char *name, MachineState *ret)
{
    int state, reason;

    if (virDomainGetState(dom, &state, &reason, 0) < 0)
        return virt_errno("read the state of", name);
    *ret = machine_state_from_libvirt(state);
    return 0;
}

static int do_create(virDomainPtr dom, const char *name)
{
    return virDomainCreate(dom) < 0 ? virt_errno("start", name) : 0;
}

static int do_destroy(virDomainPtr dom, const char *name)
{
    if (virDomainDestroy(dom) < 0) {
        int r = virt_errno("stop", name);

        /* It went away by itself between our read and the call. */
        if (r == -EBUSY && virDomainIsActive(dom) == 0)
            return 0;
        return r;
    }
    return 0;
}

/* Hard off, then on.  A transient machine vanishes when it stops, so it
 * comes back from its live definition rather than from a persistent one. */
static int do_restart(virDomainPtr dom, const char *name, bool persistent)
{
    _cleanup_free_ char *xml = NULL;
    virDomainPtr created;
    int r;

    if (persistent) {
        r = do_destroy(dom, name);
        return r < 0 ? r : do_create(dom, name);
    }
    xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_SECURE);
    if (!xml)
        return virt_errno("read the definition of", name);
    r = do_destroy(dom, name);
    if (r < 0)
        return r;
    created = virDomainCreateXML(virDomainGetConnect(dom), xml, 0);
    if (!created)
        return virt_errno("start again", name);
    virDomainFree(created);
    return 0;
}

/* Graceful process kill (SIGTERM), then a forced one once timeout_s passed. */
static int do_force_off(virDomainPtr dom, const char *name, unsigned timeout_s)
{
    uint64_t deadline = now_usec() + (uint64_t)timeout_s * 1000000u;

    if (timeout_s > 0) {
        if (virDomainDestroyFlags(dom, VIR_DOMAIN_DESTROY_GRACEFUL) == 0)
            return 0;
        log_debug("Graceful destroy of '%s' did not finish: %s", name,
                  virGetLastErrorMessage());
        while (now_usec() < deadline) {
            int active = virDomainIsActive(dom);

            if (active == 0)
                return 0;
            if (active < 0)
                return virt_errno("read the state of", name);
            usleep(100000);
        }
    }
    return do_destroy(dom, name);
}

/* A paused or suspended guest cannot see an ACPI button, and a reset alone
 * leaves it paused: let it run first (issue 10: a reset resumes it). */
static int wake(virDomainPtr dom, const char *name, MachineState st)
{
    if (st == MACHINE_PAUSED && virDomainResume(dom) < 0)
        return virt_errno("resume", name);
    if (st == MACHINE_PMSUSPENDED && virDomainPMWakeup(dom, 0) < 0)
        return virt_errno("wake up", name);
    return 0;
}

static int refuse_off(const char *name, const char *action)
{
    error_setf("machine '%s' is not running: %s needs a running machine", name, action);
    return -EBUSY;
}

int virt_power(Host *h, const char *name, PowerAction a, const PowerOpts *opts,
               PowerResult *ret_result, Machine *ret_machine)
{
    VIRT_OP(h, power_action_to_string(a));
    int r = 0;
    _cleanup_(virDomainFreep) virDomainPtr dom = virt_lookup(h, name, &r);
    PowerResult result = POWER_RESULT_DONE;
    MachineState st = MACHINE_NOSTATE;
    bool active;
    Machine m = { 0 };

    if (!dom)
        return r;
    r = current_state(dom, name, &st);
    if (r < 0)
        return r;
    active = machine_state_is_active(st);
    r = virDomainIsPersistent(dom);
    if (r < 0)
        return virt_errno("read the persistence of", name);
    m.persistent = r == 1;
    r = 0;

    switch (a) {
    case POWER_ON:
        if (st == MACHINE_CRASHED)
            r = do_restart(dom, name, m.persistent);
        else if (active)
            result = POWER_RESULT_UNCHANGED;
        else
            r = do_create(dom, name);
        break;
    case POWER_OFF:
        if (!active)
            result = POWER_RESULT_UNCHANGED;
        else
            r = do_destroy(dom, name);
        break;
    case POWER_SOFT_OFF:
        if (!active)
            result = POWER_RESULT_UNCHANGED;
        else if ((r = wake(dom, name, st)) < 0)
            break;
        else if (virDomainShutdown(dom) < 0)
            r = virt_errno("shut down", name);
        else
            result = POWER_RESULT_REQUESTED;
        break;
    case POWER_CYCLE:
        if (active)
            r = do_restart(dom, name, m.persistent);
        else
            r = do_create(dom, name);
        break;
    case POWER_FORCE_RESET:
        if (!active)
            r = refuse_off(name, "force_reset");
        else if (opts && opts->cold_reset) {
            /* A warm reset keeps the QEMU process and its old boot order. */
            r = do_restart(dom, name, m.persistent);
        } else if ((r = wake(dom, name, st)) < 0)
            break;
        else if (virDomainReset(dom, 0) < 0)
            r = virt_errno("reset", name);
        break;
    case POWER_REBOOT:
        if (!active)
            r = refuse_off(name, "reboot");
        else if ((r = wake(dom, name, st)) < 0)
            break;
        else if (virDomainReboot(dom, 0) < 0)
            r = virt_errno("reboot", name);
        else
            result = POWER_RESULT_REQUESTED;
        break;
    case POWER_FORCE_OFF:
        if (!active)
            result = POWER_RESULT_UNCHANGED;
        else
            r = do_force_off(dom, name, opts ? opts->force_off_timeout : 10);
        break;
    case POWER_NMI:
        if (!active)
            r = refuse_off(name, "nmi");
        else if (virDomainInjectNMI(dom, 0) < 0)
            r = virt_errno("inject an NMI into", name);
        break;
    case POWER_CYCLEPOWER:
        /* The original controller's toggle. */
        if (st == MACHINE_CRASHED) {
            if (virDomainReset(dom, 0) < 0)
                r = virt_errno("reset", name);
        } else if (active) {
            if ((r = wake(dom, name, st)) < 0)
                break;
            if (virDomainShutdown(dom) < 0)
                r = virt_errno("shut down", name);
            else
                result = POWER_RESULT_REQUESTED;
        } else
            r = do_create(dom, name);
        break;
    default:
        error_setf("unknown action");
        return -EINVAL;
    }
    if (r < 0) {
        (void)virt_machine_refresh(h, name, NULL);
        return r;
    }
    r = virt_machine_refresh(h, name, &m);
    if (r == -ENOENT && active && !m.persistent) {
        /* A transient machine ceases to exist when it stops. */
        m = (Machine){ .host = h, .id = -1, .state = MACHINE_SHUT_OFF, .persistent = false };
        snprintf(m.name, sizeof(m.name), "%s", name);
        r = 0;
    }
    if (r < 0)
        return r;
    *ret_result = result;
    if (ret_machine)
        *ret_machine = m;
    return 0;
}
