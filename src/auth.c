/* auth.c: the users file, Digest and Basic, throttling of failures, the
 * cross-site and Host checks, roles and the machine ACL.
 *
 * Owns the users (immutable once loaded), the hashing (GnuTLS, which
 * libmicrohttpd already uses for TLS), the Digest nonces and their counts,
 * and the failure counts per address and user.  It never logs a secret: not
 * a password, not an HA1, not an Authorization header. */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <strings.h>
#include <gnutls/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>

#include "auth.h"
#include "log.h"
#include "metrics.h"
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
        if (!u->v[u->n].name || hex_decode(ha1, hl, u->v[u->n].ha1) < 0) {
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

bool users_has(const Users *u, const char *name)
{
    return find_user(u, name) != NULL;
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

/* ---- throttling of failed logins ----
 *
 * One slot per client address ("a:ADDR") and per user name given ("u:NAME",
 * known or not, so that the answers cannot tell users apart).  max_failures
 * failures within failure_window seconds block the key for failure_window
 * seconds: its requests get 429 and Retry-After, and no password is checked
 * meanwhile, so guessing is slowed to max_failures per window.  The first
 * failures of a window are logged one by one; once a key is throttled, one
 * line says so and one line when it is released counts what was refused, and
 * a key that is throttled again right after its release is logged only in
 * those lines.  The table is bounded: a full table reuses the slot used
 * longest ago, so a flood of made-up user names costs memory once. */
#define STRIKE_SLOTS 2048

typedef struct Strike {
    char key[136];        /* "" = free */
    uint64_t window_start; /* usec */
    uint64_t blocked_until;
    uint64_t released_at;
    uint64_t last;
    unsigned failures;
    unsigned refused;     /* requests refused while blocked */
} Strike;

static pthread_mutex_t strikes_lock = PTHREAD_MUTEX_INITIALIZER;
static Strike strikes[STRIKE_SLOTS];

/* Open addressing from the key's hash: a lookup on every authenticated
 * request probes a slot or two, not the whole table.  Slots are never
 * emptied, so a probe may stop at the first empty one; a full table is
 * searched whole, and there the slot used longest ago makes room. */
static Strike *strike_find(const char *key, bool create, uint64_t now)
{
    uint64_t h = fnv1a64(key, strlen(key));
    Strike *oldest = NULL, *e;
    size_t i;

    for (size_t k = 0; k < STRIKE_SLOTS; k++) {
        i = (size_t)((h + k) % STRIKE_SLOTS);
        e = &strikes[i];
        if (!e->key[0]) {
            if (!create)
                return NULL;
            *e = (Strike){ .last = now };
            snprintf(e->key, sizeof(e->key), "%s", key);
            return e;
        }
        if (streq(e->key, key))
            return e;
    }
    if (!create)
        return NULL;
    for (i = 0; i < STRIKE_SLOTS; i++)
        if (!oldest || strikes[i].last < oldest->last)
            oldest = &strikes[i];
    if (oldest->blocked_until > now)
        log_notice("Forgetting the throttled %s to make room (%u requests refused)", oldest->key,
                   oldest->refused);
    *oldest = (Strike){ .last = now };
    snprintf(oldest->key, sizeof(oldest->key), "%s", key);
    return oldest;
}

/* Seconds the key stays blocked; 0 when it is not. */
static unsigned strike_blocked(const char *key, uint64_t now)
{
    unsigned left = 0;
    Strike *e;

    pthread_mutex_lock(&strikes_lock);
    e = strike_find(key, false, now);
    if (e && e->blocked_until) {
        if (e->blocked_until > now) {
            e->refused++;
            e->last = now;
            left = (unsigned)((e->blocked_until - now + 999999u) / 1000000u);
        } else {
            log_notice("No longer throttling %s: %u requests refused meanwhile", e->key,
                       e->refused);
            e->blocked_until = 0;
            e->released_at = now;
            e->failures = 0;
            e->refused = 0;
            e->window_start = now;
        }
    }
    pthread_mutex_unlock(&strikes_lock);
    return left;
}

/* Count a failure; returns whether to log it on a line of its own. */
static bool strike_fail(const char *key, const Conf *conf, uint64_t now)
{
    uint64_t window = (uint64_t)conf->failure_window * 1000000u;
    bool log_it;
    Strike *e;

    if (conf->max_failures == 0)
        return true;
    pthread_mutex_lock(&strikes_lock);
    e = strike_find(key, true, now);
    if (e->blocked_until && e->blocked_until <= now) {
        log_notice("No longer throttling %s: %u requests refused meanwhile", e->key, e->refused);
        e->blocked_until = 0;
        e->released_at = now;
        e->refused = 0;
        e->failures = 0;
        e->window_start = now;
    }
    if (e->blocked_until) {
        /* Checked in parallel before the block began. */
        e->refused++;
        pthread_mutex_unlock(&strikes_lock);
        return false;
    }
    if (now - e->window_start >= window) {
        e->window_start = now;
        e->failures = 0;
    }
    e->failures++;
    e->last = now;
    log_it = !(e->released_at && now - e->released_at < window);
    if (e->failures >= conf->max_failures) {
        e->blocked_until = now + window;
        log_warning("Throttling %s: %u failed logins in %u s; its requests get 429 for %u s",
                    e->key, e->failures, conf->failure_window, conf->failure_window);
    }
    pthread_mutex_unlock(&strikes_lock);
    return log_it;
}

static void strike_key(char *buf, size_t size, char kind, const char *name)
{
    snprintf(buf, size, "%c:%s", kind, name);
}

/* The scheme a refused request tried, for the failure counters. */
static const char *scheme_of(Request *req)
{
    const char *authz = http_header(req, "Authorization");

    if (http_header(req, "X-Auth-Token"))
        return "token";
    if (!authz)
        return "password"; /* a password in a body: a Redfish session login */
    if (strncasecmp(authz, "Digest ", 7) == 0)
        return "digest";
    if (strncasecmp(authz, "Basic ", 6) == 0)
        return "basic";
    return "other";
}

static const char *const reason_table[] = {
    [AUTH_BAD] = "bad_credentials",       [AUTH_STALE] = "stale_nonce",
    [AUTH_BASIC_REFUSED] = "basic_refused", [AUTH_THROTTLED] = "throttled",
    [AUTH_NOT_ALLOWED] = "not_allowed",   [AUTH_TOKEN_BAD] = "bad_token",
};

static void count_refusal(Request *req, AuthResult r)
{
    if ((size_t)r < ELEMENTSOF(reason_table) && reason_table[r])
        metrics_auth_failure(r == AUTH_NOT_ALLOWED && !http_header(req, "Authorization")
                                 ? "none"
                                 : scheme_of(req),
                             reason_table[r]);
}

static AuthResult fail(Request *req, const Conf *conf, AuthResult r, const char *user,
                       const char *why)
{
    char key[136];
    uint64_t now = now_usec();
    bool log_it;

    atomic_fetch_add(&failures_total, 1);
    count_refusal(req, r);
    strike_key(key, sizeof(key), 'a', req->peer);
    log_it = strike_fail(key, conf, now);
    if (user) {
        strike_key(key, sizeof(key), 'u', user);
        log_it = strike_fail(key, conf, now) && log_it;
    }
    if (log_it)
        log_warning("Authentication failed from %s for user '%s' on %s %s: %s", req->peer,
                    user ? user : "-", req->method_str, req->path, why);
    return r;
}

static AuthResult throttled(const char *peer, const char *user, Identity *ret)
{
    char key[136];
    unsigned left;

    strike_key(key, sizeof(key), 'a', peer);
    left = strike_blocked(key, now_usec());
    if (!left && user) {
        strike_key(key, sizeof(key), 'u', user);
        left = strike_blocked(key, now_usec());
    }
    if (!left)
        return AUTH_OK;
    *ret = (Identity){ .retry_after = left };
    return AUTH_THROTTLED;
}

/* ---- Digest (RFC 7616), verified here ----
 *
 * libmicrohttpd 0.9.75 (Debian 12) cannot be used for this: it resets a
 * nonce's count when a request says nc=00000000 and stores a new count
 * before it checks the response, so a captured request can be replayed at
 * will; and its nonce is a hash of the second, method, URL and realm only,
 * so clients asking in the same second share one nonce and one count (lost
 * logins, with no stale=true to retry on), while any flood of challenges
 * pushes real clients' nonces out of its table.
 *
 * A nonce here is T || R || MAC: T the issue time (monotonic usec), R 16
 * random bytes, MAC = HMAC-SHA-256(secret, T || R || algorithm || realm)
 * cut to 16 bytes, the secret drawn once per process.  So each challenge
 * gets a nonce of its own that nobody can predict, and a nonce we issued is
 * recognised (and its age known) without storing anything: a challenge
 * costs no memory, and a flood of challenges cannot push anything out.
 *
 * State is kept only for nonces that have been used successfully: the last
 * nonce count accepted.  A count is accepted only after the response is
 * verified, and only when it is greater than the last one accepted, so a
 * replayed request (same nc) and a forged count (nc=0 or any other with a
 * wrong response) change nothing.  The table is bounded; when it must drop
 * a nonce still in use, it raises a watermark to that nonce's issue time.
 * A valid nonce that is not in the table is then either new (issued after
 * the watermark: it cannot have been used, since every use is stored until
 * it is dropped, and a drop raises the watermark past it) or possibly used
 * before (issued at or before the watermark): the first is accepted as a
 * first use, the second gets stale=true and the client asks again.  Only
 * successful logins fill the table, so only someone who knows a password can
 * push other clients' nonces out, and then they get stale=true, never a
 * replay. */
#define NONCE_RAND 16
#define NONCE_MAC 16
#define NONCE_BYTES (8 + NONCE_RAND + NONCE_MAC)
#define NONCE_SLOTS 8192
#define NONCE_PROBE 32

typedef struct NonceUse {
    uint8_t rnd[NONCE_RAND];
    uint64_t issued; /* 0 = free */
    uint64_t last_used;
    uint32_t nc;
} NonceUse;

static pthread_once_t secret_once = PTHREAD_ONCE_INIT;
static uint8_t secret[32];
static char opaque[33];
static bool secret_ok;
static pthread_mutex_t nonces_lock = PTHREAD_MUTEX_INITIALIZER;
static NonceUse nonces[NONCE_SLOTS];
static uint64_t nonce_watermark;

static void secret_init(void)
{
    uint8_t mac[32];

    if (gnutls_rnd(GNUTLS_RND_KEY, secret, sizeof(secret)) < 0)
        return;
    if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, sizeof(secret), "opaque", 6, mac) < 0)
        return;
    hex_encode(mac, 16, opaque);
    secret_ok = true;
}

