/* llc_control.c - the 10 kHz voltage loop with droop and limits. */
#include "llc_control.h"

#include <math.h>

#include "board.h"

void llcc_default_cfg(llcc_cfg *cfg)
{
    cfg->fs_vout = (float)BRD_FS_VOUT_V;
    cfg->fs_iout = (float)BRD_FS_IOUT_A;
    cfg->fs_vdc = (float)BRD_FS_VDC_V;
    cfg->v_min = 200.0f;
    cfg->v_max = 920.0f;
    cfg->i_max = 3.95f;   /* under 4.0 A */
    cfg->p_max = 3300.0f;
    cfg->f_min = 110e3f;
    cfg->f_max = 400e3f;
    cfg->deadtime_ns = 300.0f;
    cfg->r_droop = 5.0f;  /* 5 V/A: 20 V from no load to 4 A */
    cfg->kp = 0.01f;
    cfg->ki_rel = 40.0f;  /* drive per second per relative current error */
    cfg->i_floor = 0.2f;  /* A: the current the relative gain is floored at */
    cfg->ramp_vps = 2000.0f; /* 0 to 800 V in 0.4 s */
    cfg->hb_below = 480.0f;
    cfg->period_s = (float)BRD_PERIOD_S;
}

void llcc_init(llcc *c, const llcc_cfg *cfg)
{
    *c = (llcc){0};
    c->cfg = *cfg;
    c->p_lim = cfg->p_max;
    c->derate = 1.0f;
    c->i_ceil = cfg->i_max;
    c->fan_permille = 1000;
    c->adc_v = cfg->fs_vout / (float)BRD_ADC_FULL_CODE;
    c->adc_i = cfg->fs_iout / (float)BRD_ADC_FULL_CODE;
    c->adc_vdc = cfg->fs_vdc / (float)BRD_ADC_FULL_CODE;
}

