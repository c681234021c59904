/*
 * sig.h - the rig's signals by path (prefix sig_): "bus.v",
 * "module[42].iout", "canbus.node[0].tec", "module[7].svc.THERMAL_MGR.restarts",
 * each with its unit and meaning, in one table (sig.c) that resolving,
 * reading, `ek3 scenario signals` and docs/scenarios.md all use.
 *
 * A path is resolved once (sig_resolve: text to a sig_ref) and read
 * every quantum (sig_read: a switch on the row, no string work). Values
 * are in the signal's unit (sig_unit, SI: V, A, W, C, Hz, s, ohm; "" for
 * counts, fractions and enums). An enum signal (a module's state, a bus
 * node's error state, a fault code) reads as its number; sig_enum_name
 * gives its name ("RUN"). What each figure is comes from the module that
 * keeps it: the session (ses_mod_state, ses_sharing_of, ses_collapsed),
 * the plant (rack.h, module.h), the rack bus (canbus.h), the station
 * (station.h stn_stats), the kernel (jz.h jz_svc).
 *
 * Path grammar: a table pattern with K replaced by a decimal index (no
 * sign, no leading zero) and NAME by a service name of EK3_SERVICES
 * (firmware/services/services.h); no whitespace.
 *   module[K]...        K: a slot, 1..N
 *   canbus.node[K]...   K: a node, 0..N (0 is the station)
 */
#ifndef SIG_H
#define SIG_H

#include <stddef.h>
#include <stdio.h>

#include "session.h"

/* A resolved signal: id, the row of the signal table; slot, the module
 * (1..N) or bus node (0..N) of an indexed signal, else 0; sub, the
 * service id (1..) of a service signal, else 0. */
typedef struct sig_ref {
    unsigned id, slot, sub;
} sig_ref;

/* Resolve `path` against the session's rig into *out. s may be NULL:
 * then only the path's form is checked (no index range, no load kind).
 * Returns 0, or
 *   EK3_ENOENT: no such signal, with err naming up to 3 closest valid
 *     paths by edit distance, the input's index kept ("unknown signal
 *     'module[42].iuot'; did you mean module[42].iout?"), or an unknown
 *     service naming the services, or a load signal the rack's load kind
 *     has not ("load.soc: the rack's load is a resistor"), or a service
 *     signal of a module whose firmware runs outside the rig;
 *   EK3_ERANGE: an index out of range ("module[90]: the rack has modules
 *     1 to 84");
 *   EK3_EINVAL: path or out NULL.
 * err (cap bytes; may be NULL) is always NUL-terminated when cap > 0. */
int sig_resolve(const ses *s, const char *path, sig_ref *out, char *err, size_t cap);

/* The signal's value now, in its unit (between quanta, on the session's
 * thread). r must come from sig_resolve against this session; a ref
 * that does not name a row reads NaN. */
double sig_read(const ses *s, const sig_ref *r);

/* What a signal's values are, for a trace (scopes/trc.h): any real in
 * its unit (SIG_K_REAL: the signals with a unit, and the fractions), a
 * whole number 0 .. *max (SIG_K_COUNT: counters, slots, bit sets), an
 * enum's number 0 .. *max (SIG_K_ENUM), 0 or 1 (SIG_K_BOOL). max may be
 * NULL; it gets 0 for a real. A bad ref is a real. */
typedef enum sig_kind { SIG_K_REAL, SIG_K_COUNT, SIG_K_ENUM, SIG_K_BOOL } sig_kind;
sig_kind sig_kind_of(const sig_ref *r, double *max);

/* Its unit: "V", "A", "W", "C", "Hz", "s", "ohm", or "" (count, fraction
 * 0..1, enum). Never NULL ("" for a bad ref). */
const char *sig_unit(const sig_ref *r);

/* An enum signal's name of value v ("RUN", "error-passive", "OCP"; "?"
 * for a value outside the enum); NULL for a signal that is not an enum. */
const char *sig_enum_name(const sig_ref *r, double v);

/* The concrete path of a resolved ref ("module[42].iout") into buf
 * (cap bytes, NUL-terminated): buf, or NULL when it does not fit or r
 * names no row. */
const char *sig_path(const sig_ref *r, char *buf, size_t cap);

/* Print every path pattern with its unit and meaning (enum signals list
 * their names), then what K and NAME stand for: plain text, or a Markdown
 * table (docs/scenarios.md). 0, or EK3_EIO when a write failed. */
int sig_print(FILE *f, int markdown);

#endif /* SIG_H */