static int nonce_mac(const uint8_t *tr, bool sha256, const char *realm, uint8_t *ret)
{
    uint8_t buf[8 + NONCE_RAND + 1 + 256], mac[32];
    size_t rl = strnlen(realm, 256);

    memcpy(buf, tr, 8 + NONCE_RAND);
    buf[8 + NONCE_RAND] = sha256 ? 'S' : 'M';
    memcpy(buf + 8 + NONCE_RAND + 1, realm, rl);
    if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, sizeof(secret), buf, 8 + NONCE_RAND + 1 + rl,
                         mac) < 0)
        return -EIO;
    memcpy(ret, mac, NONCE_MAC);
    return 0;
}

static int nonce_new(bool sha256, const char *realm, char ret[2 * NONCE_BYTES + 1])
{
    uint8_t n[NONCE_BYTES];
    uint64_t t = now_usec();

    pthread_once(&secret_once, secret_init);
    if (!secret_ok)
        return -EIO;
    for (size_t i = 0; i < 8; i++)
        n[i] = (uint8_t)(t >> (56 - 8 * i));
    if (gnutls_rnd(GNUTLS_RND_RANDOM, n + 8, NONCE_RAND) < 0 || nonce_mac(n, sha256, realm,
                                                                        n + 8 + NONCE_RAND) < 0)
        return -EIO;
    hex_encode(n, sizeof(n), ret);
    return 0;
}

