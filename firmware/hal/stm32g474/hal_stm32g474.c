/*
 * hal_stm32g474.c - the HAL on the module's STM32G474 (prefix g4hal_).
 *
 * Register programming follows RM0440 rev 7; field positions are named
 * where they are set. Polling drivers only: the one interrupt the
 * firmware takes is TIM6 (10 kHz control), plus SysTick (1 kHz wake-up)
 * and MemManage (a service's stray access, see startup.c).
 *
 * This file is compiled by CI for the target; it has not been run on a
 * board by this project yet (see docs/jezgro.md).
 */
#include <string.h>

#include "board.h"
#include "ek3_assert.h"
#include "ek3_err.h"
#include "g4hal.h"
#include "mpu.h"
#include "soft_aes.h"
#include "stm32g474.h"

extern void *__jz_ctx_slot[];
extern uint8_t __cfg_start[], __cfg_size[];

#define G4_CFG_BASE ((uintptr_t)__cfg_start)
#define G4_CFG_SIZE ((size_t)(uintptr_t)__cfg_size)
#define G4_FLASH_PAGE 2048u
#define G4_BANK2_BASE 0x08040000u
#define G4_FLASH_BASE 0x08000000u /* the hal's flash offsets are from here: the whole part (board.h's map) */
_Static_assert(G4_BANK2_BASE - G4_FLASH_BASE == BRD_FLASH_BANK, "bank 2 starts where board.h says");

/* MPU region numbers: a higher number wins where regions overlap. */
enum { G4_MPU_FLASH, G4_MPU_CFG, G4_MPU_NULL, G4_MPU_POOL, G4_MPU_OPEN };

static uint32_t g4_irq_save(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
    return primask;
}

static void g4_irq_restore(uint32_t primask)
{
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
}

static void g4_delay_cycles(uint32_t n)
{
    uint32_t t0 = G4_DWT_CYCCNT;
    while (G4_DWT_CYCCNT - t0 < n)
        ;
}

/* ---- clock: DWT cycle counter extended to 64 bits ------------------------ */

static int64_t g4hal_clock(void *ctx)
{
    g4hal *h = ctx;
    uint32_t s = g4_irq_save();
    uint32_t now = G4_DWT_CYCCNT;
    h->cyc_total += (uint32_t)(now - h->cyc_last); /* read at least every 25 s */
    h->cyc_last = now;
    uint64_t cyc = h->cyc_total;
    g4_irq_restore(s);
    return (int64_t)(cyc * 1000u / (G4_SYSCLK_HZ / 1000000u) / 1000u);
}

/* ---- ADC1: one regular sequence of MSG_ADC_COUNT channels ---------------- */

static const uint8_t g4_adc_channel[MSG_ADC_COUNT] = BRD_ADC_INPUTS;

static int g4hal_adc_read(void *ctx, uint16_t codes[MSG_ADC_COUNT])
{
    g4hal *h = ctx;
    G4_ADC_ISR = 0x0Cu;        /* clear EOC, EOS */
    G4_ADC_CR |= 1u << 2;      /* ADSTART */
    for (unsigned i = 0; i < MSG_ADC_COUNT; i++) {
        uint32_t t0 = G4_DWT_CYCCNT;
        while (!(G4_ADC_ISR & (1u << 2))) /* EOC */
            if (G4_DWT_CYCCNT - t0 > 170u * 20u) /* 20 us: the ADC stopped */
                return h->adc_valid ? (memcpy(codes, h->adc, sizeof h->adc), EK3_OK) : EK3_EAGAIN;
        h->adc[i] = (uint16_t)(G4_ADC_DR & 0x0FFFu);
    }
    h->adc_valid = 1;
    memcpy(codes, h->adc, sizeof h->adc);
    return EK3_OK;
}

