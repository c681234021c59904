-- A non-critical service crashes under load: the Reincarnation Server
-- restarts it in under 50 ms and power delivery carries on (EK-TECH-010
-- 8.5 "Non-critical service (AUDIT_LOGGER, ...) crashes -> Reincarnation
-- Server restarts in <50 ms"; "Power delivery continues during
-- non-critical service restart"; 5.3: THERMAL_MGR crashes, the module
-- keeps delivering).
scenario{ name = "svc-crash-restart", tags = { "firmware", "kernel" }, level = "quick",
          requirements = { "EK-TECH-010 8.5", "EK-TECH-010 5.3" }, seeds = { 1 }, timeout = "60s" }
local ek3 = require "ek3"

local N = 8
local v0, p0 = ek3.rack(N, 1800)           -- 14.4 kW on 8 modules
local i3, i5 = ek3.mod(3, "iout"), ek3.mod(5, "iout")
-- no output dip: the bus within 0.5 % of where it sat, the two modules'
-- output within 5 % of theirs, from the crash to 100 ms after
local bus = ek3.band("bus.v", v0 * 0.995, v0 * 1.005, "no dip", "V")
local m3 = ek3.band("module[3].iout", i3 * 0.95, i3 * 1.05, "module 3 delivers", "A")
local m5 = ek3.band("module[5].iout", i5 * 0.95, i5 * 1.05, "module 5 delivers", "A")

local t0 = now()
fault("svc-crash", "3." .. ek3.svc.AUDIT_LOGGER)
fault("svc-crash", "5." .. ek3.svc.THERMAL_MGR)
local ta = run_until(function() return get("module[3].svc.AUDIT_LOGGER.restarts") >= 1 end, "0.2s",
                     "AUDIT_LOGGER restarted")
ek3.figure("AUDIT_LOGGER restart time", (ta - t0) * 1e3, "<", 50, "ms")
local tt = run_until(function() return get("module[5].svc.THERMAL_MGR.restarts") >= 1 end, "0.2s",
                     "THERMAL_MGR restarted")
ek3.figure("THERMAL_MGR restart time", (tt - t0) * 1e3, "<", 50, "ms")
run_until(function() return now() >= t0 + 0.1 end, "0.2s")
bus(); m3(); m5()
expect(get("module[3].svc.AUDIT_LOGGER.state") == "RUNNING", "AUDIT_LOGGER running again")
expect(get("module[5].svc.THERMAL_MGR.state") == "RUNNING", "THERMAL_MGR running again")
ek3.figure("crashes of AUDIT_LOGGER", get("module[3].svc.AUDIT_LOGGER.crashes"), "<=", 1, "")
ek3.figure("power delivered", get("bus.p") / p0 * 100, ">=", 99.5, "% of before")
ek3.others_run(N, {})
