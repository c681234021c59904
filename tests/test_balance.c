/* test_balance.c - SWARM_COORD's control laws (balance.h), checked
 * analytically: a rack of N modules whose set points carry their own
 * voltage-sense errors, solved algebraically at each 10 Hz step
 * (V_bus = V_set + e_k + trim_k - R I_k, sum I_k = I_load), with the
 * leader's means (bal_mean), the modules' references (bal_ref) and steps
 * (bal_step) in the loop; and the leader's provisioning (bal_provision,
 * the wake share) at the rack's numbers: 84 modules, 30 and 200 kW. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "balance.h"
#include "ek3_err.h"
#include "llc_control.h"

#define NMAX 84
#define DT 0.1f /* the SYNC period */
#define VSET 800.0f

/* The algebraic rack: each module's set-point error e (V), its
 * current-sense gain and offset, its temperature, its balancing state. */
typedef struct rack {
    unsigned n;
    float e[NMAX], ig[NMAX], io[NMAX], t[NMAX];
    bal_module m[NMAX];
    float i[NMAX]; /* the true currents, A */
    float v_bus;
    float i_mean_sync, t_mean_sync; /* the last SYNC (one period old) */
    int have_sync;
} rack;

/* 84 set-point errors spread over +-1.9 V (0.76 A at 5 V/A: 23 % of
 * 3 A, droop's spread at 200 kW), current-sense errors of 0.1 % and
 * 4 mA, all deterministic. */
static void rack_init(rack *r, const bal_cfg *c, unsigned n)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    for (unsigned k = 0; k < n; k++) {
        r->e[k] = 1.9f * sinf(2.39996f * (float)k + 0.3f);
        r->ig[k] = 1.0f + 0.001f * cosf(1.7f * (float)k);
        r->io[k] = 0.004f * sinf(0.9f * (float)k + 1.0f);
        r->t[k] = 45.0f;
        bal_init(&r->m[k], c);
    }
}

/* The bus with the trims in force and a load of i_load A. */
static void rack_solve(rack *r, const bal_cfg *c, float i_load)
{
    double s = 0;
    for (unsigned k = 0; k < r->n; k++)
        s += VSET + r->e[k] + r->m[k].trim;
    r->v_bus = (float)(s / r->n - c->r_droop * i_load / r->n);
    for (unsigned k = 0; k < r->n; k++)
        r->i[k] = (VSET + r->e[k] + r->m[k].trim - r->v_bus) / c->r_droop;
}

static float rack_measured(const rack *r, unsigned k)
{
    return r->i[k] * r->ig[k] + r->io[k];
}

/* One 10 Hz step: the plant, the modules' steps against the last SYNC,
 * then the leader's next SYNC from what the modules report now. */
static void rack_step(rack *r, const bal_cfg *c, float i_load, int leader)
{
    rack_solve(r, c, i_load);
    for (unsigned k = 0; k < r->n; k++) {
        float ref = bal_ref(c, r->i_mean_sync, r->t_mean_sync, r->t[k]);
        bal_step(&r->m[k], c, leader && r->have_sync, ref, rack_measured(r, k), DT);
    }
    bal_peer p[NMAX];
    for (unsigned k = 0; k < r->n; k++)
        p[k] = (bal_peer){.slot = (uint8_t)(k + 1), .heard_ns = 0, .i_a = rack_measured(r, k), .v_v = r->v_bus,
                          .t_c = r->t[k]};
    unsigned counted;
    r->have_sync = bal_mean(p, r->n, 0, &r->i_mean_sync, &r->t_mean_sync, &counted) == EK3_OK;
    r->t_mean_sync = bal_t_ref(c, p, r->n, 0, r->t_mean_sync); /* as SWARM_COORD's leader sends it */
}

/* (max - min) / mean of the true currents. */
static float rack_spread(const rack *r)
{
    float lo = r->i[0], hi = r->i[0], s = 0;
    for (unsigned k = 0; k < r->n; k++) {
        lo = fminf(lo, r->i[k]);
        hi = fmaxf(hi, r->i[k]);
        s += r->i[k];
    }
    return (hi - lo) / (s / (float)r->n);
}

static float rack_mean_trim(const rack *r)
{
    float s = 0;
    for (unsigned k = 0; k < r->n; k++)
        s += r->m[k].trim;
    return s / (float)r->n;
}

#define I_LOAD_200KW (200000.0f / 790.0f)

