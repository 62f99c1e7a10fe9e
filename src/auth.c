/* auth.c: the users file, Digest and Basic, roles and the machine ACL.
 *
 * Owns the users (immutable once loaded) and the hashing (GnuTLS, which
 * libmicrohttpd already uses for TLS).  It never logs a secret: not a
 * password, not an HA1, not an Authorization header. */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <strings.h>
#include <gnutls/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>

#include "auth.h"
#include "log.h"
#include "util.h"

typedef struct User {
    char *name;
    uint8_t ha1[32];
    size_t ha1_len; /* 16 = MD5, 32 = SHA-256 */
} User;

struct Users {
    User *v;
    size_t n;
};

static _Atomic uint64_t failures_total;
static _Atomic uint64_t forbidden_total;

uint64_t auth_failures_total(void)
{
    return atomic_load(&failures_total);
}

uint64_t auth_forbidden_total(void)
{
    return atomic_load(&forbidden_total);
}

void auth_count_forbidden(void)
{
    atomic_fetch_add(&forbidden_total, 1);
}

void users_free(Users *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->n; i++) {
        explicit_bzero(u->v[i].ha1, sizeof(u->v[i].ha1));
        free(u->v[i].name);
    }
    free(u->v);
    free(u);
}

size_t users_count(const Users *u)
{
    return u ? u->n : 0;
}

static int unhex_bytes(const char *s, size_t len, uint8_t *out)
{
    for (size_t i = 0; i < len; i += 2) {
        unsigned v;

        if (sscanf(s + i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", s[i]) ||
            !strchr("0123456789abcdefABCDEF", s[i + 1]))
            return -EINVAL;
        out[i / 2] = (uint8_t)v;
    }
    return 0;
}

static void add_error(ConfErrors *errs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_error(ConfErrors *errs, const char *fmt, ...)
{
    va_list ap;
    char *msg, **nv;

    va_start(ap, fmt);
    msg = strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!msg)
        return;
    nv = realloc(errs->msgs, (errs->n + 1) * sizeof(char *));
    if (!nv) {
        free(msg);
        return;
    }
    errs->msgs = nv;
    errs->msgs[errs->n++] = msg;
}

int users_load(const char *path, const char *realm, Users **ret, ConfErrors *errs)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    _cleanup_free_ char *text = NULL;
    Users *u;
    struct stat st;
    char *line, *save = NULL;
    unsigned lineno = 0;
    size_t before = errs->n;
    int r;

    if (fd < 0) {
        r = -errno;
        add_error(errs, "%s: cannot open the users file: %s", path, strerror(-r));
        return r;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        add_error(errs, "%s: the users file is not a regular file", path);
        return -EINVAL;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        add_error(errs, "%s: the users file is accessible by group or others (mode %04o); "
                  "run 'chmod 600 %s'", path, (unsigned)(st.st_mode & 07777), path);
        return -EPERM;
    }
    r = read_file(path, 16 << 20, &text, NULL);
    if (r < 0) {
        add_error(errs, "%s: cannot read the users file: %s", path, strerror(-r));
        return r;
    }
    u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    for (line = text; line; line = save) {
        char *nl = strchr(line, '\n'), *c1, *c2, *ha1;
        size_t hl;
        User *nv;

        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        if (*line && line[strlen(line) - 1] == '\r')
            line[strlen(line) - 1] = '\0';
        if (!*line || *line == '#')
            continue;
        c1 = strchr(line, ':');
        c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c1 || !c2 || c1 == line) {
            add_error(errs, "%s:%u: expected user:realm:HA1", path, lineno);
            continue;
        }
        *c1 = *c2 = '\0';
        ha1 = c2 + 1;
        hl = strlen(ha1);
        if (!streq(c1 + 1, realm))
            continue;
        if ((hl != 32 && hl != 64) || strchr(ha1, ':')) {
            add_error(errs, "%s:%u: the hash of '%s' must be 32 (MD5) or 64 (SHA-256) hex "
                      "digits", path, lineno, line);
            continue;
        }
        if (strlen(line) >= sizeof(((Identity *)0)->user)) {
            add_error(errs, "%s:%u: user name too long", path, lineno);
            continue;
        }
        nv = realloc(u->v, (u->n + 1) * sizeof(User));
        if (!nv) {
            users_free(u);
            return -ENOMEM;
        }
        u->v = nv;
        u->v[u->n] = (User){ .name = strdup(line), .ha1_len = hl / 2 };
        if (!u->v[u->n].name || unhex_bytes(ha1, hl, u->v[u->n].ha1) < 0) {
            if (u->v[u->n].name)
                add_error(errs, "%s:%u: the hash of '%s' is not hexadecimal", path, lineno, line);
            free(u->v[u->n].name);
            continue;
        }
        u->n++;
    }
    explicit_bzero(text, strlen(text));
    if (errs->n > before) {
        users_free(u);
        return -EINVAL;
    }
    *ret = u;
    return 0;
}

