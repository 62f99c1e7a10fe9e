/* util.h: small helpers every module may use: strings, time, name checks,
 * the per-thread error message, and a growable string buffer.
 *
 * util never calls up into another module and includes no third-party header. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cleanup.h"

#define streq(a, b) (strcmp((a), (b)) == 0)
#define streq_ptr(a, b) ((a) && (b) ? streq((a), (b)) : (a) == (b))

/* Like strdup(), NULL in gives NULL out. */
char *strdup_null(const char *s);
/* asprintf() that returns the string, or NULL on out of memory. */
char *strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *strdup_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Strip leading and trailing blanks in place; returns s. */
char *strstrip(char *s);
bool startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);
void strv_free(char **v);
size_t strv_length(char *const *v);
/* Split on a separator, stripping blanks and dropping empty items. */
char **strv_split(const char *s, char sep);
/* n bytes as 2n lower-case hex digits and a NUL into out (2n + 1 bytes). */
void hex_encode(const uint8_t *p, size_t n, char *out);
/* The value of a hex digit, or -1. */
int hex_digit(char c);
/* len hex digits (even) into len / 2 bytes; -EINVAL for anything else. */
int hex_decode(const char *s, size_t len, uint8_t *out);
/* 64-bit FNV-1a of n bytes: a fast hash for tables and validators, never
 * for anything an attacker must not forge. */
uint64_t fnv1a64(const void *p, size_t n);

/* Append a copy of s to *v (NULL-terminated); -ENOMEM on failure. */
int strv_push(char ***v, const char *s);

static inline void strv_freep(char ***v)
{
    strv_free(*v);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* Parse a whole decimal number in [min, max]; -EINVAL or -ERANGE. */
int parse_uint(const char *s, unsigned long long min, unsigned long long max,
               unsigned long long *ret);
/* Parse a boolean: 1/0, true/false, yes/no, on/off. */
int parse_bool(const char *s, bool *ret);

/* Decode %XX escapes once into a new string; -EINVAL on a bad escape.
 * The decoded length is returned in *ret_len (NUL bytes may be embedded). */
int percent_decode(const char *s, size_t len, char **ret, size_t *ret_len);

/* A libvirt URI as it may be shown to clients: without its userinfo
 * ("user:password@") and without the query parameters whose name suggests a
 * secret (keyfile, password, token, ...).  NULL on out of memory. */
char *uri_strip_credentials(const char *uri);

/* API.md section 0: a machine name is 1..255 bytes, no '/', NUL or control
 * character, and not "." or "..". */
bool machine_name_valid(const char *s, size_t len);

/* Monotonic and real time in microseconds. */
uint64_t now_usec(void);
uint64_t realtime_usec(void);
/* UTC time as YYYYMMDDTHHMMSS.ffffffZ (23 chars + NUL). */
void format_timestamp(uint64_t realtime_us, char buf[static 32]);
/* UTC time as RFC 3339 (2026-11-22T01:30:15Z). */
void format_rfc3339(uint64_t realtime_us, char buf[static 32]);

/* The per-thread message that explains the last failure (libvirt's words,
 * a parser's position).  Handlers show it in error bodies; clear it at the
 * start of a request. */
void error_clear(void);
void error_setf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *error_get(void); /* NULL when none */

/* A growable byte buffer; always NUL-terminated after any append. */
typedef struct Buf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;
} Buf;
void buf_append(Buf *b, const char *s, size_t len);
void buf_puts(Buf *b, const char *s);
void buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the string and resets the buffer, or NULL if any append failed. */
char *buf_steal(Buf *b);
void buf_free(Buf *b);

/* A copy with every byte that is not part of valid UTF-8 replaced by '?'. */
char *utf8_sanitize(const char *s);

/* Write a whole buffer, retrying on EINTR and short writes. */
int write_full(int fd, const void *p, size_t len);
/* Read an open descriptor to its end (up to max bytes, else -EFBIG) into a
 * NUL-terminated string; *ret_len (if not NULL) gets the length, since the
 * data may hold NUL bytes.  The descriptor stays open. */
int read_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* Read a whole file (up to max bytes) into a NUL-terminated string. */
int read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* An IPv4 or IPv6 network, "192.0.2.0/24", "2001:db8::/32", or one address. */
typedef struct Cidr {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    unsigned prefix;        /* bits */
} Cidr;
/* -EINVAL for anything else (host bits set are allowed and ignored). */
int cidr_parse(const char *s, Cidr *ret);
/* Whether the numeric address `addr` ("192.0.2.7", "::1", an IPv4-mapped
 * "::ffff:192.0.2.7" for an IPv4 network) is inside c. */
bool cidr_match(const Cidr *c, const char *addr);

/* fnmatch(3) shell glob. */
bool glob_match(const char *pattern, const char *s);
