/*
 * hst.c - the nightly history (hst.h): JSON lines through jansson, one
 * json_dumps per line written whole, read back strictly but for a cut
 * last line; durations, series, drift and flips.
 */
#include "hst.h"
#include "cli.h"

#include <ctype.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ek3_err.h"

#define HST_FORMAT "ek3-history/1"
#define HST_MAX_BYTES ((size_t)256 << 20) /* 256 MiB: thousands of nights of the library */

void hst_free(hst *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->e[i].fig);
    free(h->e);
    h->e = NULL;
    h->n = h->cap = 0;
}

/* A line's reader: the file and line for errors. */
typedef struct hst_rd {
    const char *file;
    size_t line;
    char *err;
    size_t cap;
    int not_json;             /* the last line read was not JSON at all */
} hst_rd;

static int hst_bad(hst_rd *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int hst_bad(hst_rd *d, const char *fmt, ...)
{
    char why[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(d->err, d->cap, "%s:%zu: %s", d->file, d->line, why);
    return EK3_EPARSE;
}

/* A string field into buf[cap]: required, or "" when absent and optional. */
static int hst_str(hst_rd *d, json_t *o, const char *key, char *buf, size_t cap, int required, const char *ctx)
{
    json_t *v = json_object_get(o, key);
    buf[0] = 0;
    if (!v) {
        if (required)
            return hst_bad(d, "%s%s: missing", ctx, key);
        return 0;
    }
    if (!json_is_string(v))
        return hst_bad(d, "%s%s: not a string", ctx, key);
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n >= cap)
        return hst_bad(d, "%s%s: longer than %zu characters", ctx, key, cap - 1);
    if (memchr(s, 0, n))
        return hst_bad(d, "%s%s: holds a NUL character", ctx, key);
    if (required && !n)
        return hst_bad(d, "%s%s: empty", ctx, key);
    memcpy(buf, s, n + 1);
    return 0;
}

/* A SHA-256 field: absent, "" or 64 hexadecimal digits. */
static int hst_sha(hst_rd *d, json_t *o, const char *key, char buf[65])
{
    int rc = hst_str(d, o, key, buf, 65, 0, "");
    if (rc)
        return rc;
    size_t n = strlen(buf);
    if (n && (n != 64 || strspn(buf, "0123456789abcdefABCDEF") != 64))
        return hst_bad(d, "%s: not 64 hexadecimal digits", key);
    return 0;
}

static int hst_figs(hst_rd *d, json_t *a, hst_entry *e)
{
    if (!json_is_array(a))
        return hst_bad(d, "figures: %s", a ? "not an array" : "missing");
    size_t n = json_array_size(a);
    if (!n)
        return 0;
    if (n > 100000)
        return hst_bad(d, "figures: %zu of them, more than 100000", n);
    e->fig = calloc(n, sizeof *e->fig);
    if (!e->fig) {
        snprintf(d->err, d->cap, "%s:%zu: out of memory", d->file, d->line);
        return EK3_ENOSPC;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *f = json_array_get(a, i);
        hst_fig *g = &e->fig[i];
        char ctx[40];
        snprintf(ctx, sizeof ctx, "figures[%zu].", i);
        if (!json_is_object(f))
            return hst_bad(d, "figures[%zu]: not an object", i);
        int rc = hst_str(d, f, "name", g->name, sizeof g->name, 1, ctx);
        if (!rc)
            rc = hst_str(d, f, "unit", g->unit, sizeof g->unit, 0, ctx);
        if (!rc)
            rc = hst_str(d, f, "limit", g->limit, sizeof g->limit, 0, ctx);
        if (rc)
            return rc;
        json_t *v = json_object_get(f, "value");
        if (!v)
            return hst_bad(d, "%svalue: missing", ctx);
        if (json_is_null(v))
            g->value = NAN;
        else if (json_is_number(v))
            g->value = json_number_value(v);
        else
            return hst_bad(d, "%svalue: not a number or null", ctx);
        json_t *p = json_object_get(f, "pass");
        if (!json_is_boolean(p))
            return hst_bad(d, "%spass: %s", ctx, p ? "not true or false" : "missing");
        g->pass = json_is_true(p);
        e->nfig++;
    }
    return 0;
}

/* One JSON object into e (zeroed; e->fig malloc'd even on error). */
static int hst_entry_of(hst_rd *d, json_t *o, hst_entry *e)
{
    if (!json_is_object(o))
        return hst_bad(d, "not a JSON object");
    char format[32];
    int rc = hst_str(d, o, "format", format, sizeof format, 1, "");
    if (rc)
        return rc;
    if (strcmp(format, HST_FORMAT))
        return hst_bad(d, "format: \"%s\", not \"" HST_FORMAT "\"", format);
    if ((rc = hst_str(d, o, "night", e->night, sizeof e->night, 1, "")) ||
        (rc = hst_str(d, o, "rig_version", e->rig_version, sizeof e->rig_version, 0, "")) ||
        (rc = hst_str(d, o, "scenario", e->scenario, sizeof e->scenario, 1, "")) ||
        (rc = hst_str(d, o, "path", e->path, sizeof e->path, 0, "")) ||
        (rc = hst_sha(d, o, "script_sha256", e->script_sha256)) ||
        (rc = hst_sha(d, o, "helpers_sha256", e->helpers_sha256)) ||
        (rc = hst_sha(d, o, "trace_sha256", e->trace_sha256)))
        return rc;
    json_t *s = json_object_get(o, "seed");
    if (!json_is_integer(s) || json_integer_value(s) < 0)
        return hst_bad(d, "seed: %s", s ? "not a whole number >= 0" : "missing");
    e->seed = (uint64_t)json_integer_value(s);
    char verdict[8];
    if ((rc = hst_str(d, o, "verdict", verdict, sizeof verdict, 1, "")))
        return rc;
    e->verdict = -1;
    for (int v = SCN_PASS; v <= SCN_ERROR; v++)
        if (!strcmp(verdict, scn_verdict_name((unsigned)v)))
            e->verdict = v;
    if (e->verdict < 0)
        return hst_bad(d, "verdict: \"%s\", not PASS, FAIL or ERROR", verdict);
    json_t *w = json_object_get(o, "wall_s");
    if (!json_is_number(w) || !(json_number_value(w) >= 0) || !isfinite(json_number_value(w)))
        return hst_bad(d, "wall_s: %s", w ? "not a number of seconds >= 0" : "missing");
    e->wall_s = json_number_value(w);
    return hst_figs(d, json_object_get(o, "figures"), e);
}

/* One line (n bytes, no newline) appended to h; 1 when it is blank. */
static int hst_line(hst *h, hst_rd *d, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
        i++;
    if (i == n)
        return 1;
    if (memchr(s, 0, n))
        return hst_bad(d, "a NUL byte");
    json_error_t je;
    json_t *o = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        d->not_json = 1;
        return hst_bad(d, "not JSON: %s (column %d)", je.text, je.column);
    }
    if (h->n == h->cap) {
        size_t c = h->cap ? h->cap * 2 : 64;
        hst_entry *t = realloc(h->e, c * sizeof *t);
        if (!t) {
            json_decref(o);
            snprintf(d->err, d->cap, "%s:%zu: out of memory", d->file, d->line);
            return EK3_ENOSPC;
        }
        h->e = t;
        h->cap = c;
    }
    hst_entry *e = &h->e[h->n];
    memset(e, 0, sizeof *e);
    int rc = hst_entry_of(d, o, e);
    json_decref(o);
    if (rc) {
        free(e->fig);
        return rc;
    }
    h->n++;
    return 0;
}

