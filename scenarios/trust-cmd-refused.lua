-- Forged, replayed and out-of-range commands at the Level 2 -> 1
-- boundary, refused and counted at each layer (EK-TECH-010 3.3: "Module
-- Firmware validates: CMAC signature? Sequence number? Target within
-- spec?"; 3.2 Level 2 "cannot bypass safety limits"; 5.2 invariants).
-- On an 84-module rack at 151 kW:
--   slot 3: a forged STOP (a tag under a wrong key), then 20 more over a
--     second: each refused and counted by the module (can.forged,
--     .refused), the station told by FAULT_ALERT AUTH_FAIL at most once
--     a second (no alert flood on the bus);
--   slot 5: the station's recorded START sent again byte for byte:
--     refused and counted (can.replayed, .refused);
--   slots 11-13: authenticated commands past the station's API check (a
--     compromised client or a station defect, cmd-range): 3300 W at
--     750 V (4.4 A, within the protocol's fields, beyond the 4.0 A
--     limit): clamped; 5000 W and 1000 V (beyond the fields): refused;
--     each counted by the module and by the station (station.clamped,
--     .refused: answers to commands it sent).
-- The station counts only answers to its own commands: the forged and
-- replayed frames' refusals show in the modules' counters and, for the
-- forgery, in the AUTH_FAIL alert (station.refused stays at the 2 it
-- sent). No command is taken beyond the limits, every module delivers.
scenario{ name = "trust-cmd-refused", tags = { "trust", "can", "security" }, level = "quick",
          requirements = { "EK-TECH-010 3.3", "EK-TECH-010 3.2", "EK-TECH-010 5.2" }, seeds = { 1 }, timeout = "60s" }
local ek3 = require "ek3"

local N, F, R = 84, 3, 5      -- a forger at slot 3, a replayer at slot 5
local CLAMP, BIG, HIGH = 11, 12, 13
-- settled to 4 s: SWARM_COORD's balancing (issue 14) moves each module's
-- current toward the mean over its first ~3 s (by up to the 13 % droop
-- leaves), which the 5 % bands on modules 3 and 5 would read as a
-- forged command taking effect; converged, they move by the loop's noise
local v0, p0 = ek3.rack(N, 1800, { settle = 4.0 })
local acc3, acc5 = ek3.mod(F, "can.accepted"), ek3.mod(R, "can.accepted")
local bus = ek3.band("bus.v", v0 * 0.995, v0 * 1.005, "power delivery carries on", "V")
-- each band around the module's 10 ms mean, not one noisy sample
local ref = ek3.mean_iout({ F, R })
local m3 = ek3.band("module[3].iout", ref[F] * 0.95, ref[F] * 1.05, "module 3 keeps delivering", "A")
local m5 = ek3.band("module[5].iout", ref[R] * 0.95, ref[R] * 1.05, "module 5 keeps delivering", "A")
for _, k in ipairs({ CLAMP, BIG, HIGH }) do
  local m = "module[" .. k .. "]."
  expect_always(function() return get(m .. "iout") < 4.0 and get(m .. "vout") < 920 and get(m .. "pin") < 3300 end,
                { name = "module " .. k .. " within 4.0 A, 920 V, 3.3 kW" })
end
local t0 = now()

-- one forged STOP, then the station's recorded START to slot 5 again
fault("forge-cmd", F, { power = 0 })
fault("replay-cmd", R)
local ta = run_until(function() return get("module[3].fault_code") == "AUTH_FAIL" end, "50ms",
                     "the station told of the forgery (AUTH_FAIL)")
ek3.figure("AUTH_FAIL at the station after the forged frame", (ta - t0) * 1e3, "<=", 10, "ms")
-- each module reads the bus in its own CAN_HANDLER pass (their kernels keep their own time)
run_until(function() return ek3.mod(R, "can.refused") >= 1 end, "50ms", "module 5 read the replayed frame")
ek3.figure("module 3: forged frames counted", ek3.mod(F, "can.forged"), "=", 1, "")
ek3.figure("module 5: replayed frames counted", ek3.mod(R, "can.replayed"), "=", 1, "")
ek3.figure("module 3: commands refused", ek3.mod(F, "can.refused"), "=", 1, "")
ek3.figure("module 5: commands refused", ek3.mod(R, "can.refused"), "=", 1, "")

-- out of range, past the API
fault("cmd-range", CLAMP, { power = 3300, vset = 750 })
fault("cmd-range", BIG, { power = 5000, vset = 750 })
fault("cmd-range", HIGH, { power = 1800, vset = 1000 })
-- a forger keeps at it: 20 forged STOPs over a second, each refused and
-- counted; the alerts stay at one a second
for i = 1, 20 do fault("forge-cmd", F, { power = 0, at = t0 + 0.05 * i }) end
run_until(function() return now() >= t0 + 1.2 end, "1.3s")
ek3.figure("module 3: forged frames counted", ek3.mod(F, "can.forged"), "=", 21, "")
ek3.figure("FAULT_ALERTs (AUTH_FAIL) for 21 forged frames in 1.05 s", get("station.faults"), "<=", 2, "")
ek3.figure("module 3: commands accepted since", ek3.mod(F, "can.accepted") - acc3, "=", 0, "")
ek3.figure("module 5: commands accepted since", ek3.mod(R, "can.accepted") - acc5, "=", 0, "")
ek3.figure("module 11 (3300 W at 750 V): clamped", ek3.mod(CLAMP, "can.clamped"), "=", 1, "")
ek3.figure("module 12 (5000 W): refused", ek3.mod(BIG, "can.refused"), "=", 1, "")
ek3.figure("module 13 (1000 V): refused", ek3.mod(HIGH, "can.refused"), "=", 1, "")
ek3.figure("station: commands acknowledged clamped", get("station.clamped"), "=", 1, "")
ek3.figure("station: commands refused (its own two)", get("station.refused"), "=", 2, "")
bus(); m3(); m5()
ek3.others_run(N, {})
ek3.figure("power delivered", get("bus.p") / p0 * 100, ">=", 99.5, "% of before")
