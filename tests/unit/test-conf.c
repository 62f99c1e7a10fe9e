/* test-conf.c: conf parsing, defaults, validation, and the documentation of
 * every key in man/virtmcd.conf.5 and data/virtmcd.conf.
 *
 * Links only src/conf.c, src/util.c and libinih.  $abs_srcdir (default ".")
 * locates the man page and the shipped configuration. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"
#include "tap.h"

/* Load text into a fresh Conf; returns the load result, errors in *errs. */
static int load(const char *text, Conf **ret, ConfErrors *errs)
{
    Conf *c = conf_new();
    int r;

    CHECK(c);
    r = conf_load_string(c, text, "test.conf", errs);
    *ret = c;
    return r;
}

/* Load text and expect exactly one error, equal to msg. */
static void expect_error(const char *text, const char *msg)
{
    _cleanup_(conf_freep) Conf *c = NULL;
    ConfErrors errs = { 0 };
    int r = load(text, &c, &errs);

    CHECK_INT(r, -EINVAL);
    CHECK_INT(errs.n, 1);
    CHECK_STR(errs.n > 0 ? errs.msgs[0] : NULL, msg);
    if (errs.n != 1)
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "    got: %s\n", errs.msgs[i]);
    conf_errors_clear(&errs);
}

/* Load text and expect it to parse and check without errors. */
static Conf *expect_ok(const char *text)
{
    Conf *c = NULL;
    ConfErrors errs = { 0 };
    int r = load(text, &c, &errs);

    CHECK_INT(r, 0);
    if (r == 0)
        CHECK_INT(conf_check(c, &errs), 0);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "    unexpected: %s\n", errs.msgs[i]);
    conf_errors_clear(&errs);
    return c;
}

/* Load text and expect conf_check() to report exactly msg. */
static void expect_check_error(const char *text, const char *msg)
{
    _cleanup_(conf_freep) Conf *c = NULL;
    ConfErrors errs = { 0 };

    CHECK_INT(load(text, &c, &errs), 0);
    CHECK_INT(conf_check(c, &errs), -EINVAL);
    CHECK_INT(errs.n, 1);
    CHECK_STR(errs.n > 0 ? errs.msgs[0] : NULL, msg);
    for (size_t i = 1; i < errs.n; i++)
        fprintf(stderr, "    also: %s\n", errs.msgs[i]);
    conf_errors_clear(&errs);
}

/* Builds "[server]\nlisten = 127.0.0.1:9001\n..." from the key table's default
 * text, and the pool keys (but template) separately. */
typedef struct DefaultsText {
    Buf *b, *pb;
    const char *last;
} DefaultsText;

static void defaults_text(const char *section, const char *key, const char *def, void *ud)
{
    DefaultsText *a = ud;

    if (streq(section, "host") || streq(section, "user"))
        return;
    if (streq(section, "pool")) {
        if (!streq(key, "template"))
            buf_printf(a->pb, "%s = %s\n", key, def);
        return;
    }
    if (!streq(a->last, section))
        buf_printf(a->b, "[%s]\n", section);
    a->last = section;
    buf_printf(a->b, "%s = %s\n", key, def);
}

static void test_defaults(void)
{
    _cleanup_(conf_freep) Conf *c = conf_new();

    CHECK(c);
    CHECK(!c->path);
    CHECK_STR(c->listen, "127.0.0.1:9001");
    CHECK(!c->tls_cert);
    CHECK(!c->tls_key);
    CHECK_INT(c->max_connections, 1024);
    CHECK_INT(c->max_connections_per_ip, 64);
    CHECK_INT(c->connection_memory, 65536);
    CHECK_INT(c->max_body_bytes, 65536);
    CHECK_INT(c->request_timeout, 30);
    CHECK_INT(c->header_timeout, 10);
    CHECK_INT(c->body_timeout, 30);
    CHECK_INT(c->socket_mode, 0660);
    CHECK(!c->socket_group);
    CHECK_INT(c->threads, 0);
    CHECK(c->legacy_get_actions);
    CHECK(c->access_log);
    CHECK_STR(c->uri, "qemu:///system");
    CHECK_INT(c->n_hosts, 0);
    CHECK_INT(c->force_off_timeout, 10);
    CHECK_INT(c->lock_timeout, 30);
    CHECK_INT(c->reboot_timeout, 30);
    CHECK_INT(c->state_words, STATE_WORDS_LIBVIRT);
    CHECK_INT(c->address_refresh, 60);
    CHECK_INT(c->lock_queue, 16);
    CHECK(c->memory_guard);
    CHECK(endswith(c->backup_dir, "/lib/virtmcd/backups"));
    CHECK_INT(c->backup_keep, 50);
    CHECK(c->live_update);
    CHECK(!c->users_file);
    CHECK_STR(c->realm, "virtmcd");
    CHECK_INT(c->digest_algorithm, DIGEST_MD5);
    CHECK_INT(c->basic, BASIC_TLS);
    CHECK_INT(c->max_failures, 10);
    CHECK_INT(c->failure_window, 60);
    CHECK_INT(c->session_timeout, 1800);
    CHECK_INT(c->token_timeout, 604800);
    CHECK_INT(c->n_users, 0);
    CHECK_INT(c->n_pools, 0);
    conf_free(NULL);

    /* The defaults conf_new() holds agree with the table's default text. */
    {
        ConfErrors errs = { 0 };
        _cleanup_(conf_freep) Conf *ref = conf_new();
        _cleanup_(conf_freep) Conf *d = NULL;
        _cleanup_(conf_freep) Conf *p = NULL;
        Buf b = { 0 }, pb = { 0 };
        _cleanup_free_ char *text = NULL, *ptext = NULL;
        DefaultsText acc = { &b, &pb, "" };

        conf_keys_foreach(defaults_text, &acc);
        text = buf_steal(&b);
        CHECK_INT(load(text, &d, &errs), 0);
        CHECK_STR(d->listen, ref->listen);
        CHECK(streq_ptr(d->tls_cert, ref->tls_cert));
        CHECK(streq_ptr(d->tls_key, ref->tls_key));
        CHECK_INT(d->max_connections, ref->max_connections);
        CHECK_INT(d->max_connections_per_ip, ref->max_connections_per_ip);
        CHECK_INT(d->connection_memory, ref->connection_memory);
        CHECK_INT(d->max_body_bytes, ref->max_body_bytes);
        CHECK_INT(d->request_timeout, ref->request_timeout);
        CHECK_INT(d->threads, ref->threads);
        CHECK_INT(d->legacy_get_actions, ref->legacy_get_actions);
        CHECK_INT(d->access_log, ref->access_log);
        CHECK_STR(d->uri, ref->uri);
        CHECK_INT(d->force_off_timeout, ref->force_off_timeout);
        CHECK_INT(d->address_refresh, ref->address_refresh);
        CHECK_STR(d->backup_dir, ref->backup_dir);
        CHECK_INT(d->backup_keep, ref->backup_keep);
        CHECK_INT(d->live_update, ref->live_update);
        CHECK(streq_ptr(d->users_file, ref->users_file));
        CHECK_STR(d->realm, ref->realm);
        CHECK_INT(d->digest_algorithm, ref->digest_algorithm);
        CHECK_INT(d->basic, ref->basic);

        /* Pool defaults: every key at its default text vs. only the template. */
        ptext = strdup_printf("[pool \"a\"]\ntemplate = t\n%s[pool \"b\"]\ntemplate = t\n"
                              "[user \"u\"]\n",
                              pb.data ? pb.data : "");
        buf_free(&pb);
        CHECK_INT(load(ptext, &p, &errs), 0);
        CHECK_INT(p->n_pools, 2);
        if (p->n_pools == 2) {
            const ConfPool *x = &p->pools[0], *y = &p->pools[1];

            CHECK(streq_ptr(x->host, y->host));
            CHECK(!y->host);
            CHECK_INT(x->size, y->size);
            CHECK_INT(y->size, 1);
            CHECK_INT(x->clone, y->clone);
            CHECK_INT(y->clone, CLONE_LINKED);
            CHECK_STR(x->prefix, y->prefix);
            CHECK_STR(y->prefix, "");
            CHECK_INT(x->lifetime, y->lifetime);
            CHECK_INT(y->lifetime, 24);
            CHECK_INT(x->max_lifetime, y->max_lifetime);
            CHECK_INT(y->max_lifetime, 168);
            CHECK_INT(x->ready_ttl, y->ready_ttl);
            CHECK_INT(y->ready_ttl, 60);
            CHECK_INT(x->timeout, y->timeout);
            CHECK_INT(y->timeout, 15);
            CHECK_INT(x->ready_check, y->ready_check);
            CHECK_INT(y->ready_check, READY_CHECK_NONE);
        }
        CHECK_INT(p->n_users, 1);
        if (p->n_users == 1) {
            CHECK_INT(p->users[0].role, ROLE_USER);
            CHECK_INT(strv_length(p->users[0].machines), 1);
            CHECK_STR(p->users[0].machines[0], "*");
        }
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "    unexpected: %s\n", errs.msgs[i]);
        conf_errors_clear(&errs);
    }
}

