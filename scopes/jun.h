/*
 * jun.h - a night as JUnit XML (prefix jun_), the file CI systems read
 * (Jenkins' JUnit and xUnit plugins, GitLab's test report, junitparser).
 * Written with libxml2's xmlTextWriter; valid against the Jenkins xUnit
 * JUnit schema (shared/schemas/junit.xsd, junit-10.xsd of the plugin).
 *
 * The layout (docs/nightly.md, "The JUnit file"):
 *   <testsuites name="ek3 nightly" tests failures errors time>
 *     one <testsuite> per run (scenario and seed), name "NAME seed N",
 *       tests="1" failures errors skipped time timestamp file, holding
 *       <properties> (the schema puts properties on a testsuite only):
 *         scenario, seed, rig_version, verdict, status, trace_sha256,
 *         script_sha256, level, tags, requirement (one each), gap (one
 *         each), evidence (the run's directory), quarantine (when listed)
 *       and one <testcase classname="NAME" name="seed N" time>:
 *         PASS: nothing inside but system-out;
 *         FAIL: <failure type="FAIL" message="CHECK = FIGURE UNIT, limit
 *               LIMIT (t=T s, file:line)"> every check as text </failure>
 *         ERROR, crashed, timed out: <error type="ERROR"|"CRASHED"|
 *               "TIMEOUT" message="why">;
 *         a FAIL or ERROR of a quarantined (listed, unexpired) scenario:
 *               <skipped type="quarantined" message="quarantined until
 *               DATE: REASON; FAIL: ..."> (a CI system does not fail on
 *               it); an expired entry stays a failure or error whose
 *               message begins "quarantine expired DATE (REASON): ";
 *         not run (the night stopped, or no shard of a merge ran it):
 *               <error type="NOTRUN" message="not run: WHY"> (an
 *               incomplete night is never green);
 *         <system-out>: the run's verdict.txt, at most JUN_OUT_MAX bytes
 *               (then a "... cut" line); <system-err>: the run's run.log
 *               (its last JUN_OUT_MAX bytes) for a run that did not pass.
 * The counts are those of ngt_count_night: failures = failed, errors =
 * errors + not run, skipped = quarantined (the schema has no skipped on
 * <testsuites>; each <testsuite> has it). Times are wall seconds with
 * three decimals ("12.345", the schema's SUREFIRE_TIME). Text from a
 * run (an error message can hold anything) is made legal XML: bytes
 * that are not UTF-8 and control characters XML 1.0 forbids are written
 * as "\xNN".
 */
#ifndef JUN_H
#define JUN_H

#include <stddef.h>

#include "ngt.h"

#define JUN_OUT_MAX (64u << 10)  /* bytes of verdict.txt / run.log per testcase */

/* Write the night n as JUnit XML to path (made or replaced). 0, or
 * EK3_EIO with err naming path and the system's reason (a full disk, a
 * missing directory), or EK3_ENOSPC (memory). An empty night is a valid
 * file with tests="0". */
int jun_write(const char *path, const ngt_night *n, char *err, size_t cap);

/* The testcase's failure message of a FAIL result: its first failed
 * check as "CHECK = FIGURE UNIT, limit LIMIT (t=T s, file:line)"
 * ("CHECK: false, limit ..." for a check without a figure), into
 * buf[cap]; for ERROR its error text. Returns buf. */
const char *jun_fail_message(const scn_result *r, char *buf, size_t cap);

#endif /* JUN_H */
