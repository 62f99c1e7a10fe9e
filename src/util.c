/* util.c: strings, time, name checks, the per-thread error message.
 *
 * Pure helpers: no I/O beyond the explicit file helpers, no logging, and
 * never a call into another virtmcd module. */
#include "config.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

char *strdup_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *strdup_vprintf(const char *fmt, va_list ap)
{
    char *s;

    if (vasprintf(&s, fmt, ap) < 0)
        return NULL;
    return s;
}

char *strdup_printf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = strdup_vprintf(fmt, ap);
    va_end(ap);
    return s;
}

char *strstrip(char *s)
{
    char *e;

    while (*s && isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

bool startswith(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);

    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

void strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

size_t strv_length(char *const *v)
{
    size_t n = 0;

    while (v && v[n])
        n++;
    return n;
}

int strv_push(char ***v, const char *s)
{
    size_t n = strv_length(*v);
    char **nv;
    char *copy = strdup(s);

    if (!copy)
        return -ENOMEM;
    nv = realloc(*v, (n + 2) * sizeof(char *));
    if (!nv) {
        free(copy);
        return -ENOMEM;
    }
    nv[n] = copy;
    nv[n + 1] = NULL;
    *v = nv;
    return 0;
}

char **strv_split(const char *s, char sep)
{
    _cleanup_free_ char *copy = strdup(s);
    char **v = calloc(1, sizeof(char *));
    char *p, *item;

    if (!copy || !v) {
        free(v);
        return NULL;
    }
    p = copy;
    for (;;) {
        char *end = strchr(p, sep);

        if (end)
            *end = '\0';
        item = strstrip(p);
        if (*item && strv_push(&v, item) < 0) {
            strv_free(v);
            return NULL;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return v;
}

int parse_uint(const char *s, unsigned long long min, unsigned long long max,
               unsigned long long *ret)
{
    unsigned long long v;
    char *end;

    if (!s || !*s || !isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end)
        return -EINVAL;
    if (errno == ERANGE || v < min || v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

int parse_bool(const char *s, bool *ret)
{
    static const char *const yes[] = { "1", "true", "yes", "on" };
    static const char *const no[] = { "0", "false", "no", "off" };

    for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *ret = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *ret = false;
            return 0;
        }
    }
    return -EINVAL;
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int percent_decode(const char *s, size_t len, char **ret, size_t *ret_len)
{
    char *out = malloc(len + 1);
    size_t o = 0;

    if (!out)
        return -ENOMEM;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi, lo;

            if (i + 2 >= len) {
                free(out);
                return -EINVAL;
            }
            hi = hex_digit(s[i + 1]);
            lo = hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0) {
                free(out);
                return -EINVAL;
            }
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else
            out[o++] = s[i];
    }
    out[o] = '\0';
    *ret = out;
    if (ret_len)
        *ret_len = o;
    return 0;
}

/* Words in a query parameter's name that mark it as a secret, or as the
 * path to one (libvirt's keyfile=). */
static const char *const secret_words[] = { "pass", "pwd", "secret", "key", "token",
                                            "auth", "cred", NULL };

static bool param_is_secret(const char *p, size_t len)
{
    const char *eq = memchr(p, '=', len);
    _cleanup_free_ char *name = NULL;
    size_t n;

    /* Matched decoded, so that "pass%77ord" is caught too; a name that does
     * not decode is matched as it is. */
    if (percent_decode(p, eq ? (size_t)(eq - p) : len, &name, &n) < 0) {
        name = strndup(p, eq ? (size_t)(eq - p) : len);
        if (!name)
            return true;
    }
    for (char *c = name; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    for (size_t i = 0; secret_words[i]; i++)
        if (strstr(name, secret_words[i]))
            return true;
    return false;
}

char *uri_strip_credentials(const char *uri)
{
    const char *p = uri, *scheme_end = strstr(uri, "://"), *query, *frag;
    bool first = true;
    Buf b = { 0 };

    if (scheme_end) {
        const char *auth = scheme_end + 3;
        const char *auth_end = auth + strcspn(auth, "/?#");
        const char *at = NULL;

        /* RFC 3986: the userinfo ends at the authority's last '@'. */
        for (const char *c = auth; c < auth_end; c++)
            if (*c == '@')
                at = c;
        buf_append(&b, uri, (size_t)(auth - uri));
        p = at ? at + 1 : auth;
    }
    frag = p + strcspn(p, "#");
    query = memchr(p, '?', (size_t)(frag - p));
    if (!query) {
        buf_puts(&b, p);
        return buf_steal(&b);
    }
    buf_append(&b, p, (size_t)(query - p));
    for (const char *q = query + 1, *end; q < frag; q = end + 1) {
        size_t len;

        end = memchr(q, '&', (size_t)(frag - q));
        if (!end)
            end = frag;
        len = (size_t)(end - q);
        if (len == 0 || param_is_secret(q, len))
            continue;
        buf_append(&b, first ? "?" : "&", 1);
        buf_append(&b, q, len);
        first = false;
    }
    buf_puts(&b, frag);
    return buf_steal(&b);
}

bool machine_name_valid(const char *s, size_t len)
{
    if (len == 0 || len > 255)
        return false;
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '/' || c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

uint64_t now_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t realtime_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void format_timestamp(uint64_t us, char buf[static 32])
{
    time_t t = (time_t)(us / 1000000u);
    struct tm tm;

    char date[24];

    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%Y%m%dT%H%M%S", &tm);
    snprintf(buf, 32, "%.15s.%06uZ", date, (unsigned)(us % 1000000u));
}

void format_rfc3339(uint64_t us, char buf[static 32])
{
    time_t t = (time_t)(us / 1000000u);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static __thread char error_buf[1024];
static __thread bool error_set;

void error_clear(void)
{
    error_set = false;
    error_buf[0] = '\0';
}

void error_setf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(error_buf, sizeof(error_buf), fmt, ap);
    va_end(ap);
    error_set = true;
}

const char *error_get(void)
{
    return error_set ? error_buf : NULL;
}

void buf_append(Buf *b, const char *s, size_t len)
{
    if (b->oom)
        return;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *d;

        while (cap < b->len + len + 1)
            cap *= 2;
        d = realloc(b->data, cap);
        if (!d) {
            b->oom = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void buf_puts(Buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_printf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    _cleanup_free_ char *s = NULL;

    va_start(ap, fmt);
    s = strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!s) {
        b->oom = true;
        return;
    }
    buf_puts(b, s);
}

char *buf_steal(Buf *b)
{
    char *d;

    if (b->oom) {
        buf_free(b);
        return NULL;
    }
    if (!b->data)
        buf_append(b, "", 0);
    d = b->data;
    *b = (Buf){ 0 };
    return d;
}

void buf_free(Buf *b)
{
    free(b->data);
    *b = (Buf){ 0 };
}

/* Length of the valid UTF-8 sequence at s (RFC 3629), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xe0 && s[0] <= 0xef) {
        unsigned lo = s[0] == 0xe0 ? 0xa0 : 0x80, hi = s[0] == 0xed ? 0x9f : 0xbf;

        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        unsigned lo = s[0] == 0xf0 ? 0x90 : 0x80, hi = s[0] == 0xf4 ? 0x8f : 0xbf;

        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

char *utf8_sanitize(const char *s)
{
    char *out = strdup(s);
    unsigned char *p = (unsigned char *)out;

    if (!out)
        return NULL;
    while (*p) {
        size_t n = utf8_seq(p);

        if (n == 0) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
    return out;
}

int write_full(int fd, const void *p, size_t len)
{
    const char *c = p;

    while (len > 0) {
        ssize_t n = write(fd, c, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        c += n;
        len -= (size_t)n;
    }
    return 0;
}

int read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
    Buf b = { 0 };
    char chunk[16384];

    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0) {
            if (errno == EINTR)
                continue;
            buf_free(&b);
            return -errno;
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max) {
            buf_free(&b);
            return -EFBIG;
        }
        buf_append(&b, chunk, (size_t)n);
    }
    if (ret_len)
        *ret_len = b.len;
    *ret = buf_steal(&b);
    return *ret ? 0 : -ENOMEM;
}

int read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return -errno;
    return read_fd(fd, max, ret, ret_len);
}

bool glob_match(const char *pattern, const char *s)
{
    return fnmatch(pattern, s, 0) == 0;
}

int cidr_parse(const char *s, Cidr *ret)
{
    char buf[INET6_ADDRSTRLEN + 8];
    const char *slash;
    unsigned long long bits;
    Cidr c = { 0 };
    size_t len;

    if (!s || (len = strlen(s)) == 0 || len >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, len + 1);
    slash = strchr(buf, '/');
    if (slash)
        buf[slash - buf] = '\0';
    if (inet_pton(AF_INET, buf, c.addr) == 1) {
        c.family = AF_INET;
        c.prefix = 32;
    } else if (inet_pton(AF_INET6, buf, c.addr) == 1) {
        c.family = AF_INET6;
        c.prefix = 128;
    } else
        return -EINVAL;
    if (slash) {
        if (parse_uint(slash + 1, 0, c.prefix, &bits) < 0)
            return -EINVAL;
        c.prefix = (unsigned)bits;
    }
    *ret = c;
    return 0;
}

bool cidr_match(const Cidr *c, const char *addr)
{
    unsigned char a[16];
    const unsigned char *p = a;
    unsigned full, rest;

    if (!addr)
        return false;
    if (c->family == AF_INET) {
        if (inet_pton(AF_INET, addr, a) != 1) {
            static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

            if (inet_pton(AF_INET6, addr, a) != 1 || memcmp(a, mapped, 12) != 0)
                return false;
            p = a + 12;
        }
    } else if (inet_pton(AF_INET6, addr, a) != 1)
        return false;
    full = c->prefix / 8;
    rest = c->prefix % 8;
    if (memcmp(p, c->addr, full) != 0)
        return false;
    return rest == 0 || ((p[full] ^ c->addr[full]) & (0xff00u >> rest) & 0xff) == 0;
}

int hex_decode(const char *s, size_t len, uint8_t *out)
{
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_digit(s[i]), lo = hi < 0 ? -1 : hex_digit(s[i + 1]);

        if (lo < 0)
            return -EINVAL;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

uint64_t fnv1a64(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = UINT64_C(14695981039346656037);

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

void hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}