Test(balance, sharing_converges_from_droops_spread_to_under_3_percent)
{
    static rack r;
    bal_cfg c;
    bal_default_cfg(&c);
    rack_init(&r, &c, 84);
    rack_solve(&r, &c, I_LOAD_200KW);
    float s0 = rack_spread(&r);
    cr_assert(s0 > 0.20f && s0 < 0.30f, "droop alone: about 23 %% (%.1f %%)", 100 * s0);
    float prev = s0;
    int rose = 0, under3 = -1;
    for (int n = 0; n < 100; n++) { /* 10 s */
        rack_step(&r, &c, I_LOAD_200KW, 1);
        float s = rack_spread(&r);
        if (under3 < 0 && s < 0.03f)
            under3 = n + 1;
        rose += s > prev + 1e-4f;
        prev = s;
        for (unsigned k = 0; k < r.n; k++)
            cr_assert_leq(fabsf(r.m[k].trim), c.trim_max_v, "bounded");
    }
    float s1 = rack_spread(&r);
    cr_assert_lt(s1, 0.03f, "balanced: %.2f %% (from %.1f %%)", 100 * s1, 100 * s0);
    cr_log_info("spread %.1f %% droop alone, %.2f %% balanced after 10 s, under 3 %% after %.1f s", 100 * s0,
                100 * s1, under3 * DT);
    cr_assert_eq(rose, 0, "no overshoot: the spread never grew (%d steps did)", rose);
    cr_assert_lt(fabsf(rack_mean_trim(&r)), 0.05f, "the bus did not move: mean trim %.3f V", rack_mean_trim(&r));
    /* The leader is lost: the trims hold, then decay, and droop's spread
     * comes back without a step. */
    float t0 = r.m[0].trim;
    for (int n = 0; n < 4; n++)
        rack_step(&r, &c, I_LOAD_200KW, 0);
    cr_assert_eq(r.m[0].trim, t0, "held for the timeout");
    for (int n = 0; n < 300; n++) { /* 30 s */
        float before[NMAX];
        for (unsigned k = 0; k < r.n; k++)
            before[k] = r.m[k].trim;
        rack_step(&r, &c, I_LOAD_200KW, 0);
        for (unsigned k = 0; k < r.n; k++) {
            cr_assert_leq(fabsf(r.m[k].trim - before[k]), c.rate_vps * DT + 1e-5f, "rate-limited");
            cr_assert_lt(r.i[k], 3.95f, "no module above its limit");
        }
        cr_assert_gt(r.v_bus, VSET - 20.0f, "the bus inside droop's band (%.1f V)", r.v_bus);
    }
    rack_solve(&r, &c, I_LOAD_200KW);
    cr_assert_float_eq(rack_spread(&r), s0, 0.005f, "back to droop's spread (%.1f %%)", 100 * rack_spread(&r));
}

Test(balance, the_bound_and_the_rate_hold_against_a_wild_reference)
{
    bal_cfg c;
    bal_default_cfg(&c);
    bal_module m;
    bal_init(&m, &c);
    const float refs[] = {1e6f, -1e6f, 1e30f, NAN, INFINITY, 50.0f, -50.0f};
    for (int n = 0; n < 700; n++) {
        float before = m.trim;
        float t = bal_step(&m, &c, 1, refs[(n / 100) % 7], 3.0f, DT);
        cr_assert_eq(t, m.trim);
        cr_assert(isfinite(t), "finite");
        cr_assert_leq(fabsf(t), c.trim_max_v, "bounded: %g", (double)t);
        cr_assert_leq(fabsf(t - before), c.rate_vps * DT + 1e-6f, "rate-limited: %g to %g", (double)before,
                      (double)t);
    }
    cr_assert_leq(c.trim_max_v, LLCC_TRIM_MAX_V, "never more than the drivers accept");
    /* Held at the bound, it does not wind up: the first step back moves. */
    bal_init(&m, &c);
    for (int n = 0; n < 1000; n++)
        bal_step(&m, &c, 1, 1e6f, 0.0f, DT);
    cr_assert_float_eq(m.trim, c.trim_max_v, 1e-6f);
    bal_step(&m, &c, 1, 0.0f, 1.0f, DT);
    cr_assert_lt(m.trim, c.trim_max_v, "comes off the bound at once");
    float t = m.trim;
    cr_assert_eq(bal_step(&m, &c, 1, 5.0f, 1.0f, 0.0f), t, "dt 0 changes nothing");
    cr_assert_eq(bal_step(&m, &c, 1, 5.0f, 1.0f, NAN), t, "nor a NaN dt");
}

