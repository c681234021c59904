/*
 * scowin.h - the live scope's window (prefix scw_): an SDL2 window with
 * SDL2_ttf text (DejaVu Sans Mono, fonts-dejavu-core) over a running
 * session, fed by the scope's tap (sco.h).
 *
 * SDL wants its window on the main thread, so the window's loop runs on
 * the caller's thread and the run itself (ses_run, a scenario) on a
 * worker thread (scw_loop). The run never waits on the window: the tap
 * pushes rows into a ring the window drains, and the rack map comes from
 * ses_snapshot once per frame. Closing the window stops the run at the
 * end of a quantum, as Ctrl-C does (the report is still written);
 * Ctrl-C stays the caller's (SDL's own signal handlers are off).
 *
 * What it shows and the keys: docs/scopes.md "Live scope" (scw_help).
 * A screenshot: F12 or 's' writes scope-NNN.png in the working
 * directory; o->shot_path writes one when the run reaches o->shot_t (the
 * tap holds the run there until the window has drawn and saved it, so
 * the picture is the same every run).
 *
 * Errors are negative codes from ek3_err.h, with err naming what failed.
 */
#ifndef SCOWIN_H
#define SCOWIN_H

#include <stddef.h>
#include <stdio.h>

#include "sco.h"
#include "session.h"

#define SCW_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

typedef struct scw_opts {
    int w, h;             /* window size, px (0: 1280 x 800) */
    const char *font;     /* NULL: SCW_FONT */
    double span_s;        /* the waveforms' time span (0: 0.5 s) */
    unsigned every;       /* quanta between two rows of the tap (0: 1) */
    const char *shot_path; /* a PNG written at simulated time shot_t, or NULL */
    double shot_t;        /* s */
    int hold;             /* keep the window open after the run ends, until closed */
    int fps;              /* frames per second aimed at (0: 60) */
    FILE *notes;          /* frame rate, drops, the shot (NULL: stderr) */
    int sel[SCO_SEL];     /* slots selected from the start (0: none; a slot past the rack: scw_attach refuses it) */
    const char *keys;     /* keys pressed once the rack is there, in order ("c", "t]"), or NULL:
                             printable keys of the window's table (scw_help) */
} scw_opts;

typedef struct scw scw;

/* Open the window and its font. *out is the new window; 0, or
 * EK3_EIO (no display: err says so and names xvfb-run; the font missing or
 * unreadable: err names its path and fonts-dejavu-core), EK3_ENOSPC. */
int scw_open(scw **out, const scw_opts *o, char *err, size_t cap);

/* The session to show: sets up the tap (sco_tap_init, sco_tap_attach) on
 * s, from any thread, before s runs its first quantum (a scenario calls
 * it from its rack{}). 0, or the tap's error. A second call is EK3_EBUSY. */
int scw_attach(scw *w, ses *s);

/* Whether the slots of --scope-select (sel[SCO_SEL], 0 unused) are in a
 * rack of `modules`: 0, or EK3_ERANGE with err naming the first slot
 * outside and the rack's size. scw_attach refuses such a rack with
 * EK3_ERANGE and scw_why(w) says this. */
int scw_sel_check(const int *sel, unsigned modules, char *err, size_t cap);

/* Why scw_attach refused the session ("" if it did not). */
const char *scw_why(const scw *w);


/* Run fn(arg) on a worker thread and the window here until fn returns.
 * Returns fn's result (o->hold is scw_hold's, after the caller's report).
 * The window asks the run to stop when closed (q, Escape, the close
 * button) or when the process's own stop (Ctrl-C) reaches the session. */
int scw_loop(scw *w, int (*fn)(void *arg), void *arg);

/* With o->hold, after the run (scw_loop) and its report: keep drawing the
 * window until it is closed (q, Escape, the close button) or stop()
 * (may be NULL) returns non-zero, e.g. cli_stop_requested on Ctrl-C or
 * SIGTERM. Flushes stdout first. 1 when it held, 0 when it did not (no
 * hold asked, the window closed already, stop() already true). */
int scw_hold(scw *w, int (*stop)(void));

/* After the run: EK3_EIO when the screenshot asked for (shot_path) was
 * not written (the run ended before shot_t: told here, once; a write
 * error: told when it failed), else 0. */
int scw_shot_check(scw *w);

/* Close the window; free everything. Returns 0, or EK3_EIO when the
 * screenshot asked for (shot_path) was not written (the note says why). */
int scw_close(scw *w);

/* The frames drawn and their rate (frames / wall seconds of the loop);
 * *frame_s (may be NULL): the mean wall time to drain and draw one, s. */
double scw_fps(const scw *w, long *frames, double *frame_s);

/* Write an RGB24 image (w x h, rows of stride bytes) as a PNG (libpng).
 * 0, or EK3_EIO with errno (open, write, close), EK3_EINVAL. */
int scw_png_write(const char *path, const unsigned char *rgb, int w, int h, int stride);

/* The rack's threads by default with the window open: one CPU left for
 * the window (the rack's lockstep threads spin-wait on each other, and
 * a window drawing on one of their CPUs would hold them all): the CPUs
 * less one, at least 1. */
unsigned scw_threads(void);

/* The scope's cost to the rack: an 84-module rack (150 kW, its load on
 * at 0.1 s; scw_threads() threads in all three) run to max(0.1, 0.4 x
 * scale) s of simulated time bare, with the tap alone (timed inside), and
 * with the tap and the window at 60 frames/s (SDL's dummy driver when
 * there is no display), five times each in turn; prints "name value
 * unit" lines of the medians: scope.rack84.bare_rtf, .scoped_rtf (x real
 * time), scope.tap_us (per quantum), scope.tap_cost (its share of the
 * bare run's wall time, %), scope.cost (% more wall time with the window
 * than bare: the machine's load weighs on it), scope.fps, scope.frame_ms
 * (to drain and draw one frame). 0, or EK3_EIO with err. */
int scw_bench(FILE *out, double scale, char *err, size_t cap);

/* The keys, one per line (the window's help and docs/scopes.md). */
void scw_help(FILE *f);

#endif /* SCOWIN_H */
