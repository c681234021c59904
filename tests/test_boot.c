/* test_boot.c - the bootloader's A/B state (boot.h) on the emulated
 * flash: the factory boot, staging, the trial, confirm and revert, the
 * security floor, the record log's page rotation, resuming a staging
 * after a reset; and the power-cut campaign (pcut.h): the power cut at
 * every flash operation of staging, requesting a trial, the trial's
 * attempt mark, confirming and reverting, with sampled second cuts in
 * the recovery: a valid image always boots, the floor never falls, a
 * confirmed image never reverts by itself. The images here are test
 * images (fwimg.h's layout, a CRC-32 in place of the signature: the
 * bootloader only sees the verify callback's verdict). The exhaustive
 * campaign with a larger image runs under the nightly label
 * (EK3_BOOT_NIGHTLY=1). The rig's modules (boot_rig) boot the real
 * thing: the factory image signed with the development key, checked by
 * fwimg_verify at every reset. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "boot.h"
#include "ek3_err.h"
#include "flashemu.h"
#include "fwinst.h"
#include "fwsign.h"
#include "ipc.h"
#include "pcut.h"

/* ---- test images and their verify -------------------------------------- */

#define IMG_MAX (64u * 1024u)

typedef struct timg {
    uint8_t b[IMG_MAX];
    uint32_t n;
} timg;

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* An image of `payload` bytes (deterministic from version), version and
 * security counter as given; the trailer's digest field holds a CRC-32
 * of header and payload. */
static void timg_make(timg *im, uint32_t version, uint32_t security, uint32_t payload)
{
    memset(im, 0, sizeof *im);
    uint8_t *h = im->b;
    put32(h, FWIMG_MAGIC);
    put32(h + 4, FWIMG_FORMAT);
    put32(h + 8, BRD_HW_ID);
    put32(h + 12, version);
    put32(h + 16, security);
    put32(h + 20, payload);
    uint64_t z = version * 2654435761u + payload;
    for (uint32_t i = 0; i < payload; i++) {
        z = z * 6364136223846793005ull + 1442695040888963407ull;
        h[FWIMG_HDR_SIZE + i] = (uint8_t)(z >> 56);
        if (i % 64u < 8u)
            h[FWIMG_HDR_SIZE + i] = 0xFF; /* all-1s double words, as padding has */
    }
    uint8_t *t = h + FWIMG_HDR_SIZE + payload;
    put32(t, FWIMG_TMAGIC);
    put32(t + 4, FWIMG_SIG_ECDSA_P256);
    put32(t + 8, ipc_crc32(h, FWIMG_HDR_SIZE + payload));
    im->n = (FWIMG_HDR_SIZE + payload + FWIMG_TRL_SIZE + 7u) / 8u * 8u;
}

static uint32_t slot_off(unsigned s)
{
    return s ? BRD_SLOT_B_OFF : BRD_SLOT_A_OFF;
}

static uint64_t verifies; /* verify calls, all tests of a process */

static int tverify(void *ctx, unsigned slot, uint32_t min_security, fwimg_info *info, fwimg_why *why)
{
    fle *f = ctx;
    static uint8_t b[IMG_MAX];
    verifies++;
    uint32_t base = slot_off(slot);
    if (fle_read(f, base, b, FWIMG_HDR_SIZE)) {
        *why = FWIMG_IO;
        return EK3_EIO;
    }
    uint32_t payload = get32(b + 20);
    if (get32(b) != FWIMG_MAGIC) {
        *why = FWIMG_BAD_MAGIC;
        return EK3_EPARSE;
    }
    if (payload > IMG_MAX - FWIMG_HDR_SIZE - FWIMG_TRL_SIZE) {
        *why = FWIMG_TOO_BIG;
        return EK3_ERANGE;
    }
    if (get32(b + 16) < min_security) {
        *why = FWIMG_DOWNGRADE;
        return EK3_EPERM;
    }
    if (fle_read(f, base, b, FWIMG_HDR_SIZE + payload + FWIMG_TRL_SIZE)) {
        *why = FWIMG_IO;
        return EK3_EIO;
    }
    const uint8_t *t = b + FWIMG_HDR_SIZE + payload;
    if (get32(t) != FWIMG_TMAGIC) {
        *why = FWIMG_BAD_MAGIC;
        return EK3_EPARSE;
    }
    if (get32(t + 8) != ipc_crc32(b, FWIMG_HDR_SIZE + payload)) {
        *why = FWIMG_BAD_HASH;
        return EK3_EPERM;
    }
    info->hdr.magic = FWIMG_MAGIC;
    info->hdr.version = get32(b + 12);
    info->hdr.security = get32(b + 16);
    info->hdr.payload_size = payload;
    info->total = FWIMG_HDR_SIZE + payload + FWIMG_TRL_SIZE;
    return EK3_OK;
}

