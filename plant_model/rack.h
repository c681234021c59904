/*
 * rack.h - N modules in parallel on one DC bus (prefix rack_): each
 * module's output reaches the bus through its busbar section (more
 * resistance the farther its slot from the feed, with a joint spread per
 * slot); the bus has its own capacitance and feeds one load: a
 * resistor, a constant-power load, or an EV battery (open-circuit
 * voltage over state of charge, internal resistance) that the
 * chargers' CC/CV control charges.
 *
 * A module can be pulled from its slot and put back while the rack runs
 * (hot swap). Component tolerances are drawn per module from the rack's
 * seed, so current sharing is a real question for droop control.
 *
 * Each step is one control period. The bus voltage advances by one
 * linearly implicit (Rosenbrock-Euler) step using every module's output
 * current and its slope dI/dV from the averaged model, so the stiff
 * coupling of 84 near-voltage-source modules to one capacitor is
 * stable; then each module steps at its terminal voltage (either
 * fidelity).
 */
#ifndef RACK_H
#define RACK_H

#include <stdint.h>

#include "avg.h"
#include "module.h"
#include "params.h"

/* The load `ek3 rack` runs when none is given: 200 kW on a rack of 84,
 * 2.38 kW a module (scaled with the rack's size), what the rack's
 * figures and examples are measured at. */
#define RACK_DEFAULT_LOAD_W 200e3

/* The most a constant-power load may be set to (W), on the command line
 * and in a scenario alike: 10 MW, six times what 510 modules give, so a
 * deliberate overload is still a load. */
#define RACK_LOAD_MAX_W 10e6

/* A resistor load's range (ohm), on the command line and in a scenario
 * alike: 1 mohm (a dead short is the fault `short`, the bus's own) to
 * 1 Gohm (as good as none). */
#define RACK_LOAD_R_MIN 1e-3
#define RACK_LOAD_R_MAX 1e9

typedef enum rack_load_kind { RACK_LOAD_R, RACK_LOAD_CP, RACK_LOAD_BATTERY } rack_load_kind;

typedef struct rack_load {
    uint8_t kind;
    double r;                 /* RACK_LOAD_R: ohm */
    double p_w, v_min;        /* RACK_LOAD_CP: power, and below v_min it acts as P / v_min^2 ohms */
    double q_ah, soc, r_int;  /* RACK_LOAD_BATTERY: capacity, state of charge 0..1, resistance */
    double ocv_empty, ocv_full; /* open-circuit voltage at 0 % and 100 % */
} rack_load;

typedef struct rack {
    plant_params p;
    unsigned n;
    uint64_t seed;            /* as given to rack_init */
    uint8_t fidelity;         /* pmod_fidelity */
    pmod *mod;                /* n modules */
    double *r_slot;           /* busbar resistance of each slot, ohm */
    double *i_lin, *g_lin;    /* each module's current and dI/dV at the step's start */
    double *c_lin;            /* each module's output capacitance on the bus at the step's start (0: off it) */
    double *io_out;           /* each module's current into the bus after the step (0: off it) */
    /* (Arrays, not pmod fields, so that the serial sums read a few lines a
     * thread has written instead of a line of every module.) */
    const lavg_table *tab;    /* the averaged model's table, held from the shared ones (lavg_get) */
    rack_load load;
    double vbus, vbus_prev, t, i_load, p_load;
    double e_load;            /* sum p_load x dt since rack_init: what the feed delivered, J (one sum a step,
                                 serial: not gated as the modules' pmod.tally) */
    double e_step;            /* sum C (v1 - v0)^2 / 2 since rack_init, J: what the bus step (backward Euler)
                                 loses of the energy into the bus node, C v1 (v1 - v0) a step, against the
                                 capacitance's C (v1^2 - v0^2) / 2; C the step's (the bus's and the outputs'
                                 on it). Under 1e-5 of the energy through in a settled run; a bus that moves
                                 faster than the step resolves (a short: 0.2 ms) loses more */
    double i_sum;             /* sum of module currents in the last step */
    double r_short;           /* injected: the bus shorted through this many ohm (0: no short; rack_short) */
    uint8_t load_open;        /* injected: the load disconnected (rack_load_dump) */
} rack;

/* A rack of n modules (1..510) at rest. 0, or EK3_EINVAL (bad n or
 * load), EK3_ERANGE (bad parameters), EK3_ENOSPC (out of memory). */
int rack_init(rack *r, const plant_params *p, unsigned n, pmod_fidelity f, uint64_t seed, const rack_load *load);

void rack_free(rack *r);

/* Builds the averaged model's table for p's power stage (NULL: the
 * default one, prm_defaults) now, and keeps
 * it among the shared ones (avg.h, lavg_get): a parent about to fork the
 * runs of a set calls it once, and every child's rack_init of that
 * power stage finds it built (about 0.3 s a run less). 0, or EK3_ENOSPC. */
int rack_prebuild(const plant_params *p);

/* Give module k (0-based) its own parameters p instead of the rack's, as
 * a board of another build or an aged part would have (its tolerances are
 * drawn from p with its own seed, as rack_init drew them): at rest, before
 * the first rack_step. The averaged model's table stays the rack's: a
 * module's own tank is read through it as its drawn tolerances are (by its
 * resonant frequency and impedance). 0, or EK3_EINVAL (k out of range),
 * EK3_ERANGE (p fails prm_check). */
int rack_module_params(rack *r, unsigned k, const plant_params *p);

/* Advance one interval of dt seconds (a control period). */
void rack_step(rack *r, double dt);

/* Give every module its Level-0 protection RTL (pmod_protect). 0, or
 * EK3_ENOSPC. rack_free releases them. */
int rack_protect(rack *r);

/* rack_step in its four parts, for runners that spread the modules
 * over threads: linearize and update touch only modules k0..k1-1 (any
 * split gives the same result, bit for bit); solve_bus and finish are
 * serial, in slot order. */
void rack_linearize(rack *r, unsigned k0, unsigned k1);
void rack_solve_bus(rack *r, double dt);
void rack_update(rack *r, double dt, unsigned k0, unsigned k1);
void rack_finish(rack *r, double dt);

/* Hot swap: pull a module out of its slot / put one in (a fresh module
 * at rest: none of the faults of the one pulled, pmod_renew; the slot's
 * tolerances). 0, or EK3_ENOENT (no such slot), EK3_EBUSY (already out /
 * in). */
int rack_remove(rack *r, unsigned slot);
int rack_insert(rack *r, unsigned slot);

/* Short the DC bus (the rack's output) through ohm ohms, in parallel
 * with its load; 0 removes the short. Its current counts in i_load and
 * p_load (what the feed delivers). 0, or EK3_ERANGE (not 0 and not
 * 1 mohm to 1 Mohm). */
int rack_short(rack *r, double ohm);

/* Load dump: the rack's load disconnected at once (open 1: no current
 * flows into it; a battery keeps its charge) or connected again (0). 0. */
int rack_load_dump(rack *r, int open);

/* Every module's ambient at t_c C, or back to each one's value before
 * the fault (on 0): pmod_fault_ambient. 0 or EK3_ERANGE (nothing
 * changes then). */
int rack_fault_ambient(rack *r, double t_c, int on);

/* Open-circuit voltage of the battery at its state of charge. */
double rack_ocv(const rack_load *l);

#endif /* RACK_H */
