/* rig.c - plant and firmware in lockstep, one quantum at a time. */
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET */
#include "rig.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "can_id.h"
#include "candump.h"
#include "ek3_err.h"
#include "hilch.h"
#include "host_crypto.h"
#include "msg.h"
#include "raft.h"
#include "swarm.h"

/* A log line held for its time (rig_log). */
struct rig_held {
    int64_t t_ns;
    char line[CDL_LINE_MAX];
};

/* Write the held lines of time t_ns or before (they are in time order). */
static void rig_log_release(rig *r, int64_t t_ns)
{
    unsigned i = 0;
    for (; i < r->nheld && r->held[i].t_ns <= t_ns; i++)
        fputs(r->held[i].line, r->o.log), fputc('\n', r->o.log);
    if (i) {
        memmove(r->held, r->held + i, (r->nheld - i) * sizeof *r->held);
        r->nheld -= i;
    }
}

void rig_log_flush(rig *r)
{
    if (r->o.log)
        rig_log_release(r, INT64_MAX);
    r->nheld = 0;
}

/* A frame's log line, in time order: a rack-bus frame ends when its last
 * bit is on the wire, after the quantum's end (r->t_ns) when it started
 * before it (cbus_run), and the next quantum's HIL frames are written at
 * that end: it is held until a line of its time or later comes (or the
 * run ends: rig_log_flush). The rack bus is one wire, so its frames end
 * in order. Without memory to hold it, it is written at once. */
static void rig_log(rig *r, const char *bus, const cfd_frame *f, int64_t t_ns)
{
    if (!r->o.log)
        return;
    rig_log_release(r, t_ns);
    cdl_record rec;
    memset(&rec, 0, sizeof rec);
    cdl_set_time(&rec, r->o.log_t0_ns + t_ns, 6); /* the caller keeps it within int64 */
    strncpy(rec.ifname, bus, sizeof rec.ifname - 1);
    rec.frame = *f;
    rec.fd_extra = (f->flags & CFD_FLAG_FD) ? CDL_FD_FDF : 0; /* as Linux >= 6.0 and candump write it */
    char line[CDL_LINE_MAX];
    if (cdl_format(&rec, line, sizeof line) < 0)
        return;
    if (t_ns > r->t_ns) { /* after the lines held of its time or before: they stay in time order */
        if (r->nheld == r->held_cap) {
            unsigned cap = r->held_cap ? 2 * r->held_cap : 8;
            struct rig_held *h = realloc(r->held, cap * sizeof *h);
            if (h)
                r->held = h, r->held_cap = cap;
        }
        if (r->nheld < r->held_cap) {
            unsigned i = r->nheld;
            while (i > 0 && r->held[i - 1].t_ns > t_ns)
                i--;
            memmove(r->held + i + 1, r->held + i, (r->nheld - i) * sizeof *r->held);
            r->held[i].t_ns = t_ns;
            memcpy(r->held[i].line, line, sizeof line);
            r->nheld++;
            return;
        }
    }
    fputs(line, r->o.log), fputc('\n', r->o.log);
}

static int rig_station_send(void *ctx, const cfd_frame *f)
{
    rig *r = ctx;
    return cbus_send(&r->bus, 0, f, r->t_ns);
}

/* The station's frames would find its controller's queue full. */
static int rig_station_full(void *ctx)
{
    rig *r = ctx;
    return cbus_full(&r->bus, 0);
}

static void rig_deliver(void *ctx, unsigned to, unsigned from, const cfd_frame *f, int64_t t_ns)
{
    rig *r = ctx;
    if (to == 0) {
        stn_on_frame(&r->stn, f, t_ns);
        if (r->upd)
            fwr_on_frame(r->upd, f, t_ns);
    }
    if (to >= 1 && to <= r->o.modules) {
        rig_module *m = &r->m[to - 1];
        if (!m->external)
            hhal_can_deliver(&m->fw.h, f);
        else if (!m->lost && (!strncmp(r->o.fw_bus, "udp:", 4) || !strncmp(r->o.fw_bus, "cannelloni:", 11)))
            tp_send(&m->plant_end, f); /* on a shared SocketCAN bus it already heard it */
    }
    if (to == (from == 0 ? 1u : 0u)) {
        rig_log(r, "can0", f, t_ns); /* once per frame: as the first other node hears it */
        if (((f->id >> CID_TYPE_SHIFT) & CID_TYPE_MAX) == CID_TYPE_ELECTION && (f->id & 0x1FFu) == CID_NODE_BROADCAST) {
            r->sw_last = *f; /* for swarm-replay: a broadcast one, which every module checks */
            r->sw_have = 1;
        }
    }
}

int rig_fault_swarm_forge(rig *r, unsigned slot, double term_add)
{
    if (slot < 1 || slot > r->o.modules || slot > RAFT_MAX_NODES || !(term_add >= 1 && term_add <= 1e6))
        return EK3_ENOENT;
    uint32_t top = 0;
    for (unsigned k = 1; k <= r->o.modules; k++) {
        const void *st = swo_state(r, k);
        if (st && swm_raft(st)->term > top)
            top = swm_raft(st)->term;
    }
    raft_msg m;
    memset(&m, 0, sizeof m);
    m.kind = RAFT_VOTE;
    m.from = (uint16_t)slot;
    m.term = top + (uint32_t)term_add;
    m.index = m.log_term = 0xFFFFFFFEu; /* the longest log there can be */
    msg_election fr[SWM_FRAMES_MAX];
    int n = swm_frames_of(&m, fr);
    if (n < 1)
        return n < 0 ? n : EK3_EINVAL;
    cfd_frame f;
    int rc = canh_frame(CID_TYPE_ELECTION, slot, CID_NODE_BROADCAST, &fr[0], &f);
    if (rc)
        return rc;
    /* a key that is not the rack's: the group key of another rack */
    uint8_t other[16], key[16];
    auth_crypto cr = hostcrypto_auth();
    fwi_rack_key(r->o.seed ^ 0x5EEDF00Dull, other);
    if ((rc = auth_derive_key(&cr, other, CID_NODE_BROADCAST, key)) ||
        (rc = auth_sign_with(&cr, key, 0x7FFFFFFFu, &f)))
        return rc;
    return cbus_send(&r->bus, slot, &f, r->t_ns);
}

