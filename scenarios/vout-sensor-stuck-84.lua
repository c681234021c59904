-- vout-sensor-stuck on the full rack: 84 modules at 150 kW (nightly:
-- 7 s of simulated time); the same timeline, figures and gap
-- (lib/ek3.lua's stuck_vout).
scenario{ name = "vout-sensor-stuck-84", tags = { "plant", "firmware", "sensor", "rack" }, level = "nightly",
          requirements = { "EK-TECH-010 2.3", "EK-TECH-010 2.1" }, seeds = { 1, 2 }, timeout = "300s",
          gaps = { "issue 13 / EK-TECH-010 2.3 a stuck VOUT sensor detected by plausibility against its peers: no " ..
                   "service compares readings across modules (HEALTH_MONITOR sees one module; the station hears every " ..
                   "heartbeat's vout_dv and checks none); a reading stuck in range is found only by SENSOR_STUCK after 5 s, " ..
                   "as a health bit with no FAULT_ALERT and no action" } }
require("ek3").stuck_vout(84)
