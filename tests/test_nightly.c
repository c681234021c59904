/* test_nightly.c - the nightly (scenarios/ngt.h) through its public API
 * and `ek3 nightly` as a user runs it: every job lands in exactly one
 * shard for N = 1..8 and the plan does not depend on the jobs' order;
 * longest-first packing beats count packing on a recorded history;
 * the quarantine file's errors name file:line, its expiry works on a
 * given day, a listed failure does not fail the night and an expired one
 * does; a crashed run, a hung run (killed past its timeout) and a run
 * past its own timeout are each an ERROR run with why, never lost; a
 * run's log is cut at its cap; an empty selection; selection by tag and
 * by requirement; night.json reads back; shards merge into one night and
 * a run in two shards is refused; `ek3 scenario run --jobs` shares the
 * pool and prints in job order. Tiny 1-module scenarios in a temp dir. */
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "ek3_err.h"
#include "hst.h"
#include "ngt.h"
#include "splot.h"

CLI_RUN_SUITE(nightly, "ek3-nightly");

static char out[32768];

static void write_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f, "%s", p);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* A tiny scenario NAME.lua in the test's folder: 1 module, 10 ms. */
static const char *scenario(const char *name, const char *manifest, const char *body)
{
    char text[2048];
    snprintf(text, sizeof text, "scenario{ name='%s', %s }\nrack{ modules=1 }\n%s\n", name, manifest,
             body ? body : "run('0.01s')\nexpect(true, 'ok')");
    char *p = path(name);
    static char keep[8][160];
    static int k;
    k = (k + 1) % 8;
    snprintf(keep[k], sizeof keep[k], "%s.lua", p);
    write_file(keep[k], text);
    return keep[k];
}

/* ~40 jobs with made-up recorded durations: 0.5 s to 90 s, skewed. */
static size_t make_jobs(ngt_job *j, size_t cap)
{
    size_t n = 0;
    uint32_t x = 12345;
    for (unsigned s = 0; s < 15 && n < cap; s++)
        for (unsigned seed = 1; seed <= 3 && n < cap; seed++) {
            if ((s + seed) % 5 == 0)
                continue;
            x = x * 1103515245u + 12345u;
            memset(&j[n], 0, sizeof j[n]);
            snprintf(j[n].name, sizeof j[n].name, "sc-%02u", s);
            j[n].seed = seed;
            j[n].weight_s = 0.5 + (double)((x >> 8) % 1000) * (double)((x >> 8) % 1000) / 11111.0;
            j[n].weight_known = 1;
            n++;
        }
    return n;
}

Test(nightly, every_job_in_exactly_one_shard)
{
    ngt_job j[64], k[64];
    size_t n = make_jobs(j, 64);
    cr_assert_geq(n, 35);
    for (unsigned N = 1; N <= 8; N++) {
        memcpy(k, j, n * sizeof *j);
        ngt_pack(k, n, N);
        unsigned seen[64] = {0}, per[9] = {0};
        for (size_t i = 0; i < n; i++) {
            cr_assert(k[i].shard >= 1 && k[i].shard <= N, "N=%u: shard %u", N, k[i].shard);
            per[k[i].shard]++;
            for (size_t a = 0; a < n; a++)
                if (!strcmp(j[a].name, k[i].name) && j[a].seed == k[i].seed)
                    seen[a]++;
        }
        for (size_t a = 0; a < n; a++)
            cr_assert_eq(seen[a], 1, "N=%u: %s seed %llu in %u shards", N, j[a].name, (unsigned long long)j[a].seed,
                         seen[a]);
        for (unsigned s = 1; s <= N; s++)
            cr_assert_gt(per[s], 0, "N=%u: shard %u is empty with %zu jobs", N, s, n);
        /* the same plan from the jobs in another order: every shard agrees */
        ngt_job r[64];
        for (size_t i = 0; i < n; i++)
            r[i] = j[n - 1 - i];
        ngt_pack(r, n, N);
        for (size_t i = 0; i < n; i++)
            cr_assert(!strcmp(r[i].name, k[i].name) && r[i].seed == k[i].seed && r[i].shard == k[i].shard,
                      "N=%u: the plan depends on the input order at %zu", N, i);
    }
}

/* Count packing: the jobs in name and seed order dealt round-robin. */
static double count_makespan(ngt_job *j, size_t n, unsigned N)
{
    double load[16];
    for (size_t i = 0; i < n; i++)
        j[i].shard = (unsigned)(i % N) + 1;
    return ngt_makespan(j, n, N, load);
}

/* The jobs of every (scenario, seed) a history holds, weighed by it. */
static size_t history_jobs(const char *file, ngt_job *j, size_t cap)
{
    hst h;
    char err[600];
    cr_assert_eq(hst_load(&h, file, err, sizeof err), 0, "%s", err);
    cr_assert_gt(h.n, 10);
    size_t n = 0;
    for (size_t i = 0; i < h.n && n < cap; i++) {
        size_t k = 0;
        while (k < n && !(j[k].seed == h.e[i].seed && !strcmp(j[k].name, h.e[i].scenario)))
            k++;
        if (k < n)
            continue;
        memset(&j[n], 0, sizeof j[n]);
        snprintf(j[n].name, sizeof j[n].name, "%s", h.e[i].scenario);
        j[n].seed = h.e[i].seed;
        cr_assert_eq(hst_duration(&h, j[n].name, j[n].seed, NGT_WEIGHT_NIGHTS, &j[n].weight_s), 1);
        j[n].weight_known = 1;
        n++;
    }
    hst_free(&h);
    return n;
}

/* On the library's own recorded nights (three nights of 14 runs, 0.6 to
 * 4 s) and on the history suite's ten nights of 24 runs (up to ~90 s),
 * longest-first beats dealing the jobs out by count for N = 2..8, and
 * stays within Graham's 4/3 of the lower bound max(total / N, longest). */
