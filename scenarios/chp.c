/* chp.c - a scenario check's plot (chp.h). */
#include "chp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"

#define CHP_MARKS 40 /* markers drawn at most: the check's own and the faults */

void chp_file_name(char *buf, size_t cap, const char *name, unsigned k)
{
    char s[64];
    size_t o = 0;
    for (const char *p = name ? name : ""; *p && o < 60; p++) {
        char ch = *p;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                 ch == '_' || ch == '.';
        if (!ok && o && s[o - 1] == '_')
            continue;
        s[o++] = ok ? ch : '_';
    }
    while (o && s[o - 1] == '_') /* "ripple(bus.v)" -> "ripple_bus.v", not "ripple_bus.v_" */
        o--;
    s[o] = 0;
    if (k > 1)
        snprintf(buf, cap, "check-%s-%u.svg", o ? s : "unnamed", k);
    else
        snprintf(buf, cap, "check-%s.svg", o ? s : "unnamed");
}

size_t chp_fault_markers(const scn_result *r, splot_marker *mk, char (*lab)[48], size_t max)
{
    size_t n = 0;
    for (unsigned i = 0; r && i < r->nfault && n < max; i++) {
        const scn_fault *f = &r->fault[i];
        if (f->onset_s < 0 || f->spec.id >= flt_count)
            continue;
        snprintf(lab[n], sizeof lab[n], "fault %s %u", flt_table[f->spec.id].name, f->spec.target);
        mk[n] = (splot_marker){f->onset_s, lab[n], "purple"};
        n++;
    }
    return n;
}

int chp_write(const char *dir, const char *file, const chp_fig *f, char *err, size_t errcap)
{
    if (err && errcap)
        err[0] = 0;
    if (!dir || !file || !f || !f->t || !f->y || !f->n)
        return EK3_EINVAL;
    double t0 = isfinite(f->from) ? f->from : f->t[0], t1 = isfinite(f->to) ? f->to : f->t[f->n - 1];
    if (!(t1 > t0))
        t1 = t0 + 1e-4; /* one sample: a quantum's width */
    double m = 0.05 * (t1 - t0);
    splot_series s[6];
    size_t ns = 0;
    unsigned long dashed = 0;
    s[ns++] = (splot_series){f->signal ? f->signal : f->name, "blue", f->t, f->y, f->n};
    if (f->y2)
        s[ns++] = (splot_series){f->name2 ? f->name2 : "", "darkorange", f->t, f->y2, f->n};
    double *ylim = NULL; /* the limit: a share of y2 */
    char limname[160];
    if (f->y2 && f->y2_pct > 0 && (ylim = malloc(f->n * sizeof *ylim))) {
        for (size_t i = 0; i < f->n; i++)
            ylim[i] = f->y2[i] * f->y2_pct / 100;
        snprintf(limname, sizeof limname, "limit: %g %% of %s", f->y2_pct, f->name2 ? f->name2 : "it");
        dashed |= 1ul << ns;
        s[ns++] = (splot_series){limname, "red", f->t, ylim, f->n};
    } else if (f->y2 && f->y2_pct > 0) {
        if (err && errcap)
            snprintf(err, errcap, "%s/%s: out of memory for the limit line", dir, file);
        return EK3_ENOSPC;
    }
    double lx[2] = {t0, t1}, ly[2], lyl[2], lyh[2];
    if (isfinite(f->line_a) && isfinite(f->line_b)) {
        for (int i = 0; i < 2; i++) {
            ly[i] = f->line_a + f->line_b * (lx[i] - f->line_t0);
            lyl[i] = ly[i] - f->line_dev, lyh[i] = ly[i] + f->line_dev;
        }
        dashed |= 1ul << ns;
        s[ns++] = (splot_series){"ideal", "black", lx, ly, 2};
        if (isfinite(f->line_dev)) {
            dashed |= 3ul << ns;
            s[ns++] = (splot_series){"limit (ideal +- max deviation)", "red", lx, lyl, 2};
            s[ns++] = (splot_series){"", "red", lx, lyh, 2};
        }
    }
    splot_hline h[2] = {{f->lo, f->lo_label, "red"}, {f->hi, f->hi_label, "red"}};
    splot_marker mk[CHP_MARKS];
    size_t nm = 0;
    char fail[64];
    if (isfinite(f->at))
        mk[nm++] = (splot_marker){f->at, f->at_label, "black"};
    if (isfinite(f->deadline))
        mk[nm++] = (splot_marker){f->deadline, f->deadline_label, "darkorange"};
    if (isfinite(f->seen) && f->seen_label && *f->seen_label)
        mk[nm++] = (splot_marker){f->seen, f->seen_label, "red"};
    if (!f->pass && isfinite(f->fail_t)) {
        snprintf(fail, sizeof fail, "FAIL at %.6g s", f->fail_t);
        mk[nm++] = (splot_marker){f->fail_t, fail, "red"};
    }
    for (size_t i = 0; i < f->nmk && f->mk && nm < CHP_MARKS; i++)
        mk[nm++] = (splot_marker){f->mk[i].x, f->mk[i].label, f->mk[i].color ? f->mk[i].color : "purple"};
    char title[200], ylabel[160], path[1200];
    snprintf(title, sizeof title, "%s: %s", f->name ? f->name : "check", f->pass ? "PASS" : "FAIL");
    splot_axis_label(ylabel, sizeof ylabel, f->signal ? f->signal : "value", f->unit);
    splot_chart ch = {.title = title, .xlabel = "time (s)", .ylabel = ylabel, .s = s, .ns = ns, .dashed = dashed, .steps = f->steps ? 3ul : 0, .mk = mk,
                      .nmk = nm, .hl = h, .nhl = 2, .span0 = t0, .span1 = t1, .x0 = t0 - m, .x1 = t1 + m};
    snprintf(path, sizeof path, "%s/%s", dir, file);
    errno = 0;
    int rc = splot_draw(path, &ch);
    free(ylim);
    if (rc && err && errcap)
        snprintf(err, errcap, "%s: %s", path, rc == EK3_EIO && errno ? strerror(errno) : ek3_strerror(rc));
    return rc;
}