static void test_every_key(void)
{
    _cleanup_(conf_freep) Conf *c = expect_ok("[server]\n"
                                              "listen = [::1]:8080\n"
                                              "tls_cert = /etc/virtmcd/cert.pem\n"
                                              "tls_key = /etc/virtmcd/key.pem\n"
                                              "max_connections = 10\n"
                                              "max_connections_per_ip = 3\n"
                                              "connection_memory = 128K\n"
                                              "max_body_bytes = 1M\n"
                                              "request_timeout = 5\n"
                                              "threads = 4\n"
                                              "legacy_get_actions = no\n"
                                              "access_log = off\n"
                                              "[libvirt]\n"
                                              "uri = test:///default\n"
                                              "[host \"kvm09\"]\n"
                                              "uri = qemu+ssh://root@kvm09/system\n"
                                              "[host \"kvm10\"]\n"
                                              "uri = qemu+ssh://root@kvm10/system\n"
                                              "[power]\n"
                                              "force_off_timeout = 0\n"
                                              "[boot]\n"
                                              "backup_dir = /srv/backups\n"
                                              "backup_keep = 0\n"
                                              "live_update = no\n"
                                              "[auth]\n"
                                              "users_file = /etc/virtmcd/users.digest\n"
                                              "realm = lab\n"
                                              "digest_algorithm = sha256\n"
                                              "basic = always\n"
                                              "[user \"alice\"]\n"
                                              "role = operator\n"
                                              "machines = web-*, db-?\n"
                                              "[user \"root\"]\n"
                                              "role = admin\n"
                                              "[pool \"deb12\"]\n"
                                              "template = deb12-template\n"
                                              "host = kvm10\n"
                                              "size = 3\n"
                                              "clone = full\n"
                                              "prefix = ci-\n"
                                              "lifetime = 2\n"
                                              "max_lifetime = 48\n"
                                              "ready_ttl = 30\n"
                                              "timeout = 5\n"
                                              "ready_check = tcp:22\n"
                                              "[inventory]\n"
                                              "address_refresh = 0\n");
    const ConfUser *u;
    const ConfPool *p;

    if (!c)
        return;
    CHECK_STR(c->listen, "[::1]:8080");
    CHECK_STR(c->tls_cert, "/etc/virtmcd/cert.pem");
    CHECK_STR(c->tls_key, "/etc/virtmcd/key.pem");
    CHECK_INT(c->max_connections, 10);
    CHECK_INT(c->max_connections_per_ip, 3);
    CHECK_INT(c->connection_memory, 131072);
    CHECK_INT(c->max_body_bytes, 1048576);
    CHECK_INT(c->request_timeout, 5);
    CHECK_INT(c->threads, 4);
    CHECK(!c->legacy_get_actions);
    CHECK(!c->access_log);
    CHECK_STR(c->uri, "test:///default");
    CHECK_INT(c->n_hosts, 2);
    CHECK_STR(c->hosts[0].name, "kvm09");
    CHECK_STR(c->hosts[0].uri, "qemu+ssh://root@kvm09/system");
    CHECK_INT(c->hosts[0].line, 15);
    CHECK_STR(c->hosts[1].name, "kvm10");
    CHECK_INT(c->hosts[1].line, 17);
    CHECK_INT(c->force_off_timeout, 0);
    CHECK_INT(c->address_refresh, 0);
    CHECK_STR(c->backup_dir, "/srv/backups");
    CHECK_INT(c->backup_keep, 0);
    CHECK(!c->live_update);
    CHECK_STR(c->users_file, "/etc/virtmcd/users.digest");
    CHECK_STR(c->realm, "lab");
    CHECK_INT(c->digest_algorithm, DIGEST_SHA256);
    CHECK_INT(c->basic, BASIC_ALWAYS);
    CHECK_INT(c->n_users, 2);
    u = conf_find_user(c, "alice");
    CHECK(u);
    if (u) {
        CHECK_INT(u->role, ROLE_OPERATOR);
        CHECK_INT(strv_length(u->machines), 2);
        CHECK_STR(u->machines[0], "web-*");
        CHECK_STR(u->machines[1], "db-?");
        CHECK_INT(u->line, 30);
    }
    u = conf_find_user(c, "root");
    CHECK(u && u->role == ROLE_ADMIN);
    CHECK(u && u->machines && streq(u->machines[0], "*"));
    CHECK(!conf_find_user(c, "bob"));
    p = conf_find_pool(c, "deb12");
    CHECK(p);
    if (p) {
        CHECK_STR(p->name, "deb12");
        CHECK_STR(p->template_name, "deb12-template");
        CHECK_STR(p->host, "kvm10");
        CHECK_INT(p->size, 3);
        CHECK_INT(p->clone, CLONE_FULL);
        CHECK_STR(p->prefix, "ci-");
        CHECK_INT(p->lifetime, 2);
        CHECK_INT(p->max_lifetime, 48);
        CHECK_INT(p->ready_ttl, 30);
        CHECK_INT(p->timeout, 5);
        CHECK_INT(p->ready_check, READY_CHECK_TCP);
        CHECK_INT(p->ready_port, 22);
        CHECK_INT(p->line, 35);
    }
    CHECK(!conf_find_pool(c, "deb11"));
}

