/* test_plots.c - the report plots (splot.h) and the scenario checks'
 * plots (chp.h), read back the way a person reads them: each SVG is
 * parsed with libxml2 and its <text> and <line> elements are checked.
 * The axis labels carry their units; a 0..1500 V range has round ticks
 * without exponents, evenly spaced, covering the data; SI prefixes for
 * large and small values; each trace is named in a legend above the
 * plot area; a fault marker's line and label sit at its time; a limit's
 * dashed line at its value. A small scenario with a report directory
 * draws one plot per check, named after it and listed in the verdict
 * (verdict.json read back), with the limits at the right y, the window
 * shaded and a failed check's first failing instant marked. Marker
 * labels never overlap (splot_lab_layout's boxes; a drawn chart's
 * labels); a check's plot draws what it compared with (delivered's
 * demand and limit, trip_latency's trip instant). */
#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chp.h"
#include "ek3_err.h"
#include "scn.h"
#include "splot.h"
#include "vrd.h"

static char dir[] = "/tmp/ek3-plots-XXXXXX";

/* Made once (a flag, not the template's last letter: mkdtemp's random
 * suffix ends in 'X' one time in 62). */
static void mkdir_once(void)
{
    static int made;
    if (!made)
        cr_assert_not_null(mkdtemp(dir));
    made = 1;
}

/* What an SVG of splot shows: its texts with their positions (page
 * units, y up), its lines, and the plot area. */
typedef struct txt {
    char s[120];
    double x, y;
    int rotated;
} txt;
typedef struct seg {
    double x1, y1, x2, y2;
    int dashed, grid;
} seg;
typedef struct svg {
    txt t[400];
    unsigned nt;
    seg l[400];
    unsigned nl;
    double L, B, R, T; /* the plot area: the largest rect but the background */
    unsigned fills;    /* filled polygons (a shaded window) */
    double fill_x0, fill_x1;
} svg;

static double attr(xmlNode *n, const char *k)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)k);
    double d = v ? strtod((const char *)v, NULL) : NAN;
    xmlFree(v);
    return d;
}

static int has_attr(xmlNode *n, const char *k, const char *val)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)k);
    int r = v && (!val || !strcmp((const char *)v, val));
    xmlFree(v);
    return r;
}

static void walk(xmlNode *n, svg *g)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)n->name;
        if (!strcmp(name, "text") && g->nt < 400) {
            txt *t = &g->t[g->nt++];
            xmlChar *c = xmlNodeGetContent(n), *tr = xmlGetProp(n, (const xmlChar *)"transform");
            snprintf(t->s, sizeof t->s, "%s", c ? (const char *)c : "");
            const char *p = tr ? (const char *)tr : "";
            double a[6] = {0};
            if (!strncmp(p, "translate(", 10)) {
                sscanf(p + 10, "%lf,%lf", &t->x, &t->y);
            } else if (!strncmp(p, "matrix(", 7)) {
                sscanf(p + 7, "%lf %lf %lf %lf %lf %lf", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]);
                t->x = a[4], t->y = a[5], t->rotated = 1;
            }
            xmlFree(c), xmlFree(tr);
        } else if (!strcmp(name, "line") && g->nl < 400) {
            seg *s = &g->l[g->nl++];
            s->x1 = attr(n, "x1"), s->y1 = attr(n, "y1"), s->x2 = attr(n, "x2"), s->y2 = attr(n, "y2");
            s->dashed = has_attr(n, "stroke-dasharray", NULL);
            s->grid = has_attr(n, "stroke", "#cccccc");
        } else if (!strcmp(name, "rect") && has_attr(n, "fill", "#e5e5e5")) { /* a shaded span */
            g->fills++, g->fill_x0 = attr(n, "x"), g->fill_x1 = g->fill_x0 + attr(n, "width");
        } else if (!strcmp(name, "rect") && !has_attr(n, "id", NULL)) {
            double x = attr(n, "x"), y = attr(n, "y"), w = attr(n, "width"), h = attr(n, "height");
            if (w * h > (g->R - g->L) * (g->T - g->B))
                g->L = x, g->B = y, g->R = x + w, g->T = y + h;
        }
        walk(n->children, g);
    }
}

