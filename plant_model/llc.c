/* llc.c - the LLC power stage, solved exactly from event to event. */
#define _GNU_SOURCE /* sincos */
#include "llc.h"

#include <complex.h>
#include <math.h>
#include <string.h>

#include "ek3_err.h"

#define LLC_BURST_PACKET 16u  /* switching periods per burst packet */
#define LLC_I_IDLE 1e-6       /* A: a floating tank below this is at rest */
#define LLC_E_IDLE 1e-9      /* J: ... and Lm and the rectifier's capacitance hold less */
#define LLC_MAX_ZERO_EVENTS 8 /* events at one instant before we force progress */
#define LLC_T_ZERO 1e-15      /* s: an event this close to the last one is at the same instant */

/* ---- one event interval ------------------------------------------------------
 * Second order: L q'' + R q' + q / C = E0, q(0) = 0, q'(0) = i0.
 * Fourth order (the rectifier off, its junction capacitance Cp reflected
 * to the primary, in parallel with Lm; docs/plant-model.md):
 *   Lr Lm Cp q'''' + R Lm Cp q''' + (Lr + Lm + Lm Cp / C) q'' + R q' + q / C = E0.
 * Either way q = C E0 + sum over the modes of e^{-at} (A cos wt + B sin wt). */

typedef struct seg {
    double L, C, R, E0;
    int nm;                   /* modes: 1 (second order) or 2 (fourth order) */
    double wmax;              /* the fastest mode's angular frequency */
    double a[2], w[2];        /* per mode: decay rate, damped angular frequency */
    double A[2], B[2];        /* q = C E0 + sum e^{-at} (A cos wt + B sin wt) */
    double ic[2], is[2], dc[2], ds[2], ddc[2], dds[2]; /* i, i', i'' in the same form */
} seg;

typedef struct segval {
    double q, i, di, ddi;
} segval;

/* The derivatives' coefficients of mode k from its (A, B). */
static void seg_mode(seg *s, int k)
{
    double a = s->a[k], w = s->w[k];
    s->ic[k] = -a * s->A[k] + w * s->B[k];
    s->is[k] = -a * s->B[k] - w * s->A[k];
    s->dc[k] = -a * s->ic[k] + w * s->is[k];
    s->ds[k] = -a * s->is[k] - w * s->ic[k];
    s->ddc[k] = -a * s->dc[k] + w * s->ds[k];
    s->dds[k] = -a * s->ds[k] - w * s->dc[k];
}

static void seg_setup(seg *s, double L, double C, double R, double E0, double i0)
{
    s->L = L;
    s->C = C;
    s->R = R;
    s->E0 = E0;
    s->nm = 1;
    s->a[0] = R / (2.0 * L);
    double w0sq = 1.0 / (L * C);
    s->w[0] = sqrt(w0sq - s->a[0] * s->a[0]); /* llc_check keeps every mode underdamped */
    s->wmax = s->w[0];
    s->A[0] = -C * E0;
    s->B[0] = (i0 + s->a[0] * s->A[0]) / s->w[0];
    seg_mode(s, 0);
}

/* The fourth-order interval: the loop Lr, R, C (Cr, or Cr in series with
 * the floating node) driven by E0 = vab - vcr, closed through Lm || Cp;
 * vm0 is the voltage across Lm and Cp, ilm0 the magnetizing current. The
 * characteristic polynomial's roots are two complex pairs (llc_check:
 * Cp < Cr / 4 and an underdamped Lr-Cr loop); Newton refines them from
 * the lossless pair, and the modes' amplitudes follow from q and its
 * first three derivatives at 0. */
static void seg_modes4(struct llc_modes *md, double Lr, double C, double R, double Lm, double Cp)
{
    md->C = C;
    md->R = R;
    double c4 = Lr * Lm * Cp, c3 = R * Lm * Cp, c2 = Lr + Lm + Lm * Cp / C, c1 = R, c0 = 1.0 / C;
    /* Lossless: c4 x^2 + c2 x + c0 = 0 in x = s^2, both roots negative. */
    double disc = sqrt(c2 * c2 - 4.0 * c4 * c0), xf = -(c2 + disc) / (2.0 * c4), xs = c0 / (c4 * xf);
    double w0[2] = {sqrt(-xf), sqrt(-xs)};
    for (int k = 0; k < 2; k++) {
        double complex z = I * w0[k];
        for (int it = 0; it < 30; it++) {
            double complex p = (((c4 * z + c3) * z + c2) * z + c1) * z + c0;
            double complex dp = ((4.0 * c4 * z + 3.0 * c3) * z + 2.0 * c2) * z + c1;
            double complex dz = p / dp;
            z -= dz;
            if (cabs(dz) < 1e-15 * cabs(z))
                break;
        }
        md->a[k] = -creal(z);
        md->w[k] = fabs(cimag(z));
    }
}

/* (Lr, Lm and Cp are the module's; C and R change with the bridge's
 * state: the modes of the last two are kept in m.) */
