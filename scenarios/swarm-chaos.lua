-- Chaos on the swarm (EK-TECH-010 2.3 SWARM_COORD; 3.3 authenticated
-- frames; 6.1 the rack keeps delivering; 5.2 the 4.0 A limit): 84
-- modules at 150 kW, then ~16 s of a seeded random schedule (math.random
-- is the rig's generator seeded by the run's seed: one seed, one
-- schedule), one event at a time, 0.3-1.5 s apart:
--   ELECTION frames corrupted and/or dropped (bus-errors type 1) for 0.3-3 s,
--   a random module kept bus-off for 0.5-3 s (bus-corrupt, every frame),
--   the bus split into two groups at a random slot for 0.5-3 s, healed,
--   the leader's SWARM_COORD crashed, the leader module rebooted,
--   a forged ELECTION vote request (random slot, term up to 10^6),
--   a replayed ELECTION frame (random slot).
-- Held every quantum: no breach of election safety, log matching or a
-- committed decision (swarm.violations), no module past its 4.0 A
-- rating, none tripped, the bus inside droop's band (730 V = V_set -
-- 5 V/A x 4 A .. V_set + 2 V) whether there is a leader or not; over the
-- run the 150 kW delivered within 1 % (84 modules give 250 kW: capacity
-- allows it whatever is rebooting). Figures: failovers, their p50 and
-- p99, the schedule as it ran (the verdict's faults[]). Limits: a lone
-- loss takes ~0.65 s (swarm-failover: the rack's one 600 ms lease, then
-- the lowest live slot), but the schedule leaves only 0.3-1.5 s between
-- events, so a loss may still be open when an ELECTION storm (up to 100 %
-- corrupted, 3 s) or a split without a majority side begins, and that
-- spell lasts the fault plus a failover. With 2 to 5 failovers a run, p50
-- is a lone loss's: limit 1.0 s (measured 0.19-0.71 s over seeds 1-20);
-- p99 the longest storm (3 s) plus a failover (1 s), 4.0 s (measured
-- 0.60-0.73 s, 2.58 s on seed 4). (With each slot's staggered lease a
-- lone loss took 1.7 s and these limits were 3 and 5 s.)
-- The manifest holds 16 seeds (the most it takes); seeds 17-20 run with
-- --seed.
scenario{ name = "swarm-chaos", tags = { "swarm", "rack", "power", "faults", "trust", "chaos" }, level = "nightly",
          requirements = { "EK-TECH-010 2.3", "EK-TECH-010 3.3", "EK-TECH-010 6.1", "EK-TECH-010 5.2" },
          seeds = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }, timeout = "300s" }
local ek3 = require "ek3"

local N, P, VSET, RD, T_CHAOS = 84, 150e3, 750, 5, 16
local v0, p0 = ek3.rack(N, P / N, { load_ramp = "0.2s", settle = 0.8 })
local function after(t) run_until(function() return now() >= t end, t - now() + 1) end
local function rnd(a, b) return a + (b - a) * math.random() end
expect_always(function() return get("swarm.violations") == 0 end, { name = "no swarm safety breach, every quantum" })
local imax = ek3.band("rack.i_max", nil, 4.0, "no module past its 4.0 A rating", "A")
local bus = ek3.band("bus.v", VSET - RD * 4.0, VSET + 2, "the bus inside droop's band", "V")
local lvmin, lvmax, lq = math.huge, -math.huge, 0
expect_always(function()
  if get("swarm.leader") ~= 0 then return true end
  local v = get("bus.v")
  lq = lq + 1
  lvmin, lvmax = math.min(lvmin, v), math.max(lvmax, v)
  return v >= VSET - RD * 4.0 and v <= VSET + 2
end, { name = "leaderless: the bus inside droop's band" })
expect_always(function() return ek3.tripped(N) == 0 end, { name = "no module trips (FAULT or Level-0 latch)" })
run_until(function() return get("swarm.leader") ~= 0 end, "1s", "a first leader")
after(1.5)
local t_start = now()
local t_end = t_start + T_CHAOS
delivered({ from = t_start, to = t_end + 2, min = 99 })

local counts, rebooted = {}, {}
local function count(k) counts[k] = (counts[k] or 0) + 1 end
while now() < t_end do
  local ev = math.random(7)
  local d = rnd(0.5, 3.0)
  if ev == 1 then
    fault("bus-errors", "bus", { corrupt = rnd(0.2, 1), drop = rnd(0, 0.5), type = 1, duration = d })
    count("ELECTION frames corrupted/dropped")
  elseif ev == 2 then
    fault("bus-corrupt", math.random(N), { frames = 1000000, duration = d })
    count("a module kept bus-off")
  elseif ev == 3 then
    fault("bus-split", "bus", { from = math.random(2, N), duration = d })
    count("bus split")
  elseif ev == 4 and get("swarm.leader") ~= 0 then
    fault("svc-crash", "leader." .. ek3.svc.SWARM_COORD)
    count("leader's SWARM_COORD crashed")
  elseif ev == 5 and get("swarm.leader") ~= 0 then
    rebooted[math.floor(get("swarm.leader"))] = true
    fault("module-reboot", "leader")
    count("leader rebooted")
  elseif ev == 6 then
    fault("swarm-forge", math.random(N), { term = math.random(1, 1000000) })
    count("forged ELECTION frame")
  elseif ev == 7 then
    fault("swarm-replay", math.random(N))
    count("replayed ELECTION frame")
  end
  local gap = (ev == 1 or ev == 2 or ev == 3) and d + rnd(0.3, 1.5) or rnd(0.3, 1.5)
  after(math.min(now() + gap, t_end))
end
-- 2 s to recover: a leader again, the schedule's faults cleared
run_until(function() return get("swarm.leader") ~= 0 end, "3s", "a leader after the chaos")
after(math.max(now(), t_end + 2))
imax(); bus()
-- a rebooted module boots with its output off and the station does not
-- start it again (hot-swap-150kw's gap): the others carry its share
ek3.others_run(N, rebooted)
-- in name order: pairs() walks a table in its hash order, which Lua seeds
-- afresh in every run, and a verdict lists its checks in the order recorded
local kinds = {}
for k in pairs(counts) do kinds[#kinds + 1] = k end
table.sort(kinds)
for _, k in ipairs(kinds) do ek3.measured("events: " .. k, counts[k], "") end
ek3.measured("leaderless quanta", lq, "")
if lq > 0 then
  ek3.measured("leaderless: lowest bus", lvmin, "V")
  ek3.measured("leaderless: highest bus", lvmax, "V")
end
ek3.measured("leaders elected", get("swarm.leaders"), "")
ek3.measured("failovers", get("swarm.failovers"), "")
if get("swarm.failovers") > 0 then
  ek3.figure("failover p50", get("swarm.failover_p50"), "<=", 1.0, "s")
  ek3.figure("failover p99", get("swarm.failover_p99"), "<=", 4.0, "s")
  ek3.measured("failover max", get("swarm.failover_max"), "s")
end
ek3.figure("power delivered at the end", get("bus.p") / p0 * 100, ">=", 99, "% of before")
