/* test_keys.c - a run's key signals (key.h): the min/max decimation
 * keeps a one-sample spike and bounds the rows; a short run is written
 * sample for sample; keys.csv reads back, and a bad one is refused
 * naming its line. keys{} and keys.csv in a scenario run are in
 * test_check_lua.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "key.h"

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
