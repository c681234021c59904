/* drivers.c - the control interrupt's work. */
#include "drivers.h"

#include "ek3_err.h"

void drv_init(drv_set *d, const llcc_cfg *cc)
{
    llcc_init(&d->ctl, cc);
    sm_cfg sc;
    sm_default_cfg(&sc);
    sc.fs_vout = cc->fs_vout;
    sc.fs_iout = cc->fs_iout;
    sm_init(&d->safety, &sc);
}

void drv_restart(drv_set *d, float v_set, float p_lim)
{
    d->clear_req = 1;
    d->clear_periods = 0;
    d->restart_v = v_set;
    d->restart_p = p_lim;
}

/* One period of a restart's clear: the line up until both latches let go. */
static void drv_clear_step(drv_set *d, hal hw)
{
    hw.ops->gpio_write(hw.ctx, HAL_OUT_FAULT_CLEAR, HAL_OUT_FAULT_CLEAR);
    if (sm_clear(&d->safety, hw) == EK3_OK) {
        d->clear_req = 0;
        d->restarts++;
        /* The line down, the fault lamp off, the output relay closed. */
        hw.ops->gpio_write(hw.ctx, HAL_OUT_FAULT_CLEAR | HAL_OUT_FAULT_LED | HAL_OUT_RELAY, HAL_OUT_RELAY);
        llcc_command(&d->ctl, 1, d->restart_v, d->restart_p);
    } else if (++d->clear_periods >= DRV_CLEAR_PERIODS) {
        d->clear_req = 0;
        d->restart_failed++;
        hw.ops->gpio_write(hw.ctx, HAL_OUT_FAULT_CLEAR, 0);
    }
}

void drv_control(void *ctx, jz_kernel *k)
{
    drv_set *d = ctx;
    if (d->clear_req)
        drv_clear_step(d, k->hw);
    /* A latched fault keeps LLC_CONTROL off until it is cleared. */
    if (d->safety.latched && d->ctl.enable)
        llcc_command(&d->ctl, 0, d->ctl.v_set, 0);
    llcc_step(&d->ctl, k->hw);
    sm_step(&d->safety, k->hw, &d->ctl);
}
