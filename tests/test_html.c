/* test_html.c - the nightly's HTML report (htm.h) over a night built by
 * hand in a temporary OUT: a PASS, a FAIL, a crashed run (an ERROR whose
 * error text holds markup, quotes, a control byte and invalid UTF-8), a
 * quarantined FAIL, a run not run, gaps, history for trends, drift and
 * nondeterminism flags, fake keys.csv files and evidence. Checked: the
 * failures come before the passes; nothing from a scenario reaches the
 * page unescaped; the page is valid UTF-8 and parses as HTML; every
 * href and src resolves to a file; the SVG plots parse as XML and draw
 * a path; and, where Debian's chromium is installed, the page renders
 * headless into a screenshot of real size and more than one colour
 * (kept as build/.../tests/html-report.png). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ek3_err.h"
#include "hst.h"
#include "htm.h"
#include "ngt.h"

#ifndef EK3_ARTEFACTS
#define EK3_ARTEFACTS "."
#endif

static char out[64];
static char rep[128];

__attribute__((destructor)) static void rm_out(void)
{
    char cmd[128];
    if (out[0] && snprintf(cmd, sizeof cmd, "rm -rf '%s'", out) < (int)sizeof cmd && system(cmd) != 0)
        fprintf(stderr, "test_html: could not remove %s\n", out);
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

static void mkdirs(const char *path)
{
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    cr_assert_eq(system(cmd), 0);
}

static void fig(scn_result *r, const char *name, double v, const char *unit, const char *lim, int pass, double t)
{
    if (r->nfig == r->capfig) {
        r->capfig = r->capfig ? 2 * r->capfig : 8;
        r->fig = realloc(r->fig, r->capfig * sizeof *r->fig);
        cr_assert_not_null(r->fig);
    }
    scn_fig *g = &r->fig[r->nfig];
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    g->value = v;
    snprintf(g->unit, sizeof g->unit, "%s", unit);
    snprintf(g->limit, sizeof g->limit, "%s", lim);
    g->pass = pass;
    g->t_s = t;
    snprintf(g->where, sizeof g->where, "scenarios/%s.lua:%u", r->m.name, 10 + r->nfig);
    if (!pass && r->first_fail < 0)
        r->first_fail = (int)r->nfig;
    r->nfig++;
}

/* A run of the night, with its evidence directory made (files: which of
 * verdict.json, verdict.txt, run.log and keys.csv to write). */
static ngt_run *add_run(ngt_night *n, const char *name, uint64_t seed, int status, int verdict, int files)
{
    n->run = realloc(n->run, (n->nrun + 1) * sizeof *n->run);
    cr_assert_not_null(n->run);
    ngt_run *r = &n->run[n->nrun++];
    memset(r, 0, sizeof *r);
    snprintf(r->job.name, sizeof r->job.name, "%s", name);
    snprintf(r->job.path, sizeof r->job.path, "scenarios/%s.lua", name);
    r->job.seed = seed;
    r->job.shard = 1;
    snprintf(r->dir, sizeof r->dir, "runs/%s/seed-%llu", name, (unsigned long long)seed);
    r->status = status;
    r->wall_s = 1.5;
    r->r.verdict = verdict;
    r->r.seed = seed;
    r->r.first_fail = -1;
    r->r.sim_s = 2;
    snprintf(r->r.m.name, sizeof r->r.m.name, "%s", name);
    snprintf(r->r.m.level, sizeof r->r.m.level, "quick");
    snprintf(r->r.m.requirements, sizeof r->r.m.requirements, "EK-TECH-010 %s", name);
    char d[800], p[900];
    snprintf(d, sizeof d, "%s/%s", out, r->dir);
    mkdirs(d);
    static const char *const fn[4] = {"verdict.json", "verdict.txt", "run.log", "keys.csv"};
    for (int i = 0; i < 3; i++)
        if (files & (1 << i)) {
            snprintf(p, sizeof p, "%s/%s", d, fn[i]);
            put(p, "{}\n");
        }
    if (files & 8) {
        snprintf(p, sizeof p, "%s/keys.csv", d);
        FILE *f = fopen(p, "w");
        cr_assert_not_null(f);
        fputs("t_s,bus.v (V),bus.p (W),rack.i_mean (A),module[5].iout (A),canbus.load\n", f);
        for (int i = 0; i <= 400; i++) {
            double t = i * 0.005, dip = t > 1 && t < 1.05 ? 40 * (1.05 - t) / 0.05 : 0;
            fprintf(f, "%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", t, 750 - dip, t > 1 ? 100000.0 : 0.0, t > 1 ? 1.59 : 0.01,
                    t > 1 ? 1.6 + 0.01 * sin(t * 40) : 0, 0.02);
        }
        cr_assert_eq(fclose(f), 0);
    }
    return r;
}

