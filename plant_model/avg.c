/* avg.c - the averaged model: a steady-state table from the switching solver. */
#include "avg.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

double lavg_fn(int i)
{
    return LAVG_FN_MIN * pow(LAVG_FN_MAX / LAVG_FN_MIN, (double)i / (LAVG_NF - 1)); /* log spaced */
}

double lavg_s(int k)
{
    if (k <= 0)
        return 0;
    return LAVG_S_MIN * pow(1.0 / LAVG_S_MIN, (double)(k - 1) / (LAVG_NS0 - 2));
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
 * periods of plain running; ends on a period boundary. 1 when the
 * residual fell under its tolerance, else 0. The clamped
 * output makes the tank ring for hundreds of periods when it is merely
 * run, so waiting for it is not an option. */
static int lavg_settle(llc *m, double T)
{
    int converged = 0;
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
        if (e0 < 1e-6) {
            converged = 1;
            break;
        }
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
    return converged;
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
    /* A start far from the point (a refining sample between two others)
     * may need more than one round of shooting. */
    for (int round = 0; round < 4 && !lavg_settle(m, T); round++)
        ;
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
        /* The point's own balance residual (its input less output and losses). */
        double res = a.e_in / a.t / pb - (a.q_out / a.t / ib) * (vo / vb);
        for (int q = LAVG_PA; q < LAVG_HARD; q++)
            res -= out[q];
        out[LAVG_PIN] = (float)res;
    }
    return a.q_out / a.t / ib;
}

/* The no-load voltage is where the mean output current falls under this
 * (normalized: 1 % of vb / z0, 116 mA in full bridge, 3 % of the rated
 * 4 A): nearer no load the rectifier conducts on the ringing of Lm with
 * its own capacitance (cj), tens of milliamperes over a wide range of
 * voltage that the table leaves out. */
#define LAVG_IO_NL 1e-2

/* The guide bucket of s >= 0: its float's exponent and two leading
 * mantissa bits (monotone in s), a quarter octave each from 2^-10 (below:
 * bucket 0) to 1 (LAVG_NG - 2); no logarithm on the hot path. */
static int lavg_bucket(float s)
{
    uint32_t u;
    memcpy(&u, &s, sizeof u);
    int b = (int)(u >> 21) - ((127 - 10) << 2);
    return b < 0 ? 0 : b > LAVG_NG - 1 ? LAVG_NG - 1 : b;
}

/* The weight of the step of output current between two samples (normalized): above 1, refine. */
static double lavg_gap(const float *a, const float *b)
{
    return fabs(b[LAVG_IO] - a[LAVG_IO]) / (LAVG_DU_ABS + LAVG_DU_REL * 0.5 * (a[LAVG_IO] + b[LAVG_IO]));
}

void lavg_build(lavg_table *t, const llc_params *p)
{
    static const double tj = 75.0; /* losses at a typical junction temperature */
    static _Atomic uint64_t builds;
    memset(t, 0, sizeof *t);
    t->id = atomic_fetch_add(&builds, 1) + 1;
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
            float *ss = t->s[hb][i];
            float(*v)[LAVG_NQ] = t->v[hb][i];
            int n = 0;
            for (int k = 0; k < LAVG_NS0; k++, n++) {
                ss[n] = (float)lavg_s(k);
                lavg_point(&m, f, lo * (1.0 - ss[n]) * vb / p->n, hb, v[n], vb, t->z0);
            }
            /* Refine the widest step of current until every step is
             * small or the column is full. */
            while (n < LAVG_NS) {
                int at = -1;
                double worst = 1.0;
                for (int k = 0; k + 1 < n; k++) {
                    double g = lavg_gap(v[k], v[k + 1]);
                    if (g > worst && ss[k + 1] - ss[k] > 1e-6f * ss[k + 1]) {
                        worst = g;
                        at = k;
                    }
                }
                if (at < 0)
                    break;
                double sn = ss[at] > 0 ? sqrt((double)ss[at] * ss[at + 1]) : 0.5 * ss[at + 1];
                memmove(&ss[at + 2], &ss[at + 1], (size_t)(n - at - 1) * sizeof ss[0]);
                memmove(&v[at + 2], &v[at + 1], (size_t)(n - at - 1) * sizeof v[0]);
                ss[at + 1] = (float)sn;
                lavg_point(&m, f, lo * (1.0 - sn) * vb / p->n, hb, v[at + 1], vb, t->z0);
                n++;
            }
            t->ns[hb][i] = (uint8_t)n;
            for (int b = 0, k = 0; b <= LAVG_NG; b++) {
                while (k < n && lavg_bucket(ss[k]) < b)
                    k++;
                t->guide[hb][i][b] = (uint8_t)k;
            }
            t->build_s += m.t;
        }
    }
}

