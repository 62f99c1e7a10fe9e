/* poolxml.c: the XML of pool clones: the template's disks, the clone's
 * definition, the pool part of virtmcd's metadata.  Pure, as poolxml.h
 * says. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "poolxml.h"
#include "strtable.h"
#include "util.h"
#include "xmlns.h"
#include "xmlutil.h"

static const char *const pool_state_table[_POOL_STATE_MAX] = {
    [POOL_STATE_PENDING] = "pending",
    [POOL_STATE_READY] = "ready",
    [POOL_STATE_RUNNING] = "running",
    [POOL_STATE_COMPLETED] = "completed",
};
DEFINE_STRING_TABLE_LOOKUP(pool_state, PoolState)

static const char *const pool_action_table[_POOL_ACTION_MAX] = {
    [POOL_ACTION_KEEP] = "keep",       [POOL_ACTION_START] = "start",
    [POOL_ACTION_CHECK] = "check",     [POOL_ACTION_RECYCLE] = "recycle",
    [POOL_ACTION_EXPIRE] = "expire",   [POOL_ACTION_DELETE] = "delete",
    [POOL_ACTION_IGNORE] = "ignore",
};
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(pool_action, pool_action_table, PoolAction, )

PoolAction pool_next_action(const PoolClone *c, long long now, unsigned timeout_min,
                            unsigned ready_ttl_min)
{
    switch (c->state) {
    case POOL_STATE_PENDING:
        if (now - c->since > (long long)timeout_min * 60)
            return POOL_ACTION_RECYCLE;
        return c->active ? POOL_ACTION_CHECK : POOL_ACTION_START;
    case POOL_STATE_READY:
        if (now - c->since > (long long)ready_ttl_min * 60 || !c->active)
            return POOL_ACTION_RECYCLE;
        return POOL_ACTION_KEEP;
    case POOL_STATE_RUNNING:
        /* The owner's machine, running or not, until the lease ends. */
        return c->expires && c->expires <= now ? POOL_ACTION_EXPIRE : POOL_ACTION_KEEP;
    case POOL_STATE_COMPLETED:
        return POOL_ACTION_DELETE;
    default:
        return POOL_ACTION_IGNORE;
    }
}

bool pool_action_counts(const PoolClone *c, PoolAction a)
{
    return (c->state == POOL_STATE_PENDING || c->state == POOL_STATE_READY) &&
           a != POOL_ACTION_RECYCLE;
}

void pool_disks_free(PoolDisk *d, size_t n)
{
    for (size_t i = 0; d && i < n; i++) {
        free(d[i].target);
        free(d[i].type);
        free(d[i].source);
        free(d[i].vol_pool);
        free(d[i].format);
    }
    free(d);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Whether disk c is one a clone gets its own volume for; -EINVAL (with the
 * message) when it should be but cannot be a volume. */
static int disk_cloned(const xmlNode *c, bool *ret)
{
    const char *device = xmlutil_attr(c, "device"), *type = xmlutil_attr(c, "type");
    const xmlNode *src = xmlutil_child_elem(c, "source"), *target = xmlutil_child_elem(c, "target");
    const char *dev = target ? xmlutil_attr(target, "dev") : NULL;

    *ret = false;
    if (device && !streq(device, "disk"))
        return 0;
    if (xmlutil_child_elem(c, "readonly") || xmlutil_child_elem(c, "shareable") || !src)
        return 0;
    if (!dev || !*dev) {
        error_setf("a disk of the template has no <target dev=>");
        return -EINVAL;
    }
    type = type ? type : "file";
    if ((streq(type, "file") && xmlutil_attr(src, "file")) ||
        (streq(type, "block") && xmlutil_attr(src, "dev")) ||
        (streq(type, "volume") && xmlutil_attr(src, "pool") && xmlutil_attr(src, "volume"))) {
        *ret = true;
        return 0;
    }
    error_setf("disk '%s' of the template (type %s) is not a volume in a libvirt storage pool",
               dev, type);
    return -EINVAL;
}

int poolxml_template_disks(const char *template_xml, PoolDisk **ret, size_t *ret_n)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
    const xmlNode *devices;
    PoolDisk *d = NULL;
    size_t n = 0;
    int r;

    r = xmlutil_parse(template_xml, &doc);
    if (r < 0)
        return r;
    devices = xmlutil_child_elem(xmlDocGetRootElement(doc), "devices");
    for (const xmlNode *c = devices ? devices->children : NULL; c; c = c->next) {
        const xmlNode *src, *drv;
        const char *type;
        PoolDisk *nd;
        bool cloned;

        if (!xmlutil_is_elem(c, "disk"))
            continue;
        r = disk_cloned(c, &cloned);
        if (r < 0)
            goto fail;
        if (!cloned)
            continue;
        nd = realloc(d, (n + 1) * sizeof(*d));
        r = -ENOMEM;
        if (!nd)
            goto fail;
        d = nd;
        d[n] = (PoolDisk){ 0 };
        n++;
        src = xmlutil_child_elem(c, "source");
        drv = xmlutil_child_elem(c, "driver");
        type = xmlutil_attr(c, "type") ? xmlutil_attr(c, "type") : "file";
        d[n - 1].target = strdup(xmlutil_attr(xmlutil_child_elem(c, "target"), "dev"));
        d[n - 1].type = strdup(type);
        d[n - 1].source = strdup(streq(type, "file")    ? xmlutil_attr(src, "file")
                                 : streq(type, "block") ? xmlutil_attr(src, "dev")
                                                        : xmlutil_attr(src, "volume"));
        d[n - 1].vol_pool = streq(type, "volume") ? strdup(xmlutil_attr(src, "pool")) : NULL;
        d[n - 1].format = dup_or_null(drv ? xmlutil_attr(drv, "type") : NULL);
        if (!d[n - 1].target || !d[n - 1].type || !d[n - 1].source ||
            (streq(type, "volume") && !d[n - 1].vol_pool) ||
            (drv && xmlutil_attr(drv, "type") && !d[n - 1].format))
            goto fail;
    }
    *ret = d;
    *ret_n = n;
    return 0;
fail:
    pool_disks_free(d, n);
    return r;
}

