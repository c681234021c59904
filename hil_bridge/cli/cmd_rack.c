/* cmd_rack.c - `ek3 rack`: a rack of modules in one process, plant and
 * firmware in lockstep; rack totals, a per-module summary, timing, and a
 * report directory with traces and plots. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "candump.h"
#include "cli.h"
#include "cmd.h"
#include "ek3_err.h"
#include "fault.h"
#include "can_id.h"
#include "msg.h"
#include "rig.h"
#include "rtlprot.h"
#include "splot.h"
#include "stnapi.h"

typedef struct rack_opts {
    rig_opts r;
    double duration;
    int realtime;
    const char *log, *report, *station_log, *rtl_vcd;
    double pull_at[510]; /* --pull: slot k + 1 leaves at this time; < 0: stays */
    unsigned npull;
    flt_spec fault[64];  /* --fault, in the order given */
    unsigned nfault;
    double load_at;      /* the load switches on at this time */
    double load_ramp;    /* and ramps to its value over this long */
    uint8_t ext[510];
    const char *ext_arg; /* --external as given */
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

/* A plot's result: 0, or 1 after saying which file and why. */
static int rk_plot(const char *w, const char *path, int rc)
{
    if (!rc)
        return 0;
    fprintf(stderr, "ek3 %s: %s: cannot write the plot: %s\n", w, path,
            rc == EK3_EIO && errno ? strerror(errno) : ek3_strerror(rc));
    return 1;
}

/* Whether the protection trace has failed a write; why[cap] says so. */
static int rk_vcd_error(const rig *g, const char *path, char *why, size_t cap)
{
    int e = path ? rtlp_trace_error(g->plant.mod[0].prot) : 0;
    if (e)
        snprintf(why, cap, "%s: write error: %s", path, strerror(e));
    return e != 0;
}

/* What n modules can deliver together at set point v_set (W): each gives
 * its software current limit i_max (A) at the bus its droop r_droop (V/A)
 * leaves at that current, or its power command p_cmd (W) if that is less
 * (LLC_CONTROL: i_ref = min(i_max, p_cmd / v)). Busbar drops are left out:
 * the figure is an upper bound. */
static double rk_capacity(unsigned n, double v_set, double i_max, double r_droop, double p_cmd)
{
    double p = i_max * (v_set - r_droop * i_max);
    return n * (p < p_cmd ? p : p_cmd);
}