Test(nightly, longest_first_beats_count_packing_on_a_recorded_history)
{
    static const char *const file[] = {EK3_SOURCE_DIR "/tests/data/nightly-history-recorded.jsonl",
                                       EK3_SOURCE_DIR "/tests/data/nightly-history.jsonl"};
    for (unsigned f = 0; f < 2; f++) {
        ngt_job j[128], c[128];
        size_t n = history_jobs(file[f], j, 128);
        double total = 0, longest = 0;
        for (size_t i = 0; i < n; i++) {
            total += j[i].weight_s;
            longest = j[i].weight_s > longest ? j[i].weight_s : longest;
        }
        for (unsigned N = 2; N <= 8; N++) {
            double load[16];
            memcpy(c, j, n * sizeof *j);
            double by_count = count_makespan(c, n, N);
            memcpy(c, j, n * sizeof *j);
            ngt_pack(c, n, N);
            double lpt = ngt_makespan(c, n, N, load), bound = total / N > longest ? total / N : longest;
            cr_assert_lt(lpt, by_count, "%s N=%u: LPT %.2f s, count %.2f s", file[f], N, lpt, by_count);
            cr_assert_leq(lpt, bound * 4.0 / 3.0 + 1e-9, "%s N=%u: LPT %.2f s, bound %.2f s", file[f], N, lpt, bound);
            cr_assert_geq(lpt, bound - 1e-9);
        }
    }
}

Test(nightly, quarantine_errors_name_file_and_line)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"# ok\n\nload-step 2026-12-31\n", "q.txt:3: no reason"},
        {"load-step\n", "q.txt:1: no expiry date"},
        {"a 2026-01-01 x\nload-step 2026-02-30 why\n", "q.txt:2: the expiry is not a date"},
        {"load-step 31-12-2026 why\n", "q.txt:1: the expiry is not a date"},
        {"load-step@x 2026-12-31 why\n", "q.txt:1: NAME@SEED"},
        {"load step 2026-12-31 why\n", "q.txt:1: the expiry is not a date"},
        {"lo/ad 2026-12-31 why\n", "q.txt:1: '/' in the scenario name"},
        {"a 2026-12-31 x\n  # c\na 2027-01-01 y\n", "q.txt:3: a listed again (first on line 1)"},
        {"@3 2026-12-31 why\n", "q.txt:1: no scenario name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ngt_quarantine q;
        char err[400] = "";
        cr_assert_eq(ngt_quarantine_parse(bad[i].text, strlen(bad[i].text), "q.txt", &q, err, sizeof err),
                     EK3_EPARSE, "%s", bad[i].text);
        cr_assert(strstr(err, bad[i].want), "'%s' gave '%s', not '%s'", bad[i].text, err, bad[i].want);
    }
    const char nul[] = "a 2026-12-31 x\nb\0 2026-12-31 y\n";
    ngt_quarantine q;
    char err[400];
    cr_assert_eq(ngt_quarantine_parse(nul, sizeof nul - 1, "q.txt", &q, err, sizeof err), EK3_EPARSE);
    cr_assert(strstr(err, "q.txt:2: a NUL byte"), "%s", err);
    const char *good = "# header\n\n  load-step 2026-12-31 the dip is 2 % over, see #41  \r\n"
                       "load-step@7 2027-01-31 seed 7 only\n";
    cr_assert_eq(ngt_quarantine_parse(good, strlen(good), "q.txt", &q, err, sizeof err), 0, "%s", err);
    cr_assert_eq(q.n, 2);
    cr_assert_str_eq(q.e[0].reason, "the dip is 2 % over, see #41");
    cr_assert_eq(q.e[0].line, 3);
    cr_assert_str_eq(ngt_quarantine_find(&q, "load-step", 7)->expires, "2027-01-31");
    cr_assert_str_eq(ngt_quarantine_find(&q, "load-step", 1)->expires, "2026-12-31");
    cr_assert_null(ngt_quarantine_find(&q, "other", 1));
    ngt_quarantine_free(&q);
    /* the file shipped parses */
    cr_assert_eq(ngt_quarantine_read(EK3_SOURCE_DIR "/scenarios/quarantine.txt", &q, err, sizeof err), 0, "%s", err);
    ngt_quarantine_free(&q);
}

/* A night of one run of `name` with verdict v. */
static void one_run(ngt_night *n, ngt_run *r, const char *name, int v)
{
    memset(n, 0, sizeof *n);
    memset(r, 0, sizeof *r);
    snprintf(r->job.name, sizeof r->job.name, "%s", name);
    r->job.seed = 1;
    r->status = NGT_DONE;
    r->r.verdict = v;
    r->r.first_fail = -1;
    snprintf(r->r.m.requirements, sizeof r->r.m.requirements, "EK-TECH-010 6.3");
    n->run = r;
    n->nrun = 1;
}

Test(nightly, quarantine_expiry_and_the_night)
{
    const char *text = "flaky 2026-12-01 waits for the plant fix\n";
    ngt_quarantine q;
    char err[300];
    cr_assert_eq(ngt_quarantine_parse(text, strlen(text), "q.txt", &q, err, sizeof err), 0, "%s", err);
    ngt_night n;
    ngt_run r;
    ngt_count c;
    /* not listed: the failure fails the night */
    one_run(&n, &r, "flaky", SCN_FAIL);
    cr_assert_not(ngt_night_ok(&n));
    /* listed, on its last day: runs, fails, the night passes */
    ngt_quarantine_apply(&q, &n, "2026-12-01");
    cr_assert_str_eq(r.quarantine, "waits for the plant fix");
    cr_assert_not(r.q_expired);
    cr_assert(ngt_night_ok(&n));
    ngt_count_night(&n, &c);
    cr_assert_eq(c.quarantined, 1);
    cr_assert_eq(c.failed, 0);
    cr_assert_eq(c.claims_hold, 0, "a quarantined failure does not make its claim hold");
    /* the day after: expired, the night fails */
    ngt_quarantine_apply(&q, &n, "2026-12-02");
    cr_assert(r.q_expired);
    cr_assert_not(ngt_night_ok(&n));
    ngt_count_night(&n, &c);
    cr_assert_eq(c.expired, 1);
    cr_assert_eq(c.failed, 1);
    /* an ERROR in quarantine too; a PASS is just a pass */
    one_run(&n, &r, "flaky", SCN_ERROR);
    ngt_quarantine_apply(&q, &n, "2026-11-30");
    cr_assert(ngt_night_ok(&n));
    one_run(&n, &r, "flaky", SCN_PASS);
    ngt_quarantine_apply(&q, &n, "2027-01-01");
    cr_assert(ngt_night_ok(&n));
    /* another name is not covered */
    one_run(&n, &r, "flakey", SCN_FAIL);
    ngt_quarantine_apply(&q, &n, "2026-11-30");
    cr_assert_not(ngt_night_ok(&n));
    ngt_quarantine_free(&q);
}

