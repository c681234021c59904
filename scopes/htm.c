/* htm.c - the nightly's HTML report with SVG plots (htm.h). */
#include "htm.h"
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ek3_err.h"
#include "chp.h"
#include "key.h"
#include "splot.h"

/* What the page is being written with. */
typedef struct htm {
    FILE *f;
    const char *dir;          /* OUT/report */
    const ngt_night *n;
    const hst *h;
    int rc;                   /* the first error */
    char *err;
    size_t cap;
} htm;

static int htm_fail(htm *w, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int htm_fail(htm *w, int rc, const char *fmt, ...)
{
    if (w->rc)
        return w->rc;
    if (w->err && w->cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->err, w->cap, fmt, ap);
        va_end(ap);
    }
    return w->rc = rc;
}

/* ---- text ---- */

void htm_escape(FILE *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = ngt_utf8_len(p + i, n - i);
        if (!len || ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F)) {
            fputs("\xEF\xBF\xBD", f); /* U+FFFD */
            i++;
            continue;
        }
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fwrite(p + i, 1, len, f);
        }
        i += len;
    }
}

static void htm_esc(FILE *f, const char *s) { htm_escape(f, s ? s : "", s ? strlen(s) : 0); }

/* printf into the page, the formatted text escaped. */
static void htm_escf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void htm_escf(FILE *f, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    htm_escape(f, buf, k < 0 ? 0 : (size_t)k < sizeof buf ? (size_t)k : sizeof buf - 1);
}

/* A relative URL: bytes outside [A-Za-z0-9._~/-] percent-encoded (which
 * leaves nothing HTML needs escaped). */
static void htm_url(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("._~/-", *p))
            fputc(*p, f);
        else
            fprintf(f, "%%%02X", *p);
}

/* Plain ASCII for a plot's label (libplot's Hershey fonts are Latin-1). */
static void htm_label(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < cap; i++)
        dst[i] = src[i] >= 0x20 && src[i] < 0x7F ? src[i] : '?';
    dst[i] = 0;
}

/* A file-name part: [A-Za-z0-9_-], others '_'. */
static void htm_fname(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < cap; i++) {
        char c = src[i];
        dst[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ? c : '_';
    }
    dst[i] = 0;
}

/* ---- the runs ---- */

/* Failures first: FAIL/ERROR outside the quarantine, quarantined, not run, PASS. */
static int htm_rank(const ngt_run *r)
{
    if (r->status == NGT_NOT_RUN)
        return 2;
    int v = r->status == NGT_DONE ? r->r.verdict : SCN_ERROR;
    if (v == SCN_PASS)
        return 3;
    return r->quarantine[0] && !r->q_expired ? 1 : 0;
}

static const char *htm_verdict(const ngt_run *r)
{
    if (r->status == NGT_NOT_RUN)
        return "NOT RUN";
    return scn_verdict_name(r->status == NGT_DONE ? (unsigned)r->r.verdict : SCN_ERROR);
}

static const char *htm_class(const ngt_run *r)
{
    int k = htm_rank(r);
    if (k == 1)
        return "q";
    if (k == 2)
        return "nr";
    return r->status == NGT_DONE && r->r.verdict == SCN_FAIL ? "fail" : k == 3 ? "pass" : "error";
}

/* The run's directory is usable: relative, no "..", no odd bytes. */
static int htm_dir_ok(const char *d)
{
    if (!d[0] || d[0] == '/' || strstr(d, ".."))
        return 0;
    for (const unsigned char *p = (const unsigned char *)d; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return 0;
    return 1;
}

/* path = dir/../RUN_DIR/name; whether it is a regular file. */
static int htm_run_file(const htm *w, const ngt_run *r, const char *name, char *path, size_t cap)
{
    struct stat st;
    int k = snprintf(path, cap, "%s/../%s/%s", w->dir, r->dir, name);
    return htm_dir_ok(r->dir) && k > 0 && (size_t)k < cap && !stat(path, &st) && S_ISREG(st.st_mode);
}

static void htm_link(htm *w, const ngt_run *r, const char *name, const char *text)
{
    fputs("<a href=\"../", w->f);
    htm_url(w->f, r->dir);
    fputc('/', w->f);
    htm_url(w->f, name);
    fputs("\">", w->f);
    htm_esc(w->f, text ? text : name);
    fputs("</a>", w->f);
}

static int htm_cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Links to the run's evidence: the known files, then its captures (every
 * other regular file of its directory, sorted). */