/* 0: one of ours and fresh (issue time and random part returned); -EINVAL:
 * not one of ours (forged, or from before a restart); -ESTALE: expired. */
static int nonce_check(const char *hex, bool sha256, const char *realm, unsigned timeout,
                       uint64_t *ret_issued, uint8_t *ret_rnd)
{
    uint8_t n[NONCE_BYTES], mac[NONCE_MAC];
    uint64_t t = 0, now = now_usec();

    pthread_once(&secret_once, secret_init);
    if (!secret_ok || strlen(hex) != 2 * NONCE_BYTES || hex_decode(hex, 2 * NONCE_BYTES, n) < 0)
        return -EINVAL;
    if (nonce_mac(n, sha256, realm, mac) < 0 || !equal_ct(mac, n + 8 + NONCE_RAND, NONCE_MAC))
        return -EINVAL;
    for (size_t i = 0; i < 8; i++)
        t = t << 8 | n[i];
    if (t > now || now - t > (uint64_t)timeout * 1000000u)
        return -ESTALE;
    *ret_issued = t;
    memcpy(ret_rnd, n + 8, NONCE_RAND);
    return 0;
}

/* Accept nonce count nc for a verified response: 0, or -ESTALE (possibly
 * used before and forgotten since), or -EALREADY (nc is not above the last
 * count accepted: a replay). */
