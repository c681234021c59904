/* cap.c - pre/post-trigger capture, CSV and plots (cap.h). */
#include "cap.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "splot.h"

enum { CAP_MAX_ROWS = 10000000 };

static char *cap_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Rows of `pre` or `post` seconds at `quantum`: round(x / quantum), or -1. */
static long cap_n(double x, double quantum)
{
    if (!isfinite(x) || x < 0)
        return -1;
    double r = floor(x / quantum + 0.5);
    return r > CAP_MAX_ROWS ? CAP_MAX_ROWS + 1 : (long)r;
}

int cap_init(cap *c, const cap_cfg *cfg)
{
    if (!c)
        return EK3_EINVAL;
    memset(c, 0, sizeof *c);
    c->state = CAP_ARMED;
    if (!cfg || !cfg->names || cfg->k < 1 || cfg->k > CAP_MAX_SIG || !isfinite(cfg->quantum) || !(cfg->quantum > 0))
        return EK3_EINVAL;
    if (cfg->trig < -1 || cfg->trig >= (int)cfg->k || (cfg->trig >= 0 && isnan(cfg->level)) ||
        (cfg->edge != CAP_RISING && cfg->edge != CAP_FALLING && cfg->edge != CAP_EITHER))
        return EK3_EINVAL;
    for (unsigned j = 0; j < cfg->k; j++)
        if (!cfg->names[j])
            return EK3_EINVAL;
    long pre = cap_n(cfg->pre, cfg->quantum), post = cap_n(cfg->post, cfg->quantum);
    if (pre < 0 || post < 0)
        return EK3_EINVAL;
    if (pre + 1 + post > CAP_MAX_ROWS)
        return EK3_ERANGE;
    c->k = cfg->k;
    c->pre_n = (size_t)pre, c->post_n = (size_t)post, c->ring = (size_t)pre + 1;
    c->trig = cfg->trig, c->level = cfg->level, c->edge = cfg->edge;
    c->t_trig = NAN, c->t_last = -INFINITY;
    c->buf = malloc((c->ring + c->post_n) * (1 + c->k) * sizeof *c->buf);
    int bad = !c->buf;
    for (unsigned j = 0; j < c->k; j++) {
        c->names[j] = cap_dup(cfg->names[j]);
        c->units[j] = cap_dup(cfg->units && cfg->units[j] ? cfg->units[j] : "");
        bad |= !c->names[j] || !c->units[j];
    }
    if (bad) {
        cap_free(c);
        return EK3_ENOSPC;
    }
    return EK3_OK;
}

void cap_free(cap *c)
{
    if (!c)
        return;
    for (unsigned j = 0; j < CAP_MAX_SIG; j++)
        free(c->names[j]), free(c->units[j]), c->names[j] = c->units[j] = NULL;
    free(c->buf);
    c->buf = NULL;
    c->k = 0;
}

void cap_fire(cap *c)
{
    if (c)
        c->fire = 1;
}

static double *cap_slot(const cap *c, size_t r) { return c->buf + r * (1 + c->k); }

/* Reverse rows a..b-1 of the buffer in place. */
static void cap_reverse(cap *c, size_t a, size_t b)
{
    size_t w = 1 + c->k;
    while (b > a + 1) {
        double *x = cap_slot(c, a++), *y = cap_slot(c, --b);
        for (size_t j = 0; j < w; j++) {
            double s = x[j];
            x[j] = y[j], y[j] = s;
        }
    }
}

