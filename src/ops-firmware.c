/* ops-firmware.c: switch a machine between UEFI and legacy BIOS firmware
 * (issue 12 point 4, Redfish's BootSourceOverrideMode) for every front end.
 * A definition change like any other: the machine's lock, a backup first.
 * UEFI is libvirt's autoselection (<os firmware='efi'>, Debian's OVMF on the
 * host), without Secure Boot; the firmware is chosen when QEMU starts, so a
 * running machine keeps its own until its next start. */
#include "config.h"

#include "log.h"
#include "ops-private.h"
#include "util.h"

void ops_firmware_result_clear(OpsFirmwareResult *r)
{
    free(r->backup_id);
    *r = (OpsFirmwareResult){ 0 };
}

int ops_firmware_set(const OpsCaller *who, const Machine *m, bool uefi, OpsFirmwareResult *ret)
{
    _cleanup_free_ char *cur = NULL, *new_xml = NULL;
    _cleanup_(ops_firmware_result_clear) OpsFirmwareResult res = { 0 };
    _cleanup_(boot_info_freep) BootInfo *bi = NULL;
    const char *what = uefi ? "set UEFI firmware" : "set legacy firmware";
    MachineLock *lock = NULL;
    Machine now;
    int r;

    r = ops_require(who, ROLE_OPERATOR, what);
    if (r < 0)
        return r;
    r = ops_lock(who->conf, m, what, &lock);
    if (r < 0)
        return r;
    r = virt_machine_refresh((Host *)m->host, m->name, &now);
    if (r == 0 && !now.persistent) {
        error_setf("'%s' is transient: define it before changing its firmware", m->name);
        r = -EBUSY;
    }
    if (r == 0)
        r = virt_machine_xml((Host *)m->host, m->name, true, &cur);
    if (r == 0)
        r = bootxml_parse(cur, &bi);
    if (r < 0)
        goto out;
    res.applies = BOOT_APPLIES_NEXT_BOOT;
    if (bi->uefi == uefi)
        goto out;   /* already so */
    r = bootxml_set_firmware(cur, uefi, &new_xml);
    if (r == 0)
        r = ops_backup_and_define(who->conf, m, what, cur, new_xml, &res.backup_id, NULL);
    if (r < 0)
        goto out;
    res.changed = true;
    log_info("%s on '%s' by %s%s", what, m->name, ops_who(who),
             machine_state_is_active(now.state) ? ": used from its next start" : "");
out:
    virt_machine_unlock(lock);
    if (r < 0)
        return r;
    *ret = res;
    res = (OpsFirmwareResult){ 0 };
    return 0;
}
