/*
 * mpu.h - memory regions of the services and their Cortex-M4 MPU
 * encoding (prefix mpu_).
 *
 * The kernel gives each service one region of a pool for its state.
 * mpu_plan places the regions: on the Cortex-M4 (ARMv7-M PMSAv7) each
 * region is a power of two of at least 32 bytes, aligned to its size;
 * on the host (strict mode, mprotect) each is a whole number of pages.
 * mpu_rbar/mpu_rasr give the register values the target programs.
 */
#ifndef MPU_H
#define MPU_H

#include <stddef.h>
#include <stdint.h>

#include "hal.h"

#define MPU_MIN_REGION 32u

/* Access permissions of RASR.AP (ARMv7-M B3.5.9). */
enum {
    MPU_AP_NONE = 0,      /* no access, privileged or not */
    MPU_AP_PRIV_RW = 1,   /* privileged read/write only */
    MPU_AP_RW = 3,        /* full access */
    MPU_AP_PRIV_RO = 5,
    MPU_AP_RO = 6
};

/* Place n regions of the given sizes in the pool [base, base+pool_size).
 * granule: the host page size, or MPU_MIN_REGION with pow2 set for the
 * Cortex-M4. Each out[i].size is the rounded size. Returns the bytes of
 * the pool used, or EK3_ENOSPC when they do not fit, EK3_EINVAL for a
 * bad granule or a pool base not aligned for the largest region. */
long mpu_plan(const size_t *sizes, unsigned n, uintptr_t base, size_t pool_size, size_t granule, int pow2,
              hal_region *out);

/* RBAR value for a region: base | VALID | region number (0..7). */
uint32_t mpu_rbar(uintptr_t base, unsigned region);

/* RASR value: execute-never, access permissions, normal write-back
 * memory (TEX=1, C=1, B=1, S=0), no subregions disabled, SIZE =
 * log2(size)-1, ENABLE. size must be a power of two >= 32, else 0. */
uint32_t mpu_rasr(size_t size, unsigned ap, int xn);

#endif /* MPU_H */
