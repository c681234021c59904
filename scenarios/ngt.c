/*
 * ngt.c - the nightly regression's night (ngt.h): the selection, the
 * plan and its shards, the quarantine, the runner (one child process per
 * run through pool.h), night.json written and read back, the merge of
 * shards, the counts and the night's outcome.
 */
#define _GNU_SOURCE
#include "ngt.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ek3_err.h"
#include "hst.h"
#include "params.h"
#include "pool.h"
#include "rack.h"
#include "vrd.h"

/* Whether the list (items ended by '\x1f') has item. */
static int ngt_has(const char *list, const char *item, size_t n)
{
    for (const char *s = list; *s;) {
        const char *e = strchr(s, '\x1f');
        size_t k = e ? (size_t)(e - s) : strlen(s);
        if (k == n && !strncmp(s, item, n))
            return 1;
        s += k + (e != NULL);
    }
    return 0;
}

/* Count the distinct items of each run's list (sep-separated) at offset
 * off of scn_manifest; with hold 1, only items every run naming it
 * passed; with hold 2, passed and named no gap; with ran, only the
 * runs that ran (not NGT_NOT_RUN). */
static unsigned ngt_distinct(const ngt_night *n, size_t off, char sep, int hold, int ran)
{
    size_t cap = 4096, used = 0;
    char *seen = calloc(1, cap);
    unsigned count = 0;
    if (!seen)
        return 0;
    for (size_t i = 0; i < n->nrun; i++) {
        const char *s = (const char *)&n->run[i].r.m + off;
        while (*s && !(ran && n->run[i].status == NGT_NOT_RUN)) {
            const char *e = strchr(s, sep);
            size_t k = e ? (size_t)(e - s) : strlen(s);
            if (!ngt_has(seen, s, k) && used + k + 2 < cap) {
                int ok = 1;
                if (hold)
                    for (size_t j = 0; j < n->nrun && ok; j++) {
                        const char *l = (const char *)&n->run[j].r.m + off;
                        for (const char *t = l; *t;) {
                            const char *f = strchr(t, sep);
                            size_t m = f ? (size_t)(f - t) : strlen(t);
                            if (m == k && !strncmp(t, s, k) &&
                                (n->run[j].status != NGT_DONE || n->run[j].r.verdict != SCN_PASS ||
                                 (hold > 1 && n->run[j].r.m.gaps[0])))
                                ok = 0;
                            t += m + (f != NULL);
                        }
                    }
                if (ok)
                    count++;
                memcpy(seen + used, s, k);
                used += k;
                seen[used++] = '\x1f';
                seen[used] = 0;
            }
            s += k + (e != NULL);
        }
    }
    free(seen);
    return count;
}

const char *ngt_claims_text(const ngt_count *c, char *buf, size_t cap)
{
    if (!c->claims)
        snprintf(buf, cap, "no claims to hold: no run names a requirement");
    else
        snprintf(buf, cap, "%u of %u claim%s hold%s, %u more with gaps named", c->claims_hold, c->claims,
                 c->claims == 1 ? "" : "s", c->claims == 1 ? "s" : "", c->claims_gaps);
    return buf;
}

void ngt_count_night(const ngt_night *n, ngt_count *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < n->nrun; i++) {
        const ngt_run *r = &n->run[i];
        if (r->status == NGT_NOT_RUN) {
            c->not_run++;
            continue;
        }
        int v = r->status == NGT_DONE ? r->r.verdict : SCN_ERROR;
        if (v == SCN_PASS) {
            c->passed++;
            continue;
        }
        if (r->quarantine[0] && !r->q_expired) {
            c->quarantined++;
            continue;
        }
        if (r->q_expired)
            c->expired++;
        if (v == SCN_FAIL)
            c->failed++;
        else
            c->errors++;
    }
    c->claims = ngt_distinct(n, offsetof(scn_manifest, requirements), ';', 0, 0);
    c->claims_hold = ngt_distinct(n, offsetof(scn_manifest, requirements), ';', 2, 0);
    c->claims_gaps = ngt_distinct(n, offsetof(scn_manifest, requirements), ';', 1, 0) - c->claims_hold;
    c->gaps = ngt_distinct(n, offsetof(scn_manifest, gaps), '\n', 0, 1); /* a run not run named none tonight */
}

int ngt_night_ok(const ngt_night *n)
{
    ngt_count c;
    ngt_count_night(n, &c);
    return !c.failed && !c.errors && !c.not_run;
}

void ngt_night_free(ngt_night *n)
{
    for (size_t i = 0; i < n->nrun; i++)
        scn_result_free(&n->run[i].r);
    free(n->run);
    n->run = NULL;
    n->nrun = 0;
}

/* --- Selection ----------------------------------------------------------- */

int ngt_req_match(const char *want, const char *have)
{
    size_t n = strlen(want);
    if (!n || strncmp(want, have, n))
        return 0;
    return !have[n] || have[n] == '.' || have[n] == ' ' || want[n - 1] == '.' || want[n - 1] == ' ';
}

static int ngt_rank(const char *l)
{
    return !l || !strcmp(l, "nightly") ? 1 : !strcmp(l, "quick") ? 0 : 2;
}

/* Whether the sep-separated list (spaces around items ignored) has an item f accepts. */
static int ngt_any(const char *list, char sep, const char *const *want, size_t nwant,
                   int (*f)(const char *want, const char *have))
{
    for (const char *s = list; *s;) {
        const char *e = strchr(s, sep);
        size_t k = e ? (size_t)(e - s) : strlen(s);
        char item[600];
        while (k && *s == ' ')
            s++, k--;
        while (k && s[k - 1] == ' ')
            k--;
        snprintf(item, sizeof item, "%.*s", (int)k, s);
        for (size_t i = 0; i < nwant; i++)
            if (f(want[i], item))
                return 1;
        s = e ? e + 1 : s + strlen(s);
    }
    return 0;
}

static int ngt_eq(const char *a, const char *b)
{
    return !strcmp(a, b);
}

int ngt_selected(const scn_manifest *m, const ngt_select *s)
{
    if (ngt_rank(m->level) > ngt_rank(s->level))
        return 0;
    if (s->ntag && !ngt_any(m->tags, ',', s->tag, s->ntag, ngt_eq))
        return 0;
    if (s->nreq && !ngt_any(m->requirements, ';', s->req, s->nreq, ngt_req_match))
        return 0;
    return 1;
}

/* --- The plan ------------------------------------------------------------ */

double ngt_estimate(const scn_manifest *m)
{
    double e = ngt_rank(m->level) == 0   ? NGT_EST_QUICK_S /* ngt.h: measured medians */
               : ngt_rank(m->level) == 1 ? NGT_EST_NIGHTLY_S
                                         : NGT_EST_SOAK_S;
    return m->timeout_s > 0 && m->timeout_s < e ? m->timeout_s : e;
}

