/* cmd_replay.c - `ek3 replay`: play a candump log back onto a bus. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "candump.h"
#include "cli.h"
#include "cmd.h"
#include "ek3_err.h"
#include "transport.h"

#define RP_SPEED_MIN 1e-3
#define RP_SPEED_MAX 1e3
#define RP_ANNOUNCE_NS 1000000000LL /* a wait this long or longer is announced */
#define RP_LIST_MAX 10u             /* frames not sent: this many are named, then counted */
#define RP_LATE_NS 1000000LL        /* a frame sent this long or longer after its time is late */

static int64_t rp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int rp_usage(void)
{
    puts("usage: ek3 replay FILE|- --bus SPEC [--iface NAME] [--speed 1 | --fast] [--max-gap T]\n\n"
         "Play a candump log (candump -l format; what ek3 rack --log writes) back onto\n"
         "a bus: udp:HOST:PORT or a SocketCAN interface. Frames keep their recorded\n"
         "spacing (--speed 2: twice as fast, 0.001 to 1000; --fast: back to back).\n"
         "A wait of a second or more is announced; --max-gap 1s shortens every longer\n"
         "gap to 1 s; timestamps that go back are played at once, and said so.\n"
         "--iface plays only the frames recorded on that interface (hil0, can0);\n"
         "one that no frame is on plays nothing and exits 1, naming those the log has.\n"
         "A line that does not parse is reported as FILE:LINE:COLUMN and skipped;\n"
         "remote requests and error frames are not sent (EK3's transports carry data\n"
         "frames only): each is reported and counted. Either makes the exit code 1.\n"
         "Frames sent 1 ms or more after their time (a host that cannot keep the\n"
         "pace) are counted and the worst named: the log's spacing was not kept there.\n"
         "Ctrl-C or SIGTERM stops it between frames: it prints the summary of what\n"
         "was played (frames sent, not sent, the log time covered) and ends as\n"
         "killed by that signal.");
    return CLI_OK;
}

/* Why a frame cannot go onto an EK3 transport, or NULL. */
static const char *rp_unsendable(const cfd_frame *f)
{
    if (f->flags & CFD_FLAG_ERR)
        return "an error frame (a controller's report, not a frame to send)";
    if (f->flags & CFD_FLAG_RTR)
        return "a remote request";
    return NULL;
}

