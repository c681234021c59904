/* boot.c - the bootloader's A/B slots and their state (boot.h; the
 * flash map and the record's layout: docs/flash.md "The boot state"). */
#include "boot.h"

#include <string.h>

#include "board.h"
#include "ek3_err.h"
#include "ipc.h"

/* A record: 32 bytes, four double words, little-endian.
 *   0 seq u32       1, 2, ... (the latest committed one wins)
 *   4 magic u16 (BOOT_MAGIC), confirmed u8 (slot), trial u8 (slot, or BOOT_NO_TRIAL)
 *   8 attempts u8, reverted u8, reserved u16 (0)
 *  12 security u32  the module's security floor
 *  16 reserved u32 (0)
 *  20 crc u32       CRC-32 of bytes 0..19
 *  24 commit u64    ~crc << 32 | seq: programmed last, the record's commit */
#define BOOT_REC 32u
#define BOOT_BODY 24u
#define BOOT_MAGIC 0xB007u
#define BOOT_NO_TRIAL 0xFFu
#define BOOT_PAGES (BRD_BOOTST_SIZE / BRD_FLASH_PAGE)
#define BOOT_PER_PAGE (BRD_FLASH_PAGE / BOOT_REC)
#define BOOT_CHUNK 256u /* bytes read at once by boot_stage_extent */

_Static_assert(BRD_BOOTST_SIZE % BRD_FLASH_PAGE == 0 && BOOT_PAGES >= 2, "the boot state is whole pages, two at least");
_Static_assert(BRD_SLOT_SIZE % BRD_FLASH_PAGE == 0 && BRD_SLOT_SIZE % BOOT_CHUNK == 0, "a slot is whole pages");

enum { BOOT_K_BLANK, BOOT_K_VALID, BOOT_K_TORN };

typedef struct boot_scan {
    int have;               /* a committed record was found */
    boot_state last;        /* the latest one */
    unsigned page, idx;     /* where it is */
    uint8_t kind[BOOT_PAGES][BOOT_PER_PAGE];
} boot_scan;

static uint32_t boot_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void boot_put32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t boot_slot_off(unsigned slot)
{
    return slot ? BRD_SLOT_B_OFF : BRD_SLOT_A_OFF;
}

boot_slot_reader boot_slot_reader_of(hal hw, unsigned slot)
{
    boot_slot_reader r = {hw, boot_slot_off(slot)};
    return r;
}

int boot_slot_read(void *ctx, uint32_t off, void *buf, size_t n)
{
    const boot_slot_reader *r = ctx;
    return hal_flash_read(r->hw, r->base + off, buf, n);
}

static uint32_t boot_rec_off(unsigned page, unsigned idx)
{
    return BRD_BOOTST_OFF + page * BRD_FLASH_PAGE + idx * BOOT_REC;
}

