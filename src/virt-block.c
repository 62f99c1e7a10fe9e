/* virt-block.c: what libvirt says of a machine's block devices (their size,
 * for the Redfish storage resources).
 *
 * Reads only: it never changes a machine.  A libvirt user, like every
 * virt*.c; called on worker threads, since libvirt may open the image. */
#include "config.h"

#include "util.h"
#include "virt-private.h"

int virt_machine_block_capacity(Host *h, const char *name, const char *target,
                                unsigned long long *ret_bytes)
{
    VIRT_OP(h, "block_info");
    _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
    virDomainBlockInfo info;
    int r = 0;

    dom = virt_lookup(h, name, &r);
    if (!dom)
        return r;
    if (virDomainGetBlockInfo(dom, target, &info, 0) < 0) {
        r = virt_errno("read the block info of", name);
        /* The test driver has no block info, an empty CD-ROM drive has no
         * image, an image libvirt cannot open has no size it can tell: all
         * "unknown", which callers show as null. */
        if (r == -EOPNOTSUPP || r == -EINVAL || r == -EBUSY || r == -EIO)
            return -ENODATA;
        return r;
    }
    *ret_bytes = info.capacity;
    return 0;
}