static void seg_setup4(seg *s, struct llc_modes cache[2], uint8_t *next, double Lr, double C, double R, double E0,
                       double i0, double Lm, double Cp, double vm0, double ilm0)
{
    s->L = Lr;
    s->C = C;
    s->R = R;
    s->E0 = E0;
    s->nm = 2;
    int hit = cache[0].C == C && cache[0].R == R ? 0 : cache[1].C == C && cache[1].R == R ? 1 : -1;
    if (hit < 0) {
        hit = *next;
        *next = (uint8_t)(1 - *next);
        seg_modes4(&cache[hit], Lr, C, R, Lm, Cp);
    }
    for (int k = 0; k < 2; k++) {
        s->a[k] = cache[hit].a[k];
        s->w[k] = cache[hit].w[k];
    }
    s->wmax = s->w[0] > s->w[1] ? s->w[0] : s->w[1];
    /* q - C E0 and its derivatives at 0: sum_k A_k Re(l_k^m) + B_k Im(l_k^m),
     * l_k = -a_k + j w_k; row m scaled by wmax^-m. */
    double d2 = (E0 - R * i0 - vm0) / Lr;
    double d[4] = {-C * E0, i0, d2, (-(i0 - ilm0) / Cp - R * d2 - i0 / C) / Lr};
    double M[4][5];
    for (int k = 0; k < 2; k++) {
        double complex l = (-s->a[k] + I * s->w[k]) / s->wmax, lm = 1.0;
        for (int r = 0; r < 4; r++) {
            M[r][2 * k] = creal(lm);
            M[r][2 * k + 1] = cimag(lm);
            lm *= l;
        }
    }
    double sc = 1.0;
    for (int r = 0; r < 4; r++) {
        M[r][4] = d[r] * sc;
        sc /= s->wmax;
    }
    for (int c = 0; c < 4; c++) { /* Gaussian elimination, partial pivoting */
        int piv = c;
        for (int r = c + 1; r < 4; r++)
            if (fabs(M[r][c]) > fabs(M[piv][c]))
                piv = r;
        for (int k = 0; k < 5; k++) {
            double t = M[c][k];
            M[c][k] = M[piv][k];
            M[piv][k] = t;
        }
        for (int r = c + 1; r < 4; r++) {
            double f = M[r][c] / M[c][c];
            for (int k = c; k < 5; k++)
                M[r][k] -= f * M[c][k];
        }
    }
    double x[4];
    for (int r = 3; r >= 0; r--) {
        double v = M[r][4];
        for (int k = r + 1; k < 4; k++)
            v -= M[r][k] * x[k];
        x[r] = v / M[r][r];
    }
    for (int k = 0; k < 2; k++) {
        s->A[k] = x[2 * k];
        s->B[k] = x[2 * k + 1];
        seg_mode(s, k);
    }
}

static segval seg_eval(const seg *s, double t)
{
    segval v = {s->C * s->E0, 0, 0, 0};
    for (int k = 0; k < s->nm; k++) {
        double sn, cs;
        sincos(s->w[k] * t, &sn, &cs);
        double e = exp(-s->a[k] * t);
        v.q += e * (s->A[k] * cs + s->B[k] * sn);
        v.i += e * (s->ic[k] * cs + s->is[k] * sn);
        v.di += e * (s->dc[k] * cs + s->ds[k] * sn);
        v.ddi += e * (s->ddc[k] * cs + s->dds[k] * sn);
    }
    return v;
}

/* Integrals over [0, T] of e^{-pt} cos(wt) and e^{-pt} sin(wt). */
static void expcs_int(double p, double w, double T, double *ic, double *is)
{
    double sn, cs;
    sincos(w * T, &sn, &cs);
    double e = exp(-p * T), d = p * p + w * w;
    *ic = (p - e * (p * cs - w * sn)) / d;
    *is = (w - e * (p * sn + w * cs)) / d;
}

/* Integral of e^{-pt} over [0, T]. */
static double exp_int(double p, double T)
{
    return p * T > 1e-12 ? -expm1(-p * T) / p : T;
}

/* Integral of i^2 and of q over [0, T]. */
static double seg_i2(const seg *s, double T)
{
    double sum = 0;
    for (int k = 0; k < s->nm; k++) {
        double c2, s2;
        expcs_int(2.0 * s->a[k], 2.0 * s->w[k], T, &c2, &s2);
        sum += 0.5 * (s->ic[k] * s->ic[k] + s->is[k] * s->is[k]) * exp_int(2.0 * s->a[k], T) +
               0.5 * (s->ic[k] * s->ic[k] - s->is[k] * s->is[k]) * c2 + s->ic[k] * s->is[k] * s2;
    }
    if (s->nm == 2) { /* twice the cross term: products at the sum and the difference frequency */
        double p = s->a[0] + s->a[1], cm, sm, cp, sp;
        expcs_int(p, s->w[0] - s->w[1], T, &cm, &sm);
        expcs_int(p, s->w[0] + s->w[1], T, &cp, &sp);
        sum += (s->ic[0] * s->ic[1] + s->is[0] * s->is[1]) * cm + (s->ic[0] * s->ic[1] - s->is[0] * s->is[1]) * cp +
               (s->ic[0] * s->is[1] + s->is[0] * s->ic[1]) * sp + (s->is[0] * s->ic[1] - s->ic[0] * s->is[1]) * sm;
    }
    return sum;
}

static double seg_qint(const seg *s, double T)
{
    double sum = s->C * s->E0 * T;
    for (int k = 0; k < s->nm; k++) {
        double c1, s1;
        expcs_int(s->a[k], s->w[k], T, &c1, &s1);
        sum += s->A[k] * c1 + s->B[k] * s1;
    }
    return sum;
}

/* The voltage across Lm || Cp and the magnetizing current of a fourth-
 * order interval (the loop equation and Cp vm' = i - ilm). */
static double seg_vm(const seg *s, const segval *v)
{
    return s->E0 - s->L * v->di - s->R * v->i - v->q / s->C;
}

static double seg_ilm(const seg *s, const segval *v, double cp)
{
    return v->i + cp * (s->L * v->ddi + s->R * v->di + v->i / s->C);
}

/* ---- event functions: f = k0 + kt t + kq q + ki i + kd i' ------------------ */

