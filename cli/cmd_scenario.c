/* cmd_scenario.c - `ek3 scenario`: run scenarios (scenarios/scn.h), list them, their signals and faults. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "scope_cli.h"
#include "params.h"
#include "pool.h"
#include "rack.h"
#include "cmd.h"
#include "ek3_err.h"
#include "fault.h"
#include "ngt.h"
#include "scn.h"
#include "vrd.h"
#include "shr.h"
#include "sig.h"
#include "trc.h"

static int sc_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .lua files under dir (its lib/ folders left out: helper modules), sorted. */
static int sc_scan(const char *w, const char *dir, sc_files *f, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return cli_usage_error(w, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    unsigned first = f->n;
    int rc = CLI_OK;
    while ((e = readdir(d)) && rc == CLI_OK) {
        if (e->d_name[0] == '.')
            continue;
        char p[1024];
        size_t dl = strlen(dir);
        if (snprintf(p, sizeof p, "%.*s/%s", (int)(dl > 1 && dir[dl - 1] == '/' ? dl - 1 : dl), dir, e->d_name) >=
            (int)sizeof p)
            continue;
        struct stat st;
        if (stat(p, &st))
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (strcmp(e->d_name, "lib") && depth < 8)
                rc = sc_scan(w, p, f, depth + 1);
            continue;
        }
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".lua"))
            continue;
        if (f->n >= SC_FILES_MAX) {
            rc = cli_usage_error(w, "%s: more than %u scenario files", dir, SC_FILES_MAX);
            break;
        }
        f->path[f->n++] = strdup(p);
    }
    closedir(d);
    qsort(f->path + first, f->n - first, sizeof f->path[0], sc_cmp);
    return rc;
}

int sc_collect(const char *w, int argc, char **argv, int *used, sc_files *f)
{
    int nused = 0;
    for (int i = 1; i < argc; i++)
        nused += used[i] != 0;
    for (int i = 1; i < argc; i++) {
        if (!used[i])
            continue;
        struct stat st;
        if (stat(argv[i], &st))
            return cli_usage_error(w, "%s: %s", argv[i], strerror(errno));
        if (S_ISDIR(st.st_mode)) {
            unsigned before = f->n;
            int rc = sc_scan(w, argv[i], f, 0);
            if (rc)
                return rc;
            if (f->n == before && nused > 1) /* alone, it is the error below */
                fprintf(stderr, "ek3 %s: note: %s: no .lua scenario files in it (lib/ folders left out)\n", w, argv[i]);
        } else if (f->n < SC_FILES_MAX) {
            f->path[f->n++] = strdup(argv[i]);
        }
    }
    return CLI_OK;
}

/* `scenario run` and `list` on paths that hold no scenario: CLI_USAGE
 * naming them (`ek3 nightly` has --allow-empty for an empty night). */
static int sc_none(const char *w, int argc, char **argv, const int *used)
{
    char where[600] = "";
    for (int i = 1, n = 0; i < argc; i++)
        if (used[i] && strlen(where) + strlen(argv[i]) + 8 < sizeof where)
            n += snprintf(where + n, sizeof where - (size_t)n, "%s%s", n ? ", " : "", argv[i]);
    return cli_usage_error(w, "no .lua scenario files in %s (a directory's are searched for, lib/ folders left out)",
                           where);
}

void sc_free(sc_files *f)
{
    for (unsigned i = 0; i < f->n; i++)
        free(f->path[i]);
    f->n = 0;
}

static const char *const sc_level_name[3] = {"quick", "nightly", "soak"}; /* by sc_level_rank */

static int sc_level_rank(const char *l)
{
    return !strcmp(l, sc_level_name[0]) ? 0 : !strcmp(l, sc_level_name[1]) ? 1 : 2;
}

static int sc_stop(void *ctx)
{
    (void)ctx;
    return cli_stop_requested();
}

/* The trace of one run (--probe, --vcd, --trace-csv; scopes/trc.h): the
 * tracer joins the session when rack{} has built it. */
typedef struct sc_trace {
    trc_opts o;
    trc t;
    int open;          /* trc_open succeeded */
    int rc;            /* trc_open's error, or 0 */
    char err[1200];
} sc_trace;
static sc_trace sc_tr;

/* What joins a run's session when rack{} has built it: the live scope's
 * window and the trace, each when asked. */
typedef struct sc_hooks {
    scw *win;
    sc_trace *tr;
} sc_hooks;

static int sc_on_session(ses *s, void *ctx, char *err, size_t cap)
{
    sc_hooks *h = ctx;
    int rc;
    if (h->win && (rc = scw_attach(h->win, s)) != 0 && s) {
        snprintf(err, cap, "the live scope: %s", rc == EK3_ERANGE ? scw_why(h->win) : ek3_strerror(rc));
        return rc;
    }
    if (!s || !h->tr)
        return 0;
    sc_trace *x = h->tr;
    x->rc = trc_open(&x->t, s, &x->o, x->err, sizeof x->err);
    x->open = !x->rc;
    if (x->rc)
        snprintf(err, cap, "%s", x->err);
    return x->rc;
}

/* Hook the live scope and the trace (each when asked) into the run's
 * options; h lives as long as the run. */
static void sc_hook(scn_opts *o, sc_hooks *h, scw *win)
{
    *h = (sc_hooks){win, trc_wanted(&sc_tr.o) ? &sc_tr : NULL};
    if (!h->win && !h->tr)
        return;
    o->on_session = sc_on_session;
    o->session_ctx = h;
}

/* After the run: close the trace. CLI_OK; CLI_USAGE for a bad probe
 * (said); CLI_FAIL for a write error (said). With quiet_stop, a probe or
 * an output that failed at rack{} and a write error that stopped the run
 * (trc.failed) are not said again, as the run's ERROR verdict named
 * them, and give CLI_OK: the verdict decides the exit, as for --log. */
