/*
 * scn.h - the scenario engine (prefix scn_): one Lua 5.4 state per
 * scenario run, sandboxed, driving a run session (hil_bridge/session.h)
 * and recording a verdict.
 *
 * A scenario file is Lua: its manifest first, then the rack, then time.
 *   scenario{ name="svc-restart", tags={"firmware"}, level="quick",
 *             requirements={"EK-TECH-010 8.5"}, seeds={1,2}, timeout="60s" }
 *   rack{ modules=8, load="20kW", load_at="0.3s" }
 *   local h = fault("svc-crash", "3.2", { at="1s" })
 *   run("2s")
 *   expect(get("module[3].svc.THERMAL_MGR.restarts") == 1, "restarted")
 * docs/scenarios.md is the manual: every global, signal, fault and check.
 *
 * The sandbox: the base library less dofile, loadfile and binary chunks
 * (load takes text only; string.dump is gone), string, table, math (its
 * random the rig's seeded generator), utf8; no io, os, debug, package;
 * require only for helper modules in a lib/ folder beside the scenario
 * or in the rig's scenarios/lib/. An instruction-count hook stops a
 * runaway script (SCN_INSTR_MAX Lua instructions between two returns to
 * the engine) and an allocator limit a memory-hungry one (SCN_MEM_MAX);
 * the wall-clock timeout of the manifest stops a slow run. Each is an
 * ERROR verdict naming the file and line. Once tripped, a limit (or a
 * stop signal, or a failed run_until) stays tripped: pcall and xpcall
 * pass it on and the hook raises it again, so a script cannot catch it
 * and run on.
 *
 * Determinism: callbacks (at, every), watchers (expect_always,
 * expect_eventually, the signal checks, captures) and faults with a
 * condition run between quanta, in the order they were registered; the
 * same scenario and seed give the same verdict and the same trace hash
 * (SHA-256 of every probe row, FIPS 180-4) with any number of threads.
 *
 * Errors are negative codes from ek3_err.h.
 */
#ifndef SCN_H
#define SCN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fault.h"
#include "session.h"

struct lua_State;

#define SCN_INSTR_MAX 200000000L       /* Lua instructions between two returns to the engine */
#define SCN_MEM_MAX (256u << 20)        /* bytes the Lua heap may hold */
#define SCN_MEM_RESERVE (4u << 20)      /* more, once the run is over, for its error to travel up */
#define SCN_TIMEOUT_S 600.0            /* wall-clock limit when the manifest names none */
#define SCN_SEEDS_MAX 16u
#define SCN_FAULTS_MAX 256u
#define SCN_RECORD_ROWS 2000L          /* probe rows held (the hash covers every row) */
#define SCN_BLOCK_ROWS 1000u           /* probe rows in a trace block at first (replay's where) */
#define SCN_BLOCKS_MAX 256u            /* blocks kept: at this many, pairs merge and blocks double */

typedef enum scn_verdict { SCN_PASS, SCN_FAIL, SCN_ERROR } scn_verdict;

/* The name of a verdict: "PASS", "FAIL", "ERROR". */
const char *scn_verdict_name(unsigned v);

typedef struct scn_manifest {
    char path[512];           /* the scenario file */
    char name[64];
    char level[16];           /* "quick", "nightly" or "soak" */
    char tags[256];           /* comma-separated */
    char requirements[512];   /* ';'-separated, e.g. "EK-TECH-010 6.3;EK-TECH-010 8.5" */
    char gaps[1024];          /* claims of the seed this scenario shows the rig cannot hold, each
                                 "claim: why", '\n'-separated (manifest's gaps={...}) */
    uint64_t seeds[SCN_SEEDS_MAX];
    unsigned nseeds;          /* 1 at least ({1} when the manifest names none) */
    double timeout_s;         /* wall clock */
} scn_manifest;

/* One recorded figure of a check. */
typedef struct scn_fig {
    char name[256];           /* the check's name, ": ", what was measured (chk_lua.c: up to 80 + 2 + 160) */
    double value;             /* NaN: no figure (a boolean check) */
    char unit[16];
    char limit[64];           /* "<= 50 ms", "true" */
    int pass;
    double t_s;               /* simulated time it was recorded */
    char where[160];          /* file:line of the check in the scenario */
    char plot[96];            /* the check's plot in the report directory ("check-NAME.svg"), or "" */
} scn_fig;