Test(balance, without_a_reference_the_trim_decays_to_zero_never_in_a_step)
{
    bal_cfg c;
    bal_default_cfg(&c);
    for (int sign = -1; sign <= 1; sign += 2) {
        bal_module m;
        bal_init(&m, &c);
        for (int n = 0; n < 100; n++)
            bal_step(&m, &c, 1, sign * 1e3f, 0.0f, DT);
        cr_assert_float_eq(m.trim, sign * c.trim_max_v, 1e-6f);
        int held = 0;
        while (m.trim == sign * c.trim_max_v && held < 100) {
            bal_step(&m, &c, 0, 0.0f, 0.0f, DT);
            held++;
        }
        cr_assert_eq(held, (int)lroundf(c.ref_timeout_s / DT), "held for the timeout (%d steps)", held);
        float prev = m.trim;
        for (int n = 0; n < 300; n++) { /* 30 s */
            float t = bal_step(&m, &c, 0, 0.0f, 0.0f, DT);
            cr_assert_leq(fabsf(t), fabsf(prev), "toward zero");
            cr_assert_geq(t * (float)sign, 0.0f, "never past it");
            cr_assert_leq(fabsf(prev - t), c.rate_vps * DT + 1e-6f, "rate-limited");
            prev = t;
        }
        cr_assert_lt(fabsf(m.trim), 0.01f, "gone in 30 s (%g V)", (double)m.trim);
    }
    /* A NaN current is no reference either. */
    bal_module m = {.trim = 3.0f, .no_ref_s = 10.0f};
    bal_step(&m, &c, 1, NAN, 1.0f, DT);
    cr_assert_lt(m.trim, 3.0f, "decays");
}

Test(balance, a_hotter_module_carries_less)
{
    bal_cfg c;
    bal_default_cfg(&c);
    cr_assert_lt(bal_ref(&c, 3.0f, 45.0f, 50.0f), 3.0f, "hotter: less");
    cr_assert_gt(bal_ref(&c, 3.0f, 45.0f, 40.0f), 3.0f, "cooler: more");
    cr_assert_eq(bal_ref(&c, 3.0f, 45.0f, 45.0f), 3.0f, "at the mean: the mean");
    cr_assert_float_eq(bal_ref(&c, 3.0f, 45.0f, 145.0f), 3.0f - c.bias_max_a, 1e-6f, "bounded");
    cr_assert_float_eq(bal_ref(&c, 3.0f, 45.0f, -55.0f), 3.0f + c.bias_max_a, 1e-6f, "bounded");
    cr_assert_eq(bal_ref(&c, 3.0f, NAN, 50.0f), 3.0f, "no temperature: no bias");
    cr_assert_eq(bal_ref(&c, 0.05f, 45.0f, 90.0f), 0.0f, "never negative");
    /* In the rack: module 1 runs 10 K hotter and settles with k_t x 10 K
     * less than the others (within the residual of the sense errors). */
    static rack r;
    rack_init(&r, &c, 84);
    r.t[0] = 55.0f;
    for (int n = 0; n < 200; n++)
        rack_step(&r, &c, I_LOAD_200KW, 1);
    float others = 0;
    for (unsigned k = 1; k < r.n; k++)
        others += r.i[k] / (float)(r.n - 1);
    float less = others - r.i[0];
    cr_log_info("10 K hotter: %.3f A less than the others", less);
    cr_assert(less > 0.7f * 10 * c.k_t && less < 1.3f * 10 * c.k_t, "%.3f A less (%.3f expected)", less,
              10 * c.k_t);
    cr_assert_lt(fabsf(rack_mean_trim(&r)), 0.05f, "the bias sums to zero: the bus holds (%.3f V)",
                 rack_mean_trim(&r));
    /* 30 K hotter: its bias at the bound, the others' not. The leader's temperature makes the bounded biases sum to
     * zero, so ten minutes on the trims have not wound up together (they did: +6 V, the bus 6 V above its droop
     * point, as the 4-module rig showed with a seized fan in 50 C air) and the hot one carries its 0.2 A less. */
    rack_init(&r, &c, 4);
    r.t[2] = 75.0f;
    for (int n = 0; n < 6000; n++)
        rack_step(&r, &c, 13.6f, 1);
    cr_assert_lt(fabsf(rack_mean_trim(&r)), 0.1f, "the mean trim after 10 min: %.3f V", rack_mean_trim(&r));
    others = (r.i[0] + r.i[1] + r.i[3]) / 3;
    cr_assert(others - r.i[2] > 0.15f && others - r.i[2] < 0.3f, "%.3f A less", others - r.i[2]);
    bal_peer pk[4];
    for (unsigned k = 0; k < 4; k++)
        pk[k] = (bal_peer){.slot = (uint8_t)(k + 1), .i_a = 3.4f, .v_v = 733.0f, .t_c = r.t[k]};
    float t_ref = bal_t_ref(&c, pk, 4, 0, 52.5f), sum = 0;
    for (unsigned k = 0; k < 4; k++)
        sum += 3.4f - bal_ref(&c, 3.4f, t_ref, r.t[k]);
    cr_assert_lt(fabsf(sum), 1e-3f, "the biases sum to %.5f A at t_ref %.3f C", sum, t_ref);
    cr_assert_eq(bal_t_ref(&c, pk, 4, 0, 52.5f), t_ref, "the same every time");
    pk[2].t_c = 50.0f; /* every one within 10 K of the mean: the mean itself, bit for bit */
    cr_assert_eq(bal_t_ref(&c, pk, 4, 0, 46.25f), 46.25f);
}

