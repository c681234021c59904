-- Service crashes for 100 s (soak): every 0.5 s a service picked at
-- random (the seed's generator) crashes on a module picked at random of
-- an 84-module rack at 151 kW, 200 crashes in all. Each is restarted in
-- under 50 ms and the rack never dips (EK-TECH-010 8.5 "Reincarnation
-- Server restarts in <50 ms", "Power delivery continues during
-- non-critical service restart"; 5.3). A pair crashed within the last
-- 1 s is not picked again: a crash that soon after a restart is a crash
-- loop, which the Reincarnation Server backs off on purpose (rs.h).
scenario{ name = "svc-crash-soak", tags = { "firmware", "kernel", "soak" }, level = "soak",
          requirements = { "EK-TECH-010 8.5", "EK-TECH-010 5.3" }, seeds = { 1, 2, 3 }, timeout = "900s" }
local ek3 = require "ek3"

local N, EVERY, COUNT = 84, 0.5, 200
local v0, p0 = ek3.rack(N, 1800)
local bus = ek3.band("bus.v", v0 * 0.995, v0 * 1.005, "no dip", "V")
local last_crash, pending = {}, nil
local worst, worst_at, done, late = 0, "", 0, 0

-- the restart of the crash before: its kernel's own figure
local function settle()
  if not pending then return end
  local s = "module[" .. pending.k .. "].svc." .. pending.name .. "."
  if get(s .. "restarts") > pending.restarts then
    local r = get(s .. "restart_s")
    if r > worst then worst, worst_at = r, pending.k .. "." .. pending.name end
    done = done + 1
  else
    late = late + 1
  end
  pending = nil
end

local t0 = now()
for i = 1, COUNT do
  at(t0 + EVERY * i, function()
    settle()
    local k, id
    repeat
      k, id = math.random(N), math.random(#ek3.svc_names)
    until not last_crash[k .. "." .. id] or now() - last_crash[k .. "." .. id] > 1.0
    last_crash[k .. "." .. id] = now()
    local name = ek3.svc_names[id]
    pending = { k = k, name = name, restarts = get("module[" .. k .. "].svc." .. name .. ".restarts") }
    fault("svc-crash", k .. "." .. id)
  end)
end
run_until(function() return now() >= t0 + EVERY * COUNT + 0.1 end, EVERY * COUNT + 1)
settle()
ek3.figure("crashes restarted", done, "=", COUNT, "")
ek3.figure("crashes not restarted by the next one (0.5 s)", late, "=", 0, "")
ek3.figure("slowest restart (" .. worst_at .. ")", worst * 1e3, "<", 50, "ms")
bus()
ek3.others_run(N, {})
ek3.figure("power delivered", get("bus.p") / p0 * 100, ">=", 99.5, "% of before")
