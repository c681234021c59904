/*
 * hst.h - the nightly history (prefix hst_): one JSON line per scenario,
 * seed and night, appended after each night, read back to weigh the
 * shards, draw each key figure's trend, flag a figure that worsened past
 * its noise band though it still passes, and report a verdict that
 * flipped with the same seed and script (nondeterminism, a rig bug)
 * apart from product failures.
 *
 * A line, format "ek3-history/1" (docs/nightly.md):
 *   {"format":"ek3-history/1", "night":"2026-12-01T02:00:00.250Z",
 *    "rig_version":"0.4.0+b7d4305", "scenario":"svc-crash-restart",
 *    "path":"scenarios/svc-crash-restart.lua", "script_sha256":"...",
 *    "seed":1, "verdict":"PASS", "trace_sha256":"...", "wall_s":1.93,
 *    "figures":[{"name":"restart time","value":12.5,"unit":"ms",
 *                "limit":"<= 50 ms","pass":true}, ...]}
 * A figure's better direction comes from its limit ("<=", "<" lower is
 * better; ">=", ">" higher is better; others: no drift check).
 */
#ifndef HST_H
#define HST_H

#include <stddef.h>
#include <stdint.h>

#include "ngt.h"

/* One figure of one entry. */
typedef struct hst_fig {
    char name[256];           /* scn_fig.name */
    double value;             /* NaN: no figure */
    char unit[16];
    char limit[64];
    int pass;
} hst_fig;

/* One line: a scenario with a seed on one night. */
typedef struct hst_entry {
    char night[32];
    char rig_version[96];
    char scenario[64];
    char path[512];
    char script_sha256[65];
    char helpers_sha256[65]; /* scn_helpers_sha256: the helper modules it required; "" when none (or an
                                older line, written before they were recorded) */
    uint64_t seed;
    int verdict;              /* scn_verdict */
    char trace_sha256[65];
    double wall_s;
    hst_fig *fig;
    unsigned nfig;
} hst_entry;

/* The history as read, oldest first. */
typedef struct hst {
    hst_entry *e;
    size_t n, cap;
    char warning[400];        /* "path:LINE: ..." when a cut last line was skipped, else "" */
} hst;

/* Read the history file at path into h (an absent file is an empty
 * history). 0, EK3_EIO (cannot read), or EK3_EPARSE with err naming
 * "path:LINE: why" for the first bad line (h is then empty). The last
 * line alone may be cut short (a night killed while appending): when it
 * has no newline and is not JSON, it is skipped and h->warning says so. */
int hst_load(hst *h, const char *path, char *err, size_t cap);

/* hst_load's reader on text (len bytes; file names it in errors),
 * appending to h: every line one entry, each field checked (format
 * "ek3-history/1", night, scenario, seed a whole number >= 0, verdict
 * PASS/FAIL/ERROR, wall_s, figures[] with name, value (null: NaN),
 * unit, limit, pass; rig_version, path and the two SHA-256s strings of
 * their sizes), blank lines allowed. 0 or EK3_EPARSE ("file:LINE: field:
 * why"; h is then empty), EK3_ENOSPC (memory). */
int hst_parse(hst *h, const char *text, size_t len, const char *file, char *err, size_t cap);

/* Append one line per run of the night to path (made if absent), each
 * written whole and flushed; a write error is EK3_EIO naming the file.
 * A run not run (NGT_NOT_RUN) has no line; a crashed or timed-out run is
 * an ERROR with its wall time. A cut last line left by an earlier night
 * (no newline, not JSON) is dropped first, so that the file stays one
 * entry a line. EK3_ENOSPC: memory. */
int hst_append(const char *path, const ngt_night *n, char *err, size_t cap);

void hst_free(hst *h);

/* The median of v[0..n-1] (v sorted in place; n >= 1): the middle
 * value, or the mean of the two middle ones. Benchmarks' medians too. */
double hst_median(double *v, size_t n);

/* The median wall time of (scenario, seed) over its last `last` nights
 * (0: all, up to the last 256) that have one (wall_s > 0), into *s. 1 when there is one, 0
 * when the history has none. */
int hst_duration(const hst *h, const char *scenario, uint64_t seed, unsigned last, double *s);

/* A figure's series for (scenario, seed, figure name), oldest first, the
 * last `max` nights at most: nights' times as text and values (NaN where
 * a night lacks it; the first figure of that name in an entry). night
 * and value hold max each; night's strings are h's. Returns how many
 * points (0: none). */
size_t hst_series(const hst *h, const char *scenario, uint64_t seed, const char *figure, size_t max,
                  const char **night, double *value);

/* A figure's better direction from its limit: -1 lower is better ("<=",
 * "<" first, after blanks), +1 higher (">=", ">"), 0 none known. */
int hst_direction(const char *limit);

/* Whether two figure names are one figure from night to night: equal but
 * for the numbers in them ("dip depth below 749.2 V" and "... 748.9 V",
 * "max deviation from the mean (module 5)" and "(module 61)"), which the
 * checks write into some names. The history's series and drift match
 * figures by it. */
int hst_same_figure(const char *a, const char *b);

/* What the history says of tonight's run. */
typedef enum hst_flag_kind {
    HST_DRIFT = 1,            /* a figure worsened past its band, though it may still pass */
    HST_FLIP,                 /* same scenario, seed and script: the verdict or the trace
                                 hash changed from the last night (nondeterminism) */
} hst_flag_kind;

typedef struct hst_flag {
    int kind;                 /* hst_flag_kind */
    char scenario[64];
    uint64_t seed;
    char figure[256];         /* HST_DRIFT: the figure (scn_fig.name) */
    double value, median, band; /* HST_DRIFT: tonight, the history's median and noise band */
    char text[512];           /* one line for a person, without the scenario, seed and kind (the printers add them) */
} hst_flag;

/* Compare the night n with the history h (which does not yet hold n):
 * a figure is flagged when it is worse than the median of its last
 * `window` values by more than its band, max(k x 1.4826 x MAD,
 * 1 % of |median|, a floor of 1e-9), with k = 4; at least 5 past values
 * are needed. A flip compares with the last entry of the same scenario,
 * seed, script_sha256 and helpers_sha256 (an edited helper module is
 * another script, not a flip; tonight's known: a run without a script hash
 * or not run is not compared): a different verdict, or for two PASS/FAIL
 * verdicts a different trace hash, is HST_FLIP. window 0: every value.
 * Only tonight's first figure of a name is checked, its history the
 * (scenario, seed) entries' first of that name. *out (malloc'd, caller
 * frees; NULL when none) gets the flags: the drifts in run order, then
 * the flips.
 * Returns how many, or EK3_ENOSPC (memory). */
int hst_analyse(const hst *h, const ngt_night *n, unsigned window, hst_flag **out);

/* Whether the night n passes, as `ek3 nightly`'s last line and the
 * report's headline say it: ngt_night_ok, nothing that fails it anyway
 * (n->fails_anyway), and with n->fail_on_flip no HST_FLIP among
 * flags[0..nflags). 1 or 0. */
int hst_night_passes(const ngt_night *n, const hst_flag *flags, size_t nflags);

#endif /* HST_H */
