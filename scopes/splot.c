/* splot.c - line and bar charts with libplot. */
#include "splot.h"

#include <math.h>
#include <stdio.h> /* before plot.h, which uses FILE */
#include <plot.h>
#include <string.h>

#include "ek3_err.h"

#define SPLOT_TICKS_MAX 100 /* ticks per axis at most (about 6 are drawn) */

/* A round tick step giving about 6 ticks over span. */
static double splot_step(double span)
{
    double raw = span / 6.0, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

typedef struct splot_frame {
    plPlotter *pl;
    plPlotterParams *pp;
    FILE *f;
    double x0, x1, y0, y1;
} splot_frame;

/* Chart coordinates: the plot area is [0.12, 0.95] x [0.12, 0.88] of the page. */
static double px(const splot_frame *c, double x) { return 0.12 + 0.83 * (x - c->x0) / (c->x1 - c->x0); }
static double py(const splot_frame *c, double y) { return 0.12 + 0.76 * (y - c->y0) / (c->y1 - c->y0); }

static int splot_open(splot_frame *c, const char *path, const char *title, const char *xl, const char *yl, double x0,
                      double x1, double y0, double y1)
{
    const char *ext = strrchr(path, '.');
    const char *type = ext && !strcmp(ext, ".png") ? "png" : ext && !strcmp(ext, ".svg") ? "svg" : NULL;
    if (!type || !(x1 > x0) || !(y1 >= y0))
        return EK3_EINVAL;
    /* A range too small for its values' magnitude (a flat series, or a
     * night's figure that moved in its last digits): widened, or a tick's
     * step falls below the values' precision and v += step never ends. */
    double my = fmax(fabs(y0), fabs(y1)), mx = fmax(fabs(x0), fabs(x1));
    if (y1 - y0 <= my * 1e-9) {
        double h = my > 0 ? my * 0.01 : 1;
        y0 -= h, y1 += h;
    }
    if (x1 - x0 <= mx * 1e-9) {
        double h = mx * 0.01;
        x0 -= h, x1 += h;
    }
    double pad = 0.05 * (y1 - y0);
    double st = splot_step(y1 - y0 + 2 * pad);
    c->y0 = floor((y0 - pad) / st) * st;
    c->y1 = ceil((y1 + pad) / st) * st;
    c->x0 = x0;
    c->x1 = x1;
    c->f = fopen(path, "wb");
    if (!c->f)
        return EK3_EIO;
    c->pp = pl_newplparams();
    pl_setplparam(c->pp, "BITMAPSIZE", "900x540");
    pl_setplparam(c->pp, "PAGESIZE", "a4");
    c->pl = pl_newpl_r(type, NULL, c->f, stderr, c->pp);
    if (!c->pl || pl_openpl_r(c->pl) < 0) {
        fclose(c->f);
        return EK3_EIO;
    }
    pl_fspace_r(c->pl, 0, 0, 1, 1);
    pl_bgcolorname_r(c->pl, "white");
    pl_erase_r(c->pl);
    pl_fontname_r(c->pl, "HersheySans");
    pl_ffontsize_r(c->pl, 0.022);
    pl_pencolorname_r(c->pl, "black");
    pl_flinewidth_r(c->pl, 0.0015);
    pl_fbox_r(c->pl, 0.12, 0.12, 0.95, 0.88);
    /* Y ticks and grid. */
    long ny = lround((c->y1 - c->y0) / st);
    for (long i = 0; i <= ny && i <= SPLOT_TICKS_MAX; i++) {
        double v = c->y0 + (double)i * st;
        char s[32];
        snprintf(s, sizeof s, "%g", fabs(v) < st * 1e-9 ? 0.0 : v);
        pl_pencolorname_r(c->pl, "gray85");
        pl_fline_r(c->pl, 0.12, py(c, v), 0.95, py(c, v));
        pl_pencolorname_r(c->pl, "black");
        pl_fmove_r(c->pl, 0.11, py(c, v));
        pl_alabel_r(c->pl, 'r', 'c', s);
    }
    double sx = splot_step(x1 - x0), xs = ceil(x0 / sx) * sx;
    long nx = (long)floor((x1 - xs) / sx + 1e-9);
    for (long i = 0; i <= nx && i <= SPLOT_TICKS_MAX; i++) {
        double v = xs + (double)i * sx;
        char s[32];
        snprintf(s, sizeof s, "%g", fabs(v) < sx * 1e-9 ? 0.0 : v);
        pl_fmove_r(c->pl, px(c, v), 0.10);
        pl_alabel_r(c->pl, 'c', 't', s);
    }
    pl_fmove_r(c->pl, 0.535, 0.04);
    pl_alabel_r(c->pl, 'c', 'c', xl);
    pl_ftextangle_r(c->pl, 90);
    pl_fmove_r(c->pl, 0.03, 0.5);
    pl_alabel_r(c->pl, 'c', 'c', yl);
    pl_ftextangle_r(c->pl, 0);
    pl_ffontsize_r(c->pl, 0.028);
    pl_fmove_r(c->pl, 0.535, 0.94);
    pl_alabel_r(c->pl, 'c', 'c', title);
    pl_ffontsize_r(c->pl, 0.02);
    return EK3_OK;
}

static int splot_close(splot_frame *c)
{
    pl_closepl_r(c->pl);
    pl_deletepl_r(c->pl);
    pl_deleteplparams(c->pp);
    int err = ferror(c->f); /* a write that failed before the last flush */
    return fclose(c->f) || err ? EK3_EIO : EK3_OK;
}

int splot_lines(const char *path, const char *title, const char *xlabel, const char *ylabel,
                const splot_series *s, size_t ns)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < s[k].n; i++) {
            x0 = fmin(x0, s[k].x[i]), x1 = fmax(x1, s[k].x[i]);
            y0 = fmin(y0, s[k].y[i]), y1 = fmax(y1, s[k].y[i]);
        }
    if (!isfinite(x0) || !isfinite(y0))
        return EK3_EINVAL;
    splot_frame c;
    int rc = splot_open(&c, path, title, xlabel, ylabel, x0, x1, y0, y1);
    if (rc)
        return rc;
    for (size_t k = 0; k < ns; k++) {
        pl_pencolorname_r(c.pl, s[k].color);
        pl_flinewidth_r(c.pl, 0.002);
        /* At most ~4000 points per line: decimate keeping extremes. */
        size_t step = s[k].n > 4000 ? s[k].n / 2000 : 1;
        for (size_t i = 0; i < s[k].n; i += step) {
            double lo = s[k].y[i], hi = s[k].y[i];
            for (size_t j = i; j < i + step && j < s[k].n; j++)
                lo = fmin(lo, s[k].y[j]), hi = fmax(hi, s[k].y[j]);
            double x = px(&c, s[k].x[i]);
            if (i == 0)
                pl_fmove_r(c.pl, x, py(&c, lo));
            pl_fcont_r(c.pl, x, py(&c, lo));
            if (hi != lo)
                pl_fcont_r(c.pl, x, py(&c, hi));
        }
        pl_endpath_r(c.pl);
        pl_fmove_r(c.pl, 0.14 + 0.25 * (double)k, 0.85);
        pl_alabel_r(c.pl, 'l', 'c', s[k].name);
    }
    return splot_close(&c);
}

