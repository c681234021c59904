/*
 * rig.h - a rack in one process, in lockstep (prefix rig_): the plant
 * (plant_model/rack.h) and one firmware instance per module (JEZGRO with
 * its services and the LLC_CONTROL driver, on the host HAL), joined by
 * the HIL channel and the rack's CAN-FD bus.
 *
 * Virtual time advances in quanta of one control period (100 us). In
 * each quantum, for module 1, 2, ... N in that order:
 *   1. the plant samples the module's ADC and sends a HIL_ADC frame;
 *   2. the firmware's HAL takes it (the ADC device), the control
 *      interrupt runs, then the kernel loop; the HAL's PWM command goes
 *      back as a HIL_PWM frame, and the CAN frames the firmware sent go
 *      onto the rack bus;
 *   3. the plant applies the PWM command;
 * then the plant advances the quantum (rack_step), and the rack bus
 * arbitrates and delivers its frames (cbus_run). The order is fixed, so
 * the same seed gives the same run, bit for bit - also with the modules
 * spread over threads (`threads`): each thread takes a contiguous range
 * of modules for the per-module work (the ranges balanced by the
 * threads' own times, rig_cuts_balance), and everything shared (the bus
 * sums, the rack bus, the log) is done by one thread in slot order.
 * A module's firmware may also run in its own process (`ek3 fw`, over
 * UDP or SocketCAN): the plant then sends it HIL_ADC and a HIL_TICK SYNC
 * each quantum and waits for its HIL_PWM and HIL_TICK DONE, at most
 * ext_timeout_ms; three late quanta in a row and the module is reported
 * lost, its bridge disabled, and the rack runs on without it.
 * The HIL frames travel
 * over in-process transports (transport.h); `--log` writes them and the
 * rack bus's frames as a candump log. Without a log (and without
 * `hil_frames`), an in-process module's exchange skips the frames: the
 * same payloads go across as structs (hilch.h), the same run bit for bit.
 */
#ifndef RIG_H
#define RIG_H

#include <stdint.h>
#include <stdio.h>

#include "board.h"
#include "canbus.h"
#include "fwinst.h"
#include "fwroll.h"
#include "llc_control.h"
#include "rack.h"
#include "station.h"
#include "swarmobs.h"
#include "transport.h"

#define RIG_PERIOD_NS BRD_PERIOD_NS /* the control period (board.h) */
#define RIG_POOL_BYTES 4096u

typedef struct rig_opts {
    unsigned modules;
    uint8_t fidelity;       /* pmod_fidelity */
    uint64_t seed;
    rack_load load;
    float v_set;            /* every module's output set point */
    float r_droop;          /* V/A */
    plant_params plant;
    const plant_params *const *slot_plant; /* NULL, or `modules` entries: slot k + 1's own
                                              parameters where slot_plant[k] is not NULL
                                              (rack_module_params; kept alive by the caller) */
    FILE *log;                             /* candump log of every frame, or NULL: its lines in time order (a
                                              rack-bus frame that ends after the quantum it started in is held
                                              until the quantum's HIL lines before it are written; rig_log_flush) */
    uint8_t hil_frames;     /* in-process modules exchange HIL frames even without a log (the
                               reference path; without it and without a log the payloads go
                               across unframed: hilch.h's frameless pair, the same run) */
    int64_t log_t0_ns;      /* the log's time of simulated time 0 (ns since the epoch) */
    unsigned threads;       /* modules spread over this many threads (0, 1: none; a log forces 1) */
    uint8_t threads_adapt;  /* with threads > 1: the caller runs every module alone while that is
                               faster (rig_adapt_next: a busy machine, where a worker that lost its
                               CPU holds every phase), and threads stop at one per
                               RIG_MODULES_PER_THREAD modules (2 at least); the same run bit for bit */
    /* External modules: their firmware runs in `ek3 fw` processes. */
    const uint8_t *external; /* external[k] != 0: slot k + 1 is external (NULL: none) */
    char fw_bus[64];        /* "udp:HOST:BASE": slot s listens on BASE + s */
    int ext_timeout_ms;     /* a module that misses this many ms in a quantum is late */
    uint8_t via_station;    /* modules boot off; the station starts them (stn_api_*) */
    uint8_t no_swarm;       /* the modules' kernels without SWARM_COORD: droop alone, no leader (ek3 rack --no-swarm) */
    uint8_t have_trust_key; /* every in-process module also trusts trust_key (ek3 rack --trust-key; fwi_init) */
    uint8_t trust_key[65];  /* FWIMG_PUBKEY_SIZE bytes: a release key's SEC1 point */
    const char *api_key;    /* the station's API key (NULL: RIG_API_KEY) */
    FILE *station_log;      /* the station's decisions, or NULL */
} rig_opts;

