/* ops.h: the operations layer: every change to a machine, once, for every
 * front end.
 *
 * /service (api*.c), and later Redfish, the pools' reaper and the
 * Mr-Provisioner paths, decode a request, call one function here and encode
 * its result.  Each operation takes the machine, its options and who asks,
 * and does the whole transaction: the caller's rights for the policy parts
 * (force, restore), the machine's lock (bounded), the start guards, the
 * backup before any define ("no backup, no change"), the one-time marker,
 * and the state after, read from libvirt rather than from the event-fed
 * table.  It returns a result struct, or -errno with error_get() saying
 * why.  No front end calls a changing virt_* function itself.
 *
 * ops also owns the work that follows libvirt's events: it observes virt
 * and runs the slow part (restoring an order after a one-time boot,
 * reconciling after an outage, moving old backup folders) on its own
 * worker thread, never on virt's event thread.
 *
 * Never includes libmicrohttpd, libvirt or json-c: it speaks in virt, bootxml
 * and backup terms.  Thread-safe: any thread may call any operation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "backup.h"
#include "bootxml.h"
#include "conf.h"
#include "mediaxml.h"
#include "metaxml.h"
#include "poolxml.h"
#include "virt.h"

/* Who asks, with which settings.  conf is borrowed for the call. */
typedef struct OpsCaller {
    const Conf *conf;
    const char *user;   /* NULL or "" when anonymous */
    Role role;
    const char *peer;   /* the client's address, for the audit log; may be NULL */
} OpsCaller;

/* The configuration for work outside a request (events, the worker):
 * acquire returns it with a reference, release drops it. */
typedef const Conf *(*OpsConfAcquire)(void **ret_ref);
typedef void (*OpsConfRelease)(void *ref);

/* Subscribe to virt's events and start the worker.  Call before virt_init(). */
int ops_init(OpsConfAcquire acquire, OpsConfRelease release);
/* Stop the worker, waiting for the job in hand at most timeout_ms; false if
 * it is still stuck (in libvirt): then leave virt's hosts alone. */
bool ops_shutdown(unsigned timeout_ms);

/* ---- preconditions ----
 *
 * A condition a change is made under (Redfish's If-Match): the operation
 * runs it once it holds the machine's lock, before it reads, backs up or
 * changes anything, so that no other change through virtmcd comes between
 * the check and the change.  0 lets the change go on; -ESTALE, with
 * error_get() saying why, refuses it (and -ESTALE comes from nowhere else);
 * any other -errno fails the operation the same way.  Either way nothing
 * has changed.  It runs on the caller's thread; it may read the machine
 * (libvirt, virt's table, its backups) but must not change it nor take a
 * machine lock.  NULL, or a NULL check: no condition. */
typedef int (*OpsCheck)(const Machine *m, void *userdata);
typedef struct OpsPrecondition {
    OpsCheck check;
    void *userdata;
} OpsPrecondition;

/* Find a machine by name (or, failing that, by UUID) on every host or on
 * host_name: see virt_machine_find for the errors (-ENOTUNIQ lists the hosts
 * in ret_hosts). */
int ops_machine_find(const char *name_or_uuid, const char *host_name, Machine *ret,
                     char ***ret_hosts);

/* ---- power ---- */

typedef struct OpsPowerResult {
    PowerResult result;
    Machine machine;    /* the state after, from libvirt */
    bool cold;          /* force_reset restarted QEMU to apply a pending boot change */
} OpsPowerResult;

/* A start guard (the inventory's checks: already running elsewhere, a MAC or
 * disk in use, free memory): 0 lets the start go on, -errno with error_get()
 * refuses it (-EBUSY: 409).  Called with the machine's lock held, for the
 * actions that start it (power_action_starts), unless the caller is an admin
 * who asked for force. */
typedef int (*OpsStartGuard)(const OpsCaller *who, const Machine *m, void *userdata);
int ops_add_start_guard(OpsStartGuard fn, void *userdata);

/* Power action `a` on m.  force (admin only, else -EACCES) skips the start
 * guards and is logged.  force_reset applies a pending boot change by
 * restarting QEMU (cold reset), since a warm reset keeps the old order. */
int ops_power(const OpsCaller *who, const Machine *m, PowerAction a, bool force,
              OpsPowerResult *ret);
/* The same, if pre (may be NULL) holds under m's lock, checked before the
 * start guards; -ESTALE when it does not. */
int ops_power_if(const OpsCaller *who, const Machine *m, PowerAction a, bool force,
                 const OpsPrecondition *pre, OpsPowerResult *ret);

