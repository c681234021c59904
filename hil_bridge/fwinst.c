/* fwinst.c - one module's firmware on the host. */
#include "fwinst.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "board.h"
#include "ek3_rng.h"
#include "services.h"
#include "host_crypto.h"
#include "can_id.h"
#include "cli.h"
#include "ek3_err.h"
#include "hilch.h"
#include "fwsign.h"
#include "msg.h"
#include "transport.h"

/* The services each module's firmware runs today. */
static const jz_service_def fwi_services[] = EK3_SERVICES;

#define FWI_NSVC (sizeof fwi_services / sizeof fwi_services[0])

unsigned fwi_service_id(const char *name)
{
    for (unsigned i = 0; name && i < FWI_NSVC; i++)
        if (!strcasecmp(fwi_services[i].name, name))
            return i + 1;
    return 0;
}

const char *fwi_service_name(unsigned id)
{
    return id >= 1 && id <= FWI_NSVC ? fwi_services[id - 1].name : NULL;
}

void fwi_service_hint(const char *name, char *buf, size_t cap)
{
    if (!buf || !cap)
        return;
    size_t o = 0;
    unsigned bd = ~0u, best = 0;
    for (unsigned i = 0; name && i < FWI_NSVC; i++) {
        unsigned d = cli_edit_distance(name, fwi_services[i].name);
        if (d < bd && d <= strlen(name) / 2 + 1)
            bd = d, best = i + 1;
    }
    buf[0] = '\0';
    if (best)
        o = (size_t)snprintf(buf, cap, "did you mean %s? ", fwi_services[best - 1].name);
    if (o < cap)
        o += (size_t)snprintf(buf + o, cap - o, "the services are ");
    for (unsigned i = 0; i < FWI_NSVC && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", fwi_services[i].name);
}

void fwi_rack_key(uint64_t seed, uint8_t key[16])
{
    uint64_t z = seed ^ 0x454B335241434Bull; /* "EK3RACK" */
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)(ek3_rng_splitmix64(&z) >> 24);
}

/* ---- the factory image and the bootloader --------------------------------- */

#define FWI_FACTORY_CAP ((FWSIGN_SIZE(FWI_FACTORY_PAYLOAD) + 7u) / 8u * 8u)

static struct {
    pthread_once_t once;
    uint8_t img[FWI_FACTORY_CAP]; /* padded with 0xFF to whole double words */
    uint32_t n;                   /* bytes to program (0: could not be built) */
    fwimg_info info;              /* fwimg_verify's verdict on it (ok: it verified) */
    int ok;
} fwi_factory = {PTHREAD_ONCE_INIT, {0}, 0, {{0}, 0, {0}}, 0};

static int fwi_mem_read(void *ctx, uint32_t off, void *buf, size_t n)
{
    memcpy(buf, (const uint8_t *)ctx + off, n);
    return EK3_OK;
}

/* A module's policy (f NULL: the development key alone, for the factory image). */
static void fwi_policy(const fwi *f, fwimg_policy *pol, uint32_t min_security)
{
    fwimg_policy p = {BRD_HW_ID, min_security, BRD_SLOT_SIZE, fwsign_dev_pubkey(),
                      f && f->have_key2 ? f->key2 : NULL};
    *pol = p;
}

static void fwi_factory_build(void)
{
    fwsign_meta m = {BRD_HW_ID, FWI_FACTORY_VERSION, FWI_FACTORY_SECURITY, 0};
    size_t len = 0;
    memset(fwi_factory.img, 0xFF, sizeof fwi_factory.img);
    /* "EK3FM": the same payload in every rig */
    if (fwsign_dev_image(&m, FWI_FACTORY_PAYLOAD, 0x454B33464Dull, fwi_factory.img, sizeof fwi_factory.img, &len) !=
        EK3_OK)
        return;
    fwi_factory.n = (uint32_t)((len + 7u) / 8u * 8u);
    fwimg_policy pol;
    fwimg_why why;
    fwi_policy(NULL, &pol, 0);
    fwi_factory.ok = fwimg_verify(fwi_mem_read, fwi_factory.img, fwi_factory.n, &pol, &fwi_factory.info, &why) == EK3_OK;
}

const uint8_t *fwi_factory_image(uint32_t *n)
{
    pthread_once(&fwi_factory.once, fwi_factory_build);
    *n = fwi_factory.n;
    return fwi_factory.n ? fwi_factory.img : NULL;
}

/* Does the slot hold the factory image's bytes (every read clean)? */
static int fwi_slot_is_factory(const boot_slot_reader *rd)
{
    uint8_t b[2048];
    for (uint32_t o = 0; o < fwi_factory.n; o += sizeof b) {
        uint32_t k = fwi_factory.n - o < sizeof b ? fwi_factory.n - o : (uint32_t)sizeof b;
        if (boot_slot_read((void *)rd, o, b, k) || memcmp(b, fwi_factory.img + o, k))
            return 0;
    }
    return 1;
}

