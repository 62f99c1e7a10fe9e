/* virtmc-cmd.c: virtmc's commands, one row each in vmc_commands[], and how
 * each maps onto virtmcd's /service tree (docs/API.md).
 *
 * A command builds a path, calls vmc_request() and prints the answer: the
 * server's JSON as it came with --json, else text for people.  It never
 * decides what the server allows: refusals are the server's, passed on with
 * exit code 1.  Usage errors (exit 2) are caught here before any request. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "virtmc.h"

static void replyp(Reply *r)
{
    reply_clear(r);
}
#define _cleanup_reply_ _cleanup_(replyp)

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("virtmc: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return VMC_EXIT_USAGE;
}

static int oom(void)
{
    fprintf(stderr, "virtmc: out of memory\n");
    return VMC_EXIT_REFUSED;
}

/* The server's JSON as it came, one line. */
static void print_body(const Reply *r)
{
    fwrite(r->body, 1, r->len, stdout);
    if (r->len == 0 || r->body[r->len - 1] != '\n')
        fputc('\n', stdout);
}

static const char *str(const Json *o, const char *key)
{
    return json_as_str(json_get(o, key));
}

/* A request whose answer must be a JSON object (array when want_array). */
static int request_json(const Client *c, const char *method, const char *path, const char *body,
                        bool want_array, Reply *ret)
{
    int r = vmc_request(c, method, path, body, ret);

    if (r != VMC_EXIT_OK)
        return r;
    if (want_array ? !json_is_array(ret->json) : !json_is_object(ret->json)) {
        fprintf(stderr, "virtmc: %s %s: the answer is not the JSON %s virtmcd sends\n", method,
                path, want_array ? "array" : "object");
        reply_clear(ret);
        return VMC_EXIT_REFUSED;
    }
    return VMC_EXIT_OK;
}

/* A request whose answer, with --json, is printed here as it came: the
 * caller prints its own form only when that returned 0 without --json.
 * path NULL (out of memory) is the caller's allocation failing. */
static int fetch(const Client *c, const Args *a, const char *method, const char *path,
                 const char *body, bool array, Reply *r)
{
    int ret;

    if (!path)
        return oom();
    ret = request_json(c, method, path, body, array, r);
    if (ret == 0 && a->json)
        print_body(r);
    return ret;
}

/* ---- paths and queries ---- */

typedef struct Query {
    Buf b;
} Query;

static void query_add(Query *q, const char *key, const char *value)
{
    _cleanup_free_ char *e = value ? vmc_escape(value) : NULL;

    buf_puts(&q->b, q->b.len ? "&" : "?");
    buf_puts(&q->b, key);
    if (value) {
        if (!e) {
            q->b.oom = true;
            return;
        }
        buf_puts(&q->b, "=");
        buf_puts(&q->b, e);
    }
}

/* /service/machines/NAME[/suffix][?host=H&extra]: the canonical path, which
 * no reserved word shadows.  NULL on out of memory. */
static char *machine_path(const char *name, const char *suffix, const Args *a, Query *extra)
{
    _cleanup_free_ char *e = vmc_escape(name);
    _cleanup_free_ char *q = NULL;
    Query own = { 0 };
    Query *qq = extra ? extra : &own;
    char *p;

    if (a->host)
        query_add(qq, "host", a->host);
    if (qq->b.oom || !e) {
        buf_free(&qq->b);
        return NULL;
    }
    q = qq->b.data ? buf_steal(&qq->b) : strdup("");
    if (!q)
        return NULL;
    p = strdup_printf("/service/machines/%s%s%s%s", e, suffix ? "/" : "", suffix ? suffix : "", q);
    return p;
}

/* ---- states ---- */

static const char *const states[] = { "running",     "idle",     "paused",
                                      "in shutdown", "shut off", "crashed",
                                      "pmsuspended", "no state", NULL };

/* A state as virsh writes it, from what a shell makes easy to type
 * ("shut-off", "shut_off", "shutoff"); NULL when it is none.  The IPMI words
 * "on" and "off" only where ipmi_words ([compat] state_words = ipmi). */
static const char *state_norm(const char *in, bool ipmi_words)
{
    char buf[32];
    size_t n = strlen(in);

    if (n >= sizeof(buf))
        return NULL;
    for (size_t i = 0; i <= n; i++)
        buf[i] = in[i] == '-' || in[i] == '_' ? ' ' : in[i];
    if (streq(buf, "shutoff"))
        return "shut off";
    if (streq(buf, "inshutdown"))
        return "in shutdown";
    if (streq(buf, "nostate"))
        return "no state";
    for (size_t i = 0; states[i]; i++)
        if (streq(buf, states[i]))
            return states[i];
    if (ipmi_words && streq(buf, "on"))
        return "on";
    if (ipmi_words && streq(buf, "off"))
        return "off";
    return NULL;
}

static int bad_state(const char *s)
{
    return usage_error("unknown state '%s': one of running, idle, paused, in-shutdown, "
                       "shut-off, crashed, pmsuspended, no-state",
                       s);
}

/* ---- small formatters ---- */

typedef struct Joiner {
    Buf b;
    const char *sep;
} Joiner;

static int join_tag(const char *key, Json *value, void *userdata)
{
    Joiner *j = userdata;
    _cleanup_free_ char *v = out_scalar(value);

    if (j->b.len)
        buf_puts(&j->b, j->sep);
    buf_printf(&j->b, "%s=%s", key, v ? v : "?");
    return 0;
}

