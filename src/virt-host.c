/* virt-host.c: what virtmcd knows of each host's node: CPUs, memory, free
 * memory, versions and host name (GET /service/hosts).
 *
 * The monitor thread reads these over a fresh connection (host_node_read)
 * and virt.c keeps them in the Host under its lock; readers get copies and
 * never a libvirt call, so a dead libvirt never holds a request.  Only
 * virt_host_free_memory_now() calls libvirt for its caller, on a worker. */
#include "config.h"

#include <stdio.h>

#include "log.h"
#include "strtable.h"
#include "util.h"
#include "virt-private.h"

/* A NUMA machine with more cells than this is not one virtmcd manages. */
#define MAX_CELLS 1024u

static const char *const close_reason_table[] = {
    [VIR_CONNECT_CLOSE_REASON_ERROR] = "connection closed: I/O error",
    [VIR_CONNECT_CLOSE_REASON_EOF] = "connection closed: end of file from libvirt",
    [VIR_CONNECT_CLOSE_REASON_KEEPALIVE] = ("connection closed: libvirt stopped answering "
                                            "keepalive messages"),
    [VIR_CONNECT_CLOSE_REASON_CLIENT] = "connection closed by virtmcd",
};
DEFINE_STRING_TABLE_TO_STRING_FN(close_reason_lookup, close_reason_table, int, static)

const char *host_close_reason_to_string(int reason)
{
    const char *s = close_reason_lookup(reason);

    return s ? s : "connection closed";
}

char *host_message_scrub(const char *msg, const char *uri, const char *shown)
{
    size_t n = strlen(uri);
    const char *p = msg, *hit;
    Buf b = { 0 };

    if (n == 0 || streq(uri, shown))
        return strdup(msg);
    while ((hit = strstr(p, uri))) {
        buf_append(&b, p, (size_t)(hit - p));
        buf_puts(&b, shown);
        p = hit + n;
    }
    buf_puts(&b, p);
    return buf_steal(&b);
}

int host_node_free_memory(virConnectPtr c, unsigned long long *ret_kib)
{
    _cleanup_free_ unsigned long long *cells = NULL;
    unsigned long long bytes, sum = 0;
    virNodeInfo ni;
    int n, r;

    /* Both answer bytes.  0 is libvirt's error value here. */
    bytes = virNodeGetFreeMemory(c);
    if (bytes > 0) {
        *ret_kib = bytes / 1024;
        return 0;
    }
    r = virt_errno("read the free memory of", "the host");
    if (r == -ENOTCONN)
        return r;
    if (virNodeGetInfo(c, &ni) < 0)
        return virt_errno("read the node information of", "the host");
    if (ni.nodes == 0 || ni.nodes > MAX_CELLS)
        goto unsupported;
    cells = calloc(ni.nodes, sizeof(*cells));
    if (!cells)
        return -ENOMEM;
    /* libvirt's test driver has no cells for a node file: "Range exceeds
     * available cells". */
    n = virNodeGetCellsFreeMemory(c, cells, 0, (int)ni.nodes);
    if (n <= 0) {
        r = n < 0 ? virt_errno("read the free memory of", "the NUMA cells") : -EIO;
        if (r == -ENOTCONN)
            return r;
        goto unsupported;
    }
    for (int i = 0; i < n; i++)
        sum += cells[i];
    *ret_kib = sum / 1024;
    return 0;

unsupported:
    error_setf("the host does not report its free memory");
    return -EOPNOTSUPP;
}

void host_node_read(virConnectPtr c, const char *host_name, HostNode *ret)
{
    HostNode n = { 0 };
    virNodeInfo ni;
    int r;

    if (virNodeGetInfo(c, &ni) == 0) {
        n.cpus = ni.cpus;
        n.memory_kib = ni.memory;
        n.nodes = ni.nodes;
    } else
        log_debug("Host '%s' gives no node information: %s", host_name, virGetLastErrorMessage());
    if (virConnectGetLibVersion(c, &n.lib_version) < 0) {
        n.lib_version = 0;
        log_debug("Host '%s' gives no libvirt version: %s", host_name, virGetLastErrorMessage());
    }
    /* 0: the driver cannot tell its hypervisor's version. */
    if (virConnectGetVersion(c, &n.hv_version) < 0) {
        n.hv_version = 0;
        log_debug("Host '%s' gives no hypervisor version: %s", host_name, virGetLastErrorMessage());
    }
    n.hypervisor = strdup_null(virConnectGetType(c));
    n.hostname = virConnectGetHostname(c);
    if (!n.hostname)
        log_debug("Host '%s' gives no host name: %s", host_name, virGetLastErrorMessage());
    r = host_node_free_memory(c, &n.free_memory_kib);
    if (r >= 0)
        n.has_free_memory = true;
    else if (r == -EOPNOTSUPP) {
        n.free_memory_unsupported = true;
        log_debug("Host '%s' does not report its free memory", host_name);
    }
    *ret = n;
}

void host_node_clear(HostNode *n)
{
    free(n->hypervisor);
    free(n->hostname);
    *n = (HostNode){ 0 };
}

static char *version_string(unsigned long v)
{
    if (v == 0)
        return NULL;
    return strdup_printf("%lu.%lu.%lu", v / 1000000, v / 1000 % 1000, v % 1000);
}

static int dup_or_fail(const char *s, char **ret)
{
    *ret = NULL;
    if (s && !(*ret = strdup(s)))
        return -ENOMEM;
    return 0;
}

int host_node_to_info(const HostNode *n, VirtHostInfo *ret)
{
    ret->has_node = n->cpus > 0 && n->memory_kib > 0;
    ret->cpus = n->cpus;
    ret->memory_kib = n->memory_kib;
    if ((n->lib_version && !(ret->libvirt_version = version_string(n->lib_version))) ||
        (n->hv_version && !(ret->hypervisor_version = version_string(n->hv_version))))
        return -ENOMEM;
    if (dup_or_fail(n->hypervisor, &ret->hypervisor) < 0 ||
        dup_or_fail(n->hostname, &ret->hostname) < 0)
        return -ENOMEM;
    return 0;
}

void virt_host_info_clear(VirtHostInfo *i)
{
    free(i->name);
    free(i->uri);
    strv_free(i->guests);
    free(i->libvirt_version);
    free(i->hypervisor);
    free(i->hypervisor_version);
    free(i->hostname);
    free(i->last_error);
    *i = (VirtHostInfo){ 0 };
}

int virt_host_free_memory_now(Host *h, unsigned long long *ret_kib)
{
    VIRT_OP(h, "free_memory");
    _cleanup_(virConnectClosep) virConnectPtr c = virt_host_conn(h);

    if (!c)
        return -ENOTCONN;
    return host_node_free_memory(c, ret_kib);
}
