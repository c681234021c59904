/*
 * ngt.h - the nightly regression (prefix ngt_): a night is the scenario
 * library, selected by level, tag and requirement, run over each
 * scenario's seeds, one process per run (a crash or a hang is one run's
 * ERROR, never the night's loss), split into shards packed by recorded
 * durations, and read back as one ngt_night that the JUnit writer
 * (scopes/jun.h), the HTML report (scopes/htm.h) and the history
 * (scenarios/hst.h) consume. `ek3 nightly` is flag parsing over this.
 *
 * A night's directory (OUT, --out):
 *   plan.json                 the plan: every job, its shard and weight
 *                             ("ek3-nightly-plan/1")
 *   runs/NAME/seed-N/         one run: verdict.json, verdict.txt, captures,
 *                             keys.csv (its key signals), run.log (its
 *                             stdout and stderr, capped)
 *   night.json                what ran and how ("ek3-night/1"): the plan's
 *                             jobs with status, why, wall_s, quarantine
 *   junit.xml                 scopes/jun.h
 *   report/index.html         scopes/htm.h (and the SVG plots beside it)
 * Shards run into their own OUT each; `ek3 nightly merge OUT1 OUT2 ...
 * --out DIR` reads their night.json and runs/ into one night.
 *
 * Errors are ek3_err.h codes; every function that can fail takes
 * err/cap and writes a message naming the file (and line or field).
 */
#ifndef NGT_H
#define NGT_H

#include <stddef.h>
#include <stdint.h>

#include "scn.h"

/* What came of one run. */
typedef enum ngt_status {
    NGT_DONE = 0,     /* the run ended and its verdict.json was read back */
    NGT_CRASHED,      /* its process died (a signal) or wrote no verdict: an ERROR */
    NGT_TIMEOUT,      /* killed past its manifest timeout plus the grace: an ERROR */
    NGT_NOT_RUN,      /* the night was stopped (SIGINT/SIGTERM) before it ran */
} ngt_status;

/* One job of the plan: a scenario with one seed. */
typedef struct ngt_job {
    char path[512];           /* the scenario file */
    char name[64];            /* its manifest's name */
    uint64_t seed;
    double timeout_s;         /* its manifest's timeout (the runner's kill: this plus a grace) */
    double weight_s;          /* expected wall time: the history's median for
                                 (name, seed), else an estimate from the
                                 manifest (its level and timeout) */
    int weight_known;         /* weight_s comes from the history */
    unsigned shard;           /* 1..N */
    uint8_t unread;           /* its manifest does not read (ngt_jobs): it runs to its ERROR */
} ngt_job;

/* One run of a night. */
typedef struct ngt_run {
    ngt_job job;
    char dir[640];            /* its evidence, relative to the night's OUT: "runs/NAME/seed-N" */
    int status;               /* ngt_status */
    char why[512];            /* CRASHED / TIMEOUT / NOT_RUN: why, e.g.
                                 "its process ended on signal 11 (Segmentation fault)",
                                 "killed after 75.0 s: its timeout is 60 s" */
    scn_result r;             /* the verdict; for CRASHED/TIMEOUT an ERROR
                                 made from the manifest and why */
    double wall_s;            /* the run's process, start to end */
    char quarantine[256];     /* the quarantine file's reason when listed, else "" */
    char q_expires[11];       /* its expiry, YYYY-MM-DD ("" when not listed) */
    int q_expired;            /* listed but expired: it fails the night */
} ngt_run;

/* A night: what was selected, how it was split, what each run gave. */
typedef struct ngt_night {
    char out[512];            /* the night's directory */
    char rig_version[96];     /* vrd_rig_version of the ek3 that ran it */
    char started[32];         /* UTC, ISO 8601 to the millisecond: "2026-12-01T02:00:00.250Z" */
    char selection[512];      /* the selection as given: "--level quick --tag can" */
    unsigned shard_i, shard_n; /* this shard, of how many (1, 1 when not sharded;
                                 0, N for a merge of N shards) */
    ngt_run *run;             /* in plan order */
    size_t nrun;
    double wall_s;
    int fail_on_flip;         /* --fail-on-flip: a nondeterminism flag fails the night (the report says so) */
    int fails_anyway;         /* the command fails the night whatever its runs (an empty selection without
                                 --allow-empty, a runner error, a write error before the report): the
                                 report says so, as the command's last line does */
} ngt_night;