static void g4_adc_init(void)
{
    G4_RCC_AHB2ENR |= 1u << 13;                          /* ADC12EN */
    G4_RCC_CCIPR = (G4_RCC_CCIPR & ~(3u << 28)) | (2u << 28); /* ADC12SEL = SYSCLK */
    G4_ADC12_CCR = (G4_ADC12_CCR & ~(3u << 16)) | (3u << 16); /* CKMODE = HCLK/4 */
    G4_ADC_CR &= ~(1u << 29);                            /* DEEPPWD off */
    G4_ADC_CR |= 1u << 28;                               /* ADVREGEN */
    g4_delay_cycles(170u * 25u);                         /* tADCVREG_STUP 20 us */
    G4_ADC_CR |= 1u << 31;                               /* ADCAL, single-ended */
    while (G4_ADC_CR & (1u << 31))
        ;
    /* 47.5-cycle sampling on every channel: NTC and divider sources. */
    G4_ADC_SMPR1 = 0x24924924u;
    G4_ADC_SMPR2 = 0x04924924u;
    uint32_t sq[4] = {MSG_ADC_COUNT - 1u, 0, 0, 0};      /* L = n - 1 */
    for (unsigned i = 0; i < MSG_ADC_COUNT; i++) {
        unsigned slot = i + 1u, reg = slot / 5u, pos = (slot % 5u) * 6u;
        sq[reg] |= (uint32_t)g4_adc_channel[i] << pos;
    }
    for (unsigned r = 0; r < 4; r++)
        G4_ADC_SQR(r) = sq[r];
    G4_ADC_CFGR = 0;                                     /* single sequence, software start, 12-bit */
    G4_ADC_ISR = 1u;                                     /* clear ADRDY */
    G4_ADC_CR |= 1u;                                     /* ADEN */
    while (!(G4_ADC_ISR & 1u))
        ;
}

/* ---- HRTIM1 timers A and B: the two legs of the bridge ------------------- */

#define G4_TA 0u
#define G4_TB 1u
#define G4_HRCK_HZ (G4_HRTIM_FREQ_HZ / 2u) /* CKPSC = 1: 2.72 GHz, 0.37 ns */

static int g4hal_pwm_set(void *ctx, const hal_pwm *cmd)
{
    (void)ctx;
    if (!cmd->enable) {
        G4_HRTIM_ODISR = 0x0Fu; /* TA1 TA2 TB1 TB2 off */
        return EK3_OK;
    }
    uint64_t per = G4_HRCK_HZ / (cmd->fsw_hz ? cmd->fsw_hz : 1u);
    uint32_t dt = (uint32_t)((uint64_t)cmd->deadtime_ns * G4_SYSCLK_HZ / 1000000000u); /* DTPRSC = 3: 5.88 ns */
    if (cmd->fsw_hz < 42000u || per < 0x30u || per > 0xFFDFu || dt > 511u || cmd->burst_permille > 1000u)
        return EK3_ERANGE;
    uint32_t dtr = dt | (3u << 10) | (dt << 16);         /* DTR, DTPRSC, DTF */
    for (unsigned t = G4_TA; t <= G4_TB; t++) {
        G4_HRTIM_PER(t) = (uint32_t)per;
        G4_HRTIM_CMP1(t) = (uint32_t)per / 2u;
        G4_HRTIM_DT(t) = dtr;
    }
    /* Leg B is leg A inverted (diagonal switches together); in half-bridge
     * mode leg B's outputs stay idle: its low switch is held by the
     * driver's default state and only leg A switches. */
    G4_HRTIM_BMCMPR = 1000u - cmd->burst_permille;       /* idle periods of 1000 */
    G4_HRTIM_BMCR = cmd->burst_permille < 1000u ? (1u | (1u << 1)) : 0u; /* BME, continuous */
    G4_HRTIM_OENR = cmd->half_bridge ? 0x03u : 0x0Fu;
    if (cmd->half_bridge)
        G4_HRTIM_ODISR = 0x0Cu;
    return EK3_OK;
}

static void g4_hrtim_init(void)
{
    G4_RCC_APB2ENR |= 1u << 26;                          /* HRTIM1EN */
    G4_HRTIM_DLLCR = 1u << 1;                            /* CAL */
    while (!(G4_HRTIM_ISR & (1u << 16)))                 /* DLLRDY */
        ;
    for (unsigned t = G4_TA; t <= G4_TB; t++) {
        G4_HRTIM_TIMCR(t) = 1u | (1u << 3) | (1u << 27); /* CKPSC = 1, continuous, preload */
        G4_HRTIM_OUTR(t) = 1u << 8;                      /* DTEN: output 2 is output 1 with dead time */
    }
    G4_HRTIM_SET1(G4_TA) = 1u << 2;                      /* PER */
    G4_HRTIM_RST1(G4_TA) = 1u << 3;                      /* CMP1 */
    G4_HRTIM_SET1(G4_TB) = 1u << 3;
    G4_HRTIM_RST1(G4_TB) = 1u << 2;
    G4_HRTIM_BMPER = 1000u - 1u;                         /* burst period: 1000 periods of timer A */
    G4_HRTIM_PER(G4_TA) = G4_HRTIM_PER(G4_TB) = 0xFFDFu;
    G4_HRTIM_ODISR = 0x0Fu;
    G4_HRTIM_MCR |= (1u << 17) | (1u << 18);             /* TACEN, TBCEN */
}