static int rk_usage(void)
{
    puts("usage: ek3 rack [--modules 84] [--load 200kW | --load-ohm R | --battery]\n"
         "                [--vset 750] [--droop 5] [--duration 2s] [--fidelity averaged|switching]\n"
         "                [--seed 1] [--load-at 0.5s] [--load-ramp 0.5s] [--pull SLOT@TIME] [--realtime]\n"
         "                [--fault NAME:TARGET@TIME[:P=V,...]]...\n"
         "                [--log FILE [--log-start EPOCH]] [--station-log FILE] [--rtl-vcd FILE]\n"
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
         "running (N-1; give it again for N-2 and more): the fault pull:SLOT@TIME. --fault injects any fault of\n"
         "the rig's table (`ek3 faults` lists them, with targets and parameters) at its time. --realtime paces quanta to the wall clock and reports\n"
         "lateness. Ctrl-C or SIGTERM stops the run at the end of a quantum: logs end on a whole line and the\n"
         "report covers what ran, marked INTERRUPTED.\n"
         "--log writes every frame (HIL channel hil0, rack bus can0) as a candump log,\n"
         "its times counted from the run's start on the wall clock, or from --log-start\n"
         "(seconds since the epoch, e.g. 1700000000.000000, for the same log every run);\n"
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
    for (unsigned k = 0; k < 510; k++)
        o.pull_at[k] = -1;
    o.load_at = 0.5;
    o.load_ramp = 0.5;
    o.r.ext_timeout_ms = 200;
    o.r.via_station = 1;
    o.hello_timeout = 10;
    strcpy(o.r.fw_bus, "udp:127.0.0.1:47000");
    o.r.log_t0_ns = -1; /* --log-start, or the wall clock at the start */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o.r.threads = ncpu > 0 ? (unsigned)ncpu : 1;
    prm_defaults(&o.r.plant);
    const char *miss = NULL; /* an option given without its value */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        if (cli_is_help(a))
            return rk_usage();
        if (!strcmp(a, "--modules") && cli_has_value(a, v, &miss)) {
            int64_t n;
            if (cli_parse_i64(v, 1, 510, &n))
                return cli_usage_error(w, "--modules '%s': 1 to 510", v);
            o.r.modules = (unsigned)n;
        } else if (!strcmp(a, "--load") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "W", &x) || !(x >= 0 && x <= 5e6))
                return cli_usage_error(w, "--load '%s': a power such as 200kW", v);
            o.r.load = (rack_load){.kind = RACK_LOAD_CP, .p_w = x, .v_min = 100};
        } else if (!strcmp(a, "--load-ohm") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "ohm", &x) || !(x > 0))
                return cli_usage_error(w, "--load-ohm '%s': a resistance above 0", v);
            o.r.load = (rack_load){.kind = RACK_LOAD_R, .r = x};
            i++;
            continue;
        } else if (!strcmp(a, "--battery")) {
            o.r.load = (rack_load){.kind = RACK_LOAD_BATTERY, .q_ah = 250, .soc = 0.2, .r_int = 0.05,
                                   .ocv_empty = 620, .ocv_full = 800};
            continue;
        } else if (!strcmp(a, "--vset") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "V", &x) || !(x >= 200 && x <= 920))
                return cli_usage_error(w, "--vset '%s': 200 to 920 V (the module's range)", v);
            o.r.v_set = (float)x;
        } else if (!strcmp(a, "--droop") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "", &x) || !(x > 0 && x <= 100))
                return cli_usage_error(w, "--droop '%s': V/A, above 0 and up to 100", v);
            o.r.r_droop = (float)x;
        } else if (!strcmp(a, "--duration") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "s", &o.duration) ||
                !(o.duration >= RIG_PERIOD_NS * (1e-9 - 1e-18) && o.duration <= 86400))
                return cli_usage_error(w, "--duration '%s': a time from one control period (100us) up to a day", v);
        } else if (!strcmp(a, "--fidelity") && cli_has_value(a, v, &miss)) {
            if (!strcmp(v, "averaged"))
                o.r.fidelity = PMOD_AVERAGED;
            else if (!strcmp(v, "switching"))
                o.r.fidelity = PMOD_SWITCHING;
            else
                return cli_usage_error(w, "--fidelity '%s': averaged or switching", v);
        } else if (!strcmp(a, "--seed") && cli_has_value(a, v, &miss)) {
            uint64_t s;
            if (cli_parse_u64(v, UINT64_MAX, &s))
                return cli_usage_error(w, "--seed '%s': a number", v);
            o.r.seed = s;
        } else if (!strcmp(a, "--pull") && cli_has_value(a, v, &miss)) {
            /* Each --pull adds one: 42@1s --pull 43@1.5s is an N-2 test. */
            const char *at = strchr(v, '@');
            char slot[16];
            int64_t n;
            double t;
            if (!at || (size_t)(at - v) >= sizeof slot)
                return cli_usage_error(w, "--pull '%s': SLOT@TIME, e.g. 42@1s", v);
            memcpy(slot, v, (size_t)(at - v));
            slot[at - v] = 0;
            if (cli_parse_i64(slot, 1, 510, &n) || cli_parse_quantity(at + 1, "s", &t) || t < 0)
                return cli_usage_error(w, "--pull '%s': SLOT@TIME, e.g. 42@1s", v);
            if (o.pull_at[n - 1] >= 0)
                return cli_usage_error(w, "--pull '%s': slot %lld is already pulled at %g s", v, (long long)n,
                                       o.pull_at[n - 1]);
            o.pull_at[n - 1] = t;
            o.npull++;
        } else if (!strcmp(a, "--fault") && cli_has_value(a, v, &miss)) {
            char err[256];
            if (o.nfault == sizeof o.fault / sizeof o.fault[0])
                return cli_usage_error(w, "--fault '%s': at most %zu faults", v, sizeof o.fault / sizeof o.fault[0]);
            if (flt_parse(v, &o.fault[o.nfault], err, sizeof err))
                return cli_usage_error(w, "--fault: %s", err);
            o.nfault++;
        } else if (!strcmp(a, "--load-ramp") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "s", &o.load_ramp) || !(o.load_ramp >= 0 && o.load_ramp <= 86400))
                return cli_usage_error(w, "--load-ramp '%s': a time from 0 up to a day", v);
        } else if (!strcmp(a, "--load-at") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "s", &o.load_at) || !(o.load_at >= 0 && o.load_at <= 86400))
                return cli_usage_error(w, "--load-at '%s': a time from 0 up to a day", v);
        } else if (!strcmp(a, "--external") && cli_has_value(a, v, &miss)) {
            /* "all", or a list of slots: 2,5,7 */
            memset(o.ext, 0, sizeof o.ext);
            o.ext_arg = v;
            if (!strcmp(v, "all")) {
                memset(o.ext, 1, sizeof o.ext);
            } else {
                /* Every item a slot: no empty list, no empty item. */
                const char *s = v;
                for (;;) {
                    char item[16];
                    size_t l = strcspn(s, ",");
                    int64_t n;
                    if (l >= sizeof item)
                        return cli_usage_error(w, "--external '%s': all, or slots like 2,5,7", v);
                    memcpy(item, s, l);
                    item[l] = 0;
                    if (cli_parse_i64(item, 1, 510, &n))
                        return cli_usage_error(w, "--external '%s': '%s' is not a slot 1 to 510", v, item);
                    o.ext[n - 1] = 1;
                    if (!s[l])
                        break;
                    s += l + 1;
                }
            }
            o.r.external = o.ext;
        } else if (!strcmp(a, "--fw-bus") && cli_has_value(a, v, &miss)) {
            if ((!strncmp(v, "udp:", 4) && !strrchr(v + 4, ':')) || strlen(v) >= sizeof o.r.fw_bus)
                return cli_usage_error(w, "--fw-bus '%s': udp:HOST:BASEPORT or a SocketCAN interface", v);
            uint64_t base;
            if (!strncmp(v, "udp:", 4) && cli_parse_u64(strrchr(v, ':') + 1, 65535, &base))
                return cli_usage_error(w, "--fw-bus '%s': BASEPORT must be a port number 0 to 65535", v);
            strcpy(o.r.fw_bus, v);
        } else if (!strcmp(a, "--ext-timeout") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "s", &x) || !(x > 0 && x <= 60))
                return cli_usage_error(w, "--ext-timeout '%s': a time above 0", v);
            o.r.ext_timeout_ms = (int)(x * 1000 + 0.5);
        } else if (!strcmp(a, "--hello-timeout") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "s", &o.hello_timeout) || !(o.hello_timeout > 0 && o.hello_timeout <= 86400))
                return cli_usage_error(w, "--hello-timeout '%s': a time above 0 and up to a day", v);
        } else if (!strcmp(a, "--threads") && cli_has_value(a, v, &miss)) {
            int64_t n;
            if (cli_parse_i64(v, 1, 256, &n))
                return cli_usage_error(w, "--threads '%s': 1 to 256", v);
            o.r.threads = (unsigned)n;
        } else if (!strcmp(a, "--realtime")) {
            o.realtime = 1;
            continue;
        } else if (!strcmp(a, "--log") && cli_has_value(a, v, &miss)) {
            o.log = v;
        } else if (!strcmp(a, "--log-start") && cli_has_value(a, v, &miss)) {
            /* a day of run (--duration's limit) after it still fits int64 ns */
            if (cdl_parse_stamp(v, &o.r.log_t0_ns, NULL) || o.r.log_t0_ns > INT64_MAX - 86401000000000LL)
                return cli_usage_error(w, "--log-start '%s': seconds since the epoch, e.g. 1700000000.000000", v);
        } else if (!strcmp(a, "--api") && cli_has_value(a, v, &miss)) {
            o.api = v;
        } else if (!strcmp(a, "--api-key") && cli_has_value(a, v, &miss)) {
            if (strlen(v) < 8 || strlen(v) > 64)
                return cli_usage_error(w, "--api-key: 8 to 64 characters");
            o.r.api_key = v;
        } else if (!strcmp(a, "--station-log") && cli_has_value(a, v, &miss)) {
            o.station_log = v;
        } else if (!strcmp(a, "--rtl-vcd") && cli_has_value(a, v, &miss)) {
            o.rtl_vcd = v;
        } else if (!strcmp(a, "--report") && cli_has_value(a, v, &miss)) {
            if (strlen(v) > 512)
                return cli_usage_error(w, "--report: a directory name of at most 512 characters");
            o.report = v;
        } else if (!strcmp(a, "--set") && cli_has_value(a, v, &miss)) {
            char err[200];
            if (prm_set(&o.r.plant, v, err, sizeof err))
                return cli_usage_error(w, "%s", err);
        } else {
            return cli_bad_arg(w, a, miss);
        }
        i++;
    }
    /* Options that name slots or times are checked against the rack and
     * the run, before anything is simulated. */
    long quanta = (long)ceil(o.duration / (RIG_PERIOD_NS * 1e-9) - 1e-9);
    for (unsigned k = 0; k < 510; k++) {
        if (o.pull_at[k] >= 0 && k >= o.r.modules)
            return cli_usage_error(w, "--pull: slot %u is not in a rack of %u", k + 1, o.r.modules);
        if (o.pull_at[k] >= o.duration || (int64_t)(o.pull_at[k] * 1e9) > (int64_t)(quanta - 1) * RIG_PERIOD_NS)
            return cli_usage_error(w, "--pull %u@%gs: at or after the end of the run (--duration %g s)", k + 1,
                                   o.pull_at[k], o.duration);
        if (o.r.external && o.ext[k] && k >= o.r.modules && strcmp(o.ext_arg, "all"))
            return cli_usage_error(w, "--external: slot %u is not in a rack of %u", k + 1, o.r.modules);
    }
    for (unsigned j = 0; j < o.nfault; j++)
        if ((int64_t)(o.fault[j].t * 1e9) > (int64_t)(quanta - 1) * RIG_PERIOD_NS) {
            char text[300];
            flt_format(&o.fault[j], text, sizeof text);
            return cli_usage_error(w, "--fault %s: at or after the end of the run (--duration %g s)", text,
                                   o.duration);
        }
    if (o.r.external && !strncmp(o.r.fw_bus, "udp:", 4) &&
        strtol(strrchr(o.r.fw_bus, ':') + 1, NULL, 10) + (long)o.r.modules > 65535)
        return cli_usage_error(w, "--fw-bus %s: BASE + %u (the last slot) is above port 65535", o.r.fw_bus,
                               o.r.modules);
    /* Two outputs into one file would interleave and lose both. */
    const char *outs_named[3] = {o.log, o.station_log, o.rtl_vcd};
    static const char *const out_flag[3] = {"--log", "--station-log", "--rtl-vcd"};
    for (int a = 0; a < 3; a++)
        for (int b = a + 1; b < 3; b++)
            if (outs_named[a] && outs_named[b] && !strcmp(outs_named[a], outs_named[b]) &&
                strcmp(outs_named[a], "/dev/null"))
                return cli_usage_error(w, "%s and %s both name %s", out_flag[a], out_flag[b], outs_named[a]);
    /* Every output is opened (the report's directory made, its first file
     * created) before the run, so that a bad path costs no simulation. */
    char path[600];
    FILE *rep = NULL;
    if (o.report) {
        struct stat st;
        if (mkdir(o.report, 0777) && errno != EEXIST)
            return cli_fail(w, "--report %s: %s", o.report, strerror(errno));
        errno = 0;
        if (stat(o.report, &st) || !S_ISDIR(st.st_mode))
            return cli_fail(w, "--report %s: %s", o.report, errno ? strerror(errno) : "exists and is not a directory");
        snprintf(path, sizeof path, "%s/report.txt", o.report);
        if (!(rep = fopen(path, "w")))
            return cli_fail(w, "--report: %s: %s", path, strerror(errno));
    }
    if (o.r.log_t0_ns < 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        o.r.log_t0_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec / 1000 * 1000;
    }
    FILE *log = NULL;
    if (o.log && !(log = fopen(o.log, "w"))) {
        if (rep)
            fclose(rep);
        return cli_fail(w, "--log %s: %s", o.log, strerror(errno));
    }
    o.r.log = log;
    FILE *slog = NULL;
    if (o.station_log && !(slog = fopen(o.station_log, "w"))) {
        if (rep)
            fclose(rep);
        if (log)
            fclose(log);
        return cli_fail(w, "--station-log %s: %s", o.station_log, strerror(errno));
    }
    o.r.station_log = slog;

    static rig g;
    int64_t t_init = rk_now();
    int rc = rig_init(&g, &o.r);
    if (rc) {
        if (log)
            fclose(log);
        if (slog)
            fclose(slog);
        if (rep)
            fclose(rep);
        return cli_fail(w, "cannot build the rack: %s", ek3_strerror(rc));
    }
    errno = 0;
    if (o.rtl_vcd && (!g.plant.mod[0].prot || rtlp_trace(g.plant.mod[0].prot, o.rtl_vcd))) {
        rig_free(&g);
        if (log)
            fclose(log);
        if (slog)
            fclose(slog);
        if (rep)
            fclose(rep);
        return cli_fail(w, "--rtl-vcd %s: %s", o.rtl_vcd, strerror(errno ? errno : EIO));
    }
    for (unsigned j = 0; j < o.nfault; j++) {
        char err[256];
        if (flt_check(&g, &o.fault[j], err, sizeof err)) {
            rig_free(&g);
            if (log)
                fclose(log);
            if (slog)
                fclose(slog);
            if (rep)
                fclose(rep);
            return cli_usage_error(w, "--fault: %s", err);
        }
    }
    unsigned n_ext = 0;
    for (unsigned k = 0; o.r.external && k < o.r.modules; k++)
        n_ext += o.ext[k];
    if (n_ext) {
        unsigned got = rig_wait_external(&g, (int)(o.hello_timeout * 1000));
        fprintf(stderr, "ek3 rack: %u of %u external modules said HELLO on %s\n", got, n_ext, o.r.fw_bus);
    }
    double init_s = (rk_now() - t_init) * 1e-9;
    /* A demand beyond what the rack can deliver is said before the run. */
    llcc_cfg kcfg; /* what every module's LLC_CONTROL runs with (rig_init; an external module too) */
    llcc_default_cfg(&kcfg);
    if (o.r.r_droop > 0)
        kcfg.r_droop = o.r.r_droop;
    const llcc_cfg *kc = &kcfg;
    unsigned n_cap = o.r.modules - o.npull;
    double v_full = o.r.v_set - kc->r_droop * kc->i_max;
    double cap = rk_capacity(n_cap, o.r.v_set, kc->i_max, kc->r_droop, stn_module_cap(o.r.v_set));
    double demand = o.r.load.kind == RACK_LOAD_CP ? o.r.load.p_w
                    : o.r.load.kind == RACK_LOAD_R ? v_full * v_full / o.r.load.r : 0;
    if (demand > cap)
        fprintf(stderr,
                "ek3 rack: warning: the load asks %.1f kW, but %u modules%s deliver at most %.1f kW at the %.1f V "
                "set point (%.2f A each at %.1f V after %.2f V/A droop, at most %.0f W each): the rack is overloaded\n",
                demand / 1e3, n_cap, o.npull ? " (less the pulled)" : "", cap / 1e3, o.r.v_set, kc->i_max,
                v_full, kc->r_droop, stn_module_cap(o.r.v_set));
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
    int started = 0, bus_up = 0;
    int64_t collapse_ns = -1, start_ns = -1;
    /* The station starts the rack once it has heard every module: the
     * first heartbeats of a large rack take tens of milliseconds of bus
     * time (about 100 us each), and a module not heard then is never
     * started. At --load-at (at most 0.5 s) it starts with those heard. */
    int64_t start_by = (int64_t)(fmin(o.load_at, 0.5) * 1e9);
    /* Ctrl-C, SIGTERM or a failed output stop the run at the end of a
     * quantum: the logs end on a whole line, the report covers what ran. */
    cli_catch_stop();
    int stop_sig = 0;
    char stop_why[600] = "";
    FILE *stop_f = NULL;
    unsigned pulls_left = o.npull, fault_errors = 0;
    long q;
    for (q = 0; q < quanta; q++) {
        if ((stop_sig = cli_stop_requested()) != 0)
            break;
        if (q % 100 == 0) {
            /* An output that fails a write stops the run; its first reason is kept. */
            if (cli_out_error(log, o.log, stop_why, sizeof stop_why))
                stop_f = log;
            else if (cli_out_error(slog, o.station_log, stop_why, sizeof stop_why))
                stop_f = slog;
            if (stop_f || rk_vcd_error(&g, o.rtl_vcd, stop_why, sizeof stop_why)) {
                fprintf(stderr, "ek3 %s: %s; the run stops at %.4f s\n", w, stop_why, g.t_ns * 1e-9);
                break;
            }
        }
        /* The station starts the rack once the modules' first heartbeats are in. */
        if (!started && g.t_ns >= 20000000 &&
            (stn_online(&g.stn, g.t_ns) >= o.r.modules || g.t_ns >= start_by)) {
            started = 1;
            start_ns = g.t_ns;
            if (stn_online(&g.stn, g.t_ns) < o.r.modules)
                fprintf(stderr, "ek3 rack: the station starts the rack at %.3f s with the %u of %u modules it has heard\n",
                        g.t_ns * 1e-9, stn_online(&g.stn, g.t_ns), o.r.modules);
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
        for (unsigned k = 0; pulls_left && k < g.o.modules; k++)
            if (o.pull_at[k] >= 0 && g.t_ns >= (int64_t)(o.pull_at[k] * 1e9) && g.plant.mod[k].present) {
                flt_spec pull;
                flt_spec_init(&pull, FLT_PULL, k + 1, 0);
                flt_inject(&g, &pull);
                o.pull_at[k] = g.t_ns * 1e-9; /* when it happened */
                pulls_left--;
            }
        for (unsigned j = 0; j < o.nfault; j++)
            if (o.fault[j].t >= 0 && g.t_ns >= (int64_t)(o.fault[j].t * 1e9)) {
                int frc = flt_inject(&g, &o.fault[j]);
                fault_errors += frc != 0;
                char text[300];
                if (frc && flt_format(&o.fault[j], text, sizeof text) == EK3_OK)
                    fprintf(stderr, "ek3 rack: --fault %s at %.4f s: %s\n", text, g.t_ns * 1e-9, ek3_strerror(frc));
                o.fault[j].t = -1; /* done */
            }
        rig_quantum(&g);
        if (g.plant.vbus >= 0.9 * o.r.v_set)
            bus_up = 1;
        else if (bus_up && collapse_ns < 0 && g.plant.vbus < 0.5 * o.r.v_set)
            collapse_ns = g.t_ns;
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
    long ran = q; /* quanta simulated: all of them, unless stopped */
    rig_bye(&g);
    int bad = 0;
    if (stop_f)
        fclose(stop_f); /* its error is told */
    bad |= stop_f != log && cli_close_out(w, log, o.log) != CLI_OK;
    log = NULL;
    g.o.log = NULL;
    g.stn.log = NULL;
    bad |= stop_f != slog && cli_close_out(w, slog, o.station_log) != CLI_OK;
    slog = NULL;
    if (o.rtl_vcd) {
        int e = rtlp_trace_close(g.plant.mod[0].prot);
        if (e && !(stop_why[0] && !stop_f)) {
            fprintf(stderr, "ek3 %s: %s: write error: %s\n", w, o.rtl_vcd, strerror(e));
            bad = 1;
        }
    }

    /* The report: to stdout and, with --report, to DIR/report.txt. */
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
    /* With the load on: every module tripped, or the bus under half its
     * set point once it was up or the soft start (ramp_vps) is over. */
    unsigned tripped = 0;
    for (unsigned k = 0; k < g.o.modules; k++)
        tripped += !strcmp(rk_state(&g, k), "FAULT");
    int load_on = g.t_ns >= (int64_t)(o.load_at * 1e9);
    int soft_done = start_ns >= 0 && g.t_ns >= start_ns + (int64_t)(1.1 * o.r.v_set / kc->ramp_vps * 1e9);
    int collapsed = load_on && started && present > 0 &&
                    (tripped == present || (g.plant.vbus < 0.5 * o.r.v_set && (bus_up || soft_done)));
    char collapse_at[40] = "";
    if (collapse_ns >= 0)
        snprintf(collapse_at, sizeof collapse_at, " at %.4f s", collapse_ns * 1e-9);
    for (int s = 0; s < 2; s++) {
        FILE *f = outs[s];
        if (!f)
            continue;
        fprintf(f, "EK3 rack: %u modules (%u in their slots, %u regulating), %s plant, seed %llu, %.3g s simulated\n",
                g.o.modules, present, running, o.r.fidelity == PMOD_AVERAGED ? "averaged" : "switching",
                (unsigned long long)o.r.seed, g.t_ns * 1e-9);
        if (collapsed)
            fprintf(f, "RACK COLLAPSED%s: the bus is at %.2f V (set point %.1f V) with the load on; %u of %u modules "
                       "tripped, %u still running%s\n",
                    collapse_at, g.plant.vbus, o.r.v_set, tripped, g.o.modules, running,
                    demand > cap ? " (the load asked more than the rack can deliver)" : "");
        const char *lk = o.r.load.kind == RACK_LOAD_CP ? "constant power" : o.r.load.kind == RACK_LOAD_R ? "resistor"
                                                                                                        : "EV battery";
        fprintf(f, "load: %s; set point %.1f V, droop %.2f V/A\n", lk, o.r.v_set, kc->r_droop);
        fprintf(f, "bus: %.2f V, load %.2f kW (%.2f A); modules deliver %.2f kW from %.2f kW in (%.2f %%)\n",
                g.plant.vbus, g.plant.p_load / 1e3, g.plant.i_load, ptot / 1e3, pin / 1e3,
                pin > 0 ? 100 * ptot / pin : 0);
        if (present)
            fprintf(f, "sharing: %.3f A mean, %.3f .. %.3f A (spread %.1f %% of mean); hottest junction %.1f C\n",
                    imean, imin, imax, imean > 0 ? 100 * (imax - imin) / imean : 0, tjmax);
        else
            fprintf(f, "sharing: no module in its slot\n");
        if (stop_sig || stop_why[0])
            fprintf(f, "INTERRUPTED after %.4f s of %.4g s (%s): this report covers the time that ran\n",
                    g.t_ns * 1e-9, quanta * RIG_PERIOD_NS * 1e-9,
                    stop_sig == SIGINT ? "SIGINT" : stop_sig == SIGTERM ? "SIGTERM" : stop_why);
        for (unsigned k = 0; k < g.o.modules; k++)
            if (o.pull_at[k] >= 0 && !g.plant.mod[k].present)
                fprintf(f, "module %u pulled at %.4g s\n", k + 1, o.pull_at[k]);
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
                ran, wall, g.t_ns * 1e-9 / wall, g.pool ? g.pool_threads : 1, g.pool && g.pool_threads > 1 ? "s" : "",
                init_s);
        if (o.realtime && ran > 0) {
            qsort(late, (size_t)ran, sizeof *late, rk_cmp); /* the quanta that ran */
            fprintf(f, "realtime (%s, %s): lateness min %.1f us, median %.1f us, p99 %.1f us, p99.9 %.1f us, "
                       "max %.1f us; %ld overruns\n",
                    fifo ? "SCHED_FIFO" : "SCHED_OTHER: no permission for FIFO", locked ? "memory locked" : "not locked",
                    late[0] / 1e3, late[ran / 2] / 1e3, late[ran * 99 / 100] / 1e3,
                    late[ran * 999 / 1000] / 1e3, late[ran - 1] / 1e3, overruns);
            o.realtime = 0; /* sorted once */
        }
    }
    if (o.report) {
        snprintf(path, sizeof path, "%s/report.txt", o.report);
        bad |= cli_close_out(w, rep, path) != CLI_OK;
        snprintf(path, sizeof path, "%s/trace.csv", o.report);
        FILE *c = fopen(path, "w");
        if (c) {
            fputs("t_s,v_bus_v,p_load_kw,i_min_a,i_mean_a,i_max_a\n", c);
            for (long i = 0; i < ti; i++)
                fprintf(c, "%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", tr[i * 6], tr[i * 6 + 1], tr[i * 6 + 2], tr[i * 6 + 3],
                        tr[i * 6 + 4], tr[i * 6 + 5]);
            bad |= cli_close_out(w, c, path) != CLI_OK;
        } else {
            bad = 1;
            fprintf(stderr, "ek3 %s: %s: %s\n", w, path, strerror(errno));
        }
        double *t = malloc((size_t)ti * sizeof *t), *col[5];
        for (int k = 0; k < 5; k++)
            col[k] = malloc((size_t)ti * sizeof(double));
        double *bars = malloc(g.o.modules * sizeof *bars);
        if (ti == 0) {
            fprintf(stderr, "ek3 %s: stopped before the first trace point: no plots\n", w);
        } else if (t && col[0] && col[1] && col[2] && col[3] && col[4] && bars) {
            for (long i = 0; i < ti; i++) {
                t[i] = tr[i * 6];
                for (int k = 0; k < 5; k++)
                    col[k][i] = tr[i * 6 + 1 + k];
            }
            static const char *const ext[2] = {"png", "svg"};
            for (int e = 0; e < 2; e++) {
                splot_series vb = {"bus voltage", "blue", t, col[0], (size_t)ti};
                snprintf(path, sizeof path, "%s/bus_voltage.%s", o.report, ext[e]);
                errno = 0;
                bad |= rk_plot(w, path, splot_lines(path, "Rack DC bus", "time (s)", "V", &vb, 1));
                splot_series pl = {"load power", "darkgreen", t, col[1], (size_t)ti};
                snprintf(path, sizeof path, "%s/load_power.%s", o.report, ext[e]);
                errno = 0;
                bad |= rk_plot(w, path, splot_lines(path, "Load power", "time (s)", "kW", &pl, 1));
                splot_series cur[3] = {{"min", "red", t, col[2], (size_t)ti},
                                       {"mean", "black", t, col[3], (size_t)ti},
                                       {"max", "blue", t, col[4], (size_t)ti}};
                snprintf(path, sizeof path, "%s/module_current.%s", o.report, ext[e]);
                errno = 0;
                bad |= rk_plot(w, path, splot_lines(path, "Module output current: min, mean, max", "time (s)", "A",
                                                      cur, 3));
                for (unsigned k = 0; k < g.o.modules; k++)
                    bars[k] = g.plant.mod[k].io;
                snprintf(path, sizeof path, "%s/current_sharing.%s", o.report, ext[e]);
                errno = 0;
                bad |= rk_plot(w, path, splot_bars(path, "Current sharing at the end (droop)", "slot", "A", bars,
                                                   g.o.modules, imean));
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
    if (stop_why[0])
        return CLI_FAIL; /* the output that failed was named when it was closed */
    if (bad)
        return o.report ? cli_fail(w, "could not write all of the outputs (report in %s)", o.report) : CLI_FAIL;
    if (fault_errors)
        return cli_fail(w, "%u of the --fault could not be injected (named above)", fault_errors);
    return collapsed ? cli_fail(w, "the rack collapsed under its load (see the report)") : CLI_OK;
}
