/* test_swarm.c - SWARM_COORD: the modules of a rig's rack elect a leader
 * by themselves over the rack bus and keep one log; the leader's loss
 * elects another; forged and replayed frames are counted and change
 * nothing; term and vote survive a reboot; Raft messages travel as
 * fragments and join in any order. */
#include <criterion/criterion.h>
#include <string.h>

#include "can_id.h"
#include "board.h"
#include "ek3_err.h"
#include "host_crypto.h"
#include "rig.h"
#include "services.h"
#include "swarm.h"

static swm_state *st(rig *g, unsigned slot)
{
    return jz_state(&g->m[slot - 1].fw.k, SVC_SWARM);
}

static void view(rig *g, unsigned slot, swm_view *v)
{
    swm_view_of(st(g, slot), v);
}

/* Election safety, checked at every quantum: one leader per term, all
 * modules together (leader_of[term % 256]: the slot that led it). */
typedef struct watch {
    uint16_t leader_of[256];
    uint32_t term_of[256];
} watch;

static void check_one_leader(rig *g, watch *w)
{
    for (unsigned s = 1; s <= g->o.modules; s++) {
        swm_view v;
        view(g, s, &v);
        if (v.role != RAFT_LEADER)
            continue;
        unsigned i = v.term % 256;
        if (w->term_of[i] != v.term)
            w->term_of[i] = v.term, w->leader_of[i] = (uint16_t)s;
        cr_assert_eq(w->leader_of[i], s, "two leaders in term %u: %u and %u", v.term, w->leader_of[i], s);
    }
}

static void run(rig *g, watch *w, double seconds)
{
    long q = (long)(seconds / 100e-6 + 0.5);
    for (long k = 0; k < q; k++) {
        rig_quantum(g);
        check_one_leader(g, w);
    }
}

/* The one leader the modules in `alive` (bit slot) agree on, or 0. */
static unsigned agreed_leader(rig *g, uint32_t alive)
{
    unsigned leader = 0, leaders = 0;
    uint32_t term = 0;
    for (unsigned s = 1; s <= g->o.modules; s++) {
        if (!(alive >> s & 1))
            continue;
        swm_view v;
        view(g, s, &v);
        if (v.role == RAFT_LEADER)
            leaders++, leader = s, term = v.term;
    }
    if (leaders != 1)
        return 0;
    for (unsigned s = 1; s <= g->o.modules; s++) {
        swm_view v;
        view(g, s, &v);
        if ((alive >> s & 1) && (v.leader != leader || v.term != term))
            return 0;
    }
    return leader;
}

/* Log matching: every committed index that two modules keep has one term
 * and one digest. Returns the indexes compared. */
static unsigned check_logs_agree(rig *g, uint32_t alive)
{
    unsigned compared = 0;
    uint32_t commit = UINT32_MAX;
    for (unsigned s = 1; s <= g->o.modules; s++) {
        swm_view v;
        view(g, s, &v);
        if ((alive >> s & 1) && v.commit < commit)
            commit = v.commit;
    }
    for (uint32_t i = 1; i <= commit; i++) {
        int have = 0;
        uint32_t t0 = 0, d0 = 0;
        for (unsigned s = 1; s <= g->o.modules; s++) {
            uint32_t t, d;
            if (!(alive >> s & 1) || swm_log_term(st(g, s), i, &t, &d) != EK3_OK)
                continue;
            if (!have) {
                have = 1, t0 = t, d0 = d;
                continue;
            }
            cr_assert(t == t0 && d == d0, "index %u: module %u has term %u digest %08x, another %u %08x", i, s, t, d,
                      t0, d0);
            compared++;
        }
    }
    return compared;
}

static uint32_t all(unsigned n)
{
    return ((1u << n) - 1u) << 1;
}

/* A rack of n modules after 2 s: its leader, which every module follows. */
static unsigned settled(rig *g, watch *w, unsigned n)
{
    rig_opts o;
    rig_default_opts(&o, n, 11, 500.0 * n);
    cr_assert_eq(rig_init(g, &o), EK3_OK);
    run(g, w, 2.0);
    unsigned leader = agreed_leader(g, all(n));
    cr_assert_neq(leader, 0, "one leader that every module follows after 2 s");
    return leader;
}

