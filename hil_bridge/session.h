/*
 * session.h - a run session (prefix ses_): a rig (rig.h) plus a timeline
 * of timed events and probes sampled into a bounded record, with a
 * consistent snapshot for an observer on another thread. `ek3 rack`, the
 * scenario engine, the nightly report and the live scope drive and read
 * the same session.
 *
 * Time advances in quanta of one control period (RIG_PERIOD_NS, 100 us).
 * One quantum of a session (ses_step), in this order:
 *   1. the events whose time has come take effect, in time order (the
 *      station's start, load steps and ramps, pulls and inserts);
 *   2. a load ramp in progress sets the load for this quantum;
 *   3. rig_quantum: plant and firmware advance one quantum;
 *   4. the bus's collapse watch; the station's API (every 10 quanta);
 *   5. every `every` quanta (the quantum ending on the grid of `every`
 *      quanta from 0 s): one row of probes into the record and a new
 *      snapshot for observers (the record's first row is the rack at 0 s,
 *      before the first quantum; ses_finish adds the end of a run that
 *      ends between rows, a stop's or a --duration off the grid, and the
 *      0 s row of a run stopped before its first quantum);
 *   6. the taps (ses_tap_add), in the order added: traces, the live scope
 *      (and once more at the run's end, ses_end_tap_add: a trace's end);
 *   7. --realtime: the wait for the quantum's deadline on the wall clock
 *      (a sleep, then a spin on the clock for its last rt_spin_ns).
 * Nothing in a session reads the wall clock except the realtime pacing
 * and the timing figures, so a session is as deterministic as its rig:
 * the same options and events give the same run, bit for bit.
 *
 * Errors are negative codes from ek3_err.h.
 */
#ifndef SESSION_H
#define SESSION_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "fault.h"
#include "llc_control.h"
#include "rig.h"
#include "stnapi.h"

#define SES_EVENTS_MAX 1024u    /* events on one timeline */
#define SES_STATION_START_NS 20000000LL /* the station starts the rack no earlier (first heartbeats) */
/* ... and, with a module not heard, once it has heard no new one for this
 * long: the boot storm of first heartbeats hears a new module every 0.1 ms
 * or so (510 modules by 49 ms at 5 Mbit/s), so 30 ms of quiet means the
 * rest are silent (pulled, cut off, late), and the soft start that
 * follows still ends before the default load at 0.5 s. */
#define SES_START_QUIET_NS 30000000LL
/* A rack's run when nothing says otherwise (`ek3 rack`'s flags, a
 * scenario's rack{} keys, `ek3 bench`'s session): 2 s, the load on at
 * 0.5 s over a 0.5 s ramp; the station starts the rack by then at the
 * latest, with the modules it has heard (ses_start_and_load). */
#define SES_RUN_S 2.0
#define SES_LOAD_AT_S 0.5
#define SES_LOAD_RAMP_S 0.5
#define SES_START_BY_S 0.5
#define SES_OUTS_MAX 4u
#define SES_TAPS_MAX 8u         /* observers called every quantum (ses_tap_add) */

typedef enum ses_ev_kind {
    SES_EV_START,  /* the station starts the rack (authenticated POWER_CMD to every module it heard) */
    SES_EV_LOAD,   /* the load steps or ramps to a new value */
    SES_EV_PULL,   /* a module leaves its slot */
    SES_EV_INSERT, /* a module is put back into its slot */
    SES_EV_FAULT,  /* any fault of the fault table (fault.h), injected at at_s */
} ses_ev_kind;

