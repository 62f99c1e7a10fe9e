/* http.h: the HTTP server: the only <microhttpd.h> user.
 *
 * http owns the listening socket, the connection limits and deadlines,
 * request framing and bodies, the worker threads that run slow handlers,
 * and the access log.  It knows nothing of routes, users or libvirt: an
 * optional early handler sees each request once its headers are complete
 * (before any body is read), and one handler gets every complete request.
 *
 * Threads: the early handler runs on an HTTP thread.  The handler runs
 * first on an HTTP thread (on_worker = false); it answers there when it can
 * do so from memory, or returns HTTP_DEFER, and is then called again on a
 * worker thread (on_worker = true) while the connection is suspended, so a
 * slow libvirt call never stalls the other connections of that HTTP thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "route.h"

typedef struct ReplyHeader {
    char *name;  /* owned */
    char *value; /* owned */
} ReplyHeader;

typedef struct Reply {
    unsigned status;
    char *body; /* owned */
    size_t len;
    const char *content_type; /* static string */
    ReplyHeader *headers;     /* owned, grows as needed */
    size_t n_headers;
    size_t n_alloc;
    bool oom;                 /* a header could not be added: answered 500 */
} Reply;

typedef struct Request {
    HttpMethod method;
    const char *method_str;
    const char *path;          /* raw, still percent-encoded, no query */
    const char *target;        /* the request-target as sent: path and query, raw */
    const char *peer;          /* "127.0.0.1", "::1", "unix" */
    const char *body;          /* NUL-terminated; NULL when empty */
    size_t body_len;
    bool tls;
    uint64_t start_usec;
    void *conn;                /* the connection, for the accessors below */
    void *app;                 /* the handler's state, freed with app_free */
    void (*app_free)(void *app);
    /* For the access log and journal fields; set by the handler. */
    const char *log_user;
    const char *log_machine;
    const char *log_action;
    /* The route template that served it, a static string, for the request
     * counters (metrics.h); NULL when no route did.  Set on the HTTP thread,
     * before the request is deferred. */
    const char *route;
} Request;

enum {
    HTTP_DONE = 0,     /* rep holds the answer */
    HTTP_DEFER = 1,    /* call again on a worker */
    HTTP_CONTINUE = 2, /* early handler: read the body and call the handler */
};
typedef int (*HttpHandler)(Request *req, Reply *rep, bool on_worker);
/* Called once per request when its headers are complete and before any of
 * its body is read (authentication).  HTTP_DONE answers with rep at once:
 * a body is then never read, and the connection closes after the answer. */
typedef int (*HttpEarlyHandler)(Request *req, Reply *rep);

typedef struct HttpConfig {
    const char *listen;        /* ADDR:PORT, [IPv6]:PORT or unix:/path */
    int listen_fd;             /* >= 0: an inherited socket (systemd) to serve instead */
    const char *tls_cert_pem;  /* contents, not paths; NULL = plain HTTP */
    const char *tls_key_pem;
    unsigned max_connections;
    unsigned max_connections_per_ip;
    size_t connection_memory;
    size_t max_body_bytes;
    unsigned request_timeout;  /* seconds idle */
    unsigned header_timeout;   /* seconds for the request head, from the connection's start */
    unsigned body_timeout;     /* seconds for the body, from the end of the head */
    unsigned socket_mode;      /* a Unix listener's mode (0660) */
    const char *socket_group;  /* a Unix listener's group; NULL or "" = the process's */
    unsigned threads;          /* 0 = one per CPU */
    unsigned workers;          /* worker threads for deferred requests */
    bool access_log;
    HttpEarlyHandler early;    /* may be NULL */
} HttpConfig;

int http_start(const HttpConfig *cfg, HttpHandler handler);
/* -vv: log libmicrohttpd's own messages. */
void http_set_verbose(bool on);
/* Settings that may change on SIGHUP. */
void http_set_max_body(size_t max_body_bytes);
void http_set_access_log(bool on);
void http_set_deadlines(unsigned header_timeout, unsigned body_timeout);
/* Stop (main thread; times are now_usec() values).  Stops accepting at once
 * and answers requests still queued for a worker 503 ("shutting down",
 * Retry-After); lets requests in flight finish until answer_by_usec; then
 * answers 503 for a worker still in its handler (stuck in libvirt) without
 * waiting for it, stops libmicrohttpd with no connection suspended, and
 * joins the workers.  Never returns after deadline_usec (plus a few
 * milliseconds).  Returns how many workers are still running: then what they
 * may use (the hosts, the configuration) must not be freed. */
size_t http_stop(uint64_t answer_by_usec, uint64_t deadline_usec);
/* The bound port (for ADDR:0), 0 for a Unix socket. */
unsigned http_port(void);
/* The bound address, as --listen takes it: "127.0.0.1:45123" (the real port
 * for ADDR:0), "[::1]:8080", "unix:/path"; "" before http_start(). */
const char *http_bound_address(void);
/* Whether the listener is a Unix socket (bound or inherited). */
bool http_listen_is_unix(void);
uint64_t http_requests_total(void);

/* Request accessors (any thread while the request lives).  The query is
 * split and percent-decoded once, keys and values alike ('+' is a space);
 * every lookup is by decoded key, so "?%6fnce=1" is "?once=1".  Once a
 * request is deferred they read a copy, never the connection, so a worker
 * that outlives its connection at stop reads nothing freed. */
const char *http_query(Request *req, const char *key); /* the first value; NULL when absent */
typedef int (*HttpQueryFn)(const char *key, const char *value, void *userdata);
/* -EINVAL when the query holds a bad escape, else fn's first error or 0. */
int http_query_each(Request *req, HttpQueryFn fn, void *userdata);
const char *http_header(Request *req, const char *name); /* the first one */

/* Replies. */
void reply_set(Reply *rep, unsigned status, const char *content_type, char *body, size_t len);
/* Headers are kept in order, as many as given.  On out of memory the reply
 * is marked and becomes a 500 when sent, so no header is lost silently. */
int reply_add_header(Reply *rep, const char *name, const char *value);
void reply_clear(Reply *rep);

/* Basic credentials; -ENOENT when there are none.  Caller frees both. */
int http_basic_credentials(Request *req, char **ret_user, char **ret_password);
