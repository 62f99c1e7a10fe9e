/* api-boot.c: boot order, backups and restore (API.md section 2).
 *
 * Every redefinition goes: lock the machine, read its inactive XML, compute
 * the new XML (bootxml), save the old one (backup) -- no backup, no change --
 * then define.  One-time orders are undone by the start hook that virt calls
 * when the machine starts.  It never writes XML by hand: bootxml does. */
#include "config.h"

#include <stdio.h>

#include "api.h"
#include "backup.h"
#include "bootxml.h"
#include "log.h"
#include "util.h"

typedef enum BootTarget {
    TARGET_NETWORK,
    TARGET_DISK,
    TARGET_CDROM,
    TARGET_DEFAULT,
    _TARGET_MAX,
    _TARGET_INVALID = -1,
} BootTarget;

static const struct {
    const char *action;
    const char *first;
    BootClass cls;
} targets[_TARGET_MAX] = {
    [TARGET_NETWORK] = { "pxeboot", "network", BOOT_CLASS_NETWORK },
    [TARGET_DISK] = { "diskboot", "disk", BOOT_CLASS_DISK },
    [TARGET_CDROM] = { "cdromboot", "cdrom", BOOT_CLASS_CDROM },
    [TARGET_DEFAULT] = { "defaultboot", "default", _BOOT_CLASS_INVALID },
};

static BootTarget target_from_action(const char *s)
{
    for (int i = 0; i < _TARGET_MAX; i++)
        if (streq(s, targets[i].action))
            return (BootTarget)i;
    return _TARGET_INVALID;
}

static BootTarget target_from_first(const char *s)
{
    for (int i = 0; i < _TARGET_MAX; i++)
        if (streq(s, targets[i].first))
            return (BootTarget)i;
    return _TARGET_INVALID;
}

/* ---- reading ---- */

int api_boot_json(Host *h, const char *name, const char *xml_inactive, const char *xml_live,
                  Json **ret)
{
    _cleanup_(boot_info_freep) BootInfo *bi = NULL;
    _cleanup_(boot_info_freep) BootInfo *live = NULL;
    BootClass first;
    Json *o, *order;
    int r;

    r = bootxml_parse(xml_inactive, &bi);
    if (r < 0)
        return r;
    if (xml_live) {
        r = bootxml_parse(xml_live, &live);
        if (r < 0)
            return r;
    }
    o = json_obj();
    order = json_arr();
    for (size_t i = 0; i < bi->n_entries; i++) {
        Json *e = json_obj();

        json_set_str(e, "class", boot_class_to_string(bi->entries[i].cls));
        json_set_str(e, "device", bi->entries[i].device);
        json_set_int(e, "order", bi->entries[i].order);
        json_push(order, e);
    }
    json_set(o, "order", order);
    json_set_str(o, "style", boot_style_to_string(bi->style));
    first = boot_info_first(bi);
    json_set_str(o, "first", first == _BOOT_CLASS_INVALID ? "none" : boot_class_to_string(first));
    json_set_bool(o, "persistent", bi->once_restore == NULL);
    json_set_bool(o, "once", bi->once_restore != NULL);
    json_set_bool(o, "pending", live && !boot_info_same_order(bi, live));
    json_set_str(o, "mode", bi->uefi ? "uefi" : "legacy");
    *ret = o;
    return 0;
}

bool api_boot_pending(Host *h, const char *name)
{
    _cleanup_(machine_detail_clear) MachineDetail d = { 0 };
    _cleanup_(boot_info_freep) BootInfo *bi = NULL;
    _cleanup_(boot_info_freep) BootInfo *live = NULL;

    if (virt_machine_detail(h, name, &d) < 0 || !d.xml)
        return false;
    if (bootxml_parse(d.xml_inactive, &bi) < 0 || bootxml_parse(d.xml, &live) < 0)
        return false;
    return !boot_info_same_order(bi, live);
}

static void boot_get(Ctx *c)
{
    _cleanup_(machine_detail_clear) MachineDetail d = { 0 };
    Json *o = NULL;
    int r;

    r = virt_machine_detail(c->host, c->name, &d);
    if (r < 0) {
        api_reply_errno(c, r, "read the machine");
        return;
    }
    r = api_boot_json(c->host, c->name, d.xml_inactive, d.xml, &o);
    if (r < 0) {
        api_reply_errno(c, r, "read the boot order");
        return;
    }
    json_set_str(o, "name", c->name);
    api_reply_json(c, 200, o);
}

/* ---- changing ---- */

typedef struct BootRequest {
    BootTarget target;
    bool once;
    bool restart;
} BootRequest;

typedef struct BootOutcome {
    bool changed;
    char *backup_id;
} BootOutcome;