static int sc_trace_end(const char *w, int quiet_stop)
{
    if (!trc_wanted(&sc_tr.o))
        return CLI_OK;
    if (sc_tr.rc && quiet_stop) /* the run's ERROR said it (sc_on_session's err) */
        return CLI_OK;
    if (sc_tr.rc)
        return sc_tr.rc == EK3_EIO ? cli_fail(w, "%s", sc_tr.err) : cli_usage_error(w, "%s", sc_tr.err);
    if (!sc_tr.open)
        return cli_fail(w, "the scenario built no rack: nothing traced");
    char err[1200];
    sc_tr.open = 0;
    uint64_t samples = sc_tr.t.samples;
    int stopped = sc_tr.t.failed;
    if (trc_close(&sc_tr.t, err, sizeof err))
        return quiet_stop && stopped ? CLI_OK : cli_fail(w, "%s", err);
    if (!samples)
        return cli_fail(w, "--from %g s: the run ended before it: nothing traced", sc_tr.o.from_s);
    return CLI_OK;
}

typedef struct sc_job {
    const char *path;
    uint64_t seed;
    char name[64]; /* the manifest's */
} sc_job;

static char sc_log_name[1100]; /* "--log PATH": the frame log's name in a write error */

/* Run one job; the verdict line into `line`. */
static int sc_run_one(const sc_job *j, const char *report, unsigned threads, FILE *log, scw *win, char *line,
                      size_t cap)
{
    scn_opts o = {.seed = j->seed, .out = stderr, .threads = threads, .stop = sc_stop, .can_log = log,
                  .can_log_name = sc_log_name};
    sc_hooks hk;
    sc_hook(&o, &hk, win);
    char dir[1200];
    if (report) {
        scn_manifest m;
        char err[600];
        if (!scn_manifest_read(j->path, &m, err, sizeof err)) {
            snprintf(dir, sizeof dir, "%s/%s", report, m.name);
            mkdir(dir, 0777);
            snprintf(dir, sizeof dir, "%s/%s/seed-%llu", report, m.name, (unsigned long long)j->seed);
            if (mkdir(dir, 0777) && errno != EEXIST) {
                snprintf(line, cap, "ERROR  %-28s seed %-4llu --report: %s: %s\n", m.name,
                         (unsigned long long)j->seed, dir, strerror(errno));
                return SCN_ERROR;
            }
            o.report_dir = dir;
        }
    }
    return vrd_run(j->path, &o, line, cap);
}

/* The fork pool's side of `ek3 scenario run --jobs N` (pool.h): the
 * lines printed in job order as they come. */
typedef struct sc_pool {
    const sc_job *job;
    const char *report;
    unsigned threads;
    char **lines;
    int *verdict;
    size_t nj, printed, done;
} sc_pool;

static int sc_pool_run(void *ctx, size_t j, int fd)
{
    sc_pool *p = ctx;
    char line[4096];
    int v = sc_run_one(&p->job[j], p->report, p->threads, NULL, NULL, line, sizeof line);
    size_t n = strlen(line), off = 0;
    while (off < n) {
        ssize_t k = write(fd, line + off, n - off);
        if (k <= 0)
            break;
        off += (size_t)k;
    }
    return v;
}

static void sc_pool_done(void *ctx, const pool_end *e)
{
    sc_pool *p = ctx;
    int st = e->status;
    p->verdict[e->j] = WIFEXITED(st) && WEXITSTATUS(st) <= VRD_STOPPED ? WEXITSTATUS(st) : SCN_ERROR;
    char buf[POOL_OUT_MAX + 200];
    if (e->out[0])
        snprintf(buf, sizeof buf, "%s", e->out);
    else
        snprintf(buf, sizeof buf, "ERROR  %s seed %llu: the run's process ended (status %d)\n", p->job[e->j].path,
                 (unsigned long long)p->job[e->j].seed, st);
    p->lines[e->j] = strdup(buf);
    p->done++;
    while (p->printed < p->nj && p->lines[p->printed]) {
        fputs(p->lines[p->printed], stdout);
        fflush(stdout);
        p->printed++;
    }
}

/* One run under the live scope, on its worker thread. */
typedef struct sc_scoped {
    const sc_job *job;
    const char *report;
    unsigned threads;
    FILE *log;
    scw *win;
    char line[4096];
} sc_scoped;

static int sc_scoped_run(void *ctx)
{
    sc_scoped *c = ctx;
    return sc_run_one(c->job, c->report, c->threads, c->log, c->win, c->line, sizeof c->line);
}

static int sc_usage_run(void)
{
    puts("usage: ek3 scenario run FILE|DIR... [--seed N] [--level quick|nightly|soak] [--report DIR]\n"
         "                        [--jobs N] [--threads N] [--log FILE]\n"
         "                        [--scope [--scope-shot FILE@TIME] [--scope-hold]\n"
         "                         [--scope-select SLOTS] [--scope-fps 60] [--scope-keys KEYS]]\n"
         "                        [--probe PATHS [--vcd FILE [--vcd-flavour full|sigrok]]\n"
         "                         [--trace-csv FILE] [--probe-every 100us] [--from T0] [--to T1]]\n"
         "                        (one --probe; a --vcd, a CSV or both)\n\n"
         "Runs each scenario (a DIR: every .lua file under it, lib/ folders left out)\n"
         "with each seed of its manifest, or with --seed N alone, and prints one line per\n"
         "run: PASS; FAIL with the first failed check, its time, figure and limit; or\n"
         "ERROR with the script's file:line and why. --level runs the scenarios of that\n"
         "level and below (quick < nightly < soak; default nightly). --report writes\n"
         "DIR/NAME/seed-N/ per run: verdict.json, verdict.txt and the captures. --jobs\n"
         "runs N scenarios at once (processes); --threads spreads each rack's modules\n"
         "(default 1; rack{threads=} wins). --log writes one run's frames (HIL\n"
         "channel and rack bus) as a candump log. --probe traces signals by path of one\n"
         "run (name one scenario and --seed N) into --vcd and/or --trace-csv, as ek3\n"
         "rack does (docs/scopes.md, Traces). Ctrl-C (SIGINT) or SIGTERM ends the run under\n"
         "way and starts no other: each is a NOTRUN line (no verdict; its --report says\n"
         "INTERRUPTED) and the summary says INTERRUPTED. Exit: 0 all passed, 1 a failure\n"
         "(a FAIL, or an output that could not be written: stderr names which), 2 an\n"
         "error in a scenario, a bad flag, or nothing to run (every file above --level);\n"
         "130 after SIGINT, 143 after SIGTERM. For one scenario and one seed:");
    puts(scope_usage);
    return CLI_OK;
}