static fle *dev_new(void)
{
    fle *f = malloc(sizeof *f);
    cr_assert_not_null(f);
    fle_config c = {.seed = 3, .size = BRD_FLASH_SIZE, .bank_size = BRD_FLASH_BANK};
    cr_assert_eq(fle_init(f, &c), EK3_OK);
    return f;
}

static boot_cfg cfg_of(fle *f)
{
    boot_cfg c = {fle_hal(f), tverify, f};
    return c;
}

/* The factory's programmer: the image straight into a slot. */
static void factory(fle *f, unsigned slot, const timg *im)
{
    cr_assert_eq(fle_program(f, slot_off(slot), im->b, im->n), EK3_OK);
}

static void stage(const boot_cfg *c, unsigned running, const timg *im)
{
    cr_assert_eq(boot_stage_begin(c, running), EK3_OK);
    cr_assert_eq(boot_stage_write(c, running, 0, im->b, im->n), EK3_OK);
    fwimg_info info;
    fwimg_why why;
    cr_assert_eq(boot_stage_finish(c, running, &info, &why), EK3_OK, "%d", why);
}

static timg im1, im2, im3, im_old, im_big;

static void images(void)
{
    timg_make(&im1, 0x010000, 1, 1000);
    timg_make(&im2, 0x010100, 2, 1500);
    timg_make(&im3, 0x010200, 3, 700);
    timg_make(&im_old, 0x000900, 0, 800);
    timg_make(&im_big, 0x010300, 2, 6000);
}

/* A module with image 1 in slot A, booted once; staged: image 2 in B too. */
static fle *booted(boot_cfg *c, boot_choice *ch, int staged)
{
    images();
    fle *f = dev_new();
    *c = cfg_of(f);
    factory(f, BOOT_SLOT_A, &im1);
    cr_assert_eq(boot_select(c, ch), EK3_OK);
    cr_assert_eq(ch->slot, BOOT_SLOT_A);
    if (staged)
        stage(c, BOOT_SLOT_A, &im2);
    return f;
}

/* ---- the states ------------------------------------------------------- */

Test(boot, factory_fresh_boots_the_first_valid_slot)
{
    images();
    fle *f = dev_new();
    boot_cfg c = cfg_of(f);
    boot_choice ch;
    cr_assert_eq(boot_select(&c, &ch), EK3_ENOENT, "nothing programmed: no image");
    cr_assert_eq(ch.refused[0], FWIMG_BAD_MAGIC);
    factory(f, BOOT_SLOT_B, &im1);
    cr_assert_eq(boot_select(&c, &ch), EK3_OK);
    cr_assert_eq(ch.slot, BOOT_SLOT_B, "A is blank: B, the first that verifies");
    cr_assert_eq(ch.trial, 0);
    cr_assert_eq(ch.version, 0x010000u);
    cr_assert_eq(ch.security, 1u, "the factory image's counter is the floor");
    cr_assert_eq(ch.refused[0], FWIMG_BAD_MAGIC);
    boot_state s;
    cr_assert_eq(boot_state_read(&c, &s), EK3_OK);
    cr_assert(s.have && s.confirmed == BOOT_SLOT_B && s.trial == -1 && s.security == 1 && s.seq == 1);
    free(f);
}