int ngt_jobs(const char *const *paths, size_t n, const ngt_select *s, const struct hst *h, ngt_job **jobs,
             size_t *njobs, char *err, size_t cap)
{
    size_t nj = 0, jcap = 0;
    ngt_job *j = NULL;
    *jobs = NULL;
    *njobs = 0;
    for (size_t i = 0; i < n; i++) {
        scn_manifest m;
        char why[8];
        int unread = scn_manifest_read(paths[i], &m, why, sizeof why) != 0;
        if (unread) { /* a job all the same (ngt.h): named by its file, unique */
            memset(&m, 0, sizeof m);
            const char *base = strrchr(paths[i], '/') ? strrchr(paths[i], '/') + 1 : paths[i];
            size_t l = strlen(base);
            if (l > sizeof m.name - 5)
                l = sizeof m.name - 5;
            for (size_t c = 0; c < l; c++)
                m.name[c] = isalnum((unsigned char)base[c]) || strchr("-_.", base[c]) ? base[c] : '_';
            if (!l || !strcmp(m.name, ".") || !strcmp(m.name, ".."))
                snprintf(m.name, sizeof m.name, "unread");
            snprintf(m.level, sizeof m.level, "quick");
            m.nseeds = 1;
            m.seeds[0] = 1;
        }
        if (!unread && !ngt_selected(&m, s))
            continue;
        for (size_t k = 0; k < nj && !unread; k++)
            if (!j[k].unread && !strcmp(j[k].name, m.name) && strcmp(j[k].path, paths[i])) {
                snprintf(err, cap, "%s and %s both name scenario '%s': a night needs each name once", j[k].path,
                         paths[i], m.name);
                free(j);
                return EK3_EPARSE;
            }
        for (unsigned k = 0; k < m.nseeds; k++) {
            if (nj == jcap) {
                size_t nc = jcap ? 2 * jcap : 64;
                ngt_job *nb = realloc(j, nc * sizeof *nb);
                if (!nb) {
                    free(j);
                    snprintf(err, cap, "out of memory");
                    return EK3_ENOSPC;
                }
                j = nb;
                jcap = nc;
            }
            ngt_job *b = &j[nj++];
            memset(b, 0, sizeof *b);
            snprintf(b->path, sizeof b->path, "%s", paths[i]);
            snprintf(b->name, sizeof b->name, "%s", m.name);
            b->seed = m.seeds[k];
            b->timeout_s = m.timeout_s;
            b->unread = (uint8_t)unread;
            b->weight_known = h && hst_duration(h, m.name, m.seeds[k], NGT_WEIGHT_NIGHTS, &b->weight_s);
            if (!b->weight_known)
                b->weight_s = ngt_estimate(&m);
        }
    }
    /* an unread file's name (its file's) taken by another job: "~2" on */
    for (size_t i = 0; i < nj; i++) {
        char stem[sizeof j[i].name];
        memcpy(stem, j[i].name, sizeof stem);
        for (unsigned d = 2, taken = j[i].unread; taken && d < 10000; d++) {
            taken = 0;
            for (size_t k = 0; k < nj && !taken; k++)
                taken = k != i && !strcmp(j[k].name, j[i].name);
            if (taken)
                snprintf(j[i].name, sizeof j[i].name, "%.58s~%u", stem, d);
        }
    }
    *jobs = j;
    *njobs = nj;
    return 0;
}

static int ngt_job_cmp(const void *a, const void *b)
{
    const ngt_job *x = a, *y = b;
    if (x->weight_s != y->weight_s)
        return x->weight_s > y->weight_s ? -1 : 1;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->seed < y->seed ? -1 : x->seed > y->seed;
}

void ngt_pack(ngt_job *jobs, size_t n, unsigned shards)
{
    if (shards < 1)
        shards = 1;
    if (shards > NGT_SHARDS_MAX)
        shards = NGT_SHARDS_MAX;
    double load[NGT_SHARDS_MAX] = {0};
    if (n)
        qsort(jobs, n, sizeof *jobs, ngt_job_cmp);
    for (size_t i = 0; i < n; i++) {
        unsigned best = 0;
        for (unsigned k = 1; k < shards; k++)
            if (load[k] < load[best])
                best = k;
        load[best] += jobs[i].weight_s;
        jobs[i].shard = best + 1;
    }
}

double ngt_makespan(const ngt_job *jobs, size_t n, unsigned shards, double *load)
{
    double max = 0;
    for (unsigned k = 0; k < shards; k++)
        load[k] = 0;
    for (size_t i = 0; i < n; i++)
        if (jobs[i].shard >= 1 && jobs[i].shard <= shards)
            load[jobs[i].shard - 1] += jobs[i].weight_s;
    for (unsigned k = 0; k < shards; k++)
        if (load[k] > max)
            max = load[k];
    return max;
}

/* Write j to path (JSON, indented), or EK3_EIO naming it. Takes j. */
static int ngt_dump(json_t *j, const char *path, char *err, size_t cap)
{
    if (!j) {
        snprintf(err, cap, "%s: out of memory", path);
        return EK3_ENOSPC;
    }
    /* A regular file is replaced whole (written beside it, then renamed
     * over it); anything else (/dev/full, a FIFO) is written to, never
     * renamed over: a rename would replace a device node with a file. */
    struct stat st;
    int direct = !stat(path, &st) && !S_ISREG(st.st_mode);
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s%s", path, direct ? "" : ".tmp");
    errno = 0;
    int rc = json_dump_file(j, tmp, JSON_INDENT(1) | JSON_ENSURE_ASCII);
    json_decref(j);
    if (rc && !errno)
        errno = EIO;
    if (rc || (!direct && rename(tmp, path))) {
        if (direct) {
            snprintf(err, cap, "%s: write error: %s", path, strerror(errno));
            return EK3_EIO;
        }
        snprintf(err, cap, "%s: write error: %s", path, strerror(errno));
        unlink(tmp);
        return EK3_EIO;
    }
    return 0;
}

size_t ngt_utf8_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return s[0] ? 1 : 0;
    size_t k = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
    if (!k || k > n)
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) || (s[0] == 0xF0 && s[1] < 0x90) ||
        (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return k;
}

/* Text as a JSON string: a byte that is not part of a UTF-8 character
 * becomes '?' (a path or a message can hold anything; JSON holds
 * UTF-8). NULL: memory. */
static json_t *ngt_js(const char *s, size_t n)
{
    char *b = malloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; b && i < n;) {
        size_t k = ngt_utf8_len((const unsigned char *)s + i, n - i);
        if (!k) {
            b[o++] = '?';
            i++;
            continue;
        }
        memcpy(b + o, s + i, k);
        o += k;
        i += k;
    }
    json_t *j = b ? json_stringn(b, o) : NULL;
    free(b);
    return j;
}

static json_t *ngt_jstr0(const char *s)
{
    return ngt_js(s, strlen(s));
}

/* Append v to array a; 0, or -1 (v NULL: memory) */
static int ngt_jadd(json_t *a, json_t *v)
{
    return v && !json_array_append_new(a, v) ? 0 : -1;
}

