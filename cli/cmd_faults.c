/* cmd_faults.c - `ek3 faults`: the rig's fault table (fault.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "fault.h"

int cmd_faults(int argc, char **argv)
{
    const char *w = "faults";
    int md = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            puts("usage: ek3 faults [--markdown]\n\n"
                 "Every fault the rig can inject, by name: its kind (plant, bus, kernel,\n"
                 "hardware), its target, its parameters (unit, range, default) and what it\n"
                 "models. ek3 rack --fault NAME:TARGET@TIME[:P=V,...] injects one, e.g.\n"
                 "  --fault igf:3@0.5s:i=40mA   --fault bus-cut:7@1s   --fault svc-crash:2.3@1s\n"
                 "A kernel fault timed before its module's MCU leaves reset (0-10 ms after\n"
                 "power-on, by seed and slot) is refused.\n"
                 "--markdown prints the table as docs/faults.md has it.");
            return CLI_OK;
        }
        if (!strcmp(argv[i], "--markdown"))
            md = 1;
        else
            return cli_bad_arg(w, argv[i], NULL);
    }
    if (flt_print(stdout, md))
        return cli_fail(w, "cannot write the table to standard output");
    return CLI_OK;
}
