/*
 * test_vcd.c - traces (issue 15, Traces): the VCD writer (scopes/vcd.h),
 * the probe tracer (scopes/trc.h) on a session, and `ek3 rack` /
 * `ek3 scenario run|replay` with --probe, --vcd, --trace-csv, checked
 * against the field's own readers: GTKWave's vcd2fst and sigrok-cli.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "ek3_err.h"
#include "session.h"
#include "trc.h"
#include "vcd.h"

CLI_RUN_SUITE(vcd, "ek3-vcd");

static char out[1 << 16];

/* ---- a small VCD reader: the test's own, from IEEE 1364-2005 18.2 ---- */

typedef struct vrd_chg {
    double t_s;   /* the change's time in seconds ($timescale applied) */
    char val[72]; /* "1", "b101", "r750.5" */
} vrd_chg;

/* The changes of the variable whose scoped name is `name` ("rig.sq",
 * "rig.module[1].state"), in file order, into c[cap]; the count, or -1
 * when the file has no such variable. *unit_s gets the $timescale. */
static int vcd_changes(const char *file, const char *name, vrd_chg *c, int cap, double *unit_s)
{
    FILE *f = fopen(file, "r");
    cr_assert_not_null(f, "%s: %s", file, strerror(errno));
    char tok[512], scope[512] = "", id[16] = "";
    double unit = 0, t = 0;
    int n = 0, in_ts = 0;
    while (fscanf(f, "%511s", tok) == 1) {
        if (!strcmp(tok, "$timescale")) {
            in_ts = 1;
        } else if (in_ts && strcmp(tok, "$end")) {
            double num = strtod(tok, NULL);
            const char *u = tok + strspn(tok, "0123456789");
            unit = num * (!strcmp(u, "s") ? 1 : !strcmp(u, "ms") ? 1e-3 : !strcmp(u, "us") ? 1e-6 : !strcmp(u, "ns") ? 1e-9
                        : !strcmp(u, "ps") ? 1e-12 : !strcmp(u, "fs") ? 1e-15 : NAN);
            in_ts = 0;
        } else if (!strcmp(tok, "$scope")) {
            char kind[32], nm[256];
            cr_assert_eq(fscanf(f, "%31s %255s", kind, nm), 2);
            size_t l = strlen(scope);
            snprintf(scope + l, sizeof scope - l, "%s%s", l ? "." : "", nm);
        } else if (!strcmp(tok, "$upscope")) {
            char *d = strrchr(scope, '.');
            if (d)
                *d = 0;
            else
                scope[0] = 0;
        } else if (!strcmp(tok, "$var")) {
            char type[32], code[16], ref[256], full[800];
            unsigned w;
            cr_assert_eq(fscanf(f, "%31s %u %15s %255s", type, &w, code, ref), 4);
            snprintf(full, sizeof full, "%s.%s", scope, ref);
            if (!strcmp(full, name))
                snprintf(id, sizeof id, "%s", code);
        } else if (tok[0] == '#') {
            t = strtod(tok + 1, NULL) * unit;
        } else if (id[0] && (tok[0] == 'b' || tok[0] == 'r')) {
            char code[16];
            cr_assert_eq(fscanf(f, "%15s", code), 1);
            if (!strcmp(code, id) && n < cap) {
                c[n].t_s = t;
                snprintf(c[n].val, sizeof c[n].val, "%.71s", tok);
                n++;
            }
        } else if (id[0] && strchr("01xz", tok[0]) && !strcmp(tok + 1, id) && n < cap) {
            c[n].t_s = t;
            snprintf(c[n].val, sizeof c[n].val, "%c", tok[0]);
            n++;
        }
    }
    fclose(f);
    *unit_s = unit;
    return id[0] ? n : -1;
}

