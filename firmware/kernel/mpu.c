/* mpu.c - region placement and Cortex-M4 MPU register values. */
#include "mpu.h"

#include "ek3_err.h"

static size_t mpu_pow2_at_least(size_t n)
{
    size_t p = MPU_MIN_REGION;
    while (p < n)
        p <<= 1;
    return p;
}

long mpu_plan(const size_t *sizes, unsigned n, uintptr_t base, size_t pool_size, size_t granule, int pow2,
              hal_region *out)
{
    if (!sizes || !out || granule == 0 || (granule & (granule - 1)))
        return EK3_EINVAL;
    size_t rounded[32];
    unsigned order[32];
    if (n > 32)
        return EK3_EINVAL;
    for (unsigned i = 0; i < n; i++) {
        size_t s = sizes[i] ? sizes[i] : 1;
        rounded[i] = pow2 ? mpu_pow2_at_least(s < granule ? granule : s) : (s + granule - 1) & ~(granule - 1);
        order[i] = i;
    }
    /* largest first: with power-of-two sizes every offset stays aligned */
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && rounded[order[j]] > rounded[order[j - 1]]; j--) {
            unsigned t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    size_t align = n ? (pow2 ? rounded[order[0]] : granule) : granule;
    if (base & (align - 1))
        return EK3_EINVAL;
    size_t off = 0;
    for (unsigned k = 0; k < n; k++) {
        unsigned i = order[k];
        if (rounded[i] > pool_size - off || off > pool_size)
            return EK3_ENOSPC;
        out[i].base = base + off;
        out[i].size = rounded[i];
        off += rounded[i];
    }
    return (long)off;
}

uint32_t mpu_rbar(uintptr_t base, unsigned region)
{
    return ((uint32_t)base & ~0x1Fu) | (1u << 4) | (region & 0xFu);
}

uint32_t mpu_rasr(size_t size, unsigned ap, int xn)
{
    if (size < MPU_MIN_REGION || (size & (size - 1)))
        return 0;
    unsigned log2 = 0;
    while (((size_t)1 << log2) < size)
        log2++;
    return (xn ? 1u << 28 : 0u) | (ap & 7u) << 24 | 1u << 19 /* TEX=1 */ | 1u << 17 /* C */ | 1u << 16 /* B */ |
           (log2 - 1u) << 1 | 1u;
}
