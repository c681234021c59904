/*
 * drivers.h - the privileged drivers of one module, together (prefix
 * drv_): what the 10 kHz control interrupt runs, and what services reach
 * through the kernel (jz_config.control_ctx points here). The module's
 * context (the target's main, the rig's fwi) holds one.
 */
#ifndef DRIVERS_H
#define DRIVERS_H

#include "jz.h"
#include "llc_control.h"
#include "safety.h"

#define DRV_CLEAR_PERIODS 100u /* a restart's clear is tried for 10 ms */

typedef struct drv_set {
    llcc ctl;  /* LLC_CONTROL */
    sm safety; /* SAFETY_MONITOR: runs after LLC_CONTROL, its veto wins */
    /* A restart after a fault: the clear in progress and what to start. */
    uint8_t clear_req;
    uint16_t clear_periods;
    uint16_t restarts, restart_failed;
    float restart_v, restart_p;
} drv_set;

/* Both drivers at their defaults, LLC_CONTROL with cc. */
void drv_init(drv_set *d, const llcc_cfg *cc);

/* The control interrupt's work (jz_config.control, ctx = the drv_set). */
void drv_control(void *ctx, jz_kernel *k);

/* Restart after a fault (an authenticated START to a faulted module):
 * the fault-clear line to the hardware protection is raised and
 * SAFETY_MONITOR's latches are cleared once every condition is gone and
 * the hardware has let go of its trip line; then LLC_CONTROL starts at
 * v_set with p_lim (soft start). A fault still present after
 * DRV_CLEAR_PERIODS keeps the module off and counts restart_failed. */
void drv_restart(drv_set *d, float v_set, float p_lim);

/* The drivers of the kernel a service runs on. */
static inline drv_set *drv_of(jz_kernel *k)
{
    return (drv_set *)k->cfg.control_ctx;
}

#endif /* DRIVERS_H */