/* The whole file into a static buffer (cut at 1 MiB). */
static const char *slurp(const char *file)
{
    static char buf[1 << 20];
    FILE *f = fopen(file, "r");
    cr_assert_not_null(f, "%s: %s", file, strerror(errno));
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* ---- the writer ---- */

/* A 100 us square wave (50 us high, 50 us low) written through the
 * writer, with times in ns under either timescale: the period read back
 * by parsing the file is 100 us. A $timescale that disagrees with the
 * times (1ps over ns times, issue 15) reads 1000 times shorter. */
static void square(unsigned unit_ns)
{
    vcd v;
    vcd_opts o = {.unit_ns = unit_ns};
    cr_assert_eq(vcd_open(&v, path("sq.vcd"), &o), 0);
    int w = vcd_add(&v, "sq", VCD_WIRE, 1), r = vcd_add(&v, "wave.level", VCD_REAL, 0);
    cr_assert(w >= 0 && r >= 0);
    cr_assert_eq(vcd_begin(&v), 0);
    for (int64_t t = 0; t <= 1000000; t += 10000) { /* every 10 us for 1 ms: only the edges are changes */
        cr_assert_eq(vcd_time(&v, t), 0);
        int hi = (t / 50000) % 2 == 0;
        cr_assert_eq(vcd_set(&v, (unsigned)w, hi), 0);
        cr_assert_eq(vcd_set(&v, (unsigned)r, hi ? 1.5 : -1.5), 0);
    }
    cr_assert_eq(vcd_close(&v, 1000000), 0);
    vrd_chg c[64];
    double unit;
    int n = vcd_changes(path("sq.vcd"), "rig.sq", c, 64, &unit);
    cr_assert_eq(n, 21, "only the changes: 20 edges and the first value (got %d)", n);
    int rises = 0;
    double first = -1, last = -1;
    for (int i = 1; i < n; i++)
        if (!strcmp(c[i].val, "1")) {
            if (first < 0)
                first = c[i].t_s;
            last = c[i].t_s;
            rises++;
        }
    double period = (last - first) / (rises - 1);
    cr_assert(fabs(period - 100e-6) < 1e-12, "period %g s with $timescale %g s", period, unit);
    n = vcd_changes(path("sq.vcd"), "rig.wave.level", c, 64, &unit);
    cr_assert_eq(n, 21);
    cr_assert_str_eq(c[1].val, "r-1.5");
    cr_assert(fabs(c[1].t_s - 50e-6) < 1e-12);
}

Test(vcd, a_100us_square_wave_reads_back_as_100us_in_a_1us_timescale)
{
    square(1000);
}

Test(vcd, a_100us_square_wave_reads_back_as_100us_in_a_1ns_timescale)
{
    square(1);
}

/* A real's text reads back bit for bit (a trace at full resolution). */
Test(vcd, a_real_reads_back_bit_for_bit)
{
    static const double x[] = {0.1, 750.0000000000001, -1.5e-9, 2.0e5, 0.30000000000000004, 123456789012345678.0};
    char a[32];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) {
        cr_assert_gt(vcd_real_text(x[i], a), 0);
        cr_assert_eq(strtod(a, NULL), x[i], "%s", a);
    }
}

Test(vcd, vectors_are_as_wide_as_their_range_and_x_outside_it)
{
    vcd v;
    cr_assert_eq(vcd_open(&v, path("v.vcd"), NULL), 0);
    cr_assert_eq(vcd_width_of(8), 4u);
    cr_assert_eq(vcd_width_of(1), 1u);
    cr_assert_eq(vcd_width_of(511), 9u);
    int s = vcd_add(&v, "module[10].state", VCD_VEC, vcd_width_of(8));
    cr_assert_eq(vcd_add(&v, "module[2].state", VCD_VEC, 4), 1);
    cr_assert_eq(vcd_add(&v, "module[2].state", VCD_VEC, 4), EK3_EBUSY, "a path twice");
    cr_assert_eq(vcd_add(&v, "bad path", VCD_VEC, 4), EK3_EINVAL);
    cr_assert_eq(vcd_add(&v, "w", VCD_VEC, 65), EK3_EINVAL);
    cr_assert_eq(vcd_begin(&v), 0);
    cr_assert_eq(vcd_time(&v, 0), 0);
    cr_assert_eq(vcd_set(&v, (unsigned)s, 2), 0);
    cr_assert_eq(vcd_time(&v, 100000), 0);
    cr_assert_eq(vcd_set(&v, (unsigned)s, 16), 0); /* past 4 bits */
    cr_assert_eq(vcd_time(&v, 50000), EK3_EINVAL, "times do not go back");
    cr_assert_eq(vcd_close(&v, 200000), 0);
    const char *txt = slurp(path("v.vcd"));
    cr_assert(strstr(txt, "$var wire 4 ! state [3:0] $end"), "%s", txt);
    /* module[2] is declared before module[10] (numbers, not text) */
    cr_assert(strstr(txt, "module[2]") < strstr(txt, "module[10]"), "%s", txt);
    cr_assert(strstr(txt, "#0\nb10 !\n#100\nbx !\n#200\n"), "%s", txt);
}

Test(vcd, a_write_error_is_reported_with_the_file_and_errno)
{
    vcd v;
    cr_assert_eq(vcd_open(&v, "/dev/full", NULL), 0);
    int r = vcd_add(&v, "x", VCD_REAL, 0);
    cr_assert_eq(vcd_begin(&v), 0); /* buffered */
    int rc = 0;
    for (int64_t t = 0; t < 100000000 && !rc; t += 100000) {
        rc = vcd_time(&v, t);
        rc = rc ? rc : vcd_set(&v, (unsigned)r, (double)t);
    }
    cr_assert_eq(rc, EK3_EIO, "a full disk stops the writes");
    cr_assert_eq(vcd_errno(&v), ENOSPC);
    cr_assert_eq(vcd_close(&v, -1), EK3_EIO);
    char why[600];
    cr_assert_str_eq(vcd_why(&v, why, sizeof why), "/dev/full: write error: No space left on device");
    cr_assert_eq(vcd_open(&v, "/nonexistent/dir/x.vcd", NULL), EK3_EIO);
    cr_assert_str_eq(vcd_why(&v, why, sizeof why), "/nonexistent/dir/x.vcd: No such file or directory");
}

