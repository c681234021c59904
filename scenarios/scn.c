/* scn.c - the scenario engine: Lua state, sandbox, manifest, rack, time, faults, checks. */
#include "scn.h"

#include "llc_control.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <mbedtls/sha256.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chk_lua.h"
#include "cli.h"
#include "ek3_err.h"
#include "ek3_rng.h"
#include "board.h"
#include "fwinst.h"
#include "fwroll.h"
#include "fwsign.h"
#include "key.h"
#include "params.h"
#include "sig.h"

#ifndef EK3_SCENARIO_LIB
#define EK3_SCENARIO_LIB "scenarios/lib"
#endif

#define SCN_STOP_KEY "ek3.scn.stop" /* the error value of a run stopped by a failed run_until */
#define SCN_HOOK_EVERY 10000        /* Lua instructions between two hook calls */

typedef struct scn_timer {
    int64_t at_ns, every_ns;  /* every_ns 0: once */
    int ref;                  /* the Lua function (LUA_NOREF: a set_load's time, kept for the end's check) */
    unsigned order;
    uint8_t fired;            /* it ran (a set_load's: its time was reached) */
    char where[160];          /* the scenario's line that asked for it */
} scn_timer;

typedef struct scn_watcher {
    scn_watch_fn fn;
    void (*at_end)(scn *x, void *ctx);
    void *ctx;
    void (*free_ctx)(void *ctx);
    int live;
} scn_watcher;

/* expect_always / expect_eventually */
typedef struct scn_expect {
    scn *x;
    int ref;                  /* the predicate */
    int always;
    int64_t from_ns, to_ns;   /* always: [from, to]; eventually: by = to_ns */
    char name[96], where[160];
} scn_expect;

/* A fault() call not yet injected or not yet cleared. */
typedef struct scn_pending {
    unsigned idx;             /* into r->fault */
    int when_ref;             /* condition (LUA_NOREF: at a time) */
    int64_t at_ns, clear_ns;  /* clear_ns < 0: none */
    int injected, cleared, dropped;
} scn_pending;

struct scn {
    lua_State *L;
    scn_opts o;
    scn_result *r;
    size_t mem, mem_max;
    int mem_hit;
    char mem_where[160];
    /* A limit, a timeout, a stop signal or a failed run_until ends the
     * run; once tripped it stays tripped: the hook and pcall/xpcall raise
     * it again, so a script cannot catch it and run on. */
    int dead, manifest_stop;
    int stopped; /* the end was scn_opts.stop (scn_result.stopped) */
    char who[120]; /* the session's notes' label: "NAME seed N" */
    char fatal[640];
    long instr, instr_max;
    int64_t wall_deadline_ns, wall0_ns;
    uint64_t rng;
    int manifest_done, manifest_only;
    /* the rack */
    ses *s;
    int64_t start_ns;
    /* the schedule */
    scn_timer *tim;
    unsigned ntim, captim, tim_order;
    scn_watcher *w;
    unsigned nw, capw;
    scn_pending pend[SCN_FAULTS_MAX];
    unsigned ncalls;          /* fault() calls so far (the override index) */
    /* signals by path: a Lua table path -> index into refs */
    sig_ref *refs;
    unsigned nrefs, caprefs;
    int sigs_ref;             /* the path -> index table, in the registry */
    /* the trace hash */
    mbedtls_sha256_context sha;
    uint64_t hashed;
    int in_run;
    /* the trace block being hashed (replay's where) */
    uint32_t *blk_fp;         /* r->ncol column fingerprints */
    uint64_t blk_rows;        /* rows in it so far */
    double blk_t0, blk_t1;
    /* the key signals (keys.csv): the defaults, then keys{}'s; recorded
     * from the first run() when there is a report directory */
    char key_path[KEY_MAX][KEY_NAME_CAP];
    sig_ref key_ref[KEY_MAX];
    unsigned nkey;
    int key_started;
    key_rec *keys;
    /* the firmware update (update{}): the station's streamer and roll */
    fwr upd;
    int upd_on;
    unsigned upd_reports;     /* reports written to update.txt */
};

static int64_t scn_wall_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t scn_ns(double s)
{
    return (int64_t)llround(s * 1e9);
}

/* A time in ns as the double nearest it in s: what a fault's text shows
 * (0.6 s, where Lua's 0.5 + 0.1 prints 0.6000000000000001). */
static double scn_s(int64_t ns)
{
    return (double)ns / 1e9;
}

const char *scn_verdict_name(unsigned v)
{
    static const char *const n[] = {"PASS", "FAIL", "ERROR"};
    return v < 3 ? n[v] : "?";
}

void scn_helpers_sha256(const scn_result *r, uint8_t out[32])
{
    memset(out, 0, 32);
    if (r->nhelper)
        mbedtls_sha256_ret(r->helper_sha256[0], 32 * (size_t)r->nhelper, out, 0);
}

void scn_sha256_hex(const uint8_t h[32], char buf[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(buf + 2 * i, 3, "%02x", h[i]);
}

scn *scn_of(lua_State *L)
{
    /* the state's extra space (set by scn_exec): no table lookup per get() */
    return *(scn **)lua_getextraspace(L);
}

ses *scn_session(scn *x)
{
    return x ? x->s : NULL;
}

const scn_result *scn_result_now(scn *x) { return x->r; }

void scn_figure_plot(scn *x, unsigned from, const char *file)
{
    for (unsigned i = from; i < x->r->nfig; i++)
        snprintf(x->r->fig[i].plot, sizeof x->r->fig[i].plot, "%s", file ? file : "");
}

const char *scn_report_dir(scn *x)
{
    return x ? x->o.report_dir : NULL;
}

double scn_now(scn *x)
{
    return x && x->s ? x->s->g.t_ns * 1e-9 : 0.0;
}

/* Whether the function of ar runs from a helper module that require
 * loaded (its source one of scn_result.helper[]; the rig's library
 * included, wherever EK3_SCENARIO_LIB puts it). */
static int scn_in_helper(lua_State *L, const lua_Debug *ar)
{
    scn *x = scn_of(L);
    if (!x || !x->r || ar->source[0] != '@')
        return 0;
    for (unsigned i = 0; i < x->r->nhelper; i++)
        if (!strcmp(ar->source + 1, x->r->helper[i]))
            return 1;
    return 0;
}

const char *scn_where(lua_State *L, char *buf, size_t cap)
{
    lua_Debug ar;
    buf[0] = 0;
    char lib[2 * LUA_IDSIZE + 40] = "";
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Slt", &ar);
        if (ar.currentline <= 0)
            continue;
        /* A check made in a helper module (a lib/ folder) is told at
         * the scenario's line that called it, then each helper's line
         * from the outermost to the one that made it. */
        if (scn_in_helper(L, &ar)) {
            char both[sizeof lib + LUA_IDSIZE + 48]; /* "..., ", this one, then the inner ones (cut at lib's size) */
            /* a tail call (`return f()`) leaves no frame of its caller: "..." stands for that line */
            snprintf(both, sizeof both, "%s%s:%d%s%s", ar.istailcall ? "..., " : "", ar.short_src, ar.currentline,
                     lib[0] ? ", " : "", lib);
            snprintf(lib, sizeof lib, "%.*s", (int)sizeof lib - 1, both);
            continue;
        }
        if (lib[0])
            snprintf(buf, cap, "%s:%d (%s)", ar.short_src, ar.currentline, lib);
        else
            snprintf(buf, cap, "%s:%d", ar.short_src, ar.currentline);
        return buf;
    }
    snprintf(buf, cap, "%s", lib);
    return buf;
}

/* ---- the allocator and the instruction hook ---- */

static void *scn_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    scn *x = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        x->mem -= old;
        return NULL;
    }
    /* Once the run is over, a reserve lets the error travel up. */
    size_t limit = x->dead ? x->mem_max + SCN_MEM_RESERVE : x->mem_max;
    if (nsize > old && x->mem - old + nsize > limit) {
        if (!x->mem_hit && x->L) {
            lua_Debug ar;
            for (int level = 0; lua_getstack(x->L, level, &ar); level++) {
                lua_getinfo(x->L, "Sl", &ar);
                if (ar.currentline > 0) {
                    snprintf(x->mem_where, sizeof x->mem_where, "%s:%d", ar.short_src, ar.currentline);
                    break;
                }
            }
        }
        if (!x->mem_hit)
            snprintf(x->fatal, sizeof x->fatal, "%s: memory limit: the script asked for more than %zu MB",
                     x->mem_where[0] ? x->mem_where : x->r->m.path, x->mem_max >> 20);
        x->mem_hit = x->dead = 1;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p)
        x->mem = x->mem - old + nsize;
    return p;
}

/* Raise the run's end again (scn.dead): its message, or the stop of a
 * failed run_until. Does not return. */
static int scn_raise_fatal(lua_State *L, const scn *x)
{
    if (x->manifest_stop)
        lua_pushliteral(L, "ek3.manifest-only");
    else if (x->fatal[0])
        lua_pushstring(L, x->fatal);
    else
        lua_pushliteral(L, SCN_STOP_KEY);
    return lua_error(L);
}

static void scn_hook(lua_State *L, lua_Debug *ar)
{
    scn *x = scn_of(L);
    x->instr += SCN_HOOK_EVERY;
    if (x->dead)
        scn_raise_fatal(L, x);
    const char *why = NULL;
    char msg[120];
    if (x->o.stop && x->o.stop(x->o.stop_ctx)) {
        snprintf(msg, sizeof msg, "stopped by a signal at %.6f s", scn_now(x));
        why = msg;
        x->stopped = 1;
    } else if (x->instr > x->instr_max) {
        snprintf(msg, sizeof msg, "instruction limit: more than %ld Lua instructions without returning to the rig",
                 x->instr_max);
        why = msg;
    } else if (scn_wall_ns() > x->wall_deadline_ns) {
        snprintf(msg, sizeof msg, "timeout: the run took more than %g s of wall-clock time", x->r->m.timeout_s);
        why = msg;
    }
    if (!why)
        return;
    lua_getinfo(L, "Sl", ar);
    snprintf(x->fatal, sizeof x->fatal, "%s:%d: %s", ar->short_src, ar->currentline, why);
    x->dead = 1;
    scn_raise_fatal(L, x);
}

/* ---- helpers for arguments ---- */

/* The fields of scenario{} and of rack{}: an error about one of them
 * ("rack{}: modules ...") is told at the field's own line. */
static const char *const scn_manifest_keys[] = {"name",        "tags", "level", "requirements", "seeds", "timeout",
                                                "description", "gaps", NULL};
static const char *const scn_rack_keys[] = {
    "modules", "fidelity", "load", "ohm",     "battery",  "load_at",   "load_ramp",   "vset",
    "droop",   "seed",     "set",  "slot",    "external", "fw_bus",    "ext_timeout", "hello_timeout",
    "threads", "start",    "api",  "api_key", "swarm",    "trust_key", NULL};

static int scn_key_line(lua_State *L, const char *path, char *src, size_t cap);

int scn_err(lua_State *L, const char *fmt, ...)
{
    char msg[800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* "rack{}: KEY..." and "scenario{}: KEY...": at KEY's line, when the table has it on one of its own */
    const char *k = !strncmp(msg, "rack{}: ", 8) ? msg + 8 : !strncmp(msg, "scenario{}: ", 12) ? msg + 12 : NULL;
    const char *const *keys = k == msg + 8 ? scn_rack_keys : scn_manifest_keys;
    size_t kn = k ? strspn(k, "abcdefghijklmnopqrstuvwxyz_") : 0;
    for (; kn && *keys; keys++) {
        char src[LUA_IDSIZE];
        int at;
        if (strlen(*keys) == kn && !memcmp(*keys, k, kn) && (at = scn_key_line(L, *keys, src, sizeof src)) > 0) {
            lua_pushfstring(L, "%s:%d: %s", src, at, msg);
            return lua_error(L);
        }
    }
    char where[LUA_IDSIZE * 2 + 40];
    scn_where(L, where, sizeof where); /* the scenario's line, a lib/ helper's after it */
    lua_pushfstring(L, "%s%s%s", where, where[0] ? ": " : "", msg);
    return lua_error(L);
}

/* The seed at idx: a Lua number with a whole value 0 to 2^63-1 (3 and
 * 3.0; not the string "3", not 1e19) into *seed, 0; else -1 with what
 * the value is in what[cap], for CLI_SEED_RANGE's message. */
static int scn_seed_at(lua_State *L, int idx, uint64_t *seed, char *what, size_t cap)
{
    int isnum = 0;
    lua_Integer v = lua_type(L, idx) == LUA_TNUMBER ? lua_tointegerx(L, idx, &isnum) : 0;
    if (isnum && v >= 0) {
        *seed = (uint64_t)v;
        return 0;
    }
    if (lua_type(L, idx) == LUA_TNUMBER)
        snprintf(what, cap, isnan(lua_tonumber(L, idx)) ? "not NaN" : "not %.17g", lua_tonumber(L, idx));
    else if (lua_type(L, idx) == LUA_TSTRING)
        snprintf(what, cap, "not the string \"%.24s\": no quotes", lua_tostring(L, idx));
    else
        snprintf(what, cap, "not a %s", luaL_typename(L, idx));
    return -1;
}

double scn_arg_quantity(lua_State *L, int idx, const char *unit, const char *what)
{
    if (lua_type(L, idx) == LUA_TNUMBER) {
        double v = lua_tonumber(L, idx);
        if (!isfinite(v))
            scn_err(L, "%s: %s is not a finite number", what, isnan(v) ? "NaN" : v > 0 ? "inf" : "-inf");
        return v;
    }
    if (lua_type(L, idx) == LUA_TSTRING) {
        double v;
        const char *s = lua_tostring(L, idx);
        if (!cli_parse_quantity(s, unit, &v))
            return v;
        char hint[96];
        if (*cli_quantity_hint(s, unit, hint, sizeof hint))
            scn_err(L, "%s: '%s' is not a quantity in %s: %s", what, s, unit, hint);
        char *rest;
        (void)strtod(s, &rest);
        rest += rest != s && *rest == ' ';
        if (rest != s && !strcmp(unit, "s") && !strcmp(rest, "m")) /* as the CLI's times (cli_time_error) */
            scn_err(L, "%s: '%s' is not a time: milli or minutes? write ms or min", what, s);
        if (rest != s && *rest && !strcmp(unit, "s")) { /* "2days", "1Ms": the CLI's reason (min and h are times) */
            char why[128];
            scn_err(L, "%s: '%s' is not " CLI_TIME "%s", what, s, cli_time_why(s, why, sizeof why));
        }
        if (rest != s && *rest && *unit) /* a number with another unit: say which */
            scn_err(L, "%s: '%s' is not a quantity in %s: its unit '%s' is not %s or a prefix of it (e.g. \"20m%s\")",
                    what, s, unit, rest, unit, unit);
        if (!*unit) /* a count, a fraction: "20m" (milli) is no example for it */
            scn_err(L, "%s: '%s' is not a number", what, s);
        scn_err(L, "%s: '%s' is not a quantity in %s (a number, or e.g. \"20m%s\")", what, s, unit, unit);
    }
    scn_err(L, "%s: a number or a quantity string expected, got %s", what, luaL_typename(L, idx));
    return 0;
}

/* Field k of the table at idx as a quantity; def if absent. */
static double scn_field_q(lua_State *L, int idx, const char *k, const char *unit, double def, const char *what)
{
    lua_getfield(L, idx, k);
    double v = def;
    if (!lua_isnil(L, -1)) {
        char w[96];
        snprintf(w, sizeof w, "%s: %s", what, k);
        v = scn_arg_quantity(L, lua_gettop(L), unit, w);
    }
    lua_pop(L, 1);
    return v;
}

/* Field k of the table at idx as a whole number lo..hi (a Lua number,
 * not a quantity string: a counter or an id has no unit), or def when
 * absent; an error names the field and the range. */
static double scn_field_whole(lua_State *L, int idx, const char *k, double def, double lo, double hi, const char *what)
{
    lua_getfield(L, idx, k);
    double v = def;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TNUMBER)
            scn_err(L, "%s: %s must be a whole number (%.0f to %.0f), not a %s", what, k, lo, hi, luaL_typename(L, -1));
        v = lua_tonumber(L, -1);
        if (!(v >= lo && v <= hi && v == floor(v)))
            scn_err(L, "%s: %s = %.17g is not a whole number from %.0f to %.0f", what, k, v, lo, hi);
    }
    lua_pop(L, 1);
    return v;
}

/* A file named relative to the scenario's folder, which it must lie
 * under (no absolute name, no ".." part, no link that leads out): its
 * path into path[cap]. 0, or -1 with err. */