static void read_svg(const char *path, svg *g)
{
    memset(g, 0, sizeof *g);
    xmlDocPtr d = xmlReadFile(path, NULL, XML_PARSE_NONET);
    cr_assert_not_null(d, "%s does not parse as XML", path);
    xmlNode *root = xmlDocGetRootElement(d);
    cr_assert_str_eq((const char *)root->name, "svg", "%s", path);
    walk(root, g);
    xmlFreeDoc(d);
    cr_assert_gt(g->R - g->L, 0.5, "%s: no plot area", path);
}

static const txt *text(const svg *g, const char *s)
{
    for (unsigned i = 0; i < g->nt; i++)
        if (!strcmp(g->t[i].s, s))
            return &g->t[i];
    return NULL;
}

static const txt *text_prefix(const svg *g, const char *s)
{
    for (unsigned i = 0; i < g->nt; i++)
        if (!strncmp(g->t[i].s, s, strlen(s)))
            return &g->t[i];
    return NULL;
}

/* The y axis: its tick labels (left of the area, not rotated) as numbers
 * in order, and the horizontal grid lines' y in order; value -> page y
 * fitted from the first and last. */
typedef struct yaxis {
    double v[40], y[40];
    unsigned n;
} yaxis;

/* A tick label's value ("1500", "-1.0m", "20k"); 0 when it is none. */
static int tick_value(const char *s, double *v)
{
    char *e;
    *v = strtod(s, &e);
    if (e == s)
        return 0;
    static const char pre[] = "pnumkMGT";
    const char *p = *e ? strchr(pre, *e) : NULL;
    if (p && !e[1])
        *v *= pow(10, 3 * (int)(p - pre) - 12);
    return !*e || (p && !e[1]);
}

static void read_yaxis(const svg *g, yaxis *a)
{
    a->n = 0;
    unsigned ng = 0;
    for (unsigned i = 0; i < g->nt && a->n < 40; i++) {
        const txt *t = &g->t[i];
        double v;
        if (!t->rotated && t->x < g->L && t->y > g->B - 0.01 && tick_value(t->s, &v))
            a->v[a->n++] = v;
    }
    for (unsigned i = 0; i < g->nl && ng < 40; i++)
        if (g->l[i].grid && fabs(g->l[i].y1 - g->l[i].y2) < 1e-9)
            a->y[ng++] = g->l[i].y1;
    cr_assert_geq(a->n, 4, "%u y ticks", a->n);
    cr_assert_eq(ng, a->n, "%u grid lines for %u ticks", ng, a->n);
}

static double y_of(const yaxis *a, double v)
{
    return a->y[0] + (a->y[a->n - 1] - a->y[0]) * (v - a->v[0]) / (a->v[a->n - 1] - a->v[0]);
}

static const seg *dashed_hline_at(const svg *g, double y)
{
    for (unsigned i = 0; i < g->nl; i++) {
        const seg *s = &g->l[i];
        if (s->dashed && fabs(s->y1 - s->y2) < 1e-9 && fabs(s->y1 - y) < 2e-3 && s->x2 - s->x1 > 0.5)
            return s;
    }
    return NULL;
}

