/* metaxml.h: owner, description and tags in virtmcd's metadata element
 * (API.md section 3): the limits a change must keep, and the merge of a
 * change into the element libvirt holds.
 *
 * Pure: no libvirt calls, no I/O, no logging.  Parsing as xmlutil does
 * (no network, no entities, no DTD). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The limits, documented in docs/API.md. */
#define META_OWNER_MAX 255
#define META_DESCRIPTION_MAX 4096
#define META_TAG_KEY_MAX 63
#define META_TAG_VALUE_MAX 255
#define META_TAGS_MAX 64

typedef enum MetaChange {
    META_KEEP,
    META_SET,
    META_DELETE,
} MetaChange;

typedef struct MetaTagChange {
    char *key;
    char *value;   /* NULL: delete the tag */
} MetaTagChange;

/* A PATCH: keys absent keep their value, null deletes. */
typedef struct MetaPatch {
    MetaChange owner;
    char *owner_value;
    MetaChange description;
    char *description_value;
    bool tags_clear;        /* "tags": null, before the changes below */
    MetaTagChange *tags;
    size_t n_tags;
} MetaPatch;

void meta_patch_clear(MetaPatch *p);

/* Whether the values keep the limits: -EINVAL with error_setf() naming the
 * first that does not.  A tag key is 1..63 of [A-Za-z0-9_.-]; owner, values
 * and description are UTF-8 without control characters (a description may
 * hold newlines and tabs), owner non-empty. */
int meta_patch_check(const MetaPatch *p);

/* What the element says. */
typedef struct MetaInfo {
    char *owner;
    char *description;
    MetaTagChange *tags;    /* sorted by key; value never NULL */
    size_t n_tags;
} MetaInfo;

void meta_info_clear(MetaInfo *m);

/* instance_xml (what virDomainGetMetadata returned for virtmcd's
 * namespace, NULL for none) with p applied: owner, description, then the
 * tags sorted by key, then every other child kept as it was (the boot
 * markers).  Written without prefixes, as virDomainSetMetadata wants it.
 * *ret_info (may be NULL) is the result.  -EINVAL on bad XML or more than
 * META_TAGS_MAX tags after the merge. */
int metaxml_apply(const char *instance_xml, const MetaPatch *p, char **ret_xml,
                  MetaInfo *ret_info);
