/*
 * audit_logger.h - the AUDIT_LOGGER service (prefix alog_): drains the
 * kernel's audit trail (audit.h) into the module's flash as a
 * tamper-evident log that loses nothing committed when the power goes.
 *
 * The log area: the configuration area's pages (board.h BRD_CFG_OFF,
 * BRD_CFG_SIZE) from ALOG_FIRST_PAGE on (page 0 is CAN_HANDLER's
 * configuration, page 1 SWARM_COORD's term and vote), used
 * as a ring. Every write is whole 64-bit double words into erased flash
 * (the STM32G474's rule, hal.h).
 *
 * Page (2 KiB): a 32-byte header, then records back to back.
 *   header  0  chain_in[16]   the chain value before the page's first record
 *          16  page_no u32    pages started since the log began (0, 1, ...)
 *          20  next_seq u32   the number the page's first record gets
 *          24  boot u16, magic u16 (ALOG_PAGE_MAGIC), crc u32: CRC-32 of
 *              bytes 0..27. Programmed last: the page's commit.
 * Record (24 + len rounded up to 8 bytes):
 *           0  seq u32        record number: 0, 1, 2, ... one per committed record
 *           4  boot u16       the log's boot counter (one more than the last boot's)
 *           6  type u8, len u8 (payload bytes, at most ALOG_MAX_PAYLOAD)
 *           8  t_ns i64       the module's clock
 *          16  payload, zero-padded to a double word
 *        last  crc u32 (CRC-32 of everything before), tag u32: the commit
 *              double word, programmed after the rest.
 *
 * The chain: chain_n = AES-128-CMAC(node key, chain_{n-1} || the record
 * before its commit), and the record stores the first 4 bytes of chain_n
 * as its tag, so each record's tag covers the previous record's chain
 * value: an edited, removed or reordered record breaks every tag after
 * it. Why AES-CMAC: the firmware builds for the STM32G474 too, which has
 * no hash block and no Debian mbedTLS; it has soft_aes.c (AES-CMAC, the
 * frames' authentication), the host has mbedTLS, both behind hal
 * auth_crypto, so one chain runs on both. Keyed with the module's own key
 * (canh_config.key, derived from the rack key), the chain is tamper-
 * evident against anyone without the key (a SHA-256 chain is not: whoever
 * edits the log can recompute it). Only someone holding the rack key
 * (the station, `ek3 audit verify --key`) can check or forge it. A module
 * not provisioned chains under an all-zero key (integrity only).
 *
 * Power cuts: a record is committed when its commit double word reads
 * back right. A cut mid-record leaves its commit erased, torn (ECC error)
 * or wrong: the record is skipped, and the rest of its page is given up
 * (the next record goes to a fresh page), so at most the record in flight
 * is lost. A page header torn the same way makes the page unused.
 *
 * Rollover: one page ahead of the current one is always erased. Starting a
 * page reclaims the page after it (the oldest): its critical records
 * (alog_critical: protection trips, refused commands, updates) are first
 * copied forward as ALOG_T_CARRY records (the original, whole, as
 * payload; at most ALOG_CARRY_BUDGET bytes per page, and at most
 * ALOG_CARRY_GENS times, so they live that many rollovers longer than
 * the rest), then it is erased.
 * A cut between leaves copies twice at worst (the copy is skipped when the
 * new page already carries that record number).
 */
#ifndef AUDIT_LOGGER_H
#define AUDIT_LOGGER_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "jz.h"

#define ALOG_PAGE 2048u        /* flash page (STM32G474, both banks) */
#define ALOG_FIRST_PAGE 2u     /* of the configuration area: page 0 holds configuration, page 1 SWARM_COORD's term and vote */
#define ALOG_BASE (BRD_CFG_OFF + ALOG_FIRST_PAGE * ALOG_PAGE)  /* the log's first byte in the flash (board.h) */
#define ALOG_AREA (BRD_CFG_SIZE - ALOG_FIRST_PAGE * ALOG_PAGE) /* the log's bytes: 6 pages */
#define ALOG_PAGE_HDR 32u
#define ALOG_REC_HDR 16u
#define ALOG_MAX_PAYLOAD 240u  /* stored (len is a byte); a caller's payload is at most ALOG_MAX_USER */
#define ALOG_MAX_USER (ALOG_MAX_PAYLOAD - ALOG_REC_HDR) /* so that its carry fits */
#define ALOG_MAX_RECORD (ALOG_REC_HDR + ALOG_MAX_PAYLOAD + 8u)
#define ALOG_PAGE_MAGIC 0xA10Cu
#define ALOG_CARRY_BUDGET (ALOG_PAGE / 2u)
#define ALOG_PER_TICK 8u       /* records written per tick, at most (a batch is one) */
#define ALOG_PERIOD_US 100000u /* 10 Hz */