int rig_fault_swarm_replay(rig *r, unsigned slot)
{
    if (slot < 1 || slot > r->o.modules)
        return EK3_ENOENT;
    if (!r->sw_have)
        return EK3_ENOENT;
    return cbus_send(&r->bus, slot, &r->sw_last, r->t_ns);
}

void rig_default_opts(rig_opts *o, unsigned n, uint64_t seed, double load_w)
{
    memset(o, 0, sizeof *o);
    o->modules = n;
    o->fidelity = PMOD_AVERAGED;
    o->seed = seed;
    o->v_set = 750;
    prm_defaults(&o->plant);
    o->load = (rack_load){.kind = RACK_LOAD_R, .r = 750.0 * 750.0 / load_w};
}

static int rig_pool_start(rig *r, unsigned n);
static void rig_pool_stop(rig *r);

int rig_init(rig *r, const rig_opts *o)
{
    memset(r, 0, sizeof *r);
    swo_init(&r->obs);
    if (!o || o->modules < 1 || o->modules > 510)
        return EK3_EINVAL;
    char err[200];
    if (prm_check_board(&o->plant, err, sizeof err))
        return EK3_ERANGE; /* plant and firmware would read the sensors differently */
    r->o = *o;
    if (o->modules > RAFT_MAX_NODES) /* more voters than a swarm holds: several racks, droop alone */
        r->o.no_swarm = 1;
    for (unsigned k = 0; o->slot_plant && k < o->modules; k++)
        if (o->slot_plant[k] && prm_check_board(o->slot_plant[k], err, sizeof err))
            return EK3_ERANGE;
    int rc = rack_init(&r->plant, &o->plant, o->modules, (pmod_fidelity)o->fidelity, o->seed, &o->load);
    if (rc)
        return rc;
    for (unsigned k = 0; o->slot_plant && k < o->modules; k++)
        if (o->slot_plant[k] && (rc = rack_module_params(&r->plant, k, o->slot_plant[k]))) {
            rack_free(&r->plant);
            return rc;
        }
    if (rack_protect(&r->plant) != EK3_OK) {
        rig_free(r);
        return EK3_ENOSPC;
    }
    r->m = calloc(o->modules, sizeof *r->m);
    r->tx_flag = calloc(o->modules, 1);
    if (!r->m || !r->tx_flag || cbus_init(&r->bus, o->modules + 1, 1000000, 5000000, o->seed ^ 0xB05) != EK3_OK) {
        rig_free(r);
        return EK3_ENOSPC;
    }
    r->bus.deliver = rig_deliver;
    r->bus.ctx = r;
    uint8_t rack_key[16];
    fwi_rack_key(o->seed, rack_key);
    rc = stn_init(&r->stn, o->modules, hostcrypto_auth(), rack_key, o->api_key ? o->api_key : RIG_API_KEY, 20.0, 10.0,
                  rig_station_send, r);
    if (rc) {
        rig_free(r);
        return rc;
    }
    r->stn.log = o->station_log;
    r->stn.full = rig_station_full;
    llcc_cfg cc;
    llcc_default_cfg(&cc); /* the board sheet's full scales: the plant's are the same */
    if (o->r_droop > 0)
        cc.r_droop = o->r_droop;
    for (unsigned k = 0; k < o->modules; k++) {
        rig_module *m = &r->m[k];
        m->external = o->external && o->external[k];
        if (m->external) {
            r->n_external++;
            /* "udp:HOST:BASE": the plant listens on BASE + slot; a
             * SocketCAN interface: one socket per module on it. */
            char spec[300];
            if (!strncmp(o->fw_bus, "udp:", 4)) {
                const char *colon = strrchr(o->fw_bus, ':');
                snprintf(spec, sizeof spec, "udp:@%ld", strtol(colon + 1, NULL, 10) + (long)k + 1);
            } else if (!strncmp(o->fw_bus, "cannelloni:", 11)) {
                /* "cannelloni:HOST:BASE[:LOCALBASE]": one link per module, both ports + slot */
                rc = tp_cnl_offset(o->fw_bus, k + 1, spec, sizeof spec);
                if (rc) {
                    rig_free(r);
                    return rc;
                }
            } else {
                snprintf(spec, sizeof spec, "%s", o->fw_bus);
            }
            rc = tp_open(&m->plant_end, spec);
            if (rc) {
                rig_free(r);
                return rc;
            }
            continue;
        }
        if (tp_mem_pair(&m->plant_end, &m->fw_end, 4) != EK3_OK) {
            rig_free(r);
            return EK3_ENOSPC;
        }
        rc = fwi_init(&m->fw, k + 1, r->o.no_swarm ? 0 : o->modules, o->seed, &cc, o->via_station ? 0.0f : o->v_set,
                      o->have_trust_key ? o->trust_key : NULL);
        if (rc) {
            rig_free(r);
            return rc;
        }
        m->fw.h.tx_flag = &r->tx_flag[k];
        fwi_hold(&m->fw, fwi_boot_delay_ns(o->seed, k + 1)); /* the rack's power-on: each MCU in its time */
    }
    unsigned nt = o->log ? 1 : o->threads;
    if (nt > o->modules)
        nt = o->modules;
    if (nt > RIG_THREADS_MAX)
        nt = RIG_THREADS_MAX;
    if (o->threads_adapt && nt > 2 && nt > o->modules / RIG_MODULES_PER_THREAD)
        nt = o->modules / RIG_MODULES_PER_THREAD > 2 ? o->modules / RIG_MODULES_PER_THREAD : 2;
    if (nt > 1 && rig_pool_start(r, nt) != EK3_OK)
        r->pool = NULL; /* serial then */
    r->solo = r->pool && o->threads_adapt; /* rig_adapt_next: the first window on the caller alone */
    return EK3_OK;
}

