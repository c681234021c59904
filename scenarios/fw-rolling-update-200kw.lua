-- The whole rack updated under load: 84 modules at 200 kW take a signed
-- 1.1.0 image in a rolling update while the load is served (EK-TECH-010
-- 1.3 and Appendix A: "per-module, rolling" updates while the rack keeps
-- charging; 3.2 trust level 1, "signed, verified"; 6.1 N-1; 6.3). The
-- station broadcasts the image in idle bus time (every module stages and
-- verifies it), then reboots the modules into it in waves: one canary,
-- then up to four at a time, and only as many as the live rack can spare
-- (fwroll.h). Each module in a wave first hands its share to the others
-- (UPDATE_MGR ramps it down over 300 ms, so droop moves it a little at a
-- time), reboots into the trial, and confirms itself once it shares
-- current for 2 s; SWARM_COORD leaves a stopping or starting module out
-- of the mean it balances the others to. The load is a resistor that
-- draws 200 kW at the 750 V set point: what it draws is what the bus
-- delivers, so any sag of the bus shows as power lost.
scenario{ name = "fw-rolling-update-200kw", tags = { "update", "trust", "rack", "power" }, level = "nightly",
          requirements = { "EK-TECH-010 1.3", "EK-TECH-010 Appendix A", "EK-TECH-010 3.2", "EK-TECH-010 6.1",
                           "EK-TECH-010 6.3" },
          seeds = { 1, 2 }, timeout = "900s" }
local ek3 = require "ek3"

local N, P = 84, 200e3
local NEW = 0x010100 -- 1.1.0
rack{ modules = N, ohm = 750 * 750 / P, load_at = "0.45s", load_ramp = "200ms" }
run_until(function() return now() >= 1.5 and get("rack.running") == N end, "2s", "the rack is up and regulating")
-- the demand as the rack serves it: the resistor at the droop's operating point
local p0, v0, spread0 = get("bus.p"), get("bus.v"), get("rack.i_spread")
ek3.measured("power delivered before the update", p0, "W")
ek3.measured("sharing spread before the update", spread0 * 100, "%")

local power = ek3.band("bus.p", p0 * 0.99, p0 * 1.01, "delivered power within 1 % of the demand", "W")
local bus = ek3.band("bus.v", v0 * 0.99, v0 * 1.01, "the bus within 1 %", "V")
local trips = ek3.no_trips(N)
local most_out, canary_alone = 0, true
every("1ms", function()
  local out = get("update.out")
  most_out = math.max(most_out, out)
  if get("update.waves") == 1 and out > 1 then canary_alone = false end
end)

local t0, leaders0 = now(), get("swarm.leaders")
update{ version = "1.1.0", security = 2, wave = 4 }
local ts = run_until(function() return get("update.staged") == N end, "5s", "every module stages the image")
ek3.figure("staged and verified on all 84, after the start", ts - t0, "<=", 2, "s")
local tf = run_until(function() return get("update.finished") == 1 end, "300s", "the roll finishes")
ek3.figure("modules confirmed on 1.1.0", get("update.done"), "=", N, "")
local on = 0
for k = 1, N do if ek3.mod(k, "fw_version") == NEW then on = on + 1 end end
ek3.figure("modules running 1.1.0", on, "=", N, "")
ek3.figure("modules reverted, refused or lost", get("update.reverted") + get("update.refused") + get("update.lost"), "=",
           0, "")
ek3.figure("the canary went alone", canary_alone and 1 or 0, "=", 1, "")
ek3.figure("most modules out at once", most_out, "<=", 4, "")
ek3.measured("waves", get("update.waves"), "")
-- the leader reboots in the last wave (fwroll.h): one election for the roll
ek3.figure("leaders elected during the roll", get("swarm.leaders") - leaders0, "<=", 1, "")
ek3.measured("the roll took (simulated)", tf - t0, "s")
run_until(function() return now() >= tf + 2 end, "3s")
power(); bus(); trips()
ek3.none_down(N)
-- SWARM_COORD balances the rebooted modules in with the rest (a spread
-- of about 3 % at 1.5 s, before the update, and after)
ek3.figure("sharing spread after", get("rack.i_spread") * 100, "<=", 5, "%")
ek3.figure("power delivered after, of before", get("bus.p") / p0 * 100, ">=", 99.5, "%")
