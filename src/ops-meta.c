/* ops-meta.c: owner, description and tags (API.md section 3), kept in
 * libvirt itself: virtmcd's metadata element of the persistent definition
 * and, while the machine runs, of the live one.  A change is a definition
 * change: the machine's lock, a backup first, then the write. */
#include "config.h"

#include "log.h"
#include "ops-private.h"
#include "util.h"

void ops_meta_result_clear(OpsMetaResult *r)
{
    meta_info_clear(&r->info);
    free(r->backup_id);
    *r = (OpsMetaResult){ 0 };
}

static int info_copy(const Machine *m, const DomInfo *info, void *userdata)
{
    MetaInfo *ret = userdata;

    if (!info)
        return 0;
    if (info->owner && !(ret->owner = strdup(info->owner)))
        return -ENOMEM;
    if (info->description && !(ret->description = strdup(info->description)))
        return -ENOMEM;
    ret->tags = calloc(info->n_tags + 1, sizeof(*ret->tags));
    if (!ret->tags)
        return -ENOMEM;
    for (size_t i = 0; i < info->n_tags; i++) {
        MetaTagChange *t = &ret->tags[ret->n_tags];

        t->key = strdup(info->tags[i].key);
        t->value = strdup(info->tags[i].value ? info->tags[i].value : "");
        ret->n_tags++;
        if (!t->key || !t->value)
            return -ENOMEM;
    }
    return 0;
}

int ops_metadata_get(const OpsCaller *who, const Machine *m, MetaInfo *ret)
{
    MetaInfo info = { 0 };
    int r;

    (void)who;
    r = virt_machine_with(m->host, m->name, info_copy, &info);
    if (r < 0) {
        meta_info_clear(&info);
        return r;
    }
    *ret = info;
    return 0;
}

/* The patch merged into virtmcd's element of the persistent (live false) or
 * the live definition: *ret_before and *ret_after as metaxml_apply writes
 * them (equal when the patch changes nothing there), ret_info the result. */
static int merged(const Machine *m, bool live, const MetaPatch *p, char **ret_before,
                  char **ret_after, MetaInfo *ret_info)
{
    static const MetaPatch nothing = { 0 };
    _cleanup_free_ char *cur = NULL, *before = NULL, *after = NULL;
    int r = virt_machine_metadata((Host *)m->host, m->name, live, &cur);

    if (r == -ENODATA)
        r = 0;
    if (r == 0)
        r = metaxml_apply(cur, &nothing, &before, NULL);
    if (r == 0)
        r = metaxml_apply(cur, p, &after, ret_info);
    if (r < 0)
        return r;
    *ret_before = steal_ptr(&before);
    *ret_after = steal_ptr(&after);
    return 0;
}

int ops_metadata_set(const OpsCaller *who, const Machine *m, const MetaPatch *p,
                     OpsMetaResult *ret)
{
    _cleanup_free_ char *before = NULL, *after = NULL;
    _cleanup_free_ char *live_before = NULL, *live_after = NULL;
    _cleanup_(meta_info_clear) MetaInfo live_info = { 0 };
    _cleanup_(ops_meta_result_clear) OpsMetaResult res = { 0 };
    MachineLock *lock = NULL;
    bool persistent_changes, live_changes = false, live_known = false;
    Machine now;
    int r;

    r = ops_require_machine(who, m, ROLE_OPERATOR, "changing metadata");
    if (r < 0)
        return r;
    r = meta_patch_check(p);
    if (r < 0)
        return r;
    r = ops_lock(who->conf, m, "metadata", &lock);
    if (r < 0)
        return r;
    r = virt_machine_refresh((Host *)m->host, m->name, &now);
    if (r < 0)
        goto out;
    if (!now.persistent) {
        error_setf("'%s' is transient: its metadata would vanish when it stops; define it first",
                   m->name);
        r = -EBUSY;
        goto out;
    }
    r = merged(m, false, p, &before, &after, &res.info);
    if (r < 0)
        goto out;
    persistent_changes = !streq(before, after);
    /* A running machine's live definition is the one GET and the list
     * show, and it may differ from the persistent one (virsh metadata
     * --live): the patch is merged into each, and written where it changes
     * something.  The live element also holds the order handed to the
     * running QEMU, which the merge keeps. */
    if (machine_state_is_active(now.state)) {
        if (merged(m, true, p, &live_before, &live_after, &live_info) == 0) {
            live_known = true;
            live_changes = !streq(live_before, live_after);
        } else
            log_warning("Cannot merge the change into the live metadata of '%s': %s", m->name,
                        error_get() ? error_get() : "");
    }
    if (!persistent_changes && !live_changes)
        goto answer;
    /* No backup, no change. */
    r = ops_backup_current(who->conf, m, "metadata", &res.backup_id);
    if (r == 0 && persistent_changes)
        r = virt_machine_set_metadata((Host *)m->host, m->name, false, after);
    if (r < 0)
        goto out;
    res.changed = true;
    /* The persistent definition is written: a failure here is logged, not
     * returned. */
    if (live_changes &&
        (r = virt_machine_set_metadata((Host *)m->host, m->name, true, live_after)) < 0) {
        log_warning("Metadata of '%s' changed in its definition but not in the running "
                    "machine: %s", m->name, error_get() ? error_get() : strerror(-r));
        live_known = false;
        r = 0;
    }
    (void)virt_machine_refresh((Host *)m->host, m->name, NULL);
    log_info("Metadata of '%s' changed by %s; previous definition saved as %s", m->name,
             ops_who(who), res.backup_id);
answer:
    /* The answer is what GET gives from now on: the running definition's. */
    if (live_known) {
        meta_info_clear(&res.info);
        res.info = live_info;
        live_info = (MetaInfo){ 0 };
    }
out:
    virt_machine_unlock(lock);
    if (r < 0)
        return r;
    *ret = res;
    res = (OpsMetaResult){ 0 };
    return 0;
}
