/* conf.c: defaults, the key table, the INI reader and validation (DAEMON.md).
 *
 * conf owns every default (conf_new()) and the one table that maps a section
 * and key to a typed parser and a field.  libinih splits "key = value"; our
 * line reader in front of it counts lines, strips comments and handles
 * section headers itself, because Debian's libinih is built without
 * INI_HANDLER_LINENO, strips only ';' inline comments, truncates section names
 * to 49 bytes and never tells the handler where (or that) a section starts.
 * conf never touches libvirt, HTTP, the network or the files it names. */
#include "config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "conf.h"
#include "strtable.h"
#include "util.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

#define CONF_FILE_MAX (1024 * 1024)
#define SECTION_NAME_MAX 255

/* Enums are stored through int pointers by the table. */
_Static_assert(sizeof(Role) == sizeof(int), "Role is not int-sized");
_Static_assert(sizeof(BasicMode) == sizeof(int), "BasicMode is not int-sized");
_Static_assert(sizeof(DigestAlgo) == sizeof(int), "DigestAlgo is not int-sized");
_Static_assert(sizeof(CloneMode) == sizeof(int), "CloneMode is not int-sized");
_Static_assert(sizeof(ReadyCheck) == sizeof(int), "ReadyCheck is not int-sized");

/* NULL-terminated: KEY_ENUM rows of the key table list them as accepted values. */
static const char *const role_names[] = { "user", "operator", "admin", NULL };
static const char *const basic_names[] = { "never", "tls", "always", NULL };
static const char *const digest_names[] = { "md5", "sha256", NULL };
static const char *const clone_names[] = { "linked", "full", NULL };

_Static_assert(ELEMENTSOF(role_names) == _ROLE_MAX + 1, "role_names");
_Static_assert(ELEMENTSOF(basic_names) == _BASIC_MAX + 1, "basic_names");
_Static_assert(ELEMENTSOF(digest_names) == _DIGEST_MAX + 1, "digest_names");
_Static_assert(ELEMENTSOF(clone_names) == _CLONE_MAX + 1, "clone_names");

/* KEY_ENUM: the index of s in a NULL-terminated list, -1 when absent. */
static int lookup(const char *const *names, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; names[i]; i++)
        if (streq(names[i], s))
            return i;
    return -1;
}

_Static_assert(sizeof(StateWords) == sizeof(int), "StateWords is not int-sized");
static const char *const state_words_names[] = { "libvirt", "ipmi", NULL };
/* The roles an anonymous request may have: indexes match Role's. */
static const char *const anonymous_role_names[] = { "user", "operator", NULL };
_Static_assert(ELEMENTSOF(state_words_names) == _STATE_WORDS_MAX + 1, "state_words_names");

/* strtable.h over the lists above; to_string() of _X_MAX meets the NULL
 * that ends a list, so it answers NULL like any value outside the enum. */
DEFINE_STRING_TABLE_LOOKUP_TABLE(role, role_names, Role)
DEFINE_STRING_TABLE_LOOKUP_TABLE(basic_mode, basic_names, BasicMode)
DEFINE_STRING_TABLE_LOOKUP_TABLE(digest_algo, digest_names, DigestAlgo)
DEFINE_STRING_TABLE_LOOKUP_TABLE(clone_mode, clone_names, CloneMode)

/* ---- sections and the key table ---- */

typedef enum Section {
    SEC_SERVER,
    SEC_LIBVIRT,
    SEC_HOST,
    SEC_POWER,
    SEC_BOOT,
    SEC_AUTH,
    SEC_USER,
    SEC_POOL,
    SEC_COMPAT,
    SEC_INVENTORY,
    _SEC_MAX,
    SEC_NONE = -1, /* before the first header */
    SEC_SKIP = -2, /* inside a section already reported as bad */
} Section;

static const struct {
    const char *name;
    bool named;
} sections[_SEC_MAX] = {
    /* clang-format off */
    [SEC_SERVER] = { "server", false },
    [SEC_LIBVIRT] = { "libvirt", false },
    [SEC_HOST] = { "host", true },
    [SEC_POWER] = { "power", false },
    [SEC_BOOT] = { "boot", false },
    [SEC_AUTH] = { "auth", false },
    [SEC_USER] = { "user", true },
    [SEC_POOL] = { "pool", true },
    [SEC_COMPAT] = { "compat", false },
    [SEC_INVENTORY] = { "inventory", false },
    /* clang-format on */
};

typedef enum KeyType {
    KEY_STRING,       /* non-empty */
    KEY_STRING_EMPTY, /* may be empty, stays "" */
    KEY_OPT_STRING,   /* empty means NULL */
    KEY_UINT,         /* unsigned in [min, max] */
    KEY_SIZE,         /* size_t in [min, max], optional K/M/G suffix */
    KEY_BOOL,
    KEY_MODE,        /* octal file mode in [min, max] */
    KEY_ENUM,        /* int index into values */
    KEY_GLOBS,       /* comma-separated, NULL-terminated char ** */
    KEY_READY_CHECK, /* none | address | tcp:PORT, sets ready_check and ready_port */
} KeyType;

/* A validator returns NULL when the value is fine, else why it is not. */
typedef const char *(*KeyCheck)(const char *value);

