/*
 * chp.h - a scenario check's plot (prefix chp_): what the check looked
 * at, drawn with splot.h into the run's report directory, one SVG per
 * check, named after it (chp_file_name) and listed in the verdict
 * (scn_fig.plot; verdict.json checks[].plot).
 *
 * The figure: the checked signal's samples over the check's window
 * (the window shaded, 5 % of room each side; a long window decimated
 * to the min and max of each pixel column by splot), the limit as
 * dashed horizontal lines (or a dashed ideal line with its band, for a
 * ramp), the check's event (a step, a fault onset) and deadlines as
 * vertical markers, the instant it measured (a trip) as a red marker,
 * the faults injected in the window as markers, and
 * for a failed check its first failing instant marked "FAIL". The title
 * says the check's name and PASS or FAIL.
 */
#ifndef CHP_H
#define CHP_H

#include <stddef.h>

#include "scn.h"
#include "splot.h"

typedef struct chp_fig {
    const char *name;         /* the check's name: "ripple(bus.v)" */
    const char *signal;       /* what y is: "bus.v"; the y axis reads "bus.v (V)" */
    const char *unit;         /* "" or NULL: none */
    const double *t, *y;      /* the samples, t in s, strictly increasing */
    size_t n;
    const double *y2;         /* a second trace on the same axis (a demand), or NULL */
    const char *name2;
    double y2_pct;            /* > 0: y2 x y2_pct / 100 drawn too, dashed red, as the limit the check compared
                                 with ("99.5 % of load.p", delivered's min); NaN or 0: none */
    int steps;                /* y and y2 are states (0/1): drawn as steps */
    double from, to;          /* the window, s; not finite: the first / last sample */
    double lo, hi;            /* limit lines; not finite: none */
    const char *lo_label, *hi_label;
    double line_t0, line_a, line_b, line_dev; /* an ideal line a + b (t - t0), dashed, and a band +-dev
                                                 around it (dev not finite: none); a NaN a: no line */
    double at;                /* the check's event (a step, a fault onset), s; NaN: none */
    const char *at_label;
    double deadline;          /* a limit in time (a trip by then), s; NaN: none */
    const char *deadline_label;
    double seen;              /* the instant the check measured (a trip_latency's trip), s; NaN or no label: none */
    const char *seen_label;   /* its label: "trip at 0.500120 s (latency 0.12 ms)" */
    double fail_t;            /* the first failing instant, s; NaN: none (or passed) */
    int pass;
    const splot_marker *mk;   /* more markers (the faults injected), drawn when in the range */
    size_t nmk;
} chp_fig;

/* "check-" and the name with every byte but letters, digits, '-', '_' and
 * '.' made '_' (runs of them one), cut to 60 bytes, then "-K" for K > 1
 * (a second check of the same name), then ".svg", into buf. */
void chp_file_name(char *buf, size_t cap, const char *name, unsigned k);

/* Draw f into dir/file. 0, or EK3_EINVAL (no sample, NULL), EK3_ENOSPC
 * (memory for y2_pct's line: err says so), EK3_EIO
 * (cannot write: err says "PATH: REASON"). */
int chp_write(const char *dir, const char *file, const chp_fig *f, char *err, size_t errcap);

/* The faults of r that went in (onset_s >= 0), as purple markers
 * labelled "fault NAME TARGET" ("fault ocp 3"), labels written into
 * lab[]; at most max. Returns how many. */
size_t chp_fault_markers(const scn_result *r, splot_marker *mk, char (*lab)[48], size_t max);

#endif /* CHP_H */