/* ---- the readers of the field ---- */

/* vcd2fst converts FILE with exit 0 and nothing on stderr. */
static void fst_ok(const char *file)
{
    int rc = run(out, sizeof out, "vcd2fst '%s' '%s.fst' 2>&1 >/dev/null", file, file);
    cr_assert_eq(rc, 0, "vcd2fst %s: exit %d: %s", file, rc, out);
    cr_assert_str_empty(out, "vcd2fst %s warns: %s", file, out);
}

Test(vcd, vcd2fst_converts_every_vcd_the_rig_writes_without_a_warning, .timeout = 120)
{
    int rc = run(out, sizeof out,
                 "%s rack --modules 4 --load 8kW --duration 60ms --load-at 30ms --load-ramp 10ms "
                 "--probe 'bus.v,module[*].iout,module[*].state,module[1-2].hw_trip,module[1].svc.THERMAL_MGR.restarts,"
                 "canbus.node[*].tec,rack.running' --vcd %s --rtl-vcd %s",
                 EK3_BIN, path("rack.vcd"), path("rtl.vcd"));
    cr_assert_eq(rc, 0, "%s", out);
    const char *txt = slurp(path("rack.vcd"));
    cr_assert(strstr(txt, "$var real 64") && strstr(txt, "$var wire 4 ") && strstr(txt, "$var wire 1 ") &&
                  strstr(txt, "$var wire 9 "),
              "reals, vectors and wires: %s", txt);
    fst_ok(path("rack.vcd"));
    fst_ok(path("rtl.vcd"));
    rc = run(out, sizeof out, "%s rack --modules 2 --load 4kW --duration 30ms --load-at 25ms "
                              "--probe 'bus.v,module[*].state,module[*].running' --vcd %s --vcd-flavour sigrok",
             EK3_BIN, path("sigrok.vcd"));
    cr_assert_eq(rc, 0, "%s", out);
    fst_ok(path("sigrok.vcd"));
}

/* The protection block's VCD: its clock is 10 MHz, so a 100 ns period
 * in the file's own $timescale (issue 15: `$timescale 1ps` over ns times
 * read 1000 times too fast). Read with the same reader as our traces. */
Test(vcd, the_protection_vcd_clock_reads_100ns_in_its_timescale, .timeout = 60)
{
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --load 1kW --duration 1ms --rtl-vcd %s", EK3_BIN,
                     path("rtl.vcd")),
                 0, "%s", out);
    static vrd_chg c[64];
    double unit;
    int n = vcd_changes(path("rtl.vcd"), "TOP.clk", c, 64, &unit);
    if (n < 0)
        n = vcd_changes(path("rtl.vcd"), "TOP.ek3_prot.clk", c, 64, &unit);
    cr_assert_geq(n, 10, "the clock's edges (%d): %.400s", n, slurp(path("rtl.vcd")));
    double t1 = -1, t2 = -1;
    for (int i = 0; i < n && t2 < 0; i++)
        if (!strcmp(c[i].val, "1")) {
            if (t1 < 0)
                t1 = c[i].t_s;
            else
                t2 = c[i].t_s;
        }
    cr_assert(fabs((t2 - t1) - 100e-9) < 1e-15, "clock period %g s in $timescale %g s", t2 - t1, unit);
}

/* sigrok-cli's rows: one per $timescale unit (here 1 us), downsampled by
 * 100 to one per control period; row k is 100 k us. */
static int sigrok_rows(const char *file, char rows[][16], int cap, int *ncols)
{
    int rc = run(out, sizeof out, "sigrok-cli -I vcd:downsample=100 -i '%s' -O csv", file);
    cr_assert_eq(rc, 0, "sigrok-cli: %s", out);
    int n = 0;
    *ncols = 0;
    for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
        if (l[0] == ';' || !strncmp(l, "META", 4))
            continue;
        if (!strncmp(l, "logic", 5)) {
            *ncols = (int)count(l, "logic");
            continue;
        }
        if (n < cap) {
            int k = 0;
            for (char *c = l; *c && k < 15; c++)
                if (*c == '0' || *c == '1')
                    rows[n][k++] = *c;
            rows[n][k] = 0;
            n++;
        }
    }
    return n;
}

