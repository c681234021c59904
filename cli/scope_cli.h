/*
 * scope_cli.h - the live scope's flags (prefix scope_), shared by
 * `ek3 rack` and `ek3 scenario run`: --scope opens the window
 * (scopes/scowin.h), --scope-shot FILE@TIME saves a PNG of it at that
 * simulated time, --scope-hold keeps it open after the run, --scope-select
 * SLOTS selects modules from the start, --scope-fps N sets the frame rate,
 * --scope-keys KEYS presses keys once the rack is there.
 */
#ifndef SCOPE_CLI_H
#define SCOPE_CLI_H

#include "scowin.h"

typedef struct scope_args {
    int on;               /* --scope */
    int shot_given, hold_given, select_given, fps_given, keys_given;
    scw_opts o;
    char shot[1024];
} scope_args;

/* The usage lines of the three flags. */
extern const char scope_usage[];

/* Whether argv[*i] is one of the scope's flags: 1, taken (*i moved to
 * its value's index when it has one); 0, not one; CLI_USAGE + 10 (a bad
 * value or a repeat, told on stderr naming the flag). */
int scope_arg(const char *w, int argc, char **argv, int *i, scope_args *sa);
enum { SCOPE_BAD = 12 };

/* After the flags: --scope-shot and --scope-hold need --scope. Then the
 * window (with --scope): opened here, before anything is simulated.
 * CLI_OK (*out NULL without --scope), CLI_USAGE or CLI_FAIL (told). */
int scope_open(const char *w, scope_args *sa, scw **out);

#endif /* SCOPE_CLI_H */
