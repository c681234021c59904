/* cmd_rack.c - `ek3 rack`: a rack of modules in one process, plant and
 * firmware in lockstep; rack totals, a per-module summary, timing, and a
 * report directory with traces and plots. The flags become a run session
 * (session.h) and its timeline; the report is scopes/report.h's. */
#define _GNU_SOURCE
#include <errno.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "candump.h"
#include "cli.h"
#include "fwsign.h"
#include "cmd.h"
#include "ek3_err.h"
#include "report.h"
#include "fault.h"
#include "fwinst.h"
#include "fwimg.h"
#include "fwroll.h"
#include "board.h"
#include "can_id.h"
#include "msg.h"
#include "ngt.h"
#include "rig.h"
#include "scope_cli.h"
#include "session.h"
#include "stnapi.h"
#include "swarm.h"
#include "trc.h"

typedef struct rack_opts {
    rig_opts r;
    double duration;
    int realtime;
    int64_t rt_spin_ns, rt_tol_ns;
    const char *log, *report, *station_log, *rtl_vcd;
    double pull_at[510]; /* --pull: slot k + 1 leaves at this time; < 0: stays */
    const char *pull_arg[510]; /* its value as given ("3@25h"), for its messages */
    unsigned npull;
    flt_spec fault[64];  /* --fault, in the order given */
    const char *fault_pull[64]; /* the --pull value a fault came from ("leader@1s"); NULL: a --fault */
    const char *fault_arg[64];  /* the value as given (--fault's or --pull's), for its messages */
    unsigned nfault;
    double load_at;      /* the load switches on at this time */
    double load_ramp;    /* and ramps to its value over this long */
    uint8_t ext[510];
    const char *ext_arg; /* --external as given */
    double hello_timeout;
    const char *api;     /* udp:HOST:PORT for the station's API, or NULL */
    const char *slot_set[64]; /* --slot-set SLOT:name=value, as given */
    unsigned nslot_set;
    scope_args scope;    /* --scope, --scope-shot, --scope-hold */
    plant_params slot_prm[510]; /* their slots' own parameters */
    const plant_params *slot_ptr[510];
    trc_opts trace;      /* --probe, --vcd, --trace-csv (scopes/trc.h) */
    const char *update;  /* --update IMAGE: the firmware update's image file, or NULL */
    double update_at;    /* --update-at: when it starts, s */
    unsigned update_wave; /* --update-wave: modules a wave after the canary */
} rack_opts;

#define RK_IMAGE_MAX (BRD_SLOT_SIZE + 1u) /* one more: a larger file is refused, not cut */

/* The --update image file into *buf (malloc'd), *n its size. CLI_OK, or
 * CLI_USAGE after a message naming the file and why. */
