/*
 * swarm.h - the SWARM_COORD service (seed 2.3 "swarm coordination";
 * prefix swm_): everything between the Raft core (raft.h) and the rack's
 * CAN-FD bus, so that the modules of a rack elect a leader by themselves
 * and keep a replicated log of rack decisions.
 *
 *   In: CAN_HANDLER passes every ELECTION frame (broadcast or to this
 *     module), SYNC and THERMAL broadcast to it raw, one frame per IPC
 *     message (SWM_MSG_FRAME: identifier then the frame's bytes). It checks
 *     the tag with the rack's group key and the sender's freshness counter
 *     (one auth_rx window per sender slot), then the payload, then joins
 *     fragments; a forged, replayed, stale or malformed frame changes
 *     nothing and is counted. A follower drops THERMAL unread (only the
 *     leader uses it), and CAN_HANDLER does not even pass it on unless the
 *     leader asked (SWM_MSG_WANT_THERMAL, repeated every heartbeat).
 *   Every 10 ms: raft_tick(10); term and vote to flash when they changed,
 *     then the Raft messages out (ELECTION, an entry in MSG_ELECT_CHUNK
 *     pieces); every 100 ms its THERMAL share (the tick within the 100 ms
 *     is the slot's, so the rack's shares spread over the period); the
 *     leader also its SYNC (the running modules' mean current and
 *     temperature, bal_mean) and its decisions: a module whose THERMAL
 *     share stops for SWM_FAIL_MS is failed, one that comes back active
 *     again; the parked set is bal_provision's (at most every
 *     SWM_PROVISION_MS once it has led SWM_SETTLE_MS), or one given by
 *     swm_propose_parked. Then every module balances (balance.h): parked
 *     or not by the committed decision, unless the bus sagged far enough
 *     to wake it (LLC_CONTROL does, LLCC_WAKE_SHARE), through drv_park; its trim toward the
 *     leader's mean (bal_ref, bal_step: integrating, rate-limited,
 *     bounded, decaying to zero without a SYNC) through drv_trim.
 *   Flash: page SWM_PAGE of the configuration area (BRD_CFG_OFF) and the
 *     page at BRD_SWM_ALT_OFF hold 16-byte records (term, vote, the
 *     freshness counter reserved up to), appended, two double words each,
 *     each double word programmed once; at init the newest record with a
 *     good CRC on either page wins (a torn one is skipped; records only
 *     grow, so the newest is the greatest by term, then reserved counter,
 *     then vote given). When a page is full the other one is erased and
 *     takes the next record: the full page keeps the newest record until
 *     the new one is written, so a power cut in the erase or the write
 *     loses neither the term, the vote nor the reserved counters. The
 *     freshness counter is reserved in blocks of SWM_FV_BLOCK, so a module
 *     that reboots signs above every counter it used before (its peers'
 *     windows would refuse it otherwise).
 *
 * Its identity (slot), the group key and the rack's size come from the
 * configuration page CAN_HANDLER reads (canh_config_read); an unprovisioned
 * module does not start the service. In a rack of more than
 * RAFT_MAX_NODES (or a slot past the rack's size) it starts idle: no
 * frames, no trim, no parking - droop alone.
 */
#ifndef SWARM_H
#define SWARM_H

#include <stdint.h>

#include "auth.h"
#include "can_handler.h"
#include "jz.h"
#include "msg.h"
#include "balance.h"
#include "raft.h"

#define SWM_PERIOD_US 10000u  /* the Raft tick: 10 ms */
#define SWM_HEARTBEAT_MS 100u /* Raft heartbeat, THERMAL and SYNC: 10 Hz */
/* Election timeouts, staggered by slot: slot s draws its timeout from
 * [SWM_ELECTION_MIN_MS + (s - 1) x SWM_ELECTION_STEP_MS, that + SWM_ELECTION_SPREAD_MS).
 * Each pre-election makes every other module answer (83 frames, 13 ms
 * of an 84-module bus): with one window for all, several modules time out
 * within that and the bus is full for 100 ms. Staggered, the lowest slot
 * alive asks first and has won before the next one's window. */
#define SWM_ELECTION_MIN_MS 600u
#define SWM_ELECTION_STEP_MS 25u
#define SWM_ELECTION_SPREAD_MS 50u
#define SWM_FAIL_MS 1000u     /* a THERMAL share silent this long: the module is failed */
#define SWM_PAGE 1u           /* its page of the configuration area (page 0: configuration; the audit ring follows) */
#define SWM_FV_BLOCK 4096u    /* freshness counters reserved per flash record */
#define SWM_MAP_BYTES 16u     /* a slot set: bit (slot - 1), slots 1..128 */
#define SWM_FRAMES_MAX 4u     /* ELECTION frames of one Raft message, at most */
#define SWM_PROVISION_MS 1000u /* the leader decides the parked set at most this often */
#define SWM_SETTLE_MS 2000u   /* ... and only once it has led this long (every share heard, the rack settled) */

