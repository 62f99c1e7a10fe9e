/* http.c: libmicrohttpd behind the Request/Reply interface of http.h.
 *
 * Owns the daemon, the listening socket, request framing, bodies and their
 * limits, the per-connection deadlines, the decoded query of each request,
 * the worker pool for deferred handlers and the access log.  It must never
 * interpret a path or call libvirt, and never queue a response while body
 * data is still arriving, except to refuse a request whose body it will
 * then not read (libmicrohttpd closes such a connection after the answer). */
#include "config.h"

#include <arpa/inet.h>
#include <grp.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

/* A deferred request's phases.  Who may move it on, under jobs_lock: the
 * HTTP thread BODY -> QUEUED (and suspends); a worker QUEUED -> RUNNING ->
 * REPLIED (and resumes); http_stop() QUEUED -> REPLIED with a 503, or
 * RUNNING -> ABANDONED with a 503 when the worker is stuck past the bound.
 * The worker and the stopper decide under jobs_lock (Worker.state), so
 * exactly one of them owns the answer; after ABANDONED the worker never
 * touches the connection again, and the HttpReq is freed by whichever of
 * the worker and the completion callback lets go last (refs). */
typedef enum Phase {
    PHASE_BODY,      /* headers seen, body may arrive */
    PHASE_QUEUED,    /* deferred, connection suspended, waiting for a worker */
    PHASE_RUNNING,   /* a worker runs the handler */
    PHASE_REPLIED,   /* the reply is filled: resume and send it */
    PHASE_ABANDONED, /* stopping: the worker is stuck; a static 503 goes out */
} Phase;

/* One per connection (libmicrohttpd's socket context), on the list that the
 * sweeper walks.  libmicrohttpd's own timeout is an idle timer that every
 * byte restarts, so a client trickling one byte at a time keeps a connection
 * (and a per-address slot) for ever; the deadline here is absolute. */
typedef struct HttpConn {
    int fd;
    uint64_t deadline; /* monotonic usec, 0 = none; under conns_lock */
    /* The raw request-target of the request being read, from the URI log
     * callback (the access handler only gets the path).  Kept here, not in
     * a request, because libmicrohttpd 0.9.75 does not report a request
     * completed when it refuses it while reading the headers (a URI or
     * header too long), and this is freed with the connection in any case. */
    char *target;
    struct HttpConn *prev, *next;
} HttpConn;

/* What the handler may read once deferred: a copy of the headers and query
 * arguments, so that a worker never reads libmicrohttpd's connection (which
 * is gone once an abandoned request has been answered). */
typedef struct SnapValue {
    enum MHD_ValueKind kind;
    char *key;
    char *value; /* NULL for "?key" without '=' */
} SnapValue;

typedef struct HttpReq {
    Request req;
    Reply rep;
    struct MHD_Connection *conn;
    HttpConn *hc;
    char *path;
    char *target;
    char peer[INET6_ADDRSTRLEN];
    Buf body;
    bool has_body;
    bool too_large;
    _Atomic int phase;
    _Atomic int refs; /* 2 while a worker runs it: the worker and the connection */
    size_t sent_bytes;
    /* The query, split and decoded once (http_query_each, http_query). */
    bool query_parsed;
    int query_error;
    char **qkeys, **qvalues;
    char *method;
    SnapValue *snap; /* set when deferred: http_header reads it, not the connection */
    size_t n_snap;
    struct HttpReq *next_job;
} HttpReq;

/* The answer to a request that a stopping daemon will not run. */
#define STOP_BODY "{\"error\": \"shutting down\"}"
#define STOP_RETRY_AFTER "5"

static struct MHD_Daemon *daemon_;
static HttpHandler handler_;
static int listen_fd_ = -1;
static char unix_path_[108];
static _Atomic size_t max_body_;
static _Atomic bool access_log_;
static _Atomic uint64_t requests_total_;
static _Atomic long in_flight_;
static _Atomic bool stopping_;
static unsigned port_;
static bool listen_unix_;
static char bound_[INET6_ADDRSTRLEN + 128];
static bool verbose_libs;
static HttpEarlyHandler early_;
static _Atomic unsigned header_timeout_ = 10, body_timeout_ = 30;

/* Open connections and their deadlines: one list, one lock.  The sweeper
 * thread cuts (shutdown(2)) a connection whose deadline passed; the socket is
 * still open then, since libmicrohttpd reports a connection closed (and it
 * leaves this list) before it closes the descriptor. */
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sweep_cond = PTHREAD_COND_INITIALIZER;
static HttpConn *conns_head;
static bool sweep_stop;
static pthread_t sweeper_;
static bool sweeper_started;

/* The worker pool: one queue and the workers' states, one lock (jobs_lock);
 * jobs_cond wakes workers, idle_cond wakes http_stop(). */
typedef enum WorkerState {
    WORKER_IDLE,
    WORKER_RUNNING,   /* in the handler */
    WORKER_RESUMING,  /* answered; resuming the connection */
    WORKER_ABANDONED, /* in the handler, but http_stop() answered for it */
} WorkerState;

typedef struct Worker {
    pthread_t thread;
    WorkerState state;
    HttpReq *job;    /* while not idle */
    uint64_t since;  /* when the job started */
    bool joined;
} Worker;