typedef struct evfn {
    double k0, kt, kq, ki, kd;
    double tol;
    int id;
    double dtol; /* a slope below -dtol at 0 is leaving now (0: 1e3 tol) */
} evfn;

static double ev_f(const evfn *f, double t, const segval *v)
{
    return f->k0 + f->kt * t + f->kq * v->q + f->ki * v->i + f->kd * v->di;
}

static double ev_df(const evfn *f, const segval *v)
{
    return f->kt + f->kq * v->i + f->ki * v->di + f->kd * v->ddi;
}

/* Refine a root of f in [lo, hi], f(lo) > 0 >= f(hi): Newton, kept in
 * the bracket, bisection when it leaves it. Returns a time where f <= 0. */
static double ev_refine(const seg *s, const evfn *f, double lo, double hi, double conv)
{
    double t = 0.5 * (lo + hi);
    for (int it = 0; it < 60 && hi - lo > 1e-14; it++) {
        segval v = seg_eval(s, t);
        double y = ev_f(f, t, &v);
        if (y > 0)
            lo = t;
        else
            hi = t;
        if (fabs(y) < f->tol * conv)
            return t; /* converged (either side, within tolerance) */
        double d = ev_df(f, &v), tn = d != 0 ? t - y / d : 0.5 * (lo + hi);
        t = (tn > lo && tn < hi) ? tn : 0.5 * (lo + hi);
    }
    return hi;
}

/* Earliest t in [0, T] where one of the functions goes below zero.
 * Returns T + 1 when none does; *which gets the function's id. */
static double ev_first(const seg *s, const evfn *fs, int nf, double T, int *which, double conv)
{
    double best = T + 1.0;
    if (nf == 0)
        return best;
    segval v0 = seg_eval(s, 0);
    double h = 1.5707963267948966 / s->wmax; /* a quarter of the fastest resonant period */
    double ns = ceil(T / h);                 /* llc_check bounds wmax; the clamp keeps the cast defined */
    int steps = ns < 1 ? 1 : ns > 1e7 ? 10000000 : (int)ns;
    h = T / steps;
    double yp[4], dp[4];
    for (int j = 0; j < nf; j++) {
        const evfn *f = &fs[j];
        yp[j] = ev_f(f, 0, &v0);
        dp[j] = ev_df(f, &v0);
        double dtol = f->dtol > 0 ? f->dtol : 1e3 * f->tol;
        if (yp[j] < -f->tol || (yp[j] <= f->tol && dp[j] < -dtol)) { /* already over, or leaving now */
            *which = f->id;
            return 0;
        }
    }
    /* The samples are shared by the functions; each mode's e^{-at} and
     * (cos wt, sin wt) advance by one rotation per sample. */
    double rc[2], rs[2], re[2], cc[2] = {1, 1}, ss[2] = {0, 0}, ee[2] = {1, 1};
    for (int k = 0; k < s->nm; k++) {
        sincos(s->w[k] * h, &rs[k], &rc[k]);
        re[k] = exp(-s->a[k] * h);
    }
    for (int k = 1; k <= steps; k++) {
        double t = k == steps ? T : k * h, tp = (k - 1) * h;
        segval v = {s->C * s->E0, 0, 0, 0};
        for (int m = 0; m < s->nm; m++) {
            double c = cc[m] * rc[m] - ss[m] * rs[m], sn = ss[m] * rc[m] + cc[m] * rs[m];
            cc[m] = c, ss[m] = sn, ee[m] *= re[m];
            double e = ee[m];
            v.q += e * (s->A[m] * c + s->B[m] * sn);
            v.i += e * (s->ic[m] * c + s->is[m] * sn);
            v.di += e * (s->dc[m] * c + s->ds[m] * sn);
            v.ddi += e * (s->ddc[m] * c + s->dds[m] * sn);
        }
        for (int j = 0; j < nf; j++) {
            const evfn *f = &fs[j];
            double y = ev_f(f, t, &v), d = ev_df(f, &v);
            double root = -1;
            if (y <= 0) {
                root = ev_refine(s, f, tp, t, conv);
            } else if (dp[j] < 0 && d > 0) { /* a minimum between samples: does it dip? */
                /* With two modes, skip minima that the cubic through the
                 * samples keeps well above zero. */
                int look = 1;
                if (s->nm == 2) {
                    double y0 = yp[j], y1 = y, m0 = dp[j] * h, m1 = d * h, lo = y0;
                    for (int g = 1; g < 8; g++) {
                        double x = g / 8.0, x2 = x * x, x3 = x2 * x;
                        double hv = (2 * x3 - 3 * x2 + 1) * y0 + (x3 - 2 * x2 + x) * m0 + (-2 * x3 + 3 * x2) * y1 +
                                    (x3 - x2) * m1;
                        if (hv < lo)
                            lo = hv;
                    }
                    look = lo < 0.25 * (y0 < y1 ? y0 : y1);
                }
                if (look) {
                    double lo = tp, hi = t;
                    for (int it = 0, nit = s->nm == 2 ? 24 : 40; it < nit; it++) {
                        double m = 0.5 * (lo + hi);
                        segval vm = seg_eval(s, m);
                        if (ev_df(f, &vm) < 0)
                            lo = m;
                        else
                            hi = m;
                    }
                    segval vm = seg_eval(s, lo);
                    if (lo > tp && ev_f(f, lo, &vm) <= 0) /* (a minimum at tp = 0 is where it starts) */
                        root = ev_refine(s, f, tp, lo, conv);
                }
            }
            if (root >= 0 && root < best) {
                best = root;
                *which = f->id;
            }
            yp[j] = y, dp[j] = d;
        }
        if (best <= T)
            break; /* the earliest root lies in this sample interval */
    }
    return best;
}

