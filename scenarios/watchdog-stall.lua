-- A kernel stall: module 4's kernel loop stops (svc-stall 0.5 s, no
-- watchdog kick). The watchdog resets the MCU at 100 ms, the kernel
-- boots again with every service, tells the station (FAULT_ALERT
-- WATCHDOG) and is heard again (HEARTBEAT); the rack carries on
-- (EK-TECH-010 5.2 invariant 6 "Watchdog: MCU resets if kernel loop
-- stalls >100ms"; 8.5 "Watchdog (100 ms)"). A stall of 50 ms on
-- module 6 is under the limit: no reset.
-- The rig's watchdog reset is the MCU's (fwinst.c): the output stops and
-- its relay opens; the station hears the module's heartbeat count start
-- again and, keeping the rack's demand, commands it on with its share;
-- it pre-charges to the bus and closes its relay: "rejoin" is the kernel
-- back, the station hearing it and the module regulating again.
scenario{ name = "watchdog-stall", tags = { "firmware", "kernel", "watchdog" }, level = "quick",
          requirements = { "EK-TECH-010 5.2", "EK-TECH-010 8.5" }, seeds = { 1 }, timeout = "60s" }
local ek3 = require "ek3"

local N, K, SHORT = 84, 4, 6
local m = "module[" .. K .. "]."
local v0, p0 = ek3.rack(N, 1800)
local bus = ek3.band("bus.v", v0 * 0.995, v0 * 1.005, "the rack carries on", "V")
local t0 = now()
fault("svc-stall", K, { t = "0.5s" })
fault("svc-stall", SHORT, { t = "50ms" })
local tr = run_until(function() return get(m .. "resets") >= 1 end, "0.3s", "the watchdog resets module 4")
-- 100 ms, seen at the end of the 100 us quantum it falls in
ek3.figure("watchdog reset after the stall began", (tr - t0) * 1e3, "<=", 100.1, "ms")
ek3.figure("watchdog reset not before 100 ms", (tr - t0) * 1e3, ">=", 100, "ms")
-- back: every service running again, the station told and hearing it
for _, name in ipairs(ek3.svc_names) do
  expect(get(m .. "svc." .. name .. ".state") == "RUNNING", name .. " running after the reset")
end
local ta = run_until(function() return get(m .. "fault_code") == "WATCHDOG" end, "0.1s",
                     "FAULT_ALERT WATCHDOG at the station")
ek3.figure("FAULT_ALERT WATCHDOG after the reset", (ta - tr) * 1e3, "<=", 10, "ms")
local th = run_until(function() return get(m .. "heard") > tr end, "1.2s", "the station hears module 4 again")
ek3.figure("rejoin: first HEARTBEAT after the reset", (th - tr) * 1e3, "<=", 1000, "ms")
ek3.figure("module 4 online", get(m .. "online"), "=", 1, "")
run_until(function() return now() >= t0 + 0.6 end, "0.5s")
ek3.figure("watchdog resets of module 4", get(m .. "resets"), "=", 1, "")
ek3.figure("the station split its demand again", get("station.resplits"), ">=", 1, "")
ek3.figure("module 4's relay closed again", get(m .. "relay"), "=", 1, "")
ek3.figure("50 ms stall: resets of module 6", ek3.mod(SHORT, "resets"), "=", 0, "")
ek3.figure("FAULT_ALERTs at the station (one WATCHDOG)", get("station.faults"), "=", 1, "")
bus()
ek3.others_run(N, {})
ek3.figure("power delivered", get("bus.p") / p0 * 100, ">=", 99.5, "% of before")
