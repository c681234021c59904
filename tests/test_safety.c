/* test_safety.c - SAFETY_MONITOR: each protection trips at its threshold
 * and not below it, not on a glitch shorter than its deglitch; it latches
 * with its code and value, shuts the stage down and queues a FAULT_ALERT;
 * the hardware trip line is reported and cannot be cleared; in a rack, a
 * ground fault on one module reaches the station and the others carry on. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "drivers.h"
#include "ek3_err.h"
#include "ek3_rng.h"
#include "fault.h"
#include "hosthal.h"
#include "inject.h"
#include "msg.h"
#include "rig.h"
#include "thermal_mgr.h"

static hhal h;
static drv_set d;

static uint16_t ntc_code(double t_c)
{
    double r = 10e3 * exp(3435.0 * (1.0 / (t_c + 273.15) - 1.0 / 298.15));
    return (uint16_t)lround(4095.0 * r / (r + 10e3));
}

static void setup(void)
{
    hhal_init(&h, 1, 0);
    llcc_cfg cc;
    llcc_default_cfg(&cc);
    drv_init(&d, &cc);
    llcc_command(&d.ctl, 1, 750, 3300);
    /* A healthy module: 750 V, 2 A, 40 C, no ground fault. */
    memset(h.adc, 0, sizeof h.adc);
    h.adc[MSG_ADC_VOUT] = (uint16_t)lround(750.0 / 1000 * 4095);
    h.adc[MSG_ADC_IOUT] = (uint16_t)lround(2.0 / 5 * 4095);
    h.adc[MSG_ADC_TJ_A] = h.adc[MSG_ADC_TJ_B] = ntc_code(40);
    h.adc_valid = 1;
}

static void periods(int n)
{
    for (int i = 0; i < n; i++)
        sm_step(&d.safety, hhal_hal(&h), &d.ctl);
}

static void check_limit(int ch, uint16_t below, uint16_t above, unsigned code)
{
    h.adc[MSG_ADC_TJ_A] = h.adc[MSG_ADC_TJ_B] = ntc_code(40);
    uint16_t normal = h.adc[ch];
    h.adc[ch] = below;
    periods(500);
    cr_assert_eq(d.safety.latched, 0, "code %u: just below the threshold never trips", code);
    h.adc[ch] = above;
    periods(d.safety.cfg.deglitch - 1);
    h.adc[ch] = below;
    periods(5);
    cr_assert_eq(d.safety.latched, 0, "code %u: a glitch shorter than the deglitch does not trip", code);
    uint32_t shut = h.shutdowns;
    h.adc[ch] = above;
    periods(d.safety.cfg.deglitch);
    cr_assert_eq(d.safety.latched, 1u << code, "code %u trips", code);
    cr_assert_eq(d.safety.first_code, code);
    cr_assert_eq(h.shutdowns, shut + 1, "safe shutdown");
    cr_assert_eq(h.pwm.enable, 0, "gates off");
    cr_assert_eq(d.ctl.enable, 0, "LLC_CONTROL off");
    sm_alert a;
    cr_assert_eq(sm_take_alert(&d.safety, &a), EK3_OK);
    cr_assert_eq(a.code, code);
    cr_assert(a.flags & MSG_FAULT_F_LATCHED);
    cr_assert_eq(sm_clear(&d.safety, hhal_hal(&h)), EK3_EBUSY, "not while the condition is there");
    h.adc[ch] = normal;
    h.adc[MSG_ADC_TJ_A] = h.adc[MSG_ADC_TJ_B] = ntc_code(40);
    cr_assert_eq(sm_clear(&d.safety, hhal_hal(&h)), EK3_OK);
    cr_assert_eq(d.safety.latched, 0);
}

Test(safety, overcurrent, .init = setup)
{
    /* 3.98 A: code 3260 is 3.980 A, 3259 is 3.979 A. */
    check_limit(MSG_ADC_IOUT, 3259, 3261, MSG_FAULT_OCP);
}

Test(safety, overvoltage, .init = setup)
{
    check_limit(MSG_ADC_VOUT, 3685, 3686, MSG_FAULT_OVP); /* 899.9 V and 900.1 V */
}

Test(safety, ground_fault, .init = setup)
{
    check_limit(MSG_ADC_IGF, 1228, 1230, MSG_FAULT_GFI); /* 29.99 mA and 30.04 mA */
}

Test(safety, overtemperature_with_a_warning_first, .init = setup)
{
    h.adc[MSG_ADC_TJ_A] = ntc_code(86);
    periods(1);
    sm_alert a;
    cr_assert_eq(sm_take_alert(&d.safety, &a), EK3_OK);
    cr_assert_eq(a.code, MSG_FAULT_OTP_WARNING);
    cr_assert_eq(d.safety.latched, 0, "a warning does not latch");
    h.adc[MSG_ADC_TJ_A] = ntc_code(94.5);
    periods(100);
    cr_assert_eq(d.safety.latched, 0);
    h.adc[MSG_ADC_TJ_A] = ntc_code(95.5);
    periods(3);
    cr_assert_eq(d.safety.latched, 1u << MSG_FAULT_OTP);
    cr_assert(fabs(sm_ntc_c(&d.safety.cfg, ntc_code(95.5)) - 95.5) < 0.1, "the NTC reading");
}

