/* main.c - the module firmware on the STM32G474: one module context on
 * main's stack (no globals), the kernel with its services, the control
 * interrupt, and the kernel loop. */
#include <stdint.h>

#include "services.h"
#include "g4hal.h"
#include "jz.h"
#include "drivers.h"
#include "llc_control.h"
#include "mpu.h"

extern uint8_t __jz_pool_start[], __jz_pool_size[];

/* Everything a module is, in one place. */
typedef struct g4_module {
    g4hal hw;
    jz_kernel k;
    drv_set drv; /* LLC_CONTROL: off until commanded (CAN_HANDLER) */
} g4_module;

/* The services of this build, in id order. */
static const jz_service_def g4_services[] = EK3_SERVICES;

static void g4_control_tick(void *ctx)
{
    jz_isr(ctx);
}



static int g4_module_start(g4_module *m)
{
    g4hal_init(&m->hw, (uintptr_t)__jz_pool_start, (size_t)(uintptr_t)__jz_pool_size);
    hal hw = g4hal_hal(&m->hw);
    llcc_cfg cc;
    llcc_default_cfg(&cc);
    drv_init(&m->drv, &cc);
    uint32_t seed = 0;
    hal_trng(hw, &seed);
    jz_config cfg = {
        .services = g4_services,
        .nservices = sizeof g4_services / sizeof g4_services[0],
        .control = drv_control, /* LLC_CONTROL, the 10 kHz driver */
        .control_ctx = &m->drv,
        .seed = seed | 1u,
        .pool = __jz_pool_start,
        .pool_size = (size_t)(uintptr_t)__jz_pool_size,
        .granule = MPU_MIN_REGION,
        .pow2 = 1,
        .strict = 1,
        .reset_by_watchdog = (uint8_t)g4hal_reset_by_watchdog(), /* CAN_HANDLER reports it */
    };
    return jz_init(&m->k, &cfg, hw);
}

int main(void)
{
    g4_module m;
    if (g4_module_start(&m) != 0) {
        m.hw.tick = 0;
        hal_safe_shutdown(g4hal_hal(&m.hw));
        g4hal_start(&m.hw, 0, 0);
        for (;;) /* the watchdog resets the MCU in 100 ms: try again */
            __asm volatile("wfi");
    }
    g4hal_start(&m.hw, g4_control_tick, &m.k);
    for (;;) {
        jz_run(&m.k);
        __asm volatile("wfi");
    }
}
