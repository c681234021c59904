/* test_history.c - the nightly history (scenarios/hst.h): the shared
 * fixture (tests/data/nightly-history.jsonl, 10 nights of 21 scenarios)
 * read back with its durations and series; a night appended and read
 * back field by field; a figure pushed past its noise band flagged, one
 * inside it not, the better direction from the limit respected; a
 * verdict or trace that flips with the same seed and script is HST_FLIP,
 * with another script not; a cut last line skipped with a warning (and
 * dropped by the next append), a bad line elsewhere named file:line;
 * a full disk. */
#include <errno.h>
#include <unistd.h>

#include "ek3_err.h"
#include "hst.h"
#include "night_build.h"

#define FIXTURE EK3_SOURCE_DIR "/tests/data/nightly-history.jsonl"

static char dir[64];
static char file[128];

static void setup(void)
{
    nb_mkdir(dir, sizeof dir, "hst");
    snprintf(file, sizeof file, "%s/history.jsonl", dir);
}

static void teardown(void)
{
    nb_rmdir(dir);
}

TestSuite(history, .init = setup, .fini = teardown);

static void load(hst *h, const char *path)
{
    char err[400] = "";
    int rc = hst_load(h, path, err, sizeof err);
    cr_assert_eq(rc, 0, "%d %s", rc, err);
}

/* The whole file at path, malloc'd, its length in *len. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    char *t = malloc(1 << 20);
    cr_assert_not_null(t);
    *len = fread(t, 1, 1 << 20, f);
    fclose(f);
    return t;
}

static void put(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

Test(history, the_fixture_reads_back_with_durations_and_series)
{
    hst h;
    load(&h, FIXTURE);
    cr_assert_eq(h.n, 240);
    cr_assert_str_empty(h.warning);
    cr_assert_str_eq(h.e[0].scenario, "soft-start");
    cr_assert_str_eq(h.e[0].night, "2026-11-21T02:00:00Z");
    cr_assert_eq(h.e[0].verdict, SCN_PASS);
    cr_assert_eq(h.e[0].nfig, 2);
    cr_assert_str_eq(h.e[0].fig[0].limit, "<= 7.5 V");
    cr_assert_eq(strlen(h.e[0].script_sha256), 64);
    double s = 0;
    cr_assert_eq(hst_duration(&h, "ev-session-cc-cv", 1, 0, &s), 1);
    cr_assert(s > 88 && s < 102, "%g", s);
    cr_assert_eq(hst_duration(&h, "hw-trip-ocp", 1, 3, &s), 1);
    cr_assert(s > 0.8 && s < 1.0, "%g", s);
    cr_assert_eq(hst_duration(&h, "ev-session-cc-cv", 2, 0, &s), 0);
    cr_assert_eq(hst_duration(&h, "no-such", 1, 0, &s), 0);

    const char *night[16];
    double v[16];
    size_t k = hst_series(&h, "load-step", 2, "dip", 16, night, v);
    cr_assert_eq(k, 10);
    cr_assert_str_eq(night[0], "2026-11-21T02:00:00Z");
    cr_assert_str_eq(night[9], "2026-11-30T02:00:00Z");
    for (size_t i = 0; i < k; i++)
        cr_assert(v[i] > 15 && v[i] < 21, "%zu %g", i, v[i]);
    k = hst_series(&h, "load-step", 2, "dip", 3, night, v);
    cr_assert_eq(k, 3);
    cr_assert_str_eq(night[0], "2026-11-28T02:00:00Z");
    cr_assert_str_eq(night[2], "2026-11-30T02:00:00Z");
    k = hst_series(&h, "load-step", 2, "no such figure", 16, night, v);
    cr_assert_eq(k, 10);
    cr_assert(isnan(v[4]));
    cr_assert_eq(hst_series(&h, "load-step", 9, "dip", 16, night, v), 0);
    hst_free(&h);
}

Test(history, a_night_appended_reads_back_field_by_field)
{
    ngt_night n;
    nb_night(&n, dir, "2026-12-01T02:00:00Z");
    ngt_run *r = nb_run(&n, "svc-crash-restart", 3, NGT_DONE, SCN_FAIL, 2.5, "EK-TECH-010 8.5", 0x22, 0xb3);
    nb_fig(r, "crashed", NAN, "", "true", 1, 1.0, "s.lua:9");
    nb_fig(r, "restart time", 62.5, "ms", "<= 50 ms", 0, 1.2, "s.lua:14");
    nb_run(&n, "hw-trip-ocp", 1, NGT_CRASHED, SCN_ERROR, 0.75, "", 0, 0);
    nb_run(&n, "ev-session", 1, NGT_NOT_RUN, SCN_ERROR, 0, "", 0, 0);
    char err[300] = "";
    cr_assert_eq(hst_append(file, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(hst_append(file, &n, err, sizeof err), 0, "%s", err);
    hst h;
    load(&h, file);
    cr_assert_eq(h.n, 4, "the run not run has no line");
    hst_entry *e = &h.e[0];
    cr_assert_str_eq(e->night, "2026-12-01T02:00:00Z");
    cr_assert_str_eq(e->rig_version, "0.4.0+test");
    cr_assert_str_eq(e->scenario, "svc-crash-restart");
    cr_assert_str_eq(e->path, "scenarios/svc-crash-restart.lua");
    cr_assert_str_eq(e->script_sha256, "2222222222222222222222222222222222222222222222222222222222222222");
    cr_assert_str_eq(e->trace_sha256, "b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3");
    cr_assert_eq(e->seed, 3);
    cr_assert_eq(e->verdict, SCN_FAIL);
    cr_assert_float_eq(e->wall_s, 2.5, 1e-12);
    cr_assert_eq(e->nfig, 2);
    cr_assert(isnan(e->fig[0].value));
    cr_assert_str_eq(e->fig[0].limit, "true");
    cr_assert(e->fig[0].pass);
    cr_assert_str_eq(e->fig[1].name, "restart time");
    cr_assert_float_eq(e->fig[1].value, 62.5, 1e-12);
    cr_assert_str_eq(e->fig[1].unit, "ms");
    cr_assert(!e->fig[1].pass);
    e = &h.e[1];
    cr_assert_str_eq(e->scenario, "hw-trip-ocp");
    cr_assert_eq(e->verdict, SCN_ERROR);
    cr_assert_str_empty(e->script_sha256);
    cr_assert_float_eq(e->wall_s, 0.75, 1e-12);
    hst_free(&h);
    ngt_night_free(&n);
}

/* Tonight's night: one run of scenario/seed with one figure. */
static ngt_night one(const char *scenario, uint64_t seed, const char *figure, double value, const char *unit,
                     const char *limit, int pass)
{
    ngt_night n;
    nb_night(&n, dir, "2026-12-01T02:00:00Z");
    ngt_run *r = nb_run(&n, scenario, seed, NGT_DONE, pass ? SCN_PASS : SCN_FAIL, 3, "", 0x77, 0x78);
    nb_fig(r, figure, value, unit, limit, pass, 1, "x.lua:1");
    return n;
}