/* One fault of the schedule, as it happened. */
typedef struct scn_fault {
    flt_spec spec;            /* spec.t: the onset asked (at=), or -1 with a condition (when=) */
    char text[160];           /* flt_format of the spec as injected */
    char where[160];          /* file:line of the fault() call */
    double onset_s;           /* when it was injected (-1: never) */
    double clear_s;           /* clear_at / duration asked (-1: none) */
    int clear_dur;            /* clear_s is a duration= (else a clear_at=) */
    double cleared_s;         /* when it was cleared (-1: never) */
    int error;                /* flt_inject's error at its onset, or 0 */
} scn_fault;

/* A load change the script asked for (set_load{}), as the verdict
 * records it beside the faults: what, from when, over what ramp, and
 * where in the script. Whether it came is a check of its own (a
 * set_load{} whose time the run never reached fails the run). */
#define SCN_LOADS_MAX 64
#define SCN_HELPERS_MAX 16 /* helper modules a scenario may require (l_require refuses more) */
typedef struct scn_load_rec {
    char text[96];            /* "16 kW", "250 ohm", "profile FILE" */
    char where[160];          /* file:line of the set_load{} call */
    double at_s, ramp_s;      /* its time, s; its ramp, s (0: a step) */
    double power_w, ohm;      /* the load as a number: constant power, W, or a resistor, ohm; the other NaN
                               * (both NaN for a profile: its CSV holds the numbers) */
} scn_load_rec;

/* A change to the fault schedule, for shrink: the index-th fault()
 * call of the script is dropped, or its onset moved to at_s (>= 0), or
 * its parameters scaled by scale (1: kept). */
typedef struct scn_override {
    unsigned index;
    uint8_t drop;
    double at_s;              /* < 0: kept */
    double scale;             /* 0 or 1: kept */
} scn_override;

typedef struct scn_opts {
    uint64_t seed;            /* the run's seed (the manifest's seeds are the caller's to iterate) */
    const char *report_dir;   /* this run's evidence directory (made by the caller), or NULL */
    FILE *out;                /* print() and the engine's notes (NULL: stderr) */
    FILE *can_log;            /* every frame as a candump log (rig_opts.log; the run uses one thread), or NULL */
    const char *can_log_name; /* names it in a write error, which ends the run as ERROR ("--log PATH"; NULL: "the CAN log") */
    unsigned threads;         /* when rack{} names none (0: 1) */
    long instr_max;           /* 0: SCN_INSTR_MAX */
    size_t mem_max;           /* 0: SCN_MEM_MAX */
    double timeout_s;         /* > 0: overrides the manifest's */
    int (*stop)(void *ctx);   /* polled every quantum: non-zero stops the run as ERROR (Ctrl-C) */
    void *stop_ctx;
    const scn_override *ovr;
    unsigned novr;
    int manifest_only;        /* stop after scenario{} (ek3 scenario list) */
    /* Called once rack{} has built the session (before its first quantum:
     * the live scope, scopes/scowin.h, and a trace's tap, scopes/trc.h,
     * join the run here; a non-zero return is an ERROR verdict with
     * err[cap] as its reason), and with s NULL (err NULL, cap 0) before
     * the session is freed. NULL: none. */
    int (*on_session)(ses *s, void *ctx, char *err, size_t cap);
    void *session_ctx;
    /* Replay: the recorded trace's rows; this run's SHA-256 of its first
     * prefix_rows rows goes to scn_result.prefix_sha256 when it has as
     * many (a longer run's prefix is compared with the recorded trace
     * whole). 0: none. */
    uint64_t prefix_rows;
} scn_opts;

/* One block of the trace, for replay to say where two runs diverged:
 * the SHA-256 of every row from the first through this block's last
 * (a prefix hash: the last block's is the trace hash), the simulated
 * times of its first and last rows, and one 32-bit fingerprint per
 * probe column (ses_probe_name order) of this block's values alone. */
typedef struct scn_block {
    uint8_t sha256[32];
    uint64_t rows_end;        /* rows of the trace through this block */
    double t0_s, t1_s;
    uint32_t *col;            /* ncol fingerprints (the result's) */
} scn_block;

