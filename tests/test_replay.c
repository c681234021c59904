/* test_replay.c - `ek3 scenario replay` and `ek3 scenario shrink`, run as
 * the user runs them: a verdict replays to the same trace hash (with 1
 * and 2 threads); an edited scenario is refused, and forced, diverges
 * where the edit took effect; a verdict with a corrupted trace says
 * DIVERGED and names the rows and the column; a bad verdict file is
 * exit 2 naming the field; shrink turns five faults into the one that
 * fails the check and writes a scenario that fails it; a kept fault is
 * moved later and made smaller. */
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"

CLI_RUN_SUITE(replay, "ek3-replay");

static char out[16384];

static void write_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f, "%s", p);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* A 2.5 s run of 4 modules, a pull at 1.5 s: three trace blocks. */
static const char *const LONG = "scenario{ name='long', seeds={5} }\n"
                                "rack{ modules=4, load='8kW', load_at='0.2s', load_ramp='20ms' }\n"
                                "fault('pull', 3, { at='1.5s' })\n"
                                "run('2.5s')\n"
                                "expect(get('rack.present') == 3, 'the pull took')\n";

/* Run the scenario at p with --report into the test folder; the verdict's path. */
static const char *record(const char *p, const char *name, unsigned seed, int want_rc)
{
    int rc = run(out, sizeof out, "%s scenario run %s --report %s", EK3_BIN, p, dir);
    cr_assert_eq(rc, want_rc, "run: %d\n%s", rc, out);
    static char v[256];
    snprintf(v, sizeof v, "%s/%s/seed-%u/verdict.json", dir, name, seed);
    return v;
}

Test(replay, a_verdict_replays_to_the_same_trace_with_one_or_two_threads)
{
    write_file(path("long.lua"), LONG);
    const char *v = record(path("long.lua"), "long", 5, 0);
    int rc = run(out, sizeof out, "%s scenario replay %s", EK3_BIN, v);
    cr_assert_eq(rc, 0, "%d\n%s", rc, out);
    cr_assert(strstr(out, "with 1 thread:"), "%s", out);
    cr_assert(strstr(out, "trace: 2501 rows"), "%s", out);
    cr_assert(strstr(out, "as recorded\nSAME"), "%s", out);
    rc = run(out, sizeof out, "%s scenario replay %s --threads 2", EK3_BIN, v);
    cr_assert_eq(rc, 0, "%d\n%s", rc, out);
    cr_assert(strstr(out, "with 2 threads (recorded with another number)"), "%s", out);
    /* the run's folder, as --report made it, stands for its verdict.json */
    rc = run(out, sizeof out, "%s scenario replay %s/long/seed-5", EK3_BIN, dir);
    cr_assert_eq(rc, 0, "%d\n%s", rc, out);
    cr_assert(strstr(out, "as recorded\nSAME"), "%s", out);
    cr_assert(strstr(out, "\nfaults: 1, as recorded\n"), "%s", out);
    /* shrink takes a FAIL verdict: said first, whatever lies where it would write */
    write_file(path("long-shrunk.lua"), "-- a file in the way\n");
    rc = run(out, sizeof out, "%s scenario shrink %s", EK3_BIN, v);
    cr_assert_eq(rc, 2, "%d\n%s", rc, out);
    cr_assert(strstr(out, "the verdict is PASS: shrink takes a FAIL verdict") && !strstr(out, "exists"), "%s", out);
}

/* A run that ended in an ERROR before it built its rack (no threads, no
 * trace) writes a verdict that replays: the same ERROR, SAME. */
Test(replay, an_error_before_the_rack_replays)
{
    write_file(path("early.lua"), "scenario{ name='early', seeds={1} }\nrack{ modules=2, laod=3 }\n");
    const char *v = record(path("early.lua"), "early", 1, 2);
    int rc = run(out, sizeof out, "%s scenario replay %s", EK3_BIN, v);
    cr_assert_eq(rc, 0, "%d\n%s", rc, out);
    cr_assert(strstr(out, "verdict: ERROR, as recorded") && strstr(out, "unknown field 'laod'"), "%s", out);
    cr_assert(strstr(out, "trace: 0 rows") && strstr(out, "SAME"), "%s", out);
}

