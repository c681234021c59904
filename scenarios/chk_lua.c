/* chk_lua.c - the signal checks and capture as Lua globals (chk_lua.h). */
#include "chk_lua.h"
#include "cli.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cap.h"
#include "chk.h"
#include "chp.h"
#include "ek3_err.h"
#include "rig.h"
#include "scn.h"
#include "sig.h"
#include "splot.h"

#define CHKL_EPS 1e-12 /* s: times are sums of quanta; compare with slack */
#define CHKL_COLS 3
#define CHKL_MAX_SAMPLES (1u << 24) /* per check: 16.7 M quanta, 28 min of simulated time */

typedef enum chkl_kind {
    K_STEP,
    K_RAMP,
    K_FO,
    K_WITHIN,
    K_RIPPLE,
    K_SHARE,
    K_DELIV,
    K_TRIP,
    K_RESTART,
    K_DIP,
    K_CAP
} chkl_kind;

/* One check or capture in progress: its window, its samples, its limits
 * (NaN: not given). */
typedef struct chkl_job {
    chkl_kind kind;
    lua_State *L;
    char name[80], where[160], unit[16];
    double from, to; /* sampling window, s; to = INFINITY: to the run's end */
    double at;       /* the event: step, start of the fit, fault onset, dip */
    unsigned ncol;
    sig_ref ref[CHKL_COLS];
    int ref_ok[CHKL_COLS]; /* 0: the column is computed, not read */
    double *t, *c[CHKL_COLS];
    size_t n, cap;
    /* limits and options */
    double target, tol, band, os_max, settle_max, rise_max, time_tol, pre;
    double slope, y_start, dev_max, tau, fit_max;
    double lo, hi, pp_max, rms_max, min_pct, spread_max, max;
    /* sharing: per module */
    unsigned nmod;
    sig_ref *iref, *rref;
    double *isum;
    size_t *icnt;
    /* trip latency: the module whose protection's trip instant refines the sample */
    unsigned slot;
    int refine;
    /* restart: the state seen */
    int crashed;
    /* capture */
    cap cp;
    int cap_ok, pred_ref;
    char capname[64];
    int armed; /* 0 while its call is still reading its options */
    /* its plot (chp.h): limit lines, an ideal line, a deadline, the first failing instant (NaN: none) */
    double plo, phi, pdead, pfail, pline_a, pline_b, pline_t0, pline_dev;
    double pseen;       /* the instant the check measured (a trip, a restart), s; NaN: none */
    char pseen_l[80];
    char plo_l[64], phi_l[64], pdead_l[64];
    int pass; /* every figure it recorded passed */
} chkl_job;

/* ---- small helpers ---- */

static void chkl_free(void *ctx)
{
    chkl_job *j = ctx;
    free(j->t);
    for (int k = 0; k < CHKL_COLS; k++)
        free(j->c[k]);
    free(j->iref), free(j->rref), free(j->isum), free(j->icnt);
    if (j->kind == K_CAP)
        cap_free(&j->cp);
    if (j->pred_ref != LUA_NOREF)
        luaL_unref(j->L, LUA_REGISTRYINDEX, j->pred_ref);
    free(j);
}

/* Every key of the options table at idx must be one of keys (NULL-ended). */
static void chkl_keys(lua_State *L, int idx, const char *what, const char *const *keys)
{
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        int ok = 0;
        for (const char *const *p = keys; k && *p; p++)
            ok |= !strcmp(*p, k);
        if (!ok) {
            char list[300] = "";
            for (const char *const *p = keys; *p; p++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", p == keys ? "" : ", ", *p);
            scn_err(L, "%s: unknown option '%s' (it takes %s)", what, k ? k : luaL_typename(L, -1), list);
        }
    }
}

/* Option k of the table at idx (0: none) as a quantity in unit; def when absent. */
static double chkl_q(lua_State *L, int idx, const char *k, const char *unit, double def, const char *what)
{
    if (!idx)
        return def;
    lua_getfield(L, idx, k);
    double v = def;
    if (!lua_isnil(L, -1)) {
        char w[120];
        snprintf(w, sizeof w, "%s: %s", what, k);
        v = scn_arg_quantity(L, lua_gettop(L), unit, w);
    }
    lua_pop(L, 1);
    return v;
}

