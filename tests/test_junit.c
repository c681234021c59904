/* test_junit.c - the nightly's JUnit XML (scopes/jun.h) as CI systems
 * read it: a night of every kind of run (PASS, FAIL, ERROR, crashed,
 * timed out, quarantined, an expired quarantine, not run) read back with
 * libxml2's XPath for counts, names and messages; validated by xmllint
 * against the Jenkins xUnit JUnit schema and read back by Debian's
 * python3-junitparser with the same counts; an empty night; text no XML
 * may hold; a long verdict.txt cut; a full disk. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "ek3_err.h"
#include "jun.h"
#include "night_build.h"

static char dir[64];
static char xml[128];

static void setup(void)
{
    nb_mkdir(dir, sizeof dir, "jun");
    snprintf(xml, sizeof xml, "%s/junit.xml", dir);
}

static void teardown(void)
{
    nb_rmdir(dir);
}

TestSuite(junit, .init = setup, .fini = teardown);

/* Write text as OUT/RUNDIR/name (its folders made). */
static void put_file(const ngt_run *r, const char *name, const char *text, size_t len)
{
    char p[1400];
    snprintf(p, sizeof p, "mkdir -p '%s/%s'", dir, r->dir);
    cr_assert_eq(system(p), 0);
    snprintf(p, sizeof p, "%s/%s/%s", dir, r->dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f, "%s", p);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

/* The night of every kind of run. */
static void mixed_night(ngt_night *n)
{
    nb_night(n, dir, "2026-12-01T02:00:00Z");
    ngt_run *r = nb_run(n, "soft-start", 1, NGT_DONE, SCN_PASS, 1.25, "EK-TECH-010 6.1;EK-TECH-010 6.3", 0x11, 0xa1);
    nb_fig(r, "overshoot", 0.4, "V", "<= 7.5 V", 1, 0.8, "soft-start.lua:12");
    snprintf(r->r.m.tags, sizeof r->r.m.tags, "power,startup");
    snprintf(r->r.m.gaps, sizeof r->r.m.gaps, "EK-TECH-010 6.4: the rig has no grid\nEK-TECH-010 9.1: no EMC");
    put_file(r, "verdict.txt", "scenario soft-start seed 1: PASS\nchecks (1):\n", 45);
    nb_run(n, "soft-start", 2, NGT_DONE, SCN_PASS, 1.5, "EK-TECH-010 6.1", 0x11, 0xa2);
    r = nb_run(n, "svc-crash-restart", 3, NGT_DONE, SCN_FAIL, 2.0, "EK-TECH-010 8.5", 0x22, 0xb3);
    nb_fig(r, "crashed", NAN, "", "true", 1, 1.0, "svc-crash-restart.lua:9");
    nb_fig(r, "restart time", 62.5, "ms", "<= 50 ms", 0, 1.2, "svc-crash-restart.lua:14");
    nb_fig(r, "output dip", 3.0, "V", "<= 5 V", 1, 1.3, "svc-crash-restart.lua:15");
    put_file(r, "verdict.txt", "scenario svc-crash-restart seed 3: FAIL\n", 40);
    r = nb_run(n, "can-babble", 1, NGT_DONE, SCN_ERROR, 0.5, "EK-TECH-010 7.2", 0x33, 0);
    snprintf(r->r.error, sizeof r->r.error, "can-babble.lua:7: attempt to call a nil value (global 'fualt')");
    r = nb_run(n, "hw-trip-ocp", 1, NGT_CRASHED, SCN_ERROR, 0.3, "EK-TECH-010 5.2", 0, 0);
    snprintf(r->why, sizeof r->why, "its process ended on signal 11 (Segmentation fault)");
    snprintf(r->r.error, sizeof r->r.error, "%s", r->why);
    put_file(r, "run.log", "engine: starting\nSegmentation fault\n", 36);
    r = nb_run(n, "ev-session", 1, NGT_TIMEOUT, SCN_ERROR, 75.0, "EK-TECH-010 11.1", 0, 0);
    snprintf(r->why, sizeof r->why, "killed after 75.0 s: its timeout is 60 s");
    snprintf(r->r.error, sizeof r->r.error, "%s", r->why);
    r = nb_run(n, "bus-off-recovery", 4, NGT_DONE, SCN_FAIL, 3.0, "EK-TECH-010 7.4", 0x44, 0xc4);
    nb_fig(r, "rejoin time", 1.8, "s", "<= 1 s", 0, 2.5, "bus-off-recovery.lua:30");
    snprintf(r->quarantine, sizeof r->quarantine, "flaky on a loaded box (issue 41)");
    snprintf(r->q_expires, sizeof r->q_expires, "2099-01-01");
    r = nb_run(n, "fan-fail-derate", 2, NGT_DONE, SCN_FAIL, 4.0, "EK-TECH-010 10.2", 0x55, 0xd5);
    nb_fig(r, "derated power", 2.1, "kW", ">= 2.4 kW", 0, 9.0, "fan-fail-derate.lua:21");
    snprintf(r->quarantine, sizeof r->quarantine, "waiting for the fan curve");
    snprintf(r->q_expires, sizeof r->q_expires, "2026-11-01");
    r->q_expired = 1;
    r = nb_run(n, "module-pull-150kw", 1, NGT_NOT_RUN, SCN_ERROR, 0, "EK-TECH-010 6.5", 0, 0);
    snprintf(r->why, sizeof r->why, "stopped: the night got SIGTERM");
    n->wall_s = 91.25;
}

/* XPath over the file just written. */
static xmlDocPtr doc;
static xmlXPathContextPtr xp;

static void load(void)
{
    doc = xmlReadFile(xml, NULL, XML_PARSE_NONET);
    cr_assert_not_null(doc, "%s is not well-formed XML", xml);
    xp = xmlXPathNewContext(doc);
    cr_assert_not_null(xp);
}

static void unload(void)
{
    xmlXPathFreeContext(xp);
    xmlFreeDoc(doc);
}

static double num(const char *expr)
{
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, xp);
    cr_assert_not_null(o, "%s", expr);
    double v = xmlXPathCastToNumber(o);
    xmlXPathFreeObject(o);
    return v;
}

