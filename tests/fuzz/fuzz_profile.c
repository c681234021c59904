/* fuzz_profile.c - a load profile CSV (set_load{profile=...},
 * scn_profile_read): never crash; every row handed on has a time that
 * rises from 0 to 86400 s and a power of 0 to 10 MW; a refusal is a
 * negative code with a reason naming the file and line. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "scn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz_rows {
    double t_prev;
    unsigned n;
} fz_rows;

static int fz_row(void *ctx, double t, double p)
{
    fz_rows *r = ctx;
    if (!(t >= 0 && t <= 86400 && t > r->t_prev && p >= 0 && p <= 10e6))
        abort();
    r->t_prev = t;
    return ++r->n > 1024 ? EK3_ENOSPC : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    fz_rows r = {-1, 0};
    char err[300] = "";
    int rc = scn_profile_read(f, "p.csv", fz_row, &r, err, sizeof err);
    fclose(f);
    if (rc > 0 || (rc && strncmp(err, "p.csv", 5)) || (!rc && r.n == 0))
        abort();
    return 0;
}
