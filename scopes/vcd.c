/* vcd.c - a Value Change Dump writer (vcd.h). */
#define _GNU_SOURCE /* qsort_r */
#include "vcd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"

#define VCD_PATH_MAX 255u
#define VCD_X UINT64_MAX /* a vector's last value when it was written all x */

/* Keep the first write error of the file (errno, EIO when unknown). */
static int vcd_check(vcd *v)
{
    if (v->err)
        return EK3_EIO;
    if (v->f && ferror(v->f)) {
        v->err = errno ? errno : EIO;
        return EK3_EIO;
    }
    return 0;
}

int vcd_open(vcd *v, const char *path, const vcd_opts *o)
{
    if (!v || !path)
        return EK3_EINVAL;
    memset(v, 0, sizeof *v);
    snprintf(v->path, sizeof v->path, "%s", path);
    if (o)
        v->o = *o;
    if (!v->o.unit_ns)
        v->o.unit_ns = 1000;
    if (v->o.unit_ns != 1 && v->o.unit_ns != 1000)
        return EK3_EINVAL;
    v->t_now = v->t_out = -1;
    errno = 0;
    if (!(v->f = fopen(path, "w"))) {
        v->err = errno ? errno : EIO;
        v->not_created = 1;
        return EK3_EIO;
    }
    return 0;
}

unsigned vcd_width_of(uint64_t max)
{
    unsigned w = 1;
    while (w < 64 && (max >> w))
        w++;
    return w;
}

int vcd_add(vcd *v, const char *path, vcd_kind kind, unsigned width)
{
    if (!v || !path || !v->f || v->begun || !path[0] || strlen(path) > VCD_PATH_MAX || path[0] == '.' ||
        path[strlen(path) - 1] == '.' || strstr(path, ".."))
        return EK3_EINVAL;
    for (const char *c = path; *c; c++)
        if (*c <= ' ' || *c > '~')
            return EK3_EINVAL;
    if (kind == VCD_VEC && (width < 1 || width > 64))
        return EK3_EINVAL;
    if (kind != VCD_REAL && kind != VCD_VEC && kind != VCD_WIRE)
        return EK3_EINVAL;
    for (unsigned i = 0; i < v->n; i++)
        if (!strcmp(v->var[i].path, path))
            return EK3_EBUSY;
    if (v->n == v->cap) {
        unsigned cap = v->cap ? 2 * v->cap : 64;
        vcd_var *nv = realloc(v->var, cap * sizeof *nv);
        if (!nv)
            return EK3_ENOSPC;
        v->var = nv;
        v->cap = cap;
    }
    vcd_var *x = &v->var[v->n];
    memset(x, 0, sizeof *x);
    if (!(x->path = strdup(path)))
        return EK3_ENOSPC;
    x->kind = kind;
    x->width = kind == VCD_VEC ? width : kind == VCD_WIRE ? 1 : 64;
    x->left_out = v->o.sigrok && kind == VCD_REAL;
    x->id = v->nid;
    v->nid += x->left_out ? 0 : v->o.sigrok ? x->width : 1;
    return (int)v->n++;
}

int vcd_real_text(double x, char buf[32])
{
    int n = snprintf(buf, 32, "%.17g", x);
    return n < 0 ? 0 : n;
}

/* Identifier code number k: printable ASCII 33..126, base 94 (18.2.1). */
static const char *vcd_id(unsigned k, char buf[8])
{
    int n = 0;
    do {
        buf[n++] = (char)(33 + k % 94);
        k /= 94;
    } while (k && n < 7);
    buf[n] = 0;
    return buf;
}

/* The scope part of a path (all but its last component): its length. */
static size_t vcd_scope_len(const char *p)
{
    const char *d = strrchr(p, '.');
    return d ? (size_t)(d - p) : 0;
}

/* Compare two path components (up to '.' or the end): by name, then an
 * index in brackets by number ("module[2]" before "module[10]"). */
static int vcd_comp_cmp(const char *a, size_t la, const char *b, size_t lb)
{
    size_t na = strcspn(a, "["), nb = strcspn(b, "[");
    if (na > la)
        na = la;
    if (nb > lb)
        nb = lb;
    size_t m = na < nb ? na : nb;
    int c = memcmp(a, b, m);
    if (c || na != nb)
        return c ? c : na < nb ? -1 : 1;
    if (na < la && nb < lb) {
        unsigned long ia = strtoul(a + na + 1, NULL, 10), ib = strtoul(b + nb + 1, NULL, 10);
        if (ia != ib)
            return ia < ib ? -1 : 1;
    }
    m = la < lb ? la : lb;
    c = memcmp(a, b, m);
    return c ? c : la < lb ? -1 : la > lb ? 1 : 0;
}

/* Declaration order: by scope, component by component; within a scope,
 * the order added. Variables of a scope come before its sub-scopes. */
