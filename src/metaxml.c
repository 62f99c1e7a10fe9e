/* metaxml.c: owner, description and tags in virtmcd's metadata element. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "metaxml.h"
#include "util.h"
#include "xmlns.h"
#include "xmlutil.h"

void meta_patch_clear(MetaPatch *p)
{
    free(p->owner_value);
    free(p->description_value);
    for (size_t i = 0; i < p->n_tags; i++) {
        free(p->tags[i].key);
        free(p->tags[i].value);
    }
    free(p->tags);
    *p = (MetaPatch){ 0 };
}

void meta_info_clear(MetaInfo *m)
{
    free(m->owner);
    free(m->description);
    for (size_t i = 0; i < m->n_tags; i++) {
        free(m->tags[i].key);
        free(m->tags[i].value);
    }
    free(m->tags);
    *m = (MetaInfo){ 0 };
}

/* Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF) without
 * control characters; `multiline` allows newline and tab. */
static bool text_ok(const char *s, bool multiline)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        unsigned c = *p, n, cp;

        if (c < 0x80) {
            if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || c == 0x7f)
                return false;
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, cp = c & 0x07;
        else
            return false;
        for (unsigned i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3fu);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0x80 && cp <= 0x9f) ||
            cp == 0xfffe || cp == 0xffff)
            return false;
        p += n + 1;
    }
    return true;
}

