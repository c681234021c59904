/* hosthal.c - virtual devices of one module, and strict-mode memory
 * protection, for the firmware running inside the rig. */
#include "hosthal.h"

#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ek3_err.h"
#include "ek3_rng.h"
#include "host_crypto.h"

long hhal_page_size(void)
{
    return sysconf(_SC_PAGESIZE);
}

static int64_t hhal_clock(void *ctx)
{
    return ((hhal *)ctx)->now_ns;
}

static int hhal_adc_read(void *ctx, uint16_t codes[MSG_ADC_COUNT])
{
    hhal *h = ctx;
    if (!h->adc_valid)
        return EK3_EAGAIN;
    memcpy(codes, h->adc, sizeof h->adc);
    return EK3_OK;
}

static int hhal_pwm_set(void *ctx, const hal_pwm *cmd)
{
    hhal *h = ctx;
    if (cmd->fsw_hz > 1000000 || (cmd->enable && cmd->fsw_hz < 20000) || cmd->deadtime_ns > 5000 ||
        cmd->burst_permille > 1000 || cmd->fan_permille > 1000)
        return EK3_ERANGE;
    h->pwm = *cmd;
    h->pwm_writes++;
    return EK3_OK;
}

static int hhal_can_send(void *ctx, const cfd_frame *f)
{
    hhal *h = ctx;
    if (h->tx_count >= HHAL_CAN_DEPTH) {
        h->tx_dropped++;
        return EK3_EFULL;
    }
    h->tx[(h->tx_head + h->tx_count++) % HHAL_CAN_DEPTH] = *f;
    if (h->tx_flag)
        *h->tx_flag = 1;
    return EK3_OK;
}

static int hhal_can_recv(void *ctx, cfd_frame *f)
{
    hhal *h = ctx;
    if (!h->rx_count)
        return EK3_EAGAIN;
    *f = h->rx[h->rx_head];
    h->rx_head = (uint16_t)((h->rx_head + 1) % HHAL_CAN_DEPTH);
    h->rx_count--;
    return EK3_OK;
}

int hhal_can_deliver(hhal *h, const cfd_frame *f)
{
    if (h->rx_count >= HHAL_CAN_DEPTH)
        return EK3_EFULL;
    h->rx[(h->rx_head + h->rx_count++) % HHAL_CAN_DEPTH] = *f;
    return EK3_OK;
}

static int hhal_flash_read(void *ctx, uint32_t off, void *buf, size_t n)
{
    return fle_read(&((hhal *)ctx)->fl, off, buf, n);
}

static int hhal_flash_write(void *ctx, uint32_t off, const void *buf, size_t n)
{
    return fle_program(&((hhal *)ctx)->fl, off, buf, n);
}

static int hhal_flash_erase(void *ctx, uint32_t off, size_t n)
{
    return fle_erase(&((hhal *)ctx)->fl, off, n);
}

static int hhal_trng(void *ctx, uint32_t *out)
{
    hhal *h = ctx;
    *out = (uint32_t)(ek3_rng_xorshift64s(&h->rng) >> 32);
    return EK3_OK;
}

static uint32_t hhal_gpio_read(void *ctx)
{
    const hhal *h = ctx; /* the outputs read back as their pins' levels, as on the target */
    return (h->gpio_in & ~(uint32_t)(HAL_OUT_RELAY | HAL_OUT_FAULT_LED | HAL_OUT_FAULT_CLEAR)) |
           (h->gpio_out & (HAL_OUT_RELAY | HAL_OUT_FAULT_LED | HAL_OUT_FAULT_CLEAR));
}

static void hhal_gpio_write(void *ctx, uint32_t mask, uint32_t value)
{
    hhal *h = ctx;
    mask &= HAL_OUT_RELAY | HAL_OUT_FAULT_LED | HAL_OUT_FAULT_CLEAR;
    h->gpio_out = (h->gpio_out & ~mask) | (value & mask);
}

static void hhal_kick(void *ctx)
{
    hhal *h = ctx;
    h->kick_ns = h->now_ns;
}

static void hhal_safe_shutdown(void *ctx)
{
    hhal *h = ctx;
    h->pwm.enable = 0;
    h->gpio_out &= ~(uint32_t)HAL_OUT_RELAY;
    h->gpio_out |= HAL_OUT_FAULT_LED;
    h->shutdowns++;
}

/* hal_reset: the rig reboots the module after this pass (fwinst.c). */
static void hhal_reset_req(void *ctx)
{
    hhal *h = ctx;
    h->reset_req = 1;
}

/* ---- strict mode ------------------------------------------------------ */

