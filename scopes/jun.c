/*
 * jun.c - a night as JUnit XML (jun.h), through libxml2's xmlTextWriter
 * onto our own FILE (so that every write error is seen: libxml2's own
 * file output does not report a failed close).
 */
#include "jun.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "ek3_err.h"

/* Growing text. */
typedef struct jun_buf {
    char *s;
    size_t n, cap;
    int oom;
} jun_buf;

static void jun_put(jun_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 256;
        while (c < b->n + n + 1)
            c *= 2;
        char *t = realloc(b->s, c);
        if (!t) {
            b->oom = 1;
            return;
        }
        b->s = t;
        b->cap = c;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void jun_printf(jun_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jun_printf(jun_buf *b, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k > 0)
        jun_put(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

/* The length of the UTF-8 character at s (n bytes left) that XML 1.0
 * allows, or 0: not UTF-8 (overlong, a surrogate, past U+10FFFF, cut
 * short), a control character other than tab, newline and carriage
 * return, U+FFFE or U+FFFF. */
static size_t jun_xml_char(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return (c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n' || c == '\r' ? 1 : 0;
    size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (!k || c > 0xf4 || k > n)
        return 0;
    uint32_t u = c & (0x7f >> k);
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        u = (u << 6) | (s[i] & 0x3f);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (u < least[k] || u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff) || u == 0xfffe || u == 0xffff ||
        (u >= 0x80 && u <= 0x9f))
        return 0;
    return k;
}

/* s (n bytes) as legal XML text appended to b: what XML cannot hold as
 * "\xNN". */
static void jun_clean(jun_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        size_t k;
        while (run < n && (k = jun_xml_char(u + run, n - run)) > 0)
            run += k;
        jun_put(b, s + i, run - i);
        if (run < n) {
            jun_printf(b, "\\x%02X", u[run]);
            run++;
        }
        i = run;
    }
}

/* A malloc'd legal-XML copy of s, or NULL (memory). */
static char *jun_legal(const char *s)
{
    jun_buf b = {0};
    jun_put(&b, "", 0);
    jun_clean(&b, s, strlen(s));
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* One check as "NAME = FIGURE UNIT, limit LIMIT (t=T s, WHERE)" (scn_fig_limit). */
static void jun_fig_text(const scn_fig *f, char *buf, size_t cap)
{
    char fig[80], lim[80];
    scn_fig_result(f, fig, sizeof fig);
    snprintf(buf, cap, "%s%s, %s (t=%.6g s, %s)", f->name, fig, scn_fig_limit(f, lim, sizeof lim), f->t_s, f->where);
}

const char *jun_fail_message(const scn_result *r, char *buf, size_t cap)
{
    if (r->verdict == SCN_ERROR)
        snprintf(buf, cap, "%s", r->error);
    else if (r->first_fail >= 0 && (unsigned)r->first_fail < r->nfig)
        jun_fig_text(&r->fig[r->first_fail], buf, cap);
    else
        snprintf(buf, cap, "%s with no failed check recorded", scn_verdict_name((unsigned)r->verdict));
    return buf;
}

/* What a run is in JUnit terms; the order of ngt_count_night. */
typedef enum jun_kind { JUN_PASS, JUN_FAIL, JUN_ERROR, JUN_QUARANTINED, JUN_NOT_RUN } jun_kind;

static jun_kind jun_kind_of(const ngt_run *r, int *verdict)
{
    *verdict = r->status == NGT_DONE ? r->r.verdict : SCN_ERROR;
    if (r->status == NGT_NOT_RUN)
        return JUN_NOT_RUN;
    if (*verdict == SCN_PASS)
        return JUN_PASS;
    if (r->quarantine[0] && !r->q_expired)
        return JUN_QUARANTINED;
    return *verdict == SCN_FAIL ? JUN_FAIL : JUN_ERROR;
}

/* Seconds as the schema's SUREFIRE_TIME: digits, a point, three decimals. */
static const char *jun_time(double s, char buf[32])
{
    if (!(s >= 0) || s > 1e12)
        s = 0;
    snprintf(buf, 32, "%.3f", s);
    return buf;
}

/* Appends to b the file dir/name: its first max bytes (tail = 0) or its
 * last (tail = 1), with a note where it was cut. 0 when absent. */
static int jun_file(jun_buf *b, const char *out, const char *dir, const char *name, int tail)
{
    char path[1600];
    snprintf(path, sizeof path, "%s/%s/%s", out, dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    long size = -1;
    if (!fseek(f, 0, SEEK_END))
        size = ftell(f);
    long skip = tail && size > (long)JUN_OUT_MAX ? size - (long)JUN_OUT_MAX : 0;
    if (size < 0 || fseek(f, skip, SEEK_SET)) {
        fclose(f);
        return 0;
    }
    char *t = malloc(JUN_OUT_MAX);
    if (!t) {
        fclose(f);
        b->oom = 1;
        return 0;
    }
    size_t n = fread(t, 1, JUN_OUT_MAX, f);
    int more = !tail && fgetc(f) != EOF;
    fclose(f);
    size_t start = 0, end = n;
    if (skip) /* begin at a character, not inside one */
        while (start < n && start < 4 && ((unsigned char)t[start] & 0xc0) == 0x80)
            start++;
    if (more) /* end at a character */
        for (size_t k = 0; k < 4 && end > 0 && ((unsigned char)t[end - 1] & 0xc0) == 0x80; k++)
            end--;
    if (more && end > 0 && (unsigned char)t[end - 1] >= 0xc0)
        end--;
    if (skip)
        jun_printf(b, "... cut: the first %ld bytes of %s are not shown\n", skip + (long)start, name);
    jun_clean(b, t + start, end - start);
    if (more)
        jun_printf(b, "\n... cut: %s is longer than %u bytes (%ld in all)\n", name, JUN_OUT_MAX, size);
    free(t);
    return 1;
}

/* The writer and where it writes. */
typedef struct jun_io {
    FILE *f;
    int err;                  /* errno of the first write error */
} jun_io;

static int jun_io_write(void *ctx, const char *buf, int len)
{
    jun_io *io = ctx;
    if (len > 0 && fwrite(buf, 1, (size_t)len, io->f) != (size_t)len) {
        if (!io->err)
            io->err = errno ? errno : EIO;
        return -1;
    }
    return len;
}

static int jun_io_close(void *ctx)
{
    (void)ctx;
    return 0;
}

/* libxml2's own "I/O error" line: the write error is ours to report. */
static void jun_quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

/* Writer calls: a negative return from libxml2 ends the file. */
#define JUN_W(call)                                                                                                    \
    do {                                                                                                               \
        if ((call) < 0)                                                                                                \
            return -1;                                                                                                 \
    } while (0)

#define X(s) ((const xmlChar *)(s))

/* An attribute or element text, made legal XML first. */
static int jun_attr(xmlTextWriterPtr w, const char *name, const char *value)
{
    char *v = jun_legal(value);
    if (!v)
        return -1;
    int rc = xmlTextWriterWriteAttribute(w, X(name), X(v));
    free(v);
    return rc;
}

static int jun_prop(xmlTextWriterPtr w, const char *name, const char *value)
{
    JUN_W(xmlTextWriterStartElement(w, X("property")));
    JUN_W(jun_attr(w, "name", name));
    JUN_W(jun_attr(w, "value", value));
    return xmlTextWriterEndElement(w);
}

/* One property per item of list (sep-separated). */
static int jun_props(xmlTextWriterPtr w, const char *name, const char *list, char sep)
{
    for (const char *s = list; *s;) {
        const char *e = strchr(s, sep);
        size_t k = e ? (size_t)(e - s) : strlen(s);
        char item[1100];
        snprintf(item, sizeof item, "%.*s", (int)(k < sizeof item ? k : sizeof item - 1), s);
        if (item[0])
            JUN_W(jun_prop(w, name, item));
        s += k + (e != NULL);
    }
    return 0;
}

/* An element holding text (already legal XML). */
static int jun_text_el(xmlTextWriterPtr w, const char *el, const jun_buf *b)
{
    if (b->oom)
        return -1;
    JUN_W(xmlTextWriterStartElement(w, X(el)));
    JUN_W(xmlTextWriterWriteString(w, X(b->s ? b->s : "")));
    return xmlTextWriterEndElement(w);
}

/* The counts of one run, or of the night when r is NULL. */
typedef struct jun_tally {
    unsigned tests, failures, errors, skipped;
} jun_tally;

static void jun_tally_run(jun_tally *t, const ngt_run *r)
{
    int v;
    jun_kind k = jun_kind_of(r, &v);
    t->tests++;
    t->failures += k == JUN_FAIL;
    t->errors += k == JUN_ERROR || k == JUN_NOT_RUN; /* a run not run: the night is incomplete, never green */
    t->skipped += k == JUN_QUARANTINED;
}

static int jun_counts(xmlTextWriterPtr w, const jun_tally *t, int skipped)
{
    JUN_W(xmlTextWriterWriteFormatAttribute(w, X("tests"), "%u", t->tests));
    JUN_W(xmlTextWriterWriteFormatAttribute(w, X("failures"), "%u", t->failures));
    JUN_W(xmlTextWriterWriteFormatAttribute(w, X("errors"), "%u", t->errors));
    if (skipped)
        JUN_W(xmlTextWriterWriteFormatAttribute(w, X("skipped"), "%u", t->skipped));
    return 0;
}

/* The verdict's check list, for a failure's or an error's text. */
static void jun_checks(jun_buf *b, const ngt_run *run)
{
    const scn_result *r = &run->r;
    char line[700];
    if (run->why[0]) {
        jun_clean(b, run->why, strlen(run->why));
        jun_put(b, "\n", 1);
    }
    if (r->verdict == SCN_ERROR && r->error[0] && strcmp(r->error, run->why)) {
        jun_clean(b, r->error, strlen(r->error));
        jun_put(b, "\n", 1);
    }
    jun_printf(b, "checks (%u):\n", r->nfig);
    for (unsigned i = 0; i < r->nfig; i++) {
        jun_fig_text(&r->fig[i], line, sizeof line);
        jun_printf(b, "  %s ", r->fig[i].pass ? "pass" : "FAIL");
        jun_clean(b, line, strlen(line));
        jun_printf(b, "%s\n", (int)i == r->first_fail ? "  <- first failure" : "");
    }
    jun_printf(b, "evidence: %s\n", run->dir);
}

static int jun_testcase(xmlTextWriterPtr w, const ngt_night *n, const ngt_run *run, const char *name,
                        const char *seed)
{
    const scn_result *r = &run->r;
    int v;
    jun_kind k = jun_kind_of(run, &v);
    char tm[32], msg[1600], why[700];
    JUN_W(xmlTextWriterStartElement(w, X("testcase")));
    JUN_W(jun_attr(w, "classname", name));
    JUN_W(jun_attr(w, "name", seed));
    JUN_W(xmlTextWriterWriteAttribute(w, X("time"), X(jun_time(run->wall_s, tm))));

    if (run->status == NGT_CRASHED)
        snprintf(why, sizeof why, "crashed: %s", run->why[0] ? run->why : r->error);
    else if (run->status == NGT_TIMEOUT)
        snprintf(why, sizeof why, "timed out: %s", run->why[0] ? run->why : r->error);
    else
        jun_fail_message(r, why, sizeof why);
    const char *type = run->status == NGT_CRASHED ? "CRASHED" : run->status == NGT_TIMEOUT ? "TIMEOUT"
                                                                                            : scn_verdict_name((unsigned)v);
    jun_buf body = {0};
    if (k == JUN_NOT_RUN) {
        JUN_W(xmlTextWriterStartElement(w, X("error")));
        JUN_W(xmlTextWriterWriteAttribute(w, X("type"), X("NOTRUN")));
        snprintf(msg, sizeof msg, "not run: %s", run->why[0] ? run->why : "the night was stopped");
        JUN_W(jun_attr(w, "message", msg));
        JUN_W(xmlTextWriterEndElement(w));
    } else if (k == JUN_QUARANTINED) {
        snprintf(msg, sizeof msg, "quarantined until %s: %s; %s: %s", run->q_expires[0] ? run->q_expires : "?",
                 run->quarantine, type, why);
        jun_checks(&body, run);
        JUN_W(xmlTextWriterStartElement(w, X("skipped")));
        JUN_W(xmlTextWriterWriteAttribute(w, X("type"), X("quarantined")));
        JUN_W(jun_attr(w, "message", msg));
        JUN_W(xmlTextWriterWriteString(w, X(body.oom ? "" : body.s)));
        JUN_W(xmlTextWriterEndElement(w));
    } else if (k == JUN_FAIL || k == JUN_ERROR) {
        if (run->q_expired)
            snprintf(msg, sizeof msg, "quarantine expired %s (%s): %s", run->q_expires, run->quarantine, why);
        else
            snprintf(msg, sizeof msg, "%s", why);
        jun_checks(&body, run);
        JUN_W(xmlTextWriterStartElement(w, X(k == JUN_FAIL ? "failure" : "error")));
        JUN_W(xmlTextWriterWriteAttribute(w, X("type"), X(type)));
        JUN_W(jun_attr(w, "message", msg));
        JUN_W(xmlTextWriterWriteString(w, X(body.oom ? "" : body.s)));
        JUN_W(xmlTextWriterEndElement(w));
    }
    int oom = body.oom;
    free(body.s);
    if (oom)
        return -1;

    jun_buf out = {0};
    if (k != JUN_NOT_RUN && !jun_file(&out, n->out, run->dir, "verdict.txt", 0))
        jun_printf(&out, "no verdict.txt in %s/%s\n", n->out, run->dir);
    if (out.n || out.oom) {
        int rc = jun_text_el(w, "system-out", &out);
        free(out.s);
        JUN_W(rc);
    }
    if (k != JUN_PASS && k != JUN_NOT_RUN) {
        jun_buf log = {0};
        if (jun_file(&log, n->out, run->dir, "run.log", 1) || log.oom) {
            int rc = jun_text_el(w, "system-err", &log);
            free(log.s);
            JUN_W(rc);
        }
    }
    return xmlTextWriterEndElement(w);
}

static int jun_suite(xmlTextWriterPtr w, const ngt_night *n, const ngt_run *run)
{
    const scn_result *r = &run->r;
    const char *name = run->job.name[0] ? run->job.name : r->m.name[0] ? r->m.name : run->job.path;
    uint64_t seed = run->job.seed;
    char seedtext[40], suite[600], tm[32], hex[65], num[32];
    snprintf(seedtext, sizeof seedtext, "seed %llu", (unsigned long long)seed);
    snprintf(suite, sizeof suite, "%s %s", name, seedtext);
    jun_tally t = {0};
    jun_tally_run(&t, run);
    int v;
    jun_kind k = jun_kind_of(run, &v);
    static const uint8_t zero[32];

    JUN_W(xmlTextWriterStartElement(w, X("testsuite")));
    JUN_W(jun_attr(w, "name", suite));
    JUN_W(jun_counts(w, &t, 1));
    JUN_W(xmlTextWriterWriteAttribute(w, X("time"), X(jun_time(run->wall_s, tm))));
    if (n->started[0])
        JUN_W(jun_attr(w, "timestamp", n->started));
    JUN_W(jun_attr(w, "package", "ek3"));
    JUN_W(jun_attr(w, "file", run->job.path[0] ? run->job.path : r->m.path));

    JUN_W(xmlTextWriterStartElement(w, X("properties")));
    JUN_W(jun_prop(w, "scenario", name));
    snprintf(num, sizeof num, "%llu", (unsigned long long)seed);
    JUN_W(jun_prop(w, "seed", num));
    JUN_W(jun_prop(w, "rig_version", n->rig_version));
    static const char *const status[] = {"done", "crashed", "timeout", "not run"};
    JUN_W(jun_prop(w, "status", (unsigned)run->status < 4 ? status[run->status] : "?"));
    JUN_W(jun_prop(w, "verdict", k == JUN_NOT_RUN ? "NOT RUN" : scn_verdict_name((unsigned)v)));
    if (memcmp(r->trace_sha256, zero, 32)) {
        scn_sha256_hex(r->trace_sha256, hex);
        JUN_W(jun_prop(w, "trace_sha256", hex));
    }
    if (memcmp(r->script_sha256, zero, 32)) {
        scn_sha256_hex(r->script_sha256, hex);
        JUN_W(jun_prop(w, "script_sha256", hex));
    }
    if (r->m.level[0])
        JUN_W(jun_prop(w, "level", r->m.level));
    if (r->m.tags[0])
        JUN_W(jun_prop(w, "tags", r->m.tags));
    JUN_W(jun_props(w, "requirement", r->m.requirements, ';'));
    JUN_W(jun_props(w, "gap", r->m.gaps, '\n'));
    JUN_W(jun_prop(w, "evidence", run->dir));
    if (run->quarantine[0]) {
        char q[400];
        snprintf(q, sizeof q, "%s until %s: %s", run->q_expired ? "expired" : "quarantined", run->q_expires,
                 run->quarantine);
        JUN_W(jun_prop(w, "quarantine", q));
    }
    JUN_W(xmlTextWriterEndElement(w));

    JUN_W(jun_testcase(w, n, run, name, seedtext));
    return xmlTextWriterEndElement(w);
}

static int jun_document(xmlTextWriterPtr w, const ngt_night *n)
{
    jun_tally t = {0};
    double sum = 0;
    for (size_t i = 0; i < n->nrun; i++) {
        jun_tally_run(&t, &n->run[i]);
        if (n->run[i].wall_s > 0)
            sum += n->run[i].wall_s;
    }
    char tm[32];
    JUN_W(xmlTextWriterSetIndent(w, 1));
    JUN_W(xmlTextWriterSetIndentString(w, X("  ")));
    JUN_W(xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL));
    JUN_W(xmlTextWriterStartElement(w, X("testsuites")));
    JUN_W(xmlTextWriterWriteAttribute(w, X("name"), X("ek3 nightly")));
    JUN_W(jun_counts(w, &t, 0));
    JUN_W(xmlTextWriterWriteAttribute(w, X("time"), X(jun_time(n->wall_s > 0 ? n->wall_s : sum, tm))));
    for (size_t i = 0; i < n->nrun; i++)
        JUN_W(jun_suite(w, n, &n->run[i]));
    JUN_W(xmlTextWriterEndElement(w));
    return xmlTextWriterEndDocument(w);
}

int jun_write(const char *path, const ngt_night *n, char *err, size_t cap)
{
    jun_io io = {fopen(path, "w"), 0};
    if (!io.f) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return EK3_EIO;
    }
    xmlOutputBufferPtr ob = xmlOutputBufferCreateIO(jun_io_write, jun_io_close, &io, NULL);
    xmlTextWriterPtr w = ob ? xmlNewTextWriter(ob) : NULL;
    if (!w) {
        if (ob)
            xmlOutputBufferClose(ob);
        fclose(io.f);
        snprintf(err, cap, "%s: out of memory", path);
        return EK3_ENOSPC;
    }
    errno = 0;
    /* the error handler is per thread in libxml2: set and put back here */
    xmlGenericErrorFunc was = xmlGenericError;
    void *was_ctx = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(NULL, jun_quiet);
    int rc = jun_document(w, n);
    if (xmlTextWriterFlush(w) < 0)
        rc = -1;
    xmlFreeTextWriter(w); /* closes ob */
    xmlSetGenericErrorFunc(was_ctx, was);
    if (fflush(io.f) && !io.err)
        io.err = errno ? errno : EIO;
    if (ferror(io.f) && !io.err)
        io.err = EIO;
    if (fclose(io.f) && !io.err)
        io.err = errno ? errno : EIO;
    if (io.err) {
        snprintf(err, cap, "%s: write error: %s", path, strerror(io.err));
        return EK3_EIO;
    }
    if (rc < 0) {
        snprintf(err, cap, "%s: the XML writer failed (out of memory)", path);
        return EK3_ENOSPC;
    }
    return 0;
}