static int sc_run(int argc, char **argv)
{
    const char *w = "scenario run";
    uint64_t seed = 0;
    int seed_given = 0;
    const char *report = NULL, *level = "nightly", *log_path = NULL;
    unsigned jobs = 1, threads = 1;
    static scope_args sa;
    memset(&sa, 0, sizeof sa);
    int used[argc + 1];
    memset(used, 0, sizeof used);
    int nfiles = 0;
    const char *miss = NULL;
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    int rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
        if (cli_is_help(a))
            return sc_usage_run();
        if (cli_once(w, &seen, a, NULL))
            return CLI_USAGE;
        int sr = scope_arg(w, argc, argv, &i, &sa);
        if (sr == SCOPE_BAD)
            return CLI_USAGE;
        if (sr)
            continue;
        if (!strcmp(a, "--seed") && cli_has_value(a, v, &miss)) {
            if (cli_parse_seed(v, &seed))
                return cli_usage_error(w, "--seed '%s': " CLI_SEED_RANGE, v);
            seed_given = 1;
            i++;
        } else if ((!strcmp(a, "--report") || !strcmp(a, "--log")) && cli_has_value(a, v, &miss) && !v[0]) {
            return cli_empty_path(w, a, a[2] == 'r' ? "directory" : "file");
        } else if (!strcmp(a, "--report") && cli_has_value(a, v, &miss)) {
            report = v;
            i++;
        } else if (!strcmp(a, "--log") && cli_has_value(a, v, &miss)) {
            log_path = v;
            i++;
        } else if (!strcmp(a, "--level") && cli_has_value(a, v, &miss)) {
            if (strcmp(v, "quick") && strcmp(v, "nightly") && strcmp(v, "soak"))
                return cli_usage_error(w, "--level '%s': quick, nightly or soak", v);
            level = v;
            i++;
        } else if (!strcmp(a, "--jobs") && cli_has_value(a, v, &miss)) {
            if (cli_parse_u64(v, 64, &u) || u < 1)
                return cli_usage_error(w, "--jobs '%s': a whole number, 1 to 64", v);
            jobs = (unsigned)u;
            i++;
        } else if (!strcmp(a, "--threads") && cli_has_value(a, v, &miss)) {
            if (cli_parse_u64(v, 256, &u) || u < 1)
                return cli_usage_error(w, "--threads '%s': a whole number, 1 to 256", v);
            threads = (unsigned)u;
            i++;
        } else if ((rc = trc_arg(w, a, v, &sc_tr.o, &miss)) != 0) {
            if (rc != 1)
                return CLI_USAGE;
            i++;
        } else if (a[0] == '-' && a[1]) {
            return cli_bad_arg(w, a, miss);
        } else {
            used[i] = 1;
            nfiles++;
        }
    }
    if (trc_args_check(w, &seen, &sc_tr.o))
        return CLI_USAGE;
    if (!nfiles)
        return cli_usage_error(w, "name a scenario file or a directory of them, e.g. ek3 scenario run scenarios/");
    static sc_files f;
    rc = sc_collect(w, argc, argv, used, &f);
    if (rc)
        return rc;
    if (!f.n)
        return sc_none(w, argc, argv, used);
    /* The jobs: each file with each seed of its manifest. A manifest that
     * does not read is one ERROR job. */
    size_t cap = 64, nj = 0;
    sc_job *job = malloc(cap * sizeof *job);
    unsigned errors = 0, failed = 0, passed = 0, skipped = 0, unread = 0;
    int skip_rank = 0; /* the highest level of the files --level left out */
    for (unsigned i = 0; i < f.n && job; i++) {
        scn_manifest m;
        char err[700];
        if (scn_manifest_read(f.path[i], &m, err, sizeof err)) {
            printf("ERROR  %-28s %s\n", f.path[i], err);
            unread++;
            continue;
        }
        if (sc_level_rank(m.level) > sc_level_rank(level)) {
            skipped++;
            if (sc_level_rank(m.level) > skip_rank)
                skip_rank = sc_level_rank(m.level);
            continue;
        }
        for (unsigned k = 0; k < (seed_given ? 1u : m.nseeds); k++) {
            if (nj == cap) {
                sc_job *nb = realloc(job, 2 * cap * sizeof *job);
                if (!nb)
                    break;
                job = nb;
                cap *= 2;
            }
            job[nj] = (sc_job){f.path[i], seed_given ? seed : m.seeds[k], ""};
            snprintf(job[nj++].name, sizeof job->name, "%s", m.name);
        }
    }
    if (!job) {
        sc_free(&f);
        return cli_fail(w, "out of memory");
    }
    /* Without --report the lines name the scenario, not its file: which
     * is which is said first (the lines come in the order of the files). */
    for (size_t a = 0; !report && a < nj; a++)
        for (size_t b = a + 1; b < nj; b++)
            if (!strcmp(job[a].name, job[b].name) && strcmp(job[a].path, job[b].path) &&
                (a == 0 || strcmp(job[a - 1].path, job[a].path) || strcmp(job[a - 1].name, job[a].name))) {
                fprintf(stderr, "ek3 %s: note: %s and %s both name scenario '%s': their lines below come in that "
                                "order\n",
                        w, job[a].path, job[b].path, job[a].name);
                break;
            }
    /* --report's folders are named by scenario (REPORT/NAME/seed-N): two
     * files of one name would write over each other's evidence. */
    for (size_t a = 0; report && a < nj; a++)
        for (size_t b = a + 1; b < nj; b++)
            if (!strcmp(job[a].name, job[b].name) && strcmp(job[a].path, job[b].path)) {
                char msg[2200];
                snprintf(msg, sizeof msg,
                         "%s and %s both name scenario '%s': --report keeps one folder per name (%s/%s); rename one "
                         "(its scenario{} name=) or run them apart",
                         job[a].path, job[b].path, job[a].name, report, job[a].name);
                free(job);
                sc_free(&f);
                return cli_usage_error(w, "%s", msg);
            }
    if (report) {
        /* made and writable before anything runs (after the checks that refuse the set) */
        char err[1300];
        int bad = ngt_mkdirs(report, err, sizeof err); /* its parents too, as mkdir -p; err names the path */
        if (bad || access(report, W_OK | X_OK)) {
            int e = errno;
            free(job);
            sc_free(&f);
            return bad ? cli_fail(w, "--report: %s", err) : cli_fail(w, "--report %s: %s", report, strerror(e));
        }
    }
    FILE *log = NULL;
    if (log_path && (nj != 1 || jobs != 1)) {
        free(job);
        sc_free(&f);
        return cli_usage_error(w, "--log %s: one run's frames per log: name one scenario and --seed N (here %zu runs)",
                               log_path, nj);
    }
    if (trc_wanted(&sc_tr.o) && (nj != 1 || jobs != 1)) {
        free(job);
        sc_free(&f);
        return cli_usage_error(w, "--probe: one run's trace per file: name one scenario and --seed N (here %zu runs)",
                               nj);
    }
    if (sa.on && (nj != 1 || jobs != 1)) {
        free(job);
        sc_free(&f);
        return cli_usage_error(w, "--scope: one run per window: name one scenario and --seed N (here %zu runs)", nj);
    }
    scw *win = NULL;
    if ((rc = scope_open(w, &sa, &win)) != 0) {
        free(job);
        sc_free(&f);
        return rc;
    }
    snprintf(sc_log_name, sizeof sc_log_name, "--log %s", log_path ? log_path : "");
    if (log_path && !(log = fopen(log_path, "w"))) {
        free(job);
        sc_free(&f);
        return cli_fail(w, "--log %s: %s", log_path, strerror(errno));
    }
    cli_catch_stop();
    /* Run them: in this process, or in up to `jobs` child processes, the
     * lines printed in job order. */
    size_t done = 0;
    char **lines = calloc(nj ? nj : 1, sizeof *lines);
    int *verdict = calloc(nj ? nj : 1, sizeof *verdict);
    if (lines && verdict && win) {
        static sc_scoped one;
        one = (sc_scoped){.job = &job[0], .report = report, .threads = threads, .log = log, .win = win};
        verdict[0] = scw_loop(win, sc_scoped_run, &one);
        if (scw_shot_check(win) && verdict[0] != SCN_ERROR) { /* the screenshot asked for is not there (told) */
            char *sp = strchr(one.line, ' '), *nl = strrchr(one.line, '\n');
            if (sp && nl) {
                sp += strspn(sp, " ");
                *nl = 0;
                char ln[sizeof one.line];
                snprintf(ln, sizeof ln, "ERROR  %s; --scope-shot %s: no screenshot (said above)\n", sp, sa.shot);
                snprintf(one.line, sizeof one.line, "%s", ln);
            }
            verdict[0] = SCN_ERROR;
        }
        lines[0] = strdup("");
        fputs(one.line, stdout);
        fflush(stdout);
        scw_hold(win, cli_stop_requested); /* --scope-hold: the verdict is out */
        scw_close(win);
        done = 1;
    } else if (lines && verdict && jobs == 1) {
        for (; done < nj && !cli_stop_requested(); done++) {
            char line[4096];
            verdict[done] = sc_run_one(&job[done], report, threads, log, NULL, line, sizeof line);
            lines[done] = strdup("");
            fputs(line, stdout);
            fflush(stdout);
        }
    } else if (lines && verdict) {
        /* the children fork from here: the default power stage's table built once for all (out of memory:
         * each child builds its own) */
        rack_prebuild(NULL);
        sc_pool p = {job, report, threads, lines, verdict, nj, 0, 0};
        pool_spec ps = {.n = nj, .at_once = jobs, .ctx = &p, .run = sc_pool_run, .stop = cli_stop_requested,
                        .done = sc_pool_done};
        char err[300];
        if (pool_run(&ps, NULL, err, sizeof err))
            fprintf(stderr, "ek3 %s: %s\n", w, err);
        done = p.done;
        for (size_t j = p.printed; j < nj; j++) /* after a gap a stop left */
            if (lines[j])
                fputs(lines[j], stdout);
    }
    unsigned cut = 0, unstarted = 0;
    for (size_t j = 0; j < nj && lines && verdict; j++) {
        if (!lines[j]) { /* never started: a stop came first */
            printf("NOTRUN %-28s seed %-4llu not started: the set was stopped\n", job[j].name,
                   (unsigned long long)job[j].seed);
            unstarted++;
        } else if (verdict[j] == SCN_PASS)
            passed++;
        else if (verdict[j] == SCN_FAIL)
            failed++;
        else if (verdict[j] == VRD_STOPPED)
            cut++;
        else
            errors++;
    }
    size_t ended = done - cut; /* the runs with a verdict */
    unsigned all_errors = errors + unread;
    if (cut || unstarted)
        printf("%zu of %zu runs", ended, nj);
    else
        printf("%zu run%s", ended, ended == 1 ? "" : "s");
    printf(" of %u file%s: %u passed, %u failed, %u error%s", f.n, f.n == 1 ? "" : "s", passed, failed, all_errors,
           all_errors == 1 ? "" : "s");
    if (unread)
        printf(" (%u of them %s that do%s not load)", unread, unread == 1 ? "a file" : "files", unread == 1 ? "es" : "");
    if (skipped)
        printf(", %u file%s above --level %s not run", skipped, skipped == 1 ? "" : "s", level);
    if (cut || unstarted)
        printf("; INTERRUPTED by %s: %u run%s cut while running, %u not started", cli_stop_name(), cut,
               cut == 1 ? "" : "s", unstarted);
    printf("\n");
    if (!nj && skipped && !unread && !cli_stop_requested()) { /* a CI job would pass having tested nothing */
        fprintf(stderr, "ek3 %s: nothing ran: %s above --level %s (--level %s runs %s)\n", w,
                skipped == 1 ? "the scenario is" : "every scenario is", level, sc_level_name[skip_rank],
                skipped == 1 ? "it" : "them");
        errors++;
    }
    if (lines)
        for (size_t j = 0; j < nj; j++)
            free(lines[j]);
    free(lines);
    free(verdict);
    free(job);
    sc_free(&f);
    if (log && ferror(log)) /* the run's ERROR said it (scn_opts.can_log_name) */
        fclose(log);
    else if (log && cli_close_out(w, log, sc_log_name) != CLI_OK)
        return CLI_FAIL;
    if (done && (rc = sc_trace_end(w, 1)) != CLI_OK)
        return rc;
    if (cli_stop_requested())
        return CLI_FAIL;
    return errors || unread ? CLI_USAGE : failed ? CLI_FAIL : CLI_OK;
}

