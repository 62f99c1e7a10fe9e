/* ops-media.c: the virtual CD (issue 12 point 6) for every front end: an
 * http(s) image that QEMU reads itself, inserted into or ejected from the
 * machine's CD drive (one is added when it has none).  A definition change
 * like any other: the machine's lock, a backup first.  While the machine
 * runs, the running QEMU changes media first: when it cannot open the
 * image, nothing is changed and the error says why. */
#include "config.h"

#include "log.h"
#include "ops-private.h"
#include "util.h"

void ops_media_result_clear(OpsMediaResult *r)
{
    media_state_clear(&r->media);
    free(r->backup_id);
    free(r->boot_backup_id);
    *r = (OpsMediaResult){ 0 };
}

int ops_media_get(const OpsCaller *who, const Machine *m, MediaState *ret)
{
    _cleanup_free_ char *xml = NULL;
    int r;

    (void)who;
    r = virt_machine_xml((Host *)m->host, m->name, true, &xml);
    if (r == 0)
        r = mediaxml_get(xml, ret);
    return r;
}

/* The running QEMU gets the new media when its live definition has the
 * drive: 1 done, 0 not possible now (no drive: the next start has it). */
static int set_live(const Machine *m, const char *url, const char *target)
{
    _cleanup_free_ char *live = NULL, *new_live = NULL, *disk = NULL;
    _cleanup_(media_state_clear) MediaState ms = { 0 };
    int r = virt_machine_xml((Host *)m->host, m->name, false, &live);

    if (r == 0)
        r = mediaxml_get(live, &ms);
    if (r < 0)
        return r;
    if (!ms.drive || !ms.target || !target || !streq(ms.target, target))
        return 0;
    r = mediaxml_set(live, url, true, &new_live, &disk);
    if (r == 0)
        r = virt_machine_update_device((Host *)m->host, m->name, true, disk);
    return r < 0 ? r : 1;
}

/* After an eject, under m's lock (now: m as libvirt had it when the lock
 * was taken): a machine whose override was the CD boots its disk instead
 * (Redfish's eject puts a Cd target back to Hdd), Once staying once, so
 * that no boot order points at an empty drive; a machine without a disk
 * gets its default order back.  Its own boot change (a backup of its own). */
static void eject_boot_to_disk(const OpsCaller *who, const Machine *m, const Machine *now,
                               bool once, OpsMediaResult *res)
{
    OpsBootRequest req = { .target = BOOT_TARGET_DISK, .once = once };
    OpsBootResult br = { 0 };
    int r = ops_boot_set_prepare(who, m, &req);

    if (r == 0)
        r = ops_boot_set_locked(who, m, &req, now, &br);
    if (r == -ENODEV) {
        ops_boot_result_clear(&br);
        req = (OpsBootRequest){ .target = BOOT_TARGET_DEFAULT };
        r = ops_boot_set_prepare(who, m, &req);
        if (r == 0)
            r = ops_boot_set_locked(who, m, &req, now, &br);
    }
    if (r < 0) {
        log_warning("'%s' still boots its CD drive first after the eject: %s", m->name,
                    error_get() ? error_get() : strerror(-r));
        ops_boot_result_clear(&br);
        return;
    }
    ops_boot_set_done(who, m, &req, &br);
    res->boot_to_disk = br.changed;
    res->boot_backup_id = br.backup_id;
    br.backup_id = NULL;
    ops_boot_result_clear(&br);
}

int ops_media_set(const OpsCaller *who, const Machine *m, const char *url, OpsMediaResult *ret)
{
    return ops_media_set_if(who, m, url, NULL, ret);
}

int ops_media_set_if(const OpsCaller *who, const Machine *m, const char *url,
                     const OpsPrecondition *pre, OpsMediaResult *ret)
{
    _cleanup_free_ char *cur = NULL, *new_xml = NULL, *disk = NULL;
    _cleanup_(ops_media_result_clear) OpsMediaResult res = { 0 };
    _cleanup_(media_state_clear) MediaState before = { 0 }, planned = { 0 };
    _cleanup_(boot_info_freep) BootInfo *bi = NULL;
    const char *what = url ? "insert media" : "eject media";
    MachineLock *lock = NULL;
    Machine now;
    int r;

    r = ops_require_machine(who, m, ROLE_OPERATOR, what);
    if (r < 0)
        return r;
    if (url && (r = mediaxml_check_url(url)) < 0)
        return r;
    r = ops_lock_fresh(who->conf, m, url ? "insert media" : "eject media", pre, &lock, &now);
    if (!lock)
        return r;
    if (r == 0 && !now.persistent) {
        error_setf("'%s' is transient: define it before changing its media", m->name);
        r = -EBUSY;
    }
    if (r == 0)
        r = virt_machine_xml((Host *)m->host, m->name, true, &cur);
    if (r == 0)
        r = mediaxml_get(cur, &before);
    if (r == 0 && !url)
        r = bootxml_parse(cur, &bi);
    if (r < 0)
        goto out;
    res.applies = BOOT_APPLIES_NEXT_BOOT;
    if (streq_ptr(before.image, url)) {
        /* Already so: nothing to write. */
        res.media = before;
        before = (MediaState){ 0 };
        goto out;
    }
    r = mediaxml_set(cur, url, false, &new_xml, &disk);
    if (r == 0)
        r = mediaxml_get(new_xml, &planned);
    if (r == 0)
        r = ops_save_backup(who->conf, m, url ? "insert media" : "eject media", cur,
                            &res.backup_id);
    if (r < 0)
        goto out;
    if (machine_state_is_active(now.state)) {
        /* The live drive is the one this change is about, also when an
         * eject takes it out of the persistent definition. */
        r = set_live(m, url, planned.target ? planned.target : before.target);
        if (r < 0) {
            log_warning("%s on '%s' refused by the running machine: %s; nothing changed", what,
                        m->name, error_get() ? error_get() : strerror(-r));
            goto out;
        }
        if (r == 1)
            res.applies = BOOT_APPLIES_NOW;
        r = 0;
    }
    r = ops_define_backed_up(m, url ? "insert media" : "eject media", res.backup_id, new_xml,
                             NULL);
    if (r < 0)
        goto out;
    res.changed = true;
    res.media = planned;
    planned = (MediaState){ 0 };
    log_info("%s '%s' by %s: %s", what, m->name, ops_who(who), url ? url : "(empty)");
    if (bi && boot_info_first(bi) == BOOT_CLASS_CDROM)
        eject_boot_to_disk(who, m, &now, bi->once_restore != NULL, &res);
out:
    virt_machine_unlock(lock);
    if (r < 0)
        return r;
    *ret = res;
    res = (OpsMediaResult){ 0 };
    return 0;
}