/* ---- the circuit -------------------------------------------------------------- */

double llc_coss_tr(const llc_params *p, double v)
{
    if (v <= 0)
        return p->coss0;
    double a = 1.0 - p->coss_m;
    return p->coss0 * p->coss_vj / (a * v) * (pow(1.0 + v / p->coss_vj, a) - 1.0);
}

double llc_coss_er(const llc_params *p, double v)
{
    if (v <= 0)
        return p->coss0;
    /* (2 / v^2) * integral of C(u) u du, Simpson on a grid fine near 0. */
    int n = 2000;
    double sum = 0;
    for (int k = 0; k <= n; k++) {
        double x = (double)k / n, u = v * x * x, du = 2.0 * v * x; /* u = v x^2 */
        double f = p->coss0 / pow(1.0 + u / p->coss_vj, p->coss_m) * u * du;
        sum += f * (k == 0 || k == n ? 1 : (k % 2 ? 4 : 2));
    }
    return 2.0 / (v * v) * sum / (3.0 * n);
}

double llc_rds(const llc_params *p, double tj)
{
    return p->rds25 * (1.0 + p->rds_tc * (tj - 25.0));
}

static double llc_cnode(const llc *m)
{
    /* Full bridge: two legs of 2 Coss each, in series as the tank sees them. */
    return m->cmd.half_bridge ? 2.0 * m->co_tr : m->co_tr;
}

static double llc_rail_v(const llc *m, int rail)
{
    if (m->cmd.half_bridge)
        return rail > 0 ? m->p.vdc : 0.0;
    return rail > 0 ? m->p.vdc : -m->p.vdc;
}

/* The rectifier's clamp on the primary with the output at vo. */
static double llc_clamp_at(const llc *m, double vo)
{
    return m->p.n * (vo + 2.0 * m->p.vf);
}

static double llc_clamp_v(const llc *m)
{
    return llc_clamp_at(m, m->vo);
}

int llc_check(const llc_params *p, const char **bad)
{
    const char *b = NULL;
    if (!(p->vdc > 0 && p->vdc < 2000)) b = "vdc";
    else if (!(p->lr > 0)) b = "lr";
    else if (!(p->cr > 0)) b = "cr";
    else if (!(p->lm > p->lr)) b = "lm";
    else if (!(p->n > 0)) b = "n";
    else if (!(p->cout > 0)) b = "cout";
    else if (!(p->coss0 > 0)) b = "coss0";
    else if (!(p->coss_vj > 0)) b = "coss_vj";
    else if (!(p->coss_m >= 0 && p->coss_m < 1)) b = "coss_m";
    else if (!(p->rds25 > 0)) b = "rds25";
    else if (!(p->rds_tc >= 0)) b = "rds_tc";
    else if (!(p->vsd >= 0)) b = "vsd";
    else if (!(p->eoff_a >= 0)) b = "eoff_a";
    else if (!(p->eoff_b >= 0)) b = "eoff_b";
    else if (!(p->r_lr >= 0)) b = "r_lr";
    else if (!(p->r_pri >= 0)) b = "r_pri";
    else if (!(p->r_sec >= 0)) b = "r_sec";
    else if (!(p->fr_ac >= 1)) b = "fr_ac";
    else if (!(p->vf >= 0)) b = "vf";
    else if (!(p->core_k >= 0)) b = "core_k";
    else if (!(p->core_alpha > 1 && p->core_alpha < 3)) b = "core_alpha";
    else if (!(p->core_beta > p->core_alpha && p->core_beta < 4)) b = "core_beta";
    else if (!(p->core_ae > 0)) b = "core_ae";
    else if (!(p->core_ve > 0)) b = "core_ve";
    else if (!(p->np >= 1)) b = "np";
    else if (!(p->cj == 0 || (p->cj / (p->n * p->n) >= LLC_CP_MIN && p->cj / (p->n * p->n) < 0.25 * p->cr))) b = "cj";
    else {
        /* Every conduction mode must be underdamped. */
        double rmax = 4.0 * p->rds25 * (1.0 + p->rds_tc * 175.0) + (p->r_lr + p->r_pri) * p->fr_ac;
        if (rmax * rmax >= 4.0 * p->lr / p->cr)
            b = "r_lr";
    }
    if (bad)
        *bad = b;
    return b ? EK3_ERANGE : EK3_OK;
}

void llc_init(llc *m, const llc_params *p, double vo0)
{
    memset(m, 0, sizeof *m);
    m->p = *p;
    m->vo = vo0;
    m->bridge = LLC_IDLE;
    m->rail = 1;
    m->tj_a = m->tj_b = 25.0;
    m->cmd.fsw = 200e3;
    m->cmd.deadtime = 300e-9;
    m->cmd.burst = 1.0;
    m->next_cmd = m->cmd;
    m->rload = -1;
    /* iGSE: ki = k / ((2 pi)^(alpha-1) * int_0^2pi |cos|^alpha d theta * 2^(beta-alpha)) */
    double a = p->core_alpha, b = p->core_beta, sum = 0;
    for (int j = 0; j < 1024; j++)
        sum += pow(fabs(cos((j + 0.5) * 6.283185307179586 / 1024)), a);
    sum *= 6.283185307179586 / 1024;
    m->core_ki = p->core_k / (pow(6.283185307179586, a - 1) * sum * pow(2, b - a));
    m->co_tr = llc_coss_tr(p, p->vdc);
    m->co_er = llc_coss_er(p, p->vdc);
    m->cp = p->cj / (p->n * p->n);
}

