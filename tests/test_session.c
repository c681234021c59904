/* test_session.c - the run session: events take effect at their time,
 * a load ramps as asked, the record keeps the newest rows within its
 * bound, probes are found by name, the snapshot an observer reads is the
 * latest published one and whole, and a stop ends the run on a quantum. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "ek3_err.h"
#include "session.h"

static ses s;

static void setup(ses_opts *o, unsigned n, long quanta)
{
    memset(o, 0, sizeof *o);
    rig_default_opts(&o->r, n, 7, 2000.0 * n);
    o->r.threads = 1;
    o->quanta = quanta;
}

/* Two sessions of n modules with every module probed: a on `threads`
 * threads, b on one; *o as set up (threads 1). */
static void setup_pair(ses *a, ses *b, ses_opts *o, unsigned n, long quanta, unsigned threads)
{
    setup(o, n, quanta);
    o->probe_modules = 1;
    o->r.threads = threads;
    cr_assert_eq(ses_init(a, o), EK3_OK);
    o->r.threads = 1;
    cr_assert_eq(ses_init(b, o), EK3_OK);
}

/* The same event added to both. */
static void add_both(ses *a, ses *b, const ses_event *e)
{
    cr_assert_eq(ses_add_event(a, e), EK3_OK);
    cr_assert_eq(ses_add_event(b, e), EK3_OK);
}

/* Both records hold the same rows, bit for bit. */
static void same_rows(const ses *a, const ses *b)
{
    cr_assert_eq(ses_rec_rows(a), ses_rec_rows(b));
    for (long i = 0; i < ses_rec_rows(a); i++)
        cr_assert_eq(memcmp(ses_rec_row(a, i), ses_rec_row(b, i), a->rec.ncol * sizeof(double)), 0, "row %ld", i);
}

Test(session, a_pull_takes_effect_at_its_time)
{
    ses_opts o;
    setup(&o, 4, 1000);
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    ses_event e = {.kind = SES_EV_PULL, .at_s = 0.05, .slot = 2};
    cr_assert_eq(ses_add_event(&s, &e), EK3_OK);
    cr_assert_eq(ses_run_to(&s, 50000000), EK3_OK);
    cr_assert(s.g.plant.mod[1].present, "not yet: the quantum starting at 50 ms has not run");
    cr_assert_eq(ses_step(&s), EK3_OK);
    cr_assert(!s.g.plant.mod[1].present);
    cr_assert(s.g.plant.mod[0].present && s.g.plant.mod[2].present);
    cr_assert_eq(ses_run(&s), EK3_OK);
    static ses_mod_snap mod[4];
    ses_snap sn = {.mod = mod};
    cr_assert_gt(ses_snapshot(&s, &sn), 0u);
    cr_assert_eq(sn.mod[1].pulled_ns, 50000000, "pulled at %lld ns", (long long)sn.mod[1].pulled_ns);
    cr_assert_eq(sn.mod[1].state, SES_M_PULLED);
    cr_assert_eq(sn.mod[0].pulled_ns, -1);
    cr_assert_eq(sn.t_ns, 1000 * RIG_PERIOD_NS);
    ses_free(&s);
}

/* An event acts at the start of the first quantum at or after its time,
 * to the ns: never before it (1.0000000004 s acted at 1.0 s, its ns
 * truncated), and a decimal time's binary rounding does not push it a
 * quantum on (1.1 s is 1.1e9 ns and 2e-7 more; 0.3 s 6e-8 less). */
Test(session, an_event_acts_at_the_first_quantum_at_or_after_its_time)
{
    cr_assert_eq(ses_act_ns(1.0000000004), 1000100000);
    cr_assert_eq(ses_act_ns(1.00000000001), 1000100000);
    cr_assert_eq(ses_act_ns(1.1), 1100000000);
    cr_assert_eq(ses_act_ns(0.3), 300000000);
    cr_assert_eq(ses_act_ns(0.1 + 0.2), 300000000);
    cr_assert_eq(ses_act_ns(0), 0);
    cr_assert_eq(ses_act_ns(1.23456789), 1234600000);
    cr_assert_eq(ses_act_ns(1.2346), 1234600000);
}