static int nonce_use(const uint8_t *rnd, uint64_t issued, uint32_t nc, unsigned timeout)
{
    uint64_t now = now_usec(), life = (uint64_t)timeout * 1000000u;
    size_t start = ((size_t)rnd[0] << 8 | rnd[1]) % NONCE_SLOTS;
    NonceUse *slot = NULL, *victim = NULL;
    int r = 0;

    pthread_mutex_lock(&nonces_lock);
    for (size_t i = 0; i < NONCE_PROBE; i++) {
        NonceUse *e = &nonces[(start + i) % NONCE_SLOTS];

        if (e->issued == issued && memcmp(e->rnd, rnd, NONCE_RAND) == 0) {
            slot = e;
            break;
        }
        /* A free or expired slot first, else the one used longest ago. */
        if (!victim || (victim->issued && (!e->issued || now - e->issued > life ||
                                           (now - victim->issued <= life &&
                                            e->last_used < victim->last_used))))
            victim = e;
    }
    if (slot) {
        if (nc <= slot->nc)
            r = -EALREADY;
        else {
            slot->nc = nc;
            slot->last_used = now;
        }
    } else if (issued <= nonce_watermark)
        r = -ESTALE;
    else {
        if (victim->issued && victim->issued > nonce_watermark)
            nonce_watermark = victim->issued;
        *victim = (NonceUse){ .issued = issued, .last_used = now, .nc = nc };
        memcpy(victim->rnd, rnd, NONCE_RAND);
    }
    pthread_mutex_unlock(&nonces_lock);
    return r;
}

/* The parameters of a Digest Authorization header. */
typedef struct DigestParams {
    char *username, *realm, *nonce, *uri, *response, *algorithm, *qop, *nc, *cnonce, *opaque,
        *userhash;
} DigestParams;

static void digest_params_clear(DigestParams *p)
{
    char **f[] = { &p->username, &p->realm, &p->nonce,  &p->uri,    &p->response, &p->algorithm,
                   &p->qop,      &p->nc,    &p->cnonce, &p->opaque, &p->userhash };

    for (size_t i = 0; i < ELEMENTSOF(f); i++) {
        free(*f[i]);
        *f[i] = NULL;
    }
}

/* RFC 7616 section 3.4 / RFC 9110 section 11: a comma-separated list of
 * name=token or name="quoted-string" (backslash escapes any character).
 * Unknown names are skipped; a name given twice refuses the header. */
static int digest_parse(const char *s, DigestParams *p)
{
    static const char *const names[] = { "username", "realm", "nonce",  "uri",
                                         "response", "algorithm", "qop", "nc",
                                         "cnonce", "opaque", "userhash" };
    char **fields[] = { &p->username, &p->realm, &p->nonce, &p->uri,
                        &p->response, &p->algorithm, &p->qop, &p->nc,
                        &p->cnonce, &p->opaque, &p->userhash };

    for (;;) {
        const char *name;
        size_t nlen;
        Buf v = { 0 };
        char **field = NULL;

        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        if (!*s)
            return 0;
        name = s;
        while (*s && *s != '=' && *s != ' ' && *s != '\t' && *s != ',')
            s++;
        nlen = (size_t)(s - name);
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s != '=' || nlen == 0)
            return -EINVAL;
        s++;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '"') {
            for (s++; *s && *s != '"'; s++) {
                if (*s == '\\' && s[1])
                    s++;
                buf_append(&v, s, 1);
            }
            if (*s != '"') {
                buf_free(&v);
                return -EINVAL;
            }
            s++;
        } else {
            const char *t = s;

            while (*s && *s != ',' && *s != ' ' && *s != '\t')
                s++;
            if (s == t) {
                buf_free(&v);
                return -EINVAL;
            }
            buf_append(&v, t, (size_t)(s - t));
        }
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s && *s != ',') {
            buf_free(&v);
            return -EINVAL;
        }
        if (!v.data)
            buf_append(&v, "", 0);
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
            if (strlen(names[i]) == nlen && strncasecmp(names[i], name, nlen) == 0)
                field = fields[i];
        if (field && *field) {
            buf_free(&v);
            return -EINVAL; /* a duplicate */
        }
        if (v.oom) {
            buf_free(&v);
            return -ENOMEM;
        }
        if (field)
            *field = buf_steal(&v);
        else
            buf_free(&v);
    }
}