static int scn_file_under(lua_State *L, const char *what, const char *name, char *path, size_t cap, char *err,
                          size_t ecap)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "ek3.scn.dir");
    const char *dir = lua_tostring(L, -1);
    snprintf(path, cap, "%s/%s", dir ? dir : ".", name);
    int dotdot = !strcmp(name, "..") || !strncmp(name, "../", 3) || strstr(name, "/../") ||
                 (strlen(name) >= 3 && !strcmp(name + strlen(name) - 3, "/.."));
    if (name[0] == '/' || dotdot) {
        lua_pop(L, 1);
        snprintf(err, ecap, "%s '%s': name a file under the scenario's folder (no '/' first, no '..')", what, name);
        return -1;
    }
    char rd[PATH_MAX], rp[PATH_MAX];
    int ok = realpath(dir ? dir : ".", rd) != NULL;
    lua_pop(L, 1);
    if (!ok || !realpath(path, rp)) {
        snprintf(err, ecap, "%s %s: %s", what, path, strerror(errno));
        return -1;
    }
    size_t n = strlen(rd);
    if (n > 1 && (strncmp(rp, rd, n) || rp[n] != '/')) { /* the folder is / : everything is under it */
        snprintf(err, ecap, "%s %s: it leads out of the scenario's folder (to %.300s)", what, path, rp);
        return -1;
    }
    return 0;
}

static void scn_range(lua_State *L, const char *what, double v, double lo, double hi, const char *unit)
{
    char a[32], l[32], h[32]; /* in the unit's prefixes: "power = 20 MW is out of range 0 W to 10 MW" */
    if (v < 0 && lo == 0) /* as the CLI says it (cli_time_error) */
        scn_err(L, "%s = %s is negative: it is %s to %s", what, cli_si(a, sizeof a, v, unit), cli_si(l, sizeof l, lo, unit),
                cli_si(h, sizeof h, hi, unit));
    if (!(v >= lo && v <= hi))
        scn_err(L, "%s = %s is out of range %s to %s", what, cli_si(a, sizeof a, v, unit), cli_si(l, sizeof l, lo, unit),
                cli_si(h, sizeof h, hi, unit));
}

/* A Lua long bracket opening at p ("[[", "[==["): its level (the number
 * of '='), or -1 when p opens none. */
static int scn_long_open(const char *p, const char *end)
{
    if (p >= end || *p != '[')
        return -1;
    int lv = 0;
    for (p++; p < end && *p == '='; p++)
        lv++;
    return p < end && *p == '[' ? lv : -1;
}

/* Past the long bracket of level lv opening at p, counting its lines. */
static const char *scn_long_skip(const char *p, const char *end, int lv, int *line)
{
    for (p += lv + 2; p < end; p++) {
        if (*p == '\n')
            (*line)++;
        else if (*p == ']' && p + lv + 1 < end && p[lv + 1] == ']') {
            int k = 1;
            while (k <= lv && p[k] == '=')
                k++;
            if (k == lv + 1)
                return p + lv + 2;
        }
    }
    return end;
}

/* Past white space (lines counted) from p. */
static const char *scn_skip_space(const char *p, const char *end, int *line)
{
    for (; p < end && isspace((unsigned char)*p); p++)
        if (*p == '\n')
            (*line)++;
    return p;
}

/* The line of field `key` in the table that opens at the first '{' on or
 * after line `from`, scanning from p (at line `line`) as Lua tokens to
 * the brace that closes it: the first `key =` or `["key"] =` (not "==";
 * a key of digits: `[7] =`)
 * at the table's own depth, its `=` on a later line included; comments
 * and strings skipped. 0 when the table has no such field; else its line,
 * with *after past its '=' (at line *after_line). */
static int scn_table_field(const char *buf, const char *p, const char *end, int line, int from, const char *key,
                           const char **after, int *after_line)
{
    size_t kl = strlen(key);
    int depth = 0, opened = 0, found = 0;
    while (p < end && !found && !(opened && depth == 0)) {
        int on = line >= from, lv, at = line;
        char c = *p;
        const char *r = NULL;
        int l2 = line; /* a look ahead: its lines are counted when the scan gets there */
        if (c == '\n') {
            line++;
            p++;
        } else if (c == '-' && p + 1 < end && p[1] == '-') { /* a comment: to the line's end, or a long one */
            p += 2;
            if ((lv = scn_long_open(p, end)) >= 0)
                p = scn_long_skip(p, end, lv, &line);
            else
                while (p < end && *p != '\n')
                    p++;
        } else if ((lv = scn_long_open(p, end)) >= 0) { /* a long string */
            p = scn_long_skip(p, end, lv, &line);
        } else if (c == '"' || c == '\'') { /* a short string, its escapes (a "\" line break) included */
            const char *q = p + 1;
            for (; q < end && *q != c && *q != '\n'; q++)
                if (*q == '\\' && q + 1 < end && *++q == '\n')
                    line++;
            if (on && opened && depth == 1 && p > buf && p[-1] == '[' && (size_t)(q - p - 1) == kl &&
                !memcmp(p + 1, key, kl)) {
                r = scn_skip_space(q + 1, end, &l2);
                r = r < end && *r == ']' ? scn_skip_space(r + 1, end, &l2) : NULL;
            }
            p = q < end ? q + 1 : end;
        } else if (isalnum((unsigned char)c) || c == '_') { /* a name or a number */
            const char *q = p;
            while (q < end && (isalnum((unsigned char)*q) || *q == '_'))
                q++;
            if (on && opened && depth == 1 && (size_t)(q - p) == kl && !memcmp(p, key, kl)) {
                const char *b = p;
                while (b > buf && (b[-1] == ' ' || b[-1] == '\t'))
                    b--;
                if (!isdigit((unsigned char)key[0])) { /* a name, not a field of another (x.key, x:key) */
                    if (p == buf || (p[-1] != '.' && p[-1] != ':'))
                        r = scn_skip_space(q, end, &l2);
                } else if (b > buf && b[-1] == '[') { /* an index: [7] = */
                    r = scn_skip_space(q, end, &l2);
                    r = r < end && *r == ']' ? scn_skip_space(r + 1, end, &l2) : NULL;
                }
            }
            p = q;
        } else {
            if (on && c == '{')
                depth++, opened = 1;
            else if (on && c == '}' && depth > 0)
                depth--;
            p++;
        }
        if (r && r + 1 < end && r[0] == '=' && r[1] != '=') {
            found = at;
            if (after)
                *after = r + 1, *after_line = l2;
        }
    }
    return found;
}

/* The line of the field that `path` names in the table the calling
 * scenario line builds (the call's file from the call's line, where its
 * table starts: "scenario{ name = ...,"): its names separated by dots,
 * each a field of the table written as the one before's value
 * ("set.lrr": rack{ set = { lrr = 5 } }'s lrr; "slot.7.set.lrr": the
 * index 7's), as deep as the file writes them: the last one found when a
 * value is no table written there or has no such field. 0 when the call
 * is not in a file of its own (a lib/ helper's, a string chunk's) or the
 * table has not the first. The file's name, as Lua shortens it, into
 * src[cap]. */
static int scn_key_line(lua_State *L, const char *path, char *src, size_t cap)
{
    lua_Debug ar;
    if (!lua_getstack(L, 1, &ar) || !lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0 || ar.source[0] != '@' ||
        scn_in_helper(L, &ar))
        return 0;
    char *buf, err[64];
    size_t len;
    if (scn_read_file(ar.source + 1, 64u << 20, &buf, &len, err, sizeof err))
        return 0;
    const char *end = buf + len, *after = NULL, *from = buf;
    int al = 1, found = 0, line = ar.currentline;
    for (const char *k = path; *k;) {
        char key[64];
        size_t kl = strcspn(k, ".");
        if (kl == 0 || kl >= sizeof key)
            break;
        memcpy(key, k, kl);
        key[kl] = 0;
        k += kl + (k[kl] == '.');
        if (found) { /* the next name in the table written as this one's value */
            from = scn_skip_space(after, end, &al);
            if (from >= end || *from != '{')
                break;
            line = al;
        }
        int at = scn_table_field(buf, from, end, al, line, key, &after, &al);
        if (!at)
            break;
        found = at;
    }
    free(buf);
    snprintf(src, cap, "%s", ar.short_src);
    return found;
}

/* scn_err for the field `path` names in the table the calling line
 * builds (a name, or names with dots: scn_key_line): told at the field's
 * own line when scn_key_line finds it (a manifest over several lines:
 * "bad.lua:5", not the "scenario{" line 2), else at the call's (path
 * NULL: always). Does not return. */
