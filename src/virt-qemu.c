/* virt-qemu.c: what libvirt cannot do for virtmcd but the running QEMU can,
 * through libvirt-qemu's monitor passthrough (virDomainQemuMonitorCommand).
 *
 * Today one thing: a running machine's run-time boot indexes (QEMU's
 * `bootindex` device property, which it hands the firmware at every system
 * reset), since libvirt 9.0 refuses a boot-index change through
 * virDomainUpdateDeviceFlags.  libvirt marks a domain it passed a monitor
 * command for "custom-monitor" tainted; the caller decides whether to
 * ([boot] live_update).  The only <libvirt/libvirt-qemu.h> user; it never
 * edits a definition. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>

#include <libvirt/libvirt-qemu.h>

#include "log.h"
#include "util.h"
#include "virt-private.h"

/* libvirt's aliases are [A-Za-z0-9_.-] (user aliases "ua-..." too); anything
 * else would need quoting in the QOM path and never comes from libvirt. */
static bool alias_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 200)
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-' || *s == '.'))
            return false;
    return true;
}

static int qom_set_bootindex(virDomainPtr dom, const char *name, const char *alias, int index)
{
    char cmd[512];
    char *reply = NULL;
    int r = 0;

    snprintf(cmd, sizeof(cmd),
             "{\"execute\":\"qom-set\",\"arguments\":{\"path\":\"/machine/peripheral/%s\","
             "\"property\":\"bootindex\",\"value\":%d}}",
             alias, index);
    if (virDomainQemuMonitorCommand(dom, cmd, &reply, VIR_DOMAIN_QEMU_MONITOR_COMMAND_DEFAULT) < 0)
        return virt_errno("send a monitor command to", name);
    /* QEMU's refusals come back as a reply, not as a libvirt error. */
    if (!reply || !strstr(reply, "\"return\"")) {
        error_setf("QEMU refused bootindex %d for device '%s' of '%s': %s", index, alias, name,
                   reply ? reply : "no reply");
        r = -EIO;
    }
    free(reply);
    return r;
}

int virt_machine_set_bootindex(Host *h, const char *name, const VirtBootIndex *list, size_t n)
{
    VIRT_OP(h, "set_bootindex");
    int r = 0;
    _cleanup_(virDomainFreep) virDomainPtr dom = virt_lookup(h, name, &r);

    if (!dom)
        return r;
    for (size_t i = 0; i < n; i++)
        if (!alias_ok(list[i].alias)) {
            error_setf("device alias '%s' of '%s' cannot be named to QEMU", list[i].alias, name);
            return -EINVAL;
        }
    /* QEMU refuses an index another device holds: free them all first. */
    for (size_t i = 0; i < n; i++) {
        r = qom_set_bootindex(dom, name, list[i].alias, -1);
        virt_changed();
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < n; i++) {
        if (list[i].index < 0)
            continue;
        r = qom_set_bootindex(dom, name, list[i].alias, list[i].index);
        virt_changed();
        if (r < 0)
            return r;
    }
    return 0;
}
