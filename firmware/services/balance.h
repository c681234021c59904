/*
 * balance.h - SWARM_COORD's control laws (issue 14; prefix bal_): active
 * current sharing on top of droop, thermal-aware, and thin provisioning.
 * Pure functions over the caller's state: no heap, no stdio, no globals,
 * floats, as the Cortex-M4F computes. The swarm service calls them; the
 * drivers apply their outputs through drv_trim and drv_park, which bound
 * them again whatever is asked (LLCC_TRIM_MAX_V, the 200-920 V range).
 *
 * Sharing. Droop alone (I_k = (V_set + e_k + trim_k - V_bus) / R_droop,
 * e_k the module's voltage-sense error) leaves the currents apart by
 * e_k / R_droop. The leader broadcasts (SYNC, 10 Hz) the mean current
 * and temperature of the running modules (bal_mean); each module turns
 * them into its own reference (bal_ref) and integrates (bal_step)
 *     trim += k_i R_droop (i_ref - i_own) dt - trim dt / leak_tau,
 * rate-limited to rate_vps and bounded to +-trim_max_v. Without a
 * reference for longer than ref_timeout_s the trim decays to zero with
 * decay_tau_s (rate-limited too, never a step): plain droop comes back,
 * and power never depends on the swarm.
 *
 * Stability (discrete time, dt = 0.1 s). Take N modules on one bus with
 * a load current I_L: V_bus = mean_k(V_set + e_k + trim_k) - R I_L / N,
 * so I_k - I_L/N = x_k / R with x_k = (e_k + trim_k) - mean(e + trim).
 * A trim moves its own current by (1 - 1/N) / R and the others' by
 * -1/(N R): the deviations decouple, and with i_ref = I_L / N one step is
 *     x_k[n+1] = x_k[n] - g (1 - 1/N) x_k[n - d],  g = k_i dt,
 * where d is the age of the measurements (0 or 1 period). For d = 0 it
 * converges for 0 < g < 2 and without overshoot for g <= 1; for d = 1
 * the characteristic z^2 - z + g = 0 has |z|^2 = g, stable for g < 1 and
 * real, non-oscillating roots for g <= 1/4. k_i = 2 /s gives g = 0.2:
 * both cases stable with a margin of 5 on the gain, no oscillation, a
 * time constant of about 0.5 s, 23 % down to 3 % in about 1 s (10 steps;
 * 1.3 s in an 84-module rig run, from 13 % at the first SYNC),
 * and far below the drivers' current loop (tens of ms) so the plant is
 * settled at each step. The mean trim does not move (the deviations sum
 * to zero); the leak (leak_tau_s = 60 s) holds it near zero anyway
 * against references that do not sum to zero (a bias at its bound, a
 * stale mean), at the cost of a residual of g_leak / (k_i + g_leak),
 * under 2 % of the uncorrected deviation. The rate limit (4 V/s) and the
 * bound only slow or stop the loop: they never destabilise it.
 *
 * A module at its limit (bal_peer.limited: its current ceiling, a
 * power command, derating or its drive at its end holds it under what
 * its droop asks) is out
 * of the means and does not integrate: its current is the limit's, and
 * a reference it cannot follow would wind its trim to the bound and the
 * others' the other way, moving the bus.
 *
 * Thermal bias: i_ref = i_mean - k_t (t_own - t_mean), the bias bounded
 * to +-bias_max_a; symmetric, so that it sums to zero over the rack and
 * the hotter modules carry less while the cooler ones carry the rest.
 *
 * Provisioning (the leader; decisions as a bitmap of parked slots, bit
 * slot - 1 of 128). Capacity per module cap = min(p_module_w, i_module_a
 * x V_bus). Demand D needs run(D) = ceil(D / (cap target_share)) + 1
 * modules (the + 1 is the N-1 headroom), at least min_running.
 * - wake: when D > (running - 1) cap wake_share, i.e. before the
 *   running ones less one reach wake_share (90 %) of their limit, the
 *   parked with the fewest hours are woken until running = run(D);
 * - park: only when D < park_below x the online capacity and D <
 *   (running - 2) cap park_share, the running with the most hours are
 *   parked down to run(D). After a wake to run(D) the park condition is
 *   false ((run(D) - 2) cap park_share < D park_share / target_share <
 *   D), after a park the wake condition is false ((run(D) - 1) cap
 *   wake_share >= D wake_share / target_share > D): the band between
 *   park_share and wake_share is the hysteresis;
 * - rotate: when a running module has rotate_min more operating minutes
 *   than a parked one, the two swap (one pair per decision).
 * A parked module wakes itself, without a leader, when its bus reading
 * sags below V_set - R_droop wake_share i_module_a: LLC_CONTROL's rule,
 * in the control period it happens (llc_control.h LLCC_WAKE_SHARE): the
 * running ones are then near their current limit.
 */
#ifndef BALANCE_H
#define BALANCE_H

#include <stdint.h>

#define BAL_SLOTS 128u /* slots 1..128, the bitmaps' 16 bytes */
/* A peer counts toward the means when heard within this: five THERMAL
 * periods (10 Hz), so one or two lost frames do not drop it. */
#define BAL_WINDOW_NS 500000000LL