/* The attributes of <pool> and the <volume> elements, as text (the
 * unprefixed element of poolxml_meta_apply, or under `prefix:`). */
static void put_meta(Buf *b, const DomPool *m, const char *prefix)
{
    buf_printf(b, "<%spool name='", prefix);
    xmlutil_put_escaped(b, BAD_CAST m->name, true, true);
    buf_puts(b, "'");
    if (m->template_name) {
        buf_puts(b, " template='");
        xmlutil_put_escaped(b, BAD_CAST m->template_name, true, true);
        buf_puts(b, "'");
    }
    if (m->state) {
        buf_puts(b, " state='");
        xmlutil_put_escaped(b, BAD_CAST m->state, true, true);
        buf_puts(b, "'");
    }
    if (m->created)
        buf_printf(b, " created='%lld'", m->created);
    if (m->since)
        buf_printf(b, " since='%lld'", m->since);
    if (m->checkout)
        buf_printf(b, " checkout='%lld'", m->checkout);
    if (m->lifetime)
        buf_printf(b, " lifetime='%u'", m->lifetime);
    if (m->expires)
        buf_printf(b, " expires='%lld'", m->expires);
    buf_puts(b, "/>");
    for (size_t i = 0; m->volumes && m->volumes[i]; i++) {
        buf_printf(b, "<%svolume path='", prefix);
        xmlutil_put_escaped(b, BAD_CAST m->volumes[i], true, true);
        buf_puts(b, "'/>");
    }
}

static bool is_pool_elem(const xmlNode *c)
{
    return xmlutil_is_ns_elem(c, VIRTMCD_XMLNS, "pool") ||
           xmlutil_is_ns_elem(c, VIRTMCD_XMLNS, "volume");
}

int poolxml_meta_apply(const char *instance_xml, const DomPool *meta, char **ret_xml)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
    const xmlNode *root = NULL;
    Buf b = { 0 };
    char *s;
    XMLUTIL_SILENCE_ERRORS;
    int r;

    if (!meta->name) {
        error_setf("a pool clone's metadata needs the pool's name");
        return -EINVAL;
    }
    if (instance_xml) {
        r = xmlutil_parse_instance(instance_xml, &doc, &root);
        if (r < 0)
            return r;
    }
    buf_puts(&b, "<instance>");
    /* The owner, description and tags first, as metaxml writes them. */
    for (const xmlNode *c = root ? root->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && c->ns && streq((const char *)c->ns->href, VIRTMCD_XMLNS) &&
            !is_pool_elem(c))
            xmlutil_put_flat_elem(&b, c);
    put_meta(&b, meta, "");
    buf_puts(&b, "</instance>");
    s = buf_steal(&b);
    buf_free(&b);
    if (!s)
        return -ENOMEM;
    *ret_xml = s;
    return 0;
}

static int set_attr(xmlNode *n, const char *name, const char *value)
{
    return xmlSetProp(n, BAD_CAST name, BAD_CAST value) ? 0 : -ENOMEM;
}

