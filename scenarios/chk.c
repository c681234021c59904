/* chk.c - signal checks over sampled arrays; definitions and sources in chk.h. */
#include "chk.h"

#include <math.h>
#include <string.h>

#include "ek3_err.h"

/* t strictly increasing and finite, each given y array finite. */
static int chk_valid(const double *t, size_t n, const double *a, const double *b)
{
    if (!t || !a || !n)
        return EK3_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(t[i]) || !isfinite(a[i]) || (b && !isfinite(b[i])))
            return EK3_EINVAL;
        if (i && !(t[i] > t[i - 1]))
            return EK3_EINVAL;
    }
    return EK3_OK;
}

/* The samples in [from, to] (NaN: the record's end) as i0..i1 inclusive;
 * the number of them, or EK3_EINVAL for a reversed or infinite window. */
static long chk_window(const double *t, size_t n, double from, double to, size_t *i0, size_t *i1)
{
    if (isnan(from))
        from = t[0];
    if (isnan(to))
        to = t[n - 1];
    if (!isfinite(from) || !isfinite(to) || from > to)
        return EK3_EINVAL;
    size_t a = 0, b = n;
    while (a < n && t[a] < from)
        a++;
    while (b > a && t[b - 1] > to)
        b--;
    *i0 = a;
    *i1 = b ? b - 1 : 0;
    return (long)(b - a);
}

/* Time-weighted (trapezoidal) mean of y over samples i0..i1; one sample: its value. */
static double chk_twmean(const double *t, const double *y, size_t i0, size_t i1)
{
    if (i1 == i0)
        return y[i0];
    double s = 0;
    for (size_t i = i0; i < i1; i++)
        s += 0.5 * (y[i] + y[i + 1]) * (t[i + 1] - t[i]);
    return s / (t[i1] - t[i0]);
}

/* Instant where the segment i-1..i crosses level (linear interpolation). */
static double chk_cross(const double *t, const double *y, size_t i, double level)
{
    double d = y[i] - y[i - 1];
    double f = d != 0 ? (level - y[i - 1]) / d : 1.0;
    return t[i - 1] + f * (t[i] - t[i - 1]);
}

/* The instant y enters the band [ref - band, ref + band] for good, over
 * i0..i1: NaN (settled 0) when the last sample is outside, t_none when none
 * is, else the interpolated crossing after the last sample outside. */
static double chk_enter_band(const double *t, const double *y, size_t i0, size_t i1, double ref, double band,
                             double t_none, int *settled)
{
    size_t j = i1 + 1;
    for (size_t i = i1 + 1; i-- > i0;)
        if (fabs(y[i] - ref) > band) {
            j = i;
            break;
        }
    if (j == i1) {
        *settled = 0;
        return NAN;
    }
    *settled = 1;
    if (j == i1 + 1)
        return t_none;
    double edge = y[j] > ref ? ref + band : ref - band;
    return chk_cross(t, y, j + 1, edge);
}

chk_step_opt chk_step_defaults(double at)
{
    return (chk_step_opt){.at = at, .from = NAN, .to = NAN, .target = NAN, .tol = 0.02, .band = 0, .final_frac = 0.1};
}

static void chk_step_nan(chk_step_fig *r)
{
    r->y_init = r->y_final = r->amplitude = r->t10 = r->t90 = r->rise_time = r->t_onset = NAN;
    r->peak = r->t_peak = r->overshoot = r->band_used = r->settle_ref = r->settling_time = NAN;
    r->ss_error = r->ss_error_pct = NAN;
    r->settled = 0;
}

