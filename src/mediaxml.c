/* mediaxml.c: the virtual CD of a domain definition. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "mediaxml.h"
#include "util.h"
#include "xmlutil.h"

void media_state_clear(MediaState *s)
{
    free(s->target);
    free(s->bus);
    free(s->image);
    *s = (MediaState){ 0 };
}

static xmlNode *devices_of(xmlDoc *doc)
{
    return xmlutil_child_elem(xmlDocGetRootElement(doc), "devices");
}

/* The user alias of the drive virtmcd adds (libvirt keeps "ua-" aliases). */
#define OUR_ALIAS "ua-virtmcd-cd"

static bool ours(const xmlNode *disk)
{
    const char *a = xmlutil_attr(xmlutil_child_elem(disk, "alias"), "name");

    return a && streq(a, OUR_ALIAS);
}

/* The drive virtmcd added, else the first CD drive. */
static xmlNode *cd_drive(xmlDoc *doc)
{
    xmlNode *first = NULL;

    for (xmlNode *c = devices_of(doc) ? devices_of(doc)->children : NULL; c; c = c->next) {
        const char *dev = xmlutil_attr(c, "device");

        if (!xmlutil_is_elem(c, "disk") || !dev || !streq(dev, "cdrom"))
            continue;
        if (ours(c))
            return c;
        if (!first)
            first = c;
    }
    return first;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The image of a drive: "scheme://host[:port]name[?query]" for an http(s)
 * network source, the path of a file source, or NULL. */
static char *drive_image(const xmlNode *disk)
{
    const xmlNode *src = xmlutil_child_elem(disk, "source");
    const char *type = xmlutil_attr(disk, "type");

    if (!src)
        return NULL;
    if (type && streq(type, "network")) {
        const char *proto = xmlutil_attr(src, "protocol"), *name = xmlutil_attr(src, "name");
        const char *query = xmlutil_attr(src, "query");
        const xmlNode *host = xmlutil_child_elem(src, "host");
        const char *h = xmlutil_attr(host, "name"), *port = xmlutil_attr(host, "port");

        if (!proto || !name || !h)
            return NULL;
        /* The default port reads as the URL was written: without it. */
        if (port && ((streq(proto, "https") && streq(port, "443")) ||
                     (streq(proto, "http") && streq(port, "80"))))
            port = NULL;
        return strdup_printf("%s://%s%s%s%s%s%s%s", proto, h, port ? ":" : "", port ? port : "",
                             name[0] == '/' ? "" : "/", name, query && *query ? "?" : "",
                             query && *query ? query : "");
    }
    return dup_or_null(xmlutil_attr(src, "file"));
}

int mediaxml_get(const char *domain_xml, MediaState *ret)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
    MediaState s = { 0 };
    const xmlNode *disk, *target;
    int r = xmlutil_parse(domain_xml, &doc);

    if (r < 0)
        return r;
    disk = cd_drive(doc);
    if (disk) {
        target = xmlutil_child_elem(disk, "target");
        s.drive = true;
        s.target = dup_or_null(xmlutil_attr(target, "dev"));
        s.bus = dup_or_null(xmlutil_attr(target, "bus"));
        s.image = drive_image(disk);
    }
    *ret = s;
    return 0;
}

typedef struct Url {
    char *scheme, *host, *port, *path, *query;
} Url;

static void url_clear(Url *u)
{
    free(u->scheme);
    free(u->host);
    free(u->port);
    free(u->path);
    free(u->query);
}