/* Save `old_xml` as a backup of `name`: no backup, no change (-EIO). */
static int save_backup(const Conf *conf, const char *name, const char *reason,
                       const char *old_xml, char **ret_id)
{
    int r = backup_save(conf->backup_dir, name, reason, old_xml, conf->backup_keep, ret_id);

    if (r < 0) {
        error_setf("cannot write the backup of '%s' to %s: %s; nothing was changed", name,
                   conf->backup_dir, strerror(-r));
        log_error("%s", error_get());
        return -EIO;
    }
    return 0;
}

/* Define `new_xml` once backup `id` holds what it replaces. */
static int define_backed_up(Host *h, const char *name, const char *reason, const char *id,
                            const char *new_xml)
{
    int r = virt_machine_define(h, new_xml);

    if (r < 0) {
        log_error("Failed to define '%s' (backup %s kept): %s", name, id,
                  error_get() ? error_get() : "");
        return r;
    }
    log_info("Redefined '%s' (%s); previous definition saved as %s", name, reason, id);
    return 0;
}

/* Save `old_xml`, then define `new_xml`.  Caller holds the machine lock. */
static int backup_and_define(const Conf *conf, Host *h, const char *name, const char *reason,
                             const char *old_xml, const char *new_xml, char **ret_id)
{
    _cleanup_free_ char *id = NULL;
    int r;

    r = save_backup(conf, name, reason, old_xml, &id);
    if (r < 0)
        return r;
    r = define_backed_up(h, name, reason, id, new_xml);
    if (r < 0)
        return r;
    if (ret_id)
        *ret_id = steal_ptr(&id);
    return 0;
}

static int compute_default(const Conf *conf, const char *name, const char *xml, char **ret_xml)
{
    _cleanup_free_ char *first_id = NULL, *first_xml = NULL;
    int r;

    r = backup_first(conf->backup_dir, name, &first_id);
    if (r == -ENOENT) {
        /* virtmcd never changed it: the order it has is the default. */
        *ret_xml = NULL;
        return 0;
    }
    if (r < 0)
        return r;
    r = backup_read(conf->backup_dir, name, first_id, &first_xml);
    if (r < 0)
        return r;
    return bootxml_apply_order(xml, first_xml, ret_xml);
}

static int boot_change(Ctx *c, const BootRequest *br, BootOutcome *out)
{
    _cleanup_free_ char *xml = NULL, *new_xml = NULL, *id = NULL;
    _cleanup_(boot_info_freep) BootInfo *bi = NULL;
    const char *reason = targets[br->target].action;
    int r;

    if (!c->machine.persistent) {
        error_setf("machine '%s' is transient: it has no persistent definition to change",
                   c->name);
        return -EBUSY;
    }
    r = virt_machine_xml(c->host, c->name, true, &xml);
    if (r < 0)
        return r;
    r = bootxml_parse(xml, &bi);
    if (r < 0)
        return r;

    if (br->target == TARGET_DEFAULT)
        r = compute_default(c->conf, c->name, xml, &new_xml);
    else {
        r = bootxml_set_first(xml, targets[br->target].cls, &new_xml);
        if (r == -ENODEV)
            error_setf("machine '%s' has no %s device to boot from", c->name,
                       targets[br->target].first);
    }
    if (r < 0)
        return r;
    if (!new_xml) {
        new_xml = strdup(xml);
        if (!new_xml)
            return -ENOMEM;
    }

    /* The one-time marker: a new once keeps the order to return to from
     * an earlier once; a persistent change disarms it. */
    if (br->once || bi->once_restore) {
        _cleanup_free_ char *marked = NULL;
        const char *restore = NULL;

        if (br->once)
            restore = bi->once_restore ? bi->once_restore : "pending";
        r = bootxml_set_once(new_xml, restore, &marked);
        if (r < 0)
            return r;
        free(new_xml);
        new_xml = steal_ptr(&marked);
    }
    if (streq(new_xml, xml)) {
        out->changed = false;
        return 0;
    }
    if (br->once && !bi->once_restore) {
        /* The backup about to be written holds the order to come back to;
         * its id is only known once written, so write it, then mark. */
        _cleanup_free_ char *marked = NULL;

        r = save_backup(c->conf, c->name, reason, xml, &id);
        if (r < 0)
            return r;
        r = bootxml_set_once(new_xml, id, &marked);
        if (r < 0)
            return r;
        r = define_backed_up(c->host, c->name, reason, id, marked);
        if (r < 0)
            return r;
    } else {
        r = backup_and_define(c->conf, c->host, c->name, reason, xml, new_xml, &id);
        if (r < 0)
            return r;
    }
    out->changed = true;
    out->backup_id = steal_ptr(&id);
    return 0;
}

