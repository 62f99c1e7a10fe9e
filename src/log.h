/* log.h: logging for the whole daemon.
 *
 * Lines go to the journal with structured fields when stderr is the journal
 * or not a terminal, else as readable lines on stderr.  log never decides
 * anything: callers log once, where the decision is taken.  Thread-safe. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <syslog.h>

typedef enum LogTarget {
    LOG_TARGET_AUTO,    /* journal unless stderr is a terminal */
    LOG_TARGET_STDERR,
    LOG_TARGET_JOURNAL,
} LogTarget;

void log_setup(LogTarget target, int max_level);
/* From log_start() to log_stop(), lines are queued and written by a thread
 * of log's own (see log.c); log_flush() waits until all queued are written.
 * Without it, every thread writes its own lines. */
int log_start(void);
void log_flush(void);
void log_stop(void);
int log_get_max_level(void);
bool log_enabled(int level);
/* Whether lines go to the journal, where structured fields are kept. */
bool log_structured(void);

/* Structured fields are given as "KEY=value" strings, NULL-terminated.
 * Returns -abs(error) when error != 0, else 0, so callers can
 * `return log_error_errno(r, ...)`.  %m prints strerror(abs(error)). */
int log_internal(int level, int error, const char *const *fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An access-log line (info): it may wait a few milliseconds in the queue
 * for others, to be written with them (see log.c). */
void log_access(const char *const *fields, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_full_errno(level, error, ...) log_internal((level), (error), NULL, __VA_ARGS__)
#define log_debug(...) \
    do { if (log_enabled(LOG_DEBUG)) (void)log_internal(LOG_DEBUG, 0, NULL, __VA_ARGS__); } while (0)
#define log_info(...) (void)log_internal(LOG_INFO, 0, NULL, __VA_ARGS__)
#define log_notice(...) (void)log_internal(LOG_NOTICE, 0, NULL, __VA_ARGS__)
#define log_warning(...) (void)log_internal(LOG_WARNING, 0, NULL, __VA_ARGS__)
#define log_error(...) (void)log_internal(LOG_ERR, 0, NULL, __VA_ARGS__)
#define log_warning_errno(error, ...) log_internal(LOG_WARNING, (error), NULL, __VA_ARGS__)
#define log_error_errno(error, ...) log_internal(LOG_ERR, (error), NULL, __VA_ARGS__)
