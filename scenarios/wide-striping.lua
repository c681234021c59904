-- Wide striping (EK-TECH-010 6.2): every module in parallel on one bus,
-- so one failed module costs 1/84 of the rack's capacity, where a string
-- architecture loses its whole string; and modules fail one after
-- another without the load noticing (6.3, 1.2 "graceful degradation").
-- Capacity is measured, not computed: a 2.2 ohm load asks 256 kW at 750 V,
-- more than 84 modules give, so every module runs at (or near) its
-- current limit (LLC_CONTROL's 3.95 A) and the current the rack then
-- delivers is its capacity; module 42 is pulled and the current
-- measured again. The loss must be about 1/84 (1.19 %): 0.5 to 1.5
-- modules' worth. (A lower resistance, 2.0 ohm, overloads the rack past
-- its current limit and every module trips OCP: its limit of 3.95 A is
-- 1.25 % under the 4.0 A comparator, less than a current sensor's error;
-- see sparing-table for the same collapse.)
-- The seed's own figures do not add up: 84 x 3.0 kW = 252 kW less one
-- module is 249 kW, 1.19 %, not "251 kW, 0.4 %" (0.4 % is 1.3's 3.3 kW of
-- 800 kW): named as a gap, the rig holds 1/84.
-- Then the load goes to 3.75 ohm (150 kW at 750 V) and nine more modules
-- are pulled, 50 ms apart (ten in all): the power delivered stays within
-- 1 % of what it was and the bus within the droop band.
scenario{ name = "wide-striping", tags = { "plant", "rack", "power", "hot-swap" }, level = "quick",
          requirements = { "EK-TECH-010 6.2", "EK-TECH-010 6.3", "EK-TECH-010 1.2" }, seeds = { 1, 2 },
          timeout = "120s",
          gaps = { "EK-TECH-010 6.2 'If M3 fails: 251 kW, 0.4 % capacity loss': one module of 84 is 1/84 = 1.19 % " ..
                   "(252 kW -> 249 kW at 3.0 kW a module); the rig loses 1/84, the seed's arithmetic does not" } }
local ek3 = require "ek3"

local N = 84
rack{ modules = N, ohm = 2.2, load_at = "0.45s", load_ramp = "0.3s" }
run_until(function() return now() >= 0.95 end, "1.5s")
local i84, p84 = get("bus.i"), get("bus.p")
ek3.figure("84 modules at their current limit: the lowest module current", get("rack.i_min"), ">=", 3.7, "A")
ek3.measured("84 modules: capacity (current into 2.2 ohm)", i84, "A")
ek3.measured("84 modules: power into 2.2 ohm", p84 / 1e3, "kW")
fault("pull", 42)
run_until(function() return now() >= 1.15 end, "0.5s")
local i83 = get("bus.i")
ek3.measured("83 modules: capacity (current into 2.2 ohm)", i83, "A")
local lost = (1 - i83 / i84) * 100
ek3.figure("capacity lost with one module, at least 0.5/84", lost, ">=", 0.5 / 84 * 100, "%")
ek3.figure("capacity lost with one module, at most 1.5/84", lost, "<=", 1.5 / 84 * 100, "%")
ek3.measured("power lost into the resistor (V and I both fall)", (1 - get("bus.p") / p84) * 100, "%")
ek3.none_down(N, "modules tripped at their current limit")

-- ten pulled one after another (42 was the first), the load held
set_load{ ohm = 3.75, ramp = "0.1s" }
run_until(function() return now() >= 1.45 end, "0.5s")
local p0 = get("bus.p")
local t_end = now() + 9 * 0.05 + 0.2
local power = ek3.band("bus.p", p0 * 0.99, p0 * 1.01, "the load held", "W", t_end)
local bus = ek3.band("bus.v", 730, 760, "the bus in the droop band", "V", t_end)
for _, k in ipairs({ 7, 77, 21, 63, 14, 56, 35, 70, 28 }) do
  fault("pull", k)
  run("0.05s")
end
run_until(function() return now() >= t_end end, "0.5s")
power(); bus()
ek3.figure("modules regulating after ten pulls", get("rack.running"), "=", N - 10, "")
ek3.none_down(N, "modules tripped by the pulls")
