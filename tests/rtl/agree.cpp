// agree.cpp - the Verilated protection block on the same stimulus as
// agree_tb.v (Icarus): `rtl_agree gen FILE N SEED` writes N clocks of
// stimulus that sweep every input across its thresholds, with clears and
// gate requests; `rtl_agree run FILE N OUT` clocks the Verilated model
// through it and writes its outputs in agree_tb.v's format. The ctest
// compares the two output files line by line.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "Vek3_prot.h"
#include "verilated.h"

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int gen(const char *path, long n, uint64_t seed)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    // Each input wanders around its threshold (on, off = on - 2 %), with
    // steps, short spikes and long stays, so every comparator switches,
    // deglitches, latches and is cleared many times.
    const int th[4] = {9200, 4000, 1050, 500};
    int x[4] = {8000, 3000, 600, 100}, hold = 0, gate = 1, clr = 0;
    for (long i = 0; i < n; i++) {
        if (hold-- <= 0) {
            uint64_t r = next(&seed);
            int k = (int)(r % 4);
            int span = th[k] / 20; // 5 % of the threshold
            if ((r >> 48) % 3 == 0) // near the threshold: within 5 % of it
                x[k] = th[k] - span + (int)((r >> 8) % (uint64_t)(2 * span + 1));
            else // well under it: 80 to 95 %
                x[k] = th[k] * 4 / 5 + (int)((r >> 8) % (uint64_t)(3 * span));
            hold = (int)((r >> 24) % 64);
            gate = ((r >> 32) % 8) != 0;
            clr = ((r >> 40) % 6) == 0;
        }
        fprintf(f, "%04x%04x%04x%04x%04x\n", x[0], x[1], x[2], x[3], (gate << 4) | clr);
    }
    return fclose(f) != 0;
}

static int run(const char *path, long n, const char *out)
{
    FILE *f = fopen(path, "r"), *o = fopen(out, "w");
    if (!f || !o)
        return 1;
    VerilatedContext ctx;
    Vek3_prot top(&ctx);
    top.rst_n = 0;
    top.clk = 0;
    top.eval();
    top.clk = 1;
    top.eval();
    top.clk = 0;
    top.rst_n = 1;
    top.eval();
    top.clk = 1;
    top.eval();
    top.clk = 0;
    top.eval();
    char line[64];
    for (long i = 0; i < n && fgets(line, sizeof line, f); i++) {
        unsigned v, c, t, g, d;
        if (sscanf(line, "%4x%4x%4x%4x%4x", &v, &c, &t, &g, &d) != 5)
            return 1;
        top.vout_dv = v;
        top.iout_ma = c;
        top.tj_dc = t;
        top.igf_ua = g;
        top.gate_req = (d >> 4) & 1;
        top.fault_clear = d & 1;
        top.eval();
        top.clk = 1;
        top.eval();
        fprintf(o, "%d %d %d %d %d %d %ld\n", top.gate_en, top.latched, top.first_code, top.clear_refused, top.cmp_on,
                top.held, i);
        top.clk = 0;
        top.eval();
    }
    top.final();
    fclose(f);
    return fclose(o) != 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "gen"))
        return gen(argv[2], atol(argv[3]), strtoull(argv[4], nullptr, 0));
    if (argc == 5 && !strcmp(argv[1], "run"))
        return run(argv[2], atol(argv[3]), argv[4]);
    fprintf(stderr, "usage: rtl_agree gen FILE N SEED | run FILE N OUT\n");
    return 2;
}
