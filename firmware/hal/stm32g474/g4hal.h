/*
 * g4hal.h - the HAL of the module on its STM32G474 board (prefix g4hal_).
 *
 * Board assumptions (the EK3 power board's pin map):
 *   ADC1 channels: the board sheet's map (board.h, BRD_ADC_INPUTS)
 *   HRTIM1 timer A (PA8/PA9) and B (PA10/PA11): the two bridge legs
 *   FDCAN1 on PB8 (RX) / PB9 (TX), 1 Mbit/s nominal, 5 Mbit/s data
 *   inputs PC0 hardware trip, PC1 fan OK, PC2 slot present;
 *   outputs PC6 relay, PC7 fault LED, PC8 fault-clear request
 * The configuration/log area is the last 16 KiB of flash (bank 2).
 */
#ifndef G4HAL_H
#define G4HAL_H

#include <setjmp.h>
#include <stdint.h>

#include "hal.h"

#define G4HAL_MAX_REGIONS 16u

typedef struct g4hal {
    uint32_t cyc_last;   /* DWT cycle counter at the last clock read */
    uint64_t cyc_total;  /* cycles since start, 64-bit */
    jmp_buf *trap;       /* the dispatch a memory fault returns to */
    uint32_t faults;     /* memory faults trapped */
    uint32_t can_errors; /* frames refused by the controller */
    volatile uint32_t flash_eccd; /* ECC double errors in flash reads, counted by the NMI (startup.c) */
    hal_region regions[G4HAL_MAX_REGIONS];
    unsigned nregions;
    int open_index;
    uintptr_t pool_base;
    size_t pool_size;
    uint16_t adc[MSG_ADC_COUNT];
    uint8_t adc_valid;
    void (*tick)(void *ctx); /* the 10 kHz control interrupt's work */
    void *tick_ctx;
} g4hal;

/* Clocks (170 MHz from HSI16 via the PLL), cycle counter, GPIO, ADC,
 * HRTIM, FDCAN, RNG. The pool is the services' region pool; it is
 * covered by one no-access MPU region during dispatches. */
void g4hal_init(g4hal *h, uintptr_t pool_base, size_t pool_size);

/* Was the last reset the watchdog's (RCC_CSR IWDGRSTF or WWDGRSTF,
 * RM0440 7.4.26)? Clears the reset flags (RMVF) for the next one. */
int g4hal_reset_by_watchdog(void);

/* The hal the firmware gets. */
hal g4hal_hal(g4hal *h);

/* Start the 100 ms independent watchdog, the 10 kHz control timer
 * (TIM6, which calls tick(tick_ctx)) and the 1 kHz SysTick that wakes
 * the kernel loop. */
void g4hal_start(g4hal *h, void (*tick)(void *ctx), void *tick_ctx);

/* The interrupt handlers (vector table in startup.c). */
void g4hal_tim6_irq(void);
void g4hal_systick_irq(void);

#endif /* G4HAL_H */