typedef struct ses_event {
    ses_ev_kind kind;
    double at_s;      /* when, seconds of simulated time (>= 0) */
    /* START: from at_s (at least SES_STATION_START_NS) the station starts
     * the rack once it has heard every module, or, with those it has
     * heard, once it has heard no new module for SES_START_QUIET_NS, at
     * by_s at the latest; it asks each online module for
     * stn_module_cap(v_set). A module heard later joins the rack then
     * (the station's split, stn_resplit). */
    double by_s;
    /* LOAD: the load rises linearly from its value at at_s to `load`
     * over ramp_s (0: a step). Its kind must be the rig's load kind; a
     * battery load takes no ramp (the event marks the load on). */
    rack_load load;
    double ramp_s;
    unsigned slot;    /* PULL, INSERT: 1..N */
    flt_spec fault;   /* FAULT: what, where, its parameters (flt_check'd when added) */
    uint8_t refused;  /* PULL: its slot was empty when it came due (counted in ses.fault_errors) */
    uint8_t at_leader; /* FAULT: asked of the swarm's leader (flt_spec.leader, which the session resolves to its
                          module when it comes due; set by the session) */
    char as[80];      /* FAULT, PULL: how it was asked for, as the notes name it ("--pull leader@1s");
                         empty: "--fault" and the fault's text, or "a pull" */
    int64_t done_ns;  /* when it took effect; -1 until then (set by the session) */
    int64_t refused_ns; /* FAULT, PULL: when it came due and was refused (why[] says why); -1 if not (set by the
                           session) */
    char why[256];      /* FAULT, PULL: the reason it was refused (flt_go's without the fault's name before it, cut at
                           255 characters), for the notes and the report */
} ses_event;

/* What a module is doing, as the report and the scope show it. */
typedef enum ses_mstate {
    SES_M_OFF, SES_M_START, SES_M_RUN, SES_M_FAULT, /* in-process firmware (LLC_CONTROL's states) */
    SES_M_PULLED, SES_M_LOST, SES_M_EXT, SES_M_EXT_OFF,
    SES_M_PARKED, /* in-process, parked by SWARM_COORD's provisioning (drv_park): standby, no fault */
} ses_mstate;

/* The name of a ses_mstate: "OFF", "START", "RUN", "FAULT", "PULLED",
 * "LOST", "EXT", "EXT-OFF", "PARKED" ("?" for another value). */
const char *ses_mstate_name(unsigned st);

/* What module k (0..N-1, slot k + 1) of a rig is doing now: PULLED (not
 * in its slot), LOST (an external module given up), FAULT (its safety
 * latch), EXT / EXT-OFF (external: bridge enabled or not), else its
 * LLC_CONTROL state. The report, the record, the snapshot and the
 * scenario signals all read this. */
ses_mstate ses_mod_state(const rig *g, unsigned k);

/* Whether module k (0..N-1) regulates: in its slot, and LLC_CONTROL in
 * RUN or external and answering. 1 or 0. */
int ses_mod_running(const rig *g, unsigned k);

/* Current sharing and the hottest junction over the modules in their
 * slots (the record's i_min, i_mean, i_max, tj_max). */
typedef struct ses_sharing {
    unsigned present;     /* modules in their slots */
    unsigned parked;      /* of them, parked by SWARM_COORD (in standby: left out of the figures below) */
    double i_min, i_mean, i_max; /* output current of the present modules not parked, A (0 with none) */
    double i_spread;      /* (i_max - i_min) / i_mean, a fraction (0 when i_mean <= 0) */
    double tj_max;        /* the hotter half-bridge junction, C (0 with no module in its slot) */
} ses_sharing;
void ses_sharing_of(const rig *g, ses_sharing *out);

/* A FAULT_ALERT the station received, as the snapshot keeps it. */
typedef struct ses_alert {
    int64_t ns;           /* when (-1: none) */
    uint8_t code;         /* msg_fault_code (msg.h, FAULT_ALERT) */
    uint8_t sev;          /* msg_severity */
    uint8_t flags;        /* MSG_FAULT_F_* */
    double value;         /* in the unit of the code (msg_fault_value_of) */
} ses_alert;

