/* virtmc.c: the command-line client's main: global options, where the
 * server and the credentials come from (options, then VIRTMC_* variables,
 * then ~/.config/virtmc/config), help, and the dispatch to a command of
 * virtmc-cmd.c.
 *
 *   virtmc [OPTIONS] COMMAND [COMMAND OPTIONS] [ARGS]
 *
 * Global options are accepted after the command too.  Exit codes are those
 * of virtmc.h; every failure is told on stderr once. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "util.h"
#include "virtmc.h"

enum {
    OPT_CACERT = 0x100,
    OPT_AUTH,
    OPT_CONFIG,
    OPT_STATE,
    OPT_HOST,
    OPT_OWNER,
    OPT_TAG,
    OPT_ONCE,
    OPT_RESTART,
    OPT_FORCE,
    OPT_TIMEOUT,
    OPT_LIFETIME,
    OPT_EXTEND,
};

/* What the command line said; the environment and the file fill the rest. */
typedef struct Settings {
    const char *url, *user, *cacert, *auth, *config;
    char *password; /* a copy: the command line's is overwritten */
    bool insecure;
} Settings;

static void settings_clear(Settings *s)
{
    if (s->password)
        explicit_bzero(s->password, strlen(s->password));
    free(s->password);
}

static const struct option global_options[] = {
    { "server", required_argument, NULL, 's' },
    { "user", required_argument, NULL, 'u' },
    { "password", required_argument, NULL, 'p' },
    { "cacert", required_argument, NULL, OPT_CACERT },
    { "insecure", no_argument, NULL, 'k' },
    { "auth", required_argument, NULL, OPT_AUTH },
    { "config", required_argument, NULL, OPT_CONFIG },
    { "json", no_argument, NULL, 'j' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
};

/* The options a command may take, with their CO_* bit (0: every command;
 * those are in global_options too, for before the command). */
static const struct {
    unsigned bit;
    struct option opt;
    const char *arg, *help;
} command_options[] = {
    { 0, { "json", no_argument, NULL, 'j' }, NULL, "print the server's JSON answer as it came" },
    { CO_STATE,
      { "state", required_argument, NULL, OPT_STATE },
      "STATE",
      "only machines in STATE (running, shut-off, paused, ...)" },
    { CO_HOST,
      { "host", required_argument, NULL, OPT_HOST },
      "HOST",
      "only that libvirt host (a name defined on several hosts needs it)" },
    { CO_OWNER,
      { "owner", required_argument, NULL, OPT_OWNER },
      "USER",
      "only machines that USER owns" },
    { CO_TAG,
      { "tag", required_argument, NULL, OPT_TAG },
      "KEY[=VALUE]",
      "only machines with that tag (repeatable: all must match)" },
    { CO_QUIET, { "quiet", no_argument, NULL, 'q' }, NULL, "names only, one a line" },
    { CO_ONCE,
      { "once", no_argument, NULL, OPT_ONCE },
      NULL,
      "for the next start only, then the previous order comes back" },
    { CO_RESTART,
      { "restart", no_argument, NULL, OPT_RESTART },
      NULL,
      "power cycle a running machine now so the order applies at once" },
    { CO_FORCE, { "force", no_argument, NULL, OPT_FORCE }, NULL, "skip the start guards (admin)" },
    { CO_TIMEOUT,
      { "timeout", required_argument, NULL, OPT_TIMEOUT },
      "SECONDS",
      "give up after SECONDS (default 60)" },
    { CO_LIFETIME,
      { "lifetime", required_argument, NULL, OPT_LIFETIME },
      "HOURS",
      "the lease lasts HOURS (default the pool's lifetime)" },
    { CO_EXTEND,
      { "extend", required_argument, NULL, OPT_EXTEND },
      "HOURS",
      "lengthen the lease by HOURS past its current end" },
};

/* --lifetime and --extend: whole hours, 1..8760 (a year, the server's limit). */
static int parse_hours(const char *opt, const char *arg, unsigned *ret)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-' || arg[0] == '+' || v < 1 || v > 8760) {
        fprintf(stderr, "virtmc: --%s wants whole hours (1 to 8760), not '%s'\n", opt, arg);
        return VMC_EXIT_USAGE;
    }
    *ret = (unsigned)v;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: virtmc [OPTIONS] COMMAND [ARGS]\n"
               "A command-line client for virtmcd, the management controller for libvirt "
               "machines.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < vmc_n_commands; i++)
        fprintf(f, "  %-10s %s\n", vmc_commands[i].name, vmc_commands[i].summary);
    fprintf(f, "\nOptions (before or after the command):\n"
               "  -s, --server URL     virtmcd's URL (VIRTMC_URL; default http://localhost:9001;\n"
               "                       unix:/path for a Unix socket)\n"
               "  -u, --user USER      user name (VIRTMC_USER)\n"
               "  -p, --password PW    password (VIRTMC_PASSWORD; on the command line others\n"
               "                       can see it)\n"
               "      --cacert FILE    CA certificate(s) to check an https server with\n"
               "  -k, --insecure       do not check the https server's certificate\n"
               "      --auth METHOD    any (default), digest or basic\n"
               "      --config FILE    instead of ~/.config/virtmc/config (VIRTMC_CONFIG)\n"
               "  -j, --json           print the server's JSON answer\n"
               "  -h, --help           this help; 'virtmc COMMAND --help' for a command's\n"
               "  -V, --version        print the version\n\n"
               "Exit status: 0 success, 1 the server refused (or wait timed out), 2 usage,\n"
               "3 the server cannot be reached or the credentials are refused.\n"
               "See virtmc(1).\n");
}

