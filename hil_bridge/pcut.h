/*
 * pcut.h - the power-cut runner (prefix pcut_): a workload against the
 * emulated flash (flashemu.h), cut at every program and erase in turn.
 *
 * The workload is a sequence of steps (append record i, write chunk i,
 * ...) over a state that is plain data (copied with memcpy, no pointers)
 * and the flash. The runner runs it once uncut (the golden run); before
 * each step it keeps a copy of device and state, and for every flash
 * operation j of that step it forks the copy, cuts the power at j, runs
 * the step into the cut, powers on, boots (the service recovers from
 * flash alone: a fresh state), redoes the step (the firmware redoes what
 * was in flight: the event is still in the kernel's RAM ring), and asks
 * the workload's check to compare the device with the golden one after
 * that step. Exhaustive: every operation of every step.
 *
 * Pairs: for every pair_every-th cut (0: none) a second cut is drawn
 * (seeded) among the operations of the recovery (the boot and the redone
 * step), then the recovery is run again uncut and checked the same way.
 */
#ifndef PCUT_H
#define PCUT_H

#include <stddef.h>
#include <stdint.h>

#include "flashemu.h"

typedef struct pcut_workload {
    size_t state_size;
    /* Recover from flash into a fresh (zeroed) state. 0 or an error. */
    int (*boot)(void *st, hal hw, void *ctx);
    /* Step i. 0 or an error (expected when the power is cut). */
    int (*step)(void *st, hal hw, unsigned i, void *ctx);
    /* After a cut in step i, recovery and step i redone on `hw`: is
     * every invariant kept, against `golden` after step i? 0, or an error
     * with why filled. *lost: committed items lost (counted). */
    int (*check)(const void *st, hal hw, hal golden, unsigned i, void *ctx, unsigned *lost, char *why,
                 size_t cap);
    void *ctx;
} pcut_workload;

typedef struct pcut_config {
    unsigned steps;        /* steps of the workload */
    fle_config flash;      /* the device (cut_at is the runner's) */
    const fle *start;      /* the device the golden run starts from (its cells and wear: a factory-programmed
                              module; cfg.cut_at ignored), or NULL: fle_init of flash, all erased */
    uint64_t seed;         /* the second cuts' draws */
    unsigned pair_every;   /* a pair for every pair_every-th cut (0: none) */
} pcut_config;

typedef struct pcut_result {
    uint64_t ops;          /* flash operations of the golden run */
    uint64_t cuts;         /* single cuts run */
    uint64_t pairs;        /* second cuts run */
    uint64_t lost;         /* committed items lost, all cuts together */
    uint64_t failures;     /* cuts after which a check failed */
    unsigned fail_step;    /* the first failure: step, operation number, why */
    uint64_t fail_op, fail_op2;
    char why[256];
} pcut_result;

/* Run the campaign. 0 when the golden run and every recovery worked
 * (check failures are counted in r, not returned); EK3_EIO when the
 * golden run's step failed (r->why says which), EK3_EINVAL for a
 * workload without state or callbacks. */
int pcut_run(const pcut_config *c, const pcut_workload *w, pcut_result *r);

#endif /* PCUT_H */
