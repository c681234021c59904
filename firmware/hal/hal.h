/*
 * hal.h - Layer 0 of the module firmware: the hardware as a struct of
 * function pointers and a context pointer (prefix hal_).
 *
 * The same firmware runs on the STM32G474 (firmware/hal/stm32g474/, the
 * registers) and 84 times inside the rig (hil_bridge/hosthal.c, virtual
 * devices fed by the plant). Firmware reaches hardware only through a
 * `hal` value; it never names a register or a host API.
 *
 * Every operation takes the context first. Operations that can fail
 * return 0 or a negative ek3_err code, as documented per member.
 */
#ifndef HAL_H
#define HAL_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "can_frame.h"
#include "ek3_err.h"
#include "msg.h"

/* PWM command of the LLC bridge (HRTIM on the target). */
typedef struct hal_pwm {
    uint32_t fsw_hz;          /* switching frequency */
    uint16_t deadtime_ns;
    uint16_t burst_permille;  /* 1000 = continuous switching */
    uint8_t enable;           /* gate-enable request (hardware may still veto) */
    uint8_t half_bridge;      /* half-bridge mode for the low end of the range */
    uint16_t fan_permille;    /* fan PWM duty */
} hal_pwm;

/* Discrete lines (GPIO). Inputs the firmware reads, outputs it drives. */
enum hal_line {
    HAL_IN_HW_TRIP = 1u << 0,    /* Level-0 protection has tripped (read-only) */
    HAL_IN_FAN_OK = 1u << 1,
    HAL_IN_SLOT_PRESENT = 1u << 2,
    HAL_IN_TRIP_SRC = 7u << 3,   /* with HAL_IN_HW_TRIP: the comparator that tripped first, a hal_trip_src
                                  * (the protection block's first_code, ek3_prot.v, on PC3..PC5) */
    HAL_OUT_RELAY = 1u << 8,     /* output disconnect closed */
    HAL_OUT_FAULT_LED = 1u << 9,
    HAL_OUT_FAULT_CLEAR = 1u << 10 /* request to clear the hardware latch */
};

#define HAL_IN_TRIP_SRC_SHIFT 3u

/* The Level-0 protection's comparators, as its first_code names the one
 * that tripped first (ek3_prot.v; docs/protection-rtl.md): read from
 * (lines & HAL_IN_TRIP_SRC) >> HAL_IN_TRIP_SRC_SHIFT while HAL_IN_HW_TRIP
 * is set. NONE: not told (a board without the lines). */
typedef enum hal_trip_src {
    HAL_TRIP_NONE, HAL_TRIP_OVP, HAL_TRIP_OCP, HAL_TRIP_OTP, HAL_TRIP_GFI, HAL_TRIP_SRC_COUNT_
} hal_trip_src;

/* One memory region of the MPU, as the kernel plans it (mpu.h). */
typedef struct hal_region {
    uintptr_t base;
    size_t size;
} hal_region;

