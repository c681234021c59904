-- A seized fan at 45 C ambient: module 2's fan stops at 2.4 kW (the
-- 8-module rack at 19.2 kW). THERMAL_MGR raises FAN_FAIL; without its
-- fan the module's case settles about 11 K over its air (55 C at 10 s,
-- 56 C at 20 s), under the 80 C derating point, so it keeps its full
-- share: no derating is needed and nothing trips (EK-TECH-010 2.3
-- "Thermal Manager: fan control, power derating"; 5.2 junction
-- < 105 C; 8.5 "Hardware OTP trip + THERMAL_MGR monitoring").
-- fan-fail-derate shows the derating, in 75 C air. 8 modules: the claim
-- is per module and the run takes 11 s of simulated time. lib/ek3.lua's
-- fan_fail() has the checks.
scenario{ name = "fan-fail-45c", tags = { "plant", "thermal", "firmware" }, level = "quick",
          requirements = { "EK-TECH-010 2.3", "EK-TECH-010 5.2", "EK-TECH-010 8.5" }, seeds = { 1 }, timeout = "60s" }
require("ek3").fan_fail(8, 45, 2400, false)