static void htm_links(htm *w, const ngt_run *r)
{
    static const char *const known[] = {"verdict.json", "verdict.txt", "run.log", "keys.csv"};
    char path[1400];
    int any = 0;
    fputs("<p class=\"links\">", w->f);
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (htm_run_file(w, r, known[i], path, sizeof path)) {
            fputs(any++ ? " &middot; " : "", w->f);
            htm_link(w, r, known[i], NULL);
        }
    char *names[256];
    size_t nn = 0;
    snprintf(path, sizeof path, "%s/../%s", w->dir, r->dir);
    DIR *d = htm_dir_ok(r->dir) ? opendir(path) : NULL;
    for (struct dirent *e; d && (e = readdir(d)) && nn < 256;) {
        int skip = e->d_name[0] == '.';
        for (size_t i = 0; i < sizeof known / sizeof *known && !skip; i++)
            skip = !strcmp(e->d_name, known[i]);
        char p2[1400];
        if (!skip && htm_run_file(w, r, e->d_name, p2, sizeof p2) && (names[nn] = strdup(e->d_name)))
            nn++;
    }
    if (d)
        closedir(d);
    qsort(names, nn, sizeof *names, htm_cmp_str);
    if (nn)
        fprintf(w->f, "%scaptures: ", any ? " &middot; " : "");
    for (size_t i = 0; i < nn; i++) {
        fputs(i ? ", " : "", w->f);
        htm_link(w, r, names[i], NULL);
        free(names[i]);
    }
    if (!any && !nn)
        fputs("no evidence files", w->f);
    fputs("</p>\n", w->f);
}

/* ---- plots ---- */

/* One SVG of chart ch into dir/svg/file (its labels made printable
 * ASCII); the <img> for it, or a note why not. */
static void htm_chart(htm *w, const char *file, const splot_chart *ch, const char *cls)
{
    char path[1200], t[200], x[80], y[120];
    const char *title = ch->title;
    snprintf(path, sizeof path, "%s/svg/%s", w->dir, file);
    htm_label(t, sizeof t, ch->title), htm_label(x, sizeof x, ch->xlabel), htm_label(y, sizeof y, ch->ylabel);
    splot_chart c = *ch;
    c.title = t, c.xlabel = x, c.ylabel = y;
    errno = 0;
    int rc = splot_draw(path, &c);
    if (rc == EK3_EIO) {
        htm_fail(w, EK3_EIO, "%s: %s", path, errno ? strerror(errno) : "cannot write");
        return;
    }
    if (rc) {
        fputs("<p class=\"note\">", w->f);
        htm_escf(w->f, "%s: nothing to plot", title);
        fputs("</p>\n", w->f);
        return;
    }
    fprintf(w->f, "<img class=\"%s\" src=\"svg/", cls);
    htm_url(w->f, file);
    fputs("\" alt=\"", w->f);
    htm_esc(w->f, title);
    fputs("\">\n", w->f);
}

/* The run's key signals, one chart per unit, from its keys.csv. */
static void htm_keys(htm *w, const ngt_run *r, size_t idx)
{
    char path[1400], e[1700];
    fputs("<h4>Key signals</h4>\n", w->f);
    if (!htm_run_file(w, r, "keys.csv", path, sizeof path)) {
        fputs("<p class=\"note\">no keys.csv (the run wrote none)</p>\n", w->f);
        return;
    }
    FILE *f = fopen(path, "r");
    key_data d;
    int rc = f ? key_read_csv(f, path, &d, e, sizeof e) : EK3_EIO;
    if (!f)
        snprintf(e, sizeof e, "%s: %s", path, strerror(errno));
    if (f)
        fclose(f);
    if (rc) {
        fputs("<p class=\"note\">keys.csv cannot be read: ", w->f);
        htm_esc(w->f, e);
        fputs("</p>\n", w->f);
        if (rc == EK3_ENOSPC)
            htm_fail(w, rc, "%s", e);
        return;
    }
    static const char *const colors[] = {"blue", "red", "darkgreen", "darkorange", "purple", "black", "brown",
                                         "magenta"};
    double *buf = malloc((d.nrow ? d.nrow : 1) * 2 * d.ncol * sizeof *buf);
    if (!buf) {
        key_data_free(&d);
        htm_fail(w, EK3_ENOSPC, "%s: out of memory", path);
        return;
    }
    /* the run's faults, as markers on its key signals */
    splot_marker mk[32];
    char lab[32][48];
    size_t nm = chp_fault_markers(&r->r, mk, lab, 32);
    fputs("<div class=\"plots\">\n", w->f);
    for (unsigned c = 0; c < d.ncol; c++) {
        unsigned a = 0;
        while (a < c && strcmp(d.unit[a], d.unit[c]))
            a++;
        if (a < c)
            continue; /* this unit's chart is drawn */
        splot_series s[KEY_MAX];
        size_t ns = 0;
        char names[200] = "", ylabel[240];
        for (unsigned m = c; m < d.ncol; m++) {
            if (strcmp(d.unit[m], d.unit[c]))
                continue;
            double *x = buf + (size_t)m * 2 * d.nrow, *y = x + d.nrow;
            size_t k = 0;
            for (size_t i = 0; i < d.nrow; i++)
                if (isfinite(d.v[(size_t)m * d.nrow + i]))
                    x[k] = d.t[i], y[k++] = d.v[(size_t)m * d.nrow + i];
            if (k) {
                size_t o = strlen(names);
                snprintf(names + o, sizeof names - o, "%s%s", ns ? ", " : "", d.name[m]);
                s[ns] = (splot_series){d.name[m], colors[ns % 8], x, y, k}, ns++;
            }
        }
        splot_axis_label(ylabel, sizeof ylabel, strlen(names) < 48 ? names : "value", d.unit[c]);
        char file[200], u[16], title[300];
        htm_fname(u, sizeof u, d.unit[c][0] ? d.unit[c] : "value");
        snprintf(file, sizeof file, "r%zu-keys-%s.svg", idx, u);
        snprintf(title, sizeof title, "%s seed %llu: %s", r->job.name, (unsigned long long)r->job.seed,
                 d.unit[c][0] ? d.unit[c] : "(no unit)");
        splot_chart ch = {.title = title, .xlabel = "time (s)", .ylabel = ylabel, .s = s, .ns = ns, .mk = mk,
                          .nmk = nm, .span0 = NAN, .span1 = NAN, .x0 = NAN, .x1 = NAN};
        htm_chart(w, file, &ch, "key");
    }
    fputs("</div>\n", w->f);
    free(buf);
    key_data_free(&d);
}