typedef struct ses_mod_snap {
    uint8_t present, external, lost, state; /* state: ses_mstate */
    uint8_t running;      /* regulating (ses_mod_running) */
    uint8_t on_bus;       /* its output on the bus: in its slot, its relay closed (pmod.relay) */
    uint8_t limited;      /* running at its limit: LLC_CONTROL's droop current clamped at I_lim, or its
                             drive at its end short of the reference, this period (llcc.limited;
                             in-process modules; 0 for external ones), so it no longer holds its
                             output voltage */
    double io, vo, pin;   /* output current A, output voltage V, input power W */
    double q_out, e_out, e_in; /* since the run began: charge out (C), energy out and in (J) (pmod's
                                  integrals: a window's mean is two snapshots' difference over its length) */
    double i_lim;         /* the current limit LLC_CONTROL holds this period, A, as its own sensor reads
                             (llcc.i_lim: the ceiling, a power command, derating; 0 for external modules) */
    float derate;         /* THERMAL_MGR's power factor LLC_CONTROL holds, 0..1 (llcc.derate; 1: none, and
                             for external modules) */
    double tja, tjb;      /* junction temperatures of the two half-bridges, C */
    double fsw_hz;        /* the firmware's switching frequency command */
    uint32_t resets;      /* firmware resets */
    int64_t trip_ns;      /* latched (in FAULT, or pulled since): when its SAFETY_MONITOR latched the first
                             of its faults, by the module's clock (the rig's); -1 otherwise and for
                             external modules */
    int64_t pulled_ns;    /* when a PULL event took it out (-1: in its slot) */
    ses_alert fault;      /* the station's last FAULT_ALERT from it */
    ses_alert cause;      /* its first of the highest severity, not a clearing one (station.h stn_module) */
    ses_alert first;      /* its first, whatever its severity (ns -1: none) */
    uint32_t alerts;      /* FAULT_ALERT frames the station heard from it */
    float trim;           /* SWARM_COORD's balancing trim on its droop reference, V */
    uint8_t parked;       /* parked by the swarm's provisioning */
    int8_t role;          /* its SWARM_COORD's raft_role, -1 when not read (swarmobs.h swo_state) */
} ses_mod_snap;

/* The state of the rack at the end of one quantum. */
typedef struct ses_snap {
    uint32_t seq;         /* the sequence count it was published under */
    int64_t t_ns;         /* simulated time */
    long quanta;          /* quanta run: t_ns / RIG_PERIOD_NS */
    double vbus, p_load, i_load; /* V, W, A */
    double e_load;               /* what the feed delivered since the run began, J (rack.e_load) */
    double e_step;               /* what the bus step lost since the run began, J (rack.e_step) */
    unsigned online;      /* modules the station heard within STN_ONLINE_NS */
    stn_stats stn;        /* the station's counters */
    uint64_t hil_frames, bus_frames, bus_error_frames;
    double bus_load;      /* 0..1 */
    swo_sum swarm;        /* the swarm: leader, term, elections, breaches, failovers (swarmobs.h) */
    unsigned n;           /* modules */
    ses_mod_snap *mod;    /* mod[slot - 1]; the reader's array of n */
} ses_snap;

/* The report's window: its means over the run's last 100 ms (the
 * currents a power analyser reads; one quantum's carry the control's
 * noise: 2.3 % spread on 4 modules against 0.3 % over 10 ms). */
#define SES_WINDOW_NS 100000000LL

typedef struct ses_out {
    FILE *f;
    const char *path;
} ses_out;

/* --realtime's default spin: the whole quantum. A 100 us quantum leaves
 * less slack than a virtual machine's wake-up latency (bridge.host_floor:
 * 40-90 us median-p99 on the CI's VMs), so sleeping through it makes
 * quanta late; spinning on CLOCK_MONOTONIC meets the deadline within the
 * clock read (docs/bridge.md, Real time). */
#define SES_RT_SPIN_NS RIG_PERIOD_NS
/* A spin through the whole quantum runs as a normal thread, not
 * SCHED_FIFO: the kernel's real-time limit (sched_rt_runtime_us 950 000
 * of 1 000 000) stops a FIFO thread that never sleeps for 50 ms each
 * second (6.2 % of quanta late in a bare spin loop, 0.05 % as a normal
 * thread; nice -20 starves the other processes on its CPU). A shorter
 * spin sleeps first, under SCHED_FIFO. */
/* A quantum counts as late when the next one starts more than this past
 * its time on the wall clock, ns: a tenth of the quantum. An overrun (the
 * quantum's own work ending past its deadline) is late by as much. */
#define SES_RT_TOL_NS (RIG_PERIOD_NS / 10)

