/* bench_plant.c - speed of the plant model: one module switching (real-
 * time factor, cost per switching period), the averaged rack of 84
 * modules, the table build, and the same circuit in ngspice when it is
 * installed. Under callgrind the inner loops are dumped by name. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "avg.h"
#include "bench.h"
#include "board.h"
#include "module.h"
#include "params.h"
#include "rack.h"
#include "rtlprot.h"
#include "spice.h"

/* ngspice on the same circuit for `tstop`: wall seconds, or -1. */
static double bp_ngspice(const plant_params *p, const llc_cmd *c, double tstop)
{
    char dir[] = "/tmp/ek3_bench_XXXXXX", cir[64], dat[64], cmd[256];
    if (!mkdtemp(dir))
        return -1;
    snprintf(cir, sizeof cir, "%s/m.cir", dir);
    snprintf(dat, sizeof dat, "%s/m.dat", dir);
    FILE *f = fopen(cir, "w");
    double wall = -1;
    if (f) {
        spice_netlist(f, &p->llc, c, p->rload, tstop, 5e-9, dat);
        fclose(f);
        snprintf(cmd, sizeof cmd, "ngspice -b '%s' >/dev/null 2>&1", cir);
        int64_t t0 = bench_now_ns();
        int rc = system(cmd);
        int64_t t1 = bench_now_ns();
        if (rc == 0 && access(dat, R_OK) == 0)
            wall = (t1 - t0) * 1e-9;
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {
    }
    return wall;
}

int bench_plant(FILE *out, double scale, int instructions)
{
    plant_params p;
    prm_defaults(&p);
    llc_cmd c = {200e3, 300e-9, 1.0, 1, 0};
    static pmod m;
    /* One module switching at 200 kHz into 200 ohm, after 5 ms of start. */
    pmod_init(&m, &p, PMOD_SWITCHING, NULL, 0);
    pmod_command(&m, &c, 1.0);
    for (int k = 0; k < 50; k++)
        pmod_step(&m, BRD_PERIOD_S, -1);
    long steps = (long)(2000 * scale);
    if (steps < 20)
        steps = 20;
    uint32_t ev0 = m.sw.events, per0 = 0;
    int64_t t0 = bench_now_ns();
    if (instructions)
        BENCH_CG_BEGIN();
    for (long k = 0; k < steps; k++)
        pmod_step(&m, BRD_PERIOD_S, -1);
    if (instructions)
        BENCH_CG_END("plant.switching_period");
    int64_t t1 = bench_now_ns();
    double sim = steps * BRD_PERIOD_S, wall = (t1 - t0) * 1e-9, periods = sim * c.fsw;
    (void)per0;
    if (!instructions) {
        bench_line(out, "plant.switching.rtf", sim / wall, "x");
        bench_line(out, "plant.switching.ns_per_period", wall * 1e9 / periods, "ns");
        bench_line(out, "plant.switching.events_per_period", (m.sw.events - ev0) / periods, "events");
    }
    /* The averaged table. */
    static lavg_table tab;
    int64_t t2 = bench_now_ns();
    lavg_build(&tab, &p.llc);
    int64_t t3 = bench_now_ns();
    if (!instructions)
        bench_line(out, "plant.averaged.table_build", (t3 - t2) * 1e-9, "s");
    /* 84 modules, averaged, 200 kW into a resistor. */
    rack r;
    rack_load load = {.kind = RACK_LOAD_R, .r = 3.0};
    if (rack_init(&r, &p, 84, PMOD_AVERAGED, 42, &load))
        return 1;
    for (unsigned k = 0; k < r.n; k++)
        pmod_command(&r.mod[k], &c, 1.0);
    for (int k = 0; k < 200; k++)
        rack_step(&r, BRD_PERIOD_S);
    long rsteps = (long)(20000 * scale);
    if (rsteps < 100)
        rsteps = 100;
    int64_t t4 = bench_now_ns();
    if (instructions)
        BENCH_CG_BEGIN();
    for (long k = 0; k < rsteps; k++)
        rack_step(&r, BRD_PERIOD_S);
    if (instructions)
        BENCH_CG_END("plant.rack84_step");
    int64_t t5 = bench_now_ns();
    double rwall = (t5 - t4) * 1e-9;
    if (!instructions) {
        bench_line(out, "plant.averaged.rack84.rtf", rsteps * BRD_PERIOD_S / rwall, "x");
        bench_line(out, "plant.averaged.rack84.ns_per_module_step", rwall * 1e9 / rsteps / 84, "ns");
        bench_line(out, "plant.averaged.rack84.bus_v", r.vbus, "V");
        bench_line(out, "plant.averaged.rack84.load_kw", r.p_load / 1e3, "kW");
    }
    rack_free(&r);
    /* The protection RTL per module per control period: quiet (every
     * input well below its threshold), near a threshold (noise just
     * under OCP; no register can change, so still one evaluation), and
     * clocked (the current crosses the threshold every period: 1000
     * clocks of 100 ns). */
    if (!instructions) {
        rtlp *pr = rtlp_new(2e-6);
        if (pr) {
            rtlp_out po;
            rtlp_in qa = {750, 2.0, 60, 0, 1, 0}, qb = {751, 2.1, 60, 0, 1, 0};
            long nq = (long)(200000 * scale) < 1000 ? 1000 : (long)(200000 * scale);
            int64_t a0 = bench_now_ns();
            for (long k = 0; k < nq; k++)
                rtlp_run(pr, BRD_PERIOD_S, (k & 1) ? &qb : &qa, (k & 1) ? &qa : &qb, &po);
            bench_line(out, "plant.protection_rtl.ns_per_step", (bench_now_ns() - a0) / (double)nq, "ns");
            rtlp_in na = {750, 3.95, 60, 0, 1, 0}, nb = {750, 3.97, 60, 0, 1, 0};
            long na_n = nq;
            a0 = bench_now_ns();
            for (long k = 0; k < na_n; k++)
                rtlp_run(pr, BRD_PERIOD_S, (k & 1) ? &nb : &na, (k & 1) ? &na : &nb, &po);
            bench_line(out, "plant.protection_rtl.ns_per_step_near_threshold", (bench_now_ns() - a0) / (double)na_n,
                       "ns");
            rtlp_in ca = {750, 3.8, 60, 0, 1, 0}, cb = {750, 4.2, 60, 0, 1, 0};
            long nc = nq / 100 < 50 ? 50 : nq / 100;
            a0 = bench_now_ns();
            for (long k = 0; k < nc; k++)
                rtlp_run(pr, BRD_PERIOD_S, (k & 1) ? &cb : &ca, (k & 1) ? &ca : &cb, &po);
            bench_line(out, "plant.protection_rtl.ns_per_step_clocked", (bench_now_ns() - a0) / (double)nc, "ns");
            rtlp_free(pr);
        }
    }
    /* ngspice on the same circuit, from rest, 1 ms (5 ns maximum step). */
    if (!instructions && scale >= 0.5) {
        double ng = bp_ngspice(&p, &c, 1e-3);
        if (ng > 0) {
            plant_params q = p;
            static pmod s;
            pmod_init(&s, &q, PMOD_SWITCHING, NULL, 0);
            pmod_command(&s, &c, 1.0);
            int64_t a = bench_now_ns();
            for (int k = 0; k < 10; k++)
                pmod_step(&s, BRD_PERIOD_S, -1);
            double ours = (bench_now_ns() - a) * 1e-9;
            bench_line(out, "plant.ngspice.rtf", 1e-3 / ng, "x");
            bench_line(out, "plant.switching.vs_ngspice", ng / ours, "x");
        }
    }
    return 0;
}
