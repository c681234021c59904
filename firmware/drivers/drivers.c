/* drivers.c - the control interrupt's work, and the services' commands to it. */
#include "drivers.h"

#include <math.h>
#include <stdatomic.h>

#include "ek3_err.h"

/* Keep the compiler from moving memory accesses across this point: the
 * one core's interrupt sees them in program order (Cortex-M4, one core). */
static inline void drv_barrier(void)
{
    atomic_signal_fence(memory_order_seq_cst);
}

void drv_init(drv_set *d, const llcc_cfg *cc)
{
    llcc_init(&d->ctl, cc);
    sm_cfg sc;
    sm_default_cfg(&sc);
    sc.fs_vout = cc->fs_vout;
    sc.fs_iout = cc->fs_iout;
    sm_init(&d->safety, &sc);
    d->clear_req = 0;
    d->clear_periods = 0;
    d->restarts = d->restart_failed = 0;
    d->restart_v = d->restart_p = 0;
    d->cmd = (drv_cmd){0};
    d->cmd.derate = d->ctl.derate;
    d->cmd.i_ceil = d->ctl.i_ceil;
    d->cmd.fan_permille = d->ctl.fan_permille;
    d->cmd.relay = d->relay_ok = 1;
    d->relay = 0; /* the pin's reset state: open */
    d->relay_closes = 0;
    d->relay_dv = 0;
    d->seq = 0;
}

/* The start and the end of a service's write into the mailbox. */
static void drv_cmd_open(drv_set *d)
{
    d->cmd.seq++;
    drv_barrier();
}

static void drv_cmd_close(drv_set *d)
{
    drv_barrier();
    d->cmd.seq++;
}

void drv_power(drv_set *d, int op, float v_set, float p_lim)
{
    if (op != DRV_ON && op != DRV_OFF)
        return;
    drv_cmd_open(d);
    if (op == DRV_ON) {
        d->cmd.off_first = d->cmd.power == DRV_OFF;
        d->cmd.v_set = v_set;
        d->cmd.p_lim = p_lim;
    } else {
        d->cmd.off_first = 0;
    }
    d->cmd.power = (uint8_t)op;
    drv_cmd_close(d);
}

void drv_restart(drv_set *d, float v_set, float p_lim)
{
    drv_cmd_open(d);
    d->cmd.restart = 1;
    d->cmd.restart_v = v_set;
    d->cmd.restart_p = p_lim;
    drv_cmd_close(d);
}

void drv_derate(drv_set *d, float factor)
{
    drv_cmd_open(d);
    d->cmd.derate = factor < 0 ? 0 : factor > 1 ? 1 : factor;
    drv_cmd_close(d);
}

void drv_shed(drv_set *d, float i_ceil_a)
{
    float top = d->ctl.cfg.i_max;
    drv_cmd_open(d);
    d->cmd.i_ceil = i_ceil_a >= 0 ? (i_ceil_a > top ? top : i_ceil_a) : 0; /* a NaN fails both tests: 0 */
    drv_cmd_close(d);
}

void drv_trim(drv_set *d, float volts)
{
    /* LLC_CONTROL clamps it when the interrupt takes it (llcc_trim). */
    drv_cmd_open(d);
    d->cmd.trim = volts;
    drv_cmd_close(d);
}

void drv_park(drv_set *d, int parked)
{
    drv_cmd_open(d);
    d->cmd.park = (uint8_t)(parked != 0);
    d->cmd.park_set = 1;
    drv_cmd_close(d);
}

void drv_relay(drv_set *d, int closed)
{
    drv_cmd_open(d);
    d->cmd.relay = (uint8_t)(closed != 0);
    drv_cmd_close(d);
}

void drv_fan(drv_set *d, uint16_t permille)
{
    drv_cmd_open(d);
    d->cmd.fan_permille = permille > 1000 ? 1000 : permille;
    drv_cmd_close(d);
}

/* The interrupt takes the mailbox, unless a service is half-way through
 * a write (then at the next period). */
static void drv_take_cmd(drv_set *d)
{
    drv_cmd *c = &d->cmd;
    if ((c->seq & 1u) || c->seq == c->taken)
        return;
    if (c->restart) {
        d->clear_req = 1;
        d->clear_periods = 0;
        d->restart_v = c->restart_v;
        d->restart_p = c->restart_p;
        c->restart = 0;
    }
    if (c->power == DRV_OFF || c->off_first)
        llcc_command(&d->ctl, 0, d->ctl.v_set, 0);
    if (c->power == DRV_ON)
        llcc_command(&d->ctl, 1, c->v_set, c->p_lim);
    c->power = 0;
    c->off_first = 0;
    d->ctl.derate = c->derate;
    d->ctl.i_ceil = c->i_ceil;
    d->ctl.fan_permille = c->fan_permille;
    llcc_trim(&d->ctl, c->trim);
    d->relay_ok = c->relay;
    if (c->park_set) { /* an edge, not a level: the drivers' own wake at the bus's sag holds until told again */
        llcc_park(&d->ctl, c->park);
        c->park_set = 0;
    }
    c->taken = c->seq;
}

