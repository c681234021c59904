/* rig.c - plant and firmware in lockstep, one quantum at a time. */
#include "rig.h"

#include <stdlib.h>
#include <string.h>

#include "audit_logger.h"
#include "can_id.h"
#include "candump.h"
#include "ek3_err.h"
#include "msg.h"

/* The services each module's firmware runs today. */
static const jz_service_def rig_services[] = {
    ALOG_SERVICE,
};

static void rig_control(void *ctx, jz_kernel *k)
{
    rig_module *m = ctx;
    (void)k;
    llcc_step(&m->ctl, hhal_hal(&m->h));
}

static void rig_log(rig *r, const char *bus, const cfd_frame *f, int64_t t_ns)
{
    if (!r->o.log)
        return;
    cdl_record rec;
    memset(&rec, 0, sizeof rec);
    rec.sec = t_ns / 1000000000;
    rec.usec = (uint32_t)(t_ns % 1000000000 / 1000);
    strncpy(rec.ifname, bus, sizeof rec.ifname - 1);
    rec.frame = *f;
    char line[CDL_LINE_MAX];
    if (cdl_format(&rec, line, sizeof line) >= 0)
        fputs(line, r->o.log), fputc('\n', r->o.log);
}

static void rig_deliver(void *ctx, unsigned to, unsigned from, const cfd_frame *f, int64_t t_ns)
{
    rig *r = ctx;
    (void)from;
    if (to >= 1 && to <= r->o.modules)
        hhal_can_deliver(&r->m[to - 1].h, f);
    if (to == (from == 0 ? 1u : 0u))
        rig_log(r, "can0", f, t_ns); /* once per frame: as the first other node hears it */
}

static int rig_hil_frame(unsigned type, unsigned src, unsigned dst, const void *s, cfd_frame *f)
{
    cid_fields cf = {CID_PRIO_HIGH, (uint8_t)type, (uint16_t)src, (uint16_t)dst};
    memset(f, 0, sizeof *f);
    f->flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS;
    int rc = cid_encode(&cf, &f->id);
    if (rc)
        return rc;
    msg_err e;
    int n = msg_encode(type, s, f->data, sizeof f->data, &e);
    if (n < 0)
        return n;
    f->len = (uint8_t)n;
    return EK3_OK;
}

int rig_init(rig *r, const rig_opts *o)
{
    memset(r, 0, sizeof *r);
    if (!o || o->modules < 1 || o->modules > 510)
        return EK3_EINVAL;
    r->o = *o;
    int rc = rack_init(&r->plant, &o->plant, o->modules, (pmod_fidelity)o->fidelity, o->seed, &o->load);
    if (rc)
        return rc;
    r->m = calloc(o->modules, sizeof *r->m);
    if (!r->m || cbus_init(&r->bus, o->modules + 1, 1000000, 5000000, o->seed ^ 0xB05) != EK3_OK) {
        rig_free(r);
        return EK3_ENOSPC;
    }
    r->bus.deliver = rig_deliver;
    r->bus.ctx = r;
    llcc_cfg cc;
    llcc_default_cfg(&cc);
    cc.fs_vout = (float)o->plant.fs_vout;
    cc.fs_iout = (float)o->plant.fs_iout;
    cc.fs_vdc = (float)o->plant.fs_vdc;
    if (o->r_droop > 0)
        cc.r_droop = o->r_droop;
    for (unsigned k = 0; k < o->modules; k++) {
        rig_module *m = &r->m[k];
        m->pool = aligned_alloc(64, RIG_POOL_BYTES);
        if (!m->pool || tp_mem_pair(&m->plant_end, &m->fw_end, 4) != EK3_OK) {
            rig_free(r);
            return EK3_ENOSPC;
        }
        hhal_init(&m->h, o->seed * 1000003u + k + 1, 0);
        llcc_init(&m->ctl, &cc);
        jz_config cfg = {rig_services, sizeof rig_services / sizeof rig_services[0], rig_control, m,
                         o->seed + k, m->pool, RIG_POOL_BYTES, 64, 0, 0};
        rc = jz_init(&m->k, &cfg, hhal_hal(&m->h));
        if (rc) {
            rig_free(r);
            return rc;
        }
        /* The set point the module boots with (its configuration). */
        llcc_command(&m->ctl, o->v_set > 0, o->v_set, cc.p_max);
    }
    return EK3_OK;
}