Test(vcd, sigrok_reads_the_wires_and_the_vector_bits_back_at_their_times)
{
    vcd v;
    vcd_opts o = {.sigrok = 1};
    cr_assert_eq(vcd_open(&v, path("s.vcd"), &o), 0);
    int st = vcd_add(&v, "module[3].state", VCD_VEC, 3), tr = vcd_add(&v, "module[3].hw_trip", VCD_WIRE, 1),
        re = vcd_add(&v, "bus.v", VCD_REAL, 0);
    cr_assert(st >= 0 && tr >= 0 && re >= 0);
    cr_assert_eq(vcd_begin(&v), 0);
    /* state 0 from 0, 1 from 300 us, 6 from 700 us; trip 1 from 500 us */
    for (int k = 0; k < 10; k++) {
        cr_assert_eq(vcd_time(&v, k * 100000LL), 0);
        cr_assert_eq(vcd_set(&v, (unsigned)st, k < 3 ? 0 : k < 7 ? 1 : 6), 0);
        cr_assert_eq(vcd_set(&v, (unsigned)tr, k >= 5), 0);
        cr_assert_eq(vcd_set(&v, (unsigned)re, 700 + k), 0); /* left out */
    }
    cr_assert_eq(vcd_close(&v, 1000000), 0);
    const char *txt = slurp(path("s.vcd"));
    cr_assert(strstr(txt, "reals left out: bus.v $end"), "%s", txt);
    cr_assert(!strstr(txt, "\nb") && !strstr(txt, "\nr"), "no vector or real line: %s", txt);
    static char rows[64][16];
    int nc, n = sigrok_rows(path("s.vcd"), rows, 64, &nc);
    cr_assert_eq(nc, 4, "module[3].state.b0..b2 and module[3].hw_trip: %d", nc);
    cr_assert_geq(n, 10, "%d rows", n);
    static const char *const want[10] = {"0000", "0000", "0000", "1000", "1000", "1001", "1001", "0111", "0111", "0111"};
    for (int k = 0; k < 10; k++)
        cr_assert_str_eq(rows[k], want[k], "at %d us: b0 b1 b2 trip = %s, want %s", k * 100, rows[k], want[k]);
}

Test(vcd, sigrok_reads_a_rack_trace_in_the_sigrok_flavour, .timeout = 60)
{
    int rc = run(out, sizeof out,
                 "%s rack --modules 2 --load 4kW --duration 40ms --load-at 35ms --probe 'module[1].state,bus.v' "
                 "--vcd %s --vcd-flavour sigrok --trace-csv %s",
                 EK3_BIN, path("r.vcd"), path("r.csv"));
    cr_assert_eq(rc, 0, "%s", out);
    static char rows[1024][16];
    int nc, n = sigrok_rows(path("r.vcd"), rows, 1024, &nc);
    cr_assert_eq(nc, 4, "module[1].state: 4 bits (%d)", nc);
    /* the CSV has the same state at the same times: row k is k x 100 us */
    FILE *f = fopen(path("r.csv"), "r");
    char line[256];
    cr_assert_not_null(fgets(line, sizeof line, f));
    int k = 0, seen_run = 0;
    double t, vb, s;
    while (fgets(line, sizeof line, f) && k < n) {
        cr_assert_eq(sscanf(line, "%lf,%lf,%lf", &t, &s, &vb), 3, "%s", line);
        cr_assert(fabs(t - k * 1e-4) < 1e-9, "row %d at %g s", k, t);
        unsigned u = (unsigned)s, got = 0;
        for (int b = 0; b < 4; b++)
            got |= (unsigned)(rows[k][b] - '0') << b;
        cr_assert_eq(got, u, "at %g s sigrok reads state %u, the CSV %u", t, got, u);
        seen_run |= u != SES_M_OFF;
        k++;
    }
    fclose(f);
    cr_assert_geq(k, 300, "compared %d rows", k);
    cr_assert(seen_run, "the module left OFF within the trace (the station starts it at 20 ms)");
}

/* ---- the tracer on a session ---- */

static ses s;

static void setup(ses_opts *o, unsigned n)
{
    memset(o, 0, sizeof *o);
    rig_default_opts(&o->r, n, 7, 2000.0 * n);
    o->r.threads = 1;
    o->quanta = 1;
    o->record_rows = 100;
}

