/*
 * candump.h - one line of a can-utils log, `candump -l` format
 * (prefix cdl_). Host builds only.
 *
 *   (1700000000.123456) can0 123#DEADBEEF            classical, 11-bit
 *   (1700000000.123456) can0 0260002A#R              remote request
 *   (1700000000.123456) can0 0260002A##1112233...    CAN-FD, flags nibble
 *   (1700000000.123456) can0 20000080#0000000000000000   error frame
 *   (...) can0 123#1122334455667788_C                classical len8_dlc
 *
 * An optional direction token (" R" or " T", as asc2log writes) may end
 * the line. Parsing then formatting gives the same line back for every
 * line in the canonical form that candump writes (upper-case hex, 10.6
 * digit timestamp, no data separators).
 */
#ifndef CANDUMP_H
#define CANDUMP_H

#include <stddef.h>
#include <stdint.h>

#include "can_frame.h"

#define CDL_IFNAME_MAX 16u
#define CDL_LINE_MAX 200u /* longest canonical line, with margin */

typedef struct cdl_record {
    int64_t sec;                  /* timestamp, whole seconds */
    uint32_t usec;                /* and microseconds, 0..999999 */
    char ifname[CDL_IFNAME_MAX];  /* interface, NUL-terminated */
    cfd_frame frame;
    uint8_t raw_dlc;              /* classical len8_dlc 9..15, or 0 */
    char dir;                     /* 'R', 'T', or 0 when absent */
} cdl_record;

/* Parse one line (with or without its newline). Returns 0, or
 * EK3_EPARSE with *why (if not NULL) set to a static reason and *col
 * (if not NULL) to the 0-based column where the problem starts, or
 * EK3_EDLC for an FD payload whose length is not a CAN-FD length. */
int cdl_parse(const char *line, cdl_record *r, const char **why, unsigned *col);

/* Format a record as a canonical line without newline. Returns the
 * length, or EK3_ENOSPC when cap is too small (out is then ""), or
 * EK3_EINVAL for a record that has no line form. */
int cdl_format(const cdl_record *r, char *out, size_t cap);

/* Timestamp of a record in ns. */
static inline int64_t cdl_time_ns(const cdl_record *r)
{
    return r->sec * 1000000000 + (int64_t)r->usec * 1000;
}

#endif /* CANDUMP_H */
