/* bench_bridge.c - the bridge's transports and bus: round-trip latency
 * (median, p99) with an echo thread, one-way frames per second, and the
 * simulated rack bus's frames per wall second. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#include "canbus.h"
#include "rig.h"
#include "session.h"
#include "ek3_err.h"
#include "transport.h"

typedef struct echo {
    tp *t;
    atomic_int stop;
    long n;
} echo;

static void *bb_echo(void *arg)
{
    echo *e = arg;
    cfd_frame f;
    while (!atomic_load(&e->stop)) {
        if (tp_poll(e->t, 20) != 1)
            continue;
        while (tp_recv(e->t, &f) == EK3_OK) {
            while (tp_send(e->t, &f) == EK3_EFULL)
                ;
            e->n++;
        }
    }
    return NULL;
}

static int bb_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Round trips over a (a, b) pair with b echoing, then a one-way burst. */
static int bb_pair(FILE *out, const char *name, tp *a, tp *b, long n)
{
    echo e = {b, 0, 0};
    pthread_t th;
    if (pthread_create(&th, NULL, bb_echo, &e))
        return 1;
    int64_t *rt = malloc((size_t)n * sizeof *rt);
    if (!rt)
        return 1;
    cfd_frame f, r;
    memset(&f, 0, sizeof f);
    f.flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS;
    f.id = 0x1280003;
    f.len = 32; /* a HIL_ADC frame */
    long done = 0;
    for (long k = 0; k < n; k++) {
        int64_t t0 = bench_now_ns();
        if (tp_send(a, &f) != EK3_OK)
            continue;
        int ok = 0;
        while (!ok) {
            if (tp_poll(a, 1000) != 1)
                break;
            ok = tp_recv(a, &r) == EK3_OK;
        }
        if (!ok)
            break;
        rt[done++] = bench_now_ns() - t0;
    }
    atomic_store(&e.stop, 1);
    pthread_join(th, NULL);
    if (done == 0) {
        free(rt);
        return 1;
    }
    qsort(rt, (size_t)done, sizeof *rt, bb_cmp);
    char line[96];
    snprintf(line, sizeof line, "bridge.%s.rtt_median", name);
    bench_line(out, line, rt[done / 2] / 1e3, "us");
    snprintf(line, sizeof line, "bridge.%s.rtt_p99", name);
    bench_line(out, line, rt[(size_t)(done * 99 / 100)] / 1e3, "us");
    free(rt);
    /* One way: a sends as fast as it can, b drains (same thread, in turns). */
    long sent = 0, got = 0, burst = n * 10;
    int64_t t0 = bench_now_ns();
    while (got < burst) {
        for (int k = 0; k < 64 && sent < burst; k++) {
            if (tp_send(a, &f) != EK3_OK)
                break;
            sent++;
        }
        while (tp_recv(b, &r) == EK3_OK)
            got++;
        if (sent == burst && got < burst && tp_poll(b, 100) != 1)
            break; /* lost some: count what arrived */
    }
    double s = (bench_now_ns() - t0) * 1e-9;
    snprintf(line, sizeof line, "bridge.%s.frames_per_s", name);
    bench_line(out, line, got / s, "frames/s");
    return 0;
}

static void bb_sink(void *ctx, unsigned to, unsigned from, const cfd_frame *f, int64_t t)
{
    (void)to, (void)from, (void)f, (void)t;
    (*(long *)ctx)++;
}

/* The real-time factor of a run session of `modules` modules (`ek3
 * rack`'s path: the timeline, the collapse watch, a probe row and a
 * snapshot every 10 quanta on top of rig_quantum) on `threads` threads
 * (adapt: as `ek3 rack` without --threads, the caller alone while that
 * is faster, on at most one thread per RIG_MODULES_PER_THREAD modules;
 * else fixed, as with --threads; *used: the threads taken) drawing load_w,
 * timed over q quanta after `startup` quanta (0: from power-on, as `ek3
 * rack` prints it); -1 when it cannot start. no_swarm: rig_opts.no_swarm.
 * cg_name: under callgrind, the q quanta are dumped by that name. */
