/* test_busplan_rig.c - the bus plan's rates against the traffic a rack
 * run puts on the rack bus: for every message the firmware and station
 * send at a steady rate, the frames per second a run counts are the plan's, within
 * a tolerance; the others are marked as not sent yet, and none of them
 * appears on the bus. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "busplan.h"
#include "can_id.h"
#include "ek3_err.h"
#include "raft.h"
#include "rig.h"
#include "swarm.h"

static cbus_deliver_fn rig_deliver_fn; /* the rig's own delivery, called after counting */
static double counted[CID_TYPE_MAX + 1];
static int64_t count_from_ns;

static void count_deliver(void *ctx, unsigned to, unsigned from, const cfd_frame *f, int64_t t_ns)
{
    cid_fields cf;
    /* once per frame: as the first other node hears it (as rig.c logs it) */
    if (to == (from == 0 ? 1u : 0u) && t_ns >= count_from_ns && (f->flags & CFD_FLAG_EFF) &&
        cid_decode(f->id, &cf) == EK3_OK)
        counted[cf.type]++;
    rig_deliver_fn(ctx, to, from, f, t_ns);
}

/* Run n modules drawing load_w for settle_s, then count window_s; hold
 * every row against the plan (tol: the relative tolerance of a SENT row's
 * rate), and the bus time the window used against the SENT rows' load. */
/* Whether the rack's leader's newest log entry is a decision (its
 * heartbeats then carry it in fragments: bplan_row.decision_hz). */
static int newest_is_decision(const rig *g)
{
    const void *st = g->obs.leader ? swo_state(g, g->obs.leader) : NULL;
    cr_assert_not_null(st, "the swarm has a leader");
    const raft *r = swm_raft(st);
    const raft_entry *e = NULL;
    cr_assert_eq(raft_entry_at(r, r->last_index, NULL, &e), EK3_OK);
    return e && e->len == MSG_ENTRY_MAX;
}

static void run_against_plan(unsigned n, double load_w, double settle_s, double window_s, double tol)
{
    static rig g;
    rig_opts o;
    rig_default_opts(&o, n, 3, load_w);
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    rig_deliver_fn = g.bus.deliver;
    g.bus.deliver = count_deliver;
    memset(counted, 0, sizeof counted);
    count_from_ns = (int64_t)(settle_s * 1e9);
    long q_settle = (long)(settle_s / (RIG_PERIOD_NS * 1e-9) + 0.5),
         q_window = (long)(window_s / (RIG_PERIOD_NS * 1e-9) + 0.5);
    for (long q = 0; q < q_settle; q++)
        rig_quantum(&g);
    int decision = newest_is_decision(&g);
    int64_t busy0 = g.bus.busy_ns, t0 = g.t_ns;
    for (long q = 0; q < q_window; q++)
        rig_quantum(&g);
    double load = (double)(g.bus.busy_ns - busy0) / (double)(g.t_ns - t0);
    cr_assert_eq(g.obs.v_safety + g.obs.v_matching + g.obs.v_lost, 0u, "%s", g.obs.first);
    cr_assert_eq(newest_is_decision(&g), decision, "no new decision during the window");
    rig_free(&g);
    bplan p;
    cr_assert_eq(bplan_compute(&p, n, 1000000, 5000000), EK3_OK);
    unsigned held = 0;
    double plan_load = 0;
    for (unsigned i = 0; i < p.nrows; i++) {
        const bplan_row *r = &p.rows[i];
        double fps = counted[r->type] / window_s;
        double want = r->rate_hz - (decision ? 0.0 : r->decision_hz); /* the plan's, for the log we have */
        cr_log_info("%u modules: %-11s plan %8.2f/s, measured %8.2f/s", n, r->name, want, fps);
        if (r->sent == BPLAN_SENT) { /* the plan's rate, within tol */
            cr_assert(fabs(fps - want) <= tol * want, "%u modules%s: %s: plan %.2f/s, a run sends %.2f/s", n,
                      decision ? " (a decision newest)" : "", r->name, want, fps);
            held++;
            plan_load += r->load * want / r->rate_hz;
        } else if (r->sent == BPLAN_EVENT) { /* no events here; never above the worst case */
            cr_assert_leq(fps, r->rate_hz, "%s: %.2f/s above the plan's worst case %.2f/s", r->name, fps, r->rate_hz);
        } else { /* the plan says it is not sent: a run must not send it */
            cr_assert_eq(counted[r->type], 0, "%s is marked 'not sent by this firmware yet' but a run sends %.2f/s",
                         r->name, fps);
        }
    }
    cr_assert_geq(held, 1u, "at least one planned rate is measured");
    /* the plan's frames are worst-case stuffed: the bus carries at most
     * their time and not much less (stuff bits are a few % of a frame) */
    cr_log_info("%u modules: bus load %.3f %% measured, %.3f %% planned (SENT rows)", n, 100 * load, 100 * plan_load);
    cr_assert(load <= plan_load * (1 + tol) && load >= plan_load * (1 - 3 * tol),
              "%u modules: the bus was busy %.3f %% of the window, the plan's sent rows %.3f %%", n, 100 * load,
              100 * plan_load);
}

Test(busplan_rig, a_rack_run_sends_what_the_plan_says)
{
    run_against_plan(6, 12000, 2.5, 4.0, 0.05);
}

/* A light load: the leader parks some, and its decision, the newest entry,
 * rides in every heartbeat (the plan's decision_hz). */
Test(busplan_rig, with_a_decision_in_the_log_heartbeats_carry_its_fragments)
{
    run_against_plan(6, 3000, 4.0, 3.0, 0.02);
}

/* The full rack (84 modules, 200 kW as `ek3 rack --modules 84`): the
 * swarm's traffic scales with the modules as the plan says. */
Test(busplan_rig, the_84_module_rack_sends_what_the_plan_says, .timeout = 240)
{
    run_against_plan(84, 200000, 2.5, 3.0, 0.05);
}
