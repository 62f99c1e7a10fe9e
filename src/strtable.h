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
 * Header only; it includes nothing but <string.h>. */
#pragma once

#include <string.h>

#define _STRTABLE_ELEMENTS(t) (sizeof(t) / sizeof((t)[0]))

#define DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, scope)                      \
    scope const char *name##_to_string(type i)                                       \
    {                                                                                \
        if ((long)i < 0 || (size_t)(long)i >= _STRTABLE_ELEMENTS(name##_table))      \
            return NULL;                                                             \
        return name##_table[i];                                                      \
    }

#define DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, scope)                    \
    scope type name##_from_string(const char *s)                                     \
    {                                                                                \
        if (!s)                                                                      \
            return (type)-1;                                                         \
        for (size_t i = 0; i < _STRTABLE_ELEMENTS(name##_table); i++)                \
            if (name##_table[i] && strcmp(name##_table[i], s) == 0)                  \
                return (type)i;                                                      \
        return (type)-1;                                                             \
    }

#define DEFINE_STRING_TABLE_LOOKUP(name, type)                                       \
    DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, )                               \
    DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, )

#define DEFINE_PRIVATE_STRING_TABLE_LOOKUP(name, type)                               \
    DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, static)                         \
    DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, static)