/* ---- boot order ---- */

typedef enum BootTarget {
    BOOT_TARGET_NETWORK,
    BOOT_TARGET_DISK,
    BOOT_TARGET_CDROM,
    BOOT_TARGET_DEFAULT,   /* the order before virtmcd first changed it */
    _BOOT_TARGET_MAX,
    _BOOT_TARGET_INVALID = -1,
} BootTarget;

/* "pxeboot", "diskboot", "cdromboot", "defaultboot" */
const char *boot_target_action_to_string(BootTarget t);
BootTarget boot_target_action_from_string(const char *s);
/* "network", "disk", "cdrom", "default" */
const char *boot_target_first_to_string(BootTarget t);
BootTarget boot_target_first_from_string(const char *s);

typedef struct OpsBootRequest {
    BootTarget target;
    bool once;     /* next start only, then the previous order comes back */
    bool restart;  /* power cycle a running machine to apply it now */
    const OpsPrecondition *pre;   /* NULL: none (see OpsPrecondition) */
} OpsBootRequest;

/* When the firmware uses a boot change (API.md section 2). */
typedef enum BootApplies {
    BOOT_APPLIES_NOW,          /* restart=1 restarted the machine with it */
    BOOT_APPLIES_NEXT_RESET,   /* the running QEMU has it: any reset, or the next start */
    BOOT_APPLIES_NEXT_BOOT,    /* off, or only a cold start applies it */
    _BOOT_APPLIES_MAX,
    _BOOT_APPLIES_INVALID = -1,
} BootApplies;
/* "now", "next_reset", "next_boot" */
const char *boot_applies_to_string(BootApplies a);

typedef struct OpsBootResult {
    bool changed;
    bool restarted;
    BootApplies applies;
    char *backup_id;    /* the backup of what the change replaced; NULL if unchanged */
    Machine machine;    /* the state after, from libvirt */
} OpsBootResult;
void ops_boot_result_clear(OpsBootResult *r);

/* Change the boot order (operator).  -EBUSY for a transient machine,
 * -ENODEV for a class the machine lacks, -EINVAL for defaultboot once,
 * -ESTALE when req->pre does not hold. */
int ops_boot_set(const OpsCaller *who, const Machine *m, const OpsBootRequest *req,
                 OpsBootResult *ret);

typedef struct OpsBootState {
    BootInfo *info;     /* the persistent order */
    bool pending;       /* the running QEMU has another order */
} OpsBootState;
void ops_boot_state_clear(OpsBootState *s);
/* The boot order of the persistent definition, and whether the running QEMU
 * has another (xml_live NULL: not running): the order virtmcd last handed it
 * (<virtmcd:live-boot> in the live metadata) or else the one it started
 * with.  Pure: no libvirt call. */
int ops_boot_describe(const char *xml_inactive, const char *xml_live, OpsBootState *ret);
/* The same, read from libvirt. */
int ops_boot_get(const OpsCaller *who, const Machine *m, OpsBootState *ret);

/* The default order of m (what defaultboot restores): the order of its
 * first backup, the definition before virtmcd first changed it.  -ENOENT
 * when virtmcd never changed it (the order it has is its default).  Reads
 * files only: no libvirt call, no secret leaves (only the order). */
int ops_boot_default(const OpsCaller *who, const Machine *m, BootInfo **ret);

/* ---- firmware ---- */

typedef struct OpsFirmwareRequest {
    bool uefi;
    const OpsBootRequest *order;  /* then this boot order change; NULL: the order stays */
    const OpsPrecondition *pre;   /* NULL: none; order->pre is not used */
} OpsFirmwareRequest;

typedef struct OpsFirmwareResult {
    bool changed;
    char *backup_id;       /* the definition before; NULL if unchanged */
    BootApplies applies;   /* NEXT_BOOT: the firmware is chosen when QEMU starts */
    OpsBootResult order;   /* what req->order did (zero without one) */
} OpsFirmwareResult;
void ops_firmware_result_clear(OpsFirmwareResult *r);

/* Make m boot UEFI firmware (libvirt's autoselection of an EFI firmware,
 * Secure Boot off) or legacy BIOS (operator), backed up first; the boot
 * order stays.  A running machine keeps its firmware until it next starts.
 * -EBUSY for a transient machine; libvirt's refusal of the definition is
 * returned. */
