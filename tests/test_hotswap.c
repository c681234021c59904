/* test_hotswap.c - hot swap on an 8-module rack behind the station
 * (issue 11): the relay line of the HIL channel (the firmware closes a
 * module's output relay only once its output is pre-charged to the bus
 * it reads beyond the relay, and opens it on a trip), and the station's
 * rack demand, split again whenever the set of modules that can carry it
 * changes. Through the public API: the rig, its fault table, the station.
 *
 * Sharing band: a module that joined carries within HS_BAND of the mean
 * current of the others (droop at 5 V/A with the modules' tolerances and
 * SWARM_COORD's balancing; measured about 1-2 % off). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "can_handler.h"
#include "drivers.h"
#include "ek3_err.h"
#include "fault.h"
#include "rig.h"

#define HS_N 8
#define HS_LOAD_W 18000.0 /* 78 % of 8 modules: the swarm parks none (docs/swarm.md park_below) */
#define HS_DEMAND_W 20000.0
#define HS_BAND 0.10
/* What the plant sees at a close against what the firmware measured:
 * two channels' calibration (0.1 % gain, 3 LSB offset each, one sigma:
 * params.c) at 3 sigma, about 4.5 V at 750 V. */
#define HS_SENSE_V 4.5

static rig g;
static FILE *slog;
static char *logbuf;
static size_t loglen;

static void setup(void)
{
    rig_opts o;
    rig_default_opts(&o, HS_N, 23, HS_LOAD_W);
    o.via_station = 1;
    slog = open_memstream(&logbuf, &loglen);
    cr_assert_not_null(slog);
    o.station_log = slog;
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
}

static void teardown(void)
{
    rig_free(&g);
    fclose(slog);
    free(logbuf);
}

static void run_ms(double ms)
{
    for (long q = 0; q < (long)(ms * 10 + 0.5); q++)
        rig_quantum(&g);
}

static void inject(const char *text)
{
    flt_spec s;
    char err[200];
    cr_assert_eq(flt_parse(text, &s, err, sizeof err), EK3_OK, "%s: %s", text, err);
    cr_assert_eq(flt_inject(&g, &s), EK3_OK, "%s", text);
}

/* The station's log so far, as a string. */
static const char *station_log(void)
{
    fflush(slog);
    return logbuf ? logbuf : "";
}

/* Mean output current of the modules on the bus other than slot. */
static double others_mean(unsigned slot)
{
    double sum = 0;
    unsigned n = 0;
    for (unsigned k = 0; k < HS_N; k++)
        if (k + 1 != slot && g.plant.mod[k].present && g.plant.mod[k].relay) {
            sum += g.plant.mod[k].io;
            n++;
        }
    return n ? sum / n : 0;
}

/* The station starts the rack of the modules it hears with HS_DEMAND_W. */
static void start_rack(unsigned heard)
{
    run_ms(100);
    cr_assert_eq(stn_online(&g.stn, g.t_ns), heard, "the station hears %u modules", heard);
    cr_assert_eq(stn_api_rack(&g.stn, g.t_ns, RIG_API_KEY, HS_DEMAND_W, 750), EK3_OK);
    run_ms(1000);
}

Test(hotswap, an_inserted_module_precharges_closes_its_relay_and_shares, .init = setup, .fini = teardown)
{
    const unsigned slot = 8;
    inject("pull:8@0s"); /* an empty slot */
    start_rack(HS_N - 1);
    cr_assert_eq(g.stn.dem_n, HS_N - 1);
    cr_assert_float_eq(g.stn.dem_each, HS_DEMAND_W / (HS_N - 1), 1e-6);
    uint32_t splits = g.stn.st.resplits;

    inject("insert:8@0s");
    pmod *m = &g.plant.mod[slot - 1];
    cr_assert_eq(m->relay, 0, "in its slot with its relay open");
    /* Until the relay closes the output is off the bus; at the close it
     * is within DRV_RELAY_CLOSE_V of it. */
    double closed_at = -1, io_peak = 0;
    for (int ms = 0; ms < 1500; ms++) {
        run_ms(1);
        if (closed_at < 0 && m->relay)
            closed_at = ms;
        if (closed_at >= 0)
            io_peak = fmax(io_peak, m->io);
    }
    cr_assert_geq(closed_at, 0, "its relay closed");
    cr_assert_eq(m->relay_closes, 1, "once");
    cr_assert_leq(fabs(m->relay_dv), DRV_RELAY_CLOSE_V + HS_SENSE_V, "pre-charged: %.2f V from the bus at the close", m->relay_dv);
    cr_assert_eq(g.m[slot - 1].fw.drv.relay_closes, 1, "closed by its firmware's line");
    cr_assert_eq(g.m[slot - 1].fw.drv.safety.trips, 0, "no trip at the close (firmware)");
    cr_assert_eq(m->hw_trip, 0, "no trip at the close (Level-0 protection)");
    cr_assert_lt(io_peak, 3.95, "no inrush beyond the current limit (%.2f A)", io_peak);

    /* The station split its demand again: module 8 started with its share. */
    cr_assert_gt(g.stn.st.resplits, splits, "a re-split");
    cr_assert_eq(g.stn.dem_n, HS_N);
    cr_assert_float_eq(g.stn.dem_each, HS_DEMAND_W / HS_N, 1e-6);
    for (unsigned k = 1; k <= HS_N; k++)
        cr_assert_eq(g.stn.m[k - 1].cmd.power_w, (uint16_t)(HS_DEMAND_W / HS_N + 0.5), "module %u's share", k);
    cr_assert_not_null(strstr(station_log(), "rack demand split over 8 modules: 20000 W, 2500 W each"), "%s",
                       station_log());
    cr_assert_not_null(strstr(station_log(), "rack split: module 8: "), "the log names the module");

    double mean = others_mean(slot);
    cr_log_info("insert: relay closed %.0f ms after the insert, %.2f V from the bus (firmware %.2f V), peak %.3f A; "
                "%.3f A against the others' %.3f A",
                closed_at, m->relay_dv, g.m[slot - 1].fw.drv.relay_dv, io_peak, m->io, mean);
    cr_assert_gt(mean, 1.0, "the rack carries its load (%.2f A)", mean);
    cr_assert_leq(fabs(m->io - mean), HS_BAND * mean, "module 8 shares: %.3f A against the others' %.3f A", m->io,
                  mean);
}

