/*
 * swarmobs.h - the swarm's checkers over a running rack (prefix swo_):
 * what no single module can see, judged from outside every quantum, as
 * Jepsen and etcd's raft tests judge a cluster, but with the power plant
 * in the loop.
 *
 * swo_step (called by rig_quantum unless the rack runs without the
 * swarm) reads every in-process module's SWARM_COORD state (swarm.h:
 * swm_raft, swm_log_term) after the quantum and checks Raft's
 * properties (the extended Raft paper, figure 3):
 *   election safety   at most one leader per term, ever (a term's leader
 *                     is remembered for the last SWO_TERMS terms);
 *   log matching      two modules that hold an entry at the same index and
 *                     term hold the same data (the entry's digest);
 *   state-machine     an entry once committed by any module is what every
 *   safety            module that commits that index commits (no committed
 *                     decision lost or changed), and a new leader's log
 *                     reaches the highest index committed so far (leader
 *                     completeness).
 * Each breach is counted; the first is kept in words with its time.
 * It also follows the rack's leader (the live leader of the highest term,
 * not cut off the rack bus) and measures each failover: from the quantum
 * the rack lost its leader (no live module is leader, or the leader is
 * cut off the bus: it leads no one) to the quantum a leader is back. The first
 * election (no leader yet since the start) is measured apart.
 *
 * A module is read only while present, in process (not `ek3 fw`), with
 * its kernel not in strict mode (its regions are closed between
 * dispatches there) and SWARM_COORD running.
 */
#ifndef SWARMOBS_H
#define SWARMOBS_H

#include <stdint.h>

#define SWO_TERMS 256u     /* terms whose leader is remembered */
#define SWO_COMMITS 64u    /* committed entries remembered, by index */
#define SWO_FAILOVERS 512u /* failover durations kept (the rest counted) */
#define SWO_NODES 511u     /* slots 1..510 */

typedef struct rig rig;

/* What swo_check reads of one module (swo_peek): the four words of its
 * Raft state and where the rest is (st NULL: not read, swo_state). */
typedef struct swo_view {
    const void *st;
    uint32_t commit, term, last_index, role;
} swo_view;

/* A module's committed entries not yet checked, (index, term, digest)
 * in index order, as swo_peek read them with swm_log_term on the
 * module's own thread (it answers for at most the RAFT_LOG_CAP entries
 * kept after the snapshot): what swo_check compares, so that it never
 * reads a module's log itself (with rig.run_ahead that thread is already
 * running the module's next period). */
#define SWO_READ_MAX 16u /* = RAFT_LOG_CAP (raft.h) */
typedef struct swo_read {
    uint32_t n;
    uint32_t index[SWO_READ_MAX], term[SWO_READ_MAX], digest[SWO_READ_MAX];
} swo_read;

typedef struct swo {
    uint32_t term_of[SWO_TERMS];  /* the term whose leader is in leader_of (0: none) */
    uint16_t leader_of[SWO_TERMS];
    uint32_t c_index[SWO_COMMITS], c_term[SWO_COMMITS], c_digest[SWO_COMMITS];
    uint32_t seen_commit[SWO_NODES]; /* each module's commit index already checked */
    uint32_t max_commit;             /* the highest index any module committed */
    uint16_t leader;                 /* the rack's leader now (0: none) */
    uint32_t term;                   /* its term (or the last leader's) */
    uint32_t leaders;                /* distinct leaders seen (one per term) */
    uint32_t v_safety, v_matching, v_lost; /* breaches */
    char first[200];                 /* the first breach in words ("" when none) */
    int64_t first_ns;
    int64_t first_leader_ns;         /* when the rack first had a leader (-1: never) */
    int64_t lost_ns;                 /* leaderless since (-1: a leader now, or never had one) */
    uint32_t failovers;              /* failovers measured */
    double failover_s[SWO_FAILOVERS];
    unsigned nread;                  /* modules read in the last step */
    /* view[slot], written by swo_peek (the thread that runs the slot's
     * module), read by swo_check: a cache line apart from the fields
     * above (the padding; no _Alignas: a rig is malloc'd). */
    char apart[64];
    swo_view view[SWO_NODES];
    swo_read got[SWO_NODES];       /* written by swo_peek with view[], only when commits are new */
    /* moved[slot]: 1 when swo_peek changed view[slot] (its thread's
     * bytes), back to 0 by swo_check. With none set the views are those
     * swo_check took last and it has nothing to do: it is idempotent on
     * unchanged views (each view's commits taken, the leader as it was). */
    uint8_t moved[SWO_NODES];
} swo;

/* Summary figures (swo_summary). */
typedef struct swo_sum {
    uint16_t leader;
    uint32_t term, leaders, violations, failovers;
    double first_leader_s;           /* the first election's time from the rig's start (NAN: none) */
    double failover_p50_s, failover_p99_s, failover_max_s; /* NAN without a failover */
    double leaderless_s;             /* how long the rack has been leaderless now (0 with a leader) */
    char first[200];                 /* the first breach in words ("" when none) */
} swo_sum;

/* Start with nothing seen. */
void swo_init(swo *o);

/* Check the rig after a quantum (above): swo_peek of every slot, then
 * swo_check. Returns the breaches found in this step (0 normally). */
unsigned swo_step(swo *o, const rig *g);

/* swo_step in two parts, for a rig whose modules run on threads:
 * swo_peek reads slots k0+1 .. k1 (module indices k0 .. k1-1, clamped
 * to the rack) into o->view, each thread its own range after its
 * modules' quantum; swo_check then checks the views, in slot order, on
 * one thread. A view is written only when it changed: the lines of an
 * unchanged rack stay in every core's cache, and swo_check reads
 * 24 bytes a module, not the lines of its kernel, plant and Raft state
 * it would otherwise bring from the other core. swo_check reads nothing
 * of a module but what swo_peek copied (its view, and its newly committed
 * entries: swo_read), so the module's thread may run on between the two
 * (rig.run_ahead). When no view changed since its last call (no slot's
 * moved[] set) swo_check returns 0 at once: the usual quantum, between
 * the swarm's heartbeats. */
void swo_peek(swo *o, const rig *g, unsigned k0, unsigned k1);
unsigned swo_check(swo *o, const rig *g);

/* The figures so far; percentiles by nearest rank over the kept
 * failovers. now_ns: the rig's time (for leaderless_s). */
void swo_summary(const swo *o, int64_t now_ns, swo_sum *s);

/* The SWARM_COORD state of slot's module (1..N), or NULL when it cannot
 * be read: a slot out of range, an external or pulled module, an MCU
 * that runs no kernel (fwi_running: held in reset, down), a strict
 * kernel, a service not RUNNING. */
const void *swo_state(const rig *g, unsigned slot);

#endif /* SWARMOBS_H */
