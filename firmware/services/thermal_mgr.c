/* thermal_mgr.c - fan control and power derating. */
#include "thermal_mgr.h"

#include "board.h"
#include "drivers.h"
#include "ek3_err.h"
#include "msg.h"

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
    drv_of(k)->ctl.derate = 1.0f; /* a restarted service starts from no derating */
    return EK3_OK;
}

int thm_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m)
{
    thm_state *s = state;
    (void)me;
    if (m->type != IPC_T_TICK)
        return EK3_OK;
    uint16_t code[MSG_ADC_COUNT];
    if (k->hw.ops->adc_read(k->hw.ctx, code) != EK3_OK)
        return EK3_OK;
    drv_set *d = drv_of(k);
    const sm_cfg *c = &d->safety.cfg;
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
    s->fan_fault = s->fan_bad_ticks >= 100;
    /* The magnetics (ferrite and insulation) have their own curve. */
    float tx = sm_ntc_c(c, code[MSG_ADC_T_XFMR]), tl = sm_ntc_c(c, code[MSG_ADC_T_LR]);
    float dm = thm_derate_mag_at(tx > tl ? tx : tl), dj = thm_derate_at(t);
    s->derate = dm < dj ? dm : dj;
    d->ctl.fan_permille = s->fan_fault ? 1000 : s->fan_cmd;
    d->ctl.derate = s->derate;
    return EK3_OK;
}
