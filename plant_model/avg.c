/* avg.c - the averaged model: a steady-state table from the switching solver. */
#include "avg.h"

#include <math.h>
#include <string.h>

double lavg_fn(int i)
{
    return LAVG_FN_MIN * pow(LAVG_FN_MAX / LAVG_FN_MIN, (double)i / (LAVG_NF - 1)); /* log spaced */
}

double lavg_s(int k)
{
    if (k <= 0)
        return 0;
    return LAVG_S_MIN * pow(1.0 / LAVG_S_MIN, (double)(k - 1) / (LAVG_NS - 2));
}

/* The tank state a period later, from a copy of m with (i, vcr, ilm, vm):
 * ilm is a state of its own while the rectifier conducts or has a
 * capacitance (cj), vm while the rectifier is off and has one. */
static void lavg_map(const llc *m, const double x[4], double T, double y[4])
{
    llc c = *m;
    c.i = x[0];
    c.vcr = x[1];
    c.ilm = c.rect || c.cp > 0 ? x[2] : x[0];
    if (!c.rect && c.cp > 0)
        c.vm = x[3];
    llc_run(&c, c.t + T, 0, 0, 0);
    y[0] = c.i;
    y[1] = c.vcr;
    y[2] = c.ilm;
    y[3] = c.vm;
}

/* Size of a residual, each component in its own scale. */
static double lavg_norm(const double f[4], const double sc[4], int nx)
{
    double e = 0;
    for (int r = 0; r < nx; r++)
        e += (f[r] / sc[r]) * (f[r] / sc[r]);
    return sqrt(e);
}

/* Periodic steady state by shooting (damped Newton on x -> one period
 * later, steps accepted only when the residual falls), after a few
 * periods of plain running; ends on a period boundary. The clamped
 * output makes the tank ring for hundreds of periods when it is merely
 * run, so waiting for it is not an option. */
static void lavg_settle(llc *m, double T)
{
    llc_run(m, m->t + 4 * T, 0, 0, 0);
    for (int it = 0; it < 10; it++) {
        int nx = m->rect ? 3 : m->cp > 0 ? 4 : 2;
        double x[4] = {m->i, m->vcr, m->ilm, m->vm}, y[4], J[4][4], f[4];
        double sc[4] = {0.01 + 1e-3 * fabs(x[0]), 0.1 + 1e-3 * fabs(x[1]), 0.01 + 1e-3 * fabs(x[2]),
                        0.1 + 1e-3 * fabs(x[3])};
        lavg_map(m, x, T, y);
        for (int r = 0; r < nx; r++)
            f[r] = y[r] - x[r];
        double e0 = lavg_norm(f, sc, nx);
        if (e0 < 1e-6)
            break;
        for (int k = 0; k < nx; k++) {
            double xp[4] = {x[0], x[1], x[2], x[3]}, yp[4], h = 1e-3 * sc[k];
            xp[k] += h;
            lavg_map(m, xp, T, yp);
            for (int r = 0; r < nx; r++)
                J[r][k] = (yp[r] - y[r]) / h - (r == k);
        }
        /* Solve J dx = -f (Gaussian elimination, partial pivoting). */
        double a[4][5], dx[4] = {0, 0, 0, 0};
        for (int r = 0; r < nx; r++) {
            for (int k = 0; k < nx; k++)
                a[r][k] = J[r][k];
            a[r][nx] = -f[r];
        }
        int ok = 1;
        for (int c = 0; c < nx && ok; c++) {
            int piv = c;
            for (int r = c + 1; r < nx; r++)
                if (fabs(a[r][c]) > fabs(a[piv][c]))
                    piv = r;
            if (fabs(a[piv][c]) < 1e-300) {
                ok = 0;
                break;
            }
            for (int k = 0; k <= nx; k++) {
                double t = a[c][k];
                a[c][k] = a[piv][k];
                a[piv][k] = t;
            }
            for (int r = 0; r < nx; r++)
                if (r != c) {
                    double q = a[r][c] / a[c][c];
                    for (int k = c; k <= nx; k++)
                        a[r][k] -= q * a[c][k];
                }
        }
        for (int r = 0; ok && r < nx; r++)
            dx[r] = a[r][nx] / a[r][r];
        int accepted = 0;
        for (double lam = 1.0; ok && lam > 0.01 && !accepted; lam *= 0.5) {
            double xn[4] = {x[0] + lam * dx[0], x[1] + lam * dx[1], nx >= 3 ? x[2] + lam * dx[2] : x[0] + lam * dx[0],
                            x[3] + lam * dx[3]};
            double yn[4], fn[4];
            lavg_map(m, xn, T, yn);
            for (int r = 0; r < nx; r++)
                fn[r] = yn[r] - xn[r];
            if (lavg_norm(fn, sc, nx) < e0) {
                m->i = xn[0];
                m->vcr = xn[1];
                m->ilm = xn[2];
                if (nx == 4)
                    m->vm = xn[3];
                accepted = 1;
            }
        }
        /* Move to the next period boundary from the (new) start. */
        llc_run(m, m->t + (accepted ? T : 8 * T), 0, 0, 0);
    }
}