_Static_assert(RAFT_ENTRY_MAX == MSG_ENTRY_MAX, "an entry fits the ELECTION frames");
_Static_assert(RAFT_MAX_NODES <= SWM_MAP_BYTES * 8u, "a slot set covers every voter");
_Static_assert((RAFT_ENTRY_MAX + MSG_ELECT_CHUNK - 1u) / MSG_ELECT_CHUNK <= SWM_FRAMES_MAX, "fragments");

/* The replicated log's entry: the rack's membership decision. On the wire
 * (the entry's data) it is parked || failed, 32 bytes; `version` is the
 * layout's (SWM_DECISION_VERSION), given by that length. */
#define SWM_DECISION_VERSION 1u
typedef struct swm_decision {
    uint8_t version;
    uint8_t parked[SWM_MAP_BYTES]; /* parked by the leader's provisioning (bal_provision, swm_propose_parked) */
    uint8_t failed[SWM_MAP_BYTES]; /* THERMAL share silent for SWM_FAIL_MS */
} swm_decision;

/* Fragments of one Raft message being joined, in any order (one sender
 * at a time per stream: broadcast, or to this module). */
typedef struct swm_reasm {
    uint16_t from;      /* 0: idle */
    msg_election head;  /* the header its fragments share */
    uint8_t got;        /* bit i: piece i (bytes from i x MSG_ELECT_CHUNK) is in */
    uint8_t data[RAFT_ENTRY_MAX];
} swm_reasm;

typedef struct swm_stats {
    uint32_t forged, replayed, stale, malformed; /* frames refused, by why */
    uint32_t frames_in, frames_out;              /* swarm frames verified and taken / sent */
    uint32_t frag_lost;                          /* fragments out of order (the rest dropped) */
    uint32_t tx_full, flash_errors, proposals;
} swm_stats;

/* A THERMAL share the leader keeps per slot. */
typedef struct swm_share {
    uint32_t seen_ms;   /* when it last came (service ms) */
    uint16_t iout_ma;
    int16_t tj_dc;
    uint8_t heard;      /* 1 once since this module became leader */
    uint8_t state;      /* msg_state */
    uint8_t parked;
    uint8_t limited; /* at its limit (MSG_THERMAL_F_LIMITED): out of the means */
    uint16_t vout_dv;
    uint32_t run_ms;    /* its running time as this leader saw it (shares ACTIVE or DERATED): rotation */
} swm_share;

typedef struct swm_state {
    canh_config cfg;
    uint8_t idle;                   /* no vote in this rack (rack size 0 or past RAFT_MAX_NODES): droop alone */
    raft r;
    auth_tx tx;
    auth_rx rx[RAFT_MAX_NODES + 1u]; /* per sender slot */
    swm_reasm ra[2];                /* [0] broadcast, [1] to this module */
    uint8_t persist_due;            /* term or vote changed and not yet in flash */
    swm_share share[RAFT_MAX_NODES + 1u];
    swm_decision dec;               /* the last committed decision */
    uint32_t decision_index;        /* its log index (0: none yet) */
    uint8_t want_parked[SWM_MAP_BYTES]; /* swm_propose_parked's set, for the next decision */
    uint8_t want_set;
    uint32_t ms;                    /* service time, ms */
    uint32_t sync_seq;
    uint32_t flash_next;            /* index of the next free record on flash_page */
    uint8_t flash_page;             /* 0: SWM_PAGE of the configuration area, 1: BRD_SWM_ALT_OFF */
    uint32_t fv_hi;                 /* freshness counters reserved up to (in flash) */
    uint32_t leader_since_ms;
    uint8_t was_leader;
    /* The balancing law (balance.h), applied through drv_trim and drv_park. */
    bal_cfg bc;                     /* its numbers, the droop slope the drivers' */
    bal_module bm;                  /* the trim's integrator */
    uint8_t have_ref;               /* a SYNC from the leader since the last step */
    uint8_t parked;                 /* parked now (the committed decision, unless woken by the bus) */
    uint8_t woke_local;             /* woken by the bus's sag (LLC_CONTROL) while the decision parks it */
    int16_t sync_t_mean_dc;         /* the last SYNC's mean junction, 0.1 C */
    int16_t tj_own_dc;              /* this module's hottest junction at its last share */
    float trim_v;
    float i_mean_a;
    uint32_t sync_i_mean_ma;        /* the last SYNC's mean current, mA */
    uint16_t sync_own_ma;           /* this module's share when that SYNC came: what the mean counted of it */
    uint32_t provision_ms;          /* the leader's last provisioning decision (service ms) */
    swm_stats st;
} swm_state;

