/* bootxml.c: the boot order of a libvirt domain definition, read and rewritten.
 *
 * Owns every libxml2 use for boot order.  It never calls libvirt, never does
 * I/O and never logs; a parse failure leaves its position in the per-thread
 * error message (error_setf).  Nothing but boot elements (and virtmcd's own
 * <virtmcd:boot-once> marker) may change: the document is edited in place,
 * whitespace nodes are kept, and it is written back by a small serializer that
 * prints the way the document's author did: libvirt's style (single quotes,
 * libvirt's escaping, <metadata> as libxml2 dumps it) or libxml2's (double
 * quotes, as virt-install and virt-manager write).  So a definition printed by
 * libvirt comes out byte for byte, apart from the boot lines.
 *
 * Thread safety: any thread may call any function; the only shared state is
 * libxml2's own (initialised once) and its per-thread error handler, which is
 * silenced for the duration of a call and then restored. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "bootxml.h"
#include "strtable.h"
#include "util.h"
#include "xmlutil.h"

static const char *const boot_class_table[_BOOT_CLASS_MAX] = {
    [BOOT_CLASS_NETWORK] = "network",
    [BOOT_CLASS_DISK] = "disk",
    [BOOT_CLASS_CDROM] = "cdrom",
    [BOOT_CLASS_FLOPPY] = "floppy",
    [BOOT_CLASS_HOSTDEV] = "hostdev",
    [BOOT_CLASS_REDIRDEV] = "redirdev",
};

/* <os><boot dev=...>; hostdev and redirdev have no os-style name. */
static const char *const os_devs[_BOOT_CLASS_MAX] = {
    [BOOT_CLASS_NETWORK] = "network",
    [BOOT_CLASS_DISK] = "hd",
    [BOOT_CLASS_CDROM] = "cdrom",
    [BOOT_CLASS_FLOPPY] = "fd",
};

static const char *const boot_style_table[_BOOT_STYLE_MAX] = {
    [BOOT_STYLE_NONE] = "none",
    [BOOT_STYLE_OS] = "os",
    [BOOT_STYLE_PER_DEVICE] = "per-device",
};

/* Classes that get an order when a domain without any boot element is
 * rewritten, after the chosen class (hostdev and redirdev are never added). */
static const BootClass default_classes[] = {
    BOOT_CLASS_DISK, BOOT_CLASS_CDROM, BOOT_CLASS_NETWORK, BOOT_CLASS_FLOPPY,
};

/* libvirt prints <boot> before these children of a device (virDomainDeviceInfoFormat). */
static const char *const after_boot_in_device[] = { "alias", "master", "rom", "acpi", "address" };
/* ... and <os><boot dev> before these children of <os>. */
static const char *const after_boot_in_os[] = { "bootmenu", "smbios", "bios" };
/* <metadata> goes after the last of these children of <domain>. */
static const char *const before_metadata[] = { "name", "uuid", "genid", "title", "description" };

DEFINE_STRING_TABLE_LOOKUP(boot_class, BootClass)
/* Nothing parses a style: only its printing half. */
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(boot_style, boot_style_table, BootStyle, )

void boot_info_free(BootInfo *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_entries; i++)
        free(b->entries[i].device);
    free(b->entries);
    free(b->once_restore);
    free(b->once_armed_state);
    free(b->live_boot);
    free(b);
}

char *bootxml_order_key(const BootInfo *b)
{
    Buf buf = {};
    char *s;

    buf_puts(&buf, boot_style_table[b->style]);
    for (size_t i = 0; i < b->n_entries; i++) {
        const BootEntry *e = &b->entries[i];

        buf_puts(&buf, i ? ", " : " ");
        buf_puts(&buf, b->style == BOOT_STYLE_OS && os_devs[e->cls] ? os_devs[e->cls]
                                                                     : boot_class_table[e->cls]);
        if (e->device) {
            buf_puts(&buf, " ");
            buf_puts(&buf, e->device);
        }
    }
    s = buf_steal(&buf);
    buf_free(&buf);
    return s;
}

void boot_index_free(BootIndex *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].alias);
    free(v);
}

BootClass boot_info_first(const BootInfo *b)
{
    if (!b || b->n_entries == 0)
        return _BOOT_CLASS_INVALID;
    return b->entries[0].cls;
}

bool boot_info_same_order(const BootInfo *a, const BootInfo *b)
{
    if (!a || !b)
        return a == b;
    if (a->style != b->style || a->n_entries != b->n_entries)
        return false;
    for (size_t i = 0; i < a->n_entries; i++)
        if (a->entries[i].cls != b->entries[i].cls ||
            !streq_ptr(a->entries[i].device, b->entries[i].device))
            return false;
    return true;
}

/* ---- tree helpers ---- */

static bool is_elem_in(const xmlNode *n, const char *const *names, size_t n_names)
{
    for (size_t i = 0; i < n_names; i++)
        if (xmlutil_is_elem(n, names[i]))
            return true;
    return false;
}

