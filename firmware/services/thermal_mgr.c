/* thermal_mgr.c - fan control and power derating. */
#include "thermal_mgr.h"

#include "board.h"
#include "drivers.h"
#include "ek3_err.h"
#include "msg.h"
#include "services.h"

float thm_derate_mag_at(float t)
{
    if (t <= 110.0f)
        return 1.0f;
    if (t >= 130.0f)
        return 0.2f;
    return 1.0f - 0.8f * (t - 110.0f) / 20.0f;
}

float thm_derate_at(float t)
{
    if (t <= 80.0f)
        return 1.0f;
    if (t >= 92.0f)
        return 0.2f;
    return 1.0f - 0.8f * (t - 80.0f) / 12.0f;
}

int thm_init(void *state, jz_kernel *k, unsigned me)
{
    thm_state *s = state;
    (void)me;
    s->derate = 1.0f;
    s->fan_cmd = 1000;
    drv_derate(drv_of(k), 1.0f); /* a restarted service starts from no derating */
    return EK3_OK;
}

/* A fault to the station (through CAN_HANDLER): raised, or cleared;
 * value in milli-units. */
static void thm_alert(jz_kernel *k, unsigned me, unsigned code, unsigned sev, int raised, float value)
{
    msg_fault fa = {(uint8_t)code, (uint8_t)sev, raised ? 0 : MSG_FAULT_F_CLEARED, (int32_t)(value * 1000.0f),
                    (uint32_t)(jz_now(k) / 1000000), 0};
    ipc_msg out;
    ipc_msg_init(&out, SVC_MSG_FAULT, 3, &fa, sizeof fa);
    ipc_send(k, me, SVC_CAN, &out); /* refused only if CAN_HANDLER is down */
}

int thm_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m)
{
    thm_state *s = state;
    if (m->type != IPC_T_TICK)
        return EK3_OK;
    uint16_t code[MSG_ADC_COUNT];
    if (hal_adc_read(k->hw, code) != EK3_OK)
        return EK3_OK;
    drv_set *d = drv_of(k);
    const sm_cfg *c = drv_sm_cfg(d);
    float t = sm_hottest_case(c, code);
    s->t_hot = t;
    s->ticks++;
    /* Fan: 30 % up to 40 C, then linear to 100 % at 65 C. */
    float duty = t <= 40.0f ? 0.3f : t >= 65.0f ? 1.0f : 0.3f + 0.7f * (t - 40.0f) / 25.0f;
    s->fan_cmd = (uint16_t)(duty * 1000.0f + 0.5f);
    /* Tachometer (board.h: its full scale, the fan's full speed): below
     * half of what the duty asks for, for a second, is a fan fault. */
    float rpm = code[MSG_ADC_FAN_TACH] * ((float)BRD_TACH_FS_RPM / (float)BRD_ADC_FULL_CODE), want = (float)BRD_FAN_RPM * duty;
    if (rpm < 0.5f * want && s->ticks > 300) /* after 3 s of spin-up */
        s->fan_bad_ticks++;
    else
        s->fan_bad_ticks = 0;
    uint8_t was = s->fan_fault;
    s->fan_fault = s->fan_bad_ticks >= 100;
    if (s->fan_fault != was)
        thm_alert(k, me, MSG_FAULT_FAN_FAIL, MSG_SEV_CRITICAL, s->fan_fault, rpm);
    /* The magnetics (ferrite and insulation) have their own curve. */
    float tx = sm_ntc_c(c, code[MSG_ADC_T_XFMR]), tl = sm_ntc_c(c, code[MSG_ADC_T_LR]);
    float dm = thm_derate_mag_at(tx > tl ? tx : tl), dj = thm_derate_at(t);
    s->derate = dm < dj ? dm : dj;
    /* DERATING to the station: below 95 %, and cleared back at 99 %. */
    if (!s->derating && s->derate < THM_DERATING_ON) {
        s->derating = 1;
        thm_alert(k, me, MSG_FAULT_DERATING, MSG_SEV_WARNING, 1, s->derate);
    } else if (s->derating && s->derate >= THM_DERATING_OFF) {
        s->derating = 0;
        thm_alert(k, me, MSG_FAULT_DERATING, MSG_SEV_WARNING, 0, s->derate);
    }
    drv_fan(d, s->fan_fault ? 1000 : s->fan_cmd);
    drv_derate(d, s->derate);
    return EK3_OK;
}