static const User *find_user(const Users *u, const char *name)
{
    for (size_t i = 0; u && i < u->n; i++)
        if (streq(u->v[i].name, name))
            return &u->v[i];
    return NULL;
}

int auth_ha1(const char *user, const char *realm, const char *password, bool sha256,
             uint8_t *ret, size_t *ret_len)
{
    _cleanup_free_ char *s = strdup_printf("%s:%s:%s", user, realm, password);
    int r;

    if (!s)
        return -ENOMEM;
    r = gnutls_hash_fast(sha256 ? GNUTLS_DIG_SHA256 : GNUTLS_DIG_MD5, s, strlen(s), ret);
    explicit_bzero(s, strlen(s));
    if (r < 0)
        return -EIO;
    *ret_len = sha256 ? 32 : 16;
    return 0;
}

/* Compare in time independent of where the bytes differ. */
static bool equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;

    for (size_t i = 0; i < n; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

bool auth_basic_accepted(const Conf *conf, bool tls)
{
    return conf->basic == BASIC_ALWAYS || (conf->basic == BASIC_TLS && tls);
}

static void fill_identity(const Conf *conf, const char *user, Identity *ret)
{
    const ConfUser *cu = conf_find_user(conf, user);

    *ret = (Identity){ .role = cu ? cu->role : ROLE_USER, .machines = cu ? cu->machines : NULL };
    snprintf(ret->user, sizeof(ret->user), "%s", user);
}

static AuthResult fail(Request *req, AuthResult r, const char *user, const char *why)
{
    atomic_fetch_add(&failures_total, 1);
    log_warning("Authentication failed from %s for user '%s' on %s %s: %s", req->peer,
                user ? user : "-", req->method_str, req->path, why);
    return r;
}

AuthResult auth_check(Request *req, const Conf *conf, const Users *users, Identity *ret)
{
    const char *authz;

    if (!users) {
        *ret = (Identity){ .anonymous = true, .role = ROLE_ADMIN };
        return AUTH_OK;
    }
    authz = http_header(req, "Authorization");
    if (!authz)
        return AUTH_MISSING; /* the normal first step of Digest: not a failure */

    if (strncasecmp(authz, "Digest ", 7) == 0) {
        _cleanup_free_ char *name = http_digest_user(req);
        const User *u = name ? find_user(users, name) : NULL;
        bool sha256 = conf->digest_algorithm == DIGEST_SHA256;
        int r;

        if (!u)
            return fail(req, AUTH_BAD, name, "unknown user");
        if (u->ha1_len != (sha256 ? 32u : 16u))
            return fail(req, AUTH_BAD, name, sha256 ? "the user's hash is MD5; the server asks "
                                                      "for SHA-256"
                                                    : "the user's hash is SHA-256; the server "
                                                      "asks for MD5");
        r = http_digest_check(req, conf->realm, u->name, u->ha1, u->ha1_len, sha256,
                              conf->nonce_timeout);
        if (r == -ESTALE)
            return AUTH_STALE;
        if (r != 1)
            return fail(req, AUTH_BAD, name, "wrong password or replayed nonce");
        fill_identity(conf, u->name, ret);
        return AUTH_OK;
    }
    if (strncasecmp(authz, "Basic ", 6) == 0) {
        _cleanup_free_ char *name = NULL, *pass = NULL;
        uint8_t ha1[32];
        size_t len = 0;
        const User *u;
        bool ok;

        if (!auth_basic_accepted(conf, req->tls))
            return fail(req, AUTH_BASIC_REFUSED, NULL,
                        req->tls ? "Basic is disabled" : "Basic needs TLS");
        if (http_basic_credentials(req, &name, &pass) < 0)
            return fail(req, AUTH_BAD, NULL, "malformed Basic credentials");
        u = find_user(users, name);
        ok = u && auth_ha1(name, conf->realm, pass, u->ha1_len == 32, ha1, &len) == 0 &&
             len == u->ha1_len && equal_ct(ha1, u->ha1, len);
        explicit_bzero(pass, strlen(pass));
        explicit_bzero(ha1, sizeof(ha1));
        if (!ok)
            return fail(req, AUTH_BAD, name, u ? "wrong password" : "unknown user");
        fill_identity(conf, u->name, ret);
        return AUTH_OK;
    }
    return fail(req, AUTH_BAD, NULL, "unsupported authentication scheme");
}

void auth_challenge(Request *req, const Conf *conf, bool stale, Reply *rep)
{
    HttpChallenge ch = {
        .set = true,
        .sha256 = conf->digest_algorithm == DIGEST_SHA256,
        .stale = stale,
        .basic = auth_basic_accepted(conf, req->tls),
    };

    snprintf(ch.realm, sizeof(ch.realm), "%s", conf->realm);
    reply_set_challenge(rep, &ch);
}

bool auth_machine_visible(const Identity *id, const char *name)
{
    if (!id->machines)
        return true;
    for (size_t i = 0; id->machines[i]; i++)
        if (glob_match(id->machines[i], name))
            return true;
    return false;
}
