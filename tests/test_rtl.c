/* test_rtl.c - the Level-0 protection RTL (ek3_prot.v, Verilated) through
 * its C interface and through the plant: trip times within 10 us of a
 * crossing, sensing delay included; no trip just under a threshold with
 * noise or on a spike shorter than the deglitch; the firmware cannot
 * turn the gates on against a fault; clearing; the VCD trace; and in a
 * closed-loop rack, a shorted output trips OCP in hardware before the
 * software limit acts, and the firmware reports the hardware trip. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ek3_err.h"
#include "module.h"
#include "params.h"
#include "rig.h"
#include "rtlprot.h"

static const double th[4] = {920.0, 4.0, 105.0, 0.050}; /* OVP V, OCP A, OTP C, GFI A */

static rtlp_in at(int ch, double x)
{
    rtlp_in in = {750, 2.0, 60, 0, 1, 0};
    double *v[4] = {&in.vout, &in.iout, &in.tj, &in.igf};
    *v[ch] = x;
    return in;
}

Test(rtl, a_step_over_each_threshold_trips_within_10_us)
{
    for (int ch = 0; ch < 4; ch++) {
        rtlp *p = rtlp_new(2e-6);
        cr_assert_not_null(p);
        rtlp_out o;
        rtlp_in calm = at(ch, 0.9 * th[ch]), over = at(ch, 1.02 * th[ch]);
        rtlp_run(p, 100e-6, &calm, &calm, &o);
        cr_assert_eq(o.gate_en, 1);
        /* The step at the start of the next interval. */
        rtlp_run(p, 100e-6, &over, &over, &o);
        cr_assert_eq(o.gate_en, 0, "channel %d tripped", ch);
        cr_assert(o.trip_time > 0 && o.trip_time <= 10e-6, "channel %d: gates off %.2f us after the crossing", ch,
                  o.trip_time * 1e6);
        cr_assert(o.trip_time >= 2e-6, "not before the sensing delay (%.2f us)", o.trip_time * 1e6);
        cr_assert_eq(o.latched, 1u << ch);
        cr_assert_eq(o.first_code, (unsigned)(RTLP_OVP + ch), "channel ch is rtlp_code ch + 1");
        rtlp_free(p);
    }
}

Test(rtl, just_under_with_noise_and_short_spikes_never_trip)
{
    rtlp *p = rtlp_new(2e-6);
    rtlp_out o;
    unsigned seed = 7;
    rtlp_in prev = at(1, 3.9);
    for (int i = 0; i < 300; i++) { /* 30 ms at 3.96 .. 3.999 A */
        seed = seed * 1103515245u + 12345u;
        rtlp_in x = at(1, 3.96 + 0.039 * ((seed >> 16) & 0x7FFF) / 32767.0);
        rtlp_run(p, 100e-6, &prev, &x, &o);
        prev = x;
    }
    cr_assert_eq(o.latched, 0u);
    /* A 1.5 us spike to 5 A (the deglitch is 2 us). */
    rtlp_in spike = at(1, 5.0), calm = at(1, 2.0);
    rtlp_run(p, 1.5e-6, &spike, &spike, &o);
    rtlp_run(p, 100e-6, &calm, &calm, &o);
    cr_assert_eq(o.latched, 0u, "a spike shorter than the deglitch");
    cr_assert_eq(o.gate_en, 1);
    rtlp_free(p);
}

Test(rtl, firmware_cannot_enable_against_a_fault_and_clears_only_when_it_is_gone)
{
    rtlp *p = rtlp_new(0);
    rtlp_out o;
    rtlp_in gf = at(3, 0.08);
    rtlp_run(p, 20e-6, &gf, &gf, &o);
    cr_assert_eq(o.latched, 8u);
    gf.gate_req = 1;
    rtlp_run(p, 10e-6, &gf, &gf, &o);
    cr_assert_eq(o.gate_en, 0, "the request alone does not enable the gates");
    gf.clear = 1;
    rtlp_run(p, 10e-6, &gf, &gf, &o);
    cr_assert_eq(o.latched, 8u, "clearing while the fault persists fails");
    cr_assert_eq(o.clear_refused, 1);
    rtlp_in ok = at(3, 0.0);
    ok.clear = 1;
    rtlp_run(p, 10e-6, &ok, &ok, &o);
    cr_assert_eq(o.latched, 0u, "cleared once the fault is gone");
    ok.clear = 0;
    rtlp_run(p, 10e-6, &ok, &ok, &o);
    cr_assert_eq(o.gate_en, 1, "the module can restart");
    rtlp_free(p);
}