/* The string value of expr into a static buffer. */
static const char *str(const char *expr)
{
    static char buf[1 << 20];
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, xp);
    cr_assert_not_null(o, "%s", expr);
    xmlChar *s = xmlXPathCastToString(o);
    snprintf(buf, sizeof buf, "%s", s ? (const char *)s : "");
    xmlFree(s);
    xmlXPathFreeObject(o);
    return buf;
}

/* The testcase of scenario and seed, as an XPath. */
static const char *tc(const char *scenario, unsigned seed, const char *rest)
{
    static char buf[300];
    snprintf(buf, sizeof buf, "//testcase[@classname='%s'][@name='seed %u']%s", scenario, seed, rest);
    return buf;
}

static void write_night(const ngt_night *n)
{
    char err[300] = "";
    int rc = jun_write(xml, n, err, sizeof err);
    cr_assert_eq(rc, 0, "%d %s", rc, err);
    const char *keep = getenv("EK3_KEEP_JUNIT"); /* a copy to look at */
    if (keep && n->nrun) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", xml, keep);
        cr_assert_eq(system(cmd), 0);
    }
}

Test(junit, counts_names_and_messages_match_the_verdicts)
{
    ngt_night n;
    mixed_night(&n);
    write_night(&n);
    load();
    ngt_count c;
    ngt_count_night(&n, &c);
    cr_assert_eq(num("count(//testcase)"), 9);
    cr_assert_eq(num("count(/testsuites/testsuite)"), 9);
    cr_assert_eq(num("/testsuites/@tests"), 9);
    cr_assert_eq(num("/testsuites/@failures"), c.failed);
    cr_assert_eq(num("/testsuites/@errors"), c.errors + c.not_run, "a run not run is an error: the night is incomplete");
    cr_assert_eq(c.failed, 2);
    cr_assert_eq(c.errors, 3);
    cr_assert_eq(num("count(//failure)"), 2);
    cr_assert_eq(c.not_run, 1);
    cr_assert_eq(num("count(//error)"), 4);
    cr_assert_eq(num("count(//skipped)"), c.quarantined);
    cr_assert_eq(num("sum(//testsuite/@skipped)"), 1);
    cr_assert_eq(num("sum(//testsuite/@failures)"), 2);
    cr_assert_eq(num("sum(//testsuite/@errors)"), 4);
    cr_assert_str_eq(str("/testsuites/@time"), "91.250");
    /* unique names: no two testcases share classname and name */
    for (size_t i = 0; i < n.nrun; i++) {
        char q[400];
        snprintf(q, sizeof q, "count(%s)", tc(n.run[i].job.name, (unsigned)n.run[i].job.seed, ""));
        cr_assert_eq(num(q), 1, "%s", q);
    }
    cr_assert_eq(num("count(//testcase[@classname='soft-start'])"), 2);
    cr_assert_str_eq(str("//testsuite[1]/@name"), "soft-start seed 1");
    cr_assert_str_eq(str(tc("soft-start", 2, "/@time")), "1.500");

    /* a FAIL: its first failed check with figure, limit, time and line */
    cr_assert_str_eq(str(tc("svc-crash-restart", 3, "/failure/@type")), "FAIL");
    cr_assert_str_eq(str(tc("svc-crash-restart", 3, "/failure/@message")),
                     "restart time = 62.5 ms, limit <= 50 ms (t=1.2 s, svc-crash-restart.lua:14)");
    const char *body = str(tc("svc-crash-restart", 3, "/failure"));
    cr_assert(strstr(body, "pass crashed: true, expected true"), "%s", body);
    cr_assert(strstr(body, "FAIL restart time = 62.5 ms, limit <= 50 ms"), "%s", body);
    cr_assert(strstr(body, "pass output dip = 3 V"), "%s", body);
    cr_assert(strstr(str(tc("svc-crash-restart", 3, "/system-out")), "seed 3: FAIL"));

    /* ERROR, crashed, timed out: errors with their reasons */
    cr_assert_str_eq(str(tc("can-babble", 1, "/error/@message")),
                     "can-babble.lua:7: attempt to call a nil value (global 'fualt')");
    cr_assert_str_eq(str(tc("can-babble", 1, "/error/@type")), "ERROR");
    cr_assert_str_eq(str(tc("hw-trip-ocp", 1, "/error/@type")), "CRASHED");
    cr_assert_str_eq(str(tc("hw-trip-ocp", 1, "/error/@message")),
                     "crashed: its process ended on signal 11 (Segmentation fault)");
    cr_assert(strstr(str(tc("hw-trip-ocp", 1, "/system-err")), "Segmentation fault\n"));
    cr_assert(strstr(str(tc("hw-trip-ocp", 1, "/system-out")), "no verdict.txt in"));
    cr_assert_str_eq(str(tc("ev-session", 1, "/error/@type")), "TIMEOUT");
    cr_assert_str_eq(str(tc("ev-session", 1, "/error/@message")),
                     "timed out: killed after 75.0 s: its timeout is 60 s");

    /* quarantined: skipped, the failure kept in the message; expired: a failure saying so */
    cr_assert_eq(num("count(//testcase[@classname='bus-off-recovery']/failure)"), 0);
    cr_assert_str_eq(str(tc("bus-off-recovery", 4, "/skipped/@message")),
                     "quarantined until 2099-01-01: flaky on a loaded box (issue 41); FAIL: rejoin time = 1.8 s, "
                     "limit <= 1 s (t=2.5 s, bus-off-recovery.lua:30)");
    cr_assert_str_eq(str("//testsuite[@name='bus-off-recovery seed 4']/@skipped"), "1");
    cr_assert_str_eq(str("//testsuite[@name='bus-off-recovery seed 4']/@failures"), "0");
    cr_assert_str_eq(str(tc("fan-fail-derate", 2, "/failure/@message")),
                     "quarantine expired 2026-11-01 (waiting for the fan curve): derated power = 2.1 kW, limit >= 2.4 "
                     "kW (t=9 s, fan-fail-derate.lua:21)");
    cr_assert_str_eq(str(tc("module-pull-150kw", 1, "/error/@message")), "not run: stopped: the night got SIGTERM");
    cr_assert_str_eq(str(tc("module-pull-150kw", 1, "/error/@type")), "NOTRUN");
    cr_assert_eq(num("count(//testcase[@classname='module-pull-150kw']/skipped)"), 0);
    cr_assert_eq(num("count(//testcase[@classname='module-pull-150kw']/system-out)"), 0);

    /* properties: seed, rig version, hashes, each requirement, level, tags, gaps */
    const char *p = "//testsuite[@name='soft-start seed 1']/properties/property";
    char q[300];
    snprintf(q, sizeof q, "string(%s[@name='seed']/@value)", p);
    cr_assert_str_eq(str(q), "1");
    snprintf(q, sizeof q, "string(%s[@name='rig_version']/@value)", p);
    cr_assert_str_eq(str(q), "0.4.0+test");
    snprintf(q, sizeof q, "string(%s[@name='trace_sha256']/@value)", p);
    cr_assert_str_eq(str(q), "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1");
    snprintf(q, sizeof q, "count(%s[@name='requirement'])", p);
    cr_assert_eq(num(q), 2);
    snprintf(q, sizeof q, "string(%s[@name='requirement'][2]/@value)", p);
    cr_assert_str_eq(str(q), "EK-TECH-010 6.3");
    snprintf(q, sizeof q, "count(%s[@name='gap'])", p);
    cr_assert_eq(num(q), 2);
    snprintf(q, sizeof q, "string(%s[@name='tags']/@value)", p);
    cr_assert_str_eq(str(q), "power,startup");
    snprintf(q, sizeof q, "string(%s[@name='level']/@value)", p);
    cr_assert_str_eq(str(q), "quick");
    cr_assert_eq(num("count(//testsuite[@name='hw-trip-ocp seed 1']/properties/property[@name='trace_sha256'])"), 0);
    unload();
    ngt_night_free(&n);
}

