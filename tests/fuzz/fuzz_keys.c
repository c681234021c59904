/* fuzz_keys.c - a run's keys.csv read back (key_read_csv, which the
 * HTML report plots): never crash; what is read has 1..KEY_MAX named
 * signals and rising times; a refusal is a negative code with a reason
 * naming the file and line. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    key_data d;
    char err[300] = "";
    int rc = key_read_csv(f, "k.csv", &d, err, sizeof err);
    fclose(f);
    if (rc > 0 || (rc && strncmp(err, "k.csv:", 6)))
        abort();
    if (rc) {
        if (d.t || d.v)
            abort();
        return 0;
    }
    if (d.ncol < 1 || d.ncol > KEY_MAX)
        abort();
    for (unsigned c = 0; c < d.ncol; c++)
        if (!d.name[c][0] || strlen(d.name[c]) >= KEY_NAME_CAP)
            abort();
    for (size_t i = 0; i < d.nrow; i++) {
        if (!isfinite(d.t[i]) || (i && d.t[i] < d.t[i - 1]))
            abort();
        for (unsigned c = 0; c < d.ncol; c++)
            (void)d.v[(size_t)c * d.nrow + i]; /* every value is there (ASan) */
    }
    key_data_free(&d);
    return 0;
}