static void test_enums(void)
{
    for (int i = 0; i < _ROLE_MAX; i++)
        CHECK_INT(role_from_string(role_to_string((Role)i)), i);
    for (int i = 0; i < _BASIC_MAX; i++)
        CHECK_INT(basic_mode_from_string(basic_mode_to_string((BasicMode)i)), i);
    for (int i = 0; i < _DIGEST_MAX; i++)
        CHECK_INT(digest_algo_from_string(digest_algo_to_string((DigestAlgo)i)), i);
    for (int i = 0; i < _CLONE_MAX; i++)
        CHECK_INT(clone_mode_from_string(clone_mode_to_string((CloneMode)i)), i);
    CHECK_STR(role_to_string(ROLE_OPERATOR), "operator");
    CHECK_STR(basic_mode_to_string(BASIC_NEVER), "never");
    CHECK_STR(digest_algo_to_string(DIGEST_SHA256), "sha256");
    CHECK_STR(clone_mode_to_string(CLONE_LINKED), "linked");
    CHECK(!role_to_string(_ROLE_MAX));
    CHECK(!role_to_string(_ROLE_INVALID));
    CHECK_INT(role_from_string("root"), _ROLE_INVALID);
    CHECK_INT(role_from_string("Admin"), _ROLE_INVALID);
    CHECK_INT(role_from_string(NULL), _ROLE_INVALID);
    CHECK_INT(basic_mode_from_string(""), _BASIC_INVALID);
    CHECK_INT(digest_algo_from_string("sha1"), _DIGEST_INVALID);
    CHECK_INT(clone_mode_from_string("thin"), _CLONE_INVALID);

    /* Every value of every enum key, in a file. */
    {
        static const char *const basic[] = { "never", "tls", "always" };
        static const char *const roles[] = { "user", "operator", "admin" };

        for (size_t i = 0; i < ELEMENTSOF(basic); i++) {
            _cleanup_free_ char *t = strdup_printf("[auth]\nbasic = %s\n", basic[i]);
            _cleanup_(conf_freep) Conf *c = expect_ok(t);

            CHECK(c && c->basic == (BasicMode)i);
        }
        for (size_t i = 0; i < ELEMENTSOF(roles); i++) {
            _cleanup_free_ char *t = strdup_printf("[user \"x\"]\nrole = %s\n", roles[i]);
            _cleanup_(conf_freep) Conf *c = expect_ok(t);

            CHECK(c && c->n_users == 1 && c->users[0].role == (Role)i);
        }
        {
            _cleanup_(conf_freep) Conf *c = expect_ok("[auth]\ndigest_algorithm = md5\n"
                                                      "[pool \"p\"]\ntemplate = t\n"
                                                      "clone = linked\nready_check = address\n"
                                                      "[pool \"q\"]\ntemplate = t\n"
                                                      "ready_check = none\n");

            CHECK(c && c->digest_algorithm == DIGEST_MD5);
            CHECK(c && c->n_pools == 2 && c->pools[0].clone == CLONE_LINKED);
            CHECK(c && c->n_pools == 2 && c->pools[0].ready_check == READY_CHECK_ADDRESS);
            CHECK(c && c->n_pools == 2 && c->pools[1].ready_check == READY_CHECK_NONE);
        }
    }
    expect_error("[auth]\nbasic = sometimes\n",
                 "test.conf:2: invalid value 'sometimes' for 'basic' in [auth]: "
                 "expected one of: never, tls, always");
    expect_error("[auth]\ndigest_algorithm = MD5\n",
                 "test.conf:2: invalid value 'MD5' for 'digest_algorithm' in [auth]: "
                 "expected one of: md5, sha256");
    expect_error("[user \"bob\"]\nrole = root\n",
                 "test.conf:2: invalid value 'root' for 'role' in [user \"bob\"]: "
                 "expected one of: user, operator, admin");
    expect_error("[pool \"p\"]\ntemplate = t\nclone = thin\n",
                 "test.conf:3: invalid value 'thin' for 'clone' in [pool \"p\"]: "
                 "expected one of: linked, full");
    expect_error("[pool \"p\"]\ntemplate = t\nready_check = tcp:0\n",
                 "test.conf:3: invalid value 'tcp:0' for 'ready_check' in [pool \"p\"]: "
                 "expected none, address or tcp:PORT with PORT from 1 to 65535");
    expect_error("[pool \"p\"]\ntemplate = t\nready_check = tcp:\n",
                 "test.conf:3: invalid value 'tcp:' for 'ready_check' in [pool \"p\"]: "
                 "expected none, address or tcp:PORT with PORT from 1 to 65535");
    expect_error("[pool \"p\"]\ntemplate = t\nready_check = ping\n",
                 "test.conf:3: invalid value 'ping' for 'ready_check' in [pool \"p\"]: "
                 "expected none, address or tcp:PORT with PORT from 1 to 65535");
    expect_error("[server]\naccess_log = maybe\n",
                 "test.conf:2: invalid value 'maybe' for 'access_log' in [server]: "
                 "expected true or false (or yes/no, on/off, 1/0)");
}

