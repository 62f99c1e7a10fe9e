/* virt-private.h: what virt.c shares with virt-power.c, and nobody else.
 * Includes libvirt: never include it outside virt*.c. */
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cleanup.h"
#include "virt.h"

DEFINE_CLEANUP(virDomainPtr, virDomainFree)
DEFINE_CLEANUP(virConnectPtr, virConnectClose)

/* Translate libvirt's last error (per thread) into -errno and leave its
 * message in error_get(). */
int virt_errno(const char *what, const char *name);

/* A new reference to the host's connection, or NULL (-ENOTCONN) when down. */
virConnectPtr virt_host_conn(Host *h);

/* Look a machine up on its host; NULL with the error set. */
virDomainPtr virt_lookup(Host *h, const char *name, int *ret_error);

MachineState machine_state_from_libvirt(int state);
