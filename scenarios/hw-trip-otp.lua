-- The Level-0 OTP trip (junction above 105 C) on an 84-module rack at 151 kW:
-- a step on module 4's sensing path for 10 ms. The comparator latches
-- OTP within 10 us of the step (trip_latency), the gates stay off after
-- the step is gone and through a firmware reboot (the firmware's own
-- latches are gone with it, the Level-0 one is not), the others carry
-- the load (EK-TECH-010 3.1 Level 0 "cannot be overridden by any software"; 5.2
-- "Fault response <10 us (hardware trip)"; 8.5; 2.2 the latency table).
-- 2.2 asks OTP < 10 ms; the trip comes in 3.9 us.
-- lib/ek3.lua's trip() has the checks.
scenario{ name = "hw-trip-otp", tags = { "hardware", "protection" }, level = "quick",
          requirements = { "EK-TECH-010 3.1", "EK-TECH-010 5.2", "EK-TECH-010 8.5", "EK-TECH-010 2.2" }, seeds = { 1 },
          timeout = "60s" }
require("ek3").trip("trip-otp", "OTP", { step = "150C" })