typedef struct hal_ops {
    /* Clock: monotonic time in ns since power-on. Never fails. */
    int64_t (*clock_ns)(void *ctx);

    /* ADC: the latest conversion of every channel (msg_adc_ch order,
     * 12-bit codes) into codes[MSG_ADC_COUNT]. 0, or EK3_EAGAIN when no
     * conversion has completed since power-on. */
    int (*adc_read)(void *ctx, uint16_t codes[MSG_ADC_COUNT]);

    /* PWM: apply a command at the next switching period. 0, or EK3_ERANGE
     * for a frequency or dead time the timer cannot produce (nothing
     * changes). */
    int (*pwm_set)(void *ctx, const hal_pwm *cmd);

    /* CAN-FD: queue a frame for transmission (EK3_EFULL when the TX FIFO is
     * full), and take the oldest received frame (EK3_EAGAIN when none). */
    int (*can_send)(void *ctx, const cfd_frame *f);
    int (*can_recv)(void *ctx, cfd_frame *f);

    /* Flash: read/write/erase the whole flash (board.h's map: the image
     * slots, the boot state, the configuration and log area at
     * BRD_CFG_OFF). Offsets are from its start; EK3_ERANGE outside it, EK3_EIO on a program
     * or erase failure or a read the ECC cannot correct. As on the
     * STM32G474 (RM0440 3.3.7): writes are whole 64-bit double words
     * (offset and size multiples of 8, EK3_EINVAL otherwise), each into
     * a double word erased since it was last programmed (all zeros
     * excepted: they may overwrite anything); erases are whole 2 KiB
     * pages (EK3_EINVAL otherwise). */
    int (*flash_read)(void *ctx, uint32_t off, void *buf, size_t n);
    int (*flash_write)(void *ctx, uint32_t off, const void *buf, size_t n);
    int (*flash_erase)(void *ctx, uint32_t off, size_t n);
    size_t flash_size;

    /* Crypto: AES-128-CMAC (the auth_crypto of auth.h) and true random
     * numbers (0 or EK3_EIO when the generator reports a seed error). */
    auth_crypto crypto;
    int (*trng)(void *ctx, uint32_t *out);

    /* GPIO: read the inputs (and the outputs' pin levels at their HAL_OUT_*
     * bits), drive outputs (only HAL_OUT_* bits change). */
    uint32_t (*gpio_read)(void *ctx);
    void (*gpio_write)(void *ctx, uint32_t mask, uint32_t value);

    /* Watchdog: kick it. If it is not kicked for 100 ms the module resets. */
    void (*watchdog_kick)(void *ctx);

    /* MPU: program the regions of the services (once, at start), and
     * open only region `index` while that service runs (index -1: the
     * kernel runs, every region open). */
    int (*mpu_setup)(void *ctx, const hal_region *regions, unsigned n);
    void (*mpu_open)(void *ctx, int index);

    /* Run fn(arg) so that a memory fault inside it comes back as a
     * return value: 0 when fn returned (its result in *rc), EK3_EFAULT
     * when it was stopped by a fault. */
    int (*run_guarded)(void *ctx, int (*fn)(void *arg), void *arg, int *rc);

    /* Safe shutdown: gates off, output relay open, at once. */
    void (*safe_shutdown)(void *ctx);

    /* A software reset of the MCU (NVIC_SystemReset), asked for by the
     * update receiver (UPDATE_MGR: into a staged image, or back). It takes
     * effect after the current pass of the kernel loop on the host, at
     * once on the target. NULL: the platform cannot reset (EK3_EPERM). */
    void (*reset)(void *ctx);
} hal_ops;

typedef struct hal {
    const hal_ops *ops;
    void *ctx;
} hal;

/*
 * The calls, one wrapper per operation (the contract of each is its
 * member's above): firmware writes hal_adc_read(hw, codes), not
 * hw.ops->adc_read(hw.ctx, codes).
 */
static inline int64_t hal_clock_ns(hal hw)
{
    return hw.ops->clock_ns(hw.ctx);
}
static inline int hal_adc_read(hal hw, uint16_t codes[MSG_ADC_COUNT])
{
    return hw.ops->adc_read(hw.ctx, codes);
}
static inline int hal_pwm_set(hal hw, const hal_pwm *cmd)
{
    return hw.ops->pwm_set(hw.ctx, cmd);
}
static inline int hal_can_send(hal hw, const cfd_frame *f)
{
    return hw.ops->can_send(hw.ctx, f);
}
static inline int hal_can_recv(hal hw, cfd_frame *f)
{
    return hw.ops->can_recv(hw.ctx, f);
}
static inline int hal_flash_read(hal hw, uint32_t off, void *buf, size_t n)
{
    return hw.ops->flash_read(hw.ctx, off, buf, n);
}
static inline int hal_flash_write(hal hw, uint32_t off, const void *buf, size_t n)
{
    return hw.ops->flash_write(hw.ctx, off, buf, n);
}
static inline int hal_flash_erase(hal hw, uint32_t off, size_t n)
{
    return hw.ops->flash_erase(hw.ctx, off, n);
}
static inline int hal_trng(hal hw, uint32_t *out)
{
    return hw.ops->trng(hw.ctx, out);
}
static inline uint32_t hal_gpio_read(hal hw)
{
    return hw.ops->gpio_read(hw.ctx);
}
static inline void hal_gpio_write(hal hw, uint32_t mask, uint32_t value)
{
    hw.ops->gpio_write(hw.ctx, mask, value);
}
static inline void hal_safe_shutdown(hal hw)
{
    hw.ops->safe_shutdown(hw.ctx);
}
static inline int hal_reset(hal hw)
{
    if (!hw.ops->reset)
        return EK3_EPERM;
    hw.ops->reset(hw.ctx);
    return 0;
}

#endif /* HAL_H */
