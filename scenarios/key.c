/* key.c - a run's key signals, decimated min/max, as keys.csv (key.h). */
#include "key.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"

enum { KEY_ROWS_MAX = 1000000, KEY_LINE_MAX = 4096 };


static size_t key_stride(const key_rec *kr) { return 3 + 2 * (size_t)kr->k; }
static double *key_bucket(const key_rec *kr, size_t i) { return kr->b + i * key_stride(kr); }

static int key_name_ok(const char *s, size_t cap)
{
    size_t n = strlen(s);
    return n > 0 && n < cap && !strpbrk(s, " ,()\n\r\t\"");
}

int key_init(key_rec *kr, unsigned k, const char *const *names, const char *const *units)
{
    if (!kr)
        return EK3_EINVAL;
    memset(kr, 0, sizeof *kr);
    if (!names || k < 1 || k > KEY_MAX)
        return EK3_EINVAL;
    for (unsigned j = 0; j < k; j++) {
        const char *u = units && units[j] ? units[j] : "";
        if (!names[j] || !key_name_ok(names[j], KEY_NAME_CAP) || (*u && !key_name_ok(u, KEY_UNIT_CAP)))
            return EK3_EINVAL;
        snprintf(kr->name[j], KEY_NAME_CAP, "%s", names[j]);
        snprintf(kr->unit[j], KEY_UNIT_CAP, "%s", u);
    }
    kr->k = k;
    kr->width = 1;
    kr->b = malloc(KEY_BUCKETS * key_stride(kr) * sizeof *kr->b);
    return kr->b ? EK3_OK : EK3_ENOSPC;
}

void key_free(key_rec *kr)
{
    if (!kr)
        return;
    free(kr->b);
    kr->b = NULL;
    kr->nb = 0;
}

/* Bucket a absorbs bucket b (b's samples are later). */
static void key_merge(const key_rec *kr, double *a, const double *b)
{
    a[1] = b[1];
    a[2] += b[2];
    for (unsigned j = 0; j < kr->k; j++) {
        a[3 + j] = fmin(a[3 + j], b[3 + j]);
        a[3 + kr->k + j] = fmax(a[3 + kr->k + j], b[3 + kr->k + j]);
    }
}

int key_push(key_rec *kr, double t, const double *v)
{
    if (!kr || !kr->b || !v || !isfinite(t) || (kr->nb && !(t > key_bucket(kr, kr->nb - 1)[1])))
        return EK3_EINVAL;
    double *last = kr->nb ? key_bucket(kr, kr->nb - 1) : NULL;
    if (last && last[2] < kr->width) {
        double one[3 + 2 * KEY_MAX];
        one[0] = one[1] = t, one[2] = 1;
        for (unsigned j = 0; j < kr->k; j++)
            one[3 + j] = one[3 + kr->k + j] = v[j];
        key_merge(kr, last, one);
        return EK3_OK;
    }
    if (kr->nb == KEY_BUCKETS) { /* all full: halve the count, double the width */
        for (size_t i = 0; i < KEY_BUCKETS / 2; i++) {
            double *a = key_bucket(kr, i);
            memmove(a, key_bucket(kr, 2 * i), key_stride(kr) * sizeof *a);
            key_merge(kr, a, key_bucket(kr, 2 * i + 1));
        }
        kr->nb = KEY_BUCKETS / 2;
        kr->width *= 2;
    }
    double *b = key_bucket(kr, kr->nb++);
    b[0] = b[1] = t, b[2] = 1;
    for (unsigned j = 0; j < kr->k; j++)
        b[3 + j] = b[3 + kr->k + j] = v[j];
    return EK3_OK;
}

size_t key_rows(const key_rec *kr)
{
    size_t n = 0;
    for (size_t i = 0; kr && kr->b && i < kr->nb; i++)
        n += key_bucket(kr, i)[2] > 1 ? 2 : 1;
    return n;
}

static void key_row(FILE *f, double t, const double *v, unsigned k)
{
    fprintf(f, "%.12g", t);
    for (unsigned j = 0; j < k; j++)
        fprintf(f, isnan(v[j]) ? ",nan" : ",%.9g", v[j]);
    fputc('\n', f);
}

int key_write_csv(const key_rec *kr, FILE *f)
{
    if (!kr || !kr->b || !f)
        return EK3_EINVAL;
    fputs("t_s", f);
    for (unsigned j = 0; j < kr->k; j++)
        fprintf(f, kr->unit[j][0] ? ",%s (%s)" : ",%s", kr->name[j], kr->unit[j]);
    fputc('\n', f);
    for (size_t i = 0; i < kr->nb; i++) {
        const double *b = key_bucket(kr, i);
        key_row(f, b[0], b + 3, kr->k);
        if (b[2] > 1)
            key_row(f, b[1], b + 3 + kr->k, kr->k);
    }
    return ferror(f) ? EK3_EIO : EK3_OK;
}

/* ---- reading back ---- */

void key_data_free(key_data *d)
{
    if (!d)
        return;
    free(d->t);
    free(d->v);
    d->t = d->v = NULL;
    d->nrow = 0;
}