static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;
static HttpReq *jobs_head, *jobs_tail;
static bool jobs_stop;
/* Kept when a worker is stuck at exit: what it uses stays reachable. */
static Worker *workers_;
static size_t n_workers_;

void reply_set(Reply *rep, unsigned status, const char *content_type, char *body, size_t len)
{
    free(rep->body);
    rep->status = status;
    rep->content_type = content_type;
    rep->body = body;
    rep->len = len;
}

int reply_add_header(Reply *rep, const char *name, const char *value)
{
    char *n, *v;

    if (rep->n_headers == rep->n_alloc) {
        size_t na = rep->n_alloc ? rep->n_alloc * 2 : 8;
        ReplyHeader *nh = realloc(rep->headers, na * sizeof(*nh));

        if (!nh) {
            rep->oom = true;
            return -ENOMEM;
        }
        rep->headers = nh;
        rep->n_alloc = na;
    }
    n = strdup(name);
    v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        rep->oom = true;
        return -ENOMEM;
    }
    rep->headers[rep->n_headers++] = (ReplyHeader){ n, v };
    return 0;
}

int http_basic_credentials(Request *req, char **ret_user, char **ret_password)
{
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(((HttpReq *)req)->conn, &pass);

    if (!user) {
        if (pass)
            MHD_free(pass);
        return -ENOENT;
    }
    *ret_user = strdup(user);
    *ret_password = strdup(pass ? pass : "");
    if (pass) {
        explicit_bzero(pass, strlen(pass));
        MHD_free(pass);
    }
    MHD_free(user);
    if (!*ret_user || !*ret_password) {
        free(*ret_user);
        free(*ret_password);
        return -ENOMEM;
    }
    return 0;
}

void reply_clear(Reply *rep)
{
    free(rep->body);
    for (size_t i = 0; i < rep->n_headers; i++) {
        free(rep->headers[i].name);
        free(rep->headers[i].value);
    }
    free(rep->headers);
    *rep = (Reply){ 0 };
}

static int decode_component(const char *s, char **ret)
{
    _cleanup_free_ char *plus = strdup(s);

    if (!plus)
        return -ENOMEM;
    for (char *p = plus; *p; p++)
        if (*p == '+')
            *p = ' ';
    return percent_decode(plus, strlen(plus), ret, NULL);
}

static enum MHD_Result query_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    HttpReq *h = cls;
    char *k = NULL, *v = NULL;
    int r;

    /* libmicrohttpd split the query at '&' and '='; unescape_none() kept
     * the escapes, so each key and value is decoded here, once. */
    r = decode_component(key, &k);
    if (r >= 0)
        r = decode_component(value ? value : "", &v);
    if (r >= 0 && (strv_push(&h->qkeys, k) < 0 || strv_push(&h->qvalues, v) < 0))
        r = -ENOMEM;
    free(k);
    free(v);
    if (r < 0) {
        h->query_error = r == -ENOMEM ? r : -EINVAL;
        return MHD_NO;
    }
    return MHD_YES;
}

/* The query as one list of decoded keys and values, built on first use.
 * Every reader goes through it, so a check and a use can never see two
 * spellings of one key ("?%66orce=1" is "?force=1" for both). */
static int parse_query(HttpReq *h)
{
    if (h->query_parsed)
        return h->query_error;
    h->query_parsed = true;
    (void)MHD_get_connection_values(h->conn, MHD_GET_ARGUMENT_KIND, query_cb, h);
    if (h->query_error < 0) {
        strv_free(h->qkeys);
        strv_free(h->qvalues);
        h->qkeys = h->qvalues = NULL;
    }
    return h->query_error;
}

/* MHD_lookup_connection_value(), from the copy once the request is deferred. */
static const char *lookup_value(HttpReq *h, enum MHD_ValueKind kind, const char *key)
{
    if (!h->snap)
        return MHD_lookup_connection_value(h->conn, kind, key);
    for (size_t i = 0; i < h->n_snap; i++)
        if ((h->snap[i].kind & kind) && strcasecmp(h->snap[i].key, key) == 0)
            return h->snap[i].value;
    return NULL;
}

const char *http_query(Request *req, const char *key)
{
    HttpReq *h = (HttpReq *)req;

    if (parse_query(h) < 0)
        return NULL;
    for (size_t i = 0; h->qkeys && h->qkeys[i]; i++)
        if (streq(h->qkeys[i], key))
            return h->qvalues[i];
    return NULL;
}

int http_query_each(Request *req, HttpQueryFn fn, void *userdata)
{
    HttpReq *h = (HttpReq *)req;
    int r = parse_query(h);

    if (r < 0)
        return r;
    for (size_t i = 0; h->qkeys && h->qkeys[i]; i++) {
        r = fn(h->qkeys[i], h->qvalues[i], userdata);
        if (r < 0)
            return r;
    }
    return 0;
}

const char *http_header(Request *req, const char *name)
{
    return lookup_value((HttpReq *)req, MHD_HEADER_KIND, name);
}

typedef struct Snap {
    HttpReq *h;
    bool oom;
} Snap;

