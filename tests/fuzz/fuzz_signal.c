/* fuzz_signal.c - a signal path (get("..."), sig_resolve) on a small
 * session: never crash; a refusal is a negative code and a reason; an
 * accepted path is the canonical text of what it resolved to (sig_path
 * gives it back), has a unit, and reads without harm. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "session.h"
#include "fuzz_rack.h"
#include "sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ses *sp = fuzz_rack(1);
    char in[300];
    size_t n = size < sizeof in - 1 ? size : sizeof in - 1;
    memcpy(in, data, n);
    in[n] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        const ses *x = pass ? NULL : sp; /* against the rack, then the form alone */
        sig_ref r;
        char err[512] = "";
        int rc = sig_resolve(x, in, &r, err, sizeof err);
        if (strlen(err) >= sizeof err)
            abort();
        if (rc) {
            if (rc > 0 || !err[0])
                abort(); /* a refusal is a negative code and a reason */
            continue;
        }
        char back[300];
        if (!sig_path(&r, back, sizeof back) || strcmp(back, in) || !sig_unit(&r))
            abort();
        if (x) {
            double v = sig_read(sp, &r);
            const char *name = sig_enum_name(&r, v);
            if (name && !name[0])
                abort();
        }
    }
    return 0;
}
