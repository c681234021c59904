/* test_plant_range.c - the plant over its parameters' documented ranges
 * (every parameter at its bounds and between, both fidelities: no crash,
 * no hang, finite figures), its energy balance outside a steady state, and
 * the rack at its limits (`ek3 rack`: overload, collapse, large racks). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "avg.h"
#include "ek3_err.h"
#include "module.h"
#include "params.h"
#include "rack.h"

/* One module open loop for 2 ms at 200 kHz into its load: every figure
 * finite, the output never negative, the losses never negative. */
static void run_module(const plant_params *p, pmod_fidelity f, const lavg_table *tab, const char *what)
{
    static pmod m;
    pmod_init(&m, p, f, tab, 0);
    llc_cmd c = {200e3, 300e-9, 1.0, 1, 0};
    cr_assert_eq(pmod_command(&m, &c, 1.0), EK3_OK, "%s", what);
    for (int k = 0; k < 20; k++) {
        pmod_step(&m, 100e-6, -1);
        cr_assert(isfinite(m.vo) && m.vo >= 0, "%s: vo %g V at step %d", what, m.vo, k);
        cr_assert(isfinite(m.io) && isfinite(m.pin), "%s: io %g A, pin %g W", what, m.io, m.pin);
        cr_assert(isfinite(m.ploss) && m.ploss >= -1e-9, "%s: losses %g W", what, m.ploss);
        for (int i = 0; i < TH_NODES; i++)
            cr_assert(isfinite(m.th.t[i]), "%s: temperature %d is %g", what, i, m.th.t[i]);
    }
    uint16_t codes[PMOD_ADC_CHANNELS];
    pmod_adc(&m, codes);
    for (int i = 0; i < PMOD_ADC_CHANNELS; i++)
        cr_assert(codes[i] <= 4095, "%s: ADC channel %d reads %u", what, i, codes[i]);
}

/* The points of a parameter: its bounds (just inside an open one), the
 * default, and one geometric (or arithmetic) point on either side. Under
 * AddressSanitizer (CI's Asan step, 7x slower) the bounds and the default
 * only: the bounds are where a table index or a buffer would overrun, and
 * Release runs every point. */
static int points(const prm_def *d, double pt[5])
{
    double lo = d->min_incl ? d->min : d->min == 0 ? DBL_MIN : nextafter(d->min, d->max);
#if defined(__SANITIZE_ADDRESS__)
    pt[0] = lo;
    pt[1] = d->def;
    pt[2] = d->max;
    return 3;
#else
    pt[0] = lo;
    pt[1] = lo > 0 ? sqrt(lo * d->def) : 0.5 * (lo + d->def);
    pt[2] = d->def;
    pt[3] = d->def > 0 ? sqrt(d->def * d->max) : 0.5 * (d->def + d->max);
    pt[4] = d->max;
    return 5;
#endif
}

ParameterizedTestParameters(range, every_parameter_at_its_bounds_and_between_both_fidelities)
{
    static size_t idx[128];
    size_t n;
    prm_table(&n);
    for (size_t i = 0; i < n && i < 128; i++)
        idx[i] = i;
    return cr_make_param_array(size_t, idx, n < 128 ? n : 128);
}