/* Run a command; its exit status, its output into out. */
static int run_cmd(char *out, size_t cap, const char *cmd)
{
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "%s", cmd);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void xmllint_accepts(void)
{
    char out[8192], cmd[600];
    if (access("/usr/bin/xmllint", X_OK))
        cr_skip_test("xmllint is not installed (Debian's libxml2-utils; ci/install-deps installs it)");
    snprintf(cmd, sizeof cmd, "/usr/bin/xmllint --noout --nonet --schema '%s' '%s' 2>&1", EK3_JUNIT_XSD, xml);
    int rc = run_cmd(out, sizeof out, cmd);
    cr_assert_eq(rc, 0, "xmllint: %d\n%s", rc, out);
    cr_assert(strstr(out, "validates"), "%s", out);
}

/* junitparser's view: "tests failures errors skipped" then one line per case. */
static const char *const JP =
    "import sys\n"
    "from junitparser import JUnitXml, Failure, Error, Skipped\n"
    "x = JUnitXml.fromfile(sys.argv[1])\n"
    "t = f = e = s = 0\n"
    "lines = []\n"
    "for suite in x:\n"
    "    t += suite.tests; f += suite.failures; e += suite.errors; s += suite.skipped\n"
    "    props = {p.name: p.value for p in suite.properties()}\n"
    "    for case in suite:\n"
    "        kind = 'pass'\n"
    "        msg = ''\n"
    "        for r in case.result:\n"
    "            kind = type(r).__name__.lower(); msg = r.message or ''\n"
    "        lines.append('%s|%s|%s|%s|%s|%.3f' % (case.classname, case.name, kind, props.get('seed'), msg, case.time))\n"
    "print('totals %d %d %d %d root %s %s %s' % (t, f, e, s, x.tests, x.failures, x.errors))\n"
    "print('\\n'.join(lines))\n";