int ops_firmware_set(const OpsCaller *who, const Machine *m, bool uefi, OpsFirmwareResult *ret);
/* The same for req->uefi, then req->order's change as ops_boot_set makes
 * it (with its rights and errors), as one transaction: one lock, req->pre
 * checked once under it (-ESTALE), no other change in between (Redfish's
 * Boot PATCH of mode and target).  When the order change fails, the new
 * firmware stays (it has its backup) and its error is returned. */
int ops_firmware_change(const OpsCaller *who, const Machine *m, const OpsFirmwareRequest *req,
                        OpsFirmwareResult *ret);

/* ---- backups ---- */

/* Newest first; keyed by the machine's UUID. */
int ops_backups_list(const OpsCaller *who, const Machine *m, BackupEntry **ret, size_t *ret_n);
/* The saved XML (admin: it holds secrets).  -ENOENT for an unknown id. */
int ops_backup_read(const OpsCaller *who, const Machine *m, const char *id, char **ret_xml);

typedef struct OpsRestoreResult {
    char *backup_id;    /* the backup of the definition the restore replaced */
    BootApplies applies;   /* when the restored order is used (never NOW) */
    Machine machine;
} OpsRestoreResult;
/* Redefine m from backup id (admin), saving the current definition first. */
int ops_backup_restore(const OpsCaller *who, const Machine *m, const char *id,
                       OpsRestoreResult *ret);

/* ---- metadata (owner, description, tags) ---- */

/* What the machine's definition in use says, from virt's table (no libvirt
 * call).  -ENOENT when the table lacks it. */
int ops_metadata_get(const OpsCaller *who, const Machine *m, MetaInfo *ret);

typedef struct OpsMetaResult {
    MetaInfo info;      /* the stored result */
    bool changed;
    char *backup_id;    /* the definition before; NULL if unchanged */
} OpsMetaResult;
void ops_meta_result_clear(OpsMetaResult *r);

/* Merge p into m's metadata (operator; the caller checked the machine ACL):
 * persistent definition, backed up first, then the live one when it runs.
 * -EINVAL for a value out of limits, -EBUSY for a transient machine. */
int ops_metadata_set(const OpsCaller *who, const Machine *m, const MetaPatch *p,
                     OpsMetaResult *ret);

/* ---- virtual media ---- */

/* The CD drive of m's persistent definition and what it holds. */
int ops_media_get(const OpsCaller *who, const Machine *m, MediaState *ret);

typedef struct OpsMediaResult {
    MediaState media;   /* the drive after */
    bool changed;
    char *backup_id;    /* the definition before; NULL if unchanged */
    BootApplies applies;   /* NOW: the running QEMU has it; NEXT_BOOT: the next start */
    bool boot_to_disk;     /* an eject moved a CD-first boot order to the disk */
    char *boot_backup_id;  /* the backup of that boot change; NULL if none */
} OpsMediaResult;
void ops_media_result_clear(OpsMediaResult *r);

/* Insert the http(s) image url into m's CD drive (operator), or eject it
 * (url NULL); a drive is added when m has none.  -EINVAL for a bad URL,
 * -EBUSY for a transient machine; the running QEMU's refusal (an image it
 * cannot open) changes nothing and is returned.  An eject from a machine
 * that boots its CD first (once or not) then makes its disk first, the same
 * way (ops_boot_set, a second backup) under the same lock: no order points
 * at an empty drive. */
int ops_media_set(const OpsCaller *who, const Machine *m, const char *url, OpsMediaResult *ret);
/* The same, if pre (may be NULL) holds under m's lock (-ESTALE). */
int ops_media_set_if(const OpsCaller *who, const Machine *m, const char *url,
                     const OpsPrecondition *pre, OpsMediaResult *ret);

/* ---- one-time orders ---- */

/* Undo m's one-time order if it has booted since it was armed (the worker
 * calls it after a start event and, for every armed machine, after every
 * (re)connect); reset_at (realtime microseconds, 0: none): m's QEMU reset
 * then (a reboot event), using the order the running QEMU had.  A running
 * machine gets the restored order live too.  0 nothing to do or kept (still
 * to be used), 1 restored. */
int ops_boot_reconcile(const Conf *conf, const Machine *m, uint64_t reset_at);
/* Wait until the worker has nothing queued or in hand (tests). */
void ops_drain(void);