/* fwimg_verify of the slot. Its verdict is a function of the bytes and
 * the policy alone, so a slot holding exactly the factory image's bytes
 * (read through the flash's ECC) gets the verdict fwimg_verify gave that
 * image once per process, when the floor allows it: the rig's 84 modules
 * then do not each run the ECDSA check at every reset (docs/flash.md). */
static int fwi_verify(void *ctx, unsigned slot, uint32_t min_security, fwimg_info *info, fwimg_why *why)
{
    fwi *f = ctx;
    boot_slot_reader rd = boot_slot_reader_of(hhal_hal(&f->h), slot);
    uint32_t n;
    if (fwi_factory_image(&n) && fwi_factory.ok && min_security <= fwi_factory.info.hdr.security &&
        fwi_slot_is_factory(&rd)) {
        *info = fwi_factory.info;
        *why = FWIMG_OK;
        return EK3_OK;
    }
    fwimg_policy pol;
    fwi_policy(f, &pol, min_security);
    return fwimg_verify(boot_slot_read, &rd, BRD_SLOT_SIZE, &pol, info, why);
}

boot_cfg fwi_boot_cfg(fwi *f)
{
    boot_cfg c = {hhal_hal(&f->h), fwi_verify, f};
    return c;
}

/* The bootloader: f->boot, f->boot_rc, f->down; its decision handed to
 * the firmware (UPDATE_MGR reads it at its start). */
static int fwi_boot(fwi *f)
{
    boot_cfg c = fwi_boot_cfg(f);
    f->boot_rc = boot_select(&c, &f->boot);
    f->down = f->boot_rc != EK3_OK;
    /* bad-image breaks the next trial only: once one ran, the next boot that is not it ends the fault */
    if (f->bad_trial && !f->down)
        f->bad_trial = f->boot.trial ? 2 : f->bad_trial == 2 ? 0 : 1;
    f->ho.choice = f->boot;
    f->ho.pubkey = fwsign_dev_pubkey();
    f->ho.pubkey2 = f->have_key2 ? f->key2 : NULL;
    f->k.cfg.boot_handoff = f->down ? NULL : &f->ho;
    return f->boot_rc;
}

/* A trial image injected as bad (bad_trial): its output never starts. */
static int fwi_dead_output(const fwi *f)
{
    return f->bad_trial && f->boot.trial;
}

/* ---- the module ------------------------------------------------------------ */

int fwi_init(fwi *f, unsigned slot, unsigned rack, uint64_t seed, const llcc_cfg *cc, float v_set,
             const uint8_t *key2)
{
    _Static_assert(offsetof(fwi, h) == 0, "the host HAL first: hhal_init sets it");
    memset((uint8_t *)f + sizeof f->h, 0, sizeof *f - sizeof f->h); /* the rest; the 546 KiB flash once, by hhal_init */
    if (key2) { /* the key ring, written at manufacture: before the first boot */
        memcpy(f->key2, key2, FWIMG_PUBKEY_SIZE);
        f->have_key2 = 1;
    }
    f->slot = slot;
    f->rack = rack;
    f->pool = aligned_alloc(64, FWI_POOL_BYTES);
    if (!f->pool)
        return EK3_ENOSPC;
    hhal_init(&f->h, seed * 1000003u + slot, 0);
    /* The factory's programmer: the signed image into slot A. */
    uint32_t img_n = 0;
    const uint8_t *img = fwi_factory_image(&img_n);
    if (!img) {
        fwi_free(f);
        return EK3_ECRYPTO;
    }
    int brc = fle_program(&f->h.fl, BRD_SLOT_A_OFF, img, img_n);
    if (!brc)
        brc = fwi_boot(f);
    if (brc) {
        fwi_free(f);
        return brc;
    }
    uint8_t rack_key[16];
    canh_config c;
    memset(&c, 0, sizeof c);
    c.slot = (uint16_t)slot;
    c.rack_size = (uint16_t)rack;
    auth_crypto cr = hostcrypto_auth();
    fwi_rack_key(seed, rack_key);
    int prc = auth_derive_key(&cr, rack_key, (uint16_t)slot, c.key);
    if (!prc)
        prc = auth_derive_key(&cr, rack_key, CID_NODE_BROADCAST, c.group_key);
    if (!prc)
        prc = canh_provision(hhal_hal(&f->h), &c);
    if (prc) {
        fwi_free(f);
        return prc;
    }
    drv_init(&f->drv, cc);
    f->cc = *cc;
    f->boot_v = v_set;
    /* rack 0: SWARM_COORD, the table's last service, left out (droop alone) */
    _Static_assert(SVC_SWARM == sizeof fwi_services / sizeof fwi_services[0], "SWARM_COORD is the last service");
    jz_config cfg = {fwi_services, sizeof fwi_services / sizeof fwi_services[0] - (rack ? 0u : 1u), drv_control, &f->drv,
                     seed + slot - 1, f->pool, FWI_POOL_BYTES, 64, 0, 0, 0, &f->ho};
    int rc = jz_init(&f->k, &cfg, hhal_hal(&f->h));
    if (rc) {
        fwi_free(f);
        return rc;
    }
    /* The set point the module boots with (its configuration). */
    if (v_set > 0)
        drv_power(&f->drv, DRV_ON, v_set, cc->p_max);
    return EK3_OK;
}

