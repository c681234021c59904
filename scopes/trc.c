/* trc.c - the probe tracer (trc.h). */
#include "trc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ek3_err.h"

#define TRC_ITEM_MAX 160u /* longest probe item */

/* Add ref r to *out unless it is there already. 0 or EK3_ENOSPC. */
static int trc_push(sig_ref **out, unsigned *n, unsigned *cap, const sig_ref *r)
{
    for (unsigned i = 0; i < *n; i++)
        if ((*out)[i].id == r->id && (*out)[i].slot == r->slot && (*out)[i].sub == r->sub)
            return 0;
    if (*n == TRC_SIGNALS_MAX)
        return EK3_ENOSPC;
    if (*n == *cap) {
        unsigned c = *cap ? 2 * *cap : 64;
        sig_ref *nr = realloc(*out, c * sizeof *nr);
        if (!nr)
            return EK3_ENOSPC;
        *out = nr;
        *cap = c;
    }
    (*out)[(*n)++] = *r;
    return 0;
}

/* Parse a whole decimal number of text [a, b) into *v. 0 or -1. */
static int trc_num(const char *a, const char *b, unsigned long *v)
{
    if (a >= b || b - a > 6)
        return -1;
    unsigned long x = 0;
    for (const char *c = a; c < b; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        x = x * 10 + (unsigned long)(*c - '0');
    }
    *v = x;
    return 0;
}

/* sig_resolve's error e about one expanded path of a range: each
 * "PREFIX[k]" in it (PREFIX: the item before its bracket, plen
 * characters) said as "PREFIX" repl, the way the user wrote the range
 * ("module[*].ioutt", not "module[1].ioutt"). Cut at cap. */
static void trc_reword(char *e, size_t cap, const char *prefix, size_t plen, unsigned long k, const char *repl)
{
    char from[TRC_ITEM_MAX + 32], out[400];
    int fl = snprintf(from, sizeof from, "%.*s[%lu]", (int)plen, prefix, k);
    if (fl <= 0 || (size_t)fl >= sizeof from)
        return;
    size_t o = 0, rl = strlen(repl);
    for (const char *c = e; *c && o + 1 < sizeof out;) {
        if (!strncmp(c, from, (size_t)fl) && o + plen + rl + 1 < sizeof out) {
            memcpy(out + o, prefix, plen), o += plen;
            memcpy(out + o, repl, rl), o += rl;
            c += fl;
        } else
            out[o++] = *c++;
    }
    out[o] = 0;
    snprintf(e, cap, "%s", out);
}

