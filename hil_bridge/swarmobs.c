/* swarmobs.c - election safety, log matching and committed decisions,
 * checked from outside every quantum; the rack's leader and failovers. */
#include "swarmobs.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "raft.h"
#include "rig.h"
#include "services.h"
#include "swarm.h"

void swo_init(swo *o)
{
    memset(o, 0, sizeof *o);
    o->first_leader_ns = -1;
    o->lost_ns = -1;
    o->first_ns = -1;
}

/* swo_state for a slot known to be 1..modules (swo_step's loop: no call). */
static inline const void *swo_state_of(const rig *g, unsigned slot)
{
    const rig_module *m = &g->m[slot - 1];
    const jz_kernel *k = &m->fw.k;
    if (m->external || !g->plant.mod[slot - 1].present || !fwi_running(&m->fw) || k->cfg.strict ||
        SVC_SWARM >= k->n || k->svc[SVC_SWARM].status != JZ_SVC_RUNNING)
        return NULL;
    return (const void *)k->svc[SVC_SWARM].region.base;
}

const void *swo_state(const rig *g, unsigned slot)
{
    if (slot < 1 || slot > g->o.modules)
        return NULL;
    return swo_state_of(g, slot);
}

static void swo_breach(swo *o, uint32_t *count, int64_t t_ns, const char *fmt, ...)
{
    (*count)++;
    if (o->first[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->first, sizeof o->first, fmt, ap);
    va_end(ap);
    o->first_ns = t_ns;
}

_Static_assert(SWO_READ_MAX == RAFT_LOG_CAP, "swm_log_term answers for the entries after the snapshot: RAFT_LOG_CAP");

/* Slot's commit index already checked, for a module now at commit: 0
 * when it went back (restarted from its snapshot: check again). */
static uint32_t swo_seen(const swo *o, unsigned slot, uint32_t commit)
{
    return commit < o->seen_commit[slot] ? 0 : o->seen_commit[slot];
}

/* The first index of slot's commits to check, up to commit (> seen). */
static uint32_t swo_from(uint32_t seen, uint32_t commit)
{
    uint32_t from = seen + 1;
    if (commit >= SWO_COMMITS && from < commit - SWO_COMMITS + 1)
        from = commit - SWO_COMMITS + 1;
    return from;
}

/* Slot's committed entries not yet checked (c, read by swo_peek), against the ones remembered. */
static unsigned swo_commits(swo *o, const swo_read *c, unsigned slot, uint32_t commit, int64_t t)
{
    unsigned found = 0;
    for (uint32_t k = 0; k < c->n; k++) { /* the compacted ones are not there: checked when they were kept */
        uint32_t i = c->index[k], term = c->term[k], digest = c->digest[k];
        unsigned h = i % SWO_COMMITS;
        if (o->c_index[h] != i) {
            o->c_index[h] = i;
            o->c_term[h] = term;
            o->c_digest[h] = digest;
        } else if (o->c_term[h] != term || o->c_digest[h] != digest) {
            swo_breach(o, &o->v_matching, t,
                       "module %u committed index %u as term %u (digest %08x), another module as term %u "
                       "(digest %08x)",
                       slot, i, term, digest, o->c_term[h], o->c_digest[h]);
            found++;
        }
    }
    o->seen_commit[slot] = commit;
    if (commit > o->max_commit)
        o->max_commit = commit;
    return found;
}

void swo_peek(swo *o, const rig *g, unsigned k0, unsigned k1)
{
    unsigned n = g->o.modules < SWO_NODES - 1 ? g->o.modules : SWO_NODES - 1;
    for (unsigned slot = k0 + 1; slot <= k1 && slot <= n; slot++) {
        swo_view v = {0};
        if ((v.st = swo_state_of(g, slot))) {
            const raft *rf = swm_raft(v.st); /* four words */
            v = (swo_view){v.st, rf->commit, rf->term, rf->last_index, rf->role};
        }
        swo_view *w = &o->view[slot];
        if (w->st == v.st && w->commit == v.commit && w->term == v.term && w->last_index == v.last_index &&
            w->role == v.role)
            continue; /* as swo_check took it: its commits checked (seen_commit[slot] is v.commit) */
        *w = v;
        o->moved[slot] = 1;
        /* The commits swo_check will take (its test, on the seen_commit it left) */
        uint32_t seen = swo_seen(o, slot, v.commit);
        if (!v.st || v.commit <= seen)
            continue;
        swo_read *c = &o->got[slot];
        c->n = 0;
        for (uint32_t i = swo_from(seen, v.commit); i <= v.commit && c->n < SWO_READ_MAX; i++)
            if (swm_log_term(v.st, i, &c->term[c->n], &c->digest[c->n]) == EK3_OK)
                c->index[c->n++] = i;
    }
}

unsigned swo_step(swo *o, const rig *g)
{
    swo_peek(o, g, 0, g->o.modules);
    return swo_check(o, g);
}

/* Whether slot's module is cut off the rack bus (bus-cut). */
static int swo_cut(const rig *g, unsigned slot)
{
    return slot < g->bus.n && g->bus.node[slot].cut;
}

unsigned swo_check(swo *o, const rig *g)
{
    unsigned last = g->o.modules < SWO_NODES - 1 ? g->o.modules : SWO_NODES - 1;
    /* every view as the last call took it, and the leader not cut off the bus since (a cut leader is LEADER
     * still, in its own term, but leads no one) */
    if (!memchr(o->moved + 1, 1, last) && !(o->leader && swo_cut(g, o->leader)))
        return 0;
    memset(o->moved, 0, last + 1);
    unsigned found = 0, nread = 0;
    int64_t t = g->t_ns;
    uint16_t best = 0;
    uint32_t best_term = 0;
    for (unsigned slot = 1; slot <= g->o.modules && slot < SWO_NODES; slot++) {
        const swo_view *v = &o->view[slot];
        if (!v->st) {
            /* a fresh instance starts its checks from scratch */
            o->seen_commit[slot] = 0;
            continue;
        }
        nread++;
        uint32_t commit = v->commit;
        o->seen_commit[slot] = swo_seen(o, slot, commit);
        if (commit > o->seen_commit[slot])
            found += swo_commits(o, &o->got[slot], slot, commit, t);
        if (v->role != RAFT_LEADER)
            continue;
        uint32_t term = v->term;
        unsigned h = term % SWO_TERMS;
        if (o->term_of[h] == term && o->leader_of[h] != slot) {
            swo_breach(o, &o->v_safety, t, "two leaders in term %u: modules %u and %u", term, o->leader_of[h],
                       slot);
            found++;
        } else if (o->term_of[h] != term) {
            o->term_of[h] = term;
            o->leader_of[h] = (uint16_t)slot;
            o->leaders++;
            /* leader completeness: a new leader holds every committed index */
            if (v->last_index < o->max_commit) {
                swo_breach(o, &o->v_lost, t,
                           "module %u leads term %u with a log that ends at %u, before the committed index %u",
                           slot, term, v->last_index, o->max_commit);
                found++;
            }
        }
        if (term >= best_term && !swo_cut(g, slot)) { /* a leader cut off the bus leads no one: the rack lost it */
            best_term = term;
            best = (uint16_t)slot;
        }
    }
    o->nread = nread;
    if (best) {
        if (o->first_leader_ns < 0)
            o->first_leader_ns = t;
        else if (o->lost_ns >= 0) {
            if (o->failovers < SWO_FAILOVERS)
                o->failover_s[o->failovers] = (t - o->lost_ns) * 1e-9;
            o->failovers++;
        }
        o->lost_ns = -1;
        o->leader = best;
        o->term = best_term;
    } else {
        if (o->leader && o->lost_ns < 0)
            o->lost_ns = t;
        o->leader = 0;
    }
    return found;
}

static int swo_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void swo_summary(const swo *o, int64_t now_ns, swo_sum *s)
{
    memset(s, 0, sizeof *s);
    s->leader = o->leader;
    s->term = o->term;
    s->leaders = o->leaders;
    s->violations = o->v_safety + o->v_matching + o->v_lost;
    s->failovers = o->failovers;
    s->first_leader_s = o->first_leader_ns >= 0 ? o->first_leader_ns * 1e-9 : NAN;
    s->leaderless_s = o->lost_ns >= 0 ? (now_ns - o->lost_ns) * 1e-9 : 0;
    memcpy(s->first, o->first, sizeof s->first);
    unsigned n = o->failovers < SWO_FAILOVERS ? o->failovers : SWO_FAILOVERS;
    s->failover_p50_s = s->failover_p99_s = s->failover_max_s = NAN;
    if (!n)
        return;
    double sorted[SWO_FAILOVERS];
    memcpy(sorted, o->failover_s, n * sizeof sorted[0]);
    qsort(sorted, n, sizeof sorted[0], swo_cmp);
    /* nearest rank: the ceil(p n)-th smallest */
    unsigned r50 = (unsigned)ceil(0.50 * n), r99 = (unsigned)ceil(0.99 * n);
    s->failover_p50_s = sorted[(r50 ? r50 : 1) - 1];
    s->failover_p99_s = sorted[(r99 ? r99 : 1) - 1];
    s->failover_max_s = sorted[n - 1];
}
