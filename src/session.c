/* session.c: the Redfish session store: a fixed table of sessions, each
 * with the SHA-256 of its token, its user and its last use, under one mutex.
 *
 * It must never keep a token or log one, and never decide who may do what
 * (auth.c does, per request).  Expiry is lazy: a session idle longer than
 * the timeout is dropped when it is next looked at, or when the table is
 * walked to open, list or purge. */
#include "config.h"

#include <gnutls/crypto.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "session.h"
#include "util.h"

typedef struct Session {
    bool used;
    uint8_t hash[32]; /* SHA-256 of the token's text */
    SessionInfo info;
} Session;

/* The table and everything in it. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static Session table[SESSION_MAX];

static _Atomic unsigned timeout_s = 1800;
static _Atomic unsigned configured_s; /* the file's value at the last load; 0 = none yet */

unsigned session_timeout(void)
{
    return atomic_load(&timeout_s);
}

void session_set_timeout(unsigned seconds)
{
    atomic_store(&timeout_s, seconds);
}

void session_configure(unsigned configured)
{
    unsigned before = atomic_exchange(&configured_s, configured);

    if (before != configured) {
        if (before && atomic_load(&timeout_s) != configured)
            log_notice("SessionTimeout is now %u s ([auth] session_timeout changed)", configured);
        atomic_store(&timeout_s, configured);
    }
}

static bool equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;

    for (size_t i = 0; i < n; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

static void drop(Session *s, const char *why)
{
    if (why)
        log_notice("Session %s of user '%s' ended: %s", s->info.id,
                   s->info.user[0] ? s->info.user : "anonymous", why);
    explicit_bzero(s, sizeof(*s));
}

static bool expired(const Session *s, uint64_t now)
{
    uint64_t idle = (uint64_t)(s->info.idle_timeout_s ? s->info.idle_timeout_s
                                                       : atomic_load(&timeout_s)) *
                    1000000u;

    return now > s->info.last_used_usec && now - s->info.last_used_usec > idle;
}

/* Drop the expired sessions (lock held). */
static void sweep(uint64_t now)
{
    for (size_t i = 0; i < SESSION_MAX; i++)
        if (table[i].used && expired(&table[i], now))
            drop(&table[i], "idle longer than SessionTimeout");
}

int session_open(const char *user, unsigned idle_timeout_s, char ret_token[SESSION_TOKEN_LEN + 1],
                 SessionInfo *ret)
{
    uint8_t tok[SESSION_TOKEN_LEN / 2], id[SESSION_ID_LEN / 2], hash[32];
    char text[SESSION_TOKEN_LEN + 1];
    Session *slot = NULL, *lru = NULL, *user_lru = NULL;
    size_t mine = 0;
    uint64_t now = now_usec();

    if (strlen(user) >= sizeof(ret->user))
        return -EINVAL;
    if (gnutls_rnd(GNUTLS_RND_KEY, tok, sizeof(tok)) < 0 ||
        gnutls_rnd(GNUTLS_RND_NONCE, id, sizeof(id)) < 0)
        return -EIO;
    hex_encode(tok, sizeof(tok), text);
    explicit_bzero(tok, sizeof(tok));
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, text, SESSION_TOKEN_LEN, hash) < 0) {
        explicit_bzero(text, sizeof(text));
        return -EIO;
    }

    pthread_mutex_lock(&lock);
    sweep(now);
    for (size_t i = 0; i < SESSION_MAX; i++) {
        Session *s = &table[i];

        if (!s->used) {
            if (!slot)
                slot = s;
            continue;
        }
        if (!lru || s->info.last_used_usec < lru->info.last_used_usec)
            lru = s;
        if (streq(s->info.user, user)) {
            mine++;
            if (!user_lru || s->info.last_used_usec < user_lru->info.last_used_usec)
                user_lru = s;
        }
    }
    /* A user at its cap makes room among its own sessions, so one user's
     * logins never end another user's session while the table has room. */
    if (mine >= SESSION_MAX_PER_USER) {
        drop(user_lru, "the user's least recently used session, to make room for a new one");
        if (!slot)
            slot = user_lru;
    } else if (!slot) {
        drop(lru, "the least recently used session, to make room (the table is full)");
        slot = lru;
    }
    slot->used = true;
    memcpy(slot->hash, hash, sizeof(hash));
    hex_encode(id, sizeof(id), slot->info.id);
    snprintf(slot->info.user, sizeof(slot->info.user), "%s", user);
    slot->info.created_usec = slot->info.last_used_usec = now;
    slot->info.idle_timeout_s = idle_timeout_s;
    *ret = slot->info;
    pthread_mutex_unlock(&lock);

    memcpy(ret_token, text, sizeof(text));
    explicit_bzero(text, sizeof(text));
    return 0;
}