Test(nightly, gaps_count_only_the_runs_that_ran)
{
    ngt_night n;
    ngt_run r;
    ngt_count c;
    one_run(&n, &r, "sparing-61", SCN_PASS);
    snprintf(r.r.m.gaps, sizeof r.r.m.gaps, "EK-TECH-010 6.3 61 modules carry 200 kW\nanother gap");
    ngt_count_night(&n, &c);
    cr_assert_eq(c.gaps, 2);
    cr_assert_eq(c.claims_gaps, 1);
    r.status = NGT_NOT_RUN; /* a stopped night: the run named nothing tonight */
    ngt_count_night(&n, &c);
    cr_assert_eq(c.gaps, 0, "%u gaps counted of a run not run", c.gaps);
    cr_assert_eq(c.claims, 1, "its claim is still one of the night's");
    cr_assert_eq(c.claims_hold + c.claims_gaps, 0);
}

Test(nightly, requirement_matches_by_section)
{
    cr_assert(ngt_req_match("EK-TECH-010 6", "EK-TECH-010 6.3"));
    cr_assert(ngt_req_match("EK-TECH-010 6.3", "EK-TECH-010 6.3"));
    cr_assert(ngt_req_match("EK-TECH-010", "EK-TECH-010 6.3"));
    cr_assert(ngt_req_match("EK-TECH-010 6", "EK-TECH-010 6.10.2"));
    cr_assert_not(ngt_req_match("EK-TECH-010 6", "EK-TECH-010 61"));
    cr_assert_not(ngt_req_match("EK-TECH-010 6.3", "EK-TECH-010 6"));
    cr_assert_not(ngt_req_match("EK-TECH-010 6.1", "EK-TECH-010 6.10"));
    cr_assert_not(ngt_req_match("", "EK-TECH-010 6"));
}

/* The jobs of the test folder's scenarios in selection s. */
static size_t jobs_of(const char *const *p, size_t np, const ngt_select *s, ngt_job **j)
{
    size_t n = 0;
    char err[600];
    cr_assert_eq(ngt_jobs(p, np, s, NULL, j, &n, err, sizeof err), 0, "%s", err);
    return n;
}

Test(nightly, selection_by_level_tag_and_requirement)
{
    const char *p[] = {
        scenario("a", "tags={'can','fast'}, requirements={'EK-TECH-010 6.3'}, seeds={1,2}", NULL),
        scenario("b", "tags={'plant'}, requirements={'EK-TECH-010 61', 'EK-TECH-010 8.5'}", NULL),
        scenario("c", "tags={'can'}, level='nightly', requirements={'EK-TECH-010 6'}", NULL),
        scenario("d", "tags={'plant'}, level='soak'", NULL),
    };
    ngt_job *j = NULL;
    const char *can[] = {"can"}, *six[] = {"EK-TECH-010 6"}, *two[] = {"plant", "fast"}, *none[] = {"nope"};
    ngt_select s = {.level = "quick"};
    cr_assert_eq(jobs_of(p, 4, &s, &j), 3); /* a x2, b */
    free(j);
    s.level = "soak";
    cr_assert_eq(jobs_of(p, 4, &s, &j), 5);
    free(j);
    s = (ngt_select){.level = "nightly", .tag = can, .ntag = 1};
    cr_assert_eq(jobs_of(p, 4, &s, &j), 3); /* a x2, c */
    cr_assert(!strcmp(j[2].name, "c"));
    free(j);
    s = (ngt_select){.level = "soak", .tag = two, .ntag = 2};
    cr_assert_eq(jobs_of(p, 4, &s, &j), 4); /* a x2 (fast), b, d (plant) */
    free(j);
    s = (ngt_select){.level = "nightly", .req = six, .nreq = 1};
    cr_assert_eq(jobs_of(p, 4, &s, &j), 3); /* a x2 (6.3), c (6); not b's 61 */
    for (unsigned i = 0; i < 3; i++)
        cr_assert(strcmp(j[i].name, "b"));
    free(j);
    s = (ngt_select){.level = "nightly", .tag = can, .ntag = 1, .req = six, .nreq = 1};
    s.tag = none;
    cr_assert_eq(jobs_of(p, 4, &s, &j), 0, "an empty selection is empty");
    cr_assert_null(j);
    /* a weight: the manifest's estimate without a history */
    s = (ngt_select){.level = "soak"};
    jobs_of(p, 4, &s, &j);
    for (unsigned i = 0; i < 5; i++)
        cr_assert(j[i].weight_s > 0 && !j[i].weight_known);
    free(j);
}

