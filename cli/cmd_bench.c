/* cmd_bench.c - `ek3 bench`: run benchmark suites, print figures. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "cmd.h"
#include "scowin.h"

/* Loops that bench_kernel dumps under callgrind, and their operations at
 * scale 0.01 (the callgrind run's scale). */
static const char *const bench_kernel_names[] = {"kernel.idle_pass", "kernel.pass_with_message", "kernel.isr"};
static const long bench_kernel_ops[] = {2000, 2000, 20000};
/* And bench_plant's, at scale 0.01: switching periods, module steps. */
static const char *const bench_bridge_names[] = {"bridge.rack84.quantum", "bridge.rack84.frames.quantum",
                                                 "bridge.session84.quantum"};
static const long bench_bridge_ops[] = {BENCH_BRIDGE_CG_Q * 84, BENCH_BRIDGE_CG_Q * 84,
                                        BENCH_SESSION_CG_Q * 84}; /* per module per quantum */
static const char *const bench_plant_names[] = {"plant.switching_period", "plant.rack84_step"};
static const long bench_plant_ops[] = {20 * 20, 200 * 84};
/* And bench_scenario's: quanta of a 0.02 s run. */
static const char *const bench_scenario_names[] = {"scenario.base_quantum", "scenario.watched_quantum"};
static const long bench_scenario_ops[] = {200, 200};

int cmd_bench(int argc, char **argv)
{
    const char *w = "bench";
    double scale = 1.0;
    int under_cg = 0, no_cg = 0;
    const char *suite = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i]) && strcmp(argv[i], "help")) {
            puts("usage: ek3 bench [can|kernel|plant|bridge|scenario|scope] [--quick] [--no-callgrind]\n\n"
                 "Run benchmark suites and print one 'name value unit' line per figure.\n"
                 "Without a suite, every suite runs. --quick runs a tenth of the\n"
                 "iterations (a smoke run; figures are noisier). The kernel suite also\n"
                 "runs itself under valgrind's callgrind and prints instructions per\n"
                 "operation, which do not depend on the machine's load (the plant and\n"
                 "scenario suites too; --no-callgrind skips that).\n\n"
                 "suites:\n"
                 "  can     protocol layer: identifiers, codecs, AES-CMAC, candump lines\n"
                 "  kernel  JEZGRO: idle pass, send+dispatch, control interrupt, 84 x 10 kHz share\n"
                 "  plant   one module switching (real-time factor), the averaged 84-module rack,\n"
                 "          the table build, ngspice on the same circuit\n"
                 "  bridge  transports: round trip (median, p99) and frames/s; the rack bus\n"
                 "  scenario\n"
                 "          the engine: an 84-module run with ten watchers and a capture over\n"
                 "          the bare run (overhead), the time to start a scenario\n"
                 "  scope   the live scope's cost: the 84-module rack bare, with its tap, and with the\n"
                 "          window at 60 frames/s (SDL's dummy driver without a display)");
            return CLI_OK;
        } else if (!strcmp(argv[i], "--quick")) {
            scale = 0.1;
        } else if (!strcmp(argv[i], "--no-callgrind")) {
            no_cg = 1;
        } else if (!strcmp(argv[i], "--under-callgrind")) {
            under_cg = 1;
        } else if (argv[i][0] == '-') {
            return cli_usage_error(w, "unknown option '%s'", argv[i]);
        } else if (!suite) {
            suite = argv[i];
        } else {
            return cli_usage_error(w, "one suite at a time ('%s' and '%s')", suite, argv[i]);
        }
    }
    if (suite && strcmp(suite, "can") && strcmp(suite, "kernel") && strcmp(suite, "plant") && strcmp(suite, "bridge") &&
        strcmp(suite, "scenario") && strcmp(suite, "scope"))
        return cli_usage_error(w, "unknown suite '%s' (suites: can, kernel, plant, bridge, scenario, scope)", suite);
    if (under_cg) /* the callgrind child: loops only */
        return (suite && !strcmp(suite, "plant")      ? bench_plant(stdout, 0.01, 1)
                : suite && !strcmp(suite, "scenario") ? bench_scenario(stdout, 0.01, 1)
                : suite && !strcmp(suite, "bridge")   ? bench_bridge(stdout, 0.01, 1)
                                                      : bench_kernel(stdout, 0.01, 1))
                   ? CLI_FAIL
                   : CLI_OK;
    char self[4096] = "";
    ssize_t sn = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sn > 0)
        self[sn] = '\0';
    int bad = 0;
    if (!suite || !strcmp(suite, "can"))
        bad |= bench_can(stdout, scale);
    if (!suite || !strcmp(suite, "kernel")) {
        bad |= bench_kernel(stdout, scale, 0);
        if (!no_cg && self[0])
            bad |= bench_callgrind(stdout, self, "kernel", bench_kernel_names, bench_kernel_ops, 3);
    }
    if (!suite || !strcmp(suite, "bridge")) {
        bad |= bench_bridge(stdout, scale, 0);
        if (!no_cg && self[0])
            bad |= bench_callgrind(stdout, self, "bridge", bench_bridge_names, bench_bridge_ops, 3);
    }
    if (!suite || !strcmp(suite, "plant")) {
        bad |= bench_plant(stdout, scale, 0);
        if (!no_cg && self[0])
            bad |= bench_callgrind(stdout, self, "plant", bench_plant_names, bench_plant_ops, 2);
    }
    if (!suite || !strcmp(suite, "scenario")) {
        bad |= bench_scenario(stdout, scale, 0);
        if (!no_cg && self[0])
            bad |= bench_callgrind(stdout, self, "scenario", bench_scenario_names, bench_scenario_ops, 2);
    }
    if (!suite || !strcmp(suite, "scope")) {
        char err[600];
        if (scw_bench(stdout, scale, err, sizeof err)) {
            fprintf(stderr, "ek3 bench: scope: %s\n", err);
            bad = 1;
        }
    }
    return bad ? CLI_FAIL : CLI_OK;
}
