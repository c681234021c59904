/* kernel_rig.h - a module for the kernel tests: host HAL, kernel and a
 * page-aligned region pool, stepped one 100 us control period at a time. */
#ifndef KERNEL_RIG_H
#define KERNEL_RIG_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "hosthal.h"
#include "inject.h"
#include "jz.h"
#include "rs.h"

#define RIG_POOL (256u * 1024u)
#define RIG_PERIOD_NS 100000

typedef struct rig {
    hhal h;
    jz_kernel k;
    uint8_t *pool;
    uint32_t control_calls;
    uint32_t resets;
} rig;

static void rig_control(void *ctx, jz_kernel *k)
{
    (void)k;
    ((rig *)ctx)->control_calls++;
}

static inline rig *rig_new(const jz_service_def *defs, unsigned n, int strict, uint64_t seed)
{
    rig *r = calloc(1, sizeof *r);
    cr_assert_not_null(r);
    r->pool = aligned_alloc(65536, RIG_POOL);
    cr_assert_not_null(r->pool);
    hhal_init(&r->h, seed, strict);
    jz_config cfg = {defs, n, rig_control, r, seed, r->pool, RIG_POOL,
                     strict ? (size_t)hhal_page_size() : 64, 0, (uint8_t)strict, 0, NULL};
    cr_assert_eq(jz_init(&r->k, &cfg, hhal_hal(&r->h)), EK3_OK);
    return r;
}

static inline void rig_free(rig *r)
{
    free(r->pool);
    free(r);
}

/* One control period: time passes, the ISR runs, then the kernel loop;
 * an expired watchdog resets the module as the MCU would. */
static inline void rig_period(rig *r)
{
    hhal_advance(&r->h, RIG_PERIOD_NS);
    jz_isr(&r->k);
    jz_run(&r->k);
    if (hhal_watchdog_expired(&r->h)) {
        cr_assert_eq(jz_reset(&r->k), EK3_OK);
        hhal_watchdog_restart(&r->h);
        r->resets++;
    }
}

static inline void rig_ms(rig *r, int ms)
{
    for (int i = 0; i < ms * 10; i++)
        rig_period(r);
}

/* The last audit event of a kind (and service, if svc > 0), or NULL. */
static inline const audit_event *rig_last(const rig *r, audit_kind kind, unsigned svc)
{
    const audit_event *found = NULL;
    for (uint32_t i = 0; i < audit_count(&r->k.audit); i++) {
        const audit_event *e = audit_get(&r->k.audit, i);
        if (e->kind == kind && (svc == 0 || e->svc == svc))
            found = e;
    }
    return found;
}

static inline unsigned rig_count(const rig *r, audit_kind kind, unsigned svc)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < audit_count(&r->k.audit); i++) {
        const audit_event *e = audit_get(&r->k.audit, i);
        n += e->kind == kind && (svc == 0 || e->svc == svc);
    }
    return n;
}

#endif /* KERNEL_RIG_H */
