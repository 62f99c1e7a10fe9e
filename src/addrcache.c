/* addrcache.c: the address cache of the machine list (addrcache.h).
 *
 * Owns one thread, the cache (entries sorted by machine name, then host) and
 * the queue of machines that started and are to be read soon.  It answers
 * lookups from memory only; every libvirt call happens on its own thread,
 * one machine at a time, with no lock held.  It never changes a machine. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "addrcache.h"
#include "log.h"
#include "util.h"

/* A started machine is read at once, then after 1, 2, 4, ... seconds while
 * it has no address, STARTED_TRIES times in all (about a minute). */
#define STARTED_TRIES 7

typedef struct Entry {
    const Host *host;
    char name[256];
    VirtAddresses *addrs;
} Entry;

typedef struct Due {
    Host *host;
    char name[256];
    uint64_t at_usec; /* now_usec() clock */
    unsigned tries;   /* reads done */
    struct Due *next;
} Due;

/* cache_lock guards everything below but the configuration callbacks, which
 * are set once before the thread starts. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cache_cond;
static Entry *entries;
static size_t n_entries;
static Due *due;
static bool stopping, kicked, full_due, running;
static uint64_t last_full_usec; /* 0: no full refresh since the cache was (re)started */
static pthread_t thread;

static AddrcacheConfAcquire conf_acquire;
static AddrcacheConfRelease conf_release;

static int key_cmp(const Host *ha, const char *na, const Host *hb, const char *nb)
{
    int c = strcmp(na, nb);

    if (c != 0)
        return c;
    return (uintptr_t)ha < (uintptr_t)hb ? -1 : (uintptr_t)ha > (uintptr_t)hb;
}

