/* rig.c - plant and firmware in lockstep, one quantum at a time. */
#include "rig.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
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

static int rig_pool_start(rig *r, unsigned n);
static void rig_pool_stop(rig *r);

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
    unsigned nt = o->log ? 1 : o->threads;
    if (nt > o->modules)
        nt = o->modules;
    if (nt > 1 && rig_pool_start(r, nt) != EK3_OK)
        r->pool = NULL; /* serial then */
    return EK3_OK;
}

void rig_free(rig *r)
{
    rig_pool_stop(r);
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

/* Steps 1-3 of the quantum for module k (everything but its CAN frames). */
static void rig_module_step(rig *r, unsigned k)
{
    uint32_t q = r->quantum;
    rig_module *m = &r->m[k];
    pmod *pm = &r->plant.mod[k];
    cfd_frame f;
    /* 1. plant -> firmware: the ADC samples of this period. */
    if (pm->present) {
        msg_hil_adc adc = {0, q, {0}};
        pmod_adc(pm, adc.ch);
        if (rig_hil_frame(CID_TYPE_HIL_ADC, CID_NODE_PLANT, k + 1, &adc, &f) == EK3_OK &&
            tp_send(&m->plant_end, &f) == EK3_OK) {
            m->hil_frames++;
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
                      p->deadtime_ns, q, p->fsw_hz, p->burst_permille, p->fan_permille, (uint16_t)m->h.gpio_out};
    if (rig_hil_frame(CID_TYPE_HIL_PWM, k + 1, CID_NODE_BROADCAST, &pw, &f) == EK3_OK &&
        tp_send(&m->fw_end, &f) == EK3_OK) {
        m->hil_frames++;
        rig_log(r, "hil0", &f, r->t_ns);
    }
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

/* ---- the threads -------------------------------------------------------------
 * The caller and n - 1 workers; a quantum has two parallel phases. A phase
 * starts when the caller bumps `gen`; each worker does its range of
 * modules and counts itself done. Workers spin briefly, then yield: a
 * quantum is tens of microseconds, less than a sleeping wake-up. */

struct rig_pool {
    unsigned n;               /* threads, the caller's included */
    pthread_t *th;
    _Atomic unsigned gen, done;
    _Atomic int phase;        /* 0: modules + linearize, 1: plant update, -1: stop */
    rig *r;
};

typedef struct rig_worker {
    rig_pool *p;
    unsigned id;
} rig_worker;

static void rig_range(const rig *r, unsigned id, unsigned n, unsigned *k0, unsigned *k1)
{
    unsigned m = r->o.modules;
    *k0 = (unsigned)((uint64_t)m * id / n);
    *k1 = (unsigned)((uint64_t)m * (id + 1) / n);
}

static void rig_phase(rig *r, int phase, unsigned k0, unsigned k1)
{
    if (phase == 0) {
        for (unsigned k = k0; k < k1; k++)
            rig_module_step(r, k);
        rack_linearize(&r->plant, k0, k1);
    } else {
        rack_update(&r->plant, RIG_PERIOD_NS * 1e-9, k0, k1);
    }
}

static void rig_wait(unsigned spins)
{
    if (spins > 2000)
        sched_yield();
}

static void *rig_thread(void *arg)
{
    rig_worker *w = arg;
    rig_pool *p = w->p;
    unsigned seen = 0;
    for (;;) {
        unsigned spins = 0;
        while (atomic_load_explicit(&p->gen, memory_order_acquire) == seen)
            rig_wait(++spins);
        seen++;
        int phase = atomic_load_explicit(&p->phase, memory_order_relaxed);
        if (phase < 0)
            break;
        unsigned k0, k1;
        rig_range(p->r, w->id, p->n, &k0, &k1);
        rig_phase(p->r, phase, k0, k1);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
    free(w);
    return NULL;
}

static void rig_run_phase(rig *r, int phase)
{
    rig_pool *p = r->pool;
    if (!p) {
        rig_phase(r, phase, 0, r->o.modules);
        return;
    }
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    atomic_store_explicit(&p->phase, phase, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    unsigned k0, k1;
    rig_range(r, 0, p->n, &k0, &k1);
    rig_phase(r, phase, k0, k1);
    unsigned spins = 0;
    while (atomic_load_explicit(&p->done, memory_order_acquire) != p->n - 1)
        rig_wait(++spins);
}

static int rig_pool_start(rig *r, unsigned n)
{
    rig_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->th = calloc(n, sizeof *p->th))) {
        free(p);
        return EK3_ENOSPC;
    }
    p->r = r;
    p->n = 1;
    for (unsigned i = 1; i < n; i++) {
        rig_worker *w = malloc(sizeof *w);
        if (!w)
            break;
        *w = (rig_worker){p, i};
        if (pthread_create(&p->th[i], NULL, rig_thread, w)) {
            free(w);
            break;
        }
        p->n = i + 1; /* the ranges use the threads that did start */
    }
    r->pool = p;
    r->pool_threads = p->n;
    return EK3_OK;
}

static void rig_pool_stop(rig *r)
{
    rig_pool *p = r->pool;
    if (!p)
        return;
    atomic_store_explicit(&p->phase, -1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    for (unsigned i = 1; i < p->n; i++)
        pthread_join(p->th[i], NULL);
    free(p->th);
    free(p);
    r->pool = NULL;
}

void rig_quantum(rig *r)
{
    double dt = RIG_PERIOD_NS * 1e-9;
    rig_run_phase(r, 0);
    /* Serial, in slot order: the firmware's CAN frames onto the bus, the bus voltage. */
    for (unsigned k = 0; k < r->o.modules; k++) {
        cfd_frame out;
        while (hhal_can_take(&r->m[k].h, &out) == EK3_OK)
            cbus_send(&r->bus, k + 1, &out, r->t_ns);
    }
    rack_solve_bus(&r->plant, dt);
    rig_run_phase(r, 1);
    rack_finish(&r->plant, dt);
    r->hil_frames = 0;
    for (unsigned k = 0; k < r->o.modules; k++)
        r->hil_frames += r->m[k].hil_frames;
    r->t_ns += RIG_PERIOD_NS;
    cbus_run(&r->bus, r->t_ns);
    r->quantum++;
}