static int url_parse(const char *url, Url *ret)
{
    const char *p, *auth, *end;
    Url u = { 0 };

    if (!url || !*url) {
        error_setf("an image URL is required");
        return -EINVAL;
    }
    for (p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '"' || *p == '\'' || *p == '<' ||
            *p == '>' || *p == '\\') {
            error_setf("the image URL holds a space, a quote or a control character");
            return -EINVAL;
        }
    if (startswith(url, "http://"))
        u.scheme = strdup("http"), auth = url + 7;
    else if (startswith(url, "https://"))
        u.scheme = strdup("https"), auth = url + 8;
    else {
        error_setf("the image must be an http:// or https:// URL (QEMU reads it itself)");
        return -EINVAL;
    }
    if (strchr(url, '#')) {
        error_setf("the image URL must not have a fragment");
        url_clear(&u);
        return -EINVAL;
    }
    end = auth + strcspn(auth, "/?");
    if (memchr(auth, '@', (size_t)(end - auth))) {
        error_setf("credentials in the image URL are not supported");
        url_clear(&u);
        return -EINVAL;
    }
    if (*auth == '[') {
        const char *close = memchr(auth, ']', (size_t)(end - auth));

        if (!close) {
            error_setf("bad IPv6 address in the image URL");
            url_clear(&u);
            return -EINVAL;
        }
        u.host = strndup(auth + 1, (size_t)(close - auth - 1));
        p = close + 1;
    } else {
        p = memchr(auth, ':', (size_t)(end - auth));
        if (!p)
            p = end;
        u.host = strndup(auth, (size_t)(p - auth));
    }
    if (p < end) {
        unsigned long long port;
        _cleanup_free_ char *ps = strndup(p + 1, (size_t)(end - p - 1));

        if (*p != ':' || !ps || parse_uint(ps, 1, 65535, &port) < 0) {
            error_setf("bad port in the image URL");
            url_clear(&u);
            return -EINVAL;
        }
        u.port = strdup_printf("%llu", port);
    }
    if (!u.host || !*u.host) {
        error_setf("the image URL has no host");
        url_clear(&u);
        return -EINVAL;
    }
    p = end;
    end = p + strcspn(p, "?");
    u.path = *p == '/' ? strndup(p, (size_t)(end - p)) : strdup("/");
    if (*end == '?' && end[1])
        u.query = strdup(end + 1);
    if (!u.scheme || !u.path || (*end == '?' && end[1] && !u.query)) {
        url_clear(&u);
        return -ENOMEM;
    }
    if (streq(u.path, "/")) {
        error_setf("the image URL names no file");
        url_clear(&u);
        return -EINVAL;
    }
    *ret = u;
    return 0;
}

int mediaxml_check_url(const char *url)
{
    Url u;
    int r = url_parse(url, &u);

    if (r == 0)
        url_clear(&u);
    return r;
}

static void remove_children(xmlNode *n, const char *name)
{
    xmlNode *c = n->children;

    while (c) {
        xmlNode *next = c->next;

        if (xmlutil_is_elem(c, name)) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
        c = next;
    }
}

static bool q35(xmlDoc *doc)
{
    const char *machine = xmlutil_attr(
        xmlutil_child_elem(xmlutil_child_elem(xmlDocGetRootElement(doc), "os"), "type"),
        "machine");

    return machine && strstr(machine, "q35");
}

/* A new empty read-only drive at the first free target of its bus. */
static int add_drive(xmlDoc *doc, xmlNode **ret)
{
    xmlNode *devices = devices_of(doc), *disk, *target;
    bool sata = q35(doc);
    const char *prefix = sata ? "sd" : "hd";
    char dev[8] = "";

    if (!devices) {
        devices = xmlNewChild(xmlDocGetRootElement(doc), NULL, BAD_CAST "devices", NULL);
        if (!devices)
            return -ENOMEM;
    }
    /* IDE has four places (two buses, two units); SATA six on q35's AHCI. */
    for (char l = 'a'; l < (sata ? 'g' : 'e') && !*dev; l++) {
        bool used = false;

        snprintf(dev, sizeof(dev), "%s%c", prefix, l);
        for (const xmlNode *c = devices->children; c && !used; c = c->next) {
            const char *t = xmlutil_attr(xmlutil_child_elem(c, "target"), "dev");

            used = xmlutil_is_elem(c, "disk") && t && streq(t, dev);
        }
        if (used)
            dev[0] = '\0';
    }
    if (!*dev) {
        error_setf("no free %s place for a CD drive", sata ? "SATA" : "IDE");
        return -EINVAL;
    }
    disk = xmlNewChild(devices, NULL, BAD_CAST "disk", NULL);
    if (!disk || !xmlNewProp(disk, BAD_CAST "type", BAD_CAST "file") ||
        !xmlNewProp(disk, BAD_CAST "device", BAD_CAST "cdrom"))
        return -ENOMEM;
    target = xmlNewChild(disk, NULL, BAD_CAST "target", NULL);
    if (!target || !xmlNewProp(target, BAD_CAST "dev", BAD_CAST dev) ||
        !xmlNewProp(target, BAD_CAST "bus", BAD_CAST(sata ? "sata" : "ide")) ||
        !xmlNewChild(disk, NULL, BAD_CAST "readonly", NULL))
        return -ENOMEM;
    /* So that an eject can take it away again. */
    target = xmlNewChild(disk, NULL, BAD_CAST "alias", NULL);
    if (!target || !xmlNewProp(target, BAD_CAST "name", BAD_CAST OUR_ALIAS))
        return -ENOMEM;
    *ret = disk;
    return 0;
}

