-- The distributed sparing table of EK-TECH-010 6.3 on an 84-module rack
-- carrying 200 kW: no spare modules, all run below capacity and take
-- the load of the ones that fail. Each row's figures: the highest module
-- current against the 4.0 A limit (5.2, 8.5), the power per module, the
-- power delivered against the 200 kW asked (lib/ek3.lua sparing_row).
--   84 modules: 2.38 kW each (72 %)         holds
--   83 modules: 2.41 kW each (73 %)         holds
--   74 modules: 2.70 kW each (82 %)         holds, but droop's 25 % spread
--               puts the highest modules at their 3.95 A limit already
--   61 modules: 3.28 kW each (99 % of 3.3 kW) "Alert: schedule maintenance"
-- The last row conflicts with the 4.0 A limit (DESIGN.md "where the seed
-- disagrees with itself"): at 750 V a module gives at most 3.0 kW, and 61 x
-- 3.0 kW = 183 kW < 200 kW. The scenario pulls modules one by one past 74
-- and shows what happens: the fewest modules that still carry 200 kW, then
-- what the rack delivers and what the station does at 61. Today: 70
-- modules carry it (3.9 A each); at 69 the demand passes what they give
-- at their current limit, the constant-power load pulls the bus down,
-- every module trips OCP (within the next 50 ms) and the bus collapses;
-- the station raises no alert before (it has no capacity check) and does
-- not limit the load, it only receives the modules' FAULT_ALERTs.
-- Failures are modelled as pulls (fault "pull"), 50 ms apart.
scenario{ name = "sparing-table", tags = { "plant", "rack", "power", "sparing", "hot-swap" }, level = "quick",
          requirements = { "EK-TECH-010 6.3", "EK-TECH-010 6.1", "EK-TECH-010 5.2" }, seeds = { 1, 2 },
          timeout = "120s",
          gaps = { "EK-TECH-010 6.3 61 modules carry 200 kW (3.28 kW each): past the 4.0 A limit (61 x 3.0 kW = 183 kW " ..
                   "at 750 V); the rack carries 200 kW down to 70 modules and at 69 every module trips OCP and the bus collapses",
                   "EK-TECH-010 6.3 'Alert: schedule maintenance' as spare capacity runs out: the station has no " ..
                   "capacity check, sends no alert and does not limit the load; its first news is the modules' OCP " ..
                   "FAULT_ALERTs of the collapse" } }
local ek3 = require "ek3"

local N, P = 84, 200e3
ek3.rack(N, P / N, { load_ramp = "0.2s", settle = 0.8 })
local function after(dt) run_until(function() return now() >= dt end, dt + 1) end

ek3.sparing_row(84, P)
sharing_spread({ from = now(), to = now() + 0.1 })
local bus = ek3.band("bus.v", 720, 760, "the bus holds from 84 to 74 modules", "V", now() + 0.85)
fault("pull", 42)
after(now() + 0.2)
ek3.sparing_row(83, P)
for _, k in ipairs({ 7, 77, 21, 63, 14, 56, 35, 70, 28 }) do
  fault("pull", k)
  after(now() + 0.05)
end
after(now() + 0.2)
bus()
ek3.sparing_row(74, P)
ek3.none_down(N, "modules tripped from 84 to 74")

-- past the table's 74: one more every 50 ms down to 61
ek3.figure("61 modules at 4.0 A and 750 V (the conflict)", 61 * 4.0 * 750 / 1e3, "<", P / 1e3, "kW")
local fewest, alerts_before = 74, 0
for _, k in ipairs({ 3, 10, 17, 24, 31, 38, 45, 52, 59, 66, 73, 80, 84 }) do
  fault("pull", k)
  after(now() + 0.05)
  if get("rack.collapsed") == 0 and get("bus.p") >= 0.995 * P then
    fewest = get("rack.present")
    alerts_before = get("station.faults")
  end
end
after(now() + 0.2)
ek3.figure("fewest modules carrying 200 kW", fewest, "<=", 74, "")
ek3.figure("power per module at the fewest", P / fewest, "<", 3300, "W")
ek3.figure("station alerts before the rack ran out (gap: no capacity alert)", alerts_before, "=", 0, "")
-- 61 modules: what the rack delivers and what the station does
ek3.figure("modules in their slots", get("rack.present"), "=", 61, "")
ek3.measured("61 modules: power delivered (of 200 kW asked)", get("bus.p") / 1e3, "kW")
ek3.measured("61 modules: modules regulating", get("rack.running"), "")
ek3.figure("61 modules: the rack collapsed", get("rack.collapsed"), "=", 1, "")
ek3.figure("61 modules: FAULT_ALERTs the station received", get("station.faults"), ">=", 61, "")
ek3.measured("61 modules: commands the station clamped, refused or gave up",
             get("station.clamped") + get("station.refused") + get("station.gave_up"), "")