Test(vcd, probe_ranges_expand_over_the_rack_and_bad_paths_say_why)
{
    ses_opts o;
    setup(&o, 4);
    cr_assert_eq(ses_init(&s, &o), 0);
    sig_ref *r;
    unsigned n;
    char err[600];
    cr_assert_eq(trc_parse(&s, "bus.v,module[*].iout,module[2-3].state,canbus.node[*].tec,module[1].iout", &r, &n,
                           err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(n, 1 + 4 + 2 + 5, "module[1].iout once; nodes 0..4 (%u)", n);
    char p[64];
    cr_assert_str_eq(sig_path(&r[4], p, sizeof p), "module[4].iout");
    cr_assert_str_eq(sig_path(&r[7], p, sizeof p), "canbus.node[0].tec");
    free(r);
    cr_assert_eq(trc_parse(&s, "module[1].iuot", &r, &n, err, sizeof err), EK3_ENOENT);
    cr_assert(strstr(err, "--probe 'module[1].iuot'") && strstr(err, "did you mean module[1].iout"), "%s", err);
    cr_assert_eq(trc_parse(&s, "module[1-9].iout", &r, &n, err, sizeof err), EK3_ERANGE);
    cr_assert(strstr(err, "module[5-9]: the rack has modules 1 to 4"), "%s", err); /* the range, not its first */
    cr_assert_eq(trc_parse(&s, "module[4-5].iout", &r, &n, err, sizeof err), EK3_ERANGE);
    cr_assert(strstr(err, "': module[5]: the rack has modules 1 to 4"), "%s", err); /* one index past: that one */
    /* a range's bad name is said as the user wrote the range (it said 'module[1].ioutt') */
    cr_assert_eq(trc_parse(&s, "module[*].ioutt", &r, &n, err, sizeof err), EK3_ENOENT);
    cr_assert(strstr(err, "unknown signal 'module[*].ioutt'; did you mean module[*].iout?"), "%s", err);
    cr_assert_eq(trc_parse(&s, "canbus.node[1-2].tecc", &r, &n, err, sizeof err), EK3_ENOENT);
    cr_assert(strstr(err, "unknown signal 'canbus.node[1-2].tecc'") && !strstr(err, "node[1]"), "%s", err);
    cr_assert_eq(trc_parse(&s, "module[3-2].iout", &r, &n, err, sizeof err), EK3_EPARSE);
    cr_assert_eq(trc_parse(&s, "bus.v,,bus.i", &r, &n, err, sizeof err), EK3_EPARSE);
    cr_assert(strstr(err, "empty item"), "%s", err);
    cr_assert_eq(trc_parse(&s, "bus.v, ,bus.i", &r, &n, err, sizeof err), EK3_EPARSE);
    cr_assert(strstr(err, "empty item"), "%s", err);
    /* blanks around a path, as a shell user types a list (it was refused: "whitespace at character 1") */
    cr_assert_eq(trc_parse(&s, " bus.v,\tbus.p ,module[2].iout", &r, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(sig_path(&r[1], p, sizeof p), "bus.p");
    free(r);
    /* a path in the wrong case gets its suggestion (it got none: 4 edits from bus.v) */
    cr_assert_eq(trc_parse(&s, "BUS.V", &r, &n, err, sizeof err), EK3_ENOENT);
    cr_assert(strstr(err, "did you mean bus.v?"), "%s", err);
    ses_free(&s);
}

/* The trace streams: what the tracer holds does not grow with the run.
 * 84 modules x 8 signals sampled every quantum to a VCD and a CSV (on
 * /dev/null): the heap in use after 50 quanta and after 1050 is the same. */
Test(vcd, a_trace_of_84_modules_streams_without_holding_it, .timeout = 120)
{
    ses_opts o;
    setup(&o, 84);
    cr_assert_eq(ses_init(&s, &o), 0);
    static trc t;
    trc_opts to = {.probe = "module[*].iout,module[*].vout,module[*].pin,module[*].tj_a,module[*].t_hs,"
                            "module[*].state,module[*].running,module[*].resets",
                   .vcd = "/dev/null", .csv = "/dev/null"};
    char err[600];
    cr_assert_eq(trc_open(&t, &s, &to, err, sizeof err), 0, "%s", err);
    cr_assert_eq(t.n, 84u * 8);
    for (int q = 0; q < 50; q++)
        cr_assert_eq(ses_step(&s), 0);
    size_t before = mallinfo2().uordblks;
    for (int q = 0; q < 1000; q++)
        cr_assert_eq(ses_step(&s), 0);
    size_t after = mallinfo2().uordblks;
    cr_assert_eq(t.samples, 1051u, "one sample at the start and one per quantum");
    cr_assert(t.v.changes > 1000u * 84, "the VCD was written (%llu changes)", (unsigned long long)t.v.changes);
    cr_assert_eq(after, before, "the heap grew by %zd bytes over 1000 quanta", (ssize_t)(after - before));
    cr_assert_eq(trc_close(&t, err, sizeof err), 0, "%s", err);
    ses_free(&s);
}

Test(vcd, a_trace_window_and_every_n_quanta)
{
    ses_opts o;
    setup(&o, 2);
    cr_assert_eq(ses_init(&s, &o), 0);
    static trc t;
    trc_opts to = {.probe = "bus.v,module[1].state", .csv = path("w.csv"), .every = 5, .from_s = 0.002,
                   .to_s = 0.004, .has_to = 1};
    char err[600];
    cr_assert_eq(trc_open(&t, &s, &to, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ses_run_to(&s, 10000000), 0);
    cr_assert_eq(trc_close(&t, err, sizeof err), 0, "%s", err);
    ses_free(&s);
    const char *txt = slurp(path("w.csv"));
    cr_assert(!strncmp(txt, "t_s,bus.v_V,module[1].state\n0.0020000,", 37), "%s", txt);
    cr_assert_eq(count(txt, "\n"), 6u, "2 ms to 4 ms every 0.5 ms: %s", txt);
    cr_assert(strstr(txt, "\n0.0025000,") && strstr(txt, "\n0.0040000,") && !strstr(txt, "\n0.0021000,"), "%s", txt);
}

/* A run that ends between two rows of the grid (a stop, a duration off
 * it) ends its trace with the end's row, as the report's trace.csv; once,
 * however often the session is finished. A window closed before the end
 * keeps its last row. */
Test(vcd, a_trace_every_n_quanta_ends_at_the_runs_end)
{
    ses_opts o;
    setup(&o, 2);
    cr_assert_eq(ses_init(&s, &o), 0);
    static trc t, w;
    trc_opts to = {.probe = "bus.v", .csv = path("e.csv"), .every = 5};
    trc_opts wo = {.probe = "bus.v", .csv = path("ew.csv"), .every = 5, .to_s = 0.001, .has_to = 1};
    char err[600];
    cr_assert_eq(trc_open(&t, &s, &to, err, sizeof err), 0, "%s", err);
    cr_assert_eq(trc_open(&w, &s, &wo, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ses_run_to(&s, 2300000), 0);
    ses_finish(&s);
    ses_finish(&s);
    cr_assert_eq(trc_close(&t, err, sizeof err), 0, "%s", err);
    cr_assert_eq(trc_close(&w, err, sizeof err), 0, "%s", err);
    ses_free(&s);
    const char *txt = slurp(path("e.csv"));
    cr_assert_eq(count(txt, "\n"), 1u + 6u, "the header, 0 to 2 ms every 0.5 ms and the end: %s", txt);
    cr_assert(strstr(txt, "\n0.0020000,") && strstr(txt, "\n0.0023000,"), "%s", txt);
    txt = slurp(path("ew.csv"));
    cr_assert_eq(count(txt, "\n"), 1u + 3u, "the window's 0, 0.5 and 1 ms: %s", txt);
}

/* ---- the command line ---- */

Test(vcd, the_csv_trace_has_a_header_of_path_and_unit_and_a_row_per_quantum, .timeout = 60)
{
    int rc = run(out, sizeof out,
                 "%s rack --modules 2 --load 4kW --duration 5ms --probe 'bus.v,module[2].iout,module[1].state,"
                 "module[1].running' --trace-csv %s",
                 EK3_BIN, path("t.csv"));
    cr_assert_eq(rc, 0, "%s", out);
    const char *txt = slurp(path("t.csv"));
    cr_assert(!strncmp(txt, "t_s,bus.v_V,module[2].iout_A,module[1].state,module[1].running\n", 62), "%s", txt);
    cr_assert_eq(count(txt, "\n"), 1u + 51u, "the header, t = 0 and 50 quanta: %s", txt);
    cr_assert(strstr(txt, "\n0.0050000,"), "the last quantum's row");
}

/* The report's trace.csv (ek3 rack --report) is a CSV trace as
 * --trace-csv writes it (one writer, trc_csv_head and trc_csv_row): the
 * same header of path and unit for the same signals, and every row of it
 * (one a millisecond, the record's) the same text as --trace-csv's row at
 * that instant (a row every quantum). */
Test(vcd, the_report_trace_csv_is_a_csv_trace_of_signal_paths, .timeout = 60)
{
    static const char cols[] = "bus.v,bus.i,bus.p,rack.i_min,rack.i_mean,rack.i_max,rack.tj_max,rack.online,"
                               "station.sent,station.acked";
    cr_assert_eq(mkdir(path("rep"), 0755) == 0 || errno == EEXIST, 1);
    int rc = run(out, sizeof out,
                 "%s rack --modules 3 --load 6kW --load-at 5ms --duration 30ms --report %s --probe '%s' "
                 "--trace-csv %s",
                 EK3_BIN, path("rep"), cols, path("p.csv"));
    cr_assert_eq(rc, 0, "%s", out);
    static char rep[1 << 16], tr[1 << 20];
    snprintf(rep, sizeof rep, "%s", slurp(path("rep/trace.csv")));
    snprintf(tr, sizeof tr, "%s", slurp(path("p.csv")));
    static const char head[] = "t_s,bus.v_V,bus.i_A,bus.p_W,rack.i_min_A,rack.i_mean_A,rack.i_max_A,rack.tj_max_C,"
                               "rack.online,station.sent,station.acked\n";
    cr_assert(!strncmp(rep, head, strlen(head)), "the report's header: %.300s", rep);
    cr_assert(!strncmp(tr, head, strlen(head)), "--trace-csv's header: %.300s", tr);
    cr_assert(!strncmp(rep + strlen(head), "0.0000000,", 10), "the first row at 0 s: %.300s", rep);
    cr_assert(strstr(rep, "\n0.0300000,"), "the last row at the run's end: %s", rep);
    unsigned rows = 0;
    for (char *l = strchr(rep, '\n') + 1; *l; rows++) {
        char *e = strchr(l, '\n');
        cr_assert_not_null(e, "a whole last line");
        *e = 0;
        char *at = strstr(tr, l); /* the same text, a whole line of the --trace-csv trace */
        cr_assert(at && at[-1] == '\n' && at[strlen(l)] == '\n', "the report's row '%s' is not --trace-csv's", l);
        l = e + 1;
    }
    cr_assert_eq(rows, 31u, "a row a millisecond, 0 to 30 ms: %u", rows);
}

Test(vcd, a_bad_probe_names_the_flag_the_path_and_the_closest_signal, .timeout = 60)
{
    int rc = run(out, sizeof out, "%s rack --modules 2 --duration 1ms --probe 'bus.v,module[1].iuot' --vcd %s",
                 EK3_BIN, path("x.vcd"));
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "--probe 'module[1].iuot'") && strstr(out, "did you mean module[1].iout?"), "%s", out);
    rc = run(out, sizeof out, "%s rack --modules 2 --duration 1ms --vcd %s", EK3_BIN, path("x.vcd"));
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "--vcd without --probe"), "%s", out);
    rc = run(out, sizeof out, "%s rack --modules 2 --duration 1ms --probe bus.v --vcd %s --vcd-flavour pulseview",
             EK3_BIN, path("x.vcd"));
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "--vcd-flavour 'pulseview'"), "%s", out);
    rc = run(out, sizeof out, "%s scenario run %s/scenarios/soft-start.lua --seed 1 --probe 'modul[1].iout' --vcd %s",
             EK3_BIN, EK3_SOURCE_DIR, path("x.vcd"));
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "--probe 'modul[1].iout'") && strstr(out, "did you mean module[1].iout?"), "%s", out);
}