typedef struct scn_result {
    int verdict;              /* scn_verdict */
    scn_manifest m;
    uint64_t seed;
    scn_fig *fig;             /* every check, in the order recorded */
    unsigned nfig, capfig;
    unsigned lost_figs;       /* figures not recorded for want of memory (the verdict is then ERROR) */
    int first_fail;           /* index into fig, or -1 */
    char error[640];          /* ERROR: "file:line: why" */
    int stopped;              /* ERROR because scn_opts.stop ended the run before its end: no verdict */
    scn_fault fault[SCN_FAULTS_MAX];
    unsigned nfault;
    scn_load_rec load[SCN_LOADS_MAX]; /* the script's set_load{} calls, in call order */
    unsigned nload;           /* recorded (at most SCN_LOADS_MAX: set_load{} refuses more) */
    double sim_s, wall_s, init_s;
    uint8_t trace_sha256[32];
    uint64_t trace_rows;
    uint8_t prefix_sha256[32]; /* of the first scn_opts.prefix_rows rows, when has_prefix */
    uint8_t has_prefix;
    unsigned modules, threads;
    char rack_text[600];      /* the rack as set up, in ek3 rack's flags */
    uint8_t script_sha256[32]; /* SHA-256 of the scenario file's bytes as run */
    /* The helper modules it required (lib/NAME.lua, the rig's library), in load order: their paths as
     * opened and the SHA-256 of their bytes as run; a verdict's replay and the nightly history's
     * comparisons take them with the script (an edited lib/ek3.lua is not the same scenario) */
    char helper[SCN_HELPERS_MAX][256];
    uint8_t helper_sha256[SCN_HELPERS_MAX][32];
    unsigned nhelper;
    unsigned ncol;            /* probe columns of the trace (0 before rack{}) */
    char *colnames;           /* their names, ncol NUL-ended strings one after another */
    scn_block *block;         /* the trace's blocks, in order (the last may be short) */
    unsigned nblock;
    uint64_t block_rows;      /* rows per block: SCN_BLOCK_ROWS doubled at each merge */
} scn_result;

/* Run the scenario file at path with seed o->seed into *r (zeroed first).
 * Returns the verdict (SCN_PASS, SCN_FAIL, SCN_ERROR); r->error says why
 * for ERROR, r->fig[r->first_fail] for FAIL. scn_result_free releases it. */
int scn_run_file(const char *path, const scn_opts *o, scn_result *r);
void scn_result_free(scn_result *r);

/* Column col's name in r->colnames, or "?" when col >= r->ncol. */
const char *scn_col_name(const scn_result *r, unsigned col);

/* Read only the manifest of a scenario file (the script runs until its
 * scenario{} call). 0, or EK3_EPARSE with err naming file:line and why. */
int scn_manifest_read(const char *path, scn_manifest *m, char *err, size_t cap);

/* Read a load profile (set_load{profile=...}): CSV rows time_s,power_W
 * (a header line, '#' comments and blank lines allowed), times rising
 * from 0 to 86400 s, powers 0 to 10 MW; row(ctx, t, p) is called for
 * each, in order (a non-zero return stops the read with that error).
 * 0, or EK3_EPARSE / EK3_ERANGE / EK3_EIO / row's error with err naming
 * path:line and why. */
int scn_profile_read(FILE *f, const char *path, int (*row)(void *ctx, double t, double p), void *ctx, char *err,
                     size_t cap);

/* The trace hash as 64 hex digits into buf[65]. */
void scn_sha256_hex(const uint8_t h[32], char buf[65]);

/* The helpers r required, as one SHA-256 into out[32]: of their
 * SHA-256s (scn_result.helper_sha256) one after another, in load order;
 * 32 zero bytes when it required none (FIPS 180-4 SHA-256, mbedTLS). */
void scn_helpers_sha256(const scn_result *r, uint8_t out[32]);

/*
 * Seams for the modules that add globals (chk_lua.c): an engine behind
 * a Lua state, its session, per-quantum watchers, figures.
 */
typedef struct scn scn;

/* The engine of a Lua state built by scn_run_file. */
scn *scn_of(struct lua_State *L);

/* The running session, or NULL before rack{}. */
ses *scn_session(scn *x);