static int boot_all(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

static void boot_encode(const boot_state *s, uint8_t b[BOOT_REC])
{
    memset(b, 0, BOOT_REC);
    boot_put32(b, s->seq);
    b[4] = (uint8_t)(BOOT_MAGIC & 0xFFu);
    b[5] = (uint8_t)(BOOT_MAGIC >> 8);
    b[6] = (uint8_t)s->confirmed;
    b[7] = s->trial < 0 ? BOOT_NO_TRIAL : (uint8_t)s->trial;
    b[8] = s->attempts;
    b[9] = s->reverted;
    boot_put32(b + 12, s->security);
    uint32_t crc = ipc_crc32(b, 20);
    boot_put32(b + 20, crc);
    boot_put32(b + 24, s->seq);
    boot_put32(b + 28, ~crc);
}

/* A committed, well-formed record, or not. */
static int boot_decode(const uint8_t b[BOOT_REC], boot_state *s)
{
    uint32_t crc = boot_get32(b + 20);
    if ((b[4] | (unsigned)b[5] << 8) != BOOT_MAGIC || ipc_crc32(b, 20) != crc || boot_get32(b + 24) != boot_get32(b) || boot_get32(b + 28) != ~crc)
        return 0;
    if (b[6] >= BOOT_SLOTS || (b[7] >= BOOT_SLOTS && b[7] != BOOT_NO_TRIAL))
        return 0;
    memset(s, 0, sizeof *s);
    s->have = 1;
    s->seq = boot_get32(b);
    s->confirmed = b[6];
    s->trial = b[7] == BOOT_NO_TRIAL ? -1 : b[7];
    s->attempts = b[8];
    s->reverted = b[9];
    s->security = boot_get32(b + 12);
    return 1;
}

/* Read every record slot of the boot state's pages. 0, or the flash's
 * error other than an ECC error (EK3_ERANGE: the flash is too small). */
static int boot_scan_all(const boot_cfg *c, boot_scan *sc)
{
    memset(sc, 0, sizeof *sc);
    for (unsigned p = 0; p < BOOT_PAGES; p++)
        for (unsigned i = 0; i < BOOT_PER_PAGE; i++) {
            uint8_t b[BOOT_REC];
            int rc = hal_flash_read(c->hw, boot_rec_off(p, i), b, sizeof b);
            boot_state s;
            if (rc == EK3_EIO) {
                sc->kind[p][i] = BOOT_K_TORN; /* an ECC double error: skipped */
                continue;
            }
            if (rc)
                return rc;
            if (boot_all(b, sizeof b, 0xFF)) {
                sc->kind[p][i] = BOOT_K_BLANK;
            } else if (boot_decode(b, &s)) {
                sc->kind[p][i] = BOOT_K_VALID;
                if (!sc->have || (int32_t)(s.seq - sc->last.seq) > 0) {
                    sc->have = 1;
                    sc->last = s;
                    sc->page = p;
                    sc->idx = i;
                }
            } else {
                sc->kind[p][i] = BOOT_K_TORN;
            }
        }
    return EK3_OK;
}

static int boot_write_rec(const boot_cfg *c, uint32_t off, const uint8_t b[BOOT_REC])
{
    int rc = hal_flash_write(c->hw, off, b, BOOT_BODY);
    return rc ? rc : hal_flash_write(c->hw, off + BOOT_BODY, b + BOOT_BODY, BOOT_REC - BOOT_BODY); /* the commit, last */
}

/* s, just committed at (p, i), is the latest record. */
static int boot_now_at(boot_scan *sc, const boot_state *s, unsigned p, unsigned i)
{
    sc->have = 1;
    sc->last = *s;
    sc->page = p;
    sc->idx = i;
    sc->kind[p][i] = BOOT_K_VALID;
    return EK3_OK;
}

/* Append s (seq: one more than the latest) after the latest record:
 * into the next blank slot of its page (a slot whose program fails is
 * passed over), or, the page full, into the next page, erased first (it
 * never holds the latest record). Without any record: the first blank
 * slot, or page 0 erased. 0 or EK3_EIO. */
static int boot_append(const boot_cfg *c, boot_scan *sc, boot_state *s)
{
    s->have = 1;
    s->seq = sc->have ? sc->last.seq + 1u : 1u;
    uint8_t b[BOOT_REC];
    boot_encode(s, b);
    unsigned p0 = sc->have ? sc->page : 0, pn = sc->have ? 1 : BOOT_PAGES;
    for (unsigned k = 0; k < pn; k++) {
        unsigned p = p0 + k;
        for (unsigned i = sc->have ? sc->idx + 1 : 0; i < BOOT_PER_PAGE; i++) {
            if (sc->kind[p][i] != BOOT_K_BLANK)
                continue;
            sc->kind[p][i] = BOOT_K_TORN; /* used, whatever comes of it */
            if (boot_write_rec(c, boot_rec_off(p, i), b) == EK3_OK)
                return boot_now_at(sc, s, p, i);
        }
    }
    unsigned q = sc->have ? (sc->page + 1u) % BOOT_PAGES : 0;
    int rc = hal_flash_erase(c->hw, boot_rec_off(q, 0), BRD_FLASH_PAGE);
    if (rc)
        return rc;
    memset(sc->kind[q], BOOT_K_BLANK, sizeof sc->kind[q]);
    sc->kind[q][0] = BOOT_K_TORN;
    rc = boot_write_rec(c, boot_rec_off(q, 0), b);
    return rc ? rc : boot_now_at(sc, s, q, 0);
}

static int boot_verify(const boot_cfg *c, unsigned slot, uint32_t floor, fwimg_info *info, fwimg_why *why)
{
    *why = FWIMG_OK;
    memset(info, 0, sizeof *info);
    int rc = c->verify(c->ctx, slot, floor, info, why);
    if (rc && *why == FWIMG_OK)
        *why = FWIMG_IO;
    return rc ? rc : EK3_OK;
}

int boot_state_read(const boot_cfg *c, boot_state *out)
{
    if (!c || !out)
        return EK3_EINVAL;
    boot_scan sc;
    int rc = boot_scan_all(c, &sc);
    memset(out, 0, sizeof *out);
    out->trial = -1;
    if (!rc && sc.have)
        *out = sc.last;
    return rc;
}

static void boot_chose(boot_choice *out, unsigned slot, const fwimg_info *info, const boot_state *s)
{
    out->slot = slot;
    out->version = info->hdr.version;
    out->security = s->security;
}

int boot_select(const boot_cfg *c, boot_choice *out)
{
    if (!c || !c->verify || !out)
        return EK3_EINVAL;
    memset(out, 0, sizeof *out);
    boot_scan sc;
    int rc = boot_scan_all(c, &sc);
    if (rc)
        return rc;
    fwimg_info info;
    fwimg_why why;
    if (!sc.have) { /* factory-fresh: the first slot that verifies is confirmed */
        for (unsigned s = 0; s < BOOT_SLOTS; s++) {
            if (boot_verify(c, s, 0, &info, &why)) {
                out->refused[s] = why;
                continue;
            }
            boot_state st = {0};
            st.confirmed = (uint8_t)s;
            st.trial = -1;
            st.security = info.hdr.security;
            rc = boot_append(c, &sc, &st);
            if (rc)
                return rc;
            boot_chose(out, s, &info, &st);
            return EK3_OK;
        }
        return EK3_ENOENT;
    }
    boot_state st = sc.last;
    if (st.trial >= 0) {
        unsigned t = (unsigned)st.trial;
        if (st.attempts < BOOT_TRIAL_ATTEMPTS) {
            if (!boot_verify(c, t, st.security, &info, &why)) {
                st.attempts++; /* recorded before the image runs: a trial that never confirms is reverted */
                st.reverted = 0;
                rc = boot_append(c, &sc, &st);
                if (rc)
                    return rc;
                boot_chose(out, t, &info, &st);
                out->trial = 1;
                return EK3_OK;
            }
            out->refused[t] = why;
        }
        st.trial = -1; /* attempted and never confirmed, or no longer valid: revert */
        st.attempts = 0;
        st.reverted = 1;
        rc = boot_append(c, &sc, &st);
        if (rc)
            return rc;
        out->reverted = 1;
    }
    unsigned s = st.confirmed;
    if (!boot_verify(c, s, st.security, &info, &why)) {
        boot_chose(out, s, &info, &st);
        return EK3_OK;
    }
    out->refused[s] = why;
    unsigned o = 1u - s;
    if (boot_verify(c, o, st.security, &info, &why)) {
        out->refused[o] = why;
        return EK3_ENOENT;
    }
    st.confirmed = (uint8_t)o; /* the confirmed image is gone: the other one is */
    rc = boot_append(c, &sc, &st);
    if (rc)
        return rc;
    boot_chose(out, o, &info, &st);
    return EK3_OK;
}

/* The slot staging may write: the one not running, when the running
 * one is the confirmed one and no trial is pending. */
static int boot_target(const boot_cfg *c, unsigned running, boot_scan *sc, unsigned *target)
{
    if (!c || !c->verify || running >= BOOT_SLOTS)
        return EK3_EINVAL;
    int rc = boot_scan_all(c, sc);
    if (rc)
        return rc;
    if (sc->have && (sc->last.trial >= 0 || sc->last.confirmed != running))
        return EK3_EBUSY;
    *target = 1u - running;
    return EK3_OK;
}

int boot_stage_begin(const boot_cfg *c, unsigned running_slot)
{
    boot_scan sc;
    unsigned t;
    int rc = boot_target(c, running_slot, &sc, &t);
    if (rc)
        return rc;
    /* Zeros over the first double word (allowed over anything), then
     * the pages from the last to the first: a cut anywhere leaves page 0
     * with the mark, or page 0 being erased (its first double word
     * blank or torn), and either reads as extent 0. */
    static const uint8_t zeros[8] = {0};
    uint32_t base = boot_slot_off(t);
    rc = hal_flash_write(c->hw, base, zeros, sizeof zeros);
    for (uint32_t p = BRD_SLOT_SIZE; !rc && p > 0; p -= BRD_FLASH_PAGE)
        rc = hal_flash_erase(c->hw, base + p - BRD_FLASH_PAGE, BRD_FLASH_PAGE);
    return rc;
}

int boot_stage_write(const boot_cfg *c, unsigned running_slot, uint32_t off, const void *buf, uint32_t n)
{
    boot_scan sc;
    unsigned t;
    int rc = boot_target(c, running_slot, &sc, &t);
    if (rc)
        return rc;
    if (!buf || off % 8u || n % 8u)
        return EK3_EINVAL;
    if (off > BRD_SLOT_SIZE || n > BRD_SLOT_SIZE - off)
        return EK3_ERANGE;
    const uint8_t *b = buf;
    uint32_t base = boot_slot_off(t) + off;
    for (uint32_t i = 0; i < n; i += 8u) {
        uint8_t cur[8];
        rc = hal_flash_read(c->hw, base + i, cur, sizeof cur);
        if (rc)
            return rc; /* torn: boot_stage_extent re-erases its page */
        if (!memcmp(cur, b + i, 8))
            continue; /* already there (a resume), or all 1s: nothing to program */
        if (!boot_all(cur, 8, 0xFF))
            return EK3_EIO; /* programmed with something else: stage again from begin */
        rc = hal_flash_write(c->hw, base + i, b + i, 8);
        if (rc)
            return rc;
    }
    return EK3_OK;
}

int boot_stage_extent(const boot_cfg *c, unsigned running_slot, uint32_t *bytes)
{
    boot_scan sc;
    unsigned t;
    int rc = boot_target(c, running_slot, &sc, &t);
    if (rc)
        return rc;
    if (!bytes)
        return EK3_EINVAL;
    *bytes = 0;
    uint32_t base = boot_slot_off(t), end = 0, torn = BRD_SLOT_SIZE;
    for (uint32_t o = 0; o < BRD_SLOT_SIZE && torn == BRD_SLOT_SIZE; o += BOOT_CHUNK) {
        uint8_t b[BOOT_CHUNK];
        int crc = hal_flash_read(c->hw, base + o, b, sizeof b);
        if (crc && crc != EK3_EIO)
            return crc;
        for (uint32_t d = 0; d < BOOT_CHUNK; d += 8u) {
            if (crc == EK3_EIO && hal_flash_read(c->hw, base + o + d, b + d, 8) == EK3_EIO) {
                torn = o + d;
                break;
            }
            if (o + d == 0 && (boot_all(b, 8, 0xFF) || boot_all(b, 8, 0)))
                return EK3_OK; /* nothing staged, or begin's mark (a cut during begin): stage from begin */
            if (!boot_all(b + d, 8, 0xFF))
                end = o + d + 8u;
        }
    }
    if (torn < BRD_SLOT_SIZE) {
        /* A torn double word (an ECC error): only an erase makes it
         * programmable again, so its page is erased and the extent is
         * the page's start (page 0: stage from begin). */
        uint32_t page = torn / BRD_FLASH_PAGE * BRD_FLASH_PAGE;
        rc = hal_flash_erase(c->hw, base + page, BRD_FLASH_PAGE);
        if (!rc)
            *bytes = page;
        return rc;
    }
    *bytes = end;
    return EK3_OK;
}

int boot_stage_finish(const boot_cfg *c, unsigned running_slot, fwimg_info *info, fwimg_why *why)
{
    boot_scan sc;
    unsigned t;
    fwimg_info i2;
    fwimg_why w2;
    int rc = boot_target(c, running_slot, &sc, &t);
    if (rc)
        return rc;
    return boot_verify(c, t, sc.have ? sc.last.security : 0, info ? info : &i2, why ? why : &w2);
}

int boot_request_trial(const boot_cfg *c, unsigned running_slot)
{
    boot_scan sc;
    unsigned t;
    int rc = boot_target(c, running_slot, &sc, &t);
    if (rc)
        return rc;
    fwimg_info info;
    fwimg_why why;
    boot_state st = sc.last;
    if (!sc.have) {
        memset(&st, 0, sizeof st);
        st.confirmed = (uint8_t)running_slot;
    }
    if (boot_verify(c, t, st.security, &info, &why))
        return EK3_ENOENT;
    st.trial = (int)t;
    st.attempts = 0;
    st.reverted = 0;
    return boot_append(c, &sc, &st);
}

int boot_confirm(const boot_cfg *c, const boot_choice *running)
{
    if (!c || !c->verify || !running)
        return EK3_EINVAL;
    boot_scan sc;
    int rc = boot_scan_all(c, &sc);
    if (rc)
        return rc;
    boot_state st = sc.last;
    if (!running->trial || !sc.have || st.trial != (int)running->slot || !st.attempts)
        return EK3_EBUSY;
    fwimg_info info;
    fwimg_why why;
    rc = boot_verify(c, running->slot, st.security, &info, &why);
    if (rc)
        return rc;
    st.confirmed = (uint8_t)running->slot;
    st.trial = -1;
    st.attempts = 0;
    st.reverted = 0;
    if (info.hdr.security > st.security)
        st.security = info.hdr.security; /* the floor rises, never falls */
    return boot_append(c, &sc, &st);
}