Test(plots, tick_labels_are_round_and_never_exponents)
{
    static const struct {
        double v, step, mag;
        const char *want;
    } c[] = {
        {1500, 500, 1500, "1500"}, {0, 500, 1500, "0"},      {0.25, 0.05, 1, "0.25"},    {0.2, 0.2, 1, "0.2"},
        {20000, 5000, 40000, "20k"}, {1.5e6, 5e5, 2e6, "1.5M"}, {2.5e-4, 5e-5, 5e-4, "250u"}, {-1e-3, 5e-4, 1e-3, "-1.0m"},
        {-200, 100, 300, "-200"},    {1e-17, 0.1, 1, "0"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char b[40];
        splot_tick_label(b, sizeof b, c[i].v, c[i].step, c[i].mag);
        cr_assert_str_eq(b, c[i].want, "%g step %g: '%s'", c[i].v, c[i].step, b);
    }
    cr_assert_float_eq(splot_step(0, 1500, 3), 500, 1e-9);
    cr_assert_float_eq(splot_step(0, 1, 6), 0.2, 1e-12);
    char b[60];
    cr_assert_str_eq(splot_axis_label(b, sizeof b, "bus voltage", "V"), "bus voltage (V)");
    cr_assert_str_eq(splot_axis_label(b, sizeof b, "slot", ""), "slot");
}

/* A bus voltage from 0 to 1500 V over 2 s, a second trace, a fault
 * marker at 1.2 s and a limit at 700 V. */
Test(plots, a_chart_has_units_round_ticks_a_legend_a_marker_and_a_limit)
{
    mkdir_once();
    enum { N = 20001 };
    static double t[N], v[N], w[N];
    for (int i = 0; i < N; i++)
        t[i] = i * 1e-4, v[i] = 1500 * t[i] / 2, w[i] = v[i] / 2 + 100 * sin(i * 0.01);
    splot_series s[2] = {{"bus voltage", "blue", t, v, N}, {"module[3].vout", "darkgreen", t, w, N}};
    splot_marker mk[1] = {{1.2, "fault ocp 3", NULL}};
    splot_hline hl[1] = {{700, "limit 700 V", NULL}};
    splot_chart ch = {.title = "Rack DC bus", .xlabel = "time (s)", .ylabel = "bus voltage (V)", .s = s, .ns = 2,
                      .mk = mk, .nmk = 1, .hl = hl, .nhl = 1, .span0 = NAN, .span1 = NAN, .x0 = 0, .x1 = 2};
    char p[300];
    snprintf(p, sizeof p, "%s/chart.svg", dir);
    cr_assert_eq(splot_draw(p, &ch), 0);
    static svg g;
    read_svg(p, &g);
    /* units on the axes */
    cr_assert_not_null(text(&g, "time (s)"));
    const txt *yl = text(&g, "bus voltage (V)");
    cr_assert(yl && yl->rotated, "the y label, along the axis");
    /* the y ticks: round, evenly spaced, covering 0..1500, no exponent */
    yaxis a;
    read_yaxis(&g, &a);
    double st = a.v[1] - a.v[0];
    double m = pow(10, floor(log10(st))), f = st / m;
    cr_assert(fabs(f - 1) < 1e-9 || fabs(f - 2) < 1e-9 || fabs(f - 5) < 1e-9, "step %g is not 1, 2 or 5 x 10^k", st);
    cr_assert_leq(a.v[0], 0);
    cr_assert_geq(a.v[a.n - 1], 1500);
    cr_assert_leq(a.n, 11, "%u ticks", a.n);
    for (unsigned i = 1; i < a.n; i++) {
        cr_assert_float_eq(a.v[i] - a.v[i - 1], st, 1e-9, "ticks %g, %g", a.v[i - 1], a.v[i]);
        cr_assert_float_eq(a.y[i] - a.y[i - 1], a.y[1] - a.y[0], 1e-4);
    }
    for (unsigned i = 0; i < g.nt; i++)
        cr_assert_null(strstr(g.t[i].s, "e+"), "'%s'", g.t[i].s);
    cr_assert_not_null(text(&g, "0"));
    cr_assert_not_null(text(&g, "1000"));
    /* the x ticks at 0 .. 2 s, labels not overlapping (1 char = about half a font size) */
    const txt *x1 = text(&g, "1.0"), *x2 = text(&g, "2.0");
    cr_assert(x1 && x2 && x1->y < g.B && x2->y < g.B && x2->x > x1->x, "x ticks 1.0 and 2.0");
    /* the legend names each trace, above the plot area (not over the data) */
    for (int k = 0; k < 2; k++) {
        const txt *l = text(&g, s[k].name);
        cr_assert_not_null(l, "legend '%s'", s[k].name);
        cr_assert_gt(l->y, g.T, "legend '%s' at y %g, inside the plot area (top %g)", s[k].name, l->y, g.T);
    }
    /* the marker: a line at 1.2 s and its label beside it */
    double mx = g.L + (g.R - g.L) * 1.2 / 2;
    int line = 0;
    for (unsigned i = 0; i < g.nl; i++)
        line |= g.l[i].dashed && fabs(g.l[i].x1 - mx) < 1e-4 && fabs(g.l[i].x2 - mx) < 1e-4;
    cr_assert(line, "no marker line at x %g", mx);
    const txt *ml = text(&g, "fault ocp 3");
    cr_assert_not_null(ml);
    cr_assert(fabs(ml->x - mx) < 0.03, "marker label at x %g, its line at %g", ml->x, mx);
    /* the limit: a dashed line at 700 V across the plot, labelled */
    cr_assert_not_null(dashed_hline_at(&g, y_of(&a, 700)), "no dashed line at 700 V (y %g)", y_of(&a, 700));
    cr_assert_not_null(text(&g, "limit 700 V"));
}

/* Flat, tiny and negative ranges: sensible ticks, no hang, no exponent. */
Test(plots, flat_tiny_and_negative_ranges)
{
    mkdir_once();
    double t[3] = {0, 1e-3, 2e-3}, flat[3] = {750, 750, 750}, tiny[3] = {1e-6, 3e-6, 2e-6}, neg[3] = {-40, -5, -30};
    const double *ys[3] = {flat, tiny, neg};
    const char *names[3] = {"flat", "tiny", "neg"};
    for (int k = 0; k < 3; k++) {
        splot_series s = {names[k], "blue", t, ys[k], 3};
        char p[300];
        snprintf(p, sizeof p, "%s/%s.svg", dir, names[k]);
        cr_assert_eq(splot_lines(p, names[k], "time (s)", "value (V)", &s, 1), 0);
        static svg g;
        read_svg(p, &g);
        yaxis a;
        read_yaxis(&g, &a);
        for (unsigned i = 0; i < g.nt; i++)
            cr_assert_null(strstr(g.t[i].s, "e-"), "%s: '%s'", names[k], g.t[i].s);
        double lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < 3; i++)
            lo = fmin(lo, ys[k][i]), hi = fmax(hi, ys[k][i]);
        cr_assert(a.v[0] <= lo && a.v[a.n - 1] >= hi, "%s: ticks %g .. %g miss the data", names[k], a.v[0],
                  a.v[a.n - 1]);
        cr_assert(a.v[a.n - 1] > a.v[0]);
        /* the time axis in ms: "0", "0.5m", ... "2.0m" */
        cr_assert_not_null(text_prefix(&g, "2.0m"), "%s: no 2.0m tick", names[k]);
    }
}

