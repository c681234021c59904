/* rack.c - modules, busbar, bus capacitance and load. */
#include "rack.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "ek3_rng.h"

double rack_ocv(const rack_load *l)
{
    /* A lithium-ion pack's shape: steep in the last 5 % at both ends, flat between. */
    double s = l->soc < 0 ? 0 : l->soc > 1 ? 1 : l->soc;
    double shape = (s + 0.06 * (1 - exp(-s / 0.05)) - 0.06 * (1 - exp(-(1 - s) / 0.05)) + 0.06) / 1.12;
    return l->ocv_empty + (l->ocv_full - l->ocv_empty) * shape;
}

/* Module i's own seed: its tolerances and its noise. */
static uint64_t rack_module_seed(const rack *r, unsigned i)
{
    return (r->seed ? r->seed : 1) * EK3_RNG_GAMMA + i + 1;
}

int rack_module_params(rack *r, unsigned k, const plant_params *p)
{
    char err[160];
    if (!r || !p || k >= r->n)
        return EK3_EINVAL;
    if (prm_check(p, err, sizeof err))
        return EK3_ERANGE;
    pmod_free(&r->mod[k]);
    pmod_init(&r->mod[k], p, (pmod_fidelity)r->fidelity, r->tab, rack_module_seed(r, k));
    return EK3_OK;
}

int rack_init(rack *r, const plant_params *p, unsigned n, pmod_fidelity f, uint64_t seed, const rack_load *load)
{
    memset(r, 0, sizeof *r);
    char err[160];
    if (n < 1 || n > 510 || !load || load->kind > RACK_LOAD_BATTERY)
        return EK3_EINVAL;
    if ((load->kind == RACK_LOAD_R && !(load->r > 0)) || (load->kind == RACK_LOAD_CP && !(load->p_w >= 0 && load->v_min > 0)) ||
        (load->kind == RACK_LOAD_BATTERY && !(load->q_ah > 0 && load->r_int > 0 && load->ocv_full > load->ocv_empty)))
        return EK3_EINVAL;
    if (prm_check(p, err, sizeof err))
        return EK3_ERANGE;
    r->p = *p;
    r->n = n;
    r->seed = seed;
    r->fidelity = (uint8_t)f;
    r->load = *load;
    r->mod = calloc(n, sizeof *r->mod);
    r->r_slot = calloc(n, sizeof *r->r_slot);
    r->i_lin = calloc(n, sizeof *r->i_lin);
    r->g_lin = calloc(n, sizeof *r->g_lin);
    r->c_lin = calloc(n, sizeof *r->c_lin);
    r->io_out = calloc(n, sizeof *r->io_out);
    r->tab = lavg_get(&p->llc); /* built now, or the one an earlier rack of this power stage built */
    if (!r->mod || !r->r_slot || !r->tab || !r->i_lin || !r->g_lin || !r->c_lin || !r->io_out) {
        rack_free(r);
        return EK3_ENOSPC;
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t ms = rack_module_seed(r, i);
        pmod_init(&r->mod[i], p, f, r->tab, ms);
        double spread = 1.0 + p->tol_rbus * pmod_normal(&ms);
        r->r_slot[i] = p->r_bus_slot * (i + 1) * (spread > 0.2 ? spread : 0.2);
    }
    r->vbus = load->kind == RACK_LOAD_BATTERY ? rack_ocv(load) : 0;
    return EK3_OK;
}

void rack_free(rack *r)
{
    for (unsigned k = 0; r->mod && k < r->n; k++)
        pmod_free(&r->mod[k]);
    free(r->mod);
    free(r->r_slot);
    free(r->i_lin);
    free(r->g_lin);
    free(r->c_lin);
    free(r->io_out);
    lavg_put(r->tab);
    r->mod = NULL;
    r->r_slot = NULL;
    r->i_lin = r->g_lin = r->c_lin = r->io_out = NULL;
    r->tab = NULL;
}

int rack_prebuild(const plant_params *p)
{
    plant_params dp;
    if (!p) {
        prm_defaults(&dp);
        p = &dp;
    }
    const lavg_table *t = lavg_get(&p->llc);
    lavg_put(t); /* kept: the LAVG_KEPT given back last stay */
    return t ? EK3_OK : EK3_ENOSPC;
}

/* The load's current at v and its slope. */
static double rack_load_i(const rack_load *l, double v, double *g)
{
    switch (l->kind) {
    case RACK_LOAD_R:
        *g = 1.0 / l->r;
        return v / l->r;
    case RACK_LOAD_CP:
        if (v < l->v_min) {
            *g = l->p_w / (l->v_min * l->v_min);
            return v * *g;
        }
        *g = -l->p_w / (v * v);
        return l->p_w / v;
    default: {
        double ocv = rack_ocv(l);
        *g = 1.0 / l->r_int;
        return (v - ocv) / l->r_int;
    }
    }
}

/* Module k's current through its busbar section: i = I(vbus + R i), by
 * Newton from the last step's current (the module is stiff: dI/dV times
 * R is of order one, so a plain substitution oscillates). */
static __attribute__((noinline)) void rack_newton(rack *r, unsigned k, pmod *m)
{
    double R = r->r_slot[k], i = m->io, g = 0, v = r->vbus;
    /* pmod_current's test, once: lavg_io moves only m->pt's bracket hints */
    const int src = pmod_sourcing(m);
    for (int it = 0; it < 3; it++) { /* from the last step's current: usually one is enough */
        double f = 0; /* pmod_current: 0 and slope 0 unless sourcing */
        g = 0;
        if (src)
            f = lavg_io(m->tab, &m->pt, v + R * i, &g);
        double di = (f - i) / (1.0 - g * R);
        i += di;
        if (fabs(di) < 1e-4)
            break;
    }
    r->i_lin[k] = i;
    r->g_lin[k] = g / (1.0 - g * R); /* through its busbar */
}

