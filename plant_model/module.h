/*
 * module.h - one EK3 module as the rig sees it (prefix pmod_): the power
 * stage at one of two fidelities, the thermal network and fan, the
 * ADC the firmware reads, and the PWM command it writes.
 *
 * One interface for both fidelities: pmod_step advances one interval
 * (a control period) and reports the mean output current; the output is
 * either the module's own capacitor and load resistor (a single-module
 * run) or a terminal held at the rack's voltage for the interval.
 */
#ifndef MODULE_H
#define MODULE_H

#include <stdint.h>

#include "avg.h"
#include "board.h"
#include "llc.h"
#include "params.h"
#include "rtlprot.h"
#include "thermal.h"

#define PMOD_ADC_CHANNELS BRD_ADC_COUNT /* the board's channel map (board.h) */

typedef enum pmod_fidelity { PMOD_SWITCHING, PMOD_AVERAGED } pmod_fidelity;

typedef struct pmod {
    plant_params p;          /* this module's own values (tolerances drawn) */
    uint8_t fidelity;
    uint8_t relay;           /* the output is on its terminal: relay_cmd and not relay_open (pmod_relay) */
    uint8_t relay_cmd;       /* the firmware's relay line (HAL_OUT_RELAY, carried by the HIL channel) */
    uint8_t relay_open;      /* injected: the relay or fuse opened by a fault (pmod_fault_open) */
    uint32_t relay_closes;   /* times the output went onto its terminal */
    double relay_dv;         /* own output minus line voltage at the last close, V */
    double v_line;           /* the voltage on the far side of the relay (the bus), V: the VBUS channel */
    uint8_t present;         /* in its slot (hot swap) */
    const lavg_table *tab;   /* averaged fidelity: shared table */
    double fr, z0;           /* this module's tank */
    llc sw;                  /* switching fidelity state */
    double vo;               /* output capacitor voltage */
    llc_cmd cmd;
    double fan_duty;
    th_state th;
    double igf;              /* ground-fault current (injected: pmod_fault_igf), A */
    uint64_t rng;
    double adc_gain[PMOD_ADC_CHANNELS], adc_off[PMOD_ADC_CHANNELS];
    /* The five NTC channels' last temperature and its code: temperatures
     * move once per thermal step, the ADC samples every period. */
    double ntc_t[5], ntc_x[5];
    /* Channels VDC to IGF (2..9) move only with the link, the thermal
     * network, the ambient and the ground fault: their inputs x and
     * x * adc_gain + adc_off, kept with the bits of those (vdc, th.t[],
     * t_amb, fan_speed, igf) as the key (adc_key_ok: the key holds). */
    uint8_t adc_key_ok;
    uint64_t adc_key[9];
    double adc_x[8], adc_base[8];
    /* Outputs of the last step, each its mean over the step: io (A) and
     * pin (W, from the DC link); pout (W), out of the output node into
     * the module's own load resistor or the terminal (what the output
     * capacitor takes or gives back is neither); ploss and p_node (W). */
    double io, pin, pout, ploss, p_node[TH_NODES];
    /* Their integrals over the steps pmod_step and pmod_step_at took
     * (in its slot or not) while tally is set (0 after pmod_init: the
     * rack report sets it for its window, the last 100 ms, so that the
     * run before costs a branch, not three sums): q_out = sum io x dt
     * (C), e_out = sum pout x dt and e_in = sum pin x dt (J). A mean over
     * a window is the difference of two readings over its length
     * (hil_bridge/session.h ses_mod_snap). */
    uint8_t tally;
    double q_out, e_out, e_in;
    uint8_t zvs_lost;
    double t;                /* simulated time, s */
    double th_acc_t, th_acc_e[TH_NODES]; /* losses gathered for the next thermal step */
    /* Averaged on a bus: a step without an evaluation (pmod_step_averaged)
     * adds p_avg * dt to th_acc_e; the evaluation before the thermal step
     * overwrites th_acc_e, so those additions are kept as a count
     * (th_pend steps of th_pend_dt, p_avg unchanged since) and made, in
     * order, only where th_acc_e is read before that (pmod_heat_flush). */
    uint32_t th_pend;
    double th_pend_dt;
    /* Averaged: p_node and ploss hold p_avg's at step dt pn_dt (pn_ok):
     * p_avg changes only at an evaluation, which clears pn_ok. */
    uint8_t pn_ok;
    double pn_dt;
    lavg_pt pt;              /* averaged: the operating column of the current command */
    double pt_key[7];        /* the inputs pt was prepared from (fr, z0, vdc, n, half bridge, fsw,
                                burst) with pt_tab: an unchanged command keeps pt (NaN at first) */
    const lavg_table *pt_tab;
    double p_avg[TH_NODES];  /* averaged: losses at the last evaluation, W */
    double p_over;           /* averaged: input less output at the last evaluation (the losses and
                              * the table's residual), W: the input is this plus the output */
    rtlp *prot;              /* Level-0 protection RTL, or NULL (pmod_protect) */
    rtlp_in prot_in;         /* its inputs at the end of the last step */
    uint8_t hw_trip;         /* the protection's gates are off (the trip line) */
    uint8_t fault_clear;     /* the firmware's clear request (GPIO) */
    double prot_trip_t;      /* seconds into the last step the RTL tripped, or -1 */
    uint32_t prot_first;     /* its first fault code (rtlp_code) */
    double trace_dt;         /* switching: sample the waveforms every trace_dt */
    void (*trace)(void *ctx, const llc *s);
    void *trace_ctx;
    /* Injected faults, written only through the pmod_fault_ functions
     * (hil_bridge/fault.c names them for the rig). */
    uint8_t adc_fault;       /* some channel has an offset or is stuck */
    uint16_t adc_stuck;      /* bit c: channel c reads adc_stuck_code[c] */
    uint16_t adc_stuck_code[PMOD_ADC_CHANNELS];
    double adc_fault_off[PMOD_ADC_CHANNELS]; /* LSB, added to the channel's code */
    double prot_step[4];     /* added to what the protection's comparators sense: V, A, C, A (rtlp_code - 1) */
    double adc_fault_gerr[PMOD_ADC_CHANNELS];  /* gain error (fraction) on the channel's reading */
    double adc_fault_noise[PMOD_ADC_CHANNELS]; /* extra noise on the channel, LSB rms */
    uint64_t rng_fault;      /* the extra noise's own generator (the others read as before) */
    uint8_t ntc_fault[5];    /* NTC channel TJ_A + i: 0 sound, PMOD_NTC_OPEN, PMOD_NTC_SHORT */
    uint8_t gate_dead;       /* a bridge leg's gate driver stuck off: the bridge cannot drive */
    uint8_t vdc_fault, amb_fault, tank_fault; /* a value below is saved */
    double vdc_saved, amb_saved, tank_saved[3]; /* the values before the fault: vdc; t_amb; lr, cr, lm */
    double vdc_from, vdc_to, vdc_ramp, vdc_ramp_t; /* the link's ramp: from, to (V), length, time into it (s) */
} pmod;

