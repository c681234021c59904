/*
 * chk.h - signal checks over sampled arrays (prefix chk_): the figures a
 * power engineer reads off a scope trace, computed from samples t[i],
 * y[i] (i < n), times in s, strictly increasing, uniform or not.
 *
 * Contract shared by every function here:
 * - Each fills its result struct and returns 0, or a negative code of
 *   ek3_err.h: EK3_EINVAL (NULL pointer, a NaN or infinite sample or
 *   option, times not strictly increasing, an empty or reversed window),
 *   EK3_ESHORT (fewer samples in the window than the check needs),
 *   EK3_ERANGE (the data cannot give the figure: a step of zero
 *   amplitude, a mean of zero for a relative spread). On an error the
 *   result is left all NaN / zero.
 * - A window [from, to] selects the samples with from <= t <= to; NAN
 *   for from or to means the first or the last sample.
 * - Time-weighted means and integrals use the trapezoidal rule, so a
 *   non-uniform sampling weights each sample by the time it stands for.
 * - Instants between samples are found by linear interpolation where the
 *   text says so; elsewhere an instant is a sample time, so its
 *   resolution is the sampling interval (one quantum on the rig).
 * - A figure the data does not reach (a step that never settles, a dip
 *   that never recovers) is NaN with its flag 0; that is a result, not
 *   an error.
 * - Nothing is allocated; all functions are reentrant.
 */
#ifndef CHK_H
#define CHK_H

#include <stddef.h>

/* ---- Step response -------------------------------------------------
 * Terms of IEEE Std 181-2011 "Transitions, Pulses, and Related
 * Waveforms" (identical to IEC 60469:2013), as IEEE Std 1057 uses them
 * for a recorder's step response: the initial and final state levels,
 * the 10 % / 90 % reference levels, the transition duration (rise time
 * 10-90 %), the overshoot aberration in percent of the waveform
 * amplitude. Settling time is measured from the step instant `at`, as
 * control engineering does for a commanded or load step (Ogata, Modern
 * Control Engineering, 5th ed., sec. 5-3: "the time required for the
 * response curve to reach and stay within a range about the final
 * value"), not from the 50 % instant as IEEE 181's transition settling
 * duration does. */
typedef struct chk_step_opt {
    double at;       /* step instant, s */
    double from, to; /* window; samples before `at` give the initial level */
    double target;   /* expected final value; NAN: none (no steady-state error) */
    double tol;      /* settling band half-width as a fraction of |amplitude| (0.02 = 2 %) */
    double band;     /* the band half-width in y's unit; > 0 overrides tol */
    double final_frac; /* the final level is the mean of the last final_frac of the
                        * post-step time (0 < f <= 1; 0 means 0.1) */
} chk_step_opt;

typedef struct chk_step_fig {
    double y_init;      /* initial state level: time-weighted mean of [from, at), or y at
                         * the first sample at or after `at` when there is none before */
    double y_final;     /* final state level: time-weighted mean of the last final_frac */
    double amplitude;   /* y_final - y_init */
    double t10, t90;    /* first crossings of the 10 % and 90 % reference levels after
                         * `at` (linear interpolation); NaN when not reached */
    double rise_time;   /* t90 - t10, s; NaN when either is */
    double t_onset;     /* first sample at or after `at` outside the band around y_init;
                         * NaN if none (with at- in the window: lets a caller check
                         * the step happened at its expected time) */
    double peak;        /* extreme y after `at` in the step's direction */
    double t_peak;
    double overshoot;   /* (peak - y_final) / amplitude * 100, percent, >= 0 */
    double band_used;   /* the settling band half-width, y's unit */
    double settle_ref;  /* the band's centre: target when given, else y_final */
    double settling_time; /* from `at` to the instant y enters the band and stays, s
                           * (linear interpolation); NaN when not settled */
    int settled;        /* 1 when the last sample is inside the band */
    double ss_error;    /* y_final - target; NaN when no target */
    double ss_error_pct; /* ss_error / |target| * 100; NaN when no target or target 0 */
} chk_step_fig;

/* Defaults: from = to = NAN (whole record), target NAN, tol 0.02, band 0,
 * final_frac 0.1; `at` must be set by the caller. */
chk_step_opt chk_step_defaults(double at);