static void test_ranges(void)
{
    static const struct {
        const char *section, *key;
        unsigned long long min, max;
    } ranges[] = {
        { "server", "max_connections", 1, 100000 },
        { "server", "max_connections_per_ip", 0, 100000 },
        { "server", "connection_memory", 4096, 16777216 },
        { "server", "max_body_bytes", 1024, 67108864 },
        { "server", "request_timeout", 1, 3600 },
        { "server", "header_timeout", 1, 3600 },
        { "server", "body_timeout", 1, 3600 },
        { "server", "threads", 0, 256 },
        { "auth", "max_failures", 0, 100000 },
        { "auth", "failure_window", 1, 86400 },
        { "auth", "session_timeout", 30, 86400 },
        { "auth", "token_timeout", 30, 31536000 },
        { "power", "force_off_timeout", 0, 3600 },
        { "power", "reboot_timeout", 0, 3600 },
        { "power", "lock_timeout", 1, 3600 },
        { "power", "lock_queue", 0, 1000 },
        { "boot", "backup_keep", 0, 100000 },
        { "inventory", "address_refresh", 0, 86400 },
        { "pool \"p\"", "size", 0, 1000 },
        { "pool \"p\"", "lifetime", 1, 8760 },
        { "pool \"p\"", "max_lifetime", 1, 8760 },
        { "pool \"p\"", "ready_ttl", 1, 10080 },
        { "pool \"p\"", "timeout", 1, 1440 },
    };

    for (size_t i = 0; i < ELEMENTSOF(ranges); i++) {
        bool pool = startswith(ranges[i].section, "pool");
        const char *extra = pool ? "template = t\n" : "";
        bool size = endswith(ranges[i].key, "memory") || endswith(ranges[i].key, "bytes");

        for (int edge = 0; edge < 4; edge++) {
            unsigned long long v = edge == 0   ? ranges[i].min
                                   : edge == 1 ? ranges[i].max
                                   : edge == 2 ? ranges[i].min - 1
                                               : ranges[i].max + 1;
            _cleanup_free_ char *t = NULL, *msg = NULL;
            _cleanup_(conf_freep) Conf *c = NULL;
            ConfErrors errs = { 0 };
            bool ok = edge < 2;

            if (edge == 2 && ranges[i].min == 0)
                continue; /* -1 is tested below as not a number */
            /* keep lifetime <= max_lifetime for conf_check */
            t = strdup_printf("[%s]\n%s%s = %llu\n", ranges[i].section, extra, ranges[i].key, v);
            CHECK_INT(load(t, &c, &errs), ok ? 0 : -EINVAL);
            if (!ok) {
                msg = strdup_printf(
                    "test.conf:%d: invalid value '%llu' for '%s' in [%s]: %s from %llu to %llu%s",
                    pool ? 3 : 2, v, ranges[i].key, ranges[i].section,
                    size ? "expected a size in bytes" : "expected a whole number", ranges[i].min,
                    ranges[i].max, size ? " (suffix K, M or G allowed)" : "");
                CHECK_INT(errs.n, 1);
                CHECK_STR(errs.n ? errs.msgs[0] : NULL, msg);
            }
            conf_errors_clear(&errs);
        }
    }
    expect_error("[server]\nmax_connections = abc\n",
                 "test.conf:2: invalid value 'abc' for 'max_connections' in [server]: "
                 "expected a whole number from 1 to 100000");
    expect_error("[server]\nthreads = -1\n",
                 "test.conf:2: invalid value '-1' for 'threads' in [server]: "
                 "expected a whole number from 0 to 256");
    expect_error("[server]\nthreads = 4x\n",
                 "test.conf:2: invalid value '4x' for 'threads' in [server]: "
                 "expected a whole number from 0 to 256");
    expect_error("[server]\nthreads =\n",
                 "test.conf:2: invalid value '' for 'threads' in [server]: "
                 "expected a whole number from 0 to 256");
    expect_error("[server]\nthreads = 99999999999999999999999\n",
                 "test.conf:2: invalid value '99999999999999999999999' for 'threads' in "
                 "[server]: expected a whole number from 0 to 256");
    expect_error("[server]\nmax_body_bytes = 65G\n",
                 "test.conf:2: invalid value '65G' for 'max_body_bytes' in [server]: "
                 "expected a size in bytes from 1024 to 67108864 (suffix K, M or G allowed)");
    expect_error("[server]\nmax_body_bytes = K\n",
                 "test.conf:2: invalid value 'K' for 'max_body_bytes' in [server]: "
                 "expected a size in bytes from 1024 to 67108864 (suffix K, M or G allowed)");
    {
        _cleanup_(conf_freep) Conf *c = expect_ok("[server]\nmax_body_bytes = 64m\n"
                                                  "connection_memory = 16M\n");

        CHECK(c && c->max_body_bytes == 64u << 20 && c->connection_memory == 16u << 20);
    }
}