static hst_entry *add_hist(hst *h, const char *night, const char *name, uint64_t seed, double v)
{
    h->e = realloc(h->e, (h->n + 1) * sizeof *h->e);
    cr_assert_not_null(h->e);
    hst_entry *e = &h->e[h->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->night, sizeof e->night, "%s", night);
    snprintf(e->scenario, sizeof e->scenario, "%s", name);
    e->seed = seed;
    e->fig = calloc(1, sizeof *e->fig);
    cr_assert_not_null(e->fig);
    e->nfig = 1;
    snprintf(e->fig[0].name, sizeof e->fig[0].name, "overshoot");
    snprintf(e->fig[0].unit, sizeof e->fig[0].unit, "V");
    snprintf(e->fig[0].limit, sizeof e->fig[0].limit, "<= 15 V");
    e->fig[0].value = v;
    e->fig[0].pass = 1;
    return e;
}

static const char evil[] = "x.lua:3: <script>alert(1)</script>&\"quoted\" \x01 bad \xff\xfe bytes";

/* The night: returns the page's text (malloc'd); the night in *n. */
static char *write_night(ngt_night *n, hst *h)
{
    snprintf(out, sizeof out, "/tmp/ek3-html-%ld-XXXXXX", (long)getpid());
    cr_assert_not_null(mkdtemp(out));
    snprintf(rep, sizeof rep, "%s/report", out);
    memset(n, 0, sizeof *n);
    snprintf(n->out, sizeof n->out, "%s", out);
    snprintf(n->rig_version, sizeof n->rig_version, "0.4.0+test");
    snprintf(n->started, sizeof n->started, "2026-12-01T02:00:00Z");
    snprintf(n->selection, sizeof n->selection, "--level quick");
    n->shard_i = n->shard_n = 1;
    n->wall_s = 42;

    ngt_run *r = add_run(n, "soft-start", 1, NGT_DONE, SCN_PASS, 15);
    fig(&r->r, "overshoot", 3.2, "V", "<= 15 V", 1, 0.9);
    fig(&r->r, "settled", NAN, "", "true", 1, 1.0);
    char p[800];
    snprintf(p, sizeof p, "%s/%s/step capture.csv", out, r->dir);
    put(p, "t_s,bus.v_V\n0,750\n");

    r = add_run(n, "load-step", 2, NGT_DONE, SCN_FAIL, 15);
    snprintf(r->r.m.requirements, sizeof r->r.m.requirements, "EK-TECH-010 load-step;EK-TECH-010 3.3");
    fig(&r->r, "dip depth", 12, "V", "<= 30 V", 1, 1.1);
    fig(&r->r, "recovery time", 48.5, "ms", "<= 20 ms", 0, 1.2);
    fig(&r->r, "overshoot", 30, "V", "<= 15 V", 0, 1.3);
    r->r.nfault = 1;
    snprintf(r->r.fault[0].text, sizeof r->r.fault[0].text, "pull:3@1s");
    snprintf(r->r.fault[0].where, sizeof r->r.fault[0].where, "scenarios/load-step.lua:7");
    r->r.fault[0].spec.t = 1;
    r->r.fault[0].onset_s = 1;
    r->r.fault[0].cleared_s = -1;

    r = add_run(n, "svc-crash", 1, NGT_CRASHED, SCN_ERROR, 1 | 4);
    snprintf(r->why, sizeof r->why, "its process ended on signal 11 (Segmentation fault) <b>");
    snprintf(r->r.error, sizeof r->r.error, "%s", evil);

    r = add_run(n, "bus-off", 1, NGT_DONE, SCN_FAIL, 1 | 2);
    fig(&r->r, "recovered", NAN, "", "true", 0, 0.5);
    snprintf(r->quarantine, sizeof r->quarantine, "flaky on a loaded box (issue 99)");
    snprintf(r->q_expires, sizeof r->q_expires, "2099-01-01");

    r = add_run(n, "sparing-61", 1, NGT_DONE, SCN_PASS, 1);
    snprintf(r->r.m.gaps, sizeof r->r.m.gaps,
             "EK-TECH-010 6.3 61 modules carry 200 kW: 61 x 3.0 kW < 200 kW at the 4.0 A limit\n"
             "a <second> gap: its reason");
    fig(&r->r, "delivered", 183, "kW", ">= 200 kW", 1, 2);

    r = add_run(n, "soak-long", 1, NGT_NOT_RUN, SCN_ERROR, 0);
    snprintf(r->why, sizeof r->why, "the night was stopped (SIGTERM) before it ran");

    memset(h, 0, sizeof *h);
    static const char *const nights[] = {"2026-11-27T02:00:00Z", "2026-11-28T02:00:00Z", "2026-11-29T02:00:00Z",
                                         "2026-11-30T02:00:00Z"};
    for (int i = 0; i < 4; i++) {
        add_hist(h, nights[i], "soft-start", 1, 3.0 + 0.1 * i);
        add_hist(h, nights[i], "load-step", 2, 10 + i);
    }
    /* sparing-61: tonight already appended to the history, nothing before: one point, no trend */
    hst_entry *e = add_hist(h, n->started, "sparing-61", 1, 183);
    snprintf(e->fig[0].name, sizeof e->fig[0].name, "delivered");
    hst_flag flags[2];
    memset(flags, 0, sizeof flags);
    flags[0].kind = HST_FLIP;
    snprintf(flags[0].scenario, sizeof flags[0].scenario, "bus-off");
    flags[0].seed = 1;
    snprintf(flags[0].text, sizeof flags[0].text, "PASS last night, FAIL tonight with the same script & seed");
    flags[1].kind = HST_DRIFT;
    snprintf(flags[1].scenario, sizeof flags[1].scenario, "soft-start");
    flags[1].seed = 1;
    snprintf(flags[1].figure, sizeof flags[1].figure, "overshoot");
    flags[1].value = 3.2, flags[1].median = 3.1, flags[1].band = 0.05;
    snprintf(flags[1].text, sizeof flags[1].text, "overshoot drifted up");

    char err[400];
    cr_assert_eq(htm_write(rep, n, h, flags, 2, err, sizeof err), 0, "%s", err);
    snprintf(p, sizeof p, "%s/index.html", rep);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "%s: %s", p, strerror(errno));
    char *buf = calloc(1, 1 << 20);
    size_t len = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    cr_assert_gt(len, 1000);
    return buf;
}