Test(boot, update_trial_confirm_raises_the_floor)
{
    boot_cfg c;
    boot_choice ch;
    fle *f = booted(&c, &ch, 0);
    cr_assert_eq(ch.slot, BOOT_SLOT_A);
    cr_assert_eq(boot_request_trial(&c, BOOT_SLOT_A), EK3_ENOENT, "nothing staged");
    stage(&c, BOOT_SLOT_A, &im2);
    cr_assert_eq(boot_select(&c, &ch), EK3_OK);
    cr_assert_eq(ch.slot, BOOT_SLOT_A, "staged but no trial requested: the confirmed slot");
    cr_assert_eq(boot_request_trial(&c, BOOT_SLOT_A), EK3_OK);
    cr_assert_eq(boot_stage_begin(&c, BOOT_SLOT_A), EK3_EBUSY, "a trial is pending");
    cr_assert_eq(boot_select(&c, &ch), EK3_OK);
    cr_assert_eq(ch.slot, BOOT_SLOT_B);
    cr_assert_eq(ch.trial, 1);
    cr_assert_eq(ch.version, 0x010100u);
    cr_assert_eq(ch.security, 1u, "not confirmed: the floor stays");
    cr_assert_eq(boot_stage_begin(&c, BOOT_SLOT_B), EK3_EBUSY, "the trial may not erase the confirmed image");
    cr_assert_eq(boot_confirm(&c, &ch), EK3_OK);
    cr_assert_eq(boot_confirm(&c, &ch), EK3_EBUSY, "no trial any more");
    cr_assert_eq(boot_select(&c, &ch), EK3_OK);
    cr_assert_eq(ch.slot, BOOT_SLOT_B);
    cr_assert_eq(ch.trial, 0);
    cr_assert_eq(ch.security, 2u, "the floor rose to the confirmed image's counter");
    /* A downgrade is refused at staging and for a trial. */
    cr_assert_eq(boot_stage_begin(&c, BOOT_SLOT_A), EK3_EBUSY, "A is not running");
    cr_assert_eq(boot_stage_begin(&c, BOOT_SLOT_B), EK3_OK);
    cr_assert_eq(boot_stage_write(&c, BOOT_SLOT_B, 0, im_old.b, im_old.n), EK3_OK);
    fwimg_info info;
    fwimg_why why;
    cr_assert_eq(boot_stage_finish(&c, BOOT_SLOT_B, &info, &why), EK3_EPERM);
    cr_assert_eq(why, FWIMG_DOWNGRADE);
    cr_assert_eq(boot_request_trial(&c, BOOT_SLOT_B), EK3_ENOENT);
    free(f);
}

Test(boot, a_trial_never_confirmed_reverts)
{
    boot_cfg c;
    boot_choice ch;
    fle *f = booted(&c, &ch, 1);
    cr_assert_eq(boot_request_trial(&c, BOOT_SLOT_A), EK3_OK);
    cr_assert_eq(boot_select(&c, &ch), EK3_OK);
    cr_assert(ch.slot == BOOT_SLOT_B && ch.trial && !ch.reverted);
    /* It crashed before confirming: the next reset reverts. */
    cr_assert_eq(boot_select(&c, &ch), EK3_OK);
    cr_assert(ch.slot == BOOT_SLOT_A && !ch.trial && ch.reverted);
    cr_assert_eq(ch.security, 1u);
    cr_assert_eq(boot_confirm(&c, &ch), EK3_EBUSY);
    cr_assert_eq(boot_select(&c, &ch), EK3_OK);
    cr_assert(ch.slot == BOOT_SLOT_A && !ch.trial && !ch.reverted, "reverted once, then the confirmed slot");
    /* A trial that no longer verifies is reverted at once. */
    cr_assert_eq(boot_request_trial(&c, BOOT_SLOT_A), EK3_OK);
    static const uint8_t zeros[8] = {0};
    cr_assert_eq(fle_program(f, BRD_SLOT_B_OFF + 80, zeros, 8), EK3_OK);
    cr_assert_eq(boot_select(&c, &ch), EK3_OK);
    cr_assert(ch.slot == BOOT_SLOT_A && ch.reverted);
    cr_assert_eq(ch.refused[1], FWIMG_BAD_HASH);
    free(f);
}

Test(boot, a_broken_confirmed_slot_falls_back_to_the_other)
{
    boot_cfg c;
    boot_choice ch;
    fle *f = booted(&c, &ch, 1);
    static const uint8_t zeros[8] = {0};
    cr_assert_eq(fle_program(f, BRD_SLOT_A_OFF + 64, zeros, 8), EK3_OK); /* A's payload damaged */
    cr_assert_eq(boot_select(&c, &ch), EK3_OK);
    cr_assert_eq(ch.slot, BOOT_SLOT_B);
    cr_assert_eq(ch.refused[0], FWIMG_BAD_HASH);
    boot_state s;
    cr_assert_eq(boot_state_read(&c, &s), EK3_OK);
    cr_assert_eq(s.confirmed, BOOT_SLOT_B, "recorded");
    cr_assert_eq(fle_program(f, BRD_SLOT_B_OFF + 64, zeros, 8), EK3_OK);
    cr_assert_eq(boot_select(&c, &ch), EK3_ENOENT, "neither verifies");
    free(f);
}

