/* test-backup.c: unit tests for backup.c in a private mkdtemp folder.
 *
 * Covers the round trip, modes, unique and growing ids, newest-first order,
 * pruning, id and name validation, failure without leftovers, that
 * temporaries and stray files never show up as backups, and the removal of a
 * gone machine's folder (its backups only, never anything else).  Touches nothing
 * outside its own temporary folder. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "backup.h"
#include "tap.h"
#include "util.h"

#define HDR(r) "<!-- virtmcd-backup reason=" r " -->\n"

static const char *const XML = "<domain type='kvm'>\n  <name>vm1</name>\n</domain>\n";
static char top[64];
static char dir[128];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void rm_rf(const char *path)
{
    (void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static mode_t mode_of(const char *path)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return (mode_t)-1;
    return st.st_mode & 07777;
}

static bool exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

static void write_str(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK_INT(write_full(fd, s, strlen(s)), 0);
    close(fd);
}

/* Entries in a folder whose name starts with prefix. */
static size_t count_prefix(const char *folder, const char *prefix)
{
    DIR *d = opendir(folder);
    struct dirent *de;
    size_t n = 0;

    if (!d)
        return 0;
    while ((de = readdir(d)))
        if (startswith(de->d_name, prefix))
            n++;
    closedir(d);
    return n;
}

static void test_round_trip(void)
{
    _cleanup_free_ char *id = NULL, *xml = NULL, *first = NULL, *folder = NULL, *file = NULL;
    _cleanup_free_ BackupEntry *v = NULL;
    size_t n = 99;

    /* Nothing yet: an empty list, no first, nothing to read. */
    CHECK_INT(backup_list(dir, "vm1", &v, &n), 0);
    CHECK_INT(n, 0);
    CHECK(v != NULL);
    CHECK_INT(backup_first(dir, "vm1", &first), -ENOENT);
    CHECK_INT(backup_read(dir, "vm1", "20261122T013015.123456Z", &xml), -ENOENT);
    CHECK(!exists(dir));

    CHECK_INT(backup_save(dir, "vm1", "vm1", "pxeboot", XML, 0, &id), 0);
    CHECK(id && backup_id_valid(id));
    if (!id)
        return;

    free(v);
    v = NULL;
    CHECK_INT(backup_list(dir, "vm1", &v, &n), 0);
    CHECK_INT(n, 1);
    CHECK_STR(v[0].id, id);
    CHECK_STR(v[0].reason, "pxeboot");
    CHECK_INT(v[0].size, strlen(HDR("pxeboot")) + strlen(XML));

    CHECK_INT(backup_read(dir, "vm1", id, &xml), 0);
    CHECK(xml && startswith(xml, HDR("pxeboot")));
    CHECK_STR(xml ? xml + strlen(HDR("pxeboot")) : NULL, XML);

    CHECK_INT(backup_first(dir, "vm1", &first), 0);
    CHECK_STR(first, id);

    /* Modes: every folder created 0700 (umask 022 would otherwise give 0755), file 0600. */
    folder = strdup_printf("%s/vm1", dir);
    file = strdup_printf("%s/vm1-%s.xml", folder, id);
    CHECK_INT(mode_of(top), 0700); /* mkdtemp */
    {
        _cleanup_free_ char *a = strdup_printf("%s/a", top), *b = strdup_printf("%s/a/b", top);

        CHECK_INT(mode_of(a), 0700);
        CHECK_INT(mode_of(b), 0700);
    }
    CHECK_INT(mode_of(dir), 0700);
    CHECK_INT(mode_of(folder), 0700);
    CHECK_INT(mode_of(file), 0600);
    CHECK_INT(count_prefix(folder, ".tmp-"), 0);

    /* No ret_id is fine too. */
    CHECK_INT(backup_save(dir, "vm1", "vm1", "diskboot", XML, 0, NULL), 0);
    free(v);
    v = NULL;
    CHECK_INT(backup_list(dir, "vm1", &v, &n), 0);
    CHECK_INT(n, 2);
    CHECK_STR(v[0].reason, "diskboot");
    CHECK_STR(v[1].id, id);
}