static int scn_field_err(lua_State *L, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int scn_field_err(lua_State *L, const char *path, const char *fmt, ...)
{
    char msg[800], src[LUA_IDSIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int at = path ? scn_key_line(L, path, src, sizeof src) : 0;
    if (at > 0) {
        lua_pushfstring(L, "%s:%d: %s", src, at, msg);
        return lua_error(L);
    }
    return scn_err(L, "%s", msg);
}

/* Every key of the table at idx must be one of `keys` (NULL-ended). Of
 * several unknown ones the first in sorted order is named: the same on
 * every run (lua_next's order is the table's, which changes from one
 * process to the next). */
static void scn_known_keys(lua_State *L, int idx, const char *what, const char *const *keys)
{
    char bad[128] = "";
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            scn_err(L, "%s{}: keys are names, got a %s", what, luaL_typename(L, -1));
        const char *k = lua_tostring(L, -1);
        int ok = 0;
        for (const char *const *p = keys; *p; p++)
            ok |= !strcmp(*p, k);
        if (!ok && (!bad[0] || strcmp(k, bad) < 0))
            snprintf(bad, sizeof bad, "%s", k);
    }
    if (bad[0]) {
        char list[400] = "";
        for (const char *const *p = keys; *p; p++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", p == keys ? "" : ", ", *p);
        scn_field_err(L, strchr(bad, '.') ? NULL : bad, "%s{}: unknown field '%s' (it takes %s)", what, bad,
                      list); /* at its own line */
    }
}

/* ---- the verdict ---- */

const char *scn_fig_result(const scn_fig *f, char *buf, size_t cap)
{
    char v[64];
    if (isnan(f->value) && !strncmp(f->limit, "true", 4)) /* a condition: expect(), run_until() */
        snprintf(buf, cap, ": %s", f->pass ? "true" : "false");
    else if (isnan(f->value) && cap) /* its name says what happened ("at(5 s) never ran ...") */
        buf[0] = 0;
    else
        snprintf(buf, cap, " = %s", cli_si(v, sizeof v, f->value, f->unit));
    return buf;
}

const char *scn_fig_limit(const scn_fig *f, char *buf, size_t cap)
{
    size_t n = strlen(f->limit);
    if (f->limit[0] == '(' && n >= 2 && f->limit[n - 1] == ')') /* a figure recorded without a limit */
        snprintf(buf, cap, "%.*s", (int)(n - 2), f->limit + 1);
    else if (!strncmp(f->limit, "true", 4)) /* a condition: expect(), expect_always(), run_until() */
        snprintf(buf, cap, "expected %s", f->limit);
    else
        snprintf(buf, cap, "limit %s", f->limit);
    return buf;
}

void scn_figure(scn *x, const char *name, double value, const char *unit, const char *limit, int pass,
                const char *where)
{
    scn_result *r = x->r;
    if (r->nfig == r->capfig) {
        unsigned cap = r->capfig ? r->capfig * 2 : 16;
        scn_fig *f = realloc(r->fig, cap * sizeof *f);
        if (!f) {
            r->lost_figs++; /* the verdict becomes ERROR: a lost figure may have been a failure */
            return;
        }
        r->fig = f;
        r->capfig = cap;
    }
    scn_fig *f = &r->fig[r->nfig];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name ? name : "");
    f->value = value;
    snprintf(f->unit, sizeof f->unit, "%s", unit ? unit : "");
    size_t nl = limit ? strnlen(limit, sizeof f->limit - 1) : 0; /* cut to fit, as snprintf would */
    memcpy(f->limit, limit ? limit : "", nl);
    f->limit[nl] = '\0';
    f->pass = pass;
    f->t_s = scn_now(x);
    if (where)
        snprintf(f->where, sizeof f->where, "%s", where);
    else
        scn_where(x->L, f->where, sizeof f->where);
    if (!pass && r->first_fail < 0)
        r->first_fail = (int)r->nfig;
    r->nfig++;
}

/* ---- watchers and timers ---- */

int scn_watch(scn *x, scn_watch_fn fn, void (*at_end)(scn *x, void *ctx), void *ctx, void (*free_ctx)(void *ctx))
{
    if (x->nw == x->capw) {
        unsigned cap = x->capw ? x->capw * 2 : 16;
        scn_watcher *w = realloc(x->w, cap * sizeof *w);
        if (!w)
            return EK3_ENOSPC;
        x->w = w;
        x->capw = cap;
    }
    x->w[x->nw++] = (scn_watcher){fn, at_end, ctx, free_ctx, 1};
    return 0;
}

static void scn_watch_drop(scn_watcher *w)
{
    if (w->free_ctx)
        w->free_ctx(w->ctx);
    w->live = 0;
}

/* What the value at idx is, said for a condition that is not a boolean:
 * Lua counts a string or a number as true, so a condition written as
 * one ("bus.v > 900", get("bus.v")) would hold whatever the rig does;
 * returned: the value a function returned (a nil: no return on a path). */
static void scn_not_boolean(lua_State *L, int idx, int returned, char *v, size_t cap)
{
    if (lua_isnil(L, idx))
        snprintf(v, cap, "%s", returned ? "nil (no return on that path, or a name not set?)" : "nil (a name not set?)");
    else if (lua_type(L, idx) == LUA_TSTRING)
        snprintf(v, cap, "the string '%.40s', which Lua counts as true", lua_tostring(L, idx));
    else if (lua_type(L, idx) == LUA_TNUMBER)
        snprintf(v, cap, "the number %.10g, which Lua counts as true", lua_tonumber(L, idx));
    else
        snprintf(v, cap, "a %s, which Lua counts as true", luaL_typename(L, idx));
}

int scn_call_cond(scn *x, int ref, const char *what, const char *where)
{
    lua_State *L = x->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    x->instr = 0;
    lua_call(L, 0, 1);
    if (!lua_isboolean(L, -1)) {
        char v[96];
        scn_not_boolean(L, -1, 1, v, sizeof v);
        lua_pop(L, 1);
        if (where && where[0]) {
            lua_pushfstring(L,
                            "%s: %s: the condition returned %s, not a boolean: return a comparison, as "
                            "function() return get(\"bus.v\") >= 700 end",
                            where, what, v);
            return lua_error(L);
        }
        return scn_err(L,
                       "%s: the condition returned %s, not a boolean: return a comparison, as "
                       "function() return get(\"bus.v\") >= 700 end",
                       what, v);
    }
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* ---- the session's quanta and what runs between them ---- */

/* The block being hashed is complete (or the run ended): append it to
 * r->block; at SCN_BLOCKS_MAX blocks, merge pairs (the later prefix hash,
 * the fingerprints XORed) and double block_rows. Out of memory: the
 * blocks are dropped (nblock 0: replay then says only that the hashes
 * differ). */
static void scn_block_close(scn *x, uint64_t rows_end)
{
    scn_result *r = x->r;
    if (!x->blk_rows || !x->blk_fp)
        return;
    uint32_t *col = malloc((r->ncol ? r->ncol : 1) * sizeof *col);
    scn_block *b = r->nblock ? r->block : malloc(SCN_BLOCKS_MAX * sizeof *b);
    if (!col || !b) {
        free(col);
        if (!r->nblock)
            free(b);
        free(x->blk_fp);
        x->blk_fp = NULL; /* no more blocks: the trace hash stays whole */
        for (unsigned i = 0; i < r->nblock; i++)
            free(r->block[i].col);
        free(r->block);
        r->block = NULL;
        r->nblock = 0;
        return;
    }
    r->block = b;
    scn_block *k = &b[r->nblock++];
    mbedtls_sha256_context c;
    mbedtls_sha256_init(&c);
    mbedtls_sha256_clone(&c, &x->sha);
    mbedtls_sha256_finish_ret(&c, k->sha256);
    mbedtls_sha256_free(&c);
    k->rows_end = rows_end;
    k->t0_s = x->blk_t0;
    k->t1_s = x->blk_t1;
    memcpy(col, x->blk_fp, r->ncol * sizeof *col);
    k->col = col;
    memset(x->blk_fp, 0, r->ncol * sizeof *x->blk_fp);
    x->blk_rows = 0;
    if (r->nblock == SCN_BLOCKS_MAX) {
        for (unsigned i = 0; i < SCN_BLOCKS_MAX / 2; i++) {
            scn_block *a = &b[2 * i], *z = &b[2 * i + 1];
            for (unsigned c2 = 0; c2 < r->ncol; c2++)
                a->col[c2] ^= z->col[c2];
            memcpy(a->sha256, z->sha256, 32);
            a->rows_end = z->rows_end;
            a->t1_s = z->t1_s;
            free(z->col);
            b[i] = *a;
        }
        r->nblock = SCN_BLOCKS_MAX / 2;
        r->block_rows *= 2;
    }
}

/* A 64-bit mix (the finaliser of MurmurHash3 / splitmix64). */
static uint64_t scn_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void scn_hash_rows(scn *x)
{
    const ses_record *rec = &x->s->rec;
    uint64_t avail = rec->total;
    uint64_t first_held = rec->total - (uint64_t)rec->count;
    if (x->hashed < first_held)
        x->hashed = first_held; /* cannot happen: we hash after every quantum */
    for (; x->hashed < avail; x->hashed++) {
        long i = (long)(x->hashed - first_held);
        const double *row = ses_rec_row(x->s, i);
        mbedtls_sha256_update_ret(&x->sha, (const unsigned char *)row, rec->ncol * sizeof(double));
        if (x->o.prefix_rows && x->hashed + 1 == x->o.prefix_rows) { /* the recorded trace's length: replay's */
            mbedtls_sha256_context c;
            mbedtls_sha256_init(&c);
            mbedtls_sha256_clone(&c, &x->sha);
            x->r->has_prefix = mbedtls_sha256_finish_ret(&c, x->r->prefix_sha256) == 0;
            mbedtls_sha256_free(&c);
        }
        if (!x->blk_fp)
            continue;
        uint64_t salt = (x->hashed + 1) * 0x9e3779b97f4a7c15ull;
        for (unsigned c = 0; c < rec->ncol; c++) {
            uint64_t bits;
            memcpy(&bits, &row[c], sizeof bits);
            x->blk_fp[c] ^= (uint32_t)scn_mix(bits ^ salt);
        }
        if (!x->blk_rows)
            x->blk_t0 = row[0];
        x->blk_t1 = row[0];
        if (++x->blk_rows == x->r->block_rows)
            scn_block_close(x, x->hashed + 1);
    }
}

static void scn_inject(scn *x, scn_pending *p)
{
    scn_fault *f = &x->r->fault[p->idx];
    /* a leader target becomes the module it went into: its clear undoes it there */
    int was_leader = f->spec.leader;
    char why[400] = "";
    int rc = flt_go(&x->s->g, &f->spec, why, sizeof why);
    p->injected = 1;
    f->onset_s = scn_now(x);
    if (was_leader && !f->spec.leader) { /* its text names the module the leader was */
        char t[sizeof f->text - 16];
        flt_spec shown = f->spec;
        if (shown.t < 0)
            shown.t = scn_s(x->s->g.t_ns);
        flt_format(&shown, t, sizeof t);
        snprintf(f->text, sizeof f->text, "%s (the leader)", t);
    } else if (f->spec.t < 0) { /* a condition's fault: its text shows when it went in */
        flt_spec shown = f->spec;
        shown.t = scn_s(x->s->g.t_ns);
        flt_format(&shown, f->text, sizeof f->text);
    }
    f->error = rc;
    if (rc) {
        char msg[700];
        /* A figure's name is short (scn_fig.name): the reason without its
         * fault's name again, the time is the figure's. */
        const char *r = why;
        size_t nl = strlen(flt_table[f->spec.id].name);
        if (!strncmp(r, flt_table[f->spec.id].name, nl) && !strncmp(r + nl, ": ", 2))
            r += nl + 2;
        snprintf(msg, sizeof msg, "fault %s not injected: %s", f->text, r[0] ? r : ek3_strerror(rc));
        /* Too long for a figure's name: the reason's first remark in
         * parentheses goes (the rule stays, its grounds are in the docs). */
        char *open = strstr(strstr(msg, " not injected: "), " (");
        char *close = open ? strchr(open, ')') : NULL;
        if (strlen(msg) >= sizeof x->r->fig[0].name && close)
            memmove(open, close + 1, strlen(close + 1) + 1);
        scn_figure(x, msg, NAN, "", "injected", 0, f->where);
    }
}

static void scn_faults_due(scn *x)
{
    int64_t t = x->s->g.t_ns;
    for (unsigned i = 0; i < x->r->nfault; i++) {
        scn_pending *p = &x->pend[i];
        if (p->dropped)
            continue;
        if (!p->injected) {
            int due = p->when_ref != LUA_NOREF ? scn_call_cond(x, p->when_ref, "fault: when", x->r->fault[p->idx].where)
                                               : t >= p->at_ns;
            if (due) {
                scn_inject(x, p);
                if (p->clear_ns >= 0 && p->when_ref != LUA_NOREF)
                    p->clear_ns += t; /* duration after a condition's onset */
            }
        } else if (!p->cleared && p->clear_ns >= 0 && t >= p->clear_ns) {
            scn_fault *f = &x->r->fault[p->idx];
            p->cleared = 1;
            if (!f->error && !flt_clear(&x->s->g, &f->spec))
                f->cleared_s = scn_now(x);
        }
    }
}

static void scn_timers_due(scn *x)
{
    int64_t t = x->s->g.t_ns;
    for (;;) {
        /* the earliest due timer, by time, then registration */
        int best = -1;
        for (unsigned i = 0; i < x->ntim; i++) {
            scn_timer *m = &x->tim[i];
            if (m->ref == LUA_NOREF || m->at_ns > t)
                continue;
            if (best < 0 || m->at_ns < x->tim[best].at_ns ||
                (m->at_ns == x->tim[best].at_ns && m->order < x->tim[best].order))
                best = (int)i;
        }
        if (best < 0)
            return;
        scn_timer *m = &x->tim[best];
        int ref = m->ref;
        m->fired = 1;
        if (m->every_ns > 0) {
            m->at_ns += m->every_ns;
            m->order = x->tim_order++;
        } else {
            m->ref = LUA_NOREF;
        }
        lua_State *L = x->L;
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
        x->instr = 0;
        lua_call(L, 0, 0);
        if (m->every_ns == 0)
            luaL_unref(L, LUA_REGISTRYINDEX, ref);
        /* m may have moved (a callback added timers): it is not read again */
    }
}

/* End the run from C (a stop, a timeout, the session's stop): scn_err's
 * message, kept as the run's end (scn.dead). Does not return. */
static int scn_die(lua_State *L, scn *x, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int scn_die(lua_State *L, scn *x, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char where[LUA_IDSIZE * 2 + 40];
    scn_where(L, where, sizeof where);
    snprintf(x->fatal, sizeof x->fatal, "%s%s%s", where, where[0] ? ": " : "", msg);
    x->dead = 1;
    return scn_raise_fatal(L, x);
}

/* ---- the key signals (keys.csv, key.h) ---- */

/* Add a key signal by path (resolved against the rack); a path already
 * there is kept once. 0, EK3_ENOSPC (KEY_MAX already), or EK3_ENOENT /
 * EK3_ERANGE with err (sig_resolve's "did you mean"). */
static int scn_key_add(scn *x, const char *path, char *err, size_t cap)
{
    sig_ref ref;
    char canon[KEY_NAME_CAP];
    int rc = sig_resolve(x->s, path, &ref, err, cap);
    if (rc)
        return rc;
    if (!sig_path(&ref, canon, sizeof canon))
        snprintf(canon, sizeof canon, "%.*s", KEY_NAME_CAP - 1, path);
    for (unsigned i = 0; i < x->nkey; i++)
        if (!strcmp(x->key_path[i], canon))
            return 0;
    if (x->nkey == KEY_MAX)
        return EK3_ENOSPC;
    snprintf(x->key_path[x->nkey], KEY_NAME_CAP, "%s", canon);
    x->key_ref[x->nkey++] = ref;
    return 0;
}

#define SCN_KEY_DEFAULTS 3u

static void scn_keys_defaults(scn *x)
{
    static const char *const def[SCN_KEY_DEFAULTS] = {"bus.v", "bus.p", "rack.i_mean"};
    char err[200];
    for (unsigned j = 0; j < SCN_KEY_DEFAULTS && x->nkey < SCN_KEY_DEFAULTS; j++)
        (void)scn_key_add(x, def[j], err, sizeof err); /* every rack has them */
}

static void scn_keys_sample(scn *x)
{
    double v[KEY_MAX];
    for (unsigned i = 0; i < x->nkey; i++)
        v[i] = sig_read(x->s, &x->key_ref[i]);
    (void)key_push(x->keys, scn_now(x), v); /* times rise quantum by quantum */
}

/* At the first quantum: with a report directory, the recording starts
 * with a sample of the present. Memory short: no keys.csv, said once. */
static void scn_keys_start(scn *x)
{
    x->key_started = 1;
    if (!x->o.report_dir)
        return;
    scn_keys_defaults(x);
    const char *names[KEY_MAX], *units[KEY_MAX];
    for (unsigned i = 0; i < x->nkey; i++)
        names[i] = x->key_path[i], units[i] = sig_unit(&x->key_ref[i]);
    x->keys = malloc(sizeof *x->keys);
    if (!x->keys || key_init(x->keys, x->nkey, names, units)) {
        fprintf(x->o.out, "%s: no keys.csv: %s\n", x->r->m.name,
                x->keys ? "its signals could not be set up (out of memory)" : "out of memory");
        free(x->keys);
        x->keys = NULL;
        return;
    }
    scn_keys_sample(x);
}

/* REPORT_DIR/keys.csv; a failure prints why and records a failed figure. */
static void scn_keys_write(scn *x)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/keys.csv", x->o.report_dir);
    errno = 0;
    FILE *f = fopen(path, "w");
    int rc = f ? key_write_csv(x->keys, f) : EK3_EIO;
    int e = errno;
    if (f && fclose(f) && !rc)
        rc = EK3_EIO, e = errno;
    if (!rc)
        return;
    fprintf(stderr, "ek3 scenario: %s: cannot write %s: %s\n", x->r->m.path, path, e ? strerror(e) : ek3_strerror(rc));
    char where[600];
    snprintf(where, sizeof where, "%s", x->r->m.path);
    scn_figure(x, "key signals: keys.csv could not be written (see stderr)", NAN, "", "written", 0, where);
}

/* keys{"module[5].iout", "canbus.load"}: up to KEY_NAMED_MAX signals
 * besides the defaults, after rack{} and before the first run(). */
static int l_keys(lua_State *L)
{
    scn *x = scn_of(L);
    if (!x->s)
        return scn_err(L, "keys{}: no rack yet (call rack{...} first: the paths are checked against it)");
    if (x->key_started)
        return scn_err(L, "keys{}: give the key signals before the first run() or run_until() (the recording starts at the first quantum)");
    if (!lua_istable(L, 1))
        return scn_err(L, "keys{}: a list of signal paths, e.g. keys{\"module[5].iout\", \"canbus.load\"}");
    lua_Integer n = luaL_len(L, 1), pairs = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        pairs++;
        lua_pop(L, 1);
    }
    if (pairs != n)
        return scn_err(L, "keys{}: a list of signal paths, without name=value fields");
    scn_keys_defaults(x);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 1, i);
        const char *path = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (!path)
            return scn_err(L, "keys{}: [%lld] must be a signal path (a string)", (long long)i);
        char err[400];
        unsigned before = x->nkey;
        int rc = scn_key_add(x, path, err, sizeof err);
        if (rc == EK3_ENOSPC || x->nkey > SCN_KEY_DEFAULTS + KEY_NAMED_MAX) {
            x->nkey = before;
            return scn_err(L, "keys{}: at most %d signals besides bus.v, bus.p and rack.i_mean", KEY_NAMED_MAX);
        }
        if (rc)
            return scn_err(L, "keys{}: %s", err);
        lua_pop(L, 1);
    }
    return 0;
}

/* One quantum and everything that runs after it. A Lua error or a stop
 * goes up as a Lua error. */
static void scn_quantum(scn *x)
{
    lua_State *L = x->L;
    if (x->dead)
        scn_raise_fatal(L, x);
    if (!x->key_started) /* the first quantum, whether run() or run_until() steps it */
        scn_keys_start(x);
    if (x->o.stop && x->o.stop(x->o.stop_ctx)) {
        x->stopped = 1;
        scn_die(L, x, "stopped by a signal at %.6f s", scn_now(x));
    }
    if (scn_wall_ns() > x->wall_deadline_ns)
        scn_die(L, x, "timeout: the run took more than %g s of wall-clock time (at %.6f s simulated)", x->r->m.timeout_s,
                scn_now(x));
    x->instr = 0; /* the limit holds between two returns to the rig: each quantum is one */
    int rc = ses_step(x->s);
    if (rc)
        scn_die(L, x, "the session stopped: %s", x->s->stop_why[0] ? x->s->stop_why : ek3_strerror(rc));
    scn_hash_rows(x);
    scn_faults_due(x);
    if (x->keys)
        scn_keys_sample(x);
    for (unsigned i = 0; i < x->nw; i++) {
        scn_watcher *w = &x->w[i];
        if (!w->live)
            continue;
        if (!w->fn(x, w->ctx))
            scn_watch_drop(&x->w[i]); /* x->w may have grown: index again */
    }
    scn_timers_due(x);
}

static void scn_need_rack(lua_State *L, const scn *x, const char *what)
{
    if (!x->s)
        scn_err(L, "%s: no rack yet (call rack{...} first)", what);
}

/* Run quanta until simulated time t_ns (at least one quantum if t_ns is
 * past the present by any amount). */
static void scn_run_to(scn *x, int64_t t_ns)
{
    x->in_run = 1;
    while (x->s->g.t_ns < t_ns)
        scn_quantum(x);
    x->in_run = 0;
    x->instr = 0;
}

/* ---- the globals ---- */

static int l_scenario(lua_State *L)
{
    scn *x = scn_of(L);
    scn_manifest *m = &x->r->m;
    luaL_checktype(L, 1, LUA_TTABLE);
    if (x->manifest_done)
        return scn_err(L, "scenario{}: given twice");
    if (x->s)
        return scn_err(L, "scenario{}: must come before rack{}");
    scn_known_keys(L, 1, "scenario", scn_manifest_keys);
    lua_getfield(L, 1, "name");
    const char *name = lua_tostring(L, -1);
    if (!name || !*name || strlen(name) >= sizeof m->name)
        return scn_field_err(L, "name", "scenario{}: name is required, a string of 1 to %d characters",
                             (int)sizeof m->name - 1);
    for (const char *c = name; *c; c++)
        if (!(*c == '-' || *c == '_' || *c == '.' || (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
              (*c >= 'A' && *c <= 'Z')))
            return scn_field_err(
                L, "name", "scenario{}: name '%s': letters, digits, '-', '_' and '.' only (it names files)", name);
    snprintf(m->name, sizeof m->name, "%s", name);
    lua_pop(L, 1);
    lua_getfield(L, 1, "level");
    const char *lv = lua_isnil(L, -1) ? "quick" : lua_tostring(L, -1);
    if (!lv || (strcmp(lv, "quick") && strcmp(lv, "nightly") && strcmp(lv, "soak")))
        return scn_field_err(L, "level", "scenario{}: level must be \"quick\", \"nightly\" or \"soak\"");
    snprintf(m->level, sizeof m->level, "%s", lv);
    lua_pop(L, 1);
    static const char *const lists[2] = {"tags", "requirements"};
    for (int k = 0; k < 2; k++) {
        char *dst = k ? m->requirements : m->tags;
        size_t cap = k ? sizeof m->requirements : sizeof m->tags;
        lua_getfield(L, 1, lists[k]);
        if (!lua_isnil(L, -1)) {
            if (!lua_istable(L, -1))
                return scn_field_err(L, lists[k], "scenario{}: %s must be a list of strings", lists[k]);
            lua_Integer n = luaL_len(L, -1);
            for (lua_Integer i = 1; i <= n; i++) {
                lua_geti(L, -1, i);
                const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
                if (!s || strchr(s, k ? ';' : ','))
                    return scn_field_err(L, lists[k], "scenario{}: %s[%d] must be a string without '%c'", lists[k],
                                         (int)i, k ? ';' : ',');
                size_t used = strlen(dst);
                if (used + strlen(s) + 2 > cap)
                    return scn_field_err(L, lists[k], "scenario{}: %s: more than %d characters in all", lists[k],
                                         (int)cap - 2);
                snprintf(dst + used, cap - used, "%s%s", used ? (k ? ";" : ",") : "", s);
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
    /* gaps = {"claim: why", ...}: what the seed claims that the rig shows it
     * cannot hold; the nightly report names each with its reason. */
    lua_getfield(L, 1, "gaps");
    if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1))
            return scn_field_err(L, "gaps", "scenario{}: gaps must be a list of strings \"claim: why\"");
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, -1, i);
            const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
            const char *colon = s ? strstr(s, ": ") : NULL;
            if (!s || strchr(s, '\n') || !colon || colon == s || !colon[2])
                return scn_field_err(
                    L, "gaps", "scenario{}: gaps[%d] must be one line \"claim: why\" (the claim, ': ', the reason)",
                    (int)i);
            size_t used = strlen(m->gaps);
            if (used + strlen(s) + 2 > sizeof m->gaps)
                return scn_field_err(L, "gaps", "scenario{}: gaps: more than %d characters in all",
                                     (int)sizeof m->gaps - 2);
            char *d = m->gaps + used; /* fits: checked above */
            if (used)
                *d++ = '\n';
            memcpy(d, s, strlen(s) + 1);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    lua_getfield(L, 1, "seeds");
    m->nseeds = 0;
    if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1))
            return scn_field_err(L, "seeds", "scenario{}: seeds must be a list of whole numbers, e.g. {1,2,3}");
        lua_Integer n = luaL_len(L, -1);
        if (n < 1 || n > SCN_SEEDS_MAX)
            return scn_field_err(L, "seeds", "scenario{}: seeds: 1 to %u of them", SCN_SEEDS_MAX);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, -1, i);
            char what[80];
            if (scn_seed_at(L, -1, &m->seeds[m->nseeds], what, sizeof what))
                return scn_field_err(L, "seeds", "scenario{}: seeds[%d] must be " CLI_SEED_RANGE " (%s)", (int)i, what);
            for (unsigned j = 0; j < m->nseeds; j++) /* one run, one report folder (seed-N), per seed */
                if (m->seeds[j] == m->seeds[m->nseeds])
                    return scn_field_err(L, "seeds", "scenario{}: seeds[%d]: %llu is seeds[%u] already", (int)i,
                                         (unsigned long long)m->seeds[j], j + 1);
            m->nseeds++;
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    if (!m->nseeds)
        m->seeds[m->nseeds++] = 1;
    m->timeout_s = scn_field_q(L, 1, "timeout", "s", SCN_TIMEOUT_S, "scenario{}");
    scn_range(L, "scenario{}: timeout", m->timeout_s, 0.001, 86400, "s");
    if (x->o.timeout_s > 0)
        m->timeout_s = x->o.timeout_s;
    x->wall_deadline_ns = x->wall0_ns + scn_ns(m->timeout_s);
    x->manifest_done = 1;
    if (x->manifest_only) {
        x->dead = x->manifest_stop = 1;
        return scn_raise_fatal(L, x);
    }
    return 0;
}