/* A watcher, called after every quantum in registration order: returns
 * 1 to stay, 0 to be removed; it may raise a Lua error through the
 * engine's state (an ERROR verdict). free_ctx (may be NULL) releases ctx
 * when it is removed or the run ends. `at_end` (may be NULL) is called
 * once when the run ends with the watcher still in place (a window not
 * reached: record a failed figure saying so). 0 or EK3_ENOSPC. */
typedef int (*scn_watch_fn)(scn *x, void *ctx);
int scn_watch(scn *x, scn_watch_fn fn, void (*at_end)(scn *x, void *ctx), void *ctx, void (*free_ctx)(void *ctx));

/* Record a figure (see scn_fig); where: file:line, or NULL for the
 * running Lua line. A failed figure makes the verdict FAIL. */
void scn_figure(scn *x, const char *name, double value, const char *unit, const char *limit, int pass,
                const char *where);

/* A figure's result as it follows its name in a line: " = VALUE UNIT"
 * (cli_si) for a measured one, ": true" or ": false" for a condition (no
 * value, a limit that starts "true": expect(), run_until()), "" for any
 * other figure without a value (its name says what happened: "at(5 s)
 * never ran ..."). Writes at most cap bytes, NUL included, into buf and
 * returns it. */
const char *scn_fig_result(const scn_fig *f, char *buf, size_t cap);

/* A figure's limit as people read it after its result: "limit <= 50
 * ms"; for a condition (a limit "true ..."), "expected true", "expected
 * true by 2 s"; for a figure recorded without a limit (its limit in
 * parentheses), the words inside: "measured", "measured; not
 * recovered". Writes at most cap bytes, NUL included, into buf and
 * returns it (verdict.txt, the summary's FAIL lines, JUnit messages, the
 * report's titles). */
const char *scn_fig_limit(const scn_fig *f, char *buf, size_t cap);

/* Call the Lua function ref (a registry reference) with no arguments,
 * expecting one boolean: a condition of expect_always(),
 * expect_eventually(), run_until(), a fault's or a capture's when= (what
 * names it in the error), made at where (its file:line; NULL: the line
 * calling now). Returns it, 1 or 0. A string, a number, nil or any other
 * value is the scenario's ERROR at where, as expect()'s condition is (Lua
 * counts them true, so the check would hold whatever the rig did); a Lua
 * error in the function goes on up (the scenario's ERROR). Resets the
 * instruction budget: the sandbox's limit counts each call alone. */
int scn_call_cond(scn *x, int ref, const char *what, const char *where);

/* The result so far (figures, the fault schedule as it happened), read only. */
const scn_result *scn_result_now(scn *x);

/* Name the plot file (in the report directory) of the figures recorded
 * from index `from` on: the figures of one check. */
void scn_figure_plot(scn *x, unsigned from, const char *file);

/* This run's evidence directory, or NULL. */
const char *scn_report_dir(scn *x);

/* "file.lua:12" of the running Lua line (level 1: the caller of the C
 * function) into buf; returns buf. */
const char *scn_where(struct lua_State *L, char *buf, size_t cap);

/* luaL_error with printf's formats (lua_pushfstring has no %g): the
 * message after the running Lua line's file:line (level 1, the caller
 * of the C function). Raises; does not return. */
int scn_err(struct lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Argument idx as a quantity in unit (a number, or a string such as
 * "20ms" for unit "s"); raises a Lua error naming `what` otherwise. */
double scn_arg_quantity(struct lua_State *L, int idx, const char *unit, const char *what);

/* Simulated time now, s. */
double scn_now(scn *x);

/* Read the whole text file at path into *buf (malloc'd, NUL-ended beyond
 * *len; the caller frees it), at most max bytes: the one reader of the
 * scenario, verdict, history, quarantine and shrink files. 0, or EK3_EIO
 * (cannot open or read: err names the file and the system's reason),
 * EK3_EPARSE (larger than max, or a NUL byte: not text; err says where),
 * EK3_ENOSPC (memory). A device that never ends (/dev/zero) is refused
 * at its first NUL, not read into memory. */
int scn_read_file(const char *path, size_t max, char **buf, size_t *len, char *err, size_t cap);

#endif /* SCN_H */