/* The shared tables (lavg_get): a list, newest first; each with its
 * key, its holds, and when its last hold was given back (lavg_clock). */
typedef struct lavg_kept {
    struct lavg_kept *next;
    llc_params key; /* all doubles, no padding: compared with memcmp */
    lavg_table t;
    unsigned holds;
    uint64_t free_at;
} lavg_kept;

static pthread_mutex_t lavg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t lavg_once = PTHREAD_ONCE_INIT;
static lavg_kept *lavg_list;
static uint64_t lavg_clock;

/* fork() while another thread builds: the child gets the mutex free. */
static void lavg_fork_lock(void) { pthread_mutex_lock(&lavg_mu); }
static void lavg_fork_unlock(void) { pthread_mutex_unlock(&lavg_mu); }
static void lavg_atfork(void) { pthread_atfork(lavg_fork_lock, lavg_fork_unlock, lavg_fork_unlock); }

/* Frees the unheld tables past the LAVG_KEPT given back last. */
static void lavg_trim(void)
{
    for (;;) {
        unsigned unheld = 0;
        lavg_kept **oldest = NULL;
        for (lavg_kept **e = &lavg_list; *e; e = &(*e)->next)
            if (!(*e)->holds) {
                unheld++;
                if (!oldest || (*e)->free_at < (*oldest)->free_at)
                    oldest = e;
            }
        if (unheld <= LAVG_KEPT)
            return;
        lavg_kept *gone = *oldest;
        *oldest = gone->next;
        free(gone);
    }
}

const lavg_table *lavg_get(const llc_params *p)
{
    pthread_once(&lavg_once, lavg_atfork);
    pthread_mutex_lock(&lavg_mu);
    lavg_kept *e = lavg_list;
    while (e && memcmp(&e->key, p, sizeof *p))
        e = e->next;
    if (!e && (e = malloc(sizeof *e))) {
        e->key = *p;
        e->holds = 0;
        lavg_build(&e->t, p);
        e->next = lavg_list;
        lavg_list = e;
    }
    if (e)
        e->holds++;
    pthread_mutex_unlock(&lavg_mu);
    return e ? &e->t : NULL;
}

void lavg_put(const lavg_table *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&lavg_mu);
    for (lavg_kept *e = lavg_list; e; e = e->next)
        if (&e->t == t && e->holds) {
            if (!--e->holds)
                e->free_at = ++lavg_clock;
            break;
        }
    lavg_trim();
    pthread_mutex_unlock(&lavg_mu);
}

/* Column index and weight of fn (clamped to the table; NaN gives 0). */
static int lavg_col(double fn, double *fx)
{
    double x = log(fn / LAVG_FN_MIN) / log(LAVG_FN_MAX / LAVG_FN_MIN) * (LAVG_NF - 1);
    if (!(x > 0)) x = 0; /* NaN too: an index is never built from it */
    if (x > LAVG_NF - 1) x = LAVG_NF - 1;
    int i = (int)x;
    if (i > LAVG_NF - 2) i = LAVG_NF - 2;
    *fx = x - i;
    return i;
}

/* The last sample k of an ascending array a[0..n-1] with a[k] <= x
 * (0 below the first, n - 2 at and above the last), and the weight of x
 * between a[k] and a[k + 1], clamped to [0, 1]. */
