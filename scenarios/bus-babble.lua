-- A babbling idiot on the rack bus: module 3's controller sends frame id
-- 0 back to back for 3.5 s and wins every arbitration, so no other frame
-- gets through and the station hears no module. Power delivery does not
-- depend on the bus: every module keeps regulating at its last command
-- and the load is served (EK-TECH-010 1.3 fault isolation; 2.2 the
-- kernel keeps the power stage; 4.2 heartbeats are fire-and-forget).
-- Once the node is silenced the station hears every module again.
scenario{ name = "bus-babble", tags = { "can", "bus" }, level = "quick",
          requirements = { "EK-TECH-010 1.3", "EK-TECH-010 4.2" }, seeds = { 1 }, timeout = "60s" }
local ek3 = require "ek3"

local N = 84
local v0, p0 = ek3.rack(N, 1800)
local bus = ek3.band("bus.v", v0 * 0.995, v0 * 1.005, "power delivery carries on", "V")
local power = ek3.band("bus.p", p0 * 0.995, p0 * 1.005, "the load is served", "W")
local f0, t0 = get("canbus.frames"), now()
fault("bus-babble", 3, { id = 0, duration = "3.5s" })
-- the babbler has the bus: the station loses every module (heard within 3 s)
local t_lost = run_until(function() return get("rack.online") == 0 end, "3.5s", "the station hears no module")
ek3.figure("frame rate while babbling", (get("canbus.frames") - f0) / (t_lost - t0), ">=", 5000, "frames/s")
ek3.figure("modules regulating while the bus is lost", get("rack.running"), "=", N, "")
run(t0 + 3.5 - now())
local t_back = run_until(function() return get("rack.online") == N end, "1.5s", "the station hears every module again")
ek3.figure("every module heard again after the babble", (t_back - t0 - 3.5) * 1e3, "<=", 1100, "ms")
bus(); power()
ek3.others_run(N, {})