static int dump(xmlDoc *doc, xmlNode *node, char **ret)
{
    xmlBuffer *buf = xmlBufferCreate();
    int r = -ENOMEM;

    if (!buf)
        return -ENOMEM;
    if (xmlNodeDump(buf, doc, node, 0, 0) >= 0 && (*ret = strdup((const char *)xmlBufferContent(buf))))
        r = 0;
    xmlBufferFree(buf);
    return r;
}

int mediaxml_set(const char *domain_xml, const char *url, bool keep_drive, char **ret_xml,
                 char **ret_disk_xml)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
    _cleanup_(url_clear) Url u = { 0 };
    _cleanup_free_ char *xml = NULL, *disk_xml = NULL;
    xmlNode *disk, *src, *host;
    XMLUTIL_SILENCE_ERRORS;
    int r;

    if (url && (r = url_parse(url, &u)) < 0)
        return r;
    r = xmlutil_parse(domain_xml, &doc);
    if (r < 0)
        return r;
    disk = cd_drive(doc);
    if (!disk && !url)
        goto write; /* no drive, nothing in it */
    if (disk && !url && !keep_drive && ours(disk)) {
        /* The drive virtmcd added goes with its media: the definition is
         * as it was before the first insert. */
        r = dump(doc, disk, &disk_xml);
        if (r < 0)
            return r;
        xmlUnlinkNode(disk);
        xmlFreeNode(disk);
        goto write;
    }
    if (!disk && (r = add_drive(doc, &disk)) < 0)
        return r;
    remove_children(disk, "source");
    if (!xmlSetProp(disk, BAD_CAST "type", BAD_CAST(url ? "network" : "file")))
        return -ENOMEM;
    if (url) {
        /* Before <target>, where libvirt writes it. */
        src = xmlNewDocNode(doc, NULL, BAD_CAST "source", NULL);
        if (!src || !xmlNewProp(src, BAD_CAST "protocol", BAD_CAST u.scheme) ||
            !xmlNewProp(src, BAD_CAST "name", BAD_CAST u.path) ||
            (u.query && !xmlNewProp(src, BAD_CAST "query", BAD_CAST u.query)))
            return -ENOMEM;
        host = xmlNewChild(src, NULL, BAD_CAST "host", NULL);
        if (!host || !xmlNewProp(host, BAD_CAST "name", BAD_CAST u.host) ||
            !xmlNewProp(host, BAD_CAST "port",
                        BAD_CAST(u.port ? u.port : streq(u.scheme, "https") ? "443" : "80")))
            return -ENOMEM;
        if (disk->children)
            xmlAddPrevSibling(disk->children, src);
        else
            xmlAddChild(disk, src);
        if (!xmlutil_child_elem(disk, "readonly") &&
            !xmlNewChild(disk, NULL, BAD_CAST "readonly", NULL))
            return -ENOMEM;
    }
    r = dump(doc, disk, &disk_xml);
    if (r < 0)
        return r;
write:
    r = dump(doc, xmlDocGetRootElement(doc), &xml);
    if (r < 0)
        return r;
    *ret_xml = steal_ptr(&xml);
    if (ret_disk_xml)
        *ret_disk_xml = steal_ptr(&disk_xml);
    return 0;
}