int ngt_plan_write(const char *path, const ngt_job *jobs, size_t n, unsigned shards, const char *selection,
                   char *err, size_t cap)
{
    json_t *a = json_array();
    int bad = !a;
    for (size_t i = 0; i < n && a; i++)
        bad |= ngt_jadd(a, json_pack("{s:o,s:o,s:I,s:f,s:f,s:b,s:i}", "name", ngt_jstr0(jobs[i].name), "path",
                                     ngt_jstr0(jobs[i].path), "seed", (json_int_t)jobs[i].seed, "timeout_s",
                                     jobs[i].timeout_s, "weight_s", jobs[i].weight_s, "weight_known",
                                     jobs[i].weight_known, "shard", (int)jobs[i].shard));
    json_t *j = a && !bad ? json_pack("{s:s,s:i,s:o,s:o}", "format", "ek3-nightly-plan/1", "shards", (int)shards,
                                      "selection", ngt_jstr0(selection ? selection : ""), "jobs", a)
                          : NULL;
    if (!j)
        json_decref(a);
    return ngt_dump(j, path, err, cap);
}

/* Load a JSON file; EK3_EIO / EK3_EPARSE naming it. */
static json_t *ngt_load(const char *path, int *rc, char *err, size_t cap)
{
    json_error_t je;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        int io = je.line < 0 || access(path, R_OK);
        if (io)
            snprintf(err, cap, "%s: %s", path, access(path, R_OK) ? strerror(errno) : je.text);
        else
            snprintf(err, cap, "%s:%d:%d: not JSON: %s", path, je.line, je.column, je.text);
        *rc = io ? EK3_EIO : EK3_EPARSE;
    }
    return j;
}

static int ngt_bad(char *err, size_t cap, const char *path, const char *field, const char *why)
{
    snprintf(err, cap, "%s: %s: %s", path, field, why);
    return EK3_EPARSE;
}

/* A string field into dst; "" when absent and !need. */
static int ngt_jstr(json_t *o, const char *k, char *dst, size_t dcap, int need, const char *path, const char *where,
                    char *err, size_t cap)
{
    json_t *v = json_object_get(o, k);
    char field[200];
    snprintf(field, sizeof field, "%s%s", where, k);
    if (!v && !need) {
        dst[0] = 0;
        return 0;
    }
    if (!json_is_string(v))
        return ngt_bad(err, cap, path, field, v ? "not a string" : "missing");
    if (strlen(json_string_value(v)) >= dcap)
        return ngt_bad(err, cap, path, field, "too long");
    snprintf(dst, dcap, "%s", json_string_value(v));
    return 0;
}

static int ngt_jnum(json_t *o, const char *k, double lo, double hi, double *out, const char *path, const char *where,
                    char *err, size_t cap)
{
    json_t *v = json_object_get(o, k);
    char field[200];
    snprintf(field, sizeof field, "%s%s", where, k);
    if (!json_is_number(v))
        return ngt_bad(err, cap, path, field, v ? "not a number" : "missing");
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi))
        return ngt_bad(err, cap, path, field, "out of range");
    *out = x;
    return 0;
}

/* One job's fields from a plan or night entry. */
static int ngt_jjob(json_t *o, ngt_job *b, const char *path, const char *where, char *err, size_t cap)
{
    double seed, sh, w, to;
    int rc;
    memset(b, 0, sizeof *b);
    if (!json_is_object(o))
        return ngt_bad(err, cap, path, where, "not an object");
    if ((rc = ngt_jstr(o, "name", b->name, sizeof b->name, 1, path, where, err, cap)) ||
        (rc = ngt_jstr(o, "path", b->path, sizeof b->path, 1, path, where, err, cap)) ||
        (rc = ngt_jnum(o, "seed", 0, 9.2e18, &seed, path, where, err, cap)) ||
        (rc = ngt_jnum(o, "shard", 0, NGT_SHARDS_MAX, &sh, path, where, err, cap)) ||
        (rc = ngt_jnum(o, "weight_s", 0, 1e9, &w, path, where, err, cap)))
        return rc;
    if (ngt_jnum(o, "timeout_s", 0, 1e9, &to, path, where, err, cap))
        to = SCN_TIMEOUT_S;
    b->seed = json_is_integer(json_object_get(o, "seed")) ? (uint64_t)json_integer_value(json_object_get(o, "seed"))
                                                           : (uint64_t)seed;
    b->shard = (unsigned)sh;
    b->weight_s = w;
    b->timeout_s = to;
    b->weight_known = json_is_true(json_object_get(o, "weight_known"));
    return 0;
}

int ngt_plan_read(const char *path, ngt_job **jobs, size_t *n, unsigned *shards, char *err, size_t cap)
{
    int rc = 0;
    *jobs = NULL;
    *n = 0;
    json_t *j = ngt_load(path, &rc, err, cap);
    if (!j)
        return rc;
    json_t *a = json_object_get(j, "jobs"), *sh = json_object_get(j, "shards");
    const char *f = json_string_value(json_object_get(j, "format"));
    if (!f || strcmp(f, "ek3-nightly-plan/1"))
        rc = ngt_bad(err, cap, path, "format", "not \"ek3-nightly-plan/1\"");
    else if (!json_is_integer(sh) || json_integer_value(sh) < 1 || json_integer_value(sh) > NGT_SHARDS_MAX)
        rc = ngt_bad(err, cap, path, "shards", "not a whole number 1..256");
    else if (!json_is_array(a))
        rc = ngt_bad(err, cap, path, "jobs", "not a list");
    ngt_job *b = rc ? NULL : calloc(json_array_size(a) + 1, sizeof *b);
    if (!rc && !b)
        rc = EK3_ENOSPC;
    for (size_t i = 0; !rc && i < json_array_size(a); i++) {
        char where[40];
        snprintf(where, sizeof where, "jobs[%zu].", i);
        rc = ngt_jjob(json_array_get(a, i), &b[i], path, where, err, cap);
    }
    if (!rc) {
        *jobs = b;
        *n = json_array_size(a);
        *shards = (unsigned)json_integer_value(sh);
    } else {
        free(b);
    }
    json_decref(j);
    return rc;
}

/* --- Quarantine ---------------------------------------------------------- */

static int ngt_qbad(char *err, size_t cap, const char *file, unsigned line, const char *why)
{
    snprintf(err, cap, "%s:%u: %s", file, line, why);
    return EK3_EPARSE;
}

/* Whether s[0..10) is a real date YYYY-MM-DD. */
static int ngt_date_ok(const char *s, size_t n)
{
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    int y = atoi(s), m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 2000 || m < 1 || m > 12 || d < 1)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

