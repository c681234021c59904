/*
 * audit.h - the kernel's audit trail (prefix audit_): a fixed ring of
 * events (crashes, restarts, shutdowns, refusals, resets, injections),
 * oldest overwritten first, with a running total so a reader can tell
 * how many it missed. The AUDIT_LOGGER service drains it to flash.
 */
#ifndef AUDIT_H
#define AUDIT_H

#include <stdint.h>

#ifndef AUDIT_DEPTH
#define AUDIT_DEPTH 64u
#endif
_Static_assert(AUDIT_DEPTH >= 8 && (AUDIT_DEPTH & (AUDIT_DEPTH - 1)) == 0, "a power of two, so the ring survives the total's wrap");

typedef enum audit_kind {
    AUDIT_BOOT,          /* kernel started (arg: reset count) */
    AUDIT_CRASH,         /* service crashed (reason: jz_crash_reason) */
    AUDIT_RESTART,       /* service restarted (arg: us since its crash) */
    AUDIT_SAFE_SHUTDOWN, /* a critical service failed: power stage off */
    AUDIT_DENIED,        /* IPC refused by the allow-list (arg: destination) */
    AUDIT_CORRUPT,       /* a message failed its check and was dropped */
    AUDIT_LATE_REPLY,    /* a reply came after its request timed out */
    AUDIT_INJECT,        /* a fault was injected (reason: inj_kind) */
    AUDIT_WATCHDOG,      /* the kernel loop stalled: reset by the watchdog */
    AUDIT_KIND_COUNT_
} audit_kind;

typedef struct audit_event {
    int64_t t_ns;
    uint8_t kind;   /* audit_kind */
    uint8_t svc;    /* service id (0: the kernel) */
    uint8_t reason;
    int32_t arg;
} audit_event;

typedef struct audit_log {
    audit_event ev[AUDIT_DEPTH];
    uint32_t total; /* events ever recorded */
} audit_log;

/* Record an event. Never fails: the oldest event gives way. */
void audit_record(audit_log *a, int64_t t_ns, audit_kind kind, unsigned svc, unsigned reason, int32_t arg);

/* Event number i (0 = the oldest still held). NULL when i is past the end. */
const audit_event *audit_get(const audit_log *a, uint32_t i);

/* Events held now (at most AUDIT_DEPTH). */
uint32_t audit_count(const audit_log *a);

/* Name of a kind ("CRASH"). */
const char *audit_kind_name(unsigned kind);

#endif /* AUDIT_H */
