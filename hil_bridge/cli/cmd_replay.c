/* cmd_replay.c - `ek3 replay`: play a candump log back onto a bus. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "candump.h"
#include "cli.h"
#include "cmd.h"
#include "ek3_err.h"
#include "transport.h"

static int64_t rp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int cmd_replay(int argc, char **argv)
{
    const char *w = "replay", *file = NULL, *bus = NULL, *iface = NULL;
    double speed = 1.0;
    int fast = 0;
    const char *miss = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            puts("usage: ek3 replay FILE|- --bus SPEC [--iface NAME] [--speed 1 | --fast]\n\n"
                 "Play a candump log (candump -l format; what ek3 rack --log writes) back onto\n"
                 "a bus: udp:HOST:PORT or a SocketCAN interface. Frames keep their recorded\n"
                 "spacing (--speed 2: twice as fast; --fast: back to back). --iface plays only\n"
                 "the frames recorded on that interface (hil0, can0). A line that does not\n"
                 "parse is reported as FILE:LINE:COLUMN and skipped; the exit code is then 1.");
            return CLI_OK;
        } else if (!strcmp(a, "--bus") && cli_has_value(a, v, &miss)) {
            bus = v, i++;
        } else if (!strcmp(a, "--iface") && cli_has_value(a, v, &miss)) {
            iface = v, i++;
        } else if (!strcmp(a, "--speed") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "", &speed) || !(speed > 0))
                return cli_usage_error(w, "--speed '%s': a factor above 0", v);
            i++;
        } else if (!strcmp(a, "--fast")) {
            fast = 1;
        } else if (a[0] == '-' && a[1]) {
            return cli_bad_arg(w, a, miss);
        } else if (!file) {
            file = a;
        } else {
            return cli_usage_error(w, "one log at a time ('%s' and '%s')", file, a);
        }
    }
    if (!file || !bus)
        return cli_usage_error(w, "a log and --bus are required");
    FILE *in = cli_open_in(file);
    if (!in)
        return cli_fail(w, "%s: %s", file, strerror(errno));
    tp t;
    int rc = tp_open(&t, bus);
    if (rc) {
        if (in != stdin)
            fclose(in);
        return cli_fail(w, "%s: %s", bus, ek3_strerror(rc));
    }
    char line[512];
    unsigned long lineno = 0, sent = 0, bad = 0, skipped = 0, full = 0;
    int64_t t0_log = -1, t0 = rp_now();
    while (fgets(line, sizeof line, in)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0])
            continue;
        cdl_record r;
        const char *why = NULL;
        unsigned col = 0;
        if (cdl_parse(line, &r, &why, &col) != EK3_OK) {
            fprintf(stderr, "%s:%lu:%u: %s\n", file, lineno, col + 1, why ? why : "not a candump line");
            bad++;
            continue;
        }
        if (iface && strcmp(r.ifname, iface)) {
            skipped++;
            continue;
        }
        int64_t tl = cdl_time_ns(&r);
        if (t0_log < 0)
            t0_log = tl;
        if (!fast) {
            int64_t due = t0 + (int64_t)((tl - t0_log) / speed);
            struct timespec ts = {due / 1000000000, due % 1000000000};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
        }
        for (int tries = 0;; tries++) {
            rc = tp_send(&t, &r.frame);
            if (rc != EK3_EFULL || tries > 1000)
                break;
            full++;
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
        if (rc == EK3_OK)
            sent++;
        else {
            fprintf(stderr, "%s:%lu: not sent: %s\n", file, lineno, ek3_strerror(rc));
            bad++;
        }
    }
    if (in != stdin)
        fclose(in);
    tp_close(&t);
    printf("replayed %lu frames onto %s in %.3f s (%lu lines skipped by interface, %lu bad, %lu waits for room)\n", sent,
           bus, (rp_now() - t0) * 1e-9, skipped, bad, full);
    return bad ? CLI_FAIL : CLI_OK;
}