static int digest_hash(bool sha256, const char *s, uint8_t *ret)
{
    return gnutls_hash_fast(sha256 ? GNUTLS_DIG_SHA256 : GNUTLS_DIG_MD5, s, strlen(s), ret) < 0
               ? -EIO
               : 0;
}

/* The expected response of RFC 7616 section 3.4.1, qop=auth. */
static int digest_expected(bool sha256, const uint8_t *ha1, const DigestParams *p,
                           const char *method, uint8_t *ret)
{
    size_t hl = sha256 ? 32 : 16;
    char ha1hex[65], ha2hex[65];
    uint8_t ha2[32];
    _cleanup_free_ char *a2 = strdup_printf("%s:%s", method, p->uri);
    _cleanup_free_ char *kd = NULL;
    int r;

    if (!a2)
        return -ENOMEM;
    r = digest_hash(sha256, a2, ha2);
    if (r < 0)
        return r;
    hex_encode(ha1, hl, ha1hex);
    hex_encode(ha2, hl, ha2hex);
    kd = strdup_printf("%s:%s:%s:%s:%s:%s", ha1hex, p->nonce, p->nc, p->cnonce, p->qop, ha2hex);
    explicit_bzero(ha1hex, sizeof(ha1hex));
    if (!kd)
        return -ENOMEM;
    r = digest_hash(sha256, kd, ret);
    explicit_bzero(kd, strlen(kd));
    return r;
}

