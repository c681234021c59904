/* test_swarmobs.c - the swarm's checkers (swarmobs.h) can fail: on a
 * settled rack a module's Raft state is written to break one property at
 * a time (a second leader of the same term, a committed entry changed, a
 * new leader whose log ends before the committed index), and swo_step
 * counts it and says which modules; a crashed leader is one failover,
 * measured within the election timeouts' bounds. The writes go through
 * swo_state with const cast away (here only), between quanta, and are
 * undone before the firmware runs again. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ek3_err.h"
#include "fault.h"
#include "raft.h"
#include "rig.h"
#include "swarm.h"
#include "swarmobs.h"

#define N 4u

static rig g;

/* A rack of N modules after 2 s: the leader every module follows. */
static unsigned settle_n(unsigned n)
{
    rig_opts o;
    rig_default_opts(&o, n, 11, 500.0 * n);
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    for (long q = 0; q < 20000; q++)
        rig_quantum(&g);
    cr_assert_neq(g.obs.leader, 0, "a leader after 2 s");
    cr_assert_eq(g.obs.v_safety + g.obs.v_matching + g.obs.v_lost, 0u, "no breach in a healthy run: %s", g.obs.first);
    return g.obs.leader;
}

static unsigned settle(void)
{
    return settle_n(N);
}

static raft *raft_of(unsigned slot)
{
    const void *st = swo_state(&g, slot);
    cr_assert_not_null(st, "slot %u readable", slot);
    return (raft *)swm_raft(st);
}

static swo o; /* a copy of the rig's checker, stepped by hand */

Test(swarmobs, a_second_leader_of_the_same_term_is_a_safety_breach_naming_both)
{
    unsigned l = settle();
    unsigned f = l % N + 1;
    raft *r = raft_of(f);
    raft saved_role = *r;
    r->role = RAFT_LEADER;
    r->term = raft_of(l)->term;
    o = g.obs;
    unsigned found = swo_step(&o, &g);
    r->role = saved_role.role, r->term = saved_role.term;
    cr_assert_eq(found, 1u);
    cr_assert_eq(o.v_safety, 1u);
    cr_assert_eq(o.v_matching + o.v_lost, 0u);
    char both[64];
    snprintf(both, sizeof both, "modules %u and %u", l < f ? l : f, l < f ? f : l);
    cr_assert_not_null(strstr(o.first, both), "'%s' names %s", o.first, both);
    cr_assert_eq(o.first_ns, g.t_ns);
    swo_sum s;
    swo_summary(&o, g.t_ns, &s);
    cr_assert_eq(s.violations, 1u);
    /* undone: the rig's own checker saw nothing, and the next quantum is clean */
    rig_quantum(&g);
    cr_assert_eq(g.obs.v_safety, 0u);
    rig_free(&g);
}

Test(swarmobs, a_committed_entry_changed_in_one_module_is_a_matching_breach)
{
    settle();
    unsigned f = N; /* the last read: the others' entries are remembered first */
    raft *r = raft_of(f);
    uint32_t idx = r->commit, term;
    cr_assert_geq(idx, 1u, "something committed");
    const raft_entry *e;
    cr_assert_eq(raft_entry_at(r, idx, &term, &e), EK3_OK);
    cr_assert_not_null(e);
    raft_entry saved = *e;
    raft_entry *w = (raft_entry *)e;
    if (w->len == 0)
        w->len = 1; /* the leader's no-op: give it a byte */
    w->data[0] ^= 0x5A;
    swo_init(&o); /* checks every committed index from the start */
    unsigned found = swo_step(&o, &g);
    *w = saved;
    cr_assert_eq(found, 1u, "%s", o.first);
    cr_assert_eq(o.v_matching, 1u);
    cr_assert_eq(o.v_safety + o.v_lost, 0u);
    char who[64];
    snprintf(who, sizeof who, "module %u committed index %u", f, idx);
    cr_assert_not_null(strstr(o.first, who), "'%s' names %s", o.first, who);
    swo_init(&o);
    cr_assert_eq(swo_step(&o, &g), 0u, "restored: no breach");
    rig_free(&g);
}

Test(swarmobs, a_new_leader_without_the_committed_index_is_a_lost_decision)
{
    unsigned l = settle();
    raft *r = raft_of(l);
    cr_assert_geq(g.obs.max_commit, 1u);
    raft saved = *r;
    r->term++; /* a term the checker has not seen led yet */
    r->last_index = g.obs.max_commit - 1;
    o = g.obs;
    unsigned found = swo_step(&o, &g);
    r->term = saved.term, r->last_index = saved.last_index;
    cr_assert_eq(found, 1u, "%s", o.first);
    cr_assert_eq(o.v_lost, 1u);
    cr_assert_eq(o.v_safety + o.v_matching, 0u);
    char who[96];
    snprintf(who, sizeof who, "module %u leads term %u with a log that ends at %u, before the committed index %u", l,
             saved.term + 1, g.obs.max_commit - 1, g.obs.max_commit);
    cr_assert_str_eq(o.first, who);
    rig_free(&g);
}

