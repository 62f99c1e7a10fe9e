/* ops.c: the operations layer's common parts: its worker thread and the
 * observer that feeds it, machine lookup, locks with bounds, rights, start
 * guards, and the backup-then-define transaction every change goes through.
 *
 * The worker runs what must not run on virt's event thread (a define, a
 * backup's fsync), one job at a time, in the order the events came.  It
 * never answers a request and never holds a machine lock between jobs.
 *
 * Resets come in bursts: SeaBIOS answers every reset of a machine it already
 * initialised with a reset of its own ("Attempting a hard reboot", some 40 ms
 * later under TCG), and QEMU reads the boot order again at each.  So a reset
 * job waits until its machine has had no other reset for RESET_SETTLE_MS and
 * a later reset of the same machine replaces it: the one-time order is undone
 * once the burst is over, and the boot that follows the burst still uses it.
 * Other jobs wait meanwhile (a second at most).
 *
 * The worker also keeps the watches of ACPI reboot requests: a guest that has
 * neither reset nor stopped by its deadline is reset hard (an escalation job). */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "ops-private.h"
#include "util.h"

typedef enum JobKind {
    JOB_STARTED,   /* a machine started: undo its one-time order */
    JOB_HOST_UP,   /* a host (re)connected: reconcile, move old backup folders */
    JOB_ESCALATE,  /* an ACPI reboot was ignored: reset hard */
    JOB_REBOOT,    /* a running machine reset: undo a one-time order it used */
} JobKind;

/* A reboot asked of a guest, watched until its deadline: a reset or a stop
 * of that machine before then ends the watch. */
typedef struct Watch {
    Host *host;
    char name[256];
    uint64_t deadline_usec;  /* now_usec() clock */
    struct Watch *next;
} Watch;

typedef struct Job {
    JobKind kind;
    Host *host;
    char *name;
    uint64_t at;   /* realtime_usec() when queued */
    struct Job *next;
} Job;

#define RESET_SETTLE_MS 1000

/* jobs_lock guards the queue, stop and busy (a leaf lock: see virt.h). */
static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cond = PTHREAD_COND_INITIALIZER;
static Job *jobs_head, *jobs_tail;
static Watch *watches;
static bool jobs_stop, busy, started;
static pthread_t worker;

static OpsConfAcquire conf_acquire;
static OpsConfRelease conf_release;

static void job_free(Job *j)
{
    if (j) {
        free(j->name);
        free(j);
    }
}

static void job_append(Job *j)
{
    if (jobs_tail)
        jobs_tail->next = j;
    else
        jobs_head = j;
    jobs_tail = j;
}

static Job *job_new(JobKind kind, Host *h, const char *name)
{
    Job *j = calloc(1, sizeof(*j));

    if (!j || (name && !(j->name = strdup(name)))) {
        log_error("Out of memory: a job for '%s' is lost", name ? name : "a host");
        job_free(j);
        return NULL;
    }
    j->kind = kind;
    j->host = h;
    j->at = realtime_usec();
    return j;
}

static void job_push(JobKind kind, Host *h, const char *name)
{
    Job *j = job_new(kind, h, name);

    if (!j)
        return;
    pthread_mutex_lock(&jobs_lock);
    job_append(j);
    pthread_cond_broadcast(&jobs_cond);
    pthread_mutex_unlock(&jobs_lock);
}

void ops_watch_reboot(const Machine *m, unsigned timeout_s)
{
    Watch *w;

    if (timeout_s == 0)
        return;
    w = calloc(1, sizeof(*w));
    if (!w)
        return;
    w->host = (Host *)m->host;
    snprintf(w->name, sizeof(w->name), "%s", m->name);
    w->deadline_usec = now_usec() + (uint64_t)timeout_s * 1000000u;
    pthread_mutex_lock(&jobs_lock);
    /* A second reboot request restarts the clock. */
    for (Watch **p = &watches; *p; p = &(*p)->next)
        if ((*p)->host == w->host && streq((*p)->name, w->name)) {
            Watch *old = *p;

            *p = old->next;
            free(old);
            break;
        }
    w->next = watches;
    watches = w;
    pthread_cond_broadcast(&jobs_cond);
    pthread_mutex_unlock(&jobs_lock);
}