/* {"env": "ci", "role": "web"} as "env=ci, role=web" ("" for none). */
static char *tags_text(const Json *tags)
{
    Joiner j = { .sep = ", " };

    if (json_is_object(tags))
        (void)json_object_each(tags, join_tag, &j);
    return j.b.data ? buf_steal(&j.b) : strdup("");
}

/* ["a", "b"] as "a, b". */
static char *strings_text(const Json *a, const char *sep)
{
    Buf b = { 0 };

    for (size_t i = 0; i < json_arr_len(a); i++) {
        _cleanup_free_ char *s = out_scalar(json_arr_get(a, i));

        if (i)
            buf_puts(&b, sep);
        buf_puts(&b, s ? s : "?");
    }
    return b.data ? buf_steal(&b) : strdup("");
}

static const char *yes_no(const Json *j)
{
    bool b;

    if (json_as_bool(j, &b) < 0)
        return "-";
    return b ? "yes" : "no";
}

static void kv_state(const char *key, const char *state)
{
    _cleanup_free_ char *v = strdup_printf("%s%s%s", out_state_colour(state), state ? state : "-",
                                           *out_state_colour(state) ? out_reset() : "");
    out_kv(key, v ? v : state);
}

/* ---- list ---- */

static int cmd_list(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 };
    _cleanup_(table_freep) Table *t = NULL;
    _cleanup_free_ char *path = NULL;
    static const char *const head[] = { "NAME", "STATE", "HOST", "OWNER", "TAGS" };
    Query q = { 0 };
    int ret;

    if (a->state) {
        const char *s = state_norm(a->state, false);
        if (!s)
            return bad_state(a->state);
        query_add(&q, "state", s);
    }
    if (a->host)
        query_add(&q, "host", a->host);
    if (a->owner)
        query_add(&q, "owner", a->owner);
    for (size_t i = 0; a->tags && a->tags[i]; i++) {
        _cleanup_free_ char *kv = strdup(a->tags[i]);
        char *eq;

        if (!kv)
            return oom();
        /* key=value on the command line; the API writes key:value. */
        eq = strchr(kv, '=');
        if (eq)
            *eq = ':';
        if (!*kv || kv[0] == ':')
            return usage_error("--tag wants KEY=VALUE or KEY, not '%s'", a->tags[i]);
        query_add(&q, "tag", kv);
    }
    if (a->n_pos > 0)
        query_add(&q, "name", a->pos[0]);
    if (q.b.oom)
        return oom();
    path = strdup_printf("/service/machines%s", q.b.data ? q.b.data : "");
    buf_free(&q.b);
    ret = fetch(c, a, "GET", path, NULL, true, &r);
    if (ret || a->json)
        return ret;
    t = table_new(ELEMENTSOF(head), head);
    if (!t)
        return oom();
    for (size_t i = 0; i < json_arr_len(r.json); i++) {
        Json *m = json_arr_get(r.json, i);
        _cleanup_free_ char *tags = tags_text(json_get(m, "tags"));
        _cleanup_free_ char *state = NULL;
        bool stale = false;

        if (a->quiet) {
            printf("%s\n", str(m, "name") ? str(m, "name") : "");
            continue;
        }
        (void)json_as_bool(json_get(m, "stale"), &stale);
        state =
            strdup_printf("%s%s", str(m, "state") ? str(m, "state") : "-", stale ? " (stale)" : "");
        const char *cells[] = { str(m, "name"), state, str(m, "host"), str(m, "owner"),
                                tags && *tags ? tags : "-" };
        if (!tags || !state || table_add(t, cells, 1, out_state_colour(str(m, "state"))) < 0)
            return oom();
    }
    table_print(t, stdout);
    return 0;
}

/* ---- status ---- */