static int sc_list(int argc, char **argv)
{
    const char *w = "scenario list";
    int used[argc + 2];
    memset(used, 0, sizeof used);
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            puts("usage: ek3 scenario list [FILE|DIR...]\n\n"
                 "The scenarios' manifests: name, level, seeds, tags, requirements (default: scenarios/).");
            return CLI_OK;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return cli_bad_arg(w, argv[i], NULL);
        used[i] = 1;
        n++;
    }
    char *def[2] = {argv[0], (char *)"scenarios"};
    int used_def[2] = {0, 1};
    static sc_files f;
    int rc = n ? sc_collect(w, argc, argv, used, &f) : sc_collect(w, 2, def, used_def, &f);
    if (rc)
        return rc;
    if (!f.n)
        return n ? sc_none(w, argc, argv, used) : sc_none(w, 2, def, used_def);
    int bad = 0;
    printf("%-28s %-8s %-10s %-28s %s\n", "NAME", "LEVEL", "SEEDS", "TAGS", "REQUIREMENTS");
    for (unsigned i = 0; i < f.n; i++) {
        scn_manifest m;
        char err[700], seeds[64] = "";
        if (scn_manifest_read(f.path[i], &m, err, sizeof err)) {
            fprintf(stderr, "ek3 %s: %s\n", w, err);
            bad = 1;
            continue;
        }
        for (unsigned k = 0; k < m.nseeds; k++)
            snprintf(seeds + strlen(seeds), sizeof seeds - strlen(seeds), "%s%llu", k ? "," : "",
                     (unsigned long long)m.seeds[k]);
        printf("%-28s %-8s %-10s %-28s %s\n", m.name, m.level, seeds, m.tags, m.requirements);
        for (const char *g = m.gaps; *g;) {
            const char *e = strchr(g, '\n');
            int len = e ? (int)(e - g) : (int)strlen(g);
            printf("%-28s gap: %.*s\n", "", len, g);
            g += len + (e != NULL);
        }
    }
    sc_free(&f);
    return bad ? CLI_USAGE : CLI_OK;
}

