/* test_logs.c - logs as the field writes them, end to end: `ek3 can
 * decode` and `ek3 replay` read the same lines the same way (one reader),
 * replay reports what it cannot send and announces and caps long gaps,
 * and the logs the rig writes carry a real start time. */
#include <criterion/criterion.h>
#include "cli_run.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

#include "ek3_err.h"
#include "transport.h"


CLI_RUN_SUITE(logs, "ek3-logs");

/* A listening UDP endpoint for replay to send to; returns its port. */
static int listener(tp *rx)
{
    cr_assert_eq(tp_open(rx, "udp:@0"), EK3_OK);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    cr_assert_eq(getsockname(rx->fd, (struct sockaddr *)&sa, &sl), 0);
    return ntohs(sa.sin_port);
}

static unsigned drain(tp *rx, cfd_frame *got, unsigned max)
{
    unsigned n = 0;
    cfd_frame f;
    while (tp_poll(rx, 300) == 1)
        while (tp_recv(rx, &f) == EK3_OK)
            if (n < max)
                got[n++] = f;
    return n;
}

/* A log file `name` in the test's folder holding `text`; its path. */
static const char *log_of(const char *name, const char *text)
{
    const char *log = path(name);
    FILE *f = fopen(log, "w");
    cr_assert_not_null(f);
    cr_assert_geq(fputs(text, f), 0);
    cr_assert_eq(fclose(f), 0);
    return log;
}

/* Every kind of line current can-utils writes, in one log: FD frames with
 * the whole flag nibble (FDF set), a nanosecond stamp, remote requests
 * with a raw DLC, an error frame, a raw DLC on a classical frame,
 * DROPCOUNT, a comment, CRLF and blank lines, a line of 1 100 bytes; and
 * three bad lines: a NUL byte, garbage, a stamp beyond 2^63 ns. */
static void write_field_log(const char *name)
{
    FILE *f = fopen(name, "wb");
    cr_assert_not_null(f);
    fputs("(1700000000.000100) can0 044055FF##501032A00A40B6C024C1D820F00000000\n", f);          /* 1 */
    fputs("(1700000000.000200)   can0 044055FF##401032A00A40B6C024C1D820F00000100\r\n", f);    /* 2 */
    fputs("(1700000000.000300123) can0 123#R8_C\n", f);                                         /* 3 */
    fputs("(1700000000.000400) can0 20000080#0000000000000000\n", f);                           /* 4 */
    fputs("DROPCOUNT: dropped 2 CAN frames on 'can0' socket (total drops 2)\n", f);             /* 5 */
    fputs("(1700000000.000500) can0 7DF#0102030405060708_F T\n", f);                            /* 6 */
    fputs("\r\n", f);                                                                            /* 7 */
    fputs("# written by hand\n", f);                                                             /* 8 */
    fwrite("(1700000000.000600) can0 123#00\0junk\n", 1, 37, f);                                 /* 9: NUL */
    fputs("(1700000000.000700) can0 044055FF##701032A00A40B6C024C1D820F00000200", f);           /* 10 */
    for (int i = 0; i < 1030; i++)
        fputc(' ', f);
    fputs("\n", f);
    fputs("candump: not a frame\n", f);                                                          /* 11 */
    fputs("(9223372036.854775808) can0 123#00\n", f);                                           /* 12 */
    fputs("(1700000000.000800) can0 7DF#11", f);                                                /* 13: no newline */
    fclose(f);
}

/* `ek3 can decode` and `ek3 replay` read the same log through the same
 * reader: the same lines are bad, with the same numbers and columns
 * (before, replay cut lines at 511 bytes and miscounted the rest, and
 * the two disagreed on a NUL byte). */