static enum MHD_Result snap_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    Snap *sn = cls;
    HttpReq *h = sn->h;
    SnapValue *n = realloc(h->snap, (h->n_snap + 1) * sizeof(SnapValue));
    SnapValue *v;

    if (!n) {
        sn->oom = true;
        return MHD_NO;
    }
    h->snap = n;
    v = &n[h->n_snap++];
    *v = (SnapValue){ .kind = kind, .key = strdup(key ? key : ""),
                      .value = value ? strdup(value) : NULL };
    if (!v->key || (value && !v->value)) {
        sn->oom = true;
        return MHD_NO;
    }
    return MHD_YES;
}

/* Copy what a worker may read; from then on the accessors use the copy. */
static int snapshot(HttpReq *h)
{
    Snap sn = { .h = h };

    /* The query is decoded into the request once; a bad one stays an error
     * for the handler to report. */
    (void)parse_query(h);
    (void)MHD_get_connection_values(h->conn, MHD_HEADER_KIND, snap_cb, &sn);
    if (sn.oom)
        return -ENOMEM;
    if (!h->snap) {
        /* Nothing to copy: still never read the connection again. */
        h->snap = calloc(1, sizeof(SnapValue));
        if (!h->snap)
            return -ENOMEM;
    }
    return 0;
}

static void snapshot_free(HttpReq *h)
{
    for (size_t i = 0; i < h->n_snap; i++) {
        free(h->snap[i].key);
        free(h->snap[i].value);
    }
    free(h->snap);
    h->snap = NULL;
    h->n_snap = 0;
}

/* The path and query keep their escapes: route.c decodes each segment once,
 * after splitting, so "%2f" never becomes a separator. */
static size_t unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
    return strlen(s);
}

static void conn_set_deadline(HttpConn *hc, unsigned seconds)
{
    if (!hc)
        return;
    pthread_mutex_lock(&conns_lock);
    hc->deadline = seconds ? now_usec() + (uint64_t)seconds * 1000000u : 0;
    pthread_mutex_unlock(&conns_lock);
}

static enum MHD_Result queue_reply(HttpReq *h)
{
    Reply *rep = &h->rep;
    struct MHD_Response *resp;
    enum MHD_Result ret;

    if (rep->status == 0 || rep->oom) {
        static const char body[] = "{\"error\": \"internal error: no reply\"}";

        reply_clear(rep);
        reply_set(rep, 500, "application/json", strdup(body), strlen(body));
    }
    resp = MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        return MHD_NO;
    rep->body = NULL; /* the response owns it now */
    if (rep->content_type &&
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rep->content_type) != MHD_YES)
        goto fail;
    for (size_t i = 0; i < rep->n_headers; i++)
        if (MHD_add_response_header(resp, rep->headers[i].name, rep->headers[i].value) != MHD_YES)
            goto fail;
    /* Stopping: a kept-alive connection must not bring another request. */
    if (atomic_load(&stopping_))
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    h->sent_bytes = rep->len;
    /* The answer is on its way: no deadline cuts it. */
    conn_set_deadline(h->hc, 0);
    ret = MHD_queue_response(h->conn, rep->status, resp);
    MHD_destroy_response(resp);
    return ret;
fail:
    /* A header libmicrohttpd refused (out of memory, or a line break in a
     * value): better no answer than a wrong one. */
    MHD_destroy_response(resp);
    log_error("Cannot add a response header for %s %s", h->req.method_str, h->path);
    return MHD_NO;
}

static void reply_static_error(HttpReq *h, unsigned status, const char *json)
{
    reply_set(&h->rep, status, "application/json", strdup(json), strlen(json));
}

static void reply_stopping(Reply *rep)
{
    reply_set(rep, 503, "application/json", strdup(STOP_BODY), strlen(STOP_BODY));
    (void)reply_add_header(rep, "Retry-After", STOP_RETRY_AFTER);
}

/* The 503 of an abandoned request: static, so that the HTTP thread never
 * reads the Reply its stuck worker may still write. */
