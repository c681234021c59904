/* test_check_lua.c - the signal checks and capture as Lua globals
 * (chk_lua.h), through the engine's public API (scn.h): a 4-module rack
 * takes a load step from 4 kW to 8 kW at 0.7 s (the bus settles from
 * 744.1 V to 737.3 V like a first-order system, tau about 2.5 ms); each
 * check records its figures; a window the run does not reach, a
 * protection trip and a service restart are measured; bad calls are
 * ERRORs naming the line. keys{}: a run with a report directory writes
 * keys.csv with the defaults and keys{}'s signals and the same trace
 * hash as without; keys{} refuses a misspelt path (did you mean), more
 * than 8 signals, a call before rack{} or after run(); a keys.csv that
 * cannot be written fails the run, saying so. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ek3_err.h"
#include "cli.h"
#include "key.h"
#include "scn.h"

static char dir[] = "/tmp/ek3-chkl-XXXXXX";
static char path[600];

/* The test process's directory, made once (a flag, not the template's
 * last letter: mkdtemp's random suffix ends in 'X' one time in 62). */
static void mkdir_once(void)
{
    static int made;
    if (!made)
        cr_assert_not_null(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
    made = 1;
}

static scn_result *run_lua(const char *name, const char *text, const char *report)
{
    mkdir_once();
    snprintf(path, sizeof path, "%s/%s.lua", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    scn_result *r = calloc(1, sizeof *r);
    FILE *null = fopen("/dev/null", "w");
    scn_opts o = {.seed = 1, .threads = 1, .out = null, .report_dir = report};
    scn_run_file(path, &o, r);
    fclose(null);
    return r;
}

static void done(scn_result *r)
{
    scn_result_free(r);
    free(r);
}

/* The figure whose name starts with `name` (it must be there). */
static const scn_fig *fig(const scn_result *r, const char *name)
{
    for (unsigned i = 0; i < r->nfig; i++)
        if (!strncmp(r->fig[i].name, name, strlen(name)))
            return &r->fig[i];
    cr_assert_fail("no figure '%s' among %u", name, r->nfig);
    return NULL;
}

#define HEAD "scenario{ name='t', seeds={1} }\n"
#define RACK                                                                                                         \
    "rack{ modules=4, load='4kW', load_at='0.5s', load_ramp='1ms' }\n"                                               \
    "at(0.7, function() set_load{ power='8kW', ramp='0.1ms' } end)\n"                                                \
    "run('0.6s')\n"

Test(check_lua, load_step_figures)
{
    char rep[700];
    mkdir_once();
    snprintf(rep, sizeof rep, "%s/rep", dir);
    mkdir(rep, 0755);
    scn_result *r = run_lua(
        "step",
        HEAD RACK
        "step_response('bus.v', {at=0.7, window='50ms', final=737.3, tol='1V', overshoot_max=5,\n"
        "              settling_max='20ms', name='load step'})\n"
        "first_order('bus.v', {at=0.7, window='40ms', fit_max=2, name='fo'})\n"
        "within('bus.v', 730, 760, {from=0.6, to=0.75})\n"
        "within('bus.v', 740, 760, {from=0.6, to=0.75, name='tight'})\n"
        "ripple('bus.v', {from=0.6, to=0.69, max='0.5V'})\n"
        "ramp('bus.v', {from=0.6, to=0.69, slope=0, tol='2V/s', max_dev='0.5V'})\n"
        "sharing_spread({from=0.72, to=0.75, max=10})\n"
        "delivered({from=0.6, to=0.75, min=99})\n"
        "dip('bus.v', {at=0.7, max='10V', tol='1V', recover_by=0.75})\n"
        "capture{signals={'bus.v','module[1].iout'}, trigger={signal='bus.v', level=740, edge='falling'},\n"
        "        pre='5ms', post='20ms', name='step'}\n"
        "within('bus.v', 0, 1000, {from=0.7, to=5, name='late'})\n"
        "run('0.15s')\n",
        rep);
    cr_assert_eq(r->verdict, SCN_FAIL, "%s %s", scn_verdict_name(r->verdict), r->error);
    const scn_fig *f = fig(r, "load step: final value");
    cr_assert(f->pass && fabs(f->value - 737.3) < 0.5, "final %g", f->value);
    cr_assert_str_eq(f->unit, "V");
    cr_assert_str_eq(f->limit, "737.3 V +- 1 V");
    f = fig(r, "load step: overshoot");
    cr_assert(f->pass && f->value >= 0 && f->value < 5, "overshoot %g %%", f->value);
    f = fig(r, "load step: settling time to +- 1 V");
    cr_assert(f->pass && f->value > 1e-3 && f->value < 20e-3, "settling %g s", f->value);
    cr_assert_float_eq(f->t_s, 0.75, 1e-9, "recorded when its window ends");
    f = fig(r, "load step: rise time 10-90 %");
    cr_assert(f->value > 1e-3 && f->value < 10e-3, "rise %g s", f->value);
    /* First order: tau of a few ms, and it fits (RMS under 2 % of the step). */
    f = fig(r, "fo: time constant");
    cr_assert(f->value > 1e-3 && f->value < 5e-3, "tau %g s", f->value);
    f = fig(r, "fo: fit error");
    cr_assert(f->pass && f->value < 2, "fit %g %%", f->value);
    /* Within: the wide band holds; the tight one is left just after the step. */
    f = fig(r, "within(bus.v): nearest a limit");
    cr_assert(f->pass && f->value > 736 && f->value < 738, "nearest %g", f->value);
    f = fig(r, "tight: out first at 0.70");
    cr_assert_eq(f->pass, 0);
    cr_assert(f->value < 738 && f->value > 736, "worst %g", f->value);
    /* Ripple and a flat ramp before the step. */
    f = fig(r, "ripple(bus.v): ripple peak-to-peak");
    cr_assert(f->pass && f->value > 0 && f->value < 0.5, "pp %g", f->value);
    cr_assert(fig(r, "ripple(bus.v): ripple RMS")->value < f->value / 2);
    f = fig(r, "ramp(bus.v): slope");
    cr_assert(f->pass && fabs(f->value) < 2, "slope %g V/s", f->value);
    cr_assert_str_eq(f->unit, "V/s");
    /* Four modules share 8 kW within 10 % (of their mean currents), and deliver what the load asks. */
    f = fig(r, "sharing_spread: spread");
    cr_assert(f->pass && f->value > 0 && f->value < 10, "spread %g %%", f->value);
    cr_assert_str_eq(f->limit, "<= 10 %");
    f = fig(r, "delivered: energy delivered / demanded");
    cr_assert(f->pass && f->value > 99 && f->value < 100.01, "delivered %g %%", f->value);
    /* Dip: 744.1 V down to 737.3 V (droop: it stays there, so it does not recover to +- 1 V). */
    f = fig(r, "dip(bus.v): dip depth below 744.1");
    cr_assert(f->pass && f->value > 6 && f->value < 8, "depth %g V", f->value);
    f = fig(r, "dip(bus.v): recovery to +- 1 V");
    cr_assert_eq(f->pass, 0, "not back within 1 V of 744.1 V by 0.75 s");
    cr_assert(isnan(f->value));
    /* The capture: triggered when bus.v fell through 740 V, 50 + 1 + 200 rows written. */
    f = fig(r, "capture step: triggered");
    cr_assert(f->pass && f->value > 0.7 && f->value < 0.705, "trigger at %g s", f->value);
    char csv[800];
    snprintf(csv, sizeof csv, "%s/step.csv", rep);
    FILE *c = fopen(csv, "r");
    cr_assert_not_null(c, "%s", csv);
    char line[256];
    cr_assert_not_null(fgets(line, sizeof line, c));
    cr_assert_str_eq(line, "t_s,bus.v_V,module[1].iout_A\n");
    int rows = 0, trig = -1;
    double prev = NAN;
    while (fgets(line, sizeof line, c)) {
        double t, v, i;
        cr_assert_eq(sscanf(line, "%lf,%lf,%lf", &t, &v, &i), 3, "%s", line);
        if (trig < 0 && prev > 740 && v <= 740)
            trig = rows;
        prev = v;
        rows++;
    }
    fclose(c);
    cr_assert_eq(rows, 251);
    cr_assert_eq(trig, 50, "the trigger row follows the 5 ms before it");
    /* A window past the run's end is a failed figure saying so. */
    f = fig(r, "late: window to 5 s not reached");
    cr_assert_eq(f->pass, 0);
    done(r);
}

Test(check_lua, trip_latency_and_restart_time)
{
    scn_result *r = run_lua("trip",
                            HEAD "rack{ modules=4, load='4kW', load_at='0.5s', load_ramp='1ms' }\n"
                                 "run('0.6s')\n"
                                 "fault('trip-ocp', 2, {at=0.61})\n"
                                 "trip_latency(2, {at=0.61, max='50us'})\n"
                                 "trip_latency(1, {at=0.61, to=0.63})\n"
                                 "trip_latency(3, {at=0.61, max='1ms', signal='module[3].present', name='set'})\n"
                                 "fault('svc-crash', '3.1', {at=0.62})\n"
                                 "restart_time(3, 'AUDIT_LOGGER', {max='50ms'})\n"
                                 "restart_time(4, 'AUDIT_LOGGER', {to=0.63, name='quiet'})\n"
                                 "fault('svc-crash', '1.3', {at=0.62})\n"
                                 "restart_time(1, 'THERMAL_MGR', {max='50ms', name='quick'})\n"
                                 "capture{signals={'module[2].iout'}, when=function() return get('module[2].hw_trip') > 0 end,\n"
                                 "        pre='1ms', post='1ms', name='w'}\n"
                                 "capture{signals={'bus.v'}, trigger={signal='bus.v', level=100, edge='falling'}, name='never'}\n"
                                 "run('40ms')\n",
                            NULL);
    cr_assert_eq(r->verdict, SCN_FAIL, "%s %s", scn_verdict_name(r->verdict), r->error);
    /* The protection's own instant inside the quantum, not the quantum's end (100 us). */
    const scn_fig *f = fig(r, "trip_latency(2): trip latency");
    cr_assert(f->pass && f->value > 2e-6 && f->value < 50e-6, "latency %g s", f->value);
    cr_assert_float_eq(f->t_s, 0.6101, 1e-9, "recorded as soon as the trip is seen");
    cr_assert_str_eq(f->limit, "<= 50 us", "the limit in the script's unit, not 5e-05 s");
    char v[64];
    cli_si(v, sizeof v, f->value, f->unit);
    cr_assert(strlen(v) > 3 && !strcmp(v + strlen(v) - 3, " us") && !strchr(v, 'e'), "%g s reads '%s'", f->value, v);
    f = fig(r, "trip_latency(1): no trip after 0.61 s");
    cr_assert_eq(f->pass, 0);
    /* A signal already non-zero when the check begins times no trip: a failure, not a latency of 0. */
    f = fig(r, "set: already tripped at 0.610000 s: module[3].present was non-zero when the check began (no trip to "
               "time)");
    cr_assert_eq(f->pass, 0);
    cr_assert_str_eq(f->limit, "a trip after 0.61 s");
    f = fig(r, "restart_time(3, AUDIT_LOGGER): restart time (crash to fresh start)");
    cr_assert(f->pass && f->value > 0 && f->value <= 0.05, "restart %g s", f->value);
    cr_assert(f->t_s > 0.62 && f->t_s < 0.62 + 0.05, "recorded at the restart (%g s), not at the run's end", f->t_s);
    /* A restart inside one quantum (no sample sees it down): the kernel's count and instants. */
    f = fig(r, "quick: restart time (crash to fresh start)");
    cr_assert(f->pass && f->value > 0 && f->value <= 0.05, "restart %g s", f->value);
    cr_assert(f->t_s < 0.625, "recorded at %g s", f->t_s);
    f = fig(r, "quiet: never stopped running");
    cr_assert_eq(f->pass, 0);
    /* A capture on a predicate: fired on the quantum the trip is seen; no --report, so kept in memory only. */
    f = fig(r, "capture w: triggered");
    cr_assert(f->pass);
    cr_assert_float_eq(f->value, 0.6101, 1e-9);
    cr_assert_str_eq(f->limit, "(evidence; no report dir)");
    /* One that never fires is evidence not taken, not a failure. */
    f = fig(r, "capture never: not triggered");
    cr_assert(f->pass);
    done(r);
}

static void expect_error(const char *name, const char *text, const char *line, const char *why)
{
    scn_result *r = run_lua(name, text, NULL);
    cr_assert_eq(r->verdict, SCN_ERROR, "%s: verdict %s", name, scn_verdict_name(r->verdict));
    char want[700];
    snprintf(want, sizeof want, "%s/%s.lua:%s", dir, name, line);
    cr_assert(strstr(r->error, want), "%s: '%s' does not name %s", name, r->error, want);
    cr_assert(strstr(r->error, why), "%s: '%s' does not say '%s'", name, r->error, why);
    done(r);
}

Test(check_lua, bad_calls_are_errors_naming_the_line)
{
    expect_error("nosig", HEAD "rack{ modules=2 }\nwithin('bus.vv', 0, 1)\n", "3:", "did you mean bus.v");
    expect_error("norack", HEAD "ripple('bus.v')\n", "2:", "no rack yet");
    expect_error("key", HEAD "rack{ modules=2 }\n\nstep_response('bus.v', {at=0, settle='1ms'})\n", "4:",
                 "unknown option 'settle'");
    expect_error("past", HEAD "rack{ modules=2 }\nrun('10ms')\ndip('bus.v', {at=0.005})\n", "4:", "has passed");
    expect_error("pct", HEAD "rack{ modules=2 }\nsharing_spread({max='5 percent'})\n", "3:", "not a percentage");
    expect_error("slope0", HEAD "rack{ modules=2 }\nramp('bus.v', {slope=0})\n", "3:", "give tol as a band");
    expect_error("edge", HEAD "rack{ modules=2 }\ncapture{signals={'bus.v'}, trigger={signal='bus.v', level=1, edge='up'}}\n",
                 "3:", "trigger.edge");
    expect_error("captrig", HEAD "rack{ modules=2 }\ncapture{signals={'bus.v'}}\n", "3:", "give one of trigger");
    expect_error("capname", HEAD "rack{ modules=2 }\ncapture{signals={'bus.v'}, when=function() return true end, name='a'}\n"
                            "capture{signals={'bus.i'}, when=function() return true end, name='a'}\n", "4:", "name 'a' is taken");
    expect_error("slot", HEAD "rack{ modules=2 }\ntrip_latency(3)\n", "3:", "modules 1 to 2");
}

/* keys{} and keys.csv (key.h) */
#define KHEAD "scenario{ name='k', seeds={1} }\n"
#define KRACK "rack{ modules=4, load='8kW', load_at='0.05s', load_ramp='20ms' }\n"

Test(check_lua, keys_a_run_with_a_report_dir_writes_keys_csv_and_keeps_its_trace_hash)
{
    mkdir_once();
    char rep[128], csv[200];
    snprintf(rep, sizeof rep, "%s/keysrep", dir);
    cr_assert_eq(mkdir(rep, 0755), 0);
    const char *text = KHEAD KRACK "keys{ 'module[2].iout', 'canbus.load', 'bus.v' }\n"
                                 "fault('pull', 3, { at='0.1s' })\nrun('0.2s')\n" "expect(now() > 0, 'ran')\n";
    scn_result *a = run_lua("rep", text, rep);
    scn_result *b = run_lua("rep", text, NULL);
    cr_assert_eq(a->verdict, SCN_PASS, "%s", a->error);
    cr_assert_eq(memcmp(a->trace_sha256, b->trace_sha256, 32), 0, "keys.csv changed the trace hash");
    snprintf(csv, sizeof csv, "%s/keys.csv", rep);
    FILE *f = fopen(csv, "r");
    cr_assert_not_null(f, "%s: %s", csv, strerror(errno));
    char head[200];
    cr_assert_not_null(fgets(head, sizeof head, f));
    cr_assert_str_eq(head, "t_s,bus.v (V),bus.p (W),rack.i_mean (A),module[2].iout (A),canbus.load\n");
    rewind(f);
    key_data d;
    char err[200];
    cr_assert_eq(key_read_csv(f, csv, &d, err, sizeof err), 0, "%s", err);
    fclose(f);
    cr_assert_gt(d.nrow, 100);
    cr_assert_leq(d.nrow, 2 * KEY_BUCKETS);
    cr_assert_float_eq(d.t[0], 0, 1e-12, "the first sample is the start");
    cr_assert_float_eq(d.t[d.nrow - 1], a->sim_s, 1e-9, "the last sample is the end");
    cr_assert_gt(d.v[1 * d.nrow + d.nrow - 1], 100, "bus.p carries the load at the end");
    double m2 = d.v[3 * d.nrow + d.nrow - 1];
    cr_assert_gt(m2, 0.5, "module 2 carries a share at the end (%g A)", m2);
    key_data_free(&d);
    done(a);
    done(b);
    snprintf(csv, sizeof csv, "%s/none", dir);
    cr_assert_eq(mkdir(csv, 0755), 0);
    a = run_lua("nokeys", KHEAD KRACK "run('0.01s')\nexpect(now() > 0, 'ran')\n", csv);
    cr_assert_eq(a->verdict, SCN_PASS, "%s", a->error);
    snprintf(csv, sizeof csv, "%s/none/keys.csv", dir);
    cr_assert_eq(access(csv, R_OK), 0, "the defaults are recorded without keys{}");
    done(a);
    /* run_until() alone records from the first quantum too */
    snprintf(csv, sizeof csv, "%s/until", dir);
    cr_assert_eq(mkdir(csv, 0755), 0);
    a = run_lua("until", KHEAD KRACK "run_until(function() return now() >= 0.01 end, '1s')\nexpect(now() > 0, 'ran')\n", csv);
    cr_assert_eq(a->verdict, SCN_PASS, "%s", a->error);
    snprintf(csv, sizeof csv, "%s/until/keys.csv", dir);
    key_data du;
    char kerr[300];
    FILE *kf = fopen(csv, "r");
    cr_assert_not_null(kf, "%s", csv);
    cr_assert_eq(key_read_csv(kf, csv, &du, kerr, sizeof kerr), 0, "%s", kerr);
    fclose(kf);
    cr_assert_gt(du.nrow, 50, "a row per quantum from the start (%zu)", (size_t)du.nrow);
    cr_assert_lt(du.t[0], 0.001, "from the first quantum (%g s)", du.t[0]);
    key_data_free(&du);
    done(a);
}

Test(check_lua, keys_a_keys_csv_that_cannot_be_written_fails_the_run_saying_so)
{
    scn_result *r = run_lua("nowrite", KHEAD KRACK "run('5ms')\n", "/nonexistent/ek3-report");
    cr_assert_eq(r->verdict, SCN_FAIL, "%s", r->error);
    cr_assert_geq(r->first_fail, 0);
    cr_assert(strstr(r->fig[r->first_fail].name, "keys.csv could not be written"), "%s", r->fig[r->first_fail].name);
    done(r);
}

Test(check_lua, keys_refuses_a_misspelt_path_too_many_and_the_wrong_moment)
{
    struct {
        const char *text, *why;
    } bad[] = {
        {KHEAD KRACK "keys{ 'module[2].iuot' }\n", "did you mean module[2].iout"},
        {KHEAD KRACK "keys{ 'module[9].iout' }\n", "module[9]"},
        {KHEAD KRACK "keys{ 'bus.v', name='x' }\n", "without name=value"},
        {KHEAD KRACK "keys{ 3 }\n", "[1] must be a signal path"},
        {KHEAD "keys{ 'bus.v' }\n" KRACK, "no rack yet"},
        {KHEAD KRACK "run('1ms')\nkeys{ 'bus.i' }\n", "before the first run()"},
        {KHEAD KRACK "keys{ 'module[1].iout', 'module[2].iout', 'module[3].iout', 'module[4].iout', 'module[1].vout',"
                   " 'module[2].vout', 'module[3].vout', 'module[4].vout', 'bus.i' }\n",
         "at most 8"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        scn_result *r = run_lua("bad", bad[i].text, NULL);
        cr_assert_eq(r->verdict, SCN_ERROR, "case %zu passed", i);
        cr_assert(strstr(r->error, "bad.lua:"), "case %zu: '%s' names no line", i, r->error);
        cr_assert(strstr(r->error, bad[i].why), "case %zu: '%s' does not say '%s'", i, r->error, bad[i].why);
        done(r);
    }
    /* Eight named ones, the defaults among them not counted twice. */
    scn_result *r = run_lua("eight", KHEAD KRACK "keys{ 'module[1].iout', 'module[2].iout', 'module[3].iout', "
                                               "'module[4].iout', 'module[1].vout', 'module[2].vout', "
                                               "'module[3].vout', 'bus.i', 'bus.v' }\nrun('1ms')\n" "expect(now() > 0, 'ran')\n",
                            NULL);
    cr_assert_eq(r->verdict, SCN_PASS, "%s", r->error);
    done(r);
}

/* Figures and limits read as a script writes them: the value scaled to
 * an SI prefix for s, V, A, W, Hz and Ohm, seconds never scaled up, any
 * other unit as given. */
Test(check_lua, figures_read_with_si_prefixes)
{
    const struct {
        double v;
        const char *unit, *want;
    } c[] = {{3.9e-6, "s", "3.9 us"},
             {0.0625, "s", "62.5 ms"},
             {75, "s", "75 s"},
             {4000, "s", "4000 s"},
             {3300, "W", "3.3 kW"},
             {2.5e6, "W", "2.5 MW"},
             {0.04, "A", "40 mA"},
             {-0.003, "V", "-3 mV"},
             {4e-10, "s", "400 ps"},
             {7.4e-12, "V", "7.4 pV"},
             {3e-16, "V", "3e-16 V"},
             {NAN, "V", "NaN V"},
             {-NAN, "A", "NaN A"},
             {0, "s", "0 s"},
             {12, "%", "12 %"},
             {85.5, "C", "85.5 C"},
             {5, "", "5"},
             {742.84, "V", "742.84 V"},
             {1e5, "Hz", "100 kHz"},
             {0.25, "Ohm", "250 mOhm"}};
    char b[64];
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        cr_assert_str_eq(cli_si(b, sizeof b, c[i].v, c[i].unit), c[i].want, "%g %s", c[i].v, c[i].unit);
}

/* A capture's when= returns a boolean, as every condition does: a number
 * (Lua's true) would fire it at once whatever the signal did. */
Test(check_lua, a_capture_condition_that_is_not_a_boolean_is_an_error)
{
    scn_result *r =
        run_lua("capnum",
                HEAD "rack{ modules=2, load='2kW' }\n"
                     "capture{signals={'bus.v'}, when=function() return get('bus.v') end, pre='1ms', post='1ms'}\n"
                     "run('10ms')\n",
                dir);
    cr_assert_eq(r->verdict, SCN_ERROR, "%s %s", scn_verdict_name(r->verdict), r->error);
    cr_assert(strstr(r->error, "capnum.lua:3: capture: when: the condition returned the number "), "%s", r->error);
    done(r);
}
