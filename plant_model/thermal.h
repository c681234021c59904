/*
 * thermal.h - the module's thermal network (prefix th_): a Cauer ladder
 * from each heat source to one heatsink with heat capacity, and from the
 * heatsink to ambient through a resistance that falls with the fan's
 * airflow.
 *
 *   junctions of leg A, leg B  --R_j--+
 *   transformer (core, copper) --R_x--+-- heatsink (C_hs) --R_ha(airflow)-- ambient
 *   resonant inductor          --R_l--+
 *   rectifier diodes ----------------(into the heatsink node)
 *
 * Each source node has its own heat capacity. The network is a star, so
 * one trapezoidal (Crank-Nicolson) step is solved exactly in closed form
 * (no iteration): second-order accurate, unconditionally stable.
 */
#ifndef THERMAL_H
#define THERMAL_H

enum th_node { TH_JA, TH_JB, TH_XFMR, TH_LR, TH_LEAVES, TH_HS = TH_LEAVES, TH_NODES };

typedef struct th_params {
    double rth_jc, rth_cs, cth_j;      /* one MOSFET: junction-case, case-sink, junction mass */
    double rth_x, cth_x;               /* transformer to heatsink, its heat capacity */
    double rth_l, cth_l;               /* resonant inductor */
    double cth_hs;                     /* heatsink heat capacity */
    double r_ha_nat, r_ha_fan;         /* sink-ambient: natural convection, full airflow */
    double t_amb;                      /* ambient, C */
    double fan_tau;                    /* fan speed time constant, s */
    double fan_rpm;                    /* full speed */
} th_params;

typedef struct th_state {
    double t[TH_NODES];   /* temperatures, C */
    double fan_speed;     /* 0..1 of full speed */
    double fan_health;    /* 1 healthy, 0 failed (seized), between: worn/slowed */
} th_state;

/* Resistances and capacities of each node, as the network uses them
 * (two MOSFETs per leg in parallel). */
void th_node_rc(const th_params *p, double r[TH_LEAVES], double c[TH_NODES]);

/* Sink-to-ambient resistance at airflow fraction a (0..1). */
double th_r_ha(const th_params *p, double a);

/* Everything at ambient, fan stopped and healthy. */
void th_init(th_state *s, const th_params *p);

/* Advance dt seconds with heat flows p_w[TH_NODES] (W, into each node;
 * p_w[TH_HS] is what enters the sink directly) and the fan command
 * duty 0..1. */
void th_step(th_state *s, const th_params *p, const double p_w[TH_NODES], double fan_duty, double dt);

#endif /* THERMAL_H */