Test(balance, the_leaders_mean_counts_running_fresh_peers)
{
    const int64_t now = 10000000000LL;
    bal_peer p[] = {
        {.slot = 1, .heard_ns = now - 1000, .i_a = 3.0f, .t_c = 40.0f},
        {.slot = 2, .heard_ns = now - 100000000, .i_a = 2.0f, .t_c = 50.0f},
        {.slot = 3, .parked = 1, .heard_ns = now, .i_a = 0.0f, .t_c = 30.0f},
        {.slot = 4, .faulted = 1, .heard_ns = now, .i_a = 9.0f, .t_c = 99.0f},
        {.slot = 5, .heard_ns = now - BAL_WINDOW_NS - 1, .i_a = 9.0f, .t_c = 99.0f},
        {.slot = 6, .heard_ns = now + 1, .i_a = 9.0f, .t_c = 99.0f},
        {.slot = 0, .heard_ns = now, .i_a = 9.0f, .t_c = 99.0f},
        {.slot = 7, .heard_ns = now, .i_a = NAN, .t_c = 99.0f},
        {.slot = 8, .limited = 1, .heard_ns = now, .i_a = 0.5f, .t_c = 99.0f}, /* at its limit: not the droop's */
    };
    float i, t;
    unsigned k;
    cr_assert_eq(bal_mean(p, 9, now, &i, &t, &k), EK3_OK);
    cr_assert_eq(k, 2u, "the two running and fresh (%u)", k);
    cr_assert_float_eq(i, 2.5f, 1e-6f);
    cr_assert_float_eq(t, 45.0f, 1e-6f);
    cr_assert_eq(bal_mean(p + 2, 7, now, &i, &t, &k), EK3_EAGAIN, "none counts");
    cr_assert_eq(k, 0u);
    cr_assert_eq(bal_mean(NULL, 1, now, &i, &t, &k), EK3_EINVAL);
    cr_assert_eq(bal_mean(p, 1, now, NULL, &t, &k), EK3_EINVAL);
}

/* 84 online peers at 800 V, every hour count given. */
static void peers(bal_peer *p, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        p[k] = (bal_peer){.slot = (uint8_t)(k + 1), .v_v = 800.0f, .run_min = 1000u + 7u * k};
}

static unsigned parked_count(const uint8_t m[16])
{
    unsigned n = 0;
    for (unsigned b = 0; b < 128; b++)
        n += (m[b / 8] >> (b % 8)) & 1u;
    return n;
}

static int is_parked(const uint8_t m[16], unsigned slot)
{
    return (m[(slot - 1) / 8] >> ((slot - 1) % 8)) & 1;
}

/* What the demand needs at the target share, plus one. */
static unsigned needed(const bal_cfg *c, float d)
{
    float cap = fminf(c->p_module_w, c->i_module_a * 800.0f);
    return (unsigned)ceilf(d / (cap * c->target_share)) + 1u;
}

