-- A stuck output-voltage sensor on one module, detected by plausibility
-- against its peers (issue 13; EK-TECH-010 2.3 the Health Monitor's
-- "component diagnostics", 2.1 "fail-safe defaults"). lib/ek3.lua's
-- stuck_vout has the timeline: a reading frozen at a rail is caught at
-- once (module 6: SAFETY_MONITOR's OVP, FAULT_ALERT); a reading frozen in
-- range (module 3, 1.5 % under the bus) drives the module to its current
-- limit until the station, which hears every module's VOUT reading in its
-- heartbeats, finds it off its running peers' median by more than 1 % at
-- three heartbeats in a row and stops it (station.implausible; station.h,
-- STN_PLAUS_*); HEALTH_MONITOR then flags SENSOR_STUCK after 5 s of one
-- code, in the health byte and as FAULT_ALERT SENSOR. The bus and the
-- load hold throughout. 8 modules at 150 kW's share per module;
-- vout-sensor-stuck-84 runs it on 84 (nightly).
scenario{ name = "vout-sensor-stuck", tags = { "plant", "firmware", "sensor" }, level = "quick",
          requirements = { "EK-TECH-010 2.3", "EK-TECH-010 2.1" }, seeds = { 1 }, timeout = "120s" }
require("ek3").stuck_vout(8)