/* The drift flags of tonight against the fixture. */
static int drifts(const hst *h, const char *scenario, const char *figure, double value, const char *unit,
                  const char *limit, int pass, hst_flag *first)
{
    ngt_night n = one(scenario, 1, figure, value, unit, limit, pass);
    hst_flag *f = NULL;
    int k = hst_analyse(h, &n, 30, &f);
    cr_assert_geq(k, 0);
    for (int i = 0; i < k; i++)
        cr_assert_eq(f[i].kind, HST_DRIFT, "%s", f[i].text);
    if (k && first)
        *first = f[0];
    free(f);
    ngt_night_free(&n);
    return k;
}

Test(history, a_figure_past_its_band_is_flagged_inside_it_not_by_its_better_direction)
{
    hst h;
    load(&h, FIXTURE);
    /* recovery time "<= 50 ms": about 21 +- 0.8 ms over ten nights */
    hst_flag f;
    cr_assert_eq(drifts(&h, "load-step", "recovery time", 29.0, "ms", "<= 50 ms", 1, &f), 1);
    cr_assert_str_eq(f.scenario, "load-step");
    cr_assert_eq(f.seed, 1);
    cr_assert_str_eq(f.figure, "recovery time");
    cr_assert_float_eq(f.value, 29.0, 1e-12);
    cr_assert(f.median > 20 && f.median < 22, "%g", f.median);
    cr_assert(f.band > 0.2 && f.band < 8 - 0.01, "%g", f.band);
    cr_assert(!strncmp(f.text, "recovery time = 29 ms drifted up: median 2", 42) &&
                  strstr(f.text, " ms over the last 10 nights, band ") && strstr(f.text, " ms (limit <= 50 ms;"),
              "each number with its unit: %s", f.text);
    cr_assert(strstr(f.text, "still passes"), "%s", f.text);
    cr_assert_eq(drifts(&h, "load-step", "recovery time", 21.3, "ms", "<= 50 ms", 1, NULL), 0);
    /* smaller is better for "<=": much smaller is not a drift */
    cr_assert_eq(drifts(&h, "load-step", "recovery time", 5.0, "ms", "<= 50 ms", 1, NULL), 0);
    /* delivered power ">= 200 kW", 200.4 +- 0.1 (its band the 1 % floor, 2 kW): lower is worse */
    cr_assert_eq(drifts(&h, "sparing-84", "delivered power", 197.0, "kW", ">= 200 kW", 0, &f), 1);
    cr_assert(strstr(f.text, "drifted down") && strstr(f.text, "fails"), "%s", f.text);
    cr_assert_eq(drifts(&h, "sparing-84", "delivered power", 203.0, "kW", ">= 200 kW", 1, NULL), 0);
    cr_assert_eq(drifts(&h, "sparing-84", "delivered power", 200.45, "kW", ">= 200 kW", 1, NULL), 0);
    /* no direction in the limit, or no history of that figure: no drift check */
    cr_assert_eq(drifts(&h, "load-step", "recovery time", 90.0, "ms", "between 0 and 100", 1, NULL), 0);
    cr_assert_eq(drifts(&h, "load-step", "new figure", 90.0, "ms", "<= 100 ms", 1, NULL), 0);
    /* a figure that never moved: its band is its 1 % floor */
    cr_assert_eq(drifts(&h, "forged-replayed-cmd", "refused", 2.0, "", ">= 3", 0, NULL), 1);
    cr_assert_eq(drifts(&h, "forged-replayed-cmd", "refused", 3.0, "", ">= 3", 1, NULL), 0);
    hst_free(&h);
}