Test(safety, the_hardware_trip_line_is_reported_not_overridden, .init = setup)
{
    h.now_ns = 1234500000; /* the HAL clock at the trip: sm.trip_ns, the report's "tripped first" */
    h.gpio_in |= HAL_IN_HW_TRIP;
    periods(1);
    cr_assert(d.safety.latched & (1u << MSG_FAULT_HW_TRIP));
    cr_assert_eq(d.safety.trip_ns, 1234500000);
    h.now_ns += 300000; /* a second fault latched later: the trip's time is the first's */
    h.adc[MSG_ADC_IOUT] = 3300;
    periods(d.safety.cfg.deglitch);
    cr_assert(d.safety.latched & (1u << MSG_FAULT_OCP));
    cr_assert_eq(d.safety.trip_ns, 1234500000);
    h.adc[MSG_ADC_IOUT] = (uint16_t)lround(2.0 / 5 * 4095);
    sm_alert a;
    cr_assert_eq(sm_take_alert(&d.safety, &a), EK3_OK);
    cr_assert(a.flags & MSG_FAULT_F_HARDWARE);
    cr_assert_eq(sm_clear(&d.safety, hhal_hal(&h)), EK3_EBUSY, "the line is still asserted");
    /* The firmware cannot turn the line off: only GPIO outputs are writable. */
    hhal_hal(&h).ops->gpio_write(&h, HAL_IN_HW_TRIP, 0);
    cr_assert(h.gpio_in & HAL_IN_HW_TRIP);
    h.gpio_in &= ~(uint32_t)HAL_IN_HW_TRIP;
    cr_assert_eq(sm_clear(&d.safety, hhal_hal(&h)), EK3_OK);
}

/* UVP's rule (board.h BRD_UVP_*) on SAFETY_MONITOR alone: under the
 * droop floor by the margin for BRD_UVP_PERIODS, regulating, below 90 %
 * of the current limit; not within the droop band, not at the current
 * limit, not in a soft start; a warning, then CLEARED. */
Test(safety, uvp_is_the_droop_floor_held_below_the_current_limit, .init = setup)
{
    const llcc_cfg *c = &d.ctl.cfg;
    double floor_v = 750.0 - c->r_droop * c->i_max - BRD_UVP_MARGIN_FRAC * 750.0;
    sm_alert a;
    d.ctl.state = LLCC_RUN;
    d.ctl.i_lim = c->i_max;
    d.ctl.i = 1.0f;
    h.adc[MSG_ADC_VOUT] = (uint16_t)lround((floor_v + 2.0) / 1000 * 4095); /* droop's band and a margin */
    periods(2 * BRD_UVP_PERIODS);
    cr_assert_eq(sm_take_alert(&d.safety, &a), EK3_EAGAIN, "above the floor: nothing (%u)", a.code);
    h.adc[MSG_ADC_VOUT] = (uint16_t)lround((floor_v - 5.0) / 1000 * 4095);
    d.ctl.i = 0.95f * c->i_max; /* at its limit: the load is beyond it */
    periods(2 * BRD_UVP_PERIODS);
    cr_assert_eq(sm_take_alert(&d.safety, &a), EK3_EAGAIN, "at the current limit: nothing");
    d.ctl.i = 1.0f;
    d.ctl.state = LLCC_START;
    periods(2 * BRD_UVP_PERIODS);
    cr_assert_eq(sm_take_alert(&d.safety, &a), EK3_EAGAIN, "in a soft start: nothing");
    d.ctl.state = LLCC_RUN;
    periods(BRD_UVP_PERIODS - 1);
    cr_assert_eq(sm_take_alert(&d.safety, &a), EK3_EAGAIN, "not before the debounce");
    periods(1);
    cr_assert_eq(sm_take_alert(&d.safety, &a), EK3_OK, "UVP after %u periods", BRD_UVP_PERIODS);
    cr_assert_eq(a.code, MSG_FAULT_UVP);
    cr_assert_eq(a.severity, MSG_SEV_WARNING);
    cr_assert_eq(a.flags, 0, "raised, not latched");
    cr_assert_eq(d.safety.latched, 0u, "a warning, not a trip");
    periods(BRD_UVP_PERIODS);
    cr_assert_eq(sm_take_alert(&d.safety, &a), EK3_EAGAIN, "once");
    h.adc[MSG_ADC_VOUT] = (uint16_t)lround(750.0 / 1000 * 4095);
    periods(1);
    cr_assert_eq(sm_take_alert(&d.safety, &a), EK3_OK, "back in the band");
    cr_assert_eq(a.code, MSG_FAULT_UVP);
    cr_assert_eq(a.flags, MSG_FAULT_F_CLEARED);
}

/* Four modules sharing 6 kW at 750 V, run `quanta` control periods. */
static void rack_of_four(rig *g, int quanta)
{
    rig_opts o;
    rig_default_opts(&o, 4, 3, 6000.0);
    cr_assert_eq(rig_init(g, &o), EK3_OK);
    for (int q = 0; q < quanta; q++)
        rig_quantum(g);
}

/* UVP (board.h BRD_UVP_*): every bridge of a rack dead (gate-off), the
 * bus falls under the load; each module regulates, far from its current
 * limit, and cannot hold its output: a WARNING to the station, no latch.
 * At steady state before it, nothing. */