/* The number of a limit ("<= 50 ms" -> 50), or NaN. */
static double htm_limit_value(const char *lim)
{
    while (*lim == '<' || *lim == '>' || *lim == '=' || *lim == ' ')
        lim++;
    char *e;
    double v = strtod(lim, &e);
    return e == lim || !isfinite(v) ? NAN : v;
}

/* Each figure's trend: the history's last nights and tonight. */
static void htm_trends(htm *w, const ngt_run *r, size_t idx)
{
    if (!w->h || r->status == NGT_NOT_RUN)
        return;
    const scn_result *v = &r->r;
    const char *night[HTM_TREND_NIGHTS];
    double val[HTM_TREND_NIGHTS + 1], x[HTM_TREND_NIGHTS + 1], y[HTM_TREND_NIGHTS + 1];
    int open = 0;
    for (unsigned i = 0; i < v->nfig; i++) {
        const scn_fig *g = &v->fig[i];
        int first = 1;
        for (unsigned j = 0; j < i && first; j++)
            first = strcmp(v->fig[j].name, g->name) != 0;
        if (!first || !isfinite(g->value))
            continue;
        size_t np = hst_series(w->h, r->job.name, r->job.seed, g->name, HTM_TREND_NIGHTS, night, val);
        if (np > HTM_TREND_NIGHTS)
            np = HTM_TREND_NIGHTS;
        if (!np || strcmp(night[np - 1], w->n->started)) /* tonight, unless the history holds it already */
            val[np++] = g->value;
        size_t k = 0;
        for (size_t p = 0; p < np; p++)
            if (isfinite(val[p]))
                x[k] = (double)(p + 1) - (double)np, y[k++] = val[p];
        if (k < 2)
            continue;
        if (!open++)
            fputs("<h4>Trends (nights before tonight, tonight at 0)</h4>\n<div class=\"plots\">\n", w->f);
        splot_series s[1] = {{g->name, "blue", x, y, k}};
        double lim = htm_limit_value(g->limit);
        char file[200], title[360], ylabel[120], limit[80];
        snprintf(limit, sizeof limit, "limit %s", g->limit);
        splot_hline hl = {lim, limit, "red"};
        snprintf(file, sizeof file, "r%zu-trend-%u.svg", idx, i);
        char lt[80];
        snprintf(title, sizeof title, "%s (%s)", g->name, scn_fig_limit(g, lt, sizeof lt));
        splot_axis_label(ylabel, sizeof ylabel, "figure", g->unit);
        splot_chart ch = {.title = title, .xlabel = "night (0: tonight, -1: the night before)", .ylabel = ylabel,
                          .s = s, .ns = 1, .hl = &hl, .nhl = 1, .span0 = NAN, .span1 = NAN, .x0 = NAN, .x1 = NAN};
        htm_chart(w, file, &ch, "trend");
    }
    if (open)
        fputs("</div>\n", w->f);
}

