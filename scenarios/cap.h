/*
 * cap.h - capture (prefix cap_): the pre/post-trigger recording of a
 * digital storage oscilloscope, over K signals sampled once per quantum.
 *
 * While ARMED, a ring holds the last `pre` seconds of rows; the row on
 * which the trigger fires is the trigger row; `post` seconds of rows
 * follow it, then the capture is DONE and ignores further rows. A row is
 * the time (s) and the K values. The trigger is a level crossing of one
 * of the K signals (the sample before is on one side of the level, the
 * trigger sample at or past it; edge rising, falling or either, as a
 * scope's edge trigger), or external: cap_fire() makes the next row the
 * trigger row (for a predicate the caller evaluates).
 *
 * The result is written as CSV (one header line: "t_s" then NAME_UNIT
 * per signal; one line per row, in time order) and as plots through
 * splot.h: one chart per unit with that unit's signals on shared axes
 * and a grey vertical line at the trigger instant, labelled.
 */
#ifndef CAP_H
#define CAP_H

#include <stddef.h>
#include <stdio.h>

enum { CAP_MAX_SIG = 32 };

typedef enum cap_edge { CAP_RISING, CAP_FALLING, CAP_EITHER } cap_edge;
typedef enum cap_state { CAP_ARMED, CAP_TRIGGERED, CAP_DONE } cap_state;

typedef struct cap_cfg {
    unsigned k;                /* signals, 1..CAP_MAX_SIG */
    const char *const *names;  /* k names ("bus.v"), copied */
    const char *const *units;  /* k units ("V"; "" or NULL for none), copied; NULL: none */
    double quantum;            /* s between rows, > 0 */
    double pre, post;          /* s kept before and recorded after the trigger row, >= 0 */
    int trig;                  /* index of the level-trigger signal, or -1 for external */
    double level;              /* trigger level in that signal's unit */
    cap_edge edge;
} cap_cfg;

typedef struct cap {
    unsigned k;
    char *names[CAP_MAX_SIG], *units[CAP_MAX_SIG];
    size_t pre_n, post_n;  /* rows before and after the trigger row: round(pre / quantum), ... */
    double *buf;           /* rows of 1 + k doubles */
    size_t ring;           /* pre_n + 1: the armed ring's rows */
    size_t head, filled;   /* armed: next ring slot, rows held */
    size_t rows;           /* rows held once triggered */
    cap_state state;
    int trig, fire, have_prev;
    double level, prev, t_last, t_trig;
    cap_edge edge;
} cap;

/* Set up an ARMED capture. 0, or EK3_EINVAL (NULL, k out of 1..CAP_MAX_SIG,
 * a NULL name, quantum/pre/post not finite or negative, trig out of range,
 * a NaN level), EK3_ERANGE (more than 10^7 rows), EK3_ENOSPC (memory). */
int cap_init(cap *c, const cap_cfg *cfg);
void cap_free(cap *c);

/* External trigger: the next row pushed while ARMED is the trigger row. */
void cap_fire(cap *c);

/* Add the row (t, v[0..k-1]); t must be later than the last row's.
 * Returns the state after the row (CAP_ARMED, CAP_TRIGGERED, CAP_DONE),
 * or EK3_EINVAL (t not finite or not increasing, NULL v). A NaN value is
 * kept (written "nan") and never fires a level trigger. */
int cap_push(cap *c, double t, const double *v);

cap_state cap_get_state(const cap *c);
/* Rows held, in time order, and row i's 1 + k doubles (t first). */
size_t cap_rows(const cap *c);
const double *cap_row(const cap *c, size_t i);
/* Index of the trigger row and its time; (size_t)-1 / NaN while ARMED. */
size_t cap_trigger_row(const cap *c);
double cap_trigger_time(const cap *c);

/* The CSV into f. 0, or EK3_EIO when f's error indicator is set after
 * writing (the caller's fclose may still fail and must be checked). */
int cap_write_csv(const cap *c, FILE *f);

/* DIR/NAME.csv and the plots DIR/NAME[_UNIT].png and .svg (_UNIT only
 * when the signals have more than one unit). Every file is attempted;
 * returns 0, or the first failure (EK3_EIO, EK3_EINVAL, EK3_ENOSPC) with
 * err set to "PATH: REASON". NAME must be a plain file name (no '/'). */
int cap_write(const cap *c, const char *dir, const char *name, char *err, size_t errcap);

/* cap_write with event markers on the plots (splot.h: faults injected,
 * trips; a marker outside the capture's time is not drawn). Each plot's
 * y axis says its signals and unit ("bus.v (V)"); the trigger is a
 * marker too. */
struct splot_marker;
int cap_write_marked(const cap *c, const char *dir, const char *name, const struct splot_marker *mk, size_t nmk,
                     char *err, size_t errcap);

#endif /* CAP_H */