int session_use(const char *token, SessionInfo *ret)
{
    uint8_t hash[32];
    uint64_t now = now_usec();
    int r = -ENOENT;

    /* Only our own shape is looked up: anything else is no token of ours. */
    if (strlen(token) != SESSION_TOKEN_LEN ||
        token[strspn(token, "0123456789abcdef")] != '\0')
        return -ENOENT;
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, token, SESSION_TOKEN_LEN, hash) < 0)
        return -EIO;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < SESSION_MAX; i++) {
        Session *s = &table[i];

        if (!s->used || !equal_ct(s->hash, hash, sizeof(hash)))
            continue;
        if (expired(s, now)) {
            drop(s, "idle longer than SessionTimeout");
            r = -ETIME;
            break;
        }
        s->info.last_used_usec = now;
        *ret = s->info;
        r = 0;
        break;
    }
    pthread_mutex_unlock(&lock);
    return r;
}

/* The live session with this Id (lock held). */
static Session *find_id(const char *id, uint64_t now)
{
    for (size_t i = 0; i < SESSION_MAX; i++) {
        Session *s = &table[i];

        if (s->used && streq(s->info.id, id)) {
            if (expired(s, now)) {
                drop(s, "idle longer than SessionTimeout");
                return NULL;
            }
            return s;
        }
    }
    return NULL;
}

int session_get(const char *id, SessionInfo *ret)
{
    Session *s;
    int r = -ENOENT;

    pthread_mutex_lock(&lock);
    s = find_id(id, now_usec());
    if (s) {
        *ret = s->info;
        r = 0;
    }
    pthread_mutex_unlock(&lock);
    return r;
}

int session_close(const char *id)
{
    Session *s;
    int r = -ENOENT;

    pthread_mutex_lock(&lock);
    s = find_id(id, now_usec());
    if (s) {
        drop(s, "logged out");
        r = 0;
    }
    pthread_mutex_unlock(&lock);
    return r;
}

static int by_created(const void *a, const void *b)
{
    const SessionInfo *x = a, *y = b;

    if (x->created_usec != y->created_usec)
        return x->created_usec < y->created_usec ? -1 : 1;
    return strcmp(x->id, y->id);
}

int session_list(SessionInfo **ret)
{
    SessionInfo *v;
    size_t n = 0;

    v = calloc(SESSION_MAX, sizeof(*v));
    if (!v)
        return -ENOMEM;
    pthread_mutex_lock(&lock);
    sweep(now_usec());
    for (size_t i = 0; i < SESSION_MAX; i++)
        if (table[i].used)
            v[n++] = table[i].info;
    pthread_mutex_unlock(&lock);
    qsort(v, n, sizeof(*v), by_created);
    *ret = v;
    return (int)n;
}

size_t session_purge(SessionKeepFn keep, void *userdata)
{
    size_t n = 0;

    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < SESSION_MAX; i++) {
        if (!table[i].used || keep(table[i].info.user, userdata))
            continue;
        drop(&table[i], table[i].info.user[0]
                            ? "the user is no longer in the users file"
                            : "a users file now asks for credentials");
        n++;
    }
    pthread_mutex_unlock(&lock);
    return n;
}
