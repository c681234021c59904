/*
 * safety.h - SAFETY_MONITOR, the privileged protection driver (seed 2.2
 * and 5.1; prefix sm_). It runs in the control interrupt after
 * LLC_CONTROL, on the raw ADC codes of the period's sequence (not the
 * control loop's filtered values), so a control fault cannot blind it.
 *
 * Software limits sit below the hardware ones (the Level-0 comparators
 * of the RTL issue): OVP 900 V (hardware 920 V), OCP 3.98 A (hardware
 * 4.0 A), OTP 95 C case (hardware: junction 105 C), GFI 30 mA; each must
 * hold for `deglitch` consecutive periods (300 us) to trip, so a single
 * noisy sample does not. A trip latches the fault with its code,
 * severity and the value that tripped it, switches LLC_CONTROL off and
 * performs the safe shutdown (gates off, output relay open). The
 * hardware trip line is an input: the monitor reports it and never
 * drives it. A latched fault clears only by sm_clear, and only when its
 * condition has gone. Faults wait in a small queue for CAN_HANDLER to
 * send as FAULT_ALERT.
 *
 * Undervoltage (UVP) is a warning, not a trip (board.h's BRD_UVP_*):
 * an output below the droop band while the module regulates and is not
 * at its current limit means the module cannot reach its set point (a
 * sagging DC link, a dead bridge leg, a drifted tank); shutting it down
 * would only move its share onto peers, and on a collapsing bus (an
 * overload, a short) every module is at its limit, where the current
 * limit, OCP and the hardware protect. WARNING raised once, and sent
 * again with the CLEARED flag when the output is back or the module stops
 * regulating.
 */
#ifndef SAFETY_H
#define SAFETY_H

#include <stdint.h>

#include "hal.h"
#include "llc_control.h"

#define SM_QUEUE 8u /* a power of two: the indices wrap at 256 */
_Static_assert(SM_QUEUE <= 128 && (SM_QUEUE & (SM_QUEUE - 1)) == 0, "the alert queue's indices wrap at 256");

#define SM_NTC_CACHE 16u     /* sm_case_c's slots: 96 bytes a module */
#define SM_NTC_NONE 0xFFFFu   /* no 12-bit code */

typedef struct sm_cfg {
    float fs_vout, fs_iout, fs_igf;   /* ADC full scales */
    float ntc_r25, ntc_beta, ntc_rpull;
    float ovp_v, ocp_a, otp_c, otp_warn_c, gfi_a;
    uint8_t deglitch;                 /* periods over the limit before a trip */
} sm_cfg;

typedef struct sm_alert {
    uint8_t code, severity, flags;
    int32_t value;     /* milli-units: mV, mA, m degC */
    uint32_t time_ms;
} sm_alert;

typedef struct sm {
    sm_cfg cfg;
    uint32_t latched;           /* bit per msg_fault_code */
    uint8_t first_code;         /* the fault that tripped first (0: none) */
    int64_t trip_ns;            /* hal_clock_ns at the first of the faults latched now (set while
                                   none was latched; kept until the next first trip) */
    uint8_t over[16];           /* consecutive periods over each limit */
    uint8_t warned;
    uint8_t uvp;                /* the UVP warning is raised (cleared with an alert) */
    uint16_t uvp_n;             /* consecutive periods under voltage while regulating */
    uint32_t ticks, trips;
    uint32_t lines;             /* hal_gpio_read as sm_step_codes last read it (the drivers' relay step reuses it) */
    sm_alert q[SM_QUEUE];
    uint8_t qhead, qtail;       /* free-running: the interrupt moves qtail, CAN_HANDLER qhead */
    uint32_t dropped_alerts;
    float adc_v, adc_i, adc_igf; /* V or A per ADC code: cfg's full scales over BRD_ADC_FULL_CODE (sm_init) */
    /* sm_case_c's cache: the case temperature of the last code seen in
     * each of SM_NTC_CACHE slots (code % SM_NTC_CACHE; SM_NTC_NONE: empty) */
    uint16_t ntc_code[SM_NTC_CACHE];
    float ntc_t[SM_NTC_CACHE];
} sm;

void sm_default_cfg(sm_cfg *c);
/* Cleared, with c. The configuration is fixed from here on (the ADC
 * scales and the NTC cache are derived from it). */
void sm_init(sm *s, const sm_cfg *c);

/* One control period: read the ADC and the trip line, compare, trip
 * (sm_step_codes on the codes it reads). */
void sm_step(sm *s, hal hw, llcc *ctl);

/* sm_step on ADC codes already read this period (hal_adc_read's, NULL
 * when it failed), as the drivers give both drivers the one sequence
 * they read (drivers.c): the same comparisons and trips as sm_step on
 * the same codes. The trip line is read here (the lines kept in s->lines;
 * a trip, the only HAL write here, counts in s->trips). */
void sm_step_codes(sm *s, hal hw, llcc *ctl, const uint16_t code[MSG_ADC_COUNT]);

/* Clear the latched faults whose conditions are gone. 0, or EK3_EBUSY
 * when one is still present (nothing is cleared then). */
int sm_clear(sm *s, hal hw);

/* sm_clear on ADC codes already read (NULL: the read failed, EK3_EBUSY). */
int sm_clear_codes(sm *s, hal hw, const uint16_t code[MSG_ADC_COUNT]);

/* Take the oldest alert for FAULT_ALERT. 0, or EK3_EAGAIN. One writer
 * (sm_step, in the interrupt) and one reader: each moves only its own
 * index, so the reader needs no lock against the interrupt. */
int sm_take_alert(sm *s, sm_alert *a);

/* Case temperature of an NTC code (C). */
float sm_ntc_c(const sm_cfg *c, uint16_t code);

/* sm_ntc_c(&s->cfg, code), bit for bit, through the monitor's cache
 * (SM_NTC_CACHE slots): the logarithm once per code a slot holds. */
float sm_case_c(sm *s, uint16_t code);

/* The hotter of the two legs' case temperatures in a set of ADC codes (C). */
float sm_hottest_case(const sm_cfg *c, const uint16_t code[MSG_ADC_COUNT]);

#endif /* SAFETY_H */
