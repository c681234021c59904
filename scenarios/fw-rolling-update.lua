-- A signed, rolling firmware update of an 8-module rack under load, and
-- a mixed-version rack (EK-TECH-010 1.3 and Appendix A: "per-module,
-- rolling" updates while the rack keeps charging; 3.2 trust level 1,
-- "signed, verified"; 6.1 N-1). The station streams a 1.1.0 image
-- (signed with the rig's development key) to modules 1-4 in idle bus
-- time, then reboots them into it one at a time (the canary first): each
-- hands its share to the others by droop, reboots into the trial, and
-- confirms itself once it shares current. Then a rack of four 1.1.0 and
-- four 1.0.0 modules runs and shares; then the other four are updated.
-- docs/update.md says how; the 84-module roll at 200 kW is
-- fw-rolling-update-200kw (nightly).
scenario{ name = "fw-rolling-update", tags = { "update", "trust", "rack", "power" }, level = "quick",
          requirements = { "EK-TECH-010 1.3", "EK-TECH-010 Appendix A", "EK-TECH-010 3.2", "EK-TECH-010 6.1" },
          seeds = { 1, 2 }, timeout = "120s" }
local ek3 = require "ek3"

local N, P = 8, 19.2e3
local OLD, NEW = 0x010000, 0x010100 -- 1.0.0 (the factory's), 1.1.0
-- a resistor that draws P at the 750 V set point: what it draws is what
-- the bus delivers, so a sagging bus shows as power lost
rack{ modules = N, ohm = 750 * 750 / P, load_at = "0.45s", load_ramp = "20ms" }
run_until(function() return now() >= 1.5 and get("rack.running") == N end, "2s", "the rack is up and regulating")
local p0, v0 = get("bus.p"), get("bus.v")
local function on(version)
  local c = 0
  for k = 1, N do if ek3.mod(k, "fw_version") == version then c = c + 1 end end
  return c
end
ek3.figure("modules on the factory's 1.0.0 before", on(OLD), "=", N, "")

-- one module of eight out is an eighth of the rack: droop moves its share
-- to the other seven and the bus sags by R_droop x I / 7 (0.65 % of power;
-- 0.59 % measured at the lowest, seeds 1 and 2)
local power = ek3.band("bus.p", p0 * 0.99, p0 * 1.01, "delivered power within 1 % of before", "W")
local bus = ek3.band("bus.v", v0 * 0.99, v0 * 1.01, "the bus within 1 %", "V")
local trips = ek3.no_trips(N)
local most_out = 0
every("1ms", function() most_out = math.max(most_out, get("update.out")) end)

local t0 = now()
update{ version = "1.1.0", security = 2, wave = 1, modules = { 1, 2, 3, 4 } }
local ts = run_until(function() return get("update.staged") == 4 end, "2s", "modules 1-4 stage the image")
ek3.figure("staged and verified on 4 modules, after the start", ts - t0, "<=", 1, "s")
local tf = run_until(function() return get("update.finished") == 1 end, "60s", "the first update finishes")
ek3.figure("modules 1-4 confirmed on 1.1.0", get("update.done"), "=", 4, "")
ek3.figure("modules 5-8 left out of it, on 1.0.0", on(OLD), "=", 4, "")
ek3.measured("the first update took (4 modules, one at a time)", tf - t0, "s")

-- the mixed-version rack shares as one
run_until(function() return now() >= tf + 3 end, "4s")
ek3.figure("mixed versions (4 on 1.1.0, 4 on 1.0.0): modules regulating", get("rack.running"), "=", N, "")
ek3.figure("mixed versions: sharing spread", get("rack.i_spread") * 100, "<=", 5, "%")

-- then the rest, two at a time
local t1 = now()
update{ version = "1.1.0", security = 2, wave = 2, modules = { 5, 6, 7, 8 } }
run_until(function() return get("update.finished") == 1 end, "60s", "the second update finishes")
ek3.figure("modules 5-8 confirmed on 1.1.0", get("update.done"), "=", 4, "")
ek3.figure("every module on 1.1.0", on(NEW), "=", N, "")
ek3.measured("the second update took (4 modules, up to 2 at a time)", now() - t1, "s")
-- at 2.4 kW a module the rack spares one of eight (fwroll.h: demand
-- within 0.9 of what the others can give), so the waves of 2 are of 1
ek3.figure("most modules out at once", most_out, "<=", 2, "")
local t2 = now()
run_until(function() return now() >= t2 + 1 end, "2s")
power(); bus(); trips()
ek3.figure("power delivered after, of before", get("bus.p") / p0 * 100, ">=", 99.5, "%")