Test(rtl, the_hysteresis_band_is_two_percent_of_each_threshold)
{
    /* On above the threshold, off only below 98 % of it: clearing inside
     * the band is refused, just below it is accepted. */
    for (int ch = 0; ch < 4; ch++) {
        rtlp *p = rtlp_new(0);
        rtlp_out o;
        rtlp_in over = at(ch, 1.05 * th[ch]);
        rtlp_run(p, 10e-6, &over, &over, &o);
        cr_assert_eq(o.latched, 1u << ch);
        rtlp_in band = at(ch, 0.985 * th[ch]);
        band.clear = 1;
        rtlp_run(p, 10e-6, &band, &band, &o);
        cr_assert_eq(o.latched, 1u << ch, "channel %d: inside the band the fault is still there", ch);
        cr_assert_eq(o.clear_refused, 1);
        rtlp_in below = at(ch, 0.975 * th[ch]);
        below.clear = 1;
        rtlp_run(p, 10e-6, &below, &below, &o);
        cr_assert_eq(o.latched, 0u, "channel %d: cleared under 98 %% of the threshold", ch);
        rtlp_free(p);
    }
}

/* The fast path (one evaluation for an interval in which no register can
 * change) against the block clocked through every interval (a traced
 * block always is): the same outputs after every interval, on inputs at
 * and one step either side of each on and off threshold. */
Test(rtl, the_fast_path_agrees_with_the_clocked_block)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/ek3_rtl_eq_%d.vcd", (int)getpid());
    rtlp *slow = rtlp_new(2e-6), *fast = rtlp_new(2e-6);
    cr_assert_eq(rtlp_trace(slow, path), 0);
    /* One LSB of each input: 0.1 V, 1 mA, 0.1 C, 0.1 mA. */
    static const double lsb[4] = {0.1, 0.001, 0.1, 0.0001};
    static const double dts[4] = {1.5e-6, 10e-6, 100e-6, 100e-6};
    unsigned seed = 12345;
    rtlp_in prev = at(0, 750);
    for (int i = 0; i < 600; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = seed >> 8;
        int ch = r & 3;
        double base[4] = {0.5 * th[ch], th[ch], th[ch] - th[ch] * 20 / 1000, 1.2 * th[ch]};
        int j = (r >> 2) & 3;
        /* Round to an exact LSB so the offsets land on either side. */
        double x = floor(base[j] / lsb[ch] + 0.5) * lsb[ch] + ((int)((r >> 4) % 3) - 1) * lsb[ch];
        rtlp_in in = at(ch, x);
        in.gate_req = ((r >> 6) & 7) != 0;
        in.clear = ((r >> 9) & 7) == 0;
        double dt = dts[(r >> 12) & 3];
        rtlp_in a = ((r >> 14) & 1) ? prev : in; /* a ramp or a step */
        rtlp_out os, of;
        rtlp_run(slow, dt, &a, &in, &os);
        rtlp_run(fast, dt, &a, &in, &of);
        cr_assert(os.gate_en == of.gate_en && os.latched == of.latched && os.first_code == of.first_code &&
                      os.clear_refused == of.clear_refused && os.trip_time == of.trip_time,
                  "interval %d (channel %d at %.4f): clocked gate %d latched %u first %u refused %d trip %g; fast gate "
                  "%d latched %u first %u refused %d trip %g",
                  i, ch, x, os.gate_en, os.latched, os.first_code, os.clear_refused, os.trip_time, of.gate_en,
                  of.latched, of.first_code, of.clear_refused, of.trip_time);
        prev = in;
    }
    cr_assert_lt(rtlp_cycles(fast), rtlp_cycles(slow) * 9 / 10, "the fast path was taken (%llu of %llu clocks)",
                 rtlp_cycles(fast), rtlp_cycles(slow));
    rtlp_free(slow);
    rtlp_free(fast);
    remove(path);
}

