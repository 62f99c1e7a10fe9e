/* sd.h: the only <systemd/...> user: notify, watchdog, listen fds, journal.
 *
 * Without NOTIFY_SOCKET the notify calls are no-ops; without LISTEN_FDS no
 * socket is inherited.  Callable from any thread. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* READY=1, with X_VIRTMCD_LISTEN=ADDR (the bound address, so that a
 * supervisor or a test learns the port of --listen ADDR:0) when listen is set. */
void sd_notify_ready(const char *listen);
void sd_notify_reloading(void);
void sd_notify_stopping(void);
void sd_notify_status(const char *status);
void sd_notify_watchdog(void);
/* The watchdog interval in µs when systemd asked for one, else 0. */
uint64_t sd_watchdog_usec(void);

/* The one inherited listening socket, -ENOENT when there is none, -EINVAL
 * when there are several (virtmcd serves exactly one). */
int sd_listen_fd(void);

bool sd_stderr_is_journal(void);
bool sd_journal_available(void);
/* fields: "KEY=value" strings, NULL-terminated, or NULL. */
void sd_journal_log(int level, const char *msg, const char *const *fields);