/* A night's counts; a run counts once, under the first that applies. */
typedef struct ngt_count {
    unsigned passed;          /* PASS */
    unsigned failed;          /* FAIL, not quarantined */
    unsigned errors;          /* ERROR (incl. crashed, timed out), not quarantined */
    unsigned quarantined;     /* FAIL or ERROR of a listed, unexpired scenario */
    unsigned expired;         /* FAIL or ERROR whose quarantine entry expired (also in failed/errors) */
    unsigned not_run;         /* NGT_NOT_RUN */
    unsigned claims;          /* distinct requirements of the selection */
    unsigned claims_hold;     /* ... every run tagged with it passed and none names a gap: held in full */
    unsigned claims_gaps;     /* ... every run tagged with it passed, and one names a gap (what holds
                                 is asserted; what does not is named) */
    unsigned gaps;            /* distinct gaps the scenarios that ran name (a run not run names none) */
} ngt_count;

void ngt_count_night(const ngt_night *n, ngt_count *c);

/* The claims as the night's summary line and report say them, into buf
 * (cap bytes): "11 of 14 claims hold, 2 more with gaps named", or "no
 * claims to hold: no run names a requirement" when none does. buf. */
const char *ngt_claims_text(const ngt_count *c, char *buf, size_t cap);

/* Whether the night passes: no failure or error outside the quarantine,
 * no expired entry that failed, nothing left not run. */
int ngt_night_ok(const ngt_night *n);

/* Release what a night holds (its runs' results); n is then empty. */
void ngt_night_free(ngt_night *n);

/* --- Selection ----------------------------------------------------------- */

typedef struct ngt_select {
    const char *level;        /* "quick", "nightly" or "soak": that level and below (NULL: nightly) */
    const char *const *tag;   /* a scenario with any of these tags (none given: every one) */
    size_t ntag;
    const char *const *req;   /* ... and naming any of these requirements (ngt_req_match) */
    size_t nreq;
} ngt_select;

/* Whether requirement `have` (a manifest's, "EK-TECH-010 6.3") falls
 * under `want` (a selection's): equal, or `want` is a prefix ending on a
 * section boundary (the next character of `have` is '.' or ' '), so
 * "EK-TECH-010 6" takes 6.3 and 6.10 but not 61. */
int ngt_req_match(const char *want, const char *have);

/* Whether the manifest m is in the selection s. */
int ngt_selected(const scn_manifest *m, const ngt_select *s);

/* --- The plan ------------------------------------------------------------ */

/* The jobs of the scenario files paths[0..n) in the selection s: each
 * selected file with each seed of its manifest, weighed by the history
 * h (may be NULL): hst_duration over the last NGT_WEIGHT_NIGHTS nights,
 * else ngt_estimate. A file whose manifest does not read (a syntax
 * error, a bad scenario{}) is a job of every selection, unread set: its
 * name the file's (characters other than letters, digits, '-', '_'
 * and '.' as '_'; "~2" and on when another job has it), seed 1, its
 * weight a quick scenario's; its run is the night's ERROR that says
 * why, so one broken file does not lose the others' night. *jobs
 * (malloc'd, caller frees; NULL when none), *njobs. 0, or EK3_EPARSE
 * (two files name one scenario: err names them), EK3_ENOSPC. */
#define NGT_WEIGHT_NIGHTS 7u
struct hst;
int ngt_jobs(const char *const *paths, size_t n, const ngt_select *s, const struct hst *h, ngt_job **jobs,
             size_t *njobs, char *err, size_t cap);

/* A run's expected wall time without history, s: by level, at most the
 * manifest's timeout. Quick 1 and nightly 12: this library's medians on
 * the CI's 2-core machine, rounded up (a night of --level nightly, 48
 * quick runs median 0.62 s, 26 nightly ones 11.2 s, the longest 23.9 s);
 * soak 120, not measured (a soak runs minutes; its timeout bounds it). */
