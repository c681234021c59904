/*
 * hst.c - TEMP: a minimal history (hst.h) so that the nightly builds and
 * runs before the history's own branch lands; the lead drops this file
 * for that one. Lines are read and written with jansson.
 */
#include "hst.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "vrd.h"

static void hst_cpy(char *dst, size_t cap, json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    snprintf(dst, cap, "%s", s ? s : "");
}

int hst_load(hst *h, const char *path, char *err, size_t cap)
{
    memset(h, 0, sizeof *h);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return EK3_EIO;
    }
    char *line = NULL;
    size_t lcap = 0;
    unsigned no = 0;
    int rc = 0;
    while (getline(&line, &lcap, f) > 0) {
        no++;
        if (line[0] == '\n')
            continue;
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (!json_is_object(o) || !json_is_string(json_object_get(o, "scenario"))) {
            snprintf(err, cap, "%s:%u: %s", path, no, o ? "not a history line" : je.text);
            json_decref(o);
            rc = EK3_EPARSE;
            break;
        }
        if (h->n == h->cap) {
            size_t nc = h->cap ? 2 * h->cap : 64;
            hst_entry *ne = realloc(h->e, nc * sizeof *ne);
            if (!ne) {
                json_decref(o);
                rc = EK3_ENOSPC;
                snprintf(err, cap, "%s: out of memory", path);
                break;
            }
            h->e = ne;
            h->cap = nc;
        }
        hst_entry *e = &h->e[h->n++];
        memset(e, 0, sizeof *e);
        hst_cpy(e->night, sizeof e->night, o, "night");
        hst_cpy(e->rig_version, sizeof e->rig_version, o, "rig_version");
        hst_cpy(e->scenario, sizeof e->scenario, o, "scenario");
        hst_cpy(e->path, sizeof e->path, o, "path");
        hst_cpy(e->script_sha256, sizeof e->script_sha256, o, "script_sha256");
        hst_cpy(e->trace_sha256, sizeof e->trace_sha256, o, "trace_sha256");
        e->seed = (uint64_t)json_integer_value(json_object_get(o, "seed"));
        const char *v = json_string_value(json_object_get(o, "verdict"));
        e->verdict = v && !strcmp(v, "PASS") ? SCN_PASS : v && !strcmp(v, "FAIL") ? SCN_FAIL : SCN_ERROR;
        e->wall_s = json_number_value(json_object_get(o, "wall_s"));
        json_decref(o);
    }
    free(line);
    if (!rc && ferror(f)) {
        snprintf(err, cap, "%s: read error", path);
        rc = EK3_EIO;
    }
    fclose(f);
    if (rc)
        hst_free(h);
    return rc;
}

int hst_append(const char *path, const ngt_night *n, char *err, size_t cap)
{
    FILE *f = fopen(path, "a");
    if (!f) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return EK3_EIO;
    }
    for (size_t i = 0; i < n->nrun; i++) {
        const ngt_run *r = &n->run[i];
        if (r->status == NGT_NOT_RUN)
            continue;
        char sha[65], tr[65];
        scn_sha256_hex(r->r.script_sha256, sha);
        scn_sha256_hex(r->r.trace_sha256, tr);
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:f,s:[]}", "format", "ek3-history/1", "night",
                              n->started, "rig_version", n->rig_version, "scenario", r->job.name, "path",
                              r->job.path, "script_sha256", sha, "seed", (json_int_t)r->job.seed, "verdict",
                              scn_verdict_name((unsigned)(r->status == NGT_DONE ? r->r.verdict : SCN_ERROR)),
                              "trace_sha256", tr, "wall_s", r->wall_s, "figures");
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (s)
            fprintf(f, "%s\n", s);
        free(s);
    }
    if (fclose(f)) {
        snprintf(err, cap, "%s: write error: %s", path, strerror(errno));
        return EK3_EIO;
    }
    return 0;
}

void hst_free(hst *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->e[i].fig);
    free(h->e);
    memset(h, 0, sizeof *h);
}

static int hst_dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int hst_duration(const hst *h, const char *scenario, uint64_t seed, unsigned last, double *s)
{
    double v[64];
    unsigned k = 0;
    if (last > 64)
        last = 64;
    for (size_t i = h->n; i-- > 0 && k < last;)
        if (h->e[i].seed == seed && !strcmp(h->e[i].scenario, scenario) && h->e[i].wall_s > 0)
            v[k++] = h->e[i].wall_s;
    if (!k)
        return 0;
    qsort(v, k, sizeof v[0], hst_dcmp);
    *s = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
    return 1;
}

size_t hst_series(const hst *h, const char *scenario, uint64_t seed, const char *figure, size_t max,
                  const char **night, double *value)
{
    (void)h, (void)scenario, (void)seed, (void)figure, (void)max, (void)night, (void)value;
    return 0;
}

int hst_analyse(const hst *h, const ngt_night *n, unsigned window, hst_flag **out)
{
    (void)h, (void)n, (void)window;
    *out = NULL;
    return 0;
}