#define RIG_API_KEY "ek3-rig-development-key"

typedef struct rig_module {
    fwi fw;                 /* in-process firmware */
    tp plant_end, fw_end;   /* the HIL channel (external: plant_end only) */
    uint8_t external, lost;
    uint32_t late, hil_errors;
    uint64_t hil_frames;
    int64_t lost_ns;        /* when it was given up */
} rig_module;

typedef struct rig_pool rig_pool;
struct rig;

/* rig_adapt_next's state: zeroed before its first call. */
typedef struct rig_adapt_state {
    int64_t t0_ns;          /* the window's start (monotonic clock, ns) */
    unsigned q;             /* quanta in the window so far */
    unsigned left, gap;     /* windows before the next trial; windows between trials (0: not started) */
    uint8_t trial;          /* this window runs the other way */
    double ns[2];           /* wall ns a quantum, last measured: [0] on the threads, [1] the caller
                               alone (0: not yet) */
} rig_adapt_state;

/* A reader of the modules after their plant update (rig.peek): called in
 * the quantum's second phase, by each thread on its own range k0..k1-1
 * (the caller alone without threads), once its modules' update is done,
 * when rig.peek_due is set. What it reads there is in that thread's
 * cache; the same walk after the quantum, on the caller, pulled every
 * other thread's lines across (the session's snapshot every 1 ms: about
 * a tenth of a two-thread rack's time, docs/bridge.md). Between that phase
 * and the quantum's end only the rack's sums and the swarm's check run
 * (the station and the rack bus run beside it, on the caller, and touch
 * only CAN state: rig_can), and they change no module's plant or
 * firmware state, so it reads what a reader after the quantum would;
 * with rig.run_ahead each thread calls it before it runs on into the
 * next quantum. It may write only its own modules' slots of its own
 * data. */
typedef void (*rig_peek_fn)(void *ctx, const struct rig *g, unsigned k0, unsigned k1);

#define RIG_FLT_LOG 64

typedef struct rig {
    rig_opts o;
    rig_pool *pool;         /* worker threads, or NULL */
    unsigned pool_threads;  /* threads in use, the caller's included */
    uint8_t solo;           /* the caller runs every module this quantum (threads_adapt) */
    uint64_t solo_quanta;   /* quanta run that way because it measured faster (rig_adapt_next's
                               first window and its trials not counted) */
    rig_adapt_state adapt;  /* rig_adapt_next's windows */
    rack plant;
    rig_module *m;
    unsigned n_external;    /* modules with external set (rig_init): 0 skips their loops */
    cbus bus;               /* node 0: station; node k: module k */
    station stn;            /* node 0 */
    fwr *upd;               /* the station's firmware update in progress (the caller's), or NULL */
    swo obs;                /* the swarm's checkers, after every quantum (swarmobs.h) */
    rig_peek_fn peek;       /* NULL, or called in this quantum's second phase when peek_due (above) */
    void *peek_ctx;
    uint8_t peek_due;       /* set by the owner before rig_quantum: this quantum's modules are read */
    /* Set by the owner before rig_quantum: between this quantum and the
     * next it reads and changes no module but through rig.peek (no
     * event, tap or API request due; the plant's rack-level sums, the bus
     * voltage, the station and the load may be read or set). The workers
     * then run the next quantum's phase 0 for their modules straight
     * after this one's plant update and rig.peek (rig_quantum; a
     * frameless rack on threads without external modules): the same
     * results, one handoff a quantum fewer. */
    uint8_t run_ahead;
    uint8_t ahead;          /* the workers ran the coming quantum's phase 0 (rig_quantum) */
    uint8_t p0_done;        /* rig_settle ran the coming quantum's phase 0 for every module */
    uint64_t ahead_quanta;  /* quanta whose plant update the workers ran on from */
    cfd_frame sw_last;      /* the last broadcast ELECTION frame on the rack bus (swarm-replay) */
    uint8_t sw_have;
    struct rig_held *held; /* the log's lines held for a later time (rig_log_flush), in time order */
    unsigned nheld, held_cap;
    int64_t t_ns;
    uint32_t quantum;
    uint64_t hil_frames;
    uint8_t *tx_flag;       /* modules: 1 once its firmware queued a CAN frame (hhal.tx_flag), until rig_can
                               takes them; one contiguous byte a module for the serial part to scan */
    /* Every fault flt_inject applied (--fault, a session's events, a
     * scenario's fault{}), for observers such as the live scope: flt_n
     * counts them, flt_log[i % RIG_FLT_LOG] holds the i-th (its time,
     * flt_id and resolved target slot). */
    uint64_t flt_n;
    struct {
        int64_t t_ns;
        uint16_t id, target;
    } flt_log[RIG_FLT_LOG];
} rig;