/* Run the scenario `text` (seed 1, one thread) from NAME.lua with its
 * report in the folder NAME (both in dir) into *r; the verdict. The
 * report folder's path into rep[cap]. */
static int run_scenario(const char *name, const char *text, scn_result *r, char *rep, size_t cap)
{
    mkdir_once();
    char lua[300];
    snprintf(rep, cap, "%s/%s", dir, name);
    cr_assert(mkdir(rep, 0755) == 0 || access(rep, F_OK) == 0);
    snprintf(lua, sizeof lua, "%s/%s.lua", dir, name);
    FILE *f = fopen(lua, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    FILE *null = fopen("/dev/null", "w");
    scn_opts o = {.seed = 1, .threads = 1, .out = null, .report_dir = rep};
    int v = scn_run_file(lua, &o, r);
    fclose(null);
    return v;
}

/* A small scenario with a report directory: a plot per check. */
Test(plots, every_check_of_a_scenario_has_its_plot_with_its_limit)
{
    char rep[300], p[700];
    scn_result r;
    int v = run_scenario("report",
                         "scenario{ name='plots', seeds={1} }\n"
                         "rack{ modules=4, load='4kW', load_at='0.5s', load_ramp='1ms' }\n"
                         "run('0.6s')\n"
                         "within('bus.v', 700, 760, {from=0.6, to=0.62})\n"
                         "ripple('bus.v', {from=0.6, to=0.62, max='1uV'})\n"
                         "within('bus.v', 700, 760, {from=0.6, to=0.61})\n"
                         "sharing_spread({from=0.6, to=0.62, max=50})\n"
                         "run('30ms')\n",
                         &r, rep, sizeof rep);
    cr_assert_eq(v, SCN_FAIL, "%s %s", scn_verdict_name((unsigned)v), r.error);
    static const char *const want[4] = {"check-within_bus.v.svg", "check-ripple_bus.v.svg",
                                        "check-within_bus.v-2.svg", "check-sharing_spread.svg"};
    for (int k = 0; k < 4; k++) {
        int listed = 0;
        for (unsigned i = 0; i < r.nfig; i++)
            listed |= !strcmp(r.fig[i].plot, want[k]);
        cr_assert(listed, "no figure names %s", want[k]);
        snprintf(p, sizeof p, "%s/%s", rep, want[k]);
        cr_assert_eq(access(p, R_OK), 0, "%s not written", p);
    }
    /* the within check: its limits at 700 and 760 V, its window shaded */
    static svg g;
    snprintf(p, sizeof p, "%s/%s", rep, want[0]);
    read_svg(p, &g);
    cr_assert_not_null(text(&g, "bus.v (V)"), "the y axis names the signal and its unit");
    cr_assert_not_null(text(&g, "time (s)"));
    cr_assert_not_null(text_prefix(&g, "within(bus.v): PASS"));
    yaxis a;
    read_yaxis(&g, &a);
    cr_assert_not_null(dashed_hline_at(&g, y_of(&a, 700)), "no limit line at 700 V");
    cr_assert_not_null(dashed_hline_at(&g, y_of(&a, 760)), "no limit line at 760 V");
    cr_assert_eq(g.fills, 1, "the window shaded");
    double w = g.R - g.L; /* the x range is the window and 5 % each side */
    cr_assert_float_eq(g.fill_x0, g.L + w * 0.05 / 1.1, 2e-3);
    cr_assert_float_eq(g.fill_x1, g.R - w * 0.05 / 1.1, 2e-3);
    /* the failed ripple: its first failing instant marked */
    snprintf(p, sizeof p, "%s/%s", rep, want[1]);
    read_svg(p, &g);
    cr_assert_not_null(text_prefix(&g, "ripple(bus.v): FAIL"));
    cr_assert_not_null(text_prefix(&g, "FAIL at 0.60"), "the first failing instant");
    /* listed in verdict.json and verdict.txt */
    char err[600];
    cr_assert_eq(vrd_write(rep, &r, err, sizeof err), 0, "%s", err);
    snprintf(p, sizeof p, "%s/verdict.json", rep);
    scn_result b;
    cr_assert_eq(vrd_read(p, &b, err, sizeof err), 0, "%s", err);
    int listed = 0;
    for (unsigned i = 0; i < b.nfig; i++)
        listed |= !strcmp(b.fig[i].plot, want[1]);
    cr_assert(listed, "verdict.json does not list %s", want[1]);
    scn_result_free(&b);
    snprintf(p, sizeof p, "%s/verdict.txt", rep);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f);
    static char txtbuf[1 << 16];
    size_t n = fread(txtbuf, 1, sizeof txtbuf - 1, f);
    txtbuf[n] = 0;
    fclose(f);
    cr_assert_not_null(strstr(txtbuf, "plot check-within_bus.v-2.svg"), "%s", txtbuf);
    scn_result_free(&r);
}