typedef struct ses_opts {
    rig_opts r;
    long quanta;          /* the run's length (ses_run), >= 1 */
    unsigned every;       /* quanta between two probe rows and snapshots (0: 10, 1 ms) */
    long record_rows;     /* rows the record holds; the oldest go first when full (0: the whole run) */
    uint8_t probe_modules; /* also each module's iout, vout, tj, state in the record */
    uint8_t realtime;     /* pace quanta to the wall clock (SCHED_FIFO, memory locked if allowed) */
    uint8_t run_ahead;    /* the owner reads the rig between quanta only through the session (its
                           * snapshots, probes, taps, API): on a quantum after which no tap, API
                           * request nor event is due, the workers run on into the next
                           * (rig.run_ahead; a snapshot's modules are read before, rig.peek) */
    int64_t rt_spin_ns;   /* realtime: the last part of each quantum waited for by spinning on the
                           * clock rather than sleeping, ns (0: SES_RT_SPIN_NS, the whole quantum;
                           * negative: sleep only, as clock_nanosleep wakes) */
    int64_t rt_tol_ns;    /* realtime: lateness a quantum may have and not count as late, ns
                           * (0: SES_RT_TOL_NS; negative: none, every late ns counts) */
    const char *api;      /* udp:HOST:PORT: the station's API, or NULL */
    /* Outputs whose first write error stops the run at the end of a
     * quantum (checked every 100 quanta), and the protection trace. */
    ses_out outs[SES_OUTS_MAX];
    const char *rtl_vcd;  /* module 1's protection trace is open on this path */
    const char *rtl_vcd_name; /* its name in a write error, e.g. "--rtl-vcd PATH" (NULL: the path) */
    int (*stop)(void *ctx); /* polled every quantum: a signal number stops the run (NULL: never) */
    void *stop_ctx;
    FILE *notes;          /* the station's start and the API's port are told here (NULL: nowhere) */
    int stop_unsaid;      /* an output's write error that stops the run is not told in the notes:
                             the caller says it (a scenario's ERROR names it: ses.stop_why) */
    const char *who;      /* their prefix, e.g. "ek3 rack" */
} ses_opts;

/* The probe record: rows of ncol doubles, a ring of cap rows. */
typedef struct ses_record {
    unsigned ncol;
    long cap, head, count; /* rows held: head .. head + count - 1 (mod cap) */
    uint64_t total;        /* rows ever written */
    double *rows;
} ses_record;

struct ses;
/* A tap: called at the end of every quantum on the session's thread
 * (after the probes, before the realtime wait), with the rig at the
 * quantum's end. It may read the rig (sig_read) but not change it. To
 * stop the run it calls ses_fail. */
typedef void (*ses_tap_fn)(struct ses *s, void *ctx);

typedef struct ses {
    ses_opts o;
    ses_tap_fn tap[SES_TAPS_MAX];
    void *tap_ctx[SES_TAPS_MAX];
    unsigned ntap;
    ses_tap_fn end_tap[SES_TAPS_MAX]; /* called once by ses_finish (ses_end_tap_add) */
    void *end_tap_ctx[SES_TAPS_MAX];
    unsigned nend_tap;
    rig g;
    unsigned fault_errors; /* FAULT events flt_inject refused at their time, and PULLs of an empty slot */
    llcc_cfg kc;          /* what every module's LLC_CONTROL runs with */
    ses_event ev[SES_EVENTS_MAX];
    unsigned nev, next;   /* events, sorted by time; the first not yet taken */
    int ramp;             /* the LOAD event ramping, or -1 */
    double ramp_p0, ramp_g0; /* the load's power (W) and conductance (S) when it began */
    rack_load load0;      /* the rig's load as built */
    /* the run */
    long q;
    int started, bus_up, load_on;
    int64_t start_ns, collapse_ns, load_on_ns;
    int64_t sag_ns;       /* since when the bus, once up, is under ses_sag_floor_v (-1: not under it) */
    double sag_v[2];      /* the bus every SES_SAG_EVERY_NS: the sample before the last, the last, V */
    int64_t sag_t[2];     /* their times, ns (-1: none yet) */
    unsigned starts;      /* START events not yet done */
    unsigned start_on;    /* the modules the station started the rack with (the last START) */
    unsigned heard_n;     /* while one is: modules the station hears, */
    int64_t heard_ns;     /* since this time (ses_start_check's quiet) */
    int stop_sig;         /* the signal that stopped the run, or 0 */
    char stop_why[600];   /* the output error that stopped the run, or "" */
    int stop_out;         /* its index in o.outs, or -1 (the protection trace: SES_OUTS_MAX) */
    /* probes */
    ses_record rec;
    /* the snapshot: a sequence-counted double buffer */
    _Atomic uint32_t seq;
    ses_snap snap[2];
    /* the snapshot at the start of the report's window (SES_WINDOW_NS
     * before the planned end, on the snapshot grid: win_q quanta), kept
     * whole; win.seq 0 until it is taken */
    long win_q;
    ses_snap win;
    /* the station's API */
    sapi api;
    /* timing */
    int64_t t0_wall_ns;
    double init_s, wall_s; /* set-up (rig, HELLO wait); the run (ses_finish) */
    int64_t *late;        /* realtime: each quantum's lateness, ns */
    long overruns;        /* realtime: quanta whose work ended past their deadline */
    long late_n;          /* realtime: quanta after which the next started more than the tolerance late */
    long ivcsw0, ivcsw;   /* the stepping thread's involuntary context switches at the first quantum;
                           * during the run (ses_finish; -1: unknown) */
    long ivcsw_all0, ivcsw_all; /* the same for every thread of the process (the rig's workers too) */
    int fifo, locked;
    unsigned fifo_workers;  /* realtime: worker threads that took SCHED_FIFO too (rig_realtime) */
    int failed_at;        /* what ses_init could not set up (ses_init_step) */
} ses;

