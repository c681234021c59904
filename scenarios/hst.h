/*
 * hst.h - the nightly history (prefix hst_): one JSON line per scenario,
 * seed and night, appended after each night, read back to weigh the
 * shards, draw each key figure's trend, flag a figure that worsened past
 * its noise band though it still passes, and report a verdict that
 * flipped with the same seed and script (nondeterminism, a rig bug)
 * apart from product failures.
 *
 * A line, format "ek3-history/1" (docs/nightly.md):
 *   {"format":"ek3-history/1", "night":"2026-12-01T02:00:00Z",
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
    char name[96];
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
} hst;

/* Read the history file at path into h (an absent file is an empty
 * history). 0, EK3_EIO (cannot read), or EK3_EPARSE with err naming
 * "path:LINE: why" for the first bad line. */
int hst_load(hst *h, const char *path, char *err, size_t cap);

/* Append one line per run of the night to path (made if absent), each
 * written whole and flushed; a write error is EK3_EIO naming the file. */
int hst_append(const char *path, const ngt_night *n, char *err, size_t cap);

void hst_free(hst *h);

/* The median wall time of (scenario, seed) over its last `last` nights,
 * into *s. 1 when there is one, 0 when the history has none. */
int hst_duration(const hst *h, const char *scenario, uint64_t seed, unsigned last, double *s);

/* A figure's series for (scenario, seed, figure name), oldest first, the
 * last `max` nights at most: nights' times as text and values (NaN where
 * a night lacks it). Returns how many points (0: none). */
size_t hst_series(const hst *h, const char *scenario, uint64_t seed, const char *figure, size_t max,
                  const char **night, double *value);

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
    char figure[96];          /* HST_DRIFT: the figure */
    double value, median, band; /* HST_DRIFT: tonight, the history's median and noise band */
    char text[400];           /* one line for a person */
} hst_flag;

/* Compare the night n with the history h (which does not yet hold n):
 * a figure is flagged when it is worse than the median of its last
 * `window` values by more than its band, max(k x 1.4826 x MAD,
 * 1 % of |median|, a floor of 1e-9), with k = 4; at least 5 past values
 * are needed. A flip compares with the last entry of the same scenario,
 * seed and script_sha256. *out (malloc'd, caller frees) gets the flags.
 * Returns how many, or EK3_ENOSPC (memory). */
int hst_analyse(const hst *h, const ngt_night *n, unsigned window, hst_flag **out);

#endif /* HST_H */