/* One probe item: a path, or a path with one [LO-HI] or [*]. */
static int trc_item(const ses *s, const char *item, sig_ref **out, unsigned *n, unsigned *cap, char *err,
                    size_t ecap)
{
    char e[400];
    sig_ref r;
    const char *lb = NULL, *rb = NULL;
    for (const char *c = item; *c; c++) /* the first bracket holding * or - */
        if (*c == '[') {
            const char *d = strchr(c, ']');
            if (d && (memchr(c, '*', (size_t)(d - c)) || memchr(c, '-', (size_t)(d - c)))) {
                lb = c, rb = d;
                break;
            }
        }
    if (!strcmp(item, "t")) {
        snprintf(err, ecap, "--probe 't': the time is every trace's own axis (the CSV's t_s, the VCD's #times)");
        return EK3_EPARSE;
    }
    if (!lb) {
        int rc = sig_resolve(s, item, &r, e, sizeof e);
        if (rc) {
            snprintf(err, ecap, "--probe '%s': %s", item, e);
            return rc;
        }
        return trc_push(out, n, cap, &r);
    }
    if (strchr(rb + 1, '*') || strstr(rb + 1, "-]") || (strchr(rb + 1, '[') && strchr(strchr(rb + 1, '['), '-'))) {
        snprintf(err, ecap, "--probe '%s': one index range per path", item);
        return EK3_EPARSE;
    }
    unsigned long lo, hi, last = s ? s->g.o.modules : 0;
    char path[TRC_ITEM_MAX + 16];
    if (rb - lb == 2 && lb[1] == '*') {
        /* every index the rack has: from 0 where 0 is one (a bus node), else 1 */
        snprintf(path, sizeof path, "%.*s0%s", (int)(lb + 1 - item), item, rb);
        lo = sig_resolve(s, path, &r, NULL, 0) == 0 ? 0 : 1;
        hi = last;
    } else {
        const char *dash = memchr(lb, '-', (size_t)(rb - lb));
        if (!dash || trc_num(lb + 1, dash, &lo) || trc_num(dash + 1, rb, &hi) || lo > hi) {
            snprintf(err, ecap, "--probe '%s': an index range is [LO-HI] with LO <= HI, or [*]", item);
            return EK3_EPARSE;
        }
    }
    if (lo > hi) {
        snprintf(err, ecap, "--probe '%s': the rack has no index to expand it over", item);
        return EK3_ERANGE;
    }
    for (unsigned long k = lo; k <= hi; k++) {
        snprintf(path, sizeof path, "%.*s%lu%s", (int)(lb + 1 - item), item, k, rb);
        int rc = sig_resolve(s, path, &r, e, sizeof e);
        if (rc) { /* said of the range: module[5-9] past a rack of 4, module[*].ioutt's name */
            char repl[48];
            if (rc == EK3_ERANGE && k < hi)
                snprintf(repl, sizeof repl, "[%lu-%lu]", k, hi);
            else
                snprintf(repl, sizeof repl, "%.*s", (int)(rb + 1 - lb) < 40 ? (int)(rb + 1 - lb) : 40, lb);
            if (rc != EK3_ERANGE || k < hi)
                trc_reword(e, sizeof e, item, (size_t)(lb - item), k, repl);
            snprintf(err, ecap, "--probe '%s': %s", item, e);
            return rc;
        }
        if ((rc = trc_push(out, n, cap, &r))) {
            snprintf(err, ecap, "--probe '%s': more than %u signals, or out of memory", item, TRC_SIGNALS_MAX);
            return rc;
        }
    }
    return 0;
}

int trc_parse(const ses *s, const char *list, sig_ref **out, unsigned *n, char *err, size_t cap)
{
    char dummy[8];
    if (!err || !cap)
        err = dummy, cap = sizeof dummy;
    err[0] = 0;
    if (!list || !out || !n) {
        snprintf(err, cap, "--probe: no probe list");
        return EK3_EINVAL;
    }
    *out = NULL;
    *n = 0;
    unsigned have = 0;
    for (const char *p = list;;) {
        size_t l = strcspn(p, ","), b = strspn(p, " \t"), w = l; /* blanks around an item: 'bus.v, bus.p' */
        b = b < l ? b : l;
        while (w > b && (p[w - 1] == ' ' || p[w - 1] == '\t'))
            w--;
        char item[TRC_ITEM_MAX + 1];
        if (w == b || w - b > TRC_ITEM_MAX) {
            snprintf(err, cap, "--probe '%s': %s", list,
                     w > b ? "a path longer than 160 characters"
                           : "an empty item (paths are comma-separated, e.g. "
                             "bus.v,module[3].iout)");
            free(*out);
            *out = NULL;
            *n = 0;
            return EK3_EPARSE;
        }
        memcpy(item, p + b, w - b);
        item[w - b] = 0;
        int rc = trc_item(s, item, out, n, &have, err, cap);
        if (rc) {
            free(*out);
            *out = NULL;
            *n = 0;
            return rc;
        }
        if (!p[l])
            break;
        p += l + 1;
    }
    return 0;
}

static void trc_take(trc *t);

/* The tracer's arrays. */
static void trc_free(trc *t)
{
    free(t->ref);
    free(t->val);
    t->ref = NULL;
    t->val = NULL;
    t->n = 0;
}

