/*
 * fault_rig.h - the rack the fault suites inject into (test_fault,
 * test_fault_plant, test_fault_bus; test_swarm_plant takes g and inject):
 * four modules sharing 6 kW at 750 V, run 500 ms to steady state (the bus
 * is up at 400 ms, every heartbeat heard), and faults given as text
 * through the table's own parser and checks (flt_parse, flt_check,
 * flt_inject, flt_clear), as --fault and the scenarios give them.
 * Included once per suite: its state is the suite's. The helpers are
 * inline so that a suite may use only some of them.
 */
#ifndef FAULT_RIG_H
#define FAULT_RIG_H

#include <criterion/criterion.h>
#include <math.h>

#include "ek3_err.h"
#include "fault.h"
#include "rig.h"

static rig g;

/* Build the rack and run it 500 ms. */
static inline void fault_rig_start(void)
{
    rig_opts o;
    rig_default_opts(&o, 4, 3, 6000.0);
    cr_assert_eq(rig_init(&g, &o), EK3_OK);
    for (int q = 0; q < 5000; q++)
        rig_quantum(&g);
}

static inline void teardown(void)
{
    rig_free(&g);
}

/* Run ms milliseconds of quanta. */
static inline void run_ms(double ms)
{
    for (long q = 0; q < lround(ms * 10); q++)
        rig_quantum(&g);
}

/* Parse, check and inject one fault (NAME:TARGET@TIME[:P=V,...]) now. */
static inline void inject(const char *text)
{
    flt_spec s;
    char err[256] = "";
    cr_assert_eq(flt_parse(text, &s, err, sizeof err), EK3_OK, "%s: %s", text, err);
    cr_assert_eq(flt_check(&g, &s, err, sizeof err), EK3_OK, "%s: %s", text, err);
    cr_assert_eq(flt_inject(&g, &s), EK3_OK, "%s", text);
}

/* Undo it. */
static inline void clear(const char *text)
{
    flt_spec s;
    cr_assert_eq(flt_parse(text, &s, NULL, 0), EK3_OK, "%s", text);
    cr_assert_eq(flt_clear(&g, &s), EK3_OK, "%s", text);
}

#endif /* FAULT_RIG_H */