void drv_status_get(const drv_set *d, drv_status *st)
{
    uint32_t s0;
    do {
        s0 = d->seq;
        drv_barrier();
        st->state = d->ctl.state;
        st->enable = d->ctl.enable;
        st->half_bridge = d->ctl.half_bridge;
        st->latched = d->safety.latched;
        st->trips = d->safety.trips;
        st->v = d->ctl.v;
        st->i = d->ctl.i;
        st->v_set = d->ctl.v_set;
        st->trim_v = d->ctl.trim;
        st->parked = d->ctl.parked;
        st->shedding = d->ctl.i_ceil < d->ctl.cfg.i_max;
        st->relay = d->relay;
        st->limited = d->ctl.state == LLCC_RUN && d->ctl.limited;
        st->vbus = d->ctl.vbus;
        st->pwm = d->ctl.pwm;
        drv_barrier();
    } while ((s0 & 1u) || d->seq != s0);
}

int drv_take_alert(drv_set *d, sm_alert *a)
{
    return sm_take_alert(&d->safety, a);
}

/* One period of a restart's clear: the line up until both latches let go. */
static void drv_clear_step(drv_set *d, hal hw, const uint16_t code[MSG_ADC_COUNT])
{
    hal_gpio_write(hw, HAL_OUT_FAULT_CLEAR, HAL_OUT_FAULT_CLEAR);
    if (sm_clear_codes(&d->safety, hw, code) == EK3_OK) {
        d->clear_req = 0;
        d->restarts++;
        /* The line down, the fault lamp off; the output relay closes at
         * its pre-charge (drv_relay_step). */
        hal_gpio_write(hw, HAL_OUT_FAULT_CLEAR | HAL_OUT_FAULT_LED, 0);
        llcc_command(&d->ctl, 1, d->restart_v, d->restart_p);
    } else if (++d->clear_periods >= DRV_CLEAR_PERIODS) {
        d->clear_req = 0;
        d->restart_failed++;
        hal_gpio_write(hw, HAL_OUT_FAULT_CLEAR, 0);
    }
}

/* The output relay's line (DRV_RELAY_CLOSE_V): open on a trip, a safe
 * shutdown or a service's drv_relay(0); closed once the running output
 * is pre-charged to the bus it reads beyond the relay. */
static void drv_relay_step(drv_set *d, jz_kernel *k, const uint32_t *lines)
{
    llcc *c = &d->ctl;
    if (d->relay && !((lines ? *lines : hal_gpio_read(k->hw)) & HAL_OUT_RELAY))
        d->relay = 0; /* a safe shutdown opened it (SAFETY_MONITOR, CAN_HANDLER's stop, the kernel) */
    if (!d->relay_ok || d->safety.latched || k->state == JZ_SHUTDOWN) {
        if (d->relay)
            hal_gpio_write(k->hw, HAL_OUT_RELAY, 0);
        d->relay = 0;
        c->v_pre = 0;
        return;
    }
    if (d->relay || c->state == LLCC_OFF || d->clear_req) {
        c->v_pre = 0;
        return;
    }
    /* A dead bus (a black start, a short that tripped the others) has
     * nothing to match: the module closes onto it and brings it up
     * through its own soft start and current limit. */
    int dead = c->vbus <= DRV_BUS_LIVE_V;
    if (c->samples >= DRV_RELAY_SETTLE && (dead || fabsf(c->v - c->vbus) <= DRV_RELAY_CLOSE_V)) {
        hal_gpio_write(k->hw, HAL_OUT_RELAY, HAL_OUT_RELAY);
        d->relay = 1;
        d->relay_closes++;
        d->relay_dv = c->v - c->vbus;
        c->v_pre = 0;
    } else {
        c->v_pre = c->vbus > DRV_BUS_LIVE_V ? c->vbus : 0;
    }
}

void drv_control(void *ctx, jz_kernel *k)
{
    drv_set *d = ctx;
    /* One ADC sequence a period, for both drivers (each on the raw codes). */
    uint16_t code[MSG_ADC_COUNT];
    const uint16_t *adc = hal_adc_read(k->hw, code) == 0 ? code : NULL;
    d->seq++;
    drv_barrier();
    drv_take_cmd(d);
    if (d->clear_req)
        drv_clear_step(d, k->hw, adc);
    /* A latched fault keeps LLC_CONTROL off until it is cleared. */
    if (d->safety.latched && d->ctl.enable)
        llcc_command(&d->ctl, 0, d->ctl.v_set, 0);
    llcc_step_codes(&d->ctl, k->hw, adc);
    uint32_t trips = d->safety.trips;
    sm_step_codes(&d->safety, k->hw, &d->ctl, adc);
    /* The lines SAFETY_MONITOR read still hold unless it tripped (a trip
     * is the only HAL write it makes: the safe shutdown opens the relay). */
    drv_relay_step(d, k, d->safety.trips == trips ? &d->safety.lines : NULL);
    drv_barrier();
    d->seq++;
}
