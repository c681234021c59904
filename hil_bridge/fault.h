/*
 * fault.h - the rig's one fault vocabulary (prefix flt_): every fault the
 * rig can inject, by name, in one table (flt_table) with its target, its
 * parameters (name, unit, range, default) and what it models; and the
 * functions that apply and clear a fault on a running rig through the
 * owning module's public function (plant: pmod_fault_*, rack_remove,
 * rack_insert, rack_short, rack_load_dump, rack_fault_ambient; rack bus:
 * cbus_fault_*; kernel: inj_fault; the module's MCU: fwi_fault_*;
 * hardware: pmod_fault_prot_step; trust boundaries: stn_fault_*).
 * Nothing else writes a fault field.
 *
 * A fault as text (ek3 rack --fault, scenarios): NAME:TARGET@TIME[:P=V,...]
 *   pull:42@1s            slot 42 pulled at 1 s
 *   igf:3@0.5s:i=40mA     a 40 mA ground fault in slot 3 at 0.5 s
 *   svc-crash:7.2@1s      service 2 of slot 7's kernel crashes
 *   bus-drop:bus@0s:p=0.01
 * TARGET by the table's target kind: a slot 1..N; a bus node 0..N (0 is
 * the station); SLOT.SERVICE (a service by id 1.. or name, fwi_service_id); "bus", "rack" or
 * "station". Where a slot, node or SLOT.SERVICE is taken, "leader" (and
 * "leader.SERVICE") is the rack's SWARM_COORD leader at the moment the
 * fault goes in (swarmobs.h: the live leader of the highest term):
 *   svc-crash:leader.6@2s   the leader's SWARM_COORD crashes
 *   module-reboot:leader@3s
 * Parameters not given take the table's default; values take an SI
 * prefix and the parameter's unit ("40mA", "0.5").
 *
 * A newcomer adding a plant fault: a pmod_/rack_ function in plant_model/,
 * one row in flt_table and one case in flt_apply (fault.c); the table
 * feeds ek3 faults and docs/faults.md.
 */
#ifndef FAULT_H
#define FAULT_H

#include <stddef.h>
#include <stdio.h>

#include "rig.h"

#define FLT_PARAMS 4

typedef enum flt_kind {
    FLT_PLANT,
    FLT_BUS,
    FLT_KERNEL,
    FLT_HARDWARE,
    FLT_TRUST /* an attack on a trust boundary: the rack bus's authentication, the station's API */
} flt_kind;

typedef enum flt_target {
    FLT_T_SLOT,    /* a module's slot, 1..N */
    FLT_T_NODE,    /* a rack-bus node, 0..N (0: the station) */
    FLT_T_SERVICE, /* SLOT.SERVICE: a service of a module's kernel */
    FLT_T_BUS,     /* the rack bus as a whole ("bus") */
    FLT_T_RACK,    /* the rack's DC output ("rack") */
    FLT_T_STATION  /* the station controller's API ("station") */
} flt_target;

/* The faults, in flt_table order. */
typedef enum flt_id {
    FLT_PULL, FLT_INSERT, FLT_IGF, FLT_FAN, FLT_SHORT, FLT_ADC_OFFSET, FLT_ADC_STUCK,
    FLT_OPEN,
    FLT_LOAD_DUMP,
    FLT_VDC_SAG,
    FLT_VDC_SURGE,
    FLT_AMBIENT,
    FLT_RACK_AMBIENT,
    FLT_NTC_OPEN,
    FLT_NTC_SHORT,
    FLT_ADC_GAIN,
    FLT_ADC_NOISE,
    FLT_GATE_OFF,
    FLT_TANK_DRIFT,
    FLT_BUS_CORRUPT, FLT_BUS_ERRORS, FLT_BUS_CUT, FLT_BUS_BABBLE,
    FLT_BUS_SPLIT,
    FLT_BUS_LATENCY,
    FLT_SVC_CRASH, FLT_SVC_HANG, FLT_SVC_FLOOD, FLT_SVC_CORRUPT, FLT_SVC_STALL, FLT_SVC_STRAY,
    FLT_ISR_OVERRUN,
    FLT_REBOOT,
    FLT_TRIP_OVP, FLT_TRIP_OCP, FLT_TRIP_OTP, FLT_TRIP_GFI,
    FLT_FORGE,
    FLT_REPLAY,
    FLT_SWARM_FORGE,
    FLT_SWARM_REPLAY,
    FLT_CMD_RANGE,
    FLT_API_FLOOD,
    FLT_API_BAD_KEY,
    FLT_BAD_IMAGE,
    FLT_COUNT_
} flt_id;

typedef struct flt_param {
    const char *name, *unit; /* unit "" for a plain number */
    double min, max, def;
    unsigned char integer;   /* must be a whole number */
} flt_param;

typedef struct flt_def {
    const char *name;
    unsigned char kind, target; /* flt_kind, flt_target */
    unsigned char np;           /* parameters used, 0..FLT_PARAMS */
    unsigned char clearable;    /* flt_clear undoes it (a crash cannot be undone) */
    flt_param p[FLT_PARAMS];
    const char *models;         /* what it models, one sentence */
    const char *expects;        /* the reaction the seed expects, one sentence, with its section */
} flt_def;

extern const flt_def flt_table[];
extern const unsigned flt_count; /* FLT_COUNT_ */

