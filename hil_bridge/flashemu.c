/* flashemu.c - the emulated STM32G474 flash: double words with ECC, page
 * erase, and the seeded faults of its configuration (flashemu.h). */
#include "flashemu.h"

#include <stddef.h>
#include <string.h>

#include "ek3_err.h"
#include "ek3_rng.h"
#include "host_crypto.h"

/* The side table's nibble of double word d. */
static unsigned fle_dwf(const fle *f, uint32_t d)
{
    return (f->dw[d >> 1] >> ((d & 1u) * 4u)) & 0xFu;
}

static void fle_dwf_set(fle *f, uint32_t d, unsigned v)
{
    unsigned sh = (d & 1u) * 4u;
    f->dw[d >> 1] = (uint8_t)((f->dw[d >> 1] & ~(0xFu << sh)) | ((v & 0xFu) << sh));
}

static uint64_t fle_draw(fle *f)
{
    return ek3_rng_splitmix64(&f->rng);
}

int fle_init(fle *f, const fle_config *cfg)
{
    fle_config c = *cfg; /* cfg may point into f */
    /* Everything 0 but the cells (all 1s, below): one pass over the 512 KiB. */
    memset(f, 0, offsetof(fle, mem));
    memset(f->dw, 0, sizeof *f - offsetof(fle, dw));
    int rc = EK3_OK;
    if (!c.size)
        c.size = FLE_MAX_SIZE;
    if (!c.bank_size)
        c.bank_size = c.size / 2u;
    if (c.size > FLE_MAX_SIZE || c.size % FLE_PAGE || c.bank_size % FLE_PAGE || !c.bank_size ||
        c.bank_size > c.size) {
        memset(&c, 0, sizeof c);
        c.size = FLE_MAX_SIZE;
        c.bank_size = FLE_MAX_SIZE / 2u;
        rc = EK3_EINVAL;
    }
    if (!c.endurance)
        c.endurance = FLE_ENDURANCE;
    f->cfg = c;
    f->rng = c.seed ^ 0x9E3779B97F4A7C15ull;
    memset(f->mem, 0xFF, sizeof f->mem);
    return rc;
}

void fle_power_on(fle *f)
{
    f->off = 0;
}

int fle_is_off(const fle *f)
{
    return f->off;
}

unsigned fle_bank(const fle *f, uint32_t off)
{
    return off >= f->cfg.bank_size ? 1u : 0u;
}

static int fle_in(const fle *f, uint32_t off, size_t n)
{
    return off <= f->cfg.size && n <= f->cfg.size - off;
}

/* One operation starts: is it the one the power fails in? */
static int fle_cut_now(fle *f)
{
    f->st.ops++;
    if (f->cfg.cut_at && f->st.ops == f->cfg.cut_at) {
        f->st.cuts++;
        f->off = 1;
        return 1;
    }
    return 0;
}

/* A read of page p: every disturb_reads-th one flips a bit of one of its
 * programmed double words (ECC: one flip corrected, two ECCD). */
static void fle_disturb(fle *f, unsigned p)
{
    if (!f->cfg.disturb_reads || ++f->page_reads[p] % f->cfg.disturb_reads)
        return;
    unsigned per = FLE_PAGE / FLE_DW, start = (unsigned)(fle_draw(f) % per);
    for (unsigned i = 0; i < per; i++) {
        unsigned d = p * per + (start + i) % per;
        unsigned v = fle_dwf(f, d);
        if (!(v & FLE_DW_PROG) || (v & FLE_DW_ECCD))
            continue;
        unsigned flips = (v & FLE_DW_FLIPS) + 1u;
        v = (v & ~FLE_DW_FLIPS) | (flips > 3u ? 3u : flips);
        if (flips >= 2u)
            v |= FLE_DW_ECCD;
        fle_dwf_set(f, d, v);
        return;
    }
}

int fle_read(fle *f, uint32_t off, void *buf, size_t n)
{
    if (!fle_in(f, off, n))
        return EK3_ERANGE;
    uint8_t *out = buf;
    memset(out, 0xFF, n);
    if (f->off)
        return EK3_EIO;
    f->st.reads++;
    int rc = EK3_OK;
    for (size_t i = 0; i < n;) {
        uint32_t a = off + (uint32_t)i, d = a / FLE_DW;
        size_t take = FLE_DW - a % FLE_DW;
        if (take > n - i)
            take = n - i;
        if (fle_dwf(f, d) & FLE_DW_ECCD) {
            f->st.ecc_errors++;
            rc = EK3_EIO;
            break;
        }
        if (fle_dwf(f, d) & FLE_DW_FLIPS)
            f->st.ecc_corrected++;
        memcpy(out + i, f->mem + a, take);
        i += take;
    }
    uint32_t first = off / FLE_PAGE, last = n ? (uint32_t)((off + n - 1) / FLE_PAGE) : first;
    for (uint32_t p = first; n && p <= last; p++)
        fle_disturb(f, p);
    return rc;
}

static int fle_blank(const fle *f, uint32_t d)
{
    static const uint8_t ones[FLE_DW] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    return !(fle_dwf(f, d) & (FLE_DW_PROG | FLE_DW_ECCD)) && !memcmp(f->mem + d * FLE_DW, ones, FLE_DW);
}