Test(logs, decode_and_replay_read_every_line_the_same)
{
    static char dec[65536], rep[65536];
    const char *log = path("field.log");
    write_field_log(log);
    cr_assert_eq(run(dec, sizeof dec, "%s can decode %s", EK3_BIN, log), 1, "%s", dec);
    tp rx;
    int port = listener(&rx);
    cr_assert_eq(run(rep, sizeof rep, "%s replay %s --bus udp:127.0.0.1:%d --fast", EK3_BIN, log, port), 1, "%s", rep);
    cfd_frame got[32];
    unsigned n = drain(&rx, got, 32);
    static const char *const bad[] = {"field.log:9:32:", "field.log:11:1:", "field.log:12:2:"};
    for (unsigned i = 0; i < 3; i++) {
        cr_assert(strstr(dec, bad[i]), "decode names %s: %s", bad[i], dec);
        cr_assert(strstr(rep, bad[i]), "replay names %s: %s", bad[i], rep);
    }
    cr_assert(strstr(dec, "field.log:9:32: bad line: a NUL byte in the line"), "%s", dec);
    cr_assert(strstr(dec, "field.log:12:2: bad line: timestamp beyond 2^63 ns"), "%s", dec);
    cr_assert(strstr(dec, "field.log:5: candump lost 2 frames on 'can0' here (2 in all)"), "%s", dec);
    cr_assert(strstr(rep, "field.log:5: candump lost 2 frames on 'can0' here (2 in all)"), "%s", rep);
    cr_assert_eq(count(dec, ": bad line: "), 3u, "exactly three bad lines: %s", dec);
    /* decode: each frame, FDF or not, BRS, ESI, ns stamp, raw DLC, error class */
    cr_assert(strstr(dec, "(1700000000.000100) can0 044055FF MEDIUM HEARTBEAT 42->all [16] state=ACTIVE module=42 "
                          "power=2980W"), "%s", dec);
    cr_assert(strstr(dec, "(1700000000.000200) can0 044055FF MEDIUM HEARTBEAT"), "%s", dec);
    cr_assert(strstr(dec, "(1700000000.000300123) can0 123 not an EK3 frame (11-bit identifier, remote request) [8]"),
              "%s", dec);
    cr_assert(strstr(dec, "(1700000000.000400) can0 20000080 error frame: bus-error [8]"), "%s", dec);
    cr_assert(strstr(dec, "(1700000000.000700) can0 044055FF MEDIUM HEARTBEAT"), "the 1 100-byte line: %s", dec);
    cr_assert(strstr(dec, "(1700000000.000800) can0 7DF"), "the last line, without newline: %s", dec);
    cr_assert(strstr(dec, "7 frames decoded, 3 bad lines"), "%s", dec);
    cr_assert_eq(count(dec, "looks cut off"), 0u, "a sound last line without its newline is no cut: %s", dec);
    /* replay: the data frames went out, whole; the remote request and the
     * error frame did not, and were counted, so nothing the receivers
     * refuse was sent */
    cr_assert(strstr(rep, "replayed 5 frames"), "%s", rep);
    cr_assert(strstr(rep, "not sent: 2 frames (1 remote request, 1 error frame, 0 refused by the bus)"), "%s", rep);
    cr_assert(strstr(rep, "field.log:3: not sent: a remote request"), "%s", rep);
    cr_assert(strstr(rep, "field.log:4: not sent: an error frame"), "%s", rep);
    cr_assert(strstr(rep, "1 classical frame sent with DLC 8"), "%s", rep);
    cr_assert_eq(n, 5u, "frames that arrived: %u", n);
    cr_assert_eq(rx.st.malformed, 0u, "nothing the receiver refuses was sent");
    cr_assert_eq(got[0].flags, CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS, "##5: BRS, FDF");
    cr_assert_eq(got[1].flags, CFD_FLAG_EFF | CFD_FLAG_FD, "##4: FDF only");
    cr_assert_eq(got[2].flags, 0, "7DF classical");
    cr_assert_eq(got[2].len, 8);
    cr_assert_eq(got[3].flags, CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS | CFD_FLAG_ESI, "##7");
    cr_assert_eq(got[3].data[14], 0x02, "the long line's payload");
    cr_assert_eq(got[4].data[0], 0x11);
    tp_close(&rx);
}

/* Remote requests and error frames are not data frames: no transport
 * sends them (the UDP receivers refused them, and SocketCAN sent a
 * remote request as a data frame of zeros). */
