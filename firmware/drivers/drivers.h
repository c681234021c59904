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

typedef struct drv_set {
    llcc ctl;  /* LLC_CONTROL */
    sm safety; /* SAFETY_MONITOR: runs after LLC_CONTROL, its veto wins */
} drv_set;

/* Both drivers at their defaults, LLC_CONTROL with cc. */
void drv_init(drv_set *d, const llcc_cfg *cc);

/* The control interrupt's work (jz_config.control, ctx = the drv_set). */
void drv_control(void *ctx, jz_kernel *k);

/* The drivers of the kernel a service runs on. */
static inline drv_set *drv_of(jz_kernel *k)
{
    return (drv_set *)k->cfg.control_ctx;
}

#endif /* DRIVERS_H */