static bool is_ws_text(const xmlNode *n)
{
    if (!n || n->type != XML_TEXT_NODE || !n->content || !n->content[0])
        return false;
    for (const xmlChar *p = n->content; *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return false;
    return true;
}

/* The whitespace text node right before n (its indentation), or NULL. */
static xmlNode *ws_before(const xmlNode *n)
{
    return is_ws_text(n->prev) ? n->prev : NULL;
}

static xmlNode *next_non_text(const xmlNode *n)
{
    xmlNode *c;

    for (c = n->next; c && c->type == XML_TEXT_NODE; c = c->next)
        ;
    return c;
}

/* Link a fresh node before ref (NULL: at the end) without libxml2's merging
 * of adjacent text nodes, so the node pointers we hold stay valid. */
static void link_before(xmlNode *parent, xmlNode *ref, xmlNode *n)
{
    n->parent = parent;
    if (ref) {
        n->next = ref;
        n->prev = ref->prev;
        if (ref->prev)
            ref->prev->next = n;
        else
            parent->children = n;
        ref->prev = n;
    } else {
        n->next = NULL;
        n->prev = parent->last;
        if (parent->last)
            parent->last->next = n;
        else
            parent->children = n;
        parent->last = n;
    }
}

static int link_text_before(xmlNode *parent, xmlNode *ref, const char *text)
{
    xmlNode *t = xmlNewDocText(parent->doc, BAD_CAST text);

    if (!t)
        return -ENOMEM;
    link_before(parent, ref, t);
    return 0;
}

/* The indentation of parent's children ("\n      "), or NULL when the
 * children are not on lines of their own. */
static int child_indent(const xmlNode *parent, char **ret)
{
    bool has_children = false;
    const xmlNode *w;

    for (const xmlNode *c = parent->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE)
            continue;
        has_children = true;
        w = ws_before(c);
        if (w && strchr((const char *)w->content, '\n')) {
            *ret = strdup((const char *)w->content);
            return *ret ? 0 : -ENOMEM;
        }
    }
    *ret = NULL;
    if (has_children)
        return 0;
    /* No child yet: one level (libvirt's two spaces) deeper than parent. */
    w = ws_before(parent);
    if (w && strchr((const char *)w->content, '\n')) {
        *ret = strdup_printf("%s  ", (const char *)w->content);
        return *ret ? 0 : -ENOMEM;
    }
    return 0;
}

/* Insert n (fresh, unlinked) into parent before `before` (a child that is
 * not text), or at the end when NULL, on a line of its own when the siblings
 * are on lines of their own. */
static int insert_child_linked(xmlNode *parent, xmlNode *n, xmlNode *before)
{
    _cleanup_free_ char *indent = NULL;
    xmlNode *last = parent->last;
    int r;

    if (before) {
        xmlNode *w = ws_before(before);

        link_before(parent, before, n);
        return w ? link_text_before(parent, before, (const char *)w->content) : 0;
    }
    r = child_indent(parent, &indent);
    if (r < 0)
        return r;
    if (is_ws_text(last)) {
        /* Before the whitespace that indents the closing tag. */
        link_before(parent, last, n);
        return indent ? link_text_before(parent, n, indent) : 0;
    }
    if (!last && indent && ws_before(parent)) {
        /* An empty element gets an opening and a closing line. */
        const char *closing = (const char *)ws_before(parent)->content;

        if (link_text_before(parent, NULL, indent) < 0)
            return -ENOMEM;
        link_before(parent, NULL, n);
        return link_text_before(parent, NULL, closing);
    }
    if (indent && (r = link_text_before(parent, NULL, indent)) < 0)
        return r;
    link_before(parent, NULL, n);
    return 0;
}

/* Takes n: on failure it is freed unless it made it into the tree. */
static int insert_child(xmlNode *parent, xmlNode *n, xmlNode *before)
{
    int r = insert_child_linked(parent, n, before);

    if (r < 0 && !n->parent)
        xmlFreeNode(n);
    return r;
}

/* Insert n right after `after` (a child of parent). */
static int insert_child_after(xmlNode *parent, xmlNode *n, xmlNode *after)
{
    return insert_child(parent, n, next_non_text(after));
}

/* Remove n with its indentation; an element left with nothing but
 * whitespace becomes empty (<x/>), as libvirt would print it. */
static void remove_node(xmlNode *n)
{
    xmlNode *parent = n->parent, *w = ws_before(n);

    xmlUnlinkNode(n);
    xmlFreeNode(n);
    if (w) {
        xmlUnlinkNode(w);
        xmlFreeNode(w);
    }
    if (!parent || parent->type != XML_ELEMENT_NODE)
        return;
    for (xmlNode *c = parent->children; c; c = c->next)
        if (!is_ws_text(c))
            return;
    while (parent->children) {
        xmlNode *c = parent->children;

        xmlUnlinkNode(c);
        xmlFreeNode(c);
    }
}

static int set_attr(xmlNode *n, const char *name, const char *value)
{
    const char *old = xmlutil_attr(n, name);

    if (old && streq(old, value))
        return 0;
    return xmlSetProp(n, BAD_CAST name, BAD_CAST value) ? 0 : -ENOMEM;
}

static xmlNode *new_elem(xmlDoc *doc, xmlNs *ns, const char *name, const char *attr_name,
                         const char *attr_value)
{
    xmlNode *n = xmlNewDocNode(doc, ns, BAD_CAST name, NULL);

    if (!n)
        return NULL;
    if (attr_name && !xmlNewProp(n, BAD_CAST attr_name, BAD_CAST attr_value)) {
        xmlFreeNode(n);
        return NULL;
    }
    return n;
}

/* ---- the domain's boot devices ---- */

typedef struct Dev {
    xmlNode *node;
    xmlNode *boot;            /* its first <boot> child, or NULL */
    BootClass cls;
    char *key;                /* identity matched across definitions, never NULL */
    char *device;             /* identity reported in BootEntry, or NULL */
    unsigned long long order; /* <boot order>; ULLONG_MAX when missing or bad */
    size_t pos;               /* document position among boot devices */
    unsigned new_order;       /* order to write, 0 for none */
} Dev;

typedef struct Dom {
    xmlDoc *doc;
    xmlNode *root;
    xmlNode *os;
    xmlNode *devices;
    bool libvirt;     /* serializer style */
    const char *tail; /* the input's blanks after the root element */
    Dev *devs;
    size_t n_devs;
    size_t n_booted;
    xmlNode **os_boots;
    BootClass *os_classes;
    size_t n_os_boots;
    bool has_class[_BOOT_CLASS_MAX];
} Dom;

/* ---- serializing ---- */

/* libvirt's style: single quotes, ' and " escaped everywhere, root attributes
 * before namespace declarations.  libxml2's (xmlsave, also inside libvirt's
 * <metadata>): double quotes, namespace declarations first. */
