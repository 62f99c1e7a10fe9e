/* ops-private.h: what the ops-*.c files share, and nobody else. */
#pragma once

#include "ops.h"

/* Take m's lock for operation `op` with the caller's bounds ([power]
 * lock_timeout, lock_queue): -ETIMEDOUT or -EAGAIN (503) naming the
 * operation that holds it. */
int ops_lock(const Conf *conf, const Machine *m, const char *op, MachineLock **ret);

/* Run pre (NULL: none) for m, whose lock the caller holds: 0, or the
 * check's -errno (-ESTALE: it does not hold) with error_get() saying why. */
int ops_precondition(const OpsPrecondition *pre, const Machine *m);

/* A change's start: take m's lock for op (ops_lock), check pre under it,
 * and read m afresh from libvirt into *now, the state the change really
 * meets.  *ret is NULL when the lock was not taken (the -errno of
 * ops_lock); else the caller holds it whatever is returned. */
int ops_lock_fresh(const Conf *conf, const Machine *m, const char *op,
                   const OpsPrecondition *pre, MachineLock **ret, Machine *now);

/* Refuse with -EACCES (403) unless the caller has at least `needed`. */
int ops_require(const OpsCaller *who, Role needed, const char *what);

/* The same for a change of m: a machine checked out by another user is
 * read-only for everyone but its owner and the admins (ops_lease_role). */
int ops_require_machine(const OpsCaller *who, const Machine *m, Role needed, const char *what);

/* The caller for the audit log: "alice" or "anonymous". */
const char *ops_who(const OpsCaller *who);

/* Save old_xml as a backup of m (keyed by its UUID): no backup, no change
 * (-EIO with the reason in error_get()). */
int ops_save_backup(const Conf *conf, const Machine *m, const char *reason, const char *old_xml,
                    char **ret_id);

/* The same for m's persistent definition as libvirt has it now (read with
 * the secure flag): the backup before a change that is not a define (a
 * metadata write). */
int ops_backup_current(const Conf *conf, const Machine *m, const char *reason, char **ret_id);
/* Define new_xml now that backup `id` holds what it replaces. */
int ops_define_backed_up(const Machine *m, const char *reason, const char *id,
                         const char *new_xml, Machine *ret);
/* Both in turn.  Caller holds m's lock. */
int ops_backup_and_define(const Conf *conf, const Machine *m, const char *reason,
                          const char *old_xml, const char *new_xml, char **ret_id,
                          Machine *ret);

/* The start guards of ops-guard.c (an OpsStartGuard; ops_init registers it). */
int ops_guard_start(const OpsCaller *who, const Machine *m, void *userdata);

/* ops_boot_set in three parts, for the operations that change the order
 * within their own transaction (a firmware switch, an eject): the checks
 * before the lock (rights, a valid request), the change with m's lock held
 * (now: m as libvirt had it once the lock was taken; the definition, then
 * the restart or the running QEMU's order; res->machine the state after),
 * and the log and metrics after the lock. */
int ops_boot_set_prepare(const OpsCaller *who, const Machine *m, const OpsBootRequest *req);
int ops_boot_set_locked(const OpsCaller *who, const Machine *m, const OpsBootRequest *req,
                        const Machine *now, OpsBootResult *res);
void ops_boot_set_done(const OpsCaller *who, const Machine *m, const OpsBootRequest *req,
                       const OpsBootResult *res);

/* Whether m's persistent boot order differs from the running QEMU's. */
bool ops_boot_pending(const Machine *m);

/* Reset m hard if it has not reset, stopped or started within timeout_s
 * (0: never); ops-power.c calls it after an ACPI reboot request. */
void ops_watch_reboot(const Machine *m, unsigned timeout_s);
/* The escalation itself, run on the ops worker. */
void ops_power_escalate(const Conf *conf, Host *h, const char *name);

/* The observer side of ops-boot.c, run on the ops worker. */
void ops_boot_on_started(const Conf *conf, Host *h, const char *name);
void ops_boot_after_power(const Conf *conf, const Machine *m);
void ops_boot_on_host_up(const Conf *conf, Host *h);
void ops_boot_on_reboot(const Conf *conf, Host *h, const char *name, uint64_t at);

/* The configuration for work outside a request (ops_init's source): NULL
 * when there is none; release what acquire returned. */
const Conf *ops_conf_acquire(void **ret_ref);
void ops_conf_release(void *ref);