void fwi_free(fwi *f)
{
    free(f->pool);
    f->pool = NULL;
}

/* The period between the HIL exchanges: the control interrupt, the
 * kernel loop (or an injected overrun), the watchdog. */
/* How an MCU comes out of reset (fwi_mcu_reset). */
enum fwi_start { FWI_REBOOT, FWI_WATCHDOG, FWI_POWER_ON };
static int fwi_mcu_reset(fwi *f, enum fwi_start how);

int64_t fwi_boot_delay_ns(uint64_t seed, unsigned slot)
{
    uint64_t st = seed ^ ((uint64_t)slot * EK3_RNG_GAMMA) ^ 0x626F6F74ull; /* "boot": a stream of its own */
    uint64_t periods = (uint64_t)(FWI_BOOT_SPREAD_NS / BRD_PERIOD_NS);
    return (int64_t)(ek3_rng_splitmix64(&st) % periods) * BRD_PERIOD_NS;
}

void fwi_hold(fwi *f, int64_t until_ns)
{
    if (until_ns <= 0)
        return;
    hhal_mcu_reset(&f->h); /* whatever the kernel's start queued goes nowhere */
    f->hold_ns = until_ns;
}

/* Inlined into both exchanges: it runs every period of every module. */
static inline __attribute__((always_inline)) void fwi_run_period(fwi *f)
{
    hhal_advance(&f->h, BRD_PERIOD_NS);
    if (__builtin_expect(f->hold_ns != 0, 0)) {
        if (f->h.now_ns < f->hold_ns) {
            hhal_mcu_reset(&f->h); /* in reset: the bus's frames are not taken */
            return;
        }
        (void)fwi_mcu_reset(f, FWI_POWER_ON); /* the end of fwi_hold */
    }
    if (f->down) {
        /* In the bootloader without an image: PWM off (the reset's), no kernel. */
    } else if (f->overrun_left) {
        /* The interrupt runs back to back; thread mode starves. */
        f->isr_acc += BRD_PERIOD_NS;
        if (f->isr_acc >= f->isr_ns) {
            f->isr_acc -= f->isr_ns;
            jz_isr(&f->k);
            f->overrun_left--;
        } else {
            f->isr_missed++;
        }
    } else {
        jz_isr(&f->k);
        jz_run(&f->k);
    }
    /* The IWDG resets the whole MCU, as a requested reset does: PWM off,
     * the outputs low (the output relay opens), the drivers from reset. */
    if (!f->down && hhal_watchdog_expired(&f->h))
        (void)fwi_mcu_reset(f, FWI_WATCHDOG); /* a failed boot leaves it down (f->down), as it reads */
    if (!f->down && f->h.reset_req) /* the firmware asked (UPDATE_MGR: into a staged image, or back) */
        fwi_fault_reboot(f);
    if (!f->down && fwi_dead_output(f))
        drv_power(&f->drv, DRV_OFF, 0, 0);
}

int fwi_period(fwi *f, const cfd_frame *adc, uint32_t q, cfd_frame *pwm)
{
    int rc = EK3_OK;
    if (adc && hch_adc_take(&f->h, adc) != EK3_OK) {
        f->bad_frames++;
        rc = EK3_EPARSE;
    }
    fwi_run_period(f);
    int e2 = hch_pwm_send(&f->h, f->slot, q, pwm);
    return rc ? rc : e2;
}

int fwi_period_direct(fwi *f, const msg_hil_adc *adc, uint32_t q, msg_hil_pwm *pwm)
{
    if (adc)
        hch_adc_apply(&f->h, adc);
    fwi_run_period(f);
    return hch_pwm_read(&f->h, q, pwm);
}

int fwi_fault_reboot(fwi *f)
{
    return fwi_mcu_reset(f, FWI_REBOOT);
}

int fwi_power_cycle(fwi *f)
{
    int rc = fwi_mcu_reset(f, FWI_REBOOT);
    f->resets = 0;
    return rc;
}

/* An MCU reset (the watchdog's, or asked for), or the end of the
 * power-on reset (fwi_hold): the peripherals and the drivers from reset;
 * after a reset the bootloader and the kernel booted again (jz_reset
 * records the watchdog's in the audit log), counted in `resets`; at
 * power-on the kernel started afresh (fwi_init ran the bootloader), not
 * counted; a module that boots on starts again. 0, or the boot's or the
 * kernel's error. */
