/* fuzz_quarantine.c - the nightly's quarantine file (ngt_quarantine_parse):
 * never crash; an entry has a name of letters, digits, '-', '_', '.', a
 * real date YYYY-MM-DD and a reason, and the list finds it; a refusal is
 * EK3_EPARSE (or EK3_ENOSPC) with a reason naming q.txt and a line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "ngt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngt_quarantine q;
    char err[400] = "";
    int rc = ngt_quarantine_parse((const char *)data, size, "q.txt", &q, err, sizeof err);
    if (rc) {
        if ((rc != EK3_EPARSE && rc != EK3_ENOSPC) || strncmp(err, "q.txt", 5) || q.n)
            abort();
        return 0;
    }
    for (size_t i = 0; i < q.n; i++) {
        const ngt_qentry *e = &q.e[i];
        if (!e->name[0] || strspn(e->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
                               strlen(e->name))
            abort();
        if (strlen(e->expires) != 10 || e->expires[4] != '-' || e->expires[7] != '-' || !e->reason[0] || !e->line)
            abort();
        const ngt_qentry *f = ngt_quarantine_find(&q, e->name, e->seed);
        if (!f || strcmp(f->name, e->name))
            abort();
    }
    ngt_quarantine_free(&q);
    return 0;
}