static int cmd_status(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 };
    _cleanup_free_ char *path = machine_path(a->pos[0], NULL, a, NULL);
    Json *m, *boot, *meta;
    long long n;
    int ret;

    ret = fetch(c, a, "GET", path, NULL, false, &r);
    if (ret || a->json)
        return ret;
    m = r.json;
    out_kv("name", str(m, "name"));
    kv_state("state", str(m, "state"));
    out_kv("id", str(m, "id"));
    out_kv("uuid", str(m, "uuid"));
    out_kv("host", str(m, "host"));
    if (json_as_int(json_get(m, "vcpus"), &n) == 0) {
        _cleanup_free_ char *v = strdup_printf("%lld", n);
        out_kv("vcpus", v);
    }
    if (json_as_int(json_get(m, "memory_kib"), &n) == 0) {
        _cleanup_free_ char *v = out_kib(n);
        out_kv("memory", v);
    }
    out_kv("persistent", yes_no(json_get(m, "persistent")));
    out_kv("autostart", yes_no(json_get(m, "autostart")));
    boot = json_get(m, "boot");
    if (json_is_object(boot)) {
        Json *order = json_get(boot, "order");
        Buf b = { 0 };
        _cleanup_free_ char *text = NULL;
        bool once = false;

        for (size_t i = 0; i < json_arr_len(order); i++) {
            Json *e = json_arr_get(order, i);
            buf_printf(&b, "%s%s", i ? ", " : "", str(e, "class") ? str(e, "class") : "?");
        }
        (void)json_as_bool(json_get(boot, "once"), &once);
        buf_printf(&b, "%s(%s style, %s%s)", b.len ? " " : "",
                   str(boot, "style") ? str(boot, "style") : "?",
                   str(boot, "mode") ? str(boot, "mode") : "?", once ? ", once" : "");
        text = buf_steal(&b);
        out_kv("boot", text);
    }
    meta = json_get(m, "metadata");
    if (json_is_object(meta)) {
        _cleanup_free_ char *tags = tags_text(json_get(meta, "tags"));
        out_kv("owner", str(meta, "owner"));
        out_kv("description", str(meta, "description"));
        out_kv("tags", tags && *tags ? tags : "-");
    }
    for (size_t i = 0; i < json_arr_len(json_get(m, "interfaces")); i++) {
        Json *e = json_arr_get(json_get(m, "interfaces"), i);
        _cleanup_free_ char *v = strdup_printf("%s %s %s %s", str(e, "mac") ? str(e, "mac") : "-",
                                               str(e, "type") ? str(e, "type") : "-",
                                               str(e, "source") ? str(e, "source") : "-",
                                               str(e, "model") ? str(e, "model") : "-");
        out_kv(i ? "" : "interfaces", v);
    }
    for (size_t i = 0; i < json_arr_len(json_get(m, "disks")); i++) {
        Json *e = json_arr_get(json_get(m, "disks"), i);
        _cleanup_free_ char *v =
            strdup_printf("%s %s %s", str(e, "target") ? str(e, "target") : "-",
                          str(e, "device") ? str(e, "device") : "-",
                          str(e, "source") ? str(e, "source") : "(empty)");
        out_kv(i ? "" : "disks", v);
    }
    return 0;
}

/* ---- power ---- */

static const struct {
    const char *word, *action;
} power_words[] = {
    { "on", "power_on" },       { "off", "power_off" },       { "soft", "soft_off" },
    { "cycle", "power_cycle" }, { "reset", "force_reset" },   { "reboot", "reboot" },
    { "nmi", "nmi" },           { "force-off", "force_off" },
};

static int print_action(const Reply *r)
{
    const char *res = str(r->json, "result"), *state = str(r->json, "state");

    printf("%s: %s %s, now %s%s%s\n", str(r->json, "name") ? str(r->json, "name") : "?",
           str(r->json, "action") ? str(r->json, "action") : "?", res ? res : "?",
           out_state_colour(state), state ? state : "?",
           *out_state_colour(state) ? out_reset() : "");
    return 0;
}

/* POST /service/machines/NAME/state_controller/ACTION with q. */
static int post_action(const Client *c, const Args *a, const char *action, Query *q, Reply *r)
{
    _cleanup_free_ char *suffix = strdup_printf("state_controller/%s", action);
    _cleanup_free_ char *path = NULL;

    if (!suffix)
        return oom();
    path = machine_path(a->pos[0], suffix, a, q);
    return fetch(c, a, "POST", path, NULL, false, r);
}

static int cmd_power(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 };
    const char *action = NULL;
    Query q = { 0 };
    int ret;

    for (size_t i = 0; i < ELEMENTSOF(power_words); i++)
        if (streq(a->pos[1], power_words[i].word))
            action = power_words[i].action;
    if (!action)
        return usage_error("unknown power action '%s': on, off, soft, cycle, reset, reboot, "
                           "nmi or force-off",
                           a->pos[1]);
    if (a->force)
        query_add(&q, "force", "1");
    ret = post_action(c, a, action, &q, &r);
    if (ret || a->json)
        return ret;
    return print_action(&r);
}

/* ---- boot ---- */

static int show_boot(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 };
    _cleanup_free_ char *path = machine_path(a->pos[0], "boot", a, NULL);
    Json *order;
    Buf b = { 0 };
    _cleanup_free_ char *text = NULL;
    int ret;

    ret = fetch(c, a, "GET", path, NULL, false, &r);
    if (ret || a->json)
        return ret;
    order = json_get(r.json, "order");
    for (size_t i = 0; i < json_arr_len(order); i++) {
        Json *e = json_arr_get(order, i);
        const char *dev = str(e, "device");

        buf_printf(&b, "%s%s%s%s", i ? ", " : "", str(e, "class") ? str(e, "class") : "?",
                   dev ? " " : "", dev ? dev : "");
    }
    text = b.data ? buf_steal(&b) : strdup("-");
    out_kv("first", str(r.json, "first"));
    out_kv("order", text);
    out_kv("style", str(r.json, "style"));
    out_kv("mode", str(r.json, "mode"));
    out_kv("once", yes_no(json_get(r.json, "once")));
    out_kv("pending", yes_no(json_get(r.json, "pending")));
    return 0;
}