static void test_strings(void)
{
    {
        /* Empty optional strings mean unset; prefix stays "". */
        _cleanup_(conf_freep) Conf *c = expect_ok("[server]\ntls_cert =\ntls_key =   \n"
                                                  "[auth]\nusers_file =\n"
                                                  "[pool \"p\"]\ntemplate = t\nprefix =\n"
                                                  "host =\n");

        CHECK(c && !c->tls_cert && !c->tls_key && !c->users_file);
        CHECK(c && c->n_pools == 1 && streq(c->pools[0].prefix, "") && !c->pools[0].host);
    }
    {
        /* machines may be empty: no machine at all. */
        _cleanup_(conf_freep) Conf *c = expect_ok("[user \"u\"]\nmachines = ,\n");

        CHECK(c && c->n_users == 1 && strv_length(c->users[0].machines) == 0);
    }
    expect_error("[libvirt]\nuri =\n",
                 "test.conf:2: invalid value '' for 'uri' in [libvirt]: must not be empty");
    expect_error("[auth]\nrealm =\n",
                 "test.conf:2: invalid value '' for 'realm' in [auth]: must not be empty");
    expect_error("[pool \"p\"]\ntemplate = a/b\n",
                 "test.conf:2: invalid value 'a/b' for 'template' in [pool \"p\"]: "
                 "expected a domain name: 1 to 255 bytes, no '/' or control characters");
    expect_error("[pool \"p\"]\ntemplate = t\nprefix = x/\n",
                 "test.conf:3: invalid value 'x/' for 'prefix' in [pool \"p\"]: "
                 "expected at most 200 bytes without '/' or control characters");
    expect_error("[server]\nlisten = 127.0.0.1\n",
                 "test.conf:2: invalid value '127.0.0.1' for 'listen' in [server]: "
                 "missing ':PORT'");
    expect_error("[server]\nlisten =\n",
                 "test.conf:2: invalid value '' for 'listen' in [server]: must not be empty");
}

static void test_modes(void)
{
    {
        _cleanup_(conf_freep) Conf *c = expect_ok("[server]\nsocket_mode = 0600\n"
                                                  "socket_group = virtmcd\n");

        CHECK(c && c->socket_mode == 0600 && c->socket_group && streq(c->socket_group, "virtmcd"));
    }
    {
        _cleanup_(conf_freep) Conf *c = expect_ok("[server]\nsocket_mode = 660\n");

        CHECK(c && c->socket_mode == 0660); /* octal, with or without the leading 0 */
    }
    for (const char *const *v = (const char *const[]){ "0800", "01000", "rw", "-1", "0x1ff", "",
                                                       NULL };
         *v; v++) {
        _cleanup_free_ char *text = strdup_printf("[server]\nsocket_mode = %s\n", *v);
        _cleanup_free_ char *want =
            strdup_printf("test.conf:2: invalid value '%s' for 'socket_mode' in [server]: "
                          "expected an octal mode from 0000 to 0777", *v);

        expect_error(text, want);
    }
}

static void test_syntax(void)
{
    /* Unknown keys and sections, with the right line. */
    expect_error("# comment\n\n[server]\nlisten = 127.0.0.1:9001\nx = 1\n",
                 "test.conf:5: unknown key 'x' in [server]");
    expect_error("[server]\n[foo]\nbar = 1\nbaz = 2\n", "test.conf:2: unknown section [foo]");
    expect_error("[foo \"x\"]\n", "test.conf:1: unknown section [foo]");
    expect_error("[Server]\n", "test.conf:1: unknown section [Server]");
    expect_error("[]\n", "test.conf:1: unknown section []");
    expect_error("listen = 1.2.3.4:5\n", "test.conf:1: key 'listen' outside of any section");
    expect_error("[server]\ngarbage\n", "test.conf:2: expected 'key = value' or '[section]'");
    expect_error("[server]\nlisten: 127.0.0.1:80\n",
                 "test.conf:2: expected 'key = value' or '[section]'");
    expect_error("[server]\n= 5\n", "test.conf:2: missing key before '='");
    expect_error("[server\nlisten = 1.2.3.4:5\n",
                 "test.conf:1: expected ']' at the end of the section header");
    expect_error("[server]\nrealm = a\x01b\n", "test.conf:2: control character in line");
    {
        const char text[] = "[server]\nlisten = a\0b\n";
        _cleanup_(conf_freep) Conf *c = conf_new();
        ConfErrors errs = { 0 };
        char path[] = "/tmp/test-conf-XXXXXX";
        int fd = mkstemp(path);
        _cleanup_free_ char *msg = strdup_printf("%s:2: NUL byte in configuration", path);

        CHECK(fd >= 0);
        CHECK_INT(write_full(fd, text, sizeof(text) - 1), 0);
        close(fd);
        CHECK_INT(conf_load_file(c, path, &errs), -EINVAL);
        CHECK_INT(errs.n, 1);
        CHECK_STR(errs.n ? errs.msgs[0] : NULL, msg);
        conf_errors_clear(&errs);
        unlink(path);
    }
    /* Every error is reported, each with its own line. */
    {
        _cleanup_(conf_freep) Conf *c = NULL;
        ConfErrors errs = { 0 };

        CHECK_INT(
            load("[server]\nfoo = 1\nbar\n[power]\nforce_off_timeout = x\nbaz = 2\n", &c, &errs),
            -EINVAL);
        CHECK_INT(errs.n, 4);
        if (errs.n == 4) {
            CHECK_STR(errs.msgs[0], "test.conf:2: unknown key 'foo' in [server]");
            CHECK_STR(errs.msgs[1], "test.conf:3: expected 'key = value' or '[section]'");
            CHECK(startswith(errs.msgs[2], "test.conf:5: invalid value 'x' for "
                                           "'force_off_timeout' in [power]"));
            CHECK_STR(errs.msgs[3], "test.conf:6: unknown key 'baz' in [power]");
        }
        conf_errors_clear(&errs);
    }

    /* Comments: whole-line '#' and ';', inline after whitespace. */
    {
        _cleanup_(conf_freep) Conf *c =
            expect_ok("\xef\xbb\xbf# leading BOM and comment\r\n"
                      "; semicolon comment\n"
                      "[server]   # the server\n"
                      "  listen = 127.0.0.1:9001   # ADDR:PORT\n"
                      "\tmax_connections = 7\t# tab before\n"
                      "tls_cert =                      # PEM; both set = HTTPS\r\n"
                      "tls_key =\n"
                      "request_timeout = 9 ; semicolon\n"
                      "[libvirt]\n"
                      "uri = test:///x#frag\n"
                      "[auth]\n"
                      "realm = a;b\n"
                      "[user \"u\"] # x\n"
                      "machines = web-*, db-?   # globs\n");

        CHECK(c && streq(c->listen, "127.0.0.1:9001"));
        CHECK(c && c->max_connections == 7 && c->request_timeout == 9);
        CHECK(c && !c->tls_cert && !c->tls_key);
        CHECK(c && streq(c->uri, "test:///x#frag"));
        CHECK(c && streq(c->realm, "a;b"));
        CHECK(c && c->n_users == 1 && strv_length(c->users[0].machines) == 2);
    }
    /* Line numbers stay right after comments, blanks and CRLF. */
    expect_error("# 1\r\n\r\n[server]\r\n# 4\r\nlisten = 127.0.0.1:1 # 5\r\n\r\nbogus = 1\r\n",
                 "test.conf:7: unknown key 'bogus' in [server]");

    /* Duplicates. */
    expect_error("[server]\nthreads = 1\nthreads = 2\n",
                 "test.conf:3: duplicate key 'threads' in [server], first at line 2");
    expect_error("[server]\nthreads = 1\n[power]\n[server]\nthreads = 2\n",
                 "test.conf:4: duplicate section [server], first at line 1");
    expect_error("[host \"a\"]\nuri = x\n[host \"a\"]\nuri = y\n",
                 "test.conf:3: duplicate section [host \"a\"], first at line 1");
    expect_error("[pool \"a\"]\ntemplate = x\ntemplate = y\n",
                 "test.conf:3: duplicate key 'template' in [pool \"a\"], first at line 2");

    /* A line longer than inih's buffer is an error, not a silent split. */
    {
        _cleanup_free_ char *big = malloc(400);
        _cleanup_free_ char *t = NULL;

        CHECK(big);
        memset(big, 'a', 399);
        big[399] = '\0';
        t = strdup_printf("[auth]\nrealm = %s\n", big);
        expect_error(t, "test.conf:2: line too long: at most 199 bytes of 'key = value'");
    }
}

