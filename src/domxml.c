/* domxml.c: what a domain definition says (CPUs, memory, NICs, disks,
 * consoles, virtmcd metadata), for the machine detail.
 *
 * Read-only over libvirt's domain XML: it never calls libvirt, never does
 * I/O and never logs.  Parsing uses XML_PARSE_NONET, no entity substitution
 * and no DTD (a DOCTYPE is refused).  A value libvirt itself would refuse
 * (an unknown memory unit, a port out of range) reads as unknown (0, -1 or
 * NULL) rather than failing the whole machine.  Any thread may call it. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "bootxml.h" /* VIRTMCD_XMLNS */
#include "domxml.h"
#include "util.h"
#include "xmlutil.h"

/* A copy of an attribute; -ENOMEM only when it exists and cannot be copied. */
static int dup_attr(const xmlNode *n, const char *name, char **ret)
{
    const char *v = xmlutil_attr(n, name);

    *ret = NULL;
    if (!v)
        return 0;
    *ret = strdup(v);
    return *ret ? 0 : -ENOMEM;
}

static int dup_text(const xmlNode *n, char **ret)
{
    xmlChar *c;

    *ret = NULL;
    if (!n)
        return 0;
    c = xmlNodeGetContent(n);
    if (!c)
        return -ENOMEM;
    *ret = strdup((const char *)c);
    xmlFree(c);
    return *ret ? 0 : -ENOMEM;
}

/* A whole unsigned number in element text, blanks around allowed. */
static int text_uint(const xmlNode *n, unsigned long long max, unsigned long long *ret)
{
    _cleanup_free_ char *s = NULL;
    int r;

    r = dup_text(n, &s);
    if (r < 0 || !s)
        return r < 0 ? r : -EINVAL;
    return parse_uint(strstrip(s), 0, max, ret);
}

/* libvirt's virScaleInteger: b/byte/bytes, then k m g t p e alone or with
 * "iB" (powers of 1024) or with "B" (powers of 1000), case-insensitive. */
static int unit_scale(const char *unit, unsigned long long *ret)
{
    static const char prefixes[] = "kmgtpe";
    unsigned long long base, scale = 1;
    const char *p;

    if (!unit || !*unit) {
        *ret = 1024; /* libvirt's default unit for <memory>: KiB */
        return 0;
    }
    if (strcasecmp(unit, "b") == 0 || strcasecmp(unit, "byte") == 0 ||
        strcasecmp(unit, "bytes") == 0) {
        *ret = 1;
        return 0;
    }
    p = strchr(prefixes, tolower((unsigned char)unit[0]));
    if (!p || !*p)
        return -EINVAL;
    if (!unit[1] || strcasecmp(unit + 1, "ib") == 0)
        base = 1024;
    else if (strcasecmp(unit + 1, "b") == 0)
        base = 1000;
    else
        return -EINVAL;
    for (const char *q = prefixes; q <= p; q++)
        scale *= base;
    *ret = scale;
    return 0;
}

static unsigned long long memory_kib(const xmlNode *mem)
{
    unsigned long long value, scale, bytes;

    if (!mem || text_uint(mem, ULLONG_MAX, &value) < 0 ||
        unit_scale(xmlutil_attr(mem, "unit"), &scale) < 0)
        return 0;
    if (__builtin_mul_overflow(value, scale, &bytes))
        return 0;
    return bytes / 1024 + (bytes % 1024 != 0); /* libvirt rounds up to KiB */
}