static int fle_zeros(const uint8_t *v)
{
    for (unsigned i = 0; i < FLE_DW; i++)
        if (v[i])
            return 0;
    return 1;
}

/* What a cut leaves of one double word being programmed to v. */
static void fle_torn_program(fle *f, uint32_t d, const uint8_t *v)
{
    uint8_t *m = f->mem + d * FLE_DW;
    switch (fle_draw(f) % 4u) {
    case 0: /* the cut came first: nothing */
        return;
    case 1: /* the cells were done, EOP was not seen */
        memcpy(m, v, FLE_DW);
        fle_dwf_set(f, d, FLE_DW_PROG);
        return;
    default: { /* half-way: some of the bits to clear cleared */
        uint64_t keep = fle_draw(f);
        for (unsigned i = 0; i < FLE_DW; i++)
            m[i] = (uint8_t)(m[i] & (v[i] | (uint8_t)(keep >> (8 * i))));
        fle_dwf_set(f, d, (fle_draw(f) & 1u) ? FLE_DW_PROG | FLE_DW_ECCD : FLE_DW_PROG); /* ECCD: the ECC bits torn too */
        return;
    }
    }
}

/* The checks every program and erase starts with: inside the device,
 * whole units (double words, pages), the power on. */
static int fle_may(const fle *f, uint32_t off, size_t n, uint32_t unit)
{
    if (!fle_in(f, off, n))
        return EK3_ERANGE;
    if (off % unit || n % unit)
        return EK3_EINVAL;
    return f->off ? EK3_EIO : EK3_OK;
}

int fle_program(fle *f, uint32_t off, const void *buf, size_t n)
{
    int rc = fle_may(f, off, n, FLE_DW);
    if (rc)
        return rc;
    const uint8_t *b = buf;
    for (size_t i = 0; i < n; i += FLE_DW) {
        uint32_t d = (off + (uint32_t)i) / FLE_DW;
        int zero = fle_zeros(b + i);
        if (!fle_blank(f, d) && !zero) {
            f->st.progerr++;
            return EK3_EIO;
        }
        if (fle_cut_now(f)) {
            fle_torn_program(f, d, b + i);
            return EK3_EIO;
        }
        f->st.programs++;
        f->st.bytes_programmed += FLE_DW;
        memcpy(f->mem + d * FLE_DW, b + i, FLE_DW);
        fle_dwf_set(f, d, FLE_DW_PROG); /* a zero write over anything: zeros, ECC good */
    }
    return EK3_OK;
}

/* A page erased past its endurance: some double words keep a bit at 0. */
static void fle_wear(fle *f, unsigned p)
{
    uint32_t over = f->erase_count[p] - f->cfg.endurance;
    if (over == 1)
        f->st.worn_pages++;
    unsigned per = FLE_PAGE / FLE_DW, stuck = 1u + over / 100u;
    for (unsigned i = 0; i < stuck && i < per; i++) {
        uint64_t r = fle_draw(f);
        unsigned d = p * per + (unsigned)(r % per);
        f->mem[d * FLE_DW + (r >> 32) % FLE_DW] &= (uint8_t)~(1u << ((r >> 40) % 8u));
    }
}

int fle_erase(fle *f, uint32_t off, size_t n)
{
    int rc = fle_may(f, off, n, FLE_PAGE);
    if (rc)
        return rc;
    unsigned per = FLE_PAGE / FLE_DW;
    for (uint32_t p = off / FLE_PAGE; p < (off + n) / FLE_PAGE; p++) {
        f->erase_count[p]++;
        f->page_reads[p] = 0;
        if (fle_cut_now(f)) { /* part of the page erased */
            for (unsigned i = 0; i < per; i++) {
                unsigned d = p * per + i;
                uint64_t r = fle_draw(f) % 10u;
                if (r < 5u) {
                    memset(f->mem + d * FLE_DW, 0xFF, FLE_DW);
                    fle_dwf_set(f, d, 0);
                } else if (r == 9u) {
                    uint64_t set = fle_draw(f);
                    for (unsigned j = 0; j < FLE_DW; j++)
                        f->mem[d * FLE_DW + j] |= (uint8_t)(set >> (8 * j));
                    fle_dwf_set(f, d, fle_dwf(f, d) | FLE_DW_ECCD);
                }
            }
            return EK3_EIO;
        }
        f->st.erases++;
        memset(f->mem + p * FLE_PAGE, 0xFF, FLE_PAGE);
        memset(f->dw + p * per / 2u, 0, per / 2u);
        if (f->erase_count[p] > f->cfg.endurance)
            fle_wear(f, p);
    }
    return EK3_OK;
}

static int fle_hal_read(void *ctx, uint32_t off, void *buf, size_t n)
{
    return fle_read(ctx, off, buf, n);
}

static int fle_hal_write(void *ctx, uint32_t off, const void *buf, size_t n)
{
    return fle_program(ctx, off, buf, n);
}

static int fle_hal_erase(void *ctx, uint32_t off, size_t n)
{
    return fle_erase(ctx, off, n);
}

static const hal_ops fle_ops = {
    .flash_read = fle_hal_read,
    .flash_write = fle_hal_write,
    .flash_erase = fle_hal_erase,
    .flash_size = FLE_MAX_SIZE,
    .crypto = {hostcrypto_cmac, NULL},
};

hal fle_hal(fle *f)
{
    hal h = {&fle_ops, f};
    return h;
}