int hst_parse(hst *h, const char *text, size_t len, const char *file, char *err, size_t cap)
{
    hst_rd d = {file, 0, err, cap, 0};
    size_t at = 0;
    while (at < len) {
        d.line++;
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        int rc = hst_line(h, &d, text + at, n);
        if (rc == EK3_EPARSE && !nl && d.not_json) {
            /* the last line, cut short: a night stopped while appending
               (a whole object without its newline is read; a cut one
               is never JSON) */
            snprintf(h->warning, sizeof h->warning,
                     "%s:%zu: the last line is cut short (%zu bytes, no newline): skipped", file, d.line, n);
            return 0;
        }
        if (rc < 0) {
            hst_free(h);
            return rc;
        }
        at += n + (nl != NULL);
    }
    return 0;
}

int hst_load(hst *h, const char *path, char *err, size_t cap)
{
    memset(h, 0, sizeof *h);
    if (access(path, F_OK) && errno == ENOENT)
        return 0; /* no history yet */
    char *text;
    size_t n;
    int rc = scn_read_file(path, HST_MAX_BYTES, &text, &n, err, cap);
    if (!rc)
        rc = hst_parse(h, text, n, path, err, cap);
    free(text);
    return rc;
}

/* The hex of a hash, "" when it is all zero (not known). */
static void hst_hex(const uint8_t s[32], char hex[65])
{
    static const uint8_t zero[32];
    hex[0] = 0;
    if (memcmp(s, zero, 32))
        scn_sha256_hex(s, hex);
}