Test(rtl, traces_as_vcd)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/ek3_rtl_%d.vcd", (int)getpid());
    rtlp *p = rtlp_new(2e-6);
    cr_assert_eq(rtlp_trace(p, path), 0);
    rtlp_out o;
    rtlp_in a = at(0, 900), b = at(0, 950);
    rtlp_run(p, 10e-6, &a, &b, &o);
    rtlp_free(p);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    remove(path);
    cr_assert(strstr(buf, "$var") && strstr(buf, "gate_en") && strstr(buf, "latched"), "a VCD with the block's signals");
}

/* The switching plant stops at the trip instant, not at the end of the
 * control period in which the block tripped. */
typedef struct trip_wave {
    double t_prev, t_last_on, i_pk, i_end;
    int n, backwards;
} trip_wave;

static void trip_rec(void *ctx, const llc *s)
{
    trip_wave *w = ctx;
    if (w->n++ && s->t <= w->t_prev)
        w->backwards++;
    w->t_prev = s->t;
    if (s->cmd.enable)
        w->t_last_on = s->t;
    if (fabs(s->i) > w->i_pk)
        w->i_pk = fabs(s->i);
    w->i_end = fabs(s->i);
}

/* A switching module into 400 ohm at 200 kHz, settled open loop (its
 * inrush is the firmware's soft start's business, not these tests'),
 * then fitted with the block and run 1 ms. */
static void settled_protected(pmod *m)
{
    plant_params p;
    prm_defaults(&p);
    p.rload = 400;
    pmod_init(m, &p, PMOD_SWITCHING, NULL, 0);
    llc_cmd c = {200e3, 300e-9, 1, 1, 0};
    cr_assert_eq(pmod_command(m, &c, 1), EK3_OK);
    for (double t = 0; t < 12.0 * p.rload * p.llc.cout + 2e-3; t += 100e-6)
        pmod_step(m, 100e-6, -1);
    cr_assert_eq(pmod_protect(m), EK3_OK);
    for (int k = 0; k < 10; k++)
        pmod_step(m, 100e-6, -1);
    cr_assert_eq(m->hw_trip, 0, "running at %.1f V, %.2f A (first %u)", m->vo, m->io, m->prot_first);
}

Test(rtl, the_switching_plant_stops_at_the_trip_instant)
{
    static pmod m, ref;
    settled_protected(&m);
    ref = m;
    ref.prot = NULL; /* the same module without the block */
    ref.p.rload = 50;
    pmod_step(&ref, 100e-6, -1);
    double e_ref = ref.pin * 100e-6;

    trip_wave w = {0};
    pmod_trace(&m, 0.2e-6, trip_rec, &w);
    m.p.rload = 50; /* 15 A from the output capacitor into the fault */
    double t0 = m.sw.t;
    pmod_step(&m, 100e-6, -1);
    cr_assert_eq(m.hw_trip, 1);
    cr_assert_eq(m.prot_first, RTLP_OCP, "OCP");
    cr_assert(m.prot_trip_t > 0 && m.prot_trip_t <= 10e-6, "tripped %.2f us into the period", m.prot_trip_t * 1e6);
    cr_assert_eq(w.backwards, 0, "the trace runs forward once (%d samples)", w.n);
    cr_assert_leq(w.t_last_on - t0, m.prot_trip_t + 0.5e-6, "gates on until %.2f us; the trip was at %.2f us",
                  (w.t_last_on - t0) * 1e6, m.prot_trip_t * 1e6);
    cr_assert_lt(w.i_end, 0.05 * w.i_pk, "the tank rings down: %.3f A of %.3f A at the period's end", w.i_end, w.i_pk);
    cr_assert_lt(m.pin * 100e-6, 0.2 * e_ref, "energy drawn in the period: %.4f J, %.4f J without the block",
                 m.pin * 100e-6, e_ref);
    pmod_free(&m);
}

