/* test_capture.c - pre/post-trigger capture (cap.h) around a constructed
 * step: the rows kept before and after, the trigger row, the CSV text,
 * the plots, and write errors reported. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cap.h"
#include "ek3_err.h"

static const char *const names[2] = {"bus.v", "module[3].iout"};
static const char *const units[2] = {"V", "A"};

/* 100 us quantum, 1 ms before, 2 ms after; trigger on bus.v falling through 700 V. */
static cap_cfg cfg(void)
{
    return (cap_cfg){.k = 2, .names = names, .units = units, .quantum = 1e-4, .pre = 1e-3, .post = 2e-3,
                     .trig = 0, .level = 700, .edge = CAP_FALLING};
}

/* bus.v 750 V, stepping to 690 V at row `at`; iout = row number. */
static int push_step(cap *c, int rows, int at)
{
    int st = CAP_ARMED;
    for (int i = 0; i < rows; i++) {
        double v[2] = {i < at ? 750 : 690, i};
        st = cap_push(c, i * 1e-4, v);
        cr_assert(st >= 0);
    }
    return st;
}

Test(capture, pre_post_rows_around_a_falling_step)
{
    cap c;
    cap_cfg g = cfg();
    cr_assert_eq(cap_init(&c, &g), 0);
    cr_assert_eq(push_step(&c, 50, 50), CAP_ARMED);
    cr_assert_eq(cap_rows(&c), 11, "the ring holds pre + 1 rows while armed");
    cr_assert_float_eq(cap_row(&c, 0)[0], 39e-4, 1e-12, "oldest kept row");
    double v[2] = {690, 50};
    cr_assert_eq(cap_push(&c, 50e-4, v), CAP_TRIGGERED);
    for (int i = 51; i < 70; i++) {
        double w[2] = {690, i};
        cr_assert_eq(cap_push(&c, i * 1e-4, w), CAP_TRIGGERED, "row %d", i);
    }
    double w[2] = {690, 70};
    cr_assert_eq(cap_push(&c, 70e-4, w), CAP_DONE);
    double x[2] = {0, 71};
    cr_assert_eq(cap_push(&c, 71e-4, x), CAP_DONE, "rows after DONE are ignored");
    cr_assert_eq(cap_rows(&c), 10 + 1 + 20);
    cr_assert_eq(cap_trigger_row(&c), 10);
    cr_assert_float_eq(cap_trigger_time(&c), 5e-3, 1e-12);
    for (size_t i = 0; i < cap_rows(&c); i++) {
        cr_assert_float_eq(cap_row(&c, i)[0], (40 + (double)i) * 1e-4, 1e-12, "row %zu in time order", i);
        cr_assert_float_eq(cap_row(&c, i)[2], 40 + (double)i, 0);
    }
    cr_assert_eq(cap_row(&c, 9)[1], 750);
    cr_assert_eq(cap_row(&c, 10)[1], 690);
    cap_free(&c);
}

Test(capture, csv_text)
{
    cap c;
    cap_cfg g = cfg();
    g.pre = 2e-4, g.post = 1e-4;
    cr_assert_eq(cap_init(&c, &g), 0);
    cr_assert_eq(push_step(&c, 10, 5), CAP_DONE);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(cap_write_csv(&c, f), 0);
    fclose(f);
    cr_assert_str_eq(buf, "t_s,bus.v_V,module[3].iout_A\n"
                          "0.0003,750,3\n"
                          "0.0004,750,4\n"
                          "0.0005,690,5\n"
                          "0.0006,690,6\n");
    free(buf);
    cap_free(&c);
}

Test(capture, early_trigger_and_edges)
{
    cap c;
    cap_cfg g = cfg();
    cr_assert_eq(cap_init(&c, &g), 0);
    push_step(&c, 30, 3);
    cr_assert_eq(cap_trigger_row(&c), 3, "only 3 rows existed before the trigger");
    cr_assert_eq(cap_rows(&c), 3 + 1 + 20);
    cap_free(&c);
    g.edge = CAP_RISING;
    cr_assert_eq(cap_init(&c, &g), 0);
    cr_assert_eq(push_step(&c, 30, 3), CAP_ARMED, "a falling step does not fire a rising trigger");
    cap_free(&c);
    g.edge = CAP_EITHER;
    cr_assert_eq(cap_init(&c, &g), 0);
    push_step(&c, 30, 3);
    cr_assert_eq(cap_trigger_row(&c), 3);
    cap_free(&c);
    /* Starting below the level is no crossing. */
    g.edge = CAP_FALLING;
    cr_assert_eq(cap_init(&c, &g), 0);
    cr_assert_eq(push_step(&c, 30, 0), CAP_ARMED);
    cap_free(&c);
}

