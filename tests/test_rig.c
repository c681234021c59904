/* test_rig.c - the lockstep rack: plant and firmware over the HIL
 * channel. Same seed, same run bit for bit; the modules' droop control
 * holds the bus and shares the load within their limits; a pulled
 * module's share moves to the others while the bus stays in its band. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "board.h"
#include "ek3_err.h"
#include "rig.h"

static void opts(rig_opts *o, unsigned n, double load_w)
{
    rig_default_opts(o, n, 7, load_w);
}

static void run(rig *g, double seconds)
{
    long q = (long)(seconds / 100e-6 + 0.5);
    for (long k = 0; k < q; k++)
        rig_quantum(g);
}

Test(rig, same_seed_same_run_bit_for_bit)
{
    static rig a, b;
    rig_opts o;
    opts(&o, 4, 8000);
    cr_assert_eq(rig_init(&a, &o), EK3_OK);
    cr_assert_eq(rig_init(&b, &o), EK3_OK);
    run(&a, 0.3);
    run(&b, 0.3);
    cr_assert_eq(memcmp(&a.plant.vbus, &b.plant.vbus, sizeof(double)), 0);
    for (unsigned k = 0; k < 4; k++) {
        cr_assert_eq(memcmp(&a.plant.mod[k].io, &b.plant.mod[k].io, sizeof(double)), 0);
        cr_assert_eq(memcmp(&a.m[k].fw.drv.ctl, &b.m[k].fw.drv.ctl, sizeof a.m[k].fw.drv.ctl), 0);
        cr_assert_eq(memcmp(a.m[k].fw.h.adc, b.m[k].fw.h.adc, sizeof a.m[k].fw.h.adc), 0);
    }
    cr_assert_eq(a.hil_frames, b.hil_frames);
    cr_assert_eq(a.hil_frames, 4u * 2u * 3000u, "an ADC and a PWM frame per module per period");
    rig_free(&a);
    rig_free(&b);
}

/* A rack's MCUs leave reset at their own times (fwinst.h
 * fwi_boot_delay_ns): each one silent on the rack bus and its kernel idle
 * until then, and their kernels' rate timers spread over the period
 * instead of all falling in one control period. (Fails with fwi_hold's
 * hold removed: every module's THERMAL_MGR tick then falls at the same
 * phase of its 10 ms.) */
Test(rig, the_mcus_leave_reset_at_their_own_times)
{
    static rig g;
    rig_opts o;
    opts(&o, 84, 84 * 2000.0);
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    unsigned distinct = 0;
    int64_t seen[84], last = 0;
    unsigned late = 0;
    for (unsigned k = 0; k < 84; k++) {
        int64_t d = fwi_boot_delay_ns(o.seed, k + 1);
        cr_assert(d >= 0 && d < FWI_BOOT_SPREAD_NS && d % BRD_PERIOD_NS == 0, "slot %u: %lld ns", k + 1, (long long)d);
        unsigned j = 0;
        while (j < distinct && seen[j] != d)
            j++;
        if (j == distinct)
            seen[distinct++] = d;
        if (d > last) {
            last = d;
            late = k;
        }
    }
    cr_assert_geq(distinct, 40u, "84 draws over 100 periods: %u distinct", distinct);
    /* the last to boot: nothing of its own before its time */
    while (g.t_ns + BRD_PERIOD_NS < last)
        rig_quantum(&g);
    cr_assert_eq(g.bus.node[late + 1].tx_ok, 0u, "slot %u: silent on the rack bus", late + 1);
    cr_assert_eq(g.m[late].fw.k.passes, 0u, "slot %u: its kernel has not run", late + 1);
    rig_quantum(&g);
    rig_quantum(&g);
    cr_assert_gt(g.m[late].fw.k.passes, 0u, "slot %u booted at %lld ns", late + 1, (long long)last);
    run(&g, 0.1);
    cr_assert_gt(g.bus.node[late + 1].tx_ok, 0u, "slot %u heard once booted", late + 1);
    /* THERMAL_MGR's 10 ms tick: at how many phases of its period across the rack */
    unsigned phases[100] = {0}, used = 0;
    for (unsigned k = 0; k < 84; k++) {
        const jz_kernel *kk = &g.m[k].fw.k;
        int id = jz_find(kk, "THERMAL_MGR");
        cr_assert_gt(id, 0);
        int64_t p = kk->svc[id].next_tick_ns % 10000000 / BRD_PERIOD_NS;
        used += phases[p]++ == 0;
    }
    cr_assert_geq(used, 40u, "THERMAL_MGR ticks at %u phases of its 10 ms", used);
    rig_free(&g);
}

