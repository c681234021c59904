/*
 * hosthal.h - the HAL of one module inside the rig (prefix hhal_).
 *
 * Virtual devices behind the firmware's hal: a clock the rig advances,
 * ADC codes the plant writes, the PWM command the plant reads, CAN-FD
 * FIFOs the bridge fills and drains, the emulated STM32G474 flash of
 * flashemu.h (double words with ECC, page erase, seeded power cuts, wear
 * and read disturb: configure h->fl.cfg), AES-CMAC from
 * mbedTLS, a seeded random generator (the rig must be reproducible), GPIO
 * lines, and a 100 ms watchdog the rig checks.
 *
 * Strict mode emulates the MPU with mprotect: while one service runs,
 * every other service's region is PROT_NONE, and a stray access is
 * trapped (SIGSEGV, siglongjmp) and returned to the kernel as that
 * service's memory fault. Regions must then be page-aligned (plan them
 * with granule hhal_page_size()).
 */
#ifndef HOSTHAL_H
#define HOSTHAL_H

#include <stdint.h>

#include "board.h"
#include "ek3_err.h"
#include "flashemu.h"
#include "hal.h"

#define HHAL_CAN_DEPTH 64u
#define HHAL_FLASH_SIZE BRD_FLASH_SIZE /* the whole G474 flash: slots, boot state, configuration and log (board.h) */
#define HHAL_FLASH_PAGE FLE_PAGE /* STM32G474 page */
#define HHAL_WATCHDOG_NS 100000000LL
#define HHAL_MAX_REGIONS 32u

typedef struct hhal {
    int64_t now_ns;
    uint16_t adc[MSG_ADC_COUNT];
    uint8_t adc_valid;
    hal_pwm pwm;
    uint32_t pwm_writes;
    cfd_frame tx[HHAL_CAN_DEPTH], rx[HHAL_CAN_DEPTH];
    uint16_t tx_head, tx_count, rx_head, rx_count;
    uint32_t tx_dropped;
    uint8_t *tx_flag; /* NULL, or set to 1 with each frame queued (the rig's array: rig_can reads one
                         contiguous byte a module, not this struct's line); its reader clears it */
    fle fl; /* the flash (HHAL_FLASH_SIZE bytes, two banks of BRD_FLASH_BANK) */
    uint32_t gpio_in, gpio_out;
    int64_t kick_ns;
    uint64_t rng;
    uint32_t shutdowns;
    uint8_t reset_req;  /* the firmware asked for a reset (hal_reset): the rig does it after the pass */
    /* strict mode */
    uint8_t strict;
    int open_index; /* -1: all open */
    unsigned nregions;
    hal_region regions[HHAL_MAX_REGIONS];
    uint32_t faults;
} hhal;

/* Power on: clock 0, flash erased, ADC invalid, watchdog kicked now. */
void hhal_init(hhal *h, uint64_t seed, int strict);

/* The hal the firmware gets (after hhal_init: strict mode's has
 * run_guarded, the other none, so that the kernel calls a service
 * directly). */
hal hhal_hal(hhal *h);

/* Advance the virtual clock. */
static inline void hhal_advance(hhal *h, int64_t dt_ns)
{
    h->now_ns += dt_ns;
}

/* Has the watchdog gone 100 ms without a kick? */
static inline int hhal_watchdog_expired(const hhal *h)
{
    return h->now_ns - h->kick_ns > HHAL_WATCHDOG_NS;
}

/* An MCU reset, as the peripherals see it: PWM off, the CAN FIFOs
 * empty, the outputs low; the clock, the flash, the ADC and the inputs
 * (the outside world) stay. */
void hhal_mcu_reset(hhal *h);

/* After the module reset: the watchdog counts from now. */
void hhal_watchdog_restart(hhal *h);

/* The bridge's side of the CAN FIFOs: deliver a frame to the firmware
 * (EK3_EFULL when its RX FIFO is full) and take one it sent (EK3_EAGAIN). */
int hhal_can_deliver(hhal *h, const cfd_frame *f);
static inline int hhal_can_take(hhal *h, cfd_frame *f) /* inline: the rig asks every module every quantum */
{
    if (!h->tx_count)
        return EK3_EAGAIN;
    *f = h->tx[h->tx_head];
    h->tx_head = (uint16_t)((h->tx_head + 1) % HHAL_CAN_DEPTH);
    h->tx_count--;
    return EK3_OK;
}

/* The page size regions must be aligned to in strict mode. */
long hhal_page_size(void);

#endif /* HOSTHAL_H */
