/*
 * llc.h - the switching model of one module's power stage (prefix llc_):
 * a full bridge (or half bridge) of SiC MOSFETs, the series Lr-Cr tank,
 * a transformer with magnetizing inductance Lm and turns ratio n, a
 * diode bridge rectifier and the output capacitor with its load.
 *
 * The circuit is piecewise linear. Between two events it is one series
 * R-L-C circuit driven by a constant voltage, whose solution is closed
 * form (a damped sinusoid): the solver jumps from event to event, never
 * stepping with a fixed small step. Events are located in time by
 * safeguarded Newton iteration on closed-form functions:
 *   - bridge edges and the end of each dead time (the PWM schedule);
 *   - the bridge node reaching a rail during a dead time (Coss charged:
 *     zero-voltage switching), or not reaching it (hard switching);
 *   - body diodes starting and stopping to conduct (burst off, disable);
 *   - rectifier commutation: the rectifier current reaching zero, and
 *     the magnetizing voltage reaching the reflected output voltage.
 * While the rectifier is off, its diodes' junction capacitance (cj, one
 * diode: the winding sees the four in a bridge as one) reflected to the
 * primary (cj / n^2) sits in parallel with Lm and swings from one
 * clamp, -n (vo + 2 vf), to the other before the opposite diodes
 * conduct: that interval is a fourth-order loop, solved in closed form
 * as two damped modes (with cj = 0 it is the second-order Lr + Lm loop).
 * The output capacitor voltage is held constant within one event
 * interval and advanced exactly over it with the interval's mean
 * rectified current (intervals are < 1/4 of a resonant period; the
 * output's time constant is milliseconds): docs/plant-model.md states
 * what this costs against ngspice.
 *
 * Losses are integrated in closed form (conduction, diodes) or from the
 * waveform (turn-off energy at the interrupted current, hard-switching
 * energy, iGSE core loss, secondary copper).
 */
#ifndef LLC_H
#define LLC_H

#include <stdint.h>

/* Parameters of the power stage (SI units). */
typedef struct llc_params {
    double vdc;                 /* DC link from the front end */
    double lr, cr, lm, n;       /* tank; n = Np / Ns */
    double cout;                /* output capacitance */
    double coss0, coss_vj, coss_m; /* Coss(V) = coss0 / (1 + V / coss_vj)^coss_m, one MOSFET */
    double rds25, rds_tc;       /* Rds_on at 25 C; rise per kelvin (fraction) */
    double vsd;                 /* body diode forward drop */
    double eoff_a, eoff_b;      /* turn-off energy at 800 V: a*I + b*I^2 */
    double r_lr, r_pri, r_sec;  /* DC winding resistances: Lr, primary, secondary */
    double fr_ac;               /* AC resistance factor of the windings */
    double vf;                  /* rectifier diode drop */
    double core_k, core_alpha, core_beta; /* Steinmetz (W/m^3, Hz, T) */
    double core_ae, core_ve, np;          /* core area, volume, primary turns */
    double cj;                  /* rectifier diode junction capacitance, one diode,
                                   charge-equivalent over its reverse swing (Qc / VR) */
} llc_params;

/* The smallest non-zero rectifier capacitance on the primary (cj / n^2),
 * farads. Below it the loop's fastest mode runs past 1 GHz with the
 * smallest lr and the event solver would step through each quantum in
 * millions of pieces; a real diode bridge's is tens of picofarads. */
#define LLC_CP_MIN 1e-12

/* The PWM command (what HRTIM is told). */
typedef struct llc_cmd {
    double fsw;       /* switching frequency, Hz */
    double deadtime;  /* s */
    double burst;     /* fraction of switching periods that switch (0..1] */
    uint8_t enable;
    uint8_t half_bridge;
} llc_cmd;