static int hhal_mpu_setup(void *ctx, const hal_region *r, unsigned n)
{
    hhal *h = ctx;
    long page = hhal_page_size();
    if (n > HHAL_MAX_REGIONS)
        return EK3_ERANGE;
    for (unsigned i = 0; h->strict && i < n; i++)
        if (r[i].base % (uintptr_t)page || r[i].size % (size_t)page)
            return EK3_ERANGE; /* mprotect works on whole pages */
    memcpy(h->regions, r, n * sizeof *r);
    h->nregions = n;
    h->open_index = -1;
    return EK3_OK;
}

static void hhal_mpu_open(void *ctx, int index)
{
    hhal *h = ctx;
    if (!h->strict || index == h->open_index)
        return;
    for (unsigned i = 0; i < h->nregions; i++) {
        int open = index < 0 || (int)i == index;
        int was = h->open_index < 0 || (int)i == h->open_index;
        if (open != was)
            mprotect((void *)h->regions[i].base, h->regions[i].size, open ? PROT_READ | PROT_WRITE : PROT_NONE);
    }
    h->open_index = index;
}

/* The dispatch that may fault, per thread (a rack may run on several). */
static _Thread_local sigjmp_buf *hhal_trap;

static void hhal_on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    if (hhal_trap)
        siglongjmp(*hhal_trap, 1);
    signal(sig, SIG_DFL); /* not ours: crash as usual */
    raise(sig);
}

static int hhal_run_guarded(void *ctx, int (*fn)(void *), void *arg, int *rc)
{
    hhal *h = ctx;
    if (!h->strict) {
        *rc = fn(arg);
        return EK3_OK;
    }
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = hhal_on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old);
    sigjmp_buf jb;
    sigjmp_buf *prev = hhal_trap;
    int result = EK3_OK;
    if (sigsetjmp(jb, 1) == 0) {
        hhal_trap = &jb;
        *rc = fn(arg);
    } else {
        h->faults++;
        result = EK3_EFAULT;
    }
    hhal_trap = prev;
    sigaction(SIGSEGV, &old, NULL);
    return result;
}

/* The ops of both tables; strict mode adds the guarded dispatch. */
#define HHAL_OPS_COMMON \
    .clock_ns = hhal_clock, \
    .adc_read = hhal_adc_read, \
    .pwm_set = hhal_pwm_set, \
    .can_send = hhal_can_send, \
    .can_recv = hhal_can_recv, \
    .flash_read = hhal_flash_read, \
    .flash_write = hhal_flash_write, \
    .flash_erase = hhal_flash_erase, \
    .flash_size = HHAL_FLASH_SIZE, \
    .crypto = {hostcrypto_cmac, NULL}, \
    .trng = hhal_trng, \
    .gpio_read = hhal_gpio_read, \
    .gpio_write = hhal_gpio_write, \
    .watchdog_kick = hhal_kick, \
    .mpu_setup = hhal_mpu_setup, \
    .mpu_open = hhal_mpu_open, \
    .safe_shutdown = hhal_safe_shutdown, \
    .reset = hhal_reset_req,

static const hal_ops hhal_ops_strict = {HHAL_OPS_COMMON .run_guarded = hhal_run_guarded};

/* Not strict, hhal_run_guarded only calls fn: without it the kernel calls
 * fn itself (jz_call), the same call one indirection shorter. */
static const hal_ops hhal_ops = {HHAL_OPS_COMMON};

void hhal_init(hhal *h, uint64_t seed, int strict)
{
    /* Everything 0 but the flash, which fle_init sets (one pass over it, not two). */
    memset(h, 0, offsetof(hhal, fl));
    memset((uint8_t *)h + offsetof(hhal, fl) + sizeof h->fl, 0, sizeof *h - offsetof(hhal, fl) - sizeof h->fl);
    fle_config fc = {.seed = seed, .size = HHAL_FLASH_SIZE, .bank_size = BRD_FLASH_BANK};
    fle_init(&h->fl, &fc);
    h->rng = seed ? seed : 1;
    h->strict = (uint8_t)(strict != 0);
    h->open_index = -1;
    h->gpio_in = HAL_IN_FAN_OK | HAL_IN_SLOT_PRESENT;
}

hal hhal_hal(hhal *h)
{
    hal x = {h->strict ? &hhal_ops_strict : &hhal_ops, h};
    return x;
}

void hhal_mcu_reset(hhal *h)
{
    memset(&h->pwm, 0, sizeof h->pwm);
    h->tx_head = h->tx_count = h->rx_head = h->rx_count = 0;
    h->gpio_out = 0;
}

void hhal_watchdog_restart(hhal *h)
{
    h->kick_ns = h->now_ns;
}
