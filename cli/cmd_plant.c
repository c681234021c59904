/* cmd_plant.c - `ek3 plant`: the plant model's parameters, an open-loop
 * run of one module, and the gain sweep. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avg.h"
#include "board.h"
#include "cli.h"
#include "cmd.h"
#include "ek3_err.h"
#include "module.h"
#include "params.h"

/* --set name=value: one parameter; the error names it. */
static int plant_set(const char *w, plant_params *p, const char *assign)
{
    char err[200];
    if (prm_set(p, assign, err, sizeof err))
        return cli_usage_error(w, "%s", err);
    return CLI_OK;
}

/* A resistance with its SI prefix, so that every load the range allows
 * shows: "1 mohm", "200 ohm", "4.7 kohm", "1 Gohm". Returns buf. */
static const char *plant_ohm(double r, char *buf, size_t cap)
{
    static const char *const pre[] = {"p", "n", "u", "m", "", "k", "M", "G"};
    int k = 4;
    while (k > 0 && r != 0 && fabs(r) < 0.99995)
        r *= 1e3, k--;
    while (k < 7 && fabs(r) >= 999.95)
        r /= 1e3, k++;
    snprintf(buf, cap, "%.4g %sohm", r, pre[k]);
    return buf;
}

static int plant_params_cmd(int argc, char **argv)
{
    const char *w = "plant params";
    plant_params p;
    const char *miss = NULL;
    prm_defaults(&p);
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            puts("usage: ek3 plant params [--set name=value]...\n\n"
                 "Print every plant parameter with its value, unit, default, range and\n"
                 "meaning, then the design figures they give (docs/plant-model.md). Some\n"
                 "values are valid only with others (lm above lr, vdc above 4 n vf, ...):\n"
                 "--set says which and why.");
            return CLI_OK;
        } else if (!strcmp(argv[i], "--set") && cli_has_value(argv[i], i + 1 < argc ? argv[i + 1] : NULL, &miss)) {
            if (plant_set(w, &p, argv[++i]))
                return CLI_USAGE;
        } else {
            return cli_bad_arg(w, argv[i], miss);
        }
    }
    size_t n;
    const prm_def *t = prm_table(&n);
    printf("%-14s %14s %-7s %14s  %-20s %s\n", "name", "value", "unit", "default", "range", "meaning");
    for (size_t i = 0; i < n; i++) {
        char r[48]; /* [min, max], or (min, max] when min itself is outside */
        snprintf(r, sizeof r, "%c%g, %g]", t[i].min_incl ? '[' : '(', t[i].min, t[i].max);
        printf("%-14s %14.6g %-7s %14.6g  %-20s %s\n", t[i].name, prm_get(&p, &t[i]), t[i].unit, t[i].def, r,
               t[i].doc);
    }
    prm_design d;
    prm_design_of(&p, &d);
    printf("\ndesign: fr %.1f kHz, fm %.1f kHz, Ln %.2f, Z0 %.1f ohm, Q %.3f at full load (%.0f ohm),\n"
           "        vo at resonance (full bridge) %.1f V, magnetizing peak %.2f A\n",
           d.fr / 1e3, d.fm / 1e3, d.ln, d.z0, d.q_full, d.rload_full, d.vo_res_fb, d.im_pk);
    return CLI_OK;
}

typedef struct run_opts {
    plant_params p;
    int fidelity;
    llc_cmd cmd;
    double duration, sample;
    const char *duration_arg, *sample_arg; /* as typed, for their messages (NULL: the default) */
    const char *csv;
} run_opts;

