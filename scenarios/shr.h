/*
 * shr.h - shrink a failing scenario's fault schedule (prefix shr_): the
 * smallest schedule (fewer faults, later onsets, smaller magnitudes) that
 * still fails the same check from the same seed, written as a new short
 * scenario file ready to become a regression test.
 *
 * The search runs the scenario again and again with scn_opts.ovr (the
 * engine's overrides by fault() call index): first Zeller's ddmin over
 * the fault() call sites (A. Zeller, R. Hildebrandt, "Simplifying and
 * Isolating Failure-Inducing Input", IEEE TSE 28(2), 2002), then, for
 * each kept fault, the latest onset (bisection, 1 ms steps) and the
 * smallest parameter scale (bisection on [0, 1], 1/32) that still fail.
 * "The same check" is the verdict's first failed check: its name and
 * its where (file:line).
 *
 * The unit is a call site (a line of the scenario file holding one
 * fault(...) call): a site reached more than once (a loop, a callback),
 * or a fault() call from a helper module, is dropped or kept whole and
 * its onset and parameters are left as written. A site whose line holds
 * no `fault(` call, or more than one, is not searched: it stays as it is.
 *
 * The file written is the original's text with the manifest's name made
 * NAME-shrunk and its seeds the verdict's seed, each dropped fault(...)
 * call replaced by `nil` (a handle kept in a variable is nil, and
 * clear(nil) does nothing), each moved or scaled one rewritten as a
 * literal fault("name", target, {params, at=, duration= | clear_at=})
 * call, the lines a call spanned kept as blank lines (so every other line
 * keeps its number) and a header comment in front.
 */
#ifndef SHR_H
#define SHR_H

#include <stddef.h>
#include <stdio.h>

#include "scn.h"

#define SHR_BUDGET 200u /* runs, when none is given */

/* One fault() call site of the scenario file. */
typedef struct shr_site {
    char where[160];          /* file:line */
    unsigned line;
    unsigned ncalls;          /* fault() calls made from it in the recorded run */
    int first;                /* the first call's index */
    int searched;             /* 0: left as written (why says why) */
    int movable, scalable;    /* one call, at a time (not when=); with a parameter that scales */
    size_t off, end;          /* the call's text in the file: 'fault' .. ')' inclusive */
    int keep;                 /* in the smallest schedule found */
    double at_s;              /* its onset there (< 0: as written) */
    double scale;             /* its parameters' scale there (1: as written) */
    char why[120];
} shr_site;

typedef struct shr {
    const char *path;         /* the scenario file */
    const scn_result *want;   /* the FAIL verdict read back */
    unsigned budget, runs;
    unsigned threads;
    FILE *log;                /* one line per run (NULL: none) */
    char *text;               /* the scenario file */
    size_t len;
    shr_site site[SCN_FAULTS_MAX];
    unsigned nsite;
    int site_of[SCN_FAULTS_MAX]; /* call index -> site */
    unsigned ncall;
    scn_result last;          /* the last run that failed the same check with the schedule chosen */
    int have_last;
} shr;

/* Set h up for the FAIL verdict want of the scenario file at path: read
 * the file, find each fault() call site. budget: runs at most (0:
 * SHR_BUDGET). 0, or EK3_EINVAL (not a FAIL verdict), EK3_EIO (the
 * file), with err saying why. shr_free releases h. */
int shr_init(shr *h, const char *path, const scn_result *want, unsigned budget, unsigned threads, FILE *log,
             char *err, size_t cap);
void shr_free(shr *h);

/* The search. 0: h->site[].keep, at_s and scale hold the smallest
 * schedule found and h->last its run (the budget may have cut it short:
 * then it is the smallest found so far); EK3_ENOENT: the verdict's
 * failure did not come back when run as recorded (err says what came). */
int shr_search(shr *h, char *err, size_t cap);

/* Write the shrunk scenario to out_path (see the header comment); from:
 * the verdict's path, named in the header. The number of header lines
 * (the shift of every original line) into *shift. 0, or EK3_EPARSE (no
 * scenario{name=...} to rename), EK3_EIO (write error), with err. */
int shr_write(shr *h, const char *out_path, const char *from, unsigned *shift, char *err, size_t cap);

/* Index into h->last.fault of fault() call `call` (dropped calls are
 * not in a run's schedule). */
unsigned shr_last_index(const shr *h, unsigned call);

#endif /* SHR_H */