static int lavg_find(const float *a, int stride, int n, double x, double *w)
{
    int lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (a[mid * stride] <= x)
            lo = mid;
        else
            hi = mid;
    }
    double d = (double)a[hi * stride] - a[lo * stride];
    double u = d > 0 ? (x - a[lo * stride]) / d : 0;
    *w = u < 0 ? 0 : u > 1 ? 1 : u;
    return lo;
}

/* Bracket *hint of column i for s (0 <= s <= 1), unpacked into *b: the
 * last sample with s_k <= s (0 below the second, ns - 2 at and above the
 * last but one), found from the guide (usually at once) as a binary
 * search would find it, or *hint itself when it still holds s (the same
 * k: the bracket holding s is unique). Off the hot path: lavg_col_io
 * calls it only when s left the unpacked bracket. */
static __attribute__((noinline)) void lavg_bracket(const lavg_table *t, int hb, int i, double s, int *hint, lavg_br *b)
{
    int n = t->ns[hb][i], k = *hint;
    const float *ss = t->s[hb][i];
    /* the last call's bracket when it still holds s (the same k the guide gives) */
    if (!(k >= 0 && k <= n - 2 && (k == 0 || ss[k] <= s) && (k == n - 2 || ss[k + 1] > s))) {
        int bk = lavg_bucket((float)s), last = t->guide[hb][i][bk + 1] - 1;
        k = t->guide[hb][i][bk] - 1;
        if (last > n - 2)
            last = n - 2;
        if (k < 0)
            k = 0;
        if (k > last)
            k = last;
        while (k < last && ss[k + 1] <= s)
            k++;
        *hint = k;
    }
    const float(*v)[LAVG_NQ] = t->v[hb][i];
    b->lo = k == 0 ? -INFINITY : (double)ss[k]; /* the test above, as lo <= s < hi (s is never NaN here) */
    b->hi = k == n - 2 ? INFINITY : (double)ss[k + 1];
    b->s0 = ss[k];
    b->d = (double)ss[k + 1] - ss[k];
    b->v0 = v[k][LAVG_IO];
    b->dv = v[k + 1][LAVG_IO] - v[k][LAVG_IO]; /* a float difference, then widened (exact) */
    b->dds = b->d > 0 ? b->dv / b->d : 0;
}

/* Normalized output current of column i at s (0 <= s <= 1), and its
 * derivative in s, from bracket *b (found again when it does not hold s):
 *   w = (s - s_k) / d, clamped to [0, 1] (derivative 0 where clamped),
 *   io = io_k + (io_k+1 - io_k) w. */
static inline __attribute__((always_inline)) double lavg_col_io(const lavg_table *t, int hb, int i, double s, double *dds,
                                                                int *hint, lavg_br *b)
{
    if (!(b->lo <= s && s < b->hi))
        lavg_bracket(t, hb, i, s, hint, b);
    double w = b->d > 0 ? (s - b->s0) / b->d : 0;
    if (w < 0 || w > 1) { /* outside the column (s past its last sample) */
        w = w < 0 ? 0 : 1;
        *dds = 0;
    } else {
        *dds = b->dds;
    }
    return b->v0 + b->dv * w;
}

/* Normalized output current at (column pt->i, weight pt->fx, s), derivative in s into *dds. */
static inline __attribute__((always_inline)) double lavg_io_at(const lavg_table *t, lavg_pt *pt, double s, double *dds)
{
    double d0, d1, fx = pt->fx;
    double u = lavg_col_io(t, pt->hb, pt->i, s, &d0, &pt->k[0], &pt->br[0]) * (1 - fx) +
               lavg_col_io(t, pt->hb, pt->i + 1, s, &d1, &pt->k[1], &pt->br[1]) * fx;
    *dds = d0 * (1 - fx) + d1 * fx;
    return u;
}