static void test_named_sections(void)
{
    char name[300];

    expect_error("[host]\nuri = x\n", "test.conf:1: section [host] needs a name: [host \"NAME\"]");
    expect_error("[pool deb12]\n",
                 "test.conf:1: the name of a [pool] section must be quoted: [pool \"NAME\"]");
    expect_error("[pool \"deb12]\n",
                 "test.conf:1: the name of a [pool] section must be quoted: [pool \"NAME\"]");
    expect_error("[server \"x\"]\n", "test.conf:1: section [server] takes no name");
    expect_error("[user \"\"]\n",
                 "test.conf:1: invalid [user] section name \"\": a name must be 1 to 255 bytes");
    expect_error("[user \"a\"b\"]\n", "test.conf:1: invalid [user] section name \"a\"b\": "
                                      "a name must not contain '\"'");
    expect_error("[user \"a:b\"]\n", "test.conf:1: invalid [user] section name \"a:b\": "
                                     "a user name must not contain ':' (the htdigest separator)");
    expect_error("[host \"a/b\"]\nuri = x\n",
                 "test.conf:1: invalid [host] section name \"a/b\": "
                 "a name must not contain '/' or control characters, nor be '.' or '..'");
    expect_error("[host \"kvm09\"]\n",
                 "test.conf:1: missing required key 'uri' in [host \"kvm09\"]");
    expect_error("[pool \"p\"]\nsize = 2\n[power]\n",
                 "test.conf:1: missing required key 'template' in [pool \"p\"]");
    expect_error("[host \"h\"]\nuri = x\nfoo = y\n",
                 "test.conf:3: unknown key 'foo' in [host \"h\"]");

    /* Names up to 255 bytes, longer than inih's section buffer. */
    memset(name, 'n', 255);
    name[255] = '\0';
    {
        _cleanup_free_ char *t = strdup_printf("[pool \"%s\"]\ntemplate = t\n", name);
        _cleanup_(conf_freep) Conf *c = expect_ok(t);

        CHECK(c && conf_find_pool(c, name));
    }
    memset(name, 'n', 256);
    name[256] = '\0';
    {
        _cleanup_free_ char *t = strdup_printf("[pool \"%s\"]\ntemplate = t\n", name);
        _cleanup_free_ char *m = strdup_printf("test.conf:1: invalid [pool] section name "
                                               "\"%s\": a name must be 1 to 255 bytes",
                                               name);

        expect_error(t, m);
    }
    {
        /* Spaces inside the brackets and inside the name are fine. */
        _cleanup_(conf_freep) Conf *c = expect_ok("[ user   \"Jane Doe\" ]\nrole = admin\n");

        CHECK(c && conf_find_user(c, "Jane Doe"));
    }
}