static void test_many(void)
{
    char ids[100][32];
    _cleanup_free_ BackupEntry *v = NULL;
    _cleanup_free_ char *first = NULL, *folder = strdup_printf("%s/vm2", dir);
    size_t n;

    for (size_t i = 0; i < 100; i++) {
        _cleanup_free_ char *id = NULL;

        CHECK_INT(backup_save(dir, "vm2", "vm2", "restore", XML, 0, &id), 0);
        CHECK(id && backup_id_valid(id));
        snprintf(ids[i], sizeof(ids[i]), "%s", id ? id : "");
        /* Unique and growing, even within one microsecond. */
        if (i > 0)
            CHECK(strcmp(ids[i - 1], ids[i]) < 0);
    }
    CHECK_INT(backup_list(dir, "vm2", &v, &n), 0);
    CHECK_INT(n, 100);
    for (size_t i = 0; i < n && i < 100; i++)
        CHECK_STR(v[i].id, ids[99 - i]); /* newest first */
    CHECK_INT(backup_first(dir, "vm2", &first), 0);
    CHECK_STR(first, ids[0]);
    CHECK_INT(count_prefix(folder, ".tmp-"), 0);
    CHECK_INT(count_prefix(folder, "vm2-"), 100);
}

static void test_prune(void)
{
    char ids[5][32];
    _cleanup_free_ BackupEntry *v = NULL;
    size_t n;

    for (size_t i = 0; i < 5; i++) {
        _cleanup_free_ char *id = NULL;

        CHECK_INT(backup_save(dir, "vm3", "vm3", "pxeboot", XML, 3, &id), 0);
        snprintf(ids[i], sizeof(ids[i]), "%s", id ? id : "");
    }
    CHECK_INT(backup_list(dir, "vm3", &v, &n), 0);
    CHECK_INT(n, 3);
    if (n == 3) {
        CHECK_STR(v[0].id, ids[4]);
        CHECK_STR(v[1].id, ids[3]);
        CHECK_STR(v[2].id, ids[0]); /* the first survives, for defaultboot */
    }
    free(v);
    v = NULL;

    /* keep = 1 never prunes the backup just saved: the first and the newest stay. */
    for (size_t i = 0; i < 3; i++)
        CHECK_INT(backup_save(dir, "vm4", "vm4", "pxeboot", XML, 1, NULL), 0);
    CHECK_INT(backup_list(dir, "vm4", &v, &n), 0);
    CHECK_INT(n, 2);
}

static void test_invalid_ids(void)
{
    static const char nul_id[] = "20261122T013015.123\0456Z";
    static const char *const bad[] = {
        "..",
        "../x",
        "2026",
        "20261122T013015.123456Z/../x",
        nul_id,
        "",
        "20261122T013015.123456",
        "20261122T013015.123456Z ",
        "2026112xT013015.123456Z",
        "20261122T013015,123456Z",
        "/etc/passwd",
    };
    _cleanup_free_ char *id = NULL, *decoded = NULL;
    char *xml = NULL;
    size_t len;

    CHECK(backup_id_valid("20261122T013015.123456Z"));
    CHECK(!backup_id_valid(NULL));
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        CHECK(!backup_id_valid(bad[i]));
        CHECK_INT(backup_read(dir, "vm1", bad[i], &xml), -ENOENT);
    }
    /* "%00" as a URL would deliver it: the NUL ends the string early. */
    CHECK_INT(percent_decode("20261122T013015.123456Z%00", 26, &decoded, &len), 0);
    CHECK_INT(backup_read(dir, "vm1", decoded, &xml), -ENOENT);
    free(decoded);
    decoded = NULL;
    CHECK_INT(percent_decode("20261122T013015.12345%00Z", 25, &decoded, &len), 0);
    CHECK_INT(backup_read(dir, "vm1", decoded, &xml), -ENOENT);
    /* Valid shape but absent; and a present id under another machine. */
    CHECK_INT(backup_read(dir, "vm1", "19700101T000000.000000Z", &xml), -ENOENT);
    CHECK_INT(backup_first(dir, "vm1", &id), 0);
    CHECK_INT(backup_read(dir, "nosuchvm", id, &xml), -ENOENT);
    CHECK(xml == NULL);
}

