/* fuzz-conf.c: libFuzzer target for the configuration parser (src/conf.c):
 * conf_new(), conf_load_string(), conf_check(), conf_free().  The users
 * file (users_load) reads a file and is left to the e2e tests.
 *
 * The input is the text of a configuration file.  Beyond "no crash, no
 * leak" it checks that a refused text always says why, as "NAME:LINE:
 * message" with LINE inside the text; that an accepted one holds values in
 * the ranges virtmcd.conf(5) gives; that a user's machine list is never
 * NULL (NULL would mean "every machine"); and that parsing is
 * deterministic.  Seeds are in tests/fuzz/corpus/fuzz-conf/.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Isrc \
 *       $(pkg-config --cflags inih) tests/fuzz/fuzz-conf.c src/conf.c src/util.c \
 *       $(pkg-config --libs inih) -o fuzz-conf */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...)                                   \
    do {                                            \
        fprintf(stderr, "fuzz-conf: " __VA_ARGS__); \
        fputc('\n', stderr);                        \
        abort();                                    \
    } while (0)

#define NAME "fuzz.conf"

#define RANGE(v, lo, hi)                                                           \
    do {                                                                           \
        if ((unsigned long long)(v) < (lo) || (unsigned long long)(v) > (hi))      \
            FAIL("%s = %llu outside %llu..%llu", #v, (unsigned long long)(v),      \
                 (unsigned long long)(lo), (unsigned long long)(hi));              \
    } while (0)

static void check_message(const char *msg, unsigned lines, const char *prefix)
{
    const char *p;
    unsigned long long line;
    char *end;

    if (!msg || !*msg)
        FAIL("an empty error message");
    if (!startswith(msg, prefix))
        FAIL("error '%s' does not start with '%s'", msg, prefix);
    p = msg + strlen(prefix);
    if (*p != ':')
        FAIL("error '%s' has no ':' after the name", msg);
    p++;
    if (*p >= '0' && *p <= '9') {
        errno = 0;
        line = strtoull(p, &end, 10);
        if (errno || *end != ':' || line == 0 || line > lines + 1)
            FAIL("error '%s' names line %llu of %u", msg, line, lines);
        p = end + 1;
    }
    if (*p != ' ' || !p[1])
        FAIL("error '%s' has no message", msg);
}