/* The guest reset, stopped or went away: its reboot happened.  Returns
 * whether a watch ended. */
static bool unwatch(Host *h, const char *name)
{
    bool found = false;

    pthread_mutex_lock(&jobs_lock);
    for (Watch **p = &watches; *p;) {
        Watch *w = *p;

        if (w->host == h && streq(w->name, name)) {
            *p = w->next;
            free(w);
            found = true;
        } else
            p = &w->next;
    }
    pthread_mutex_unlock(&jobs_lock);
    return found;
}

/* jobs_lock held: turn the watches past their deadline into jobs; the
 * earliest deadline left, or 0. */
static uint64_t expire_watches(void)
{
    uint64_t now = now_usec(), next = 0;

    for (Watch **p = &watches; *p;) {
        Watch *w = *p;

        if (w->deadline_usec <= now) {
            Job *j = job_new(JOB_ESCALATE, w->host, w->name);

            if (j)
                job_append(j);
            *p = w->next;
            free(w);
            continue;
        }
        if (!next || w->deadline_usec < next)
            next = w->deadline_usec;
        p = &w->next;
    }
    return next;
}

static void run_job(const Job *j)
{
    void *ref = NULL;
    const Conf *conf = conf_acquire ? conf_acquire(&ref) : NULL;

    if (!conf)
        return;
    error_clear();
    switch (j->kind) {
    case JOB_STARTED:
        ops_boot_on_started(conf, j->host, j->name);
        break;
    case JOB_HOST_UP:
        ops_boot_on_host_up(conf, j->host);
        break;
    case JOB_ESCALATE:
        ops_power_escalate(conf, j->host, j->name);
        break;
    case JOB_REBOOT:
        ops_boot_on_reboot(conf, j->host, j->name, j->at);
        break;
    }
    conf_release(ref);
}

/* With jobs_lock held: whether a later reset of j's machine is queued. */
static bool reset_superseded(const Job *j)
{
    for (const Job *k = jobs_head; k; k = k->next)
        if (k->kind == JOB_REBOOT && k->host == j->host && streq(k->name, j->name))
            return true;
    return false;
}

/* With jobs_lock held: wait out a burst of resets (see the top).  False when
 * the job is replaced by a later reset of its machine, or stopping. */
static bool reset_settled(const Job *j)
{
    uint64_t deadline = j->at + (uint64_t)RESET_SETTLE_MS * 1000u;
    struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000u),
                           .tv_nsec = (long)(deadline % 1000000u) * 1000 };

    while (!jobs_stop && !reset_superseded(j) && realtime_usec() < deadline)
        (void)pthread_cond_timedwait(&jobs_cond, &jobs_lock, &ts);
    return !jobs_stop && !reset_superseded(j);
}

static void *worker_main(void *arg)
{
    for (;;) {
        Job *j;

        pthread_mutex_lock(&jobs_lock);
        for (;;) {
            uint64_t next = expire_watches();

            if (jobs_head || jobs_stop)
                break;
            if (!next)
                pthread_cond_wait(&jobs_cond, &jobs_lock);
            else {
                /* Deadlines are on the monotonic clock; the wait is on the
                 * real-time one: convert the distance. */
                uint64_t until = realtime_usec() + (next - now_usec());
                struct timespec ts = { .tv_sec = (time_t)(until / 1000000u),
                                       .tv_nsec = (long)(until % 1000000u) * 1000 };

                (void)pthread_cond_timedwait(&jobs_cond, &jobs_lock, &ts);
            }
        }
        if (jobs_stop) {
            pthread_mutex_unlock(&jobs_lock);
            break;
        }
        j = jobs_head;
        jobs_head = j->next;
        if (!jobs_head)
            jobs_tail = NULL;
        busy = true;
        if (j->kind == JOB_REBOOT && !reset_settled(j)) {
            pthread_mutex_unlock(&jobs_lock);
            job_free(j);
            pthread_mutex_lock(&jobs_lock);
            busy = false;
            pthread_cond_broadcast(&jobs_cond);
            pthread_mutex_unlock(&jobs_lock);
            continue;
        }
        pthread_mutex_unlock(&jobs_lock);

        run_job(j);
        job_free(j);

        pthread_mutex_lock(&jobs_lock);
        busy = false;
        pthread_cond_broadcast(&jobs_cond);
        pthread_mutex_unlock(&jobs_lock);
    }
    return NULL;
}