static void test_invalid_names(void)
{
    char long_name[257], nearly[241];
    BackupEntry *v = NULL;
    char *s = NULL;
    size_t n = 7;
    const char *const bad[] = { "", ".", "..", "a/b", "/", "../vm1", long_name, "a\nb" };

    memset(long_name, 'x', 256);
    long_name[256] = '\0';
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        CHECK_INT(backup_save(dir, bad[i], bad[i], "x", XML, 0, &s), -EINVAL);
        CHECK_INT(backup_list(dir, bad[i], &v, &n), -EINVAL);
        CHECK_INT(backup_read(dir, bad[i], "20261122T013015.123456Z", &s), -EINVAL);
        CHECK_INT(backup_first(dir, bad[i], &s), -EINVAL);
    }
    CHECK_INT(backup_save(NULL, "vm1", "vm1", "x", XML, 0, &s), -EINVAL);
    CHECK_INT(backup_save("", "vm1", "vm1", "x", XML, 0, &s), -EINVAL);
    CHECK_INT(backup_save(dir, "vm1", "vm1", "x", NULL, 0, &s), -EINVAL);
    CHECK(s == NULL && v == NULL && n == 7);

    /* A legal machine name too long for "<name>-<id>.xml": refused, no folder made. */
    memset(nearly, 'y', 240);
    nearly[240] = '\0';
    CHECK_INT(backup_save(dir, nearly, nearly, "x", XML, 0, &s), -ENAMETOOLONG);
    CHECK_INT(count_prefix(dir, "yyy"), 0);
    CHECK(s == NULL);
}

