/* params.c - the plant's parameter table. */
#include "params.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "ek3_err.h"

#define P(f) offsetof(plant_params, f)

/* Sources: C3M0016120K datasheet (Wolfspeed) for Rds_on(Tj), Coss,
 * body diode, Rth_jc; TDK N97 ferrite for the Steinmetz triple at
 * 100 C; PQ50/50 core geometry; the seed for the module's limits. The
 * design is worked through in docs/plant-model.md. */
static const prm_def prm_defs[] = {
    {"vdc", "V", P(llc.vdc), 750, 10, 1500, 1, "DC link from the front end (PFC)"},
    {"lr", "H", P(llc.lr), 51.6e-6, 1e-6, 1e-2, 1, "resonant inductance"},
    {"cr", "F", P(llc.cr), 12.27e-9, 1e-10, 1e-4, 1, "resonant capacitance (fr = 200 kHz)"},
    {"lm", "H", P(llc.lm), 309.6e-6, 2e-6, 1e-2, 1, "magnetizing inductance (Ln = 6)"},
    {"n", "", P(llc.n), 0.95, 0.01, 100, 1, "turns ratio Np/Ns"},
    {"np", "turns", P(llc.np), 32, 1, 1000, 1, "primary turns"},
    {"cout", "F", P(llc.cout), 10e-6, 1e-7, 1, 1, "output capacitance"},
    {"coss0", "F", P(llc.coss0), 4.5e-9, 1e-12, 1e-6, 1, "Coss at 0 V, one MOSFET (C3M0016120K curve fit)"},
    {"coss_vj", "V", P(llc.coss_vj), 3.0, 0.1, 1e4, 1, "Coss curve knee voltage"},
    {"coss_m", "", P(llc.coss_m), 0.55, 0, 0.99, 1, "Coss curve exponent"},
    {"rds25", "ohm", P(llc.rds25), 16e-3, 0, 10, 0, "Rds_on at Tj = 25 C (C3M0016120K)"},
    {"rds_tc", "1/K", P(llc.rds_tc), 0.0047, 0, 0.1, 1, "Rds_on rise per kelvin (x1.7 at 175 C)"},
    {"vsd", "V", P(llc.vsd), 4.0, 0, 20, 1, "body diode forward drop"},
    {"eoff_a", "J/A", P(llc.eoff_a), 1.0e-6, 0, 1e-3, 1, "turn-off energy at 800 V, linear term"},
    {"eoff_b", "J/A^2", P(llc.eoff_b), 0.08e-6, 0, 1e-3, 1, "turn-off energy at 800 V, square term"},
    {"r_lr", "ohm", P(llc.r_lr), 30e-3, 0, 10, 1, "Lr winding, DC"},
    {"r_pri", "ohm", P(llc.r_pri), 40e-3, 0, 10, 1, "transformer primary, DC"},
    {"r_sec", "ohm", P(llc.r_sec), 45e-3, 0, 10, 1, "transformer secondary, DC"},
    {"fr_ac", "", P(llc.fr_ac), 1.6, 1, 20, 1, "AC resistance factor of the litz windings at fsw"},
    {"vf", "V", P(llc.vf), 1.4, 0, 10, 1, "rectifier diode drop (SiC Schottky)"},
    {"cj", "F", P(llc.cj), 0, 0, 1e-9, 1,
     "rectifier diode junction capacitance, one diode, charge-equivalent Qc / VR; the C4D10120's is PRM_CJ_C4D10120 "
     "= 65 pF (Qc 52 nC at 800 V); 0 (off) by default: see docs/plant-model.md"},
    {"core_k", "W/m^3", P(llc.core_k), 4.0, 0, 1e6, 1, "Steinmetz k (TDK N97, 100 C; f in Hz, B in T)"},
    {"core_alpha", "", P(llc.core_alpha), 1.46, 1, 2.95, 0, "Steinmetz alpha"},
    {"core_beta", "", P(llc.core_beta), 2.75, 1, 3.95, 0, "Steinmetz beta"},
    {"core_ae", "m^2", P(llc.core_ae), 328e-6, 1e-6, 1, 1, "core cross-section (PQ50/50)"},
    {"core_ve", "m^3", P(llc.core_ve), 37.3e-6, 1e-8, 1, 1, "core volume (PQ50/50)"},
    {"rth_jc", "K/W", P(th.rth_jc), 0.27, 1e-3, 100, 1, "junction to case, one MOSFET"},
    {"rth_cs", "K/W", P(th.rth_cs), 0.20, 1e-3, 100, 1, "case to heatsink (insulator and paste)"},
    {"cth_j", "J/K", P(th.cth_j), 0.02, 0, 100, 0, "junction and die-attach heat capacity"},
    {"rth_x", "K/W", P(th.rth_x), 1.5, 1e-3, 1e3, 1, "transformer to heatsink"},
    {"cth_x", "J/K", P(th.cth_x), 120, 0, 1e5, 0, "transformer heat capacity"},
    {"rth_l", "K/W", P(th.rth_l), 2.5, 1e-3, 1e3, 1, "resonant inductor to heatsink"},
    {"cth_l", "J/K", P(th.cth_l), 40, 0, 1e5, 0, "resonant inductor heat capacity"},
    {"cth_hs", "J/K", P(th.cth_hs), 350, 0, 1e6, 0, "heatsink heat capacity"},
    {"r_ha_nat", "K/W", P(th.r_ha_nat), 1.2, 1e-3, 100, 1, "heatsink to ambient, fan stopped"},
    {"r_ha_fan", "K/W", P(th.r_ha_fan), 0.12, 1e-3, 100, 1, "heatsink to ambient, full airflow"},
    {"t_amb", "C", P(th.t_amb), 35, -40, 85, 1, "ambient"},
    {"fan_tau", "s", P(th.fan_tau), 2.0, 0, 100, 0, "fan speed time constant"},
    {"fan_rpm", "rpm", P(th.fan_rpm), BRD_FAN_RPM, 0, 1e5, 0, "fan full speed"},
    {"fs_vout", "V", P(fs_vout), BRD_FS_VOUT_V, 0, 1e4, 0, "VOUT channel full scale"},
    {"fs_iout", "A", P(fs_iout), BRD_FS_IOUT_A, 0, 1e3, 0, "IOUT channel full scale"},
    {"fs_vdc", "V", P(fs_vdc), BRD_FS_VDC_V, 0, 1e4, 0, "VDC channel full scale"},
    {"fs_igf", "A", P(fs_igf), BRD_FS_IGF_A, 0, 10, 0, "ground-fault channel full scale"},
    {"ntc_r25", "ohm", P(ntc_r25), BRD_NTC_R25_OHM, 0, 1e7, 0, "NTC resistance at 25 C"},
    {"ntc_beta", "K", P(ntc_beta), BRD_NTC_BETA_K, 0, 1e5, 0, "NTC B constant"},
    {"ntc_rpull", "ohm", P(ntc_rpull), BRD_NTC_RPULL_OHM, 0, 1e7, 0, "NTC pull-up to the ADC reference"},
    {"adc_gain_sd", "", P(adc_gain_sd), 0.001, 0, 0.2, 1, "per-module gain error after end-of-line calibration, one sigma"},
    {"adc_offset_sd", "LSB", P(adc_offset_sd), 3, 0, 200, 1, "per-module offset, one sigma"},
    {"adc_noise_lsb", "LSB", P(adc_noise_lsb), 1.2, 0, 200, 1, "noise per sample, one sigma"},
    {"sense_delay", "s", P(sense_delay), 2e-6, 0, 1e-3, 1, "sensing path delay (filters)"},
    {"tol_lr", "", P(tol_lr), 0.02, 0, 0.3, 1, "Lr spread, one sigma"},
    {"tol_cr", "", P(tol_cr), 0.02, 0, 0.3, 1, "Cr spread, one sigma"},
    {"tol_lm", "", P(tol_lm), 0.04, 0, 0.3, 1, "Lm spread, one sigma"},
    {"tol_rds", "", P(tol_rds), 0.05, 0, 0.5, 1, "Rds_on spread, one sigma"},
    {"tol_rbus", "", P(tol_rbus), 0.10, 0, 0.5, 1, "busbar joint spread, one sigma"},
    {"r_bus_slot", "ohm", P(r_bus_slot), 0.2e-3, 0, 1, 1, "busbar resistance per slot from the feed"},
    {"c_bus", "F", P(c_bus), 2e-3, 0, 10, 0, "rack bus capacitance besides the modules'"},
    {"r_bleed", "ohm", P(r_bleed), 1e6, 0, 1e9, 0, "module output bleeder"},
    {"rload", "ohm", P(rload), 200, 0, 1e9, 0, "load of a single-module run"},
};

