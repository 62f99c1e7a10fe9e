/* test-metrics: the counters and their Prometheus text (metrics.c). */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "tap.h"
#include "util.h"

static const char *const states[] = { "running", "shut off" };
static const char route_a[] = "/service/machines/{name}/state_controller/status";
static const char route_b[] = "/service/machines";

/* Whether text holds exactly this line. */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

static size_t count_lines_prefixed(const char *text, const char *prefix)
{
    size_t k = 0, n = strlen(prefix);

    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, prefix, n) == 0)
            k++;
    return k;
}

static char *render(const char *host_name, const size_t *machines, const char *const *pools,
                    size_t n_pools)
{
    MetricsHost h = { .name = host_name, .up = true, .machines = machines };
    MetricsSnapshot s = {
        .version = "1.2.3",
        .hosts = &h,
        .n_hosts = 1,
        .states = states,
        .n_states = ELEMENTSOF(states),
        .pools = pools,
        .n_pools = n_pools,
    };
    size_t len = 0;
    char *t = metrics_render(&s, &len);

    CHECK(t != NULL);
    if (t)
        CHECK_INT(len, strlen(t));
    return t ? t : strdup("");
}

static void *count_in_thread(void *arg)
{
    (void)arg;
    metrics_request(route_a, "GET", 200, 40);
    metrics_request(route_a, "GET", 200, 40);
    return NULL;
}

static void test_families(void)
{
    static const char *const families[][2] = {
        { "virtmcd_build_info", "gauge" },
        { "virtmcd_process_start_time_seconds", "gauge" },
        { "virtmcd_http_requests_total", "counter" },
        { "virtmcd_http_request_duration_seconds", "histogram" },
        { "virtmcd_libvirt_calls_total", "counter" },
        { "virtmcd_libvirt_errors_total", "counter" },
        { "virtmcd_hosts_up", "gauge" },
        { "virtmcd_host_up", "gauge" },
        { "virtmcd_machines", "gauge" },
        { "virtmcd_boot_changes_total", "counter" },
        { "virtmcd_backups_written_total", "counter" },
        { "virtmcd_backup_failures_total", "counter" },
        { "virtmcd_auth_failures_total", "counter" },
        { "virtmcd_pool_ready", "gauge" },
        { "virtmcd_pool_pending", "gauge" },
        { "virtmcd_pool_running", "gauge" },
        { "virtmcd_metrics_series_dropped_total", "counter" },
    };
    static const size_t machines[] = { 3, 4 };
    static const char *const pools[] = { "deb12" };
    _cleanup_free_ char *t = NULL;

    metrics_reset();
    metrics_init();
    t = render("kvm09", machines, pools, 1);
    for (size_t i = 0; i < ELEMENTSOF(families); i++) {
        char help[128], type[128];

        snprintf(help, sizeof(help), "# HELP %s ", families[i][0]);
        snprintf(type, sizeof(type), "# TYPE %s %s", families[i][0], families[i][1]);
        CHECK_INT(count_lines_prefixed(t, help), 1);
        CHECK(has_line(t, type));
    }
    CHECK(has_line(t, "virtmcd_build_info{version=\"1.2.3\"} 1"));
    CHECK_INT(count_lines_prefixed(t, "virtmcd_process_start_time_seconds 1"), 1);
    CHECK(has_line(t, "virtmcd_hosts_up 1"));
    CHECK(has_line(t, "virtmcd_host_up{host=\"kvm09\"} 1"));
    CHECK(has_line(t, "virtmcd_machines{host=\"kvm09\",state=\"running\"} 3"));
    CHECK(has_line(t, "virtmcd_machines{host=\"kvm09\",state=\"shut off\"} 4"));
    /* Configured pools are there at 0 before the pool manager says a word. */
    CHECK(has_line(t, "virtmcd_pool_ready{pool=\"deb12\"} 0"));
    CHECK(has_line(t, "virtmcd_pool_pending{pool=\"deb12\"} 0"));
    CHECK(has_line(t, "virtmcd_pool_running{pool=\"deb12\"} 0"));
    CHECK(has_line(t, "virtmcd_backups_written_total 0"));
    CHECK(has_line(t, "virtmcd_metrics_series_dropped_total 0"));
    /* No request yet: a family header without samples. */
    CHECK_INT(count_lines_prefixed(t, "virtmcd_http_requests_total{"), 0);
    CHECK(t[strlen(t) - 1] == '\n');
}

