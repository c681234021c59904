-- A wrong API key refused (EK-TECH-010 3.1 Level 3 "Authenticated via
-- API keys"; 3.3 the station validates "API key valid?"). Someone
-- guessing: 100 requests a second with a wrong key for 1 s
-- (api-bad-key). Each is refused and counted (station.api_bad_key),
-- spends no token of the rate limit (station.api_rate stays 0) and
-- reaches no module; the rack does not notice.
-- 8 modules: the claim is the station's, whatever the rack behind it.
scenario{ name = "api-bad-key", tags = { "trust", "station", "security" }, level = "quick",
          requirements = { "EK-TECH-010 3.1", "EK-TECH-010 3.3" }, seeds = { 1 }, timeout = "60s" }
local ek3 = require "ek3"

local N, RATE, DUR = 8, 100, 1.0
local v0, p0 = ek3.rack(N, 1800)
local bus = ek3.band("bus.v", v0 * 0.995, v0 * 1.005, "the rack carries on", "V")
local sent0, ok0 = get("station.sent"), get("station.api_ok")
local t0 = now()
fault("api-bad-key", "station", { rate = RATE, duration = DUR })
run_until(function() return now() >= t0 + DUR end, "1.1s")
local made = math.floor((now() - t0) * RATE + 1e-9)
ek3.figure("wrong-key requests refused", get("station.api_bad_key"), "=", made, "")
ek3.figure("requests passed", made - get("station.api_bad_key"), "=", 0, "")
ek3.figure("rate-limit refusals (no token spent on a wrong key)", get("station.api_rate"), "=", 0, "")
ek3.figure("requests accepted since", get("station.api_ok") - ok0, "=", 0, "")
ek3.figure("POWER_CMDs sent", get("station.sent") - sent0, "=", 0, "")
run("0.2s")
ek3.figure("refusals after it stopped", get("station.api_bad_key"), "=", made, "")
bus()
ek3.others_run(N, {})
ek3.figure("power delivered", get("bus.p") / p0 * 100, ">=", 99.5, "% of before")