int chk_step_response(const double *t, const double *y, size_t n, const chk_step_opt *o, chk_step_fig *r)
{
    if (!r)
        return EK3_EINVAL;
    chk_step_nan(r);
    if (!o || chk_valid(t, n, y, NULL))
        return EK3_EINVAL;
    double ff = o->final_frac == 0 ? 0.1 : o->final_frac;
    if (!isfinite(o->at) || isinf(o->target) || !isfinite(o->tol) || o->tol < 0 || !isfinite(o->band) ||
        !(ff > 0 && ff <= 1))
        return EK3_EINVAL;
    size_t i0, i1;
    long m = chk_window(t, n, o->from, o->to, &i0, &i1);
    if (m < 0)
        return (int)m;
    size_t ia = i0;
    while (ia <= i1 && m > 0 && t[ia] < o->at)
        ia++;
    if (m < 3 || ia > i1 || i1 - ia + 1 < 2)
        return EK3_ESHORT;
    double yi = ia > i0 ? chk_twmean(t, y, i0, ia - 1) : y[ia];
    double tf = t[i1] - ff * (t[i1] - o->at);
    size_t fs = i1;
    while (fs > ia && t[fs - 1] >= tf)
        fs--;
    double yf = chk_twmean(t, y, fs, i1);
    double amp = yf - yi;
    if (!(fabs(amp) > 1e-12 * fmax(fabs(yi), fabs(yf))))
        return EK3_ERANGE;
    r->y_init = yi, r->y_final = yf, r->amplitude = amp;
    /* Reference levels in normalised units u = (y - yi) / amp, rising. */
    double lv[2] = {0.1, 0.9}, *tl[2] = {&r->t10, &r->t90};
    for (int k = 0; k < 2; k++)
        for (size_t i = ia; i <= i1; i++)
            if ((y[i] - yi) / amp >= lv[k]) {
                double level = yi + lv[k] * amp;
                *tl[k] = i > i0 && (y[i - 1] - yi) / amp < lv[k] ? chk_cross(t, y, i, level) : t[i];
                break;
            }
    r->rise_time = r->t90 - r->t10;
    double band = o->band > 0 ? o->band : o->tol * fabs(amp);
    r->band_used = band;
    for (size_t i = ia; i <= i1; i++)
        if (fabs(y[i] - yi) > band) {
            r->t_onset = t[i];
            break;
        }
    size_t ip = ia;
    for (size_t i = ia; i <= i1; i++)
        if ((y[i] - yi) / amp > (y[ip] - yi) / amp)
            ip = i;
    r->peak = y[ip], r->t_peak = t[ip];
    r->overshoot = fmax(0.0, (y[ip] - yf) / amp * 100.0);
    double ref = isnan(o->target) ? yf : o->target;
    r->settle_ref = ref;
    r->settling_time = chk_enter_band(t, y, ia, i1, ref, band, o->at, &r->settled) - o->at;
    if (!isnan(o->target)) {
        r->ss_error = yf - o->target;
        r->ss_error_pct = o->target != 0 ? r->ss_error / fabs(o->target) * 100.0 : NAN;
    }
    return EK3_OK;
}

int chk_ramp(const double *t, const double *y, size_t n, const chk_ramp_opt *o, chk_ramp_fig *r)
{
    if (!r)
        return EK3_EINVAL;
    r->slope = r->intercept = r->r2 = r->max_dev = r->t_max_dev = r->slope_err = NAN;
    if (!o || chk_valid(t, n, y, NULL) || isinf(o->slope) || isinf(o->y_start))
        return EK3_EINVAL;
    size_t i0, i1;
    long m = chk_window(t, n, o->from, o->to, &i0, &i1);
    if (m < 0)
        return (int)m;
    if (m < 2)
        return EK3_ESHORT;
    double xm = 0, ym = 0;
    for (size_t i = i0; i <= i1; i++)
        xm += t[i] - t[i0], ym += y[i];
    xm /= (double)m, ym /= (double)m;
    double sxx = 0, sxy = 0, syy = 0;
    for (size_t i = i0; i <= i1; i++) {
        double dx = t[i] - t[i0] - xm, dy = y[i] - ym;
        sxx += dx * dx, sxy += dx * dy, syy += dy * dy;
    }
    r->slope = sxy / sxx;
    r->intercept = ym - r->slope * xm;
    double sse = 0;
    for (size_t i = i0; i <= i1; i++) {
        double e = y[i] - (r->intercept + r->slope * (t[i] - t[i0]));
        sse += e * e;
    }
    r->r2 = syy > 0 ? 1.0 - sse / syy : 1.0;
    double k = isnan(o->slope) ? r->slope : o->slope;
    double y0 = isnan(o->y_start) ? r->intercept : o->y_start;
    r->slope_err = r->slope - k;
    r->max_dev = -1;
    for (size_t i = i0; i <= i1; i++) {
        double d = fabs(y[i] - (y0 + k * (t[i] - t[i0])));
        if (d > r->max_dev)
            r->max_dev = d, r->t_max_dev = t[i];
    }
    return EK3_OK;
}