static double bb_session(unsigned modules, int adapt, double load_w, int no_swarm, long startup, long q,
                         unsigned threads, const char *cg_name, int as_rack, unsigned *used)
{
    static ses s;
    ses_opts so;
    memset(&so, 0, sizeof so);
    rig_default_opts(&so.r, modules, 1, load_w);
    so.r.threads = threads;
    so.r.threads_adapt = adapt && threads > 1;
    so.r.no_swarm = (uint8_t)no_swarm;
    so.r.via_station = (uint8_t)as_rack;
    so.run_ahead = 1; /* as `ek3 rack` runs */
    so.quanta = startup + q;
    ses_event e = {.kind = SES_EV_LOAD, .at_s = 0, .load = so.r.load};
    if (ses_init(&s, &so) != EK3_OK)
        return -1;
    if (used) /* the threads the rig took (adapt: one per RIG_MODULES_PER_THREAD modules at most) */
        *used = s.g.pool ? s.g.pool_threads : 1;
    /* as_rack: `ek3 rack`'s own start (the station's, the load on at
     * --load-at over --load-ramp); else the load on from power-on */
    if ((as_rack ? ses_start_and_load(&s, SES_STATION_START_NS * 1e-9, SES_LOAD_AT_S, SES_LOAD_RAMP_S, &so.r.load)
                 : ses_add_event(&s, &e)) != EK3_OK) {
        ses_free(&s);
        return -1;
    }
    for (long k = 0; k < startup; k++)
        ses_step(&s);
    if (cg_name)
        BENCH_CG_BEGIN();
    int64_t t0 = bench_now_ns();
    for (long k = 0; k < q; k++)
        ses_step(&s);
    double sec = (bench_now_ns() - t0) * 1e-9;
    if (cg_name)
        BENCH_CG_END(cg_name);
    ses_free(&s);
    return q * (RIG_PERIOD_NS * 1e-9) / sec;
}

/* Rounds of the whole-rack figures, and their median. */
#define BB_ROUNDS 3
_Static_assert(BB_ROUNDS == 3, "bb_median3 takes the median of three");
static double bb_median3(const double v[BB_ROUNDS])
{
    double a = v[0], b = v[1], c = v[2];
    return a > b ? (b > c ? b : a > c ? c : a) : (a > c ? a : b > c ? c : b);
}

/* rtf of an 84-module rack at 150 kW on `threads` threads, after 2 000
 * quanta of start-up; frames: the HIL exchange as frames (rig_opts
 * hil_frames). -1 when the rack does not build. */
static double bb_rack84(unsigned threads, int frames, double scale, const char *cg_name)
{
    static rig g;
    rig_opts o;
    rig_default_opts(&o, 84, 1, 150e3);
    o.threads = threads;
    o.hil_frames = (uint8_t)frames;
    if (rig_init(&g, &o) != EK3_OK)
        return -1;
    g.run_ahead = 1; /* nothing reads a module between quanta here */
    long q = (long)(5000 * scale) < 500 ? 500 : (long)(5000 * scale);
    for (long k = 0; k < 2000; k++) /* start-up first */
        rig_quantum(&g);
    if (cg_name) {
        q = BENCH_BRIDGE_CG_Q;
        BENCH_CG_BEGIN();
    }
    int64_t t0 = bench_now_ns();
    for (long k = 0; k < q; k++)
        rig_quantum(&g);
    double s = (bench_now_ns() - t0) * 1e-9;
    if (cg_name)
        BENCH_CG_END(cg_name);
    rig_free(&g);
    return q * (RIG_PERIOD_NS * 1e-9) / s;
}

static int bb_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* n periods of 100 us waited for as `ek3 rack --realtime` waits (spin:
 * on the clock) or as cyclictest does (clock_nanosleep, TIMER_ABSTIME),
 * nothing else done: each one's lateness into late[], ns. Returns how
 * many were late by more than the rack's tolerance (SES_RT_TOL_NS). */
static long bb_idle_periods(int64_t *late, long n, int spin)
{
    long over = 0;
    int64_t t0 = bench_now_ns() + RIG_PERIOD_NS;
    for (long i = 0; i < n; i++) {
        int64_t d = t0 + i * RIG_PERIOD_NS, now;
        if (spin) {
            while ((now = bench_now_ns()) < d)
                ;
        } else {
            struct timespec ts = {d / 1000000000, d % 1000000000};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
            now = bench_now_ns();
        }
        late[i] = now - d;
        over += late[i] > SES_RT_TOL_NS;
    }
    return over;
}

