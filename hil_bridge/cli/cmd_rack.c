/* cmd_rack.c - `ek3 rack`: a rack of modules in one process, plant and
 * firmware in lockstep; rack totals, a per-module summary, timing, and a
 * report directory with traces and plots. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "ek3_err.h"
#include "can_id.h"
#include "msg.h"
#include "rig.h"
#include "splot.h"
#include "stnapi.h"

typedef struct rack_opts {
    rig_opts r;
    double duration;
    int realtime;
    const char *log, *report, *station_log, *rtl_vcd;
    int pull_slot;       /* -1: none */
    double pull_at;
    double load_at;      /* the load switches on at this time */
    double load_ramp;    /* and ramps to its value over this long */
    uint8_t ext[510];
    double hello_timeout;
    const char *api;     /* udp:HOST:PORT for the station's API, or NULL */
} rack_opts;

static int64_t rk_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int rk_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static const char *rk_state(const rig *g, unsigned k)
{
    const pmod *pm = &g->plant.mod[k];
    if (!pm->present)
        return "PULLED";
    if (g->m[k].lost)
        return "LOST";
    if (!g->m[k].external && g->m[k].fw.drv.safety.latched)
        return "FAULT";
    if (g->m[k].external)
        return pm->cmd.enable ? "EXT" : "EXT-OFF";
    static const char *const names[] = {"OFF", "START", "RUN", "FAULT"};
    return names[g->m[k].fw.drv.ctl.state & 3];
}

static int rk_usage(void)
{
    puts("usage: ek3 rack [--modules 84] [--load 200kW | --load-ohm R | --battery]\n"
         "                [--vset 750] [--droop 5] [--duration 2s] [--fidelity averaged|switching]\n"
         "                [--seed 1] [--load-at 0.5s] [--load-ramp 0.5s] [--pull SLOT@TIME] [--realtime]\n"
         "                [--log FILE] [--station-log FILE] [--rtl-vcd FILE]\n"
         "                [--api udp:HOST:PORT [--api-key KEY]]\n"
         "                [--report DIR] [--threads N] [--external all|2,5,7 [--fw-bus udp:HOST:BASE]\n"
         "                [--ext-timeout 200ms] [--hello-timeout 10s]]\n"
         "                [--set name=value]...\n\n"
         "Run a rack in one process: the plant (one module per slot, tolerances drawn\n"
         "from the seed) and one firmware instance per module (JEZGRO, its services,\n"
         "LLC_CONTROL with droop), joined by the HIL channel and the rack's CAN-FD bus,\n"
         "in lockstep quanta of one control period (100 us). Prints rack totals, a\n"
         "per-module summary and timing. The station starts every module (authenticated\n"
         "POWER_CMD) at 20 ms; the load switches on at --load-at, once the modules have\n"
         "brought the bus up, and ramps to its value over --load-ramp. --pull takes a module out of its slot while\n"
         "running (N-1). --realtime paces quanta to the wall clock and reports lateness.\n"
         "--log writes every frame (HIL channel hil0, rack bus can0) as a candump log;\n"
         "--station-log every decision of the station controller; --rtl-vcd the signals\n"
         "of module 1's Level-0 protection block (for GTKWave; it then runs every clock).\n"
         "--report writes report.txt, trace.csv and plots (PNG, SVG) into DIR.\n"
         "--api opens the station controller's API on UDP (one request per datagram,\n"
         "`module SLOT WATTS [VOLTS]`, `rack WATTS [VOLTS]`, `diag SLOT TEST`, `status\n"
         "[SLOT]`, each signed with an HMAC of the key, a time and a nonce; `ek3 api`\n"
         "sends them), checked every millisecond of simulated time; --api-key sets its\n"
         "key (default: the rig's development key).\n"
         "--threads spreads the modules over N threads (default: every CPU); the\n"
         "run is the same, bit for bit, whatever N (a --log run uses one).\n"
         "--external runs those modules' firmware in `ek3 fw` processes: the plant\n"
         "listens on BASE + slot, waits for each one's HELLO, then drives them one\n"
         "quantum at a time; a module that misses three quanta is reported lost and\n"
         "the rack runs on without it.");
    return CLI_OK;
}