static void trc_tap(ses *s, void *ctx)
{
    (void)s;
    trc_sample(ctx);
}

/* The run's end: its row when it lies between two of the grid's (a stop,
 * a --duration off the --probe-every grid), as the report's trace.csv. */
static void trc_end_tap(ses *s, void *ctx)
{
    trc *t = ctx;
    if (t->s == s && t->t_last < s->g.t_ns)
        trc_take(t);
}

void trc_sample(trc *t)
{
    if (!t || !t->s || t->failed)
        return;
    if ((t->s->g.t_ns / RIG_PERIOD_NS) % t->o.every)
        return;
    trc_take(t);
}

/* One row of every probe at the session's now, in the window. */
static void trc_take(trc *t)
{
    if (t->failed)
        return;
    const ses *s = t->s;
    int64_t t_ns = s->g.t_ns;
    double ts = t_ns * 1e-9;
    if (ts < t->o.from_s - 1e-12 || (t->o.has_to && ts > t->o.to_s + 1e-12))
        return;
    int bad = 0;
    for (unsigned i = 0; i < t->n; i++)
        t->val[i] = sig_read(s, &t->ref[i]);
    if (t->has_vcd) {
        bad |= vcd_time(&t->v, t_ns) != 0;
        for (unsigned i = 0; i < t->n && !bad; i++)
            bad |= vcd_set(&t->v, i, t->val[i]) != 0;
    }
    if (t->csv && !t->csv_err) {
        trc_csv_row(t->csv, ts, t->val, t->n);
        if (ferror(t->csv)) {
            t->csv_err = errno ? errno : EIO;
            bad = 1;
        }
    }
    t->t_last = t_ns;
    t->samples++;
    if (bad) {
        char why[700];
        t->failed = 1;
        char vw[600];
        if (t->has_vcd && vcd_errno(&t->v))
            snprintf(why, sizeof why, "--vcd %s", vcd_why(&t->v, vw, sizeof vw));
        else
            snprintf(why, sizeof why, "--trace-csv %s: write error: %s", t->o.csv, strerror(t->csv_err));
        ses_fail(t->s, "%s", why);
    }
}

void trc_csv_head(FILE *f, const sig_ref *ref, unsigned n)
{
    fputs("t_s", f);
    for (unsigned i = 0; i < n; i++) {
        char p[200];
        const char *u = sig_unit(&ref[i]);
        fprintf(f, ",%s%s%s", sig_path(&ref[i], p, sizeof p) ? p : "?", u[0] ? "_" : "", u);
    }
    fputc('\n', f);
}

void trc_csv_row(FILE *f, double t_s, const double *val, unsigned n)
{
    char cell[40];
    fprintf(f, "%.7f", t_s);
    for (unsigned i = 0; i < n; i++) {
        cell[0] = ',';
        vcd_real_text(val[i], cell + 1);
        fputs(cell, f);
    }
    fputc('\n', f);
}