/* Run a night of the given files into the test folder's `o`. */
static void night_of(ngt_night *n, const char *o, const char *const *p, size_t np, double grace, size_t log_cap)
{
    ngt_job *j = NULL;
    ngt_select s = {.level = "soak"};
    size_t nj = jobs_of(p, np, &s, &j);
    ngt_pack(j, nj, 1);
    memset(n, 0, sizeof *n);
    snprintf(n->out, sizeof n->out, "%s", path(o));
    n->shard_i = n->shard_n = 1;
    FILE *null = fopen("/dev/null", "w");
    ngt_opts opt = {.jobs = 2, .grace_s = grace, .log_cap = log_cap, .out = null};
    char err[600];
    cr_assert_eq(ngt_run_night(n, j, nj, &opt, err, sizeof err), 0, "%s", err);
    fclose(null);
    cr_assert_eq(n->nrun, nj, "every job is a run of the night");
    cr_assert_eq(ngt_night_write(n, err, sizeof err), 0, "%s", err);
    free(j);
}

/* The file at p into buf (cap bytes, NUL included); it must exist. */
static void slurp(const char *p, char *buf, size_t cap)
{
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "%s", p);
    size_t k = fread(buf, 1, cap - 1, f);
    buf[k] = 0;
    fclose(f);
}

static const ngt_run *run_named(const ngt_night *n, const char *name)
{
    for (size_t i = 0; i < n->nrun; i++)
        if (!strcmp(n->run[i].job.name, name))
            return &n->run[i];
    cr_assert_fail("no run of %s", name);
    return NULL;
}

Test(nightly, crash_and_timeouts_are_error_runs_with_why)
{
    const char *p[] = {
        scenario("ok", "requirements={'EK-TECH-010 6.3'}", NULL),
        scenario("boom", "requirements={'EK-TECH-010 7.1'}", NULL),
        scenario("hang", "timeout='1s'", NULL),
        scenario("slow", "timeout='1s'", "run('1000s')"),
    };
    setenv("EK3_TEST_CRASH", "boom", 1);
    setenv("EK3_TEST_HANG", "hang", 1);
    ngt_night n;
    night_of(&n, "night", p, 4, 3, 0);
    const ngt_run *ok = run_named(&n, "ok"), *boom = run_named(&n, "boom"), *hang = run_named(&n, "hang"),
                  *slow = run_named(&n, "slow");
    cr_assert_eq(ok->status, NGT_DONE);
    cr_assert_eq(ok->r.verdict, SCN_PASS);
    cr_assert_eq(boom->status, NGT_CRASHED);
    cr_assert_eq(boom->r.verdict, SCN_ERROR);
    cr_assert(strstr(boom->why, "signal 11"), "%s", boom->why);
    cr_assert_str_eq(boom->r.error, boom->why);
    cr_assert_str_eq(boom->r.m.requirements, "EK-TECH-010 7.1", "the ERROR is made from the manifest");
    cr_assert_eq(hang->status, NGT_TIMEOUT);
    cr_assert_eq(hang->r.verdict, SCN_ERROR);
    cr_assert(strstr(hang->why, "killed after") && strstr(hang->why, "its timeout is 1 s"), "%s", hang->why);
    cr_assert_eq(slow->status, NGT_DONE, "the engine's own timeout ends it");
    cr_assert_eq(slow->r.verdict, SCN_ERROR);
    cr_assert(strstr(slow->r.error, "timeout"), "%s", slow->r.error);
    ngt_count c;
    ngt_count_night(&n, &c);
    cr_assert_eq(c.passed, 1);
    cr_assert_eq(c.errors, 3);
    cr_assert_eq(c.claims, 2);
    cr_assert_eq(c.claims_hold, 1);
    cr_assert_not(ngt_night_ok(&n));
    /* read back: the same runs, statuses and whys */
    ngt_night b;
    char err[600];
    cr_assert_eq(ngt_night_read(n.out, &b, err, sizeof err), 0, "%s", err);
    cr_assert_eq(b.nrun, n.nrun);
    for (size_t i = 0; i < n.nrun; i++) {
        cr_assert_str_eq(b.run[i].job.name, n.run[i].job.name);
        cr_assert_eq(b.run[i].status, n.run[i].status);
        cr_assert_eq(b.run[i].r.verdict, n.run[i].r.verdict);
        cr_assert_str_eq(b.run[i].why, n.run[i].why);
    }
    ngt_night_free(&b);
    ngt_night_free(&n);
}

Test(nightly, a_long_log_is_cut_at_its_cap)
{
    const char *p[] = {scenario("chatty", "seeds={3}",
                                "for i = 1, 2000 do print('line ' .. i .. ' of a chatty scenario') end\n"
                                "run('0.01s')")};
    ngt_night n;
    night_of(&n, "night", p, 1, 0, 4096);
    cr_assert_eq(n.run[0].status, NGT_DONE);
    char lp[600], text[8192];
    snprintf(lp, sizeof lp, "%s/runs/chatty/seed-3/run.log", n.out);
    FILE *f = fopen(lp, "r");
    cr_assert_not_null(f, "%s", lp);
    size_t k = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[k] = 0;
    cr_assert_lt(k, 4096 + 200, "%zu bytes kept", k);
    cr_assert(strstr(text, "line 1 of a chatty"), "%s", text);
    cr_assert(strstr(text, "[run.log cut at 4 KiB:"), "%s", text + (k > 300 ? k - 300 : 0));
    ngt_night_free(&n);
}

Test(nightly, quarantined_failure_runs_and_is_marked)
{
    scenario("bad", "requirements={'EK-TECH-010 6.3'}", "run('0.01s')\nexpect(false, 'held')");
    scenario("good", "", NULL);
    write_file(path("q.txt"), "# the format\nbad 2099-12-31 waits for issue 99\n");
    int rc = run(out, sizeof out, "cd %s && %s nightly . --out o --history h.jsonl --quarantine q.txt", dir, EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "[quarantined until 2099-12-31: waits for issue 99]"), "%s", out);
    cr_assert(strstr(out, "the night passes: 0 of 1 claim holds, 0 more with gaps named (2 runs: 1 passed, 0 failed, 0 errors, 1 quarantined;"), "%s", out);
    write_file(path("q.txt"), "bad 2020-01-01 waits for issue 99\nbda 2099-01-01 typo\n");
    rc = run(out, sizeof out, "cd %s && %s nightly . --out o --history h.jsonl --quarantine q.txt", dir, EK3_BIN);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "[quarantine expired 2020-01-01: waits for issue 99]"), "%s", out);
    cr_assert(strstr(out, "the night FAILS: 1 run did not pass; 0 of 1 claim holds"), "%s", out);
    cr_assert(strstr(out, "q.txt:2: no scenario is named 'bda' (closest: bad"), "%s", out);
    write_file(path("q.txt"), "bad 2020-01-01\n");
    rc = run(out, sizeof out, "cd %s && %s nightly . --out o --quarantine q.txt", dir, EK3_BIN);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "q.txt:1: no reason"), "%s", out);
}