/* The load given by rack{} or load{} at table idx into *l (kind kept
 * for set_load{}: the rig's load kind cannot change); errors name the
 * power field load_name (set_load{}'s power= is its load=). Returns
 * whether one was given. */
static int scn_load_fields(lua_State *L, int idx, rack_load *l, const char *what, const char *load_name)
{
    int given = 0;
    lua_getfield(L, idx, "load");
    if (!lua_isnil(L, -1)) {
        char w[64];
        snprintf(w, sizeof w, "%s: %s", what, load_name);
        double p = scn_arg_quantity(L, lua_gettop(L), "W", w);
        scn_range(L, w, p, 0, RACK_LOAD_MAX_W, "W");
        l->kind = RACK_LOAD_CP;
        l->p_w = p;
        if (!(l->v_min > 0))
            l->v_min = 100;
        given++;
    }
    lua_pop(L, 1);
    lua_getfield(L, idx, "ohm");
    if (!lua_isnil(L, -1)) {
        char w[64];
        snprintf(w, sizeof w, "%s: ohm", what);
        double r = scn_arg_quantity(L, lua_gettop(L), "ohm", w);
        scn_range(L, w, r, RACK_LOAD_R_MIN, RACK_LOAD_R_MAX, "ohm");
        l->kind = RACK_LOAD_R;
        l->r = r;
        given++;
    }
    lua_pop(L, 1);
    lua_getfield(L, idx, "battery");
    if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1))
            scn_err(L, "%s: battery must be a table, e.g. battery={q_ah=250, soc=0.2}", what);
        int b = lua_gettop(L);
        static const char *const keys[] = {"q_ah", "soc", "r_int", "ocv_empty", "ocv_full", NULL};
        scn_known_keys(L, b, "battery", keys);
        *l = (rack_load){.kind = RACK_LOAD_BATTERY};
        l->q_ah = scn_field_q(L, b, "q_ah", "Ah", 250, "battery");
        scn_range(L, "battery: q_ah", l->q_ah, 0.1, 10000, "Ah");
        l->soc = scn_field_q(L, b, "soc", "", 0.2, "battery");
        scn_range(L, "battery: soc", l->soc, 0, 1, "");
        l->r_int = scn_field_q(L, b, "r_int", "ohm", 0.05, "battery");
        scn_range(L, "battery: r_int", l->r_int, 1e-4, 10, "ohm");
        l->ocv_empty = scn_field_q(L, b, "ocv_empty", "V", 600, "battery");
        l->ocv_full = scn_field_q(L, b, "ocv_full", "V", 800, "battery");
        scn_range(L, "battery: ocv_empty", l->ocv_empty, 1, 1000, "V");
        scn_range(L, "battery: ocv_full", l->ocv_full, l->ocv_empty, 1000, "V");
        given++;
    }
    lua_pop(L, 1);
    if (given > 1)
        scn_err(L, "%s: give one of load=, ohm= and battery=", what);
    return given;
}

/* The string keys of the table at idx, sorted (strcmp), into keys (cap),
 * so that what a scenario's name=value table does and prints is the same
 * every run: Lua seeds its table order per process (lua_next). The
 * pointers stay valid while the table is on the stack. Raises a script
 * error, naming `what`, for a key that is not a string or past cap. */
static int scn_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static unsigned scn_sorted_keys(lua_State *L, int idx, const char *what, const char **keys, unsigned cap)
{
    unsigned n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            scn_err(L, "%s: keys are names, got a %s", what, luaL_typename(L, -1));
        if (n == cap)
            scn_err(L, "%s: more than %u names", what, cap);
        keys[n++] = lua_tostring(L, -1);
    }
    qsort(keys, n, sizeof *keys, scn_cmp_str);
    return n;
}

/* Apply set={name=value, ...} at table idx to *p (prm_set), each
 * assignment appended to text (cap bytes) as " PREFIXname=value" in
 * ek3 rack's flags (prefix e.g. "--set " or "--slot-set 7:"). */
static void scn_set_params(lua_State *L, int idx, plant_params *p, const char *what, const char *at, char *text,
                           size_t cap, const char *prefix)
{
    if (!lua_istable(L, idx))
        scn_err(L, "%s: set must be a table of name=value", what);
    const char *keys[128];
    char swhat[160];
    snprintf(swhat, sizeof swhat, "%s: set", what);
    unsigned nk = scn_sorted_keys(L, idx, swhat, keys, 128);
    for (unsigned i = 0; i < nk; i++) {
        char assign[200], err[200], num[32], path[160];
        const char *k = keys[i];
        snprintf(path, sizeof path, "%s.%s", at, k); /* where the file writes it (scn_key_line) */
        lua_getfield(L, idx, k);
        if (lua_type(L, -1) == LUA_TNUMBER)
            snprintf(assign, sizeof assign, "%s=%s", k, flt_num(num, lua_tonumber(L, -1)));
        else if (lua_type(L, -1) == LUA_TSTRING)
            snprintf(assign, sizeof assign, "%s=%s", k, lua_tostring(L, -1));
        else
            scn_field_err(L, path, "%s: set.%s must be a number or a quantity string", what, k);
        if (prm_set(p, assign, err, sizeof err) || prm_check_board(p, err, sizeof err))
            scn_field_err(L, path, "%s: set %s: %s", what, assign, err);
        size_t used = strlen(text);
        snprintf(text + used, cap - used, " %s%s", prefix, assign);
        lua_pop(L, 1);
    }
}

/* The droop the modules run: rack{droop=} when given, else LLC_CONTROL's own (5 V/A). */
static double scn_droop_in_force(float r_droop)
{
    llcc_cfg c;
    llcc_default_cfg(&c);
    return r_droop > 0 ? r_droop : c.r_droop;
}

static void scn_rack_text(scn *x, const ses_opts *so, double load_at, double load_ramp)
{
    const rig_opts *o = &so->r;
    char load[80];
    if (o->load.kind == RACK_LOAD_CP)
        snprintf(load, sizeof load, "--load %gW", o->load.p_w);
    else if (o->load.kind == RACK_LOAD_R)
        snprintf(load, sizeof load, "--load-ohm %g", o->load.r);
    else
        snprintf(load, sizeof load, "--battery");
    snprintf(x->r->rack_text, sizeof x->r->rack_text,
             "--modules %u %s --vset %g --droop %g --fidelity %s --seed %llu --load-at %gs --load-ramp %gs --threads %u",
             o->modules, load, (double)o->v_set, (double)scn_droop_in_force(o->r_droop),
             o->fidelity == PMOD_SWITCHING ? "switching" : "averaged", (unsigned long long)o->seed, load_at, load_ramp,
             o->threads ? o->threads : 1);
    if (o->no_swarm) {
        size_t n = strlen(x->r->rack_text);
        snprintf(x->r->rack_text + n, sizeof x->r->rack_text - n, " --no-swarm");
    }
}

/* The frame log's name in a write error (scn_opts.can_log_name). */
static const char *scn_log_name(const scn_opts *o)
{
    return o->can_log_name ? o->can_log_name : "the CAN log";
}

static int l_rack(lua_State *L)
{
    scn *x = scn_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    if (!x->manifest_done)
        return scn_err(L, "rack{}: the scenario{...} manifest must come first");
    if (x->s)
        return scn_err(L, "rack{}: given twice (one rack per scenario)");
    scn_known_keys(L, 1, "rack", scn_rack_keys);
    ses_opts so;
    memset(&so, 0, sizeof so);
    rig_opts *o = &so.r;
    o->fidelity = PMOD_AVERAGED;
    o->v_set = 750;
    o->load = (rack_load){.kind = RACK_LOAD_CP, .p_w = 0, .v_min = 100};
    o->ext_timeout_ms = 200;
    o->via_station = 1;
    o->log_t0_ns = 0;
    snprintf(o->fw_bus, sizeof o->fw_bus, "udp:127.0.0.1:47000");
    prm_defaults(&o->plant);
    double m = scn_field_q(L, 1, "modules", "", 84, "rack{}");
    if (m >= 1 && m <= 510 && m != floor(m))
        return scn_err(L, "rack{}: modules = %g is not a whole number (1 to 510)", m);
    if (!(m >= 1 && m <= 510))
        return scn_err(L, "rack{}: modules = %g is out of range 1 to 510 (a whole number)", m);
    o->modules = (unsigned)m;
    lua_getfield(L, 1, "fidelity");
    if (!lua_isnil(L, -1)) {
        const char *f = lua_tostring(L, -1);
        if (f && !strcmp(f, "averaged"))
            o->fidelity = PMOD_AVERAGED;
        else if (f && !strcmp(f, "switching"))
            o->fidelity = PMOD_SWITCHING;
        else
            return scn_err(L, "rack{}: fidelity must be \"averaged\" or \"switching\"");
    }
    lua_pop(L, 1);
    scn_load_fields(L, 1, &o->load, "rack{}", "load");
    double load_at = scn_field_q(L, 1, "load_at", "s", SES_LOAD_AT_S, "rack{}");
    scn_range(L, "rack{}: load_at", load_at, 0, 86400, "s");
    double load_ramp = scn_field_q(L, 1, "load_ramp", "s", SES_LOAD_RAMP_S, "rack{}");
    scn_range(L, "rack{}: load_ramp", load_ramp, 0, 86400, "s");
    o->v_set = (float)scn_field_q(L, 1, "vset", "V", 750, "rack{}");
    scn_range(L, "rack{}: vset", o->v_set, 200, 920, "V");
    double droop = scn_field_q(L, 1, "droop", "V/A", 0, "rack{}");
    if (droop != 0)
        scn_range(L, "rack{}: droop", droop, 1e-6, 100, "V/A");
    o->r_droop = (float)droop;
    lua_getfield(L, 1, "seed");
    if (!lua_isnil(L, -1)) {
        char what[80];
        if (scn_seed_at(L, -1, &o->seed, what, sizeof what))
            return scn_err(L, "rack{}: seed must be " CLI_SEED_RANGE " (%s)", what);
    } else {
        o->seed = x->o.seed;
    }
    lua_pop(L, 1);
    char sets[sizeof x->r->rack_text] = "";
    lua_getfield(L, 1, "set");
    if (!lua_isnil(L, -1))
        scn_set_params(L, lua_gettop(L), &o->plant, "rack{}", "set", sets, sizeof sets, "--set ");
    lua_pop(L, 1);
    /* slot={[K]={set={...}}}: slot K's own parameters, over the rack's */
    lua_getfield(L, 1, "slot");
    if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1))
            return scn_err(L, "rack{}: slot must be a table {[SLOT]={set={name=value, ...}}}");
        int t = lua_gettop(L);
        plant_params *own = lua_newuserdatauv(L, o->modules * sizeof *own, 0);
        lua_setfield(L, LUA_REGISTRYINDEX, "ek3.scn.slot_plant"); /* kept as long as the state */
        const plant_params **ptr = lua_newuserdatauv(L, o->modules * sizeof *ptr, 0);
        lua_setfield(L, LUA_REGISTRYINDEX, "ek3.scn.slot_ptr");
        memset(ptr, 0, o->modules * sizeof *ptr);
        /* in slot order, so the text (and the error for two bad slots) does not hang on the table's */
        for (unsigned k = 1; k <= o->modules; k++) {
            lua_geti(L, t, k);
            if (!lua_isnil(L, -1)) {
                char what[48], prefix[24], at[40];
                snprintf(what, sizeof what, "rack{}: slot[%u]", k);
                snprintf(at, sizeof at, "slot.%u.set", k);
                snprintf(prefix, sizeof prefix, "--slot-set %u:", k);
                if (!lua_istable(L, -1))
                    return scn_err(L, "%s must be a table {set={name=value, ...}}", what);
                static const char *const skeys[] = {"set", NULL};
                scn_known_keys(L, lua_gettop(L), what, skeys);
                own[k - 1] = o->plant;
                lua_getfield(L, -1, "set");
                scn_set_params(L, lua_gettop(L), &own[k - 1], what, at, sets, sizeof sets, prefix);
                lua_pop(L, 1);
                ptr[k - 1] = &own[k - 1];
            }
            lua_pop(L, 1);
        }
        lua_pushnil(L);
        while (lua_next(L, t)) { /* any key but a slot */
            int isnum;
            lua_Integer k = lua_tointegerx(L, -2, &isnum);
            if (!isnum || k < 1 || k > (lua_Integer)o->modules)
                return scn_err(L, "rack{}: slot[%s]: not a slot 1 to %u", luaL_tolstring(L, -2, NULL), o->modules);
            lua_pop(L, 1);
        }
        o->slot_plant = ptr;
    }
    lua_pop(L, 1);
    lua_getfield(L, 1, "swarm");
    if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
        return scn_err(L, "rack{}: swarm must be true or false (false: droop alone, no SWARM_COORD)");
    o->no_swarm = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
    lua_pop(L, 1);
    double th = scn_field_q(L, 1, "threads", "", x->o.threads ? x->o.threads : 1, "rack{}");
    if (!(th >= 1 && th <= 256 && th == floor(th)))
        return scn_err(L, "rack{}: threads = %g is out of range 1 to 256", th);
    o->threads = (unsigned)th;
    uint8_t *ext = NULL;
    lua_getfield(L, 1, "external");
    if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1))
            return scn_err(L, "rack{}: external must be a list of slots, e.g. {2,5}");
        ext = lua_newuserdatauv(L, o->modules, 0); /* the registry keeps it as long as the state */
        lua_setfield(L, LUA_REGISTRYINDEX, "ek3.scn.ext");
        memset(ext, 0, o->modules);
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, -1, i);
            int isnum;
            lua_Integer k = lua_tointegerx(L, -1, &isnum);
            if (!isnum || k < 1 || k > (lua_Integer)o->modules)
                return scn_err(L, "rack{}: external[%d] is not a slot 1 to %u", (int)i, o->modules);
            if (ext[k - 1])
                return scn_err(L, "rack{}: external: slot %d given twice", (int)k);
            ext[k - 1] = 1;
            lua_pop(L, 1);
        }
        o->external = n ? ext : NULL;
    }
    lua_pop(L, 1);
    lua_getfield(L, 1, "fw_bus");
    if (!lua_isnil(L, -1)) {
        const char *b = lua_tostring(L, -1);
        if (!b || strlen(b) >= sizeof o->fw_bus)
            return scn_err(L, "rack{}: fw_bus must be udp:HOST:BASE or a SocketCAN interface");
        snprintf(o->fw_bus, sizeof o->fw_bus, "%s", b);
    }
    lua_pop(L, 1);
    o->ext_timeout_ms = (int)(scn_field_q(L, 1, "ext_timeout", "s", 0.2, "rack{}") * 1000);
    double hello = scn_field_q(L, 1, "hello_timeout", "s", 10, "rack{}");
    scn_range(L, "rack{}: hello_timeout", hello, 0.001, 86400, "s");
    double start = scn_field_q(L, 1, "start", "s", SES_STATION_START_NS * 1e-9, "rack{}");
    scn_range(L, "rack{}: start", start, SES_STATION_START_NS * 1e-9, 86400, "s");
    lua_getfield(L, 1, "api");
    if (!lua_isnil(L, -1))
        so.api = lua_tostring(L, -1); /* kept alive below in the registry */
    lua_setfield(L, LUA_REGISTRYINDEX, "ek3.scn.api");
    lua_getfield(L, 1, "api_key");
    if (!lua_isnil(L, -1)) {
        size_t n;
        o->api_key = lua_tolstring(L, -1, &n);
        if (!o->api_key || n < 8 || n > 64)
            return scn_err(L, "rack{}: api_key: 8 to 64 characters");
    }
    lua_setfield(L, LUA_REGISTRYINDEX, "ek3.scn.api_key");
    lua_getfield(L, 1, "trust_key"); /* a release key every module also trusts (ek3 rack --trust-key) */
    if (!lua_isnil(L, -1)) {
        const char *file = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        char path[PATH_MAX + 64], err[PATH_MAX + 160], why[PATH_MAX + 200];
        if (!file)
            return scn_err(L, "rack{}: trust_key names a public key file (ek3 fwimg keygen's PUB.pem)");
        if (scn_file_under(L, "rack{}: trust_key", file, path, sizeof path, err, sizeof err))
            return scn_err(L, "%s", err);
        if (fwsign_pub_load(path, o->trust_key, why, sizeof why))
            return scn_err(L, "rack{}: trust_key %s: %s", file, why);
        if (why[0] && x->o.out)
            fprintf(x->o.out, "%s: warning: rack{} trust_key %s\n", x->r->m.name, why);
        o->have_trust_key = 1;
    }
    lua_pop(L, 1);

    if (x->o.can_log) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        o->log = x->o.can_log;
        o->log_t0_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec / 1000 * 1000;
        /* checked as the run goes (ses_out_check): a full disk ends it */
        so.outs[0] = (ses_out){x->o.can_log, scn_log_name(&x->o)};
    }
    so.quanta = 1; /* the engine steps the session itself */
    so.record_rows = SCN_RECORD_ROWS;
    so.probe_modules = 1;
    so.notes = x->o.out;
    so.stop_unsaid = 1; /* the run's ERROR says it */
    snprintf(x->who, sizeof x->who, "%s seed %llu", x->r->m.name, (unsigned long long)x->o.seed);
    so.who = x->who;
    so.stop = NULL;
    ses *s = calloc(1, sizeof *s);
    if (!s)
        return scn_err(L, "rack{}: out of memory");
    int64_t t0 = scn_wall_ns();
    int rc = ses_init(s, &so);
    if (rc) {
        int at = s->failed_at;
        free(s);
        return scn_err(L, "rack{}: cannot build the rack (%s): %s",
                          at == SES_INIT_API ? "the API's address" : at == SES_INIT_MEMORY ? "memory" : "the rig",
                          ek3_strerror(rc));
    }
    x->s = s;
    x->r->ncol = s->rec.ncol;
    x->r->block_rows = SCN_BLOCK_ROWS;
    x->blk_fp = calloc(s->rec.ncol ? s->rec.ncol : 1, sizeof *x->blk_fp);
    x->r->colnames = calloc(s->rec.ncol ? s->rec.ncol : 1, 24);
    if (!x->blk_fp || !x->r->colnames)
        return scn_err(L, "rack{}: out of memory");
    for (unsigned c = 0, off = 0; c < s->rec.ncol; c++) {
        char nm[24];
        ses_probe_name(s, c, nm, sizeof nm);
        memcpy(x->r->colnames + off, nm, strlen(nm) + 1);
        off += (unsigned)strlen(nm) + 1;
    }
    x->r->modules = o->modules;
    x->r->threads = o->threads;
    scn_rack_text(x, &so, load_at, load_ramp);
    snprintf(x->r->rack_text + strlen(x->r->rack_text), sizeof x->r->rack_text - strlen(x->r->rack_text), "%s", sets);
    rc = ses_start_and_load(s, start, load_at, load_ramp, &o->load);
    if (rc)
        return scn_err(L, "rack{}: cannot schedule the start and the load: %s", ek3_strerror(rc));
    if (o->external) {
        unsigned want = 0;
        for (unsigned k = 0; k < o->modules; k++)
            want += ext[k];
        unsigned got = ses_wait_external(s, (int)(hello * 1000));
        if (got < want)
            fprintf(x->o.out, "%s: %u of %u external modules said HELLO on %s\n", x->r->m.name, got, want, o->fw_bus);
    }
    if (x->o.on_session) {
        char err[600] = "";
        if (x->o.on_session(s, x->o.session_ctx, err, sizeof err))
            return scn_err(L, "rack{}: %s", err);
    }
    x->r->init_s = (scn_wall_ns() - t0) * 1e-9;
    return 0;
}

