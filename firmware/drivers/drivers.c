/* drivers.c - the control interrupt's work. */
#include "drivers.h"

void drv_control(void *ctx, jz_kernel *k)
{
    drv_set *d = ctx;
    llcc_step(&d->ctl, k->hw);
}
