/* test_raft.c - the Raft core of SWARM_COORD (raft.h), tested as etcd's
 * raft interaction tests are: a small in-test network of nodes driven
 * through the public API only, with scripted deliver / drop / duplicate /
 * reorder / tick, and the expected states asserted; then a seeded soak with
 * drops, partitions and reboots, checking after every step election safety
 * (one leader per term), log matching, and that no committed entry is lost. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "ek3_rng.h"
#include "raft.h"

#define NMAX 7u
#define QCAP 4096u
#define TERMS 8192u
#define IDXS 8192u
#define TICK 10u /* ms per step */

typedef struct flight {
    uint16_t to;
    raft_msg m;
} flight;

typedef struct net {
    unsigned n;
    raft r[NMAX + 1];
    uint32_t pterm[NMAX + 1]; /* "flash": what raft_persist_needed gave */
    uint16_t pvote[NMAX + 1];
    uint8_t up[NMAX + 1];
    uint8_t cut[NMAX + 1][NMAX + 1]; /* 1: no link from i to j */
    flight *q;
    unsigned nq;
    uint64_t rng;
    unsigned drop_pct, dup_pct; /* applied as messages leave a node */
    /* checkers */
    uint16_t term_leader[TERMS];
    uint32_t cterm[IDXS], cseen_term[IDXS]; /* committed entry's term; lowest node term that saw it committed */
    uint8_t clen[IDXS], cdata[IDXS][RAFT_ENTRY_MAX];
    uint32_t max_committed;
    uint32_t applied[NMAX + 1]; /* last index raft_take_committed gave */
    unsigned violations;
    unsigned amnesia; /* reboots lose the log: committed entries may be lost (counted in lost; docs/swarm.md) */
    unsigned lost;
    uint8_t lost_at[IDXS]; /* index counted lost once */
    uint8_t reboot_on_return[NMAX + 1];
    uint32_t quiet_ms; /* cfg.quiet_ms of every node (0: the default) */
} net;

static raft_cfg cfg_of(unsigned me, unsigned n)
{
    return (raft_cfg){.me = (uint16_t)me,
                      .n_nodes = (uint16_t)n,
                      .heartbeat_ms = 100,
                      .election_min_ms = 500,
                      .election_max_ms = 1000};
}

static void net_boot(net *w, unsigned i, uint64_t seed)
{
    raft_cfg c = cfg_of(i, w->n);
    c.quiet_ms = w->quiet_ms;
    cr_assert_eq(raft_init(&w->r[i], &c, w->pterm[i], w->pvote[i], seed), 0);
    w->up[i] = 1;
    w->applied[i] = 0;
}

static net *net_new(unsigned n, uint64_t seed)
{
    net *w = calloc(1, sizeof *w);
    cr_assert(w);
    w->q = calloc(QCAP, sizeof *w->q);
    cr_assert(w->q);
    w->n = n;
    w->rng = seed;
    for (unsigned i = 1; i <= n; i++)
        net_boot(w, i, seed * 1000u + i);
    return w;
}

static void net_free(net *w)
{
    free(w->q);
    free(w);
}

static unsigned rnd(net *w, unsigned n)
{
    return (unsigned)(ek3_rng_splitmix64(&w->rng) % n);
}

static void enqueue(net *w, uint16_t to, const raft_msg *m)
{
    if (w->nq < QCAP)
        w->q[w->nq++] = (flight){.to = to, .m = *m};
}

/* Persist, then move node i's outbox onto the wire (a broadcast becomes
 * one copy per linked node; drops and duplicates as configured). */
static void collect(net *w, unsigned i)
{
    uint32_t t;
    uint16_t v;
    if (raft_persist_needed(&w->r[i], &t, &v) == 1) {
        w->pterm[i] = t;
        w->pvote[i] = v;
    }
    raft_msg m;
    while (raft_take(&w->r[i], &m) == 0) {
        cr_assert_eq(m.from, i, "a message names its sender");
        cr_assert(m.term >= w->pterm[i] || m.kind == RAFT_PREVOTE || m.kind == RAFT_PREVOTE_RESP,
                  "sent only after its term was persisted");
        for (unsigned j = 1; j <= w->n; j++) {
            if (j == i || (m.to != 0 && m.to != j) || w->cut[i][j])
                continue;
            if (w->drop_pct && rnd(w, 100) < w->drop_pct)
                continue;
            enqueue(w, (uint16_t)j, &m);
            if (w->dup_pct && rnd(w, 100) < w->dup_pct)
                enqueue(w, (uint16_t)j, &m);
        }
    }
}

static void collect_all(net *w)
{
    for (unsigned i = 1; i <= w->n; i++)
        if (w->up[i])
            collect(w, i);
}

/* Deliver flight k (removed from the queue). */
static int deliver_at(net *w, unsigned k)
{
    flight f = w->q[k];
    memmove(&w->q[k], &w->q[k + 1], (w->nq - k - 1) * sizeof *w->q);
    w->nq--;
    if (!w->up[f.to])
        return 0;
    int rc = raft_step(&w->r[f.to], &f.m);
    collect(w, f.to);
    return rc;
}

/* Deliver until the wire is empty (the answers too). */
static void deliver_all(net *w)
{
    for (unsigned guard = 0; w->nq > 0 && guard < 100000; guard++)
        (void)deliver_at(w, 0);
}

static void tick_all(net *w, uint32_t ms)
{
    for (unsigned i = 1; i <= w->n; i++)
        if (w->up[i])
            raft_tick(&w->r[i], ms);
    collect_all(w);
}

/* ms of time in steps of TICK, delivering everything after each step. */
static void run(net *w, uint32_t ms)
{
    for (uint32_t t = 0; t < ms; t += TICK) {
        tick_all(w, TICK);
        deliver_all(w);
    }
}