/* --fault pull:SLOT@TIME is --pull SLOT@TIME: the snapshot (and the
 * report's "module N pulled at" line) names it too. */
Test(session, a_pull_fault_is_reported_as_a_pull)
{
    ses_opts o;
    setup(&o, 4, 1000);
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    ses_event e = {.kind = SES_EV_FAULT, .at_s = 0.05};
    cr_assert_eq(flt_parse("pull:3@0.05s", &e.fault, NULL, 0), EK3_OK);
    cr_assert_eq(ses_add_event(&s, &e), EK3_OK);
    cr_assert_eq(ses_run(&s), EK3_OK);
    static ses_mod_snap mod[4];
    ses_snap sn = {.mod = mod};
    cr_assert_gt(ses_snapshot(&s, &sn), 0u);
    cr_assert(!s.g.plant.mod[2].present);
    cr_assert_eq(sn.mod[2].pulled_ns, 50000000, "pulled at %lld ns", (long long)sn.mod[2].pulled_ns);
    cr_assert_eq(sn.mod[1].pulled_ns, -1);
    ses_free(&s);
}

Test(session, events_are_checked)
{
    ses_opts o;
    setup(&o, 4, 10);
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    ses_event e = {.kind = SES_EV_PULL, .at_s = 0.01, .slot = 5};
    cr_assert_eq(ses_add_event(&s, &e), EK3_EINVAL, "slot 5 in a rack of 4");
    e.slot = 0;
    cr_assert_eq(ses_add_event(&s, &e), EK3_EINVAL);
    e.slot = 4;
    cr_assert_eq(ses_add_event(&s, &e), EK3_OK);
    cr_assert_eq(ses_add_event(&s, &e), EK3_EBUSY, "slot 4 is pulled once");
    e.at_s = -1, e.slot = 3;
    cr_assert_eq(ses_add_event(&s, &e), EK3_EINVAL);
    ses_event l = {.kind = SES_EV_LOAD, .at_s = 0, .load = {.kind = RACK_LOAD_CP, .p_w = 1000}};
    cr_assert_eq(ses_add_event(&s, &l), EK3_EINVAL, "a constant-power step on a resistor load");
    /* Sorted by time, stable. */
    ses_event a = {.kind = SES_EV_INSERT, .at_s = 0.005, .slot = 1}, b = {.kind = SES_EV_INSERT, .at_s = 0.005, .slot = 2};
    cr_assert_eq(ses_add_event(&s, &a), EK3_OK);
    cr_assert_eq(ses_add_event(&s, &b), EK3_OK);
    cr_assert_eq(s.nev, 3u);
    cr_assert_eq(s.ev[0].slot, 1u);
    cr_assert_eq(s.ev[1].slot, 2u);
    cr_assert_eq(s.ev[2].slot, 4u);
    ses_free(&s);
}

Test(session, a_load_ramps_then_holds)
{
    ses_opts o;
    setup(&o, 2, 400);
    o.r.load = (rack_load){.kind = RACK_LOAD_CP, .p_w = 1000, .v_min = 100};
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    cr_assert_eq(s.g.plant.load.p_w, 0.0, "off until its event");
    ses_event l = {.kind = SES_EV_LOAD, .at_s = 0.01, .load = o.r.load, .ramp_s = 0.01};
    cr_assert_eq(ses_add_event(&s, &l), EK3_OK);
    cr_assert_eq(ses_run_to(&s, 15000000), EK3_OK);
    /* the last quantum began at 14.9 ms: 49 % of the way */
    cr_assert(fabs(s.g.plant.load.p_w - 490) < 1e-6, "%.9f W", s.g.plant.load.p_w);
    cr_assert_eq(ses_run_to(&s, 30000000), EK3_OK);
    cr_assert_eq(s.g.plant.load.p_w, 1000.0, "%.9f W", s.g.plant.load.p_w);
    ses_free(&s);
}

