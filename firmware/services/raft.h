/*
 * raft.h - the Raft core of the SWARM_COORD service (prefix raft_): a pure
 * state machine, no I/O, no heap, no clock, no globals; everything in one
 * `raft` struct; time only by raft_tick. It runs on the STM32G474 too.
 *
 * Sources: Ongaro and Ousterhout, "In Search of an Understandable Consensus
 * Algorithm (Extended Version)", 2014 (cited "Raft 5.2" etc.), and Ongaro,
 * "Consensus: Bridging Theory and Practice", PhD thesis, Stanford 2014
 * (cited "thesis 9.6" for PreVote, "thesis 6.2" for CheckQuorum and the
 * leader lease on votes). The message flow follows etcd's raft (a broadcast
 * heartbeat instead of one per follower: the CAN bus is a broadcast medium).
 *
 * Voters are the rack's slots 1..n_nodes. Slot 0 means "none" (no leader,
 * no vote) or, as a destination, "every node" (one broadcast frame).
 *
 * The log: entries 1, 2, ... each a full rack decision of at most
 * RAFT_ENTRY_MAX bytes; the newest RAFT_LOG_CAP after the snapshot are kept
 * in a ring. Compaction (Raft 7) keeps only the last compacted entry's data
 * as the snapshot's state (every entry is a full decision: the state machine
 * IS the last committed entry). An entry of length 0 is the no-op a new
 * leader appends (Raft 5.4.2, 8): it commits the earlier terms' entries and
 * is never handed to the caller by raft_take_committed.
 *
 * Persistence: term and voted_for (Raft figure 2's "persistent state") go
 * to flash through raft_persist_needed before any message raft_take gives
 * is sent. The log itself is volatile (a rebooted module starts with an
 * empty log and catches up from the leader, by SNAPSHOT when far behind).
 * A module that lost its log may have acknowledged entries it no longer
 * holds; were it to vote at once, a leader without a committed entry could
 * win. So a node started with term > 0 is "quiet": it neither votes nor
 * campaigns until it has accepted a leader's broadcast APPEND (its log then
 * equals that leader's, which holds every committed entry; this needs the
 * APPEND to have been sent after the reboot, as on a CAN bus, where no
 * frame reaches a node in reset and none waits out its reboot: a transport
 * that buffered frames across one could end the quiet with a short log,
 * docs/swarm.md), or for at most
 * cfg.quiet_ms (default RAFT_QUIET_FACTOR * election_max_ms: a whole rack
 * rebooted must elect again; what it had committed is gone with the logs).
 * A reboot longer cut off from the leader than that can, with a partition,
 * still lose a committed entry: docs/swarm.md has the measured rate.
 */
#ifndef RAFT_H
#define RAFT_H

#include <stddef.h>
#include <stdint.h>

#define RAFT_MAX_NODES 128u   /* voters are the rack's slots 1..n_nodes (n_nodes <= RAFT_MAX_NODES) */
#define RAFT_LOG_CAP 16u      /* entries kept after the snapshot (a ring) */
#define RAFT_ENTRY_MAX 32u    /* bytes of one entry's data */
#define RAFT_OUTBOX_CAP 16u   /* messages waiting for raft_take; more are dropped and counted */
#define RAFT_CATCHUP_MAX 3u   /* unicast APPEND/SNAPSHOT a leader sends per heartbeat */
#define RAFT_QUIET_FACTOR 10u /* default quiet_ms: this many election_max_ms */

typedef enum raft_role { RAFT_FOLLOWER, RAFT_PRECANDIDATE, RAFT_CANDIDATE, RAFT_LEADER } raft_role;
typedef enum raft_kind {
    RAFT_PREVOTE,
    RAFT_PREVOTE_RESP,
    RAFT_VOTE,
    RAFT_VOTE_RESP,
    RAFT_APPEND,
    RAFT_APPEND_RESP,
    RAFT_SNAPSHOT,
    RAFT_KIND_COUNT
} raft_kind;

typedef struct raft_entry {
    uint32_t term;
    uint8_t len; /* 0: the leader's no-op */
    uint8_t data[RAFT_ENTRY_MAX];
} raft_entry;