/* One fault to apply: which, where, when, with what values. */
typedef struct flt_spec {
    unsigned id;            /* flt_id */
    unsigned target;        /* slot or node; 0 for bus and rack */
    unsigned svc;           /* FLT_T_SERVICE: the service id */
    uint8_t leader;         /* 1: the target is the rack's SWARM_COORD leader when the fault goes in
                               (TARGET "leader", "leader.SERVICE"; target 0 until flt_resolve) */
    double t;               /* when, seconds into the run (flt_parse; the caller schedules it) */
    double p[FLT_PARAMS];   /* in the units of flt_table[id].p */
} flt_spec;

/* The fault named `name` (exact, as in the table), or EK3_ENOENT. */
int flt_find(const char *name);

/* The fault whose name is `name` but for case ("IGF": igf), for the
 * refusal to name it (fault names are lower case), or EK3_ENOENT. */
int flt_find_nocase(const char *name);

/* 1 when fault id is of the module itself: its hardware, its firmware
 * (every kernel fault) or its protection (every hardware fault), so it
 * needs a module in the slot and leaves with it (a fresh module put in,
 * rack_insert, has none: pmod_renew); a plant fault of a SLOT but pull,
 * insert and those of the slot (vdc-sag, vdc-surge: its feed; ambient:
 * its air). 0 otherwise, and for an id out of range. */
int flt_of_module(int id);

/* The target a fault of the table takes, as `ek3 faults` names it:
 * "SLOT", "NODE", "SLOT.SERVICE", "bus", "rack" or "station" (id from
 * flt_find; "?" when out of range). */
const char *flt_target_text(int id);

/* A spec of fault id at target (svc for service faults), time 0, the
 * table's default parameters. 0 or EK3_ENOENT (no such fault). */
int flt_spec_init(flt_spec *s, unsigned id, unsigned target, unsigned svc);

/* Parse NAME:TARGET@TIME[:P=V,...] (above) into *out, parameters checked
 * against the table's ranges. 0, or EK3_EPARSE / EK3_ENOENT / EK3_ERANGE
 * with err (cap bytes, may be NULL) saying which part and why, e.g.
 * "igf: parameter i=2A is out of range 0 to 0.1 A". */
int flt_parse(const char *s, flt_spec *out, char *err, size_t cap);

/* Check a spec against the table and the rig (its slots, nodes and
 * services, whether the module runs in process and has protection). 0,
 * or EK3_ENOENT (no such fault or target), EK3_ERANGE (a parameter out
 * of its range), EK3_EBUSY (the target cannot take it: an external
 * module's kernel; a kernel fault, bad-image excepted, going in -- at
 * s->t, or now once that has passed -- before FWI_BOOT_SPREAD_NS on
 * every seed, or before its module's MCU leaves a later reset), with err
 * naming the target or parameter. s->t < 0 (a condition's fault): the
 * reset is checked when it goes in (flt_inject checks as of now). */
int flt_check(const rig *g, const flt_spec *s, char *err, size_t cap);

/* A "leader" target made concrete: the rack's leader now (g->obs), the
 * spec's target set and its leader flag cleared, so that a later
 * flt_clear undoes the fault where it went in. 0 (also when the spec
 * names no leader), or EK3_ENOENT with err when the rack has no leader. */
int flt_resolve(const rig *g, flt_spec *s, char *err, size_t cap);

/* Apply the fault now / undo it (flt_resolve on a copy, flt_check, then
 * the owning function: their errors, such as EK3_ENOENT for a leader
 * target without a leader, EK3_EBUSY for pulling an empty slot).
 * flt_clear of a fault that cannot be undone: EK3_EINVAL. */
int flt_inject(rig *g, const flt_spec *s);
int flt_clear(rig *g, const flt_spec *s);

/* A scheduled fault going in now, as a session and a scenario inject
 * theirs: a leader target resolved in *s (so that its clear undoes it
 * where it went in), then flt_check as of now (err, cap bytes, says why
 * it cannot go in: a full slot, a pulled module, an MCU in reset), then
 * flt_inject. 0, or the first of their errors. */
int flt_go(rig *g, flt_spec *s, char *err, size_t cap);

/* v as the shortest %g text (6 to 17 significant digits) that strtod
 * reads back as exactly v, into out; returns out. How a value is written
 * in a fault's text (flt_format), a scenario's set= flags and a shrunk
 * schedule: text that gives the same run when read again. */
const char *flt_num(char out[32], double v);

/* A spec back as text, the form flt_parse reads, that reads back as
 * exactly *s: its time in seconds (flt_num), each parameter with its
 * unit, with an SI prefix where the unit takes one and the prefixed text
 * reads back exactly ("igf:5@1.2s:i=40mA", "derate:3@1s:power=2.5kW").
 * 0 or EK3_ENOSPC. */
int flt_format(const flt_spec *s, char *buf, size_t cap);

/* Print the table: plain text (a header line, then per fault its name,
 * kind, target and parameters, what it models and what it expects), or
 * a Markdown table (docs/faults.md is
 * this output); only the faults i with only[i] set (flt_count entries),
 * in the order of only[i] (1 first: the order a user named them; ties in
 * the table's order), unless only is NULL (then every fault in the
 * table's order, and the kernel faults' note follows the text).
 * 0, or EK3_EIO when the write failed. */
int flt_print(FILE *f, int markdown, const unsigned char *only);

/* The protocol's fault code (msg.h msg_fault_code) of the protection
 * block's fault code (rtlprot.h rtlp_code): OVP 1 -> 2, OCP 2 -> 1,
 * OTP 3 -> 4, GFI 4 -> 6; RTLP_NONE and unknown -> MSG_FAULT_NONE. */
unsigned flt_msg_code(unsigned code);

#endif /* FAULT_H */
