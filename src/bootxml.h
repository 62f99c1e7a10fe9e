/* bootxml.h: boot order of a libvirt domain definition, read and rewritten.
 *
 * Pure functions: an XML string in, an XML string (or a description) out.
 * The only libxml2 user for boot order; it never calls libvirt, never does
 * I/O, never logs.  Parsing uses XML_PARSE_NONET, no entity substitution and
 * no DTD loading.  Apart from boot elements (and, for the one-time marker,
 * virtmcd's own metadata element), the document survives as it was.
 *
 * libvirt allows two exclusive styles (API.md section 2):
 *   BOOT_STYLE_OS          <os><boot dev='network|hd|cdrom|fd'/>...</os>
 *   BOOT_STYLE_PER_DEVICE  <boot order='N'/> inside <disk>, <interface>,
 *                          <hostdev>, <redirdev>
 * A domain with neither is BOOT_STYLE_NONE; rewriting it writes per-device
 * order. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "xmlns.h"


typedef enum BootClass {
    BOOT_CLASS_NETWORK,  /* <interface>, <os><boot dev='network'/> */
    BOOT_CLASS_DISK,     /* <disk device='disk'> (and 'lun'), dev='hd' */
    BOOT_CLASS_CDROM,    /* <disk device='cdrom'>, dev='cdrom' */
    BOOT_CLASS_FLOPPY,   /* <disk device='floppy'>, dev='fd' */
    BOOT_CLASS_HOSTDEV,  /* <hostdev> */
    BOOT_CLASS_REDIRDEV, /* <redirdev> */
    _BOOT_CLASS_MAX,
    _BOOT_CLASS_INVALID = -1,
} BootClass;

/* "network", "disk", "cdrom", "floppy", "hostdev", "redirdev" */
const char *boot_class_to_string(BootClass c);
BootClass boot_class_from_string(const char *s);

typedef enum BootStyle {
    BOOT_STYLE_NONE,
    BOOT_STYLE_OS,
    BOOT_STYLE_PER_DEVICE,
    _BOOT_STYLE_MAX,
} BootStyle;

/* "none", "os", "per-device" */
const char *boot_style_to_string(BootStyle s);

typedef struct BootEntry {
    BootClass cls;
    /* Identity: MAC for an interface, target dev for a disk ("vda"),
     * "pci 0000:03:00.0" / "usb 1d6b:0002" style for a hostdev, "usb N" for
     * a redirdev (N = its position among redirdevs), NULL for os style. */
    char *device;
    unsigned order; /* 1..N, position in the boot order */
} BootEntry;

typedef struct BootInfo {
    BootStyle style;
    BootEntry *entries; /* sorted by order */
    size_t n_entries;
    bool has_class[_BOOT_CLASS_MAX]; /* devices of that class exist */
    bool uefi;           /* <os firmware='efi'> or <loader type='pflash'> */
    char *once_restore;  /* backup id of a one-time change to undo, or NULL */
    /* What the machine was doing when the one-time order was armed (virsh's
     * state word and libvirt's reason number), or NULL and -1: how the
     * operations layer tells, after an outage, whether it booted since. */
    char *once_armed_state;
    int once_armed_reason;
    /* The order virtmcd handed to the running QEMU (bootxml_order_key), from
     * <virtmcd:live-boot order='...'/> in the live definition's metadata;
     * NULL when none (never in a persistent definition); live_boot_at: when
     * (realtime microseconds, its at='...'), 0 when not recorded. */
    char *live_boot;
    unsigned long long live_boot_at;
} BootInfo;

void boot_info_free(BootInfo *b);
static inline void boot_info_freep(BootInfo **b)
{
    boot_info_free(*b);
}

/* The first entry's class, or _BOOT_CLASS_INVALID when there is none. */
BootClass boot_info_first(const BootInfo *b);
/* True when a and b give the same order (same classes/devices, same order). */
bool boot_info_same_order(const BootInfo *a, const BootInfo *b);

/* Describe a domain's boot order.  -EINVAL on XML that does not parse or is
 * not a <domain>. */