int cmd_replay(int argc, char **argv)
{
    const char *w = "replay", *file = NULL, *bus = NULL, *iface = NULL;
    double speed = 1.0, max_gap_s = -1;
    int fast = 0;
    const char *miss = NULL;
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            return rp_usage();
        } else if (cli_once(w, &seen, a, NULL)) {
            return CLI_USAGE;
        } else if (!strcmp(a, "--bus") && cli_has_value(a, v, &miss)) {
            bus = v, i++;
        } else if (!strcmp(a, "--iface") && cli_has_value(a, v, &miss)) {
            iface = v, i++;
        } else if (!strcmp(a, "--speed") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "", &speed) || !(speed >= RP_SPEED_MIN && speed <= RP_SPEED_MAX))
                return cli_usage_error(w, "--speed '%s': a factor from 0.001 to 1000", v);
            i++;
        } else if (!strcmp(a, "--max-gap") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "s", &max_gap_s) || !(max_gap_s >= 0 && max_gap_s <= 86400))
                return cli_time_error(w, "--max-gap", v, "from 0 s to a day", 86400);
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
    if (cli_exclusive(w, &seen, "--fast", "--speed",
                      "--fast sends the frames back to back, without the recorded spacing that --speed scales") ||
        cli_exclusive(w, &seen, "--fast", "--max-gap", "--fast sends the frames back to back: it leaves no gap to shorten"))
        return CLI_USAGE;
    FILE *in = cli_open_in(file);
    if (!in) /* an input that cannot be opened is a bad value, as every command's (exit 2) */
        return cli_usage_error(w, "%s: %s", file, strerror(errno));
    const char *label = strcmp(file, "-") ? file : "<stdin>";
    cdl_reader rd;
    if (cdl_reader_init(&rd, in)) {
        if (in != stdin)
            fclose(in);
        return cli_fail(w, "out of memory");
    }
    tp t;
    int rc = tp_open(&t, bus);
    if (rc) {
        cdl_reader_free(&rd);
        if (in != stdin)
            fclose(in);
        if (rc == EK3_EPARSE || rc == EK3_ERANGE || rc == EK3_EINVAL)
            return cli_usage_error(w, "--bus '%s': %s", bus, tp_spec_why(bus, rc));
        return cli_fail(w, "%s: %s", bus, tp_spec_why(bus, rc));
    }
    /* The schedule: frame k is due at t0 + played / speed, where `played`
     * is the log time since the first frame with every gap clamped to
     * [0, max_gap * speed]. Sums saturate; nothing here can overflow. */
    int64_t max_gap_log = max_gap_s < 0 ? INT64_MAX : (int64_t)(max_gap_s * 1e9 * speed);
    int64_t t0 = rp_now(), prev_tl = -1, played = 0, span = 0;
    unsigned long sent = 0, bad = 0, skipped = 0, full = 0, lost = 0, capped = 0, back = 0, raw_dlc = 0;
    unsigned long unsent_rtr = 0, unsent_err = 0, unsent_bus = 0;
    unsigned long late = 0, late_line = 0; /* frames sent RP_LATE_NS or more after their time; the worst's line */
    int64_t late_max = 0, due = 0;
    char ifs[8][CDL_IFNAME_MAX]; /* the interfaces --iface skipped, to name when it matched none */
    unsigned nifs = 0;
    /* Ctrl-C or SIGTERM stops the replay between frames (a wait is cut
     * short): the summary covers what was played, then cli_finish ends
     * the process as killed by the signal. */
    cli_catch_stop();
    unsigned long upto = 0; /* the last line handled, when stopped */
    cdl_line ln;
    int got = 0;
    while (!cli_stop_requested() && (got = cdl_read(&rd, &ln)) == 1) {
        unsigned long lineno = rd.lineno;
        upto = lineno;
        if (ln.kind == CDL_BLANK || ln.kind == CDL_COMMENT)
            continue;
        if (ln.kind == CDL_DROPCOUNT) {
            fprintf(stderr, "%s:%lu: candump lost %" PRIu32 " frame%s on '%.*s' here (%" PRIu32 " in all)\n", label,
                    lineno, ln.dropped, ln.dropped == 1 ? "" : "s", (int)ln.drop_if_len, ln.drop_if, ln.total);
            lost += ln.dropped;
            continue;
        }
        if (ln.kind == CDL_BAD) {
            if (++bad <= CDL_BAD_SHOWN)
                fprintf(stderr, "%s:%lu:%u: %s%s%s\n", label, lineno, ln.col + 1, ln.why, cdl_cut_note(&rd),
                        cdl_bad_more(bad));
            continue;
        }
        const cdl_record *r = &ln.rec;
        if (iface && strcmp(r->ifname, iface)) {
            unsigned j = 0;
            while (j < nifs && strcmp(ifs[j], r->ifname))
                j++;
            if (j == nifs && nifs < 8)
                memcpy(ifs[nifs++], r->ifname, CDL_IFNAME_MAX);
            skipped++;
            continue;
        }
        int64_t tl = cdl_time_ns(r);
        if (prev_tl < 0)
            prev_tl = tl;
        int64_t gap = tl - prev_tl; /* both in [0, 2^63): no overflow */
        prev_tl = tl;
        int64_t fwd = gap > 0 ? gap : 0; /* the log's time this frame adds to the span, a step back none */
        if (gap < 0) {
            if (!fast && ++back)
                fprintf(stderr, "%s:%lu: the timestamps go back %.9f s here: played at once\n", label, lineno,
                        -gap * 1e-9);
            gap = 0;
        } else if (gap > max_gap_log) {
            if (!fast && ++capped)
                fprintf(stderr, "%s:%lu: a gap of %.3f s in the log, played as %.3f s (--max-gap)\n", label, lineno,
                        gap * 1e-9, max_gap_s);
            gap = max_gap_log;
        }
        played = gap > INT64_MAX - played ? INT64_MAX : played + gap;
        if (!fast) {
            double due_d = (double)t0 + (double)played / speed;
            due = due_d >= 9e18 ? (int64_t)9e18 : (int64_t)due_d;
            int64_t wait = due - rp_now();
            if (wait >= RP_ANNOUNCE_NS)
                fprintf(stderr, "%s:%lu: waiting %.3f s for the next frame (a gap of %.3f s in the log%s)\n", label,
                        lineno, wait * 1e-9, gap * 1e-9, max_gap_s < 0 ? "; --max-gap shortens it" : "");
            struct timespec ts = {due / 1000000000, due % 1000000000};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !cli_stop_requested())
                ;
            if (cli_stop_requested()) {
                upto = lineno - 1; /* this frame was not yet due: not sent */
                break;
            }
        }
        span = fwd > INT64_MAX - span ? INT64_MAX : span + fwd;
        const char *no = rp_unsendable(&r->frame);
        if (no) {
            unsigned long *n = (r->frame.flags & CFD_FLAG_ERR) ? &unsent_err : &unsent_rtr;
            if (++*n <= RP_LIST_MAX)
                fprintf(stderr, "%s:%lu: not sent: %s; EK3's transports carry data frames only%s\n", label, lineno, no,
                        *n == RP_LIST_MAX ? " (further ones are only counted)" : "");
            continue;
        }
        for (int tries = 0;; tries++) {
            rc = tp_send(&t, &r->frame);
            if (rc != EK3_EFULL || tries > 1000)
                break;
            full++;
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
        if (rc == EK3_OK) {
            sent++;
            raw_dlc += r->raw_dlc != 0;
            int64_t behind = fast ? 0 : rp_now() - due;
            if (behind >= RP_LATE_NS && ++late && behind > late_max) {
                late_max = behind;
                late_line = lineno;
            }
        } else if (++unsent_bus <= RP_LIST_MAX) {
            fprintf(stderr, "%s:%lu: not sent: %s%s\n", label, lineno, ek3_strerror(rc),
                    unsent_bus == RP_LIST_MAX ? " (further ones are only counted)" : "");
        }
    }
    int read_err = got == EK3_EIO ? rd.err : 0;
    unsigned long lines = rd.lineno;
    cdl_reader_free(&rd);
    if (in != stdin)
        fclose(in);
    tp_close(&t);
    int sig = cli_stop_requested();
    if (sig)
        printf("INTERRUPTED by %s after %s:%lu: the frames up to there were played, none after\n",
               sig == SIGINT ? "SIGINT" : "SIGTERM", label, upto);
    printf("replayed %lu frame%s onto %s in %.3f s, covering %.6f s of the log (%lu line%s skipped by interface, "
           "%lu bad, %lu wait%s for room)\n",
           sent, sent == 1 ? "" : "s", bus, (rp_now() - t0) * 1e-9, span * 1e-9, skipped, skipped == 1 ? "" : "s", bad,
           full, full == 1 ? "" : "s");
    unsigned long unsent = unsent_rtr + unsent_err + unsent_bus;
    if (unsent)
        printf("not sent: %lu frame%s (%lu remote request%s, %lu error frame%s, %lu refused by the bus)\n", unsent,
               unsent == 1 ? "" : "s", unsent_rtr, unsent_rtr == 1 ? "" : "s", unsent_err, unsent_err == 1 ? "" : "s",
               unsent_bus);
    if (raw_dlc)
        printf("%lu classical frame%s sent with DLC 8 instead of their raw DLC 9..15 (the transports carry the "
               "length)\n", raw_dlc, raw_dlc == 1 ? "" : "s");
    if (capped || back)
        printf("timing changed: %lu gap%s shortened by --max-gap, %lu step%s back in time played at once\n", capped,
               capped == 1 ? "" : "s", back, back == 1 ? "" : "s");
    if (late)
        printf("late: %lu of %lu frame%s went out 1 ms or more after their time, the worst %.3f s late (%s:%lu): "
               "this host did not keep the pace of --speed %g\n",
               late, sent, sent == 1 ? "" : "s", late_max * 1e-9, label, late_line, speed);
    if (lost)
        printf("candump's DROPCOUNT lines say %lu frame%s never reached the log\n", lost, lost == 1 ? "" : "s");
    if (read_err)
        return cli_fail(w, "%s: read error after line %lu: %s", label, lines, strerror(read_err));
    if (iface && skipped && !sent && !unsent && !sig) {
        char names[8 * (CDL_IFNAME_MAX + 2)] = "";
        for (unsigned j = 0; j < nifs; j++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", j ? ", " : "", ifs[j]);
        return cli_fail(w, "--iface %s: no frame of %s is on %s (its frames are on %s%s): nothing played", iface, label,
                        iface, names, nifs == 8 ? ", ..." : "");
    }
    if (!sent && !unsent && !skipped && !bad && !sig) /* an empty log, or one of comments: said, as --iface's */
        return cli_fail(w, "%s: no frame in the log (%lu line%s): nothing played", label, lines, lines == 1 ? "" : "s");
    return bad || unsent || sig ? CLI_FAIL : CLI_OK;
}