void rig_free(rig *r)
{
    rig_pool_stop(r);
    rig_log_flush(r);
    free(r->held);
    r->held = NULL;
    r->held_cap = 0;
    if (r->m)
        for (unsigned k = 0; k < r->o.modules; k++) {
            tp_close(&r->m[k].plant_end);
            tp_close(&r->m[k].fw_end);
            fwi_free(&r->m[k].fw);
        }
    free(r->m);
    r->m = NULL;
    free(r->tx_flag);
    r->tx_flag = NULL;
    cbus_free(&r->bus);
    stn_free(&r->stn);
    rack_free(&r->plant);
}

/* The PWM command a HIL_PWM frame carries, applied to the plant. */
static void rig_apply_pwm(rig *r, unsigned k, const cfd_frame *f)
{
    if (hch_pwm_take(&r->plant.mod[k], f) != EK3_OK)
        r->m[k].hil_errors++;
}

/* The plant's ADC frame for module k this quantum. */
static int rig_adc_frame(rig *r, unsigned k, cfd_frame *f)
{
    return hch_adc_send(&r->plant.mod[k], k + 1, r->quantum, f);
}

/* Steps 1-3 without frames: nothing logs them (hilch.h's frameless pair;
 * the counters move as the frame path's do). */
static void rig_module_step_direct(rig *r, unsigned k, uint32_t q)
{
    rig_module *m = &r->m[k];
    msg_hil_adc adc;
    msg_hil_pwm pwm;
    int got = r->plant.mod[k].present;
    if (got) {
        hch_adc_sample(&r->plant.mod[k], q, &adc);
        m->hil_frames++;
    }
    if (fwi_period_direct(&m->fw, got ? &adc : NULL, q, &pwm) != EK3_OK) {
        m->hil_errors += 2; /* as the frame path counts it: at the firmware, and the empty frame at the plant */
        m->hil_frames++;
        return;
    }
    m->hil_frames++;
    if (hch_pwm_apply(&r->plant.mod[k], &pwm) != EK3_OK)
        m->hil_errors++;
}

/* Steps 1-3 of the quantum for in-process module k (all but its CAN
 * frames), with frames (a log, or hil_frames asked). */
static void rig_module_step(rig *r, unsigned k)
{
    rig_module *m = &r->m[k];
    cfd_frame f, pwm;
    /* 1. plant -> firmware: the ADC samples of this period. */
    if (r->plant.mod[k].present && rig_adc_frame(r, k, &f) == EK3_OK && tp_send(&m->plant_end, &f) == EK3_OK) {
        m->hil_frames++;
        rig_log(r, "hil0", &f, r->t_ns);
    }
    /* 2. the firmware's period. */
    int got = tp_recv(&m->fw_end, &f) == EK3_OK;
    if (fwi_period(&m->fw, got ? &f : NULL, r->quantum, &pwm) != EK3_OK)
        m->hil_errors++;
    if (tp_send(&m->fw_end, &pwm) == EK3_OK) {
        m->hil_frames++;
        rig_log(r, "hil0", &pwm, r->t_ns);
    }
    /* 3. firmware -> plant: the PWM command. */
    if (tp_recv(&m->plant_end, &f) == EK3_OK)
        rig_apply_pwm(r, k, &f);
}

static int64_t rig_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Module k (0-based) lost: why ends the line's subject ("missed three
 * quanta at 1.2000 s"; before the run, its own words without a time). */
static void rig_lose(rig *r, unsigned k, const char *why)
{
    rig_module *m = &r->m[k];
    m->lost = 1;
    m->lost_ns = r->t_ns;
    stn_lost(&r->stn, k + 1); /* not online any more, not in a rack request's split */
    llc_cmd off = r->plant.mod[k].cmd;
    off.enable = 0;
    pmod_command(&r->plant.mod[k], &off, 0);
    fprintf(stderr, "ek3 rack: module %u (external) %s: lost; the rack runs on without it\n", k + 1, why);
}

/* External modules, before the quantum's parallel phase: ADC and SYNC out. */
static void rig_external_send(rig *r)
{
    for (unsigned k = 0; r->n_external && k < r->o.modules; k++) {
        rig_module *m = &r->m[k];
        if (!m->external || m->lost)
            continue;
        cfd_frame f;
        msg_hil_tick tick = {MSG_TICK_SYNC, r->quantum, (uint64_t)r->t_ns};
        if (r->plant.mod[k].present && rig_adc_frame(r, k, &f) == EK3_OK && tp_send(&m->plant_end, &f) == EK3_OK)
            m->hil_frames++;
        if (hch_frame(CID_TYPE_HIL_TICK, CID_NODE_PLANT, k + 1, &tick, &f) != EK3_OK ||
            tp_send(&m->plant_end, &f) != EK3_OK)
            m->hil_errors++;
    }
}

