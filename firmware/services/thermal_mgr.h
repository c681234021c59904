/*
 * thermal_mgr.h - the THERMAL_MGR service (seed 2.3; prefix thm_), at
 * 100 Hz: reads the case temperatures of both legs, the transformer, the
 * inductor and the fan tachometer; drives the fan (30 % below 40 C, up
 * to 100 % at 65 C); derates the module's power linearly from 100 % at
 * 80 C to 20 % at 92 C of the legs' cases (SAFETY_MONITOR trips at
 * 95 C), and from 110 C to 130 C of the transformer or inductor, so a failed or
 * slowed fan costs power instead of a trip where derating is enough; and
 * flags a fan that does not turn as commanded (FAN_FAIL to the station
 * through CAN_HANDLER, raised and cleared), and tells the station when
 * it derates (DERATING, warning, value the factor in permille). It commands the drivers
 * through drv_derate and drv_fan.
 */
#ifndef THERMAL_MGR_H
#define THERMAL_MGR_H

#include <stdint.h>

#include "jz.h"

#define THM_PERIOD_US 10000u
#define THM_DERATING_ON 0.95f  /* DERATING raised below this factor */
#define THM_DERATING_OFF 0.99f /* and cleared at or above this one */

typedef struct thm_state {
    float t_hot;        /* hottest case, C */
    float derate;       /* applied to LLC_CONTROL */
    uint16_t fan_cmd;   /* permille */
    uint8_t fan_fault;  /* the tachometer disagrees with the command */
    uint8_t derating;   /* DERATING raised, not yet cleared */
    uint32_t ticks, fan_bad_ticks;
} thm_state;

int thm_init(void *state, jz_kernel *k, unsigned me);
int thm_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m);

/* Derating factor at case temperature t (C), and at the hotter
 * magnetic part's temperature (100 % to 110 C, 20 % at 130 C); the
 * service applies the smaller. */
float thm_derate_at(float t);
float thm_derate_mag_at(float t);

#define THM_SERVICE(allow)                                                                                     \
    {                                                                                                           \
        .name = "THERMAL_MGR", .prio = 12, .critical = 0, .queue_depth = 4, .period_us = THM_PERIOD_US,        \
        .heartbeat_ms = 100, .allow_to = (allow), .state_size = sizeof(thm_state), .init = thm_init,                  \
        .handle = thm_handle                                                                                    \
    }

#endif /* THERMAL_MGR_H */