double ngt_estimate(const scn_manifest *m);
#define NGT_EST_QUICK_S 1.0
#define NGT_EST_NIGHTLY_S 12.0
#define NGT_EST_SOAK_S 120.0

/* Pack the jobs into `shards` shards (1..NGT_SHARDS_MAX): longest
 * first (LPT: Graham 1969, within 4/3 of the best makespan), each onto
 * the least loaded shard (ties: the lowest); the jobs are reordered into
 * plan order (weight descending, then name, then seed) and each gets
 * its shard. Deterministic: the same jobs and weights give the same plan
 * on every machine, so every shard computes the same plan. */
#define NGT_SHARDS_MAX 256u
void ngt_pack(ngt_job *jobs, size_t n, unsigned shards);

/* The expected time of each shard (load[0..shards)), and the largest
 * (the makespan), s. */
double ngt_makespan(const ngt_job *jobs, size_t n, unsigned shards, double *load);

/* Write the plan as JSON ("ek3-nightly-plan/1": format, shards,
 * selection, jobs [{name, path, seed, weight_s, weight_known, shard}])
 * to path. 0 or EK3_EIO naming the file. */
int ngt_plan_write(const char *path, const ngt_job *jobs, size_t n, unsigned shards, const char *selection,
                   char *err, size_t cap);

/* Read a plan back: *jobs (malloc'd), *n, *shards. 0, EK3_EIO, EK3_EPARSE
 * (err names the file and field), EK3_ENOSPC. */
int ngt_plan_read(const char *path, ngt_job **jobs, size_t *n, unsigned *shards, char *err, size_t cap);

/* --- Quarantine ---------------------------------------------------------- */

/* One entry of the quarantine file (scenarios/quarantine.txt):
 *   NAME[@SEED] YYYY-MM-DD reason...
 * '#' starts a comment line; blank lines are skipped. */
typedef struct ngt_qentry {
    char name[64];
    uint64_t seed;
    int any_seed;             /* no @SEED: every seed */
    char expires[11];         /* YYYY-MM-DD, UTC: listed through that day */
    char reason[256];
    unsigned line;
} ngt_qentry;

typedef struct ngt_quarantine {
    char path[512];
    ngt_qentry *e;
    size_t n;
} ngt_quarantine;

/* Parse quarantine text (len bytes; file names it in errors) into *q
 * (zeroed first; ngt_quarantine_free releases it). 0, EK3_EPARSE with
 * err "file:LINE: why" for the first bad line (no date, a bad date, no
 * reason, a bad seed, a name too long, a NUL byte), EK3_ENOSPC. */
int ngt_quarantine_parse(const char *text, size_t len, const char *file, ngt_quarantine *q, char *err, size_t cap);

/* ngt_quarantine_parse of the file at path (EK3_EIO: cannot read it). */
int ngt_quarantine_read(const char *path, ngt_quarantine *q, char *err, size_t cap);

void ngt_quarantine_free(ngt_quarantine *q);

/* The entry for (name, seed): one naming the seed wins over one for
 * every seed; NULL when not listed. */
const ngt_qentry *ngt_quarantine_find(const ngt_quarantine *q, const char *name, uint64_t seed);

/* Mark each run of n listed in q (q may be NULL: none): its reason,
 * expiry, and expired when today ("YYYY-MM-DD", UTC) is after it. */
void ngt_quarantine_apply(const ngt_quarantine *q, ngt_night *n, const char *today);

/* Today, UTC, as YYYY-MM-DD into buf[11]; returns buf. */
const char *ngt_today(char *buf);

/* --- The runner ---------------------------------------------------------- */

typedef struct ngt_opts {
    unsigned jobs;            /* runs at once, processes (0: 1) */
    unsigned threads;         /* per rack when rack{} names none (0: 1) */
    double grace_s;           /* past its timeout, how long before the kill
                                 (0: max(10 s, 25 % of the timeout)) */
    size_t log_cap;           /* bytes of run.log kept (0: 256 KiB) */
    FILE *out;                /* a line per run as it ends (NULL: none) */
    int (*stop)(void);        /* polled: non-zero starts no more runs (NULL: never) */
    const ngt_quarantine *q;  /* NULL: none */
    const char *today;        /* YYYY-MM-DD for the quarantine (NULL: ngt_today) */
} ngt_opts;

