/* splot.c - line and bar charts with libplot (splot.h). */
#include "splot.h"

#include <math.h>
#include <stdio.h> /* before plot.h, which uses FILE */
#include <plot.h>
#include <string.h>

#include "ek3_err.h"

#define SPLOT_TICKS_MAX 40   /* ticks per axis at most (4 to 11 are drawn) */
#define SPLOT_PAGE_H 0.6          /* the page is 1 wide and 0.6 high (900 x 540 px, 20 x 12 cm) */
#define SPLOT_FS_TICK 0.017  /* font sizes, page units */
#define SPLOT_FS_LABEL 0.02
#define SPLOT_FS_TITLE 0.025
#define SPLOT_COLS 1200      /* columns a long series is decimated to (min and max of each) */
#define SPLOT_WIDER 1.2      /* text room: a viewer may set SVG text in a font wider than libplot's Helvetica
                              * metrics (DejaVu Sans for Helvetica) */
#define SPLOT_MARKS 64       /* marker labels placed at most (the lines are all drawn) */
#define SPLOT_LAB_THICK 0.017 /* a marker label's thickness across its line (the tick font's size) */
#define SPLOT_LAB_GAP 0.003  /* clearance between marker labels, and from a label to its line */

double splot_step(double lo, double hi, int want)
{
    double span = hi - lo;
    if (!isfinite(span) || !(span > 0) || want < 1)
        return 1;
    double raw = span / want, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

/* The next round step: 1 -> 2 -> 5 -> 10 (x 10^k). */
static double splot_step_up(double st)
{
    double mag = pow(10.0, floor(log10(st) + 1e-9)), f = st / mag;
    return (f < 1.5 ? 2 : f < 3.5 ? 5 : 10) * mag;
}

void splot_tick_label(char *buf, size_t cap, double v, double step, double mag)
{
    if (!cap)
        return;
    if (!isfinite(v) || !(step > 0)) {
        snprintf(buf, cap, "%g", v);
        return;
    }
    if (fabs(v) < step * 1e-6) {
        snprintf(buf, cap, "0");
        return;
    }
    static const char *const pre[] = {"p", "n", "u", "m", "", "k", "M", "G", "T"};
    int e = 0;
    mag = fabs(mag);
    if (isfinite(mag) && (mag >= 1e4 || (mag > 0 && mag < 1e-2))) {
        e = 3 * (int)floor(log10(mag) / 3 + 1e-9);
        e = e < -12 ? -12 : e > 12 ? 12 : e;
    }
    double s = pow(10.0, e), sv = v / s, sst = step / s;
    int dec = (int)-floor(log10(sst) + 1e-9);
    dec = dec < 0 ? 0 : dec > 9 ? 9 : dec;
    snprintf(buf, cap, "%.*f%s", dec, sv, pre[e / 3 + 4]);
}

const char *splot_axis_label(char *buf, size_t cap, const char *quantity, const char *unit)
{
    if (unit && *unit)
        snprintf(buf, cap, "%s (%s)", quantity ? quantity : "value", unit);
    else
        snprintf(buf, cap, "%s", quantity ? quantity : "value");
    return buf;
}

typedef struct splot_frame {
    plPlotter *pl;
    plPlotterParams *pp;
    FILE *f;
    double x0, x1, y0, y1; /* the axes' ranges, data units */
    double sx, sy;         /* tick steps */
    double L, R, B, T;     /* the plot area, page units */
} splot_frame;

static double px(const splot_frame *c, double x) { return c->L + (c->R - c->L) * (x - c->x0) / (c->x1 - c->x0); }
static double py(const splot_frame *c, double y) { return c->B + (c->T - c->B) * (y - c->y0) / (c->y1 - c->y0); }

/* A range too small for its values' magnitude (a flat series, or a
 * figure that moved in its last digits) widened, or a tick's step falls
 * below the values' precision: 1 % of the value each side, or +-1. */
static void splot_widen(double *lo, double *hi)
{
    double m = fmax(fabs(*lo), fabs(*hi));
    if (*hi - *lo <= m * 1e-9) {
        double h = m > 0 ? m * 0.01 : 1;
        *lo -= h, *hi += h;
    }
}

/* Open the plotter on path (.png / .svg), white page, font set. */
static int splot_begin(splot_frame *c, const char *path)
{
    const char *ext = path ? strrchr(path, '.') : NULL;
    int svg = ext && !strcmp(ext, ".svg");
    if (!ext || (!svg && strcmp(ext, ".png")))
        return EK3_EINVAL;
    c->f = fopen(path, "wb");
    if (!c->f)
        return EK3_EIO;
    c->pp = pl_newplparams();
    pl_setplparam(c->pp, "BITMAPSIZE", "900x540");
    pl_setplparam(c->pp, "PAGESIZE", "a4,xsize=20cm,ysize=12cm");
    c->pl = c->pp ? pl_newpl_r(svg ? "svg" : "png", NULL, c->f, stderr, c->pp) : NULL;
    if (!c->pl || pl_openpl_r(c->pl) < 0) {
        if (c->pl)
            pl_deletepl_r(c->pl);
        if (c->pp)
            pl_deleteplparams(c->pp);
        fclose(c->f);
        return EK3_EIO;
    }
    pl_fspace_r(c->pl, 0, 0, 1, SPLOT_PAGE_H);
    pl_bgcolorname_r(c->pl, "white");
    pl_erase_r(c->pl);
    /* SVG: a PostScript font, written as <text>; the PNG plotter has the Hershey fonts only. */
    pl_fontname_r(c->pl, svg ? "Helvetica" : "HersheySans");
    pl_pencolorname_r(c->pl, "black");
    pl_flinewidth_r(c->pl, 0.0015);
    return EK3_OK;
}

static int splot_end(splot_frame *c)
{
    pl_closepl_r(c->pl);
    pl_deletepl_r(c->pl);
    pl_deleteplparams(c->pp);
    int err = ferror(c->f); /* a write that failed before the last flush */
    return fclose(c->f) || err ? EK3_EIO : EK3_OK;
}

/* The legend's entries laid out in rows above the plot area from y top
 * down; draw 0 only measures. Returns the rows. */
static int splot_legend(splot_frame *c, const splot_series *s, size_t ns, unsigned long dashed, double top, int draw)
{
    const double x_start = 0.08, x_end = 0.98, row_h = 0.03, sample = 0.035;
    double x = x_start;
    int rows = 0;
    pl_ffontsize_r(c->pl, SPLOT_FS_LABEL);
    for (size_t k = 0; k < ns; k++) {
        if (!s[k].name || !*s[k].name)
            continue;
        double w = sample + 0.008 + SPLOT_WIDER * pl_flabelwidth_r(c->pl, s[k].name) + 0.03;
        if (!rows || (x + w > x_end && x > x_start))
            rows++, x = x_start;
        if (draw) {
            double y = top - (rows - 0.5) * row_h;
            pl_pencolorname_r(c->pl, s[k].color ? s[k].color : "black");
            pl_flinewidth_r(c->pl, 0.003);
            pl_linemod_r(c->pl, k < 32 && (dashed >> k & 1) ? "longdashed" : "solid");
            pl_fline_r(c->pl, x, y, x + sample, y);
            pl_linemod_r(c->pl, "solid");
            pl_pencolorname_r(c->pl, "black");
            pl_fmove_r(c->pl, x + sample + 0.008, y);
            pl_alabel_r(c->pl, 'l', 'c', s[k].name);
        }
        x += w;
    }
    return rows;
}

/* The widest tick label of an axis [lo, hi] at step st. */
static double splot_widest(splot_frame *c, double lo, double hi, double st)
{
    double mag = fmax(fabs(lo), fabs(hi)), w = 0;
    long n = lround((hi - lo) / st);
    for (long i = 0; i <= n && i <= SPLOT_TICKS_MAX; i++) {
        char s[40];
        splot_tick_label(s, sizeof s, lo + (double)i * st, st, mag);
        w = fmax(w, pl_flabelwidth_r(c->pl, s));
    }
    return w;
}

/* Lay out and draw the frame: ranges (x0..x1 exact, y0..y1 padded and
 * rounded to ticks), legend, shaded span, grid, ticks, labels, title. */
static void splot_frame_draw(splot_frame *c, const splot_chart *ch, int int_x)
{
    splot_widen(&c->x0, &c->x1);
    splot_widen(&c->y0, &c->y1);
    int rows = splot_legend(c, ch->s, ch->ns, ch->dashed, SPLOT_PAGE_H - 0.055, 0);
    c->B = 0.095;
    c->T = fmax(c->B + 0.15, SPLOT_PAGE_H - 0.06 - rows * 0.03);
    c->R = 0.975;
    /* y: padded 5 %, rounded out to the step; the step raised until the labels are 2 font heights apart */
    pl_ffontsize_r(c->pl, SPLOT_FS_TICK);
    double pad = 0.05 * (c->y1 - c->y0), lo = c->y0 - pad, hi = c->y1 + pad;
    if (c->y0 >= 0 && lo < 0) /* data from 0 up: the axis starts at 0, not at a negative tick */
        lo = 0;
    if (c->y1 <= 0 && hi > 0)
        hi = 0;
    double st = splot_step(lo, hi, 6);
    for (int i = 0; i < 20; i++) {
        double a = floor(lo / st) * st, b = ceil(hi / st) * st;
        if ((c->T - c->B) * st / (b - a) >= 2.2 * SPLOT_FS_TICK && (b - a) / st <= SPLOT_TICKS_MAX) {
            c->y0 = a, c->y1 = b;
            break;
        }
        st = splot_step_up(st);
        c->y0 = floor(lo / st) * st, c->y1 = ceil(hi / st) * st;
    }
    c->sy = st;
    c->L = 0.045 + SPLOT_WIDER * splot_widest(c, c->y0, c->y1, c->sy) + 0.012;
    /* x: the step raised until the widest label fits 1.4 times between two ticks */
    st = splot_step(c->x0, c->x1, 7);
    if (int_x && st < 1)
        st = 1;
    for (int i = 0; i < 20; i++) {
        double a = ceil(c->x0 / st - 1e-9) * st;
        double w = splot_widest(c, a, floor(c->x1 / st + 1e-9) * st, st);
        if ((c->R - c->L) * st / (c->x1 - c->x0) >= 1.4 * SPLOT_WIDER * w + 0.01 && (c->x1 - c->x0) / st <= SPLOT_TICKS_MAX)
            break;
        st = splot_step_up(st);
    }
    c->sx = st;
    plPlotter *pl = c->pl;
    /* the shaded span, under everything */
    if (isfinite(ch->span0) && isfinite(ch->span1) && ch->span1 > ch->span0) {
        double a = px(c, fmax(ch->span0, c->x0)), b = px(c, fmin(ch->span1, c->x1));
        if (b > a) {
            pl_filltype_r(pl, 1);
            pl_fillcolorname_r(pl, "gray90");
            pl_pencolorname_r(pl, "gray90");
            pl_fbox_r(pl, a, c->B, b, c->T);
            pl_filltype_r(pl, 0);
        }
    }
    /* y grid and ticks */
    double mag = fmax(fabs(c->y0), fabs(c->y1));
    long n = lround((c->y1 - c->y0) / c->sy);
    for (long i = 0; i <= n && i <= SPLOT_TICKS_MAX; i++) {
        double v = c->y0 + (double)i * c->sy;
        char s[40];
        splot_tick_label(s, sizeof s, v, c->sy, mag);
        pl_flinewidth_r(pl, 0.001);
        pl_pencolorname_r(pl, "gray80");
        pl_fline_r(pl, c->L, py(c, v), c->R, py(c, v));
        pl_pencolorname_r(pl, "black");
        pl_fmove_r(pl, c->L - 0.01, py(c, v));
        pl_alabel_r(pl, 'r', 'c', s);
    }
    /* x grid and ticks */
    mag = fmax(fabs(c->x0), fabs(c->x1));
    double xs = ceil(c->x0 / c->sx - 1e-9) * c->sx;
    n = (long)floor((c->x1 - xs) / c->sx + 1e-9);
    for (long i = 0; i <= n && i <= SPLOT_TICKS_MAX; i++) {
        double v = xs + (double)i * c->sx;
        char s[40];
        splot_tick_label(s, sizeof s, v, c->sx, mag);
        pl_flinewidth_r(pl, 0.001);
        pl_pencolorname_r(pl, "gray80");
        pl_fline_r(pl, px(c, v), c->B, px(c, v), c->T);
        pl_pencolorname_r(pl, "black");
        pl_fmove_r(pl, px(c, v), c->B - 0.008);
        pl_alabel_r(pl, 'c', 't', s);
    }
    pl_flinewidth_r(pl, 0.0015);
    pl_fbox_r(pl, c->L, c->B, c->R, c->T);
    pl_ffontsize_r(pl, SPLOT_FS_LABEL);
    pl_fmove_r(pl, (c->L + c->R) / 2, 0.03);
    pl_alabel_r(pl, 'c', 'c', ch->xlabel ? ch->xlabel : "");
    pl_ftextangle_r(pl, 90);
    pl_fmove_r(pl, 0.02, (c->B + c->T) / 2);
    pl_alabel_r(pl, 'c', 'c', ch->ylabel ? ch->ylabel : "");
    pl_ftextangle_r(pl, 0);
    pl_ffontsize_r(pl, SPLOT_FS_TITLE);
    pl_fmove_r(pl, 0.5, SPLOT_PAGE_H - 0.03);
    pl_alabel_r(pl, 'c', 'c', ch->title ? ch->title : "");
    splot_legend(c, ch->s, ch->ns, ch->dashed, SPLOT_PAGE_H - 0.055, 1);
}

static int splot_in_x(const splot_frame *c, double x) { return x >= c->x0 && x <= c->x1; }

/* One series as a polyline; a long one decimated to the min and max of
 * each of SPLOT_COLS columns, in time order (no peak is lost). */
static void splot_trace(splot_frame *c, const splot_series *s, int dashed, int steps)
{
    plPlotter *pl = c->pl;
    pl_pencolorname_r(pl, s->color ? s->color : "black");
    pl_flinewidth_r(pl, 0.002);
    pl_linemod_r(pl, dashed ? "longdashed" : "solid");
    int open = 0, decimate = s->n > 3 * SPLOT_COLS;
    long col = -1;
    size_t imin = 0, imax = 0;
    for (size_t i = 0; i <= s->n; i++) {
        int ok = i < s->n && isfinite(s->x[i]) && isfinite(s->y[i]) && splot_in_x(c, s->x[i]);
        long k = ok ? (long)floor((s->x[i] - c->x0) / (c->x1 - c->x0) * SPLOT_COLS) : -2;
        if (decimate && ok && k == col) {
            imin = s->y[i] < s->y[imin] ? i : imin;
            imax = s->y[i] > s->y[imax] ? i : imax;
            continue;
        }
        if (decimate && col >= 0) { /* the column ends: its extremes, in time order */
            size_t a = imin < imax ? imin : imax, b = imin < imax ? imax : imin;
            if (!open++)
                pl_fmove_r(pl, px(c, s->x[a]), py(c, s->y[a]));
            pl_fcont_r(pl, px(c, s->x[a]), py(c, s->y[a]));
            if (b != a)
                pl_fcont_r(pl, px(c, s->x[b]), py(c, s->y[b]));
            col = -1;
        }
        if (!ok) {
            if (open)
                pl_endpath_r(pl);
            open = 0;
            continue;
        }
        if (decimate) {
            col = k, imin = imax = i;
            continue;
        }
        if (!open++)
            pl_fmove_r(pl, px(c, s->x[i]), py(c, s->y[i]));
        else if (steps) /* the last value held to this sample */
            pl_fcont_r(pl, px(c, s->x[i]), py(c, s->y[i - 1]));
        pl_fcont_r(pl, px(c, s->x[i]), py(c, s->y[i]));
    }
    if (open)
        pl_endpath_r(pl);
    pl_linemod_r(pl, "solid");
}

/* A limit line across the plot area with its label, above the line or
 * below it when another line's label sits just above. */
static void splot_hline_draw(splot_frame *c, const splot_hline *hl, size_t nhl, size_t k)
{
    const splot_hline *h = &hl[k];
    if (!isfinite(h->y))
        return;
    pl_ffontsize_r(c->pl, SPLOT_FS_TICK);
    pl_pencolorname_r(c->pl, h->color ? h->color : "red");
    pl_flinewidth_r(c->pl, 0.002);
    pl_linemod_r(c->pl, "longdashed");
    pl_fline_r(c->pl, c->L, py(c, h->y), c->R, py(c, h->y));
    pl_linemod_r(c->pl, "solid");
    if (h->label && *h->label) {
        int below = 0;
        for (size_t o = 0; o < nhl; o++)
            below |= o != k && isfinite(hl[o].y) && py(c, hl[o].y) >= py(c, h->y) &&
                     py(c, hl[o].y) - py(c, h->y) < 0.03 && (hl[o].y != h->y || o > k);
        /* left-aligned, ending short of the right edge even in a wider font */
        double w = SPLOT_WIDER * pl_flabelwidth_r(c->pl, h->label);
        pl_fmove_r(c->pl, fmax(c->L + 0.005, c->R - 0.01 - w), py(c, h->y) + (below ? -0.006 : 0.005));
        pl_alabel_r(c->pl, 'l', below ? 't' : 'b', h->label);
    }
}

/* The highest top, not above `top`, at which box [x0, x1] x [top - len,
 * top] is `gap` clear of the placed boxes b[0..nb); NaN when it would
 * go under `bottom`. Each step moves below a box in the way, so it ends. */
static double splot_lab_fit(const splot_lab_area *a, const splot_lab_box *b, size_t nb, double x0, double x1,
                            double len)
{
    double top = a->top;
    for (;;) {
        if (top - len < a->bottom - 1e-12)
            return NAN;
        double next = top;
        for (size_t o = 0; o < nb; o++) {
            const splot_lab_box *p = &b[o];
            if (p->side && x0 < p->x1 + a->gap && p->x0 - a->gap < x1 && top - len < p->y1 + a->gap &&
                p->y0 - a->gap < top)
                next = fmin(next, p->y0 - a->gap);
        }
        if (next == top)
            return top;
        top = next;
    }
}

size_t splot_lab_layout(const splot_lab_area *a, const double *x, const double *len, size_t n,
                        splot_lab_box *out)
{
    size_t placed = 0;
    for (size_t k = 0; k < n; k++) {
        double xr0 = x[k] + a->gap, xr1 = xr0 + a->thick, xl1 = x[k] - a->gap, xl0 = xl1 - a->thick;
        double tr = xr1 <= a->right ? splot_lab_fit(a, out, k, xr0, xr1, len[k]) : NAN;
        double tl = xl0 >= a->left ? splot_lab_fit(a, out, k, xl0, xl1, len[k]) : NAN;
        splot_lab_box *b = &out[k];
        if (!isnan(tr) && !(tl > tr))
            *b = (splot_lab_box){xr0, tr - len[k], xr1, tr, 1};
        else if (!isnan(tl))
            *b = (splot_lab_box){xl0, tl - len[k], xl1, tl, -1};
        else
            *b = (splot_lab_box){x[k], NAN, x[k], NAN, 0};
        placed += b->side != 0;
    }
    return placed;
}

int splot_draw(const char *path, const splot_chart *ch)
{
    if (!ch || (ch->ns && !ch->s) || (ch->nmk && !ch->mk) || (ch->nhl && !ch->hl))
        return EK3_EINVAL;
    splot_frame c;
    memset(&c, 0, sizeof c);
    int fx = isfinite(ch->x0) && isfinite(ch->x1) && ch->x1 > ch->x0;
    double x0 = fx ? ch->x0 : INFINITY, x1 = fx ? ch->x1 : -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t k = 0; k < ch->ns; k++)
        for (size_t i = 0; i < ch->s[k].n; i++) {
            double x = ch->s[k].x[i], y = ch->s[k].y[i];
            if (!isfinite(x) || !isfinite(y) || (fx && (x < ch->x0 || x > ch->x1)))
                continue;
            if (!fx)
                x0 = fmin(x0, x), x1 = fmax(x1, x);
            y0 = fmin(y0, y), y1 = fmax(y1, y);
        }
    if (!isfinite(x0) || !isfinite(y0))
        return EK3_EINVAL;
    for (size_t k = 0; k < ch->nhl; k++)
        if (isfinite(ch->hl[k].y))
            y0 = fmin(y0, ch->hl[k].y), y1 = fmax(y1, ch->hl[k].y);
    if (!fx && x1 > x0) { /* a time axis from its first sample: from 0 when that is near, to a tick when near */
        double span = x1 - x0, st = splot_step(x0, x1, 7), e = ceil(x1 / st - 1e-9) * st;
        if (x0 > 0 && x0 <= 0.05 * span)
            x0 = 0;
        if (e - x1 < 0.03 * span)
            x1 = e;
    }
    int rc = splot_begin(&c, path);
    if (rc)
        return rc;
    c.x0 = x0, c.x1 = x1, c.y0 = y0, c.y1 = y1;
    splot_frame_draw(&c, ch, 0);
    for (size_t k = 0; k < ch->ns; k++)
        splot_trace(&c, &ch->s[k], k < 32 && (ch->dashed >> k & 1), k < 32 && (ch->steps >> k & 1));
    for (size_t k = 0; k < ch->nhl; k++)
        splot_hline_draw(&c, ch->hl, ch->nhl, k);
    pl_ffontsize_r(c.pl, SPLOT_FS_TICK);
    /* The lines, then their labels laid out clear of one another (splot_lab_layout);
     * a label longer than the plot is high is cut to fit, ending "...". */
    double lx[SPLOT_MARKS] = {0}, llen[SPLOT_MARKS] = {0};
    const splot_marker *lm[SPLOT_MARKS];
    char ltext[SPLOT_MARKS][96];
    splot_lab_box lb[SPLOT_MARKS];
    splot_lab_area la = {c.L + 0.002, c.R - 0.002, c.B + 0.005, c.T - 0.02, SPLOT_LAB_THICK, SPLOT_LAB_GAP};
    size_t nl = 0;
    for (size_t k = 0; k < ch->nmk; k++) {
        const splot_marker *m = &ch->mk[k];
        if (!isfinite(m->x) || !splot_in_x(&c, m->x))
            continue;
        pl_pencolorname_r(c.pl, m->color ? m->color : "red");
        pl_flinewidth_r(c.pl, 0.002);
        pl_linemod_r(c.pl, "dotdashed");
        pl_fline_r(c.pl, px(&c, m->x), c.B, px(&c, m->x), c.T);
        pl_linemod_r(c.pl, "solid");
        if (m->label && *m->label && nl < SPLOT_MARKS) {
            char *t = ltext[nl];
            snprintf(t, sizeof ltext[nl], "%s", m->label);
            for (size_t l = strlen(t); l > 4 && SPLOT_WIDER * pl_flabelwidth_r(c.pl, t) > la.top - la.bottom;)
                memcpy(t + (--l - 3), "...", 4);
            lx[nl] = px(&c, m->x), llen[nl] = SPLOT_WIDER * pl_flabelwidth_r(c.pl, t);
            lm[nl++] = m;
        }
    }
    splot_lab_layout(&la, lx, llen, nl, lb);
    pl_ftextangle_r(c.pl, 90);
    for (size_t k = 0; k < nl; k++) {
        if (!lb[k].side)
            continue;
        /* along the line, from the box's bottom up; the glyphs' tops at the box's left edge */
        pl_pencolorname_r(c.pl, lm[k]->color ? lm[k]->color : "red");
        pl_fmove_r(c.pl, lb[k].x0, lb[k].y0);
        pl_alabel_r(c.pl, 'l', 't', ltext[k]);
    }
    pl_ftextangle_r(c.pl, 0);
    return splot_end(&c);
}