static bool key_ok(const char *k)
{
    size_t n = strlen(k);

    if (n == 0 || n > META_TAG_KEY_MAX)
        return false;
    for (const char *p = k; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            return false;
    return true;
}

int meta_patch_check(const MetaPatch *p)
{
    if (p->owner == META_SET) {
        const char *o = p->owner_value;

        if (!*o || strlen(o) > META_OWNER_MAX || !text_ok(o, false)) {
            error_setf("owner must be 1..%d bytes of UTF-8 without control characters "
                       "(null deletes it)", META_OWNER_MAX);
            return -EINVAL;
        }
    }
    if (p->description == META_SET &&
        (strlen(p->description_value) > META_DESCRIPTION_MAX ||
         !text_ok(p->description_value, true))) {
        error_setf("description must be at most %d bytes of UTF-8 without control characters "
                   "other than newline and tab", META_DESCRIPTION_MAX);
        return -EINVAL;
    }
    /* Deletions do not count: a patch may replace every tag at once. */
    for (size_t i = 0, n_set = 0; i < p->n_tags; i++)
        if (p->tags[i].value && ++n_set > META_TAGS_MAX) {
            error_setf("a machine has at most %d tags; this change sets more", META_TAGS_MAX);
            return -EINVAL;
        }
    for (size_t i = 0; i < p->n_tags; i++) {
        const MetaTagChange *t = &p->tags[i];

        if (!key_ok(t->key)) {
            error_setf("tag key '%s' must be 1..%d characters of A-Z, a-z, 0-9, '_', '.' and "
                       "'-'", t->key, META_TAG_KEY_MAX);
            return -EINVAL;
        }
        if (t->value && (strlen(t->value) > META_TAG_VALUE_MAX || !text_ok(t->value, false))) {
            error_setf("the value of tag '%s' must be at most %d bytes of UTF-8 without control "
                       "characters", t->key, META_TAG_VALUE_MAX);
            return -EINVAL;
        }
    }
    return 0;
}

static int dup_text(const xmlNode *n, char **ret)
{
    xmlChar *v = xmlNodeGetContent(n);

    free(*ret);
    *ret = strdup(v ? (const char *)v : "");
    xmlFree(v);
    return *ret ? 0 : -ENOMEM;
}

static ssize_t tag_index(const MetaInfo *m, const char *key)
{
    for (size_t i = 0; i < m->n_tags; i++)
        if (streq(m->tags[i].key, key))
            return (ssize_t)i;
    return -1;
}

static int tag_set(MetaInfo *m, const char *key, const char *value)
{
    ssize_t i = tag_index(m, key);
    char *v = strdup(value);
    MetaTagChange *nt;

    if (!v)
        return -ENOMEM;
    if (i >= 0) {
        free(m->tags[i].value);
        m->tags[i].value = v;
        return 0;
    }
    nt = realloc(m->tags, (m->n_tags + 1) * sizeof(*nt));

    if (!nt) {
        free(v);
        return -ENOMEM;
    }
    m->tags = nt;
    nt[m->n_tags].key = strdup(key);
    nt[m->n_tags].value = v;
    if (!nt[m->n_tags].key) {
        free(v);
        return -ENOMEM;
    }
    m->n_tags++;
    return 0;
}

static void tag_delete(MetaInfo *m, const char *key)
{
    ssize_t i = tag_index(m, key);

    if (i < 0)
        return;
    free(m->tags[i].key);
    free(m->tags[i].value);
    memmove(&m->tags[i], &m->tags[i + 1], (m->n_tags - (size_t)i - 1) * sizeof(*m->tags));
    m->n_tags--;
}

static int tag_cmp(const void *a, const void *b)
{
    return strcmp(((const MetaTagChange *)a)->key, ((const MetaTagChange *)b)->key);
}

static bool is_info_elem(const xmlNode *c)
{
    return xmlutil_is_ns_elem(c, VIRTMCD_XMLNS, "owner") ||
           xmlutil_is_ns_elem(c, VIRTMCD_XMLNS, "description") ||
           xmlutil_is_ns_elem(c, VIRTMCD_XMLNS, "tag");
}

static int read_info(const xmlNode *root, MetaInfo *m)
{
    int r = 0;

    for (const xmlNode *c = root ? root->children : NULL; c && r == 0; c = c->next) {
        if (xmlutil_is_ns_elem(c, VIRTMCD_XMLNS, "owner"))
            r = dup_text(c, &m->owner);
        else if (xmlutil_is_ns_elem(c, VIRTMCD_XMLNS, "description"))
            r = dup_text(c, &m->description);
        else if (xmlutil_is_ns_elem(c, VIRTMCD_XMLNS, "tag") && xmlutil_attr(c, "key")) {
            _cleanup_free_ char *v = NULL;

            r = dup_text(c, &v);
            if (r == 0)
                r = tag_set(m, xmlutil_attr(c, "key"), v);
        }
    }
    return r;
}

static int apply(MetaInfo *m, const MetaPatch *p)
{
    int r;

    if (p->owner != META_KEEP) {
        free(m->owner);
        m->owner = p->owner == META_SET ? strdup(p->owner_value) : NULL;
        if (p->owner == META_SET && !m->owner)
            return -ENOMEM;
    }
    if (p->description != META_KEEP) {
        free(m->description);
        m->description = p->description == META_SET ? strdup(p->description_value) : NULL;
        if (p->description == META_SET && !m->description)
            return -ENOMEM;
    }
    if (p->tags_clear)
        while (m->n_tags)
            tag_delete(m, m->tags[0].key);
    for (size_t i = 0; i < p->n_tags; i++) {
        if (!p->tags[i].value) {
            tag_delete(m, p->tags[i].key);
            continue;
        }
        r = tag_set(m, p->tags[i].key, p->tags[i].value);
        if (r < 0)
            return r;
    }
    if (m->n_tags > META_TAGS_MAX) {
        error_setf("a machine has at most %d tags; this change would give it %zu",
                   META_TAGS_MAX, m->n_tags);
        return -EINVAL;
    }
    if (m->n_tags)
        qsort(m->tags, m->n_tags, sizeof(*m->tags), tag_cmp);
    return 0;
}

int metaxml_apply(const char *instance_xml, const MetaPatch *p, char **ret_xml,
                  MetaInfo *ret_info)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
    _cleanup_(meta_info_clear) MetaInfo m = { 0 };
    const xmlNode *root = NULL;
    Buf b = { 0 };
    char *s;
    XMLUTIL_SILENCE_ERRORS;
    int r;

    if (instance_xml) {
        r = xmlutil_parse_instance(instance_xml, &doc, &root);
        if (r < 0)
            return r;
    }
    r = read_info(root, &m);
    if (r == 0)
        r = apply(&m, p);
    if (r < 0)
        return r;
    buf_puts(&b, "<instance>");
    if (m.owner) {
        buf_puts(&b, "<owner>");
        xmlutil_put_escaped(&b, BAD_CAST m.owner, false, true);
        buf_puts(&b, "</owner>");
    }
    if (m.description) {
        buf_puts(&b, "<description>");
        xmlutil_put_escaped(&b, BAD_CAST m.description, false, true);
        buf_puts(&b, "</description>");
    }
    for (size_t i = 0; i < m.n_tags; i++) {
        buf_puts(&b, "<tag key='");
        xmlutil_put_escaped(&b, BAD_CAST m.tags[i].key, true, true);
        buf_puts(&b, "'>");
        xmlutil_put_escaped(&b, BAD_CAST m.tags[i].value, false, true);
        buf_puts(&b, "</tag>");
    }
    for (const xmlNode *c = root ? root->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && c->ns && streq((const char *)c->ns->href, VIRTMCD_XMLNS) &&
            !is_info_elem(c))
            xmlutil_put_flat_elem(&b, c);
    buf_puts(&b, "</instance>");
    s = buf_steal(&b);
    buf_free(&b);
    if (!s)
        return -ENOMEM;
    *ret_xml = s;
    if (ret_info) {
        *ret_info = m;
        m = (MetaInfo){ 0 };
    }
    return 0;
}