Test(session, the_record_keeps_the_newest_rows)
{
    ses_opts o;
    setup(&o, 2, 100);
    o.record_rows = 5;
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    cr_assert_eq(ses_run(&s), EK3_OK);
    /* rows at 0 s and after quanta 9, 19, ..., 99: at 0, 1, ..., 10 ms (the
     * grid --trace-csv writes, the end on it); the last five held */
    cr_assert_eq(s.rec.total, 11u);
    cr_assert_eq(ses_rec_rows(&s), 5);
    int t = ses_probe_find(&s, "t");
    cr_assert(fabs(ses_rec_row(&s, 0)[t] - 0.006) < 1e-12, "oldest %.6f s", ses_rec_row(&s, 0)[t]);
    cr_assert(fabs(ses_rec_row(&s, 4)[t] - 0.010) < 1e-12, "newest %.6f s", ses_rec_row(&s, 4)[t]);
    cr_assert_null(ses_rec_row(&s, 5));
    ses_free(&s);
}

Test(session, probes_by_name)
{
    ses_opts o;
    setup(&o, 4, 101);
    o.probe_modules = 1;
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    cr_assert_eq(ses_probe_find(&s, "vbus"), 1);
    cr_assert_eq(ses_probe_find(&s, "iout.0"), -1);
    cr_assert_eq(ses_probe_find(&s, "iout.5"), -1);
    cr_assert_eq(ses_probe_find(&s, "iout.3x"), -1);
    cr_assert_eq(ses_probe_find(&s, "nosuch"), -1);
    int c = ses_probe_find(&s, "vout.3");
    char name[32];
    cr_assert_str_eq(ses_probe_name(&s, (unsigned)c, name, sizeof name), "vout.3");
    cr_assert_eq(ses_run(&s), EK3_OK);
    static ses_mod_snap mod[4];
    ses_snap sn = {.mod = mod};
    ses_snapshot(&s, &sn);
    const double *last = ses_rec_row(&s, ses_rec_rows(&s) - 1);
    cr_assert_eq(last[ses_probe_find(&s, "t")], sn.t_ns * 1e-9, "the last row is the end (quantum 100)");
    cr_assert_eq(last[c], sn.mod[2].vo);
    cr_assert_eq(last[ses_probe_find(&s, "iout.4")], sn.mod[3].io);
    cr_assert_eq(last[ses_probe_find(&s, "vbus")], sn.vbus);
    ses_free(&s);
}

Test(session, the_snapshot_is_the_latest_published)
{
    ses_opts o;
    setup(&o, 2, 1000);
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    static ses_mod_snap mod[2];
    ses_snap sn = {.mod = mod};
    cr_assert_eq(ses_snapshot(&s, &sn), 0u, "none yet");
    for (int k = 0; k < 25; k++)
        cr_assert_eq(ses_step(&s), EK3_OK);
    /* published after quanta 9 and 19 (at 1 and 2 ms), not yet at 2.5 ms */
    cr_assert_eq(ses_snapshot(&s, &sn), 2u);
    cr_assert_eq(sn.t_ns, 20 * RIG_PERIOD_NS, "%lld", (long long)sn.t_ns);
    cr_assert_eq(sn.quanta, 20);
    cr_assert_eq(sn.mod[1].io, s.g.plant.mod[1].io);
    ses_free(&s);
}

/* An observer thread reads snapshots while the session runs: each is
 * whole (its time and its quantum count agree) and time never goes back. */
static atomic_int reader_done;
static void *reader(void *arg)
{
    (void)arg;
    static ses_mod_snap mod[3];
    ses_snap sn = {.mod = mod};
    int64_t last = -1;
    long bad = 0, seen = 0;
    while (!atomic_load(&reader_done)) {
        if (!ses_snapshot(&s, &sn))
            continue;
        seen++;
        bad += sn.t_ns != sn.quanta * RIG_PERIOD_NS || sn.t_ns < last || sn.n != 3;
        last = sn.t_ns;
    }
    return (void *)(intptr_t)(bad ? -1 : seen);
}