/* One non-blank, non-comment line (NUL-ended, trailing space gone). */
static int ngt_qline(const char *s, const char *file, unsigned no, ngt_qentry *e, char *err, size_t cap)
{
    memset(e, 0, sizeof *e);
    e->line = no;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t k = strcspn(s, " \t");
    const char *at = memchr(s, '@', k);
    size_t nl = at ? (size_t)(at - s) : k;
    if (!nl)
        return ngt_qbad(err, cap, file, no, "no scenario name before '@'");
    if (nl >= sizeof e->name)
        return ngt_qbad(err, cap, file, no, "the scenario name is longer than 63 characters");
    for (size_t i = 0; i < nl; i++)
        if (!(s[i] == '-' || s[i] == '_' || s[i] == '.' || (s[i] >= '0' && s[i] <= '9') ||
              (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) {
            char why[120];
            snprintf(why, sizeof why, "'%c' in the scenario name (letters, digits, '-', '_', '.')", s[i]);
            return ngt_qbad(err, cap, file, no, why);
        }
    memcpy(e->name, s, nl);
    e->any_seed = !at;
    if (at) {
        char seed[32];
        size_t sl = k - nl - 1;
        if (!sl || sl >= sizeof seed)
            return ngt_qbad(err, cap, file, no, "NAME@SEED: the seed is not a whole number 0 to 2^63-1");
        memcpy(seed, at + 1, sl);
        seed[sl] = 0;
        if (cli_parse_u64(seed, INT64_MAX, &e->seed))
            return ngt_qbad(err, cap, file, no, "NAME@SEED: the seed is not a whole number 0 to 2^63-1");
    }
    s += k;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t dl = strcspn(s, " \t");
    if (!dl)
        return ngt_qbad(err, cap, file, no, "no expiry date: NAME[@SEED] YYYY-MM-DD reason");
    if (!ngt_date_ok(s, dl))
        return ngt_qbad(err, cap, file, no, "the expiry is not a date YYYY-MM-DD (UTC, 2000 or later)");
    memcpy(e->expires, s, 10);
    s += dl;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return ngt_qbad(err, cap, file, no, "no reason after the date: say why it is quarantined");
    if (strlen(s) >= sizeof e->reason)
        return ngt_qbad(err, cap, file, no, "the reason is longer than 255 characters");
    snprintf(e->reason, sizeof e->reason, "%s", s);
    return 0;
}

int ngt_quarantine_parse(const char *text, size_t len, const char *file, ngt_quarantine *q, char *err, size_t cap)
{
    memset(q, 0, sizeof *q);
    snprintf(q->path, sizeof q->path, "%s", file);
    size_t qcap = 0;
    unsigned no = 0;
    for (size_t off = 0; off < len;) {
        const char *s = text + off, *nl = memchr(s, '\n', len - off);
        size_t k = nl ? (size_t)(nl - s) : len - off;
        off += k + (nl != NULL);
        no++;
        if (memchr(s, 0, k)) {
            ngt_quarantine_free(q);
            return ngt_qbad(err, cap, file, no, "a NUL byte");
        }
        char line[1024];
        if (k >= sizeof line) {
            ngt_quarantine_free(q);
            return ngt_qbad(err, cap, file, no, "a line longer than 1023 characters");
        }
        memcpy(line, s, k);
        while (k && (line[k - 1] == '\r' || line[k - 1] == ' ' || line[k - 1] == '\t'))
            k--;
        line[k] = 0;
        const char *t = line + strspn(line, " \t");
        if (!*t || *t == '#')
            continue;
        if (q->n == qcap) {
            size_t nc = qcap ? 2 * qcap : 16;
            ngt_qentry *ne = realloc(q->e, nc * sizeof *ne);
            if (!ne) {
                ngt_quarantine_free(q);
                snprintf(err, cap, "%s: out of memory", file);
                return EK3_ENOSPC;
            }
            q->e = ne;
            qcap = nc;
        }
        ngt_qentry *e = &q->e[q->n];
        int rc = ngt_qline(t, file, no, e, err, cap);
        for (size_t i = 0; !rc && i < q->n; i++)
            if (!strcmp(q->e[i].name, e->name) && q->e[i].any_seed == e->any_seed &&
                (e->any_seed || q->e[i].seed == e->seed)) {
                char why[200];
                snprintf(why, sizeof why, "%s%s listed again (first on line %u)", e->name, e->any_seed ? "" : "@SEED",
                         q->e[i].line);
                rc = ngt_qbad(err, cap, file, no, why);
            }
        if (rc) {
            ngt_quarantine_free(q);
            return rc;
        }
        q->n++;
    }
    return 0;
}

int ngt_quarantine_read(const char *path, ngt_quarantine *q, char *err, size_t cap)
{
    memset(q, 0, sizeof *q);
    char *buf;
    size_t len;
    int rc = scn_read_file(path, 16u << 20, &buf, &len, err, cap);
    if (rc)
        return rc;
    rc = ngt_quarantine_parse(buf, len, path, q, err, cap);
    free(buf);
    return rc;
}

void ngt_quarantine_free(ngt_quarantine *q)
{
    free(q->e);
    q->e = NULL;
    q->n = 0;
}

const ngt_qentry *ngt_quarantine_find(const ngt_quarantine *q, const char *name, uint64_t seed)
{
    const ngt_qentry *any = NULL;
    for (size_t i = 0; q && i < q->n; i++) {
        if (strcmp(q->e[i].name, name))
            continue;
        if (!q->e[i].any_seed && q->e[i].seed == seed)
            return &q->e[i];
        if (q->e[i].any_seed)
            any = &q->e[i];
    }
    return any;
}

static void ngt_quarantine_mark(const ngt_quarantine *q, ngt_run *r, const char *today)
{
    const ngt_qentry *e = ngt_quarantine_find(q, r->job.name, r->job.seed);
    r->quarantine[0] = r->q_expires[0] = 0;
    r->q_expired = 0;
    if (!e)
        return;
    snprintf(r->quarantine, sizeof r->quarantine, "%s", e->reason);
    memcpy(r->q_expires, e->expires, sizeof r->q_expires);
    r->q_expired = strcmp(today, e->expires) > 0;
}

void ngt_quarantine_apply(const ngt_quarantine *q, ngt_night *n, const char *today)
{
    char t[11];
    if (!today)
        today = ngt_today(t);
    for (size_t i = 0; i < n->nrun; i++)
        ngt_quarantine_mark(q, &n->run[i], today);
}

const char *ngt_today(char *buf)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, 11, "%Y-%m-%d", &tm);
    return buf;
}

/* --- The runner ---------------------------------------------------------- */

int ngt_mkdirs(const char *dir, char *err, size_t cap)
{
    char part[1024];
    struct stat st;
    if (!*dir) {
        snprintf(err, cap, "an empty path: name a directory");
        return EK3_EIO;
    }
    if (snprintf(part, sizeof part, "%s", dir) >= (int)sizeof part) {
        snprintf(err, cap, "%.200s...: the path is too long", dir);
        return EK3_EIO;
    }
    for (char *c = part + 1;; c++) {
        if (*c != '/' && *c)
            continue;
        char was = *c;
        *c = 0;
        if (mkdir(part, 0777) && errno != EEXIST) {
            snprintf(err, cap, "%s: %s", part, strerror(errno));
            return EK3_EIO;
        }
        if (!was)
            break;
        *c = was;
    }
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(err, cap, "%s: exists and is not a directory", dir);
        return EK3_EIO;
    }
    return 0;
}

/* Run r's verdict.json at path into r->r (vrd_read); a file whose
 * manifest does not read has no name in it: its job's (ngt_jobs), as
 * JUnit and the history give it. */
static int ngt_vrd_read(const char *path, ngt_run *r, char *err, size_t cap)
{
    int rc = vrd_read(path, &r->r, err, cap);
    if (!rc && !r->r.m.name[0])
        snprintf(r->r.m.name, sizeof r->r.m.name, "%s", r->job.name);
    return rc;
}

