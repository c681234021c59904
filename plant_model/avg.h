/*
 * avg.h - the averaged model of the power stage (prefix lavg_): a table
 * of cycle-averaged steady states computed by the switching solver
 * (llc.h), and its use at rack scale.
 *
 * The table is indexed by normalized frequency fn = fsw / fr and
 * normalized output voltage mv = n vo / Vbridge (Vbridge = vdc in full
 * bridge, vdc / 2 in half bridge), one table per bridge mode. For each
 * fn the no-load voltage mv_nl (above it the rectifier never conducts)
 * is found by bisection, and the points are spaced geometrically below
 * it, s = 1 - mv / mv_nl from 1e-3 to 1, because near resonance the
 * module is almost a voltage source: its current falls from full to
 * zero within a few volts of mv_nl. Each point is the switching model
 * run to periodic steady state with its output held at vo by a voltage
 * source; it stores the mean output current, input power and the
 * losses of each part, normalized by Vbridge / Z0 (currents) and
 * Vbridge^2 / Z0 (powers). A module whose
 * tank differs from the nominal one (tolerances) uses its own fr and
 * Z0; the table's Ln is the nominal one (docs/plant-model.md gives the
 * error this makes).
 */
#ifndef AVG_H
#define AVG_H

#include "llc.h"

#define LAVG_NF 28
#define LAVG_NS 22
#define LAVG_FN_MIN 0.5
#define LAVG_FN_MAX 2.0
#define LAVG_S_MIN 1e-3
#define LAVG_MV_MAX 2.5

enum lavg_q { LAVG_IO, LAVG_PIN, LAVG_PA, LAVG_PB, LAVG_PX, LAVG_PL, LAVG_PRECT, LAVG_HARD, LAVG_NQ };

typedef struct lavg_table {
    double fr, z0, vdc, n; /* of the nominal module it was built for */
    double nl[2][LAVG_NF];                 /* no-load mv per fn */
    float v[2][LAVG_NF][LAVG_NS][LAVG_NQ]; /* [half_bridge][fn][s][quantity] */
    double build_s;        /* simulated seconds it took */
} lavg_table;

/* Build the table from the nominal power stage (about 0.3 s of CPU). */
void lavg_build(lavg_table *t, const llc_params *p);

/* The operating point of a module with tank (fr, z0) at (fsw, vo):
 * out[LAVG_NQ] in amperes and watts, bilinear between points. */
void lavg_eval(const lavg_table *t, double fr, double z0, double vdc, double n, int half_bridge, double fsw,
               double vo, double out[LAVG_NQ]);

/* A module's operating column, prepared once per command: then
 * lavg_io gives the output current at any voltage cheaply. */
typedef struct lavg_pt {
    int hb, i;
    double fx, nl, vb, n, ib, burst;
} lavg_pt;

void lavg_prepare(const lavg_table *t, double fr, double z0, double vdc, double n, int half_bridge, double fsw,
                  double burst, lavg_pt *pt);

/* Mean output current (A) at output voltage vo, and dI/dV into *slope. */
double lavg_io(const lavg_table *t, const lavg_pt *pt, double vo, double *slope);

/* Grid value of fn and s at an index. */
double lavg_fn(int i);
double lavg_s(int k);

#endif /* AVG_H */
