/* bare-server: the ceiling of bench/run.sh.  A libmicrohttpd server that
 * answers every request with one fixed JSON body of the size of a status
 * answer, and nothing else: no routing, no authentication, no logging, no
 * libvirt.  What virtmcd does per request costs whatever it reaches less
 * than this.
 *
 * It starts libmicrohttpd the way src/http.c does, so that the ratio
 * measures virtmcd's own work and not a different server set-up: internal
 * polling with epoll, a thread pool of the same size (one thread per CPU,
 * as [server] threads = 0), the shipped connection limit, per-connection
 * memory and idle timeout, and with --tls the same TLS priorities.  It
 * leaves out what only virtmcd needs: suspend/resume (its worker queue),
 * the connection and completion callbacks, the URI log callback and the
 * strict client discipline.
 *
 *   bare-server [--threads N] [--per-ip N] [--tls CERT KEY]
 *
 * Listens on 127.0.0.1 on a port the kernel picks, prints "PORT <n>" on
 * stdout once it accepts, and serves until SIGTERM or SIGINT. */
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* {"state": "running"} plus what a status answer's size varies by: about
 * the 20 bytes of virtmcd's answer. */
static const char BODY[] = "{\"state\": \"running\"}";

#define TLS_PRIORITIES                                                                        \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:+DHE-RSA:"     \
    "-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD"

static struct MHD_Response *response_;
static volatile sig_atomic_t stop_;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    /* A body, if any, is read and dropped before the answer. */
    if (*con_cls == NULL) {
        *con_cls = conn;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(conn, MHD_HTTP_OK, response_);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "re");
    char *buf;
    long len;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = calloc(1, (size_t)len + 1);
    if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static void on_signal(int sig)
{
    (void)sig;
    stop_ = 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: bare-server [--threads N] [--per-ip N] [--tls CERT KEY]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct MHD_OptionItem opts[12];
    size_t n = 0;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = (unsigned)(cpus > 0 ? cpus : 1), per_ip = 0;
    char *cert = NULL, *key = NULL;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t salen = sizeof(sa);
    struct MHD_Daemon *d;
    int fd, one = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--per-ip") == 0 && i + 1 < argc)
            per_ip = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--tls") == 0 && i + 2 < argc) {
            cert = read_file(argv[++i]);
            key = read_file(argv[++i]);
            if (!cert || !key) {
                fprintf(stderr, "bare-server: cannot read %s or %s\n", argv[i - 1], argv[i]);
                return 1;
            }
        } else
            return usage();
    }
    if (threads < 1)
        threads = 1;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &salen) < 0) {
        perror("bare-server: socket");
        return 1;
    }

    response_ = MHD_create_response_from_buffer(strlen(BODY), (void *)BODY,
                                                MHD_RESPMEM_PERSISTENT);
    if (!response_ ||
        MHD_add_response_header(response_, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") !=
            MHD_YES)
        return 1;

    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET, fd, NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, threads, NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, 1024, NULL };
    if (per_ip)
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT, 65536, NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL };
    if (cert) {
        flags |= MHD_USE_TLS;
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, cert };
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, key };
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
                                             (void *)TLS_PRIORITIES };
    }
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

    d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_ARRAY, opts,
                         MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bare-server: MHD_start_daemon failed\n");
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("PORT %u\n", (unsigned)ntohs(sa.sin_port));
    fflush(stdout);
    while (!stop_)
        pause();
    MHD_stop_daemon(d);
    MHD_destroy_response(response_);
    free(cert);
    free(key);
    return 0;
}
