/* session.c - a run session: a rig, a timeline of events, probes into a
 * bounded record, and a sequence-counted snapshot (session.h). */
#define _GNU_SOURCE
#include "session.h"
#include "cli.h"
#include "swarm.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include "ek3_err.h"
#include "rtlprot.h"

/* The record's rack columns, in order (session.h names their units). */
enum { SC_T, SC_VBUS, SC_PLOAD, SC_ILOAD, SC_IMIN, SC_IMEAN, SC_IMAX, SC_TJMAX, SC_ONLINE, SC_SENT, SC_ACKED, SC_N };
static const char *const ses_cols[SC_N] = {"t",     "vbus",  "p_load", "i_load", "i_min",    "i_mean",
                                           "i_max", "tj_max", "online", "stn_sent", "stn_acked"};
static const char *const ses_mcols[4] = {"iout", "vout", "tj", "state"};

/* A spin-wait's pause hint (x86 PAUSE, AArch64 YIELD): the sibling
 * hardware thread and the power manager know the loop waits. */
static inline void ses_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* The calling thread's involuntary context switches so far (the host's
 * scheduler giving its CPU to other work), or -1. */
static long ses_ivcsw(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nivcsw : -1;
}

/* The same for every thread of the process (the rig's workers too). */
static long ses_ivcsw_all(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_nivcsw : -1;
}

static int64_t ses_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *ses_mstate_name(unsigned st)
{
    static const char *const names[] = {"OFF", "START", "RUN", "FAULT", "PULLED", "LOST", "EXT", "EXT-OFF", "PARKED"};
    return st < sizeof names / sizeof names[0] ? names[st] : "?";
}

ses_mstate ses_mod_state(const rig *g, unsigned k)
{
    const pmod *pm = &g->plant.mod[k];
    if (!pm->present)
        return SES_M_PULLED;
    if (g->m[k].lost)
        return SES_M_LOST;
    if (!g->m[k].external && g->m[k].fw.drv.safety.latched)
        return SES_M_FAULT;
    if (g->m[k].external)
        return pm->cmd.enable ? SES_M_EXT : SES_M_EXT_OFF;
    if (g->m[k].fw.drv.ctl.parked && g->m[k].fw.drv.ctl.state == LLCC_OFF)
        return SES_M_PARKED;
    return (ses_mstate)(g->m[k].fw.drv.ctl.state & 3);
}

int ses_mod_running(const rig *g, unsigned k)
{
    if (!g->plant.mod[k].present)
        return 0;
    return g->m[k].external ? !g->m[k].lost : g->m[k].fw.drv.ctl.state == LLCC_RUN;
}

/* ses_sharing_of's sums: ses_sharing_add for each module in slot order,
 * then ses_sharing_end. */
typedef struct ses_sharing_acc {
    double imin, imax, isum, tj;
    unsigned on, parked;
} ses_sharing_acc;

static inline void ses_sharing_add(ses_sharing_acc *a, int present, int parked, double io, double ta, double tb)
{
    if (!present)
        return;
    if (parked) { /* standby by provisioning: shares nothing */
        a->parked++;
        return;
    }
    /* Comparisons, not fmin/fmax (library calls): a scenario's watchers read this every quantum. */
    a->imin = io < a->imin ? io : a->imin, a->imax = io > a->imax ? io : a->imax, a->isum += io, a->on++;
    a->tj = ta > a->tj ? ta : a->tj, a->tj = tb > a->tj ? tb : a->tj;
}

static void ses_sharing_end(const ses_sharing_acc *a, ses_sharing *out)
{
    unsigned on = a->on;
    out->parked = a->parked;
    out->present = on + a->parked;
    out->i_min = on ? a->imin : 0, out->i_max = a->imax, out->i_mean = on ? a->isum / on : 0;
    out->i_spread = out->i_mean > 0 ? (a->imax - out->i_min) / out->i_mean : 0;
    out->tj_max = on ? a->tj : 0;
}

#define SES_SHARING_ACC0 {.imin = 1e9, .imax = 0, .isum = 0, .tj = -1e9}

void ses_sharing_of(const rig *g, ses_sharing *out)
{
    ses_sharing_acc a = SES_SHARING_ACC0;
    for (unsigned k = 0; k < g->o.modules; k++) {
        const pmod *pm = &g->plant.mod[k];
        ses_sharing_add(&a, pm->present, !g->m[k].external && g->m[k].fw.drv.ctl.parked, pm->io, pm->th.t[TH_JA],
                        pm->th.t[TH_JB]);
    }
    ses_sharing_end(&a, out);
}

/* The snapshot's part of module k that the module's own state gives
 * (the station's part and pulled_ns: ses_publish). */
static void ses_mod_fill(const rig *g, unsigned k, ses_mod_snap *m)
{
    const pmod *pm = &g->plant.mod[k];
    m->present = pm->present, m->external = g->m[k].external, m->lost = g->m[k].lost;
    m->state = (uint8_t)ses_mod_state(g, k);
    m->running = (uint8_t)ses_mod_running(g, k);
    m->on_bus = pm->present && pm->relay;
    const llcc *ctl = &g->m[k].fw.drv.ctl;
    m->limited = m->running && !g->m[k].external && ctl->limited; /* the firmware's own (llcc.limited) */
    m->io = pm->io, m->vo = pm->vo, m->pin = pm->pin;
    m->q_out = pm->q_out, m->e_out = pm->e_out, m->e_in = pm->e_in;
    m->i_lim = g->m[k].external ? 0.0 : ctl->i_lim;
    m->derate = g->m[k].external ? 1.0f : ctl->derate;
    m->tja = pm->th.t[TH_JA], m->tjb = pm->th.t[TH_JB];
    m->fsw_hz = g->m[k].fw.h.pwm.fsw_hz, m->resets = g->m[k].fw.resets;
    m->trim = g->m[k].external ? 0.0f : g->m[k].fw.drv.ctl.trim;
    /* latched: in FAULT in its slot, or pulled since (its firmware keeps the latch); in-process only */
    m->trip_ns = !g->m[k].external && g->m[k].fw.drv.safety.latched ? g->m[k].fw.drv.safety.trip_ns : -1;
    m->parked = !g->m[k].external && g->m[k].fw.drv.ctl.parked;
    const void *sw = swo_state(g, k + 1);
    swm_view v;
    swm_view_of(sw, &v);
    m->role = sw ? (int8_t)v.role : -1;
}

/* The snapshot ses_publish writes next: the buffer readers are not told about. */
static ses_snap *ses_snap_next(ses *s)
{
    return &s->snap[(atomic_load_explicit(&s->seq, memory_order_relaxed) + 1) & 1];
}

/* rig.peek: each thread fills its own modules' part of the next
 * snapshot, in the phase that updated them (rig.h rig_peek_fn). */
static void ses_peek(void *ctx, const rig *g, unsigned k0, unsigned k1)
{
    ses_snap *d = ses_snap_next(ctx);
    for (unsigned k = k0; k < k1; k++)
        ses_mod_fill(g, k, &d->mod[k]);
}