static void test_requests(void)
{
    _cleanup_free_ char *t = NULL;
    pthread_t th;

    metrics_reset();
    metrics_request(route_a, "GET", 200, 100);      /* on a bucket's bound: in it */
    metrics_request(route_a, "GET", 200, 101);      /* the next bucket */
    metrics_request(route_a, "GET", 404, 20000000); /* past the last bound: +Inf only */
    metrics_request(route_b, "HEAD", 200, 5);
    metrics_request(NULL, "GET", 401, 5);
    /* Another thread counts into its own shard: the text sums them. */
    CHECK_INT(pthread_create(&th, NULL, count_in_thread, NULL), 0);
    CHECK_INT(pthread_join(th, NULL), 0);
    t = render("kvm09", NULL, NULL, 0);

    CHECK(has_line(t, "virtmcd_http_requests_total{route=\"/service/machines/{name}/"
                      "state_controller/status\",method=\"GET\",status=\"200\"} 4"));
    CHECK(has_line(t, "virtmcd_http_requests_total{route=\"/service/machines/{name}/"
                      "state_controller/status\",method=\"GET\",status=\"404\"} 1"));
    CHECK(has_line(t, "virtmcd_http_requests_total{route=\"/service/machines\",method=\"HEAD\","
                      "status=\"200\"} 1"));
    CHECK(has_line(t, "virtmcd_http_requests_total{route=\"none\",method=\"GET\",status=\"401\"} 1"));
    /* One series per key, sorted: /service/machines before its children. */
    CHECK_INT(count_lines_prefixed(t, "virtmcd_http_requests_total{"), 4);
    CHECK(strstr(t, "{route=\"/service/machines\",method") <
          strstr(t, "{route=\"/service/machines/{name}"));

#define H "virtmcd_http_request_duration_seconds"
#define RA "{route=\"/service/machines/{name}/state_controller/status\""
    CHECK(has_line(t, H "_bucket" RA ",le=\"0.0001\"} 3"));  /* 40, 40, 100 */
    CHECK(has_line(t, H "_bucket" RA ",le=\"0.00025\"} 4")); /* 101 */
    CHECK(has_line(t, H "_bucket" RA ",le=\"10\"} 4"));
    CHECK(has_line(t, H "_bucket" RA ",le=\"+Inf\"} 5"));
    CHECK(has_line(t, H "_count" RA "} 5"));
    CHECK(has_line(t, H "_sum" RA "} 20.000281"));
    CHECK(has_line(t, H "_count{route=\"none\"} 1"));
    /* 16 bounds and +Inf per route. */
    CHECK_INT(count_lines_prefixed(t, H "_bucket" RA), 17);
#undef RA
#undef H
}

