/* ops-firmware.c: switch a machine between UEFI and legacy BIOS firmware
 * (issue 12 point 4, Redfish's BootSourceOverrideMode) for every front end.
 * A definition change like any other: the machine's lock, a backup first.
 * UEFI is libvirt's autoselection (<os firmware='efi'>, Debian's OVMF on the
 * host), without Secure Boot; the firmware is chosen when QEMU starts, so a
 * running machine keeps its own until its next start.  A boot order change
 * may follow under the same lock (ops_firmware_change): Redfish sets mode
 * and target in one PATCH. */
#include "config.h"

#include "log.h"
#include "ops-private.h"
#include "util.h"

void ops_firmware_result_clear(OpsFirmwareResult *r)
{
    free(r->backup_id);
    ops_boot_result_clear(&r->order);
    *r = (OpsFirmwareResult){ 0 };
}

/* Under m's lock: the definition change itself. */
static int firmware_change(const OpsCaller *who, const Machine *m, const Machine *now, bool uefi,
                           OpsFirmwareResult *res)
{
    _cleanup_free_ char *cur = NULL, *new_xml = NULL;
    _cleanup_(boot_info_freep) BootInfo *bi = NULL;
    const char *what = uefi ? "set UEFI firmware" : "set legacy firmware";
    int r;

    if (!now->persistent) {
        error_setf("'%s' is transient: define it before changing its firmware", m->name);
        return -EBUSY;
    }
    r = virt_machine_xml((Host *)m->host, m->name, true, &cur);
    if (r == 0)
        r = bootxml_parse(cur, &bi);
    if (r < 0)
        return r;
    res->applies = BOOT_APPLIES_NEXT_BOOT;
    if (bi->uefi == uefi)
        return 0;   /* already so */
    r = bootxml_set_firmware(cur, uefi, &new_xml);
    if (r == 0)
        r = ops_backup_and_define(who->conf, m, what, cur, new_xml, &res->backup_id, NULL);
    if (r < 0)
        return r;
    res->changed = true;
    log_info("%s on '%s' by %s%s", what, m->name, ops_who(who),
             machine_state_is_active(now->state) ? ": used from its next start" : "");
    return 0;
}

int ops_firmware_change(const OpsCaller *who, const Machine *m, const OpsFirmwareRequest *req,
                        OpsFirmwareResult *ret)
{
    _cleanup_(ops_firmware_result_clear) OpsFirmwareResult res = { 0 };
    const char *what = req->uefi ? "set UEFI firmware" : "set legacy firmware";
    MachineLock *lock = NULL;
    Machine now;
    int r;

    /* A machine checked out by someone else is read-only for the others,
     * its firmware too (as its boot order, power and media). */
    r = ops_require_machine(who, m, ROLE_OPERATOR, what);
    if (r == 0 && req->order)
        r = ops_boot_set_prepare(who, m, req->order);
    if (r < 0)
        return r;
    r = ops_lock_fresh(who->conf, m, what, req->pre, &lock, &now);
    if (!lock)
        return r;
    if (r == 0)
        r = firmware_change(who, m, &now, req->uefi, &res);
    if (r == 0 && req->order)
        /* The order goes onto the new definition, with no change between. */
        r = ops_boot_set_locked(who, m, req->order, &now, &res.order);
    virt_machine_unlock(lock);
    if (r < 0)
        return r;
    if (req->order)
        ops_boot_set_done(who, m, req->order, &res.order);
    *ret = res;
    res = (OpsFirmwareResult){ 0 };
    return 0;
}

int ops_firmware_set(const OpsCaller *who, const Machine *m, bool uefi, OpsFirmwareResult *ret)
{
    return ops_firmware_change(who, m, &(OpsFirmwareRequest){ .uefi = uefi }, ret);
}
