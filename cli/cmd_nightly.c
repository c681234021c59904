/* cmd_nightly.c - `ek3 nightly`: the scenario library as a night (scenarios/ngt.h): selection, plan and shards,
 * quarantine, one process per run, night.json, JUnit, the report, the history; `ek3 nightly merge`. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "ek3_err.h"
#include "hst.h"
#include "ngt.h"
#include "scn.h"

#include "htm.h"
#include "jun.h"

#define NI_LIST_MAX 32
#define NI_DRIFT_WINDOW 20u /* a figure's drift: against the median of its last 20 nights (hst_analyse) */

/* The night's outputs beside night.json, the one place they are written:
 * OUT/junit.xml (scopes/jun.h) and OUT/report/index.html with its SVG
 * plots (scopes/htm.h); one that fails does not keep the other from
 * being written. 0, or the first writer's error code after each error
 * was printed (naming the file). */
static int ngt_outputs(const char *w, const ngt_night *n, const hst *h, const hst_flag *flags, size_t nflags)
{
    char path[700], err[900];
    snprintf(path, sizeof path, "%s/junit.xml", n->out);
    int rc = jun_write(path, n, err, sizeof err);
    if (rc)
        fprintf(stderr, "ek3 %s: %s\n", w, err);
    snprintf(path, sizeof path, "%s/report", n->out);
    int rc2 = htm_write(path, n, h, flags, nflags, err, sizeof err);
    if (rc2)
        fprintf(stderr, "ek3 %s: %s\n", w, err);
    return rc ? rc : rc2;
}

/* A planned time, s: to the second from 10 s, finer below (a history of
 * sub-second runs planned "0 s"). Returns buf. */
static const char *ni_secs(double s, char *buf, size_t cap)
{
    snprintf(buf, cap, s >= 10 ? "%.0f s" : s >= 1 ? "%.1f s" : "%.2f s", s);
    return buf;
}

static const char *ni_name_of(size_t i, const void *ctx)
{
    const ngt_job *j = ctx;
    return i && !strcmp(j[i - 1].name, j[i].name) ? NULL : j[i].name;
}

/* Warn about quarantine entries that name no scenario of the library. */
static void ni_quarantine_names(const ngt_quarantine *q, const ngt_job *all, size_t nall)
{
    for (size_t i = 0; i < q->n; i++) {
        size_t k = 0;
        while (k < nall && strcmp(all[k].name, q->e[i].name))
            k++;
        if (k < nall)
            continue;
        char near[300];
        cli_closest(q->e[i].name, nall, ni_name_of, all, 3, near, sizeof near);
        fprintf(stderr, "ek3 nightly: warning: %s:%u: no scenario is named '%s'%s%s%s\n", q->path, q->e[i].line,
                q->e[i].name, near[0] ? " (closest: " : "", near, near[0] ? ")" : "");
    }
}

/* The items of each manifest's list (sep-separated, at offset off of
 * scn_manifest), distinct, for "closest" hints. */
typedef struct ni_words {
    char w[256][96];
    size_t n;
} ni_words;

static const char *ni_word_of(size_t i, const void *ctx)
{
    return ((const ni_words *)ctx)->w[i];
}