static void command_usage(const Command *cmd, FILE *f)
{
    fprintf(f, "Usage: virtmc %s [OPTIONS]%s%s\n%s.\n\nOptions:\n", cmd->name,
            *cmd->synopsis ? " " : "", cmd->synopsis, cmd->summary);
    for (size_t i = 0; i < ELEMENTSOF(command_options); i++) {
        char left[40];

        if (command_options[i].bit && !(cmd->opts & command_options[i].bit))
            continue;
        if (command_options[i].opt.val < 0x100)
            snprintf(left, sizeof(left), "-%c, --%s", command_options[i].opt.val,
                     command_options[i].opt.name);
        else
            snprintf(left, sizeof(left), "    --%s%s%s", command_options[i].opt.name,
                     command_options[i].arg ? " " : "",
                     command_options[i].arg ? command_options[i].arg : "");
        fprintf(f, "  %-24s %s\n", left, command_options[i].help);
    }
    fprintf(f, "  %-24s %s\n", "-h, --help", "this help");
    fprintf(f, "And the global options of 'virtmc --help'.\n");
}

/* A global option: 1 handled, 0 not one, or an exit code + 10 (--help, --version). */
static int global_option(int c, char *arg, Settings *s)
{
    switch (c) {
    case 's':
        s->url = arg;
        return 1;
    case 'u':
        s->user = arg;
        return 1;
    case 'p':
        settings_clear(s);
        s->password = strdup(arg);
        if (!s->password)
            return 10 + VMC_EXIT_REFUSED;
        fprintf(stderr, "virtmc: warning: a password on the command line can be seen by other "
                        "users of this machine; use VIRTMC_PASSWORD or ~/.config/virtmc/config\n");
        /* Out of /proc/PID/cmdline from now on, at least. */
        memset(arg, 'x', strlen(arg));
        return 1;
    case OPT_CACERT:
        s->cacert = arg;
        return 1;
    case 'k':
        s->insecure = true;
        return 1;
    case OPT_AUTH:
        s->auth = arg;
        return 1;
    case OPT_CONFIG:
        s->config = arg;
        return 1;
    case 'V':
        printf("virtmc %s (libcurl %s)\n", PACKAGE_VERSION, vmc_http_version());
        return 10 + VMC_EXIT_OK;
    default:
        return 0;
    }
}

