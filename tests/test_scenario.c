/* test_scenario.c - the scenario engine through its public API (scn.h):
 * the sandbox refuses what reaches outside and stops runaway scripts
 * with an ERROR naming file:line; misspelt names get the closest valid
 * ones; the manifest and rack{} check their fields; time, callbacks,
 * faults and checks do what the manual says; the same seed gives the
 * same trace hash with 1 and 2 threads, another seed another hash. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ek3_err.h"
#include "fwsign.h"
#include "scn.h"
#include "vrd.h"

static char dir[64];
static char path[600];

/* The test process's scenario files go with it. */
__attribute__((destructor)) static void rm_dir(void)
{
    char cmd[128];
    if (dir[0] && snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir) < (int)sizeof cmd && system(cmd) != 0)
        fprintf(stderr, "test_scenario: could not remove %s\n", dir);
}

/* One directory per test process (each test runs in its own). */
static void mkdir_once(void)
{
    if (dir[0])
        return;
    snprintf(dir, sizeof dir, "/tmp/ek3-scn-%ld-XXXXXX", (long)getpid());
    cr_assert_not_null(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
}

/* Write a scenario file NAME.lua holding text; its path in `path`. */
static const char *write_lua(const char *name, const char *text)
{
    mkdir_once();
    snprintf(path, sizeof path, "%s/%s.lua", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    return path;
}

static scn_result *run_lua(const char *name, const char *text, uint64_t seed, unsigned threads)
{
    write_lua(name, text);
    scn_result *r = calloc(1, sizeof *r);
    FILE *null = fopen("/dev/null", "w");
    scn_opts o = {.seed = seed, .threads = threads, .out = null, .instr_max = 5000000, .mem_max = 64u << 20};
    scn_run_file(path, &o, r);
    fclose(null);
    return r;
}

static void done(scn_result *r)
{
    scn_result_free(r);
    free(r);
}

#define HEAD "scenario{ name='t', seeds={1} }\n"
#define RACK "rack{ modules=4, load='8kW', load_at='0.45s', load_ramp='20ms' }\n"

static void expect_error(const char *name, const char *text, const char *line, const char *why)
{
    scn_result *r = run_lua(name, text, 1, 1);
    cr_assert_eq(r->verdict, SCN_ERROR, "%s: verdict %s (%s)", name, scn_verdict_name(r->verdict), r->error);
    char want[700];
    snprintf(want, sizeof want, "%s/%s.lua:%s", dir, name, line);
    cr_assert(strstr(r->error, want), "%s: '%s' does not name %s", name, r->error, want);
    cr_assert(strstr(r->error, why), "%s: '%s' does not say '%s'", name, r->error, why);
    done(r);
}

Test(scenario, the_sandbox_has_no_io_os_debug_or_package)
{
    expect_error("io", HEAD "local f = io.open('/etc/passwd')\n", "2:", "global 'io'");
    expect_error("os", HEAD "\nos.execute('touch /tmp/ek3-pwned')\n", "3:", "global 'os'");
    expect_error("debug", HEAD "debug.sethook()\n", "2:", "global 'debug'");
    expect_error("package", HEAD "print(package.path)\n", "2:", "global 'package'");
    expect_error("require_os", HEAD "local os = require 'os'\n", "2:", "require 'os'");
    expect_error("dofile", HEAD "dofile('/etc/passwd')\n", "2:", "global 'dofile'");
    expect_error("loadfile", HEAD "loadfile('/etc/passwd')\n", "2:", "global 'loadfile'");
    expect_error("dump", HEAD "local s = string.dump(function() end)\n", "2:", "field 'dump'");
    expect_error("binary", HEAD "local f = load('\\27LuaT\\0\\25\\147\\r\\n\\26\\n')\n", "2:", "binary chunks");
    cr_assert(access("/tmp/ek3-pwned", F_OK) != 0);
}

/* A misspelt API name: Lua's own words, then the name it may have meant
 * (or that there is none), at the script's line. */
Test(scenario, a_misspelt_name_says_what_it_may_have_meant)
{
    expect_error("typo", HEAD RACK "run('1ms')\nlocal s = sharing_sprad({})\n", "4:",
                 "attempt to call a nil value (global 'sharing_sprad'); did you mean sharing_spread?");
    expect_error("typo2", HEAD RACK "expct(true, 'x')\n", "3:", "(global 'expct'); did you mean expect?");
    expect_error("none", HEAD "zzqqxx()\n", "2:", "(global 'zzqqxx'): no such name (docs/scenarios.md lists the API)");
    expect_error("nilvar", HEAD "local t = nil\nt()\n", "3:", "attempt to call a nil value (local 't')");
}

Test(scenario, a_binary_scenario_file_is_refused)
{
    write_lua("bin", "\x1bLuaT\x00 not text");
    scn_result r;
    scn_opts o = {.seed = 1};
    cr_assert_eq(scn_run_file(path, &o, &r), SCN_ERROR);
    cr_assert(strstr(r.error, "binary"), "%s", r.error);
    scn_result_free(&r);
}

Test(scenario, an_endless_loop_in_a_callback_is_stopped_at_its_line)
{
    expect_error("loop", HEAD RACK "every('1ms', function()\n  while true do end\nend)\nrun('10ms')\n", "4:",
                 "instruction limit");
    expect_error("loop_top", HEAD "local n = 0\nwhile true do n = n + 1 end\n", "3:", "instruction limit");
}

Test(scenario, a_huge_allocation_is_stopped_at_its_line)
{
    expect_error("mem", HEAD "\nlocal s = string.rep('x', 1 << 30)\n", "3:", "memory limit");
    expect_error("mem_table", HEAD "local t = {}\nfor i = 1, 1e9 do t[i] = i end\n", "3:", "memory limit");
}

Test(scenario, a_syntax_error_names_its_line)
{
    expect_error("syntax", HEAD "\n\nlocal x = = 3\n", "4:", "unexpected symbol");
}

Test(scenario, misspelt_names_get_the_closest_valid_ones)
{
    expect_error("fault_name", HEAD RACK "fault('svc-crsh', '2.2')\n", "3:", "did you mean svc-crash");
    expect_error("fault_far", HEAD RACK "fault('nosuch', 2)\n", "3:", "unknown fault 'nosuch' (ek3 scenario faults");
    expect_error("fault_case", HEAD RACK "fault('IGF', 2)\n",
                 "3:", "unknown fault 'IGF': fault names are lower case ('igf')");
    expect_error("signal_name", HEAD RACK "local v = get('bus.vv')\n", "3:", "bus.v");
    expect_error("fault_range", HEAD RACK "fault('igf', 2, { i='20A' })\n", "3:", "range");
    expect_error("fault_type", HEAD RACK "fault('fan', 2, { health=true })\n",
                 "3:", "fan: parameter health is a boolean, not a number (a number, or a quantity string: '50mA')");
    expect_error("fault_slot", HEAD RACK "fault('pull', 9)\n", "3:", "9");
    /* a NaN or an infinity given as a number, said as such (a NaN read "-nan") */
    expect_error("nan_lo", HEAD RACK "within('bus.v', 0/0, 800)\n", "3:", "within: lo: NaN is not a finite number");
    expect_error("inf_at", HEAD RACK "fault('pull', 2, { at = -1/0 })\n",
                 "3:", "fault: at: -inf is not a finite number");
    /* a target that is not a slot: told with this rack's slots (it gave the rig's 510, or "give its target") */
    expect_error("fault_slot_word", HEAD RACK "fault('pull', 'x')\n",
                 "3:", "fault 'pull': target 'x' is not a slot: this rack's are 1 to 4, or leader");
    expect_error("fault_slot_frac", HEAD RACK "fault('pull', 2.5)\n",
                 "3:", "fault 'pull': target 2.5 is not a whole number: a SLOT (this rack's slots are 1 to 4)");
    expect_error("fault_slot_table", HEAD RACK "fault('pull', {})\n",
                 "3:", "fault 'pull': its target is a table, not a SLOT");
    expect_error("rack_field", HEAD "rack{ modules=4, lod='8kW' }\n", "2:", "unknown field 'lod'");
    expect_error("rack_range", HEAD "rack{ modules=600 }\n", "2:", "1 to 510");
    expect_error("manifest_first", "rack{ modules=4 }\n", "1:", "manifest must come first");
    expect_error("level", "scenario{ name='x', level='weekly' }\n", "1:", "quick");
    /* a manifest over several lines: a field's error at the field's own line (it named the "scenario{" line) */
    expect_error("field_line", "-- a manifest\nscenario{ name = 'x',\n  tags = { 'a' },\n  seedz = { 1 } }\n",
                 "4:", "unknown field 'seedz'");
    expect_error("seed_line", "scenario{ name = 'x',\n  level = 'quick', --[[ seeds == no ]]\n  seeds = { '1' } }\n",
                 "3:", "seeds[1] must be a whole number");
    expect_error("rack_line", HEAD "rack{ modules = 4,\n  lod = '8kW' }\n", "3:", "unknown field 'lod'");
    /* read as Lua: a commented-out or quoted `key =` is not the field, `["key"] =` and a `=` on the next line are */
    expect_error("comment_line",
                 "scenario{ name = 'x',\n  -- requirments = {'a'},\n  description = \"requirments = 1\",\n"
                 "  requirments = {'b'} }\n",
                 "4:", "unknown field 'requirments'");
    expect_error("bracket_line", HEAD "rack{\n  --[[ modules = 3,\n  ]] load = '1kW',\n  [\"modules\"]\n    = 900 }\n",
                 "5:", "rack{}: modules = 900 is out of range");
    /* every rack{} and scenario{} value's error, not only the manifest's list checks */
    expect_error("rack_value_line", HEAD "rack{ modules = 2,\n  swarm =\n    'yes' }\n", "3:", "rack{}: swarm must be");
    /* a plant parameter of set = { ... }: at its own line (it was told at `set =`), a nested look-alike skipped */
    expect_error("set_line",
                 HEAD "rack{ modules = 2,\n  set = {\n    x = { lrr = 1 },\n    lr = 60e-6,\n    lrr = 5 } }\n",
                 "6:", "rack{}: set lrr=5: no plant parameter 'lrr'");
    /* and of a slot's set over several lines: at its own line (it was told at the `rack{` line), not another slot's */
    expect_error("slot_set_line",
                 HEAD "rack{ modules = 3,\n  slot = {\n    [1] = { set = { t_amb = 40 } },\n    [ 2 ] = {\n"
                      "      set = {\n        lr = 60e-6,\n        t_amb = 999 } } } }\n",
                 "8:", "rack{}: slot[2]: set t_amb=999");
    expect_error("timeout_line", "scenario{ name = 'x', seeds = {1},\n  timeout = '-3s' }\n",
                 "2:", "scenario{}: timeout = -3 s is out of range");
    expect_error("no_target", HEAD RACK "fault('pull')\n", "3:", "fault 'pull': give its target, a SLOT, second");
    expect_error("power_unit", HEAD RACK "set_load{ power='3V' }\n", "3:", "set_load{}: power: '3V' is not a quantity in W");
    expect_error("time_m", HEAD RACK "run('5m')\n", "3:", "run: '5m' is not a time: milli or minutes? write ms or min");
    expect_error("time_negative", HEAD RACK "run('-1s')\n", "3:", "run: the time = -1 s is negative: it is 0 s to 86400 s");
    /* the CLI's times and reasons (it read "its unit 'days' is not s or a prefix of it", min and h taken) */
    expect_error(
        "time_days", HEAD RACK "run('2days')\n", "3:",
        "run: '2days' is not a time (2s, 150ms, 100us, 5min, 1h): 'days' is not a unit of time (s, ms, us, ns, "
        "min, h)");
    expect_error("time_mega", HEAD RACK "run('1Ms')\n", "3:", "M is mega (1e6), not milli: write 1ms for milliseconds");
    expect_error("half_module", HEAD "rack{ modules = 8.5 }\n",
                 "2:", "rack{}: modules = 8.5 is not a whole number (1 to 510)");
    expect_error("word_module", HEAD "rack{ modules = 'eight' }\n", "2:", "rack{}: modules: 'eight' is not a number");
    expect_error("power_case", HEAD RACK "set_load{ power='3kw' }\n", "3:",
                 "set_load{}: power: '3kw' is not a quantity in W: the unit is W (3kW)");
    expect_error("window_begun", HEAD RACK "run('0.3s')\nexpect_always(function() return true end, { from = 0.2 })\n", "4:",
                 "expect_always: the window from 0.2 s to the end of the run must start now (0.300000 s) or later");
    /* A quantity in another unit names that unit; SI's space before the unit is taken. */
    expect_error("unit", HEAD RACK "run('0.6s')\nwithin('bus.v', 700, '10 A', { from = 0.5 })\n", "4:",
                 "within: hi: '10 A' is not a quantity in V: its unit 'A' is not V or a prefix of it");
    scn_result *r = run_lua("spaced", HEAD RACK "within('bus.v', '700 V', '0.8 kV', { from = '500 ms', to = '0.6 s' })\n"
                                                "run('0.6s')\n",
                            1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s %s", scn_verdict_name(r->verdict), r->error);
    done(r);
}

Test(scenario, the_manifest_is_read_without_running_the_rack)
{
    write_lua("manifest", "scenario{ name='m1', tags={'a','b'}, level='nightly',\n"
                          "  requirements={'EK-TECH-010 6.3', 'EK-TECH-010 8.5'}, seeds={3,5,8}, timeout='2s',\n"
                          "  gaps={'EK-TECH-010 4.1 OVP < 1 us: sensing takes 3.9 us', 'a: b'} }\n"
                          "error('the body must not run')\n");
    scn_manifest m;
    char err[300];
    cr_assert_eq(scn_manifest_read(path, &m, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(m.name, "m1");
    cr_assert_str_eq(m.level, "nightly");
    cr_assert_str_eq(m.tags, "a,b");
    cr_assert_str_eq(m.requirements, "EK-TECH-010 6.3;EK-TECH-010 8.5");
    cr_assert_eq(m.nseeds, 3);
    cr_assert_eq(m.seeds[2], 8);
    cr_assert_float_eq(m.timeout_s, 2.0, 1e-12);
    cr_assert_str_eq(m.gaps, "EK-TECH-010 4.1 OVP < 1 us: sensing takes 3.9 us\na: b");
    expect_error("gap_bad", "scenario{ name='g', gaps={'no reason given'} }\n", "1:", "gaps[1] must be one line");
    /* A seed is a Lua number, whole, 0 to 2^63-1, as --seed takes it. */
    expect_error("seed_big", "scenario{ name='s', seeds={1, 1e19} }\n", "1:", "seeds[2] must be a whole number 0 to 2^63-1 (not 1e+19)");
    expect_error("seed_str", "scenario{ name='s', seeds={'3'} }\n", "1:", "seeds[1] must be a whole number 0 to 2^63-1 (not the string \"3\"");
    expect_error("seed_neg", "scenario{ name='s', seeds={-1} }\n", "1:", "(not -1)");
    expect_error("seed_twice", "scenario{ name='s', seeds={4, 1, 4} }\n", "1:", "seeds[3]: 4 is seeds[1] already");
    expect_error("rack_seed", "scenario{ name='s' }\nrack{ modules=1, seed='7' }\n", "2:", "rack{}: seed must be a whole number 0 to 2^63-1");
}

/* rack{slot={[K]={set=...}}}: slot K's own parameters over the rack's,
 * the others untouched; a bad slot or parameter names itself. A set's
 * names apply and print in sorted order, the same every run (Lua's own
 * table order is seeded per process). */
Test(scenario, a_slot_takes_its_own_parameters)
{
    scn_result *r = run_lua("slot_set",
                            HEAD "rack{ modules=3, load='2kW', set={t_amb=30}, slot={[2]={set={t_amb=70}}} }\n"
                                 "run('20ms')\n"
                                 "expect(get('module[2].tj_a') > get('module[1].tj_a') + 35, 'slot 2 hot')\n"
                                 "expect(math.abs(get('module[3].tj_a') - get('module[1].tj_a')) < 2, 'slot 3 as 1')\n"
                                 "expect(get('module[1].tj_a') > 28 and get('module[1].tj_a') < 35, 'rack set')\n",
                            1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s %s", scn_verdict_name(r->verdict), r->error);
    cr_assert(strstr(r->rack_text, "--set t_amb=30") && strstr(r->rack_text, "--slot-set 2:t_amb=70"), "%s",
              r->rack_text);
    done(r);
    r = run_lua("set_order",
                HEAD "rack{ modules=1, load='2kW', set={t_amb=30, rth_x=1.4, fan_tau=2.5, cth_x=110, rth_l=2, cth_l=41} }\n"
                     "run('1ms')\n" "expect(now() > 0, 'ran')\n",
                1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s %s", scn_verdict_name(r->verdict), r->error);
    cr_assert(strstr(r->rack_text, "--set cth_l=41 --set cth_x=110 --set fan_tau=2.5 --set rth_l=2 --set rth_x=1.4 "
                                   "--set t_amb=30"),
              "%s", r->rack_text);
    done(r);
    expect_error("slot_bad", HEAD "rack{ modules=3, slot={[4]={set={t_amb=70}}} }\n", "2:", "slot[4]: not a slot 1 to 3");
    expect_error("slot_key", HEAD "rack{ modules=3, slot={[1]={sett={}}} }\n", "2:", "sett");
    expect_error("slot_prm", HEAD "rack{ modules=3, slot={[1]={set={t_amb=999}}} }\n", "2:", "slot[1]: set t_amb=999");
}

Test(scenario, time_callbacks_and_checks)
{
    scn_result *r = run_lua("time", HEAD RACK
                            "local hits, ticks = {}, 0\n"
                            "at(0.05, function() hits[#hits+1] = now() end)\n"
                            "every('10ms', function() ticks = ticks + 1 end)\n"
                            "expect_always(function() return get('bus.v') < 800 end, { name='no overshoot' })\n"
                            "expect_eventually(function() return get('bus.v') > 700 end, { by=0.45, name='up' })\n"
                            "local t = run_until(function() return get('bus.v') > 700 end, '0.5s')\n"
                            "expect(t > 0.2 and t < 0.45, 'soft start time', { value=t, unit='s', limit='0.2..0.45 s' })\n"
                            "run(0.1)\n"
                            "expect(#hits == 1 and math.abs(hits[1] - 0.05) < 1e-9, 'at fired once at 50 ms')\n"
                            "expect(ticks == math.floor(now() / 0.01 + 1e-9), 'every fired each 10 ms: ' .. ticks)\n"
                            "expect(false, 'this check fails')\n",
                            1, 1);
    cr_assert_eq(r->verdict, SCN_FAIL, "%s", r->error);
    cr_assert_eq(r->nfig, 6, "%u figures", r->nfig);
    /* in the order recorded: 'up' when it came true, the expects, then
     * the open-ended expect_always when the run ends */
    static const char *const order[] = {"up", "soft start time", "at fired once at 50 ms", "every fired each 10 ms",
                                         "this check fails", "no overshoot"};
    for (unsigned i = 0; i < r->nfig; i++) {
        cr_assert(!strncmp(r->fig[i].name, order[i], strlen(order[i])), "figure %u is '%s'", i, r->fig[i].name);
        cr_assert_eq(r->fig[i].pass, i != 4, "%s (%s)", r->fig[i].name, r->fig[i].where);
    }
    cr_assert_eq(r->first_fail, 4);
    cr_assert(strstr(r->fig[4].where, "time.lua:13"), "%s", r->fig[4].where);
    cr_assert_float_eq(r->fig[0].t_s, r->fig[1].value, 1e-9, "eventually and run_until saw the same quantum");
    done(r);
}

/* A whole-number signal reads as a Lua integer (a fresh user's
 * `"module[" .. get("swarm.leader") .. "]"` read "module[1.0]"); a
 * signal in a unit, and a fraction, stay floats. */
Test(scenario, a_whole_number_signal_reads_as_an_integer)
{
    scn_result *r = run_lua("ints", HEAD RACK
                            "local ek3 = require('ek3')\n"
                            "run_until(function() return get('swarm.leader') > 0 end, '2s', 'a leader')\n"
                            "local L = get('swarm.leader')\n"
                            "expect(math.type(L) == 'integer', 'the leader slot: ' .. math.type(L))\n"
                            "expect(get('module[' .. L .. '].online') == 1, 'module[' .. L .. '] is online')\n"
                            "expect(math.type(get('canbus.frames')) == 'integer', 'a counter')\n"
                            "expect(math.type(get('module[1].relay')) == 'integer', 'a flag')\n"
                            "expect(math.type(get('bus.v')) == 'float', 'a voltage')\n"
                            "expect(math.type(get('canbus.load')) == 'float', 'a fraction')\n"
                            /* ek3.band's `to` as expect_always takes it: a time string too */
                            "local b = ek3.band('bus.v', 0, 1000, 'the bus', 'V', string.format('%.4fs', now() + 0.01))\n"
                            "run('20ms')\n"
                            "b()\n",
                            1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s (%s)", scn_verdict_name(r->verdict), r->error);
    int online = 0, band = 0;
    for (unsigned i = 0; i < r->nfig; i++) {
        cr_assert(r->fig[i].pass, "%s", r->fig[i].name);
        if (!strncmp(r->fig[i].name, "module[", 7) && strstr(r->fig[i].name, "] is online"))
            online = !strstr(r->fig[i].name, ".0]");
        band += !strncmp(r->fig[i].name, "the bus", 7);
    }
    cr_assert(online, "the slot reads as an integer in the figure's name");
    cr_assert_eq(band, 3, "the band's window, its lowest and its highest");
    /* A named run_until that came true is a passed check, the time it took its figure. */
    cr_assert(!strcmp(r->fig[0].name, "a leader") && r->fig[0].pass && r->fig[0].value > 0 &&
                  r->fig[0].value < 2 && !strcmp(r->fig[0].limit, "true within 2 s") &&
                  fabs(r->fig[0].t_s - r->fig[0].value) < 1e-9 && strstr(r->fig[0].where, "ints.lua:4"),
              "%s = %g, %s (%s)", r->fig[0].name, r->fig[0].value, r->fig[0].limit, r->fig[0].where);
    done(r);
}

Test(scenario, a_failed_run_until_ends_the_run_as_fail)
{
    scn_result *r = run_lua("until", HEAD RACK "run_until(function() return get('bus.v') > 900 end, '50ms', 'bus above 900 V')\n"
                                             "error('not reached')\n",
                            1, 1);
    cr_assert_eq(r->verdict, SCN_FAIL, "%s", r->error);
    cr_assert_str_eq(r->fig[r->first_fail].name, "bus above 900 V: timed out");
    cr_assert_float_eq(r->fig[r->first_fail].value, 0.05, 1e-12);
    cr_assert_str_eq(r->fig[r->first_fail].limit, "true within 50 ms");
    cr_assert_float_eq(r->sim_s, 0.05, 1e-9);
    done(r);
}

/* A verdict claims only what ran: a timer or a load the run ended before
 * fails at its line, and a run with no check at all is no PASS. */
Test(scenario, what_never_came_fails_and_a_run_without_checks_is_an_error)
{
    scn_result *r = run_lua("late", HEAD RACK "at(5, function() expect(true, 'never') end)\n"
                                              "set_load{ power = '4kW', at = '9s' }\n"
                                              "every('1s', function() end)\n"
                                              "at(0.02, function() expect(true, 'early') end)\n"
                                              "run('50ms')\n",
                            1, 1);
    cr_assert_eq(r->verdict, SCN_FAIL, "%s", r->error);
    const char *want[] = {"at(5 s) never ran (the run ended at 0.050000 s)",
                          "set_load{} at 9 s never took effect (the run ended at 0.050000 s)",
                          "every(1 s): its first call, due at 1 s, never ran (the run ended at 0.050000 s)"};
    const char *line[] = {":3", ":4", ":5"};
    for (unsigned i = 0; i < 3; i++) {
        unsigned j = 0;
        while (j < r->nfig && strcmp(r->fig[j].name, want[i]))
            j++;
        cr_assert_lt(j, r->nfig, "no figure '%s'", want[i]);
        cr_assert_not(r->fig[j].pass);
        cr_assert(strstr(r->fig[j].where, line[i]), "%s: at %s", want[i], r->fig[j].where);
    }
    cr_assert_eq(r->nfig, 4, "the early check and the three that never came");
    /* The run's line names the first failure and counts the others. */
    char line1[1024] = "";
    FILE *m = fmemopen(line1, sizeof line1 - 1, "w");
    cr_assert_not_null(m);
    vrd_line(m, r);
    fclose(m);
    cr_assert(strstr(line1, "at(5 s) never ran (the run ended at 0.050000 s), limit run before the end (") &&
                  strstr(line1, "late.lua:3); 2 more checks failed: set_load{} at 9 s never took effect (the run ended "
                                "at 0.0500... (") &&
                  strstr(line1, "late.lua:4), every(1 s): its first call, due at 1 s, never ran (the run e... (") &&
                  strstr(line1, "late.lua:5)\n"),
              "%s", line1);
    done(r);
    r = run_lua("nocheck", HEAD RACK "run('20ms')\n", 1, 1);
    cr_assert_eq(r->verdict, SCN_ERROR);
    cr_assert(strstr(r->error, "nocheck.lua: no check ran: a verdict needs at least one"), "%s", r->error);
    done(r);
    r = run_lua("one", HEAD RACK "run('1ms')\nexpect(true, 'once')\n", 1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s", r->error);
    m = fmemopen(line1, sizeof line1 - 1, "w");
    cr_assert_not_null(m);
    vrd_line(m, r);
    fclose(m);
    cr_assert(strstr(line1, "seed 1      1 check      0.001 s sim") && !strstr(line1, "checks"), "%s", line1);
    done(r);
    /* A condition that failed says so, as JUnit does (scn_fig_result). */
    r = run_lua("cond", HEAD RACK "run('1ms')\nexpect(false, 'bus up')\n", 1, 1);
    m = fmemopen(line1, sizeof line1 - 1, "w");
    cr_assert_not_null(m);
    vrd_line(m, r);
    fclose(m);
    cr_assert(strstr(line1, "at 0.001000 s: bus up: false, expected true ("), "%s", line1);
    done(r);
    /* A condition that is not a boolean could never fail: an error at its line. */
    r = run_lua("notbool", HEAD RACK "run('1ms')\nexpect('bus.v', '>=', 700)\n", 1, 1);
    cr_assert_eq(r->verdict, SCN_ERROR, "%s", r->error);
    cr_assert(strstr(r->error, "notbool.lua:4: expect: the condition is the string 'bus.v', which Lua counts as true, "
                               "not a boolean: give a comparison"),
              "%s", r->error);
    done(r);
    r = run_lua("negat", HEAD RACK "fault('pull', 3, { at = -1 })\nrun('1ms')\nexpect(true, 'x')\n", 1, 1);
    cr_assert_eq(r->verdict, SCN_ERROR, "%s", r->error);
    cr_assert(strstr(r->error, "negat.lua:3: fault 'pull': at = -1 s is negative: it is 0 s to 86400 s"), "%s",
              r->error);
    done(r);
    r = run_lua("nilcond", HEAD RACK "run('1ms')\nexpect(t_gone, 'gone')\n", 1, 1);
    cr_assert_eq(r->verdict, SCN_ERROR, "%s", r->error);
    cr_assert(strstr(r->error, "nilcond.lua:4: expect: the condition is nil (a name not set?)"), "%s", r->error);
    done(r);
    /* The watchers' and run_until's conditions likewise (each passed whatever the rig did): told at the line
     * that made the check, as it is when it fails. */
    r = run_lua("alwaysstr", HEAD RACK "expect_always(function() return 'bus.v > 900' end)\nrun('1ms')\n", 1, 1);
    cr_assert_eq(r->verdict, SCN_ERROR, "%s", r->error);
    cr_assert(strstr(r->error, "alwaysstr.lua:3: expect_always: the condition returned the string 'bus.v > 900', "
                               "which Lua counts as true, not a boolean: return a comparison"),
              "%s", r->error);
    done(r);
    r = run_lua("evnum", HEAD RACK "expect_eventually(function() return 0 end, { by = '1ms' })\nrun('2ms')\n", 1, 1);
    cr_assert_eq(r->verdict, SCN_ERROR, "%s", r->error);
    cr_assert(strstr(r->error, "evnum.lua:3: expect_eventually: the condition returned the number 0, which Lua counts "
                               "as true"),
              "%s", r->error);
    done(r);
    r = run_lua("untilnil", HEAD RACK "run_until(function() if false then return true end end, '1ms')\n", 1, 1);
    cr_assert_eq(r->verdict, SCN_ERROR, "%s", r->error);
    cr_assert(strstr(r->error, "untilnil.lua:3: run_until: the condition returned nil (no return on that path"), "%s",
              r->error);
    done(r);
    r = run_lua("whennum", HEAD RACK "fault('pull', 3, { when = function() return get('bus.v') end })\nrun('1ms')\n", 1,
                1);
    cr_assert_eq(r->verdict, SCN_ERROR, "%s", r->error);
    cr_assert(strstr(r->error, "whennum.lua:3: fault: when: the condition returned the number "), "%s", r->error);
    done(r);
}

Test(scenario, faults_take_effect_at_their_onset_and_are_recorded)
{
    scn_result *r = run_lua("fault", HEAD RACK
                            "local h = fault('pull', 3, { at='0.1s' })\n"
                            "run('99.9ms')\n"
                            "expect(get('module[3].present') == 1, 'still in before 100 ms')\n"
                            "run('0.1ms')\n"
                            "expect(get('module[3].present') == 0, 'out from 100 ms')\n"
                            "fault('igf', 2, { i='40mA', when=function() return now() >= 0.15 end, duration='10ms' })\n"
                            "run('0.1s')\n"
                            "fault('fan', 1, { at=now() + 0.1 })\n" /* 0.2 + 0.1: 0.30000000000000004 in Lua */
                            "run('0.11s')\n",
                            1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s %s", r->error, r->first_fail >= 0 ? r->fig[r->first_fail].name : "");
    cr_assert_eq(r->nfault, 3);
    cr_assert_float_eq(r->fault[0].onset_s, 0.1, 1e-9);
    cr_assert(strstr(r->fault[0].text, "pull:3@0.1"), "%s", r->fault[0].text);
    /* A fault's text shows its time to the ns it goes in at: 0.3s, a
     * condition's its onset (0.15s). */
    cr_assert(!strncmp(r->fault[2].text, "fan:1@0.3s", 10), "%s", r->fault[2].text);
    cr_assert(!strncmp(r->fault[1].text, "igf:2@0.15s", 11), "%s", r->fault[1].text);
    cr_assert(r->fault[1].onset_s >= 0.15 && r->fault[1].onset_s < 0.1502, "%g", r->fault[1].onset_s);
    cr_assert_float_eq(r->fault[1].cleared_s, r->fault[1].onset_s + 0.01, 2e-4);
    done(r);
}

/* A kernel fault scheduled before the run, at a time its MCU runs, is
 * taken on every seed (it was checked at 0 s, held in reset on the seeds
 * whose draw holds the slot); one at 5 ms is refused on every seed. */
Test(scenario, a_kernel_fault_is_checked_at_its_own_time)
{
    for (uint64_t seed = 1; seed <= 4; seed++) {
        scn_result *r = run_lua("kfault", HEAD RACK "fault('svc-crash', '3.4', { at='50ms' })\nrun('60ms')\nexpect(now() > 0, 'ran')\n", seed, 1);
        cr_assert_eq(r->verdict, SCN_PASS, "seed %llu: %s", (unsigned long long)seed, r->error);
        cr_assert_eq(r->nfault, 1);
        cr_assert_float_eq(r->fault[0].onset_s, 0.05, 1e-9);
        done(r);
        r = run_lua("kfault", HEAD RACK "fault('svc-crash', '3.4', { at='5ms' })\nrun('60ms')\n", seed, 1);
        cr_assert_eq(r->verdict, SCN_ERROR, "seed %llu", (unsigned long long)seed);
        cr_assert(strstr(r->error, "refused on every seed"), "%s", r->error);
        done(r);
    }
}

/* Of several unknown rack{} fields the first in sorted order is named,
 * on every run (a table's order changes from one Lua state to the next). */
Test(scenario, an_unknown_field_is_named_the_same_on_every_run)
{
    for (int i = 0; i < 8; i++) {
        scn_result *r = run_lua("fields", HEAD "rack{ modules=2, zz=1, sett=2, laod=3, mm=4 }\n", 1, 1);
        cr_assert_eq(r->verdict, SCN_ERROR);
        cr_assert(strstr(r->error, "rack{}: unknown field 'laod'"), "run %d: %s", i, r->error);
        done(r);
    }
}

Test(scenario, the_same_seed_gives_the_same_trace_with_one_or_two_threads)
{
    const char *text = "scenario{ name='det' }\n"
                       "rack{ modules=6, load='12kW', load_at='0.1s', load_ramp='10ms' }\n"
                       "fault('pull', 2, { at='0.15s' })\n"
                       "every('5ms', function() if math.random() < 0.2 then set_load{ power=math.random(8, 14) * 1000 } end end)\n"
                       "run('0.25s')\n" "expect(now() > 0, 'ran')\n";
    scn_result *a = run_lua("det", text, 11, 1);
    scn_result *b = run_lua("det", text, 11, 2);
    scn_result *c = run_lua("det", text, 12, 1);
    cr_assert_eq(a->verdict, SCN_PASS, "%s", a->error);
    cr_assert_eq(b->threads, 2);
    cr_assert_gt(a->trace_rows, 200);
    cr_assert_eq(a->trace_rows, b->trace_rows);
    cr_assert_eq(memcmp(a->trace_sha256, b->trace_sha256, 32), 0, "1 and 2 threads differ");
    cr_assert_neq(memcmp(a->trace_sha256, c->trace_sha256, 32), 0, "seeds 11 and 12 gave the same trace");
    done(a);
    done(b);
    done(c);
}

Test(scenario, a_load_profile_steps_and_ramps_as_its_csv_says)
{
    mkdir_once();
    char csv[700];
    snprintf(csv, sizeof csv, "%s/drive.csv", dir);
    FILE *f = fopen(csv, "w");
    cr_assert_not_null(f);
    fputs("time_s,power_W\n# a step then a ramp\n0,2000\n0.02,2000\n0.06,6000\n", f);
    cr_assert_eq(fclose(f), 0);
    scn_result *r = run_lua("profile", HEAD "rack{ modules=4, load=0 }\n"
                            "run_until(function() return get('bus.v') > 740 end, '0.6s')\n"
                            "local t0 = now()\n"
                            "set_load{ profile='drive.csv' }\n"
                            "run('10ms')\n"
                            "expect(math.abs(get('load.p') - 2000) < 1, 'step: ' .. get('load.p'))\n"
                            "run('30ms')\n"
                            "expect(math.abs(get('load.p') - 4000) <= 10.001, 'half-way up the ramp (one quantum late at most): ' .. get('load.p'))\n"
                            "run('30ms')\n"
                            "expect(math.abs(get('load.p') - 6000) < 1, 'top: ' .. get('load.p'))\n",
                            1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s %s", r->error, r->first_fail >= 0 ? r->fig[r->first_fail].name : "");
    /* The verdict records the load the script set, beside the faults. */
    cr_assert_eq(r->nload, 1u);
    cr_assert_str_eq(r->load[0].text, "profile drive.csv");
    cr_assert(strstr(r->load[0].where, "profile.lua:5"), "%s", r->load[0].where);
    done(r);
    r = run_lua("steps", HEAD RACK "set_load{ power='6kW', at=0.01, ramp='2ms' }\nset_load{ power=3000, at=0.02 }\n"
                                   "run('30ms')\nexpect(true, 'ran')\n",
                1, 1);
    cr_assert_eq(r->nload, 2u, "%s", r->error);
    char txt[8192] = "";
    FILE *m = fmemopen(txt, sizeof txt - 1, "w");
    cr_assert_not_null(m);
    cr_assert_eq(vrd_text(m, r), 0);
    fclose(m);
    cr_assert(strstr(txt, "\nloads set (2):\n  6 kW at 0.010000 s, ramp 2 ms  (") &&
                  strstr(txt, "steps.lua:3)\n  3 kW at 0.020000 s, a step  ("),
              "%s", txt);
    cr_assert(strstr(txt, "then the script set the load 2 times: loads set, below)\n"), "%s", txt);
    /* A script that set no load: no empty section; a figure measured
     * without a limit reads "(measured)", not "(limit (measured))"; a
     * condition "(expected true)" (scn_fig_limit). */
    scn_result *q = run_lua("noload",
                            HEAD RACK "run('0.7s')\nsharing_spread{ to='0.8s' }\nrun('0.2s')\n"
                                      "expect(true, 'ran')\nexpect(true, 'mean', {value=2.5, unit='A'})\n",
                            1, 1);
    char txt0[8192] = "";
    FILE *m0 = fmemopen(txt0, sizeof txt0 - 1, "w");
    cr_assert_not_null(m0);
    cr_assert_eq(vrd_text(m0, q), 0);
    fclose(m0);
    cr_assert(strstr(txt0, "checks (4):") && !strstr(txt0, "loads set"), "%s", txt0);
    cr_assert(strstr(txt0, " %  (measured)  ") && !strstr(txt0, "(limit (measured))"), "%s", txt0);
    /* a condition, with a value or without: what was expected, not "(limit true)" */
    cr_assert(strstr(txt0, "  ran: true  (expected true)  ") && strstr(txt0, "  mean = 2.5 A  (expected true)  ") &&
                  !strstr(txt0, "limit true"),
              "%s", txt0);
    done(q);
    /* ... and each as a number beside its text (verdict.json's power_W) */
    cr_assert_float_eq(r->load[0].power_w, 6000.0, 1e-9);
    cr_assert(isnan(r->load[1].ohm));
    done(r);
    f = fopen(csv, "w");
    fputs("time_s,power_W\n0,2000\n0.01,abc\n", f);
    cr_assert_eq(fclose(f), 0);
    r = run_lua("profile_bad", HEAD RACK "set_load{ profile='drive.csv', at=0.5 }\n", 1, 1);
    cr_assert_eq(r->verdict, SCN_ERROR);
    cr_assert(strstr(r->error, "drive.csv:3:") && strstr(r->error, "profile_bad.lua:3:"), "%s", r->error);
    cr_assert(strstr(r->error, "must be a number"), "%s", r->error);
    done(r);
    r = run_lua("no_load", HEAD RACK "set_load{ at=0.5 }\n", 1, 1); /* every way to give one is named */
    cr_assert_eq(r->verdict, SCN_ERROR);
    cr_assert(strstr(r->error, "set_load{}: give power= (or load=), ohm= or profile="), "%s", r->error);
    done(r);
}

Test(scenario, each_hardware_trip_is_a_step_that_trips_within_10_us)
{
    /* The sensed step is a step at its onset (not spread over the
     * quantum): OVP, OCP, OTP, GFI each trip within the seed's 10 us. */
    scn_result *r = run_lua("trips", HEAD RACK
                            "run('0.6s')\n"
                            "local names = { 'trip-ovp', 'trip-ocp', 'trip-otp', 'trip-gfi' }\n"
                            "for k = 1, 4 do\n"
                            "  trip_latency(k, { at=0.6103, max='10us' })\n"
                            "  fault(names[k], k, { at=0.6103 })\n"
                            "end\n"
                            "run('15ms')\n",
                            1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s %s %g", r->error, r->first_fail >= 0 ? r->fig[r->first_fail].name : "",
                 r->first_fail >= 0 ? r->fig[r->first_fail].value : 0);
    unsigned lat = 0;
    for (unsigned i = 0; i < r->nfig; i++)
        if (strstr(r->fig[i].name, "trip latency")) {
            cr_assert(r->fig[i].value > 0 && r->fig[i].value < 10e-6, "%s = %g s", r->fig[i].name, r->fig[i].value);
            lat++;
        }
    cr_assert_eq(lat, 4);
    done(r);
}

/* every('100us'): one quantum is a valid period ("100us" parses to a
 * double a hair under RIG_PERIOD_NS * 1e-9). */
Test(scenario, every_quantum_is_a_valid_period)
{
    scn_result *r = run_lua("every_q", HEAD RACK
                            "local n = 0\n"
                            "every('100us', function() n = n + 1 end)\n"
                            "run('10ms')\n"
                            "expect(n == 100, 'every quantum: ' .. n)\n",
                            1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s %s", r->error, r->nfig ? r->fig[0].name : "");
    done(r);
}

/* A helper module NAME in the test folder's lib/, holding text. */
static void write_lib(const char *name, const char *text)
{
    mkdir_once();
    char lib[700];
    snprintf(lib, sizeof lib, "%s/lib", dir);
    cr_assert(mkdir(lib, 0700) == 0 || errno == EEXIST);
    snprintf(lib, sizeof lib, "%s/lib/%s", dir, name);
    FILE *f = fopen(lib, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* A check made inside a helper module is told at the scenario's line
 * that called the helper, the helper's own line after it. */
Test(scenario, a_helpers_check_names_the_scenarios_line)
{
    write_lib("h.lua", "local M = {}\nfunction M.check(v)\n  expect(v, 'helper check')\nend\nreturn M\n");
    scn_result *r = run_lua("helper", HEAD RACK "local h = require 'h'\n\nh.check(true)\n", 1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s", r->error);
    cr_assert_eq(r->nfig, 1u);
    char want[800];
    snprintf(want, sizeof want, "%s/helper.lua:5 (%s/lib/h.lua:3)", dir, dir);
    cr_assert(strstr(r->fig[0].where, "helper.lua:5 (") && strstr(r->fig[0].where, "/lib/h.lua:3)"), "where: '%s', want '%s'",
              r->fig[0].where, want);
    done(r); /* a helper that calls another: each helper's line, the outermost first (it named the innermost only) */
    write_lib("o.lua", "local h = require 'h'\nlocal M = {}\nfunction M.go(v)\n  h.check(v)\nend\nreturn M\n");
    r = run_lua("nested", HEAD RACK "local o = require 'o'\n\no.go(true)\n", 1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s", r->error);
    snprintf(want, sizeof want, "%s/nested.lua:5 (%s/lib/o.lua:4, %s/lib/h.lua:3)", dir, dir, dir);
    cr_assert(strstr(r->fig[0].where, "nested.lua:5 (") && strstr(r->fig[0].where, "/lib/o.lua:4, ") &&
                  strstr(r->fig[0].where, "/lib/h.lua:3)"),
              "where: '%s', want '%s'", r->fig[0].where, want);
    done(r);
    /* a tail call keeps no line of its caller: "..." stands for it */
    write_lib("tc.lua", "local h = require 'h'\nlocal M = {}\nfunction M.go(v)\n  return h.check(v)\nend\nreturn M\n");
    r = run_lua("tail", HEAD RACK "local tc = require 'tc'\n\ntc.go(true)\n", 1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s", r->error);
    cr_assert(strstr(r->fig[0].where, "tail.lua:5 (..., ") && strstr(r->fig[0].where, "/lib/h.lua:3)"), "where: '%s'",
              r->fig[0].where);
    done(r);
}

/* The rig's library: the build tree's scenarios/lib, or the folder
 * EK3_SCENARIO_LIB names (a binary run away from its tree), said in the
 * error when a helper is in neither. */
Test(scenario, the_rigs_library_can_be_named_by_the_environment)
{
    char lib[600], p[700];
    snprintf(lib, sizeof lib, "%s/otherlib", dir);
    mkdir(lib, 0755);
    snprintf(p, sizeof p, "%s/onlyhere.lua", lib);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs("return { v = 7,\n  chk = function() expect(true, 'in the library') end }\n", f);
    cr_assert_eq(fclose(f), 0);
    scn_result *r =
        run_lua("envlib", HEAD "local h = require 'onlyhere'\nexpect(h.v == 7, 'from the library')\n", 1, 1);
    cr_assert_eq(r->verdict, SCN_ERROR, "not in the build's library: %s", r->error);
    cr_assert(strstr(r->error, "(the rig's library: EK3_SCENARIO_LIB names another;"), "%s", r->error);
    done(r);
    setenv("EK3_SCENARIO_LIB", lib, 1);
    r = run_lua("envlib", HEAD RACK "local h = require 'onlyhere'\nexpect(h.v == 7, 'from the library')\nh.chk()\n", 1,
                1);
    unsetenv("EK3_SCENARIO_LIB");
    cr_assert_eq(r->verdict, SCN_PASS, "%s", r->error);
    /* its check is told at the scenario's line, then the helper's: a helper by what require loaded, not by a
     * lib/ in its path (it was told as the scenario's own line) */
    cr_assert_eq(r->nfig, 2u);
    cr_assert(strstr(r->fig[1].where, "envlib.lua:5 (") && strstr(r->fig[1].where, "otherlib/onlyhere.lua:2)"),
              "where: '%s'", r->fig[1].where);
    done(r);
}

/* An error raised inside a helper (by the engine's get, by Lua itself,
 * by error()) is told at the scenario's line that called the helper, the
 * helper's own line after it, as a check's where is. */
Test(scenario, a_helpers_error_names_the_scenarios_line)
{
    write_lib("he.lua", "local M = {}\nfunction M.sig(p)\n  return get(p)\nend\n"
                        "function M.cmp(v)\n  return v < 3\nend\n"
                        "function M.fail()\n  error('helper refuses')\nend\nreturn M\n");
    static const struct {
        const char *call, *says;
    } c[] = {{"h.sig('bus.vv')", "unknown signal 'bus.vv'"}, {"h.cmp(nil)", "attempt to compare"},
             {"h.fail()", "helper refuses"}};
    static const int line[] = {3, 6, 9};
    for (int i = 0; i < 3; i++) {
        char src[300], want[100];
        snprintf(src, sizeof src, HEAD RACK "local h = require 'he'\n\n%s\n", c[i].call);
        scn_result *r = run_lua("helper_err", src, 1, 1);
        cr_assert_eq(r->verdict, SCN_ERROR, "%s", c[i].call);
        snprintf(want, sizeof want, "helper_err.lua:5 (%s/lib/he.lua:%d): ", dir, line[i]);
        cr_assert(strstr(r->error, want) && strstr(r->error, c[i].says), "%s: error '%s', want '%s...%s'", c[i].call,
                  r->error, want, c[i].says);
        done(r);
    }
}

Test(scenario, pcall_cannot_catch_a_limit_and_run_on)
{
    /* Once tripped, a limit stays tripped: pcall and xpcall pass it on. */
    expect_error("pcall_loop", HEAD "while true do\n  pcall(function() while true do end end)\nend\n", "3:",
                 "instruction limit");
    expect_error("xpcall_loop", HEAD RACK "every('1ms', function()\n  xpcall(function() while true do end end, print)\nend)\n"
                                          "while true do pcall(run, '1s') end\n",
                 "4:", "instruction limit");
    expect_error("pcall_mem", HEAD "for i = 1, 100 do\n  pcall(string.rep, 'x', 1 << 30)\nend\n", "3:", "memory limit");
    expect_error("pcall_then_return", HEAD "pcall(function() while true do end end)\n", "2:", "instruction limit");
    /* a message handler or a finalizer would run with Lua's hooks off */
    expect_error("xpcall_handler_loop", HEAD "xpcall(function() while true do end end,\n"
                                        "       function(e) while true do end end)\n", "2:", "instruction limit");
    expect_error("gc_finalizer", HEAD "local t = setmetatable({}, { __gc = function() while true do end end })\n",
                 "2:", "__gc finalizers are not allowed");
    expect_error("error_table", HEAD "\nerror({ code = 1 })\n", "3:", "an error object of type table");
    /* and a failed run_until ends the run as FAIL, caught or not */
    scn_result *r = run_lua("pcall_until", HEAD RACK
                            "pcall(run_until, function() return false end, '10ms', 'never')\n"
                            "run('1s')\n",
                            1, 1);
    cr_assert_eq(r->verdict, SCN_FAIL, "%s", r->error);
    cr_assert_float_eq(r->sim_s, 0.01, 1e-9);
    done(r);
    /* pcall and xpcall still catch ordinary errors */
    r = run_lua("pcall_ok", HEAD RACK
                "local ok, e = pcall(error, 'boom')\n"
                "expect(not ok and e == 'boom', 'pcall caught: ' .. tostring(e))\n"
                "local ok2, e2 = xpcall(function(a) return a + 1 end, print, 41)\n"
                "expect(ok2 and e2 == 42, 'xpcall returned ' .. tostring(e2))\n"
                "local ok3, e3 = xpcall(function() error('x') end, function(m) return 'handled' end)\n"
                "expect(not ok3 and e3 == 'handled', 'xpcall handler: ' .. tostring(e3))\n",
                1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s %s", r->error, r->first_fail >= 0 ? r->fig[r->first_fail].name : "");
    done(r);
}

Test(scenario, a_fault_takes_a_time_or_a_condition_and_run_stays_out_of_callbacks)
{
    expect_error("at_and_when", HEAD RACK "fault('pull', 2, { at=0.5, when=function() return true end })\n", "3:",
                 "not both");
    expect_error("run_in_at", HEAD RACK "at(0.01, function()\n  run('1ms')\nend)\nrun('20ms')\n", "4:",
                 "run: not allowed inside a callback");
    expect_error("by_missing", HEAD RACK "expect_eventually(function() return true end, { name='x' })\n", "3:",
                 "give {by=TIME}");
}

/* update{}: its fields checked (file:line and why), one at a time; a
 * small update runs to the end and its signals say so. */
Test(scenario, update_checks_its_fields_and_runs_a_roll, .timeout = 120)
{
    expect_error("upd_norack", HEAD "update{ version='1.1.0' }\n", "2:", "no rack yet");
    expect_error("upd_neither", HEAD RACK "update{ wave=2 }\n", "3:", "give version");
    expect_error("upd_both", HEAD RACK "update{ version='1.1.0', image='x.img' }\n", "3:", "one of them");
    expect_error("upd_version", HEAD RACK "update{ version='1.1' }\n", "3:", "major.minor.patch");
    expect_error("upd_wave", HEAD RACK "update{ version='1.1.0', wave=0 }\n", "3:", "1 to 510");
    expect_error("upd_slot", HEAD RACK "update{ version='1.1.0', modules={1, 5} }\n", "3:", "modules[2]");
    expect_error("upd_key", HEAD RACK "update{ version='1.1.0', wav=2 }\n", "3:", "unknown field 'wav'");
    expect_error("upd_size", HEAD RACK "update{ version='1.1.0', size=1e9 }\n", "3:", "size");
    expect_error("upd_dotdot", HEAD RACK "update{ image='../x.img' }\n", "3:", "under the scenario's folder");
    expect_error("upd_nofile", HEAD RACK "update{ image='none.img' }\n", "3:", "none.img");
    write_lua("notimg", "not an image at all, just text");
    expect_error("upd_notimg", HEAD RACK "update{ image='notimg.lua' }\n", "3:", "not a firmware image");
    expect_error("upd_sec_q", HEAD RACK "update{ version='1.1.0', security='2k' }\n", "3:", "security must be a whole number");
    expect_error("upd_hw_s", HEAD RACK "update{ version='1.1.0', hw='G43' }\n", "3:", "four characters");
    expect_error("upd_img_sec", HEAD RACK "update{ image='x.img', security=7 }\n", "3:", "security is for an image made from version=");
    expect_error("upd_unicast", HEAD RACK "update{ version='1.1.0', unicast='no' }\n", "3:", "unicast is true or false");
    expect_error("upd_frac", HEAD RACK "update{ version='1.1.0', modules={1.5} }\n", "3:", "modules[1] is not a whole number");
    expect_error("upd_empty", HEAD RACK "update{ version='1.1.0', size=0 }\n", "3:", "size");
    expect_error("upd_dup", HEAD RACK "update{ version='1.1.0', modules={1, 2, 1} }\n", "3:", "slot 1 twice");
    expect_error("upd_dots", HEAD RACK "update{ image='my..img' }\n", "3:", "my..img: No such file");
    cr_assert_eq(symlink("/etc/hostname", (snprintf(path, sizeof path, "%s/out.img", dir), path)), 0);
    expect_error("upd_link", HEAD RACK "update{ image='out.img' }\n", "3:", "leads out of the scenario's folder");
    expect_error("upd_twice", HEAD RACK "run('0.6s')\nupdate{ version='1.1.0' }\nupdate{ version='1.2.0' }\n", "5:",
                 "has not finished");
    scn_result *r = run_lua("upd_run",
                            HEAD RACK "run_until(function() return now() >= 1.0 end, '2s')\n"
                                      "update{ version='1.1.0', security=2, size=2048, modules={2, 3} }\n"
                                      "run_until(function() return get('update.finished') == 1 end, '60s')\n"
                                      "expect(get('update.done') == 2, 'two done')\n"
                                      "expect(get('update.version') == 0x010100, 'its version')\n"
                                      "expect(get('module[2].fw_version') == 0x010100, 'module 2 on 1.1.0')\n"
                                      "expect(get('module[1].fw_version') == 0x010000, 'module 1 left on 1.0.0')\n"
                                      "expect(get('module[1].update') == 'skip', 'module 1 not in it')\n"
                                      "expect(get('module[3].update') == 'done', 'module 3 done')\n"
                                      "update{ version='1.2.0', security=0, modules={4} }\n"
                                      "run_until(function() return get('update.finished') == 1 end, '5s')\n"
                                      "expect(get('module[4].update_why') == 'downgrade', 'a downgrade refused')\n"
                                      "expect(get('update.refused') == 1, 'one refused')\n",
                            1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s %s", scn_verdict_name(r->verdict), r->error);
    done(r);
}

/* rack{trust_key=}: a release key provisioned in every module; an image
 * it signed rolls out, and without the key every module refuses it
 * unknown-key at its header. */
Test(scenario, a_trusted_release_key_takes_a_release_image, .timeout = 120)
{
    mkdir_once();
    fwsign_key rel;
    cr_assert_eq(fwsign_keygen(&rel), EK3_OK);
    char priv[700], pub[700], why[400];
    snprintf(priv, sizeof priv, "%s/rel.key", dir);
    snprintf(pub, sizeof pub, "%s/rel.pem", dir);
    cr_assert_eq(fwsign_key_save(&rel, priv, pub, why, sizeof why), EK3_OK, "%s", why);
    uint8_t pay[2000];
    memset(pay, 0x5A, sizeof pay);
    size_t cap = FWSIGN_SIZE(sizeof pay), len = 0;
    uint8_t *img = malloc(cap);
    cr_assert_not_null(img);
    fwsign_meta m = {BRD_HW_ID, 0x010100, 2, 0};
    cr_assert_eq(fwsign_build(&rel, &m, pay, sizeof pay, img, cap, &len), EK3_OK);
    snprintf(path, sizeof path, "%s/rel.img", dir);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(img, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
    free(img);
    expect_error("tk_none", HEAD "rack{ modules=2, trust_key='none.pem' }\n", "2:", "trust_key");
    expect_error("tk_num", HEAD "rack{ modules=2, trust_key=7 }\n", "2:", "names a public key file");
    expect_error("tk_bad", HEAD "rack{ modules=2, trust_key='tk_none.lua' }\n", "2:", "trust_key tk_none.lua");
    static const char body[] = "run_until(function() return now() >= 1.0 end, '2s')\n"
                               "update{ image='rel.img', modules={1, 2} }\n"
                               "run_until(function() return get('update.finished') == 1 end, '30s')\n";
    char text[1024];
    snprintf(text, sizeof text, HEAD "rack{ modules=2, load='1kW', load_at='0.45s', trust_key='rel.pem' }\n%s"
             "expect(get('update.done') == 2, 'both on the release image')\n", body);
    scn_result *r = run_lua("tk_on", text, 1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s %s", scn_verdict_name(r->verdict), r->error);
    done(r);
    snprintf(text, sizeof text, HEAD "rack{ modules=2, load='1kW', load_at='0.45s' }\n%s"
             "expect(get('update.refused') == 2, 'both refuse it')\n"
             "expect(get('module[1].update_why') == 'unknown-key', 'not a key it trusts')\n", body);
    r = run_lua("tk_off", text, 1, 1);
    cr_assert_eq(r->verdict, SCN_PASS, "%s %s", scn_verdict_name(r->verdict), r->error);
    done(r);
}