/* cache_lock held: the entry's index, or where it would go (*ret_found false). */
static size_t entry_find(const Host *h, const char *name, bool *ret_found)
{
    size_t lo = 0, hi = n_entries;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = key_cmp(entries[mid].host, entries[mid].name, h, name);

        if (c == 0) {
            *ret_found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *ret_found = false;
    return lo;
}

/* cache_lock held. */
static void entry_remove_at(size_t i)
{
    virt_addresses_free(entries[i].addrs);
    memmove(&entries[i], &entries[i + 1], (n_entries - i - 1) * sizeof(Entry));
    n_entries--;
}

/* cache_lock held. */
static void entry_forget(const Host *h, const char *name)
{
    bool found;
    size_t i = entry_find(h, name, &found);

    if (found)
        entry_remove_at(i);
}

/* cache_lock held: takes a. */
static void entry_set(const Host *h, const char *name, VirtAddresses *a)
{
    bool found;
    size_t i = entry_find(h, name, &found);
    Entry *ne;

    if (found) {
        virt_addresses_free(entries[i].addrs);
        entries[i].addrs = a;
        return;
    }
    ne = realloc(entries, (n_entries + 1) * sizeof(Entry));
    if (!ne) {
        virt_addresses_free(a);
        return;
    }
    entries = ne;
    memmove(&entries[i + 1], &entries[i], (n_entries - i) * sizeof(Entry));
    entries[i] = (Entry){ .host = h, .addrs = a };
    snprintf(entries[i].name, sizeof(entries[i].name), "%s", name);
    n_entries++;
}

/* cache_lock held: whether virt's table has the machine active now (a host
 * that is down keeps its last known rows, and so its entries). */
static bool still_active(const Host *h, const char *name)
{
    Machine m;

    if (virt_machine_find(name, virt_host_name(h), &m, NULL) < 0)
        return false;
    return m.stale || machine_state_is_active(m.state);
}

/* Keep what was read, unless the machine stopped meanwhile: its stop event
 * either came before (the table says so now) or waits for cache_lock and
 * drops the entry after.  Takes a. */
static void store(const Host *h, const char *name, VirtAddresses *a)
{
    pthread_mutex_lock(&cache_lock);
    if (still_active(h, name))
        entry_set(h, name, a);
    else {
        entry_forget(h, name);
        virt_addresses_free(a);
    }
    pthread_mutex_unlock(&cache_lock);
}

static void forget(const Host *h, const char *name)
{
    pthread_mutex_lock(&cache_lock);
    entry_forget(h, name);
    pthread_mutex_unlock(&cache_lock);
}

/* cache_lock held. */
static void due_remove(const Host *h, const char *name)
{
    for (Due **p = &due; *p;) {
        Due *d = *p;

        if (d->host == h && streq(d->name, name)) {
            *p = d->next;
            free(d);
        } else
            p = &d->next;
    }
}

/* cache_lock held. */
static void drop_all(void)
{
    while (n_entries > 0)
        entry_remove_at(n_entries - 1);
    free(entries);
    entries = NULL;
    while (due) {
        Due *d = due;

        due = d->next;
        free(d);
    }
    last_full_usec = 0;
}

/* cache_lock held. */
static void due_push(Host *h, const char *name, uint64_t at_usec, unsigned tries)
{
    Due *d = calloc(1, sizeof(*d));

    if (!d)
        return;
    due_remove(h, name);
    d->host = h;
    snprintf(d->name, sizeof(d->name), "%s", name);
    d->at_usec = at_usec;
    d->tries = tries;
    d->next = due;
    due = d;
    pthread_cond_broadcast(&cache_cond);
}

/* Read one machine and keep the answer.  Returns whether it has an address
 * now (false also when the read failed). */
static bool refresh_one(Host *h, const char *name)
{
    VirtAddresses *a = NULL;
    bool any = false;
    int r;

    error_clear();
    r = virt_machine_addresses(h, name, &a);
    if (r == -EBUSY || r == -ENOENT) {
        forget(h, name);
        return false;
    }
    if (r < 0) {
        /* The entry read before stays: last known, as a down host's rows. */
        log_debug("Cannot read the addresses of '%s' on %s: %s", name, virt_host_name(h),
                  error_get() ? error_get() : strerror(-r));
        return false;
    }
    for (size_t i = 0; i < a->n_ifaces && !any; i++)
        any = a->ifaces[i].n_addrs > 0;
    store(h, name, a);
    return any;
}

static void refresh_all(void)
{
    _cleanup_free_ Machine *ms = NULL;
    size_t n = 0;

    if (virt_machines(&ms, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&cache_lock);
        if (stopping) {
            pthread_mutex_unlock(&cache_lock);
            return;
        }
        pthread_mutex_unlock(&cache_lock);
        if (!ms[i].stale && machine_state_is_active(ms[i].state))
            (void)refresh_one((Host *)ms[i].host, ms[i].name);
    }
    /* What stopped or vanished without an event seen (an outage). */
    pthread_mutex_lock(&cache_lock);
    for (size_t i = n_entries; i > 0; i--)
        if (!still_active(entries[i - 1].host, entries[i - 1].name))
            entry_remove_at(i - 1);
    pthread_mutex_unlock(&cache_lock);
    log_debug("Address cache refreshed: %zu machines", addrcache_size());
}

static unsigned read_period(void)
{
    void *ref = NULL;
    const Conf *c = conf_acquire(&ref);
    unsigned p = c ? c->address_refresh : 0;

    conf_release(ref);
    return p;
}

static void wait_until(uint64_t deadline_usec)
{
    struct timespec ts = { .tv_sec = (time_t)(deadline_usec / 1000000u),
                           .tv_nsec = (long)(deadline_usec % 1000000u) * 1000 };

    (void)pthread_cond_timedwait(&cache_cond, &cache_lock, &ts);
}

static void *thread_main(void *arg)
{
    for (;;) {
        unsigned period = read_period();
        uint64_t now, next;
        Due *ready = NULL;
        bool full = false;

        pthread_mutex_lock(&cache_lock);
        if (stopping) {
            pthread_mutex_unlock(&cache_lock);
            break;
        }
        if (period == 0) {
            drop_all();
            if (!kicked)
                pthread_cond_wait(&cache_cond, &cache_lock);
            kicked = false;
            pthread_mutex_unlock(&cache_lock);
            continue;
        }
        now = now_usec();
        next = last_full_usec + (uint64_t)period * 1000000u;
        if (full_due || last_full_usec == 0 || now >= next) {
            full = true;
            full_due = false;
        } else {
            for (Due **p = &due; *p;) {
                Due *d = *p;

                if (d->at_usec <= now) {
                    *p = d->next;
                    d->next = ready;
                    ready = d;
                    continue;
                }
                if (d->at_usec < next)
                    next = d->at_usec;
                p = &d->next;
            }
        }
        if (!full && !ready) {
            if (!kicked)
                wait_until(next);
            kicked = false;
            pthread_mutex_unlock(&cache_lock);
            continue;
        }
        pthread_mutex_unlock(&cache_lock);

        if (full) {
            refresh_all();
            pthread_mutex_lock(&cache_lock);
            last_full_usec = now_usec();
            pthread_mutex_unlock(&cache_lock);
        }
        while (ready) {
            Due *d = ready;
            bool stop;

            ready = d->next;
            pthread_mutex_lock(&cache_lock);
            stop = stopping;
            pthread_mutex_unlock(&cache_lock);
            if (!stop && !refresh_one(d->host, d->name) && d->tries + 1 < STARTED_TRIES) {
                pthread_mutex_lock(&cache_lock);
                if (!stopping && still_active(d->host, d->name))
                    due_push(d->host, d->name, now_usec() + (1000000ull << d->tries),
                             d->tries + 1);
                pthread_mutex_unlock(&cache_lock);
            }
            free(d);
        }
    }
    return NULL;
}

/* On virt's event thread: memory only. */
static void on_event(const VirtEvent *ev, void *userdata)
{
    pthread_mutex_lock(&cache_lock);
    if (stopping) {
        pthread_mutex_unlock(&cache_lock);
        return;
    }
    switch (ev->kind) {
    case VIRT_EVENT_STARTED:
    case VIRT_EVENT_DEVICE: /* a NIC plugged in or out */
        due_push(ev->host, ev->name, now_usec(), 0);
        break;
    case VIRT_EVENT_STOPPED:
    case VIRT_EVENT_UNDEFINED:
        due_remove(ev->host, ev->name);
        entry_forget(ev->host, ev->name);
        break;
    case VIRT_EVENT_HOST_UP:
        full_due = true;
        pthread_cond_broadcast(&cache_cond);
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&cache_lock);
}

int addrcache_init(AddrcacheConfAcquire acquire, AddrcacheConfRelease release)
{
    pthread_condattr_t attr;
    int r;

    conf_acquire = acquire;
    conf_release = release;
    /* Deadlines are on the monotonic clock (now_usec()). */
    if (pthread_condattr_init(&attr) != 0)
        return -ENOMEM;
    (void)pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    r = pthread_cond_init(&cache_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (r != 0)
        return -r;
    return virt_observe(on_event, NULL);
}

int addrcache_start(void)
{
    int r;

    pthread_mutex_lock(&cache_lock);
    stopping = false;
    pthread_mutex_unlock(&cache_lock);
    r = pthread_create(&thread, NULL, thread_main, NULL);
    if (r != 0)
        return -r;
    running = true;
    return 0;
}

void addrcache_wake(void)
{
    pthread_mutex_lock(&cache_lock);
    kicked = true;
    pthread_cond_broadcast(&cache_cond);
    pthread_mutex_unlock(&cache_lock);
}

bool addrcache_stop(unsigned timeout_ms)
{
    uint64_t deadline = realtime_usec() + (uint64_t)timeout_ms * 1000u;
    struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000u),
                           .tv_nsec = (long)(deadline % 1000000u) * 1000 };

    pthread_mutex_lock(&cache_lock);
    stopping = true;
    pthread_cond_broadcast(&cache_cond);
    pthread_mutex_unlock(&cache_lock);
    /* A read stuck in libvirt (an agent that never answers) is left behind. */
    if (running && pthread_timedjoin_np(thread, NULL, &ts) != 0) {
        log_warning("The address cache is still reading (stuck in libvirt?); not waiting");
        return false;
    }
    running = false;
    pthread_mutex_lock(&cache_lock);
    drop_all();
    pthread_mutex_unlock(&cache_lock);
    return true;
}

int addrcache_get(const Host *h, const char *name, VirtAddresses **ret)
{
    VirtAddresses *copy = NULL;
    bool found;
    size_t i;

    pthread_mutex_lock(&cache_lock);
    i = entry_find(h, name, &found);
    if (found)
        copy = virt_addresses_dup(entries[i].addrs);
    pthread_mutex_unlock(&cache_lock);
    if (!found)
        return -ENOENT;
    if (!copy)
        return -ENOMEM;
    *ret = copy;
    return 0;
}

size_t addrcache_size(void)
{
    size_t n;

    pthread_mutex_lock(&cache_lock);
    n = n_entries;
    pthread_mutex_unlock(&cache_lock);
    return n;
}