Test(swarm, a_leader_is_elected_within_2s_and_stays)
{
    static rig g;
    static watch w;
    unsigned leader = settled(&g, &w, 6);
    swm_view lv;
    view(&g, leader, &lv);
    run(&g, &w, 2.0);
    swm_view lv2;
    view(&g, leader, &lv2);
    cr_assert_eq(agreed_leader(&g, all(6)), leader, "the leader stays");
    cr_assert_eq(lv2.term, lv.term, "no election while the leader is heard");
    cr_assert_geq(lv2.commit, 1u, "the new leader's entry is committed");
    cr_assert_gt(check_logs_agree(&g, all(6)), 0u);
    for (unsigned s = 1; s <= 6; s++) {
        swm_view v;
        view(&g, s, &v);
        cr_assert_eq(v.forged + v.replayed + v.stale + v.malformed, 0u, "module %u refused nothing", s);
        cr_assert_gt(v.frames_in, 0u);
        cr_assert_gt(v.frames_out, 0u);
    }
    rig_free(&g);
}

Test(swarm, losing_the_leader_elects_another_that_marks_it_failed)
{
    static rig g;
    static watch w;
    unsigned old = settled(&g, &w, 5);
    swm_view ov;
    view(&g, old, &ov);
    /* pulled: out of the plant and off the bus */
    cr_assert_eq(rack_remove(&g.plant, old - 1), EK3_OK);
    cr_assert_eq(cbus_fault_cut(&g.bus, old, 1), EK3_OK);
    uint32_t rest = all(5) & ~(1u << old);
    /* the election timeout of the highest slot, a pre-election and an election */
    run(&g, &w, (SWM_ELECTION_MIN_MS + 5 * SWM_ELECTION_STEP_MS + SWM_ELECTION_SPREAD_MS + 100) / 1000.0);
    unsigned leader = agreed_leader(&g, rest);
    cr_assert(leader != 0 && leader != old, "another leader (%u) within the election timeout", leader);
    swm_view v;
    view(&g, leader, &v);
    cr_assert_gt(v.term, ov.term);
    /* a second later its decision: the old leader is failed, in every log */
    run(&g, &w, (SWM_FAIL_MS + 500) / 1000.0);
    for (unsigned s = 1; s <= 5; s++) {
        if (!(rest >> s & 1))
            continue;
        const swm_state *ss = st(&g, s);
        cr_assert_neq(ss->decision_index, 0u, "module %u applied a decision", s);
        cr_assert(ss->dec.failed[(old - 1) / 8] >> ((old - 1) % 8) & 1, "module %u: slot %u failed", s, old);
        cr_assert_eq(ss->dec.failed[0] & ~(1u << (old - 1)), 0, "only the old leader failed");
    }
    cr_assert_gt(check_logs_agree(&g, rest), 0u);
    rig_free(&g);
}

/* Frames the bus delivers, the newest broadcast ELECTION kept (to replay it). */
static cbus_deliver_fn orig_deliver;
static cfd_frame last_election;
static int have_election;

static void tap(void *ctx, unsigned to, unsigned from, const cfd_frame *f, int64_t t_ns)
{
    cid_fields c;
    if (cid_decode(f->id, &c) == EK3_OK && c.type == CID_TYPE_ELECTION && c.dst == CID_NODE_BROADCAST)
        last_election = *f, have_election = 1;
    orig_deliver(ctx, to, from, f, t_ns);
}

static void sum_refused(rig *g, uint32_t *forged, uint32_t *replayed, uint32_t *stale)
{
    *forged = *replayed = *stale = 0;
    for (unsigned s = 1; s <= g->o.modules; s++) {
        swm_view v;
        view(g, s, &v);
        *forged += v.forged, *replayed += v.replayed, *stale += v.stale;
    }
}

