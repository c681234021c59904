/* health_monitor.c - sensor diagnostics, wear counters, MTBF, health byte. */
#include "health_monitor.h"

#include <math.h>
#include <string.h>

#include "drivers.h"
#include "ek3_err.h"
#include "msg.h"
#include "services.h"

int hlth_init(void *state, jz_kernel *k, unsigned me)
{
    hlth_state *s = state;
    (void)k, (void)me;
    s->mtbf_h = 250000.0f;
    return EK3_OK;
}

int hlth_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m)
{
    hlth_state *s = state;
    if (m->type != IPC_T_TICK)
        return EK3_OK;
    uint16_t code[MSG_ADC_COUNT];
    if (hal_adc_read(k->hw, code) != EK3_OK)
        return EK3_OK;
    drv_status st;
    drv_status_get(drv_of(k), &st);
    const sm_cfg *c = drv_sm_cfg(drv_of(k));
    s->ticks++;
    uint8_t h = 0;
    /* Stuck: the measurement channels (not the spares, not IGF which sits
     * at zero) keep one code for 5 s while noise should move them. */
    static const uint8_t watched[] = {MSG_ADC_VOUT, MSG_ADC_VDC, MSG_ADC_TJ_A, MSG_ADC_TJ_B, MSG_ADC_T_XFMR,
                                      MSG_ADC_T_LR, MSG_ADC_T_AMB};
    for (unsigned j = 0; j < sizeof watched; j++) {
        unsigned ch = watched[j];
        /* (At a rail the noise is clipped away: zero volts out is not stuck.) */
        int moving = code[ch] != s->last[ch] || code[ch] <= 8 || code[ch] >= 4087;
        s->same[ch] = moving ? 0 : (uint8_t)(s->same[ch] < 255 ? s->same[ch] + 1 : 255);
        s->last[ch] = code[ch];
        if (s->same[ch] >= 50)
            h |= HLTH_SENSOR_STUCK;
        /* An NTC open (full scale) or shorted (zero); a divider at a rail. */
        if (ch != MSG_ADC_VOUT && ch != MSG_ADC_VDC && (code[ch] <= 2 || code[ch] >= 4093))
            h |= HLTH_SENSOR_RANGE;
    }
    float ta = sm_ntc_c(c, code[MSG_ADC_TJ_A]), tb = sm_ntc_c(c, code[MSG_ADC_TJ_B]);
    if (fabsf(ta - tb) > 25.0f) /* both legs carry the same current: they track */
        h |= HLTH_SENSOR_IMPLAUSIBLE;
    float t = sm_hottest_case(c, code);
    /* Wear: operating time, thermal cycles, faults. */
    if (st.enable) {
        s->on_ticks++;
        s->t_sum += t;
    }
    if (!s->hot && t > 60.0f) {
        s->hot = 1;
    } else if (s->hot && t < 45.0f) {
        s->hot = 0;
        s->cycles++;
    }
    if (st.trips != s->last_trips) {
        s->faults += st.trips - s->last_trips;
        s->last_trips = st.trips;
    }
    if (st.latched)
        h |= HLTH_FAULT_LATCHED;
    /* MTBF: Arrhenius on the mean hot temperature while on, and 1 % off per
     * 1000 thermal cycles (a Coffin-Manson slope for the die attach). */
    float tm = s->on_ticks ? s->t_sum / (float)s->on_ticks : 40.0f;
    float af = expf(0.7f / 8.617e-5f * (1.0f / 313.15f - 1.0f / (tm + 273.15f)));
    s->mtbf_h = 250000.0f / af * (1.0f - 0.01f * (float)s->cycles / 1000.0f);
    if (s->mtbf_h < 125000.0f)
        h |= HLTH_WEAR;
    s->health = h;
    /* A sensor found stuck, out of range or implausible: FAULT_ALERT
     * SENSOR (WARNING, value: the HLTH_SENSOR_* flags, 1000 each) when the
     * set changes, CLEARED when none is left. */
    uint8_t sensor = h & (HLTH_SENSOR_STUCK | HLTH_SENSOR_RANGE | HLTH_SENSOR_IMPLAUSIBLE);
    if (sensor != s->sensor_alerted) {
        msg_fault fa = {MSG_FAULT_SENSOR, MSG_SEV_WARNING, sensor ? 0 : MSG_FAULT_F_CLEARED,
                        (int32_t)(sensor ? sensor : s->sensor_alerted) * 1000, (uint32_t)(jz_now(k) / 1000000), 0};
        ipc_msg out;
        ipc_msg_init(&out, SVC_MSG_FAULT, 3, &fa, sizeof fa);
        if (ipc_send(k, me, SVC_CAN, &out) == EK3_OK) /* else again at the next period */
            s->sensor_alerted = sensor;
    }
    if (s->ticks % 10 == 0) { /* once a second, for HEARTBEAT */
        ipc_msg out;
        ipc_msg_init(&out, SVC_MSG_HEALTH, 2, &s->health, 1);
        ipc_send(k, me, SVC_CAN, &out);
    }
    return EK3_OK;
}