static void isolate(net *w, unsigned i, int on)
{
    for (unsigned j = 1; j <= w->n; j++)
        w->cut[i][j] = w->cut[j][i] = (uint8_t)(on && j != i);
}

/* The one leader among the up nodes (0 if none, fails if two at one term). */
static unsigned leader_of(net *w)
{
    unsigned l = 0;
    for (unsigned i = 1; i <= w->n; i++)
        if (w->up[i] && w->r[i].role == RAFT_LEADER) {
            if (l && w->r[l].term == w->r[i].term)
                cr_assert_fail("two leaders in term %u: %u and %u", w->r[i].term, l, i);
            if (!l || w->r[i].term > w->r[l].term)
                l = i;
        }
    return l;
}

static unsigned elect(net *w)
{
    for (unsigned t = 0; t < 20000 && !leader_of(w); t += TICK)
        run(w, TICK);
    unsigned l = leader_of(w);
    cr_assert(l, "a leader is elected");
    run(w, 300); /* everyone hears it */
    return l;
}

/* Propose on the leader and run until every node up and linked commits it. */
static uint32_t commit_one(net *w, unsigned l, const char *text)
{
    cr_assert_eq(raft_propose(&w->r[l], text, strlen(text)), 0, "propose on %u", l);
    collect(w, l);
    uint32_t idx = w->r[l].last_index;
    for (unsigned t = 0; t < 5000 && w->r[l].commit < idx; t += TICK)
        run(w, TICK);
    cr_assert_geq(w->r[l].commit, idx, "entry %u committed", idx);
    return idx;
}

static int entry_is(const raft *r, uint32_t idx, const char *text)
{
    uint32_t t;
    const raft_entry *e;
    if (raft_entry_at(r, idx, &t, &e) != 0)
        return 0;
    return e->len == strlen(text) && memcmp(e->data, text, e->len) == 0;
}

/* ---- the invariants (after every step) ------------------------------ */

static void violation(net *w, const char *what, unsigned a, unsigned b, uint32_t x)
{
    w->violations++;
    cr_log_error("violation: %s (nodes %u %u, %u)", what, a, b, x);
}

static void check(net *w)
{
    /* election safety: at most one leader per term, ever */
    for (unsigned i = 1; i <= w->n; i++) {
        const raft *r = &w->r[i];
        if (!w->up[i] || r->role != RAFT_LEADER)
            continue;
        cr_assert_lt(r->term, TERMS);
        if (w->term_leader[r->term] && w->term_leader[r->term] != i)
            violation(w, "two leaders in one term", w->term_leader[r->term], i, r->term);
        w->term_leader[r->term] = (uint16_t)i;
    }
    /* log matching: the same index and term hold the same data, and the
     * same entries before (Raft 5.3) */
    for (unsigned a = 1; a <= w->n; a++)
        for (unsigned b = a + 1; b <= w->n; b++) {
            const raft *x = &w->r[a], *y = &w->r[b];
            if (!w->up[a] || !w->up[b])
                continue;
            uint32_t lo = x->snap_index > y->snap_index ? x->snap_index : y->snap_index;
            uint32_t hi = x->last_index < y->last_index ? x->last_index : y->last_index;
            int same_above = 0;
            for (uint32_t i = hi; i >= lo && i > 0; i--) {
                uint32_t tx, ty;
                const raft_entry *ex, *ey;
                cr_assert_eq(raft_entry_at(x, i, &tx, &ex), 0);
                cr_assert_eq(raft_entry_at(y, i, &ty, &ey), 0);
                if (tx == ty)
                    same_above = 1;
                if (same_above && tx != ty)
                    violation(w, "log matching: prefixes differ below a matching entry", a, b, i);
                int ring = i > x->snap_index && i > y->snap_index;
                if (tx == ty && ring && (ex->len != ey->len || memcmp(ex->data, ey->data, ex->len) != 0))
                    violation(w, "log matching: same index and term, other data", a, b, i);
            }
        }
    /* committed entries: recorded once, never contradicted */
    for (unsigned i = 1; i <= w->n; i++) {
        const raft *r = &w->r[i];
        if (!w->up[i])
            continue;
        cr_assert_lt(r->commit, IDXS);
        for (uint32_t k = r->snap_index > 0 ? r->snap_index : 1; k <= r->commit; k++) {
            uint32_t t;
            const raft_entry *e;
            cr_assert_eq(raft_entry_at(r, k, &t, &e), 0, "node %u keeps its committed %u", i, k);
            if (!w->cterm[k]) {
                if (k == r->snap_index)
                    continue; /* its state is not the entry's data */
                w->cterm[k] = t;
                w->cseen_term[k] = r->term;
                w->clen[k] = e->len;
                memcpy(w->cdata[k], e->data, e->len);
                if (k > w->max_committed)
                    w->max_committed = k;
                continue;
            }
            if (r->term < w->cseen_term[k])
                w->cseen_term[k] = r->term;
            int differs = t != w->cterm[k] ||
                          (k > r->snap_index && (e->len != w->clen[k] || memcmp(e->data, w->cdata[k], e->len) != 0));
            if (differs && w->amnesia) { /* a loss the volatile log allows: count it once, follow the new one */
                w->lost += !w->lost_at[k];
                w->lost_at[k] = 1;
                w->cterm[k] = t;
                w->cseen_term[k] = r->term;
                w->clen[k] = e->len;
                memcpy(w->cdata[k], e->data, e->len);
            } else if (differs)
                violation(w, "a committed entry changed", i, 0, k);
        }
    }
    /* leader completeness (Raft 5.4): a leader of a later term holds every
     * entry committed before it */
    if (w->amnesia)
        return;
    for (unsigned i = 1; i <= w->n; i++) {
        const raft *r = &w->r[i];
        if (!w->up[i] || r->role != RAFT_LEADER)
            continue;
        for (uint32_t k = 1; k <= w->max_committed; k++) {
            if (!w->cterm[k] || w->cseen_term[k] >= r->term || k < r->snap_index)
                continue;
            uint32_t t = 0;
            if (raft_entry_at(r, k, &t, NULL) != 0 || t != w->cterm[k])
                violation(w, "a leader lacks a committed entry", i, 0, k);
        }
    }
}