/* "network", "bridge", "dev", ... whichever the interface type uses. */
static int iface_source(const xmlNode *n, const char *type, char **ret)
{
    static const char *const generic[] = { "network", "bridge", "dev", "path", "name" };
    const xmlNode *src = xmlutil_child_elem(n, "source");
    const char *key = NULL;

    *ret = NULL;
    if (!src)
        return 0;
    if (type && (streq(type, "udp") || streq(type, "mcast") || streq(type, "server") ||
                 streq(type, "client"))) {
        const char *addr = xmlutil_attr(src, "address"), *port = xmlutil_attr(src, "port");

        if (addr || port) {
            *ret = strdup_printf("%s:%s", addr ? addr : "", port ? port : "");
            return *ret ? 0 : -ENOMEM;
        }
        return 0;
    }
    if (type && streq(type, "network"))
        key = "network";
    else if (type && streq(type, "bridge"))
        key = "bridge";
    else if (type && (streq(type, "direct") || streq(type, "vdpa")))
        key = "dev";
    else if (type && streq(type, "vhostuser"))
        key = "path";
    if (key && xmlutil_attr(src, key))
        return dup_attr(src, key, ret);
    for (size_t i = 0; i < ELEMENTSOF(generic); i++)
        if (xmlutil_attr(src, generic[i]))
            return dup_attr(src, generic[i], ret);
    return 0;
}

/* file=, dev=, dir=, "pool/volume", "protocol:name", name=, path=. */
static int disk_source(const xmlNode *n, char **ret)
{
    const xmlNode *src = xmlutil_child_elem(n, "source");
    const char *pool = xmlutil_attr(src, "pool"), *vol = xmlutil_attr(src, "volume");
    const char *proto = xmlutil_attr(src, "protocol"), *name = xmlutil_attr(src, "name");

    *ret = NULL;
    if (!src)
        return 0;
    if (xmlutil_attr(src, "file"))
        return dup_attr(src, "file", ret);
    if (xmlutil_attr(src, "dev"))
        return dup_attr(src, "dev", ret);
    if (xmlutil_attr(src, "dir"))
        return dup_attr(src, "dir", ret);
    if (pool && vol)
        *ret = strdup_printf("%s/%s", pool, vol);
    else if (proto && name)
        *ret = strdup_printf("%s:%s", proto, name);
    else if (name)
        return dup_attr(src, "name", ret);
    else if (xmlutil_attr(src, "path"))
        return dup_attr(src, "path", ret);
    else
        return 0;
    return *ret ? 0 : -ENOMEM;
}

static int add_iface(DomInfo *d, const xmlNode *n)
{
    DomIface *f = &d->ifaces[d->n_ifaces++];
    int r;

    if ((r = dup_attr(xmlutil_child_elem(n, "mac"), "address", &f->mac)) < 0 ||
        (r = dup_attr(n, "type", &f->type)) < 0 ||
        (r = iface_source(n, xmlutil_attr(n, "type"), &f->source)) < 0 ||
        (r = dup_attr(xmlutil_child_elem(n, "model"), "type", &f->model)) < 0)
        return r;
    return 0;
}

static int add_disk(DomInfo *d, const xmlNode *n)
{
    DomDisk *k = &d->disks[d->n_disks++];
    const char *device = xmlutil_attr(n, "device");
    int r;

    if ((r = dup_attr(xmlutil_child_elem(n, "target"), "dev", &k->target)) < 0 ||
        (r = disk_source(n, &k->source)) < 0)
        return r;
    k->device = strdup(device && *device ? device : "disk");
    if (!k->device)
        return -ENOMEM;
    k->readonly = xmlutil_child_elem(n, "readonly") || streq(k->device, "cdrom");
    k->shareable = xmlutil_child_elem(n, "shareable") != NULL;
    return 0;
}

static int add_graphics(DomInfo *d, const xmlNode *n)
{
    DomGraphics *g = &d->graphics[d->n_graphics++];
    const char *autoport = xmlutil_attr(n, "autoport"), *listen = xmlutil_attr(n, "listen");
    unsigned long long port;
    int r;

    g->port = -1;
    if (!(autoport && streq(autoport, "yes")) &&
        parse_uint(xmlutil_attr(n, "port"), 1, 65535, &port) >= 0)
        g->port = (int)port;
    if ((r = dup_attr(n, "type", &g->type)) < 0)
        return r;
    if (listen && *listen)
        return dup_attr(n, "listen", &g->listen);
    for (const xmlNode *c = n->children; c; c = c->next) {
        const char *a = xmlutil_attr(c, "address");

        if (xmlutil_is_elem(c, "listen") && a && *a)
            return dup_attr(c, "address", &g->listen);
    }
    return 0;
}

