/*
 * splot.h - charts for reports, drawn with GNU libplot (prefix splot_):
 * a time-series chart of one or more traces with limit lines, a shaded
 * span and event markers, and a bar chart (one bar per module). PNG or
 * SVG by the file's extension (SVG text is real <text>, Helvetica; PNG
 * uses libplot's Hershey stroke fonts). 900 x 540 px, or 20 x 12 cm.
 *
 * What an engineer expects of a plot (docs/scopes.md, "Plots"):
 * - axis labels say the quantity and its unit, "bus voltage (V)",
 *   "time (s)": the caller writes them (splot_axis_label helps);
 * - ticks at round values (1, 2 or 5 x 10^k), 4 to 11 of them, thinned
 *   until their labels do not overlap; labels in fixed point with the
 *   step's decimals ("0", "500", "1500"; "0.25"), or with an SI prefix
 *   when the values are 10^4 or more or under 10^-2 ("20k", "1.5M",
 *   "250u"), never "e+03"; a flat trace gets a range around its value;
 * - a legend naming each trace, above the plot area (never over the
 *   data), wrapped into rows;
 * - markers: vertical lines at events (a fault injected, a trip) with
 *   their label written along the line, no two labels overlapping
 *   (splot_lab_layout); a label longer than the plot is high cut to fit
 *   ("...").
 */
#ifndef SPLOT_H
#define SPLOT_H

#include <stddef.h>

typedef struct splot_series {
    const char *name;   /* legend */
    const char *color;  /* X11 colour name ("blue") */
    const double *x, *y;
    size_t n;           /* a NaN x or y breaks the line there */
} splot_series;

/* A vertical line at x with its label (an event: "fault ocp", "trip"). */
typedef struct splot_marker {
    double x;           /* in the x axis' unit; outside the x range: not drawn */
    const char *label;  /* NULL or "": the line alone */
    const char *color;  /* NULL: "red" */
} splot_marker;

/* A dashed horizontal line across the plot area (a limit), its label at
 * the right end above the line. */
typedef struct splot_hline {
    double y;           /* not finite: not drawn */
    const char *label;
    const char *color;  /* NULL: "red" */
} splot_hline;

typedef struct splot_chart {
    const char *title, *xlabel, *ylabel;
    const splot_series *s;
    size_t ns;
    unsigned long dashed; /* bit k: series k (k < 32) dashed (a limit, an ideal line) */
    unsigned long steps;  /* bit k: series k (k < 32) as steps, each value held to the next
                             sample (a state, a 0/1 flag) */
    const splot_marker *mk;
    size_t nmk;
    const splot_hline *hl;
    size_t nhl;
    double span0, span1;  /* an x interval shaded light grey (a check's window); NaN: none */
    double x0, x1;        /* the x range; NaN: the data's */
} splot_chart;

/* The chart into `path` (.png or .svg). The y range covers the series
 * and the limit lines, padded 5 % and rounded to ticks. 0, or EK3_EINVAL
 * (no finite point, unknown extension, NULL), EK3_EIO (cannot write). */
int splot_draw(const char *path, const splot_chart *c);

/* A line chart of the series, no markers or limits: splot_draw. */
int splot_lines(const char *path, const char *title, const char *xlabel, const char *ylabel,
                const splot_series *s, size_t ns);

/* A bar chart: bar i at x = i + 1 with height y[i]; a dashed line at
 * `ref` when ref is finite. Same returns. */
int splot_bars(const char *path, const char *title, const char *xlabel, const char *ylabel, const double *y,
               size_t n, double ref);

/* splot_bars with limit lines (dashed, labelled; the y range covers them). */
int splot_bars_limits(const char *path, const char *title, const char *xlabel, const char *ylabel, const double *y,
                      size_t n, double ref, const splot_hline *hl, size_t nhl);

/* Where marker labels go: a label is written along its line (reading
 * upwards), so on the page it is a box `thick` wide and its length
 * high, beside the line (right, or left), `gap` clear of it. */
typedef struct splot_lab_area {
    double left, right, bottom, top; /* the room, page units (the plot area less a margin) */
    double thick, gap;               /* a label's thickness; the clearance between boxes and to the line */
} splot_lab_area;

typedef struct splot_lab_box {
    double x0, y0, x1, y1; /* the label's box, page units */
    int side;              /* 1: right of its line, -1: left, 0: not placed (no room) */
} splot_lab_box;

/* Lay out n marker labels, label k for the line at page x[k], len[k]
 * long, in the order given (earlier labels get the better places): each
 * goes beside its line, right or left, as high as it can (at most `top`,
 * never under `bottom`, within [left, right]) and at least `gap` clear
 * of every label placed before it; of the two sides the higher place
 * wins, the right on a tie. So no two placed boxes overlap or touch: a
 * label next to a taken place goes to the other side of its line, or
 * below the labels there (staggered rows). A label with no room left
 * anywhere beside its line is not placed (side 0): its line is drawn
 * without it. Returns how many were placed. */
size_t splot_lab_layout(const splot_lab_area *a, const double *x, const double *len, size_t n,
                        splot_lab_box *out);

/* The tick step for [lo, hi] giving about `want` ticks: 1, 2 or 5 x
 * 10^k, > 0 (1 for an empty or non-finite span). */
double splot_step(double lo, double hi, int want);

/* A tick label for v on an axis whose ticks are `step` apart and whose
 * largest magnitude is `mag` (the format above) into buf. */
void splot_tick_label(char *buf, size_t cap, double v, double step, double mag);

/* "QUANTITY (UNIT)", or QUANTITY alone when unit is NULL or "", into buf;
 * returns buf. */
const char *splot_axis_label(char *buf, size_t cap, const char *quantity, const char *unit);

#endif /* SPLOT_H */