static void test_counters(void)
{
    static const char *const pools[] = { "deb12", "empty" };
    char long_host[300];
    _cleanup_free_ char *t = NULL, *t2 = NULL;

    metrics_reset();
    metrics_libvirt_call("kvm09", "define", false);
    metrics_libvirt_call("kvm09", "define", true);
    metrics_libvirt_call("kvm10", "power_on", false);
    metrics_libvirt_error("unknown", "other");
    metrics_boot_change("pxeboot", false);
    metrics_boot_change("pxeboot", true);
    metrics_boot_change("pxeboot", true);
    metrics_backup_written(true);
    metrics_backup_written(true);
    metrics_backup_written(false);
    metrics_auth_failure("digest", "bad_credentials");
    metrics_auth_failure("digest", "bad_credentials");
    metrics_auth_failure("none", "not_allowed");
    metrics_pool_set("deb12", 2, 1, 5);
    metrics_pool_set("gone", 9, 9, 9); /* no longer configured: not shown */
    t = render("kvm09", NULL, pools, ELEMENTSOF(pools));

    CHECK(has_line(t, "virtmcd_libvirt_calls_total{host=\"kvm09\",op=\"define\"} 2"));
    CHECK(has_line(t, "virtmcd_libvirt_errors_total{host=\"kvm09\",op=\"define\"} 1"));
    CHECK(has_line(t, "virtmcd_libvirt_calls_total{host=\"kvm10\",op=\"power_on\"} 1"));
    CHECK(has_line(t, "virtmcd_libvirt_errors_total{host=\"kvm10\",op=\"power_on\"} 0"));
    CHECK(has_line(t, "virtmcd_libvirt_calls_total{host=\"unknown\",op=\"other\"} 0"));
    CHECK(has_line(t, "virtmcd_libvirt_errors_total{host=\"unknown\",op=\"other\"} 1"));
    CHECK(has_line(t, "virtmcd_boot_changes_total{action=\"pxeboot\",once=\"false\"} 1"));
    CHECK(has_line(t, "virtmcd_boot_changes_total{action=\"pxeboot\",once=\"true\"} 2"));
    CHECK(has_line(t, "virtmcd_backups_written_total 2"));
    CHECK(has_line(t, "virtmcd_backup_failures_total 1"));
    CHECK(has_line(t, "virtmcd_auth_failures_total{scheme=\"digest\",reason=\"bad_credentials\"} 2"));
    CHECK(has_line(t, "virtmcd_auth_failures_total{scheme=\"none\",reason=\"not_allowed\"} 1"));
    CHECK(has_line(t, "virtmcd_pool_ready{pool=\"deb12\"} 2"));
    CHECK(has_line(t, "virtmcd_pool_pending{pool=\"deb12\"} 1"));
    CHECK(has_line(t, "virtmcd_pool_running{pool=\"deb12\"} 5"));
    CHECK(has_line(t, "virtmcd_pool_ready{pool=\"empty\"} 0"));
    CHECK(strstr(t, "gone") == NULL);
    /* Host without a machine table: every state at 0. */
    CHECK(has_line(t, "virtmcd_machines{host=\"kvm09\",state=\"running\"} 0"));

    /* Escaping: backslash, double quote and line feed in a label value. */
    t2 = render("a\"b\\c\nd", NULL, NULL, 0);
    CHECK(has_line(t2, "virtmcd_host_up{host=\"a\\\"b\\\\c\\nd\"} 1"));

    /* A long label value is cut, and still counts in one series. */
    memset(long_host, 'h', sizeof(long_host) - 1);
    long_host[sizeof(long_host) - 1] = '\0';
    metrics_libvirt_call(long_host, "xml", false);
    metrics_libvirt_call(long_host, "xml", false);
    free(t);
    t = render("kvm09", NULL, NULL, 0);
    {
        char want[METRICS_LABEL_MAX + 64];

        snprintf(want, sizeof(want), "virtmcd_libvirt_calls_total{host=\"%.*s\",op=\"xml\"} 2",
                 METRICS_LABEL_MAX - 1, long_host);
        CHECK(has_line(t, want));
    }
}

static void test_full_table(void)
{
    _cleanup_free_ char *t = NULL;
    char name[32];

    metrics_reset();
    /* More pools than the table holds: the rest is counted as dropped. */
    for (unsigned i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), "p%u", i);
        metrics_pool_set(name, 1, 0, 0);
    }
    t = render("kvm09", NULL, NULL, 0);
    CHECK(has_line(t, "virtmcd_metrics_series_dropped_total 72"));
}

int main(void)
{
    test_families();
    test_requests();
    test_counters();
    test_full_table();
    return tap_done();
}
