/* safety.c - software OVP, OCP, OTP, GFI; the hardware trip line; latching. */
#include "safety.h"

#include <math.h>
#include <stdatomic.h>

#include "board.h"
#include "ek3_err.h"
#include "msg.h"

void sm_default_cfg(sm_cfg *c)
{
    c->fs_vout = (float)BRD_FS_VOUT_V;
    c->fs_iout = (float)BRD_FS_IOUT_A;
    c->fs_igf = (float)BRD_FS_IGF_A;
    c->ntc_r25 = (float)BRD_NTC_R25_OHM;
    c->ntc_beta = (float)BRD_NTC_BETA_K;
    c->ntc_rpull = (float)BRD_NTC_RPULL_OHM;
    c->ovp_v = 900.0f;
    c->ocp_a = 3.98f;
    c->otp_c = 95.0f;
    c->otp_warn_c = 85.0f;
    c->gfi_a = 0.030f;
    c->deglitch = 3;
}

void sm_init(sm *s, const sm_cfg *c)
{
    *s = (sm){0};
    s->cfg = *c;
    s->adc_v = c->fs_vout / (float)BRD_ADC_FULL_CODE;
    s->adc_i = c->fs_iout / (float)BRD_ADC_FULL_CODE;
    s->adc_igf = c->fs_igf / (float)BRD_ADC_FULL_CODE;
    for (unsigned k = 0; k < SM_NTC_CACHE; k++)
        s->ntc_code[k] = SM_NTC_NONE;
}

float sm_ntc_c(const sm_cfg *c, uint16_t code)
{
    float x = code < 1 ? 1.0f : code > 4094 ? 4094.0f : (float)code;
    float r = c->ntc_rpull * x / ((float)BRD_ADC_FULL_CODE - x); /* NTC to ground, pull-up to Vref */
    return 1.0f / (1.0f / 298.15f + logf(r / c->ntc_r25) / c->ntc_beta) - 273.15f;
}

float sm_hottest_case(const sm_cfg *c, const uint16_t code[MSG_ADC_COUNT])
{
    /* The NTC pulls its input down as it heats: the lower code is the
     * hotter leg, so one conversion (a logarithm) serves. */
    uint16_t a = code[MSG_ADC_TJ_A], b = code[MSG_ADC_TJ_B];
    return sm_ntc_c(c, a < b ? a : b);
}

float sm_case_c(sm *s, uint16_t code)
{
    /* Direct-mapped on the code's low bits: the case temperature moves a
     * few codes between periods, so the logarithm is taken about once
     * per code a module sees, not once per period. */
    unsigned k = code % SM_NTC_CACHE;
    if (s->ntc_code[k] != code) {
        s->ntc_t[k] = sm_ntc_c(&s->cfg, code);
        s->ntc_code[k] = code;
    }
    return s->ntc_t[k];
}

/* sm_hottest_case through the monitor's cache. */
static float sm_hottest(sm *s, const uint16_t code[MSG_ADC_COUNT])
{
    uint16_t a = code[MSG_ADC_TJ_A], b = code[MSG_ADC_TJ_B];
    return sm_case_c(s, a < b ? a : b);
}

static void sm_alert_push(sm *s, unsigned code, unsigned sev, unsigned flags, float value_milli)
{
    if ((uint8_t)(s->qtail - s->qhead) >= SM_QUEUE) {
        s->dropped_alerts++;
        return;
    }
    sm_alert *a = &s->q[s->qtail % SM_QUEUE];
    a->code = (uint8_t)code;
    a->severity = (uint8_t)sev;
    a->flags = (uint8_t)flags;
    a->value = (int32_t)lroundf(value_milli);
    a->time_ms = s->ticks / 10u;
    atomic_signal_fence(memory_order_seq_cst); /* the alert whole before it is counted */
    s->qtail++;
}

