/* backup.h: timestamped, atomic backups of domain definitions.
 *
 * Layout: <dir>/<name>/<name>-<YYYYMMDDTHHMMSS.ffffffZ>.xml, files 0600 in
 * 0700 folders.  A backup is written to a temporary file in the same folder,
 * fsync'd, renamed without replacing, and the folder fsync'd, so a crash
 * leaves either no backup or a whole one.  The reason is kept in the file's
 * first line as an XML comment "<!-- virtmcd-backup reason=R -->".
 * The module does file I/O only: it never calls libvirt and never logs.
 * Thread-safe for different machines; callers serialise one machine. */
#pragma once

#include <stddef.h>
#include <stdbool.h>

typedef struct BackupEntry {
    char id[32];     /* the timestamp, "20261122T013015.123456Z" */
    char reason[32]; /* "pxeboot", "restore", "once-restore", ... */
    size_t size;     /* bytes of the file */
} BackupEntry;

/* An id is exactly YYYYMMDDTHHMMSS.ffffffZ (digits where digits go). */
bool backup_id_valid(const char *id);

/* Save xml for machine `name` (already validated by the caller).  Creates
 * the folders (0700) as needed.  Then prunes to `keep` backups (0 = keep all),
 * oldest first, never the machine's first backup.  Returns 0 and the new id
 * in ret_id (caller frees; may be NULL), or -errno with nothing half-written. */
int backup_save(const char *dir, const char *name, const char *reason, const char *xml,
                unsigned keep, char **ret_id);

/* Newest first.  A machine without backups has an empty list (0, n = 0). */
int backup_list(const char *dir, const char *name, BackupEntry **ret, size_t *ret_n);

/* The saved XML (with its first-line comment).  -ENOENT for an unknown or
 * invalid id. */
int backup_read(const char *dir, const char *name, const char *id, char **ret_xml);

/* The id of the oldest backup; -ENOENT when there is none. */
int backup_first(const char *dir, const char *name, char **ret_id);
