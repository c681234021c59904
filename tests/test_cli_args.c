/* test_cli_args.c - the ek3 command line's numbers and arguments, and its
 * outputs: numbers are decimal unless written 0x, every option without its
 * value is named, values are range-checked instead of wrapping or being
 * cut, write errors are reported with their reason and a non-zero exit,
 * SIGINT/SIGTERM stop `ek3 rack` cleanly, and the protection VCD's times
 * are what its $timescale says (issue 10, sections 2 and 3). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include "cli_run.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ek3_err.h"


#define KEY "000102030405060708090a0b0c0d0e0f"

CLI_RUN_SUITE(cli_args, "ek3-args");

/* ---- 2. numbers -------------------------------------------------------- */

Test(cli_args, numbers_are_decimal_unless_written_0x)
{
    uint64_t v = 0;
    cr_assert_eq(cli_parse_u64("042", 511, &v), EK3_OK);
    cr_assert_eq(v, 42, "042 is 42, not octal 34");
    cr_assert_eq(cli_parse_u64("08", 511, &v), EK3_OK);
    cr_assert_eq(v, 8);
    cr_assert_eq(cli_parse_u64("0x2A", 511, &v), EK3_OK);
    cr_assert_eq(v, 42);
    cr_assert_eq(cli_parse_u64("0x", 511, &v), EK3_EPARSE);
    cr_assert_eq(cli_parse_u64("0x-1", 511, &v), EK3_EPARSE);
    cr_assert_eq(cli_parse_u64("512", 511, &v), EK3_ERANGE);
    cr_assert_eq(cli_parse_u64("99999999999999999999999", UINT64_MAX, &v), EK3_ERANGE);
    int64_t s = 0;
    cr_assert_eq(cli_parse_i64("-010", -100, 100, &s), EK3_OK);
    cr_assert_eq(s, -10);
    /* Signed numbers keep the same rule: 0x is hexadecimal everywhere. */
    cr_assert_eq(cli_parse_i64("0x4", 1, 510, &s), EK3_OK);
    cr_assert_eq(s, 4);
    cr_assert_eq(cli_parse_i64("-0x10", -100, 100, &s), EK3_OK);
    cr_assert_eq(s, -16);
    cr_assert_eq(cli_parse_i64("--5", -100, 100, &s), EK3_EPARSE);
    cr_assert_eq(cli_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &s), EK3_OK);
    cr_assert_eq(s, INT64_MIN);
    cr_assert_eq(cli_parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &s), EK3_ERANGE);

    /* The issue's three examples, end to end. */
    static char out[8192];
    const char *log = path("t.log");
    cr_assert_eq(run(out, sizeof out,
                     "%1$s can encode POWER_CMD --src 0 --dst 042 op=SET power_w=03000 vset_dv=7500 ilim_ma=4000 "
                     "--key " KEY " --time 1700000000.000100 > %2$s && %1$s can decode %2$s",
                     EK3_BIN, log),
                 0, "%s", out);
    cr_assert(strstr(out, "(1700000000.000100) can0 0260002A "), "microseconds .000100 and slot 42: %s", out);
    cr_assert(strstr(out, "0->42") && strstr(out, "power=3000W"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s can id --prio HIGH --type POWER_CMD --src 0 --dst 0x2A", EK3_BIN), 0);
    cr_assert_str_eq(out, "0x0260002A\n");
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 0x4 --load 1kW --duration 1ms", EK3_BIN), 0, "%s", out);
    cr_assert(strstr(out, "EK3 rack: 4 modules"), "%s", out);
}

/* A resistance as people write it: ohm in any case, or its symbol; any
 * other unit keeps to its own spelling. */
Test(cli_args, the_ohm_is_read_in_any_case_and_as_its_symbol)
{
    static const struct {
        const char *s;
        double v;
    } ok[] = {{"28", 28},        {"28ohm", 28},        {"28Ohm", 28},          {"28 OHM", 28},
              {"2.5kOhm", 2500}, {"50mohm", 0.05},     {"50 mOhm", 0.05},      {"10\u2126", 10},
              {"10k\u03a9", 1e4}};
    double v;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cr_assert_eq(cli_parse_quantity(ok[i].s, "ohm", &v), EK3_OK, "%s", ok[i].s);
        cr_assert_float_eq(v, ok[i].v, 1e-12 * ok[i].v, "%s: %g", ok[i].s, v);
    }
    cr_assert_eq(cli_parse_quantity("28kV", "ohm", &v), EK3_EPARSE);
    cr_assert_eq(cli_parse_quantity("28ohms", "ohm", &v), EK3_EPARSE);
    cr_assert_eq(cli_parse_quantity("5V", "v", &v), EK3_EPARSE, "other units keep their case");
    static char out[8192];
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 2 --load-ohm 28Ohm --duration 1ms", EK3_BIN), 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 2 --load-ohm 28kV --duration 1ms", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--load-ohm '28kV': a resistance, 1 mohm to 1 Gohm (28, 28ohm, 2.5kOhm; a short of the bus "
                          "is the fault short:rack): not a resistance: 'kV' is not ohm\n"),
              "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 2 --load-ohm 0Ohm --duration 1ms", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--load-ohm '0Ohm': a resistance, 1 mohm to 1 Gohm (28, 28ohm, 2.5kOhm; a short of the bus "
                          "is the fault short:rack): 0 ohm is outside it\n"),
              "%s", out);
    /* the range a scenario's ohm= takes, 1 mohm included (1e-9 below: it took it, a short the rack's load is not) */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 2 --load-ohm 1mohm --duration 1ms", EK3_BIN), 0, "%s", out);
    /* its ask in MW (it read "533333.3 kW") */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 2 --load-ohm 1mohm --duration 1ms --load-at 0s --load-ramp 0s",
                     EK3_BIN),
                 0, "%s", out);
    cr_assert(strstr(out, "warning: the load asks 533.3 MW, but 2 modules deliver at most 5.8 kW,"), "%s", out);
    /* why a voltage, a droop or a resistance is refused (they gave the range alone: "--vset 'abc': 200 to 920 V") */
    static const struct {
        const char *args, *says;
    } why[] = {
        {"--vset abc", "--vset 'abc': 200 to 920 V (the module's range): not a voltage\n"},
        {"--vset ''", "--vset '': 200 to 920 V (the module's range): empty\n"},
        {"--vset '750 '", "--vset '750 ': 200 to 920 V (the module's range): a space before or after the number\n"},
        {"--vset 920.0000001", "--vset '920.0000001': 200 to 920 V (the module's range): 920.0000001 V is outside "
                               "it\n"},
        {"--vset 1000", "--vset '1000': 200 to 920 V (the module's range): 1000 V is outside it\n"},
        {"--vset 750kv", "--vset '750kv': 200 to 920 V (the module's range): not a voltage: the unit is V (750kV)\n"},
        {"--droop inf", "--droop 'inf': V/A, above 0 and up to 100: not a droop: not a finite number\n"},
        {"--load-ohm 1e400", "--load-ohm '1e400': a resistance, 1 mohm to 1 Gohm (28, 28ohm, 2.5kOhm; a short of the "
                             "bus is the fault short:rack): not a resistance: too large for a double (above about "
                             "1e308)\n"},
        {"--load-ohm 1e-9", "--load-ohm '1e-9': a resistance, 1 mohm to 1 Gohm (28, 28ohm, 2.5kOhm; a short of the "
                            "bus is the fault short:rack): 1e-09 ohm is outside it\n"},
    };
    for (size_t i = 0; i < sizeof why / sizeof why[0]; i++) {
        cr_assert_eq(run(out, sizeof out, "%s rack --modules 2 %s --duration 1ms", EK3_BIN, why[i].args), 2, "%s", out);
        cr_assert(strstr(out, why[i].says), "%s: %s", why[i].args, out);
    }
}

/* A prefix scales the number as its decimal text reads: 1234.56 ms is
 * the double 1.23456 s is (not 1234.56 * 1e-3, one rounding more), so a
 * time given in two units compares as written (a pull and an insert at
 * one time were refused as an insert before the pull) and is echoed as
 * typed, not as 1.2345599999999999 s. */
