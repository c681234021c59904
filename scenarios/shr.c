/* shr.c - shrink a failing scenario's fault schedule: ddmin over the fault() call sites, then later onsets and
 * smaller parameters; the result written as a scenario file. */
#include "shr.h"

#include <errno.h>
#include <lua.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "fault.h"
#include "vrd.h"

/* ---- a small Lua lexer: enough to find calls and their extent ---- */

/* At text[i] a long bracket "[" "="* "["? Its level (number of '='), or -1. */
static int shr_long_open(const char *t, size_t n, size_t i)
{
    if (i >= n || t[i] != '[')
        return -1;
    size_t k = i + 1;
    while (k < n && t[k] == '=')
        k++;
    return k < n && t[k] == '[' ? (int)(k - i - 1) : -1;
}

/* The index just past the string, comment or long bracket starting at i
 * (text[i] is a quote, '[' of a long bracket, or the first '-' of "--"),
 * or n when it is not closed. Newlines inside are counted into *lines. */
static size_t shr_skip(const char *t, size_t n, size_t i, unsigned *lines)
{
    int lv;
    if (t[i] == '-') { /* a comment: long or to the end of the line */
        i += 2;
        if ((lv = shr_long_open(t, n, i)) < 0) {
            while (i < n && t[i] != '\n')
                i++;
            return i;
        }
    } else if (t[i] == '"' || t[i] == '\'') {
        char q = t[i++];
        for (; i < n && t[i] != q; i++) {
            if (t[i] == '\\' && i + 1 < n) {
                if (t[i + 1] == '\n')
                    ++*lines;
                i++;
            } else if (t[i] == '\n') {
                return i; /* unfinished: Lua refuses it anyway */
            }
        }
        return i < n ? i + 1 : n;
    } else {
        lv = shr_long_open(t, n, i);
    }
    /* a long bracket of level lv at i */
    i += (size_t)lv + 2;
    for (; i < n; i++) {
        if (t[i] == '\n')
            ++*lines;
        if (t[i] != ']')
            continue;
        size_t k = i + 1;
        while (k < n && t[k] == '=')
            k++;
        if (k < n && t[k] == ']' && (int)(k - i - 1) == lv)
            return k + 1;
    }
    return n;
}

