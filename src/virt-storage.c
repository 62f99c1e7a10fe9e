/* virt-storage.c: the storage volumes of pool clones: find a template
 * disk's volume, make a clone's (linked overlay or full copy), delete one;
 * and the undefine that ends a clone.
 *
 * It never decides which volumes to delete: ops-pool.c names only those
 * virtmcd created and recorded.  A libvirt user, like every virt*.c. */
#include "config.h"

#include <stdio.h>

#include "log.h"
#include "poolxml.h"
#include "util.h"
#include "virt-private.h"

DEFINE_CLEANUP(virStorageVolPtr, virStorageVolFree)
DEFINE_CLEANUP(virStoragePoolPtr, virStoragePoolFree)

static int vol_errno(const char *what, const char *name)
{
    virErrorPtr e = virGetLastError();
    int r = virt_errno(what, name);

    if (e && (e->code == VIR_ERR_NO_STORAGE_VOL || e->code == VIR_ERR_NO_STORAGE_POOL))
        return -ENOENT;
    if (e && e->code == VIR_ERR_STORAGE_VOL_EXIST)
        return -EEXIST;
    return r;
}

int virt_volume_clone(Host *h, const char *disk, const char *src_path, const char *src_pool,
                      const char *src_volume, const char *new_name, bool linked,
                      char **ret_path)
{
    VIRT_OP(h, "clone volume");
    _cleanup_(virConnectClosep) virConnectPtr c = virt_host_conn(h);
    _cleanup_(virStorageVolFreep) virStorageVolPtr src = NULL, vol = NULL;
    _cleanup_(virStoragePoolFreep) virStoragePoolPtr pool = NULL;
    _cleanup_free_ char *src_xml = NULL, *format = NULL, *path = NULL, *xml = NULL;
    virStorageVolInfo info;

    if (!c)
        return -ENOTCONN;
    if (src_pool) {
        pool = virStoragePoolLookupByName(c, src_pool);
        if (pool)
            src = virStorageVolLookupByName(pool, src_volume);
    } else
        src = virStorageVolLookupByPath(c, src_path);
    if (!src) {
        int r = vol_errno("look up the volume of disk", disk);

        if (r == -ENOENT || r == -EINVAL || r == -EIO) {
            if (src_pool)
                error_setf("disk '%s' of the template: no volume '%s' in storage pool '%s'",
                           disk, src_volume, src_pool);
            else
                error_setf("disk '%s' of the template (%s) is not a volume in a libvirt storage "
                           "pool", disk, src_path);
            return -ENOENT;
        }
        return r;
    }
    pool = pool ? pool : virStoragePoolLookupByVolume(src);
    if (!pool)
        return vol_errno("find the storage pool of disk", disk);
    if (virStorageVolGetInfo(src, &info) < 0)
        return vol_errno("read the volume of disk", disk);
    src_xml = virStorageVolGetXMLDesc(src, 0);
    if (!src_xml)
        return vol_errno("read the volume of disk", disk);
    format = poolxml_volume_format(src_xml);
    path = virStorageVolGetPath(src);
    if (!path)
        return vol_errno("read the path of the volume of disk", disk);

    xml = poolxml_volume_xml(new_name, info.capacity, linked ? path : NULL, format);
    if (!xml)
        return -ENOMEM;
    vol = linked ? virStorageVolCreateXML(pool, xml, 0)
                 : virStorageVolCreateXMLFrom(pool, xml, src, 0);
    if (!vol)
        return vol_errno(linked ? "create an overlay volume for disk" : "copy the volume of disk",
                         disk);
    *ret_path = virStorageVolGetPath(vol);
    if (!*ret_path) {
        int r = vol_errno("read the path of the new volume of disk", disk);

        (void)virStorageVolDelete(vol, 0);
        return r;
    }
    return 0;
}

