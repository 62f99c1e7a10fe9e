/* cleanup.h: scope-bound ownership (systemd style).
 *
 * Every owning local starts NULL under _cleanup_ and is released when it
 * leaves scope; ownership moves out with steal_ptr().  This header must never
 * include a third-party library: modules define their own cleanups with
 * DEFINE_CLEANUP next to the one include that owns the type. */
#pragma once

#include <stdlib.h>
#include <unistd.h>
#include <errno.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

/* DEFINE_CLEANUP(virDomainPtr, virDomainFree) gives virDomainFreep(). */
#define DEFINE_CLEANUP(type, func)                  \
    static inline void func##p(type *p)             \
    {                                               \
        if (*p)                                     \
            func(*p);                               \
    }

static inline void freep(void *p)
{
    free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        (void)close(*fd);
        errno = saved;
    }
}
#define _cleanup_close_ _cleanup_(closep)

#define steal_ptr(pp)                   \
    ({                                  \
        __typeof__(*(pp)) _t = *(pp);   \
        *(pp) = NULL;                   \
        _t;                             \
    })

#define steal_fd(fdp)           \
    ({                          \
        int _fd = *(fdp);       \
        *(fdp) = -1;            \
        _fd;                    \
    })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
