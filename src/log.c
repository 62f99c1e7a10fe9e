/* log.c: journal or stderr lines.
 *
 * Owns the log target and level.  It must never call into another module but
 * sd (the journal writer), and never block for long: a failed write is
 * dropped, not retried. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sd.h"
#include "util.h"

static int max_level = LOG_INFO;
static bool use_journal;
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;

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

int log_internal(int level, int error, const char *const *fields, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    int saved = errno;

    if (!log_enabled(level))
        return error ? -abs(error) : 0;
    /* %m must print the error we were given, not whatever errno holds. */
    errno = abs(error);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Messages quote clients (user names, paths): a newline in one must
     * not forge a log line. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';

    if (use_journal)
        sd_journal_log(level, msg, fields);
    else {
        char line[2560];
        char ts[32];
        struct timespec t;
        struct tm tm;
        int n;

        clock_gettime(CLOCK_REALTIME, &t);
        localtime_r(&t.tv_sec, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
        n = snprintf(line, sizeof(line), "%s.%03ld virtmcd[%d] %s: %s\n", ts,
                     t.tv_nsec / 1000000, (int)getpid(), level_name(level), msg);
        if (n > (int)sizeof(line))
            n = sizeof(line);
        pthread_mutex_lock(&stderr_lock);
        (void)write_full(STDERR_FILENO, line, (size_t)n);
        pthread_mutex_unlock(&stderr_lock);
    }
    errno = saved;
    return error ? -abs(error) : 0;
}