/* Least squares of y = a + b exp(-x / tau) over i0..i1 for one tau: the SSE. */
static double chk_fo_sse(const double *t, const double *y, size_t i0, size_t i1, double at, double tau, double *a,
                         double *b)
{
    double m = (double)(i1 - i0 + 1), se = 0, see = 0, sy = 0, sey = 0;
    for (size_t i = i0; i <= i1; i++) {
        double e = exp(-(t[i] - at) / tau);
        se += e, see += e * e, sy += y[i], sey += e * y[i];
    }
    double det = m * see - se * se;
    if (!(det > 0))
        return INFINITY;
    *b = (m * sey - se * sy) / det;
    *a = (sy - *b * se) / m;
    double sse = 0;
    for (size_t i = i0; i <= i1; i++) {
        double e = y[i] - *a - *b * exp(-(t[i] - at) / tau);
        sse += e * e;
    }
    return sse;
}

int chk_first_order(const double *t, const double *y, size_t n, const chk_fo_opt *o, chk_fo_fig *r)
{
    if (!r)
        return EK3_EINVAL;
    r->tau = r->y_final = r->y0 = r->rms_err = r->max_err = r->rel_err = NAN;
    if (!o || chk_valid(t, n, y, NULL) || !isfinite(o->at))
        return EK3_EINVAL;
    size_t i0, i1;
    long m = chk_window(t, n, o->at, o->to, &i0, &i1);
    if (m < 0)
        return (int)m;
    if (m < 4)
        return EK3_ESHORT;
    int flat = 1;
    for (size_t i = i0 + 1; i <= i1; i++)
        flat &= y[i] == y[i0];
    if (flat)
        return EK3_ERANGE;
    double span = t[i1] - o->at, a, b;
    /* Scan log10(tau / span) over [-3, 1], then golden-section search. */
    enum { K = 81 };
    double best = INFINITY, lbest = 0;
    for (int k = 0; k < K; k++) {
        double l = -3.0 + 4.0 * k / (K - 1);
        double s = chk_fo_sse(t, y, i0, i1, o->at, span * pow(10, l), &a, &b);
        if (s < best)
            best = s, lbest = l;
    }
    double lo = lbest - 4.0 / (K - 1), hi = lbest + 4.0 / (K - 1), g = (sqrt(5.0) - 1) / 2;
    double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
    double f1 = chk_fo_sse(t, y, i0, i1, o->at, span * pow(10, x1), &a, &b);
    double f2 = chk_fo_sse(t, y, i0, i1, o->at, span * pow(10, x2), &a, &b);
    for (int it = 0; it < 80; it++) {
        if (f1 < f2)
            hi = x2, x2 = x1, f2 = f1, x1 = hi - g * (hi - lo),
            f1 = chk_fo_sse(t, y, i0, i1, o->at, span * pow(10, x1), &a, &b);
        else
            lo = x1, x1 = x2, f1 = f2, x2 = lo + g * (hi - lo),
            f2 = chk_fo_sse(t, y, i0, i1, o->at, span * pow(10, x2), &a, &b);
    }
    double tau = span * pow(10, 0.5 * (lo + hi));
    double sse = chk_fo_sse(t, y, i0, i1, o->at, tau, &a, &b);
    if (!isfinite(sse))
        return EK3_ERANGE;
    r->tau = tau, r->y_final = a, r->y0 = a + b;
    r->rms_err = sqrt(sse / (double)m);
    r->max_err = 0;
    for (size_t i = i0; i <= i1; i++)
        r->max_err = fmax(r->max_err, fabs(y[i] - a - b * exp(-(t[i] - o->at) / tau)));
    r->rel_err = r->rms_err / fabs(b);
    return EK3_OK;
}