Test(boot, the_record_log_rotates_through_its_pages)
{
    boot_cfg c;
    boot_choice ch;
    fle *f = booted(&c, &ch, 1);
    /* 3 records a round (trial, attempt, revert): 400 rounds go round the
     * 4 pages of 64 records almost five times. */
    for (unsigned r = 0; r < 400; r++) {
        cr_assert_eq(boot_request_trial(&c, BOOT_SLOT_A), EK3_OK, "round %u", r);
        cr_assert_eq(boot_select(&c, &ch), EK3_OK);
        cr_assert(ch.trial && ch.slot == BOOT_SLOT_B, "round %u", r);
        cr_assert_eq(boot_select(&c, &ch), EK3_OK);
        cr_assert(ch.reverted && ch.slot == BOOT_SLOT_A, "round %u", r);
    }
    boot_state s;
    cr_assert_eq(boot_state_read(&c, &s), EK3_OK);
    cr_assert_eq(s.seq, 1u + 3u * 400u);
    /* 1201 records: the page entered 19 times, page 0 first without an erase. */
    cr_assert_eq(f->erase_count[BRD_BOOTST_OFF / FLE_PAGE], 4u);
    cr_assert_eq(f->erase_count[BRD_BOOTST_OFF / FLE_PAGE + 1], 5u);
    cr_assert_eq(f->erase_count[BRD_BOOTST_OFF / FLE_PAGE + 3], 4u);
    free(f);
}

Test(boot, a_torn_or_unreadable_record_is_skipped)
{
    boot_cfg c;
    boot_choice ch;
    fle *f = booted(&c, &ch, 1);
    /* The trial request's record, cut at its commit (the 4th double
     * word), every outcome: the record before (no trial) or after. */
    unsigned trials = 0, none = 0;
    for (uint64_t seed = 0; seed < 40; seed++) {
        fle *g = malloc(sizeof *g);
        memcpy(g, f, sizeof *g);
        g->cfg.seed = seed;
        g->rng = seed;
        g->cfg.cut_at = g->st.ops + 4;
        boot_cfg gc = cfg_of(g);
        cr_assert_eq(boot_request_trial(&gc, BOOT_SLOT_A), EK3_EIO);
        cr_assert(fle_is_off(g));
        fle_power_on(g);
        g->cfg.cut_at = 0;
        boot_state s;
        cr_assert_eq(boot_state_read(&gc, &s), EK3_OK);
        cr_assert(s.seq == 1 || s.seq == 2);
        if (s.trial >= 0)
            trials++;
        else
            none++;
        cr_assert_eq(boot_select(&gc, &ch), EK3_OK);
        cr_assert_eq(ch.slot, s.trial >= 0 ? BOOT_SLOT_B : BOOT_SLOT_A);
        free(g);
    }
    cr_assert(trials > 0 && none > 0, "both outcomes drawn (%u, %u)", trials, none);
    free(f);
}