int trc_open(trc *t, ses *s, const trc_opts *o, char *err, size_t cap)
{
    char dummy[8];
    if (!err || !cap)
        err = dummy, cap = sizeof dummy;
    err[0] = 0;
    if (!t || !s || !o) {
        snprintf(err, cap, "trc_open: a NULL");
        return EK3_EINVAL;
    }
    memset(t, 0, sizeof *t);
    t->o = *o;
    t->t_last = -1;
    if (!t->o.every)
        t->o.every = 1;
    if (!o->vcd && !o->csv) {
        snprintf(err, cap, "--probe: name an output: --vcd FILE or --trace-csv FILE");
        return EK3_EINVAL;
    }
    if (!o->probe) {
        snprintf(err, cap, "%s without --probe: name the signals to trace, e.g. --probe bus.v,module[1-4].iout",
                 o->vcd ? "--vcd" : "--trace-csv");
        return EK3_EINVAL;
    }
    if (!(o->from_s >= 0) || (o->has_to && !(o->to_s >= o->from_s))) {
        snprintf(err, cap, "--from %g s --to %g s: a window from 0 with its end after its start", o->from_s, o->to_s);
        return EK3_EINVAL;
    }
    int rc = trc_parse(s, o->probe, &t->ref, &t->n, err, cap);
    if (rc)
        return rc;
    if (!(t->val = malloc(t->n * sizeof *t->val))) {
        snprintf(err, cap, "--probe: out of memory for %u signals", t->n);
        free(t->ref);
        t->ref = NULL;
        return EK3_ENOSPC;
    }
    if (o->vcd) {
        vcd_opts vo = {.unit_ns = 1000, .sigrok = o->sigrok, .version = o->version};
        rc = vcd_open(&t->v, o->vcd, &vo);
        for (unsigned i = 0; i < t->n && !rc; i++) {
            char p[200];
            double max;
            sig_kind k = sig_kind_of(&t->ref[i], &max);
            int ix = vcd_add(&t->v, sig_path(&t->ref[i], p, sizeof p) ? p : "?",
                             k == SIG_K_REAL ? VCD_REAL : k == SIG_K_BOOL ? VCD_WIRE : VCD_VEC,
                             vcd_width_of((uint64_t)max));
            rc = ix < 0 ? ix : 0;
        }
        rc = rc ? rc : vcd_begin(&t->v);
        if (rc) {
            char why[700];
            if (rc == EK3_EIO)
                snprintf(err, cap, "--vcd %s", vcd_why(&t->v, why, sizeof why));
            else
                snprintf(err, cap, "--vcd %s: cannot declare the signals: %s", o->vcd, ek3_strerror(rc));
            vcd_close(&t->v, -1);
            trc_free(t);
            return rc == EK3_EIO ? EK3_EIO : rc;
        }
        t->has_vcd = 1;
    }
    if (o->csv) {
        errno = 0;
        if (!(t->csv = fopen(o->csv, "w"))) {
            snprintf(err, cap, "--trace-csv %s: %s", o->csv, strerror(errno ? errno : EIO));
            if (t->has_vcd)
                vcd_close(&t->v, -1);
            t->has_vcd = 0;
            trc_free(t);
            return EK3_EIO;
        }
        trc_csv_head(t->csv, t->ref, t->n);
    }
    t->s = s;
    rc = ses_tap_add(s, trc_tap, t);
    if (!rc)
        rc = ses_end_tap_add(s, trc_end_tap, t);
    if (rc) {
        snprintf(err, cap, "--probe: the session has no room for another tap (%u)", SES_TAPS_MAX);
        trc_close(t, NULL, 0);
        return rc;
    }
    trc_sample(t); /* the state now: the run's start (t = 0) when opened before the first quantum */
    return 0;
}

int trc_close(trc *t, char *err, size_t cap)
{
    char dummy[8];
    if (!err || !cap)
        err = dummy, cap = sizeof dummy;
    err[0] = 0;
    if (!t)
        return 0;
    int bad = 0;
    if (t->has_vcd) {
        if (vcd_close(&t->v, t->t_last)) {
            char vw[600];
            snprintf(err, cap, "--vcd %s", vcd_why(&t->v, vw, sizeof vw));
            bad = 1;
        }
        t->has_vcd = 0;
    }
    if (t->csv) {
        errno = 0;
        int e = ferror(t->csv) ? (t->csv_err ? t->csv_err : errno ? errno : EIO) : 0;
        errno = 0;
        if (fclose(t->csv) && !e)
            e = errno ? errno : EIO;
        t->csv = NULL;
        if (e) {
            size_t l = strlen(err);
            snprintf(err + l, cap - l, "%s--trace-csv %s: write error: %s", l ? "; " : "", t->o.csv, strerror(e));
            bad = 1;
        }
    }
    trc_free(t);
    t->s = NULL;
    return bad ? EK3_EIO : 0;
}