/* One steady state at (fsw, vo held); out normalized, or NULL. Returns
 * the normalized mean output current. */
static double lavg_point(llc *m, double fsw, double vo, int hb, float *out, double vb, double z0)
{
    llc_cmd c = {fsw, 300e-9 < 0.2 / fsw ? 300e-9 : 0.2 / fsw, 1.0, 1, (uint8_t)hb};
    llc_command(m, &c);
    m->vo = vo;
    double T = 1.0 / fsw;
    /* Start on a period boundary so that the shooting map is one whole period. */
    llc_run(m, m->t + (T - m->tp), 0, 0, 0);
    lavg_settle(m, T);
    llc_take(m);
    llc_run(m, m->t + 8 * T, 0, 0, 0);
    llc_acc a = llc_take(m);
    double ib = vb / z0, pb = vb * vb / z0;
    if (out) {
        out[LAVG_IO] = (float)(a.q_out / a.t / ib);
        out[LAVG_PIN] = (float)(a.e_in / a.t / pb);
        out[LAVG_PA] = (float)((a.e_cond_a + a.e_off_a) / a.t / pb);
        out[LAVG_PB] = (float)((a.e_cond_b + a.e_off_b) / a.t / pb);
        out[LAVG_PX] = (float)(a.e_xfmr / a.t / pb);
        out[LAVG_PL] = (float)(a.e_lr / a.t / pb);
        out[LAVG_PRECT] = (float)(a.e_rect / a.t / pb);
        out[LAVG_HARD] = (float)(a.edges ? (double)a.hard_edges / a.edges : 0);
    }
    return a.q_out / a.t / ib;
}

/* The no-load voltage is where the mean output current falls under this
 * (normalized: 1 % of vb / z0, 116 mA in full bridge, 3 % of the rated
 * 4 A): nearer no load the rectifier conducts on the ringing of Lm with
 * its own capacitance (cj), tens of milliamperes over a wide range of
 * voltage that the table leaves out. */
#define LAVG_IO_NL 1e-2

void lavg_build(lavg_table *t, const llc_params *p)
{
    static const double tj = 75.0; /* losses at a typical junction temperature */
    memset(t, 0, sizeof *t);
    t->fr = 1.0 / (2 * M_PI * sqrt(p->lr * p->cr));
    t->z0 = sqrt(p->lr / p->cr);
    t->vdc = p->vdc;
    t->n = p->n;
    llc m;
    for (int hb = 0; hb < 2; hb++) {
        double vb = hb ? 0.5 * p->vdc : p->vdc;
        for (int i = 0; i < LAVG_NF; i++) {
            double f = lavg_fn(i) * t->fr;
            llc_init(&m, p, 0);
            m.vo_fixed = 1;
            m.tj_a = m.tj_b = tj;
            /* No-load voltage: the highest mv at which the rectifier still conducts. */
            double lo = 0, hi = LAVG_MV_MAX;
            for (int it = 0; it < 12; it++) {
                double mid = 0.5 * (lo + hi);
                if (lavg_point(&m, f, mid * vb / p->n, hb, NULL, vb, t->z0) > LAVG_IO_NL)
                    lo = mid;
                else
                    hi = mid;
            }
            t->nl[hb][i] = lo;
            for (int k = 0; k < LAVG_NS; k++)
                lavg_point(&m, f, lo * (1.0 - lavg_s(k)) * vb / p->n, hb, t->v[hb][i][k], vb, t->z0);
            t->build_s += m.t;
        }
    }
}

