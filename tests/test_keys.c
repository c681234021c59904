/* test_keys.c - a run's key signals (key.h, keys{} in scn.c): the
 * min/max decimation keeps a one-sample spike and bounds the rows; a
 * short run is written sample for sample; keys.csv reads back, and a bad
 * one is refused naming its line; a scenario run with a report directory
 * writes keys.csv with the defaults and keys{}'s signals and the same
 * trace hash as without; keys{} refuses a misspelt path (did you mean),
 * more than 8 signals, and a call before rack{} or after run(). */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ek3_err.h"
#include "key.h"
#include "scn.h"

static char dir[64];

__attribute__((destructor)) static void rm_dir(void)
{
    char cmd[128];
    if (dir[0] && snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir) < (int)sizeof cmd && system(cmd) != 0)
        fprintf(stderr, "test_keys: could not remove %s\n", dir);
}

static void mkdir_once(void)
{
    if (dir[0])
        return;
    snprintf(dir, sizeof dir, "/tmp/ek3-keys-%ld-XXXXXX", (long)getpid());
    cr_assert_not_null(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
}

static const char *const names[2] = {"bus.v", "canbus.load"};
static const char *const units[2] = {"V", ""};

/* The CSV of kr read back. */
static void round_trip(const key_rec *kr, key_data *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(key_write_csv(kr, f), 0);
    fclose(f);
    f = fmemopen(buf, len, "r");
    char err[200];
    cr_assert_eq(key_read_csv(f, "mem.csv", d, err, sizeof err), 0, "%s", err);
    fclose(f);
    free(buf);
}

Test(keys, a_long_run_is_decimated_min_max_and_keeps_a_one_sample_spike)
{
    key_rec kr;
    cr_assert_eq(key_init(&kr, 2, names, units), 0);
    for (int i = 0; i < 100000; i++) {
        double v[2] = {i == 54321 ? 600 : 750 + 0.001 * (i % 7), i * 1e-5};
        cr_assert_eq(key_push(&kr, i * 1e-4, v), 0);
    }
    double v[2] = {0, 0};
    cr_assert_eq(key_push(&kr, 1.0, v), EK3_EINVAL, "a time not after the last is refused");
    size_t rows = key_rows(&kr);
    cr_assert(rows >= KEY_BUCKETS && rows <= 2 * KEY_BUCKETS, "%zu rows", rows);
    key_data d;
    round_trip(&kr, &d);
    cr_assert_eq(d.nrow, rows);
    cr_assert_eq(d.ncol, 2);
    cr_assert_str_eq(d.name[0], "bus.v");
    cr_assert_str_eq(d.unit[0], "V");
    cr_assert_str_eq(d.name[1], "canbus.load");
    cr_assert_str_eq(d.unit[1], "");
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < d.nrow; i++) {
        lo = fmin(lo, d.v[i]), hi = fmax(hi, d.v[d.nrow + i]);
        if (i)
            cr_assert_gt(d.t[i], d.t[i - 1], "row %zu: times rise", i);
    }
    cr_assert_eq(lo, 600, "the one-sample dip is kept (lowest %g)", lo);
    cr_assert_float_eq(hi, 99999e-5, 1e-12, "the last maximum is kept");
    cr_assert_float_eq(d.t[0], 0, 0);
    cr_assert_float_eq(d.t[d.nrow - 1], 9.9999, 1e-9, "the last sample's time is the last row's");
    key_data_free(&d);
    key_free(&kr);
}

Test(keys, a_short_run_is_written_sample_for_sample)
{
    key_rec kr;
    cr_assert_eq(key_init(&kr, 2, names, units), 0);
    for (int i = 0; i < 700; i++) {
        double v[2] = {i, i % 2 ? NAN : 1};
        cr_assert_eq(key_push(&kr, i * 1e-3, v), 0);
    }
    cr_assert_eq(key_rows(&kr), 700);
    key_data d;
    round_trip(&kr, &d);
    for (size_t i = 0; i < 700; i++) {
        cr_assert_float_eq(d.v[i], (double)i, 0);
        cr_assert(i % 2 ? isnan(d.v[700 + i]) : d.v[700 + i] == 1, "row %zu: nan written and read", i);
    }
    key_data_free(&d);
    key_free(&kr);
}

static void bad_csv(const char *text, const char *where)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    key_data d;
    char err[200] = "";
    cr_assert_eq(key_read_csv(f, "k.csv", &d, err, sizeof err), EK3_EPARSE, "'%s' was read", text);
    cr_assert(strstr(err, where), "'%s': the error '%s' does not name %s", text, err, where);
    cr_assert_null(d.t);
    fclose(f);
}

