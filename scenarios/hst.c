/*
 * hst.c - TEMP: the least of the history (hst.h) the HTML report links
 * against (hst_series, hst_free), until the history's own branch lands.
 * The lead drops this commit ("TEMP hst") for the real one.
 */
#include "hst.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hst_free(hst *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        free(h->e[i].fig);
    free(h->e);
    h->e = NULL;
    h->n = h->cap = 0;
}

size_t hst_series(const hst *h, const char *scenario, uint64_t seed, const char *figure, size_t max,
                  const char **night, double *value)
{
    size_t total = 0, k = 0;
    if (!h || !scenario || !figure || !max)
        return 0;
    for (size_t i = 0; i < h->n; i++)
        total += h->e[i].seed == seed && !strcmp(h->e[i].scenario, scenario);
    size_t skip = total > max ? total - max : 0;
    for (size_t i = 0; i < h->n; i++) {
        const hst_entry *e = &h->e[i];
        if (e->seed != seed || strcmp(e->scenario, scenario))
            continue;
        if (skip) {
            skip--;
            continue;
        }
        night[k] = e->night;
        value[k] = NAN;
        for (unsigned j = 0; j < e->nfig; j++)
            if (!strcmp(e->fig[j].name, figure)) {
                value[k] = e->fig[j].value;
                break;
            }
        k++;
    }
    return k;
}
