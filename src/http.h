/* http.h: the HTTP server: the only <microhttpd.h> user.
 *
 * http owns the listening socket, the connection limits, request bodies,
 * the worker threads that run slow handlers, and the access log.  It knows
 * nothing of routes or libvirt: one handler gets every complete request.
 *
 * Threads: the handler runs first on an HTTP thread (on_worker = false); it
 * answers there when it can do so from memory, or returns HTTP_DEFER, and is
 * then called again on a worker thread (on_worker = true) while the
 * connection is suspended, so a slow libvirt call never stalls the other
 * connections of that HTTP thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "route.h"

#define HTTP_MAX_HEADERS 8

struct HttpChallenge;

typedef struct Reply {
    unsigned status;
    char *body; /* owned */
    size_t len;
    const char *content_type; /* static string */
    size_t n_headers;
    char *header_names[HTTP_MAX_HEADERS];  /* owned */
    char *header_values[HTTP_MAX_HEADERS]; /* owned */
    struct HttpChallenge *challenge;       /* owned; a 401 that challenges */
} Reply;

typedef struct Request {
    HttpMethod method;
    const char *method_str;
    const char *path;          /* raw, still percent-encoded, no query */
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
} Request;

enum {
    HTTP_DONE = 0,
    HTTP_DEFER = 1,
};
typedef int (*HttpHandler)(Request *req, Reply *rep, bool on_worker);

typedef struct HttpConfig {
    const char *listen;        /* ADDR:PORT, [IPv6]:PORT or unix:/path */
    int listen_fd;             /* >= 0: an inherited socket (systemd) to serve instead */
    const char *tls_cert_pem;  /* contents, not paths; NULL = plain HTTP */
    const char *tls_key_pem;
    unsigned max_connections;
    unsigned max_connections_per_ip;
    size_t connection_memory;
    size_t max_body_bytes;
    unsigned request_timeout;
    unsigned threads;          /* 0 = one per CPU */
    unsigned workers;          /* worker threads for deferred requests */
    bool access_log;
} HttpConfig;

int http_start(const HttpConfig *cfg, HttpHandler handler);
/* -vv: log libmicrohttpd's own messages. */
void http_set_verbose(bool on);
/* Settings that may change on SIGHUP. */
void http_set_max_body(size_t max_body_bytes);
void http_set_access_log(bool on);
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
uint64_t http_requests_total(void);

/* Request accessors (any thread while the request lives).  Once a request is
 * deferred they read a copy, never the connection, so a worker that outlives
 * its connection at stop reads nothing freed. */
const char *http_query(Request *req, const char *key); /* decoded; NULL when absent */
typedef int (*HttpQueryFn)(const char *key, const char *value, void *userdata);
int http_query_each(Request *req, HttpQueryFn fn, void *userdata);
const char *http_header(Request *req, const char *name);

/* Replies. */
void reply_set(Reply *rep, unsigned status, const char *content_type, char *body, size_t len);
int reply_add_header(Reply *rep, const char *name, const char *value);
void reply_clear(Reply *rep);

/* Authentication, through libmicrohttpd (auth.c decides, http talks).  On
 * the HTTP thread only, before HTTP_DEFER: they read the connection. */
typedef struct HttpChallenge {
    bool set;
    bool sha256; /* the Digest algorithm: MD5 or SHA-256 */
    bool stale;
    bool basic;  /* also announce Basic */
    char realm[128];
} HttpChallenge;
/* The user name of a Digest Authorization header; NULL when there is none.
 * Caller frees. */
char *http_digest_user(Request *req);
/* 1 good, 0 bad, -ESTALE a good answer to an expired nonce. */
int http_digest_check(Request *req, const char *realm, const char *user, const uint8_t *ha1,
                      size_t ha1_len, bool sha256, unsigned nonce_timeout);
/* Basic credentials; -ENOENT when there are none.  Caller frees both. */
int http_basic_credentials(Request *req, char **ret_user, char **ret_password);
void reply_set_challenge(Reply *rep, const HttpChallenge *ch);
