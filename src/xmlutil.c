/* xmlutil.c: safe parsing of libvirt's domain XML and the node helpers bootxml and domxml share;
 * pure, no I/O, no logging, thread-safe.
 *
 * The only state is libxml2's own, initialised once, and its per-thread
 * structured-error handler, which is silenced only while a guard is held. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "util.h"
#include "xmlns.h"
#include "xmlutil.h"

DEFINE_CLEANUP(xmlParserCtxtPtr, xmlFreeParserCtxt)

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

#if LIBXML_VERSION >= 21200
static void silent_error(void *userdata, const xmlError *err)
#else
static void silent_error(void *userdata, xmlErrorPtr err)
#endif
{
    (void)userdata;
    (void)err;
}

XmlErrGuard xmlutil_silence_begin(void)
{
    XmlErrGuard g;

    (void)pthread_once(&xml_once, xml_init);
    g = (XmlErrGuard){ xmlStructuredError, xmlStructuredErrorContext };
    xmlSetStructuredErrorFunc(NULL, silent_error);
    return g;
}

void xmlutil_silence_end(XmlErrGuard *g)
{
    xmlSetStructuredErrorFunc(g->ctx, g->func);
}

int xmlutil_parse(const char *xml, xmlDoc **ret_doc)
{
    _cleanup_(xmlFreeParserCtxtp) xmlParserCtxtPtr ctxt = NULL;
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
    XmlErrGuard guard;
    xmlNode *root;
    size_t len;

    if (!xml)
        return -EINVAL;
    (void)pthread_once(&xml_once, xml_init);
    len = strlen(xml);
    if (len > INT_MAX)
        return -EINVAL;
    ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return -ENOMEM;
    /* No XML_PARSE_NOENT, DTDLOAD, DTDATTR, HUGE or NOBLANKS: entities stay
     * references, nothing is fetched, whitespace survives. */
    guard = xmlutil_silence_begin();
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlutil_silence_end(&guard);
    if (!doc || !ctxt->wellFormed) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);

        if (e && e->code == XML_ERR_NO_MEMORY)
            return -ENOMEM;
        if (e && e->message) {
            _cleanup_free_ char *msg = strdup(e->message);

            error_setf("XML line %d: %s", e->line, msg ? strstrip(msg) : "parse error");
        } else
            error_setf("XML does not parse");
        return -EINVAL;
    }
    /* A domain definition never has a DOCTYPE; refusing one keeps entity
     * declarations (and their expansion) out altogether. */
    if (doc->intSubset || doc->extSubset) {
        error_setf("XML: a DOCTYPE is not allowed in a domain definition");
        return -EINVAL;
    }
    root = xmlDocGetRootElement(doc);
    if (!root || root->ns || !xmlStrEqual(root->name, BAD_CAST "domain")) {
        error_setf("XML: the root element is not <domain>");
        return -EINVAL;
    }
    *ret_doc = steal_ptr(&doc);
    return 0;
}

bool xmlutil_is_elem(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && !n->ns && xmlStrEqual(n->name, BAD_CAST name);
}

bool xmlutil_is_ns_elem(const xmlNode *n, const char *href, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           xmlStrEqual(n->ns->href, BAD_CAST href) && xmlStrEqual(n->name, BAD_CAST name);
}

xmlNode *xmlutil_child_elem(const xmlNode *parent, const char *name)
{
    if (!parent)
        return NULL;
    for (xmlNode *c = parent->children; c; c = c->next)
        if (xmlutil_is_elem(c, name))
            return c;
    return NULL;
}

xmlNode *xmlutil_child_ns_elem(const xmlNode *parent, const char *href, const char *name)
{
    if (!parent)
        return NULL;
    for (xmlNode *c = parent->children; c; c = c->next)
        if (xmlutil_is_ns_elem(c, href, name))
            return c;
    return NULL;
}

/* Without a DTD an attribute holds one text node at most; anything else is an
 * entity reference, which we never expand. */
const char *xmlutil_attr(const xmlNode *n, const char *name)
{
    if (!n || n->type != XML_ELEMENT_NODE)
        return NULL;
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        if (a->ns || !xmlStrEqual(a->name, BAD_CAST name))
            continue;
        if (!a->children)
            return "";
        if (a->children->type != XML_TEXT_NODE || a->children->next || !a->children->content)
            return NULL;
        return (const char *)a->children->content;
    }
    return NULL;
}

/* ---- writing ---- */

void xmlutil_put_escaped(Buf *b, const xmlChar *s, bool attribute, bool libvirt)
{
    const char *p = (const char *)s, *start = p;

    if (!s)
        return;
    for (; *p; p++) {
        const char *rep = NULL;

        switch (*p) {
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '&':
            rep = "&amp;";
            break;
        case '\r':
            rep = "&#13;";
            break;
        case '"':
            if (attribute || libvirt)
                rep = "&quot;";
            break;
        case '\'':
            if (libvirt)
                rep = "&apos;";
            break;
        case '\n':
            if (attribute)
                rep = "&#10;";
            break;
        case '\t':
            if (attribute)
                rep = "&#9;";
            break;
        default:
            break;
        }
        if (rep) {
            buf_append(b, start, (size_t)(p - start));
            buf_puts(b, rep);
            start = p + 1;
        }
    }
    buf_append(b, start, (size_t)(p - start));
}

void xmlutil_put_flat_elem(Buf *b, const xmlNode *n)
{
    bool text = false;

    buf_puts(b, "<");
    buf_puts(b, (const char *)n->name);
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        xmlChar *v = xmlNodeGetContent((const xmlNode *)a);

        buf_printf(b, " %s='", (const char *)a->name);
        xmlutil_put_escaped(b, v, true, true);
        buf_puts(b, "'");
        xmlFree(v);
    }
    for (const xmlNode *c = n->children; c && !text; c = c->next)
        text = c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE;
    if (!text) {
        buf_puts(b, "/>");
        return;
    }
    buf_puts(b, ">");
    for (const xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
            xmlutil_put_escaped(b, c->content, false, true);
    buf_printf(b, "</%s>", (const char *)n->name);
}

int xmlutil_parse_instance(const char *instance_xml, xmlDoc **ret_doc, const xmlNode **ret_root)
{
    /* xmlutil_parse takes domains only: put the element back in one.
     * virDomainGetMetadata returns it without its namespace (libvirt strips
     * it): the wrapper's default namespace gives it back, and an element
     * written with its own prefix keeps it. */
    _cleanup_free_ char *wrapped = strdup_printf(
        "<domain><metadata><wrap xmlns=\"%s\">%s</wrap></metadata></domain>", VIRTMCD_XMLNS,
        instance_xml);
    xmlDoc *doc = NULL;
    int r;

    if (!wrapped)
        return -ENOMEM;
    r = xmlutil_parse(wrapped, &doc);
    if (r < 0)
        return r;
    *ret_root = xmlutil_child_ns_elem(
        xmlutil_child_ns_elem(xmlutil_child_elem(xmlDocGetRootElement(doc), "metadata"),
                              VIRTMCD_XMLNS, "wrap"),
        VIRTMCD_XMLNS, "instance");
    *ret_doc = doc;
    return 0;
}