Test(swarm, forged_and_replayed_frames_are_counted_and_change_nothing)
{
    static rig g;
    static watch w;
    unsigned leader = settled(&g, &w, 5);
    swm_view before;
    view(&g, leader, &before);

    /* forged: a VOTE request of a far higher term, signed with a key that is
     * not the group key (a module's own key) */
    unsigned liar = leader % 5 + 1;
    raft_msg m;
    memset(&m, 0, sizeof m);
    m.kind = RAFT_VOTE, m.from = (uint16_t)liar, m.term = before.term + 50, m.index = 1000, m.log_term = 1000;
    msg_election fr[SWM_FRAMES_MAX];
    cr_assert_eq(swm_frames_of(&m, fr), 1);
    cfd_frame f;
    cr_assert_eq(canh_frame(CID_TYPE_ELECTION, liar, CID_NODE_BROADCAST, &fr[0], &f), EK3_OK);
    auth_crypto cr = hostcrypto_auth();
    cr_assert_eq(auth_sign_with(&cr, st(&g, liar)->cfg.key, st(&g, liar)->tx.next + 10, &f), EK3_OK);
    cr_assert_eq(cbus_send(&g.bus, 0, &f, g.t_ns), EK3_OK);

    /* replayed: the leader's newest heartbeat again, byte for byte */
    orig_deliver = g.bus.deliver;
    g.bus.deliver = tap;
    run(&g, &w, 0.25);
    g.bus.deliver = orig_deliver;
    cr_assert(have_election);
    /* what `ek3 can decode --key RACKKEY` does with it: the same rule and key */
    cr_assert_eq(auth_rule(&last_election), AUTH_RULE_SIGNED);
    uint8_t rack_key[16], gk[16];
    fwi_rack_key(11, rack_key);
    cr_assert_eq(auth_derive_key(&cr, rack_key, auth_key_node(last_election.id), gk), EK3_OK);
    auth_rx fresh = {0, 0};
    cr_assert_eq(auth_verify(&cr, gk, &fresh, &last_election, NULL, NULL), EK3_OK, "signed with the group key");
    cr_assert_eq(cbus_send(&g.bus, 0, &last_election, g.t_ns), EK3_OK);
    run(&g, &w, 0.25);

    uint32_t forged, replayed, stale;
    sum_refused(&g, &forged, &replayed, &stale);
    cr_assert_eq(forged, 4u, "every module but the liar counted the forged frame (%u)", forged);
    cr_assert_geq(replayed + stale, 3u, "the followers counted the replay (%u + %u)", replayed, stale);
    swm_view after;
    view(&g, leader, &after);
    cr_assert_eq(agreed_leader(&g, all(5)), leader, "the same leader");
    cr_assert_eq(after.term, before.term, "and the same term: the forged vote moved nobody");
    rig_free(&g);
}

Test(swarm, term_and_vote_survive_a_reboot_and_a_torn_record)
{
    static rig g;
    static watch w;
    unsigned leader = settled(&g, &w, 5);
    unsigned f = leader % 5 + 1; /* a follower */
    uint32_t term = st(&g, f)->r.term;
    uint16_t vote = st(&g, f)->r.voted_for;
    cr_assert_gt(term, 0u);
    uint32_t forged0, replayed0, stale0;
    sum_refused(&g, &forged0, &replayed0, &stale0);

    cr_assert_eq(fwi_fault_reboot(&g.m[f - 1].fw), EK3_OK);
    cr_assert_eq(st(&g, f)->r.term, term, "the term came back from flash");
    cr_assert_eq(st(&g, f)->r.voted_for, vote, "and the vote");
    cr_assert_eq(st(&g, f)->r.commit, 0u, "the log did not (volatile: the leader sends it again)");

    /* a record torn by a power loss after the good ones: skipped */
    swm_state *s = st(&g, f);
    uint8_t *flash = g.m[f - 1].fw.h.fl.mem;
    uint32_t at = BRD_CFG_OFF + SWM_PAGE * 2048u + s->flash_next * 16u;
    memset(flash + at, 0x00, 8); /* half its double words programmed */
    cr_assert_eq(fwi_fault_reboot(&g.m[f - 1].fw), EK3_OK);
    cr_assert_eq(st(&g, f)->r.term, term, "the torn record is skipped: the last good one wins");
    cr_assert_eq(st(&g, f)->flash_next * 16u, at - BRD_CFG_OFF - SWM_PAGE * 2048u + 16u, "and never programmed again");

    run(&g, &w, 1.0);
    cr_assert_eq(agreed_leader(&g, all(5)), leader, "the rebooted module follows the same leader");
    swm_view v;
    view(&g, f, &v);
    cr_assert_geq(v.commit, 1u, "and caught up");
    uint32_t forged, replayed, stale;
    sum_refused(&g, &forged, &replayed, &stale);
    cr_assert_eq(replayed + stale, replayed0 + stale0,
                 "its counters continue above those it used before (reserved in flash): none refused");
    rig_free(&g);
}