Test(replay, an_edited_scenario_is_refused_and_forced_diverges_where_the_edit_took_effect)
{
    write_file(path("long.lua"), LONG);
    const char *v = record(path("long.lua"), "long", 5, 0);
    char edited[512];
    snprintf(edited, sizeof edited, "%s", LONG);
    char *at = strstr(edited, "1.5s");
    at[2] = '6'; /* the pull at 1.6 s */
    write_file(path("long.lua"), edited);
    int rc = run(out, sizeof out, "%s scenario replay %s", EK3_BIN, v);
    cr_assert_eq(rc, 2, "%d\n%s", rc, out);
    cr_assert(strstr(out, "long.lua changed since the verdict was recorded"), "%s", out);
    cr_assert(strstr(out, "--force"), "%s", out);
    rc = run(out, sizeof out, "%s scenario replay %s --force", EK3_BIN, v);
    cr_assert_eq(rc, 1, "%d\n%s", rc, out);
    cr_assert(strstr(out, "DIVERGED"), "%s", out);
    /* the edit takes effect at 1.5 s: the second block, rows 1001..2000 (row 1 is 0 s) */
    cr_assert(strstr(out, "diverged in rows 1001 to 2000 (1.000000 s to 1.999000 s): columns "), "%s", out);
    cr_assert(strstr(out, "state.3"), "%s", out);
    cr_assert(!strstr(out, "state.1"), "a module that did nothing different is named: %s", out);
    /* and the fault schedule names what the edit moved */
    cr_assert(strstr(out, "\nfaults: 1\n  recorded 1; where they differ:\n  fault 1: pull:3@1.6s (") &&
                  strstr(out, "long.lua:3) in at 1.600000 s\n    recorded pull:3@1.5s (") &&
                  strstr(out, "long.lua:3) in at 1.500000 s\n"),
              "%s", out);
    /* an edit that stops the script before its rack: the error is the cause, not another rig version */
    write_file(path("long.lua"), "scenario{ name='long', seeds={5} }\nx(\n");
    rc = run(out, sizeof out, "%s scenario replay %s --force", EK3_BIN, v);
    cr_assert_eq(rc, 1, "%d\n%s", rc, out);
    cr_assert(strstr(out, "this run ended in ERROR before its trace began (its error above)") &&
                  !strstr(out, "another rig version"),
              "%s", out);
}

/* A helper module the scenario required is part of it: recorded with its
 * SHA-256 in the verdict, and an edited one is refused as an edited
 * scenario is (it replayed the new helper's run with no word). */