/* The step response of y about `at`. Needs at least 3 samples in the
 * window with at least 2 at or after `at`; EK3_ERANGE when the initial and
 * final levels are equal (no step). */
int chk_step_response(const double *t, const double *y, size_t n, const chk_step_opt *o, chk_step_fig *r);

/* ---- Ramp ----------------------------------------------------------
 * The least-squares line over the window (NIST/SEMATECH e-Handbook of
 * Statistical Methods, sec. 4.1.4.1, linear least squares), and the
 * largest deviation of y from the ideal ramp, the way IEEE Std 1241-2010
 * takes an ADC's integral non-linearity as the largest deviation from a
 * reference line. The ideal ramp is y_start + slope * (t - from); each
 * of the two that is NaN is taken from the fitted line. */
typedef struct chk_ramp_opt {
    double from, to;
    double slope;   /* ideal slope, y-unit/s; NAN: the fitted slope */
    double y_start; /* ideal value at the window's first sample; NAN: the fitted line's */
} chk_ramp_opt;

typedef struct chk_ramp_fig {
    double slope;      /* fitted, y-unit per s */
    double intercept;  /* fitted line's value at the window's first sample time */
    double r2;         /* coefficient of determination of the fit (1 when y is constant
                        * and the fit exact) */
    double max_dev;    /* max |y - ideal| over the window, y's unit */
    double t_max_dev;  /* where */
    double slope_err;  /* fitted slope - ideal slope; 0 when no ideal slope is given */
} chk_ramp_fig;

/* Needs 2 samples in the window (3 to say anything about deviation). */
int chk_ramp(const double *t, const double *y, size_t n, const chk_ramp_opt *o, chk_ramp_fig *r);

/* ---- First order ---------------------------------------------------
 * Fits y(t) = y_final + (y_0 - y_final) exp(-(t - at) / tau) over
 * [at, to] (Ogata, sec. 5-2, the unit-step response of a first-order
 * system) by least squares: for each tau the two linear parameters have
 * a closed form (variable projection, Golub & Pereyra, SIAM J. Numer.
 * Anal. 10(2), 1973); tau is found by a log-spaced scan then a golden-
 * section search between 1e-3 and 10 times the window's length. */
typedef struct chk_fo_opt {
    double at, to;
} chk_fo_opt;

typedef struct chk_fo_fig {
    double tau;       /* s */
    double y_final;   /* the fitted asymptote */
    double y0;        /* the fitted value at `at` */
    double rms_err;   /* RMS residual of the fit, y's unit */
    double max_err;   /* largest |residual| */
    double rel_err;   /* rms_err / |y_final - y0| (the fit's error relative to the step) */
} chk_fo_fig;

/* Needs 4 samples in [at, to]; EK3_ERANGE when y is constant there. */
int chk_first_order(const double *t, const double *y, size_t n, const chk_fo_opt *o, chk_fo_fig *r);

/* ---- Within --------------------------------------------------------
 * lo <= y <= hi on every sample of the window (an envelope or mask
 * test, as a scope's pass/fail mask testing). */
typedef struct chk_within_fig {
    int ok;               /* 1 when no sample is outside */
    size_t violations;    /* samples outside */
    double t_first;       /* first violation, NaN when none */
    double y_first;       /* its value */
    double worst;         /* the sample furthest outside [lo, hi]; when ok, the sample
                           * nearest to a limit */
    double t_worst;
    double y_min, y_max;  /* over the window */
} chk_within_fig;

/* EK3_EINVAL also when lo > hi or either is NaN (use +-INFINITY for one side). */
int chk_within(const double *t, const double *y, size_t n, double lo, double hi, double from, double to,
               chk_within_fig *r);

/* ---- Ripple --------------------------------------------------------
 * The AC component of a DC quantity (IEC 60050-551, "ripple"): its
 * peak-to-peak value and its RMS value over the window, the DC part
 * being the time-weighted mean. */
typedef struct chk_ripple_fig {
    double mean;      /* DC component */
    double pp;        /* max - min */
    double rms;       /* sqrt(time-weighted mean of (y - mean)^2) */
    double y_min, y_max;
} chk_ripple_fig;

/* Needs 2 samples in the window. */
int chk_ripple(const double *t, const double *y, size_t n, double from, double to, chk_ripple_fig *r);

