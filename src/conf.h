/* conf.h: the configuration of virtmcd (DAEMON.md).
 *
 * conf owns every default (conf_new()), the table of sections and keys with
 * their typed parsers, and validation.  It reads INI through libinih and
 * never touches libvirt, HTTP or the network.  A Conf is immutable once
 * loaded and checked; SIGHUP builds a fresh one and swaps it whole. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum Role {
    ROLE_USER,     /* read only */
    ROLE_OPERATOR, /* power, boot, checkout, metadata */
    ROLE_ADMIN,    /* everything */
    _ROLE_MAX,
    _ROLE_INVALID = -1,
} Role;

typedef enum BasicMode {
    BASIC_NEVER,
    BASIC_TLS,
    BASIC_ALWAYS,
    _BASIC_MAX,
    _BASIC_INVALID = -1,
} BasicMode;

typedef enum DigestAlgo {
    DIGEST_MD5,
    DIGEST_SHA256,
    _DIGEST_MAX,
    _DIGEST_INVALID = -1,
} DigestAlgo;

typedef enum CloneMode {
    CLONE_LINKED,
    CLONE_FULL,
    _CLONE_MAX,
    _CLONE_INVALID = -1,
} CloneMode;

/* [compat] state_words: what GET .../status says (Mr-Provisioner wants IPMI's). */
typedef enum StateWords {
    STATE_WORDS_LIBVIRT, /* virsh's words: "running", "shut off", ... */
    STATE_WORDS_IPMI,    /* the IPMI chassis words: "on" or "off" */
    _STATE_WORDS_MAX,
    _STATE_WORDS_INVALID = -1,
} StateWords;

typedef enum ReadyCheck {
    READY_CHECK_NONE,
    READY_CHECK_ADDRESS,
    READY_CHECK_TCP, /* with ready_port */
    _READY_CHECK_MAX,
    _READY_CHECK_INVALID = -1,
} ReadyCheck;

typedef struct ConfHost {
    char *name;
    char *uri;
    unsigned line; /* where the section starts, for messages */
} ConfHost;

typedef struct ConfUser {
    char *name;
    Role role;       /* default ROLE_USER */
    char **machines; /* NULL-terminated globs; default { "*" } */
    unsigned line;   /* where the section starts, for messages */
} ConfUser;

typedef struct ConfPool {
    char *name;
    char *template_name; /* key "template" */
    char *host;          /* NULL when unset */
    unsigned size;       /* default 1 */
    CloneMode clone;     /* default linked */
    char *prefix;        /* default "" */
    unsigned lifetime;   /* hours, default 24 */
    unsigned max_lifetime; /* hours, default 168 */
    unsigned ready_ttl;  /* minutes, default 60 */
    unsigned timeout;    /* minutes, default 15 */
    ReadyCheck ready_check;
    unsigned ready_port; /* for READY_CHECK_TCP */
    unsigned line;       /* where the section starts, for messages */
} ConfPool;

