-- Active current sharing on 84 modules at 200 kW (EK-TECH-010 6.1:
-- "Automatic load balancing: droop control equalizes current"; 2.3
-- SWARM_COORD; 6.3's normal operation, 2.38 kW a module). Each module's
-- LLC_CONTROL asks (v_ref + trim - v_measured) / 5 V/A of current; its
-- voltage reading carries its own sense error (the ADC's gain and offset
-- spread), so on droop alone modules on one bus ask different currents:
-- 23 to 29 % spread (sharing-droop-alone-200kw.lua measures it on the same
-- rack with rack{swarm=false}). With SWARM_COORD the modules elect a
-- leader (~0.65 s), it broadcasts the running modules' mean current at
-- 10 Hz, and each module trims its droop reference toward it
-- (docs/swarm.md, balance.h: k_i 1/s, 2 V/s, +-6 V).
-- Limit: a spread (max - min over the mean) of 3 %, the issue's target
-- (load-share controllers are commonly specified to 5 to 10 %).
-- Window: measured on seeds 1-2, the instantaneous spread is ~19 % at
-- 1 s, ~7 % at 2 s, ~3.5 % at 3.5 s and 2.6-3.9 % (the current loop's
-- noise) from 4 to 6 s; sharing_spread averages each module's current
-- over 4.0-5.5 s, which takes the noise out. Held too: no module past its
-- 4.0 A limit (5.2) or tripped, the load served, the bus at its droop
-- point (the trims sum to ~0, so balancing does not move the bus), and
-- the swarm's invariants every quantum.
scenario{ name = "droop-sharing-200kw", tags = { "plant", "rack", "power", "sharing", "swarm" }, level = "quick",
          requirements = { "EK-TECH-010 6.1", "EK-TECH-010 2.3", "EK-TECH-010 6.3" }, seeds = { 1, 2 },
          timeout = "120s" }
local ek3 = require "ek3"

local N, P, VSET, RD = 84, 200e3, 750, 5
ek3.rack(N, P / N, { load_ramp = "0.2s", settle = 0.8 })
local t0, t1, t2 = now(), 4.0, 5.5
expect_always(function() return get("swarm.violations") == 0 end, { name = "no swarm safety breach, every quantum" })
sharing_spread({ from = t1, to = t2, max = 3 })
delivered({ from = t0, to = t2, min = 99.5 })
within("bus.v", VSET - RD * 4.0, VSET + 1, { from = t0, to = t2 })
local imax = ek3.band("rack.i_max", nil, 4.0, "no module past its 4.0 A limit", "A")
run_until(function() return now() >= t2 end, t2 + 1)
imax()
ek3.none_down(N)
ek3.figure("a leader elected by", get("swarm.first_leader"), "<=", 1.0, "s")
ek3.figure("leaders elected (one, kept)", get("swarm.leaders"), "=", 1, "")
ek3.figure("modules regulating (none parked at 200 kW)", get("rack.running") - get("rack.parked"), "=", N, "")
ek3.measured("instantaneous spread at the end", get("rack.i_spread") * 100, "%")
local st = 0
for k = 1, N do st = st + ek3.mod(k, "trim") end
ek3.figure("mean trim (the bus not moved by balancing)", math.abs(st / N), "<", 0.2, "V")
ek3.figure("bus off its droop point V_set - 5 V/A x mean current", math.abs(get("bus.v") - (VSET - RD * get("rack.i_mean"))),
           "<", 1.0, "V")
ek3.figure("mean current per module (2.38 kW at the bus)", get("rack.i_mean"), "<", 4.0, "A")