/* Option k as a percentage: a number, or a string "5%"; def when absent. */
static double chkl_pct(lua_State *L, int idx, const char *k, double def, const char *what)
{
    if (!idx)
        return def;
    lua_getfield(L, idx, k);
    double v = def;
    if (lua_type(L, -1) == LUA_TNUMBER) {
        v = lua_tonumber(L, -1);
    } else if (lua_type(L, -1) == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1);
        char *end;
        v = strtod(s, &end);
        if (end == s || strcmp(end, "%"))
            scn_err(L, "%s: %s = '%s' is not a percentage (a number, or e.g. \"5%%\")", what, k, s);
    } else if (!lua_isnil(L, -1)) {
        scn_err(L, "%s: %s: a percentage expected, got %s", what, k, luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    if (!isnan(v) && !(isfinite(v) && v >= 0))
        scn_err(L, "%s: %s = %g %% must be finite and not negative", what, k, v);
    return v;
}

/* A tolerance option: a plain number is a fraction (0.02), a quantity
 * string ("5V") an absolute band in unit. */
static void chkl_tol(lua_State *L, int idx, const char *k, const char *unit, const char *what, double *frac,
                     double *band)
{
    if (!idx)
        return;
    lua_getfield(L, idx, k);
    if (lua_type(L, -1) == LUA_TNUMBER) {
        *frac = lua_tonumber(L, -1);
        if (!(*frac > 0 && *frac < 1))
            scn_err(L, "%s: %s = %g: a fraction between 0 and 1 (or a band such as \"5%s\")", what, k, *frac,
                     unit);
    } else if (!lua_isnil(L, -1)) {
        char w[120];
        snprintf(w, sizeof w, "%s: %s", what, k);
        *band = scn_arg_quantity(L, lua_gettop(L), unit, w);
        if (!(*band > 0))
            scn_err(L, "%s: %s must be more than 0", what, k);
    }
    lua_pop(L, 1);
}

static ses *chkl_ses(lua_State *L, scn *x, const char *what)
{
    if (!x)
        scn_err(L, "%s: not inside a scenario", what);
    ses *s = scn_session(x);
    if (!s)
        scn_err(L, "%s: no rack yet (call rack{...} first)", what);
    return s;
}

static void chkl_resolve(lua_State *L, const ses *s, const char *path, sig_ref *r, const char *what)
{
    char err[300];
    if (sig_resolve(s, path, r, err, sizeof err))
        scn_err(L, "%s: %s", what, err);
}

static int chkl_watch(scn *x, void *ctx);
static void chkl_at_end(scn *x, void *ctx);

/* A new job, its watcher registered at once (unarmed), so the engine
 * frees it however its call ends. */
static chkl_job *chkl_new(lua_State *L, scn *x, chkl_kind kind, const char *what, const char *name)
{
    chkl_job *j = calloc(1, sizeof *j);
    if (!j || scn_watch(x, chkl_watch, chkl_at_end, j, chkl_free)) {
        free(j);
        scn_err(L, "%s: out of memory", what);
    }
    j->kind = kind;
    j->L = L;
    j->pred_ref = LUA_NOREF;
    j->to = INFINITY;
    j->target = j->tol = j->band = j->os_max = j->settle_max = j->rise_max = j->time_tol = NAN;
    j->slope = j->y_start = j->dev_max = j->tau = j->fit_max = NAN;
    j->lo = -INFINITY, j->hi = INFINITY;
    j->pp_max = j->rms_max = j->min_pct = j->spread_max = j->max = NAN;
    j->plo = j->phi = j->pdead = j->pfail = j->pline_a = j->pline_b = j->pline_t0 = j->pline_dev = j->pseen = NAN;
    snprintf(j->name, sizeof j->name, "%s", name);
    scn_where(L, j->where, sizeof j->where);
    return j;
}

/* name= of the options at idx, else def. */
static void chkl_name(lua_State *L, int idx, chkl_job *j)
{
    if (!idx)
        return;
    lua_getfield(L, idx, "name");
    if (lua_type(L, -1) == LUA_TSTRING)
        snprintf(j->name, sizeof j->name, "%s", lua_tostring(L, -1));
    else if (!lua_isnil(L, -1))
        scn_err(L, "%s: name must be a string", j->name);
    lua_pop(L, 1);
}

/* Record "NAME: what" into the verdict. */
static void chkl_fig(scn *x, const chkl_job *j, const char *what, double v, const char *unit, const char *limit,
                     int pass)
{
    char n[512];
    snprintf(n, sizeof n, "%s: %s", j->name, what);
    scn_figure(x, n, v, unit, limit, pass, j->where);
}

/* A figure checked against an upper limit (NaN: measured only). */
static void chkl_fig_max(scn *x, const chkl_job *j, const char *what, double v, const char *unit, double max)
{
    char lim[64], m[56];
    if (isnan(max)) {
        chkl_fig(x, j, what, v, unit, "(measured)", 1);
        return;
    }
    snprintf(lim, sizeof lim, "<= %s", cli_si(m, sizeof m, max, unit));
    chkl_fig(x, j, what, v, unit, lim, v <= max);
}

/* A chk_ error as a failed figure. */
static void chkl_fig_err(scn *x, const chkl_job *j, int rc)
{
    char what[160];
    if (rc == EK3_ESHORT)
        snprintf(what, sizeof what, "too few samples in its window (%zu)", j->n);
    else if (rc == EK3_ERANGE)
        snprintf(what, sizeof what, "the signal gives no such figure (%s)", ek3_strerror(rc));
    else
        snprintf(what, sizeof what, "cannot be computed: %s", ek3_strerror(rc));
    chkl_fig(x, j, what, NAN, j->unit, "computable", 0);
}

static int chkl_grow(chkl_job *j)
{
    if (j->n < j->cap)
        return 0;
    size_t ncap = j->cap ? 2 * j->cap : 1024;
    double *t = realloc(j->t, ncap * sizeof *t);
    if (!t)
        return -1;
    j->t = t;
    for (unsigned k = 0; k < j->ncol; k++) {
        double *c = realloc(j->c[k], ncap * sizeof *c);
        if (!c)
            return -1;
        j->c[k] = c;
    }
    j->cap = ncap;
    return 0;
}

/* ---- sampling and evaluation ---- */

static void chkl_eval(scn *x, chkl_job *j, int at_end);

static void chkl_sample(scn *x, chkl_job *j, double now)
{
    ses *s = scn_session(x);
    if (j->kind == K_SHARE) {
        for (unsigned k = 0; k < j->nmod; k++)
            if (sig_read(s, &j->rref[k]) != 0) {
                double i = sig_read(s, &j->iref[k]);
                if (isfinite(i))
                    j->isum[k] += i, j->icnt[k]++;
            }
        j->n++;
        return;
    }
    if (j->n >= CHKL_MAX_SAMPLES)
        scn_err(j->L, "%s: its window holds more than %u samples (%.0f s of quanta); give a shorter one", j->name,
                 CHKL_MAX_SAMPLES, CHKL_MAX_SAMPLES * (RIG_PERIOD_NS * 1e-9));
    if (chkl_grow(j))
        scn_err(j->L, "%s: out of memory after %zu samples", j->name, j->n);
    j->t[j->n] = now;
    for (unsigned k = 0; k < j->ncol; k++)
        j->c[k][j->n] = j->ref_ok[k] ? sig_read(s, &j->ref[k]) : NAN;
    switch (j->kind) {
    case K_TRIP: /* c0: the fault holds (from at on); c1: tripped; c2: the RTL's instant in the quantum */
        j->c[0][j->n] = now + CHKL_EPS >= j->at;
        j->c[1][j->n] = j->c[1][j->n] != 0 && !isnan(j->c[1][j->n]);
        j->c[2][j->n] = j->refine ? s->g.plant.mod[j->slot - 1].prot_trip_t : -1;
        break;
    case K_RESTART: { /* c0: running; c1: restarts (the kernel's count); c2: its last restart's time */
        /* RESET (its MCU held at power-on, or down without an image) is
         * no crash: a kernel's first start is not a restart. */
        const char *st = sig_enum_name(&j->ref[0], j->c[0][j->n]);
        j->c[0][j->n] = st && (!strcmp(st, "RUNNING") || !strcmp(st, "RESET"));
        break;
    }
    case K_DELIV:
        if (!j->ref_ok[1]) {
            double capw, dem;
            ses_capacity(s, &capw, &dem);
            j->c[1][j->n] = dem;
        }
        break;
    default:
        break;
    }
    j->n++;
}

/* Whether a trip or restart has been seen: evaluate at once. */
static int chkl_event_done(chkl_job *j)
{
    size_t i = j->n - 1;
    if (j->kind == K_TRIP)
        return j->c[0][i] != 0 && j->c[1][i] != 0;
    if (j->kind == K_RESTART) {
        /* seen down at a sample, or restarted between two (a restart
         * inside one quantum: the kernel's count moved) */
        if (j->c[0][i] == 0)
            j->crashed = 1;
        return j->c[0][i] != 0 && (j->crashed || j->c[1][i] > j->c[1][0]);
    }
    return 0;
}

static void chkl_cap_row(scn *x, chkl_job *j, double now);

static int chkl_watch(scn *x, void *ctx)
{
    chkl_job *j = ctx;
    double now = scn_now(x);
    if (!j->armed)
        return 0;
    if (j->kind == K_CAP) {
        chkl_cap_row(x, j, now);
        return cap_get_state(&j->cp) != CAP_DONE;
    }
    if (now + CHKL_EPS < j->from)
        return 1;
    if (now <= j->to + CHKL_EPS) {
        chkl_sample(x, j, now);
        if ((j->kind == K_TRIP || j->kind == K_RESTART) && chkl_event_done(j)) {
            chkl_eval(x, j, 0);
            return 0;
        }
    }
    if (now + CHKL_EPS >= j->to) {
        chkl_eval(x, j, 0);
        return 0;
    }
    return 1;
}

static void chkl_cap_finish(scn *x, chkl_job *j, int at_end);

static void chkl_at_end(scn *x, void *ctx)
{
    chkl_job *j = ctx;
    if (!j->armed)
        return;
    if (j->kind == K_CAP) {
        chkl_cap_finish(x, j, 1);
        return;
    }
    if (isinf(j->to) || j->kind == K_TRIP || j->kind == K_RESTART) {
        chkl_eval(x, j, 1);
        return;
    }
    char what[160];
    snprintf(what, sizeof what, "window to %g s not reached (the run ended at %.6f s)", j->to, scn_now(x));
    chkl_fig(x, j, what, NAN, "s", "window reached", 0);
}

/* The first failing instant for the plot: the earliest given. */
static void chkl_failed_at(chkl_job *j, double t)
{
    if (isfinite(t) && !(j->pfail <= t))
        j->pfail = t;
}

/* A limit line of the plot with its label. */
static void chkl_pline(double *y, char *label, size_t lcap, double v, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void chkl_pline(double *y, char *label, size_t lcap, double v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *y = v;
    vsnprintf(label, lcap, fmt, ap);
    va_end(ap);
}

static void chkl_eval_step(scn *x, chkl_job *j)
{
    chk_step_opt o = chk_step_defaults(j->at);
    o.target = j->target;
    if (!isnan(j->tol))
        o.tol = j->tol;
    if (!isnan(j->band))
        o.band = j->band;
    chk_step_fig r;
    int rc = chk_step_response(j->t, j->c[0], j->n, &o, &r);
    if (rc) {
        chkl_fig_err(x, j, rc);
        return;
    }
    char lim[160], what[160];
    const char *u = j->unit;
    double c = isnan(j->target) ? r.y_final : j->target, b = r.band_used;
    const char *bn = isnan(j->target) ? "settling band" : "final";
    chkl_pline(&j->plo, j->plo_l, sizeof j->plo_l, c - b, "%s - %.3g %s", bn, b, u);
    chkl_pline(&j->phi, j->phi_l, sizeof j->phi_l, c + b, "%s + %.3g %s", bn, b, u);
    if (!isnan(j->target) && !(fabs(r.y_final - j->target) <= b))
        chkl_failed_at(j, j->t[j->n - 1]);
    if (r.overshoot > j->os_max)
        chkl_failed_at(j, r.t_peak);
    if (r.rise_time > j->rise_max)
        chkl_failed_at(j, r.t10 + j->rise_max);
    if (!isnan(j->settle_max)) {
        chkl_pline(&j->pdead, j->pdead_l, sizeof j->pdead_l, j->at + j->settle_max, "settled by");
        if (!(r.settled && r.settling_time <= j->settle_max))
            chkl_failed_at(j, j->at + j->settle_max);
    }
    if (!isnan(j->time_tol) && !(r.t_onset - j->at >= 0 && r.t_onset - j->at <= j->time_tol))
        chkl_failed_at(j, isnan(r.t_onset) ? j->at + j->time_tol : r.t_onset);
    if (!isnan(j->target)) {
        snprintf(lim, sizeof lim, "%g %s +- %.3g %s", j->target, u, r.band_used, u);
        chkl_fig(x, j, "final value", r.y_final, u, lim, fabs(r.y_final - j->target) <= r.band_used);
    } else {
        chkl_fig(x, j, "final value", r.y_final, u, "(measured)", 1);
    }
    chkl_fig_max(x, j, "overshoot", r.overshoot, "%", j->os_max);
    chkl_fig_max(x, j, "rise time 10-90 %", r.rise_time, "s", j->rise_max);
    snprintf(what, sizeof what, "settling time to +- %.3g %s%s", r.band_used, u, r.settled ? "" : " (not settled)");
    if (isnan(j->settle_max)) {
        chkl_fig(x, j, what, r.settling_time, "s", "(measured)", 1);
    } else {
        char m[56];
        snprintf(lim, sizeof lim, "<= %s", cli_si(m, sizeof m, j->settle_max, "s"));
        chkl_fig(x, j, what, r.settling_time, "s", lim, r.settled && r.settling_time <= j->settle_max);
    }
    if (!isnan(j->time_tol)) {
        double d = r.t_onset - j->at;
        snprintf(lim, sizeof lim, "0 to %g s after %g s", j->time_tol, j->at);
        chkl_fig(x, j, "onset delay", d, "s", lim, d >= 0 && d <= j->time_tol);
    }
}

static void chkl_eval_figs(scn *x, chkl_job *j, int at_end)
{
    char lim[160], what[160];
    const char *u = j->unit;
    int rc;
    switch (j->kind) {
    case K_STEP:
        chkl_eval_step(x, j);
        break;
    case K_RAMP: {
        chk_ramp_opt o = {NAN, NAN, j->slope, j->y_start};
        chk_ramp_fig r;
        if ((rc = chk_ramp(j->t, j->c[0], j->n, &o, &r))) {
            chkl_fig_err(x, j, rc);
            break;
        }
        char su[24];
        snprintf(su, sizeof su, "%s/s", u);
        j->pline_t0 = j->t[0];
        j->pline_a = isnan(j->y_start) ? r.intercept : j->y_start;
        j->pline_b = isnan(j->slope) ? r.slope : j->slope;
        j->pline_dev = j->dev_max;
        if (r.max_dev > j->dev_max)
            chkl_failed_at(j, r.t_max_dev);
        if (!isnan(j->slope)) {
            double tol = !isnan(j->band) ? j->band : (isnan(j->tol) ? 0.02 : j->tol) * fabs(j->slope);
            snprintf(lim, sizeof lim, "%g %s +- %.3g %s", j->slope, su, tol, su);
            chkl_fig(x, j, "slope", r.slope, su, lim, fabs(r.slope - j->slope) <= tol);
            if (!(fabs(r.slope - j->slope) <= tol))
                chkl_failed_at(j, j->t[0]);
        } else {
            chkl_fig(x, j, "slope", r.slope, su, "(measured)", 1);
        }
        chkl_fig_max(x, j, isnan(j->slope) ? "max deviation from the fitted line" : "max deviation from the ramp",
                     r.max_dev, u, j->dev_max);
        break;
    }
    case K_FO: {
        chk_fo_opt o = {j->at, NAN};
        chk_fo_fig r;
        if ((rc = chk_first_order(j->t, j->c[0], j->n, &o, &r))) {
            chkl_fig_err(x, j, rc);
            break;
        }
        double tol = isnan(j->tol) ? 0.05 : j->tol;
        if (!isnan(j->tau)) {
            char m[56];
            snprintf(lim, sizeof lim, "%s +- %g %%", cli_si(m, sizeof m, j->tau, "s"), tol * 100);
            chkl_fig(x, j, "time constant", r.tau, "s", lim, fabs(r.tau - j->tau) <= tol * j->tau);
            if (!(fabs(r.tau - j->tau) <= tol * j->tau))
                chkl_failed_at(j, j->at + j->tau);
        } else {
            chkl_fig(x, j, "time constant", r.tau, "s", "(measured)", 1);
        }
        if (!isnan(j->target)) {
            double b = isnan(j->band) ? tol * fabs(j->target) : j->band;
            snprintf(lim, sizeof lim, "%g %s +- %.3g %s", j->target, u, b, u);
            chkl_fig(x, j, "final value", r.y_final, u, lim, fabs(r.y_final - j->target) <= b);
            chkl_pline(&j->plo, j->plo_l, sizeof j->plo_l, j->target - b, "final - %.3g %s", b, u);
            chkl_pline(&j->phi, j->phi_l, sizeof j->phi_l, j->target + b, "final + %.3g %s", b, u);
            if (!(fabs(r.y_final - j->target) <= b))
                chkl_failed_at(j, j->t[j->n - 1]);
        }
        chkl_fig_max(x, j, "fit error (RMS, of the step)", r.rel_err * 100, "%", j->fit_max);
        break;
    }
    case K_WITHIN: {
        chk_within_fig r;
        if ((rc = chk_within(j->t, j->c[0], j->n, j->lo, j->hi, NAN, NAN, &r))) {
            chkl_fig_err(x, j, rc);
            break;
        }
        snprintf(lim, sizeof lim, "%g to %g %s", j->lo, j->hi, u);
        chkl_pline(&j->plo, j->plo_l, sizeof j->plo_l, j->lo, "lo %g %s", j->lo, u);
        chkl_pline(&j->phi, j->phi_l, sizeof j->phi_l, j->hi, "hi %g %s", j->hi, u);
        chkl_failed_at(j, r.t_first);
        if (r.ok)
            snprintf(what, sizeof what, "nearest a limit");
        else
            snprintf(what, sizeof what, "out first at %.6f s (%.6g %s), %zu samples out; worst", r.t_first,
                     r.y_first, u, r.violations);
        chkl_fig(x, j, what, r.worst, u, lim, r.ok);
        break;
    }
    case K_RIPPLE: {
        chk_ripple_fig r;
        if ((rc = chk_ripple(j->t, j->c[0], j->n, NAN, NAN, &r))) {
            chkl_fig_err(x, j, rc);
            break;
        }
        chkl_fig_max(x, j, "ripple peak-to-peak", r.pp, u, j->pp_max);
        if (!isnan(j->pp_max)) {
            chkl_pline(&j->plo, j->plo_l, sizeof j->plo_l, r.mean - j->pp_max / 2, "mean - max/2");
            chkl_pline(&j->phi, j->phi_l, sizeof j->phi_l, r.mean + j->pp_max / 2, "mean + max/2 (%g %s p-p)",
                       j->pp_max, u);
            /* the first sample at which the peak-to-peak so far passed the limit */
            double lo = INFINITY, hi = -INFINITY;
            for (size_t i = 0; i < j->n && r.pp > j->pp_max; i++) {
                lo = fmin(lo, j->c[0][i]), hi = fmax(hi, j->c[0][i]);
                if (hi - lo > j->pp_max) {
                    chkl_failed_at(j, j->t[i]);
                    break;
                }
            }
        }
        if (r.rms > j->rms_max)
            chkl_failed_at(j, j->t[j->n - 1]);
        chkl_fig_max(x, j, "ripple RMS", r.rms, u, j->rms_max);
        break;
    }
    case K_SHARE: {
        double *m = malloc((j->nmod ? j->nmod : 1) * sizeof *m);
        unsigned *slot = malloc((j->nmod ? j->nmod : 1) * sizeof *slot), k = 0;
        if (!m || !slot) {
            free(m), free(slot);
            chkl_fig(x, j, "out of memory", NAN, "", "computable", 0);
            break;
        }
        for (unsigned i = 0; i < j->nmod; i++)
            if (j->icnt[i])
                slot[k] = i + 1, m[k++] = j->isum[i] / (double)j->icnt[i];
        chk_share_fig r;
        rc = chk_sharing(m, k, &r);
        if (rc == EK3_EINVAL && !k)
            chkl_fig(x, j, "no module regulated in the window", NAN, "%", "modules regulating", 0);
        else if (rc)
            chkl_fig(x, j, "no current shared (mean <= 0)", NAN, "%", "modules sharing", 0);
        else {
            chkl_fig_max(x, j, "spread (max - min) / mean", r.spread * 100, "%", j->spread_max);
            snprintf(what, sizeof what, "max deviation from the mean (module %u)", slot[r.worst]);
            chkl_fig(x, j, what, r.max_dev, "A", "(measured)", 1);
        }
        free(m), free(slot);
        break;
    }
    case K_DELIV: {
        chk_delivery_fig r;
        rc = chk_delivered(j->t, j->c[0], j->c[1], j->n, NAN, NAN, &r);
        if (rc == EK3_ERANGE) {
            chkl_fig(x, j, "no demand in the window (a battery, or the load off)", NAN, "%", "demand > 0", 0);
            break;
        }
        if (rc) {
            chkl_fig_err(x, j, rc);
            break;
        }
        if (isnan(j->min_pct)) {
            chkl_fig(x, j, "energy delivered / demanded", r.ratio * 100, "%", "(measured)", 1);
        } else {
            snprintf(lim, sizeof lim, ">= %g %%", j->min_pct);
            chkl_fig(x, j, "energy delivered / demanded", r.ratio * 100, "%", lim, r.ratio * 100 >= j->min_pct);
            if (!(r.ratio * 100 >= j->min_pct))
                chkl_failed_at(j, r.t_shortfall_max);
        }
        snprintf(what, sizeof what, "largest shortfall (at %.6f s)", r.t_shortfall_max);
        chkl_fig(x, j, what, r.shortfall_max, "W", "(measured)", 1);
        break;
    }
    case K_TRIP: {
        chk_interval_fig r;
        if ((rc = chk_trip_latency(j->t, j->c[0], j->c[1], j->n, NAN, &r))) {
            chkl_fig_err(x, j, rc);
            break;
        }
        if (!isnan(j->max))
            chkl_pline(&j->pdead, j->pdead_l, sizeof j->pdead_l, j->at + j->max, "trip by (max %g s)", j->max);
        if (!r.found) {
            chkl_failed_at(j, isnan(j->max) ? j->t[j->n - 1] : j->at + j->max);
            snprintf(what, sizeof what, "no trip after %g s (%s at %.6f s)", j->at, at_end ? "the run ended" : "to",
                     scn_now(x));
            chkl_fig(x, j, what, NAN, "s", "a trip", 0);
            break;
        }
        if (!(r.t_end > r.t_start)) { /* set in the check's first sample: before anything after `at` acted */
            char path[96];
            const char *sp = sig_path(&j->ref[1], path, sizeof path);
            chkl_failed_at(j, r.t_end);
            snprintf(what, sizeof what, "already tripped at %.6f s: %s was non-zero when the check began (no trip to time)",
                     r.t_start, sp ? sp : "its signal");
            snprintf(lim, sizeof lim, "a trip after %g s", j->at);
            chkl_fig(x, j, what, NAN, "s", lim, 0);
            break;
        }
        double lat = r.interval;
        if (j->refine) {
            /* The protection's own instant inside the quantum it tripped in (after t_start: above). */
            size_t i = 0;
            while (i + 1 < j->n && j->t[i] < r.t_end)
                i++;
            double tt = j->c[2][i];
            if (tt >= 0)
                lat = (r.t_end - RIG_PERIOD_NS * 1e-9 + tt) - r.t_start;
        }
        j->pseen = r.t_start + lat; /* the trip instant the latency measured, marked on the plot */
        snprintf(j->pseen_l, sizeof j->pseen_l, "trip at %.7f s (latency %.3g %s)", j->pseen,
                 lat < 1e-3 ? lat * 1e6 : lat * 1e3, lat < 1e-3 ? "us" : "ms");
        chkl_fig_max(x, j, "trip latency", lat, "s", j->max);
        if (lat > j->max)
            chkl_failed_at(j, j->at + j->max);
        break;
    }
    case K_RESTART: {
        chk_interval_fig r;
        if ((rc = chk_restart_time(j->t, j->c[0], j->n, NAN, &r))) {
            chkl_fig_err(x, j, rc);
            break;
        }
        size_t last = j->n ? j->n - 1 : 0;
        int counted = j->n && j->c[1][last] > j->c[1][0]; /* the kernel restarted it in the window */
        if (!isnan(r.t_start) && !isnan(j->max))
            chkl_pline(&j->pdead, j->pdead_l, sizeof j->pdead_l, r.t_start + j->max, "running by (max %g s)",
                       j->max);
        if (!r.found && !counted) {
            chkl_failed_at(j, isnan(r.t_start) || isnan(j->max) ? j->t[j->n - 1] : r.t_start + j->max);
            if (isnan(r.t_start))
                snprintf(what, sizeof what, "never stopped running (to %.6f s)", scn_now(x));
            else
                snprintf(what, sizeof what, "stopped at %.6f s, not running again by %.6f s", r.t_start, scn_now(x));
            chkl_fig(x, j, what, NAN, "s", "a crash and a restart", 0);
            break;
        }
        /* The kernel's own instants (crash to fresh start): a restart
         * inside one quantum is measured, not rounded to the samples. */
        double dt = j->c[2][last];
        if (!(dt > 0) && r.found)
            dt = r.interval;
        if (!isnan(r.t_start)) { /* the instant the service ran again, marked on the plot */
            j->pseen = r.t_start + dt;
            snprintf(j->pseen_l, sizeof j->pseen_l, "running at %.7g s (restart %.3g %s)", j->pseen,
                     dt < 1e-3 ? dt * 1e6 : dt * 1e3, dt < 1e-3 ? "us" : "ms");
        }
        snprintf(what, sizeof what, "restart time (crash to fresh start)");
        chkl_fig_max(x, j, what, dt, "s", j->max);
        if (dt > j->max)
            chkl_failed_at(j, r.t_start + j->max);
        break;
    }
    case K_DIP: {
        /* The sample taken at `at` itself shows the state before the
         * event (faults and loads act in the quanta after it): the event
         * window starts just after it. */
        double a = j->at + 1e-9;
        chk_dip_opt o = {a, a - j->from, NAN, isnan(j->band) ? 0 : j->band};
        chk_dip_fig r;
        rc = chk_dip(j->t, j->c[0], j->n, &o, &r);
        if (!rc && !isnan(j->tol)) {
            o.band = j->tol * fabs(r.ref);
            rc = chk_dip(j->t, j->c[0], j->n, &o, &r);
        }
        if (rc) {
            chkl_fig_err(x, j, rc);
            break;
        }
        if (r.recovery > 0)
            r.recovery += a - j->at;
        double max = j->max;
        if (!isnan(j->min_pct)) /* max given in % of the reference */
            max = j->min_pct / 100 * fabs(r.ref);
        snprintf(what, sizeof what, "dip depth below %.6g %s", r.ref, u);
        chkl_fig_max(x, j, what, r.depth, u, max);
        if (!isnan(max)) {
            chkl_pline(&j->plo, j->plo_l, sizeof j->plo_l, r.ref - max, "dip limit (%.4g %s below %.6g)", max, u,
                       r.ref);
            for (size_t i = 0; i < j->n && r.depth > max; i++)
                if (j->t[i] > a && j->c[0][i] < r.ref - max) {
                    chkl_failed_at(j, j->t[i]);
                    break;
                }
        }
        if (!isinf(j->to))
            chkl_pline(&j->pdead, j->pdead_l, sizeof j->pdead_l, j->to, "recovered by");
        if (!isinf(j->to) && !r.recovered)
            chkl_failed_at(j, j->to);
        snprintf(what, sizeof what, "recovery to +- %.3g %s", r.band_used, u);
        if (isinf(j->to)) {
            chkl_fig(x, j, what, r.recovery, "s", r.recovered ? "(measured)" : "(measured; not recovered)", 1);
        } else {
            snprintf(lim, sizeof lim, "by %g s", j->to);
            chkl_fig(x, j, what, r.recovery, "s", lim, r.recovered);
        }
        break;
    }
    case K_CAP:
        break;
    }
}

/* sharing_spread's plot: each module's mean current over the window
 * (0 for one that did not regulate), the mean, and the band a spread of
 * `max` allows around it. 0, EK3_EINVAL (no module regulated: no plot),
 * EK3_EIO (err says why). */
static int chkl_plot_share(const char *dir, const char *file, const chkl_job *j, double now, int pass, char *err,
                           size_t ecap)
{
    double *m = malloc((j->nmod ? j->nmod : 1) * sizeof *m), sum = 0;
    unsigned n = j->nmod, k = 0;
    if (!m) {
        snprintf(err, ecap, "%s/%s: out of memory", dir, file);
        return EK3_EIO;
    }
    for (unsigned i = 0; i < n; i++) {
        m[i] = j->icnt[i] ? j->isum[i] / (double)j->icnt[i] : 0;
        if (j->icnt[i])
            sum += m[i], k++;
    }
    if (!k) {
        free(m);
        return EK3_EINVAL;
    }
    double mean = sum / k;
    char lo[64], hi[64], title[200], path[1200];
    splot_hline h[2] = {{mean * (1 - j->spread_max / 200), lo, "red"}, {mean * (1 + j->spread_max / 200), hi, "red"}};
    snprintf(lo, sizeof lo, "mean - max/2 (%g %%)", j->spread_max);
    snprintf(hi, sizeof hi, "mean + max/2");
    snprintf(title, sizeof title, "%s from %.4g s to %.4g s: %s", j->name, j->from, fmin(j->to, now),
             pass ? "PASS" : "FAIL");
    snprintf(path, sizeof path, "%s/%s", dir, file);
    errno = 0;
    int rc = splot_bars_limits(path, title, "slot", "mean output current (A)", m, n, mean, h,
                               isnan(j->spread_max) ? 0 : 2);
    if (rc)
        snprintf(err, ecap, "%s: %s", path, rc == EK3_EIO && errno ? strerror(errno) : ek3_strerror(rc));
    free(m);
    return rc;
}

/* The check's plot (chp.h) into the report directory, named in its
 * figures (from fig0 on); one that cannot be written is a failed figure
 * and its reason goes to stderr, as a capture's. */
static void chkl_plot(scn *x, chkl_job *j, unsigned fig0)
{
    const char *dir = scn_report_dir(x);
    const scn_result *r = scn_result_now(x);
    if (!dir || j->kind == K_CAP || !j->n || r->nfig <= fig0)
        return;
    int pass = 1;
    for (unsigned i = fig0; i < r->nfig; i++)
        pass &= r->fig[i].pass;
    /* its file: the name, "-2", "-3", ... when an earlier check's plot has it */
    char file[96];
    for (unsigned k = 1, taken = 1; taken; k++) {
        chp_file_name(file, sizeof file, j->name, k);
        taken = 0;
        for (unsigned i = 0; i < fig0 && !taken; i++)
            taken = !strcmp(r->fig[i].plot, file);
    }
    char err[1400];
    if (j->kind == K_SHARE) {
        if (chkl_plot_share(dir, file, j, scn_now(x), pass, err, sizeof err) == EK3_EIO) {
            fprintf(stderr, "ek3 scenario: %s: cannot write the check's plot: %s\n", j->where, err);
            chkl_fig(x, j, "cannot write its plot (see stderr)", NAN, "", "written", 0);
        } else {
            scn_figure_plot(x, fig0, file);
        }
        return;
    }
    /* what it plots: the signal, or for a trip the trip and the fault, for a restart the running state */
    int col = j->kind == K_TRIP ? 1 : 0;
    char sig[96], sig2[96] = "";
    if (!sig_path(&j->ref[col], sig, sizeof sig))
        snprintf(sig, sizeof sig, "%s", j->name);
    const char *unit = j->unit;
    if (j->kind == K_TRIP || j->kind == K_RESTART) {
        snprintf(sig + strlen(sig), sizeof sig - strlen(sig), " %s", j->kind == K_TRIP ? "(tripped: 1)" : "running");
        unit = "";
    }
    if (j->kind == K_DELIV && !(j->ref_ok[1] && sig_path(&j->ref[1], sig2, sizeof sig2)))
        snprintf(sig2, sizeof sig2, "demand (the load at the droop floor)");
    if (j->kind == K_TRIP)
        snprintf(sig2, sizeof sig2, "fault holds");
    /* the faults injected, as markers */
    splot_marker mk[32];
    char lab[32][48];
    size_t nm = chp_fault_markers(r, mk, lab, 32);
    int has_at = j->kind == K_STEP || j->kind == K_FO || j->kind == K_TRIP || j->kind == K_DIP;
    static const char *const at_label[] = {[K_STEP] = "step", [K_FO] = "start", [K_TRIP] = "fault onset",
                                           [K_DIP] = "event"};
    chp_fig f = {.name = j->name, .signal = sig, .unit = unit, .t = j->t, .y = j->c[col], .n = j->n,
                 .y2 = sig2[0] ? j->c[j->kind == K_TRIP ? 0 : 1] : NULL, .name2 = sig2, .y2_pct = j->kind == K_DELIV ? j->min_pct : NAN, .steps = j->kind == K_TRIP || j->kind == K_RESTART, .from = j->from,
                 .to = j->to, .lo = j->plo, .hi = j->phi, .lo_label = j->plo_l, .hi_label = j->phi_l,
                 .line_t0 = j->pline_t0, .line_a = j->pline_a, .line_b = j->pline_b, .line_dev = j->pline_dev,
                 .at = has_at ? j->at : NAN, .at_label = has_at ? at_label[j->kind] : NULL,
                 .deadline = j->pdead, .deadline_label = j->pdead_l, .seen = j->pseen, .seen_label = j->pseen_l, .fail_t = j->pfail, .pass = pass, .mk = mk,
                 .nmk = nm};
    int rc = chp_write(dir, file, &f, err, sizeof err);
    if (rc) {
        fprintf(stderr, "ek3 scenario: %s: cannot write the check's plot: %s\n", j->where, err);
        chkl_fig(x, j, "cannot write its plot (see stderr)", NAN, "", "written", 0);
        return;
    }
    scn_figure_plot(x, fig0, file);
}

static void chkl_eval(scn *x, chkl_job *j, int at_end)
{
    unsigned fig0 = scn_result_now(x)->nfig;
    chkl_eval_figs(x, j, at_end);
    chkl_plot(x, j, fig0);
}

/* ---- capture ---- */

static void chkl_cap_row(scn *x, chkl_job *j, double now)
{
    ses *s = scn_session(x);
    double v[CAP_MAX_SIG];
    for (unsigned k = 0; k < j->cp.k; k++)
        v[k] = sig_read(s, &j->iref[k]);
    if (j->pred_ref != LUA_NOREF && cap_get_state(&j->cp) == CAP_ARMED &&
        scn_call_cond(x, j->pred_ref, "capture: when", j->where))
        cap_fire(&j->cp);
    int st = cap_push(&j->cp, now, v);
    if (st == CAP_DONE)
        chkl_cap_finish(x, j, 0);
}

static void chkl_cap_finish(scn *x, chkl_job *j, int at_end)
{
    if (j->cap_ok)
        return;
    j->cap_ok = 1;
    char lim[160], what[160], err[300];
    double tt = cap_trigger_time(&j->cp);
    if (cap_get_state(&j->cp) == CAP_ARMED) {
        snprintf(what, sizeof what, "not triggered (the run ended at %.6f s)", scn_now(x));
        chkl_fig(x, j, what, NAN, "s", "(evidence)", 1);
        return;
    }
    const char *dir = scn_report_dir(x);
    snprintf(what, sizeof what, "triggered%s", at_end ? " (the run ended before the post-trigger time)" : "");
    if (!dir) {
        chkl_fig(x, j, what, tt, "s", "(evidence; no report dir)", 1);
        return;
    }
    splot_marker mk[32]; /* the faults injected, on its plots */
    char lab[32][48];
    size_t nm = chp_fault_markers(scn_result_now(x), mk, lab, 32);
    int rc = cap_write_marked(&j->cp, dir, j->capname, mk, nm, err, sizeof err);
    if (rc) {
        /* The figure's text is short: the whole reason goes to stderr too. */
        fprintf(stderr, "ek3 scenario: %s: cannot write the capture: %s\n", j->where, err);
        chkl_fig(x, j, "cannot write its files (see stderr)", tt, "s", "written", 0);
        return;
    }
    snprintf(lim, sizeof lim, "(evidence: %s.csv)", j->capname);
    chkl_fig(x, j, what, tt, "s", lim, 1);
}

/* ---- the globals ---- */

/* The options table at idx (0 when absent), its keys checked. */
static int chkl_opts(lua_State *L, int idx, const char *what, const char *const *keys)
{
    if (lua_isnoneornil(L, idx))
        return 0;
    luaL_checktype(L, idx, LUA_TTABLE);
    chkl_keys(L, idx, what, keys);
    return idx;
}

/* Arm j and take the first sample now when its window is open. */
static int chkl_start(lua_State *L, scn *x, chkl_job *j)
{
    (void)L;
    j->armed = 1;
    double now = scn_now(x);
    if (j->kind == K_CAP)
        chkl_cap_row(x, j, now);
    else if (now + CHKL_EPS >= j->from && now <= j->to + CHKL_EPS)
        chkl_sample(x, j, now);
    return 0;
}

/* A check of one signal: resolve arg 1, name "what(path)". */
static chkl_job *chkl_one(lua_State *L, scn *x, chkl_kind kind, const char *what)
{
    ses *s = chkl_ses(L, x, what);
    const char *path = luaL_checkstring(L, 1);
    char name[80];
    snprintf(name, sizeof name, "%s(%s)", what, path);
    sig_ref r;
    chkl_resolve(L, s, path, &r, what);
    chkl_job *j = chkl_new(L, x, kind, what, name);
    j->ncol = 1;
    j->ref[0] = r, j->ref_ok[0] = 1;
    snprintf(j->unit, sizeof j->unit, "%s", sig_unit(&r));
    return j;
}

/* from= and to= (absolute s) of the options at o: from >= now, to > from. */
static void chkl_window(lua_State *L, scn *x, int o, chkl_job *j)
{
    double now = scn_now(x);
    j->from = chkl_q(L, o, "from", "s", now, j->name);
    j->to = chkl_q(L, o, "to", "s", INFINITY, j->name);
    if (j->from < now - CHKL_EPS || !(j->to > j->from))
        scn_err(L, "%s: the window from %g s to %g s must start now (%.6f s) or later and end after it", j->name,
                 j->from, j->to, now);
}

static int l_step_response(lua_State *L)
{
    static const char *const keys[] = {"at",       "final",    "tol",    "overshoot_max", "settling_max", "rise_max",
                                       "time_tol", "window",   "pre",    "name",          NULL};
    scn *x = scn_of(L);
    chkl_job *j = chkl_one(L, x, K_STEP, "step_response");
    int o = chkl_opts(L, 2, "step_response", keys);
    double now = scn_now(x);
    chkl_name(L, o, j);
    j->at = chkl_q(L, o, "at", "s", now, j->name);
    if (j->at < now - CHKL_EPS)
        scn_err(L, "%s: at = %g s has passed (now %.6f s)", j->name, j->at, now);
    j->pre = chkl_q(L, o, "pre", "s", 0.01, j->name);
    j->from = fmax(now, j->at - j->pre);
    double w = chkl_q(L, o, "window", "s", INFINITY, j->name);
    if (!(w > 0))
        scn_err(L, "%s: window must be more than 0 s", j->name);
    j->to = j->at + w;
    j->target = chkl_q(L, o, "final", j->unit, NAN, j->name);
    chkl_tol(L, o, "tol", j->unit, j->name, &j->tol, &j->band);
    j->os_max = chkl_pct(L, o, "overshoot_max", NAN, j->name);
    j->settle_max = chkl_q(L, o, "settling_max", "s", NAN, j->name);
    j->rise_max = chkl_q(L, o, "rise_max", "s", NAN, j->name);
    j->time_tol = chkl_q(L, o, "time_tol", "s", NAN, j->name);
    return chkl_start(L, x, j);
}

static int l_ramp(lua_State *L)
{
    static const char *const keys[] = {"from", "to", "slope", "tol", "max_dev", "y_start", "name", NULL};
    scn *x = scn_of(L);
    chkl_job *j = chkl_one(L, x, K_RAMP, "ramp");
    int o = chkl_opts(L, 2, "ramp", keys);
    chkl_name(L, o, j);
    chkl_window(L, x, o, j);
    char su[24];
    snprintf(su, sizeof su, "%s/s", j->unit);
    j->slope = chkl_q(L, o, "slope", su, NAN, j->name);
    chkl_tol(L, o, "tol", su, j->name, &j->tol, &j->band);
    if (j->slope == 0 && isnan(j->band))
        scn_err(L, "%s: slope = 0: give tol as a band in %s (e.g. \"0.5%s\"), not a fraction of 0", j->name, su, su);
    j->dev_max = chkl_q(L, o, "max_dev", j->unit, NAN, j->name);
    j->y_start = chkl_q(L, o, "y_start", j->unit, NAN, j->name);
    return chkl_start(L, x, j);
}

static int l_first_order(lua_State *L)
{
    static const char *const keys[] = {"at", "window", "tau", "tol", "final", "fit_max", "name", NULL};
    scn *x = scn_of(L);
    chkl_job *j = chkl_one(L, x, K_FO, "first_order");
    int o = chkl_opts(L, 2, "first_order", keys);
    double now = scn_now(x);
    chkl_name(L, o, j);
    j->at = chkl_q(L, o, "at", "s", now, j->name);
    if (j->at < now - CHKL_EPS)
        scn_err(L, "%s: at = %g s has passed (now %.6f s)", j->name, j->at, now);
    double w = chkl_q(L, o, "window", "s", INFINITY, j->name);
    if (!(w > 0))
        scn_err(L, "%s: window must be more than 0 s", j->name);
    j->from = j->at, j->to = j->at + w;
    j->tau = chkl_q(L, o, "tau", "s", NAN, j->name);
    chkl_tol(L, o, "tol", j->unit, j->name, &j->tol, &j->band);
    j->target = chkl_q(L, o, "final", j->unit, NAN, j->name);
    j->fit_max = chkl_pct(L, o, "fit_max", NAN, j->name);
    return chkl_start(L, x, j);
}

static int l_within(lua_State *L)
{
    static const char *const keys[] = {"from", "to", "name", NULL};
    scn *x = scn_of(L);
    chkl_job *j = chkl_one(L, x, K_WITHIN, "within");
    if (!lua_isnil(L, 2))
        j->lo = scn_arg_quantity(L, 2, j->unit, "within: lo");
    if (!lua_isnil(L, 3))
        j->hi = scn_arg_quantity(L, 3, j->unit, "within: hi");
    if (j->lo > j->hi)
        scn_err(L, "%s: lo %g is above hi %g", j->name, j->lo, j->hi);
    int o = chkl_opts(L, 4, "within", keys);
    chkl_name(L, o, j);
    chkl_window(L, x, o, j);
    return chkl_start(L, x, j);
}

static int l_ripple(lua_State *L)
{
    static const char *const keys[] = {"from", "to", "max", "rms_max", "name", NULL};
    scn *x = scn_of(L);
    chkl_job *j = chkl_one(L, x, K_RIPPLE, "ripple");
    int o = chkl_opts(L, 2, "ripple", keys);
    chkl_name(L, o, j);
    chkl_window(L, x, o, j);
    j->pp_max = chkl_q(L, o, "max", j->unit, NAN, j->name);
    j->rms_max = chkl_q(L, o, "rms_max", j->unit, NAN, j->name);
    return chkl_start(L, x, j);
}

static int l_sharing_spread(lua_State *L)
{
    static const char *const keys[] = {"from", "to", "max", "name", NULL};
    scn *x = scn_of(L);
    ses *s = chkl_ses(L, x, "sharing_spread");
    int o = chkl_opts(L, 1, "sharing_spread", keys);
    chkl_job *j = chkl_new(L, x, K_SHARE, "sharing_spread", "sharing_spread");
    j->nmod = s->g.o.modules;
    j->iref = calloc(j->nmod + 1, sizeof *j->iref);
    j->rref = calloc(j->nmod + 1, sizeof *j->rref);
    j->isum = calloc(j->nmod + 1, sizeof *j->isum);
    j->icnt = calloc(j->nmod + 1, sizeof *j->icnt);
    if (!j->iref || !j->rref || !j->isum || !j->icnt)
        return scn_err(L, "sharing_spread: out of memory");
    for (unsigned k = 0; k < j->nmod; k++) {
        char p[48];
        snprintf(p, sizeof p, "module[%u].iout", k + 1);
        chkl_resolve(L, s, p, &j->iref[k], "sharing_spread");
        snprintf(p, sizeof p, "module[%u].running", k + 1);
        chkl_resolve(L, s, p, &j->rref[k], "sharing_spread");
    }
    chkl_name(L, o, j);
    chkl_window(L, x, o, j);
    j->spread_max = chkl_pct(L, o, "max", NAN, j->name);
    return chkl_start(L, x, j);
}

static int l_delivered(lua_State *L)
{
    static const char *const keys[] = {"from", "to", "min", "name", NULL};
    scn *x = scn_of(L);
    ses *s = chkl_ses(L, x, "delivered");
    int o = chkl_opts(L, 1, "delivered", keys);
    chkl_job *j = chkl_new(L, x, K_DELIV, "delivered", "delivered");
    j->ncol = 2;
    chkl_resolve(L, s, "bus.p", &j->ref[0], "delivered");
    j->ref_ok[0] = 1;
    /* The demand: a constant-power load's own; else what the load asks at
     * the droop floor, the lowest bus the set point's droop allows at full
     * current (ses_capacity): a resistor on a bus above it takes more, so
     * its ratio can pass 100 %. */
    j->ref_ok[1] = !sig_resolve(s, "load.p", &j->ref[1], NULL, 0);
    snprintf(j->unit, sizeof j->unit, "W");
    chkl_name(L, o, j);
    chkl_window(L, x, o, j);
    j->min_pct = chkl_pct(L, o, "min", NAN, j->name);
    return chkl_start(L, x, j);
}

static int l_trip_latency(lua_State *L)
{
    static const char *const keys[] = {"at", "max", "signal", "to", "name", NULL};
    scn *x = scn_of(L);
    ses *s = chkl_ses(L, x, "trip_latency");
    lua_Integer slot = luaL_checkinteger(L, 1);
    if (slot < 1 || slot > (lua_Integer)s->g.o.modules)
        scn_err(L, "trip_latency: slot %lld: the rack has modules 1 to %u", (long long)slot, s->g.o.modules);
    int o = chkl_opts(L, 2, "trip_latency", keys);
    char name[80], path[128];
    snprintf(name, sizeof name, "trip_latency(%lld)", (long long)slot);
    chkl_job *j = chkl_new(L, x, K_TRIP, "trip_latency", name);
    j->slot = (unsigned)slot;
    j->ncol = 3;
    snprintf(path, sizeof path, "module[%lld].hw_trip", (long long)slot);
    if (o) {
        lua_getfield(L, o, "signal");
        if (lua_type(L, -1) == LUA_TSTRING)
            snprintf(path, sizeof path, "%s", lua_tostring(L, -1));
        else if (!lua_isnil(L, -1))
            scn_err(L, "trip_latency: signal must be a signal path");
        lua_pop(L, 1);
    }
    char def[64];
    snprintf(def, sizeof def, "module[%lld].hw_trip", (long long)slot);
    j->refine = !strcmp(path, def);
    chkl_resolve(L, s, path, &j->ref[1], "trip_latency");
    j->ref_ok[1] = 1;
    snprintf(j->unit, sizeof j->unit, "s");
    chkl_name(L, o, j);
    double now = scn_now(x);
    j->at = chkl_q(L, o, "at", "s", now, j->name);
    if (j->at < now - CHKL_EPS)
        scn_err(L, "%s: at = %g s has passed (now %.6f s)", j->name, j->at, now);
    j->from = j->at;
    j->to = chkl_q(L, o, "to", "s", INFINITY, j->name);
    j->max = chkl_q(L, o, "max", "s", NAN, j->name);
    return chkl_start(L, x, j);
}

static int l_restart_time(lua_State *L)
{
    static const char *const keys[] = {"from", "to", "max", "name", NULL};
    scn *x = scn_of(L);
    ses *s = chkl_ses(L, x, "restart_time");
    lua_Integer slot = luaL_checkinteger(L, 1);
    const char *svc = luaL_checkstring(L, 2);
    char name[80], path[128];
    static const char *const col[3] = {"state", "restarts", "restart_s"};
    sig_ref r[3];
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "module[%lld].svc.%s.%s", (long long)slot, svc, col[k]);
        chkl_resolve(L, s, path, &r[k], "restart_time");
    }
    int o = chkl_opts(L, 3, "restart_time", keys);
    snprintf(name, sizeof name, "restart_time(%lld, %s)", (long long)slot, svc);
    chkl_job *j = chkl_new(L, x, K_RESTART, "restart_time", name);
    j->ncol = 3;
    for (int k = 0; k < 3; k++)
        j->ref[k] = r[k], j->ref_ok[k] = 1;
    snprintf(j->unit, sizeof j->unit, "s");
    chkl_name(L, o, j);
    chkl_window(L, x, o, j);
    j->max = chkl_q(L, o, "max", "s", NAN, j->name);
    return chkl_start(L, x, j);
}