static void g4hal_safe_shutdown(void *ctx)
{
    (void)ctx;
    G4_HRTIM_ODISR = 0x0Fu;                              /* gates off first */
    G4_GPIO_BSRR(2) = (1u << (6 + 16)) | (1u << 7);      /* relay open, fault LED on */
}

/* The contract hook (ek3_assert.h): a broken invariant is a bug, and the
 * module's state can no longer be trusted: the safe state first (gates
 * off, relay open), then a reset; the watchdog-free reset is counted by
 * the next boot as any other. */
_Noreturn void ek3_contract_failed(const char *module, unsigned id, const char *file, int line)
{
    (void)module, (void)id, (void)file, (void)line;
    g4hal_safe_shutdown(0);
    G4_SCB_AIRCR = 0x05FA0004u;
    for (;;)
        ;
}

/* ---- FDCAN1: 1 Mbit/s nominal, 5 Mbit/s data, FIFO 0 and TX FIFO ------- */

#define G4_RAM_WORD(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define G4_ELEM_BYTES 72u

static int g4hal_can_send(void *ctx, const cfd_frame *f)
{
    g4hal *h = ctx;
    uint32_t fqs = G4_FDCAN_TXFQS;
    if (fqs & (1u << 21))                                /* TFQF */
        return EK3_EFULL;
    int fd = (f->flags & CFD_FLAG_FD) != 0;
    int dlc = cfd_len_to_dlc(f->len, fd);
    if (dlc < 0) {
        h->can_errors++;
        return dlc;
    }
    unsigned put = (fqs >> 16) & 3u;                     /* TFQPI */
    uintptr_t e = G4_SRAMCAN_TXB + put * G4_ELEM_BYTES;
    G4_RAM_WORD(e) = (f->flags & CFD_FLAG_EFF) ? (f->id & 0x1FFFFFFFu) | (1u << 30) /* XTD */
                                               : (f->id & 0x7FFu) << 18;
    G4_RAM_WORD(e + 4) = ((uint32_t)dlc << 16) | (fd ? 1u << 21 : 0) | ((f->flags & CFD_FLAG_BRS) ? 1u << 20 : 0);
    for (unsigned i = 0; i < f->len; i += 4) {
        uint32_t w = 0;
        for (unsigned b = 0; b < 4 && i + b < f->len; b++)
            w |= (uint32_t)f->data[i + b] << (8 * b);
        G4_RAM_WORD(e + 8 + i) = w;
    }
    G4_FDCAN_TXBAR = 1u << put;
    return EK3_OK;
}

static int g4hal_can_recv(void *ctx, cfd_frame *f)
{
    (void)ctx;
    uint32_t s = G4_FDCAN_RXF0S;
    if (!(s & 0xFu))                                     /* F0FL */
        return EK3_EAGAIN;
    unsigned get = (s >> 8) & 3u;                        /* F0GI */
    uintptr_t e = G4_SRAMCAN_RXF0 + get * G4_ELEM_BYTES;
    uint32_t r0 = G4_RAM_WORD(e), r1 = G4_RAM_WORD(e + 4);
    int fd = (r1 >> 21) & 1u;
    memset(f, 0, sizeof *f);
    int xtd = (r0 >> 30) & 1u;
    f->id = xtd ? r0 & 0x1FFFFFFFu : (r0 >> 18) & 0x7FFu;
    f->flags = (uint8_t)((xtd ? CFD_FLAG_EFF : 0) | (fd ? CFD_FLAG_FD : 0) | (((r1 >> 20) & 1u) ? CFD_FLAG_BRS : 0) |
                         ((r0 >> 31) ? CFD_FLAG_ESI : 0));
    f->len = (uint8_t)cfd_dlc_to_len((r1 >> 16) & 0xFu, fd);
    for (unsigned i = 0; i < f->len; i += 4) {
        uint32_t w = G4_RAM_WORD(e + 8 + i);
        for (unsigned b = 0; b < 4 && i + b < f->len; b++)
            f->data[i + b] = (uint8_t)(w >> (8 * b));
    }
    G4_FDCAN_RXF0A = get;
    return EK3_OK;
}

