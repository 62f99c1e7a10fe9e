/* virt.h: the libvirt hosts: connections, events, the machine table, power.
 *
 * virt*.c are the only <libvirt/libvirt.h> users.  Each host has one
 * connection, opened and re-opened with backoff by its own monitor thread;
 * libvirt's event loop runs in one thread of its own; domain lifecycle
 * events keep an in-memory machine table per host, so lists and status are
 * answered without a libvirt round trip.
 *
 * Threads: every function here may be called from any thread.  A host's
 * table and connection are guarded by the host's lock (never held across a
 * libvirt call).
 *
 * Lock order (take them in this order; never take an earlier one while
 * holding a later one):
 *   1. a MachineLock (virt_machine_lock): at most one per thread, held
 *      across libvirt calls for the length of one operation; waited for at
 *      most a bounded time, with a bounded queue;
 *   2. the lock registry (virt.c locks_lock): only inside lock/unlock;
 *   3. a host's table lock (Host.lock, a rwlock): never across a libvirt call;
 *   4. the event queue lock (ev_lock), the monitor's mon_lock: leaves.
 * Observers run on the event thread with none of these held.  Errors are -errno: -ENOENT no such machine, -EBUSY the
 * machine's state forbids it, -EINVAL bad XML or argument, -ENOTCONN host
 * unreachable, -EOPNOTSUPP the driver cannot, -EACCES denied, -EIO other;
 * libvirt's own words are left in error_get(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "domxml.h"

typedef struct Host Host;

/* virsh's vocabulary (API.md section 0). */
typedef enum MachineState {
    MACHINE_NOSTATE,
    MACHINE_RUNNING,
    MACHINE_IDLE,        /* libvirt "blocked" */
    MACHINE_PAUSED,
    MACHINE_IN_SHUTDOWN,
    MACHINE_SHUT_OFF,
    MACHINE_CRASHED,
    MACHINE_PMSUSPENDED,
    _MACHINE_STATE_MAX,
    _MACHINE_STATE_INVALID = -1,
} MachineState;

const char *machine_state_to_string(MachineState s);
MachineState machine_state_from_string(const char *s);
/* running, idle, paused, in shutdown, pmsuspended, crashed: the domain is
 * active in libvirt's sense (a QEMU process may still exist). */
bool machine_state_is_active(MachineState s);

typedef struct Machine {
    char name[256];
    char uuid[37];
    int id;              /* -1 when not running */
    MachineState state;
    int reason;          /* libvirt's reason for the state (virDomainGetState) */
    bool persistent;
    bool stale;          /* its host is down: last known values */
    const Host *host;
    uint64_t seq;        /* virt's own: when the row was read (newer reads win) */
} Machine;

/* Start the event loop and one monitor per host ([host] sections, or the
 * single [libvirt] uri); wait up to wait_ms for every host's first
 * connection attempt.  uri_override replaces [libvirt] uri (--uri). */
int virt_init(const Conf *conf, const char *uri_override, unsigned wait_ms);
/* Stop the monitors, the event thread and libvirt's event loop (main
 * thread, once).  Waits for each until deadline_usec (a now_usec() value) at
 * most; a thread stuck in a libvirt call past it is logged and left running.
 * Frees the hosts only when every thread stopped and keep is false (keep:
 * another thread, a stuck HTTP worker, may still use them).  Returns how many
 * threads are still running. */
size_t virt_shutdown(uint64_t deadline_usec, bool keep);
/* -vv: log every error libvirt raises, handled or not. */
void virt_set_verbose(bool on);

size_t virt_host_count(void);
Host *virt_host_at(size_t i);
Host *virt_host_find(const char *name);
const char *virt_host_name(const Host *h);
const char *virt_host_uri(const Host *h);
bool virt_host_up(const Host *h);
/* Seconds until the next reconnection attempt, for Retry-After (>= 1). */
unsigned virt_host_retry_after(const Host *h);
size_t virt_hosts_up(void);
const char *virt_library_version(void); /* "9.0.0"; thread-safe */