static int l_dip(lua_State *L)
{
    static const char *const keys[] = {"at", "pre", "max", "tol", "recover_by", "name", NULL};
    scn *x = scn_of(L);
    chkl_job *j = chkl_one(L, x, K_DIP, "dip");
    int o = chkl_opts(L, 2, "dip", keys);
    double now = scn_now(x);
    chkl_name(L, o, j);
    j->at = chkl_q(L, o, "at", "s", now, j->name);
    if (j->at < now - CHKL_EPS)
        scn_err(L, "%s: at = %g s has passed (now %.6f s)", j->name, j->at, now);
    j->pre = chkl_q(L, o, "pre", "s", 0.01, j->name);
    if (!(j->pre > 0))
        scn_err(L, "%s: pre must be more than 0 s", j->name);
    j->from = fmax(now, j->at - j->pre);
    j->to = chkl_q(L, o, "recover_by", "s", INFINITY, j->name);
    if (!(j->to > j->at))
        scn_err(L, "%s: recover_by = %g s is an instant after at = %g s", j->name, j->to, j->at);
    /* max: in the signal's unit, or "5%" of the pre-event level. */
    if (o) {
        lua_getfield(L, o, "max");
        size_t len;
        const char *m = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        int pct = m && len && m[len - 1] == '%';
        lua_pop(L, 1);
        if (pct)
            j->min_pct = chkl_pct(L, o, "max", NAN, j->name);
        else
            j->max = chkl_q(L, o, "max", j->unit, NAN, j->name);
    }
    chkl_tol(L, o, "tol", j->unit, j->name, &j->tol, &j->band);
    return chkl_start(L, x, j);
}