static int fwi_mcu_reset(fwi *f, enum fwi_start how)
{
    hhal_mcu_reset(&f->h);
    f->h.reset_req = 0;
    drv_init(&f->drv, &f->cc);
    f->overrun_left = 0; /* the reset ends what the interrupt was doing */
    int rc;
    if (how == FWI_POWER_ON) {
        f->hold_ns = 0;
        jz_config cfg = f->k.cfg;
        rc = jz_init(&f->k, &cfg, hhal_hal(&f->h));
    } else {
        f->resets++;
        rc = fwi_boot(f);
        if (rc) {
            hhal_watchdog_restart(&f->h);
            return rc; /* down: no image to run */
        }
        rc = how == FWI_WATCHDOG ? jz_reset(&f->k) : jz_reboot(&f->k);
    }
    hhal_watchdog_restart(&f->h);
    if (f->boot_v > 0 && !fwi_dead_output(f))
        drv_power(&f->drv, DRV_ON, f->boot_v, f->cc.p_max);
    return rc;
}

int fwi_fault_overrun(fwi *f, uint32_t runs, int64_t isr_ns)
{
    if (runs && (isr_ns <= BRD_PERIOD_NS || isr_ns > 100000000))
        return EK3_ERANGE;
    f->overrun_left = runs;
    f->isr_ns = isr_ns;
    f->isr_acc = 0;
    return EK3_OK;
}

int fwi_serve(unsigned slot, unsigned rack, const char *bus, uint64_t seed, float v_set, double silence_s, long stop_after,
              uint32_t *periods)
{
    tp t;
    int rc = tp_open(&t, bus);
    if (rc)
        return rc;
    fwi *f = malloc(sizeof *f);
    llcc_cfg cc;
    llcc_default_cfg(&cc);
    if (!f || (rc = fwi_init(f, slot, rack, seed, &cc, v_set, NULL))) {
        free(f);
        tp_close(&t);
        return rc ? rc : EK3_ENOSPC;
    }
    fwi_hold(f, fwi_boot_delay_ns(seed, slot)); /* as the rig holds it in process */
    cfd_frame hello, fr, adc;
    msg_hil_tick hi = {MSG_TICK_HELLO, 0, 0};
    hch_frame(CID_TYPE_HIL_TICK, slot, CID_NODE_BROADCAST, &hi, &hello);
    tp_send(&t, &hello);
    int have_adc = 0, synced = 0, bye = 0;
    double quiet = 0;
    *periods = 0;
    rc = EK3_OK;
    while (!bye) {
        if (tp_poll(&t, synced ? (int)(silence_s * 1000) : 100) != 1) {
            quiet += synced ? silence_s : 0.1;
            if (quiet >= silence_s) {
                rc = EK3_ETIMEDOUT;
                break;
            }
            if (!synced)
                tp_send(&t, &hello);
            continue;
        }
        quiet = 0;
        while (!bye && tp_recv(&t, &fr) == EK3_OK) {
            hch_route to = hch_route_fw(&fr, slot);
            if (to == HCH_ADC) {
                adc = fr;
                have_adc = 1;
            } else if (to == HCH_TICK) {
                msg_hil_tick tick;
                msg_err e;
                if (msg_decode(CID_TYPE_HIL_TICK, fr.data, fr.len, &tick, &e) != EK3_OK)
                    continue;
                if (tick.kind == MSG_TICK_BYE) {
                    bye = 1;
                    break;
                }
                if (tick.kind != MSG_TICK_SYNC)
                    continue;
                synced = 1;
                if (stop_after >= 0 && *periods >= (uint32_t)stop_after) { /* vanish: no DONE, no BYE */
                    fwi_free(f);
                    free(f);
                    tp_close(&t);
                    return EK3_OK;
                }
                cfd_frame pwm, out;
                fwi_period(f, have_adc ? &adc : NULL, tick.quantum, &pwm);
                have_adc = 0;
                (*periods)++;
                tp_send(&t, &pwm);
                while (hhal_can_take(&f->h, &out) == EK3_OK)
                    tp_send(&t, &out);
                msg_hil_tick done = {MSG_TICK_DONE, tick.quantum, tick.time_ns};
                if (hch_frame(CID_TYPE_HIL_TICK, slot, CID_NODE_BROADCAST, &done, &out) == EK3_OK)
                    tp_send(&t, &out);
            } else if (to == HCH_RACK) {
                hhal_can_deliver(&f->h, &fr); /* the rack bus: every type that is not the HIL channel's */
            }
        }
    }
    fwi_free(f);
    free(f);
    tp_close(&t);
    return rc;
}