const prm_def *prm_table(size_t *n)
{
    *n = sizeof prm_defs / sizeof prm_defs[0];
    return prm_defs;
}

static double *prm_ptr(plant_params *p, const prm_def *d)
{
    return (double *)((char *)p + d->off);
}

double prm_get(const plant_params *p, const prm_def *d)
{
    return *(const double *)((const char *)p + d->off);
}

void prm_defaults(plant_params *p)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < sizeof prm_defs / sizeof prm_defs[0]; i++)
        *prm_ptr(p, &prm_defs[i]) = prm_defs[i].def;
}

static int prm_in_range(const prm_def *d, double v)
{
    return isfinite(v) && (d->min_incl ? v >= d->min : v > d->min) && v <= d->max;
}

static void prm_range_msg(const prm_def *d, double v, char *err, size_t errlen)
{
    const char *sp = *d->unit ? " " : ""; /* a unitless value has no space after it */
    snprintf(err, errlen, "plant parameter '%s': %g%s%s is outside its range %s%g .. %g%s%s", d->name, v, sp,
             d->unit, d->min_incl ? "" : "above ", d->min, d->max, sp, d->unit);
}

/* The plant parameters that are facts of the board (board.h): the
 * firmware reads its sensors with the sheet's values. */
static const struct {
    const char *name, *sheet;
    size_t off;
    double v;
} prm_board[] = {
    {"fs_vout", "BRD_FS_VOUT_V", P(fs_vout), BRD_FS_VOUT_V},
    {"fs_iout", "BRD_FS_IOUT_A", P(fs_iout), BRD_FS_IOUT_A},
    {"fs_vdc", "BRD_FS_VDC_V", P(fs_vdc), BRD_FS_VDC_V},
    {"fs_igf", "BRD_FS_IGF_A", P(fs_igf), BRD_FS_IGF_A},
    {"ntc_r25", "BRD_NTC_R25_OHM", P(ntc_r25), BRD_NTC_R25_OHM},
    {"ntc_beta", "BRD_NTC_BETA_K", P(ntc_beta), BRD_NTC_BETA_K},
    {"ntc_rpull", "BRD_NTC_RPULL_OHM", P(ntc_rpull), BRD_NTC_RPULL_OHM},
};