static int sc_signals(int argc, char **argv)
{
    int md = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            puts("usage: ek3 scenario signals [--markdown]\n\n"
                 "Every signal a scenario reads with get(PATH): its path, unit and meaning.");
            return CLI_OK;
        }
        if (!strcmp(argv[i], "--markdown"))
            md = 1;
        else
            return cli_bad_arg("scenario signals", argv[i], NULL);
    }
    return sig_print(stdout, md) ? cli_stdout_error("scenario signals") : CLI_OK;
}

static int sc_faults(int argc, char **argv)
{
    argv[0] = (char *)"scenario faults";
    return cmd_faults(argc, argv);
}

/* Why a file cannot be written at path (NULL: it can): a folder there,
 * a file there when refuse_existing ("exists (a shrink before?)"), no
 * write permission on it or on its folder, no such folder. */
static const char *sc_cannot_write(const char *path, int refuse_existing)
{
    static char why[1400];
    struct stat st;
    if (!stat(path, &st)) {
        if (S_ISDIR(st.st_mode))
            return "is a folder: name a file";
        if (refuse_existing)
            return "exists (a shrink before?)";
        if (access(path, W_OK)) {
            snprintf(why, sizeof why, "cannot be written: %s", strerror(errno));
            return why;
        }
        return NULL;
    }
    char dir[1200];
    snprintf(dir, sizeof dir, "%s", path);
    char *sl = strrchr(dir, '/');
    if (sl == dir)
        sl[1] = 0;
    else if (sl)
        *sl = 0;
    else
        snprintf(dir, sizeof dir, ".");
    if (access(dir, W_OK | X_OK)) {
        snprintf(why, sizeof why, "cannot be written in %s: %s", dir, strerror(errno));
        return why;
    }
    return NULL;
}

/* The verdict at path (a run's folder: its verdict.json) into *r, and
 * its scenario file checked against the recorded SHA-256: unchanged, or
 * changed and force. CLI_OK, or CLI_USAGE having said why. */
static int sc_verdict_in(const char *w, const char *path, int force, scn_result *r)
{
    char err[800], in_dir[1100];
    struct stat st;
    if (!stat(path, &st) && S_ISDIR(st.st_mode)) { /* --report's NAME/seed-N folder */
        snprintf(in_dir, sizeof in_dir, "%s/verdict.json", path);
        path = in_dir;
    }
    if (vrd_read(path, r, err, sizeof err))
        return cli_refuse(w, "%s", err);
    if (r->stopped) { /* a run cut short has no end to compare against */
        double at = r->sim_s;
        scn_result_free(r);
        return cli_refuse(w,
                          "%s: verdict: INTERRUPTED at %.3f s simulated: the run has no verdict to compare; "
                          "run the scenario again (ek3 scenario run)",
                          path, at);
    }
    uint8_t now[32];
    if (vrd_file_sha256(r->m.path, now, err, sizeof err)) {
        scn_result_free(r);
        return cli_refuse(w,
                          "%s: the scenario the verdict names: %s (its path is as the run was given it: "
                          "replay from the directory the run started in)",
                          path, err);
    }
    if (memcmp(now, r->script_sha256, 32)) {
        char a[65], b[65];
        scn_sha256_hex(now, a);
        scn_sha256_hex(r->script_sha256, b);
        if (!force) {
            scn_result_free(r);
            return cli_refuse(w,
                              "%s changed since the verdict was recorded (SHA-256 now %s, recorded %s): the "
                              "run would not be the same scenario; --force runs it anyway",
                              r->m.path, a, b);
        }
        printf("note: %s changed since the verdict was recorded (SHA-256 now %.12s..., recorded %.12s...); run "
               "anyway (--force)\n",
               r->m.path, a, b);
    }
    /* the helper modules it required, the same way: an edited lib/ek3.lua is another scenario too; every one
     * changed is named (a refusal named the first) */
    char msg[3200] = "";
    size_t at = 0;
    unsigned changed = 0;
    for (unsigned i = 0; i < r->nhelper; i++) {
        const char *hp = r->helper[i];
        char a[65], b[65];
        int gone = vrd_file_sha256(hp, now, err, sizeof err) != 0;
        if (!gone && !memcmp(now, r->helper_sha256[i], 32))
            continue;
        scn_sha256_hex(r->helper_sha256[i], b);
        if (gone) { /* the rig's library installed elsewhere, say: what require loads is compared after the run */
            printf("note: the helper %s cannot be read here (%s); the replay compares the file require loads now "
                   "with its recorded SHA-256 %.12s...\n",
                   hp, err, b);
            continue;
        }
        scn_sha256_hex(now, a);
        if (!force) {
            if (at < sizeof msg)
                at += (size_t)snprintf(msg + at, sizeof msg - at, "%s%s (SHA-256 now %.12s..., recorded %.12s...)",
                                       changed ? ", " : "", hp, a, b);
            changed++;
            continue;
        }
        printf("note: the helper %s changed since the verdict was recorded (recorded %.12s...); run anyway (--force)\n",
               hp, b);
    }
    if (changed) {
        char text[sizeof msg + sizeof r->m.path + 720]; /* whole: the path to 512 bytes, the words 150 */
        snprintf(text, sizeof text,
                 "%.512s: %s %s that %s required changed since the verdict was recorded: the run would not be the "
                 "same scenario; --force runs it anyway",
                 path, changed == 1 ? "the helper" : "the helpers", msg, r->m.path);
        scn_result_free(r);
        return cli_refuse(w, "%s", text);
    }
    return CLI_OK;
}