Test(cli_args, a_prefix_scales_the_decimal_text_not_the_double)
{
    static const struct {
        const char *a, *b;
    } same[] = {
        {"1234.56ms", "1.23456s"},  {"1500.05 ms", "1.50005 s"}, {"0.3ms", "300us"}, {"1.23456e3ms", "1.23456s"},
        {"123456e-2ms", "1.23456"}, {"2.9kV", "2900V"},          {"0.07GV", "7e7"},  {"1E3ms", "1s"}};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        double a, b;
        const char *unit = strchr(same[i].a, 'V') ? "V" : "s";
        cr_assert_eq(cli_parse_quantity(same[i].a, unit, &a), EK3_OK, "%s", same[i].a);
        cr_assert_eq(cli_parse_quantity(same[i].b, unit, &b), EK3_OK, "%s", same[i].b);
        cr_assert(a == b, "%s is %.17g, %s %.17g", same[i].a, a, same[i].b, b);
    }
    double v;
    cr_assert_eq(cli_parse_quantity("1e308G", "V", &v), EK3_EPARSE, "scaled past the largest double");
    cr_assert_eq(cli_parse_quantity("0x10ms", "s", &v), EK3_OK, "hexadecimal: multiplied");
    cr_assert_float_eq(v, 0.016, 1e-18);
    static char out[8192];
    cr_assert_eq(
        run(out, sizeof out, "%s rack --modules 8 --duration 2s --pull 3@1.23456s --fault insert:3@1234.56ms", EK3_BIN),
        0, "the pull and the insert at one time: %s", out);
    cr_assert(strstr(out, "fault injected at 1.2346 s: insert:3@1.23456s"), "the time as typed: %s", out);
    /* beyond a double: said so, not blamed on the unit or its case */
    cr_assert_eq(run(out, sizeof out, "%s rack --pull 3@1e306ks", EK3_BIN), 2, "%s", out);
    cr_assert(
        strstr(out,
               "'1e306ks': a time (2s, 150ms, 100us, 5min, 1h) from 0 up to a day: too large for a double once its "
               "prefix scales it (above about 1e308)\n"),
        "%s", out);
    /* mega- and gigaseconds: someone meant milliseconds */
    cr_assert_eq(run(out, sizeof out, "%s rack --pull 3@1.5Ms", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, ": M is mega (1e6), not milli: write 1.5ms for milliseconds\n"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --pull LEADER@1s", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "or leader (in lower case)\n"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --pull 3@1e-400s", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, ": too small for a double (under about 1e-308, other than 0)\n"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --fault igf:1@0.5s:i=1e306kA", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "ek3 rack: --fault 'igf:1@0.5s:i=1e306kA': parameter i='1e306kA': too large for a double "
                          "once its prefix scales it"),
              "%s", out);
}

/* `ek3 <args>` is refused as a usage error (exit 2) and its message holds
 * `expected`. */
static void refused(const char *args, const char *expected)
{
    static char out[8192];
    cr_assert_eq(run(out, sizeof out, "%s %s", EK3_BIN, args), 2, "ek3 %s: %s", args, out);
    cr_assert(strstr(out, expected), "ek3 %s: expected '%s' in: %s", args, expected, out);
}

/* A power in the wrong case says which letter (cli_quantity_hint). */
Test(cli_args, a_power_in_the_wrong_case_names_the_letter)
{
    refused("rack --modules 2 --load 20kw --duration 1ms",
            "--load '20kw': a power such as 200kW: the unit is W (20kW)");
    refused("rack --modules 2 --load 20KW --duration 1ms",
            "--load '20KW': a power such as 200kW: kilo is a lower-case k (20kW)");
    refused("rack --modules 2 --load 2mw --duration 1ms", "the unit is W (2mW is milli, 2MW mega)");
    /* another unit: no case hint */
    refused("rack --modules 2 --load 20kV --duration 1ms",
            "--load '20kV': 'kV' is not a unit of power: a power such as 200kW (W, kW, MW)\n");
}

/* A value out of range, or of the wrong kind, says which way and why. */
Test(cli_args, a_value_out_of_range_says_which_way)
{
    refused("rack --modules 2 --load 19MW --duration 1ms",
            "--load '19MW': the power a load draws, 0 W to 10 MW: 19 MW is above it\n");
    refused("rack --modules 2 --load -5kW --duration 1ms",
            "--load '-5kW': the power a load draws, 0 W to 10 MW: -5 kW is negative\n");
    /* cli_time_error, on every time flag */
    refused("rack --modules 2 --duration 5m", "up to a day: milli or minutes? write ms or min\n");
    refused("rack --modules 2 --duration -1s", "up to a day: -1 s is negative\n");
    refused("rack --modules 2 --duration 50us", "up to a day: 50 us is outside it\n");
    refused("rack --modules 2 --load-ramp abc", "--load-ramp 'abc': " CLI_TIME " from 0 up to a day: not a time\n");
    refused("rack --modules 2 --duration 1S", "up to a day: units are lower case (1s, 1ms)\n");
    refused("rack --modules 2 --duration 2d", "up to a day: 'd' is not a unit of time (s, ms, us, ns, min, h)\n");
    refused("rack --modules 2 --duration nan", "up to a day: not a finite number\n");
    refused("rack --modules 2 --duration 1.2.3s",
            "up to a day: not one number and a unit: the number read ends before '.3s'\n");
    refused("rack --modules 2 --fault bus-cut:1@1e5e3s",
            "up to a day: not one number and a unit: the number read ends before 'e3s'\n");
    refused("rack --modules 2 --fault 'bus-cut:1@ 1s'", "time ' 1s': " CLI_TIME " from 0 up to a day: a blank before "
                                                        "the number\n");
    refused("rack --modules 2 --fault bus-cut:1@2days",
            "fault 'bus-cut:1@2days': time '2days': " CLI_TIME
            " from 0 up to a day: 'days' is not a unit of time (s, ms, us, ns, min, h)\n");
    refused("rack --modules 2 --fault bus-cut:1@-1s",
            "time '-1s': " CLI_TIME " from 0 up to a day: -1 s is negative\n");
    refused("rack --realtime --rt-tolerance -1us",
            "--rt-tolerance '-1us': " CLI_TIME_SHORT " from 1 us to the quantum, 100 us: -1 us is negative\n");
    refused("rack --realtime --rt-spin 101us",
            "--rt-spin '101us': " CLI_TIME_SHORT
            " of 0 (sleep only) or from 1 us to the quantum, 100 us: 101 us is outside it\n");
    refused("audit dump x --duration 5m", "--duration '5m': " CLI_TIME " above 0 and up to an hour: milli or minutes?");
    /* the trace's window and pace: why, as every time flag says it (they said only their range) */
    refused("rack --trace-csv /tmp/ek3-x.csv --from 2days",
            "--from '2days': " CLI_TIME " of the run, from 0 up to a day: 'days' is not a unit of time (s, ms, us, ns, "
            "min, h)\n");
    refused("rack --trace-csv /tmp/ek3-x.csv --to -1s",
            "--to '-1s': " CLI_TIME " of the run, from 0 up to a day: -1 s is negative\n");
    refused("rack --trace-csv /tmp/ek3-x.csv --probe-every 1.2.3ms",
            "--probe-every '1.2.3ms': " CLI_TIME " of whole control periods (100us), up to an hour: not one number and "
            "a unit: the number read ends before '.3ms'\n");
    refused("rack --trace-csv /tmp/ek3-x.csv --probe-every 150us",
            "--probe-every '150us': a whole number of control periods (100us), up to an hour, e.g. 1ms: it is 1.5 "
            "periods\n");
    refused("faults nosuch", "no fault named 'nosuch' (ek3 faults lists them)\n"); /* none near: no list */
    refused("faults IGF", "no fault named 'IGF': fault names are lower case (ek3 faults igf)");
    refused("api udp:127.0.0.1:99999 module 42 3000", "'udp:127.0.0.1:99999': the station's port must be 1 to 65535");
    refused("api udp:127.0.0.1:0 module 42 3000", "'udp:127.0.0.1:0': the station's port must be 1 to 65535");
    refused("can id 0x1FFFFFFFF", "'0x1FFFFFFFF' does not fit in 29 bits"); /* a number, too big: not "not a number" */
    refused("can encode POWER_CMD --src 0 --dst 42 op=SET power_w=3000",
            "POWER_CMD: vset_dv is not given, and 0 is out of its range 2000..9200 (give vset_dv=VALUE)");
}

/* ---- 2. arguments ------------------------------------------------------ */