int virt_volume_delete(Host *h, const char *path)
{
    VIRT_OP(h, "delete volume");
    _cleanup_(virConnectClosep) virConnectPtr c = virt_host_conn(h);
    _cleanup_(virStorageVolFreep) virStorageVolPtr vol = NULL;

    if (!c)
        return -ENOTCONN;
    vol = virStorageVolLookupByPath(c, path);
    if (!vol)
        return vol_errno("look up the volume", path);
    if (virStorageVolDelete(vol, 0) < 0)
        return vol_errno("delete the volume", path);
    return 0;
}

void virt_volumes_free(VirtVolume *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].name);
        free(v[i].path);
        free(v[i].pool);
        free(v[i].backing);
    }
    free(v);
}

int virt_volumes_beside(Host *h, const char *src_path, const char *src_pool,
                        const char *src_volume, VirtVolume **ret, size_t *ret_n)
{
    VIRT_OP(h, "list volumes");
    _cleanup_(virConnectClosep) virConnectPtr c = virt_host_conn(h);
    _cleanup_(virStorageVolFreep) virStorageVolPtr src = NULL;
    _cleanup_(virStoragePoolFreep) virStoragePoolPtr pool = NULL;
    virStorageVolPtr *vols = NULL;
    VirtVolume *v = NULL;
    const char *pool_name;
    size_t k = 0;
    int n, r = 0;

    if (!c)
        return -ENOTCONN;
    if (src_pool)
        pool = virStoragePoolLookupByName(c, src_pool);
    else {
        src = virStorageVolLookupByPath(c, src_path);
        if (src)
            pool = virStoragePoolLookupByVolume(src);
    }
    if (!pool)
        return vol_errno("find the storage pool of", src_pool ? src_volume : src_path);
    pool_name = virStoragePoolGetName(pool);
    n = virStoragePoolListAllVolumes(pool, &vols, 0);
    if (n < 0)
        return vol_errno("list the volumes of storage pool", pool_name);
    v = calloc((size_t)n + 1, sizeof(*v));
    if (!v)
        r = -ENOMEM;
    /* A volume deleted meanwhile (another program) is left out. */
    for (int i = 0; i < n && r == 0; i++) {
        _cleanup_free_ char *xml = NULL;
        const char *name = virStorageVolGetName(vols[i]);
        VirtVolume *e = &v[k];

        e->path = virStorageVolGetPath(vols[i]);
        xml = e->path ? virStorageVolGetXMLDesc(vols[i], 0) : NULL;
        if (!xml) {
            r = vol_errno("read volume", name);
            free(e->path);
            e->path = NULL;
            if (r == -ENOENT)
                r = 0;
            continue;
        }
        e->name = name ? strdup(name) : NULL;
        e->pool = strdup(pool_name ? pool_name : "");
        e->backing = poolxml_volume_backing(xml);
        k++;
        if (!e->name || !e->pool)
            r = -ENOMEM;
    }
    for (int i = 0; i < n; i++)
        virStorageVolFree(vols[i]);
    free(vols);
    if (r < 0) {
        virt_volumes_free(v, k);
        return r;
    }
    *ret = v;
    *ret_n = k;
    return 0;
}

int virt_machine_undefine(Host *h, const char *name)
{
    VIRT_OP(h, "undefine");
    int r = 0;
    _cleanup_(virDomainFreep) virDomainPtr dom = virt_lookup(h, name, &r);

    if (!dom)
        return r;
    r = virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                        VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                                        VIR_DOMAIN_UNDEFINE_NVRAM);
    virt_changed();
    if (r < 0) {
        virErrorPtr e = virGetLastError();

        /* Drivers without one of those parts refuse the flag for it. */
        r = !e || (e->code != VIR_ERR_NO_SUPPORT && e->code != VIR_ERR_INVALID_ARG &&
                   e->code != VIR_ERR_ARGUMENT_UNSUPPORTED) ? -1 : virDomainUndefine(dom);
        virt_changed();
        if (r < 0)
            return virt_errno("undefine", name);
    }
    (void)virt_machine_refresh(h, name, NULL);
    return 0;
}
