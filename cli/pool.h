/*
 * pool.h - a pool of child processes (prefix pool_): the one fork pool
 * of `ek3 scenario run --jobs N` and `ek3 nightly`. Each job runs in its
 * own child (fork, no exec) so that a crash, a hang or a leak is that
 * job's alone; up to `at_once` run together; the parent collects each
 * child's short result text (a pipe), optionally its stdout and stderr
 * into a log file (capped, with a line saying what was cut), kills a
 * child past its deadline (SIGTERM, then SIGKILL), and hands each end to
 * a callback in the order they end.
 */
#ifndef POOL_H
#define POOL_H

#include <stddef.h>

#define POOL_MAX 64u          /* children at once */
#define POOL_OUT_MAX 4096u    /* bytes of a child's result text kept */

/* How one job ended. */
typedef struct pool_end {
    size_t j;                 /* the job's index */
    int status;               /* waitpid()'s status (WIFEXITED, WIFSIGNALED...) */
    int timed_out;            /* the pool killed it: past its deadline */
    double wall_s;            /* fork to reap, wall clock */
    const char *out;          /* what the child wrote to its result fd, NUL-ended */
    size_t log_bytes;         /* bytes the child wrote to stdout/stderr (all, kept or not) */
    int log_cut;              /* the log was cut at log_cap */
    int log_errno;            /* a write to the log failed (errno), else 0 */
} pool_end;

typedef struct pool_spec {
    size_t n;                 /* jobs 0..n-1, started in that order */
    unsigned at_once;         /* 1..POOL_MAX children at a time */
    void *ctx;
    /* In the child: run job j, write its result text (a line or so) to
     * fd, return the exit status (0..255). The child then _exit()s. */
    int (*run)(void *ctx, size_t j, int fd);
    /* Optional, in the parent before the fork: 1 with path[cap] set when
     * job j's stdout and stderr go to that file (made or truncated), 0
     * when they stay the parent's. */
    int (*log)(void *ctx, size_t j, char *path, size_t cap);
    size_t log_cap;           /* bytes of a log kept (0: 256 KiB) */
    /* Optional: job j's deadline in seconds of wall time (<= 0: none);
     * past it the child gets SIGTERM, and SIGKILL kill_after_s later. */
    double (*deadline)(void *ctx, size_t j);
    double kill_after_s;      /* 0: 5 s */
    /* Optional, polled: non-zero starts no more jobs and sends SIGTERM to
     * the running ones (they end and are still handed to done). */
    int (*stop)(void);
    /* In the parent, as each job ends (its log closed). */
    void (*done)(void *ctx, const pool_end *e);
} pool_spec;

/* Run the jobs of s. *started (may be NULL) gets how many were started
 * (each of them handed to done); the rest were not, for a stop or a
 * failed fork. 0, or EK3_EIO when a pipe, a fork or a log file failed
 * (err[cap] says which and why; the jobs started before are still
 * waited for and handed to done). */
int pool_run(const pool_spec *s, size_t *started, char *err, size_t cap);

#endif /* POOL_H */