Test(cli_args, an_option_without_its_value_is_named_in_every_subcommand)
{
    static char out[8192];
    static const char *const cases[][2] = {
        {"rack --modules", "--modules needs a value"},
        {"rack --modules 4 --realtime --rt-spin", "--rt-spin needs a value"},
        {"rack --modules 4 --log --realtime", "--log needs a value"},
        {"rack --api", "--api needs a value"},
        {"plant params --set", "--set needs a value"},
        {"plant run --duration", "--duration needs a value"},
        {"plant run --fsw", "--fsw needs a value"},
        {"plant sweep --loads", "--loads needs a value"},
        {"fw --module 1 --bus", "--bus needs a value"},
        {"api udp:127.0.0.1:9 status --key", "--key needs a value"},
        {"replay x.log --bus", "--bus needs a value"},
        {"can encode POWER_CMD --src 0 --dst 1 --if --time 5", "option '--if' needs a value"},
        {"can encode HEARTBEAT --src 1 --dst 0 state=", "state= needs a value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(run(out, sizeof out, "%s %s", EK3_BIN, cases[i][0]), 2, "%s: %s", cases[i][0], out);
        cr_assert(strstr(out, cases[i][1]), "%s: expected '%s', got: %s", cases[i][0], cases[i][1], out);
    }
    cr_assert_eq(run(out, sizeof out, "%s rack --bogus", EK3_BIN), 2);
    cr_assert(strstr(out, "unknown argument '--bogus'"), "%s", out);
    /* a key file that cannot be read: the flag and the file, each once */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 2 --trust-key /nonexistent.pem --update x.img", EK3_BIN), 2);
    cr_assert(strstr(out, "ek3 rack: --trust-key /nonexistent.pem: cannot open: No such file or directory\n"), "%s",
              out);
    /* a key with no update to take it is said (it was accepted and did nothing) */
    cr_assert_eq(run(out, sizeof out, "%s fwimg keygen --out %s/tk.pem", EK3_BIN, dir), 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 2 --trust-key %s/tk.pub.pem", EK3_BIN, dir), 2, "%s", out);
    cr_assert(strstr(out, "--trust-key") && strstr(out, "--update") &&
                  strstr(out, "it is a key the modules take the image that --update names signed with"),
              "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules=8", EK3_BIN), 2);
    cr_assert(strstr(out, "unknown argument '--modules=8' (no '=': a switch stands alone, '--modules'; a flag that "
                          "takes a value takes the next word, '--modules 8')"),
              "%s", out);
}

Test(cli_args, api_and_api_key_take_one_word_each)
{
    static char out[65536];
    /* --realtime after --api's value is an option of its own: the report says realtime. */
    cr_assert_eq(run(out, sizeof out,
                     "%s rack --modules 1 --load 1kW --duration 5ms --api udp:127.0.0.1:0 --realtime", EK3_BIN),
                 0, "%s", out);
    cr_assert(strstr(out, "realtime ("), "--realtime was swallowed: %s", out);
    cr_assert_eq(run(out, sizeof out,
                     "%s rack --modules 1 --load 1kW --duration 5ms --api udp:127.0.0.1:0 --api-key 0123456789ab --realtime",
                     EK3_BIN),
                 0, "%s", out);
    cr_assert(strstr(out, "realtime ("), "--realtime was swallowed: %s", out);
}

/* A rack whose plant is set to another board than the firmware's
 * (board.h) is refused, the parameter named; the plant alone runs it. */
Test(cli_args, a_rack_run_on_another_board_than_the_firmwares_is_refused)
{
    static char out[16384];
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --duration 1ms --set ntc_beta=3950", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "'ntc_beta'") && strstr(out, "3435") && strstr(out, "board.h"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --duration 1ms --set ntc_beta=3435", EK3_BIN), 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s plant run --duration 1ms --set ntc_beta=3950", EK3_BIN), 0, "%s", out);
}