static const char *hst_name(const ngt_run *r)
{
    return r->job.name[0] ? r->job.name : r->r.m.name;
}

static int hst_verdict(const ngt_run *r)
{
    return r->status == NGT_DONE ? r->r.verdict : SCN_ERROR;
}

/* One run as a line (malloc'd, newline-ended), or NULL (memory). */
static char *hst_line_of(const ngt_night *n, const ngt_run *r)
{
    char script[65], trace[65], helpers[65];
    uint8_t hs[32];
    hst_hex(r->r.script_sha256, script);
    hst_hex(r->r.trace_sha256, trace);
    scn_helpers_sha256(&r->r, hs);
    hst_hex(hs, helpers);
    json_t *figs = json_array();
    for (unsigned i = 0; figs && i < r->r.nfig; i++) {
        const scn_fig *g = &r->r.fig[i];
        json_t *f = json_pack("{s:s, s:o, s:s, s:s, s:b}", "name", g->name, "value",
                              isfinite(g->value) ? json_real(g->value) : json_null(), "unit", g->unit, "limit",
                              g->limit, "pass", g->pass);
        if (!f || json_array_append_new(figs, f)) {
            json_decref(figs);
            figs = NULL;
        }
    }
    if (!figs)
        return NULL;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:f, s:o}", "format", HST_FORMAT, "night",
                          n->started, "rig_version", n->rig_version, "scenario", hst_name(r), "path",
                          r->job.path[0] ? r->job.path : r->r.m.path, "script_sha256", script, "helpers_sha256",
                          helpers, "seed", (json_int_t)r->job.seed, "verdict",
                          scn_verdict_name((unsigned)hst_verdict(r)), "trace_sha256", trace, "wall_s",
                          isfinite(r->wall_s) && r->wall_s > 0 ? r->wall_s : 0.0, "figures", figs);
    if (!o)
        return NULL;
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(o);
    if (!s)
        return NULL;
    size_t k = strlen(s);
    char *t = realloc(s, k + 2);
    if (!t) {
        free(s);
        return NULL;
    }
    t[k] = '\n';
    t[k + 1] = 0;
    return t;
}

/* Make the file f (size bytes) end with a whole line before lines are
 * appended: a last line without its newline is ended when it is JSON
 * (an entry whose newline was lost) and dropped when it is not (cut
 * short: a night stopped while appending). 0 or an errno. */