void rack_linearize(rack *r, unsigned k0, unsigned k1)
{
    for (unsigned k = k0; k < k1 && k < r->n; k++) {
        pmod *m = &r->mod[k];
        r->i_lin[k] = r->g_lin[k] = r->c_lin[k] = 0;
        if (!m->present || !m->relay)
            continue;
        r->c_lin[k] = m->p.llc.cout;
        /* Not sourcing, from 0 A: Newton's first step has f = g = 0 and
         * di = (0 - 0) / 1 = +0, so i = +0 and g_lin = +0 / 1 = +0, as set. */
        if (!pmod_sourcing(m) && m->io == 0)
            continue;
        rack_newton(r, k, m);
    }
}

void rack_solve_bus(rack *r, double dt)
{
    double c = r->p.c_bus, isum = 0, gsum = 0;
    for (unsigned k = 0; k < r->n; k++) { /* in slot order: the same sum whatever the threads */
        c += r->c_lin[k];                     /* 0 off the bus (rack_linearize), adding nothing */
        isum += r->i_lin[k];
        gsum += r->g_lin[k];
    }
    double gl = 0, il = 0;
    if (!r->load_open) /* injected: rack_load_dump */
        il = rack_load_i(&r->load, r->vbus, &gl);
    if (r->r_short > 0) { /* injected: rack_short */
        il += r->vbus / r->r_short;
        gl += 1.0 / r->r_short;
    }
    double v1 = r->vbus + dt * (isum - il) / (c - dt * (gsum - gl));
    if (v1 < 0)
        v1 = 0;
    r->e_step += 0.5 * c * (v1 - r->vbus) * (v1 - r->vbus);
    r->vbus_prev = r->vbus;
    r->vbus = v1;
    /* The load current the step assumed (linearized), so currents add up. */
    r->i_load = il + gl * (v1 - r->vbus_prev);
    r->p_load = r->i_load * v1;
    r->e_load += r->p_load * dt;
}

void rack_update(rack *r, double dt, unsigned k0, unsigned k1)
{
    double v1 = r->vbus;
    for (unsigned k = k0; k < k1 && k < r->n; k++) {
        pmod *m = &r->mod[k];
        r->io_out[k] = 0;
        if (!m->present)
            continue;
        if (!m->relay)
            pmod_step(m, dt, -1);
        else if (m->fidelity == PMOD_AVERAGED) { /* the current the bus step used, at the new voltage */
            double i = r->i_lin[k] + r->g_lin[k] * (v1 - r->vbus_prev);
            pmod_step_at(m, dt, v1 + r->r_slot[k] * i, i);
        } else {
            pmod_step(m, dt, v1 + r->r_slot[k] * r->i_lin[k]);
        }
        if (m->relay)
            r->io_out[k] = m->io;
        m->v_line = v1; /* what its VBUS channel reads, its relay open or closed */
    }
}

void rack_finish(rack *r, double dt)
{
    r->i_sum = 0;
    for (unsigned k = 0; k < r->n; k++) /* in slot order; 0 for a module off the bus (rack_update) */
        r->i_sum += r->io_out[k];
    if (r->load.kind == RACK_LOAD_BATTERY)
        r->load.soc += r->i_load * dt / (r->load.q_ah * 3600.0);
    r->t += dt;
}

void rack_step(rack *r, double dt)
{
    rack_linearize(r, 0, r->n);
    rack_solve_bus(r, dt);
    rack_update(r, dt, 0, r->n);
    rack_finish(r, dt);
}

int rack_protect(rack *r)
{
    for (unsigned k = 0; k < r->n; k++)
        if (pmod_protect(&r->mod[k]) != EK3_OK)
            return EK3_ENOSPC;
    return EK3_OK;
}

int rack_remove(rack *r, unsigned slot)
{
    if (slot >= r->n)
        return EK3_ENOENT;
    if (!r->mod[slot].present)
        return EK3_EBUSY;
    r->mod[slot].present = 0;
    r->mod[slot].io = 0;
    return EK3_OK;
}

int rack_short(rack *r, double ohm)
{
    if (!(ohm == 0 || (ohm >= 1e-3 && ohm <= 1e6)))
        return EK3_ERANGE;
    r->r_short = ohm;
    return EK3_OK;
}

int rack_insert(rack *r, unsigned slot)
{
    if (slot >= r->n)
        return EK3_ENOENT;
    if (r->mod[slot].present)
        return EK3_EBUSY;
    pmod *m = &r->mod[slot];
    /* A fresh module at rest: none of the faults of the one pulled, output
     * discharged, disabled until commanded. */
    pmod_renew(m);
    llc_init(&m->sw, &m->p.llc, 0);
    m->vo = 0;
    m->cmd.enable = 0;
    m->relay = m->relay_cmd = 0; /* until its firmware closes it (pmod_relay) */
    m->present = 1;
    return EK3_OK;
}

int rack_load_dump(rack *r, int open)
{
    r->load_open = (uint8_t)(open != 0);
    return EK3_OK;
}

int rack_fault_ambient(rack *r, double t_c, int on)
{
    if (on && !(t_c >= -40 && t_c <= 125))
        return EK3_ERANGE;
    for (unsigned k = 0; k < r->n; k++)
        pmod_fault_ambient(&r->mod[k], t_c, on);
    return EK3_OK;
}
