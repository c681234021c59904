/* fuzz_params.c - `--set name=value` and quantities from the command line:
 * never crash, a refused assignment changes nothing, and an accepted one
 * leaves a set the switching model runs on (ten periods, finite figures). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "module.h"
#include "params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[256];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    plant_params p, before;
    prm_defaults(&p);
    before = p;
    char err[200];
    int rc = prm_set(&p, s, err, sizeof err);
    if (rc != 0 && memcmp(&p, &before, sizeof p))
        abort();
    if (prm_check(&p, err, sizeof err) != 0)
        abort(); /* an accepted value leaves a valid set */
    if (rc == 0) {
        static pmod m;
        pmod_init(&m, &p, PMOD_SWITCHING, NULL, 1);
        llc_cmd c = {200e3, 300e-9, 1.0, 1, 0};
        if (pmod_command(&m, &c, 1.0))
            abort();
        pmod_step(&m, 50e-6, -1);
        if (!isfinite(m.vo) || !(m.vo >= 0) || !isfinite(m.pin) || !isfinite(m.ploss))
            abort();
    }
    double v;
    (void)cli_parse_quantity(s, "s", &v);
    (void)cli_parse_quantity(s, "Hz", &v);
    return 0;
}
