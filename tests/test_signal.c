/* test_signal.c - the rig's signals by path (scenarios/sig.h): each
 * family reads what the rig keeps for that path (the bus from the plant
 * and the snapshot, a module's figures from its own slot, the station's
 * counters, a bus node's error counters after a corrupt fault, a
 * service's restarts after a crash); a wrong path is refused with the
 * closest valid ones or the range; the listing names every row. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "can_handler.h"
#include "ek3_err.h"
#include "fault.h"
#include "services.h"
#include "session.h"
#include "sig.h"

static ses s;

/* n modules, the station starts them at 20 ms, a resistor drawing
 * 2 kW per module at 750 V from 0.1 s on. */
static void start(unsigned n, long quanta)
{
    ses_opts o;
    memset(&o, 0, sizeof o);
    rig_default_opts(&o.r, n, 7, 2000.0 * n);
    o.r.threads = 1;
    o.r.via_station = 1;
    o.quanta = quanta;
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    ses_event e = {.kind = SES_EV_START, .at_s = SES_STATION_START_NS * 1e-9, .by_s = 0.2};
    cr_assert_eq(ses_add_event(&s, &e), EK3_OK);
    ses_event l = {.kind = SES_EV_LOAD, .at_s = 0.1, .load = o.r.load};
    cr_assert_eq(ses_add_event(&s, &l), EK3_OK);
}

/* Read a path that must resolve. */
static double get(const char *path)
{
    sig_ref r;
    char err[300];
    int rc = sig_resolve(&s, path, &r, err, sizeof err);
    cr_assert_eq(rc, EK3_OK, "%s: %s", path, err);
    return sig_read(&s, &r);
}

static const char *name_of(const char *path)
{
    sig_ref r;
    cr_assert_eq(sig_resolve(&s, path, &r, NULL, 0), EK3_OK, "%s", path);
    return sig_enum_name(&r, sig_read(&s, &r));
}

Test(signal, the_rack_reads_the_plant_and_the_snapshot)
{
    start(4, 5001); /* the record's last row is the end: quantum 5000 */
    cr_assert_eq(ses_run(&s), EK3_OK);
    static ses_mod_snap mod[4];
    ses_snap sn = {.mod = mod};
    cr_assert_gt(ses_snapshot(&s, &sn), 0u);
    cr_assert(fabs(get("bus.v") - 750) < 40, "bus.v %.1f V after start-up", get("bus.v"));
    cr_assert_eq(get("bus.v"), sn.vbus);
    cr_assert_eq(get("bus.i"), sn.i_load);
    cr_assert_eq(get("bus.p"), sn.p_load);
    cr_assert_gt(sn.i_load, 5.0, "the load is on: %.2f A", sn.i_load);
    cr_assert_eq(get("t"), sn.t_ns * 1e-9);
    cr_assert_eq(get("rack.online"), 4.0);
    cr_assert_eq(get("rack.online"), sn.online);
    cr_assert_eq(get("rack.running"), 4.0);
    cr_assert_eq(get("rack.present"), 4.0);
    cr_assert_eq(get("rack.started"), 1.0);
    cr_assert_eq(get("rack.collapsed"), 0.0);
    cr_assert_eq(get("load.ohm"), s.g.plant.load.r);
    /* Sharing, from the plant's own currents. */
    double lo = 1e9, hi = 0, sum = 0, tj = -1e9;
    for (unsigned k = 0; k < 4; k++) {
        const pmod *pm = &s.g.plant.mod[k];
        lo = fmin(lo, pm->io), hi = fmax(hi, pm->io), sum += pm->io;
        tj = fmax(tj, fmax(pm->th.t[TH_JA], pm->th.t[TH_JB]));
    }
    cr_assert_neq(lo, hi, "tolerances give each module its own current");
    cr_assert_eq(get("rack.i_min"), lo);
    cr_assert_eq(get("rack.i_max"), hi);
    cr_assert(fabs(get("rack.i_mean") - sum / 4) < 1e-12);
    cr_assert(fabs(get("rack.i_spread") - (hi - lo) / (sum / 4)) < 1e-12);
    cr_assert_eq(get("rack.tj_max"), tj);
    /* The record's columns are the same figures. */
    const double *last = ses_rec_row(&s, ses_rec_rows(&s) - 1);
    cr_assert_eq(last[ses_probe_find(&s, "i_min")], lo);
    cr_assert_eq(last[ses_probe_find(&s, "tj_max")], tj);
    cr_assert_eq(get("canbus.frames"), (double)sn.bus_frames);
    cr_assert_geq(get("canbus.frames"), 8.0, "a POWER_CMD and its POWER_ACK per module at least");
    cr_assert_eq(get("canbus.load"), sn.bus_load);
    ses_free(&s);
}