/* External modules, after it: their PWM, CAN frames and DONE, in slot order. */
static void rig_external_collect(rig *r)
{
    if (!r->n_external)
        return;
    for (unsigned k = 0; k < r->o.modules; k++) {
        rig_module *m = &r->m[k];
        if (!m->external || m->lost)
            continue;
        int64_t deadline = rig_clock_ns() + (int64_t)r->o.ext_timeout_ms * 1000000;
        int done = 0;
        while (!done) {
            int64_t left = deadline - rig_clock_ns();
            if (left <= 0 || tp_poll(&m->plant_end, (int)(left / 1000000) + 1) != 1) {
                if (rig_clock_ns() < deadline)
                    continue;
                break;
            }
            cfd_frame f;
            while (!done && tp_recv(&m->plant_end, &f) == EK3_OK) {
                hch_route from = hch_route_plant(&f, k + 1);
                if (from == HCH_NONE) {
                    continue; /* on a shared bus: another module's, or the plant's own */
                } else if (from == HCH_PWM) {
                    rig_apply_pwm(r, k, &f);
                    m->hil_frames++;
                } else if (from == HCH_TICK) {
                    msg_hil_tick t;
                    msg_err e;
                    if (msg_decode(CID_TYPE_HIL_TICK, f.data, f.len, &t, &e) == EK3_OK && t.kind == MSG_TICK_DONE &&
                        t.quantum == r->quantum)
                        done = 1;
                } else if (from == HCH_RACK) {
                    cbus_send(&r->bus, k + 1, &f, r->t_ns); /* its rack-bus traffic, FW_UPDATE included */
                } else {
                    m->hil_errors++;
                }
            }
        }
        if (done) {
            m->late = 0;
        } else if (++m->late >= 3) {
            char why[64];
            snprintf(why, sizeof why, "missed three quanta at %.4f s", r->t_ns * 1e-9);
            rig_lose(r, k, why);
        }
    }
    for (unsigned k = 0; k < r->o.modules; k++)
        if (r->m[k].external)
            rack_linearize(&r->plant, k, k + 1);
}

unsigned rig_wait_external(rig *r, int timeout_ms)
{
    unsigned n = 0;
    int64_t deadline = rig_clock_ns() + (int64_t)timeout_ms * 1000000;
    for (unsigned k = 0; k < r->o.modules; k++) {
        rig_module *m = &r->m[k];
        if (!m->external)
            continue;
        int hello = 0;
        while (!hello) {
            int64_t left = deadline - rig_clock_ns();
            if (left <= 0 || tp_poll(&m->plant_end, (int)(left / 1000000) + 1) != 1)
                break;
            cfd_frame f;
            while (tp_recv(&m->plant_end, &f) == EK3_OK)
                if (hch_route_plant(&f, k + 1) == HCH_TICK)
                    hello = 1;
        }
        if (hello) {
            n++;
        } else {
            char why[96];
            snprintf(why, sizeof why, "never said HELLO in the %.3g s waited for it before the run", timeout_ms * 1e-3);
            rig_lose(r, k, why);
        }
    }
    return n;
}

void rig_bye(rig *r)
{
    for (unsigned k = 0; k < r->o.modules; k++) {
        rig_module *m = &r->m[k];
        if (!m->external || m->lost)
            continue;
        cfd_frame f;
        msg_hil_tick tick = {MSG_TICK_BYE, r->quantum, (uint64_t)r->t_ns};
        if (hch_frame(CID_TYPE_HIL_TICK, CID_NODE_PLANT, k + 1, &tick, &f) == EK3_OK)
            tp_send(&m->plant_end, &f);
    }
}

/* ---- the threads -------------------------------------------------------------
 * The caller and n - 1 workers; a quantum has two parallel phases. A phase
 * starts when the caller bumps `gen`; each worker does its range of
 * modules and counts itself done. Workers spin briefly, then yield: a
 * quantum is tens of microseconds, less than a sleeping wake-up.
 * The ranges are balanced (rig_balance): each thread times its own work,
 * and every RIG_BAL_Q threaded quanta the cuts move toward ranges that
 * take the threads the same time. The CPUs a virtual machine gets are
 * not alike (here one ran this work 1.5x slower than the other), and the
 * modules are not (a leader, a faulted one): with equal ranges every
 * phase waits for the slowest. A module's results do not depend on its
 * thread, so the balance changes only the speed. */

struct rig_pool {
    unsigned n;               /* threads, the caller's included */
    pthread_t *th;
    _Atomic unsigned gen, done;
    _Atomic int phase;        /* 0: modules + linearize, 1: plant update, 2: 1 then 0 of the next quantum, -1: stop */
    _Atomic unsigned done1;   /* phase 2: workers done with its plant update (the caller waits for these alone) */
    _Atomic unsigned can_done; /* phases 1 and 2: the caller's CAN part (rig_can) is done: phase 2's workers
                                  wait for it before the next quantum's phase 0 */
    uint32_t q_ahead;         /* phase 2: the quantum its phase 0 is for */
    int64_t ahead_t0;         /* phase 2, timed: when the caller went on from the workers' updates */
    _Atomic unsigned sleepers; /* workers asleep on gen (futex) */
    _Atomic unsigned spin;    /* how long a worker spins for the next phase before it sleeps */
    unsigned caller_spin;     /* how long the caller spins for the workers before each yield */
    rig *r;
    unsigned *cut;            /* n + 1: thread i runs modules cut[i] .. cut[i+1]-1 (rig_balance) */
    unsigned bal_q;           /* threaded quanta since the last balance */
    struct {
        _Alignas(64) uint64_t hil; /* phase 1: its range's HIL frame counters, summed (a line of its own) */
        uint64_t busy;        /* ns in its timed phases since the last balance (rig_wall_ns) */
    } *part;
};

