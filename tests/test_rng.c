/* test_rng.c - the seeded generators (ek3_rng.h) give their reference
 * sequences: every rack run's bit-for-bit reproduction rests on them. */
#include <criterion/criterion.h>

#include "ek3_rng.h"

/* SplitMix64 from state 1234567: the reference code's first outputs
 * (Vigna's splitmix64.c; the same as Java's SplittableRandom). */
Test(rng, splitmix64_reference_sequence)
{
    static const uint64_t want[5] = {6457827717110365317ull, 3203168211198807973ull, 9817491932198370423ull,
                                     4593380528125082431ull, 16408922859458223821ull};
    uint64_t s = 1234567;
    for (int i = 0; i < 5; i++)
        cr_assert_eq(ek3_rng_splitmix64(&s), want[i], "output %d", i);
    cr_assert_eq(s, 1234567 + 5 * EK3_RNG_GAMMA, "the state advances by the gamma per output");
}

/* xorshift64* (12, 25, 27; multiplier 2685821657736338717) from state 1. */
Test(rng, xorshift64s_reference_sequence)
{
    static const uint64_t want[3] = {0x47e4ce4b896cdd1dull, 0xabcfa6a8e079651dull, 0xb9d10d8feb731f57ull};
    uint64_t s = 1;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(ek3_rng_xorshift64s(&s), want[i], "output %d", i);
}
