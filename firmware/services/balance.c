/* balance.c - SWARM_COORD's sharing and provisioning laws (balance.h). */
#include "balance.h"

#include <math.h>
#include <stddef.h>

#include "ek3_err.h"
#include "llc_control.h"

void bal_default_cfg(bal_cfg *c)
{
    c->r_droop = 5.0f;          /* the drivers' droop: 5 V/A (llcc_default_cfg) */
    c->k_i = 2.0f;              /* g = k_i dt = 0.2 at 10 Hz: stable to g < 1 with a period's
                                 * delay, not oscillating to 0.25; a 0.5 s time constant, so
                                 * that a rack is balanced a second after its leader is elected */
    c->rate_vps = 4.0f;         /* the needed trims (a few volts) in about a second; a bad
                                 * reference moves a module's current by 0.8 A/s at most */
    c->trim_max_v = LLCC_TRIM_MAX_V; /* 6 V: over 5 sigma of the set-point error (llc_control.h) */
    c->leak_tau_s = 60.0f;      /* 600 times the period: a residual under 2 % of the error */
    c->ref_timeout_s = 0.5f;    /* five SYNC periods missed: the leader is gone */
    c->decay_tau_s = 2.0f;      /* back to plain droop in a few seconds, no step */
    c->k_t = 0.02f;             /* 0.02 A per kelvin: 10 K hotter carries 0.2 A (6 %) less */
    c->bias_max_a = 0.2f;       /* 1 V of trim at 5 V/A, a sixth of the bound */
    c->p_module_w = 3300.0f;    /* the module's rating */
    c->i_module_a = 4.0f;       /* the module's current rating */
    c->v_nominal_v = 800.0f;    /* the rack's bus when nobody reports one */
    c->target_share = 0.75f;    /* running modules aim at 75 % load, the LLC's flat efficiency */
    c->wake_share = LLCC_WAKE_SHARE;       /* wake before the N-1 running reach 90 % of their limit */
    c->park_share = 0.6f;       /* park only when the N-2 would stay under 60 % */
    c->park_below = 0.5f;       /* no parking above half the online capacity */
    c->min_running = 2;         /* one module's loss never drops the bus */
    c->rotate_min = 600;        /* swap a running and a parked module 10 h apart */
}

void bal_init(bal_module *m, const bal_cfg *c)
{
    m->trim = 0.0f;
    m->no_ref_s = c->ref_timeout_s;
}