/* ---- Current sharing -----------------------------------------------
 * The sharing error of paralleled converters, over a set of k module
 * currents (one instant, or each module's mean over a window): the
 * spread (max - min) / mean and the largest deviation from the mean,
 * the two figures droop-sharing papers and load-share controller
 * datasheets quote (e.g. TI UCC39002 datasheet, "current share
 * accuracy"). */
typedef struct chk_share_fig {
    double mean, i_min, i_max;
    double spread;       /* (i_max - i_min) / mean, fraction (x 100 for %) */
    double max_dev;      /* max |i - mean|, A */
    double max_dev_rel;  /* max_dev / mean, fraction */
    size_t worst;        /* index of the module furthest from the mean */
} chk_share_fig;

/* Needs k >= 1; EK3_ERANGE when the mean is not positive (nothing shared). */
int chk_sharing(const double *i, size_t k, chk_share_fig *r);

/* ---- Power delivered versus demand ---------------------------------
 * Over the window: the energy delivered and demanded (trapezoidal
 * integrals of the powers), their ratio, and the shortfall (demand minus
 * delivered where positive): the largest instantaneous one and its
 * energy. */
typedef struct chk_delivery_fig {
    double e_delivered, e_demand; /* J */
    double ratio;                 /* e_delivered / e_demand */
    double shortfall_max;         /* W, >= 0 */
    double t_shortfall_max;
    double e_shortfall;           /* J, integral of max(0, demand - delivered) */
} chk_delivery_fig;

/* Needs 2 samples in the window; EK3_ERANGE when e_demand <= 0. */
int chk_delivered(const double *t, const double *p, const double *demand, size_t n, double from, double to,
                  chk_delivery_fig *r);

/* ---- Event intervals: trip latency, restart time --------------------
 * Both are sample-time intervals between two boolean conditions (a
 * nonzero sample is true), so their resolution is the sampling interval.
 * chk_trip_latency: the protection's fault-clearing latency, from the
 * first sample at or after `from` where the fault condition `cond` holds
 * (the onset) to the first sample at or after it where `tripped` holds
 * (IEC 60255-151 calls it the operate time of an over-current relay).
 * chk_restart_time: from the first sample at or after `from` where the
 * service is not running (the crash) to the next sample where it runs
 * again (the seed's EK-TECH-010 sec. 5.3: a non-critical service is
 * restarted in < 50 ms). */
typedef struct chk_interval_fig {
    double t_start;  /* onset / crash, NaN when none in the window */
    double t_end;    /* trip / running again, NaN when none after t_start */
    double interval; /* t_end - t_start, NaN when either is */
    int found;       /* 1 when both */
} chk_interval_fig;

int chk_trip_latency(const double *t, const double *cond, const double *tripped, size_t n, double from,
                     chk_interval_fig *r);
int chk_restart_time(const double *t, const double *running, size_t n, double from, chk_interval_fig *r);

/* ---- Dip during an event -------------------------------------------
 * A voltage (or power) dip in the terms of IEC 61000-4-30:2015, sec. 5.4
 * (dips and swells): the reference is the mean before the event, the
 * residual the minimum after it, the depth their difference. Recovery is
 * the time from the event to the instant y comes back within `band` of
 * the reference and stays there to the window's end (linear
 * interpolation). */
typedef struct chk_dip_opt {
    double at;    /* event instant, s */
    double pre;   /* length of the reference window [at - pre, at), s */
    double to;    /* end of the observed window; NAN: the last sample */
    double band;  /* recovery band half-width in y's unit; <= 0: 2 % of |reference| */
} chk_dip_opt;

typedef struct chk_dip_fig {
    double ref;         /* pre-event time-weighted mean */
    double y_min;       /* residual */
    double t_min;
    double depth;       /* ref - y_min (>= 0 when y dipped), y's unit */
    double depth_pct;   /* depth / |ref| * 100; NaN when ref is 0 */
    double band_used;
    double recovery;    /* s from `at`; 0 when y never left the band; NaN when not back */
    int recovered;
} chk_dip_fig;

/* Needs 1 sample in [at - pre, at) and 2 in [at, to]. */
int chk_dip(const double *t, const double *y, size_t n, const chk_dip_opt *o, chk_dip_fig *r);

#endif /* CHK_H */