static int ni_cmp_word(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* An empty selection: say which --tag or --requirement no scenario has,
 * with the closest ones the library does have. */
static void ni_empty_hint(const sc_files *f, const char *const *tag, size_t ntag, const char *const *req, size_t nreq)
{
    static ni_words tags, reqs;
    tags.n = reqs.n = 0;
    for (unsigned i = 0; i < f->n; i++) {
        scn_manifest m;
        char err[700];
        if (scn_manifest_read(f->path[i], &m, err, sizeof err))
            continue;
        for (int k = 0; k < 2; k++) {
            ni_words *d = k ? &reqs : &tags;
            char sep = k ? ';' : ',';
            for (const char *t = k ? m.requirements : m.tags; *t;) {
                const char *e = strchr(t, sep);
                size_t l = e ? (size_t)(e - t) : strlen(t);
                int seen = 0;
                for (size_t j = 0; j < d->n && !seen; j++)
                    seen = strlen(d->w[j]) == l && !strncmp(d->w[j], t, l);
                if (!seen && l < sizeof d->w[0] && d->n < sizeof d->w / sizeof d->w[0])
                    snprintf(d->w[d->n++], sizeof d->w[0], "%.*s", (int)l, t);
                t += l + (e != NULL);
            }
        }
    }
    for (size_t i = 0; i < ntag; i++) {
        size_t j = 0;
        while (j < tags.n && strcmp(tags.w[j], tag[i]))
            j++;
        char near[300];
        if (j == tags.n && *cli_near(tag[i], tags.n, ni_word_of, &tags, 3, near, sizeof near))
            printf("--tag %s: no scenario has it (did you mean %s?)\n", tag[i], near);
        else if (j == tags.n && tags.n) { /* none near: the tags there are, sorted (it named three unrelated ones) */
            qsort(tags.w, tags.n, sizeof tags.w[0], ni_cmp_word);
            printf("--tag %s: no scenario has it; their tags:", tag[i]);
            for (size_t t = 0; t < tags.n; t++)
                printf("%s %s", t ? "," : "", tags.w[t]);
            putchar('\n');
        } else if (j == tags.n)
            printf("--tag %s: no scenario has it (the selection's scenarios have no tags)\n", tag[i]);
    }
    for (size_t i = 0; i < nreq; i++) {
        size_t j = 0;
        while (j < reqs.n && !ngt_req_match(req[i], reqs.w[j]))
            j++;
        char near[300];
        if (j == reqs.n && *cli_closest(req[i], reqs.n, ni_word_of, &reqs, 3, near, sizeof near))
            printf("--requirement %s: no scenario cites it (closest: %s)\n", req[i], near);
        else if (j == reqs.n)
            printf("--requirement %s: no scenario cites it (the selection's scenarios name no requirements)\n",
                   req[i]);
    }
}

/* Whether this invocation can append to the history: its folder made
 * (as ni_finish does), then the file opened for append and closed (made
 * empty when new: an empty history reads as none). Checked before any
 * run, so a night is not lost to an unwritable history at its end.
 * 0, or an error printed naming the flag, the file and why. */
static int ni_history_writable(const char *w, const char *history)
{
    char hdir[600], err[900];
    snprintf(hdir, sizeof hdir, "%s", history);
    char *sl = strrchr(hdir, '/');
    if (sl && sl != hdir) {
        *sl = 0;
        if (ngt_mkdirs(hdir, err, sizeof err)) {
            fprintf(stderr, "ek3 %s: --history %s: cannot append to it: %s\n", w, history, err);
            return -1;
        }
    }
    FILE *f = fopen(history, "a");
    if (!f || fclose(f)) {
        fprintf(stderr, "ek3 %s: --history %s: cannot append to it: %s\n", w, history, strerror(errno));
        return -1;
    }
    return 0;
}

/* hst_load's note on a cut-off last line (a night that died while it
 * appended), to stderr. */
static void ni_history_warning(const char *w, const hst *h)
{
    if (h->warning[0])
        fprintf(stderr, "ek3 %s: warning: --history %s\n", w, h->warning);
}

/* The night's end: JUnit and report, the history's flags, the history
 * appended, the summary line. Returns the exit code. */
static int ni_finish(const char *w, ngt_night *n, hst *h, const char *history, int bad, int fail_on_flip)
{
    n->fail_on_flip = fail_on_flip;
    char err[900];
    hst_flag *flags = NULL;
    int nf = hst_analyse(h, n, NI_DRIFT_WINDOW, &flags);
    if (nf < 0) {
        fprintf(stderr, "ek3 %s: the history's analysis: out of memory\n", w);
        nf = 0;
        bad = 1;
    }
    if (ngt_night_write(n, err, sizeof err)) {
        fprintf(stderr, "ek3 %s: %s\n", w, err);
        bad = 1;
    }
    n->fails_anyway = bad;
    if (ngt_outputs(w, n, h, flags, (size_t)nf))
        bad = 1;
    char hdir[600];
    snprintf(hdir, sizeof hdir, "%s", history ? history : "");
    char *sl = strrchr(hdir, '/');
    if (sl && sl != hdir) {
        *sl = 0;
        if (ngt_mkdirs(hdir, err, sizeof err))
            fprintf(stderr, "ek3 %s: --history: %s\n", w, err);
    }
    if (history && hst_append(history, n, err, sizeof err)) {
        fprintf(stderr, "ek3 %s: %s\n", w, err);
        bad = 1;
    }
    unsigned drift = 0, flip = 0;
    for (int i = 0; i < nf; i++) {
        printf("%s: %s seed %llu: %s\n", flags[i].kind == HST_DRIFT ? "drift" : "nondeterminism", flags[i].scenario,
               (unsigned long long)flags[i].seed, flags[i].text);
        drift += flags[i].kind == HST_DRIFT;
        flip += flags[i].kind == HST_FLIP;
    }
    int passes = hst_night_passes(n, flags, (size_t)nf); /* as the report's headline */
    free(flags);
    ngt_count c;
    ngt_count_night(n, &c);
    if (c.not_run)
        printf("%u run%s not run (%s/night.json says why)\n", c.not_run, c.not_run == 1 ? "" : "s", n->out);
    char exp[48] = "";
    if (c.expired)
        snprintf(exp, sizeof exp, ", %u quarantine%s expired", c.expired, c.expired == 1 ? "" : "s");
    /* The night's own result first: claims count only runs with requirements. */
    int fails = bad || !passes;
    char claims[96], why[96] = "";
    ngt_claims_text(&c, claims, sizeof claims);
    /* A failing night says first which runs failed it, since its claims
     * may all hold: a run without requirements fails it too. */
    unsigned bad_runs = c.failed + c.errors, no_req = 0;
    for (size_t i = 0; i < n->nrun; i++) {
        const ngt_run *r = &n->run[i];
        int v = r->status == NGT_DONE ? r->r.verdict : SCN_ERROR;
        no_req += r->status != NGT_NOT_RUN && v != SCN_PASS && (!r->quarantine[0] || r->q_expired) &&
                  !r->r.m.requirements[0];
    }
    if (fails && bad_runs)
        snprintf(why, sizeof why, "%u run%s did not pass%s; ", bad_runs, bad_runs == 1 ? "" : "s",
                 !no_req ? "" : no_req == bad_runs ? (bad_runs == 1 ? " (it names no requirement)" : " (none names a requirement)")
                 : " (some name no requirement)");
    printf("the night %s: %s%s (%zu run%s: %u passed, %u failed, %u "
           "error%s, %u quarantined%s; %u gap%s named; %u drift, %u nondeterminism flag%s); report: "
           "%s/report/index.html\n",
           fails ? "FAILS" : "passes", why, claims, n->nrun, n->nrun == 1 ? "" : "s", c.passed, c.failed, c.errors,
           c.errors == 1 ? "" : "s", c.quarantined, exp, c.gaps, c.gaps == 1 ? "" : "s", drift, flip,
           drift + flip == 1 ? "" : "s", n->out);
    if (cli_stop_requested())
        return CLI_FAIL;
    if (fail_on_flip && flip)
        printf("--fail-on-flip: %u nondeterminism flag%s the night\n", flip, flip == 1 ? " fails" : "s fail");
    return fails ? CLI_FAIL : CLI_OK;
}

/* The collected files, each once: a file given twice (a folder and a
 * file in it, or one path two ways) is the same file by realpath, and
 * runs once; one note says how many were dropped. Two different files
 * with one scenario name are still ngt_jobs' error. */
static void ni_dedupe(const char *w, sc_files *f)
{
    static char real[SC_FILES_MAX][PATH_MAX];
    unsigned k = 0, dropped = 0;
    const char *first = NULL;
    for (unsigned i = 0; i < f->n; i++) {
        if (!realpath(f->path[i], real[k]))
            snprintf(real[k], sizeof real[k], "%s", f->path[i]); /* ngt_jobs names it when it does not read */
        unsigned j = 0;
        while (j < k && strcmp(real[j], real[k]))
            j++;
        if (j < k) {
            if (!dropped++)
                first = f->path[j];
            free(f->path[i]);
            continue;
        }
        f->path[k++] = f->path[i];
    }
    if (dropped)
        fprintf(stderr, "ek3 %s: note: %u scenario file%s given twice (e.g. %s): each runs once\n", w, dropped,
                dropped == 1 ? "" : "s", first);
    for (unsigned i = k; i < f->n; i++)
        f->path[i] = NULL;
    f->n = k;
}

static int ni_usage(void)
{
    puts("usage: ek3 nightly [DIR|FILE...] [--level quick|nightly|soak] [--tag T]... [--requirement R]...\n"
         "                   [--shard i/N] [--jobs N] [--threads N] [--out DIR] [--history FILE]\n"
         "                   [--quarantine FILE] [--plan] [--allow-empty] [--fail-on-flip]\n"
         "       ek3 nightly merge OUT1 OUT2... --out DIR [--history FILE] [--fail-on-flip]\n\n"
         "Runs the scenario library (default scenarios/) as a night: each selected\n"
         "scenario with each seed of its manifest, one process per run (a crash or a\n"
         "hang is that run's ERROR), into OUT (default out/nightly): runs/NAME/seed-N/\n"
         "(verdict, captures, run.log), plan.json, night.json, junit.xml, report/.\n"
         "Selection: --level that level and below (default nightly); --tag any of the\n"
         "tags given; --requirement any of those given, by section (\"EK-TECH-010 6\"\n"
         "takes 6.3). An empty selection is an error (exit 1) unless --allow-empty.\n"
         "--shard i/N runs shard i of N: the jobs packed longest first by the median of\n"
         "their last 7 nights in the history (--history, default out/history.jsonl;\n"
         "else an estimate from the manifest); every shard computes the same plan,\n"
         "and only an unsharded night or the merge appends to the history.\n"
         "--plan prints the plan and writes OUT/plan.json without running. --jobs N\n"
         "runs N at once; --threads each rack's threads. --quarantine (default\n"
         "scenarios/quarantine.txt when it exists): listed runs run, but their FAIL or\n"
         "ERROR does not fail the night until the entry's date has passed (UTC).\n"
         "`merge` joins the shards' OUTs into one night. --fail-on-flip: a verdict or\n"
         "trace that changed with the same seed and script (nondeterminism, a rig\n"
         "bug; reported in any case) fails the night too. docs/nightly.md has it all.\n"
         "Exit: 0 the night passes, 1 a failure, an error, an expired quarantine, an\n"
         "empty selection (--plan too) or, with --fail-on-flip, a flip (a file whose\n"
         "manifest does not read is an ERROR run named by its file), 2 a bad flag,\n"
         "history (or one it cannot append to) or quarantine file, two files naming one\n"
         "scenario, or a merge's missing shard directory; a stop (Ctrl-C, SIGTERM) writes the night's\n"
         "files and ends on its signal: 130 (143 for SIGTERM), as a shell reports it.");
    return CLI_OK;
}

static int ni_merge(int argc, char **argv)
{
    const char *w = "nightly merge", *out = NULL, *history = NULL, *miss = NULL;
    const char *dirs[256];
    size_t nd = 0;
    int fail_on_flip = 0;
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a))
            return ni_usage();
        if (!strcmp(a, "--fail-on-flip")) {
            if (fail_on_flip)
                return cli_usage_error(w, "%s is given twice", a);
            fail_on_flip = 1;
            continue;
        }
        if (cli_once(w, &seen, a, NULL))
            return CLI_USAGE;
        if (!strcmp(a, "--out") && cli_has_value(a, v, &miss)) {
            out = v;
            i++;
        } else if (!strcmp(a, "--history") && cli_has_value(a, v, &miss)) {
            history = v;
            i++;
        } else if (a[0] == '-' && a[1]) {
            return cli_bad_arg(w, a, miss);
        } else if (nd == 256) {
            return cli_usage_error(w, "more than 256 shards");
        } else {
            dirs[nd++] = a;
        }
    }
    if (!nd)
        return cli_usage_error(w, "name the shards' output directories (each `ek3 nightly --shard i/N --out DIR`)");
    if (!out)
        return cli_usage_error(w, "--out DIR: where the merged night goes");
    for (size_t d = 0; d < nd; d++) {
        struct stat st;
        if (!strcmp(dirs[d], out))
            return cli_usage_error(w, "--out %s is one of the shards: merge into a directory of its own", out);
        if (stat(dirs[d], &st))
            return cli_usage_error(w, "%s: %s (name each shard's --out)", dirs[d], strerror(errno));
        if (!S_ISDIR(st.st_mode))
            return cli_usage_error(w, "%s: not a directory (name each shard's --out)", dirs[d]);
        for (size_t e = 0; e < d; e++)
            if (!strcmp(dirs[e], dirs[d]))
                return cli_usage_error(w, "%s given twice", dirs[d]);
    }
    char err[900];
    static hst h;
    if (history && hst_load(&h, history, err, sizeof err))
        return cli_usage_error(w, "--history %s", err);
    if (history)
        ni_history_warning(w, &h);
    if (history && ni_history_writable(w, history)) {
        hst_free(&h);
        return CLI_USAGE;
    }
    static ngt_night n;
    int rc = ngt_merge(dirs, nd, out, &n, err, sizeof err);
    if (rc) {
        hst_free(&h);
        return rc == EK3_EPARSE ? cli_usage_error(w, "%s", err) : cli_fail(w, "%s", err);
    }
    printf("merged %zu shard%s into %s: %zu runs of a plan in %u shards\n", nd, nd == 1 ? "" : "s", out, n.nrun,
           n.shard_n);
    for (size_t i = 0; i < n.nrun; i++)
        ngt_line(stdout, &n.run[i]);
    rc = ni_finish(w, &n, &h, history, 0, fail_on_flip);
    ngt_night_free(&n);
    hst_free(&h);
    return rc;
}