enum { PMOD_NTC_SOUND, PMOD_NTC_OPEN, PMOD_NTC_SHORT };

/* A module from parameters; seed != 0 draws its tolerances and ADC
 * errors (the same seed gives the same module), seed == 0 is the
 * nominal module. tab is needed for PMOD_AVERAGED. */
void pmod_init(pmod *m, const plant_params *p, pmod_fidelity f, const lavg_table *tab, uint64_t seed);

/* The PWM command (from the firmware's HIL_PWM frame): takes effect at
 * the next switching period. 0 or EK3_ERANGE. */
int pmod_command(pmod *m, const llc_cmd *c, double fan_duty);

/* Advance dt seconds. v_term < 0: the output feeds the module's own
 * load (p.rload); otherwise the output terminal is held at v_term for
 * the interval (the rack bus) and m->io is the mean current it gave. */
void pmod_step(pmod *m, double dt, double v_term);

/* Averaged fidelity on a bus: advance dt with the terminal at v_term
 * and the output current io the bus step already computed for it
 * (pmod_current linearized), so that the rack's currents add up exactly. */
void pmod_step_at(pmod *m, double dt, double v_term, double io);

/* Mean output current at terminal voltage v and its slope dI/dV, from
 * the averaged model (for the rack's implicit bus step). Writes only the
 * table lookup's bracket hints (m->pt.k): call it from the thread that
 * steps m. 0 and slope 0, whatever v, unless pmod_sourcing(m). */
