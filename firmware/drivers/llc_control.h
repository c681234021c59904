/*
 * llc_control.h - LLC_CONTROL, the privileged 10 kHz control driver of
 * the module (seed 2.2; prefix llcc_). It runs in the control interrupt,
 * outside the services, and holds every limit of the seed whatever it is
 * commanded: 3.3 kW, 200-920 V, under 4.0 A (i_max 3.95 A).
 *
 * Each period: read the ADC through the HAL, filter, and close the
 * droop law as a current loop: the module gives the current its own
 * voltage reading asks for,
 *     I_ref = (V_ref - V_out) / R_droop, clamped to -i_max .. I_lim,
 *     I_lim = min(i_ceil, P_lim x derate / max(V_out, 50 V)),
 * i_ceil being i_max but while a hand-off sheds the module's share
 * (drv_shed), and, while THERMAL_MGR derates (derate < 1), at most
 *     P_max x derate / max(V_out, V_set - R_droop x i_max):
 * derating holds the module's heat, which goes with its current, so its
 * share of the rated power converts to a current at no lower voltage than
 * the droop band's floor (730 V at a 750 V set point) and a derated module
 * does not carry its full current into a sagging or shorted bus (it did:
 * 3.94 A into 6 V at 20 %); at or above the floor this is the power limit,
 * as before; a station's power command stays a power limit. V_ref is
 * the soft-start reference walking to V_set, so parallel
 * modules share without a coordinator (V = V_set - R_droop I in steady
 * state; a negative I_ref, above the reference, drives into burst
 * mode). The loop's integral output is the bridge's drive u (-1..1): for
 * u >= 0 the switching frequency is f_max (f_min / f_max)^u, so more drive is more
 * gain; below 0 the frequency stays at f_max and burst mode switches a
 * fraction 1 + u of the periods (light load, the bottom of the range,
 * start-up into a discharged output). The current limit is the clamp
 * of I_ref at I_lim; a measured current above I_lim also pulls the
 * integral back at once, in proportion to the excess. The gains are
 * relative to the measured current (kp and ki_rel over max(I, i_floor)),
 * which keeps the loop's bandwidth about constant from the first ampere
 * to the limit. A set point below 480 V selects half-bridge mode. Soft
 * start ramps V_ref from the measured voltage at a fixed rate, so the
 * output does not overshoot. Floats, as the Cortex-M4F computes.
 *
 * Secondary control (SWARM_COORD's balancing, services/balance.h): a
 * trim is added to the droop reference, I_ref = (V_ref + trim - V_out) /
 * R_droop, and the sum is held inside v_min..v_max. The drivers clamp the
 * trim to +-LLCC_TRIM_MAX_V whatever a service asks. Parking is standby
 * without a fault: the bridge stops as when off, but the station's
 * command (on, set point, limit) is kept, and unparking starts again at
 * that set point with the soft start.
 */
#ifndef LLC_CONTROL_H
#define LLC_CONTROL_H

#include <stdint.h>

#include "hal.h"

/* The largest trim the drivers accept, V. The sharing error to correct
 * is each module's voltage-sense error on its set point: 0.1 % gain and
 * 3 LSB offset (0.73 V) per sigma, about 1.1 V per sigma at 800 V, which
 * droop's 5 V/A turns into 0.22 A per sigma (the 23 % spread of 84
 * modules at 200 kW). 6 V covers more than 5 sigma plus the thermal bias
 * (bal_cfg.bias_max_a x R_droop, 1 V), and still bounds what a bad or
 * forged correction can do: 6 V / 5 V/A = 1.2 A moved between modules
 * (under a third of the 4 A rating, and the current limit holds anyway),
 * the bus moved by at most 6 V when every module is trimmed the same way
 * (under a third of droop's 20 V band, 0.65 % of 920 V), and the sum
 * V_ref + trim is still held inside 200-920 V. */
#define LLCC_TRIM_MAX_V 6.0f

/* A parked module wakes itself, in the control period it sees it, when
 * its output reads below V_set - R_droop x LLCC_WAKE_SHARE x i_max: the
 * running modules are then at 90 % of their current limit and the bus is
 * sagging under a load they cannot carry. No leader and no service is
 * needed: a light-load rack whose load steps up is caught within 100 us,
 * not at the swarm's 10 Hz (balance.h's wake_share is this number). */
#define LLCC_WAKE_SHARE 0.9f

/* The pre-charge's ramp (v_pre > 0: the relay open, drivers.h), V/s: ten
 * times the soft start's, as the output is then only its own 10 uF and
 * bleeder (0.2 A), so that a module started while the others' soft start
 * lifts the bus catches it up (at the soft start's own rate it chases the
 * bus to the set point, 0.4 s off the bus). */
#define LLCC_PRECHARGE_VPS 20000.0f