/* The firmware is built for the board sheet: a plant on another board
 * (here another NTC) is refused before anything runs. */
Test(rig, a_plant_on_another_board_is_refused)
{
    static rig g;
    rig_opts o;
    opts(&o, 2, 1000);
    o.plant.ntc_rpull = 4.7e3;
    cr_assert_eq(rig_init(&g, &o), EK3_ERANGE);
    rig_free(&g);
}

Test(rig, droop_holds_the_bus_and_shares_within_limits)
{
    static rig g;
    rig_opts o;
    opts(&o, 8, 20000); /* 2.5 kW per module */
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    run(&g, 2.0);
    double isum = 0, imax = 0;
    for (unsigned k = 0; k < 8; k++) {
        cr_assert_eq(g.m[k].fw.drv.ctl.state, LLCC_RUN);
        isum += g.plant.mod[k].io;
        imax = fmax(imax, g.plant.mod[k].io);
        cr_assert_lt(g.plant.mod[k].io, 4.0, "module %u: %.3f A, the seed's limit is 4.0 A", k + 1, g.plant.mod[k].io);
        /* The heartbeat's temperature is the hotter leg's case (NTC): above
         * the 35 C ambient, under the junction (it was never filled: 0 C). */
        double tc = g.stn.m[k].hb.temp_dc / 10.0;
        double tj = fmax(g.plant.mod[k].th.t[TH_JA], g.plant.mod[k].th.t[TH_JB]);
        cr_assert(tc > 34.0 && tc < tj + 0.5, "module %u: heartbeat %.1f C, junction %.1f C", k + 1, tc, tj);
    }
    double imean = isum / 8, r_d = g.m[0].fw.drv.ctl.cfg.r_droop;
    /* In steady state V = V_set - R_droop I, within the sensing errors. */
    cr_assert(fabs(g.plant.vbus - (750 - r_d * imean)) < 3.0, "bus %.2f V, droop line %.2f V", g.plant.vbus,
              750 - r_d * imean);
    cr_assert(fabs(g.plant.p_load - 20000 * pow(g.plant.vbus / 750, 2)) < 50, "load %.0f W", g.plant.p_load);
    cr_assert(imax - imean < 0.6, "sharing: max %.3f A, mean %.3f A", imax, imean);
    /* N-1: pull one module; the others take its share, the bus stays up. */
    double v0 = g.plant.vbus;
    cr_assert_eq(rack_remove(&g.plant, 3), EK3_OK);
    run(&g, 1.0);
    double isum2 = 0;
    for (unsigned k = 0; k < 8; k++)
        if (k != 3)
            isum2 += g.plant.mod[k].io;
    cr_assert(fabs(isum2 - g.plant.i_load) < 0.01 * g.plant.i_load, "7 modules carry the load");
    cr_assert(fabs(g.plant.vbus - v0) < 0.02 * v0, "bus %.2f V after the pull, %.2f V before", g.plant.vbus, v0);
    cr_assert_gt(isum2 / 7, imean, "each remaining module carries more");
    rig_free(&g);
}