static void put_qname(Buf *b, const xmlNs *ns, const xmlChar *name)
{
    if (ns && ns->prefix) {
        buf_puts(b, (const char *)ns->prefix);
        buf_puts(b, ":");
    }
    buf_puts(b, (const char *)name);
}

static void put_ns_defs(Buf *b, const xmlNode *n, bool libvirt)
{
    const char *q = libvirt ? "'" : "\"";

    for (const xmlNs *ns = n->nsDef; ns; ns = ns->next) {
        buf_puts(b, " xmlns");
        if (ns->prefix) {
            buf_puts(b, ":");
            buf_puts(b, (const char *)ns->prefix);
        }
        buf_puts(b, "=");
        buf_puts(b, q);
        xmlutil_put_escaped(b, ns->href, true, libvirt);
        buf_puts(b, q);
    }
}

static void put_node(Buf *b, const xmlNode *n, bool libvirt);

static void put_children(Buf *b, const xmlNode *n, bool libvirt)
{
    for (const xmlNode *c = n->children; c; c = c->next)
        put_node(b, c, libvirt);
}

static void put_node(Buf *b, const xmlNode *n, bool libvirt)
{
    const char *q;

    switch (n->type) {
    case XML_ELEMENT_NODE:
        /* libvirt dumps <metadata> with libxml2 (virDomainDefFormatInternal). */
        if (xmlutil_is_elem(n, "metadata") && n->parent && n->parent->parent &&
            n->parent->parent->type == XML_DOCUMENT_NODE)
            libvirt = false;
        q = libvirt ? "'" : "\"";
        buf_puts(b, "<");
        put_qname(b, n->ns, n->name);
        if (!libvirt)
            put_ns_defs(b, n, libvirt);
        for (const xmlAttr *a = n->properties; a; a = a->next) {
            buf_puts(b, " ");
            put_qname(b, a->ns, a->name);
            buf_puts(b, "=");
            buf_puts(b, q);
            for (const xmlNode *v = a->children; v; v = v->next) {
                if (v->type == XML_TEXT_NODE)
                    xmlutil_put_escaped(b, v->content, true, libvirt);
                else if (v->type == XML_ENTITY_REF_NODE)
                    buf_printf(b, "&%s;", (const char *)v->name);
            }
            buf_puts(b, q);
        }
        if (libvirt)
            put_ns_defs(b, n, libvirt);
        if (!n->children) {
            buf_puts(b, "/>");
            break;
        }
        buf_puts(b, ">");
        put_children(b, n, libvirt);
        buf_puts(b, "</");
        put_qname(b, n->ns, n->name);
        buf_puts(b, ">");
        break;
    case XML_TEXT_NODE:
        xmlutil_put_escaped(b, n->content, false, libvirt);
        break;
    case XML_CDATA_SECTION_NODE:
        buf_puts(b, "<![CDATA[");
        if (n->content)
            buf_puts(b, (const char *)n->content);
        buf_puts(b, "]]>");
        break;
    case XML_COMMENT_NODE:
        buf_puts(b, "<!--");
        if (n->content)
            buf_puts(b, (const char *)n->content);
        buf_puts(b, "-->");
        break;
    case XML_PI_NODE:
        buf_puts(b, "<?");
        buf_puts(b, (const char *)n->name);
        if (n->content && n->content[0]) {
            buf_puts(b, " ");
            buf_puts(b, (const char *)n->content);
        }
        buf_puts(b, "?>");
        break;
    case XML_ENTITY_REF_NODE:
        buf_printf(b, "&%s;", (const char *)n->name);
        break;
    default:
        break;
    }
}

/* Which style wrote the document: the quote of the root's first attribute. */
static bool written_by_libvirt(const char *xml)
{
    const char *p = xml;

    while ((p = strchr(p, '<'))) {
        if (startswith(p, "<!--")) {
            p = strstr(p + 4, "-->");
        } else if (p[1] == '?' || p[1] == '!') {
            p = strchr(p + 1, '>');
        } else {
            for (; *p && *p != '>'; p++)
                if (*p == '\'' || *p == '"')
                    return *p == '\'';
            return true;
        }
        if (!p)
            break;
    }
    return true;
}