static int l_now(lua_State *L)
{
    lua_pushnumber(L, scn_now(scn_of(L)));
    return 1;
}

static int l_run(lua_State *L)
{
    scn *x = scn_of(L);
    scn_need_rack(L, x, "run");
    if (x->in_run)
        return scn_err(L, "run: not allowed inside a callback or a condition (at, every, when=, watchers run between quanta)");
    double dt = scn_arg_quantity(L, 1, "s", "run");
    scn_range(L, "run: the time", dt, 0, 86400, "s");
    scn_run_to(x, x->s->g.t_ns + scn_ns(dt));
    lua_pushnumber(L, scn_now(x));
    return 1;
}

static int l_run_until(lua_State *L)
{
    scn *x = scn_of(L);
    scn_need_rack(L, x, "run_until");
    if (x->in_run)
        return scn_err(L, "run_until: not allowed inside a callback or a condition (at, every, when=, watchers run between "
                          "quanta)");
    luaL_checktype(L, 1, LUA_TFUNCTION);
    double to = scn_arg_quantity(L, 2, "s", "run_until: timeout");
    scn_range(L, "run_until: timeout", to, 0, 86400, "s");
    const char *name = luaL_optstring(L, 3, "run_until");
    int named = !lua_isnoneornil(L, 3); /* a named one is a check: its success is recorded too */
    lua_pushvalue(L, 1);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    double t0 = scn_now(x);
    int64_t end = x->s->g.t_ns + scn_ns(to);
    x->in_run = 1;
    int ok = scn_call_cond(x, ref, "run_until", NULL);
    while (!ok && x->s->g.t_ns < end) {
        scn_quantum(x);
        ok = scn_call_cond(x, ref, "run_until", NULL);
    }
    x->in_run = 0;
    x->instr = 0;
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    char lim[64], within[32];
    snprintf(lim, sizeof lim, "true within %s", cli_si(within, sizeof within, to, "s"));
    if (ok) {
        if (named) /* the time it took */
            scn_figure(x, name, scn_now(x) - t0, "s", lim, 1, NULL);
        lua_pushnumber(L, scn_now(x));
        return 1;
    }
    char failed[200]; /* its figure is the timeout itself: the name says it ran out */
    snprintf(failed, sizeof failed, "%s: timed out", name[0] ? name : "run_until");
    scn_figure(x, failed, to, "s", lim, 0, NULL);
    /* The rest of the script assumed it: the run ends here, as FAIL. */
    x->dead = 1;
    x->fatal[0] = 0;
    return scn_raise_fatal(L, x);
}

/* A timer for the function at fn_idx (0: none, a set_load's time, kept
 * so that the end can tell it never came). */
static void scn_add_timer(lua_State *L, scn *x, int64_t at, int64_t every, int fn_idx)
{
    if (x->ntim == x->captim) {
        unsigned cap = x->captim ? x->captim * 2 : 16;
        scn_timer *t = realloc(x->tim, cap * sizeof *t);
        if (!t)
            scn_err(L, "out of memory for timers");
        x->tim = t;
        x->captim = cap;
    }
    int ref = LUA_NOREF;
    if (fn_idx) {
        lua_pushvalue(L, fn_idx);
        ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    scn_timer *t = &x->tim[x->ntim++];
    *t = (scn_timer){at, every, ref, x->tim_order++, 0, ""};
    scn_where(L, t->where, sizeof t->where);
}

static int l_at(lua_State *L)
{
    scn *x = scn_of(L);
    double t = scn_arg_quantity(L, 1, "s", "at: the time");
    scn_range(L, "at: the time", t, 0, 86400, "s");
    luaL_checktype(L, 2, LUA_TFUNCTION);
    int64_t now = x->s ? x->s->g.t_ns : 0;
    if (scn_ns(t) < now)
        return scn_err(L, "at(%g s): that time has passed (now %.6f s)", t, now * 1e-9);
    scn_add_timer(L, x, scn_ns(t), 0, 2);
    return 0;
}

static int l_every(lua_State *L)
{
    scn *x = scn_of(L);
    double dt = scn_arg_quantity(L, 1, "s", "every: the period");
    scn_range(L, "every: the period", scn_ns(dt) == RIG_PERIOD_NS ? RIG_PERIOD_NS * 1e-9 : dt, RIG_PERIOD_NS * 1e-9, 86400, "s");
    luaL_checktype(L, 2, LUA_TFUNCTION);
    int64_t now = x->s ? x->s->g.t_ns : 0;
    scn_add_timer(L, x, now + scn_ns(dt), scn_ns(dt), 2);
    return 0;
}

/* The signal at path: its ref from the cache, resolved the first time. */
static const sig_ref *scn_sig(lua_State *L, scn *x, int idx)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, x->sigs_ref);
    lua_pushvalue(L, idx);
    if (lua_rawget(L, -2) == LUA_TNUMBER) {
        unsigned i = (unsigned)lua_tointeger(L, -1);
        lua_pop(L, 2);
        return &x->refs[i];
    }
    lua_pop(L, 1);
    const char *path = luaL_checkstring(L, idx);
    if (x->nrefs == x->caprefs) {
        unsigned cap = x->caprefs ? x->caprefs * 2 : 64;
        sig_ref *r = realloc(x->refs, cap * sizeof *r);
        if (!r)
            scn_err(L, "out of memory for signals");
        x->refs = r;
        x->caprefs = cap;
    }
    char err[400];
    if (sig_resolve(x->s, path, &x->refs[x->nrefs], err, sizeof err))
        scn_err(L, "%s", err);
    lua_pushvalue(L, idx);
    lua_pushinteger(L, x->nrefs);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    return &x->refs[x->nrefs++];
}

static int l_get(lua_State *L)
{
    scn *x = scn_of(L);
    scn_need_rack(L, x, "get");
    const sig_ref *r = scn_sig(L, x, 1);
    double v = sig_read(x->s, r);
    const char *name = sig_enum_name(r, v);
    if (name)
        lua_pushstring(L, name);
    else if (sig_kind_of(r, NULL) != SIG_K_REAL && fabs(v) < 0x1p53 && v == (double)(lua_Integer)v)
        lua_pushinteger(L, (lua_Integer)v); /* a count, a slot, a flag: `"module[" .. L .. "]"` */
    else
        lua_pushnumber(L, v);
    return 1;
}

static int l_unit(lua_State *L)
{
    scn *x = scn_of(L);
    scn_need_rack(L, x, "unit");
    lua_pushstring(L, sig_unit(scn_sig(L, x, 1)));
    return 1;
}

int scn_profile_read(FILE *f, const char *path, int (*row)(void *ctx, double t, double p), void *ctx, char *err,
                     size_t cap)
{
    char *line = NULL;
    size_t lcap = 0;
    unsigned ln = 0, rows = 0;
    double t_prev = -1;
    int rc = 0;
    ssize_t got;
    while (!rc && (got = getline(&line, &lcap, f)) >= 0) {
        ln++;
        if (got > 510) {
            snprintf(err, cap, "%s:%u: a line longer than 510 characters", path, ln);
            rc = EK3_EPARSE;
            break;
        }
        if (memchr(line, '\0', (size_t)got)) {
            snprintf(err, cap, "%s:%u: a NUL byte (not a text file?)", path, ln);
            rc = EK3_EPARSE;
            break;
        }
        char *c = line;
        while (*c == ' ' || *c == '\t')
            c++;
        if (*c == '#' || *c == '\n' || *c == '\r' || !*c)
            continue;
        char *end;
        double t = strtod(c, &end);
        if (end == c) {
            if (!rows && ln == 1)
                continue; /* a header */
            snprintf(err, cap, "%s:%u: a time in seconds expected first", path, ln);
            rc = EK3_EPARSE;
            break;
        }
        while (*end == ' ' || *end == '\t')
            end++;
        if (*end != ',') {
            snprintf(err, cap, "%s:%u: two columns expected: time_s,power_W", path, ln);
            rc = EK3_EPARSE;
            break;
        }
        c = end + 1;
        double p = strtod(c, &end);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (end == c || *end) {
            snprintf(err, cap, "%s:%u: the power in W must be a number and the line's last field", path, ln);
            rc = EK3_EPARSE;
            break;
        }
        if (!(t >= 0 && t <= 86400) || !(t > t_prev)) {
            snprintf(err, cap, "%s:%u: time %g s: times must rise, from 0 to 86400 s", path, ln, t);
            rc = EK3_ERANGE;
            break;
        }
        if (!(p >= 0 && p <= RACK_LOAD_MAX_W)) {
            char a[32], h[32];
            snprintf(err, cap, "%s:%u: power %s is out of range 0 W to %s", path, ln, cli_si(a, sizeof a, p, "W"),
                     cli_si(h, sizeof h, RACK_LOAD_MAX_W, "W"));
            rc = EK3_ERANGE;
            break;
        }
        int e = row(ctx, t, p);
        if (e) {
            snprintf(err, cap, "%s:%u: %s", path, ln,
                     e == EK3_ENOSPC ? "more rows than the timeline holds (1024 events in a run)" : ek3_strerror(e));
            rc = e;
            break;
        }
        t_prev = t;
        rows++;
    }
    free(line);
    if (rc)
        return rc;
    if (ferror(f)) {
        snprintf(err, cap, "%s: read error", path);
        return EK3_EIO;
    }
    if (!rows) {
        snprintf(err, cap, "%s: no rows (time_s,power_W)", path);
        return EK3_EPARSE;
    }
    return 0;
}

/* scn_profile_read's rows as LOAD events: a step to the first row at
 * `at` + its time, then a ramp from each row to the next. */
typedef struct scn_prof {
    ses *s;
    double at, t_prev;
    unsigned rows;
} scn_prof;

static int scn_prof_row(void *ctx, double t, double p)
{
    scn_prof *q = ctx;
    ses_event ev = {.kind = SES_EV_LOAD, .at_s = q->at + (q->rows ? q->t_prev : t), .load = q->s->load0,
                    .ramp_s = q->rows ? t - q->t_prev : 0};
    ev.load.p_w = p;
    q->t_prev = t;
    q->rows++;
    return ses_add_event(q->s, &ev);
}

/* The load profile of set_load{profile=NAME}: the file is named relative
 * to the scenario's folder and must lie under it. 0, or -1 with err. */
static int scn_load_profile(scn *x, const char *name, double at, char *err, size_t cap)
{
    char path[1200];
    if (scn_file_under(x->L, "profile", name, path, sizeof path, err, cap))
        return -1;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, cap, "profile %s: %s", path, strerror(errno));
        return -1;
    }
    scn_prof q = {x->s, at, -1, 0};
    int rc = scn_profile_read(f, path, scn_prof_row, &q, err, cap);
    fclose(f);
    return rc ? -1 : 0;
}

/* Record a set_load{} in the result (the caller checked the room). */
static void scn_load_note(lua_State *L, scn *x, const char *text, const rack_load *l, double at, double ramp)
{
    scn_load_rec *d = &x->r->load[x->r->nload++];
    snprintf(d->text, sizeof d->text, "%s", text);
    scn_where(L, d->where, sizeof d->where);
    d->at_s = at, d->ramp_s = ramp;
    d->power_w = l && l->kind == RACK_LOAD_CP ? l->p_w : NAN;
    d->ohm = l && l->kind == RACK_LOAD_R ? l->r : NAN;
}

