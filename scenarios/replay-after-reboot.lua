-- A replay across a module reboot (a security finding). EK-TECH-010 3.3:
-- the module validates each POWER_CMD's "Sequence number?". The module
-- keeps the highest accepted freshness counter and a 64-frame window in
-- CAN_HANDLER's RAM, not in flash: a reboot starts it empty. On an
-- 84-module rack at 151 kW, the station's recorded START to module 20
-- (its rack start) is sent again byte for byte:
--   before the reboot: refused and counted (can.replayed), as it must;
--   module 20 reboots (module-reboot): its output goes off; the same
--     recorded START sent at once (before the station, which hears the
--     reset in the module's first heartbeat and splits its demand again,
--     has sent it anything): accepted (can.accepted 1, replayed 0) and the
--     module starts on an attacker's old frame;
--   the station's re-split then commands it too (its window now holds the
--     station's newer counter, so from here the old frame is refused: the
--     gap is the reboot-to-first-command window).
-- The scenario asserts what the rig does and names the gap.
scenario{ name = "replay-after-reboot", tags = { "trust", "can", "security" }, level = "quick",
          requirements = { "EK-TECH-010 3.3" }, seeds = { 1 }, timeout = "60s",
          gaps = { "EK-TECH-010 3.3 sequence number: a POWER_CMD recorded before a module reboots is accepted " ..
                   "after it (a replay passes): the freshness counter and window live in RAM and restart empty " ..
                   "on a reset; they must be persisted (or the key renewed at boot) to refuse it" } }
local ek3 = require "ek3"

local N, K = 84, 20
local m = "module[" .. K .. "]."
local v0, p0 = ek3.rack(N, 1800)
local bus = ek3.band("bus.v", v0 * 0.98, v0 * 1.02, "the rack carries on", "V")
local t0 = now()
fault("replay-cmd", K)
run_until(function() return get(m .. "can.replayed") >= 1 end, "10ms", "the replay before the reboot refused")
ek3.figure("before the reboot: replays refused", get(m .. "can.refused"), "=", 1, "")
ek3.figure("before the reboot: commands accepted (the rack start only)", get(m .. "can.accepted"), "=", 1, "")
fault("module-reboot", K, { at = t0 + 0.05 })
fault("replay-cmd", K, { at = t0 + 0.05 })
run_until(function() return get(m .. "resets") >= 1 end, "0.1s", "module 20 reboots")
local t1 = now()
local sent = get("station.sent")
local ta = run_until(function() return get(m .. "can.accepted") >= 1 end, "10ms",
                     "the recorded START just after the reboot: accepted (the finding)")
ek3.figure("after the reboot: the replay accepted after", (ta - t1) * 1e3, "<=", 10, "ms")
ek3.figure("commands the station sent before it was accepted", get("station.sent") - sent, "=", 0, "")
ek3.figure("after the reboot: replays refused", get(m .. "can.replayed"), "=", 0, "")
local tr = run_until(function() return get(m .. "running") == 1 end, "0.5s", "module 20 runs on the replayed START")
ek3.figure("module 20 regulating on the replayed frame after", (tr - t1) * 1e3, "<=", 500, "ms")
run_until(function() return now() >= t0 + 0.5 end, "0.5s")
ek3.figure("the station split its demand again (module 20 back from a reset)", get("station.resplits"), ">=", 1, "")
ek3.figure("commands module 20 took since the reboot (the replay, the station's)", get(m .. "can.accepted"), ">=", 2, "")
bus()
ek3.others_run(N, K)