/* The first time the output voltage sampled by the trace goes over v. */
typedef struct cross_wave {
    double v, t_cross;
} cross_wave;

static void cross_rec(void *ctx, const llc *s)
{
    cross_wave *w = ctx;
    if (w->t_cross < 0 && s->vo > w->v)
        w->t_cross = s->t;
}

/* Each threshold through the plant: the switching module's own waveform
 * (OVP: a load dump below resonance) or an injected step (OTP: the
 * junction; GFI: the ground-fault current), tripped within 10 us of the
 * crossing and not before the 2 us sensing delay. */
Test(rtl, each_threshold_trips_within_10_us_through_the_plant)
{
    static pmod m;
    /* OVP: 115 kHz into 2 kohm drives the output over 920 V. */
    settled_protected(&m);
    cross_wave w = {920.05, -1}; /* the first code over 9200 */
    pmod_trace(&m, 0.1e-6, cross_rec, &w);
    llc_cmd hi = {115e3, 300e-9, 1, 1, 0};
    pmod_command(&m, &hi, 1);
    m.p.rload = 2000;
    for (int k = 0; k < 50 && !m.hw_trip; k++) {
        double t0 = m.sw.t;
        pmod_step(&m, 100e-6, -1);
        if (m.hw_trip) {
            double dt = t0 + m.prot_trip_t - w.t_cross;
            cr_assert_eq(m.prot_first, RTLP_OVP, "OVP");
            cr_log_info("OVP through the plant: %.2f us after the crossing", dt * 1e6);
            cr_assert(w.t_cross > 0 && dt >= 2e-6 && dt <= 10e-6, "OVP: tripped %.2f us after the crossing", dt * 1e6);
        }
    }
    cr_assert_eq(m.hw_trip, 1, "OVP tripped (%.1f V)", m.vo);
    pmod_free(&m);

    /* OTP and GFI: the value steps at a period's start. */
    for (int ch = 0; ch < 2; ch++) {
        settled_protected(&m);
        if (ch == 0)
            m.th.t[TH_JA] = 106.0;
        else
            cr_assert_eq(pmod_fault_igf(&m, 0.060), EK3_OK);
        pmod_step(&m, 100e-6, -1);
        cr_assert_eq(m.hw_trip, 1);
        cr_assert_eq(m.prot_first, ch == 0 ? RTLP_OTP : RTLP_GFI);
        cr_log_info("%s through the plant: %.2f us after the step", ch == 0 ? "OTP" : "GFI", m.prot_trip_t * 1e6);
        cr_assert(m.prot_trip_t >= 2e-6 && m.prot_trip_t <= 10e-6, "%s: tripped %.2f us after the step",
                  ch == 0 ? "OTP" : "GFI", m.prot_trip_t * 1e6);
        pmod_free(&m);
    }
}