int splot_bars(const char *path, const char *title, const char *xlabel, const char *ylabel, const double *y,
               size_t n, double ref)
{
    if (!n)
        return EK3_EINVAL;
    double y0 = 0, y1 = 0;
    for (size_t i = 0; i < n; i++)
        y0 = fmin(y0, y[i]), y1 = fmax(y1, y[i]);
    if (isfinite(ref))
        y1 = fmax(y1, ref);
    splot_frame c;
    int rc = splot_open(&c, path, title, xlabel, ylabel, 0.5, (double)n + 0.5, y0, y1);
    if (rc)
        return rc;
    pl_filltype_r(c.pl, 1);
    pl_fillcolorname_r(c.pl, "steelblue");
    pl_pencolorname_r(c.pl, "steelblue");
    for (size_t i = 0; i < n; i++)
        pl_fbox_r(c.pl, px(&c, (double)i + 0.6), py(&c, 0), px(&c, (double)i + 1.4), py(&c, y[i]));
    pl_filltype_r(c.pl, 0);
    if (isfinite(ref)) {
        pl_pencolorname_r(c.pl, "red");
        pl_linemod_r(c.pl, "longdashed");
        pl_fline_r(c.pl, 0.12, py(&c, ref), 0.95, py(&c, ref));
    }
    return splot_close(&c);
}
