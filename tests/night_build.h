/* night_build.h - a night (scenarios/ngt.h) built by hand for the tests
 * of what reads one (the JUnit writer, the history, the report): runs
 * with their status, verdict, checks and hashes, no scenario run. */
#ifndef NIGHT_BUILD_H
#define NIGHT_BUILD_H

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ngt.h"

/* A fresh folder /tmp/ek3-WHAT-PID-XXXXXX into dir[cap], and its removal. */
static inline void nb_mkdir(char *dir, size_t cap, const char *what)
{
    snprintf(dir, cap, "/tmp/ek3-%s-%ld-XXXXXX", what, (long)getpid());
    cr_assert_not_null(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
}

static inline void nb_rmdir(const char *dir)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* An empty night, out = dir, started = when. */
static inline void nb_night(ngt_night *n, const char *dir, const char *when)
{
    memset(n, 0, sizeof *n);
    snprintf(n->out, sizeof n->out, "%s", dir);
    snprintf(n->rig_version, sizeof n->rig_version, "0.4.0+test");
    snprintf(n->started, sizeof n->started, "%s", when);
    n->shard_i = n->shard_n = 1;
}

/* A run of scenario name with seed: status (ngt_status), verdict
 * (scn_verdict), wall seconds; requirements ';'-separated. Its script
 * hash is filled with `script` (0: unknown), its trace hash with `trace`. */
static inline ngt_run *nb_run(ngt_night *n, const char *name, uint64_t seed, int status, int verdict, double wall_s,
                              const char *requirements, uint8_t script, uint8_t trace)
{
    ngt_run *t = realloc(n->run, (n->nrun + 1) * sizeof *t);
    cr_assert_not_null(t);
    n->run = t;
    ngt_run *r = &n->run[n->nrun++];
    memset(r, 0, sizeof *r);
    snprintf(r->job.name, sizeof r->job.name, "%s", name);
    snprintf(r->job.path, sizeof r->job.path, "scenarios/%s.lua", name);
    r->job.seed = seed;
    r->job.shard = 1;
    snprintf(r->dir, sizeof r->dir, "runs/%s/seed-%llu", name, (unsigned long long)seed);
    r->status = status;
    r->wall_s = wall_s;
    r->r.verdict = status == NGT_DONE ? verdict : SCN_ERROR;
    r->r.seed = seed;
    r->r.first_fail = -1;
    snprintf(r->r.m.name, sizeof r->r.m.name, "%s", name);
    snprintf(r->r.m.path, sizeof r->r.m.path, "scenarios/%s.lua", name);
    snprintf(r->r.m.level, sizeof r->r.m.level, "quick");
    snprintf(r->r.m.requirements, sizeof r->r.m.requirements, "%s", requirements ? requirements : "");
    r->r.m.nseeds = 1;
    r->r.m.seeds[0] = seed;
    r->r.wall_s = wall_s;
    memset(r->r.script_sha256, script, 32);
    memset(r->r.trace_sha256, trace, 32);
    return r;
}

/* A check of run r: a failed one becomes its first failure when it is the first. */
static inline void nb_fig(ngt_run *r, const char *name, double value, const char *unit, const char *limit, int pass,
                          double t_s, const char *where)
{
    scn_result *s = &r->r;
    scn_fig *f = realloc(s->fig, (s->nfig + 1) * sizeof *f);
    cr_assert_not_null(f);
    s->fig = f;
    scn_fig *g = &s->fig[s->nfig];
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    g->value = value;
    snprintf(g->unit, sizeof g->unit, "%s", unit);
    snprintf(g->limit, sizeof g->limit, "%s", limit);
    g->pass = pass;
    g->t_s = t_s;
    snprintf(g->where, sizeof g->where, "%s", where);
    if (!pass && s->first_fail < 0)
        s->first_fail = (int)s->nfig;
    s->capfig = ++s->nfig;
}

#endif /* NIGHT_BUILD_H */