Test(replay, an_edited_helper_is_refused_as_an_edited_scenario_is)
{
    char lib[300], h[320];
    snprintf(lib, sizeof lib, "%s/lib", dir);
    mkdir(lib, 0755);
    snprintf(h, sizeof h, "%s/hh.lua", lib);
    write_file(h, "return { at = '0.3s' }\n");
    char k2[320];
    snprintf(k2, sizeof k2, "%s/hk.lua", lib);
    write_file(k2, "return { n = 2 }\n");
    write_file(path("hl.lua"), "scenario{ name='hl', seeds={1} }\nrack{ modules=2 }\nlocal hh = require 'hh'\n"
                               "local hk = require 'hk'\nrun(hh.at)\nexpect(get('rack.present') == hk.n, 'in')\n");
    const char *v = record(path("hl.lua"), "hl", 1, 0);
    json_error_t e;
    json_t *j = json_load_file(v, 0, &e);
    cr_assert_not_null(j, "%s", e.text);
    json_t *hs = json_object_get(json_object_get(j, "scenario"), "helpers");
    cr_assert(json_is_array(hs) && json_array_size(hs) == 2, "the helpers recorded");
    cr_assert(strstr(json_string_value(json_object_get(json_array_get(hs, 0), "path")), "/lib/hh.lua"));
    json_decref(j);
    cr_assert_eq(run(out, sizeof out, "%s scenario replay %s", EK3_BIN, v), 0, "%s", out);
    write_file(h, "return { at = '0.4s' }\n");
    cr_assert_eq(run(out, sizeof out, "%s scenario replay %s", EK3_BIN, v), 2, "%s", out);
    cr_assert(strstr(out, "the helper /") && strstr(out, "/lib/hh.lua (SHA-256 now ") &&
                  strstr(out, "hl.lua required changed since the verdict was recorded") &&
                  strstr(out, "--force runs it anyway"),
              "%s", out);
    /* both edited: both named (it named the first) */
    write_file(k2, "return { n = 2 } -- edited\n");
    cr_assert_eq(run(out, sizeof out, "%s scenario replay %s", EK3_BIN, v), 2, "%s", out);
    cr_assert(strstr(out, "the helpers ") && strstr(out, "/lib/hh.lua (SHA-256 now ") && strstr(out, ", ") &&
                  strstr(out, "/lib/hk.lua (SHA-256 now "),
              "%s", out);
    write_file(k2, "return { n = 2 }\n");
    cr_assert_eq(run(out, sizeof out, "%s scenario replay %s --force", EK3_BIN, v), 1, "%s", out);
    cr_assert(strstr(out, "note: the helper ") && strstr(out, "DIVERGED"), "%s", out);
    /* a run 0.1 s longer: its first rows against the recorded trace whole (it said only that there was no block
     * boundary to compare at) */
    cr_assert(strstr(out, "the first 301 rows agree (the recorded trace whole); this run goes on 100 rows more"), "%s",
              out);
    /* 0.1 s shorter: where the comparison stops, said */
    write_file(h, "return { at = '0.2s' }\n");
    cr_assert_eq(run(out, sizeof out, "%s scenario replay %s --force", EK3_BIN, v), 1, "%s", out);
    cr_assert(strstr(out, "the shorter ends at row 201, before the longer's first block does (row 301)"), "%s", out);
    write_file(h, "return { at = '0.4s' }\n");
    /* told once: before the run (changed), not again after it (loaded) */
    int told = 0;
    for (const char *q = out; (q = strstr(q, "/lib/hh.lua")) != NULL; q++)
        told++;
    cr_assert_eq(told, 1, "%s", out);
}

/* A helper that require finds in another file at replay (a lib/ek3.lua put
 * beside the scenario shadows the rig's library) is another scenario: the
 * replay refuses it (exit 2), not DIVERGED; the same bytes elsewhere are the
 * same helper. */