/* The host's own latency floor, as cyclictest measures it: a loop that
 * does nothing but sleep to absolute 100 us deadlines (clock_nanosleep,
 * TIMER_ABSTIME, SCHED_FIFO 80 when allowed, timer slack 1 ns), and how
 * late it wakes, and the share of periods late by more than the rack's
 * tolerance (SES_RT_TOL_NS). A `--realtime` rack's lateness above this
 * floor is the rig's; below it, the machine's. */
static void bb_latency_floor(FILE *out, long n)
{
    int64_t *late = malloc((size_t)n * sizeof *late);
    if (!late)
        return;
    struct sched_param old_sp, sp = {.sched_priority = 80};
    int old_pol = sched_getscheduler(0);
    sched_getparam(0, &old_sp);
    int fifo = sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    /* spin 0: sleep to each deadline (cyclictest); 1: spin on the clock
     * to it, as `ek3 rack --realtime` waits (session.c, SES_RT_SPIN_NS). */
    for (int spin = 0; spin < 2; spin++) {
        /* The spin as the rack spins: a normal thread (under SCHED_FIFO the
         * kernel's RT limit, sched_rt_runtime_us, stops a thread that never
         * sleeps for 50 ms of every second: that, not the host, was its p99). */
        if (spin && fifo && sched_setscheduler(0, old_pol, &old_sp) == 0)
            fifo = 0;
        long over = bb_idle_periods(late, n, spin); /* late as `ek3 rack --realtime` counts a quantum late */
        qsort(late, (size_t)n, sizeof *late, bb_cmp_i64);
        const char *k = spin ? "bridge.host_floor.spin" : "bridge.host_floor";
        char name[64];
        fprintf(out, "# %s: an idle 100 us %s loop, %ld periods, %s%s\n", k, spin ? "spin" : "sleep", n,
                fifo ? "SCHED_FIFO 80" : spin ? "SCHED_OTHER (as --realtime spins)" : "SCHED_OTHER (no permission for FIFO)",
                spin ? "" : "; a wake-up here takes longer than 10 us, hence --realtime spins");
        snprintf(name, sizeof name, "%s.late_pct", k);
        bench_line(out, name, 100.0 * (double)over / (double)n, "%");
        snprintf(name, sizeof name, "%s.median_us", k);
        bench_line(out, name, late[n / 2] / 1e3, "us");
        snprintf(name, sizeof name, "%s.p99_us", k);
        bench_line(out, name, late[n * 99 / 100] / 1e3, "us");
        snprintf(name, sizeof name, "%s.max_us", k);
        bench_line(out, name, late[n - 1] / 1e3, "us");
    }
    if (fifo)
        sched_setscheduler(0, old_pol, &old_sp);
    free(late);
}

/* `ek3 rack --modules 84 --load 200kW --realtime` for q quanta from
 * power-on: the share of quanta late and the lateness p99 (session.c).
 * The process's scheduling and memory locking are put back after. */
static int bb_realtime84(FILE *out, long q)
{
    static ses s;
    ses_opts so;
    memset(&so, 0, sizeof so);
    rig_default_opts(&so.r, 84, 1, 200e3);
    so.r.threads = 1;
    so.quanta = q;
    so.realtime = 1;
    struct sched_param old_sp;
    int old_pol = sched_getscheduler(0);
    sched_getparam(0, &old_sp);
    ses_event e = {.kind = SES_EV_LOAD, .at_s = 0, .load = so.r.load};
    if (ses_init(&s, &so) != EK3_OK)
        return 1;
    int bad = ses_add_event(&s, &e) != EK3_OK;
    /* In rounds, each a block of the bare spin loop then a block of the
     * rack: the host's noise comes and goes over seconds, so the floor is
     * measured beside the rack, not before it. Between blocks the rack's
     * deadlines move on by the time the spin took (its clock restarts). */
    enum { ROUNDS = 5 };
    long per = q / ROUNDS, floor_late = 0;
    int64_t *idle = malloc((size_t)per * sizeof *idle);
    bad |= !idle;
    for (int r = 0; !bad && r < ROUNDS; r++) {
        floor_late += bb_idle_periods(idle, per, 1);
        if (s.q > 0)
            s.t0_wall_ns = bench_now_ns() - s.q * RIG_PERIOD_NS;
        for (long k = 0; k < per; k++)
            ses_step(&s);
    }
    free(idle);
    q = s.q;
    if (!bad && q > 0) {
        qsort(s.late, (size_t)q, sizeof *s.late, bb_cmp_i64);
        fprintf(out, "# bridge.realtime84: ek3 rack --modules 84 --load 200kW --realtime, %ld quanta, 1 thread, %s; "
                     "in %d rounds, each beside as many periods of the bare spin loop (host_spin_late_pct); late: "
                     "more than %g us past its time, as the report counts by default\n",
                q, "spinning, SCHED_OTHER", ROUNDS, SES_RT_TOL_NS / 1e3);
        bench_line(out, "bridge.realtime84.late_pct", 100.0 * (double)s.late_n / (double)q, "%");
        bench_line(out, "bridge.realtime84.host_spin_late_pct", 100.0 * (double)floor_late / (double)(per * ROUNDS), "%");
        bench_line(out, "bridge.realtime84.overrun_pct", 100.0 * (double)s.overruns / (double)q, "%");
        bench_line(out, "bridge.realtime84.lateness.p99_us", s.late[q * 99 / 100] / 1e3, "us");
        bench_line(out, "bridge.realtime84.lateness.max_us", s.late[q - 1] / 1e3, "us");
    }
    ses_free(&s);
    sched_setscheduler(0, old_pol, &old_sp);
    munlockall();
    return bad;
}