int ses_init(ses *s, const ses_opts *o)
{
    if (!s || !o || o->quanta < 1)
        return EK3_EINVAL;
    int64_t t_init = ses_wall_ns();
    memset(s, 0, sizeof *s);
    s->o = *o;
    if (!s->o.every)
        s->o.every = 10;
    s->ramp = -1;
    s->start_ns = s->collapse_ns = s->load_on_ns = s->sag_ns = -1;
    s->sag_t[0] = s->sag_t[1] = -1;
    s->stop_out = -1;
    s->api.fd = -1;
    s->failed_at = SES_INIT_RIG;
    int rc = rig_init(&s->g, &s->o.r);
    if (rc)
        return rc;
    s->g.peek = ses_peek; /* the snapshot's modules, read by the threads that run them */
    s->g.peek_ctx = s;
    s->failed_at = SES_INIT_MEMORY;
    unsigned n = s->g.o.modules;
    llcc_default_cfg(&s->kc); /* as rig_init sets every module's (an external module's too) */
    if (s->o.r.r_droop > 0)
        s->kc.r_droop = s->o.r.r_droop;
    /* The record and the snapshot buffers. */
    s->rec.ncol = SC_N + (s->o.probe_modules ? 4 * n : 0);
    /* rows: the start, one every `every` quanta, the end when it is off that grid */
    s->rec.cap = s->o.record_rows > 0 ? s->o.record_rows : s->o.quanta / (long)s->o.every + 2;
    s->rec.rows = calloc((size_t)s->rec.cap * s->rec.ncol, sizeof(double));
    s->snap[0].mod = calloc(n, sizeof(ses_mod_snap));
    s->snap[1].mod = calloc(n, sizeof(ses_mod_snap));
    s->win.mod = calloc(n, sizeof(ses_mod_snap));
    /* the window's start: on the grid of `every` quanta (a snapshot), SES_WINDOW_NS or more before the end */
    s->win_q = (s->o.quanta - SES_WINDOW_NS / RIG_PERIOD_NS) / (long)s->o.every * (long)s->o.every;
    s->late = s->o.realtime ? calloc((size_t)s->o.quanta, sizeof *s->late) : NULL;
    if (!s->rec.rows || !s->snap[0].mod || !s->snap[1].mod || !s->win.mod || (s->o.realtime && !s->late)) {
        ses_free(s);
        return EK3_ENOSPC;
    }
    s->failed_at = SES_INIT_TRACE;
    errno = 0;
    if (s->o.rtl_vcd && (!s->g.plant.mod[0].prot || rtlp_trace(s->g.plant.mod[0].prot, s->o.rtl_vcd))) {
        if (!errno)
            errno = EIO;
        int e = errno;
        ses_free(s);
        errno = e;
        return EK3_EIO;
    }
    s->failed_at = SES_INIT_API;
    if (s->o.api) {
        rc = sapi_open(&s->api, &s->g.stn, s->o.r.v_set, s->o.api);
        if (rc) {
            ses_free(s);
            return rc;
        }
        if (s->o.notes)
            fprintf(s->o.notes, "%s: the station's API listens on %s (port %d)\n", s->o.who, s->o.api,
                    sapi_port(&s->api));
    }
    /* The load is off until a LOAD event. */
    s->load0 = s->g.plant.load;
    s->g.plant.load.p_w = 0;
    if (s->load0.kind == RACK_LOAD_R)
        s->g.plant.load.r = s->o.r.plant.r_bleed;
    if (s->o.realtime) {
        struct sched_param sp = {.sched_priority = 80};
        if (s->o.rt_spin_ns == 0 || s->o.rt_spin_ns >= RIG_PERIOD_NS) {
            /* Spinning through the whole quantum: under SCHED_FIFO the
             * kernel's real-time limit (sched_rt_runtime_us, 95 %) would
             * stop the thread for 50 ms every second, and at nice -20 it
             * starves everything else on its CPU (the API's own clients
             * on a busy 2-CPU machine); a normal thread, then. */
            s->fifo_workers = rig_realtime(&s->g, 0);
        } else {
            s->fifo = sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
            if (s->fifo)
                s->fifo_workers = rig_realtime(&s->g, sp.sched_priority);
        }
        prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* wake at the deadline, not 50 us after */
        s->locked = mlockall(MCL_CURRENT | MCL_FUTURE) == 0;
    }
    s->t0_wall_ns = ses_wall_ns(); /* again at the first quantum */
    s->init_s = (s->t0_wall_ns - t_init) * 1e-9;
    return 0;
}

void ses_free(ses *s)
{
    if (!s)
        return;
    sapi_close(&s->api);
    s->api.fd = -1;
    rig_free(&s->g);
    free(s->rec.rows);
    free(s->snap[0].mod);
    free(s->snap[1].mod);
    free(s->win.mod);
    free(s->late);
    s->rec.rows = NULL;
    s->snap[0].mod = s->snap[1].mod = s->win.mod = NULL;
    s->late = NULL;
}

/* t_s (s) in whole ns, rounded up: an event never acts before its time
 * (1.0000000004 s is 1 000 000 001 ns), less 1 ps of slack for a time
 * that is whole in decimal but not in binary (1.1 s is 1.1e9 ns and
 * 2e-7 more: 1 100 000 000). */
static int64_t ses_ns(double t_s)
{
    return (int64_t)ceil(t_s * 1e9 - 1e-3);
}

double ses_soft_start_s(const ses *s)
{
    return 1.1 * s->o.r.v_set / s->kc.ramp_vps;
}

int ses_start_and_load(ses *s, double start_s, double load_at, double ramp_s, const rack_load *load)
{
    ses_event ev = {.kind = SES_EV_START, .at_s = start_s, .by_s = fmax(start_s, fmin(load_at, SES_START_BY_S))};
    int rc = ses_add_event(s, &ev);
    ev = (ses_event){.kind = SES_EV_LOAD, .at_s = load_at, .load = *load, .ramp_s = ramp_s};
    if (!rc && (load->kind != RACK_LOAD_CP || load->p_w > 0))
        rc = ses_add_event(s, &ev);
    return rc;
}

int ses_add_event(ses *s, const ses_event *e)
{
    if (!s || !e || !(e->at_s >= 0) || e->at_s > 1e9)
        return EK3_EINVAL;
    rig_settle(&s->g); /* between steps: no worker still running ahead (ses_opts.run_ahead) */
    switch (e->kind) {
    case SES_EV_START:
        if (!(e->by_s >= 0))
            return EK3_EINVAL;
        break;
    case SES_EV_LOAD:
        if (e->load.kind != s->load0.kind || !(e->ramp_s >= 0) ||
            (e->load.kind == RACK_LOAD_R && !(e->load.r > 0)) || (e->load.kind == RACK_LOAD_CP && !(e->load.p_w >= 0)))
            return EK3_EINVAL;
        break;
    case SES_EV_PULL:
    case SES_EV_INSERT:
        if (e->slot < 1 || e->slot > s->g.o.modules)
            return EK3_EINVAL;
        if (e->kind == SES_EV_PULL)
            for (unsigned i = 0; i < s->nev; i++)
                if (s->ev[i].kind == SES_EV_PULL && s->ev[i].slot == e->slot)
                    return EK3_EBUSY;
        break;
    case SES_EV_FAULT: {
        char err[200];
        if (flt_check(&s->g, &e->fault, err, sizeof err))
            return EK3_EINVAL;
        break;
    }
    default:
        return EK3_EINVAL;
    }
    if (s->nev >= SES_EVENTS_MAX)
        return EK3_ENOSPC;
    /* Sorted by time, stable; never before an event already taken. */
    unsigned i = s->nev;
    while (i > s->next && ses_ns(s->ev[i - 1].at_s) > ses_ns(e->at_s)) {
        s->ev[i] = s->ev[i - 1];
        i--;
    }
    s->ev[i] = *e;
    s->ev[i].done_ns = s->ev[i].refused_ns = -1;
    s->ev[i].why[0] = 0;
    s->nev++;
    s->starts += e->kind == SES_EV_START;
    return 0;
}