/* The caller's side of raft_take_committed: in order, and equal to what
 * was committed. */
static void take_committed(net *w, unsigned i)
{
    raft_entry e;
    uint32_t idx;
    while (raft_take_committed(&w->r[i], &e, &idx) == 0) {
        cr_assert_gt(idx, w->applied[i], "node %u: committed entries in order (%u after %u)", i, idx, w->applied[i]);
        cr_assert_leq(idx, w->r[i].commit);
        if (idx < IDXS && w->cterm[idx] && idx != w->r[i].snap_index && !w->amnesia &&
            (e.len != w->clen[idx] || memcmp(e.data, w->cdata[idx], e.len) != 0))
            violation(w, "raft_take_committed gave other data", i, 0, idx);
        w->applied[i] = idx;
    }
}

/* ---- scripted interactions ------------------------------------------ */

Test(raft, first_election)
{
    net *w = net_new(3, 1);
    cr_assert_eq(leader_of(w), 0);
    unsigned l = elect(w);
    for (unsigned i = 1; i <= 3; i++) {
        cr_assert_eq(raft_leader(&w->r[i]), l, "node %u follows %u", i, l);
        cr_assert_eq(w->r[i].term, 1, "one election: term 1 (PreVote does not spend terms)");
        cr_assert_eq(w->pterm[i], 1, "the term is persisted");
    }
    cr_assert_eq(w->pvote[l], l, "the leader voted for itself");
    cr_assert_eq(w->r[l].stats.elections_won, 1);
    /* the no-op of the new term commits everywhere */
    cr_assert_eq(w->r[l].commit, 1);
    for (unsigned i = 1; i <= 3; i++)
        cr_assert_eq(w->r[i].commit, 1, "node %u learned the commit", i);
    check(w);
    cr_assert_eq(w->violations, 0);
    net_free(w);
}

Test(raft, single_node_elects_itself)
{
    net *w = net_new(1, 2);
    run(w, 1000);
    cr_assert_eq(w->r[1].role, RAFT_LEADER);
    cr_assert_eq(raft_propose(&w->r[1], "x", 1), 0);
    cr_assert_eq(w->r[1].commit, 2, "a single voter commits at once");
    net_free(w);
}

/* PreVote and CheckQuorum together (thesis 9.6, 6.2): a follower cut off
 * from the rack runs pre-elections without raising its term, and on
 * rejoining the healthy leader keeps its term and leadership. */
Test(raft, partitioned_node_rejoins_without_disruption)
{
    net *w = net_new(5, 3);
    unsigned l = elect(w);
    uint32_t term = w->r[l].term;
    unsigned p = l % 5 + 1;
    isolate(w, p, 1);
    run(w, 10000);
    cr_assert_gt(w->r[p].stats.prevotes_started, 3, "the cut-off node tried pre-elections");
    cr_assert_eq(w->r[p].stats.elections_started, 0, "it never won a pre-election");
    cr_assert_eq(w->r[p].term, term, "and never raised its term");
    isolate(w, p, 0);
    run(w, 3000);
    cr_assert_eq(leader_of(w), l, "the leader stays");
    cr_assert_eq(w->r[l].term, term, "in its term");
    cr_assert_eq(raft_leader(&w->r[p]), l, "the rejoined node follows it");
    cr_assert_eq(w->r[l].stats.stepdowns_quorum, 0);
    net_free(w);
}

/* The leader lease: a vote request of a higher term reaching followers
 * that heard their leader recently is ignored; it neither raises their
 * term nor takes their vote. */
Test(raft, vote_inside_lease_is_ignored)
{
    net *w = net_new(3, 4);
    unsigned l = elect(w);
    unsigned f = l % 3 + 1, c = f % 3 + 1;
    if (c == l)
        c = c % 3 + 1;
    uint32_t term = w->r[f].term;
    raft_msg v = {.kind = RAFT_VOTE, .from = (uint16_t)c, .to = 0, .term = term + 5, .index = 100, .log_term = term};
    cr_assert_eq(raft_step(&w->r[f], &v), 0);
    cr_assert_eq(w->r[f].term, term, "the term stays");
    cr_assert_eq(w->r[f].voted_for, l, "the vote stays");
    cr_assert_eq(w->r[f].stats.votes_ignored, 1);
    raft_msg out;
    cr_assert_eq(raft_take(&w->r[f], &out), EK3_EAGAIN, "no answer");
    /* once the lease is over (the leader is gone), the same request counts */
    w->up[l] = 0;
    run(w, 400); /* < election_min: no node has timed out yet... */
    raft_tick(&w->r[f], 200);
    cr_assert_eq(raft_step(&w->r[f], &v), 0);
    cr_assert_eq(w->r[f].term, term + 5);
    cr_assert_eq(w->r[f].voted_for, c, "granted: the candidate's log is ahead");
    net_free(w);
}

/* CheckQuorum (thesis 6.2): a leader that hears no majority for an
 * election timeout steps down; the majority elects another one in a
 * higher term, which the old leader follows once it rejoins. */