static int cmd_boot(const Client *c, const Args *a)
{
    static const struct {
        const char *word, *action;
    } devices[] = {
        { "pxe", "pxeboot" },     { "network", "pxeboot" },     { "disk", "diskboot" },
        { "cdrom", "cdromboot" }, { "default", "defaultboot" },
    };
    _cleanup_reply_ Reply r = { 0 };
    const char *action = NULL, *backup;
    Query q = { 0 };
    int ret;

    if (a->n_pos == 1) {
        if (a->once || a->restart)
            return usage_error("--once and --restart go with a device: boot NAME DEVICE");
        return show_boot(c, a);
    }
    for (size_t i = 0; i < ELEMENTSOF(devices); i++)
        if (streq(a->pos[1], devices[i].word))
            action = devices[i].action;
    if (!action)
        return usage_error("unknown boot device '%s': pxe, disk, cdrom or default", a->pos[1]);
    if (a->once)
        query_add(&q, "once", "1");
    if (a->restart)
        query_add(&q, "restart", "1");
    ret = post_action(c, a, action, &q, &r);
    if (ret || a->json)
        return ret;
    backup = str(r.json, "backup");
    printf("%s: %s %s, first %s%s, applies %s%s%s\n",
           str(r.json, "name") ? str(r.json, "name") : "?", action,
           str(r.json, "result") ? str(r.json, "result") : "?",
           str(r.json, "first") ? str(r.json, "first") : "?", a->once ? " once" : "",
           str(r.json, "applies") ? str(r.json, "applies") : "?", backup ? "; backup " : "",
           backup ? backup : "");
    return 0;
}

/* ---- backups and restore ---- */

static int cmd_backups(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 };
    _cleanup_(table_freep) Table *t = NULL;
    _cleanup_free_ char *path = machine_path(a->pos[0], "backups", a, NULL);
    static const char *const head[] = { "ID", "REASON", "SIZE" };
    int ret;

    ret = fetch(c, a, "GET", path, NULL, true, &r);
    if (ret || a->json)
        return ret;
    t = table_new(ELEMENTSOF(head), head);
    if (!t)
        return oom();
    for (size_t i = 0; i < json_arr_len(r.json); i++) {
        Json *e = json_arr_get(r.json, i);
        _cleanup_free_ char *size = out_scalar(json_get(e, "size"));
        const char *cells[] = { str(e, "id"), str(e, "reason"), size };

        if (!size || table_add(t, cells, 0, NULL) < 0)
            return oom();
    }
    table_print(t, stdout);
    return 0;
}

static int cmd_restore(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 };
    _cleanup_free_ char *id = vmc_escape(a->pos[1]);
    _cleanup_free_ char *suffix = id ? strdup_printf("backups/%s/restore", id) : NULL;
    _cleanup_free_ char *path = suffix ? machine_path(a->pos[0], suffix, a, NULL) : NULL;
    const char *before;
    int ret;

    if (!path)
        return oom();
    ret = request_json(c, "POST", path, NULL, false, &r);
    if (ret)
        return ret;
    if (a->json) {
        print_body(&r);
        return 0;
    }
    before = str(r.json, "backup");
    printf("%s: restored %s%s%s\n", str(r.json, "name") ? str(r.json, "name") : "?",
           str(r.json, "restored") ? str(r.json, "restored") : a->pos[1],
           before ? "; the definition before it is backup " : "", before ? before : "");
    return 0;
}

/* ---- query and map (virtmapper) ---- */

static int warn_conflict(const Json *e)
{
    _cleanup_free_ char *hosts = strings_text(json_get(e, "hosts"), ", ");
    const char *name = str(e, "name"), *uuid = str(e, "uuid");

    fprintf(stderr, "virtmc: warning: %s%s%s%s is active on more than one host: %s\n",
            name ? name : "", name && uuid ? " " : "", uuid ? "UUID " : "", uuid ? uuid : "",
            hosts ? hosts : "?");
    return 0;
}

/* virtmapper's Info(): exactly its two sentences. */
static int say_host(const char *key, Json *value, void *userdata)
{
    _cleanup_free_ char *guests = strings_text(json_get(value, "guests"), ", ");

    (void)userdata;
    printf("%s is a virtual host for guests: %s\n", key, guests ? guests : "");
    return 0;
}

static int say_guest(const char *key, Json *value, void *userdata)
{
    (void)userdata;
    printf("%s is a virtual guest on host: %s\n", key,
           str(value, "host") ? str(value, "host") : "");
    return 0;
}

static int cmd_query(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 };
    _cleanup_free_ char *e = vmc_escape(a->pos[0]);
    _cleanup_free_ char *path = e ? strdup_printf("/service/map/%s", e) : NULL;
    Json *hosts, *guests, *conflicts;
    int ret;

    ret = fetch(c, a, "GET", path, NULL, false, &r);
    if (ret || a->json)
        return ret;
    /* A host name wins over a guest name, on the server as in virtmapper. */
    hosts = json_get(r.json, "hosts");
    guests = json_get(r.json, "guests");
    if (json_is_object(hosts))
        (void)json_object_each(hosts, say_host, NULL);
    else if (json_is_object(guests))
        (void)json_object_each(guests, say_guest, NULL);
    conflicts = json_get(r.json, "conflicts");
    for (size_t i = 0; i < json_arr_len(conflicts); i++)
        warn_conflict(json_arr_get(conflicts, i));
    return 0;
}

typedef struct HostRows {
    Table *t;
    int r;
} HostRows;

static int map_host_row(const char *key, Json *value, void *userdata)
{
    HostRows *h = userdata;
    _cleanup_free_ char *guests = strings_text(json_get(value, "guests"), ", ");
    const char *cells[] = { key, str(value, "state"), guests && *guests ? guests : "-" };

    if (!guests || table_add(h->t, cells, 1, out_state_colour(str(value, "state"))) < 0)
        h->r = -ENOMEM;
    return 0;
}