/* Every claim may hold and the night still fail: a run that names no
 * requirement failed it, and the summary says so first. */
Test(nightly, a_failing_run_without_requirements_is_named_as_the_cause)
{
    scenario("claim", "requirements={'EK-TECH-010 6.3'}", NULL);
    scenario("plain", "", "run('0.01s')\nexpect(false, 'held')");
    int rc = run(out, sizeof out, "cd %s && %s nightly . --out o", dir, EK3_BIN);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "the night FAILS: 1 run did not pass (it names no requirement); 1 of 1 claim holds, 0 more "
                          "with gaps named (2 runs: 1 passed, 1 failed,"),
              "%s", out);
}

Test(nightly, empty_selection_is_reported)
{
    scenario("a", "tags={'can'}", NULL);
    int rc = run(out, sizeof out, "cd %s && %s nightly . --tag nope --out o --history h.jsonl", dir, EK3_BIN);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "the selection (--level nightly --tag nope) holds no scenario"), "%s", out);
    cr_assert(strstr(out, "--tag nope: no scenario has it; their tags: can\n"), "none near: the tags there are: %s",
              out); /* (it said "closest: can", and three unrelated ones in a library of many) */
    cr_assert(strstr(out, "the night FAILS: no claims to hold: no run names a requirement (0 runs:"), "%s", out);
    cr_assert_eq(run(out, sizeof out, "cd %s && %s nightly . --tag CANN --out o2 --history h.jsonl", dir, EK3_BIN), 1,
                 "%s", out);
    cr_assert(strstr(out, "--tag CANN: no scenario has it (did you mean can?)"), "%s", out);
    ngt_night n;
    char err[400];
    cr_assert_eq(ngt_night_read(path("o"), &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n.nrun, 0);
    ngt_night_free(&n);
    slurp(path("o/junit.xml"), out, sizeof out); /* an empty night still writes its JUnit file */
    cr_assert(strstr(out, "tests=\"0\""), "%s", out);
    slurp(path("o/report/index.html"), out, sizeof out);
    cr_assert(strstr(out, "<h1>EK3 nightly: the night FAILS: no claims to hold: no run names a requirement</h1>"),
              "the report's headline says what the line does");
    cr_assert(strstr(out, "<p>None: no run.</p>"), "not 'every run passed'");
    rc = run(out, sizeof out, "cd %s && %s nightly . --tag nope --out o --history h.jsonl --allow-empty", dir,
             EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    /* --plan follows the same rule */
    rc = run(out, sizeof out, "cd %s && %s nightly . --tag nope --out o --history h.jsonl --plan", dir, EK3_BIN);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "holds no scenario: nothing to run"), "%s", out);
    rc = run(out, sizeof out, "cd %s && %s nightly . --tag nope --out o --history h.jsonl --plan --allow-empty", dir,
             EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
}

Test(nightly, a_file_given_twice_runs_once)
{
    scenario("a", "seeds={1,2}", NULL);
    scenario("b", "", NULL);
    int rc = run(out, sizeof out, "cd %s && %s nightly . ./ a.lua --plan --out o --history h.jsonl", dir, EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "plan: 3 runs"), "%s", out);
    cr_assert(strstr(out, "3 scenario files given twice"), "%s", out);
    /* two different files with one name: still refused */
    write_file(path("c.lua"), "scenario{ name='a' }\nrack{ modules=1 }\nrun('0.01s')\n");
    rc = run(out, sizeof out, "cd %s && %s nightly . --plan --out o --history h.jsonl", dir, EK3_BIN);
    cr_assert_eq(rc, 2, "%s", out);
}

/* A file whose manifest does not read (a syntax error) is its own
 * ERROR run in the night, named by its file: the night runs the others
 * and writes its report (it ended at once, exit 2, with no night). */
Test(nightly, a_file_that_does_not_load_is_an_error_of_the_night)
{
    scenario("good", "level='quick'", NULL);
    write_file(path("broken.lua"), "scenario{ name='broken' }\nrack{ modules=1 }\nrun('0.01s'\nexpect(true, 'x')\n");
    /* a scenario that names itself as the broken file is named: that file's run then "broken.lua~2" */
    write_file(path("other.lua"),
               "scenario{ name='broken.lua', level='quick' }\nrack{ modules=1 }\nrun('0.01s')\nexpect(true, 'ok')\n");
    int rc = run(out, sizeof out, "cd %s && %s nightly . --level quick --out o --history h.jsonl", dir, EK3_BIN);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "PASS   good "), "%s", out);
    cr_assert(strstr(out, "ERROR  broken.lua~2 "), "by its run's name, as JUnit: %s", out);
    cr_assert(strstr(out, "broken.lua:4: ')' expected (to close '(' at line 3) near 'expect'"), "%s", out);
    cr_assert(strstr(out, "(3 runs: 2 passed, 0 failed, 1 error,"), "%s", out);
    ngt_night n;
    char err[400];
    cr_assert_eq(ngt_night_read(path("o"), &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n.nrun, 3);
    const ngt_run *b = run_named(&n, "broken.lua~2");
    cr_assert_eq(b->r.verdict, SCN_ERROR);
    cr_assert(strstr(b->r.error, "broken.lua:4: ')' expected"), "%s", b->r.error);
    cr_assert_eq(run_named(&n, "broken.lua")->r.verdict, SCN_PASS);
    ngt_night_free(&n);
    /* a tag no scenario has is named though the broken file runs in every selection */
    rc = run(out, sizeof out, "cd %s && %s nightly . --level quick --tag nosuch --plan --out p --history h.jsonl", dir,
             EK3_BIN);
    cr_assert(strstr(out, "plan: 1 run") && strstr(out, "--tag nosuch: no scenario has it"), "%s", out);
    slurp(path("o/junit.xml"), out, sizeof out);
    cr_assert(strstr(out, "<testcase classname=\"broken.lua~2\" name=\"seed 1\"") && strstr(out, "errors=\"1\""), "%s",
              out);
    /* its run's text has no name or level to give, and says so (it gave "scenario  (./broken.lua)", "level ;") */
    cr_assert(strstr(out, "broken.lua (no manifest read), seed 1: ERROR\nlevel -; tags -; requirements -"), "%s", out);
}