Test(raft, leader_losing_quorum_steps_down)
{
    net *w = net_new(5, 5);
    unsigned l = elect(w);
    uint32_t term = w->r[l].term;
    isolate(w, l, 1);
    run(w, 1000); /* within two checks of election_min_ms: the first may count answers from before the cut */
    cr_assert_neq(w->r[l].role, RAFT_LEADER, "stepped down");
    cr_assert_eq(w->r[l].stats.stepdowns_quorum, 1);
    cr_assert_eq(raft_leader(&w->r[l]), 0);
    run(w, 3000);
    unsigned l2 = leader_of(w);
    cr_assert(l2 && l2 != l, "the majority elected another leader");
    cr_assert_gt(w->r[l2].term, term);
    isolate(w, l, 0);
    run(w, 1000);
    cr_assert_eq(raft_leader(&w->r[l]), l2);
    cr_assert_eq(w->r[l].term, w->r[l2].term);
    net_free(w);
}

/* A message of an older term is refused: nothing changes but the
 * counter, and an old leader is told the newer term. */
Test(raft, stale_term_refused)
{
    net *w = net_new(3, 6);
    unsigned l = elect(w);
    unsigned f = l % 3 + 1;
    raft *r = &w->r[f];
    /* move everyone to a higher term: the leader steps down, a new one comes */
    isolate(w, l, 1);
    run(w, 4000);
    isolate(w, l, 0);
    run(w, 1000);
    uint32_t term = r->term, commit = r->commit, last = r->last_index;
    uint16_t lead = raft_leader(r);
    cr_assert_gt(term, 1);
    raft_msg m = {.kind = RAFT_APPEND,
                  .from = (uint16_t)(f % 3 + 1),
                  .term = term - 1,
                  .index = last,
                  .log_term = r->last_term > term - 1 ? term - 1 : r->last_term,
                  .commit = last + 5,
                  .n = 0};
    cr_assert_eq(raft_step(r, &m), EK3_ESTALE);
    cr_assert_eq(r->stats.stale, 1);
    cr_assert_eq(r->term, term);
    cr_assert_eq(r->commit, commit, "an old leader's commit is not taken");
    cr_assert_eq(raft_leader(r), lead);
    raft_msg out;
    cr_assert_eq(raft_take(r, &out), 0);
    cr_assert_eq(out.kind, RAFT_APPEND_RESP);
    cr_assert_eq(out.term, term, "the answer carries the newer term");
    cr_assert_eq(out.ok, 0);
    raft_msg v = {.kind = RAFT_VOTE_RESP, .from = m.from, .term = term - 1, .ok = 1};
    cr_assert_eq(raft_step(r, &v), EK3_ESTALE);
    cr_assert_eq(r->stats.stale, 2);
    net_free(w);
}

/* Term and vote survive a reboot: a node re-initialised with what it
 * persisted does not vote twice in one term. */
Test(raft, vote_persists_across_reboot)
{
    net *w = net_new(3, 7);
    raft *r = &w->r[3];
    raft_msg v1 = {.kind = RAFT_VOTE, .from = 1, .term = 4, .index = 0, .log_term = 0};
    cr_assert_eq(raft_step(r, &v1), 0);
    raft_msg out;
    uint32_t t;
    uint16_t vote;
    cr_assert_eq(raft_persist_needed(r, &t, &vote), 1, "persist before answering");
    cr_assert_eq(t, 4);
    cr_assert_eq(vote, 1);
    cr_assert_eq(raft_persist_needed(r, &t, &vote), 0, "once");
    cr_assert_eq(raft_take(r, &out), 0);
    cr_assert_eq(out.kind, RAFT_VOTE_RESP);
    cr_assert_eq(out.ok, 1, "granted to 1");
    /* reboot with the flash's term and vote */
    raft_cfg c = cfg_of(3, 3);
    cr_assert_eq(raft_init(r, &c, t, vote, 99), 0);
    raft_msg v2 = {.kind = RAFT_VOTE, .from = 2, .term = 4, .index = 0, .log_term = 0};
    cr_assert_eq(raft_step(r, &v2), 0);
    cr_assert_eq(raft_take(r, &out), 0);
    cr_assert_eq(out.ok, 0, "no second vote in term 4");
    cr_assert_eq(r->voted_for, 1);
    cr_assert_eq(raft_step(r, &v1), 0);
    cr_assert_eq(raft_take(r, &out), 0);
    cr_assert_eq(out.ok, 1, "the same candidate asking again is granted again");
    /* a fresh module (nothing persisted) would have voted: the guard is the persisted vote */
    cr_assert_eq(raft_init(r, &c, 0, 0, 99), 0);
    cr_assert_eq(raft_step(r, &v2), 0);
    cr_assert_eq(raft_take(r, &out), 0);
    cr_assert_eq(out.ok, 1);
    net_free(w);
}

/* Log matching and commit across a leader change (Raft 5.3, 5.4): a new
 * leader keeps a committed entry; an old term's uncommitted entry is
 * overwritten. */
Test(raft, new_leader_keeps_committed_overwrites_uncommitted)
{
    net *w = net_new(3, 8);
    unsigned l = elect(w);
    uint32_t a = commit_one(w, l, "A");
    run(w, 300);
    isolate(w, l, 1);
    cr_assert_eq(raft_propose(&w->r[l], "B", 1), 0, "the cut-off leader still takes a proposal");
    collect(w, l);
    uint32_t b = w->r[l].last_index;
    cr_assert_eq(b, a + 1);
    run(w, 4000);
    unsigned l2 = leader_of(w);
    cr_assert(l2 && l2 != l);
    /* its no-op sits at B's index; commit C after it */
    uint32_t c = commit_one(w, l2, "C");
    cr_assert(entry_is(&w->r[l2], a, "A"), "the committed A survives the leader change");
    isolate(w, l, 0);
    run(w, 2000);
    raft *old = &w->r[l];
    cr_assert_eq(raft_leader(old), l2);
    cr_assert_geq(old->commit, c);
    cr_assert(entry_is(old, a, "A"));
    cr_assert(entry_is(old, c, "C"), "the old leader took C");
    uint32_t tb;
    cr_assert_eq(raft_entry_at(old, b, &tb, NULL), 0);
    cr_assert_eq(tb, w->r[l2].term, "B was overwritten by the new leader's no-op");
    check(w);
    cr_assert_eq(w->violations, 0);
    net_free(w);
}