Test(plots, check_file_names_are_sanitised)
{
    char b[100];
    chp_file_name(b, sizeof b, "restart_time(3, AUDIT_LOGGER)", 1);
    cr_assert_str_eq(b, "check-restart_time_3_AUDIT_LOGGER.svg");
    chp_file_name(b, sizeof b, "../../etc/passwd", 2);
    cr_assert_str_eq(b, "check-.._.._etc_passwd-2.svg");
    cr_assert_null(strchr(b, '/'));
    chp_file_name(b, sizeof b, "", 1);
    cr_assert_str_eq(b, "check-unnamed.svg");
}

/* Whether two label boxes overlap or come closer than gap (less a rounding hair). */
static int boxes_clash(const splot_lab_box *a, const splot_lab_box *b, double gap)
{
    double g = gap - 1e-9;
    return a->x0 < b->x1 + g && b->x0 < a->x1 + g && a->y0 < b->y1 + g && b->y0 < a->y1 + g;
}

/* Marker labels laid out (splot_lab_layout), checked on their geometry:
 * over 2000 random sets of up to 40 markers, crowded or not, no two
 * placed labels overlap or touch (a gap clear), each sits beside its own
 * line (right or left, a gap from it) within the room; where there is
 * room (few markers) every one is placed; labels 0.015 apart (closer than
 * a label is thick: what used to overlap) are all placed, side by side or
 * in rows; one alone goes right of its line at the top. */