/* A full page hands over to the other one, erased first: a power cut in
 * that erase, or in the first record's write after it, leaves the full
 * page whole, so the term, the vote and the reserved freshness counters
 * come back after the reboot (swarm.h, Flash). */
Test(swarm, a_power_cut_while_the_pages_take_turns_loses_no_term_or_vote)
{
    static rig g;
    static watch w;
    unsigned leader = settled(&g, &w, 5);
    unsigned f = leader % 5 + 1; /* a follower */
    for (unsigned cut = 1; cut <= 2; cut++) { /* the erase, then the record's first double word */
        swm_state *s = st(&g, f);
        fle *fl = &g.m[f - 1].fw.h.fl;
        uint32_t term = s->r.term, fv = s->fv_hi, errors = s->st.flash_errors;
        uint16_t vote = s->r.voted_for;
        uint8_t page = s->flash_page;
        cr_assert_gt(term, 0u);
        s->flash_next = 128; /* as if this page were full (2048 / 16 records) */
        s->fv_hi = s->tx.next - 1u; /* and its next signed frame reserves counters: a record */
        fl->cfg.cut_at = fl->st.ops + cut;
        for (int ms = 0; ms < 500 && !fle_is_off(fl); ms++)
            run(&g, &w, 0.001);
        cr_assert(fle_is_off(fl), "cut %u: the power went", cut);
        cr_assert_gt(s->st.flash_errors, errors, "cut %u: in SWARM_COORD's record, not another writer's", cut);
        fle_power_on(fl);
        fl->cfg.cut_at = 0;
        cr_assert_eq(fwi_fault_reboot(&g.m[f - 1].fw), EK3_OK);
        s = st(&g, f);
        cr_assert_eq(s->r.term, term, "cut %u: the term came back from the full page", cut);
        cr_assert_eq(s->r.voted_for, vote, "cut %u: and the vote", cut);
        cr_assert_geq(s->fv_hi, fv, "cut %u: and the counters reserved", cut);
        cr_assert_eq(s->flash_page, page, "cut %u: the newest record is on the page that was full", cut);
    }
    /* Without a cut the page turns: the next record is the other page's first, and it is read back. */
    swm_state *s = st(&g, f);
    uint8_t page = s->flash_page;
    s->flash_next = 128;
    s->fv_hi = s->tx.next - 1u;
    for (int ms = 0; ms < 500 && s->flash_page == page; ms++)
        run(&g, &w, 0.001);
    cr_assert_eq(s->flash_page, !page, "the page turned");
    cr_assert_eq(s->flash_next, 1u);
    uint32_t term = s->r.term, fv = s->fv_hi;
    uint16_t vote = s->r.voted_for;
    cr_assert_eq(fwi_fault_reboot(&g.m[f - 1].fw), EK3_OK);
    s = st(&g, f);
    cr_assert_eq(s->flash_page, !page, "the newest record is on the new page");
    cr_assert_eq(s->flash_next, 1u);
    cr_assert(s->r.term == term && s->r.voted_for == vote && s->fv_hi == fv, "term, vote and counters from it");
    run(&g, &w, 1.0);
    cr_assert_eq(agreed_leader(&g, all(5)), leader, "the rebooted module follows the same leader");
    rig_free(&g);
}