Test(rig, threads_give_the_same_run)
{
    static rig a, b;
    rig_opts o;
    opts(&o, 9, 18000);
    o.threads = 1;
    cr_assert_eq(rig_init(&a, &o), EK3_OK);
    o.threads = 3;
    cr_assert_eq(rig_init(&b, &o), EK3_OK);
    cr_assert_not_null(b.pool);
    run(&a, 0.4);
    run(&b, 0.4);
    cr_assert_eq(memcmp(&a.plant.vbus, &b.plant.vbus, sizeof(double)), 0, "%.17g vs %.17g", a.plant.vbus,
                 b.plant.vbus);
    for (unsigned k = 0; k < 9; k++) {
        cr_assert_eq(memcmp(&a.plant.mod[k].io, &b.plant.mod[k].io, sizeof(double)), 0);
        cr_assert_eq(memcmp(&a.m[k].fw.drv.ctl, &b.m[k].fw.drv.ctl, sizeof a.m[k].fw.drv.ctl), 0);
    }
    cr_assert_eq(a.hil_frames, b.hil_frames);
    /* the swarm's checks: swo_peek on the threads, swo_check after */
    cr_assert_eq(a.obs.leader, b.obs.leader);
    cr_assert_eq(a.obs.term, b.obs.term);
    cr_assert_eq(a.obs.leaders, b.obs.leaders);
    cr_assert_eq(a.obs.max_commit, b.obs.max_commit);
    cr_assert_eq(a.obs.nread, 9u);
    cr_assert_eq(b.obs.nread, 9u);
    /* the ranges, wherever the balance left them, cover the rack once */
    unsigned sum = 0;
    for (unsigned i = 0; i < 3; i++) {
        cr_assert_geq(rig_thread_modules(&b, i), 1u, "thread %u", i);
        sum += rig_thread_modules(&b, i);
    }
    cr_assert_eq(sum, 9u);
    cr_assert_eq(rig_thread_modules(&b, 3), 0u);
    cr_assert_eq(rig_thread_modules(&a, 0), 9u);
    cr_assert_eq(rig_thread_modules(&a, 1), 0u);
    rig_free(&a);
    rig_free(&b);
}

/* The cost model of rig_cuts_balance's tests: module k costs cost[k],
 * a thread's time is its range's cost times its slowness. */
static void busy_of(const unsigned *cut, unsigned n, const double *cost, const double *slow, uint64_t *busy)
{
    for (unsigned i = 0; i < n; i++) {
        double t = 0;
        for (unsigned k = cut[i]; k < cut[i + 1]; k++)
            t += cost[k];
        busy[i] = (uint64_t)(t * slow[i] * 1000.0);
    }
}

/* Thread 0 on a CPU twice as slow: its range goes halfway, 42 -> 35,
 * then to within a module of 28 (a third of 84), and stays; three threads, one 3x slower
 * and a module that costs ten: every thread within one module's cost
 * of the others. */
Test(rig, the_threads_ranges_follow_their_speeds)
{
    double cost[84], slow2[2] = {2, 1}, slow3[3] = {1, 3, 1};
    for (unsigned k = 0; k < 84; k++)
        cost[k] = 1;
    unsigned cut[4] = {0, 42, 84};
    uint64_t busy[3];
    busy_of(cut, 2, cost, slow2, busy);
    cr_assert_eq(rig_cuts_balance(cut, 2, 84, busy), 1);
    cr_assert_eq(cut[1], 35u, "halfway to 28: %u", cut[1]);
    for (int w = 0; w < 10; w++) {
        busy_of(cut, 2, cost, slow2, busy);
        rig_cuts_balance(cut, 2, 84, busy);
    }
    cr_assert(cut[1] >= 28u && cut[1] <= 29u, "within a module of 28: %u", cut[1]);
    busy_of(cut, 2, cost, slow2, busy);
    cr_assert_eq(rig_cuts_balance(cut, 2, 84, busy), 0, "balanced: no move");
    cr_assert(cut[0] == 0 && cut[2] == 84);

    cost[60] = 10; /* a leader, say */
    unsigned c3[4] = {0, 28, 56, 84};
    for (int w = 0; w < 20; w++) {
        busy_of(c3, 3, cost, slow3, busy);
        rig_cuts_balance(c3, 3, 84, busy);
    }
    busy_of(c3, 3, cost, slow3, busy);
    uint64_t lo = busy[0], hi = busy[0];
    for (unsigned i = 1; i < 3; i++) {
        lo = busy[i] < lo ? busy[i] : lo;
        hi = busy[i] > hi ? busy[i] : hi;
    }
    cr_assert_leq(hi - lo, 3 * 10 * 1000u, "cuts %u %u: times %lu %lu %lu", c3[1], c3[2], (unsigned long)busy[0],
                  (unsigned long)busy[1], (unsigned long)busy[2]);
    cr_assert(c3[0] < c3[1] && c3[1] < c3[2] && c3[2] < c3[3]);

    /* a thread that takes forever keeps one module */
    unsigned c2[3] = {0, 42, 84};
    for (int w = 0; w < 20; w++) {
        uint64_t b2[2] = {(uint64_t)(c2[1]) * 1000000u, (uint64_t)(84 - c2[1])};
        rig_cuts_balance(c2, 2, 84, b2);
    }
    cr_assert_leq(c2[1], 2u, "%u", c2[1]);
    /* nothing to go by: the cuts stay */
    unsigned c[3] = {0, 42, 84};
    uint64_t zero[2] = {0, 5}, some[2] = {5, 9};
    cr_assert_eq(rig_cuts_balance(c, 2, 84, zero), 0);
    cr_assert_eq(rig_cuts_balance(c, 1, 84, some), 0);
    cr_assert_eq(rig_cuts_balance(c, 2, 3, some), 0);
    unsigned bad[3] = {0, 42, 80};
    cr_assert_eq(rig_cuts_balance(bad, 2, 84, some), 0);
    cr_assert(c[1] == 42 && bad[1] == 42);
}

