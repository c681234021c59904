-- An EV battery charging session, CC then CV, from 20 % state of
-- charge (EK-TECH-010 1.2, 6.1: the rack as an EV charger; 5.2: no
-- module past 4.0 A). 8 modules and a 0.1 Ah battery, so that the whole
-- session (CC to the knee at 65 % SoC, then the CV taper) fits in 10 s of
-- simulated time: the battery model's capacity is what compresses time;
-- the figures are per module and per volt, so they hold for any size
-- (ev-charge-cc-cv-84: 84 modules, 1 Ah, nightly). The figures and limits
-- are lib/ek3.lua's ev_charge.
scenario{ name = "ev-charge-cc-cv", tags = { "plant", "battery", "power" }, level = "quick",
          requirements = { "EK-TECH-010 1.2", "EK-TECH-010 6.1", "EK-TECH-010 5.2" }, seeds = { 1 },
          timeout = "120s" }
require("ek3").ev_charge(8, 0.1, 10)