/* ---- the page ---- */

static void htm_value(FILE *f, double v, const char *unit)
{
    char t[64];
    if (isfinite(v))
        htm_escf(f, "%s", cli_si(t, sizeof t, v, unit));
    else
        fputs("&ndash;", f);
}

static void htm_run_title(htm *w, const ngt_run *r, size_t i)
{
    fprintf(w->f, "<a href=\"#run-%zu\">", i);
    htm_escf(w->f, "%s seed %llu", r->job.name, (unsigned long long)r->job.seed);
    fputs("</a>", w->f);
}

static void htm_quarantine(htm *w, const ngt_run *r)
{
    if (!r->quarantine[0])
        return;
    fputs(r->q_expired ? "<span class=\"qx\">quarantine EXPIRED " : "<span class=\"qn\">quarantined until ", w->f);
    htm_esc(w->f, r->q_expires);
    fputs(": ", w->f);
    htm_esc(w->f, r->quarantine);
    fputs("</span>", w->f);
}

/* A failure's one line: the first failed check, or the error. */
static void htm_why(htm *w, const ngt_run *r)
{
    const scn_result *v = &r->r;
    if (r->status == NGT_NOT_RUN) {
        htm_esc(w->f, r->why[0] ? r->why : "the night was stopped before it ran");
        return;
    }
    if (r->status == NGT_DONE && v->verdict == SCN_FAIL && v->first_fail >= 0 && (unsigned)v->first_fail < v->nfig) {
        const scn_fig *g = &v->fig[v->first_fail];
        fputs("<b>", w->f);
        htm_esc(w->f, g->name);
        fputs("</b> = ", w->f);
        htm_value(w->f, g->value, g->unit);
        char lt[80];
        fputs(", ", w->f);
        htm_esc(w->f, scn_fig_limit(g, lt, sizeof lt));
        htm_escf(w->f, ", at %.6g s, ", g->t_s);
        fputs("<code>", w->f);
        htm_esc(w->f, g->where);
        fputs("</code>", w->f);
        return;
    }
    if (r->why[0]) {
        htm_esc(w->f, r->why);
        fputs(v->error[0] ? ": " : "", w->f);
    }
    fputs("<code>", w->f);
    htm_esc(w->f, v->error);
    fputs("</code>", w->f);
}

static void htm_checks(htm *w, const scn_result *v)
{
    if (!v->nfig) {
        fputs("<p class=\"note\">no checks recorded</p>\n", w->f);
        return;
    }
    fputs("<table class=\"checks\"><tr><th>check</th><th>figure</th><th>limit</th><th></th><th>at</th>"
          "<th>where</th></tr>\n",
          w->f);
    for (unsigned i = 0; i < v->nfig; i++) {
        const scn_fig *g = &v->fig[i];
        fprintf(w->f, "<tr class=\"%s\"><td>", (int)i == v->first_fail ? "first" : g->pass ? "ok" : "bad");
        htm_esc(w->f, g->name);
        fputs("</td><td class=\"num\">", w->f);
        htm_value(w->f, g->value, g->unit);
        fputs("</td><td>", w->f);
        char lt[200];
        const char *l = scn_fig_limit(g, lt, sizeof lt); /* under the column's "limit": "<= 50 ms", "measured" */
        htm_esc(w->f, strncmp(l, "limit ", 6) ? l : l + 6);
        fprintf(w->f, "</td><td>%s</td><td class=\"num\">", g->pass ? "pass" : "<b>FAIL</b>");
        htm_escf(w->f, "%.6g s", g->t_s);
        fputs("</td><td><code>", w->f);
        htm_esc(w->f, g->where);
        fputs("</code></td></tr>\n", w->f);
    }
    fputs("</table>\n", w->f);
}

static void htm_faults(htm *w, const scn_result *v)
{
    if (!v->nfault)
        return;
    fputs("<h4>Fault schedule</h4>\n<table><tr><th>fault</th><th>asked</th><th>onset</th><th>cleared</th>"
          "<th>where</th></tr>\n",
          w->f);
    for (unsigned i = 0; i < v->nfault && i < SCN_FAULTS_MAX; i++) {
        const scn_fault *t = &v->fault[i];
        fputs("<tr><td><code>", w->f);
        htm_esc(w->f, t->text);
        fputs("</code></td><td class=\"num\">", w->f);
        if (t->spec.t >= 0)
            htm_escf(w->f, "at %.6g s", t->spec.t);
        else
            fputs("on a condition", w->f);
        fputs("</td><td class=\"num\">", w->f);
        if (t->onset_s >= 0)
            htm_escf(w->f, "%.6g s", t->onset_s);
        else
            fputs("never", w->f);
        if (t->error)
            htm_escf(w->f, " (error: %s)", ek3_strerror(t->error));
        fputs("</td><td class=\"num\">", w->f);
        if (t->cleared_s >= 0)
            htm_escf(w->f, "%.6g s", t->cleared_s);
        else
            fputs("&ndash;", w->f);
        fputs("</td><td><code>", w->f);
        htm_esc(w->f, t->where);
        fputs("</code></td></tr>\n", w->f);
    }
    fputs("</table>\n", w->f);
}

