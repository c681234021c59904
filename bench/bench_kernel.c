/* bench_kernel.c - cost of JEZGRO: one message sent and dispatched, one
 * idle kernel pass, one control interrupt; and what 84 modules at 10 kHz
 * take of one core. Under callgrind each loop is dumped by name so the
 * caller can turn instructions into instructions per operation. */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "board.h"
#include "ek3_err.h"
#include "hosthal.h"
#include "jz.h"

static int bk_handle(void *st, jz_kernel *k, unsigned me, const ipc_msg *m)
{
    (void)k;
    (void)me;
    ((uint32_t *)st)[0] += m->type;
    return 0;
}

static void bk_control(void *ctx, jz_kernel *k)
{
    (void)k;
    (*(uint32_t *)ctx)++;
}

/* Five services like the firmware's: two with rates, all watched. */
static const jz_service_def bk_defs[] = {
    {"llc", 20, 1, 8, 0, 50, 0x3E, 64, NULL, bk_handle},
    {"thermal", 12, 0, 8, 10000, 50, 0x3E, 256, NULL, bk_handle},
    {"health", 10, 0, 8, 100000, 50, 0x3E, 256, NULL, bk_handle},
    {"can", 8, 0, 8, 0, 50, 0x3E, 512, NULL, bk_handle},
    {"audit", 2, 0, 8, 0, 0, 0x3E, 128, NULL, bk_handle},
};

typedef struct {
    hhal h;
    jz_kernel k;
    uint32_t isr;
    _Alignas(64) uint8_t pool[16384];
} bk_module;

int bench_kernel(FILE *out, double scale, int instructions)
{
    bk_module *m = aligned_alloc(64, sizeof *m);
    if (!m)
        return 1;
    memset(m, 0, sizeof *m);
    hhal_init(&m->h, 1, 0);
    jz_config cfg = {bk_defs, 5, bk_control, &m->isr, 1, m->pool, sizeof m->pool, 64, 0, 0, 0, NULL};
    int rc = jz_init(&m->k, &cfg, hhal_hal(&m->h));
    if (rc != EK3_OK) {
        fprintf(stderr, "bench kernel: jz_init: %s\n", ek3_strerror(rc));
        free(m);
        return 1;
    }
    long n = (long)(200000 * scale);
    if (n < 2000)
        n = 2000;
    ipc_msg msg;
    ipc_msg_init(&msg, IPC_T_USER, 2, "0123456789abcdef", 16);
    int64_t t0, t_idle, t_msg, t_isr;

    /* idle passes: time moves 100 us per pass, no messages but timers and pings */
    BENCH_CG_BEGIN();
    t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        hhal_advance(&m->h, BRD_PERIOD_NS);
        jz_run(&m->k);
    }
    t_idle = bench_now_ns() - t0;
    BENCH_CG_END("kernel.idle_pass");

    /* the same passes with one message sent and dispatched in each */
    BENCH_CG_BEGIN();
    t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        hhal_advance(&m->h, BRD_PERIOD_NS);
        ipc_send(&m->k, 4, 2, &msg);
        jz_run(&m->k);
    }
    t_msg = bench_now_ns() - t0;
    BENCH_CG_END("kernel.pass_with_message");

    BENCH_CG_BEGIN();
    t0 = bench_now_ns();
    for (long i = 0; i < n * 10; i++)
        jz_isr(&m->k);
    t_isr = bench_now_ns() - t0;
    BENCH_CG_END("kernel.isr");

    if (!instructions) {
        double idle = (double)t_idle / (double)n, with = (double)t_msg / (double)n;
        bench_line(out, "kernel.idle_pass.ns", idle, "ns");
        bench_line(out, "kernel.send_dispatch.ns", with - idle, "ns");
        bench_line(out, "kernel.isr_call.ns", (double)t_isr / (double)(n * 10), "ns");
        /* 84 modules, a pass and an ISR every 100 us, two messages each */
        double per_s = 84.0 * (1e9 / BRD_PERIOD_NS) * (idle + 2 * (with - idle) + (double)t_isr / (double)(n * 10));
        bench_line(out, "kernel.rack84_10khz.core_share", per_s / 1e9, "cores");
    }
    int bad = m->isr != (uint32_t)(n * 10);
    free(m);
    return bad;
}