double pmod_current(pmod *m, double v, double *slope);

/* Whether pmod_current can give a current: the bridge enabled and
 * bursting, the output on its terminal, the module in its slot. */
static inline int pmod_sourcing(const pmod *m)
{
    return m->cmd.enable && m->cmd.burst > 0 && m->relay && m->present;
}

/* Energy stored in the module now (J): the tank, the bridge node and the
 * output capacitor (switching: llc_stored), the output capacitor
 * (averaged: its tank is in periodic steady state by construction). An
 * energy balance over an interval needs its change: input = output +
 * losses + change of stored energy. */
double pmod_stored(const pmod *m);

/* Switching fidelity: call fn(ctx, &m->sw) every dt seconds of
 * simulated time (the state is exact there); fn NULL stops it. */
void pmod_trace(pmod *m, double dt, void (*fn)(void *ctx, const llc *s), void *ctx);

/* The 12 ADC codes the firmware would read now (seeded noise), each
 * clamped to the converter's 0..4095. */
void pmod_adc(pmod *m, uint16_t codes[PMOD_ADC_CHANNELS]);

/* Give the module its Level-0 protection (the Verilated RTL, sensing
 * delay p.sense_delay): from now on a trip turns the gates off whatever
 * the PWM command says. 0, or EK3_ENOSPC. pmod_free releases it. */
int pmod_protect(pmod *m);
void pmod_free(pmod *m);

/* The analog values the Level-0 protection comparators watch
 * (plant_model/rtl/, the RTL issue adds the sensing path's delay). */
typedef struct pmod_analog {
    double vout, iout, tj, igf; /* V, A, C (the hotter leg), A */
} pmod_analog;
void pmod_analog_of(const pmod *m, pmod_analog *a);

/* Case temperature an NTC on leg A/B reads (C). */
double pmod_t_case(const pmod *m, int leg);

/* Injected faults (the rig's fault vocabulary: hil_bridge/fault.h).
 * Each returns 0 or EK3_ERANGE for a value outside the range given
 * (nothing changes then), EK3_ENOENT for a channel that does not exist.
 *
 * A ground-fault (leakage) current to the chassis, amps, 0 to fs_igf
 * (0: none); the IGF channel and the protection's GFI comparator see it. */
int pmod_fault_igf(pmod *m, double amps);

/* The fan's health 0..1: the fraction of the commanded speed it reaches
 * (0: seized, 1: sound; thermal.h th_state.fan_health). */
int pmod_fault_fan(pmod *m, double health);

/* ADC channel ch (msg_adc_ch order, 0..PMOD_ADC_CHANNELS-1) reads
 * offset_lsb more (-4095..4095 LSB; 0: none): a drifted sensor. */
int pmod_fault_adc_offset(pmod *m, unsigned ch, double offset_lsb);

/* ADC channel ch reads `code` whatever it senses (0..4095), or its
 * sensor again for code < 0: a stuck sensor or a broken wire. The
 * channel's noise is still drawn, so the other channels read as before. */
int pmod_fault_adc_stuck(pmod *m, unsigned ch, int code);

/* A step added to one quantity the Level-0 protection's comparators
 * sense (code, an rtlp_code: RTLP_OVP V, RTLP_OCP A, RTLP_OTP C, RTLP_GFI A;
 * |step| up to 1e4; 0: none): a disturbance on the sensing path, so the
 * hardware trips (or not) through its delay and deglitch, as on the bench.
 * The step takes effect at the start of the next interval (the sensed
 * value jumps there; it is not spread over the interval). */
int pmod_fault_prot_step(pmod *m, unsigned code, double step);

/* The output relay (or fuse) open (open 1) or closed again (open 0), by
 * a fault, whatever the firmware's relay line says: the module stays in
 * its slot and switches on into its own bleeder (p.r_bleed); it
 * delivers no current to the bus. The output is on its terminal only
 * when the line and this are both closed. 0. */
int pmod_fault_open(pmod *m, int open);

