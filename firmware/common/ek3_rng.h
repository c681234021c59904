/*
 * ek3_rng.h - the seeded generators of the rig and the firmware (prefix
 * ek3_rng_): the one copy of each, static inline so the hot paths keep
 * them inlined. Not cryptographic: a fixed sequence per seed, the same
 * on every platform, so a run is reproduced bit for bit from its seed.
 */
#ifndef EK3_RNG_H
#define EK3_RNG_H

#include <stdint.h>

/* The golden-ratio increment 2^64 / phi (odd): splitmix64's gamma, and
 * the rig's way to spread one seed over several streams. */
#define EK3_RNG_GAMMA 0x9E3779B97F4A7C15ull

/* splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014; the reference code of Vigna's SplitMix64):
 * advance *state by EK3_RNG_GAMMA and return the mixed 64-bit output.
 * Every state is valid, 0 included. */
static inline uint64_t ek3_rng_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += EK3_RNG_GAMMA);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* xorshift64* (Vigna, "An experimental exploration of Marsaglia's
 * xorshift generators, scrambled", ACM TOMS 42(4), 2016; shifts 12, 25,
 * 27): advance *state and return the scrambled 64-bit output. The state
 * must not be 0 (it would stay 0); seed it non-zero. */
static inline uint64_t ek3_rng_xorshift64s(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

#endif /* EK3_RNG_H */
