/* pcut.c - cut the power at every flash operation of a workload. */
#include "pcut.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "ek3_rng.h"

typedef struct pcut_ctx {
    const pcut_workload *w;
    pcut_result *r;
    fle *dev, *dev2, *golden;
    void *st, *st2;
} pcut_ctx;

static void pcut_fail(pcut_ctx *x, unsigned i, uint64_t op, uint64_t op2, const char *why)
{
    if (!x->r->failures++) {
        x->r->fail_step = i;
        x->r->fail_op = op;
        x->r->fail_op2 = op2;
        snprintf(x->r->why, sizeof x->r->why, "%s", why);
    }
}

/* Boot and redo step i on dev (state st); then check against golden. */
static void pcut_recover(pcut_ctx *x, fle *dev, void *st, unsigned i, uint64_t op, uint64_t op2)
{
    const pcut_workload *w = x->w;
    char why[256] = "";
    memset(st, 0, w->state_size);
    int rc = w->boot(st, fle_hal(dev), w->ctx);
    if (!rc)
        rc = w->step(st, fle_hal(dev), i, w->ctx);
    if (rc) {
        snprintf(why, sizeof why, "the recovery failed: %s", ek3_strerror(rc));
        pcut_fail(x, i, op, op2, why);
        return;
    }
    unsigned lost = 0;
    if (w->check(st, fle_hal(dev), fle_hal(x->golden), i, w->ctx, &lost, why, sizeof why))
        pcut_fail(x, i, op, op2, why);
    x->r->lost += lost;
}

int pcut_run(const pcut_config *c, const pcut_workload *w, pcut_result *r)
{
    memset(r, 0, sizeof *r);
    if (!w->state_size || !w->boot || !w->step || !w->check)
        return EK3_EINVAL;
    pcut_ctx x = {w, r, NULL, NULL, NULL, NULL, NULL};
    fle *snap = malloc(sizeof *snap);
    x.golden = malloc(sizeof *x.golden);
    x.dev = malloc(sizeof *x.dev);
    x.dev2 = malloc(sizeof *x.dev2);
    void *gst = calloc(1, w->state_size), *sst = malloc(w->state_size);
    x.st = malloc(w->state_size);
    x.st2 = malloc(w->state_size);
    int rc = EK3_OK;
    if (!snap || !x.golden || !x.dev || !x.dev2 || !gst || !sst || !x.st || !x.st2) {
        rc = EK3_ENOSPC;
        goto out;
    }
    fle_config fc = c->flash;
    fc.cut_at = 0;
    if (c->start) {
        memcpy(x.golden, c->start, sizeof *x.golden);
        fle_power_on(x.golden);
        x.golden->cfg.cut_at = 0;
    } else {
        fle_init(x.golden, &fc);
    }
    uint64_t rng = c->seed ^ 0xA5A5A5A5u;
    rc = w->boot(gst, fle_hal(x.golden), w->ctx);
    if (rc) {
        snprintf(r->why, sizeof r->why, "the golden run's first boot failed: %s", ek3_strerror(rc));
        goto out;
    }
    for (unsigned i = 0; i < c->steps; i++) {
        memcpy(snap, x.golden, sizeof *snap);
        memcpy(sst, gst, w->state_size);
        uint64_t before = x.golden->st.ops;
        rc = w->step(gst, fle_hal(x.golden), i, w->ctx);
        if (rc) {
            snprintf(r->why, sizeof r->why, "the golden run's step %u failed: %s", i, ek3_strerror(rc));
            rc = EK3_EIO;
            goto out;
        }
        uint64_t k = x.golden->st.ops - before;
        for (uint64_t j = 1; j <= k; j++) {
            memcpy(x.dev, snap, sizeof *x.dev);
            memcpy(x.st, sst, w->state_size);
            x.dev->cfg.cut_at = before + j;
            w->step(x.st, fle_hal(x.dev), i, w->ctx); /* into the cut */
            r->cuts++;
            if (!fle_is_off(x.dev)) {
                pcut_fail(&x, i, before + j, 0, "the cut did not happen: the step's operations differ from the golden run's");
                continue;
            }
            fle_power_on(x.dev);
            x.dev->cfg.cut_at = 0;
            int pair = c->pair_every && r->cuts % c->pair_every == 0;
            if (pair)
                memcpy(x.dev2, x.dev, sizeof *x.dev2);
            uint64_t at = x.dev->st.ops;
            pcut_recover(&x, x.dev, x.st, i, before + j, 0);
            uint64_t m = x.dev->st.ops - at; /* the recovery's operations */
            if (!pair || !m)
                continue;
            /* A second cut, inside the recovery. */
            uint64_t j2 = 1 + ek3_rng_splitmix64(&rng) % m;
            x.dev2->cfg.cut_at = at + j2;
            memset(x.st2, 0, w->state_size);
            if (!w->boot(x.st2, fle_hal(x.dev2), w->ctx))
                w->step(x.st2, fle_hal(x.dev2), i, w->ctx);
            r->pairs++;
            if (!fle_is_off(x.dev2)) {
                pcut_fail(&x, i, before + j, at + j2, "the second cut did not happen: the recovery is not deterministic");
                continue;
            }
            fle_power_on(x.dev2);
            x.dev2->cfg.cut_at = 0;
            pcut_recover(&x, x.dev2, x.st2, i, before + j, at + j2);
        }
    }
    r->ops = x.golden->st.ops;
    rc = EK3_OK;
out:
    free(snap);
    free(x.golden);
    free(x.dev);
    free(x.dev2);
    free(gst);
    free(sst);
    free(x.st);
    free(x.st2);
    return rc;
}