Test(nightly, an_unwritable_history_is_found_before_the_night)
{
    scenario("a", "", NULL);
    /* a link into a folder that is not there: no history yet, and none can be made (root writes anything else) */
    cr_assert_eq(symlink("nowhere/h.jsonl", path("hl")), 0);
    int rc = run(out, sizeof out, "cd %s && %s nightly . --out o --history hl", dir, EK3_BIN);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "--history hl: cannot append to it: No such file or directory"), "%s", out);
    struct stat st;
    cr_assert_neq(stat(path("o/runs/a"), &st), 0, "nothing ran: %s", out);
    /* a cut-off last line: read, and the warning printed */
    write_file(path("h.jsonl"), "{\"night\": \"2026-11-30");
    rc = run(out, sizeof out, "cd %s && %s nightly . --out o --history h.jsonl", dir, EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "warning: --history h.jsonl:1: the last line is cut short"), "%s", out);
}

Test(nightly, a_run_starts_in_an_empty_directory)
{
    scenario("a", "", NULL);
    int rc = run(out, sizeof out, "cd %s && %s nightly . --out o --history h.jsonl", dir, EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_null(strstr(out, "not tonight's"), "%s", out);
    write_file(path("o/runs/a/seed-1/last-night.csv"), "t_s\n0\n");
    cr_assert_eq(mkdir(path("o/runs/gone"), 0777), 0);
    cr_assert_eq(mkdir(path("o/runs/gone/seed-1"), 0777), 0);
    rc = run(out, sizeof out, "cd %s && %s nightly . --out o --history h.jsonl", dir, EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    struct stat st;
    cr_assert_neq(stat(path("o/runs/a/seed-1/last-night.csv"), &st), 0, "a night before's file is gone");
    cr_assert_eq(stat(path("o/runs/a/seed-1/verdict.json"), &st), 0);
    cr_assert(strstr(out, "warning: 1 run directory under o/runs/ is not tonight's: left as they are"), "%s", out);
    cr_assert_eq(stat(path("o/runs/gone/seed-1"), &st), 0, "another scenario's run is left");
    cr_assert(strstr(out, "(1 run: 1 passed, 0 failed, 0 errors, 0 quarantined; 0 gaps named;"), "%s", out);
}

Test(nightly, a_stop_writes_the_night_and_ends_on_its_signal)
{
    scenario("a", "timeout=0.8", NULL); /* plan order by weight: b (1 s, quick's estimate), a (0.8 s), c (0.5 s) */
    scenario("b", "", NULL);
    scenario("c", "timeout=0.5", NULL);
    int rc = run(out, sizeof out,
                 "cd %s && (EK3_TEST_HANG=a %s nightly . --out o --history h.jsonl >log 2>&1 & p=$!; "
                 "while [ ! -e o/runs/a/seed-1/run.log ]; do sleep 0.05; done; kill -INT $p; wait $p; "
                 "echo rc=$?; cat log)",
                 dir, EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "rc=130"), "the docs and --help say 130: %s", out);
    cr_assert(strstr(out, "NOTRUN a                            seed 1    stopped while it ran (SIGINT)"), "%s", out);
    cr_assert(strstr(out, "NOTRUN c                            seed 1    not started: the night was stopped"), "%s",
              out);
    cr_assert(strstr(out, "2 runs not run (o/night.json says why)"), "%s", out);
    struct stat st;
    cr_assert_eq(stat(path("o/junit.xml"), &st), 0);
    rc = run(out, sizeof out, "%s nightly --help", EK3_BIN);
    cr_assert(strstr(out, "130"), "%s", out);
}

Test(nightly, shards_merge_into_one_night)
{
    scenario("a", "seeds={1,2,3}", NULL);
    scenario("b", "seeds={1,2}, requirements={'EK-TECH-010 6.3'}", NULL);
    scenario("c", "seeds={4}", NULL);
    for (int i = 1; i <= 3; i++) {
        int rc = run(out, sizeof out, "cd %s && %s nightly . --shard %d/3 --out s%d --history h.jsonl", dir, EK3_BIN,
                     i, i);
        cr_assert_eq(rc, 0, "%s", out);
    }
    struct stat st;
    cr_assert_neq(stat(path("h.jsonl"), &st), 0, "a shard of several leaves the history to the merge");
    int rc = run(out, sizeof out, "cd %s && %s nightly merge s1 s2 s3 --out m --history h.jsonl", dir, EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "the night passes: 1 of 1 claim holds, 0 more with gaps named (6 runs: 6 passed,"), "%s", out);
    ngt_night n;
    char err[400];
    cr_assert_eq(ngt_night_read(path("m"), &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n.nrun, 6);
    cr_assert_eq(n.shard_n, 3);
    for (size_t i = 0; i < n.nrun; i++) {
        cr_assert_eq(n.run[i].status, NGT_DONE);
        char v[700];
        snprintf(v, sizeof v, "%s/%s/verdict.json", path("m"), n.run[i].dir);
        cr_assert_eq(stat(v, &st), 0, "%s copied", v);
    }
    ngt_night_free(&n);
    cr_assert_eq(stat(path("h.jsonl"), &st), 0, "the merge appends the history");
    /* a shard twice: refused; a shard missing: its runs are not run */
    rc = run(out, sizeof out, "cd %s && %s nightly merge s1 s1 s2 s3 --out m2", dir, EK3_BIN);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(strstr(out, "s1 given twice"), "%s", out);
    rc = run(out, sizeof out, "cd %s && %s nightly merge s1 s9 --out m2", dir, EK3_BIN);
    cr_assert_eq(rc, 2, "a missing shard directory is bad input: %s", out);
    cr_assert(strstr(out, "s9: No such file or directory"), "%s", out);
    rc = run(out, sizeof out, "cd %s && %s nightly merge s1 s2 --out m3", dir, EK3_BIN);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "no shard ran it"), "%s", out);
}

