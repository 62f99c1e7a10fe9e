/* backup.c: timestamped, atomic backups of domain definitions (API.md section 2).
 *
 * Owns everything under <backup_dir>/<key>/ (key = the domain's UUID, so two
 * machines never share a folder): creating the folders, writing each
 * backup through a temporary file and a no-replace rename, listing, reading and
 * pruning, and removing the folder of a machine that is gone.  It must never
 * replace or rewrite an existing backup, never delete a machine's first backup
 * while the machine exists (defaultboot restores it), never let a name or id reach
 * a path unchecked, and never call libvirt or log: the caller decides what a
 * failure means.  All file access is relative to the machine's folder fd, opened
 * without following a symlink, and there is no global state. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "backup.h"
#include "metrics.h"
#include "util.h"

#define ID_LEN 23
#define FILE_SUFFIX ".xml"
#define TMP_PREFIX ".tmp-"
/* O_NOFOLLOW and O_NONBLOCK: a planted symlink or FIFO is refused, never followed or waited on. */
#define READ_FLAGS (O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
#define TMP_FLAGS (O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY)
#define HEADER_PREFIX "<!-- virtmcd-backup reason="
#define HEADER_SUFFIX " -->\n"
#define REASON_MAX 31
/* libvirt caps a domain XML at 10 MiB; leave room for what it may grow to. */
#define READ_MAX ((size_t)64 << 20)
/* A temporary this old belongs to a save that crashed (a save takes well under
 * a second, and callers serialise one machine), so the next save removes it. */
#define STALE_TMP_SEC 3600

DEFINE_CLEANUP(DIR *, closedir)

bool backup_id_valid(const char *id)
{
    static const char shape[] = "DDDDDDDDTDDDDDD.DDDDDDZ";

    if (!id)
        return false;
    /* Stops at the first mismatch, so a short string (or a NUL) is never overread. */
    for (size_t i = 0; i < ID_LEN; i++) {
        if (shape[i] == 'D' ? !(id[i] >= '0' && id[i] <= '9') : id[i] != shape[i])
            return false;
    }
    return id[ID_LEN] == '\0';
}

/* Defence in depth: the caller validated the name (API.md section 0) already. */
static int check_args(const char *dir, const char *name)
{
    if (!dir || !*dir || !name)
        return -EINVAL;
    return machine_name_valid(name, strnlen(name, 256)) ? 0 : -EINVAL;
}

static bool reason_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Reasons end up in an XML comment and in JSON: anything outside [A-Za-z0-9_-]
 * becomes '_', and so does a '-' after a '-', since "--" may not occur in a comment. */
static void sanitize_reason(const char *in, char out[static REASON_MAX + 1])
{
    size_t n = 0;

    for (; in && in[n] && n < REASON_MAX; n++) {
        bool dash_dash = in[n] == '-' && n > 0 && out[n - 1] == '-';

        out[n] = reason_char(in[n]) && !dash_dash ? in[n] : '_';
    }
    if (n == 0)
        strcpy(out, "unknown");
    else
        out[n] = '\0';
}

static int file_name(const char *name, const char *id, char ret[static NAME_MAX + 1])
{
    int n = snprintf(ret, NAME_MAX + 1, "%s-%s" FILE_SUFFIX, name, id);

    return n < 0 || n > NAME_MAX ? -ENAMETOOLONG : 0;
}

/* "<name>-<valid id>.xml" only; everything else in the folder is not a backup.
 * Any name: a renamed machine keeps the backups saved under its old name. */
static bool parse_file_name(const char *fname, char ret_id[static 32])
{
    size_t len = strlen(fname), tail = 1 + ID_LEN + strlen(FILE_SUFFIX);
    const char *p;

    if (len <= tail || fname[0] == '.' || fname[len - tail] != '-')
        return false;
    p = fname + len - tail + 1;
    if (!streq(p + ID_LEN, FILE_SUFFIX))
        return false;
    memcpy(ret_id, p, ID_LEN);
    ret_id[ID_LEN] = '\0';
    return backup_id_valid(ret_id);
}

static unsigned digits(const char *s, size_t n)
{
    unsigned v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    return v;
}

/* The inverse of format_timestamp() for a valid id. */
static uint64_t id_to_usec(const char *id)
{
    struct tm tm = {
        .tm_year = (int)digits(id, 4) - 1900,
        .tm_mon = (int)digits(id + 4, 2) - 1,
        .tm_mday = (int)digits(id + 6, 2),
        .tm_hour = (int)digits(id + 9, 2),
        .tm_min = (int)digits(id + 11, 2),
        .tm_sec = (int)digits(id + 13, 2),
    };
    time_t t = timegm(&tm);

    if (t < 0)
        return 0;
    return (uint64_t)t * 1000000u + digits(id + 16, 6);
}