Test(session, an_observer_reads_whole_snapshots)
{
    ses_opts o;
    setup(&o, 3, 3000);
    o.every = 1;
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    pthread_t th;
    atomic_store(&reader_done, 0);
    cr_assert_eq(pthread_create(&th, NULL, reader, NULL), 0);
    cr_assert_eq(ses_run(&s), EK3_OK);
    atomic_store(&reader_done, 1);
    void *r;
    pthread_join(th, &r);
    cr_assert_geq((intptr_t)r, 0, "a torn or stale snapshot");
    ses_free(&s);
}

static int stop_after(void *ctx)
{
    long *n = ctx;
    return ++*n > 5 ? SIGINT : 0;
}

Test(session, a_stop_ends_the_run_on_a_quantum)
{
    ses_opts o;
    setup(&o, 2, 100);
    long polls = 0;
    o.stop = stop_after, o.stop_ctx = &polls;
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    cr_assert_eq(ses_run(&s), EK3_EBUSY);
    cr_assert_eq(s.q, 5);
    cr_assert_eq(s.stop_sig, SIGINT);
    cr_assert_eq(s.g.t_ns, 5 * RIG_PERIOD_NS);
    cr_assert_eq(ses_step(&s), EK3_EBUSY, "stopped stays stopped");
    /* the record: the rack at 0 s, then where it stopped (0.5 ms, between two rows) */
    int t = ses_probe_find(&s, "t");
    cr_assert_eq(ses_rec_rows(&s), 2);
    cr_assert_eq(ses_rec_row(&s, 0)[t], 0.0);
    cr_assert(fabs(ses_rec_row(&s, 1)[t] - 0.0005) < 1e-12, "the stop's row at %.6f s", ses_rec_row(&s, 1)[t]);
    ses_free(&s);
}

Test(session, the_record_runs_from_0_s_to_the_end_on_a_1_ms_grid)
{
    ses_opts o;
    setup(&o, 2, 105); /* 10.5 ms: the end is off the grid */
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    cr_assert_eq(ses_run(&s), EK3_OK);
    int t = ses_probe_find(&s, "t"), v = ses_probe_find(&s, "vbus");
    cr_assert_eq(ses_rec_rows(&s), 12, "0, 1, ..., 10 ms and the end");
    for (long i = 0; i < 11; i++)
        cr_assert(fabs(ses_rec_row(&s, i)[t] - i * 1e-3) < 1e-12, "row %ld at %.6f s", i, ses_rec_row(&s, i)[t]);
    cr_assert_eq(ses_rec_row(&s, 11)[t], s.g.t_ns * 1e-9);
    cr_assert(fabs(ses_rec_row(&s, 11)[t] - 0.0105) < 1e-12);
    cr_assert_eq(ses_rec_row(&s, 11)[v], s.g.plant.vbus, "the end's row is the rack at the end");
    cr_assert_eq(ses_rec_row(&s, 0)[v], 0.0, "the bus at 0 s is not up");
    ses_free(&s);
}

Test(session, a_failed_output_stops_the_run)
{
    ses_opts o;
    setup(&o, 1, 1000);
    FILE *full = fopen("/dev/full", "w");
    cr_assert_not_null(full);
    o.r.log = full;
    o.outs[0] = (ses_out){full, "/dev/full"};
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    cr_assert_eq(ses_run(&s), EK3_EBUSY);
    cr_assert_eq(s.stop_out, 0);
    cr_assert_str_eq(s.stop_why, "/dev/full: write error: No space left on device");
    cr_assert_lt(s.q, 1000);
    cr_assert_eq(s.q % 100, 0, "outputs are checked every 100 quanta");
    ses_free(&s);
    fclose(full);
}

Test(session, the_station_starts_the_rack)
{
    ses_opts o;
    setup(&o, 3, 10000);
    o.r.via_station = 1;
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    ses_event e = {.kind = SES_EV_START, .at_s = SES_STATION_START_NS * 1e-9, .by_s = 0.2};
    cr_assert_eq(ses_add_event(&s, &e), EK3_OK);
    cr_assert_eq(ses_run(&s), EK3_OK);
    cr_assert(s.started);
    cr_assert_geq(s.start_ns, SES_STATION_START_NS);
    cr_assert_lt(s.start_ns, 100000000, "at %lld ns: every module was heard well before the deadline (0.2 s)",
                 (long long)s.start_ns);
    static ses_mod_snap mod[3];
    ses_snap sn = {.mod = mod};
    ses_snapshot(&s, &sn);
    cr_assert_geq(sn.stn.sent, 3u);
    for (unsigned k = 0; k < 3; k++)
        cr_assert_eq(sn.mod[k].state, SES_M_RUN, "module %u: %s", k + 1, ses_mstate_name(sn.mod[k].state));
    ses_free(&s);
}