/* An ERROR result for job j that says why: its manifest read again (a
 * name and path when that fails too). */
static void ngt_error_result(scn_result *r, const ngt_job *j, const char *why)
{
    char err[600];
    scn_result_free(r);
    memset(r, 0, sizeof *r);
    if (scn_manifest_read(j->path, &r->m, err, sizeof err)) {
        memset(&r->m, 0, sizeof r->m);
        snprintf(r->m.path, sizeof r->m.path, "%s", j->path);
        snprintf(r->m.name, sizeof r->m.name, "%s", j->name);
        snprintf(r->m.level, sizeof r->m.level, "quick");
    }
    r->verdict = SCN_ERROR;
    r->seed = j->seed;
    r->threads = 1;
    r->block_rows = SCN_BLOCK_ROWS; /* as the engine's result before any row */
    r->first_fail = -1;
    snprintf(r->error, sizeof r->error, "%s", why);
    vrd_file_sha256(j->path, r->script_sha256, err, sizeof err);
}

typedef struct ngt_ctx {
    ngt_night *n;
    const ngt_job *jobs;
    const ngt_opts *o;
    const char *today;
} ngt_ctx;

static int (*ngt_stop_fn)(void);

static int ngt_scn_stop(void *ctx)
{
    (void)ctx;
    return ngt_stop_fn && ngt_stop_fn();
}

/* The run's directory, absolute or relative to the caller, into buf. */
static const char *ngt_dir(const ngt_night *n, const ngt_run *r, const char *file, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s%s%s", n->out, r->dir, file ? "/" : "", file ? file : "");
    return buf;
}

static int ngt_child(void *ctx, size_t j, int fd)
{
    ngt_ctx *c = ctx;
    const ngt_job *b = &c->jobs[j];
    const char *crash = getenv("EK3_TEST_CRASH"), *hang = getenv("EK3_TEST_HANG");
    if (crash && !strcmp(crash, b->name)) {
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
    if (hang && !strcmp(hang, b->name)) {
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        for (;;)
            pause();
    }
    char dir[1200], line[4096];
    ngt_stop_fn = c->o->stop;
    scn_opts so = {.seed = b->seed,
                   .report_dir = ngt_dir(c->n, &c->n->run[j], NULL, dir, sizeof dir),
                   .out = stdout,
                   .threads = c->o->threads ? c->o->threads : 1,
                   .stop = ngt_scn_stop};
    int v = vrd_run(b->path, &so, line, sizeof line);
    size_t len = strlen(line);
    if (write(fd, line, len) != (ssize_t)len)
        v = SCN_ERROR;
    return v;
}

/* Remove the tree at path (not following links; depth-limited). 0, or
 * -1 with errno. */
static int ngt_rmtree(const char *path, int depth)
{
    struct stat st;
    if (lstat(path, &st))
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    if (depth > 32) {
        errno = ELOOP;
        return -1;
    }
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char sub[1400];
        if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub) {
            errno = ENAMETOOLONG;
            rc = -1;
        } else {
            rc = ngt_rmtree(sub, depth + 1);
        }
    }
    int e2 = errno;
    closedir(d);
    errno = e2;
    return rc ? rc : rmdir(path);
}

/* Whether a run's dir is the night's own: "runs/NAME/seed-N" with no
 * empty, "." or ".." part (a name is the manifest's, never a path). */
static int ngt_own_dir(const char *dir)
{
    if (strncmp(dir, "runs/", 5))
        return 0;
    unsigned parts = 0;
    for (const char *s = dir + 5; *s;) {
        const char *e = strchr(s, '/');
        size_t k = e ? (size_t)(e - s) : strlen(s);
        if (!k || (k == 1 && s[0] == '.') || (k == 2 && s[0] == '.' && s[1] == '.'))
            return 0;
        parts++;
        s += k + (e != NULL);
    }
    return parts == 2;
}

/* Before a run: its directory emptied (everything a night before left
 * there, so a run that dies shows none of last night's files), made
 * again, and run.log's path. 0 (no log) when the directory cannot be
 * made. */
static int ngt_log(void *ctx, size_t j, char *path, size_t cap)
{
    ngt_ctx *c = ctx;
    ngt_run *r = &c->n->run[j];
    char err[600], dir[1200];
    ngt_dir(c->n, r, NULL, dir, sizeof dir);
    if (!ngt_own_dir(r->dir)) {
        if (c->o->out)
            fprintf(c->o->out, "note: %s: not under %s/runs/: its old files are not removed\n", dir, c->n->out);
    } else if (ngt_rmtree(dir, 0) && c->o->out) {
        fprintf(c->o->out, "note: %s: cannot remove a night before's files: %s\n", dir, strerror(errno));
    }
    if (ngt_mkdirs(dir, err, sizeof err))
        return 0;
    ngt_dir(c->n, r, "run.log", path, cap);
    return 1;
}

/* How many run directories OUT/runs/NAME/SEED are not among n's runs. */
static unsigned ngt_stale(const ngt_night *n)
{
    char runs[700], sub[1400], rel[1400];
    unsigned stale = 0;
    snprintf(runs, sizeof runs, "%s/runs", n->out);
    DIR *d = opendir(runs);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", runs, e->d_name);
        DIR *d2 = opendir(sub);
        if (!d2)
            continue;
        struct dirent *e2;
        while ((e2 = readdir(d2))) {
            if (e2->d_name[0] == '.')
                continue;
            snprintf(rel, sizeof rel, "runs/%s/%s", e->d_name, e2->d_name);
            size_t i = 0;
            while (i < n->nrun && strcmp(n->run[i].dir, rel))
                i++;
            stale += i == n->nrun;
        }
        closedir(d2);
    }
    closedir(d);
    return stale;
}

static double ngt_grace(const ngt_opts *o, double timeout_s)
{
    if (o->grace_s > 0)
        return o->grace_s;
    return timeout_s / 4 > 10 ? timeout_s / 4 : 10;
}

static double ngt_deadline(void *ctx, size_t j)
{
    ngt_ctx *c = ctx;
    double t = c->jobs[j].timeout_s > 0 ? c->jobs[j].timeout_s : SCN_TIMEOUT_S;
    return t + ngt_grace(c->o, t);
}

void ngt_line(FILE *f, const ngt_run *r)
{
    if (r->status == NGT_NOT_RUN) {
        fprintf(f, "NOTRUN %-28s seed %-4llu %s\n", r->job.name, (unsigned long long)r->job.seed, r->why);
        return;
    }
    char buf[4096] = "";
    FILE *m = fmemopen(buf, sizeof buf - 1, "w");
    if (m) {
        vrd_line(m, &r->r);
        fclose(m);
    }
    size_t k = strlen(buf);
    while (k && buf[k - 1] == '\n')
        buf[--k] = 0;
    fputs(buf, f);
    if (r->quarantine[0] && r->r.verdict != SCN_PASS)
        fprintf(f, "  [%s %s: %s]", r->q_expired ? "quarantine expired" : "quarantined until", r->q_expires,
                r->quarantine);
    fputc('\n', f);
}

