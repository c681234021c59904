/* cmd_faults.c - `ek3 faults`: the rig's fault table (fault.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "fault.h"
#include "report.h"

/* rep_folded's body: the table, as markdown when *md. */
static int faults_print(FILE *f, void *md)
{
    return flt_print(f, *(const int *)md);
}

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
                 "--markdown prints the table as docs/faults.md has it. In a terminal (or with\n"
                 "COLUMNS set) the descriptions fold to its width.");
            return CLI_OK;
        }
        if (!strcmp(argv[i], "--markdown"))
            md = 1;
        else
            return cli_bad_arg(w, argv[i], NULL);
    }
    /* In a terminal, folded to its width, each description under its column. */
    if (rep_folded(stdout, md ? 0 : cli_text_width(stdout), faults_print, &md) || ferror(stdout))
        return cli_stdout_error(w);
    return CLI_OK;
}
