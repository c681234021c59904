/*
 * drivers.h - the privileged drivers of one module, together (prefix
 * drv_): what the 10 kHz control interrupt runs, and what services reach
 * through the kernel (jz_config.control_ctx points here). The module's
 * context (the target's main, the rig's fwi) holds one.
 *
 * The drivers' state belongs to the control interrupt. Services command
 * them only through the drv_ functions below (power, restart, derating,
 * fan, balancing trim, park), which leave the command in a mailbox the interrupt takes at the
 * start of its period, and read them only through drv_status_get (a
 * sequence-counted snapshot), drv_take_alert and the constant
 * configurations: the target's interrupt can preempt a service anywhere,
 * and neither side ever sees the other's half-written state.
 */
#ifndef DRIVERS_H
#define DRIVERS_H

#include "jz.h"
#include "llc_control.h"
#include "safety.h"

#define DRV_CLEAR_PERIODS 100u /* a restart's clear is tried for 10 ms */

/* The output relay's pre-charge (hot swap): the drivers close it only
 * while LLC_CONTROL runs (commanded on, not parked), no fault is latched
 * and the kernel is not shut down, once the output (VOUT) reads within
 * DRV_RELAY_CLOSE_V of the bus beyond the relay (VBUS) after at least
 * DRV_RELAY_SETTLE ADC sequences; until then, with the bus above
 * DRV_BUS_LIVE_V, the soft start walks the output to the bus voltage
 * (llcc.v_pre). A bus at or below DRV_BUS_LIVE_V is dead (a black start,
 * a short that tripped the others): the relay closes onto it at once and
 * the module brings it up through its soft start and current limit. A trip or a safe shutdown opens it (the HAL's
 * safe_shutdown; the drivers follow the pin). 5 V at the 5 V/A droop
 * is a 1 A step at the close, under the 4 A limit; EK-TECH-010 gives no
 * figure (docs/faults.md, `insert`). */
#define DRV_RELAY_CLOSE_V 5.0f
#define DRV_RELAY_SETTLE 8u
#define DRV_BUS_LIVE_V 50.0f

/* The services' commands to the drivers (the mailbox): written only by
 * the drv_ command functions below, in a service, and taken by the
 * control interrupt at the start of its period. A service may be
 * interrupted half-way through a write: seq is odd then, and the
 * interrupt leaves the mailbox for its next period, so the drivers never
 * act on a half-written command. */
typedef struct drv_cmd {
    uint32_t seq;              /* odd while a service writes */
    uint32_t taken;            /* the seq the interrupt last took */
    uint8_t power;             /* a power command waits: DRV_ON or DRV_OFF (0: none) */
    uint8_t off_first;         /* an OFF came before the ON that waits: stop, then start */
    uint8_t restart;           /* a restart waits (drv_restart) */
    float v_set, p_lim;        /* the power command's set point (V) and limit (W) */
    float restart_v, restart_p;
    float derate;              /* THERMAL_MGR's power factor, 0..1 */
    float i_ceil;              /* UPDATE_MGR's hand-off ceiling on the output current, A */
    uint16_t fan_permille;     /* THERMAL_MGR's fan duty */
    float trim;                /* the balancing trim, V (drv_trim) */
    uint8_t park;              /* parked: 1 (drv_park) */
    uint8_t park_set;          /* a drv_park waits (applied once: LLC_CONTROL may wake itself meanwhile) */
    uint8_t relay;             /* the relay allowed to close (drv_relay; 1 from drv_init) */
} drv_cmd;

enum { DRV_ON = 1, DRV_OFF = 2 };

/* A consistent copy of the drivers' state for the services (drv_status). */
typedef struct drv_status {
    uint8_t state;         /* llcc_state */
    uint8_t enable;        /* commanded on */
    uint8_t half_bridge;
    uint32_t latched;      /* SAFETY_MONITOR's latched faults, bit per msg_fault_code */
    uint32_t trips;        /* trips since power-on */
    float v, i;            /* filtered output voltage (V) and current (A) */
    float v_set;           /* the set point in force (V) */
    float trim_v;          /* the balancing trim in force (V, within +-LLCC_TRIM_MAX_V) */
    uint8_t parked;        /* parked in standby (drv_park), not faulted */
    uint8_t shedding;      /* its share is being shed before a reset (drv_shed under i_max) */
    uint8_t relay;         /* the output relay closed (HAL_OUT_RELAY) */
    uint8_t limited;       /* running at its limit (current ceiling, power command, derating, or its drive at its
                              end): more droop would not raise its current (llcc.limited) */
    float vbus;            /* filtered bus voltage beyond the relay (V) */
    hal_pwm pwm;           /* the bridge command in force */
} drv_status;

