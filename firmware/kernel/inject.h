/*
 * inject.h - faults the rig injects into a running kernel, on purpose
 * and reproducibly (prefix inj_). Each is recorded as an audit event;
 * the random choices come from the kernel's seeded generator, so the
 * same seed gives the same fault. Scenarios script them.
 */
#ifndef INJECT_H
#define INJECT_H

#include <stdint.h>

#include "jz.h"

typedef enum inj_kind {
    INJ_CRASH,   /* the service faults now */
    INJ_HANG,    /* the service stops taking messages (a deadlock) */
    INJ_FLOOD,   /* param junk messages are posted to it */
    INJ_CORRUPT, /* a random bit of the next message posted to it flips */
    INJ_STALL,   /* the kernel loop stops for param ms (watchdog) */
    INJ_STRAY,   /* its next dispatch writes into service param's region */
    INJ_KIND_COUNT_
} inj_kind;

/* Inject a fault into service `svc` (ignored for INJ_STALL). 0, or
 * EK3_ENOENT (no such service), EK3_EINVAL (bad kind or param). */
int inj_fault(jz_kernel *k, inj_kind kind, unsigned svc, uint32_t param);

/* Kind by name ("crash", "hang", ...), or EK3_ENOENT. */
int inj_parse(const char *name);

/* Name of a kind. */
const char *inj_name(unsigned kind);

#endif /* INJECT_H */