Test(boot, staging_resumes_after_a_reset)
{
    boot_cfg c;
    boot_choice ch;
    fle *f = booted(&c, &ch, 0);
    uint32_t e = 1;
    cr_assert_eq(boot_stage_extent(&c, BOOT_SLOT_A, &e), EK3_OK);
    cr_assert_eq(e, 0u);
    cr_assert_eq(boot_stage_extent(&c, 2, &e), EK3_EINVAL);
    cr_assert_eq(boot_stage_write(&c, BOOT_SLOT_A, 4, im2.b, 8), EK3_EINVAL);
    cr_assert_eq(boot_stage_write(&c, BOOT_SLOT_A, BRD_SLOT_SIZE - 8, im2.b, 16), EK3_ERANGE);
    cr_assert_eq(boot_stage_begin(&c, BOOT_SLOT_A), EK3_OK);
    cr_assert_eq(boot_stage_write(&c, BOOT_SLOT_A, 0, im2.b, 512), EK3_OK);
    cr_assert_eq(boot_stage_extent(&c, BOOT_SLOT_A, &e), EK3_OK);
    cr_assert_eq(e, 512u);
    /* Sending it all again is harmless; something else is refused. */
    cr_assert_eq(boot_stage_write(&c, BOOT_SLOT_A, 0, im2.b, im2.n), EK3_OK);
    cr_assert_eq(boot_stage_write(&c, BOOT_SLOT_A, 0, im3.b, 64), EK3_EIO);
    cr_assert_eq(boot_stage_finish(&c, BOOT_SLOT_A, NULL, NULL), EK3_OK);
    /* A torn double word in the second page: its page is erased. */
    cr_assert_eq(boot_stage_begin(&c, BOOT_SLOT_A), EK3_OK);
    cr_assert_eq(boot_stage_extent(&c, BOOT_SLOT_A, &e), EK3_OK);
    cr_assert_eq(e, 0u, "begun: nothing staged");
    cr_assert_eq(boot_stage_write(&c, BOOT_SLOT_A, 0, im_big.b, 2048 + 264), EK3_OK);
    f->cfg.cut_at = f->st.ops + 1;
    for (uint64_t tries = 0; tries < 64; tries++) { /* until the draw tears it with an ECC error */
        fle *g = malloc(sizeof *g);
        memcpy(g, f, sizeof *g);
        g->rng = tries * 7919u;
        boot_cfg gc = cfg_of(g);
        cr_assert_eq(boot_stage_write(&gc, BOOT_SLOT_A, 2048 + 264, im_big.b + 2048 + 264, 8), EK3_EIO);
        fle_power_on(g);
        g->cfg.cut_at = 0;
        uint8_t b[8];
        if (fle_read(g, BRD_SLOT_B_OFF + 2048 + 264, b, 8) != EK3_EIO) {
            free(g);
            continue;
        }
        cr_assert_eq(boot_stage_write(&gc, BOOT_SLOT_A, 2048 + 264, im_big.b + 2048 + 264, 8), EK3_EIO, "torn");
        cr_assert_eq(boot_stage_extent(&gc, BOOT_SLOT_A, &e), EK3_OK);
        cr_assert_eq(e, 2048u, "the torn page erased");
        cr_assert_eq(boot_stage_write(&gc, BOOT_SLOT_A, e, im_big.b + e, im_big.n - e), EK3_OK);
        cr_assert_eq(boot_stage_finish(&gc, BOOT_SLOT_A, NULL, NULL), EK3_OK);
        free(g);
        free(f);
        return;
    }
    cr_assert_fail("no draw tore the double word with an ECC error");
}

/* ---- the power-cut campaign ---------------------------------------------- */

/* The steps: (0) stage image 2 into B, (1) request its trial, (2) the
 * reset that boots it (the attempt mark), (3) confirm, (4) stage image 3
 * into A, (5) request its trial, (6) the reset that boots it, (7) the
 * reset after it crashed (the revert), (8) a reset. The workload's boot
 * is boot_select; a step redone after a cut does what the firmware
 * would: staging resumes (extent) or begins again, confirm only if the
 * image still runs as a trial, a trial request only from the confirmed
 * slot. */
#define CAMP_STEPS 9u

typedef struct camp_st {
    boot_choice ch;
    uint8_t recovered; /* booted after a cut: a staging resumes */
} camp_st;

typedef struct camp_ctx {
    const timg *im[2];     /* the images staged at steps 0 and 4 */
    boot_state pre[CAMP_STEPS];
    uint8_t seen[CAMP_STEPS];
    uint64_t boots, reverts, enoent, resumed;
    uint8_t first_boot;
} camp_ctx;

static int camp_boot(void *st, hal hw, void *ctx)
{
    camp_st *s = st;
    camp_ctx *x = ctx;
    boot_cfg c = {hw, tverify, hw.ctx};
    int rc = boot_select(&c, &s->ch);
    x->boots++;
    if (rc == EK3_ENOENT)
        x->enoent++;
    if (!rc && s->ch.reverted)
        x->reverts++;
    return rc;
}

/* The workload's boot: the golden run's first, or a recovery's. */
static int camp_boot_cb(void *st, hal hw, void *ctx)
{
    camp_st *s = st;
    camp_ctx *x = ctx;
    if (x->first_boot)
        s->recovered = 1;
    x->first_boot = 1;
    return camp_boot(st, hw, ctx);
}

/* The receiver: a new staging begins; after a reset it resumes from the
 * extent, and begins again when that fails or the finished image is not
 * the one it was sending (a cut before begin's mark leaves the old image
 * whole). */