static int cmd_map(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 };
    _cleanup_(table_freep) Table *t = NULL;
    static const char *const head[] = { "HOST", "STATE", "GUESTS" };
    HostRows h = { 0 };
    Json *conflicts;
    int ret;

    ret = request_json(c, "GET", "/service/map", NULL, false, &r);
    if (ret)
        return ret;
    if (a->json) {
        print_body(&r);
        return 0;
    }
    h.t = t = table_new(ELEMENTSOF(head), head);
    if (!t)
        return oom();
    if (json_is_object(json_get(r.json, "hosts")))
        (void)json_object_each(json_get(r.json, "hosts"), map_host_row, &h);
    if (h.r < 0)
        return oom();
    table_print(t, stdout);
    conflicts = json_get(r.json, "conflicts");
    for (size_t i = 0; i < json_arr_len(conflicts); i++) {
        Json *e = json_arr_get(conflicts, i);
        _cleanup_free_ char *hosts = strings_text(json_get(e, "hosts"), ", ");

        if (str(e, "name") && str(e, "uuid"))
            printf("conflict: %s (UUID %s) is active on %s\n", str(e, "name"), str(e, "uuid"),
                   hosts ? hosts : "?");
        else if (str(e, "name"))
            printf("conflict: the name %s is active on %s\n", str(e, "name"), hosts ? hosts : "?");
        else
            printf("conflict: the UUID %s is active on %s\n", str(e, "uuid") ? str(e, "uuid") : "?",
                   hosts ? hosts : "?");
    }
    return 0;
}

/* ---- hosts ---- */

static int cmd_hosts(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 };
    _cleanup_(table_freep) Table *t = NULL;
    static const char *const head[] = { "NAME",   "STATE", "GUESTS",  "CPUS",
                                        "MEMORY", "FREE",  "LIBVIRT", "URI" };
    int ret;

    ret = request_json(c, "GET", "/service/hosts", NULL, true, &r);
    if (ret)
        return ret;
    if (a->json) {
        print_body(&r);
        return 0;
    }
    t = table_new(ELEMENTSOF(head), head);
    if (!t)
        return oom();
    for (size_t i = 0; i < json_arr_len(r.json); i++) {
        Json *e = json_arr_get(r.json, i);
        _cleanup_free_ char *n = strdup_printf("%zu", json_arr_len(json_get(e, "guests")));
        _cleanup_free_ char *cpus = out_scalar(json_get(e, "cpus"));
        _cleanup_free_ char *mem = NULL, *fre = NULL;
        long long kib;

        mem = json_as_int(json_get(e, "memory_kib"), &kib) == 0 ? out_kib(kib) : strdup("-");
        fre = json_as_int(json_get(e, "free_memory_kib"), &kib) == 0 ? out_kib(kib) : strdup("-");
        const char *cells[] = {
            str(e, "name"), str(e, "state"), n, cpus, mem, fre, str(e, "libvirt_version"),
            str(e, "uri")
        };
        if (!n || !cpus || !mem || !fre ||
            table_add(t, cells, 1, out_state_colour(str(e, "state"))) < 0)
            return oom();
    }
    table_print(t, stdout);
    return 0;
}

/* ---- meta ---- */

static void print_meta(const Json *m)
{
    _cleanup_free_ char *tags = tags_text(json_get(m, "tags"));

    out_kv("owner", str(m, "owner"));
    out_kv("description", str(m, "description"));
    out_kv("tags", tags && *tags ? tags : "-");
}

/* KEY=VALUE sets, KEY- deletes.  owner and description are the fields;
 * every other KEY is a tag, and tag:KEY is always one (a tag named owner). */
static int meta_body(const Args *a, char **ret)
{
    _cleanup_json_ Json *o = json_obj();
    Json *tags = NULL;

    if (!o)
        return -ENOMEM;
    for (size_t i = 1; i < a->n_pos; i++) {
        _cleanup_free_ char *arg = strdup(a->pos[i]);
        char *eq, *key;
        bool del = false, tag;

        if (!arg)
            return -ENOMEM;
        eq = strchr(arg, '=');
        if (eq)
            *eq = '\0';
        else if (endswith(arg, "-") && strlen(arg) > 1) {
            arg[strlen(arg) - 1] = '\0';
            del = true;
        } else
            return usage_error("'%s': write KEY=VALUE to set, KEY- to delete", a->pos[i]);
        key = arg;
        tag = !streq(key, "owner") && !streq(key, "description");
        if (startswith(key, "tag:")) {
            key += 4;
            tag = true;
        }
        if (!*key)
            return usage_error("'%s': the key is empty", a->pos[i]);
        if (tag) {
            if (!tags) {
                tags = json_obj();
                if (!tags)
                    return -ENOMEM;
                json_set(o, "tags", tags);
            }
            if (del)
                json_set_null(tags, key);
            else
                json_set_str(tags, key, eq + 1);
        } else if (del)
            json_set_null(o, key);
        else
            json_set_str(o, key, eq + 1);
    }
    *ret = json_dump(o, NULL);
    return *ret ? 0 : -ENOMEM;
}