/* A fault is SAFETY_MONITOR's latch (safety.h), not a state of the loop. */
typedef enum llcc_state { LLCC_OFF, LLCC_START, LLCC_RUN } llcc_state;

typedef struct llcc_cfg {
    float fs_vout, fs_iout, fs_vdc;   /* ADC full scale (the board's dividers) */
    float v_min, v_max, i_max, p_max; /* the module's limits */
    float f_min, f_max;               /* switching frequency range, Hz */
    float deadtime_ns;
    float r_droop;                    /* V/A */
    float kp;                         /* drive per relative current error: kp (I_ref - I) / max(I, i_floor) */
    float ki_rel, i_floor;            /* integral: ki_rel (I_ref - I) / max(I, i_floor) drive per second; A */
    float ramp_vps;                   /* soft-start rate, V/s */
    float hb_below;                   /* half bridge for set points below this, V */
    float period_s;                   /* the control period */
} llcc_cfg;

typedef struct llcc {
    llcc_cfg cfg;
    uint8_t state;      /* llcc_state */
    uint8_t half_bridge;
    uint8_t enable;     /* commanded on */
    float v_set, p_lim; /* commanded set point and power limit */
    float derate;       /* THERMAL_MGR's power factor, 0..1 (1: none), through drv_derate */
    float i_ceil;       /* the current ceiling, A: i_max, lower while UPDATE_MGR sheds the share (drv_shed) */
    float trim;         /* secondary control on the droop reference, V (|trim| <= LLCC_TRIM_MAX_V) */
    uint8_t parked;     /* standby without a fault: the bridge stops, the command is kept */
    uint32_t self_wakes; /* times it unparked itself at the bus's sag (LLCC_WAKE_SHARE) */
    uint16_t fan_permille; /* THERMAL_MGR's fan duty, through drv_fan */
    float v, i, vdc;    /* filtered measurements */
    float vbus;         /* filtered: the bus beyond the output relay (BRD_ADC_VBUS), V */
    uint32_t samples;   /* ADC sequences read since start (the filters settle from 0) */
    float v_pre;        /* pre-charge: the soft start walks to this instead of v_set while > 0, V (drivers.c) */
    float i_ref;        /* the droop law's current */
    float i_lim;        /* the current limit in force this period, A (i_ceil, P_lim x derate / V) */
    uint8_t limited;    /* this period's droop asked more than i_lim, or the drive is at its end short of the
                           reference: the limit or the power stage, not the droop, sets the current */
    float v_ref;        /* the (ramped) reference before droop */
    float d, integ;
    uint32_t ticks;
    hal_pwm pwm;
    float adc_v, adc_i, adc_vdc; /* V or A per ADC code: cfg's full scales over BRD_ADC_FULL_CODE (llcc_init) */
} llcc;

/* Defaults for the EK3 module (docs: firmware issue). */
void llcc_default_cfg(llcc_cfg *cfg);

/* Start off. The configuration is fixed from here on (the ADC scales
 * are derived from it once). */
void llcc_init(llcc *c, const llcc_cfg *cfg);

/* Command: on or off, the output set point (clamped to v_min..v_max),
 * the power limit (clamped to p_max). */
void llcc_command(llcc *c, int enable, float v_set, float p_limit);

/* The secondary-control trim (V) added to the droop reference, clamped
 * to +-LLCC_TRIM_MAX_V (a NaN counts as 0). Takes effect at the next
 * period; the reference plus trim stays inside v_min..v_max. */
void llcc_trim(llcc *c, float trim_v);

/* Park (parked != 0): the bridge stops, the state goes to LLCC_OFF, but
 * enable, v_set and p_lim are kept; a command while parked is recorded
 * and does not start the bridge. Unpark: when commanded on, start again
 * at v_set from the measured voltage (soft start). No fault either way. */
void llcc_park(llcc *c, int parked);

/* The module's limits applied to a station's command, as CAN_HANDLER
 * applies them (and `ek3 can decode` shows them): *vset_v into
 * v_min..v_max, *p_w to at most p_max and to ilim_a x *vset_v when
 * ilim_a > 0 (A; 0: no current limit asked). 1 when anything was
 * clamped, else 0. */
int llcc_limit_cmd(const llcc_cfg *cfg, float *vset_v, float *p_w, float ilim_a);

/* One control period: ADC in, PWM out through hw. While v_pre > 0 (the
 * drivers' pre-charge, relay open: drivers.h) a start walks its
 * reference to v_pre, not v_set, and stays in LLCC_START. */
void llcc_step(llcc *c, hal hw);

/* llcc_step on ADC codes already read this period (hal_adc_read's,
 * NULL when it failed): the drivers read the sequence once for both
 * drivers (drivers.c). The same state and PWM command as llcc_step. */
void llcc_step_codes(llcc *c, hal hw, const uint16_t code[MSG_ADC_COUNT]);

#endif /* LLC_CONTROL_H */
