/*
 * avg.h - the averaged model of the power stage (prefix lavg_): a table
 * of cycle-averaged steady states computed by the switching solver
 * (llc.h), and its use at rack scale.
 *
 * The table is indexed by normalized frequency fn = fsw / fr (a column
 * each, one set per bridge mode); a column holds the steady states at
 * normalized output voltages mv = n vo / Vbridge (Vbridge = vdc in full
 * bridge, vdc / 2 in half bridge) below its no-load voltage mv_nl (above
 * it the rectifier never conducts, found by bisection), each at its
 * s = 1 - mv / mv_nl. The samples are placed by the current they carry:
 * a geometric grid in s (1e-3 to 1), then points added where the output
 * current between two samples jumps by more than LAVG_DU_ABS + LAVG_DU_REL
 * times itself, because near resonance the module is almost a voltage
 * source: its whole rated current lies within 1 % of mv_nl, where a grid
 * in s alone puts one interval from a few hundred milliamperes to tens of
 * amperes (and from ZVS to hard switching). Each point is the switching
 * model run to periodic steady state with its output held at vo by a
 * voltage source; it stores the mean output current and the losses of
 * each part, normalized by Vbridge / Z0 (currents) and Vbridge^2 / Z0
 * (powers), and the point's own energy residual (input - output -
 * losses). The output current at a voltage is interpolated at the same s
 * in the two columns around fn; the losses and the ZVS verdict at the
 * same output current (what sets the tank current); the input power is
 * the output plus the losses (plus the interpolated residual). A module
 * whose tank differs from the nominal one (tolerances) uses its own fr
 * and Z0; the table's Ln is the nominal one (docs/plant-model.md gives
 * the error this makes).
 */
#ifndef AVG_H
#define AVG_H

#include "llc.h"

#define LAVG_NF 28
#define LAVG_NS 44  /* samples per column, at most */
#define LAVG_NS0 14 /* of them on the geometric grid in s; the others refine it */
#define LAVG_DU_ABS 0.02 /* refine while a step of output current exceeds this (of Vbridge / Z0) */
#define LAVG_DU_REL 0.15 /* plus this fraction of the current */
#define LAVG_NG 42       /* guide buckets of s: a quarter octave each from 2^-10 (lavg_bucket) */
#define LAVG_FN_MIN 0.5
#define LAVG_FN_MAX 2.0
#define LAVG_S_MIN 1e-3
#define LAVG_MV_MAX 2.5

enum lavg_q { LAVG_IO, LAVG_PIN, LAVG_PA, LAVG_PB, LAVG_PX, LAVG_PL, LAVG_PRECT, LAVG_HARD, LAVG_NQ };

typedef struct lavg_table {
    double fr, z0, vdc, n; /* of the nominal module it was built for */
    double nl[2][LAVG_NF];                 /* no-load mv per fn */
    uint8_t ns[2][LAVG_NF];                /* samples in each column */
    float s[2][LAVG_NF][LAVG_NS];          /* each sample's s, ascending (so is its current) */
    uint8_t guide[2][LAVG_NF][LAVG_NG + 1]; /* samples whose s lies in a lower bucket */
    float v[2][LAVG_NF][LAVG_NS][LAVG_NQ]; /* [half_bridge][fn][sample][quantity]; LAVG_PIN holds
                                            * the sample's residual input - output - losses */
    double build_s;        /* simulated seconds it took */
    uint64_t id;           /* this build's serial number (from 1): a lavg_pt's unpacked brackets name it */
} lavg_table;

/* Build the table from the nominal power stage (about 0.3 s of CPU). */
void lavg_build(lavg_table *t, const llc_params *p);

/* The process's shared tables. A table is a pure function of the power
 * stage it is built from, so every rack whose llc_params are the same,
 * bit for bit, can read one build: a scenario set run in one process
 * builds it once, and the children `ek3 scenario run --jobs` and
 * `ek3 nightly` fork find it built when the parent warmed it first.
 *
 * lavg_get: the table for p, held by the caller until its lavg_put.
 * Built now on its first use (lavg_build), else the kept one; the same
 * contents bit for bit either way (test_plant compares them), only its
 * id (the build's serial number) says which build it is. Besides the
 * tables held, the LAVG_KEPT used last are kept for the next lavg_get.
 * Thread-safe: one mutex, held through a build, so that two callers
 * with the same p get one build; safe across fork() (pthread_atfork).
 * Returns NULL when memory runs out.
 * lavg_put: give back one hold of t (from lavg_get; NULL: nothing). */
#define LAVG_KEPT 4
const lavg_table *lavg_get(const llc_params *p);
void lavg_put(const lavg_table *t);

/* The operating point of a module with tank (fr, z0) at (fsw, vo):
 * out[LAVG_NQ] in amperes and watts (LAVG_HARD: the fraction of edges
 * switched hard): the current as lavg_io gives it, the losses at that
 * current, the input power their sum with the output. */
void lavg_eval(const lavg_table *t, double fr, double z0, double vdc, double n, int half_bridge, double fsw,
               double vo, double out[LAVG_NQ]);

/* A module's operating column, prepared once per command: then
 * lavg_io gives the output current at any voltage cheaply. A pt starts
 * zeroed (lavg_pt pt = {0}, memset): lavg_prepare reuses what an earlier
 * prepare left in it where its inputs did not change. */
typedef struct lavg_br {        /* a bracket k of a column, its values as lavg_io uses them */
    double lo, hi;              /* it holds s when lo <= s < hi (-inf at k = 0, +inf at k = ns - 2) */
    double s0, d, v0, dv, dds;  /* s[k], s[k + 1] - s[k], io[k], io[k + 1] - io[k] (float), dv / d (0 at d = 0) */
} lavg_br;

typedef struct lavg_pt {
    int hb, i;
    double fx, nl, vb, n, ib, burst;
    double scale, kslope;       /* ib * burst and -n / vb / nl: lavg_io's factors, computed once */
    double fn;                  /* the fsw / fr that gave i and fx: lavg_prepare reuses them at the same bits */
    int k[2];                   /* the brackets lavg_io found last in columns i and i + 1: tried first (the
                                 * output moves little between calls); any value is safe, only the speed differs */
    lavg_br br[2];              /* brackets k[0] and k[1] unpacked, so that an s in the same bracket costs no
                                 * search and no table read; lavg_prepare empties them (lo = +inf) when the
                                 * column or the table's build (br_id) changed */
    uint64_t br_id;             /* the lavg_table.id they came from */
} lavg_pt;

void lavg_prepare(const lavg_table *t, double fr, double z0, double vdc, double n, int half_bridge, double fsw,
                  double burst, lavg_pt *pt);

/* lavg_eval from pt, prepared by lavg_prepare(t, fr, z0, vdc, n,
 * half_bridge, fsw, any burst, pt): the same out, without preparing a
 * column again (a module's own pt; pt is not changed). */
void lavg_eval_pt(const lavg_table *t, const lavg_pt *pt, double z0, double vo, double out[LAVG_NQ]);

/* Mean output current (A) at output voltage vo, and dI/dV into *slope.
 * Updates pt->k and pt->br (its bracket hints, unpacked) only. */
double lavg_io(const lavg_table *t, lavg_pt *pt, double vo, double *slope);

/* Grid value of fn at a column; s of the k-th point of the initial grid in s. */
double lavg_fn(int i);
double lavg_s(int k);

#endif /* AVG_H */
