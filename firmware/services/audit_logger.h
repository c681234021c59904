/*
 * audit_logger.h - the AUDIT_LOGGER service (prefix alog_): drains the
 * kernel's audit trail (audit.h) into the module's flash, so crashes,
 * restarts and shutdowns survive a reset and can be read out later.
 *
 * The log is a ring of 32-byte records over the flash area's pages from
 * ALOG_FIRST_PAGE on (page 0 is configuration). Each record carries a
 * running record number, the audit event's number, the event, and a
 * CRC-16; a record torn by a power loss fails its CRC and is skipped.
 * When the ring is full the oldest page is erased. The service keeps no
 * state that matters across a restart: a fresh instance finds its place
 * by scanning the flash, and continues after the last event it wrote.
 *
 * Non-critical (seed 5.3): when it crashes the Reincarnation Server
 * restarts it and the kernel loses nothing, because the audit ring
 * holds AUDIT_DEPTH events meanwhile.
 */
#ifndef AUDIT_LOGGER_H
#define AUDIT_LOGGER_H

#include <stdint.h>

#include "jz.h"

#define ALOG_PAGE 2048u        /* flash page (STM32G474, both banks) */
#define ALOG_FIRST_PAGE 2u     /* page 0 holds configuration, page 1 SWARM_COORD's term and vote */
#define ALOG_RECORD 32u
#define ALOG_PER_TICK 8u       /* records written per tick, at most */
#define ALOG_PERIOD_US 100000u /* 10 Hz */

/* One record as stored (little-endian on both host and target). */
typedef struct alog_record {
    uint32_t seq;   /* record number, 0, 1, 2, ... never reused */
    uint32_t ev_no; /* the audit event's number (audit_log.total when recorded) */
    int64_t t_ns;
    int32_t arg;
    uint32_t resets; /* the kernel's reset count when written */
    uint8_t kind, svc, reason, spare;
    uint16_t spare2;
    uint16_t crc;   /* CRC-16/CCITT of the 30 bytes before it */
} alog_record;

_Static_assert(sizeof(alog_record) == ALOG_RECORD, "record layout");

/* The service's state (its whole memory region). */
typedef struct alog_state {
    uint32_t write_off; /* flash offset of the next record */
    uint32_t next_seq;
    uint32_t next_ev;   /* the next audit event number to write */
    uint32_t written, lost, errors;
} alog_state;

/* The service's two entry points (jz_service_def.init and .handle). */
int alog_init(void *state, jz_kernel *k, unsigned me);
int alog_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m);

/* The service definition, for a service table: priority 2, 10 Hz,
 * watched with a 1 s heartbeat, sends to nobody. */
#define ALOG_SERVICE(allow)                                                                            \
    {                                                                                                   \
        .name = "AUDIT_LOGGER", .prio = 2, .critical = 0, .queue_depth = 4, .period_us = ALOG_PERIOD_US, \
        .heartbeat_ms = 1000, .allow_to = (allow), .state_size = sizeof(alog_state), .init = alog_init,       \
        .handle = alog_handle                                                                           \
    }

/* Read record slot i of the log in flash (for tools and tests): 0, or
 * EK3_ENOENT for an erased or torn slot, EK3_ERANGE past the end. */
int alog_read(hal hw, unsigned i, alog_record *out);

/* Number of record slots in the log area of this hal. */
unsigned alog_slots(hal hw);

#endif /* AUDIT_LOGGER_H */