static int l_set_load(lua_State *L)
{
    scn *x = scn_of(L);
    scn_need_rack(L, x, "set_load");
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *const keys[] = {"load", "power", "ohm", "ramp", "at", "profile", NULL};
    scn_known_keys(L, 1, "set_load", keys);
    if (x->r->nload >= SCN_LOADS_MAX) /* each is recorded (scn_load_note) */
        return scn_err(L, "set_load{}: at most %u in a scenario", SCN_LOADS_MAX);
    ses *s = x->s;
    rack_load l = s->load0;
    lua_getfield(L, 1, "power");
    const char *load_name = lua_isnil(L, -1) ? "load" : "power"; /* power= is load= by its own name */
    if (!lua_isnil(L, -1))
        lua_setfield(L, 1, "load");
    else
        lua_pop(L, 1);
    int kind0 = l.kind;
    lua_getfield(L, 1, "profile");
    if (!lua_isnil(L, -1)) {
        const char *csv = lua_tostring(L, -1);
        if (!csv)
            return scn_err(L, "set_load{}: profile must be the name of a CSV file");
        if (kind0 != RACK_LOAD_CP)
            return scn_err(L, "set_load{}: a profile is of power: the rack's load must be constant power (load=)");
        double now = scn_now(x);
        double at = scn_field_q(L, 1, "at", "s", now, "set_load{}");
        scn_range(L, "set_load{}: at", at, 0, 86400, "s");
        if (at < now - 1e-12)
            return scn_err(L, "set_load{}: at = %g s has passed (now %.6f s)", at, now);
        char err[1400];
        if (scn_load_profile(x, csv, at, err, sizeof err))
            return scn_err(L, "set_load{}: %s", err);
        char t[96];
        snprintf(t, sizeof t, "profile %s", csv);
        scn_load_note(L, x, t, NULL, at, 0);
        return 0;
    }
    lua_pop(L, 1);
    if (!scn_load_fields(L, 1, &l, "set_load{}", load_name))
        return scn_err(L, "set_load{}: give power= (or load=), ohm= or profile=");
    if (l.kind != kind0)
        return scn_err(L, "set_load{}: the rack's load is a %s; it cannot become a %s",
                          kind0 == RACK_LOAD_R ? "resistor (ohm=)" : kind0 == RACK_LOAD_CP ? "constant power (load=)" : "battery",
                          l.kind == RACK_LOAD_R ? "resistor" : "constant power");
    double now = scn_now(x);
    double at = scn_field_q(L, 1, "at", "s", now, "set_load{}");
    scn_range(L, "set_load{}: at", at, 0, 86400, "s");
    if (at < now - 1e-12)
        return scn_err(L, "set_load{}: at = %g s has passed (now %.6f s)", at, now);
    double ramp = scn_field_q(L, 1, "ramp", "s", 0, "set_load{}");
    scn_range(L, "set_load{}: ramp", ramp, 0, 86400, "s");
    ses_event ev = {.kind = SES_EV_LOAD, .at_s = at, .load = l, .ramp_s = ramp};
    int rc = ses_add_event(s, &ev);
    if (rc)
        return scn_err(L, "set_load{}: %s", ek3_strerror(rc));
    scn_add_timer(L, x, scn_ns(at), 0, 0); /* only for the end's check that it came */
    char v[64];
    scn_load_note(L, x, l.kind == RACK_LOAD_R ? cli_si(v, sizeof v, l.r, "Ohm") : cli_si(v, sizeof v, l.p_w, "W"), &l,
                  at, ramp);
    return 0;
}

static const char *scn_fault_name(size_t i, const void *ctx)
{
    (void)ctx;
    return flt_table[i].name;
}

/* fault(name, target, {params..., at=, when=, clear_at=, duration=}) */
static int l_fault(lua_State *L)
{
    scn *x = scn_of(L);
    scn_need_rack(L, x, "fault");
    const char *name = luaL_checkstring(L, 1);
    char target[64];
    int fid = flt_find(name);
    unsigned nmod = x->s->g.o.modules;
    if (lua_type(L, 2) == LUA_TNUMBER && lua_isinteger(L, 2))
        snprintf(target, sizeof target, "%lld", (long long)lua_tointeger(L, 2));
    else if (lua_type(L, 2) == LUA_TSTRING && lua_rawlen(L, 2) < sizeof target)
        snprintf(target, sizeof target, "%s", lua_tostring(L, 2));
    else if (fid >= 0 && lua_isnoneornil(L, 2))
        return scn_err(L, "fault '%s': give its target, a %s, second (ek3 scenario faults lists each fault's)", name,
                       flt_target_text(fid));
    else if (fid >= 0 && lua_type(L, 2) == LUA_TNUMBER)
        return scn_err(L, "fault '%s': target %.17g is not a whole number: a %s (this rack's slots are 1 to %u)", name,
                       lua_tonumber(L, 2), flt_target_text(fid), nmod);
    else if (fid >= 0)
        return scn_err(L, "fault '%s': its target is a %s, not a %s (this rack's slots are 1 to %u)", name,
                       luaL_typename(L, 2), flt_target_text(fid), nmod);
    else
        target[0] = 0; /* an unknown fault: named below */
    /* a slot or node target that is not one: told with this rack's bounds (the parser knows only the rig's) */
    if (fid >= 0 && (flt_table[fid].target == FLT_T_SLOT || flt_table[fid].target == FLT_T_NODE) &&
        strcmp(target, "leader")) {
        int64_t v;
        int node = flt_table[fid].target == FLT_T_NODE;
        if (cli_parse_i64(target, node ? 0 : 1, 510, &v))
            return scn_err(L, "fault '%s': target '%s' is not a %s: this rack's are %u to %u%s", name, target,
                           node ? "bus node" : "slot", node ? 0 : 1, nmod,
                           node                ? " (0: the station)"
                           : fid == FLT_INSERT ? " (an empty one)"
                                               : ", or leader");
    }
    if (flt_find(name) < 0) {
        char list[300];
        int lc = flt_find_nocase(name);
        if (lc >= 0)
            return scn_err(L, "unknown fault '%s': fault names are lower case ('%s')", name, flt_table[lc].name);
        if (!*cli_near(name, flt_count, scn_fault_name, NULL, 3, list, sizeof list))
            return scn_err(L, "unknown fault '%s' (ek3 scenario faults lists them)", name);
        return scn_err(L, "unknown fault '%s'; did you mean %s? (ek3 scenario faults lists them)", name, list);
    }
    char text[600];
    int n = snprintf(text, sizeof text, "%s:%s@0", name, target);
    int nparam = 0;
    double at = scn_now(x), clear_at = -1, duration = -1;
    int when_ref = LUA_NOREF, at_given = 0;
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        const char *keys[64];
        char fwhat[96];
        snprintf(fwhat, sizeof fwhat, "fault '%s': parameters", name);
        unsigned nk = scn_sorted_keys(L, 3, fwhat, keys, 64);
        for (unsigned i = 0; i < nk; i++) {
            const char *k = keys[i];
            lua_getfield(L, 3, k);
            if (!strcmp(k, "at")) {
                at = scn_arg_quantity(L, lua_gettop(L), "s", "fault: at");
                at_given = 1;
            } else if (!strcmp(k, "clear_at")) {
                clear_at = scn_arg_quantity(L, lua_gettop(L), "s", "fault: clear_at");
            } else if (!strcmp(k, "duration")) {
                duration = scn_arg_quantity(L, lua_gettop(L), "s", "fault: duration");
                scn_range(L, "fault: duration", duration, 0, 86400, "s");
            } else if (!strcmp(k, "when")) {
                luaL_checktype(L, -1, LUA_TFUNCTION);
                lua_pushvalue(L, -1);
                when_ref = luaL_ref(L, LUA_REGISTRYINDEX);
            } else if (lua_type(L, -1) == LUA_TNUMBER) {
                char num[32];
                n += snprintf(text + n, sizeof text - (size_t)n, "%c%s=%s", nparam++ ? ',' : ':', k,
                              flt_num(num, lua_tonumber(L, -1)));
            } else if (lua_type(L, -1) == LUA_TSTRING) {
                n += snprintf(text + n, sizeof text - (size_t)n, "%c%s=%s", nparam++ ? ',' : ':', k,
                              lua_tostring(L, -1));
            } else {
                return scn_err(L, "%s: parameter %s is a %s, not a number (a number, or a quantity string: '50mA')",
                               name, k, luaL_typename(L, -1)); /* worded as flt_parse's for a string that is not one */
            }
            if (n >= (int)sizeof text)
                return scn_err(L, "fault '%s': parameters too long", name);
            lua_pop(L, 1);
        }
    }
    flt_spec spec;
    char err[300];
    if (flt_parse(text, &spec, err, sizeof err))
        return scn_err(L, "%s", err);
    spec.t = when_ref != LUA_NOREF ? -1 : at; /* checked for the time it goes in at (a kernel fault: its MCU out of reset) */
    if (flt_check(&x->s->g, &spec, err, sizeof err))
        return scn_err(L, "%s", err);
    if (when_ref == LUA_NOREF && at < 0) {
        char what[80];
        snprintf(what, sizeof what, "fault '%.40s': at", name);
        scn_range(L, what, at, 0, 86400, "s");
    }
    if (when_ref == LUA_NOREF && at < scn_now(x) - 1e-12)
        return scn_err(L, "fault '%s': at = %g s has passed (now %.6f s)", name, at, scn_now(x));
    if (clear_at >= 0 && duration >= 0)
        return scn_err(L, "fault '%s': give clear_at= or duration=, not both", name);
    if (at_given && when_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, when_ref);
        return scn_err(L, "fault '%s': give at= (a time) or when= (a condition), not both", name);
    }
    if ((clear_at >= 0 || duration >= 0) && !flt_table[spec.id].clearable)
        return scn_err(L, "fault '%s' cannot be cleared (it is not undone: %s)", name, flt_table[spec.id].models);
    if (clear_at >= 0 && when_ref == LUA_NOREF && clear_at <= at)
        return scn_err(L, "fault '%s': clear_at = %g s is not after its onset at %g s", name, clear_at, at);
    /* shrink's overrides: by the order of fault() calls */
    unsigned call = x->ncalls++;
    for (unsigned i = 0; i < x->o.novr; i++) {
        const scn_override *v = &x->o.ovr[i];
        if (v->index != call)
            continue;
        if (v->drop) {
            if (when_ref != LUA_NOREF)
                luaL_unref(L, LUA_REGISTRYINDEX, when_ref);
            lua_pushnil(L); /* a dropped fault's handle: clear(nil) does nothing */
            return 1;
        }
        if (v->at_s >= 0 && v->at_s >= scn_now(x) && when_ref == LUA_NOREF) {
            if (duration < 0 && clear_at >= 0)
                clear_at += v->at_s - at;
            at = v->at_s;
        }
        if (v->scale > 0 && v->scale != 1)
            for (unsigned p = 0; p < flt_table[spec.id].np; p++) {
                const flt_param *d = &flt_table[spec.id].p[p];
                if (d->integer)
                    continue;
                double nv = spec.p[p] * v->scale;
                spec.p[p] = nv < d->min ? d->min : nv > d->max ? d->max : nv;
            }
    }
    if (x->r->nfault >= SCN_FAULTS_MAX)
        return scn_err(L, "fault: at most %u faults in a scenario", SCN_FAULTS_MAX);
    unsigned idx = x->r->nfault++;
    scn_fault *f = &x->r->fault[idx];
    memset(f, 0, sizeof *f);
    spec.t = when_ref != LUA_NOREF ? -1 : scn_s(scn_ns(at)); /* injected at that ns (scn_pending.at_ns) */
    f->spec = spec;
    flt_spec shown = spec;
    if (shown.t < 0)
        shown.t = 0;
    flt_format(&shown, f->text, sizeof f->text);
    scn_where(L, f->where, sizeof f->where);
    f->onset_s = f->cleared_s = -1;
    f->clear_s = duration >= 0 ? duration : clear_at;
    f->clear_dur = duration >= 0;
    scn_pending *p = &x->pend[idx];
    *p = (scn_pending){.idx = idx, .when_ref = when_ref, .at_ns = scn_ns(at), .clear_ns = -1};
    if (clear_at >= 0)
        p->clear_ns = scn_ns(clear_at);
    else if (duration >= 0)
        p->clear_ns = when_ref != LUA_NOREF ? scn_ns(duration) : scn_ns(at + duration);
    /* at the present: now */
    if (when_ref == LUA_NOREF && p->at_ns <= x->s->g.t_ns)
        scn_inject(x, p);
    lua_pushinteger(L, (lua_Integer)idx + 1);
    return 1;
}

/* REPORT_DIR/update.txt: each update's report (fwr_report) in turn,
 * when a scenario ran any; a failure is said on stderr. */
static void scn_update_write(scn *x)
{
    if (!x->o.report_dir)
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s/update.txt", x->o.report_dir);
    errno = 0;
    FILE *f = fopen(path, x->upd_reports++ ? "a" : "w");
    int rc = f ? fwr_report(&x->upd, f) : EK3_EIO;
    char why[600];
    fwr_outcome(&x->upd, x->s->g.t_ns, why, sizeof why);
    /* written when the run ends or the next update{} starts: the outcome
     * as it stood then (the roll may have finished earlier: its time is
     * the report's "finished at") */
    if (f && !rc && fprintf(f, "  outcome when this report was written (%.3f s): %s\n", x->s->g.t_ns * 1e-9, why) < 0)
        rc = EK3_EIO;
    int e = errno;
    if (f && fclose(f) && !rc)
        rc = EK3_EIO, e = errno;
    if (rc)
        fprintf(stderr, "ek3 scenario: %s: cannot write %s: %s\n", x->r->m.path, path,
                e ? strerror(e) : ek3_strerror(rc));
}

/* The update ends with its run or the next update{}: its report written,
 * the station's streamer freed. */
static void scn_update_end(scn *x)
{
    scn_update_write(x);
    x->s->g.upd = NULL;
    fwr_free(&x->upd);
    x->upd_on = 0;
}

/* update{version="1.1.0" | image="FILE", security=, size=, hw=, wave=,
 * at=, modules={...}, unicast=}: the station's signed firmware update
 * (fwroll.h, docs/update.md) from `at` (default now): the image streamed
 * to the modules in idle bus time, then the roll in waves (a canary,
 * then up to `wave`, as the rack can spare). Another once the one before
 * has finished (update.finished). */
static int l_update(lua_State *L)
{
    scn *x = scn_of(L);
    scn_need_rack(L, x, "update{}");
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *const keys[] = {"version", "image", "security", "size", "hw", "wave",
                                       "at", "modules", "unicast", NULL};
    scn_known_keys(L, 1, "update", keys);
    if (x->upd_on && !fwr_finished(&x->upd))
        return scn_err(L, "update{}: the update before has not finished (wait for get(\"update.finished\") == 1)");
    fwr_opts o = {0};
    double wave = scn_field_whole(L, 1, "wave", 4, 1, 510, "update{}");
    double at = scn_field_q(L, 1, "at", "s", scn_now(x), "update{}");
    lua_getfield(L, 1, "version");
    const char *ver = lua_tostring(L, -1);
    lua_getfield(L, 1, "image");
    const char *file = lua_tostring(L, -1);
    if (!ver == !file)
        return scn_err(L, "update{}: give version = \"A.B.C\" (an image the rig signs with its development key) "
                          "or image = \"FILE\" (one `ek3 fwimg build` wrote), one of them");
    uint8_t *img = NULL;
    size_t len = 0;
    char img_name[1200] = "the image";
    lua_getfield(L, 1, "unicast");
    if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
        return scn_err(L, "update{}: unicast is true or false, not a %s", luaL_typename(L, -1));
    o.unicast = (uint8_t)lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (ver) {
        fwsign_meta m = {BRD_HW_ID, 0, FWI_FACTORY_SECURITY, 0};
        if (fwsign_version_parse(ver, &m.version))
            return scn_err(L, "update{}: version '%s': write major.minor.patch (0..65535, 0..255, 0..255)", ver);
        double sec = scn_field_whole(L, 1, "security", FWI_FACTORY_SECURITY, 0, 4294967295.0, "update{}");
        double size = scn_field_whole(L, 1, "size", FWI_FACTORY_PAYLOAD, 1, BRD_SLOT_SIZE - FWSIGN_SIZE(0), "update{}");
        double hw = BRD_HW_ID;
        lua_getfield(L, 1, "hw");
        if (lua_type(L, -1) == LUA_TSTRING) { /* four characters, as the id reads: "G474" */
            const char *h = lua_tostring(L, -1);
            if (lua_rawlen(L, -1) != 4)
                return scn_err(L, "update{}: hw '%s': four characters (\"G474\") or a number (0x34373447)", h);
            hw = (double)((uint32_t)(uint8_t)h[0] | (uint32_t)(uint8_t)h[1] << 8 | (uint32_t)(uint8_t)h[2] << 16 |
                          (uint32_t)(uint8_t)h[3] << 24);
        } else {
            hw = scn_field_whole(L, 1, "hw", BRD_HW_ID, 0, 4294967295.0, "update{}");
        }
        lua_pop(L, 1);
        m.security = (uint32_t)sec, m.hw_id = (uint32_t)hw;
        size_t cap = FWSIGN_SIZE((uint32_t)size);
        img = malloc(cap);
        int rc = img ? fwsign_dev_image(&m, (uint32_t)size, m.version, img, cap, &len) : EK3_ENOSPC;
        if (rc) {
            free(img);
            return scn_err(L, "update{}: cannot build the image: %s", ek3_strerror(rc));
        }
    } else {
        static const char *const own[] = {"security", "size", "hw"};
        for (unsigned i = 0; i < 3; i++) {
            lua_getfield(L, 1, own[i]);
            if (!lua_isnil(L, -1))
                return scn_err(L, "update{}: %s is for an image made from version=; the file's header has its own",
                               own[i]);
            lua_pop(L, 1);
        }
        char path[1200], err[1400];
        if (scn_file_under(L, "update{}: image", file, path, sizeof path, err, sizeof err))
            return scn_err(L, "%s", err);
        FILE *f = fopen(path, "rb");
        if (!f)
            return scn_err(L, "update{}: image %s: %s", path, strerror(errno));
        img = malloc(BRD_SLOT_SIZE + 1);
        errno = 0;
        len = img ? fread(img, 1, BRD_SLOT_SIZE + 1, f) : 0;
        int bad = !img || ferror(f), e = errno;
        fclose(f);
        if (bad || len > BRD_SLOT_SIZE) {
            free(img);
            return scn_err(L, "update{}: image %s: %s", path,
                           bad ? (e ? strerror(e) : "cannot be read") : "larger than a slot (224 KiB)");
        }
        snprintf(img_name, sizeof img_name, "%s", path);
    }
    lua_pop(L, 2);
    uint8_t *targets = NULL;
    const char *bad = NULL;
    char why[160] = "";
    if (!(at >= scn_now(x) - 1e-12 && at <= 86400))
        snprintf(why, sizeof why, "at = %g s: from now (%.6f s) up to a day", at, scn_now(x)), bad = why;
    lua_getfield(L, 1, "modules");
    if (!bad && !lua_isnil(L, -1)) {
        unsigned n = x->s->g.o.modules;
        lua_Integer len_l = lua_istable(L, -1) ? luaL_len(L, -1) : 0;
        targets = calloc(n, 1);
        if (!lua_istable(L, -1) || len_l < 1)
            bad = "modules is a list of slots, {1, 2, ...}, at least one";
        for (lua_Integer i = 1; !bad && targets && i <= len_l; i++) {
            lua_geti(L, -1, i);
            int isnum;
            lua_Integer v = lua_tointegerx(L, -1, &isnum);
            int number = lua_type(L, -1) == LUA_TNUMBER;
            lua_pop(L, 1);
            if (!isnum && number)
                snprintf(why, sizeof why, "modules[%lld] is not a whole number", (long long)i), bad = why;
            else if (!isnum || v < 1 || v > (lua_Integer)n)
                snprintf(why, sizeof why, "modules[%lld] is not a slot of the rack (1 to %u)", (long long)i, n),
                    bad = why;
            else if (targets[v - 1])
                snprintf(why, sizeof why, "modules lists slot %lld twice", (long long)v), bad = why;
            else
                targets[v - 1] = 1;
        }
        if (!targets)
            bad = "out of memory";
    }
    lua_pop(L, 1);
    if (bad) {
        free(img);
        free(targets);
        return scn_err(L, "update{}: %s", bad);
    }
    o.wave_max = (unsigned)wave;
    o.start_ns = scn_ns(at);
    o.targets = targets;
    uint8_t xfer = 1;
    if (x->upd_on) { /* the one before, finished: its report kept, its transfer id not used again */
        xfer = (uint8_t)(x->upd.xfer % 255u + 1u);
        scn_update_end(x);
    }
    int rc = fwr_init(&x->upd, &x->s->g.stn, x->s->g.o.modules, img, len, xfer, &o);
    free(img);
    free(targets);
    if (rc)
        return scn_err(L, "update{}: %s: %s", img_name,
                       rc == EK3_EPARSE ? "not a firmware image (bad magic or too short; ek3 fwimg inspect says more)"
                                        : ek3_strerror(rc));
    x->upd_on = 1;
    x->s->g.upd = &x->upd;
    return 0;
}