/* Remove every child element of n called name (no namespace). */
static void drop_children(xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL, *next; c; c = next) {
        next = c->next;
        if (xmlutil_is_elem(c, name)) {
            /* The indentation before it goes too. */
            if (c->prev && c->prev->type == XML_TEXT_NODE && xmlIsBlankNode(c->prev)) {
                xmlNode *w = c->prev;

                xmlUnlinkNode(w);
                xmlFreeNode(w);
            }
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
    }
}

static int rewrite_disk(xmlNode *disk, const char *source, const char *format)
{
    const char *type = xmlutil_attr(disk, "type") ? xmlutil_attr(disk, "type") : "file";
    xmlNode *src = xmlutil_child_elem(disk, "source"), *drv = xmlutil_child_elem(disk, "driver");
    int r;

    r = set_attr(src, streq(type, "file") ? "file" : streq(type, "block") ? "dev" : "volume",
                 source);
    if (r < 0)
        return r;
    drop_children(disk, "backingStore");
    if (!format)
        return 0;
    if (!drv) {
        drv = xmlNewNode(NULL, BAD_CAST "driver");
        if (!drv || !xmlAddPrevSibling(src, drv) || set_attr(drv, "name", "qemu") < 0)
            return -ENOMEM;
    }
    return set_attr(drv, "type", format);
}

/* <metadata><virtmcd:instance> with the pool's part only. */
static int set_metadata(xmlDoc *doc, xmlNode *root, const DomPool *meta)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr mdoc = NULL;
    xmlNode *md = xmlutil_child_elem(root, "metadata"), *inst, *copy;
    Buf b = { 0 };
    _cleanup_free_ char *wrapped = NULL;
    int r;

    if (!md) {
        md = xmlNewNode(NULL, BAD_CAST "metadata");
        if (!md)
            return -ENOMEM;
        /* After <name>, where libvirt itself writes it: any place is valid. */
        if (!xmlAddNextSibling(xmlutil_child_elem(root, "name"), md)) {
            xmlFreeNode(md);
            return -ENOMEM;
        }
    }
    while ((inst = xmlutil_child_ns_elem(md, VIRTMCD_XMLNS, "instance"))) {
        xmlUnlinkNode(inst);
        xmlFreeNode(inst);
    }
    /* Parsed from text within a <domain> wrapper, so xmlutil's safe parser
     * builds it, then copied into the document. */
    buf_puts(&b, "<domain><" VIRTMCD_XMLNS_PREFIX ":instance xmlns:" VIRTMCD_XMLNS_PREFIX "='"
                 VIRTMCD_XMLNS "'>");
    put_meta(&b, meta, VIRTMCD_XMLNS_PREFIX ":");
    buf_puts(&b, "</" VIRTMCD_XMLNS_PREFIX ":instance></domain>");
    wrapped = buf_steal(&b);
    buf_free(&b);
    if (!wrapped)
        return -ENOMEM;
    r = xmlutil_parse(wrapped, &mdoc);
    if (r < 0)
        return r;
    copy = xmlDocCopyNode(xmlDocGetRootElement(mdoc)->children, doc, 1);
    if (!copy || !xmlAddChild(md, copy)) {
        xmlFreeNode(copy);
        return -ENOMEM;
    }
    xmlReconciliateNs(doc, copy);
    return 0;
}

int poolxml_clone(const char *template_xml, const PoolCloneSpec *spec, char **ret_xml)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
    xmlNode *root, *devices, *name;
    xmlChar *out = NULL;
    size_t k = 0;
    int r, len = 0;

    r = xmlutil_parse(template_xml, &doc);
    if (r < 0)
        return r;
    root = xmlDocGetRootElement(doc);
    name = xmlutil_child_elem(root, "name");
    if (!name) {
        error_setf("the template has no <name>");
        return -EINVAL;
    }
    /* AddContent takes text as it is (SetContent would read entities). */
    xmlNodeSetContent(name, NULL);
    xmlNodeAddContent(name, BAD_CAST spec->name);
    drop_children(root, "uuid");
    devices = xmlutil_child_elem(root, "devices");
    for (xmlNode *c = devices ? devices->children : NULL; c; c = c->next) {
        bool cloned;

        if (xmlutil_is_elem(c, "interface")) {
            drop_children(c, "mac");
            continue;
        }
        if (!xmlutil_is_elem(c, "disk"))
            continue;
        r = disk_cloned(c, &cloned);
        if (r < 0)
            return r;
        if (!cloned)
            continue;
        if (k >= spec->n_sources) {
            error_setf("the template has more disks to clone than sources given");
            return -EINVAL;
        }
        r = rewrite_disk(c, spec->sources[k++], spec->format);
        if (r < 0)
            return r;
    }
    if (k != spec->n_sources) {
        error_setf("the template has %zu disks to clone, not %zu", k, spec->n_sources);
        return -EINVAL;
    }
    r = set_metadata(doc, root, spec->meta);
    if (r < 0)
        return r;
    xmlDocDumpMemory(doc, &out, &len);
    if (!out)
        return -ENOMEM;
    *ret_xml = strdup((const char *)out);
    xmlFree(out);
    return *ret_xml ? 0 : -ENOMEM;
}

