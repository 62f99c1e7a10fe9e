/* domxml.h: what a domain definition says, for the machine detail.
 *
 * Pure functions over libvirt's domain XML: no libvirt calls, no I/O, no
 * logging.  Parsing uses XML_PARSE_NONET, no entities, no DTD. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct DomIface {
    char *mac;    /* "52:54:00:..." or NULL */
    char *type;   /* interface type= ("network", "bridge", "direct", "user") */
    char *source; /* network=, bridge=, dev= ... whichever the type uses, or NULL */
    char *model;  /* <model type=>, or NULL */
} DomIface;

typedef struct DomDisk {
    char *target; /* <target dev=> */
    char *device; /* "disk", "cdrom", "floppy", "lun" */
    char *source; /* file=, dev=, name= (with protocol "rbd:pool/img"), volume, or NULL */
    bool readonly;  /* <readonly/> (a cdrom is read-only whatever it says) */
    bool shareable; /* <shareable/> */
} DomDisk;

typedef struct DomGraphics {
    char *type;   /* "vnc", "spice" */
    int port;     /* -1 when autoport and not running */
    char *listen; /* address, or NULL */
} DomGraphics;

typedef struct DomTag {
    char *key;
    char *value;
} DomTag;

/* A pool clone's part of virtmcd's metadata (<virtmcd:pool>, <virtmcd:volume>):
 * all of the pool state there is (API.md section 5); times are Unix seconds,
 * 0 when unknown. */
typedef struct DomPool {
    char *name;          /* NULL: not a pool clone */
    char *template_name;
    char *state;         /* "pending", "ready", "running", "completed" */
    long long created;   /* defined */
    long long since;     /* entered its state */
    long long checkout;  /* checked out (running) */
    long long expires;   /* the lease ends (running) */
    unsigned lifetime;   /* hours of the lease (running) */
    char **volumes;      /* paths of the volumes virtmcd created for it; NULL-terminated */
} DomPool;

void dom_pool_clear(DomPool *p);
/* Read <virtmcd:pool> and <virtmcd:volume> of a virtmcd <instance> element
 * (an xmlNode *, NULL for none).  -ENOMEM. */
int domxml_pool_read(const void *instance, DomPool *ret);

typedef struct DomInfo {
    unsigned vcpus;
    unsigned long long memory_kib; /* <memory>, in KiB whatever the unit */
    char *arch;    /* <os><type arch=> ("x86_64", "aarch64"), or NULL */
    /* <cpu><topology sockets= cores= threads=>; 0 each when absent or bad. */
    unsigned sockets, cores, threads;
    DomIface *ifaces;
    size_t n_ifaces;
    DomDisk *disks;
    size_t n_disks;
    DomGraphics *graphics;
    size_t n_graphics;
    /* virtmcd metadata (<metadata><virtmcd:instance>): */
    char *owner;
    char *description;
    DomTag *tags;
    size_t n_tags;
    DomPool pool;
    bool boot_once; /* a one-time boot order's marker (<virtmcd:boot-once>) */
} DomInfo;

void dom_info_free(DomInfo *d);
static inline void dom_info_freep(DomInfo **d)
{
    dom_info_free(*d);
}

/* -EINVAL on XML that does not parse or is not a <domain>. */
int domxml_parse(const char *xml, DomInfo **ret);