Test(safety, uvp_warns_when_the_output_cannot_be_held)
{
    static rig g;
    rack_of_four(&g, 10000);
    for (unsigned k = 0; k < 4; k++)
        cr_assert_eq(g.m[k].fw.drv.safety.uvp, 0, "module %u: no UVP at steady state", k + 1);
    uint32_t faults0 = g.stn.st.faults;
    for (unsigned k = 1; k <= 4; k++) {
        char text[32];
        snprintf(text, sizeof text, "gate-off:%u@0s", k);
        flt_spec f;
        cr_assert_eq(flt_parse(text, &f, NULL, 0), EK3_OK);
        cr_assert_eq(flt_inject(&g, &f), EK3_OK);
    }
    int64_t t0 = g.t_ns;
    while (g.stn.st.faults < faults0 + 4 && g.t_ns - t0 < 1000000000)
        rig_quantum(&g);
    cr_assert_eq(g.stn.st.faults, faults0 + 4, "a FAULT_ALERT from each module (%u)", g.stn.st.faults - faults0);
    for (unsigned k = 0; k < 4; k++) {
        cr_assert_eq(g.stn.m[k].fault.code, MSG_FAULT_UVP, "module %u: code %u", k + 1, g.stn.m[k].fault.code);
        cr_assert_eq(g.stn.m[k].fault.severity, MSG_SEV_WARNING);
        cr_assert_eq(g.stn.m[k].fault.flags & (MSG_FAULT_F_CLEARED | MSG_FAULT_F_LATCHED), 0);
        cr_assert_lt(g.stn.m[k].fault.value, 700000, "the output it read, %d mV", g.stn.m[k].fault.value);
        cr_assert_eq(g.m[k].fw.drv.safety.latched, 0u, "a warning, not a trip");
    }
    printf("uvp: all four warned %.1f ms after their bridges died\n", (g.t_ns - t0) * 1e-6);
    cr_assert_gt(g.t_ns - t0, (int64_t)BRD_UVP_PERIODS * 100000, "not before the debounce");
    rig_free(&g);
}

Test(safety, a_ground_fault_in_the_rack_reaches_the_station)
{
    static rig g;
    rack_of_four(&g, 15000);
    cr_assert_gt(g.plant.mod[1].io, 0.5);
    flt_spec gf;
    cr_assert_eq(flt_parse("igf:2@0s:i=50mA", &gf, NULL, 0), EK3_OK);
    cr_assert_eq(flt_inject(&g, &gf), EK3_OK); /* 50 mA to ground in module 2 */
    int64_t t0 = g.t_ns;
    while (g.stn.st.faults == 0 && g.t_ns - t0 < 10000000)
        rig_quantum(&g);
    cr_assert_eq(g.stn.st.faults, 1, "FAULT_ALERT at the station");
    cr_assert_lt(g.t_ns - t0, 2000000, "within 2 ms: %lld us", (long long)((g.t_ns - t0) / 1000));
    cr_assert_eq(g.stn.m[1].fault.code, MSG_FAULT_GFI);
    cr_assert_eq(g.stn.m[1].fault.module, 2);
    /* The modules' currents move by about 1 % from one control period to
     * the next (their loops and the ADC noise): compare means over the
     * last 1000 quanta. */
    double sum_load = 0, sum_three = 0;
    for (int q = 0; q < 5000; q++) {
        rig_quantum(&g);
        if (q >= 4000) {
            sum_load += g.plant.i_load;
            sum_three += g.plant.mod[0].io + g.plant.mod[2].io + g.plant.mod[3].io;
        }
    }
    cr_assert_lt(g.plant.mod[1].io, 0.01, "module 2 stopped");
    cr_assert(fabs(sum_load - sum_three) / 1000 < 0.01, "the other three carry the load: %.4f A of %.4f A",
              sum_three / 1000, sum_load / 1000);
    rig_free(&g);
}

Test(safety, a_failed_fan_derates_instead_of_tripping)
{
    static rig g;
    rig_opts o;
    rig_default_opts(&o, 2, 5, 5600.0);
    o.plant.th.t_amb = 50;   /* a hot day in the cabinet */
    o.plant.th.cth_hs = 10;  /* light thermal masses: minutes become seconds */
    o.plant.th.cth_x = 5;
    o.plant.th.cth_l = 5;
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    flt_spec fan;
    cr_assert_eq(flt_parse("fan:1@0s:health=0", &fan, NULL, 0), EK3_OK);
    cr_assert_eq(flt_inject(&g, &fan), EK3_OK); /* module 1's fan seized */
    for (long q = 0; q < 900000; q++) /* 90 s */
        rig_quantum(&g);
    const drv_set *d1 = &g.m[0].fw.drv, *d2 = &g.m[1].fw.drv;
    cr_assert_eq(d1->safety.latched, 0, "no trip: derating was enough");
    cr_assert_lt(d1->ctl.derate, 0.95f, "module 1 derated (%.2f)", d1->ctl.derate);
    cr_assert_eq(d2->ctl.derate, 1.0f, "module 2 did not");
    double t1 = pmod_t_case(&g.plant.mod[0], 0);
    cr_assert(t1 > 80 && t1 < 95, "module 1 held between derating and OTP: %.1f C", t1);
    cr_assert_lt(g.plant.mod[0].io, g.plant.mod[1].io, "module 2 carries more");
    /* The station knows: FAN_FAIL, then DERATING (still on), from module 1 only. */
    const msg_fault *f = &g.stn.m[0].fault;
    cr_assert_eq(f->code, MSG_FAULT_DERATING, "the last FAULT_ALERT: code %u", f->code);
    cr_assert_eq(f->flags & MSG_FAULT_F_CLEARED, 0, "derating, not cleared");
    cr_assert_lt(f->value, 950, "the factor in permille: %d", f->value);
    cr_assert_geq(g.stn.st.faults, 2u, "FAN_FAIL and DERATING (%u)", g.stn.st.faults);
    cr_assert_lt(g.stn.m[1].fault_ns, 0, "module 2 sent none");
    rig_free(&g);
}