static int l_clear(lua_State *L)
{
    scn *x = scn_of(L);
    if (lua_isnil(L, 1))
        return 0;
    lua_Integer h = luaL_checkinteger(L, 1);
    if (!x->s || h < 1 || h > (lua_Integer)x->r->nfault)
        return scn_err(L, "clear: %d is not a fault handle", (int)h);
    scn_pending *p = &x->pend[h - 1];
    scn_fault *f = &x->r->fault[h - 1];
    if (!flt_table[f->spec.id].clearable)
        return scn_err(L, "clear: fault %s cannot be cleared", f->text);
    if (!p->injected) {
        p->dropped = 1; /* never happened */
        return 0;
    }
    if (p->cleared)
        return 0;
    p->cleared = 1;
    int rc = f->error ? 0 : flt_clear(&x->s->g, &f->spec);
    if (rc)
        return scn_err(L, "clear %s: %s", f->text, ek3_strerror(rc));
    f->cleared_s = scn_now(x);
    return 0;
}

static int l_expect(lua_State *L)
{
    scn *x = scn_of(L);
    /* A boolean only: Lua counts a string or a number as true, so
     * expect("bus.v", ">=", 700) would pass whatever the bus does. */
    if (!lua_isboolean(L, 1)) {
        char v[96];
        scn_not_boolean(L, 1, 0, v, sizeof v);
        return scn_err(L,
                       "expect: the condition is %s, not a boolean: give a comparison, as "
                       "expect(get(\"bus.v\") >= 700, \"the bus is up\")",
                       v);
    }
    int ok = lua_toboolean(L, 1);
    const char *msg = luaL_optstring(L, 2, "expect");
    double v = NAN;
    const char *unit = "", *limit = "true";
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "value");
        if (lua_isnumber(L, -1))
            v = lua_tonumber(L, -1);
        lua_getfield(L, 3, "unit");
        if (lua_isstring(L, -1))
            unit = lua_tostring(L, -1);
        lua_getfield(L, 3, "limit");
        if (lua_isstring(L, -1))
            limit = lua_tostring(L, -1);
    }
    scn_figure(x, msg, v, unit, limit, ok, NULL);
    lua_pushboolean(L, ok);
    return 1;
}

static int scn_expect_watch(scn *x, void *ctx)
{
    scn_expect *e = ctx;
    int64_t t = x->s->g.t_ns;
    if (t < e->from_ns)
        return 1;
    if (e->always) {
        if (!scn_call_cond(x, e->ref, "expect_always", e->where)) {
            char lim[96];
            if (e->to_ns == INT64_MAX)
                snprintf(lim, sizeof lim, "true from %g s on", e->from_ns * 1e-9);
            else
                snprintf(lim, sizeof lim, "true from %g s to %g s", e->from_ns * 1e-9, e->to_ns * 1e-9);
            scn_figure(x, e->name, t * 1e-9, "s", lim, 0, e->where);
            return 0;
        }
        if (t >= e->to_ns) {
            scn_figure(x, e->name, NAN, "", "always true", 1, e->where);
            return 0;
        }
        return 1;
    }
    if (scn_call_cond(x, e->ref, "expect_eventually", e->where)) {
        char lim[64];
        snprintf(lim, sizeof lim, "true by %g s", e->to_ns * 1e-9);
        scn_figure(x, e->name, t * 1e-9, "s", lim, 1, e->where);
        return 0;
    }
    if (t >= e->to_ns) {
        char lim[64];
        snprintf(lim, sizeof lim, "true by %g s", e->to_ns * 1e-9);
        scn_figure(x, e->name, NAN, "s", lim, 0, e->where);
        return 0;
    }
    return 1;
}

static void scn_expect_end(scn *x, void *ctx)
{
    scn_expect *e = ctx;
    char lim[96];
    if (e->always && e->to_ns == INT64_MAX) {
        scn_figure(x, e->name, NAN, "", "always true", 1, e->where);
        return;
    }
    snprintf(lim, sizeof lim, "%s %g s (the run ended at %.6f s)", e->always ? "true until" : "true by",
             e->to_ns * 1e-9, scn_now(x));
    scn_figure(x, e->name, NAN, "", lim, 0, e->where);
}

static void scn_expect_free(void *ctx)
{
    scn_expect *e = ctx;
    luaL_unref(e->x->L, LUA_REGISTRYINDEX, e->ref);
    free(e);
}

static int scn_expect_add(lua_State *L, int always)
{
    scn *x = scn_of(L);
    const char *what = always ? "expect_always" : "expect_eventually";
    scn_need_rack(L, x, what);
    luaL_checktype(L, 1, LUA_TFUNCTION);
    scn_expect *e = calloc(1, sizeof *e);
    if (!e)
        return scn_err(L, "%s: out of memory", what);
    e->x = x;
    e->always = always;
    e->from_ns = x->s->g.t_ns;
    e->to_ns = INT64_MAX;
    snprintf(e->name, sizeof e->name, "%s", what);
    scn_where(L, e->where, sizeof e->where);
    if (lua_istable(L, 2)) {
        static const char *const keys_a[] = {"from", "to", "name", NULL}, *const keys_e[] = {"by", "name", NULL};
        scn_known_keys(L, 2, what, always ? keys_a : keys_e);
        if (always) {
            double from = scn_field_q(L, 2, "from", "s", e->from_ns * 1e-9, what);
            double to = scn_field_q(L, 2, "to", "s", INFINITY, what);
            if (from < scn_now(x) - 1e-12 || !(to > from)) {
                char tos[48] = "the end of the run";
                if (!isinf(to))
                    snprintf(tos, sizeof tos, "%g s", to);
                scn_err(L, "%s: the window from %g s to %s must start now (%.6f s) or later and end after it", what,
                        from, tos, scn_now(x));
            }
            e->from_ns = scn_ns(from);
            e->to_ns = isinf(to) ? INT64_MAX : scn_ns(to);
        } else {
            double by = scn_field_q(L, 2, "by", "s", NAN, what);
            if (isnan(by))
                scn_err(L, "%s: give {by=TIME}", what);
            if (!(by >= scn_now(x)))
                scn_err(L, "%s: by = %g s has passed (now %.6f s)", what, by, scn_now(x));
            e->to_ns = scn_ns(by);
        }
        lua_getfield(L, 2, "name");
        if (lua_isstring(L, -1))
            snprintf(e->name, sizeof e->name, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
    } else if (!always) {
        free(e);
        return scn_err(L, "expect_eventually: give {by=TIME}");
    }
    lua_pushvalue(L, 1);
    e->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (scn_watch(x, scn_expect_watch, scn_expect_end, e, scn_expect_free)) {
        scn_expect_free(e);
        return scn_err(L, "%s: out of memory", what);
    }
    return 0;
}

static int l_expect_always(lua_State *L)
{
    return scn_expect_add(L, 1);
}

static int l_expect_eventually(lua_State *L)
{
    return scn_expect_add(L, 0);
}

static int l_print(lua_State *L)
{
    scn *x = scn_of(L);
    int n = lua_gettop(L);
    fprintf(x->o.out, "[%s %.6f s]", x->r->m.name[0] ? x->r->m.name : "scenario", scn_now(x));
    for (int i = 1; i <= n; i++)
        fprintf(x->o.out, " %s", luaL_tolstring(L, i, NULL)), lua_pop(L, 1);
    fputc('\n', x->o.out);
    return 0;
}

/* math.random and math.randomseed on the rig's seeded generator (the
 * manual's semantics: random() in [0,1), random(m) in [1,m],
 * random(m,n) in [m,n]). */
static int l_random(lua_State *L)
{
    scn *x = scn_of(L);
    uint64_t r = ek3_rng_xorshift64s(&x->rng);
    lua_Integer lo, hi;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, (double)(r >> 11) * 0x1.0p-53);
        return 1;
    case 1:
        lo = 1;
        hi = luaL_checkinteger(L, 1);
        break;
    case 2:
        lo = luaL_checkinteger(L, 1);
        hi = luaL_checkinteger(L, 2);
        break;
    default:
        return scn_err(L, "math.random: 0 to 2 arguments");
    }
    luaL_argcheck(L, lo <= hi, 1, "interval is empty");
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    lua_pushinteger(L, (lua_Integer)((uint64_t)lo + (span == UINT64_MAX ? r : r % (span + 1))));
    return 1;
}

static int l_randomseed(lua_State *L)
{
    scn *x = scn_of(L);
    lua_Integer s = luaL_checkinteger(L, 1);
    uint64_t st = (uint64_t)s;
    x->rng = ek3_rng_splitmix64(&st) | 1;
    return 0;
}

/* pcall(f, ...) and xpcall(f, msgh, ...) as the manual has them, but
 * the run's end (scn.dead: a limit, a stop, a failed run_until) is not
 * theirs to catch: it goes on up. */
static int l_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    int st = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    scn *x = scn_of(L);
    if (x->dead)
        return scn_raise_fatal(L, x);
    lua_pushboolean(L, st == LUA_OK);
    lua_insert(L, 1);
    return lua_gettop(L);
}

/* xpcall's handler in C: the run's end goes on as it is (a handler of
 * the script's would run where Lua holds the hooks off, out of reach of
 * every limit); any other error goes to the script's handler. */
static int scn_xpcall_msgh(lua_State *L)
{
    if (scn_of(L)->dead)
        return 1;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int l_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, scn_xpcall_msgh, 1);
    lua_replace(L, 2); /* f, msgh, args... */
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 1);
    lua_replace(L, 2);
    lua_replace(L, 1); /* msgh, f, args... */
    int st = lua_pcall(L, n - 2, LUA_MULTRET, 1);
    scn *x = scn_of(L);
    if (x->dead)
        return scn_raise_fatal(L, x);
    lua_pushboolean(L, st == LUA_OK);
    lua_replace(L, 1);
    return lua_gettop(L);
}

/* setmetatable(t, mt) without __gc: Lua runs finalizers with the hooks
 * off, out of reach of every limit. */
static int l_setmetatable(lua_State *L)
{
    if (lua_istable(L, 2) && (lua_pushliteral(L, "__gc"), lua_rawget(L, 2)) != LUA_TNIL)
        return scn_err(L, "setmetatable: __gc finalizers are not allowed in a scenario (Lua runs them out of reach "
                          "of the instruction limit)");
    if (lua_istable(L, 2))
        lua_pop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* load(chunk [, name [, mode [, env]]]) - text only. */
static int l_load_chunk(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    const char *name = luaL_optstring(L, 2, "=(load)");
    if (n && s[0] == LUA_SIGNATURE[0])
        return scn_err(L, "load: binary chunks are not allowed in a scenario");
    if (luaL_loadbufferx(L, s, n, name, "t")) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (!lua_isnone(L, 4)) {
        lua_pushvalue(L, 4);
        if (!lua_setupvalue(L, -2, 1))
            lua_pop(L, 1);
    }
    return 1;
}

static int scn_load_file(lua_State *L, const char *path, char *err, size_t cap, uint8_t *sha);

/* require(name): a helper module from lib/ beside the scenario or the
 * rig's scenarios/lib/; name: letters, digits, '_' and '.' (a folder). */
static int l_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    size_t n = strlen(name);
    int ok = n > 0 && n < 100;
    for (size_t i = 0; i < n && ok; i++)
        ok = name[i] == '_' || name[i] == '.' || (name[i] >= '0' && name[i] <= '9') ||
             (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z');
    if (!ok || name[0] == '.' || strstr(name, ".."))
        return scn_err(L, "require '%s': a scenario may require only its helper modules (lib/NAME.lua), "
                             "not libraries such as io, os or debug",
                          name);
    lua_getfield(L, LUA_REGISTRYINDEX, "ek3.scn.loaded");
    lua_getfield(L, -1, name);
    if (!lua_isnil(L, -1))
        return 1;
    lua_pop(L, 1);
    char rel[128];
    snprintf(rel, sizeof rel, "%s", name);
    for (char *c = rel; *c; c++)
        if (*c == '.')
            *c = '/';
    lua_getfield(L, LUA_REGISTRYINDEX, "ek3.scn.dir");
    const char *dir = lua_tostring(L, -1);
    char path[1200], err[400];
    /* the rig's library: the build's scenarios/lib, or EK3_SCENARIO_LIB's (a binary run away from its tree) */
    const char *env = getenv("EK3_SCENARIO_LIB"), *lib = env && *env ? env : EK3_SCENARIO_LIB;
    const char *dirs[2] = {dir, lib};
    for (int k = 0; k < 2; k++) {
        if (k == 0)
            snprintf(path, sizeof path, "%s/lib/%s.lua", dirs[0], rel);
        else
            snprintf(path, sizeof path, "%s/%s.lua", dirs[1], rel);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        fclose(f);
        scn_result *res = scn_of(L)->r;
        if (res->nhelper == SCN_HELPERS_MAX)
            return scn_err(L, "require '%s': more than %d helper modules", name, SCN_HELPERS_MAX);
        uint8_t sha[32];
        if (scn_load_file(L, path, err, sizeof err, sha))
            return scn_err(L, "require '%s': %s", name, err);
        size_t pl = strlen(path); /* kept for replay, which checks its bytes are still the ones run */
        if (pl >= sizeof res->helper[0])
            return scn_err(L, "require '%s': its path %s is longer than %zu characters", name, path,
                           sizeof res->helper[0] - 1);
        memcpy(res->helper[res->nhelper], path, pl + 1);
        memcpy(res->helper_sha256[res->nhelper++], sha, 32);
        lua_call(L, 0, 1);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_pushboolean(L, 1);
        }
        lua_pushvalue(L, -1);
        lua_setfield(L, -4, name);
        return 1;
    }
    return scn_err(L,
                   "require '%s': no %s/lib/%s.lua nor %s/%s.lua (the rig's library%s; a scenario may require "
                   "only its helper modules, not libraries such as io, os or debug)",
                   name, dir, rel, lib, rel,
                   lib == env ? ", from EK3_SCENARIO_LIB" : ": EK3_SCENARIO_LIB names another");
}

