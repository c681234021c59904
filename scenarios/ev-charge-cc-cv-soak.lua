-- ev-charge-cc-cv at a slower time scale: 84 modules into a 5 Ah
-- battery from 20 % state of charge, a minute of simulated time (CC to
-- the knee at 20.6 s, the CV taper after); the same figures and limits
-- (lib/ek3.lua's ev_charge). Soak level: 2 to 3 minutes of wall time.
scenario{ name = "ev-charge-cc-cv-soak", tags = { "plant", "battery", "power", "rack" }, level = "soak",
          requirements = { "EK-TECH-010 1.2", "EK-TECH-010 6.1", "EK-TECH-010 5.2" }, seeds = { 1 },
          timeout = "1200s" }
require("ek3").ev_charge(84, 5.0, 60)
