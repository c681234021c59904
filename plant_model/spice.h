/*
 * spice.h - the module's power stage as a SPICE netlist (prefix spice_),
 * for checking the switching model against ngspice on the same circuit:
 * four switches (on-resistance Rds_on(25 C)) with Coss and body diodes
 * (constant drop), the series R-Lr-Cr tank, Lm with an ideal
 * transformer (controlled sources), a diode bridge with a constant drop
 * per diode and its junction capacitance cj (constant, as the switching
 * model has it), Cout and the load resistor; gates with the dead time.
 * Core loss, turn-off energy and secondary copper are not in the
 * netlist: the switching model charges them to the input without
 * changing the waveforms, so set r_sec = 0 to compare.
 */
#ifndef SPICE_H
#define SPICE_H

#include <stdio.h>

#include "llc.h"

/* Write a transient run from rest to tstop with at most tmax per step,
 * saving time, v(out) and the tank current i(vlr) to `data` with
 * ngspice's wrdata. 0, or EK3_EIO. */
int spice_netlist(FILE *f, const llc_params *p, const llc_cmd *c, double rload, double tstop, double tmax,
                  const char *data);

#endif /* SPICE_H */