/* A node made leader by hand: 1 of n, voted in by 2..majority. */
static void hand_leader(raft *r, unsigned n, uint64_t seed)
{
    raft_cfg c = cfg_of(1, n);
    cr_assert_eq(raft_init(r, &c, 0, 0, seed), 0);
    for (unsigned t = 0; t < 2000 && r->role == RAFT_FOLLOWER; t += TICK)
        raft_tick(r, TICK);
    cr_assert_eq(r->role, RAFT_PRECANDIDATE);
    uint32_t term = r->term;
    for (unsigned i = 2; i <= n / 2u + 1u; i++) {
        raft_msg g = {.kind = RAFT_PREVOTE_RESP, .from = (uint16_t)i, .to = 1, .term = term + 1, .ok = 1};
        cr_assert_eq(raft_step(r, &g), 0);
    }
    cr_assert_eq(r->role, RAFT_CANDIDATE);
    cr_assert_eq(r->term, term + 1);
    for (unsigned i = 2; i <= n / 2u + 1u; i++) {
        raft_msg g = {.kind = RAFT_VOTE_RESP, .from = (uint16_t)i, .to = 1, .term = term + 1, .ok = 1};
        cr_assert_eq(raft_step(r, &g), 0);
    }
    cr_assert_eq(r->role, RAFT_LEADER);
}

static void ack(raft *r, unsigned from, uint32_t index, int ok)
{
    raft_msg a = {
        .kind = RAFT_APPEND_RESP, .from = (uint16_t)from, .to = 1, .term = r->term, .index = index, .ok = (uint8_t)ok};
    cr_assert_eq(raft_step(r, &a), 0);
}

static void drain(raft *r)
{
    raft_msg m;
    while (raft_take(r, &m) == 0)
        ;
}

/* Raft 5.4.2: an entry of an earlier term is not committed by counting
 * replicas, only through an entry of the leader's own term. */
Test(raft, old_term_entry_commits_only_through_own)
{
    raft r;
    raft_cfg c = cfg_of(1, 3);
    cr_assert_eq(raft_init(&r, &c, 0, 0, 16), 0);
    /* node 1 holds X of term 1 from leader 2, uncommitted */
    raft_msg x = {.kind = RAFT_APPEND,
                  .from = 2,
                  .term = 1,
                  .index = 0,
                  .log_term = 0,
                  .commit = 0,
                  .n = 1,
                  .e = {.term = 1, .len = 1, .data = {'X'}}};
    cr_assert_eq(raft_step(&r, &x), 0);
    cr_assert_eq(r.last_index, 1);
    cr_assert_eq(r.commit, 0);
    /* 2 is gone; 1 wins term 2 with 3's vote and appends its no-op at 2 */
    for (unsigned t = 0; t < 2000 && r.role == RAFT_FOLLOWER; t += TICK)
        raft_tick(&r, TICK);
    raft_msg g = {.kind = RAFT_PREVOTE_RESP, .from = 3, .to = 1, .term = 2, .ok = 1};
    cr_assert_eq(raft_step(&r, &g), 0);
    g.kind = RAFT_VOTE_RESP;
    cr_assert_eq(raft_step(&r, &g), 0);
    cr_assert_eq(r.role, RAFT_LEADER);
    cr_assert_eq(r.last_index, 2);
    /* 3 holds X (a majority with 1) but not the no-op: X is not committed */
    ack(&r, 3, 1, 1);
    cr_assert_eq(r.commit, 0, "an old term's entry is not committed by counting");
    /* the no-op reaches 3: both commit */
    ack(&r, 3, 2, 1);
    cr_assert_eq(r.commit, 2);
}

/* A leader sends at most RAFT_CATCHUP_MAX unicast catch-ups per
 * heartbeat, round robin over the lagging followers. */
Test(raft, catchups_limited_per_heartbeat)
{
    raft r;
    hand_leader(&r, 9, 17); /* voted in by 2..5; 6..9 silent */
    for (unsigned i = 2; i <= 5; i++)
        ack(&r, i, 1, 1);
    cr_assert_eq(r.commit, 1);
    cr_assert_eq(raft_propose(&r, "X", 1), 0);
    for (unsigned i = 2; i <= 5; i++)
        ack(&r, i, 2, 1);
    cr_assert_eq(r.commit, 2);
    cr_assert_eq(raft_propose(&r, "Y", 1), 0);
    drain(&r);
    /* 6..9 lack X and Y: four lagging followers */
    uint8_t seen[10] = {0};
    for (unsigned hb = 0; hb < 2; hb++) {
        raft_tick(&r, 100);
        raft_msg m;
        unsigned unicast = 0, bcast = 0;
        while (raft_take(&r, &m) == 0) {
            if (m.to == 0) {
                bcast++;
                continue;
            }
            unicast++;
            seen[m.to] = 1;
            cr_assert_eq(m.kind, RAFT_APPEND);
            cr_assert_geq(m.to, 6, "only lagging followers get catch-ups");
            cr_assert_eq(m.index, 1, "the entry after what they hold");
            cr_assert_eq(m.n, 1);
        }
        cr_assert_eq(bcast, 1, "one broadcast heartbeat");
        cr_assert_eq(unicast, RAFT_CATCHUP_MAX, "%u catch-ups, not more (%u at %u)", RAFT_CATCHUP_MAX, unicast, hb);
    }
    for (unsigned i = 6; i <= 9; i++)
        cr_assert(seen[i], "follower %u served within two heartbeats", i);
}