/* lavg_eval at pt's column (pt->burst is 1; its hints move: any hint gives the same bracket). */
static void lavg_eval_(const lavg_table *t, lavg_pt *pt, double z0, double vo, double out[LAVG_NQ])
{
    double g, io = lavg_io(t, pt, vo, &g), u = io / pt->ib;
    /* The losses at the same output current in both columns: what sets
     * the tank current, the flux and the edges' current. */
    double q[LAVG_NQ] = {0};
    for (int c = 0; c < 2; c++) {
        int i = pt->i + c, ns = t->ns[pt->hb][i];
        const float(*v)[LAVG_NQ] = t->v[pt->hb][i];
        double w, fc = c ? pt->fx : 1 - pt->fx;
        int k = lavg_find(&v[0][LAVG_IO], LAVG_NQ, ns, u, &w);
        for (int r = LAVG_PIN; r < LAVG_NQ; r++)
            q[r] += fc * (v[k][r] + (v[k + 1][r] - v[k][r]) * w);
    }
    double pb = pt->vb * pt->vb / z0;
    out[LAVG_IO] = io;
    out[LAVG_HARD] = q[LAVG_HARD];
    double pin = (io > 0 ? io * vo : 0) + q[LAVG_PIN] * pb;
    for (int r = LAVG_PA; r < LAVG_HARD; r++) {
        out[r] = q[r] * pb;
        pin += out[r];
    }
    out[LAVG_PIN] = pin;
}

void lavg_eval(const lavg_table *t, double fr, double z0, double vdc, double n, int half_bridge, double fsw,
               double vo, double out[LAVG_NQ])
{
    lavg_pt pt = {0};
    lavg_prepare(t, fr, z0, vdc, n, half_bridge, fsw, 1.0, &pt);
    lavg_eval_(t, &pt, z0, vo, out);
}

void lavg_eval_pt(const lavg_table *t, const lavg_pt *pt, double z0, double vo, double out[LAVG_NQ])
{
    lavg_pt p = *pt;
    p.burst = 1.0; /* as lavg_prepare sets them at burst 1 */
    p.scale = p.ib * p.burst;
    lavg_eval_(t, &p, z0, vo, out);
}

void lavg_prepare(const lavg_table *t, double fr, double z0, double vdc, double n, int half_bridge, double fsw,
                  double burst, lavg_pt *pt)
{
    int hb0 = pt->hb, i0 = pt->i;
    pt->hb = half_bridge ? 1 : 0;
    pt->vb = pt->hb ? 0.5 * vdc : vdc;
    pt->n = n;
    pt->ib = pt->vb / z0;
    pt->burst = burst;
    double fn = fsw / fr;
    uint64_t fb, ob;
    memcpy(&fb, &fn, sizeof fb);
    memcpy(&ob, &pt->fn, sizeof ob);
    if (fb != ob) { /* lavg_col is a pure function of fn (a zeroed pt holds fn = +0's column, 0 and 0) */
        pt->fn = fn;
        pt->i = lavg_col(fn, &pt->fx);
    }
    pt->nl = t->nl[pt->hb][pt->i] * (1 - pt->fx) + t->nl[pt->hb][pt->i + 1] * pt->fx;
    pt->scale = pt->ib * pt->burst;
    pt->kslope = -pt->n / pt->vb / pt->nl;
    if (pt->br_id != t->id || pt->hb != hb0 || pt->i != i0) { /* another column: unpacked again (hints kept) */
        for (int c = 0; c < 2; c++) {
            pt->br[c].lo = INFINITY;
            pt->br[c].hi = -INFINITY;
        }
        pt->br_id = t->id;
    }
}

double lavg_io(const lavg_table *t, lavg_pt *pt, double vo, double *slope)
{
    /* nl = 0 (the rectifier never conducts at this frequency) gives -inf
     * or NaN here: no current either way. */
    double s = 1.0 - pt->n * vo / pt->vb / pt->nl, dds;
    if (!(s > 0)) { /* NaN too */
        *slope = 0;
        return 0;
    }
    if (s > 1) /* a negative vo: the short-circuit point */
        s = 1;
    double u = lavg_io_at(t, pt, s, &dds);
    *slope = pt->scale * dds * pt->kslope; /* scale * dds * (-n / vb / nl) */
    return pt->scale * u;
}