static int hst_end_whole(FILE *f, long size)
{
    char buf[4096];
    long keep = size;
    while (keep > 0) {
        long from = keep > (long)sizeof buf ? keep - (long)sizeof buf : 0;
        size_t want = (size_t)(keep - from);
        if (fseek(f, from, SEEK_SET) || fread(buf, 1, want, f) != want)
            return errno ? errno : EIO;
        size_t i = want;
        while (i > 0 && buf[i - 1] != '\n')
            i--;
        keep = from + (long)i;
        if (i > 0)
            break;
    }
    if (keep == size)
        return fseek(f, 0, SEEK_END) ? (errno ? errno : EIO) : 0;
    size_t n = (size_t)(size - keep);
    char *tail = malloc(n);
    if (!tail)
        return ENOMEM;
    json_t *j = NULL;
    if (!fseek(f, keep, SEEK_SET) && fread(tail, 1, n, f) == n)
        j = json_loadb(tail, n, 0, NULL);
    free(tail);
    int whole = j != NULL;
    json_decref(j);
    if (fseek(f, 0, SEEK_END))
        return errno ? errno : EIO;
    if (whole)
        return fputc('\n', f) == EOF ? (errno ? errno : EIO) : 0;
    if (fflush(f) || ftruncate(fileno(f), keep) || fseek(f, 0, SEEK_END))
        return errno ? errno : EIO;
    return 0;
}

int hst_append(const char *path, const ngt_night *n, char *err, size_t cap)
{
    FILE *f = fopen(path, "a+b");
    if (!f) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return EK3_EIO;
    }
    int e = 0, rc = 0;
    long size = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
    if (size > 0)
        e = hst_end_whole(f, size);
    for (size_t i = 0; i < n->nrun && !e && !rc; i++) {
        if (n->run[i].status == NGT_NOT_RUN)
            continue;
        char *line = hst_line_of(n, &n->run[i]);
        if (!line) {
            snprintf(err, cap, "%s: out of memory", path);
            rc = EK3_ENOSPC;
            break;
        }
        size_t k = strlen(line);
        if (fwrite(line, 1, k, f) != k || fflush(f))
            e = errno ? errno : EIO;
        free(line);
    }
    if (!e && (fflush(f) || ferror(f) || fsync(fileno(f))) && errno != EINVAL && errno != EROFS)
        e = errno ? errno : EIO;
    if (fclose(f) && !e)
        e = errno ? errno : EIO;
    if (e) {
        snprintf(err, cap, "%s: write error: %s", path, strerror(e));
        return EK3_EIO;
    }
    return rc;
}

/* Sort helper and the median of v[n] (sorted in place). */
static int hst_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double hst_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, hst_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int hst_is(const hst_entry *e, const char *scenario, uint64_t seed)
{
    return e->seed == seed && !strcmp(e->scenario, scenario);
}

int hst_duration(const hst *h, const char *scenario, uint64_t seed, unsigned last, double *s)
{
    double v[256];
    size_t n = 0, want = last && last < 256 ? last : 256;
    for (size_t i = h->n; i-- > 0 && n < want;)
        if (hst_is(&h->e[i], scenario, seed) && h->e[i].wall_s > 0)
            v[n++] = h->e[i].wall_s;
    if (!n)
        return 0;
    *s = hst_median(v, n);
    return 1;
}

/* The length of the number at s (digits, a sign, a point, an exponent), 0 if none starts there. */
static size_t hst_number(const char *s)
{
    size_t i = 0;
    if (s[i] == '-' || s[i] == '+')
        i++;
    if (!isdigit((unsigned char)s[i]) && !(s[i] == '.' && isdigit((unsigned char)s[i + 1])))
        return 0;
    while (isdigit((unsigned char)s[i]) || s[i] == '.')
        i++;
    if ((s[i] == 'e' || s[i] == 'E') &&
        (isdigit((unsigned char)s[i + 1]) || ((s[i + 1] == '-' || s[i + 1] == '+') && isdigit((unsigned char)s[i + 2])))) {
        i += 2;
        while (isdigit((unsigned char)s[i]))
            i++;
    }
    return i;
}