typedef struct drv_set {
    llcc ctl;  /* LLC_CONTROL */
    sm safety; /* SAFETY_MONITOR: runs after LLC_CONTROL, its veto wins */
    /* A restart after a fault: the clear in progress and what to start. */
    uint8_t clear_req;
    uint16_t clear_periods;
    uint16_t restarts, restart_failed;
    float restart_v, restart_p;
    uint8_t relay_ok;      /* the relay allowed to close (the last drv_relay taken) */
    uint8_t relay;         /* HAL_OUT_RELAY as the drivers last drove it */
    uint32_t relay_closes; /* closes since start */
    float relay_dv;        /* VOUT - VBUS at the last close, V */
    drv_cmd cmd;   /* the services' commands, not yet taken */
    uint32_t seq;  /* odd while the control interrupt runs (drv_status) */
} drv_set;

/* Both drivers at their defaults, LLC_CONTROL with cc. */
void drv_init(drv_set *d, const llcc_cfg *cc);

/* The control interrupt's work (jz_config.control, ctx = the drv_set):
 * read the ADC sequence once, take the services' commands (drv_cmd),
 * then LLC_CONTROL, then SAFETY_MONITOR (both on that sequence's codes),
 * then the output relay's line (DRV_RELAY_CLOSE_V). */
void drv_control(void *ctx, jz_kernel *k);

/*
 * The services' commands. Each is written in the service and takes
 * effect at the start of the next control period (100 us at most), as
 * one piece; the last command of each kind before that period wins. A
 * service never writes the drivers' state itself.
 */

/* Power: on (DRV_ON) at v_set (V, clamped to the module's 200-920 V)
 * with p_lim (W, clamped to 0..3300; soft start from standby), or off
 * (DRV_OFF; v_set and p_lim ignored, the set point kept). Any other op
 * is ignored. A latched fault keeps the module off whatever this asks:
 * only drv_restart clears it. */
void drv_power(drv_set *d, int op, float v_set, float p_lim);

/* Restart after a fault (an authenticated START to a faulted module):
 * the fault-clear line to the hardware protection is raised and
 * SAFETY_MONITOR's latches are cleared once every condition is gone and
 * the hardware has let go of its trip line; then LLC_CONTROL starts at
 * v_set with p_lim (soft start). A fault still present after
 * DRV_CLEAR_PERIODS keeps the module off and counts restart_failed. */
void drv_restart(drv_set *d, float v_set, float p_lim);

/* Derating: the factor (0..1, 1 = none) on the power limit (THERMAL_MGR). */
void drv_derate(drv_set *d, float factor);

/* Shedding before a planned reset (UPDATE_MGR's hand-off into a new
 * image): a ceiling (A) on the output current, apart from derating and
 * the power limit, so that the module's share moves to its peers by
 * droop over a ramp instead of at once. At or above i_max: none (clamped
 * there); negative or NaN: 0. A reset ends it (drv_init: i_max). */
void drv_shed(drv_set *d, float i_ceil_a);

/* Balancing (SWARM_COORD's secondary control, services/balance.h): the
 * trim (V) added to the droop reference, V_ref + trim. The drivers clamp
 * it to +-LLCC_TRIM_MAX_V (a NaN is 0) and keep V_ref + trim inside the
 * module's 200-920 V, whatever the service asks: at 5 V/A it moves the
 * module's steady current by trim / R_droop against a stiff bus. */
void drv_trim(drv_set *d, float volts);

/* Park (parked != 0): standby without a fault. The bridge stops as with
 * DRV_OFF, but the station's command (on, set point, limit) is kept, and
 * one that arrives while parked is recorded; unpark (0) resumes at the
 * commanded set point with a soft start (if the station has it on). The
 * heartbeat reports MSG_STATE_STANDBY while parked. */
void drv_park(drv_set *d, int parked);

/* The output relay: allowed to close (closed != 0: at the pre-charge
 * rule above, DRV_RELAY_CLOSE_V) or opened and held open (0). CAN_HANDLER
 * opens it at an emergency stop and allows it again at the next power
 * command. */
void drv_relay(drv_set *d, int closed);

/* Fan: the PWM duty in permille (0..1000, above is 1000) (THERMAL_MGR). */
void drv_fan(drv_set *d, uint16_t permille);

/* The drivers' state as of the end of the last control period, every
 * field from the same period (sequence-counted: a copy torn by the
 * interrupt is taken again). */
void drv_status_get(const drv_set *d, drv_status *st);

/* Take the oldest of SAFETY_MONITOR's alerts for FAULT_ALERT (the queue
 * has one writer, the interrupt, and one reader, CAN_HANDLER). 0, or
 * EK3_EAGAIN when none waits. */
int drv_take_alert(drv_set *d, sm_alert *a);

/* The constant configuration (set by drv_init, never written after):
 * LLC_CONTROL's limits and SAFETY_MONITOR's sensor scaling. */
static inline const llcc_cfg *drv_ctl_cfg(const drv_set *d)
{
    return &d->ctl.cfg;
}
static inline const sm_cfg *drv_sm_cfg(const drv_set *d)
{
    return &d->safety.cfg;
}

/* The drivers of the kernel a service runs on. */
static inline drv_set *drv_of(jz_kernel *k)
{
    return (drv_set *)k->cfg.control_ctx;
}

#endif /* DRIVERS_H */
