/* fuzz_fault.c - a fault as text (ek3 rack --fault, flt_parse): never
 * crash; a refused spec says why; an accepted one has every parameter in
 * its table range, reads back the same from its own text (flt_format),
 * and checks, injects and clears on a small rack without harm. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ek3_err.h"
#include "fault.h"
#include "rig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static rig g;
    static int ready;
    if (!ready) {
        rig_opts o;
        rig_default_opts(&o, 4, 1, 6000.0);
        if (rig_init(&g, &o))
            abort();
        ready = 1;
    }
    char s[300];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    flt_spec f, back;
    char err[256] = "";
    int rc = flt_parse(s, &f, err, sizeof err);
    if (rc) {
        if (rc > 0 || !err[0])
            abort(); /* a refusal is a negative code and a reason */
        return 0;
    }
    const flt_def *d = &flt_table[f.id];
    for (unsigned i = 0; i < d->np; i++)
        if (!(f.p[i] >= d->p[i].min && f.p[i] <= d->p[i].max))
            abort();
    char text[512];
    if (flt_format(&f, text, sizeof text) || flt_parse(text, &back, err, sizeof err))
        abort();
    if (back.id != f.id || back.target != f.target || back.svc != f.svc || back.t != f.t ||
        memcmp(back.p, f.p, sizeof f.p))
        abort();
    if (flt_check(&g, &f, err, sizeof err) == EK3_OK) {
        flt_inject(&g, &f);
        if (d->clearable)
            flt_clear(&g, &f);
        rig_quantum(&g);
    } else if (!err[0]) {
        abort();
    }
    return 0;
}
