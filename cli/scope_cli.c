/* scope_cli.c - the live scope's flags for ek3 rack and ek3 scenario run. */
#include "scope_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* The printable keys of the window (scowin.c scw_key) --scope-keys takes. */
#define SCOPE_KEYS " n.+=-tca[]x0123456789"

const char scope_usage[] =
    "--scope opens the live scope (an SDL2 window: the rack map, waveforms, the\n"
    "CAN-FD bus, event markers, cursors; keys in docs/scopes.md; the run runs on a\n"
    "worker thread and never waits on it but while paused); closing it stops the run\n"
    "as Ctrl-C does. --scope-shot FILE@TIME saves the window as a PNG at that\n"
    "simulated time (e.g. scope.png@0.8s); --scope-hold keeps the window open after\n"
    "the run and its report, until closed or Ctrl-C; no display: refused (run under\n"
    "xvfb-run -a) unless SDL_VIDEODRIVER is set; --scope-select 3,5 selects up to\n"
    "four slots from the start (their current and Tj join the waveforms);\n"
    "--scope-fps N draws N frames a second (default 60; fewer leave more CPU to the\n"
    "rack); --scope-keys KEYS presses those keys once the rack is there (e.g. ct:\n"
    "colour by current, trigger on bus.v's rising edge).";

int scope_arg(const char *w, int argc, char **argv, int *i, scope_args *sa)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (!strcmp(a, "--scope")) {
        if (sa->on)
            return cli_usage_error(w, "--scope is given twice") + 10;
        sa->on = 1;
        return 1;
    }
    if (!strcmp(a, "--scope-hold")) {
        sa->hold_given = sa->o.hold = 1;
        return 1;
    }
    if (!strcmp(a, "--scope-select")) { /* up to SCO_SEL slots: 3,5 */
        const char *p = v;
        unsigned n = 0;
        memset(sa->o.sel, 0, sizeof sa->o.sel);
        while (p && *p) {
            char *end;
            long k = strtol(p, &end, 10);
            if (end == p || k < 1 || k > 510 || (*end && *end != ','))
                break;
            for (unsigned j = 0; j < n; j++)
                if (sa->o.sel[j] == k)
                    return cli_usage_error(w, "--scope-select '%s': slot %ld is given twice", v, k) + 10;
            if (n == SCO_SEL)
                return cli_usage_error(w, "--scope-select '%s': at most %u slots", v, SCO_SEL) + 10;
            sa->o.sel[n++] = (int)k;
            p = *end ? end + 1 : end;
        }
        if (!v || !n || (p && *p) || v[strlen(v) - 1] == ',')
            return cli_usage_error(w, "--scope-select '%s': up to %u slots 1 to 510, e.g. 3,5", v ? v : "", SCO_SEL) +
                   10;
        sa->select_given = 1;
        (*i)++;
        return 1;
    }
    if (!strcmp(a, "--scope-fps")) {
        uint64_t n;
        if (!v || cli_parse_u64(v, 240, &n) || n < 1)
            return cli_usage_error(w, "--scope-fps '%s': frames per second, 1 to 240", v ? v : "") + 10;
        sa->o.fps = (int)n;
        sa->fps_given = 1;
        (*i)++;
        return 1;
    }
    if (!strcmp(a, "--scope-keys")) {
        if (!v || !*v || strspn(v, SCOPE_KEYS) != strlen(v))
            return cli_usage_error(w, "--scope-keys '%s': keys of the window, from \"%s\" (docs/scopes.md)",
                                   v ? v : "", SCOPE_KEYS) + 10;
        sa->o.keys = v;
        sa->keys_given = 1;
        (*i)++;
        return 1;
    }
    if (strcmp(a, "--scope-shot"))
        return 0;
    const char *at = v ? strrchr(v, '@') : NULL;
    double t;
    if (sa->shot_given)
        return cli_usage_error(w, "--scope-shot is given twice (one screenshot per run)") + 10;
    if (!v || !at || at == v || (size_t)(at - v) >= sizeof sa->shot || cli_parse_quantity(at + 1, "s", &t) ||
        !(t >= 0 && t <= 86400))
        return cli_usage_error(w, "--scope-shot '%s': FILE@TIME, a PNG and a simulated time, e.g. scope.png@0.8s",
                               v ? v : "") + 10;
    memcpy(sa->shot, v, (size_t)(at - v));
    sa->shot[at - v] = 0;
    sa->o.shot_path = sa->shot;
    sa->o.shot_t = t;
    sa->shot_given = 1;
    (*i)++;
    return 1;
}

int scope_open(const char *w, scope_args *sa, scw **out)
{
    *out = NULL;
    if (!sa->on && (sa->shot_given || sa->hold_given || sa->select_given || sa->fps_given || sa->keys_given))
        return cli_usage_error(w, "%s: it applies to the live scope's window, which only --scope opens",
                               sa->shot_given    ? "--scope-shot"
                               : sa->hold_given  ? "--scope-hold"
                               : sa->fps_given   ? "--scope-fps"
                               : sa->keys_given  ? "--scope-keys"
                                                 : "--scope-select");
    if (!sa->on)
        return CLI_OK;
    if (sa->shot_given) { /* a path that cannot be written costs no simulation */
        struct stat st;
        int existed = !stat(sa->shot, &st);
        if (existed && S_ISDIR(st.st_mode))
            return cli_fail(w, "--scope-shot %s: %s", sa->shot, strerror(EISDIR));
        /* an existing file (or /dev/full) is opened as it is, never truncated
         * nor removed; a new one is created and removed again */
        int fd = open(sa->shot, existed ? O_WRONLY : O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0)
            return cli_fail(w, "--scope-shot %s: %s", sa->shot, strerror(errno));
        close(fd);
        if (!existed)
            unlink(sa->shot);
    }
    char err[600];
    if (scw_open(out, &sa->o, err, sizeof err))
        return cli_fail(w, "--scope: %s", err);
    return CLI_OK;
}