typedef struct raft_msg {
    uint8_t kind;             /* raft_kind */
    uint16_t from, to;        /* slots; to = 0: every node (a broadcast on the CAN bus) */
    uint32_t term;            /* PREVOTE and PREVOTE_RESP carry the term the candidate WOULD use (term+1) */
    uint32_t index, log_term; /* (PRE)VOTE: candidate's last log index/term; APPEND: prev index/term;
                                 APPEND_RESP: the follower's match index (success) or its last index (reject hint:
                                 the highest index it may share with the leader, min(last index, prev - 1));
                                 SNAPSHOT: the snapshot's index/term */
    uint32_t commit;          /* APPEND, SNAPSHOT: leader's commit index */
    uint8_t ok;               /* *_RESP: granted / success */
    uint8_t n;                /* APPEND: entries carried, 0 or 1; SNAPSHOT: 1 */
    raft_entry e;             /* the entry (APPEND) or the snapshot's state (SNAPSHOT: the state machine IS the
                                 last committed entry's data - every entry is a full rack decision) */
} raft_msg;

typedef struct raft_cfg {
    uint16_t me, n_nodes;
    uint32_t heartbeat_ms;                     /* 100: the seed's 10 Hz */
    uint32_t election_min_ms, election_max_ms; /* randomized in [min, max) from the seeded generator */
    uint32_t quiet_ms; /* after a reboot with term > 0: no vote, no campaign for up to this long, until caught
                          up with a leader; 0: RAFT_QUIET_FACTOR * election_max_ms */
    uint32_t lease_ms; /* the leader lease: a node that heard its leader within this refuses (pre)votes, a leader
                          that heard no majority within it steps down (thesis 6.2, 9.6); 0: election_min_ms.
                          Nodes whose election timeouts are staggered (SWARM_COORD: by slot) share one lease, or
                          a pre-candidate waits for the majority's longest */
} raft_cfg;

typedef struct raft_stats {
    uint32_t prevotes_started;  /* pre-elections begun (thesis 9.6) */
    uint32_t elections_started; /* real elections: term incremented (Raft 5.2) */
    uint32_t elections_won;
    uint32_t prevotes_lost;    /* pre-elections a majority refused */
    uint32_t stepdowns_quorum; /* leader stepped down by CheckQuorum (thesis 6.2) */
    uint32_t malformed;        /* raft_step refused with EK3_EINVAL */
    uint32_t stale;            /* messages of an older term refused (EK3_ESTALE) */
    uint32_t appends_rejected; /* APPENDs this node answered ok = 0 (log mismatch) */
    uint32_t votes_ignored;    /* (pre)votes ignored inside the leader lease */
    uint32_t votes_quiet;      /* (pre)votes refused while quiet after a reboot */
    uint32_t snapshots_sent, snapshots_applied;
    uint32_t outbox_dropped; /* messages lost because the outbox was full */
} raft_stats;

typedef struct raft {
    raft_cfg cfg;
    /* readable state */
    uint8_t role;       /* raft_role */
    uint32_t term;      /* current term (persistent) */
    uint16_t voted_for; /* slot voted for in term, 0 none (persistent) */
    uint16_t leader;    /* the leader followed in term, 0 unknown */
    uint32_t commit;    /* highest index known committed */
    uint32_t last_index, last_term;
    uint32_t snap_index, snap_term; /* last compacted entry; the ring holds snap_index+1..last_index */
    raft_entry snap;                /* the snapshot's state: the newest compacted non-empty entry (len 0: none) */
    raft_stats stats;
    /* internal */
    raft_entry log[RAFT_LOG_CAP];                /* index i at log[i % RAFT_LOG_CAP] */
    uint32_t applied;                            /* highest index handed out by raft_take_committed (or skipped) */
    uint32_t election_elapsed, election_timeout; /* ms since reset; the randomized timeout */
    uint32_t leader_elapsed;                     /* ms since a message of the current leader (the lease) */
    uint32_t hb_elapsed, quorum_elapsed;
    uint32_t quiet_ms; /* > 0: rebooted, not caught up: no vote, no campaign (see above) */
    uint64_t rng;      /* splitmix64 state */
    uint8_t persist_dirty;
    uint8_t granted[(RAFT_MAX_NODES + 8u) / 8u]; /* (pre)votes granted this round / followers heard (leader) */
    uint8_t refused[(RAFT_MAX_NODES + 8u) / 8u]; /* (pre)votes refused this round */
    uint32_t next[RAFT_MAX_NODES + 1u], match[RAFT_MAX_NODES + 1u]; /* leader: per slot */
    uint16_t catchup_cursor; /* leader: round-robin start of the next catch-ups */
    raft_msg out[RAFT_OUTBOX_CAP];
    uint8_t out_head, out_count;
} raft;

