/*
 * splot.h - charts for reports, drawn with GNU libplot (prefix splot_):
 * a time-series chart of one or more traces, and a bar chart (one bar
 * per module). PNG or SVG by the file's extension. Axes get round tick
 * values and labels; nothing else to configure.
 */
#ifndef SPLOT_H
#define SPLOT_H

#include <stddef.h>

typedef struct splot_series {
    const char *name;   /* legend */
    const char *color;  /* X11 colour name ("blue") */
    const double *x, *y;
    size_t n;
} splot_series;

/* A line chart of the series into `path` (.png or .svg). 0, or
 * EK3_EINVAL (no data, unknown extension), EK3_EIO (cannot write). */
int splot_lines(const char *path, const char *title, const char *xlabel, const char *ylabel,
                const splot_series *s, size_t ns);

/* A bar chart: bar i at x = i + 1 with height y[i]; a dashed line at
 * `ref` when ref is finite. Same returns. */
int splot_bars(const char *path, const char *title, const char *xlabel, const char *ylabel, const double *y,
               size_t n, double ref);

#endif /* SPLOT_H */