Test(session, same_events_same_record_bit_for_bit)
{
    static ses a, b;
    ses_opts o;
    setup_pair(&a, &b, &o, 3, 2000, 2);
    ses_event e = {.kind = SES_EV_PULL, .at_s = 0.1, .slot = 3};
    add_both(&a, &b, &e);
    cr_assert_eq(ses_run(&a), EK3_OK);
    cr_assert_eq(ses_run(&b), EK3_OK);
    same_rows(&a, &b);
    ses_free(&a);
    ses_free(&b);
}

/* rig.peek (ses_peek): each thread reads its own modules into the next
 * snapshot in the phase that updated them. At every publish the
 * snapshot and the record's row are those the caller reads after the
 * quantum (rig.peek NULL), through the start, a load, a pull and the
 * swarm's election, on three threads against one. */
#define SNAP_SAME(f) cr_assert(x[k].f == y[k].f, "quantum %ld, slot %u: " #f " differs", q, k + 1)
Test(session, the_threads_read_the_snapshot_the_caller_would)
{
    static ses a, b;
    static ses_mod_snap ma[12], mb[12];
    ses_opts o;
    setup_pair(&a, &b, &o, 12, 8000, 3);
    cr_assert(a.g.peek != NULL, "the session reads its snapshot through rig.peek");
    b.g.peek = NULL; /* the caller reads every module after the quantum */
    ses_event load = {.kind = SES_EV_LOAD, .at_s = 0.1, .load = o.r.load}, pull = {.kind = SES_EV_PULL, .at_s = 0.5, .slot = 4};
    add_both(&a, &b, &load);
    add_both(&a, &b, &pull);
    unsigned published = 0, running = 0;
    for (long q = 0; q < o.quanta; q++) {
        cr_assert_eq(ses_step(&a), EK3_OK);
        cr_assert_eq(ses_step(&b), EK3_OK);
        ses_snap sa = {.mod = ma}, sb = {.mod = mb};
        uint32_t qa = ses_snapshot(&a, &sa), qb = ses_snapshot(&b, &sb);
        cr_assert_eq(qa, qb);
        if (q % a.o.every != 0)
            continue;
        published++;
        cr_assert_eq(sa.t_ns, sb.t_ns);
        const ses_mod_snap *x = ma, *y = mb;
        for (unsigned k = 0; k < 12; k++) {
            SNAP_SAME(present);
            SNAP_SAME(external);
            SNAP_SAME(lost);
            SNAP_SAME(state);
            SNAP_SAME(running);
            SNAP_SAME(io);
            SNAP_SAME(vo);
            SNAP_SAME(pin);
            SNAP_SAME(tja);
            SNAP_SAME(tjb);
            SNAP_SAME(fsw_hz);
            SNAP_SAME(resets);
            SNAP_SAME(pulled_ns);
            SNAP_SAME(fault.ns);
            SNAP_SAME(cause.ns);
            SNAP_SAME(alerts);
            SNAP_SAME(trim);
            SNAP_SAME(parked);
            SNAP_SAME(role);
            running += x[k].running;
        }
    }
    cr_assert_eq(published, 800u);
    cr_assert_gt(running, 12u * 300u, "the modules regulated (%u module-snapshots running)", running);
    cr_assert_eq(ma[3].present, 0, "slot 4 pulled");
    same_rows(&a, &b);
    ses_free(&a);
    ses_free(&b);
}