static int cmd_meta(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 };
    _cleanup_free_ char *path = machine_path(a->pos[0], "metadata", a, NULL);
    _cleanup_free_ char *body = NULL;
    int ret;

    if (!path)
        return oom();
    if (a->n_pos > 1) {
        ret = meta_body(a, &body);
        if (ret == -ENOMEM)
            return oom();
        if (ret)
            return ret;
    }
    ret = request_json(c, body ? "PATCH" : "GET", path, body, false, &r);
    if (ret)
        return ret;
    if (a->json) {
        print_body(&r);
        return 0;
    }
    print_meta(r.json);
    return 0;
}

/* ---- addresses ---- */

static int cmd_addresses(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 };
    _cleanup_(table_freep) Table *t = NULL;
    _cleanup_free_ char *path = machine_path(a->pos[0], "addresses", a, NULL);
    static const char *const head[] = { "INTERFACE", "MAC", "ADDRESS", "SOURCE" };
    int ret;

    ret = fetch(c, a, "GET", path, NULL, true, &r);
    if (ret || a->json)
        return ret;
    t = table_new(ELEMENTSOF(head), head);
    if (!t)
        return oom();
    for (size_t i = 0; i < json_arr_len(r.json); i++) {
        Json *e = json_arr_get(r.json, i), *addrs = json_get(e, "addresses");
        size_t n = json_arr_len(addrs);

        for (size_t k = 0; k < (n ? n : 1); k++) {
            Json *ad = json_arr_get(addrs, k);
            _cleanup_free_ char *prefix = ad ? out_scalar(json_get(ad, "prefix")) : NULL;
            _cleanup_free_ char *text =
                ad ? strdup_printf("%s/%s", str(ad, "address") ? str(ad, "address") : "?",
                                   prefix ? prefix : "?")
                   : strdup("-");
            const char *cells[] = { str(e, "interface"), str(e, "mac"), text, str(e, "source") };

            if (!text || table_add(t, cells, 0, NULL) < 0)
                return oom();
        }
    }
    table_print(t, stdout);
    return 0;
}

/* ---- wait ---- */

static int cmd_wait(const Client *c, const Args *a)
{
    _cleanup_free_ char *path = machine_path(a->pos[0], "state_controller/status", a, NULL);
    const char *want = state_norm(a->pos[1], true);
    double timeout = a->timeout >= 0 ? a->timeout : 60;
    uint64_t deadline = now_usec() + (uint64_t)(timeout * 1e6);
    _cleanup_free_ char *last = NULL;

    if (!want)
        return usage_error("unknown state '%s': one of running, idle, paused, in-shutdown, "
                           "shut-off, crashed, pmsuspended, no-state (on or off where "
                           "the server uses IPMI words)",
                           a->pos[1]);
    if (!path)
        return oom();
    for (;;) {
        _cleanup_reply_ Reply r = { 0 };
        const char *got;
        uint64_t now;
        int ret = request_json(c, "GET", path, NULL, false, &r);

        if (ret)
            return ret;
        got = str(r.json, "state");
        if (got && streq(got, want)) {
            if (a->json)
                print_body(&r);
            else
                printf("%s: %s%s%s\n", a->pos[0], out_state_colour(got), got,
                       *out_state_colour(got) ? out_reset() : "");
            return 0;
        }
        free(last);
        last = strdup(got ? got : "?");
        now = now_usec();
        if (now >= deadline) {
            if (a->json)
                print_body(&r);
            fprintf(stderr, "virtmc: %s is still '%s' after %g s, not '%s'\n", a->pos[0],
                    last ? last : "?", timeout, want);
            return VMC_EXIT_REFUSED;
        }
        {
            uint64_t us = deadline - now < 500000 ? deadline - now : 500000;
            struct timespec ts = { .tv_sec = (time_t)(us / 1000000),
                                   .tv_nsec = (long)(us % 1000000) * 1000 };
            (void)nanosleep(&ts, NULL);
        }
    }
}

static const char *either(const char *s, const char *otherwise)
{
    return s ? s : otherwise;
}

/* ---- pools: checkout, return, lease, pools (docs/API.md section 12) ---- */

/* A positive whole number (COUNT); 0 when it is none. */
static unsigned long positive(const char *s)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || s[0] == '+')
        return 0;
    return v;
}

static int cmd_checkout(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 };
    _cleanup_free_ char *e = vmc_escape(a->pos[0]);
    _cleanup_free_ char *path = e ? strdup_printf("/service/pools/%s/checkout", e) : NULL;
    _cleanup_free_ char *body = NULL;
    _cleanup_json_ Json *o = json_obj();
    unsigned long count = 1;
    Json *machines;
    int ret;

    if (a->n_pos > 1) {
        count = positive(a->pos[1]);
        if (count < 1 || count > 100)
            return usage_error("COUNT is a whole number from 1 to 100, not '%s'", a->pos[1]);
    }
    if (!path || !o)
        return oom();
    json_set_int(o, "count", (long long)count);
    if (a->lifetime)
        json_set_int(o, "lifetime", a->lifetime);
    body = json_dump(o, NULL);
    if (!body)
        return oom();
    ret = request_json(c, "POST", path, body, false, &r);
    if (ret)
        return ret;
    if (a->json) {
        print_body(&r);
        return 0;
    }
    machines = json_get(r.json, "machines");
    for (size_t i = 0; i < json_arr_len(machines); i++)
        printf("%s\n", either(str(json_arr_get(machines, i), "name"), "?"));
    return 0;
}