static AuthResult digest_check(Request *req, const Conf *conf, const Users *users,
                               const char *params, Identity *ret)
{
    _cleanup_(digest_params_clear) DigestParams p = { 0 };
    bool sha256 = conf->digest_algorithm == DIGEST_SHA256;
    size_t hl = sha256 ? 32 : 16;
    uint8_t expected[32], given[32], rnd[NONCE_RAND];
    static const uint8_t no_ha1[32];
    unsigned long long nc;
    uint64_t issued = 0;
    const User *u;
    AuthResult t;
    int r;

    if (digest_parse(params, &p) < 0)
        return fail(req, conf, AUTH_BAD, NULL, "malformed Digest credentials");
    t = throttled(req->peer, p.username, ret);
    if (t != AUTH_OK)
        return t;
    if (!p.username || !p.realm || !p.nonce || !p.uri || !p.response)
        return fail(req, conf, AUTH_BAD, p.username, "incomplete Digest credentials");
    if (p.userhash && strcasecmp(p.userhash, "false") != 0)
        return fail(req, conf, AUTH_BAD, p.username, "userhash is not supported");
    if (!streq(p.realm, conf->realm))
        return fail(req, conf, AUTH_BAD, p.username, "wrong realm");
    if (p.algorithm ? strcasecmp(p.algorithm, sha256 ? "SHA-256" : "MD5") != 0 : sha256)
        return fail(req, conf, AUTH_BAD, p.username,
                    sha256 ? "the server asks for SHA-256" : "the server asks for MD5");
    if (!p.qop || strcasecmp(p.qop, "auth") != 0 || !p.cnonce || !p.nc)
        return fail(req, conf, AUTH_BAD, p.username, "qop=auth with nc and cnonce is required");
    /* The answer covers the request-target: it must be this request's. */
    if (!req->target || !streq(p.uri, req->target))
        return fail(req, conf, AUTH_BAD, p.username, "the uri is not the request's");
    if (strlen(p.nc) != 8 || p.nc[strspn(p.nc, "0123456789abcdefABCDEF")] ||
        (nc = strtoull(p.nc, NULL, 16)) == 0)
        return fail(req, conf, AUTH_BAD, p.username, "the nonce count is not 1 to ffffffff");
    if (strlen(p.response) != 2 * hl || hex_decode(p.response, 2 * hl, given) < 0)
        return fail(req, conf, AUTH_BAD, p.username, "malformed response");

    /* A nonce that is not ours, or expired: stale=true for every user,
     * known or not, before any password is looked at. */
    r = nonce_check(p.nonce, sha256, conf->realm, conf->nonce_timeout, &issued, rnd);
    if (r == 0 && p.opaque && !streq(p.opaque, opaque))
        r = -EINVAL;
    if (r < 0) {
        log_notice("Digest nonce from %s for user '%s' on %s %s is %s: stale challenge",
                   req->peer, p.username, req->method_str, req->path,
                   r == -ESTALE ? "expired" : "not one this process issued");
        return AUTH_STALE;
    }

    /* An unknown user costs the same hashing as a known one. */
    u = find_user(users, p.username);
    if (u && u->ha1_len != hl)
        u = NULL;
    r = digest_expected(sha256, u ? u->ha1 : no_ha1, &p, req->method_str, expected);
    if (r < 0)
        return fail(req, conf, AUTH_BAD, p.username, "cannot compute the Digest response");
    if (!equal_ct(expected, given, hl) || !u)
        return fail(req, conf, AUTH_BAD, p.username,
                    u ? "wrong password"
                      : find_user(users, p.username) ? "the user's hash is not in the algorithm "
                                                       "the server asks for"
                                                     : "unknown user");
    r = nonce_use(rnd, issued, (uint32_t)nc, conf->nonce_timeout);
    if (r == -EALREADY)
        return fail(req, conf, AUTH_STALE, p.username,
                    "nonce count not above the last one accepted (a replay?)");
    if (r < 0) {
        log_notice("Digest nonce from %s for user '%s' was forgotten: stale challenge", req->peer,
                   p.username);
        return AUTH_STALE;
    }
    fill_identity(conf, u->name, ret);
    return AUTH_OK;
}

bool auth_anonymous_network(const Conf *conf, const char *peer)
{
    for (size_t i = 0; conf->anonymous_networks && conf->anonymous_networks[i]; i++) {
        Cidr c;

        if (cidr_parse(conf->anonymous_networks[i], &c) == 0 && cidr_match(&c, peer))
            return true;
    }
    return false;
}

bool auth_anonymous_enabled(const Conf *conf)
{
    return conf->anonymous_networks && conf->anonymous_networks[0];
}

/* No users file: the anonymous admin -- unless virtmcd serves anonymous
 * networks, where everyone else is refused. */
static AuthResult protected_identity(Request *req, const Conf *conf, Identity *ret)
{
    if (auth_anonymous_enabled(conf) && !streq(req->peer, "unix"))
        return AUTH_NOT_ALLOWED;
    *ret = (Identity){ .anonymous = true, .role = ROLE_ADMIN };
    return AUTH_OK;
}

static AuthResult password_check(Request *req, const Conf *conf, const Users *users,
                                 const char *user, const char *password, Identity *ret)
{
    uint8_t ha1[32];
    size_t len = 0;
    const User *u;
    AuthResult t;
    bool ok;

    if (!users)
        return protected_identity(req, conf, ret);
    /* A password in a body crosses the wire as Basic's does. */
    if (!auth_basic_accepted(conf, req->tls))
        return fail(req, conf, AUTH_BASIC_REFUSED, NULL,
                    req->tls ? "passwords are refused ([auth] basic = never)"
                             : "a password in clear needs TLS ([auth] basic)");
    t = throttled(req->peer, user, ret);
    if (t != AUTH_OK)
        return t;
    u = find_user(users, user);
    ok = u && auth_ha1(user, conf->realm, password, u->ha1_len == 32, ha1, &len) == 0 &&
         len == u->ha1_len && equal_ct(ha1, u->ha1, len);
    explicit_bzero(ha1, sizeof(ha1));
    if (!ok)
        return fail(req, conf, AUTH_BAD, user, u ? "wrong password" : "unknown user");
    fill_identity(conf, u->name, ret);
    return AUTH_OK;
}