Test(signal, each_module_reads_its_own_slot)
{
    start(4, 5000);
    cr_assert_eq(ses_run(&s), EK3_OK);
    static ses_mod_snap mod[4];
    ses_snap sn = {.mod = mod};
    cr_assert_gt(ses_snapshot(&s, &sn), 0u);
    for (unsigned k = 1; k <= 4; k++) {
        char p[64];
        const pmod *pm = &s.g.plant.mod[k - 1];
#define M(field) (snprintf(p, sizeof p, "module[%u]." field, k), get(p))
        cr_assert_eq(M("iout"), pm->io, "module %u", k);
        cr_assert_eq(M("iout"), sn.mod[k - 1].io);
        cr_assert_eq(M("vout"), sn.mod[k - 1].vo);
        cr_assert_eq(M("pin"), sn.mod[k - 1].pin);
        cr_assert_eq(M("tj_a"), sn.mod[k - 1].tja);
        cr_assert_eq(M("tj_b"), sn.mod[k - 1].tjb);
        cr_assert_eq(M("t_case"), fmax(pmod_t_case(pm, 0), pmod_t_case(pm, 1)));
        cr_assert_eq(M("t_hs"), pm->th.t[TH_HS]);
        cr_assert_eq(M("t_amb"), s.o.r.plant.th.t_amb, "the rig's ambient");
        cr_assert_eq(M("fsw"), pm->cmd.fsw);
        cr_assert_gt(M("fsw"), 50e3);
        cr_assert_eq(M("state"), (double)SES_M_RUN);
        cr_assert_eq(M("state"), (double)sn.mod[k - 1].state);
        cr_assert_eq(M("running"), 1.0);
        cr_assert_eq(M("present"), 1.0);
        cr_assert_eq(M("lost"), 0.0);
        cr_assert_eq(M("resets"), 0.0);
        cr_assert_eq(M("hw_trip"), 0.0);
        snprintf(p, sizeof p, "module[%u].fault_code", k);
        cr_assert_str_eq(name_of(p), "NONE", "%s", p);
#undef M
    }
    cr_assert_neq(get("module[1].iout"), get("module[2].iout"), "the slots differ, so a wrong index would show");
    cr_assert_str_eq(name_of("module[3].state"), "RUN");
    cr_assert_str_eq(name_of("module[3].fault_code"), "NONE");
    ses_free(&s);
}

Test(signal, a_pulled_module_reads_pulled)
{
    start(3, 5000);
    ses_event e = {.kind = SES_EV_PULL, .at_s = 0.2, .slot = 2};
    cr_assert_eq(ses_add_event(&s, &e), EK3_OK);
    cr_assert_eq(ses_run(&s), EK3_OK);
    cr_assert_eq(get("module[2].present"), 0.0);
    cr_assert_eq(get("module[2].iout"), 0.0);
    cr_assert_str_eq(name_of("module[2].state"), "PULLED");
    cr_assert_str_eq(name_of("module[1].state"), "RUN");
    cr_assert_eq(get("rack.present"), 2.0);
    cr_assert_eq(get("rack.running"), 2.0);
    cr_assert_eq(get("module[2].running"), 0.0, "out of its slot it regulates nothing");
    ses_free(&s);
}

Test(signal, station_counters_are_stn_stats)
{
    start(2, 10);
    /* Each counter its own value, so a crossed mapping shows. */
    stn_stats *st = &s.g.stn.st;
    *st = (stn_stats){.sent = 11, .retries = 12, .acked = 13, .clamped = 14, .refused = 15, .gave_up = 16,
                      .api_ok = 17, .api_bad_key = 18, .api_rate = 19, .api_range = 20, .api_unknown = 21,
                      .faults = 22};
    cr_assert_eq(get("station.sent"), 11.0);
    cr_assert_eq(get("station.retries"), 12.0);
    cr_assert_eq(get("station.acked"), 13.0);
    cr_assert_eq(get("station.clamped"), 14.0);
    cr_assert_eq(get("station.refused"), 15.0);
    cr_assert_eq(get("station.gave_up"), 16.0);
    cr_assert_eq(get("station.api_ok"), 17.0);
    cr_assert_eq(get("station.api_bad_key"), 18.0);
    cr_assert_eq(get("station.api_rate"), 19.0);
    cr_assert_eq(get("station.api_range"), 20.0);
    cr_assert_eq(get("station.api_unknown"), 21.0);
    cr_assert_eq(get("station.faults"), 22.0);
    ses_free(&s);
}