int cap_push(cap *c, double t, const double *v)
{
    if (!c || !c->buf || !v || !isfinite(t) || !(t > c->t_last))
        return EK3_EINVAL;
    if (c->state == CAP_DONE)
        return CAP_DONE;
    c->t_last = t;
    size_t w = 1 + c->k;
    if (c->state == CAP_TRIGGERED) {
        double *row = cap_slot(c, c->rows++);
        row[0] = t;
        memcpy(row + 1, v, c->k * sizeof *v);
        if (c->rows == c->filled + c->post_n)
            c->state = CAP_DONE;
        return c->state;
    }
    double *row = cap_slot(c, c->head);
    row[0] = t;
    memcpy(row + 1, v, (w - 1) * sizeof *v);
    c->head = (c->head + 1) % c->ring;
    if (c->filled < c->ring)
        c->filled++;
    int fire = c->fire;
    if (c->trig >= 0) {
        double x = v[c->trig];
        if (c->have_prev && !isnan(x)) {
            int up = c->prev < c->level && x >= c->level, down = c->prev > c->level && x <= c->level;
            fire |= c->edge == CAP_RISING ? up : c->edge == CAP_FALLING ? down : up || down;
        }
        c->have_prev = !isnan(x);
        c->prev = x;
    }
    if (!fire)
        return CAP_ARMED;
    /* The ring's rows into time order at the buffer's start: the oldest
     * is at head once the ring is full, else at 0. */
    if (c->filled == c->ring && c->head) {
        cap_reverse(c, 0, c->head);
        cap_reverse(c, c->head, c->ring);
        cap_reverse(c, 0, c->ring);
    }
    c->rows = c->filled;
    c->t_trig = t;
    c->state = c->post_n ? CAP_TRIGGERED : CAP_DONE;
    return c->state;
}

cap_state cap_get_state(const cap *c) { return c->state; }

size_t cap_rows(const cap *c) { return c->state == CAP_ARMED ? c->filled : c->rows; }

const double *cap_row(const cap *c, size_t i)
{
    if (c->state != CAP_ARMED)
        return cap_slot(c, i);
    size_t oldest = c->filled == c->ring ? c->head : 0;
    return cap_slot(c, (oldest + i) % c->ring);
}

size_t cap_trigger_row(const cap *c) { return c->state == CAP_ARMED ? (size_t)-1 : c->filled - 1; }

double cap_trigger_time(const cap *c) { return c->t_trig; }

/* One CSV field, quoted (RFC 4180) when it holds a comma, quote or newline. */
static void cap_field(FILE *f, const char *s, const char *unit)
{
    int q = strpbrk(s, ",\"\n\r") || strpbrk(unit, ",\"\n\r");
    if (q)
        fputc('"', f);
    for (const char *p = s; *p; p++)
        fputs(*p == '"' ? "\"\"" : (char[2]){*p, 0}, f);
    if (*unit) {
        fputc('_', f);
        for (const char *p = unit; *p; p++)
            fputs(*p == '"' ? "\"\"" : (char[2]){*p, 0}, f);
    }
    if (q)
        fputc('"', f);
}

int cap_write_csv(const cap *c, FILE *f)
{
    if (!c || !f || !c->buf)
        return EK3_EINVAL;
    fputs("t_s", f);
    for (unsigned j = 0; j < c->k; j++) {
        fputc(',', f);
        cap_field(f, c->names[j], c->units[j]);
    }
    fputc('\n', f);
    size_t n = cap_rows(c);
    for (size_t i = 0; i < n; i++) {
        const double *row = cap_row(c, i);
        fprintf(f, "%.12g", row[0]);
        for (unsigned j = 0; j < c->k; j++)
            fprintf(f, ",%.9g", row[1 + j]);
        fputc('\n', f);
    }
    return ferror(f) ? EK3_EIO : EK3_OK;
}

/* Keep the first failure: "PATH: REASON". */
static int cap_fail(int rc, int first, const char *path, int err, char *msg, size_t msgcap)
{
    if (first)
        return first;
    if (msg && msgcap)
        snprintf(msg, msgcap, "%s: %s", path, err ? strerror(err) : ek3_strerror(rc));
    return rc;
}

static int cap_csv_file(const cap *c, const char *path)
{
    errno = 0;
    FILE *f = fopen(path, "w");
    if (!f)
        return EK3_EIO;
    int rc = cap_write_csv(c, f);
    int e = errno;
    if (fclose(f) && !rc)
        rc = EK3_EIO;
    else if (rc)
        errno = e;
    return rc;
}

