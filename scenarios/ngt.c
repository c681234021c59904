/*
 * ngt.c - the nightly regression's night (ngt.h): counts and the night's
 * outcome. The runner, the plan and the shards join here.
 */
#include "ngt.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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
 * off of scn_manifest; with hold, only items every run naming it passed. */
static unsigned ngt_distinct(const ngt_night *n, size_t off, char sep, int hold)
{
    size_t cap = 4096, used = 0;
    char *seen = calloc(1, cap);
    unsigned count = 0;
    if (!seen)
        return 0;
    for (size_t i = 0; i < n->nrun; i++) {
        const char *s = (const char *)&n->run[i].r.m + off;
        while (*s) {
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
                                (n->run[j].status != NGT_DONE || n->run[j].r.verdict != SCN_PASS))
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
    c->claims = ngt_distinct(n, offsetof(scn_manifest, requirements), ';', 0);
    c->claims_hold = ngt_distinct(n, offsetof(scn_manifest, requirements), ';', 1);
    c->gaps = ngt_distinct(n, offsetof(scn_manifest, gaps), '\n', 0);
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