static enum MHD_Result queue_abandoned(HttpReq *h)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp = MHD_create_response_from_buffer(strlen(STOP_BODY), (void *)STOP_BODY,
                                           MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, STOP_RETRY_AFTER);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(h->conn, 503, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Queue a deferred request and suspend its connection; false once stopping
 * (nothing may be suspended after http_stop() drained the queue). */
static bool job_queue(HttpReq *h)
{
    bool queued = false;

    pthread_mutex_lock(&jobs_lock);
    if (!jobs_stop) {
        atomic_store(&h->phase, PHASE_QUEUED);
        MHD_suspend_connection(h->conn);
        h->next_job = NULL;
        if (jobs_tail)
            jobs_tail->next_job = h;
        else
            jobs_head = h;
        jobs_tail = h;
        pthread_cond_signal(&jobs_cond);
        queued = true;
    }
    pthread_mutex_unlock(&jobs_lock);
    return queued;
}

static void req_free(HttpReq *h)
{
    if (h->req.app_free && h->req.app)
        h->req.app_free(h->req.app);
    reply_clear(&h->rep);
    buf_free(&h->body);
    snapshot_free(h);
    strv_free(h->qkeys);
    strv_free(h->qvalues);
    free(h->method);
    free(h->path);
    free(h->target);
    free(h);
}

/* An abandoned request is let go by its worker and by its connection. */
static void req_release(HttpReq *h)
{
    if (atomic_fetch_sub(&h->refs, 1) == 1)
        req_free(h);
}

static void *worker_main(void *arg)
{
    Worker *w = arg;

    for (;;) {
        HttpReq *h;
        bool abandoned;

        pthread_mutex_lock(&jobs_lock);
        while (!jobs_head && !jobs_stop)
            pthread_cond_wait(&jobs_cond, &jobs_lock);
        if (!jobs_head) {
            pthread_mutex_unlock(&jobs_lock);
            return NULL;
        }
        h = jobs_head;
        jobs_head = h->next_job;
        if (!jobs_head)
            jobs_tail = NULL;
        atomic_store(&h->refs, 2);
        atomic_store(&h->phase, PHASE_RUNNING);
        w->job = h;
        w->since = now_usec();
        w->state = WORKER_RUNNING;
        pthread_mutex_unlock(&jobs_lock);

        error_clear();
        (void)handler_(&h->req, &h->rep, true);

        pthread_mutex_lock(&jobs_lock);
        abandoned = w->state == WORKER_ABANDONED;
        if (!abandoned) {
            w->state = WORKER_RESUMING;
            atomic_store(&h->phase, PHASE_REPLIED);
        }
        pthread_mutex_unlock(&jobs_lock);
        if (abandoned)
            req_release(h); /* answered by http_stop(): never touch the connection */
        else
            MHD_resume_connection(h->conn);

        pthread_mutex_lock(&jobs_lock);
        w->job = NULL;
        w->state = WORKER_IDLE;
        pthread_cond_broadcast(&idle_cond);
        pthread_mutex_unlock(&jobs_lock);
    }
}

static void peer_string(struct MHD_Connection *conn, char *buf, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    snprintf(buf, size, "unix");
    if (!sa)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)size);
}

static enum MHD_Result run_handler(HttpReq *h)
{
    int r;

    if (h->body.len) {
        h->req.body = h->body.data;
        h->req.body_len = h->body.len;
    }
    error_clear();
    r = handler_(&h->req, &h->rep, false);
    if (r == HTTP_DEFER) {
        /* A worker's libvirt call is not the client's to time out. */
        conn_set_deadline(h->hc, 0);
        if (snapshot(h) < 0)
            reply_static_error(h, 500, "{\"error\": \"out of memory\"}");
        else if (job_queue(h))
            return MHD_YES;
        else
            reply_stopping(&h->rep);
    }
    return queue_reply(h);
}

typedef struct Framing {
    size_t content_length, transfer_encoding, host;
    const char *te;
    bool bad_name;
} Framing;

/* RFC 9110 section 5.6.2: a header name is a token. */
static bool is_token(const char *s)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
                                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    return *s && !s[strspn(s, tchar)];
}

static bool has_prefix_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static enum MHD_Result framing_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    Framing *f = cls;

    /* libmicrohttpd 0.9.75 appends an obs-fold continuation line to the
     * header *name* ("Transfer-Encoding:\r\n chunked" becomes a header
     * "Transfer-Encodingchunked"), and keeps "Host :" as the name "Host ".
     * Such a name is not a token, or only looks like a framing header. */
    if (!is_token(key) ||
        ((has_prefix_ci(key, MHD_HTTP_HEADER_CONTENT_LENGTH) ||
          has_prefix_ci(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) ||
          has_prefix_ci(key, MHD_HTTP_HEADER_HOST)) &&
         strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) != 0 &&
         strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) != 0 &&
         strcasecmp(key, MHD_HTTP_HEADER_HOST) != 0))
        f->bad_name = true;
    else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        f->content_length++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encoding++;
        f->te = value;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
        f->host++;
    return MHD_YES;
}

/* RFC 9112 section 6.3: where two parsers could disagree on where a request
 * ends (a proxy in front, or libmicrohttpd 0.9.75 itself, which takes the
 * first of two Content-Lengths and ignores a Transfer-Encoding it does not
 * understand), refuse the request rather than pick one reading. */
static const char *framing_error(struct MHD_Connection *conn, bool *ret_has_body)
{
    Framing f = { 0 };
    const char *cl;

    (void)MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_cb, &f);
    if (f.bad_name)
        return "a header name that is not a token, or a folded header line";
    if (f.host > 1)
        return "more than one Host header";
    if (f.content_length > 1)
        return "more than one Content-Length header";
    if (f.transfer_encoding > 1)
        return "more than one Transfer-Encoding header";
    if (f.transfer_encoding && f.content_length)
        return "both Transfer-Encoding and Content-Length";
    if (f.transfer_encoding && strcasecmp(f.te, "chunked") != 0)
        return "a Transfer-Encoding other than chunked";
    cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    *ret_has_body = f.transfer_encoding || (cl && !streq(cl, "0"));
    return NULL;
}

static HttpConn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *si =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return si ? si->socket_context : NULL;
}