int llc_command(llc *m, const llc_cmd *c)
{
    if (!(c->fsw > 0 && c->fsw <= 2e6) || !(c->deadtime >= 0 && c->deadtime < 0.25 / c->fsw) ||
        !(c->burst >= 0 && c->burst <= 1))
        return EK3_ERANGE;
    m->next_cmd = *c;
    if (m->bridge == LLC_IDLE && !m->cmd.enable) { /* at rest: no period to finish */
        m->cmd = *c;
        m->tp = 0;
        m->phase = 0;
    }
    return EK3_OK;
}

double llc_stored(const llc *m)
{
    double e = 0.5 * m->p.lr * m->i * m->i + 0.5 * m->p.cr * m->vcr * m->vcr + 0.5 * m->p.lm * m->ilm * m->ilm +
               0.5 * m->p.cout * m->vo * m->vo + 0.5 * m->cp * m->vm * m->vm;
    if (m->bridge != LLC_IDLE)
        e += 0.5 * llc_cnode(m) * m->vab * m->vab;
    else
        e += 0.5 * llc_cnode(m) * m->vab * m->vab;
    return e;
}

llc_acc llc_take(llc *m)
{
    llc_acc a = m->acc;
    memset(&m->acc, 0, sizeof m->acc);
    return a;
}

/* Is the bridge switching in this period (enable, burst packet)? */
static int llc_on(const llc *m)
{
    if (!m->cmd.enable || m->cmd.burst <= 0)
        return 0;
    unsigned on = (unsigned)lround(m->cmd.burst * LLC_BURST_PACKET);
    if (on == 0)
        on = 1;
    return m->burst_k < on;
}

/* Time of the end of the current phase, from the period start. */
static double llc_phase_end(const llc *m)
{
    double T = 1.0 / m->cmd.fsw, td = m->cmd.deadtime;
    switch (m->phase) {
    case 0: return td;
    case 1: return 0.5 * T;
    case 2: return 0.5 * T + td;
    default: return T;
    }
}

/* A switch pair turns off carrying current i: its turn-off energy (the
 * datasheet's Eoff at 800 V, scaled to vdc), charged to the input. */
static void llc_turn_off(llc *m)
{
    if (m->bridge != LLC_DRIVEN)
        return;
    /* Inductive turn-off: the current keeps the node moving away from the rail. */
    double i = m->rail > 0 ? m->i : -m->i;
    m->acc.edges++;
    if (i > 0) {
        double e = (m->p.eoff_a * i + m->p.eoff_b * i * i) * m->p.vdc / 800.0;
        m->acc.e_off_a += e;
        m->acc.e_in += e;
        if (!m->cmd.half_bridge) {
            m->acc.e_off_b += e;
            m->acc.e_in += e;
        }
    }
    m->bridge = LLC_FLOAT;
}

/* The incoming switches turn on at the end of a dead time. */
static void llc_turn_on(llc *m, int rail)
{
    double rv = llc_rail_v(m, rail), c = llc_cnode(m);
    double v = m->bridge == LLC_FLOAT || m->bridge == LLC_IDLE ? m->vab : llc_rail_v(m, m->rail);
    if (m->bridge == LLC_CLAMPED && m->rail == rail)
        v = rv; /* zero-voltage switching: the body diode already conducts */
    double dv = rv - v;
    if (fabs(dv) > 0.05 * m->p.vdc)
        m->acc.hard_edges++;
    /* The node snaps to the rail: the source gives rv*c*dv and c*dv^2/2
     * is lost in the channels (c the time-related Coss that moves the
     * node); the energy-related Coss says how much more or less the real
     * nonlinear capacitance dissipates, charged to the input. */
    double cer = m->cmd.half_bridge ? 2.0 * m->co_er : m->co_er;
    double loss = 0.5 * c * dv * dv, extra = 0.5 * (cer - c) * dv * dv;
    m->acc.e_in += rv * c * dv + extra;
    loss += extra;
    if (m->cmd.half_bridge) {
        m->acc.e_off_a += loss;
    } else {
        m->acc.e_off_a += 0.5 * loss;
        m->acc.e_off_b += 0.5 * loss;
    }
    m->vab = rv;
    m->rail = (int8_t)rail;
    m->bridge = LLC_DRIVEN;
}

/* Core loss by iGSE over one switching period, from the magnetizing
 * voltage integral and the flux swing. */
static void llc_core_period(llc *m, double T)
{
    const llc_params *p = &m->p;
    double na = p->np * p->core_ae;
    double dB = p->lm * (m->ilm_max - m->ilm_min) / na;
    if (dB > 0 && m->lm_int > 0) {
        double a = p->core_alpha, b = p->core_beta;
        double e = m->core_ki * pow(dB, b - a) * (m->lm_int / pow(na, a)) * p->core_ve;
        m->acc.e_xfmr += e;
        m->acc.e_in += e;
    }
    (void)T;
    m->lm_int = 0;
    m->ilm_min = m->ilm_max = m->ilm;
}

/* Build the interval's circuit and its event functions; a conducting
 * rectifier clamps the primary to the output voltage vo_c (the output's
 * mean over the interval, llc_run). */