Test(cli_args, values_out_of_range_are_refused_not_wrapped_or_cut)
{
    static char out[16384];
    static char cmd[4096];
    /* UDP ports above 65535 */
    cr_assert_eq(run(out, sizeof out, "%s api udp:127.0.0.1:70000 status", EK3_BIN), 2, "%s", out);
    /* Every command that takes a bus spec says what is wrong with it, exit 2. */
    cr_assert_eq(run(out, sizeof out, "%s replay /dev/null --bus udp:127.0.0.1:70000", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "1 to 65535"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s replay /dev/null --bus udp:127.0.0.1:0", EK3_BIN), 2, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s fw --module 2 --bus udp:127.0.0.1:99999", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "1 to 65535"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s fw --module 2 --bus cannelloni:127.0.0.1:70000", EK3_BIN), 2, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 2 --duration 1ms --api udp:127.0.0.1:70000", EK3_BIN), 2,
                 "%s", out);
    /* A cannelloni peer at its own port on this host is the socket itself: it
     * used to hear its own HELLO as the plant's and never fell silent. */
    cr_assert_eq(run(out, sizeof out, "timeout 10 %s fw --module 2 --bus cannelloni:127.0.0.1:47102 --silence 200ms",
                     EK3_BIN),
                 2, "%s", out);
    cr_assert(strstr(out, "this socket itself"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --fw-bus udp:127.0.0.1:70000 --external 1", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "65535"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --fw-bus udp:127.0.0.1:65500 --external 1", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "above port 65535"), "84 slots from 65500 pass 65535: %s", out);
    /* a timeout past what a millisecond int holds (24.8 days) */
    cr_assert_eq(run(out, sizeof out, "%s rack --hello-timeout 2600000s", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--hello-timeout"), "%s", out);
    /* a spin window that is no time at all, under a microsecond, or longer than the quantum */
    cr_assert_eq(run(out, sizeof out, "%s rack --realtime --rt-spin -5us", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--rt-spin '-5us': " CLI_TIME_SHORT
                          " of 0 (sleep only) or from 1 us to the quantum, 100 us: -5 us is negative"),
              "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --realtime --rt-spin 2s", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--rt-spin '2s'"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --realtime --rt-spin 101us", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--rt-spin '101us'"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --realtime --rt-spin 500ns", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--rt-spin '500ns'"), "%s", out);
    /* a tolerance below 0 or past the quantum */
    cr_assert_eq(run(out, sizeof out, "%s rack --realtime --rt-tolerance -1us", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--rt-tolerance '-1us': " CLI_TIME_SHORT " from 1 us to the quantum, 100 us"), "%s", out);
    /* times take min and h; "m" alone (milli or minutes?) is refused, naming the forms */
    cr_assert_eq(run(out, sizeof out, "%s rack --duration 2m", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--duration '2m': a time (2s, 150ms, 100us, 5min, 1h) from"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --duration 2s --load-at 1min", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--load-at 60 s: at or after the end of the run (--duration 2 s)"), "1min is 60 s: %s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --duration 1h --load-at 2h", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--load-at 7200 s: at or after the end of the run (--duration 3600 s)"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --realtime --rt-tolerance 0", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--rt-tolerance '0': " CLI_TIME_SHORT " from 1 us to the quantum, 100 us: 0 is outside it\n"),
              "a spin always ends a little past its deadline; 0 has no unit to name: %s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --realtime --rt-tolerance 1ms", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--rt-tolerance '1ms'"), "%s", out);
    /* a duration under one quantum */
    cr_assert_eq(run(out, sizeof out, "%s rack --duration 1us --realtime", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--duration"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s plant run --duration 1ns", EK3_BIN), 2, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --duration 100us --realtime", EK3_BIN), 0, "one quantum: %s",
                 out);
    cr_assert(strstr(out, "timing: 1 quantum of"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s plant run --duration 100us", EK3_BIN), 0, "%s", out);
    /* a value over 255 characters is refused, not cut */
    char longv[300];
    memset(longv, '1', sizeof longv - 1);
    longv[sizeof longv - 1] = 0;
    snprintf(cmd, sizeof cmd, "%s can encode HEARTBEAT --src 1 --dst 0 power_w=%s", EK3_BIN, longv);
    cr_assert_eq(run(out, sizeof out, "%s", cmd), 2, "%s", out);
    cr_assert(strstr(out, "too long"), "%s", out);
    /* lists: an item past the limit, an empty list, an empty item */
    cr_assert_eq(run(out, sizeof out, "%s plant sweep --loads 1,2,3,4,5,6,7,8,9", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "at most 8"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s plant sweep --loads ''", EK3_BIN), 2, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s plant sweep --loads 100,,200", EK3_BIN), 2, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --external ''", EK3_BIN), 2, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --external 2,", EK3_BIN), 2, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s can encode HIL_ADC --src 4094 --dst 1 ch=1,,2", EK3_BIN), 2, "%s", out);
    /* a count that is not a whole number says so; a seed is the same range
     * in every command (a scenario's Lua integer holds it) */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 8x", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--modules '8x': a whole number, 1 to 510"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s can busload --modules 8x", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--modules '8x': a whole number, 1 to 510"), "%s", out);
    static const char *const seeded[] = {"rack --modules 2", "scenario run x.lua", "fw --module 1"};
    for (unsigned k = 0; k < 3; k++) {
        cr_assert_eq(run(out, sizeof out, "%s %s --seed 9223372036854775808", EK3_BIN, seeded[k]), 2, "%s", out);
        cr_assert(strstr(out, "--seed '9223372036854775808': a whole number 0 to 2^63-1"), "%s: %s", seeded[k], out);
    }
    /* arguments past what plant serve forwards */
    size_t n = (size_t)snprintf(cmd, sizeof cmd, "%s plant serve", EK3_BIN);
    for (int i = 0; i < 130; i++)
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, " --seed %d", i);
    cr_assert_eq(run(out, sizeof out, "%s", cmd), 2, "%s", out);
    cr_assert(strstr(out, "at most 251"), "%s", out);
}

Test(cli_args, pulls_add_up_and_slots_are_checked_against_the_rack)
{
    static char out[65536];
    cr_assert_eq(run(out, sizeof out,
                     "%s rack --modules 4 --load 4kW --duration 0.7s --load-at 0.5s --load-ramp 0 "
                     "--pull 2@0.55s --pull 3@0.6s",
                     EK3_BIN),
                 0, "%s", out);
    cr_assert(strstr(out, "EK3 rack: 4 modules (2 in their slots"), "an N-2 test: %s", out);
    cr_assert(strstr(out, "module 2 pulled at 0.5500 s") && strstr(out, "module 3 pulled at 0.6000 s"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --duration 0.3s --pull 2@0.3s", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "after the end of the run (--duration 0.3 s)\n"), "past the end: no quantum named: %s", out);
    /* before --duration, in its last quantum: the quantum's start is why */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --duration 0.3s --pull 2@0.29991s", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--pull 2@0.29991s: in the run's last quantum, from 0.2999 s (--duration 0.3 s): an event "
                          "acts at the start of the 100 us quantum at or after its time, here the run's end\n"),
              "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --duration 0.3s --pull 2@0.2999s", EK3_BIN), 0,
                 "the last quantum's start: %s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --pull 2@0.1s --pull 2@0.2s", EK3_BIN), 2, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --pull 2@1e300s", EK3_BIN), 2, "%s", out);
    /* what is wrong, named: the slot or the time; leader as --fault pull: takes it */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --pull 0@0s", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "ek3 rack: --pull '0@0s': there is no slot 0: slots count from 1 to the rack's modules "
                          "(--modules)\n"),
              "%s", out);
    /* a number too long for any slot is no slot either (it was called "not a whole number") */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --pull 99999999999999999999@0s", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "--pull '99999999999999999999@0s': there is no slot 99999999999999999999: slots count"), "%s",
              out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --pull x@0s", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "ek3 rack: --pull 'x@0s': the slot 'x' must be a whole number, 1 to the rack's modules "
                          "(--modules), or leader\n"),
              "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --pull 2@1kg", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "ek3 rack: --pull '2@1kg': the time '1kg': ") && strstr(out, "'kg' is not a unit of time"),
              "%s", out);
    /* a time, then more: the more named (it read "'s:x=1' is not a unit of time") */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --pull 2@1s:x=1", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "ek3 rack: --pull '2@1s:x=1': nothing goes after the time (':x=1'): a pull takes no "
                          "parameters (SLOT@TIME, e.g. 42@1s)\n"),
              "%s", out);
    /* no time, two times, the same pull twice: each said as such (they read "the time '': ... not a time", "'s@2s' is
     * not a unit of time", "slot 2 is empty then") */
    static const struct {
        const char *args, *says;
    } bad[] = {
        {"--pull 2@", "ek3 rack: --pull '2@': SLOT@TIME, e.g. 42@1s (no time after '@')\n"},
        {"--pull 2@1s@2s", "ek3 rack: --pull '2@1s@2s': one SLOT@TIME a --pull, e.g. --pull 42@1s --pull 43@1.5s\n"},
        {"--pull 2@1s --pull 2@1s", "ek3 rack: --pull 2@1s: given twice (--pull 2@1s pulls slot 2 at that time "
                                    "already)\n"},
        /* twice in one control period, the leader twice, a --fault twice (they read "slot 2 is empty then", "0 s
         * after --pull leader@1s took the rack's leader out", and the second ran) */
        {"--pull 2@1.00005s --pull 2@1.0001s",
         "ek3 rack: --pull 2@1.0001s: given twice (--pull 2@1.00005s pulls slot 2 "
         "in the same control period already)\n"},
        {"--pull leader@1s --pull leader@1s", "ek3 rack: --pull leader@1s: given twice (--pull leader@1s pulls the "
                                              "leader at that time already)\n"},
        {"--fault gate-off:2@1s --fault gate-off:2@1.00002s --fault gate-off:2@1.00008s",
         "ek3 rack: --fault gate-off:2@1.00008s: given twice (--fault gate-off:2@1.00002s injects it in the same "
         "control period already)\n"},
        /* the whole value quoted (they read "--pull: the time", "--fault: gate-off: no parameter", "'s@2s' is not a
         * unit of time"); an insert of the leader refused as such after a leader's pull too */
        {"--pull 2@-1s", "ek3 rack: --pull '2@-1s': the time '-1s': "},
        {"--fault gate-off:leader@1s:x=1", "ek3 rack: --fault 'gate-off:leader@1s:x=1': no parameter 'x' (it takes "
                                           "none)\n"},
        {"--fault pull:2@1s@2s", "ek3 rack: --fault: fault 'pull:2@1s@2s': one @TIME a fault ('1s@2s' gives more): "
                                 "each time its own fault\n"},
        /* as typed, both (it gave the normalised form twice); kelvin is no kilo (it offered 318kC) */
        {"--fault igf:3@1s:i=40mA --fault igf:3@1000ms:i=0.04",
         "ek3 rack: --fault igf:3@1000ms:i=0.04: given twice (--fault igf:3@1s:i=40mA injects it at that time "
         "already)\n"},
        {"--fault ambient:3@1s:t=318K", "--fault 'ambient:3@1s:t=318K': parameter t='318K': kelvin is not taken: the "
                                        "unit is C (318 K is 44.85 C)\n"},
        {"--pull leader@1s --fault insert:leader@1.1s", "ek3 rack: --fault insert:leader@1.1s: the leader is a module "
                                                        "in its slot: an insert takes an empty slot, by its number\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --duration 2s %s", EK3_BIN, bad[i].args), 2, "%s", out);
        cr_assert(strstr(out, bad[i].says), "%s: %s", bad[i].args, out);
    }
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --pull 2", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "ek3 rack: --pull '2': SLOT@TIME, e.g. 42@1s (no '@TIME')\n"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --duration 0.9s --pull leader@0.8s --droop 5V/A", EK3_BIN),
                 0, "%s", out);
    cr_assert(strstr(out, "ek3 rack: note: --pull leader@0.8s at 0.8000 s: the leader was module ") &&
                  strstr(out, "(3 in their slots") && strstr(out, "droop 5.00 V/A"),
              "%s", out);
    /* a leader target while the rack elects the next leader (a leader pulled or cut off 0.5 s before at most):
     * refused before the run, naming both */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --pull leader@1s --pull leader@1.2s", EK3_BIN), 2, "%s",
                 out);
    cr_assert(strstr(out, "ek3 rack: --pull leader@1.2s: 0.2 s after --pull leader@1s took the rack's leader out: the "
                          "others elect one no sooner than 0.5 s after that (the swarm's election timeout "
                          "SWM_ELECTION_MIN_MS, less a heartbeat): the rack has no leader then\n"),
              "%s", out);
    cr_assert_eq(
        run(out, sizeof out, "%s rack --modules 4 --fault bus-cut:leader@1s --fault bus-cut:leader@1s", EK3_BIN), 2,
        "%s", out);
    cr_assert(strstr(out, "--fault bus-cut:leader@1s: given twice (--fault bus-cut:leader@1s injects it at that time "
                          "already)\n"),
              "%s", out);
    /* a second cut of a node cut off (ek3 rack clears none) unless an insert put its module back; a bus fault of
     * a slot emptied */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --fault bus-cut:1@0.2s --fault bus-cut:1@1s", EK3_BIN), 2,
                 "%s", out);
    cr_assert(strstr(out, "ek3 rack: --fault bus-cut:1@1s: slot 1 is cut off the rack bus then already (--fault "
                          "bus-cut:1@0.2s): a second cut does nothing\n"),
              "%s", out);
    cr_assert_eq(run(out, sizeof out,
                     "%s rack --modules 4 --duration 1.5s --fault bus-cut:1@0.2s --pull 1@0.5s "
                     "--fault insert:1@1s --fault bus-cut:1@1.2s",
                     EK3_BIN),
                 0, "put back, it may be cut again: %s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --pull 3@1s --fault bus-latency:3@1.2s:d=1ms", EK3_BIN), 2,
                 "%s", out);
    cr_assert(strstr(out, "--fault bus-latency:3@1.2s:d=1ms: slot 3 is empty then (--pull 3@1s took its module out"),
              "%s", out);
    /* a pull off the 1 ms grid is reported at its own time, not rounded */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --duration 2.1s --load 1kW --pull 3@1.9999s", EK3_BIN), 0,
                 "%s", out);
    cr_assert(strstr(out, "\nmodule 3 pulled at 1.9999 s\n"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --load-at 1e300s", EK3_BIN), 2, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --external 7", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "slot 7 is not in a rack of 4"), "%s", out);
}

/* ---- 3. outputs -------------------------------------------------------- */