typedef struct Key {
    Section section;
    const char *name;
    KeyType type;
    size_t offset; /* into Conf, or ConfHost/ConfUser/ConfPool for named sections */
    unsigned long long min, max;
    const char *const *values; /* KEY_ENUM */
    KeyCheck check;
    bool required;
    const char *default_value; /* text as it would be written; "" when none */
} Key;

static const char *check_listen(const char *value);
static const char *check_no_control(const char *value);
static const char *check_domain_name(const char *value);
static const char *check_prefix(const char *value);
static const char *check_cidr(const char *value);

#define C(f) offsetof(Conf, f)
#define H(f) offsetof(ConfHost, f)
#define U(f) offsetof(ConfUser, f)
#define P(f) offsetof(ConfPool, f)

static const Key keys[] = {
    { SEC_SERVER, "listen", KEY_STRING, C(listen), .check = check_listen,
      .default_value = "127.0.0.1:9001" },
    { SEC_SERVER, "tls_cert", KEY_OPT_STRING, C(tls_cert), .check = check_no_control,
      .default_value = "" },
    { SEC_SERVER, "tls_key", KEY_OPT_STRING, C(tls_key), .check = check_no_control,
      .default_value = "" },
    { SEC_SERVER, "max_connections", KEY_UINT, C(max_connections), 1, 100000,
      .default_value = "1024" },
    { SEC_SERVER, "max_connections_per_ip", KEY_UINT, C(max_connections_per_ip), 0, 100000,
      .default_value = "64" },
    { SEC_SERVER, "connection_memory", KEY_SIZE, C(connection_memory), 4096, 16777216,
      .default_value = "65536" },
    { SEC_SERVER, "max_body_bytes", KEY_SIZE, C(max_body_bytes), 1024, 67108864,
      .default_value = "65536" },
    { SEC_SERVER, "request_timeout", KEY_UINT, C(request_timeout), 1, 3600, .default_value = "30" },
    { SEC_SERVER, "header_timeout", KEY_UINT, C(header_timeout), 1, 3600, .default_value = "10" },
    { SEC_SERVER, "body_timeout", KEY_UINT, C(body_timeout), 1, 3600, .default_value = "30" },
    { SEC_SERVER, "socket_mode", KEY_MODE, C(socket_mode), 0, 0777, .default_value = "0660" },
    { SEC_SERVER, "socket_group", KEY_OPT_STRING, C(socket_group), .check = check_no_control,
      .default_value = "" },
    { SEC_SERVER, "threads", KEY_UINT, C(threads), 0, 256, .default_value = "0" },
    { SEC_SERVER, "workers", KEY_UINT, C(workers), 1, 1024, .default_value = "16" },
    { SEC_SERVER, "legacy_get_actions", KEY_BOOL, C(legacy_get_actions), .default_value = "true" },
    { SEC_SERVER, "access_log", KEY_BOOL, C(access_log), .default_value = "true" },

    { SEC_LIBVIRT, "uri", KEY_STRING, C(uri), .check = check_no_control,
      .default_value = "qemu:///system" },

    { SEC_HOST, "uri", KEY_STRING, H(uri), .check = check_no_control, .required = true,
      .default_value = "" },

    { SEC_POWER, "force_off_timeout", KEY_UINT, C(force_off_timeout), 0, 3600,
      .default_value = "10" },
    { SEC_POWER, "reboot_timeout", KEY_UINT, C(reboot_timeout), 0, 3600,
      .default_value = "30" },
    { SEC_POWER, "lock_timeout", KEY_UINT, C(lock_timeout), 1, 3600, .default_value = "30" },
    { SEC_POWER, "lock_queue", KEY_UINT, C(lock_queue), 0, 1000, .default_value = "16" },
    { SEC_POWER, "memory_guard", KEY_BOOL, C(memory_guard), .default_value = "true" },

    { SEC_COMPAT, "state_words", KEY_ENUM, C(state_words), .values = state_words_names,
      .default_value = "libvirt" },

    { SEC_INVENTORY, "address_refresh", KEY_UINT, C(address_refresh), 0, 86400,
      .default_value = "60" },

    { SEC_BOOT, "backup_dir", KEY_STRING, C(backup_dir), .check = check_no_control,
      .default_value = LOCALSTATEDIR "/lib/virtmcd/backups" },
    { SEC_BOOT, "backup_keep", KEY_UINT, C(backup_keep), 0, 100000, .default_value = "50" },
    { SEC_BOOT, "live_update", KEY_BOOL, C(live_update), .default_value = "true" },

    { SEC_AUTH, "users_file", KEY_OPT_STRING, C(users_file), .check = check_no_control,
      .default_value = "" },
    { SEC_AUTH, "anonymous_networks", KEY_GLOBS, C(anonymous_networks), .check = check_cidr,
      .default_value = "" },
    { SEC_AUTH, "anonymous_role", KEY_ENUM, C(anonymous_role), .values = anonymous_role_names,
      .default_value = "user" },
    { SEC_AUTH, "anonymous_machines", KEY_GLOBS, C(anonymous_machines), .default_value = "*" },
    { SEC_AUTH, "realm", KEY_STRING, C(realm), .check = check_no_control,
      .default_value = "virtmcd" },
    { SEC_AUTH, "digest_algorithm", KEY_ENUM, C(digest_algorithm), .values = digest_names,
      .default_value = "md5" },
    { SEC_AUTH, "basic", KEY_ENUM, C(basic), .values = basic_names, .default_value = "tls" },
    { SEC_AUTH, "nonce_timeout", KEY_UINT, C(nonce_timeout), 1, 86400,
      .default_value = "300" },
    { SEC_AUTH, "max_failures", KEY_UINT, C(max_failures), 0, 100000, .default_value = "10" },
    { SEC_AUTH, "failure_window", KEY_UINT, C(failure_window), 1, 86400,
      .default_value = "60" },
    { SEC_AUTH, "session_timeout", KEY_UINT, C(session_timeout), 30, 86400,
      .default_value = "1800" },
    { SEC_AUTH, "token_timeout", KEY_UINT, C(token_timeout), 30, 31536000,
      .default_value = "604800" },

    { SEC_USER, "role", KEY_ENUM, U(role), .values = role_names, .default_value = "user" },
    { SEC_USER, "machines", KEY_GLOBS, U(machines), .default_value = "*" },

    { SEC_POOL, "template", KEY_STRING, P(template_name), .check = check_domain_name,
      .required = true, .default_value = "" },
    { SEC_POOL, "host", KEY_OPT_STRING, P(host), .check = check_no_control, .default_value = "" },
    { SEC_POOL, "size", KEY_UINT, P(size), 0, 1000, .default_value = "1" },
    { SEC_POOL, "clone", KEY_ENUM, P(clone), .values = clone_names, .default_value = "linked" },
    { SEC_POOL, "prefix", KEY_STRING_EMPTY, P(prefix), .check = check_prefix, .default_value = "" },
    { SEC_POOL, "lifetime", KEY_UINT, P(lifetime), 1, 8760, .default_value = "24" },
    { SEC_POOL, "max_lifetime", KEY_UINT, P(max_lifetime), 1, 8760, .default_value = "168" },
    { SEC_POOL, "ready_ttl", KEY_UINT, P(ready_ttl), 1, 10080, .default_value = "60" },
    { SEC_POOL, "timeout", KEY_UINT, P(timeout), 1, 1440, .default_value = "15" },
    { SEC_POOL, "ready_check", KEY_READY_CHECK, P(ready_check), .default_value = "none" },
};