Test(signal, station_counters_after_a_start)
{
    start(3, 3000);
    cr_assert_eq(ses_run(&s), EK3_OK);
    cr_assert_eq(get("station.sent"), (double)s.g.stn.st.sent);
    cr_assert_geq(get("station.sent"), 3.0);
    cr_assert_eq(get("station.acked"), (double)s.g.stn.st.acked);
    cr_assert_geq(get("station.acked"), 3.0);
    cr_assert_eq(get("station.api_ok"), 1.0, "the rack start");
    ses_free(&s);
}

/* The station's view of each module: heard when, online, its health
 * byte (module[K].online, .heard, .health). */
Test(signal, the_station_hears_each_module)
{
    start(3, 60000);
    cr_assert_eq(get("module[2].heard"), -1.0, "nothing heard before the first quantum");
    cr_assert_eq(get("module[2].online"), 0.0);
    flt_spec f;
    cr_assert_eq(flt_spec_init(&f, (unsigned)flt_find("bus-cut"), 2, 0), EK3_OK);
    cr_assert_eq(ses_run_to(&s, 100000000), EK3_OK);
    for (unsigned k = 0; k < 3; k++) {
        char path[40];
        snprintf(path, sizeof path, "module[%u].heard", k + 1);
        cr_assert_eq(get(path), s.g.stn.m[k].hb_ns * 1e-9, "%s", path);
        cr_assert_geq(get(path), 0.0, "%s: heard by 0.1 s", path);
        snprintf(path, sizeof path, "module[%u].online", k + 1);
        cr_assert_eq(get(path), 1.0, "%s", path);
        snprintf(path, sizeof path, "module[%u].health", k + 1);
        cr_assert_eq(get(path), (double)s.g.stn.m[k].hb.health, "%s", path);
    }
    s.g.stn.m[1].hb.health = 6;
    cr_assert_eq(get("module[2].health"), 6.0, "the byte as the station holds it");
    /* cut off: the station stops hearing it, offline 3 s after its last heartbeat */
    double last = get("module[2].heard");
    cr_assert_eq(flt_inject(&s.g, &f), EK3_OK);
    cr_assert_eq(ses_run_to(&s, (int64_t)(last * 1e9) + STN_ONLINE_NS + 100000000), EK3_OK);
    cr_assert_eq(get("module[2].heard"), last, "nothing heard since the cut");
    cr_assert_eq(get("module[2].online"), 0.0, "offline past 3 s");
    cr_assert_eq(get("module[1].online"), 1.0);
    cr_assert_gt(get("module[1].heard"), last);
    ses_free(&s);
}

Test(signal, a_corrupt_fault_raises_the_nodes_tec)
{
    start(3, 100000);
    cr_assert_eq(ses_run_to(&s, 30000000), EK3_OK);
    cr_assert_eq(get("canbus.node[2].tec"), 0.0);
    cr_assert_eq(get("canbus.errors"), 0.0);
    flt_spec f;
    cr_assert_eq(flt_spec_init(&f, (unsigned)flt_find("bus-corrupt"), 2, 0), EK3_OK);
    f.p[0] = 20;
    uint64_t ok0 = s.g.bus.node[2].tx_ok;
    cr_assert_eq(flt_inject(&s.g, &f), EK3_OK);
    cr_assert_eq(ses_run_to(&s, 1200000000), EK3_OK); /* 20 tries of its next frame fail */
    cr_assert_eq(get("canbus.node[2].tec"), (double)s.g.bus.node[2].tec);
    double ok = (double)(s.g.bus.node[2].tx_ok - ok0);
    cr_assert(ok >= 1 && ok < 32, "%g frames got through", ok);
    cr_assert_eq(get("canbus.node[2].tec"), 20 * 8 - ok, "TEC + 8 for each of 20, - 1 for each frame that got through");
    cr_assert_str_eq(name_of("canbus.node[2].state"), "error-passive");
    cr_assert_eq(get("canbus.node[1].tec"), 0.0);
    cr_assert_str_eq(name_of("canbus.node[1].state"), "error-active");
    cr_assert_eq(get("canbus.node[0].rec"), (double)s.g.bus.node[0].rec);
    cr_assert_geq(s.g.bus.error_frames, 20u, "the bus carried the error frames (the station's REC is back down: the swarm's frames since)");
    cr_assert_eq(get("canbus.errors"), (double)s.g.bus.error_frames);
    cr_assert_geq(get("canbus.errors"), 20.0);
    ses_free(&s);
}

/* While its MCU is held in reset at power-on (fwi_hold), a module's
 * services read RESET, not the status its kernel held before the reset;
 * they read RUNNING from the period it boots. */