Test(logs, transports_refuse_what_is_not_a_data_frame)
{
    tp rx, tx;
    int port = listener(&rx);
    char spec[64];
    snprintf(spec, sizeof spec, "udp:127.0.0.1:%d", port);
    cr_assert_eq(tp_open(&tx, spec), EK3_OK);
    cfd_frame f = {.id = 0x123, .flags = CFD_FLAG_RTR, .len = 8};
    cr_assert_eq(tp_send(&tx, &f), EK3_ERANGE, "remote request");
    f.flags = CFD_FLAG_ERR;
    cr_assert_eq(tp_send(&tx, &f), EK3_ERANGE, "error frame");
    f.flags = CFD_FLAG_BRS;
    cr_assert_eq(tp_send(&tx, &f), EK3_ERANGE, "BRS on a classical frame");
    f.flags = 0;
    cr_assert_eq(tp_send(&tx, &f), EK3_OK, "a classical data frame");
    cr_assert_eq(tx.st.tx_frames, 1u);
    cfd_frame got[4];
    cr_assert_eq(drain(&rx, got, 4), 1u);
    cr_assert_eq(rx.st.malformed, 0u);
    tp_close(&tx);
    tp_close(&rx);
}

/* A day-long gap is announced; --max-gap shortens it; timestamps that go
 * back are said so; --speed out of its range is a bad value. */
Test(logs, long_gaps_are_announced_and_capped)
{
    static char out[16384];
    const char *log = log_of("gap.log", "(1700000000.000000) can0 123#01\n"
                                        "(1700086400.000000) can0 123#02\n" /* a day later */
                                        "(1700086399.000000) can0 123#03\n" /* a second back */
                                        "(1700086399.100000) can0 123#04\n");
    tp rx;
    int port = listener(&rx);
    /* without a cap it waits the day, and says so at once */
    cr_assert_eq(run(out, sizeof out, "timeout 2 %s replay %s --bus udp:127.0.0.1:%d", EK3_BIN, log, port), 124,
                 "%s", out);
    const char *wait = strstr(out, "gap.log:2: waiting ");
    double s = 0;
    cr_assert(wait && sscanf(wait + 19, "%lf", &s) == 1 && s > 86399 && s <= 86400, "%s", out);
    cr_assert(strstr(out, " s for the next frame (a gap of 86400.000 s in the log; --max-gap shortens it)"), "%s", out);
    cfd_frame got[8];
    drain(&rx, got, 8);
    /* with one, it plays in well under the 10 s the timeout allows */
    cr_assert_eq(run(out, sizeof out, "timeout 10 %s replay %s --bus udp:127.0.0.1:%d --max-gap 0.5s", EK3_BIN, log,
                     port), 0, "%s", out);
    cr_assert(strstr(out, "gap.log:2: a gap of 86400.000 s in the log, played as 0.500 s (--max-gap)"), "%s", out);
    cr_assert(strstr(out, "gap.log:3: the timestamps go back 1.000000000 s here: played at once"), "%s", out);
    cr_assert(strstr(out, "replayed 4 frames"), "%s", out);
    cr_assert(strstr(out, "1 gap shortened by --max-gap, 1 step back in time played at once"), "%s", out);
    cr_assert_eq(drain(&rx, got, 8), 4u);
    cr_assert_eq(got[3].data[0], 0x04);
    tp_close(&rx);
    /* speeds that would overflow the schedule or play at full speed */
    static const char *const speeds[] = {"1e-300", "0", "-1", "1e300", "0.0009"};
    for (unsigned i = 0; i < 5; i++) {
        cr_assert_eq(run(out, sizeof out, "%s replay %s --bus udp:127.0.0.1:9 --speed %s", EK3_BIN, log, speeds[i]),
                     2, "--speed %s: %s", speeds[i], out);
        cr_assert(strstr(out, "--speed"), "%s", out);
    }
    cr_assert_eq(run(out, sizeof out, "%s replay %s --bus udp:127.0.0.1:9 --max-gap -1s", EK3_BIN, log), 2, "%s", out);
}

/* The rig's logs start at a real time, so that log2asc (which takes a
 * first timestamp of 0 s for "not set", and put every frame at 0.000000)
 * and the field's other tools keep the timing. */
