/* test_busplan.c - the rack's traffic plan against hand-checked rows. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "busplan.h"
#include "can_id.h"
#include "ek3_err.h"

static const bplan_row *row(const bplan *p, const char *name)
{
    for (unsigned i = 0; i < p->nrows; i++)
        if (!strcmp(p->rows[i].name, name))
            return &p->rows[i];
    cr_assert_fail("no row %s", name);
    return NULL;
}

Test(busplan, heartbeat_row_by_hand)
{
    bplan p;
    cr_assert_eq(bplan_compute(&p, 84, 1000000, 5000000), EK3_OK);
    const bplan_row *hb = row(&p, "HEARTBEAT");
    /* 16 bytes FD EFF: (41 + 128) stuffed to 211, CRC17 field 28, footer 9,
     * intermission 3 = 251 bits; 44 + 12 of them at 1 Mbit/s, 195 at 5 Mbit/s */
    cr_assert_eq(hb->bits, 251u);
    cr_assert_eq(hb->arb_bits, 56u);
    cr_assert_eq(hb->data_bits, 195u);
    cr_assert_eq(hb->ns, 56000 + 39000);
    cr_assert_float_eq(hb->rate_hz, 84.0, 1e-9);
    cr_assert_float_eq(hb->load, 84 * 95e-6, 1e-12);
    const bplan_row *pc = row(&p, "POWER_CMD");
    cr_assert_eq(pc->frame_len, 24, "12-byte payload + 12-byte auth trailer");
    cr_assert_eq(pc->prio, CID_PRIO_HIGH);
    cr_assert_eq(row(&p, "FAULT_ALERT")->prio, CID_PRIO_CRITICAL);
    /* a heartbeat with a 32-byte decision: 4 frames of 10 entry bytes, 3 more a heartbeat */
    const bplan_row *el = row(&p, "ELECTION");
    cr_assert_float_eq(el->decision_hz, 30.0, 1e-9);
    cr_assert_float_eq(el->rate_hz, 84 * 10.0 + 30.0, 1e-9);
    cr_assert_float_eq(hb->decision_hz, 0.0, 1e-12);
}

Test(busplan, total_is_the_sum_and_scales_with_modules)
{
    bplan a, b;
    bplan_compute(&a, 84, 1000000, 5000000);
    bplan_compute(&b, 168, 1000000, 5000000);
    double sum = 0, fps = 0;
    for (unsigned i = 0; i < a.nrows; i++) {
        sum += a.rows[i].load;
        fps += a.rows[i].rate_hz;
    }
    cr_assert_float_eq(a.load, sum, 1e-12);
    cr_assert_float_eq(a.fps, fps, 1e-9);
    cr_assert_gt(b.load, 1.9 * a.load - 0.01);
    cr_assert_lt(b.load, 2.0 * a.load);
    cr_assert_eq(a.worst_ns, row(&a, "FW_UPDATE")->ns, "the 64-byte frame is the longest");
    cr_assert_lt(a.load, 0.5, "the seed's rack fits the bus with room to spare");
}

Test(busplan, slower_data_phase_costs_more)
{
    bplan fast, slow;
    bplan_compute(&fast, 84, 1000000, 5000000);
    bplan_compute(&slow, 84, 1000000, 2000000);
    cr_assert_gt(slow.load, fast.load);
    cr_assert_eq(bplan_compute(&slow, 0, 1000000, 2000000), EK3_ERANGE);
    cr_assert_eq(bplan_compute(&slow, 511, 1000000, 2000000), EK3_ERANGE);
    cr_assert_eq(bplan_compute(&slow, 84, 0, 2000000), EK3_ERANGE);
}
