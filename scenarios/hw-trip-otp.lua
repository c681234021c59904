-- The Level-0 OTP trip (junction above 105 C): the comparator latches within the
-- quantum of the step, the gates stay off though the firmware asks for
-- them, the rest of the rack carries the load (EK-TECH-010 3.1 Level 0
-- "cannot be overridden by any software"; 5.2 "Fault response <10 us
-- (hardware trip)"; 8.5). lib/ek3.lua's trip() has the checks.
scenario{ name = "hw-trip-otp", tags = { "hardware", "protection" }, level = "quick",
          requirements = { "EK-TECH-010 3.1", "EK-TECH-010 5.2", "EK-TECH-010 8.5" }, seeds = { 1 }, timeout = "60s" }
require("ek3").trip("trip-otp", "OTP", { step = "150C" })
