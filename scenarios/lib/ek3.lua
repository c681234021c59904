-- lib/ek3.lua - helpers the shipped scenarios share (require "ek3").
-- Everything here is built on the engine's globals (get, run, expect,
-- expect_always, ...); docs/scenarios.md documents those.
local M = {}

-- The module's services by the ids the fault table takes ("SLOT.ID"),
-- firmware/services/services.h.
M.svc = { AUDIT_LOGGER = 1, CAN_HANDLER = 2, THERMAL_MGR = 3, HEALTH_MONITOR = 4, DIAGNOSTICS = 5, UPDATE_MGR = 6, SWARM_COORD = 7 }
-- Their names in id order: every service the kernel has. None is
-- critical (.critical = 0 in each *_SERVICE): the seed's critical ones,
-- LLC_CONTROL and SAFETY_MONITOR, are drivers of the control interrupt.
M.svc_names = {}
for name, id in pairs(M.svc) do M.svc_names[id] = name end

-- The health byte's bits (HEARTBEAT, firmware/services/health_monitor.h).
M.health = { SENSOR_STUCK = 1, SENSOR_RANGE = 2, SENSOR_IMPLAUSIBLE = 4, FAULT_LATCHED = 8, WEAR = 16 }
function M.has(byte, bit) return math.floor(byte / bit) % 2 == 1 end

-- The rack the library runs on: n modules sharing a constant-power load
-- of n * per_module W, on from 0.45 s over a 20 ms ramp (the station
-- starts the rack at 20 ms; the bus is up by 0.4 s). Runs to `settle`
-- (default 0.6 s) and until every module regulates, and returns the bus
-- voltage and the power then.
-- More than 16 modules take the load over 200 ms and settle at 0.8 s: on
-- 84 modules without droop a 20 ms ramp to 1.8 kW each trips a dozen of
-- them on OCP (the rack's sharing, not the claim under test).
-- opts: rack{} fields to add (set=, seed=, load_ramp=, ...), and settle=.
function M.rack(n, per_module, opts)
  local big = n > 16
  local r = { modules = n, load = n * per_module, load_at = "0.45s", load_ramp = big and "200ms" or "20ms" }
  local settle = big and 0.8 or 0.6
  -- in sorted order: a bad field is named the same on every run (pairs'
  -- order changes from one process to the next)
  local keys = {}
  for k in pairs(opts or {}) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = opts[k]
    if k == "settle" then settle = v else r[k] = v end
  end
  rack(r)
  run_until(function() return now() >= settle and get("rack.running") == n end, settle + 0.4,
            "the rack is up and regulating")
  return get("bus.v"), get("bus.p")
end

-- The signal of module k.
function M.mod(k, what) return get("module[" .. k .. "]." .. what) end

-- Watch `path` from now to `to` (an absolute time as expect_always's
-- `to=` takes it: seconds or a string such as "1.5s"; nil: the end of
-- the run)
-- and keep its minimum and maximum; the check fails at the first sample
-- outside [lo, hi] (its time is in the verdict; lo nil: no lower bound).
-- Call the returned function after the run (or after `to`): it records
-- the extreme against the band as a figure.
local function q(x) return string.format("%.4g", x) end
M.q = q

function M.band(path, lo, hi, name, unit, to)
  local mn, mx = math.huge, -math.huge
  local floor = lo or -math.huge
  expect_always(function() -- called to `to`, the engine's window
    local v = get(path)
    if v < mn then mn = v end
    if v > mx then mx = v end
    return v >= floor and v <= hi
  end, { name = name .. ": " .. path .. (lo and " in " .. q(lo) .. " to " or " up to ") .. q(hi) .. " " .. unit, to = to })
  return function()
    if lo then expect(mn >= lo, name .. ": lowest " .. path, { value = mn, unit = unit, limit = ">= " .. q(lo) .. " " .. unit }) end
    expect(mx <= hi, name .. ": highest " .. path, { value = mx, unit = unit, limit = "<= " .. q(hi) .. " " .. unit })
    return mn, mx
  end
end

-- Each slot's mean output current over the next 10 ms (runs 100
-- quanta): a reference for a band around a module's current, where one
-- sample would carry the current loop's +-2 % noise. Returns {slot = A}.
function M.mean_iout(slots)
  local ref = {}
  for _, k in ipairs(slots) do ref[k] = 0 end
  for _ = 1, 100 do
    run("100us")
    for _, k in ipairs(slots) do ref[k] = ref[k] + M.mod(k, "iout") / 100 end
  end
  return ref