int ses_pull(ses *s, unsigned slot)
{
    if (!s || slot < 1 || slot > s->g.o.modules)
        return EK3_EINVAL;
    rig_settle(&s->g); /* between steps: no worker still running ahead (ses_opts.run_ahead) */
    flt_spec f;
    flt_spec_init(&f, FLT_PULL, slot, 0);
    return flt_inject(&s->g, &f);
}

unsigned ses_wait_external(ses *s, int timeout_ms)
{
    int64_t t = ses_wall_ns();
    unsigned got = rig_wait_external(&s->g, timeout_ms);
    s->init_s += (ses_wall_ns() - t) * 1e-9;
    return got;
}

unsigned ses_cut_before_start(const ses_event *e)
{
    return e->kind == SES_EV_FAULT && e->fault.id == FLT_BUS_CUT && !e->fault.leader &&
                   ses_ns(e->at_s) < SES_STATION_START_NS
               ? e->fault.target
               : 0;
}

const ses_event *ses_station_cut_before_start(const ses *s)
{
    int starts = 0;
    for (unsigned i = 0; i < s->nev; i++)
        starts |= s->ev[i].kind == SES_EV_START;
    for (unsigned i = 0; starts && i < s->nev; i++) {
        const ses_event *e = &s->ev[i];
        if (e->kind == SES_EV_FAULT && e->fault.id == FLT_BUS_CUT && !e->fault.leader && e->fault.target == 0 &&
            ses_ns(e->at_s) < SES_STATION_START_NS)
            return e;
    }
    return NULL;
}

int64_t ses_short_since_ns(const ses *s)
{
    if (!(s->g.plant.r_short > 0))
        return -1;
    int64_t since = 0;
    for (unsigned i = 0; i < s->nev; i++) {
        const ses_event *e = &s->ev[i];
        if (e->kind == SES_EV_FAULT && e->fault.id == FLT_SHORT && e->done_ns >= 0)
            since = e->done_ns;
    }
    return since;
}

int ses_short_caused(const ses *s)
{
    int64_t since = ses_short_since_ns(s), first = -1;
    if (since < 0)
        return 0;
    for (unsigned k = 0; k < s->g.plant.n; k++) {
        const sm *sf = &s->g.m[k].fw.drv.safety;
        if (!s->g.m[k].external && sf->latched && (first < 0 || sf->trip_ns < first))
            first = sf->trip_ns;
    }
    int64_t ref = first >= 0 ? first : s->collapse_ns;
    return ref < 0 || since <= ref;
}

int64_t ses_cut_since_ns(const ses *s, unsigned node)
{
    if (!s->g.bus.node || node >= s->g.bus.n || !s->g.bus.node[node].cut)
        return -1;
    int64_t since = -1;
    for (unsigned i = 0; i < s->nev; i++) { /* in time order: the last cut done (a cut of a node cut already is
                                                refused, flt_check; an insert or a clear ended an earlier one) */
        const ses_event *e = &s->ev[i];
        if (e->kind == SES_EV_FAULT && e->fault.id == FLT_BUS_CUT && e->done_ns >= 0 && e->fault.target == node &&
            !(node == 0 && e->fault.leader))
            since = e->done_ns;
    }
    return since;
}

/* What one module delivers at most (W): its software current limit at
 * the bus its droop leaves at that current, or the station's ask of one
 * if that is less (ses_capacity). */
static double ses_module_cap_w(const ses *s)
{
    const llcc_cfg *kc = &s->kc;
    double v_set = s->o.r.v_set, p_cmd = stn_module_cap(s->o.r.v_set);
    double p = kc->i_max * (v_set - kc->r_droop * kc->i_max);
    return p < p_cmd ? p : p_cmd;
}

/* The run's end (ns): the quanta run, or before the run those it will
 * run (a scenario's session runs one at a time: o.quanta 1). */
static int64_t ses_end_ns(const ses *s)
{
    return (s->q > 0 ? s->q : s->o.quanta) * RIG_PERIOD_NS;
}

int64_t ses_insert_ready_ns(const ses *s)
{
    int64_t ns = llround((double)s->o.r.v_set / LLCC_PRECHARGE_VPS * 1e9); /* in double: 37 500 000 at 750 V */
    return (ns + RIG_PERIOD_NS - 1) / RIG_PERIOD_NS * RIG_PERIOD_NS;
}

/* Event e on the slots out of the rack (out[slot], 1..n_mod; the rig
 * takes 510 at most): a pull (--pull, --fault pull; a leader's counted
 * in *leaders until it went in and named its slot) or a cut before the
 * station's start takes a slot out, an insert (--fault insert, an
 * INSERT) puts it back: out[slot] = in (0: it counts at once; 2: from
 * its pre-charge's end, ses_insert_ready_ns, which the caller keeps),
 * into a slot out, or into one the timeline holds full while a leader's
 * pull is counted (the leader's slot: the run refuses any other);
 * with dead, a gate-off or open fault (the module stays in its slot and
 * delivers nothing: no clear on a timeline) takes its slot out too.
 * ses_capacity and ses_capacity_steps walk the timeline through it, in
 * time order. */
static void ses_out_take(const ses_event *e, unsigned n_mod, uint8_t out[512], unsigned *leaders, uint8_t in, int dead)
{
    unsigned slot = ses_pull_slot(e), cut = ses_cut_before_start(e);
    int kills = e->kind == SES_EV_FAULT && e->refused_ns < 0 && (e->fault.id == FLT_PULL || (dead && ses_holds_off(e)));
    if (!slot && kills && e->fault.id != FLT_PULL)
        slot = e->fault.target;
    if (slot >= 1 && slot <= n_mod)
        out[slot] = 1;
    else if (kills && e->fault.leader)
        ++*leaders; /* not gone in yet (or before the run): one module, which one unknown */
    else if (cut >= 1 && cut <= n_mod)
        out[cut] = 1;
    else if (ses_insert_slot(e) >= 1 && ses_insert_slot(e) <= n_mod) {
        unsigned k = ses_insert_slot(e);
        if (!out[k] && *leaders) /* a full slot: the leader's, pulled (else it is refused and changes nothing) */
            --*leaders, out[k] = in;
        else if (out[k])
            out[k] = in;
    }
}

/* The modules left (ses_out_take's out[] and leaders): in their slots,
 * not lost, less one for each leader's pull not gone in yet. */
static unsigned ses_out_left(const ses *s, unsigned n_mod, const uint8_t out[512], unsigned leaders)
{
    unsigned n = 0;
    for (unsigned k = 1; k <= n_mod; k++)
        n += !out[k] && !s->g.m[k - 1].lost;
    return n > leaders ? n - leaders : 0;
}

/* What n modules can deliver together at set point v_set (W): each gives
 * its software current limit i_max (A) at the bus its droop r_droop (V/A)
 * leaves at that current, or its power command p_cmd (W) if that is less
 * (LLC_CONTROL: i_ref = min(i_max, p_cmd / v)). */