static void test_check(void)
{
    char path[] = "/tmp/test-conf-XXXXXX";
    int fd;

    expect_check_error("[server]\ntls_cert = /c.pem\n",
                       "configuration: [server] tls_cert is set but tls_key is not: "
                       "set both for HTTPS, or neither");
    expect_check_error("[server]\ntls_key = /k.pem\n",
                       "configuration: [server] tls_key is set but tls_cert is not: "
                       "set both for HTTPS, or neither");
    expect_check_error("[host \"a\"]\nuri = x\n[host \"b\"]\nuri = y\n"
                       "[pool \"p\"]\ntemplate = t\n",
                       "configuration:5: [pool \"p\"] must name its host: "
                       "there are 2 [host] sections");
    expect_check_error("[host \"a\"]\nuri = x\n[pool \"p\"]\ntemplate = t\nhost = b\n",
                       "configuration:3: [pool \"p\"] host 'b' is not a [host] section");
    expect_check_error("[pool \"p\"]\ntemplate = t\nhost = b\n",
                       "configuration:1: [pool \"p\"] host 'b' is not defined: "
                       "there are no [host] sections");
    expect_check_error("[pool \"checkout\"]\ntemplate = t\n",
                       "configuration:1: [pool \"checkout\"]: that name is reserved (the "
                       "checkout API uses it)");
    expect_check_error("[pool \"tags\"]\ntemplate = t\n",
                       "configuration:1: [pool \"tags\"]: that name is reserved (the "
                       "checkout API uses it)");
    expect_check_error("[pool \"p\"]\ntemplate = t\nlifetime = 200\n",
                       "configuration:1: [pool \"p\"] lifetime 200 is longer than "
                       "max_lifetime 168");
    {
        /* One host: a pool may leave host out; users without users_file are fine. */
        _cleanup_(conf_freep) Conf *c = expect_ok("[host \"a\"]\nuri = x\n"
                                                  "[pool \"p\"]\ntemplate = t\n"
                                                  "lifetime = 168\n[user \"u\"]\n");

        CHECK(c && c->n_pools == 1);
    }
    {
        /* --listen overrides land in c->listen; conf_check validates them. */
        _cleanup_(conf_freep) Conf *c = conf_new();
        ConfErrors errs = { 0 };

        free(c->listen);
        c->listen = strdup("nowhere");
        CHECK_INT(conf_check(c, &errs), -EINVAL);
        CHECK_INT(errs.n, 1);
        CHECK_STR(errs.n ? errs.msgs[0] : NULL,
                  "configuration: invalid listen address 'nowhere': missing ':PORT'");
        conf_errors_clear(&errs);
        conf_errors_clear(&errs);
        conf_errors_clear(NULL);
    }

    /* From a file: NAME is the path; the path is kept in c->path. */
    fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        static const char text[] = "[server]\nlisten = 127.0.0.1:9001\n\n"
                                   "[pool \"p\"]\ntemplate = t\nlifetime = 9\nmax_lifetime = 8\n"
                                   "[server2]\n";
        _cleanup_(conf_freep) Conf *c = conf_new();
        ConfErrors errs = { 0 };
        _cleanup_free_ char *m1 = strdup_printf("%s:8: unknown section [server2]", path);
        _cleanup_free_ char *m2 = strdup_printf("%s:4: [pool \"p\"] lifetime 9 is longer than "
                                                "max_lifetime 8",
                                                path);

        CHECK_INT(write_full(fd, text, sizeof(text) - 1), 0);
        close(fd);
        CHECK_INT(conf_load_file(c, path, &errs), -EINVAL);
        CHECK_STR(c->path, path);
        CHECK_INT(conf_check(c, &errs), -EINVAL);
        CHECK_INT(errs.n, 2);
        if (errs.n == 2) {
            CHECK_STR(errs.msgs[0], m1);
            CHECK_STR(errs.msgs[1], m2);
        }
        conf_errors_clear(&errs);
        unlink(path);

        CHECK_INT(conf_load_file(c, "/nonexistent/virtmcd.conf", &errs), -ENOENT);
        CHECK_INT(errs.n, 1);
        CHECK_STR(errs.n ? errs.msgs[0] : NULL,
                  "/nonexistent/virtmcd.conf: cannot read: No such file or directory");
        conf_errors_clear(&errs);
    }
}

static void test_listen(void)
{
    static const char *const bad[] = {
        "127.0.0.1",       /* missing port */
        "127.0.0.1:",      /* empty port */
        "127.0.0.1:0",     /* port 0 */
        "127.0.0.1:70000", /* above 65535 */
        "127.0.0.1:-1",
        "127.0.0.1:80x",
        ":9001",     /* no address */
        "::1:9001",  /* IPv6 without brackets */
        "[::1:9001", /* missing ']' */
        "::1]:9001",
        "[::1]9001", /* missing ':' after ']' */
        "[::1]:",
        "[]:9001",
        "[1.2.3.4]:80", /* IPv4 in brackets */
        "[zz::1]:80",
        "300.1.1.1:80",
        "host_name:80",
        "unix:",
        "unix:relative.sock",
        "unix:/run/dir/",
        "",
    };
    ListenAddr a;
    char longpath[200];

    CHECK_INT(conf_parse_listen("127.0.0.1:9001", &a), 0);
    CHECK(!a.is_unix);
    CHECK_STR(a.host, "127.0.0.1");
    CHECK_INT(a.port, 9001);
    CHECK_INT(conf_parse_listen("[::1]:9001", &a), 0);
    CHECK(!a.is_unix);
    CHECK_STR(a.host, "::1");
    CHECK_INT(a.port, 9001);
    CHECK_INT(conf_parse_listen("[::]:1", &a), 0);
    CHECK_STR(a.host, "::");
    CHECK_INT(a.port, 1);
    CHECK_INT(conf_parse_listen("[fe80::1%eth0]:65535", &a), 0);
    CHECK_STR(a.host, "fe80::1%eth0");
    CHECK_INT(a.port, 65535);
    CHECK_INT(conf_parse_listen("localhost:80", &a), 0);
    CHECK_STR(a.host, "localhost");
    CHECK_INT(conf_parse_listen("0.0.0.0:443", &a), 0);
    CHECK_STR(a.host, "0.0.0.0");
    CHECK_INT(conf_parse_listen("unix:/run/x.sock", &a), 0);
    CHECK(a.is_unix);
    CHECK_STR(a.path, "/run/x.sock");

    memset(longpath, 'p', sizeof(longpath));
    memcpy(longpath, "unix:/", 6);
    longpath[5 + 107] = '\0'; /* a 107-byte path fits sun_path with its NUL */
    CHECK_INT(conf_parse_listen(longpath, &a), 0);
    CHECK_INT(strlen(a.path), 107);
    longpath[5 + 107] = 'p';
    longpath[5 + 108] = '\0';
    a.port = 12345;
    CHECK_INT(conf_parse_listen(longpath, &a), -EINVAL);
    CHECK_INT(a.port, 12345); /* untouched on failure */

    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        int r = conf_parse_listen(bad[i], &a);

        if (r != -EINVAL)
            fprintf(stderr, "    accepted bad listen '%s'\n", bad[i]);
        CHECK_INT(r, -EINVAL);
    }
    CHECK_INT(conf_parse_listen(NULL, &a), -EINVAL);
    /* --listen ADDR:0: the kernel picks the port, the daemon reports it. */
    CHECK_INT(conf_parse_listen_any("127.0.0.1:0", &a), 0);
    CHECK_INT(a.port, 0);
    CHECK_INT(conf_parse_listen_any("[::1]:0", &a), 0);
    CHECK_INT(conf_parse_listen_any("127.0.0.1:9001", &a), 0);
    CHECK_INT(a.port, 9001);
    CHECK_INT(conf_parse_listen_any("127.0.0.1:70000", &a), -EINVAL);
    CHECK_INT(conf_parse_listen_any("127.0.0.1:", &a), -EINVAL);
    expect_error("[server]\nlisten = 127.0.0.1:0\n",
                 "test.conf:2: invalid value '127.0.0.1:0' for 'listen' in [server]: "
                 "the port must be a whole number from 1 to 65535");
    expect_error("[server]\nlisten = ::1:80\n",
                 "test.conf:2: invalid value '::1:80' for 'listen' in [server]: "
                 "an IPv6 address needs brackets: [ADDR]:PORT");
}

