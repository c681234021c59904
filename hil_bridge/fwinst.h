/*
 * fwinst.h - one module's firmware on the host (prefix fwi_): the host
 * HAL, JEZGRO with the module's services, and LLC_CONTROL, driven one
 * control period at a time by its HIL frames (hilch.h). The rig runs it in process
 * (rig.c); `ek3 fw` runs it as a process of its own on a bus.
 *
 * The same slot and seed give the same firmware, in process or not, so
 * a rack with external modules runs exactly as one without.
 */
#ifndef FWINST_H
#define FWINST_H

#include <stdint.h>

#include "boot.h"
#include "can_frame.h"
#include "fw_update.h"
#include "hosthal.h"
#include "jz.h"
#include "drivers.h"
#include "llc_control.h"
#include "msg.h"

#define FWI_POOL_BYTES 16384u /* the services' regions (SWARM_COORD's is the largest) */
#define FWI_RACK_DEFAULT 84u  /* modules of a rack when nobody says (the seed's rack) */
#define FWI_FACTORY_VERSION 0x010000u /* the factory image: 1.0.0, */
#define FWI_FACTORY_SECURITY 1u       /* security counter 1, */
#define FWI_FACTORY_PAYLOAD 16384u    /* a deterministic 16 KiB payload, signed with the development key */

typedef struct fwi {
    hhal h;
    jz_kernel k;
    drv_set drv;         /* LLC_CONTROL: drv.ctl */
    uint8_t *pool;
    unsigned slot;       /* 1..510: its node on the rack bus */
    unsigned rack;       /* modules of its rack: the swarm's voters 1..rack */
    uint32_t resets, bad_frames; /* resets: watchdog resets and reboots */
    llcc_cfg cc;         /* LLC_CONTROL's configuration and */
    float boot_v;        /* the set point it boots with (0: off), for a reboot */
    /* Injected control-interrupt overrun (fwi_fault_overrun). */
    uint32_t overrun_left;   /* interrupt runs still too long */
    int64_t isr_ns, isr_acc; /* each run's length; time into the current run */
    uint32_t isr_missed;     /* control periods without an interrupt run, all told */
    /* The bootloader at the last power-on or reboot (boot.h; the station,
     * the report and the scope read these): */
    boot_choice boot;        /* boot.slot: the slot running (BOOT_SLOT_A/B); boot.version: its image's
                                version (major << 16 | minor << 8 | patch); boot.trial: 1 while a new
                                image runs on trial (not yet confirmed); boot.reverted: this boot abandoned
                                a trial; boot.security: the module's security floor */
    int boot_rc;             /* boot_select's code: 0, or EK3_ENOENT (no valid image: the module is down) */
    uint8_t down;            /* no image booted: the MCU sits in the bootloader, no control, no CAN */
    fwu_handoff ho;          /* the boot's decision and the trusted key, for UPDATE_MGR (jz_config.boot_handoff) */
    uint8_t bad_trial;       /* injected (fault bad-image): the next trial image's output never starts (2: it runs) */
    int64_t hold_ns;         /* held in reset until the host clock reads this (fwi_hold); 0: running */
    uint8_t have_key2;       /* a second trusted key is provisioned (fwi_init's key2) */
    uint8_t key2[FWIMG_PUBKEY_SIZE];
} fwi;

/* Whether the MCU runs its kernel: 0 while it is held in reset
 * (hold_ns) or down in the bootloader without an image (down). Its
 * services' state is then the last its kernel left: no role, no status. */
static inline int fwi_running(const fwi *f)
{
    return f->hold_ns == 0 && !f->down;
}

/* Power on module `slot` of a rack of `rack` modules seeded `seed`,
 * LLC_CONTROL set to v_set (0: off). Its flash is provisioned as the
 * factory would: the factory image in slot A (fwi_factory_image), slot,
 * its key and the group key (both derived from the rack key), the
 * rack's size; then the bootloader runs (boot_select, f->boot) before
 * the kernel. rack 0: a rack without the swarm (its kernel runs every
 * service but SWARM_COORD: droop alone). key2 (FWIMG_PUBKEY_SIZE bytes,
 * a SEC1 P-256 point; NULL: none): a second trusted key in the module's
 * key ring (a release key), beside the development key that signed the
 * factory image: the bootloader and UPDATE_MGR take images signed with
 * either (fwimg_policy.pubkey2). 0, or EK3_ENOSPC, or boot_select's or
 * jz_init's error. */
int fwi_init(fwi *f, unsigned slot, unsigned rack, uint64_t seed, const llcc_cfg *cc, float v_set,
             const uint8_t *key2);
void fwi_free(fwi *f);

/* A rack's MCUs do not leave reset together when the rack is powered:
 * each one's auxiliary supply rises and its HSE crystal starts in its own
 * time (STM32G474 datasheet, DS12288, tSU(HSE): 2 ms typical for an
 * 8 MHz crystal; the flyback's soft start several more). The rig holds
 * each module's MCU in reset at power-on for a time drawn from the seed
 * and the slot, uniform in whole control periods over
 * [0, FWI_BOOT_SPREAD_NS): so their kernels' rate timers (1, 10, 100 ms)
 * do not all fall in the same control period, as they would not in a
 * real rack. The same in process and in `ek3 fw` (fwi_serve). */
#define FWI_BOOT_SPREAD_NS 10000000LL /* 10 ms */

/* The power-on reset's length of module `slot` in a rack seeded `seed`:
 * a multiple of BRD_PERIOD_NS in [0, FWI_BOOT_SPREAD_NS). */