unsigned ses_capacity(const ses *s, double *cap_w, double *demand_w)
{
    uint8_t out[512] = {0}; /* the slots with a module that can feed: not pulled on the timeline (or put back
                               after its last pull), not lost; a leader's pull not yet gone in names none (counted) */
    unsigned n_mod = s->g.o.modules < 511 ? s->g.o.modules : 510, leaders = 0, n;
    int64_t end_ns = ses_end_ns(s), ready = ses_insert_ready_ns(s);
    for (unsigned i = 0; i < s->nev; i++) /* a module put in too late to deliver by the end counts for nothing */
        ses_out_take(&s->ev[i], n_mod, out, &leaders, ses_act_ns(s->ev[i].at_s) + ready > end_ns ? 2 : 0, 0);
    n = ses_out_left(s, n_mod, out, leaders);
    if (ses_station_cut_before_start(s)) /* it starts none */
        n = 0;
    const llcc_cfg *kc = &s->kc;
    double v_full = s->o.r.v_set - kc->r_droop * kc->i_max;
    *cap_w = n * ses_module_cap_w(s);
    *demand_w = s->load0.kind == RACK_LOAD_CP ? s->load0.p_w
                : s->load0.kind == RACK_LOAD_R ? v_full * v_full / s->load0.r : 0;
    return n;
}

int64_t ses_act_ns(double t_s)
{
    int64_t ns = ses_ns(t_s); /* ses_step takes an event once t_ns >= ses_ns(t_s) */
    return (ns + RIG_PERIOD_NS - 1) / RIG_PERIOD_NS * RIG_PERIOD_NS;
}

/* Step (t_s, n) after those in st[0..*ns): one at the same time replaces
 * the last, one with the last's count adds nothing. */
static void ses_step_add(ses_cap_step *st, unsigned cap, unsigned *ns, double t_s, unsigned n, double each_w)
{
    if (*ns && *ns <= cap && st[*ns - 1].t_s == t_s) { /* two times in one quantum: the later count */
        --*ns;
        if (*ns && st[*ns - 1].n == n)
            return;
    }
    if (*ns && *ns <= cap && st[*ns - 1].n == n)
        return;
    if (*ns < cap)
        st[*ns] = (ses_cap_step){t_s, n * each_w, n};
    ++*ns;
}

/* The count now modules from t (s) on (ses_capacity_steps): the first
 * step at the load's first event t_load with the count before (*n),
 * then this one; none before the load. */
static void ses_step_at(ses_cap_step *st, unsigned cap, unsigned *ns, int *begun, double t_load, double t, unsigned *n,
                        unsigned now, double each)
{
    if (t > t_load) {
        if (!*begun)
            ses_step_add(st, cap, ns, t_load, *n, each);
        *begun = 1;
        ses_step_add(st, cap, ns, t, now, each);
    }
    *n = now;
}

unsigned ses_capacity_steps(const ses *s, ses_cap_step *st, unsigned cap)
{
    uint8_t out[512] = {0}; /* by slot (the rig takes 510 at most) */
    unsigned n_mod = s->g.o.modules < 511 ? s->g.o.modules : 510, leaders = 0, ns = 0;
    double load_s = INFINITY, each = ses_module_cap_w(s);
    for (unsigned i = 0; i < s->nev && load_s == INFINITY; i++)
        if (s->ev[i].kind == SES_EV_LOAD)
            load_s = s->ev[i].at_s;
    if (load_s == INFINITY)
        return 0;
    double t_load = ses_act_ns(load_s) * 1e-9;
    if (ses_station_cut_before_start(s)) { /* it starts none */
        ses_step_add(st, cap, &ns, t_load, 0, each);
        return ns;
    }
    unsigned n = ses_out_left(s, n_mod, out, 0); /* the count so far */
    int begun = 0;
    /* ready[slot]: when the module last put in there delivers from (ns); the inserts' ready times come in event
     * order (each its act time plus the one pre-charge): r, the next insert taken whose time is still to come */
    int64_t ready[512] = {0}, pre = ses_insert_ready_ns(s), end_ns = ses_end_ns(s);
    unsigned r = 0;
    for (unsigned i = 0; i <= s->nev;) { /* in time order: the events at one time (i..j-1) after those ready by then */
        int64_t t_ev = i < s->nev ? ses_act_ns(s->ev[i].at_s) : end_ns;
        for (; r < i; r++) {
            unsigned k = ses_insert_slot(&s->ev[r]);
            int64_t t_r = ses_act_ns(s->ev[r].at_s) + pre;
            if (k < 1 || k > n_mod)
                continue;
            if (t_r > t_ev)
                break;
            if (out[k] == 2 && ready[k] == t_r) /* not pulled again since */
                out[k] = 0;
            if (r + 1 < i && ses_insert_slot(&s->ev[r + 1]) && ses_act_ns(s->ev[r + 1].at_s) + pre == t_r)
                continue; /* ready at the same time: all of them first */
            ses_step_at(st, cap, &ns, &begun, t_load, t_r * 1e-9, &n, ses_out_left(s, n_mod, out, leaders), each);
        }
        if (i == s->nev)
            break;
        unsigned j = i;
        for (; j < s->nev && s->ev[j].at_s == s->ev[i].at_s; j++) {
            unsigned k = ses_insert_slot(&s->ev[j]);
            ses_out_take(&s->ev[j], n_mod, out, &leaders, 2, 1);
            if (k >= 1 && k <= n_mod)
                ready[k] = t_ev + pre;
        }
        ses_step_at(st, cap, &ns, &begun, t_load, t_ev * 1e-9, &n, ses_out_left(s, n_mod, out, leaders), each);
        i = j;
    }
    if (!begun)
        ses_step_add(st, cap, &ns, t_load, n, each);
    return ns;
}

/* An event whose time has come. */
static void ses_ramp(ses *s);

