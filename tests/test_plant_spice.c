/* test_plant_spice.c - the switching model against ngspice on the same
 * circuit (spice.h), from rest through the first millisecond: the tank
 * current over the last two switching periods and the output voltage. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "llc.h"
#include "params.h"
#include "spice.h"

#define TSTOP 1e-3

typedef struct trace {
    double t[4000], vo[4000], i[4000];
    int n;
} trace;

static void ours_cb(void *ctx, const llc *s)
{
    trace *tr = ctx;
    if (s->t >= TSTOP - 10e-6 - 1e-12 && tr->n < 4000) {
        tr->t[tr->n] = s->t;
        tr->vo[tr->n] = s->vo;
        tr->i[tr->n] = s->i;
        tr->n++;
    }
}

Test(spice, tank_current_and_output_agree_with_ngspice)
{
    plant_params p;
    prm_defaults(&p);
    p.llc.r_sec = 0; /* not in the netlist (see spice.h) */
    llc_cmd c = {200e3, 300e-9, 1, 1, 0};
    char dir[] = "/tmp/ek3_spice_XXXXXX", cir[80], dat[80], cmd[300];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(cir, sizeof cir, "%s/m.cir", dir);
    snprintf(dat, sizeof dat, "%s/m.dat", dir);
    FILE *f = fopen(cir, "w");
    cr_assert_not_null(f);
    cr_assert_eq(spice_netlist(f, &p.llc, &c, 200, TSTOP, 5e-9, dat), 0);
    fclose(f);
    snprintf(cmd, sizeof cmd, "ngspice -b '%s' > '%s/log' 2>&1", cir, dir);
    cr_assert_eq(system(cmd), 0, "ngspice failed (log in %s)", dir);
    /* wrdata with one scale: time v(out) i(vlr) per line. */
    FILE *d = fopen(dat, "r");
    cr_assert_not_null(d, "ngspice wrote no data (log in %s)", dir);
    /* Keep the last 12 us (the window compared). */
    static double nt[100000], nv[100000], ni[100000];
    int nn = 0;
    long lines = 0;
    double t, v, i, tlast = 0;
    while (fscanf(d, "%lf %lf %lf", &t, &v, &i) == 3) {
        lines++;
        tlast = t;
        if (t >= TSTOP - 12e-6 && nn < 100000) {
            nt[nn] = t, nv[nn] = v, ni[nn] = i;
            nn++;
        }
    }
    fclose(d);
    cr_assert_gt(lines, 1000);
    cr_assert(tlast > TSTOP * 0.999, "ngspice stopped early at %g s (log in %s)", tlast, dir);
    cr_assert_gt(nn, 100);
    static llc m;
    llc_init(&m, &p.llc, 0);
    m.rload = 200;
    llc_command(&m, &c);
    static trace tr;
    tr.n = 0;
    llc_run(&m, TSTOP, 5e-9, ours_cb, &tr);
    double se = 0, pk = 0, dv = 0;
    int k = 0;
    for (int j = 0; j < tr.n; j++) {
        while (k + 1 < nn && nt[k + 1] < tr.t[j])
            k++;
        if (k + 1 >= nn)
            break;
        double f2 = (tr.t[j] - nt[k]) / (nt[k + 1] - nt[k]);
        double is = ni[k] + f2 * (ni[k + 1] - ni[k]), vs = nv[k] + f2 * (nv[k + 1] - nv[k]);
        se += (is - tr.i[j]) * (is - tr.i[j]);
        pk = fmax(pk, fabs(tr.i[j]));
        dv = fmax(dv, fabs(vs - tr.vo[j]));
    }
    double rms = sqrt(se / tr.n);
    cr_log_info("tank current: rms difference %.4f A of peak %.3f A; output within %.3f V", rms, pk, dv);
    cr_assert(rms < 0.01 * pk, "tank current: rms difference %.4f A, peak %.3f A", rms, pk);
    cr_assert(dv < 0.005 * tr.vo[tr.n - 1], "output voltage differs by %.3f V", dv);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}