/* A Redfish session token.  Not counted towards throttling: 256 random
 * bits are not guessed, and a client whose sessions expired together (a
 * conductor driving many machines) must not lock its address out. */
static AuthResult token_check(Request *req, const Conf *conf, const Users *users,
                              const char *token, Identity *ret)
{
    SessionInfo s;
    AuthResult t;
    int r;

    t = throttled(req->peer, NULL, ret);
    if (t != AUTH_OK)
        return t;
    r = session_use(token, &s);
    if (r == 0 && (s.user[0] ? !find_user(users, s.user) : users != NULL)) {
        /* A reload removed the user just now; its purge closes the session. */
        (void)session_close(s.id);
        r = -ENOENT;
    }
    if (r < 0) {
        atomic_fetch_add(&failures_total, 1);
        count_refusal(req, AUTH_TOKEN_BAD);
        log_notice("Session token from %s on %s %s is %s", req->peer, req->method_str,
                   req->path, r == -ETIME ? "expired" : "unknown");
        return AUTH_TOKEN_BAD;
    }
    if (!s.user[0]) {
        t = protected_identity(req, conf, ret);
        if (t != AUTH_OK)
            return t;
    } else
        fill_identity(conf, s.user, ret);
    snprintf(ret->session, sizeof(ret->session), "%s", s.id);
    return AUTH_OK;
}

AuthResult auth_password(Request *req, const Conf *conf, const Users *users, const char *user,
                         const char *password, Identity *ret)
{
    AuthResult r = password_check(req, conf, users, user, password, ret);

    /* The other refusals were counted where they were decided (fail()). */
    if (r == AUTH_THROTTLED || r == AUTH_NOT_ALLOWED)
        count_refusal(req, r);
    return r;
}

static AuthResult check(Request *req, const Conf *conf, const Users *users, Identity *ret)
{
    const char *authz = http_header(req, "Authorization");
    const char *token = http_header(req, "X-Auth-Token");
    AuthResult t;

    if (token)
        return token_check(req, conf, users, token, ret);
    /* Credentials, when given, always win; without them a peer of
     * [auth] anonymous_networks gets the anonymous role and globs. */
    if (!authz && auth_anonymous_network(conf, req->peer)) {
        *ret = (Identity){ .anonymous = true, .role = conf->anonymous_role,
                           .machines = conf->anonymous_machines };
        return AUTH_OK;
    }
    if (!users)
        return protected_identity(req, conf, ret);
    if (!authz)
        return AUTH_MISSING; /* the normal first step of Digest: not a failure */
    /* A blocked address is refused before anything else is looked at. */
    t = throttled(req->peer, NULL, ret);
    if (t != AUTH_OK)
        return t;

    if (strncasecmp(authz, "Digest ", 7) == 0)
        return digest_check(req, conf, users, authz + 7, ret);
    if (strncasecmp(authz, "Basic ", 6) == 0) {
        _cleanup_free_ char *name = NULL, *pass = NULL;

        if (!auth_basic_accepted(conf, req->tls))
            return fail(req, conf, AUTH_BASIC_REFUSED, NULL,
                        req->tls ? "Basic is disabled" : "Basic needs TLS");
        if (http_basic_credentials(req, &name, &pass) < 0)
            return fail(req, conf, AUTH_BAD, NULL, "malformed Basic credentials");
        t = password_check(req, conf, users, name, pass, ret);
        explicit_bzero(pass, strlen(pass));
        return t;
    }
    return fail(req, conf, AUTH_BAD, NULL, "unsupported authentication scheme");
}

/* A quoted-string of RFC 9110 section 5.6.4. */
static void buf_quoted(Buf *b, const char *s)
{
    buf_puts(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_puts(b, "\\");
        buf_append(b, s, 1);
    }
    buf_puts(b, "\"");
}

