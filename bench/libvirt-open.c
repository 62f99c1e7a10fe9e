/* libvirt-open URI: what libvirt alone costs for a connection (bench/run.sh):
 * the time virConnectOpen takes, the time to list every domain with its
 * state once, and the process's RSS after both, so that virtmcd's start-up
 * and memory can be set against them.  For test:///FILE the test driver
 * lives in the process: its RSS then holds libvirt's own copy of every
 * domain, as virtmcd's does.
 *
 * Prints one line: open_ms=N list_ms=N domains=N rss_kib=N */
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static long rss_kib(void)
{
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "re");

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

int main(int argc, char **argv)
{
    virConnectPtr conn;
    virDomainPtr *doms = NULL;
    double t0, t1, t2;
    int n;

    if (argc != 2) {
        fprintf(stderr, "usage: libvirt-open URI\n");
        return 2;
    }
    t0 = now_ms();
    conn = virConnectOpenReadOnly(argv[1]);
    if (!conn)
        return 1;
    t1 = now_ms();
    n = virConnectListAllDomains(conn, &doms, 0);
    if (n < 0)
        return 1;
    for (int i = 0; i < n; i++) {
        int state, reason;

        (void)virDomainGetState(doms[i], &state, &reason, 0);
    }
    t2 = now_ms();
    printf("open_ms=%.0f list_ms=%.0f domains=%d rss_kib=%ld\n", t1 - t0, t2 - t1, n, rss_kib());
    for (int i = 0; i < n; i++)
        virDomainFree(doms[i]);
    free(doms);
    virConnectClose(conn);
    return 0;
}
