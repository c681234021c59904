/* module.c - one module: power stage, heat, sensing. */
#include "module.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "ek3_assert.h"
#include "ek3_err.h"
#include "ek3_rng.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

EK3_DEFINE_MODULE("plant"); /* contracts 400-499 (docs/architecture.md) */

#define PMOD_THERMAL_DT 1e-3 /* the thermal network steps every 1 ms */

double pmod_uniform(uint64_t *s)
{
    uint64_t z = ek3_rng_splitmix64(s); /* a fixed sequence per seed, on every platform */
    return ((double)(z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

double pmod_normal(uint64_t *s)
{
    double u1 = pmod_uniform(s), u2 = pmod_uniform(s);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* A factor 1 + sd * N(0,1), cut at 3 sigma. */
static double pmod_spread(uint64_t *s, double sd)
{
    double z = pmod_normal(s);
    if (z > 3) z = 3;
    if (z < -3) z = -3;
    return 1.0 + sd * z;
}

static inline uint64_t pmod_bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

/* The averaged model's operating column for the command: prepared again
 * only when one of its inputs changed (most control periods repeat the
 * last command; lavg_prepare is a pure function of these). */
static __attribute__((noinline)) void pmod_prepare_again(pmod *m)
{
    const double key[7] = {m->fr, m->z0, m->p.llc.vdc, m->p.llc.n, m->cmd.half_bridge, m->cmd.fsw, m->cmd.burst};
    memcpy(m->pt_key, key, sizeof key);
    m->pt_tab = m->tab;
    lavg_prepare(m->tab, m->fr, m->z0, m->p.llc.vdc, m->p.llc.n, m->cmd.half_bridge, m->cmd.fsw, m->cmd.burst, &m->pt);
}

static void pmod_prepare(pmod *m)
{
    if (!m->tab)
        return;
    const double *o = m->pt_key; /* pmod_prepare_again's key, compared bit for bit */
    uint64_t moved = (pmod_bits(m->fr) ^ pmod_bits(o[0])) | (pmod_bits(m->z0) ^ pmod_bits(o[1])) |
                     (pmod_bits(m->p.llc.vdc) ^ pmod_bits(o[2])) | (pmod_bits(m->p.llc.n) ^ pmod_bits(o[3])) |
                     (pmod_bits(m->cmd.half_bridge) ^ pmod_bits(o[4])) | (pmod_bits(m->cmd.fsw) ^ pmod_bits(o[5])) |
                     (pmod_bits(m->cmd.burst) ^ pmod_bits(o[6]));
    if (m->pt_tab == m->tab && !moved)
        return;
    pmod_prepare_again(m);
}

void pmod_init(pmod *m, const plant_params *p, pmod_fidelity f, const lavg_table *tab, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->p = *p;
    for (int i = 0; i < 5; i++)
        m->ntc_t[i] = NAN;
    for (int i = 0; i < 7; i++)
        m->pt_key[i] = NAN; /* never equal: the first command prepares */
    m->fidelity = (uint8_t)f;
    m->tab = tab;
    m->present = 1;
    m->relay = m->relay_cmd = 1;
    m->rng = seed;
    if (seed) {
        m->p.llc.lr *= pmod_spread(&m->rng, p->tol_lr);
        m->p.llc.cr *= pmod_spread(&m->rng, p->tol_cr);
        m->p.llc.lm *= pmod_spread(&m->rng, p->tol_lm);
        m->p.llc.rds25 *= pmod_spread(&m->rng, p->tol_rds);
        for (int c = 0; c < PMOD_ADC_CHANNELS; c++) {
            m->adc_gain[c] = pmod_spread(&m->rng, p->adc_gain_sd);
            m->adc_off[c] = p->adc_offset_sd * pmod_normal(&m->rng);
        }
    } else {
        for (int c = 0; c < PMOD_ADC_CHANNELS; c++)
            m->adc_gain[c] = 1.0;
        m->rng = 1;
    }
    m->rng_fault = (seed ? seed : 1) ^ 0x6A09E667F3BCC908ull; /* its own stream: m->rng does not move for it */
    m->fr = 1.0 / (2 * M_PI * sqrt(m->p.llc.lr * m->p.llc.cr));
    m->z0 = sqrt(m->p.llc.lr / m->p.llc.cr);
    llc_init(&m->sw, &m->p.llc, 0);
    m->cmd = m->sw.cmd;
    th_init(&m->th, &m->p.th);
    pmod_prepare(m);
}

int pmod_command(pmod *m, const llc_cmd *c, double fan_duty)
{
    llc_cmd cc = *c;
    if (m->hw_trip && m->prot) { /* the request is an input of the protection; the gates stay off */
        m->prot_in.gate_req = c->enable;
        cc.enable = 0;
    }
    if (m->gate_dead) /* injected: pmod_fault_gate */
        cc.enable = 0;
    c = &cc;
    int rc = llc_command(&m->sw, c);
    if (rc)
        return rc;
    m->cmd = *c;
    m->fan_duty = fan_duty < 0 ? 0 : fan_duty > 1 ? 1 : fan_duty;
    pmod_prepare(m);
    return EK3_OK;
}

double pmod_current(pmod *m, double v, double *slope)
{
    double g = 0, i = 0;
    if (pmod_sourcing(m))
        i = lavg_io(m->tab, &m->pt, v, &g);
    if (slope)
        *slope = g;
    return i;
}

/* The additions to th_acc_e that pmod_step_averaged left pending
 * (th_pend), made now in their order: each p_avg[i] * th_pend_dt, as the
 * steps would have made them. */
static void pmod_heat_flush(pmod *m)
{
    for (uint32_t k = 0; k < m->th_pend; k++)
        for (int i = 0; i < TH_NODES; i++)
            m->th_acc_e[i] += m->p_avg[i] * m->th_pend_dt;
    m->th_pend = 0;
}

/* Losses of the interval into the thermal network, stepped every 1 ms. */
static void pmod_heat(pmod *m, double dt, const double e[TH_NODES])
{
    if (m->th_pend) /* not on the averaged paths: they flush or drop them first */
        pmod_heat_flush(m);
    for (int i = 0; i < TH_NODES; i++)
        m->th_acc_e[i] += e[i];
    m->th_acc_t += dt;
    if (m->th_acc_t + 1e-12 < PMOD_THERMAL_DT)
        return;
    double pw[TH_NODES];
    for (int i = 0; i < TH_NODES; i++) {
        pw[i] = m->th_acc_e[i] / m->th_acc_t;
        m->th_acc_e[i] = 0;
    }
    th_step(&m->th, &m->p.th, pw, m->fan_duty, m->th_acc_t);
    m->th_acc_t = 0;
    m->sw.tj_a = m->th.t[TH_JA];
    m->sw.tj_b = m->th.t[TH_JB];
}

static void pmod_step_switching(pmod *m, double dt, double v_term, double e[TH_NODES])
{
    llc *s = &m->sw;
    if (v_term >= 0 && m->relay && m->present) {
        s->vo_fixed = 1;
        s->vo = v_term;
    } else {
        s->vo_fixed = 0;
        s->rload = v_term < 0 && m->relay ? m->p.rload : m->p.r_bleed;
    }
    llc_run(s, s->t + dt, m->trace ? m->trace_dt : 0, m->trace, m->trace_ctx);
    llc_acc a = llc_take(s);
    m->vo = s->vo;
    m->io = a.q_out / dt;
    m->pin = a.e_in / dt;
    m->pout = a.e_load / dt;
    e[TH_JA] = a.e_cond_a + a.e_off_a;
    e[TH_JB] = a.e_cond_b + a.e_off_b;
    e[TH_XFMR] = a.e_xfmr;
    e[TH_LR] = a.e_lr;
    e[TH_HS] = a.e_rect;
    m->zvs_lost = a.hard_edges > 0;
}

/* The averaged step; its losses into e, or 1 when they went to the
 * pending sum instead (on a bus, no thermal step ahead: pmod_step_). */
static int pmod_step_averaged(pmod *m, double dt, double v_term, double e[TH_NODES], const double *io_given)
{
    const llc_params *l = &m->p.llc;
    int on = m->cmd.enable && m->cmd.burst > 0 && m->present;
    double pout; /* into the output node over the step, W */
    if (v_term >= 0 && m->relay && m->present) {
        m->vo = v_term;
        double g;
        m->io = !on ? 0 : io_given ? *io_given : lavg_io(m->tab, &m->pt, v_term, &g);
        pout = m->io * v_term;
        m->pout = pout;
    } else {
        /* Own capacitor and load: backward Euler in 5 us steps, one
         * Newton correction each (the table's slope); the energy given to
         * the node is each substep's current at its mean voltage (a
         * start from rest moves the output by volts a substep). */
        double r = v_term < 0 && m->relay ? m->p.rload : m->p.r_bleed;
        int k = (int)ceil(dt / 5e-6);
        double h = dt / k, e_node = 0, v_start = m->vo;
        if (!on && m->vo == 0) { /* discharged and off: every substep gives v1 = +0 and adds 0 */
            if (k > 0)
                m->vo = 0;
            k = 0;
        }
        for (int s = 0; s < k; s++) {
            double g = 0, i = on ? lavg_io(m->tab, &m->pt, m->vo, &g) : 0;
            double v1 = (l->cout * m->vo / h + i - g * m->vo) / (l->cout / h + 1.0 / r - g);
            if (!(v1 > 0))
                v1 = 0;
            e_node += (i + g * (v1 - m->vo)) * h * 0.5 * (m->vo + v1);
            m->vo = v1;
        }
        m->io = m->relay && on ? lavg_io(m->tab, &m->pt, m->vo, &(double){0}) : 0;
        pout = e_node / dt;
        /* the load's share, as backward Euler has it: what the capacitor did not keep */
        m->pout = (e_node - 0.5 * l->cout * (m->vo * m->vo - v_start * v_start)) / dt;
    }
    /* Losses: on a bus, evaluated when the thermal network is about to
     * step (every 1 ms), held over the interval before it (the rack's hot
     * path); into its own load, every step (input power and losses follow
     * a transient, and a single module's run can afford it). */
    int own = !(v_term >= 0 && m->relay && m->present);
    int eval = own || m->th_acc_t + dt + 1e-12 >= PMOD_THERMAL_DT;
    if (eval) {
        if (own) /* the gathered interval is kept: its pending part at the old p_avg */
            pmod_heat_flush(m);
        else /* it is overwritten below */
            m->th_pend = 0;
        m->pn_ok = 0;
        double q[LAVG_NQ] = {0};
        if (on) {
            pmod_prepare(m); /* m->pt at this command (it is, unless a key moved without it): lavg_eval's column */
            lavg_eval_pt(m->tab, &m->pt, m->z0, m->vo, q);
            for (int i = 0; i < LAVG_HARD; i++)
                q[i] *= m->cmd.burst;
        }
        m->p_over = q[LAVG_PIN] - q[LAVG_IO] * m->vo;
        m->p_avg[TH_JA] = q[LAVG_PA];
        m->p_avg[TH_JB] = q[LAVG_PB];
        m->p_avg[TH_XFMR] = q[LAVG_PX];
        m->p_avg[TH_LR] = q[LAVG_PL];
        m->p_avg[TH_HS] = q[LAVG_PRECT];
        m->zvs_lost = on && q[LAVG_HARD] > 0.01;
        /* The gathered interval gets the new losses (evaluated every
         * step, it has them already). */
        for (int i = 0; !own && i < TH_NODES; i++)
            m->th_acc_e[i] = m->p_avg[i] * m->th_acc_t;
    }
    m->pin = m->p_over + pout;
    if (!eval) /* on a bus, no thermal step in this one (pmod_heat's test, the same sum) */
        return 1;
    for (int i = 0; i < TH_NODES; i++)
        e[i] = m->p_avg[i] * dt;
    return 0;
}

static void pmod_vdc_ramp(pmod *m, double dt);

static void pmod_step_(pmod *m, double dt, double v_term, const double *io)
{
    EK3_REQUIRE_ID(401, dt >= 0.0 && dt <= 1e3); /* a step of the rig's clock (a NaN fails too) */
    EK3_REQUIRE_ID(402, v_term == v_term);        /* the rack's terminal voltage is a number */
    double e[TH_NODES]; /* written whole by the step that uses it */
    if (m->vdc_ramp > 0) /* injected: pmod_fault_vdc */
        pmod_vdc_ramp(m, dt);
    if (m->fidelity == PMOD_SWITCHING) {
        pmod_step_switching(m, dt, v_term, e);
        m->pn_ok = 0;
        m->ploss = 0;
        for (int i = 0; i < TH_NODES; i++) {
            m->p_node[i] = e[i] / dt;
            m->ploss += m->p_node[i];
        }
        pmod_heat(m, dt, e);
    } else {
        int pend = pmod_step_averaged(m, dt, v_term, e, io);
        /* e[i] is p_avg[i] * dt (or would be): unchanged p_avg and dt give the same p_node */
        if (!m->pn_ok || m->pn_dt != dt) {
            m->ploss = 0;
            for (int i = 0; i < TH_NODES; i++) {
                m->p_node[i] = m->p_avg[i] * dt / dt;
                m->ploss += m->p_node[i];
            }
            m->pn_ok = 1;
            m->pn_dt = dt;
        }
        if (pend) { /* pmod_heat's additions left pending; no thermal step in this one */
            if (m->th_pend && m->th_pend_dt != dt)
                pmod_heat_flush(m);
            m->th_pend++;
            m->th_pend_dt = dt;
            m->th_acc_t += dt;
        } else {
            pmod_heat(m, dt, e);
        }
    }
    /* The line beyond the relay: the terminal, or the module's own load
     * when it is on it (a rack sets its bus after the step: rack_update). */
    m->v_line = v_term >= 0 ? v_term : m->relay ? m->vo : 0;
    m->t += dt;
}

/* The gate drivers disabled by the protection block: at once, not at
 * the next PWM period, whatever the firmware asks. */
static void pmod_gates_off(pmod *m)
{
    if (!m->sw.cmd.enable)
        return;
    llc_cmd off = m->cmd;
    off.enable = 0;
    llc_command(&m->sw, &off);
    m->sw.cmd.enable = 0;
    m->sw.next_cmd.enable = 0;
    m->cmd.enable = 0;
}

/* The protection block over the step just taken: its inputs move from
 * where they were to where the step left them. */
static void pmod_protection_run(pmod *m, double dt, rtlp_out *o)
{
    pmod_analog a;
    pmod_analog_of(m, &a);
    rtlp_in b = {a.vout, a.iout, a.tj, a.igf, m->cmd.enable, m->fault_clear};
    rtlp_run(m->prot, dt, &m->prot_in, &b, o);
    m->prot_in = b;
    m->prot_trip_t = o->trip_time;
    m->prot_first = o->first_code;
    m->hw_trip = o->latched != 0;
}

/* Averaged fidelity: the step's resolution is the step; a trip turns
 * the gates off from its end on. */
static void pmod_protection(pmod *m, double dt)
{
    if (!m->prot)
        return;
    rtlp_out o;
    pmod_protection_run(m, dt, &o);
    if (!o.gate_en && m->sw.cmd.enable) {
        pmod_gates_off(m);
        m->io = 0;
    }
}

/* Switching fidelity: what the comparators see inside a step. Into its
 * own load (the lab bench), the module's output terminal carries v/R,
 * smooth behind the output capacitor: the step is sampled every
 * PMOD_SENSE_DT and the block sees the waveform. On a bus, the terminal
 * carries the rectifier's pulsating current; the current sensor's filter
 * is taken as the control period, so the block sees the step's average,
 * as in the averaged plant. (A 10 us filter there makes burst-mode soft
 * start into a dead bus trip OCP: docs/protection-rtl.md.) */
#define PMOD_SENSE_DT 1e-6
#define PMOD_SENSE_MAX 1024

typedef struct pmod_sense {
    int n;
    double t[PMOD_SENSE_MAX], v[PMOD_SENSE_MAX], i[PMOD_SENSE_MAX];
} pmod_sense;

static void pmod_sense_sample(void *ctx, const llc *s)
{
    pmod_sense *ps = ctx;
    if (ps->n < PMOD_SENSE_MAX) {
        ps->t[ps->n] = s->t;
        ps->v[ps->n] = s->vo;
        ps->i[ps->n] = s->rload > 0 ? s->vo / s->rload : 0;
        ps->n++;
    }
}

/* Back to the state *before, keeping what the protection block said. */
static void pmod_rewind(pmod *m, const pmod *before)
{
    rtlp_in in = m->prot_in;
    double trip_t = m->prot_trip_t;
    unsigned first = m->prot_first;
    int hw = m->hw_trip;
    *m = *before;
    m->prot_in = in;
    m->prot_trip_t = trip_t;
    m->prot_first = first;
    m->hw_trip = hw;
}

/* The power stage stops at the trip instant. The step is taken on trial
 * (sampled, without the user's trace) and the block run over the
 * samples; when it trips inside the step, the module goes back to the
 * step's start and runs to the trip with the gates on and on from there
 * with them off. The output current and input power are the step's
 * averages over both parts. */
static void pmod_step_switching_protected(pmod *m, double dt, double v_term)
{
    const pmod before = *m; /* 2 KB: little next to the exact solver's step */
    static _Thread_local pmod_sense ps; /* 24 KB: off the stack */
    const int own_load = !(v_term >= 0 && m->relay && m->present);
    const double t0 = m->sw.t;
    ps.n = 0;
    m->trace = own_load ? pmod_sense_sample : NULL;
    m->trace_ctx = &ps;
    m->trace_dt = dt / PMOD_SENSE_MAX > PMOD_SENSE_DT ? dt / (PMOD_SENSE_MAX - 2) : PMOD_SENSE_DT;
    pmod_step_(m, dt, v_term, NULL);
    m->trace = before.trace;
    m->trace_ctx = before.trace_ctx;
    m->trace_dt = before.trace_dt;

    /* The block over the samples, then to the step's end. */
    pmod_analog a;
    pmod_analog_of(m, &a);
    rtlp_in x = {a.vout, a.iout, a.tj, a.igf, m->cmd.enable, m->fault_clear};
    rtlp_out o = {0};
    double t = t0, tt = -1;
    for (int k = 0; k <= ps.n; k++) {
        double tk = k < ps.n ? ps.t[k] : t0 + dt;
        if (tk <= t + 1e-15)
            continue;
        rtlp_in y = x;
        if (k < ps.n) {
            y.vout = ps.v[k] + m->prot_step[0];
            y.iout = ps.i[k] + m->prot_step[1];
        } else if (own_load) {
            y.iout = (m->sw.rload > 0 ? m->vo / m->sw.rload : 0) + m->prot_step[1];
        }
        rtlp_run(m->prot, tk - t, &m->prot_in, &y, &o);
        m->prot_in = y;
        if (tt < 0 && o.trip_time >= 0)
            tt = t - t0 + o.trip_time;
        t = tk;
    }
    m->prot_trip_t = tt;
    m->prot_first = o.first_code;
    m->hw_trip = o.latched != 0;
    if (tt > 0 && tt < dt - 1e-12) {
        pmod_rewind(m, &before);
        pmod_step_(m, tt, v_term, NULL);
        double q = m->io * tt, e = m->pin * tt, eo = m->pout * tt;
        pmod_gates_off(m);
        pmod_step_(m, dt - tt, v_term, NULL);
        m->io = (q + m->io * (dt - tt)) / dt;
        m->pin = (e + m->pin * (dt - tt)) / dt;
        m->pout = (eo + m->pout * (dt - tt)) / dt;
        return;
    }
    if (m->trace) { /* no trip inside: the same step again, traced once */
        pmod_rewind(m, &before);
        pmod_step_(m, dt, v_term, NULL);
    }
    if (!o.gate_en && m->sw.cmd.enable) {
        pmod_gates_off(m);
        m->io = 0;
    }
}

/* The step's means into the integrals, while pmod.tally is set (module.h). */
static inline void pmod_tally(pmod *m, double dt)
{
    if (!m->tally)
        return;
    m->q_out += m->io * dt;
    m->e_out += m->pout * dt;
    m->e_in += m->pin * dt;
}

void pmod_step(pmod *m, double dt, double v_term)
{
    if (m->prot && m->fidelity == PMOD_SWITCHING)
        pmod_step_switching_protected(m, dt, v_term);
    else {
        pmod_step_(m, dt, v_term, NULL);
        pmod_protection(m, dt);
    }
    pmod_tally(m, dt);
}

int pmod_protect(pmod *m)
{
    if (!m->prot)
        m->prot = rtlp_new(m->p.sense_delay);
    m->prot_trip_t = -1;
    return m->prot ? EK3_OK : EK3_ENOSPC;
}

void pmod_free(pmod *m)
{
    rtlp_free(m->prot);
    m->prot = NULL;
}

void pmod_step_at(pmod *m, double dt, double v_term, double io)
{
    pmod_step_(m, dt, v_term, &io);
    pmod_protection(m, dt);
    pmod_tally(m, dt);
}

double pmod_stored(const pmod *m)
{
    if (m->fidelity == PMOD_SWITCHING)
        return llc_stored(&m->sw);
    return 0.5 * m->p.llc.cout * m->vo * m->vo;
}

void pmod_trace(pmod *m, double dt, void (*fn)(void *ctx, const llc *s), void *ctx)
{
    m->trace_dt = dt;
    m->trace = fn;
    m->trace_ctx = ctx;
}

void pmod_analog_of(const pmod *m, pmod_analog *a)
{
    a->vout = m->vo + m->prot_step[0];
    a->iout = m->io + m->prot_step[1];
    a->tj = (m->th.t[TH_JA] > m->th.t[TH_JB] ? m->th.t[TH_JA] : m->th.t[TH_JB]) + m->prot_step[2];
    a->igf = m->igf + m->prot_step[3];
}

int pmod_fault_igf(pmod *m, double amps)
{
    if (!(amps >= 0 && amps <= m->p.fs_igf))
        return EK3_ERANGE;
    m->igf = amps;
    return EK3_OK;
}

int pmod_fault_fan(pmod *m, double health)
{
    if (!(health >= 0 && health <= 1))
        return EK3_ERANGE;
    m->th.fan_health = health;
    return EK3_OK;
}

static void pmod_adc_fault_update(pmod *m)
{
    m->adc_fault = m->adc_stuck != 0;
    for (int c = 0; c < PMOD_ADC_CHANNELS; c++)
        m->adc_fault |= m->adc_fault_off[c] != 0 || m->adc_fault_gerr[c] != 0 || m->adc_fault_noise[c] != 0;
    for (int i = 0; i < 5; i++)
        m->adc_fault |= m->ntc_fault[i] != PMOD_NTC_SOUND;
}

int pmod_fault_adc_offset(pmod *m, unsigned ch, double offset_lsb)
{
    if (ch >= PMOD_ADC_CHANNELS)
        return EK3_ENOENT;
    if (!(offset_lsb >= -4095 && offset_lsb <= 4095))
        return EK3_ERANGE;
    m->adc_fault_off[ch] = offset_lsb;
    pmod_adc_fault_update(m);
    return EK3_OK;
}

int pmod_fault_adc_stuck(pmod *m, unsigned ch, int code)
{
    if (ch >= PMOD_ADC_CHANNELS)
        return EK3_ENOENT;
    if (code > 4095)
        return EK3_ERANGE;
    if (code < 0) {
        m->adc_stuck &= (uint16_t)~(1u << ch);
    } else {
        m->adc_stuck |= (uint16_t)(1u << ch);
        m->adc_stuck_code[ch] = (uint16_t)code;
    }
    pmod_adc_fault_update(m);
    return EK3_OK;
}

int pmod_fault_prot_step(pmod *m, unsigned code, double step)
{
    if (code < RTLP_OVP || code > RTLP_GFI)
        return EK3_ENOENT;
    if (!(step >= -1e4 && step <= 1e4))
        return EK3_ERANGE;
    /* A step, not a ramp: the interval ahead starts from the stepped
     * value (rtlp_run moves its inputs linearly from the last end). */
    double d = step - m->prot_step[code - RTLP_OVP];
    double *end[4] = {&m->prot_in.vout, &m->prot_in.iout, &m->prot_in.tj, &m->prot_in.igf};
    *end[code - RTLP_OVP] += d;
    m->prot_step[code - RTLP_OVP] = step;
    return EK3_OK;
}

void pmod_renew(pmod *m)
{
    pmod_fault_igf(m, 0);
    pmod_fault_open(m, 0);
    pmod_fault_gate(m, 0);
    pmod_fault_tank(m, 0, 0, 0);
    for (unsigned c = 0; c < PMOD_ADC_CHANNELS; c++) {
        pmod_fault_adc_offset(m, c, 0);
        pmod_fault_adc_stuck(m, c, -1);
        pmod_fault_adc_gain(m, c, 0);
        pmod_fault_adc_noise(m, c, 0);
    }
    for (unsigned c = BRD_ADC_TJ_A; c <= BRD_ADC_T_AMB; c++)
        pmod_fault_ntc(m, c, PMOD_NTC_SOUND);
    for (unsigned code = RTLP_OVP; code <= RTLP_GFI; code++)
        pmod_fault_prot_step(m, code, 0);
    th_init(&m->th, &m->p.th); /* at the slot's air, its fan sound */
    if (m->prot)               /* its own protection block, at rest: the one pulled may have latched a trip */
        rtlp_reset(m->prot);
    m->hw_trip = 0, m->prot_first = 0, m->prot_trip_t = -1;
    m->prot_in = (rtlp_in){0};
}

/* The output onto its terminal when the line and the fault both let it. */
static void pmod_relay_update(pmod *m)
{
    uint8_t closed = (uint8_t)(m->relay_cmd && !m->relay_open);
    if (closed && !m->relay) {
        m->relay_closes++;
        m->relay_dv = m->vo - m->v_line;
    }
    m->relay = closed;
    if (!closed)
        m->io = 0;
}

int pmod_fault_open(pmod *m, int open)
{
    m->relay_open = (uint8_t)(open != 0);
    pmod_relay_update(m);
    return EK3_OK;
}

void pmod_relay(pmod *m, int closed)
{
    if ((uint8_t)(closed != 0) == m->relay_cmd)
        return;
    m->relay_cmd = (uint8_t)(closed != 0);
    pmod_relay_update(m);
}

/* The DC link at v: the rails, the Coss equivalents taken at it, the
 * averaged model's operating column. */
static void pmod_set_vdc(pmod *m, double v)
{
    m->p.llc.vdc = v;
    m->sw.p.vdc = v;
    m->sw.co_tr = llc_coss_tr(&m->sw.p, v);
    m->sw.co_er = llc_coss_er(&m->sw.p, v);
    pmod_prepare(m);
}

int pmod_fault_vdc(pmod *m, double frac, double ramp_s)
{
    if (!(frac >= -0.9 && frac <= 0.5) || !(ramp_s >= 0 && ramp_s <= 10))
        return EK3_ERANGE;
    double base = m->vdc_fault ? m->vdc_saved : m->p.llc.vdc;
    llc_params q = m->p.llc;
    q.vdc = base * (1.0 + frac);
    if (llc_check(&q, NULL))
        return EK3_ERANGE;
    m->vdc_saved = base;
    m->vdc_fault = frac != 0;
    m->vdc_from = m->p.llc.vdc;
    m->vdc_to = q.vdc;
    m->vdc_ramp_t = 0;
    m->vdc_ramp = ramp_s;
    if (ramp_s == 0)
        pmod_set_vdc(m, q.vdc);
    return EK3_OK;
}

/* The link's ramp over the next dt (pmod_fault_vdc): at its end the
 * exact target, so that a cleared fault restores the value bit for bit. */
static void pmod_vdc_ramp(pmod *m, double dt)
{
    m->vdc_ramp_t += dt;
    if (m->vdc_ramp_t >= m->vdc_ramp - 1e-12) {
        m->vdc_ramp = 0;
        pmod_set_vdc(m, m->vdc_to);
        return;
    }
    double v = m->vdc_from + (m->vdc_to - m->vdc_from) * (m->vdc_ramp_t / m->vdc_ramp);
    m->p.llc.vdc = m->sw.p.vdc = v;
    if (m->fidelity == PMOD_SWITCHING) { /* the averaged model has no Coss of its own */
        m->sw.co_tr = llc_coss_tr(&m->sw.p, v);
        m->sw.co_er = llc_coss_er(&m->sw.p, v);
    }
    pmod_prepare(m);
}

int pmod_fault_ambient(pmod *m, double t_c, int on)
{
    if (on && !(t_c >= -40 && t_c <= 125))
        return EK3_ERANGE;
    if (!m->amb_fault)
        m->amb_saved = m->p.th.t_amb;
    m->p.th.t_amb = on ? t_c : m->amb_saved;
    m->amb_fault = (uint8_t)(on != 0);
    return EK3_OK;
}

int pmod_fault_ntc(pmod *m, unsigned ch, int mode)
{
    if (ch < BRD_ADC_TJ_A || ch > BRD_ADC_T_AMB)
        return EK3_ENOENT;
    if (mode < PMOD_NTC_SOUND || mode > PMOD_NTC_SHORT)
        return EK3_ERANGE;
    m->ntc_fault[ch - BRD_ADC_TJ_A] = (uint8_t)mode;
    pmod_adc_fault_update(m);
    return EK3_OK;
}

int pmod_fault_adc_gain(pmod *m, unsigned ch, double gain_err)
{
    if (ch >= PMOD_ADC_CHANNELS)
        return EK3_ENOENT;
    if (!(gain_err >= -0.5 && gain_err <= 0.5))
        return EK3_ERANGE;
    m->adc_fault_gerr[ch] = gain_err;
    pmod_adc_fault_update(m);
    return EK3_OK;
}

int pmod_fault_adc_noise(pmod *m, unsigned ch, double lsb_rms)
{
    if (ch >= PMOD_ADC_CHANNELS)
        return EK3_ENOENT;
    if (!(lsb_rms >= 0 && lsb_rms <= 1000))
        return EK3_ERANGE;
    m->adc_fault_noise[ch] = lsb_rms;
    pmod_adc_fault_update(m);
    return EK3_OK;
}

int pmod_fault_gate(pmod *m, int dead)
{
    m->gate_dead = (uint8_t)(dead != 0);
    if (dead) { /* at once, as the driver fails; the firmware's next commands stay off */
        llc_cmd off = m->cmd;
        off.enable = 0;
        llc_command(&m->sw, &off);
        m->sw.cmd.enable = 0;
        m->sw.next_cmd.enable = 0;
        m->cmd.enable = 0;
        m->io = 0;
    }
    return EK3_OK;
}

int pmod_fault_tank(pmod *m, double d_lr, double d_cr, double d_lm)
{
    const double d[3] = {d_lr, d_cr, d_lm};
    for (int i = 0; i < 3; i++)
        if (!(d[i] >= -0.5 && d[i] <= 0.5))
            return EK3_ERANGE;
    double base[3] = {m->p.llc.lr, m->p.llc.cr, m->p.llc.lm};
    if (m->tank_fault)
        memcpy(base, m->tank_saved, sizeof base);
    llc_params q = m->p.llc;
    q.lr = base[0] * (1.0 + d_lr);
    q.cr = base[1] * (1.0 + d_cr);
    q.lm = base[2] * (1.0 + d_lm);
    if (llc_check(&q, NULL))
        return EK3_ERANGE;
    memcpy(m->tank_saved, base, sizeof base);
    m->p.llc.lr = m->sw.p.lr = q.lr;
    m->p.llc.cr = m->sw.p.cr = q.cr;
    m->p.llc.lm = m->sw.p.lm = q.lm;
    m->sw.modes[0].C = m->sw.modes[1].C = 0; /* the fourth-order modes' cache: built for the old tank */
    m->fr = 1.0 / (2 * M_PI * sqrt(q.lr * q.cr));
    m->z0 = sqrt(q.lr / q.cr);
    pmod_prepare(m);
    m->tank_fault = d_lr != 0 || d_cr != 0 || d_lm != 0;
    return EK3_OK;
}

double pmod_t_case(const pmod *m, int leg)
{
    const th_params *p = &m->p.th;
    double tj = m->th.t[leg ? TH_JB : TH_JA], th = m->th.t[TH_HS];
    return th + (tj - th) * p->rth_cs / (p->rth_jc + p->rth_cs);
}

static double pmod_ntc_code(const pmod *m, double t_c)
{
    double r = m->p.ntc_r25 * exp(m->p.ntc_beta * (1.0 / (t_c + 273.15) - 1.0 / 298.15));
    return BRD_ADC_FULL_CODE * r / (r + m->p.ntc_rpull);
}

/* Sensor noise: inverse transform sampling from the standard normal's
 * quantiles (noise_table.h). One splitmix64 draw gives four samples, one
 * per 16-bit field, its top 12 bits the table's index: field k of z is
 * channel 4j + k's noise when z is group j's draw (channels 0-3, 4-7,
 * 8-11, in that order). A sample is entry * 2^-12 sigma, exact in a
 * double. */
#include "noise_table.h"
#define PMOD_NOISE_SCALE (1.0 / PMOD_NOISE_ONE) /* 2^-12, exact */

/* Field k's (0..3) table index of the draw z. */
#define PMOD_NOISE_IDX(z, k) ((unsigned)((z) >> (16 * (k) + 16 - PMOD_NOISE_BITS)) & ((1u << PMOD_NOISE_BITS) - 1u))

static inline double pmod_noise(uint64_t z, int k)
{
    return pmod_noise_q[PMOD_NOISE_IDX(z, k)] * PMOD_NOISE_SCALE;
}

/* pmod_adc's last loop with the injected faults (pmod_fault_adc_*,
 * pmod_fault_ntc): a stuck channel reads its code and an open or shorted
 * NTC its rail (their noise still drawn), a gain error multiplies, an
 * offset adds, extra noise comes from the faults' own generator. */
static void pmod_adc_faulted(pmod *m, const double x[PMOD_ADC_CHANNELS], uint16_t codes[PMOD_ADC_CHANNELS])
{
    uint64_t z = 0;
    for (int c = 0; c < PMOD_ADC_CHANNELS; c++) {
        if (c % 4 == 0)
            z = ek3_rng_splitmix64(&m->rng);
        double v = x[c] * m->adc_gain[c] * (1.0 + m->adc_fault_gerr[c]) + m->adc_off[c] +
                   m->p.adc_noise_lsb * pmod_noise(z, c % 4) + 0.5;
        if (m->adc_fault_noise[c] != 0)
            v += m->adc_fault_noise[c] * pmod_noise(ek3_rng_splitmix64(&m->rng_fault), 0);
        int ntc = c >= BRD_ADC_TJ_A && c <= BRD_ADC_T_AMB ? m->ntc_fault[c - BRD_ADC_TJ_A] : PMOD_NTC_SOUND;
        /* The divider is ratiometric to the ADC's reference: an open NTC
         * leaves the pull-up at Vref (full scale), a short puts 0 V in. */
        if (ntc != PMOD_NTC_SOUND)
            v = ntc == PMOD_NTC_OPEN ? BRD_ADC_FULL_CODE + 0.5 : 0.5;
        v = m->adc_stuck >> c & 1u ? m->adc_stuck_code[c] + 0.5 : v + m->adc_fault_off[c];
        codes[c] = (uint16_t)(v < 0 ? 0 : v > 4095 ? 4095 : (int)v);
    }
}

/* The channels whose inputs move slowly (pmod.adc_key): VDC .. IGF. */
#define PMOD_ADC_SLOW0 BRD_ADC_VDC
#define PMOD_ADC_SLOWN (BRD_ADC_IGF - BRD_ADC_VDC + 1)
_Static_assert(BRD_ADC_TJ_A == BRD_ADC_VDC + 1 && BRD_ADC_FAN_TACH == BRD_ADC_T_AMB + 1 &&
                   BRD_ADC_IGF == BRD_ADC_FAN_TACH + 1 && PMOD_ADC_SLOWN == 8,
               "VDC, the five NTCs, FAN_TACH and IGF in a row");

/* The slow channels' x and base again, and their key. */
static void pmod_adc_slow(pmod *m)
{
    double x[PMOD_ADC_SLOW0 + PMOD_ADC_SLOWN]; /* indexed by channel; the slow ones kept in adc_x */
    x[BRD_ADC_VDC] = BRD_ADC_FULL_CODE * m->p.llc.vdc / m->p.fs_vdc;
    const double t[5] = {pmod_t_case(m, 0), pmod_t_case(m, 1), m->th.t[TH_XFMR], m->th.t[TH_LR], m->p.th.t_amb};
    for (int i = 0; i < 5; i++) {
        if (t[i] != m->ntc_t[i]) { /* NaN at first: always computed once */
            m->ntc_t[i] = t[i];
            m->ntc_x[i] = pmod_ntc_code(m, t[i]);
        }
        x[BRD_ADC_TJ_A + i] = m->ntc_x[i]; /* TJ_A TJ_B T_XFMR T_LR T_AMB */
    }
    x[BRD_ADC_FAN_TACH] = BRD_ADC_FULL_CODE * m->th.fan_speed * m->p.th.fan_rpm / BRD_TACH_FS_RPM;
    x[BRD_ADC_IGF] = BRD_ADC_FULL_CODE * m->igf / m->p.fs_igf;
    for (int c = PMOD_ADC_SLOW0; c < PMOD_ADC_SLOW0 + PMOD_ADC_SLOWN; c++) {
        m->adc_x[c - PMOD_ADC_SLOW0] = x[c];
        m->adc_base[c - PMOD_ADC_SLOW0] = x[c] * m->adc_gain[c] + m->adc_off[c];
    }
    const double key[9] = {m->p.llc.vdc, m->th.t[0], m->th.t[1], m->th.t[2], m->th.t[3], m->th.t[4], m->p.th.t_amb, m->th.fan_speed, m->igf};
    for (int i = 0; i < 9; i++)
        m->adc_key[i] = pmod_bits(key[i]);
    m->adc_key_ok = 1;
}

/* pmod_adc's codes without faults: per channel
 *   v = x * gain + offset + noise_lsb * noise + 0.5, clamped to 0..4095
 * (below 0, and NaN, read 0; above 4095 reads 4095; else v truncated),
 * the noise four channels a draw of m->rng (pmod_noise); x * gain +
 * offset given as base[]. With SSE2 a group's four table entries go in
 * one register and two channels' doubles in another: the same IEEE
 * operations in the same order, the clamp by maxpd/minpd (maxpd gives its
 * second operand, 0, for a NaN). pmod_adc_faulted without faults gives
 * the same codes (test_plant compares them). */
#if defined(__SSE2__)
static inline __attribute__((always_inline)) __m128i pmod_noise4(uint64_t *st)
{
    uint64_t z = ek3_rng_splitmix64(st);
    return _mm_set_epi32(pmod_noise_q[PMOD_NOISE_IDX(z, 3)], pmod_noise_q[PMOD_NOISE_IDX(z, 2)],
                         pmod_noise_q[PMOD_NOISE_IDX(z, 1)], pmod_noise_q[PMOD_NOISE_IDX(z, 0)]);
}

static inline __attribute__((always_inline)) __m128i pmod_codes2(__m128d base, __m128i d, __m128d lsb)
{
    const __m128d scale = _mm_set1_pd(PMOD_NOISE_SCALE), half = _mm_set1_pd(0.5);
    const __m128d zero = _mm_setzero_pd(), top = _mm_set1_pd(4095.0);
    __m128d n = _mm_mul_pd(_mm_cvtepi32_pd(d), scale);
    __m128d v = _mm_add_pd(_mm_add_pd(base, _mm_mul_pd(lsb, n)), half);
    return _mm_cvttpd_epi32(_mm_min_pd(_mm_max_pd(v, zero), top));
}

static inline __attribute__((always_inline)) __m128i pmod_codes4(const double *base, uint64_t *st, __m128d lsb)
{
    __m128i d = pmod_noise4(st);
    return _mm_unpacklo_epi64(pmod_codes2(_mm_loadu_pd(base), d, lsb),
                              pmod_codes2(_mm_loadu_pd(base + 2), _mm_unpackhi_epi64(d, d), lsb));
}
#endif

_Static_assert(PMOD_ADC_CHANNELS == 12, "pmod_adc_codes takes the channels four at a time");

static void pmod_adc_codes(pmod *m, const double base[PMOD_ADC_CHANNELS], uint16_t codes[PMOD_ADC_CHANNELS])
{
#if defined(__SSE2__) /* three groups of four */
    uint64_t st = m->rng;
    const __m128d lsb = _mm_set1_pd(m->p.adc_noise_lsb);
    __m128i c0 = pmod_codes4(base, &st, lsb), c1 = pmod_codes4(base + 4, &st, lsb), c2 = pmod_codes4(base + 8, &st, lsb);
    m->rng = st;
    _mm_storeu_si128((__m128i *)(void *)codes, _mm_packs_epi32(c0, c1)); /* 0..4095: no saturation */
    _mm_storel_epi64((__m128i *)(void *)(codes + 8), _mm_packs_epi32(c2, c2));
#else
    uint64_t z = 0;
    for (int c = 0; c < PMOD_ADC_CHANNELS; c++) {
        if (c % 4 == 0)
            z = ek3_rng_splitmix64(&m->rng);
        double v = base[c] + m->p.adc_noise_lsb * pmod_noise(z, c % 4) + 0.5;
        codes[c] = (uint16_t)(v < 0 ? 0 : v > 4095 ? 4095 : (int)v);
    }
#endif
}

void pmod_adc(pmod *m, uint16_t codes[PMOD_ADC_CHANNELS])
{
    /* The slow channels again when a bit of their inputs moved (a thermal step, a fault). */
    uint64_t moved = (pmod_bits(m->p.llc.vdc) ^ m->adc_key[0]) | (pmod_bits(m->th.t[0]) ^ m->adc_key[1]) |
                     (pmod_bits(m->th.t[1]) ^ m->adc_key[2]) | (pmod_bits(m->th.t[2]) ^ m->adc_key[3]) |
                     (pmod_bits(m->th.t[3]) ^ m->adc_key[4]) | (pmod_bits(m->th.t[4]) ^ m->adc_key[5]) |
                     (pmod_bits(m->p.th.t_amb) ^ m->adc_key[6]) | (pmod_bits(m->th.fan_speed) ^ m->adc_key[7]) |
                     (pmod_bits(m->igf) ^ m->adc_key[8]);
    if (moved || !m->adc_key_ok)
        pmod_adc_slow(m);
    double x[PMOD_ADC_CHANNELS], base[PMOD_ADC_CHANNELS];
    x[BRD_ADC_VOUT] = BRD_ADC_FULL_CODE * m->vo / m->p.fs_vout;
    x[BRD_ADC_IOUT] = BRD_ADC_FULL_CODE * m->io / m->p.fs_iout;
    x[BRD_ADC_VBUS] = BRD_ADC_FULL_CODE * m->v_line / m->p.fs_vout;
    x[BRD_ADC_SPARE1] = 0;
    if (m->adc_fault) { /* injected: the same codes, then the faults (off the hot path) */
        memcpy(x + PMOD_ADC_SLOW0, m->adc_x, sizeof m->adc_x);
        pmod_adc_faulted(m, x, codes);
        return;
    }
    static const int fast[4] = {BRD_ADC_VOUT, BRD_ADC_IOUT, BRD_ADC_VBUS, BRD_ADC_SPARE1};
    for (int j = 0; j < 4; j++)
        base[fast[j]] = x[fast[j]] * m->adc_gain[fast[j]] + m->adc_off[fast[j]];
    memcpy(base + PMOD_ADC_SLOW0, m->adc_base, sizeof m->adc_base);
    pmod_adc_codes(m, base, codes);
}
