/*
 * params.h - every parameter of the plant, with its unit, default and
 * allowed range, by name (prefix prm_). `ek3 plant params` prints this
 * table; `--set name=value` changes one entry; a bad name or value is an
 * error that names it.
 *
 * The defaults are the EK3 module of docs/plant-model.md: 3.3 kW,
 * 200-920 V out, under 4.0 A, fr = 200 kHz, Ln = 6, full bridge of
 * C3M0016120K on a 750 V DC link, half-bridge mode and burst mode for the
 * low end of the range.
 */
#ifndef PARAMS_H
#define PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "llc.h"
#include "thermal.h"

typedef struct plant_params {
    llc_params llc;
    th_params th;
    /* Sensing as the ADC sees it. */
    double fs_vout, fs_iout, fs_vdc, fs_igf; /* full-scale values of the 12-bit channels */
    double ntc_r25, ntc_beta, ntc_rpull;     /* NTC to ground, pull-up to Vref */
    double adc_gain_sd, adc_offset_sd, adc_noise_lsb;
    double sense_delay;                      /* sensing path delay, s */
    /* Component spread, one standard deviation (fraction), drawn per module. */
    double tol_lr, tol_cr, tol_lm, tol_rds, tol_rbus;
    /* The rack. */
    double r_bus_slot;   /* busbar resistance added per slot from the feed, ohm */
    double c_bus;        /* bus capacitance besides the modules' own, F */
    double r_bleed;      /* module output bleeder, ohm */
    double rload;        /* open-loop run: load resistance, ohm */
} plant_params;

typedef struct prm_def {
    const char *name;
    const char *unit;
    size_t off;
    double def, min, max;  /* allowed: min < v <= max (min_incl: min <= v) */
    uint8_t min_incl;
    const char *doc;
} prm_def;

/* The table, in print order, and its length. */
const prm_def *prm_table(size_t *n);

/* The defaults. */
void prm_defaults(plant_params *p);

/* Set one parameter from "name=value". 0, or EK3_ENOENT (no such name),
 * EK3_EPARSE (not "name=number"), EK3_ERANGE (outside its range, or the
 * circuit it makes is not valid): err gets a message naming the
 * parameter and the reason. */
int prm_set(plant_params *p, const char *assign, char *err, size_t errlen);

/* Check the whole set (ranges, then the circuit: llc_check). 0 or
 * EK3_ERANGE with a message in err. */
int prm_check(const plant_params *p, char *err, size_t errlen);

/* Check the parameters that are facts of the board the firmware is built
 * for (firmware/hal/board.h: full scales, NTC constants) against the
 * sheet, for a run with the firmware in the loop. 0 or EK3_ERANGE with a
 * message in err naming the first that differs. */
int prm_check_board(const plant_params *p, char *err, size_t errlen);

/* Value of a parameter by table entry. */
double prm_get(const plant_params *p, const prm_def *d);

/* Derived design figures (docs/plant-model.md). */
typedef struct prm_design {
    double fr, fm, ln, z0, q_full, rload_full, m_res_fb, vo_res_fb, im_pk;
} prm_design;
void prm_design_of(const plant_params *p, prm_design *d);

/* The rectifier diode's charge-equivalent junction capacitance (F):
 * Wolfspeed C4D10120 datasheet, Qc = 52 nC at VR = 800 V, Qc / VR. The
 * `cj` parameter's value for the module's real diodes; its default is 0
 * (docs/plant-model.md: the cost of the fourth-order interval). */
#define PRM_CJ_C4D10120 65e-12

#endif /* PARAMS_H */
