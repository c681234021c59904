/* fuzz_params.c - `--set name=value` and quantities from the command line:
 * never crash, and a refused assignment changes nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
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
    if (prm_set(&p, s, err, sizeof err) != 0 && memcmp(&p, &before, sizeof p))
        abort();
    if (prm_check(&p, err, sizeof err) != 0)
        abort(); /* an accepted value leaves a valid set */
    double v;
    (void)cli_parse_quantity(s, "s", &v);
    (void)cli_parse_quantity(s, "Hz", &v);
    return 0;
}