Test(replay, a_helper_shadowed_at_replay_is_refused)
{
    char sub[300], lib[320], h[340];
    snprintf(sub, sizeof sub, "%s/sh", dir);
    mkdir(sub, 0755);
    snprintf(lib, sizeof lib, "%s/lib", sub);
    snprintf(h, sizeof h, "%s/ek3.lua", lib);
    char sp[340], x[340];
    snprintf(sp, sizeof sp, "%s/shw.lua", sub);
    snprintf(x, sizeof x, "%s/x.lua", lib);
    mkdir(lib, 0755);
    write_file(x, "return {}\n");
    /* its first failure is made inside the helper: the where names the helper's file, from another folder now */
    write_file(sp, "scenario{ name='shw', seeds={1} }\nrack{ modules=2 }\nlocal ek3 = require 'ek3'\n"
                   "local x = require 'x'\nrun('0.3s')\nek3.figure('bus', get('bus.v'), '>', 10000, 'V')\n");
    const char *v = record(sp, "shw", 1, 1);
    char rig[600], *text = NULL;
    snprintf(rig, sizeof rig, "%s/scenarios/lib/ek3.lua", EK3_SOURCE_DIR);
    size_t len = 0;
    FILE *f = fopen(rig, "r");
    cr_assert_not_null(f, "%s", rig);
    cr_assert_eq(getdelim(&text, &len, 0, f) > 0, 1);
    fclose(f);
    write_file(h, text); /* the same bytes: the same helper, and the same first failure (it read DIVERGED) */
    cr_assert_eq(run(out, sizeof out, "%s scenario replay %s", EK3_BIN, v), 0, "%s", out);
    cr_assert(strstr(out, "verdict: FAIL, as recorded") && strstr(out, "SAME"), "%s", out);
    size_t n = strlen(text) + 40;
    char *edited = malloc(n);
    snprintf(edited, n, "%s-- a local copy\n", text);
    write_file(h, edited);
    free(edited);
    free(text);
    cr_assert_eq(run(out, sizeof out, "%s scenario replay %s", EK3_BIN, v), 2, "%s", out);
    cr_assert(strstr(out, "the replayed run loaded ") && strstr(out, "sh/lib/ek3.lua (SHA-256 ") &&
                  strstr(out, "where the verdict recorded ") && strstr(out, "nothing compared"),
              "%s", out);
    cr_assert_null(strstr(out, "DIVERGED"), "%s", out);
    cr_assert_null(strstr(out, "--help'"), "the flags were right: no usage hint: %s", out);
    cr_assert_eq(run(out, sizeof out, "%s scenario replay %s --force", EK3_BIN, v), 0, "%s", out);
    cr_assert(strstr(out, "compared anyway (--force)") && strstr(out, "SAME"), "%s", out);
    /* two helpers differ: a forced replay notes each */
    write_file(x, "return { 1 }\n");
    cr_assert_eq(run(out, sizeof out, "%s scenario replay %s --force", EK3_BIN, v), 0, "%s", out);
    cr_assert(strstr(out, "note: the replayed run loaded ") && strstr(out, "sh/lib/ek3.lua (SHA-256 ") &&
                  strstr(out, "note: the helper ") && strstr(out, "sh/lib/x.lua changed since the verdict") &&
                  !strstr(out, "sh/lib/x.lua (SHA-256 ") && strstr(out, "SAME"),
              "%s", out);
    write_file(x, "return {}\n");
    /* a recorded helper that cannot be read here (the library installed elsewhere): what loads is compared */
    cr_assert_eq(unlink(h), 0);
    json_error_t e;
    json_t *j = json_load_file(v, 0, &e);
    cr_assert_not_null(j, "%s", e.text);
    json_t *h0 = json_array_get(json_object_get(json_object_get(j, "scenario"), "helpers"), 0);
    json_object_set_new(h0, "path", json_string("/nonexistent/ek3.lua"));
    cr_assert_eq(json_dump_file(j, v, JSON_INDENT(2)), 0);
    json_decref(j);
    cr_assert_eq(run(out, sizeof out, "%s scenario replay %s", EK3_BIN, v), 0, "%s", out);
    cr_assert(strstr(out, "/nonexistent/ek3.lua cannot be read here") && strstr(out, "SAME"), "%s", out);
}

/* Edit the verdict at v with fn(json) and write it back. */
static void edit_verdict(const char *v, void (*fn)(json_t *j))
{
    json_error_t e;
    json_t *j = json_load_file(v, 0, &e);
    cr_assert_not_null(j, "%s: %s", v, e.text);
    fn(j);
    cr_assert_eq(json_dump_file(j, v, JSON_INDENT(2)), 0);
    json_decref(j);
}

static const char ZEROS[] = "0000000000000000000000000000000000000000000000000000000000000000";