static int ni_run(int argc, char **argv)
{
    const char *w = "nightly", *level = "nightly", *out = "out/nightly", *history = "out/history.jsonl",
               *qpath = NULL, *miss = NULL;
    const char *tag[NI_LIST_MAX], *req[NI_LIST_MAX];
    size_t ntag = 0, nreq = 0;
    unsigned shard_i = 1, shard_n = 1, jobs = 1, threads = 1;
    int plan_only = 0, allow_empty = 0, fail_on_flip = 0, nfiles = 0;
    int used[argc + 2];
    memset(used, 0, sizeof used);
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    static const char *const many[] = {"--tag", "--requirement", NULL};
    char sel[512] = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
        if (cli_is_help(a))
            return ni_usage();
        if (!strcmp(a, "--plan") || !strcmp(a, "--allow-empty") || !strcmp(a, "--fail-on-flip")) { /* no value */
            int *flag = !strcmp(a, "--plan") ? &plan_only : !strcmp(a, "--allow-empty") ? &allow_empty : &fail_on_flip;
            if (*flag)
                return cli_usage_error(w, "%s is given twice", a);
            *flag = 1;
            continue;
        }
        if (cli_once(w, &seen, a, many))
            return CLI_USAGE;
        if (!(a[0] == '-' && a[1])) {
            used[i] = 1;
            nfiles++;
            continue;
        }
        static const char *const valued[] = {"--level", "--tag", "--requirement", "--shard", "--jobs", "--threads",
                                             "--out", "--history", "--quarantine", NULL};
        int known = 0;
        for (unsigned k = 0; valued[k] && !known; k++)
            known = !strcmp(a, valued[k]);
        if (!known)
            return cli_bad_arg(w, a, NULL);
        if (!cli_has_value(a, v, &miss))
            return cli_bad_arg(w, a, miss);
        i++;
        if (!strcmp(a, "--level")) {
            if (strcmp(v, "quick") && strcmp(v, "nightly") && strcmp(v, "soak"))
                return cli_usage_error(w, "--level '%s': quick, nightly or soak", v);
            level = v;
        } else if (!strcmp(a, "--tag") || !strcmp(a, "--requirement")) {
            int t = a[2] == 't';
            if ((t ? ntag : nreq) == NI_LIST_MAX)
                return cli_usage_error(w, "%s: at most %d", a, NI_LIST_MAX);
            if (!v[0])
                return cli_usage_error(w, "%s '': name one", a);
            if (t)
                tag[ntag++] = v;
            else
                req[nreq++] = v;
        } else if (!strcmp(a, "--shard")) {
            const char *sl = strchr(v, '/');
            char left[32];
            uint64_t i1, n1;
            if (!sl || (size_t)(sl - v) >= sizeof left)
                return cli_usage_error(w, "--shard '%s': i/N, e.g. 2/4", v);
            snprintf(left, sizeof left, "%.*s", (int)(sl - v), v);
            if (cli_parse_u64(left, NGT_SHARDS_MAX, &i1) || cli_parse_u64(sl + 1, NGT_SHARDS_MAX, &n1) || n1 < 1 ||
                i1 < 1 || i1 > n1)
                return cli_usage_error(w, "--shard '%s': i/N with 1 <= i <= N <= %u", v, NGT_SHARDS_MAX);
            shard_i = (unsigned)i1;
            shard_n = (unsigned)n1;
        } else if (!strcmp(a, "--jobs")) {
            if (cli_parse_u64(v, 64, &u) || u < 1)
                return cli_usage_error(w, "--jobs '%s': a whole number, 1 to 64", v);
            jobs = (unsigned)u;
        } else if (!strcmp(a, "--threads")) {
            if (cli_parse_u64(v, 256, &u) || u < 1)
                return cli_usage_error(w, "--threads '%s': a whole number, 1 to 256", v);
            threads = (unsigned)u;
        } else if (!strcmp(a, "--out")) {
            out = v;
        } else if (!strcmp(a, "--history")) {
            history = v;
        } else if (!strcmp(a, "--quarantine")) {
            qpath = v;
        } else {
            return cli_bad_arg(w, a, NULL);
        }
    }
    snprintf(sel, sizeof sel, "--level %s", level);
    for (size_t i = 0; i < ntag; i++)
        snprintf(sel + strlen(sel), sizeof sel - strlen(sel), " --tag %s", tag[i]);
    for (size_t i = 0; i < nreq; i++)
        snprintf(sel + strlen(sel), sizeof sel - strlen(sel), " --requirement '%s'", req[i]);

    /* The library, the history, the quarantine: all read before anything runs. */
    static sc_files f;
    char *def[2] = {argv[0], (char *)"scenarios"};
    int used_def[2] = {0, 1};
    int rc = nfiles ? sc_collect(w, argc, argv, used, &f) : sc_collect(w, 2, def, used_def, &f);
    if (rc)
        return rc;
    ni_dedupe(w, &f);
    char err[900];
    static hst h;
    static ngt_quarantine q;
    ngt_job *all = NULL, *job = NULL;
    size_t nall = 0, nj = 0;
    ngt_select everything = {.level = "soak"};
    ngt_select s = {level, tag, ntag, req, nreq};
    if (hst_load(&h, history, err, sizeof err)) {
        sc_free(&f);
        return cli_usage_error(w, "--history %s", err);
    }
    ni_history_warning(w, &h);
    if (!qpath && !access("scenarios/quarantine.txt", F_OK))
        qpath = "scenarios/quarantine.txt";
    if (qpath && ngt_quarantine_read(qpath, &q, err, sizeof err)) {
        rc = cli_usage_error(w, "--quarantine %s", err);
        goto done;
    }
    if (ngt_jobs((const char *const *)f.path, f.n, &everything, NULL, &all, &nall, err, sizeof err) ||
        ngt_jobs((const char *const *)f.path, f.n, &s, &h, &job, &nj, err, sizeof err)) {
        rc = cli_usage_error(w, "%s", err);
        goto done;
    }
    ni_quarantine_names(&q, all, nall);
    if (ngt_mkdirs(out, err, sizeof err)) { /* an output that cannot be made: exit 1, as ek3 rack's and scenario run's --report */
        rc = cli_fail(w, "--out: %s", err);
        goto done;
    }
    /* only an unsharded night appends (ni_finish): found out now, not after the night */
    if (!plan_only && shard_n == 1 && ni_history_writable(w, history)) {
        rc = CLI_USAGE;
        goto done;
    }

    /* The plan: every job of the selection, packed into the shards. */
    ngt_pack(job, nj, shard_n);
    double load[NGT_SHARDS_MAX];
    unsigned cnt[NGT_SHARDS_MAX] = {0}, known = 0;
    double span = ngt_makespan(job, nj, shard_n, load);
    for (size_t i = 0; i < nj; i++) {
        cnt[job[i].shard - 1]++;
        known += (unsigned)job[i].weight_known;
    }
    char secs[32], how[120] = "";
    if (nj > known) /* what an estimate is: the level's (ngt_estimate), not a measurement */
        snprintf(how, sizeof how, " by level (quick %g s, nightly %g s, soak %g s; at most the timeout)",
                 NGT_EST_QUICK_S, NGT_EST_NIGHTLY_S, NGT_EST_SOAK_S);
    printf("plan: %zu run%s (%s) in %u shard%s, weighed by %u from the history and %zu estimated%s; makespan %s\n", nj,
           nj == 1 ? "" : "s", sel, shard_n, shard_n == 1 ? "" : "s", known, nj - known, how,
           ni_secs(span, secs, sizeof secs));
    for (unsigned k = 0; k < shard_n; k++)
        printf("  shard %u/%u: %u job%s, %s expected%s\n", k + 1, shard_n, cnt[k], cnt[k] == 1 ? "" : "s",
               ni_secs(load[k], secs, sizeof secs), k + 1 == shard_i && shard_n > 1 ? "  <- this shard" : "");
    char path[700];
    snprintf(path, sizeof path, "%s/plan.json", out);
    if (ngt_plan_write(path, job, nj, shard_n, sel, err, sizeof err)) {
        rc = cli_fail(w, "%s", err);
        goto done;
    }
    printf("plan: %s\n", path);
    if (ntag || nreq) /* a tag or requirement no scenario has: said whatever ran (a file that does not load runs) */
        ni_empty_hint(&f, tag, ntag, req, nreq);
    if (plan_only) {
        if (!nj)
            printf("the selection (%s) holds no scenario%s\n", sel,
                   allow_empty ? "" : ": nothing to run (--allow-empty makes that a pass)");
        rc = !nj && !allow_empty ? CLI_FAIL : CLI_OK; /* as the night itself would */
        goto done;
    }

    /* This shard's runs, in plan order. */
    size_t mine = 0;
    for (size_t i = 0; i < nj; i++)
        if (job[i].shard == shard_i)
            job[mine++] = job[i];
    static ngt_night n;
    memset(&n, 0, sizeof n);
    snprintf(n.out, sizeof n.out, "%s", out);
    snprintf(n.selection, sizeof n.selection, "%s", sel);
    n.shard_i = shard_i;
    n.shard_n = shard_n;
    if (!nj)
        printf("the selection (%s) holds no scenario%s\n", sel,
               allow_empty ? "" : ": nothing to run (--allow-empty makes that a pass)");
    cli_catch_stop();
    ngt_opts o = {.jobs = jobs, .threads = threads, .out = stdout, .stop = cli_stop_requested, .q = qpath ? &q : NULL};
    int bad = 0;
    if (ngt_run_night(&n, job, mine, &o, err, sizeof err)) {
        fprintf(stderr, "ek3 %s: %s\n", w, err);
        bad = 1;
    }
    /* A shard of several leaves the history as it was: the shards read one
     * history for one plan, and the merge appends the whole night. */
    rc = ni_finish(w, &n, &h, shard_n > 1 ? NULL : history, bad || (!nj && !allow_empty), fail_on_flip);
    ngt_night_free(&n);
done:
    free(all);
    free(job);
    ngt_quarantine_free(&q);
    hst_free(&h);
    sc_free(&f);
    return rc;
}

int cmd_nightly(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "merge"))
        return ni_merge(argc - 1, argv + 1);
    return ni_run(argc, argv);
}