/* What is known of a host (GET /service/hosts).  Node facts, versions and
 * the host name are read by the host's monitor at every (re)connect, the
 * free memory every few seconds while it is up; a host that is down keeps
 * the last known ones (stale).  Unknown numbers have their has_ flag false,
 * unknown strings are NULL. */
typedef struct VirtHostInfo {
    char *name;
    char *uri;                      /* without credentials (uri_strip_credentials) */
    bool up;
    bool stale;                     /* down: guests and node facts are the last known */
    bool reading_definitions;       /* up, states known, definitions still being read */
    char **guests;                  /* the machine table's names, sorted; never NULL */
    bool has_node;                  /* cpus and memory_kib (virNodeGetInfo) are known */
    unsigned cpus;
    unsigned long long memory_kib;
    bool has_free_memory;
    unsigned long long free_memory_kib;
    bool free_memory_estimated;     /* the driver cannot tell: memory_kib less the active guests' */
    char *libvirt_version;          /* the host's libvirt (virConnectGetLibVersion), "9.0.0" */
    char *hypervisor;               /* virConnectGetType: "QEMU", "TEST" */
    char *hypervisor_version;       /* virConnectGetVersion, "8.2.0" */
    char *hostname;                 /* virConnectGetHostname */
    uint64_t down_since_usec;       /* realtime_usec(); 0 when up or not tried yet */
    char *last_error;               /* when down: the last failed connect, or the close */
} VirtHostInfo;
/* A copy made under the host's lock: never a libvirt call, so a dead
 * libvirt never holds it.  -ENOMEM.  Clear it with virt_host_info_clear. */
int virt_host_info(const Host *h, VirtHostInfo *ret);
void virt_host_info_clear(VirtHostInfo *i);
/* The last known free memory of the host, without a libvirt call: libvirt's
 * (virNodeGetFreeMemory, else the sum over the NUMA cells) as the monitor
 * last read it; when the driver cannot tell (libvirt's test driver for a
 * node file), an estimate: the node's memory less the <memory> of its
 * active machines (*ret_estimated).  -ENODATA when the node is unknown. */
int virt_host_free_memory(const Host *h, unsigned long long *ret_kib, bool *ret_estimated);
/* The free memory now, with a libvirt call (the start guard; a worker
 * thread, never an HTTP one).  -ENOTCONN when down, -EOPNOTSUPP when the
 * driver cannot tell, -EIO. */
int virt_host_free_memory_now(Host *h, unsigned long long *ret_kib);

/* After a (re)connect a host's table has every machine's state at once and
 * its definitions (DomInfo: owners, tags, pool state, MACs, disks, memory)
 * a moment later, read while the host serves.  virt_defs_ready(): every
 * host that is up has read them (one atomic load: for HTTP threads).
 * virt_defs_wait(): wait for that, at most timeout_ms (never on an HTTP
 * thread); 0, or -ETIMEDOUT.  Whatever reads DomInfo of a row waits for
 * it first, or it would take an unread definition for an empty one. */
bool virt_defs_ready(void);
int virt_defs_wait(unsigned timeout_ms);

/* A copy of every host's table, sorted by name then host.  Caller frees. */
int virt_machines(Machine **ret, size_t *ret_n);
/* Call fn for every row of every host's table (or only host_name's), under
 * that host's read lock: fn must be quick and call nothing of virt's.  info
 * is what the machine's definition in use says (live when active, else
 * persistent; NULL when it could not be read), borrowed for the call.  A
 * non-zero return stops the walk and is returned.  Rows come host by host,
 * each host's sorted by name. */
typedef int (*VirtMachineFn)(const Machine *m, const DomInfo *info, void *userdata);
int virt_machines_each(const char *host_name, VirtMachineFn fn, void *userdata);
/* The same for one machine of host h; -ENOENT when the table lacks it. */
int virt_machine_with(const Host *h, const char *name, VirtMachineFn fn, void *userdata);
/* How many machines all tables hold (for STATUS=). */
size_t virt_machine_count(void);