static int llc_setup(llc *m, seg *s, evfn *fs, double *rsum, double vo_c)
{
    const llc_params *p = &m->p;
    double L = p->lr, C = p->cr, R = (p->r_lr + p->r_pri) * p->fr_ac;
    double vab = m->vab, vs = 0;
    int nf = 0;
    int nd = m->cmd.half_bridge ? 1 : 2;
    if (m->bridge == LLC_DRIVEN) {
        R += llc_rds(p, m->tj_a) + llc_rds(p, m->tj_b);
        vab = llc_rail_v(m, m->rail);
    } else if (m->bridge == LLC_CLAMPED) {
        vab = llc_rail_v(m, m->rail) + m->rail * nd * p->vsd;
    } else if (m->bridge == LLC_FLOAT) {
        double cn = llc_cnode(m);
        C = 1.0 / (1.0 / p->cr + 1.0 / cn);
    }
    int four = m->rect == 0 && m->cp > 0 && m->bridge != LLC_IDLE;
    if (m->rect != 0)
        vs = m->rect * llc_clamp_at(m, vo_c);
    else if (!four)
        L += p->lm;
    if (four)
        seg_setup4(s, m->modes, &m->modes_next, L, C, R, vab - m->vcr, m->i, p->lm, m->cp, m->vm, m->ilm);
    else
        seg_setup(s, L, C, R, vab - m->vcr - vs, m->i);
    *rsum = R;
    if (m->bridge == LLC_IDLE)
        return 0;
    double clamp = llc_clamp_v(m);
    if (m->rect > 0) /* rectifier current i - ilm reaches zero */
        fs[nf++] = (evfn){-m->ilm, -vs / p->lm, 0, 1, 0, 1e-9, 1, 0};
    else if (m->rect < 0)
        fs[nf++] = (evfn){m->ilm, vs / p->lm, 0, -1, 0, 1e-9, 1, 0};
    else if (four) { /* vm = E0 - Lr i' - R i - q / C reaches +-clamp: the diodes conduct */
        /* At the start vm' = (i - ilm) / Cp comes out of a sum of terms of
         * order i / C: a slope under 1e-6 of that is rounding, not leaving. */
        double E0 = s->E0, dtol = 1e-6 * fabs(m->i) / s->C + 1e-3;
        fs[nf++] = (evfn){clamp - E0, 0, 1.0 / s->C, R, L, 1e-6, 2, dtol};
        fs[nf++] = (evfn){clamp + E0, 0, -1.0 / s->C, -R, -L, 1e-6, 3, dtol};
    } else { /* the magnetizing voltage Lm di/dt reaches +-clamp */
        fs[nf++] = (evfn){clamp, 0, 0, 0, -p->lm, 1e-6, 2, 0};
        fs[nf++] = (evfn){clamp, 0, 0, 0, p->lm, 1e-6, 3, 0};
    }
    if (m->bridge == LLC_FLOAT) { /* the node reaches a rail */
        double cn = llc_cnode(m);
        fs[nf++] = (evfn){llc_rail_v(m, 1) - m->vab, 0, 1.0 / cn, 0, 0, 1e-6, 4, 0};
        fs[nf++] = (evfn){m->vab - llc_rail_v(m, -1), 0, -1.0 / cn, 0, 0, 1e-6, 5, 0};
    } else if (m->bridge == LLC_CLAMPED) { /* the body diodes stop conducting */
        fs[nf++] = (evfn){0, 0, 0, m->rail > 0 ? -1.0 : 1.0, 0, 1e-9, 6, 0};
    }
    return nf;
}

/* The charge a conducting rectifier moves into the output over tau with
 * the primary clamped at vs: n * integral of (i - ilm), ilm rising at vs / Lm. */
static double llc_rect_q(const llc *m, const seg *s, double tau, double vs)
{
    double k = vs / m->p.lm, qlm = m->ilm * tau + 0.5 * k * tau * tau;
    return m->p.n * m->rect * (seg_eval(s, tau).q - qlm);
}

/* The output voltage after charge qo over tau into Cout || R (exact for
 * a constant current), or into a voltage source. */
static double llc_vo_next(const llc *m, double qo, double tau)
{
    if (m->vo_fixed)
        return m->vo;
    if (m->rload > 0) {
        double T = m->rload * m->p.cout, vinf = m->rload * qo / tau;
        return vinf + (m->vo - vinf) * exp(-tau / T);
    }
    return m->vo + qo / m->p.cout;
}

/* Advance the state by tau along the interval's solution (vo_c as for
 * llc_setup). */