static void htm_run(htm *w, const ngt_run *r, size_t i)
{
    const scn_result *v = &r->r;
    fprintf(w->f, "<section class=\"run %s\" id=\"run-%zu\">\n<h3><span class=\"v\">%s</span> ", htm_class(r), i,
            htm_verdict(r));
    htm_escf(w->f, "%s seed %llu", r->job.name, (unsigned long long)r->job.seed);
    fputs("</h3>\n<p>", w->f);
    if (v->m.requirements[0]) {
        fputs("claims: ", w->f);
        for (const char *s = v->m.requirements; *s;) { /* the manifest's ';' list, shown ", "-separated */
            const char *e = strchr(s, ';');
            size_t k = e ? (size_t)(e - s) : strlen(s);
            htm_escape(w->f, s, k);
            s += k + (e != NULL);
            if (*s)
                fputs(", ", w->f);
        }
        fputs(" &middot; ", w->f);
    }
    htm_esc(w->f, r->job.path);
    fputs(" &middot; level ", w->f);
    htm_esc(w->f, v->m.level[0] ? v->m.level : "?");
    fprintf(w->f, " &middot; %.3g s simulated, %.3g s wall", v->sim_s, r->wall_s);
    fputs(" ", w->f);
    htm_quarantine(w, r);
    fputs("</p>\n", w->f);
    if (htm_rank(r) != 3) {
        fputs("<p class=\"why\">", w->f);
        htm_why(w, r);
        fputs("</p>\n", w->f);
    }
    if (r->status != NGT_NOT_RUN) {
        htm_checks(w, v);
        htm_faults(w, v);
        htm_keys(w, r, i);
        htm_trends(w, r, i);
    }
    fputs("<h4>Replay</h4>\n<pre>ek3 scenario replay ", w->f);
    htm_esc(w->f, w->n->out[0] ? w->n->out : "OUT");
    fputc('/', w->f);
    htm_esc(w->f, r->dir);
    fputs("/verdict.json</pre>\n<p class=\"note\">From the directory the night ran in: the scenario's path in the "
          "verdict is relative to it.</p>\n", w->f);
    htm_links(w, r);
    fputs("</section>\n", w->f);
}

/* Whether the first len bytes of a '\n'-separated list hold item (k bytes). */
static int htm_list_has(const char *list, size_t len, const char *item, size_t k)
{
    for (const char *t = list, *end = list + len; t < end && *t;) {
        const char *f = memchr(t, '\n', (size_t)(end - t));
        size_t m = f ? (size_t)(f - t) : strnlen(t, (size_t)(end - t));
        if (m == k && !strncmp(t, item, k))
            return 1;
        t += m + (f != NULL);
    }
    return 0;
}

/* The distinct gaps of the night, each with the scenarios naming it. */
static void htm_gaps(htm *w)
{
    const ngt_night *n = w->n;
    int any = 0;
    for (size_t i = 0; i < n->nrun; i++) {
        const char *gaps = n->run[i].r.m.gaps;
        for (const char *s = gaps; *s;) {
            const char *e = strchr(s, '\n');
            size_t k = e ? (size_t)(e - s) : strlen(s);
            int seen = htm_list_has(gaps, (size_t)(s - gaps), s, k); /* earlier in this run's list */
            for (size_t j = 0; j < i && !seen; j++)
                seen = htm_list_has(n->run[j].r.m.gaps, sizeof n->run[j].r.m.gaps, s, k);
            if (!seen && k) {
                fputs(any++ ? "" : "<h2>Claims the rig cannot hold</h2>\n<ul class=\"gaps\">\n", w->f);
                fputs("<li>", w->f);
                htm_escape(w->f, s, k);
                fputs(" <span class=\"by\">(named by ", w->f);
                for (size_t j = i, c = 0; j < n->nrun; j++) {
                    int dup = 0; /* a scenario once, whatever its seeds */
                    for (size_t q = i; q < j && !dup; q++)
                        dup = !strcmp(n->run[q].job.name, n->run[j].job.name);
                    if (!dup && htm_list_has(n->run[j].r.m.gaps, sizeof n->run[j].r.m.gaps, s, k)) {
                        fputs(c++ ? ", " : "", w->f);
                        htm_esc(w->f, n->run[j].job.name);
                    }
                }
                fputs(")</span></li>\n", w->f);
            }
            s += k + (e != NULL);
        }
    }
    if (any)
        fputs("</ul>\n", w->f);
}