static int vcd_decl_cmp(const void *pa, const void *pb, void *ctx)
{
    const vcd *v = ctx;
    unsigned ia = *(const unsigned *)pa, ib = *(const unsigned *)pb;
    const char *a = v->var[ia].path, *b = v->var[ib].path;
    size_t sa = vcd_scope_len(a), sb = vcd_scope_len(b);
    size_t oa = 0, ob = 0;
    for (;;) {
        int ea = oa >= sa, eb = ob >= sb;
        if (ea || eb) {
            if (ea != eb)
                return ea ? -1 : 1; /* a scope's own variables first */
            break;
        }
        size_t la = strcspn(a + oa, "."), lb = strcspn(b + ob, ".");
        if (oa + la > sa)
            la = sa - oa;
        if (ob + lb > sb)
            lb = sb - ob;
        int c = vcd_comp_cmp(a + oa, la, b + ob, lb);
        if (c)
            return c;
        oa += la + 1;
        ob += lb + 1;
    }
    return ia < ib ? -1 : ia > ib ? 1 : 0;
}

/* Components shared by the scopes of a and b (each of scope length sa, sb). */
static unsigned vcd_common(const char *a, size_t sa, const char *b, size_t sb, size_t *end)
{
    unsigned n = 0;
    size_t i = 0;
    *end = 0;
    while (i < sa && i < sb) {
        size_t la = strcspn(a + i, "."), lb = strcspn(b + i, ".");
        if (i + la > sa)
            la = sa - i;
        if (i + lb > sb)
            lb = sb - i;
        if (la != lb || memcmp(a + i, b + i, la))
            break;
        n++;
        i += la + 1;
        *end = i;
    }
    return n;
}

static unsigned vcd_depth(const char *p, size_t s)
{
    unsigned n = s ? 1 : 0;
    for (size_t i = 0; i < s; i++)
        n += p[i] == '.';
    return n;
}

int vcd_begin(vcd *v)
{
    if (!v || !v->f || v->begun)
        return EK3_EINVAL;
    v->begun = 1;
    FILE *f = v->f;
    if (v->o.date)
        fprintf(f, "$date %s $end\n", v->o.date);
    fprintf(f, "$version %s $end\n", v->o.version ? v->o.version : "ek3");
    fprintf(f, "$timescale %s $end\n", v->o.unit_ns == 1 ? "1ns" : "1us");
    char id[8];
    if (v->o.sigrok) {
        unsigned out = 0;
        for (unsigned i = 0; i < v->n; i++)
            out += v->var[i].left_out;
        if (out) {
            fputs("$comment sigrok flavour: 1-bit wires only; reals left out:", f);
            for (unsigned i = 0; i < v->n; i++)
                if (v->var[i].left_out)
                    fprintf(f, " %s", v->var[i].path);
            fputs(" $end\n", f);
        }
        fputs("$scope module rig $end\n", f);
        for (unsigned i = 0; i < v->n; i++) {
            const vcd_var *x = &v->var[i];
            if (x->left_out)
                continue;
            if (x->kind == VCD_WIRE)
                fprintf(f, "$var wire 1 %s %s $end\n", vcd_id(x->id, id), x->path);
            else
                for (unsigned b = 0; b < x->width; b++)
                    fprintf(f, "$var wire 1 %s %s.b%u $end\n", vcd_id(x->id + b, id), x->path, b);
        }
        fputs("$upscope $end\n", f);
    } else {
        unsigned *ord = malloc((v->n ? v->n : 1) * sizeof *ord);
        if (!ord)
            return EK3_ENOSPC;
        for (unsigned i = 0; i < v->n; i++)
            ord[i] = i;
        qsort_r(ord, v->n, sizeof *ord, vcd_decl_cmp, v);
        fputs("$scope module rig $end\n", f);
        const char *prev = "";
        size_t sprev = 0;
        for (unsigned j = 0; j < v->n; j++) {
            const vcd_var *x = &v->var[ord[j]];
            const char *p = x->path;
            size_t s = vcd_scope_len(p), end;
            unsigned keep = vcd_common(prev, sprev, p, s, &end);
            for (unsigned d = vcd_depth(prev, sprev); d > keep; d--)
                fputs("$upscope $end\n", f);
            for (size_t i = end; i < s;) { /* open the rest of p's scope */
                size_t l = strcspn(p + i, ".");
                if (i + l > s)
                    l = s - i;
                fprintf(f, "$scope module %.*s $end\n", (int)l, p + i);
                i += l + 1;
            }
            const char *name = s ? p + s + 1 : p;
            if (x->kind == VCD_REAL)
                fprintf(f, "$var real 64 %s %s $end\n", vcd_id(x->id, id), name);
            else if (x->kind == VCD_WIRE)
                fprintf(f, "$var wire 1 %s %s $end\n", vcd_id(x->id, id), name);
            else
                fprintf(f, "$var wire %u %s %s [%u:0] $end\n", x->width, vcd_id(x->id, id), name, x->width - 1);
            prev = p;
            sprev = s;
        }
        for (unsigned d = vcd_depth(prev, sprev); d > 0; d--)
            fputs("$upscope $end\n", f);
        fputs("$upscope $end\n", f);
        free(ord);
    }
    fputs("$enddefinitions $end\n", f);
    return vcd_check(v);
}