/* rig_adapt_next for `quanta` quanta on a clock where a quantum takes
 * ns_thr on the threads and ns_solo alone: the wall time spent; *alone
 * counts the quanta run alone. */
static double adapt_run(rig_adapt_state *a, uint8_t *solo, int64_t *now, unsigned quanta, double ns_thr,
                        double ns_solo, unsigned *alone)
{
    double spent = 0;
    for (unsigned q = 0; q < quanta; q++) {
        double d = *solo ? ns_solo : ns_thr;
        spent += d;
        *now += (int64_t)d;
        *alone += *solo;
        *solo = rig_adapt_next(a, *solo, *now);
    }
    return spent;
}

/* The threads or the caller alone, by the clock: on an idle machine the
 * threads (1.3 x faster) run nearly every quantum; on a busy one, where
 * a quantum on the threads takes a hundred times one alone, the run
 * costs at most 8 % more than one alone all along (the first window
 * runs alone, a trial of the threads ends once it has taken a window
 * alone), also when the machine turns busy halfway, after the gap
 * between trials has grown (a window on the threads ends at four
 * windows' time alone). A rack starts alone (rig_init). */
Test(rig, the_faster_way_runs_and_a_slow_one_stays_short)
{
    static rig g;
    rig_opts o;
    opts(&o, 4, 9600);
    o.threads = 2;
    o.threads_adapt = 1;
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    cr_assert(g.pool && g.solo, "the first window runs on the caller alone");
    rig_free(&g);

    rig_adapt_state a = {0};
    uint8_t solo = 1; /* rig_init's first window */
    int64_t now = 1000;
    unsigned alone = 0;
    adapt_run(&a, &solo, &now, 20000, 10000, 13000, &alone);
    cr_assert(alone >= RIG_ADAPT_Q && alone <= 20000 / 20, "idle: %u of 20000 quanta alone", alone);

    rig_adapt_state b = {0};
    solo = 1, alone = 0;
    double spent = adapt_run(&b, &solo, &now, 20000, 1.5e6, 15000, &alone);
    cr_assert_leq(spent, 1.08 * 20000 * 15000, "busy: %.0f ms against %.0f ms alone (%u quanta alone)", spent / 1e6,
                  20000 * 15000 / 1e6, alone);

    rig_adapt_state c = {0};
    solo = 1, alone = 0;
    adapt_run(&c, &solo, &now, 20000, 10000, 13000, &alone);
    cr_assert_geq(c.gap, 16u, "the trials lost: the gap grew (%u)", c.gap);
    alone = 0;
    spent = adapt_run(&c, &solo, &now, 20000, 1.5e6, 13000, &alone);
    cr_assert_leq(spent, 1.08 * 20000 * 13000, "turned busy: %.0f ms against %.0f ms alone (%u quanta alone)",
                  spent / 1e6, 20000 * 13000 / 1e6, alone);
}

/* rig_adapt_next's switches between the threads and the caller alone (a busy
 * machine) change who runs a module, never what it computes: a 3-thread
 * rack flipped to its caller alone and back every few quanta is the
 * 1-thread run, quantum by quantum (the HIL frame count included, which
 * the two ways sum differently). */
