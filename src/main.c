/* main.c: command line, signals, wiring, exit status (DAEMON.md).
 *
 * Owns the process: it reads the configuration, starts virt and http in
 * that order, tells systemd, and turns signals into reload and stop.  It
 * never handles a request itself. */
#include "config.h"

#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "addrcache.h"
#include "api.h"
#include "auth.h"
#include "conf.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "ops.h"
#include "sd.h"
#include "util.h"
#include "virt.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONF SYSCONFDIR "/virtmcd/virtmcd.conf"

/* SIGTERM to exit: at most STOP_TIMEOUT_USEC (well under systemd's default
 * TimeoutStopSec=90s), of which requests in flight may take
 * STOP_REQUESTS_USEC; what is left goes to answering and joining threads.
 * A thread stuck in libvirt past it is named in the log and left behind. */
#define STOP_TIMEOUT_USEC (10 * 1000000ull)
#define STOP_REQUESTS_USEC (5 * 1000000ull)
#define STOP_HTTP_USEC (7 * 1000000ull)

typedef struct Args {
    const char *conf_path;
    bool conf_named;
    const char *listen;
    const char *uri;
    int verbose;
    bool test_config;
} Args;

static void help(void)
{
    printf("Usage: virtmcd [OPTIONS]\n"
           "\n"
           "A management controller (BMC) for libvirt virtual machines over HTTP.\n"
           "\n"
           "  -c, --config FILE     configuration file (default %s)\n"
           "      --listen ADDR:PORT  listen here instead of [server] listen\n"
           "                        (ADDR:PORT, [IPv6]:PORT or unix:/path)\n"
           "      --uri URI         libvirt URI instead of [libvirt] uri\n"
           "  -v, --verbose         more log detail (-vv for libvirt's errors too)\n"
           "      --test-config     check the configuration and exit\n"
           "      --version         print the version and exit\n"
           "  -h, --help            print this help and exit\n"
           "\n"
           "See virtmcd(8) and virtmcd.conf(5).\n",
           DEFAULT_CONF);
}

static int parse_args(int argc, char **argv, Args *a)
{
    enum { OPT_LISTEN = 256, OPT_URI, OPT_TEST_CONFIG, OPT_VERSION };
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "listen", required_argument, NULL, OPT_LISTEN },
        { "uri", required_argument, NULL, OPT_URI },
        { "verbose", no_argument, NULL, 'v' },
        { "test-config", no_argument, NULL, OPT_TEST_CONFIG },
        { "version", no_argument, NULL, OPT_VERSION },
        { "help", no_argument, NULL, 'h' },
        {},
    };
    int c;

    *a = (Args){ .conf_path = DEFAULT_CONF };
    while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) >= 0) {
        switch (c) {
        case 'c':
            a->conf_path = optarg;
            a->conf_named = true;
            break;
        case OPT_LISTEN:
            a->listen = optarg;
            break;
        case OPT_URI:
            a->uri = optarg;
            break;
        case 'v':
            a->verbose++;
            break;
        case OPT_TEST_CONFIG:
            a->test_config = true;
            break;
        case OPT_VERSION:
            printf("virtmcd %s (libvirt %s)\n", PACKAGE_VERSION, virt_library_version());
            exit(0);
        case 'h':
            help();
            exit(0);
        default:
            fprintf(stderr, "Try 'virtmcd --help'.\n");
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "virtmcd: unexpected argument '%s'\nTry 'virtmcd --help'.\n",
                argv[optind]);
        return -EINVAL;
    }
    return 0;
}

static void print_errors(const ConfErrors *e)
{
    for (size_t i = 0; i < e->n; i++)
        fprintf(stderr, "%s\n", e->msgs[i]);
}

/* Load, apply command-line overrides, check.  On failure the errors are in
 * errs and nothing is returned. */
static int load_conf(const Args *a, ConfErrors *errs, Conf **ret, Users **ret_users)
{
    Users *users = NULL;
    _cleanup_(conf_freep) Conf *c = conf_new();
    int r;

    if (!c)
        return -ENOMEM;
    if (a->conf_named || access(a->conf_path, F_OK) == 0) {
        r = conf_load_file(c, a->conf_path, errs);
        if (r < 0)
            return r;
    }
    if (a->listen) {
        free(c->listen);
        c->listen = strdup(a->listen);
        c->listen_any_port = true; /* the bound port is logged and sent with READY=1 */
    }
    if (a->uri) {
        free(c->uri);
        c->uri = strdup(a->uri);
    }
    if (!c->listen || !c->uri)
        return -ENOMEM;
    r = conf_check(c, errs);
    if (r < 0)
        return r;
    if (c->users_file) {
        r = users_load(c->users_file, c->realm, &users, errs);
        if (r < 0)
            return r;
        if (users_count(users) == 0)
            log_warning("The users file %s has no user of realm '%s': nobody can log in",
                        c->users_file, c->realm);
    }
    *ret = steal_ptr(&c);
    *ret_users = users;
    return 0;
}