/* What the rig, the report and the checkers read, without Raft's internals. */
typedef struct swm_view {
    uint8_t role;       /* raft_role */
    uint16_t me, leader;
    uint32_t term, commit, last_index, last_term;
    uint32_t elections, won, stepdowns;
    uint32_t forged, replayed, stale, malformed;
    uint32_t frames_in, frames_out;
    uint8_t parked;
    float trim_v;
    float i_mean_a;
    uint32_t decision_index;
} swm_view;

/* IPC: CAN_HANDLER -> SWARM_COORD a frame (payload: identifier u32 LE, then
 * the frame's bytes: len - 4 of them, at most 48); SWARM_COORD ->
 * CAN_HANDLER whether to pass THERMAL on (1 byte: 1 yes, 0 no), and that
 * it took a SYNC of the current term's leader, its tag verified (no
 * payload: the leader is there, COMM_LOSS's clock starts again; a SYNC
 * forged or from a deposed leader is not this). */
enum { SWM_MSG_FRAME = IPC_T_USER + 8, SWM_MSG_WANT_THERMAL = IPC_T_USER + 9, SWM_MSG_LEADER = IPC_T_USER + 11 };
#define SWM_FRAME_MAX (IPC_PAYLOAD - 4u)

/* The Raft core of a service state, read only (the rig's checkers read
 * its role, term, commit and last index every quantum: swarmobs.c). */
static inline const raft *swm_raft(const void *state)
{
    return &((const swm_state *)state)->r;
}

/* The view of a service state (jz_state(k, SVC_SWARM)); all zero for NULL. */
void swm_view_of(const void *state, swm_view *v);

/* The log entry at index, if this module keeps it: its term and digest
 * (CRC-32 of its data: log matching across modules). 0, or EK3_ENOENT
 * (not kept; also the snapshot's index, whose state is the newest
 * decision up to it, not the entry there: a no-op's digest and a
 * decision's would differ between a module that kept the entry and one
 * that installed the snapshot), EK3_EINVAL (NULL). */
int swm_log_term(const void *state, uint32_t index, uint32_t *term, uint32_t *digest);

/* The balancing law's parked set (bit slot - 1): the leader proposes it
 * with the failed set at its next tick. 0, or EK3_EPERM when this module
 * does not lead, EK3_EINVAL (NULL). */
int swm_propose_parked(void *state, const uint8_t parked[SWM_MAP_BYTES]);

/* A decision <-> an entry's data (32 bytes). decode: EK3_EPARSE for
 * another length. */
void swm_decision_encode(const swm_decision *d, raft_entry *e);
int swm_decision_decode(const raft_entry *e, swm_decision *d);

/* A Raft message as ELECTION payloads: 1..SWM_FRAMES_MAX of them (the
 * entry in MSG_ELECT_CHUNK pieces). Returns the count, or EK3_EINVAL
 * (kind or entry length out of range). */
int swm_frames_of(const raft_msg *m, msg_election out[SWM_FRAMES_MAX]);

/* Join a decoded ELECTION payload from slot `from` addressed to `to` (0:
 * broadcast): 1 and *out complete, 0 when more fragments are due,
 * EK3_EPARSE for a fragment that does not fit (frag past elen or not on a
 * piece boundary, n 0 with an entry, a piece twice). A fragment of
 * another message (sender or header) restarts the join with it. */
int swm_reasm_add(swm_reasm *ra, uint16_t from, uint16_t to, const msg_election *f, raft_msg *out);

int swm_init(void *state, jz_kernel *k, unsigned me);
int swm_handle(void *state, jz_kernel *k, unsigned me, const ipc_msg *m);

/* The service definition: priority 10 (below CAN_HANDLER and THERMAL_MGR),
 * 100 Hz, not critical (the Reincarnation Server restarts it), watched
 * with a 100 ms heartbeat. */
#define SWM_SERVICE(allow)                                                                                     \
    {                                                                                                          \
        .name = "SWARM_COORD", .prio = 10, .critical = 0, .queue_depth = 6, .period_us = SWM_PERIOD_US,       \
        .heartbeat_ms = 100, .allow_to = (allow), .state_size = sizeof(swm_state), .init = swm_init,          \
        .handle = swm_handle                                                                                   \
    }

#endif /* SWARM_H */