/* `ek3 scenario run --jobs` runs through the same pool: its lines in job order. */
Test(nightly, scenario_run_jobs_uses_the_pool)
{
    scenario("a", "seeds={1,2}", NULL);
    scenario("b", "", "run('0.01s')\nexpect(false, 'held')");
    scenario("c", "seeds={5}", NULL);
    int rc = run(out, sizeof out, "%s scenario run %s --jobs 3 --report %s", EK3_BIN, dir, path("r"));
    cr_assert_eq(rc, 1, "%s", out);
    const char *a1 = strstr(out, "PASS   a                            seed 1"),
               *a2 = strstr(out, "PASS   a                            seed 2"), *b = strstr(out, "FAIL   b"),
               *c = strstr(out, "PASS   c                            seed 5");
    cr_assert(a1 && a2 && b && c && a1 < a2 && a2 < b && b < c, "%s", out);
    cr_assert(strstr(out, "4 runs of 3 files: 3 passed, 1 failed, 0 errors"), "%s", out);
    struct stat st;
    char v[300];
    snprintf(v, sizeof v, "%s/c/seed-5/verdict.json", path("r"));
    cr_assert_eq(stat(v, &st), 0, "%s", v);
}

/* night.json takes any text: bytes that are not UTF-8 become '?', no run is dropped. */
Test(nightly, night_json_takes_any_text)
{
    ngt_night n;
    ngt_run r[2];
    memset(&n, 0, sizeof n);
    memset(r, 0, sizeof r);
    snprintf(n.out, sizeof n.out, "%s", dir);
    snprintf(n.selection, sizeof n.selection, "--tag \xff\xfe");
    for (int i = 0; i < 2; i++) {
        snprintf(r[i].job.name, sizeof r[i].job.name, "s%d", i);
        snprintf(r[i].job.path, sizeof r[i].job.path, "/tmp/\xc3(bad-%d.lua", i);
        r[i].job.seed = (uint64_t)i + 1;
        r[i].status = NGT_NOT_RUN;
        snprintf(r[i].why, sizeof r[i].why, "stopped \x80 here; caf\xc3\xa9");
        snprintf(r[i].dir, sizeof r[i].dir, "runs/s%d/seed-%d", i, i + 1);
        snprintf(r[i].r.m.requirements, sizeof r[i].r.m.requirements, "EK-TECH-010 6.3;EK \xff");
        r[i].r.verdict = SCN_ERROR;
    }
    n.run = r;
    n.nrun = 2;
    char err[600];
    cr_assert_eq(ngt_night_write(&n, err, sizeof err), 0, "%s", err);
    ngt_night b;
    cr_assert_eq(ngt_night_read(dir, &b, err, sizeof err), 0, "%s", err);
    cr_assert_eq(b.nrun, 2);
    cr_assert_str_eq(b.run[1].why, "stopped ? here; caf\xc3\xa9");
    cr_assert_str_eq(b.run[1].r.m.requirements, "EK-TECH-010 6.3;EK ?");
    cr_assert_eq(b.run[1].status, NGT_NOT_RUN);
    cr_assert_eq(b.run[1].job.seed, 2);
    ngt_night_free(&b);
}

/* A night's trend whose figure moved in its last digit (100.1 and the
 * double just below it, and a limit of 100.1: a span below the values'
 * precision) plots as a small SVG; its tick loop once never
 * ended and took the machine's memory (the report of `make run`). In a
 * child with an alarm, so that a regression fails instead of hanging. */
Test(nightly, a_trend_in_its_last_digits_plots)
{
    char svg[200];
    snprintf(svg, sizeof svg, "%s/trend.svg", dir);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        alarm(30);
        double x[3] = {-2, -1, 0}, y[3] = {100.1, nextafter(100.1, 0), 100.1}, lx[2] = {-2, 0},
               ly[2] = {100.1, 100.1}, fx[2] = {1e6, nextafter(1e6, 2e6)}, fy[2] = {5, 5};
        splot_series s[2] = {{"watchdog", "blue", x, y, 3}, {"limit", "red", lx, ly, 2}};
        splot_series f[1] = {{"flat", "blue", fx, fy, 2}};
        _exit(splot_lines(svg, "t", "night", "ms", s, 2) || splot_lines(svg, "t", "x", "y", f, 1) ? 1 : 0);
    }
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    struct stat sb;
    cr_assert_eq(stat(svg, &sb), 0);
    cr_assert_lt(sb.st_size, 200000, "%lld bytes", (long long)sb.st_size);
}

/* A misspelt flag is named as unknown, whatever follows it; a flag
 * without a value is named as given twice, not as taking a value. */
Test(nightly, bad_flags_are_named_for_what_they_are)
{
    static const char *const cases[][2] = {
        {"--plan --bogus", "unknown argument '--bogus'"},
        {"--bogus --out o", "unknown argument '--bogus'"},
        {"--plan --plan", "--plan is given twice"},
        {"--out", "--out needs a value"},
        {"--out --plan", "--out needs a value"},
        {"merge a --bogus --out x", "unknown argument '--bogus'"},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = run(out, sizeof out, "%s nightly %s 2>&1", EK3_BIN, cases[i][0]);
        cr_assert_eq(rc, 2, "%s: %s", cases[i][0], out);
        cr_assert(strstr(out, cases[i][1]), "%s: %s", cases[i][0], out);
    }
}