/* Options for a test or benchmark rack: n modules, averaged plant, the
 * default parameters, modules booting at 750 V, a resistor drawing
 * load_w at 750 V. */
void rig_default_opts(rig_opts *o, unsigned n, uint64_t seed, double load_w);

/* Build a rack: plant, firmware, channels, bus. 0, or EK3_EINVAL (bad
 * options), EK3_ERANGE (bad plant parameters), EK3_ENOSPC. */
int rig_init(rig *r, const rig_opts *o);
void rig_free(rig *r);

/* One quantum (one control period) for the whole rack. */
void rig_quantum(rig *r);

/* After a quantum run with run_ahead: the coming quantum's phase 0 (the
 * firmware's period and the linearization) done for the caller's modules
 * too, every worker waiting, so that each module is at the same point;
 * the next rig_quantum goes on from there. For an owner that stops
 * between quanta it promised to leave alone (a stop, an error) before it
 * reads the modules. Nothing to do otherwise. */
void rig_settle(rig *r);

/* Attacks on the swarm's frames (fault.h: swarm-forge, swarm-replay),
 * sent on the rack bus from slot's node (a compromised or intruding node
 * there) at the current time. forge: an ELECTION vote request that
 * claims term (the highest term any module holds + term_add) and the
 * longest possible log, from slot, broadcast, tagged with a key that is
 * not the rack's (as a node without the group key can only do). replay:
 * the last broadcast ELECTION frame the bus carried (the leader's APPEND,
 * which every module checks), sent again as it was. 0, or
 * EK3_ENOENT (no such slot; replay: no ELECTION frame seen yet), the
 * bus's error (EK3_EBUSY: the node is cut off or bus-off). */
int rig_fault_swarm_forge(rig *r, unsigned slot, double term_add);
int rig_fault_swarm_replay(rig *r, unsigned slot);

/* The most threads a rig spreads its modules over (rig_opts.threads
 * above it: this many). */
#define RIG_THREADS_MAX 512u

/* The threads' ranges balanced (rig.c calls it every 128 threaded
 * quanta): thread i runs modules cut[i] .. cut[i+1]-1 of m (cut[0] = 0,
 * cut[n] = m) and took busy[i] (any unit of time, the same for all) on
 * them; its speed is modules over time, and each inner cut moves
 * halfway toward the cut that gives the threads ranges in proportion to
 * their speeds (rounded), unless it is within one module of it already,
 * every thread keeping one module at least. Returns 1 when a cut moved;
 * 0, the cuts untouched, when n < 2, n > RIG_THREADS_MAX, m < 2n, the
 * cuts are not as above, a range is empty or a time is 0. */
int rig_cuts_balance(unsigned *cut, unsigned n, unsigned m, const uint64_t *busy);

/* Threads by default (rig_opts.threads_adapt) take at least this many
 * modules each: below it a phase's work per thread is near the cost of
 * handing it over, and each thread more is one more CPU whose stall
 * holds every quantum. On a lent 16-CPU virtual machine (docs/bridge.md,
 * Sixteen cores) 84 modules ran as fast on 8 threads as on 16 when it
 * was quiet (11.8-14.8 x against 12.2-13.7 x), and faster when it was
 * not (9.1-9.8 x against 2.7-8.4 x). */