/* Find a machine by name on every host (or only on host_name).  -ENOENT
 * when absent; -ENOTCONN when absent and a host that could hold it is down;
 * -ENOTUNIQ when several hosts have it (ret_hosts lists them, caller frees).
 * A machine on a down host is returned with stale = true. */
int virt_machine_find(const char *name, const char *host_name, Machine *ret,
                      char ***ret_hosts);

/* Find a machine by UUID on every host (or only on host_name); a UUID active
 * on several hosts is -ENOTUNIQ like a name. */
int virt_machine_find_uuid(const char *uuid, const char *host_name, Machine *ret,
                           char ***ret_hosts);

/* Re-read one machine from libvirt into the table (after an action); *ret is
 * what libvirt said, whatever an event wrote meanwhile. */
int virt_machine_refresh(Host *h, const char *name, Machine *ret);

typedef struct MachineDetail {
    bool autostart;
    char *xml;          /* live XML when running, else inactive (secure flag) */
    char *xml_inactive; /* inactive XML (secure flag) */
} MachineDetail;
void machine_detail_clear(MachineDetail *d);
int virt_machine_detail(Host *h, const char *name, MachineDetail *ret);

/* Domain definitions. */
int virt_machine_xml(Host *h, const char *name, bool inactive, char **ret_xml);
/* virtmcd's metadata element (<virtmcd:instance>) of the persistent (or live)
 * definition, as XML; -ENODATA when the domain has none.  One small round
 * trip, unlike a whole definition. */
int virt_machine_metadata(Host *h, const char *name, bool live, char **ret_xml);
/* Replace virtmcd's metadata element of the live definition (live) or of
 * the persistent one, and only that one, with instance_xml (unprefixed, as
 * bootxml_meta_set_live_boot and metaxml_apply write it).  libvirt sends a
 * metadata-change event, which refreshes the table.  A persistent change
 * is a definition change: back it up first (ops). */
int virt_machine_set_metadata(Host *h, const char *name, bool live, const char *instance_xml);
/* A counter every change virtmcd makes to a definition (define, metadata,
 * devices, live boot order) bumps once the change returned.  Read before
 * reading what is rendered, it tells, with the row's seq, whether a cached
 * rendering of a machine still stands: changes from elsewhere arrive as
 * events, which re-read the row. */
uint64_t virt_change_count(void);

/* One device's run-time boot index (virt-qemu.c). */
typedef struct VirtBootIndex {
    const char *alias;   /* libvirt's device alias, QEMU's device id */
    int index;           /* -1: none */
} VirtBootIndex;
/* Give the running QEMU of `name` these boot indexes (qom-set of each
 * device's bootindex through libvirt's monitor passthrough: libvirt marks the
 * domain "custom-monitor" tainted).  QEMU gives the firmware the new order at
 * its next system reset.  -EOPNOTSUPP when the driver has no QEMU monitor
 * (the test driver), -EBUSY when not running, -EIO when QEMU refuses. */
int virt_machine_set_bootindex(Host *h, const char *name, const VirtBootIndex *list, size_t n);

/* Change one device of the live (or persistent) definition in place
 * (virDomainUpdateDeviceFlags): the media of a CD drive.  The running QEMU
 * opens the new media first: -EIO with libvirt's words when it cannot. */
int virt_machine_update_device(Host *h, const char *name, bool live, const char *device_xml);

/* The capacity in bytes of one disk of a machine, by its target ("vda"),
 * as libvirt's block info gives it (virt-block.c; a worker thread: it may
 * read the image).  -ENODATA when libvirt cannot tell (the test driver, an
 * empty drive, a volume it cannot open), -ENOENT no such machine or disk,
 * -ENOTCONN host unreachable. */
int virt_machine_block_capacity(Host *h, const char *name, const char *target,
                                unsigned long long *ret_bytes);

/* Define; *ret (may be NULL) is the machine as libvirt has it after. */
int virt_machine_define(Host *h, const char *xml, Machine *ret);

/* Serialise changes to one machine (boot changes, restores, power).  `op`
 * names the operation for whoever waits ("pxeboot", "power_cycle"; a static
 * string).  Waits at most timeout_ms: then -ETIMEDOUT, with error_get()
 * naming the operation that holds it.  When max_waiters already wait, fails
 * at once with -EAGAIN.  -ENOMEM. */
