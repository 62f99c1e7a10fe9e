/* ops-boot.c: boot order, backups, restore and one-time orders for every
 * front end (API.md section 2).
 *
 * Every redefinition goes: the caller's rights, the machine's lock, its
 * inactive XML, the new XML (bootxml computes it), the backup of the old one
 * (no backup, no change), then define.  One-time orders carry a marker in
 * virtmcd's metadata that names the backup to return to and records what the
 * machine was doing when it was armed; the worker undoes them once the
 * machine has booted with them, also after an outage.
 *
 * A change made while the machine runs is also handed to its running QEMU
 * ([boot] live_update): bootxml plans each device's run-time bootindex from
 * the live and the new persistent definition, virt sets them through the
 * monitor, and the order handed over is recorded in the live definition's
 * metadata (<virtmcd:live-boot order='...'/>, never in the persistent one),
 * so "pending" compares the persistent order with what QEMU really has.
 * Where that fails or is off, the change waits for a cold start, as before.
 * It never writes XML by hand (bootxml does) and never touches a file
 * outside backup.c. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>

#include "log.h"
#include "metrics.h"
#include "ops-private.h"
#include "strtable.h"
#include "util.h"

static const char *const boot_target_action_table[_BOOT_TARGET_MAX] = {
    [BOOT_TARGET_NETWORK] = "pxeboot",
    [BOOT_TARGET_DISK] = "diskboot",
    [BOOT_TARGET_CDROM] = "cdromboot",
    [BOOT_TARGET_DEFAULT] = "defaultboot",
};
DEFINE_STRING_TABLE_LOOKUP(boot_target_action, BootTarget)

static const char *const boot_target_first_table[_BOOT_TARGET_MAX] = {
    [BOOT_TARGET_NETWORK] = "network",
    [BOOT_TARGET_DISK] = "disk",
    [BOOT_TARGET_CDROM] = "cdrom",
    [BOOT_TARGET_DEFAULT] = "default",
};
DEFINE_STRING_TABLE_LOOKUP(boot_target_first, BootTarget)

static const char *const boot_applies_table[_BOOT_APPLIES_MAX] = {
    [BOOT_APPLIES_NOW] = "now",
    [BOOT_APPLIES_NEXT_RESET] = "next_reset",
    [BOOT_APPLIES_NEXT_BOOT] = "next_boot",
};
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(boot_applies, boot_applies_table, BootApplies, )

static const BootClass target_class[_BOOT_TARGET_MAX] = {
    [BOOT_TARGET_NETWORK] = BOOT_CLASS_NETWORK,
    [BOOT_TARGET_DISK] = BOOT_CLASS_DISK,
    [BOOT_TARGET_CDROM] = BOOT_CLASS_CDROM,
    [BOOT_TARGET_DEFAULT] = _BOOT_CLASS_INVALID,
};

void ops_boot_result_clear(OpsBootResult *r)
{
    free(r->backup_id);
    *r = (OpsBootResult){ 0 };
}

void ops_boot_state_clear(OpsBootState *s)
{
    boot_info_free(s->info);
    *s = (OpsBootState){ 0 };
}

/* ---- reading ---- */

int ops_boot_describe(const char *xml_inactive, const char *xml_live, OpsBootState *ret)
{
    _cleanup_(boot_info_freep) BootInfo *bi = NULL;
    _cleanup_(boot_info_freep) BootInfo *live = NULL;
    int r;

    r = bootxml_parse(xml_inactive, &bi);
    if (r < 0)
        return r;
    if (xml_live) {
        r = bootxml_parse(xml_live, &live);
        if (r < 0)
            return r;
    }
    if (live && live->live_boot) {
        /* virtmcd handed QEMU an order since it started: that one counts. */
        _cleanup_free_ char *key = bootxml_order_key(bi);

        if (!key)
            return -ENOMEM;
        ret->pending = !streq(key, live->live_boot);
    } else
        ret->pending = live && !boot_info_same_order(bi, live);
    ret->info = steal_ptr(&bi);
    return 0;
}

int ops_boot_get(const OpsCaller *who, const Machine *m, OpsBootState *ret)
{
    _cleanup_(machine_detail_clear) MachineDetail d = { 0 };
    int r;

    r = virt_machine_detail((Host *)m->host, m->name, &d);
    if (r < 0)
        return r;
    return ops_boot_describe(d.xml_inactive, d.xml, ret);
}