static void ses_take(ses *s, unsigned i)
{
    ses_event *e = &s->ev[i];
    rig *g = &s->g;
    switch (e->kind) {
    case SES_EV_START:
        break; /* armed: ses_start_check */
    case SES_EV_LOAD:
        /* From where the load is now: a step or ramp taken in this same
         * quantum (a profile's rows) counts as done. */
        if (s->load_on && s->ramp >= 0)
            ses_ramp(s);
        if (!s->load_on)
            s->ramp_p0 = 0, s->ramp_g0 = 0; /* from off */
        else
            s->ramp_p0 = g->plant.load.p_w, s->ramp_g0 = g->plant.load.r > 0 ? 1 / g->plant.load.r : 0;
        s->ramp = (int)i;
        s->load_on = 1;
        if (s->load_on_ns < 0)
            s->load_on_ns = g->t_ns;
        e->done_ns = g->t_ns;
        break;
    case SES_EV_PULL:
        if (g->plant.mod[e->slot - 1].present && ses_pull(s, e->slot) == 0) {
            e->done_ns = g->t_ns;
        } else if (!g->plant.mod[e->slot - 1].present) { /* a leader's pull took it first: said, as a fault's refusal */
            s->fault_errors++;
            e->refused = 1;
            e->refused_ns = g->t_ns;
            const ses_event *by = NULL; /* the pull that emptied it, the last done */
            for (unsigned j = 0; j < s->nev; j++)
                if (&s->ev[j] != e && ses_pull_slot(&s->ev[j]) == e->slot && s->ev[j].done_ns >= 0 &&
                    (!by || s->ev[j].done_ns >= by->done_ns))
                    by = &s->ev[j];
            char as[96];
            if (by)
                snprintf(e->why, sizeof e->why, "slot %u is empty: %s took its module out at %.4f s", e->slot,
                         ses_event_as(by, as, sizeof as), by->done_ns * 1e-9);
            else
                snprintf(e->why, sizeof e->why, "slot %u is empty (pulled already)", e->slot);
            if (s->o.notes)
                fprintf(s->o.notes, "%s: %s refused at %.4f s: %s\n", s->o.who, ses_event_as(e, as, sizeof as),
                        g->t_ns * 1e-9, e->why);
        }
        break;
    case SES_EV_INSERT: {
        flt_spec f;
        flt_spec_init(&f, FLT_INSERT, e->slot, 0);
        if (!g->plant.mod[e->slot - 1].present && flt_inject(g, &f) == 0) {
            e->done_ns = g->t_ns;
            for (unsigned j = 0; j < s->nev; j++)
                if (s->ev[j].kind == SES_EV_PULL && s->ev[j].slot == e->slot)
                    s->ev[j].done_ns = -1; /* back in its slot */
        }
        break;
    }
    case SES_EV_FAULT: {
        char text[300], why[400] = "";
        ses_event_as(e, text, sizeof text); /* as asked: a leader target still named so */
        /* a leader target: the module it went into, for its clear and the notes */
        e->at_leader = e->fault.leader;
        int rc = flt_go(g, &e->fault, why, sizeof why);
        if (rc == 0) {
            e->done_ns = g->t_ns;
            if (s->o.notes && e->at_leader)
                fprintf(s->o.notes, "%s: note: %s at %.4f s: the leader was module %u\n", s->o.who, text,
                        g->t_ns * 1e-9, e->fault.target);
        } else {
            s->fault_errors++;
            e->refused_ns = g->t_ns;
            const char *r = why[0] ? why : ek3_strerror(rc), *nm = flt_table[e->fault.id].name;
            size_t nl = strlen(nm); /* the reason without the fault's name (it is named beside it) */
            snprintf(e->why, sizeof e->why, "%.255s",
                     r + (!strncmp(r, nm, nl) && !strncmp(r + nl, ": ", 2) ? nl + 2 : 0));
            if (s->o.notes)
                fprintf(s->o.notes, "%s: %s refused at %.4f s: %s\n", s->o.who, text, g->t_ns * 1e-9, e->why);
        }
        break;
    }
    }
}

/* An armed START: the station starts the rack once it has heard every
 * module, or with those it has heard once no new one came for
 * SES_START_QUIET_NS, or at its deadline. */
static void ses_start_check(ses *s)
{
    rig *g = &s->g;
    if (!s->starts)
        return;
    unsigned on = stn_online(&g->stn, g->t_ns);
    if (on != s->heard_n) {
        s->heard_n = on;
        s->heard_ns = g->t_ns;
    }
    int quiet = on > 0 && g->t_ns - s->heard_ns >= SES_START_QUIET_NS;
    for (unsigned i = 0; i < s->next; i++) {
        ses_event *e = &s->ev[i];
        if (e->kind != SES_EV_START || e->done_ns >= 0 || g->t_ns < SES_STATION_START_NS)
            continue;
        if (on < g->o.modules && !quiet && g->t_ns < ses_ns(e->by_s))
            continue;
        e->done_ns = g->t_ns;
        s->starts--;
        s->start_on = on;
        s->started = 1;
        s->start_ns = g->t_ns;
        /* when the load comes (or came) on: does the soft start end before it? */
        double load_s = s->load_on_ns >= 0 ? s->load_on_ns * 1e-9 : -1;
        for (unsigned j = 0; j < s->nev && load_s < 0; j++)
            if (s->ev[j].kind == SES_EV_LOAD && s->ev[j].done_ns < 0)
                load_s = s->ev[j].at_s;
        double up = g->t_ns * 1e-9 + ses_soft_start_s(s);
        char late[160] = "";
        int64_t cut = ses_cut_since_ns(s, 0); /* the station off the bus: heard before the cut, out of reach now */
        if (on && cut >= 0)
            snprintf(late, sizeof late,
                     "; but it is cut off the rack bus since %.4f s (bus-cut:0): its START reaches none of them",
                     cut * 1e-9);
        else if (on && load_s >= 0 && load_s < up)
            snprintf(late, sizeof late,
                     ": its soft start ends about %.3f s, after the load comes on at %g s (a later load time lets it "
                     "finish)",
                     up, load_s);
        if (on == g->o.modules && late[0] && s->o.notes)
            fprintf(s->o.notes, "%s: note: the station starts the rack at %.3f s with every module%s\n", s->o.who,
                    g->t_ns * 1e-9, late);
        if (on < g->o.modules && s->o.notes) {
            /* the slots not heard, and those pulled (no module to hear): the first 8 of each (8 x "510, " fit) */
            char miss[2][120] = {"", ""};
            size_t at[2] = {0, 0};
            unsigned n[2] = {0, 0};
            for (unsigned k = 1; k <= g->o.modules; k++) {
                if (stn_heard(&g->stn, k, g->t_ns))
                    continue;
                int p = !g->plant.mod[k - 1].present;
                cli_list_add(miss[p], sizeof miss[p], &at[p], &n[p], 8, k);
            }
            char which[300] = "";
            if (n[0])
                snprintf(which, sizeof which, "not heard: slot%s %s; ", n[0] == 1 ? "" : "s", miss[0]);
            if (n[1])
                snprintf(which + strlen(which), sizeof which - strlen(which), "pulled: slot%s %s; ",
                         n[1] == 1 ? "" : "s", miss[1]);
            char why[48] = "";
            if (quiet)
                snprintf(why, sizeof why, ", none new for the last %g ms", SES_START_QUIET_NS * 1e-6);
            char off[96] = ""; /* why it heard none: it is off the bus itself */
            if (cut >= 0)
                snprintf(off, sizeof off, "; it is cut off the rack bus itself, since %.4f s (bus-cut:0)", cut * 1e-9);
            if (on)
                fprintf(s->o.notes,
                        "%s: note: the station starts the rack at %.3f s%s with the %u of %u modules it has heard%s "
                        "(%sstarted if heard later)%s\n",
                        s->o.who, g->t_ns * 1e-9, quiet ? "" : " (its deadline)", on, g->o.modules, why, which, late);
            else
                fprintf(s->o.notes,
                        "%s: note: at %.3f s the station has heard none of its %u module%s (%.*s): it starts "
                        "none%s\n",
                        s->o.who, g->t_ns * 1e-9, g->o.modules, g->o.modules == 1 ? "" : "s", (int)(strlen(which) - 2),
                        which, off);
        }
        const char *key = s->o.r.api_key ? s->o.r.api_key : RIG_API_KEY;
        int rc = stn_api_rack_full(&g->stn, g->t_ns, key, s->o.r.v_set);
        if (rc && s->o.notes && on) /* with none heard, the note above says it */
            fprintf(s->o.notes, "%s: the station could not start the rack: %s\n", s->o.who, ek3_strerror(rc));
    }
}

/* The load ramp in progress: an EV charger's, the power (or the
 * conductance) rises linearly. */