Test(signal, a_service_of_an_mcu_held_in_reset_reads_reset)
{
    start(8, 10000);
    unsigned held = 0;
    for (unsigned k = 0; k < 8 && !held; k++)
        if (s.g.m[k].fw.hold_ns > RIG_PERIOD_NS)
            held = k + 1;
    cr_assert(held, "seed 7 holds one of 8 MCUs past the first period");
    char path[64];
    snprintf(path, sizeof path, "module[%u].svc.THERMAL_MGR.state", held);
    int64_t until = s.g.m[held - 1].fw.hold_ns;
    char role[64]; /* no Raft role while its kernel does not run ("?") */
    snprintf(role, sizeof role, "module[%u].swarm.role", held);
    cr_assert_str_eq(name_of(path), "RESET", "held until %.1f ms", until * 1e-6);
    cr_assert(isnan(get(role)), "held: role %g", get(role));
    cr_assert_eq(ses_run_to(&s, until - RIG_PERIOD_NS), EK3_OK);
    cr_assert_str_eq(name_of(path), "RESET", "still held a period before its time");
    cr_assert(isnan(get(role)), "still held: role %g", get(role));
    cr_assert_eq(ses_run_to(&s, until + 2 * RIG_PERIOD_NS), EK3_OK);
    cr_assert_str_eq(name_of(path), "RUNNING", "booted at %.1f ms", until * 1e-6);
    cr_assert_str_eq(name_of(role), "FOLLOWER", "booted: a follower until it elects");
    ses_free(&s);
}

Test(signal, a_service_crash_counts_its_restart)
{
    start(3, 10000);
    cr_assert_eq(ses_run_to(&s, 30000000), EK3_OK);
    cr_assert_str_eq(name_of("module[2].svc.THERMAL_MGR.state"), "RUNNING");
    cr_assert_eq(get("module[2].svc.THERMAL_MGR.restarts"), 0.0);
    flt_spec f;
    cr_assert_eq(flt_spec_init(&f, (unsigned)flt_find("svc-crash"), 2, SVC_THERMAL), EK3_OK);
    cr_assert_eq(flt_inject(&s.g, &f), EK3_OK);
    cr_assert_str_eq(name_of("module[2].svc.THERMAL_MGR.state"), "CRASHED");
    cr_assert_eq(get("module[2].svc.THERMAL_MGR.crashes"), 1.0);
    cr_assert_eq(get("module[2].svc.THERMAL_MGR.restart_s"), 0.0, "not restarted yet");
    cr_assert_eq(get("module[2].svc.THERMAL_MGR.restarts"), 0.0, "not restarted yet");
    cr_assert_eq(ses_run_to(&s, 40000000), EK3_OK);
    cr_assert_eq(get("module[2].svc.THERMAL_MGR.restarts"), 1.0);
    cr_assert_eq(get("module[2].svc.THERMAL_MGR.restarts"), (double)s.g.m[1].fw.k.svc[SVC_THERMAL].restarts);
    cr_assert_str_eq(name_of("module[2].svc.THERMAL_MGR.state"), "RUNNING");
    const jz_svc *sv = &s.g.m[1].fw.k.svc[SVC_THERMAL];
    cr_assert_eq(get("module[2].svc.THERMAL_MGR.restart_s"), (sv->started_ns - sv->crashed_ns) * 1e-9);
    cr_assert(get("module[2].svc.THERMAL_MGR.restart_s") > 0 && get("module[2].svc.THERMAL_MGR.restart_s") < 0.05,
              "restarted at the kernel's next pass: %g s", get("module[2].svc.THERMAL_MGR.restart_s"));
    cr_assert_eq(get("module[1].svc.THERMAL_MGR.restarts"), 0.0, "another slot");
    cr_assert_eq(get("module[2].svc.CAN_HANDLER.restarts"), 0.0, "another service");
    cr_assert_eq(get("module[2].svc.CAN_HANDLER.crashes"), 0.0);
    ses_free(&s);
}

Test(signal, an_overrun_and_a_reboot_are_counted)
{
    start(3, 10000);
    cr_assert_eq(ses_run_to(&s, 30000000), EK3_OK);
    flt_spec f;
    cr_assert_eq(flt_spec_init(&f, (unsigned)flt_find("isr-overrun"), 3, 0), EK3_OK);
    f.p[0] = 10, f.p[1] = 150e-6;
    cr_assert_eq(flt_inject(&s.g, &f), EK3_OK);
    cr_assert_eq(flt_spec_init(&f, (unsigned)flt_find("module-reboot"), 1, 0), EK3_OK);
    cr_assert_eq(flt_inject(&s.g, &f), EK3_OK);
    cr_assert_eq(ses_run_to(&s, 40000000), EK3_OK);
    cr_assert_eq(get("module[3].isr_missed"), (double)s.g.m[2].fw.isr_missed);
    cr_assert_gt(get("module[3].isr_missed"), 0.0, "10 runs of 150 us miss periods");
    cr_assert_eq(get("module[2].isr_missed"), 0.0);
    cr_assert_eq(get("module[1].resets"), 1.0, "the reboot");
    cr_assert_eq(get("module[2].resets"), 0.0);
    ses_free(&s);
}