/* rig.run_ahead (ses_opts.run_ahead, as `ek3 rack` runs): the workers
 * run on from a quantum's plant update into the next quantum's firmware
 * period wherever nothing between them reads or changes a module. The
 * same run bit for bit as one thread through a start, a load, a pull, an
 * injected trip, the swarm's election, its commits and a failover (the
 * leader's SWARM_COORD crashed): every snapshot and record row (taken on
 * quanta that run ahead too: from what each thread read of its modules
 * before it ran on, rig.peek), and at the end every module's plant
 * current and voltage and its firmware's control state, the station's
 * and the bus's counts and the swarm's checks (which read the commits
 * the threads copied: swo_read). Whether the workers wait for the
 * caller's CAN part before they run on (rig_can) no run shows reliably:
 * ThreadSanitizer does (ci/tsan-rack). */
Test(session, workers_running_ahead_give_the_same_run, .timeout = 120)
{
    static ses a, b;
    static ses_mod_snap ma[12], mb[12];
    ses_opts o;
    setup(&o, 12, 25000);
    o.probe_modules = 1;
    o.r.via_station = 1; /* as `ek3 rack` runs: the station starts the modules and splits the load */
    o.r.threads = 2;
    cr_assert_eq(ses_init(&a, &o), EK3_OK);
    o.r.threads = 1;
    cr_assert_eq(ses_init(&b, &o), EK3_OK);
    cr_assert_not_null(a.g.pool, "two threads");
    a.o.run_ahead = 1;
    ses_event start = {.kind = SES_EV_START, .at_s = SES_STATION_START_NS * 1e-9, .by_s = 0.2};
    add_both(&a, &b, &start);
    /* off the snapshots' quanta (every 1 ms), where an event is read at once */
    ses_event load = {.kind = SES_EV_LOAD, .at_s = 0.1003, .load = o.r.load},
              pull = {.kind = SES_EV_PULL, .at_s = 0.4507, .slot = 10}; /* a worker's module */
    add_both(&a, &b, &load);
    add_both(&a, &b, &pull);
    ses_event trip = {.kind = SES_EV_FAULT};
    cr_assert_eq(flt_parse("trip-ocp:9@0.3004s:step=10A", &trip.fault, NULL, 0), EK3_OK);
    trip.at_s = trip.fault.t;
    add_both(&a, &b, &trip);
    ses_event crash = {.kind = SES_EV_FAULT};
    cr_assert_eq(flt_parse("svc-crash:leader.SWARM_COORD@1.5003s", &crash.fault, NULL, 0), EK3_OK);
    crash.at_s = crash.fault.t;
    add_both(&a, &b, &crash);
    for (long q = 0; q < o.quanta; q++) {
        cr_assert_eq(ses_step(&a), EK3_OK);
        cr_assert_eq(ses_step(&b), EK3_OK);
        if (q % a.o.every != 0)
            continue;
        ses_snap sa = {.mod = ma}, sb = {.mod = mb};
        cr_assert_eq(ses_snapshot(&a, &sa), ses_snapshot(&b, &sb));
        const ses_mod_snap *x = ma, *y = mb;
        for (unsigned k = 0; k < 12; k++) {
            SNAP_SAME(state);
            SNAP_SAME(running);
            SNAP_SAME(io);
            SNAP_SAME(vo);
            SNAP_SAME(fsw_hz);
            SNAP_SAME(trim);
            SNAP_SAME(parked);
            SNAP_SAME(role);
        }
    }
    ses_finish(&a);
    ses_finish(&b);
    /* every quantum but the last, those with an event due after them and those before an output check */
    cr_assert_gt(a.g.ahead_quanta, 25000u * 95 / 100, "ran ahead on %llu of 25000 quanta",
                 (unsigned long long)a.g.ahead_quanta);
    cr_assert_eq(b.g.ahead_quanta, 0u);
    same_rows(&a, &b);
    for (unsigned k = 0; k < 12; k++) {
        cr_assert_eq(memcmp(&a.g.plant.mod[k].io, &b.g.plant.mod[k].io, sizeof(double)), 0, "slot %u", k + 1);
        cr_assert_eq(memcmp(&a.g.plant.mod[k].vo, &b.g.plant.mod[k].vo, sizeof(double)), 0, "slot %u", k + 1);
        cr_assert_eq(memcmp(&a.g.m[k].fw.drv.ctl, &b.g.m[k].fw.drv.ctl, sizeof a.g.m[k].fw.drv.ctl), 0, "slot %u",
                     k + 1);
    }
    cr_assert_eq(ses_mod_state(&a.g, 8), SES_M_FAULT, "the trip took");
    cr_assert_eq(a.g.stn.st.sent, b.g.stn.st.sent);
    cr_assert_eq(a.g.stn.st.acked, b.g.stn.st.acked);
    cr_assert_eq(a.g.bus.frames, b.g.bus.frames);
    cr_assert_eq(a.g.hil_frames, b.g.hil_frames);
    const swo *x = &a.g.obs, *y = &b.g.obs;
    cr_assert(y->leaders >= 2 && y->failovers == 1 && y->max_commit > 0, "the swarm elected (%u), committed (%u) and "
              "failed over (%u)", y->leaders, y->max_commit, y->failovers);
    cr_assert(x->term == y->term && x->leader == y->leader && x->leaders == y->leaders && x->max_commit == y->max_commit &&
                  x->failovers == y->failovers && x->v_safety == y->v_safety && x->v_matching == y->v_matching &&
                  x->v_lost == y->v_lost && x->v_matching == 0,
              "the swarm's checks agree");
    cr_assert_eq(memcmp(x->c_index, y->c_index, sizeof x->c_index), 0);
    cr_assert_eq(memcmp(x->c_digest, y->c_digest, sizeof x->c_digest), 0);
    cr_assert_eq(memcmp(&x->failover_s[0], &y->failover_s[0], sizeof x->failover_s[0]), 0);
    ses_free(&a);
    ses_free(&b);
}