static void corrupt_from_block_1(json_t *j)
{
    json_t *t = json_object_get(j, "trace"), *b = json_object_get(t, "blocks");
    cr_assert_eq(json_array_size(b), 3);
    json_object_set_new(t, "sha256", json_string(ZEROS));
    for (size_t i = 1; i < 3; i++)
        json_object_set_new(json_array_get(b, i), "sha256", json_string(ZEROS));
    /* and the fingerprint of column 1 (vbus) in block 1 */
    json_t *cols = json_object_get(json_array_get(b, 1), "columns");
    char *s = strdup(json_string_value(cols));
    s[8] = s[8] == '0' ? '1' : '0';
    json_object_set_new(json_array_get(b, 1), "columns", json_string(s));
    free(s);
}

/* LONG recorded, its verdict edited by fn, replayed: the replay's exit code (its output in out). */
static int replay_edited(void (*fn)(json_t *j))
{
    write_file(path("long.lua"), LONG);
    const char *v = record(path("long.lua"), "long", 5, 0);
    edit_verdict(v, fn);
    return run(out, sizeof out, "%s scenario replay %s", EK3_BIN, v);
}

Test(replay, a_corrupted_trace_hash_is_diverged_and_named)
{
    int rc = replay_edited(corrupt_from_block_1);
    cr_assert_eq(rc, 1, "%d\n%s", rc, out);
    cr_assert(strstr(out, "verdict: PASS, as recorded"), "%s", out);
    cr_assert(strstr(out, "recorded 2501 rows, SHA-256 0000000000"), "%s", out);
    cr_assert(strstr(out, "diverged in rows 1001 to 2000 (1.000000 s to 1.999000 s): columns vbus\n"), "%s", out);
    cr_assert(strstr(out, "DIVERGED"), "%s", out);
}

static void onset_moved(json_t *j)
{
    json_t *f = json_array_get(json_object_get(j, "faults"), 0);
    cr_assert_not_null(f);
    json_object_set_new(f, "onset_s", json_real(1.25));
}

/* A fault schedule that differs from the recording is a divergence of
 * its own, named, even where the trace agrees. */
Test(replay, a_fault_schedule_that_differs_is_diverged_and_named)
{
    int rc = replay_edited(onset_moved);
    cr_assert_eq(rc, 1, "%d\n%s", rc, out);
    cr_assert(strstr(out, "long.lua:3) in at 1.500000 s\n    recorded pull:3@1.5s (") &&
                  strstr(out, "long.lua:3) in at 1.250000 s\n") && strstr(out, ", as recorded\nDIVERGED"),
              "%s", out);
}

/* Bad verdict files: each a one-field edit, exit 2 naming the field. */
static void drop_seed(json_t *j)
{
    json_object_del(j, "seed");
}
static void seed_text(json_t *j)
{
    json_object_set_new(j, "seed", json_string("5"));
}
static void seed_real(json_t *j)
{
    json_object_set_new(j, "seed", json_real(5.5));
}
static void pass_number(json_t *j)
{
    json_t *c = json_object();
    json_object_set_new(c, "name", json_string("x"));
    json_object_set_new(c, "value", json_null());
    json_object_set_new(c, "unit", json_string(""));
    json_object_set_new(c, "limit", json_string("true"));
    json_object_set_new(c, "pass", json_integer(1));
    json_object_set_new(c, "t_s", json_real(0));
    json_object_set_new(c, "where", json_string("x.lua:1"));
    json_array_append_new(json_object_get(j, "checks"), c);
}
static void no_scenario_sha(json_t *j)
{
    json_object_set_new(json_object_get(j, "scenario"), "sha256", json_string("abc"));
}
static void short_fingerprints(json_t *j)
{
    json_object_set_new(json_array_get(json_object_get(json_object_get(j, "trace"), "blocks"), 2), "columns",
                        json_string("00"));
}
static void fault_where_number(json_t *j)
{
    json_object_set_new(json_array_get(json_object_get(j, "faults"), 0), "where", json_integer(3));
}
static void verdict_word(json_t *j)
{
    json_object_set_new(j, "verdict", json_string("MAYBE"));
}

/* A run Ctrl-C cut: no verdict to replay against. */
static void verdict_interrupted(json_t *j)
{
    json_object_set_new(j, "verdict", json_string("INTERRUPTED"));
}