Test(plots, marker_labels_never_overlap)
{
    splot_lab_area a = {0.1, 0.95, 0.1, 0.55, 0.017, 0.003};
    static double x[40], len[40];
    static splot_lab_box b[40];
    unsigned long long s = 12345;
    size_t total = 0, placed = 0;
    for (int trial = 0; trial < 2000; trial++) {
        size_t n = 1 + trial % 40;
        double spread = trial % 3 == 0 ? 0.05 : trial % 3 == 1 ? 0.3 : 0.85; /* crowded to spread out */
        for (size_t k = 0; k < n; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            x[k] = a.left + spread * (double)(s >> 11) / 9007199254740992.0;
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            len[k] = 0.04 + 0.2 * (double)(s >> 11) / 9007199254740992.0;
            if (trial % 7 == 0 && k) /* markers at one instant */
                x[k] = x[k - 1];
        }
        size_t np = splot_lab_layout(&a, x, len, n, b);
        size_t cnt = 0;
        for (size_t k = 0; k < n; k++) {
            if (!b[k].side)
                continue;
            cnt++;
            cr_assert_float_eq(b[k].y1 - b[k].y0, len[k], 1e-12, "trial %d label %zu: its length", trial, k);
            cr_assert_float_eq(b[k].x1 - b[k].x0, a.thick, 1e-12);
            cr_assert(b[k].x0 >= a.left - 1e-12 && b[k].x1 <= a.right + 1e-12 && b[k].y0 >= a.bottom - 1e-12 &&
                          b[k].y1 <= a.top + 1e-12,
                      "trial %d label %zu out of the room: [%g, %g] x [%g, %g]", trial, k, b[k].x0, b[k].x1, b[k].y0,
                      b[k].y1);
            if (b[k].side > 0)
                cr_assert_float_eq(b[k].x0, x[k] + a.gap, 1e-12, "trial %d label %zu: right beside its line", trial, k);
            else
                cr_assert_float_eq(b[k].x1, x[k] - a.gap, 1e-12, "trial %d label %zu: left beside its line", trial, k);
            for (size_t o = 0; o < k; o++)
                cr_assert(!b[o].side || !boxes_clash(&b[k], &b[o], a.gap),
                          "trial %d: labels %zu [%g, %g]x[%g, %g] and %zu [%g, %g]x[%g, %g] overlap", trial, k,
                          b[k].x0, b[k].x1, b[k].y0, b[k].y1, o, b[o].x0, b[o].x1, b[o].y0, b[o].y1);
        }
        cr_assert_eq(np, cnt, "trial %d: the count returned", trial);
        if (spread > 0.8 && n <= 4 && trial % 7)
            cr_assert_eq(np, n, "trial %d: %zu markers spread out, %zu placed", trial, n, np);
        total += n, placed += np;
    }
    cr_assert_gt(placed, total / 2, "most labels placed (%zu of %zu)", placed, total);
    /* four markers 0.015 apart, short labels: all placed, none over another */
    double cx[4] = {0.5, 0.515, 0.53, 0.545}, cl[4] = {0.1, 0.1, 0.1, 0.1};
    cr_assert_eq(splot_lab_layout(&a, cx, cl, 4, b), 4);
    for (size_t k = 1; k < 4; k++)
        for (size_t o = 0; o < k; o++)
            cr_assert(!boxes_clash(&b[k], &b[o], a.gap), "labels %zu and %zu", k, o);
    /* one alone: right of its line, at the top */
    cr_assert_eq(splot_lab_layout(&a, cx, cl, 1, b), 1);
    cr_assert_eq(b[0].side, 1);
    cr_assert_float_eq(b[0].y1, a.top, 1e-12);
}

/* The same on a drawn chart: ten markers, some at one instant and some
 * closer than a label is thick; in the SVG every label is there, beside
 * its line, and no two of them overlap (each label's box from its
 * anchor: its thickness across, at least half a font size a character
 * along). */