int bench_bridge(FILE *out, double scale, int instructions)
{
    if (instructions) /* under callgrind: the rack's loops only */
        return bb_rack84(1, 0, scale, "bridge.rack84.quantum") < 0 ||
               bb_rack84(1, 1, scale, "bridge.rack84.frames.quantum") < 0 ||
               bb_session(84, 1, 200e3, 0, 0, BENCH_SESSION_CG_Q, 1, "bridge.session84.quantum", 0, NULL) < 0;
    long n = (long)(20000 * scale);
    if (n < 500)
        n = 500;
    int bad = 0;
    tp a, b;
    fprintf(out, "# bridge: rtf is simulated time over wall time (the \"x real time\" ek3 rack prints); the headline\n"
                 "# is rack84.rtf, `ek3 rack --modules 84 --load 200kW` as it runs (= session84.rtf.threads_N,\n"
                 "# N: every CPU, one per 10 modules at most);\n"
                 "# frameless.speedup: the HIL exchange as structs over frames; swarm.cost: wall time with the swarm\n"
                 "# over without; late_pct: periods more than 10 us past their time; overrun_pct: periods whose\n"
                 "# own work ran past their deadline; host_floor: an idle 100 us loop, the host's own jitter;\n"
                 "# mem/udp rtt: a HIL frame's round trip over that transport, frames_per_s one way flat out;\n"
                 "# canbus.load: the rack bus's busy share of its bit time; *.quantum.instructions (--under-callgrind):\n"
                 "# instructions a module a quantum\n");
    if (tp_mem_pair(&a, &b, 1024) == EK3_OK) {
        bad |= bb_pair(out, "mem", &a, &b, n);
        tp_close(&a);
        tp_close(&b);
    }
    if (tp_open(&b, "udp:@0") == EK3_OK) {
        char spec[64];
        int port = 0;
        {
            struct sockaddr_in sa;
            socklen_t sl = sizeof sa;
            if (getsockname(b.fd, (struct sockaddr *)&sa, &sl) == 0)
                port = ntohs(sa.sin_port);
        }
        snprintf(spec, sizeof spec, "udp:127.0.0.1:%d", port);
        if (tp_open(&a, spec) == EK3_OK) {
            /* The listener learns its peer from the first datagram. */
            cfd_frame hello;
            memset(&hello, 0, sizeof hello);
            hello.flags = CFD_FLAG_EFF;
            tp_send(&a, &hello);
            tp_poll(&b, 1000);
            tp_recv(&b, &hello);
            bad |= bb_pair(out, "udp", &a, &b, n);
            tp_close(&a);
        }
        tp_close(&b);
    }
    if (tp_open(&a, "vcan0") == EK3_OK && tp_open(&b, "vcan0") == EK3_OK) {
        bad |= bb_pair(out, "socketcan", &a, &b, n);
        tp_close(&a);
        tp_close(&b);
    } else {
        fprintf(out, "# bridge.socketcan: no vcan0 here (ci/vcan-test runs the transport in a VM)\n");
    }
    /* The simulated rack bus: 85 nodes, a 16-byte frame every 100 us. */
    cbus bus;
    if (cbus_init(&bus, 85, 1000000, 5000000, 1) == EK3_OK) {
        long delivered = 0;
        bus.deliver = bb_sink;
        bus.ctx = &delivered;
        cfd_frame f;
        memset(&f, 0, sizeof f);
        f.flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS;
        f.len = 16;
        long frames = 0;
        int64_t t0 = bench_now_ns();
        for (long q = 0; q < n; q++) { /* one 100 us quantum: a few frames */
            for (unsigned k = 0; k < 1; k++) {
                f.id = 0x0400000u + (uint32_t)((q * 3 + k) % 84 + 1) * 512u;
                if (cbus_send(&bus, (unsigned)((q * 3 + k) % 84 + 1), &f, q * 100000LL) == EK3_OK)
                    frames++;
            }
            cbus_run(&bus, (q + 1) * 100000LL);
        }
        double s = (bench_now_ns() - t0) * 1e-9;
        bench_line(out, "bridge.canbus.frames_per_s", bus.frames / s, "frames/s");
        bench_line(out, "bridge.canbus.rtf", n * (RIG_PERIOD_NS * 1e-9) / s, "x");
        bench_line(out, "bridge.canbus.load", cbus_load(&bus) * 100.0, "%");
        cbus_free(&bus);
        (void)frames;
    }
    bb_latency_floor(out, (long)(20000 * scale) < 2000 ? 2000 : (long)(20000 * scale));
    bad |= bb_realtime84(out, (long)(50000 * scale) < 5000 ? 5000 : (long)(50000 * scale));
    /* The whole rack: 84 modules, firmware and averaged plant in lockstep,
     * 1 thread and every CPU; and the HIL exchange as frames (the path a
     * log or an external module takes) against the frameless one, in the
     * same run. */
    unsigned tn = rig_cpus();
    /* BB_ROUNDS rounds, the ways alternating within each, and each
     * figure the median of its rounds: the host's speed comes and goes
     * over seconds, and a ratio of two runs minutes apart measures the
     * host as much as the rig. */
    double v1[BB_ROUNDS], vn[BB_ROUNDS], vf[BB_ROUNDS];
    for (int i = 0; i < BB_ROUNDS; i++) {
        v1[i] = bb_rack84(1, 0, scale, NULL);
        vn[i] = tn > 1 ? bb_rack84(tn, 0, scale, NULL) : v1[i];
        vf[i] = bb_rack84(1, 1, scale, NULL);
        if (v1[i] < 0 || vn[i] < 0 || vf[i] < 0)
            return 1;
    }
    double r1 = bb_median3(v1), rn = bb_median3(vn), rf = bb_median3(vf);
    fprintf(out,
            "# bridge.rack84.rtf.*, bridge.rack84.frames.rtf.*, bridge.session84.rtf.* and rack84.rtf: each the median "
            "of %d rounds,\n# each round one thread, then every CPU (the host's speed moves between runs)\n",
            BB_ROUNDS);
    bench_line(out, "bridge.rack84.rtf.threads_1", r1, "x");
    if (tn > 1) {
        char name[64];
        snprintf(name, sizeof name, "bridge.rack84.rtf.threads_%u", tn);
        bench_line(out, name, rn, "x");
    }
    bench_line(out, "bridge.rack84.threads.speedup", rn / r1, "x");
    if (tn > 1 && rn < r1) /* rig_opts.threads fixed here: a busy host's, not the rig's serial part */
        fprintf(out,
                "# bridge.rack84.threads.speedup below 1: %u threads slower than one on this host now (a busy CPU "
                "holds every phase;\n# `ek3 rack` without --threads measures both and then runs on one)\n",
                tn);
    bench_line(out, "bridge.rack84.frames.rtf.threads_1", rf, "x");
    bench_line(out, "bridge.rack84.frameless.speedup", r1 / rf, "x"); /* 1 thread: frameless over frames */
    /* rack84.rtf: the run users make, `ek3 rack --modules 84 --load
     * 200kW` as it runs without other flags (the swarm on, the station's
     * start, the load on at 0.5 s over 0.5 s, 2 s; every scale) on the
     * threads it takes (every CPU, one per RIG_MODULES_PER_THREAD modules at
     * most), as it prints its rtf; 1 thread beside it, their ratio and
     * Amdahl's serial fraction s of the quantum from it: speedup =
     * 1 / (s + (1 - s) / N). */
    long q = (long)(SES_RUN_S / (RIG_PERIOD_NS * 1e-9) + 0.5);
    double w1[BB_ROUNDS], wn[BB_ROUNDS];
    unsigned un = 1; /* the threads `ek3 rack` takes here */
    for (int i = 0; i < BB_ROUNDS; i++) {
        w1[i] = bb_session(84, 1, 200e3, 0, 0, q, 1, NULL, 1, NULL);
        wn[i] = tn > 1 ? bb_session(84, 1, 200e3, 0, 0, q, tn, NULL, 1, &un) : w1[i];
        if (w1[i] < 0 || wn[i] < 0)
            return 1;
    }
    double rtf = bb_median3(w1), rtfn = bb_median3(wn);
    bench_line(out, "bridge.session84.rtf.threads_1", rtf, "x");
    if (tn > 1) {
        char name[64];
        snprintf(name, sizeof name, "bridge.session84.rtf.threads_%u", un);
        bench_line(out, name, rtfn, "x");
        double sp = rtfn / rtf;
        bench_line(out, "bridge.session84.threads.speedup", sp, "x");
        if (sp > 1.0 && un > 1)
            bench_line(out, "bridge.session84.serial_fraction", (un / sp - 1.0) / (un - 1.0), "");
        else /* Amdahl's law has no serial fraction for a slowdown: the host, not the rig's serial part */
            fprintf(out, "# bridge.session84.serial_fraction: none (%u threads no faster than one on this host now)\n", un);
    }
    bench_line(out, "rack84.rtf", rtfn, "x");
    /* How the rack scales: 336 modules (four racks' worth, 800 kW) on 1,
     * 2, 4, 8 and 16 threads, as many as this process has CPUs, each
     * fixed (as --threads N), timed over 5 000 quanta after 8 000 of
     * start-up (the load on from power-on: the modules regulating, the
     * swarm's leader elected; the first 0.5 s of a run are its cheapest,
     * before the modules switch); BB_ROUNDS rounds, every
     * count once in each, the median. Amdahl's serial fraction from the
     * most threads. */
    {
        enum { NT = 5 };
        static const unsigned tcount[NT] = {1, 2, 4, 8, 16};
        double v[NT][BB_ROUNDS];
        unsigned nt = 0;
        while (nt < NT && tcount[nt] <= (tn > 1 ? tn : 1))
            nt++;
        long q336 = (long)(5000 * scale) < 500 ? 500 : (long)(5000 * scale);
        for (int i = 0; i < BB_ROUNDS; i++)
            for (unsigned j = 0; j < nt; j++)
                if ((v[j][i] = bb_session(336, 0, 336 * 2380.0, 0, 8000, q336, tcount[j], NULL, 0, NULL)) < 0)
                    return 1;
        fprintf(out, "# bridge.rack336: 336 modules at 800 kW on N threads (as --threads N, 1 to this process's %u "
                     "CPUs), each the median of %d rounds;\n# speedup: over 1 thread\n",
                tn, BB_ROUNDS);
        double one = bb_median3(v[0]);
        for (unsigned j = 0; j < nt; j++) {
            char name[64];
            double m = bb_median3(v[j]);
            snprintf(name, sizeof name, "bridge.rack336.rtf.threads_%u", tcount[j]);
            bench_line(out, name, m, "x");
            if (j) {
                snprintf(name, sizeof name, "bridge.rack336.speedup.threads_%u", tcount[j]);
                bench_line(out, name, m / one, "x");
            }
            if (j && j == nt - 1 && m > one)
                bench_line(out, "bridge.rack336.serial_fraction",
                           (tcount[j] / (m / one) - 1.0) / (tcount[j] - 1.0), "");
        }
    }
    /* The swarm's cost, as `ek3 rack --modules 84 --load 200kW` runs with
     * and without it (--no-swarm), timed after the first election (the
     * leader broadcasting SYNC, every module trimming). */
    long qs = (long)(10000 * scale) < 2000 ? 2000 : (long)(10000 * scale);
    double on = bb_session(84, 1, 200e3, 0, 8000, qs, 1, NULL, 0, NULL),
           off = bb_session(84, 1, 200e3, 1, 8000, qs, 1, NULL, 0, NULL);
    if (on < 0 || off < 0)
        return 1;
    bench_line(out, "bridge.session84.swarm.rtf", on, "x");
    bench_line(out, "bridge.session84.noswarm.rtf", off, "x");
    bench_line(out, "bridge.session84.swarm.cost", off / on, "x"); /* wall time with the swarm over without */
    return bad;
}
