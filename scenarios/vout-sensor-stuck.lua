-- A stuck output-voltage sensor on one module, to be detected by
-- plausibility against its peers (issue 13; EK-TECH-010 2.3 the Health
-- Monitor's "component diagnostics", 2.1 "fail-safe defaults").
-- What the firmware does (lib/ek3.lua's stuck_vout has the timeline): a
-- reading frozen at a rail is caught at once (module 6: SAFETY_MONITOR's
-- OVP, FAULT_ALERT); a reading frozen in range (module 3, 1.5 % under the
-- bus) only by HEALTH_MONITOR's SENSOR_STUCK, after 5 s of one code, and
-- only as a bit of the heartbeat's health byte (module[K].health): no
-- FAULT_ALERT, the module keeps regulating on the wrong reading and runs
-- at its 3.95 A current limit, 54 % over its peers' mean. Nothing compares a module's VOUT with
-- its peers': HEALTH_MONITOR sees its own ADC only, and the station, which
-- hears every module's vout_dv in its heartbeats, checks none: a gap.
-- (A peer check belongs in the station, which alone sees every reading;
-- it is not a few lines, and left to the lead.) 8 modules at 150 kW's
-- share per module; vout-sensor-stuck-84 runs it on 84 (nightly).
scenario{ name = "vout-sensor-stuck", tags = { "plant", "firmware", "sensor" }, level = "quick",
          requirements = { "EK-TECH-010 2.3", "EK-TECH-010 2.1" }, seeds = { 1 }, timeout = "120s",
          gaps = { "issue 13 / EK-TECH-010 2.3 a stuck VOUT sensor detected by plausibility against its peers: no " ..
                   "service compares readings across modules (HEALTH_MONITOR sees one module; the station hears every " ..
                   "heartbeat's vout_dv and checks none); a reading stuck in range is found only by SENSOR_STUCK after 5 s, " ..
                   "as a health bit with no FAULT_ALERT and no action" } }
require("ek3").stuck_vout(8)