static float llcc_clamp(float x, float lo, float hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* fminf and fmaxf without the library call: the comparison where both
 * operands are numbers (the smaller, or b when they compare equal, as
 * x86-64's minss/maxss that glibc's fminf/fmaxf use), the library's own
 * answer when either is a NaN (a NaN command must not change it). */
static inline float llcc_fmin(float a, float b)
{
    return a < b ? a : b <= a ? b : fminf(a, b);
}

static inline float llcc_fmax(float a, float b)
{
    return a > b ? a : b >= a ? b : fmaxf(a, b);
}

int llcc_limit_cmd(const llcc_cfg *cfg, float *vset_v, float *p_w, float ilim_a)
{
    int clamped = 0;
    if (*vset_v < cfg->v_min || *vset_v > cfg->v_max) {
        *vset_v = *vset_v < cfg->v_min ? cfg->v_min : cfg->v_max;
        clamped = 1;
    }
    if (*p_w > cfg->p_max) {
        *p_w = cfg->p_max;
        clamped = 1;
    }
    if (ilim_a > 0 && ilim_a * *vset_v < *p_w) /* a current limit below the power asked for */
        *p_w = ilim_a * *vset_v, clamped = 1;
    return clamped;
}

/* Soft start from the measured voltage toward v_set. */
static void llcc_start(llcc *c)
{
    c->state = LLCC_START;
    c->v_ref = c->v;
    c->integ = -1.0f; /* start from zero burst: no inrush, no overshoot */
    c->half_bridge = c->v_set < c->cfg.hb_below;
}

void llcc_command(llcc *c, int enable, float v_set, float p_limit)
{
    c->v_set = llcc_clamp(v_set, c->cfg.v_min, c->cfg.v_max);
    c->p_lim = llcc_clamp(p_limit, 0.0f, c->cfg.p_max);
    if (enable && !c->enable && !c->parked)
        llcc_start(c);
    if (!enable)
        c->state = LLCC_OFF;
    c->enable = (uint8_t)(enable != 0);
}

void llcc_trim(llcc *c, float trim_v)
{
    /* A NaN fails both comparisons: it becomes 0, not a NaN reference. */
    c->trim = trim_v >= -LLCC_TRIM_MAX_V && trim_v <= LLCC_TRIM_MAX_V ? trim_v
              : trim_v > LLCC_TRIM_MAX_V                             ? LLCC_TRIM_MAX_V
              : trim_v < -LLCC_TRIM_MAX_V                            ? -LLCC_TRIM_MAX_V
                                                                     : 0.0f;
}

void llcc_park(llcc *c, int parked)
{
    uint8_t p = (uint8_t)(parked != 0);
    if (p && !c->parked)
        c->state = LLCC_OFF;
    else if (!p && c->parked && c->enable)
        llcc_start(c);
    c->parked = p;
}

void llcc_step(llcc *c, hal hw)
{
    uint16_t code[MSG_ADC_COUNT];
    llcc_step_codes(c, hw, hal_adc_read(hw, code) == 0 ? code : NULL);
}

void llcc_step_codes(llcc *c, hal hw, const uint16_t code[MSG_ADC_COUNT])
{
    const llcc_cfg *k = &c->cfg;
    c->ticks++;
    if (code) {
        /* One-pole filters at about 1.6 kHz: noise out, loop bandwidth in. */
        float a = 0.5f;
        c->v += a * (code[MSG_ADC_VOUT] * c->adc_v - c->v);
        c->i += a * (code[MSG_ADC_IOUT] * c->adc_i - c->i);
        c->vdc += a * (code[MSG_ADC_VDC] * c->adc_vdc - c->vdc);
        c->vbus += a * (code[MSG_ADC_VBUS] * c->adc_v - c->vbus);
        c->samples++;
    }
    /* Hot standby: parked, commanded on, and the bus sagging toward the
     * running modules' limit: back at once (a reference started at the
     * set point drives the woken modules to their current limit with the
     * others, measured worse: 730.6 V and 3.98 A against 731.7 V and
     * 3.93 A on a 30 -> 200 kW ramp of 0.2 s). */
    if (c->parked && c->enable && c->v < c->v_set - k->r_droop * LLCC_WAKE_SHARE * k->i_max) {
        c->parked = 0;
        c->self_wakes++;
        llcc_start(c); /* its soft start from the bus it reads: a few ms to the set point */
    }
    hal_pwm p = {0};
    p.deadtime_ns = (uint16_t)k->deadtime_ns;
    p.burst_permille = 1000;
    p.fan_permille = c->fan_permille;
    if (c->state == LLCC_START || c->state == LLCC_RUN) {
        /* Soft start: the reference walks from the measured voltage. */
        /* Pre-charging (relay open, drivers.c): toward the bus instead. */
        float step = (c->v_pre > 0 ? LLCC_PRECHARGE_VPS : k->ramp_vps) * k->period_s;
        float to = c->v_pre > 0 ? llcc_fmin(c->v_pre, k->v_max) : c->v_set;
        if (c->v_ref < to)
            c->v_ref = llcc_fmin(c->v_ref + step, to);
        else
            c->v_ref = llcc_fmax(c->v_ref - step, to);
        if (c->v_pre > 0)
            c->state = LLCC_START;
        else if (c->state == LLCC_START && c->v_ref == c->v_set)
            c->state = LLCC_RUN;
        /* Droop as the current reference: each module gives the current
         * its own voltage reading asks for, up to its limit. */
        float i_lim = llcc_fmin(c->i_ceil, c->p_lim * c->derate / llcc_fmax(c->v, 50.0f));
        /* Derating holds heat, which goes with the current: its share of
         * the rated power converts to a current at no lower voltage than
         * the droop band's floor, so a derated module does not carry its
         * full current into a sagging or shorted bus (llc_control.h). */
        if (c->derate < 1.0f)
            i_lim = llcc_fmin(i_lim, k->p_max * c->derate / llcc_fmax(c->v, c->v_set - k->r_droop * k->i_max));
        c->i_lim = i_lim;
        /* Above the reference the demand goes negative: the drive then
         * falls into burst mode, which is what holds a light load. */
        /* The trim never takes the reference out of the module's range
         * (nor below a soft start's ramp that is still under v_min). */
        float v_droop = llcc_clamp(c->v_ref + c->trim, llcc_fmin(c->v_ref, k->v_min), k->v_max);
        float i_droop = (v_droop - c->v) / k->r_droop;
        c->i_ref = llcc_clamp(i_droop, -k->i_max, i_lim);
        float e = c->i_ref - c->i;
        /* One integrator over the drive u in [-1, 1]: from 0 to 1 it lowers
         * the frequency (more gain); below 0 the frequency stays at f_max
         * and burst mode switches only a fraction 1 + u of the periods,
         * which is how light loads and the bottom of the range are held. */
        /* In burst mode the current is proportional to the burst fraction
         * (a few amperes per unit of drive); in frequency control near
         * resonance it is thousands: the integral gain follows. */
        /* The current's slope over the drive grows with the current
         * itself: in frequency control it rises about exponentially as the
         * frequency falls toward resonance, in burst mode in proportion to
         * the fraction. Dividing the integral gain by the measured current
         * (floored at i_floor) keeps the loop's bandwidth about constant
         * from the first ampere to the limit, and crosses the drive where
         * no current flows yet in milliseconds. */
        float ki = k->ki_rel / llcc_fmax(c->i, k->i_floor);
        c->integ = llcc_clamp(c->integ + ki * e * k->period_s, -1.0f, 1.0f);
        /* Over the current limit the drive comes back at once, in
         * proportion to the excess: a collapsing bus makes a stiff module
         * push more current than the integral alone can follow. */
        if (c->i > i_lim)
            c->integ = llcc_clamp(c->integ - 0.02f * (c->i - i_lim) / k->i_max, -1.0f, 1.0f);
        float u = llcc_clamp(c->integ + k->kp * e / llcc_fmax(c->i, k->i_floor), -1.0f, 1.0f);
        /* At its limit: the droop asks more than the limit allows, or the drive is at its end (the most tank
         * gain) and the current still short of the reference (a power stage that gives less: a dead gate
         * driver, a sagging DC link) */
        c->limited = i_droop > i_lim || (u >= 1.0f && e > 0.0f);
        c->d = u > 0 ? u : 0;
        p.fsw_hz = (uint32_t)(k->f_max * powf(k->f_min / k->f_max, c->d));
        p.burst_permille = (uint16_t)(u >= 0 ? 1000 : 1000.0f * (1.0f + u));
        p.enable = p.burst_permille > 0;
        p.half_bridge = c->half_bridge;
    }
    c->pwm = p;
    hal_pwm_set(hw, &p);
}