/* One header field "PATH (UNIT)" or "PATH" into column c. */
static int key_head_field(key_data *d, unsigned c, const char *s, size_t n)
{
    const char *open = memchr(s, '(', n);
    size_t pn = open ? (size_t)(open - s) : n;
    if (open) {
        if (pn < 2 || s[pn - 1] != ' ' || s[n - 1] != ')')
            return 0;
        size_t un = n - pn - 2;
        if (un < 1 || un >= KEY_UNIT_CAP)
            return 0;
        memcpy(d->unit[c], open + 1, un);
        d->unit[c][un] = 0;
        pn--;
    }
    if (pn < 1 || pn >= KEY_NAME_CAP)
        return 0;
    memcpy(d->name[c], s, pn);
    d->name[c][pn] = 0;
    return key_name_ok(d->name[c], KEY_NAME_CAP) && (!open || key_name_ok(d->unit[c], KEY_UNIT_CAP));
}

static int key_fail(char *err, size_t cap, int rc, const char *path, unsigned ln, const char *why)
{
    if (err && cap)
        snprintf(err, cap, "%s:%u: %s", path, ln, why);
    return rc;
}

/* Grow the columns to hold at least `want` rows. */
static int key_grow(key_data *d, size_t *capr, size_t want)
{
    if (want <= *capr)
        return 1;
    size_t nc = *capr ? *capr * 2 : 1024;
    double *t = malloc(nc * sizeof *t), *v = malloc(nc * d->ncol * sizeof *v);
    if (!t || !v) {
        free(t);
        free(v);
        return 0;
    }
    if (d->nrow) {
        memcpy(t, d->t, d->nrow * sizeof *t);
        for (unsigned c = 0; c < d->ncol; c++)
            memcpy(v + c * nc, d->v + c * *capr, d->nrow * sizeof *v);
    }
    free(d->t);
    free(d->v);
    d->t = t, d->v = v, *capr = nc;
    return 1;
}

int key_read_csv(FILE *f, const char *path, key_data *d, char *err, size_t cap)
{
    if (!d)
        return EK3_EINVAL;
    memset(d, 0, sizeof *d);
    if (!path)
        path = "keys.csv";
    if (!f)
        return key_fail(err, cap, EK3_EINVAL, path, 0, "no file");
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    unsigned ln = 0;
    size_t capr = 0;
    int rc = EK3_OK;
    errno = 0;
    while ((got = getline(&line, &lcap, f)) >= 0) {
        ln++;
        size_t n = (size_t)got;
        if (n > KEY_LINE_MAX || memchr(line, 0, n)) {
            rc = key_fail(err, cap, EK3_EPARSE, path, ln, n > KEY_LINE_MAX ? "a line over 4096 bytes" : "a NUL byte");
            break;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (ln == 1) {
            if (strncmp(line, "t_s,", 4)) {
                rc = key_fail(err, cap, EK3_EPARSE, path, ln, "the header must start with t_s, then the signals");
                break;
            }
            const char *p = line + 4;
            for (;;) {
                const char *e = strchr(p, ',');
                size_t fl = e ? (size_t)(e - p) : strlen(p);
                if (d->ncol == KEY_MAX || !key_head_field(d, d->ncol, p, fl)) {
                    rc = key_fail(err, cap, EK3_EPARSE, path, ln,
                                  d->ncol == KEY_MAX ? "more than 12 signals" : "a signal must read PATH or PATH (UNIT)");
                    break;
                }
                d->ncol++;
                if (!e)
                    break;
                p = e + 1;
            }
            if (rc)
                break;
            continue;
        }
        if (!n) {
            rc = key_fail(err, cap, EK3_EPARSE, path, ln, "an empty line");
            break;
        }
        if (d->nrow == KEY_ROWS_MAX) {
            rc = key_fail(err, cap, EK3_EPARSE, path, ln, "more than 1000000 rows");
            break;
        }
        if (!key_grow(d, &capr, d->nrow + 1)) {
            rc = key_fail(err, cap, EK3_ENOSPC, path, ln, "out of memory");
            break;
        }
        char *p = line;
        unsigned c = 0;
        for (; c <= d->ncol; c++) {
            char *e;
            errno = 0;
            double x = strtod(p, &e);
            if (e == p || (*e && *e != ',') || (c == d->ncol) != !*e || (c == 0 && !isfinite(x)))
                break;
            if (c == 0)
                d->t[d->nrow] = x;
            else
                d->v[(c - 1) * capr + d->nrow] = x;
            p = *e ? e + 1 : e;
        }
        if (c <= d->ncol) {
            char why[96];
            snprintf(why, sizeof why, "field %u: not a number, or not %u fields", c + 1, d->ncol + 1);
            rc = key_fail(err, cap, EK3_EPARSE, path, ln, why);
            break;
        }
        if (d->nrow && !(d->t[d->nrow] >= d->t[d->nrow - 1])) {
            rc = key_fail(err, cap, EK3_EPARSE, path, ln, "the time goes back");
            break;
        }
        d->nrow++;
    }
    if (!rc && ferror(f))
        rc = key_fail(err, cap, EK3_EIO, path, ln, strerror(errno ? errno : EIO));
    free(line);
    if (!rc && ln == 0)
        rc = key_fail(err, cap, EK3_EPARSE, path, 1, "empty: no header");
    if (rc) {
        key_data_free(d);
        return rc;
    }
    /* Pack the columns to nrow apart (they were capr apart). */
    for (unsigned c = 1; c < d->ncol && capr != d->nrow; c++)
        memmove(d->v + c * d->nrow, d->v + c * capr, d->nrow * sizeof *d->v);
    return EK3_OK;
}
