/* diagnostics.c - self-tests on request. */
#include "diagnostics.h"

#include <string.h>

#include "can_handler.h"
#include "board.h"
#include "drivers.h"
#include "ek3_err.h"
#include "msg.h"
#include "services.h"

int diag_init(void *state, jz_kernel *k, unsigned me)
{
    (void)state, (void)k, (void)me;
    return EK3_OK;
}

static unsigned diag_one(jz_kernel *k, unsigned test, uint32_t *value)
{
    const hal_ops *o = k->hw.ops;
    drv_status st;
    drv_status_get(drv_of(k), &st);
    uint16_t code[MSG_ADC_COUNT];
    *value = 0;
    switch (test) {
    case MSG_DIAG_ADC:
        if (hal_adc_read(k->hw, code) != EK3_OK)
            return MSG_DIAG_FAIL;
        for (unsigned c = 0; c < MSG_ADC_COUNT; c++)
            if (code[c] > 4095) {
                *value = c;
                return MSG_DIAG_FAIL;
            }
        return MSG_DIAG_PASS;
    case MSG_DIAG_PWM: /* the bridge accepts the command in force */
        return hal_pwm_set(k->hw, &st.pwm) == EK3_OK ? MSG_DIAG_PASS : MSG_DIAG_FAIL;
    case MSG_DIAG_FAN: {
        if (hal_adc_read(k->hw, code) != EK3_OK)
            return MSG_DIAG_FAIL;
        float rpm = code[MSG_ADC_FAN_TACH] * ((float)BRD_TACH_FS_RPM / (float)BRD_ADC_FULL_CODE);
        *value = (uint32_t)rpm;
        return rpm >= 0.5f * (float)BRD_FAN_RPM * st.pwm.fan_permille / 1000.0f ? MSG_DIAG_PASS : MSG_DIAG_FAIL;
    }
    case MSG_DIAG_NTC: {
        if (hal_adc_read(k->hw, code) != EK3_OK)
            return MSG_DIAG_FAIL;
        static const uint8_t ntc[] = {MSG_ADC_TJ_A, MSG_ADC_TJ_B, MSG_ADC_T_XFMR, MSG_ADC_T_LR, MSG_ADC_T_AMB};
        for (unsigned j = 0; j < sizeof ntc; j++) {
            float t = sm_ntc_c(drv_sm_cfg(drv_of(k)), code[ntc[j]]);
            if (t < -40.0f || t > 150.0f) {
                *value = ntc[j];
                return MSG_DIAG_FAIL;
            }
        }
        return MSG_DIAG_PASS;
    }
    case MSG_DIAG_FLASH: {
        canh_config c;
        if (hal_flash_read(k->hw, BRD_CFG_OFF, &c, sizeof c) != EK3_OK || c.magic != CANH_CONFIG_MAGIC)
            return MSG_DIAG_FAIL;
        *value = c.slot;
        return MSG_DIAG_PASS;
    }
    case MSG_DIAG_CRYPTO: { /* RFC 4493, example 2 (16-byte message) */
        static const uint8_t key[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                        0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
        static const uint8_t msg[16] = {0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96,
                                        0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a};
        static const uint8_t want[16] = {0x07, 0x0a, 0x16, 0xb4, 0x6b, 0x4d, 0x41, 0x44,
                                         0xf7, 0x9b, 0xdd, 0x9d, 0xd0, 0x4a, 0x28, 0x7c};
        uint8_t tag[16];
        if (o->crypto.cmac(o->crypto.ctx, key, msg, sizeof msg, tag) != 0 || memcmp(tag, want, 16))
            return MSG_DIAG_FAIL;
        return MSG_DIAG_PASS;
    }
    case MSG_DIAG_CAN:
        return MSG_DIAG_PASS; /* this answer travels the transmit path: if it arrives, it works */
    case MSG_DIAG_AUDIT: { /* the audit log's head, read from flash (the station compares dumps with it) */
        canh_config c;
        uint8_t key[16] = {0}, head[8];
        uint32_t next;
        if (canh_config_read(k->hw, &c) == EK3_OK)
            memcpy(key, c.key, sizeof key);
        int rc = alog_head_read(k->hw, key, head, &next);
        *value = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 24;
        return rc == EK3_OK || rc == EK3_ENOENT ? MSG_DIAG_PASS : MSG_DIAG_FAIL;
    }
    default:
        return MSG_DIAG_NOT_RUN;
    }
}

unsigned diag_run(jz_kernel *k, unsigned test, uint32_t *value)
{
    if (test != MSG_DIAG_ALL)
        return diag_one(k, test, value);
    for (unsigned t = MSG_DIAG_ADC; t < MSG_DIAG_TEST_COUNT_; t++)
        if (diag_one(k, t, value) != MSG_DIAG_PASS) {
            *value = t; /* the first test that failed */
            return MSG_DIAG_FAIL;
        }
    *value = 0;
    return MSG_DIAG_PASS;
}

int diag_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m)
{
    diag_state *s = state;
    if (m->type != SVC_MSG_DIAG_REQ || m->len < sizeof(msg_diag))
        return EK3_OK;
    msg_diag req, res;
    memcpy(&req, m->payload, sizeof req);
    uint32_t v;
    res = (msg_diag){MSG_DIAG_RESULT, req.test, (uint8_t)diag_run(k, req.test, &v), v};
    s->runs++;
    s->failures += res.result == MSG_DIAG_FAIL;
    s->last_test = req.test;
    s->last_result = res.result;
    ipc_msg out;
    ipc_msg_init(&out, SVC_MSG_DIAG_RES, 2, &res, sizeof res);
    ipc_send(k, me, SVC_CAN, &out); /* refused only if CAN_HANDLER is down: the station will ask again */
    return EK3_OK;
}