static void check_values(const Conf *c)
{
    ListenAddr la;

    if (!c->listen || !c->uri || !c->realm || !c->backup_dir)
        FAIL("a required string is NULL");
    if (conf_parse_listen(c->listen, &la) < 0)
        FAIL("an accepted listen address does not parse: '%s'", c->listen);
    if (!c->tls_cert != !c->tls_key)
        FAIL("only one of tls_cert and tls_key accepted");
    RANGE(c->max_connections, 1, 100000);
    RANGE(c->max_connections_per_ip, 0, 100000);
    RANGE(c->connection_memory, 4096, 16777216);
    RANGE(c->max_body_bytes, 1024, 67108864);
    RANGE(c->request_timeout, 1, 3600);
    RANGE(c->threads, 0, 256);
    RANGE(c->workers, 1, 1024);
    RANGE(c->force_off_timeout, 0, 3600);
    RANGE(c->backup_keep, 0, 100000);
    RANGE(c->nonce_timeout, 1, 86400);
    RANGE(c->digest_algorithm, 0, _DIGEST_MAX - 1);
    RANGE(c->basic, 0, _BASIC_MAX - 1);
    if (!digest_algo_to_string(c->digest_algorithm) || !basic_mode_to_string(c->basic))
        FAIL("an enum without a name");
    if (c->n_hosts && !c->hosts)
        FAIL("hosts counted but missing");
    for (size_t i = 0; i < c->n_hosts; i++) {
        if (!c->hosts[i].name || !c->hosts[i].uri)
            FAIL("a host without name or uri");
        for (size_t j = 0; j < i; j++)
            if (streq(c->hosts[i].name, c->hosts[j].name))
                FAIL("host '%s' accepted twice", c->hosts[i].name);
    }
    for (size_t i = 0; i < c->n_users; i++) {
        const ConfUser *u = &c->users[i];

        if (!u->name)
            FAIL("a user without a name");
        if (!u->machines)
            FAIL("user '%s' has a NULL machine list (that means every machine)", u->name);
        RANGE(u->role, 0, _ROLE_MAX - 1);
        if (!role_to_string(u->role) || role_from_string(role_to_string(u->role)) != u->role)
            FAIL("role of '%s' does not round-trip", u->name);
        if (conf_find_user(c, u->name) != u)
            FAIL("user '%s' accepted twice (or not found)", u->name);
        for (char **g = u->machines; *g; g++)
            if (!**g)
                FAIL("an empty glob for '%s'", u->name);
    }
    for (size_t i = 0; i < c->n_pools; i++) {
        const ConfPool *p = &c->pools[i];

        if (!p->name || !p->template_name || !*p->template_name)
            FAIL("a pool without name or template");
        if (conf_find_pool(c, p->name) != p)
            FAIL("pool '%s' accepted twice (or not found)", p->name);
        RANGE(p->size, 0, 1000);
        RANGE(p->lifetime, 1, 8760);
        RANGE(p->max_lifetime, 1, 8760);
        if (p->lifetime > p->max_lifetime)
            FAIL("pool '%s': lifetime above max_lifetime accepted", p->name);
        RANGE(p->ready_ttl, 1, 10080);
        RANGE(p->timeout, 1, 1440);
        RANGE(p->clone, 0, _CLONE_MAX - 1);
        RANGE(p->ready_check, 0, _READY_CHECK_MAX - 1);
        if (p->ready_check == READY_CHECK_TCP)
            RANGE(p->ready_port, 1, 65535);
        if (p->host && !c->n_hosts)
            FAIL("pool '%s' names a host with no [host] sections", p->name);
    }
}

/* Parse text; returns the errors (caller clears) and the Conf when valid. */
static int parse(const char *text, ConfErrors *errs, Conf **ret)
{
    Conf *c = conf_new();
    int r;

    if (!c)
        return -ENOMEM;
    r = conf_load_string(c, text, NAME, errs);
    if (r == 0)
        r = conf_check(c, errs);
    if (r < 0) {
        conf_free(c);
        return r;
    }
    *ret = c;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ConfErrors e1 = { 0 }, e2 = { 0 };
    Conf *c = NULL, *c2 = NULL;
    unsigned lines = 1;
    char *text;
    int r1, r2;

    if (size > 1 << 20)
        return 0;
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (const char *p = text; *p; p++)
        lines += *p == '\n';

    r1 = parse(text, &e1, &c);
    if (r1 == 0) {
        if (e1.n)
            FAIL("accepted with %zu errors", e1.n);
        check_values(c);
    } else {
        if (r1 != -EINVAL && r1 != -ENOMEM)
            FAIL("conf_load_string/conf_check returned %d", r1);
        if (r1 == -EINVAL && e1.n == 0)
            FAIL("refused without an error message");
        for (size_t i = 0; i < e1.n; i++) {
            if (startswith(e1.msgs[i], NAME ":"))
                check_message(e1.msgs[i], lines, NAME);
            else
                check_message(e1.msgs[i], lines, "configuration");
        }
    }

    /* The same text gives the same answer. */
    r2 = parse(text, &e2, &c2);
    if (r1 != r2 || e1.n != e2.n)
        FAIL("parsing twice gave %d/%zu then %d/%zu", r1, e1.n, r2, e2.n);
    for (size_t i = 0; i < e1.n; i++)
        if (!streq(e1.msgs[i], e2.msgs[i]))
            FAIL("parsing twice gave '%s' then '%s'", e1.msgs[i], e2.msgs[i]);

    conf_free(c);
    conf_free(c2);
    conf_errors_clear(&e1);
    conf_errors_clear(&e2);
    free(text);
    return 0;
}
