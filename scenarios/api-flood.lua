-- An API flood held by the rate limit (EK-TECH-010 3.1 Level 3
-- "Rate-limited, logged, auditable"; 3.3 the station validates "Rate
-- limit OK?"). A client with the right key gone wild: 1000 requests a
-- second at the station's API for 1 s (api-flood). The token bucket
-- (20 a second, a burst of 10) passes at most 10 + 20 x 1 s = 30 of them
-- and refuses the rest, each counted (station.api_rate); once the flood
-- stops the refusals stop. The rack does not notice: no command reaches
-- a module, every module regulates, the bus holds.
-- 8 modules: the claim is the station's, whatever the rack behind it.
scenario{ name = "api-flood", tags = { "trust", "station", "security" }, level = "quick",
          requirements = { "EK-TECH-010 3.1", "EK-TECH-010 3.3" }, seeds = { 1 }, timeout = "60s" }
local ek3 = require "ek3"

local N, RATE, DUR = 8, 1000, 1.0
local v0, p0 = ek3.rack(N, 1800)
local bus = ek3.band("bus.v", v0 * 0.995, v0 * 1.005, "the rack carries on", "V")
local sent0, r0 = get("station.sent"), get("station.api_rate")
local t0 = now()
fault("api-flood", "station", { rate = RATE, duration = DUR })
run_until(function() return now() >= t0 + DUR end, "1.1s")
local refused = get("station.api_rate") - r0
-- the flood's requests are made every quantum, floor(t x rate) by t
local made = math.floor((now() - t0) * RATE + 1e-9)
ek3.figure("flood requests refused (rate limit)", refused, ">", 0, "")
ek3.figure("flood requests passed in 1 s (20/s, burst 10)", made - refused, "<=", 30, "")
ek3.figure("flood requests passed: the bucket did pass some", made - refused, ">=", 20, "")
local r1 = get("station.api_rate")
run("0.2s")
ek3.figure("refusals after the flood stopped", get("station.api_rate") - r1, "=", 0, "")
ek3.figure("wrong-key refusals (none: the flood had the key)", get("station.api_bad_key"), "=", 0, "")
ek3.figure("POWER_CMDs sent during the flood", get("station.sent") - sent0, "=", 0, "")
bus()
ek3.others_run(N, {})
ek3.figure("power delivered", get("bus.p") / p0 * 100, ">=", 99.5, "% of before")