/* Whether the ';'-separated list holds item (k bytes). */
static int htm_req_has(const char *list, const char *item, size_t k)
{
    for (const char *t = list; *t;) {
        const char *e = strchr(t, ';');
        size_t m = e ? (size_t)(e - t) : strlen(t);
        if (m == k && !strncmp(t, item, k))
            return 1;
        t += m + (e != NULL);
    }
    return 0;
}

/* The claims (the requirements the scenarios cite), sorted: each with
 * what the night says of it (as ngt_count_night counts: it holds when
 * every run citing it passed and none names a gap) and the scenarios
 * citing it, linked to their runs. */
static void htm_claims(htm *w)
{
    const ngt_night *n = w->n;
    size_t cap = 64, nc = 0;
    const char **c = malloc(cap * sizeof *c);
    size_t *len = malloc(cap * sizeof *len);
    for (size_t i = 0; i < n->nrun && c && len; i++)
        for (const char *t = n->run[i].r.m.requirements; *t;) {
            const char *e = strchr(t, ';');
            size_t k = e ? (size_t)(e - t) : strlen(t);
            int seen = 0;
            for (size_t j = 0; j < nc && !seen; j++)
                seen = len[j] == k && !strncmp(c[j], t, k);
            if (!seen && k) {
                if (nc == cap) {
                    const char **nc2 = realloc(c, 2 * cap * sizeof *c);
                    size_t *nl = nc2 ? realloc(len, 2 * cap * sizeof *len) : NULL;
                    if (nc2)
                        c = nc2;
                    if (!nl)
                        break;
                    len = nl;
                    cap *= 2;
                }
                c[nc] = t, len[nc++] = k;
            }
            t += k + (e != NULL);
        }
    if (!c || !len || !nc) {
        free(c), free(len);
        return;
    }
    for (size_t i = 1; i < nc; i++) /* insertion sort by text: a few dozen */
        for (size_t j = i; j > 0; j--) {
            size_t m = len[j - 1] < len[j] ? len[j - 1] : len[j];
            int d = strncmp(c[j - 1], c[j], m);
            if (d < 0 || (d == 0 && len[j - 1] <= len[j]))
                break;
            const char *tc = c[j];
            size_t tl = len[j];
            c[j] = c[j - 1], len[j] = len[j - 1];
            c[j - 1] = tc, len[j - 1] = tl;
        }
    FILE *f = w->f;
    fputs("<h2>Claims</h2>\n<table class=\"claims\"><tr><th>claim</th><th>the night</th><th>scenarios</th></tr>\n", f);
    for (size_t i = 0; i < nc; i++) {
        int fails = 0, gaps = 0;
        for (size_t r = 0; r < n->nrun; r++)
            if (htm_req_has(n->run[r].r.m.requirements, c[i], len[i])) {
                if (n->run[r].status != NGT_DONE || n->run[r].r.verdict != SCN_PASS)
                    fails = 1;
                else if (n->run[r].r.m.gaps[0])
                    gaps = 1;
            }
        fprintf(f, "<tr class=\"%s\"><td>", fails ? "bad" : gaps ? "gap" : "");
        htm_escape(f, c[i], len[i]);
        fprintf(f, "</td><td>%s</td><td>", fails ? "<b class=\"bad\">fails</b>" : gaps ? "holds, gaps named" : "holds");
        for (size_t r = 0, any = 0; r < n->nrun; r++) {
            int dup = 0;
            for (size_t q = 0; q < r && !dup; q++)
                dup = !strcmp(n->run[q].job.name, n->run[r].job.name) &&
                      htm_req_has(n->run[q].r.m.requirements, c[i], len[i]);
            if (dup || !htm_req_has(n->run[r].r.m.requirements, c[i], len[i]))
                continue;
            fprintf(f, "%s<a href=\"#run-%zu\">", any++ ? ", " : "", r);
            htm_esc(f, n->run[r].job.name);
            fputs("</a>", f);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    free(c), free(len);
}

static void htm_flags(htm *w, const hst_flag *flags, size_t nflags)
{
    static const char *const head[2] = {"Nondeterminism (the same scenario, seed and script gave another verdict "
                                        "or trace: a rig bug, not a product failure)",
                                        "Drift (a figure worse than its history's noise band, passing or not)"};
    static const int kind[2] = {HST_FLIP, HST_DRIFT};
    for (int k = 0; k < 2; k++) {
        int any = 0;
        for (size_t i = 0; i < nflags; i++) {
            const hst_flag *g = &flags[i];
            if (g->kind != kind[k])
                continue;
            if (!any++)
                fprintf(w->f, "<h2>%s</h2>\n<ul class=\"flags\">\n", head[k]);
            fputs("<li>", w->f);
            htm_escf(w->f, "%s seed %llu", g->scenario, (unsigned long long)g->seed);
            if (g->kind == HST_DRIFT)
                htm_escf(w->f, ", %s: %.6g against a median of %.6g (band %.3g)", g->figure, g->value, g->median,
                         g->band);
            fputs(": ", w->f);
            htm_esc(w->f, g->text);
            fputs("</li>\n", w->f);
        }
        if (any)
            fputs("</ul>\n", w->f);
        else
            fprintf(w->f, "<p class=\"note\">%s: none.</p>\n", kind[k] == HST_FLIP ? "Nondeterminism" : "Drift");
    }
}

static const char htm_css[] =
    "body{font-family:sans-serif;margin:1.5em;max-width:1150px;color:#222}"
    "h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.5em}"
    "h3{font-size:1.05em;margin:0 0 .3em}h4{font-size:.95em;margin:.8em 0 .3em}"
    "table{border-collapse:collapse;font-size:.85em;margin:.3em 0}"
    "td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}"
    "td.num{text-align:right;white-space:nowrap}th{background:#f3f3f3}"
    "tr.first td{background:#fdd;font-weight:bold}tr.bad td{background:#fee}tr.gap td{background:#fff8dc}"
    "section.run{border:1px solid #ccc;border-left:8px solid #888;padding:.6em 1em;margin:1em 0}"
    "section.pass{border-left-color:#2a2}section.fail{border-left-color:#d22}"
    "section.error{border-left-color:#e80}section.q{border-left-color:#999}section.nr{border-left-color:#66c}"
    ".pass .v{color:#2a2}.fail .v{color:#d22}.error .v{color:#e80}.q .v,.nr .v{color:#666}"
    ".counts td{font-size:1.1em}.bad{color:#d22}.why{background:#fff4f4;padding:.3em}"
    ".qn{color:#666}.qx{color:#d22;font-weight:bold}.note{color:#666;font-style:italic}"
    "pre{background:#f6f6f6;padding:.4em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}"
    "img.key{width:500px;height:300px;border:1px solid #eee;margin:2px}"
    "img.trend{width:300px;height:180px;border:1px solid #eee;margin:2px}"
    ".links{font-size:.9em}.by{color:#666}table.failures td:first-child{white-space:nowrap}";

static void htm_summary(htm *w, const hst_flag *flags, size_t nflags)
{
    const ngt_night *n = w->n;
    FILE *f = w->f;
    ngt_count c;
    ngt_count_night(n, &c);
    char claims[96];
    int ok = hst_night_passes(n, flags, nflags);
    /* the verdict first, as the command's last line gives it: "2 of 2 claims hold" on a night that fails misleads */
    fprintf(f, "<h1>EK3 nightly: %s: %s</h1>\n<table class=\"counts\"><tr>",
            ok ? "the night passes" : "the night FAILS", ngt_claims_text(&c, claims, sizeof claims));
    fprintf(f, "<td>%u passed</td><td class=\"%s\">%u failed</td><td class=\"%s\">%u errors</td>", c.passed,
            c.failed ? "bad" : "", c.failed, c.errors ? "bad" : "", c.errors);
    fprintf(f, "<td>%u quarantined</td><td class=\"%s\">%u expired</td><td class=\"%s\">%u not run</td>", c.quarantined,
            c.expired ? "bad" : "", c.expired, c.not_run ? "bad" : "", c.not_run);
    fprintf(f, "<td>%zu runs</td><td><b>%s</b></td></tr></table>\n", n->nrun,
            ok ? "the night passes" : "the night FAILS");
    fputs("<table><tr><th>rig</th><td>", f);
    htm_esc(f, n->rig_version);
    fputs("</td></tr><tr><th>started</th><td>", f);
    htm_esc(f, n->started);
    fputs("</td></tr><tr><th>shard</th><td>", f);
    if (n->shard_i == 0 && n->shard_n > 0)
        fprintf(f, "a merge of %u shards", n->shard_n);
    else if (n->shard_n > 1)
        fprintf(f, "%u of %u", n->shard_i, n->shard_n);
    else
        fputs("the whole night (not sharded)", f);
    fputs("</td></tr><tr><th>selection</th><td><code>", f);
    htm_esc(f, n->selection[0] ? n->selection : "(all)");
    fprintf(f, "</code></td></tr><tr><th>wall time</th><td>%.1f s</td></tr></table>\n", n->wall_s);
    htm_gaps(w);
    htm_flags(w, flags, nflags);
}

/* Index order of the runs: failures first, then plan order. */
static size_t *htm_order(const ngt_night *n)
{
    size_t *o = malloc((n->nrun ? n->nrun : 1) * sizeof *o), k = 0;
    for (int rank = 0; o && rank < 4; rank++)
        for (size_t i = 0; i < n->nrun; i++)
            if (htm_rank(&n->run[i]) == rank)
                o[k++] = i;
    return o;
}

static int htm_mkdir(htm *w, const char *path)
{
    struct stat st;
    if (!mkdir(path, 0755) || (errno == EEXIST && !stat(path, &st) && S_ISDIR(st.st_mode)))
        return 0;
    return htm_fail(w, EK3_EIO, "%s: cannot make the directory: %s", path, strerror(errno));
}

/* Plots a report written before into the same folder left (rN-*.svg):
 * gone, so svg/ holds what the page shows. */
static void htm_clear_svg(const char *svgdir)
{
    DIR *d = opendir(svgdir);
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t k = strlen(e->d_name);
        char p[1400];
        if (e->d_name[0] == 'r' && k > 4 && !strcmp(e->d_name + k - 4, ".svg") &&
            (size_t)snprintf(p, sizeof p, "%s/%s", svgdir, e->d_name) < sizeof p)
            unlink(p);
    }
    if (d)
        closedir(d);
}

int htm_write(const char *dir, const ngt_night *n, const hst *h, const hst_flag *flags, size_t nflags, char *err,
              size_t cap)
{
    htm w = {.dir = dir, .n = n, .h = h, .err = err, .cap = cap};
    if (err && cap)
        err[0] = 0;
    if (!dir || !n || (nflags && !flags))
        return htm_fail(&w, EK3_EINVAL, "htm_write: no directory or night");
    char path[1100], tmp[1100];
    snprintf(path, sizeof path, "%s/svg", dir);
    if (htm_mkdir(&w, dir) || htm_mkdir(&w, path))
        return w.rc;
    htm_clear_svg(path);
    size_t *order = htm_order(n);
    if (!order)
        return htm_fail(&w, EK3_ENOSPC, "%s: out of memory", dir);
    snprintf(path, sizeof path, "%s/index.html", dir);
    snprintf(tmp, sizeof tmp, "%s/.index.html.tmp", dir);
    w.f = fopen(tmp, "w");
    if (!w.f) {
        free(order);
        return htm_fail(&w, EK3_EIO, "%s: %s", tmp, strerror(errno));
    }
    FILE *f = w.f;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>EK3 nightly ", f);
    htm_esc(f, n->started);
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", htm_css);
    htm_summary(&w, flags, nflags);
    fputs("<h2>Failures</h2>\n", f);
    size_t nbad = 0;
    for (size_t k = 0; k < n->nrun; k++) {
        const ngt_run *r = &n->run[order[k]];
        if (htm_rank(r) == 3)
            continue;
        if (!nbad++)
            fputs("<table class=\"failures\"><tr><th>run</th><th>verdict</th><th>first failed check, or why</th></tr>\n",
                  f);
        fprintf(f, "<tr class=\"%s\"><td>", htm_class(r));
        htm_run_title(&w, r, order[k]);
        fprintf(f, "</td><td>%s ", htm_verdict(r));
        htm_quarantine(&w, r);
        fputs("</td><td>", f);
        htm_why(&w, r);
        fputs("</td></tr>\n", f);
    }
    fputs(nbad ? "</table>\n" : n->nrun ? "<p>None: every run passed.</p>\n" : "<p>None: no run.</p>\n", f);
    htm_claims(&w);
    fputs("<h2>Runs</h2>\n", f);
    if (!n->nrun)
        fputs("<p class=\"note\">The selection holds no scenario: nothing ran.</p>\n", f);
    for (size_t k = 0; k < n->nrun && !w.rc; k++)
        htm_run(&w, &n->run[order[k]], order[k]);
    fputs("</body>\n</html>\n", f);
    free(order);
    int werr = ferror(f) ? errno : 0;
    if (fclose(f) && !werr)
        werr = errno ? errno : EIO;
    if (werr && !w.rc)
        htm_fail(&w, EK3_EIO, "%s: %s", tmp, strerror(werr));
    if (!w.rc && rename(tmp, path))
        htm_fail(&w, EK3_EIO, "%s: %s", path, strerror(errno));
    if (w.rc)
        unlink(tmp);
    return w.rc;
}
