/*
 * cli.h - shared pieces of the `ek3` command (prefix cli_).
 *
 * Exit codes of every subcommand: 0 success, 1 the work found bad data
 * or failed (a bad frame in a log, a failed check), 2 a bad flag or
 * value on the command line (after a message naming it).
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

/* Print "ek3 <where>: <message>" to stderr; returns CLI_FAIL. */
int cli_fail(const char *where, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Run the subcommand of `cmds` named by argv[1] (argv[0] is the parent's
 * name, e.g. "can"); prints the table for "help", "--help" or nothing. */
int cli_dispatch(const char *parent, const char *summary, const cli_cmd *cmds, size_t n,
                 int argc, char **argv);

/* Is this argument a request for help? */
int cli_is_help(const char *arg);

/* Parse a whole unsigned number, decimal or 0x-hex, at most max.
 * Returns 0 or EK3_EPARSE / EK3_ERANGE. */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *v);

/* Parse a signed decimal integer within [min, max]. */
int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *v);

/* Parse a bit rate: "500000", "500k", "1M", "5M" (SI, case-insensitive
 * k/M). Returns 0 or EK3_EPARSE / EK3_ERANGE (0 or above 100 Mbit/s). */
int cli_parse_rate(const char *s, uint32_t *bps);

/* Parse a physical quantity: a number, an optional SI prefix (p n u m k
 * M G) and an optional unit that must be `unit` when given: "5ms",
 * "200e3", "200kHz", "51.6u". Returns 0 or EK3_EPARSE (the value must
 * also be finite). */
int cli_parse_quantity(const char *s, const char *unit, double *v);

/* Parse hex bytes ("00112233", optional "0x", spaces and ':' ignored)
 * into out[cap]; *n gets the count. EK3_EPARSE / EK3_ENOSPC. */
int cli_parse_hex(const char *s, uint8_t *out, size_t cap, size_t *n);

/* Open FILE for reading, "-" meaning stdin. NULL on failure (errno set). */
FILE *cli_open_in(const char *path);

#endif /* CLI_H */