/* The step of ses_init that failed, in s->failed_at. */
typedef enum ses_init_step { SES_INIT_RIG, SES_INIT_MEMORY, SES_INIT_TRACE, SES_INIT_API } ses_init_step;

/* The realtime tolerance o->rt_tol_ns stands for, ns (>= 0): SES_RT_TOL_NS
 * for 0, 0 for a negative value. */
int64_t ses_rt_tol_ns(const ses_opts *o);

/* Build a session: the rig (rig_init), the record, the snapshot buffers,
 * the station's API if o->api. The load is off (0 W; a resistor at the
 * bleed resistance) until a LOAD event. A ses is large: allocate it
 * statically or on the heap. 0, or EK3_EINVAL (bad options), EK3_ERANGE
 * (bad plant parameters), EK3_ENOSPC (memory), EK3_EIO with errno (the
 * protection trace), or sapi_open's error (the API's address); s->failed_at
 * says which step failed. */
int ses_init(ses *s, const ses_opts *o);
void ses_free(ses *s);

/* Put an event on the timeline (before ses_step or ses_run). Events at
 * the same time keep their order. 0, or EK3_EINVAL (a time < 0, a slot
 * not in the rack, a load of another kind, a FAULT that flt_check
 * refuses), EK3_EBUSY (a second pull of one slot), EK3_ENOSPC
 * (SES_EVENTS_MAX). A FAULT that cannot be applied when its time comes
 * (flt_inject fails) is told in the notes and counted in fault_errors. */
int ses_add_event(ses *s, const ses_event *e);

/* The soft start's length (s): the ramp from 0 to 110 % of the set point
 * at LLC_CONTROL's ramp_vps (llc_control.h), 0.41 s at 750 V. */
double ses_soft_start_s(const ses *s);

/* The start of every rack run: START from start_s (the station starts
 * the rack once it has heard every module, by min(load_at,
 * SES_START_BY_S) at the latest), then the load `load` at load_at (s)
 * over ramp_s (s; 0: a step), unless it is no load (a constant power of
 * 0 W). As `ek3 rack`, a scenario's rack{} and `ek3 bench` start theirs.
 * 0, or ses_add_event's error. */
int ses_start_and_load(ses *s, double start_s, double load_at, double ramp_s, const rack_load *load);

/* Take module `slot` (1..N) out of its slot now (a PULL event's work,
 * the fault table's "pull"). 0, or EK3_EINVAL, or flt_inject's errors. */
int ses_pull(ses *s, unsigned slot);

/* Call fn(s, ctx) at the end of every quantum from now on (step 6 of
 * ses_step), after the taps added before it. 0, or EK3_EINVAL (s or fn
 * NULL), EK3_ENOSPC (SES_TAPS_MAX taps already). */
int ses_tap_add(ses *s, ses_tap_fn fn, void *ctx);

/* Call fn(s, ctx) once when the run is over (ses_finish, after the end's
 * row), with the rig at the run's end, which may lie between the rows of
 * a tracer that samples every N quanta (a stop, a --duration off its
 * grid). A tracer adds its end there; ses_finish called again calls fn
 * again, at the same time. 0, or EK3_EINVAL (s or fn NULL), EK3_ENOSPC
 * (SES_TAPS_MAX already). */
int ses_end_tap_add(ses *s, ses_tap_fn fn, void *ctx);

/* Stop the run at the end of this quantum with a reason (printf format,
 * cut to fit stop_why), as an output error does: the next ses_step
 * returns EK3_EBUSY and stop_why says why. The first reason is kept. */