Test(cli_args, write_errors_are_reported_with_their_reason_and_exit_1)
{
    static char out[65536];
    cr_assert_eq(run(out, sizeof out, "{ %s can layouts > /dev/full; }", EK3_BIN), 1, "%s", out);
    cr_assert(strstr(out, "ek3: write error on standard output: No space left on device"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "{ %s plant params > /dev/full; }", EK3_BIN), 1, "%s", out);
    /* A command that notices the failed write says it, once, with its reason. */
    const char *own[] = {"faults", "scenario signals"};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(run(out, sizeof out, "{ %s %s > /dev/full; }", EK3_BIN, own[i]), 1, "%s", out);
        char want[96];
        snprintf(want, sizeof want, "ek3 %s: write error on standard output: No space left on device\n", own[i]);
        cr_assert(!strcmp(out, want), "%s: one message with its reason, got: %s", own[i], out);
    }
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 2 --load 2kW --duration 20ms --log /dev/full", EK3_BIN), 1,
                 "%s", out);
    cr_assert(strstr(out, "--log /dev/full: write error: No space left on device"), "%s", out);
    cr_assert(strstr(out, "INTERRUPTED"), "the run stops at the failed log: %s", out);
    cr_assert(!strstr(out, "frames logged to") && strstr(out, "the frame log /dev/full is not whole"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 4 --load 4kW --duration 0.5s --station-log /dev/full",
                     EK3_BIN),
                 1, "%s", out);
    /* The station's log is small: its full disk stops the run at the next
     * check (100 quanta), as the frame log's does, not at its close. */
    cr_assert(strstr(out, "--station-log /dev/full: write error: No space left on device; the run stops at 0.0"),
              "%s", out);
    cr_assert(strstr(out, "INTERRUPTED"), "the run stops at the failed station log: %s", out);
    /* A scenario's frame log on a full disk ends the run as ERROR naming
     * the flag, at the session's next check, not PASS and then the error. */
    cr_assert_eq(run(out, sizeof out, "%s scenario run %s/scenarios/soft-start.lua --seed 1 --log /dev/full", EK3_BIN,
                     EK3_SOURCE_DIR),
                 2, "%s", out);
    cr_assert(strstr(out, "--log /dev/full: write error: No space left on device"), "%s", out);
    cr_assert(strstr(out, "ERROR") && !strstr(out, "PASS"), "%s", out);
    cr_assert(!strstr(out, "Input/output error"), "said once, by the run: %s", out);
    cr_assert_null(strstr(strstr(out, "write error") + 1, "write error"), "said once, by the run: %s", out);
    /* So does a trace's: ERROR (exit 2), the write error said once. */
    static const char *const tflag[2] = {"--vcd", "--trace-csv"};
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(run(out, sizeof out, "%s scenario run %s/scenarios/soft-start.lua --seed 1 --probe bus.v %s /dev/full",
                         EK3_BIN, EK3_SOURCE_DIR, tflag[k]),
                     2, "%s: %s", tflag[k], out);
        const char *e = strstr(out, ": write error: No space left on device");
        cr_assert(e && strstr(out, "ERROR") && !strstr(out, "PASS"), "%s", out);
        cr_assert_null(strstr(e + 1, ": write error:"), "said once, by the run: %s", out);
    }
    /* A probe that names no signal: ERROR at rack{}, said once (exit 2). */
    cr_assert_eq(run(out, sizeof out, "%s scenario run %s/scenarios/soft-start.lua --seed 1 --probe nosuch.signal --vcd %s",
                     EK3_BIN, EK3_SOURCE_DIR, path("nosig.vcd")),
                 2, "%s", out);
    const char *u = strstr(out, "--probe 'nosuch.signal': unknown signal");
    cr_assert(u && strstr(out, "ERROR"), "%s", out);
    cr_assert_null(strstr(u + 1, "--probe 'nosuch.signal'"), "said once, by the run: %s", out);
    cr_assert_eq(run(out, sizeof out, "%s plant run --duration 1ms --csv /dev/full", EK3_BIN), 1, "%s", out);
    cr_assert(strstr(out, "/dev/full: write error: No space left on device"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --load 1kW --duration 5ms --rtl-vcd /dev/full", EK3_BIN), 1,
                 "%s", out);
    cr_assert(strstr(out, "--rtl-vcd /dev/full: write error: No space left on device"), "%s", out);
    /* --report at a file: found before the run, not after */
    FILE *f = fopen(path("afile"), "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 2 --duration 1s --report %s", EK3_BIN, path("afile")), 1,
                 "%s", out);
    cr_assert(strstr(out, "not a directory"), "%s", out);
    cr_assert_null(strstr(out, "timing:"), "nothing is simulated: %s", out);
    /* the same mistake, the same exit code, in every command that writes a report */
    cr_assert_eq(run(out, sizeof out, "%s scenario run %s/scenarios/soft-start.lua --seed 1 --report %s", EK3_BIN,
                     EK3_SOURCE_DIR, path("afile")),
                 1, "%s", out);
    cr_assert(strstr(out, "--report: ") && strstr(out, "exists and is not a directory") && !strstr(out, "PASS"), "%s",
              out);
    cr_assert_eq(run(out, sizeof out, "%s nightly %s/scenarios/soft-start.lua --level quick --out %s --history %s",
                     EK3_BIN, EK3_SOURCE_DIR, path("afile"), path("h.jsonl")),
                 1, "%s", out);
    cr_assert(strstr(out, "--out: ") && strstr(out, "exists and is not a directory"), "%s", out);
    /* two outputs into one file */
    cr_assert_eq(run(out, sizeof out, "%s rack --log %s --station-log %s", EK3_BIN, path("same"), path("same")), 2,
                 "%s", out);
    cr_assert(strstr(out, "--log ") && strstr(out, "and --station-log ") && strstr(out, "name one file"), "%s", out);
    /* a tiny --sample must not wrap the row limit */
    cr_assert_eq(run(out, sizeof out, "%s plant run --csv %s --sample 1e-25s", EK3_BIN, path("w.csv")), 2, "%s", out);
    cr_assert(strstr(out, "at most 5000000"), "%s", out);
    /* a ramp longer than the run is said (the load never reaches its value) */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --duration 10ms --load-at 0s --load-ramp 40ms", EK3_BIN), 0,
                 "%s", out);
    cr_assert(strstr(out, "note: --load-ramp 0.04 s from 0 s ends after the run (0.01 s): the load reaches 25 % of "
                          "its 2.38 kW (595 W)\n") &&
                  strstr(out, "EK3 rack: 1 module (1 in its slot, "),
              "%s", out);
    /* a run that ends before the default --load-at has no load: said, and no overload warned */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --load 20kW --duration 10ms", EK3_BIN), 0, "%s", out);
    cr_assert(strstr(out, "note: no load: the run ends at 0.01 s, before --load-at (0.5 s)\n") &&
                  !strstr(out, "overloaded"),
              "%s", out);
    /* ... at the end of its whole quanta, as the note on them says */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --duration 100.05us", EK3_BIN), 0, "%s", out);
    cr_assert(strstr(out, "the run is 2 of them (0.0002 s)\n") &&
                  strstr(out, "note: no load: the run ends at 0.0002 s, before --load-at (0.5 s)\n"),
              "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s audit dump /dev/full --duration 0.5s", EK3_BIN), 1, "%s", out);
    cr_assert(strstr(out, "ek3 audit dump: /dev/full: write error: No space left on device"), "%s", out);
}

/* Start `ek3 rack` for a long run, wait until its log has lines, send
 * sig, and return its wait status (the test fails if it does not stop). */
static int stop_rack(int sig, const char *log, const char *rep)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl(EK3_BIN, "ek3", "rack", "--modules", "4", "--load", "4kW", "--duration", "600s", "--log", log,
              "--station-log", path("st.log"), "--report", rep, (char *)NULL);
        _exit(127);
    }
    struct stat st;
    for (int i = 0; i < 600 && !(stat(log, &st) == 0 && st.st_size > 200000); i++)
        usleep(20000);
    cr_assert_eq(kill(pid, sig), 0);
    int status = 0;
    for (int i = 0; i < 1000; i++) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            return status;
        usleep(20000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    cr_assert_fail("ek3 rack did not stop within 20 s of signal %d", sig);
    return status;
}

static void check_clean_stop(int sig, const char *name)
{
    static char buf[1 << 16], out[4096];
    char rep[160];
    snprintf(rep, sizeof rep, "%s", path("rep"));
    int st = stop_rack(sig, path("run.log"), rep);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == sig, "ends as killed by %s (status 0x%x)", name, st);
    char p[256];
    snprintf(p, sizeof p, "%s/report.txt", rep);
    cr_assert_gt(file_text(p, buf, sizeof buf), 0, "the report was written");
    char mark[64];
    snprintf(mark, sizeof mark, "(%s): this report covers the time that ran", name);
    cr_assert(strstr(buf, "INTERRUPTED after") && strstr(buf, mark), "%s", buf);
    /* stopped before the window of the last 100 ms began: its line says so (it was left out unsaid) */
    cr_assert(strstr(buf, "\nover the last 100 ms: no means: the run stopped at ") &&
                  strstr(buf, " s, before that window of the planned run began (599.9000 s)\n"),
              "%s", buf);
    /* and its first line says so (it read as a whole run until line 8) */
    snprintf(mark, sizeof mark, " s: INTERRUPTED (%s)\n", name);
    const char *nl = strchr(buf, '\n'), *m1 = strstr(buf, mark);
    cr_assert(!strncmp(buf, "EK3 rack: ", 10) && m1 && nl && m1 + strlen(mark) - 1 == nl, "%s", buf);
    cr_assert(strstr(buf, "timing:"), "the report is whole: %s", buf);
    snprintf(p, sizeof p, "%s/trace.csv", rep);
    cr_assert_gt(file_text(p, buf, sizeof buf), 100, "the trace was written");
    /* The log ends on a whole line, and every line of it reads back. */
    FILE *f = fopen(path("run.log"), "r");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, -1, SEEK_END), 0);
    cr_assert_eq(fgetc(f), '\n', "the log ends on a whole line");
    fclose(f);
    cr_assert_eq(run(out, sizeof out, "%s can decode %s > /dev/null", EK3_BIN, path("run.log")), 0, "%s", out);
}

