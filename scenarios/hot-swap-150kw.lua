-- N-1 hot swap at 150 kW on 84 modules (EK-TECH-010 6.1 "online
-- sparing: hot-swap without shutdown", "N-1 module redundancy"; 6.2 "M3
-- isolated, others compensate"; 6.3). Module 42 is pulled under load: the
-- other 83 take its share by droop (each carries more, their mean by
-- 84/83), the bus stays within 2 % and the load is served; 0.3 s later a
-- module is inserted into slot 42: it boots with its output relay open,
-- the station hears it and splits its rack demand again (module 42
-- commanded on with its share), the module pre-charges its output to
-- the bus it reads beyond the relay, closes the relay within 5 V of it
-- (no inrush, no trip) and shares current with the others; the bus stays
-- in its band throughout.
scenario{ name = "hot-swap-150kw", tags = { "plant", "hot-swap", "rack", "power" }, level = "quick",
          requirements = { "EK-TECH-010 6.1", "EK-TECH-010 6.2", "EK-TECH-010 6.3" }, seeds = { 1, 2 },
          timeout = "60s" }
local ek3 = require "ek3"

local N, SLOT, P = 84, 42, 150e3
-- settled to 4 s: SWARM_COORD's balancing (issue 14) moves each module's
-- current toward the mean over its first ~3 s (the spread from ~25 % to
-- ~3 %), which would read as a module carrying less after the pull
local v0, p0 = ek3.rack(N, P / N, { load_ramp = "0.2s", settle = 4.0 })
local i_before = {}
for k = 1, N do i_before[k] = ek3.mod(k, "iout") end
local mean0 = get("rack.i_mean")

-- from the pull to the end: the bus within 2 % of where it sat, the load served
local bus = ek3.band("bus.v", v0 * 0.98, v0 * 1.02, "the bus holds", "V")
local power = ek3.band("bus.p", p0 * 0.99, p0 * 1.01, "the load is served", "W")
local t0 = now()
fault("pull", SLOT)
run_until(function() return get("rack.present") == N - 1 end, "1ms", "module 42 leaves its slot")
run_until(function() return now() >= t0 + 0.3 end, "0.4s")
ek3.figure("modules regulating with 42 out", get("rack.running"), "=", N - 1, "")
-- its share is taken: the others' mean rises by 84/83 (1.2 %); no one
-- of them carries less (within 3 %: the loop's noise at 84 modules is
-- larger than a 1.2 % rise)
ek3.figure("mean current of the others, over before", get("rack.i_mean") / mean0 * 100, ">=", 100.6, "%")
local lowest = math.huge
for k = 1, N do
  if k ~= SLOT then lowest = math.min(lowest, ek3.mod(k, "iout") / i_before[k]) end
end
ek3.figure("the lowest other module's current, of before", lowest * 100, ">=", 97, "%")
local i_pulled = get("rack.i_mean")

-- inserted again: it pre-charges, closes its relay and rejoins
local t1 = now()
local splits = get("station.resplits")
fault("insert", SLOT)
run_until(function() return get("rack.present") == N end, "1ms", "module 42 back in its slot")
ek3.figure("its relay at the insert (open until pre-charged)", ek3.mod(SLOT, "relay"), "=", 0, "")
-- its output against the bus, each quantum until the relay closes: the
-- last is the step the close puts on it (the firmware's window is 5 V,
-- its two channels' calibration adds up to ~4.5 V)
local gap = math.huge
run_until(function()
  if ek3.mod(SLOT, "relay") == 1 then return true end
  gap = math.abs(ek3.mod(SLOT, "vout") - get("bus.v"))
  return false
end, "1.5s", "module 42 closes its relay")
ek3.measured("from the insert to the relay's close", (now() - t1) * 1000, "ms")
ek3.figure("module 42's output from the bus as its relay closes", gap, "<=", 10, "V")
run_until(function() return now() >= t1 + 1.5 end, "1.6s")
bus(); power()
ek3.figure("the station split its demand again", get("station.resplits") - splits, ">=", 1, "")
ek3.figure("no trip at the close", ek3.mod(SLOT, "hw_trip"), "=", 0, "")
ek3.figure("module 42 regulating", ek3.mod(SLOT, "running"), "=", 1, "")
ek3.figure("the others regulating", get("rack.running") - 1, "=", N - 1, "")
local others = (get("rack.i_mean") * N - ek3.mod(SLOT, "iout")) / (N - 1)
ek3.between("module 42's current, of the others' mean", ek3.mod(SLOT, "iout") / others * 100, 90, 110, "%")
ek3.figure("power delivered", get("bus.p") / p0 * 100, ">=", 99.5, "% of before")