void ses_fail(ses *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Wait up to timeout_ms for the external modules' HELLO (rig_wait_external).
 * Returns how many answered. */
unsigned ses_wait_external(ses *s, int timeout_ms);

/* The slot whose node event e cuts off the rack bus before the station
 * can start the rack (a bus-cut fault with its slot named, at a time
 * before SES_STATION_START_NS): its module never hears START (0 for any
 * other event). */
unsigned ses_cut_before_start(const ses_event *e);

/* The event that cuts the station (node 0) off the rack bus before it
 * can start the rack (a bus-cut fault of node 0 at a time before
 * SES_STATION_START_NS, in a run the station starts: a START event), or
 * NULL. Then it hears no module and starts none. */
const ses_event *ses_station_cut_before_start(const ses *s);

/* Since when node `node` (0: the station, 1..N: the module in that slot)
 * has been off the rack bus, cut by a bus-cut fault of the session's
 * timeline (ns of simulated time: the quantum the last one done, a
 * leader's resolved, took effect: a cut of a node cut off already is
 * refused, and an insert or a clear ends a cut), or -1 when it is on the bus now (never
 * cut, or the cut cleared) or was cut by none of the timeline's events (a
 * scenario's own injection). From the bus's own state (canbus.h,
 * cbus_node.cut) and the events. */
int64_t ses_cut_since_ns(const ses *s, unsigned node);

/* Since when the rack's bus is shorted (fault `short`, rack.r_short > 0):
 * the time the timeline's last short took effect (ns of simulated time),
 * 0 when the short in force is none of the timeline's (a scenario's own
 * injection: counted from the start), -1 when the bus is not shorted. A
 * collapse is the short's only when the short went in before it (a
 * short after a collapse is not its cause): ses_short_caused. */
int64_t ses_short_since_ns(const ses *s);

/* Whether the bus is shorted by a short that went in no later than the
 * first module's trip (SAFETY_MONITOR's latch, in-process modules), or,
 * with none tripped, than the collapse (or at all, with neither): the
 * one rule by which the report and `ek3 rack`'s last line name a short
 * as a collapse's cause. 1 or 0. */
int ses_short_caused(const ses *s);

/* What the rack can deliver (W, an upper bound: busbar drops left out)
 * with its modules less those pulled on the timeline (a SES_EV_PULL, or a
 * pull fault with its slot named; a leader's pull not gone in yet takes
 * one, which one is known only in the run), those cut off the bus before the
 * start (ses_cut_before_start; an insert puts a node back, and a module
 * back in its slot, unless its pre-charge, ses_insert_ready_ns, ends
 * after the run's end: the quanta run, or o.quanta before; none at all
 * when the station is cut off before the start:
 * ses_station_cut_before_start) and the external
 * ones lost (one that never said HELLO), and what the load
 * asks at the set point after full droop (W; 0 for a battery). Returns
 * the modules counted. */
unsigned ses_capacity(const ses *s, double *cap_w, double *demand_w);

/* The simulated time (ns) an event at t_s (s) acts at: the start of the
 * first quantum at or after it, to the ns (1.0000000004 s acts at
 * 1.0001 s; a decimal time's binary rounding within 1 ps is no later:
 * 1.1 s acts at 1.1 s); ses_step takes the events whose time has come
 * before it steps the rig. */
int64_t ses_act_ns(double t_s);

/* How long after its insert acts a module put in delivers at the
 * earliest (ns, on the quantum grid): its pre-charge, the output walked
 * from rest to the set point (o.r.v_set, V) at LLCC_PRECHARGE_VPS
 * (llc_control.h) before its relay may close (drivers.h); 37.5 ms at
 * 750 V. Its first heartbeat and the station's start come before it
 * (about 2 ms), its current's rise to its share after (about 10 ms):
 * an 8-module rack put back at 1.2 s closes its relay at 1.2386 s and
 * shares at 1.2485 s. */
int64_t ses_insert_ready_ns(const ses *s);

/* One step of what the rack can deliver over the run (ses_capacity_steps). */
typedef struct ses_cap_step {
    double t_s;   /* from: the start of the quantum its pulls and inserts act in (s) */
    double cap_w; /* what its modules deliver, as ses_capacity counts a module (W) */
    unsigned n;   /* its modules */
} ses_cap_step;

/* What the rack can deliver over the timeline, as steps in time order:
 * step i holds from st[i].t_s until st[i + 1].t_s or the run's end. The
 * first is at the first load event (the rack with no load asked of it
 * does not count), each later one where a pull or an insert changes the
 * count (a module pulled and put back is out in between, and until its
 * pre-charge ends, ses_insert_ready_ns, if that is in the run; a leader's pull
 * takes one out, which one is known only in the run, until the run's
 * end; a gate-off or open fault takes its module out, though it stays in
 * its slot: it delivers nothing); the last is the rack ses_capacity
 * gives, less the modules such a fault left delivering nothing (its
 * count is of the modules in their slots). Equal neighbours are
 * merged. Writes at most cap steps; returns how many there are (more
 * than cap: the first cap are written), 0 with no load event. For the
 * warnings before the run. */
unsigned ses_capacity_steps(const ses *s, ses_cap_step *st, unsigned cap);

/* One quantum, as in the header comment. 0, or EK3_EBUSY once a stop
 * (signal, output error) has been asked for: then nothing ran. */
int ses_step(ses *s);

/* Step until simulated time t_ns or a stop. 0, or EK3_EBUSY. */
int ses_run_to(ses *s, int64_t t_ns);

/* Step the whole run (o.quanta), then ses_finish. 0, or EK3_EBUSY
 * (stopped: see stop_sig, stop_why). */
int ses_run(ses *s);

/* The run is over: tell external modules (BYE), add the end's row when
 * the last row is earlier, publish the last snapshot, call the end taps
 * (ses_end_tap_add), flush the API's open bursts. */
void ses_finish(ses *s);

/* The probes: column index of a name, or -1. Rack columns: "t" (s),
 * "vbus" (V), "p_load" (W), "i_load" (A), "i_min", "i_mean", "i_max"
 * (A, over the modules in their slots), "tj_max" (C), "online",
 * "stn_sent", "stn_acked"; with probe_modules, per module K (1..N):
 * "iout.K" (A), "vout.K" (V), "tj.K" (C, the hotter half-bridge),
 * "state.K" (ses_mstate). */
int ses_probe_find(const ses *s, const char *name);

/* The name of column `col` into buf[cap]; NULL if there is none. */
const char *ses_probe_name(const ses *s, unsigned col, char *buf, size_t cap);

/* Rows in the record, and row i (0: the oldest held). Read from the
 * session's own thread; another thread reads ses_snapshot. */
long ses_rec_rows(const ses *s);
const double *ses_rec_row(const ses *s, long i);

/* Copy the latest snapshot into *out, whose mod must have room for
 * s->g.o.modules. Safe from another thread while the session runs: the
 * writer fills the buffer readers are not told about, then advances the
 * sequence count; a reader that saw the count move while copying copies
 * again. Returns the snapshot's sequence count (0: none published yet,
 * *out untouched). */
uint32_t ses_snapshot(ses *s, ses_snap *out);

/* Close module 1's protection trace (o.rtl_vcd): 0, or the errno of its
 * first failed write or of the close. */
int ses_trace_close(ses *s);

/* Whether the rack failed its load, with the load on and the rack
 * started: SES_COLLAPSED (every module in its slot tripped, none left in
 * its slot (every one pulled), some tripped and none of the rest feeding
 * (starting, running, parked: the others never started), or the bus
 * under half its set point once
 * it was up, or never up once the soft start is over with the load
 * switched on after it or no module started), SES_NOT_UP (the bus under
 * half its set point, never up, and held there: the load takes all the
 * current the modules can give, or it came on during the soft start and
 * the soft start is over), or 0 (a bus still rising is no verdict). */
enum { SES_COLLAPSED = 1, SES_NOT_UP = 2 };
int ses_collapsed(const ses *s);

/* The sag watch: a bus sags when it is under its droop band and falling,
 * the load taking more than the modules give at their current limit (a
 * constant-power load draws more the lower the bus, so it goes on to a
 * collapse). The band's foot is where droop puts the bus with every
 * module at its current limit, V_set - R_droop x i_max (llc_control.h);
 * the floor is SES_SAG_MARGIN of V_set under it, so that a load step's
 * dip within the modules' reach is no sag. */
#define SES_SAG_MARGIN 0.01         /* of the set point, under the band's foot */
#define SES_SAG_HOLD_NS 10000000LL  /* under the floor this long, ns */
#define SES_SAG_EVERY_NS 10000000LL /* the slope over at least this long, ns */
#define SES_SAG_VPS 1.0             /* and falling faster than this, V/s */

/* The bus voltage under which it is out of its droop band, V:
 * V_set - R_droop x i_max - SES_SAG_MARGIN x V_set (*foot: the band's
 * foot without the margin, may be NULL). */
double ses_sag_floor_v(const ses *s, double *foot);

typedef struct ses_sag {
    double v;         /* the bus at the run's end, V */
    double floor_v;   /* ses_sag_floor_v, V */
    double foot_v;    /* the band's foot, V_set - R_droop x i_max, V */
    double since_s;   /* under the floor since, s of simulated time */
    double vps;       /* its slope over the last 10 to 20 ms, V/s (negative) */
    double to_half_s; /* falling: at that slope, the time until the bus is at half its set point (a collapse),
                       * s; held: -1 */
    unsigned pending; /* SES_SAG_HELD withheld: the slot of the module put back still pre-charging (the last
                       * ready of them), else 0 */
    double put_s, ready_s; /* it went in at, s; it is pre-charged at the earliest at (ses_insert_ready_ns), s */
} ses_sag;

/* Whether the started rack, its load on and its bus up once, ends out of
 * its droop band: not collapsed (ses_collapsed 0), the bus under the
 * floor for SES_SAG_HOLD_NS or more, and SES_SAG_HELD for a resistor
 * (its current falls with the bus: held, or settling, where the modules'
 * limit meets it; none while it rises faster than SES_SAG_VPS, or while
 * a module put back is still pre-charging, ses_insert_ready_ns), else over the last SES_SAG_EVERY_NS to twice that
 * SES_SAG_FALLING (falling faster than SES_SAG_VPS) or SES_SAG_HELD
 * (within SES_SAG_VPS of level: a constant power under its v_min acts as
 * a resistor); rising faster, recovering (a module put back), is no
 * verdict, nor a battery's bus (its own, below the band in a
 * constant-current charge). SES_SAG_FALLING or SES_SAG_HELD with *out
 * filled, pending 0 (out may be NULL); 0 with *out filled, pending the
 * slot, for a SES_SAG_HELD withheld while a module put back pre-charges;
 * else 0 (*out untouched). */
enum { SES_SAG_FALLING = 1, SES_SAG_HELD = 2 };
int ses_sagging(const ses *s, ses_sag *out);

/* How a pull or a fault of the timeline was asked for, as the notes and
 * the report name it: its `as` ("--pull leader@1s"), else "--fault " and
 * the fault's text (flt_format; a leader target as asked,
 * "gate-off:leader@1.2s", not the module it went into), else "a pull" or
 * "a fault". Into buf (cap bytes, cut to fit); returns buf. */
const char *ses_event_as(const ses_event *e, char *buf, size_t cap);

/* The ramp a LOAD event applies, s: its ramp_s, none for a battery (its
 * event marks the load on: ses_ramp) and for any other event. */
static inline double ses_event_ramp_s(const ses_event *e)
{
    return e->kind == SES_EV_LOAD && e->load.kind != RACK_LOAD_BATTERY ? e->ramp_s : 0.0;
}

/* The slot a PULL event, or the fault pull, takes out (a leader's as
 * resolved when it went in); 0 for any other event. */
static inline unsigned ses_pull_slot(const ses_event *e)
{
    return e->kind == SES_EV_PULL ? e->slot : e->kind == SES_EV_FAULT && e->fault.id == FLT_PULL ? e->fault.target : 0;
}

/* The slot an INSERT event, or the fault insert, puts a module into; 0
 * for any other event. */
static inline unsigned ses_insert_slot(const ses_event *e)
{
    return e->kind == SES_EV_INSERT                               ? e->slot
           : e->kind == SES_EV_FAULT && e->fault.id == FLT_INSERT ? e->fault.target
                                                                  : 0;
}

/* Whether event e is a fault that leaves its module in its slot
 * delivering nothing (gate-off, open: fault.h), its slot fault.target
 * (0 for a leader's not gone in yet). */
static inline int ses_holds_off(const ses_event *e)
{
    return e->kind == SES_EV_FAULT && (e->fault.id == FLT_GATE_OFF || e->fault.id == FLT_OPEN);
}

#endif /* SESSION_H */