typedef struct MachineLock MachineLock;
int virt_machine_lock(const Host *h, const char *name, const char *op, unsigned timeout_ms,
                      unsigned max_waiters, MachineLock **ret);
void virt_machine_unlock(MachineLock *l);

/* Observers of what happens on the hosts. */
typedef enum VirtEventKind {
    VIRT_EVENT_DEFINED,
    VIRT_EVENT_UNDEFINED,
    VIRT_EVENT_STARTED,
    VIRT_EVENT_SUSPENDED,
    VIRT_EVENT_RESUMED,
    VIRT_EVENT_STOPPED,
    VIRT_EVENT_SHUTDOWN,
    VIRT_EVENT_PMSUSPENDED,
    VIRT_EVENT_CRASHED,
    VIRT_EVENT_METADATA,   /* a domain's <metadata> (or title/description) changed */
    VIRT_EVENT_REBOOT,     /* a reset inside the running QEMU (guest reboot, virDomainReset) */
    VIRT_EVENT_DEVICE,     /* a device hot-plugged into or unplugged from a running domain */
    VIRT_EVENT_HOST_UP,    /* connected, table rebuilt (at start-up and every reconnect) */
    VIRT_EVENT_HOST_DOWN,  /* the connection was lost */
    _VIRT_EVENT_KIND_MAX,
    _VIRT_EVENT_KIND_INVALID = -1,
} VirtEventKind;

const char *virt_event_kind_to_string(VirtEventKind k);

typedef struct VirtEvent {
    VirtEventKind kind;
    Host *host;
    const char *name;        /* NULL for host events */
    const Machine *machine;  /* the row after the event; NULL when gone or a host event */
} VirtEvent;

/* Called on virt's event thread, in the order events happened, after the
 * table has been updated.  It must return quickly: slow work (a define, a
 * backup's fsync) goes to a worker of the observer's own. */
typedef void (*VirtObserver)(const VirtEvent *ev, void *userdata);
/* Subscribe before virt_init() so that the first HOST_UP is seen. */
int virt_observe(VirtObserver fn, void *userdata);

/* Power actions (virt-power.c), API.md section 1. */
typedef enum PowerAction {
    POWER_ON,
    POWER_OFF,
    POWER_SOFT_OFF,
    POWER_CYCLE,
    POWER_FORCE_RESET,
    POWER_REBOOT,
    POWER_FORCE_OFF,
    POWER_NMI,
    POWER_CYCLEPOWER,
    _POWER_ACTION_MAX,
    _POWER_ACTION_INVALID = -1,
} PowerAction;

const char *power_action_to_string(PowerAction a);
PowerAction power_action_from_string(const char *s); /* accepts force_reboot */
/* Whether the action starts a machine that is in state s (the start guards
 * apply to exactly these). */
bool power_action_starts(PowerAction a, MachineState s);

typedef enum PowerResult {
    POWER_RESULT_DONE,
    POWER_RESULT_REQUESTED,
    POWER_RESULT_UNCHANGED,
    _POWER_RESULT_MAX,
} PowerResult;

const char *power_result_to_string(PowerResult r);

typedef struct PowerOpts {
    unsigned force_off_timeout; /* seconds */
    bool cold_reset;            /* a boot change is pending: reset = destroy + create */
} PowerOpts;

/* Perform the action; on success *ret_result and *ret_machine (the state
 * after, also written to the table).  -EBUSY (409) when the state forbids
 * it (reset, reboot or nmi of a machine that is off). */
int virt_power(Host *h, const char *name, PowerAction a, const PowerOpts *opts,
               PowerResult *ret_result, Machine *ret_machine);

/* Guest IP addresses (virt-addr.c), API.md section 3. */
typedef enum VirtAddrSource {
    VIRT_ADDR_SOURCE_LEASE,  /* the DHCP leases of libvirt's own networks */
    VIRT_ADDR_SOURCE_AGENT,  /* the QEMU guest agent */
    VIRT_ADDR_SOURCE_ARP,    /* the host's ARP table */
    _VIRT_ADDR_SOURCE_MAX,
    _VIRT_ADDR_SOURCE_INVALID = -1,
} VirtAddrSource;

