/* test_swarm_plant.c - SWARM_COORD's control laws with the plant in the
 * loop: 8 modules whose output-voltage sensing is off by up to 0.4 %
 * (fault adc-gain on VOUT) share a load near 80 % of their capacity to
 * within 3 % with the swarm and stay more than 5 % apart without it;
 * the trims stay within their bound, and decay without a step when the
 * leader's SYNC stops. At 20 % load the leader parks what the demand
 * does not need, keeping the N-1 headroom; a step to 90 % wakes them
 * without a trip. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "balance.h"
#include "ek3_err.h"
#include "fault.h"
#include "llc_control.h"
#include "rig.h"
#include "session.h"

#define N 8u
#define RAMP_S 0.2   /* s: the load step's ramp, as `ek3 rack --load-ramp 0.2s` */
#define CAP_W 3000.0 /* a module's capacity at the bus: 4 A at ~750 V (balance.c, under its 3.3 kW rating) */

/* g, and inject: a fault as text through flt_parse, flt_check, flt_inject */
#include "fault_rig.h"

static void start(double load_w, int no_swarm)
{
    rig_opts o;
    rig_default_opts(&o, N, 5, load_w);
    o.no_swarm = (uint8_t)no_swarm;
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
}

/* Sense errors of a few modules: two read VOUT 0.4 % high, two low. */
static void sense_errors(void)
{
    inject("adc-gain:2@0s:ch=0,err=0.004");
    inject("adc-gain:5@0s:ch=0,err=0.004");
    inject("adc-gain:3@0s:ch=0,err=-0.004");
    inject("adc-gain:7@0s:ch=0,err=-0.004");
}

static float trim_of(unsigned k)
{
    return g.m[k].fw.drv.ctl.trim;
}

/* Run seconds; every trim within its bound, and no trim moving faster
 * than the rate limit allows (one 10 Hz step of rate_vps x 0.1 s). */
static void run_watch_trims(double seconds)
{
    bal_cfg bc;
    bal_default_cfg(&bc);
    const float step = bc.rate_vps * 0.1f * 1.01f + 1e-4f;
    float prev[N];
    for (unsigned k = 0; k < N; k++)
        prev[k] = trim_of(k);
    for (long q = 0; q < lround(seconds * 1e4); q++) {
        rig_quantum(&g);
        for (unsigned k = 0; k < N; k++) {
            float t = trim_of(k);
            cr_assert_leq(fabsf(t), LLCC_TRIM_MAX_V, "slot %u trim %.3f V beyond its bound", k + 1, t);
            cr_assert_leq(fabsf(t - prev[k]), step, "slot %u trim stepped %.3f -> %.3f V at %.4f s", k + 1, prev[k], t,
                          g.t_ns * 1e-9);
            prev[k] = t;
        }
    }
}

/* Run seconds (watching the trims) and return the spread of the
 * modules' output currents averaged over them, (i_max - i_min) / i_mean
 * over the modules not parked (as ses_sharing_of, less the noise and
 * ripple of one quantum's currents). */
static double spread(double seconds)
{
    double sum[N] = {0};
    long q = lround(seconds * 1e4);
    for (long i = 0; i < q / 10; i++) {
        run_watch_trims(1e-3);
        for (unsigned k = 0; k < N; k++)
            sum[k] += g.plant.mod[k].io;
    }
    double lo = 1e9, hi = 0, mean = 0;
    unsigned on = 0;
    for (unsigned k = 0; k < N; k++) {
        if (g.m[k].fw.drv.ctl.parked)
            continue;
        lo = fmin(lo, sum[k]), hi = fmax(hi, sum[k]), mean += sum[k], on++;
    }
    cr_assert_gt(on, 0u);
    mean /= on;
    cr_assert_gt(mean, 0.0);
    return (hi - lo) / mean;
}

/* The sense errors balanced out: under 3 % within 6 s of the election,
 * and it stays; t0: the trims that took (volts of them). */
static void balanced(float t0[N])
{
    start(0.8 * N * CAP_W, 0);
    sense_errors();
    run_watch_trims(1.0); /* the first election */
    cr_assert_neq(g.obs.leader, 0, "a leader after 1 s");
    run_watch_trims(5.5);
    double s = spread(0.5);
    cr_assert_lt(s, 0.03, "the spread %.2f %% within 6 s of the election", 100 * s);
    for (int i = 0; i < 4; i++) { /* and it stays */
        s = spread(0.5);
        cr_assert_lt(s, 0.03, "the spread %.2f %% at %.1f s", 100 * s, g.t_ns * 1e-9);
    }
    float biggest = 0;
    for (unsigned k = 0; k < N; k++) {
        t0[k] = trim_of(k);
        biggest = fmaxf(biggest, fabsf(t0[k]));
    }
    cr_assert_gt(biggest, 1.0f, "the sense errors needed volts of trim");
}

