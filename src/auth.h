/* auth.h: who is asking, and may they: the users file, HTTP Digest and
 * Basic checks, roles and the per-user machine ACL (API.md section 8).
 *
 * auth owns the users file and the hashing; it asks http for what the
 * client sent and never queues a response itself.  A third way in, the
 * Redfish session token (X-Auth-Token, session.h's store), is checked in
 * auth_check() before Digest and Basic.
 * Thread-safe: a Users is immutable once loaded. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "http.h"
#include "session.h"

typedef struct Users Users;

/* Load an htdigest file (user:realm:HA1, HA1 MD5 = 32 hex or SHA-256 = 64
 * hex).  Lines of other realms are ignored.  Refuses a file that group or
 * others may read or write.  Errors go to errs as "FILE:LINE: message". */
int users_load(const char *path, const char *realm, Users **ret, ConfErrors *errs);
void users_free(Users *u);
size_t users_count(const Users *u);
/* Whether the users file has a line for name. */
bool users_has(const Users *u, const char *name);

typedef struct Identity {
    char user[128];       /* "" when anonymous */
    bool anonymous;
    Role role;
    char *const *machines; /* globs, borrowed from the Conf; NULL = all */
    unsigned retry_after; /* seconds; set with AUTH_THROTTLED */
    char session[SESSION_ID_LEN + 1]; /* the session's Id when a token authenticated; "" */
} Identity;

typedef enum AuthResult {
    AUTH_OK,
    AUTH_MISSING,   /* no credentials: 401 */
    AUTH_BAD,       /* wrong user or password: 401 */
    AUTH_STALE,     /* an unknown, expired or forgotten nonce: 401 stale=true */
    AUTH_BASIC_REFUSED, /* Basic where it is not accepted: 401 */
    AUTH_THROTTLED, /* too many failures from this address or for this user: 429 */
    AUTH_NOT_ALLOWED, /* no users file, and the peer is not an anonymous network: 403 */
    AUTH_TOKEN_BAD, /* X-Auth-Token names no open session (unknown, expired, closed): 401 */
} AuthResult;

/* Whether peer is in [auth] anonymous_networks, and whether any is set. */
bool auth_anonymous_network(const Conf *conf, const char *peer);
bool auth_anonymous_enabled(const Conf *conf);

/* Decide who the request is, from its headers alone.  An X-Auth-Token is
 * looked up first, whatever else the request carries: an open session is
 * its user, with the role and machines the configuration gives that user
 * now; any other token is AUTH_TOKEN_BAD.  A request without
 * credentials from [auth] anonymous_networks is anonymous with
 * anonymous_role and anonymous_machines.  With users == NULL every other
 * request is the anonymous admin (protected mode) -- or, when anonymous
 * networks are set, refused (AUTH_NOT_ALLOWED) unless it came over a Unix
 * socket.  Logs failures
 * with the peer (in aggregate once an address or user is throttled). */
AuthResult auth_check(Request *req, const Conf *conf, const Users *users, Identity *ret);
/* A user name and password given in a body (a Redfish login), checked like
 * Basic: against the user's HA1 in constant time, throttled, failures
 * counted and logged the same way, and accepted where Basic is (else
 * AUTH_BASIC_REFUSED).  AUTH_OK (ret filled), AUTH_BAD or AUTH_THROTTLED.  With users == NULL (protected mode) the password is not
 * looked at: the anonymous admin, or AUTH_NOT_ALLOWED as auth_check says. */
AuthResult auth_password(Request *req, const Conf *conf, const Users *users, const char *user,
                         const char *password, Identity *ret);
/* Add the 401 challenges to rep: Digest in conf's algorithm with a fresh
 * nonce, and Basic when conf and the connection accept it. */
void auth_challenge(Request *req, const Conf *conf, bool stale, Reply *rep);
/* Browser requests from elsewhere (API.md section 8): 0 when the request
 * may go on, else the status to refuse it with (403: an action a browser
 * marks cross-site; 421: in protected mode, a Host that is not a name of
 * this listener, as DNS rebinding sends) and why in *ret_why. */
unsigned auth_check_origin(Request *req, const Conf *conf, bool protected_mode, bool acting,
                           const char **ret_why);
bool auth_basic_accepted(const Conf *conf, bool tls);
/* The machine ACL: false means the machine does not exist for this user. */
bool auth_machine_visible(const Identity *id, const char *name);

/* Counters for /metrics. */
uint64_t auth_failures_total(void);
uint64_t auth_forbidden_total(void);
void auth_count_forbidden(void);

/* HA1 = H(user:realm:password) in the algorithm of the HA1's length. */
int auth_ha1(const char *user, const char *realm, const char *password, bool sha256,
             uint8_t *ret, size_t *ret_len);