const char *virt_addr_source_to_string(VirtAddrSource s);
VirtAddrSource virt_addr_source_from_string(const char *s);

typedef enum VirtAddrFamily {
    VIRT_ADDR_IPV4,
    VIRT_ADDR_IPV6,
    _VIRT_ADDR_FAMILY_MAX,
    _VIRT_ADDR_FAMILY_INVALID = -1,
} VirtAddrFamily;

/* "ipv4", "ipv6" */
const char *virt_addr_family_to_string(VirtAddrFamily f);
VirtAddrFamily virt_addr_family_from_string(const char *s);

typedef struct VirtIpAddr {
    char *address;          /* numeric, as libvirt gives it */
    unsigned prefix;
    VirtAddrFamily family;
} VirtIpAddr;

typedef struct VirtIface {
    char *name;             /* host-side (lease, arp: "vnet0") or guest-side (agent: "eth0") */
    char *mac;              /* NULL when the source has none (the agent's "lo") */
    VirtIpAddr *addrs;
    size_t n_addrs;
} VirtIface;

typedef struct VirtAddresses {
    VirtAddrSource source;  /* which source answered; _INVALID when none did */
    VirtIface *ifaces;
    size_t n_ifaces;
} VirtAddresses;

/* NULL is a no-op. */
void virt_addresses_free(VirtAddresses *a);
static inline void virt_addresses_freep(VirtAddresses **a)
{
    virt_addresses_free(*a);
}
/* A deep copy; NULL on out of memory. */
VirtAddresses *virt_addresses_dup(const VirtAddresses *a);

/* The addresses of a running machine from the first source, in the order
 * lease, agent, arp, that answers with at least one address (a source that
 * fails or has none is skipped).  None answering is success with n_ifaces 0.
 * -EBUSY when the machine is not active, -ENOENT unknown, -ENOTCONN host
 * unreachable (also when the connection dies during a source's call).  May
 * take as long as the guest agent's timeout: never on an HTTP thread. */
int virt_machine_addresses(Host *h, const char *name, VirtAddresses **ret);

/* Storage volumes of pool clones (virt-storage.c).  A template disk is
 * found by its path (file, block) or by storage pool and volume name
 * (volume); the clone's volume goes into the same storage pool, named
 * new_name: a qcow2 overlay backed by it (linked) or a full copy in its
 * format.  -ENOENT (error names the disk) when the source is not a volume
 * of a storage pool, -ENOTCONN, -EEXIST, -EIO.  *ret_path is the new
 * volume's path.  Slow (a full copy reads the whole image): a worker
 * thread. */
int virt_volume_clone(Host *h, const char *disk, const char *src_path, const char *src_pool,
                      const char *src_volume, const char *new_name, bool linked,
                      char **ret_path);
/* Delete the volume at path.  -ENOENT when there is none. */
int virt_volume_delete(Host *h, const char *path);
/* One volume of a storage pool (virt_volumes_beside). */
typedef struct VirtVolume {
    char *name;
    char *path;
    char *pool;     /* the storage pool's name */
    char *backing;  /* the path of its backing store, or NULL */
} VirtVolume;
void virt_volumes_free(VirtVolume *v, size_t n);
/* Every volume of the storage pool that holds a template disk, found as
 * virt_volume_clone finds it (src_pool and src_volume, else src_path):
 * where the clones' volumes of that disk are.  -ENOENT when the disk is no
 * volume of a storage pool, -ENOTCONN, -EIO.  One call per volume (its
 * backing store): a worker thread. */
int virt_volumes_beside(Host *h, const char *src_path, const char *src_pool,
                        const char *src_volume, VirtVolume **ret, size_t *ret_n);
/* Undefine a machine that is not running, with its NVRAM, managed save and
 * snapshot metadata.  -ENOENT when gone, -EBUSY when it runs. */
int virt_machine_undefine(Host *h, const char *name);