bool ops_boot_pending(const Machine *m)
{
    OpsBootState st = { 0 };
    bool pending;

    if (ops_boot_get(NULL, m, &st) < 0)
        return false;
    pending = st.pending;
    ops_boot_state_clear(&st);
    return pending;
}

int ops_boot_default(const OpsCaller *who, const Machine *m, BootInfo **ret)
{
    _cleanup_free_ char *first_id = NULL, *first_xml = NULL;
    int r;

    r = backup_first(who->conf->backup_dir, m->uuid, &first_id);
    if (r < 0)
        return r;
    r = backup_read(who->conf->backup_dir, m->uuid, first_id, &first_xml);
    if (r < 0)
        return r;
    return bootxml_parse(first_xml, ret);
}

/* ---- the running QEMU ---- */

/* Give m's running QEMU the order of xml_inactive and record it in the live
 * metadata.  On failure the record goes (best effort): what QEMU has is then
 * unknown, and a cold start is the way to apply the order. */
static int hand_live(const Machine *m, const char *xml_live, const char *xml_inactive,
                     const BootInfo *bi)
{
    _cleanup_free_ char *key = NULL, *meta = NULL, *new_meta = NULL;
    _cleanup_free_ VirtBootIndex *vl = NULL;
    BootIndex *plan = NULL;
    uint64_t at;
    size_t n = 0;
    int r;

    key = bootxml_order_key(bi);
    if (!key)
        return -ENOMEM;
    r = bootxml_live_plan(xml_live, xml_inactive, &plan, &n);
    if (r < 0)
        return r;
    if (n == 0) {
        /* No device alias: not a QEMU that names its devices (the test
         * driver), or nothing to boot from. */
        free(plan);
        error_setf("the live definition of '%s' names no bootable device", m->name);
        return -EOPNOTSUPP;
    }
    vl = calloc(n + 1, sizeof(*vl));
    if (!vl) {
        boot_index_free(plan, n);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        vl[i] = (VirtBootIndex){ .alias = plan[i].alias, .index = plan[i].index };
    /* Before the first change: a reset reported later than this may have
     * used the new order. */
    at = realtime_usec();
    r = virt_machine_set_bootindex((Host *)m->host, m->name, vl, n);
    boot_index_free(plan, n);
    r = r < 0 ? r : virt_machine_metadata((Host *)m->host, m->name, true, &meta);
    if (r == -ENODATA)
        r = 0;
    if (r == 0)
        r = bootxml_meta_set_live_boot(meta, key, at, &new_meta);
    if (r == 0)
        r = virt_machine_set_metadata((Host *)m->host, m->name, true, new_meta);
    if (r < 0 && r != -EOPNOTSUPP && r != -ENOENT) {
        _cleanup_free_ char *cur = NULL, *cleared = NULL;
        char *saved = strdup_null(error_get());

        if (virt_machine_metadata((Host *)m->host, m->name, true, &cur) == 0 &&
            bootxml_meta_set_live_boot(cur, NULL, 0, &cleared) == 0)
            (void)virt_machine_set_metadata((Host *)m->host, m->name, true, cleared);
        if (saved)
            error_setf("%s", saved);
        free(saved);
    }
    return r;
}

/* Make m's running QEMU have m's persistent order, when [boot] live_update
 * allows it.  *ret_synced: it has it now (or already had it).  Shut off:
 * false (the next start uses the definition).  Caller holds m's lock. */
static int live_sync(const Conf *conf, const Machine *m, bool *ret_synced)
{
    _cleanup_(machine_detail_clear) MachineDetail d = { 0 };
    _cleanup_(ops_boot_state_clear) OpsBootState st = { 0 };
    int r;

    *ret_synced = false;
    r = virt_machine_detail((Host *)m->host, m->name, &d);
    if (r < 0)
        return r;
    if (!d.xml)
        return 0; /* not running */
    r = ops_boot_describe(d.xml_inactive, d.xml, &st);
    if (r < 0)
        return r;
    if (!st.pending) {
        *ret_synced = true;
        return 0;
    }
    if (!conf->live_update)
        return 0;
    r = hand_live(m, d.xml, d.xml_inactive, st.info);
    if (r == -EOPNOTSUPP) {
        /* The driver has no QEMU monitor (the test driver): next start. */
        log_debug("'%s': no QEMU monitor to hand the boot order to: %s", m->name,
                  error_get() ? error_get() : "");
        return 0;
    }
    if (r < 0) {
        log_warning("Cannot hand the new boot order of '%s' to its running QEMU (%s); it "
                    "applies at the next start", m->name, error_get() ? error_get() : strerror(-r));
        return 0;
    }
    log_info("'%s': its running QEMU has the new boot order for its next reset (libvirt marks "
             "the domain custom-monitor tainted)", m->name);
    *ret_synced = true;
    return 0;
}

/* ---- changing ---- */

static int compute_default(const Conf *conf, const Machine *m, const char *xml, char **ret_xml)
{
    _cleanup_free_ char *first_id = NULL, *first_xml = NULL;
    int r;

    r = backup_first(conf->backup_dir, m->uuid, &first_id);
    if (r == -ENOENT) {
        /* virtmcd never changed it: the order it has is the default. */
        *ret_xml = NULL;
        return 0;
    }
    if (r < 0)
        return r;
    r = backup_read(conf->backup_dir, m->uuid, first_id, &first_xml);
    if (r < 0)
        return r;
    return bootxml_apply_order(xml, first_xml, ret_xml);
}

/* Under m's lock: the definition change itself. */
static int boot_change(const OpsCaller *who, const Machine *m, const OpsBootRequest *req,
                       const Machine *now, OpsBootResult *res)
{
    _cleanup_free_ char *xml = NULL, *new_xml = NULL, *id = NULL;
    _cleanup_(boot_info_freep) BootInfo *bi = NULL;
    const char *reason = boot_target_action_to_string(req->target);
    const char *armed = machine_state_to_string(now->state);
    int r;

    r = virt_machine_xml((Host *)m->host, m->name, true, &xml);
    if (r < 0)
        return r;
    r = bootxml_parse(xml, &bi);
    if (r < 0)
        return r;

    if (req->target == BOOT_TARGET_DEFAULT)
        r = compute_default(who->conf, m, xml, &new_xml);
    else {
        r = bootxml_set_first(xml, target_class[req->target], &new_xml);
        if (r == -ENODEV)
            error_setf("machine '%s' has no %s device to boot from", m->name,
                       boot_target_first_to_string(req->target));
    }
    if (r < 0)
        return r;
    if (!new_xml) {
        new_xml = strdup(xml);
        if (!new_xml)
            return -ENOMEM;
    }

    /* The one-time marker: a new once keeps the order to return to from an
     * earlier once; a persistent change disarms it. */
    if (req->once || bi->once_restore) {
        _cleanup_free_ char *marked = NULL;
        const char *restore = NULL;

        if (req->once)
            restore = bi->once_restore ? bi->once_restore : "pending";
        r = bootxml_set_once_armed(new_xml, restore, req->once ? armed : NULL, now->reason,
                                   &marked);
        if (r < 0)
            return r;
        free(new_xml);
        new_xml = steal_ptr(&marked);
    }
    if (streq(new_xml, xml)) {
        res->changed = false;
        return 0;
    }
    if (req->once && !bi->once_restore) {
        /* The backup about to be written holds the order to come back to;
         * its id is only known once written, so write it, then mark. */
        _cleanup_free_ char *marked = NULL;

        r = ops_save_backup(who->conf, m, reason, xml, &id);
        if (r < 0)
            return r;
        r = bootxml_set_once_armed(new_xml, id, armed, now->reason, &marked);
        if (r < 0)
            return r;
        r = ops_define_backed_up(m, reason, id, marked, &res->machine);
    } else
        r = ops_backup_and_define(who->conf, m, reason, xml, new_xml, &id, &res->machine);
    if (r < 0)
        return r;
    res->changed = true;
    res->backup_id = steal_ptr(&id);
    return 0;
}

int ops_boot_set_prepare(const OpsCaller *who, const Machine *m, const OpsBootRequest *req)
{
    const char *action = boot_target_action_to_string(req->target);
    int r;

    if (!action) {
        error_setf("unknown boot device");
        return -EINVAL;
    }
    r = ops_require_machine(who, m, ROLE_OPERATOR, action);
    if (r < 0)
        return r;
    if (req->target == BOOT_TARGET_DEFAULT && req->once) {
        error_setf("defaultboot is always persistent");
        return -EINVAL;
    }
    return 0;
}

int ops_boot_set_locked(const OpsCaller *who, const Machine *m, const OpsBootRequest *req,
                        const Machine *now, OpsBootResult *res)
{
    int r;

    if (!now->persistent) {
        error_setf("machine '%s' is transient: it has no persistent definition to change",
                   m->name);
        return -EBUSY;
    }
    r = boot_change(who, m, req, now, res);
    if (r < 0)
        return r;
    if (!res->changed)
        res->machine = *now;
    res->applies = BOOT_APPLIES_NEXT_BOOT;
    if (req->restart && machine_state_is_active(now->state)) {
        PowerOpts opts = { .force_off_timeout = who->conf->force_off_timeout };
        PowerResult pr;

        r = virt_power((Host *)m->host, m->name, POWER_CYCLE, &opts, &pr, &res->machine);
        res->restarted = r == 0;
        res->applies = BOOT_APPLIES_NOW;
    } else if (machine_state_is_active(now->state)) {
        bool synced = false;

        /* A failure here leaves the change for the next start: not an error. */
        if (live_sync(who->conf, m, &synced) < 0)
            log_warning("Cannot compare the boot order of '%s' with its running QEMU: %s",
                        m->name, error_get() ? error_get() : "");
        if (synced)
            res->applies = BOOT_APPLIES_NEXT_RESET;
    }
    return r;
}

void ops_boot_set_done(const OpsCaller *who, const Machine *m, const OpsBootRequest *req,
                       const OpsBootResult *res)
{
    const char *action = boot_target_action_to_string(req->target);

    if (res->changed)
        metrics_boot_change(action, req->once);
    log_info("%s%s on '%s' by %s: %s%s, now %s, applies %s", action, req->once ? " (once)" : "",
             m->name, ops_who(who), res->changed ? "changed" : "unchanged",
             res->restarted ? ", restarted" : "", machine_state_to_string(res->machine.state),
             boot_applies_to_string(res->applies));
}

int ops_boot_set(const OpsCaller *who, const Machine *m, const OpsBootRequest *req,
                 OpsBootResult *ret)
{
    OpsBootResult res = { 0 };
    MachineLock *lock = NULL;
    Machine now;
    int r;

    r = ops_boot_set_prepare(who, m, req);
    if (r < 0)
        return r;
    r = ops_lock_fresh(who->conf, m, boot_target_action_to_string(req->target), req->pre, &lock,
                       &now);
    if (!lock)
        return r;
    if (r == 0)
        r = ops_boot_set_locked(who, m, req, &now, &res);
    virt_machine_unlock(lock);
    if (r < 0) {
        ops_boot_result_clear(&res);
        return r;
    }
    ops_boot_set_done(who, m, req, &res);
    *ret = res;
    return 0;
}

/* ---- backups ---- */

int ops_backups_list(const OpsCaller *who, const Machine *m, BackupEntry **ret, size_t *ret_n)
{
    return backup_list(who->conf->backup_dir, m->uuid, ret, ret_n);
}

int ops_backup_read(const OpsCaller *who, const Machine *m, const char *id, char **ret_xml)
{
    int r = ops_require(who, ROLE_ADMIN, "reading a backup");

    if (r < 0)
        return r;
    r = backup_read(who->conf->backup_dir, m->uuid, id, ret_xml);
    if (r == -ENOENT)
        error_setf("no backup '%s' of machine '%s'", id, m->name);
    return r;
}

int ops_backup_restore(const OpsCaller *who, const Machine *m, const char *id,
                       OpsRestoreResult *ret)
{
    _cleanup_free_ char *saved = NULL, *current = NULL, *new_id = NULL;
    MachineLock *lock = NULL;
    Machine after = { 0 };
    int r;

    r = ops_require(who, ROLE_ADMIN, "restore");
    if (r < 0)
        return r;
    r = backup_read(who->conf->backup_dir, m->uuid, id, &saved);
    if (r == -ENOENT)
        error_setf("no backup '%s' of machine '%s'", id, m->name);
    if (r < 0)
        return r;
    r = ops_lock(who->conf, m, "restore", &lock);
    if (r < 0)
        return r;
    r = virt_machine_xml((Host *)m->host, m->name, true, &current);
    if (r == 0)
        r = ops_backup_and_define(who->conf, m, "restore", current, saved, &new_id, &after);
    ret->applies = BOOT_APPLIES_NEXT_BOOT;
    if (r == 0 && machine_state_is_active(after.state)) {
        bool synced = false;

        (void)live_sync(who->conf, m, &synced);
        if (synced)
            ret->applies = BOOT_APPLIES_NEXT_RESET;
    }
    virt_machine_unlock(lock);
    if (r < 0)
        return r;
    log_info("restore of '%s' by %s: backup %s, previous definition saved as %s", m->name,
             ops_who(who), id, new_id);
    ret->backup_id = steal_ptr(&new_id);
    ret->machine = after;
    return 0;
}

/* ---- one-time orders ---- */

/* Whether the machine booted with its one-time order since it was armed.
 * Running: libvirt copied the persistent definition, marker included, into
 * the live one when it started, so the live marker says it (a machine armed
 * while running and not restarted since has none).  Shut off: it ran and
 * stopped since if the reason for being off changed since the arming (a
 * machine armed while it ran, now off, cannot tell: it keeps its order for
 * the next start, which is what the one-time order is for). */
static int once_consumed(const Machine *m, const Machine *now, const BootInfo *bi,
                         uint64_t reset_at, bool *ret)
{
    _cleanup_free_ char *live = NULL;
    _cleanup_(boot_info_freep) BootInfo *lbi = NULL;
    int r;

    if (machine_state_is_active(now->state)) {
        r = virt_machine_xml((Host *)m->host, m->name, false, &live);
        if (r < 0)
            return r;
        r = bootxml_parse(live, &lbi);
        if (r < 0)
            return r;
        *ret = lbi->once_restore && streq(lbi->once_restore, bi->once_restore);
        if (!*ret && reset_at && lbi->live_boot && lbi->live_boot_at < reset_at) {
            /* Armed while running and handed to QEMU live before the reset
             * that just happened, which used it (QEMU reads the order at
             * every reset); a reset from before the hand-over did not. */
            _cleanup_free_ char *key = bootxml_order_key(bi);

            if (!key)
                return -ENOMEM;
            *ret = streq(key, lbi->live_boot);
        }
        return 0;
    }
    if (!bi->once_armed_state) {
        /* Armed by a virtmcd that did not record the state: only a start
         * event (seen while running) can tell; keep it. */
        *ret = false;
        return 0;
    }
    *ret = !machine_state_is_active(machine_state_from_string(bi->once_armed_state)) &&
           bi->once_armed_reason >= 0 && now->reason != bi->once_armed_reason;
    return 0;
}

/* With the machine's lock held. */
static int reconcile_locked(const Conf *conf, const Machine *m, uint64_t reset_at)
{
    _cleanup_free_ char *xml = NULL, *prev = NULL, *restored = NULL, *clean = NULL;
    _cleanup_(boot_info_freep) BootInfo *bi = NULL;
    bool consumed = false;
    Machine now;
    int r;

    r = virt_machine_xml((Host *)m->host, m->name, true, &xml);
    if (r == 0)
        r = bootxml_parse(xml, &bi);
    if (r < 0 || !bi->once_restore)
        goto out;
    r = virt_machine_refresh((Host *)m->host, m->name, &now);
    if (r == 0)
        r = once_consumed(m, &now, bi, reset_at, &consumed);
    if (r < 0 || !consumed)
        goto out;
    r = backup_read(conf->backup_dir, m->uuid, bi->once_restore, &prev);
    if (r == 0)
        r = bootxml_apply_order(xml, prev, &restored);
    if (r == 0)
        r = bootxml_set_once(restored, NULL, &clean);
    if (r == 0)
        r = ops_backup_and_define(conf, m, "once-restore", xml, clean, NULL, NULL);
    if (r == 0) {
        bool synced = false;

        log_info("'%s' booted with its one-time order; the order of backup %s is back",
                 m->name, bi->once_restore);
        /* The running QEMU too, for its next reset (this boot already read
         * its order). */
        if (machine_state_is_active(now.state))
            (void)live_sync(conf, m, &synced);
        r = 1;
    }
out:
    if (r < 0)
        log_error("Failed to restore the boot order of '%s' after its one-time boot: %s",
                  m->name, error_get() ? error_get() : strerror(-r));
    return r;
}

int ops_boot_reconcile(const Conf *conf, const Machine *m, uint64_t reset_at)
{
    MachineLock *lock = NULL;
    int r;

    r = ops_lock(conf, m, "once-restore", &lock);
    if (r < 0)
        return r;
    r = reconcile_locked(conf, m, reset_at);
    virt_machine_unlock(lock);
    return r;
}

/* Cheap first: only machines whose metadata holds a marker are read whole. */
static bool maybe_armed(Host *h, const char *name)
{
    _cleanup_free_ char *meta = NULL;

    return virt_machine_metadata(h, name, false, &meta) == 0 && strstr(meta, "boot-once");
}

/* Right after virtmcd started a new QEMU, with the machine's lock still
 * held: the previous order is restored before the start is answered, so the
 * caller's next reset already meets it.  (The start event that follows
 * finds nothing left to do.)  A failure is logged; the start succeeded. */
void ops_boot_after_power(const Conf *conf, const Machine *m)
{
    if (maybe_armed((Host *)m->host, m->name))
        (void)reconcile_locked(conf, m, 0);
    error_clear();
}

void ops_boot_on_started(const Conf *conf, Host *h, const char *name)
{
    Machine m;

    if (!maybe_armed(h, name))
        return;
    if (virt_machine_find(name, virt_host_name(h), &m, NULL) < 0)
        return;
    (void)ops_boot_reconcile(conf, &m, 0);
}

void ops_boot_on_reboot(const Conf *conf, Host *h, const char *name, uint64_t at)
{
    Machine m;

    if (!maybe_armed(h, name))
        return;
    if (virt_machine_find(name, virt_host_name(h), &m, NULL) < 0)
        return;
    (void)ops_boot_reconcile(conf, &m, at);
}

static bool uuid_shaped(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (size_t i = 0; i < 36; i++)
        if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* Backups used to be kept by machine name: move each such folder to its
 * machine's UUID, when that is unambiguous (every host up, one machine of
 * that name). */
static void move_name_folders(const Conf *conf)
{
    _cleanup_strv_free_ char **keys = NULL;

    if (virt_hosts_up() != virt_host_count() || backup_keys(conf->backup_dir, &keys) < 0)
        return;
    for (size_t i = 0; keys && keys[i]; i++) {
        _cleanup_strv_free_ char **hosts = NULL;
        Machine m;
        int r;

        if (uuid_shaped(keys[i]))
            continue;
        r = virt_machine_find(keys[i], NULL, &m, &hosts);
        if (r == -ENOTUNIQ) {
            log_warning("Backups of '%s' in %s/%s: several hosts have a machine of that name; "
                        "left where they are", keys[i], conf->backup_dir, keys[i]);
            continue;
        }
        if (r < 0)
            continue; /* a machine that is gone: its old backups stay */
        r = backup_move(conf->backup_dir, keys[i], m.uuid);
        if (r < 0)
            log_error_errno(r, "Cannot move the backups of '%s' from %s/%s to %s/%s: %m",
                            keys[i], conf->backup_dir, keys[i], conf->backup_dir, m.uuid);
        else
            log_notice("Moved %d backups of '%s' from %s/%s to %s/%s (backups are kept by "
                       "UUID now)", r, keys[i], conf->backup_dir, keys[i], conf->backup_dir,
                       m.uuid);
    }
}

typedef struct ArmedRow {
    Machine m;
    bool ask; /* its definition could not be read: ask libvirt */
} ArmedRow;

typedef struct Armed {
    const Host *h;
    ArmedRow *v;
    size_t n, cap;
} Armed;

/* Under the host's read lock: the machines whose definition in use holds
 * a one-time marker.  For one that is off that is its persistent
 * definition; one that runs has it in its live definition exactly when it
 * started with the order armed, which is what reconciling finds out (one
 * armed while it ran cannot be told apart here and keeps its order either
 * way).  A row whose definition could not be read is asked about.  Rows
 * are read while the host's table lock is held: nothing here calls
 * libvirt. */
static int armed_row(const Machine *m, const DomInfo *info, void *userdata)
{
    Armed *a = userdata;

    if (m->host != a->h || !m->persistent || (info && !info->boot_once))
        return 0;
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 16;
        ArmedRow *nv = realloc(a->v, cap * sizeof(*nv));

        if (!nv)
            return -ENOMEM;
        a->v = nv;
        a->cap = cap;
    }
    a->v[a->n++] = (ArmedRow){ .m = *m, .ask = info == NULL };
    return 0;
}

void ops_boot_on_host_up(const Conf *conf, Host *h)
{
    Armed a = { .h = h };

    move_name_folders(conf);
    /* Starts missed while virtmcd was away or disconnected: from the table,
     * not one metadata call per machine (10,000 of them at start-up). */
    if (virt_machines_each(virt_host_name(h), armed_row, &a) < 0) {
        free(a.v);
        return;
    }
    for (size_t i = 0; i < a.n; i++) {
        if (a.v[i].ask && !maybe_armed(h, a.v[i].m.name))
            continue;
        (void)ops_boot_reconcile(conf, &a.v[i].m, 0);
    }
    free(a.v);
}