Test(balance, at_30_kW_only_what_the_demand_needs_plus_one_run)
{
    bal_cfg c;
    bal_default_cfg(&c);
    bal_peer p[84];
    peers(p, 84);
    uint8_t in[16] = {0}, out[16];
    int run = bal_provision(&c, p, 84, 30000.0f, in, out);
    unsigned want = needed(&c, 30000.0f);
    cr_assert_eq(want, 14u, "30 kW at 75 %% of 3.2 kW: 13, plus one");
    cr_assert_eq(run, (int)want, "running %d, %u needed", run, want);
    cr_assert_eq(parked_count(out), 84u - want);
    /* The ones with the most hours are parked. */
    for (unsigned k = 0; k < 84; k++)
        cr_assert_eq(is_parked(out, k + 1), k >= want, "slot %u", k + 1);
    /* The decision is stable: again with it in force, nothing changes. */
    uint8_t again[16];
    cr_assert_eq(bal_provision(&c, p, 84, 30000.0f, out, again), run);
    cr_assert_eq(memcmp(out, again, 16), 0);
    /* A faulted module is neither counted nor parked. */
    p[0].faulted = 1;
    run = bal_provision(&c, p, 84, 30000.0f, in, out);
    cr_assert_eq(run, (int)want);
    cr_assert_eq(is_parked(out, 1), 0);
    cr_assert_eq(parked_count(out), 83u - want);
    /* Above park_below nothing is parked. */
    p[0].faulted = 0;
    cr_assert_eq(bal_provision(&c, p, 84, 150000.0f, in, out), 84);
    cr_assert_eq(parked_count(out), 0u);
}

Test(balance, a_step_to_200_kW_wakes_before_the_running_reach_their_limit)
{
    bal_cfg c;
    bal_default_cfg(&c);
    bal_peer p[84];
    peers(p, 84);
    uint8_t in[16] = {0}, out[16];
    int run = bal_provision(&c, p, 84, 30000.0f, in, out);
    memcpy(in, out, 16);
    /* 45 kW needs 20: the six parked with the fewest hours wake. */
    cr_assert_eq(bal_provision(&c, p, 84, 45000.0f, in, out), (int)needed(&c, 45000.0f));
    for (unsigned k = 0; k < 84; k++)
        cr_assert_eq(is_parked(out, k + 1), k >= needed(&c, 45000.0f), "slot %u", k + 1);
    /* The step: all come back in one decision. */
    cr_assert_eq(bal_provision(&c, p, 84, 200000.0f, in, out), 84);
    cr_assert_eq(parked_count(out), 0u);
    /* A ramp of 2 kW per decision: before each, the running less one
     * still carry the demand under their limit (N-1). */
    float cap = fminf(c.p_module_w, c.i_module_a * 800.0f);
    for (float d = 30000.0f; d <= 200000.0f; d += 2000.0f) {
        cr_assert_leq(d, (float)(run - 1) * cap, "at %.0f W, %d running: N-1 over its limit", (double)d, run);
        run = bal_provision(&c, p, 84, d, in, out);
        cr_assert_gt(run, 0);
        memcpy(in, out, 16);
    }
    /* Without a leader a parked module wakes on its own once the bus sags
     * to the running modules' 90 % of 4 A on droop (18 V): LLC_CONTROL's
     * rule (test_safety a_parked_module_wakes_itself_when_the_bus_sags),
     * the same share as the leader's wake. */
    cr_assert_eq(c.wake_share, LLCC_WAKE_SHARE);
    cr_assert_lt(c.r_droop * c.wake_share * c.i_module_a, 20.0f, "before the 4 A limit's 20 V");
}

Test(balance, rotation_evens_the_hours)
{
    bal_cfg c;
    bal_default_cfg(&c);
    bal_peer p[84];
    peers(p, 84);
    p[5].run_min += 3000; /* one module far ahead */
    uint8_t in[16] = {0}, out[16];
    /* 2000 h at 30 kW, a decision every 6 minutes. */
    for (int n = 0; n < 20000; n++) {
        int run = bal_provision(&c, p, 84, 30000.0f, in, out);
        cr_assert_eq(run, 14, "the count holds while rotating (%d)", run);
        memcpy(in, out, 16);
        for (unsigned k = 0; k < 84; k++)
            p[k].run_min += is_parked(in, k + 1) ? 0u : 6u;
    }
    uint32_t lo = p[0].run_min, hi = p[0].run_min;
    for (unsigned k = 0; k < 84; k++) {
        lo = p[k].run_min < lo ? p[k].run_min : lo;
        hi = p[k].run_min > hi ? p[k].run_min : hi;
    }
    cr_log_info("2000 h at 30 kW: operating minutes %u to %u", lo, hi);
    cr_assert_leq(hi - lo, c.rotate_min + 12u, "hours within the rotation's step: %u min apart", hi - lo);
    cr_assert_gt(lo, 1000u + 20000u * 6u * 14u / 84u / 2u, "every module ran its share (%u min)", lo);
}