int hst_same_figure(const char *a, const char *b)
{
    while (*a && *b) {
        size_t na = hst_number(a), nb = hst_number(b);
        if (na && nb) {
            a += na, b += nb;
            continue;
        }
        if (*a++ != *b++)
            return 0;
    }
    return *a == *b;
}

/* The first figure of that name in e, or NULL. */
static const hst_fig *hst_fig_of(const hst_entry *e, const char *figure)
{
    for (unsigned i = 0; i < e->nfig; i++)
        if (hst_same_figure(e->fig[i].name, figure))
            return &e->fig[i];
    return NULL;
}

size_t hst_series(const hst *h, const char *scenario, uint64_t seed, const char *figure, size_t max,
                  const char **night, double *value)
{
    size_t n = 0, first = h->n;
    for (size_t i = h->n; i-- > 0 && n < max;)
        if (hst_is(&h->e[i], scenario, seed)) {
            n++;
            first = i;
        }
    size_t k = 0;
    for (size_t i = first; i < h->n && k < n; i++)
        if (hst_is(&h->e[i], scenario, seed)) {
            const hst_fig *f = hst_fig_of(&h->e[i], figure);
            night[k] = h->e[i].night;
            value[k++] = f ? f->value : NAN;
        }
    return k;
}

int hst_direction(const char *limit)
{
    while (*limit == ' ' || *limit == '\t')
        limit++;
    return *limit == '<' ? -1 : *limit == '>' ? 1 : 0;
}

/* The flags being gathered. */
typedef struct hst_out {
    hst_flag *f;
    size_t n, cap;
} hst_out;

/* A new flag of kind for run r, or NULL (memory). */
static hst_flag *hst_add(hst_out *o, int kind, const ngt_run *r)
{
    if (o->n == o->cap) {
        size_t c = o->cap ? o->cap * 2 : 16;
        hst_flag *t = realloc(o->f, c * sizeof *t);
        if (!t)
            return NULL;
        o->f = t;
        o->cap = c;
    }
    hst_flag *g = &o->f[o->n++];
    memset(g, 0, sizeof *g);
    g->kind = kind;
    snprintf(g->scenario, sizeof g->scenario, "%s", hst_name(r));
    g->seed = r->job.seed;
    return g;
}

/* Drift of tonight's figure g of run r against its past values. */
static int hst_drift(const hst *h, const ngt_run *r, const scn_fig *g, unsigned window, double *past, hst_out *o)
{
    int dir = hst_direction(g->limit);
    if (!dir || !isfinite(g->value))
        return 0;
    size_t n = 0, want = window ? window : (size_t)-1;
    for (size_t i = h->n; i-- > 0 && n < want;) {
        if (!hst_is(&h->e[i], hst_name(r), r->job.seed))
            continue;
        const hst_fig *f = hst_fig_of(&h->e[i], g->name);
        if (f && isfinite(f->value))
            past[n++] = f->value;
    }
    if (n < 5)
        return 0;
    double med = hst_median(past, n);
    for (size_t i = 0; i < n; i++)
        past[i] = fabs(past[i] - med);
    double mad = hst_median(past, n);
    double band = fmax(fmax(4 * 1.4826 * mad, 0.01 * fabs(med)), 1e-9);
    double worse = dir < 0 ? g->value - med : med - g->value;
    if (!(worse > band))
        return 0;
    hst_flag *f = hst_add(o, HST_DRIFT, r);
    if (!f)
        return EK3_ENOSPC;
    snprintf(f->figure, sizeof f->figure, "%s", g->name);
    f->value = g->value;
    f->median = med;
    f->band = band;
    char v[3][64]; /* each in the figure's unit, with its SI prefix (cli_si) */
    snprintf(f->text, sizeof f->text, "%s = %s drifted %s: median %s over the last %zu nights, band %s (limit %s; it %s)",
             g->name, cli_si(v[0], sizeof v[0], g->value, g->unit), dir < 0 ? "up" : "down",
             cli_si(v[1], sizeof v[1], med, g->unit), n, cli_si(v[2], sizeof v[2], band, g->unit), g->limit,
             g->pass ? "still passes" : "fails");
    return 0;
}