static int camp_stage(const boot_cfg *c, unsigned running, const timg *im, int resume, camp_ctx *x)
{
    uint32_t e = 0;
    int rc = resume ? boot_stage_extent(c, running, &e) : EK3_OK;
    if (rc)
        return rc;
    if (resume && e)
        x->resumed++;
    fwimg_info info;
    fwimg_why why;
    for (int pass = 0; pass < 2; pass++) {
        if (pass || !e)
            rc = boot_stage_begin(c, running), e = 0;
        if (!rc && e < im->n)
            rc = boot_stage_write(c, running, e, im->b + e, im->n - e);
        if (!rc)
            rc = boot_stage_finish(c, running, &info, &why);
        if (!rc && info.hdr.version != get32(im->b + 12))
            rc = EK3_EIO;
        if (!rc || rc == EK3_EBUSY)
            return rc;
    }
    return rc;
}

static int camp_step(void *st, hal hw, unsigned i, void *ctx)
{
    camp_st *s = st;
    camp_ctx *x = ctx;
    boot_cfg c = {hw, tverify, hw.ctx};
    if (!x->seen[i]) { /* the golden run's step comes first */
        x->seen[i] = 1;
        boot_state_read(&c, &x->pre[i]);
    }
    switch (i) {
    case 0:
    case 4:
        return camp_stage(&c, s->ch.slot, x->im[i == 4], s->recovered, x);
    case 1:
    case 5:
        if (s->ch.trial)
            return EK3_OK; /* the recovery's boot already runs it */
        return boot_request_trial(&c, s->ch.slot);
    case 3: {
        if (!s->ch.trial)
            return EK3_OK; /* reverted by a cut: nothing to confirm */
        int rc = boot_confirm(&c, &s->ch);
        if (!rc)
            s->ch.trial = 0; /* the running image is the confirmed one now */
        return rc;
    }
    default:
        return camp_boot(st, hw, ctx);
    }
}

static int camp_check(const void *st, hal hw, hal golden, unsigned i, void *ctx, unsigned *lost, char *why,
                      size_t cap)
{
    const camp_st *s = st;
    camp_ctx *x = ctx;
    (void)lost;
    boot_cfg c = {hw, tverify, hw.ctx}, gc = {golden, tverify, golden.ctx};
    boot_state now, want;
    const boot_state *pre = &x->pre[i];
    if (boot_state_read(&c, &now) || boot_state_read(&gc, &want) || !now.have) {
        snprintf(why, cap, "no boot state after the recovery");
        return -1;
    }
    if (now.security < pre->security) {
        snprintf(why, cap, "the security floor fell: %u -> %u", pre->security, now.security);
        return -1;
    }
    if (now.security > want.security) {
        snprintf(why, cap, "the security floor %u above the uncut run's %u", now.security, want.security);
        return -1;
    }
    if (now.confirmed != pre->confirmed && now.confirmed != want.confirmed) {
        snprintf(why, cap, "slot %u confirmed: neither the one before (%u) nor the uncut run's (%u)", now.confirmed,
                 pre->confirmed, want.confirmed);
        return -1;
    }
    if (pre->trial < 0 && now.confirmed != pre->confirmed && i != 3) {
        snprintf(why, cap, "the confirmed slot %u changed by itself to %u", pre->confirmed, now.confirmed);
        return -1;
    }
    if (s->ch.slot != now.confirmed && !(s->ch.trial && (int)s->ch.slot == now.trial)) {
        snprintf(why, cap, "slot %u runs, neither the confirmed %u nor a trial", s->ch.slot, now.confirmed);
        return -1;
    }
    /* After the confirm step, B is confirmed whatever the cut (reverted
     * or confirmed): never both lost. */
    if (i >= 4 && now.confirmed != BOOT_SLOT_B && want.confirmed == BOOT_SLOT_B &&
        pre->confirmed == BOOT_SLOT_B) {
        snprintf(why, cap, "the confirmed image B reverted by itself");
        return -1;
    }
    return 0;
}

