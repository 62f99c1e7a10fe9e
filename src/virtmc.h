/* virtmc.h: the command-line client's modules, and what they share.
 *
 * virtmc.c (argv, settings, the command dispatcher), virtmc-conf.c (the
 * INI file, the only inih user here), virtmc-http.c (the only libcurl user:
 * one request, its answer and its exit code), virtmc-out.c (aligned
 * columns, colour), virtmc-cmd.c (the command table and the commands).
 *
 * The client only speaks HTTP to a virtmcd: it never includes libvirt,
 * libmicrohttpd or libxml2, and links nothing of the daemon but json.c and
 * util.c.  Single-threaded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "json.h"

/* Exit codes a script can trust (virtmc(1), EXIT STATUS). */
enum {
    VMC_EXIT_OK = 0,
    VMC_EXIT_REFUSED = 1,     /* the server answered with an error; wait timed out */
    VMC_EXIT_USAGE = 2,       /* bad command line or configuration file */
    VMC_EXIT_UNREACHABLE = 3, /* no connection, TLS failure, 401 or 429 */
};

typedef enum VmcAuth {
    VMC_AUTH_ANY, /* whichever of Digest and Basic the server offers (Digest first) */
    VMC_AUTH_DIGEST,
    VMC_AUTH_BASIC,
} VmcAuth;

/* Where and as whom: from options, else the environment, else the file. */
typedef struct Client {
    char *url;       /* scheme://host[:port], no trailing slash */
    char *unix_path; /* set for unix:/path: the socket, and url is http://localhost */
    char *user;
    char *password;
    char *cacert;
    bool insecure;
    VmcAuth auth;
} Client;

/* One answer: the status and the body, parsed when it is JSON. */
typedef struct Reply {
    long status;
    char *body;
    size_t len;
    Json *json;
} Reply;

void reply_clear(Reply *r);

/* ---- virtmc-http.c ---- */
int vmc_http_init(void);
void vmc_http_done(void);
const char *vmc_http_version(void);
/* A path segment percent-encoded; NULL on out of memory.  Caller frees. */
char *vmc_escape(const char *segment);
/* METHOD url+path, with body (JSON) unless NULL.  A 2xx answer is 0 with
 * *ret filled.  Anything else is reported on stderr once, and the exit code
 * is returned: 1 for an error answer (its "error" printed), 3 when the
 * server cannot be reached or refuses the credentials. */
int vmc_request(const Client *c, const char *method, const char *path, const char *body,
                Reply *ret);

/* ---- virtmc-conf.c ---- */
typedef struct VmcFile {
    char *url, *user, *password, *cacert, *auth;
    int insecure; /* -1 unset */
} VmcFile;
void vmc_file_clear(VmcFile *f);
/* Read path into *f.  A missing file is 0 when !must_exist.  Errors are
 * printed ("FILE:LINE: ...") and give -EINVAL; a password in a file that
 * group or others may read is refused (-EPERM), as virtmcd refuses such a
 * users file. */
int vmc_file_load(const char *path, bool must_exist, VmcFile *f);

/* ---- virtmc-out.c ---- */
/* Colour only when stdout is a terminal, NO_COLOR is unset and TERM is not dumb. */
bool out_colour(void);
/* The escape for a machine or host state ("" without colour), and the reset. */
const char *out_state_colour(const char *state);
const char *out_bold(void);
const char *out_reset(void);

/* Aligned columns: a header row and rows of cells, two blanks apart. */
typedef struct Table Table;
Table *table_new(size_t ncols, const char *const *headers);
void table_free(Table *t);
/* Copies the cells; colour (may be NULL) applies to cell colour_col. */
int table_add(Table *t, const char *const *cells, size_t colour_col, const char *colour);
size_t table_rows(const Table *t);
void table_print(const Table *t, FILE *f);
static inline void table_freep(Table **t)
{
    table_free(*t);
}

/* "key:   value" lines with the values aligned at a fixed column. */
void out_kv(const char *key, const char *value);
/* A JSON scalar as text: a string itself, "-" for null or absent, else JSON. */
char *out_scalar(const Json *j);
/* KiB as "512 MiB" or "7.5 GiB". */
char *out_kib(long long kib);

/* ---- virtmc-cmd.c ---- */
typedef struct Args {
    bool json, quiet, once, restart, force;
    const char *state, *host, *owner;
    char **tags;    /* key=value as given */
    double timeout; /* seconds; < 0 unset */
    unsigned lifetime, extend; /* hours; 0 unset */
    char **pos;     /* positional arguments after the command */
    size_t n_pos;
} Args;

/* Options a command may take beyond the common ones. */
enum {
    CO_STATE = 1 << 0,
    CO_HOST = 1 << 1,
    CO_OWNER = 1 << 2,
    CO_TAG = 1 << 3,
    CO_QUIET = 1 << 4,
    CO_ONCE = 1 << 5,
    CO_RESTART = 1 << 6,
    CO_FORCE = 1 << 7,
    CO_TIMEOUT = 1 << 8,
    CO_LIFETIME = 1 << 9,
    CO_EXTEND = 1 << 10,
};

typedef struct Command {
    const char *name;
    const char *synopsis; /* what follows the name */
    const char *summary;
    unsigned opts; /* CO_* */
    size_t min_pos, max_pos;
    int (*run)(const Client *c, const Args *a);
} Command;

extern const Command vmc_commands[];
extern const size_t vmc_n_commands;
const Command *vmc_command_find(const char *name);