static char *prompt_password(const char *user)
{
    _cleanup_close_ int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    struct termios old, quiet;
    char buf[512];
    size_t n = 0;
    char ch;
    _cleanup_free_ char *prompt = NULL;

    if (fd < 0 || !isatty(STDIN_FILENO) || tcgetattr(fd, &old) < 0)
        return NULL;
    prompt = strdup_printf("Password for %s: ", user);
    if (!prompt || write_full(fd, prompt, strlen(prompt)) < 0)
        return NULL;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    (void)tcsetattr(fd, TCSAFLUSH, &quiet);
    while (n + 1 < sizeof(buf) && read(fd, &ch, 1) == 1 && ch != '\n')
        buf[n++] = ch;
    buf[n] = '\0';
    (void)tcsetattr(fd, TCSAFLUSH, &old);
    (void)write_full(fd, "\n", 1);
    return strdup(buf);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

/* Options, then the environment, then the file. */
static int resolve(const Settings *s, Client *c)
{
    _cleanup_(vmc_file_clear) VmcFile f = { .insecure = -1 };
    _cleanup_free_ char *def = NULL;
    const char *config = s->config ? s->config : env("VIRTMC_CONFIG");
    const char *url, *auth, *pw;
    bool file_user;
    size_t n;

    if (!config) {
        const char *xdg = env("XDG_CONFIG_HOME"), *home = env("HOME");

        if (xdg)
            def = strdup_printf("%s/virtmc/config", xdg);
        else if (home)
            def = strdup_printf("%s/.config/virtmc/config", home);
    }
    if (config || def) {
        if (vmc_file_load(config ? config : def, config != NULL, &f) < 0)
            return VMC_EXIT_USAGE;
    }

    url = s->url              ? s->url
          : env("VIRTMC_URL") ? env("VIRTMC_URL")
          : f.url             ? f.url
                              : "http://localhost:9001";
    if (startswith(url, "unix:")) {
        if (url[5] != '/') {
            fprintf(stderr, "virtmc: '%s': a Unix socket is unix:/absolute/path\n", url);
            return VMC_EXIT_USAGE;
        }
        c->unix_path = strdup(url + 5);
        c->url = strdup("http://localhost");
    } else if (strstr(url, "://")) {
        if (!startswith(url, "http://") && !startswith(url, "https://")) {
            fprintf(stderr, "virtmc: '%s': the server is an http:// or https:// URL\n", url);
            return VMC_EXIT_USAGE;
        }
        c->url = strdup(url);
    } else
        c->url = strdup_printf("http://%s", url);
    if (!c->url || (startswith(url, "unix:") && !c->unix_path))
        return 10;
    n = strlen(c->url);
    while (n > 0 && c->url[n - 1] == '/')
        c->url[--n] = '\0';

    c->user = strdup_null(s->user ? s->user : env("VIRTMC_USER") ? env("VIRTMC_USER") : f.user);
    /* The file's password is for the file's user only. */
    file_user = f.user && c->user && streq(f.user, c->user);
    pw = s->password              ? s->password
         : env("VIRTMC_PASSWORD") ? env("VIRTMC_PASSWORD")
         : file_user              ? f.password
                                  : NULL;
    if (pw && !c->user) {
        fprintf(stderr, "virtmc: a password without a user: give --user or VIRTMC_USER\n");
        return VMC_EXIT_USAGE;
    }
    if (c->user && !pw)
        c->password = prompt_password(c->user);
    else
        c->password = strdup_null(pw);
    c->cacert = strdup_null(s->cacert              ? s->cacert
                            : env("VIRTMC_CACERT") ? env("VIRTMC_CACERT")
                                                   : f.cacert);
    c->insecure = s->insecure || f.insecure == 1;
    auth = s->auth ? s->auth : f.auth ? f.auth : "any";
    if (streq(auth, "any"))
        c->auth = VMC_AUTH_ANY;
    else if (streq(auth, "digest"))
        c->auth = VMC_AUTH_DIGEST;
    else if (streq(auth, "basic")) {
        c->auth = VMC_AUTH_BASIC;
        /* Basic is sent before any challenge: over plain HTTP, readable. */
        if (c->user && startswith(c->url, "http://") && !c->unix_path)
            fprintf(stderr, "virtmc: warning: --auth basic over plain HTTP sends the password "
                            "unencrypted; use https://\n");
    } else {
        fprintf(stderr, "virtmc: --auth is any, digest or basic, not '%s'\n", auth);
        return VMC_EXIT_USAGE;
    }
    return 0;
}

static void client_clear(Client *c)
{
    free(c->url);
    free(c->unix_path);
    free(c->user);
    if (c->password)
        explicit_bzero(c->password, strlen(c->password));
    free(c->password);
    free(c->cacert);
}

static int run(int argc, char **argv)
{
    _cleanup_(client_clear) Client client = { 0 };
    _cleanup_free_ struct option *longopts = NULL;
    _cleanup_(settings_clear) Settings s = { 0 };
    Args a = { .timeout = -1 };
    const Command *cmd;
    size_t n_long = 0;
    int c, r, cmd_argc;
    char **cmd_argv;

    /* Pass 1: global options up to the command. */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:s:u:p:khVj", global_options, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return VMC_EXIT_OK;
        }
        if (c == 'j') {
            a.json = true;
            continue;
        }
        if (c == '?' || c == ':') {
            fprintf(stderr, "virtmc: %s option '%s'; see virtmc --help\n",
                    c == ':' ? "missing argument of" : "unknown", argv[optind - 1]);
            return VMC_EXIT_USAGE;
        }
        r = global_option(c, optarg, &s);
        if (r >= 10)
            return r - 10;
    }
    if (optind >= argc) {
        usage(stderr);
        return VMC_EXIT_USAGE;
    }
    cmd = vmc_command_find(argv[optind]);
    if (!cmd) {
        fprintf(stderr, "virtmc: unknown command '%s'; see virtmc --help\n", argv[optind]);
        return VMC_EXIT_USAGE;
    }

    /* Pass 2: the command's options, the global ones too, anywhere. */
    longopts =
        calloc(ELEMENTSOF(global_options) + ELEMENTSOF(command_options) + 1, sizeof(*longopts));
    if (!longopts)
        return VMC_EXIT_REFUSED;
    for (size_t i = 0; i < ELEMENTSOF(global_options); i++)
        longopts[n_long++] = global_options[i];
    for (size_t i = 0; i < ELEMENTSOF(command_options); i++)
        if (command_options[i].bit && (cmd->opts & command_options[i].bit))
            longopts[n_long++] = command_options[i].opt;
    cmd_argc = argc - optind;
    cmd_argv = argv + optind;
    optind = 0; /* glibc: start afresh */
    while ((c = getopt_long(cmd_argc, cmd_argv, ":s:u:p:khVjq", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            command_usage(cmd, stdout);
            return VMC_EXIT_OK;
        case 'j':
            a.json = true;
            break;
        case 'q':
            if (!(cmd->opts & CO_QUIET))
                goto unknown;
            a.quiet = true;
            break;
        case OPT_STATE:
            a.state = optarg;
            break;
        case OPT_HOST:
            a.host = optarg;
            break;
        case OPT_OWNER:
            a.owner = optarg;
            break;
        case OPT_TAG:
            if (strv_push(&a.tags, optarg) < 0)
                return VMC_EXIT_REFUSED;
            break;
        case OPT_ONCE:
            a.once = true;
            break;
        case OPT_RESTART:
            a.restart = true;
            break;
        case OPT_FORCE:
            a.force = true;
            break;
        case OPT_TIMEOUT: {
            char *end;

            errno = 0;
            a.timeout = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(a.timeout >= 0 && a.timeout <= 86400 * 7)) {
                fprintf(stderr, "virtmc: --timeout wants seconds (0 to 604800), not '%s'\n",
                        optarg);
                strv_free(a.tags);
                return VMC_EXIT_USAGE;
            }
            break;
        }
        case OPT_LIFETIME:
        case OPT_EXTEND:
            if (parse_hours(c == OPT_LIFETIME ? "lifetime" : "extend", optarg,
                            c == OPT_LIFETIME ? &a.lifetime : &a.extend)) {
                strv_free(a.tags);
                return VMC_EXIT_USAGE;
            }
            break;
        case ':':
        case '?':
        unknown:
            fprintf(stderr, "virtmc %s: %s option '%s'; see virtmc %s --help\n", cmd->name,
                    c == ':' ? "missing argument of" : "unknown", cmd_argv[optind - 1], cmd->name);
            strv_free(a.tags);
            return VMC_EXIT_USAGE;
        default:
            r = global_option(c, optarg, &s);
            if (r >= 10) {
                strv_free(a.tags);
                return r - 10;
            }
        }
    }
    a.pos = cmd_argv + optind;
    a.n_pos = (size_t)(cmd_argc - optind);
    if (a.n_pos < cmd->min_pos || a.n_pos > cmd->max_pos) {
        fprintf(stderr, "virtmc %s: %s arguments\nUsage: virtmc %s%s%s\n", cmd->name,
                a.n_pos < cmd->min_pos ? "missing" : "too many", cmd->name,
                *cmd->synopsis ? " " : "", cmd->synopsis);
        strv_free(a.tags);
        return VMC_EXIT_USAGE;
    }
    r = resolve(&s, &client);
    if (r == 0)
        r = cmd->run(&client, &a);
    else if (r == 10) {
        fprintf(stderr, "virtmc: out of memory\n");
        r = VMC_EXIT_REFUSED;
    }
    strv_free(a.tags);
    return r;
}

int main(int argc, char **argv)
{
    int r;

    if (vmc_http_init() < 0) {
        fprintf(stderr, "virtmc: cannot initialise libcurl\n");
        return VMC_EXIT_UNREACHABLE;
    }
    r = run(argc, argv);
    vmc_http_done();
    fflush(stdout);
    if (ferror(stdout) && r == VMC_EXIT_OK) {
        fprintf(stderr, "virtmc: cannot write the output\n");
        r = VMC_EXIT_REFUSED;
    }
    return r;
}
