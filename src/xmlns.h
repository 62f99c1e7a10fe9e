/* xmlns.h: virtmcd's XML namespace for what it keeps in a domain's
 * <metadata> (the one-time boot marker, owner, description, tags, pools).
 * bootxml and domxml read and write that element; virt asks libvirt for it
 * alone (virDomainGetMetadata) where a whole definition would cost more. */
#pragma once

#define VIRTMCD_XMLNS "http://virtmcd.org/xmlns/domain/1.0"
#define VIRTMCD_XMLNS_PREFIX "virtmcd"