static void g4_fdcan_init(void)
{
    G4_RCC_APB1ENR1 |= 1u << 25;                         /* FDCANEN */
    G4_RCC_CCIPR = (G4_RCC_CCIPR & ~(3u << 24)) | (2u << 24); /* FDCANSEL = PCLK1, 170 MHz */
    G4_FDCAN_CCCR |= G4_CCCR_INIT;
    while (!(G4_FDCAN_CCCR & G4_CCCR_INIT))
        ;
    G4_FDCAN_CCCR |= G4_CCCR_CCE | G4_CCCR_FDOE | G4_CCCR_BRSE;
    G4_FDCAN_CKDIV = 0;
    /* Nominal: 170 tq of 5.88 ns = 1 Mbit/s, sample point 80 %.
     * NSJW[31:25] NBRP[24:16] NTSEG1[15:8] NTSEG2[6:0], each value - 1. */
    G4_FDCAN_NBTP = (33u << 25) | (0u << 16) | (135u << 8) | 33u;
    /* Data: 34 tq = 5 Mbit/s, sample point 79 %, transceiver delay
     * compensation on. DSJW[3:0] DTSEG2[7:4] DTSEG1[12:8] DBRP[20:16] TDC[23]. */
    G4_FDCAN_DBTP = (1u << 23) | (0u << 16) | (25u << 8) | (6u << 4) | 6u;
    G4_FDCAN_TDCR = 27u << 8;                            /* TDCO: the data sample point */
    G4_FDCAN_RXGFC = 0;                                  /* every frame to RX FIFO 0 */
    for (uintptr_t a = G4_SRAMCAN; a < G4_SRAMCAN + 0x350u; a += 4)
        G4_RAM_WORD(a) = 0;
    G4_FDCAN_CCCR &= ~G4_CCCR_INIT;
}

/* ---- flash: the configuration and log area (bank 2, 2 KiB pages) -------- */

static int g4_flash_wait(void)
{
    while (G4_FLASH_SR & (1u << 16))                     /* BSY */
        ;
    uint32_t err = G4_FLASH_SR & 0xFAu;                  /* OPERR PROGERR WRPERR PGAERR SIZERR PGSERR MISERR */
    G4_FLASH_SR = err | 1u;                              /* clear them and EOP */
    return err ? EK3_EIO : EK3_OK;
}

static void g4_flash_unlock(void)
{
    if (G4_FLASH_CR & (1u << 31)) {
        G4_FLASH_KEYR = 0x45670123u;
        G4_FLASH_KEYR = 0xCDEF89ABu;
    }
}

static int g4_flash_in_area(uint32_t off, size_t n)
{
    return off <= BRD_FLASH_SIZE && n <= BRD_FLASH_SIZE - off;
}

static int g4hal_flash_read(void *ctx, uint32_t off, void *buf, size_t n)
{
    g4hal *h = ctx;
    if (!g4_flash_in_area(off, n))
        return EK3_ERANGE;
    /* A double word torn by a power cut fails its ECC: the flash raises
     * the NMI (ECCD, RM0440 3.3.8), whose handler counts it in
     * h->flash_eccd; the barrier makes sure it has run before the count
     * is compared. */
    uint32_t eccd = h->flash_eccd;
    memcpy(buf, (const void *)(G4_FLASH_BASE + off), n);
    __asm volatile("dsb\n isb" ::: "memory");
    return h->flash_eccd != eccd ? EK3_EIO : EK3_OK;
}

/* Writes are whole double words (the flash's ECC unit): offset and size
 * must be multiples of 8 (EK3_EINVAL otherwise). */
static int g4hal_flash_write(void *ctx, uint32_t off, const void *buf, size_t n)
{
    (void)ctx;
    if (!g4_flash_in_area(off, n))
        return EK3_ERANGE;
    if (off % 8u || n % 8u)
        return EK3_EINVAL;
    const uint8_t *src = buf;
    g4_flash_unlock();
    int rc = g4_flash_wait();
    G4_FLASH_CR |= 1u;                                   /* PG */
    for (size_t i = 0; rc == EK3_OK && i < n; i += 8) {
        uint32_t lo, hi;
        memcpy(&lo, src + i, 4);
        memcpy(&hi, src + i + 4, 4);
        volatile uint32_t *dst = (volatile uint32_t *)(G4_FLASH_BASE + off + i);
        dst[0] = lo;
        dst[1] = hi;
        rc = g4_flash_wait();
    }
    G4_FLASH_CR &= ~1u;
    G4_FLASH_CR |= 1u << 31;                             /* LOCK */
    return rc;
}