Test(safety, thermal_mgr_crashes_under_full_load_and_power_does_not_dip)
{
    static rig g;
    rig_opts o;
    rig_default_opts(&o, 3, 9, 8700.0); /* about 2.9 kW each */
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    for (long q = 0; q < 20000; q++)
        rig_quantum(&g);
    jz_kernel *k = &g.m[0].fw.k;
    int id = jz_find(k, "THERMAL_MGR");
    cr_assert_gt(id, 0);
    /* Power as the load sees it: averaged over 1 ms (the ADC noise on
     * the droop law moves single periods by about a percent). */
    double p0 = 0;
    for (long q = 0; q < 100; q++) { /* the 10 ms before */
        rig_quantum(&g);
        p0 += g.plant.mod[0].io * g.plant.mod[0].vo / 100;
    }
    double pmin = p0, acc = 0;
    uint32_t restarts = k->svc[id].restarts;
    cr_assert_eq(inj_fault(k, INJ_CRASH, (unsigned)id, 0), EK3_OK);
    int64_t t0 = g.t_ns, back_ns = -1;
    for (long q = 0; q < 2000; q++) { /* 200 ms */
        rig_quantum(&g);
        acc += g.plant.mod[0].io * g.plant.mod[0].vo / 10;
        if (q % 10 == 9) {
            if (acc < pmin)
                pmin = acc;
            acc = 0;
        }
        if (back_ns < 0 && k->svc[id].restarts > restarts)
            back_ns = g.t_ns - t0;
    }
    cr_assert_geq(back_ns, 0, "THERMAL_MGR was restarted");
    cr_assert_lt(back_ns, 50000000, "within 50 ms (%lld us)", (long long)(back_ns / 1000));
    cr_assert_eq(k->svc[id].status, JZ_SVC_RUNNING);
    cr_assert(pmin > 0.99 * p0, "output power did not dip: %.1f W, then at least %.1f W", p0, pmin);
    rig_free(&g);
}

Test(safety, the_derating_curve)
{
    cr_assert_eq(thm_derate_at(25), 1.0f);
    cr_assert_eq(thm_derate_at(80), 1.0f);
    cr_assert_float_eq(thm_derate_at(86), 0.6f, 1e-5);
    cr_assert_float_eq(thm_derate_at(92), 0.2f, 1e-5);
    cr_assert_eq(thm_derate_at(120), 0.2f, "SAFETY_MONITOR trips before derating reaches zero");
    cr_assert_eq(thm_derate_mag_at(110), 1.0f);
    cr_assert_float_eq(thm_derate_mag_at(120), 0.6f, 1e-5);
    for (float t = 80; t < 92; t += 0.5f)
        cr_assert_lt(thm_derate_at(t + 0.5f), thm_derate_at(t), "falls monotonically");
}

Test(safety, a_restart_clears_only_a_fault_that_is_gone, .init = setup)
{
    static jz_kernel k;
    memset(&k, 0, sizeof k);
    k.hw = hhal_hal(&h);
    h.adc[MSG_ADC_TJ_A] = ntc_code(110);
    periods(d.safety.cfg.deglitch + 1);
    cr_assert_eq(d.safety.latched, 1u << MSG_FAULT_OTP);
    /* Still hot: the clear line goes up, the latch stays, and after
     * DRV_CLEAR_PERIODS the restart gives up with the module off. */
    drv_restart(&d, 750, 3000);
    drv_control(&d, &k);
    cr_assert(h.gpio_out & HAL_OUT_FAULT_CLEAR, "the fault-clear line is up");
    for (unsigned i = 1; i < DRV_CLEAR_PERIODS; i++)
        drv_control(&d, &k);
    cr_assert_eq(d.restart_failed, 1);
    cr_assert_eq(d.restarts, 0);
    cr_assert_eq(d.safety.latched, 1u << MSG_FAULT_OTP);
    cr_assert_eq(h.gpio_out & HAL_OUT_FAULT_CLEAR, 0u, "the line is down again");
    cr_assert_eq(d.ctl.enable, 0);
    /* Cooled (under the threshold minus 5 C): the restart clears and starts,
     * onto a live bus 16 V below its output (a dead one it would close onto
     * at once). */
    h.adc[MSG_ADC_TJ_A] = ntc_code(60);
    h.adc[MSG_ADC_VBUS] = (uint16_t)lround(734.0 / 1000 * 4095);
    drv_restart(&d, 750, 3000);
    drv_control(&d, &k);
    cr_assert_eq(d.restarts, 1);
    cr_assert_eq(d.safety.latched, 0u);
    cr_assert_eq(d.ctl.enable, 1, "LLC_CONTROL starts");
    cr_assert_eq(d.ctl.v_set, 750.0f);
    cr_assert_eq(h.gpio_out & (HAL_OUT_FAULT_CLEAR | HAL_OUT_FAULT_LED | HAL_OUT_RELAY), 0u,
                 "line down, lamp off, the relay still open: it closes at its pre-charge");
    h.adc[MSG_ADC_VBUS] = h.adc[MSG_ADC_VOUT]; /* the output at the bus's voltage */
    for (unsigned i = 0; i < DRV_RELAY_SETTLE; i++)
        drv_control(&d, &k);
    cr_assert(h.gpio_out & HAL_OUT_RELAY, "relay closed");
}

/* The output relay's line (drivers.h, DRV_RELAY_CLOSE_V): closed only
 * when the running output reads within 5 V of the bus beyond the relay,
 * after the filters settle; while open on a live bus the soft start
 * walks toward the bus; a trip opens it. */