Test(hotswap, a_module_reset_by_its_watchdog_comes_back_with_its_share, .init = setup, .fini = teardown)
{
    const unsigned slot = 3;
    start_rack(HS_N);
    cr_assert_eq(g.stn.dem_n, HS_N);
    uint32_t resets = g.m[slot - 1].fw.k.resets, splits = g.stn.st.resplits;
    pmod *m = &g.plant.mod[slot - 1];
    cr_assert_eq(m->relay, 1);

    inject("svc-stall:3@0s:t=0.3"); /* the kernel loop stops; the watchdog resets it after 100 ms */
    int opened = 0;
    for (int ms = 0; ms < 1500; ms++) {
        run_ms(1);
        opened |= !m->relay;
    }
    cr_assert_gt(g.m[slot - 1].fw.k.resets, resets, "the watchdog reset it");
    cr_assert(opened, "its relay opened as it reset (the pin's reset state)");
    cr_assert_eq(m->relay, 1, "and closed again at its pre-charge");
    cr_assert_leq(fabs(m->relay_dv), DRV_RELAY_CLOSE_V + HS_SENSE_V, "%.2f V from the bus at the close", m->relay_dv);
    cr_assert_gt(g.stn.st.resplits, splits, "the station split its demand again");
    cr_assert_not_null(strstr(station_log(), "rack split: module 3: back from a reset or a swap (its heartbeat count "
                                             "started again), starts with 2500 W"),
                       "%s", station_log());
    double mean = others_mean(slot);
    cr_log_info("watchdog: relay closed again %.2f V from the bus; %.3f A against the others' %.3f A", m->relay_dv,
                m->io, mean);
    cr_assert_leq(fabs(m->io - mean), HS_BAND * mean, "module 3 carries its share again: %.3f A against %.3f A",
                  m->io, mean);
}

Test(hotswap, a_module_lost_to_a_fault_grows_the_others_shares, .init = setup, .fini = teardown)
{
    start_rack(HS_N);
    inject("igf:2@0s:i=50mA"); /* GFI: module 2 trips and reports FAULT */
    pmod *m = &g.plant.mod[1];
    run_ms(1500);
    cr_assert_eq(m->relay, 0, "the trip opened its relay");
    cr_assert_eq(g.m[1].fw.drv.relay, 0);
    cr_assert_eq(g.stn.dem_n, HS_N - 1, "it left the split");
    uint16_t each = (uint16_t)(HS_DEMAND_W / (HS_N - 1) + 0.5);
    cr_assert_eq(g.stn.m[0].cmd.power_w, each, "the others' shares grew to %u W", each);
    cr_assert_not_null(strstr(station_log(), "rack split: module 2: leaves"), "%s", station_log());
}

Test(hotswap, a_module_commanded_alone_leaves_the_split, .init = setup, .fini = teardown)
{
    start_rack(HS_N);
    cr_assert_eq(stn_api_module(&g.stn, g.t_ns, RIG_API_KEY, 5, 1000, 750), EK3_OK);
    run_ms(10);
    cr_assert_eq(g.stn.dem_n, HS_N - 1);
    cr_assert_eq(g.stn.m[4].cmd.power_w, 1000, "its own command stands");
    cr_assert_eq(g.stn.m[0].cmd.power_w, (uint16_t)(HS_DEMAND_W / (HS_N - 1) + 0.5));
}

/* A pulled module put back (the pull cleared) is a module powered again:
 * its firmware boots, its relay stays open until its output is
 * pre-charged, and it rejoins without a trip (before, its firmware ran on
 * through the pull with the line closed, and the discharged output met
 * the bus: Level-0 OCP). */