typedef struct rig_worker {
    rig_pool *p;
    unsigned id;
} rig_worker;

/* The monotonic clock in nanoseconds: rig_adapt_next's windows and the
 * threads' own times (rig_balance; not the x86 time-stamp counter: a
 * virtual machine's CPUs need not agree on it, and a thread moved
 * between two could see it go back). Tens of nanoseconds a read. */
static int64_t rig_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Thread id's first module and one past its last: p->cut. */
static void rig_range(const rig_pool *p, unsigned id, unsigned *k0, unsigned *k1)
{
    *k0 = p->cut[id];
    *k1 = p->cut[id + 1];
}

/* Equal ranges: the pool's start. */
static void rig_cut_equal(rig_pool *p, unsigned m)
{
    for (unsigned i = 0; i <= p->n; i++)
        p->cut[i] = (unsigned)((uint64_t)m * i / p->n);
}

int rig_cuts_balance(unsigned *cut, unsigned n, unsigned m, const uint64_t *busy)
{
    if (n < 2 || n > RIG_THREADS_MAX || m < 2 * n || cut[0] != 0 || cut[n] != m)
        return 0;
    double speed[RIG_THREADS_MAX], sum = 0;
    for (unsigned i = 0; i < n; i++) {
        if (cut[i + 1] <= cut[i] || busy[i] == 0)
            return 0;
        sum += speed[i] = (double)(cut[i + 1] - cut[i]) / (double)busy[i];
    }
    int moved = 0;
    double acc = 0;
    for (unsigned i = 1; i < n; i++) {
        acc += speed[i - 1];
        long target = (long)(m * acc / sum + 0.5), c = (long)cut[i], d = target - c;
        if (d >= -1 && d <= 1)
            continue; /* within a module: a cut that moves costs its module's data a trip between caches */
        long next = c + d / 2; /* halfway */
        long lo = (long)cut[i - 1] + 1, hi = (long)m - (long)(n - i);
        next = next < lo ? lo : next > hi ? hi : next;
        moved |= next != c;
        cut[i] = (unsigned)next;
    }
    return moved;
}

/* Every RIG_BAL_Q threaded quanta (the caller, between quanta, every
 * worker waiting): rig_cuts_balance on the threads' times since the last,
 * taken one quantum in RIG_BAL_EVERY (rig_timed: a clock read is tens of
 * nanoseconds, a quantum's phase a few microseconds). */
#define RIG_BAL_Q 128u
#define RIG_BAL_EVERY 8u

/* Is this quantum's work timed? Read by the threads during a phase; the
 * caller changes bal_q only between quanta. */
static inline int rig_timed(const rig_pool *p)
{
    return p->bal_q % RIG_BAL_EVERY == 0;
}

static void rig_balance(rig_pool *p, unsigned m)
{
    if (++p->bal_q < RIG_BAL_Q)
        return;
    p->bal_q = 0;
    uint64_t busy[RIG_THREADS_MAX];
    for (unsigned i = 0; i < p->n; i++) {
        busy[i] = p->part[i].busy;
        p->part[i].busy = 0;
    }
    rig_cuts_balance(p->cut, p->n, m, busy);
}

/* Phase 0: modules k0..k1-1 step and linearize; phase 1: the plant's
 * update of them, and the sum of their HIL frame counters into *hil (so
 * that the serial part reads one counter a thread, not one a module: a
 * line another core wrote costs a round trip). */
static void rig_phase(rig *r, int phase, unsigned k0, unsigned k1, uint64_t *hil, uint32_t q)
{
    if (phase == 0) {
        int framed = r->o.log || r->o.hil_frames; /* else hilch.h's frameless pair */
        for (unsigned k = k0; k < k1; k++) {
            if (r->m[k].external)
                continue;
            if (framed)
                rig_module_step(r, k);
            else
                rig_module_step_direct(r, k, q);
            rack_linearize(&r->plant, k, k + 1);
        }
    } else {
        rack_update(&r->plant, RIG_PERIOD_NS * 1e-9, k0, k1);
        if (!r->o.no_swarm)
            swo_peek(&r->obs, r, k0, k1); /* its modules' Raft state, for swo_check (swarmobs.h) */
        if (r->peek_due && r->peek)
            r->peek(r->peek_ctx, r, k0, k1);
        uint64_t n = 0;
        for (unsigned k = k0; k < k1; k++)
            n += r->m[k].hil_frames;
        *hil = n;
    }
}

/* A waiting thread spins with the CPU's pause hint for RIG_SPIN_NS,
 * several quanta's work (a phase of 84 modules is 10-40 us), before it
 * yields or sleeps: a yield is a system call, several microseconds in a
 * virtual machine, and a thread inside one answers the next phase late.
 * A SCHED_FIFO worker spins RIG_SPIN_FIFO_NS (it must not hold its CPU).
 * Spins are counted in pauses, timed by rig_spins_for: one PAUSE took
 * 20 ns on this project's AMD EPYC hosts and 15 ns on a lent Intel Xeon,
 * and Intel's optimization manual gives about 140 cycles since Skylake,
 * so a count of pauses is no time. */