Test(safety, the_relay_closes_only_precharged_and_a_trip_opens_it, .init = setup)
{
    static jz_kernel k;
    memset(&k, 0, sizeof k);
    k.hw = hhal_hal(&h);
    h.adc[MSG_ADC_VBUS] = (uint16_t)lround(734.0 / 1000 * 4095); /* a live bus 16 V below the output */
    for (int i = 0; i < 50; i++)
        drv_control(&d, &k);
    cr_assert_eq(h.gpio_out & HAL_OUT_RELAY, 0u, "16 V apart: open");
    cr_assert_eq(d.relay, 0);
    cr_assert_float_eq(d.ctl.v_pre, 734.0f, 0.5f, "the soft start walks to the bus (%.2f V)", d.ctl.v_pre);
    cr_assert_eq(d.ctl.state, LLCC_START, "pre-charging");
    h.adc[MSG_ADC_VOUT] = (uint16_t)lround(738.5 / 1000 * 4095); /* 4.5 V above: within the window */
    for (int i = 0; i < 10; i++)
        drv_control(&d, &k);
    cr_assert(h.gpio_out & HAL_OUT_RELAY, "within 5 V: closed");
    cr_assert_eq(d.relay_closes, 1);
    cr_assert_float_eq(d.relay_dv, 4.5f, 0.5f);
    cr_assert_eq(d.ctl.v_pre, 0.0f, "pre-charge over");
    /* A trip (OVP) opens it, and it stays open while the fault is latched. */
    h.adc[MSG_ADC_VOUT] = 4095;
    for (int i = 0; i < (int)d.safety.cfg.deglitch + 2; i++)
        drv_control(&d, &k);
    cr_assert(d.safety.latched, "tripped");
    cr_assert_eq(h.gpio_out & HAL_OUT_RELAY, 0u, "the trip opened it");
    h.adc[MSG_ADC_VOUT] = h.adc[MSG_ADC_VBUS];
    for (int i = 0; i < 20; i++)
        drv_control(&d, &k);
    cr_assert_eq(h.gpio_out & HAL_OUT_RELAY, 0u, "latched: held open");
}

/* Commanded off, the relay does not close even at the bus's voltage: a
 * module closes onto the bus only to run (and an emergency stop keeps it
 * open until the next power command: drv_relay). */
/* A dead bus (a black start; a short that tripped the others) has
 * nothing to match: a running module closes onto it at once. */
Test(safety, a_dead_bus_takes_the_relay_at_once, .init = setup)
{
    static jz_kernel k;
    memset(&k, 0, sizeof k);
    k.hw = hhal_hal(&h);
    h.adc[MSG_ADC_VBUS] = (uint16_t)lround(20.0 / 1000 * 4095); /* under DRV_BUS_LIVE_V */
    drv_power(&d, DRV_ON, 750, 3000);
    for (unsigned i = 0; i < DRV_RELAY_SETTLE + 1; i++)
        drv_control(&d, &k);
    cr_assert(h.gpio_out & HAL_OUT_RELAY, "closed onto the dead bus, its output 730 V above it");
}

Test(safety, the_relay_stays_open_while_off_or_held, .init = setup)
{
    static jz_kernel k;
    memset(&k, 0, sizeof k);
    k.hw = hhal_hal(&h);
    h.adc[MSG_ADC_VBUS] = h.adc[MSG_ADC_VOUT];
    drv_power(&d, DRV_OFF, 0, 0);
    for (int i = 0; i < 20; i++)
        drv_control(&d, &k);
    cr_assert_eq(h.gpio_out & HAL_OUT_RELAY, 0u, "off: open");
    drv_relay(&d, 0);
    drv_power(&d, DRV_ON, 750, 3000);
    for (int i = 0; i < 20; i++)
        drv_control(&d, &k);
    cr_assert_eq(h.gpio_out & HAL_OUT_RELAY, 0u, "held open by drv_relay(0)");
    drv_relay(&d, 1);
    for (int i = 0; i < 2; i++)
        drv_control(&d, &k);
    cr_assert(h.gpio_out & HAL_OUT_RELAY, "allowed: closed");
}

/* THERMAL_MGR raises FAN_FAIL when the tachometer stays below half of
 * the commanded speed for a second (after 3 s of spin-up), and CAN_HANDLER
 * sends it to the station as FAULT_ALERT; the healthy module sends none. */
Test(safety, a_seized_fan_raises_FAN_FAIL_at_the_station)
{
    static rig g;
    rig_opts o;
    rig_default_opts(&o, 2, 5, 2000.0);
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    g.plant.mod[0].th.fan_health = 0; /* module 1's fan seized */
    for (long q = 0; q < 45000; q++)  /* 4.5 s */
        rig_quantum(&g);
    cr_assert_eq(g.stn.st.faults, 1u, "one FAULT_ALERT at the station (%u)", g.stn.st.faults);
    const msg_fault *f = &g.stn.m[0].fault;
    cr_assert_eq(f->code, MSG_FAULT_FAN_FAIL, "code %u", f->code);
    cr_assert_eq(f->module, 1);
    cr_assert_eq(f->severity, MSG_SEV_CRITICAL);
    cr_assert_eq(f->flags & MSG_FAULT_F_CLEARED, 0, "raised, not cleared");
    cr_assert(f->value >= 0 && f->value < 50000, "the tachometer reads under 50 rpm (%d milli-rpm)", f->value);
    cr_assert(f->time_ms >= 4000 && f->time_ms <= 4100, "after spin-up and a second: %u ms", f->time_ms);
    cr_assert_lt(g.stn.m[1].fault_ns, 0, "module 2's fan is fine");
    rig_free(&g);
}

/* The services' commands reach the drivers only at the start of a
 * control period, and never half-written: a write the interrupt cut in
 * two (the mailbox's sequence odd) waits for the next period. */