#define M 5u /* five: a quorum of three without the restarted leader, which stays quiet */

Test(swarmobs, a_crashed_leader_is_one_failover_within_the_election_timeouts)
{
    unsigned l = settle_n(M);
    uint32_t term = g.obs.term;
    swo_sum s;
    swo_summary(&g.obs, g.t_ns, &s);
    cr_assert_eq(s.failovers, 0u);
    cr_assert(isnan(s.failover_p50_s));
    cr_assert_geq(s.first_leader_s, SWM_ELECTION_MIN_MS / 1000.0 - 0.1, "the first election after a timeout");
    cr_assert_lt(s.first_leader_s, 2.0);

    flt_spec f;
    char err[200] = "";
    cr_assert_eq(flt_parse("svc-crash:leader.7@0s", &f, err, sizeof err), EK3_OK, "%s", err);
    cr_assert_eq(flt_inject(&g, &f), EK3_OK);
    for (long q = 0; q < 15000; q++) /* 1.5 s */
        rig_quantum(&g);
    swo_summary(&g.obs, g.t_ns, &s);
    cr_assert_eq(s.failovers, 1u, "failovers %u, leader %u (was %u) term %u (was %u), leaderless %.3f s", s.failovers,
                 s.leader, l, s.term, term, s.leaderless_s);
    cr_assert_eq(s.violations, 0u, "%s", g.obs.first);
    cr_assert_neq(s.leader, 0);
    cr_assert_gt(s.term, term, "a new term");
    (void)l;
    /* the followers' timeouts run from the leader's last heartbeat (at most
     * 100 ms before the crash): from the lowest timeout less that, to the
     * highest slot's plus a pre-vote and a vote round */
    double lo = (SWM_ELECTION_MIN_MS - 100) / 1000.0;
    double hi = (SWM_ELECTION_MIN_MS + (M - 1) * SWM_ELECTION_STEP_MS + SWM_ELECTION_SPREAD_MS + 100) / 1000.0;
    cr_assert(s.failover_p50_s >= lo && s.failover_p50_s <= hi, "failover %.3f s within %.3f .. %.3f s",
              s.failover_p50_s, lo, hi);
    cr_assert_eq(s.failover_p99_s, s.failover_p50_s);
    cr_assert_eq(s.leaderless_s, 0.0);
    rig_free(&g);
}

/* A leader cut off the rack bus leads no one: the rack has lost it from
 * the cut (though it is still LEADER in its own term until it steps
 * down), and the failover ends when the others elect a leader. */
Test(swarmobs, a_leader_cut_off_the_bus_is_one_failover)
{
    unsigned l = settle_n(M);
    flt_spec f;
    char err[200] = "";
    cr_assert_eq(flt_parse("bus-cut:leader@0s", &f, err, sizeof err), EK3_OK, "%s", err);
    cr_assert_eq(flt_go(&g, &f, err, sizeof err), EK3_OK, "%s", err);
    cr_assert_eq(f.target, l);
    rig_quantum(&g);
    swo_sum s;
    swo_summary(&g.obs, g.t_ns, &s);
    cr_assert_eq(s.leader, 0, "the cut leader (module %u) is not the rack's leader", l);
    for (long q = 0; q < 15000; q++) /* 1.5 s */
        rig_quantum(&g);
    swo_summary(&g.obs, g.t_ns, &s);
    cr_assert_eq(s.failovers, 1u, "failovers %u, leader %u (was %u)", s.failovers, s.leader, l);
    cr_assert(s.leader != 0 && s.leader != l, "a new leader: %u (was %u)", s.leader, l);
    double lo = (SWM_ELECTION_MIN_MS - 100) / 1000.0;
    double hi = (SWM_ELECTION_MIN_MS + (M - 1) * SWM_ELECTION_STEP_MS + SWM_ELECTION_SPREAD_MS + 100) / 1000.0;
    cr_assert(s.failover_p50_s >= lo && s.failover_p50_s <= hi, "failover %.3f s within %.3f .. %.3f s",
              s.failover_p50_s, lo, hi);
    cr_assert_eq(s.violations, 0u, "%s", g.obs.first);
    rig_free(&g);
}