/* Options shared by run and sweep. Returns 1 when argv[*i] was one. */
static int plant_common_opt(const char *w, run_opts *o, int argc, char **argv, int *i, int *rc, const char **miss)
{
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    double x;
    *rc = CLI_OK;
    if (!strcmp(a, "--set") && cli_has_value(a, v, miss)) {
        *rc = plant_set(w, &o->p, v);
    } else if (!strcmp(a, "--fsw") && cli_has_value(a, v, miss)) {
        if (cli_parse_quantity(v, "Hz", &x) || !(x > 0 && x <= 2e6))
            *rc = cli_usage_error(w, "--fsw '%s': a frequency above 0 and up to 2 MHz", v);
        o->cmd.fsw = x;
    } else if (!strcmp(a, "--deadtime") && cli_has_value(a, v, miss)) {
        if (cli_parse_quantity(v, "s", &x) || !(x >= 0 && x < 5e-6))
            *rc = cli_time_error(w, "--deadtime", v, "from 0 to 5 us", 5e-6);
        o->cmd.deadtime = x;
    } else if (!strcmp(a, "--burst") && cli_has_value(a, v, miss)) {
        if (cli_parse_quantity(v, "", &x) || !(x > 0 && x <= 1))
            *rc = cli_usage_error(w, "--burst '%s': the fraction of periods that switch, (0, 1]", v);
        o->cmd.burst = x;
    } else if (!strcmp(a, "--load-ohm") && cli_has_value(a, v, miss)) {
        char set[80], err[200];
        if (cli_parse_quantity(v, "ohm", &x))
            *rc = cli_usage_error(w, "--load-ohm '%s': a resistance", v);
        else if (snprintf(set, sizeof set, "rload=%.17g", x), prm_set(&o->p, set, err, sizeof err))
            *rc = cli_usage_error(w, "--load-ohm '%s': %s", v, err);
    } else if (!strcmp(a, "--half-bridge")) {
        o->cmd.half_bridge = 1;
        return 1;
    } else if (!strcmp(a, "--fidelity") && cli_has_value(a, v, miss)) {
        if (!strcmp(v, "switching"))
            o->fidelity = PMOD_SWITCHING;
        else if (!strcmp(v, "averaged"))
            o->fidelity = PMOD_AVERAGED;
        else
            *rc = cli_usage_error(w, "--fidelity '%s': switching or averaged", v);
    } else {
        return 0;
    }
    (*i)++;
    return 1;
}

static void run_defaults(run_opts *o)
{
    memset(o, 0, sizeof *o);
    prm_defaults(&o->p);
    o->fidelity = PMOD_SWITCHING;
    o->cmd = (llc_cmd){200e3, 300e-9, 1.0, 1, 0};
    o->duration = 5e-3;
}

typedef struct csv_ctx {
    FILE *f;
    const pmod *m;
    int rows;
} csv_ctx;

static void csv_switching_row(void *ctx, const llc *s)
{
    csv_ctx *c = ctx;
    const th_state *th = &c->m->th;
    fprintf(c->f, "%.9e,%.6g,%.6g,%.6g,%.6g,%.6g,%.5g,%.5g,%.5g,%.5g,%.5g\n", s->t, s->i, s->vcr, s->ilm, s->vo, s->vab,
            th->t[TH_JA], th->t[TH_JB], th->t[TH_XFMR], th->t[TH_LR], th->t[TH_HS]);
    c->rows++;
}