static void junitparser_reads(char *out, size_t cap)
{
    char cmd[600], py[128];
    snprintf(cmd, sizeof cmd, "%s -c 'import junitparser' 2>/dev/null", EK3_PYTHON3);
    if (system(cmd))
        cr_skip_test("python3-junitparser is not installed (ci/install-deps installs it)");
    snprintf(py, sizeof py, "%s/read.py", dir);
    FILE *f = fopen(py, "w");
    cr_assert_not_null(f);
    fputs(JP, f);
    cr_assert_eq(fclose(f), 0);
    snprintf(cmd, sizeof cmd, "%s '%s' '%s' 2>&1", EK3_PYTHON3, py, xml);
    int rc = run_cmd(out, cap, cmd);
    cr_assert_eq(rc, 0, "junitparser: %d\n%s", rc, out);
}

Test(junit, the_file_passes_the_junit_schema)
{
    ngt_night n;
    mixed_night(&n);
    write_night(&n);
    ngt_night_free(&n);
    xmllint_accepts();
}

Test(junit, junitparser_reads_back_the_counts_names_and_messages)
{
    ngt_night n;
    mixed_night(&n);
    write_night(&n);
    ngt_night_free(&n);
    char out[8192];
    junitparser_reads(out, sizeof out);
    cr_assert(strstr(out, "totals 9 2 4 1 root 9 2 4\n"), "%s", out);
    cr_assert(strstr(out, "\nsoft-start|seed 1|pass|1||1.250\n"), "%s", out);
    cr_assert(strstr(out, "\nsvc-crash-restart|seed 3|failure|3|restart time = 62.5 ms, limit <= 50 ms (t=1.2 s, "
                          "svc-crash-restart.lua:14)|2.000\n"),
              "%s", out);
    cr_assert(strstr(out, "\nhw-trip-ocp|seed 1|error|1|crashed: its process ended on signal 11"), "%s", out);
    cr_assert(strstr(out, "\nev-session|seed 1|error|1|timed out: killed after 75.0 s"), "%s", out);
    cr_assert(strstr(out, "\nbus-off-recovery|seed 4|skipped|4|quarantined until 2099-01-01"), "%s", out);
    cr_assert(strstr(out, "\nfan-fail-derate|seed 2|failure|2|quarantine expired 2026-11-01"), "%s", out);
    cr_assert(strstr(out, "\nmodule-pull-150kw|seed 1|error|1|not run: stopped"), "%s", out);
}