static int add_metadata(DomInfo *d, const xmlNode *root)
{
    const xmlNode *inst =
        xmlutil_child_ns_elem(xmlutil_child_elem(root, "metadata"), VIRTMCD_XMLNS, "instance");
    size_t n_tags = 0;
    int r;

    if (!inst)
        return 0;
    r = domxml_pool_read(inst, &d->pool);
    if (r < 0)
        return r;
    d->boot_once = xmlutil_child_ns_elem(inst, VIRTMCD_XMLNS, "boot-once") != NULL;
    if ((r = dup_text(xmlutil_child_ns_elem(inst, VIRTMCD_XMLNS, "owner"), &d->owner)) < 0 ||
        (r = dup_text(xmlutil_child_ns_elem(inst, VIRTMCD_XMLNS, "description"),
                      &d->description)) < 0)
        return r;
    for (const xmlNode *c = inst->children; c; c = c->next)
        if (xmlutil_is_ns_elem(c, VIRTMCD_XMLNS, "tag") && xmlutil_attr(c, "key"))
            n_tags++;
    if (!n_tags)
        return 0;
    d->tags = calloc(n_tags, sizeof(*d->tags));
    if (!d->tags)
        return -ENOMEM;
    for (const xmlNode *c = inst->children; c; c = c->next) {
        DomTag *t;

        if (!xmlutil_is_ns_elem(c, VIRTMCD_XMLNS, "tag") || !xmlutil_attr(c, "key"))
            continue;
        t = &d->tags[d->n_tags++];
        if ((r = dup_attr(c, "key", &t->key)) < 0 || (r = dup_text(c, &t->value)) < 0)
            return r;
    }
    return 0;
}

void dom_pool_clear(DomPool *p)
{
    free(p->name);
    free(p->template_name);
    free(p->state);
    strv_free(p->volumes);
    *p = (DomPool){ 0 };
}

static long long attr_time(const xmlNode *n, const char *name)
{
    const char *v = xmlutil_attr(n, name);
    unsigned long long x;

    return v && parse_uint(v, 0, LLONG_MAX, &x) >= 0 ? (long long)x : 0;
}

int domxml_pool_read(const void *instance, DomPool *ret)
{
    const xmlNode *inst = instance;
    const xmlNode *pool = xmlutil_child_ns_elem(inst, VIRTMCD_XMLNS, "pool");
    DomPool p = { 0 };
    size_t n = 0;
    int r;

    if (!pool || !xmlutil_attr(pool, "name")) {
        *ret = p;
        return 0;
    }
    if ((r = dup_attr(pool, "name", &p.name)) < 0 ||
        (r = dup_attr(pool, "template", &p.template_name)) < 0 ||
        (r = dup_attr(pool, "state", &p.state)) < 0)
        goto fail;
    p.created = attr_time(pool, "created");
    p.since = attr_time(pool, "since");
    p.checkout = attr_time(pool, "checkout");
    p.expires = attr_time(pool, "expires");
    p.lifetime = (unsigned)attr_time(pool, "lifetime");
    for (const xmlNode *c = inst->children; c; c = c->next)
        n += xmlutil_is_ns_elem(c, VIRTMCD_XMLNS, "volume") && xmlutil_attr(c, "path");
    p.volumes = calloc(n + 1, sizeof(char *));
    r = -ENOMEM;
    if (!p.volumes)
        goto fail;
    n = 0;
    for (const xmlNode *c = inst->children; c; c = c->next)
        if (xmlutil_is_ns_elem(c, VIRTMCD_XMLNS, "volume") && xmlutil_attr(c, "path") &&
            !(p.volumes[n++] = strdup(xmlutil_attr(c, "path"))))
            goto fail;
    *ret = p;
    return 0;
fail:
    dom_pool_clear(&p);
    return r;
}