Test(cli_args, sigint_stops_the_rack_cleanly, .timeout = 120)
{
    check_clean_stop(SIGINT, "SIGINT");
}

Test(cli_args, sigterm_stops_the_rack_cleanly, .timeout = 120)
{
    check_clean_stop(SIGTERM, "SIGTERM");
}

/* A report folder that is not there yet is made with its parents, by
 * `rack` as by `scenario run` (rack refused it before); a path through a
 * file is refused naming the part that is not a folder. */
Test(cli_args, a_report_folder_is_made_with_its_parents)
{
    static char out[16384], rdir[600];
    snprintf(rdir, sizeof rdir, "%s", path("new/a/b"));
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --load 1kW --duration 1ms --report %s", EK3_BIN, rdir), 0,
                 "%s", out);
    struct stat st;
    cr_assert_eq(stat(path("new/a/b/report.txt"), &st), 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --load 1kW --duration 1ms --report %s/x",
                     EK3_BIN, path("new/a/b/report.txt")),
                 1, "%s", out);
    cr_assert(strstr(out, "report.txt/x") && strstr(out, "Not a directory"), "%s", out);
    cr_assert_null(strstr(strstr(out, "report.txt/x") + 1, "report.txt/x"), "the path said once: %s", out);
    /* scenario run the same way: a folder that cannot be made is a failure (1), not a usage error */
    cr_assert_eq(run(out, sizeof out, "%s scenario run %s/scenarios/soft-start.lua --seed 1 --report %s/x", EK3_BIN,
                     EK3_SOURCE_DIR, path("new/a/b/report.txt")),
                 1, "%s", out);
    cr_assert(strstr(out, "--report: ") && strstr(out, "report.txt/x: Not a directory"), "%s", out);
    /* an empty --report: a usage error, before anything runs (mkdir("") is not tried) */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --load 1kW --duration 1ms --report ''", EK3_BIN), 2, "%s",
                 out);
    cr_assert(strstr(out, "--report '': name a directory (empty)") && !strstr(out, "timing:"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s scenario run %s/scenarios/soft-start.lua --seed 1 --report ''", EK3_BIN,
                     EK3_SOURCE_DIR),
                 2, "%s", out);
    cr_assert(strstr(out, "--report '': name a directory (empty)"), "%s", out);
    cr_assert_eq(
        run(out, sizeof out, "%s scenario run %s/scenarios/soft-start.lua --seed 1 --log ''", EK3_BIN, EK3_SOURCE_DIR),
        2, "%s", out);
    cr_assert(strstr(out, "--log '': name a file (empty)"), "%s", out);
}

Test(cli_args, the_protection_vcd_has_a_100_ns_clock_in_its_timescale)
{
    static char out[8192];
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --load 1kW --duration 1ms --rtl-vcd %s", EK3_BIN,
                     path("p.vcd")),
                 0, "%s", out);
    FILE *f = fopen(path("p.vcd"), "r");
    cr_assert_not_null(f);
    char line[512], clk[16] = "";
    int ts_ns = 0;
    long long t = -1, last_rise = -1, period = -1, rises = 0;
    int periods_ok = 1;
    while (fgets(line, sizeof line, f)) {
        char id[16], name[32];
        if (strstr(line, "$timescale")) {
            if (!strstr(line, "1ns")) /* "$timescale" may have its value on the next line */
                cr_assert_not_null(fgets(line, sizeof line, f));
            ts_ns = strstr(line, "1ns") != NULL;
        } else if (!clk[0] && sscanf(line, " $var wire 1 %15s %31s", id, name) == 2 && !strcmp(name, "clk")) {
            snprintf(clk, sizeof clk, "%s", id);
        } else if (line[0] == '#') {
            t = atoll(line + 1);
        } else if (clk[0] && line[0] == '1' && !strncmp(line + 1, clk, strlen(clk)) && line[1 + strlen(clk)] == '\n') {
            if (last_rise >= 0) {
                if (period < 0)
                    period = t - last_rise;
                periods_ok &= t - last_rise == period;
            }
            last_rise = t;
            rises++;
        }
    }
    fclose(f);
    cr_assert(ts_ns, "$timescale 1ns");
    cr_assert(clk[0], "the clock is in the trace");
    cr_assert_eq(period, 100, "10 MHz is a 100 ns period in a 1 ns timescale (got %lld)", period);
    cr_assert(periods_ok, "every period is 100 ns");
    /* 1 ms of run is 1e6 ns: 10 000 clocks (and the two of the reset). */
    cr_assert(t >= 1000000 && t <= 1000300, "the trace ends at 1 ms = 1e6 ns (%lld)", t);
    cr_assert(rises >= 10000 && rises <= 10003, "%lld clock rises", rises);
}

/* ek3 with argv, its outputs to /dev/null, in a child: its pid. */
static pid_t spawn_quiet(char *const argv[])
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(EK3_BIN, argv);
        _exit(127);
    }
    return pid;
}

Test(cli_args, sigint_stops_plant_run_on_a_whole_csv_row, .timeout = 120)
{
    const char *csv = path("w.csv");
    char *const argv[] = {"ek3", "plant", "run", "--duration", "4s", "--sample", "1us", "--csv", (char *)csv, NULL};
    pid_t pid = spawn_quiet(argv);
    struct stat st;
    for (int i = 0; i < 600 && !(stat(csv, &st) == 0 && st.st_size > 1000000); i++)
        usleep(20000);
    cr_assert_eq(kill(pid, SIGINT), 0);
    int status = 0;
    for (int i = 0; i < 1000 && waitpid(pid, &status, WNOHANG) != pid; i++)
        usleep(20000);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT, "ends as killed by SIGINT (0x%x)", status);
    /* The file's last 4 KiB. */
    static char buf[4097];
    FILE *f = fopen(csv, "r");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, -(long)(sizeof buf - 1), SEEK_END), 0);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    cr_assert_eq(n, sizeof buf - 1);
    buf[n] = 0;
    cr_assert_eq(buf[n - 1], '\n', "the CSV ends on a whole row");
    buf[n - 1] = 0;
    const char *last = strrchr(buf, '\n') + 1;
    unsigned commas = 0;
    for (const char *c = last; *c; c++)
        commas += *c == ',';
    cr_assert_eq(commas, 10, "the last row has its 11 columns: %s", last);
}

/* A load that comes on during the soft start held an 84-module rack at
 * 16.6 V to the end of the run, and the run said nothing and exited 0. */
Test(cli_args, a_bus_that_never_comes_up_under_its_load_fails_the_run)
{
    static char out[16384];
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 8 --load 19kW --duration 0.3s --load-at 0.2s --load-ramp 0.01s",
                     EK3_BIN),
                 1, "%s", out);
    cr_assert(strstr(out, "BUS NOT UP") && strstr(out, "never came up"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 8 --load 19kW --duration 0.7s --load-at 0.5s", EK3_BIN), 0,
                 "%s", out);
    cr_assert(!strstr(out, "BUS NOT UP") && !strstr(out, "COLLAPSED"), "%s", out);
}

/* Whether process PID catches SIGINT yet (its SigCgt mask in /proc). */
static int catches_sigint(pid_t pid)
{
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    unsigned long long mask = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "SigCgt: %llx", &mask) == 1)
            break;
    fclose(f);
    return (mask >> (SIGINT - 1)) & 1;
}

/* A signal during the set-up (84 modules take a few tenths of a second to
 * build) used to kill the run with an empty report.txt and an empty log.
 * The signal is sent as soon as the run catches it (its outputs open),
 * not after a fixed delay: a loaded machine (ASan in CI) can take longer
 * than any delay just to start the program. */
Test(cli_args, a_signal_during_the_set_up_still_leaves_a_report, .timeout = 120)
{
    static char rep[16384];
    const char *rdir = path("rep");
    char *const argv[] = {"ek3", "rack", "--modules", "84", "--duration", "3s", "--report", (char *)rdir,
                          "--log", (char *)path("r.log"), NULL};
    pid_t pid = spawn_quiet(argv);
    int caught = 0;
    for (int i = 0; i < 60000 && !(caught = catches_sigint(pid)); i++)
        usleep(1000);
    cr_assert(caught, "the run catches SIGINT within 60 s of its start");
    /* The set-up has begun: no quantum has run yet. */
    cr_assert_eq(kill(pid, SIGINT), 0);
    int status = 0;
    for (int i = 0; i < 3000 && waitpid(pid, &status, WNOHANG) != pid; i++)
        usleep(20000);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT, "ends as killed by SIGINT (0x%x)", status);
    char p[200];
    snprintf(p, sizeof p, "%s/report.txt", rdir);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f);
    size_t n = fread(rep, 1, sizeof rep - 1, f);
    rep[n] = 0;
    fclose(f);
    cr_assert(strstr(rep, "INTERRUPTED") && strstr(rep, "(SIGINT)"), "%s", rep);
}

/* timeout(1) and a terminal's Ctrl-C deliver one stop twice (to the
 * process and to its group): the second, within the second, used to end
 * the process at once and lose what the first one saves. */