static void test_unwritable(void)
{
    _cleanup_free_ char *file = strdup_printf("%s/plainfile", top);
    _cleanup_free_ char *under = strdup_printf("%s/plainfile/backups", top);
    _cleanup_free_ char *deeper = strdup_printf("%s/plainfile/x/y", top);
    char *id = NULL;
    struct stat st;

    write_str(file, "not a folder\n");
    CHECK(backup_save(under, "vm1", "vm1", "pxeboot", XML, 0, &id) < 0);
    CHECK(backup_save(deeper, "vm1", "vm1", "pxeboot", XML, 0, &id) < 0);
    CHECK(id == NULL);
    CHECK(stat(file, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 13);
    CHECK(!exists(under));
    /* Only what the other tests made sits in the top folder. */
    CHECK_INT(count_prefix(top, ""), 2 + 2); /* ".", "..", "a", "plainfile" */
}

static void test_strays(void)
{
    _cleanup_free_ char *folder = strdup_printf("%s/vm5", dir);
    _cleanup_free_ char *fresh = NULL, *stale = NULL, *link = NULL, *fifo = NULL;
    _cleanup_free_ char *bare = NULL, *read_back = NULL;
    _cleanup_free_ BackupEntry *v = NULL;
    static const char *const strays[] = {
        "vm5-20261122T013015.123456Z.xml.tmp", "vm5-bogus.xml",
        "-20261122T013015.123456Z.xml",        "vm5-20261122T013015.123456Z",
        "vm5_20261122T013015.123456Z.xml",     "vm5-.xml",
    };
    struct timespec old[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };
    char *xml = NULL;
    size_t n;

    CHECK_INT(backup_save(dir, "vm5", "vm5", "pxeboot", XML, 0, NULL), 0);
    for (size_t i = 0; i < ELEMENTSOF(strays); i++) {
        _cleanup_free_ char *p = strdup_printf("%s/%s", folder, strays[i]);

        write_str(p, XML);
    }
    fresh = strdup_printf("%s/.tmp-20261122T013015.123456Z-abcdef", folder);
    stale = strdup_printf("%s/.tmp-20010909T014640.000000Z-ghijkl", folder);
    write_str(fresh, XML);
    write_str(stale, XML);
    CHECK(utimensat(AT_FDCWD, stale, old, 0) == 0);
    /* A symlink and a FIFO with backup names must be neither listed nor followed. */
    link = strdup_printf("%s/vm5-20200101T000000.000000Z.xml", folder);
    CHECK(symlink("/etc/passwd", link) == 0);
    fifo = strdup_printf("%s/vm5-20200101T000001.000000Z.xml", folder);
    CHECK(mkfifo(fifo, 0600) == 0);
    /* A backup without the header line (written by hand) reads as reason "unknown". */
    bare = strdup_printf("%s/vm5-20200101T000002.000000Z.xml", folder);
    write_str(bare, XML);

    CHECK_INT(backup_list(dir, "vm5", &v, &n), 0);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(v[0].reason, "pxeboot");
        CHECK_STR(v[1].id, "20200101T000002.000000Z");
        CHECK_STR(v[1].reason, "unknown");
        CHECK_INT(v[1].size, strlen(XML));
    }
    CHECK_INT(backup_read(dir, "vm5", "20200101T000000.000000Z", &xml), -ENOENT);
    CHECK_INT(backup_read(dir, "vm5", "20200101T000001.000000Z", &xml), -ENOENT);
    CHECK_INT(backup_read(dir, "vm5", "20200101T000002.000000Z", &read_back), 0);
    CHECK_STR(read_back, XML);

    /* The next save removes the stale temporary and keeps the fresh one. */
    CHECK_INT(backup_save(dir, "vm5", "vm5", "pxeboot", XML, 0, NULL), 0);
    CHECK(exists(fresh));
    CHECK(!exists(stale));
    free(v);
    v = NULL;
    CHECK_INT(backup_list(dir, "vm5", &v, &n), 0);
    CHECK_INT(n, 3);

    /* A folder that is a symlink is refused rather than followed. */
    {
        _cleanup_free_ char *alias = strdup_printf("%s/vm6", dir);
        BackupEntry *w = NULL;
        char *id = NULL;

        CHECK(symlink(folder, alias) == 0);
        CHECK(backup_save(dir, "vm6", "vm6", "pxeboot", XML, 0, &id) < 0);
        CHECK(backup_list(dir, "vm6", &w, &n) < 0);
        CHECK(id == NULL && w == NULL);
        CHECK_INT(count_prefix(folder, "vm6-"), 0);
    }
}

static void test_reasons(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "once-restore", "once-restore" },
        { "once restore/../x", "once_restore____x" },
        { "a -->\n<evil/>", "a_-____evil__" },
        { "x---y-", "x-_-y-" },
        { "0123456789012345678901234567890123456789", "0123456789012345678901234567890" },
        { "", "unknown" },
        { NULL, "unknown" },
    };
    _cleanup_free_ BackupEntry *v = NULL;
    size_t n;

    for (size_t i = 0; i < ELEMENTSOF(cases); i++)
        CHECK_INT(backup_save(dir, "vm7", "vm7", cases[i].in, XML, 0, NULL), 0);
    CHECK_INT(backup_list(dir, "vm7", &v, &n), 0);
    CHECK_INT(n, ELEMENTSOF(cases));
    for (size_t i = 0; i < n && i < ELEMENTSOF(cases); i++)
        CHECK_STR(v[n - 1 - i].reason, cases[i].out);
}