static int cmd_return(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 };
    _cleanup_free_ char *path = machine_path(a->pos[0], "lease", a, NULL);
    int ret;

    if (!path)
        return oom();
    ret = request_json(c, "DELETE", path, NULL, false, &r);
    if (ret)
        return ret;
    if (a->json) {
        print_body(&r);
        return 0;
    }
    printf("%s: returned, now %s\n", either(str(r.json, "name"), a->pos[0]),
           either(str(r.json, "state"), "?"));
    return 0;
}

/* "2026-12-02T08:32:25Z" (what virtmcd writes) as Unix time; -1 when it is not. */
static time_t parse_utc(const char *s)
{
    struct tm tm = { 0 };
    const char *end;

    if (!s)
        return -1;
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || !streq(end, "Z"))
        return -1;
    return timegm(&tm);
}

static void print_lease(const Json *l)
{
    _cleanup_free_ char *lifetime = out_scalar(json_get(l, "lifetime"));
    _cleanup_free_ char *hours = lifetime ? strdup_printf("%s h", lifetime) : NULL;

    out_kv("pool", str(l, "pool"));
    out_kv("owner", str(l, "owner"));
    kv_state("state", str(l, "state"));
    out_kv("checkout", str(l, "checkout"));
    out_kv("lifetime", hours ? hours : lifetime);
    out_kv("expires", str(l, "expires"));
}

/* The lifetime (hours from checkout, what PUT takes) that ends the lease
 * extend hours after its current end, or after now when that is past. */
static int extended_lifetime(const Json *l, unsigned extend, const char *name, long long *ret)
{
    time_t checkout = parse_utc(str(l, "checkout")), expires = parse_utc(str(l, "expires"));
    time_t now = time(NULL), base;
    long long hours;

    if (checkout < 0 || expires < 0) {
        fprintf(stderr, "virtmc: %s: the lease has no checkout or expiry time the client can "
                        "read\n", name);
        return VMC_EXIT_REFUSED;
    }
    base = expires > now ? expires : now;
    /* Whole hours from checkout, rounded up: the end is never earlier than asked. */
    hours = ((long long)(base - checkout) + 3599) / 3600 + extend;
    *ret = hours < 1 ? 1 : hours;
    return 0;
}

static int cmd_lease(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 }, put = { 0 };
    _cleanup_free_ char *path = machine_path(a->pos[0], "lease", a, NULL);
    _cleanup_free_ char *body = NULL;
    long long want, got;
    int ret;

    if (!path)
        return oom();
    ret = request_json(c, "GET", path, NULL, false, &r);
    if (ret)
        return ret;
    if (!a->extend) {
        if (a->json)
            print_body(&r);
        else
            print_lease(r.json);
        return 0;
    }
    ret = extended_lifetime(r.json, a->extend, a->pos[0], &want);
    if (ret)
        return ret;
    body = strdup_printf("{\"lifetime\": %lld}", want);
    if (!body)
        return oom();
    ret = request_json(c, "PUT", path, body, false, &put);
    if (ret)
        return ret;
    if (a->json)
        print_body(&put);
    else
        print_lease(put.json);
    /* The server caps the lifetime at the pool's max_lifetime: say so. */
    if (json_as_int(json_get(put.json, "lifetime"), &got) == 0 && got < want)
        fprintf(stderr, "virtmc: warning: %s: the pool allows %lld hours from checkout, not %lld; "
                        "the lease ends at %s\n",
                a->pos[0], got, want, either(str(put.json, "expires"), "?"));
    return 0;
}

static int pools_one(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 };
    _cleanup_(table_freep) Table *t = NULL;
    _cleanup_free_ char *e = vmc_escape(a->pos[0]);
    _cleanup_free_ char *path = e ? strdup_printf("/service/pools/%s", e) : NULL;
    static const char *const head[] = { "NAME", "STATE", "MACHINE", "SINCE", "OWNER", "EXPIRES" };
    static const char *const counts[] = { "size", "ready", "pending", "running", "completed" };
    Json *members;
    int ret;

    ret = fetch(c, a, "GET", path, NULL, false, &r);
    if (ret || a->json)
        return ret;
    members = json_get(r.json, "members");
    if (a->quiet) {
        for (size_t i = 0; i < json_arr_len(members); i++)
            printf("%s\n", either(str(json_arr_get(members, i), "name"), "?"));
        return 0;
    }
    out_kv("name", str(r.json, "name"));
    out_kv("template", str(r.json, "template"));
    out_kv("host", str(r.json, "host"));
    for (size_t i = 0; i < ELEMENTSOF(counts); i++) {
        _cleanup_free_ char *v = out_scalar(json_get(r.json, counts[i]));
        out_kv(counts[i], v);
    }
    if (json_get(r.json, "orphan"))
        out_kv("orphan", yes_no(json_get(r.json, "orphan")));
    if (str(r.json, "error"))
        out_kv("error", str(r.json, "error"));
    t = table_new(ELEMENTSOF(head), head);
    if (!t)
        return oom();
    for (size_t i = 0; i < json_arr_len(members); i++) {
        Json *m = json_arr_get(members, i);
        const char *cells[] = { str(m, "name"),  str(m, "state"), str(m, "machine_state"),
                                str(m, "since"), str(m, "owner"), str(m, "expires") };

        if (table_add(t, cells, 2, out_state_colour(str(m, "machine_state"))) < 0)
            return oom();
    }
    if (table_rows(t) > 1) {
        putchar('\n');
        table_print(t, stdout);
    }
    return 0;
}