/* Outputs that name one file however spelled (./x, the report's own
 * trace.csv), the time as a probe, empty and "-" names, a window after
 * the run's end: each refused or failed, naming the flags. */
Test(vcd, one_file_two_ways_and_an_empty_window_are_refused, .timeout = 60)
{
    int rc = run(out, sizeof out, "cd %s && %s rack --modules 2 --duration 1ms --probe bus.v --vcd same --trace-csv ./same",
                 dir, EK3_BIN);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "--vcd same and --trace-csv ./same name one file"), "%s", out);
    rc = run(out, sizeof out, "cd %s && mkdir -p rr && %s rack --modules 2 --duration 1ms --probe bus.v --trace-csv "
                              "rr/trace.csv --report rr",
             dir, EK3_BIN);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "--report (its trace.csv) rr/trace.csv name one file"), "%s", out);
    rc = run(out, sizeof out, "%s rack --modules 2 --duration 1ms --probe t --vcd %s", EK3_BIN, path("t.vcd"));
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "--probe 't': the time is every trace's own axis"), "%s", out);
    rc = run(out, sizeof out, "%s rack --modules 2 --duration 1ms --probe bus.v --trace-csv ''", EK3_BIN);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "--trace-csv '': name a file (empty)"), "%s", out);
    /* every output flag alike: a usage error (exit 2), said before the run (--log '' was exit 1, "No such file") */
    static const char *const outs[] = {"--log", "--station-log", "--rtl-vcd", "--report"};
    for (unsigned i = 0; i < 4; i++) {
        rc = run(out, sizeof out, "%s rack --modules 2 --duration 1ms %s ''", EK3_BIN, outs[i]);
        cr_assert_eq(rc, 2, "%s: %s", outs[i], out);
        char want[80];
        snprintf(want, sizeof want, "ek3 rack: %s '': name a %s (empty)\n", outs[i], i == 3 ? "directory" : "file");
        cr_assert(strstr(out, want), "%s", out);
    }
    rc = run(out, sizeof out, "%s rack --modules 2 --duration 1ms --probe bus.v --vcd -", EK3_BIN);
    cr_assert_eq(rc, 2, "%s", out);
    rc = run(out, sizeof out, "%s scenario run %s/scenarios/soft-start.lua --seed 1 --probe bus.v --vcd %s --from 5s",
             EK3_BIN, EK3_SOURCE_DIR, path("late.vcd"));
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "--from 5 s: the run ended before it: nothing traced"), "%s", out);
}

