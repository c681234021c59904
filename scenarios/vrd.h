/*
 * vrd.h - a scenario run's verdict on disk (prefix vrd_): verdict.json
 * (read by `ek3 scenario replay` and the nightly report) and
 * verdict.txt (for a person), written with jansson.
 *
 * verdict.json, format "ek3-verdict/1" (docs/scenarios.md has every field):
 *   { "format", "rig_version", "verdict": "PASS"|"FAIL"|"ERROR"|"INTERRUPTED"
 *     (a stop, Ctrl-C, cut the run: no verdict; read back as ERROR with
 *     scn_result.stopped), "error",
 *     "scenario": {path, name, level, tags[], requirements[], timeout_s},
 *     "seed", "threads", "rack": {modules, flags},
 *     "checks": [{name, value|null, unit, limit, pass, t_s, where, plot (only when
 *                the check drew one: its file in the report directory)}],
 *     "first_failed": index|null,
 *     "faults": [{spec, where, at_s|null, onset_s|null, clear_s|null, cleared_s|null, error}],
 *     "trace": {sha256, rows, block_rows, columns[], blocks[{rows_end, t0_s,
 *               t1_s, sha256, columns}]}, "sim_s", "wall_s", "init_s" }
 *   scenario.sha256: the scenario file's SHA-256 as run; trace.blocks: see
 *   scn_block ("columns": 8 hexadecimal digits per trace column).
 */
#ifndef VRD_H
#define VRD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scn.h"

/* The rig's version: the project version and the git commit it was built from. */
extern const char vrd_rig_version[];

/* Write r as verdict.json into f. 0, or EK3_EIO (a write error), EK3_ENOSPC. */
int vrd_json(FILE *f, const scn_result *r);

/* Write r as text (the manifest, every check with its figure and limit,
 * the fault schedule, the trace hash) into f. 0 or EK3_EIO. */
int vrd_text(FILE *f, const scn_result *r);

/* Write dir/verdict.json and dir/verdict.txt. 0, or EK3_EIO with err
 * naming the file and the system's reason. */
int vrd_write(const char *dir, const scn_result *r, char *err, size_t cap);

/* One verdict line, as `ek3 scenario run` and `ek3 nightly` print it:
 * "PASS   NAME seed N ...", "FAIL   NAME seed N at T s: CHECK = FIGURE,
 * limit LIMIT (file:line)" (the first failed check; then "; N more
 * checks failed: NAME (file:line), ..." naming up to three others, each
 * name cut at 60 characters, "and N more, in verdict.txt" for the rest),
 * "ERROR  NAME seed
 * N why", or for a run a stop cut (scn_result.stopped) "NOTRUN NAME seed
 * N stopped while it ran, at T s simulated: no verdict", ended by a
 * newline. Write errors are the caller's (ferror). */
void vrd_line(FILE *f, const scn_result *r);

/* Run the scenario file at path with o (o->report_dir: its evidence
 * directory, made by the caller, or NULL) and, with a directory, write
 * its verdict.json and verdict.txt there; its vrd_line into line[cap]
 * (a verdict that could not be written: a second ERROR line naming the
 * file). The one run of `ek3 scenario run` and of each `ek3 nightly`
 * child. Returns the verdict (SCN_ERROR when it was not written), or
 * VRD_STOPPED for a run o->stop cut (its verdict.json says ERROR). */
#define VRD_STOPPED 3
int vrd_run(const char *path, const scn_opts *o, char *line, size_t cap);

/* Read verdict.json text (len bytes, named file in errors) into *r,
 * which scn_result_free releases: the manifest's path, name and the
 * file's SHA-256, the seed, threads, checks and first failure, the fault
 * schedule, the trace hash, columns and blocks. 0, or EK3_EPARSE with
 * err naming the file and the field and why, e.g. "v.json: seed: not a
 * whole number", "v.json:3:5: not JSON: ..." (r is then empty). */
int vrd_parse(const char *text, size_t len, const char *file, scn_result *r, char *err, size_t cap);

/* vrd_parse of the file at path. 0, EK3_EPARSE, or EK3_EIO (cannot read:
 * err names the file and the system's reason). */
int vrd_read(const char *path, scn_result *r, char *err, size_t cap);

/* SHA-256 (FIPS 180-4) of the file at path's bytes. 0 or EK3_EIO. */
int vrd_file_sha256(const char *path, uint8_t out[32], char *err, size_t cap);

/* Whether figure names a and b (scn_fig.name) are one check's: the
 * check's own name (up to the first ": ") equal, and what it measured
 * equal but for the numbers the check wrote into it (hst_same_figure:
 * within()'s "out first at 1.0016 s (740.4 V), 7985 samples out; worst"
 * moves with the fault that put the signal out). 1 or 0. */
int vrd_same_check(const char *a, const char *b);

/* Whether two results have the same verdict and, for FAIL, the same
 * first failed check (its name, the numbers a check writes into what it
 * measured aside: hst_same_figure; and where; line_only: the line number
 * of where alone, for a copy of the file), for ERROR the same message.
 * (vrd_compare, a replay, asks the failed figure's whole name too.) */
int vrd_same_failure(const scn_result *a, const scn_result *b, int line_only);

typedef struct vrd_compare_in {
    const scn_result *want;   /* the verdict read back */
    const scn_result *got;    /* the run again */
} vrd_compare_in;

/* Tell out whether got has want's verdict, first failure, fault
 * schedule (each fault's text, fault() call, onset, clearing and error,
 * in call order; the faults that differ are named) and trace (rows and
 * SHA-256); where the traces differ, the first block boundary
 * both have whose prefix hashes differ gives the rows and simulated
 * times where they diverged, and the columns whose fingerprints differ
 * there are named. Returns 0 (the same) or 1 (diverged). */
int vrd_compare(FILE *out, const vrd_compare_in *in);

#endif /* VRD_H */