#undef C
#undef H
#undef U
#undef P

void conf_keys_foreach(ConfKeyFn fn, void *userdata)
{
    for (size_t i = 0; i < ELEMENTSOF(keys); i++)
        fn(sections[keys[i].section].name, keys[i].name, keys[i].default_value, userdata);
}

/* ---- defaults ---- */

static int host_init(ConfHost *h, const char *name, unsigned line)
{
    *h = (ConfHost){ .line = line };
    h->name = strdup(name);
    return h->name ? 0 : -ENOMEM;
}

static void host_done(ConfHost *h)
{
    free(h->name);
    free(h->uri);
}

static int user_init(ConfUser *u, const char *name, unsigned line)
{
    *u = (ConfUser){ .role = ROLE_USER, .line = line };
    u->name = strdup(name);
    if (!u->name || strv_push(&u->machines, "*") < 0)
        return -ENOMEM;
    return 0;
}

static void user_done(ConfUser *u)
{
    free(u->name);
    strv_free(u->machines);
}

static int pool_init(ConfPool *p, const char *name, unsigned line)
{
    *p = (ConfPool){
        .size = 1,
        .clone = CLONE_LINKED,
        .lifetime = 24,
        .max_lifetime = 168,
        .ready_ttl = 60,
        .timeout = 15,
        .ready_check = READY_CHECK_NONE,
        .line = line,
    };
    p->name = strdup(name);
    p->prefix = strdup("");
    return p->name && p->prefix ? 0 : -ENOMEM;
}

static void pool_done(ConfPool *p)
{
    free(p->name);
    free(p->template_name);
    free(p->host);
    free(p->prefix);
}

Conf *conf_new(void)
{
    Conf *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->max_connections = 1024;
    c->max_connections_per_ip = 64;
    c->connection_memory = 65536;
    c->max_body_bytes = 65536;
    c->request_timeout = 30;
    c->header_timeout = 10;
    c->body_timeout = 30;
    c->socket_mode = 0660;
    c->threads = 0;
    c->workers = 16;
    c->legacy_get_actions = true;
    c->access_log = true;
    c->force_off_timeout = 10;
    c->lock_timeout = 30;
    c->reboot_timeout = 30;
    c->memory_guard = true;
    c->lock_queue = 16;
    c->backup_keep = 50;
    c->state_words = STATE_WORDS_LIBVIRT;
    c->address_refresh = 60;
    c->live_update = true;
    c->digest_algorithm = DIGEST_MD5;
    c->basic = BASIC_TLS;
    c->nonce_timeout = 300;
    c->max_failures = 10;
    c->failure_window = 60;
    c->session_timeout = 1800;
    c->token_timeout = 604800;

    c->listen = strdup("127.0.0.1:9001");
    c->uri = strdup("qemu:///system");
    c->backup_dir = strdup(LOCALSTATEDIR "/lib/virtmcd/backups");
    c->realm = strdup("virtmcd");
    c->anonymous_role = ROLE_USER;
    if (!c->listen || !c->uri || !c->backup_dir || !c->realm ||
        strv_push(&c->anonymous_machines, "*") < 0) {
        conf_free(c);
        return NULL;
    }
    return c;
}