ParameterizedTest(size_t *which, range, every_parameter_at_its_bounds_and_between_both_fidelities, .timeout = 280)
{
    size_t n;
    const prm_def *d = &prm_table(&n)[*which];
    static lavg_table nominal, own;
    plant_params p0;
    prm_defaults(&p0);
    lavg_build(&nominal, &p0.llc);
    int tank = d->off < sizeof(llc_params); /* a power-stage parameter: the table is built from it */
    double pt[5];
    int ran = 0;
    for (int k = 0; k < points(d, pt); k++) {
        plant_params p = p0;
        char as[80], err[200], what[120];
        snprintf(as, sizeof as, "%s=%.17g", d->name, pt[k]);
        snprintf(what, sizeof what, "%s = %.6g %s", d->name, pt[k], d->unit);
        int rc = prm_set(&p, as, err, sizeof err);
        if (rc) { /* only a circuit the power stage cannot be: refused, named, nothing changed */
            cr_assert_eq(rc, EK3_ERANGE, "%s: %s", what, err);
            cr_assert(strstr(err, "plant parameter '"), "%s: %s", what, err);
            cr_assert(!memcmp(&p, &p0, sizeof p), "%s: a refused value changed the set", what);
            continue;
        }
        ran++;
        run_module(&p, PMOD_SWITCHING, NULL, what);
        int own_tab = tank && pt[k] != d->def; /* the default's table is the nominal one */
        if (own_tab)
            lavg_build(&own, &p.llc);
        run_module(&p, PMOD_AVERAGED, own_tab ? &own : &nominal, what);
    }
    /* The default and the points around it are in every range. */
    cr_assert_geq(ran, 2, "%s: only %d of its points ran", d->name, ran);
}

/* A rack of two modules on a constant-power load, each power-stage
 * parameter that moves the table at both of its bounds (`ek3 rack --set
 * vdc=1` crashed in the table), both fidelities: the bus stays finite and
 * never negative, the currents add up. */
Test(range, a_rack_runs_at_the_bounds_of_the_power_stage, .timeout = 280)
{
    static const char *const names[] = {"vdc", "lr", "cr", "lm", "n", "cout"};
    size_t n;
    const prm_def *t = prm_table(&n);
    int ran = 0;
    for (size_t j = 0; j < sizeof names / sizeof names[0]; j++)
        for (size_t i = 0; i < n; i++) {
            if (strcmp(t[i].name, names[j]))
                continue;
            for (int b = 0; b < 2; b++) {
                plant_params p;
                prm_defaults(&p);
                char as[80], err[200];
                snprintf(as, sizeof as, "%s=%.17g", t[i].name, b ? t[i].max : t[i].min);
                if (prm_set(&p, as, err, sizeof err))
                    continue; /* refused with its reason: the sweep above checks how */
                for (int f = 0; f < 2; f++) {
                    static rack r;
                    rack_load l = {.kind = RACK_LOAD_CP, .p_w = 2000, .v_min = 100};
                    cr_assert_eq(rack_init(&r, &p, 2, f ? PMOD_SWITCHING : PMOD_AVERAGED, 7, &l), EK3_OK, "%s", as);
                    llc_cmd c = {200e3, 300e-9, 1.0, 1, 0};
                    for (unsigned k = 0; k < r.n; k++)
                        pmod_command(&r.mod[k], &c, 1.0);
                    for (int s = 0; s < 50; s++) {
                        rack_step(&r, 100e-6);
                        cr_assert(isfinite(r.vbus) && r.vbus >= 0, "%s: bus %g V", as, r.vbus);
                        cr_assert(isfinite(r.i_sum) && isfinite(r.i_load), "%s: %g A, %g A", as, r.i_sum, r.i_load);
                    }
                    rack_free(&r);
                    ran++;
                }
            }
        }
    cr_assert_geq(ran, 16, "%d rack runs", ran);
}

/* The examples: a DC link of 1 V and 1 uV. The table says where
 * the model works and the check says why a value is outside it. */
Test(range, a_dc_link_that_cannot_drive_the_rectifier_is_refused_with_the_reason)
{
    plant_params p;
    prm_defaults(&p);
    char err[200];
    cr_assert_eq(prm_set(&p, "vdc=1", err, sizeof err), EK3_ERANGE);
    cr_assert(strstr(err, "'vdc'") && strstr(err, "10 .. 1500 V"), "%s", err);
    cr_assert_eq(prm_set(&p, "vdc=1e-6", err, sizeof err), EK3_ERANGE);
    cr_assert_eq(prm_set(&p, "vdc=10", err, sizeof err), EK3_OK, "%s", err);
    /* Below 4 n vf the half bridge never drives the rectifier: 4 x 0.95 x 3 V = 11.4 V. */
    cr_assert_eq(prm_set(&p, "vf=3", err, sizeof err), EK3_ERANGE, "a 3 V drop needs more than 10 V");
    cr_assert(strstr(err, "'vdc'") && strstr(err, "11.4 V"), "%s", err);
    cr_assert_eq(prm_set(&p, "vf=2.6", err, sizeof err), EK3_OK, "%s", err); /* 9.88 V */
}