Test(balance, no_chatter_around_the_thresholds)
{
    bal_cfg c;
    bal_default_cfg(&c);
    bal_peer p[84];
    peers(p, 84);
    uint8_t in[16] = {0}, out[16];
    /* Around the demand where run(D) steps from 13 to 14 (12 x 2.4 kW),
     * a demand wobbling by +-1 kW changes the count at most once. */
    float d0 = 12.0f * 3200.0f * c.target_share;
    int run = bal_provision(&c, p, 84, d0 - 1500.0f, in, out), changes = 0;
    memcpy(in, out, 16);
    for (int n = 0; n < 2000; n++) {
        int r = bal_provision(&c, p, 84, d0 + 1000.0f * sinf(0.37f * (float)n), in, out);
        changes += r != run;
        run = r;
        memcpy(in, out, 16);
    }
    cr_assert_leq(changes, 1, "%d changes", changes);
    /* And around the wake threshold of the 30 kW decision (13 x 2.88 kW):
     * woken once, nothing parked again on the way back down. */
    run = bal_provision(&c, p, 84, 30000.0f, in, out), changes = 0;
    memcpy(in, out, 16);
    float dw = (float)(run - 1) * 3200.0f * c.wake_share;
    for (int n = 0; n < 2000; n++) {
        int r = bal_provision(&c, p, 84, dw + 1000.0f * sinf(0.37f * (float)n), in, out);
        changes += r != run;
        run = r;
        memcpy(in, out, 16);
    }
    cr_assert_leq(changes, 1, "%d changes around the wake threshold", changes);
    /* A slow ramp up then down: the count only rises, then only falls. */
    int prev = bal_provision(&c, p, 84, 10000.0f, in, out), dir_changes = 0, last_dir = 0;
    memcpy(in, out, 16);
    for (int n = 0; n <= 400; n++) {
        float d = n <= 200 ? 10000.0f + 500.0f * (float)n : 110000.0f - 500.0f * (float)(n - 200);
        int r = bal_provision(&c, p, 84, d, in, out);
        memcpy(in, out, 16);
        int dir = r > prev ? 1 : r < prev ? -1 : 0;
        if (dir && last_dir && dir != last_dir)
            dir_changes++;
        if (dir)
            last_dir = dir;
        prev = r;
    }
    cr_assert_eq(dir_changes, 1, "up, then down (%d reversals)", dir_changes);
}

Test(balance, bad_input_is_refused)
{
    bal_cfg c;
    bal_default_cfg(&c);
    bal_peer p[4];
    peers(p, 4);
    uint8_t in[16] = {0}, out[16];
    cr_assert_eq(bal_provision(NULL, p, 4, 1000.0f, in, out), EK3_EINVAL);
    cr_assert_eq(bal_provision(&c, NULL, 4, 1000.0f, in, out), EK3_EINVAL);
    cr_assert_eq(bal_provision(&c, p, 4, 1000.0f, NULL, out), EK3_EINVAL);
    cr_assert_eq(bal_provision(&c, p, 4, NAN, in, out), EK3_ERANGE);
    cr_assert_eq(bal_provision(&c, p, 4, -1.0f, in, out), EK3_ERANGE);
    cr_assert_eq(bal_provision(&c, p, 129, 1000.0f, in, out), EK3_ERANGE);
    p[2].slot = 1;
    cr_assert_eq(bal_provision(&c, p, 4, 1000.0f, in, out), EK3_ERANGE, "a slot twice");
    p[2].slot = 0;
    cr_assert_eq(bal_provision(&c, p, 4, 1000.0f, in, out), EK3_ERANGE, "slot 0");
    p[2].slot = 129;
    cr_assert_eq(bal_provision(&c, p, 4, 1000.0f, in, out), EK3_ERANGE, "slot 129");
    p[2].slot = 3;
    cr_assert_eq(bal_provision(&c, p, 4, 0.0f, in, out), 2, "at least min_running");
    cr_assert_eq(bal_provision(&c, p, 0, 0.0f, in, out), 0, "nobody online: none running");
}