Test(junit, an_empty_night_is_a_valid_file_with_no_tests)
{
    ngt_night n;
    nb_night(&n, dir, "2026-12-01T02:00:00Z");
    write_night(&n);
    load();
    cr_assert_eq(num("count(/testsuites)"), 1);
    cr_assert_eq(num("/testsuites/@tests"), 0);
    cr_assert_eq(num("/testsuites/@failures"), 0);
    cr_assert_eq(num("count(//testcase)"), 0);
    unload();
    char out[4096];
    junitparser_reads(out, sizeof out);
    cr_assert(strstr(out, "totals 0 0 0 0 root 0 0 0"), "%s", out);
    xmllint_accepts();
}

Test(junit, text_xml_cannot_hold_is_escaped_and_a_long_verdict_cut)
{
    ngt_night n;
    nb_night(&n, dir, "2026-12-01T02:00:00Z");
    ngt_run *r = nb_run(&n, "weird", 1, NGT_DONE, SCN_ERROR, 1, "", 0x66, 0);
    snprintf(r->r.error, sizeof r->r.error, "w.lua:1: bell\a nul-ish\x01 esc\x1b bad \xff\xfe utf8 \xc3 ok \xc3\xa9 <&>\"']]>");
    nb_fig(r, "x\x02y", NAN, "", "tr\x7fue", 0, 0, "w.lua:2");
    size_t big = 3 * JUN_OUT_MAX;
    char *text = malloc(big);
    cr_assert_not_null(text);
    for (size_t i = 0; i < big; i++)
        text[i] = (char)(i % 80 == 79 ? '\n' : i % 7 == 0 ? 0x01 : 'a' + (char)(i % 26));
    memcpy(text, "HEAD", 4);
    put_file(r, "verdict.txt", text, big);
    memcpy(text + big - 4, "TAIL", 4);
    put_file(r, "run.log", text, big);
    free(text);
    write_night(&n);
    ngt_night_free(&n);
    load();
    const char *m = str("//error/@message");
    cr_assert_str_eq(m, "w.lua:1: bell\\x07 nul-ish\\x01 esc\\x1B bad \\xFF\\xFE utf8 \\xC3 ok \xc3\xa9 <&>\"']]>");
    cr_assert(strstr(str("//error"), "FAIL x\\x02y, limit tr\\x7Fue"), "%s", str("//error"));
    const char *o = str("//system-out");
    cr_assert(!strncmp(o, "HEAD", 4));
    cr_assert(strlen(o) > JUN_OUT_MAX && strlen(o) < 4 * JUN_OUT_MAX + 200, "%zu", strlen(o));
    cr_assert(strstr(o, "... cut: verdict.txt is longer than 65536 bytes (196608 in all)"), "%s", o + strlen(o) - 200);
    const char *e = str("//system-err");
    cr_assert(strstr(e, "... cut: the first 131072 bytes of run.log are not shown"), "%.200s", e);
    cr_assert(!strcmp(e + strlen(e) - 4, "TAIL"), "%s", e + strlen(e) - 10);
    unload();
    xmllint_accepts();
}

Test(junit, a_write_error_is_eio_naming_the_file)
{
    if (access("/dev/full", W_OK))
        cr_skip_test("no /dev/full");
    ngt_night n;
    mixed_night(&n);
    char err[300] = "";
    int rc = jun_write("/dev/full", &n, err, sizeof err);
    cr_assert_eq(rc, EK3_EIO, "%d %s", rc, err);
    cr_assert(strstr(err, "/dev/full: write error: No space left on device"), "%s", err);
    char p[200];
    snprintf(p, sizeof p, "%s/no/such/dir/junit.xml", dir);
    rc = jun_write(p, &n, err, sizeof err);
    cr_assert_eq(rc, EK3_EIO);
    cr_assert(strstr(err, p) && strstr(err, "No such file"), "%s", err);
    ngt_night_free(&n);
}