void auth_challenge(Request *req, const Conf *conf, bool stale, Reply *rep)
{
    bool sha256 = conf->digest_algorithm == DIGEST_SHA256;
    char nonce[2 * NONCE_BYTES + 1];
    _cleanup_free_ char *digest = NULL, *basic = NULL;
    Buf b = { 0 };

    if (nonce_new(sha256, conf->realm, nonce) == 0) {
        buf_puts(&b, "Digest realm=");
        buf_quoted(&b, conf->realm);
        buf_printf(&b, ", qop=\"auth\", algorithm=%s, nonce=\"%s\", opaque=\"%s\"%s",
                   sha256 ? "SHA-256" : "MD5", nonce, opaque, stale ? ", stale=true" : "");
        digest = buf_steal(&b);
        if (!digest || reply_add_header(rep, "WWW-Authenticate", digest) < 0)
            rep->oom = true;
    } else
        log_error("Cannot make a Digest nonce: no random bytes from GnuTLS");
    if (auth_basic_accepted(conf, req->tls)) {
        buf_puts(&b, "Basic realm=");
        buf_quoted(&b, conf->realm);
        buf_puts(&b, ", charset=\"UTF-8\"");
        basic = buf_steal(&b);
        if (!basic || reply_add_header(rep, "WWW-Authenticate", basic) < 0)
            rep->oom = true;
    }
}

/* ---- requests from browsers ---- */

/* Whether host[:port] of a Host header names this listener. */
static bool host_is_ours(const Conf *conf, const char *value)
{
    char name[300];
    const char *port = NULL;
    ListenAddr la;
    size_t n;

    if (value[0] == '[') {
        const char *end = strchr(value, ']');

        if (!end)
            return false;
        n = (size_t)(end - value) + 1;
        if (end[1] == ':')
            port = end + 2;
        else if (end[1])
            return false;
    } else {
        n = strcspn(value, ":");
        if (value[n] == ':')
            port = value + n + 1;
    }
    if (n == 0 || n >= sizeof(name))
        return false;
    memcpy(name, value, n);
    name[n] = '\0';
    if (port) {
        unsigned long long p;

        if (parse_uint(port, 1, 65535, &p) < 0 || p != http_port())
            return false;
    }
    if (strcasecmp(name, "localhost") == 0 || streq(name, "127.0.0.1") || streq(name, "[::1]"))
        return true;
    if (conf_parse_listen(conf->listen, &la) == 0 && !la.is_unix && la.host[0]) {
        if (strchr(la.host, ':'))
            return n == strlen(la.host) + 2 && strncasecmp(name + 1, la.host, n - 2) == 0;
        return strcasecmp(name, la.host) == 0;
    }
    return false;
}

unsigned auth_check_origin(Request *req, const Conf *conf, bool protected_mode, bool acting,
                           const char **ret_why)
{
    const char *host = http_header(req, "Host");
    const char *site = http_header(req, "Sec-Fetch-Site");
    const char *origin = http_header(req, "Origin");

    /* DNS rebinding: a page of evil.example, its name now pointing at
     * 127.0.0.1, reaches a listener that asks no password.  Its requests
     * still carry Host: evil.example. */
    if (protected_mode && host && !http_listen_is_unix() && !host_is_ours(conf, host)) {
        *ret_why = "without authentication virtmcd answers only to its own names "
                   "(localhost, 127.0.0.1, [::1] or the listen address, with its port) in Host";
        return 421;
    }
    if (!acting)
        return 0;
    /* Fetch metadata: a browser says where a request comes from; "same-site"
     * includes another port of localhost. */
    if (site && (strcasecmp(site, "cross-site") == 0 || strcasecmp(site, "same-site") == 0)) {
        *ret_why = "actions are refused on requests a browser sends from another site "
                   "(Sec-Fetch-Site)";
        return 403;
    }
    if (origin) {
        const char *scheme = req->tls ? "https://" : "http://";
        size_t sl = strlen(scheme);

        if (!host || strncasecmp(origin, scheme, sl) != 0 || strcasecmp(origin + sl, host) != 0) {
            *ret_why = "actions are refused on requests a browser sends from another origin "
                       "(Origin)";
            return 403;
        }
    }
    return 0;
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

AuthResult auth_check(Request *req, const Conf *conf, const Users *users, Identity *ret)
{
    AuthResult r = check(req, conf, users, ret);

    if (r == AUTH_THROTTLED || r == AUTH_NOT_ALLOWED)
        count_refusal(req, r);
    return r;
}