static void boot_reply(Ctx *c, const char *action, const BootRequest *br, const BootOutcome *out,
                       bool restarted)
{
    Machine m = c->machine;
    Json *o = json_obj();

    /* define and power actions already wrote the table: no round trip. */
    (void)virt_machine_find(c->name, virt_host_name(c->host), &m, NULL);
    json_set_str(o, "name", c->name);
    json_set_str(o, "action", action);
    json_set_str(o, "result", out->changed || restarted ? "done" : "unchanged");
    json_set_str(o, "state", machine_state_to_string(m.state));
    json_set_str(o, "first", targets[br->target].first);
    json_set_bool(o, "persistent", !br->once);
    json_set_bool(o, "once", br->once);
    json_set_str(o, "applies", restarted ? "now" : "next_boot");
    json_set_str(o, "backup", out->backup_id);
    api_reply_json(c, 200, o);
}

static void boot_run(Ctx *c, const char *action, const BootRequest *br)
{
    BootOutcome out = { 0 };
    MachineLock *lock = virt_machine_lock(c->host, c->name);
    bool restarted = false;
    int r;

    if (!lock) {
        api_reply_error(c, 500, "out of memory");
        return;
    }
    r = boot_change(c, br, &out);
    if (r == 0 && br->restart && machine_state_is_active(c->machine.state)) {
        PowerOpts opts = { .force_off_timeout = c->conf->force_off_timeout };
        PowerResult pr;

        r = virt_power(c->host, c->name, POWER_CYCLE, &opts, &pr, NULL);
        restarted = r == 0;
    }
    virt_machine_unlock(lock);
    if (r < 0)
        api_reply_errno(c, r, action);
    else
        boot_reply(c, action, br, &out, restarted);
    free(out.backup_id);
}

/* once=1 / persistent=1 / restart=1 from the query. */
static int parse_boot_query(Ctx *c, BootRequest *br)
{
    bool once = false, persistent = true, restart = false, once_set, persistent_set;

    if (api_query_bool(c, "once", &once, &once_set) < 0 ||
        api_query_bool(c, "persistent", &persistent, &persistent_set) < 0 ||
        api_query_bool(c, "restart", &restart, NULL) < 0)
        return -EINVAL;
    if (once_set && persistent_set && once == persistent) {
        api_reply_error(c, 400, "once and persistent contradict each other: give one");
        return -EINVAL;
    }
    br->once = once_set ? once : !persistent;
    br->restart = restart;
    return 0;
}

bool api_boot_action(Ctx *c, const char *action)
{
    BootRequest br = { .target = target_from_action(action) };

    if (br.target == _TARGET_INVALID)
        return false;
    if (parse_boot_query(c, &br) < 0)
        return true;
    if (br.target == TARGET_DEFAULT && br.once) {
        api_reply_error(c, 400, "defaultboot is always persistent");
        return true;
    }
    boot_run(c, action, &br);
    return true;
}

void api_boot_put(Ctx *c)
{
    const Json *body = c->body;
    static const char *const keys[] = { "first", "persistent", "once", "restart", NULL };
    BootRequest br = { 0 };
    const char *first = NULL;
    bool persistent = true, once = false, restart = false;
    int r, rp, ro;

    c->req->log_action = "boot";
    if (!body) {
        api_reply_error(c, 400, "a JSON body {\"first\": \"network\"} is required");
        return;
    }
    if (json_check_keys(body, keys) < 0) {
        api_reply_error(c, 400, "%s", error_get());
        return;
    }
    r = json_get_str(body, "first", &first);
    if (r == -ENOENT) {
        api_reply_error(c, 400, "'first' is required");
        return;
    }
    if (r < 0) {
        api_reply_error(c, 400, "%s", error_get());
        return;
    }
    br.target = target_from_first(first);
    if (br.target == _TARGET_INVALID) {
        api_reply_error(c, 400, "unknown boot device '%s': expected network, disk, cdrom or "
                        "default", first);
        return;
    }
    rp = json_get_bool(body, "persistent", &persistent);
    ro = json_get_bool(body, "once", &once);
    if ((rp < 0 && rp != -ENOENT) || (ro < 0 && ro != -ENOENT) ||
        ((r = json_get_bool(body, "restart", &restart)) < 0 && r != -ENOENT)) {
        api_reply_error(c, 400, "%s", error_get());
        return;
    }
    if (rp == 0 && ro == 0 && once == persistent) {
        api_reply_error(c, 400, "once and persistent contradict each other: give one");
        return;
    }
    br.once = ro == 0 ? once : (rp == 0 ? !persistent : false);
    br.restart = restart;
    if (br.target == TARGET_DEFAULT && br.once) {
        api_reply_error(c, 400, "defaultboot is always persistent");
        return;
    }
    boot_run(c, targets[br.target].action, &br);
}