static int l_capture(lua_State *L)
{
    static const char *const keys[] = {"signals", "trigger", "when", "pre", "post", "name", NULL};
    static const char *const tkeys[] = {"signal", "level", "edge", NULL};
    scn *x = scn_of(L);
    ses *s = chkl_ses(L, x, "capture");
    luaL_checktype(L, 1, LUA_TTABLE);
    chkl_keys(L, 1, "capture", keys);
    /* Its name: a file name. */
    lua_getfield(L, LUA_REGISTRYINDEX, "ek3.chkl.ncap");
    lua_Integer ncap = lua_tointeger(L, -1) + 1;
    lua_pop(L, 1);
    lua_pushinteger(L, ncap);
    lua_setfield(L, LUA_REGISTRYINDEX, "ek3.chkl.ncap");
    char cname[64];
    snprintf(cname, sizeof cname, "capture%lld", (long long)ncap);
    lua_getfield(L, 1, "name");
    if (!lua_isnil(L, -1)) {
        const char *nm = lua_tostring(L, -1);
        size_t len = nm ? strlen(nm) : 0;
        if (!nm || lua_type(L, -1) != LUA_TSTRING || !len || len >= sizeof cname || strspn(nm,
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != len || nm[0] == '.')
            scn_err(L, "capture: name: 1 to %d letters, digits, '-', '_' or '.' (it names files)",
                     (int)sizeof cname - 1);
        snprintf(cname, sizeof cname, "%s", nm);
    }
    lua_pop(L, 1);
    /* One name, one set of files. */
    if (lua_getfield(L, LUA_REGISTRYINDEX, "ek3.chkl.capnames") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, "ek3.chkl.capnames");
    }
    if (lua_getfield(L, -1, cname) != LUA_TNIL)
        scn_err(L, "capture: name '%s' is taken by another capture (it names its files)", cname);
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, cname);
    lua_pop(L, 1);
    char name[80];
    snprintf(name, sizeof name, "capture %s", cname);
    /* The signals. */
    const char *names[CAP_MAX_SIG], *units[CAP_MAX_SIG];
    sig_ref refs[CAP_MAX_SIG];
    unsigned k = 0;
    lua_getfield(L, 1, "signals");
    if (!lua_istable(L, -1))
        scn_err(L, "capture: signals must be a list of signal paths, e.g. {\"bus.v\"}");
    int sidx = lua_gettop(L);
    lua_Integer ns = (lua_Integer)lua_rawlen(L, sidx);
    if (ns < 1 || ns > CAP_MAX_SIG)
        scn_err(L, "capture: signals: 1 to %d of them", CAP_MAX_SIG);
    for (lua_Integer i = 1; i <= ns; i++) {
        lua_rawgeti(L, sidx, i);
        if (lua_type(L, -1) != LUA_TSTRING)
            scn_err(L, "capture: signals[%lld] must be a signal path", (long long)i);
        names[k] = lua_tostring(L, -1); /* kept alive by the signals table on the stack */
        chkl_resolve(L, s, names[k], &refs[k], "capture");
        units[k] = sig_unit(&refs[k]);
        k++;
        lua_pop(L, 1);
    }
    /* The trigger. */
    cap_cfg cfg = {.k = k, .names = names, .units = units, .quantum = RIG_PERIOD_NS * 1e-9, .trig = -1,
                   .level = NAN, .edge = CAP_RISING};
    int pred = LUA_NOREF;
    lua_getfield(L, 1, "trigger");
    lua_getfield(L, 1, "when");
    int has_t = !lua_isnil(L, -2), has_w = !lua_isnil(L, -1);
    if (has_t == has_w)
        scn_err(L, "capture: give one of trigger={signal=, level=, edge=} and when=function");
    if (has_w) {
        luaL_checktype(L, -1, LUA_TFUNCTION);
        lua_pushvalue(L, -1);
        pred = luaL_ref(L, LUA_REGISTRYINDEX);
    } else {
        int t = lua_gettop(L) - 1;
        if (!lua_istable(L, t))
            scn_err(L, "capture: trigger must be a table {signal=, level=, edge=}");
        chkl_keys(L, t, "capture: trigger", tkeys);
        lua_getfield(L, t, "signal");
        const char *tpath = lua_tostring(L, -1);
        if (lua_type(L, -1) != LUA_TSTRING)
            scn_err(L, "capture: trigger.signal must be a signal path");
        sig_ref tr;
        chkl_resolve(L, s, tpath, &tr, "capture: trigger");
        for (unsigned i = 0; i < k; i++)
            if (refs[i].id == tr.id && refs[i].slot == tr.slot && refs[i].sub == tr.sub)
                cfg.trig = (int)i;
        if (cfg.trig < 0) {
            if (k == CAP_MAX_SIG)
                scn_err(L, "capture: the trigger signal makes more than %d signals", CAP_MAX_SIG);
            names[k] = tpath, refs[k] = tr, units[k] = sig_unit(&tr); /* tpath stays on the stack */
            cfg.trig = (int)k++;
            cfg.k = k;
        }
        lua_getfield(L, t, "level");
        if (lua_isnil(L, -1))
            scn_err(L, "capture: trigger.level is required");
        cfg.level = scn_arg_quantity(L, lua_gettop(L), units[cfg.trig], "capture: trigger.level");
        lua_pop(L, 1);
        lua_getfield(L, t, "edge");
        const char *e = lua_isnil(L, -1) ? "rising" : lua_tostring(L, -1);
        if (!e || (strcmp(e, "rising") && strcmp(e, "falling") && strcmp(e, "either")))
            scn_err(L, "capture: trigger.edge must be \"rising\", \"falling\" or \"either\"");
        cfg.edge = !strcmp(e, "rising") ? CAP_RISING : !strcmp(e, "falling") ? CAP_FALLING : CAP_EITHER;
        lua_pop(L, 1);
    }
    cfg.pre = chkl_q(L, 1, "pre", "s", 0.01, name);
    cfg.post = chkl_q(L, 1, "post", "s", 0.05, name);
    if (!(cfg.pre >= 0) || !(cfg.post >= 0))
        scn_err(L, "%s: pre and post must not be negative", name);
    chkl_job *j = chkl_new(L, x, K_CAP, "capture", name);
    j->pred_ref = pred;
    snprintf(j->capname, sizeof j->capname, "%s", cname);
    int rc = cap_init(&j->cp, &cfg);
    if (rc) {
        j->kind = K_CAP;
        return scn_err(L, "%s: %s (pre %g s, post %g s)", name, ek3_strerror(rc), cfg.pre, cfg.post);
    }
    j->iref = malloc(k * sizeof *j->iref);
    if (!j->iref)
        return scn_err(L, "%s: out of memory", name);
    memcpy(j->iref, refs, k * sizeof *refs);
    lua_settop(L, 1);
    return chkl_start(L, x, j);
}

void chkl_open(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"step_response", l_step_response},
        {"ramp", l_ramp},
        {"first_order", l_first_order},
        {"within", l_within},
        {"ripple", l_ripple},
        {"sharing_spread", l_sharing_spread},
        {"delivered", l_delivered},
        {"trip_latency", l_trip_latency},
        {"restart_time", l_restart_time},
        {"dip", l_dip},
        {"capture", l_capture},
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        lua_register(L, fns[i].name, fns[i].func);
}