Test(capture, external_trigger)
{
    cap c;
    cap_cfg g = cfg();
    g.trig = -1, g.pre = 0, g.post = 3e-4;
    cr_assert_eq(cap_init(&c, &g), 0);
    push_step(&c, 7, 100);
    cap_fire(&c);
    double v[2] = {750, 7};
    cr_assert_eq(cap_push(&c, 7e-4, v), CAP_TRIGGERED);
    cr_assert_eq(cap_trigger_row(&c), 0, "pre 0: the trigger row is the first");
    cr_assert_float_eq(cap_trigger_time(&c), 7e-4, 1e-12);
    cap_free(&c);
}

Test(capture, files_written_and_errors_reported)
{
    char dir[] = "/tmp/ek3_capXXXXXX";
    cr_assert(mkdtemp(dir));
    cap c;
    cap_cfg g = cfg();
    cr_assert_eq(cap_init(&c, &g), 0);
    push_step(&c, 100, 50);
    char err[256], p[512];
    cr_assert_eq(cap_write(&c, dir, "dip", err, sizeof err), 0, "%s", err);
    static const char *const files[] = {"dip.csv", "dip_V.png", "dip_V.svg", "dip_A.png", "dip_A.svg"};
    for (int i = 0; i < 5; i++) {
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        cr_assert_eq(stat(p, &st), 0, "%s written", files[i]);
        cr_assert(st.st_size > 100, "%s not empty", files[i]);
        unlink(p);
    }
    /* A full disk: dip.csv a link to /dev/full. */
    snprintf(p, sizeof p, "%s/dip.csv", dir);
    cr_assert_eq(symlink("/dev/full", p), 0);
    cr_assert_eq(cap_write(&c, dir, "dip", err, sizeof err), EK3_EIO);
    cr_assert(strstr(err, "dip.csv: No space left on device"), "err: %s", err);
    FILE *f = fopen("/dev/full", "w");
    setvbuf(f, NULL, _IONBF, 0);
    cr_assert_eq(cap_write_csv(&c, f), EK3_EIO, "an unbuffered write to /dev/full fails at once");
    fclose(f);
    /* A directory that does not exist: the CSV's error comes first. */
    snprintf(p, sizeof p, "%s/none", dir);
    cr_assert_eq(cap_write(&c, p, "dip", err, sizeof err), EK3_EIO);
    cr_assert(strstr(err, "none/dip.csv: No such file or directory"), "err: %s", err);
    cr_assert_eq(cap_write(&c, dir, "a/b", err, sizeof err), EK3_EINVAL);
    for (int i = 0; i < 5; i++)
        snprintf(p, sizeof p, "%s/%s", dir, files[i]), unlink(p);
    cr_assert_eq(rmdir(dir), 0, "nothing else left in %s", dir);
    cap_free(&c);
}

Test(capture, bad_config_and_rows)
{
    cap c;
    cap_cfg g = cfg();
    g.k = 0;
    cr_assert_eq(cap_init(&c, &g), EK3_EINVAL);
    g = cfg(), g.quantum = 0;
    cr_assert_eq(cap_init(&c, &g), EK3_EINVAL);
    g = cfg(), g.trig = 2;
    cr_assert_eq(cap_init(&c, &g), EK3_EINVAL);
    g = cfg(), g.level = NAN;
    cr_assert_eq(cap_init(&c, &g), EK3_EINVAL);
    g = cfg(), g.post = -1;
    cr_assert_eq(cap_init(&c, &g), EK3_EINVAL);
    g = cfg(), g.pre = 3600, g.quantum = 1e-6;
    cr_assert_eq(cap_init(&c, &g), EK3_ERANGE);
    g = cfg();
    cr_assert_eq(cap_init(&c, &g), 0);
    double v[2] = {750, 0};
    cr_assert_eq(cap_push(&c, 1e-3, v), CAP_ARMED);
    cr_assert_eq(cap_push(&c, 1e-3, v), EK3_EINVAL, "time not increasing");
    cr_assert_eq(cap_push(&c, NAN, v), EK3_EINVAL);
    v[0] = NAN;
    cr_assert_eq(cap_push(&c, 2e-3, v), CAP_ARMED, "NaN kept, no trigger");
    v[0] = 600;
    cr_assert_eq(cap_push(&c, 3e-3, v), CAP_ARMED, "no crossing from NaN");
    cap_free(&c);
}