Test(vcd, a_write_error_on_a_trace_is_reported_and_fails_the_run, .timeout = 60)
{
    int rc = run(out, sizeof out, "%s rack --modules 2 --load 4kW --duration 20ms --probe 'module[*].iout' --vcd /dev/full",
                 EK3_BIN);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "--vcd /dev/full: write error: No space left on device"), "its flag named: %s", out);
    rc = run(out, sizeof out, "%s rack --modules 2 --load 4kW --duration 20ms --probe 'module[*].iout' --trace-csv /dev/full",
             EK3_BIN);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "--trace-csv /dev/full: write error: No space left on device"), "its flag named: %s", out);
}

/* Ctrl-C: the run stops at the end of a quantum; the VCD and the CSV are
 * flushed and end on a whole line (vcd2fst reads the VCD). */
Test(vcd, ctrl_c_leaves_whole_traces, .timeout = 120)
{
    int rc = run(out, sizeof out,
                 "%s rack --modules 4 --load 4kW --duration 600s --probe 'bus.v,module[*].iout,module[*].state' "
                 "--vcd %s --trace-csv %s >/dev/null 2>&1 & p=$!; i=0; "
                 "while [ $(stat -c %%s %s 2>/dev/null || echo 0) -lt 200000 ] && [ $i -lt 3000 ]; do "
                 "sleep 0.02; i=$((i+1)); done; kill -INT $p; wait $p; echo status=$?",
                 EK3_BIN, path("c.vcd"), path("c.csv"), path("c.csv"));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "status=130"), "ends as killed by SIGINT: %s", out);
    const char *ends[2] = {path("c.csv"), path("c.vcd")};
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(ends[k], "r");
        cr_assert_not_null(f, "%s", ends[k]);
        cr_assert(fseek(f, -1, SEEK_END) == 0 && fgetc(f) == '\n', "%s ends on a whole line", ends[k]);
        fclose(f);
    }
    fst_ok(path("c.vcd"));
}