static void sm_trip(sm *s, hal hw, llcc *ctl, unsigned code, unsigned flags, float value_milli)
{
    if (s->latched & (1u << code))
        return;
    if (!s->latched)
        s->trip_ns = hal_clock_ns(hw);
    s->latched |= 1u << code;
    if (!s->first_code)
        s->first_code = (uint8_t)code;
    s->trips++;
    llcc_command(ctl, 0, ctl->v_set, 0);
    hal_pwm off = {0};
    off.deadtime_ns = 300;
    hal_pwm_set(hw, &off);
    hal_safe_shutdown(hw);
    sm_alert_push(s, code, code == MSG_FAULT_HW_TRIP || code == MSG_FAULT_GFI ? MSG_SEV_FATAL : MSG_SEV_CRITICAL,
                  MSG_FAULT_F_LATCHED | flags, value_milli);
}

static inline void sm_step_adc(sm *s, hal hw, llcc *ctl, const uint16_t code[MSG_ADC_COUNT]);

/* Deglitched comparison: over for `deglitch` periods in a row. */
static int sm_over(sm *s, unsigned code, int over)
{
    if (!over) {
        s->over[code] = 0;
        return 0;
    }
    if (s->over[code] < 255)
        s->over[code]++;
    return s->over[code] >= s->cfg.deglitch;
}

/* UVP (safety.h): under the droop band's floor for BRD_UVP_PERIODS while
 * regulating under the current limit; a warning, cleared with an alert. */
static void sm_uvp(sm *s, const llcc *ctl, float v)
{
    int regulating = ctl->state == LLCC_RUN && ctl->enable && !ctl->parked;
    float floor_v = ctl->v_set + ctl->trim - ctl->cfg.r_droop * ctl->cfg.i_max - (float)BRD_UVP_MARGIN_FRAC * ctl->v_set;
    if (regulating && v < floor_v && ctl->i < (float)BRD_UVP_ILIM_FRAC * ctl->i_lim) {
        if (s->uvp_n < BRD_UVP_PERIODS)
            s->uvp_n++;
        if (s->uvp_n >= BRD_UVP_PERIODS && !s->uvp) {
            s->uvp = 1;
            sm_alert_push(s, MSG_FAULT_UVP, MSG_SEV_WARNING, 0, v * 1000.0f);
        }
        return;
    }
    s->uvp_n = 0;
    /* At the current limit the warning stands (the load is beyond the
     * module now); back in the band, or not regulating: cleared. */
    if (s->uvp && (!regulating || v >= floor_v)) {
        s->uvp = 0;
        sm_alert_push(s, MSG_FAULT_UVP, MSG_SEV_WARNING, MSG_FAULT_F_CLEARED, v * 1000.0f);
    }
}

/* The fault code (msg_fault_code) of the Level-0 comparator the board's
 * trip-source lines name (hal_trip_src); NONE when they name none. */
static unsigned sm_trip_code(unsigned src)
{
    static const uint8_t code[HAL_TRIP_SRC_COUNT_] = {
        [HAL_TRIP_NONE] = MSG_FAULT_NONE, [HAL_TRIP_OVP] = MSG_FAULT_OVP, [HAL_TRIP_OCP] = MSG_FAULT_OCP,
        [HAL_TRIP_OTP] = MSG_FAULT_OTP,   [HAL_TRIP_GFI] = MSG_FAULT_GFI,
    };
    return src < HAL_TRIP_SRC_COUNT_ ? code[src] : MSG_FAULT_NONE;
}

void sm_step(sm *s, hal hw, llcc *ctl)
{
    uint16_t code[MSG_ADC_COUNT];
    sm_step_codes(s, hw, ctl, hal_adc_read(hw, code) == 0 ? code : NULL);
}

void sm_step_codes(sm *s, hal hw, llcc *ctl, const uint16_t code[MSG_ADC_COUNT])
{
    s->ticks++;
    s->lines = hal_gpio_read(hw);
    if (s->lines & HAL_IN_HW_TRIP) /* value: the comparator that tripped first, as its fault's code */
        sm_trip(s, hw, ctl, MSG_FAULT_HW_TRIP, MSG_FAULT_F_HARDWARE,
                1000.0f * (float)sm_trip_code((s->lines & HAL_IN_TRIP_SRC) >> HAL_IN_TRIP_SRC_SHIFT));
    if (code)
        sm_step_adc(s, hw, ctl, code);
}

