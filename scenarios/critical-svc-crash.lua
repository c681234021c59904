-- A critical service fails: the hardware holds, the module shuts down
-- safe, the station is told, the rest of the rack carries on
-- (EK-TECH-010 8.5 "Critical service (LLC_CONTROL, SAFETY_MONITOR)
-- crashes -> Hardware protection ensures safe shutdown"; 3.1 Level 0).
-- The firmware has no critical service to crash: LLC_CONTROL and
-- SAFETY_MONITOR are the drivers of the 10 kHz control interrupt, not
-- kernel services, and the five services are all non-critical, so the
-- Reincarnation Server's safe-shutdown path (rs.c, .critical) is never
-- taken. The nearest fault the rig has is the control interrupt hung:
-- isr-overrun, each run taking 100 ms, so neither driver nor any service
-- runs. Module 12's hangs and an overcurrent (trip-ocp, 10 A for 10 ms)
-- comes 50 ms later: the Level-0 comparator trips within 10 us and
-- latches with no firmware running, the watchdog resets the MCU at
-- 100 ms, the firmware finds the latch (FAULT) and the station gets the
-- FAULT_ALERT. Module 8's hangs with nothing else wrong: its bridge runs
-- on at its last command until the watchdog resets it, and after.
scenario{ name = "critical-svc-crash", tags = { "firmware", "kernel", "protection" }, level = "quick",
          requirements = { "EK-TECH-010 8.5", "EK-TECH-010 3.1" }, seeds = { 1 }, timeout = "60s",
          gaps = { "EK-TECH-010 8.5 critical service (LLC_CONTROL, SAFETY_MONITOR) crash -> safe shutdown: no " ..
                   "kernel service is critical (LLC_CONTROL and SAFETY_MONITOR are control-interrupt drivers), so " ..
                   "no crash takes the Reincarnation Server's safe-shutdown path; with the control interrupt hung " ..
                   "and no fault the output stays on at its last command (100 ms to the watchdog, and on after " ..
                   "it): only a Level-0 trip shuts the module down" } }
local ek3 = require "ek3"

local N, HUNG, TRIP = 84, 8, 12
local m = "module[" .. TRIP .. "]."
local v0, p0 = ek3.rack(N, 1800)
local bus = ek3.band("bus.v", v0 * 0.98, v0 * 1.02, "the rest of the rack carries on", "V")
local t0 = now()
fault("isr-overrun", HUNG, { n = 1000, t = "100ms" })
fault("isr-overrun", TRIP, { n = 1000, t = "100ms" })
-- the hardware holds with no firmware running: the trip within 10 us
trip_latency(TRIP, { at = t0 + 0.05, max = "10us", name = "hung firmware: Level-0 OCP" })
fault("trip-ocp", TRIP, { step = "10A", at = t0 + 0.05, duration = "10ms" })
run_until(function() return get(m .. "hw_trip") == 1 end, "0.06s", "the gates go off")
expect(get(m .. "trip_code") == "OCP", "the latch holds OCP (" .. get(m .. "trip_code") .. ")")
expect_always(function() return get(m .. "hw_trip") == 1 and get(m .. "iout") < 1e-3 end,
              { from = now(), to = t0 + 0.5, name = "safe shutdown: gates held off, no output" })
ek3.figure("module 12 resets (none yet: the watchdog has 100 ms)", get(m .. "resets"), "=", 0, "")
-- the watchdog resets both at 100 ms; module 12's firmware finds the latch
local tr = run_until(function() return get(m .. "resets") >= 1 end, "0.1s", "the watchdog resets module 12")
ek3.figure("watchdog reset of the hung firmware", (tr - t0) * 1e3, "<=", 100.1, "ms")
local tf = run_until(function() return get(m .. "fault_code") == "HW_TRIP" end, "0.1s",
                     "FAULT_ALERT HW_TRIP at the station")
ek3.figure("FAULT_ALERT at the station after the reset", (tf - tr) * 1e3, "<=", 10, "ms")
expect(get(m .. "state") == "FAULT", "module 12 in FAULT (" .. get(m .. "state") .. ")")
-- module 8: hung with nothing wrong, its output ran on; reset, regulating
ek3.figure("module 8 resets", ek3.mod(HUNG, "resets"), "=", 1, "")
expect(get("module[" .. HUNG .. "].fault_code") == "WATCHDOG", "module 8: FAULT_ALERT WATCHDOG")
run_until(function() return now() >= t0 + 0.5 end, "0.4s")
bus()
ek3.others_run(N, TRIP)
ek3.figure("power delivered", get("bus.p") / p0 * 100, ">=", 99.5, "% of before")