/* Test-only hooks, read in each run's child process: EK3_TEST_CRASH=NAME
 * raises SIGSEGV before scenario NAME runs, EK3_TEST_HANG=NAME sleeps
 * forever instead of running it (SIGTERM ignored): the runner's crash
 * and kill paths, tested without a broken engine. Never set them
 * elsewhere. */

/* Run the jobs (plan order) into the night n: n->out (made with its
 * parents) gets runs/NAME/seed-N/ per job (verdict.json and .txt, the
 * captures, run.log), each job in its own child process (pool.h), killed
 * past its manifest timeout plus the grace (NGT_TIMEOUT); a child that
 * dies on a signal or leaves no readable verdict is NGT_CRASHED; both
 * get an ERROR result made from the manifest with why (its verdict.json
 * written so the run reads back like any other). Before a run its
 * directory is removed whole (a night before's files never show as
 * tonight's; one not of the form runs/NAME/seed-N is left, with a note);
 * run directories under OUT/runs/ that are not tonight's are counted in
 * one warning on o->out and left as they are. A stop leaves the runs
 * not started NGT_NOT_RUN (each with its NOTRUN line on o->out).
 * n->rig_version, started, run, nrun, wall_s are set; the caller sets selection and shard_i/shard_n first. The
 * quarantine is applied. 0, or EK3_EIO (the directory, a fork: err says
 * why; the runs that ended are in n), EK3_ENOSPC. */
int ngt_run_night(ngt_night *n, const ngt_job *jobs, size_t njobs, const ngt_opts *o, char *err, size_t cap);

/* One run's line, as `ek3 scenario run` prints it (vrd_line), with
 * "  [quarantined until DATE: reason]" or "  [quarantine expired DATE:
 * reason]" after a listed FAIL or ERROR, and NOT_RUN lines. */
void ngt_line(FILE *f, const ngt_run *r);

/* --- night.json ---------------------------------------------------------- */

/* Write OUT/night.json ("ek3-night/1": format, rig_version, started,
 * selection, shard {i, n}, wall_s, runs [{name, path, seed, shard,
 * weight_s, dir, status ("done", "crashed", "timeout", "not-run"), why,
 * verdict, wall_s, quarantine {reason, expires, expired} | null,
 * scenario {level, tags[], requirements[], gaps[], timeout_s}}]).
 * 0 or EK3_EIO naming the file. */
int ngt_night_write(const ngt_night *n, char *err, size_t cap);

/* Read a night back from out_dir: night.json, and each run's
 * verdict.json (vrd_read) where it has one; a run without one (not run)
 * gets an ERROR result from night.json's scenario fields. n->out is
 * out_dir. 0, EK3_EIO, EK3_EPARSE (err names the file and field),
 * EK3_ENOSPC; n is then empty. */
int ngt_night_read(const char *out_dir, ngt_night *n, char *err, size_t cap);

/* Merge the shards' nights in dirs[0..ndir) into out: their runs/
 * copied into out/runs/, one night (shard 0 of N) in plan order. The
 * shards must carry the same plan (plan.json); a (scenario, seed) in two
 * shards is an error; one of the plan in none is a NOT_RUN run ("no
 * shard ran it"). out/plan.json and out/night.json are written. 0,
 * EK3_EPARSE (plans differ, a duplicate: err says which), EK3_EIO,
 * EK3_ENOSPC. */
int ngt_merge(const char *const *dirs, size_t ndir, const char *out, ngt_night *n, char *err, size_t cap);

/* Make dir and its parents (as mkdir -p). 0 or EK3_EIO with err[cap]
 * naming the part that failed and why ("a/b: Not a directory"; an empty
 * dir: "an empty path"). */
int ngt_mkdirs(const char *dir, char *err, size_t cap);

/* The length of the well-formed UTF-8 character at s (n >= 1 bytes
 * left; RFC 3629: no overlong forms, no surrogates, up to U+10FFFF), or 0
 * (not one, or a NUL). For text a night writes out (night.json, the
 * HTML report), where any byte of a run's text may arrive. */
size_t ngt_utf8_len(const unsigned char *s, size_t n);

#endif /* NGT_H */
