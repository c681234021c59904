/* fuzz_history.c - the nightly history read back (hst_parse, the reader
 * of hst_load): never crash; a refusal is EK3_EPARSE naming "h.jsonl:"
 * and a line, with the history left empty; what is read has a known
 * verdict, text fields ended within their arrays and seconds >= 0; a cut
 * last line only ever warns. What is read is then used as the runner
 * uses it (durations, series, the analysis of a night made of its own
 * entries). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "hst.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hst h = {0};
    char err[400] = "";
    int rc = hst_parse(&h, (const char *)data, size, "h.jsonl", err, sizeof err);
    if (rc) {
        if ((rc != EK3_EPARSE && rc != EK3_ENOSPC) || strncmp(err, "h.jsonl:", 8) || h.n || h.e)
            abort();
        return 0;
    }
    if (h.warning[0] && strncmp(h.warning, "h.jsonl:", 8))
        abort();
    for (size_t i = 0; i < h.n; i++) {
        const hst_entry *e = &h.e[i];
        if (e->verdict < SCN_PASS || e->verdict > SCN_ERROR || !(e->wall_s >= 0) || !e->scenario[0] ||
            memchr(e->scenario, 0, sizeof e->scenario) == NULL || memchr(e->night, 0, sizeof e->night) == NULL ||
            (e->nfig && !e->fig))
            abort();
        for (unsigned k = 0; k < e->nfig; k++)
            if (!memchr(e->fig[k].limit, 0, sizeof e->fig[k].limit) || !e->fig[k].name[0])
                abort();
    }
    if (h.n) {
        const hst_entry *e = &h.e[h.n - 1];
        double s;
        if (hst_duration(&h, e->scenario, e->seed, 0, &s) && !(s > 0))
            abort();
        const char *night[8];
        double v[8];
        if (hst_series(&h, e->scenario, e->seed, e->nfig ? e->fig[0].name : "x", 8, night, v) > 8)
            abort();
        /* tonight: the last entry again, with figures as recorded */
        ngt_night n;
        memset(&n, 0, sizeof n);
        ngt_run *r = calloc(1, sizeof *r);
        if (!r)
            abort();
        n.run = r;
        n.nrun = 1;
        snprintf(r->job.name, sizeof r->job.name, "%s", e->scenario);
        r->job.seed = e->seed;
        r->status = NGT_DONE;
        r->r.verdict = e->verdict == SCN_PASS ? SCN_FAIL : SCN_PASS;
        memset(r->r.script_sha256, 0x5a, 32);
        r->r.first_fail = -1;
        r->r.fig = calloc(e->nfig ? e->nfig : 1, sizeof *r->r.fig);
        if (!r->r.fig)
            abort();
        for (unsigned k = 0; k < e->nfig; k++) {
            scn_fig *g = &r->r.fig[k];
            memcpy(g->name, e->fig[k].name, sizeof g->name);
            memcpy(g->limit, e->fig[k].limit, sizeof g->limit);
            memcpy(g->unit, e->fig[k].unit, sizeof g->unit);
            g->value = e->fig[k].value * 1.5 + 1;
            g->pass = 1;
        }
        r->r.nfig = r->r.capfig = e->nfig;
        hst_flag *f = NULL;
        int k = hst_analyse(&h, &n, 5, &f);
        if (k < 0 && k != EK3_ENOSPC)
            abort();
        for (int i = 0; i < k; i++)
            if ((f[i].kind != HST_DRIFT && f[i].kind != HST_FLIP) || !memchr(f[i].text, 0, sizeof f[i].text))
                abort();
        free(f);
        ngt_night_free(&n);
    }
    hst_free(&h);
    return 0;
}
