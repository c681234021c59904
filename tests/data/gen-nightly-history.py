#!/usr/bin/env python3
# Run from the repository root: python3 tests/data/gen-nightly-history.py
# Generates tests/data/nightly-history.jsonl: 10 nights x 20 scenarios
# (some with two seeds), deterministic (a fixed LCG), figures with noise.
import json, hashlib
state = 12345
def rnd():
    global state
    state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
    return (state >> 11) / float(1 << 53)
def gauss(mu, sd):
    return mu + sd * (sum(rnd() for _ in range(12)) - 6)
# name, seeds, wall median s, figures (name, unit, limit, mean, sd)
S = [
 ("soft-start", [1], 2.1, [("overshoot", "V", "<= 7.5 V", 2.0, 0.15), ("settling time", "ms", "<= 200 ms", 120, 4)]),
 ("load-step", [1, 2], 3.4, [("dip", "V", "<= 30 V", 18.0, 0.6), ("recovery time", "ms", "<= 50 ms", 21.0, 0.8)]),
 ("droop-sharing-84", [1], 41.0, [("current spread", "%", "<= 5 %", 2.1, 0.08)]),
 ("sparing-84", [1], 38.5, [("delivered power", "kW", ">= 200 kW", 200.4, 0.1)]),
 ("sparing-83", [1], 37.9, [("delivered power", "kW", ">= 200 kW", 200.3, 0.1)]),
 ("sparing-74", [1], 33.2, [("delivered power", "kW", ">= 200 kW", 200.2, 0.1)]),
 ("sparing-61", [1], 29.0, [("delivered power", "kW", ">= 183 kW", 183.0, 0.05)]),
 ("wide-striping", [1], 55.0, [("capacity lost", "%", "<= 1.3 %", 1.19, 0.01)]),
 ("module-pull-150kw", [1, 2], 6.2, [("bus deviation", "V", "<= 15 V", 6.5, 0.4), ("rejoin time", "s", "<= 2 s", 0.9, 0.05)]),
 ("svc-crash-restart", [1, 2], 1.9, [("restart time", "ms", "<= 50 ms", 12.5, 0.4), ("output dip", "V", "<= 5 V", 0.8, 0.05)]),
 ("svc-crash-critical", [1], 2.4, [("safe shutdown", "ms", "<= 10 ms", 3.1, 0.1)]),
 ("kernel-stall", [1], 2.8, [("watchdog reset", "ms", "<= 110 ms", 100.2, 0.2)]),
 ("hw-trip-ocp", [1], 0.9, [("trip_latency", "us", "<= 10 us", 3.9, 0.05)]),
 ("hw-trip-ovp", [1], 0.9, [("trip_latency", "us", "<= 10 us", 4.1, 0.05)]),
 ("hw-trip-otp", [1], 1.1, [("trip_latency", "us", "<= 10 us", 5.2, 0.05)]),
 ("hw-trip-gfi", [1], 0.9, [("trip_latency", "us", "<= 10 us", 4.4, 0.05)]),
 ("fan-fail-derate", [1], 12.0, [("derated power", "kW", ">= 2.4 kW", 2.62, 0.01), ("max temperature", "C", "<= 95 C", 88.0, 0.3)]),
 ("bus-off-recovery", [1], 4.4, [("recovery time", "ms", "<= 200 ms", 140, 3)]),
 ("bus-babble", [1], 3.9, [("frames lost", "", "<= 0", 0, 0)]),
 ("forged-replayed-cmd", [1], 2.2, [("refused", "", ">= 3", 3, 0)]),
 ("ev-session-cc-cv", [1], 95.0, [("charge time", "min", "<= 45 min", 38.0, 0.2)]),
]
out = []
for night in range(10):
    when = "2026-11-%02dT02:00:00Z" % (21 + night)
    rig = "0.4.0+%07x" % (0xb7d4305 + night)
    for name, seeds, wall, figs in S:
        script = hashlib.sha256(("script " + name).encode()).hexdigest()
        for seed in seeds:
            fl = []
            for fname, unit, limit, mean, sd in figs:
                v = round(gauss(mean, sd), 6)
                fl.append({"name": fname, "value": v, "unit": unit, "limit": limit, "pass": True})
            trace = hashlib.sha256(("trace %s %d" % (name, seed)).encode()).hexdigest()
            out.append(json.dumps({"format": "ek3-history/1", "night": when, "rig_version": rig,
                "scenario": name, "path": "scenarios/%s.lua" % name, "script_sha256": script,
                "seed": seed, "verdict": "PASS", "trace_sha256": trace,
                "wall_s": round(max(0.1, gauss(wall, wall * 0.03)), 3), "figures": fl}, separators=(",", ":")))
open("tests/data/nightly-history.jsonl", "w").write("\n".join(out) + "\n")
print(len(out))