/* Called when the request line is in: keep the raw request-target. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    HttpConn *hc = conn_of(conn);

    if (hc) {
        free(hc->target);
        hc->target = strdup(uri);
    }
    return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    HttpReq *h = *req_cls;

    if (!h) {
        const union MHD_ConnectionInfo *di;
        const char *cl, *why;

        h = calloc(1, sizeof(*h));
        if (!h)
            return MHD_NO;
        *req_cls = h;
        atomic_fetch_add(&in_flight_, 1);
        h->conn = conn;
        h->hc = conn_of(conn);
        if (h->hc && h->hc->target) {
            h->target = h->hc->target;
            h->hc->target = NULL;
        } else
            h->target = strdup(url);
        h->path = strdup(url);
        /* Ours: a worker may still read it after the connection is gone. */
        h->method = strdup(method);
        if (!h->path || !h->target || !h->method)
            return MHD_NO;
        peer_string(conn, h->peer, sizeof(h->peer));
        di = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_PROTOCOL);
        h->req = (Request){
            .method = http_method_from_string(method),
            .method_str = h->method,
            .path = h->path,
            .target = h->target,
            .peer = h->peer,
            .tls = di && di->tls_session != NULL,
            .start_usec = now_usec(),
            .conn = conn,
        };
        /* From here the body has its own deadline. */
        conn_set_deadline(h->hc, atomic_load(&body_timeout_));
        why = framing_error(conn, &h->has_body);
        if (why) {
            _cleanup_free_ char *msg = strdup_printf("{\"error\": \"bad request: %s\"}", why);

            reply_static_error(h, 400, msg ? msg : "{\"error\": \"bad request\"}");
            return queue_reply(h);
        }
        cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            unsigned long long n;

            if (parse_uint(cl, 0, UINT64_MAX, &n) == 0 && n > atomic_load(&max_body_)) {
                /* Refused before it arrives: MHD closes the connection after. */
                reply_static_error(h, 413, "{\"error\": \"request body too large\"}");
                return queue_reply(h);
            }
        }
        if (early_) {
            error_clear();
            if (early_(&h->req, &h->rep) == HTTP_DONE) {
                /* Refused on the headers: a body is not read at all. */
                if (h->has_body)
                    return queue_reply(h);
                atomic_store(&h->phase, PHASE_REPLIED);
            }
        }
        /* Answer on the next call even without a body: a response queued
         * on the first call makes libmicrohttpd close the connection. */
        return MHD_YES;
    }

    switch (atomic_load(&h->phase)) {
    case PHASE_REPLIED:
        return queue_reply(h);
    case PHASE_ABANDONED:
        return queue_abandoned(h);
    case PHASE_QUEUED:
    case PHASE_RUNNING:
        return MHD_YES;
    case PHASE_BODY:
        break;
    }
    if (*upload_data_size > 0) {
        if (!h->too_large) {
            if (h->body.len + *upload_data_size > atomic_load(&max_body_)) {
                h->too_large = true;
                buf_free(&h->body);
            } else
                buf_append(&h->body, upload_data, *upload_data_size);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (h->too_large) {
        reply_static_error(h, 413, "{\"error\": \"request body too large\"}");
        return queue_reply(h);
    }
    if (h->body.oom) {
        reply_static_error(h, 500, "{\"error\": \"out of memory\"}");
        return queue_reply(h);
    }
    return run_handler(h);
}

static void access_log(HttpReq *h, enum MHD_RequestTerminationCode toe, bool abandoned,
                       uint64_t us)
{
    char f_remote[80], f_user[300], f_machine[300], f_action[64];
    const char *fields[5];
    size_t nf = 0;
    /* An abandoned request's log fields belong to its worker: not read. */
    const char *user = abandoned ? NULL : h->req.log_user;
    const char *machine = abandoned ? NULL : h->req.log_machine;
    const char *action = abandoned ? NULL : h->req.log_action;

    if (!atomic_load(&access_log_) || !log_enabled(LOG_INFO))
        return;
    /* The journal's fields; a line on stderr has no use for them. */
    if (!log_structured())
        goto line;
    snprintf(f_remote, sizeof(f_remote), "REMOTE=%s", h->peer);
    fields[nf++] = f_remote;
    if (user) {
        snprintf(f_user, sizeof(f_user), "USER=%s", user);
        fields[nf++] = f_user;
    }
    if (machine) {
        snprintf(f_machine, sizeof(f_machine), "MACHINE=%s", machine);
        fields[nf++] = f_machine;
    }
    if (action) {
        snprintf(f_action, sizeof(f_action), "ACTION=%s", action);
        fields[nf++] = f_action;
    }
line:
    fields[nf] = NULL;
    log_access(fields, "%s %s %u %zu %lluus %s%s%s%s%s",
               h->req.method_str ? h->req.method_str : "-", h->path ? h->path : "-",
               abandoned ? 503u : h->rep.status,
               abandoned ? strlen(STOP_BODY) : h->sent_bytes, (unsigned long long)us, h->peer,
               user ? " user=" : "", user ? user : "",
               toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)",
               abandoned ? " (abandoned: stopping)" : "");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    HttpReq *h = *req_cls;
    bool abandoned;
    uint64_t us;

    if (!h)
        return;
    *req_cls = NULL;
    /* A kept-alive connection gets a new deadline for its next request head. */
    if (h->hc)
        conn_set_deadline(h->hc, atomic_load(&header_timeout_));
    atomic_fetch_add(&requests_total_, 1);
    /* An abandoned request's Reply and log fields belong to its worker. */
    abandoned = atomic_load(&h->phase) == PHASE_ABANDONED;
    us = now_usec() - h->req.start_usec;
    /* The route is set before a request is deferred: readable even when
     * its worker still runs. */
    metrics_request(h->req.route, http_method_to_string(h->req.method),
                    abandoned ? 503u : h->rep.status, us);
    access_log(h, toe, abandoned, us);
    if (abandoned)
        req_release(h);
    else
        req_free(h);
    atomic_fetch_sub(&in_flight_, 1);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    HttpConn *hc = *socket_context;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

        hc = calloc(1, sizeof(*hc));
        if (!hc)
            return; /* no deadline for this one; the idle timeout still holds */
        hc->fd = ci ? ci->connect_fd : -1;
        pthread_mutex_lock(&conns_lock);
        hc->deadline = now_usec() + (uint64_t)atomic_load(&header_timeout_) * 1000000u;
        hc->next = conns_head;
        if (conns_head)
            conns_head->prev = hc;
        conns_head = hc;
        pthread_mutex_unlock(&conns_lock);
        *socket_context = hc;
        return;
    }
    if (!hc)
        return;
    free(hc->target);
    pthread_mutex_lock(&conns_lock);
    if (hc->prev)
        hc->prev->next = hc->next;
    else
        conns_head = hc->next;
    if (hc->next)
        hc->next->prev = hc->prev;
    pthread_mutex_unlock(&conns_lock);
    *socket_context = NULL;
    free(hc);
}

