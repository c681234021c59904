/* fuzz_junit.c - the JUnit writer (jun_write) on text from a run that
 * can hold anything: the input split at NUL bytes is an error message, a
 * check's name, unit and limit, a crash's why, a quarantine reason and
 * the run's verdict.txt. The file must be written and be well-formed XML
 * (libxml2 reads it back) with the run's one testcase. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "jun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next NUL-ended piece of the input into buf[cap]. */
static void piece(const uint8_t **d, size_t *n, char *buf, size_t cap)
{
    size_t k = 0;
    while (*n && **d && k + 1 < cap) {
        buf[k++] = (char)**d;
        (*d)++, (*n)--;
    }
    buf[k] = 0;
    if (*n)
        (*d)++, (*n)--;
}

static char dir[64];

/* The folder goes when the fuzzer ends. */
static void fz_clean(void)
{
    static const char *const left[] = {"runs/s/verdict.txt", "junit.xml", "runs/s", "runs", ""};
    for (int i = 0; i < 5; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, left[i]);
        remove(p);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        atexit(fz_clean);
        snprintf(dir, sizeof dir, "/tmp/fuzz_junit_%ld", (long)getpid());
        mkdir(dir, 0700);
        char p[128];
        snprintf(p, sizeof p, "%s/runs", dir);
        mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/runs/s", dir);
        mkdir(p, 0700);
    }
    ngt_night n;
    memset(&n, 0, sizeof n);
    snprintf(n.out, sizeof n.out, "%s", dir);
    ngt_run *r = calloc(1, sizeof *r);
    scn_fig *g = calloc(1, sizeof *g);
    if (!r || !g)
        abort();
    n.run = r;
    n.nrun = 1;
    snprintf(r->dir, sizeof r->dir, "runs/s");
    unsigned mode = size ? data[0] % 6 : 0;
    r->status = mode < 3 ? NGT_DONE : (int)mode - 2; /* DONE, CRASHED, TIMEOUT, NOT_RUN */
    r->r.verdict = mode < 3 ? (int)mode : SCN_ERROR;
    piece(&data, &size, r->job.name, sizeof r->job.name);
    piece(&data, &size, r->r.error, sizeof r->r.error);
    piece(&data, &size, g->name, sizeof g->name);
    piece(&data, &size, g->unit, sizeof g->unit);
    piece(&data, &size, g->limit, sizeof g->limit);
    piece(&data, &size, r->why, sizeof r->why);
    piece(&data, &size, r->quarantine, sizeof r->quarantine);
    piece(&data, &size, r->r.m.requirements, sizeof r->r.m.requirements);
    r->q_expired = size && data[0] & 1;
    g->value = 1.5;
    r->r.fig = g;
    r->r.nfig = r->r.capfig = 1;
    r->r.first_fail = r->r.verdict == 1 ? 0 : -1;
    char p[160];
    snprintf(p, sizeof p, "%s/runs/s/verdict.txt", dir);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f))
        abort();
    snprintf(p, sizeof p, "%s/junit.xml", dir);
    char err[300];
    if (jun_write(p, &n, err, sizeof err))
        abort();
    xmlDocPtr doc = xmlReadFile(p, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        abort();
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root || strcmp((const char *)root->name, "testsuites"))
        abort();
    xmlFreeDoc(doc);
    ngt_night_free(&n);
    return 0;
}