Test(signal, can_handler_counters_are_its_own)
{
    start(3, 10);
    cr_assert_eq(ses_step(&s), EK3_OK);
    canh_state *c = jz_state(&s.g.m[1].fw.k, SVC_CAN);
    cr_assert_not_null(c);
    c->st = (canh_stats){.cmds = 31, .accepted = 32, .clamped = 33, .refused = 34, .forged = 35, .replayed = 36,
                         .stale = 37, .unauthenticated = 38};
    cr_assert_eq(get("module[2].can.cmds"), 31.0);
    cr_assert_eq(get("module[2].can.accepted"), 32.0);
    cr_assert_eq(get("module[2].can.clamped"), 33.0);
    cr_assert_eq(get("module[2].can.refused"), 34.0);
    cr_assert_eq(get("module[2].can.forged"), 35.0);
    cr_assert_eq(get("module[2].can.replayed"), 36.0);
    cr_assert_eq(get("module[2].can.stale"), 37.0);
    cr_assert_eq(get("module[2].can.unauthenticated"), 38.0);
    cr_assert_eq(get("module[3].can.forged"), 0.0, "another module's");
    ses_free(&s);
}

Test(signal, an_external_modules_kernel_is_not_read)
{
    ses_opts o;
    memset(&o, 0, sizeof o);
    rig_default_opts(&o.r, 3, 7, 6000);
    static const uint8_t ext[3] = {0, 1, 0};
    o.r.external = ext;
    snprintf(o.r.fw_bus, sizeof o.r.fw_bus, "udp:127.0.0.1:%d", 20000 + (int)(getpid() % 20000) * 2);
    o.quanta = 10;
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    sig_ref r;
    char err[300];
    cr_assert_eq(sig_resolve(&s, "module[2].svc.THERMAL_MGR.restarts", &r, err, sizeof err), EK3_ENOENT);
    cr_assert_str_eq(err, "module[2].svc.THERMAL_MGR.restarts: module 2 runs its firmware outside the rig (external); "
                          "its kernel cannot be read");
    cr_assert_eq(sig_resolve(&s, "module[2].can.forged", &r, err, sizeof err), EK3_ENOENT);
    cr_assert_eq(sig_resolve(&s, "module[3].can.forged", &r, err, sizeof err), EK3_OK, "%s", err);
    cr_assert_str_eq(name_of("module[2].state"), "EXT-OFF");
    ses_free(&s);
}

/* The error of a path that must not resolve. */
static int refuse(const ses *x, const char *path, char *err, size_t cap)
{
    sig_ref r = {99, 99, 99};
    int rc = sig_resolve(x, path, &r, err, cap);
    cr_assert_neq(rc, EK3_OK, "%s resolved", path);
    cr_assert_eq(r.id, 99u, "%s: *out untouched", path);
    cr_assert(err[0], "%s: no reason", path);
    return rc;
}

