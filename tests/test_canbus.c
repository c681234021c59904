/* test_canbus.c - the rack bus: arbitration order, time on the wire and
 * bus load from the protocol layer's bit counts, ISO 11898-1 fault
 * confinement through bus-off and back, babbling and cut-off nodes. */
#include <criterion/criterion.h>
#include <string.h>

#include "can_id.h"
#include "canbus.h"
#include "ek3_err.h"

typedef struct got {
    unsigned n;
    uint32_t id[4096];
    unsigned from[4096], to[4096];
    int64_t t[4096];
} got;

static void on_frame(void *ctx, unsigned to, unsigned from, const cfd_frame *f, int64_t t)
{
    got *g = ctx;
    if (g->n < 4096) {
        g->id[g->n] = f->id;
        g->from[g->n] = from;
        g->to[g->n] = to;
        g->t[g->n] = t;
        g->n++;
    }
}

static cfd_frame fd_frame(uint32_t id, unsigned len)
{
    cfd_frame f;
    memset(&f, 0, sizeof f);
    f.id = id;
    f.flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS;
    f.len = (uint8_t)len;
    return f;
}

Test(canbus, lowest_identifier_wins_and_frames_take_their_bit_time)
{
    cbus b;
    cr_assert_eq(cbus_init(&b, 6, 1000000, 5000000, 1), EK3_OK);
    static got g;
    g.n = 0;
    b.deliver = on_frame;
    b.ctx = &g;
    /* Five nodes queue at t = 0, identifiers in no order; node 5 listens. */
    static const uint32_t ids[5] = {0x0A00020, 0x0200010, 0x1C00003, 0x0200008, 0x0600001};
    static const unsigned lens[5] = {16, 12, 64, 20, 0};
    for (unsigned k = 0; k < 5; k++) {
        cfd_frame f = fd_frame(ids[k], lens[k]);
        cr_assert_eq(cbus_send(&b, k, &f, 0), EK3_OK);
    }
    cbus_run(&b, 1000000);
    /* Node 5 sees them in identifier order, each ending at the sum of the
     * durations before it. */
    uint32_t last = 0;
    int64_t t = 0;
    unsigned seen = 0;
    for (unsigned i = 0; i < g.n; i++) {
        if (g.to[i] != 5)
            continue;
        cr_assert_gt(g.id[i], last, "arbitration: %x after %x", g.id[i], last);
        last = g.id[i];
        cfd_frame f = fd_frame(g.id[i], lens[g.from[i]]);
        t += cfd_frame_ns(&f, 1000000, 5000000);
        cr_assert_eq(g.t[i], t, "frame %x ends at %lld ns, want %lld", g.id[i], (long long)g.t[i], (long long)t);
        seen++;
    }
    cr_assert_eq(seen, 5);
    cr_assert_eq(b.busy_ns, t);
    cbus_free(&b);
}

Test(canbus, bus_load_is_time_on_the_wire_over_time)
{
    cbus b;
    cbus_init(&b, 3, 1000000, 5000000, 2);
    int64_t busy = 0;
    /* 1000 heartbeats of 16 bytes, one every 100 us, for 100 ms. */
    for (int k = 0; k < 1000; k++) {
        cid_fields cf = {CID_PRIO_MEDIUM, CID_TYPE_HEARTBEAT, 1 + (unsigned)(k % 2), CID_NODE_BROADCAST};
        uint32_t id;
        cr_assert_eq(cid_encode(&cf, &id), EK3_OK);
        cfd_frame f = fd_frame(id, 16);
        cr_assert_eq(cbus_send(&b, (unsigned)(k % 2), &f, k * 100000LL), EK3_OK);
        busy += cfd_frame_ns(&f, 1000000, 5000000);
        cbus_run(&b, (k + 1) * 100000LL);
    }
    cr_assert_eq(b.busy_ns, busy);
    double want = (double)busy / 100e6;
    cr_assert(cbus_load(&b) > want * 0.999 && cbus_load(&b) < want * 1.001, "load %.5f, want %.5f", cbus_load(&b),
              want);
    cbus_free(&b);
}

