/*
 * health_monitor.h - the HEALTH_MONITOR service (seed 2.3; prefix hlth_),
 * at 10 Hz: diagnoses the sensors (a channel stuck on one code while the
 * others move, a reading out of its range, the two legs' temperatures
 * disagreeing beyond what their currents explain), counts operating
 * hours, thermal cycles (the hottest case above 60 C and back below 45 C)
 * and latched faults, estimates an MTBF from them (Arrhenius on the mean
 * hot temperature, Ea 0.7 eV, 250 000 h at 40 C; Coffin-Manson for the
 * cycles), and sends the health byte to CAN_HANDLER for HEARTBEAT.
 */
#ifndef HEALTH_MONITOR_H
#define HEALTH_MONITOR_H

#include <stdint.h>

#include "jz.h"

#define HLTH_PERIOD_US 100000u

/* Health byte bits. */
enum {
    HLTH_SENSOR_STUCK = 1u << 0,
    HLTH_SENSOR_RANGE = 1u << 1,
    HLTH_SENSOR_IMPLAUSIBLE = 1u << 2,
    HLTH_FAULT_LATCHED = 1u << 3,
    HLTH_WEAR = 1u << 4 /* MTBF estimate under half its rating */
};

typedef struct hlth_state {
    uint16_t last[12];
    uint8_t same[12];      /* periods each channel has not moved */
    uint8_t health;
    uint8_t sensor_alerted; /* the sensor flags last reported as FAULT_ALERT SENSOR */
    uint8_t hot;           /* inside a thermal cycle */
    uint32_t ticks, on_ticks, cycles, faults;
    uint32_t last_trips;
    float t_sum;           /* sum of the hottest case temperature, on */
    float mtbf_h;
} hlth_state;

int hlth_init(void *state, jz_kernel *k, unsigned me);
int hlth_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m);

#define HLTH_SERVICE(allow)                                                                                    \
    {                                                                                                           \
        .name = "HEALTH_MONITOR", .prio = 8, .critical = 0, .queue_depth = 4, .period_us = HLTH_PERIOD_US,     \
        .heartbeat_ms = 500, .allow_to = (allow), .state_size = sizeof(hlth_state), .init = hlth_init,          \
        .handle = hlth_handle                                                                                   \
    }

#endif /* HEALTH_MONITOR_H */
