/*
 * jz.h - JEZGRO, the microkernel of the EK3 module firmware (prefix jz_).
 *
 * Services are run-to-completion active objects (as QP/C's cooperative
 * kernel): each has a unique priority, an optional rate, a bounded
 * message queue and one memory region for its state. jz_run dispatches
 * the highest-priority service that has a message, one message at a
 * time, until none is left. The 10 kHz control interrupt is outside the
 * services: jz_isr calls the privileged control driver directly.
 *
 * All state lives in one jz_kernel the caller provides: no heap, no
 * file-scope state, so the rig holds 84 kernels in one process and the
 * target holds one. The Reincarnation Server (rs.h) watches the
 * services; inject.h breaks them on purpose.
 */
#ifndef JZ_H
#define JZ_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "hal.h"
#include "ipc.h"

/* Compile-time bounds of one kernel. The target build sets smaller ones
 * (firmware/CMakeLists.txt) to keep the kernel in its 8 KiB of RAM. */
#ifndef JZ_MAX_SERVICES
#define JZ_MAX_SERVICES 16u   /* ids 1..15; 0 is the kernel */
#endif
#ifndef JZ_QUEUE_DEPTH
#define JZ_QUEUE_DEPTH 8u     /* messages per service queue, at most */
#endif
#ifndef JZ_PENDING_MAX
#define JZ_PENDING_MAX 4u     /* open sendrec requests per service */
#endif
#define JZ_DISPATCH_BUDGET 256u /* messages per jz_run pass, at most */
#define JZ_GUARD 0x4A5A4752u  /* guard word pattern ("RGZJ") */
#define JZ_GUARD_BYTES 8u     /* guard words at the end of each region */

_Static_assert(JZ_MAX_SERVICES <= 32, "service masks are 32-bit");
_Static_assert(JZ_MAX_SERVICES >= 2, "at least one service");
_Static_assert(JZ_QUEUE_DEPTH >= 2 && JZ_QUEUE_DEPTH <= 255, "queue depth fits a byte");
_Static_assert(JZ_PENDING_MAX >= 1 && JZ_PENDING_MAX <= 16, "pending requests per service");

typedef struct jz_kernel jz_kernel;

/* The allow_to bit of service id `id` (the services' table names ids,
 * never bit positions: firmware/services/services.h). */
#define JZ_ALLOW(id) (1u << (id))

/* A service's static description. */
typedef struct jz_service_def {
    const char *name;
    uint8_t prio;          /* unique, 1..31; higher runs first */
    uint8_t critical;      /* a crash means safe shutdown, not restart */
    uint8_t queue_depth;   /* 2..JZ_QUEUE_DEPTH */
    uint32_t period_us;    /* IPC_T_TICK every period_us (0: event-driven) */
    uint32_t heartbeat_ms; /* Reincarnation Server ping period (0: not watched) */
    uint32_t allow_to;     /* bit i: may send to service i (JZ_ALLOW) */
    size_t state_size;     /* bytes of state in its region */
    /* Fresh start: state is zeroed before. 0, or negative: crashed. */
    int (*init)(void *state, jz_kernel *k, unsigned me);
    /* Handle one message to completion. 0, or negative: crashed. */
    int (*handle)(void *state, jz_kernel *k, unsigned me, const ipc_msg *m);
} jz_service_def;

typedef enum jz_svc_status {
    JZ_SVC_EMPTY,    /* no service in this slot */
    JZ_SVC_RUNNING,
    JZ_SVC_CRASHED,  /* waiting for its restart */
    JZ_SVC_DEAD      /* a critical service that crashed: not restarted */
} jz_svc_status;

typedef enum jz_crash_reason {
    JZ_CRASH_FAULT,    /* the handler returned an error */
    JZ_CRASH_MEMORY,   /* a memory fault (MPU, or mprotect in strict mode) */
    JZ_CRASH_OVERFLOW, /* its region's guard words were overwritten */
    JZ_CRASH_QUEUE,    /* its queue overflowed */
    JZ_CRASH_HANG,     /* it missed its heartbeat by more than 100 ms */
    JZ_CRASH_INIT,     /* its init failed */
    JZ_CRASH_REASON_COUNT_
} jz_crash_reason;

typedef struct jz_pending {
    uint16_t seq;     /* 0: free */
    uint8_t to;
    int64_t deadline_ns;
} jz_pending;

typedef struct jz_stats {
    uint32_t dispatched, sent, denied, full, corrupt, late_replies, timeouts, ticks_missed;
} jz_stats;

/* One slot of the service table (per-service state, as MINIX's RS). */
typedef struct jz_svc {
    const jz_service_def *def;
    uint8_t status;        /* jz_svc_status */
    uint8_t rank;          /* position in priority order, 0 = highest */
    uint8_t hung;          /* injected: it stopped taking messages */
    uint8_t corrupt_next;  /* injected: corrupt the next message posted */
    uint8_t stray_to;      /* injected: next dispatch writes into this service's region */
    uint8_t ping_pending;
    uint8_t tick_queued;
    uint8_t qhead, qcount;
    ipc_msg q[JZ_QUEUE_DEPTH];
    uint32_t notify;       /* pending notifications, bit = source */
    jz_pending pending[JZ_PENDING_MAX];
    hal_region region;     /* its memory: state, then guard words */
    int64_t next_tick_ns, ping_sent_ns, alive_ns;
    int64_t crashed_ns, restart_ns, started_ns;
    uint32_t ticks;
    uint32_t crashes, restarts, backoff_ms;
    uint8_t last_crash;    /* jz_crash_reason */
    jz_stats st;
} jz_svc;