Test(history, fewer_than_five_past_values_flag_nothing)
{
    hst h;
    load(&h, FIXTURE);
    /* keep the first four nights only (24 entries a night) */
    for (size_t i = 4 * 24; i < h.n; i++)
        free(h.e[i].fig);
    h.n = 4 * 24;
    cr_assert_eq(drifts(&h, "load-step", "recovery time", 40.0, "ms", "<= 50 ms", 1, NULL), 0);
    hst_free(&h);
    load(&h, FIXTURE);
    h.n = 5 * 24; /* the rest still freed: hst_free frees up to n */
    for (size_t i = 5 * 24; i < 240; i++)
        free(h.e[i].fig);
    cr_assert_eq(drifts(&h, "load-step", "recovery time", 40.0, "ms", "<= 50 ms", 1, NULL), 1);
    hst_free(&h);
}

/* Flags of tonight (verdict, script, trace) against one night of the
 * same scenario and seed: PASS, script 0x11, trace 0xa1. */
static int flips(int status, int verdict, uint8_t script, uint8_t trace, hst_flag *first)
{
    ngt_night past;
    nb_night(&past, dir, "2026-11-30T02:00:00Z");
    nb_run(&past, "bus-off-recovery", 4, NGT_DONE, SCN_PASS, 3, "", 0x11, 0xa1);
    nb_run(&past, "other", 4, NGT_DONE, SCN_FAIL, 3, "", 0x11, 0xa1);
    char err[300];
    unlink(file);
    cr_assert_eq(hst_append(file, &past, err, sizeof err), 0, "%s", err);
    ngt_night_free(&past);
    hst h;
    load(&h, file);
    ngt_night n;
    nb_night(&n, dir, "2026-12-01T02:00:00Z");
    nb_run(&n, "bus-off-recovery", 4, status, verdict, 3, "", script, trace);
    nb_run(&n, "bus-off-recovery", 5, NGT_DONE, SCN_FAIL, 3, "", 0x11, 0xa1); /* another seed: no past */
    hst_flag *f = NULL;
    int k = hst_analyse(&h, &n, 30, &f);
    cr_assert_geq(k, 0);
    for (int i = 0; i < k; i++)
        cr_assert_eq(f[i].kind, HST_FLIP, "%s", f[i].text);
    if (k && first)
        *first = f[0];
    free(f);
    ngt_night_free(&n);
    hst_free(&h);
    return k;
}

