-- A seized fan in a hot room: module 2's fan stops in 75 C air.
-- THERMAL_MGR flags it (FAN_FAIL) and, as the case passes 80 C, derates
-- the module (DERATING to the station) instead of letting it trip: the
-- case stays under SAFETY_MONITOR's 95 C and the junction under the
-- 105 C OTP, the module keeps regulating and the rack serves its load
-- (EK-TECH-010 2.3 "Thermal Manager: fan control, power derating"; 5.2
-- temperature < 105 C junction; 8.5 "Hardware OTP trip + THERMAL_MGR
-- monitoring"). fan-fail-45c is the same fault at 45 C, where the case
-- never reaches the derating point. lib/ek3.lua's fan_fail() has the checks.
scenario{ name = "fan-fail-derate", tags = { "plant", "thermal", "firmware" }, level = "quick",
          requirements = { "EK-TECH-010 2.3", "EK-TECH-010 5.2", "EK-TECH-010 8.5" }, seeds = { 1 }, timeout = "60s" }
require("ek3").fan_fail(8, 75, 2000, true)