/* After 5 s without SYNC every trim is under a quarter of where it was. */
static void decayed(const float t0[N])
{
    for (unsigned k = 0; k < N; k++)
        cr_assert_leq(fabsf(trim_of(k)), 0.25f * fabsf(t0[k]) + 0.05f, "slot %u: trim %.3f V from %.3f V after 5 s",
                      k + 1, trim_of(k), t0[k]);
    cr_assert_eq(g.obs.v_safety + g.obs.v_matching + g.obs.v_lost, 0u, "%s", g.obs.first);
}

Test(swarm_plant, sense_errors_are_balanced_out_with_the_swarm_and_decay_without_elections, .timeout = 240)
{
    float t0[N];
    balanced(t0);
    /* every ELECTION frame corrupted: no heartbeat, the leader steps down,
     * no SYNC any more; the trims decay toward 0, never in a step */
    inject("bus-errors:bus@0s:type=1,corrupt=1");
    run_watch_trims(5.0);
    cr_assert_eq(g.obs.leader, 0, "no leader while every ELECTION frame is corrupted");
    decayed(t0);
    rig_free(&g);
}

Test(swarm_plant, the_trims_decay_without_a_step_when_every_swarm_service_crashes, .timeout = 240)
{
    float t0[N];
    balanced(t0);
    /* SWARM_COORD crashed on every module, every 0.5 s for 5 s: each
     * restart takes the trim in force and, without SYNC, decays it */
    for (int r = 0; r < 10; r++) {
        for (unsigned k = 1; k <= N; k++) {
            char f[32];
            snprintf(f, sizeof f, "svc-crash:%u.7@0s", k);
            inject(f);
        }
        run_watch_trims(0.5);
    }
    decayed(t0);
    rig_free(&g);
}

Test(swarm_plant, without_the_swarm_the_sense_errors_keep_the_currents_apart, .timeout = 240)
{
    start(0.8 * N * CAP_W, 1);
    sense_errors();
    run_watch_trims(6.5);
    double s = spread(0.5);
    cr_assert_gt(s, 0.05, "droop alone: the spread %.2f %% stays above 5 %%", 100 * s);
    for (unsigned k = 0; k < N; k++)
        cr_assert_eq(trim_of(k), 0.0f, "no trim without the swarm");
    rig_free(&g);
}

static unsigned parked(void)
{
    unsigned n = 0;
    for (unsigned k = 0; k < N; k++)
        n += g.m[k].fw.drv.ctl.parked != 0;
    return n;
}

Test(swarm_plant, a_light_load_parks_some_keeping_n_minus_1_and_a_step_wakes_them, .timeout = 240)
{
    const double light = 0.2 * N * CAP_W, heavy = 0.9 * N * CAP_W;
    start(light, 0);
    unsigned most = 0;
    for (int i = 0; i < 60; i++) { /* 6 s */
        run_watch_trims(0.1);
        unsigned p = parked();
        if (p > most)
            most = p;
        /* the running ones less one carry the demand */
        cr_assert_geq((N - p - 1) * CAP_W, light, "%u parked at %.1f s: no N-1 headroom for %.0f W", p, g.t_ns * 1e-9,
                      light);
    }
    cr_assert_gt(parked(), 0u, "some parked at 20 %% load");
    ses_sharing sh;
    ses_sharing_of(&g, &sh);
    cr_assert_eq(sh.parked, parked(), "the session counts the parked ones");
    /* the step: to 90 % of the capacity, ramped over RAMP_S as a charger
     * raises its power (a 10 ms step beyond what the running ones carry
     * still trips their hardware current limit before the parked are up) */
    for (int i = 1; i <= 100; i++) {
        double p = light + (heavy - light) * i / 100.0;
        g.plant.load.r = 750.0 * 750.0 / p;
        run_watch_trims(RAMP_S / 100);
    }
    run_watch_trims(2.0);
    cr_assert_eq(parked(), 0u, "every parked module woken at 90 %% load");
    for (unsigned k = 0; k < N; k++) {
        cr_assert_eq(g.m[k].fw.drv.safety.trips, 0u, "slot %u tripped", k + 1);
        cr_assert_eq(g.m[k].fw.drv.ctl.state, LLCC_RUN, "slot %u regulates", k + 1);
    }
    cr_assert_gt(g.plant.p_load, 0.85 * heavy * (g.plant.vbus / 750.0) * (g.plant.vbus / 750.0));
    rig_free(&g);
}

/* A load ramping up under a leader moves no common trim: each module's
 * error is taken against the share the leader's mean was made of, so the
 * errors sum to zero and the mean trim (the bus's offset from its droop
 * point) stays near 0. With each module's current of the moment, the
 * mean from shares up to 100 ms old read low all through a ramp and
 * every trim went down together (84 modules, 0.5 s to 200 kW: -1.35 V). */
Test(swarm_plant, a_load_ramp_moves_no_common_trim, .timeout = 240)
{
    double light = 0.3 * N * CAP_W, heavy = 0.8 * N * CAP_W;
    start(light, 0);
    run_watch_trims(1.5); /* a leader, balanced at the light load */
    cr_assert_neq(g.obs.leader, 0, "a leader");
    for (int i = 1; i <= 500; i++) { /* 0.5 s ramp, as ek3 rack's default */
        double p = light + (heavy - light) * i / 500.0;
        g.plant.load.r = 750.0 * 750.0 / p;
        run_watch_trims(1e-3);
    }
    run_watch_trims(0.5);
    double mean = 0;
    for (unsigned k = 0; k < N; k++)
        mean += trim_of(k);
    mean /= N;
    cr_assert_leq(fabs(mean), 0.15, "mean trim %.3f V after the ramp", mean);
    rig_free(&g);
}