Test(signal, a_wrong_path_names_the_closest_or_the_range)
{
    ses_opts o;
    memset(&o, 0, sizeof o);
    rig_default_opts(&o.r, 84, 7, 100e3);
    o.quanta = 10;
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    char err[400];
    cr_assert_eq(refuse(&s, "module[42].iuot", err, sizeof err), EK3_ENOENT);
    cr_assert_str_eq(err, "unknown signal 'module[42].iuot'; did you mean module[42].iout?");
    cr_assert_eq(refuse(&s, "bus.vv", err, sizeof err), EK3_ENOENT);
    cr_assert_str_eq(err, "unknown signal 'bus.vv'; did you mean bus.v?");
    cr_assert_eq(refuse(&s, "bus.x", err, sizeof err), EK3_ENOENT);
    cr_assert_str_eq(err, "unknown signal 'bus.x'; did you mean bus.v, bus.i, bus.p?", "ties, in table order");
    cr_assert_eq(refuse(&s, "module[90].iout", err, sizeof err), EK3_ERANGE);
    cr_assert_str_eq(err, "module[90]: the rack has modules 1 to 84");
    /* the list's own form, K for the number (fuzz_signal: it read node 0) */
    cr_assert_eq(refuse(&s, "canbus.node[K].state", err, sizeof err), EK3_ENOENT);
    cr_assert(strstr(err, "K stands for a number"), "%s", err);
    cr_assert_eq(refuse(NULL, "module[K].iout", err, sizeof err), EK3_ENOENT);
    cr_assert_eq(refuse(&s, "module[0].state", err, sizeof err), EK3_ERANGE);
    cr_assert_str_eq(err, "module[0]: the rack has modules 1 to 84");
    cr_assert_eq(refuse(&s, "canbus.node[85].tec", err, sizeof err), EK3_ERANGE);
    cr_assert_str_eq(err, "canbus.node[85]: the bus has nodes 0 to 84 (0 is the station)");
    cr_assert_eq(refuse(&s, "module[7].svc.THERMAL_MG.restarts", err, sizeof err), EK3_ENOENT);
    cr_assert_str_eq(err, "unknown service 'THERMAL_MG' in 'module[7].svc.THERMAL_MG.restarts'; did you mean "
                          "THERMAL_MGR? the services are AUDIT_LOGGER, CAN_HANDLER, THERMAL_MGR, HEALTH_MONITOR, "
                          "DIAGNOSTICS, UPDATE_MGR, SWARM_COORD");
    cr_assert_eq(refuse(&s, "module[7].svc.THERMAL_MGR.restart", err, sizeof err), EK3_ENOENT);
    cr_assert(strstr(err, "did you mean module[7].svc.THERMAL_MGR.restarts"), "%s", err);
    cr_assert_eq(refuse(&s, "station.gaveup", err, sizeof err), EK3_ENOENT);
    cr_assert(strstr(err, "did you mean station.gave_up"), "%s", err);
    cr_assert_eq(refuse(&s, "module[3] .iout", err, sizeof err), EK3_ENOENT);
    cr_assert_str_eq(err, "signal path 'module[3] .iout': whitespace at character 10");
    cr_assert_eq(refuse(&s, "", err, sizeof err), EK3_ENOENT);
    cr_assert_eq(refuse(&s, "load.soc", err, sizeof err), EK3_ENOENT);
    cr_assert_str_eq(err, "load.soc: the rack's load is a resistor (load.ohm)");
    cr_assert_eq(refuse(&s, "module[03].iout", err, sizeof err), EK3_ENOENT, "no leading zero");
    cr_assert_str_eq(err, "unknown signal 'module[03].iout'; did you mean module[3].iout?");
    cr_assert_eq(refuse(&s, "module[99999999999999999999].iout", err, sizeof err), EK3_ERANGE);
    cr_assert_str_eq(err, "module[99999999999999999999]: the rack has modules 1 to 84", "the index as given");
    cr_assert_eq(refuse(&s, "zzzzzzzzzzzzzzzzzzzzzz", err, sizeof err), EK3_ENOENT);
    cr_assert_str_eq(err, "unknown signal 'zzzzzzzzzzzzzzzzzzzzzz' ('ek3 scenario signals' lists them)");
    /* A short buffer still gets a terminated message. */
    char tiny[8];
    cr_assert_eq(refuse(&s, "bus.vv", tiny, sizeof tiny), EK3_ENOENT);
    cr_assert_eq(strlen(tiny), 7u);
    sig_ref r;
    cr_assert_eq(sig_resolve(&s, "module[84].svc.DIAGNOSTICS.state", &r, NULL, 0), EK3_OK);
    cr_assert_eq(r.slot, 84u);
    cr_assert_eq(r.sub, (unsigned)SVC_DIAG);
    cr_assert_eq(sig_resolve(&s, "canbus.node[0].state", &r, NULL, 0), EK3_OK);
    cr_assert_eq(r.slot, 0u);
    cr_assert_eq(sig_resolve(&s, NULL, &r, err, sizeof err), EK3_EINVAL);
    ses_free(&s);
}

Test(signal, without_a_session_only_the_form_is_checked)
{
    sig_ref r;
    char err[300];
    cr_assert_eq(sig_resolve(NULL, "module[500].iout", &r, err, sizeof err), EK3_OK);
    cr_assert_eq(sig_resolve(NULL, "load.soc", &r, err, sizeof err), EK3_OK);
    cr_assert_eq(sig_resolve(NULL, "module[0].iout", &r, err, sizeof err), EK3_ERANGE);
    cr_assert_str_eq(err, "module[0]: slots are 1 to 510");
    cr_assert_eq(sig_resolve(NULL, "canbus.node[511].rec", &r, err, sizeof err), EK3_ERANGE);
    cr_assert_str_eq(err, "canbus.node[511]: bus nodes are 0 to 510 (0 is the station)");
    cr_assert_eq(sig_resolve(NULL, "bus.w", &r, err, sizeof err), EK3_ENOENT);
}