/* Retro-capture: a verdict's run replayed with probes nobody asked for
 * the first time, in a window: the same trace (SAME), and the VCD holds
 * the window at every quantum. */
Test(vcd, replay_records_new_probes_in_a_window_of_a_past_run, .timeout = 120)
{
    int rc = run(out, sizeof out, "%s scenario run %s/scenarios/soft-start.lua --seed 1 --report %s", EK3_BIN,
                 EK3_SOURCE_DIR, path("rep"));
    cr_assert_eq(rc, 0, "%s", out);
    rc = run(out, sizeof out,
             "%s scenario replay %s/soft-start/seed-1/verdict.json --probe 'module[7].vout,module[1-3].iout,"
             "module[5].state' --vcd %s --trace-csv %s --from 0.1s --to 0.2s",
             EK3_BIN, path("rep"), path("re.vcd"), path("re.csv"));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "SAME"), "%s", out);
    vrd_chg c[8];
    double unit;
    int n = vcd_changes(path("re.vcd"), "rig.module[7].vout", c, 8, &unit);
    cr_assert_geq(n, 1);
    cr_assert(fabs(c[0].t_s - 0.1) < 1e-9, "the window's first sample at 0.1 s (%g)", c[0].t_s);
    const char *txt = slurp(path("re.csv"));
    cr_assert_eq(count(txt, "\n"), 1u + 1001u, "0.1 s to 0.2 s at every quantum");
    cr_assert(strstr(txt, "\n0.1000000,") && strstr(txt, "\n0.2000000,") && !strstr(txt, "\n0.2001000,"));
    rc = run(out, sizeof out, "%s scenario replay %s/soft-start/seed-1/verdict.json --probe bus.v --vcd %s --from 5s",
             EK3_BIN, path("rep"), path("late.vcd"));
    cr_assert_eq(rc, 2, "a window after the recorded end is refused before the replay: %s", out);
    cr_assert(strstr(out, "--from 5 s: after the recorded run's end (0.6 s)"), "%s", out);
    /* an output it cannot write stopped the run: nothing is compared (it read DIVERGED, the rig's run blamed) */
    rc = run(out, sizeof out, "%s scenario replay %s/soft-start/seed-1/verdict.json --probe bus.v --vcd %s", EK3_BIN,
             path("rep"), path("rep"));
    cr_assert_neq(rc, 0, "%s", out);
    cr_assert(strstr(out, "Is a directory") && !strstr(out, "DIVERGED"), "%s", out);
    rc = run(out, sizeof out, "%s scenario replay %s/soft-start/seed-1/verdict.json --probe bus.v --vcd /dev/full",
             EK3_BIN, path("rep"));
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "No space left on device") && strstr(out, "\nnothing compared: the trace's output failed") &&
                  !strstr(out, "DIVERGED"),
              "%s", out);
}

/* The GTKWave save file shipped for a rack VCD (docs/scopes.md) names
 * only signals the documented command's VCD declares. */
Test(vcd, the_gtkwave_save_file_names_signals_of_the_documented_rack_vcd, .timeout = 60)
{
    int rc = run(out, sizeof out,
                 "%s rack --modules 8 --load 20kW --duration 0.1s --load-at 0.05s --load-ramp 0.01s --pull 3@0.08s "
                 "--probe 'bus.v,bus.p,rack.running,module[1-4].iout,module[*].state,module[*].present' --vcd %s",
                 EK3_BIN, path("rack.vcd"));
    cr_assert_eq(rc, 0, "%s", out);
    FILE *f = fopen(EK3_SOURCE_DIR "/scopes/gtkwave/rack.gtkw", "r");
    cr_assert_not_null(f);
    char line[256];
    unsigned named = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = strstr(line, "} rig.");
        if (!p)
            continue;
        char name[128];
        cr_assert_eq(sscanf(p + 2, "%127s", name), 1);
        char *r = strstr(name, "[31:0]");
        r = r ? r : strstr(name, "[3:0]");
        if (r)
            *r = 0;
        vrd_chg c[4];
        double unit;
        cr_assert_geq(vcd_changes(path("rack.vcd"), name, c, 4, &unit), 1, "%s is not in the VCD", name);
        named++;
    }
    fclose(f);
    cr_assert_geq(named, 10u, "the save file names %u signals", named);
}