/* Cut every connection past its deadline.  shutdown(2) rather than close(2):
 * libmicrohttpd owns the descriptor; it reads the end of the stream, closes
 * the connection and reports it closed. */
static void *sweeper_main(void *arg)
{
    pthread_mutex_lock(&conns_lock);
    while (!sweep_stop) {
        struct timespec ts;
        uint64_t now = now_usec();
        unsigned cut = 0;

        for (HttpConn *hc = conns_head; hc; hc = hc->next)
            if (hc->deadline && hc->deadline <= now && hc->fd >= 0) {
                (void)shutdown(hc->fd, SHUT_RDWR);
                hc->deadline = 0;
                cut++;
            }
        if (cut)
            log_debug("Closed %u connections past their header or body deadline", cut);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&sweep_cond, &conns_lock, &ts);
    }
    pthread_mutex_unlock(&conns_lock);
    return NULL;
}

static int unix_path_prepare(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct stat st;
    int fd, r;

    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return log_error_errno(errno, "Cannot check unix:%s: %m", path);
    }
    if (!S_ISSOCK(st.st_mode)) {
        log_error("Refusing to listen on unix:%s: something that is not a socket is there "
                  "(remove it, or choose another path)", path);
        return -EEXIST;
    }
    /* A socket: stale if nobody answers on it. */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return log_error_errno(errno, "Failed to create a Unix socket: %m");
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    r = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ? -errno : 0;
    close(fd);
    if (r == 0) {
        log_error("Refusing to listen on unix:%s: another process is listening there", path);
        return -EADDRINUSE;
    }
    if (r != -ECONNREFUSED)
        return log_error_errno(r, "Refusing to listen on unix:%s: cannot tell whether the "
                               "socket there is in use: %m", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return log_error_errno(errno, "Cannot remove the stale socket unix:%s: %m", path);
    log_info("Removed the stale socket unix:%s", path);
    return 0;
}

static int bind_unix(const char *path, unsigned mode, const char *group)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    gid_t gid = (gid_t)-1;
    int fd, r;

    if (group && *group) {
        struct group *gr = getgrnam(group);

        if (!gr) {
            log_error("Unknown group '%s' for unix:%s ([server] socket_group)", group, path);
            return -ENOENT;
        }
        gid = gr->gr_gid;
    }
    r = unix_path_prepare(path);
    if (r < 0)
        return r;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return log_error_errno(errno, "Failed to create a Unix socket: %m");
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        r = -errno;
        close(fd);
        return log_error_errno(r, "Failed to listen on unix:%s: %m", path);
    }
    /* Mode and group before listen(): nobody can connect before it. */
    if (chmod(path, mode) < 0 || (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) ||
        listen(fd, 512) < 0) {
        r = -errno;
        close(fd);
        (void)unlink(path);
        return log_error_errno(r, "Failed to set up unix:%s: %m", path);
    }
    snprintf(unix_path_, sizeof(unix_path_), "%s", path);
    listen_unix_ = true;
    return fd;
}

static int bind_listen(const HttpConfig *cfg)
{
    const char *addr = cfg->listen;
    ListenAddr a;
    int fd, r, one = 1;

    r = conf_parse_listen_any(addr, &a);
    if (r < 0)
        return log_error_errno(r, "Invalid listen address '%s'", addr);
    if (a.is_unix)
        return bind_unix(a.path, cfg->socket_mode, cfg->socket_group);
    else {
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
        struct addrinfo *res = NULL;
        char port[16];

        snprintf(port, sizeof(port), "%u", a.port);
        r = getaddrinfo(a.host[0] ? a.host : NULL, port, &hints, &res);
        if (r != 0) {
            log_error("Failed to resolve listen address '%s': %s", addr, gai_strerror(r));
            return -EADDRNOTAVAIL;
        }
        fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            r = -errno;
            freeaddrinfo(res);
            return log_error_errno(r, "Failed to create a socket: %m");
        }
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 512) < 0) {
            r = -errno;
            freeaddrinfo(res);
            close(fd);
            return log_error_errno(r, "Failed to listen on %s: %m", addr);
        }
        freeaddrinfo(res);
        return fd;
    }
}