/* The outbox is bounded: overflow is dropped and counted. */
Test(raft, outbox_bounded)
{
    raft r;
    raft_cfg c = cfg_of(2, 3);
    cr_assert_eq(raft_init(&r, &c, 0, 0, 18), 0);
    raft_msg hb = {.kind = RAFT_APPEND, .from = 1, .term = 1, .index = 0, .log_term = 0, .commit = 0, .n = 0};
    for (unsigned i = 0; i < RAFT_OUTBOX_CAP + 5; i++)
        cr_assert_eq(raft_step(&r, &hb), 0);
    cr_assert_eq(r.stats.outbox_dropped, 5);
    unsigned n = 0;
    raft_msg m;
    while (raft_take(&r, &m) == 0) {
        cr_assert_eq(m.kind, RAFT_APPEND_RESP);
        n++;
    }
    cr_assert_eq(n, RAFT_OUTBOX_CAP);
}

/* A follower far behind (its next entry compacted away) gets a SNAPSHOT
 * and continues from it. */
Test(raft, far_behind_follower_gets_snapshot)
{
    net *w = net_new(3, 11);
    unsigned l = elect(w);
    unsigned f = l % 3 + 1;
    isolate(w, f, 1);
    char text[8];
    for (unsigned i = 0; i < 2 * RAFT_LOG_CAP; i++) {
        text[0] = 'a';
        text[1] = (char)('A' + i % 26);
        text[2] = 0;
        commit_one(w, l, text);
    }
    cr_assert_gt(w->r[l].snap_index, w->r[f].last_index + 1, "the leader compacted what f lacks");
    isolate(w, f, 0);
    run(w, 3000);
    raft *r = &w->r[f];
    cr_assert_geq(w->r[l].stats.snapshots_sent, 1);
    cr_assert_eq(r->stats.snapshots_applied, 1);
    cr_assert_eq(r->commit, w->r[l].commit);
    cr_assert_eq(r->last_index, w->r[l].last_index);
    /* what the service sees: the snapshot's state once, then the entries after it */
    raft_entry e;
    uint32_t idx, first = 0, n = 0, last = 0;
    while (raft_take_committed(r, &e, &idx) == 0) {
        if (n == 0) {
            first = idx;
            cr_assert_eq(e.len, 2, "the snapshot's state: the entry compacted last");
        }
        cr_assert_gt(idx, last);
        last = idx;
        n++;
    }
    cr_assert_eq(first, r->snap_index, "old entries are not replayed: it starts with the snapshot's state");
    cr_assert_eq(last, w->r[l].commit);
    cr_assert(entry_is(r, last, text), "the newest entry arrived");
    check(w);
    cr_assert_eq(w->violations, 0);
    net_free(w);
}

/* Duplicated and reordered messages are harmless: the same elections
 * and commits, every invariant kept. */
Test(raft, duplicates_and_reordering_are_harmless)
{
    net *w = net_new(5, 12);
    w->dup_pct = 50;
    unsigned proposals = 0;
    for (unsigned step = 0; step < 3000; step++) {
        tick_all(w, TICK);
        /* deliver in reverse order, the newest first */
        while (w->nq > 0)
            (void)deliver_at(w, w->nq - 1);
        unsigned l = leader_of(w);
        if (l && step % 20 == 0 && raft_propose(&w->r[l], "d", 1) == 0)
            proposals++;
        collect_all(w);
        check(w);
    }
    cr_assert_eq(w->violations, 0);
    cr_assert_gt(proposals, 50);
    unsigned l = leader_of(w);
    cr_assert(l);
    cr_assert_gt(w->r[l].commit, 50, "progress despite duplicates");
    /* one stale APPEND delivered twice and out of order changes nothing */
    raft *r = &w->r[l % 5 + 1];
    raft_msg old = {.kind = RAFT_APPEND,
                    .from = (uint16_t)l,
                    .term = w->r[l].term,
                    .index = 1,
                    .log_term = 1,
                    .commit = 1,
                    .n = 1,
                    .e = {.term = 1, .len = 1, .data = {'z'}}};
    uint32_t last = r->last_index, commit = r->commit;
    cr_assert_eq(raft_step(r, &old), 0);
    cr_assert_eq(raft_step(r, &old), 0);
    cr_assert_eq(r->last_index, last, "an old APPEND does not truncate");
    cr_assert_eq(r->commit, commit);
    net_free(w);
}

/* Malformed messages are refused with EK3_EINVAL and counted; nothing changes. */
Test(raft, malformed_refused_and_counted)
{
    net *w = net_new(3, 13);
    unsigned l = elect(w);
    raft *r = &w->r[l % 3 + 1];
    raft before = *r;
    raft_msg good = {.kind = RAFT_APPEND,
                     .from = (uint16_t)l,
                     .to = 0,
                     .term = r->term,
                     .index = r->last_index,
                     .log_term = r->last_term,
                     .commit = r->commit};
    raft_msg bad[13];
    for (unsigned i = 0; i < 13; i++)
        bad[i] = good;
    bad[0].kind = RAFT_KIND_COUNT;
    bad[1].kind = 200;
    bad[2].from = 0;
    bad[3].from = 4;
    bad[4].n = 2, bad[4].e.term = r->term, bad[4].e.len = 1;
    bad[5].n = 1, bad[5].e.term = r->term, bad[5].e.len = RAFT_ENTRY_MAX + 1;
    bad[6].to = 9;
    bad[7].term = 0;
    bad[8].from = r->cfg.me;
    bad[9].kind = RAFT_SNAPSHOT, bad[9].n = 0;
    bad[10].ok = 7;
    bad[11].n = 1, bad[11].e.term = r->term + 1, bad[11].e.len = 1; /* an entry newer than its leader */
    bad[12].kind = RAFT_SNAPSHOT, bad[12].n = 1, bad[12].index = UINT32_MAX, bad[12].log_term = 1; /* would wrap */
    for (unsigned i = 0; i < 13; i++)
        cr_assert_eq(raft_step(r, &bad[i]), EK3_EINVAL, "bad message %u refused", i);
    cr_assert_eq(raft_step(r, NULL), EK3_EINVAL);
    cr_assert_eq(r->stats.malformed, 14);
    cr_assert_eq(r->term, before.term);
    cr_assert_eq(r->role, before.role);
    cr_assert_eq(r->commit, before.commit);
    cr_assert_eq(r->last_index, before.last_index);
    cr_assert_eq(r->out_count, before.out_count, "no answer to a malformed message");
    cr_assert_eq(raft_step(r, &good), 0, "the good one is taken");
    /* a message addressed to another node is not for this one */
    raft_msg other = good;
    other.to = (uint16_t)l;
    cr_assert_eq(raft_step(r, &other), 0);
    net_free(w);
}

