/* fwinst.c - one module's firmware on the host. */
#include "fwinst.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "board.h"
#include "boot.h"
#include "services.h"
#include "host_crypto.h"
#include "can_id.h"
#include "cli.h"
#include "ek3_err.h"
#include "hilch.h"
#include "ek3_rng.h"
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

int fwi_init(fwi *f, unsigned slot, unsigned rack, uint64_t seed, const llcc_cfg *cc, float v_set)
{
    memset(f, 0, sizeof *f);
    f->slot = slot;
    f->rack = rack;
    f->pool = aligned_alloc(64, FWI_POOL_BYTES);
    if (!f->pool)
        return EK3_ENOSPC;
    hhal_init(&f->h, seed * 1000003u + slot, 0);
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
                     seed + slot - 1, f->pool, FWI_POOL_BYTES, 64, 0, 0, 0, NULL};
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

static int fwi_verify(void *ctx, unsigned slot, uint32_t min_security, fwimg_info *info, fwimg_why *why)
{
    fwi *f = ctx;
    return fwu_verify_slot(hhal_hal(&f->h), f->pubkey, slot, BRD_SLOT_SIZE, min_security, info, why);
}

/* The bootloader at a reset (f->boot): pick the image, hand the decision
 * to the firmware. */
static void fwi_bootloader(fwi *f)
{
    if (!f->boot)
        return;
    boot_cfg bc = {hhal_hal(&f->h), fwi_verify, f};
    memset(&f->ho.choice, 0, sizeof f->ho.choice);
    f->bricked = boot_select(&bc, &f->ho.choice) != EK3_OK;
    f->ho.pubkey = f->pubkey;
    f->k.cfg.boot_handoff = f->bricked ? NULL : &f->ho;
}

/* A trial image injected as bad (bad_trial): its output never starts. */
static int fwi_dead_output(const fwi *f)
{
    return f->boot && (f->bricked || (f->bad_trial && f->ho.choice.trial));
}


int fwi_period(fwi *f, const cfd_frame *adc, uint32_t q, cfd_frame *pwm)
{
    int rc = EK3_OK;
    if (adc && hch_adc_take(&f->h, adc) != EK3_OK) {
        f->bad_frames++;
        rc = EK3_EPARSE;
    }
    hhal_advance(&f->h, BRD_PERIOD_NS);
    if (f->overrun_left) {
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
    if (hhal_watchdog_expired(&f->h)) {
        fwi_bootloader(f); /* an unconfirmed trial reverts at this reset */
        jz_reset(&f->k);
        hhal_watchdog_restart(&f->h);
        f->resets++;
        f->overrun_left = 0; /* the reset ends what the interrupt was doing */
    }
    if (f->h.reset_req) /* the firmware asked (UPDATE_MGR: into a staged image, or back) */
        fwi_fault_reboot(f);
    if (fwi_dead_output(f))
        drv_power(&f->drv, DRV_OFF, 0, 0);
    int e2 = hch_pwm_send(&f->h, f->slot, q, pwm);
    return rc ? rc : e2;
}

int fwi_fault_reboot(fwi *f)
{
    hhal_mcu_reset(&f->h);
    f->h.reset_req = 0;
    drv_init(&f->drv, &f->cc);
    fwi_bootloader(f);
    int rc = jz_reboot(&f->k);
    hhal_watchdog_restart(&f->h);
    f->resets++;
    f->overrun_left = 0;
    if (f->boot_v > 0 && !fwi_dead_output(f))
        drv_power(&f->drv, DRV_ON, f->boot_v, f->cc.p_max);
    return rc;
}

int fwi_boot_install(fwi *f, const uint8_t *img, uint32_t n, const uint8_t pubkey[FWIMG_PUBKEY_SIZE])
{
    if (!img || !pubkey || n == 0 || n > BRD_SLOT_SIZE)
        return EK3_ERANGE;
    hal hw = hhal_hal(&f->h);
    uint32_t pages = (n + BRD_FLASH_PAGE - 1u) / BRD_FLASH_PAGE;
    int rc = hal_flash_erase(hw, BRD_SLOT_A_OFF, (size_t)pages * BRD_FLASH_PAGE);
    uint32_t whole = n & ~7u;
    if (!rc && whole)
        rc = hal_flash_write(hw, BRD_SLOT_A_OFF, img, whole);
    if (!rc && whole < n) { /* the tail, padded with zeros to a double word */
        uint8_t dw[8] = {0};
        memcpy(dw, img + whole, n - whole);
        rc = hal_flash_write(hw, BRD_SLOT_A_OFF + whole, dw, sizeof dw);
    }
    if (rc)
        return rc;
    memcpy(f->pubkey, pubkey, FWIMG_PUBKEY_SIZE);
    f->boot = 1;
    fwi_bootloader(f);
    if (f->bricked)
        return EK3_ENOENT;
    return jz_reboot(&f->k); /* the factory's first boot: through the bootloader, counted as no reset */
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
    if (!f || (rc = fwi_init(f, slot, rack, seed, &cc, v_set))) {
        free(f);
        tp_close(&t);
        return rc ? rc : EK3_ENOSPC;
    }
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