#ifndef RIG_SPIN_NS
#define RIG_SPIN_NS 400000.0
#endif
#define RIG_SPIN_FIFO_NS 40000.0
/* The CPU's spin-wait hint (x86 PAUSE, AArch64 YIELD; nothing elsewhere). */
static inline void rig_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/* How many rig_pause calls last ns nanoseconds here: timed once per
 * pool (the fastest of three runs of 2 000, about 40 us to 300 us), at
 * least 1 and at most 10^7. */
static unsigned rig_spins_for(double ns)
{
    double best = 0;
    for (int t = 0; t < 3; t++) {
        int64_t t0 = rig_wall_ns();
        for (int i = 0; i < 2000; i++)
            rig_pause();
        double each = (double)(rig_wall_ns() - t0) / 2000.0;
        if (t == 0 || each < best)
            best = each;
    }
    double n = ns / (best > 0.1 ? best : 0.1);
    return n < 1 ? 1u : n > 1e7 ? 10000000u : (unsigned)n;
}

static void rig_wait(unsigned spins, unsigned limit)
{
    if (spins > limit)
        sched_yield();
    else
        rig_pause();
}

/* A worker waits for the next phase: it spins for p->spin rounds, then
 * sleeps on gen (a futex) until the caller bumps it. Sleeping matters
 * most in `--realtime` runs: a SCHED_FIFO worker that spun between quanta
 * would hold its CPU from every normal process (the station's API
 * client, the shell); so there it spins only briefly. */