static void done(ngt_night *n, hst *h, char *page)
{
    ngt_night_free(n);
    hst_free(h);
    free(page);
}

static const char *at(const char *page, const char *what)
{
    const char *p = strstr(page, what);
    cr_assert_not_null(p, "the page lacks '%s'", what);
    return p;
}

Test(html, failures_come_first_and_the_summary_says_it_all)
{
    ngt_night n;
    hst h;
    char *page = write_night(&n, &h);
    /* run indices in plan order: 0 soft-start PASS, 1 load-step FAIL, 2 svc-crash ERROR,
     * 3 bus-off quarantined, 4 sparing-61 PASS, 5 soak-long not run */
    const char *fail = at(page, "id=\"run-1\""), *err = at(page, "id=\"run-2\""), *q = at(page, "id=\"run-3\"");
    const char *nr = at(page, "id=\"run-5\""), *pass = at(page, "id=\"run-0\""), *pass2 = at(page, "id=\"run-4\"");
    cr_assert(fail < err && err < q && q < nr && nr < pass && pass < pass2, "runs out of order");
    const char *failures = at(page, "<h2>Failures</h2>"), *runs = at(page, "<h2>Runs</h2>");
    cr_assert(failures < runs);
    at(failures, "<b>recovery time</b> = 48.5 ms, limit &lt;= 20 ms, at 1.2 s, <code>scenarios/load-step.lua:11</code>");
    cr_assert(strstr(failures, "href=\"#run-2\"") < runs, "the crashed run is among the failures");
    at(page, "1 of 7 claims hold, 1 more with gaps named");
    /* the claims table, between the failures and the runs: each claim's
     * word as the count has it, and its scenarios linked to their runs */
    const char *claims = at(page, "<h2>Claims</h2>");
    cr_assert(failures < claims && claims < runs);
    at(claims, "<td>EK-TECH-010 soft-start</td><td>holds</td><td><a href=\"#run-0\">soft-start</a></td>");
    at(claims, "<tr class=\"gap\"><td>EK-TECH-010 sparing-61</td><td>holds, gaps named</td>");
    at(claims, "<td>EK-TECH-010 load-step</td><td><b class=\"bad\">fails</b></td>");
    at(page, "claims: EK-TECH-010 load-step, EK-TECH-010 3.3 &middot;"); /* the manifest's ';' list, ", "-separated */ /* soft-start passed; sparing-61 passed naming a gap */
    at(page, "2 passed</td><td class=\"bad\">1 failed</td><td class=\"bad\">1 errors</td>");
    at(page, "<td>1 quarantined</td>");
    at(page, "1 not run");
    at(page, "0.4.0+test");
    at(page, "2026-12-01T02:00:00Z");
    at(page, "the whole night (not sharded)");
    const char *gaps = at(page, "<h2>Claims the rig cannot hold</h2>");
    at(gaps, "61 modules carry 200 kW: 61 x 3.0 kW &lt; 200 kW at the 4.0 A limit");
    at(gaps, "a &lt;second&gt; gap: its reason");
    const char *nd = at(page, "<h2>Nondeterminism");
    at(nd, "bus-off seed 1: PASS last night, FAIL tonight with the same script &amp; seed");
    at(at(page, "<h2>Drift"), "overshoot: 3.2 against a median of 3.1");
    at(page, "flaky on a loaded box (issue 99)");
    char want[300];
    snprintf(want, sizeof want, "<pre>ek3 scenario replay %s/runs/load-step/seed-2/verdict.json</pre>", out);
    at(page, want);
    at(at(page, "id=\"run-1\""), "pull:3@1s");
    /* the checks' limit column reads as verdict.txt does (scn_fig_limit), under its "limit" heading */
    at(page, "<td>settled</td><td class=\"num\">");
    at(page, "</td><td>expected true</td><td>pass</td>");
    at(page, "</td><td>&lt;= 20 ms</td><td><b>FAIL</b></td>");
    done(&n, &h, page);
}