int64_t fwi_boot_delay_ns(uint64_t seed, unsigned slot);

/* Hold a module just initialised (fwi_init) in reset until its host
 * clock reads until_ns: its peripherals at their reset state (PWM off,
 * relay open, CAN FIFOs empty, as hhal_mcu_reset), no interrupt, no
 * kernel, deaf and silent on the bus; then, in the period whose clock
 * reaches until_ns, it boots as at power-on: the drivers fresh, the
 * kernel started (jz_init: its services and rate timers from that
 * instant), the watchdog restarted, the boot set point applied. Not a
 * reset: `resets` does not count it. until_ns <= 0 does nothing. */
void fwi_hold(fwi *f, int64_t until_ns);

/* One control period q: take the HIL_ADC frame (NULL when none came),
 * run the control interrupt and the kernel loop, and write the HIL_PWM
 * frame for q. 0, or EK3_EPARSE for an ADC frame that does not decode
 * (counted; the period still runs on the last samples). */
int fwi_period(fwi *f, const cfd_frame *adc, uint32_t q, cfd_frame *pwm);

/* fwi_period without frames (hilch.h's frameless pair): take the ADC
 * payload (NULL when none came), run the period, and write the PWM
 * payload for q. 0, or hch_pwm_read's EK3_ERANGE (*pwm then must not be
 * applied: the frame path would have sent nothing the plant takes). */
int fwi_period_direct(fwi *f, const msg_hil_adc *adc, uint32_t q, msg_hil_pwm *pwm);

/* Injected: the module's MCU resets and boots again (a software reset,
 * as NVIC_SystemReset after a hard fault or an update): its peripherals
 * to their reset state (PWM off, CAN FIFOs empty: hhal_mcu_reset), the
 * bootloader (boot_select: a pending trial runs, an unconfirmed one is
 * reverted; f->boot), the drivers fresh (output off), the kernel booted
 * with its services fresh (jz_reboot: the audit trail survives in SRAM),
 * the watchdog restarted; then it starts as at power-on (boot_v).
 * resets + 1. Returns jz_reboot's code, or boot_select's (the module is
 * then down: f->down). The firmware's own reset (hal_reset: UPDATE_MGR
 * into a staged image, or back) is this, after the pass that asked. */
int fwi_fault_reboot(fwi *f);

/* A module put into its slot (fault insert, a pull undone): its board
 * powered, booting as fwi_fault_reboot boots it, but a power-up, not an
 * MCU reset: `resets` is 0 after it (the module in the slot has not
 * reset; a report's resets column is the module's own). Returns
 * fwi_fault_reboot's codes. */
int fwi_power_cycle(fwi *f);

/* The factory image every module leaves the factory with (slot A):
 * version FWI_FACTORY_VERSION, security FWI_FACTORY_SECURITY, a
 * deterministic FWI_FACTORY_PAYLOAD-byte payload, signed with the
 * development key (fwsign.h). Built once per process (the signature is
 * deterministic: RFC 6979); *n gets its size. NULL when it could not be
 * built. */
const uint8_t *fwi_factory_image(uint32_t *n);

/* The module's bootloader configuration: its flash, and a verify that is
 * fwimg_verify of the slot with the board's hardware id, the slot's size
 * and the development public key (fwsign_dev_pubkey). For the update
 * receiver and tests. */
boot_cfg fwi_boot_cfg(fwi *f);

/* Injected: the next `runs` runs of the control interrupt take isr_ns
 * each (more than the 100 us period, the seed's WCET budget, 5.1). The
 * interrupt then runs back to back (the timer's update pends once, and
 * tail-chains): it completes once per isr_ns, so it misses updates
 * (isr_missed), and the kernel loop in thread mode gets no time: no
 * services, no CAN, no watchdog kick (a reset once it lasts 100 ms).
 * runs 0 ends it. EK3_ERANGE for isr_ns not above the period or over
 * 100 ms. */
int fwi_fault_overrun(fwi *f, uint32_t runs, int64_t isr_ns);

/* The services every module of the rig runs (EK3_SERVICES, services.h),
 * by name: the id (1..) of a name as the table spells it ("THERMAL_MGR";
 * case ignored), or 0 for none; the name of an id, or NULL. */
unsigned fwi_service_id(const char *name);
const char *fwi_service_name(unsigned id);

/* For an unknown service name: "did you mean X? " (the closest name by
 * edit distance, when close) and "the services are A, B, ..." into buf
 * (cap bytes, NUL-terminated). */
void fwi_service_hint(const char *name, char *buf, size_t cap);

/* The rack key of a rig seeded `seed` (a development key: real racks
 * are provisioned with their own). */
void fwi_rack_key(uint64_t seed, uint8_t key[16]);

/* Serve module `slot` of a rack of `rack` on a bus as its own process would (`ek3 fw`): say
 * HELLO (every 100 ms until the plant's first SYNC), then one period per
 * SYNC: HIL_ADC in, HIL_PWM and its CAN frames out, DONE; rack-bus frames
 * to the firmware's CAN FIFO. Returns 0 on BYE, EK3_ETIMEDOUT when the
 * plant was silent for silence_s, EK3_EIO or the open error of the bus.
 * stop_after >= 0: vanish silently after that many periods (returns 0).
 * *periods gets the periods run. */
int fwi_serve(unsigned slot, unsigned rack, const char *bus, uint64_t seed, float v_set, double silence_s, long stop_after,
              uint32_t *periods);

#endif /* FWINST_H */