void api_boot_get(Ctx *c)
{
    boot_get(c);
}

/* ---- backups ---- */

void api_backups_list(Ctx *c)
{
    _cleanup_free_ BackupEntry *list = NULL;
    size_t n = 0;
    Json *a;
    int r;

    r = backup_list(c->conf->backup_dir, c->name, &list, &n);
    if (r < 0) {
        api_reply_errno(c, r, "list backups");
        return;
    }
    a = json_arr();
    for (size_t i = 0; i < n; i++) {
        Json *e = json_obj();

        json_set_str(e, "id", list[i].id);
        json_set_str(e, "reason", list[i].reason);
        json_set_int(e, "size", (long long)list[i].size);
        json_push(a, e);
    }
    api_reply_json(c, 200, a);
}

void api_backup_get(Ctx *c)
{
    const char *id = route_param(&c->m, "id");
    char *xml = NULL;
    int r;

    if (!backup_id_valid(id)) {
        api_reply_error(c, 404, "no backup '%s' of machine '%s'", id, c->name);
        return;
    }
    r = backup_read(c->conf->backup_dir, c->name, id, &xml);
    if (r == -ENOENT) {
        api_reply_error(c, 404, "no backup '%s' of machine '%s'", id, c->name);
        return;
    }
    if (r < 0) {
        api_reply_errno(c, r, "read the backup");
        return;
    }
    reply_set(c->rep, 200, "application/xml", xml, strlen(xml));
}

void api_backup_restore(Ctx *c)
{
    const char *id = route_param(&c->m, "id");
    _cleanup_free_ char *saved = NULL, *current = NULL, *new_id = NULL;
    MachineLock *lock;
    Json *o;
    int r;

    c->req->log_action = "restore";
    if (!backup_id_valid(id) ||
        backup_read(c->conf->backup_dir, c->name, id, &saved) == -ENOENT) {
        api_reply_error(c, 404, "no backup '%s' of machine '%s'", id, c->name);
        return;
    }
    if (!saved) {
        api_reply_error(c, 500, "cannot read backup '%s'", id);
        return;
    }
    lock = virt_machine_lock(c->host, c->name);
    if (!lock) {
        api_reply_error(c, 500, "out of memory");
        return;
    }
    r = virt_machine_xml(c->host, c->name, true, &current);
    if (r == 0)
        r = backup_and_define(c->conf, c->host, c->name, "restore", current, saved, &new_id);
    virt_machine_unlock(lock);
    if (r < 0) {
        api_reply_errno(c, r, "restore");
        return;
    }
    o = json_obj();
    json_set_str(o, "name", c->name);
    json_set_str(o, "action", "restore");
    json_set_str(o, "result", "done");
    json_set_str(o, "restored", id);
    json_set_str(o, "backup", new_id);
    api_reply_json(c, 200, o);
}

/* ---- one-time orders ---- */

/* The machine started: if its order was one-time, put the previous one back
 * in the persistent definition.  The running QEMU keeps the one-time order
 * for this boot, like a BMC's next-boot override. */
static void on_machine_start(Host *h, const char *name)
{
    _cleanup_free_ char *xml = NULL, *prev = NULL, *restored = NULL, *clean = NULL;
    _cleanup_(boot_info_freep) BootInfo *bi = NULL;
    ConfHolder *holder = NULL;
    const Conf *conf;
    MachineLock *lock;
    int r;

    /* Cheap test first, without the lock: most starts have nothing to undo. */
    if (virt_machine_xml(h, name, true, &xml) < 0 || bootxml_parse(xml, &bi) < 0 ||
        !bi->once_restore)
        return;
    lock = virt_machine_lock(h, name);
    if (!lock)
        return;
    free(steal_ptr(&xml));
    boot_info_free(steal_ptr(&bi));
    /* Re-read under the lock: a change may have raced us. */
    r = virt_machine_xml(h, name, true, &xml);
    if (r == 0)
        r = bootxml_parse(xml, &bi);
    if (r == 0 && bi->once_restore && (conf = api_conf_acquire(&holder))) {
        r = backup_read(conf->backup_dir, name, bi->once_restore, &prev);
        if (r == 0)
            r = bootxml_apply_order(xml, prev, &restored);
        if (r == 0)
            r = bootxml_set_once(restored, NULL, &clean);
        if (r == 0)
            r = backup_and_define(conf, h, name, "once-restore", xml, clean, NULL);
        if (r < 0)
            log_error("Failed to restore the boot order of '%s' after its one-time boot: %s",
                      name, error_get() ? error_get() : strerror(-r));
        api_conf_release(holder);
    }
    virt_machine_unlock(lock);
}

void api_boot_init(void)
{
    virt_set_start_hook(on_machine_start);
}