/* A module held under its share by a limit (here derating to 20 % after
 * its transformer NTC shorted; a station's power command or the current
 * ceiling alike) is left out of the mean the others balance to, and
 * does not chase it: before, its trim wound to +6 V and every other one
 * to -6 V (84 % spread, the bus 7 V under its droop point, with 4
 * modules at 6 kW). Now the others share equally, no trim nears its
 * bound, and the bus stays at the droop point of their current. */
static void left_out(const char *fault)
{
    start(0.6 * N * CAP_W, 0);
    sense_errors();
    run_watch_trims(1.0);
    cr_assert_neq(g.obs.leader, 0, "a leader after 1 s");
    inject(fault);
    run_watch_trims(8.0);
    cr_assert(g.m[3].fw.drv.ctl.limited, "slot 4 runs at its derated limit (i_lim %.3f A, %.3f A)",
              g.m[3].fw.drv.ctl.i_lim, g.m[3].fw.drv.ctl.i);
    double sum[N] = {0};
    for (int i = 0; i < 100; i++) {
        run_watch_trims(1e-3);
        for (unsigned k = 0; k < N; k++)
            sum[k] += g.plant.mod[k].io / 100.0;
    }
    double lo = 1e9, hi = 0, mean = 0, mean_trim = 0;
    for (unsigned k = 0; k < N; k++) {
        cr_assert_lt(fabsf(trim_of(k)), LLCC_TRIM_MAX_V - 1.0f, "slot %u trim %.3f V, off its bound", k + 1,
                     trim_of(k));
        if (k == 3)
            continue;
        lo = fmin(lo, sum[k]), hi = fmax(hi, sum[k]), mean += sum[k] / (N - 1), mean_trim += trim_of(k) / (N - 1);
    }
    cr_assert_lt(sum[3], 0.5 * mean, "slot 4 carries its limit, %.3f A against %.3f A", sum[3], mean);
    cr_assert_lt((hi - lo) / mean, 0.03, "the others %.3f .. %.3f A", lo, hi);
    cr_assert_lt(fabs(mean_trim), 0.6, "their mean trim %.3f V (the limit's onset moved it; the leak takes it back)",
                 mean_trim);
    double droop_point = 750.0 - 5.0 * mean;
    cr_assert_lt(fabs(g.plant.vbus - droop_point), 1.0, "the bus %.2f V, their droop point %.2f V", g.plant.vbus,
                 droop_point);
    rig_free(&g);
}

/* A module far hotter than the others (its own 85 C air; 45 K over the
 * rack's mean, its thermal bias at its 0.2 A bound, the others' not):
 * the leader's temperature makes the bounded biases sum to zero
 * (bal_t_ref), so the trims do not wind up together. Before, they rose
 * about 0.9 V/s to the 6 V bound, the bus 6 V above its droop point
 * (a seized fan in 50 C air showed it after 5 minutes). */
Test(swarm_plant, a_module_hot_past_the_bias_bound_moves_no_common_trim, .timeout = 240)
{
    static plant_params hot;
    static const plant_params *slots[N];
    rig_opts o;
    rig_default_opts(&o, N, 5, 0.6 * N * CAP_W);
    hot = o.plant;
    hot.th.t_amb = 85.0;
    slots[2] = &hot;
    o.slot_plant = slots;
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    run_watch_trims(20.0);
    cr_assert_neq(g.obs.leader, 0, "a leader");
    double mean_trim = 0, mean_i = 0;
    for (unsigned k = 0; k < N; k++)
        mean_trim += trim_of(k) / N, mean_i += g.plant.mod[k].io / N;
    cr_assert_lt(fabs(mean_trim), 0.3, "the mean trim %.3f V after 20 s (the bus %.2f V)", mean_trim, g.plant.vbus);
    cr_assert_lt(trim_of(2), -0.4f, "the hot one is trimmed down for its bias: %.3f V", trim_of(2));
    cr_assert_lt(fabs(g.plant.vbus - (750.0 - 5.0 * mean_i)), 1.0, "the bus %.2f V, its droop point %.2f V",
                 g.plant.vbus, 750.0 - 5.0 * mean_i);
    rig_free(&g);
}

Test(swarm_plant, a_module_at_its_limit_is_left_out_of_the_balancing, .timeout = 240)
{
    left_out("ntc-short:4@0s:ch=5");
}

/* A module whose power stage gives nothing (its gates off) runs with its
 * drive at its end short of the reference: at its limit too (before, the
 * others' trims wound to -5 V, the bus 4 V under their droop point). */
Test(swarm_plant, a_module_that_delivers_nothing_is_left_out_of_the_balancing, .timeout = 240)
{
    left_out("gate-off:4@0s");
}