/* One attribute as a whole number in 1..UINT_MAX; 0 when absent or bad. */
static unsigned attr_count(const xmlNode *n, const char *name)
{
    const char *v = n ? xmlutil_attr(n, name) : NULL;
    unsigned long long x;

    return v && parse_uint(v, 1, UINT_MAX, &x) >= 0 ? (unsigned)x : 0;
}

/* The architecture and the guest CPU topology. */
static int add_os_cpu(DomInfo *d, const xmlNode *root)
{
    const xmlNode *os = xmlutil_child_elem(root, "os");
    const xmlNode *cpu = xmlutil_child_elem(root, "cpu");
    const xmlNode *topo = cpu ? xmlutil_child_elem(cpu, "topology") : NULL;
    int r;

    r = dup_attr(os ? xmlutil_child_elem(os, "type") : NULL, "arch", &d->arch);
    if (r < 0)
        return r;
    d->sockets = attr_count(topo, "sockets");
    d->cores = attr_count(topo, "cores");
    d->threads = attr_count(topo, "threads");
    if (!d->sockets || !d->cores || !d->threads)
        d->sockets = d->cores = d->threads = 0;
    return 0;
}

void dom_info_free(DomInfo *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_ifaces; i++) {
        free(d->ifaces[i].mac);
        free(d->ifaces[i].type);
        free(d->ifaces[i].source);
        free(d->ifaces[i].model);
    }
    free(d->ifaces);
    for (size_t i = 0; i < d->n_disks; i++) {
        free(d->disks[i].target);
        free(d->disks[i].device);
        free(d->disks[i].source);
    }
    free(d->disks);
    for (size_t i = 0; i < d->n_graphics; i++) {
        free(d->graphics[i].type);
        free(d->graphics[i].listen);
    }
    free(d->graphics);
    free(d->arch);
    free(d->owner);
    free(d->description);
    for (size_t i = 0; i < d->n_tags; i++) {
        free(d->tags[i].key);
        free(d->tags[i].value);
    }
    free(d->tags);
    dom_pool_clear(&d->pool);
    free(d);
}

int domxml_parse(const char *xml, DomInfo **ret)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
    _cleanup_(dom_info_freep) DomInfo *d = NULL;
    const xmlNode *root, *devices;
    size_t n_ifaces = 0, n_disks = 0, n_graphics = 0;
    unsigned long long vcpus;
    int r;

    r = xmlutil_parse(xml, &doc);
    if (r < 0)
        return r;
    root = xmlDocGetRootElement(doc);
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    if (text_uint(xmlutil_child_elem(root, "vcpu"), UINT_MAX, &vcpus) >= 0)
        d->vcpus = (unsigned)vcpus;
    d->memory_kib = memory_kib(xmlutil_child_elem(root, "memory"));
    r = add_os_cpu(d, root);
    if (r < 0)
        return r;

    devices = xmlutil_child_elem(root, "devices");
    for (const xmlNode *c = devices ? devices->children : NULL; c; c = c->next) {
        n_ifaces += xmlutil_is_elem(c, "interface");
        n_disks += xmlutil_is_elem(c, "disk");
        n_graphics += xmlutil_is_elem(c, "graphics");
    }
    d->ifaces = calloc(n_ifaces + 1, sizeof(*d->ifaces));
    d->disks = calloc(n_disks + 1, sizeof(*d->disks));
    d->graphics = calloc(n_graphics + 1, sizeof(*d->graphics));
    if (!d->ifaces || !d->disks || !d->graphics)
        return -ENOMEM;
    for (const xmlNode *c = devices ? devices->children : NULL; c; c = c->next) {
        if (xmlutil_is_elem(c, "interface"))
            r = add_iface(d, c);
        else if (xmlutil_is_elem(c, "disk"))
            r = add_disk(d, c);
        else if (xmlutil_is_elem(c, "graphics"))
            r = add_graphics(d, c);
        else
            r = 0;
        if (r < 0)
            return r;
    }
    r = add_metadata(d, root);
    if (r < 0)
        return r;
    *ret = steal_ptr(&d);
    return 0;
}
