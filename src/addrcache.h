/* addrcache.h: the last known IP addresses of every running machine, for
 * the machine list (GET /service/machines?addresses=1), which must never
 * ask libvirt once per machine or per request.
 *
 * One thread of its own reads every active machine's addresses
 * (virt_machine_addresses) every [inventory] address_refresh seconds, read
 * from the current configuration at each cycle (0: no cache, no reads), and
 * right after a host (re)connects.  A machine that starts is read at once and
 * again, with a growing delay, until it has an address (a guest's DHCP lease
 * comes some seconds after its start).  A machine that stops or goes away
 * loses its entry at its event; a full refresh purges what events missed.
 *
 * Threads: addrcache_init, _start, _stop from main only; addrcache_get and
 * addrcache_wake from any thread.  Lock order: cache_lock (addrcache.c) is
 * taken before a host's table lock (it looks the machine up in virt's table
 * while storing, so that a read that raced a stop is never kept), never held
 * across a libvirt call, and never taken while holding a virt lock. */
#pragma once

#include <stdbool.h>

#include "conf.h"
#include "virt.h"

/* The configuration for the cycle (the signatures of ops' OpsConfAcquire
 * and OpsConfRelease). */
typedef const Conf *(*AddrcacheConfAcquire)(void **ret_ref);
typedef void (*AddrcacheConfRelease)(void *ref);

/* Subscribe to virt's events (call before virt_init()). */
int addrcache_init(AddrcacheConfAcquire acquire, AddrcacheConfRelease release);
/* Start the refresh thread (after virt_init()). */
int addrcache_start(void);
/* The configuration changed: look at address_refresh again now. */
void addrcache_wake(void);
/* Stop the thread, waiting at most timeout_ms; false if it is still stuck in
 * a libvirt call (then the hosts must stay).  Frees the cache. */
bool addrcache_stop(unsigned timeout_ms);

/* A copy of the addresses last read for this machine (caller frees with
 * virt_addresses_free); -ENOENT when none are known (not running, not read
 * yet, cache off), -ENOMEM. */
int addrcache_get(const Host *h, const char *name, VirtAddresses **ret);
/* How many machines the cache holds (tests, status). */
size_t addrcache_size(void);