/* Energies since the last llc_take (J), and counts. */
typedef struct llc_acc {
    double t;                   /* time covered, s */
    double e_in;                /* from the DC link */
    double e_out;               /* into the output node (capacitor + load) */
    double e_load;              /* into the load resistor */
    double q_out;               /* charge into the output node, C */
    double e_cond_a, e_cond_b;  /* MOSFET channels and body diodes, per leg */
    double e_off_a, e_off_b;    /* turn-off and hard-switching, per leg */
    double e_lr;                /* resonant inductor: winding copper (its core loss is not modelled) */
    double e_xfmr;              /* transformer: primary + secondary copper, core */
    double e_rect;              /* rectifier diodes */
    double e_tank;              /* change of stored energy (tank, node, Cout) */
    uint32_t edges, hard_edges, periods;
    double i_rms2;              /* integral of i_Lr^2 */
    double i_pk;                /* peak |i_Lr| */
} llc_acc;

/* Conduction state. */
enum llc_bridge { LLC_FLOAT, LLC_DRIVEN, LLC_CLAMPED, LLC_IDLE };

typedef struct llc {
    llc_params p;
    llc_cmd cmd, next_cmd;
    double t;                   /* simulated time, s */
    double i, vcr, ilm, vo, vab;/* state */
    double vm;                  /* magnetizing voltage = the rectifier's voltage reflected
                                   to the primary (a state while the rectifier is off, cj > 0) */
    int8_t rect;                /* rectifier: +1, -1, 0 */
    uint8_t bridge;             /* llc_bridge */
    int8_t rail;                /* DRIVEN/CLAMPED: +1 upper rail, -1 lower */
    uint8_t phase;              /* 0 dead->+, 1 drive +, 2 dead->-, 3 drive - */
    uint8_t vo_fixed;           /* output held by a voltage source */
    double tp;                  /* time into the switching period */
    uint32_t burst_k;           /* period index within the burst packet */
    double rload;               /* load resistance (ohm); <= 0: none */
    double tj_a, tj_b;          /* junction temperatures for Rds_on */
    double lm_int, ilm_min, ilm_max; /* per-period iGSE accumulators */
    double ilr_pk_period;
    double core_ki;             /* iGSE coefficient, from the Steinmetz triple */
    double co_tr, co_er;        /* Coss equivalents at vdc: same charge, same energy */
    double cp;                  /* the rectifier's capacitance reflected to the primary: cj / n^2 */
    struct llc_modes {          /* the fourth-order loop's modes, kept for its last two (C, R) */
        double C, R, a[2], w[2];
    } modes[2];
    uint8_t modes_next;
    llc_acc acc;
    uint32_t events;            /* events handled, for the benchmark */
} llc;

/* Check parameters; 0 or EK3_ERANGE with *bad set to the first bad
 * field's name (negative inductance, zero turns, ...). */
int llc_check(const llc_params *p, const char **bad);

/* Start at rest: everything zero, output at vo0, junctions at 25 C. */
void llc_init(llc *m, const llc_params *p, double vo0);

/* The command takes effect at the start of the next switching period
 * (HRTIM preload). 0, or EK3_ERANGE (frequency 0 or over 2 MHz, dead
 * time over a quarter period, burst outside 0..1). */
int llc_command(llc *m, const llc_cmd *c);

/* Advance to time t_end (s). If sample_dt > 0, fn(ctx, m) is called at
 * every multiple of sample_dt on the way (the state is exact there). */
void llc_run(llc *m, double t_end, double sample_dt, void (*fn)(void *ctx, const llc *m), void *ctx);

/* Coss equivalents of the curve at voltage v: time-related (the same
 * charge) and energy-related (the same stored energy), F. */
double llc_coss_tr(const llc_params *p, double v);
double llc_coss_er(const llc_params *p, double v);

/* Rds_on at junction temperature tj (C). */
double llc_rds(const llc_params *p, double tj);

/* Take the accumulators and start new ones. */
llc_acc llc_take(llc *m);

/* Stored energy of the circuit now (J). */
double llc_stored(const llc *m);

#endif /* LLC_H */
