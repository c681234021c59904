/*
 * bench.h - the rig's benchmarks (prefix bench_). Each suite prints one
 * "name value unit" line per figure to `out`, so that runs can be
 * compared by a script. Benchmarks measure; they never pass or fail.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <valgrind/callgrind.h>

/* A counted window under callgrind: the callgrind child runs with
 * --collect-atstart=no (bench_callgrind), BENCH_CG_BEGIN starts counting
 * and BENCH_CG_END(name) stops and dumps the window by name. Not
 * CALLGRIND_ZERO_STATS after a start-up: valgrind 3.19 leaves a call
 * instruction's own count from before the zero in the dump where the call
 * goes through an IFUNC-resolved PLT slot inside libm (exp's and pow's
 * calls into their FMA variants). The dump's `summary:` line was right,
 * but its `totals:` line (the one bench_callgrind reads last) and its
 * per-function costs carried the averaged table's build (about 8.8
 * million exp and 1.4 million pow calls): 10.2 million instructions too
 * many, 608 a module a quantum in bridge.rack84.quantum. Counting only
 * inside the window, the two lines agree. */
#define BENCH_CG_BEGIN() CALLGRIND_TOGGLE_COLLECT
#define BENCH_CG_END(name)                                                                                  \
    do {                                                                                                     \
        CALLGRIND_TOGGLE_COLLECT;                                                                            \
        CALLGRIND_DUMP_STATS_AT(name);                                                                       \
    } while (0)

/* Monotonic wall time in ns. */
int64_t bench_now_ns(void);

/* Print one figure. */
void bench_line(FILE *out, const char *name, double value, const char *unit);

/* The protocol layer: identifier, codecs, AES-CMAC sign/verify, candump
 * parsing. `scale` multiplies iteration counts (1 = about a second). */
int bench_can(FILE *out, double scale);

/* JEZGRO: an idle kernel pass, a message sent and dispatched, the
 * control interrupt. With instructions set, only run the loops (under
 * callgrind, which dumps each by name) and print nothing. */
int bench_kernel(FILE *out, double scale, int instructions);

/* The plant model: one module switching, the averaged rack of 84, the
 * table build, ngspice on the same circuit (when installed). */
int bench_plant(FILE *out, double scale, int instructions);

/* The bridge: transport round trips and throughput, the rack bus, the
 * 84-module rack (rtf on 1 and every thread; the HIL exchange as frames
 * and frameless). With instructions set, only the rack's loops run, one
 * thread, each dumped by name under callgrind: "bridge.rack84.quantum"
 * (frameless) and "bridge.rack84.frames.quantum", BENCH_BRIDGE_CG_Q
 * quanta of 84 modules each after the start-up. */
#define BENCH_BRIDGE_CG_Q 200
/* ... and "bridge.session84.quantum": `ek3 rack --modules 84 --load 200kW`'s
 * session from power-on, BENCH_SESSION_CG_Q quanta (0.2 s), one thread. */
#define BENCH_SESSION_CG_Q 2000
int bench_bridge(FILE *out, double scale, int instructions);

/* The scenario engine: scenario.overhead (an 84-module run with ten
 * expect_always watchers and a capture{} sampling every quantum, over
 * the same run bare; medians of 3 alternating), scenario.start_s. With
 * instructions set, each run is dumped from its first quantum. */
int bench_scenario(FILE *out, double scale, int instructions);

/* Run `suite` of this executable again under callgrind and print each
 * dumped loop's instructions divided by its operations: "NAME.instructions
 * N instr". Returns 0, or 1 when valgrind is missing or fails. */
int bench_callgrind(FILE *out, const char *self, const char *suite, const char *const *names,
                    const long *ops, unsigned n);

#endif /* BENCH_H */