Test(safety, a_command_is_taken_whole_at_the_start_of_a_period, .init = setup)
{
    static jz_kernel k;
    memset(&k, 0, sizeof k);
    k.hw = hhal_hal(&h);
    drv_power(&d, DRV_OFF, 0, 0);
    drv_control(&d, &k);
    cr_assert_eq(d.ctl.enable, 0, "off at the period after the command");
    drv_fan(&d, 700);
    drv_derate(&d, 0.5f);
    cr_assert_eq(d.ctl.fan_permille, 1000, "nothing changes before the period");
    /* A service interrupted half-way through its next write. */
    d.cmd.seq++;
    d.cmd.power = DRV_ON;
    d.cmd.v_set = 600;
    d.cmd.p_lim = 2000;
    drv_control(&d, &k);
    cr_assert_eq(d.ctl.enable, 0, "a half-written command is not taken");
    cr_assert_eq(d.ctl.fan_permille, 1000, "nor anything written before it in the same mailbox");
    d.cmd.seq++; /* the write completes */
    drv_control(&d, &k);
    cr_assert_eq(d.ctl.enable, 1);
    cr_assert_eq(d.ctl.v_set, 600.0f);
    cr_assert_eq(d.ctl.fan_permille, 700);
    cr_assert_eq(d.ctl.derate, 0.5f);
    drv_status st;
    drv_status_get(&d, &st);
    cr_assert_eq(st.enable, 1);
    cr_assert_eq(st.pwm.fan_permille, 700, "the snapshot holds the period's PWM command");
    cr_assert_eq(st.v_set, 600.0f);
}

/* Periods of the control interrupt on the bench module of setup(). */
static void control(jz_kernel *k, int n)
{
    for (int i = 0; i < n; i++)
        drv_control(&d, k);
}

/* The balancing trim (drv_trim) moves the droop reference: against a
 * fixed bus (the ADC reads 745 V) the current the module asks for moves
 * by trim / R_droop, and the drivers clamp whatever a service asks. */
Test(safety, a_trim_moves_the_droop_current_by_trim_over_r_droop, .init = setup)
{
    static jz_kernel k;
    memset(&k, 0, sizeof k);
    k.hw = hhal_hal(&h);
    h.adc[MSG_ADC_VOUT] = (uint16_t)lround(745.0 / 1000 * 4095);
    control(&k, 5000); /* soft start to 750 V done */
    cr_assert_eq(d.ctl.state, LLCC_RUN);
    float i0 = d.ctl.i_ref;
    cr_assert(i0 > 0.5f && i0 < 1.5f, "droop alone: about (750 - 745) / 5 A (%.3f)", i0);
    drv_trim(&d, 2.0f);
    control(&k, 1);
    cr_assert_float_eq(d.ctl.i_ref - i0, 2.0f / 5.0f, 1e-4f, "+2 V: +0.4 A (%.4f)", d.ctl.i_ref - i0);
    drv_trim(&d, -3.0f);
    control(&k, 1);
    cr_assert_float_eq(d.ctl.i_ref - i0, -3.0f / 5.0f, 1e-4f, "-3 V: -0.6 A (%.4f)", d.ctl.i_ref - i0);
    drv_status st;
    drv_status_get(&d, &st);
    cr_assert_eq(st.trim_v, -3.0f, "the status shows the trim in force");
    cr_assert_eq(st.parked, 0);
}

Test(safety, the_drivers_clamp_any_trim, .init = setup)
{
    static jz_kernel k;
    memset(&k, 0, sizeof k);
    k.hw = hhal_hal(&h);
    const float asks[] = {100.0f, -1e9f, 1e30f, -6.5f, NAN, INFINITY, -INFINITY, 5.5f};
    const float got[] = {LLCC_TRIM_MAX_V, -LLCC_TRIM_MAX_V, LLCC_TRIM_MAX_V, -LLCC_TRIM_MAX_V, 0.0f,
                         LLCC_TRIM_MAX_V, -LLCC_TRIM_MAX_V, 5.5f};
    for (unsigned j = 0; j < sizeof asks / sizeof asks[0]; j++) {
        drv_trim(&d, asks[j]);
        control(&k, 1);
        drv_status st;
        drv_status_get(&d, &st);
        cr_assert_eq(st.trim_v, got[j], "asked %g: %g, not %g", (double)asks[j], (double)got[j], (double)st.trim_v);
    }
    cr_assert_leq(LLCC_TRIM_MAX_V, 10.0f, "a few volts, not the droop band (20 V)");
    /* At the top of the range the trim cannot lift the reference above
     * 920 V: with the bus read at 915 V the module asks (920 - 915) / 5
     * (LLC_CONTROL alone: SAFETY_MONITOR's 900 V OVP would trip). */
    h.adc[MSG_ADC_VOUT] = (uint16_t)lround(915.0 / 1000 * 4095);
    llcc_command(&d.ctl, 1, 920, 3300);
    llcc_trim(&d.ctl, 100.0f);
    for (int i = 0; i < 8000; i++)
        llcc_step(&d.ctl, hhal_hal(&h));
    cr_assert_eq(d.ctl.state, LLCC_RUN);
    float v = d.ctl.v;
    cr_assert_float_eq(d.ctl.i_ref, (920.0f - v) / 5.0f, 1e-3f, "held at 920 V: %.3f A", d.ctl.i_ref);
}

/* Park: standby without a fault. The bridge stops, the station's command
 * stays (and one sent while parked is kept); unpark soft-starts at it. */
/* Hot standby: a parked module commanded on wakes itself in the period
 * its output reads below V_set - R_droop x 0.9 x i_max (the running ones
 * near their limit), without a service; a bus at 2 V above that stays
 * parked; and a service's park given before is not applied again over
 * the wake (the mailbox carries drv_park as an edge). */