static void test_clock_backwards(void)
{
    _cleanup_free_ char *future = strdup_printf("%s/vm8/vm8-29991231T235959.999999Z.xml", dir);
    _cleanup_free_ char *id = NULL, *first = NULL;

    /* A backup "from the future" (the clock stepped back since): ids keep growing. */
    CHECK_INT(backup_save(dir, "vm8", "vm8", "pxeboot", XML, 0, &first), 0);
    write_str(future, HDR("pxeboot") "<domain/>\n");
    CHECK_INT(backup_save(dir, "vm8", "vm8", "diskboot", XML, 0, &id), 0);
    CHECK_STR(id, "30000101T000000.000000Z");
    free(first);
    first = NULL;
    CHECK_INT(backup_first(dir, "vm8", &first), 0);
    CHECK(first && strcmp(first, "29991231T235959.999999Z") < 0);
}

/* Keyed by UUID: the folder is the key, the file keeps the machine's name of
 * the day; a rename keeps the backups; a name-keyed folder moves over. */
static void test_keys(void)
{
    static const char *const u1 = "0b3a4c5d-0001-4e6f-8a9b-000000000001";
    static const char *const u2 = "0b3a4c5d-0002-4e6f-8a9b-000000000002";
    _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *xml = NULL, *first = NULL;
    _cleanup_free_ char *path = NULL;
    _cleanup_free_ BackupEntry *v = NULL;
    _cleanup_strv_free_ char **keys = NULL;
    size_t n = 0;

    /* Two machines of one name (two hosts, or deleted and re-created). */
    CHECK_INT(backup_save(dir, u1, "twin", "pxeboot", XML, 0, &a), 0);
    CHECK_INT(backup_save(dir, u2, "twin", "diskboot", XML, 0, &b), 0);
    CHECK_INT(backup_list(dir, u2, &v, &n), 0);
    CHECK_INT(n, 1);
    CHECK_STR(n ? v[0].reason : NULL, "diskboot");
    CHECK_INT(backup_first(dir, u2, &first), 0);
    CHECK_STR(first, b);
    CHECK_INT(backup_read(dir, u2, a, &xml), -ENOENT);
    path = strdup_printf("%s/%s/twin-%s.xml", dir, u1, a);
    CHECK(exists(path));

    /* Renamed: the old file name still counts, the new save uses the new name. */
    CHECK_INT(backup_save(dir, u1, "renamed", "restore", XML, 0, &c), 0);
    free(v);
    v = NULL;
    CHECK_INT(backup_list(dir, u1, &v, &n), 0);
    CHECK_INT(n, 2);
    CHECK_STR(n == 2 ? v[1].id : NULL, a);
    CHECK_INT(backup_read(dir, u1, a, &xml), 0);
    free(path);
    path = strdup_printf("%s/%s/renamed-%s.xml", dir, u1, c);
    CHECK(exists(path));

    /* An old name-keyed folder moves into the UUID's folder, merging. */
    CHECK_INT(backup_save(dir, "legacy", "legacy", "pxeboot", XML, 0, NULL), 0);
    CHECK_INT(backup_save(dir, "legacy", "legacy", "diskboot", XML, 0, NULL), 0);
    CHECK_INT(backup_keys(dir, &keys), 0);
    CHECK(strv_length(keys) >= 3);
    CHECK_INT(backup_move(dir, "legacy", u1), 2);
    free(v);
    v = NULL;
    CHECK_INT(backup_list(dir, u1, &v, &n), 0);
    CHECK_INT(n, 4);
    free(path);
    path = strdup_printf("%s/legacy", dir);
    CHECK(!exists(path));
    /* Into a folder that does not exist yet: one rename. */
    CHECK_INT(backup_save(dir, "legacy2", "legacy2", "pxeboot", XML, 0, NULL), 0);
    CHECK_INT(backup_move(dir, "legacy2", "0b3a4c5d-0003-4e6f-8a9b-000000000003"), 1);
    CHECK_INT(backup_move(dir, "absent", u1), -ENOENT);
    CHECK_INT(backup_move(dir, "../x", u1), -EINVAL);
}