/* The bound address as clients would write it: ADDR:PORT, [IPv6]:PORT or
 * unix:/path; for ADDR:0 the port the kernel chose. */
static void read_bound(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char addr[INET6_ADDRSTRLEN];

    port_ = 0;
    bound_[0] = '\0';
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

        port_ = ntohs(sin->sin_port);
        inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
        snprintf(bound_, sizeof(bound_), "%s:%u", addr, port_);
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

        port_ = ntohs(sin6->sin6_port);
        inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
        snprintf(bound_, sizeof(bound_), "[%s]:%u", addr, port_);
    } else if (ss.ss_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)&ss;
        size_t n = len > offsetof(struct sockaddr_un, sun_path)
                       ? len - offsetof(struct sockaddr_un, sun_path) : 0;

        listen_unix_ = true;
        /* An abstract socket (from systemd) starts with a NUL: show it as '@'. */
        if (n > 0 && sun->sun_path[0] == '\0')
            snprintf(bound_, sizeof(bound_), "unix:@%.*s", (int)(n - 1), sun->sun_path + 1);
        else
            snprintf(bound_, sizeof(bound_), "unix:%.*s", (int)strnlen(sun->sun_path, n),
                     sun->sun_path);
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    if (!verbose_libs)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    log_debug("libmicrohttpd: %s", msg);
}

/* TLS 1.3, and on TLS 1.2 only forward-secret key exchange (ECDHE, DHE)
 * with AEAD ciphers (AES-GCM, ChaCha20-Poly1305): no static RSA key
 * exchange, no CBC, no SHA-1 MACs, nothing older than TLS 1.2. */
#define TLS_PRIORITIES                                                                        \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:+DHE-RSA:"     \
    "-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD"

int http_start(const HttpConfig *cfg, HttpHandler handler)
{
    struct MHD_OptionItem opts[24];
    size_t n = 0;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_DEBUG;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cfg->threads ? cfg->threads : (unsigned)(cpus > 0 ? cpus : 1);

    handler_ = handler;
    early_ = cfg->early;
    atomic_store(&max_body_, cfg->max_body_bytes);
    atomic_store(&access_log_, cfg->access_log);
    http_set_deadlines(cfg->header_timeout, cfg->body_timeout);

    if (cfg->listen_fd >= 0)
        listen_fd_ = cfg->listen_fd;
    else {
        listen_fd_ = bind_listen(cfg);
        if (listen_fd_ < 0)
            return listen_fd_;
    }
    read_bound(listen_fd_);

    n_workers_ = cfg->workers ? cfg->workers : 16;
    workers_ = calloc(n_workers_, sizeof(Worker));
    if (!workers_)
        return -ENOMEM;
    jobs_stop = false;
    for (size_t i = 0; i < n_workers_; i++)
        if (pthread_create(&workers_[i].thread, NULL, worker_main, &workers_[i]) != 0)
            return log_error_errno(ENOMEM, "Failed to start worker threads");
    sweep_stop = false;
    if (pthread_create(&sweeper_, NULL, sweeper_main, NULL) != 0)
        return log_error_errno(ENOMEM, "Failed to start the deadline thread");
    sweeper_started = true;

    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET, listen_fd_, NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, threads, NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL };
    if (cfg->max_connections_per_ip)
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                             cfg->max_connections_per_ip, NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                         (intptr_t)cfg->connection_memory, NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, cfg->request_timeout,
                                         NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed,
                                         NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection,
                                         NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape_none,
                                         NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL };
    /* 0.9.75 has no MHD_OPTION_CLIENT_DISCIPLINE_LVL; this is its strict
     * mode (HTTP/1.1 needs Host, no white space in the request line).
     * framing_error() refuses the rest. */
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL };
    if (cfg->tls_cert_pem && cfg->tls_key_pem) {
        flags |= MHD_USE_TLS;
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
                                             (void *)cfg->tls_cert_pem };
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
                                             (void *)cfg->tls_key_pem };
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
                                             (void *)TLS_PRIORITIES };
    }
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

    daemon_ = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_ARRAY, opts,
                               MHD_OPTION_END);
    if (!daemon_)
        return log_error_errno(EINVAL, "Failed to start the HTTP server on %s",
                               cfg->listen_fd >= 0 ? "the inherited socket" : cfg->listen);
    return 0;
}

void http_set_verbose(bool on)
{
    verbose_libs = on;
}

void http_set_max_body(size_t max_body_bytes)
{
    atomic_store(&max_body_, max_body_bytes);
}

void http_set_access_log(bool on)
{
    atomic_store(&access_log_, on);
}

void http_set_deadlines(unsigned header_timeout, unsigned body_timeout)
{
    atomic_store(&header_timeout_, header_timeout);
    atomic_store(&body_timeout_, body_timeout);
}

bool http_listen_is_unix(void)
{
    return listen_unix_;
}

unsigned http_port(void)
{
    return port_;
}

const char *http_bound_address(void)
{
    return bound_;
}

uint64_t http_requests_total(void)
{
    return atomic_load(&requests_total_);
}