/* Record types: the kernel's audit kinds (audit_kind, payload alog_kev),
 * then records other services may add, then the carried copy. */
enum {
    ALOG_T_TRIP = 0x40,    /* a protection trip */
    ALOG_T_REFUSED = 0x41, /* a refused command */
    ALOG_T_UPDATE = 0x42,  /* a firmware update step */
    ALOG_T_EVENTS = 0x43,  /* a batch of kernel events that are not critical (below) */
    ALOG_T_CARRY = 0x7D    /* 0x7D..0x7F: a critical record carried forward the 1st..3rd time;
                            * payload: the original's first 16 bytes and payload */
};
#define ALOG_CARRY_GENS 3u /* a critical record outlives ALOG_CARRY_GENS more rollovers than others */

/* Is a record type a carried copy? */
#define ALOG_IS_CARRY(t) ((unsigned)(t) >= ALOG_T_CARRY && (unsigned)(t) < ALOG_T_CARRY + ALOG_CARRY_GENS)

/* The payload of a lone kernel audit event's record (12 bytes; a batch: ALOG_T_EVENTS). */
typedef struct alog_kev {
    uint32_t ev_no; /* the audit event's number (audit_log.total when recorded) */
    int32_t arg;
    uint8_t svc, reason;
    uint16_t resets; /* the kernel's reset count when written (low 16 bits) */
} alog_kev;
_Static_assert(sizeof(alog_kev) == 12, "kernel event payload");

/* ALOG_T_EVENTS: the kernel events the service drained in one tick, in
 * one record (they share its 24 bytes of header and commit), consecutive
 * event numbers, none critical (a critical event is a record of its own,
 * so that rollover carries exactly those), within 4.29 s of the first.
 * Payload (little-endian): first ev_no u32, resets u16, n u8, 0 u8, then
 * n entries of ALOG_EV_SIZE bytes: dt_ns u32 (the event's time after the
 * record's t_ns, the first event's), arg i32, kind u8, svc u8, reason u8,
 * 0 u8. */
#define ALOG_EVS_HDR 8u
#define ALOG_EV_SIZE 12u
#define ALOG_MAX_EVS ((ALOG_MAX_USER - ALOG_EVS_HDR) / ALOG_EV_SIZE) /* 18 */

/* One kernel event as read back from a record (either form). */
typedef struct alog_ev {
    uint32_t ev_no;
    int64_t t_ns;
    int32_t arg;
    uint8_t kind, svc, reason;
    uint16_t resets;
} alog_ev;

/* A record as read back (header fields, payload, where it is). */
typedef struct alog_rec {
    uint32_t seq;
    uint16_t boot;
    uint8_t type, len;
    int64_t t_ns;
    uint8_t payload[ALOG_MAX_PAYLOAD];
    uint32_t off; /* offset in the log area */
    uint8_t chain[16]; /* the chain value after it (read with a key; zeros without) */
} alog_rec;

typedef struct alog_stats {
    uint32_t records;        /* committed by this instance */
    uint32_t torn;           /* torn records and page headers found at open */
    uint32_t carried;        /* critical records copied forward */
    uint32_t crit_dropped;   /* critical records reclaimed past the carry budget */
    uint32_t errors;         /* failed flash operations */
    uint64_t content_bytes;  /* header + payload bytes committed (16 + len each) */
    uint64_t payload_bytes;  /* payload bytes committed (len each; carried copies not counted) */
} alog_stats;

/* The writer (no pointers: lives in the service's region). */
typedef struct alog_log {
    uint8_t key[16];
    uint8_t chain[16];   /* the chain value after the last committed record */
    uint32_t page_no;    /* number of the current page */
    uint32_t next_seq;
    uint16_t boot;
    uint16_t pages;      /* pages in the log area */
    uint16_t cur;        /* the current page (0 .. pages-1) */
    uint16_t pos;        /* offset of the next record in it (ALOG_PAGE: given up) */
    uint8_t have_page;   /* a current page exists */
    uint8_t have_last;
    alog_rec last;       /* the last committed record (have_last) */
    alog_stats st;
} alog_log;

/* The kernel events a record holds: 1 for a kernel event record (type
 * below AUDIT_KIND_COUNT_, payload alog_kev), n for ALOG_T_EVENTS, 0 for
 * any other record; EK3_EPARSE for a kernel event record or batch out of
 * shape (its length, count or reserved bytes). */
int alog_event_count(const alog_rec *r);

/* Event i (0 .. alog_event_count-1) of a record into *ev. 0, or
 * EK3_ERANGE (no such event), EK3_EPARSE (as alog_event_count). */
int alog_event(const alog_rec *r, unsigned i, alog_ev *ev);

/* Record types kept longer by rollover: SAFE_SHUTDOWN, WATCHDOG, DENIED
 * (kernel), TRIP, REFUSED, UPDATE. */
int alog_critical(unsigned type);