Test(swarm, a_message_with_an_entry_travels_in_fragments_that_join_in_any_order)
{
    raft_msg m, got;
    memset(&m, 0, sizeof m);
    m.kind = RAFT_APPEND, m.from = 3, m.to = 0, m.term = 7, m.index = 41, m.log_term = 6, m.commit = 40, m.n = 1;
    m.e.term = 7, m.e.len = RAFT_ENTRY_MAX;
    for (unsigned i = 0; i < RAFT_ENTRY_MAX; i++)
        m.e.data[i] = (uint8_t)(0xA0 + i);
    msg_election fr[SWM_FRAMES_MAX];
    int n = swm_frames_of(&m, fr);
    cr_assert_eq(n, 4, "32 bytes in pieces of %u", MSG_ELECT_CHUNK);
    for (int i = 0; i < n; i++) {
        cfd_frame f;
        cr_assert_eq(canh_frame(CID_TYPE_ELECTION, 3, CID_NODE_BROADCAST, &fr[i], &f), EK3_OK);
        cr_assert_leq(f.len + AUTH_TRAILER_LEN, SWM_FRAME_MAX, "a signed fragment fits one IPC message");
        cr_assert_geq(cfd_len_to_dlc(f.len + AUTH_TRAILER_LEN, 1), 0, "and is a CAN-FD length");
        msg_election back;
        uint8_t again[64];
        cr_assert_eq(msg_decode(CID_TYPE_ELECTION, f.data, f.len, &back, NULL), EK3_OK);
        cr_assert_eq(msg_encode(CID_TYPE_ELECTION, &back, again, sizeof again, NULL), (int)f.len);
        cr_assert_arr_eq(again, f.data, f.len, "the fragment decodes to itself");
    }
    static const int order[] = {2, 0, 3, 1};
    swm_reasm ra;
    memset(&ra, 0, sizeof ra);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(swm_reasm_add(&ra, 3, 0, &fr[order[i]], &got), i == 3 ? 1 : 0);
    cr_assert(got.kind == m.kind && got.from == 3 && got.to == 0 && got.term == 7 && got.index == 41 &&
              got.log_term == 6 && got.commit == 40 && got.n == 1 && got.e.term == 7 && got.e.len == m.e.len);
    cr_assert_arr_eq(got.e.data, m.e.data, RAFT_ENTRY_MAX);

    /* another message in the middle restarts the join; a piece twice is refused */
    cr_assert_eq(swm_reasm_add(&ra, 3, 0, &fr[0], &got), 0);
    msg_election other = fr[1];
    other.commit = 41;
    cr_assert_eq(swm_reasm_add(&ra, 3, 0, &other, &got), 0);
    cr_assert_eq(swm_reasm_add(&ra, 3, 0, &other, &got), EK3_EPARSE);
    /* malformed fragments */
    msg_election bad = fr[1];
    bad.frag = 5;
    cr_assert_eq(swm_reasm_add(&ra, 3, 0, &bad, &got), EK3_EPARSE, "not on a piece boundary");
    bad.frag = 40;
    cr_assert_eq(swm_reasm_add(&ra, 3, 0, &bad, &got), EK3_EPARSE, "past the entry");
    bad = fr[0];
    bad.n = 0;
    cr_assert_eq(swm_reasm_add(&ra, 3, 0, &bad, &got), EK3_EPARSE, "an entry in a message without one");

    /* no entry, or the leader's no-op: one frame */
    m.n = 0;
    cr_assert_eq(swm_frames_of(&m, fr), 1);
    cr_assert_eq(swm_reasm_add(&ra, 3, 0, &fr[0], &got), 1);
    cr_assert_eq(got.n, 0);
    m.n = 1, m.e.len = 0;
    cr_assert_eq(swm_frames_of(&m, fr), 1);
    cr_assert_eq(swm_reasm_add(&ra, 3, 0, &fr[0], &got), 1);
    cr_assert(got.n == 1 && got.e.len == 0);
    m.e.len = RAFT_ENTRY_MAX + 1;
    cr_assert_eq(swm_frames_of(&m, fr), EK3_EINVAL);
}

Test(swarm, a_decision_is_two_slot_sets_in_one_entry)
{
    swm_decision d, back;
    memset(&d, 0, sizeof d);
    d.version = SWM_DECISION_VERSION;
    d.parked[0] = 0x5, d.failed[15] = 0x80; /* slots 1 and 3 parked, 128 failed */
    raft_entry e;
    swm_decision_encode(&d, &e);
    cr_assert_eq(e.len, RAFT_ENTRY_MAX);
    cr_assert_eq(swm_decision_decode(&e, &back), EK3_OK);
    cr_assert_eq(memcmp(&d, &back, sizeof d), 0);
    e.len = 31;
    cr_assert_eq(swm_decision_decode(&e, &back), EK3_EPARSE);
}