Test(plots, a_chart_with_crowded_markers_has_every_label_clear)
{
    mkdir_once();
    double t[2] = {0, 1}, v[2] = {0, 750};
    splot_series s = {"bus voltage", "blue", t, v, 2};
    static const double at[10] = {0.2, 0.2, 0.21, 0.215, 0.22, 0.5, 0.5, 0.5, 0.51, 0.9};
    char lab[10][40];
    splot_marker mk[10];
    for (int k = 0; k < 10; k++) {
        snprintf(lab[k], sizeof lab[k], "fault ocp %d", k + 1);
        mk[k] = (splot_marker){at[k], lab[k], k % 2 ? "purple" : "red"};
    }
    splot_chart ch = {.title = "crowded", .xlabel = "time (s)", .ylabel = "bus voltage (V)", .s = &s, .ns = 1,
                      .mk = mk, .nmk = 10, .span0 = NAN, .span1 = NAN, .x0 = 0, .x1 = 1};
    char p[300];
    snprintf(p, sizeof p, "%s/crowded.svg", dir);
    cr_assert_eq(splot_draw(p, &ch), 0);
    static svg g;
    read_svg(p, &g);
    const txt *l[10];
    for (int k = 0; k < 10; k++) {
        l[k] = text(&g, lab[k]);
        cr_assert(l[k] && l[k]->rotated, "label '%s' missing", lab[k]);
        double mx = g.L + (g.R - g.L) * at[k];
        cr_assert(fabs(l[k]->x - mx) < 0.03, "'%s' at x %g, its line at %g", lab[k], l[k]->x, mx);
    }
    for (int k = 1; k < 10; k++)
        for (int o = 0; o < k; o++) {
            double lk = 0.5 * 0.017 * (double)strlen(lab[k]), lo = 0.5 * 0.017 * (double)strlen(lab[o]);
            int apart_x = fabs(l[k]->x - l[o]->x) >= 0.017;
            int apart_y = l[k]->y + lk <= l[o]->y || l[o]->y + lo <= l[k]->y;
            cr_assert(apart_x || apart_y, "'%s' (%g, %g) and '%s' (%g, %g) overlap", lab[k], l[k]->x, l[k]->y,
                      lab[o], l[o]->x, l[o]->y);
        }
}

/* The x of every dashed vertical line (the markers) into x[], sorted; how many. */
static unsigned marker_lines(const svg *g, double *x, unsigned cap)
{
    unsigned n = 0;
    for (unsigned i = 0; i < g->nl && n < cap; i++)
        if (g->l[i].dashed && fabs(g->l[i].x1 - g->l[i].x2) < 1e-9 && fabs(g->l[i].y1 - g->l[i].y2) > 0.1) {
            unsigned k = n++;
            for (; k > 0 && x[k - 1] > g->l[i].x1; k--)
                x[k] = x[k - 1];
            x[k] = g->l[i].x1;
        }
    return n;
}

/* A check's plot draws what the check compared with: delivered's plot
 * the demand (load.p) and its limit (min % of it), named in the legend;
 * trip_latency's plot the trip instant the latency was measured to, as a
 * marker between the fault's onset and the deadline where the latency
 * puts it (latency / max of the way), labelled with its time. */
