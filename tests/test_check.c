/* test_check.c - the signal checks (chk.h) against analytic signals whose
 * figures are known in closed form: a second-order step response, a
 * first-order exponential, a ramp, a sine, dips, and the bad inputs. */
#include <criterion/criterion.h>
#include <math.h>

#include "chk.h"
#include "ek3_err.h"

#define N_MAX 20001
static double T[N_MAX], Y[N_MAX], Z[N_MAX];

/* The unit-step response of wn^2 / (s^2 + 2 zeta wn s + wn^2), zeta < 1
 * (Ogata, Modern Control Engineering, eq. 5-10). */
static double second_order(double x, double zeta, double wn)
{
    if (x < 0)
        return 0;
    double wd = wn * sqrt(1 - zeta * zeta);
    return 1 - exp(-zeta * wn * x) / sqrt(1 - zeta * zeta) * sin(wd * x + acos(zeta));
}

/* The first instant the response reaches u (bisection on the closed form,
 * between 0 and the first peak, where it rises monotonically). */
static double second_order_reach(double u, double zeta, double wn)
{
    double lo = 0, hi = M_PI / (wn * sqrt(1 - zeta * zeta));
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (second_order(mid, zeta, wn) < u)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* 700 V -> 750 V at 10 ms, zeta 0.5, wn 2 pi 50 Hz, sampled every 10 us to 100 ms. */
static size_t make_step(double zeta, double wn)
{
    size_t n = 10001;
    for (size_t i = 0; i < n; i++) {
        T[i] = (double)i * 1e-5;
        Y[i] = 700 + 50 * second_order(T[i] - 0.01, zeta, wn);
    }
    return n;
}

Test(check, second_order_step_response_figures)
{
    double zeta = 0.5, wn = 2 * M_PI * 50, at = 0.01;
    size_t n = make_step(zeta, wn);
    chk_step_opt o = chk_step_defaults(at);
    o.target = 750;
    chk_step_fig r;
    cr_assert_eq(chk_step_response(T, Y, n, &o, &r), 0);
    cr_assert_float_eq(r.y_init, 700, 1e-9);
    cr_assert_float_eq(r.y_final, 750, 1e-3);
    cr_assert_float_eq(r.amplitude, 50, 1e-3);
    /* Overshoot exp(-pi zeta / sqrt(1 - zeta^2)) = 16.30 %. */
    double os = 100 * exp(-M_PI * zeta / sqrt(1 - zeta * zeta));
    cr_assert_float_eq(r.overshoot, os, 0.01, "overshoot %.4f %% want %.4f %%", r.overshoot, os);
    cr_assert_float_eq(r.t_peak - at, M_PI / (wn * sqrt(1 - zeta * zeta)), 1e-5);
    /* Rise time 10-90 %, from the closed form by bisection. */
    double t10 = second_order_reach(0.1, zeta, wn), t90 = second_order_reach(0.9, zeta, wn);
    cr_assert_float_eq(r.t10 - at, t10, 1e-6);
    cr_assert_float_eq(r.rise_time, t90 - t10, 2e-6, "rise %.6g want %.6g", r.rise_time, t90 - t10);
    /* 2 % settling: the error's extrema lie on exp(-zeta wn t), so the last
     * one above 2 % comes at most half a damped period before
     * ln(50)/(zeta wn); the error stays under its envelope
     * exp(-zeta wn t)/sqrt(1 - zeta^2), inside 2 % from
     * ln(50/sqrt(1 - zeta^2))/(zeta wn) on (Ogata, eq. 5-22); and the rule
     * of thumb 4/(zeta wn) is within 15 % of it. */
    double half = M_PI / (wn * sqrt(1 - zeta * zeta));
    double lo = log(50) / (zeta * wn) - half, hi = log(50 / sqrt(1 - zeta * zeta)) / (zeta * wn);
    cr_assert(r.settled);
    cr_assert(r.settling_time <= hi && r.settling_time >= lo, "settling %.6g s not in [%.6g, %.6g]",
              r.settling_time, lo, hi);
    cr_assert_float_eq(r.settling_time, 4 / (zeta * wn), 0.15 * 4 / (zeta * wn));
    cr_assert_float_eq(r.band_used, 1.0, 1e-4);
    cr_assert_float_eq(r.ss_error, 0, 1e-3);
    /* Onset: the first sample more than 1 V above 700 V, after the step and before the 10 % point. */
    cr_assert(r.t_onset > at && r.t_onset < r.t10, "onset %.6g", r.t_onset);
}

Test(check, step_steady_state_error_and_unsettled)
{
    size_t n = make_step(0.5, 2 * M_PI * 50);
    chk_step_opt o = chk_step_defaults(0.01);
    o.target = 760; /* the response ends at 750: 10 V short */
    chk_step_fig r;
    cr_assert_eq(chk_step_response(T, Y, n, &o, &r), 0);
    cr_assert_float_eq(r.ss_error, -10, 1e-3);
    cr_assert_float_eq(r.ss_error_pct, -10.0 / 760 * 100, 1e-4);
    cr_assert_eq(r.settled, 0, "never inside 760 +- 1 V");
    cr_assert(isnan(r.settling_time));
    /* An absolute band of 12 V around 760 V: the response enters it at
     * 748 V (first crossing of 0.96 of the step, on the first rise) and
     * then stays within 748..772 V, since its peak is 758.2 V. */
    o.band = 12;
    cr_assert_eq(chk_step_response(T, Y, n, &o, &r), 0);
    cr_assert(r.settled);
    cr_assert_float_eq(r.settling_time, second_order_reach(0.96, 0.5, 2 * M_PI * 50), 1e-6);
}

Test(check, falling_step)
{
    size_t n = make_step(0.7, 2 * M_PI * 100);
    for (size_t i = 0; i < n; i++)
        Y[i] = 1400 - Y[i]; /* 700 -> 650 V */
    chk_step_opt o = chk_step_defaults(0.01);
    chk_step_fig r;
    cr_assert_eq(chk_step_response(T, Y, n, &o, &r), 0);
    cr_assert_float_eq(r.amplitude, -50, 1e-3);
    double os = 100 * exp(-M_PI * 0.7 / sqrt(1 - 0.49));
    cr_assert_float_eq(r.overshoot, os, 0.01);
    cr_assert(r.peak < 650, "the undershoot below 650 V is the peak: %g", r.peak);
}

Test(check, first_order_tau_within_1_percent_nonuniform_and_noisy)
{
    /* 400 V -> 750 V, tau 5 ms from 2 ms on; sample spacing 20..80 us. */
    double tau = 5e-3, at = 2e-3;
    size_t n = 0;
    unsigned s = 12345;
    for (double t = 0; t <= 0.04 && n < N_MAX; n++) {
        T[n] = t;
        s = s * 1103515245u + 12345u;
        double noise = ((double)(s >> 16 & 0x7fff) / 32767.0 - 0.5) * 2.0; /* +-1 V */
        Y[n] = (t < at ? 400 : 750 - 350 * exp(-(t - at) / tau)) + noise;
        t += 20e-6 + 60e-6 * (double)(s >> 20 & 0xff) / 255.0;
    }
    chk_fo_fig r;
    chk_fo_opt o = {.at = at, .to = NAN};
    cr_assert_eq(chk_first_order(T, Y, n, &o, &r), 0);
    cr_assert_float_eq(r.tau, tau, 0.01 * tau, "tau %.6g", r.tau);
    cr_assert_float_eq(r.y_final, 750, 0.5);
    cr_assert_float_eq(r.y0, 400, 2);
    /* The residual is the noise: uniform on +-1 V, RMS 1/sqrt(3). */
    cr_assert_float_eq(r.rms_err, 1 / sqrt(3), 0.05);
    cr_assert(r.max_err <= 1.05 && r.max_err > 0.9, "max_err %g", r.max_err);
    cr_assert_float_eq(r.rel_err, r.rms_err / 350, 1e-3);
}

Test(check, first_order_exact)
{
    for (size_t i = 0; i < 1001; i++)
        T[i] = i * 1e-4, Y[i] = 20 * exp(-T[i] / 0.013); /* decay to 0 */
    chk_fo_fig r;
    chk_fo_opt o = {.at = 0, .to = 0.1};
    cr_assert_eq(chk_first_order(T, Y, 1001, &o, &r), 0);
    cr_assert_float_eq(r.tau, 0.013, 1e-7);
    cr_assert_float_eq(r.y_final, 0, 1e-6);
    cr_assert(r.rms_err < 1e-6);
}

Test(check, ramp_slope_and_deviation)
{
    size_t n = 501;
    for (size_t i = 0; i < n; i++)
        T[i] = i * 1e-4, Y[i] = 100 + 2000 * T[i];
    Y[200] += 3; /* one sample 3 V off the ramp, at 20 ms */
    chk_ramp_fig r;
    chk_ramp_opt o = {.from = NAN, .to = NAN, .slope = 2000, .y_start = 100};
    cr_assert_eq(chk_ramp(T, Y, n, &o, &r), 0);
    cr_assert_float_eq(r.slope, 2000, 1.0);
    cr_assert_float_eq(r.max_dev, 3, 1e-9);
    cr_assert_float_eq(r.t_max_dev, 0.02, 1e-12);
    cr_assert(r.r2 > 0.9999 && r.r2 < 1);
    /* A window that leaves the bump out fits exactly. */
    o = (chk_ramp_opt){.from = 0.025, .to = 0.05, .slope = NAN, .y_start = NAN};
    cr_assert_eq(chk_ramp(T, Y, n, &o, &r), 0);
    cr_assert_float_eq(r.slope, 2000, 1e-6);
    cr_assert_float_eq(r.intercept, 150, 1e-6, "the fitted value at the window's first sample (25 ms)");
    cr_assert(r.max_dev < 1e-9);
    cr_assert_eq(r.slope_err, 0);
    /* Against a wrong ideal slope: the deviation grows to the window's end. */
    o.slope = 2100, o.y_start = 150;
    cr_assert_eq(chk_ramp(T, Y, n, &o, &r), 0);
    cr_assert_float_eq(r.slope_err, -100, 1e-6);
    cr_assert_float_eq(r.max_dev, 100 * 0.025, 1e-6);
    cr_assert_float_eq(r.t_max_dev, 0.05, 1e-12);
}

Test(check, ripple_of_a_sine)
{
    /* 750 V + 2 V sin(2 pi 1 kHz t), 40 samples a period, 10 periods. */
    size_t n = 401;
    for (size_t i = 0; i < n; i++)
        T[i] = (double)i / 40000.0, Y[i] = 750 + 2 * sin(2 * M_PI * (double)i / 40.0);
    chk_ripple_fig r;
    cr_assert_eq(chk_ripple(T, Y, n, NAN, NAN, &r), 0);
    cr_assert_float_eq(r.mean, 750, 1e-9);
    cr_assert_float_eq(r.pp, 4, 1e-9, "pp = 2A");
    cr_assert_float_eq(r.rms, 2 / sqrt(2), 1e-9, "RMS = A / sqrt 2");
    /* Half a period holds one crest: pp from the crest to the mean. */
    cr_assert_eq(chk_ripple(T, Y, n, 0, 0.0005, &r), 0);
    cr_assert_float_eq(r.y_max, 752, 1e-9);
    cr_assert_float_eq(r.y_min, 750, 1e-9);
}

Test(check, within_window)
{
    size_t n = 100;
    for (size_t i = 0; i < n; i++)
        T[i] = i * 1e-3, Y[i] = 750;
    Y[40] = 705, Y[41] = 690, Y[42] = 698, Y[90] = 800;
    chk_within_fig r;
    cr_assert_eq(chk_within(T, Y, n, 700, 790, 0.01, 0.08, &r), 0);
    cr_assert_eq(r.ok, 0);
    cr_assert_eq(r.violations, 2);
    cr_assert_float_eq(r.t_first, 0.041, 1e-12);
    cr_assert_float_eq(r.y_first, 690, 0);
    cr_assert_float_eq(r.worst, 690, 0);
    cr_assert_float_eq(r.y_min, 690, 0);
    cr_assert_float_eq(r.y_max, 750, 0, "800 V at 90 ms is outside the window");
    cr_assert_eq(chk_within(T, Y, n, 680, 805, NAN, NAN, &r), 0);
    cr_assert_eq(r.ok, 1);
    cr_assert(isnan(r.t_first));
    cr_assert_float_eq(r.worst, 800, 0, "nearest a limit: 5 V under 805");
    cr_assert_eq(chk_within(T, Y, n, 700, INFINITY, 0.085, NAN, &r), 0);
    cr_assert_eq(r.ok, 1, "one-sided: no upper limit");
}

Test(check, sharing_spread)
{
    double i[4] = {10, 11, 9.5, 9.5};
    chk_share_fig r;
    cr_assert_eq(chk_sharing(i, 4, &r), 0);
    cr_assert_float_eq(r.mean, 10, 1e-12);
    cr_assert_float_eq(r.spread, 0.15, 1e-12);
    cr_assert_float_eq(r.max_dev, 1, 1e-12);
    cr_assert_float_eq(r.max_dev_rel, 0.1, 1e-12);
    cr_assert_eq(r.worst, 1);
    double z[2] = {0, 0};
    cr_assert_eq(chk_sharing(z, 2, &r), EK3_ERANGE);
    cr_assert_eq(chk_sharing(i, 0, &r), EK3_EINVAL);
}

Test(check, delivered_versus_demand)
{
    /* Demand 100 kW for 1 s; delivered 90 kW on [0.2, 0.4] s. */
    size_t n = 1001;
    for (size_t i = 0; i < n; i++) {
        T[i] = i * 1e-3;
        Z[i] = 100e3;
        Y[i] = (i >= 200 && i <= 400) ? 90e3 : 100e3;
    }
    chk_delivery_fig r;
    cr_assert_eq(chk_delivered(T, Y, Z, n, NAN, NAN, &r), 0);
    cr_assert_float_eq(r.e_demand, 100e3, 1e-6);
    /* 10 kW short for 0.2 s, plus a half sample at each edge (trapezoid). */
    cr_assert_float_eq(r.e_shortfall, 10e3 * 0.201, 1e-6);
    cr_assert_float_eq(r.e_delivered, 100e3 - 2010, 1e-6);
    cr_assert_float_eq(r.ratio, (100e3 - 2010) / 100e3, 1e-12);
    cr_assert_float_eq(r.shortfall_max, 10e3, 1e-9);
    cr_assert_float_eq(r.t_shortfall_max, 0.2, 1e-12);
    for (size_t i = 0; i < n; i++)
        Z[i] = 0;
    cr_assert_eq(chk_delivered(T, Y, Z, n, NAN, NAN, &r), EK3_ERANGE);
}

Test(check, trip_latency_and_restart_time)
{
    size_t n = 2000;
    for (size_t i = 0; i < n; i++) {
        T[i] = i * 1e-4;
        Y[i] = i >= 105;              /* over-current from 10.5 ms */
        Z[i] = i >= 107;              /* tripped from 10.7 ms */
    }
    chk_interval_fig r;
    cr_assert_eq(chk_trip_latency(T, Y, Z, n, NAN, &r), 0);
    cr_assert_eq(r.found, 1);
    cr_assert_float_eq(r.t_start, 0.0105, 1e-12);
    cr_assert_float_eq(r.interval, 2e-4, 1e-12);
    for (size_t i = 0; i < n; i++)
        Z[i] = 0; /* never trips */
    cr_assert_eq(chk_trip_latency(T, Y, Z, n, NAN, &r), 0);
    cr_assert_eq(r.found, 0);
    cr_assert(isnan(r.interval));
    cr_assert_float_eq(r.t_start, 0.0105, 1e-12);
    /* Running, crashed at 100 ms, running again at 130 ms; a second crash at 150 ms. */
    for (size_t i = 0; i < n; i++)
        Y[i] = !((i >= 1000 && i < 1300) || i >= 1500);
    cr_assert_eq(chk_restart_time(T, Y, n, NAN, &r), 0);
    cr_assert_eq(r.found, 1);
    cr_assert_float_eq(r.t_start, 0.1, 1e-12);
    cr_assert_float_eq(r.interval, 0.03, 1e-12);
    cr_assert_eq(chk_restart_time(T, Y, n, 0.14, &r), 0);
    cr_assert_float_eq(r.t_start, 0.15, 1e-12, "the crash after `from`");
    cr_assert_eq(r.found, 0, "not restarted by the end");
}

Test(check, dip_depth_and_recovery)
{
    /* 750 V, falls linearly 30 V in 2 ms from 0.5 s, then recovers with tau 10 ms. */
    size_t n = 0;
    for (double t = 0.4; n < 2001; n++, t = 0.4 + n * 1e-4) {
        T[n] = t;
        double x = t - 0.5;
        Y[n] = x < 0 ? 750 : x < 0.002 ? 750 - 30 * x / 0.002 : 750 - 30 * exp(-(x - 0.002) / 0.01);
    }
    chk_dip_fig r;
    chk_dip_opt o = {.at = 0.5, .pre = 0.05, .to = NAN, .band = 0};
    cr_assert_eq(chk_dip(T, Y, n, &o, &r), 0);
    cr_assert_float_eq(r.ref, 750, 1e-9);
    cr_assert_float_eq(r.y_min, 720, 1e-6);
    cr_assert_float_eq(r.depth, 30, 1e-6);
    cr_assert_float_eq(r.depth_pct, 4, 1e-6);
    cr_assert_float_eq(r.band_used, 15, 1e-9);
    cr_assert(r.recovered);
    /* Back within 15 V when 30 exp(-x / 10 ms) = 15: 2 ms + 10 ms ln 2. */
    cr_assert_float_eq(r.recovery, 0.002 + 0.01 * log(2), 2e-6, "recovery %.7g", r.recovery);
    o.band = 0.5; /* 750 +- 0.5 V: 4.96 V short still at 0.52 s */
    o.to = 0.52;
    cr_assert_eq(chk_dip(T, Y, n, &o, &r), 0);
    cr_assert_eq(r.recovered, 0);
    cr_assert(isnan(r.recovery));
}

Test(check, bad_inputs)
{
    for (size_t i = 0; i < 10; i++)
        T[i] = i, Y[i] = i < 5 ? 0 : 1;
    chk_step_opt o = chk_step_defaults(5);
    chk_step_fig s;
    cr_assert_eq(chk_step_response(T, Y, 2, &o, &s), EK3_ESHORT, "n too small");
    cr_assert_eq(chk_step_response(NULL, Y, 10, &o, &s), EK3_EINVAL);
    cr_assert_eq(chk_step_response(T, Y, 10, &o, NULL), EK3_EINVAL);
    o.at = 20;
    cr_assert_eq(chk_step_response(T, Y, 10, &o, &s), EK3_ESHORT, "no sample after the step");
    o = chk_step_defaults(5);
    o.from = 20, o.to = 30;
    cr_assert_eq(chk_step_response(T, Y, 10, &o, &s), EK3_ESHORT, "window empty");
    o.from = 8, o.to = 3;
    cr_assert_eq(chk_step_response(T, Y, 10, &o, &s), EK3_EINVAL, "window reversed");
    o = chk_step_defaults(5);
    o.tol = -1;
    cr_assert_eq(chk_step_response(T, Y, 10, &o, &s), EK3_EINVAL, "negative tolerance");
    o = chk_step_defaults(5);
    cr_assert_eq(chk_step_response(T, Y, 10, &o, &s), 0);
    Y[7] = NAN;
    cr_assert_eq(chk_step_response(T, Y, 10, &o, &s), EK3_EINVAL, "NaN sample");
    cr_assert(isnan(s.overshoot), "figures NaN on error");
    Y[7] = 1;
    T[6] = T[5];
    cr_assert_eq(chk_step_response(T, Y, 10, &o, &s), EK3_EINVAL, "time not increasing");
    T[6] = 6;
    for (size_t i = 0; i < 10; i++)
        Y[i] = 3;
    cr_assert_eq(chk_step_response(T, Y, 10, &o, &s), EK3_ERANGE, "no step");
    chk_fo_fig f;
    chk_fo_opt fo = {.at = 0, .to = NAN};
    cr_assert_eq(chk_first_order(T, Y, 10, &fo, &f), EK3_ERANGE, "flat");
    fo.at = 7;
    cr_assert_eq(chk_first_order(T, Y, 10, &fo, &f), EK3_ESHORT, "3 samples");
    chk_ramp_fig rp;
    chk_ramp_opt ro = {.from = 4.5, .to = 5.5, .slope = NAN, .y_start = NAN};
    cr_assert_eq(chk_ramp(T, Y, 10, &ro, &rp), EK3_ESHORT, "one sample");
    chk_within_fig w;
    cr_assert_eq(chk_within(T, Y, 10, 5, 4, NAN, NAN, &w), EK3_EINVAL, "lo > hi");
    cr_assert_eq(chk_within(T, Y, 10, NAN, 4, NAN, NAN, &w), EK3_EINVAL, "NaN limit");
    chk_ripple_fig rr;
    cr_assert_eq(chk_ripple(T, Y, 10, 8.5, NAN, &rr), EK3_ESHORT, "one sample");
    cr_assert_eq(chk_ripple(T, Y, 10, 9.5, NAN, &rr), EK3_EINVAL, "from after the last sample: reversed");
    cr_assert_eq(chk_ripple(T, Y, 0, NAN, NAN, &rr), EK3_EINVAL);
    chk_dip_fig d;
    chk_dip_opt dop = {.at = 5, .pre = 0, .to = NAN};
    cr_assert_eq(chk_dip(T, Y, 10, &dop, &d), EK3_EINVAL, "pre 0");
    dop.pre = 0.5; /* [4.5, 5) holds no sample */
    cr_assert_eq(chk_dip(T, Y, 10, &dop, &d), EK3_ESHORT);
    chk_interval_fig iv;
    cr_assert_eq(chk_restart_time(T, Y, 10, 11, &iv), EK3_ESHORT, "from after the record");
}