/* ---- pools (ops-pool.c, API.md section 5) ----
 *
 * The pool state is libvirt's: each clone's virtmcd metadata (<pool>,
 * <volume>, <owner>), which virt's table carries (DomInfo.pool).  The pool
 * manager, a thread of its own, keeps every configured pool at `size`
 * pending + ready clones, checks readiness, recycles stale clones, ends
 * expired leases and deletes completed clones, at least every
 * POOL_TICK_SECONDS and when woken (a checkout, a return, a host up).
 *
 * Lock order: pool locks (taken in the order of the pools' names, one per
 * pool, held only across metadata writes, never across a clone or a
 * delete) come before machine locks (virt.h). */

#define POOL_TICK_SECONDS 5
/* Most machines one checkout may take. */
#define POOL_CHECKOUT_MAX 100

/* Start the pool manager (after virt_init, with ops_init's configuration
 * source); stop it, waiting for the job in hand at most timeout_ms: false
 * if it is stuck in libvirt. */
int ops_pools_start(void);
/* Tell the manager to stop after the step in hand (no wait): at the start
 * of a shutdown, so that it starts no clone while requests finish. */
void ops_pools_stop_begin(void);
bool ops_pools_stop(unsigned timeout_ms);
/* Run a pass soon (a checkout, a return, tests). */
void ops_pools_wake(void);

typedef struct OpsPoolMember {
    char name[256];
    char uuid[37];
    PoolState state;
    long long since;   /* Unix seconds it entered its state */
    char *owner;       /* running: who checked it out */
    long long expires; /* running: when the lease ends */
    MachineState machine_state;
} OpsPoolMember;

typedef struct OpsPoolStatus {
    char *name;
    char *template_name;   /* NULL for orphans */
    char *host;            /* NULL when the host is unknown */
    bool orphan;           /* clones of a pool no longer configured */
    unsigned size;
    unsigned pending, ready, running, completed;
    char *error;           /* the last failure to clone (a configuration error), or NULL */
    OpsPoolMember *members;   /* sorted by name */
    size_t n_members;
} OpsPoolStatus;

void ops_pool_status_clear(OpsPoolStatus *p);
void ops_pools_status_free(OpsPoolStatus *p, size_t n);
/* Every configured pool (in the configuration's order), then one entry per
 * pool name whose clones exist but which is no longer configured (orphans,
 * left alone).  From virt's table: no libvirt call. */
int ops_pools_status(const Conf *conf, OpsPoolStatus **ret, size_t *ret_n);
/* One pool by name (configured or orphan); -ENOENT. */
int ops_pool_status(const Conf *conf, const char *name, OpsPoolStatus *ret);

typedef struct OpsPoolRequest {
    const char *pool;
    unsigned count;
} OpsPoolRequest;

typedef struct OpsLease {
    Machine machine;
    char pool[256];
    char owner[256];
    PoolState state;
    long long checkout;  /* Unix seconds */
    unsigned lifetime;   /* hours since checkout */
    long long expires;
} OpsLease;

/* Check out req[i].count ready machines of each pool, all or nothing
 * (operator): the caller becomes their owner for lifetime hours (0: each
 * pool's default; capped by its max_lifetime), tags (may be NULL) are set
 * on them.  The metadata write is the commit point; a pool lock makes one
 * ready machine go to one caller only.  -ENOENT unknown pool (named),
 * -EINVAL bad count, -EAGAIN (503) when a pool has too few ready machines:
 * nothing is taken and *ret_empty (may be NULL) lists those pools. */
int ops_pool_checkout(const OpsCaller *who, const OpsPoolRequest *req, size_t n,
                      unsigned lifetime, const MetaPatch *tags, OpsLease **ret, size_t *ret_n,
                      char ***ret_empty);

/* The lease of m (its owner or an admin, else -EACCES); -ENOENT when m is
 * not a checked-out pool machine. */
int ops_lease_get(const OpsCaller *who, const Machine *m, OpsLease *ret);
/* Set the lease to lifetime hours since checkout (capped by the pool's
 * max_lifetime): owner or admin. */
int ops_lease_set(const OpsCaller *who, const Machine *m, unsigned lifetime, OpsLease *ret);
/* Return m (owner or admin): marked completed now; the manager destroys
 * it, deletes its volumes, undefines it and refills the pool. */
int ops_lease_return(const OpsCaller *who, const Machine *m);

/* The role `user` has on m, given the role its configuration gives it: the
 * owner of m's unexpired lease is at least an operator on it, even outside
 * its machine globs; anyone else but an admin is read-only on a leased
 * machine (API.md section 5).  From virt's table: no libvirt call. */
Role ops_lease_role(const Machine *m, const char *user, Role role);
/* Whether user owns m's unexpired lease (m is then visible to it). */
bool ops_lease_owned(const Machine *m, const char *user);
