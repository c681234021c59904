-- A hung service found by the per-service watchdog and restarted
-- (EK-TECH-010 8.5 "Watchdog (100 ms): Per-service watchdog via
-- Reincarnation Server"; 2.3 each service "Has watchdog timeout for
-- deadlock detection"; 5.3 "Supervisor detects watchdog timeout", "Task
-- recreated with fresh stack", power delivery continues).
-- On an 84-module rack at 151 kW each of the kernel's seven services
-- deadlocks (svc-hang) on its own module, slots 10, 20, ..., 70. The
-- Reincarnation Server pings a service every heartbeat_ms (its
-- *_SERVICE entry: CAN_HANDLER, THERMAL_MGR, SWARM_COORD 100 ms, HEALTH_MONITOR
-- 500 ms, AUDIT_LOGGER, UPDATE_MGR 1 s) and declares it hung 100 ms after a ping
-- goes unanswered, so a hang is found within heartbeat_ms + 100 ms (to
-- a millisecond: the passes that see it and restart it);
-- DIAGNOSTICS (on demand) is never pinged and its hang is never found.
-- The scenario asserts those bounds and names the seed's 100 ms as a gap.
scenario{ name = "svc-hang-watchdog", tags = { "firmware", "kernel", "watchdog" }, level = "quick",
          requirements = { "EK-TECH-010 8.5", "EK-TECH-010 2.3", "EK-TECH-010 5.3" }, seeds = { 1 }, timeout = "60s",
          gaps = { "EK-TECH-010 8.5 per-service watchdog (100 ms): a hang is found 100 ms after an unanswered ping " ..
                   "and pings go every heartbeat_ms (100 ms CAN_HANDLER, THERMAL_MGR; 500 ms HEALTH_MONITOR; 1 s " ..
                   "AUDIT_LOGGER, UPDATE_MGR), so up to 1.1 s; DIAGNOSTICS has no heartbeat and its hang is never found" } }
local ek3 = require "ek3"

local N = 84
local PING_MS = { AUDIT_LOGGER = 1000, CAN_HANDLER = 100, THERMAL_MGR = 100, HEALTH_MONITOR = 500, DIAGNOSTICS = 0,
                  UPDATE_MGR = 1000, SWARM_COORD = 100 }
local v0, p0 = ek3.rack(N, 1800)
local bus = ek3.band("bus.v", v0 * 0.995, v0 * 1.005, "no dip", "V")
local t0 = now()
local found = {}
for id, name in ipairs(ek3.svc_names) do fault("svc-hang", (10 * id) .. "." .. id) end
every("100us", function()
  for id, name in ipairs(ek3.svc_names) do
    if not found[name] and get("module[" .. 10 * id .. "].svc." .. name .. ".restarts") >= 1 then found[name] = now() end
  end
end)
run_until(function() return now() >= t0 + 1.2 end, "1.3s")
for id, name in ipairs(ek3.svc_names) do
  local s = "module[" .. 10 * id .. "].svc." .. name .. "."
  if PING_MS[name] > 0 then
    expect(found[name] ~= nil, name .. " hang found and restarted")
    if found[name] then
      ek3.figure(name .. " hang found and restarted after", (found[name] - t0) * 1e3, "<=", PING_MS[name] + 101, "ms")
    end
    expect(get(s .. "state") == "RUNNING", name .. " running again (" .. get(s .. "state") .. ")")
  else
    ek3.figure(name .. " (never pinged): restarts 1.2 s after its hang", get(s .. "restarts"), "=", 0, "")
  end
end
bus()
ek3.others_run(N, {})
ek3.figure("power delivered", get("bus.p") / p0 * 100, ">=", 99.5, "% of before")