/* A flip of run r against the last entry of its scenario, seed, script,
 * helpers and rig version (night n's): a rig that changed may change a
 * trace, and that is not nondeterminism. */
static int hst_flip(const hst *h, const ngt_night *n, const ngt_run *r, hst_out *o)
{
    char script[65], trace[65], helpers[65];
    uint8_t hs[32];
    hst_hex(r->r.script_sha256, script);
    if (!script[0] || r->status == NGT_NOT_RUN)
        return 0;
    hst_hex(r->r.trace_sha256, trace);
    scn_helpers_sha256(&r->r, hs);
    hst_hex(hs, helpers);
    /* the same script with the same helpers (an edited lib/ek3.lua: not a flip) on the same rig */
    const hst_entry *last = NULL;
    for (size_t i = h->n; i-- > 0 && !last;)
        if (hst_is(&h->e[i], hst_name(r), r->job.seed) && !strcmp(h->e[i].script_sha256, script) &&
            !strcmp(h->e[i].helpers_sha256, helpers) && !strcmp(h->e[i].rig_version, n->rig_version))
            last = &h->e[i];
    if (!last)
        return 0;
    int v = hst_verdict(r);
    int both_ran = v != SCN_ERROR && last->verdict != SCN_ERROR;
    int trace_differs = both_ran && trace[0] && last->trace_sha256[0] && strcasecmp(trace, last->trace_sha256);
    if (v == last->verdict && !trace_differs)
        return 0;
    hst_flag *f = hst_add(o, HST_FLIP, r);
    if (!f)
        return EK3_ENOSPC;
    f->value = f->median = f->band = NAN;
    if (v != last->verdict)
        snprintf(f->text, sizeof f->text,
                 "the same script and seed gave %s on %s and %s tonight", scn_verdict_name((unsigned)last->verdict), last->night,
                 scn_verdict_name((unsigned)v));
    else
        snprintf(f->text, sizeof f->text,
                 "the same script and seed gave trace %.12s on %s and %.12s tonight (both %s)", last->trace_sha256, last->night, trace,
                 scn_verdict_name((unsigned)v));
    return 0;
}

int hst_night_passes(const ngt_night *n, const hst_flag *flags, size_t nflags)
{
    int ok = ngt_night_ok(n) && !n->fails_anyway;
    for (size_t k = 0; k < nflags && n->fail_on_flip; k++)
        ok = ok && flags[k].kind != HST_FLIP; /* --fail-on-flip */
    return ok;
}

int hst_analyse(const hst *h, const ngt_night *n, unsigned window, hst_flag **out)
{
    hst_out o = {0};
    double *past = malloc((h->n ? h->n : 1) * sizeof *past);
    int rc = past ? 0 : EK3_ENOSPC;
    for (size_t i = 0; i < n->nrun && !rc; i++) {
        const ngt_run *r = &n->run[i];
        if (r->status != NGT_DONE)
            continue;
        for (unsigned k = 0; k < r->r.nfig && !rc; k++) {
            unsigned j = 0;
            while (j < k && !hst_same_figure(r->r.fig[j].name, r->r.fig[k].name))
                j++;
            if (j == k)
                rc = hst_drift(h, r, &r->r.fig[k], window, past, &o);
        }
    }
    for (size_t i = 0; i < n->nrun && !rc; i++)
        rc = hst_flip(h, n, &n->run[i], &o);
    free(past);
    if (rc) {
        free(o.f);
        *out = NULL;
        return rc;
    }
    *out = o.f;
    return (int)o.n;
}