typedef struct jz_config {
    const jz_service_def *services; /* services[i] gets id i + 1 */
    unsigned nservices;
    void (*control)(void *ctx, jz_kernel *k); /* the 10 kHz privileged driver */
    void *control_ctx;
    uint64_t seed;       /* fault injection and anything else random */
    uint8_t *pool;       /* memory for the service regions */
    size_t pool_size;
    size_t granule;      /* region granule: host page (strict) or 32 (target) */
    uint8_t pow2;        /* Cortex-M4 regions: powers of two, size-aligned */
    uint8_t strict;      /* open only the running service's region (MPU / mprotect) */
    uint8_t reset_by_watchdog; /* the MCU's last reset was the watchdog's (the target: RCC_CSR;
                                  jz_reset sets it, jz_reboot clears it); CAN_HANDLER reports it */
    const void *boot_handoff; /* what the bootloader decided at the last reset, for UPDATE_MGR
                                 (fw_update.h fwu_handoff); NULL: no bootloader */
} jz_config;

typedef enum jz_mode { JZ_RUNNING, JZ_SHUTDOWN } jz_mode;

struct jz_kernel {
    jz_config cfg;
    hal hw;
    jz_svc svc[JZ_MAX_SERVICES];
    uint8_t by_rank[JZ_MAX_SERVICES]; /* service id of each rank */
    unsigned n;                       /* services + 1 */
    uint32_t ready;                   /* bit = rank with work */
    uint8_t state;                    /* jz_mode */
    uint8_t in_dispatch;              /* service id being dispatched, 0 = none */
    uint16_t next_seq;
    int64_t now_ns;
    int64_t pending_due_ns;           /* no open sendrec is due before this (INT64_MAX: none open) */
    int64_t tick_due_ns;              /* no service's rate timer is due before this (0: look) */
    int64_t rs_due_ns;                /* nothing is due for the reincarnation server before this (0: look);
                                         lowered to 0 by every change of a service's status or ping */
    int64_t stall_until_ns;           /* injected kernel stall */
    uint64_t rng;
    uint32_t isr_count, passes;
    uint32_t resets;                  /* watchdog resets survived (set by the caller) */
    uint32_t crash_events;            /* crashes of any service since the kernel started (jz_crash_events) */
    audit_log audit;
};

/* Start a kernel: lay out the regions, initialise every service. 0, or
 * EK3_EINVAL (bad config: no pool, too many services, bad queue depth or
 * priority), EK3_EBUSY (two services with one priority), EK3_ENOSPC (the
 * regions do not fit the pool), EK3_ERANGE (MPU set-up refused). A
 * service whose init fails is a crash, not an error. */
int jz_init(jz_kernel *k, const jz_config *cfg, hal hw);

/* What an MCU reset by the watchdog does: the same config, everything
 * else fresh; the reset count goes up; the audit trail (in SRAM) keeps
 * an AUDIT_WATCHDOG event and cfg.reset_by_watchdog is set. Returns as
 * jz_init. */
int jz_reset(jz_kernel *k);

/* A software reset (NVIC_SystemReset: after an update, on request): as
 * jz_reset, but no watchdog event and cfg.reset_by_watchdog cleared. */
int jz_reboot(jz_kernel *k);

/* The control interrupt: call the control driver once. */
static inline void jz_isr(jz_kernel *k)
{
    k->isr_count++;
    if (k->cfg.control)
        k->cfg.control(k->cfg.control_ctx, k);
}

/* One pass of the kernel loop: kick the watchdog, let the Reincarnation
 * Server and the timers act, then dispatch until no service has work
 * (or JZ_DISPATCH_BUDGET messages). Returns the messages dispatched. */
int jz_run(jz_kernel *k);

/* Current kernel time (ns), as of the start of this pass. */
static inline int64_t jz_now(const jz_kernel *k) { return k->now_ns; }

/* Service id by name, or EK3_ENOENT. */
int jz_find(const jz_kernel *k, const char *name);

/* The state region of a service (its first state_size bytes are its
 * state), or NULL. */
void *jz_state(jz_kernel *k, unsigned id);

/* What the Reincarnation Server knows of service id, for a service that
 * reports it (CAN_HANDLER's FAULT_ALERT SERVICE_CRASH): its crashes since
 * the kernel started, and whether it is critical (its crash shuts the
 * module down). 0 when id is no service. */
static inline uint32_t jz_crashes(const jz_kernel *k, unsigned id)
{
    return id == 0 || id >= k->n ? 0 : k->svc[id].crashes;
}

/* The sum of every service's jz_crashes: while it is unchanged, so is
 * each service's count (a reader need not look at them one by one). */
static inline uint32_t jz_crash_events(const jz_kernel *k)
{
    return k->crash_events;
}
int jz_critical(const jz_kernel *k, unsigned id);

/* The next number of the kernel's seeded generator (xorshift64*, ek3_rng.h). */
uint64_t jz_random(jz_kernel *k);

/* Internal to the kernel's files (ipc.c, rs.c, inject.c). */
int jz_post(jz_kernel *k, unsigned to, const ipc_msg *m); /* queue it, no allow-list */
void jz_ready_update(jz_kernel *k, unsigned id);         /* recompute its ready bit */
void jz_start(jz_kernel *k, unsigned id);                 /* fresh state, init, timers */
void jz_flush(jz_kernel *k, unsigned id);                 /* drop its messages and requests */

#endif /* JZ_H */