/* A storage volume's XML, parsed: the document and its <volume> root, or
 * NULL. */
static xmlDocPtr volume_doc(const char *volume_xml, const xmlNode **ret_root)
{
    xmlDocPtr doc;
    XMLUTIL_SILENCE_ERRORS;

    if (!volume_xml || strlen(volume_xml) > INT_MAX)
        return NULL;
    doc = xmlReadMemory(volume_xml, (int)strlen(volume_xml), NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc && !doc->intSubset && xmlutil_is_elem(xmlDocGetRootElement(doc), "volume")) {
        *ret_root = xmlDocGetRootElement(doc);
        return doc;
    }
    xmlFreeDoc(doc);
    return NULL;
}

char *poolxml_volume_format(const char *volume_xml)
{
    const xmlNode *root = NULL, *fmt;
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = volume_doc(volume_xml, &root);
    const char *v;

    if (!doc)
        return NULL;
    fmt = xmlutil_child_elem(xmlutil_child_elem(root, "target"), "format");
    v = fmt ? xmlutil_attr(fmt, "type") : NULL;
    return v ? strdup(v) : NULL;
}

char *poolxml_volume_backing(const char *volume_xml)
{
    const xmlNode *root = NULL, *path;
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = volume_doc(volume_xml, &root);
    xmlChar *v;
    char *ret;

    if (!doc)
        return NULL;
    path = xmlutil_child_elem(xmlutil_child_elem(root, "backingStore"), "path");
    v = path ? xmlNodeGetContent(path) : NULL;
    ret = v && *v ? strdup((const char *)v) : NULL;
    xmlFree(v);
    return ret;
}

int poolxml_clone_volume_match(const char *volume_name, const char *prefix, const char *pool,
                               char **ret_clone)
{
    size_t lp = prefix ? strlen(prefix) : 0, ln = strlen(pool), k;
    const char *s = volume_name, *t, *dot;

    if (ret_clone)
        *ret_clone = NULL;
    if (strncmp(s, prefix ? prefix : "", lp) != 0 || strncmp(s + lp, pool, ln) != 0 ||
        s[lp + ln] != '-')
        return 0;
    t = s + lp + ln + 1;
    for (k = 0; k < 6; k++)
        if (!((t[k] >= '0' && t[k] <= '9') || (t[k] >= 'a' && t[k] <= 'f')))
            return 0;
    if (t[6] != '-')
        return 0;
    /* The target: one word up to the only dot. */
    dot = strchr(t + 7, '.');
    if (!dot || dot == t + 7)
        return 0;
    for (const char *c = t + 7; c < dot; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '_'))
            return 0;
    if (!streq(dot + 1, "qcow2") && !streq(dot + 1, "img"))
        return 0;
    if (ret_clone && !(*ret_clone = strndup(s, (size_t)(t + 6 - s))))
        return -ENOMEM;
    return 1;
}

char *poolxml_volume_xml(const char *name, unsigned long long capacity,
                         const char *backing_path, const char *format)
{
    Buf b = { 0 };
    char *s;

    buf_puts(&b, "<volume><name>");
    xmlutil_put_escaped(&b, BAD_CAST name, false, false);
    buf_printf(&b, "</name><capacity unit='bytes'>%llu</capacity>", capacity);
    if (backing_path) {
        /* Only the overlay's own writes take space. */
        buf_puts(&b, "<allocation unit='bytes'>0</allocation>"
                     "<target><format type='qcow2'/></target><backingStore><path>");
        xmlutil_put_escaped(&b, BAD_CAST backing_path, false, false);
        buf_puts(&b, "</path>");
    } else
        buf_puts(&b, "<target>");
    if (format) {
        buf_puts(&b, "<format type='");
        xmlutil_put_escaped(&b, BAD_CAST format, true, false);
        buf_puts(&b, "'/>");
    }
    buf_puts(&b, backing_path ? "</backingStore></volume>" : "</target></volume>");
    s = buf_steal(&b);
    buf_free(&b);
    return s;
}