static float bal_clamp(float x, float lo, float hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

float bal_step(bal_module *m, const bal_cfg *c, int have_ref, float i_ref_a, float i_own_a, float dt_s)
{
    if (!(dt_s > 0.0f) || !isfinite(dt_s))
        return m->trim;
    if (!isfinite(i_ref_a) || !isfinite(i_own_a))
        have_ref = 0;
    float want; /* the change asked for this step, V */
    if (have_ref) {
        m->no_ref_s = 0.0f;
        want = c->k_i * c->r_droop * (i_ref_a - i_own_a) * dt_s;
        if (c->leak_tau_s > 0.0f)
            want -= m->trim * dt_s / c->leak_tau_s;
    } else {
        if (m->no_ref_s < c->ref_timeout_s)
            m->no_ref_s += dt_s;
        /* Held while the leader may be back; then the exact decay of a
         * first-order lag over dt (never past zero). */
        want = m->no_ref_s < c->ref_timeout_s ? 0.0f : -m->trim * (1.0f - expf(-dt_s / c->decay_tau_s));
    }
    float step = c->rate_vps * dt_s;
    m->trim = bal_clamp(m->trim + bal_clamp(want, -step, step), -c->trim_max_v, c->trim_max_v);
    return m->trim;
}

float bal_ref(const bal_cfg *c, float i_mean_a, float t_mean_c, float t_own_c)
{
    float dt = t_own_c - t_mean_c;
    float bias = isfinite(dt) ? bal_clamp(c->k_t * dt, -c->bias_max_a, c->bias_max_a) : 0.0f;
    float r = i_mean_a - bias;
    return r > 0.0f ? r : 0.0f;
}

/* A peer that counts toward the means: a valid slot, running, fresh. */
static int bal_running(const bal_peer *p, int64_t now_ns)
{
    return p->slot >= 1 && p->slot <= BAL_SLOTS && !p->parked && !p->faulted && !p->idle && !p->limited &&
           p->heard_ns <= now_ns && now_ns - p->heard_ns <= BAL_WINDOW_NS && isfinite(p->i_a) && isfinite(p->t_c);
}

int bal_mean(const bal_peer *p, unsigned n, int64_t now_ns, float *i_mean, float *t_mean, unsigned *counted)
{
    if ((!p && n) || !i_mean || !t_mean || !counted)
        return EK3_EINVAL;
    float si = 0.0f, st = 0.0f;
    unsigned k = 0;
    for (unsigned j = 0; j < n; j++)
        if (bal_running(&p[j], now_ns)) {
            si += p[j].i_a;
            st += p[j].t_c;
            k++;
        }
    *counted = k;
    *i_mean = k ? si / (float)k : 0.0f;
    *t_mean = k ? st / (float)k : 0.0f;
    return k ? EK3_OK : EK3_EAGAIN;
}

/* The bounded biases' sum at t over the counted peers, in kelvin (the
 * biases over k_t; lim = bias_max_a / k_t). Falls as t rises. */
static float bal_bias_sum(const bal_peer *p, unsigned n, int64_t now_ns, float lim, float t)
{
    float s = 0.0f;
    for (unsigned j = 0; j < n; j++)
        if (bal_running(&p[j], now_ns))
            s += bal_clamp(p[j].t_c - t, -lim, lim);
    return s;
}

float bal_t_ref(const bal_cfg *c, const bal_peer *p, unsigned n, int64_t now_ns, float t_mean)
{
    if (!c || !p || !(c->k_t > 0.0f) || !(c->bias_max_a > 0.0f) || !isfinite(t_mean))
        return t_mean;
    float lim = c->bias_max_a / c->k_t, lo = t_mean, hi = t_mean;
    int bound = 0;
    for (unsigned j = 0; j < n; j++)
        if (bal_running(&p[j], now_ns)) {
            bound |= fabsf(p[j].t_c - t_mean) > lim;
            lo = fminf(lo, p[j].t_c);
            hi = fmaxf(hi, p[j].t_c);
        }
    if (!bound) /* the usual rack: the plain mean, bit for bit */
        return t_mean;
    for (int it = 0; it < 40 && hi - lo > 1e-4f; it++) { /* the sum is >= 0 at lo, <= 0 at hi */
        float mid = 0.5f * (lo + hi);
        if (bal_bias_sum(p, n, now_ns, lim, mid) > 0.0f)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5f * (lo + hi);
}

static int bal_bit(const uint8_t map[16], unsigned slot)
{
    return (map[(slot - 1u) / 8u] >> ((slot - 1u) % 8u)) & 1;
}

static void bal_set_bit(uint8_t map[16], unsigned slot, int on)
{
    uint8_t b = (uint8_t)(1u << ((slot - 1u) % 8u));
    if (on)
        map[(slot - 1u) / 8u] |= b;
    else
        map[(slot - 1u) / 8u] &= (uint8_t)~b;
}

/* The online peer, parked (in `out`) or running as asked, with the most
 * (most != 0) or fewest operating minutes; -1 when there is none. */
static int bal_pick(const bal_peer *p, unsigned n, const uint8_t out[16], int parked, int most)
{
    int best = -1;
    for (unsigned j = 0; j < n; j++) {
        if (p[j].faulted || bal_bit(out, p[j].slot) != parked)
            continue;
        if (best < 0 || (most ? p[j].run_min > p[best].run_min : p[j].run_min < p[best].run_min))
            best = (int)j;
    }
    return best;
}

int bal_provision(const bal_cfg *c, const bal_peer *p, unsigned n, float demand_w, const uint8_t parked_in[16],
                  uint8_t parked_out[16])
{
    if (!c || (!p && n) || !parked_in || !parked_out)
        return EK3_EINVAL;
    if (!isfinite(demand_w) || demand_w < 0.0f || n > BAL_SLOTS)
        return EK3_ERANGE;
    uint8_t seen[16] = {0}, out[16] = {0};
    unsigned online = 0, running = 0, nv = 0;
    float vsum = 0.0f;
    for (unsigned j = 0; j < n; j++) {
        unsigned s = p[j].slot;
        if (s < 1 || s > BAL_SLOTS || bal_bit(seen, s))
            return EK3_ERANGE;
        bal_set_bit(seen, s, 1);
        if (p[j].faulted)
            continue;
        online++;
        bal_set_bit(out, s, bal_bit(parked_in, s));
        running += !bal_bit(parked_in, s);
        if (isfinite(p[j].v_v) && p[j].v_v > 0.0f)
            vsum += p[j].v_v, nv++;
    }
    float v = nv ? vsum / (float)nv : c->v_nominal_v;
    float cap = fminf(c->p_module_w, c->i_module_a * v);
    /* run(D): the demand at target_share, plus one for N-1, at least
     * min_running, at most what is online. */
    float need_f = ceilf(demand_w / (cap * c->target_share)) + 1.0f;
    unsigned need = need_f > (float)online ? online : (unsigned)need_f;
    if (need < c->min_running)
        need = c->min_running < online ? c->min_running : online;
    float d = demand_w;
    if (running < need && (d > ((float)running - 1.0f) * cap * c->wake_share || running < c->min_running)) {
        for (; running < need; running++) /* the parked with the fewest hours first */
            bal_set_bit(out, p[bal_pick(p, n, out, 1, 0)].slot, 0);
    } else if (running > need && d < c->park_below * (float)online * cap &&
               d < ((float)running - 2.0f) * cap * c->park_share) {
        for (; running > need; running--) /* the running with the most hours first */
            bal_set_bit(out, p[bal_pick(p, n, out, 0, 1)].slot, 1);
    } else {
        /* Rotation: a running module far ahead in hours swaps with the
         * parked one furthest behind. */
        int r = bal_pick(p, n, out, 0, 1), q = bal_pick(p, n, out, 1, 0);
        if (r >= 0 && q >= 0 && p[r].run_min > p[q].run_min && p[r].run_min - p[q].run_min >= c->rotate_min) {
            bal_set_bit(out, p[r].slot, 1);
            bal_set_bit(out, p[q].slot, 0);
        }
    }
    for (unsigned b = 0; b < 16; b++)
        parked_out[b] = out[b];
    return (int)running;
}