/* Find the log in hw's flash and the place to go on: the newest page,
 * its last committed record (chain, next seq, boot counter + 1); finish a
 * reclaim a power cut interrupted. key: the node key (16 bytes). 0, or
 * EK3_ENOSPC (fewer than 3 pages for the log), or the flash's error of an
 * interrupted reclaim's erase (the log is usable anyway). */
int alog_open(alog_log *l, hal hw, const uint8_t key[16]);

/* Commit one record: type (below ALOG_T_CARRY), time, payload (len <=
 * ALOG_MAX_USER; EK3_ERANGE otherwise). Starts a page (and reclaims the oldest) when the
 * record does not fit. 0, or the flash's error (EK3_EIO: the page is
 * given up, the record is not committed), EK3_ECRYPTO. */
int alog_append(alog_log *l, hal hw, unsigned type, int64_t t_ns, const void *payload, unsigned len);

/* The first 8 bytes of the chain value after the last committed record:
 * what the station is told (DIAG_AUDIT) and `ek3 audit verify --head`
 * checks a dump against. */
void alog_head(const alog_log *l, uint8_t out[8]);

/* The head of the log in hw's flash, read only (DIAGNOSTICS' AUDIT
 * test: the station hears it): out as alog_head, *next_seq the number
 * the next record gets. 0, EK3_ENOENT (no log yet: out all zeros),
 * EK3_ENOSPC (no log area). */
int alog_head_read(hal hw, const uint8_t key[16], uint8_t out[8], uint32_t *next_seq);

/* Read the log area into img (cap >= its size; EK3_ENOSPC otherwise):
 * the dump `ek3 audit verify` reads. A double word the ECC cannot read
 * is dumped as 0xFF (what a torn one is). *n: bytes. 0 or EK3_ENOSPC. */
int alog_dump(hal hw, uint8_t *img, size_t cap, size_t *n);

/* ---- checking a dump (off line: tools, tests, the fuzzer) ---------------- */

typedef struct alog_verdict {
    int bad;                /* 0: sound; else the first bad thing's code (EK3_EFORGED, EK3_EPARSE) */
    uint32_t bad_off;       /* its offset in the image */
    uint32_t bad_seq;       /* the record number expected there */
    int bad_page;           /* the bad thing is page number bad_page_no, not record bad_seq */
    uint32_t bad_page_no;
    const char *why;        /* what is wrong with it, and what that means (NULL when sound) */
    uint32_t pages, garbage_pages, records, torn, carried;
    uint32_t first_seq, next_seq; /* committed records first_seq .. next_seq-1 */
    uint16_t first_boot, last_boot;
    uint8_t head[16];       /* the chain value after the last record */
    uint8_t keyed;          /* the tags were checked (a key was given) */
    uint8_t bad_tag;        /* the bad thing is a record's tag (the chain): a wrong key fails it too, a CRC not */
} alog_verdict;

/* Called per committed record, in log order. */
typedef void (*alog_each_fn)(void *ctx, const alog_rec *r);

/* Check a dump (n bytes, whole pages, EK3_EPARSE otherwise): pages in
 * page_no order, each continuing the chain of the one before; records
 * numbered without gaps; every CRC, and with key (not NULL) every tag.
 * Torn records (commit erased or half-programmed) are counted, not bad,
 * where a power cut leaves them: the last of their page. What no power
 * cut leaves is bad: a torn record with committed records after it in
 * its page; a page whose header is blank or fails its CRC but which holds
 * data after it (records are written only after their page's header);
 * a first page numbered above 0 while the area has blank pages to spare
 * (the ring never wrapped, so the oldest pages were removed).
 * Returns 0 with v filled (v->bad says whether the log is sound), or
 * EK3_EPARSE for an image that is not whole pages, EK3_ECRYPTO. */
int alog_verify(const auth_crypto *c, const uint8_t *key, const uint8_t *img, size_t n, alog_verdict *v,
                alog_each_fn each, void *ctx);

/* ---- the service ----------------------------------------------------------- */

/* The service's state (its whole memory region).
 * Each tick it drains the kernel's RAM audit ring: the critical events
 * one record each, the others batched, up to ALOG_MAX_EVS in one
 * ALOG_T_EVENTS record (a lone event is a record of its own, payload
 * alog_kev); at most ALOG_PER_TICK records a tick. Until its record is
 * committed an event is only in the kernel's RAM ring: a power cut then
 * loses the record in flight, the whole batch (as it loses the events
 * not yet drained); a restart or the rig's reset, which keep the ring,
 * write them again. */
typedef struct alog_state {
    alog_log log;
    uint32_t next_ev;   /* the next audit event number to write */
    uint32_t written, lost; /* events written, events the ring dropped before they were drained */
    uint32_t errors;    /* failed writes (their events are skipped) */
    uint32_t batches;   /* ALOG_T_EVENTS records committed */
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

#endif /* AUDIT_LOGGER_H */