Test(cli_args, one_stop_delivered_twice_still_leaves_a_report, .timeout = 180)
{
    static char out[16384];
    int rc = run(out, sizeof out,
                 "%s nightly " EK3_SOURCE_DIR "/scenarios/hot-swap-150kw.lua " EK3_SOURCE_DIR "/scenarios/sparing-table.lua "
                 "--jobs 1 --out %s --history %s/h.jsonl --quarantine /dev/null >/dev/null 2>&1 & p=$!; "
                 "until ls %s/runs/*/seed-*/run.log >/dev/null 2>&1; do sleep 0.05; done; "
                 "kill -INT $p; sleep 0.02; kill -INT $p; wait $p",
                 EK3_BIN, path("night2"), path("night2"), path("night2"));
    cr_assert_eq(rc, 130, "%s", out);
    char p[300];
    snprintf(p, sizeof p, "%s/night.json", path("night2"));
    cr_assert_eq(access(p, R_OK), 0, "no night.json: the second signal ended the night at once");
    snprintf(p, sizeof p, "%s/junit.xml", path("night2"));
    cr_assert_eq(access(p, R_OK), 0, "no junit.xml");
}

/* `ek3 api` with a request the station cannot take sent it anyway and
 * waited out its timeout (exit 1): the form is checked first, by the
 * station's own parser (sapi_req_check), and named with exit 2. */
Test(cli_args, api_requests_of_the_wrong_form_are_refused_before_sending)
{
    static char out[4096];
    const char *bad[] = {"module 42", "frob", "status 2 3", "diag 1 zz", "rack", "restart 1"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(run(out, sizeof out, "%s api udp:127.0.0.1:9 --timeout 5s %s", EK3_BIN, bad[i]), 2, "%s: %s",
                     bad[i], out);
        cr_assert(strstr(out, "expected") || strstr(out, "unknown request"), "%s: %s", bad[i], out);
    }
    cr_assert_eq(run(out, sizeof out, "%s api udp:127.0.0.1:9 --key '' status", EK3_BIN), 2, "%s", out);
}

/* ---- 2. arguments: one value per option, no option that means nothing --- */

/* The one rule of every subcommand (cli_once): an option takes one value,
 * however it is written; the options that add one more each time are
 * named; words that are not options are not counted. */
Test(cli_args, cli_once_refuses_an_option_given_twice)
{
    static const char *const many[] = {"--set", NULL};
    cli_seen s;
    memset(&s, 0, sizeof s);
    cr_assert_eq(cli_once("t", &s, "--src=5", many), CLI_OK);
    cr_assert_eq(cli_once("t", &s, "x.log", many), CLI_OK);
    cr_assert_eq(cli_once("t", &s, "--", many), CLI_OK);
    cr_assert_eq(cli_once("t", &s, "--set", many), CLI_OK);
    cr_assert_eq(cli_once("t", &s, "--set", many), CLI_OK, "--set adds one each time");
    cr_assert_eq(cli_once("t", &s, "--srcx", many), CLI_OK, "another option, not --src");
    cr_assert(cli_given(&s, "--src") && !cli_given(&s, "--dst"));
    cr_assert_eq(cli_once("t", &s, "--src", many), CLI_USAGE, "--src=5 then --src");
    cr_assert_eq(cli_exclusive("t", &s, "--src", "--srcx", "why"), CLI_USAGE);
    cr_assert_eq(cli_exclusive("t", &s, "--src", "--dst", "why"), CLI_OK);
    cr_assert_eq(cli_needs("t", &s, "--src", "--dst", "why"), CLI_USAGE);
    cr_assert_eq(cli_needs("t", &s, "--src", "--srcx", "why"), CLI_OK);
    cr_assert_eq(cli_needs("t", &s, "--dst", "--src", "why"), CLI_OK);
}

Test(cli_args, a_repeated_option_is_refused_in_every_subcommand)
{
    static char out[8192];
    static const char *const cases[][2] = {
        {"rack --modules 8 --modules 9", "--modules is given twice: give it once (a value given again would replace "
                                         "the first; a switch given again adds nothing)"},
        {"rack --no-swarm --no-swarm", "--no-swarm is given twice: give it once"},
        {"rack --load 1kW --load 2kW", "--load is given twice"},
        {"rack --battery --battery", "--battery is given twice"},
        {"rack --log a --log b", "--log is given twice"},
        {"replay x.log --bus udp:127.0.0.1:9 --bus udp:127.0.0.1:9", "--bus is given twice"},
        {"can id --prio HIGH --type POWER_CMD --src 0 --dst 1 --dst 2", "--dst is given twice"},
        {"can encode HEARTBEAT --src 5 --dst=0 --ds 1 state=ACTIVE module=5", "--dst is given twice"},
        {"can encode HEARTBEAT --src 5 --dst 0 state=ACTIVE state=OFF module=5", "field state is given twice"},
        {"can decode --key " KEY " --key " KEY " /dev/null", "--key is given twice"},
        {"can busload --modules 8 --modules 9", "--modules is given twice"},
        {"fw --module 1 --module 2 --bus udp:127.0.0.1:9", "--module is given twice"},
        {"api udp:127.0.0.1:9 --timeout 1s --timeout 2s status", "--timeout is given twice"},
        {"plant run --fsw 200k --fsw 100k", "--fsw is given twice"},
        {"plant sweep --loads 1 --loads 2", "--loads is given twice"},
        {"plant serve --modules 2 --modules 3", "--modules is given twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(run(out, sizeof out, "%s %s", EK3_BIN, cases[i][0]), 2, "%s: %s", cases[i][0], out);
        cr_assert(strstr(out, cases[i][1]), "%s: expected '%s', got: %s", cases[i][0], cases[i][1], out);
    }
    /* the options that add one more each time */
    cr_assert_eq(run(out, sizeof out, "%s plant run --duration 1ms --set n=0.95 --set vdc=750", EK3_BIN), 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 2 --load 1kW --duration 2ms --set n=0.95 --set tol_lr=0 "
                                      "--pull 1@1ms --pull 2@1ms", EK3_BIN), 0, "%s", out);
}

Test(cli_args, options_that_conflict_or_mean_nothing_are_refused_naming_both)
{
    static char out[8192];
    static const char *const cases[][2] = {
        {"replay x.log --bus udp:127.0.0.1:9 --fast --speed 2", "--fast and --speed cannot be given together: "},
        {"replay x.log --bus udp:127.0.0.1:9 --max-gap 1s --fast", "--fast and --max-gap cannot be given together: "},
        {"rack --load 200kW --load-ohm 5", "--load and --load-ohm cannot be given together: a rack has one load"},
        {"rack --battery --load 1kW", "--load and --battery cannot be given together"},
        {"rack --load-ohm 5 --battery", "--load-ohm and --battery cannot be given together"},
        {"rack --fw-bus udp:127.0.0.1:47000", "--fw-bus without --external: "},
        {"rack --hello-timeout 1s", "--hello-timeout without --external: "},
        {"rack --ext-timeout 1s", "--ext-timeout without --external: "},
        {"rack --modules 4 --external 2,2", "--external '2,2': slot 2 is given twice"},
        {"rack --duration 1s --load-at 1s", "--load-at 1 s: at or after the end of the run (--duration 1 s)"},
        {"rack --load-at 2.5s", "--load-at 2.5 s: at or after the end of the run (--duration 2 s)"},
        {"rack --log-start 1700000000", "--log-start without --log: "},
        {"rack --api-key 0123456789ab", "--api-key without --api: "},
        {"rack --rt-spin 50us", "--rt-spin without --realtime: "},
        {"rack --rt-tolerance 5us", "--rt-tolerance without --realtime: "},
        {"rack --threads 2 --log /dev/null", "--threads and --log cannot be given together"},
        {"can encode HEARTBEAT --src 5 --dst broadcast state=ACTIVE module=5 --key " KEY,
         "--key: a HEARTBEAT from module 5 carries no MAC"},
        {"can encode HEARTBEAT --src 5 --dst broadcast state=ACTIVE module=5 --fv 3", "--fv: a HEARTBEAT from module 5"},
        {"plant run --sample 1us", "--sample without --csv: "},
        {"plant run --fsw 1M", "--fsw: the dead time 3e-07 s is not below a quarter period at 1e+06 Hz (--fsw); a lower --fsw"},
        {"plant run --fsw 800k --deadtime 400ns", "--deadtime: the dead time 4e-07 s is not below a quarter period"},
        {"plant sweep --fsw 100k", "--fsw has no effect on a sweep"},
        {"plant sweep --fidelity averaged", "--fidelity has no effect on a sweep"},
        {"plant sweep --load-ohm 5", "--load-ohm has no effect on a sweep"},
        {"plant serve --external 1", "--external has no place here"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(run(out, sizeof out, "%s %s", EK3_BIN, cases[i][0]), 2, "%s: %s", cases[i][0], out);
        cr_assert(strstr(out, cases[i][1]), "%s: expected '%s', got: %s", cases[i][0], cases[i][1], out);
    }
    /* each on its own is taken */
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --load-ohm 500 --duration 1ms", EK3_BIN), 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --modules 1 --battery --duration 1ms --load-at 0.5ms", EK3_BIN), 0,
                 "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s can encode HEARTBEAT --src 5 --dst broadcast state=ACTIVE module=5", EK3_BIN),
                 0, "%s", out);
}