int bootxml_parse(const char *xml, BootInfo **ret);

/* Put the devices of class `first` first, keeping their relative order,
 * the other classes after them in their previous relative order.  os style
 * reorders <boot dev> (adding the class's dev when absent); per-device
 * renumbers 1..N; no style writes per-device order on the devices of `first`
 * followed by ... (see the golden files).  -ENODEV when the domain has no
 * device of that class (nothing is written), -EINVAL on bad XML. */
int bootxml_set_first(const char *xml, BootClass first, char **ret_xml);

/* Copy the boot order of `from_xml` onto `xml`: the style of from_xml and
 * its order, matched device by device (MAC, target dev, ...).  Devices of xml
 * that from_xml does not know lose their boot element.  Used by defaultboot
 * (from the first backup) and by the one-time restore. */
int bootxml_apply_order(const char *xml, const char *from_xml, char **ret_xml);

/* Switch the firmware: uefi makes <os firmware='efi'> (libvirt picks an
 * EFI firmware at start) with Secure Boot off, <firmware><feature
 * enabled='no' name='secure-boot'/></firmware>; !uefi the default BIOS.
 * Either removes <loader>, <nvram> and <firmware> from <os> first.  The
 * boot order and everything else stay.  -EINVAL on bad XML or no <os>. */
int bootxml_set_firmware(const char *xml, bool uefi, char **ret_xml);
/* Set (restore_id != NULL) or clear (NULL) the one-time marker
 * <virtmcd:boot-once restore='ID'/> inside the domain's
 * <metadata><virtmcd:instance xmlns:virtmcd=VIRTMCD_XMLNS>, creating the
 * containers when needed and keeping every other child. */
int bootxml_set_once(const char *xml, const char *restore_id, char **ret_xml);
/* The same, recording the machine's state and state reason at arming time
 * as armed-state='...' armed-reason='N' on the marker (armed_state NULL:
 * none recorded). */
int bootxml_set_once_armed(const char *xml, const char *restore_id, const char *armed_state,
                           int armed_reason, char **ret_xml);

/* A canonical text of b's order ("os network hd", "per-device network
 * 52:54:00:12:34:56, disk vda"): equal texts, same order.  What virtmcd
 * records in a live definition when it hands an order to the running QEMU.
 * NULL: out of memory. */
char *bootxml_order_key(const BootInfo *b);

/* One device's run-time boot index in the running QEMU. */
typedef struct BootIndex {
    char *alias;   /* libvirt's <alias name>, QEMU's device id */
    int index;     /* QEMU's bootindex; -1 for none */
} BootIndex;
void boot_index_free(BootIndex *v, size_t n);

/* The run-time boot indexes that give the running machine (live_xml: the
 * live definition, which names each device's <alias>) the order of new_xml
 * (the new persistent definition), the way libvirt turns a definition into
 * QEMU's command line: a per-device <boot order='N'/> is bootindex N; an
 * <os><boot dev> list gives the first disk (device 'disk' or 'lun'), the
 * first cdrom, the first floppy and the first interface the position of
 * their class in the list (libvirt 9.0's qemuProcessPrepareDeviceBootorder);
 * every other bootable device gets -1.  Devices are matched by class and
 * identity (MAC, target dev); a live device without an alias is left out.
 * Every bootable device of live_xml with an alias is listed, in document
 * order.  -EINVAL on bad XML. */
int bootxml_live_plan(const char *live_xml, const char *new_xml, BootIndex **ret, size_t *ret_n);

/* virtmcd's metadata element for a live definition: instance_xml (what
 * virDomainGetMetadata returned for VIRTMCD_XMLNS, or NULL for none) with
 * <live-boot order='order_key' at='at_usec'/> set (NULL: removed), every
 * other child kept,
 * written without prefixes or namespace declarations, as
 * virDomainSetMetadata wants it (libvirt puts the namespace on every
 * element). */
int bootxml_meta_set_live_boot(const char *instance_xml, const char *order_key,
                               unsigned long long at_usec, char **ret_xml);
