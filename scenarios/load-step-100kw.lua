-- A 0 -> 100 kW load step on an 84-module rack: the dip of the bus and
-- its recovery. The rack idles at 750 V (every module in burst mode at
-- no load), then a constant-power load of 100 kW comes on in one
-- control period (100 us).
-- Limits: the seed gives no figure for a load step; it leans on the
-- bus capacitor bank for ride-through (6.1, "persistent cache") and on
-- droop to share the new load (6.1, 6.2). Ours, stated here:
--   dip depth <= 10 % of the bus before the step: IEC 61000-4-30 5.4's
--     dip threshold (a fall under 90 % of the declared voltage is a dip);
--   recovery to within 2 % in <= 20 ms (200 periods of the seed's 10 kHz
--     control loop);
--   no module trips: 100 kW is 1.2 kW a module, well inside 3.3 kW and
--     4.0 A (5.2).
-- Today the dip is 102 V (13.6 %): the 2.8 mF of the bus carries the 133 A
-- for the ~2 ms the modules take to come out of burst mode, and the
-- step's current transient trips one module's Level-0 OCP (seeds 1-3:
-- slots 76, 42, 34; a 20 ms ramp trips more: 9 to 15). Both are named
-- as gaps; the scenario bounds them as they are (a dip under 15 %, at
-- most 2 trips) so a regression shows, and holds the recovery, the load
-- served and the droop point after.
scenario{ name = "load-step-100kw", tags = { "plant", "rack", "power", "checks" }, level = "quick",
          requirements = { "EK-TECH-010 6.1", "EK-TECH-010 6.2" }, seeds = { 1, 2 }, timeout = "60s",
          gaps = { "EK-TECH-010 6.1 ride-through of a 0 -> 100 kW step on 84 modules: the bus dips 102 V (13.6 %), " ..
                   "past the 10 % dip threshold (IEC 61000-4-30); the modules idle in burst mode and take ~2 ms to answer",
                   "EK-TECH-010 5.2 no trip within rating: the 0 -> 100 kW step (1.2 kW a module) trips one module's " ..
                   "Level-0 OCP per run (a current transient past 4.0 A as the modules leave burst mode)" } }
local ek3 = require "ek3"

local N, STEP_AT, P = 84, 0.7, 100e3
rack{ modules = N, load = P, load_at = STEP_AT, load_ramp = "0.1ms" }
run("0.6s")
ripple("bus.v", { from = 0.6, to = 0.69, max = "1V" })
-- the gap's bound (10 % is the limit, see above) and the recovery's limit
dip("bus.v", { at = STEP_AT, pre = "10ms", max = "15%", tol = 0.02, recover_by = STEP_AT + 0.02 })
first_order("bus.v", { at = STEP_AT + 0.005, window = "40ms" })
-- after: the droop point of 1.2 kW a module (5 V/A: 742 V), the load served
within("bus.v", 730, 755, { from = STEP_AT + 0.02, to = STEP_AT + 0.2 })
delivered({ from = STEP_AT + 0.02, to = STEP_AT + 0.2, min = 99.5 })
capture{ signals = { "bus.v", "bus.p", "rack.i_max", "rack.i_mean" },
         trigger = { signal = "load.p", level = P / 2, edge = "rising" }, pre = "5ms", post = "40ms", name = "step" }
run_until(function() return now() >= STEP_AT + 0.2 end, "0.3s")
ek3.none_down(N, "modules tripped by the step (gap: the limit is 0)", 2)
ek3.figure("highest module current after the step", get("rack.i_max"), "<", 4.0, "A")