Test(canbus, an_error_burst_drives_a_node_to_bus_off_and_back)
{
    cbus b;
    cbus_init(&b, 3, 1000000, 5000000, 3);
    b.restart_ms = 50;
    static got g;
    g.n = 0;
    b.deliver = on_frame;
    b.ctx = &g;
    cbus_node *n1 = &b.node[1];
    cr_assert_eq(cbus_fault_corrupt(&b, 1, 40), EK3_OK);
    cfd_frame f = fd_frame(0x0400100, 8);
    cr_assert_eq(cbus_send(&b, 1, &f, 0), EK3_OK);
    /* Each corrupted attempt: TEC + 8. 16 errors make it error passive. */
    int64_t t = 0;
    while (n1->tx_errors < 16) {
        t += 10000;
        cbus_run(&b, t);
    }
    cr_assert_eq(n1->tec, 128);
    cr_assert_eq(n1->state, CBUS_ERROR_PASSIVE);
    cr_assert_eq(b.node[0].rec, 16, "each receiver counted every error");
    while (n1->state != CBUS_BUS_OFF) {
        t += 10000;
        cbus_run(&b, t);
    }
    cr_assert_eq(n1->tx_errors, 32, "32 errors: TEC 256 > 255");
    cr_assert_eq(n1->bus_offs, 1);
    cr_assert_eq(cbus_send(&b, 1, &f, t), EK3_EBUSY, "a bus-off node sends nothing");
    cr_assert_eq(g.n, 0);
    /* restart-ms later, and 128 x 11 recessive bits after that, it is back. */
    cr_assert_eq(cbus_fault_corrupt(&b, 1, 0), EK3_OK);
    int64_t off = n1->busoff_ns;
    cbus_run(&b, off + 49000000);
    cr_assert_eq(n1->state, CBUS_BUS_OFF);
    cbus_run(&b, off + 51000000);
    cr_assert_eq(n1->state, CBUS_ERROR_ACTIVE);
    cr_assert_eq(n1->tec, 0);
    cr_assert_eq(cbus_send(&b, 1, &f, b.t_ns), EK3_OK);
    cbus_run(&b, b.t_ns + 10000);
    cr_assert_eq(g.n, 0, "not before 128 x 11 bit times (1.408 ms)");
    cbus_run(&b, b.t_ns + 2000000);
    cr_assert_eq(g.n, 2, "then delivered to both other nodes");
    cbus_free(&b);
}

Test(canbus, a_babbling_node_starves_the_bus_and_a_cut_node_hears_nothing)
{
    cbus b;
    cbus_init(&b, 4, 1000000, 5000000, 4);
    static got g;
    g.n = 0;
    b.deliver = on_frame;
    b.ctx = &g;
    cfd_frame bf = fd_frame(0x0000001, 64);
    cr_assert_eq(cbus_fault_babble(&b, 3, &bf), EK3_OK);
    cfd_frame f = fd_frame(0x0600100, 8);
    cbus_send(&b, 0, &f, 0);
    cbus_run(&b, 10000000);
    for (unsigned i = 0; i < g.n; i++)
        cr_assert_eq(g.from[i], 3, "only the babbler gets the bus");
    cr_assert(cbus_load(&b) > 0.99, "load %.3f", cbus_load(&b));
    cr_assert_gt(b.node[0].qn, 0, "node 0's frame still waits");
    cr_assert_eq(cbus_fault_babble(&b, 3, NULL), EK3_OK);
    cr_assert_eq(cbus_fault_cut(&b, 2, 1), EK3_OK);
    g.n = 0;
    cbus_run(&b, 20000000);
    cr_assert_eq(g.n, 2, "delivered to 1 and 3, not to the cut node 2");
    for (unsigned i = 0; i < g.n; i++)
        cr_assert_neq(g.to[i], 2);
    cr_assert_eq(cbus_send(&b, 2, &f, b.t_ns), EK3_EBUSY);
    cbus_free(&b);
}

Test(canbus, a_node_alone_reaches_error_passive_not_bus_off)
{
    cbus b;
    cbus_init(&b, 2, 1000000, 5000000, 5);
    cr_assert_eq(cbus_fault_cut(&b, 1, 1), EK3_OK); /* nobody to acknowledge */
    cfd_frame f = fd_frame(0x0600100, 8);
    cbus_send(&b, 0, &f, 0);
    cbus_run(&b, 20000000);
    cr_assert_eq(b.node[0].state, CBUS_ERROR_PASSIVE);
    cr_assert_eq(b.node[0].tec, 128, "ACK errors stop counting at error passive");
    cbus_free(&b);
}

Test(canbus, same_seed_same_trace)
{
    static got g1, g2;
    got *gs[2] = {&g1, &g2};
    for (int r = 0; r < 2; r++) {
        cbus b;
        cbus_init(&b, 8, 1000000, 5000000, 99);
        cr_assert_eq(cbus_fault_rates(&b, 0.05, 0.02), EK3_OK);
        gs[r]->n = 0;
        b.deliver = on_frame;
        b.ctx = gs[r];
        for (int k = 0; k < 400; k++) {
            cfd_frame f = fd_frame(0x0400000u + (uint32_t)(k * 7919 % 4096), (unsigned)(k % 5) * 4);
            cbus_send(&b, (unsigned)(k % 8), &f, k * 20000LL);
            if (k % 8 == 7)
                cbus_run(&b, (k + 1) * 20000LL);
        }
        cbus_run(&b, 100000000);
        cbus_free(&b);
    }
    cr_assert_gt(g1.n, 1000);
    cr_assert_eq(g1.n, g2.n);
    cr_assert_eq(memcmp(g1.id, g2.id, g1.n * sizeof g1.id[0]), 0);
    cr_assert_eq(memcmp(g1.t, g2.t, g1.n * sizeof g1.t[0]), 0);
}