int cmd_rack(int argc, char **argv)
{
    const char *w = "rack";
    rack_opts o;
    memset(&o, 0, sizeof o);
    o.r.modules = 84;
    o.r.fidelity = PMOD_AVERAGED;
    o.r.seed = 1;
    o.r.v_set = 750;
    o.r.load.kind = RACK_LOAD_CP;
    o.r.load.p_w = 200e3;
    o.r.load.v_min = 100;
    o.duration = 2.0;
    o.pull_slot = -1;
    o.load_at = 0.5;
    o.load_ramp = 0.5;
    o.r.ext_timeout_ms = 200;
    o.r.via_station = 1;
    o.hello_timeout = 10;
    strcpy(o.r.fw_bus, "udp:127.0.0.1:47000");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o.r.threads = ncpu > 0 ? (unsigned)ncpu : 1;
    prm_defaults(&o.r.plant);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        if (cli_is_help(a))
            return rk_usage();
        if (!strcmp(a, "--modules") && v) {
            int64_t n;
            if (cli_parse_i64(v, 1, 510, &n))
                return cli_usage_error(w, "--modules '%s': 1 to 510", v);
            o.r.modules = (unsigned)n;
        } else if (!strcmp(a, "--load") && v) {
            if (cli_parse_quantity(v, "W", &x) || !(x >= 0 && x <= 5e6))
                return cli_usage_error(w, "--load '%s': a power such as 200kW", v);
            o.r.load = (rack_load){.kind = RACK_LOAD_CP, .p_w = x, .v_min = 100};
        } else if (!strcmp(a, "--load-ohm") && v) {
            if (cli_parse_quantity(v, "ohm", &x) || !(x > 0))
                return cli_usage_error(w, "--load-ohm '%s': a resistance above 0", v);
            o.r.load = (rack_load){.kind = RACK_LOAD_R, .r = x};
            i++;
            continue;
        } else if (!strcmp(a, "--battery")) {
            o.r.load = (rack_load){.kind = RACK_LOAD_BATTERY, .q_ah = 250, .soc = 0.2, .r_int = 0.05,
                                   .ocv_empty = 620, .ocv_full = 800};
            continue;
        } else if (!strcmp(a, "--vset") && v) {
            if (cli_parse_quantity(v, "V", &x) || !(x >= 200 && x <= 920))
                return cli_usage_error(w, "--vset '%s': 200 to 920 V (the module's range)", v);
            o.r.v_set = (float)x;
        } else if (!strcmp(a, "--droop") && v) {
            if (cli_parse_quantity(v, "", &x) || !(x > 0 && x <= 100))
                return cli_usage_error(w, "--droop '%s': V/A, above 0 and up to 100", v);
            o.r.r_droop = (float)x;
        } else if (!strcmp(a, "--duration") && v) {
            if (cli_parse_quantity(v, "s", &o.duration) || !(o.duration > 0 && o.duration <= 86400))
                return cli_usage_error(w, "--duration '%s': a time above 0 and up to a day", v);
        } else if (!strcmp(a, "--fidelity") && v) {
            if (!strcmp(v, "averaged"))
                o.r.fidelity = PMOD_AVERAGED;
            else if (!strcmp(v, "switching"))
                o.r.fidelity = PMOD_SWITCHING;
            else
                return cli_usage_error(w, "--fidelity '%s': averaged or switching", v);
        } else if (!strcmp(a, "--seed") && v) {
            uint64_t s;
            if (cli_parse_u64(v, UINT64_MAX, &s))
                return cli_usage_error(w, "--seed '%s': a number", v);
            o.r.seed = s;
        } else if (!strcmp(a, "--pull") && v) {
            const char *at = strchr(v, '@');
            char slot[16];
            int64_t n;
            if (!at || (size_t)(at - v) >= sizeof slot)
                return cli_usage_error(w, "--pull '%s': SLOT@TIME, e.g. 42@1s", v);
            memcpy(slot, v, (size_t)(at - v));
            slot[at - v] = 0;
            if (cli_parse_i64(slot, 1, 510, &n) || cli_parse_quantity(at + 1, "s", &o.pull_at) || o.pull_at < 0)
                return cli_usage_error(w, "--pull '%s': SLOT@TIME, e.g. 42@1s", v);
            o.pull_slot = (int)n - 1;
        } else if (!strcmp(a, "--load-ramp") && v) {
            if (cli_parse_quantity(v, "s", &o.load_ramp) || o.load_ramp < 0)
                return cli_usage_error(w, "--load-ramp '%s': a time", v);
        } else if (!strcmp(a, "--load-at") && v) {
            if (cli_parse_quantity(v, "s", &o.load_at) || o.load_at < 0)
                return cli_usage_error(w, "--load-at '%s': a time", v);
        } else if (!strcmp(a, "--external") && v) {
            /* "all", or a list of slots: 2,5,7 */
            memset(o.ext, 0, sizeof o.ext);
            if (!strcmp(v, "all")) {
                memset(o.ext, 1, sizeof o.ext);
            } else {
                const char *s = v;
                while (*s) {
                    char *end;
                    long n = strtol(s, &end, 10);
                    if (end == s || n < 1 || n > 510 || (*end && *end != ','))
                        return cli_usage_error(w, "--external '%s': all, or slots like 2,5,7", v);
                    o.ext[n - 1] = 1;
                    s = *end ? end + 1 : end;
                }
            }
            o.r.external = o.ext;
        } else if (!strcmp(a, "--fw-bus") && v) {
            if ((!strncmp(v, "udp:", 4) && !strrchr(v + 4, ':')) || strlen(v) >= sizeof o.r.fw_bus)
                return cli_usage_error(w, "--fw-bus '%s': udp:HOST:BASEPORT or a SocketCAN interface", v);
            strcpy(o.r.fw_bus, v);
        } else if (!strcmp(a, "--ext-timeout") && v) {
            if (cli_parse_quantity(v, "s", &x) || !(x > 0 && x <= 60))
                return cli_usage_error(w, "--ext-timeout '%s': a time above 0", v);
            o.r.ext_timeout_ms = (int)(x * 1000 + 0.5);
        } else if (!strcmp(a, "--hello-timeout") && v) {
            if (cli_parse_quantity(v, "s", &o.hello_timeout) || !(o.hello_timeout > 0))
                return cli_usage_error(w, "--hello-timeout '%s': a time above 0", v);
        } else if (!strcmp(a, "--threads") && v) {
            int64_t n;
            if (cli_parse_i64(v, 1, 256, &n))
                return cli_usage_error(w, "--threads '%s': 1 to 256", v);
            o.r.threads = (unsigned)n;
        } else if (!strcmp(a, "--realtime")) {
            o.realtime = 1;
            continue;
        } else if (!strcmp(a, "--log") && v) {
            o.log = v;
        } else if (!strcmp(a, "--api") && v) {
            o.api = v;
            i++;
        } else if (!strcmp(a, "--api-key") && v) {
            if (strlen(v) < 8 || strlen(v) > 64)
                return cli_usage_error(w, "--api-key: 8 to 64 characters");
            o.r.api_key = v;
            i++;
        } else if (!strcmp(a, "--station-log") && v) {
            o.station_log = v;
        } else if (!strcmp(a, "--rtl-vcd") && v) {
            o.rtl_vcd = v;
        } else if (!strcmp(a, "--report") && v) {
            o.report = v;
        } else if (!strcmp(a, "--set") && v) {
            char err[200];
            if (prm_set(&o.r.plant, v, err, sizeof err))
                return cli_usage_error(w, "%s", err);
        } else {
            return cli_usage_error(w, "unknown argument '%s'", a);
        }
        i++;
    }
    if (o.pull_slot >= (int)o.r.modules)
        return cli_usage_error(w, "--pull: slot %d is not in a rack of %u", o.pull_slot + 1, o.r.modules);
    FILE *log = NULL;
    if (o.log && !(log = fopen(o.log, "w")))
        return cli_fail(w, "%s: %s", o.log, strerror(errno));
    o.r.log = log;
    FILE *slog = NULL;
    if (o.station_log && !(slog = fopen(o.station_log, "w")))
        return cli_fail(w, "%s: %s", o.station_log, strerror(errno));
    o.r.station_log = slog;
    if (o.report && mkdir(o.report, 0777) && errno != EEXIST)
        return cli_fail(w, "%s: %s", o.report, strerror(errno));

    static rig g;
    int64_t t_init = rk_now();
    int rc = rig_init(&g, &o.r);
    if (rc) {
        if (log)
            fclose(log);
        return cli_fail(w, "cannot build the rack: %s", ek3_strerror(rc));
    }
    if (o.rtl_vcd && (!g.plant.mod[0].prot || rtlp_trace(g.plant.mod[0].prot, o.rtl_vcd))) {
        rig_free(&g);
        return cli_fail(w, "%s: cannot write the protection trace", o.rtl_vcd);
    }
    unsigned n_ext = 0;
    for (unsigned k = 0; o.r.external && k < o.r.modules; k++)
        n_ext += o.ext[k];
    if (n_ext) {
        unsigned got = rig_wait_external(&g, (int)(o.hello_timeout * 1000));
        fprintf(stderr, "ek3 rack: %u of %u external modules said HELLO on %s\n", got, n_ext, o.r.fw_bus);
    }
    double init_s = (rk_now() - t_init) * 1e-9;
    long quanta = (long)ceil(o.duration / (RIG_PERIOD_NS * 1e-9) - 1e-9);
    /* Trace every millisecond. */
    long nt = quanta / 10 + 1, ti = 0;
    double *tr = calloc((size_t)nt * 6, sizeof *tr);
    int64_t *late = o.realtime ? calloc((size_t)quanta, sizeof *late) : NULL;
    if (!tr || (o.realtime && !late)) {
        rig_free(&g);
        return cli_fail(w, "out of memory for %ld quanta", quanta);
    }
    int fifo = 0, locked = 0;
    if (o.realtime) {
        struct sched_param sp = {.sched_priority = 80};
        fifo = sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
        prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* wake at the deadline, not 50 us after */
        locked = mlockall(MCL_CURRENT | MCL_FUTURE) == 0;
    }
    static sapi api;
    api.fd = -1;
    if (o.api) {
        rc = sapi_open(&api, &g.stn, o.r.v_set, o.api);
        if (rc) {
            rig_free(&g);
            return cli_fail(w, "--api %s: %s", o.api, ek3_strerror(rc));
        }
        fprintf(stderr, "ek3 rack: the station's API listens on %s (port %d)\n", o.api, sapi_port(&api));
    }
    const char *key = o.r.api_key ? o.r.api_key : RIG_API_KEY;
    long overruns = 0;
    rack_load load = g.plant.load;
    g.plant.load.p_w = 0; /* off until load_at */
    if (load.kind == RACK_LOAD_R)
        g.plant.load.r = o.r.plant.r_bleed;
    int64_t t0 = rk_now();
    int started = 0;
    for (long q = 0; q < quanta; q++) {
        /* The station starts the rack once the modules' first heartbeats are in. */
        if (!started && g.t_ns >= 20000000) {
            started = 1;
            int src = stn_api_rack(&g.stn, g.t_ns, key, stn_module_cap(o.r.v_set) * stn_online(&g.stn, g.t_ns),
                                   o.r.v_set);
            if (src)
                fprintf(stderr, "ek3 rack: the station could not start the rack: %s\n", ek3_strerror(src));
        }
        if (g.t_ns >= (int64_t)(o.load_at * 1e9) && load.kind != RACK_LOAD_BATTERY) {
            /* An EV charger's ramp: the power (or conductance) rises linearly. */
            double f = o.load_ramp > 0 ? (g.t_ns * 1e-9 - o.load_at) / o.load_ramp : 1.0;
            if (f > 1)
                f = 1;
            g.plant.load.p_w = load.p_w * f;
            g.plant.load.r = load.kind == RACK_LOAD_R ? (f > 0 ? load.r / f : o.r.plant.r_bleed) : load.r;
            if (g.plant.load.r > o.r.plant.r_bleed)
                g.plant.load.r = o.r.plant.r_bleed;
        }
        if (o.pull_slot >= 0 && g.t_ns >= (int64_t)(o.pull_at * 1e9) && g.plant.mod[o.pull_slot].present)
            rack_remove(&g.plant, (unsigned)o.pull_slot);
        rig_quantum(&g);
        if (api.fd >= 0 && q % 10 == 0)
            sapi_poll(&api, g.t_ns);
        if (q % 10 == 0 && ti < nt) {
            double imin = 1e9, imax = 0, isum = 0, tj = -1e9;
            unsigned on = 0;
            for (unsigned k = 0; k < g.o.modules; k++) {
                const pmod *pm = &g.plant.mod[k];
                if (!pm->present)
                    continue;
                imin = fmin(imin, pm->io), imax = fmax(imax, pm->io), isum += pm->io, on++;
                tj = fmax(tj, fmax(pm->th.t[TH_JA], pm->th.t[TH_JB]));
            }
            double *row = tr + ti * 6;
            row[0] = g.t_ns * 1e-9, row[1] = g.plant.vbus, row[2] = g.plant.p_load / 1e3;
            row[3] = imin, row[4] = on ? isum / on : 0, row[5] = imax;
            (void)tj;
            ti++;
        }
        if (o.realtime) {
            int64_t deadline = t0 + (q + 1) * RIG_PERIOD_NS, now = rk_now();
            if (now > deadline) {
                overruns++;
            } else {
                struct timespec ts = {deadline / 1000000000, deadline % 1000000000};
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
                now = rk_now();
            }
            late[q] = now - deadline;
        }
    }
    double wall = (rk_now() - t0) * 1e-9;
    rig_bye(&g);
    if (log && fclose(log))
        fprintf(stderr, "ek3 rack: %s: write failed\n", o.log);
    g.o.log = NULL;

    /* The report: to stdout and, with --report, to DIR/report.txt. */
    char path[600];
    FILE *rep = NULL;
    if (o.report) {
        snprintf(path, sizeof path, "%s/report.txt", o.report);
        rep = fopen(path, "w");
    }
    FILE *outs[2] = {stdout, rep};
    double ptot = 0, pin = 0, imin = 1e9, imax = 0, isum = 0, tjmax = -1e9;
    unsigned present = 0, running = 0;
    for (unsigned k = 0; k < g.o.modules; k++) {
        const pmod *pm = &g.plant.mod[k];
        if (!pm->present)
            continue;
        present++;
        running += g.m[k].external ? !g.m[k].lost : g.m[k].fw.drv.ctl.state == LLCC_RUN;
        ptot += pm->io * pm->vo;
        pin += pm->pin;
        imin = fmin(imin, pm->io), imax = fmax(imax, pm->io), isum += pm->io;
        tjmax = fmax(tjmax, fmax(pm->th.t[TH_JA], pm->th.t[TH_JB]));
    }
    double imean = present ? isum / present : 0;
    for (int s = 0; s < 2; s++) {
        FILE *f = outs[s];
        if (!f)
            continue;
        fprintf(f, "EK3 rack: %u modules (%u in their slots, %u regulating), %s plant, seed %llu, %.3g s simulated\n",
                g.o.modules, present, running, o.r.fidelity == PMOD_AVERAGED ? "averaged" : "switching",
                (unsigned long long)o.r.seed, g.t_ns * 1e-9);
        const char *lk = o.r.load.kind == RACK_LOAD_CP ? "constant power" : o.r.load.kind == RACK_LOAD_R ? "resistor"
                                                                                                        : "EV battery";
        fprintf(f, "load: %s; set point %.1f V, droop %.2f V/A\n", lk, o.r.v_set,
                g.m[0].fw.drv.ctl.cfg.r_droop);
        fprintf(f, "bus: %.2f V, load %.2f kW (%.2f A); modules deliver %.2f kW from %.2f kW in (%.2f %%)\n",
                g.plant.vbus, g.plant.p_load / 1e3, g.plant.i_load, ptot / 1e3, pin / 1e3,
                pin > 0 ? 100 * ptot / pin : 0);
        fprintf(f, "sharing: %.3f A mean, %.3f .. %.3f A (spread %.1f %% of mean); hottest junction %.1f C\n", imean,
                imin, imax, imean > 0 ? 100 * (imax - imin) / imean : 0, tjmax);
        if (o.pull_slot >= 0)
            fprintf(f, "module %d pulled at %.3g s\n", o.pull_slot + 1, o.pull_at);
        for (unsigned k = 0; k < g.o.modules; k++)
            if (g.stn.m[k].fault_ns >= 0)
                fprintf(f, "module %u FAULT_ALERT at %.4f s: %s, value %.3f\n", k + 1, g.stn.m[k].fault_ns * 1e-9,
                        msg_enum_name(&msg_desc_of(CID_TYPE_FAULT)->fields[0], g.stn.m[k].fault.code)
                            ? msg_enum_name(&msg_desc_of(CID_TYPE_FAULT)->fields[0], g.stn.m[k].fault.code)
                            : "?",
                        g.stn.m[k].fault.value / 1000.0);
        for (unsigned k = 0; k < g.o.modules; k++)
            if (g.m[k].external)
                fprintf(f, "module %u external (ek3 fw): %s\n", k + 1,
                        g.m[k].lost ? "LOST - no answer within the timeout" : "answered every quantum");
        fprintf(f, "station: %u POWER_CMD sent, %u acknowledged (%u clamped, %u refused), %u retries, %u gave up; "
                   "%u modules online\n",
                g.stn.st.sent, g.stn.st.acked, g.stn.st.clamped, g.stn.st.refused, g.stn.st.retries, g.stn.st.gave_up,
                stn_online(&g.stn, g.t_ns));
        sapi_flush(&api); /* the bursts of failures still open: logged, then counted here */
        if (api.fd >= 0)
            fprintf(f,
                    "station API (%s): %u requests, %u carried out, %u refused, %u malformed, %u throttled "
                    "(bad MAC %u, stale %u, replayed %u; %u bursts of failures logged)\n",
                    o.api, api.st.requests, api.st.ok, api.st.refused, api.st.malformed, api.st.throttled,
                    api.st.bad_mac, api.st.stale, api.st.replayed, api.st.bursts);
        fprintf(f, "HIL frames %llu; rack bus: %llu frames, %llu error frames, load %.2f %%\n",
                (unsigned long long)g.hil_frames, (unsigned long long)g.bus.frames,
                (unsigned long long)g.bus.error_frames, 100 * cbus_load(&g.bus));
        fprintf(f, "\n%5s %-6s %9s %8s %8s %8s %8s %9s %7s\n", "slot", "state", "power W", "I A", "V out", "Tj A C",
                "Tj B C", "fsw kHz", "resets");
        for (unsigned k = 0; k < g.o.modules; k++) {
            const pmod *pm = &g.plant.mod[k];
            fprintf(f, "%5u %-6s %9.1f %8.3f %8.2f %8.1f %8.1f %9.1f %7u\n", k + 1, rk_state(&g, k), pm->io * pm->vo,
                    pm->io, pm->vo, pm->th.t[TH_JA], pm->th.t[TH_JB], g.m[k].fw.h.pwm.fsw_hz / 1e3, g.m[k].fw.resets);
        }
        fprintf(f, "\ntiming: %ld quanta of 100 us in %.3f s wall (%.2f x real time) on %u thread%s, set-up %.3f s\n",
                quanta, wall, g.t_ns * 1e-9 / wall, g.pool ? g.pool_threads : 1, g.pool && g.pool_threads > 1 ? "s" : "",
                init_s);
        if (o.realtime) {
            qsort(late, (size_t)quanta, sizeof *late, rk_cmp);
            fprintf(f, "realtime (%s, %s): lateness min %.1f us, median %.1f us, p99 %.1f us, p99.9 %.1f us, "
                       "max %.1f us; %ld overruns\n",
                    fifo ? "SCHED_FIFO" : "SCHED_OTHER: no permission for FIFO", locked ? "memory locked" : "not locked",
                    late[0] / 1e3, late[quanta / 2] / 1e3, late[quanta * 99 / 100] / 1e3,
                    late[quanta * 999 / 1000] / 1e3, late[quanta - 1] / 1e3, overruns);
            o.realtime = 0; /* sorted once */
        }
    }
    int bad = 0;
    if (o.report) {
        if (rep)
            bad |= fclose(rep) != 0;
        else
            bad = 1;
        snprintf(path, sizeof path, "%s/trace.csv", o.report);
        FILE *c = fopen(path, "w");
        if (c) {
            fputs("t_s,v_bus_v,p_load_kw,i_min_a,i_mean_a,i_max_a\n", c);
            for (long i = 0; i < ti; i++)
                fprintf(c, "%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", tr[i * 6], tr[i * 6 + 1], tr[i * 6 + 2], tr[i * 6 + 3],
                        tr[i * 6 + 4], tr[i * 6 + 5]);
            bad |= fclose(c) != 0;
        } else {
            bad = 1;
        }
        double *t = malloc((size_t)ti * sizeof *t), *col[5];
        for (int k = 0; k < 5; k++)
            col[k] = malloc((size_t)ti * sizeof(double));
        double *bars = malloc(g.o.modules * sizeof *bars);
        if (t && col[0] && col[1] && col[2] && col[3] && col[4] && bars) {
            for (long i = 0; i < ti; i++) {
                t[i] = tr[i * 6];
                for (int k = 0; k < 5; k++)
                    col[k][i] = tr[i * 6 + 1 + k];
            }
            static const char *const ext[2] = {"png", "svg"};
            for (int e = 0; e < 2; e++) {
                splot_series vb = {"bus voltage", "blue", t, col[0], (size_t)ti};
                snprintf(path, sizeof path, "%s/bus_voltage.%s", o.report, ext[e]);
                bad |= splot_lines(path, "Rack DC bus", "time (s)", "V", &vb, 1) != 0;
                splot_series pl = {"load power", "darkgreen", t, col[1], (size_t)ti};
                snprintf(path, sizeof path, "%s/load_power.%s", o.report, ext[e]);
                bad |= splot_lines(path, "Load power", "time (s)", "kW", &pl, 1) != 0;
                splot_series cur[3] = {{"min", "red", t, col[2], (size_t)ti},
                                       {"mean", "black", t, col[3], (size_t)ti},
                                       {"max", "blue", t, col[4], (size_t)ti}};
                snprintf(path, sizeof path, "%s/module_current.%s", o.report, ext[e]);
                bad |= splot_lines(path, "Module output current: min, mean, max", "time (s)", "A", cur, 3) != 0;
                for (unsigned k = 0; k < g.o.modules; k++)
                    bars[k] = g.plant.mod[k].io;
                snprintf(path, sizeof path, "%s/current_sharing.%s", o.report, ext[e]);
                bad |= splot_bars(path, "Current sharing at the end (droop)", "slot", "A", bars, g.o.modules,
                                  imean) != 0;
            }
        } else {
            bad = 1;
        }
        free(t);
        for (int k = 0; k < 5; k++)
            free(col[k]);
        free(bars);
        printf("report: %s/report.txt, trace.csv, bus_voltage, load_power, module_current, current_sharing (.png, .svg)\n",
               o.report);
    }
    free(tr);
    free(late);
    sapi_close(&api);
    rig_free(&g);
    if (slog)
        fclose(slog);
    return bad ? cli_fail(w, "could not write all of the report in %s", o.report) : CLI_OK;
}
