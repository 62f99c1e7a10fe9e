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