static void ses_ramp(ses *s)
{
    const ses_event *e = &s->ev[s->ramp];
    rack_load *l = &s->g.plant.load;
    if (l->kind == RACK_LOAD_BATTERY) /* marks the load on (ses_event_ramp_s 0) */
        return;
    double f = e->ramp_s > 0 ? (s->g.t_ns * 1e-9 - e->at_s) / e->ramp_s : 1.0;
    if (f > 1)
        f = 1;
    double r_bleed = s->o.r.plant.r_bleed;
    l->p_w = s->ramp_p0 + (e->load.p_w - s->ramp_p0) * f;
    if (e->load.kind != RACK_LOAD_R)
        l->r = e->load.r;
    else if (s->ramp_g0 == 0)
        l->r = f > 0 ? e->load.r / f : r_bleed;
    else
        l->r = 1 / (s->ramp_g0 + (1 / e->load.r - s->ramp_g0) * f);
    if (l->r > r_bleed)
        l->r = r_bleed;
}

/* One row of probes, after the quantum, from the modules' part of the
 * next snapshot (d->mod, filled). */
static void ses_probe(ses *s, const ses_snap *d)
{
    const rig *g = &s->g;
    ses_record *r = &s->rec;
    long at = (r->head + r->count) % r->cap;
    if (r->count == r->cap)
        r->head = (r->head + 1) % r->cap; /* the oldest goes */
    else
        r->count++;
    r->total++;
    double *row = r->rows + (size_t)at * r->ncol;
    ses_sharing_acc a = SES_SHARING_ACC0;
    for (unsigned k = 0; k < g->o.modules; k++) {
        const ses_mod_snap *ms = &d->mod[k];
        ses_sharing_add(&a, ms->present, ms->parked, ms->io, ms->tja, ms->tjb);
        if (!s->o.probe_modules)
            continue;
        double *m = row + SC_N + 4 * k;
        m[0] = ms->present ? ms->io : 0, m[1] = ms->present ? ms->vo : 0;
        m[2] = fmax(ms->tja, ms->tjb), m[3] = ms->state;
    }
    ses_sharing sh;
    ses_sharing_end(&a, &sh);
    row[SC_T] = g->t_ns * 1e-9, row[SC_VBUS] = g->plant.vbus, row[SC_PLOAD] = g->plant.p_load;
    row[SC_ILOAD] = g->plant.i_load;
    row[SC_IMIN] = sh.i_min, row[SC_IMEAN] = sh.i_mean, row[SC_IMAX] = sh.i_max, row[SC_TJMAX] = sh.tj_max;
    row[SC_ONLINE] = stn_online(&g->stn, g->t_ns);
    row[SC_SENT] = g->stn.st.sent, row[SC_ACKED] = g->stn.st.acked;
}

static ses_alert ses_alert_of(const msg_fault *f, int64_t ns)
{
    return (ses_alert){.ns = ns, .code = f->code, .sev = f->severity, .flags = f->flags, .value = f->value / 1000.0};
}

/* The next snapshot (its modules' part filled: ses_peek, or
 * ses_mod_fill), then the sequence count that tells readers. */
static void ses_publish(ses *s, ses_snap *d)
{
    const rig *g = &s->g;
    uint32_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed) + 1;
    d->seq = seq;
    d->t_ns = g->t_ns, d->quanta = (long)(g->t_ns / RIG_PERIOD_NS);
    d->vbus = g->plant.vbus, d->p_load = g->plant.p_load, d->i_load = g->plant.i_load;
    d->e_load = g->plant.e_load, d->e_step = g->plant.e_step;
    d->online = stn_online(&g->stn, g->t_ns);
    d->stn = g->stn.st;
    d->hil_frames = g->hil_frames, d->bus_frames = g->bus.frames, d->bus_error_frames = g->bus.error_frames;
    d->bus_load = cbus_load(&g->bus);
    d->n = g->o.modules;
    for (unsigned k = 0; k < g->o.modules; k++) {
        ses_mod_snap *m = &d->mod[k];
        m->pulled_ns = -1;
        const stn_module *st = &g->stn.m[k];
        m->fault = ses_alert_of(&st->fault, st->fault_ns);
        m->cause = ses_alert_of(&st->cause, st->cause_ns);
        m->first = ses_alert_of(&st->first, st->first_ns);
        m->alerts = st->alerts;
    }
    swo_summary(&g->obs, g->t_ns, &d->swarm);
    for (unsigned i = 0; i < s->nev; i++) { /* --pull, and the fault pull it is (a leader's resolved when it went in) */
        const ses_event *e = &s->ev[i];
        unsigned slot = ses_pull_slot(e);
        if (slot >= 1 && slot <= g->o.modules && e->done_ns >= 0 && !g->plant.mod[slot - 1].present)
            d->mod[slot - 1].pulled_ns = e->done_ns;
    }
    atomic_store_explicit(&s->seq, seq, memory_order_release);
}

/* The next snapshot with its modules' part read here, on the caller. */
static ses_snap *ses_fill_all(ses *s)
{
    ses_peek(s, &s->g, 0, s->g.o.modules);
    return ses_snap_next(s);
}

uint32_t ses_snapshot(ses *s, ses_snap *out)
{
    for (;;) {
        uint32_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
        if (!seq)
            return 0;
        const ses_snap *src = &s->snap[seq & 1];
        ses_mod_snap *mod = out->mod;
        *out = *src;
        out->mod = mod;
        memcpy(mod, src->mod, src->n * sizeof *mod);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->seq, memory_order_relaxed) == seq)
            return seq; /* the writer did not come round to this buffer while we copied */
    }
}

/* Whether an output has failed a write: stop_why says which and why. */
static int ses_out_check(ses *s)
{
    for (unsigned i = 0; i < SES_OUTS_MAX; i++) {
        FILE *f = s->o.outs[i].f;
        if (!f)
            continue;
        /* Flushed at each check: a small output (the station's log) shows
         * a full disk here, not at its close after the run. */
        errno = 0;
        int failed = fflush(f) != 0, e = errno;
        if (!failed && !ferror(f))
            continue;
        snprintf(s->stop_why, sizeof s->stop_why, "%s: write error: %s", s->o.outs[i].path, strerror(e ? e : EIO));
        s->stop_out = (int)i;
        return 1;
    }
    int e = s->o.rtl_vcd ? rtlp_trace_error(s->g.plant.mod[0].prot) : 0;
    if (e) {
        snprintf(s->stop_why, sizeof s->stop_why, "%s: write error: %s",
                 s->o.rtl_vcd_name ? s->o.rtl_vcd_name : s->o.rtl_vcd, strerror(e));
        s->stop_out = SES_OUTS_MAX;
        return 1;
    }
    return 0;
}

#define SES_OUT_CHECK_Q 100 /* quanta between two checks of the outputs for a write error */

/* Whether nothing between this quantum and the next reads or changes a
 * module (rig.run_ahead): no tap, API or event due, and another quantum
 * to come. A snapshot and its probe row may be due: the threads read
 * their modules' part before they run on (rig.peek), and the rest is
 * the rack's sums, the station and the swarm's check, on the caller.
 * Not paced (--realtime): its wait for the deadline would count as the
 * caller's work in the threads' balance (rig_finish_ahead). */
static int ses_quiet_after(const ses *s)
{
    const rig *g = &s->g;
    return s->ntap == 0 && s->api.fd < 0 && !s->o.realtime && s->q + 1 < s->o.quanta &&
           s->q + 1 != s->win_q &&              /* the report's window starts: the modules' tally set between quanta */
           (s->q + 1) % SES_OUT_CHECK_Q != 0 && /* ses_out_check may stop the run there */
           (s->next >= s->nev || ses_ns(s->ev[s->next].at_s) > g->t_ns + RIG_PERIOD_NS);
}

