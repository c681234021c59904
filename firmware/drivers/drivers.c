/* drivers.c - the control interrupt's work. */
#include "drivers.h"

void drv_init(drv_set *d, const llcc_cfg *cc)
{
    llcc_init(&d->ctl, cc);
    sm_cfg sc;
    sm_default_cfg(&sc);
    sc.fs_vout = cc->fs_vout;
    sc.fs_iout = cc->fs_iout;
    sm_init(&d->safety, &sc);
}

void drv_control(void *ctx, jz_kernel *k)
{
    drv_set *d = ctx;
    /* A latched fault keeps LLC_CONTROL off until it is cleared. */
    if (d->safety.latched && d->ctl.enable)
        llcc_command(&d->ctl, 0, d->ctl.v_set, 0);
    llcc_step(&d->ctl, k->hw);
    sm_step(&d->safety, k->hw, &d->ctl);
}
