/* bench_scenario.c - what the scenario engine costs: the wall time of an
 * 84-module run with ten expect_always watchers reading get() and a
 * capture{} (its ring sampled every quantum; the trigger, 10 kV, never
 * comes), over the same run without them
 * (scenario.overhead, goal <= 1.05), both in this process, alternately,
 * medians of 3; and the time to start a scenario (Lua state, manifest,
 * rack{} build). Under callgrind each run is dumped by name, counted
 * from its first quantum (the rack's build left out). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "scn.h"

#define BS_RACK "rack{ modules=84, load='200kW', load_at='0.02s', load_ramp='10ms' }\n"

static int bs_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f) ? -1 : 0;
}

static int bs_first;

/* scn_opts.stop: never stops; under callgrind the first quantum zeroes the counts. */
static int bs_stop(void *ctx)
{
    (void)ctx;
    if (bs_first) {
        bs_first = 0;
        BENCH_CG_BEGIN();
    }
    return 0;
}

/* Run path once; the wall time of its run less the rack's build, or -1. */
static double bs_run(const char *path, int instructions)
{
    FILE *null = fopen("/dev/null", "w");
    scn_opts o = {.seed = 1, .out = null, .stop = bs_stop};
    scn_result r;
    bs_first = instructions;
    int v = scn_run_file(path, &o, &r);
    if (null)
        fclose(null);
    double wall = r.wall_s - r.init_s;
    if (v != SCN_PASS) {
        fprintf(stderr, "ek3 bench: %s: %s %s\n", path, scn_verdict_name((unsigned)v),
                v == SCN_ERROR ? r.error : r.first_fail >= 0 ? r.fig[r.first_fail].name : "");
        wall = -1;
    }
    scn_result_free(&r);
    return wall;
}

static double bs_median3(double a, double b, double c)
{
    return a > b ? (b > c ? b : a > c ? c : a) : (a > c ? a : b > c ? c : b);
}

int bench_scenario(FILE *out, double scale, int instructions)
{
    char dir[] = "/tmp/ek3-bench-scn-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    double sim = instructions ? 0.02 : fmax(0.1, 1.0 * scale);
    char base[128], watched[128], start[128], text[4096];
    snprintf(base, sizeof base, "%s/base.lua", dir);
    snprintf(watched, sizeof watched, "%s/watched.lua", dir);
    snprintf(start, sizeof start, "%s/start.lua", dir);
    int bad = 0;
    snprintf(text, sizeof text, "scenario{ name='bench-base' }\n" BS_RACK "run(%.17g)\n", sim);
    bad |= bs_write(base, text);
    /* ten watchers reading one signal each, every quantum; a capture of two
     * signals whose trigger never comes (its ring is filled every quantum) */
    int n = snprintf(text, sizeof text, "scenario{ name='bench-watched' }\n" BS_RACK);
    static const char *const sig[10] = {"bus.v",           "module[1].iout", "module[12].iout", "module[23].vout",
                                        "module[34].tj_a", "module[45].iout", "module[56].iout", "module[67].vout",
                                        "module[78].iout", "module[84].iout"};
    for (int k = 0; k < 10; k++)
        n += snprintf(text + n, sizeof text - (size_t)n,
                      "expect_always(function() return get('%s') < 1e6 end, { name='w%d' })\n", sig[k], k);
    n += snprintf(text + n, sizeof text - (size_t)n,
                  "capture{ signals={'bus.v', 'module[3].iout'}, trigger={signal='bus.v', level=1e4, "
                  "edge='rising'}, pre='10ms', post='10ms', name='c' }\n"
                  "run(%.17g)\n",
                  sim);
    bad |= bs_write(watched, text);
    bad |= bs_write(start, "scenario{ name='bench-start' }\nrack{ modules=84, load='200kW' }\n");
    if (bad) {
        fprintf(stderr, "ek3 bench: cannot write the scenarios in %s\n", dir);
    } else if (instructions) {
        bs_run(base, 1);
        BENCH_CG_END("scenario.base_quantum");
        bs_run(watched, 1);
        BENCH_CG_END("scenario.watched_quantum");
    } else {
        double b[3], w[3], s[3], init[3];
        for (int k = 0; k < 3 && !bad; k++) {
            b[k] = bs_run(base, 0);
            w[k] = bs_run(watched, 0);
            bad = b[k] <= 0 || w[k] <= 0;
        }
        for (int k = 0; k < 3 && !bad; k++) {
            FILE *null = fopen("/dev/null", "w");
            scn_opts o = {.seed = 1, .out = null};
            scn_result r;
            int64_t t0 = bench_now_ns();
            bad = scn_run_file(start, &o, &r) != SCN_PASS;
            s[k] = (bench_now_ns() - t0) * 1e-9;
            init[k] = r.init_s;
            scn_result_free(&r);
            if (null)
                fclose(null);
        }
        if (!bad) {
            double mb = bs_median3(b[0], b[1], b[2]), mw = bs_median3(w[0], w[1], w[2]);
            bench_line(out, "scenario.overhead", mw / mb, "x");
            bench_line(out, "scenario.run84.rtf", sim / mb, "x");
            bench_line(out, "scenario.watched84.rtf", sim / mw, "x");
            bench_line(out, "scenario.start_s", bs_median3(s[0], s[1], s[2]), "s");
            bench_line(out, "scenario.start.rack_build_s", bs_median3(init[0], init[1], init[2]), "s");
        }
    }
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        bad = 1;
    return bad;
}