Test(hotswap, a_pulled_module_put_back_boots_and_rejoins, .init = setup, .fini = teardown)
{
    const unsigned slot = 3;
    start_rack(HS_N);
    flt_spec s;
    char err[200];
    cr_assert_eq(flt_parse("pull:3@0s", &s, err, sizeof err), EK3_OK, "%s", err);
    cr_assert_eq(flt_inject(&g, &s), EK3_OK);
    run_ms(100);
    uint32_t boots = g.m[slot - 1].fw.k.resets;
    cr_assert_eq(flt_clear(&g, &s), EK3_OK);
    pmod *m = &g.plant.mod[slot - 1];
    cr_assert_eq(g.m[slot - 1].fw.k.resets, boots + 1, "its firmware boots as the board is powered");
    cr_assert_eq(g.m[slot - 1].fw.resets, 0u, "a power-up, not an MCU reset (fwi_power_cycle)");
    cr_assert_eq(m->relay, 0, "back in its slot with its relay open");
    run_ms(1500);
    cr_assert_eq(m->relay, 1, "closed at its pre-charge");
    cr_assert_eq(m->hw_trip, 0, "no Level-0 trip");
    cr_assert_eq(g.m[slot - 1].fw.drv.safety.trips, 0, "no firmware trip");
    cr_assert_leq(fabs(m->relay_dv), DRV_RELAY_CLOSE_V + HS_SENSE_V, "%.2f V from the bus at the close", m->relay_dv);
    double mean = others_mean(slot);
    cr_assert_leq(fabs(m->io - mean), HS_BAND * mean, "it carries its share: %.3f A against %.3f A", m->io, mean);
}

/* A module pulled for longer than the station's online window
 * (STN_ONLINE_NS) leaves the split; put back, it joins it again, logged
 * as joining, not as coming back from a reset (the station had let it go). */
Test(hotswap, a_module_back_after_the_online_window_joins_the_split, .init = setup, .fini = teardown)
{
    start_rack(HS_N);
    flt_spec s;
    char err[200];
    cr_assert_eq(flt_parse("pull:3@0s", &s, err, sizeof err), EK3_OK, "%s", err);
    cr_assert_eq(flt_inject(&g, &s), EK3_OK);
    run_ms((int)(STN_ONLINE_NS / 1000000) + 200);
    cr_assert_eq(g.stn.dem_n, HS_N - 1, "it left the split");
    cr_assert_not_null(strstr(station_log(), "rack split: module 3: leaves, its share was 2500 W"), "%s", station_log());
    cr_assert_eq(flt_clear(&g, &s), EK3_OK);
    run_ms(1500);
    cr_assert_eq(g.stn.dem_n, HS_N, "back in the split");
    cr_assert_not_null(strstr(station_log(), "rack split: module 3: joins, starts with 2500 W"), "%s", station_log());
    cr_assert_null(strstr(station_log(), "module 3: back from a reset"), "%s", station_log());
}

Test(hotswap, a_tripped_module_leaves_the_split_at_its_alert, .init = setup, .fini = teardown)
{
    const unsigned slot = 5;
    start_rack(HS_N);
    cr_assert_eq(g.stn.dem_n, HS_N);
    uint32_t faults = g.stn.st.faults;
    inject("igf:5@0s:i=100mA"); /* 100 mA to ground: the Level-0 GFI latches (50 mA) */
    /* Run until the station hears its FAULT_ALERT, then one quantum: the
     * station re-splits at its next poll, not at the module's next
     * heartbeat (up to CANH_HEARTBEAT_MS, 1 s, later). */
    long q = 0;
    while (g.stn.st.faults == faults && q++ < 10000)
        rig_quantum(&g);
    cr_assert_gt(g.stn.st.faults, faults, "its FAULT_ALERT reached the station");
    const stn_module *st = &g.stn.m[slot - 1];
    cr_assert(st->fault.flags & MSG_FAULT_F_LATCHED, "a latched trip (flags %u)", st->fault.flags);
    cr_assert_neq(st->hb.state, MSG_STATE_FAULT, "its last heartbeat predates the trip");
    rig_quantum(&g);
    cr_assert_eq(g.stn.dem_n, HS_N - 1, "out of the split at its alert");
    cr_assert_float_eq(g.stn.dem_each, HS_DEMAND_W / (HS_N - 1), 1e-6);
    char want[64];
    snprintf(want, sizeof want, "rack split: module %u: leaves", slot);
    cr_assert_not_null(strstr(station_log(), want), "%s", station_log());
    /* Its next heartbeat says FAULT: it stays out. */
    run_ms(CANH_HEARTBEAT_MS + 100);
    cr_assert_eq(st->hb.state, MSG_STATE_FAULT, "state %u", st->hb.state);
    cr_assert_eq(g.stn.dem_n, HS_N - 1, "still out");
}