/* A gone machine's folder goes with its backups and temporaries; other
 * folders stay; a folder with anything else in it stays whole. */
static void test_remove(void)
{
    static const char *const gone = "0b3a4c5d-0010-4e6f-8a9b-000000000010";
    static const char *const kept = "0b3a4c5d-0011-4e6f-8a9b-000000000011";
    static const char *const odd = "0b3a4c5d-0012-4e6f-8a9b-000000000012";
    _cleanup_free_ char *gone_dir = strdup_printf("%s/%s", dir, gone);
    _cleanup_free_ char *kept_dir = strdup_printf("%s/%s", dir, kept);
    _cleanup_free_ char *odd_dir = strdup_printf("%s/%s", dir, odd);
    _cleanup_free_ char *tmp = strdup_printf("%s/.tmp-20261122T013015.123456Z-abcdef", gone_dir);
    _cleanup_free_ char *stray = strdup_printf("%s/notes.txt", odd_dir);
    _cleanup_free_ char *plain = strdup_printf("%s/plain", dir);
    _cleanup_free_ char *alias = strdup_printf("%s/alias", dir);
    _cleanup_free_ BackupEntry *v = NULL;
    size_t n = 0;

    for (int i = 0; i < 3; i++)
        CHECK_INT(backup_save(dir, gone, "clone", "pool-state-ready", XML, 0, NULL), 0);
    write_str(tmp, XML);
    CHECK_INT(backup_save(dir, kept, "other", "pxeboot", XML, 0, NULL), 0);
    CHECK_INT(backup_save(dir, odd, "odd", "pxeboot", XML, 0, NULL), 0);
    write_str(stray, "mine\n");

    CHECK_INT(backup_remove(dir, gone), 3);
    CHECK(!exists(gone_dir));
    CHECK_INT(backup_list(dir, kept, &v, &n), 0);
    CHECK_INT(n, 1);
    /* Nothing left to remove: no folder, no error. */
    CHECK_INT(backup_remove(dir, gone), 0);

    /* Something that is not a backup: nothing at all is removed. */
    CHECK_INT(backup_remove(dir, odd), -ENOTEMPTY);
    CHECK(exists(stray));
    free(v);
    v = NULL;
    CHECK_INT(backup_list(dir, odd, &v, &n), 0);
    CHECK_INT(n, 1);

    /* A key that is a file or a symlink is neither removed nor followed. */
    write_str(plain, "x\n");
    CHECK_INT(backup_remove(dir, "plain"), -ENOTDIR);
    CHECK(exists(plain));
    CHECK(symlink(kept_dir, alias) == 0);
    CHECK(backup_remove(dir, "alias") < 0);
    CHECK(exists(alias));
    free(v);
    v = NULL;
    CHECK_INT(backup_list(dir, kept, &v, &n), 0);
    CHECK_INT(n, 1);

    /* A key that would leave the backup folder is refused. */
    CHECK_INT(backup_remove(dir, ".."), -EINVAL);
    CHECK_INT(backup_remove(dir, "a/b"), -EINVAL);
    CHECK(exists(dir));
}

int main(void)
{
    umask(022);
    snprintf(top, sizeof(top), "/tmp/test-backup-XXXXXX");
    if (!mkdtemp(top)) {
        perror("mkdtemp");
        return 99;
    }
    /* Parents that do not exist yet: save creates them all. */
    snprintf(dir, sizeof(dir), "%s/a/b/backups", top);

    test_round_trip();
    test_many();
    test_prune();
    test_invalid_ids();
    test_invalid_names();
    test_unwritable();
    test_strays();
    test_reasons();
    test_clock_backwards();
    test_keys();
    test_remove();

    rm_rf(top);
    return tap_done();
}