int chk_within(const double *t, const double *y, size_t n, double lo, double hi, double from, double to,
               chk_within_fig *r)
{
    if (!r)
        return EK3_EINVAL;
    *r = (chk_within_fig){.t_first = NAN, .y_first = NAN, .worst = NAN, .t_worst = NAN, .y_min = NAN, .y_max = NAN};
    if (chk_valid(t, n, y, NULL) || isnan(lo) || isnan(hi) || lo > hi)
        return EK3_EINVAL;
    size_t i0, i1;
    long m = chk_window(t, n, from, to, &i0, &i1);
    if (m < 0)
        return (int)m;
    if (m < 1)
        return EK3_ESHORT;
    double wmargin = INFINITY; /* smallest margin to a limit; negative = outside by */
    r->y_min = INFINITY, r->y_max = -INFINITY;
    for (size_t i = i0; i <= i1; i++) {
        double margin = fmin(y[i] - lo, hi - y[i]);
        r->y_min = fmin(r->y_min, y[i]), r->y_max = fmax(r->y_max, y[i]);
        if (margin < 0 && !r->violations++)
            r->t_first = t[i], r->y_first = y[i];
        if (margin < wmargin)
            wmargin = margin, r->worst = y[i], r->t_worst = t[i];
    }
    r->ok = r->violations == 0;
    return EK3_OK;
}

int chk_ripple(const double *t, const double *y, size_t n, double from, double to, chk_ripple_fig *r)
{
    if (!r)
        return EK3_EINVAL;
    r->mean = r->pp = r->rms = r->y_min = r->y_max = NAN;
    if (chk_valid(t, n, y, NULL))
        return EK3_EINVAL;
    size_t i0, i1;
    long m = chk_window(t, n, from, to, &i0, &i1);
    if (m < 0)
        return (int)m;
    if (m < 2)
        return EK3_ESHORT;
    double mean = chk_twmean(t, y, i0, i1), s = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t i = i0; i <= i1; i++)
        lo = fmin(lo, y[i]), hi = fmax(hi, y[i]);
    for (size_t i = i0; i < i1; i++) {
        double a = y[i] - mean, b = y[i + 1] - mean;
        s += 0.5 * (a * a + b * b) * (t[i + 1] - t[i]);
    }
    r->mean = mean, r->y_min = lo, r->y_max = hi, r->pp = hi - lo;
    r->rms = sqrt(s / (t[i1] - t[i0]));
    return EK3_OK;
}

int chk_sharing(const double *i, size_t k, chk_share_fig *r)
{
    if (!r)
        return EK3_EINVAL;
    *r = (chk_share_fig){.mean = NAN, .i_min = NAN, .i_max = NAN, .spread = NAN, .max_dev = NAN, .max_dev_rel = NAN};
    if (!i || !k)
        return EK3_EINVAL;
    double s = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t j = 0; j < k; j++) {
        if (!isfinite(i[j]))
            return EK3_EINVAL;
        s += i[j], lo = fmin(lo, i[j]), hi = fmax(hi, i[j]);
    }
    double mean = s / (double)k;
    if (!(mean > 0))
        return EK3_ERANGE;
    double dev = -1;
    for (size_t j = 0; j < k; j++)
        if (fabs(i[j] - mean) > dev)
            dev = fabs(i[j] - mean), r->worst = j;
    r->mean = mean, r->i_min = lo, r->i_max = hi;
    r->spread = (hi - lo) / mean;
    r->max_dev = dev, r->max_dev_rel = dev / mean;
    return EK3_OK;
}