int trc_arg(const char *where, const char *a, const char *v, trc_opts *o, const char **miss)
{
    double x;
    if (!strcmp(a, "--probe") && cli_has_value(a, v, miss)) {
        o->probe = v;
    } else if ((!strcmp(a, "--vcd") || !strcmp(a, "--trace-csv")) && cli_has_value(a, v, miss)) {
        if (!v[0])
            return cli_empty_path(where, a, "file");
        if (!strcmp(v, "-"))
            return cli_usage_error(where,
                                   "%s '-': name a file (standard output is not taken: the run prints its "
                                   "report there)",
                                   a);
        *(a[2] == 'v' ? &o->vcd : &o->csv) = v;
    } else if (!strcmp(a, "--vcd-flavour") && cli_has_value(a, v, miss)) {
        if (strcmp(v, "full") && strcmp(v, "sigrok"))
            return cli_usage_error(where, "--vcd-flavour '%s': full (reals, vectors, wires) or sigrok (1-bit wires "
                                          "only, for libsigrok 0.5's VCD input)", v);
        o->sigrok = !strcmp(v, "sigrok");
    } else if (!strcmp(a, "--probe-every") && cli_has_value(a, v, miss)) {
        if (cli_parse_quantity(v, "s", &x) || !(x > 0 && x <= 3600))
            return cli_time_error(where, a, v, "of whole control periods (100us), up to an hour", 3600);
        double q = x / (RIG_PERIOD_NS * 1e-9);
        if (fabs(q - floor(q + 0.5)) > 1e-6 || q < 0.5)
            return cli_usage_error(where,
                                   "--probe-every '%s': a whole number of control periods (100us), up to "
                                   "an hour, e.g. 1ms: it is %.4g periods",
                                   v, q);
        o->every = (unsigned)floor(q + 0.5);
    } else if ((!strcmp(a, "--from") || !strcmp(a, "--to")) && cli_has_value(a, v, miss)) {
        if (cli_parse_quantity(v, "s", &x) || !(x >= 0 && x <= 86400))
            return cli_time_error(where, a, v, "of the run, from 0 up to a day", 86400);
        if (a[2] == 'f')
            o->from_s = x;
        else
            o->to_s = x, o->has_to = 1;
    } else {
        return 0;
    }
    return 1;
}

int trc_wanted(const trc_opts *o)
{
    return o->probe || o->vcd || o->csv;
}

int trc_args_check(const char *where, const struct cli_seen *seen, const trc_opts *o)
{
    static const char *const out = "it names the signals that --vcd or --trace-csv write";
    static const char *const sig = "name the signals to trace, e.g. --probe 'bus.v,module[*].iout'";
    if ((o->probe && !o->vcd && !o->csv))
        return cli_usage_error(where, "--probe without --vcd or --trace-csv: %s", out);
    if (cli_needs(where, seen, "--vcd", "--probe", sig) || cli_needs(where, seen, "--trace-csv", "--probe", sig) ||
        cli_needs(where, seen, "--vcd-flavour", "--vcd", "it is the VCD's form") ||
        cli_needs(where, seen, "--probe-every", "--probe", "it paces the probes' samples") ||
        cli_needs(where, seen, "--from", "--probe", "it opens the window the probes record") ||
        cli_needs(where, seen, "--to", "--probe", "it closes the window the probes record"))
        return CLI_USAGE;
    if (o->has_to && o->to_s < o->from_s)
        return cli_usage_error(where, "--from %g s --to %g s: the window ends before it starts", o->from_s, o->to_s);
    if (o->vcd && o->csv && cli_same_file(o->vcd, o->csv))
        return cli_usage_error(where, "--vcd %s and --trace-csv %s name one file", o->vcd, o->csv);
    return CLI_OK;
}