Test(logs, rack_logs_carry_a_real_start_time)
{
    static char out[65536];
    const char *log = path("r.log"), *asc = path("r.asc");
    cr_assert_eq(run(out, sizeof out,
                     "%s rack --modules 1 --load 1kW --duration 1ms --log %s --log-start 1700000000.000100", EK3_BIN,
                     log), 0, "%s", out);
    FILE *f = fopen(log, "r");
    cr_assert_not_null(f);
    char line[512];
    cr_assert_not_null(fgets(line, sizeof line, f));
    fclose(f);
    cr_assert(!strncmp(line, "(1700000000.000100) hil0 ", 25), "%s", line);
    cr_assert(strstr(line, "##5"), "FD frames as Linux >= 6.0 and candump write them: %s", line);
    cr_assert_eq(run(out, sizeof out, "TZ=UTC log2asc -I %s -O %s hil0 can0 && cat %s", log, asc, asc), 0, "%s", out);
    cr_assert(strstr(out, "date Tue Nov 14 22:13:20 2023"), "%s", out);
    cr_assert(strstr(out, "   0.000100 CANFD"), "frames keep their spacing: %s", out);
    /* without --log-start: the wall clock at the run's start */
    time_t before = time(NULL);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --load 1kW --duration 1ms --log %s", EK3_BIN, log), 0,
                 "%s", out);
    time_t after = time(NULL);
    f = fopen(log, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(line, sizeof line, f));
    fclose(f);
    long long sec = atoll(line + 1);
    cr_assert(sec >= (long long)before && sec <= (long long)after, "%lld not in [%lld, %lld]: %s", sec,
              (long long)before, (long long)after, line);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --duration 1ms --log %s --log-start 1e9", EK3_BIN, log), 2,
                 "%s", out);
    cr_assert(strstr(out, "--log-start '1e9'"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --duration 1ms --log %s --log-start 9223372036", EK3_BIN,
                     log), 2, "%s", out);
}

/* A rack's log is in time order: a rack-bus frame that ends after the
 * quantum it started in is written after the next quantum's HIL frames,
 * not before them (it was, by up to a frame's length: canplayer and
 * `ek3 replay` met timestamps that go back). */
Test(logs, a_rack_log_is_in_time_order)
{
    static char out[65536];
    const char *log = path("order.log");
    cr_assert_eq(
        run(out, sizeof out, "%s rack --modules 4 --duration 0.3s --log %s --log-start 1700000000", EK3_BIN, log), 0,
        "%s", out);
    FILE *f = fopen(log, "r");
    cr_assert_not_null(f);
    char line[512];
    long long prev = -1, n = 0, can = 0, off_grid = 0;
    while (fgets(line, sizeof line, f)) {
        long long s = 0, us = 0;
        cr_assert_eq(sscanf(line, "(%lld.%lld)", &s, &us), 2, "%s", line);
        long long t = s * 1000000 + us;
        cr_assert_geq(t, prev, "line %lld goes back %lld us: %s", n + 1, prev - t, line);
        prev = t, n++;
        if (strstr(line, " can0 ")) {
            can++;
            off_grid += us % 100 != 0; /* ends inside a quantum: the lines around it are a quantum's start */
        }
    }
    fclose(f);
    cr_assert_gt(can, 20, "the station's and the modules' frames: %lld", can);
    cr_assert_gt(off_grid, 0);
    /* replayed as logged: no step back told */
    tp rx;
    int port = listener(&rx);
    cr_assert_eq(run(out, sizeof out, "%s replay %s --bus udp:127.0.0.1:%d --speed 1000", EK3_BIN, log, port), 0, "%s",
                 out);
    cr_assert_null(strstr(out, "go back"), "%s", out);
    tp_close(&rx);
}

/* `can encode --time` is decimal: the 1700000000.000100 printed
 * .000064 (read as octal). */
Test(logs, encode_writes_the_time_it_is_given)
{
    static char out[4096];
    cr_assert_eq(run(out, sizeof out, "%s can encode HEARTBEAT --src 42 --dst broadcast state=ACTIVE module=42 "
                                      "--time 1700000000.000100", EK3_BIN), 0, "%s", out);
    /* the frame, and (on stderr) the fields it sends as 0 because none was given */
    cr_assert(strstr(out, "(1700000000.000100) can0 044055FF##5") &&
                  strstr(out, "ek3 can encode: note: HEARTBEAT: power_w, temp_dc, vout_dv, iout_ma, health, seq not "
                              "given: sent as 0\n"),
              "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s can encode HEARTBEAT --src 42 --dst broadcast state=ACTIVE module=42 "
                                      "--time 1700000000.000000001", EK3_BIN), 0, "%s", out);
    cr_assert(strstr(out, "\n(1700000000.000000001) can0 "), "%s", out);
}

