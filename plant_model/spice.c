/* spice.c - the power stage as an ngspice netlist. */
#include "spice.h"

#include "ek3_err.h"

int spice_netlist(FILE *f, const llc_params *p, const llc_cmd *c, double rload, double tstop, double tmax,
                  const char *data)
{
    double T = 1.0 / c->fsw, td = c->deadtime, tr = 1e-9;
    double on = 0.5 * T - td - tr; /* gate high time, edges included */
    double rs = (p->r_lr + p->r_pri) * p->fr_ac;
    fprintf(f, "* EK3 module power stage (ek3 plant, spice_netlist)\n");
    fprintf(f, "VDC top 0 DC %.9g\n", p->vdc);
    fprintf(f, "VG14 g14 0 PULSE(0 1 %.9g %.3g %.3g %.9g %.9g)\n", td, tr, tr, on, T);
    fprintf(f, "VG23 g23 0 PULSE(0 1 %.9g %.3g %.3g %.9g %.9g)\n", 0.5 * T + td, tr, tr, on, T);
    /* Diodes: an exponential junction (about 0.72 V at the currents of
     * interest) in series with a source for the rest of the constant
     * drop the switching model uses. */
    fprintf(f, ".model DJ D(IS=1e-12 N=1 RS=1e-3 CJO=1e-12)\n");
    /* The rectifier's diodes: the same junction with the constant
     * charge-equivalent capacitance the switching model uses (M = 0);
     * with cj = 0 (instant commutation) 1 pF, as for the bridge's diodes,
     * since ngspice's step control fails on an ideal junction. */
    fprintf(f, ".model DRJ D(IS=1e-12 N=1 RS=1e-3 CJO=%.9g M=0)\n", p->cj > 1e-12 ? p->cj : 1e-12);
    /* Leg A: S1 top-a (g14), S2 a-0 (g23); leg B: S3 top-b (g23), S4 b-0 (g14). */
    static const char *const sw[4][3] = {{"top", "a", "g14"}, {"a", "0", "g23"}, {"top", "b", "g23"}, {"b", "0", "g14"}};
    for (int k = 0; k < 4; k++) {
        /* The channel: a conductance the gate ramps from 1 uS to 1 / Rds_on in 1 ns. */
        fprintf(f, "BS%d %s %s I=V(%s,%s)*(V(%s)/%.9g+1e-6)\n", k + 1, sw[k][0], sw[k][1], sw[k][0], sw[k][1], sw[k][2],
                p->rds25);
        fprintf(f, "C%d %s %s %.9g\n", k + 1, sw[k][0], sw[k][1], llc_coss_tr(p, p->vdc));
        /* Body diode: from the lower node to the upper, with its drop. */
        fprintf(f, "VBD%d %s bd%d DC %.9g\n", k + 1, sw[k][1], k + 1, p->vsd > 0.72 ? p->vsd - 0.72 : 0);
        fprintf(f, "DB%d bd%d %s DJ\n", k + 1, k + 1, sw[k][0]);
    }
    fprintf(f, "RS a t1 %.9g\n", rs > 1e-6 ? rs : 1e-6);
    fprintf(f, "VLR t1 t2 DC 0\n");
    fprintf(f, "LR t2 t3 %.9g IC=0\n", p->lr);
    fprintf(f, "CR t3 p1 %.9g IC=0\n", p->cr);
    /* Transformer Np:Ns = n as coupled inductors: the primary is Lm, and
     * k = 0.9999 leaves 0.02 % of Lm as leakage (0.1 % of Lr). */
    fprintf(f, "LP p1 b %.9g IC=0\n", p->lm);
    fprintf(f, "LS sx sy %.9g IC=0\n", p->lm / (p->n * p->n));
    fprintf(f, "RSY sy 0 1e7\n");
    fprintf(f, "KT LP LS 0.9999\n");
    fprintf(f, "RSEC sx sx3 %.9g\n", p->r_sec * p->fr_ac > 1e-6 ? p->r_sec * p->fr_ac : 1e-6);
    /* Diode bridge from the winding (sx3, sy) to out / 0, each diode with its drop. */
    static const char *const rd[4][2] = {{"sx3", "out"}, {"sy", "out"}, {"0", "sx3"}, {"0", "sy"}};
    for (int k = 0; k < 4; k++) {
        fprintf(f, "VF%d %s rf%d DC %.9g\n", k + 1, rd[k][0], k + 1, p->vf > 0.72 ? p->vf - 0.72 : 0);
        fprintf(f, "DR%d rf%d %s DRJ\n", k + 1, k + 1, rd[k][1]);
    }
    fprintf(f, "COUT out 0 %.9g IC=0\n", p->cout);
    fprintf(f, "RLOAD out 0 %.9g\n", rload);
    fprintf(f, ".options method=gear maxord=2 reltol=1e-4 abstol=1e-9 vntol=1e-6 itl4=200\n");
    fprintf(f, ".tran %.3g %.9g 0 %.3g\n", tmax, tstop, tmax); /* from the operating point: at rest */
    fprintf(f, ".control\nset wr_singlescale\nrun\nwrdata %s v(out) i(vlr)\nquit\n.endc\n.end\n", data);
    return ferror(f) ? EK3_EIO : EK3_OK;
}
