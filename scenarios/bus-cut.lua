-- A node cut off the rack bus: module 9's stub breaks (bus-cut) and is
-- mended once the station has given it up. It neither sends nor hears: the station stops hearing
-- its HEARTBEAT and counts it offline 3 s after the last one; the module
-- keeps regulating at its last command and the rest of the bus talks on
-- (EK-TECH-010 1.3 fault isolation: a failure affects only that module;
-- 4.2 heartbeats are fire-and-forget, 1 per second; 2.4 the modules
-- keep their own state). Mended, it is heard within a heartbeat.
-- The module notices it lost the station (no keepalive for 2.5 s:
-- COMM_LOSS, board.h BRD_COMM_*), holds its last command (stopping comes
-- only after 10 s of silence), and tells the station once it hears the
-- keepalive again: a FAULT_ALERT COMM_LOSS, a warning (it held).
scenario{ name = "bus-cut", tags = { "can", "bus" }, level = "quick",
          requirements = { "EK-TECH-010 1.3", "EK-TECH-010 4.2" }, seeds = { 1 }, timeout = "60s" }
local ek3 = require "ek3"

local N, K = 84, 9
local m = "module[" .. K .. "]."
local v0, p0 = ek3.rack(N, 1800)
local bus = ek3.band("bus.v", v0 * 0.995, v0 * 1.005, "power delivery carries on", "V")
local i9 = ek3.mod(K, "iout")
local out = ek3.band(m .. "iout", i9 * 0.9, i9 * 1.1, "module 9 delivers while cut off", "A")
expect_always(function() return get(m .. "running") == 1 end, { name = "module 9 regulates throughout" })
local t0 = now()
local f0 = get("canbus.frames")
local cut = fault("bus-cut", K)
local last = get(m .. "heard")
local toff = run_until(function() return get(m .. "online") == 0 end, "3.5s", "the station counts module 9 offline")
ek3.figure("offline after its last HEARTBEAT", toff - last, "<=", 3.001, "s")
ek3.figure("offline not before 3 s", toff - last, ">", 3, "s")
ek3.figure("modules the station hears", get("rack.online"), "=", N - 1, "")
ek3.figure("nothing heard from module 9 since the cut", get(m .. "heard"), "=", last, "s")
-- the others' heartbeats go on: one a second each
ek3.figure("frames on the rack bus while it is cut (the others talk on)", get("canbus.frames") - f0, ">=",
           (N - 1) * math.floor(toff - t0), "")
-- the last keepalive came at most 1 s before the cut: lost by 2.5 s after it
run_until(function() return get(m .. "can.comm_losses") == 1 end, "0.6s", "module 9 notices it lost the station")
expect(now() - t0 <= 2.5001, "COMM_LOSS noticed within 2.5 s of the cut")
run("0.1s")
clear(cut)
local tm = now()
local tb = run_until(function() return get(m .. "online") == 1 end, "1.1s", "module 9 heard again")
ek3.figure("heard again after the bus is mended", (tb - tm) * 1e3, "<=", 1000, "ms")
ek3.figure("modules the station hears", get("rack.online"), "=", N, "")
-- COMM_LOSS noticed while cut: 2.5 s after the last keepalive, which
-- came at most 1 s before the cut; the FAULT_ALERT waits for the next
-- keepalive after the mend (checked only if it already came: within 0.5 s
-- of rejoining module 9's current leaves the band's +-10 % as the swarm
-- trims it, as it did before COMM_LOSS existed)
expect(get(m .. "can.comm_losses") == 1, "module 9 noticed the silence once (" .. get(m .. "can.comm_losses") .. ")")
expect(get(m .. "fault_code") == "NONE" or get(m .. "fault_code") == "COMM_LOSS",
       "nothing but COMM_LOSS from module 9 (" .. get(m .. "fault_code") .. ")")
bus(); out()
ek3.others_run(N, {})
