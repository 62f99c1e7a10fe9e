/* session.h: the Redfish session store (API.md section 6): tokens that
 * stand for a user who logged in with a password, their idle expiry, and
 * the SessionTimeout they expire by.
 *
 * session owns the table and the timeout; it never sees a password and
 * never keeps a token: only its SHA-256, so a memory dump yields no token.
 * It knows no roles: who a session's user is, and may do, is looked up in
 * the configuration of each request (auth.c), so a role change applies to
 * open sessions at once.  Thread-safe: one mutex (the table's, taken last,
 * never held while calling out). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many sessions, and this many per user: a full table, or a
 * user at its cap, drops its least recently used session (the client gets
 * 401 on its next use and logs in again, as sushy and redfishtool do). */
#define SESSION_MAX 1024
#define SESSION_MAX_PER_USER 64
/* The hex digits of a token (256 random bits) and of a session Id. */
#define SESSION_TOKEN_LEN 64
#define SESSION_ID_LEN 32
/* SessionTimeout's range: the SessionService schema's (Minimum 30,
 * Maximum 86400). */
#define SESSION_TIMEOUT_MIN 30
#define SESSION_TIMEOUT_MAX 86400

typedef struct SessionInfo {
    char id[SESSION_ID_LEN + 1];
    char user[128];        /* "" = the anonymous admin (no users file) */
    uint64_t created_usec; /* now_usec() */
    uint64_t last_used_usec;
    unsigned idle_timeout_s; /* its own idle timeout; 0: SessionTimeout */
} SessionInfo;

/* Open a session for user; ret_token is the only copy of the token.
 * idle_timeout_s: 0 for a Redfish session (SessionTimeout applies), else
 * its own (a vmpooler token).  -EIO when GnuTLS gives no random bytes,
 * -EINVAL for a name too long. */
int session_open(const char *user, unsigned idle_timeout_s, char ret_token[SESSION_TOKEN_LEN + 1],
                 SessionInfo *ret);
/* The session of a token, its last use now.  -ENOENT: no such token;
 * -ETIME: it was idle longer than the timeout (and is gone now). */
int session_use(const char *token, SessionInfo *ret);
/* The session with this Id (an expired one is absent). */
int session_get(const char *id, SessionInfo *ret);
/* Close it: its token stops working at once.  -ENOENT when absent. */
int session_close(const char *id);
/* Every live session, oldest first; caller frees.  Returns the count or
 * -ENOMEM. */
int session_list(SessionInfo **ret);

/* SessionTimeout in seconds. */
unsigned session_timeout(void);
/* A PATCH of SessionTimeout (the caller checked the range). */
void session_set_timeout(unsigned seconds);
/* [auth] session_timeout at start and at each reload: it replaces the
 * timeout at start, and at a reload only when the file's value changed, so
 * a PATCHed timeout survives a reload that leaves the key alone. */
void session_configure(unsigned configured);

/* Close every session whose user keep() refuses; returns how many
 * (each is logged).  keep runs with the table locked: it must not call
 * session_*. */
typedef bool (*SessionKeepFn)(const char *user, void *userdata);
size_t session_purge(SessionKeepFn keep, void *userdata);