Test(safety, a_parked_module_wakes_itself_when_the_bus_sags, .init = setup)
{
    static jz_kernel k;
    memset(&k, 0, sizeof k);
    k.hw = hhal_hal(&h);
    control(&k, 5000);
    drv_park(&d, 1);
    control(&k, 1);
    cr_assert_eq(d.ctl.parked, 1);
    float wake_v = 750.0f - d.ctl.cfg.r_droop * LLCC_WAKE_SHARE * d.ctl.cfg.i_max; /* 732 V */
    h.adc[MSG_ADC_VOUT] = (uint16_t)lround((wake_v + 2.0) / 1000 * 4095);
    control(&k, 200);
    cr_assert_eq(d.ctl.parked, 1, "2 V above the threshold: still parked");
    cr_assert_eq(d.ctl.self_wakes, 0u);
    h.adc[MSG_ADC_VOUT] = (uint16_t)lround((wake_v - 2.0) / 1000 * 4095);
    control(&k, 20);
    cr_assert_eq(d.ctl.parked, 0, "2 V below: awake within the filter's few periods");
    cr_assert_eq(d.ctl.self_wakes, 1u);
    cr_assert_neq(d.ctl.state, LLCC_OFF, "starting");
    drv_trim(&d, 1.0f); /* another command through the mailbox: the old park is not taken again */
    control(&k, 5);
    cr_assert_eq(d.ctl.parked, 0, "still awake after the next mailbox");
    drv_status st;
    drv_status_get(&d, &st);
    cr_assert_eq(st.parked, 0);
    /* not commanded on: a parked module that is off stays parked */
    drv_park(&d, 1);
    drv_power(&d, DRV_OFF, 0, 0);
    control(&k, 20);
    cr_assert_eq(d.ctl.parked, 1, "off and parked: no wake");
}

Test(safety, park_stops_the_bridge_and_unpark_resumes_the_command, .init = setup)
{
    static jz_kernel k;
    memset(&k, 0, sizeof k);
    k.hw = hhal_hal(&h);
    control(&k, 5000);
    cr_assert_eq(d.ctl.state, LLCC_RUN);
    drv_park(&d, 1);
    control(&k, 1);
    drv_status st;
    drv_status_get(&d, &st);
    cr_assert_eq(st.parked, 1);
    cr_assert_eq(st.state, LLCC_OFF, "the bridge stops");
    cr_assert_eq(st.pwm.enable, 0, "gates off");
    cr_assert_eq(st.enable, 1, "the station's ON is kept");
    cr_assert_eq(st.latched, 0, "no fault");
    cr_assert_eq(h.shutdowns, 0u, "no safe shutdown");
    drv_power(&d, DRV_OFF, 0, 0); /* the station stops and starts again while parked */
    control(&k, 1);
    drv_power(&d, DRV_ON, 700, 2000);
    control(&k, 100);
    drv_status_get(&d, &st);
    cr_assert_eq(st.state, LLCC_OFF, "a command does not start a parked module");
    cr_assert_eq(st.v_set, 700.0f, "but is kept");
    drv_park(&d, 0);
    control(&k, 1);
    cr_assert_eq(d.ctl.state, LLCC_START, "unparked: soft start");
    cr_assert_float_eq(d.ctl.v_ref, d.ctl.v, 2.0f, "from the measured voltage (%.1f, %.1f)", d.ctl.v_ref, d.ctl.v);
    control(&k, 5000);
    drv_status_get(&d, &st);
    cr_assert_eq(st.state, LLCC_RUN);
    cr_assert_eq(st.v_set, 700.0f, "at the commanded set point");
    cr_assert_eq(st.parked, 0);
    /* Off while parked stays off when unparked. */
    drv_park(&d, 1);
    drv_power(&d, DRV_OFF, 0, 0);
    control(&k, 1);
    drv_park(&d, 0);
    control(&k, 100);
    cr_assert_eq(d.ctl.state, LLCC_OFF, "the station's OFF wins");
    cr_assert_eq(d.ctl.enable, 0);
}

/* In the rack: a trim on module 1 against module 2 moves the current
 * between them by trim / R_droop, and a parked module reports standby,
 * carries nothing, and comes back when unparked. */
Test(safety, trim_and_park_in_a_rack)
{
    static rig g;
    rig_opts o;
    rig_default_opts(&o, 2, 7, 2400.0);
    o.no_swarm = 1; /* the drivers alone: SWARM_COORD would set the trim and park itself */
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    for (long q = 0; q < 20000; q++)
        rig_quantum(&g);
    double di0 = 0, di1 = 0;
    for (long q = 0; q < 1000; q++) {
        rig_quantum(&g);
        di0 += (g.plant.mod[0].io - g.plant.mod[1].io) / 1000;
    }
    drv_trim(&g.m[0].fw.drv, 3.0f);
    for (long q = 0; q < 10000; q++)
        rig_quantum(&g);
    for (long q = 0; q < 1000; q++) {
        rig_quantum(&g);
        di1 += (g.plant.mod[0].io - g.plant.mod[1].io) / 1000;
    }
    cr_log_info("a 3 V trim moved the difference by %.3f A", di1 - di0);
    cr_assert_float_eq(di1 - di0, 3.0 / 5.0, 0.06, "the difference moved by %.3f A (0.6 expected)", di1 - di0);
    drv_trim(&g.m[0].fw.drv, 0.0f);
    drv_park(&g.m[1].fw.drv, 1);
    for (long q = 0; q < 20000; q++)
        rig_quantum(&g);
    cr_assert_lt(fabs(g.plant.mod[1].io), 0.05, "parked: no current (%.3f A)", g.plant.mod[1].io);
    cr_assert_eq(g.stn.m[1].hb.state, MSG_STATE_STANDBY, "heartbeat: standby (%u)", g.stn.m[1].hb.state);
    cr_assert_eq(g.m[1].fw.drv.safety.latched, 0, "no fault");
    double p1 = g.plant.mod[0].io * g.plant.mod[0].vo;
    cr_assert_gt(p1, 2000.0, "module 1 carries the load (%.0f W)", p1);
    drv_park(&g.m[1].fw.drv, 0);
    for (long q = 0; q < 20000; q++)
        rig_quantum(&g);
    cr_assert_gt(g.plant.mod[1].io, 1.0, "unparked: module 2 shares again (%.3f A)", g.plant.mod[1].io);
    cr_assert_eq(g.stn.m[1].hb.state, MSG_STATE_ACTIVE, "heartbeat: active (%u)", g.stn.m[1].hb.state);
    rig_free(&g);
}