/* The period's comparisons on its ADC codes (sm_step_codes, inlined). */
static inline void sm_step_adc(sm *s, hal hw, llcc *ctl, const uint16_t code[MSG_ADC_COUNT])
{
    const sm_cfg *c = &s->cfg;
    float v = code[MSG_ADC_VOUT] * s->adc_v, i = code[MSG_ADC_IOUT] * s->adc_i;
    float igf = code[MSG_ADC_IGF] * s->adc_igf;
    float t = sm_hottest(s, code);
    if (sm_over(s, MSG_FAULT_OVP, v > c->ovp_v))
        sm_trip(s, hw, ctl, MSG_FAULT_OVP, 0, v * 1000.0f);
    if (sm_over(s, MSG_FAULT_OCP, i > c->ocp_a))
        sm_trip(s, hw, ctl, MSG_FAULT_OCP, 0, i * 1000.0f);
    if (sm_over(s, MSG_FAULT_OTP, t > c->otp_c))
        sm_trip(s, hw, ctl, MSG_FAULT_OTP, 0, t * 1000.0f);
    if (sm_over(s, MSG_FAULT_GFI, igf > c->gfi_a))
        sm_trip(s, hw, ctl, MSG_FAULT_GFI, 0, igf * 1000.0f);
    sm_uvp(s, ctl, v);
    /* A warning (not latched) once per excursion above the warning level. */
    if (t > c->otp_warn_c && !s->warned) {
        s->warned = 1;
        sm_alert_push(s, MSG_FAULT_OTP_WARNING, MSG_SEV_WARNING, 0, t * 1000.0f);
    } else if (t < c->otp_warn_c - 5.0f) {
        s->warned = 0;
    }
}

static int sm_clear_adc(sm *s, const uint16_t code[MSG_ADC_COUNT]);

int sm_clear(sm *s, hal hw)
{
    uint16_t code[MSG_ADC_COUNT];
    if (!s->latched)
        return EK3_OK;
    if ((hal_gpio_read(hw) & HAL_IN_HW_TRIP) || hal_adc_read(hw, code) != 0)
        return EK3_EBUSY;
    return sm_clear_adc(s, code);
}

int sm_clear_codes(sm *s, hal hw, const uint16_t code[MSG_ADC_COUNT])
{
    if (!s->latched)
        return EK3_OK;
    if ((hal_gpio_read(hw) & HAL_IN_HW_TRIP) || !code)
        return EK3_EBUSY;
    return sm_clear_adc(s, code);
}

/* The latches cleared when no condition is present in the codes. */
static int sm_clear_adc(sm *s, const uint16_t code[MSG_ADC_COUNT])
{
    const sm_cfg *c = &s->cfg;
    float t = sm_hottest(s, code);
    if (code[MSG_ADC_VOUT] * s->adc_v > c->ovp_v || code[MSG_ADC_IOUT] * s->adc_i > c->ocp_a ||
        t > c->otp_c - 5.0f || code[MSG_ADC_IGF] * s->adc_igf > c->gfi_a)
        return EK3_EBUSY;
    s->latched = 0;
    s->first_code = 0;
    for (unsigned k = 0; k < 16; k++)
        s->over[k] = 0;
    return EK3_OK;
}

int sm_take_alert(sm *s, sm_alert *a)
{
    if (s->qhead == s->qtail)
        return EK3_EAGAIN;
    atomic_signal_fence(memory_order_seq_cst);
    *a = s->q[s->qhead % SM_QUEUE];
    atomic_signal_fence(memory_order_seq_cst); /* taken whole before the slot is given back */
    s->qhead++;
    return EK3_OK;
}
