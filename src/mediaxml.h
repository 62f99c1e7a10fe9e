/* mediaxml.h: the virtual CD of a domain definition (issue 12 point 6): the
 * first <disk device='cdrom'>, holding an http(s) image that QEMU reads
 * itself (its curl block driver) or empty.
 *
 * Pure: no libvirt calls, no I/O, no logging.  Parsing as xmlutil does. */
#pragma once

#include <stdbool.h>

typedef struct MediaState {
    bool drive;     /* the definition has a CD drive */
    char *target;   /* its <target dev>, e.g. "sdc"; NULL without a drive */
    char *bus;      /* its <target bus> */
    char *image;    /* the URL it holds (http/https network source), a file path, or NULL: empty */
} MediaState;

void media_state_clear(MediaState *s);

/* What domain_xml's virtual CD holds.  -EINVAL on bad XML. */
int mediaxml_get(const char *domain_xml, MediaState *ret);

/* Whether url is an image URL we insert: http:// or https://, a host, a
 * path, no user information, no spaces or control characters.  -EINVAL with
 * error_setf() saying why. */
int mediaxml_check_url(const char *url);

/* domain_xml with the virtual CD holding url.  Without a drive one is
 * added, read-only, on the bus the machine type has (SATA on q35, IDE
 * otherwise) at the first free target, with the user alias
 * "ua-virtmcd-cd".  url NULL ejects: the drive stays, empty, unless
 * virtmcd added it and keep_drive is false: then it goes, and the
 * definition is as before the first insert (keep_drive: a live definition,
 * whose drives cannot be unplugged).  *ret_disk_xml (may be NULL) is the
 * <disk> element alone, for a live change of media; NULL when there is no
 * drive.  -EINVAL on bad XML or URL. */
int mediaxml_set(const char *domain_xml, const char *url, bool keep_drive, char **ret_xml,
                 char **ret_disk_xml);