typedef struct Conf {
    char *path; /* file it was read from, NULL for defaults/strings */

    /* [server] */
    char *listen;                   /* "127.0.0.1:9001" */
    bool listen_any_port;           /* listen may have port 0 (--listen ADDR:0) */
    char *tls_cert;                 /* NULL = plain HTTP */
    char *tls_key;
    unsigned max_connections;       /* 1024 */
    unsigned max_connections_per_ip; /* 0 = no limit; default 64 */
    size_t connection_memory;       /* bytes per connection, default 65536 */
    size_t max_body_bytes;          /* 65536 */
    unsigned request_timeout;       /* seconds idle, 30 */
    unsigned header_timeout;        /* seconds for a request head, 10 */
    unsigned body_timeout;          /* seconds for a request body, 30 */
    unsigned socket_mode;           /* a Unix listener's mode, 0660 */
    char *socket_group;             /* a Unix listener's group; NULL = the process's */
    unsigned threads;               /* 0 = one per CPU */
    unsigned workers;               /* threads for libvirt calls, 16 */
    bool legacy_get_actions;        /* true */
    bool access_log;                /* true */

    /* [libvirt] */
    char *uri;                      /* "qemu:///system" */

    /* [host "NAME"] */
    ConfHost *hosts;
    size_t n_hosts;

    /* [power] */
    unsigned force_off_timeout;     /* seconds, 10 */
    unsigned reboot_timeout;        /* seconds before an ignored ACPI reboot becomes a reset, 30 */
    unsigned lock_timeout;          /* seconds a request waits for a busy machine, 30 */
    unsigned lock_queue;            /* requests that may wait for one machine, 16 */
    bool memory_guard;              /* a start needs the host's free memory, true */

    /* [compat] */
    StateWords state_words;         /* libvirt */

    /* [inventory] */
    unsigned address_refresh;       /* seconds between address cache refreshes, 60; 0 = off */

    /* [boot] */
    char *backup_dir;               /* LOCALSTATEDIR "/lib/virtmcd/backups" */
    unsigned backup_keep;           /* 50 */
    bool live_update;               /* hand boot changes to the running QEMU, true */

    /* [auth] */
    char *users_file;               /* NULL = no authentication */
    char **anonymous_networks;      /* CIDRs served without credentials; NULL/empty = none */
    Role anonymous_role;            /* user or operator (never admin), user */
    char **anonymous_machines;      /* globs of the anonymous; default * */
    char *realm;                    /* "virtmcd" */
    DigestAlgo digest_algorithm;    /* md5 */
    BasicMode basic;                /* tls */
    unsigned nonce_timeout;         /* seconds a digest nonce lives, 300 */
    unsigned max_failures;          /* failed logins per window before 429; 0 = off; 10 */
    unsigned failure_window;        /* seconds, 60 */
    unsigned session_timeout;       /* Redfish SessionTimeout at start, seconds, 1800 */
    unsigned token_timeout;         /* idle life of a /api/v3 token, seconds, 604800 */

    /* [user "NAME"] */
    ConfUser *users;
    size_t n_users;

    /* [pool "NAME"] */
    ConfPool *pools;
    size_t n_pools;
} Conf;

/* Collected "FILE:LINE: message" strings. */
typedef struct ConfErrors {
    char **msgs;
    size_t n;
} ConfErrors;

Conf *conf_new(void); /* every default; NULL on out of memory */
void conf_free(Conf *c);
static inline void conf_freep(Conf **c)
{
    conf_free(*c);
}

/* Parse a file or a string into c (which holds defaults first).  Every
 * problem (syntax, unknown section or key, bad value) is appended to errs as
 * "NAME:LINE: message".  Returns 0, -EINVAL when errs got anything, or
 * -errno when the file cannot be read (errs also says so). */
int conf_load_file(Conf *c, const char *path, ConfErrors *errs);
int conf_load_string(Conf *c, const char *text, const char *name, ConfErrors *errs);
/* Checks that need the whole file: both TLS files or none, a pool's host
 * names a [host], a pool's host is required with several hosts, lifetime <=
 * max_lifetime, listen parses.  Appends to errs; returns 0 or -EINVAL. */
int conf_check(const Conf *c, ConfErrors *errs);
void conf_errors_clear(ConfErrors *errs);

const ConfUser *conf_find_user(const Conf *c, const char *name);
const ConfPool *conf_find_pool(const Conf *c, const char *name);

/* Listen address, parsed: ADDR:PORT, [IPv6]:PORT, or unix:/path. */
typedef struct ListenAddr {
    bool is_unix;
    char path[108];  /* unix socket path */
    char host[64];   /* numeric address or name, brackets removed */
    unsigned port;
} ListenAddr;
int conf_parse_listen(const char *s, ListenAddr *ret);
/* The same, with port 0 allowed (--listen ADDR:0: the kernel picks one). */
int conf_parse_listen_any(const char *s, ListenAddr *ret);

const char *role_to_string(Role r);
Role role_from_string(const char *s);
const char *basic_mode_to_string(BasicMode m);
BasicMode basic_mode_from_string(const char *s);
const char *digest_algo_to_string(DigestAlgo a);
DigestAlgo digest_algo_from_string(const char *s);
const char *clone_mode_to_string(CloneMode m);
CloneMode clone_mode_from_string(const char *s);

/* The key table, for the man-page test and --help: calls fn for every
 * section ("server", "host", "user", "pool", ...) and key. */
typedef void (*ConfKeyFn)(const char *section, const char *key, const char *default_value,
                          void *userdata);
void conf_keys_foreach(ConfKeyFn fn, void *userdata);