/* mkdir -p with 0700 for every folder it creates; folders that exist are not touched. */
static int mkdir_parents(const char *path)
{
    _cleanup_free_ char *parent = NULL;
    struct stat st;
    char *end;
    int r;

    if (mkdir(path, 0700) == 0)
        return 0;
    if (errno == ENOENT) {
        parent = strdup(path);
        if (!parent)
            return -ENOMEM;
        end = parent + strlen(parent);
        while (end > parent && end[-1] == '/')
            end--;
        while (end > parent && end[-1] != '/')
            end--;
        while (end > parent && end[-1] == '/')
            end--;
        if (end == parent)
            return -ENOENT;
        *end = '\0';
        r = mkdir_parents(parent);
        if (r < 0)
            return r;
        if (mkdir(path, 0700) == 0)
            return 0;
    }
    /* EEXIST also covers another thread creating it for another machine. */
    if (errno != EEXIST)
        return -errno;
    if (stat(path, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int open_folder(const char *dir, const char *name, int *ret_fd)
{
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int fd;

    if (dfd < 0)
        return -errno;
    fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    *ret_fd = fd;
    return 0;
}

static int open_dir_stream(int mfd, DIR **ret)
{
    int fd = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d;

    if (fd < 0)
        return -errno;
    d = fdopendir(fd);
    if (!d) {
        int r = -errno;

        (void)close(fd);
        return r;
    }
    *ret = d;
    return 0;
}

/* The reason from "<!-- virtmcd-backup reason=R -->", or "unknown". */
static void read_reason(int fd, char out[static REASON_MAX + 1])
{
    char line[sizeof(HEADER_PREFIX) + REASON_MAX + sizeof(HEADER_SUFFIX)];
    const char *p;
    ssize_t n;
    size_t len = 0;

    strcpy(out, "unknown");
    n = pread(fd, line, sizeof(line) - 1, 0);
    if (n <= 0)
        return;
    line[n] = '\0';
    if (!startswith(line, HEADER_PREFIX))
        return;
    p = line + strlen(HEADER_PREFIX);
    while (len < REASON_MAX && reason_char(p[len]))
        len++;
    if (len == 0 || !startswith(p + len, HEADER_SUFFIX))
        return;
    memcpy(out, p, len);
    out[len] = '\0';
}

static int entry_cmp(const void *a, const void *b)
{
    /* Ids are fixed-width UTC timestamps, so byte order is time order; newest first. */
    return strcmp(((const BackupEntry *)b)->id, ((const BackupEntry *)a)->id);
}

/* The next entry of d: 1 with *ret set, 0 at the end, -errno when reading
 * failed (readdir tells the end from a failure only through errno). */
static int dir_next(DIR *d, struct dirent **ret)
{
    errno = 0;
    *ret = readdir(d);
    if (*ret)
        return 1;
    return errno ? -errno : 0;
}

/* Every backup in the folder, newest first; details = reason and size too.  The
 * array is never NULL on success, even when empty. */
static int scan(int mfd, bool details, BackupEntry **ret, size_t *ret_n)
{
    _cleanup_(closedirp) DIR *d = NULL;
    _cleanup_free_ BackupEntry *v = calloc(1, sizeof(BackupEntry));
    size_t n = 0, cap = 1;
    int r;

    if (!v)
        return -ENOMEM;
    r = open_dir_stream(mfd, &d);
    if (r < 0)
        return r;
    for (;;) {
        BackupEntry e = { .reason = "" };
        struct stat st;
        struct dirent *de;

        r = dir_next(d, &de);
        if (r < 0)
            return r;
        if (r == 0)
            break;
        if (!parse_file_name(de->d_name, e.id) || strlen(de->d_name) >= sizeof(e.file))
            continue;
        strcpy(e.file, de->d_name);
        if (details) {
            _cleanup_close_ int fd = openat(mfd, de->d_name, READ_FLAGS);

            if (fd < 0) {
                if (errno == ENOENT || errno == ELOOP || errno == ENXIO)
                    continue;
                return -errno;
            }
            if (fstat(fd, &st) < 0)
                return -errno;
            if (!S_ISREG(st.st_mode))
                continue;
            read_reason(fd, e.reason);
            e.size = (size_t)st.st_size;
        } else {
            if (fstatat(mfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                    continue;
                return -errno;
            }
            if (!S_ISREG(st.st_mode))
                continue;
        }
        if (n == cap) {
            BackupEntry *nv = reallocarray(v, cap * 2, sizeof(BackupEntry));

            if (!nv)
                return -ENOMEM;
            v = nv;
            cap *= 2;
        }
        v[n++] = e;
    }
    qsort(v, n, sizeof(BackupEntry), entry_cmp);
    *ret = steal_ptr(&v);
    *ret_n = n;
    return 0;
}

/* Temporaries left by a save that crashed between create and rename. */
static void remove_stale_temporaries(int mfd)
{
    _cleanup_(closedirp) DIR *d = NULL;
    time_t cutoff = (time_t)(realtime_usec() / 1000000u) - STALE_TMP_SEC;
    struct dirent *de;

    if (open_dir_stream(mfd, &d) < 0)
        return;
    while ((de = readdir(d))) {
        struct stat st;

        if (!startswith(de->d_name, TMP_PREFIX))
            continue;
        if (fstatat(mfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (st.st_mtime < cutoff)
            (void)unlinkat(mfd, de->d_name, 0);
    }
}

/* Keep the first backup and the keep-1 newest (at least the newest: the backup
 * just saved is never pruned, so keep = 1 acts like keep = 2).  Best effort: a
 * failure here does not undo the save, and the next save tries again. */
static void prune(int mfd, unsigned keep)
{
    _cleanup_free_ BackupEntry *v = NULL;
    size_t n, newest;

    if (keep == 0 || scan(mfd, false, &v, &n) < 0 || n <= keep)
        return;
    newest = keep > 1 ? keep - 1 : 1;
    /* v[n - 1] is the first backup. */
    for (size_t i = newest; i + 1 < n; i++)
        (void)unlinkat(mfd, v[i].file, 0);
}

static void random_suffix(char out[static 7])
{
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[6];

    if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
        /* Uniqueness comes from O_EXCL and the retry; this only spreads the names. */
        uint64_t x = now_usec() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)out;

        for (size_t i = 0; i < sizeof(rnd); i++)
            rnd[i] = (unsigned char)(x >> (8 * i));
    }
    for (size_t i = 0; i < sizeof(rnd); i++)
        out[i] = chars[rnd[i] % (sizeof(chars) - 1)];
    out[6] = '\0';
}

/* Move tmp to final unless final exists: never replaces a backup. */
static int rename_noreplace(int mfd, const char *tmp, const char *final)
{
    if (renameat2(mfd, tmp, mfd, final, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP && errno != EOPNOTSUPP)
        return -errno;
    /* A file system without RENAME_NOREPLACE: link() also refuses to replace. */
    if (linkat(mfd, tmp, mfd, final, 0) < 0)
        return -errno;
    (void)unlinkat(mfd, tmp, 0);
    return 0;
}

/* Write one backup into the open folder; on failure nothing is left behind. */
static int save_in(int mfd, const char *name, const char *reason, const char *xml,
                   char ret_id[static 32])
{
    _cleanup_free_ BackupEntry *v = NULL;
    _cleanup_close_ int fd = -1;
    char id[32], tmp[64], final[NAME_MAX + 1], sfx[7];
    uint64_t us = realtime_usec();
    size_t n;
    int r;

    /* Ids only ever grow within a folder, even when the clock steps back, so that
     * newest-first and "the first backup" keep their meaning. */
    r = scan(mfd, false, &v, &n);
    if (r < 0)
        return r;
    format_timestamp(us, id);
    if (n > 0 && strcmp(id, v[0].id) <= 0) {
        us = id_to_usec(v[0].id) + 1;
        format_timestamp(us, id);
    }
    /* Only a planted id near year 9999 gets here: no later id can be written. */
    if (!backup_id_valid(id))
        return -ERANGE;

    for (unsigned i = 0;; i++) {
        random_suffix(sfx);
        snprintf(tmp, sizeof(tmp), TMP_PREFIX "%s-%s", id, sfx);
        fd = openat(mfd, tmp, TMP_FLAGS, 0600);
        if (fd >= 0)
            break;
        if (errno != EEXIST || i >= 100)
            return -errno;
    }

    r = write_full(fd, HEADER_PREFIX, strlen(HEADER_PREFIX));
    if (r >= 0)
        r = write_full(fd, reason, strlen(reason));
    if (r >= 0)
        r = write_full(fd, HEADER_SUFFIX, strlen(HEADER_SUFFIX));
    if (r >= 0)
        r = write_full(fd, xml, strlen(xml));
    if (r < 0)
        goto fail;
    if (fsync(fd) < 0 || close(steal_fd(&fd)) < 0) {
        r = -errno;
        goto fail;
    }

    /* Two saves in one microsecond (or a caller that does not serialise). */
    for (unsigned i = 0;; i++) {
        r = file_name(name, id, final);
        if (r < 0)
            goto fail;
        r = rename_noreplace(mfd, tmp, final);
        if (r != -EEXIST || i >= 1000)
            break;
        format_timestamp(++us, id);
        if (!backup_id_valid(id)) {
            r = -ERANGE;
            break;
        }
    }
    if (r < 0)
        goto fail;
    if (fsync(mfd) < 0) {
        r = -errno;
        (void)unlinkat(mfd, final, 0);
        goto fail;
    }
    memcpy(ret_id, id, 32);
    return 0;

fail:
    (void)unlinkat(mfd, tmp, 0);
    return r;
}

static int save(const char *dir, const char *key, const char *name, const char *reason,
                const char *xml, unsigned keep, char **ret_id)
{
    _cleanup_close_ int dfd = -1, mfd = -1;
    _cleanup_free_ char *out = NULL;
    char why[REASON_MAX + 1], id[32], probe[NAME_MAX + 1];
    bool created = false;
    int r;

    r = check_args(dir, key);
    if (r < 0)
        return r;
    if (!xml || !name || !machine_name_valid(name, strnlen(name, 256)))
        return -EINVAL;
    /* A name over 227 bytes leaves no room for "-<id>.xml" in a file name. */
    r = file_name(name, "YYYYMMDDTHHMMSS.ffffffZ", probe);
    if (r < 0)
        return r;
    sanitize_reason(reason, why);
    /* Allocated first: once the backup exists, nothing may fail any more. */
    if (ret_id) {
        out = malloc(32);
        if (!out)
            return -ENOMEM;
    }

    r = mkdir_parents(dir);
    if (r < 0)
        return r;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    if (mkdirat(dfd, key, 0700) == 0)
        created = true;
    else if (errno != EEXIST)
        return -errno;
    mfd = openat(dfd, key, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (mfd < 0) {
        r = -errno;
        goto fail;
    }
    /* A new folder must survive a crash as well as the file in it. */
    if (created && fsync(dfd) < 0) {
        r = -errno;
        goto fail;
    }
    r = save_in(mfd, name, why, xml, id);
    if (r < 0)
        goto fail;

    remove_stale_temporaries(mfd);
    prune(mfd, keep);

    if (ret_id) {
        memcpy(out, id, 32);
        *ret_id = steal_ptr(&out);
    }
    return 0;

fail:
    /* Only an empty folder goes: callers serialise one machine, so it is ours. */
    if (created)
        (void)unlinkat(dfd, key, AT_REMOVEDIR);
    return r;
}

int backup_save(const char *dir, const char *key, const char *name, const char *reason,
                const char *xml, unsigned keep, char **ret_id)
{
    int r = save(dir, key, name, reason, xml, keep, ret_id);

    metrics_backup_written(r >= 0);
    return r;
}

int backup_list(const char *dir, const char *key, BackupEntry **ret, size_t *ret_n)
{
    _cleanup_close_ int mfd = -1;
    int r;

    r = check_args(dir, key);
    if (r < 0)
        return r;
    r = open_folder(dir, key, &mfd);
    if (r == -ENOENT) {
        BackupEntry *v = calloc(1, sizeof(BackupEntry));

        if (!v)
            return -ENOMEM;
        *ret = v;
        *ret_n = 0;
        return 0;
    }
    if (r < 0)
        return r;
    return scan(mfd, true, ret, ret_n);
}

int backup_read(const char *dir, const char *key, const char *id, char **ret_xml)
{
    _cleanup_free_ BackupEntry *v = NULL;
    _cleanup_close_ int mfd = -1, fd = -1;
    const char *fname = NULL;
    struct stat st;
    size_t n;
    int r;

    r = check_args(dir, key);
    if (r < 0)
        return r;
    if (!backup_id_valid(id))
        return -ENOENT;
    r = open_folder(dir, key, &mfd);
    if (r < 0)
        return r;
    r = scan(mfd, false, &v, &n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n && !fname; i++)
        if (streq(v[i].id, id))
            fname = v[i].file;
    if (!fname)
        return -ENOENT;
    fd = openat(mfd, fname, READ_FLAGS);
    if (fd < 0)
        return errno == ELOOP || errno == ENXIO ? -ENOENT : -errno;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -ENOENT;
    return read_fd(fd, READ_MAX, ret_xml, NULL);
}

int backup_first(const char *dir, const char *key, char **ret_id)
{
    _cleanup_free_ BackupEntry *v = NULL;
    _cleanup_close_ int mfd = -1;
    char *s;
    size_t n;
    int r;

    r = check_args(dir, key);
    if (r < 0)
        return r;
    r = open_folder(dir, key, &mfd);
    if (r < 0)
        return r;
    r = scan(mfd, false, &v, &n);
    if (r < 0)
        return r;
    if (n == 0)
        return -ENOENT;
    s = strdup(v[n - 1].id);
    if (!s)
        return -ENOMEM;
    *ret_id = s;
    return 0;
}

int backup_keys(const char *dir, char ***ret)
{
    _cleanup_(closedirp) DIR *d = opendir(dir);
    _cleanup_strv_free_ char **keys = NULL;
    struct dirent *de;

    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || de->d_type != DT_DIR)
            continue;
        if (!machine_name_valid(de->d_name, strlen(de->d_name)))
            continue;
        if (strv_push(&keys, de->d_name) < 0)
            return -ENOMEM;
    }
    *ret = steal_ptr(&keys);
    return 0;
}

int backup_move(const char *dir, const char *from_key, const char *to_key)
{
    _cleanup_free_ BackupEntry *v = NULL;
    _cleanup_close_ int dfd = -1, from = -1, to = -1;
    size_t n;
    int r, moved = 0;

    r = check_args(dir, from_key);
    if (r >= 0)
        r = check_args(dir, to_key);
    if (r < 0)
        return r;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    from = openat(dfd, from_key, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (from < 0)
        return -errno;
    r = scan(from, false, &v, &n);
    if (r < 0)
        return r;
    /* The whole folder in one step when the new one does not exist yet. */
    if (renameat2(dfd, from_key, dfd, to_key, RENAME_NOREPLACE) == 0) {
        if (fsync(dfd) < 0)
            return -errno;
        return (int)n;
    }
    if (errno != EEXIST && errno != ENOTEMPTY)
        return -errno;
    to = openat(dfd, to_key, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (to < 0)
        return -errno;
    for (size_t i = 0; i < n; i++) {
        if (renameat2(from, v[i].file, to, v[i].file, RENAME_NOREPLACE) < 0)
            return -errno;
        moved++;
    }
    if (fsync(to) < 0)
        return -errno;
    /* Only an empty folder goes; anything else in it stays where it was. */
    (void)unlinkat(dfd, from_key, AT_REMOVEDIR);
    (void)fsync(dfd);
    return moved;
}

/* Whether an entry of a machine's folder is a backup or a save's temporary
 * (regular files only, never followed): what backup_remove may delete. */
static bool removable(int mfd, const char *fname, bool *ret_backup)
{
    char id[32];
    struct stat st;

    if (fstatat(mfd, fname, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
        return false;
    *ret_backup = parse_file_name(fname, id);
    return *ret_backup || startswith(fname, TMP_PREFIX);
}

int backup_remove(const char *dir, const char *key)
{
    _cleanup_(closedirp) DIR *d = NULL;
    _cleanup_strv_free_ char **files = NULL;
    _cleanup_close_ int dfd = -1, mfd = -1;
    struct dirent *de;
    int r, n = 0;

    r = check_args(dir, key);
    if (r < 0)
        return r;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return errno == ENOENT ? 0 : -errno;
    mfd = openat(dfd, key, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (mfd < 0)
        return errno == ENOENT ? 0 : -errno;
    r = open_dir_stream(mfd, &d);
    if (r < 0)
        return r;
    /* Look first, remove after: a folder with anything else in it stays whole. */
    for (;;) {
        bool is_backup = false;

        r = dir_next(d, &de);
        if (r < 0)
            return r;
        if (r == 0)
            break;
        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        if (!removable(mfd, de->d_name, &is_backup))
            return -ENOTEMPTY;
        if (strv_push(&files, de->d_name) < 0)
            return -ENOMEM;
        n += is_backup;
    }
    for (size_t i = 0; files && files[i]; i++)
        if (unlinkat(mfd, files[i], 0) < 0 && errno != ENOENT)
            return -errno;
    if (unlinkat(dfd, key, AT_REMOVEDIR) < 0)
        return -errno;
    if (fsync(dfd) < 0)
        return -errno;
    return n;
}