static int plant_run_cmd(int argc, char **argv)
{
    const char *w = "plant run", *miss = NULL;
    static const char *const many[] = {"--set", NULL};
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    run_opts o;
    run_defaults(&o);
    for (int i = 1; i < argc; i++) {
        int rc;
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!cli_is_help(argv[i]) && cli_once(w, &seen, argv[i], many))
            return CLI_USAGE;
        if (cli_is_help(argv[i])) {
            puts("usage: ek3 plant run [--fidelity switching|averaged] [--fsw 200e3] [--load-ohm 200]\n"
                 "                     [--duration 5ms] [--deadtime 300ns] [--burst 1] [--half-bridge]\n"
                 "                     [--set name=value]... [--csv FILE [--sample T]]\n\n"
                 "Run one module open loop from rest: the bridge switches at --fsw into its\n"
                 "load resistor. Prints the end state, power flow, losses and temperatures.\n"
                 "--csv writes the waveforms: time, tank current, resonant capacitor\n"
                 "voltage, magnetizing current, output voltage, bridge voltage and the\n"
                 "temperatures (switching), or time, output voltage and current, losses\n"
                 "and temperatures at the end of every control period, its currents and\n"
                 "powers the period's means (averaged). --sample is the time between the\n"
                 "switching model's rows (default a hundredth of a switching period: 50 ns\n"
                 "at 200 kHz); each sample ends one of the solver's exact intervals, so a\n"
                 "sampled run differs from an unsampled one: in steady state in its last\n"
                 "digits (the losses 30.7 W either way at 5 ms), in a start from rest more\n"
                 "(0.2 ms: 1383.32 V and 236.8 W of losses unsampled, 1382.94 V and\n"
                 "232.0 W with 200ns or finer; the solver's longer intervals follow the\n"
                 "output's fast rise less closely). The end state's i_load is the load's\n"
                 "current; the CSV's i_out_a the module's, the capacitor's included.");
            return CLI_OK;
        } else if (plant_common_opt(w, &o, argc, argv, &i, &rc, &miss)) {
            if (rc)
                return rc;
        } else if (!strcmp(argv[i], "--duration") && cli_has_value(argv[i], v, &miss)) {
            o.duration_arg = v;
            if (cli_parse_quantity(argv[++i], "s", &o.duration) ||
                !(o.duration >= BRD_PERIOD_S * (1 - 1e-9) && o.duration <= 3600))
                return cli_time_error(w, "--duration", argv[i], "from one control period (100us) up to 1 h", 3600);
        } else if (!strcmp(argv[i], "--sample") && cli_has_value(argv[i], v, &miss)) {
            o.sample_arg = v;
            if (cli_parse_quantity(argv[++i], "s", &o.sample) || !(o.sample > 0))
                return cli_time_error(w, "--sample", argv[i], "above 0", 3600);
        } else if (!strcmp(argv[i], "--csv") && cli_has_value(argv[i], v, &miss)) {
            if (!v[0])
                return cli_empty_path(w, "--csv", "file");
            o.csv = argv[++i];
        } else {
            return cli_bad_arg(w, argv[i], miss);
        }
    }
    if (cli_needs(w, &seen, "--sample", "--csv", "it is the time between the rows of the waveforms --csv writes"))
        return CLI_USAGE;
    if (o.cmd.deadtime >= 0.25 / o.cmd.fsw) /* name the flag given: the other is its default */
        return cli_usage_error(w, "%s: the dead time %g s is not below a quarter period at %g Hz (--fsw)%s",
                               cli_given(&seen, "--deadtime") ? "--deadtime" : "--fsw", o.cmd.deadtime, o.cmd.fsw,
                               cli_given(&seen, "--deadtime") ? "" : "; a lower --fsw or a shorter --deadtime");
    prm_design dz;
    prm_design_of(&o.p, &dz);
    if (o.fidelity == PMOD_AVERAGED && !(o.cmd.fsw >= LAVG_FN_MIN * dz.fr && o.cmd.fsw <= LAVG_FN_MAX * dz.fr))
        return cli_usage_error(w,
                               "--fsw %g Hz: the averaged model's table covers %g to %g kHz (%g to %g times fr); "
                               "--fidelity switching runs any frequency",
                               o.cmd.fsw, LAVG_FN_MIN * dz.fr / 1e3, LAVG_FN_MAX * dz.fr / 1e3, LAVG_FN_MIN, LAVG_FN_MAX);
    double period = BRD_PERIOD_S;
    if (o.sample_arg && o.fidelity == PMOD_AVERAGED)
        return cli_usage_error(w,
                               "--sample %s: the averaged model writes one row a control period (100us); --sample is "
                               "the switching model's",
                               o.sample_arg);
    if (o.sample > o.duration * (1 + 1e-9)) { /* a bare number is seconds: --sample 1 */
        char d[48];
        if (o.duration_arg)
            snprintf(d, sizeof d, "%.40s", o.duration_arg);
        else
            snprintf(d, sizeof d, "%g s (its default)", o.duration);
        return cli_usage_error(w,
                               "--sample %s (%g s) is longer than --duration %s: the waveform would be its first row",
                               o.sample_arg, o.sample, d);
    }
    if (o.csv && o.sample <= 0)
        o.sample = o.fidelity == PMOD_SWITCHING ? 1.0 / o.cmd.fsw / 100.0 : period;
    /* In floating point: a tiny --sample must not wrap an integer past the limit. */
    double rows = o.csv ? o.duration / (o.fidelity == PMOD_SWITCHING ? o.sample : period) : 0;
    if (!(rows <= 5e6))
        return cli_usage_error(w, "--sample %g s over %g s is %.3g rows; at most 5000000", o.sample, o.duration, rows);
    static lavg_table tab;
    if (o.fidelity == PMOD_AVERAGED)
        lavg_build(&tab, &o.p.llc);
    static pmod m;
    pmod_init(&m, &o.p, (pmod_fidelity)o.fidelity, &tab, 0);
    if (pmod_command(&m, &o.cmd, 1.0))
        return cli_usage_error(w, "the PWM command is outside what the bridge can do");
    FILE *f = NULL;
    if (o.csv) {
        f = fopen(o.csv, "w");
        if (!f)
            return cli_fail(w, "--csv %s: %s", o.csv, strerror(errno));
        if (o.fidelity == PMOD_SWITCHING)
            fputs("t_s,i_lr_a,v_cr_v,i_lm_a,v_out_v,v_ab_v,tj_a_c,tj_b_c,t_xfmr_c,t_lr_c,t_hs_c\n", f);
        else
            fputs("t_s,v_out_v,i_out_a,p_in_w,p_loss_w,tj_a_c,tj_b_c,t_xfmr_c,t_lr_c,t_hs_c\n", f);
    }
    csv_ctx cc = {f, &m, 0};
    if (f && o.fidelity == PMOD_SWITCHING)
        pmod_trace(&m, o.sample, csv_switching_row, &cc);
    double e_in = 0, e_loss = 0, e_out = 0, t_stat = o.duration * 0.8, ts = 0, w0 = 0;
    int hard = 0;
    long steps = (long)ceil(o.duration / period - 1e-9);
    cli_catch_stop(); /* Ctrl-C: the CSV keeps whole rows */
    for (long k = 0; k < steps; k++) {
        double dt = k == steps - 1 ? o.duration - k * period : period;
        if (cli_stop_requested())
            break;
        int in_stat = k * period >= t_stat || k == steps - 1; /* the last step at least */
        if (in_stat && ts == 0)
            w0 = pmod_stored(&m); /* stored energy at the window's start */
        pmod_step(&m, dt, -1);
        if (f && k % 1000 == 0 && ferror(f))
            break; /* a full disk: stop here, and say so below */
        if (f && o.fidelity == PMOD_AVERAGED)
            fprintf(f, "%.9e,%.6g,%.6g,%.6g,%.6g,%.5g,%.5g,%.5g,%.5g,%.5g\n", m.t, m.vo, m.io, m.pin, m.ploss,
                    m.th.t[TH_JA], m.th.t[TH_JB], m.th.t[TH_XFMR], m.th.t[TH_LR], m.th.t[TH_HS]);
        if (in_stat) {
            ts += dt;
            e_in += m.pin * dt;
            e_loss += m.ploss * dt;
            e_out += m.pout * dt; /* into the load over the step (its end value misses a transient's) */
            hard |= m.zvs_lost;
        }
    }
    if (cli_close_out(w, f, o.csv))
        return CLI_FAIL;
    if (cli_stop_requested()) {
        fprintf(stderr, "ek3 %s: INTERRUPTED at %.6g s of %.6g s%s%s\n", w, m.t, o.duration,
                o.csv ? "; whole rows up to there in " : "", o.csv ? o.csv : "");
        return CLI_FAIL;
    }
    /* The balance over the window counts the energy the tank and the
     * output capacitor took in or gave back; an efficiency is a figure of
     * a steady state only: while the stored energy moves by more than
     * 1 % of what passed through, the run has not reached one. */
    double dw = pmod_stored(&m) - w0, through = fmax(e_in, e_out);
    int flows = through > 1e-3 * ts; /* 1 mW */
    int steady = flows && fabs(dw) <= 0.01 * through;
    char ohm[32];
    printf("module open loop, %s fidelity, %s bridge, fsw %.1f kHz, dead time %.0f ns, burst %.2f, load %s\n",
           o.fidelity == PMOD_SWITCHING ? "switching" : "averaged", o.cmd.half_bridge ? "half" : "full",
           o.cmd.fsw / 1e3, o.cmd.deadtime * 1e9, o.cmd.burst, plant_ohm(o.p.rload, ohm, sizeof ohm));
    printf("after %.6g s: vo %.2f V, i_load %.3f A\n", o.duration, m.vo, m.vo / o.p.rload);
    if (fabs(ts - 0.2 * o.duration) <= 1e-6 * o.duration)
        printf("last 20 %%: ");
    else /* the window is whole steps from 80 % on (control periods, the last one shorter when the run is not a whole
          * number of them): a short run's is its last step at least */
        printf("last %g ms (%.0f %% of the run; its last step at least): ", ts * 1e3, 100 * ts / o.duration);
    printf("p_in %.1f W, p_out %.1f W, losses %.1f W, stored energy %+.4g J; ", e_in / ts, e_out / ts, e_loss / ts, dw);
    if (steady)
        printf("efficiency %.2f %%, balance %+.3f %% of p_in\n", 100 * e_out / e_in,
               100 * (e_in - e_out - e_loss - dw) / e_in);
    else if (flows)
        printf("NOT IN STEADY STATE (the stored energy moved by %.1f %% of the energy through): no efficiency "
               "(balance %+.3f %% of the energy through); a longer --duration reaches one\n",
               100 * fabs(dw) / through, 100 * (e_in - e_out - e_loss - dw) / through);
    else
        printf("no power flows (under 1 mW): no efficiency\n");
    printf("losses now: leg A %.2f W, leg B %.2f W, transformer %.2f W, Lr %.2f W, rectifier %.2f W; ZVS %s\n",
           m.p_node[TH_JA], m.p_node[TH_JB], m.p_node[TH_XFMR], m.p_node[TH_LR], m.p_node[TH_HS],
           hard ? "LOST (hard switching)" : "kept");
    printf("temperatures: Tj A %.1f C, Tj B %.1f C, transformer %.1f C, Lr %.1f C, heatsink %.1f C\n",
           m.th.t[TH_JA], m.th.t[TH_JB], m.th.t[TH_XFMR], m.th.t[TH_LR], m.th.t[TH_HS]);
    if (o.csv)
        printf("waveforms: %s (%d rows)\n", o.csv, o.fidelity == PMOD_SWITCHING ? cc.rows : (int)steps);
    return CLI_OK;
}