Test(html, nothing_from_a_scenario_reaches_the_page_unescaped)
{
    ngt_night n;
    hst h;
    char *page = write_night(&n, &h);
    cr_assert_null(strstr(page, "<script"), "raw <script> on the page");
    cr_assert_null(strstr(page, "<b>\n"), "raw markup from why");
    cr_assert_null(strstr(page, "<second>"), "raw markup from a gap");
    at(page, "x.lua:3: &lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;quoted&quot; \xEF\xBF\xBD bad "
             "\xEF\xBF\xBD\xEF\xBF\xBD bytes");
    cr_assert_eq(xmlCheckUTF8((const unsigned char *)page), 1, "the page is not valid UTF-8");
    for (const char *p = page; *p; p++)
        cr_assert(*p == '\n' || *p == '\t' || (unsigned char)*p >= 0x20, "a control byte at %ld", (long)(p - page));
    cr_assert_null(strstr(page, "<script"), "no script at all");
    cr_assert_null(strstr(page, "&amp;middot;"), "the page's own entities escaped twice");
    cr_assert(!strstr(page, "&lt;/code") && !strstr(page, "&lt;/td"), "the page's own markup escaped");
    cr_assert_null(strstr(page, "http://"));
    cr_assert_null(strstr(page, "https://"));
    done(&n, &h, page);
}

/* Every href and src of the tree: an anchor names an id on the page, a
 * file exists relative to the report's directory. */