Test(history, a_verdict_that_flips_with_the_same_seed_and_script_is_nondeterminism)
{
    hst_flag f;
    cr_assert_eq(flips(NGT_DONE, SCN_FAIL, 0x11, 0xa2, &f), 1);
    cr_assert_str_eq(f.scenario, "bus-off-recovery");
    cr_assert_eq(f.seed, 4);
    cr_assert_str_eq(f.text, "the same script and seed gave PASS on "
                             "2026-11-30T02:00:00Z and FAIL tonight");
    /* the same verdict with another trace is a flip too */
    cr_assert_eq(flips(NGT_DONE, SCN_PASS, 0x11, 0xa2, &f), 1);
    cr_assert(strstr(f.text, "gave trace a1a1a1a1a1a1 on 2026-11-30T02:00:00Z and a2a2a2a2a2a2 tonight (both PASS)"),
              "%s", f.text);
    /* the same verdict and trace: nothing */
    cr_assert_eq(flips(NGT_DONE, SCN_PASS, 0x11, 0xa1, NULL), 0);
    /* another script: a change, not nondeterminism */
    cr_assert_eq(flips(NGT_DONE, SCN_FAIL, 0x12, 0xa2, NULL), 0);
    /* a crash without a script hash is an error of its own, not compared */
    cr_assert_eq(flips(NGT_CRASHED, SCN_ERROR, 0, 0, NULL), 0);
    cr_assert_eq(flips(NGT_NOT_RUN, SCN_ERROR, 0x11, 0, NULL), 0);
}

Test(history, a_cut_last_line_is_skipped_with_a_warning_and_dropped_by_the_next_append)
{
    size_t len;
    char *text = slurp(FIXTURE, &len);
    /* the last line cut in the middle: a night killed while appending */
    size_t cut = len - 200;
    put(file, text, cut);
    hst h;
    load(&h, file);
    cr_assert_eq(h.n, 239);
    char want[200];
    snprintf(want, sizeof want, "%s:240: the last line is cut short", file);
    cr_assert(strstr(h.warning, want), "%s", h.warning);
    hst_free(&h);
    /* a whole last entry without its newline is read */
    put(file, text, len - 1);
    load(&h, file);
    cr_assert_eq(h.n, 240);
    cr_assert_str_empty(h.warning);
    hst_free(&h);
    /* the next night appended after a cut line: the cut line goes */
    put(file, text, cut);
    ngt_night n = one("load-step", 1, "dip", 18, "V", "<= 30 V", 1);
    char err[300] = "";
    cr_assert_eq(hst_append(file, &n, err, sizeof err), 0, "%s", err);
    load(&h, file);
    cr_assert_eq(h.n, 240);
    cr_assert_str_empty(h.warning);
    cr_assert_str_eq(h.e[239].night, "2026-12-01T02:00:00Z");
    hst_free(&h);
    /* and after a whole line without its newline: it stays */
    put(file, text, len - 1);
    cr_assert_eq(hst_append(file, &n, err, sizeof err), 0, "%s", err);
    load(&h, file);
    cr_assert_eq(h.n, 241);
    hst_free(&h);
    ngt_night_free(&n);
    free(text);
}

/* hst_parse of text must fail naming want. */
static void bad(const char *text, const char *want)
{
    hst h = {0};
    char err[400] = "";
    int rc = hst_parse(&h, text, strlen(text), "h.jsonl", err, sizeof err);
    cr_assert_eq(rc, EK3_EPARSE, "%d for %s", rc, text);
    cr_assert(strstr(err, want), "'%s' lacks '%s'", err, want);
    cr_assert_eq(h.n, 0);
    cr_assert_null(h.e);
}

#define GOOD                                                                                                           \
    "{\"format\":\"ek3-history/1\",\"night\":\"N\",\"scenario\":\"s\",\"seed\":1,\"verdict\":\"PASS\","                 \
    "\"wall_s\":1,\"figures\":[]}\n"