Test(rtl, a_shorted_output_trips_ocp_in_hardware_first_the_firmware_reports_it_and_a_restart_clears_it)
{
    static rig g;
    rig_opts o;
    rig_default_opts(&o, 4, 2, 8000);
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    for (long q = 0; q < 15000; q++)
        rig_quantum(&g);
    cr_assert_gt(g.plant.vbus, 700);
    g.plant.load.r = 0.5; /* a short across the bus */
    for (long q = 0; q < 50; q++)
        rig_quantum(&g);
    for (unsigned k = 0; k < 4; k++) {
        const pmod *pm = &g.plant.mod[k];
        const sm *s = &g.m[k].fw.drv.safety;
        cr_assert_eq(pm->hw_trip, 1, "module %u: the hardware tripped", k + 1);
        cr_assert_eq(pm->prot_first, RTLP_OCP, "module %u: on OCP", k + 1);
        cr_assert_eq(s->first_code, MSG_FAULT_HW_TRIP, "module %u: the firmware saw the hardware trip first (%u)",
                     k + 1, s->first_code);
        cr_assert_eq(s->latched & (1u << 1), 0u, "module %u: before its own OCP acted", k + 1);
        cr_assert_lt(pm->io, 0.01, "module %u: no current", k + 1);
    }
    cr_assert_geq(g.stn.st.faults, 4u, "FAULT_ALERT from every module");
    for (unsigned k = 0; k < 4; k++) /* the board's trip-source lines name the comparator (hal_trip_src) */
        cr_assert(g.stn.m[k].cause.code == MSG_FAULT_HW_TRIP && g.stn.m[k].cause.value == MSG_FAULT_OCP * 1000,
                  "module %u: HW_TRIP naming OCP (code %u, value %d)", k + 1, g.stn.m[k].cause.code,
                  g.stn.m[k].cause.value);

    /* A restart into the short: the block lets go (the gates are off, no
     * current), the module soft-starts and its own current limit holds
     * it under the hardware's threshold: it feeds the short at its limit. */
    cr_assert_eq(stn_api_restart(&g.stn, g.t_ns, RIG_API_KEY, 1, 2000, 750), EK3_OK);
    double imax = 0;
    for (long q = 0; q < 3000; q++) {
        rig_quantum(&g);
        imax = fmax(imax, g.plant.mod[0].io);
    }
    cr_log_info("restart into the short: %u restarts, trips %u, hw %d, io %.3f A (max %.3f), state %d",
                g.m[0].fw.drv.restarts, g.m[0].fw.drv.safety.trips, g.plant.mod[0].hw_trip, g.plant.mod[0].io, imax,
                g.m[0].fw.drv.ctl.state);
    cr_assert_eq(g.m[0].fw.drv.restarts, 1u, "module 1 cleared and started");
    cr_assert_eq(g.plant.mod[0].hw_trip, 0, "no new hardware trip");
    cr_assert_lt(imax, 4.0, "under the hardware threshold (%.3f A)", imax);
    cr_assert_gt(g.plant.mod[0].io, 3.0, "at its current limit into the short (%.3f A)", g.plant.mod[0].io);

    /* The short gone, a restart brings every module back. */
    g.plant.load.r = 750.0 * 750.0 / 8000;
    for (unsigned k = 0; k < 4; k++)
        cr_assert_eq(stn_api_restart(&g.stn, g.t_ns, RIG_API_KEY, k + 1, 3000, 750), EK3_OK);
    for (long q = 0; q < 10000; q++)
        rig_quantum(&g);
    for (unsigned k = 0; k < 4; k++) {
        cr_assert_eq(g.plant.mod[k].hw_trip, 0, "module %u: the hardware latch cleared", k + 1);
        cr_assert_eq(g.m[k].fw.drv.safety.latched, 0u, "module %u: the firmware's too", k + 1);
        cr_assert_eq(g.m[k].fw.drv.ctl.state, LLCC_RUN, "module %u runs again", k + 1);
        cr_assert_gt(g.plant.mod[k].io, 0.5, "module %u delivers %.2f A", k + 1, g.plant.mod[k].io);
    }
    cr_assert_gt(g.plant.vbus, 700, "the bus is back: %.1f V", g.plant.vbus);
    rig_free(&g);
}

/* A trace on a full disk: the write error is kept and returned (ENOSPC),
 * the block runs on, and the process is not stopped inside the Verilated
 * model's error path. */
Test(rtl, a_trace_write_error_is_returned_not_fatal)
{
    rtlp *p = rtlp_new(2e-6);
    cr_assert_eq(rtlp_trace(p, "/dev/full"), 0);
    rtlp_out o;
    rtlp_in a = at(0, 750), b = at(0, 750);
    for (int i = 0; i < 20 && !rtlp_trace_error(p); i++)
        rtlp_run(p, 100e-6, &a, &b, &o); /* 1 000 clocks each: the buffer flushes */
    cr_assert_eq(rtlp_trace_error(p), ENOSPC);
    cr_assert_eq(rtlp_trace_close(p), ENOSPC);
    rtlp_run(p, 100e-6, &a, &b, &o);
    cr_assert_eq(o.gate_en, 1, "the block runs on without its trace");
    rtlp_free(p);
    p = rtlp_new(0);
    cr_assert_eq(rtlp_trace(p, "/nonexistent/dir/x.vcd"), -1);
    cr_assert_eq(errno, ENOENT, "the reason is kept for the message");
    rtlp_free(p);
}