Test(rig, running_alone_now_and_then_gives_the_same_run)
{
    static rig a, b;
    rig_opts o;
    opts(&o, 9, 18000);
    o.threads = 1;
    cr_assert_eq(rig_init(&a, &o), EK3_OK);
    o.threads = 3;
    cr_assert_eq(rig_init(&b, &o), EK3_OK);
    cr_assert_not_null(b.pool);
    for (unsigned q = 0; q < 4000; q++) {
        b.solo = (uint8_t)(q % 7 < 3); /* alone for 3 quanta of every 7 */
        rig_quantum(&a);
        rig_quantum(&b);
        cr_assert_eq(memcmp(&a.plant.vbus, &b.plant.vbus, sizeof(double)), 0, "quantum %u: %.17g vs %.17g", q,
                     a.plant.vbus, b.plant.vbus);
        cr_assert_eq(a.hil_frames, b.hil_frames, "quantum %u", q);
    }
    for (unsigned k = 0; k < 9; k++)
        cr_assert_eq(memcmp(&a.m[k].fw.drv.ctl, &b.m[k].fw.drv.ctl, sizeof a.m[k].fw.drv.ctl), 0);
    rig_free(&a);
    rig_free(&b);
}

/* The frameless exchange (no log: the payloads cross as structs) is the
 * frame path's run, every quantum, through a pull, an insert and a load
 * step: the plant's every module and the firmware's control state. */
Test(rig, frameless_exchange_gives_the_frame_run)
{
    static rig a, b;
    rig_opts o;
    opts(&o, 6, 12000);
    o.hil_frames = 1;
    cr_assert_eq(rig_init(&a, &o), EK3_OK);
    o.hil_frames = 0;
    cr_assert_eq(rig_init(&b, &o), EK3_OK);
    for (long q = 0; q < 6000; q++) {
        if (q == 2500) {
            cr_assert_eq(rack_remove(&a.plant, 2), EK3_OK);
            cr_assert_eq(rack_remove(&b.plant, 2), EK3_OK);
            a.plant.load.r = b.plant.load.r = 750.0 * 750.0 / 16000.0;
        }
        if (q == 4000) {
            cr_assert_eq(rack_insert(&a.plant, 2), EK3_OK);
            cr_assert_eq(rack_insert(&b.plant, 2), EK3_OK);
        }
        rig_quantum(&a);
        rig_quantum(&b);
        cr_assert_eq(memcmp(&a.plant.vbus, &b.plant.vbus, sizeof(double)), 0, "quantum %ld: %.17g V vs %.17g V", q,
                     a.plant.vbus, b.plant.vbus);
        for (unsigned k = 0; k < 6; k++) {
            cr_assert_eq(memcmp(&a.plant.mod[k].io, &b.plant.mod[k].io, sizeof(double)), 0, "quantum %ld module %u", q,
                         k + 1);
            const llc_cmd *ca = &a.plant.mod[k].cmd, *cb = &b.plant.mod[k].cmd;
            cr_assert(ca->fsw == cb->fsw && ca->deadtime == cb->deadtime && ca->burst == cb->burst &&
                          ca->enable == cb->enable && ca->half_bridge == cb->half_bridge,
                      "quantum %ld module %u: the PWM command (%.17g Hz, %d vs %.17g Hz, %d)", q, k + 1, ca->fsw,
                      ca->enable, cb->fsw, cb->enable);
        }
    }
    for (unsigned k = 0; k < 6; k++) {
        cr_assert_eq(memcmp(&a.m[k].fw.drv.ctl, &b.m[k].fw.drv.ctl, sizeof a.m[k].fw.drv.ctl), 0);
        cr_assert_eq(memcmp(a.m[k].fw.h.adc, b.m[k].fw.h.adc, sizeof a.m[k].fw.h.adc), 0);
        cr_assert_eq(a.m[k].hil_errors, b.m[k].hil_errors);
        cr_assert_eq(a.m[k].hil_frames, b.m[k].hil_frames);
    }
    cr_assert_gt(a.plant.p_load, 10000.0, "the rack runs");
    rig_free(&a);
    rig_free(&b);
}

