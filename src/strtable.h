/* strtable.h: enum <-> string tables from one macro (systemd's
 * DEFINE_STRING_TABLE_LOOKUP, libvirt's VIR_ENUM_IMPL).
 *
 * A module writes one table indexed by the enum and one line:
 *
 *     static const char *const machine_state_table[_MACHINE_STATE_MAX] = {
 *         [MACHINE_RUNNING] = "running", ...
 *     };
 *     DEFINE_STRING_TABLE_LOOKUP(machine_state, MachineState)
 *
 * which defines machine_state_to_string() (NULL outside the table) and
 * machine_state_from_string() ((type) -1 for an unknown or NULL string).
 * DEFINE_STRING_TABLE_LOOKUP_TABLE(name, array, type) does the same over an
 * array of another name (one that other code lists too).  A NULL entry, such
 * as a terminating one, has no string and is never found.
 * Header only; it includes nothing but <string.h>. */
#pragma once

#include <string.h>

#define _STRTABLE_ELEMENTS(t) (sizeof(t) / sizeof((t)[0]))

/* The general forms (also for a function that wraps the table: an alias, a
 * fallback): a function named `fn` over the array `table`. */
#define DEFINE_STRING_TABLE_TO_STRING_FN(fn, table, type, scope)                     \
    scope const char *fn(type i)                                                     \
    {                                                                                \
        /* A negative value becomes a huge index: one test covers both, and          \
         * an enum without negative values draws no -Wtype-limits warning. */        \
        if ((size_t)(long)i >= _STRTABLE_ELEMENTS(table))                            \
            return NULL;                                                             \
        return table[i];                                                             \
    }

#define DEFINE_STRING_TABLE_FROM_STRING_FN(fn, table, type, scope)                   \
    scope type fn(const char *s)                                                     \
    {                                                                                \
        if (!s)                                                                      \
            return (type)-1;                                                         \
        for (size_t i = 0; i < _STRTABLE_ELEMENTS(table); i++)                       \
            if (table[i] && strcmp(table[i], s) == 0)                                \
                return (type)i;                                                      \
        return (type)-1;                                                             \
    }

#define DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, table, type, scope)               \
    DEFINE_STRING_TABLE_TO_STRING_FN(name##_to_string, table, type, scope)

#define DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, table, type, scope)             \
    DEFINE_STRING_TABLE_FROM_STRING_FN(name##_from_string, table, type, scope)

#define DEFINE_STRING_TABLE_LOOKUP_TABLE(name, table, type)                          \
    DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, table, type, )                        \
    DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, table, type, )

#define DEFINE_STRING_TABLE_LOOKUP(name, type)                                       \
    DEFINE_STRING_TABLE_LOOKUP_TABLE(name, name##_table, type)

#define DEFINE_PRIVATE_STRING_TABLE_LOOKUP(name, type)                               \
    DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, name##_table, type, static)           \
    DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, name##_table, type, static)