/* A table whose rectifier never conducts at a frequency (no-load
 * voltage 0) and a NaN operating point give no current, never an index
 * out of the table (the segfault of `--set vdc=1`). */
Test(range, the_averaged_model_never_indexes_outside_its_table)
{
    static lavg_table t;
    plant_params p;
    prm_defaults(&p);
    lavg_build(&t, &p.llc);
    for (int hb = 0; hb < 2; hb++)
        for (int i = 0; i < LAVG_NF; i++)
            t.nl[hb][i] = 0;
    lavg_pt pt = {0};
    double g = 1, q[LAVG_NQ];
    lavg_prepare(&t, t.fr, t.z0, p.llc.vdc, p.llc.n, 0, 200e3, 1.0, &pt);
    cr_assert_eq(lavg_io(&t, &pt, 0.0, &g), 0.0);
    cr_assert_eq(g, 0.0);
    lavg_eval(&t, t.fr, t.z0, p.llc.vdc, p.llc.n, 0, 200e3, 0.0, q);
    cr_assert_eq(q[LAVG_IO], 0.0);
    lavg_build(&t, &p.llc);
    lavg_prepare(&t, t.fr, t.z0, p.llc.vdc, p.llc.n, 0, NAN, 1.0, &pt);
    cr_assert_eq(lavg_io(&t, &pt, NAN, &g), 0.0);
    lavg_eval(&t, t.fr, t.z0, p.llc.vdc, p.llc.n, 0, NAN, NAN, q);
    cr_assert_eq(q[LAVG_IO], 0.0);
}

/* Input = output + losses + change of stored energy, also far from a
 * steady state (0.8 ms after start: the output capacitor overshoots and
 * gives back what it took), both fidelities. */
static void balance_case(pmod_fidelity f, const lavg_table *tab)
{
    plant_params p;
    prm_defaults(&p);
    static pmod m;
    pmod_init(&m, &p, f, tab, 0);
    llc_cmd c = {200e3, 300e-9, 1.0, 1, 0};
    pmod_command(&m, &c, 1.0);
    for (int k = 0; f == PMOD_SWITCHING && k < 80; k++) /* the averaged output rises from rest */
        pmod_step(&m, 10e-6, -1);
    double w0 = pmod_stored(&m), e_in = 0, e_out = 0, e_loss = 0, h = 1e-6;
    for (int k = 0; k < 200; k++) { /* 0.2 ms in 1 us steps: vo^2 / R is exact enough */
        double v0 = m.vo;
        pmod_step(&m, h, -1);
        e_in += m.pin * h;
        e_loss += m.ploss * h;
        e_out += (v0 * v0 + v0 * m.vo + m.vo * m.vo) / 3.0 / p.rload * h;
    }
    double dw = pmod_stored(&m) - w0;
    cr_assert_gt(fabs(dw), 0.1 * e_out, "far from steady: dw %g J, out %g J", dw, e_out);
    cr_assert_lt(fabs(e_in - e_out - e_loss - dw), 0.02 * e_out, "in %g J = out %g J + losses %g J + stored %g J", e_in,
                 e_out, e_loss, dw);
}

Test(range, the_energy_balance_counts_the_stored_energy)
{
    static lavg_table t;
    plant_params p;
    prm_defaults(&p);
    lavg_build(&t, &p.llc);
    balance_case(PMOD_SWITCHING, NULL);
    balance_case(PMOD_AVERAGED, &t);
}

/* `ek3 plant run --duration 1ms` printed "efficiency 41218.94 %": now no
 * efficiency outside a steady state, and one under 100 % in it. */