static int g4hal_flash_erase(void *ctx, uint32_t off, size_t n)
{
    (void)ctx;
    if (!g4_flash_in_area(off, n))
        return EK3_ERANGE;
    if (off % G4_FLASH_PAGE || n % G4_FLASH_PAGE)
        return EK3_EINVAL;
    g4_flash_unlock();
    int rc = g4_flash_wait();
    for (size_t p = 0; rc == EK3_OK && p < n; p += G4_FLASH_PAGE) {
        uint32_t a = (uint32_t)(off + p), bank2 = a >= BRD_FLASH_BANK;
        uint32_t page = (bank2 ? a - BRD_FLASH_BANK : a) / G4_FLASH_PAGE;
        G4_FLASH_CR = (G4_FLASH_CR & ~((1u << 11) | (0x7Fu << 3) | 7u)) | (bank2 << 11) | (page << 3) | (1u << 1); /* BKER, PNB, PER */
        G4_FLASH_CR |= 1u << 16;                         /* STRT */
        rc = g4_flash_wait();
    }
    G4_FLASH_CR &= ~((1u << 1) | (1u << 11));
    G4_FLASH_CR |= 1u << 31;
    return rc;
}

/* ---- RNG --------------------------------------------------------------- */

static int g4hal_trng(void *ctx, uint32_t *out)
{
    (void)ctx;
    for (unsigned tries = 0; tries < 1000u; tries++) {
        uint32_t sr = G4_RNG_SR;
        if (sr & ((1u << 1) | (1u << 2))) {              /* CECS, SECS */
            G4_RNG_SR = 0;
            G4_RNG_CR &= ~(1u << 2);                     /* restart the generator */
            G4_RNG_CR |= 1u << 2;
            return EK3_EIO;
        }
        if (sr & 1u) {                                   /* DRDY */
            *out = G4_RNG_DR;
            return EK3_OK;
        }
    }
    return EK3_EIO;
}

/* ---- GPIO: PC0..PC5 inputs (PC3..PC5: the trip source), PC6..PC8 outputs - */

static uint32_t g4hal_gpio_read(void *ctx)
{
    (void)ctx;
    uint32_t idr = G4_GPIO_IDR(2); /* outputs read back as their pins' levels */
    return (idr & 0x3Fu) | (((idr >> 6) & 7u) << 8);
}

static void g4hal_gpio_write(void *ctx, uint32_t mask, uint32_t value)
{
    (void)ctx;
    uint32_t set = 0, reset = 0;
    for (unsigned b = 0; b < 3; b++) {
        uint32_t bit = HAL_OUT_RELAY << b;
        if (mask & bit)
            *((value & bit) ? &set : &reset) |= 1u << (6 + b);
    }
    G4_GPIO_BSRR(2) = set | (reset << 16);
}

/* ---- watchdog: IWDG, LSI 32 kHz / 32, reload 100 = 100 ms --------------- */

static void g4hal_kick(void *ctx)
{
    (void)ctx;
    G4_IWDG_KR = 0xAAAAu;
}

/* ---- MPU: flash read-only, null guard, the pool closed but for one ------- */

static void g4_mpu_region(unsigned n, uintptr_t base, size_t size, unsigned ap, int xn)
{
    G4_MPU_RNR = n;
    G4_MPU_RBAR = mpu_rbar(base, n);
    G4_MPU_RASR = mpu_rasr(size, ap, xn);
}

