/* llc.c - the LLC power stage, solved exactly from event to event. */
#define _GNU_SOURCE /* sincos */
#include "llc.h"

#include <math.h>
#include <string.h>

#include "ek3_err.h"

#define LLC_BURST_PACKET 16u  /* switching periods per burst packet */
#define LLC_I_IDLE 1e-6       /* A: a floating tank below this is at rest */
#define LLC_MAX_ZERO_EVENTS 8 /* events at one instant before we force progress */

/* ---- one event interval: L q'' + R q' + q / C = E0, q(0) = 0, q'(0) = i0 ---- */

typedef struct seg {
    double L, C, R, E0;
    double a, w;              /* decay rate, damped angular frequency */
    double A, B;              /* q = C E0 + e^{-at} (A cos wt + B sin wt) */
    double ic, is, dc, ds, ddc, dds; /* i, i', i'' in the same form */
} seg;

typedef struct segval {
    double q, i, di, ddi;
} segval;

static void seg_setup(seg *s, double L, double C, double R, double E0, double i0)
{
    s->L = L;
    s->C = C;
    s->R = R;
    s->E0 = E0;
    s->a = R / (2.0 * L);
    double w0sq = 1.0 / (L * C);
    s->w = sqrt(w0sq - s->a * s->a); /* llc_check keeps every mode underdamped */
    s->A = -C * E0;
    s->B = (i0 + s->a * s->A) / s->w;
    s->ic = -s->a * s->A + s->w * s->B;
    s->is = -s->a * s->B - s->w * s->A;
    s->dc = -s->a * s->ic + s->w * s->is;
    s->ds = -s->a * s->is - s->w * s->ic;
    s->ddc = -s->a * s->dc + s->w * s->ds;
    s->dds = -s->a * s->ds - s->w * s->dc;
}

static segval seg_eval(const seg *s, double t)
{
    double sn, cs;
    sincos(s->w * t, &sn, &cs);
    double e = exp(-s->a * t);
    segval v;
    v.q = s->C * s->E0 + e * (s->A * cs + s->B * sn);
    v.i = e * (s->ic * cs + s->is * sn);
    v.di = e * (s->dc * cs + s->ds * sn);
    v.ddi = e * (s->ddc * cs + s->dds * sn);
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
    double c2, s2;
    expcs_int(2.0 * s->a, 2.0 * s->w, T, &c2, &s2);
    return 0.5 * (s->ic * s->ic + s->is * s->is) * exp_int(2.0 * s->a, T) +
           0.5 * (s->ic * s->ic - s->is * s->is) * c2 + s->ic * s->is * s2;
}

static double seg_qint(const seg *s, double T)
{
    double c1, s1;
    expcs_int(s->a, s->w, T, &c1, &s1);
    return s->C * s->E0 * T + s->A * c1 + s->B * s1;
}

/* ---- event functions: f = k0 + kt t + kq q + ki i + kd i' ------------------ */

