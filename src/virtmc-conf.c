/* virtmc-conf.c: virtmc's own INI file (~/.config/virtmc/config), read with
 * libinih.
 *
 *   [server]
 *   url = https://kvm09.example:9001
 *   user = alice
 *   password = ...
 *   cacert = /etc/ssl/virtmcd-ca.pem
 *   insecure = no
 *   auth = any
 *
 * The only inih user of the client.  Unknown sections and keys are errors
 * with FILE:LINE, as in virtmcd.conf.  A file holding a password must not be
 * readable by group or others, the rule virtmcd applies to its users file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"
#include "virtmc.h"

#define FILE_MAX (64 * 1024)

typedef struct Parser {
    const char *path;
    char *text;    /* what is left to read */
    unsigned line; /* of the line last handed to inih */
    VmcFile *f;
    int error;
} Parser;

void vmc_file_clear(VmcFile *f)
{
    free(f->url);
    free(f->user);
    free(f->password);
    free(f->cacert);
    free(f->auth);
    *f = (VmcFile){ .insecure = -1 };
}

/* inih's line reader, counting lines: Debian's inih passes no line number to
 * the handler. */
static char *reader(char *str, int num, void *stream)
{
    Parser *p = stream;
    size_t n = 0;

    if (!p->text || !*p->text || num < 2)
        return NULL;
    while (p->text[n] && p->text[n] != '\n' && n < (size_t)num - 2)
        n++;
    if (p->text[n] == '\n')
        n++;
    memcpy(str, p->text, n);
    str[n] = '\0';
    p->text += n;
    p->line++;
    return str;
}

static int set_str(char **field, const char *value)
{
    char *copy = strdup(value);

    if (!copy)
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

static int handler(void *userdata, const char *section, const char *name, const char *value)
{
    Parser *p = userdata;
    VmcFile *f = p->f;
    bool b;
    int r = 0;

    if (!streq(section, "server")) {
        fprintf(stderr, "virtmc: %s:%u: unknown section '[%s]' (virtmc reads [server])\n", p->path,
                p->line, section);
        p->error = -EINVAL;
        return 1;
    }
    if (streq(name, "url"))
        r = set_str(&f->url, value);
    else if (streq(name, "user"))
        r = set_str(&f->user, value);
    else if (streq(name, "password"))
        r = set_str(&f->password, value);
    else if (streq(name, "cacert"))
        r = set_str(&f->cacert, value);
    else if (streq(name, "auth")) {
        if (!streq(value, "any") && !streq(value, "digest") && !streq(value, "basic")) {
            fprintf(stderr, "virtmc: %s:%u: auth must be any, digest or basic, not '%s'\n", p->path,
                    p->line, value);
            p->error = -EINVAL;
            return 1;
        }
        r = set_str(&f->auth, value);
    } else if (streq(name, "insecure")) {
        if (parse_bool(value, &b) < 0) {
            fprintf(stderr, "virtmc: %s:%u: insecure must be yes or no, not '%s'\n", p->path,
                    p->line, value);
            p->error = -EINVAL;
            return 1;
        }
        f->insecure = b;
    } else {
        fprintf(stderr, "virtmc: %s:%u: unknown key '%s' in [server]\n", p->path, p->line, name);
        p->error = -EINVAL;
        return 1;
    }
    if (r < 0)
        p->error = r;
    return 1;
}

int vmc_file_load(const char *path, bool must_exist, VmcFile *f)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    _cleanup_free_ char *text = NULL;
    Parser p = { .path = path, .f = f };
    struct stat st;
    int r;

    if (fd < 0) {
        r = -errno;
        if (r == -ENOENT && !must_exist)
            return 0;
        fprintf(stderr, "virtmc: %s: %s\n", path, strerror(-r));
        return r;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "virtmc: %s: not a regular file\n", path);
        return -EINVAL;
    }
    r = read_fd(fd, FILE_MAX, &text, NULL);
    if (r < 0) {
        fprintf(stderr, "virtmc: %s: cannot read it: %s\n", path, strerror(-r));
        return r;
    }
    if (strlen(text) != (size_t)st.st_size && (size_t)st.st_size <= FILE_MAX) {
        fprintf(stderr, "virtmc: %s: NUL byte in the file\n", path);
        return -EINVAL;
    }
    p.text = text;
    r = ini_parse_stream(reader, &p, handler, &p);
    if (p.error == -ENOMEM || r < 0) {
        fprintf(stderr, "virtmc: out of memory\n");
        return -ENOMEM;
    }
    if (r > 0 && !p.error) {
        fprintf(stderr, "virtmc: %s:%d: syntax error\n", path, r);
        return -EINVAL;
    }
    if (p.error)
        return p.error;
    if (f->password && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        fprintf(stderr,
                "virtmc: %s holds a password and is accessible by group or others "
                "(mode %04o); run 'chmod 600 %s'\n",
                path, (unsigned)(st.st_mode & 07777), path);
        return -EPERM;
    }
    return 0;
}