static int g4hal_mpu_setup(void *ctx, const hal_region *r, unsigned n)
{
    g4hal *h = ctx;
    if (n > G4HAL_MAX_REGIONS)
        return EK3_ERANGE;
    for (unsigned i = 0; i < n; i++)
        if (!mpu_rasr(r[i].size, MPU_AP_RW, 1) || r[i].base % r[i].size)
            return EK3_ERANGE;
    memcpy(h->regions, r, n * sizeof *r);
    h->nregions = n;
    h->open_index = -1;
    G4_MPU_CTRL = 0;
    g4_mpu_region(G4_MPU_FLASH, 0x08000000u, 512u * 1024u, MPU_AP_PRIV_RO, 0);
    g4_mpu_region(G4_MPU_CFG, G4_CFG_BASE, G4_CFG_SIZE, MPU_AP_PRIV_RW, 1);
    g4_mpu_region(G4_MPU_NULL, 0, 1024u, MPU_AP_NONE, 1);
    G4_SCB_SHCSR |= G4_SHCSR_MEMFAULTENA;
    G4_MPU_CTRL = G4_MPU_CTRL_ENABLE | G4_MPU_CTRL_PRIVDEFENA;
    __asm volatile("dsb\n isb" ::: "memory");
    return EK3_OK;
}

static void g4hal_mpu_open(void *ctx, int index)
{
    g4hal *h = ctx;
    if (index < 0 || (unsigned)index >= h->nregions) {
        G4_MPU_RNR = G4_MPU_POOL;
        G4_MPU_RASR = 0;
        G4_MPU_RNR = G4_MPU_OPEN;
        G4_MPU_RASR = 0;
    } else {
        g4_mpu_region(G4_MPU_POOL, h->pool_base, h->pool_size, MPU_AP_NONE, 1);
        g4_mpu_region(G4_MPU_OPEN, h->regions[index].base, h->regions[index].size, MPU_AP_RW, 1);
    }
    G4_MPU_CTRL = G4_MPU_CTRL_ENABLE | G4_MPU_CTRL_PRIVDEFENA; /* the fault handler may have turned it off */
    __asm volatile("dsb\n isb" ::: "memory");
    h->open_index = index;
}

static int g4hal_run_guarded(void *ctx, int (*fn)(void *), void *arg, int *rc)
{
    g4hal *h = ctx;
    jmp_buf jb;
    jmp_buf *volatile prev = h->trap;
    if (setjmp(jb) == 0) {
        h->trap = &jb;
        *rc = fn(arg);
        h->trap = prev;
        return EK3_OK;
    }
    h->trap = prev; /* g4_memmanage returned here */
    return EK3_EFAULT;
}

/* ---- the table and start-up ---------------------------------------------- */

static const hal_ops g4hal_ops = {
    .clock_ns = g4hal_clock,
    .adc_read = g4hal_adc_read,
    .pwm_set = g4hal_pwm_set,
    .can_send = g4hal_can_send,
    .can_recv = g4hal_can_recv,
    .flash_read = g4hal_flash_read,
    .flash_write = g4hal_flash_write,
    .flash_erase = g4hal_flash_erase,
    .flash_size = BRD_FLASH_SIZE,
    .crypto = {saes_cmac, NULL},
    .trng = g4hal_trng,
    .gpio_read = g4hal_gpio_read,
    .gpio_write = g4hal_gpio_write,
    .watchdog_kick = g4hal_kick,
    .mpu_setup = g4hal_mpu_setup,
    .mpu_open = g4hal_mpu_open,
    .run_guarded = g4hal_run_guarded,
    .safe_shutdown = g4hal_safe_shutdown,
};

static void g4_clock_init(void)
{
    G4_RCC_APB1ENR1 |= 1u << 28;                         /* PWREN */
    G4_PWR_CR5 &= ~1u;                                   /* R1MODE = 0: boost, for 170 MHz */
    G4_FLASH_ACR = (G4_FLASH_ACR & ~0xFu) | 4u | (1u << 8) | (1u << 9); /* 4 wait states, prefetch, I-cache */
    G4_RCC_PLLCFGR = 2u | (3u << 4) | (85u << 8) | (1u << 24); /* HSI16 / 4 * 85 / 2 = 170 MHz, PLLREN */
    G4_RCC_CR |= 1u << 24;                               /* PLLON */
    while (!(G4_RCC_CR & (1u << 25)))
        ;
    G4_RCC_CFGR = (G4_RCC_CFGR & ~0xF3u) | (8u << 4) | 3u; /* AHB / 2 for the switch, SW = PLL */
    while (((G4_RCC_CFGR >> 2) & 3u) != 3u)
        ;
    G4_DEMCR |= 1u << 24;                                /* TRCENA */
    G4_DWT_CYCCNT = 0;
    G4_DWT_CTRL |= 1u;
    g4_delay_cycles(85u);                                /* 1 us at HCLK / 2 */
    G4_RCC_CFGR &= ~0xF0u;                               /* AHB / 1 */
    G4_RCC_CRRCR |= 1u;                                  /* HSI48 for the RNG */
    while (!(G4_RCC_CRRCR & 2u))
        ;
}