static int cmd_pools(const Client *c, const Args *a)
{
    _cleanup_reply_ Reply r = { 0 };
    _cleanup_(table_freep) Table *t = NULL;
    static const char *const head[] = { "NAME",  "TEMPLATE", "HOST",   "SIZE",
                                        "READY", "PENDING",  "RUNNING" };
    int ret;

    if (a->n_pos > 0)
        return pools_one(c, a);
    ret = request_json(c, "GET", "/service/pools", NULL, true, &r);
    if (ret)
        return ret;
    if (a->json) {
        print_body(&r);
        return 0;
    }
    t = table_new(ELEMENTSOF(head), head);
    if (!t)
        return oom();
    for (size_t i = 0; i < json_arr_len(r.json); i++) {
        Json *p = json_arr_get(r.json, i);
        _cleanup_free_ char *size = out_scalar(json_get(p, "size"));
        _cleanup_free_ char *ready = out_scalar(json_get(p, "ready"));
        _cleanup_free_ char *pending = out_scalar(json_get(p, "pending"));
        _cleanup_free_ char *running = out_scalar(json_get(p, "running"));
        bool orphan = false;
        _cleanup_free_ char *name = NULL;

        if (a->quiet) {
            printf("%s\n", either(str(p, "name"), ""));
            continue;
        }
        (void)json_as_bool(json_get(p, "orphan"), &orphan);
        name = strdup_printf("%s%s", either(str(p, "name"), "?"), orphan ? " (orphan)" : "");
        const char *cells[] = { name, str(p, "template"), str(p, "host"), size, ready, pending,
                                running };
        if (!name || !size || !ready || !pending || !running || table_add(t, cells, 0, NULL) < 0)
            return oom();
    }
    if (a->quiet)
        return 0;
    table_print(t, stdout);
    /* A pool that cannot make clones says why, after the table. */
    for (size_t i = 0; i < json_arr_len(r.json); i++) {
        Json *p = json_arr_get(r.json, i);

        if (str(p, "error"))
            printf("error: pool %s: %s\n", either(str(p, "name"), "?"), str(p, "error"));
    }
    return 0;
}

/* One row per command: adding one is a row and its function. */
const Command vmc_commands[] = {
    { "list", "[NAME-GLOB]", "list machines, filtered by state, host, owner, tags and name",
      CO_STATE | CO_HOST | CO_OWNER | CO_TAG | CO_QUIET, 0, 1, cmd_list },
    { "status", "NAME", "one machine: state, size, boot order, metadata, NICs and disks", CO_HOST,
      1, 1, cmd_status },
    { "power", "NAME on|off|soft|cycle|reset|reboot|nmi|force-off",
      "power on, off (hard), soft off (ACPI), cycle, reset (hard), reboot (ACPI), NMI",
      CO_HOST | CO_FORCE, 2, 2, cmd_power },
    { "boot", "NAME [pxe|disk|cdrom|default]",
      "set the first boot device (persistent, or --once), or show the boot order",
      CO_HOST | CO_ONCE | CO_RESTART, 1, 2, cmd_boot },
    { "backups", "NAME", "list the saved definitions of a machine, newest first", CO_HOST, 1, 1,
      cmd_backups },
    { "restore", "NAME ID", "redefine a machine from one of its backups (admin)", CO_HOST, 2, 2,
      cmd_restore },
    { "query", "NAME", "where a guest runs, or which guests a host holds (virtmapper's words)", 0,
      1, 1, cmd_query },
    { "map", "", "every host with its guests, and conflicts", 0, 0, 0, cmd_map },
    { "hosts", "", "the libvirt hosts: up or down, guests, CPUs, memory, versions", 0, 0, 0,
      cmd_hosts },
    { "meta", "NAME [KEY=VALUE|KEY-]...",
      "show or change owner, description and tags (other keys are tags)", CO_HOST, 1, SIZE_MAX,
      cmd_meta },
    { "addresses", "NAME", "the IP addresses of a running machine", CO_HOST, 1, 1, cmd_addresses },
    { "wait", "NAME STATE", "wait until a machine is in STATE (exit 1 on timeout)",
      CO_HOST | CO_TIMEOUT, 2, 2, cmd_wait },
    { "pools", "[POOL]", "the pools of ready machines and their counts, or one pool's members",
      CO_QUIET, 0, 1, cmd_pools },
    { "checkout", "POOL [COUNT]", "take COUNT (1) ready machines of a pool; prints their names",
      CO_LIFETIME, 1, 2, cmd_checkout },
    { "lease", "NAME", "a checked-out machine's lease: owner and expiry; --extend lengthens it",
      CO_HOST | CO_EXTEND, 1, 1, cmd_lease },
    { "return", "NAME", "give a checked-out machine back: it is destroyed and replaced", CO_HOST,
      1, 1, cmd_return },
};
const size_t vmc_n_commands = ELEMENTSOF(vmc_commands);

const Command *vmc_command_find(const char *name)
{
    for (size_t i = 0; i < vmc_n_commands; i++)
        if (streq(vmc_commands[i].name, name))
            return &vmc_commands[i];
    return NULL;
}
