/* virt-private.h: what virt.c shares with virt-power.c and virt-host.c, and
 * nobody else.
 * Includes libvirt: never include it outside virt*.c. */
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cleanup.h"
#include "virt.h"

DEFINE_CLEANUP(virDomainPtr, virDomainFree)
DEFINE_CLEANUP(virConnectPtr, virConnectClose)

/* Translate libvirt's last error (per thread) into -errno and leave its
 * message in error_get().  Counts an error of the operation in progress. */
int virt_errno(const char *what, const char *name);

/* One libvirt operation, counted for GET /metrics: declare VIRT_OP(h, "op")
 * first in a function that calls libvirt, before any libvirt call.  When it
 * ends it counts a call of (host, op), and an error if virt_errno ran or the
 * host was unreachable meanwhile.  Nested operations count as the outermost
 * one only.  Per thread: an operation never crosses threads.  op is a
 * static string. */
typedef struct VirtOp VirtOp;
VirtOp *virt_op_begin(const Host *h, const char *op);
void virt_op_end(VirtOp **op);
/* The errors met so far by this thread's operation were handled: it did
 * not fail. */
void virt_op_forgive(void);
#define VIRT_OP(h, name) \
    __attribute__((cleanup(virt_op_end), unused)) VirtOp *virt_op_ = virt_op_begin((h), (name))

/* A new reference to the host's connection, or NULL (-ENOTCONN) when down. */
virConnectPtr virt_host_conn(Host *h);

/* Look a machine up on its host; NULL with the error set. */
virDomainPtr virt_lookup(Host *h, const char *name, int *ret_error);

MachineState machine_state_from_libvirt(int state);

/* virt-host.c: what a host's monitor reads of its node at each connect,
 * kept in the Host under its lock.  0 and NULL: unknown. */
typedef struct HostNode {
    unsigned cpus;
    unsigned long long memory_kib;
    unsigned nodes;                     /* NUMA cells */
    unsigned long lib_version;          /* major * 1000000 + minor * 1000 + micro */
    unsigned long hv_version;
    char *hypervisor;
    char *hostname;
    bool has_free_memory;
    bool free_memory_unsupported;       /* the driver cannot tell: not polled */
    unsigned long long free_memory_kib;
} HostNode;

/* Read the node facts over c (the monitor thread, never under a lock); a
 * fact libvirt does not give stays unknown. */
void host_node_read(virConnectPtr c, const char *host_name, HostNode *ret);
void host_node_clear(HostNode *n);
/* Fill the node facts of *ret from n: no libvirt call (under the host's
 * lock).  -ENOMEM. */
int host_node_to_info(const HostNode *n, VirtHostInfo *ret);
/* The free memory over c: virNodeGetFreeMemory, else the sum over the NUMA
 * cells.  -EOPNOTSUPP when the driver gives neither, -ENOTCONN. */
int host_node_free_memory(virConnectPtr c, unsigned long long *ret_kib);
/* libvirt's reason for closing a connection (virConnectCloseFunc), as words. */
const char *host_close_reason_to_string(int reason);
/* msg with every occurrence of uri replaced by shown (the URI without its
 * credentials): libvirt's messages may quote the URI.  NULL on out of memory. */
char *host_message_scrub(const char *msg, const char *uri, const char *shown);

/* Every changing call: after the change (see virt_change_count). */
void virt_changed(void);
