/* pool.c - a pool of child processes (pool.h). */
#define _GNU_SOURCE
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ek3_err.h"

typedef struct pool_kid {
    pid_t pid;
    int fd, lfd;              /* the result pipe, the log pipe (-1: closed / none) */
    int log;                  /* the log file (-1: none) */
    size_t j;
    char out[POOL_OUT_MAX];
    size_t len, log_bytes;
    int log_cut, log_errno, termed, timed_out, status;
    double t0, deadline, term_at;
} pool_kid;

static double pool_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Write it all: 0, or the errno of the failed write. */
static int pool_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : EIO;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Read what is there from the kid's pipes (non-blocking); closes a pipe at its end. */
static void pool_drain(pool_kid *k, size_t log_cap)
{
    char buf[8192];
    while (k->fd >= 0) {
        ssize_t n = read(k->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0 || errno != EAGAIN) {
                close(k->fd);
                k->fd = -1;
            }
            break;
        }
        size_t room = sizeof k->out - 1 - k->len, take = (size_t)n < room ? (size_t)n : room;
        memcpy(k->out + k->len, buf, take);
        k->len += take;
    }
    while (k->lfd >= 0) {
        ssize_t n = read(k->lfd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0 || errno != EAGAIN) {
                close(k->lfd);
                k->lfd = -1;
            }
            break;
        }
        size_t keep = k->log_bytes < log_cap ? log_cap - k->log_bytes : 0;
        if (keep > (size_t)n)
            keep = (size_t)n;
        int we = keep && k->log >= 0 ? pool_write_all(k->log, buf, keep) : 0;
        if (we && !k->log_errno)
            k->log_errno = we;
        if (keep < (size_t)n)
            k->log_cut = 1;
        k->log_bytes += (size_t)n;
    }
}

static void pool_signal(pool_kid *k, int sig)
{
    if (kill(-k->pid, sig)) /* its process group: what it started too */
        kill(k->pid, sig);
}

/* Start job j into k. 0 or EK3_EIO (err says why). */
static int pool_start(const pool_spec *s, size_t j, pool_kid *k, char *err, size_t cap)
{
    memset(k, 0, sizeof *k);
    k->fd = k->lfd = k->log = -1;
    k->j = j;
    char path[1024];
    int p[2], l[2] = {-1, -1};
    if (s->log && s->log(s->ctx, j, path, sizeof path)) {
        k->log = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (k->log < 0) {
            snprintf(err, cap, "%s: %s", path, strerror(errno));
            return EK3_EIO;
        }
        if (pipe2(l, O_CLOEXEC)) {
            snprintf(err, cap, "pipe: %s", strerror(errno));
            close(k->log);
            return EK3_EIO;
        }
    }
    if (pipe2(p, O_CLOEXEC)) {
        snprintf(err, cap, "pipe: %s", strerror(errno));
        if (k->log >= 0)
            close(k->log), close(l[0]), close(l[1]);
        return EK3_EIO;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a parent killed outright leaves no run behind */
        close(p[0]);
        if (l[1] >= 0) {
            dup2(l[1], STDOUT_FILENO);
            dup2(l[1], STDERR_FILENO);
        }
        int rc = s->run(s->ctx, j, p[1]);
        fflush(NULL);
        _exit(rc & 0xff);
    }
    close(p[1]);
    if (l[1] >= 0)
        close(l[1]);
    if (pid < 0) {
        snprintf(err, cap, "fork: %s", strerror(errno));
        close(p[0]);
        if (l[0] >= 0)
            close(l[0]), close(k->log);
        return EK3_EIO;
    }
    setpgid(pid, pid);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    if (l[0] >= 0)
        fcntl(l[0], F_SETFL, O_NONBLOCK);
    k->pid = pid;
    k->fd = p[0];
    k->lfd = l[0];
    k->t0 = pool_now();
    double d = s->deadline ? s->deadline(s->ctx, j) : 0;
    k->deadline = d > 0 ? k->t0 + d : 0;
    return 0;
}

/* The kid has been reaped: its last output, its log's end, done(). */
static void pool_finish(const pool_spec *s, pool_kid *k, size_t log_cap)
{
    int fl;
    if (k->fd >= 0 && (fl = fcntl(k->fd, F_GETFL)) >= 0)
        fcntl(k->fd, F_SETFL, fl | O_NONBLOCK);
    pool_drain(k, log_cap);
    if (k->fd >= 0)
        close(k->fd);
    if (k->lfd >= 0)
        close(k->lfd);
    k->fd = k->lfd = -1;
    if (k->log >= 0) {
        if (k->log_cut) {
            char line[160];
            int n = snprintf(line, sizeof line, "\n[run.log cut at %zu KiB: %zu more bytes not kept]\n",
                             log_cap >> 10, k->log_bytes - log_cap);
            int we = pool_write_all(k->log, line, (size_t)n);
            if (we && !k->log_errno)
                k->log_errno = we;
        }
        if (close(k->log) && !k->log_errno)
            k->log_errno = errno;
        k->log = -1;
    }
    k->out[k->len] = 0;
    pool_end e = {.j = k->j,
                  .status = k->status,
                  .timed_out = k->timed_out,
                  .wall_s = pool_now() - k->t0,
                  .out = k->out,
                  .log_bytes = k->log_bytes,
                  .log_cut = k->log_cut,
                  .log_errno = k->log_errno};
    if (s->done)
        s->done(s->ctx, &e);
}

int pool_run(const pool_spec *s, size_t *started, char *err, size_t cap)
{
    static pool_kid kid[POOL_MAX];
    unsigned at_once = s->at_once < 1 ? 1 : s->at_once > POOL_MAX ? POOL_MAX : s->at_once, nkid = 0;
    size_t log_cap = s->log_cap ? s->log_cap : 256u << 10, next = 0;
    double kill_after = s->kill_after_s > 0 ? s->kill_after_s : 5;
    int rc = 0;
    if (err && cap)
        err[0] = 0;
    for (;;) {
        int stopping = s->stop && s->stop();
        while (!stopping && !rc && nkid < at_once && next < s->n) {
            rc = pool_start(s, next, &kid[nkid], err, cap);
            if (!rc) {
                nkid++;
                next++;
            }
        }
        if (!nkid)
            break;
        struct pollfd pf[2 * POOL_MAX];
        nfds_t np = 0;
        for (unsigned i = 0; i < nkid; i++) {
            if (kid[i].fd >= 0)
                pf[np++] = (struct pollfd){.fd = kid[i].fd, .events = POLLIN};
            if (kid[i].lfd >= 0)
                pf[np++] = (struct pollfd){.fd = kid[i].lfd, .events = POLLIN};
        }
        if (np)
            poll(pf, np, 100);
        else
            usleep(20000);
        double now = pool_now();
        for (unsigned i = 0; i < nkid; i++) {
            pool_kid *k = &kid[i];
            pool_drain(k, log_cap);
            if (waitpid(k->pid, &k->status, WNOHANG) == k->pid) {
                pool_finish(s, k, log_cap);
                kid[i--] = kid[--nkid];
                continue;
            }
            if (!k->termed && ((k->deadline > 0 && now > k->deadline) || stopping)) {
                k->timed_out = !stopping;
                k->termed = 1;
                k->term_at = now;
                pool_signal(k, SIGTERM);
            } else if (k->termed == 1 && now > k->term_at + kill_after) {
                k->termed = 2;
                pool_signal(k, SIGKILL);
            }
        }
    }
    if (started)
        *started = next;
    return rc;
}