Test(session, an_inserted_module_is_back_in_its_slot)
{
    ses_opts o;
    setup(&o, 3, 400);
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    ses_event p = {.kind = SES_EV_PULL, .at_s = 0.01, .slot = 3}, i = {.kind = SES_EV_INSERT, .at_s = 0.02, .slot = 3};
    cr_assert_eq(ses_add_event(&s, &i), EK3_OK);
    cr_assert_eq(ses_add_event(&s, &p), EK3_OK);
    cr_assert_eq(ses_run_to(&s, 15000000), EK3_OK);
    cr_assert(!s.g.plant.mod[2].present);
    cr_assert_eq(ses_run(&s), EK3_OK);
    cr_assert(s.g.plant.mod[2].present);
    static ses_mod_snap mod[3];
    ses_snap sn = {.mod = mod};
    ses_snapshot(&s, &sn);
    cr_assert_eq(sn.mod[2].pulled_ns, -1, "back in its slot: no pull to report");
    cr_assert_neq(sn.mod[2].state, SES_M_PULLED);
    ses_free(&s);
}

/* --realtime counts a quantum late when the next one starts more than the
 * tolerance past its time (ses_rt_tol_ns: the default, none, or given),
 * overruns included: late_n is that count of the lateness it records.
 * Sleeping to each deadline (rt_spin_ns < 0), clock_nanosleep never wakes
 * early, so with no tolerance nearly every quantum counts. */
Test(session, realtime_counts_the_quanta_late_past_its_tolerance)
{
    const int64_t tol[3] = {0, -1, 40000};
    for (int k = 0; k < 3; k++) {
        ses_opts o;
        setup(&o, 2, 300);
        o.realtime = 1;
        o.rt_spin_ns = -1;
        o.rt_tol_ns = tol[k];
        cr_assert_eq(ses_init(&s, &o), EK3_OK);
        cr_assert_eq(ses_run(&s), EK3_OK);
        int64_t t = ses_rt_tol_ns(&o);
        cr_assert_eq(t, k == 0 ? SES_RT_TOL_NS : k == 1 ? 0 : 40000);
        long n = 0;
        for (long q = 0; q < o.quanta; q++)
            n += s.late[q] > t;
        cr_assert_eq(s.late_n, n, "tolerance %lld ns: %ld counted, %ld in the record", (long long)t, s.late_n, n);
        if (k == 1)
            cr_assert_gt(n, o.quanta / 2, "sleeping, %ld of %ld quanta late at all", n, o.quanta);
        ses_free(&s);
    }
}