static void timespec_from_usec(uint64_t deadline_usec, struct timespec *ts)
{
    /* pthread_timedjoin_np() and pthread_cond_timedwait() count in CLOCK_REALTIME. */
    uint64_t now = now_usec();
    uint64_t abs = realtime_usec() + (deadline_usec > now ? deadline_usec - now : 0);

    ts->tv_sec = (time_t)(abs / 1000000u);
    ts->tv_nsec = (long)(abs % 1000000u) * 1000;
}

static bool workers_busy(void)
{
    bool busy = false;

    pthread_mutex_lock(&jobs_lock);
    for (size_t i = 0; i < n_workers_ && !busy; i++)
        busy = workers_[i].state != WORKER_IDLE;
    pthread_mutex_unlock(&jobs_lock);
    return busy;
}

/* Wait until no request is in flight (nor a worker busy, when workers is
 * set), or until the deadline. */
static void wait_quiet(uint64_t deadline_usec, bool workers)
{
    while (now_usec() < deadline_usec &&
           (atomic_load(&in_flight_) > 0 || (workers && workers_busy())))
        usleep(10000);
}

size_t http_stop(uint64_t answer_by_usec, uint64_t deadline_usec)
{
    HttpReq *queued, *resume = NULL;
    size_t n_queued = 0, n_stuck = 0, n_left = 0;
    struct timespec ts;

    if (!daemon_)
        return 0;
    /* Stop accepting: closed now, a new connection is refused at once
     * instead of waiting in the backlog for a daemon that will not serve it. */
    atomic_store(&stopping_, true);
    (void)MHD_quiesce_daemon(daemon_);
    if (listen_fd_ >= 0)
        close(listen_fd_);
    listen_fd_ = -1;
    if (unix_path_[0])
        (void)unlink(unix_path_);

    /* Requests still waiting for a worker will not run: 503 now.  Nothing
     * is queued (or suspended) after this. */
    pthread_mutex_lock(&jobs_lock);
    jobs_stop = true;
    queued = jobs_head;
    jobs_head = jobs_tail = NULL;
    pthread_cond_broadcast(&jobs_cond);
    pthread_mutex_unlock(&jobs_lock);
    while (queued) {
        HttpReq *h = queued;

        queued = h->next_job; /* h may be gone once resumed */
        reply_stopping(&h->rep);
        atomic_store(&h->phase, PHASE_REPLIED);
        MHD_resume_connection(h->conn);
        n_queued++;
    }
    log_info("Stopping: not accepting; %zu queued requests answered 503", n_queued);

    /* Requests in flight finish, up to the bound. */
    wait_quiet(answer_by_usec, true);

    /* A worker still in its handler is stuck (in libvirt): answer for it. */
    pthread_mutex_lock(&jobs_lock);
    for (size_t i = 0; i < n_workers_; i++) {
        Worker *w = &workers_[i];

        if (w->state != WORKER_RUNNING)
            continue;
        w->state = WORKER_ABANDONED;
        atomic_store(&w->job->phase, PHASE_ABANDONED);
        w->job->next_job = resume;
        resume = w->job;
        n_stuck++;
        log_warning("Stopping: %s %s has run for %.1f s (stuck in a libvirt call?); "
                    "answering 503 and not waiting for it", w->job->method, w->job->path,
                    (double)(now_usec() - w->since) / 1e6);
    }
    /* Workers that are answering finish resuming before the daemon stops. */
    timespec_from_usec(deadline_usec, &ts);
    for (;;) {
        bool resuming = false;

        for (size_t i = 0; i < n_workers_; i++)
            resuming = resuming || workers_[i].state == WORKER_RESUMING;
        if (!resuming || pthread_cond_timedwait(&idle_cond, &jobs_lock, &ts) != 0)
            break;
    }
    pthread_mutex_unlock(&jobs_lock);
    /* An abandoned request lives until both its worker and its connection
     * let go (refs), so it may be resumed outside the lock. */
    while (resume) {
        HttpReq *h = resume;

        resume = h->next_job;
        MHD_resume_connection(h->conn);
    }
    /* Let the answers go out (a second at most), then stop: nothing is
     * suspended any more, as libmicrohttpd requires. */
    {
        uint64_t until = now_usec() + 1000000u;

        wait_quiet(until < deadline_usec ? until : deadline_usec, false);
    }
    MHD_stop_daemon(daemon_);
    daemon_ = NULL;
    if (sweeper_started) {
        pthread_mutex_lock(&conns_lock);
        sweep_stop = true;
        pthread_cond_signal(&sweep_cond);
        pthread_mutex_unlock(&conns_lock);
        pthread_join(sweeper_, NULL);
        sweeper_started = false;
    }

    /* Join the workers; one stuck in libvirt is left running, with what it
     * uses (its request, workers_) still reachable. */
    {
        uint64_t until = now_usec() + 200000u;

        timespec_from_usec(until < deadline_usec ? until : deadline_usec, &ts);
    }
    for (size_t i = 0; i < n_workers_; i++) {
        Worker *w = &workers_[i];

        if (!w->joined && pthread_timedjoin_np(w->thread, NULL, &ts) == 0)
            w->joined = true;
        if (!w->joined)
            n_left++;
    }
    if (n_left) {
        log_warning("Stopping: %zu worker threads are stuck; exiting without them", n_left);
        return n_left;
    }
    free(workers_);
    workers_ = NULL;
    n_workers_ = 0;
    return 0;
}