static void campaign(uint32_t payload, unsigned pair_every, int pairs_all)
{
    static timg a, b, d;
    timg_make(&a, 0x010000, 1, payload);
    timg_make(&b, 0x010100, 2, payload + 200);
    timg_make(&d, 0x010200, 3, payload / 2);
    fle *f = dev_new();
    factory(f, BOOT_SLOT_A, &a);
    /* The boot state 3 records short of its first page's end, so that the
     * update's records rotate into the next page (its erase cut too):
     * the factory boot, then 20 trials of a staged image, all reverted. */
    boot_cfg c = cfg_of(f);
    boot_choice ch;
    cr_assert_eq(boot_select(&c, &ch), EK3_OK);
    stage(&c, BOOT_SLOT_A, &d);
    for (unsigned k = 0; k < 20; k++) {
        cr_assert_eq(boot_request_trial(&c, BOOT_SLOT_A), EK3_OK);
        cr_assert_eq(boot_select(&c, &ch), EK3_OK);
        cr_assert_eq(boot_select(&c, &ch), EK3_OK);
        cr_assert(ch.reverted);
    }
    camp_ctx x;
    memset(&x, 0, sizeof x);
    x.im[0] = &b;
    x.im[1] = &d;
    pcut_workload w = {sizeof(camp_st), camp_boot_cb, camp_step, camp_check, &x};
    pcut_config pc = {.steps = CAMP_STEPS, .flash = f->cfg, .start = f, .seed = 16, .pair_every = pair_every};
    pcut_result r;
    cr_assert_eq(pcut_run(&pc, &w, &r), EK3_OK, "%s", r.why);
    uint64_t outside = f->st.ops; /* the factory's and the prefill's: no step's */
    printf("boot power-cut campaign, %u-byte images: %llu flash operations, %llu cut points, %llu second cuts, "
           "%llu boots (%llu reverts, %llu without an image), %llu stagings resumed, %llu failures\n",
           (unsigned)a.n, (unsigned long long)r.ops, (unsigned long long)r.cuts, (unsigned long long)r.pairs,
           (unsigned long long)x.boots, (unsigned long long)x.reverts, (unsigned long long)x.enoent,
           (unsigned long long)x.resumed, (unsigned long long)r.failures);
    cr_assert_eq(r.failures, 0u, "first failure at step %u, cut at operation %llu (second %llu): %s", r.fail_step,
                 (unsigned long long)r.fail_op, (unsigned long long)r.fail_op2, r.why);
    cr_assert_eq(x.enoent, 0u, "a module without an image to boot");
    cr_assert_gt(x.pre[CAMP_STEPS - 1].seq, (uint32_t)(BRD_FLASH_PAGE / 32u), "the records went into the second page (%u)",
                 x.pre[CAMP_STEPS - 1].seq);
    cr_assert_gt(x.resumed, 0u, "stagings resumed");
    cr_assert_eq(r.cuts, r.ops - outside, "every operation of every step cut");
    if (pairs_all)
        cr_assert_geq(r.pairs, r.cuts / 2, "second cuts");
    free(f);
}

Test(boot_powercut, every_cut_of_an_update_and_a_revert, .timeout = 300)
{
    campaign(2000, 4, 0);
}

Test(boot_powercut_nightly, every_cut_every_second_cut, .timeout = 3600)
{
    if (!getenv("EK3_BOOT_NIGHTLY"))
        cr_skip_test("nightly: EK3_BOOT_NIGHTLY=1");
    campaign(48 * 1024, 1, 1);
}

/* ---- the rig's modules: factory image, secure boot at every reset ---------- */

static void fwi_stage(fwi *m, const uint8_t *img, size_t n)
{
    boot_cfg c = fwi_boot_cfg(m);
    static uint8_t pad[64 * 1024];
    memset(pad, 0xFF, sizeof pad);
    memcpy(pad, img, n);
    uint32_t n8 = (uint32_t)((n + 7u) / 8u * 8u);
    cr_assert_eq(boot_stage_begin(&c, m->boot.slot), EK3_OK);
    cr_assert_eq(boot_stage_write(&c, m->boot.slot, 0, pad, n8), EK3_OK);
}

