-- A load step on an 8-module rack: the bus settles to its droop point
-- within limits, the modules share the load, and the rack delivers what
-- the load asks. The signal checks of docs/checks.md, with a capture of
-- the step as evidence (--report DIR).
scenario{ name="load-step", tags={"plant", "checks"}, level="quick",
          requirements={"EK-TECH-010 6.2"}, seeds={1, 2}, timeout="120s" }
rack{ modules=8, load="10kW", load_at="0.5s", load_ramp="1ms" }
at(0.7, function() set_load{ power="20kW", ramp="0.1ms" } end)
run("0.6s")
ripple("bus.v", { from=0.6, to=0.69, max="1V" })
step_response("bus.v", { at=0.7, window="60ms", tol="1V", overshoot_max=10, settling_max="20ms" })
first_order("bus.v", { at=0.7, window="40ms", fit_max=5 })
within("bus.v", 720, 770, { from=0.6, to=0.8 })
dip("bus.v", { at=0.7, max="3%" })
-- Droop sharing is not exact: the modules' mean currents spread by 13 to 20 %
-- at this load (seeds 1 and 2); this bounds the spread as a regression guard.
sharing_spread({ from=0.72, to=0.8, max=25 })
delivered({ from=0.6, to=0.8, min=99 })
capture{ signals={ "bus.v", "bus.p", "module[1].iout", "module[8].iout" },
         trigger={ signal="bus.p", level=15e3, edge="rising" }, pre="5ms", post="30ms", name="step" }
run("0.2s")
