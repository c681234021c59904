/*
 * cli.h - shared pieces of the `ek3` command (prefix cli_).
 *
 * Exit codes of every subcommand: 0 success, 1 the work found bad data
 * or failed (a bad frame in a log, a failed check, a write error on any
 * output, standard output included), 2 a bad flag or value on the command
 * line (after a message naming it). A run stopped cleanly by SIGINT or
 * SIGTERM ends as killed by that signal (cli_finish).
 */
#ifndef CLI_H
#define CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* A subcommand: run(argc, argv) with argv[0] the subcommand's name. */
typedef struct cli_cmd {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_cmd;

/* Print "ek3 <where>: <message>" and a hint to stderr; returns CLI_USAGE. */
int cli_usage_error(const char *where, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "ek3 <where>: <message>" to stderr, standard output flushed first
 * (so a pipe carrying both keeps their order); returns CLI_FAIL. */
int cli_fail(const char *where, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* As cli_fail, for an input refused (a changed file, another helper
 * loaded: the flags were right, so no --help hint); returns CLI_USAGE. */
int cli_refuse(const char *where, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Run the subcommand of `cmds` named by argv[1] (argv[0] is the parent's
 * name, e.g. "can"); prints the table for "help", "--help" or nothing. */
int cli_dispatch(const char *parent, const char *summary, const cli_cmd *cmds, size_t n,
                 int argc, char **argv);

/* Is this argument a request for help? */
int cli_is_help(const char *arg);

/* Parse a whole unsigned number, at most max: decimal whatever its
 * leading zeros ("042" is 42), hexadecimal only when written 0x ("0x2A");
 * never octal. The one integer parser of every ek3 command.
 * Returns 0 or EK3_EPARSE / EK3_ERANGE (above max, or above 2^64 - 1). */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *v);

/* Parse a run's seed (--seed of every command): a whole number 0 to
 * 2^63-1 as cli_parse_u64 reads it, the range a scenario's Lua integer
 * holds, so a seed one command takes every other takes too.
 * Returns 0 or EK3_EPARSE / EK3_ERANGE; CLI_SEED_RANGE says it in words. */
#define CLI_SEED_RANGE "a whole number 0 to 2^63-1"
int cli_parse_seed(const char *s, uint64_t *seed);

/* Parse a signed integer within [min, max]: an optional sign, then the
 * magnitude as cli_parse_u64 reads it (decimal whatever the leading zeros,
 * hexadecimal when written 0x). Returns 0 or EK3_EPARSE / EK3_ERANGE. */
int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *v);

/* Parse a bit rate: "500000", "500k", "1M", "5M" (SI, case-insensitive
 * k/M). Returns 0 or EK3_EPARSE / EK3_ERANGE (0 or above 100 Mbit/s). */
int cli_parse_rate(const char *s, uint32_t *bps);

/* Parse a physical quantity: a number, an optional SI prefix (p n u m k
 * M G) and an optional unit that must be `unit` when given: "5ms",
 * "200e3", "200kHz", "51.6u", and with one space before the prefix or
 * unit as SI writes it (BIPM SI Brochure 5.4.3): "800 V", "5 ms". The
 * unit "ohm" is also taken as "Ohm", "OHM" or the symbol (UTF-8 U+2126
 * or U+03A9): "28Ohm", "2.5 kOhm". Returns 0 or EK3_EPARSE (the value
 * must also be finite, with no blank before it; "0x10ms" reads as strtod
 * reads hexadecimal, 16 ms). */
int cli_parse_quantity(const char *s, const char *unit, double *v);

/* Refuse time flag `flag`'s value v, as every time flag does: "ek3
 * <where>: <flag> 'v': " CLI_TIME " <range>: <why>" (CLI_TIME_SHORT
 * when the flag's largest value max_s, in seconds, is under 1 ms, so
 * that every example fits), why one of ": not
 * a time" ("abc"), ": not a finite number" ("1e999s", "nan"), ": milli
 * or minutes? write ms or min" ("5m"), ": units are lower case (1s,
 * 1ms)" ("1S", "5MS"), ": not one number and a unit: the number read
 * ends before '.3s'" ("1.2.3s", "1e5e3s"), ": 'x' is not a unit of time
 * (...)" ("5x"), ": a blank before the number" (" 1s"),
 * ": -1 s is negative" ("-1s"), else the value read and ": ... is outside
 * it" ("50 us is outside it"). range says what the flag takes ("from 0
 * up to a day"). Returns CLI_USAGE (cli_usage_error). */
int cli_time_error(const char *where, const char *flag, const char *v, const char *range, double max_s);

/* Why the time v is refused, as cli_time_error words it, into why
 * (cap bytes; 128 hold every form): ": not a time", ..., ": 1 s is
 * outside it" (v read, but not what the caller takes: the caller says
 * what it takes). Returns why. */
const char *cli_time_why(const char *v, char *why, size_t cap);

/* Why s (a number, a prefix and unit) cannot be read as a double when
 * that is the reason: strtod's ERANGE (above about 1e308, or under about
 * 1e-308 and not 0), or a prefix that scales a finite number past the
 * largest double ("1e308Gs"). Returns a static phrase, or NULL when s
 * reads (or fails for another reason: cli_parse_quantity). */
const char *cli_range_why(const char *s, const char *unit);

/* Why s, which cli_parse_quantity refused for `unit`, is refused, when a
 * letter's case explains it: a capital K ("kilo is a lower-case k
 * (2.5kohm)"), or the unit or its prefix in the wrong case ("the unit
 * is W (20kW)"; for "20mw": "the unit is W (20mW is milli, 20MW
 * mega)"). Writes the phrase into buf (cap bytes) and returns buf;
 * "" when no case slip explains it (no number, another unit, or a unit
 * such as the ohm that any case spells: cli_parse_quantity). */
const char *cli_quantity_hint(const char *s, const char *unit, char *buf, size_t cap);

/* What a time (unit "s") may be written as: cli_parse_quantity also takes
 * "min" and "h" there, and refuses "m" alone (milli, or minutes?). For
 * the messages: "--duration '%s': " CLI_TIME " from ...". */
#define CLI_TIME "a time (2s, 150ms, 100us, 5min, 1h)"
#define CLI_TIME_SHORT "a time (2us, 1.5us, 1500ns)" /* for flags under 1 ms: cli_time_error */

/* A figure's value and unit as people read them: the value scaled to an
 * SI prefix (p, n, u, m, k, M) when the unit is s, V, A, W, Hz or Ohm
 * ("3.9 us" for 3.9e-6 "s", "62.5 ms", "3.3 kW", "40 mA", "7.4 pV"; p
 * at the smallest, below 1e-12 unscaled: "3e-16 V"; seconds never scaled
 * up: "75 s"), any other unit as given ("12 %", "85 C"), no unit: the
 * number alone; a NaN as "NaN" (printf's sign of it dropped). Six significant
 * digits (%.6g). Writes at most cap bytes, NUL included, into buf and
 * returns it. A scenario's figures, verdict.txt and the report read
 * this way; JSON keeps the value in the unit itself (SI, unscaled). */
const char *cli_si(char *buf, size_t cap, double value, const char *unit);

/* cli_si with `digits` significant digits (1 to 17) in place of six:
 * a figure the program worked out rather than one the user gave
 * ("19 kW" for 19047.6 W at 3, "80.4 W"). */
const char *cli_si_n(char *buf, size_t cap, double value, const char *unit, int digits);

/* A list of numbers for a message ("3, 5, 7, ..."): add v to buf (cap
 * bytes, NUL kept; *len its length so far, *count the numbers offered so
 * far, both 0 at first). The first `max` go in, joined by ", "; the next
 * adds ", ..." once; later ones are only counted. Truncates at cap. */
void cli_list_add(char *buf, size_t cap, size_t *len, unsigned *count, unsigned max, unsigned v);

/* Parse hex bytes ("00112233", optional "0x", spaces and ':' ignored)
 * into out[cap]; *n gets the count. EK3_EPARSE / EK3_ENOSPC. */
int cli_parse_hex(const char *s, uint8_t *out, size_t cap, size_t *n);

/* Open FILE for reading, "-" meaning stdin. NULL on failure (errno set;
 * EISDIR for a directory, which fopen opens and every read then fails). */
FILE *cli_open_in(const char *path);

/* For an option OPT that takes a value, v being the next argument (NULL
 * at the end of the line): 1 when v is its value; 0 when there is none,
 * or when v is itself an option ("--api --realtime"), with *missing = OPT
 * for cli_bad_arg. Used as `!strcmp(a, "--x") && cli_has_value(a, v, &m)`. */
int cli_has_value(const char *opt, const char *v, const char **missing);

/* The error for an argument that no option took: "OPT needs a value"
 * when missing names one (cli_has_value), else "unknown argument 'ARG'".
 * Returns CLI_USAGE. */
int cli_bad_arg(const char *where, const char *arg, const char *missing);

/* An output flag given an empty path ("--log ''"): "FLAG '': name a WHAT
 * (empty)", WHAT "file" or "directory". Returns CLI_USAGE (cli_usage_error). */
int cli_empty_path(const char *where, const char *flag, const char *what);

/* The options one command line gave, for the rules every ek3 command
 * shares: an option takes one value (given twice, the second would
 * silently replace the first), two options may exclude each other, and
 * one may mean nothing without another. Zero it before the parse. */
#define CLI_SEEN_MAX 64
typedef struct cli_seen {
    char opt[CLI_SEEN_MAX][32]; /* "--modules", as given (up to any '=') */
    unsigned n;
} cli_seen;

/* Record WORD when it is an option ("--modules", "--src=5"; any other
 * word, "--" alone included, is not one and is ignored). An option given
 * a second time is refused unless it is one of `many` (a NULL-terminated
 * list, NULL for none: the options that add one more each time, such as
 * --set): "ek3 WHERE: --modules is given twice: give it once". The
 * one rule of every subcommand. Returns CLI_OK, or CLI_USAGE after the
 * message. */
int cli_once(const char *where, cli_seen *s, const char *word, const char *const *many);

/* Whether option OPT ("--log") was recorded by cli_once. */
int cli_given(const cli_seen *s, const char *opt);

/* Options A and B exclude each other: when both were given, "ek3 WHERE:
 * A and B cannot be given together: WHY". Returns CLI_USAGE then, else
 * CLI_OK. */
int cli_exclusive(const char *where, const cli_seen *s, const char *a, const char *b, const char *why);

/* Option A means nothing without option B: when A was given without B,
 * "ek3 WHERE: A without B: WHY". Returns CLI_USAGE then, else CLI_OK. */
int cli_needs(const char *where, const cli_seen *s, const char *a, const char *b, const char *why);

/* Close an output file that the command wrote (NULL: nothing to do):
 * any write error on it, earlier or in the last flush, is reported as
 * "ek3 WHERE: PATH: write error: <strerror>". Returns CLI_OK or CLI_FAIL. */
int cli_close_out(const char *where, FILE *f, const char *path);

/* The columns to fold text to on f: $COLUMNS when it is a number (10 to
 * 10 000), else a terminal's width (TIOCGWINSZ; 100 when it says none),
 * else 0: a file or a pipe keeps every line whole. No errors. */
unsigned cli_text_width(FILE *f);

/* Whether two output paths name one file, however spelled: both exist
 * and are the same inode (links, symlinks, "./x"), or their directories
 * resolve (realpath) to one and the names match. /dev/null is never "the
 * same" (writes there interleave harmlessly). 1 or 0. */
int cli_same_file(const char *a, const char *b);

/* Whether an output file has failed a write (its error indicator is set);
 * if so, why[cap] gets "PATH: write error: <strerror>". 0 or 1. */
int cli_out_error(FILE *f, const char *path, char *why, size_t cap);

/* Catch SIGINT and SIGTERM for a clean stop: a long run polls
 * cli_stop_requested() once per quantum, stops there, writes what ran
 * and returns; cli_finish then ends the process as killed by the signal.
 * A second SIGINT or SIGTERM a second or more after the first ends the
 * process at once (the default action); one within the second is the
 * same stop delivered twice (timeout(1), a terminal's process group) and
 * is ignored. Returns 0 or EK3_EIO. */
int cli_catch_stop(void);

/* The signal number that asked for a stop, or 0. Async-signal-safe read. */
int cli_stop_requested(void);

/* The name of that stop: "SIGTERM", or "SIGINT" (the other one
 * cli_catch_stop catches, and what a stop not yet asked for would be). */
const char *cli_stop_name(void);

/* A command's own report that writing standard output failed (a full
 * disk, a closed pipe): flushes it for the error of the bytes still
 * pending (else errno as the failed write left it, EIO when 0), prints
 * "ek3 WHERE: write error on standard output: <strerror>" once, and
 * marks it said so that cli_finish does not say it again. Returns
 * CLI_FAIL. */
int cli_stdout_error(const char *where);

/* The end of every ek3 run, given the command's exit code: flushes and
 * closes standard output; a write error there (a full disk, a closed
 * pipe) is reported as "ek3: write error on standard output: <strerror>"
 * (unless cli_stdout_error said it already) and turns an exit code 0
 * into 1. After a clean stop on SIGINT/SIGTERM
 * it re-raises that signal (POSIX convention: the parent sees the
 * command interrupted). Returns the exit code. */
int cli_finish(int rc);

/* The optimal string alignment distance between a and b: Levenshtein's
 * (one insertion, deletion or substitution costs 1; Soviet Physics
 * Doklady 10(8), 1966) with Damerau's adjacent transposition (CACM 7(3),
 * 1964) costing 1 too, so "iuot" is 1 from "iout". Letters compare
 * without their case, so "BUS.V" is 0 from "bus.v" (a name typed in the
 * wrong case is found, not left without a suggestion). For "did you
 * mean" in errors. Only the first 127 characters of each string count. */
unsigned cli_edit_distance(const char *a, const char *b);

/* The (up to) `k` names closest to s by cli_edit_distance, nearest
 * first, ties in list order, as "a, b, c" into buf[cap]. name_of(i, ctx)
 * gives name i of n (NULL: skipped). Returns buf ("" when n is 0). */
const char *cli_closest(const char *s, size_t n, const char *(*name_of)(size_t i, const void *ctx), const void *ctx,
                        unsigned k, char *buf, size_t cap);

/* cli_closest for "did you mean": only names within edit distance
 * max(2, strlen(s) / 3) of s, so a name like none of them ("nosuch")
 * gets "" rather than the list's first three. Two words in the other
 * order count by their distance that way round ("igf-trip" is near
 * "trip-gfi"), and a name that is one of s's words is offered too
 * ("igf" for "igf-trip"), after those nearer by spelling (cli_closest
 * ranks the same way). */
const char *cli_near(const char *s, size_t n, const char *(*name_of)(size_t i, const void *ctx), const void *ctx,
                     unsigned k, char *buf, size_t cap);

#endif /* CLI_H */