/* A step back of one nanosecond (a candump -N log) is said in
 * nanoseconds: it read "go back 0.000000 s". */
Test(logs, a_step_back_is_told_to_the_nanosecond)
{
    static char out[4096];
    const char *log = log_of("ns.log", "(1700000000.000000002) can0 123#01\n(1700000000.000000001) can0 123#02\n");
    tp rx;
    int port = listener(&rx);
    cr_assert_eq(run(out, sizeof out, "%s replay %s --bus udp:127.0.0.1:%d", EK3_BIN, log, port), 0, "%s", out);
    cr_assert(strstr(out, "ns.log:2: the timestamps go back 0.000000001 s here: played at once"), "%s", out);
    tp_close(&rx);
}

/* A replay the host cannot pace said nothing of it (16.8 s for 1.5 s
 * of log at --speed 100 on a loaded machine): 20 000 frames 1 us apart
 * at --speed 1000 are due within 20 us, and cannot all go out in the
 * first millisecond, so most are late, counted and the worst named; the
 * same log --fast has no times to keep. */
Test(logs, a_replay_that_falls_behind_says_so, .timeout = 120)
{
    static char out[65536];
    const char *log = path("dense.log");
    FILE *f = fopen(log, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 20000; i++)
        fprintf(f, "(1700000000.%06d) can0 123#%02X\n", i, i & 0xFF);
    fclose(f);
    tp rx;
    int port = listener(&rx);
    cr_assert_eq(run(out, sizeof out, "%s replay %s --bus udp:127.0.0.1:%d --speed 1000", EK3_BIN, log, port), 0, "%s",
                 out);
    unsigned long late = 0, sent = 0, line = 0;
    double worst = 0;
    const char *l = strstr(out, "late: ");
    cr_assert(l && sscanf(l,
                          "late: %lu of %lu frames went out 1 ms or more after their time, the worst %lf s late "
                          "(%*[^:]:%lu)",
                          &late, &sent, &worst, &line) == 4,
              "%s", out);
    cr_assert_eq(sent, 20000ul, "%s", out);
    cr_assert(late > 0 && late <= sent, "%s", out);
    cr_assert(worst >= 0.001, "%s", out);
    cr_assert(line > 1 && line <= 20000, "%s", out);
    cr_assert(strstr(out, "this host did not keep the pace of --speed 1000"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s replay %s --bus udp:127.0.0.1:%d --fast", EK3_BIN, log, port), 0, "%s", out);
    cr_assert_null(strstr(out, "late: "), "--fast keeps no times: %s", out);
    tp_close(&rx);
}

/* An --iface the log has no frame on played nothing and passed (exit 0,
 * "0 frames"); a directory as the log read as a read error after the
 * summary (exit 1); a SocketCAN bus this host lacks read "input/output
 * error". Each is said for what it is. */
Test(logs, a_replay_that_cannot_play_says_why)
{
    static char out[8192];
    const char *log = log_of("two.log", "(1700000000.000100) can0 123#01\n(1700000000.000200) hil0 124#02\n");
    tp rx;
    int port = listener(&rx);
    cr_assert_eq(run(out, sizeof out, "%s replay %s --bus udp:127.0.0.1:%d --fast --iface can9", EK3_BIN, log, port), 1,
                 "%s", out);
    cr_assert(strstr(out, "ek3 replay: --iface can9: no frame of "), "%s", out);
    cr_assert(strstr(out, " is on can9 (its frames are on can0, hil0): nothing played"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s replay %s --bus udp:127.0.0.1:%d --fast --iface hil0", EK3_BIN, log, port), 0,
                 "%s", out);
    cr_assert(strstr(out, "replayed 1 frame onto"), "%s", out);
    const char *adir = path("adir");
    mkdir(adir, 0755);
    cr_assert_eq(run(out, sizeof out, "%s replay %s --bus udp:127.0.0.1:%d", EK3_BIN, adir, port), 2, "%s", out);
    cr_assert(strstr(out, ": Is a directory") && !strstr(out, "replayed"), "%s", out);
    /* a log cut off mid-line: its last line is said to be cut (it read only "odd number of hex digits") */
    const char *cut = log_of("cut.log", "(1700000000.000100) can0 123#01\n(1700000000.000200) can0 124#0");
    cr_assert_eq(run(out, sizeof out, "%s replay %s --bus udp:127.0.0.1:%d --fast", EK3_BIN, cut, port), 1, "%s", out);
    cr_assert(strstr(out, "cut.log:2:31: odd number of hex digits in data (the log's last line, without its newline: "
                          "the log looks cut off here)"),
              "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s can decode %s", EK3_BIN, cut), 1, "%s", out);
    cr_assert(strstr(out, "cut.log:2:31: bad line: odd number of hex digits in data (the log's last line"), "%s", out);
    /* an empty log: said, and nothing played is exit 1 (decode printed nothing; replay 0 frames, exit 0) */
    const char *none = log_of("none.log", "");
    cr_assert_eq(run(out, sizeof out, "%s replay %s --bus udp:127.0.0.1:%d --fast", EK3_BIN, none, port), 1, "%s", out);
    cr_assert(strstr(out, "none.log: no frame in the log (0 lines): nothing played"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s can decode %s", EK3_BIN, none), 0, "%s", out);
    cr_assert(strstr(out, "none.log: no frame in the log (0 lines)"), "%s", out);
    /* a file of bad lines (a binary one gave 31 719 messages): the first 20 said, the rest counted */
    static char keep_log[600], keep_none[600], junk[2000]; /* path()'s buffer is used again below */
    snprintf(keep_log, sizeof keep_log, "%s", log);
    snprintf(keep_none, sizeof keep_none, "%s", none);
    log = keep_log, none = keep_none;
    for (int i = 0; i < 30; i++)
        strcat(junk, "junk\n");
    const char *bad = log_of("junk.log", junk);
    cr_assert_eq(run(out, sizeof out, "%s can decode %s", EK3_BIN, bad), 1, "%s", out);
    int shown = 0;
    for (const char *p = out; (p = strstr(p, "junk.log:")); p++)
        shown++;
    cr_assert_eq(shown, 20, "%s", out);
    cr_assert(strstr(out, "junk.log:20:1: bad line: not a candump line (a frame starts with '(', a comment with '#') "
                          "(further bad lines are only counted)") &&
                  strstr(out, "0 frames decoded, 30 bad lines or frames"),
              "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s replay %s --bus udp:127.0.0.1:%d --fast", EK3_BIN, bad, port), 1, "%s", out);
    shown = 0;
    for (const char *p = out; (p = strstr(p, "junk.log:")); p++)
        shown++;
    cr_assert(shown == 20 && strstr(out, "(further bad lines are only counted)") && strstr(out, ", 30 bad,"), "%s",
              out);
    /* a log whose time steps back: the span its frames cover counts the time forward (it read 0 s) */
    const char *back = log_of("back.log", "(1700000000.000000) can0 123#01\n(1700000001.000000) can0 123#02\n"
                                          "(5.000000) can0 123#03\n(6.500000) can0 123#04\n");
    cr_assert_eq(run(out, sizeof out, "%s replay %s --bus udp:127.0.0.1:%d --fast", EK3_BIN, back, port), 0, "%s", out);
    cr_assert(strstr(out, "replayed 4 frames onto udp:127.0.0.1:"), "%s", out);
    cr_assert(strstr(out, "covering 2.500000 s of the log"), "%s", out);
    /* decode's output on a full disk names that (it read "Input/output error") */
    cr_assert_eq(run(out, sizeof out, "{ %s can decode %s > /dev/full; }", EK3_BIN, log), 1, "%s", out);
    cr_assert(strstr(out, "ek3 can decode: write error on standard output: No space left on device"), "%s", out);
    /* a failure's own flush first (cli_fail): its errno, not a later EIO */
    cr_assert_eq(
        run(out, sizeof out, "{ %s replay %s --bus udp:127.0.0.1:%d --fast > /dev/full; }", EK3_BIN, none, port), 1,
        "%s", out);
    cr_assert(strstr(out, "ek3: write error on standard output: No space left on device"), "%s", out);
    tp_close(&rx);
    cr_assert_eq(run(out, sizeof out, "%s replay %s --bus ek3nosuchcan0", EK3_BIN, log), 1, "%s", out);
    cr_assert(strstr(out, "ek3 replay: ek3nosuchcan0: this kernel has no SocketCAN (socket(PF_CAN) failed") ||
                  strstr(out, "ek3 replay: ek3nosuchcan0: no such CAN interface (a virtual one: ip link add dev vcan0 "
                              "type vcan"),
              "%s", out);
}

/* Ctrl-C on a replay printed nothing: it prints what it sent so far (the
 * frames, the log time they cover, what was not sent) and ends as killed
 * by SIGINT, as the other commands do. */
Test(logs, sigint_stops_a_replay_with_its_summary, .timeout = 60)
{
    const char *log = path("long.log"), *sum = path("summary.txt");
    FILE *f = fopen(log, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 1000; i++) /* 100 frames a second: 10 s */
        fprintf(f, "(%d.%06d) can0 123#%02X\n", 1700000000 + i / 100, i % 100 * 10000, i & 0xFF);
    fputs("(1700000009.995000) can0 123#R\n", f); /* never reached: not counted */
    fclose(f);
    tp rx;
    int port = listener(&rx);
    char bus[64];
    snprintf(bus, sizeof bus, "udp:127.0.0.1:%d", port);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int o = open(sum, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1);
        dup2(o, 2);
        execl(EK3_BIN, "ek3", "replay", log, "--bus", bus, (char *)NULL);
        _exit(127);
    }
    /* a few frames out, then Ctrl-C */
    cfd_frame fr;
    unsigned got = 0;
    while (got < 20 && tp_poll(&rx, 5000) == 1)
        while (tp_recv(&rx, &fr) == EK3_OK)
            got++;
    cr_assert_geq(got, 20u, "the replay started");
    cr_assert_eq(kill(pid, SIGINT), 0);
    int status = 0;
    for (int i = 0; i < 500 && waitpid(pid, &status, WNOHANG) != pid; i++)
        usleep(10000);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT, "ends as killed by SIGINT (0x%x)", status);
    cfd_frame rest[1000];
    got += drain(&rx, rest, 1000);
    tp_close(&rx);
    static char out[8192];
    f = fopen(sum, "r");
    cr_assert_not_null(f);
    out[fread(out, 1, sizeof out - 1, f)] = 0;
    fclose(f);
    cr_assert(strstr(out, "INTERRUPTED by SIGINT after "), "%s", out);
    unsigned long sent = 0;
    double covered = -1;
    const char *r = strstr(out, "replayed ");
    cr_assert(r && sscanf(r, "replayed %lu frames onto %*s in %*f s, covering %lf s of the log", &sent, &covered) == 2,
              "%s", out);
    cr_assert_eq(sent, got, "the summary counts the frames that went out (%u): %s", got, out);
    cr_assert(sent < 1000, "stopped before the end: %s", out);
    /* 100 frames a second: frame k is at k / 100 s */
    cr_assert(covered > (sent - 1) / 100.0 - 1e-6 && covered < (sent - 1) / 100.0 + 1e-6, "%lu frames cover %.6f s: %s",
              sent, covered, out);
    cr_assert_null(strstr(out, "not sent"), "%s", out);
}

/* A rack log's signed frames are read back with the key the run prints
 * (the rig's development key of its seed): every one "auth ok". */
Test(logs, the_rack_key_a_log_run_prints_checks_its_frames)
{
    static char out[65536];
    const char *log = path("k.log");
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 2 --load 2kW --duration 0.1s --seed 7 --log %s",
                     EK3_BIN, log), 0, "%s", out);
    const char *k = strstr(out, "--key ");
    cr_assert_not_null(k, "the key is printed: %s", out);
    char key[33];
    cr_assert_eq(sscanf(k + 6, "%32s", key), 1);
    cr_assert_eq(strlen(key), 32u, "%s", key);
    cr_assert_eq(run(out, sizeof out, "%s can decode %s --key %s | grep -c 'auth ok'; %s can decode %s --key %s | "
                                      "grep -c 'auth BAD'",
                     EK3_BIN, log, key, EK3_BIN, log, key),
                 1 /* grep -c of nothing exits 1 */, "%s", out);
    int ok = 0, bad = -1;
    cr_assert_eq(sscanf(out, "%d %d", &ok, &bad), 2, "%s", out);
    cr_assert_gt(ok, 0, "signed frames checked: %s", out);
    cr_assert_eq(bad, 0, "none fails its tag: %s", out);
}
