/* api-boot.c: the /service boot order, backups and restore (API.md
 * section 2): decode the request, call the operations layer, encode.
 *
 * Every change (lock, backup, define, one-time marker) happens in ops; this
 * file never calls a changing virt_* function and never writes XML. */
#include "config.h"

#include <stdio.h>

#include "api.h"
#include "log.h"
#include "ops.h"
#include "util.h"

/* ---- reading ---- */

Json *api_boot_json(const OpsBootState *st)
{
    const BootInfo *bi = st->info;
    Json *o = json_obj(), *order = json_arr();
    BootClass first;

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
    json_set_bool(o, "pending", st->pending);
    json_set_str(o, "mode", bi->uefi ? "uefi" : "legacy");
    return o;
}

void api_boot_get(Ctx *c)
{
    OpsCaller who = api_caller(c);
    OpsBootState st = { 0 };
    Json *o;
    int r;

    r = ops_boot_get(&who, &c->machine, &st);
    if (r < 0) {
        api_reply_errno(c, r, "read the boot order");
        return;
    }
    o = api_boot_json(&st);
    ops_boot_state_clear(&st);
    json_set_str(o, "name", c->name);
    api_reply_json(c, 200, o);
}

/* ---- changing ---- */

static void boot_run(Ctx *c, const OpsBootRequest *br)
{
    OpsCaller who = api_caller(c);
    OpsBootResult res = { 0 };
    Json *o;
    int r;

    r = ops_boot_set(&who, &c->machine, br, &res);
    if (r < 0) {
        api_reply_errno(c, r, boot_target_action_to_string(br->target));
        return;
    }
    o = json_obj();
    json_set_str(o, "name", c->name);
    json_set_str(o, "action", boot_target_action_to_string(br->target));
    json_set_str(o, "result", res.changed || res.restarted ? "done" : "unchanged");
    /* The state after, as libvirt said it: never a table row that still
     * waits for an event. */
    json_set_str(o, "state", machine_state_to_string(res.machine.state));
    json_set_str(o, "first", boot_target_first_to_string(br->target));
    json_set_bool(o, "persistent", !br->once);
    json_set_bool(o, "once", br->once);
    json_set_str(o, "applies", boot_applies_to_string(res.applies));
    json_set_str(o, "backup", res.backup_id);
    ops_boot_result_clear(&res);
    api_reply_json(c, 200, o);
}

/* once=1 / persistent=1 / restart=1 from the query. */
static int parse_boot_query(Ctx *c, OpsBootRequest *br)
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
    OpsBootRequest br = { .target = boot_target_action_from_string(action) };

    if (br.target == _BOOT_TARGET_INVALID)
        return false;
    if (parse_boot_query(c, &br) < 0)
        return true;
    boot_run(c, &br);
    return true;
}

void api_boot_put(Ctx *c)
{
    const Json *body = c->body;
    static const char *const keys[] = { "first", "persistent", "once", "restart", NULL };
    OpsBootRequest br = { 0 };
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
    br.target = boot_target_first_from_string(first);
    if (br.target == _BOOT_TARGET_INVALID) {
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
    boot_run(c, &br);
}

/* ---- backups ---- */

void api_backups_list(Ctx *c)
{
    OpsCaller who = api_caller(c);
    _cleanup_free_ BackupEntry *list = NULL;
    size_t n = 0;
    Json *a;
    int r;

    r = ops_backups_list(&who, &c->machine, &list, &n);
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
    OpsCaller who = api_caller(c);
    const char *id = route_param(&c->m, "id");
    char *xml = NULL;
    int r;

    if (!backup_id_valid(id)) {
        api_reply_error(c, 404, "no backup '%s' of machine '%s'", id, c->name);
        return;
    }
    r = ops_backup_read(&who, &c->machine, id, &xml);
    if (r < 0) {
        api_reply_errno(c, r, "read the backup");
        return;
    }
    reply_set(c->rep, 200, "application/xml", xml, strlen(xml));
    (void)reply_add_header(c->rep, "Cache-Control", "no-store");
}

void api_backup_restore(Ctx *c)
{
    OpsCaller who = api_caller(c);
    const char *id = route_param(&c->m, "id");
    OpsRestoreResult res = { 0 };
    Json *o;
    int r;

    c->req->log_action = "restore";
    if (!backup_id_valid(id)) {
        api_reply_error(c, 404, "no backup '%s' of machine '%s'", id, c->name);
        return;
    }
    r = ops_backup_restore(&who, &c->machine, id, &res);
    if (r < 0) {
        api_reply_errno(c, r, "restore");
        return;
    }
    o = json_obj();
    json_set_str(o, "name", c->name);
    json_set_str(o, "action", "restore");
    json_set_str(o, "result", "done");
    json_set_str(o, "restored", id);
    json_set_str(o, "backup", res.backup_id);
    json_set_str(o, "applies", boot_applies_to_string(res.applies));
    free(res.backup_id);
    api_reply_json(c, 200, o);
}
