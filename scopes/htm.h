/*
 * htm.h - the nightly's HTML report (prefix htm_): one static page a
 * person reads over coffee, OUT/report/index.html, with its plots as
 * SVG files beside it (OUT/report/svg/), drawn with libplot through
 * splot.h. HTML5 with inline CSS: no JavaScript, nothing fetched from
 * the network, valid UTF-8, every text from a scenario escaped (a
 * scenario's error may hold anything: markup, quotes, control bytes,
 * invalid UTF-8).
 *
 * The page, top to bottom (docs/nightly.md, "The HTML report"):
 *   - the summary: claims held of claims, runs passed / failed / errors /
 *     quarantined / expired / not run, the rig version, the night's start,
 *     the shard and the selection; the claims the rig cannot hold (each
 *     scenario's gaps, "claim: why"); the history's flags, nondeterminism
 *     (HST_FLIP) apart from drift (HST_DRIFT);
 *   - the failures, first: each FAIL or ERROR with its first failed check
 *     (figure, limit, simulated time, file:line) or its error;
 *   - every run, failures first (FAIL/ERROR, then quarantined ones, then
 *     those not run, then PASS), each with its verdict, a table of every
 *     check's figure against its limit, the fault schedule, plots of its
 *     key signals (OUT/RUN_DIR/keys.csv, one chart per unit), each figure's
 *     trend over the last HTM_TREND_NIGHTS nights of the history plus
 *     tonight when there are at least 2 points, the exact replay command
 *     (`ek3 scenario replay OUT/RUN_DIR/verdict.json`), and links to its
 *     verdict.json, verdict.txt, run.log, keys.csv and captures.
 * Links are relative ("../RUN_DIR/FILE", so `dir` is OUT/report) and only
 * to files that exist when the page is written; a run's dir must be a
 * relative path without "..": another gets no links.
 */
#ifndef HTM_H
#define HTM_H

#include <stddef.h>
#include <stdio.h>

#include "hst.h"
#include "ngt.h"

#define HTM_TREND_NIGHTS 30u  /* past nights a trend shows at most */

/* Write dir/index.html and dir/svg/ (made if absent; dir's parent must
 * exist) for the night n. h (the history; NULL: none) gives the trends,
 * tonight's figures added unless h's last night for the run is n->started; flags (nflags of them; NULL when 0) come from
 * hst_analyse. A run's keys.csv that is absent is said on the page; one
 * that cannot be read is said with its error (the page is still written).
 * Returns 0, or EK3_EINVAL (NULL dir or n), EK3_EIO (a directory or a
 * file that cannot be made or written, err naming it and why),
 * EK3_ENOSPC (memory). */
int htm_write(const char *dir, const ngt_night *n, const hst *h, const hst_flag *flags, size_t nflags, char *err,
              size_t cap);

/* The text s (n bytes) escaped for HTML text and attribute values into
 * f: & < > " ' as entities; control bytes other than tab and newline as
 * U+FFFD; a byte sequence that is not valid UTF-8 (overlong, surrogate,
 * past U+10FFFF, cut short) as U+FFFD per bad byte. */
void htm_escape(FILE *f, const char *s, size_t n);

#endif /* HTM_H */