/* The helper modules the replayed run loaded (got) against those the
 * verdict recorded (want), path and SHA-256, in load order: a lib/NAME.lua
 * put beside the scenario, or another EK3_SCENARIO_LIB, answers require
 * with another file than the recorded one, and the run is then another
 * scenario, not a divergence (the same bytes from another path are the
 * same helper). CLI_OK the same (or force, having noted each
 * difference); CLI_USAGE having said the first difference. */
static int sc_helpers_loaded(const char *w, const char *vpath, const scn_result *want, const scn_result *got, int force)
{
    unsigned n = want->nhelper > got->nhelper ? want->nhelper : got->nhelper;
    for (unsigned i = 0; i < n; i++) {
        char why[1400];
        if (i < want->nhelper && i < got->nhelper) {
            if (!memcmp(want->helper_sha256[i], got->helper_sha256[i], 32))
                continue; /* the same bytes from another place (the library installed elsewhere): the same run */
            char a[65], b[65];
            scn_sha256_hex(got->helper_sha256[i], a);
            scn_sha256_hex(want->helper_sha256[i], b);
            snprintf(why, sizeof why, "loaded %s (SHA-256 %.12s...) where the verdict recorded %s (%.12s...)",
                     got->helper[i], a, want->helper[i], b);
        } else if (i < got->nhelper) {
            snprintf(why, sizeof why, "loaded %s, which the verdict does not list", got->helper[i]);
        } else {
            snprintf(why, sizeof why, "did not load %s, which the verdict lists", want->helper[i]);
        }
        if (force) { /* each difference told, then compared; a file changed at its recorded path was told before
                      * the run (sc_verdict_in), once is enough */
            if (!(i < want->nhelper && i < got->nhelper && !strcmp(want->helper[i], got->helper[i])))
                printf("note: the replayed run %s; compared anyway (--force)\n", why);
            continue;
        }
        return cli_refuse(w,
                          "%s: the replayed run %s: require found another file than the recorded run's (a "
                          "lib/ folder beside the scenario comes first, then EK3_SCENARIO_LIB or the rig's "
                          "library), so it is not the same scenario; nothing compared; --force compares anyway",
                          vpath, why);
    }
    return CLI_OK;
}

/* The arguments of the commands that take a verdict (replay, shrink). */
typedef struct sc_vargs {
    const char *vpath, *out; /* the verdict; shrink's --out */
    int force, shrink;       /* shrink: --out and --budget are taken */
    unsigned threads, budget;
} sc_vargs;

/* Take argv[*i] (and its value) into *va, the one rule for options given
 * twice included. CLI_OK, or CLI_USAGE after the message. */
static int sc_verdict_arg(const char *w, int argc, char **argv, int *i, cli_seen *seen, sc_vargs *va)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL, *miss = NULL;
    uint64_t u;
    int tk;
    if (cli_once(w, seen, a, NULL))
        return CLI_USAGE;
    if (!strcmp(a, "--force")) {
        va->force = 1;
    } else if (!strcmp(a, "--threads") && cli_has_value(a, v, &miss)) {
        if (cli_parse_u64(v, 256, &u) || u < 1)
            return cli_usage_error(w, "--threads '%s': a whole number, 1 to 256", v);
        va->threads = (unsigned)u;
        (*i)++;
    } else if (va->shrink && !strcmp(a, "--out") && cli_has_value(a, v, &miss)) {
        va->out = v;
        (*i)++;
    } else if (va->shrink && !strcmp(a, "--budget") && cli_has_value(a, v, &miss)) {
        if (cli_parse_u64(v, 100000, &u) || u < 2)
            return cli_usage_error(w, "--budget '%s': 2 to 100000 runs", v);
        va->budget = (unsigned)u;
        (*i)++;
    } else if (!va->shrink && (tk = trc_arg(w, a, v, &sc_tr.o, &miss)) != 0) {
        if (tk != 1)
            return CLI_USAGE;
        (*i)++;
    } else if (a[0] == '-' && a[1]) {
        return cli_bad_arg(w, a, miss);
    } else if (va->vpath) {
        return cli_usage_error(w, "one verdict at a time ('%s' and '%s')", va->vpath, a);
    } else {
        va->vpath = a;
    }
    return CLI_OK;
}