Test(rig, soft_start_does_not_overshoot_and_a_load_step_settles_fast)
{
    static rig g;
    rig_opts o;
    opts(&o, 8, 5000);
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    double vmax = 0;
    for (long q = 0; q < 15000; q++) {
        rig_quantum(&g);
        vmax = fmax(vmax, g.plant.vbus);
    }
    /* Stated bound: no overshoot beyond 0.5 % of the set point. */
    cr_assert_lt(vmax, 750 * 1.005, "soft start peaked at %.2f V", vmax);
    cr_assert_lt(vmax - g.plant.vbus, 0.5, "no overshoot over the final %.2f V (peak %.2f V)", g.plant.vbus, vmax);
    /* A load step from 5 to 20 kW: stated bound, back within 1 % of the
     * new droop line within 20 ms, never below 95 % of the set point. */
    g.plant.load.r = 750.0 * 750.0 / 20000.0;
    double vmin = 1e9;
    long last_out = -1;
    static double v[3000];
    for (long q = 0; q < 3000; q++) {
        rig_quantum(&g);
        v[q] = g.plant.vbus;
        vmin = fmin(vmin, v[q]);
    }
    double vf = v[2999];
    for (long q = 0; q < 3000; q++)
        if (fabs(v[q] - vf) > 0.01 * vf)
            last_out = q;
    cr_log_info("soft start peak %.2f V; load step: dip to %.1f V, within 1 %% after %.1f ms", vmax, vmin,
                (last_out + 1) * 0.1);
    cr_assert_gt(vmin, 0.95 * 750, "dip to %.1f V", vmin);
    cr_assert_lt(last_out, 200, "settled within 1 %% after %.1f ms", (last_out + 1) * 0.1);
    rig_free(&g);
}

/* The fan runs at the duty THERMAL_MGR commands (HIL_PWM's fan field),
 * not at a fixed one: a cool module asks for 30 %, and the plant's fan
 * spins toward that, not toward full speed. */
Test(rig, the_plant_runs_the_fan_at_the_firmwares_duty)
{
    static rig g;
    rig_opts o;
    opts(&o, 1, 2000);
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    run(&g, 2.0);
    unsigned duty = g.m[0].fw.h.pwm.fan_permille;
    cr_assert_eq(duty, 300u, "THERMAL_MGR asks 30 %% below 40 C (%u permille)", duty);
    cr_assert_float_eq(g.plant.mod[0].fan_duty, 0.3, 1e-12, "the plant's fan duty: %g", g.plant.mod[0].fan_duty);
    /* 2 s of a 2 s time constant toward 0.3: 0.3 (1 - 1/e) = 0.19 */
    cr_assert_float_eq(g.plant.mod[0].th.fan_speed, 0.3 * (1 - exp(-1.0)), 0.01, "fan speed %g",
                       g.plant.mod[0].th.fan_speed);
    rig_free(&g);
}

/* A set point below 480 V: LLC_CONTROL selects half-bridge mode, and
 * the plant switches as a half bridge (HIL_PWM's flag); above, a full one. */
Test(rig, a_set_point_below_480_V_runs_the_plant_as_a_half_bridge)
{
    static rig lo, hi;
    rig_opts o;
    opts(&o, 1, 1000);
    o.v_set = 400;
    cr_assert_eq(rig_init(&lo, &o), EK3_OK);
    run(&lo, 0.5);
    cr_assert_eq(lo.m[0].fw.drv.ctl.half_bridge, 1, "the firmware chose half bridge at 400 V");
    cr_assert_eq(lo.plant.mod[0].cmd.half_bridge, 1, "the plant switches as a half bridge");
    cr_assert(fabs(lo.plant.vbus - 400) < 10, "the bus at its set point: %.1f V", lo.plant.vbus);
    rig_free(&lo);
    opts(&o, 1, 1000);
    cr_assert_eq(rig_init(&hi, &o), EK3_OK);
    run(&hi, 0.5);
    cr_assert_eq(hi.plant.mod[0].cmd.half_bridge, 0, "a full bridge at 750 V");
    rig_free(&hi);
}

/* Threads by default (threads_adapt) stop at one per
 * RIG_MODULES_PER_THREAD modules, and at 2 at least; threads asked for
 * (--threads N) are taken as asked, up to the modules. */
Test(rig, threads_by_default_take_one_per_ten_modules)
{
    static rig g;
    rig_opts o;
    static const struct {
        unsigned modules, threads;
        uint8_t adapt;
        unsigned want;
    } c[] = {{25, 16, 1, 2}, {25, 16, 0, 16}, {12, 4, 1, 2}, {30, 2, 1, 2}, {40, 16, 1, 4}, {40, 3, 1, 3}};
    for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++) {
        opts(&o, c[i].modules, 1000.0 * c[i].modules);
        o.threads = c[i].threads;
        o.threads_adapt = c[i].adapt;
        cr_assert_eq(rig_init(&g, &o), EK3_OK);
        cr_assert_eq(g.pool_threads, c[i].want, "%u modules, %u threads%s: %u taken, not %u", c[i].modules,
                     c[i].threads, c[i].adapt ? " by default" : "", g.pool_threads, c[i].want);
        rig_free(&g);
    }
}