Test(raft, init_and_propose_errors)
{
    raft r;
    raft_cfg c = cfg_of(1, 3);
    cr_assert_eq(raft_init(NULL, &c, 0, 0, 1), EK3_EINVAL);
    cr_assert_eq(raft_init(&r, NULL, 0, 0, 1), EK3_EINVAL);
    raft_cfg bad[6] = {c, c, c, c, c, c};
    bad[0].me = 0;
    bad[1].me = 4;
    bad[2].n_nodes = RAFT_MAX_NODES + 1;
    bad[3].heartbeat_ms = 0;
    bad[4].election_min_ms = 100;
    bad[5].election_max_ms = 500;
    for (unsigned i = 0; i < 6; i++)
        cr_assert_eq(raft_init(&r, &bad[i], 0, 0, 1), EK3_EINVAL, "bad cfg %u", i);
    cr_assert_eq(raft_init(&r, &c, 3, 4, 1), EK3_EINVAL, "vote for a slot beyond n_nodes");
    cr_assert_eq(raft_init(&r, &c, 0, 0, 1), 0);
    cr_assert_eq(raft_propose(&r, "x", 1), EK3_EPERM, "a follower does not propose");
    cr_assert_eq(raft_leader(&r), 0);
    uint8_t big[RAFT_ENTRY_MAX + 1] = {0};
    cr_assert_eq(raft_propose(&r, big, sizeof big), EK3_ERANGE);
    cr_assert_eq(raft_propose(&r, big, 0), EK3_EINVAL);
    raft_msg m;
    cr_assert_eq(raft_take(&r, &m), EK3_EAGAIN);
    uint32_t t;
    cr_assert_eq(raft_entry_at(&r, 0, &t, NULL), EK3_ENOENT);
    cr_assert_eq(raft_entry_at(&r, 1, &t, NULL), EK3_ENOENT);

    net *w = net_new(3, 14);
    unsigned l = elect(w);
    w->cut[l][1] = w->cut[l][2] = w->cut[l][3] = 1; /* nothing leaves the leader */
    cr_assert_eq(raft_propose(&w->r[l], "one", 3), 0);
    cr_assert_eq(raft_propose(&w->r[l], "two", 3), EK3_EBUSY, "one entry in flight");
    memset(w->cut, 0, sizeof w->cut);
    run(w, 500);
    cr_assert_eq(raft_propose(&w->r[l], "two", 3), 0, "after the first committed");
    net_free(w);
}

/* A rebooted node lost its log and may have acknowledged a committed
 * entry: it stays quiet (no vote) until it caught up, so a candidate
 * lacking that entry cannot win with its vote. */
