-- Ground-fault current below and above the GFI thresholds (EK-TECH-010
-- 2.2 "Ground Fault Interrupt (GFI) < 10 ms, safety-critical"; 3.1
-- Level 0). On one rack: module 2 leaks 20 mA (under the firmware's
-- 30 mA GFI): nothing trips; module 5 leaks 40 mA (over the firmware's
-- 30 mA, under the hardware comparator's 50 mA): the firmware shuts it
-- down; module 8 leaks 60 mA: the Level-0 comparator latches GFI. Each
-- within 10 ms; the rest of the rack carries the load.
scenario{ name = "igf-gfi-threshold", tags = { "plant", "protection" }, level = "quick",
          requirements = { "EK-TECH-010 2.2", "EK-TECH-010 3.1" }, seeds = { 1 }, timeout = "60s" }
local ek3 = require "ek3"

local N = 84
local v0, p0 = ek3.rack(N, 1500)
local bus = ek3.band("bus.v", v0 * 0.98, v0 * 1.02, "the rack carries on", "V")
expect_always(function() return get("module[2].running") == 1 and get("module[2].fault_code") == "NONE" end,
              { name = "20 mA: module 2 regulates, no alert" })
local t0 = now()
fault("igf", 2, { i = "20mA" })
fault("igf", 5, { i = "40mA" })
fault("igf", 8, { i = "60mA" })
local t5 = run_until(function() return get("module[5].running") == 0 end, "10ms", "40 mA: module 5 shuts down")
ek3.figure("40 mA: off after", (t5 - t0) * 1e3, "<", 10, "ms")
local t8 = run_until(function() return get("module[8].hw_trip") == 1 end, "10ms", "60 mA: module 8's GFI latches")
ek3.figure("60 mA: tripped after", (t8 - t0) * 1e3, "<", 10, "ms")
run("0.3s")
expect(get("module[5].fault_code") == "GFI", "40 mA: the firmware's GFI (" .. get("module[5].fault_code") .. ")")
expect(get("module[5].hw_trip") == 0, "40 mA: under the comparator's 50 mA, no hardware latch")
expect(get("module[8].trip_code") == "GFI", "60 mA: the hardware latched GFI (" .. get("module[8].trip_code") .. ")")
ek3.figure("module 8 output after the trip", get("module[8].iout"), "<", 1e-3, "A")
bus()
ek3.others_run(N, { [5] = true, [8] = true })
ek3.figure("power delivered", get("bus.p") / p0 * 100, ">=", 99.5, "% of before")