static int run(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

Test(range, no_efficiency_is_printed_outside_a_steady_state)
{
    static char out[8192];
    cr_assert_eq(run(out, sizeof out, "%s plant run --duration 1ms", EK3_BIN), 0, "%s", out);
    cr_assert(strstr(out, "NOT IN STEADY STATE") && !strstr(out, " %, balance"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s plant run --duration 5ms", EK3_BIN), 0, "%s", out);
    const char *e = strstr(out, "; efficiency ");
    cr_assert_not_null(e, "%s", out);
    double eff = strtod(e + 13, NULL);
    cr_assert(eff > 95 && eff < 100, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s plant sweep --loads inf", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "'inf' is not a resistance"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s plant sweep --loads 1e300", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "'rload'"), "%s", out);
    /* The averaged model outside its table clamped and printed 1208 V at 1 Hz (the switching model: 2 V). */
    cr_assert_eq(run(out, sizeof out, "%s plant run --fidelity averaged --fsw 1", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "table covers 100.01 to 400.04 kHz"), "%s", out);
}

/* ---- the rack at its limits, through `ek3 rack` ------------------------------ */

static int run(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int run(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f, "popen %s", cmd);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* 4 modules deliver at most 4 x 3.95 A x (750 - 5 x 3.95) V = 11.5 kW:
 * 20 kW is said to be too much before the run, the bus falls, the report
 * says so and the exit code is 1. */
/* The report's station line: sent = acknowledged + replaced + retries +
 * gave up + awaiting an answer; the replaced and awaiting counts out. */
static void station_adds_up(const char *out, unsigned *repl, unsigned *wait)
{
    const char *st = strstr(out, "station: ");
    unsigned sent = 0, acked = 0, cl = 0, rf = 0, retries = 0, gave = 0;
    *repl = *wait = 0;
    cr_assert(st && sscanf(st, "station: %u POWER_CMD sent, %u acknowledged (%u clamped, %u refused)", &sent, &acked,
                           &cl, &rf) == 4,
              "%s", out);
    st = strchr(st, ')');
    if (sscanf(st, "), %u replaced by a newer one before an answer, %u retries, %u gave up", repl, &retries, &gave) != 3)
        cr_assert_eq(sscanf(st, "), %u retries, %u gave up", &retries, &gave), 2, "%s", st);
    st = strstr(st, " gave up");
    cr_assert_not_null(st, "%s", out);
    st += 8;
    if (*st == ' ') /* " (on module 3)": the module given up on */
        st = strchr(st, ')') + 1;
    const char *late = strstr(st, " late answer"), *wt = strstr(st, " awaiting an answer");
    /* answers after a retry or a give-up are not commands: not in sent */
    if (wt && (!late || wt > late)) { /* ", 3 awaiting an answer": the number before it */
        const char *c = wt;
        while (c > st && c[-1] != ',')
            c--;
        cr_assert_eq(sscanf(c, " %u", wait), 1, "%s", out);
    }
    cr_assert_eq(sent, acked + *repl + retries + gave + *wait, "%u sent: %u acked, %u replaced, %u retries, %u gave up, %u awaiting",
                 sent, acked, *repl, retries, gave, *wait);
}

Test(rack, an_overloaded_rack_is_announced_reported_as_collapsed_and_fails, .timeout = 280)
{
    static char out[1 << 16];
    int rc = run(out, sizeof out, "%s rack --modules 4 --load 20kW --duration 0.8s --load-at 0.5s --load-ramp 0.1s "
                 "--threads 1", EK3_BIN);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out,
                     "warning: the load asks 20.0 kW (more than 11.5 kW from 0.5577 s on, on its ramp), but 4 modules "
                     "deliver at most 11.5 kW"),
              "%s", out);
    cr_assert(strstr(out, "11.5 kW, each 2884 W (3.95 A, its current limit as its own sensor reads it, at 730.2 V: the "
                          "750.0 V set point less "
                          "5.00 V/A droop at that current): the rack is overloaded then\n"),
              "%s", out); /* why 2.88 kW and not 3.3 */
    cr_assert(strstr(out, "RACK COLLAPSED at 0.5") &&
                  strstr(out, " s (the bus fell under 375.0 V): at the run's end it is at "),
              "the collapse's time, and the end's voltage said as such: %s", out);
    cr_assert(
        strstr(
            out,
            "4 of 4 modules in their slots tripped, 0 still running (the load asked more than the rack can deliver)"),
        "%s", out);
    cr_assert(strstr(out, "ek3 rack: the rack collapsed under its load (the report above says why)"), "%s", out);
    rc =
        run(out, sizeof out,
            "d=$(mktemp -d) && %s rack --modules 1 --load 5kW --load-at 0.2s --load-ramp 0 --duration 0.6s --threads 1 "
            "--report $d; rc=$?; echo '[report.txt]'; head -2 $d/report.txt; rm -rf $d; exit $rc",
            EK3_BIN);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "; 1 of 1 module in its slot tripped, 0 still running"), "one module, its slot: %s", out);
    /* the warning before the run is in the report too, at its head */
    cr_assert(strstr(out, "[report.txt]\nwarning (before the run): the load asks 5.0 kW, but 1 module delivers at most "
                          "2.9 kW (3.95 A, its current limit as its own sensor reads it, at 730.2 V: the 750.0 V set "
                          "point less 5.00 V/A droop at that current): the rack is overloaded\nEK3 rack: 1 module"),
              "%s", out);
    /* Overloaded but not collapsed yet: the bus under its droop band and
     * falling is a verdict of its own (it was exit 0 with no word). */
    rc = run(out, sizeof out, "%s rack --modules 1 --load 2.9kW --load-ramp 0 --duration 2s --threads 1", EK3_BIN);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "\nRACK SAGGING: at the run's end the bus is at 663.18 V (set point 750.0 V) with the load "
                          "on, more than 7.5 V under its droop band's foot (730.2 V: 5.00 V/A droop at the 3.95 A "
                          "current limit) since 1.2961 s, and falling 200.9 V/s: the load takes more than the modules "
                          "give; at that rate it is under half its set point (375.0 V, a collapse) in less than 1.5 "
                          "s\n") &&
                  !strstr(out, "COLLAPSED") &&
                  strstr(out, "ek3 rack: the rack is sagging under its load: its bus is under its droop band and "
                              "falling (the report above says more)\n"),
              "%s", out);
    /* the warning before it: the two figures told apart (2.9 against 2.9 kW, before), no "each" for one module */
    cr_assert(strstr(out, "warning: the load asks 2.90 kW, but 1 module delivers at most 2.88 kW (3.95 A, its current "
                          "limit as its own sensor reads it, at 730.2 V: "),
              "%s", out);
    /* at 1 s it is still within 7.5 V of the band's foot: no verdict yet */
    rc = run(out, sizeof out, "%s rack --modules 1 --load 2.9kW --load-ramp 0 --duration 1s --threads 1", EK3_BIN);
    cr_assert(rc == 0 && !strstr(out, "SAGGING"), "%s", out);
    /* a resistor too large a load: the bus settles under the band, held there; still settling at 2 s (falling 15
     * V/s), it is overloaded too, not sagging (a resistor's current falls with the bus: no collapse) */
    rc = run(out, sizeof out, "%s rack --modules 1 --load-ohm 150 --duration 2s --threads 1", EK3_BIN);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out,
                     "\nRACK OVERLOADED: at the run's end the bus is at 598.21 V (set point 750.0 V) with the load "
                     "on, more than 7.5 V under its droop band's foot (730.2 V: 5.00 V/A droop at the 3.95 A "
                     "current limit) since 0.9686 s: the load takes all the current the modules give at their "
                     "current limit: a resistor's current falls with the bus, so it settles where that limit "
                     "meets it, near 593 V\n") &&
                  !strstr(out, "SAGGING") &&
                  strstr(out, "ek3 rack: the rack is overloaded: the load holds its bus under its droop band (the "
                              "report above says more)\n"),
              "%s", out);
    /* a ramp the run's end cuts, past the limit before it: the warning says from when, and what it asks by the
     * end (it said the whole ramp's 30 kW, where the note before it said 24.9 kW) */
    rc = run(out, sizeof out, "%s rack --modules 8 --load 30kW --load-ramp 1s --duration 1.33s --threads 1", EK3_BIN);
    cr_assert(strstr(out, "reaches 83 % of its 30 kW (24.9 kW)\nek3 rack: warning: the load's ramp asks more than "
                          "23.1 kW from 1.269 s on (24.9 kW at the run's end), but 8 modules deliver at most 23.1 kW, "
                          "each 2884 W (") &&
                  strstr(out, "droop at that current): the rack is overloaded then\n"),
              "%s", out);
    /* a ramp that reaches the rack's limit only after the run: no warning, no verdict */
    rc = run(out, sizeof out, "%s rack --modules 1 --load 2.9kW --duration 0.95s --threads 1", EK3_BIN);
    cr_assert(rc == 0 && !strstr(out, "overloaded") && !strstr(out, "SAGGING"), "%s", out);
    /* a battery holds the bus at its own voltage, under the band in its constant-current charge and never up to
     * 90 % of the set point: no verdict */
    rc = run(out, sizeof out, "%s rack --modules 1 --battery --duration 3s --threads 1", EK3_BIN);
    cr_assert(rc == 0 && !strstr(out, "SAGGING") && !strstr(out, "OVERLOADED") &&
                  strstr(out, "bus at the run's end: 661."),
              "%s", out);
    /* Every module pulled with the load on: nothing feeds the bus, a
     * collapse said before, during and after the run (it was exit 0). */
    rc = run(out, sizeof out, "%s rack --modules 2 --duration 1s --pull 1@0.7s --pull 2@0.7s --threads 1", EK3_BIN);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "warning: the load asks 4.8 kW, but every module is pulled during the run") &&
                  strstr(out, " V), the load connected; every module is pulled: nothing feeds the bus\n") &&
                  strstr(out, "ek3 rack: the rack collapsed: every module is pulled"),
              "%s", out);
    /* Short at the end and shorter still for a while (one put back): the warning names the worst window too (it
     * named the end's 3 modules alone) */
    rc = run(out, sizeof out,
             "%s rack --modules 4 --load 10kW --duration 1.05s --pull 1@0.7s --pull 2@0.8s --fault insert:1@1s "
             "--threads 1",
             EK3_BIN);
    cr_assert(
        strstr(out, "warning: the load asks 10.0 kW, but from 1.0375 s 3 modules (those in their slots at the run's "
                    "end, ") &&
            strstr(
                out,
                "the rack is overloaded then; before that, from 0.8 s until 1.0375 s only 2 deliver, at most 5.8 kW\n"),
        "%s", out);
    /* every window the rack is short in, each from when the pull acts (it named the first window alone) */
    rc = run(out, sizeof out,
             "%s rack --modules 8 --load 21kW --duration 1.5s --pull 3@0.8s --fault insert:3@1s --pull 5@1.20004s "
             "--fault insert:5@1.4s --threads 1",
             EK3_BIN);
    cr_assert(strstr(out,
                     "warning: the load asks 21.0 kW, but from 0.9807 s until 1.0375 s 7 modules (those in their "
                     "slots then, one put back counted once pre-charged, 37.5 ms after its insert at the earliest, and "
                     "not cut off "
                     "the bus before the start) deliver at most 20.2 kW; from 1.2001 s until 1.4375 s 7 deliver, at "
                     "most 20.2 kW: the rack is overloaded then\n"),
              "%s", out);
    /* short at the end from a pull, short before that for a while, and shorter still in between */
    rc = run(out, sizeof out,
             "%s rack --modules 8 --load 18kW --duration 1.5s --pull 3@0.8s --pull 5@0.9s --fault insert:3@1s --pull "
             "6@1.2s --pull 7@1.3s --fault insert:5@1.4s --threads 1",
             EK3_BIN);
    cr_assert(strstr(out, "warning: the load asks 18.0 kW, but from 1.2 s 6 modules (those in their slots at the run's "
                          "end, ") &&
                  strstr(out,
                         "the rack is overloaded then; before that, from 0.9807 s until 1.0375 s 6 deliver, at most "
                         "17.3 kW; from 1.3 s until 1.4375 s only 5 deliver, at most 14.4 kW\n"),
              "%s", out);
    /* Pulled from the start: the station alone on the bus, said at its start and under the bus's error frames. */
    rc = run(out, sizeof out, "%s rack --modules 2 --duration 0.6s --pull 1@0s --fault pull:2@0s --threads 1", EK3_BIN);
    cr_assert(
        strstr(out,
               "note: at 0.500 s the station has heard none of its 2 modules (pulled: slots 1, 2): it starts none\n") &&
            !strstr(out, "could not start") &&
            strstr(out, " % (no module on the bus: the station's frames go unacknowledged, each try an ACK error"),
        "%s", out);
    /* one pulled as a fault (--fault pull) counts as --pull does: no module
     * left, no leader to elect; a bus never up is not called collapsed */
    cr_assert(strstr(out, "warning: the load asks 4.8 kW, but every module is pulled during the run") &&
                  strstr(out, "\nswarm: no leader elected (no module in its slot);") &&
                  strstr(out, "\nBUS NOT UP: the bus is at 0.00 V (set point 750.0 V), the load connected, never up: "
                              "every module is pulled: nothing feeds the bus\n") &&
                  !strstr(out, "COLLAPSED") &&
                  strstr(out, "ek3 rack: the bus never came up: every module is pulled (the report above says more)"),
              "%s", out);
    /* A short collapses a rack within its load: the report and the error
     * name the short, and a rack with nothing flowing has no efficiency. */
    rc = run(out, sizeof out, "%s rack --modules 4 --load 8kW --duration 0.6s --load-at 0.4s --load-ramp 0.1s "
             "--fault short:rack@0.55s --threads 1", EK3_BIN);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(
        strstr(out, "ek3 rack: the rack collapsed: its bus is shorted (fault 'short'; the report above says more)") &&
            strstr(out, "0 still running (the bus is shorted: fault 'short')\n") &&
            strstr(out, " kW in (no power in)\n") && !strstr(out, "collapsed under its load"),
        "%s", out);
    cr_assert(strstr(out, "EK3 rack: ") < strstr(out, "ek3 rack: the rack collapsed"),
              "through a pipe, the report before the error line: %s", out);
    /* Every POWER_CMD the station sent is accounted for: the re-splits as
     * the modules trip one by one send again before the answers come. */
    unsigned repl, wait;
    station_adds_up(out, &repl, &wait);
    cr_assert_gt(repl, 0u, "%s", out);
    /* The modules' V out beside a 0 V bus: their own capacitors, said under the table. */
    cr_assert(
        strstr(out, "note: V out is a module's own output capacitor, behind its relay; module 1 (FAULT) holds ") &&
            strstr(out, " V, isolated from the 0.00 V bus, and 1 more module (the table gives each)\n") &&
            strstr(out, "V, module 2 (FAULT) "),
        "%s", out);
    /* Within what it can deliver: no warning, no collapse, exit 0. */
    rc = run(out, sizeof out, "%s rack --modules 4 --load 9.6kW --duration 0.8s --load-at 0.5s --load-ramp 0.1s "
             "--threads 1", EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(!strstr(out, "warning") && !strstr(out, "COLLAPSED"), "%s", out);
    cr_assert(strstr(out, "(4 in their slots, 4 regulating)"), "%s", out);
    cr_assert(strstr(out, "\nbus at the run's end: "), "the power line is one instant, and says which: %s", out);
    cr_assert(!strstr(out, "V out is a module's own"), "every module on the bus: no note: %s", out);
    cr_assert(!strstr(out, "a light load"), "%s", out);
    /* 12 W on four 3.3 kW modules: they burst, and at the run's end they
     * give nothing out and take some 40 W in (a module switching between
     * two bursts); the report says why. */
    rc = run(out, sizeof out, "%s rack --modules 4 --load 12 --duration 1s --threads 1", EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "note: a light load (12 W on 4 running modules): they run in bursts (burst mode)"), "%s",
              out);
    cr_assert(strstr(out, "ek3 rack: note: --load 12 is 12 W (a unit says which: 12kW)\n"), "a bare number: %s", out);
    cr_assert(strstr(out, "\nload: constant power; set point") && strstr(out, " kW in (none out)\n"),
              "nothing out, no efficiency of 0 %%: %s", out);
    /* No load yet: during the soft start the modules charge the bus; after
     * it they burst to hold it. Neither is called a light load. */
    rc = run(out, sizeof out, "%s rack --modules 4 --duration 0.3s --threads 1", EK3_BIN);
    cr_assert(strstr(out,
                     "\nnote: the bus is still coming up (4 modules in the soft start): of what they deliver, what "
                     "the load does not take charges the bus capacitance\n") &&
                  !strstr(out, "light load"),
              "%s", out);
    rc = run(out, sizeof out, "%s rack --modules 4 --duration 0.45s --threads 1", EK3_BIN);
    cr_assert(strstr(out, "\nnote: no load: the modules hold the bus in bursts (burst mode); what they take in at the "
                          "run's end goes to their losses and the bus capacitance\n") &&
                  !strstr(out, "light load") && !strstr(out, "coming up"),
              "%s", out);
    cr_assert(strstr(out, "\nload: constant power, not on during the run; set point 750.0 V"), "%s", out);
    /* A run that ends with commands unanswered counts them too. */
    rc = run(out, sizeof out, "%s rack --modules 4 --load 6kW --duration 0.7006s --load-at 0.4s --load-ramp 0.1s "
             "--fault trip-ocp:3@0.7s:step=10A --threads 1", EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    station_adds_up(out, &repl, &wait);
    cr_assert_gt(wait, 0u, "%s", out);
}