int vcd_time(vcd *v, int64_t t_ns)
{
    if (!v || !v->begun || t_ns < 0)
        return EK3_EINVAL;
    if (v->err)
        return EK3_EIO;
    int64_t t = (t_ns + v->o.unit_ns / 2) / v->o.unit_ns;
    if (t < v->t_now)
        return EK3_EINVAL;
    v->t_now = t;
    return 0;
}

/* The #TIME line before the first change at the current time. */
static void vcd_stamp(vcd *v)
{
    if (v->t_out != v->t_now) {
        fprintf(v->f, "#%" PRId64 "\n", v->t_now);
        v->t_out = v->t_now;
    }
}

int vcd_set(vcd *v, unsigned i, double x)
{
    if (!v || i >= v->n || v->t_now < 0)
        return EK3_EINVAL;
    if (v->err)
        return EK3_EIO;
    vcd_var *w = &v->var[i];
    if (w->left_out)
        return 0;
    char id[8];
    FILE *f = v->f;
    if (w->kind == VCD_REAL) {
        uint64_t bits;
        if (isnan(x))
            x = NAN; /* one NaN, one text */
        memcpy(&bits, &x, sizeof bits);
        if (w->have && bits == w->last)
            return 0;
        vcd_stamp(v);
        char line[48];
        int n = 1;
        line[0] = 'r';
        if (isnan(x))
            memcpy(line + 1, "nan", 4), n = 4;
        else
            n += vcd_real_text(x, line + 1);
        line[n++] = ' ';
        vcd_id(w->id, line + n);
        fputs(line, f);
        fputc('\n', f);
    } else {
        uint64_t u;
        if (w->kind == VCD_WIRE)
            u = isnan(x) ? VCD_X : x != 0;
        else {
            double top = ldexp(1.0, (int)w->width); /* 2^width */
            u = !(x >= 0 && x < top && x == floor(x)) ? VCD_X : (uint64_t)x;
        }
        if (w->have && u == w->last)
            return 0;
        vcd_stamp(v);
        if (v->o.sigrok) {
            for (unsigned b = 0; b < w->width; b++) {
                unsigned now = u == VCD_X ? 0 : (unsigned)(u >> b) & 1u;
                unsigned was = w->last == VCD_X ? 0 : (unsigned)(w->last >> b) & 1u;
                if (!w->have || now != was)
                    fprintf(f, "%u%s\n", now, vcd_id(w->id + b, id));
            }
        } else if (w->kind == VCD_WIRE) {
            fprintf(f, "%c%s\n", u == VCD_X ? 'x' : u ? '1' : '0', vcd_id(w->id, id));
        } else if (u == VCD_X) {
            fprintf(f, "bx %s\n", vcd_id(w->id, id)); /* x left-extends (18.2.3.1) */
        } else {
            char bin[65];
            unsigned nb = vcd_width_of(u);
            for (unsigned b = 0; b < nb; b++)
                bin[b] = (char)('0' + ((u >> (nb - 1 - b)) & 1u));
            bin[nb] = 0;
            fprintf(f, "b%s %s\n", bin, vcd_id(w->id, id));
        }
        w->last = u;
        w->have = 1;
        v->changes++;
        return vcd_check(v);
    }
    memcpy(&w->last, &x, sizeof w->last);
    w->have = 1;
    v->changes++;
    return vcd_check(v);
}

int vcd_flush(vcd *v)
{
    if (!v || !v->f)
        return v && v->err ? EK3_EIO : 0;
    if (fflush(v->f) && !v->err)
        v->err = errno ? errno : EIO;
    return vcd_check(v);
}

int vcd_close(vcd *v, int64_t t_end_ns)
{
    if (!v)
        return 0;
    if (v->f) {
        if (v->begun && !v->err && t_end_ns >= 0) {
            int64_t t = (t_end_ns + v->o.unit_ns / 2) / v->o.unit_ns;
            if (t > v->t_out && t >= v->t_now) {
                v->t_now = t;
                vcd_stamp(v);
            }
        }
        vcd_check(v);
        errno = 0;
        if (fclose(v->f) && !v->err)
            v->err = errno ? errno : EIO;
        v->f = NULL;
    }
    for (unsigned i = 0; i < v->n; i++)
        free(v->var[i].path);
    free(v->var);
    v->var = NULL;
    v->n = v->cap = 0;
    return v->err ? EK3_EIO : 0;
}

int vcd_errno(const vcd *v)
{
    return v ? v->err : 0;
}

const char *vcd_why(const vcd *v, char *buf, size_t cap)
{
    if (!buf || !cap)
        return buf;
    if (!v || !v->err)
        snprintf(buf, cap, "%s: no error", v ? v->path : "?");
    else if (v->not_created)
        snprintf(buf, cap, "%s: %s", v->path, strerror(v->err));
    else
        snprintf(buf, cap, "%s: write error: %s", v->path, strerror(v->err));
    return buf;
}