void rig_free(rig *r)
{
    if (r->m)
        for (unsigned k = 0; k < r->o.modules; k++) {
            tp_close(&r->m[k].plant_end);
            tp_close(&r->m[k].fw_end);
            free(r->m[k].pool);
        }
    free(r->m);
    r->m = NULL;
    cbus_free(&r->bus);
    rack_free(&r->plant);
}

void rig_quantum(rig *r)
{
    unsigned n = r->o.modules;
    uint32_t q = r->quantum;
    for (unsigned k = 0; k < n; k++) {
        rig_module *m = &r->m[k];
        pmod *pm = &r->plant.mod[k];
        cfd_frame f;
        /* 1. plant -> firmware: the ADC samples of this period. */
        if (pm->present) {
            msg_hil_adc adc = {0, q, {0}};
            pmod_adc(pm, adc.ch);
            if (rig_hil_frame(CID_TYPE_HIL_ADC, CID_NODE_PLANT, k + 1, &adc, &f) == EK3_OK &&
                tp_send(&m->plant_end, &f) == EK3_OK) {
                r->hil_frames++;
                rig_log(r, "hil0", &f, r->t_ns);
            }
        }
        /* 2. the firmware's period: ADC device, control interrupt, kernel loop. */
        if (tp_recv(&m->fw_end, &f) == EK3_OK) {
            msg_hil_adc adc;
            msg_err e;
            if (msg_decode(CID_TYPE_HIL_ADC, f.data, f.len, &adc, &e) == EK3_OK) {
                memcpy(m->h.adc, adc.ch, sizeof m->h.adc);
                m->h.adc_valid = 1;
            } else {
                m->hil_errors++;
            }
        }
        hhal_advance(&m->h, RIG_PERIOD_NS);
        jz_isr(&m->k);
        jz_run(&m->k);
        if (hhal_watchdog_expired(&m->h)) {
            jz_reset(&m->k);
            hhal_watchdog_restart(&m->h);
            m->resets++;
        }
        const hal_pwm *p = &m->h.pwm;
        msg_hil_pwm pw = {(uint8_t)((p->enable ? MSG_PWM_ENABLE : 0) | (p->half_bridge ? MSG_PWM_HALF_BRIDGE : 0) |
                                    (p->burst_permille < 1000 ? MSG_PWM_BURST : 0)),
                          p->deadtime_ns, q, p->fsw_hz, p->burst_permille, p->fan_permille,
                          (uint16_t)m->h.gpio_out};
        if (rig_hil_frame(CID_TYPE_HIL_PWM, k + 1, CID_NODE_BROADCAST, &pw, &f) == EK3_OK &&
            tp_send(&m->fw_end, &f) == EK3_OK) {
            r->hil_frames++;
            rig_log(r, "hil0", &f, r->t_ns);
        }
        cfd_frame out;
        while (hhal_can_take(&m->h, &out) == EK3_OK)
            cbus_send(&r->bus, k + 1, &out, r->t_ns);
        /* 3. firmware -> plant: the PWM command. */
        if (tp_recv(&m->plant_end, &f) == EK3_OK) {
            msg_hil_pwm c;
            msg_err e;
            if (msg_decode(CID_TYPE_HIL_PWM, f.data, f.len, &c, &e) == EK3_OK) {
                llc_cmd lc = {c.fsw_hz ? c.fsw_hz : 200e3, c.deadtime_ns * 1e-9,
                              c.burst_permille ? c.burst_permille / 1000.0 : 1.0, (uint8_t)(c.flags & MSG_PWM_ENABLE),
                              (uint8_t)((c.flags & MSG_PWM_HALF_BRIDGE) != 0)};
                if (pmod_command(pm, &lc, c.fan_permille / 1000.0) != EK3_OK)
                    m->hil_errors++;
            } else {
                m->hil_errors++;
            }
        }
    }
    rack_step(&r->plant, RIG_PERIOD_NS * 1e-9);
    r->t_ns += RIG_PERIOD_NS;
    cbus_run(&r->bus, r->t_ns);
    r->quantum++;
}