/* N-1 from power-on: module 5 is never in its slot. The station starts
 * the other 83 once it has heard no new module for 30 ms, their soft
 * start ends before the load at 0.5 s, and they carry the 200 kW (the
 * station waited to 0.5 s for module 5 before, and the bus collapsed
 * under the load in its soft start). */
Test(rack, a_rack_missing_a_module_from_power_on_carries_its_load, .timeout = 120)
{
    static char out[1 << 16];
    int rc = run(out, sizeof out, "%s rack --modules 84 --load 200kW --pull 5@0s --duration 1.2s", EK3_BIN);
    cr_assert_eq(rc, 0, "%.3000s", out);
    cr_assert(strstr(out, "note: the station starts the rack at 0.04"), "%.3000s", out);
    cr_assert(strstr(out, "EK3 rack: 84 modules (83 in their slots, 83 regulating)"), "%.3000s", out);
    cr_assert(strstr(out, "load 200.00 kW") && !strstr(out, "COLLAPSED") && !strstr(out, "NOT UP"), "%.3000s", out);
}

/* 250 modules at the 2.4 kW each that 84 carry: the station starts the
 * rack only once it has heard them all (their first heartbeats take
 * about 25 ms of bus time), so every one regulates. */
Test(rack, a_large_rack_starts_every_module_and_carries_its_load, .timeout = 280)
{
    static char out[1 << 17];
    int rc = run(out, sizeof out, "%s rack --modules 250 --load 600kW --duration 0.7s --load-at 0.3s --load-ramp 0.3s",
                 EK3_BIN);
    cr_assert_eq(rc, 0, "%.2000s", out);
    cr_assert(strstr(out, "EK3 rack: 250 modules (250 in their slots, 250 regulating)"), "%.2000s", out);
    cr_assert(strstr(out, "station: 250 POWER_CMD sent"), "%.2000s", out);
    cr_assert(strstr(out, "load 599.") || strstr(out, "load 600."), "%.2000s", out);
}