/* sm_case_c (the monitor's cache) gives sm_ntc_c's value bit for bit for
 * every 12-bit code, whatever order the codes come in: ascending, a
 * stride that collides in every slot, and a random walk as a heating leg
 * reads it. */
Test(safety, the_cached_ntc_reading_is_the_conversion_bit_for_bit, .init = setup)
{
    sm *s = &d.safety;
    uint64_t z = 7;
    for (int pass = 0; pass < 3; pass++) {
        for (unsigned n = 0; n < 3u * 4096u; n++) {
            uint16_t code = pass == 0   ? (uint16_t)(n % 4096u)
                            : pass == 1 ? (uint16_t)((n * SM_NTC_CACHE * 7u + n / 256u) % 4096u)
                                        : (uint16_t)(2000u + (ek3_rng_splitmix64(&z) >> 58));
            float want = sm_ntc_c(&s->cfg, code), got = sm_case_c(s, code);
            cr_assert(!memcmp(&want, &got, sizeof want), "code %u: %.9g, cached %.9g", code, want, got);
        }
    }
    cr_assert(!memcmp(&(float){sm_case_c(s, 0)}, &(float){sm_ntc_c(&s->cfg, 0)}, sizeof(float)), "code 0 (clamped to 1)");
}

/* The drivers read the ADC once a period and give both drivers the codes
 * (llcc_step_codes, sm_step_codes, sm_clear_codes): against the drivers
 * that read it themselves (llcc_step, sm_step, sm_clear), period by
 * period through a start, a ramp, noise, an overvoltage trip, the
 * hardware trip line, a failed read and clears, the state and the PWM command are the same. */
Test(safety, the_codes_read_once_give_what_each_driver_reading_them_gives)
{
    static hhal ha, hb;
    static drv_set a, b;
    hhal_init(&ha, 1, 0);
    hhal_init(&hb, 1, 0);
    llcc_cfg cc;
    llcc_default_cfg(&cc);
    drv_init(&a, &cc);
    drv_init(&b, &cc);
    llcc_command(&a.ctl, 1, 750, 3300);
    llcc_command(&b.ctl, 1, 750, 3300);
    uint64_t z = 99;
    int trips = 0, clears = 0;
    for (int n = 0; n < 6000; n++) {
        uint16_t c[MSG_ADC_COUNT];
        double v = n < 3000 ? 750.0 * n / 3000 : n < 4000 ? 930.0 : 700.0; /* a ramp, an overvoltage, back */
        for (unsigned ch = 0; ch < MSG_ADC_COUNT; ch++)
            c[ch] = (uint16_t)(1000u + (ek3_rng_splitmix64(&z) >> 60));
        c[MSG_ADC_VOUT] = (uint16_t)(v / 1000 * 4095 + (double)(ek3_rng_splitmix64(&z) >> 61));
        c[MSG_ADC_IOUT] = (uint16_t)(1.5 / 5 * 4095 + (double)(ek3_rng_splitmix64(&z) >> 61));
        c[MSG_ADC_TJ_A] = (uint16_t)(ntc_code(40 + n / 200.0) + (ek3_rng_splitmix64(&z) >> 62));
        c[MSG_ADC_TJ_B] = ntc_code(45);
        c[MSG_ADC_IGF] = 0;
        memcpy(ha.adc, c, sizeof c);
        memcpy(hb.adc, c, sizeof c);
        ha.adc_valid = hb.adc_valid = n % 997 != 5; /* now and then a failed read */
        if (n == 4500 || n == 4600) /* the hardware trip line up for 10 ms, then down */
            ha.gpio_in = hb.gpio_in ^= HAL_IN_HW_TRIP;
        llcc_step(&a.ctl, hhal_hal(&ha));
        sm_step(&a.safety, hhal_hal(&ha), &a.ctl);
        uint16_t r[MSG_ADC_COUNT];
        const uint16_t *codes = hal_adc_read(hhal_hal(&hb), r) == EK3_OK ? r : NULL;
        llcc_step_codes(&b.ctl, hhal_hal(&hb), codes);
        sm_step_codes(&b.safety, hhal_hal(&hb), &b.ctl, codes);
        if (n % 50 == 0 && a.safety.latched) {
            int ra = sm_clear(&a.safety, hhal_hal(&ha)), rb = sm_clear_codes(&b.safety, hhal_hal(&hb), codes);
            cr_assert_eq(ra, rb, "period %d: the clear", n);
            clears += ra == EK3_OK;
        }
        trips += a.safety.trips != 0;
        cr_assert(!memcmp(&a.ctl, &b.ctl, sizeof a.ctl), "period %d: LLC_CONTROL's state", n);
        cr_assert(!memcmp(&a.safety, &b.safety, sizeof a.safety), "period %d: SAFETY_MONITOR's state", n);
        cr_assert(!memcmp(&ha.pwm, &hb.pwm, sizeof ha.pwm), "period %d: the PWM command", n);
        cr_assert_eq(ha.shutdowns, hb.shutdowns);
    }
    cr_assert(trips > 0 && clears > 1, "the run tripped (%d) and cleared (%d)", trips, clears);
    cr_assert(a.safety.first_code == 0 && (a.safety.trips >= 2), "both trips cleared (%u trips)", (unsigned)a.safety.trips);
}
