/* xmlutil: safe parsing of libvirt's domain XML and the node helpers bootxml and domxml share;
 * pure, no I/O, no logging, thread-safe.
 *
 * The helpers see only elements and attributes without a namespace unless
 * they take one (href), so a foreign element never passes for libvirt's. */
#pragma once

#include <stdbool.h>

#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "cleanup.h"
#include "util.h"

DEFINE_CLEANUP(xmlDocPtr, xmlFreeDoc)

/* Parse a whole domain definition: no network, no entity substitution, no
 * DOCTYPE, root <domain> without namespace.  -EINVAL (with the position in
 * error_setf() when the parser gave one) or -ENOMEM; *ret_doc only on success. */
int xmlutil_parse(const char *xml, xmlDoc **ret_doc);

/* libxml2 reports some errors (out of memory, encodings) through the calling
 * thread's handler rather than the parser context's; a guard silences that
 * handler until it leaves scope, then puts the caller's back. */
typedef struct XmlErrGuard {
    xmlStructuredErrorFunc func;
    void *ctx;
} XmlErrGuard;

XmlErrGuard xmlutil_silence_begin(void);
void xmlutil_silence_end(XmlErrGuard *g);

#define XMLUTIL_SILENCE_ERRORS                                                          \
    _cleanup_(xmlutil_silence_end) __attribute__((unused)) XmlErrGuard _xml_err_guard = \
        xmlutil_silence_begin()

/* An element called name, without namespace. */
bool xmlutil_is_elem(const xmlNode *n, const char *name);
/* An element called name in the namespace href. */
bool xmlutil_is_ns_elem(const xmlNode *n, const char *href, const char *name);
/* The first child element of parent (which may be NULL) that is_elem / is_ns_elem, or NULL. */
xmlNode *xmlutil_child_elem(const xmlNode *parent, const char *name);
xmlNode *xmlutil_child_ns_elem(const xmlNode *parent, const char *href, const char *name);
/* The value of an attribute without namespace ("" when empty), or NULL when
 * absent or not plain text (an entity reference). */
const char *xmlutil_attr(const xmlNode *n, const char *name);

/* virtmcd's metadata element as virDomainGetMetadata returns it, parsed:
 * *ret_root is its <instance> element (NULL when the XML holds another), in
 * *ret_doc (the caller frees it).  -EINVAL on bad XML. */
int xmlutil_parse_instance(const char *instance_xml, xmlDoc **ret_doc, const xmlNode **ret_root);

/* Writing XML text: s escaped for an attribute value (quotes, tabs and
 * newlines too) or for text; libvirt: escape as libvirt's own writer does,
 * so that a definition written back compares equal. */
void xmlutil_put_escaped(Buf *b, const xmlChar *s, bool attribute, bool libvirt);
/* One element of virtmcd's metadata, without prefix: its name, attributes
 * and text (virtmcd's own elements have no child elements). */
void xmlutil_put_flat_elem(Buf *b, const xmlNode *n);
