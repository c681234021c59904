-- The Level-0 OCP trip (output current above 4.0 A): the comparator latches within the
-- quantum of the step, the gates stay off though the firmware asks for
-- them, the rest of the rack carries the load (EK-TECH-010 3.1 Level 0
-- "cannot be overridden by any software"; 5.2 "Fault response <10 us
-- (hardware trip)"; 8.5). lib/ek3.lua's trip() has the checks.
scenario{ name = "hw-trip-ocp", tags = { "hardware", "protection" }, level = "quick",
          requirements = { "EK-TECH-010 3.1", "EK-TECH-010 5.2", "EK-TECH-010 8.5" }, seeds = { 1 }, timeout = "60s" }
require("ek3").trip("trip-ocp", "OCP", { step = "10A" })
