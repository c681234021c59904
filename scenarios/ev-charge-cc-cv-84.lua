-- ev-charge-cc-cv on the full rack: 84 modules (331 A of CC) into a
-- 1 Ah battery from 20 % state of charge, 10 s of simulated time; the
-- same figures and limits (lib/ek3.lua's ev_charge).
scenario{ name = "ev-charge-cc-cv-84", tags = { "plant", "battery", "power", "rack" }, level = "nightly",
          requirements = { "EK-TECH-010 1.2", "EK-TECH-010 6.1", "EK-TECH-010 5.2" }, seeds = { 1, 2, 3 },
          timeout = "300s" }
require("ek3").ev_charge(84, 1.0, 10)
