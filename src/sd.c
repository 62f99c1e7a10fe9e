/* sd.c: systemd integration over libsystemd.
 *
 * Owns nothing but wraps sd_notify, sd_listen_fds and sd_journal_send so
 * that no other module includes a systemd header.  Never logs (log uses it). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "sd.h"
#include "util.h"

void sd_notify_ready(const char *listen)
{
    /* sd_notify(3): custom variables take an X_ prefix. */
    if (listen && *listen)
        (void)sd_notifyf(0, "READY=1\nX_VIRTMCD_LISTEN=%s", listen);
    else
        (void)sd_notify(0, "READY=1");
}

void sd_notify_reloading(void)
{
    /* systemd >= 253 wants MONOTONIC_USEC with RELOADING=1 for Type=notify-reload;
     * older ones ignore the extra field. */
    (void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)now_usec());
}

void sd_notify_stopping(void)
{
    (void)sd_notify(0, "STOPPING=1");
}

void sd_notify_status(const char *status)
{
    (void)sd_notifyf(0, "STATUS=%s", status);
}

void sd_notify_watchdog(void)
{
    (void)sd_notify(0, "WATCHDOG=1");
}

uint64_t sd_watchdog_usec(void)
{
    uint64_t usec = 0;

    if (sd_watchdog_enabled(0, &usec) <= 0)
        return 0;
    return usec;
}

int sd_listen_fd(void)
{
    int n = sd_listen_fds(1);

    if (n < 0)
        return n;
    if (n == 0)
        return -ENOENT;
    if (n > 1)
        return -EINVAL;
    return SD_LISTEN_FDS_START;
}

bool sd_stderr_is_journal(void)
{
    const char *e = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
        return false;
    if (fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

bool sd_journal_available(void)
{
    return access("/run/systemd/journal/socket", W_OK) == 0;
}

void sd_journal_log(int level, const char *msg, const char *const *fields)
{
    struct iovec iov[16];
    char prio[32];
    char message[2100];
    size_t n = 0;

    snprintf(prio, sizeof(prio), "PRIORITY=%d", level);
    snprintf(message, sizeof(message), "MESSAGE=%s", msg);
    iov[n++] = (struct iovec){ .iov_base = message, .iov_len = strlen(message) };
    iov[n++] = (struct iovec){ .iov_base = prio, .iov_len = strlen(prio) };
    iov[n++] = (struct iovec){ .iov_base = (char *)"SYSLOG_IDENTIFIER=virtmcd",
                               .iov_len = strlen("SYSLOG_IDENTIFIER=virtmcd") };
    for (size_t i = 0; fields && fields[i] && n < ELEMENTSOF(iov); i++)
        iov[n++] = (struct iovec){ .iov_base = (char *)fields[i], .iov_len = strlen(fields[i]) };
    (void)sd_journal_sendv(iov, (int)n);
}