Test(signal, units_enums_and_paths)
{
    sig_ref r;
    cr_assert_eq(sig_resolve(NULL, "bus.v", &r, NULL, 0), EK3_OK);
    cr_assert_str_eq(sig_unit(&r), "V");
    cr_assert_null(sig_enum_name(&r, 750));
    cr_assert_eq(sig_resolve(NULL, "module[5].tj_b", &r, NULL, 0), EK3_OK);
    cr_assert_str_eq(sig_unit(&r), "C");
    cr_assert_eq(sig_resolve(NULL, "module[5].fsw", &r, NULL, 0), EK3_OK);
    cr_assert_str_eq(sig_unit(&r), "Hz");
    cr_assert_eq(sig_resolve(NULL, "module[5].state", &r, NULL, 0), EK3_OK);
    cr_assert_str_eq(sig_unit(&r), "");
    cr_assert_str_eq(sig_enum_name(&r, SES_M_FAULT), "FAULT");
    cr_assert_str_eq(sig_enum_name(&r, 99), "?");
    cr_assert_str_eq(sig_enum_name(&r, 1.5), "?");
    cr_assert_eq(sig_resolve(NULL, "module[5].fault_code", &r, NULL, 0), EK3_OK);
    cr_assert_str_eq(sig_enum_name(&r, 1), "OCP");
    cr_assert_str_eq(sig_enum_name(&r, 10), "SERVICE_CRASH");
    cr_assert_eq(sig_resolve(NULL, "canbus.node[3].state", &r, NULL, 0), EK3_OK);
    cr_assert_str_eq(sig_enum_name(&r, 2), "bus-off");
    char buf[64];
    cr_assert_eq(sig_resolve(NULL, "module[12].svc.HEALTH_MONITOR.crashes", &r, NULL, 0), EK3_OK);
    cr_assert_str_eq(sig_path(&r, buf, sizeof buf), "module[12].svc.HEALTH_MONITOR.crashes");
    cr_assert_null(sig_path(&r, buf, 10), "does not fit");
    sig_ref bad = {100000, 0, 0};
    cr_assert_str_eq(sig_unit(&bad), "");
    cr_assert_null(sig_path(&bad, buf, sizeof buf));
    cr_assert(isnan(sig_read(NULL, &r)));
}

Test(signal, a_battery_reads_its_state_of_charge)
{
    ses_opts o;
    memset(&o, 0, sizeof o);
    rig_default_opts(&o.r, 2, 7, 0);
    o.r.load = (rack_load){.kind = RACK_LOAD_BATTERY, .q_ah = 50, .soc = 0.37, .r_int = 0.05, .ocv_empty = 600,
                           .ocv_full = 800};
    o.quanta = 10;
    cr_assert_eq(ses_init(&s, &o), EK3_OK);
    cr_assert_eq(get("load.soc"), 0.37);
    char err[200];
    cr_assert_eq(refuse(&s, "load.p", err, sizeof err), EK3_ENOENT);
    cr_assert_str_eq(err, "load.p: the rack's load is a battery (load.soc)");
    ses_free(&s);
}

Test(signal, the_listing_names_every_row_once)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_eq(sig_print(f, 0), EK3_OK);
    fclose(f);
    /* The rows: every id sig_path knows (slot 1, service 1). */
    unsigned rows = 0;
    char buf[128];
    while (sig_path(&(sig_ref){rows, 1, 1}, buf, sizeof buf))
        rows++;
    cr_assert_geq(rows, 50u);
    unsigned *seen = calloc(rows, sizeof *seen);
    unsigned listed = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "K: ", 3) == 0 || strncmp(line, "NAME: ", 6) == 0 || strncmp(line, "module[K].can.*:", 16) == 0)
            continue;
        char pat[128], unit[16], path[160];
        cr_assert_eq(sscanf(line, "%127s %15s", pat, unit), 2, "line '%s'", line);
        /* K -> 1, NAME -> the first service. */
        char *o = path;
        for (const char *p = pat; *p;) {
            if (!strncmp(p, "[K]", 3))
                o += sprintf(o, "[1]"), p += 3;
            else if (!strncmp(p, "NAME", 4))
                o += sprintf(o, "AUDIT_LOGGER"), p += 4;
            else
                *o++ = *p++;
        }
        *o = '\0';
        sig_ref r;
        char err[300];
        cr_assert_eq(sig_resolve(NULL, path, &r, err, sizeof err), EK3_OK, "%s: %s", path, err);
        cr_assert_lt(r.id, rows);
        seen[r.id]++;
        cr_assert_str_eq(unit, sig_unit(&r)[0] ? sig_unit(&r) : "-", "%s", path);
        listed++;
    }
    for (unsigned i = 0; i < rows; i++)
        cr_assert_eq(seen[i], 1u, "row %u (%s) listed %u times", i, sig_path(&(sig_ref){i, 1, 1}, buf, sizeof buf),
                     seen[i]);
    cr_assert_eq(listed, rows);
    free(seen);
    free(text);
    /* The Markdown table: a header, then one row each. */
    f = open_memstream(&text, &len);
    cr_assert_eq(sig_print(f, 1), EK3_OK);
    fclose(f);
    cr_assert(strstr(text, "| `module[K].svc.NAME.restarts` |  | restarts"), "%s", text);
    cr_assert(strstr(text, "| `bus.v` | V | "));
    cr_assert(strstr(text, "0 OFF, 1 START, 2 RUN"), "the state's names are listed");
    free(text);
}