/* ---- 3. messages --------------------------------------------------------- */

/* A unitless parameter's value had a space after it ("0  is outside its
 * range 0.01 .. 100 "); --log-start's error did not say its range. */
Test(cli_args, messages_name_their_values_and_limits_exactly)
{
    static char out[8192];
    cr_assert_eq(run(out, sizeof out, "%s plant params --set n=0", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "plant parameter 'n': 0 is outside its range 0.01 .. 100\n"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --set vdc=1e9", EK3_BIN), 2, "%s", out);
    cr_assert(strstr(out, "plant parameter 'vdc': 1e+09 V is outside its range 10 .. 1500 V\n"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s rack --log /dev/null --log-start 9223372036", EK3_BIN), 2, "%s", out);
    /* INT64_MAX ns less a day's run (86401 s) */
    cr_assert(strstr(out, "--log-start '9223372036': seconds since the epoch, from 0 to 9223285635.854775807"), "%s",
              out);
}

/* ---- 4. the sweep's marker and its resistances --------------------------- */

/* At 1 Gohm the run is cut at 0.25 s, 40 000 times short of its time
 * constant: the resonance point read M = 1.9 unmarked, because it moved
 * by less than 0.1 % in its last millisecond. And 1 mohm said "0 ohm". */
Test(cli_args, sweep_marks_every_point_not_in_steady_state_and_shows_milliohms, .timeout = 120)
{
    static char out[16384];
    cr_assert_eq(run(out, sizeof out, "%s plant sweep --loads 1e9,0.001,200", EK3_BIN), 0, "%s", out);
    cr_assert(strstr(out, "|     1 Gohm: sw") && strstr(out, "|     1 mohm: sw") && strstr(out, "|    200 ohm: sw"),
              "%s", out);
    const char *row = strstr(out, "\n    200.0 |");
    cr_assert_not_null(row, "%s", out);
    double m = 0, m200 = 0;
    char mark = 0, mark200 = 0;
    cr_assert_eq(sscanf(row, " 200.0 | %lf%c", &m, &mark), 2, "%s", row);
    cr_assert(m > 1.5, "the light load's gain at resonance: %s", row);
    cr_assert_eq(mark, '*', "M = %.3f at 1 Gohm is not a steady state: %s", m, row);
    /* 200 ohm settles well within its run: not marked */
    const char *cell = strchr(strchr(strchr(row + 2, '|') + 1, '|') + 1, '|');
    cr_assert_eq(sscanf(cell, "| %lf%c", &m200, &mark200), 2, "%s", row);
    cr_assert_eq(mark200, ' ', "%s", row);
    cr_assert(strstr(out, "* not a steady state"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s plant run --load-ohm 0.001 --duration 1ms", EK3_BIN), 0, "%s", out);
    cr_assert(strstr(out, ", load 1 mohm\n"), "%s", out);
}

/* A stopped scenario set names every run it did not finish: the one the
 * stop cut (NOTRUN, no verdict: not an ERROR at a script line) and each
 * one never started, and counts them apart. */
Test(cli_args, a_stopped_scenario_set_names_each_run_it_did_not_finish, .timeout = 180)
{
    static char out[16384];
    int rc = run(out, sizeof out,
                 "%s scenario run " EK3_SOURCE_DIR "/scenarios/hot-swap-150kw.lua " EK3_SOURCE_DIR
                 "/scenarios/sparing-table.lua --seed 1 --report %s >%s 2>&1 & p=$!; "
                 "until [ -d %s/hot-swap-150kw/seed-1 ] || ! kill -0 $p 2>/dev/null; do sleep 0.02; done; "
                 "kill -INT $p; wait $p; echo rc=$?; " /* no wait past a run that ended at once */
                 "cat %s",
                 EK3_BIN, path("cut"), path("cut.out"), path("cut"), path("cut.out"));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "rc=130"), "%s", out);
    cr_assert(strstr(out, "NOTRUN hot-swap-150kw               seed 1    stopped while it ran, at "), "%s", out);
    cr_assert(strstr(out, "NOTRUN sparing-table                seed 1    not started: the set was stopped"), "%s", out);
    cr_assert(strstr(out, "0 of 2 runs of 2 files: 0 passed, 0 failed, 0 errors; INTERRUPTED by SIGINT: 1 run cut "
                          "while running, 1 not started"),
              "%s", out);
    cr_assert_null(strstr(out, "ERROR"), "%s", out);
    /* its report says so too: INTERRUPTED, no script line */
    char p[300];
    snprintf(p, sizeof p, "%s/hot-swap-150kw/seed-1/verdict.json", path("cut"));
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "%s", p);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    fclose(f);
    const char *e = strstr(out, "\"error\": \"interrupted: stopped by a signal at ");
    cr_assert(strstr(out, "\"verdict\": \"INTERRUPTED\"") && e, "%s", out);
    const char *eol = strchr(e, '\n');
    cr_assert(eol && !memmem(e, (size_t)(eol - e), ".lua:", 5), "no script line in the error: %s", e);
}

/* A set that runs nothing is an error (a CI job would pass having tested
 * nothing), and a folder without scenarios is named. */
Test(cli_args, a_scenario_set_that_runs_nothing_is_an_error)
{
    static char out[16384];
    cr_assert_eq(run(out, sizeof out, "%s scenario run " EK3_SOURCE_DIR "/scenarios/fan-fail-45c-84.lua --level quick",
                     EK3_BIN),
                 2, "%s", out);
    cr_assert(strstr(out, "1 file above --level quick not run") &&
                  strstr(out, "nothing ran: the scenario is above --level quick (--level nightly runs it)"),
              "%s", out);
    cr_assert_eq(mkdir(path("none"), 0777), 0);
    cr_assert_eq(run(out, sizeof out, "%s scenario run %s", EK3_BIN, path("none")), 2, "%s", out);
    char want[300];
    snprintf(want, sizeof want, "no .lua scenario files in %s", path("none"));
    cr_assert(strstr(out, want), "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s scenario list %s", EK3_BIN, path("none")), 2, "%s", out);
    cr_assert(strstr(out, want), "list says it too: %s", out);
    /* beside other files it is named, not skipped without a word */
    cr_assert_eq(run(out, sizeof out, "%s scenario list %s " EK3_SOURCE_DIR "/scenarios/soft-start.lua", EK3_BIN,
                     path("none")),
                 0, "%s", out);
    snprintf(want, sizeof want, "note: %s: no .lua scenario files in it", path("none"));
    cr_assert(strstr(out, want) && strstr(out, "soft-start"), "%s", out);
    FILE *f = fopen(path("none/bad.lua"), "w");
    cr_assert_not_null(f);
    fputs("scenario{ name = \n", f);
    fclose(f);
    cr_assert_eq(run(out, sizeof out, "%s scenario run %s", EK3_BIN, path("none")), 2, "%s", out);
    cr_assert(strstr(out, "bad.lua:2:") && strstr(out, "1 error (1 of them a file that does not load)"), "%s", out);
}

/* Two files of one scenario name under --report would share its folder
 * (REPORT/NAME/seed-N) and write over each other's evidence: refused
 * before anything runs, both files named (as a night refuses them). */
Test(cli_args, report_refuses_two_files_of_one_scenario_name)
{
    static char out[16384];
    cr_assert_eq(mkdir(path("twins"), 0755), 0);
    const char *const body = "scenario{ name = \"twin\", level = \"quick\" }\nrack{ modules = 1 }\nrun(\"1ms\")\n"
                             "expect(now() > 0, \"ran\")\n";
    char p[2][128];
    for (int k = 0; k < 2; k++) {
        snprintf(p[k], sizeof p[k], "%s/%c.lua", path("twins"), 'a' + k);
        FILE *f = fopen(p[k], "w");
        cr_assert_not_null(f);
        fputs(body, f);
        fclose(f);
    }
    cr_assert_eq(run(out, sizeof out, "%s scenario run %s --report %s", EK3_BIN, path("twins"), path("rep")), 2, "%s",
                 out);
    cr_assert(strstr(out, "a.lua and ") && strstr(out, "b.lua both name scenario 'twin': --report keeps one folder"),
              "%s", out);
    cr_assert(!strstr(out, "PASS"), "nothing ran: %s", out);
    struct stat st;
    cr_assert_neq(stat(path("rep"), &st), 0, "and no --report folder was left behind");
    /* without --report they run, each once */
    cr_assert_eq(run(out, sizeof out, "%s scenario run %s", EK3_BIN, path("twins")), 0, "%s", out);
    cr_assert_eq(count(out, "PASS   twin"), 2, "%s", out);
    cr_assert(strstr(out, "a.lua and ") && strstr(out, "b.lua both name scenario 'twin': their lines below come in "
                                                       "that order"),
              "the note says which line is which file: %s", out);
    cr_assert_eq(count(out, "both name scenario"), 1, "said once: %s", out);
}