/* On virt's event thread: only queue. */
static void on_event(const VirtEvent *ev, void *userdata)
{
    switch (ev->kind) {
    case VIRT_EVENT_STARTED:
        (void)unwatch(ev->host, ev->name);
        job_push(JOB_STARTED, ev->host, ev->name);
        break;
    case VIRT_EVENT_REBOOT:
        (void)unwatch(ev->host, ev->name);
        job_push(JOB_REBOOT, ev->host, ev->name);
        break;
    case VIRT_EVENT_STOPPED:
    case VIRT_EVENT_SHUTDOWN:
    case VIRT_EVENT_UNDEFINED:
        if (unwatch(ev->host, ev->name))
            log_debug("'%s' acted on its reboot request (%s)", ev->name,
                      virt_event_kind_to_string(ev->kind));
        break;
    case VIRT_EVENT_HOST_UP:
        job_push(JOB_HOST_UP, ev->host, NULL);
        break;
    default:
        break;
    }
}

int ops_init(OpsConfAcquire acquire, OpsConfRelease release)
{
    int r;

    conf_acquire = acquire;
    conf_release = release;
    r = virt_observe(on_event, NULL);
    if (r < 0)
        return r;
    if (!started) {
        r = ops_add_start_guard(ops_guard_start, NULL);
        if (r < 0)
            return r;
    }
    jobs_stop = false;
    if (pthread_create(&worker, NULL, worker_main, NULL) != 0)
        return -ENOMEM;
    started = true;
    return 0;
}

void ops_drain(void)
{
    pthread_mutex_lock(&jobs_lock);
    while ((jobs_head || busy) && !jobs_stop)
        pthread_cond_wait(&jobs_cond, &jobs_lock);
    pthread_mutex_unlock(&jobs_lock);
}

bool ops_shutdown(unsigned timeout_ms)
{
    uint64_t deadline = realtime_usec() + (uint64_t)timeout_ms * 1000u;
    struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000u),
                           .tv_nsec = (long)(deadline % 1000000u) * 1000 };

    if (!started)
        return true;
    pthread_mutex_lock(&jobs_lock);
    jobs_stop = true;
    pthread_cond_broadcast(&jobs_cond);
    pthread_mutex_unlock(&jobs_lock);
    /* A job stuck in a libvirt call that never returns is left behind. */
    if (pthread_timedjoin_np(worker, NULL, &ts) != 0) {
        log_warning("The operations worker is still busy (stuck in libvirt?); not waiting");
        return false;
    }
    started = false;
    pthread_mutex_lock(&jobs_lock);
    while (jobs_head) {
        Job *j = jobs_head;

        jobs_head = j->next;
        job_free(j);
    }
    jobs_tail = NULL;
    while (watches) {
        Watch *w = watches;

        watches = w->next;
        free(w);
    }
    pthread_mutex_unlock(&jobs_lock);
    return true;
}

/* ---- shared ---- */

int ops_machine_find(const char *name_or_uuid, const char *host_name, Machine *ret,
                     char ***ret_hosts)
{
    int r = virt_machine_find(name_or_uuid, host_name, ret, ret_hosts);

    if (r == -ENOENT && strlen(name_or_uuid) == 36) {
        int ru = virt_machine_find_uuid(name_or_uuid, host_name, ret, ret_hosts);

        if (ru != -ENOENT)
            return ru;
        error_setf("machine '%s' not found", name_or_uuid);
    }
    return r;
}