Test(signal, a_failed_write_is_told)
{
    FILE *f = fopen("/dev/full", "w");
    cr_assert_not_null(f);
    cr_assert_eq(sig_print(f, 0), EK3_EIO);
    fclose(f);
}

/* docs/scenarios.md holds `ek3 scenario signals --markdown` as it is
 * now (as docs/faults.md holds the fault table: test_fault.c). */
Test(signal, docs_scenarios_md_is_the_tables_output)
{
    char *gen = NULL, *doc = NULL;
    size_t ng = 0;
    FILE *f = open_memstream(&gen, &ng);
    cr_assert_not_null(f);
    cr_assert_eq(sig_print(f, 1), EK3_OK);
    fclose(f);
    FILE *d = fopen(EK3_SOURCE_DIR "/docs/scenarios.md", "r");
    cr_assert_not_null(d, "docs/scenarios.md");
    cr_assert_eq(fseek(d, 0, SEEK_END), 0);
    long nd = ftell(d);
    cr_assert_gt(nd, 0);
    rewind(d);
    doc = calloc(1, (size_t)nd + 1);
    cr_assert_not_null(doc);
    cr_assert_eq(fread(doc, 1, (size_t)nd, d), (size_t)nd);
    fclose(d);
    cr_assert_not_null(strstr(doc, gen),
                       "docs/scenarios.md holds `ek3 scenario signals --markdown` as it is now: paste it in again");
    free(gen);
    free(doc);
}

/* module[K].health is the health byte of the module's last HEARTBEAT as
 * the station heard it: a VOUT sensor frozen on one code (3000: 733 V)
 * from 0.3 s is HEALTH_MONITOR's SENSOR_STUCK after 5 s of one code, in
 * the next 1 Hz heartbeat; its neighbour stays healthy. */
Test(signal, a_stuck_sensor_shows_in_the_health_byte)
{
    start(2, 70000); /* 7 s */
    ses_event e = {.kind = SES_EV_FAULT, .at_s = 0.3};
    cr_assert_eq(flt_parse("adc-stuck:2@0.3s:ch=0,code=3000", &e.fault, NULL, 0), EK3_OK);
    cr_assert_eq(ses_add_event(&s, &e), EK3_OK);
    cr_assert_eq(get("module[2].health"), 0.0, "none heard yet");
    cr_assert_eq(ses_run(&s), EK3_OK);
    cr_assert_eq(get("module[2].health"), 1.0, "SENSOR_STUCK (%g)", get("module[2].health"));
    cr_assert_eq(get("module[1].health"), 0.0);
    ses_free(&s);
}

/* module[K].fault_cause is the trip's cause, module[K].fault_code the
 * last alert: a 90 mA ground fault latches the Level-0 comparator
 * (HW_TRIP, fatal) and SAFETY_MONITOR's GFI (fatal too) follows a period
 * later; a module with no alert reads NONE in both. */
Test(signal, fault_cause_is_the_first_alert_of_the_worst_severity)
{
    start(3, 4000); /* 0.4 s */
    ses_event e = {.kind = SES_EV_FAULT, .at_s = 0.3};
    cr_assert_eq(flt_parse("igf:3@0.3s:i=90mA", &e.fault, NULL, 0), EK3_OK);
    cr_assert_eq(ses_add_event(&s, &e), EK3_OK);
    cr_assert_eq(ses_run(&s), EK3_OK);
    cr_assert_str_eq(name_of("module[3].fault_cause"), "HW_TRIP");
    cr_assert_str_eq(name_of("module[3].fault_code"), "GFI");
    cr_assert_str_eq(name_of("module[1].fault_cause"), "NONE");
    cr_assert_eq(s.g.stn.m[2].alerts, 2u, "%u", s.g.stn.m[2].alerts);
    ses_free(&s);
}