static void ngt_done(void *ctx, const pool_end *e)
{
    ngt_ctx *c = ctx;
    ngt_run *r = &c->n->run[e->j];
    const ngt_job *b = &c->jobs[e->j];
    char path[1300], err[800];
    int st = e->status, stopped = c->o->stop && c->o->stop();
    r->wall_s = e->wall_s;
    int have = !ngt_vrd_read(ngt_dir(c->n, r, "verdict.json", path, sizeof path), r, err, sizeof err);
    if (e->timed_out) {
        double t = b->timeout_s > 0 ? b->timeout_s : SCN_TIMEOUT_S;
        r->status = NGT_TIMEOUT;
        snprintf(r->why, sizeof r->why, "killed after %.1f s: its timeout is %g s (and a grace of %g s)", e->wall_s, t,
                 ngt_grace(c->o, t));
    } else if (WIFSIGNALED(st) && !stopped) {
        r->status = NGT_CRASHED;
        snprintf(r->why, sizeof r->why, "its process ended on signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    } else if (!have && !stopped) {
        r->status = NGT_CRASHED;
        snprintf(r->why, sizeof r->why, "its process exited with status %d and left no readable verdict: %.400s",
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1, err);
    } else if (stopped && (!have || r->r.verdict == SCN_ERROR)) {
        r->status = NGT_NOT_RUN;
        snprintf(r->why, sizeof r->why, "stopped while it ran (%s)", cli_stop_name());
    } else {
        r->status = NGT_DONE;
    }
    if (r->status == NGT_CRASHED || r->status == NGT_TIMEOUT || (r->status == NGT_NOT_RUN && !have)) {
        ngt_error_result(&r->r, b, r->why);
        r->r.wall_s = e->wall_s;
        if (r->status != NGT_NOT_RUN && vrd_write(ngt_dir(c->n, r, NULL, path, sizeof path), &r->r, err, sizeof err))
            snprintf(r->why + strlen(r->why), sizeof r->why - strlen(r->why), "; %s", err);
    }
    if (e->log_cut && c->o->out)
        fprintf(c->o->out, "note: %s seed %llu: its run.log was cut at %zu KiB (%zu bytes written)\n", b->name,
                (unsigned long long)b->seed, (c->o->log_cap ? c->o->log_cap : 256u << 10) >> 10, e->log_bytes);
    if (e->log_errno && c->o->out)
        fprintf(c->o->out, "note: %s: write error: %s\n", ngt_dir(c->n, r, "run.log", path, sizeof path),
                strerror(e->log_errno));
    ngt_quarantine_mark(c->o->q, r, c->today);
    if (c->o->out) {
        ngt_line(c->o->out, r);
        fflush(c->o->out);
    }
}

/* Now in UTC, ISO 8601 to the millisecond ("2026-12-01T02:00:00.250Z"):
 * two nights within one second are two nights in the history. */
static void ngt_iso_now(char *buf, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char s[24];
    unsigned ms = (unsigned)(ts.tv_nsec / 1000000) % 1000u;
    if (!strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm))
        s[0] = 0;
    snprintf(buf, cap, "%.19s.%03uZ", s, ms);
}

static double ngt_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int ngt_run_night(ngt_night *n, const ngt_job *jobs, size_t njobs, const ngt_opts *o, char *err, size_t cap)
{
    char today[11], runs[700];
    double t0 = ngt_mono();
    snprintf(n->rig_version, sizeof n->rig_version, "%s", vrd_rig_version);
    ngt_iso_now(n->started, sizeof n->started);
    n->run = calloc(njobs ? njobs : 1, sizeof *n->run);
    n->nrun = 0;
    if (!n->run) {
        snprintf(err, cap, "out of memory");
        return EK3_ENOSPC;
    }
    n->nrun = njobs;
    for (size_t i = 0; i < njobs; i++) {
        n->run[i].job = jobs[i];
        n->run[i].r.first_fail = -1;
        snprintf(n->run[i].dir, sizeof n->run[i].dir, "runs/%s/seed-%llu", jobs[i].name,
                 (unsigned long long)jobs[i].seed);
    }
    snprintf(runs, sizeof runs, "%s/runs", n->out);
    int rc = ngt_mkdirs(runs, err, cap);
    unsigned stale = rc ? 0 : ngt_stale(n);
    if (stale && o->out) /* a night's selection changes: another's runs are not this one's to remove */
        fprintf(o->out,
                "warning: %u run director%s under %s/runs/ %s not tonight's: left as they are (night.json lists "
                "tonight's)\n",
                stale, stale == 1 ? "y" : "ies", n->out, stale == 1 ? "is" : "are");
    ngt_ctx c = {n, jobs, o, o->today ? o->today : ngt_today(today)};
    size_t started = 0;
    if (!rc) {
        /* the children fork from here: the default power stage's table built once for all (out of memory:
         * each child builds its own) */
        rack_prebuild(NULL);
        pool_spec ps = {.n = njobs,
                        .at_once = o->jobs ? o->jobs : 1,
                        .ctx = &c,
                        .run = ngt_child,
                        .log = ngt_log,
                        .log_cap = o->log_cap,
                        .deadline = ngt_deadline,
                        .kill_after_s = o->grace_s > 0 && o->grace_s < 5 ? (o->grace_s > 0.5 ? o->grace_s : 0.5) : 5,
                        .stop = o->stop,
                        .done = ngt_done};
        rc = pool_run(&ps, &started, err, cap);
    }
    for (size_t i = started; i < njobs; i++) {
        ngt_run *r = &n->run[i];
        r->status = NGT_NOT_RUN;
        snprintf(r->why, sizeof r->why, "%s", rc ? err : "not started: the night was stopped");
        ngt_error_result(&r->r, &jobs[i], r->why);
        ngt_quarantine_mark(o->q, r, c.today);
        if (o->out) /* every run not run has its NOTRUN line, as the ones stopped while they ran */
            ngt_line(o->out, r);
    }
    if (o->out)
        fflush(o->out);
    n->wall_s = ngt_mono() - t0;
    return rc;
}

/* --- night.json ---------------------------------------------------------- */

static const char *const ngt_status_name[] = {"done", "crashed", "timeout", "not-run"};

static json_t *ngt_jlist(const char *s, char sep)
{
    json_t *a = json_array();
    while (a && *s) {
        const char *e = strchr(s, sep);
        size_t k = e ? (size_t)(e - s) : strlen(s);
        if (ngt_jadd(a, ngt_js(s, k))) {
            json_decref(a);
            return NULL;
        }
        s += k + (e != NULL);
    }
    return a;
}

