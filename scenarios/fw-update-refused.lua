-- Images a module must refuse, and what it does then (EK-TECH-010 3.2
-- trust level 1, "signed, verified"; 1.3). In turn on an 8-module rack
-- under load: an image built for other hardware (refused wrong-hw), one
-- below the modules' security counter (refused downgrade), then a good
-- one, which every module takes. A refusal is counted, logged and told in
-- the module's STATUS; the module runs on, and the rack carries its load.
-- The other refusals (bad signature, unsigned, truncated, unknown key,
-- chunks out of order) are tests (tests/test_fwupd.c, test_fwimg.c).
scenario{ name = "fw-update-refused", tags = { "update", "trust", "rack" }, level = "quick",
          requirements = { "EK-TECH-010 3.2", "EK-TECH-010 1.3" }, seeds = { 1 }, timeout = "120s" }
local ek3 = require "ek3"

local N, P = 8, 19.2e3
local OLD, NEW = 0x010000, 0x010200
rack{ modules = N, ohm = 750 * 750 / P, load_at = "0.45s", load_ramp = "20ms" }
run_until(function() return now() >= 1.5 and get("rack.running") == N end, "2s", "the rack is up and regulating")
local p0 = get("bus.p")
local power = ek3.band("bus.p", p0 * 0.99, p0 * 1.01, "delivered power within 1 % of before", "W")
local trips = ek3.no_trips(N)

local function refused_all(why)
  local c = 0
  for k = 1, N do
    if ek3.mod(k, "update") == "refused" and ek3.mod(k, "update_why") == why then c = c + 1 end
  end
  return c
end
local function on(version)
  local c = 0
  for k = 1, N do if ek3.mod(k, "fw_version") == version then c = c + 1 end end
  return c
end

-- "G474" is the EK3 module's hardware id; this image says "G431"
update{ version = "1.2.0", security = 2, hw = 0x31333447 }
run_until(function() return get("update.finished") == 1 end, "5s", "the wrong-hardware image is refused")
ek3.figure("modules that refused an image for other hardware (wrong-hw)", refused_all("wrong-hw"), "=", N, "")
ek3.figure("modules still on 1.0.0", on(OLD), "=", N, "")

-- the factory's security counter is 1: an image with 0 is a downgrade
update{ version = "1.2.0", security = 0 }
run_until(function() return get("update.finished") == 1 end, "5s", "the downgrade is refused")
ek3.figure("modules that refused a downgrade below their security counter", refused_all("downgrade"), "=", N, "")
ek3.figure("modules still on 1.0.0", on(OLD), "=", N, "")

update{ version = "1.2.0", security = 2, wave = 2 }
run_until(function() return get("update.finished") == 1 end, "60s", "the good image rolls out")
ek3.figure("modules on 1.2.0 after the good image", on(NEW), "=", N, "")
ek3.figure("modules regulating", get("rack.running"), "=", N, "")
power(); trips()
