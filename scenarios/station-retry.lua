-- Station timeouts and retries (EK-TECH-010 4.2 Request-Response:
-- "[timeout: 100ms] If no ACK within timeout: Retry (max 3)"). On an
-- 84-module rack:
--   module 7 answers late: from 30 ms on (after its first heartbeat),
--     its frames reach the bus 150 ms after they are queued
--     (bus-latency, a slow controller), so each POWER_ACK
--     comes after the station's 100 ms timeout. The station sends its
--     START again 100 ms after each try, with a fresh freshness counter,
--     three times, and then gives up (station.gave_up); a late answer to
--     an earlier try is ignored. The module took the START (it runs);
--     the station only counts the command given up, and marks nothing
--     (the module stays online, heartbeats still come).
--   module 9 is silent: cut off the bus from the start (bus-cut). The
--     station starts the rack with the 83 it has heard once it has heard
--     no new module for 30 ms (about 40 ms: the boot storm is over by
--     10 ms), and sends module 9 nothing: no command, no retry. It never
--     runs; the others carry the load.
scenario{ name = "station-retry", tags = { "can", "station" }, level = "quick",
          requirements = { "EK-TECH-010 4.2" }, seeds = { 1 }, timeout = "60s" }
local ek3 = require "ek3"

local N, LATE, SILENT = 84, 7, 9
rack{ modules = N, load = (N - 1) * 1800, load_at = "0.8s", load_ramp = "200ms" }
fault("bus-latency", LATE, { d = "150ms", at = "30ms" })
fault("bus-cut", SILENT, { at = 0 })
-- the instant of every retry and of the give-up, each seen at the end
-- of its 100 us quantum: 100 ms apart to a quantum
local tries, t_gave, t_start, r_last = {}, nil, nil, 0
every("100us", function()
  if not t_start and get("rack.started") == 1 then t_start = now() end
  local r = get("station.retries")
  if r > r_last then tries[#tries + 1] = now(); r_last = r end
  if not t_gave and get("station.gave_up") >= 1 then t_gave = now() end
end)
run_until(function() return t_gave ~= nil end, "1.2s", "the station gives up on module 7")
ek3.between("the rack started (30 ms after the last new module, module 9 unheard)", t_start * 1e3, 30, 60, "ms")
ek3.figure("retries to module 7", get("station.retries"), "=", 3, "")
ek3.figure("commands given up", get("station.gave_up"), "=", 1, "")
local prev = t_start
for i, t in ipairs(tries) do
  ek3.between("timeout before try " .. (i + 1), (t - prev) * 1e3, 99.9, 100.1, "ms")
  prev = t
end
ek3.between("give-up after the last try", (t_gave - prev) * 1e3, 99.9, 100.1, "ms")
ek3.figure("commands sent (83 STARTs and 3 retries)", get("station.sent"), "=", N - 1 + 3, "")
ek3.figure("commands acknowledged in time (the 82 others)", get("station.acked"), "=", N - 2, "")
ek3.figure("module 7: STARTs it accepted (every try)", ek3.mod(LATE, "can.accepted"), "=", 4, "")
ek3.figure("module 9: commands it got", ek3.mod(SILENT, "can.cmds"), "=", 0, "")
run_until(function() return now() >= 1.2 end, "1s")
ek3.figure("module 7 online", ek3.mod(LATE, "online"), "=", 1, "")
ek3.figure("module 9 online", ek3.mod(SILENT, "online"), "=", 0, "")
ek3.figure("module 9 regulating", ek3.mod(SILENT, "running"), "=", 0, "")
ek3.others_run(N, SILENT)
ek3.figure("power delivered", get("bus.p") / get("load.p") * 100, ">=", 99.5, "% of the load")
