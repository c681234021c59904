/* fuzz_probe.c - a probe list (--probe, trc_parse: comma-separated
 * signal paths with index ranges) on a small session: never crash; a
 * refusal is a negative code and a reason naming --probe; an accepted
 * list is one or more signals, each a path that resolves to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "session.h"
#include "fuzz_rack.h"
#include "trc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ses *sp = fuzz_rack(0);
    char in[2048];
    size_t n = size < sizeof in - 1 ? size : sizeof in - 1;
    memcpy(in, data, n);
    in[n] = '\0';
    sig_ref *r = NULL;
    unsigned nr = 0;
    char err[600] = "";
    int rc = trc_parse(sp, in, &r, &nr, err, sizeof err);
    if (rc) {
        if (rc > 0 || strncmp(err, "--probe", 7) || r || nr)
            abort();
        return 0;
    }
    if (!nr || !r)
        abort();
    for (unsigned i = 0; i < nr; i++) {
        char p[300];
        sig_ref back;
        if (!sig_path(&r[i], p, sizeof p) || sig_resolve(sp, p, &back, NULL, 0) || back.id != r[i].id ||
            back.slot != r[i].slot || back.sub != r[i].sub)
            abort();
    }
    free(r);
    return 0;
}
