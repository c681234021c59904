-- fan-fail-45c on the 84-module rack over three seeds (nightly): a
-- seized fan at 45 C ambient: FAN_FAIL, the case settles under the 80 C
-- derating point at full share, no trip (EK-TECH-010 2.3, 5.2, 8.5).
-- lib/ek3.lua's fan_fail() has the checks.
scenario{ name = "fan-fail-45c-84", tags = { "plant", "thermal", "firmware" }, level = "nightly",
          requirements = { "EK-TECH-010 2.3", "EK-TECH-010 5.2", "EK-TECH-010 8.5" }, seeds = { 1, 2, 3 },
          timeout = "600s" }
require("ek3").fan_fail(84, 45, 1800, false)