typedef struct bal_cfg {
    float r_droop;       /* V/A, the drivers' droop slope (llcc_cfg.r_droop) */
    float k_i;           /* 1/s, integral gain of the trim: g = k_i dt per step */
    float rate_vps;      /* V/s, the trim's largest rate (integration and decay) */
    float trim_max_v;    /* V, the trim's bound (at most LLCC_TRIM_MAX_V) */
    float leak_tau_s;    /* s, the trim's slow leak toward zero (0: none) */
    float ref_timeout_s; /* s without a reference before the trim decays */
    float decay_tau_s;   /* s, the decay's time constant without a reference */
    float k_t;           /* A/K, reference less per kelvin above the mean */
    float bias_max_a;    /* A, bound of the thermal bias either way */
    float p_module_w;    /* W, a module's power rating */
    float i_module_a;    /* A, a module's current rating */
    float v_nominal_v;   /* V, bus voltage when no peer reports one */
    float target_share;  /* load share of each running module that run(D) aims at */
    float wake_share;    /* share of the running modules' (less one) capacity that wakes */
    float park_share;    /* share of the running modules' (less two) capacity under which to park */
    float park_below;    /* share of the online capacity under which parking is allowed */
    unsigned min_running;/* never fewer running (when as many are online) */
    uint32_t rotate_min; /* operating minutes apart before a running and a parked swap */
} bal_cfg;

/* One module's balancing state (in the swarm service's context). */
typedef struct bal_module {
    float trim;      /* V, the trim to apply (drv_trim) */
    float no_ref_s;  /* s since the last reference */
} bal_module;

/* What the leader knows of one peer (from its THERMAL share and
 * heartbeat). slot 0 marks an unused entry. */
typedef struct bal_peer {
    uint8_t slot;      /* 1..128 */
    uint8_t parked;    /* reports standby by parking */
    uint8_t faulted;   /* reports a fault */
    uint8_t idle;      /* not parked, not faulted, not regulating (standby, soft start): left out of
                        * the means, as it gives no share to balance to */
    uint8_t limited;   /* running at its limit (MSG_THERMAL_F_LIMITED): its current is the limit's, not
                        * the droop's; left out of the means, which the others balance to */
    int64_t heard_ns;  /* when last heard (the caller's clock) */
    float i_a;         /* output current, A */
    float v_v;         /* output (bus) voltage, V */
    float t_c;         /* temperature, C */
    uint32_t run_min;  /* operating minutes */
} bal_peer;

/* Defaults for the EK3 rack (every number explained in balance.c). */
void bal_default_cfg(bal_cfg *c);

/* A module with no trim and no reference yet (no_ref_s past the timeout:
 * a fresh module does not wait to decay what it does not have). */
void bal_init(bal_module *m, const bal_cfg *c);

/* One step of the module's secondary control, every dt_s (s, > 0; the
 * SYNC period, 0.1 s). have_ref: a leader's reference i_ref_a (A) came
 * since the last step; i_own_a: the module's own current (A). With a
 * reference the trim integrates toward it; without one it is held for
 * ref_timeout_s, then decays to 0 with decay_tau_s. Every change is at
 * most rate_vps dt, the trim stays within +-trim_max_v. A NaN current
 * counts as no reference; a dt that is not > 0 changes nothing. A
 * parked module steps with have_ref 0 (it carries no current: its trim
 * decays instead of climbing). Returns the trim (V), for drv_trim. */
float bal_step(bal_module *m, const bal_cfg *c, int have_ref, float i_ref_a, float i_own_a, float dt_s);

/* The module's reference (A): the leader's mean current i_mean_a, less
 * k_t per kelvin the module's t_own_c is above the mean t_mean_c (more
 * when below), the bias within +-bias_max_a, the result not below 0. A
 * NaN temperature gives no bias. */
float bal_ref(const bal_cfg *c, float i_mean_a, float t_mean_c, float t_own_c);

/* The leader's means over the peers p[0..n) heard within BAL_WINDOW_NS
 * of now_ns, running (not parked, not faulted, slot 1..128): *i_mean (A),
 * *t_mean (C), *counted. 0, EK3_EINVAL for a NULL pointer, EK3_EAGAIN
 * when no peer counts (*counted = 0, the means 0). */
int bal_mean(const bal_peer *p, unsigned n, int64_t now_ns, float *i_mean, float *t_mean, unsigned *counted);

/* The temperature (C) the leader sends as the mean for the thermal bias:
 * t_mean itself while every counted peer of p[0..n) (bal_mean's) is
 * within bias_max_a / k_t of it; else the t at which the bounded biases
 * clamp(k_t (t_k - t), +-bias_max_a) of the counted peers sum to zero
 * (bisection between their coldest and hottest: their sum falls with
 * t), so that the references still sum to the mean times their number
 * and the trims do not drift together (a module 10 K or more hotter
 * than the mean had its bias at the bound and the others not: the
 * trims wound up together at +-1 V/s against the leak's 1/60 s, the bus
 * 6 V above its droop point after 10 minutes; EK-TECH-010 2.3, the
 * swarm's balancing, docs/swarm.md). t_mean when k_t or bias_max_a is
 * not > 0, or no peer counts. */
float bal_t_ref(const bal_cfg *c, const bal_peer *p, unsigned n, int64_t now_ns, float t_mean);

/* The leader's provisioning decision: which of the online peers p[0..n)
 * (the caller passes those heard within the window; a faulted one is
 * never counted nor parked) to park for demand_w (W), from parked_in
 * (the committed decision) to parked_out (bit slot - 1; only slots of
 * online peers set). Returns the number running after the decision, or
 * EK3_EINVAL (NULL), EK3_ERANGE (demand not finite or negative, n above
 * 128, a slot 0 or above 128, a slot twice). */
int bal_provision(const bal_cfg *c, const bal_peer *p, unsigned n, float demand_w, const uint8_t parked_in[16],
                  uint8_t parked_out[16]);

#endif /* BALANCE_H */