static int sc_replay(int argc, char **argv)
{
    const char *w = "scenario replay";
    sc_vargs va = {0};
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            puts("usage: ek3 scenario replay VERDICT.json [--force] [--threads N]\n"
                 "              [--probe PATHS [--vcd FILE [--vcd-flavour full|sigrok]] [--trace-csv FILE]\n"
                 "               [--probe-every 100us] [--from T0] [--to T1]] (one --probe; a --vcd, a CSV or both)\n\n"
                 "Runs the scenario of a verdict again (`ek3 scenario run --report` wrote it;\n"
                 "its folder NAME/seed-N stands for its verdict.json; an INTERRUPTED one is refused)\n"
                 "from its recorded file, seed and threads, and confirms the same verdict, the\n"
                 "same first failure, the same fault schedule (each fault's onset and clearing)\n"
                 "and the same trace (rows and SHA-256). Where the traces\n"
                 "differ it names the rows, the simulated times and the probe columns where\n"
                 "they diverged. A scenario file changed since the verdict is refused\n"
                 "(--force runs it anyway); --threads N replays with N threads instead of the\n"
                 "recorded number (the trace must not change). Retro-capture: --probe records\n"
                 "any signal of the replayed run (one nobody probed the first time included)\n"
                 "into --vcd and/or --trace-csv, within [--from, --to] of simulated time, at\n"
                 "full resolution (every quantum; docs/scopes.md, Traces). Exit: 0 the same,\n"
                 "1 diverged (or a trace's write error), 2 a bad verdict file, a missing or\n"
                 "changed scenario or helper (or another helper file loaded), a bad probe\n"
                 "or a bad flag.");
            return CLI_OK;
        }
        int rc = sc_verdict_arg(w, argc, argv, &i, &seen, &va);
        if (rc)
            return rc;
    }
    const char *vpath = va.vpath;
    int force = va.force;
    unsigned threads = va.threads;
    if (!vpath)
        return cli_usage_error(w, "name a verdict.json (ek3 scenario run --report DIR writes them)");
    if (trc_args_check(w, &seen, &sc_tr.o))
        return CLI_USAGE;
    static scn_result want, got;
    int rc = sc_verdict_in(w, vpath, force, &want);
    if (rc)
        return rc;
    if (trc_wanted(&sc_tr.o) && sc_tr.o.from_s > want.sim_s + 1e-9) {
        double end = want.sim_s;
        scn_result_free(&want);
        return cli_usage_error(w, "--from %g s: after the recorded run's end (%g s): nothing would be traced",
                               sc_tr.o.from_s, end);
    }
    unsigned th = threads ? threads : want.threads ? want.threads : 1;
    printf("replay %s seed %llu with %u thread%s%s: %s\n", want.m.name, (unsigned long long)want.seed, th,
           th == 1 ? "" : "s", threads && threads != want.threads ? " (recorded with another number)" : "",
           want.m.path);
    fflush(stdout);
    cli_catch_stop();
    scn_opts o = {.seed = want.seed, .out = stderr, .threads = th, .stop = sc_stop, .prefix_rows = want.trace_rows};
    sc_hooks hk;
    sc_hook(&o, &hk, NULL);
    scn_run_file(want.m.path, &o, &got);
    /* a trace that could not be written stopped the run (at rack{}, or at a write error): its run is not the
     * recorded one's, and comparing them would call the rig's run DIVERGED */
    int tr_stopped = trc_wanted(&sc_tr.o) && (sc_tr.rc || (sc_tr.open && sc_tr.t.failed));
    rc = sc_trace_end(w, 0);
    if (rc == CLI_USAGE || tr_stopped) {
        if (rc != CLI_USAGE)
            printf("nothing compared: the trace's output failed (above) and stopped the run at %.4f s of %.4f s\n",
                   got.sim_s, want.sim_s);
        scn_result_free(&want);
        scn_result_free(&got);
        return rc != CLI_OK ? rc : CLI_FAIL;
    }
    if (!cli_stop_requested() && sc_helpers_loaded(w, vpath, &want, &got, force)) {
        scn_result_free(&want);
        scn_result_free(&got);
        return CLI_USAGE;
    }
    if (cli_stop_requested()) { /* a stopped replay compares nothing: it is not a divergence */
        printf("INTERRUPTED at %.4f s of %.4f s: nothing compared\n", got.sim_s, want.sim_s);
        if (trc_wanted(&sc_tr.o) && rc == CLI_OK)
            printf("trace: %s%s%s (%llu samples, up to the stop)\n", sc_tr.o.vcd ? sc_tr.o.vcd : "",
                   sc_tr.o.vcd && sc_tr.o.csv ? ", " : "", sc_tr.o.csv ? sc_tr.o.csv : "",
                   (unsigned long long)sc_tr.t.samples);
        scn_result_free(&want);
        scn_result_free(&got);
        return CLI_FAIL;
    }
    vrd_compare_in in = {&want, &got};
    int diverged = vrd_compare(stdout, &in);
    printf("%s\n", diverged ? "DIVERGED" : "SAME");
    if (trc_wanted(&sc_tr.o) && rc == CLI_OK)
        printf("trace: %s%s%s (%llu samples)\n", sc_tr.o.vcd ? sc_tr.o.vcd : "", sc_tr.o.vcd && sc_tr.o.csv ? ", " : "",
               sc_tr.o.csv ? sc_tr.o.csv : "", (unsigned long long)sc_tr.t.samples);
    scn_result_free(&want);
    scn_result_free(&got);
    return diverged || rc ? CLI_FAIL : CLI_OK;
}

