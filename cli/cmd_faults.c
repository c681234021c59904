/* cmd_faults.c - `ek3 faults`: the rig's fault table (fault.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "fault.h"
#include "report.h"

_Static_assert(FLT_COUNT_ <= 255, "a rank (1..FLT_COUNT_) fits only[]'s byte");

typedef struct faults_sel {
    int md;
    const unsigned char *only; /* flt_print's: NULL for every fault */
} faults_sel;

/* rep_folded's body: the table (or its named rows), as markdown when md. */
static int faults_print(FILE *f, void *ctx)
{
    const faults_sel *s = ctx;
    return flt_print(f, s->md, s->only);
}

static const char *faults_name(size_t i, const void *ctx)
{
    (void)ctx;
    return flt_table[i].name;
}

int cmd_faults(int argc, char **argv)
{
    const char *w = argv[0] && !strcmp(argv[0], "scenario faults") ? "scenario faults" : "faults";
    static unsigned char only[FLT_COUNT_];
    faults_sel sel = {0, NULL};
    unsigned ranked = 0;
    memset(only, 0, sizeof only);
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            printf("usage: ek3 %s [NAME...] [--markdown]\n\n"
                   "Every fault the rig can inject, by name (or the NAMEs given): its kind\n"
                   "(plant, bus, kernel, hardware, trust), its target, its parameters (unit, range,\n"
                   "default) and what it models. ek3 rack --fault NAME:TARGET@TIME[:P=V,...]\n"
                   "injects one, e.g.\n"
                   "  --fault igf:3@0.5s:i=40mA   --fault bus-cut:7@1s   --fault svc-crash:2.3@1s\n"
                   "TARGET is a slot (SLOT), a bus node (NODE: 0 the station, 1.. the slots), a\n"
                   "slot's service (SERVICE: SLOT.ID or SLOT.NAME), or 'bus', 'rack', 'station'; in\n"
                   "place of a slot or a module's node, 'leader' names the swarm's leader when the\n"
                   "fault comes due (leader, leader.SERVICE; refused before 0.6 s, the first\n"
                   "election's timeout).\n"
                   "A kernel fault timed before 10 ms is refused on every seed: each MCU leaves\n"
                   "reset 0-10 ms after power-on, by seed and slot. bad-image is the exception: it\n"
                   "marks the next trial image, and takes any time.\n"
                   "--markdown prints the table as docs/faults.md has it. In a terminal (or with\n"
                   "COLUMNS set) the descriptions fold to its width.\n",
                   w);
            return CLI_OK;
        }
        if (!strcmp(argv[i], "--markdown")) {
            sel.md = 1;
            continue;
        }
        if (argv[i][0] == '-')
            return cli_bad_arg(w, argv[i], NULL);
        int id = flt_find(argv[i]);
        if (id < 0 || (unsigned)id >= sizeof only) {
            char near[200];
            int lc = flt_find_nocase(argv[i]);
            if (lc >= 0)
                return cli_usage_error(w, "no fault named '%s': fault names are lower case (ek3 faults %s)", argv[i],
                                       faults_name((size_t)lc, NULL));
            cli_near(argv[i], flt_count, faults_name, NULL, 3, near, sizeof near);
            return cli_usage_error(w, "no fault named '%s' (%s%s%sek3 faults lists them)", argv[i],
                                   near[0] ? "closest: " : "", near, near[0] ? "; " : "");
        }
        if (!only[id]) /* ranked in the order named (flt_print); a name given twice prints once */
            only[id] = (unsigned char)++ranked; /* at most FLT_COUNT_: each fault once */
        sel.only = only;
    }
    /* In a terminal, folded to its width, each description under its column. */
    if (rep_folded(stdout, sel.md ? 0 : cli_text_width(stdout), faults_print, &sel) || ferror(stdout))
        return cli_stdout_error(w);
    return CLI_OK;
}
