/* test-session.c: the Redfish session store: tokens and their lookup,
 * logout, idle expiry, the caps (per user, then the table) and which
 * session makes room, the purge of a reload, and SessionTimeout across
 * reloads. */
#include "config.h"

#include <errno.h>
#include <time.h>

#include "log.h"
#include "session.h"
#include "tap.h"
#include "util.h"

static bool keep_all_but_x(const char *user, void *userdata)
{
    (void)userdata;
    return !streq(user, "x");
}

static bool keep_none(const char *user, void *userdata)
{
    (void)user;
    (void)userdata;
    return false;
}

/* A Redfish session: SessionTimeout applies. */
static int session_open_r(const char *user, char token[SESSION_TOKEN_LEN + 1], SessionInfo *ret)
{
    return session_open(user, 0, token, ret);
}

int main(void)
{
    char tok[SESSION_TOKEN_LEN + 1], tok2[SESSION_TOKEN_LEN + 1], first[SESSION_TOKEN_LEN + 1];
    SessionInfo s, s2, got;
    SessionInfo *v = NULL;
    int n;

    log_setup(LOG_TARGET_STDERR, LOG_WARNING);

    /* Open, use, close. */
    CHECK_INT(session_open_r("alice", tok, &s), 0);
    CHECK_INT(strlen(tok), SESSION_TOKEN_LEN);
    CHECK_INT(strspn(tok, "0123456789abcdef"), SESSION_TOKEN_LEN);
    CHECK_INT(strlen(s.id), SESSION_ID_LEN);
    CHECK_STR(s.user, "alice");
    CHECK_INT(session_open_r("alice", tok2, &s2), 0);
    CHECK(strcmp(tok, tok2) != 0);
    CHECK(strcmp(s.id, s2.id) != 0);
    CHECK_INT(session_use(tok, &got), 0);
    CHECK_STR(got.id, s.id);
    CHECK_STR(got.user, "alice");
    CHECK_INT(session_get(s2.id, &got), 0);
    /* Not a token: another one, another shape, upper case. */
    tok[0] = tok[0] == '0' ? '1' : '0';
    CHECK_INT(session_use(tok, &got), -ENOENT);
    CHECK_INT(session_use("", &got), -ENOENT);
    CHECK_INT(session_use("abc", &got), -ENOENT);
    memcpy(first, tok2, sizeof(first));
    for (char *p = first; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    CHECK_INT(session_use(first, &got), strcmp(first, tok2) ? -ENOENT : 0);
    CHECK_INT(session_close(s2.id), 0);
    CHECK_INT(session_use(tok2, &got), -ENOENT);
    CHECK_INT(session_close(s2.id), -ENOENT);
    CHECK_INT(session_get(s2.id, &got), -ENOENT);
    {
        char longname[200];

        memset(longname, 'n', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        CHECK_INT(session_open_r(longname, tok, &s), -EINVAL);
    }

    /* Idle expiry: a timeout of 0 s expires everything at once, but for a
     * session with its own timeout (a vmpooler token). */
    CHECK_INT(session_open_r("bob", tok, &s), 0);
    CHECK_INT(session_open("bob", 3600, tok2, &s2), 0);
    session_set_timeout(0);
    {
        struct timespec ts = { 0, 2000000 };

        nanosleep(&ts, NULL);
    }
    CHECK_INT(session_use(tok2, &got), 0);
    CHECK_INT(got.idle_timeout_s, 3600);
    CHECK_INT(session_close(s2.id), 0);
    CHECK_INT(session_use(tok, &got), -ETIME);
    CHECK_INT(session_use(tok, &got), -ENOENT);
    n = session_list(&v);
    CHECK_INT(n, 0);
    free(v);
    session_set_timeout(1800);

    /* A user at its cap makes room among its own: its oldest goes. */
    CHECK_INT(session_open_r("u", first, &s), 0);
    for (int i = 1; i < SESSION_MAX_PER_USER; i++)
        CHECK_INT(session_open_r("u", tok, &s2), 0);
    CHECK_INT(session_open_r("other", tok2, &s2), 0);
    CHECK_INT(session_use(first, &got), 0); /* still there, and now the most recent use */
    CHECK_INT(session_open_r("u", tok, &s2), 0);
    CHECK_INT(session_use(first, &got), 0); /* another one of u's made room */
    CHECK_INT(session_use(tok2, &got), 0);  /* other users are never touched */
    n = session_list(&v);
    CHECK_INT(n, SESSION_MAX_PER_USER + 1);
    for (int i = 1; i < n; i++)
        CHECK(v[i - 1].created_usec <= v[i].created_usec);
    free(v);

    /* A full table: the least recently used session of anyone. */
    CHECK_INT(session_purge(keep_none, NULL), SESSION_MAX_PER_USER + 1);
    CHECK_INT(session_open_r("x", first, &s), 0);
    for (int i = 1; i < SESSION_MAX; i++) {
        char user[16];

        snprintf(user, sizeof(user), "user%d", i % 32);
        CHECK_INT(session_open_r(user, tok, &s2), 0);
    }
    CHECK_INT(session_open_r("late", tok2, &s2), 0);
    CHECK_INT(session_use(first, &got), -ENOENT);
    CHECK_INT(session_use(tok2, &got), 0);
    n = session_list(&v);
    CHECK_INT(n, SESSION_MAX);
    free(v);

    /* The purge of a reload. */
    CHECK_INT(session_open_r("x", first, &s), 0);
    CHECK_INT(session_purge(keep_all_but_x, NULL), 1);
    CHECK_INT(session_use(first, &got), -ENOENT);
    CHECK_INT(session_use(tok2, &got), 0);
    CHECK_INT(session_purge(keep_none, NULL), SESSION_MAX - 1);

    /* SessionTimeout: the file's value at start; a PATCH survives a reload
     * that leaves the key alone, not one that changes it. */
    session_configure(1800);
    CHECK_INT(session_timeout(), 1800);
    session_set_timeout(30);
    session_configure(1800);
    CHECK_INT(session_timeout(), 30);
    session_configure(600);
    CHECK_INT(session_timeout(), 600);
    return tap_done();
}