static int sc_shrink(int argc, char **argv)
{
    const char *w = "scenario shrink";
    sc_vargs va = {.shrink = 1, .budget = SHR_BUDGET};
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            puts("usage: ek3 scenario shrink VERDICT.json [--out FILE.lua] [--budget N] [--force] [--threads N]\n\n"
                 "For a FAIL verdict, searches for the smallest fault schedule that still fails\n"
                 "the same check (its name and file:line) from the same seed: fault() call\n"
                 "sites dropped (ddmin), then each kept fault's onset moved as late and its\n"
                 "parameters scaled as small as still fail. Writes the result as a scenario:\n"
                 "the original file with the dropped calls made nil, the changed ones\n"
                 "rewritten, the manifest named NAME-shrunk with the verdict's seed, and a\n"
                 "header saying where it came from; then runs it to confirm it fails the same\n"
                 "check. --out: the file (default NAME-shrunk.lua beside the scenario; an\n"
                 "existing default file is not overwritten). --budget: runs at most (default\n"
                 "200). --force: shrink though the scenario file changed since the verdict.\n"
                 "Exit: 0 written and confirmed, 1 the failure did not come back or the file\n"
                 "written does not fail the same check, 2 a bad verdict or flag.");
            return CLI_OK;
        }
        int rc = sc_verdict_arg(w, argc, argv, &i, &seen, &va);
        if (rc)
            return rc;
    }
    const char *vpath = va.vpath, *out = va.out;
    int force = va.force;
    unsigned threads = va.threads, budget = va.budget;
    if (!vpath)
        return cli_usage_error(w, "name a FAIL verdict.json (ek3 scenario run --report DIR writes them)");
    static scn_result want, got;
    int rc = sc_verdict_in(w, vpath, force, &want);
    if (rc)
        return rc;
    char def[1200], err[900];
    if (!out) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s", want.m.path);
        char *sl = strrchr(dir, '/');
        if (sl)
            sl[1] = 0;
        else
            dir[0] = 0;
        snprintf(def, sizeof def, "%s%s-shrunk.lua", dir, want.m.name);
        out = def;
    }
    static shr h;
    rc = shr_init(&h, want.m.path, &want, budget, threads ? threads : want.threads ? want.threads : 1, stdout, err, sizeof err);
    if (rc) {
        scn_result_free(&want);
        return cli_usage_error(w, "%s: %s", vpath, err);
    }
    /* Where the shrunk file goes, before the search (minutes) rather than
     * after it: the default never over a file; any, a place it can be. */
    const char *why = sc_cannot_write(out, !va.out);
    if (why) {
        shr_free(&h);
        scn_result_free(&want);
        return va.out ? cli_usage_error(w, "--out %s: %s", out, why)
                      : cli_usage_error(w, "%s %s: remove it or name another with --out", out, why);
    }
    const scn_fig *ff = &want.fig[want.first_fail];
    printf("shrink %s seed %llu: %u fault() call%s from %u site%s; it fails '%s' (%s)\n", want.m.name,
           (unsigned long long)want.seed, want.nfault, want.nfault == 1 ? "" : "s", h.nsite, h.nsite == 1 ? "" : "s",
           ff->name, ff->where);
    for (unsigned s = 0; s < h.nsite; s++)
        if (!h.site[s].searched)
            printf("  %s is left as written: %s\n", h.site[s].where, h.site[s].why);
    fflush(stdout);
    int result = CLI_OK;
    rc = shr_search(&h, err, sizeof err);
    unsigned shift = 0;
    if (rc) {
        printf("%s\n", err);
        result = CLI_FAIL;
    } else if (shr_write(&h, out, vpath, &shift, err, sizeof err)) {
        result = cli_fail(w, "%s", err);
    } else {
        unsigned kept = 0;
        for (unsigned s = 0; s < h.nsite; s++) {
            const shr_site *st = &h.site[s];
            if (!st->keep)
                continue;
            kept++;
            unsigned k = shr_last_index(&h, (unsigned)st->first);
            printf("  kept %s  %s", k < h.last.nfault ? h.last.fault[k].text : "?", st->where);
            if (st->at_s >= 0)
                printf("  (onset moved from %g s)", want.fault[st->first].spec.t);
            if (st->scale != 1)
                printf("  (parameters x %g)", st->scale);
            printf("\n");
        }
        printf("%u of %u fault sites kept after %u runs%s; wrote %s\n", kept, h.nsite, h.runs,
               h.runs >= h.budget ? " (the budget ran out: it may shrink further)" : "", out);
        if (!kept && h.nsite)
            printf("note: it fails with no fault at all: the failure is the scenario's own (its rack, load or "
                   "checks), not a fault's\n");
        /* confirm: the file fails the same check */
        FILE *null = fopen("/dev/null", "w");
        scn_opts o = {.seed = want.seed, .out = null ? null : stderr, .threads = threads ? threads : want.threads};
        scn_run_file(out, &o, &got);
        if (null)
            fclose(null);
        unsigned line = 0, gl = 0;
        const char *c = strrchr(ff->where, ':');
        if (c)
            line = (unsigned)strtoul(c + 1, NULL, 10);
        int in_file = c && (size_t)(c - ff->where) == strlen(want.m.path) &&
                      !strncmp(ff->where, want.m.path, (size_t)(c - ff->where));
        const scn_fig *gf = got.verdict == SCN_FAIL ? &got.fig[got.first_fail] : NULL;
        if (gf && (c = strrchr(gf->where, ':')))
            gl = (unsigned)strtoul(c + 1, NULL, 10);
        int same =
            gf && vrd_same_check(gf->name, ff->name) && (in_file ? gl == line + shift : !strcmp(gf->where, ff->where));
        if (same) {
            printf("confirmed: %s fails '%s' (%s)\n", out, gf->name, gf->where);
        } else {
            printf("NOT confirmed: %s gives %s%s%s%s\n", out, scn_verdict_name((unsigned)got.verdict),
                   gf ? ": '" : "", gf ? gf->name : got.error, gf ? "'" : "");
            result = CLI_FAIL;
        }
        scn_result_free(&got);
    }
    shr_free(&h);
    scn_result_free(&want);
    return result;
}

static const cli_cmd sc_cmds[] = {
    {"run", sc_run, "run scenarios: one PASS/FAIL/ERROR line per scenario and seed"},
    {"list", sc_list, "the scenarios' manifests"},
    {"signals", sc_signals, "every signal path get() reads, with its unit"},
    {"faults", sc_faults, "the fault catalogue: name, target, parameters, what it models"},
    {"replay", sc_replay, "run a verdict's scenario again and confirm the same verdict and trace"},
    {"shrink", sc_shrink, "the smallest fault schedule that still fails a FAIL verdict's check, as a scenario"},
};

int cmd_scenario(int argc, char **argv)
{
    return cli_dispatch("scenario",
                        "Scenarios: Lua scripts that set up a rack, inject faults, check signals and give a verdict.",
                        sc_cmds, sizeof sc_cmds / sizeof sc_cmds[0], argc, argv);
}