void conf_free(Conf *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->listen);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->socket_group);
    free(c->uri);
    for (size_t i = 0; i < c->n_hosts; i++)
        host_done(&c->hosts[i]);
    free(c->hosts);
    free(c->backup_dir);
    free(c->users_file);
    strv_free(c->anonymous_networks);
    strv_free(c->anonymous_machines);
    free(c->realm);
    for (size_t i = 0; i < c->n_users; i++)
        user_done(&c->users[i]);
    free(c->users);
    for (size_t i = 0; i < c->n_pools; i++)
        pool_done(&c->pools[i]);
    free(c->pools);
    free(c);
}

const ConfUser *conf_find_user(const Conf *c, const char *name)
{
    for (size_t i = 0; i < c->n_users; i++)
        if (streq(c->users[i].name, name))
            return &c->users[i];
    return NULL;
}

const ConfPool *conf_find_pool(const Conf *c, const char *name)
{
    for (size_t i = 0; i < c->n_pools; i++)
        if (streq(c->pools[i].name, name))
            return &c->pools[i];
    return NULL;
}

static const ConfHost *find_host(const Conf *c, const char *name)
{
    for (size_t i = 0; i < c->n_hosts; i++)
        if (streq(c->hosts[i].name, name))
            return &c->hosts[i];
    return NULL;
}

/* ---- errors ---- */

static int errors_vadd(ConfErrors *errs, const char *name, unsigned line, const char *fmt,
                       va_list ap) __attribute__((format(printf, 4, 0)));
static int errors_vadd(ConfErrors *errs, const char *name, unsigned line, const char *fmt,
                       va_list ap)
{
    _cleanup_free_ char *msg = strdup_vprintf(fmt, ap);
    char **v;
    char *s;

    if (!msg)
        return -ENOMEM;
    s = line > 0 ? strdup_printf("%s:%u: %s", name, line, msg) : strdup_printf("%s: %s", name, msg);
    if (!s)
        return -ENOMEM;
    v = realloc(errs->msgs, (errs->n + 1) * sizeof(char *));
    if (!v) {
        free(s);
        return -ENOMEM;
    }
    v[errs->n++] = s;
    errs->msgs = v;
    return 0;
}

static int errors_add(ConfErrors *errs, const char *name, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int errors_add(ConfErrors *errs, const char *name, unsigned line, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = errors_vadd(errs, name, line, fmt, ap);
    va_end(ap);
    return r;
}

void conf_errors_clear(ConfErrors *errs)
{
    if (!errs)
        return;
    for (size_t i = 0; i < errs->n; i++)
        free(errs->msgs[i]);
    free(errs->msgs);
    *errs = (ConfErrors){ 0 };
}

/* ---- value checks ---- */

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static const char *check_cidr(const char *value)
{
    Cidr c;

    return cidr_parse(value, &c) < 0 ? "not an IPv4 or IPv6 network (ADDRESS or ADDRESS/BITS)"
                                     : NULL;
}

static const char *check_no_control(const char *value)
{
    return has_control(value) ? "control characters are not allowed" : NULL;
}

static const char *check_domain_name(const char *value)
{
    if (!machine_name_valid(value, strlen(value)))
        return "expected a domain name: 1 to 255 bytes, no '/' or control characters";
    return NULL;
}

static const char *check_prefix(const char *value)
{
    if (strlen(value) > 200 || strchr(value, '/') || has_control(value))
        return "expected at most 200 bytes without '/' or control characters";
    return NULL;
}

/* any_port: port 0 (the kernel picks one) is allowed: --listen only, where
 * the daemon reports the port it got; in a file it would be a mistake. */
static const char *parse_listen(const char *s, ListenAddr *ret, bool any_port)
{
    ListenAddr a = { 0 };
    const char *port;
    unsigned long long p;

    if (startswith(s, "unix:")) {
        const char *path = s + 5;
        size_t n = strlen(path);

        if (path[0] != '/')
            return "a unix socket path must be absolute: unix:/path";
        if (n >= sizeof(a.path))
            return "a unix socket path must be shorter than 108 bytes";
        if (path[n - 1] == '/')
            return "a unix socket path must name a file, not a directory";
        if (has_control(path))
            return "control characters are not allowed";
        a.is_unix = true;
        memcpy(a.path, path, n + 1);
        *ret = a;
        return NULL;
    }

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        char addr[sizeof(a.host)];
        size_t n;

        if (!close)
            return "missing ']' after the IPv6 address";
        n = (size_t)(close - s - 1);
        if (n == 0)
            return "empty IPv6 address between '[' and ']'";
        if (n >= sizeof(a.host))
            return "IPv6 address too long";
        memcpy(a.host, s + 1, n);
        a.host[n] = '\0';
        memcpy(addr, a.host, n + 1);
        addr[strcspn(addr, "%")] = '\0'; /* zone index, as in [fe80::1%eth0] */
        {
            struct in6_addr in6;

            if (inet_pton(AF_INET6, addr, &in6) != 1)
                return "expected a numeric IPv6 address between '[' and ']'";
        }
        if (close[1] != ':')
            return "expected ':PORT' after ']'";
        port = close + 2;
    } else {
        const char *colon = strrchr(s, ':');
        size_t n;
        bool numeric = true;

        if (!colon)
            return "missing ':PORT'";
        n = (size_t)(colon - s);
        if (memchr(s, ':', n))
            return "an IPv6 address needs brackets: [ADDR]:PORT";
        if (n == 0)
            return "missing address before ':PORT' (use 0.0.0.0 or [::] for all)";
        if (n >= sizeof(a.host))
            return "address too long";
        for (size_t i = 0; i < n; i++) {
            char ch = s[i];

            if (!isdigit((unsigned char)ch) && ch != '.')
                numeric = false;
            if (!isalnum((unsigned char)ch) && ch != '.' && ch != '-')
                return "expected an IPv4 address or a host name before ':PORT'";
        }
        memcpy(a.host, s, n);
        a.host[n] = '\0';
        if (numeric) {
            struct in_addr in4;

            if (inet_pton(AF_INET, a.host, &in4) != 1)
                return "not a valid IPv4 address";
        }
        port = colon + 1;
    }
    if (!*port)
        return "missing port after ':'";
    if (parse_uint(port, any_port ? 0 : 1, 65535, &p) < 0)
        return any_port ? "the port must be a whole number from 0 to 65535"
                        : "the port must be a whole number from 1 to 65535";
    a.port = (unsigned)p;
    *ret = a;
    return NULL;
}