int ses_step(ses *s)
{
    rig *g = &s->g;
    if (s->stop_sig || s->stop_why[0])
        return EK3_EBUSY;
    if (s->o.stop && (s->stop_sig = s->o.stop(s->o.stop_ctx)) != 0)
        return EK3_EBUSY;
    if (s->q % SES_OUT_CHECK_Q == 0 && ses_out_check(s)) {
        if (s->o.notes && !s->o.stop_unsaid)
            fprintf(s->o.notes, "%s: %s; the run stops at %.4f s\n", s->o.who, s->stop_why, g->t_ns * 1e-9);
        return EK3_EBUSY;
    }
    if (s->q == 0) {
        s->t0_wall_ns = ses_wall_ns();
        s->ivcsw0 = ses_ivcsw();
        s->ivcsw_all0 = ses_ivcsw_all();
        ses_probe(s, ses_fill_all(s)); /* the record's first row: the rack at 0 s */
    }
    while (s->next < s->nev && g->t_ns >= ses_ns(s->ev[s->next].at_s))
        ses_take(s, s->next++);
    ses_start_check(s);
    if (s->ramp >= 0)
        ses_ramp(s);
    /* the modules' part of this quantum's snapshot (ses_peek): a quantum
     * that ends on the grid of `every` quanta from 0 s (an end off the grid:
     * ses_finish) */
    g->peek_due = (s->q + 1) % s->o.every == 0;
    g->run_ahead = s->o.run_ahead && ses_quiet_after(s);
    rig_quantum(g);
    if (g->plant.vbus >= 0.9 * s->o.r.v_set)
        s->bus_up = 1;
    else if (s->bus_up && s->collapse_ns < 0 && g->plant.vbus < 0.5 * s->o.r.v_set)
        s->collapse_ns = g->t_ns;
    if (!(s->bus_up && g->plant.vbus < ses_sag_floor_v(s, NULL)))
        s->sag_ns = -1;
    else if (s->sag_ns < 0)
        s->sag_ns = g->t_ns;
    if (g->t_ns % SES_SAG_EVERY_NS == 0) {
        s->sag_v[0] = s->sag_v[1], s->sag_t[0] = s->sag_t[1];
        s->sag_v[1] = g->plant.vbus, s->sag_t[1] = g->t_ns;
    }
    if (s->api.fd >= 0 && s->q % 10 == 0)
        sapi_poll(&s->api, g->t_ns);
    if (g->peek_due) {
        ses_snap *d = g->peek ? ses_snap_next(s) : ses_fill_all(s); /* without rig.peek: read here */
        ses_probe(s, d);
        ses_publish(s, d);
        if (s->q + 1 == s->win_q) { /* the report's window starts: its snapshot kept, the modules' sums begun
                                       (no worker runs ahead past this quantum: ses_quiet_after) */
            ses_mod_snap *mod = s->win.mod;
            s->win = *d;
            s->win.mod = mod;
            memcpy(mod, d->mod, d->n * sizeof *mod);
            rig_settle(g); /* (none does: this only makes it sure) */
            for (unsigned k = 0; k < g->o.modules; k++)
                g->plant.mod[k].tally = 1;
        }
    }
    for (unsigned i = 0; i < s->ntap; i++)
        s->tap[i](s, s->tap_ctx[i]);
    if (s->o.realtime) {
        int64_t deadline = s->t0_wall_ns + (s->q + 1) * RIG_PERIOD_NS, now = ses_wall_ns();
        int64_t spin = s->o.rt_spin_ns ? s->o.rt_spin_ns : SES_RT_SPIN_NS;
        if (now > deadline) {
            s->overruns++;
        } else {
            if (spin < 0 || deadline - now > spin) { /* sleep to the spin's start (or the deadline) */
                int64_t wake = spin < 0 ? deadline : deadline - spin;
                struct timespec ts = {wake / 1000000000, wake % 1000000000};
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
                now = ses_wall_ns();
            }
            while (now < deadline) {
                ses_cpu_relax();
                now = ses_wall_ns();
            }
        }
        if (s->q < s->o.quanta)
            s->late[s->q] = now - deadline;
        if (now - deadline > ses_rt_tol_ns(&s->o))
            s->late_n++;
    }
    s->q++;
    return 0;
}

int64_t ses_rt_tol_ns(const ses_opts *o)
{
    return o->rt_tol_ns == 0 ? SES_RT_TOL_NS : o->rt_tol_ns < 0 ? 0 : o->rt_tol_ns;
}

int ses_tap_add(ses *s, ses_tap_fn fn, void *ctx)
{
    if (!s || !fn)
        return EK3_EINVAL;
    rig_settle(&s->g); /* between steps: no worker still running ahead (ses_opts.run_ahead) */
    if (s->ntap >= SES_TAPS_MAX)
        return EK3_ENOSPC;
    s->tap[s->ntap] = fn;
    s->tap_ctx[s->ntap++] = ctx;
    return 0;
}

int ses_end_tap_add(ses *s, ses_tap_fn fn, void *ctx)
{
    if (!s || !fn)
        return EK3_EINVAL;
    if (s->nend_tap >= SES_TAPS_MAX)
        return EK3_ENOSPC;
    s->end_tap[s->nend_tap] = fn;
    s->end_tap_ctx[s->nend_tap++] = ctx;
    return 0;
}