static bool sockaddr_is_local(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_UNIX)
        return true;
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

        return IN6_IS_ADDR_LOOPBACK(a6) ||
               (IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127);
    }
    return false;
}

/* Whether the listener reaches only this machine (loopback or Unix). */
static bool listen_is_local(const Conf *c, int listen_fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    ListenAddr la;
    bool local;

    if (listen_fd >= 0) {
        if (getsockname(listen_fd, (struct sockaddr *)&ss, &len) < 0)
            return false;
        local = sockaddr_is_local((struct sockaddr *)&ss);
    } else {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
        struct addrinfo *res = NULL, *p;

        if (conf_parse_listen_any(c->listen, &la) < 0)
            return false;
        local = la.is_unix;
        if (!local && la.host[0] && getaddrinfo(la.host, NULL, &hints, &res) == 0) {
            local = true;
            for (p = res; p; p = p->ai_next)
                local = local && sockaddr_is_local(p->ai_addr);
            freeaddrinfo(res);
        }
    }
    return local;
}

/* Protected mode (API.md section 8): without users, loopback or Unix only,
 * unless [auth] anonymous_networks says who may come without credentials
 * (then nobody else is served, and nobody is admin over the network). */
static bool listening_local;

static void say_anonymous(const Conf *c)
{
    _cleanup_free_ char *nets = NULL;
    Buf b = { 0 };

    if (!auth_anonymous_enabled(c))
        return;
    for (size_t i = 0; c->anonymous_networks[i]; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", c->anonymous_networks[i]);
    nets = buf_steal(&b);
    log_notice("Requests without credentials from %s are served with role %s%s", nets ? nets : "?",
               role_to_string(c->anonymous_role),
               c->users_file ? "" : "; every other address is refused (no users file)");
}

static int check_protected(const Conf *c, int listen_fd)
{
    listening_local = listen_is_local(c, listen_fd);
    say_anonymous(c);
    if (c->users_file || auth_anonymous_enabled(c))
        return 0;
    if (!listening_local) {
        log_error("Refusing to listen on %s without authentication: anyone who reaches it "
                  "could power machines off. Add users with 'htdigest -c %s/virtmcd/users.digest "
                  "%s NAME', set [auth] users_file, set [auth] anonymous_networks to the "
                  "addresses that may act without credentials, or listen on 127.0.0.1 or "
                  "unix:/path.",
                  listen_fd >= 0 ? "the inherited socket" : c->listen, SYSCONFDIR, c->realm);
        return -EPERM;
    }
    return 0;
}

static char *read_pem(const char *path, const char *what, bool secret)
{
    struct stat st;
    char *s = NULL;
    int r;

    /* A private key others can read is a key others have. */
    if (secret && stat(path, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        log_error("The TLS key %s is accessible by group or others (mode %04o); run "
                  "'chmod 600 %s'", path, (unsigned)(st.st_mode & 07777), path);
        return NULL;
    }
    r = read_file(path, 1 << 20, &s, NULL);
    if (r < 0) {
        log_error_errno(r, "Cannot read the TLS %s %s: %m", what, path);
        return NULL;
    }
    return s;
}

static void notify_status(void)
{
    char status[256];

    snprintf(status, sizeof(status), "%zu of %zu hosts up, %zu machines, %llu requests",
             virt_hosts_up(), virt_host_count(), virt_machine_count(),
             (unsigned long long)http_requests_total());
    sd_notify_status(status);
}

static bool restart_needed(const Conf *a, const Conf *b)
{
    return !streq_ptr(a->listen, b->listen) || !streq_ptr(a->tls_cert, b->tls_cert) ||
           !streq_ptr(a->tls_key, b->tls_key) || a->max_connections != b->max_connections ||
           a->max_connections_per_ip != b->max_connections_per_ip ||
           a->connection_memory != b->connection_memory || a->threads != b->threads || a->workers != b->workers ||
           a->request_timeout != b->request_timeout || a->socket_mode != b->socket_mode ||
           !streq_ptr(a->socket_group, b->socket_group) || !streq_ptr(a->uri, b->uri) ||
           a->n_hosts != b->n_hosts;
}

static void reload(const Args *a, const Conf *running)
{
    ConfErrors errs = { 0 };
    Conf *c = NULL;
    Users *users = NULL;

    sd_notify_reloading();
    if (load_conf(a, &errs, &c, &users) < 0) {
        log_error("Reload refused: %s has errors; the running configuration stays",
                  a->conf_path);
        for (size_t i = 0; i < errs.n; i++)
            log_error("%s", errs.msgs[i]);
    } else if (!c->users_file && !auth_anonymous_enabled(c) && !listening_local) {
        log_error("Reload refused: without [auth] users_file every request would be the "
                  "anonymous admin, and virtmcd listens beyond this machine; the running "
                  "configuration stays");
        conf_free(c);
        users_free(users);
    } else {
        if (restart_needed(running, c))
            log_warning("Some changed settings (listen, TLS, connection limits, hosts) "
                        "apply only after a restart");
        http_set_max_body(c->max_body_bytes);
        http_set_access_log(c->access_log);
        http_set_deadlines(c->header_timeout, c->body_timeout);
        say_anonymous(c);
        api_set_conf(c, users);
        addrcache_wake();
        log_notice("Configuration reloaded from %s", a->conf_path);
    }
    conf_errors_clear(&errs);
    sd_notify_ready(http_bound_address());
}

int main(int argc, char **argv)
{
    _cleanup_free_ char *cert = NULL, *key = NULL;
    ConfErrors errs = { 0 };
    Conf *conf = NULL;
    Users *users = NULL;
    Conf *running; /* owned by api once installed */
    HttpConfig hc;
    sigset_t sigs;
    Args args;
    int r, listen_fd;
    uint64_t wd_usec;

    if (parse_args(argc, argv, &args) < 0)
        return 2;
    log_setup(LOG_TARGET_AUTO, args.verbose ? LOG_DEBUG : LOG_INFO);
    metrics_init();

    r = load_conf(&args, &errs, &conf, &users);
    if (args.test_config) {
        if (r < 0) {
            print_errors(&errs);
            if (errs.n == 0)
                fprintf(stderr, "%s: %s\n", args.conf_path, strerror(-r));
            conf_errors_clear(&errs);
            return 1;
        }
        printf("configuration OK\n");
        conf_free(conf);
        users_free(users);
        return 0;
    }
    if (r < 0) {
        for (size_t i = 0; i < errs.n; i++)
            log_error("%s", errs.msgs[i]);
        if (errs.n == 0)
            log_error_errno(r, "Cannot load the configuration %s: %m", args.conf_path);
        log_error("Fix the configuration (check it with 'virtmcd --test-config -c %s')",
                  args.conf_path);
        conf_errors_clear(&errs);
        return 1;
    }

    /* Signals are taken by this thread alone, with sigtimedwait below. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Lines are written by log's own thread from now on (it inherits the
     * signal mask); every exit writes what is queued. */
    if (log_start() == 0)
        atexit(log_stop);

    listen_fd = sd_listen_fd();
    if (listen_fd == -EINVAL) {
        log_error("systemd passed several sockets; virtmcd serves exactly one");
        return 1;
    }
    if (listen_fd < 0)
        listen_fd = -1;
    if (check_protected(conf, listen_fd) < 0) {
        conf_free(conf);
        users_free(users);
        return 1;
    }
    if (conf->tls_cert) {
        cert = read_pem(conf->tls_cert, "certificate", false);
        key = cert ? read_pem(conf->tls_key, "key", true) : NULL;
        if (!cert || !key) {
            conf_free(conf);
            users_free(users);
            return 1;
        }
    }

    virt_set_verbose(args.verbose >= 2);
    http_set_verbose(args.verbose >= 2);
    running = conf;
    api_set_conf(conf, users);
    /* ops observes virt from its first connection on. */
    r = ops_init(api_conf_acquire, api_conf_release);
    if (r < 0) {
        log_error_errno(r, "Cannot start the operations worker: %m");
        api_shutdown();
        return 1;
    }
    r = addrcache_init(api_conf_acquire, api_conf_release);
    if (r < 0) {
        log_error_errno(r, "Cannot set up the address cache: %m");
        (void)ops_shutdown(1000);
        api_shutdown();
        return 1;
    }
    /* --uri replaces [host] sections too: one command, one host. */
    r = virt_init(conf, args.uri, 5000);
    if (r < 0) {
        (void)addrcache_stop(0);
        (void)ops_shutdown(1000);
        api_shutdown();
        return 1;
    }
    r = addrcache_start();
    if (r < 0) {
        log_error_errno(r, "Cannot start the address cache: %m");
        (void)addrcache_stop(0);
        if (ops_shutdown(5000) && virt_shutdown(now_usec() + STOP_TIMEOUT_USEC, false) == 0)
            api_shutdown();
        return 1;
    }
    r = ops_pools_start();
    if (r < 0) {
        log_error_errno(r, "Cannot start the pool manager: %m");
        if (addrcache_stop(5000) && ops_shutdown(5000) &&
            virt_shutdown(now_usec() + STOP_TIMEOUT_USEC, false) == 0)
            api_shutdown();
        return 1;
    }

    hc = (HttpConfig){
        .listen = running->listen,
        .listen_fd = listen_fd,
        .tls_cert_pem = cert,
        .tls_key_pem = key,
        .max_connections = running->max_connections,
        .max_connections_per_ip = running->max_connections_per_ip,
        .connection_memory = running->connection_memory,
        .max_body_bytes = running->max_body_bytes,
        .request_timeout = running->request_timeout,
        .header_timeout = running->header_timeout,
        .body_timeout = running->body_timeout,
        .socket_mode = running->socket_mode,
        .socket_group = running->socket_group,
        .early = api_handle_early,
        .threads = running->threads,
        .workers = running->workers,
        .access_log = running->access_log,
    };
    r = http_start(&hc, api_handle);
    if (r < 0) {
        if (ops_pools_stop(5000) && addrcache_stop(5000) && ops_shutdown(5000) &&
            virt_shutdown(now_usec() + STOP_TIMEOUT_USEC, false) == 0)
            api_shutdown();
        return 1;
    }
    log_notice("virtmcd %s listening on %s%s%s%s, %zu of %zu libvirt hosts up", PACKAGE_VERSION,
               listen_fd >= 0 ? "the socket from systemd (" : "", http_bound_address(),
               listen_fd >= 0 ? ")" : "", cert ? " (TLS)" : "", virt_hosts_up(),
               virt_host_count());
    sd_notify_ready(http_bound_address());
    notify_status();

    wd_usec = sd_watchdog_usec();
    for (;;) {
        uint64_t tick = wd_usec ? wd_usec / 2 : 5000000u;
        struct timespec ts = { .tv_sec = (time_t)(tick / 1000000u),
                               .tv_nsec = (long)(tick % 1000000u) * 1000 };
        int sig = sigtimedwait(&sigs, NULL, &ts);

        if (wd_usec)
            sd_notify_watchdog();
        if (sig < 0) {
            notify_status();
            continue;
        }
        if (sig == SIGHUP) {
            void *h = NULL;
            const Conf *cur = api_conf_acquire(&h);

            reload(&args, cur ? cur : running);
            api_conf_release(h);
            continue;
        }
        break;
    }
    log_notice("Stopping");
    sd_notify_stopping();
    ops_pools_stop_begin();
    {
        uint64_t start = now_usec();
        size_t stuck = http_stop(start + STOP_REQUESTS_USEC, start + STOP_HTTP_USEC);
        uint64_t now = now_usec(), left = start + STOP_TIMEOUT_USEC > now
                                               ? start + STOP_TIMEOUT_USEC - now : 0;

        /* The pool manager starts and stops machines through the
         * operations layer: it goes first, within a third of what is left. */
        if (!ops_pools_stop((unsigned)(left / 3000u)))
            stuck++;
        now = now_usec();
        left = start + STOP_TIMEOUT_USEC > now ? start + STOP_TIMEOUT_USEC - now : 0;
        /* The operations worker may use the hosts: it goes next, within
         * half of what is left; hosts and configuration stay while a
         * thread may still use them. */
        if (!ops_shutdown((unsigned)(left / 2000u)))
            stuck++;
        /* The address cache's reads use the hosts too, within half of what
         * is left now. */
        now = now_usec();
        left = start + STOP_TIMEOUT_USEC > now ? start + STOP_TIMEOUT_USEC - now : 0;
        if (!addrcache_stop((unsigned)(left / 2000u)))
            stuck++;
        stuck += virt_shutdown(start + STOP_TIMEOUT_USEC, stuck > 0);
        if (stuck > 0) {
            log_warning("Exiting after %.1f s with %zu threads stuck in libvirt calls; what "
                        "they use is left allocated", (double)(now_usec() - start) / 1e6, stuck);
            return 0;
        }
    }
    api_shutdown();
    return 0;
}
