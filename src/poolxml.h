/* poolxml.h: the XML and the state machine of pool clones (API.md section
 * 5): which disks of a template are cloned, the clone's definition made from
 * the template's, the pool part of virtmcd's metadata element, and what the
 * pool manager does next with a clone.
 *
 * Pure: no libvirt calls, no I/O, no logging; any thread.  Parsing as
 * xmlutil does (no network, no entities, no DTD). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "domxml.h"

/* "pending", "ready", "running", "completed" (API.md section 5). */
typedef enum PoolState {
    POOL_STATE_PENDING,
    POOL_STATE_READY,
    POOL_STATE_RUNNING,
    POOL_STATE_COMPLETED,
    _POOL_STATE_MAX,
    _POOL_STATE_INVALID = -1,
} PoolState;

const char *pool_state_to_string(PoolState s);
PoolState pool_state_from_string(const char *s);

/* What the pool manager does with a clone at a pass. */
typedef enum PoolAction {
    POOL_ACTION_KEEP,     /* nothing now */
    POOL_ACTION_START,    /* pending and not running: start it */
    POOL_ACTION_CHECK,    /* pending and running: run the ready check */
    POOL_ACTION_RECYCLE,  /* stale (pending past timeout, ready past ready_ttl or stopped) */
    POOL_ACTION_EXPIRE,   /* checked out and its lease ended */
    POOL_ACTION_DELETE,   /* completed: destroy, delete its volumes, undefine */
    POOL_ACTION_IGNORE,   /* a state virtmcd does not know: left alone */
    _POOL_ACTION_MAX,
    _POOL_ACTION_INVALID = -1,
} PoolAction;

const char *pool_action_to_string(PoolAction a);

typedef struct PoolClone {
    PoolState state;      /* _POOL_STATE_INVALID for an unknown word */
    bool active;          /* the domain runs (or is paused ...) */
    long long since;      /* Unix seconds it entered its state */
    long long expires;    /* running: the lease's end; 0 none */
} PoolClone;

/* The next action for clone c at Unix time now, with the pool's timeout and
 * ready_ttl (minutes).  Pure. */
PoolAction pool_next_action(const PoolClone *c, long long now, unsigned timeout_min,
                            unsigned ready_ttl_min);
/* Whether a clone that gets action a counts toward the pool's size (it is
 * or will be ready for checkout). */
bool pool_action_counts(const PoolClone *c, PoolAction a);

/* One disk of a template that a clone gets a volume of its own for: a
 * writable disk (device "disk", neither <readonly/> nor <shareable/>) with a
 * source.  CD-ROMs and read-only or shared disks are shared with the clone. */
typedef struct PoolDisk {
    char *target;   /* "vda" */
    char *type;     /* "file", "block" or "volume" */
    char *source;   /* file: and block: the path; volume: the volume's name */
    char *vol_pool; /* volume: the storage pool's name; else NULL */
    char *format;   /* <driver type=>, or NULL */
} PoolDisk;

void pool_disks_free(PoolDisk *d, size_t n);

/* The disks of template_xml to clone, in document order.  A writable disk
 * of another type (network, dir, nvme) cannot be a storage volume: -EINVAL
 * with error_setf() naming its target.  -EINVAL also on bad XML. */
int poolxml_template_disks(const char *template_xml, PoolDisk **ret, size_t *ret_n);

typedef struct PoolCloneSpec {
    const char *name;
    /* Per disk of poolxml_template_disks, in its order: the new path (file,
     * block) or the new volume's name (volume). */
    const char *const *sources;
    size_t n_sources;
    const char *format;  /* the new disks' <driver type=> ("qcow2"); NULL keeps it */
    const DomPool *meta; /* the clone's pool metadata */
} PoolCloneSpec;

/* The clone's definition: template_xml (inactive) with spec->name, without
 * <uuid> and without the interfaces' <mac> (libvirt assigns both), each
 * cloned disk on its new source (its <backingStore> dropped: libvirt reads
 * the new image's own), and virtmcd's metadata replaced by the pool's
 * (the template's owner, tags and boot markers are its own, not the
 * clone's).  Every other element, other namespaces' metadata included,
 * stays.  -EINVAL when the disks do not match spec->n_sources. */
int poolxml_clone(const char *template_xml, const PoolCloneSpec *spec, char **ret_xml);

/* instance_xml (virtmcd's metadata element as virDomainGetMetadata returns
 * it, NULL for none) with its <pool> and <volume> elements replaced by
 * meta's, every other child kept: unprefixed, as virDomainSetMetadata
 * wants it.  -EINVAL on bad XML. */
int poolxml_meta_apply(const char *instance_xml, const DomPool *meta, char **ret_xml);

/* The <target><format type=> of a storage volume's XML, or NULL (also on
 * bad XML): what a linked clone names as its backing file's format. */
char *poolxml_volume_format(const char *volume_xml);

/* The XML of a clone's new volume: name, capacity in bytes and, for a
 * linked clone (backing_path set), a qcow2 overlay backed by backing_path in
 * its format (NULL: libvirt probes it); for a full copy, format (may be
 * NULL).  NULL on out of memory. */
char *poolxml_volume_xml(const char *name, unsigned long long capacity,
                         const char *backing_path, const char *format);

/* The <backingStore><path> of a storage volume's XML, or NULL (none, bad
 * XML, out of memory): a volume that backs another is in use. */
char *poolxml_volume_backing(const char *volume_xml);

/* Whether volume_name is named as the pool manager names a clone's volume
 * of pool `pool` with clone-name prefix `prefix` (NULL: none):
 * "<prefix><pool>-<6 lower-case hex digits>-<target>.<qcow2|img>", the
 * target one word of letters, digits and '_' (no '-', no '.').  Then
 * *ret_clone (may be NULL) is the clone's name, "<prefix><pool>-<hex>".
 * -ENOMEM; else 1 when it matches, 0 when it does not. */
int poolxml_clone_volume_match(const char *volume_name, const char *prefix, const char *pool,
                               char **ret_clone);
