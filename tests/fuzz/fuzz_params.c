/* fuzz_params.c - `--set name=value`, quantities and integers from the
 * command line: never crash, a refused assignment changes nothing, an
 * accepted integer is within its range and decimal unless written 0x, and
 * an accepted set is one the switching model runs on (ten periods, finite
 * figures). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
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
    uint64_t u;
    if (cli_parse_u64(s, 511, &u) == 0) {
        if (u > 511)
            abort();
        if (s[1] != 'x' && s[1] != 'X') { /* decimal: the digits, leading zeros aside */
            char back[32];
            const char *d = s;
            while (d[0] == '0' && d[1])
                d++;
            snprintf(back, sizeof back, "%llu", (unsigned long long)u);
            if (strcmp(back, d))
                abort();
        }
    }
    int64_t i;
    if (cli_parse_i64(s, -1000, 1000, &i) == 0 && (i < -1000 || i > 1000))
        abort();
    uint32_t bps;
    if (cli_parse_rate(s, &bps) == 0 && (bps < 1 || bps > 100000000))
        abort();
    uint8_t hex[8];
    size_t nh;
    if (cli_parse_hex(s, hex, sizeof hex, &nh) == 0 && nh > sizeof hex)
        abort();
    return 0;
}