#define RIG_MODULES_PER_THREAD 10u

/* Threads or the caller alone, decided as the rack runs
 * (rig_opts.threads_adapt; rig_quantum calls it after every quantum with
 * the monotonic clock). The quanta go in windows of RIG_ADAPT_Q; the
 * first window runs on the caller alone, the second on the threads, and
 * the faster way goes on. Every `gap` windows one trial window runs the
 * other way: a trial that wins sets the gap to RIG_ADAPT_GAP0, one that
 * loses doubles it, up to RIG_ADAPT_GAP_MAX (0.1 % of the quanta on the
 * slower way). Two limits keep a slow way short, since on a busy machine
 * a window on threads whose worker lost its CPU took a hundred times one
 * alone (docs/bridge.md): a trial ends, lost, as soon as it has taken
 * longer than the other way's whole window, and a window of the way in
 * use ends as soon as it has taken RIG_ADAPT_STALE times that, the other
 * way's trial following at once. The modules' results do not depend on
 * which way runs them: only the speed changes.
 * solo: how the quantum just run ran (1: the caller alone); now_ns: the
 * clock after it (ns). The first call only starts the first window.
 * Returns how the next quantum runs. No errors. */
#define RIG_ADAPT_Q 100u
#define RIG_ADAPT_GAP0 4u
#define RIG_ADAPT_GAP_MAX 1024u
#define RIG_ADAPT_STALE 4u
uint8_t rig_adapt_next(rig_adapt_state *a, uint8_t solo, int64_t now_ns);

/* The CPUs this process may run on: its affinity mask's count
 * (sched_getaffinity(2), as nproc(1) counts; taskset and a container's
 * cpuset narrow it), else the CPUs online; at least 1. Where a rack's
 * threads default to, and past which they sleep instead of spinning. */
unsigned rig_cpus(void);

/* How many modules thread i (0: the caller) runs now, as the balance
 * left its range; 0 for i at or past pool_threads. Without threads, the
 * caller runs them all. */
unsigned rig_thread_modules(const rig *r, unsigned i);

/* Give the worker threads (threads > 1) the real-time policy the
 * caller's thread has just taken: SCHED_FIFO at priority (1..99), each
 * pinned to its own CPU (the CPUs this process may use, the caller's own
 * skipped; the caller stays where it is). Created before the caller's
 * switch, they would otherwise run as normal threads and be preempted.
 * Real-time threads never take every CPU: with the caller, at most
 * CPUs - 1 of them, so that a rack that cannot keep up does not starve
 * the system; a rack on threads by default (rig_opts.threads_adapt),
 * and workers that cannot all take FIFO (no CPU to spare, as on 2 CPUs,
 * or no permission), are stopped and the caller runs every module (a FIFO caller waiting
 * for a normal worker each phase would be a priority inversion; the run
 * is the same). Returns how many workers took FIFO (0: none are used).
 * priority <= 0: the same rule for the CPUs, the workers pinned and left
 * in their normal policy, spinning between phases (a spinning
 * `--realtime` run: session.c); returns how many are pinned. One thread
 * is the default on purpose: on a 16-CPU virtual machine a paced
 * 84-module rack on 4 threads (3 workers pinned) had 0.83 % of its
 * quanta late in 60 s against 0.26 % on one in 30 s, the same host's
 * preemptions stalling every thread's quantum. */
unsigned rig_realtime(rig *r, int priority);


/* Wait up to timeout_ms for every external module's HELLO (they learn
 * nothing before it, and the plant learns where they are). Returns how
 * many answered; the others are lost from the start. */
unsigned rig_wait_external(rig *r, int timeout_ms);

/* Tell external modules the run is over (BYE). */
void rig_bye(rig *r);

/* Write the log's held lines (rig_opts.log: rack-bus frames that end
 * after the last quantum's end) to it: the owner calls it when the run
 * ends, before it closes the log (ses_finish does; rig_free too). */
void rig_log_flush(rig *r);

#endif /* RIG_H */