Test(replay, a_bad_verdict_file_is_exit_2_naming_the_field)
{
    write_file(path("long.lua"), LONG);
    const char *v0 = record(path("long.lua"), "long", 5, 0);
    char v[256], cmd[600];
    snprintf(v, sizeof v, "%s/v.json", dir);
    static const struct {
        void (*fn)(json_t *);
        const char *says;
    } cases[] = {
        {drop_seed, "v.json: seed: missing"},
        {seed_text, "v.json: seed: not a whole number"},
        {seed_real, "v.json: seed: not a whole number"},
        {pass_number, "v.json: checks[1].pass: not true or false"}, /* the one appended after the run's own */
        {no_scenario_sha, "v.json: scenario.sha256: not 64 hexadecimal digits"},
        {short_fingerprints, "v.json: trace.blocks[2].columns: not 8 hexadecimal digits per column"},
        {fault_where_number, "v.json: faults[0].where: not a string"},
        {verdict_word, "v.json: verdict: not PASS, FAIL, ERROR or INTERRUPTED"},
        {verdict_interrupted, "v.json: verdict: INTERRUPTED at "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(cmd, sizeof cmd, "cp %s %s", v0, v);
        cr_assert_eq(system(cmd), 0);
        edit_verdict(v, cases[i].fn);
        int rc = run(out, sizeof out, "%s scenario replay %s", EK3_BIN, v);
        cr_assert_eq(rc, 2, "case %zu: %d\n%s", i, rc, out);
        cr_assert(strstr(out, cases[i].says), "case %zu: '%s' does not say '%s'", i, out, cases[i].says);
    }
    write_file(v, "{ \"format\": \"ek3-verdict/1\",\n  \"seed\": 5,, }\n");
    int rc = run(out, sizeof out, "%s scenario replay %s", EK3_BIN, v);
    cr_assert_eq(rc, 2, "%d\n%s", rc, out);
    cr_assert(strstr(out, "v.json:2:") && strstr(out, "not JSON"), "%s", out);
    write_file(v, "[1, 2]");
    rc = run(out, sizeof out, "%s scenario shrink %s", EK3_BIN, v);
    cr_assert_eq(rc, 2, "%d\n%s", rc, out);
    cr_assert(strstr(out, "v.json: not a verdict"), "%s", out);
    rc = run(out, sizeof out, "%s scenario replay %s/none.json", EK3_BIN, dir);
    cr_assert_eq(rc, 2, "%d\n%s", rc, out);
    cr_assert(strstr(out, "none.json: No such file"), "%s", out);
    /* a PASS verdict cannot be shrunk */
    rc = run(out, sizeof out, "%s scenario shrink %s", EK3_BIN, v0);
    cr_assert_eq(rc, 2, "%d\n%s", rc, out);
    cr_assert(strstr(out, "the verdict is PASS: shrink takes a FAIL verdict"), "%s", out);
}

/* Five faults, one of which (the pull of module 3) fails the check; one
 * call spans two lines, one sits in a statement and one in a local. */
static const char *const FIVE =
    "scenario{ name='five', seeds={3, 4}, tags={'shrink'} }\n"
    "rack{ modules=4, load='8kW', load_at='0.2s', load_ramp='20ms' }\n"
    "local a = fault('igf', 2, { i='10mA', at='0.25s', duration='10ms' })\n"
    "fault('fan', 1, { health=0.9, at='0.26s' })\n"
    "local p = fault('pull', 3,\n"
    "                { at='0.3s' })\n"
    "fault('igf', 4, { i='5mA', at='0.32s', duration='5ms' })\n"
    "fault('fan', 2, { health=0.7, at='0.33s' }) -- fault( in a comment\n"
    "expect_always(function() return get('module[3].present') == 1 end, { name='module 3 stays in' })\n"
    "run('0.5s')\n"
    "clear(a)\n";

Test(replay, shrink_turns_five_faults_into_the_one_that_fails_the_check, .timeout = 280)
{
    write_file(path("five.lua"), FIVE);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s --seed 3", path("five.lua"));
    const char *v = record(cmd, "five", 3, 1);
    int rc = run(out, sizeof out, "%s scenario shrink %s --budget 40", EK3_BIN, v);
    cr_assert_eq(rc, 0, "%d\n%s", rc, out);
    cr_assert(strstr(out, "5 fault() calls from 5 sites"), "%s", out);
    cr_assert(strstr(out, "1 of 5 fault sites kept"), "%s", out);
    cr_assert(strstr(out, "kept pull:3@"), "%s", out);
    cr_assert(strstr(out, "confirmed: "), "%s", out);
    /* the file: one fault() call, the pull; the manifest renamed, seed 3 */
    FILE *f = fopen(path("five-shrunk.lua"), "r");
    cr_assert_not_null(f);
    static char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    cr_assert_eq(count(text, "fault(\"pull\", 3, { at="), 1, "%s", text);
    cr_assert_eq(count(text, "fault("), 2, "the pull and the comment of a dropped line: %s", text);
    cr_assert(strstr(text, "scenario{ name=\"five-shrunk\", seeds={3}, tags={'shrink'} }"), "%s", text);
    cr_assert(strstr(text, "local a = nil --[[dropped by shrink]]\n--[[dropped by shrink]]\n"), "%s", text);
    /* it fails the same check when run as a scenario */
    rc = run(out, sizeof out, "%s scenario run %s", EK3_BIN, path("five-shrunk.lua"));
    cr_assert_eq(rc, 1, "%d\n%s", rc, out);
    cr_assert(strstr(out, "FAIL   five-shrunk") && strstr(out, "module 3 stays in"), "%s", out);
    /* a second shrink does not overwrite it */
    rc = run(out, sizeof out, "%s scenario shrink %s", EK3_BIN, v);
    cr_assert_eq(rc, 2, "%d\n%s", rc, out);
    cr_assert(strstr(out, "five-shrunk.lua exists"), "%s", out);
    /* an --out that cannot be written is said before the search (no run) */
    rc = run(out, sizeof out, "%s scenario shrink %s --out /nonexistent-ek3/x.lua", EK3_BIN, v);
    cr_assert_eq(rc, 2, "%d\n%s", rc, out);
    cr_assert(strstr(out, "--out /nonexistent-ek3/x.lua: cannot be written in /nonexistent-ek3: No such file or "
                          "directory"),
              "%s", out);
    cr_assert(!strstr(out, "shrink five seed"), "no search: %s", out);
    rc = run(out, sizeof out, "%s scenario shrink %s --out %s", EK3_BIN, v, dir);
    cr_assert_eq(rc, 2, "%d\n%s", rc, out);
    cr_assert(strstr(out, ": is a folder: name a file"), "%s", out);
}

/* A ground fault that trips the module, beside a harmless fan: shrink
 * keeps the ground fault, later and smaller, as a literal call. */
static const char *const IGF =
    "scenario{ name='igf', seeds={2} }\n"
    "rack{ modules=4, load='8kW', load_at='0.6s', load_ramp='20ms' }\n"
    "fault('fan', 1, { health=0.9, at='0.7s' })\n"
    "local g = fault('igf', 2, { i='80mA', at='0.8s', duration='50ms' })\n"
    "expect_always(function() return get('module[2].state') ~= 'FAULT' end, { from=0.65, name='no fault' })\n"
    "run('1s')\n";

Test(replay, shrink_moves_a_kept_fault_later_and_makes_it_smaller, .timeout = 280)
{
    write_file(path("igf.lua"), IGF);
    const char *v = record(path("igf.lua"), "igf", 2, 1);
    int rc = run(out, sizeof out, "%s scenario shrink %s --out %s", EK3_BIN, v, path("small.lua"));
    cr_assert_eq(rc, 0, "%d\n%s", rc, out);
    cr_assert(strstr(out, "1 of 2 fault sites kept"), "%s", out);
    cr_assert(strstr(out, "(onset moved from 0.8 s)") && strstr(out, "(parameters x "), "%s", out);
    FILE *f = fopen(path("small.lua"), "r");
    cr_assert_not_null(f);
    static char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    const char *call = strstr(text, "local g = fault(\"igf\", 2, { i=");
    cr_assert_not_null(call, "%s", text);
    double i = 0, at = 0;
    cr_assert_eq(sscanf(call, "local g = fault(\"igf\", 2, { i=%lf, at=%lf, duration=0.05 })", &i, &at), 2, "%s",
                 call);
    cr_assert(i > 0 && i < 0.08, "i = %g A: not smaller than 80 mA", i);
    cr_assert(at > 0.8 && at < 1.0, "at = %g s: not later than 0.8 s", at);
    cr_assert(strstr(text, "\n--[[dropped by shrink]]\nlocal g"), "%s", text);
    rc = run(out, sizeof out, "%s scenario run %s", EK3_BIN, path("small.lua"));
    cr_assert_eq(rc, 1, "%d\n%s", rc, out);
    cr_assert(strstr(out, "FAIL   igf-shrunk") && strstr(out, "no fault"), "%s", out);
}

/* A pull that puts the bus out of a within() band: the check writes
 * when the signal first left it into its name, which moves with the
 * pull; shrink still knows it for the same check, moves the pull later
 * and confirms (it kept the pull where it was, and said NOT confirmed). */
Test(replay, shrink_moves_a_fault_that_puts_a_signal_out_of_its_band, .timeout = 280)
{
    write_file(path("band.lua"), "scenario{ name='band', seeds={2} }\n"
                                 "rack{ modules=4, load='8kW', load_at='0.5s', load_ramp='20ms' }\n"
                                 "fault('fan', 1, { health=0.9, at='0.6s' })\n"
                                 "fault('pull', 3, { at='0.65s' })\n"
                                 "within('bus.v', 735, 760, { from=0.6, name='bus in band' })\n"
                                 "run('0.76s')\n");
    const char *v = record(path("band.lua"), "band", 2, 1);
    int rc = run(out, sizeof out, "%s scenario shrink %s --out %s", EK3_BIN, v, path("band-small.lua"));
    cr_assert_eq(rc, 0, "%d\n%s", rc, out);
    cr_assert(strstr(out, "it fails 'bus in band: out first at 0.6"), "%s", out);
    cr_assert(strstr(out, "1 of 2 fault sites kept") && strstr(out, "(onset moved from 0.65 s)"), "%s", out);
    cr_assert(strstr(out, "confirmed: ") && !strstr(out, "NOT confirmed"), "%s", out);
    const char *k = strstr(out, "kept pull:3@");
    double at = 0;
    cr_assert(k && sscanf(k, "kept pull:3@%lfs", &at) == 1 && at > 0.7 && at < 0.76, "%s", out);
}

/* A failure no fault causes: shrink keeps none and says so. */
Test(replay, shrink_says_when_the_failure_needs_no_fault, .timeout = 120)
{
    write_file(path("own.lua"), "scenario{ name='own', seeds={3} }\n"
                                "rack{ modules=4, load='8kW', load_at='0.2s', load_ramp='20ms' }\n"
                                "fault('fan', 1, { health=0.9, at='0.25s' })\n"
                                "within('bus.v', 760, 800, { from=0.28, to=0.3, name='above the set point' })\n"
                                "run('0.3s')\n");
    const char *v = record(path("own.lua"), "own", 3, 1);
    int rc = run(out, sizeof out, "%s scenario shrink %s --out %s", EK3_BIN, v, path("own-small.lua"));
    cr_assert_eq(rc, 0, "%d\n%s", rc, out);
    cr_assert(strstr(out, "0 of 1 fault sites kept") &&
                  strstr(out, "note: it fails with no fault at all: the failure is the scenario's own"),
              "%s", out);
}
