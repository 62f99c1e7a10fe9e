/* api-metrics.c: GET /metrics (API.md section 7), Prometheus' text format.
 *
 * Gathers what metrics.c does not count itself from memory only (hosts up,
 * the machine tables, the configured pools) and hands it to metrics_render:
 * a scrape never makes a libvirt call.  Machines are counted as the
 * requester may see them, like GET /service/machines. */
#include "config.h"

#include "api.h"
#include "metrics.h"
#include "util.h"

typedef struct Tally {
    const Ctx *c;
    Host *const *hosts;
    size_t n_hosts;
    size_t *counts; /* n_hosts x _MACHINE_STATE_MAX */
} Tally;

static int tally_row(const Machine *m, const DomInfo *info, void *userdata)
{
    Tally *t = userdata;

    (void)info;
    if (m->state < 0 || m->state >= _MACHINE_STATE_MAX || !api_machine_visible(t->c, m->name))
        return 0;
    for (size_t i = 0; i < t->n_hosts; i++)
        if (t->hosts[i] == m->host) {
            t->counts[i * _MACHINE_STATE_MAX + m->state]++;
            break;
        }
    return 0;
}

void api_metrics(Ctx *c)
{
    const char *states[_MACHINE_STATE_MAX];
    size_t n_hosts = virt_host_count(), len = 0;
    _cleanup_free_ Host **hosts = calloc(n_hosts ? n_hosts : 1, sizeof(*hosts));
    _cleanup_free_ size_t *counts = calloc(n_hosts ? n_hosts * _MACHINE_STATE_MAX : 1,
                                           sizeof(*counts));
    _cleanup_free_ MetricsHost *mh = calloc(n_hosts ? n_hosts : 1, sizeof(*mh));
    _cleanup_free_ const char **pools = calloc(c->conf->n_pools ? c->conf->n_pools : 1,
                                               sizeof(*pools));
    Tally t = { .c = c, .hosts = hosts, .n_hosts = n_hosts, .counts = counts };
    MetricsSnapshot snap;
    char *body;
    int r;

    if (!hosts || !counts || !mh || !pools) {
        api_reply_error(c, 500, "out of memory");
        return;
    }
    for (size_t i = 0; i < _MACHINE_STATE_MAX; i++)
        states[i] = machine_state_to_string((MachineState)i);
    for (size_t i = 0; i < n_hosts; i++)
        hosts[i] = virt_host_at(i);
    r = virt_machines_each(NULL, tally_row, &t);
    if (r < 0) {
        api_reply_errno(c, r, "count machines");
        return;
    }
    for (size_t i = 0; i < n_hosts; i++)
        mh[i] = (MetricsHost){ .name = virt_host_name(hosts[i]),
                               .up = virt_host_up(hosts[i]),
                               .machines = counts + i * _MACHINE_STATE_MAX };
    for (size_t i = 0; i < c->conf->n_pools; i++)
        pools[i] = c->conf->pools[i].name;
    snap = (MetricsSnapshot){
        .version = PACKAGE_VERSION,
        .hosts = mh,
        .n_hosts = n_hosts,
        .states = states,
        .n_states = _MACHINE_STATE_MAX,
        .pools = pools,
        .n_pools = c->conf->n_pools,
    };
    body = metrics_render(&snap, &len);
    if (!body) {
        api_reply_error(c, 500, "out of memory");
        return;
    }
    reply_set(c->rep, 200, "text/plain; version=0.0.4; charset=utf-8", body, len);
}
