-- A canary that fails halts the roll and reverts (EK-TECH-010 1.3 and
-- Appendix A, "per-module, rolling"; 3.2 trust level 1; 6.1). The canary
-- (the lowest slot that is not the swarm's leader: the station reboots
-- the leader last) is given an image that boots but never confirms itself
-- (the fault `bad-image`: its trial does not start its services): the
-- station reboots it back after its wave's time (15 s), it comes back on
-- 1.0.0, and the roll halts: the other modules keep the staged image but
-- are never rebooted into it. The rack carries its load throughout.
scenario{ name = "fw-update-canary-fails", tags = { "update", "trust", "rack", "faults" }, level = "quick",
          requirements = { "EK-TECH-010 1.3", "EK-TECH-010 Appendix A", "EK-TECH-010 3.2", "EK-TECH-010 6.1" },
          seeds = { 1, 2 }, timeout = "120s" }
local ek3 = require "ek3"

local N, P = 8, 19.2e3
local OLD = 0x010000
rack{ modules = N, ohm = 750 * 750 / P, load_at = "0.45s", load_ramp = "20ms" }
run_until(function() return now() >= 1.5 and get("rack.running") == N end, "2s", "the rack is up and regulating")
local p0, v0 = get("bus.p"), get("bus.v")
local power = ek3.band("bus.p", p0 * 0.99, p0 * 1.01, "delivered power within 1 % of before", "W")
local trips = ek3.no_trips(N)

local canary = get("swarm.leader") == 1 and 2 or 1
fault("bad-image", canary)
local t0 = now()
update{ version = "1.1.0", security = 2, wave = 4 }
run_until(function() return get("update.staged") == N end, "2s", "every module stages the image")
run_until(function() return ek3.mod(canary, "update") == "trial" end, "3s", "the canary boots its trial")
local tr = run_until(function() return get("update.finished") == 1 end, "40s", "the update ends")
ek3.figure("the roll halted", get("update.halted"), "=", 1, "")
ek3.figure("the canary is back on 1.0.0", ek3.mod(canary, "fw_version"), "=", OLD, "")
ek3.figure("the canary's phase is reverted", ek3.mod(canary, "update") == "reverted" and 1 or 0, "=", 1, "")
ek3.figure("modules held, staged but not rebooted", get("update.held"), "=", N - 1, "")
ek3.figure("modules confirmed on 1.1.0", get("update.done"), "=", 0, "")
local old = 0
for k = 1, N do if ek3.mod(k, "fw_version") == OLD then old = old + 1 end end
ek3.figure("modules on 1.0.0", old, "=", N, "")
ek3.figure("the halt, after the start (the wave's 15 s, the revert)", tr - t0, "<=", 25, "s")
local t1 = now()
run_until(function() return now() >= t1 + 2 end, "3s")
ek3.figure("modules regulating after the revert", get("rack.running"), "=", N, "")
power(); trips()
