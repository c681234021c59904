/*
 * cli_run.h - what the suites that drive the `ek3` executable share: a
 * fresh temporary folder per test, a shell command run with its output
 * captured, paths in that folder, and a substring count. Header only;
 * one suite per file:
 *
 *     CLI_RUN_SUITE(cli, "ek3-cli")   // TestSuite(cli) with the folder
 *
 * EK3_BIN (the executable under test) comes from tests/CMakeLists.txt.
 */
#ifndef CLI_RUN_H
#define CLI_RUN_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#ifndef EK3_BIN
#error "EK3_BIN must name the ek3 executable"
#endif

static char dir[64]; /* this test's temporary folder */

/* A suite whose every test gets a fresh /tmp/PREFIX-XXXXXX, removed after. */
#define CLI_RUN_SUITE(name, prefix)                                                                                    \
    static void cli_run_setup(void)                                                                                  \
    {                                                                                                                \
        snprintf(dir, sizeof dir, "/tmp/" prefix "-XXXXXX");                                                         \
        cr_assert_not_null(mkdtemp(dir));                                                                            \
    }                                                                                                                \
    static void cli_run_teardown(void)                                                                               \
    {                                                                                                                \
        char cmd[128];                                                                                               \
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);                                                               \
        cr_expect_eq(system(cmd), 0);                                                                                \
    }                                                                                                                \
    TestSuite(name, .init = cli_run_setup, .fini = cli_run_teardown)

/* Run a shell command (printf-style, at most 8 KiB); its stdout and stderr
 * land in out[cap] (NUL-terminated, cut at cap - 1). The exit status, or
 * -1 if it did not exit normally. COLUMNS is unset (a pipe's output keeps
 * its lines whole: cli_text_width) unless the command sets it. */
static inline int run(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline int run(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[8192] = "unset COLUMNS; ";
    va_list ap;
    va_start(ap, fmt);
    size_t at = strlen(cmd);
    vsnprintf(cmd + at, sizeof cmd - at, fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "popen %s", cmd);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* NAME in this test's folder (one of four rotating buffers). */
static inline char *path(const char *name)
{
    static char buf[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* How many times needle occurs in hay, without overlap. */
/* A whole file into buf (NUL-terminated); its length, or -1. */
static inline long file_text(const char *p, char *buf, size_t cap)
{
    FILE *f = fopen(p, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return (long)n;
}

static inline unsigned count(const char *hay, const char *needle)
{
    unsigned n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

#endif /* CLI_RUN_H */