/* ---- documentation ---- */

static const char *srcdir(void)
{
    const char *d = getenv("abs_srcdir");

    return d && *d ? d : ".";
}

static char **read_lines(const char *rel)
{
    _cleanup_free_ char *path = strdup_printf("%s/%s", srcdir(), rel);
    _cleanup_free_ char *text = NULL;
    char **lines;
    int r;

    CHECK(path);
    r = read_file(path, 1 << 20, &text, NULL);
    if (r < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(-r));
        CHECK(r >= 0);
        return NULL;
    }
    /* strv_split drops empty lines, which no check here needs. */
    lines = strv_split(text, '\n');
    CHECK(lines);
    return lines;
}

/* The man page documents a key as ".TP" then ".B key" inside the subsection
 * whose heading names the section: .SS [server] or .SS "[host \(dqNAME\(dq]". */
static bool man_has_key(char **lines, const char *section, const char *key)
{
    _cleanup_free_ char *plain = strdup_printf("[%s]", section);
    _cleanup_free_ char *named = strdup_printf("[%s \\(dq", section);
    _cleanup_free_ char *entry = strdup_printf(".B %s", key);
    bool inside = false;

    for (size_t i = 0; lines && lines[i]; i++) {
        if (startswith(lines[i], ".SS") || startswith(lines[i], ".SH"))
            inside =
                startswith(lines[i], ".SS") && (strstr(lines[i], plain) || strstr(lines[i], named));
        else if (inside && i > 0 && streq(lines[i], entry) && streq(lines[i - 1], ".TP"))
            return true;
    }
    return false;
}

/* The shipped file lists a key as "#key = DEFAULT" (or "#key =" when empty)
 * after "#[section]" or "#[section "NAME"]"; returns the line or NULL. */
static const char *data_key_line(char **lines, const char *section, const char *key)
{
    _cleanup_free_ char *plain = strdup_printf("#[%s]", section);
    _cleanup_free_ char *named = strdup_printf("#[%s \"", section);
    _cleanup_free_ char *prefix = strdup_printf("#%s =", key);
    bool inside = false;

    for (size_t i = 0; lines && lines[i]; i++) {
        const char *l = lines[i];

        if (startswith(l, "#["))
            inside = streq(l, plain) || startswith(l, named);
        else if (inside && startswith(l, prefix) &&
                 (l[strlen(prefix)] == '\0' || l[strlen(prefix)] == ' '))
            return l;
    }
    return NULL;
}

typedef struct DocCtx {
    char **man;
    char **data;
} DocCtx;

static void doc_key(const char *section, const char *key, const char *def, void *userdata)
{
    DocCtx *d = userdata;
    const char *l;

    tap_checks++;
    if (!man_has_key(d->man, section, key)) {
        tap_failures++;
        fprintf(stderr, "man/virtmcd.conf.5: no '.TP' + '.B %s' under [%s]\n", key, section);
    }
    tap_checks++;
    l = data_key_line(d->data, section, key);
    if (!l) {
        tap_failures++;
        fprintf(stderr, "data/virtmcd.conf: no '#%s = ' under #[%s]\n", key, section);
        return;
    }
    /* Unnamed sections show the default (backup_dir depends on --localstatedir). */
    if (!streq(section, "host") && !streq(section, "user") && !streq(section, "pool") &&
        !streq(key, "backup_dir")) {
        _cleanup_free_ char *want =
            *def ? strdup_printf("#%s = %s", key, def) : strdup_printf("#%s =", key);

        CHECK_STR(l, want);
    }
}

static void test_docs(void)
{
    _cleanup_strv_free_ char **man = read_lines("man/virtmcd.conf.5");
    _cleanup_strv_free_ char **data = read_lines("data/virtmcd.conf");
    DocCtx d = { man, data };

    if (!man || !data)
        return;
    conf_keys_foreach(doc_key, &d);
}

/* Uncomment every setting of data/virtmcd.conf ('#' directly followed by a
 * character other than ' ' or '#') and check that the result is valid. */
static void test_data_uncommented(void)
{
    _cleanup_free_ char *path = strdup_printf("%s/data/virtmcd.conf", srcdir());
    _cleanup_free_ char *text = NULL, *out = NULL;
    _cleanup_(conf_freep) Conf *c = conf_new();
    ConfErrors errs = { 0 };
    Buf b = { 0 };
    char *line, *save = NULL;
    size_t n_settings = 0;

    CHECK_INT(read_file(path, 1 << 20, &text, NULL), 0);
    if (!text)
        return;
    for (line = text; line; line = save) {
        save = strchr(line, '\n');
        if (save)
            *save++ = '\0';
        if (line[0] == '#' && line[1] && line[1] != ' ' && line[1] != '#') {
            line++;
            n_settings++;
        }
        buf_printf(&b, "%s\n", line);
    }
    out = buf_steal(&b);
    CHECK(out);
    CHECK(n_settings > 30);
    CHECK_INT(conf_load_string(c, out, "virtmcd.conf (uncommented)", &errs), 0);
    CHECK_INT(conf_check(c, &errs), 0);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "    %s\n", errs.msgs[i]);
    conf_errors_clear(&errs);
    CHECK_INT(c->n_hosts, 1);
    CHECK_INT(c->n_users, 1);
    CHECK_INT(c->n_pools, 1);

    /* The file as shipped (all commented) is valid too. */
    {
        _cleanup_(conf_freep) Conf *d = conf_new();

        CHECK_INT(conf_load_file(d, path, &errs), 0);
        CHECK_INT(conf_check(d, &errs), 0);
        conf_errors_clear(&errs);
    }
}

int main(void)
{
    test_defaults();
    test_every_key();
    test_enums();
    test_ranges();
    test_strings();
    test_modes();
    test_syntax();
    test_named_sections();
    test_check();
    test_listen();
    test_docs();
    test_data_uncommented();
    return tap_done();
}