int splot_lines(const char *path, const char *title, const char *xlabel, const char *ylabel,
                const splot_series *s, size_t ns)
{
    splot_chart ch = {.title = title, .xlabel = xlabel, .ylabel = ylabel, .s = s, .ns = ns,
                      .span0 = NAN, .span1 = NAN, .x0 = NAN, .x1 = NAN};
    return splot_draw(path, &ch);
}

int splot_bars(const char *path, const char *title, const char *xlabel, const char *ylabel, const double *y,
               size_t n, double ref)
{
    return splot_bars_limits(path, title, xlabel, ylabel, y, n, ref, NULL, 0);
}

int splot_bars_limits(const char *path, const char *title, const char *xlabel, const char *ylabel, const double *y,
                      size_t n, double ref, const splot_hline *hl, size_t nhl)
{
    if (!n || !y || (nhl && !hl))
        return EK3_EINVAL;
    double y0 = 0, y1 = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i]))
            y0 = fmin(y0, y[i]), y1 = fmax(y1, y[i]);
    if (isfinite(ref))
        y0 = fmin(y0, ref), y1 = fmax(y1, ref);
    for (size_t k = 0; k < nhl; k++)
        if (isfinite(hl[k].y))
            y0 = fmin(y0, hl[k].y), y1 = fmax(y1, hl[k].y);
    splot_frame c;
    memset(&c, 0, sizeof c);
    int rc = splot_begin(&c, path);
    if (rc)
        return rc;
    c.x0 = 0.5, c.x1 = (double)n + 0.5, c.y0 = y0, c.y1 = y1;
    char mean[64] = "";
    if (isfinite(ref))
        snprintf(mean, sizeof mean, "mean");
    splot_series leg[2] = {{"module", "steelblue", NULL, NULL, 0}, {mean, "red", NULL, NULL, 0}};
    splot_chart ch = {.title = title, .xlabel = xlabel, .ylabel = ylabel, .s = leg, .ns = 2, .dashed = 2};
    splot_frame_draw(&c, &ch, 1);
    pl_filltype_r(c.pl, 1);
    pl_fillcolorname_r(c.pl, "steelblue");
    pl_pencolorname_r(c.pl, "steelblue");
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i]))
            pl_fbox_r(c.pl, px(&c, (double)i + 0.6), py(&c, fmax(0, c.y0)), px(&c, (double)i + 1.4), py(&c, y[i]));
    pl_filltype_r(c.pl, 0);
    if (isfinite(ref)) {
        pl_pencolorname_r(c.pl, "red");
        pl_flinewidth_r(c.pl, 0.002);
        pl_linemod_r(c.pl, "longdashed");
        pl_fline_r(c.pl, c.L, py(&c, ref), c.R, py(&c, ref));
        pl_linemod_r(c.pl, "solid");
    }
    for (size_t k = 0; k < nhl; k++)
        splot_hline_draw(&c, hl, nhl, k);
    return splot_end(&c);
}