end

-- Record value against a limit: cmp is "<", "<=", "=", ">", ">=".
function M.figure(name, value, cmp, limit, unit)
  local ok
  if cmp == "<" then ok = value < limit
  elseif cmp == "<=" then ok = value <= limit
  elseif cmp == "=" then ok = value == limit
  elseif cmp == ">" then ok = value > limit
  else ok = value >= limit end
  expect(ok, name, { value = value, unit = unit, limit = cmp .. " " .. q(limit) .. (unit ~= "" and " " .. unit or "") })
  return ok
end

-- Record a figure without a limit: what the rig does, as evidence (a
-- gap's figures, the state a conflict ends in).
function M.measured(name, value, unit)
  expect(true, name, { value = value, unit = unit, limit = "(measured)" })
end

-- Modules in their slots that do not regulate (tripped, latched): the
-- count and a list "SLOT TRIP_CODE/STATE, ..." for a check's name. A
-- module parked by SWARM_COORD's provisioning (standby, no fault) is not
-- down.
function M.down(n)
  local bad = {}
  for k = 1, n do
    if M.mod(k, "present") == 1 and M.mod(k, "running") == 0 and M.mod(k, "parked") == 0 then
      bad[#bad + 1] = k .. " " .. M.mod(k, "trip_code") .. "/" .. M.mod(k, "state")
    end
  end
  return #bad, table.concat(bad, ", ")
end

-- Modules in their slots that tripped or latched a fault (state FAULT,
-- or the Level-0 latch): cheaper than M.down and blind to a module
-- that is starting (a parked one waking, a rebooted one soft-starting).
function M.tripped(n)
  local c = 0
  for k = 1, n do
    if M.mod(k, "state") == "FAULT" or M.mod(k, "hw_trip") == 1 then c = c + 1 end
  end
  return c
end

-- Watch for trips from now to the end of the run: M.tripped every 1 ms
-- (a trip latches, FAULT or the Level-0 latch, so none is missed; every
-- quantum would cost 168 reads a quantum on 84 modules). Call the
-- returned function at the end: it records the first trip's time, or
-- none.
function M.no_trips(n)
  local first
  every("1ms", function()
    if not first and M.tripped(n) > 0 then first = now() end
  end)
  return function()
    expect(first == nil, "no module trips (FAULT or Level-0 latch), checked every 1 ms" ..
           (first and string.format(": first at %.4f s", first) or ""))
  end
end

-- Record the modules in their slots that stopped regulating (M.down)
-- against at most `max` (default 0); the list goes into the name.
function M.none_down(n, name, max)
  local c, list = M.down(n)
  return M.figure((name or "modules tripped or latched") .. (c > 0 and " (" .. list .. ")" or ""), c, "<=",
                  max or 0, "")
end

-- One row of a sparing table (EK-TECH-010 6.3) as figures: with `live`
-- modules carrying `demand` W, the highest module current against the
-- 4.0 A limit (5.2, 8.5), the mean per module, the power delivered
-- against the demand, and the modules regulating. Read now (a settled
-- rack). Returns whether the row holds.
function M.sparing_row(live, demand, label)
  local tag = label or (live .. " modules")
  local ok = M.figure(tag .. ": modules regulating", get("rack.running"), ">=", live, "")
  ok = M.figure(tag .. ": highest module current", get("rack.i_max"), "<", 4.0, "A") and ok
  M.figure(tag .. ": power per module", get("bus.p") / live, "<=", 3300, "W")
  ok = M.figure(tag .. ": power delivered of " .. q(demand / 1e3) .. " kW asked", get("bus.p") / demand * 100, ">=",
                99.5, "%") and ok
  return ok
end

-- An EV battery charging session (CC then CV) on n modules: the
-- battery (q_ah Ah, from 20 % state of charge, OCV 600 V empty to 800 V
-- full, 50 mOhm) is connected at 0.45 s to the bus at its 750 V set
-- point. The chargers' CC/CV is the modules' own: each delivers its
-- current limit (LLC_CONTROL's 3.95 A) while the battery is below the
-- droop line's knee, 750 V - 5 V/A x 3.95 A = 730 V (CC), then the bus
-- holds the droop line and the current tapers as the battery's voltage
-- rises to 750 V (CV). Runs to t_end s. Figures: the CC current per
-- module (3.85 to 4.0 A) and how closely it is held up to 5 V below the
-- knee (within 1 %), the knee (the current below 98 % of CC) against
-- 730 V +- 1 % of 750 V, the bus at the end within 1 % of 750 V, the
-- current tapered to under 10 % of CC and never rising in CV by more
-- than 2 % of CC (the loop's noise at a few amperes), the state of
-- charge rising every quantum, no module tripped.
function M.ev_charge(n, q_ah, t_end)
  local VSET, KNEE = 750, 750 - 5 * 3.95
  rack{ modules = n, battery = { q_ah = q_ah, soc = 0.2, r_int = 0.05, ocv_empty = 600, ocv_full = 800 },
        load_at = "0.45s", vset = VSET }
  run_until(function() return now() >= 0.6 end, "1s")
  local i_cc, soc0 = get("bus.i"), get("load.soc")
  M.figure("CC: current per module, at least", i_cc / n, ">=", 3.85, "A")
  M.figure("CC: current per module, under the 4.0 A limit", i_cc / n, "<", 4.0, "A")
  local cv, t_cv, v_cv, dev, i_low, rise = false, nil, nil, 0, math.huge, 0
  local soc_prev = soc0
  expect_always(function()
    local i, soc = get("bus.i"), get("load.soc")
    local ok = soc >= soc_prev
    soc_prev = soc
    if not cv then
      local v = get("bus.v")
      if i < 0.98 * i_cc then
        cv, t_cv, v_cv = true, now(), v
      elseif v < KNEE - 5 then
        dev = math.max(dev, math.abs(i - i_cc) / i_cc)
      end
    end
    if cv then
      i_low = math.min(i_low, i)
      rise = math.max(rise, i - i_low)
    end
    return ok
  end, { name = "the state of charge rises every quantum" })
  run_until(function() return now() >= t_end end, t_end + 1)
  M.figure("CC: the current held, largest deviation", dev * 100, "<=", 1, "% of CC")
  expect(cv, "CV reached (the current fell below 98 % of CC)")
  if cv then
    M.measured("CC -> CV at", t_cv, "s")
    M.figure("CC -> CV at the knee, bus above", v_cv, ">=", KNEE - 7.5, "V")
    M.figure("CC -> CV at the knee, bus below", v_cv, "<=", KNEE + 7.5, "V")
    M.figure("CV: the current never rises by more than 2 % of CC", rise / i_cc * 100, "<=", 2, "%")
  end
  M.figure("CV: the bus at the end, above", get("bus.v"), ">=", VSET * 0.99, "V")
  M.figure("CV: the bus at the end, below", get("bus.v"), "<=", VSET * 1.01, "V")
  M.figure("CV: the current tapered to", get("bus.i") / i_cc * 100, "<", 10, "% of CC")
  M.figure("state of charge gained", (get("load.soc") - soc0) * 100, ">", 0, "points")
  M.measured("state of charge at the end", get("load.soc") * 100, "%")
  M.none_down(n)
end

-- A stuck output-voltage sensor (fault adc-stuck on channel 0, VOUT)
-- on n modules sharing 150 kW's share per module (1786 W). At 0.8 s
-- module 3's VOUT reading freezes on the code of 1.5 % under the bus (a
-- reading its peers would contradict), module 6's at full scale (4095,
-- 1000 V: a rail). What the firmware detects: module 6 at once, its
-- SAFETY_MONITOR's OVP (900 V) latches it and the station gets FAULT_ALERT
-- OVP (within 10 ms); module 3 only by HEALTH_MONITOR's SENSOR_STUCK, after
-- 5 s of one code, sent in the next 1 Hz heartbeat's health byte
-- (module[3].health bit 1; by 6.5 s). Meanwhile module 3's droop loop
-- answers a bus it reads 1.5 % low with more current than its peers; the
-- bus and the load hold. Figures: both detection times, module 3's current
-- over its peers' mean, the alerts the station got, the bus and the load.
function M.stuck_vout(n)
  local v0, p0 = M.rack(n, 150e3 / 84, { load_ramp = "0.2s", settle = 0.8 })
  local code = math.floor(v0 * 0.985 / 1000 * 4095)
  local alerts0 = get("station.faults")
  local bus = M.band("bus.v", v0 * 0.98, v0 * 1.02, "the bus holds", "V")
  local power = M.band("bus.p", p0 * 0.99, p0 * 1.01, "the load is served", "W")
  local t0 = now()
  fault("adc-stuck", 3, { ch = 0, code = code })
  fault("adc-stuck", 6, { ch = 0, code = 4095 })
  local t6 = run_until(function() return get("module[6].fault_code") == "OVP" end, "0.1s",
                       "module 6's VOUT at full scale: FAULT_ALERT OVP at the station")
  M.figure("module 6 (VOUT at a rail): OVP alert after", (t6 - t0) * 1e3, "<=", 10, "ms")
  M.figure("module 6 latched (not regulating)", M.mod(6, "running"), "=", 0, "")
  run_until(function() return now() >= t0 + 1.5 end, "3s")
  local peers, c = 0, 0
  for k = 1, n do
    if k ~= 3 and k ~= 6 then peers, c = peers + M.mod(k, "iout"), c + 1 end
  end
  M.measured("module 3 (VOUT stuck 1.5 % low): its current over its peers' mean", M.mod(3, "iout") / (peers / c) * 100, "%")
  M.figure("module 3: current under its 4.0 A limit", M.mod(3, "iout"), "<", 4.0, "A")
  -- the station's peer check: its reading off its running peers' median
  -- by more than 1 % at three heartbeats in a row, and it is stopped
  local tp = run_until(function() return get("station.implausible") >= 1 end, "4s",
                       "the station finds module 3's VOUT implausible against its peers")
  M.figure("module 3 stopped by the station's peer check after", tp - t0, "<=", 3.5, "s")
  run_until(function() return now() >= tp + 0.1 end, "1s")
  M.figure("module 3 stopped (not regulating)", M.mod(3, "running"), "=", 0, "")
  M.figure("modules the station found implausible", get("station.implausible"), "=", 1, "")
  local t3 = run_until(function() return M.mod(3, "health") % 2 == 1 end, "6s",
                       "module 3's SENSOR_STUCK in its heartbeat")
  M.figure("module 3 (VOUT stuck in range): SENSOR_STUCK at the station after", t3 - t0, "<=", 6.5, "s")
  M.figure("module 3: SENSOR_STUCK not before 5 s of one code", t3 - t0, ">=", 5, "s")
  local ts = run_until(function() return M.mod(3, "fault_code") == "SENSOR" end, "0.5s",
                       "module 3's FAULT_ALERT SENSOR at the station")
  M.figure("module 3: FAULT_ALERT SENSOR after", ts - t0, "<=", 6.5, "s")
  M.figure("FAULT_ALERTs at the station (module 6's OVP, module 3's SENSOR)", get("station.faults") - alerts0, "=", 2, "")
  bus(); power()
end

-- Record value against a range [lo, hi] (an instant known to a quantum).
function M.between(name, value, lo, hi, unit)
  local ok = value >= lo and value <= hi
  expect(ok, name, { value = value, unit = unit, limit = q(lo) .. " to " .. q(hi) .. (unit ~= "" and " " .. unit or "") })
  return ok
end

-- Modules 1..n other than `skip` (a set or a number) all RUN and carry
-- current; records one check.
function M.others_run(n, skip, name)
  local bad = {}
  for k = 1, n do
    local skipped = type(skip) == "table" and skip[k] or skip == k
    if not skipped and (M.mod(k, "state") ~= "RUN" or M.mod(k, "iout") <= 0.5) then
      bad[#bad + 1] = k .. " " .. M.mod(k, "state")
    end
  end
  expect(#bad == 0, (name or "modules not regulating") .. (#bad > 0 and " (" .. table.concat(bad, ", ") .. ")" or ""),
         { value = #bad, unit = "", limit = "= 0" })
  return #bad == 0
end

-- A Level-0 hardware trip (EK-TECH-010 3.1, 5.2, 8.5): on a rack of n
-- modules (default 84) at 1.8 kW each, fault `name` (trip-ocp, trip-ovp,
-- trip-otp, trip-gfi) with `params` steps module `slot`'s sensing path
-- past its comparator for 10 ms. The module's protection must latch
-- `code` within 10 us of the step (trip_latency: the RTL's own instant
-- inside the 100 us quantum, docs/checks.md) and hold the gates off
-- after the step is gone, through a firmware reboot 10 ms later (the
-- firmware's latches go with it, the hardware's does not: Level 0 "cannot
-- be overridden by any software"), while the others carry the load: the bus within 2 % and
-- the power delivered.
function M.trip(name, code, params, n, slot)
  n, slot = n or 84, slot or 4
  local v0, p0 = M.rack(n, 1800)
  local bus = M.band("bus.v", v0 * 0.98, v0 * 1.02, "the rack carries on", "V")
  local t0 = now()
  params = params or {}
  params.duration = "10ms"
  trip_latency(slot, { at = t0, max = "10us", name = name })
  fault(name, slot, params)
  local m = "module[" .. slot .. "]."
  run_until(function() return get(m .. "hw_trip") == 1 end, "1ms", name .. ": the gates go off")
  expect(get(m .. "trip_code") == code, name .. ": the latch holds " .. code .. " (" .. get(m .. "trip_code") .. ")")
  -- not bypassable: the step gone at 10 ms, the firmware rebooted at
  -- 20 ms, the latch holds to 300 ms
  expect_always(function() return get(m .. "hw_trip") == 1 and get(m .. "iout") < 1e-3 end,
                { from = now(), to = t0 + 0.3, name = name .. ": gates held off after the step, through a reboot" })
  fault("module-reboot", slot, { at = t0 + 0.02 })
  run_until(function() return now() >= t0 + 0.3 end, "0.4s")
  bus()
  M.figure(name .. ": firmware reboots", M.mod(slot, "resets"), "=", 1, "")
  expect(get(m .. "trip_code") == code, name .. ": the latch still holds " .. code .. " after the reboot")
  expect(get(m .. "running") == 0, name .. ": module " .. slot .. " not regulating (" .. get(m .. "state") .. ")")
  M.others_run(n, slot)
  M.figure("power delivered", get("bus.p") / p0 * 100, ">=", 99.5, "% of before")
end

-- A seized fan (EK-TECH-010 2.3 "Thermal Manager: fan control, power
-- derating"; 5.2 junction < 105 C; 8.5 "Hardware OTP trip + THERMAL_MGR
-- monitoring"): n modules in t_amb air at `per_module` W; module 2's fan
-- stops (health 0). THERMAL_MGR raises FAN_FAIL (after 1 s under half
-- the commanded speed); derate: the case passes 80 C and THERMAL_MGR
-- derates (DERATING to the station) instead of letting it trip, else the
-- case settles under 80 C at full power. Either way no trip (case < 95 C
-- SAFETY_MONITOR, junction < 105 C OTP), the module regulates and the
-- rack serves its load. To see it in seconds the heatsinks are given
-- 5 J/K (350 J/K on the board: minutes); the thresholds are the
-- firmware's own.
function M.fan_fail(n, t_amb, per_module, derate)
  local K = 2
  local m = "module[" .. K .. "]."
  local v0, p0 = M.rack(n, per_module, { set = { t_amb = t_amb, cth_hs = 5 } })
  local bus = M.band("bus.v", v0 * 0.995, v0 * 1.005, "the rack serves its load", "V")
  local case = M.band(m .. "t_case", nil, derate and 95 or 80,
                      derate and "no thermal trip" or "no trip, under the 80 C derating point", "C")
  local tj = M.band(m .. "tj_a", nil, 105, "no thermal trip", "C")
  expect_always(function() return get(m .. "hw_trip") == 0 and get(m .. "running") == 1 end,
                { name = "module 2 regulates, never tripped" })
  local t0 = now()
  fault("fan", K, { health = 0 })
  local tf = run_until(function() return get(m .. "fault_code") == "FAN_FAIL" end, "10s", "FAN_FAIL raised")
  M.figure("FAN_FAIL after the fan stopped", tf - t0, "<=", 10, "s")
  if derate then
    run_until(function() return get(m .. "fault_code") == "DERATING" end, "15s", "DERATING raised")
    M.figure("case temperature when derating", get(m .. "t_case"), ">=", 80, "C")
    run("5s")
  else
    run_until(function() return now() >= t0 + 10 end, "11s")
    M.figure("module 2's power without its fan", M.mod(K, "iout") * M.mod(K, "vout") / per_module * 100, ">=", 95,
             "% of its share")
  end
  bus(); case(); tj()
  M.figure("FAULT_ALERTs at the station (FAN_FAIL" .. (derate and ", DERATING)" or ")"), get("station.faults"), "=",
           derate and 2 or 1, "")
  M.figure("the other modules' hottest junction", (function()
    local mx = -1e9
    for k = 1, n do if k ~= K and M.mod(k, "tj_a") > mx then mx = M.mod(k, "tj_a") end end
    return mx end)(), "<", 80, "C")
  M.others_run(n, {})
end

return M