Test(raft, rebooted_node_quiet_until_caught_up)
{
    net *w = net_new(3, 19);
    unsigned a = elect(w);
    unsigned b = a % 3 + 1, c = b % 3 + 1;
    isolate(w, c, 1);
    uint32_t e = commit_one(w, a, "E"); /* held by a and b only */
    cr_assert_lt(w->r[c].last_index, e);
    net_boot(w, b, 77); /* b reboots: term and vote kept, log lost */
    cr_assert_eq(w->r[b].last_index, 0);
    w->up[a] = 0; /* a is gone */
    isolate(w, c, 0);
    run(w, 5000);
    cr_assert_eq(leader_of(w), 0, "c, lacking E, is not elected");
    cr_assert_gt(w->r[b].stats.votes_quiet, 0, "b refused while quiet");
    w->up[a] = 1; /* a comes back (as it was) */
    run(w, 5000);
    unsigned l = leader_of(w);
    cr_assert_eq(l, a, "the node holding E leads");
    for (unsigned i = 1; i <= 3; i++)
        cr_assert(entry_is(&w->r[i], e, "E"), "node %u holds E (a %u b %u c %u; last %u commit %u snap %u, e %u)", i, a,
                  b, c, w->r[i].last_index, w->r[i].commit, w->r[i].snap_index, e);
    cr_assert_eq(w->r[b].quiet_ms, 0, "b caught up: quiet no more");
    net_free(w);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Failover: the leader of 5 dies; a new one is elected within the lease
 * plus two randomized timeouts (heartbeat 100 ms, election 500..1000 ms).
 * p50 / p99 over 200 seeds go to docs/swarm.md. */
Test(raft, failover_time)
{
    enum { SEEDS = 200 };
    uint32_t ms[SEEDS];
    for (unsigned s = 0; s < SEEDS; s++) {
        net *w = net_new(5, 1000 + s);
        unsigned l = elect(w);
        run(w, 10 * (s % 10)); /* a different heartbeat phase */
        w->up[l] = 0;
        uint32_t t = 0;
        while (!leader_of(w) && t < 10000) {
            run(w, TICK);
            t += TICK;
        }
        cr_assert(leader_of(w), "seed %u: a new leader", s);
        ms[s] = t;
        net_free(w);
    }
    qsort(ms, SEEDS, sizeof ms[0], cmp_u32);
    cr_log_info("failover (5 nodes, election 500..1000 ms): p50 %u ms, p99 %u ms, max %u ms", ms[SEEDS / 2],
                ms[SEEDS * 99 / 100], ms[SEEDS - 1]);
    cr_assert_geq(ms[0], 500 - 100, "not before the lease ends");
    cr_assert_leq(ms[SEEDS - 1], 2500, "within the lease and two timeouts");
}

/* ---- the seeded soak ------------------------------------------------ */

/* One seed: n nodes, steps of TICK ms with random drops, duplicates,
 * delays, partitions into two groups, crashes and reboots; every
 * invariant checked after every step. Returns the violations. */
static unsigned soak_seed(uint64_t seed, unsigned n, unsigned steps, int reboots, uint32_t quiet_ms, uint32_t *commits,
                          unsigned *lost)
{
    net *w = net_new(n, seed);
    w->quiet_ms = quiet_ms;
    w->amnesia = reboots && quiet_ms < UINT32_MAX; /* a bounded quiet may lose an entry: counted, not failed */
    w->drop_pct = 5;
    w->dup_pct = 2;
    char text[8] = "s";
    for (unsigned step = 0; step < steps; step++) {
        unsigned ev = rnd(w, 1000);
        if (ev < 4) { /* a partition into two groups */
            memset(w->cut, 0, sizeof w->cut);
            unsigned mask = rnd(w, 1u << n);
            for (unsigned i = 1; i <= n; i++)
                for (unsigned j = 1; j <= n; j++)
                    w->cut[i][j] = (uint8_t)(((mask >> (i - 1)) & 1u) != ((mask >> (j - 1)) & 1u));
        } else if (ev < 10) { /* healed */
            memset(w->cut, 0, sizeof w->cut);
        } else if (ev < 12 && reboots) { /* a reboot: term and vote from flash, the log lost */
            unsigned i = 1 + rnd(w, n);
            net_boot(w, i, ek3_rng_splitmix64(&w->rng));
        } else if (ev < 14) { /* a crash (back by a reboot) or a pause (back as it was) */
            unsigned i = 1 + rnd(w, n);
            w->up[i] = 0;
            w->reboot_on_return[i] = (uint8_t)reboots;
        } else if (ev < 20) {
            for (unsigned i = 1; i <= n; i++)
                if (!w->up[i] && w->reboot_on_return[i])
                    net_boot(w, i, ek3_rng_splitmix64(&w->rng));
                else
                    w->up[i] = 1;
        }
        tick_all(w, TICK);
        unsigned l = leader_of(w);
        if (l && rnd(w, 10) == 0) {
            text[1] = (char)('a' + rnd(w, 26));
            text[2] = (char)('a' + rnd(w, 26));
            (void)raft_propose(&w->r[l], text, 3);
            collect(w, l);
        }
        /* deliver a random shuffle of what is on the wire; some wait a step */
        unsigned k = w->nq;
        for (unsigned i = 0; i < k && w->nq > 0; i++) {
            unsigned at = rnd(w, w->nq);
            if (rnd(w, 10) == 0)
                continue;
            (void)deliver_at(w, at);
        }
        for (unsigned i = 1; i <= n; i++)
            if (w->up[i])
                take_committed(w, i);
        check(w);
        if (w->violations)
            break;
    }
    unsigned v = w->violations;
    *commits = w->max_committed;
    *lost = w->lost;
    net_free(w);
    return v;
}

static void soak(unsigned seeds, unsigned n, unsigned steps, int reboots, uint32_t quiet_ms)
{
    uint64_t total = 0, lost_total = 0;
    unsigned seeds_lost = 0;
    for (unsigned s = 1; s <= seeds; s++) {
        uint32_t commits = 0;
        unsigned lost = 0;
        unsigned v = soak_seed(s, n, steps, reboots, quiet_ms, &commits, &lost);
        cr_assert_eq(v, 0, "seed %u: %u violations", s, v);
        total += commits;
        lost_total += lost;
        seeds_lost += lost > 0;
    }
    if (reboots)
        cr_log_info("soak with reboots (quiet %u ms): %llu committed entries lost to volatile logs, in %u of %u seeds",
                    quiet_ms, (unsigned long long)lost_total, seeds_lost, seeds);
    cr_assert_gt(total, (uint64_t)seeds * 10u, "the rack made progress (%llu commits)", (unsigned long long)total);
    cr_log_info("soak: %u seeds x %u nodes x %u steps: %llu commits", seeds, n, steps, (unsigned long long)total);
}

Test(raft, soak_drops_partitions, .timeout = 120)
{
    soak(200, 5, 3000, 0, 0);
}

/* Reboots lose the log; a rebooted node quiet until it caught up loses
 * nothing (every invariant checked), and with the default bounded quiet
 * the losses are counted (docs/swarm.md) while election safety and log
 * matching still hold. */
Test(raft, soak_with_reboots, .timeout = 120)
{
    soak(200, 5, 3000, 1, UINT32_MAX);
    soak(100, 5, 3000, 1, 0);
}

Test(raft_nightly, soak_long, .timeout = 3600)
{
    if (!getenv("EK3_RAFT_NIGHTLY"))
        cr_skip_test("the long soak runs with EK3_RAFT_NIGHTLY=1 (ctest -L nightly)");
    soak(2000, 5, 10000, 0, 0);
    soak(1000, 7, 10000, 1, UINT32_MAX);
    soak(1000, 7, 10000, 1, 0);
}