static void llc_advance(llc *m, const seg *s, double tau, double R, double vo_c)
{
    const llc_params *p = &m->p;
    if (tau <= 0)
        return;
    if (m->bridge == LLC_IDLE) {
        s = NULL;
    }
    double Q = 0, I2 = 0, i1 = 0;
    if (s) {
        segval v = seg_eval(s, tau);
        Q = v.q;
        i1 = v.i;
        I2 = seg_i2(s, tau);
    }
    double i0 = m->i, ilm0 = m->ilm;
    /* Energy from the DC link, conduction and diode losses. */
    int nd = m->cmd.half_bridge ? 1 : 2;
    if (m->bridge == LLC_DRIVEN) {
        m->acc.e_in += llc_rail_v(m, m->rail) * Q;
        m->acc.e_cond_a += llc_rds(p, m->tj_a) * I2;
        m->acc.e_cond_b += llc_rds(p, m->tj_b) * I2;
    } else if (m->bridge == LLC_CLAMPED) {
        m->acc.e_in += llc_rail_v(m, m->rail) * Q;
        double d = p->vsd * fabs(Q);
        m->acc.e_cond_a += d;
        if (nd == 2)
            m->acc.e_cond_b += d;
        else
            m->acc.e_cond_b += 0;
    }
    m->acc.e_lr += p->r_lr * p->fr_ac * I2;
    m->acc.e_xfmr += p->r_pri * p->fr_ac * I2;
    m->acc.i_rms2 += I2;
    (void)R;
    /* Rectifier and output. */
    double qo = 0;
    if (m->rect != 0) {
        double vs = m->rect * llc_clamp_at(m, vo_c), k = vs / p->lm;
        qo = llc_rect_q(m, s, tau, vs);
        m->acc.e_rect += 2.0 * p->vf * qo;
        /* Secondary copper: r_sec * n^2 * integral (i - ilm)^2. */
        double ti = tau * Q - seg_qint(s, tau); /* integral of t i */
        double iilm = ilm0 * Q + k * ti;
        double ilm2 = ilm0 * ilm0 * tau + ilm0 * k * tau * tau + k * k * tau * tau * tau / 3.0;
        double sec2 = I2 - 2.0 * iilm + ilm2;
        double e = p->r_sec * p->fr_ac * p->n * p->n * (sec2 > 0 ? sec2 : 0);
        m->acc.e_xfmr += e;
        m->acc.e_in += e;
        m->lm_int += pow(fabs(vs), p->core_alpha) * tau;
        m->ilm = ilm0 + k * tau;
    } else if (s && s->nm == 2) {
        /* The rectifier's capacitance swinging: vm and ilm from the loop,
         * the core's integral by 2-point Gauss-Legendre on pieces of at
         * most a quarter of the fastest mode's period. */
        static const double gx[2] = {0.2113248654051871, 0.7886751345948129};
        double nq = ceil(tau * s->wmax / 1.5707963267948966);
        int np = nq < 1 ? 1 : nq > 64 ? 64 : (int)nq;
        double h = tau / np;
        for (int k = 0; k < np; k++)
            for (int g = 0; g < 2; g++) {
                segval v = seg_eval(s, (k + gx[g]) * h);
                double il = seg_ilm(s, &v, m->cp);
                m->lm_int += 0.5 * h * pow(fabs(seg_vm(s, &v)), p->core_alpha);
                if (il < m->ilm_min) m->ilm_min = il;
                if (il > m->ilm_max) m->ilm_max = il;
            }
        segval v = seg_eval(s, tau);
        m->ilm = seg_ilm(s, &v, m->cp);
        m->vm = seg_vm(s, &v);
    } else if (s) {
        /* Magnetizing voltage Lm di/dt, by 2-point Gauss-Legendre (an
         * interval is under a quarter of the resonant period). */
        static const double gx[2] = {0.2113248654051871, 0.7886751345948129};
        static const double gw[2] = {0.5, 0.5};
        for (int g = 0; g < 2; g++) {
            segval v = seg_eval(s, gx[g] * tau);
            m->lm_int += gw[g] * tau * pow(fabs(p->lm * v.di), p->core_alpha);
            if (v.i < m->ilm_min) m->ilm_min = v.i;
            if (v.i > m->ilm_max) m->ilm_max = v.i;
        }
        m->ilm = i1;
    }
    if (m->ilm < m->ilm_min) m->ilm_min = m->ilm;
    if (m->ilm > m->ilm_max) m->ilm_max = m->ilm;
    if (s) {
        m->i = i1;
        m->vcr += Q / p->cr;
        if (m->bridge == LLC_FLOAT)
            m->vab -= Q / llc_cnode(m);
    }
    if (fabs(m->i) > m->ilr_pk_period)
        m->ilr_pk_period = fabs(m->i);
    if (fabs(m->i) > m->acc.i_pk)
        m->acc.i_pk = fabs(m->i);
    (void)i0;
    /* The output node: charge qo over tau into Cout || R, or into a
     * voltage source; it took the charge at vo_c. */
    m->acc.e_out += vo_c * qo;
    m->acc.q_out += qo;
    if (m->vo_fixed) {
        m->acc.e_load += m->vo * qo;
    } else if (m->rload > 0) {
        double T = m->rload * p->cout, vinf = m->rload * qo / tau, d0 = m->vo - vinf;
        double e1 = exp_int(1.0 / T, tau), e2 = exp_int(2.0 / T, tau);
        m->acc.e_load += (vinf * vinf * tau + 2.0 * vinf * d0 * e1 + d0 * d0 * e2) / m->rload;
    }
    m->vo = llc_vo_next(m, qo, tau);
    if (m->rect != 0)
        m->vm = m->rect * llc_clamp_v(m);
    m->acc.t += tau;
    m->t += tau;
    m->tp += tau;
}

static int llc_on(const llc *m);

/* A floating tank with no current and the rectifier off is at rest when
 * the bridge has stopped switching (disabled, burst off), or when the
 * magnetizing inductance and the rectifier's capacitance hold next to
 * nothing either (LLC_E_IDLE). */
static int llc_quiet(const llc *m)
{
    if (m->bridge != LLC_FLOAT || m->rect != 0 || fabs(m->i) >= LLC_I_IDLE)
        return 0;
    return m->cp <= 0 || !llc_on(m) || 0.5 * m->p.lm * m->ilm * m->ilm + 0.5 * m->cp * m->vm * m->vm < LLC_E_IDLE;
}

/* Come to rest: what Lm and the rectifier's capacitance still hold is
 * counted as lost in the transformer (where that ringing is damped). */
static void llc_rest(llc *m)
{
    double e = 0.5 * m->p.lm * m->ilm * m->ilm + 0.5 * m->cp * m->vm * m->vm;
    if (m->cp > 0)
        m->acc.e_xfmr += e;
    m->i = 0;
    m->ilm = 0;
    m->vm = 0;
    m->bridge = LLC_IDLE;
}

