/*
 * report.h - the report of a rack run (prefix rep_): the text summary,
 * the trace CSV and the plots, read from a session's probe record and
 * its last snapshot (session.h), never from firmware or station
 * internals.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdio.h>

#include "session.h"

/* The text report of a finished session (ses_run, or ses_finish after a
 * stop): the rack line, RACK COLLAPSED (or BUS NOT UP, RACK SAGGING,
 * RACK OVERLOADED: ses_collapsed, ses_sagging), the load and the bus, sharing,
 * INTERRUPTED (stop_sig: SIGINT, SIGTERM; or the session's stop_why),
 * pulls, FAULT_ALERTs, external modules, the station and its API, the
 * buses, one line per module, and the timing (and realtime lateness).
 * width 0: every line whole (a file, a pipe: one fact a line for grep);
 * else (at least REP_WIDTH_MIN) a line longer than width columns breaks at
 * a clause and goes on indented (a terminal). Returns 0, or EK3_ENOSPC
 * (memory for the snapshot or the text); a write error is left in f's
 * error indicator for the caller's close to report. */
#define REP_WIDTH_MIN 40u
int rep_text(FILE *f, ses *s, unsigned width);

/* Text s (n bytes, lines ending in '\n') out to f with every line folded
 * to `width` columns (a terminal's; REP_WIDTH_MIN when less): a longer line
 * breaks at a clause ("; ", then ", ", then " (", else a space) in its
 * second half, and the rest goes on indented as the line itself is
 * indented, else past its label ("timing: "; a colon after a parenthesis
 * is not one), else 4 columns. A word longer than the width stays whole,
 * and so does a table's row (two spaces in a row after its indent).
 * Write errors are left in f's error indicator. */
void rep_fold(FILE *f, const char *s, size_t n, size_t width);

/* What body(out, ctx) writes, to f: straight when width is 0 (a file, a
 * pipe), else gathered and folded to width (rep_fold). Returns body's
 * result (0 when it wrote), or EK3_ENOSPC (no memory for the text); write
 * errors on f are left in its error indicator. */
int rep_folded(FILE *f, unsigned width, int (*body)(FILE *out, void *ctx), void *ctx);

/* The trace (the report's trace.csv): the session's record, a row a
 * record row (every 1 ms by default), in the CSV trace format of
 * --trace-csv (trc_csv_head, trc_csv_row: one writer): "t_s,bus.v_V,
 * bus.i_A,bus.p_W,rack.i_min_A,rack.i_mean_A,rack.i_max_A,
 * rack.tj_max_C,rack.online,station.sent,station.acked", each column the
 * signal of that path (scenarios/sig.h) at that instant. Returns 0, or
 * EK3_ENOENT (a column the record or the signals lack: a bug); a write
 * error is left in f's error indicator. */
int rep_trace_csv(FILE *f, const ses *s);

/* The plots into dir, PNG and SVG each: bus_voltage, load_power,
 * module_current (min, mean, max) from the record, current_sharing (each
 * module's current at the end, with the mean) from the last snapshot;
 * the time plots mark the run's events (station start, load steps,
 * pulls, faults injected, each module's FAULT_ALERT, the collapse). A
 * plot that cannot be written is told on stderr as "ek3 WHO: PATH: cannot
 * write the plot: REASON". Returns 0, or 1 when any failed. */
int rep_plots(const char *dir, ses *s, const char *who);

#endif /* REPORT_H */