int prm_check_board(const plant_params *p, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof prm_board / sizeof prm_board[0]; i++) {
        double v = *(const double *)((const char *)p + prm_board[i].off);
        if (v == prm_board[i].v)
            continue;
        const char *unit = "";
        for (size_t j = 0; j < sizeof prm_defs / sizeof prm_defs[0]; j++)
            if (prm_defs[j].off == prm_board[i].off)
                unit = prm_defs[j].unit;
        snprintf(err, errlen,
                 "plant parameter '%s': %g%s%s is not the board's %g%s%s (firmware/hal/board.h %s), which the "
                 "firmware reads its sensors with: plant and firmware would disagree",
                 prm_board[i].name, v, *unit ? " " : "", unit, prm_board[i].v, *unit ? " " : "", unit,
                 prm_board[i].sheet);
        return EK3_ERANGE;
    }
    return EK3_OK;
}

int prm_check(const plant_params *p, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof prm_defs / sizeof prm_defs[0]; i++) {
        double v = prm_get(p, &prm_defs[i]);
        if (!prm_in_range(&prm_defs[i], v)) {
            prm_range_msg(&prm_defs[i], v, err, errlen);
            return EK3_ERANGE;
        }
    }
    const char *bad = NULL;
    if (llc_check(&p->llc, &bad)) {
        snprintf(err, errlen, "plant parameter '%s': the circuit it makes is not valid (%s)", bad ? bad : "?",
                 !bad                      ? "?"
                 : !strcmp(bad, "lm")      ? "lm must exceed lr"
                 : !strcmp(bad, "r_lr")    ? "an underdamped tank needs R < 2 sqrt(lr/cr)"
                 : !strcmp(bad, "core_beta") ? "core_beta must exceed core_alpha"
                 : !strcmp(bad, "cj")      ? "cj must be 0 (off), or cj / n^2 at least 1 pF and under cr / 4"
                                             : "outside what the power stage allows");
        return EK3_ERANGE;
    }
    /* The bridge must be able to forward-bias the rectifier in both of its
     * modes: in half bridge it drives vdc / 2 against n (vo + 2 vf) (a
     * tank that never reaches it rings for ever at rest and the event
     * solver crawls through it). */
    if (!(p->llc.vdc > 4.0 * p->llc.n * p->llc.vf)) {
        snprintf(err, errlen,
                 "plant parameter 'vdc': %g V cannot drive the rectifier in half-bridge mode: it must exceed "
                 "4 n vf = %g V",
                 p->llc.vdc, 4.0 * p->llc.n * p->llc.vf);
        return EK3_ERANGE;
    }
    if (p->th.r_ha_fan >= p->th.r_ha_nat) {
        snprintf(err, errlen, "plant parameter 'r_ha_fan': %g K/W must be below r_ha_nat (%g K/W)", p->th.r_ha_fan,
                 p->th.r_ha_nat);
        return EK3_ERANGE;
    }
    return EK3_OK;
}

