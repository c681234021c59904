/* fuzz_rack.h - the small session the signal fuzz targets resolve
 * against (fuzz_signal, fuzz_probe): 4 modules, one thread, built once
 * and stepped `steps` quanta. Header only. */
#ifndef FUZZ_RACK_H
#define FUZZ_RACK_H

#include <stdlib.h>
#include <string.h>

#include "session.h"

static ses *fuzz_rack(int steps)
{
    static ses s;
    static int ready;
    if (!ready) {
        ses_opts o;
        memset(&o, 0, sizeof o);
        rig_default_opts(&o.r, 4, 1, 8000.0);
        o.r.threads = 1;
        o.quanta = 1;
        if (ses_init(&s, &o))
            abort();
        for (int i = 0; i < steps; i++)
            if (ses_step(&s))
                abort();
        ready = 1;
    }
    return &s;
}

#endif /* FUZZ_RACK_H */