Test(plots, a_check_plot_draws_what_the_check_compared_with, .timeout = 60)
{
    char rep[300], p[700];
    scn_result r;
    int v = run_scenario("report2",
                         "scenario{ name='compared', seeds={1} }\n"
                         "rack{ modules=3, load='5kW', load_at='0.5s', load_ramp='1ms' }\n"
                         "run('0.6s')\n"
                         "delivered({from=0.6, to=0.62, min=99.5})\n"
                         "trip_latency(2, {at=now(), max='10us', name='trip-ocp'})\n"
                         "fault('trip-ocp', 2, {step='10A', duration='10ms'})\n"
                         "fault('svc-crash', '3.1', {at=0.605})\n"
                         "restart_time(3, 'AUDIT_LOGGER', {max='50ms', name='rst'})\n"
                         "run('30ms')\n",
                         &r, rep, sizeof rep);
    cr_assert_eq(v, SCN_PASS, "%s %s", scn_verdict_name((unsigned)v), r.error);
    static svg g;
    snprintf(p, sizeof p, "%s/check-delivered.svg", rep);
    read_svg(p, &g);
    cr_assert_not_null(text(&g, "bus.p"), "the delivered power named");
    const txt *dm = text(&g, "load.p"), *lim = text(&g, "limit: 99.5 % of load.p");
    cr_assert(dm && dm->y > g.T, "the demand it was checked against, in the legend");
    cr_assert(lim && lim->y > g.T, "its limit, in the legend");
    /* the trip */
    double lat = NAN, onset = NAN;
    for (unsigned i = 0; i < r.nfig; i++)
        if (strstr(r.fig[i].name, "trip latency"))
            lat = r.fig[i].value;
    for (unsigned i = 0; i < r.nfault && isnan(onset); i++) /* the first: trip-ocp */
        if (r.fault[i].onset_s >= 0)
            onset = r.fault[i].onset_s;
    cr_assert(lat > 0 && lat < 1e-5 && onset > 0.5, "latency %g s, onset %g s", lat, onset);
    snprintf(p, sizeof p, "%s/check-trip-ocp.svg", rep);
    read_svg(p, &g);
    const txt *tl = text_prefix(&g, "trip at ");
    cr_assert(tl && tl->rotated, "the trip instant's marker label");
    double tt = strtod(tl->s + 8, NULL);
    cr_assert_float_eq(tt, onset + lat, 1e-7, "'%s': the trip %g s after the onset %g s", tl->s, lat, onset);
    double x[20];
    unsigned n = marker_lines(&g, x, 20);
    cr_assert_geq(n, 3u, "the onset, the trip and the deadline: %u marker lines", n);
    double want = x[0] + (x[n - 1] - x[0]) * lat / 1e-5;
    int found = 0;
    for (unsigned i = 1; i + 1 < n; i++)
        found |= fabs(x[i] - want) < 3e-3;
    cr_assert(found, "no marker line at the trip (x %g between the onset's %g and the deadline's %g)", want, x[0],
              x[n - 1]);
    /* the restart: the instant the service ran again */
    double rst = NAN;
    for (unsigned i = 0; i < r.nfig; i++)
        if (strstr(r.fig[i].name, "rst: restart time"))
            rst = r.fig[i].value;
    cr_assert(rst > 0 && rst < 0.05, "restart %g s", rst);
    snprintf(p, sizeof p, "%s/check-rst.svg", rep);
    read_svg(p, &g);
    const txt *rl = text_prefix(&g, "running at ");
    cr_assert(rl && rl->rotated, "the restart instant's marker label");
    cr_assert(!strstr(rl->s, "..."), "the label whole: '%s'", rl->s);
    double rt = strtod(rl->s + 11, NULL);
    cr_assert(rt > 0.605 && rt < 0.605 + 0.05 && fabs(rt - 0.605 - rst) < 2e-4, "'%s': restart %g s after 0.605 s",
              rl->s, rst);
    scn_result_free(&r);
}

/* A marker label longer than the plot is high is cut to fit, ending
 * "...", not left out. */
Test(plots, a_marker_label_longer_than_the_plot_is_cut_to_fit)
{
    mkdir_once();
    double t[2] = {0, 1}, v[2] = {0, 750};
    splot_series s = {"bus voltage", "blue", t, v, 2};
    static const char lab[] = "fault igf 42 with a label much longer than the plot area is high, so it cannot fit";
    splot_marker mk[1] = {{0.5, lab, NULL}};
    splot_chart ch = {.title = "long", .xlabel = "time (s)", .ylabel = "bus voltage (V)", .s = &s, .ns = 1,
                      .mk = mk, .nmk = 1, .span0 = NAN, .span1 = NAN, .x0 = 0, .x1 = 1};
    char p[300];
    snprintf(p, sizeof p, "%s/long.svg", dir);
    cr_assert_eq(splot_draw(p, &ch), 0);
    static svg g;
    read_svg(p, &g);
    const txt *l = text_prefix(&g, "fault igf 42 with");
    cr_assert(l && l->rotated, "the label is drawn");
    size_t n = strlen(l->s);
    cr_assert(n < strlen(lab) && n > 20 && !strcmp(l->s + n - 3, "..."), "cut to fit: '%s'", l->s);
}
