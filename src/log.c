/* log.c: journal or stderr lines.
 *
 * Owns the log target and level, and, once log_start() ran, a writer thread:
 * a thread that logs copies its line into a queue and goes on; the writer
 * takes everything queued at once and writes it (on stderr, one write for
 * the lot), so the access log of 100,000 requests/s costs the HTTP threads
 * a memcpy each, not a system call under a lock.  Lines keep their order.
 * Access lines (log_access) wait up to 10 ms for company; any other line is
 * written, with everything queued before it, before log returns.
 * It must never call into another module but sd (the journal writer), and
 * never block for long: a line that finds the queue full is dropped and
 * counted, a failed write is dropped, not retried. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sd.h"
#include "util.h"

static int max_level = LOG_INFO;
static bool use_journal;
static int pid; /* ours, once known (no fork after start) */
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;

/* The queue: lines (stderr) or records (journal: level byte, message,
 * fields, each NUL-terminated, then an empty field), appended to `buf`
 * under `q_lock`; the writer swaps in its spare buffer and writes outside
 * the lock. */
#define QUEUE_BYTES (256u * 1024u)
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_drained = PTHREAD_COND_INITIALIZER;
static char *q_buf, *q_spare;
static size_t q_len;
static unsigned long q_dropped;
static bool q_running, q_stop, q_writing;
static bool q_idle;       /* the writer waits for a first line */
static bool q_coalescing; /* the writer waits a moment for more lines */
static bool q_urgent;     /* a line queued that must not wait */
static uint64_t q_in, q_out, q_written; /* bytes ever queued, taken, written */
/* Access lines wait up to this long for company: at 50,000 requests/s a
 * wake-up and a write per line would cost the HTTP threads a system call
 * each; this way the writer wakes about 100 times a second.  Any other line
 * is urgent and written at once, with whatever is queued before it. */
#define COALESCE_NS (10 * 1000 * 1000)
#define COALESCE_BYTES (QUEUE_BYTES / 4)
static pthread_t q_thread;

void log_setup(LogTarget target, int level)
{
    max_level = level;
    switch (target) {
    case LOG_TARGET_STDERR:
        use_journal = false;
        break;
    case LOG_TARGET_JOURNAL:
        use_journal = true;
        break;
    case LOG_TARGET_AUTO:
        /* systemd sets JOURNAL_STREAM to the device:inode of stderr when it
         * connected stderr to the journal; a non-terminal stderr (a pipe
         * from a supervisor) also gets the structured journal. */
        use_journal = sd_stderr_is_journal() || (!isatty(STDERR_FILENO) && sd_journal_available());
        break;
    }
}

int log_get_max_level(void)
{
    return __atomic_load_n(&max_level, __ATOMIC_RELAXED);
}

bool log_structured(void)
{
    return use_journal;
}

bool log_enabled(int level)
{
    return level <= log_get_max_level();
}

static const char *level_name(int level)
{
    switch (level) {
    case LOG_DEBUG:
        return "debug";
    case LOG_INFO:
        return "info";
    case LOG_NOTICE:
        return "notice";
    case LOG_WARNING:
        return "warning";
    default:
        return "error";
    }
}

static void write_records(const char *p, size_t len)
{
    const char *end = p + len;

    while (p < end) {
        const char *fields[16];
        int level = (unsigned char)*p++;
        const char *msg = p;
        size_t nf = 0;

        p += strlen(p) + 1;
        while (*p) {
            if (nf < ELEMENTSOF(fields) - 1)
                fields[nf++] = p;
            p += strlen(p) + 1;
        }
        p++;
        fields[nf] = NULL;
        sd_journal_log(level, msg, fields);
    }
}

static void *writer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&q_lock);
    for (;;) {
        char *batch;
        size_t len;
        unsigned long dropped;

        while (q_len == 0 && q_dropped == 0 && !q_stop) {
            q_idle = true;
            pthread_cond_wait(&q_cond, &q_lock);
            q_idle = false;
        }
        if (q_len == 0 && q_dropped == 0)
            break; /* stopping, and everything is written */
        if (!q_urgent && !q_stop && q_len < COALESCE_BYTES) {
            struct timespec until;

            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += COALESCE_NS;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            q_coalescing = true;
            while (!q_urgent && !q_stop && q_len < COALESCE_BYTES &&
                   pthread_cond_timedwait(&q_cond, &q_lock, &until) == 0)
                ;
            q_coalescing = false;
        }
        q_urgent = false;
        q_out += q_len; /* counted as written once the write below returns */
        batch = q_buf;
        len = q_len;
        dropped = q_dropped;
        q_buf = q_spare;
        q_spare = NULL;
        q_len = 0;
        q_dropped = 0;
        q_writing = true;
        pthread_mutex_unlock(&q_lock);
        if (use_journal)
            write_records(batch, len);
        else if (len > 0) {
            pthread_mutex_lock(&stderr_lock);
            (void)write_full(STDERR_FILENO, batch, len);
            pthread_mutex_unlock(&stderr_lock);
        }
        if (dropped > 0) {
            char line[128];
            int n = snprintf(line, sizeof(line),
                             "virtmcd[%d] warning: %lu log lines dropped (the writer fell "
                             "behind)\n", (int)getpid(), dropped);

            if (use_journal)
                sd_journal_log(LOG_WARNING, line, NULL);
            else
                (void)write_full(STDERR_FILENO, line, (size_t)n);
        }
        pthread_mutex_lock(&q_lock);
        q_spare = batch;
        q_writing = false;
        q_written = q_out;
        pthread_cond_broadcast(&q_drained);
    }
    pthread_mutex_unlock(&q_lock);
    return NULL;
}

