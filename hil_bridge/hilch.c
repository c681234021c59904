/* hilch.c - the HIL channel: plant <-> firmware, both directions. */
#include "hilch.h"

#include <string.h>

#include "can_id.h"
#include "ek3_assert.h"
#include "ek3_err.h"
#include "msg.h"

EK3_DEFINE_MODULE("hilch"); /* contracts 300-399 (docs/architecture.md) */

int hch_frame(unsigned type, unsigned src, unsigned dst, const void *payload, cfd_frame *f)
{
    cid_fields cf = {CID_PRIO_HIGH, (uint8_t)type, (uint16_t)src, (uint16_t)dst};
    memset(f, 0, sizeof *f);
    f->flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS;
    int rc = cid_encode(&cf, &f->id);
    if (rc)
        return rc;
    msg_err e;
    int n = msg_encode(type, payload, f->data, sizeof f->data, &e);
    if (n < 0)
        return n;
    f->len = (uint8_t)n;
    return EK3_OK;
}

_Static_assert((int)RTLP_OVP == (int)HAL_TRIP_OVP && (int)RTLP_OCP == (int)HAL_TRIP_OCP &&
                   (int)RTLP_OTP == (int)HAL_TRIP_OTP && (int)RTLP_GFI == (int)HAL_TRIP_GFI,
               "the protection block's first_code is the board's trip source, line for line");

void hch_adc_sample(pmod *m, uint32_t q, msg_hil_adc *a)
{
    /* lines: the trip line, and with it the comparator that tripped first
     * (the block's first_code: rtlp_code and hal_trip_src count alike) */
    a->lines = (uint16_t)(m->hw_trip ? 1u | (m->prot_first & 7u) << 1 : 0u);
    a->period = q;
    pmod_adc(m, a->ch); /* 12-bit codes: pmod_adc clamps each to 0..4095 (module.h), what HIL_ADC carries */
}

int hch_adc_send(pmod *m, unsigned slot, uint32_t q, cfd_frame *f)
{
    msg_hil_adc adc;
    hch_adc_sample(m, q, &adc);
    return hch_frame(CID_TYPE_HIL_ADC, CID_NODE_PLANT, slot, &adc, f);
}

void hch_adc_apply(hhal *h, const msg_hil_adc *a)
{
    memcpy(h->adc, a->ch, sizeof h->adc);
    h->adc_valid = 1;
    /* The hardware trip line and its source, as the board's GPIO would show them. */
    h->gpio_in = (h->gpio_in & ~(uint32_t)(HAL_IN_HW_TRIP | HAL_IN_TRIP_SRC)) |
                 ((a->lines & 1u) ? HAL_IN_HW_TRIP | ((a->lines >> 1 & 7u) << HAL_IN_TRIP_SRC_SHIFT) : 0u);
}

int hch_adc_take(hhal *h, const cfd_frame *f)
{
    msg_hil_adc a;
    msg_err e;
    if (msg_decode(CID_TYPE_HIL_ADC, f->data, f->len, &a, &e) != EK3_OK)
        return EK3_EPARSE;
    hch_adc_apply(h, &a);
    return EK3_OK;
}

static void hch_pwm_payload(const hhal *h, uint32_t q, msg_hil_pwm *pw)
{
    const hal_pwm *p = &h->pwm;
    *pw = (msg_hil_pwm){(uint8_t)((p->enable ? MSG_PWM_ENABLE : 0) | (p->half_bridge ? MSG_PWM_HALF_BRIDGE : 0)),
                        p->deadtime_ns, q, p->fsw_hz, p->burst_permille, p->fan_permille, (uint16_t)h->gpio_out};
}

int hch_pwm_read(const hhal *h, uint32_t q, msg_hil_pwm *p)
{
    hch_pwm_payload(h, q, p);
    /* The fields HIL_PWM's layout bounds (msg.c): checked as the encoder
     * would, without building the payload (nothing reads it here). */
    return msg_hil_pwm_check(p);
}

int hch_pwm_send(const hhal *h, unsigned slot, uint32_t q, cfd_frame *f)
{
    msg_hil_pwm pw;
    hch_pwm_payload(h, q, &pw);
    return hch_frame(CID_TYPE_HIL_PWM, slot, CID_NODE_BROADCAST, &pw, f);
}

int hch_pwm_apply(pmod *m, const msg_hil_pwm *c)
{
    /* A payload the HIL_PWM codec accepts (hch_pwm_take decoded it,
     * hch_pwm_read range-checked it): the plant never gets another. */
    EK3_REQUIRE_ID(302, c->burst_permille <= 1000u && c->fan_permille <= 1000u && c->fsw_hz <= 1000000u);
    llc_cmd lc = {c->fsw_hz ? c->fsw_hz : 200e3, c->deadtime_ns * 1e-9,
                  c->burst_permille ? c->burst_permille / 1000.0 : 1.0, (uint8_t)(c->flags & MSG_PWM_ENABLE),
                  (uint8_t)((c->flags & MSG_PWM_HALF_BRIDGE) != 0)};
    m->fault_clear = (c->lines & HAL_OUT_FAULT_CLEAR) != 0;
    pmod_relay(m, (c->lines & HAL_OUT_RELAY) != 0);
    return pmod_command(m, &lc, c->fan_permille / 1000.0);
}

int hch_pwm_take(pmod *m, const cfd_frame *f)
{
    msg_hil_pwm c;
    msg_err e;
    if (msg_decode(CID_TYPE_HIL_PWM, f->data, f->len, &c, &e) != EK3_OK)
        return EK3_EPARSE;
    return hch_pwm_apply(m, &c);
}

static int hch_fields(const cfd_frame *f, cid_fields *cf)
{
    return (f->flags & CFD_FLAG_EFF) && cid_decode(f->id, cf) == EK3_OK;
}

hch_route hch_route_fw(const cfd_frame *f, unsigned slot)
{
    cid_fields cf;
    if (!hch_fields(f, &cf))
        return HCH_NONE;
    if (!cid_is_hil(cf.type))
        return cf.src != slot ? HCH_RACK : HCH_NONE; /* not its own frames back */
    if (cf.type == CID_TYPE_HIL_ADC && cf.dst == slot)
        return HCH_ADC;
    if (cf.type == CID_TYPE_HIL_TICK && cf.dst == slot && cf.src == CID_NODE_PLANT)
        return HCH_TICK;
    return HCH_NONE;
}

hch_route hch_route_plant(const cfd_frame *f, unsigned slot)
{
    cid_fields cf;
    if (!hch_fields(f, &cf) || cf.src != slot)
        return HCH_NONE; /* on a shared bus: another module's, or the plant's own */
    if (!cid_is_hil(cf.type))
        return HCH_RACK;
    return cf.type == CID_TYPE_HIL_PWM ? HCH_PWM : cf.type == CID_TYPE_HIL_TICK ? HCH_TICK : HCH_BAD;
}