static void rig_wait_phase(rig_pool *p, unsigned seen)
{
    unsigned spins = 0;
    while (atomic_load_explicit(&p->gen, memory_order_acquire) == seen) {
        if (++spins < atomic_load_explicit(&p->spin, memory_order_relaxed)) {
            rig_pause();
            continue;
        }
        atomic_fetch_add(&p->sleepers, 1); /* seq_cst: against the caller's bump of gen */
        if (atomic_load(&p->gen) == seen)
            syscall(SYS_futex, &p->gen, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
        atomic_fetch_sub(&p->sleepers, 1);
        spins = 0;
    }
}

/* The caller starts a phase: bump gen, wake the sleepers. */
static void rig_start_phase(rig_pool *p)
{
    atomic_fetch_add(&p->gen, 1); /* seq_cst: against a worker's count of itself as asleep */
    if (atomic_load(&p->sleepers))
        syscall(SYS_futex, &p->gen, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

static void *rig_thread(void *arg)
{
    rig_worker *w = arg;
    rig_pool *p = w->p;
    unsigned seen = 0;
    for (;;) {
        rig_wait_phase(p, seen);
        seen++;
        int phase = atomic_load_explicit(&p->phase, memory_order_relaxed);
        if (phase < 0)
            break;
        unsigned k0, k1;
        rig_range(p, w->id, &k0, &k1);
        int timed = rig_timed(p);
        int64_t t0 = timed ? rig_wall_ns() : 0;
        rig_phase(p->r, phase ? 1 : 0, k0, k1, &p->part[w->id].hil, p->r->quantum);
        if (phase == 2) { /* the update done, told; then the next quantum's phase 0 (rig_run_phase) */
            atomic_fetch_add_explicit(&p->done1, 1, memory_order_release);
            unsigned spins = 0; /* once the caller's CAN part has filled the firmware's queues (rig_can) */
            while (!atomic_load_explicit(&p->can_done, memory_order_acquire))
                rig_wait(++spins, p->spin);
            rig_phase(p->r, 0, k0, k1, NULL, p->q_ahead);
        }
        if (timed)
            p->part[w->id].busy += (uint64_t)(rig_wall_ns() - t0);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
    free(w);
    return NULL;
}

/* The quantum's CAN part, serial, on the caller: the firmware's frames
 * onto the rack bus in slot order (sent at the quantum's start), the
 * clock to the quantum's end, then the station, the update streamer and
 * the bus to the quantum's end (CAN frames into the firmware's queues).
 * None of it is what phase 1 reads or writes (the plant; the firmware's
 * state, which only its period changes; phase 1 reads no time), so it
 * runs while the workers update their modules (rig_run_phase); the
 * next quantum's phase 0 reads the queues, so it waits for it. */
static void rig_can(rig *r)
{
    for (unsigned k = 0; k < r->o.modules; k++) {
        if (!r->tx_flag[k]) /* nothing queued since the last take: the module's own lines stay unread */
            continue;
        r->tx_flag[k] = 0;
        cfd_frame out;
        while (!r->m[k].external && hhal_can_take(&r->m[k].fw.h, &out) == EK3_OK)
            cbus_send(&r->bus, k + 1, &out, r->t_ns);
    }
    r->t_ns += RIG_PERIOD_NS; /* the quantum's end: the station sends at it (rig_station_send) */
    stn_poll(&r->stn, r->t_ns);
    if (r->upd)
        fwr_poll(r->upd, r->t_ns, &r->bus);
    cbus_run(&r->bus, r->t_ns);
}

/* Whether the workers may run on from this quantum's plant update into
 * the next quantum's phase 0 (rig.run_ahead, asked by the owner): only
 * on threads, in-process modules without frames (a log or HIL frames
 * take the quantum's time from r->t_ns), and no reader this quantum but
 * rig.peek (which each thread calls before it runs on). */
static int rig_can_run_ahead(const rig *r)
{
    return r->run_ahead && r->pool && !r->solo && r->pool->n > 1 && !r->n_external && !r->o.log &&
           !r->o.hil_frames && (!r->peek_due || r->peek);
}

/* A phase on every thread, the caller's range its own. Phase 2 is phase
 * 1 with the workers running on into phase 0 of the next quantum for
 * their own modules (rig_can_run_ahead): the caller waits for their
 * updates alone (done1) and goes on with the quantum's serial end, the
 * owner's work between quanta and its own phase 0 (rig_finish_ahead)
 * while they work. That phase 0 needs nothing of the serial end: the bus
 * delivered its frames before phase 1, and the owner promised
 * (rig.run_ahead) to read and change no module in between. One handoff
 * a quantum instead of two. */
static void rig_run_phase(rig *r, int phase)
{
    rig_pool *p = r->pool;
    if (!p || r->solo) {
        if (phase)
            rig_can(r);
        rig_phase(r, phase ? 1 : 0, 0, r->o.modules, &r->hil_frames, r->quantum);
        return;
    }
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    atomic_store_explicit(&p->done1, 0, memory_order_relaxed);
    atomic_store_explicit(&p->can_done, 0, memory_order_relaxed);
    atomic_store_explicit(&p->phase, phase, memory_order_relaxed);
    p->q_ahead = r->quantum + 1;
    rig_start_phase(p);
    unsigned k0, k1;
    rig_range(p, 0, &k0, &k1);
    int timed = rig_timed(p);
    int64_t t0 = timed ? rig_wall_ns() : 0;
    if (phase) { /* while the workers update their modules */
        rig_can(r);
        atomic_store_explicit(&p->can_done, 1, memory_order_release);
    }
    rig_phase(r, phase ? 1 : 0, k0, k1, &p->part[0].hil, r->quantum);
    if (timed)
        p->part[0].busy += (uint64_t)(rig_wall_ns() - t0);
    _Atomic unsigned *done = phase == 2 ? &p->done1 : &p->done;
    unsigned spins = 0;
    while (atomic_load_explicit(done, memory_order_acquire) != p->n - 1)
        rig_wait(++spins, p->caller_spin);
    if (phase == 0)
        return;
    uint64_t n = 0;
    for (unsigned i = 0; i < p->n; i++)
        n += p->part[i].hil;
    r->hil_frames = n;
    if (phase == 1) {
        rig_balance(p, r->o.modules);
        return;
    }
    if (timed)
        p->ahead_t0 = rig_wall_ns();
    r->ahead = 1;
    r->ahead_quanta++;
}

/* Phase 0 of a quantum the workers ran ahead (rig_run_phase's phase 2):
 * the caller's own range, then the workers' end; the threads' ranges
 * are balanced only here, with every worker waiting. */
static void rig_finish_ahead(rig *r)
{
    rig_pool *p = r->pool;
    unsigned k0, k1;
    rig_range(p, 0, &k0, &k1);
    rig_phase(r, 0, k0, k1, NULL, r->quantum);
    /* Timed from the workers' updates on: the caller's serial end of the
     * last quantum and its owner's work ran while the workers ran their
     * phase 0, so they count as its work and the balance gives the
     * workers more modules. */
    if (rig_timed(p))
        p->part[0].busy += (uint64_t)(rig_wall_ns() - p->ahead_t0);
    unsigned spins = 0;
    while (atomic_load_explicit(&p->done, memory_order_acquire) != p->n - 1)
        rig_wait(++spins, p->caller_spin);
    r->ahead = 0;
    rig_balance(p, r->o.modules);
}

void rig_settle(rig *r)
{
    if (!r->ahead)
        return;
    rig_finish_ahead(r);
    r->p0_done = 1;
}

unsigned rig_cpus(void)
{
    cpu_set_t set;
    if (!sched_getaffinity(0, sizeof set, &set) && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

unsigned rig_thread_modules(const rig *r, unsigned i)
{
    if (!r->pool)
        return i == 0 ? r->o.modules : 0;
    return i < r->pool->n ? r->pool->cut[i + 1] - r->pool->cut[i] : 0;
}

static int rig_pool_start(rig *r, unsigned n)
{
    rig_pool *p = calloc(1, sizeof *p);
    size_t psz = ((n * sizeof *p->part + 63) / 64) * 64;
    if (!p || !(p->th = calloc(n, sizeof *p->th)) || !(p->part = aligned_alloc(64, psz)) ||
        !(p->cut = calloc(n + 1, sizeof *p->cut))) {
        if (p) {
            free(p->th);
            free(p->part);
        }
        free(p);
        return EK3_ENOSPC;
    }
    memset(p->part, 0, psz);
    p->r = r;
    p->n = 1;
    p->spin = p->caller_spin = rig_spins_for(RIG_SPIN_NS);
    /* More threads than CPUs: a thread that spins holds the CPU another
     * one needs to finish its range (3 threads on 2 CPUs ran 84 modules
     * at 0.11 x real time against 5.3 x with 2). Each waits by sleeping
     * (workers) or yielding (the caller) at once instead. */
    long ncpu = rig_cpus();
    if ((long)n > ncpu) {
        p->spin = 0;
        p->caller_spin = 0;
    }
    for (unsigned i = 1; i < n; i++) {
        rig_worker *w = malloc(sizeof *w);
        if (!w)
            break;
        *w = (rig_worker){p, i};
        if (pthread_create(&p->th[i], NULL, rig_thread, w)) {
            free(w);
            break;
        }
        p->n = i + 1; /* the ranges use the threads that did start */
    }
    rig_cut_equal(p, r->o.modules);
    r->pool = p;
    r->pool_threads = p->n;
    return EK3_OK;
}

static void rig_pool_stop(rig *r)
{
    rig_pool *p = r->pool;
    if (!p)
        return;
    rig_settle(r); /* no worker left inside a quantum's phase 0 */
    atomic_store_explicit(&p->phase, -1, memory_order_relaxed);
    rig_start_phase(p);
    for (unsigned i = 1; i < p->n; i++)
        pthread_join(p->th[i], NULL);
    free(p->th);
    free(p->part);
    free(p->cut);
    free(p);
    r->pool = NULL;
}

unsigned rig_realtime(rig *r, int priority)
{
    rig_pool *p = r->pool;
    if (!p)
        return 0;
    /* Real-time threads never take every CPU: the caller is one, and one
     * CPU stays for the system (a rack that cannot keep up would
     * otherwise starve every other process, its own API's clients too).
     * Workers that cannot all be real-time are not used: a FIFO caller
     * waiting each phase for a normal thread is a priority inversion
     * (the run goes on in the caller alone, the same run). */
    long ncpu = rig_cpus();
    if ((long)p->n > ncpu - 1 || r->o.threads_adapt) { /* threads by default: one when paced (rig.h) */
        rig_pool_stop(r);
        r->pool_threads = 1;
        return 0;
    }
    struct sched_param sp = {.sched_priority = priority};
    unsigned n = 0;
    r->o.threads_adapt = 0; /* paced quanta all take the period: nothing to compare */
    r->solo = 0;
    if (priority > 0) /* a few microseconds, then sleep: a FIFO worker must not hold its CPU */
        atomic_store(&p->spin, rig_spins_for(RIG_SPIN_FIFO_NS));
    /* Worker i on the i-th CPU this process may use, the caller's own
     * CPU skipped (a pinned worker that spins beside the caller would
     * take turns with it). */
    cpu_set_t may;
    int mine = sched_getcpu(), cpus[RIG_THREADS_MAX];
    unsigned nc = 0;
    if (sched_getaffinity(0, sizeof may, &may))
        CPU_ZERO(&may);
    for (int c = 0; c < CPU_SETSIZE && nc < RIG_THREADS_MAX; c++)
        if (CPU_ISSET(c, &may) && c != mine)
            cpus[nc++] = c;
    for (unsigned i = 1; i < p->n; i++) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(nc ? cpus[(i - 1) % nc] : (int)(i % (unsigned)ncpu), &set);
        (void)pthread_setaffinity_np(p->th[i], sizeof set, &set); /* a hint: without it the thread still runs */
        if (priority <= 0 || pthread_setschedparam(p->th[i], SCHED_FIFO, &sp) == 0)
            n++;
    }
    if (n < p->n - 1) { /* no permission for them: the caller alone, as above */
        rig_pool_stop(r);
        r->pool_threads = 1;
        return 0;
    }
    return n;
}

uint8_t rig_adapt_next(rig_adapt_state *a, uint8_t solo, int64_t now_ns)
{
    if (a->gap == 0) { /* after the first quantum (its set-up uncounted): the first window starts */
        memset(a, 0, sizeof *a);
        a->gap = RIG_ADAPT_GAP0;
        a->left = 1; /* the second window is the other way's trial */
        a->t0_ns = now_ns;
        return solo;
    }
    a->q++;
    double el = (double)(now_ns - a->t0_ns), other = a->ns[!solo] * RIG_ADAPT_Q;
    int over = other > 0 && el > (a->trial ? 1.0 : (double)RIG_ADAPT_STALE) * other;
    if (a->q < RIG_ADAPT_Q && !over)
        return solo;
    a->ns[solo] = el / a->q;
    a->t0_ns = now_ns;
    a->q = 0;
    if (a->trial) { /* the other way had its window: keep the faster */
        a->trial = 0;
        if (!over && a->ns[solo] < a->ns[!solo]) {
            a->gap = RIG_ADAPT_GAP0;
        } else {
            solo = !solo;
            a->gap = a->gap * 2 > RIG_ADAPT_GAP_MAX ? RIG_ADAPT_GAP_MAX : a->gap * 2;
        }
        a->left = a->gap;
    } else if (over || --a->left == 0) { /* the way in use slowed down, or a trial is due */
        a->trial = 1;
        solo = !solo;
    }
    return solo;
}

void rig_quantum(rig *r)
{
    double dt = RIG_PERIOD_NS * 1e-9;
    rig_external_send(r);
    if (r->p0_done) /* rig_settle ran it */
        r->p0_done = 0;
    else if (r->ahead)
        rig_finish_ahead(r);
    else
        rig_run_phase(r, 0);
    rig_external_collect(r);
    rack_solve_bus(&r->plant, dt); /* serial: the bus voltage phase 1 integrates at */
    rig_run_phase(r, rig_can_run_ahead(r) ? 2 : 1); /* with rig_can on the caller */
    rack_finish(&r->plant, dt);
    if (!r->o.no_swarm) /* without the swarm there is no Raft state to check */
        swo_check(&r->obs, r);
    r->quantum++;
    if (r->pool && r->o.threads_adapt) {
        r->solo_quanta += r->solo && !r->adapt.trial && r->adapt.ns[0] > 0; /* chosen, not tried */
        r->solo = rig_adapt_next(&r->adapt, r->solo, rig_wall_ns());
    }
}