int ngt_night_write(const ngt_night *n, char *err, size_t cap)
{
    char path[700];
    snprintf(path, sizeof path, "%s/night.json", n->out);
    json_t *runs = json_array();
    int bad = !runs;
    for (size_t i = 0; i < n->nrun && !bad; i++) {
        const ngt_run *r = &n->run[i];
        const scn_manifest *m = &r->r.m;
        json_t *q = r->quarantine[0] ? json_pack("{s:o,s:s,s:b}", "reason", ngt_jstr0(r->quarantine), "expires",
                                                 r->q_expires, "expired", r->q_expired)
                                     : json_null();
        json_t *sc = json_pack("{s:o,s:o,s:o,s:o,s:f}", "level", ngt_jstr0(m->level), "tags", ngt_jlist(m->tags, ','),
                               "requirements", ngt_jlist(m->requirements, ';'), "gaps", ngt_jlist(m->gaps, '\n'),
                               "timeout_s", r->job.timeout_s);
        bad |= ngt_jadd(runs, json_pack("{s:o,s:o,s:I,s:i,s:f,s:f,s:o,s:s,s:o,s:s,s:f,s:o,s:o}", "name",
                                        ngt_jstr0(r->job.name), "path", ngt_jstr0(r->job.path), "seed",
                                        (json_int_t)r->job.seed, "shard", (int)r->job.shard, "weight_s",
                                        r->job.weight_s, "timeout_s", r->job.timeout_s, "dir", ngt_jstr0(r->dir),
                                        "status", ngt_status_name[r->status & 3], "why", ngt_jstr0(r->why), "verdict",
                                        scn_verdict_name((unsigned)r->r.verdict), "wall_s", r->wall_s, "quarantine",
                                        q, "scenario", sc));
    }
    json_t *j = !bad ? json_pack("{s:s,s:o,s:s,s:o,s:{s:i,s:i},s:f,s:o}", "format", "ek3-night/1", "rig_version",
                                 ngt_jstr0(n->rig_version), "started", n->started, "selection",
                                 ngt_jstr0(n->selection), "shard", "i", (int)n->shard_i, "n", (int)n->shard_n,
                                 "wall_s", n->wall_s, "runs", runs)
                     : NULL;
    if (!j)
        json_decref(runs);
    return ngt_dump(j, path, err, cap);
}

/* A json list of strings into dst, joined by sep. */
static void ngt_jjoin(json_t *a, char sep, char *dst, size_t cap)
{
    dst[0] = 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        size_t k = strlen(dst);
        if (s)
            snprintf(dst + k, cap - k, "%s%s", k ? (char[2]){sep, 0} : "", s);
    }
}

int ngt_night_read(const char *out_dir, ngt_night *n, char *err, size_t cap)
{
    char path[700];
    int rc = 0;
    memset(n, 0, sizeof *n);
    snprintf(n->out, sizeof n->out, "%s", out_dir);
    snprintf(path, sizeof path, "%s/night.json", out_dir);
    json_t *j = ngt_load(path, &rc, err, cap);
    if (!j)
        return rc;
    const char *f = json_string_value(json_object_get(j, "format"));
    json_t *runs = json_object_get(j, "runs"), *sh = json_object_get(j, "shard");
    double wall = 0;
    if (!f || strcmp(f, "ek3-night/1"))
        rc = ngt_bad(err, cap, path, "format", "not \"ek3-night/1\"");
    else if (!json_is_array(runs))
        rc = ngt_bad(err, cap, path, "runs", "not a list");
    else if (!(rc = ngt_jstr(j, "rig_version", n->rig_version, sizeof n->rig_version, 1, path, "", err, cap)) &&
             !(rc = ngt_jstr(j, "started", n->started, sizeof n->started, 1, path, "", err, cap)) &&
             !(rc = ngt_jstr(j, "selection", n->selection, sizeof n->selection, 0, path, "", err, cap)) &&
             !(rc = ngt_jnum(j, "wall_s", 0, 1e9, &wall, path, "", err, cap))) {
        n->wall_s = wall;
        n->shard_i = (unsigned)json_integer_value(json_object_get(sh, "i"));
        n->shard_n = (unsigned)json_integer_value(json_object_get(sh, "n"));
        n->run = calloc(json_array_size(runs) + 1, sizeof *n->run);
        if (!n->run)
            rc = EK3_ENOSPC;
    }
    for (size_t i = 0; !rc && i < json_array_size(runs); i++) {
        json_t *o = json_array_get(runs, i);
        ngt_run *r = &n->run[i];
        char where[40], st[16] = "", v[1300];
        double w;
        snprintf(where, sizeof where, "runs[%zu].", i);
        if ((rc = ngt_jjob(o, &r->job, path, where, err, cap)) ||
            (rc = ngt_jstr(o, "dir", r->dir, sizeof r->dir, 1, path, where, err, cap)) ||
            (rc = ngt_jstr(o, "status", st, sizeof st, 1, path, where, err, cap)) ||
            (rc = ngt_jstr(o, "why", r->why, sizeof r->why, 0, path, where, err, cap)) ||
            (rc = ngt_jnum(o, "wall_s", 0, 1e9, &w, path, where, err, cap)))
            break;
        n->nrun = i + 1;
        r->wall_s = w;
        r->status = -1;
        for (int k = 0; k < 4; k++)
            if (!strcmp(st, ngt_status_name[k]))
                r->status = k;
        if (r->status < 0 || strstr(r->dir, "..") || r->dir[0] == '/') {
            rc = ngt_bad(err, cap, path, where, r->status < 0 ? "status: not done, crashed, timeout or not-run"
                                                              : "dir: not a path inside the night");
            break;
        }
        json_t *q = json_object_get(o, "quarantine");
        if (json_is_object(q)) {
            snprintf(r->quarantine, sizeof r->quarantine, "%s",
                     json_string_value(json_object_get(q, "reason")) ? json_string_value(json_object_get(q, "reason"))
                                                                     : "?");
            snprintf(r->q_expires, sizeof r->q_expires, "%s",
                     json_string_value(json_object_get(q, "expires")) ? json_string_value(json_object_get(q, "expires"))
                                                                      : "");
            r->q_expired = json_is_true(json_object_get(q, "expired"));
        }
        if (r->status != NGT_NOT_RUN) {
            snprintf(v, sizeof v, "%s/%s/verdict.json", out_dir, r->dir);
            if ((rc = ngt_vrd_read(v, r, err, cap)))
                break;
            continue;
        }
        /* not run: an ERROR from night.json's own fields */
        json_t *sc = json_object_get(o, "scenario");
        scn_manifest *m = &r->r.m;
        r->r.verdict = SCN_ERROR;
        r->r.seed = r->job.seed;
        r->r.first_fail = -1;
        snprintf(r->r.error, sizeof r->r.error, "%s", r->why);
        snprintf(m->path, sizeof m->path, "%s", r->job.path);
        snprintf(m->name, sizeof m->name, "%s", r->job.name);
        snprintf(m->level, sizeof m->level, "%s",
                 json_string_value(json_object_get(sc, "level")) ? json_string_value(json_object_get(sc, "level"))
                                                                 : "nightly");
        ngt_jjoin(json_object_get(sc, "tags"), ',', m->tags, sizeof m->tags);
        ngt_jjoin(json_object_get(sc, "requirements"), ';', m->requirements, sizeof m->requirements);
        ngt_jjoin(json_object_get(sc, "gaps"), '\n', m->gaps, sizeof m->gaps);
        m->nseeds = 1;
        m->seeds[0] = r->job.seed;
        m->timeout_s = r->job.timeout_s;
    }
    json_decref(j);
    if (rc)
        ngt_night_free(n);
    return rc;
}