/* Queues one line or record, given in parts; false when the writer does
 * not run, so that the caller writes it itself. */
static bool enqueue(const struct iovec *parts, size_t n_parts, bool urgent)
{
    size_t len = 0;
    bool wake;

    for (size_t i = 0; i < n_parts; i++)
        len += parts[i].iov_len;
    pthread_mutex_lock(&q_lock);
    if (!q_running) {
        pthread_mutex_unlock(&q_lock);
        return false;
    }
    if (q_len + len > QUEUE_BYTES)
        q_dropped++;
    else
        for (size_t i = 0; i < n_parts; i++) {
            memcpy(q_buf + q_len, parts[i].iov_base, parts[i].iov_len);
            q_len += parts[i].iov_len;
            q_in += parts[i].iov_len;
        }
    q_urgent |= urgent;
    wake = q_idle || (q_coalescing && (urgent || q_len >= COALESCE_BYTES));
    pthread_mutex_unlock(&q_lock);
    if (wake)
        pthread_cond_signal(&q_cond);
    return true;
}

int log_start(void)
{
    int r;

    q_buf = malloc(QUEUE_BYTES);
    q_spare = malloc(QUEUE_BYTES);
    if (!q_buf || !q_spare) {
        free(q_buf);
        free(q_spare);
        q_buf = q_spare = NULL;
        return -ENOMEM;
    }
    r = pthread_create(&q_thread, NULL, writer_main, NULL);
    if (r != 0) {
        free(q_buf);
        free(q_spare);
        q_buf = q_spare = NULL;
        return -r;
    }
    pthread_mutex_lock(&q_lock);
    q_running = true;
    pthread_mutex_unlock(&q_lock);
    return 0;
}

void log_flush(void)
{
    uint64_t upto;

    pthread_mutex_lock(&q_lock);
    upto = q_in;
    q_urgent = true;
    pthread_cond_signal(&q_cond);
    /* Up to what is queued now: a steady stream of access lines behind it
     * never keeps the caller waiting. */
    while (q_running && q_written < upto)
        pthread_cond_wait(&q_drained, &q_lock);
    pthread_mutex_unlock(&q_lock);
}

void log_stop(void)
{
    pthread_mutex_lock(&q_lock);
    if (!q_running) {
        pthread_mutex_unlock(&q_lock);
        return;
    }
    q_stop = true;
    pthread_cond_signal(&q_cond);
    pthread_mutex_unlock(&q_lock);
    pthread_join(q_thread, NULL);
    pthread_mutex_lock(&q_lock);
    q_running = false;
    q_stop = false;
    free(q_buf);
    free(q_spare);
    q_buf = q_spare = NULL;
    pthread_mutex_unlock(&q_lock);
}

static int log_va(int level, int error, const char *const *fields, bool urgent, const char *fmt,
                  va_list ap) __attribute__((format(printf, 5, 0)));
static int log_va(int level, int error, const char *const *fields, bool urgent, const char *fmt,
                  va_list ap)
{
    char msg[2048];
    int saved = errno;

    if (!log_enabled(level))
        return error ? -abs(error) : 0;
    /* %m must print the error we were given, not whatever errno holds. */
    errno = abs(error);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    /* Messages quote clients (user names, paths): a newline in one must
     * not forge a log line. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';

    if (use_journal) {
        char head = (char)level;
        char rec[4096];
        size_t n = 0;

        for (size_t i = 0; fields && fields[i]; i++) {
            size_t fl = strlen(fields[i]) + 1;

            if (n + fl + 1 > sizeof(rec))
                break;
            memcpy(rec + n, fields[i], fl);
            n += fl;
        }
        rec[n++] = '\0';
        if (!enqueue((struct iovec[]){ { &head, 1 }, { msg, strlen(msg) + 1 }, { rec, n } }, 3,
                     urgent))
            sd_journal_log(level, msg, fields);
        else if (urgent)
            log_flush();
    } else {
        /* The second's text is made once per second per thread: localtime_r
         * takes glibc's time zone lock, which every HTTP thread writing the
         * access log would queue on. */
        static __thread time_t ts_sec = -1;
        static __thread char ts[32];
        char line[2560];
        struct timespec t;
        int n;

        clock_gettime(CLOCK_REALTIME, &t);
        if (t.tv_sec != ts_sec) {
            struct tm tm;

            localtime_r(&t.tv_sec, &tm);
            strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
            ts_sec = t.tv_sec;
        }
        if (!pid)
            pid = (int)getpid();
        n = snprintf(line, sizeof(line), "%s.%03ld virtmcd[%d] %s: %s\n", ts,
                     t.tv_nsec / 1000000, pid, level_name(level), msg);
        if (n > (int)sizeof(line))
            n = sizeof(line);
        if (!enqueue(&(struct iovec){ line, (size_t)n }, 1, urgent)) {
            pthread_mutex_lock(&stderr_lock);
            (void)write_full(STDERR_FILENO, line, (size_t)n);
            pthread_mutex_unlock(&stderr_lock);
        } else if (urgent) {
            log_flush();
        }
    }
    errno = saved;
    return error ? -abs(error) : 0;
}

int log_internal(int level, int error, const char *const *fields, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = log_va(level, error, fields, true, fmt, ap);
    va_end(ap);
    return r;
}

void log_access(const char *const *fields, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void)log_va(LOG_INFO, 0, fields, false, fmt, ap);
    va_end(ap);
}