/* Whitespace after the root element is not in the tree: keep the input's. */
static const char *trailing_blanks(const char *xml)
{
    const char *e = xml + strlen(xml);

    while (e > xml && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        e--;
    return e;
}

static int xml_write(const Dom *d, char **ret_xml)
{
    Buf b = {};
    char *s;

    for (const xmlNode *n = d->doc->children; n; n = n->next) {
        if (n->type == XML_DTD_NODE)
            continue;
        if (n != d->doc->children)
            buf_puts(&b, "\n");
        put_node(&b, n, d->libvirt);
    }
    buf_puts(&b, d->tail);
    s = buf_steal(&b);
    buf_free(&b);
    if (!s)
        return -ENOMEM;
    *ret_xml = s;
    return 0;
}

static void dom_done(Dom *d)
{
    for (size_t i = 0; i < d->n_devs; i++) {
        free(d->devs[i].key);
        free(d->devs[i].device);
    }
    free(d->devs);
    free(d->os_boots);
    free(d->os_classes);
    if (d->doc)
        xmlFreeDoc(d->doc);
    *d = (Dom){};
}

static BootClass device_class(const xmlNode *n)
{
    const char *device;

    if (xmlutil_is_elem(n, "interface"))
        return BOOT_CLASS_NETWORK;
    if (xmlutil_is_elem(n, "hostdev"))
        return BOOT_CLASS_HOSTDEV;
    if (xmlutil_is_elem(n, "redirdev"))
        return BOOT_CLASS_REDIRDEV;
    if (!xmlutil_is_elem(n, "disk"))
        return _BOOT_CLASS_INVALID;
    device = xmlutil_attr(n, "device");
    if (!device || streq(device, "disk") || streq(device, "lun"))
        return BOOT_CLASS_DISK;
    if (streq(device, "cdrom"))
        return BOOT_CLASS_CDROM;
    if (streq(device, "floppy"))
        return BOOT_CLASS_FLOPPY;
    return _BOOT_CLASS_INVALID;
}

static bool parse_num(const char *s, unsigned long max, unsigned long *ret)
{
    unsigned long v;
    char *end;

    if (!s || !isxdigit((unsigned char)*s))
        return false;
    errno = 0;
    v = strtoul(s, &end, 0);
    if (errno || *end || v > max)
        return false;
    *ret = v;
    return true;
}

/* "pci 0000:03:00.0", "usb 1d6b:0002", "usb 1.2", "scsi scsi_host0:0:0:0",
 * "mdev UUID", "scsi_host WWPN", else "TYPE #N". */
static char *hostdev_identity(const xmlNode *n, size_t index)
{
    const char *type = xmlutil_attr(n, "type");
    const xmlNode *src = xmlutil_child_elem(n, "source");
    const xmlNode *addr = xmlutil_child_elem(src, "address");
    unsigned long dom, bus, slot, fn, vendor, product, dev, target, unit;

    if (!type)
        type = "hostdev";
    if (streq(type, "pci") && addr) {
        if (!xmlutil_attr(addr, "domain"))
            dom = 0;
        else if (!parse_num(xmlutil_attr(addr, "domain"), 0xffff, &dom))
            goto fallback;
        if (parse_num(xmlutil_attr(addr, "bus"), 0xff, &bus) &&
            parse_num(xmlutil_attr(addr, "slot"), 0x1f, &slot) &&
            parse_num(xmlutil_attr(addr, "function"), 0x7, &fn))
            return strdup_printf("pci %04lx:%02lx:%02lx.%lx", dom, bus, slot, fn);
    } else if (streq(type, "usb")) {
        if (parse_num(xmlutil_attr(xmlutil_child_elem(src, "vendor"), "id"), 0xffff, &vendor) &&
            parse_num(xmlutil_attr(xmlutil_child_elem(src, "product"), "id"), 0xffff, &product))
            return strdup_printf("usb %04lx:%04lx", vendor, product);
        if (parse_num(xmlutil_attr(addr, "bus"), ULONG_MAX, &bus) &&
            parse_num(xmlutil_attr(addr, "device"), ULONG_MAX, &dev))
            return strdup_printf("usb %lu.%lu", bus, dev);
    } else if (streq(type, "scsi")) {
        const char *adapter = xmlutil_attr(xmlutil_child_elem(src, "adapter"), "name");

        if (adapter && parse_num(xmlutil_attr(addr, "bus"), ULONG_MAX, &bus) &&
            parse_num(xmlutil_attr(addr, "target"), ULONG_MAX, &target) &&
            parse_num(xmlutil_attr(addr, "unit"), ULONG_MAX, &unit))
            return strdup_printf("scsi %s:%lu:%lu:%lu", adapter, bus, target, unit);
        if (xmlutil_attr(src, "name"))
            return strdup_printf("scsi %s", xmlutil_attr(src, "name"));
    } else if (streq(type, "mdev") && xmlutil_attr(addr, "uuid")) {
        return strdup_printf("mdev %s", xmlutil_attr(addr, "uuid"));
    } else if (streq(type, "scsi_host") && xmlutil_attr(src, "wwpn")) {
        return strdup_printf("scsi_host %s", xmlutil_attr(src, "wwpn"));
    }
fallback:
    return strdup_printf("%s #%zu", type, index + 1);
}

/* Identity of a device: what BootEntry.device reports, and the key that
 * bootxml_apply_order matches on (within a class). */
static int dev_identity(Dev *v, size_t index)
{
    const char *s;

    switch (v->cls) {
    case BOOT_CLASS_NETWORK:
        s = xmlutil_attr(xmlutil_child_elem(v->node, "mac"), "address");
        if (s && *s) {
            v->device = strdup(s);
            v->key = strdup(s);
            if (!v->device || !v->key)
                return -ENOMEM;
            for (char *p = v->key; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            return 0;
        }
        break;
    case BOOT_CLASS_DISK:
    case BOOT_CLASS_CDROM:
    case BOOT_CLASS_FLOPPY:
        s = xmlutil_attr(xmlutil_child_elem(v->node, "target"), "dev");
        if (s && *s) {
            v->device = strdup(s);
            v->key = strdup(s);
            return v->device && v->key ? 0 : -ENOMEM;
        }
        break;
    case BOOT_CLASS_HOSTDEV:
        v->device = hostdev_identity(v->node, index);
        v->key = strdup_null(v->device);
        return v->device && v->key ? 0 : -ENOMEM;
    case BOOT_CLASS_REDIRDEV:
        s = xmlutil_attr(v->node, "bus");
        v->device = strdup_printf("%s %zu", s && *s ? s : "usb", index + 1);
        v->key = strdup_null(v->device);
        return v->device && v->key ? 0 : -ENOMEM;
    default:
        break;
    }
    /* No MAC or target (never in libvirt's output): the position. */
    v->key = strdup_printf("#%zu", index + 1);
    return v->key ? 0 : -ENOMEM;
}

static int dom_load(const char *xml, Dom *d)
{
    size_t n_devs = 0, n_os = 0, index[_BOOT_CLASS_MAX] = {}, n_disks = 0;
    int r;

    r = xmlutil_parse(xml, &d->doc);
    if (r < 0)
        return r;
    d->root = xmlDocGetRootElement(d->doc);
    d->libvirt = written_by_libvirt(xml);
    d->tail = trailing_blanks(xml);
    d->os = xmlutil_child_elem(d->root, "os");
    d->devices = xmlutil_child_elem(d->root, "devices");

    for (xmlNode *c = d->os ? d->os->children : NULL; c; c = c->next)
        if (xmlutil_is_elem(c, "boot"))
            n_os++;
    for (xmlNode *c = d->devices ? d->devices->children : NULL; c; c = c->next)
        if (device_class(c) != _BOOT_CLASS_INVALID)
            n_devs++;
    d->os_boots = calloc(n_os + 1, sizeof(*d->os_boots));
    d->os_classes = calloc(n_os + 1, sizeof(*d->os_classes));
    d->devs = calloc(n_devs + 1, sizeof(*d->devs));
    if (!d->os_boots || !d->os_classes || !d->devs)
        return -ENOMEM;

    for (xmlNode *c = d->os ? d->os->children : NULL; c; c = c->next) {
        const char *dev = xmlutil_attr(c, "dev");
        BootClass cls = _BOOT_CLASS_INVALID;

        if (!xmlutil_is_elem(c, "boot"))
            continue;
        for (int k = 0; dev && k < _BOOT_CLASS_MAX; k++)
            if (os_devs[k] && streq(dev, os_devs[k]))
                cls = (BootClass)k;
        if (cls == _BOOT_CLASS_INVALID) {
            error_setf("XML: unknown boot device '%s'", dev ? dev : "");
            return -EINVAL; /* libvirt refuses it too */
        }
        d->os_boots[d->n_os_boots] = c;
        d->os_classes[d->n_os_boots++] = cls;
    }

    for (xmlNode *c = d->devices ? d->devices->children : NULL; c; c = c->next) {
        BootClass cls = device_class(c);
        Dev *v;
        size_t i;

        if (cls == _BOOT_CLASS_INVALID)
            continue;
        v = &d->devs[d->n_devs];
        v->node = c;
        v->cls = cls;
        v->pos = d->n_devs++;
        v->boot = xmlutil_child_elem(c, "boot");
        v->order = ULLONG_MAX;
        if (v->boot) {
            unsigned long long o;

            if (parse_uint(xmlutil_attr(v->boot, "order"), 1, UINT_MAX, &o) >= 0)
                v->order = o;
            d->n_booted++;
        }
        d->has_class[cls] = true;
        /* Disks count positions among all <disk>s, others within their class. */
        if (cls == BOOT_CLASS_DISK || cls == BOOT_CLASS_CDROM || cls == BOOT_CLASS_FLOPPY)
            i = n_disks++;
        else
            i = index[cls]++;
        r = dev_identity(v, i);
        if (r < 0)
            return r;
    }
    return 0;
}

static int dom_style(const Dom *d, BootStyle *ret)
{
    if (d->n_os_boots > 0 && d->n_booted > 0) {
        /* libvirt refuses this definition. */
        error_setf("XML: per-device boot elements together with <os><boot>");
        return -EINVAL;
    }
    *ret = d->n_os_boots ? BOOT_STYLE_OS : d->n_booted ? BOOT_STYLE_PER_DEVICE : BOOT_STYLE_NONE;
    return 0;
}

static int cmp_boot_order(const void *a, const void *b)
{
    const Dev *x = *(Dev *const *)a, *y = *(Dev *const *)b;

    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* The booted devices, sorted by their order (ties in document order). */
static int booted_sorted(const Dom *d, Dev ***ret, size_t *ret_n)
{
    Dev **v = calloc(d->n_booted + 1, sizeof(*v));
    size_t n = 0;

    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < d->n_devs; i++)
        if (d->devs[i].boot)
            v[n++] = &d->devs[i];
    qsort(v, n, sizeof(*v), cmp_boot_order);
    *ret = v;
    *ret_n = n;
    return 0;
}

static xmlNode *metadata_instance(const Dom *d)
{
    return xmlutil_child_ns_elem(xmlutil_child_elem(d->root, "metadata"), VIRTMCD_XMLNS,
                                 "instance");
}

static const xmlNode *once_marker_elem(const Dom *d)
{
    return xmlutil_child_ns_elem(metadata_instance(d), VIRTMCD_XMLNS, "boot-once");
}

static const char *live_boot_marker(const Dom *d)
{
    const xmlNode *e = xmlutil_child_ns_elem(metadata_instance(d), VIRTMCD_XMLNS, "live-boot");

    return xmlutil_attr(e, "order");
}

static const char *once_marker(const Dom *d)
{
    const char *id = xmlutil_attr(once_marker_elem(d), "restore");

    return id && *id ? id : NULL;
}

/* ---- rewriting ---- */

static void remove_boots(xmlNode *dev)
{
    xmlNode *b;

    while ((b = xmlutil_child_elem(dev, "boot")))
        remove_node(b);
}

/* Per-device order from the new_order fields; every other boot element goes. */
static int write_per_device(Dom *d)
{
    char num[32];
    int r;

    for (size_t i = 0; i < d->n_os_boots; i++)
        remove_node(d->os_boots[i]);
    d->n_os_boots = 0;

    for (size_t i = 0; i < d->n_devs; i++) {
        Dev *v = &d->devs[i];
        xmlNode *before = NULL, *b;

        if (!v->new_order) {
            remove_boots(v->node);
            v->boot = NULL;
            continue;
        }
        snprintf(num, sizeof(num), "%u", v->new_order);
        if (v->boot) {
            /* Keep the element (and its loadparm); drop duplicates. */
            for (b = next_non_text(v->boot); b;) {
                xmlNode *next = next_non_text(b);

                if (xmlutil_is_elem(b, "boot"))
                    remove_node(b);
                b = next;
            }
            if (v->order != v->new_order && (r = set_attr(v->boot, "order", num)) < 0)
                return r;
            continue;
        }
        for (xmlNode *c = v->node->children; c && !before; c = c->next)
            if (is_elem_in(c, after_boot_in_device, ELEMENTSOF(after_boot_in_device)))
                before = c;
        b = new_elem(d->doc, NULL, "boot", "order", num);
        if (!b)
            return -ENOMEM;
        r = insert_child(v->node, b, before);
        if (r < 0)
            return r;
        v->boot = b;
    }
    return 0;
}

/* os-style order: the existing <boot dev> elements are rewritten in place,
 * extra ones removed, missing ones added after them; per-device boots go. */
static int write_os(Dom *d, const BootClass *classes, size_t n)
{
    xmlNode *prev = NULL;
    int r;

    for (size_t i = 0; i < d->n_devs; i++) {
        remove_boots(d->devs[i].node);
        d->devs[i].boot = NULL;
    }
    if (n > 0 && !d->os) {
        error_setf("XML: the domain has no <os> element");
        return -EINVAL;
    }
    for (size_t i = 0; i < d->n_os_boots; i++) {
        if (i < n) {
            r = set_attr(d->os_boots[i], "dev", os_devs[classes[i]]);
            if (r < 0)
                return r;
            prev = d->os_boots[i];
        } else
            remove_node(d->os_boots[i]);
    }
    for (size_t i = d->n_os_boots; i < n; i++) {
        xmlNode *b = new_elem(d->doc, NULL, "boot", "dev", os_devs[classes[i]]);
        xmlNode *before = NULL;

        if (!b)
            return -ENOMEM;
        if (prev)
            r = insert_child_after(d->os, b, prev);
        else {
            for (xmlNode *c = d->os->children; c && !before; c = c->next)
                if (is_elem_in(c, after_boot_in_os, ELEMENTSOF(after_boot_in_os)))
                    before = c;
            r = insert_child(d->os, b, before);
        }
        if (r < 0)
            return r;
        prev = b;
    }
    return 0;
}

static void clear_new_order(Dom *d)
{
    for (size_t i = 0; i < d->n_devs; i++)
        d->devs[i].new_order = 0;
}

/* ---- the API ---- */

int bootxml_parse(const char *xml, BootInfo **ret)
{
    _cleanup_(dom_done) Dom d = {};
    _cleanup_(boot_info_freep) BootInfo *b = NULL;
    _cleanup_free_ Dev **booted = NULL;
    size_t n_booted = 0;
    BootStyle style;
    const char *once, *fw, *loader;
    XMLUTIL_SILENCE_ERRORS;
    int r;

    r = dom_load(xml, &d);
    if (r < 0)
        return r;
    r = dom_style(&d, &style);
    if (r < 0)
        return r;
    b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->style = style;
    memcpy(b->has_class, d.has_class, sizeof(b->has_class));
    fw = xmlutil_attr(d.os, "firmware");
    loader = xmlutil_attr(xmlutil_child_elem(d.os, "loader"), "type");
    b->uefi = (fw && streq(fw, "efi")) || (loader && streq(loader, "pflash"));
    once = once_marker(&d);
    if (once && !(b->once_restore = strdup(once)))
        return -ENOMEM;
    if (live_boot_marker(&d)) {
        const char *at = xmlutil_attr(xmlutil_child_ns_elem(metadata_instance(&d), VIRTMCD_XMLNS,
                                                            "live-boot"), "at");

        if (!(b->live_boot = strdup(live_boot_marker(&d))))
            return -ENOMEM;
        if (!at || parse_uint(at, 0, ULLONG_MAX, &b->live_boot_at) < 0)
            b->live_boot_at = 0;
    }
    b->once_armed_reason = -1;
    if (once) {
        const char *st = xmlutil_attr(once_marker_elem(&d), "armed-state");
        const char *rs = xmlutil_attr(once_marker_elem(&d), "armed-reason");
        unsigned long long v;

        if (st && !(b->once_armed_state = strdup(st)))
            return -ENOMEM;
        if (rs && parse_uint(rs, 0, 1000, &v) == 0)
            b->once_armed_reason = (int)v;
    }

    if (style == BOOT_STYLE_OS) {
        b->entries = calloc(d.n_os_boots, sizeof(*b->entries));
        if (!b->entries)
            return -ENOMEM;
        for (size_t i = 0; i < d.n_os_boots; i++)
            b->entries[b->n_entries++] = (BootEntry){ .cls = d.os_classes[i], .order = i + 1 };
    } else if (style == BOOT_STYLE_PER_DEVICE) {
        r = booted_sorted(&d, &booted, &n_booted);
        if (r < 0)
            return r;
        b->entries = calloc(n_booted, sizeof(*b->entries));
        if (!b->entries)
            return -ENOMEM;
        for (size_t i = 0; i < n_booted; i++) {
            BootEntry *e = &b->entries[b->n_entries];

            e->cls = booted[i]->cls;
            e->order = i + 1;
            if (booted[i]->device && !(e->device = strdup(booted[i]->device)))
                return -ENOMEM;
            b->n_entries++;
        }
    }
    *ret = steal_ptr(&b);
    return 0;
}

int bootxml_set_first(const char *xml, BootClass first, char **ret_xml)
{
    _cleanup_(dom_done) Dom d = {};
    _cleanup_free_ Dev **booted = NULL;
    _cleanup_free_ BootClass *classes = NULL;
    size_t n_booted = 0, n = 0;
    unsigned next = 1;
    BootStyle style;
    XMLUTIL_SILENCE_ERRORS;
    int r;

    if (first < 0 || first >= _BOOT_CLASS_MAX)
        return -EINVAL;
    r = dom_load(xml, &d);
    if (r < 0)
        return r;
    r = dom_style(&d, &style);
    if (r < 0)
        return r;
    if (!d.has_class[first])
        return -ENODEV;

    switch (style) {
    case BOOT_STYLE_OS:
        if (!os_devs[first])
            return -EOPNOTSUPP; /* <os><boot dev> cannot name it; styles never mix */
        classes = calloc(d.n_os_boots + 1, sizeof(*classes));
        if (!classes)
            return -ENOMEM;
        classes[n++] = first;
        for (size_t i = 0; i < d.n_os_boots; i++)
            if (d.os_classes[i] != first)
                classes[n++] = d.os_classes[i];
        r = write_os(&d, classes, n);
        break;
    case BOOT_STYLE_PER_DEVICE: {
        bool first_booted = false;

        r = booted_sorted(&d, &booted, &n_booted);
        if (r < 0)
            return r;
        for (size_t i = 0; i < n_booted; i++)
            if (booted[i]->cls == first)
                first_booted = true;
        if (first_booted) {
            for (size_t i = 0; i < n_booted; i++)
                if (booted[i]->cls == first)
                    booted[i]->new_order = next++;
        } else {
            for (size_t i = 0; i < d.n_devs; i++)
                if (d.devs[i].cls == first)
                    d.devs[i].new_order = next++;
        }
        for (size_t i = 0; i < n_booted; i++)
            if (booted[i]->cls != first)
                booted[i]->new_order = next++;
        r = write_per_device(&d);
        break;
    }
    default:
        for (size_t i = 0; i < d.n_devs; i++)
            if (d.devs[i].cls == first)
                d.devs[i].new_order = next++;
        for (size_t k = 0; k < ELEMENTSOF(default_classes); k++) {
            if (default_classes[k] == first)
                continue;
            for (size_t i = 0; i < d.n_devs; i++)
                if (d.devs[i].cls == default_classes[k])
                    d.devs[i].new_order = next++;
        }
        r = write_per_device(&d);
        break;
    }
    if (r < 0)
        return r;
    return xml_write(&d, ret_xml);
}

int bootxml_apply_order(const char *xml, const char *from_xml, char **ret_xml)
{
    _cleanup_(dom_done) Dom d = {};
    _cleanup_(dom_done) Dom f = {};
    _cleanup_free_ Dev **booted = NULL;
    size_t n_booted = 0;
    unsigned next = 1;
    BootStyle style;
    XMLUTIL_SILENCE_ERRORS;
    int r;

    r = dom_load(xml, &d);
    if (r < 0)
        return r;
    r = dom_load(from_xml, &f);
    if (r < 0)
        return r;
    r = dom_style(&f, &style);
    if (r < 0)
        return r;

    clear_new_order(&d);
    switch (style) {
    case BOOT_STYLE_OS:
        r = write_os(&d, f.os_classes, f.n_os_boots);
        break;
    case BOOT_STYLE_PER_DEVICE:
        r = booted_sorted(&f, &booted, &n_booted);
        if (r < 0)
            return r;
        for (size_t i = 0; i < n_booted; i++)
            for (size_t j = 0; j < d.n_devs; j++) {
                Dev *v = &d.devs[j];

                if (!v->new_order && v->cls == booted[i]->cls && streq(v->key, booted[i]->key)) {
                    v->new_order = next++;
                    break;
                }
            }
        r = write_per_device(&d);
        break;
    default:
        r = write_per_device(&d);
        break;
    }
    if (r < 0)
        return r;
    return xml_write(&d, ret_xml);
}

int bootxml_set_once(const char *xml, const char *restore_id, char **ret_xml)
{
    return bootxml_set_once_armed(xml, restore_id, NULL, -1, ret_xml);
}

int bootxml_set_firmware(const char *xml, bool uefi, char **ret_xml)
{
    _cleanup_(dom_done) Dom d = {};
    xmlNode *n, *fw, *feature;
    XMLUTIL_SILENCE_ERRORS;
    int r;

    r = dom_load(xml, &d);
    if (r < 0)
        return r;
    if (!d.os)
        return -EINVAL;
    /* What chose the other firmware goes with it: its loader, its NVRAM
     * (the variables stay in their file, for a switch back), the feature
     * list of an autoselection. */
    while ((n = xmlutil_child_elem(d.os, "loader")))
        remove_node(n);
    while ((n = xmlutil_child_elem(d.os, "nvram")))
        remove_node(n);
    while ((n = xmlutil_child_elem(d.os, "firmware")))
        remove_node(n);
    if (!uefi) {
        (void)xmlUnsetProp(d.os, BAD_CAST "firmware");
        return xml_write(&d, ret_xml);
    }
    /* libvirt's autoselection of an EFI firmware, without Secure Boot
     * (which asks for SMM and enrolled keys, and refuses unsigned media). */
    if (!xmlSetProp(d.os, BAD_CAST "firmware", BAD_CAST "efi"))
        return -ENOMEM;
    fw = new_elem(d.doc, NULL, "firmware", NULL, NULL);
    if (!fw)
        return -ENOMEM;
    n = xmlutil_child_elem(d.os, "type");
    r = n ? insert_child_after(d.os, fw, n) : insert_child(d.os, fw, NULL);
    if (r < 0)
        return r;
    feature = new_elem(d.doc, NULL, "feature", "enabled", "no");
    if (!feature || !xmlNewProp(feature, BAD_CAST "name", BAD_CAST "secure-boot")) {
        if (feature)
            xmlFreeNode(feature);
        return -ENOMEM;
    }
    r = insert_child(fw, feature, NULL);
    if (r < 0)
        return r;
    return xml_write(&d, ret_xml);
}

int bootxml_set_once_armed(const char *xml, const char *restore_id, const char *armed_state,
                           int armed_reason, char **ret_xml)
{
    _cleanup_(dom_done) Dom d = {};
    xmlNode *metadata, *inst, *marker;
    XMLUTIL_SILENCE_ERRORS;
    int r;

    if (restore_id && !*restore_id)
        return -EINVAL;
    r = dom_load(xml, &d);
    if (r < 0)
        return r;
    metadata = xmlutil_child_elem(d.root, "metadata");
    inst = metadata_instance(&d);

    if (!restore_id) {
        /* <virtmcd:instance> stays, even empty: it holds more than the marker. */
        while ((marker = xmlutil_child_ns_elem(inst, VIRTMCD_XMLNS, "boot-once")))
            remove_node(marker);
        return xml_write(&d, ret_xml);
    }

    if (!metadata) {
        xmlNode *anchor = NULL, *before;

        for (xmlNode *c = d.root->children; c; c = c->next)
            if (is_elem_in(c, before_metadata, ELEMENTSOF(before_metadata)))
                anchor = c;
        if (anchor)
            before = next_non_text(anchor);
        else
            for (before = d.root->children; before && before->type == XML_TEXT_NODE;)
                before = before->next;
        metadata = new_elem(d.doc, NULL, "metadata", NULL, NULL);
        if (!metadata)
            return -ENOMEM;
        r = insert_child(d.root, metadata, before);
        if (r < 0)
            return r;
    }
    if (!inst) {
        xmlNs *ns;

        inst = new_elem(d.doc, NULL, "instance", NULL, NULL);
        if (!inst)
            return -ENOMEM;
        ns = xmlNewNs(inst, BAD_CAST VIRTMCD_XMLNS, BAD_CAST VIRTMCD_XMLNS_PREFIX);
        if (!ns) {
            xmlFreeNode(inst);
            return -ENOMEM;
        }
        xmlSetNs(inst, ns);
        r = insert_child(metadata, inst, NULL);
        if (r < 0)
            return r;
    }
    marker = xmlutil_child_ns_elem(inst, VIRTMCD_XMLNS, "boot-once");
    if (marker) {
        for (xmlNode *c = next_non_text(marker); c;) {
            xmlNode *next = next_non_text(c);

            if (xmlutil_is_ns_elem(c, VIRTMCD_XMLNS, "boot-once"))
                remove_node(c);
            c = next;
        }
        r = set_attr(marker, "restore", restore_id);
        if (r < 0)
            return r;
    } else {
        marker = new_elem(d.doc, inst->ns, "boot-once", "restore", restore_id);
        if (!marker)
            return -ENOMEM;
        r = insert_child(inst, marker, NULL);
        if (r < 0)
            return r;
    }
    if (armed_state) {
        char num[16];

        snprintf(num, sizeof(num), "%d", armed_reason);
        r = set_attr(marker, "armed-state", armed_state);
        if (r >= 0)
            r = set_attr(marker, "armed-reason", num);
        if (r < 0)
            return r;
    }
    return xml_write(&d, ret_xml);
}

/* ---- the running QEMU ---- */

/* The bootindex libvirt gives each device of d at a cold start (-1: none). */
static void effective_indexes(const Dom *d, BootStyle style, int *ret)
{
    int pos[_BOOT_CLASS_MAX] = {};

    for (size_t i = 0; i < d->n_devs; i++)
        ret[i] = -1;
    if (style == BOOT_STYLE_PER_DEVICE) {
        for (size_t i = 0; i < d->n_devs; i++)
            if (d->devs[i].boot && d->devs[i].order <= INT_MAX)
                ret[i] = (int)d->devs[i].order;
        return;
    }
    if (style != BOOT_STYLE_OS)
        return;
    /* qemuProcessPrepareDeviceBootorder: the last mention of a class wins. */
    for (size_t i = 0; i < d->n_os_boots; i++)
        pos[d->os_classes[i]] = (int)i + 1;
    for (size_t i = 0; i < d->n_devs; i++) {
        BootClass c = d->devs[i].cls;

        if (c == BOOT_CLASS_HOSTDEV || c == BOOT_CLASS_REDIRDEV || !pos[c])
            continue;
        ret[i] = pos[c];
        pos[c] = 0; /* only the first device of the class */
    }
}

int bootxml_live_plan(const char *live_xml, const char *new_xml, BootIndex **ret, size_t *ret_n)
{
    _cleanup_(dom_done) Dom live = {};
    _cleanup_(dom_done) Dom d = {};
    _cleanup_free_ int *idx = NULL;
    BootIndex *plan = NULL;
    size_t n = 0;
    BootStyle style;
    XMLUTIL_SILENCE_ERRORS;
    int r;

    r = dom_load(live_xml, &live);
    if (r < 0)
        return r;
    r = dom_load(new_xml, &d);
    if (r < 0)
        return r;
    r = dom_style(&d, &style);
    if (r < 0)
        return r;
    idx = calloc(d.n_devs + 1, sizeof(*idx));
    plan = calloc(live.n_devs + 1, sizeof(*plan));
    if (!idx || !plan) {
        free(plan);
        return -ENOMEM;
    }
    effective_indexes(&d, style, idx);
    for (size_t i = 0; i < live.n_devs; i++) {
        const Dev *v = &live.devs[i];
        const char *alias = xmlutil_attr(xmlutil_child_elem(v->node, "alias"), "name");
        int index = -1;

        if (!alias || !*alias)
            continue;
        for (size_t j = 0; j < d.n_devs; j++)
            if (d.devs[j].cls == v->cls && streq(d.devs[j].key, v->key)) {
                index = idx[j];
                break;
            }
        plan[n].alias = strdup(alias);
        if (!plan[n].alias) {
            boot_index_free(plan, n);
            return -ENOMEM;
        }
        plan[n++].index = index;
    }
    *ret = plan;
    *ret_n = n;
    return 0;
}

int bootxml_meta_set_live_boot(const char *instance_xml, const char *order_key,
                               unsigned long long at_usec, char **ret_xml)
{
    xmlDoc *doc = NULL;
    const xmlNode *root = NULL;
    Buf b = {};
    char *s;
    XMLUTIL_SILENCE_ERRORS;
    int r;

    if (instance_xml) {
        r = xmlutil_parse_instance(instance_xml, &doc, &root);
        if (r < 0)
            return r;
    }
    buf_puts(&b, "<instance>");
    /* virtmcd's own elements are flat: a name, attributes and text. */
    for (const xmlNode *c = root ? root->children : NULL; c; c = c->next)
        if (xmlutil_is_ns_elem(c, VIRTMCD_XMLNS, (const char *)c->name) &&
            !xmlutil_is_ns_elem(c, VIRTMCD_XMLNS, "live-boot"))
            xmlutil_put_flat_elem(&b, c);
    if (order_key) {
        buf_puts(&b, "<live-boot order='");
        xmlutil_put_escaped(&b, BAD_CAST order_key, true, true);
        buf_printf(&b, "' at='%llu'/>", at_usec);
    }
    buf_puts(&b, "</instance>");
    if (doc)
        xmlFreeDoc(doc);
    s = buf_steal(&b);
    buf_free(&b);
    if (!s)
        return -ENOMEM;
    *ret_xml = s;
    return 0;
}
