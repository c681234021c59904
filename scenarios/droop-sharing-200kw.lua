-- Droop current sharing on 84 modules at 200 kW (EK-TECH-010 6.1:
-- "Automatic load balancing: droop control equalizes current"; 6.3's
-- normal operation, 2.38 kW a module). Each module's LLC_CONTROL asks
-- (v_ref - v_measured) / 5 V/A of current; its voltage reading carries
-- its own sense error (the ADC's gain and offset spread), so modules on
-- one bus ask different currents.
-- Limit: the seed gives none; ours is a spread (max - min over the mean)
-- of 10 %, +-5 % of the mean, what droop-shared rectifier racks are
-- commonly specified to at half load and above. Droop alone gives 25 to
-- 29 % (seeds 1-4): a gap, which issue 14's active current sharing is to
-- close. Held here: the spread bounded as it is (35 %), no module past its
-- 4.0 A limit (5.2) or tripped, the load served, the bus at its droop point.
scenario{ name = "droop-sharing-200kw", tags = { "plant", "rack", "power", "sharing" }, level = "quick",
          requirements = { "EK-TECH-010 6.1", "EK-TECH-010 6.3" }, seeds = { 1, 2 }, timeout = "60s",
          gaps = { "EK-TECH-010 6.1 droop equalizes current (spread <= 10 %): droop alone spreads 84 modules " ..
                   "by 25-29 % at 200 kW, each module's set point carrying its own voltage-sense error " ..
                   "(active current sharing: issue 14)" } }
local ek3 = require "ek3"

local N, P = 84, 200e3
-- the load over 0.2 s (a 20 ms ramp trips modules: see load-step-100kw's gap)
ek3.rack(N, P / N, { load_ramp = "0.2s", settle = 0.8 })
local t0, t1 = now(), now() + 0.3
sharing_spread({ from = t0, to = t1, max = 35 })
delivered({ from = t0, to = t1, min = 99.5 })
within("bus.v", 720, 755, { from = t0, to = t1 })
local imax = ek3.band("rack.i_max", nil, 4.0, "no module past its 4.0 A limit", "A")
run_until(function() return now() >= t1 end, "0.4s")
imax()
ek3.none_down(N)
ek3.figure("modules regulating", get("rack.running"), "=", N, "")
ek3.figure("mean current per module (2.38 kW at the bus)", get("rack.i_mean"), "<", 4.0, "A")