Test(history, a_bad_line_elsewhere_names_file_line_and_why)
{
    bad(GOOD "{\"format\":\"ek3-history/1\"\n" GOOD, "h.jsonl:2: not JSON");
    bad(GOOD GOOD "[1]\n", "h.jsonl:3: not a JSON object");
    bad("{\"format\":\"ek3-history/2\"}\n", "h.jsonl:1: format: \"ek3-history/2\", not \"ek3-history/1\"");
    bad(GOOD "\n  \n{\"format\":\"ek3-history/1\",\"night\":\"N\",\"scenario\":\"s\",\"seed\":-1}\n",
        "h.jsonl:4: seed: not a whole number >= 0");
    bad("{\"format\":\"ek3-history/1\",\"night\":\"N\",\"scenario\":\"s\",\"seed\":1,\"verdict\":\"MAYBE\"}\n",
        "h.jsonl:1: verdict: \"MAYBE\", not PASS, FAIL or ERROR");
    bad("{\"format\":\"ek3-history/1\",\"night\":\"N\",\"seed\":1}\n", "h.jsonl:1: scenario: missing");
    bad("{\"format\":\"ek3-history/1\",\"night\":\"N\",\"scenario\":\"s\",\"seed\":1,\"verdict\":\"PASS\","
        "\"wall_s\":-2}\n",
        "h.jsonl:1: wall_s: not a number of seconds >= 0");
    bad("{\"format\":\"ek3-history/1\",\"night\":\"N\",\"scenario\":\"s\",\"seed\":1,\"verdict\":\"PASS\","
        "\"wall_s\":1,\"figures\":[{\"name\":\"f\",\"value\":\"x\",\"pass\":true}]}\n",
        "h.jsonl:1: figures[0].value: not a number or null");
    bad("{\"format\":\"ek3-history/1\",\"night\":\"N\",\"scenario\":\"s\",\"seed\":1,\"verdict\":\"PASS\","
        "\"wall_s\":1,\"trace_sha256\":\"abc\",\"figures\":[]}\n",
        "h.jsonl:1: trace_sha256: not 64 hexadecimal digits");
    bad("{\"format\":\"ek3-history/1\",\"night\":\"N\",\"scenario\":\"s\",\"seed\":1,\"seed\":2}\n",
        "h.jsonl:1: not JSON: duplicate object key");
    /* a bad last line that ends with its newline is a bad line, not a cut one */
    bad(GOOD "{\"format\":\n", "h.jsonl:2: not JSON");
    /* a whole last line (no newline) that is JSON but wrong: an error, not a cut */
    bad(GOOD "{\"format\":\"x\"}", "h.jsonl:2: format");
    hst h = {0};
    char err[300];
    cr_assert_eq(hst_parse(&h, GOOD GOOD "\n", strlen(GOOD GOOD "\n"), "h.jsonl", err, sizeof err), 0, "%s", err);
    cr_assert_eq(h.n, 2);
    cr_assert_eq(h.e[1].nfig, 0);
    hst_free(&h);
}

Test(history, an_absent_file_is_empty_and_an_unreadable_one_eio)
{
    hst h;
    char p[200], err[300] = "";
    snprintf(p, sizeof p, "%s/none.jsonl", dir);
    cr_assert_eq(hst_load(&h, p, err, sizeof err), 0);
    cr_assert_eq(h.n, 0);
    cr_assert_eq(hst_load(&h, dir, err, sizeof err), EK3_EIO, "a directory");
    cr_assert(strstr(err, dir), "%s", err);
    /* a device that never ends is refused at once, not read into memory */
    cr_assert_eq(hst_load(&h, "/dev/zero", err, sizeof err), EK3_EPARSE);
    cr_assert(strstr(err, "/dev/zero: a NUL byte at byte 0"), "%s", err);
    cr_assert_eq(hst_load(&h, "/dev/null", err, sizeof err), 0, "an empty history");
    cr_assert_eq(h.n, 0);
}

Test(history, a_write_error_is_eio_naming_the_file)
{
    if (access("/dev/full", W_OK))
        cr_skip_test("no /dev/full");
    ngt_night n = one("load-step", 1, "dip", 18, "V", "<= 30 V", 1);
    char err[300] = "";
    int rc = hst_append("/dev/full", &n, err, sizeof err);
    cr_assert_eq(rc, EK3_EIO, "%d %s", rc, err);
    cr_assert(strstr(err, "/dev/full: write error: No space left on device"), "%s", err);
    char p[200];
    snprintf(p, sizeof p, "%s/no/such/h.jsonl", dir);
    cr_assert_eq(hst_append(p, &n, err, sizeof err), EK3_EIO);
    cr_assert(strstr(err, p), "%s", err);
    ngt_night_free(&n);
}

/* A figure is the same from night to night whatever numbers its name
 * carries (a check's reference or the worst module's slot); names that
 * differ elsewhere are not. */
Test(history, figure_names_match_but_for_their_numbers)
{
    cr_assert(hst_same_figure("dip depth below 749.2 V", "dip depth below 748.93 V"));
    cr_assert(hst_same_figure("max deviation from the mean (module 5)", "max deviation from the mean (module 61)"));
    cr_assert(hst_same_figure("largest shortfall (at 0.5 s)", "largest shortfall (at 1e-3 s)"));
    cr_assert(hst_same_figure("restart time", "restart time"));
    cr_assert_not(hst_same_figure("dip depth below 749 V", "dip depth below 749 A"));
    cr_assert_not(hst_same_figure("restart time", "restart time of THERMAL_MGR"));
    cr_assert_not(hst_same_figure("module 5 current", "module current"));
}