int conf_parse_listen(const char *s, ListenAddr *ret)
{
    ListenAddr a;

    if (!s || parse_listen(s, &a, false))
        return -EINVAL;
    *ret = a;
    return 0;
}

int conf_parse_listen_any(const char *s, ListenAddr *ret)
{
    ListenAddr a;

    if (!s || parse_listen(s, &a, true))
        return -EINVAL;
    *ret = a;
    return 0;
}

static const char *check_listen(const char *value)
{
    ListenAddr a;

    return parse_listen(value, &a, false);
}

/* A whole number of bytes with an optional K, M or G (1024-based) suffix. */
static int parse_size(const char *s, unsigned long long min, unsigned long long max,
                      unsigned long long *ret)
{
    _cleanup_free_ char *num = strdup(s);
    unsigned long long v, mult = 1;
    size_t n;
    int r;

    if (!num)
        return -ENOMEM;
    n = strlen(num);
    if (n > 1) {
        switch (num[n - 1]) {
        case 'k':
        case 'K':
            mult = 1ULL << 10;
            break;
        case 'm':
        case 'M':
            mult = 1ULL << 20;
            break;
        case 'g':
        case 'G':
            mult = 1ULL << 30;
            break;
        default:
            break;
        }
        if (mult > 1)
            num[n - 1] = '\0';
    }
    r = parse_uint(num, 0, UINT64_MAX / mult, &v);
    if (r < 0)
        return r;
    v *= mult;
    if (v < min || v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

/* ---- the parser ---- */

typedef struct Parser {
    Conf *c;
    ConfErrors *errs;
    const char *name; /* for messages */
    char *text;       /* our copy, cut into lines in place */
    size_t len, pos;
    unsigned line; /* the line last handed to inih */
    int oom;       /* -ENOMEM once an allocation failed */

    Section section;
    size_t index; /* named sections: index into hosts/users/pools */
    unsigned section_line;
    char *label;                     /* "[server]", "[pool \"deb12\"]" */
    unsigned seen[ELEMENTSOF(keys)]; /* line of each key in this section, 0 = not yet */
    unsigned fixed_line[_SEC_MAX];   /* where each unnamed section started */
} Parser;

static void perr(Parser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void perr(Parser *p, unsigned line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (errors_vadd(p->errs, p->name, line, fmt, ap) < 0)
        p->oom = -ENOMEM;
    va_end(ap);
}

static void *section_base(Parser *p)
{
    switch (p->section) {
    case SEC_HOST:
        return &p->c->hosts[p->index];
    case SEC_USER:
        return &p->c->users[p->index];
    case SEC_POOL:
        return &p->c->pools[p->index];
    default:
        return p->c;
    }
}

/* End of a section: report required keys it never set. */
static void section_end(Parser *p)
{
    if (p->section < 0)
        return;
    for (size_t i = 0; i < ELEMENTSOF(keys); i++)
        if (keys[i].section == p->section && keys[i].required && !p->seen[i])
            perr(p, p->section_line, "missing required key '%s' in %s", keys[i].name, p->label);
}

static const char *section_name_invalid(Section s, const char *name, size_t n)
{
    if (n == 0 || n > SECTION_NAME_MAX)
        return "a name must be 1 to 255 bytes";
    if (memchr(name, '"', n))
        return "a name must not contain '\"'";
    if (!machine_name_valid(name, n))
        return "a name must not contain '/' or control characters, nor be '.' or '..'";
    if (s == SEC_USER && memchr(name, ':', n))
        return "a user name must not contain ':' (the htdigest separator)";
    return NULL;
}

static bool named_exists(const Conf *c, Section s, const char *name, unsigned *ret_line)
{
    switch (s) {
    case SEC_HOST:
        for (size_t i = 0; i < c->n_hosts; i++)
            if (streq(c->hosts[i].name, name)) {
                *ret_line = c->hosts[i].line;
                return true;
            }
        return false;
    case SEC_USER:
        for (size_t i = 0; i < c->n_users; i++)
            if (streq(c->users[i].name, name)) {
                *ret_line = c->users[i].line;
                return true;
            }
        return false;
    case SEC_POOL:
        for (size_t i = 0; i < c->n_pools; i++)
            if (streq(c->pools[i].name, name)) {
                *ret_line = c->pools[i].line;
                return true;
            }
        return false;
    default:
        return false;
    }
}

static int named_add(Conf *c, Section s, const char *name, unsigned line, size_t *ret_index)
{
    void *v;
    int r;

    switch (s) {
    case SEC_HOST:
        v = realloc(c->hosts, (c->n_hosts + 1) * sizeof(ConfHost));
        if (!v)
            return -ENOMEM;
        c->hosts = v;
        r = host_init(&c->hosts[c->n_hosts], name, line);
        c->n_hosts++; /* even on failure, so conf_free() releases it */
        *ret_index = c->n_hosts - 1;
        return r;
    case SEC_USER:
        v = realloc(c->users, (c->n_users + 1) * sizeof(ConfUser));
        if (!v)
            return -ENOMEM;
        c->users = v;
        r = user_init(&c->users[c->n_users], name, line);
        c->n_users++;
        *ret_index = c->n_users - 1;
        return r;
    case SEC_POOL:
        v = realloc(c->pools, (c->n_pools + 1) * sizeof(ConfPool));
        if (!v)
            return -ENOMEM;
        c->pools = v;
        r = pool_init(&c->pools[c->n_pools], name, line);
        c->n_pools++;
        *ret_index = c->n_pools - 1;
        return r;
    default:
        assert(false);
        return -EINVAL;
    }
}

/* A "[...]" line (comments already removed, blanks stripped). */
static void section_start(Parser *p, char *line)
{
    size_t n = strlen(line);
    char *inner, *word_end, *rest, saved;
    Section s = SEC_SKIP;
    const char *why;
    unsigned first;

    section_end(p);
    memset(p->seen, 0, sizeof(p->seen));
    free(p->label);
    p->label = NULL;
    p->section = SEC_SKIP;
    p->section_line = p->line;

    if (line[n - 1] != ']') {
        perr(p, p->line, "expected ']' at the end of the section header");
        return;
    }
    line[n - 1] = '\0';
    inner = strstrip(line + 1);
    word_end = inner + strcspn(inner, " \t\"");
    rest = word_end + strspn(word_end, " \t");
    saved = *word_end;
    *word_end = '\0';
    for (int i = 0; i < _SEC_MAX; i++)
        if (streq(sections[i].name, inner))
            s = (Section)i;
    if (s == SEC_SKIP) {
        perr(p, p->line, "unknown section [%s]", inner);
        return;
    }
    *word_end = saved;

    if (!sections[s].named) {
        if (*rest) {
            perr(p, p->line, "section [%s] takes no name", sections[s].name);
            return;
        }
        if (p->fixed_line[s]) {
            perr(p, p->line, "duplicate section [%s], first at line %u", sections[s].name,
                 p->fixed_line[s]);
            return;
        }
        p->fixed_line[s] = p->line;
        p->label = strdup_printf("[%s]", sections[s].name);
    } else {
        size_t rn = strlen(rest);
        size_t idx;

        if (rn == 0) {
            perr(p, p->line, "section [%s] needs a name: [%s \"NAME\"]", sections[s].name,
                 sections[s].name);
            return;
        }
        if (rn < 2 || rest[0] != '"' || rest[rn - 1] != '"') {
            perr(p, p->line, "the name of a [%s] section must be quoted: [%s \"NAME\"]",
                 sections[s].name, sections[s].name);
            return;
        }
        rest[rn - 1] = '\0';
        rest++;
        why = section_name_invalid(s, rest, rn - 2);
        if (why) {
            perr(p, p->line, "invalid [%s] section name \"%s\": %s", sections[s].name, rest, why);
            return;
        }
        if (named_exists(p->c, s, rest, &first)) {
            perr(p, p->line, "duplicate section [%s \"%s\"], first at line %u", sections[s].name,
                 rest, first);
            return;
        }
        if (named_add(p->c, s, rest, p->line, &idx) < 0) {
            p->oom = -ENOMEM;
            return;
        }
        p->index = idx;
        p->label = strdup_printf("[%s \"%s\"]", sections[s].name, rest);
    }
    if (!p->label) {
        p->oom = -ENOMEM;
        return;
    }
    p->section = s;
}

/* Remove a '#' or ';' comment: a whole line, or one after whitespace. */
static void strip_comment(char *line)
{
    char *s = line + strspn(line, " \t");

    if (*s == '#' || *s == ';') {
        *s = '\0';
        return;
    }
    for (; *s; s++)
        if ((*s == '#' || *s == ';') && (s[-1] == ' ' || s[-1] == '\t')) {
            *s = '\0';
            return;
        }
}

/* libinih's line reader: exactly one source line per call, so inih's line
 * count and ours agree.  Blank, comment, bad and section lines reach inih
 * as empty lines; only "key = value" lines get through. */
static char *reader(char *str, int num, void *stream)
{
    Parser *p = stream;
    char *line, *eol, *eq;
    size_t n;

    if (p->pos >= p->len)
        return NULL;
    line = p->text + p->pos;
    eol = memchr(line, '\n', p->len - p->pos);
    if (eol) {
        *eol = '\0';
        p->pos = (size_t)(eol - p->text) + 1;
    } else
        p->pos = p->len;
    p->line++;
    str[0] = '\0';

    if (p->line == 1 && startswith(line, "\xef\xbb\xbf"))
        line += 3;
    n = strlen(line);
    if (n > 0 && line[n - 1] == '\r')
        line[n - 1] = '\0';
    strip_comment(line);
    line = strstrip(line);
    if (!*line)
        return str;
    for (const char *c = line; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            perr(p, p->line, "control character in line");
            return str;
        }
    if (*line == '[') {
        section_start(p, line);
        return str;
    }
    eq = strpbrk(line, "=:");
    if (!eq || *eq != '=') {
        perr(p, p->line, "expected 'key = value' or '[section]'");
        return str;
    }
    if (eq == line) {
        perr(p, p->line, "missing key before '='");
        return str;
    }
    n = strlen(line);
    if (n >= (size_t)num) {
        perr(p, p->line, "line too long: at most %d bytes of 'key = value'", num - 1);
        return str;
    }
    memcpy(str, line, n + 1);
    return str;
}

static void bad_value(Parser *p, const Key *k, const char *value, const char *why)
{
    perr(p, p->line, "invalid value '%s' for '%s' in %s: %s", value, k->name, p->label, why);
}

static void set_string(Parser *p, char **field, const char *value)
{
    char *s = strdup(value);

    if (!s) {
        p->oom = -ENOMEM;
        return;
    }
    free(*field);
    *field = s;
}

static void enum_expected(const Key *k, char *buf, size_t size)
{
    size_t o = 0;

    buf[0] = '\0';
    for (size_t i = 0; k->values[i] && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? ", " : "", k->values[i]);
}

static void set_value(Parser *p, const Key *k, const char *value)
{
    char *field = (char *)section_base(p) + k->offset;
    unsigned long long v;
    const char *why;
    char buf[160];
    bool b;
    int r;

    switch (k->type) {
    case KEY_STRING:
    case KEY_STRING_EMPTY:
    case KEY_OPT_STRING:
        if (!*value && k->type == KEY_STRING) {
            bad_value(p, k, value, "must not be empty");
            return;
        }
        if (!*value && k->type == KEY_OPT_STRING) {
            free(*(char **)field);
            *(char **)field = NULL;
            return;
        }
        why = k->check ? k->check(value) : NULL;
        if (why) {
            bad_value(p, k, value, why);
            return;
        }
        set_string(p, (char **)field, value);
        return;

    case KEY_UINT:
        if (parse_uint(value, k->min, k->max, &v) < 0) {
            snprintf(buf, sizeof(buf), "expected a whole number from %llu to %llu", k->min, k->max);
            bad_value(p, k, value, buf);
            return;
        }
        *(unsigned *)field = (unsigned)v;
        return;

    case KEY_SIZE:
        r = parse_size(value, k->min, k->max, &v);
        if (r == -ENOMEM) {
            p->oom = r;
            return;
        }
        if (r < 0) {
            snprintf(buf, sizeof(buf),
                     "expected a size in bytes from %llu to %llu (suffix K, M or G allowed)",
                     k->min, k->max);
            bad_value(p, k, value, buf);
            return;
        }
        *(size_t *)field = (size_t)v;
        return;

    case KEY_BOOL:
        if (parse_bool(value, &b) < 0) {
            bad_value(p, k, value, "expected true or false (or yes/no, on/off, 1/0)");
            return;
        }
        *(bool *)field = b;
        return;

    case KEY_MODE: {
        char *end = NULL;
        unsigned long m;

        errno = 0;
        m = *value >= '0' && *value <= '7' ? strtoul(value, &end, 8) : ULONG_MAX;
        if (errno || !end || *end || m < k->min || m > k->max) {
            snprintf(buf, sizeof(buf), "expected an octal mode from %04llo to %04llo", k->min,
                     k->max);
            bad_value(p, k, value, buf);
            return;
        }
        *(unsigned *)field = (unsigned)m;
        return;
    }

    case KEY_ENUM:
        r = lookup(k->values, value);
        if (r < 0) {
            char list[120];

            enum_expected(k, list, sizeof(list));
            snprintf(buf, sizeof(buf), "expected one of: %s", list);
            bad_value(p, k, value, buf);
            return;
        }
        *(int *)field = r;
        return;

    case KEY_GLOBS: {
        char **globs = strv_split(value, ',');

        if (!globs) {
            p->oom = -ENOMEM;
            return;
        }
        for (char **g = globs; *g; g++) {
            const char *bad = has_control(*g) ? "control characters are not allowed"
                              : k->check      ? k->check(*g)
                                              : NULL;

            if (bad) {
                strv_free(globs);
                bad_value(p, k, value, bad);
                return;
            }
        }
        strv_free(*(char ***)field);
        *(char ***)field = globs;
        return;
    }

    case KEY_READY_CHECK: {
        ConfPool *pool = section_base(p);

        if (streq(value, "none")) {
            pool->ready_check = READY_CHECK_NONE;
            pool->ready_port = 0;
        } else if (streq(value, "address")) {
            pool->ready_check = READY_CHECK_ADDRESS;
            pool->ready_port = 0;
        } else if (startswith(value, "tcp:") && parse_uint(value + 4, 1, 65535, &v) == 0) {
            pool->ready_check = READY_CHECK_TCP;
            pool->ready_port = (unsigned)v;
        } else
            bad_value(p, k, value, "expected none, address or tcp:PORT with PORT from 1 to 65535");
        return;
    }
    }
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    Parser *p = user;
    const Key *k = NULL;
    size_t i;

    (void)section; /* always "": section headers never reach inih */
    if (p->section == SEC_NONE) {
        perr(p, p->line, "key '%s' outside of any section", name);
        return 1;
    }
    if (p->section == SEC_SKIP)
        return 1; /* the header was reported already */
    for (i = 0; i < ELEMENTSOF(keys); i++)
        if (keys[i].section == p->section && streq(keys[i].name, name)) {
            k = &keys[i];
            break;
        }
    if (!k) {
        perr(p, p->line, "unknown key '%s' in %s", name, p->label);
        return 1;
    }
    if (p->seen[i]) {
        perr(p, p->line, "duplicate key '%s' in %s, first at line %u", name, p->label, p->seen[i]);
        return 1;
    }
    p->seen[i] = p->line;
    set_value(p, k, value);
    return 1; /* errors are collected, never returned to inih */
}

static int load(Conf *c, const char *text, size_t len, const char *name, ConfErrors *errs)
{
    Parser p = {
        .c = c,
        .errs = errs,
        .name = name,
        .len = len,
        .section = SEC_NONE,
    };
    size_t before = errs->n;
    const char *nul;
    int r;

    assert(c && errs && name);
    nul = memchr(text, '\0', len);
    if (nul) {
        unsigned line = 1;

        for (const char *s = text; s < nul; s++)
            line += *s == '\n';
        if (errors_add(errs, name, line, "NUL byte in configuration") < 0)
            return -ENOMEM;
        return -EINVAL;
    }
    p.text = malloc(len + 1);
    if (!p.text)
        return -ENOMEM;
    memcpy(p.text, text, len);
    p.text[len] = '\0';

    r = ini_parse_stream(reader, &p, handler, &p);
    section_end(&p);
    if (r > 0 && errs->n == before)
        /* We filter every line inih could reject, so this is a safety net. */
        perr(&p, (unsigned)r, "syntax error");
    else if (r < 0 && !p.oom)
        p.oom = -ENOMEM;
    free(p.text);
    free(p.label);
    if (p.oom)
        return p.oom;
    return errs->n > before ? -EINVAL : 0;
}

int conf_load_string(Conf *c, const char *text, const char *name, ConfErrors *errs)
{
    return load(c, text, strlen(text), name ? name : "<string>", errs);
}

int conf_load_file(Conf *c, const char *path, ConfErrors *errs)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    char *copy;
    int r;

    r = read_file(path, CONF_FILE_MAX, &text, &len);
    if (r == -EFBIG) {
        if (errors_add(errs, path, 0, "file too large (more than %d bytes)", CONF_FILE_MAX) < 0)
            return -ENOMEM;
        return r;
    }
    if (r < 0) {
        if (errors_add(errs, path, 0, "cannot read: %s", strerror(-r)) < 0)
            return -ENOMEM;
        return r;
    }
    copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    free(c->path);
    c->path = copy;
    return load(c, text, len, path, errs);
}

/* ---- whole-file checks ---- */

int conf_check(const Conf *c, ConfErrors *errs)
{
    const char *name = c->path ? c->path : "configuration";
    size_t before = errs->n;
    ListenAddr la;
    const char *why;
    int r = 0;

#define ADD(line, ...)                                       \
    do {                                                     \
        if (errors_add(errs, name, (line), __VA_ARGS__) < 0) \
            r = -ENOMEM;                                     \
    } while (0)

    why = c->listen ? parse_listen(c->listen, &la, c->listen_any_port) : "not set";
    if (why)
        ADD(0, "invalid listen address '%s': %s", c->listen ? c->listen : "", why);
    if (!c->tls_cert != !c->tls_key)
        ADD(0, "[server] %s is set but %s is not: set both for HTTPS, or neither",
            c->tls_cert ? "tls_cert" : "tls_key", c->tls_cert ? "tls_key" : "tls_cert");

    for (size_t i = 0; i < c->n_pools; i++) {
        const ConfPool *pool = &c->pools[i];

        if (pool->host && c->n_hosts == 0)
            ADD(pool->line, "[pool \"%s\"] host '%s' is not defined: there are no [host] sections",
                pool->name, pool->host);
        else if (pool->host && !find_host(c, pool->host))
            ADD(pool->line, "[pool \"%s\"] host '%s' is not a [host] section", pool->name,
                pool->host);
        else if (!pool->host && c->n_hosts > 1)
            ADD(pool->line, "[pool \"%s\"] must name its host: there are %zu [host] sections",
                pool->name, c->n_hosts);
        if (pool->lifetime > pool->max_lifetime)
            ADD(pool->line, "[pool \"%s\"] lifetime %u is longer than max_lifetime %u", pool->name,
                pool->lifetime, pool->max_lifetime);
        /* /service/pools/checkout is a route, and a multi-pool checkout's
         * body has "lifetime" and "tags" keys of its own. */
        if (streq(pool->name, "checkout") || streq(pool->name, "lifetime") ||
            streq(pool->name, "tags"))
            ADD(pool->line, "[pool \"%s\"]: that name is reserved (the checkout API uses it)",
                pool->name);
    }
#undef ADD
    if (r < 0)
        return r;
    return errs->n > before ? -EINVAL : 0;
}
