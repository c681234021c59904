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
#include "rig.h"

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

Test(busplan_rig, a_rack_run_sends_what_the_plan_says)
{
    static rig g;
    rig_opts o;
    const unsigned n = 6;
    rig_default_opts(&o, n, 3, 12000);
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    rig_deliver_fn = g.bus.deliver;
    g.bus.deliver = count_deliver;
    const double settle_s = 2.5, window_s = 4.0; /* settled: the swarm has elected its leader */
    count_from_ns = (int64_t)(settle_s * 1e9);
    for (long q = 0; q < (long)((settle_s + window_s) / (RIG_PERIOD_NS * 1e-9) + 0.5); q++)
        rig_quantum(&g);
    rig_free(&g);
    bplan p;
    cr_assert_eq(bplan_compute(&p, n, 1000000, 5000000), EK3_OK);
    unsigned held = 0;
    for (unsigned i = 0; i < p.nrows; i++) {
        const bplan_row *r = &p.rows[i];
        double fps = counted[r->type] / window_s;
        if (r->sent == BPLAN_SENT) { /* the plan's rate, within 5 % */
            cr_assert(fabs(fps - r->rate_hz) <= 0.05 * r->rate_hz, "%s: plan %.2f/s, a run sends %.2f/s", r->name,
                      r->rate_hz, fps);
            held++;
        } else if (r->sent == BPLAN_EVENT) { /* no events here; never above the worst case */
            cr_assert_leq(fps, r->rate_hz, "%s: %.2f/s above the plan's worst case %.2f/s", r->name, fps, r->rate_hz);
        } else { /* the plan says it is not sent: a run must not send it */
            cr_assert_eq(counted[r->type], 0, "%s is marked 'not sent by this firmware yet' but a run sends %.2f/s",
                         r->name, fps);
        }
    }
    cr_assert_geq(held, 1u, "at least one planned rate is measured");
}