/* Start a node. term/voted_for: what the flash kept (0, 0 on a fresh
 * module); the log starts empty; with term > 0 the node starts quiet. seed: the module's seed (the election
 * timeouts, randomized in [election_min_ms, election_max_ms), are drawn
 * from it with ek3_rng_splitmix64). Returns 0, or EK3_EINVAL on NULL, on
 * me == 0 or me > n_nodes, n_nodes > RAFT_MAX_NODES, heartbeat_ms == 0,
 * election_min_ms <= heartbeat_ms, election_max_ms <= election_min_ms, or
 * voted_for > n_nodes. Raft 5.2, figure 2. */
int raft_init(raft *r, const raft_cfg *c, uint32_t term, uint16_t voted_for, uint64_t seed);

/* Advance time by ms milliseconds (any amount; a call of 0 does nothing).
 * Follower / (pre)candidate: when the randomized election timeout passes,
 * start a pre-election (thesis 9.6). Leader: a broadcast APPEND every
 * heartbeat_ms plus at most RAFT_CATCHUP_MAX unicast catch-ups; every
 * election_min_ms, step down unless a majority answered in that time
 * (CheckQuorum, thesis 6.2). Timers are checked once per call. */
void raft_tick(raft *r, uint32_t ms);

/* Deliver one message. Returns 0 when taken (which includes a message
 * addressed to another slot: ignored; and a (pre)vote ignored under the
 * leader lease, counted in votes_ignored), EK3_ESTALE for a message of an
 * older term (counted in stale; an APPEND/SNAPSHOT of an old leader is
 * answered with this node's term so that leader steps down, a PREVOTE is
 * refused), EK3_EINVAL when malformed (NULL, kind >= RAFT_KIND_COUNT, from
 * 0, from > n_nodes, from == me, to > n_nodes, n > 1, SNAPSHOT with n != 1,
 * e.len > RAFT_ENTRY_MAX, term 0, ok > 1, term, index or commit UINT32_MAX (so
 * nothing wraps) - counted in malformed, nothing
 * changed. Raft 5.1-5.4, 7; thesis 9.6 and 6.2. */
int raft_step(raft *r, const raft_msg *m);

/* Leader only: append an entry of this term with n bytes of data and
 * broadcast it at once. Returns 0, EK3_EPERM when not leader, EK3_EBUSY
 * when an earlier entry of this leader (its no-op included) is not
 * committed yet (one in flight), or the ring has no room, EK3_ERANGE when
 * n > RAFT_ENTRY_MAX, EK3_EINVAL when n == 0 or data is NULL. Raft 5.3. */
int raft_propose(raft *r, const void *data, size_t n);

/* Next outgoing message (oldest first): 0 and *out filled, or EK3_EAGAIN
 * when none. Persist first (raft_persist_needed). EK3_EINVAL on NULL. */
int raft_take(raft *r, raft_msg *out);

/* Next newly committed entry, in index order: 0 with *e and *index, or
 * EK3_EAGAIN. No-ops (len 0) are skipped. When entries were compacted
 * before they were taken (a SNAPSHOT installed, or the ring compacted),
 * the snapshot's state is yielded once, with index = snap_index.
 * EK3_EINVAL on NULL. Raft 5.3 (apply in order), 7. */
int raft_take_committed(raft *r, raft_entry *e, uint32_t *index);

/* 1 when term or vote changed since the last call (and *term,
 * *voted_for filled): the caller writes them to flash BEFORE sending what
 * raft_take gives (Raft figure 2: "updated on stable storage before
 * responding to RPCs"); else 0. EK3_EINVAL on NULL. */
int raft_persist_needed(raft *r, uint32_t *term, uint16_t *voted_for);

/* The leader this node follows (itself when leader), 0 if none. */
uint16_t raft_leader(const raft *r);

/* The entry at index, if kept: 0 with *term and *e (either may be NULL);
 * index == snap_index (> 0) gives the snapshot's term and its state.
 * EK3_ENOENT if not kept (0, compacted, beyond last_index), EK3_EINVAL on
 * NULL r. */
int raft_entry_at(const raft *r, uint32_t index, uint32_t *term, const raft_entry **e);

#endif /* RAFT_H */