static void check_links(xmlNode *node, xmlDoc *doc, const char *page, unsigned *files, unsigned *svgs)
{
    for (xmlNode *x = node; x; x = x->next) {
        if (x->type == XML_ELEMENT_NODE)
            for (const char *attr = "href"; attr; attr = !strcmp(attr, "href") ? "src" : NULL) {
                xmlChar *v = xmlGetProp(x, (const xmlChar *)attr);
                if (!v)
                    continue;
                const char *s = (const char *)v;
                cr_assert_null(strstr(s, "://"), "%s='%s' leaves the disk", attr, s);
                if (s[0] == '#') {
                    char id[100];
                    snprintf(id, sizeof id, "id=\"%s\"", s + 1);
                    cr_assert_not_null(strstr(page, id), "anchor %s names no id", s);
                } else {
                    char dec[1000], path[1200];
                    size_t k = 0;
                    for (const char *c = s; *c && k + 1 < sizeof dec; c++) {
                        unsigned hex;
                        if (*c == '%' && sscanf(c + 1, "%2x", &hex) == 1)
                            dec[k++] = (char)hex, c += 2;
                        else
                            dec[k++] = *c;
                    }
                    dec[k] = 0;
                    snprintf(path, sizeof path, "%s/%s", rep, dec);
                    struct stat st;
                    cr_assert_eq(stat(path, &st), 0, "%s='%s' does not resolve (%s)", attr, s, path);
                    cr_assert(S_ISREG(st.st_mode), "%s is not a file", path);
                    ++*files;
                    *svgs += !strcmp(attr, "src") && strstr(s, ".svg") != NULL;
                }
                xmlFree(v);
            }
        check_links(x->children, doc, page, files, svgs);
    }
}

/* Whether the tree holds a path or a polyline. */
static int draws(xmlNode *x)
{
    for (; x; x = x->next)
        if ((x->type == XML_ELEMENT_NODE &&
             (!strcmp((const char *)x->name, "path") || !strcmp((const char *)x->name, "polyline"))) ||
            draws(x->children))
            return 1;
    return 0;
}

Test(html, every_link_resolves_and_every_plot_is_svg_with_a_path)
{
    ngt_night n;
    hst h;
    char *page = write_night(&n, &h);
    char p[900];
    snprintf(p, sizeof p, "%s/index.html", rep);
    htmlDocPtr doc = htmlReadFile(p, "UTF-8", HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
    cr_assert_not_null(doc, "index.html does not parse as HTML");
    unsigned files = 0, svgs = 0;
    check_links(xmlDocGetRootElement(doc), doc, page, &files, &svgs);
    xmlFreeDoc(doc);
    /* soft-start and load-step: keys in V, W, A and no unit; trends: their overshoot (the history
     * holds no other figure: one point, tonight's, is no trend) */
    cr_assert_eq(svgs, 4 + 4 + 2, "%u plots", svgs);
    cr_assert_geq(files, svgs + 14, "%u files linked", files);
    at(page, "href=\"../runs/soft-start/seed-1/step%20capture.csv\"");
    at(page, "href=\"../runs/svc-crash/seed-1/run.log\"");
    cr_assert_null(strstr(page, "runs/svc-crash/seed-1/verdict.txt"), "a link to a file that is not there");
    at(at(page, "id=\"run-2\""), "no keys.csv");
    char d[300];
    snprintf(d, sizeof d, "%s/svg", rep);
    DIR *dir = opendir(d);
    cr_assert_not_null(dir);
    unsigned nsvg = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        xmlDocPtr x = xmlReadFile(p, NULL, XML_PARSE_NONET);
        cr_assert_not_null(x, "%s does not parse as XML", p);
        xmlNode *root = xmlDocGetRootElement(x);
        cr_assert_str_eq((const char *)root->name, "svg", "%s", p);
        cr_assert(draws(root->children), "%s draws no path or polyline", p);
        xmlFreeDoc(x);
        nsvg++;
    }
    closedir(dir);
    cr_assert_eq(nsvg, svgs, "svg/ holds plots the page does not show");
    done(&n, &h, page);
}