#define SWEEP_SETTLE_S 0.25 /* longest settling run of one sweep point, s */

/* First-harmonic approximation of the normalized gain. */
static double fha_gain(double fn, double ln, double q)
{
    double a = 1.0 + (1.0 - 1.0 / (fn * fn)) / ln, b = q * (fn - 1.0 / fn);
    return 1.0 / sqrt(a * a + b * b);
}

static int plant_sweep_cmd(int argc, char **argv)
{
    const char *w = "plant sweep", *miss = NULL;
    static const char *const many[] = {"--set", NULL};
    /* What run takes and a sweep sets itself. */
    static const char *const not_here[][2] = {
        {"--fsw", "the sweep sets the switching frequency itself, 0.6 to 1.8 times fr"},
        {"--fidelity", "the sweep runs both fidelities (and the FHA) at every point"},
        {"--load-ohm", "--loads gives the sweep's loads"},
    };
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    run_opts o;
    run_defaults(&o);
    double loads[8] = {100, 200, 400, 1000};
    int nl = 4;
    for (int i = 1; i < argc; i++) {
        int rc;
        if (!cli_is_help(argv[i]) && cli_once(w, &seen, argv[i], many))
            return CLI_USAGE;
        for (size_t k = 0; k < sizeof not_here / sizeof not_here[0]; k++)
            if (!strcmp(argv[i], not_here[k][0]))
                return cli_usage_error(w, "%s has no effect on a sweep: %s", not_here[k][0], not_here[k][1]);
        if (cli_is_help(argv[i])) {
            puts("usage: ek3 plant sweep [--loads 100,200,400,1000] [--half-bridge] [--set name=value]...\n\n"
                 "The DC gain M = n vo / Vbridge over switching frequency for each load, from\n"
                 "the switching model (run to steady state), the averaged model and the\n"
                 "first-harmonic approximation (FHA, lossless).");
            return CLI_OK;
        } else if (!strcmp(argv[i], "--loads") && cli_has_value(argv[i], i + 1 < argc ? argv[i + 1] : NULL, &miss)) {
            /* One to 8 resistances; every item one, none empty, none dropped. */
            const char *s = argv[++i];
            nl = 0;
            for (;;) {
                char item[64];
                size_t l = strcspn(s, ",");
                double x;
                if (nl == 8)
                    return cli_usage_error(w, "--loads '%s': at most 8 loads", argv[i]);
                if (l >= sizeof item)
                    return cli_usage_error(w, "--loads '%s': an item is too long", argv[i]);
                memcpy(item, s, l);
                item[l] = 0;
                char set[80], err[200];
                plant_params trial = o.p;
                if (cli_parse_quantity(item, "ohm", &x))
                    return cli_usage_error(w, "--loads '%s': '%s' is not a resistance", argv[i], item);
                snprintf(set, sizeof set, "rload=%.17g", x);
                if (prm_set(&trial, set, err, sizeof err)) /* the parameter's own range */
                    return cli_usage_error(w, "--loads '%s': %s", argv[i], err);
                loads[nl++] = x;
                if (!s[l])
                    break;
                s += l + 1;
            }
        } else if (plant_common_opt(w, &o, argc, argv, &i, &rc, &miss)) {
            if (rc)
                return rc;
        } else {
            return cli_bad_arg(w, argv[i], miss);
        }
    }
    static lavg_table tab;
    lavg_build(&tab, &o.p.llc);
    prm_design d;
    prm_design_of(&o.p, &d);
    double vb = o.cmd.half_bridge ? 0.5 * o.p.llc.vdc : o.p.llc.vdc;
    printf("DC gain M = n vo / %.0f V (%s bridge), fr %.1f kHz, Ln %.2f; switching | averaged | FHA\n", vb,
           o.cmd.half_bridge ? "half" : "full", d.fr / 1e3, d.ln);
    printf("%9s", "fsw kHz");
    for (int j = 0; j < nl; j++) {
        char ohm[32];
        printf(" | %10s: sw    avg   FHA", plant_ohm(loads[j], ohm, sizeof ohm));
    }
    printf("\n");
    int nuns = 0;
    static const double fns[] = {0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.4, 1.6, 1.8};
    for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++) {
        double f = fns[k] * d.fr;
        printf("%9.1f", f / 1e3);
        for (int j = 0; j < nl; j++) {
            plant_params p = o.p;
            p.rload = loads[j];
            llc_cmd c = o.cmd;
            c.fsw = f;
            if (c.deadtime > 0.2 / f)
                c.deadtime = 0.2 / f;
            static pmod ms, ma;
            pmod_init(&ms, &p, PMOD_SWITCHING, &tab, 0);
            pmod_init(&ma, &p, PMOD_AVERAGED, &tab, 0);
            pmod_command(&ms, &c, 1);
            pmod_command(&ma, &c, 1);
            /* Twelve output time constants, but at most SWEEP_SETTLE_S: a
             * light load's are minutes; its point is then marked. */
            double settle = fmin(12.0 * p.rload * p.llc.cout + 2e-3, SWEEP_SETTLE_S), v_ago = 0;
            long n_steps = (long)ceil(settle / BRD_PERIOD_S);
            for (long s = 0; s < n_steps; s++) {
                if (s == n_steps - 10)
                    v_ago = ms.vo;
                pmod_step(&ms, BRD_PERIOD_S, -1);
                pmod_step(&ma, BRD_PERIOD_S, -1);
            }
            /* Still moving: the change over the last millisecond, carried
             * over the output time constant R Cout (on a first-order
             * approach, dv/dt times tau is the distance still to go), is
             * more than 0.1 %. A light load's run is cut at
             * SWEEP_SETTLE_S long before its tau: a change too slow to
             * show in one millisecond is still far from its end. */
            double ahead = fmax(1.0, p.rload * p.llc.cout / (10 * BRD_PERIOD_S));
            int unsettled = fabs(ms.vo - v_ago) * ahead > 1e-3 * fabs(ms.vo) + 1e-3;
            nuns += unsettled;
            double rac = 8.0 * p.llc.n * p.llc.n * p.rload / (M_PI * M_PI);
            printf(" | %15.3f%c %5.3f %5.3f", p.llc.n * ms.vo / vb, unsettled ? '*' : ' ', p.llc.n * ma.vo / vb,
                   fha_gain(fns[k], d.ln, d.z0 / rac));
        }
        printf("\n");
        if (fflush(stdout))
            break; /* standard output failed: ek3 says why at exit */
    }
    if (nuns)
        printf("* not a steady state: still moving at the end of its run (12 R Cout, at most %.2f s): its change in\n"
               "  the last millisecond, carried over the output time constant R Cout, is more than 0.1 %%\n",
               SWEEP_SETTLE_S);
    return CLI_OK;
}