/* A verdict that changed with the same seed, script and rig is reported
 * as nondeterminism, apart from product failures; --fail-on-flip makes it
 * fail the night. (Last night's line is edited to stand for a flaky rig.)
 * A night of another rig version is not compared. */
Test(nightly, a_flip_is_reported_and_fails_the_night_on_request)
{
    scenario("steady", "", NULL);
    int rc = run(out, sizeof out, "cd %s && %s nightly . --out o --history h.jsonl --quarantine /dev/null", dir, EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    rc = run(out, sizeof out, "cd %s && sed -i 's/\"verdict\": *\"PASS\"/\"verdict\": \"FAIL\"/' h.jsonl && "
                              "%s nightly . --out o --history h.jsonl --quarantine /dev/null", dir, EK3_BIN);
    cr_assert_eq(rc, 0, "reported, not failed: %s", out);
    cr_assert(strstr(out, "nondeterminism: steady seed 1:"), "%s", out);
    cr_assert(strstr(out, "1 nondeterminism flag)"), "%s", out);
    rc = run(out, sizeof out, "cd %s && sed -i 's/\"verdict\": *\"PASS\"/\"verdict\": \"FAIL\"/' h.jsonl && "
                              "%s nightly . --out o --history h.jsonl --quarantine /dev/null --fail-on-flip", dir, EK3_BIN);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "--fail-on-flip: 1 nondeterminism flag fails the night"), "%s", out);
    rc = run(out, sizeof out, "grep -c 'the night FAILS' %s/o/report/index.html", dir);
    cr_assert_eq(rc, 0, "the report says the night fails too: %s", out);
    /* the same change from another rig version is the rig's change (a new model), not nondeterminism */
    rc = run(out, sizeof out,
             "cd %s && sed -i -e 's/\"verdict\": *\"PASS\"/\"verdict\": \"FAIL\"/' "
             "-e 's/\"rig_version\": *\"[^\"]*\"/\"rig_version\": \"0.0.1+older\"/' h.jsonl && "
             "%s nightly . --out o --history h.jsonl --quarantine /dev/null --fail-on-flip",
             dir, EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "0 nondeterminism flags"), "%s", out);
}

/* An edited helper module (lib/NAME.lua) makes another script, not a
 * flip: the history keeps the helpers' hash beside the script's (the
 * edit was reported as nondeterminism, a rig bug). */
Test(nightly, an_edited_helper_is_not_a_flip)
{
    char lib[300], h[320];
    snprintf(lib, sizeof lib, "%s/lib", dir);
    mkdir(lib, 0755);
    snprintf(h, sizeof h, "%s/hh.lua", lib);
    write_file(h, "return { at = '0.01s' }\n");
    scenario("helped", "", "local hh = require 'hh'\nrun(hh.at)\nexpect(true, 'ok')");
    int rc =
        run(out, sizeof out, "cd %s && %s nightly . --out o --history h.jsonl --quarantine /dev/null", dir, EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    rc = run(out, sizeof out, "grep -c '\"helpers_sha256\": *\"[0-9a-f]\\{64\\}\"' %s/h.jsonl", dir);
    cr_assert_eq(rc, 0, "the history line holds the helpers' hash: %s", out);
    write_file(h, "return { at = '0.02s' }\n"); /* another trace */
    rc = run(out, sizeof out, "cd %s && %s nightly . --out o --history h.jsonl --quarantine /dev/null --fail-on-flip",
             dir, EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "0 nondeterminism flags"), "%s", out);
}

/* A JSON output that is not a regular file (a device, a symlink to one)
 * is written to, never renamed over: a rename would put a file where
 * /dev/full was, for every program after. The write error is told. */
Test(nightly, a_plan_onto_a_device_is_written_through_not_renamed_over)
{
    if (access("/dev/full", W_OK))
        cr_skip_test("no /dev/full");
    ngt_job j[4];
    size_t n = make_jobs(j, 4);
    char p[300], err[400] = "";
    snprintf(p, sizeof p, "%s/plan-link.json", dir);
    unlink(p);
    cr_assert_eq(symlink("/dev/full", p), 0);
    cr_assert_eq(ngt_plan_write(p, j, n, 1, "", err, sizeof err), EK3_EIO);
    cr_assert(strstr(err, "plan-link.json: write error: No space left on device"), "%s", err);
    struct stat st;
    cr_assert_eq(lstat(p, &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "the link is still a link");
    cr_assert_eq(stat("/dev/full", &st), 0);
    cr_assert(S_ISCHR(st.st_mode), "/dev/full is still a device");
}

/* Two nights within a second are two nights in the history (its night
 * is stamped to the millisecond), and a plan weighed by sub-second runs
 * says how long, not "makespan 0 s". */
Test(nightly, short_nights_are_stamped_and_planned_below_the_second)
{
    scenario("brief", "", NULL);
    for (int k = 0; k < 2; k++) {
        int rc = run(out, sizeof out, "cd %s && %s nightly . --out o%d --history h.jsonl --quarantine /dev/null", dir,
                     EK3_BIN, k);
        cr_assert_eq(rc, 0, "%s", out);
    }
    int rc =
        run(out, sizeof out,
            "cd %s && grep -o '\"night\": *\"[0-9-]*T[0-9:]*\\.[0-9][0-9][0-9]Z\"' h.jsonl | sort -u | wc -l", dir);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(atoi(out), 2, "two nights, each to the millisecond: %s", out);
    rc = run(out, sizeof out, "cd %s && %s nightly . --plan --out p --history h.jsonl --quarantine /dev/null", dir,
             EK3_BIN);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "weighed by 1 from the history") && strstr(out, "makespan 0.") && !strstr(out, " 0 s"), "%s",
              out);
}