static void g4_gpio_init(void)
{
    G4_RCC_AHB2ENR |= 7u | (1u << 26);                   /* GPIOA, B, C; RNG */
    /* PA8..PA11: HRTIM1 CHA1 CHA2 CHB1 CHB2, AF13. */
    G4_GPIO_MODER(0) = (G4_GPIO_MODER(0) & ~(0xFFu << 16)) | (0xAAu << 16);
    G4_GPIO_AFRH(0) = (G4_GPIO_AFRH(0) & ~0xFFFFu) | 0xDDDDu;
    /* PB8, PB9: FDCAN1 RX, TX, AF9. */
    G4_GPIO_MODER(1) = (G4_GPIO_MODER(1) & ~(0xFu << 16)) | (0xAu << 16);
    G4_GPIO_AFRH(1) = (G4_GPIO_AFRH(1) & ~0xFFu) | 0x99u;
    /* PC0..PC2 inputs, PC6..PC8 outputs (relay open, LED off). */
    G4_GPIO_BSRR(2) = 7u << (6 + 16);
    G4_GPIO_MODER(2) = (G4_GPIO_MODER(2) & ~(0x3Fu | (0x3Fu << 12))) | (0x15u << 12);
    G4_RNG_CR |= 1u << 2;                                /* RNGEN */
}

int g4hal_reset_by_watchdog(void)
{
    uint32_t csr = G4_RCC_CSR;
    G4_RCC_CSR = csr | (1u << 23); /* RMVF; the flags themselves are read-only */
    return (csr & (3u << 29)) != 0; /* IWDGRSTF (29), WWDGRSTF (30) */
}

void g4hal_init(g4hal *h, uintptr_t pool_base, size_t pool_size)
{
    memset(h, 0, sizeof *h);
    h->pool_base = pool_base;
    h->pool_size = pool_size;
    h->open_index = -1;
    __jz_ctx_slot[0] = h;
    G4_SCB_VTOR = 0x08000000u;
    g4_clock_init();
    g4_gpio_init();
    g4_adc_init();
    g4_hrtim_init();
    g4_fdcan_init();
}

hal g4hal_hal(g4hal *h)
{
    return (hal){&g4hal_ops, h};
}

void g4hal_start(g4hal *h, void (*tick)(void *ctx), void *tick_ctx)
{
    h->tick = tick;
    h->tick_ctx = tick_ctx;
    G4_IWDG_KR = 0xCCCCu;                                /* start */
    G4_IWDG_KR = 0x5555u;                                /* unlock PR, RLR */
    G4_IWDG_PR = 3u;                                     /* LSI / 32 = 1 kHz */
    G4_IWDG_RLR = 100u;                                  /* 100 ms */
    G4_IWDG_KR = 0xAAAAu;
    G4_RCC_APB1ENR1 |= 1u << 4;                          /* TIM6EN */
    G4_TIM6_PSC = 0;
    G4_TIM6_ARR = G4_SYSCLK_HZ / 10000u - 1u;            /* 10 kHz */
    G4_TIM6_DIER = 1u;                                   /* UIE */
    G4_NVIC_IPR(G4_IRQ_TIM6_DAC) = 0x00u;                /* the highest priority */
    G4_NVIC_ISER(G4_IRQ_TIM6_DAC / 32u) = 1u << (G4_IRQ_TIM6_DAC % 32u);
    G4_TIM6_CR1 = 1u;                                    /* CEN */
    (*(volatile uint8_t *)(uintptr_t)0xE000ED23u) = 0x80u; /* SysTick below TIM6 */
    G4_SYST_RVR = G4_SYSCLK_HZ / 1000u - 1u;
    G4_SYST_CVR = 0;
    G4_SYST_CSR = 7u;                                    /* processor clock, interrupt, enable */
}

void g4hal_tim6_irq(void)
{
    g4hal *h = __jz_ctx_slot[0];
    G4_TIM6_SR = 0;
    if (h && h->tick)
        h->tick(h->tick_ctx);
}

void g4hal_systick_irq(void)
{
    /* Nothing to do: the interrupt wakes the kernel loop from WFI so its
     * timers and the Reincarnation Server run at least every 1 ms. */
}