static int rk_read_image(const char *w, const char *path, uint8_t **buf, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cli_usage_error(w, "--update %s: %s", path, strerror(errno));
    uint8_t *b = malloc(RK_IMAGE_MAX);
    size_t got = b ? fread(b, 1, RK_IMAGE_MAX, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (!b)
        return cli_fail(w, "out of memory");
    if (err || got >= RK_IMAGE_MAX || got < FWIMG_HDR_SIZE + FWIMG_TRL_SIZE) {
        free(b);
        return cli_usage_error(w, "--update %s: %s", path,
                               err ? "a read error" : got >= RK_IMAGE_MAX ? "larger than a firmware slot (224 KiB)"
                                                                           : "shorter than an image's header and "
                                                                             "trailer: not an image (ek3 fwimg build)");
    }
    fwimg_hdr h;
    fwimg_why why = FWIMG_OK;
    if (fwimg_parse_hdr(b, got, NULL, &h, &why) != EK3_OK) {
        free(b);
        return cli_usage_error(w, "--update %s: not a firmware image: %s (ek3 fwimg inspect says more)", path,
                               fwimg_why_name(why));
    }
    *buf = b;
    *n = got;
    return CLI_OK;
}

/* The run's stop request (Ctrl-C, SIGTERM): the signal, or 0. */
static int rk_stop(void *ctx)
{
    (void)ctx;
    return cli_stop_requested();
}

/* A warning before the run: to stderr ("ek3 rack: warning: ...") and, with
 * --report, at the head of report.txt, so that the report says it too. */
static void rk_warn(FILE *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static unsigned rk_warned; /* warnings given before the run */

static void rk_warn(FILE *rep, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rk_warned++;
    if (rep) {
        va_list cp;
        va_copy(cp, ap);
        fputs("warning (before the run): ", rep);
        vfprintf(rep, fmt, cp); /* a write error shows at the report's close */
        va_end(cp);
    }
    fputs("ek3 rack: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

/* The notes before the run (a duration rounded to whole quanta, a ramp
 * the run's end cuts): to stderr ("ek3 rack: note: ...") once every flag
 * has been checked (rk_notes_say), so that a usage error is said alone,
 * and, with --report, at the head of report.txt when it opens
 * (rk_notes_out), as rk_warn's warnings. Each note one line; one that
 * does not fit the buffer goes to stderr at once (after those waiting)
 * and not to the report. */
static char rk_notes[4096];
static size_t rk_notes_len, rk_notes_said; /* rk_notes[0 .. said) are on stderr */

/* The buffered notes from `from` on, one line each after `lead`. */
static void rk_notes_put(FILE *f, const char *lead, const char *from)
{
    for (const char *p = from; *p;) {
        size_t l = strcspn(p, "\n");
        fprintf(f, "%s%.*s\n", lead, (int)l, p);
        p += l + (p[l] == '\n');
    }
}

/* The notes not yet on stderr, there now. */
static void rk_notes_say(const char *w)
{
    char lead[64];
    snprintf(lead, sizeof lead, "ek3 %s: note: ", w);
    rk_notes_put(stderr, lead, rk_notes + rk_notes_said);
    rk_notes_said = rk_notes_len;
}

static void rk_note(const char *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rk_note(const char *w, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    line[strcspn(line, "\n")] = 0; /* one line */
    size_t l = strlen(line);
    if (rk_notes_len + l + 2 <= sizeof rk_notes) {
        memcpy(rk_notes + rk_notes_len, line, l);
        rk_notes_len += l;
        rk_notes[rk_notes_len++] = '\n';
        rk_notes[rk_notes_len] = 0;
    } else {
        rk_notes_say(w);
        fprintf(stderr, "ek3 %s: note: %s\n", w, line);
    }
}

/* A note after the run: to stderr ("ek3 rack: note: ...") and, with --report,
 * to report.txt ("note (after the run): ..."); fmt ends its line. */
static void rk_note_after(const char *w, FILE *rep, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void rk_note_after(const char *w, FILE *rep, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (rep) {
        va_list cp;
        va_copy(cp, ap);
        fputs("note (after the run): ", rep);
        vfprintf(rep, fmt, cp);
        va_end(cp);
    }
    fprintf(stderr, "ek3 %s: note: ", w);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

/* The notes so far at the head of report.txt (a write error shows at its close). */
static void rk_notes_out(FILE *rep)
{
    rk_notes_put(rep, "note (before the run): ", rk_notes);
}

/* w watts in kW with `decimals` decimals, in MW from 1 MW on. */
static void rk_kw(char buf[32], int decimals, double w)
{
    int mw = fabs(w) >= 1e6;
    snprintf(buf, 32, "%.*f %s", decimals, w / (mw ? 1e6 : 1e3), mw ? "MW" : "kW");
}

/* The load's ask and what the rack gives, both in kW (MW from 1 MW on:
 * a load resistance far too low), with the fewest decimals (1 to 3)
 * that tell them apart: 2.900 against 2.884 kW, not 2.9 against 2.9. */
static void rk_kw_pair(double ask_w, double cap_w, char ask[32], char cap[32])
{
    for (int d = 1; d <= 3; d++) {
        rk_kw(ask, d, ask_w);
        rk_kw(cap, d, cap_w);
        if (strcmp(ask, cap))
            return;
    }
}

/* When the load first asks cap_w (s): its ramp's point for a load that
 * ramps (at --load-at + --load-ramp when it asks cap_w or more only at
 * its full demand_w), --load-at for a battery or no demand. */
static double rk_asks_from(const rack_opts *o, double cap_w, double demand_w)
{
    return o->r.load.kind == RACK_LOAD_BATTERY || !(demand_w > 0)
               ? o->load_at
               : o->load_at + o->load_ramp * fmin(1.0, cap_w / demand_w);
}

/* Why the value v of a quantity flag in unit (noun: "a voltage") is
 * refused, after the range the message gives: ": 1000 V is outside it"
 * (read), else ": not a voltage" with what explains it: a case slip
 * (cli_quantity_hint), a number past a double (cli_range_why), no
 * finite number, another unit. Returns why (cap bytes). */
static const char *rk_qty_why(const char *v, const char *unit, const char *noun, char *why, size_t cap)
{
    char hint[96], *end;
    double x, n = strtod(v, &end);
    const char *huge = cli_range_why(v, unit);
    if (cli_parse_quantity(v, unit, &x) == EK3_OK)
        snprintf(why, cap, ": %.10g %s is outside it", x, unit);
    else if (!v[strspn(v, " \t")])
        snprintf(why, cap, ": empty");
    else if (isspace((unsigned char)v[0]) || (end != v && *end && !end[strspn(end, " \t")]))
        snprintf(why, cap, ": a space before or after the number");
    else if (end == v)
        snprintf(why, cap, ": not %s", noun);
    else if (huge)
        snprintf(why, cap, ": not %s: %s", noun, huge);
    else if (*cli_quantity_hint(v, unit, hint, sizeof hint))
        snprintf(why, cap, ": not %s: %s", noun, hint);
    else if (!isfinite(n))
        snprintf(why, cap, ": not %s: not a finite number", noun);
    else
        snprintf(why, cap, ": not %s: '%.20s' is not %s", noun, end + (*end == ' '), unit);
    return why;
}

/* A time for a warning: one on the 100 us grid (when a pull or an insert
 * acts) as it is (1.2346), another (a ramp's crossing) to 4 digits. */
static const char *rk_t(double t, char buf[32])
{
    double q = t / (RIG_PERIOD_NS * 1e-9);
    snprintf(buf, 32, fabs(q - floor(q + 0.5)) < 1e-6 ? "%.10g" : "%.4g", t);
    return buf;
}

/* The windows in which the load asks more than the rack can deliver
 * (ses_capacity_steps, each step against the load as it ramps), in time
 * order, the last ending at the run's end when the rack is short there. */
#define RK_OVERS 32u
typedef struct rk_overs {
    double end_s; /* the run's end */
    unsigned n;
    struct {
        double from, to, cap_w; /* s, s, W */
        unsigned n;             /* modules */
    } w[RK_OVERS];
} rk_overs;

static void rk_overs_of(const ses *s, const rack_opts *o, double demand, double end_s, rk_overs *ov)
{
    ses_cap_step st[2 * RK_OVERS];
    unsigned ns = ses_capacity_steps(s, st, 2 * RK_OVERS);
    ns = ns < 2 * RK_OVERS ? ns : 2 * RK_OVERS; /* the first of a longer timeline */
    ov->n = 0;
    ov->end_s = end_s;
    for (unsigned i = 0; i < ns && ov->n < RK_OVERS; i++) {
        double t1 = i + 1 < ns && st[i + 1].t_s < end_s ? st[i + 1].t_s : end_s;
        double from = fmax(st[i].t_s, rk_asks_from(o, st[i].cap_w, demand));
        if (demand > st[i].cap_w && from < t1 - 1e-12) {
            ov->w[ov->n].from = from, ov->w[ov->n].to = t1;
            ov->w[ov->n].cap_w = st[i].cap_w, ov->w[ov->n].n = st[i].n;
            ov->n++;
        }
    }
}

/* " until T s" for window i of ov, or "" for one that runs to the run's end. */
static const char *rk_until(const rk_overs *ov, unsigned i, char buf[48])
{
    char t[32];
    buf[0] = 0;
    if (ov->w[i].to < ov->end_s - 1e-12)
        snprintf(buf, 48, " until %s s", rk_t(ov->w[i].to, t));
    return buf;
}

/* The windows i0.. of ov as the warning lists them after its first
 * sentence ("; from F s until T s N deliver, at most K kW"): those from
 * k0 on run into the run's end and are named unless n_end modules, the
 * first sentence's, deliver in them ("only N" when fewer); those that
 * end by x (s), the first sentence's time, come before it ("before that,
 * from ..."). */
static void rk_over_list(const rk_overs *ov, unsigned i0, unsigned k0, unsigned n_end, double x, double demand,
                         char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = 0;
    int before = 0; /* "before that" said: the windows before x follow it in time order */
    for (unsigned i = i0; i < ov->n && at < cap; i++) {
        if (i >= k0 && ov->w[i].n == n_end) /* the first sentence's */
            continue;
        char a[32], b[48], ask_kw[32], cap_kw[32];
        rk_kw_pair(demand, ov->w[i].cap_w, ask_kw, cap_kw);
        int first_before = ov->w[i].to <= x + 1e-12 && !before;
        before |= first_before;
        int k = snprintf(buf + at, cap - at, "; %sfrom %s s%s %s%u deliver%s, at most %s",
                         first_before ? "before that, " : "", rk_t(ov->w[i].from, a), rk_until(ov, i, b),
                         i >= k0 && ov->w[i].n < n_end ? "only " : "", ov->w[i].n, ov->w[i].n == 1 ? "s" : "", cap_kw);
        at += k > 0 ? (size_t)k : 0;
    }
}

/* How much of its ramp the load reaches by the run's end: 1, or less
 * for a ramp the end cuts (a battery takes no ramp). */
static double rk_ramp_reach(const rack_opts *o)
{
    if (o->r.load.kind == RACK_LOAD_BATTERY || !(o->load_ramp > 0) || o->load_at + o->load_ramp <= o->duration + 1e-12)
        return 1;
    return (o->duration - o->load_at) / o->load_ramp;
}

/* The run on the live scope's worker thread. */
static int rk_run(void *s)
{
    return ses_run(s);
}

/* Close the outputs opened for a run that will not run (its error is told). */
static void rk_close_all(FILE *log, FILE *slog, FILE *rep)
{
    FILE *f[3] = {log, slog, rep};
    for (int i = 0; i < 3; i++)
        if (f[i])
            fclose(f[i]);
}

static int rk_usage(void)
{
    puts("usage: ek3 rack [--modules 84] [--load 2.38kW x modules | --load-ohm R | --battery]\n"
         "                [--vset 750] [--droop 5] [--duration 2s] [--fidelity averaged|switching]\n"
         "                [--seed 1] [--load-at 0.5s] [--load-ramp 0.5s] [--pull SLOT@TIME] [--no-swarm]\n"
         "                [--realtime [--rt-spin 100us] [--rt-tolerance 10us]]\n"
         "                [--fault NAME:TARGET@TIME[:P=V,...]]...\n"
         "                [--log FILE [--log-start EPOCH]] [--station-log FILE] [--rtl-vcd FILE]\n"
         "                [--api udp:HOST:PORT [--api-key KEY]]\n"
         "                [--report DIR] [--threads N] [--external all|2,5,7 [--fw-bus udp:HOST:BASE]\n"
         "                [--ext-timeout 200ms] [--hello-timeout 10s]]\n"
         "                [--set name=value]... [--slot-set SLOT:name=value]...\n"
         "                [--scope [--scope-shot FILE@TIME] [--scope-hold] [--scope-select SLOTS]\n"
         "                 [--scope-fps 60] [--scope-keys KEYS]]\n"
         "                [--probe PATHS [--vcd FILE [--vcd-flavour full|sigrok]] [--trace-csv FILE]\n"
         "                 [--probe-every 100us] [--from T0] [--to T1]] (one --probe; a --vcd, a CSV or both)\n"
         "                [--update IMAGE [--update-at 0s] [--update-wave 4]] [--trust-key PUB.pem]\n\n"
         "Run a rack in one process: the plant (one module per slot, tolerances drawn from\n"
         "the seed) and one firmware instance per module (JEZGRO, its services,\n"
         "LLC_CONTROL with droop), joined by the HIL channel and the rack's CAN-FD bus, in\n"
         "lockstep quanta of one control period (100 us; --duration is run in whole\n"
         "quanta). Times take a unit: 2s, 150ms, 100us, 5min, 1h (a bare number is\n"
         "seconds). Prints rack totals, a per-module summary and timing. The station\n"
         "starts the modules (authenticated POWER_CMD) at 20 ms once it has heard every\n"
         "one, else, with those it has heard, once it has heard no new one for 30 ms, at\n"
         "0.5 s (or --load-at, if sooner, but not before 20 ms) at the latest (one heard\n"
         "later is started then); the load switches on at --load-at (with every module\n"
         "heard, the bus is up by 0.45 s), and ramps to its value over --load-ramp\n"
         "(without --load, --load-ohm or --battery: a constant 2.38 kW a module, 200 kW on\n"
         "84). --pull takes a module out of its slot while running (N-1; give it again for\n"
         "N-2 and more): the fault pull:SLOT@TIME (SLOT a number, or leader: the module\n"
         "leading then: refused before 0.6 s, the first election's timeout; the first\n"
         "leader is elected at about 0.63 s). --fault injects any\n"
         "fault of the rig's table (`ek3 faults` lists them, with targets and parameters)\n"
         "at its time.\n"
         "--realtime paces quanta to the wall clock and reports lateness (SCHED_FIFO where\n"
         "allowed; it spins on the clock for the last --rt-spin of each quantum, by\n"
         "default all of it: a 100 us quantum is shorter than a VM's wake-up latency; 0\n"
         "sleeps only). A quantum counts as late when the next one starts more than\n"
         "--rt-tolerance (10 us; 1 to 100 us) past its time; an overrun (its work ending\n"
         "past the deadline) longer than that is late too. The modules elect a SWARM_COORD\n"
         "leader (Raft over the rack bus) that balances their currents and parks the ones\n"
         "a light load does not need (docs/swarm.md); --no-swarm runs droop alone. Ctrl-C\n"
         "or SIGTERM stops the run at the end of a quantum: logs end on a whole line and\n"
         "the report covers what ran, marked INTERRUPTED (exit 130 after SIGINT, 143 after\n"
         "SIGTERM). Exit: 0 the run finished; 1 it failed (the rack collapsed, or ended\n"
         "out of its droop band: RACK SAGGING, RACK OVERLOADED; a --fault could not go\n"
         "in, an output could not be written: stderr says which); 2 a bad\n"
         "flag or value. A trip or a fault the rack rides through is a result, not a\n"
         "failure: exit 0 (a verdict on it is `ek3 scenario run`'s).\n"
         "The timing line: quanta run, the wall-clock time they took and its ratio to the\n"
         "simulated time (\"x real time\": above 1, faster than the hardware), the threads\n"
         "and how many modules each ended with (the ranges follow each CPU's measured\n"
         "speed, so they can differ between identical runs with the same results), and\n"
         "the set-up (building the plant and booting the firmware) before the first\n"
         "quantum.\n"
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
         "--threads spreads the modules over N threads; the run is the same, bit\n"
         "for bit, whatever N (a --log run uses one, and refuses --threads).\n"
         "Without it: every CPU it may use (nproc), at most one thread per 10\n"
         "modules but 2 at least (8 for 84: more ran no faster), and the main\n"
         "thread alone for as long as that is faster (tried now and then: on a\n"
         "busy machine a worker that loses its CPU holds every quantum); the\n"
         "timing line gives the share of quanta that ran on the main thread\n"
         "alone for that reason.\n"
         "--external runs those modules' firmware in `ek3 fw` processes: the plant\n"
         "listens on BASE + slot, waits for each one's HELLO, then drives them one\n"
         "quantum at a time; a module that misses three quanta is reported lost and\n"
         "the rack runs on without it.\n"
         "--set sets a plant parameter of every module (`ek3 plant params` lists them);\n"
         "--slot-set 7:t_amb=45 one module's own, over the rack's (a board of another\n"
         "build, an aged part).\n"
         "--probe names signals by path (`ek3 scenario signals`; comma-separated, one\n"
         "range each: module[1-84].iout, module[*].state) that --vcd writes as a VCD\n"
         "(GTKWave; --vcd-flavour sigrok: 1-bit wires only, for sigrok-cli) and\n"
         "--trace-csv as a CSV, streamed every quantum (--probe-every) within\n"
         "[--from, --to]; docs/scopes.md, Traces.\n"
         "--update streams IMAGE (`ek3 fwimg build`, signed with the development key)\n"
         "to every module over FW_UPDATE frames in idle bus time from --update-at on,\n"
         "then reboots them into it in waves: one canary, then up to --update-wave at\n"
         "a time as the rack's spare capacity allows; each must confirm (docs/update.md).\n"
         "The report lists each module's version before and after and every refusal.\n"
         "--trust-key puts a second public key (`ek3 fwimg keygen`'s PUB.pem, e.g. a\n"
         "release key) into every module's key ring beside the development key that\n"
         "signed the factory image: images signed with either are taken.");
    puts(scope_usage);
    return CLI_OK;
}

/* rep_folded's body: where --report wrote, and what. */
typedef struct rk_said {
    const char *dir; /* --report */
    int plots;       /* rep_plots drew them (a record to draw) */
} rk_said;

static int rk_report_said(FILE *out, void *ctx)
{
    const rk_said *r = ctx;
    if (r->plots)
        fprintf(out,
                "report: %s/report.txt, trace.csv, bus_voltage, load_power, module_current, current_sharing "
                "(.png, .svg)\n",
                r->dir);
    else
        fprintf(out, "report: %s/report.txt, trace.csv (no plots: the run stopped before its first quantum)\n", r->dir);
    return 0;
}

/* Fault j of the options as the user gave it, for a message and the
 * notes: "--pull leader@1s" (from --pull) or "--fault TEXT" (flt_format).
 * Returns buf. */
static const char *rk_fault_as(const rack_opts *o, unsigned j, char *buf, size_t cap)
{
    char text[200];
    if (o->fault_pull[j])
        snprintf(buf, cap, "--pull %s", o->fault_pull[j]);
    else
        snprintf(buf, cap, "--fault %s", flt_format(&o->fault[j], text, sizeof text) == EK3_OK ? text : "?");
    return buf;
}

/* Slot k + 1's --pull as the user typed it ("--pull 3@25h"). */
static const char *rk_pull_as(const rack_opts *o, unsigned k, char *buf, size_t cap)
{
    if (o->pull_arg[k])
        snprintf(buf, cap, "--pull %.40s", o->pull_arg[k]);
    else
        snprintf(buf, cap, "--pull %u@%.10gs", k + 1, o->pull_at[k]);
    return buf;
}

/* Fault j as the user typed it ("--fault igf:3@1000ms"), rk_fault_as's
 * form when that is not kept. */
static const char *rk_fault_typed(const rack_opts *o, unsigned j, char *buf, size_t cap)
{
    if (!o->fault_arg[j])
        return rk_fault_as(o, j, buf, cap);
    snprintf(buf, cap, "%s %s", o->fault_pull[j] ? "--pull" : "--fault", o->fault_arg[j]);
    return buf;
}

/* The usage error for fault j's err (flt_parse's, flt_check's) under
 * the flag and value it was given as: "--fault 'gate-off:2@1s:x=1': no
 * parameter 'x' (it takes none)", the fault's own name before err's
 * reason left out as the value names it; err that quotes the value
 * already ("fault '...': ...") is given as it is. */
static int rk_fault_error(const char *w, const rack_opts *o, unsigned j, const char *err)
{
    const char *flag = o->fault_pull[j] ? "--pull" : "--fault", *v = o->fault_arg[j] ? o->fault_arg[j] : "";
    if (!strncmp(err, "fault '", 7) || (*v && strstr(err, v)))
        return cli_usage_error(w, "%s: %s", flag, err);
    const char *name = o->fault[j].id < flt_count ? flt_table[o->fault[j].id].name : "", *rest = err;
    size_t l = strlen(name);
    if (l && !strncmp(err, name, l) && err[l] == ':' && err[l + 1] == ' ')
        rest = err + l + 2;
    return cli_usage_error(w, "%s '%s': %s", flag, v, rest);
}

/* The note for an event (as: how the user gave it) at t s between two
 * quanta: it acts at the start of the next (rig.h: RIG_PERIOD_NS), which
 * the note names; the report says when it went in. */
static void rk_off_grid(const char *w, const char *as, double t)
{
    int64_t at = ses_act_ns(t);
    if (at - t * 1e9 > 0.5)
        rk_note(w, "%s: between two control periods: it acts at the start of the next, at %.4f s (they are %g us)", as,
                at * 1e-9, RIG_PERIOD_NS * 1e-3);
}

/* The usage error for an event (as: how the user gave it) at t s that
 * would act at or after the end of a run of duration s: past it, or
 * in its last quantum, as an event acts at the start of the quantum at
 * or after its time (rig.h: RIG_PERIOD_NS), here the run's end. */
static int rk_end_error(const char *w, const char *as, double t, double duration)
{
    if (t >= duration)
        return cli_usage_error(w, "%s: at or after the end of the run (--duration %g s)", as, duration);
    return cli_usage_error(w,
                           "%s: in the run's last quantum, from %.10g s (--duration %g s): an event acts at the "
                           "start of the %d us quantum at or after its time, here the run's end",
                           as, floor(t * 1e9 / RIG_PERIOD_NS) * RIG_PERIOD_NS * 1e-9, duration,
                           (int)(RIG_PERIOD_NS / 1000));
}

/* One pull or insert of rk_check_slots: when, which slot (0: the
 * leader's), what, and how the user asked for it. */
typedef struct rk_slot_ev {
    double t;
    unsigned slot, order;
    int insert; /* 1 an insert, 0 a pull, -1 a fault of the module in the slot (flt_of_module) */
    char as[80];
} rk_slot_ev;

static int rk_slot_ev_cmp(const void *pa, const void *pb)
{
    const rk_slot_ev *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order; /* as the session takes them: --pull first */
}

/* Whether slot's module is pulled or put in (--pull, --fault pull:,
 * --fault insert:) from t0 to t1 s: a module put back is on the bus
 * again, its old cut gone with it (flt_slot). */
static int rk_slot_moved(const rack_opts *o, unsigned slot, double t0, double t1)
{
    if (slot >= 1 && slot <= o->r.modules && slot <= 510 && o->pull_at[slot - 1] >= t0 && o->pull_at[slot - 1] <= t1)
        return 1;
    for (unsigned i = 0; i < o->nfault; i++) {
        const flt_spec *f = &o->fault[i];
        if ((f->id == FLT_PULL || f->id == FLT_INSERT) && !f->leader && f->target == slot && f->t >= t0 && f->t <= t1)
            return 1;
    }
    return 0;
}

/* Whether --fault j acts after --fault i: at a later time, or at the
 * same time and given after it (the session takes them in that order). */
static int rk_after(const rack_opts *o, unsigned j, unsigned i)
{
    return i != j && (o->fault[j].t > o->fault[i].t || (o->fault[j].t == o->fault[i].t && j > i));
}

/* rk_check_slots: every --pull and --fault pull:/insert: of a slot
 * against the slot as the earlier ones leave it; a leader fault against
 * the first time a leader can be elected (SWM_ELECTION_MIN_MS). 0, or
 * cli_usage_error's code with the flag as given and the reason. */
static int rk_check_slots(const char *w, const rack_opts *o)
{
    static rk_slot_ev ev[510 + 64];
    unsigned n = 0;
    for (unsigned k = 0; k < o->r.modules && k < 510; k++)
        if (o->pull_at[k] >= 0) {
            ev[n] = (rk_slot_ev){.t = o->pull_at[k], .slot = k + 1, .order = n};
            rk_pull_as(o, k, ev[n].as, sizeof ev[0].as);
            n++;
        }
    for (unsigned j = 0; j < o->nfault; j++) {
        const flt_spec *f = &o->fault[j];
        char as[240];
        if (f->id == FLT_INSERT && f->leader)
            return cli_usage_error(w,
                                   "%s: the leader is a module in its slot: an insert takes an empty slot, by its "
                                   "number",
                                   rk_fault_as(o, j, as, sizeof as));
        for (unsigned i = 0; i < j; i++) { /* the same fault again, acting in the same control period */
            const flt_spec *g = &o->fault[i];
            char was[240];
            if (g->id == f->id && g->target == f->target && g->svc == f->svc && g->leader == f->leader &&
                ses_act_ns(g->t) == ses_act_ns(f->t) && !memcmp(g->p, f->p, sizeof f->p))
                return cli_usage_error(w, "%s: given twice (%s %s %s already)", rk_fault_typed(o, j, as, sizeof as),
                                       rk_fault_typed(o, i, was, sizeof was),
                                       f->id == FLT_PULL ? "pulls the leader" : "injects it",
                                       g->t == f->t ? "at that time" : "in the same control period");
        }
        if (f->leader && f->t < SWM_ELECTION_MIN_MS * 1e-3)
            return cli_usage_error(w,
                                   "%s: no module leads before %g s, the swarm's first election timeout "
                                   "(SWM_ELECTION_MIN_MS): the rack has no leader then (its first is elected at "
                                   "about 0.6-0.7 s; the report's swarm line says when)",
                                   rk_fault_as(o, j, as, sizeof as), SWM_ELECTION_MIN_MS * 1e-3);
        for (unsigned i = 0; f->id == FLT_BUS_CUT && !f->leader && i < o->nfault; i++) { /* ek3 rack clears none */
            const flt_spec *g = &o->fault[i];
            char was[240];
            if (g->id == FLT_BUS_CUT && !g->leader && g->target == f->target && rk_after(o, j, i) &&
                !rk_slot_moved(o, f->target, g->t, f->t))
                return cli_usage_error(
                    w, "%s: %s%u%s is cut off the rack bus then already (%s): a second cut does nothing",
                    rk_fault_as(o, j, as, sizeof as), f->target ? "slot " : "the station (node ", f->target,
                    f->target ? "" : ")", rk_fault_as(o, i, was, sizeof was));
        }
        for (unsigned i = 0; f->leader && i < o->nfault; i++) { /* a leader lost a moment before: none yet */
            const flt_spec *g = &o->fault[i];
            double gap = (SWM_ELECTION_MIN_MS - SWM_HEARTBEAT_MS) * 1e-3;
            char was[240];
            if (g->leader && (g->id == FLT_PULL || g->id == FLT_BUS_CUT) && rk_after(o, j, i) && f->t < g->t + gap)
                return cli_usage_error(w,
                                       "%s: %g s after %s took the rack's leader out: the others elect one no sooner "
                                       "than %g s after that (the swarm's election timeout SWM_ELECTION_MIN_MS, less "
                                       "a heartbeat): the rack has no leader then",
                                       rk_fault_as(o, j, as, sizeof as), f->t - g->t,
                                       rk_fault_as(o, i, was, sizeof was), gap);
        }
        /* a fault of the module, or of its node on the bus (the station's, node 0, excepted) */
        int of_module = flt_of_module((int)f->id) || (flt_table[f->id].target == FLT_T_NODE && f->target >= 1);
        if ((f->id != FLT_PULL && f->id != FLT_INSERT && !of_module) || (of_module && f->leader) ||
            (!f->leader && (f->target < 1 || f->target > o->r.modules)))
            continue;
        ev[n] = (rk_slot_ev){.t = f->t,
                             .slot = f->leader ? 0 : f->target,
                             .order = n,
                             .insert = f->id == FLT_INSERT ? 1
                                       : f->id == FLT_PULL ? 0
                                                           : -1};
        snprintf(ev[n].as, sizeof ev[0].as, "%.78s", rk_fault_as(o, j, as, sizeof as));
        n++;
    }
    qsort(ev, n, sizeof ev[0], rk_slot_ev_cmp);
    for (unsigned i = 0; i < n; i++) {
        if (!ev[i].slot)
            continue;
        /* the slot as the events before this one leave it: its last pull or insert, a leader's pull after it */
        int last = -1, maybe = 0;
        for (unsigned h = 0; h < i; h++) {
            if (ev[h].slot == ev[i].slot && ev[h].insert >= 0)
                last = (int)h, maybe = 0;
            else if (!ev[h].slot && !ev[h].insert)
                maybe = 1;
        }
        int in = last < 0 || ev[last].insert == 1;
        if (ev[i].insert < 0) {
            if (!in)
                return cli_usage_error(
                    w,
                    "%s: slot %u is empty then (%s took its module out, and nothing put one back "
                    "before %.10g s): a fault of the module, or of its node on the bus, needs one in the slot",
                    ev[i].as, ev[i].slot, ev[last].as, ev[i].t);
            continue;
        }
        if (ev[i].insert == 1 && in && !maybe) {
            if (last < 0)
                return cli_usage_error(w,
                                       "%s: slot %u holds a module then (pull it first: no --pull of it before "
                                       "%g s)",
                                       ev[i].as, ev[i].slot, ev[i].t);
            return cli_usage_error(w, "%s: slot %u holds a module then (%s put one back)", ev[i].as, ev[i].slot,
                                   ev[last].as);
        }
        if (ev[i].insert == 0 && !in && ev[last].insert == 0 && ses_act_ns(ev[last].t) == ses_act_ns(ev[i].t))
            return cli_usage_error(w, "%s: given twice (%s pulls slot %u %s already)", ev[i].as, ev[last].as,
                                   ev[i].slot, ev[last].t == ev[i].t ? "at that time" : "in the same control period");
        if (ev[i].insert == 0 && !in)
            return cli_usage_error(w,
                                   "%s: slot %u is empty then (%s took its module out, and nothing put one back "
                                   "before %.10g s)",
                                   ev[i].as, ev[i].slot, ev[last].as, ev[i].t);
    }
    return 0;
}

int cmd_rack(int argc, char **argv)
{
    rk_notes_len = rk_notes_said = 0, rk_notes[0] = 0, rk_warned = 0;
    const char *w = "rack";
    static rack_opts o; /* large: the slots' own parameters */
    memset(&o, 0, sizeof o);
    o.r.modules = 84;
    o.r.fidelity = PMOD_AVERAGED;
    o.r.seed = 1;
    o.r.v_set = 750;
    o.r.load.kind = RACK_LOAD_CP;
    o.r.load.p_w = RACK_DEFAULT_LOAD_W;
    o.r.load.v_min = 100;
    o.duration = SES_RUN_S;
    for (unsigned k = 0; k < 510; k++)
        o.pull_at[k] = -1;
    o.load_at = SES_LOAD_AT_S;
    o.load_ramp = SES_LOAD_RAMP_S;
    o.r.ext_timeout_ms = 200;
    o.r.via_station = 1;
    o.hello_timeout = 10;
    strcpy(o.r.fw_bus, "udp:127.0.0.1:47000");
    o.r.log_t0_ns = -1; /* --log-start, or the wall clock at the start */
    long ncpu = rig_cpus();
    o.r.threads = (unsigned)ncpu;
    prm_defaults(&o.r.plant);
    const char *miss = NULL; /* an option given without its value */
    static const char *const many[] = {"--set", "--slot-set", "--pull", "--fault", NULL}; /* each adds one */
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        int tk;
        if (cli_is_help(a))
            return rk_usage();
        if (cli_once(w, &seen, a, many))
            return CLI_USAGE;
        int sr = scope_arg(w, argc, argv, &i, &o.scope);
        if (sr == SCOPE_BAD)
            return CLI_USAGE;
        if (sr)
            continue;
        if (!strcmp(a, "--modules") && cli_has_value(a, v, &miss)) {
            int64_t n;
            if (cli_parse_i64(v, 1, 510, &n))
                return cli_usage_error(w, "--modules '%s': a whole number, 1 to 510", v);
            o.r.modules = (unsigned)n;
        } else if (!strcmp(a, "--load") && cli_has_value(a, v, &miss)) {
            char hint[96], *u;
            double typed = strtod(v, &u);
            if (cli_parse_quantity(v, "W", &x) || !isfinite(x)) {
                if (*cli_quantity_hint(v, "W", hint, sizeof hint))
                    return cli_usage_error(w, "--load '%s': a power such as 200kW: %s", v, hint);
                if (u != v && isfinite(typed) && *u) /* 20kV: a number with another unit */
                    return cli_usage_error(w, "--load '%s': '%s' is not a unit of power: a power such as 200kW "
                                           "(W, kW, MW)", v, u + (*u == ' '));
                return cli_usage_error(w, "--load '%s': a power such as 200kW", v);
            }
            char top[32];
            cli_si(top, sizeof top, RACK_LOAD_MAX_W, "W");
            if (x < 0)
                return cli_usage_error(w, "--load '%s': the power a load draws, 0 W to %s: %s is negative", v, top,
                                       cli_si(hint, sizeof hint, x, "W"));
            if (x > RACK_LOAD_MAX_W)
                return cli_usage_error(w, "--load '%s': the power a load draws, 0 W to %s: %s is above it", v, top,
                                       cli_si(hint, sizeof hint, x, "W"));
            o.r.load = (rack_load){.kind = RACK_LOAD_CP, .p_w = x, .v_min = 100};
            if (!*u && x > 0 && x < 1000) /* a bare number is watts: "--load 12" is 12 W, not 12 kW */
                rk_note(w, "--load %s is %g W (a unit says which: %gkW)", v, x, x);
        } else if (!strcmp(a, "--load-ohm") && cli_has_value(a, v, &miss)) {
            char why[160];
            if (cli_parse_quantity(v, "ohm", &x) || !(x >= RACK_LOAD_R_MIN && x <= RACK_LOAD_R_MAX))
                return cli_usage_error(w,
                                       "--load-ohm '%s': a resistance, %g mohm to %g Gohm (28, 28ohm, 2.5kOhm; a "
                                       "short of the bus is the fault short:rack)%s",
                                       v, RACK_LOAD_R_MIN * 1e3, RACK_LOAD_R_MAX * 1e-9,
                                       rk_qty_why(v, "ohm", "a resistance", why, sizeof why));
            o.r.load = (rack_load){.kind = RACK_LOAD_R, .r = x};
            i++;
            continue;
        } else if (!strcmp(a, "--battery")) {
            o.r.load = (rack_load){.kind = RACK_LOAD_BATTERY, .q_ah = 250, .soc = 0.2, .r_int = 0.05,
                                   .ocv_empty = 620, .ocv_full = 800};
            continue;
        } else if (!strcmp(a, "--vset") && cli_has_value(a, v, &miss)) {
            char why[160];
            if (cli_parse_quantity(v, "V", &x) || !(x >= 200 && x <= 920))
                return cli_usage_error(w, "--vset '%s': 200 to 920 V (the module's range)%s", v,
                                       rk_qty_why(v, "V", "a voltage", why, sizeof why));
            o.r.v_set = (float)x;
        } else if (!strcmp(a, "--droop") && cli_has_value(a, v, &miss)) {
            char why[160];
            if (cli_parse_quantity(v, "V/A", &x) || !(x > 0 && x <= 100))
                return cli_usage_error(w, "--droop '%s': V/A, above 0 and up to 100%s", v,
                                       rk_qty_why(v, "V/A", "a droop", why, sizeof why));
            o.r.r_droop = (float)x;
        } else if (!strcmp(a, "--duration") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "s", &o.duration) ||
                !(o.duration >= RIG_PERIOD_NS * (1e-9 - 1e-18) && o.duration <= 86400))
                return cli_time_error(w, "--duration", v, "from one control period (100us) up to a day", 86400);
        } else if (!strcmp(a, "--fidelity") && cli_has_value(a, v, &miss)) {
            if (!strcmp(v, "averaged"))
                o.r.fidelity = PMOD_AVERAGED;
            else if (!strcmp(v, "switching"))
                o.r.fidelity = PMOD_SWITCHING;
            else
                return cli_usage_error(w, "--fidelity '%s': averaged or switching", v);
        } else if (!strcmp(a, "--seed") && cli_has_value(a, v, &miss)) {
            uint64_t s;
            if (cli_parse_seed(v, &s))
                return cli_usage_error(w, "--seed '%s': " CLI_SEED_RANGE, v);
            o.r.seed = s;
        } else if (!strcmp(a, "--pull") && cli_has_value(a, v, &miss)) {
            /* Each --pull adds one: 42@1s --pull 43@1.5s is an N-2 test. */
            const char *at = strchr(v, '@');
            char slot[16], err[256];
            int64_t n = 0;
            double t;
            if (!at)
                return cli_usage_error(w, "--pull '%s': SLOT@TIME, e.g. 42@1s (no '@TIME')", v);
            if (!at[1])
                return cli_usage_error(w, "--pull '%s': SLOT@TIME, e.g. 42@1s (no time after '@')", v);
            if (strchr(at + 1, '@'))
                return cli_usage_error(w, "--pull '%s': one SLOT@TIME a --pull, e.g. --pull 42@1s --pull 43@1.5s", v);
            int leader = at - v == 6 && !strncmp(v, "leader", 6); /* the fault pull:leader@TIME */
            size_t digits = strspn(v, "0123456789");
            if (!leader && (((size_t)(at - v) < sizeof slot &&
                             (memcpy(slot, v, (size_t)(at - v)), slot[at - v] = 0,
                              !cli_parse_i64(slot, INT64_MIN, INT64_MAX, &n)) &&
                             (n < 1 || n > 510)) ||
                            (digits == (size_t)(at - v) && digits >= sizeof slot))) /* too long for any number */
                return cli_usage_error(w,
                                       "--pull '%s': there is no slot %.*s: slots count from 1 to the rack's modules "
                                       "(--modules)",
                                       v, (int)(at - v), v);
            if (!leader && ((size_t)(at - v) >= sizeof slot || cli_parse_i64(slot, 1, 510, &n)))
                return cli_usage_error(w,
                                       "--pull '%s': the slot '%.*s' must be a whole number, 1 to the rack's "
                                       "modules (--modules), or leader%s",
                                       v, (int)(at - v), v,
                                       at - v == 6 && !strncasecmp(v, "leader", 6) ? " (in lower case)" : "");
            const char *colon = strchr(at + 1, ':');
            char tm[48] = "";
            if (colon && (size_t)(colon - at - 1) < sizeof tm)
                memcpy(tm, at + 1, (size_t)(colon - at - 1)), tm[colon - at - 1] = 0;
            if (colon && tm[0] && !cli_parse_quantity(tm, "s", &t)) /* a time, then more: "3@1s:x=1" */
                return cli_usage_error(w,
                                       "--pull '%s': nothing goes after the time ('%.20s'): a pull takes no "
                                       "parameters (SLOT@TIME, e.g. 42@1s)",
                                       v, colon);
            if (cli_parse_quantity(at + 1, "s", &t) || !(t >= 0)) {
                char flag[64];
                snprintf(flag, sizeof flag, "--pull '%.40s': the time", v);
                return cli_time_error(w, flag, at + 1, "from 0 up to a day", 86400);
            }
            if (leader) {
                char spec[64];
                snprintf(spec, sizeof spec, "pull:%.50s", v);
                if (o.nfault == sizeof o.fault / sizeof o.fault[0])
                    return cli_usage_error(w, "--pull '%s': at most %zu faults", v, sizeof o.fault / sizeof o.fault[0]);
                o.fault_pull[o.nfault] = o.fault_arg[o.nfault] = v;
                if (flt_parse(spec, &o.fault[o.nfault], err, sizeof err))
                    return rk_fault_error(w, &o, o.nfault, err);
                o.nfault++;
            } else if (o.pull_at[n - 1] >= 0) { /* again (after an insert): the fault pull, as leader's */
                char spec[64];
                snprintf(spec, sizeof spec, "pull:%lld@%.17gs", (long long)n, t);
                if (o.nfault == sizeof o.fault / sizeof o.fault[0])
                    return cli_usage_error(w, "--pull '%s': at most %zu faults", v, sizeof o.fault / sizeof o.fault[0]);
                o.fault_pull[o.nfault] = o.fault_arg[o.nfault] = v;
                if (flt_parse(spec, &o.fault[o.nfault], err, sizeof err))
                    return rk_fault_error(w, &o, o.nfault, err);
                o.nfault++;
            } else {
                o.pull_at[n - 1] = t;
                o.pull_arg[n - 1] = v;
            }
            o.npull++;
        } else if (!strcmp(a, "--fault") && cli_has_value(a, v, &miss)) {
            char err[256];
            if (o.nfault == sizeof o.fault / sizeof o.fault[0])
                return cli_usage_error(w, "--fault '%s': at most %zu faults", v, sizeof o.fault / sizeof o.fault[0]);
            o.fault_arg[o.nfault] = v;
            if (flt_parse(v, &o.fault[o.nfault], err, sizeof err))
                return rk_fault_error(w, &o, o.nfault, err);
            o.nfault++;
        } else if (!strcmp(a, "--load-ramp") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "s", &o.load_ramp) || !(o.load_ramp >= 0 && o.load_ramp <= 86400))
                return cli_time_error(w, "--load-ramp", v, "from 0 up to a day", 86400);
        } else if (!strcmp(a, "--update") && cli_has_value(a, v, &miss)) {
            o.update = v;
        } else if (!strcmp(a, "--trust-key") && cli_has_value(a, v, &miss)) {
            char why[300];
            if (fwsign_pub_load(v, o.r.trust_key, why, sizeof why))
                return cli_usage_error(w, "--trust-key %s", why); /* why names the file */
            if (why[0])
                fprintf(stderr, "ek3 %s: warning: --trust-key %s\n", w, why);
            o.r.have_trust_key = 1;
        } else if (!strcmp(a, "--update-at") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "s", &o.update_at) || !(o.update_at >= 0 && o.update_at <= 86400))
                return cli_time_error(w, "--update-at", v, "from 0 up to a day", 86400);
        } else if (!strcmp(a, "--update-wave") && cli_has_value(a, v, &miss)) {
            uint64_t n;
            if (cli_parse_u64(v, 510, &n) || n < 1)
                return cli_usage_error(w, "--update-wave '%s': 1 to 510 modules", v);
            o.update_wave = (unsigned)n;
        } else if (!strcmp(a, "--load-at") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "s", &o.load_at) || !(o.load_at >= 0 && o.load_at <= 86400))
                return cli_time_error(w, "--load-at", v, "from 0 up to a day", 86400);
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
                    if (o.ext[n - 1])
                        return cli_usage_error(w, "--external '%s': slot %lld is given twice", v, (long long)n);
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
                return cli_time_error(w, "--ext-timeout", v, "above 0 and up to a minute", 60);
            o.r.ext_timeout_ms = (int)(x * 1000 + 0.5);
        } else if (!strcmp(a, "--hello-timeout") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "s", &o.hello_timeout) || !(o.hello_timeout > 0 && o.hello_timeout <= 86400))
                return cli_time_error(w, "--hello-timeout", v, "above 0 and up to a day", 86400);
        } else if (!strcmp(a, "--threads") && cli_has_value(a, v, &miss)) {
            int64_t n;
            if (cli_parse_i64(v, 1, 256, &n))
                return cli_usage_error(w, "--threads '%s': a whole number, 1 to 256", v);
            o.r.threads = (unsigned)n;
        } else if (!strcmp(a, "--realtime")) {
            o.realtime = 1;
            continue;
        } else if (!strcmp(a, "--rt-spin") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "s", &x) || !(x == 0 || (x >= 1e-6 && x <= RIG_PERIOD_NS * 1e-9))) {
                char range[80];
                snprintf(range, sizeof range, "of 0 (sleep only) or from 1 us to the quantum, %d us",
                         (int)(RIG_PERIOD_NS / 1000));
                return cli_time_error(w, "--rt-spin", v, range, RIG_PERIOD_NS * 1e-9);
            }
            o.rt_spin_ns = x > 0 ? (int64_t)(x * 1e9 + 0.5) : -1;
        } else if (!strcmp(a, "--rt-tolerance") && cli_has_value(a, v, &miss)) {
            /* not under 1 us: a spin ends some 20 ns past its deadline, so "any lateness" is every quantum */
            if (cli_parse_quantity(v, "s", &x) || !(x >= 1e-6 && x <= RIG_PERIOD_NS * 1e-9)) {
                char range[64];
                snprintf(range, sizeof range, "from 1 us to the quantum, %d us", (int)(RIG_PERIOD_NS / 1000));
                return cli_time_error(w, "--rt-tolerance", v, range, RIG_PERIOD_NS * 1e-9);
            }
            o.rt_tol_ns = (int64_t)(x * 1e9 + 0.5);
        } else if (!strcmp(a, "--no-swarm")) {
            o.r.no_swarm = 1;
            continue;
        } else if ((!strcmp(a, "--log") || !strcmp(a, "--station-log") || !strcmp(a, "--rtl-vcd") ||
                    !strcmp(a, "--report")) &&
                   cli_has_value(a, v, &miss) && !v[0]) {
            return cli_empty_path(w, a, strcmp(a, "--report") ? "file" : "directory");
        } else if (!strcmp(a, "--log") && cli_has_value(a, v, &miss)) {
            o.log = v;
        } else if (!strcmp(a, "--log-start") && cli_has_value(a, v, &miss)) {
            /* a day of run (--duration's limit) after it still fits int64 ns */
            const int64_t t0_max = INT64_MAX - 86401000000000LL;
            if (cdl_parse_stamp(v, &o.r.log_t0_ns, NULL) || o.r.log_t0_ns > t0_max)
                return cli_usage_error(w,
                                       "--log-start '%s': seconds since the epoch, from 0 to %lld.%09lld (a day's "
                                       "run after it must fit 64-bit nanoseconds), up to 9 decimals, e.g. "
                                       "1700000000.000000",
                                       v, (long long)(t0_max / 1000000000), (long long)(t0_max % 1000000000));
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
            if (prm_set(&o.r.plant, v, err, sizeof err) || prm_check_board(&o.r.plant, err, sizeof err))
                return cli_usage_error(w, "--set %s: %s", v, err);
        } else if (!strcmp(a, "--slot-set") && cli_has_value(a, v, &miss)) {
            if (o.nslot_set == sizeof o.slot_set / sizeof o.slot_set[0])
                return cli_usage_error(w, "--slot-set: at most %zu", sizeof o.slot_set / sizeof o.slot_set[0]);
            o.slot_set[o.nslot_set++] = v; /* applied over every --set once --modules is known */
        } else if ((tk = trc_arg(w, a, v, &o.trace, &miss)) != 0) {
            if (tk != 1)
                return CLI_USAGE;
        } else {
            return cli_bad_arg(w, a, miss);
        }
        i++;
    }
    /* Options that exclude each other, or mean nothing without another. */
    static const char *const one_load =
        "a rack has one load: a constant power (--load), a resistor (--load-ohm) or a battery (--battery)";
    static const char *const ext_only =
        "it applies to the modules whose firmware runs in `ek3 fw` processes, which only --external makes";
    if (cli_exclusive(w, &seen, "--load", "--load-ohm", one_load) ||
        cli_exclusive(w, &seen, "--load", "--battery", one_load) ||
        cli_exclusive(w, &seen, "--load-ohm", "--battery", one_load) ||
        cli_needs(w, &seen, "--fw-bus", "--external", ext_only) ||
        cli_needs(w, &seen, "--hello-timeout", "--external", ext_only) ||
        cli_needs(w, &seen, "--ext-timeout", "--external", ext_only) ||
        cli_needs(w, &seen, "--log-start", "--log", "it stamps the lines of the candump log that --log writes") ||
        cli_needs(w, &seen, "--rt-spin", "--realtime", "it is how --realtime waits for each quantum's deadline") ||
        cli_needs(w, &seen, "--rt-tolerance", "--realtime",
                  "it is how late a --realtime quantum may start and not count as late") ||
        cli_needs(w, &seen, "--api-key", "--api", "it is the key of the station API that --api opens") ||
        cli_needs(w, &seen, "--update-at", "--update", "it is when the update that --update names starts") ||
        cli_needs(w, &seen, "--update-wave", "--update", "it sizes the waves of the update that --update names") ||
        cli_needs(w, &seen, "--trust-key", "--update",
                  "it is a key the modules take the image that --update names signed with") ||
        cli_exclusive(w, &seen, "--threads", "--log",
                      "a run with --log runs on one thread (its frames in the one order of the bus)") ||
        trc_args_check(w, &seen, &o.trace))
        return CLI_USAGE;
    if (!cli_given(&seen, "--load") && !cli_given(&seen, "--load-ohm") && !cli_given(&seen, "--battery"))
        o.r.load.p_w = RACK_DEFAULT_LOAD_W * o.r.modules / 84.0; /* 200 kW on 84 modules: 2.38 kW each */
    /* Options that name slots or times are checked against the rack and
     * the run, before anything is simulated. */
    long quanta = (long)ceil(o.duration / (RIG_PERIOD_NS * 1e-9) - 1e-9);
    if (fabs(quanta * (RIG_PERIOD_NS * 1e-9) - o.duration) > 1e-12) /* the rig steps whole quanta */
        rk_note(w, "--duration %.12g s is not a whole number of %g us control periods: the run is %ld of them (%g s)",
                o.duration, RIG_PERIOD_NS * 1e-3, quanta, quanta * (RIG_PERIOD_NS * 1e-9));
    if (quanta * RIG_PERIOD_NS <= SES_STATION_START_NS)
        rk_note(w, "the run ends at %g s, before the station starts the modules (%g ms): nothing will regulate",
                quanta * (RIG_PERIOD_NS * 1e-9), SES_STATION_START_NS * 1e-6);
    if (o.update && o.update_at >= o.duration)
        return cli_usage_error(w, "--update-at %g s: at or after the end of the run (--duration %g s)", o.update_at,
                               o.duration);
    /* --update: the image read and checked as the streamer takes it (the
     * modules leave the factory with 1.0.0: fwinst.h). */
    static fwr upd;
    uint8_t *upd_img = NULL;
    size_t upd_len = 0;
    if (o.update) {
        int urc = rk_read_image(w, o.update, &upd_img, &upd_len);
        if (urc)
            return urc;
    }
    /* The load's first quantum on: none when the run ends before it (refused for a given --load-at). */
    int load_on = o.load_at < o.duration && ses_act_ns(o.load_at) <= (int64_t)(quanta - 1) * RIG_PERIOD_NS;
    if (cli_given(&seen, "--load-at") && !load_on)
        return cli_usage_error(w, "--load-at %g s: at or after the end of the run (--duration %g s): the load would "
                                  "never switch on", o.load_at, o.duration);
    if (!load_on) /* the default --load-at */
        rk_note(w, "no load: the run ends at %g s, before --load-at (%g s)", quanta * (RIG_PERIOD_NS * 1e-9),
                o.load_at); /* the end of its whole quanta, as said above */
    /* given or the default: a ramp cut off by the run's end is said (a battery takes no ramp) */
    double part = rk_ramp_reach(&o);
    if (part < 1 && load_on) {
        char of[80] = "its value", a_kw[32], b_kw[32];
        if (o.r.load.kind == RACK_LOAD_CP) /* as given, or worked out (a rack's share of 200 kW): three digits */
            snprintf(of, sizeof of, "its %s (%s)",
                     cli_si_n(a_kw, sizeof a_kw, o.r.load.p_w, "W", cli_given(&seen, "--load") ? 6 : 3),
                     cli_si_n(b_kw, sizeof b_kw, part * o.r.load.p_w, "W", 3));
        rk_note(w, "--load-ramp %g s from %g s ends after the run (%g s): the load reaches %.0f %% of %s", o.load_ramp,
                o.load_at, o.duration, 100 * part, of);
    }
    if (o.scope.shot_given && o.scope.o.shot_t > o.duration)
        return cli_usage_error(w, "--scope-shot %s@%g s: after the end of the run (--duration %g s)", o.scope.shot,
                               o.scope.o.shot_t, o.duration);
    if (o.trace.from_s > o.duration)
        return cli_usage_error(w, "--from %g s: after the end of the run (--duration %g s): nothing would be traced",
                               o.trace.from_s, o.duration);
    for (unsigned k = 0; k < 510; k++) {
        char as[64];
        if (o.pull_at[k] >= 0 && k >= o.r.modules)
            return cli_usage_error(w, "%s: slot %u is not in a rack of %u", rk_pull_as(&o, k, as, sizeof as), k + 1,
                                   o.r.modules);
        if (o.pull_at[k] >= o.duration || ses_act_ns(o.pull_at[k]) > (int64_t)(quanta - 1) * RIG_PERIOD_NS)
            return rk_end_error(w, rk_pull_as(&o, k, as, sizeof as), o.pull_at[k], o.duration);
        if (o.r.external && o.ext[k] && k >= o.r.modules && strcmp(o.ext_arg, "all"))
            return cli_usage_error(w, "--external: slot %u is not in a rack of %u", k + 1, o.r.modules);
    }
    /* Each slot's pulls and inserts in time order: a pull needs a module
     * in its slot then, an insert an empty slot (a leader's pull may have
     * emptied any). Refused now, not after the whole run. A leader fault
     * before the swarm's first election timeout finds no leader. */
    int slots_rc = rk_check_slots(w, &o);
    if (slots_rc)
        return slots_rc;
    /* --slot-set K:name=value: slot K's own parameters, over the rack's (every --set) */
    for (unsigned j = 0; j < o.nslot_set; j++) {
        const char *v = o.slot_set[j], *colon = strchr(v, ':');
        char *end, err[200];
        unsigned long k = strtoul(v, &end, 10);
        if (!colon || end != colon || v[0] < '0' || v[0] > '9')
            return cli_usage_error(w, "--slot-set '%s': SLOT:name=value, e.g. 7:t_amb=45", v);
        if (k < 1 || k > o.r.modules)
            return cli_usage_error(w, "--slot-set %s: slot %lu is not in a rack of %u", v, k, o.r.modules);
        if (!o.slot_ptr[k - 1]) {
            o.slot_prm[k - 1] = o.r.plant;
            o.slot_ptr[k - 1] = &o.slot_prm[k - 1];
        }
        if (prm_set(&o.slot_prm[k - 1], colon + 1, err, sizeof err) ||
            prm_check_board(&o.slot_prm[k - 1], err, sizeof err))
            return cli_usage_error(w, "--slot-set %s: %s", v, err);
    }
    if (o.nslot_set)
        o.r.slot_plant = o.slot_ptr;
    for (unsigned j = 0; j < o.nfault; j++)
        if (ses_act_ns(o.fault[j].t) > (int64_t)(quanta - 1) * RIG_PERIOD_NS) {
            char as[240];
            return rk_end_error(w, rk_fault_as(&o, j, as, sizeof as), o.fault[j].t, o.duration);
        }
    for (unsigned k = 0; k < o.r.modules; k++)
        if (o.pull_at[k] >= 0) {
            char as[64];
            rk_off_grid(w, rk_pull_as(&o, k, as, sizeof as), o.pull_at[k]);
        }
    for (unsigned j = 0; j < o.nfault; j++) {
        char as[240];
        rk_off_grid(w, rk_fault_as(&o, j, as, sizeof as), o.fault[j].t);
    }
    if (o.r.external && !strncmp(o.r.fw_bus, "udp:", 4) &&
        strtol(strrchr(o.r.fw_bus, ':') + 1, NULL, 10) + (long)o.r.modules > 65535)
        return cli_usage_error(w, "--fw-bus %s: BASE + %u (the last slot) is above port 65535", o.r.fw_bus,
                               o.r.modules);
    /* Two outputs into one file would interleave and lose both, however
     * the file is spelled (the report's own files included). */
    char rep_txt[600], rep_csv[600];
    snprintf(rep_txt, sizeof rep_txt, "%s/report.txt", o.report ? o.report : "");
    snprintf(rep_csv, sizeof rep_csv, "%s/trace.csv", o.report ? o.report : "");
    const char *outs_named[7] = {o.log,       o.station_log,                o.rtl_vcd,
                                 o.trace.vcd, o.trace.csv,                  o.report ? rep_txt : NULL,
                                 o.report ? rep_csv : NULL};
    static const char *const out_flag[7] = {"--log", "--station-log", "--rtl-vcd", "--vcd", "--trace-csv",
                                            "--report (its report.txt)", "--report (its trace.csv)"};
    for (int a = 0; a < 7; a++)
        for (int b = a + 1; b < 7; b++)
            if (outs_named[a] && outs_named[b] && cli_same_file(outs_named[a], outs_named[b]))
                return cli_usage_error(w, "%s %s and %s %s name one file", out_flag[a], outs_named[a], out_flag[b],
                                       outs_named[b]);
    /* The live scope's window first: no display, no font, no run. */
    char sel_err[200];
    if (o.scope.on && scw_sel_check(o.scope.o.sel, o.r.modules, sel_err, sizeof sel_err))
        return cli_usage_error(w, "%s", sel_err);
    scw *win = NULL;
    int wrc = scope_open(w, &o.scope, &win);
    if (wrc)
        return wrc;
    if (!cli_given(&seen, "--threads"))
        o.r.threads_adapt = 1; /* every CPU, or the caller alone while that is faster (rig.h) */
    else {                     /* the threads it runs on: one with --log, at most one a module (rig_init) */
        unsigned nt = o.log ? 1 : o.r.threads < o.r.modules ? o.r.threads : o.r.modules;
        nt = nt < RIG_THREADS_MAX ? nt : RIG_THREADS_MAX;
        char on[64] = "";
        if (nt < o.r.threads)
            snprintf(on, sizeof on, " (it runs on %u: one a module at most)", nt);
        if (o.realtime && nt > 1 && (long)nt > ncpu - 1) /* rig_realtime: the caller keeps a CPU of its own */
            rk_note(w,
                    "--threads %u with --realtime on %ld CPU%s: real-time threads leave one CPU to the system, so "
                    "the run goes on 1 thread (the same run)",
                    o.r.threads, ncpu, ncpu == 1 ? "" : "s");
        else if (nt > (unsigned)ncpu)
            rk_note(w,
                    "--threads %u%s is more than the %ld CPU%s this process may use: the run is the same, bit for "
                    "bit, but slower than with %ld",
                    o.r.threads, on, ncpu, ncpu == 1 ? "" : "s", ncpu);
        else if (nt < o.r.threads && !o.log) /* --log: one thread, said by its own rule */
            rk_note(w, "--threads %u: the rack has %u module%s and a thread takes one at least: it runs on %u",
                    o.r.threads, o.r.modules, o.r.modules == 1 ? "" : "s", nt);
    }
    if (win && !cli_given(&seen, "--threads"))
        o.r.threads = scw_threads(); /* a CPU for the window */
    /* Every output is opened (the report's directory made, its first file
     * created) before the run, so that a bad path costs no simulation. */
    char path[600];
    FILE *rep = NULL;
    if (o.report) {
        char err[1300];
        if (ngt_mkdirs(o.report, err, sizeof err)) /* its parents too, as mkdir -p (and as scenario run) */
            return cli_fail(w, "--report: %s", err); /* err names the path */
        snprintf(path, sizeof path, "%s/report.txt", o.report);
        if (!(rep = fopen(path, "w")))
            return cli_fail(w, "--report: %s: %s", path, strerror(errno));
        rk_notes_out(rep);
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
    /* The outputs' write errors name their flag. */
    char log_name[600], slog_name[600], rtl_name[600];
    snprintf(log_name, sizeof log_name, "--log %s", o.log ? o.log : "");
    snprintf(slog_name, sizeof slog_name, "--station-log %s", o.station_log ? o.station_log : "");
    snprintf(rtl_name, sizeof rtl_name, "--rtl-vcd %s", o.rtl_vcd ? o.rtl_vcd : "");

    /* Ctrl-C, SIGTERM or a failed output stop the run at the end of a
     * quantum: the logs end on a whole line, the report covers what ran.
     * Caught from here on, the outputs being open: a signal during the
     * set-up stops the run before its first quantum, with a report. */
    cli_catch_stop();

    /* The run: a session with the station's start, the load and the pulls on its timeline. */
    static ses s;
    ses_opts so = {.r = o.r, .quanta = quanta, .run_ahead = 1, .realtime = (uint8_t)o.realtime, .rt_spin_ns = o.rt_spin_ns, .rt_tol_ns = o.rt_tol_ns, .api = o.api, .rtl_vcd = o.rtl_vcd, .rtl_vcd_name = rtl_name,
                   .stop = rk_stop, .notes = stderr, .who = "ek3 rack"};
    so.outs[0] = (ses_out){log, log_name};
    so.outs[1] = (ses_out){slog, slog_name};
    errno = 0;
    int rc = ses_init(&s, &so);
    if (rc) {
        int e = errno;
        if (log)
            fclose(log);
        if (slog)
            fclose(slog);
        if (rep)
            fclose(rep);
        if (s.failed_at == SES_INIT_TRACE)
            return cli_fail(w, "--rtl-vcd %s: %s", o.rtl_vcd, strerror(e ? e : EIO));
        if (s.failed_at == SES_INIT_API && (rc == EK3_EPARSE || rc == EK3_ERANGE))
            return cli_usage_error(w, "--api '%s': udp:PORT, udp:HOST:PORT or udp:[V6]:PORT, PORT 0 to 65535", o.api);
        if (s.failed_at == SES_INIT_API)
            return cli_fail(w, "--api %s: %s", o.api, rc == EK3_EBUSY ? "the port is already in use" : ek3_strerror(rc));
        if (s.failed_at == SES_INIT_MEMORY)
            return cli_fail(w, "out of memory for %ld quanta", quanta);
        return cli_fail(w, "cannot build the rack: %s", ek3_strerror(rc));
    }
    if (o.update) {
        fwr_opts uo = {.wave_max = o.update_wave, .start_ns = (int64_t)(o.update_at * 1e9), .log = slog};
        int urc = fwr_init(&upd, &s.g.stn, s.g.o.modules, upd_img, upd_len, 1, &uo);
        free(upd_img);
        upd_img = NULL;
        if (urc) {
            ses_free(&s);
            rk_close_all(log, slog, rep);
            return cli_usage_error(w, "--update %s: %s", o.update,
                                   urc == EK3_EPARSE ? "not a firmware image (bad magic or too short)"
                                                     : ek3_strerror(urc));
        }
        s.g.upd = &upd;
    }
    /* The station starts the rack once it has heard every module (the
     * first heartbeats of a large rack take tens of milliseconds of bus
     * time, about 100 us each), or with those heard once none new came for
     * SES_START_QUIET_NS, at --load-at (at most 0.5 s, at least 20 ms) at
     * the latest; one heard later joins then (ses_start_check). */
    ses_event ev;
    rc = ses_start_and_load(&s, SES_STATION_START_NS * 1e-9, o.load_at, o.load_ramp, &o.r.load);
    for (unsigned k = 0; k < o.r.modules && !rc; k++)
        if (o.pull_at[k] >= 0) {
            ev = (ses_event){.kind = SES_EV_PULL, .at_s = o.pull_at[k], .slot = k + 1};
            snprintf(ev.as, sizeof ev.as, "--pull %u@%.10gs", k + 1, o.pull_at[k]);
            rc = ses_add_event(&s, &ev);
        }
    if (rc) {
        ses_free(&s);
        return cli_fail(w, "cannot set up the run: %s", ek3_strerror(rc));
    }
    for (unsigned j = 0; j < o.nfault; j++) {
        char err[256];
        ev = (ses_event){.kind = SES_EV_FAULT, .at_s = o.fault[j].t, .fault = o.fault[j]};
        if (o.fault_pull[j]) /* the notes name a --fault by its text already */
            rk_fault_as(&o, j, ev.as, sizeof ev.as);
        if (flt_check(&s.g, &o.fault[j], err, sizeof err) || ses_add_event(&s, &ev)) {
            ses_free(&s);
            rk_close_all(log, slog, rep);
            return rk_fault_error(w, &o, j, err);
        }
    }
    /* The probes: resolved against the rack, the trace's files created
     * and their headers written before the run. */
    static trc tr;
    memset(&tr, 0, sizeof tr);
    if (trc_wanted(&o.trace)) {
        char err[1200];
        o.trace.version = "ek3 rack";
        rc = trc_open(&tr, &s, &o.trace, err, sizeof err);
        if (rc) {
            ses_free(&s);
            rk_close_all(log, slog, rep);
            return rc == EK3_EIO ? cli_fail(w, "%s", err) : cli_usage_error(w, "%s", err);
        }
    }
    rk_notes_say(w); /* every flag checked: the run goes on */
    unsigned n_ext = 0;
    for (unsigned k = 0; o.r.external && k < o.r.modules; k++)
        n_ext += o.ext[k];
    if (n_ext) {
        unsigned got = ses_wait_external(&s, (int)(o.hello_timeout * 1000));
        fprintf(stderr, "ek3 rack: %u of %u external modules said HELLO on %s\n", got, n_ext, o.r.fw_bus);
    }
    /* A demand beyond what the rack can deliver is said before the run. */
    const llcc_cfg *kc = &s.kc;
    double cap, demand, v_full = o.r.v_set - kc->r_droop * kc->i_max;
    unsigned n_cap = ses_capacity(&s, &cap, &demand);
    double end_s = quanta * (RIG_PERIOD_NS * 1e-9);
    char tb[32];
    rk_overs ov;
    rk_overs_of(&s, &o, demand, end_s, &ov);
    char ins[96] = "", held[64] = ""; /* a module put back: from when it delivers; one that delivers none */
    for (unsigned i = 0; i < s.nev; i++) {
        if (ses_insert_slot(&s.ev[i]))
            snprintf(ins, sizeof ins, ", one put back counted once pre-charged, %g ms after its insert at the earliest",
                     ses_insert_ready_ns(&s) * 1e-6);
        else if (ses_holds_off(&s.ev[i]))
            snprintf(held, sizeof held, ", not held off by a gate-off or open fault");
    }
    const ses_event *stn_cut = ses_station_cut_before_start(&s);
    if (stn_cut) { /* with or without a load: no module will run */
        char spec[280] = "?";
        if (flt_format(&stn_cut->fault, spec, sizeof spec) != EK3_OK)
            snprintf(spec, sizeof spec, "bus-cut:0");
        rk_warn(rep,
                "--fault %s cuts the station off the rack bus before it can start the rack (at "
                "%g s at the earliest): its START and commands will reach no module, and none will start%s\n",
                spec, SES_STATION_START_NS * 1e-9, load_on ? "; nothing will feed the load" : "");
    } else if (!load_on)
        ; /* no load in this run: nothing to feed (the note above) */
    else if (demand > cap && n_cap == 0)
        rk_warn(rep,
                "the load asks %.1f kW, but every module is pulled during the run: nothing "
                "will feed it\n",
                demand / 1e3);
    else if (demand > cap && rk_asks_from(&o, cap, demand) >= o.duration)
        ; /* the ramp asks more than the rack gives only after the run (the note above says how far it gets) */
    else if (demand > cap) { /* what one module gives: its current limit at the drooped bus, or the station's ask */
        char each[200], ask_kw[32], cap_kw[32];
        int lim = kc->i_max * v_full <= stn_module_cap(o.r.v_set);
        double one = lim ? kc->i_max * v_full : stn_module_cap(o.r.v_set);
        /* from when the rack is short up to the end (the windows that run into it, one after the other: a pull in
         * the run), and the other windows it is short in (fewer still for a while, or short before) */
        char since[48] = "", more[600] = "";
        double cap_end = cap;
        unsigned k0 = ov.n, n_end = n_cap; /* at the end: those a gate-off or open holds off not counted */
        if (ov.n && ov.w[ov.n - 1].to >= end_s - 1e-12) {
            k0 = ov.n - 1;
            n_end = ov.w[k0].n, cap_end = ov.w[k0].cap_w;
            while (k0 > 0 && ov.w[k0 - 1].to >= ov.w[k0].from - 1e-12)
                k0--;
        }
        double asks_from = rk_asks_from(&o, cap_end, demand), from = asks_from;
        for (unsigned i = ov.n; i-- > k0;) /* from when the end's modules are short: the first such window */
            if (ov.w[i].n == n_end)
                from = ov.w[i].from;
        if (from > asks_from + 1e-9)
            snprintf(since, sizeof since, "from %s s ", rk_t(from, tb));
        int at = n_end == 1 ? 0 : snprintf(each, sizeof each, "each %.0f W ", one); /* one module: its own figure */
        if (lim)
            snprintf(each + at, sizeof each - (size_t)at,
                     "(%.2f A, its current limit as its own sensor reads it, at %.1f V: the %.1f V set point less %.2f "
                     "V/A droop at that current)",
                     kc->i_max, v_full, o.r.v_set, kc->r_droop);
        else
            snprintf(each + at, sizeof each - (size_t)at,
                     "(the most the station asks of one: %g A at the %.1f V set point, never above %g kW)",
                     STN_MODULE_I_A, o.r.v_set, STN_MODULE_W / 1e3);
        rk_over_list(&ov, 0, k0, n_end, k0 < ov.n ? from : -1, demand, more, sizeof more);
        /* a ramp the run's end cuts (the note above): what it asks by then, and from when it asks too much; a
         * ramp that ends in the run: from when it asks too much */
        int cut = part < 1, ramp = !cut && !since[0] && asks_from > o.load_at + 1e-9;
        rk_kw_pair(demand * part, cap_end, ask_kw, cap_kw);
        char asks[160];
        if (cut)
            snprintf(asks, sizeof asks, "the load's ramp asks more than %s from %.4g s on (%s at the run's end)",
                     cap_kw, asks_from, ask_kw);
        else if (ramp)
            snprintf(asks, sizeof asks, "the load asks %s (more than %s from %.4g s on, on its ramp)", ask_kw, cap_kw,
                     asks_from);
        else
            snprintf(asks, sizeof asks, "the load asks %s", ask_kw);
        char which[300] = "";
        if (n_end < o.r.modules)
            snprintf(which, sizeof which, " (%s at the run's end%s%s, not cut off the bus before the start%s)",
                     n_end == 1 ? "the one in its slot" : "those in their slots", ins, held,
                     n_ext ? ", not an external module lost" : "");
        rk_warn(rep,
                "%s, but %s%u module%s%s deliver%s at most %s%s %s: the rack is "
                "overloaded%s%s\n",
                asks, since, n_end, n_end == 1 ? "" : "s", which, n_end == 1 ? "s" : "", cap_kw, n_end == 1 ? "" : ",",
                each, since[0] || cut || ramp ? " then" : "", more);
    } else if (ov.n) { /* enough at the end, not in between: a module out for a while */
        char ask_kw[32], cap_kw[32], first[80], more[600], tb2[48];
        rk_kw_pair(demand, ov.w[0].cap_w, ask_kw, cap_kw);
        snprintf(first, sizeof first, "from %s s%s", rk_t(ov.w[0].from, tb), rk_until(&ov, 0, tb2));
        rk_over_list(&ov, 1, ov.n, 0, -1, demand, more, sizeof more); /* the windows after the first */
        rk_warn(rep,
                "the load asks %s, but %s %u module%s (those in their slots then%s%s, "
                "and not cut off the bus before the start) deliver%s at most %s%s: the rack is overloaded then\n",
                ask_kw, first, ov.w[0].n, ov.w[0].n == 1 ? "" : "s", ins, held, ov.w[0].n == 1 ? "s" : "", cap_kw,
                more);
    }
    int bad = 0;
    if (win) { /* the run on a worker thread, the window on this one */
        if ((wrc = scw_attach(win, &s)) != 0)
            fprintf(stderr, "ek3 %s: --scope: %s: the run goes on without the window\n", w, ek3_strerror(wrc));
        scw_loop(win, rk_run, &s);
    } else {
        ses_run(&s);
    }
    FILE *stop_f = s.stop_out == 0 ? log : s.stop_out == 1 ? slog : NULL;
    if (stop_f)
        fclose(stop_f); /* its error is told */
    int log_bad = stop_f == log || cli_close_out(w, log, log_name) != CLI_OK; /* an error told */
    bad |= stop_f != log && log_bad;
    if (o.log && log_bad) {
        fprintf(stderr, "ek3 rack: the frame log %s is not whole (its write error is above)\n", o.log);
    } else if (o.log) { /* what reads the log's signed frames back: the run's rack key */
        uint8_t key[16];
        char hex[33];
        fwi_rack_key(o.r.seed, key);
        for (int i = 0; i < 16; i++)
            snprintf(hex + 2 * i, 3, "%02x", key[i]);
        fprintf(stderr, "ek3 rack: frames logged to %s; its rack key (seed %llu, a development key): ek3 can decode %s "
                        "--key %s\n",
                o.log, (unsigned long long)o.r.seed, o.log, hex);
    }
    s.g.o.log = NULL;
    s.g.stn.log = NULL;
    bad |= stop_f != slog && cli_close_out(w, slog, slog_name) != CLI_OK;
    if (trc_wanted(&o.trace)) {
        char err[1200];
        if (trc_close(&tr, err, sizeof err)) {
            fprintf(stderr, "ek3 %s: %s\n", w, err);
            bad = 1;
        }
    }
    if (o.rtl_vcd) {
        int e = ses_trace_close(&s);
        if (e && s.stop_out != SES_OUTS_MAX) {
            fprintf(stderr, "ek3 %s: --rtl-vcd %s: write error: %s\n", w, o.rtl_vcd, strerror(e));
            bad = 1;
        }
    }

    /* A pull, an insert, a gate-off or an open the warnings before the run counted (ses_capacity_steps: every one
     * on the timeline) and the run refused: from then on the rack they warned of is not the run's; said before the
     * report's verdict. */
    for (unsigned i = 0; i < s.nev && rk_warned; i++) {
        const ses_event *e = &s.ev[i];
        if (!((e->kind == SES_EV_PULL && e->refused) ||
              (e->kind == SES_EV_FAULT && (e->fault.id == FLT_PULL || e->fault.id == FLT_INSERT || ses_holds_off(e)) &&
               e->refused_ns >= 0)))
            continue;
        char as[96];
        rk_note_after(
            w, rep,
            "the warning before the run counted %s, which the run refused at %.4f s: from then on the rack it "
            "warned of is not the run's (the report's verdict is)\n",
            ses_event_as(e, as, sizeof as), e->refused_ns * 1e-9);
    }

    /* A leader's pull or gate-off or open the warnings counted as one module more out (which one, unknown before
     * the run: ses_out_take) that went into a module a gate-off or open held off already: from then on the run's rack
     * has one module more than the one they warned of. */
    for (unsigned i = 0; i < s.nev && rk_warned; i++) {
        const ses_event *e = &s.ev[i], *by = NULL;
        if (!(e->kind == SES_EV_FAULT && e->at_leader && e->done_ns >= 0 && e->refused_ns < 0 &&
              (e->fault.id == FLT_PULL || ses_holds_off(e))))
            continue;
        for (unsigned j = 0; j < s.nev && !by; j++) {
            const ses_event *f = &s.ev[j];
            if (f != e && ses_holds_off(f) && f->refused_ns < 0 && f->done_ns >= 0 && f->done_ns <= e->done_ns &&
                f->fault.target == e->fault.target)
                by = f;
        }
        if (!by)
            continue;
        char as[96], by_as[96];
        rk_note_after(w, rep,
                      "the warning before the run counted %s as one module more out; the leader then was module %u, "
                      "which %s held off since %.4f s: from %.4f s on the run's rack has one module more than the one "
                      "it warned of (the report's verdict is the run's)\n",
                      ses_event_as(e, as, sizeof as), e->fault.target, ses_event_as(by, by_as, sizeof by_as),
                      by->done_ns * 1e-9, e->done_ns * 1e-9);
    }

    /* The report: to stdout and, with --report, to DIR/report.txt. */
    int collapsed = ses_collapsed(&s), sagging = collapsed ? 0 : ses_sagging(&s, NULL);
    bad |= rep_text(stdout, &s, cli_text_width(stdout)) != 0;
    if (rep)
        bad |= rep_text(rep, &s, 0) != 0;
    char upd_why[400] = "";
    const char *upd_end = ""; /* why it did not finish, when it did not: said on stderr too */
    int upd_failed = 0;
    if (s.g.upd) { /* the update: each module's version before and after, every refusal, the outcome */
        bad |= fwr_report(s.g.upd, stdout) != EK3_OK;
        if (rep)
            bad |= fwr_report(s.g.upd, rep) != EK3_OK;
        upd_failed = fwr_outcome(s.g.upd, s.g.t_ns, upd_why, sizeof upd_why);
        const char *end = fwr_finished(s.g.upd) ? ""
                          : s.stop_sig          ? " (not finished: the run was interrupted)"
                          : s.stop_why[0]       ? " (not finished: the run stopped early, above)"
                                                : " (not finished when the run ended: --duration)";
        printf("firmware update: %s%s\n", upd_why, end);
        if (rep)
            fprintf(rep, "firmware update: %s%s\n", upd_why, end);
        upd_end = end;
        s.g.upd = NULL;
        fwr_free(&upd);
    }
    if (o.report) {
        snprintf(path, sizeof path, "%s/report.txt", o.report);
        bad |= cli_close_out(w, rep, path) != CLI_OK;
        snprintf(path, sizeof path, "%s/trace.csv", o.report);
        FILE *c = fopen(path, "w");
        if (c) {
            int trc_rc = rep_trace_csv(c, &s);
            if (trc_rc) {
                bad = 1;
                fprintf(stderr, "ek3 %s: %s: %s\n", w, path, ek3_strerror(trc_rc));
            }
            bad |= cli_close_out(w, c, path) != CLI_OK;
        } else {
            bad = 1;
            fprintf(stderr, "ek3 %s: %s: %s\n", w, path, strerror(errno));
        }
        bad |= rep_plots(o.report, &s, w);
        rk_said said = {o.report, ses_rec_rows(&s) > 1}; /* rep_plots draws none from the 0 s row alone */
        if (rep_folded(stdout, cli_text_width(stdout), rk_report_said, &said)) /* folded as the report */
            rk_report_said(stdout, &said);                                     /* no memory to fold */
    }
    if (win) { /* --scope-hold: the report is out; then the window until closed or Ctrl-C */
        scw_hold(win, cli_stop_requested);
        bad |= scw_close(win) != 0;
    }
    int stopped_by_output = s.stop_why[0] != 0;
    unsigned fault_errors = s.fault_errors;
    int shorted = ses_short_caused(&s), none_left = n_cap == 0, never_up = !s.bus_up;
    int none_started = s.started && s.start_on == 0, station_cut = ses_cut_since_ns(&s, 0) >= 0;
    ses_free(&s);
    if (stopped_by_output)
        return CLI_FAIL; /* the output that failed was named when it was closed */
    if (bad)
        return o.report ? cli_fail(w, "could not write all of the outputs (report in %s)", o.report) : CLI_FAIL;
    if (fault_errors)
        return cli_fail(w, "%u fault%s (--fault, --pull) could not be injected (named above)", fault_errors,
                        fault_errors == 1 ? "" : "s");
    if (collapsed && never_up && station_cut)
        return cli_fail(w, "the bus never came up: the station is cut off the rack bus (the report above says more)");
    if (collapsed == SES_NOT_UP)
        return cli_fail(
            w, "the bus never came up under the load (the report above says more; a later --load-at lets the soft "
               "start finish)");
    if (collapsed)
        return cli_fail(
            w, none_left && never_up ? "the bus never came up: every module is pulled (the report above says more)"
               : never_up && none_started
                   ? "the bus never came up: the station heard no module and started none (the report above says more)"
               : none_left ? "the rack collapsed: every module is pulled (the report above says more)"
               : shorted   ? "the rack collapsed: its bus is shorted (fault 'short'; the report above says more)"
                           : "the rack collapsed under its load (the report above says why)");
    if (sagging)
        return cli_fail(w, sagging == SES_SAG_HELD ? "the rack is overloaded: the load holds its bus under its "
                                                     "droop band (the report above says more)"
                                                   : "the rack is sagging under its load: its bus is under its droop "
                                                     "band and falling (the report above says more)");
    if (upd_failed && s.stop_sig)
        return cli_fail(w, "the firmware update was not finished when the run was interrupted: %s", upd_why);
    return upd_failed ? cli_fail(w, "the firmware update did not end on the new image: %s%s", upd_why, upd_end)
                      : CLI_OK;
}
