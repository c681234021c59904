-- A seized fan: module 2's fan stops (health 0) in a hot room. THERMAL_MGR
-- flags it (FAN_FAIL), and as the case passes 80 C derates the module's
-- power (DERATING to the station) instead of letting it trip: the case
-- stays under SAFETY_MONITOR's 95 C and the junction under the 105 C
-- OTP, the module keeps regulating and the rack serves its load
-- (EK-TECH-010 2.3 "Thermal Manager: fan control, power derating";
-- 5.2 temperature < 105 C junction; 8.5 "Hardware OTP trip + THERMAL_MGR
-- monitoring").
-- To see it in seconds the heatsink is given 5 J/K (350 J/K on the
-- board: minutes) in 75 C air; the thresholds are the firmware's own.
scenario{ name = "fan-fail-derate", tags = { "plant", "thermal", "firmware" }, level = "quick",
          requirements = { "EK-TECH-010 2.3", "EK-TECH-010 5.2", "EK-TECH-010 8.5" }, seeds = { 1 }, timeout = "60s" }
local ek3 = require "ek3"

local N, K = 8, 2
local m = "module[" .. K .. "]."
local v0, p0 = ek3.rack(N, 2000, { set = { t_amb = 75, cth_hs = 5 } })
local bus = ek3.band("bus.v", v0 * 0.995, v0 * 1.005, "the rack serves its load", "V")
local case = ek3.band(m .. "t_case", nil, 95, "no thermal trip", "C")
local tj = ek3.band(m .. "tj_a", nil, 105, "no thermal trip", "C")
expect_always(function() return get(m .. "hw_trip") == 0 and get(m .. "running") == 1 end,
              { name = "module 2 regulates, never tripped" })
local t0 = now()
fault("fan", K, { health = 0 })
local tf = run_until(function() return get(m .. "fault_code") == "FAN_FAIL" end, "10s", "FAN_FAIL raised")
ek3.figure("FAN_FAIL after the fan stopped", tf - t0, "<=", 10, "s")
local td = run_until(function() return get(m .. "fault_code") == "DERATING" end, "15s", "DERATING raised")
ek3.figure("case temperature when derating", get(m .. "t_case"), ">=", 80, "C")
run("5s")
bus(); case(); tj()
ek3.figure("FAULT_ALERTs at the station (FAN_FAIL, DERATING)", get("station.faults"), "=", 2, "")
ek3.figure("the other modules' hottest junction", (function()
  local mx = -1e9
  for k = 1, N do if k ~= K and ek3.mod(k, "tj_a") > mx then mx = ek3.mod(k, "tj_a") end end
  return mx end)(), "<", 80, "C")
ek3.others_run(N, {})
