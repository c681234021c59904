-- A node driven to bus-off and back (ISO 11898-1 fault confinement):
-- module 5's next 32 frames fail on the wire; each error adds 8 to its
-- transmit error counter, so it goes error-passive at 128 and bus-off
-- past 255, leaves the bus, restarts and rejoins error-active with its
-- counters cleared. The rest of the bus and the power stage carry on
-- (EK-TECH-010 1.3 fault isolation; 4.1 CAN-FD as the rack's IPC).
scenario{ name = "bus-off-recovery", tags = { "can", "bus" }, level = "quick",
          requirements = { "EK-TECH-010 1.3", "EK-TECH-010 4.1" }, seeds = { 1 }, timeout = "60s" }
local ek3 = require "ek3"

local N, NODE = 84, 5
local node = "canbus.node[" .. NODE .. "]."
local v0, p0 = ek3.rack(N, 1800)
local bus = ek3.band("bus.v", v0 * 0.995, v0 * 1.005, "power delivery carries on", "V")
fault("bus-corrupt", NODE, { frames = 32 })
-- its next frame (a heartbeat, within a second) starts the errors
local tp = run_until(function() return get(node .. "state") == "error-passive" end, "1.5s", "node 5 error-passive")
ek3.figure("TEC when error-passive", get(node .. "tec"), ">=", 128, "")
local tb = run_until(function() return get(node .. "state") == "bus-off" end, "0.1s", "node 5 bus-off")
ek3.figure("TEC at bus-off", get(node .. "tec"), ">", 255, "")
expect(get("canbus.node[4].state") == "error-active" and get("canbus.node[0].state") == "error-active",
       "the other nodes stay error-active")
local tr = run_until(function() return get(node .. "state") == "error-active" end, "1s", "node 5 back error-active")
ek3.figure("bus-off to back on the bus", (tr - tb) * 1e3, "<=", 200, "ms")
ek3.figure("TEC after the restart", get(node .. "tec"), "=", 0, "")
ek3.figure("bus-offs of node 5", get(node .. "bus_offs"), "=", 1, "")
-- back on the bus: the station hears module 5 again (heartbeat within 1 s)
local h0 = get("canbus.frames")
run("1.2s")
ek3.figure("frames on the bus since", get("canbus.frames") - h0, ">=", N, "")
expect(get(node .. "state") == "error-active", "node 5 stays error-active")
ek3.figure("modules the station hears", get("rack.online"), "=", N, "")
bus()
ek3.others_run(N, {})