void lavg_eval(const lavg_table *t, double fr, double z0, double vdc, double n, int half_bridge, double fsw,
               double vo, double out[LAVG_NQ])
{
    int hb = half_bridge ? 1 : 0;
    double vb = hb ? 0.5 * vdc : vdc;
    double fn = fsw / fr, mv = n * vo / vb;
    double x = log(fn / LAVG_FN_MIN) / log(LAVG_FN_MAX / LAVG_FN_MIN) * (LAVG_NF - 1);
    if (!(x > 0)) x = 0; /* NaN too: an index is never built from it */
    if (x > LAVG_NF - 1) x = LAVG_NF - 1;
    int i = (int)x;
    if (i > LAVG_NF - 2) i = LAVG_NF - 2;
    double fx = x - i;
    double nl = t->nl[hb][i] * (1 - fx) + t->nl[hb][i + 1] * fx;
    /* nl <= 0: the rectifier never conducts at this frequency (a DC link
     * below the diode drops): no output, the losses of the vo = 0 point. */
    double s = nl > 0 ? 1.0 - mv / nl : 1.0, y;
    if (!(s > 0)) /* NaN too */
        y = 0;
    else if (s < LAVG_S_MIN)
        y = s / LAVG_S_MIN;
    else
        y = 1.0 + log(s / LAVG_S_MIN) / log(1.0 / LAVG_S_MIN) * (LAVG_NS - 2);
    if (y > LAVG_NS - 1) y = LAVG_NS - 1;
    int j = (int)y;
    if (j > LAVG_NS - 2) j = LAVG_NS - 2;
    double fy = y - j;
    const float(*v)[LAVG_NS][LAVG_NQ] = t->v[hb];
    double ib = vb / z0, pb = vb * vb / z0;
    for (int q = 0; q < LAVG_NQ; q++) {
        double a = v[i][j][q] * (1 - fx) * (1 - fy) + v[i + 1][j][q] * fx * (1 - fy) + v[i][j + 1][q] * (1 - fx) * fy +
                   v[i + 1][j + 1][q] * fx * fy;
        out[q] = q == LAVG_IO ? (!(s > 0) || !(nl > 0) ? 0 : a * ib) : q == LAVG_HARD ? a : a * pb;
    }
}

void lavg_prepare(const lavg_table *t, double fr, double z0, double vdc, double n, int half_bridge, double fsw,
                  double burst, lavg_pt *pt)
{
    pt->hb = half_bridge ? 1 : 0;
    pt->vb = pt->hb ? 0.5 * vdc : vdc;
    pt->n = n;
    pt->ib = pt->vb / z0;
    pt->burst = burst;
    double x = log(fsw / fr / LAVG_FN_MIN) / log(LAVG_FN_MAX / LAVG_FN_MIN) * (LAVG_NF - 1);
    if (!(x > 0)) x = 0; /* NaN too */
    if (x > LAVG_NF - 1) x = LAVG_NF - 1;
    pt->i = (int)x;
    if (pt->i > LAVG_NF - 2) pt->i = LAVG_NF - 2;
    pt->fx = x - pt->i;
    pt->nl = t->nl[pt->hb][pt->i] * (1 - pt->fx) + t->nl[pt->hb][pt->i + 1] * pt->fx;
}

double lavg_io(const lavg_table *t, const lavg_pt *pt, double vo, double *slope)
{
    /* nl = 0 (the rectifier never conducts at this frequency) gives -inf
     * or NaN here: no current either way. */
    double s = 1.0 - pt->n * vo / pt->vb / pt->nl, y, dyds;
    if (!(s > 0)) { /* NaN too */
        *slope = 0;
        return 0;
    }
    if (s < LAVG_S_MIN) {
        y = s / LAVG_S_MIN;
        dyds = 1.0 / LAVG_S_MIN;
    } else {
        double k = (LAVG_NS - 2) / log(1.0 / LAVG_S_MIN);
        y = 1.0 + log(s / LAVG_S_MIN) * k;
        dyds = k / s;
    }
    if (y > LAVG_NS - 1) y = LAVG_NS - 1;
    int j = (int)y;
    if (j > LAVG_NS - 2) j = LAVG_NS - 2;
    double fy = y - j, fx = pt->fx;
    const float(*v)[LAVG_NS][LAVG_NQ] = t->v[pt->hb];
    double a0 = v[pt->i][j][LAVG_IO] * (1 - fx) + v[pt->i + 1][j][LAVG_IO] * fx;
    double a1 = v[pt->i][j + 1][LAVG_IO] * (1 - fx) + v[pt->i + 1][j + 1][LAVG_IO] * fx;
    double scale = pt->ib * pt->burst;
    *slope = scale * (a1 - a0) * dyds * (-pt->n / pt->vb / pt->nl);
    return scale * (a0 + (a1 - a0) * fy);
}