static int shr_ident(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Is a string, comment or long bracket starting at i? */
static int shr_opens(const char *t, size_t n, size_t i)
{
    return t[i] == '"' || t[i] == '\'' || (t[i] == '-' && i + 1 < n && t[i + 1] == '-') || shr_long_open(t, n, i) >= 0;
}

/* The index of the bracket closing the one at i ('(' or '{'), or n. */
static size_t shr_close(const char *t, size_t n, size_t i)
{
    int depth = 0;
    unsigned dummy = 0;
    while (i < n) {
        if (shr_opens(t, n, i)) {
            i = shr_skip(t, n, i, &dummy);
            continue;
        }
        if (t[i] == '(' || t[i] == '{' || t[i] == '[')
            depth++;
        else if ((t[i] == ')' || t[i] == '}' || t[i] == ']') && --depth == 0)
            return i;
        i++;
    }
    return n;
}

/* Every identifier `name` in code (not a field: no '.' or ':' before it)
 * followed by `open` (after blanks): its offset and line, up to max. */
static unsigned shr_find(const char *t, size_t n, const char *name, char open, size_t *off, unsigned *line,
                         unsigned max);

/* The line of offset off (1-based). */
static unsigned shr_line_at(const char *t, size_t off)
{
    unsigned l = 1;
    for (size_t i = 0; i < off; i++)
        l += t[i] == '\n';
    return l;
}

static unsigned shr_find(const char *t, size_t n, const char *name, char open, size_t *off, unsigned *line,
                         unsigned max)
{
    unsigned nl = 1, found = 0;
    size_t len = strlen(name);
    for (size_t i = 0; i < n;) {
        if (shr_opens(t, n, i)) {
            i = shr_skip(t, n, i, &nl);
            continue;
        }
        if (t[i] == '\n') {
            nl++;
            i++;
            continue;
        }
        if (!shr_ident(t[i])) {
            i++;
            continue;
        }
        size_t s = i;
        while (i < n && shr_ident(t[i]))
            i++;
        if (i - s != len || memcmp(t + s, name, len))
            continue;
        size_t p = s;
        while (p > 0 && (t[p - 1] == ' ' || t[p - 1] == '\t'))
            p--;
        if (p > 0 && (t[p - 1] == '.' || t[p - 1] == ':'))
            continue;
        size_t k = i;
        while (k < n && (t[k] == ' ' || t[k] == '\t'))
            k++;
        if (k < n && t[k] == open && found < max) {
            off[found] = s;
            line[found] = nl;
            found++;
        }
    }
    return found;
}

/* ---- the search ---- */

/* "file:line" of the scenario file at path (Lua's short_src: a long path
 * is "..." and its tail): the line, or 0 when where is in another file. */
static unsigned shr_line_in(const char *where, const char *path)
{
    const char *c = strrchr(where, ':');
    if (!c)
        return 0;
    size_t fl = (size_t)(c - where), pl = strlen(path);
    int same = fl == pl && !memcmp(where, path, fl);
    if (!same && fl > 3 && !memcmp(where, "...", 3) && pl >= fl - 3)
        same = !memcmp(where + 3, path + pl - (fl - 3), fl - 3);
    return same ? (unsigned)strtoul(c + 1, NULL, 10) : 0;
}

int shr_init(shr *h, const char *path, const scn_result *want, unsigned budget, unsigned threads, FILE *log,
             char *err, size_t cap)
{
    memset(h, 0, sizeof *h);
    h->path = path;
    h->want = want;
    h->budget = budget ? budget : SHR_BUDGET;
    h->threads = threads;
    h->log = log;
    if (want->verdict != SCN_FAIL || want->first_fail < 0) {
        snprintf(err, cap, "the verdict is %s: shrink takes a FAIL verdict (a check that failed)",
                 scn_verdict_name((unsigned)want->verdict));
        return EK3_EINVAL;
    }
    int rc = scn_read_file(path, 64u << 20, &h->text, &h->len, err, cap);
    if (rc) {
        shr_free(h);
        return rc;
    }
    static size_t off[4096];
    static unsigned line[4096];
    unsigned nf = shr_find(h->text, h->len, "fault", '(', off, line, 4096);
    h->ncall = want->nfault;
    for (unsigned i = 0; i < want->nfault; i++) {
        const scn_fault *g = &want->fault[i];
        unsigned s = 0;
        while (s < h->nsite && strcmp(h->site[s].where, g->where))
            s++;
        h->site_of[i] = (int)s;
        shr_site *st = &h->site[s];
        if (s == h->nsite) {
            h->nsite++;
            snprintf(st->where, sizeof st->where, "%s", g->where);
            st->first = (int)i;
            st->keep = 1;
            st->at_s = -1;
            st->scale = 1;
            st->line = shr_line_in(g->where, path);
        }
        st->ncalls++;
    }
    /* each call's extent: Lua names a line of it (which one depends on its version) */
    static size_t cend[4096];
    static unsigned lend[4096];
    for (unsigned k = 0; k < nf; k++) {
        size_t open = off[k] + 5;
        while (h->text[open] != '(')
            open++;
        cend[k] = shr_close(h->text, h->len, open);
        lend[k] = cend[k] < h->len ? line[k] + shr_line_at(h->text + off[k], cend[k] - off[k]) - 1 : line[k];
    }
    for (unsigned s = 0; s < h->nsite; s++) {
        shr_site *st = &h->site[s];
        unsigned hits = 0;
        for (unsigned k = 0; k < nf; k++)
            if (line[k] <= st->line && st->line <= lend[k]) {
                hits++;
                st->off = off[k];
                st->end = cend[k];
            }
        if (!st->line) {
            snprintf(st->why, sizeof st->why, "called from another file");
            continue;
        }
        if (hits != 1) {
            snprintf(st->why, sizeof st->why, "its line is in %s fault(...) call", hits ? "more than one" : "no");
            continue;
        }
        if (st->end >= h->len) {
            snprintf(st->why, sizeof st->why, "its call's closing parenthesis was not found");
            continue;
        }
        st->searched = 1;
        const scn_fault *g = &want->fault[st->first];
        flt_spec sp;
        st->movable = st->ncalls == 1 && g->spec.t >= 0 && g->error == 0;
        if (st->ncalls == 1 && !flt_parse(g->text, &sp, NULL, 0))
            for (unsigned p = 0; p < flt_table[sp.id].np; p++)
                st->scalable |= !flt_table[sp.id].p[p].integer && sp.p[p] != 0;
    }
    return 0;
}

void shr_free(shr *h)
{
    free(h->text);
    h->text = NULL;
    if (h->have_last)
        scn_result_free(&h->last);
    h->have_last = 0;
}

/* Run with sites kept where keep[s] (searched sites only; the others as
 * written), onsets at[s] and scales sc[s]. 1: it fails the same check; 0:
 * it does not; -1: the budget is spent. */
static int shr_try(shr *h, const int *keep, const double *at, const double *sc)
{
    if (h->runs >= h->budget)
        return -1;
    static scn_override ovr[SCN_FAULTS_MAX];
    unsigned no = 0;
    for (unsigned i = 0; i < h->ncall; i++) {
        int s = h->site_of[i];
        if (!h->site[s].searched)
            continue;
        scn_override v = {.index = i, .drop = !keep[s], .at_s = at[s], .scale = sc[s]};
        if (v.drop || v.at_s >= 0 || v.scale != 1)
            ovr[no++] = v;
    }
    scn_opts o = {.seed = h->want->seed, .threads = h->threads, .ovr = ovr, .novr = no};
    FILE *null = fopen("/dev/null", "w");
    o.out = null ? null : stderr;
    scn_result r;
    scn_run_file(h->path, &o, &r);
    if (null)
        fclose(null);
    h->runs++;
    int fails = vrd_same_failure(h->want, &r, 0);
    if (h->log) {
        unsigned kept = 0;
        for (unsigned s = 0; s < h->nsite; s++)
            kept += !h->site[s].searched || keep[s];
        fprintf(h->log, "run %3u: %u of %u fault sites, %u changed: %s\n", h->runs, kept, h->nsite, no,
                fails ? "fails the same check" : r.verdict == SCN_FAIL ? "fails another check" : scn_verdict_name((unsigned)r.verdict));
        fflush(h->log);
    }
    if (fails) {
        if (h->have_last)
            scn_result_free(&h->last);
        h->last = r;
        h->have_last = 1;
    } else {
        scn_result_free(&r);
    }
    return fails;
}

/* ddmin over the searched sites in c[0..n): on return c[0..*n) is
 * 1-minimal (each one needed) or the budget ran out. */
static int shr_ddmin(shr *h, unsigned *c, unsigned *np, int *keep, const double *at, const double *sc)
{
    unsigned n = *np, parts = 2;
    static unsigned sub[SCN_FAULTS_MAX];
    while (n >= 2) {
        int reduced = 0;
        unsigned chunk = (n + parts - 1) / parts;
        /* each part alone, then (more than two parts) each complement */
        for (int comp = 0; comp < 2 && !reduced; comp++) {
            if (comp && parts == 2)
                break;
            for (unsigned p = 0; p < parts && !reduced; p++) {
                unsigned lo = p * chunk, hi = lo + chunk > n ? n : lo + chunk, m = 0;
                if (lo >= n)
                    break;
                for (unsigned i = 0; i < n; i++)
                    if ((i >= lo && i < hi) != comp)
                        sub[m++] = c[i];
                for (unsigned i = 0; i < n; i++)
                    keep[c[i]] = 0;
                for (unsigned i = 0; i < m; i++)
                    keep[sub[i]] = 1;
                int rc = shr_try(h, keep, at, sc);
                if (rc < 0) {
                    for (unsigned i = 0; i < n; i++)
                        keep[c[i]] = 1;
                    *np = n;
                    return -1;
                }
                if (rc) {
                    memcpy(c, sub, m * sizeof *c);
                    n = m;
                    parts = comp ? (parts - 1 > 2 ? parts - 1 : 2) : 2;
                    reduced = 1;
                }
            }
        }
        for (unsigned i = 0; i < n; i++)
            keep[c[i]] = 1;
        if (!reduced) {
            if (parts >= n)
                break;
            parts = parts * 2 > n ? n : parts * 2;
        }
    }
    *np = n;
    return 0;
}

int shr_search(shr *h, char *err, size_t cap)
{
    static int keep[SCN_FAULTS_MAX];
    static double at[SCN_FAULTS_MAX], sc[SCN_FAULTS_MAX];
    static unsigned c[SCN_FAULTS_MAX];
    unsigned n = 0;
    for (unsigned s = 0; s < h->nsite; s++) {
        keep[s] = 1;
        at[s] = -1;
        sc[s] = 1;
        if (h->site[s].searched)
            c[n++] = s;
    }
    /* As recorded: it must fail the same way. */
    if (shr_try(h, keep, at, sc) != 1) {
        snprintf(err, cap, "the verdict's failure did not come back when run as recorded (ek3 scenario replay says "
                           "where it diverges)");
        return EK3_ENOENT;
    }
    /* No fault at all? */
    for (unsigned i = 0; i < n; i++)
        keep[c[i]] = 0;
    int rc = n ? shr_try(h, keep, at, sc) : 0;
    if (rc == 1) {
        n = 0;
    } else {
        for (unsigned i = 0; i < n; i++)
            keep[c[i]] = 1;
        if (rc == 0)
            shr_ddmin(h, c, &n, keep, at, sc);
    }
    for (unsigned s = 0; s < h->nsite; s++)
        if (h->site[s].searched) {
            keep[s] = 0;
            for (unsigned i = 0; i < n; i++)
                keep[s] |= c[i] == s;
        }
    /* Later onsets: bisection between the onset and the end of the run. */
    for (unsigned i = 0; i < n && h->runs < h->budget; i++) {
        shr_site *st = &h->site[c[i]];
        if (!st->movable)
            continue;
        double lo = h->want->fault[st->first].spec.t, hi = h->want->sim_s;
        double tol = fmax(1e-3, (hi - lo) / 64);
        while (hi - lo > tol) {
            double mid = ceil((lo + hi) / 2 * 1e3) / 1e3;
            if (mid >= hi || mid <= lo)
                break;
            at[c[i]] = mid;
            int f = shr_try(h, keep, at, sc);
            if (f < 0)
                break;
            if (f)
                lo = mid;
            else
                hi = mid;
        }
        at[c[i]] = lo > h->want->fault[st->first].spec.t ? lo : -1;
    }
    /* Smaller parameters: bisection on the scale in (0, 1]. */
    for (unsigned i = 0; i < n && h->runs < h->budget; i++) {
        shr_site *st = &h->site[c[i]];
        if (!st->scalable)
            continue;
        double lo = 0, hi = 1;
        for (int k = 0; k < 5; k++) {
            sc[c[i]] = (lo + hi) / 2;
            int f = shr_try(h, keep, at, sc);
            if (f < 0)
                break;
            if (f)
                hi = sc[c[i]];
            else
                lo = sc[c[i]];
        }
        sc[c[i]] = hi;
    }
    /* The schedule chosen: each value chosen is that of the last run that
     * failed the same check, so h->last is its run. */
    for (unsigned s = 0; s < h->nsite; s++) {
        h->site[s].keep = !h->site[s].searched || keep[s];
        h->site[s].at_s = at[s];
        h->site[s].scale = sc[s];
    }
    return 0;
}

/* ---- writing it ---- */

typedef struct shr_edit {
    size_t off, end;          /* replace text[off, end) */
    char *with;               /* malloc'd */
    int keep_newlines;        /* the newlines in the replaced text follow `with` */
} shr_edit;

static int shr_edit_cmp(const void *a, const void *b)
{
    const shr_edit *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Is the call at off a value (after '=', '(', ',', an operator, return,
 * and, or, ...), so that a dropped one becomes nil, or a statement, so
 * that it becomes a comment? */
static int shr_is_expr(const char *t, size_t off)
{
    size_t i = off;
    while (i > 0 && (t[i - 1] == ' ' || t[i - 1] == '\t' || t[i - 1] == '\n' || t[i - 1] == '\r'))
        i--;
    if (!i)
        return 0;
    if (strchr("=(,{[+-*/%^<>~.#&|", t[i - 1]))
        return 1;
    if (!shr_ident(t[i - 1]))
        return 0;
    size_t e = i;
    while (i > 0 && shr_ident(t[i - 1]))
        i--;
    static const char *const kw[] = {"return", "and", "or", "not", "in", "until", "if", "elseif", "while", NULL};
    for (const char *const *k = kw; *k; k++)
        if (strlen(*k) == e - i && !memcmp(t + i, *k, e - i))
            return 1;
    return 0;
}

/* A literal fault() call for the schedule's fault g (as it ran). */
static char *shr_call(const scn_fault *g)
{
    flt_spec sp;
    if (flt_parse(g->text, &sp, NULL, 0))
        return NULL;
    const flt_def *d = &flt_table[sp.id];
    char *s = malloc(800), num[32];
    if (!s)
        return NULL;
    int n;
    if (d->target == FLT_T_BUS || d->target == FLT_T_RACK)
        n = snprintf(s, 800, "fault(\"%s\", \"%s\", {", d->name, d->target == FLT_T_BUS ? "bus" : "rack");
    else if (d->target == FLT_T_SERVICE)
        n = snprintf(s, 800, "fault(\"%s\", \"%u.%u\", {", d->name, sp.target, sp.svc);
    else
        n = snprintf(s, 800, "fault(\"%s\", %u, {", d->name, sp.target);
    for (unsigned p = 0; p < d->np; p++)
        n += snprintf(s + n, 800 - (size_t)n, " %s=%s,", d->p[p].name, flt_num(num, sp.p[p]));
    n += snprintf(s + n, 800 - (size_t)n, " at=%s", flt_num(num, g->spec.t));
    if (g->clear_s >= 0)
        n += snprintf(s + n, 800 - (size_t)n, ", %s=%s", g->clear_dur ? "duration" : "clear_at",
                      flt_num(num, g->clear_s));
    snprintf(s + n, 800 - (size_t)n, " })");
    return s;
}

static char *shr_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

/* The manifest's name= string and seeds= table as edits. 0 or -1. */
static int shr_manifest(const shr *h, shr_edit *e, unsigned *ne, char *err, size_t cap)
{
    const char *t = h->text;
    size_t n = h->len, off;
    unsigned line;
    if (shr_find(t, n, "scenario", '{', &off, &line, 1) != 1 &&
        shr_find(t, n, "scenario", '(', &off, &line, 1) != 1) {
        snprintf(err, cap, "%s: no scenario{...} manifest found to rename", h->path);
        return -1;
    }
    size_t open = off + 8;
    while (t[open] != '{' && t[open] != '(')
        open++;
    if (t[open] == '(') {
        while (open < n && t[open] != '{')
            open++;
    }
    size_t close = shr_close(t, n, open);
    int have_name = 0, have_seeds = 0;
    char buf[128];
    /* keys at depth 1 of the table */
    unsigned dummy = 0;
    for (size_t i = open + 1; i < close;) {
        if (shr_opens(t, n, i)) {
            i = shr_skip(t, n, i, &dummy);
            continue;
        }
        if (t[i] == '{' || t[i] == '(' || t[i] == '[') {
            i = shr_close(t, n, i) + 1;
            continue;
        }
        if (!shr_ident(t[i])) {
            i++;
            continue;
        }
        size_t s = i;
        while (i < close && shr_ident(t[i]))
            i++;
        size_t k = i;
        while (k < close && (t[k] == ' ' || t[k] == '\t' || t[k] == '\n' || t[k] == '\r'))
            k++;
        if (k >= close || t[k] != '=' || t[k + 1] == '=')
            continue;
        k++;
        while (k < close && (t[k] == ' ' || t[k] == '\t' || t[k] == '\n' || t[k] == '\r'))
            k++;
        if (i - s == 4 && !memcmp(t + s, "name", 4) && (t[k] == '"' || t[k] == '\'')) {
            size_t v_end = shr_skip(t, n, k, &dummy);
            snprintf(buf, sizeof buf, "\"%.*s-shrunk\"", (int)sizeof h->want->m.name - 8, h->want->m.name);
            e[*ne] = (shr_edit){k, v_end, shr_strdup(buf), 0};
            have_name = 1;
            ++*ne;
            i = v_end;
        } else if (i - s == 5 && !memcmp(t + s, "seeds", 5) && t[k] == '{') {
            size_t v_end = shr_close(t, n, k) + 1;
            snprintf(buf, sizeof buf, "{%llu}", (unsigned long long)h->want->seed);
            e[*ne] = (shr_edit){k, v_end, shr_strdup(buf), 1};
            have_seeds = 1;
            ++*ne;
            i = v_end;
        }
    }
    if (!have_name) {
        snprintf(err, cap, "%s: the manifest's name=\"...\" was not found to rename", h->path);
        return -1;
    }
    if (!have_seeds) {
        snprintf(buf, sizeof buf, " seeds={%llu},", (unsigned long long)h->want->seed);
        e[*ne] = (shr_edit){open + 1, open + 1, shr_strdup(buf), 0};
        ++*ne;
    }
    return 0;
}

unsigned shr_last_index(const shr *h, unsigned call)
{
    unsigned k = 0;
    for (unsigned i = 0; i < call; i++)
        k += h->site[h->site_of[i]].keep;
    return k;
}

int shr_write(shr *h, const char *out_path, const char *from, unsigned *shift, char *err, size_t cap)
{
    static shr_edit e[SCN_FAULTS_MAX + 4];
    unsigned ne = 0;
    if (shr_manifest(h, e, &ne, err, cap))
        return EK3_EPARSE;
    unsigned kept = 0, dropped = 0;
    for (unsigned s = 0; s < h->nsite; s++) {
        shr_site *st = &h->site[s];
        if (!st->searched) {
            kept++;
            continue;
        }
        char *with = NULL;
        if (!st->keep) {
            with = shr_strdup(shr_is_expr(h->text, st->off) ? "nil --[[dropped by shrink]]" : "--[[dropped by shrink]]");
            dropped++;
        } else {
            kept++;
            if (st->at_s < 0 && st->scale == 1)
                continue;
            /* the fault as it ran in the last (confirming) run */
            unsigned k = shr_last_index(h, (unsigned)st->first);
            with = h->have_last && k < h->last.nfault ? shr_call(&h->last.fault[k]) : NULL;
            if (!with) {
                snprintf(err, cap, "%s: cannot write fault %s as a call", st->where, h->want->fault[st->first].text);
                for (unsigned i = 0; i < ne; i++)
                    free(e[i].with);
                return EK3_EPARSE;
            }
        }
        e[ne++] = (shr_edit){st->off, st->end + 1, with, 1};
    }
    qsort(e, ne, sizeof *e, shr_edit_cmp);
    FILE *f = fopen(out_path, "w");
    int rc = 0;
    if (!f) {
        snprintf(err, cap, "%s: %s", out_path, strerror(errno));
        rc = EK3_EIO;
    } else {
        const scn_fig *g = &h->want->fig[h->want->first_fail];
        char hex[65];
        scn_sha256_hex(h->want->script_sha256, hex);
        fprintf(f,
                "-- %s-shrunk: written by `ek3 scenario shrink %s`.\n"
                "-- From %s (SHA-256 %.16s...), seed %llu: it fails the same check,\n"
                "--   '%s' (%s in the original, limit %s),\n"
                "-- with %u of its %u fault call sites (%u dropped; later onsets and smaller parameters\n"
                "-- where they still fail it). The search took %u runs.\n",
                h->want->m.name, from, h->path, hex, (unsigned long long)h->want->seed, g->name, g->where, g->limit,
                kept, h->nsite, dropped, h->runs);
        *shift = 5;
        for (unsigned s = 0; s < h->nsite; s++)
            if (!h->site[s].searched) {
                fprintf(f, "-- Left as written: %s (%s).\n", h->site[s].where, h->site[s].why);
                ++*shift;
            }
        size_t at = 0;
        for (unsigned i = 0; i < ne; i++) {
            fwrite(h->text + at, 1, e[i].off - at, f);
            fputs(e[i].with ? e[i].with : "", f);
            if (e[i].keep_newlines)
                for (size_t k = e[i].off; k < e[i].end; k++)
                    if (h->text[k] == '\n')
                        fputc('\n', f);
            at = e[i].end;
        }
        fwrite(h->text + at, 1, h->len - at, f);
        int bad = ferror(f);
        if (fclose(f) || bad) {
            snprintf(err, cap, "%s: write error: %s", out_path, strerror(errno ? errno : EIO));
            rc = EK3_EIO;
        }
    }
    for (unsigned i = 0; i < ne; i++)
        free(e[i].with);
    return rc;
}