int chk_delivered(const double *t, const double *p, const double *demand, size_t n, double from, double to,
                  chk_delivery_fig *r)
{
    if (!r)
        return EK3_EINVAL;
    *r = (chk_delivery_fig){NAN, NAN, NAN, NAN, NAN, NAN};
    if (!demand || chk_valid(t, n, p, demand))
        return EK3_EINVAL;
    size_t i0, i1;
    long m = chk_window(t, n, from, to, &i0, &i1);
    if (m < 0)
        return (int)m;
    if (m < 2)
        return EK3_ESHORT;
    double ep = 0, ed = 0, es = 0, smax = -1, tmax = NAN;
    for (size_t i = i0; i <= i1; i++) {
        double sf = fmax(0.0, demand[i] - p[i]);
        if (sf > smax)
            smax = sf, tmax = t[i];
        if (i < i1) {
            double dt = t[i + 1] - t[i];
            ep += 0.5 * (p[i] + p[i + 1]) * dt;
            ed += 0.5 * (demand[i] + demand[i + 1]) * dt;
            es += 0.5 * (sf + fmax(0.0, demand[i + 1] - p[i + 1])) * dt;
        }
    }
    if (!(ed > 0))
        return EK3_ERANGE;
    *r = (chk_delivery_fig){ep, ed, ep / ed, smax, tmax, es};
    return EK3_OK;
}

/* From the first sample at or after `from` where a holds (a != 0) to the
 * first one at or after it where b holds (b != 0, or b == 0 when neg). */
static int chk_interval_of(const double *t, const double *a, const double *b, int neg_a, size_t n, double from,
                           chk_interval_fig *r)
{
    if (!r)
        return EK3_EINVAL;
    *r = (chk_interval_fig){NAN, NAN, NAN, 0};
    if (!b || chk_valid(t, n, a, b) || isinf(from))
        return EK3_EINVAL;
    size_t i = 0;
    while (i < n && !isnan(from) && t[i] < from)
        i++;
    if (i == n)
        return EK3_ESHORT;
    while (i < n && !((a[i] != 0) ^ neg_a))
        i++;
    if (i == n)
        return EK3_OK;
    r->t_start = t[i];
    while (i < n && b[i] == 0)
        i++;
    if (i == n)
        return EK3_OK;
    r->t_end = t[i];
    r->interval = r->t_end - r->t_start;
    r->found = 1;
    return EK3_OK;
}

int chk_trip_latency(const double *t, const double *cond, const double *tripped, size_t n, double from,
                     chk_interval_fig *r)
{
    return chk_interval_of(t, cond, tripped, 0, n, from, r);
}

int chk_restart_time(const double *t, const double *running, size_t n, double from, chk_interval_fig *r)
{
    return chk_interval_of(t, running, running, 1, n, from, r);
}

int chk_dip(const double *t, const double *y, size_t n, const chk_dip_opt *o, chk_dip_fig *r)
{
    if (!r)
        return EK3_EINVAL;
    *r = (chk_dip_fig){NAN, NAN, NAN, NAN, NAN, NAN, NAN, 0};
    if (!o || chk_valid(t, n, y, NULL) || !isfinite(o->at) || !isfinite(o->pre) || !(o->pre > 0) ||
        isinf(o->to) || !isfinite(o->band))
        return EK3_EINVAL;
    size_t p0, p1, i0, i1;
    long mp = chk_window(t, n, o->at - o->pre, o->at, &p0, &p1);
    if (mp < 0)
        return (int)mp;
    if (mp > 0 && t[p1] >= o->at)
        mp--, p1--;
    long m = chk_window(t, n, o->at, o->to, &i0, &i1);
    if (m < 0)
        return (int)m;
    if (mp < 1 || m < 2)
        return EK3_ESHORT;
    double ref = chk_twmean(t, y, p0, p1);
    double band = o->band > 0 ? o->band : 0.02 * fabs(ref);
    if (!(band > 0))
        return EK3_ERANGE;
    size_t im = i0;
    for (size_t i = i0; i <= i1; i++)
        if (y[i] < y[im])
            im = i;
    r->ref = ref, r->y_min = y[im], r->t_min = t[im];
    r->depth = ref - y[im];
    r->depth_pct = ref != 0 ? r->depth / fabs(ref) * 100.0 : NAN;
    r->band_used = band;
    r->recovery = chk_enter_band(t, y, i0, i1, ref, band, o->at, &r->recovered) - o->at;
    return EK3_OK;
}