/* --- The merge ----------------------------------------------------------- */

/* Copy the tree at from into to (made). 0 or EK3_EIO naming the file. */
static int ngt_copy(const char *from, const char *to, int depth, char *err, size_t cap)
{
    int rc = ngt_mkdirs(to, err, cap);
    DIR *d = rc ? NULL : opendir(from);
    if (!rc && !d) {
        snprintf(err, cap, "%s: %s", from, strerror(errno));
        return EK3_EIO;
    }
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char a[1200], b[1200];
        struct stat st;
        snprintf(a, sizeof a, "%s/%s", from, e->d_name);
        snprintf(b, sizeof b, "%s/%s", to, e->d_name);
        if (lstat(a, &st))
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < 8)
                rc = ngt_copy(a, b, depth + 1, err, cap);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        int in = open(a, O_RDONLY | O_CLOEXEC), out = in < 0 ? -1 : open(b, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        char buf[65536];
        ssize_t k = 0;
        while (out >= 0 && (k = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)k) != k) {
                k = -1;
                break;
            }
        if (in < 0 || out < 0 || k < 0) {
            snprintf(err, cap, "%s -> %s: %s", a, b, strerror(errno));
            rc = EK3_EIO;
        }
        if (in >= 0)
            close(in);
        if (out >= 0 && close(out) && !rc) {
            snprintf(err, cap, "%s: write error: %s", b, strerror(errno));
            rc = EK3_EIO;
        }
    }
    if (d)
        closedir(d);
    return rc;
}

int ngt_merge(const char *const *dirs, size_t ndir, const char *out, ngt_night *n, char *err, size_t cap)
{
    ngt_job *plan = NULL, *p2 = NULL;
    size_t np = 0, np2 = 0;
    unsigned shards = 0, sh2 = 0;
    ngt_night *sn = calloc(ndir ? ndir : 1, sizeof *sn);
    int *from = NULL, rc = 0;
    char path[700];
    memset(n, 0, sizeof *n);
    snprintf(n->out, sizeof n->out, "%s", out);
    if (!sn)
        return EK3_ENOSPC;
    for (size_t d = 0; d < ndir && !rc; d++) {
        snprintf(path, sizeof path, "%s/plan.json", dirs[d]);
        if (!d) {
            rc = ngt_plan_read(path, &plan, &np, &shards, err, cap);
        } else if (!(rc = ngt_plan_read(path, &p2, &np2, &sh2, err, cap))) {
            size_t k = 0;
            while (k < np && k < np2 && !strcmp(plan[k].name, p2[k].name) && plan[k].seed == p2[k].seed &&
                   plan[k].shard == p2[k].shard)
                k++;
            if (np != np2 || shards != sh2 || k < np) {
                snprintf(err, cap,
                         "%s is not the plan of %s/plan.json (%s): the shards must be cut from one plan (the same "
                         "selection, scenarios and history)",
                         path, dirs[0],
                         shards != sh2 ? "another number of shards"
                         : k < np && k < np2 ? "another job or shard at the same place"
                                             : "another number of jobs");
                rc = EK3_EPARSE;
            }
            free(p2);
            p2 = NULL;
        }
        if (!rc)
            rc = ngt_night_read(dirs[d], &sn[d], err, cap);
    }
    if (!rc && !(from = malloc((np ? np : 1) * 2 * sizeof *from)))
        rc = EK3_ENOSPC;
    if (!rc && !(n->run = calloc(np ? np : 1, sizeof *n->run)))
        rc = EK3_ENOSPC;
    for (size_t k = 0; !rc && k < np; k++)
        from[2 * k] = -1;
    /* every shard's runs: each one of the plan, and once */
    for (size_t d = 0; d < ndir && !rc; d++)
        for (size_t i = 0; i < sn[d].nrun && !rc; i++) {
            const ngt_run *r = &sn[d].run[i];
            size_t k = 0;
            while (k < np && !(plan[k].seed == r->job.seed && !strcmp(plan[k].name, r->job.name)))
                k++;
            if (k == np) {
                snprintf(err, cap, "%s/night.json: %s seed %llu is not in the plan", dirs[d], r->job.name,
                         (unsigned long long)r->job.seed);
                rc = EK3_EPARSE;
            } else if (from[2 * k] >= 0) {
                snprintf(err, cap, "%s seed %llu ran in two shards: %s and %s", r->job.name,
                         (unsigned long long)r->job.seed, dirs[from[2 * k]], dirs[d]);
                rc = EK3_EPARSE;
            } else {
                from[2 * k] = (int)d;
                from[2 * k + 1] = (int)i;
            }
        }
    if (!rc) {
        snprintf(path, sizeof path, "%s/runs", out);
        rc = ngt_mkdirs(path, err, cap);
    }
    for (size_t k = 0; !rc && k < np; k++) {
        ngt_run *r = &n->run[k];
        n->nrun = k + 1;
        if (from[2 * k] < 0) {
            r->job = plan[k];
            r->status = NGT_NOT_RUN;
            snprintf(r->dir, sizeof r->dir, "runs/%s/seed-%llu", plan[k].name, (unsigned long long)plan[k].seed);
            snprintf(r->why, sizeof r->why, "no shard ran it: it is shard %u's of %u, and that shard's night is not "
                     "among those merged", plan[k].shard, shards);
            ngt_error_result(&r->r, &plan[k], r->why);
            continue;
        }
        ngt_night *s = &sn[from[2 * k]];
        ngt_run *src = &s->run[from[2 * k + 1]];
        *r = *src;
        memset(&src->r, 0, sizeof src->r); /* taken */
        char a[1200], b[1200];
        snprintf(a, sizeof a, "%s/%s", s->out, r->dir);
        snprintf(b, sizeof b, "%s/%s", out, r->dir);
        struct stat st;
        if (!stat(a, &st))
            rc = ngt_copy(a, b, 0, err, cap);
    }
    if (!rc) {
        snprintf(n->rig_version, sizeof n->rig_version, "%s", sn[0].rig_version);
        snprintf(n->selection, sizeof n->selection, "%s", sn[0].selection);
        snprintf(n->started, sizeof n->started, "%s", sn[0].started);
        for (size_t d = 0; d < ndir; d++) {
            if (strcmp(sn[d].started, n->started) < 0)
                snprintf(n->started, sizeof n->started, "%s", sn[d].started);
            if (sn[d].wall_s > n->wall_s)
                n->wall_s = sn[d].wall_s;
        }
        n->shard_i = 0;
        n->shard_n = shards;
        snprintf(path, sizeof path, "%s/plan.json", out);
        rc = ngt_plan_write(path, plan, np, shards, n->selection, err, cap);
        if (!rc)
            rc = ngt_night_write(n, err, cap);
    }
    for (size_t d = 0; d < ndir; d++)
        ngt_night_free(&sn[d]);
    free(sn);
    free(from);
    free(plan);
    if (rc)
        ngt_night_free(n);
    return rc;
}
