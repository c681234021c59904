/*
 * chk_lua.h - the signal checks and capture as Lua globals (prefix
 * chkl_), over the engine's seams (scn.h) and signals (sig.h):
 *
 *   step_response(sig, {at=, final=, tol=, overshoot_max=, settling_max=,
 *                       rise_max=, time_tol=, window=, pre=, name=})
 *   ramp(sig, {from=, to=, slope=, tol=, max_dev=, y_start=, name=})
 *   first_order(sig, {at=, window=, tau=, tol=, final=, fit_max=, name=})
 *   within(sig, lo, hi, {from=, to=, name=})
 *   ripple(sig, {from=, to=, max=, rms_max=, name=})
 *   sharing_spread({from=, to=, max=, name=})
 *   delivered({from=, to=, min=, name=})
 *   trip_latency(slot, {at=, max=, signal=, to=, name=})
 *   restart_time(slot, service, {from=, to=, max=, name=})
 *   dip(sig, {at=, pre=, max=, tol=, recover_by=, name=})
 *   capture{signals={...}, trigger={signal=, level=, edge=} | when=fn,
 *           pre=, post=, name=}
 *
 * Each samples its signals after every quantum (and once when called)
 * through a watcher over its window, computes its figures with chk.h
 * when the window ends (or, for an open window, when the run ends), and
 * records each figure with scn_figure: "NAME: FIGURE", value, unit, limit,
 * pass. A figure without a limit is recorded as "(measured)" and passes.
 * A window that the run does not reach is a failed figure saying so.
 * Times are absolute simulated seconds (a number or "20ms"); values are
 * in the signal's unit; relative limits (overshoot, spread, delivered)
 * are percent (a number or "5%"). docs/scenarios.md is the manual.
 */
#ifndef CHK_LUA_H
#define CHK_LUA_H

struct lua_State;

/* Register the globals above in L (an engine's state: scn_of(L) != NULL). */
void chkl_open(struct lua_State *L);

#endif /* CHK_LUA_H */
