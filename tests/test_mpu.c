/* test_mpu.c - region placement and the ARMv7-M MPU register values. */
#include <criterion/criterion.h>

#include "ek3_err.h"
#include "mpu.h"

Test(mpu, cortex_m4_regions_are_powers_of_two_aligned_to_their_size)
{
    size_t sizes[] = {100, 4096, 33, 2000, 1};
    hal_region out[5];
    long used = mpu_plan(sizes, 5, 0x20008000u, 0x8000, MPU_MIN_REGION, 1, out);
    cr_assert_eq(used, 128 + 4096 + 64 + 2048 + 32);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(out[i].size & (out[i].size - 1), 0u, "power of two");
        cr_assert_geq(out[i].size, sizes[i]);
        cr_assert_eq(out[i].base % out[i].size, 0u, "aligned to its size");
        for (int j = 0; j < i; j++)
            cr_assert(out[i].base + out[i].size <= out[j].base || out[j].base + out[j].size <= out[i].base,
                      "regions %d and %d overlap", i, j);
    }
    cr_assert_eq(out[1].base, 0x20008000u, "the largest first");
}

Test(mpu, host_regions_are_whole_pages)
{
    size_t sizes[] = {10, 5000};
    hal_region out[2];
    cr_assert_eq(mpu_plan(sizes, 2, 0x100000, 0x10000, 4096, 0, out), 4096 + 8192);
    cr_assert_eq(out[0].size, 4096u);
    cr_assert_eq(out[1].size, 8192u);
    cr_assert_eq(mpu_plan(sizes, 2, 0x100000, 0x2000, 4096, 0, out), EK3_ENOSPC);
    cr_assert_eq(mpu_plan(sizes, 2, 0x100010, 0x10000, 4096, 0, out), EK3_EINVAL, "unaligned pool");
    cr_assert_eq(mpu_plan(sizes, 2, 0x100000, 0x10000, 3000, 0, out), EK3_EINVAL, "granule not a power of two");
}

/* ARMv7-M ARM B3.5.8/B3.5.9: RBAR = ADDR | VALID<<4 | REGION; RASR =
 * XN<<28 | AP<<24 | TEX<<19 | S<<18 | C<<17 | B<<16 | SRD<<8 | SIZE<<1 | EN,
 * region bytes = 2^(SIZE+1). */
Test(mpu, register_values_follow_the_architecture_manual)
{
    cr_assert_eq(mpu_rbar(0x20001000u, 3), 0x20001013u);
    cr_assert_eq(mpu_rasr(4096, MPU_AP_RW, 1), 0x130B0017u); /* XN, AP=3, TEX=1 C B, SIZE=11, EN */
    cr_assert_eq(mpu_rasr(32, MPU_AP_NONE, 1), 0x100B0009u);  /* SIZE=4 */
    cr_assert_eq(mpu_rasr(512 * 1024, MPU_AP_PRIV_RO, 0), 0x050B0025u); /* flash: SIZE=18 */
    cr_assert_eq(mpu_rasr(48, MPU_AP_RW, 1), 0u, "not a power of two");
    cr_assert_eq(mpu_rasr(16, MPU_AP_RW, 1), 0u, "below 32 bytes");
}