Test(html, an_empty_night_and_a_bad_keys_csv_are_said_not_lost)
{
    ngt_night n;
    hst h;
    char *page = write_night(&n, &h);
    free(page);
    char p[800], err[300];
    snprintf(p, sizeof p, "%s/runs/soft-start/seed-1/keys.csv", out);
    put(p, "t_s,bus.v (V)\n0,750\n1,x\n");
    cr_assert_eq(htm_write(rep, &n, NULL, NULL, 0, err, sizeof err), 0, "%s", err);
    snprintf(p, sizeof p, "%s/index.html", rep);
    FILE *f = fopen(p, "r");
    page = calloc(1, 1 << 20);
    cr_assert_not_null(f);
    cr_assert_gt(fread(page, 1, (1 << 20) - 1, f), 0);
    fclose(f);
    at(page, "keys.csv cannot be read: ");
    char old[300];
    snprintf(old, sizeof old, "%s/svg/r0-keys-V.svg", rep);
    cr_assert_neq(access(old, F_OK), 0, "a plot of the report before stayed");
    at(page, "runs/soft-start/seed-1/keys.csv:3: field 2: not a number");
    free(page);
    ngt_night empty = n;
    empty.nrun = 0;
    cr_assert_eq(htm_write(rep, &empty, NULL, NULL, 0, err, sizeof err), 0, "%s", err);
    f = fopen(p, "r");
    cr_assert_not_null(f);
    page = calloc(1, 1 << 20);
    cr_assert_gt(fread(page, 1, (1 << 20) - 1, f), 0);
    fclose(f);
    at(page, "The selection holds no scenario");
    at(page, "None: no run."); /* it read "every run passed" */
    cr_assert_eq(htm_write("/nonexistent/dir/report", &n, NULL, NULL, 0, err, sizeof err), EK3_EIO);
    at(err, "/nonexistent/dir/report: cannot make the directory");
    done(&n, &h, page);
}

static const char *chromium(void)
{
    static const char *const names[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser", NULL};
    for (const char *const *c = names; *c; c++)
        if (!access(*c, X_OK))
            return *c;
    return NULL;
}

Test(html, chromium_renders_it_headless, .timeout = 240)
{
    const char *chrome = chromium();
    if (!chrome)
        cr_skip("chromium is not installed (ci/install-deps installs Debian's chromium)");
    ngt_night n;
    hst h;
    char *page = write_night(&n, &h);
    char shot[600], cmd[3000], log[700];
    snprintf(shot, sizeof shot, "%s/html-report.png", EK3_ARTEFACTS);
    snprintf(log, sizeof log, "%s/html-report.chromium.log", EK3_ARTEFACTS);
    unlink(shot);
    snprintf(cmd, sizeof cmd,
             "HOME='%s' timeout 120 '%s' --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir='%s/chrome' "
             "--screenshot='%s' --window-size=1200,2000 'file://%s/index.html' > '%s' 2>&1",
             out, chrome, out, shot, rep, log);
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "chromium failed (%d); its output: %s", rc, log);
    struct stat st;
    cr_assert_eq(stat(shot, &st), 0, "no screenshot %s", shot);
    cr_assert_gt(st.st_size, 20 * 1024, "the screenshot is %ld bytes", (long)st.st_size);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&img, shot), "%s: %s", shot, img.message);
    img.format = PNG_FORMAT_RGB;
    cr_assert_eq(img.width, 1200);
    cr_assert_eq(img.height, 2000);
    unsigned char *px = malloc(PNG_IMAGE_SIZE(img));
    cr_assert(png_image_finish_read(&img, NULL, px, 0, NULL), "%s", img.message);
    /* Colours seen: white, the text's, the verdicts' (red, green), the plots'. */
    unsigned white = 0, red = 0, other = 0;
    for (size_t i = 0; i < (size_t)img.width * img.height; i++) {
        const unsigned char *c = px + 3 * i;
        if (c[0] > 240 && c[1] > 240 && c[2] > 240)
            white++;
        else if (c[0] > 180 && c[1] < 80 && c[2] < 80)
            red++;
        else
            other++;
    }
    free(px);
    cr_assert_gt(white, 100000, "hardly any white page (%u)", white);
    cr_assert_gt(red, 500, "no red FAIL marks (%u red pixels)", red);
    cr_assert_gt(other, 10000, "hardly any text or plots (%u)", other);
    done(&n, &h, page);
}