Test(keys, a_bad_keys_csv_is_refused_naming_its_line)
{
    bad_csv("", "k.csv:1:");
    bad_csv("time,bus.v (V)\n", "k.csv:1:");
    bad_csv("t_s,bus.v (V\n", "k.csv:1:");
    bad_csv("t_s,bus v\n", "k.csv:1:");
    bad_csv("t_s,bus.v (V)\n0,1\n1,2,3\n", "k.csv:3:");
    bad_csv("t_s,bus.v (V)\n0,1\n1,x\n", "k.csv:3:");
    bad_csv("t_s,bus.v (V)\n0,1\n1,\n", "k.csv:3:");
    bad_csv("t_s,bus.v (V)\n1,1\n0,1\n", "k.csv:3: the time goes back");
    bad_csv("t_s,bus.v (V)\nnan,1\n", "k.csv:2:");
    bad_csv("t_s,bus.v (V)\n0,1\n\n", "k.csv:3:");
    static const char nul[] = "t_s,bus.v (V)\n0,1\0\n";
    FILE *f = fmemopen((void *)nul, sizeof nul - 1, "r");
    key_data d;
    char err[200];
    cr_assert_eq(key_read_csv(f, "k.csv", &d, err, sizeof err), EK3_EPARSE);
    cr_assert(strstr(err, "k.csv:2: a NUL byte"), "%s", err);
    fclose(f);
}

/* Run text as scenario NAME, with a report directory when rep. */
static scn_result *run_lua(const char *name, const char *text, const char *rep)
{
    mkdir_once();
    char path[600];
    snprintf(path, sizeof path, "%s/%s.lua", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    scn_result *r = calloc(1, sizeof *r);
    FILE *null = fopen("/dev/null", "w");
    scn_opts o = {.seed = 3, .out = null, .report_dir = rep, .instr_max = 5000000, .mem_max = 64u << 20};
    scn_run_file(path, &o, r);
    fclose(null);
    return r;
}

static void done(scn_result *r)
{
    scn_result_free(r);
    free(r);
}

#define HEAD "scenario{ name='k', seeds={3} }\n"
#define RACK "rack{ modules=4, load='8kW', load_at='0.05s', load_ramp='20ms' }\n"

Test(keys, a_run_with_a_report_dir_writes_keys_csv_and_keeps_its_trace_hash)
{
    mkdir_once();
    char rep[128], csv[200];
    snprintf(rep, sizeof rep, "%s/rep", dir);
    cr_assert_eq(mkdir(rep, 0755), 0);
    const char *text = HEAD RACK "keys{ 'module[2].iout', 'canbus.load', 'bus.v' }\n"
                                 "fault('pull', 3, { at='0.1s' })\nrun('0.2s')\n";
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
    a = run_lua("nokeys", HEAD RACK "run('0.01s')\n", csv);
    cr_assert_eq(a->verdict, SCN_PASS, "%s", a->error);
    snprintf(csv, sizeof csv, "%s/none/keys.csv", dir);
    cr_assert_eq(access(csv, R_OK), 0, "the defaults are recorded without keys{}");
    done(a);
}

Test(keys, keys_refuses_a_misspelt_path_too_many_and_the_wrong_moment)
{
    struct {
        const char *text, *why;
    } bad[] = {
        {HEAD RACK "keys{ 'module[2].iuot' }\n", "did you mean module[2].iout"},
        {HEAD RACK "keys{ 'module[9].iout' }\n", "module[9]"},
        {HEAD RACK "keys{ 'bus.v', name='x' }\n", "without name=value"},
        {HEAD RACK "keys{ 3 }\n", "[1] must be a signal path"},
        {HEAD "keys{ 'bus.v' }\n" RACK, "no rack yet"},
        {HEAD RACK "run('1ms')\nkeys{ 'bus.i' }\n", "before the first run()"},
        {HEAD RACK "keys{ 'module[1].iout', 'module[2].iout', 'module[3].iout', 'module[4].iout', 'module[1].vout',"
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
    scn_result *r = run_lua("eight", HEAD RACK "keys{ 'module[1].iout', 'module[2].iout', 'module[3].iout', "
                                               "'module[4].iout', 'module[1].vout', 'module[2].vout', "
                                               "'module[3].vout', 'bus.i', 'bus.v' }\nrun('1ms')\n",
                            NULL);
    cr_assert_eq(r->verdict, SCN_PASS, "%s", r->error);
    done(r);
}