/* `ek3 plant serve`: the plant as its own process, every module's
 * firmware external: `ek3 rack --external all` under another name. */
static int plant_serve_cmd(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (cli_is_help(argv[i])) {
            puts("usage: ek3 plant serve [--modules 84] [--fw-bus udp:HOST:BASE] [ek3 rack options]\n\n"
                 "Run the plant (and the rack bus) as the time master for modules whose\n"
                 "firmware runs in `ek3 fw --module N --bus udp:HOST:BASE+N` processes: it\n"
                 "waits for their HELLO, drives them one quantum at a time, and reports any\n"
                 "that stops answering. Every `ek3 rack` option applies.");
            return CLI_OK;
        }
    char *args[256];
    int n = 0;
    if (argc > 252)
        return cli_usage_error("plant serve", "%d arguments; at most 251", argc - 1);
    args[n++] = (char *)"rack";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--external"))
            return cli_usage_error("plant serve", "--external has no place here: plant serve runs every module's "
                                                  "firmware external (it is ek3 rack --external all)");
        args[n++] = argv[i];
    }
    args[n++] = (char *)"--external";
    args[n++] = (char *)"all";
    args[n] = NULL;
    return cmd_rack(n, args);
}

int cmd_plant(int argc, char **argv)
{
    static const cli_cmd cmds[] = {
        {"params", plant_params_cmd, "every plant parameter: value, unit, default, meaning"},
        {"run", plant_run_cmd, "one module open loop; waveforms to CSV"},
        {"sweep", plant_sweep_cmd, "DC gain over frequency: switching, averaged, FHA"},
        {"serve", plant_serve_cmd, "the plant as time master for external module processes"},
    };
    return cli_dispatch("plant", "ek3 plant - the plant model: one EK3 module's power stage and heat.", cmds,
                        sizeof cmds / sizeof cmds[0], argc, argv);
}