void ses_fail(ses *s, const char *fmt, ...)
{
    if (!s || s->stop_why[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->stop_why, sizeof s->stop_why, fmt, ap);
    va_end(ap);
    if (!s->stop_why[0])
        snprintf(s->stop_why, sizeof s->stop_why, "stopped by a tap");
    s->stop_out = -1;
}

int ses_run_to(ses *s, int64_t t_ns)
{
    while (s->g.t_ns < t_ns) {
        int rc = ses_step(s);
        if (rc)
            return rc;
    }
    return 0;
}

int ses_run(ses *s)
{
    int rc = 0;
    while (s->q < s->o.quanta && !(rc = ses_step(s)))
        ;
    ses_finish(s);
    return rc;
}

void ses_finish(ses *s)
{
    rig_settle(&s->g); /* a run stopped after a quantum that ran ahead: every module at the same point */
    rig_log_flush(&s->g); /* the frames that end after the last quantum's end */
    s->wall_s = (ses_wall_ns() - s->t0_wall_ns) * 1e-9;
    long iv = ses_ivcsw();
    s->ivcsw = s->q > 0 && s->ivcsw0 >= 0 && iv >= s->ivcsw0 ? iv - s->ivcsw0 : -1;
    iv = ses_ivcsw_all();
    s->ivcsw_all = s->q > 0 && s->ivcsw_all0 >= 0 && iv >= s->ivcsw_all0 ? iv - s->ivcsw_all0 : -1;
    rig_bye(&s->g);
    ses_snap *d = ses_fill_all(s);
    const double *last = ses_rec_row(s, ses_rec_rows(s) - 1);
    if (!last || last[SC_T] < s->g.t_ns * 1e-9)
        ses_probe(s, d); /* a run that ends between two rows, or before the first quantum (the 0 s row): the
                            record ends where it ends */
    ses_publish(s, d);
    for (unsigned i = 0; i < s->nend_tap; i++)
        s->end_tap[i](s, s->end_tap_ctx[i]);
    sapi_flush(&s->api); /* the bursts of failures still open: logged, then counted */
}

int ses_collapsed(const ses *s)
{
    const rig *g = &s->g;
    unsigned present = 0, tripped = 0, feeding = 0;
    for (unsigned k = 0; k < g->o.modules; k++) {
        ses_mstate st = ses_mod_state(g, k);
        present += g->plant.mod[k].present;
        tripped += st == SES_M_FAULT;
        feeding += st == SES_M_START || st == SES_M_RUN || st == SES_M_PARKED || st == SES_M_EXT;
    }
    int load_on = 0;
    for (unsigned i = 0; i < s->nev; i++)
        load_on |= s->ev[i].kind == SES_EV_LOAD && g->t_ns >= ses_ns(s->ev[i].at_s);
    int64_t soft_end = s->start_ns + (int64_t)(ses_soft_start_s(s) * 1e9);
    int soft_done = s->start_ns >= 0 && g->t_ns >= soft_end;
    if (!(load_on && s->started))
        return 0;
    if (tripped == present) /* none left in its slot: 0 of 0 */
        return SES_COLLAPSED;
    if (tripped && !feeding) /* the rest never started (or stopped): nothing feeds the load, however high the bus */
        return SES_COLLAPSED;
    if (!(g->plant.vbus < 0.5 * s->o.r.v_set))
        return 0;
    if (s->bus_up)
        return SES_COLLAPSED;
    /* Never up, and it cannot rise: the load takes all the current the
     * modules can give (a constant-power load on a low bus draws more the
     * lower the bus), or it came on during the soft start and the soft
     * start is over. A bus still rising when the run ends is no verdict. */
    int in_soft = s->load_on_ns >= 0 && s->start_ns >= 0 && s->load_on_ns < soft_end;
    if (s->start_on == 0) /* the station heard none and started none: nothing to hold it down */
        return soft_done ? SES_COLLAPSED : 0;
    if (g->plant.i_load >= 0.98 * present * s->kc.i_max || (soft_done && in_soft))
        return SES_NOT_UP;
    return soft_done ? SES_COLLAPSED : 0;
}

double ses_sag_floor_v(const ses *s, double *foot)
{
    double f = s->o.r.v_set - (double)s->kc.r_droop * s->kc.i_max;
    if (foot)
        *foot = f;
    return f - SES_SAG_MARGIN * s->o.r.v_set;
}

const char *ses_event_as(const ses_event *e, char *buf, size_t cap)
{
    flt_spec f = e->fault; /* a leader target as asked ("gate-off:leader@1.2s"), not the module it went into */
    if (e->at_leader)
        f.leader = 1, f.target = 0;
    if (e->as[0])
        snprintf(buf, cap, "%s", e->as);
    else if (e->kind == SES_EV_FAULT && cap > 8 && flt_format(&f, buf + 8, cap - 8) == EK3_OK)
        memcpy(buf, "--fault ", 8);
    else
        snprintf(buf, cap, "%s", e->kind == SES_EV_PULL ? "a pull" : "a fault");
    return buf;
}

int ses_sagging(const ses *s, ses_sag *out)
{
    const rig *g = &s->g;
    if (!s->started || !s->bus_up || !s->load_on || s->sag_ns < 0 || g->t_ns - s->sag_ns < SES_SAG_HOLD_NS ||
        ses_collapsed(s))
        return 0;
    int i = g->t_ns - s->sag_t[1] >= SES_SAG_EVERY_NS ? 1 : 0; /* the latest sample at least that long ago */
    if (s->sag_t[i] < 0 || g->t_ns - s->sag_t[i] < SES_SAG_EVERY_NS)
        return 0;
    double v = g->plant.vbus, vps = (v - s->sag_v[i]) / ((g->t_ns - s->sag_t[i]) * 1e-9);
    /* a resistor is held, or settles from above, where the modules' limit meets it, unless it is rising
     * (recovering: a module put back); a constant power falls on (a collapse) or, under its v_min, acts as a
     * resistor and holds */
    int kind = s->o.r.load.kind == RACK_LOAD_R                               ? (vps > SES_SAG_VPS ? 0 : SES_SAG_HELD)
               : vps < -SES_SAG_VPS                                          ? SES_SAG_FALLING
               : vps <= SES_SAG_VPS && s->o.r.load.kind != RACK_LOAD_BATTERY ? SES_SAG_HELD
                                                                             : 0;
    const ses_event *pend = NULL; /* a module put back, not yet delivering, may lift it: no verdict on where it
                                     holds (the last of them to be ready said) */
    for (unsigned j = 0; kind == SES_SAG_HELD && j < s->nev; j++)
        if (ses_insert_slot(&s->ev[j]) && s->ev[j].done_ns >= 0 &&
            s->ev[j].done_ns + ses_insert_ready_ns(s) > g->t_ns && (!pend || s->ev[j].done_ns >= pend->done_ns))
            pend = &s->ev[j];
    if (!kind)
        return 0;
    if (out) {
        out->v = v;
        out->floor_v = ses_sag_floor_v(s, &out->foot_v);
        out->since_s = s->sag_ns * 1e-9;
        out->vps = vps;
        out->to_half_s = kind == SES_SAG_FALLING ? (v - 0.5 * s->o.r.v_set) / -vps : -1;
        out->pending = pend ? ses_insert_slot(pend) : 0;
        out->put_s = pend ? pend->done_ns * 1e-9 : -1;
        out->ready_s = pend ? (pend->done_ns + ses_insert_ready_ns(s)) * 1e-9 : -1;
    }
    return pend ? 0 : kind;
}

int ses_probe_find(const ses *s, const char *name)
{
    for (unsigned c = 0; c < SC_N; c++)
        if (!strcmp(name, ses_cols[c]))
            return (int)c;
    if (!s->o.probe_modules)
        return -1;
    const char *dot = strchr(name, '.');
    if (!dot)
        return -1;
    for (unsigned j = 0; j < 4; j++) {
        size_t l = strlen(ses_mcols[j]);
        if ((size_t)(dot - name) != l || strncmp(name, ses_mcols[j], l))
            continue;
        char *end;
        errno = 0;
        unsigned long k = strtoul(dot + 1, &end, 10);
        if (errno || *end || end == dot + 1 || dot[1] == '0' || k < 1 || k > s->g.o.modules)
            return -1;
        return (int)(SC_N + 4 * (k - 1) + j);
    }
    return -1;
}

const char *ses_probe_name(const ses *s, unsigned col, char *buf, size_t cap)
{
    if (col >= s->rec.ncol || !buf || !cap)
        return NULL;
    if (col < SC_N)
        snprintf(buf, cap, "%s", ses_cols[col]);
    else
        snprintf(buf, cap, "%s.%u", ses_mcols[(col - SC_N) % 4], (col - SC_N) / 4 + 1);
    return buf;
}

long ses_rec_rows(const ses *s)
{
    return s->rec.count;
}

const double *ses_rec_row(const ses *s, long i)
{
    if (i < 0 || i >= s->rec.count)
        return NULL;
    return s->rec.rows + (size_t)((s->rec.head + i) % s->rec.cap) * s->rec.ncol;
}

int ses_trace_close(ses *s)
{
    return s->o.rtl_vcd ? rtlp_trace_close(s->g.plant.mod[0].prot) : 0;
}
