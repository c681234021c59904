/*
 * vrd.h - a scenario run's verdict on disk (prefix vrd_): verdict.json
 * (read by `ek3 scenario replay` and the nightly report) and
 * verdict.txt (for a person), written with jansson.
 *
 * verdict.json, format "ek3-verdict/1" (docs/scenarios.md has every field):
 *   { "format", "rig_version", "verdict": "PASS"|"FAIL"|"ERROR", "error",
 *     "scenario": {path, name, level, tags[], requirements[], timeout_s},
 *     "seed", "threads", "rack": {modules, flags},
 *     "checks": [{name, value|null, unit, limit, pass, t_s, where}],
 *     "first_failed": index|null,
 *     "faults": [{spec, where, at_s|null, onset_s|null, clear_s|null, cleared_s|null, error}],
 *     "trace": {sha256, rows}, "sim_s", "wall_s", "init_s" }
 */
#ifndef VRD_H
#define VRD_H

#include <stddef.h>
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

#endif /* VRD_H */
