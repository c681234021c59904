/*
 * trc.h - a probe tracer (prefix trc_): signals by path (scenarios/sig.h)
 * sampled at the end of a quantum of a run session (a tap, ses_tap_add)
 * and streamed to a VCD (vcd.h) and/or a CSV trace as they are taken:
 * nothing of the trace is held in memory, whatever the run's length (a
 * sample costs the signals' reads and the writes; no allocation).
 *
 * A probe list is comma-separated paths (`ek3 scenario signals` lists
 * them; blanks around a path are ignored), each with at most one index
 * range:
 *   bus.v,module[3].iout          two signals
 *   'bus.v, bus.p'                two signals
 *   module[1-84].iout             slots 1 to 84
 *   module[*].state               every slot of the rack (a bus node
 *                                 path, canbus.node[*].tec, from node 0)
 * A path given twice (overlapping ranges) is traced once.
 *
 * Kinds (sig_kind_of): reals as VCD `real` (and the unit in the CSV
 * header), counts and enum states as vectors as wide as their range, 0/1
 * signals as 1-bit wires. The CSV: a header line `t_s,PATH_UNIT,...`
 * (PATH alone for a signal with no unit: "bus.v_V", "module[3].state"),
 * then one row per sample, the time in s, values as %.17g writes them
 * (vcd_real_text: %.17g, exact; an enum as its number, sig_enum_name gives its
 * name).
 *
 * Samples: at the end of every `every`-th quantum (simulated time a
 * multiple of every x 100 us) whose time is within [from_s, to_s].
 *
 * Error messages name the flag the caller took the value from, as `ek3
 * rack` and `ek3 scenario` name them: --probe, --vcd, --trace-csv.
 * Errors are negative codes from ek3_err.h.
 */
#ifndef TRC_H
#define TRC_H

#include <stdint.h>
#include <stdio.h>

#include "session.h"
#include "sig.h"
#include "vcd.h"

#define TRC_SIGNALS_MAX 65536u /* signals one tracer samples */

typedef struct trc_opts {
    const char *probe;    /* the probe list (required) */
    const char *vcd;      /* the VCD's path, or NULL */
    const char *csv;      /* the CSV trace's path, or NULL (one of the two at least) */
    int sigrok;           /* the VCD in the sigrok flavour (vcd.h) */
    unsigned every;       /* quanta between samples (0: 1, every quantum) */
    double from_s, to_s;  /* the window, s of simulated time */
    int has_to;           /* to_s is given (else: to the end of the run) */
    const char *version;  /* the VCD's $version (NULL: "ek3") */
} trc_opts;

typedef struct trc {
    trc_opts o;
    ses *s;
    sig_ref *ref;
    double *val;          /* this sample's values, read once for both outputs */
    unsigned n;
    int has_vcd;
    vcd v;
    FILE *csv;
    int csv_err;          /* the CSV's first write error (errno) */
    int failed;           /* the run was stopped for a write error (ses_fail) */
    int64_t t_last;       /* the last sample's time, ns (-1: none) */
    uint64_t samples;
} trc;

/* Expand and resolve a probe list against the session's rack into a
 * malloc'd array *out of *n refs (the caller frees it). 0, or
 * EK3_EPARSE (an empty item, a bad range: "--probe 'module[9-2].iout':
 * ..."), EK3_ENOENT / EK3_ERANGE (sig_resolve's, with its did-you-mean:
 * "--probe 'module[3].iuot': unknown signal ...; did you mean
 * module[3].iout?"), EK3_ENOSPC (TRC_SIGNALS_MAX, memory), EK3_EINVAL
 * (a NULL); err[cap] says which item and why. */
int trc_parse(const ses *s, const char *list, sig_ref **out, unsigned *n, char *err, size_t cap);

/* The trace flags of `ek3 rack`, `ek3 scenario run` and `replay`, one
 * word a with its value v (the next word, NULL at the end): --probe PATHS, --vcd FILE,
 * --vcd-flavour full|sigrok, --trace-csv FILE, --probe-every TIME (a
 * multiple of 100us), --from TIME, --to TIME (s of simulated time).
 * Returns 1 when it took the flag and its value, 0 when a
 * is none of them (*miss may be set for cli_bad_arg: a flag of the trace
 * without its value), or CLI_USAGE after the message (a bad value). */
int trc_arg(const char *where, const char *a, const char *v, trc_opts *o, const char **miss);

/* The trace flags' rules after the whole line (seen: cli_once's record):
 * --probe and an output need each other, --vcd-flavour needs --vcd, the
 * window's end after its start. CLI_OK or CLI_USAGE after the message. */
struct cli_seen;
int trc_args_check(const char *where, const struct cli_seen *seen, const trc_opts *o);

/* Whether the line asked for a trace (--probe or an output given). */
int trc_wanted(const trc_opts *o);

/* The CSV trace's format, one place for every CSV trace the rig writes
 * (--trace-csv here, the report's trace.csv, scopes/report.c): the
 * header line "t_s,PATH_UNIT,..." of the n signals (PATH alone for a
 * signal with no unit: "bus.v_V", "module[3].state"), and a row: the
 * time in s ("%.7f", to 100 ns) and each value as vcd_real_text writes
 * it (%.17g, exact; NaN "nan"). A write error is left in f's error
 * indicator for the caller's close to report. */
void trc_csv_head(FILE *f, const sig_ref *ref, unsigned n);
void trc_csv_row(FILE *f, double t_s, const double *val, unsigned n);

/* Resolve o->probe, create the outputs and write their headers, and add
 * the tracer to the session's taps (from the next quantum; *t must stay
 * where it is until trc_close). 0, or trc_parse's errors, EK3_EINVAL (no
 * output, a bad window), EK3_EIO (an output cannot be created: err names
 * its flag, path and the system's reason), ses_tap_add's EK3_ENOSPC.
 * The first sample is taken here (the state before the first quantum,
 * t = 0, when the run has not begun), if the window holds it; the last
 * is the run's end (ses_finish, through ses_end_tap_add) when that falls
 * between two samples of the o->every grid and inside the window.
 * On an error nothing is left open. A write error while the run goes on
 * stops it (ses_fail, with "PATH: write error: <strerror>"). */
int trc_open(trc *t, ses *s, const trc_opts *o, char *err, size_t cap);

/* Take one sample now when now is on the grid of o->every quanta from
 * 0 s (the tap does this at the end of every quantum); for a caller that
 * steps the session itself and wants the state before the first
 * quantum. */
void trc_sample(trc *t);

/* End the outputs (the VCD's last time: the last sample's), close them,
 * free. 0, or EK3_EIO with err[cap] "PATH: write error: <strerror>" (each
 * failed output, '; '-separated). Safe on a zeroed or closed *t. */
int trc_close(trc *t, char *err, size_t cap);

#endif /* TRC_H */