int cap_write(const cap *c, const char *dir, const char *name, char *err, size_t errcap)
{
    return cap_write_marked(c, dir, name, NULL, 0, err, errcap);
}

int cap_write_marked(const cap *c, const char *dir, const char *name, const splot_marker *mk, size_t nmk, char *err,
                     size_t errcap)
{
    if (err && errcap)
        err[0] = 0;
    if (!c || !c->buf || !dir || !name || !*name || strchr(name, '/'))
        return cap_fail(EK3_EINVAL, 0, name ? name : "(null)", 0, err, errcap);
    char path[1024];
    int first = 0;
    snprintf(path, sizeof path, "%s/%s.csv", dir, name);
    int rc = cap_csv_file(c, path);
    if (rc)
        first = cap_fail(rc, first, path, rc == EK3_EIO ? errno : 0, err, errcap);
    size_t n = cap_rows(c);
    if (!n)
        return cap_fail(EK3_EINVAL, first, path, 0, err, errcap);
    double *col = malloc(n * (1 + c->k) * sizeof *col);
    if (!col)
        return cap_fail(EK3_ENOSPC, first, path, 0, err, errcap);
    for (size_t i = 0; i < n; i++)
        for (unsigned j = 0; j <= c->k; j++)
            col[j * n + i] = cap_row(c, i)[j];
    /* One chart per distinct unit, in the order units first appear. */
    unsigned nunits = 0;
    for (unsigned j = 0; j < c->k; j++) {
        unsigned a = 0;
        while (a < j && strcmp(c->units[a], c->units[j]))
            a++;
        nunits += a == j;
    }
    static const char *const colors[] = {"blue", "red", "darkgreen", "darkorange", "purple", "black", "brown",
                                         "magenta"};
    for (unsigned j = 0; j < c->k; j++) {
        unsigned a = 0;
        while (a < j && strcmp(c->units[a], c->units[j]))
            a++;
        if (a < j)
            continue; /* this unit's chart is drawn */
        splot_series s[CAP_MAX_SIG];
        size_t ns = 0;
        char names[200] = "", ylabel[240];
        for (unsigned m = j; m < c->k; m++) {
            if (strcmp(c->units[m], c->units[j]))
                continue;
            s[ns] = (splot_series){c->names[m], colors[ns % 8], col, col + (size_t)(m + 1) * n, n};
            size_t o = strlen(names);
            snprintf(names + o, sizeof names - o, "%s%s", ns ? ", " : "", c->names[m]);
            ns++;
        }
        const char *u = c->units[j];
        /* The y axis: its signals when they fit, and their unit. */
        splot_axis_label(ylabel, sizeof ylabel, strlen(names) < 48 ? names : "value", u);
        splot_marker all[65];
        size_t nm = 0;
        if (isfinite(c->t_trig))
            all[nm++] = (splot_marker){c->t_trig, "trigger", "gray40"};
        for (size_t i = 0; i < nmk && mk && nm < sizeof all / sizeof *all; i++)
            all[nm++] = mk[i];
        char title[256];
        if (isfinite(c->t_trig))
            snprintf(title, sizeof title, "%s: trigger at %.6g s", name, c->t_trig);
        else
            snprintf(title, sizeof title, "%s: not triggered", name);
        static const char *const ext[2] = {"png", "svg"};
        for (int e = 0; e < 2; e++) {
            if (nunits > 1)
                snprintf(path, sizeof path, "%s/%s_%s.%s", dir, name, *u ? u : "value", ext[e]);
            else
                snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext[e]);
            errno = 0;
            splot_chart ch = {.title = title, .xlabel = "time (s)", .ylabel = ylabel, .s = s, .ns = ns, .mk = all,
                              .nmk = nm, .span0 = NAN, .span1 = NAN, .x0 = NAN, .x1 = NAN};
            rc = splot_draw(path, &ch);
            if (rc)
                first = cap_fail(rc, first, path, rc == EK3_EIO ? errno : 0, err, errcap);
        }
    }
    free(col);
    return first;
}