int ops_lock(const Conf *conf, const Machine *m, const char *op, MachineLock **ret)
{
    return virt_machine_lock(m->host, m->name, op, conf->lock_timeout * 1000u, conf->lock_queue,
                             ret);
}

int ops_precondition(const OpsPrecondition *pre, const Machine *m)
{
    int r;

    if (!pre || !pre->check)
        return 0;
    error_clear();
    r = pre->check(m, pre->userdata);
    if (r >= 0)
        return 0;
    if (!error_get())
        error_setf("the condition of the change on '%s' does not hold: %s", m->name, strerror(-r));
    log_debug("Change of '%s' refused by its precondition: %s", m->name, error_get());
    return r;
}

int ops_lock_fresh(const Conf *conf, const Machine *m, const char *op,
                   const OpsPrecondition *pre, MachineLock **ret, Machine *now)
{
    int r;

    *ret = NULL;
    r = ops_lock(conf, m, op, ret);
    if (r < 0)
        return r;
    r = ops_precondition(pre, m);
    if (r == 0)
        r = virt_machine_refresh((Host *)m->host, m->name, now);
    return r;
}

const char *ops_who(const OpsCaller *who)
{
    return who->user && *who->user ? who->user : "anonymous";
}

int ops_require(const OpsCaller *who, Role needed, const char *what)
{
    if (who->role >= needed)
        return 0;
    error_setf("user '%s' has role '%s'; %s needs '%s'", ops_who(who), role_to_string(who->role),
               what, role_to_string(needed));
    return -EACCES;
}

int ops_require_machine(const OpsCaller *who, const Machine *m, Role needed, const char *what)
{
    Role r = ops_lease_role(m, who->user, who->role);

    if (r >= needed)
        return 0;
    if (r < who->role) {
        error_setf("'%s' is checked out by another user: only its owner or an admin may do "
                   "%s", m->name, what);
        return -EACCES;
    }
    return ops_require(who, needed, what);
}

int ops_save_backup(const Conf *conf, const Machine *m, const char *reason, const char *old_xml,
                    char **ret_id)
{
    int r = backup_save(conf->backup_dir, m->uuid, m->name, reason, old_xml, conf->backup_keep,
                        ret_id);

    if (r < 0) {
        error_setf("cannot write the backup of '%s' to %s: %s; nothing was changed", m->name,
                   conf->backup_dir, strerror(-r));
        log_error("%s", error_get());
        return -EIO;
    }
    return 0;
}

int ops_backup_current(const Conf *conf, const Machine *m, const char *reason, char **ret_id)
{
    _cleanup_free_ char *xml = NULL;
    int r = virt_machine_xml((Host *)m->host, m->name, true, &xml);

    return r < 0 ? r : ops_save_backup(conf, m, reason, xml, ret_id);
}

int ops_define_backed_up(const Machine *m, const char *reason, const char *id,
                         const char *new_xml, Machine *ret)
{
    int r = virt_machine_define((Host *)m->host, new_xml, ret);

    if (r < 0) {
        log_error("Failed to define '%s' (backup %s kept): %s", m->name, id,
                  error_get() ? error_get() : "");
        return r;
    }
    log_info("Redefined '%s' (%s); previous definition saved as %s", m->name, reason, id);
    return 0;
}

int ops_backup_and_define(const Conf *conf, const Machine *m, const char *reason,
                          const char *old_xml, const char *new_xml, char **ret_id, Machine *ret)
{
    _cleanup_free_ char *id = NULL;
    int r;

    r = ops_save_backup(conf, m, reason, old_xml, &id);
    if (r < 0)
        return r;
    r = ops_define_backed_up(m, reason, id, new_xml, ret);
    if (r < 0)
        return r;
    if (ret_id)
        *ret_id = steal_ptr(&id);
    return 0;
}

const Conf *ops_conf_acquire(void **ret_ref)
{
    *ret_ref = NULL;
    return conf_acquire ? conf_acquire(ret_ref) : NULL;
}

void ops_conf_release(void *ref)
{
    if (conf_release)
        conf_release(ref);
}
