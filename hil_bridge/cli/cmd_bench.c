/* cmd_bench.c - `ek3 bench`: run benchmark suites, print figures. */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "cmd.h"

int cmd_bench(int argc, char **argv)
{
    const char *w = "bench";
    double scale = 1.0;
    const char *suite = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i]) && strcmp(argv[i], "help")) {
            puts("usage: ek3 bench [can] [--quick]\n\n"
                 "Run benchmark suites and print one 'name value unit' line per figure.\n"
                 "Without a suite, every suite runs. --quick runs a tenth of the\n"
                 "iterations (a smoke run; figures are noisier).\n\n"
                 "suites:\n  can   protocol layer: identifiers, codecs, AES-CMAC, candump lines");
            return CLI_OK;
        } else if (!strcmp(argv[i], "--quick")) {
            scale = 0.1;
        } else if (argv[i][0] == '-') {
            return cli_usage_error(w, "unknown option '%s'", argv[i]);
        } else if (!suite) {
            suite = argv[i];
        } else {
            return cli_usage_error(w, "one suite at a time ('%s' and '%s')", suite, argv[i]);
        }
    }
    if (suite && strcmp(suite, "can"))
        return cli_usage_error(w, "unknown suite '%s' (suites: can)", suite);
    return bench_can(stdout, scale) ? CLI_FAIL : CLI_OK;
}