int scn_read_file(const char *path, size_t max, char **buf, size_t *len, char *err, size_t cap)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return EK3_EIO;
    }
    size_t n = 0, size = 1 << 16;
    char *b = malloc(size + 1);
    int rc = 0;
    while (b) {
        size_t k = fread(b + n, 1, size - n, f);
        const char *z = memchr(b + n, 0, k);
        if (z) {
            snprintf(err, cap, "%s: a NUL byte at byte %zu: not a text file", path, (size_t)(z - b));
            rc = EK3_EPARSE;
            break;
        }
        n += k;
        if (n < size)
            break;
        if (size >= max) {
            snprintf(err, cap, "%s: larger than %zu MB", path, max >> 20);
            rc = EK3_EPARSE;
            break;
        }
        char *nb = realloc(b, size * 2 + 1);
        if (!nb)
            free(b);
        b = nb;
        size *= 2;
    }
    if (!rc && !b) {
        snprintf(err, cap, "%s: out of memory", path);
        rc = EK3_ENOSPC;
    }
    if (!rc && ferror(f)) {
        snprintf(err, cap, "%s: %s", path, errno == EISDIR ? "a directory, not a file" : "read error");
        rc = EK3_EIO;
    }
    fclose(f);
    if (rc) {
        free(b);
        return rc;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}

/* Read a file and load it as a text chunk named @path; sha (may be
 * NULL): the SHA-256 of its bytes. 0, or -1 with err. */
static int scn_load_file(lua_State *L, const char *path, char *err, size_t cap, uint8_t *sha)
{
    char *buf;
    size_t len;
    if (scn_read_file(path, 64u << 20, &buf, &len, err, cap))
        return -1;
    if (len && buf[0] == LUA_SIGNATURE[0]) {
        free(buf);
        snprintf(err, cap, "%s:1: a binary (precompiled) chunk; scenarios are Lua text", path);
        return -1;
    }
    if (sha)
        mbedtls_sha256_ret((const unsigned char *)buf, len, sha, 0);
    char chunk[1100];
    snprintf(chunk, sizeof chunk, "@%s", path);
    int rc = luaL_loadbufferx(L, buf, len, chunk, "t");
    free(buf);
    if (rc) {
        snprintf(err, cap, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

/* The sandbox: the libraries, less what reaches outside. */
static void scn_open_libs(lua_State *L)
{
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},       {LUA_STRLIBNAME, luaopen_string},
                                    {LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
                                    {LUA_UTF8LIBNAME, luaopen_utf8}, {NULL, NULL}};
    for (const luaL_Reg *l = libs; l->func; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
    static const char *const gone[] = {"dofile", "loadfile", "collectgarbage", NULL};
    for (const char *const *g = gone; *g; g++) {
        lua_pushnil(L);
        lua_setglobal(L, *g);
    }
    lua_getglobal(L, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    lua_getglobal(L, "math");
    lua_pushcfunction(L, l_random);
    lua_setfield(L, -2, "random");
    lua_pushcfunction(L, l_randomseed);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
    /* package.loaded's role, for require */
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "ek3.scn.loaded");
    lua_newtable(L);
    scn_of(L)->sigs_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    static const luaL_Reg g[] = {{"scenario", l_scenario},
                                 {"rack", l_rack},
                                 {"run", l_run},
                                 {"run_until", l_run_until},
                                 {"at", l_at},
                                 {"every", l_every},
                                 {"now", l_now},
                                 {"get", l_get},
                                 {"unit", l_unit},
                                 {"set_load", l_set_load},
                                 {"fault", l_fault},
                                 {"update", l_update},
                                 {"clear", l_clear},
                                 {"expect", l_expect},
                                 {"expect_always", l_expect_always},
                                 {"expect_eventually", l_expect_eventually},
                                 {"keys", l_keys},
                                 {"print", l_print},
                                 {"require", l_require},
                                 {NULL, NULL}};
    for (const luaL_Reg *f = g; f->name; f++)
        if (f->func) {
            lua_pushcfunction(L, f->func);
            lua_setglobal(L, f->name);
        }
    lua_pushcfunction(L, l_load_chunk);
    lua_setglobal(L, "load");
    lua_pushcfunction(L, l_pcall);
    lua_setglobal(L, "pcall");
    lua_pushcfunction(L, l_xpcall);
    lua_setglobal(L, "xpcall");
    lua_getglobal(L, "setmetatable");
    lua_pushcclosure(L, l_setmetatable, 1);
    lua_setglobal(L, "setmetatable");
    chkl_open(L);
}

/* The closest global name to `name` (a typo's fix): cli_edit_distance
 * at most 2, and under half the name, ties to the first in byte order
 * (the table's order is its hash seed's); into out (cap bytes), or "". */
static void scn_near_global(lua_State *L, const char *name, char *out, size_t cap)
{
    unsigned best = 3;
    out[0] = 0;
    lua_pushglobaltable(L);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1); /* the value; the key stays for lua_next */
        if (lua_type(L, -1) != LUA_TSTRING)
            continue;
        const char *k = lua_tostring(L, -1);
        unsigned d = cli_edit_distance(name, k);
        if ((d < best || (d == best && strcmp(k, out) < 0)) && 2 * d < strlen(name)) {
            best = d;
            snprintf(out, cap, "%s", k);
        }
    }
    lua_pop(L, 1);
}

/* Lua's "attempt to call a nil value (global 'sharing_sprad')" with the
 * name it may have meant: "...; did you mean sharing_spread?". The
 * message at the top of the stack is replaced when there is one. */
static void scn_did_you_mean(lua_State *L)
{
    const char *m = lua_tostring(L, -1), *g = m ? strstr(m, "a nil value (global '") : NULL;
    if (!g || g - m < 16 || (strncmp(g - 16, "attempt to call ", 16) && strncmp(g - 17, "attempt to index ", 17)))
        return;
    char name[80];
    const char *n0 = g + strlen("a nil value (global '"), *n1 = strchr(n0, '\'');
    if (!n1 || (size_t)(n1 - n0) >= sizeof name)
        return;
    memcpy(name, n0, (size_t)(n1 - n0));
    name[n1 - n0] = 0;
    char near[80];
    scn_near_global(L, name, near, sizeof near);
    if (near[0])
        lua_pushfstring(L, "%s; did you mean %s?", m, near);
    else
        lua_pushfstring(L, "%s: no such name (docs/scenarios.md lists the API)", m);
    lua_remove(L, -2);
}

/* The message handler: a stop by run_until passes as is; errors keep
 * their message (Lua put the location in front). An error raised in a
 * lib/ helper (Lua put the helper's line in front) is told at the
 * scenario's line that called the helper, the helper's line after it, as
 * a check's `where` is. */
static int scn_msgh(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING)
        scn_did_you_mean(L);
    if (lua_type(L, 1) == LUA_TSTRING) {
        char where[LUA_IDSIZE * 2 + 40];
        scn_where(L, where, sizeof where);
        const char *lib = strstr(where, " ("), *m = lua_tostring(L, 1);
        size_t n = lib ? strlen(lib + 2) - 1 : 0; /* the helper's "file:line" within the parentheses */
        if (lib && !strncmp(m, lib + 2, n) && !strncmp(m + n, ": ", 2))
            lua_pushfstring(L, "%s: %s", where, m + n + 2);
    } else if (!lua_isstring(L, 1)) {
        char where[200];
        const char *t = luaL_typename(L, 1);
        scn_where(L, where, sizeof where);
        lua_pushfstring(L, "%s%san error object of type %s (error() with a string says more)", where,
                        where[0] ? ": " : "", t);
    }
    return 1;
}

static void scn_free_run(scn *x)
{
    for (unsigned i = 0; i < x->nw; i++)
        if (x->w[i].live)
            scn_watch_drop(&x->w[i]);
    free(x->w);
    free(x->tim);
    free(x->refs);
    free(x->blk_fp);
    x->blk_fp = NULL;
    key_free(x->keys);
    free(x->keys);
    x->keys = NULL;
    if (x->s && x->upd_on)
        scn_update_end(x);
    if (x->s) {
        ses_finish(x->s);
        if (x->o.on_session)
            x->o.on_session(NULL, x->o.session_ctx, NULL, 0);
        ses_free(x->s);
        free(x->s);
        x->s = NULL;
    }
    if (x->L)
        lua_close(x->L);
    x->L = NULL;
    mbedtls_sha256_free(&x->sha);
}

static void scn_dirname(const char *path, char *dir, size_t cap)
{
    snprintf(dir, cap, "%s", path);
    char *s = strrchr(dir, '/');
    if (s)
        *(s == dir ? s + 1 : s) = 0;
    else
        snprintf(dir, cap, ".");
}

static int scn_exec(const char *path, const scn_opts *o, scn_result *r, int manifest_only)
{
    memset(r, 0, sizeof *r);
    r->first_fail = -1;
    r->seed = o->seed;
    snprintf(r->m.path, sizeof r->m.path, "%s", path);
    r->m.timeout_s = o->timeout_s > 0 ? o->timeout_s : SCN_TIMEOUT_S;
    scn x;
    memset(&x, 0, sizeof x);
    x.o = *o;
    if (!x.o.out)
        x.o.out = stderr;
    x.r = r;
    x.mem_max = o->mem_max ? o->mem_max : SCN_MEM_MAX;
    x.instr_max = o->instr_max > 0 ? o->instr_max : SCN_INSTR_MAX;
    x.manifest_only = manifest_only;
    x.wall0_ns = scn_wall_ns();
    x.wall_deadline_ns = x.wall0_ns + scn_ns(r->m.timeout_s);
    uint64_t st = o->seed ^ 0x5C3A7105EEDull;
    x.rng = ek3_rng_splitmix64(&st) | 1;
    mbedtls_sha256_init(&x.sha);
    mbedtls_sha256_starts_ret(&x.sha, 0);
    lua_State *L = lua_newstate(scn_alloc, &x);
    if (!L) {
        snprintf(r->error, sizeof r->error, "%s: cannot create a Lua state (out of memory)", path);
        mbedtls_sha256_free(&x.sha);
        return r->verdict = SCN_ERROR;
    }
    x.L = L;
    *(scn **)lua_getextraspace(L) = &x;
    char dir[600];
    scn_dirname(path, dir, sizeof dir);
    lua_pushstring(L, dir);
    lua_setfield(L, LUA_REGISTRYINDEX, "ek3.scn.dir");
    scn_open_libs(L);
    lua_sethook(L, scn_hook, LUA_MASKCOUNT, SCN_HOOK_EVERY);
    lua_pushcfunction(L, scn_msgh);
    char err[600];
    int rc = scn_load_file(L, path, err, sizeof err, r->script_sha256);
    if (rc) {
        snprintf(r->error, sizeof r->error, "%s", err);
        r->verdict = SCN_ERROR;
    } else {
        rc = lua_pcall(L, 0, 0, 1);
        const char *msg = rc ? lua_tostring(L, -1) : NULL;
        /* The run's end (x.dead) is what ended it, even when the script
         * caught it and returned. */
        if (x.manifest_stop || (x.dead && !x.fatal[0])) {
            rc = 0; /* the manifest read, or a failed run_until (its figure is recorded) */
        } else if (x.dead) {
            snprintf(r->error, sizeof r->error, "%s", x.fatal);
            r->verdict = SCN_ERROR;
            r->stopped = x.stopped;
            if (x.stopped) /* not the script's error: no line of it */
                snprintf(r->error, sizeof r->error,
                         "interrupted: stopped by a signal at %.3f s simulated, before the end: no verdict (the "
                         "checks are those it reached)", scn_now(&x));
        } else if (rc) {
            snprintf(r->error, sizeof r->error, "%s", msg ? msg : "an error without a message");
            r->verdict = SCN_ERROR;
        } else if (!x.manifest_done) {
            snprintf(r->error, sizeof r->error, "%s:1: no scenario{...} manifest (the file must start with one)", path);
            r->verdict = SCN_ERROR;
        }
        if (!manifest_only && r->verdict != SCN_ERROR && !x.s) {
            snprintf(r->error, sizeof r->error, "%s: no rack{...}: the scenario sets up nothing to run", path);
            r->verdict = SCN_ERROR;
        }
        /* the end of the run: windows not reached */
        if (!manifest_only && x.s && r->verdict != SCN_ERROR) {
            for (unsigned i = 0; i < x.nw; i++)
                if (x.w[i].live && x.w[i].at_end)
                    x.w[i].at_end(&x, x.w[i].ctx);
            for (unsigned i = 0; i < r->nfault; i++)
                if (!x.pend[i].injected && !x.pend[i].dropped) {
                    char msg2[300];
                    snprintf(msg2, sizeof msg2, "fault %s never took effect (the run ended at %.6f s)",
                             r->fault[i].text, scn_now(&x));
                    scn_figure(&x, msg2, NAN, "", "injected before the end", 0, r->fault[i].where);
                }
            /* Timers and loads the run ended before: what they were to do never happened. */
            for (unsigned i = 0; i < x.ntim; i++) {
                const scn_timer *m = &x.tim[i];
                if (m->fired || (m->ref == LUA_NOREF && m->at_ns <= x.s->g.t_ns))
                    continue;
                char msg2[300];
                if (m->every_ns)
                    snprintf(msg2, sizeof msg2, "every(%.6g s): its first call, due at %.6g s, never ran (the run ended "
                             "at %.6f s)", m->every_ns * 1e-9, m->at_ns * 1e-9, scn_now(&x));
                else if (m->ref == LUA_NOREF) /* a set_load{}'s */
                    snprintf(msg2, sizeof msg2, "set_load{} at %.6g s never took effect (the run ended at %.6f s)",
                             m->at_ns * 1e-9, scn_now(&x));
                else
                    snprintf(msg2, sizeof msg2, "at(%.6g s) never ran (the run ended at %.6f s)", m->at_ns * 1e-9,
                             scn_now(&x));
                scn_figure(&x, msg2, NAN, "", m->ref == LUA_NOREF ? "applied before the end" : "run before the end", 0,
                           m->where);
            }
        }
    }
    if (x.keys && !manifest_only)
        scn_keys_write(&x); /* its failure is a check of its own */
    if (!manifest_only && x.s && r->verdict != SCN_ERROR && r->nfig == 0 && !r->lost_figs) {
        snprintf(r->error, sizeof r->error,
                 "%s: no check ran: a verdict needs at least one (a PASS would claim nothing; docs/scenarios.md, Checks)", path);
        r->verdict = SCN_ERROR;
    }
    if (x.s) {
        r->sim_s = scn_now(&x);
        r->trace_rows = x.hashed;
        scn_block_close(&x, x.hashed); /* the last, short block */
    }
    mbedtls_sha256_finish_ret(&x.sha, r->trace_sha256);
    if (r->verdict != SCN_ERROR && r->lost_figs) {
        snprintf(r->error, sizeof r->error, "%s: out of memory: %u check figures could not be recorded", path,
                 r->lost_figs);
        r->verdict = SCN_ERROR;
    }
    /* The frame log's last frames, flushed: a write error is the run's
     * ERROR (said with any other), so the caller closes a failed log quietly. */
    if (!manifest_only && x.o.can_log) {
        errno = 0;
        int e = fflush(x.o.can_log) ? errno : 0;
        if (ferror(x.o.can_log)) {
            char why[300];
            int n = snprintf(why, sizeof why, "%s: write error", scn_log_name(&x.o));
            int told = strstr(r->error, why) != NULL; /* the session stopped on it */
            snprintf(why + n, sizeof why - (size_t)n, ": %s", strerror(e ? e : EIO));
            if (r->verdict != SCN_ERROR)
                snprintf(r->error, sizeof r->error, "%s", why);
            else if (!told && strlen(r->error) + strlen(why) + 3 < sizeof r->error)
                snprintf(r->error + strlen(r->error), sizeof r->error - strlen(r->error), "; %s", why);
            r->verdict = SCN_ERROR;
        }
    }
    if (r->verdict != SCN_ERROR)
        r->verdict = r->first_fail >= 0 ? SCN_FAIL : SCN_PASS;
    scn_free_run(&x);
    r->wall_s = (scn_wall_ns() - x.wall0_ns) * 1e-9;
    return r->verdict;
}

int scn_run_file(const char *path, const scn_opts *o, scn_result *r)
{
    return scn_exec(path, o, r, 0);
}

void scn_result_free(scn_result *r)
{
    if (!r)
        return;
    free(r->fig);
    r->fig = NULL;
    r->nfig = r->capfig = 0;
    for (unsigned i = 0; i < r->nblock; i++)
        free(r->block[i].col);
    free(r->block);
    r->block = NULL;
    r->nblock = 0;
    free(r->colnames);
    r->colnames = NULL;
}

const char *scn_col_name(const scn_result *r, unsigned col)
{
    if (!r->colnames || col >= r->ncol)
        return "?";
    const char *p = r->colnames;
    for (unsigned c = 0; c < col; c++)
        p += strlen(p) + 1;
    return p;
}

int scn_manifest_read(const char *path, scn_manifest *m, char *err, size_t cap)
{
    scn_opts o = {.seed = 1, .out = stderr};
    scn_result *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, cap, "%s: out of memory", path);
        return EK3_ENOSPC;
    }
    int v = scn_exec(path, &o, r, 1);
    int rc = 0;
    if (v == SCN_ERROR) {
        snprintf(err, cap, "%s", r->error);
        rc = EK3_EPARSE;
    } else {
        *m = r->m;
    }
    scn_result_free(r);
    free(r);
    return rc;
}
