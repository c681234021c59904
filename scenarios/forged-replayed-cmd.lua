-- Forged and replayed commands at the Level 2 -> 1 boundary: the module
-- checks each POWER_CMD's CMAC and its freshness counter, refuses a
-- forged STOP (a tag under a wrong key) and a recorded START sent again
-- byte for byte, counts each, tells the station of the forgery
-- (FAULT_ALERT AUTH_FAIL, at most one a second) and keeps delivering
-- (EK-TECH-010 3.3: "Module Firmware validates: CMAC signature?
-- Sequence number?"; 3.2 Level 2 "cannot bypass safety limits").
scenario{ name = "forged-replayed-cmd", tags = { "trust", "can", "security" }, level = "quick",
          requirements = { "EK-TECH-010 3.3", "EK-TECH-010 3.2" }, seeds = { 1 }, timeout = "60s" }
local ek3 = require "ek3"

local N, F, R = 8, 3, 5       -- a forger at slot 3, a replayer at slot 5
local v0, p0 = ek3.rack(N, 1800)
local acc3, acc5 = ek3.mod(F, "can.accepted"), ek3.mod(R, "can.accepted")
local bus = ek3.band("bus.v", v0 * 0.995, v0 * 1.005, "power delivery carries on", "V")
local m3 = ek3.band("module[3].iout", ek3.mod(F, "iout") * 0.95, ek3.mod(F, "iout") * 1.05, "module 3 keeps delivering", "A")
local m5 = ek3.band("module[5].iout", ek3.mod(R, "iout") * 0.95, ek3.mod(R, "iout") * 1.05, "module 5 keeps delivering", "A")
local t0 = now()

-- one forged STOP, then the station's recorded START to slot 5 again
fault("forge-cmd", F, { power = 0 })
fault("replay-cmd", R)
local ta = run_until(function() return get("module[3].fault_code") == "AUTH_FAIL" end, "50ms",
                     "the station told of the forgery (AUTH_FAIL)")
ek3.figure("AUTH_FAIL at the station after the forged frame", (ta - t0) * 1e3, "<=", 10, "ms")
ek3.figure("module 3: forged frames counted", ek3.mod(F, "can.forged"), "=", 1, "")
ek3.figure("module 5: replayed frames counted", ek3.mod(R, "can.replayed"), "=", 1, "")
ek3.figure("module 3: commands refused", ek3.mod(F, "can.refused"), "=", 1, "")
ek3.figure("module 5: commands refused", ek3.mod(R, "can.refused"), "=", 1, "")

-- a forger keeps at it: 20 forged STOPs over a second, each refused and
-- counted; the alerts stay at one a second (no flood on the bus)
for i = 1, 20 do fault("forge-cmd", F, { power = 0, at = t0 + 0.05 * i }) end
run_until(function() return now() >= t0 + 1.2 end, "1.3s")
ek3.figure("module 3: forged frames counted", ek3.mod(F, "can.forged"), "=", 21, "")
ek3.figure("FAULT_ALERTs for 21 forged frames in 1.05 s", get("station.faults"), "<=", 2, "")
ek3.figure("module 3: commands accepted since", ek3.mod(F, "can.accepted") - acc3, "=", 0, "")
ek3.figure("module 5: commands accepted since", ek3.mod(R, "can.accepted") - acc5, "=", 0, "")
bus(); m3(); m5()
ek3.others_run(N, {})