Test(boot_rig, modules_boot_the_signed_factory_image_and_take_an_update, .timeout = 120)
{
    static fwi m;
    llcc_cfg cc;
    llcc_default_cfg(&cc);
    cr_assert_eq(fwi_init(&m, 3, 5, 7, &cc, 0, NULL), EK3_OK);
    cr_assert_eq(m.boot_rc, EK3_OK);
    cr_assert(!m.down);
    cr_assert_eq(m.boot.slot, BOOT_SLOT_A);
    cr_assert_eq(m.boot.version, FWI_FACTORY_VERSION);
    cr_assert_eq(m.boot.trial, 0);
    cr_assert_eq(m.boot.security, FWI_FACTORY_SECURITY);

    /* Version 1.1.0, counter 2, signed with the development key. */
    static uint8_t payload[6000], img[8192];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 31u + 7u);
    fwsign_meta meta = {BRD_HW_ID, FWSIGN_VERSION(1, 1, 0), 2, 0};
    size_t n = 0;
    cr_assert_eq(fwsign_build(NULL, &meta, payload, sizeof payload, img, sizeof img, &n), EK3_OK);
    boot_cfg c = fwi_boot_cfg(&m);
    fwimg_info info;
    fwimg_why why;

    /* Tampered: refused by the real check. */
    img[100] ^= 1;
    fwi_stage(&m, img, n);
    cr_assert_neq(boot_stage_finish(&c, m.boot.slot, &info, &why), EK3_OK);
    cr_assert_eq(why, FWIMG_BAD_HASH);
    cr_assert_eq(boot_request_trial(&c, m.boot.slot), EK3_ENOENT);
    img[100] ^= 1;

    fwi_stage(&m, img, n);
    cr_assert_eq(boot_stage_finish(&c, m.boot.slot, &info, &why), EK3_OK, "%s", fwimg_why_name(why));
    cr_assert_eq(info.hdr.version, FWSIGN_VERSION(1, 1, 0));
    cr_assert_eq(boot_request_trial(&c, m.boot.slot), EK3_OK);
    uint32_t resets = m.resets;
    cr_assert_eq(fwi_fault_reboot(&m), EK3_OK);
    cr_assert_eq(m.resets, resets + 1);
    cr_assert(m.boot.slot == BOOT_SLOT_B && m.boot.trial && m.boot.version == FWSIGN_VERSION(1, 1, 0));
    /* It crashes before confirming: the next reset reverts to 1.0.0. */
    cr_assert_eq(fwi_fault_reboot(&m), EK3_OK);
    cr_assert(m.boot.slot == BOOT_SLOT_A && !m.boot.trial && m.boot.reverted);
    cr_assert_eq(m.boot.version, FWI_FACTORY_VERSION);
    /* Again, confirmed this time: the floor rises. */
    cr_assert_eq(boot_request_trial(&c, m.boot.slot), EK3_OK);
    cr_assert_eq(fwi_fault_reboot(&m), EK3_OK);
    cr_assert(m.boot.trial);
    cr_assert_eq(boot_confirm(&c, &m.boot), EK3_OK);
    cr_assert_eq(fwi_fault_reboot(&m), EK3_OK);
    cr_assert(m.boot.slot == BOOT_SLOT_B && !m.boot.trial && m.boot.security == 2u);
    /* The factory image (counter 1) is now below the floor: with B gone, nothing boots. */
    cr_assert_eq(fle_erase(&m.h.fl, BRD_SLOT_B_OFF, BRD_FLASH_PAGE), EK3_OK);
    cr_assert_eq(fwi_fault_reboot(&m), EK3_ENOENT);
    cr_assert(m.down);
    cr_assert_eq(m.boot.refused[0], FWIMG_DOWNGRADE);
    cfd_frame pwm;
    cr_assert_eq(fwi_period(&m, NULL, 1, &pwm), EK3_OK, "a module down still answers the plant (PWM off)");
    fwi_free(&m);
}

Test(boot_rig, every_module_of_a_rack_boots_slot_a, .timeout = 120)
{
    static fwi m[8];
    llcc_cfg cc;
    llcc_default_cfg(&cc);
    for (unsigned k = 0; k < 8; k++) {
        cr_assert_eq(fwi_init(&m[k], k + 1, 8, 11, &cc, 0, NULL), EK3_OK);
        cr_assert(m[k].boot.slot == BOOT_SLOT_A && m[k].boot.version == FWI_FACTORY_VERSION);
        fwi_free(&m[k]);
    }
    uint32_t n = 0;
    const uint8_t *img = fwi_factory_image(&n);
    cr_assert_not_null(img);
    cr_assert_eq(n, (FWSIGN_SIZE(FWI_FACTORY_PAYLOAD) + 7u) / 8u * 8u);
    uint32_t n2 = 0;
    cr_assert_eq(fwi_factory_image(&n2), img, "built once");
}
