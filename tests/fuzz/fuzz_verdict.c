/* fuzz_verdict.c - verdict.json read back (vrd_parse, for `ek3 scenario
 * replay` and `shrink`): never crash or leak; a refused file says which
 * field (or which line of the JSON) and why; an accepted one holds what
 * replay relies on (a FAIL names a failed check, the blocks end at the
 * trace's rows, every block has a fingerprint per column). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"
#include "vrd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scn_result r;
    char err[900];
    err[0] = 0;
    if (vrd_parse((const char *)data, size, "v.json", &r, err, sizeof err)) {
        if (strncmp(err, "v.json", 6))
            abort(); /* an error that does not name the file */
        return 0;
    }
    if (r.verdict == SCN_FAIL && (r.first_fail < 0 || (unsigned)r.first_fail >= r.nfig || r.fig[r.first_fail].pass))
        abort();
    if (r.nblock && r.block[r.nblock - 1].rows_end != r.trace_rows)
        abort();
    for (unsigned i = 0; i < r.nblock; i++)
        if (!r.block[i].col || (i && r.block[i].rows_end <= r.block[i - 1].rows_end))
            abort();
    for (unsigned c = 0; c < r.ncol; c++)
        if (!*scn_col_name(&r, c))
            abort();
    if (r.m.path[0] == 0)
        abort();
    /* a replay compares against it: comparing it with itself is the same */
    vrd_compare_in in = {&r, &r};
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        if (vrd_compare(null, &in))
            abort();
        fclose(null);
    }
    scn_result_free(&r);
    return 0;
}