typedef struct evfn {
    double k0, kt, kq, ki, kd;
    double tol;
    int id;
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
static double ev_refine(const seg *s, const evfn *f, double lo, double hi)
{
    double t = 0.5 * (lo + hi);
    for (int it = 0; it < 60 && hi - lo > 1e-14; it++) {
        segval v = seg_eval(s, t);
        double y = ev_f(f, t, &v);
        if (y > 0)
            lo = t;
        else
            hi = t;
        if (fabs(y) < f->tol * 1e-3)
            return t; /* converged (either side, within tolerance) */
        double d = ev_df(f, &v), tn = d != 0 ? t - y / d : 0.5 * (lo + hi);
        t = (tn > lo && tn < hi) ? tn : 0.5 * (lo + hi);
    }
    return hi;
}

/* Earliest t in [0, T] where one of the functions goes below zero.
 * Returns T + 1 when none does; *which gets the function's id. */
static double ev_first(const seg *s, const evfn *fs, int nf, double T, int *which)
{
    double best = T + 1.0;
    if (nf == 0)
        return best;
    segval v0 = seg_eval(s, 0);
    double h = 1.5707963267948966 / s->w; /* a quarter of the resonant period */
    int steps = (int)ceil(T / h);
    if (steps < 1)
        steps = 1;
    h = T / steps;
    for (int j = 0; j < nf; j++) {
        const evfn *f = &fs[j];
        double y0 = ev_f(f, 0, &v0), d0 = ev_df(f, &v0);
        if (y0 < -f->tol || (y0 <= f->tol && d0 < 0)) { /* already over, or leaving now */
            *which = f->id;
            return 0;
        }
        double tp = 0, yp = y0, dp = d0;
        for (int k = 1; k <= steps && tp < best; k++) {
            double t = k == steps ? T : k * h;
            segval v = seg_eval(s, t);
            double y = ev_f(f, t, &v), d = ev_df(f, &v);
            double root = -1;
            if (y <= 0) {
                root = ev_refine(s, f, tp, t);
            } else if (dp < 0 && d > 0) { /* a minimum between samples: does it dip? */
                double lo = tp, hi = t;
                for (int it = 0; it < 40; it++) {
                    double m = 0.5 * (lo + hi);
                    segval vm = seg_eval(s, m);
                    if (ev_df(f, &vm) < 0)
                        lo = m;
                    else
                        hi = m;
                }
                segval vm = seg_eval(s, lo);
                if (ev_f(f, lo, &vm) <= 0)
                    root = ev_refine(s, f, tp, lo);
            }
            (void)yp;
            if (root >= 0) {
                if (root < best) {
                    best = root;
                    *which = f->id;
                }
                break;
            }
            tp = t, yp = y, dp = d;
        }
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

static double llc_clamp_v(const llc *m)
{
    return m->p.n * (m->vo + 2.0 * m->p.vf);
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
               0.5 * m->p.cout * m->vo * m->vo;
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

/* Build the interval's circuit and its event functions. */
static int llc_setup(const llc *m, seg *s, evfn *fs, double *rsum)
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
    if (m->rect != 0)
        vs = m->rect * llc_clamp_v(m);
    else
        L += p->lm;
    seg_setup(s, L, C, R, vab - m->vcr - vs, m->i);
    *rsum = R;
    if (m->bridge == LLC_IDLE)
        return 0;
    double clamp = llc_clamp_v(m);
    if (m->rect > 0) /* rectifier current i - ilm reaches zero */
        fs[nf++] = (evfn){-m->ilm, -vs / p->lm, 0, 1, 0, 1e-9, 1};
    else if (m->rect < 0)
        fs[nf++] = (evfn){m->ilm, vs / p->lm, 0, -1, 0, 1e-9, 1};
    else { /* the magnetizing voltage Lm di/dt reaches +-clamp */
        fs[nf++] = (evfn){clamp, 0, 0, 0, -p->lm, 1e-6, 2};
        fs[nf++] = (evfn){clamp, 0, 0, 0, p->lm, 1e-6, 3};
    }
    if (m->bridge == LLC_FLOAT) { /* the node reaches a rail */
        double cn = llc_cnode(m);
        fs[nf++] = (evfn){llc_rail_v(m, 1) - m->vab, 0, 1.0 / cn, 0, 0, 1e-6, 4};
        fs[nf++] = (evfn){m->vab - llc_rail_v(m, -1), 0, -1.0 / cn, 0, 0, 1e-6, 5};
    } else if (m->bridge == LLC_CLAMPED) { /* the body diodes stop conducting */
        fs[nf++] = (evfn){0, 0, 0, m->rail > 0 ? -1.0 : 1.0, 0, 1e-9, 6};
    }
    return nf;
}

/* Advance the state by tau along the interval's solution. */
static void llc_advance(llc *m, const seg *s, double tau, double R)
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
        double vs = m->rect * llc_clamp_v(m), k = vs / p->lm;
        double qlm = ilm0 * tau + 0.5 * k * tau * tau;
        double qr = Q - qlm; /* integral of i - ilm */
        qo = p->n * m->rect * qr;
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
    /* The output node: charge qo over tau into Cout || R (exact for a
     * constant current), or into a voltage source. */
    m->acc.e_out += m->vo * qo;
    m->acc.q_out += qo;
    if (m->vo_fixed) {
        m->acc.e_load += m->vo * qo;
    } else if (m->rload > 0) {
        double T = m->rload * p->cout, vinf = m->rload * qo / tau, d0 = m->vo - vinf;
        double e1 = exp_int(1.0 / T, tau), e2 = exp_int(2.0 / T, tau);
        m->acc.e_load += (vinf * vinf * tau + 2.0 * vinf * d0 * e1 + d0 * d0 * e2) / m->rload;
        m->vo = vinf + d0 * exp(-tau / T);
    } else {
        m->vo += qo / p->cout;
    }
    m->acc.t += tau;
    m->t += tau;
    m->tp += tau;
}

/* Apply the event the interval ended on. */
static void llc_event(llc *m, int which)
{
    switch (which) {
    case 1: /* rectifier current zero */
        m->rect = 0;
        m->ilm = m->i;
        break;
    case 2:
        m->rect = 1;
        break;
    case 3:
        m->rect = -1;
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
    if (m->bridge == LLC_FLOAT && m->rect == 0 && fabs(m->i) < LLC_I_IDLE) {
        double c = llc_cnode(m), dv = m->vab - m->vcr;
        (void)dv;
        m->i = 0;
        m->ilm = 0;
        m->bridge = LLC_IDLE;
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
    if (m->bridge == LLC_FLOAT && m->rect == 0 && fabs(m->i) < LLC_I_IDLE && !on) {
        m->i = 0;
        m->bridge = LLC_IDLE;
    }
}

void llc_run(llc *m, double t_end, double sample_dt, void (*fn)(void *ctx, const llc *m), void *ctx)
{
    int zero_events = 0;
    double next_sample = sample_dt > 0 ? (floor(m->t / sample_dt + 1e-9) + 1) * sample_dt : 1e300;
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
        double R;
        int nf = llc_setup(m, &s, fs, &R);
        if (limit > 1e-13) {
            int which = 0;
            double te = ev_first(&s, fs, nf, limit, &which);
            if (te <= limit) {
                if (te <= 0 && ++zero_events > LLC_MAX_ZERO_EVENTS) {
                    /* Chattering between two modes at one instant: let time pass. */
                    llc_advance(m, &s, limit < 1e-10 ? limit : 1e-10, R);
                    zero_events = 0;
                    continue;
                }
                llc_advance(m, &s, te, R);
                llc_event(m, which);
                m->events++;
                if (te > 0)
                    zero_events = 0;
                continue;
            }
        }
        zero_events = 0;
        llc_advance(m, &s, limit, R);
        if (stop == 0)
            llc_phase_step(m);
        else if (stop == 2) {
            if (fn)
                fn(ctx, m);
            next_sample += sample_dt;
        }
    }
}