int prm_set(plant_params *p, const char *assign, char *err, size_t errlen)
{
    const char *eq = strchr(assign, '=');
    if (!eq || eq == assign) {
        snprintf(err, errlen, "'%s': expected name=value", assign);
        return EK3_EPARSE;
    }
    size_t n = (size_t)(eq - assign), count;
    const prm_def *t = prm_table(&count);
    const prm_def *d = NULL;
    for (size_t i = 0; i < count; i++)
        if (strlen(t[i].name) == n && !strncmp(t[i].name, assign, n))
            d = &t[i];
    if (!d) {
        snprintf(err, errlen, "no plant parameter '%.*s' (ek3 plant params lists them)", (int)n, assign);
        return EK3_ENOENT;
    }
    const char *s = eq + 1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* A quantity: an SI prefix and/or the parameter's unit may follow
     * ("51.6u", "51.6uH", "760V"; "m" alone is milli unless it is the unit). */
    static const char prefixes[] = "pnumkMG";
    static const double scale[] = {1e-12, 1e-9, 1e-6, 1e-3, 1e3, 1e6, 1e9};
    const char *px = end != s && *end && !strchr(d->unit, '^') ? strchr(prefixes, *end) : NULL; /* no "mm^2" */
    if (px && strcmp(end, d->unit)) {
        v *= scale[px - prefixes];
        end++;
    }
    if (end != s && *end && *d->unit && !strcmp(end, d->unit))
        end += strlen(end);
    if (end == s || *end) {
        snprintf(err, errlen, "plant parameter '%s': '%s' is not a number%s%s%s", d->name, s,
                 *d->unit ? " (a quantity in " : "", d->unit, *d->unit ? ", with an SI prefix or none)" : "");
        return EK3_EPARSE;
    }
    if (errno) { /* over- or underflow */
        snprintf(err, errlen, "plant parameter '%s': '%s' is beyond what a double holds", d->name, s);
        return EK3_ERANGE;
    }
    if (!prm_in_range(d, v)) {
        prm_range_msg(d, v, err, errlen);
        return EK3_ERANGE;
    }
    plant_params trial = *p;
    *prm_ptr(&trial, d) = v;
    int rc = prm_check(&trial, err, errlen);
    if (rc)
        return rc;
    *p = trial;
    return EK3_OK;
}

void prm_design_of(const plant_params *p, prm_design *d)
{
    const llc_params *l = &p->llc;
    d->fr = 1.0 / (2 * M_PI * sqrt(l->lr * l->cr));
    d->fm = 1.0 / (2 * M_PI * sqrt((l->lr + l->lm) * l->cr));
    d->ln = l->lm / l->lr;
    d->z0 = sqrt(l->lr / l->cr);
    d->rload_full = 825.0 / 4.0; /* 3.3 kW at 4.0 A */
    d->q_full = d->z0 / (8.0 * l->n * l->n * d->rload_full / (M_PI * M_PI));
    d->m_res_fb = 1.0;
    d->vo_res_fb = l->vdc / l->n;
    d->im_pk = l->n * d->vo_res_fb / (4.0 * l->lm * d->fr);
}