/* The firmware's relay line (HAL_OUT_RELAY, hch_pwm_apply): closed 1,
 * open 0. A module in place when the plant starts (pmod_init) has it
 * closed, as its firmware commands on a dead bus at its first periods; a
 * module inserted (rack_insert) has it open until its firmware closes it.
 * A close that puts the output on its terminal records the output's
 * voltage minus the line's (relay_dv, V; the inrush a pre-charge
 * avoids) and counts it (relay_closes). */
void pmod_relay(pmod *m, int closed);

/* The input DC link to (1 + frac) times its value before the fault
 * (frac -0.9..+0.5; 0: back to that value), in a linear ramp of ramp_s
 * seconds (0..10; 0: a step) from where it is: a sag or surge of the
 * front end (PFC) that feeds the module, whose bulk capacitor makes it a
 * ramp of milliseconds. The switching model's rails, Coss equivalents
 * and turn-off energies follow; the VDC channel reads it. 0 or
 * EK3_ERANGE. */
int pmod_fault_vdc(pmod *m, double frac, double ramp_s);

/* The module's ambient (air inlet) at t_c C (-40..125), or, for
 * on = 0, back to its value before the fault: the thermal network's
 * ambient node and the T_AMB channel. 0 or EK3_ERANGE. */
int pmod_fault_ambient(pmod *m, double t_c, int on);

/* NTC channel ch (BRD_ADC_TJ_A..BRD_ADC_T_AMB) open (PMOD_NTC_OPEN:
 * the pull-up takes the input to the Vref rail, full-scale code),
 * shorted (PMOD_NTC_SHORT: the input at 0 V, code 0) or sound again
 * (PMOD_NTC_SOUND); the channel's own errors and noise still apply,
 * clipped at the rails. 0, EK3_ENOENT (not an NTC channel), EK3_ERANGE. */
int pmod_fault_ntc(pmod *m, unsigned ch, int mode);

/* ADC channel ch reads (1 + gain_err) times what it should
 * (gain_err -0.5..+0.5; 0: none): a drifted divider or amplifier gain. */
int pmod_fault_adc_gain(pmod *m, unsigned ch, double gain_err);

/* ADC channel ch gets extra Gaussian noise of lsb_rms LSB (0..1000;
 * 0: none), drawn from a generator of its own, so that the other
 * channels read exactly as before. */
int pmod_fault_adc_noise(pmod *m, unsigned ch, double lsb_rms);

/* One bridge leg's gate driver stuck off (dead 1), or sound again (0):
 * that leg's two switches never turn on, only their body diodes
 * conduct, which can only return the tank's energy to the DC link (the
 * loop through the dead leg always closes to the rail it started from):
 * the bridge transfers no power, in full- and half-bridge mode. The
 * power stage is held off whatever the firmware commands (both
 * fidelities); unlike a protection trip, no trip line is raised. 0. */
int pmod_fault_gate(pmod *m, int dead);

/* Ageing of the resonant tank: Lr, Cr and Lm at (1 + d) times their
 * values before the fault (each d -0.5..+0.5; all 0: back to those
 * values). The module's own tank: the switching model uses the new
 * values; the averaged model its own fr and Z0 on the rack's table (its
 * Ln is the nominal one: an Lm drift shows in the switching fidelity
 * only). 0, or EK3_ERANGE (a d out of range, or a tank llc_check
 * refuses; nothing changes then). */
int pmod_fault_tank(pmod *m, double d_lr, double d_cr, double d_lm);

/* A fresh module of the same build (rack_insert): the faults of the
 * module itself undone (igf, open, gate, tank, every ADC channel's
 * offset, stuck code, gain and noise, the NTCs, the protection's sensing
 * steps), its Level-0 protection block reset as at power-on (a trip the
 * one pulled latched is not the new one's: rtlp_reset) and its thermal
 * network at the slot's ambient, fan sound. Those
 * of its slot stay: the input DC link (vdc-sag, vdc-surge) and the
 * inlet air (ambient). Its tolerances are the slot's, as drawn from the
 * seed. */
void pmod_renew(pmod *m);

/* Uniform (0,1) and normal numbers from the module's generator. */
double pmod_uniform(uint64_t *s);
double pmod_normal(uint64_t *s);

#endif /* MODULE_H */
