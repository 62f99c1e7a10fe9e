/* backup.h: timestamped, atomic backups of domain definitions.
 *
 * Layout: <dir>/<key>/<name>-<YYYYMMDDTHHMMSS.ffffffZ>.xml, files 0600 in
 * 0700 folders.  The key is the domain's UUID (API.md section 2): a machine
 * re-created under an old name is a new machine, and machines of one name on
 * two hosts never share a folder.  The name in a file name is the machine's
 * name when it was saved; lookups go by id, so a renamed machine keeps its
 * backups.  A backup is written to a temporary file in the same folder,
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
    char file[256];  /* its file name in the folder */
} BackupEntry;

/* An id is exactly YYYYMMDDTHHMMSS.ffffffZ (digits where digits go). */
bool backup_id_valid(const char *id);

/* Save xml for machine `name` in the folder `key` (both already validated by
 * the caller).  Creates the folders (0700) as needed.  Then prunes to `keep` backups (0 = keep all),
 * oldest first, never the machine's first backup.  Returns 0 and the new id
 * in ret_id (caller frees; may be NULL), or -errno with nothing half-written. */
int backup_save(const char *dir, const char *key, const char *name, const char *reason,
                const char *xml, unsigned keep, char **ret_id);

/* Newest first.  A machine without backups has an empty list (0, n = 0). */
int backup_list(const char *dir, const char *key, BackupEntry **ret, size_t *ret_n);

/* The saved XML (with its first-line comment).  -ENOENT for an unknown or
 * invalid id. */
int backup_read(const char *dir, const char *key, const char *id, char **ret_xml);

/* The id of the oldest backup; -ENOENT when there is none. */
int backup_first(const char *dir, const char *key, char **ret_id);

/* The folder names under dir (keys, and the machine names of folders from
 * before backups were keyed by UUID). */
int backup_keys(const char *dir, char ***ret);
/* Move every backup of folder from_key into folder to_key (a rename of the
 * folder when to_key does not exist yet), never replacing a file; the
 * emptied folder is removed.  Returns how many backups moved. */
int backup_move(const char *dir, const char *from_key, const char *to_key);
/* Remove folder `key` with every backup in it (and the temporaries of saves
 * that crashed), for a machine that is gone for good: the caller has made
 * sure no machine of that key exists.  A folder that holds anything else
 * (a stray file, a folder, a symlink) is left whole: -ENOTEMPTY, nothing
 * removed.  Returns how many backups went; 0 when there is no folder. */
int backup_remove(const char *dir, const char *key);
