-- vout-sensor-stuck on the full rack: 84 modules at 150 kW (nightly:
-- 7 s of simulated time); the same timeline and figures
-- (lib/ek3.lua's stuck_vout).
scenario{ name = "vout-sensor-stuck-84", tags = { "plant", "firmware", "sensor", "rack" }, level = "nightly",
          requirements = { "EK-TECH-010 2.3", "EK-TECH-010 2.1" }, seeds = { 1, 2 }, timeout = "300s" }
require("ek3").stuck_vout(84)
