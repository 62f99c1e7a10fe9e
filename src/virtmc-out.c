/* virtmc-out.c: what a person reads: aligned columns, "key: value" lines,
 * sizes, and colour only where a terminal shows it.
 *
 * Writes to stdout only (table_print to the FILE it is given); never talks
 * to the server. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "virtmc.h"

struct Table {
    size_t ncols;
    char **cells; /* row-major, header row first */
    const char **colours;
    size_t colour_col;
    size_t nrows; /* header included */
    size_t cap;
};

bool out_colour(void)
{
    static int cached = -1;
    const char *term = getenv("TERM");

    if (cached < 0)
        /* https://no-color.org: present and not empty turns colour off. */
        cached = isatty(STDOUT_FILENO) && !(getenv("NO_COLOR") && *getenv("NO_COLOR")) &&
                 !(term && streq(term, "dumb"));
    return cached;
}

const char *out_state_colour(const char *state)
{
    if (!out_colour() || !state)
        return "";
    if (streq(state, "running") || streq(state, "up") || streq(state, "on"))
        return "\033[32m";
    if (streq(state, "crashed") || streq(state, "down"))
        return "\033[31m";
    if (streq(state, "paused") || streq(state, "pmsuspended") || streq(state, "in shutdown") ||
        streq(state, "idle"))
        return "\033[33m";
    return "\033[2m"; /* shut off, no state: dim */
}

const char *out_bold(void)
{
    return out_colour() ? "\033[1m" : "";
}

const char *out_reset(void)
{
    return out_colour() ? "\033[0m" : "";
}

/* Columns on a terminal: UTF-8 continuation bytes take none. */
static size_t width(const char *s)
{
    size_t w = 0;

    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

Table *table_new(size_t ncols, const char *const *headers)
{
    Table *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->ncols = ncols;
    if (table_add(t, headers, 0, NULL) < 0) {
        table_free(t);
        return NULL;
    }
    return t;
}

void table_free(Table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t->colours);
    free(t);
}

int table_add(Table *t, const char *const *cells, size_t colour_col, const char *colour)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));

        if (!c)
            return -ENOMEM;
        t->cells = c;
        const char **k = realloc(t->colours, cap * sizeof(*k));
        if (!k)
            return -ENOMEM;
        t->colours = k;
        t->cap = cap;
    }
    for (size_t i = 0; i < t->ncols; i++) {
        t->cells[t->nrows * t->ncols + i] = strdup(cells[i] ? cells[i] : "-");
        if (!t->cells[t->nrows * t->ncols + i]) {
            for (size_t j = 0; j < i; j++)
                free(t->cells[t->nrows * t->ncols + j]);
            return -ENOMEM;
        }
    }
    t->colours[t->nrows] = colour;
    if (colour)
        t->colour_col = colour_col;
    t->nrows++;
    return 0;
}

size_t table_rows(const Table *t)
{
    return t->nrows - 1;
}

void table_print(const Table *t, FILE *f)
{
    size_t w[16] = { 0 };

    if (t->nrows < 2 || t->ncols > ELEMENTSOF(w))
        return;
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t i = 0; i < t->ncols; i++) {
            size_t x = width(t->cells[r * t->ncols + i]);
            if (x > w[i])
                w[i] = x;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t i = 0; i < t->ncols; i++) {
            const char *cell = t->cells[r * t->ncols + i];
            const char *on = r == 0                                ? out_bold()
                             : t->colours[r] && i == t->colour_col ? t->colours[r]
                                                                   : "";
            bool last = i + 1 == t->ncols;

            fprintf(f, "%s%s%s", on, cell, *on ? out_reset() : "");
            if (!last)
                fprintf(f, "%*s", (int)(w[i] - width(cell) + 2), "");
        }
        fputc('\n', f);
    }
}

void out_kv(const char *key, const char *value)
{
    size_t n = strlen(key);

    /* An empty key continues the previous one's list. */
    if (!*key)
        printf("%13s%s\n", "", value ? value : "-");
    else
        printf("%s:%*s%s\n", key, (int)(n < 12 ? 12 - n : 1), "", value ? value : "-");
}

char *out_scalar(const Json *j)
{
    const char *s;

    if (!j)
        return strdup("-");
    s = json_as_str(j);
    if (s)
        return strdup(s);
    return json_dump(j, NULL);
}

char *out_kib(long long kib)
{
    if (kib >= 1024LL * 1024 && kib % (1024LL * 1024) == 0)
        return strdup_printf("%lld GiB", kib / (1024LL * 1024));
    if (kib >= 1024LL * 1024)
        return strdup_printf("%.1f GiB", (double)kib / (1024.0 * 1024.0));
    if (kib >= 1024)
        return strdup_printf("%lld MiB", kib / 1024);
    return strdup_printf("%lld KiB", kib);
}
