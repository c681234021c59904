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
    double weight_s;          /* expected wall time: the history's median for
                                 (name, seed), else an estimate from the
                                 manifest (its level and timeout) */
    int weight_known;         /* weight_s comes from the history */
    unsigned shard;           /* 1..N */
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
    char started[32];         /* UTC, ISO 8601: "2026-12-01T02:00:00Z" */
    char selection[512];      /* the selection as given: "--level quick --tag can" */
    unsigned shard_i, shard_n; /* this shard, of how many (1, 1 when not sharded;
                                 0, N for a merge of N shards) */
    ngt_run *run;             /* in plan order */
    size_t nrun;
    double wall_s;
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
    unsigned claims_hold;     /* ... every run tagged with it passed */
    unsigned gaps;            /* distinct gaps the scenarios name */
} ngt_count;

void ngt_count_night(const ngt_night *n, ngt_count *c);

/* Whether the night passes: no failure or error outside the quarantine,
 * no expired entry that failed, nothing left not run. */
int ngt_night_ok(const ngt_night *n);

/* Release what a night holds (its runs' results); n is then empty. */
void ngt_night_free(ngt_night *n);

#endif /* NGT_H */