/* Apply the event the interval ended on. */
static void llc_event(llc *m, int which)
{
    switch (which) {
    case 1: /* rectifier current zero */
        m->vm = m->rect * llc_clamp_v(m);
        m->rect = 0;
        m->ilm = m->i;
        break;
    case 2:
        m->rect = 1;
        m->vm = llc_clamp_v(m);
        break;
    case 3:
        m->rect = -1;
        m->vm = -llc_clamp_v(m);
        break;
    case 4: /* node at the upper rail: its diodes conduct */
        m->bridge = LLC_CLAMPED;
        m->rail = 1;
        m->vab = llc_rail_v(m, 1);
        break;
    case 5:
        m->bridge = LLC_CLAMPED;
        m->rail = -1;
        m->vab = llc_rail_v(m, -1);
        break;
    case 6: /* the diodes stop: the node floats */
        m->bridge = LLC_FLOAT;
        m->vab = llc_rail_v(m, m->rail);
        break;
    default:
        break;
    }
    /* A floating tank with no current and the rectifier off is at rest:
     * the node's ringing with Coss is damped and its energy lost. */
    if (llc_quiet(m)) {
        double c = llc_cnode(m), dv = m->vab - m->vcr;
        (void)dv;
        llc_rest(m);
        (void)c;
    }
}

/* The PWM schedule: what happens at the end of the current phase. */
static void llc_phase_step(llc *m)
{
    double T = 1.0 / m->cmd.fsw;
    int on = llc_on(m);
    switch (m->phase) {
    case 0: /* end of the dead time toward + */
        if (on)
            llc_turn_on(m, 1);
        m->phase = 1;
        break;
    case 1:
        llc_turn_off(m);
        m->phase = 2;
        break;
    case 2:
        if (on)
            llc_turn_on(m, -1);
        m->phase = 3;
        break;
    default: /* end of the period */
        llc_turn_off(m);
        llc_core_period(m, T);
        m->acc.periods++;
        m->cmd = m->next_cmd;
        m->burst_k = (m->burst_k + 1) % LLC_BURST_PACKET;
        m->tp = 0;
        m->phase = 0;
        m->ilr_pk_period = 0;
        break;
    }
    if (!on && llc_quiet(m))
        llc_rest(m);
}

/* The index of the last sample due at time t: within a millionth of a
 * sample of a multiple is at it. */
static double llc_due(double t, double dt)
{
    return floor(t / dt + 1e-6);
}

void llc_run(llc *m, double t_end, double sample_dt, void (*fn)(void *ctx, const llc *m), void *ctx)
{
    int zero_events = 0;
    /* Samples at the multiples k sample_dt, k counted (a sum of sample_dt
     * drifts): the first after the samples taken up to m->t (llc_due). */
    double ks = sample_dt > 0 ? llc_due(m->t, sample_dt) + 1 : 0;
    double next_sample = sample_dt > 0 ? ks * sample_dt : 1e300;
    if (sample_dt > 0 && fn && m->t == 0)
        fn(ctx, m);
    while (m->t < t_end - 1e-15) {
        double to_phase = llc_phase_end(m) - m->tp;
        if (to_phase < 0)
            to_phase = 0;
        double limit = to_phase, to_end = t_end - m->t, to_sample = next_sample - m->t;
        int stop = 0; /* 0 phase, 1 end, 2 sample */
        if (to_end < limit)
            limit = to_end, stop = 1;
        if (to_sample < limit)
            limit = to_sample, stop = 2;
        seg s;
        evfn fs[4];
        double R, vo_c = m->vo;
        int nf = llc_setup(m, &s, fs, &R, vo_c);
        if (m->rect != 0 && nf > 0 && !m->vo_fixed && limit > 1e-13) {
            /* The output moves while the rectifier conducts: clamp at its
             * mean over the interval (the midpoint rule; held at its
             * start, the result followed where the steps end), from a
             * first pass at the start's value that looks only for the
             * rectifier's current zero (fs[0]), to a looser tolerance. */
            int w = 0;
            double te = ev_first(&s, fs, 1, limit, &w, 1e6), tau = te <= limit ? te : limit;
            if (tau > LLC_T_ZERO) {
                double vs = m->rect * llc_clamp_at(m, vo_c);
                vo_c = 0.5 * (m->vo + llc_vo_next(m, llc_rect_q(m, &s, tau, vs), tau));
                nf = llc_setup(m, &s, fs, &R, vo_c);
            }
        }
        if (limit > 1e-13) {
            int which = 0;
            double te = ev_first(&s, fs, nf, limit, &which, 1e-3);
            if (te <= limit) {
                if (te <= LLC_T_ZERO && ++zero_events > LLC_MAX_ZERO_EVENTS) {
                    /* Chattering between two modes at one instant: let time pass. */
                    llc_advance(m, &s, limit < 1e-10 ? limit : 1e-10, R, vo_c);
                    zero_events = 0;
                    continue;
                }
                llc_advance(m, &s, te, R, vo_c);
                llc_event(m, which);
                m->events++;
                if (te > LLC_T_ZERO)
                    zero_events = 0;
                continue;
            }
        }
        zero_events = 0;
        llc_advance(m, &s, limit, R, vo_c);
        if (stop == 0)
            llc_phase_step(m);
        else if (stop == 2) {
            if (fn)
                fn(ctx, m);
            next_sample = ++ks * sample_dt;
        }
    }
    /* A sample due at the end within rounding (t_end a sum of steps: 300
     * us may be 299.99999999999997 us) is taken here, by the rule the
     * next call starts from: none lost, none twice. */
    if (sample_dt > 0 && ks <= llc_due(m->t, sample_dt)) {
        if (fn)
            fn(ctx, m);
    }
}
