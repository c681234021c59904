/* fault.c - the fault table and the functions that apply it. */
#include "fault.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "canbus.h"
#include "cli.h"
#include "fwinst.h"
#include "ek3_err.h"
#include "inject.h"
#include "msg.h"
#include "rtlprot.h"

#define NOP {0}
#define SVC_MODELS_NOTE "; the restart server's answer is the test"

const flt_def flt_table[] = {
    [FLT_PULL] = {"pull", FLT_PLANT, FLT_T_SLOT, 0, 1, {NOP},
                  "hot swap: the module leaves its slot (no output, no load on the bus); its firmware runs on"},
    [FLT_INSERT] = {"insert", FLT_PLANT, FLT_T_SLOT, 0, 1, {NOP},
                    "hot swap: a fresh module at rest goes into an empty slot; its output relay stays open (the HIL "
                    "channel has no relay line yet, so it does not rejoin the bus)"},
    [FLT_IGF] = {"igf", FLT_PLANT, FLT_T_SLOT, 1, 1, {{"i", "A", 0, 10, 0.05, 0}},
                 "ground fault: leakage current to the chassis, seen by the IGF channel and the GFI comparator "
                 "(up to the module's fs_igf)"},
    [FLT_FAN] = {"fan", FLT_PLANT, FLT_T_SLOT, 1, 1, {{"health", "", 0, 1, 0, 0}},
                 "fan seized (health 0) or slowed: it reaches health x the commanded speed; the tachometer shows it"},
    [FLT_SHORT] = {"short", FLT_PLANT, FLT_T_RACK, 1, 1, {{"r", "ohm", 1e-3, 1e6, 0.1, 0}},
                   "output short: the DC bus shorted through r, in parallel with the load"},
    [FLT_ADC_OFFSET] = {"adc-offset", FLT_PLANT, FLT_T_SLOT, 2, 1,
                        {{"ch", "", 0, PMOD_ADC_CHANNELS - 1, 0, 1}, {"lsb", "", -4095, 4095, 100, 0}},
                        "sensor offset: ADC channel ch (msg_adc_ch order) reads lsb codes more"},
    [FLT_ADC_STUCK] = {"adc-stuck", FLT_PLANT, FLT_T_SLOT, 2, 1,
                       {{"ch", "", 0, PMOD_ADC_CHANNELS - 1, 0, 1}, {"code", "", 0, 4095, 0, 1}},
                       "sensor stuck or wire broken: ADC channel ch reads code whatever it senses"},
    [FLT_BUS_CORRUPT] = {"bus-corrupt", FLT_BUS, FLT_T_NODE, 1, 1, {{"frames", "", 1, 1e6, 1, 1}},
                         "the node's next frames fail on the wire (error frame, TEC + 8, resent; ISO 11898-1)"},
    [FLT_BUS_ERRORS] = {"bus-errors", FLT_BUS, FLT_T_BUS, 2, 1,
                        {{"corrupt", "", 0, 1, 0.01, 0}, {"drop", "", 0, 1, 0, 0}},
                        "a noisy bus: each frame corrupted with probability corrupt, dropped at each receiver "
                        "(overrun) with probability drop"},
    [FLT_BUS_CUT] = {"bus-cut", FLT_BUS, FLT_T_NODE, 0, 1, {NOP},
                     "the node cut off the bus: it neither sends nor receives (a broken stub or transceiver)"},
    [FLT_BUS_BABBLE] = {"bus-babble", FLT_BUS, FLT_T_NODE, 1, 1, {{"id", "", 0, 0x7FF, 0, 1}},
                        "a babbling idiot: the node sends one 11-bit frame id back to back, taking the bus from "
                        "every higher id"},
    [FLT_BUS_SPLIT] = {"bus-split", FLT_BUS, FLT_T_BUS, 1, 1, {{"at", "", 1, 510, 1, 1}},
                       /* expects: the modules beyond the split lose the station: its POWER_CMDs no longer reach
                          them and their heartbeats no longer reach it (offline after 3 s, seed 2.4); a node alone
                          on its side gets no ACK and goes error passive, never bus-off (ISO 11898-1) */
                       "the bus split in two, a broken trunk before node at: nodes 0..at-1 and at..N hear and "
                       "acknowledge only their own side (the halves share one timeline: their load adds up)"},
    [FLT_BUS_LATENCY] = {"bus-latency", FLT_BUS, FLT_T_NODE, 1, 1, {{"d", "s", 0, 1, 1e-3, 0}},
                         /* expects: the node's frames arrive d late; a module's heartbeats late by d and its
                            POWER_ACKs too: past 100 ms the station retries (3 times) and gives up */
                         "the node's frames enter arbitration d after they are queued, so they arrive d later "
                         "(a slow controller or a store-and-forward gateway)"},
    [FLT_SVC_CRASH] = {"svc-crash", FLT_KERNEL, FLT_T_SERVICE, 0, 0, {NOP},
                       "the service faults now (inj crash)" SVC_MODELS_NOTE},
    [FLT_SVC_HANG] = {"svc-hang", FLT_KERNEL, FLT_T_SERVICE, 0, 0, {NOP},
                      "the service stops taking messages, a deadlock (inj hang)" SVC_MODELS_NOTE},
    [FLT_SVC_FLOOD] = {"svc-flood", FLT_KERNEL, FLT_T_SERVICE, 1, 0, {{"n", "", 1, 1000, 50, 1}},
                       "n junk messages posted to the service (inj flood)" SVC_MODELS_NOTE},
    [FLT_SVC_CORRUPT] = {"svc-corrupt", FLT_KERNEL, FLT_T_SERVICE, 0, 0, {NOP},
                         "a random bit of the next message posted to the service flips (inj corrupt)"},
    [FLT_SVC_STALL] = {"svc-stall", FLT_KERNEL, FLT_T_SLOT, 1, 0, {{"t", "s", 1e-3, 60, 0.5, 0}},
                       "the module's kernel loop stops for t, to the ms (inj stall): the watchdog's test"},
    [FLT_SVC_STRAY] = {"svc-stray", FLT_KERNEL, FLT_T_SERVICE, 1, 0, {{"victim", "", 1, 31, 1, 1}},
                       "the service's next dispatch writes into service victim's memory (inj stray): a memory fault "
                       "in strict mode (the MPU's test), a corrupted victim without"},
    [FLT_ISR_OVERRUN] = {"isr-overrun", FLT_KERNEL, FLT_T_SLOT, 2, 1,
                         {{"n", "", 1, 1e6, 100, 1}, {"t", "s", 101e-6, 0.1, 150e-6, 0}},
                         /* expects: the seed's WCET budget (< 100 us, 5.1) broken: the control loop runs at
                            1/t, the kernel loop and its services starve; past 100 ms the watchdog resets the
                            MCU (5.2 invariant 6); the Level-0 hardware protection still trips in 10 us */
                         "the next n runs of the control interrupt take t each, over its 100 us period: it runs "
                         "back to back (missing updates) and the kernel loop gets no time, no watchdog kick"},
    [FLT_REBOOT] = {"module-reboot", FLT_KERNEL, FLT_T_SLOT, 0, 0, {NOP},
                    /* expects: output off at once, the module boots (resets + 1), soft-starts and sends
                       heartbeats again: it rejoins the bus and the station sees it online */
                    "the module's MCU resets and boots again (a software reset: peripherals and drivers fresh, "
                    "output off, services restarted, the audit trail kept)"},
    [FLT_TRIP_OVP] = {"trip-ovp", FLT_HARDWARE, FLT_T_SLOT, 1, 1, {{"step", "V", -1e4, 1e4, 500, 0}},
                      "a step on the output-voltage sensing path into the Level-0 protection (OVP at 920 V)"},
    [FLT_TRIP_OCP] = {"trip-ocp", FLT_HARDWARE, FLT_T_SLOT, 1, 1, {{"step", "A", -1e4, 1e4, 10, 0}},
                      "a step on the output-current sensing path into the Level-0 protection (OCP at 4 A)"},
    [FLT_TRIP_OTP] = {"trip-otp", FLT_HARDWARE, FLT_T_SLOT, 1, 1, {{"step", "C", -1e4, 1e4, 150, 0}},
                      "a step on the junction-temperature sensing path into the Level-0 protection (OTP at 105 C)"},
    [FLT_TRIP_GFI] = {"trip-gfi", FLT_HARDWARE, FLT_T_SLOT, 1, 1, {{"step", "A", -1e4, 1e4, 0.1, 0}},
                      "a step on the ground-fault sensing path into the Level-0 protection (GFI at 50 mA)"},
    [FLT_FORGE] = {"forge-cmd", FLT_TRUST, FLT_T_SLOT, 2, 0,
                   {{"power", "W", 0, 3300, 0, 0}, {"vset", "V", 200, 920, 750, 0}},
                   /* expects: refused (bad MAC, seed 3.3): the module's forged and refused counts + 1, a REFUSED
                      POWER_ACK, its output unchanged */
                   "a forged POWER_CMD to the module (power 0: STOP) with a fresh counter and a tag under a wrong "
                   "key, as an attacker on the bus without the module's key sends it"},
    [FLT_REPLAY] = {"replay-cmd", FLT_TRUST, FLT_T_SLOT, 0, 0, {NOP},
                    /* expects: refused by the freshness counter (replayed, or stale below the 64-frame window,
                       seed 3.3), counted; output unchanged */
                    "the last POWER_CMD the station sent to the module, recorded off the bus, sent again byte for "
                    "byte (the station must have sent it one)"},
    [FLT_CMD_RANGE] = {"cmd-range", FLT_TRUST, FLT_T_SLOT, 2, 0,
                       {{"power", "W", 0, 65535, 3300, 0}, {"vset", "V", 0, 6553.5, 750, 0}},
                       /* expects: within the protocol's fields but beyond the module's limits: clamped
                          (llcc_limit_cmd, POWER_ACK CLAMPED, counted by module and station); a field out of its
                          range: refused (bad payload, REFUSED); never beyond 3.3 kW, 4 A, 920 V (seed 5.2) */
                       "an authenticated POWER_CMD past the station's API check (a compromised client or a station "
                       "defect), its values on the wire as given, beyond the protocol's field ranges too"},
    [FLT_API_FLOOD] = {"api-flood", FLT_TRUST, FLT_T_STATION, 1, 1, {{"rate", "/s", 1, 1e6, 1000, 0}},
                       /* expects: the token bucket (20/s, burst 10) passes 20 a second, refuses the rest
                          (EK3_EBUSY), counted in api_rate and logged once per burst; legitimate requests are
                          refused too while it lasts */
                       "requests at the station's API with the right key, rate a second (a client gone wild)"},
    [FLT_API_BAD_KEY] = {"api-bad-key", FLT_TRUST, FLT_T_STATION, 1, 1, {{"rate", "/s", 1, 1e6, 10, 0}},
                         /* expects: each refused (EK3_EPERM) and counted in api_bad_key, no token spent,
                            logged once per burst */
                         "requests at the station's API with a wrong key, rate a second (someone guessing)"},
};

const unsigned flt_count = sizeof flt_table / sizeof flt_table[0];

_Static_assert(sizeof flt_table / sizeof flt_table[0] == FLT_COUNT_, "one row per flt_id");

static const char *const flt_kind_name[] = {"plant", "bus", "kernel", "hardware",
                                            "trust"};
static const char *const flt_target_name[] = {"SLOT", "NODE", "SLOT.SERVICE", "bus", "rack",
                                              "station"};

static int flt_err(char *err, size_t cap, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int flt_err(char *err, size_t cap, int rc, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int flt_find(const char *name)
{
    for (unsigned i = 0; name && i < flt_count; i++)
        if (!strcmp(flt_table[i].name, name))
            return (int)i;
    return EK3_ENOENT;
}

int flt_spec_init(flt_spec *s, unsigned id, unsigned target, unsigned svc)
{
    if (id >= flt_count)
        return EK3_ENOENT;
    memset(s, 0, sizeof *s);
    s->id = id;
    s->target = target;
    s->svc = svc;
    for (unsigned i = 0; i < flt_table[id].np; i++)
        s->p[i] = flt_table[id].p[i].def;
    return EK3_OK;
}

/* The parameters against the table's ranges. */
static int flt_check_params(const flt_spec *s, char *err, size_t cap)
{
    const flt_def *d = &flt_table[s->id];
    for (unsigned i = 0; i < d->np; i++) {
        const flt_param *p = &d->p[i];
        double v = s->p[i];
        if (!(v >= p->min && v <= p->max))
            return flt_err(err, cap, EK3_ERANGE, "%s: parameter %s=%g is out of range %g to %g%s%s", d->name, p->name,
                           v, p->min, p->max, *p->unit ? " " : "", p->unit);
        if (p->integer && v != (double)(long long)v)
            return flt_err(err, cap, EK3_ERANGE, "%s: parameter %s=%g must be a whole number", d->name, p->name, v);
    }
    return EK3_OK;
}

static int flt_parse_target(const flt_def *d, const char *t, flt_spec *out, char *err, size_t cap)
{
    int64_t n;
    switch (d->target) {
    case FLT_T_BUS:
    case FLT_T_RACK:
    case FLT_T_STATION:
        if (strcmp(t, flt_target_name[d->target]))
            return flt_err(err, cap, EK3_EPARSE, "%s: target '%s' must be '%s'", d->name, t,
                           flt_target_name[d->target]);
        return EK3_OK;
    case FLT_T_SERVICE: {
        const char *dot = strchr(t, '.');
        char slot[16];
        if (!dot || (size_t)(dot - t) >= sizeof slot)
            return flt_err(err, cap, EK3_EPARSE, "%s: target '%s' must be SLOT.SERVICE, e.g. 7.2", d->name, t);
        memcpy(slot, t, (size_t)(dot - t));
        slot[dot - t] = 0;
        if (cli_parse_i64(slot, 1, 510, &n))
            return flt_err(err, cap, EK3_EPARSE, "%s: target '%s': slot '%s' is not 1 to 510", d->name, t, slot);
        out->target = (unsigned)n;
        if (cli_parse_i64(dot + 1, 1, 31, &n))
            return flt_err(err, cap, EK3_EPARSE, "%s: target '%s': service '%s' is not an id 1 to 31", d->name, t,
                           dot + 1);
        out->svc = (unsigned)n;
        return EK3_OK;
    }
    default:
        if (cli_parse_i64(t, d->target == FLT_T_NODE ? 0 : 1, 510, &n))
            return flt_err(err, cap, EK3_EPARSE, "%s: target '%s' must be a %s %d to 510", d->name, t,
                           d->target == FLT_T_NODE ? "bus node" : "slot", d->target == FLT_T_NODE ? 0 : 1);
        out->target = (unsigned)n;
        return EK3_OK;
    }
}

int flt_parse(const char *s, flt_spec *out, char *err, size_t cap)
{
    char buf[256];
    if (!s || strlen(s) >= sizeof buf)
        return flt_err(err, cap, EK3_EPARSE, "fault '%.40s...': longer than %zu characters", s ? s : "",
                       sizeof buf - 1);
    strcpy(buf, s);
    char *colon = strchr(buf, ':');
    if (!colon)
        return flt_err(err, cap, EK3_EPARSE, "fault '%s': NAME:TARGET@TIME[:P=V,...], e.g. pull:42@1s", s);
    *colon = 0;
    int id = flt_find(buf);
    if (id < 0)
        return flt_err(err, cap, EK3_ENOENT, "'%s': no fault named '%s' (ek3 faults lists them)", s, buf);
    const flt_def *d = &flt_table[id];
    flt_spec_init(out, (unsigned)id, 0, 0);
    char *tgt = colon + 1, *at = strchr(tgt, '@');
    if (!at)
        return flt_err(err, cap, EK3_EPARSE, "fault '%s': no @TIME after the target", s);
    *at = 0;
    int rc = flt_parse_target(d, tgt, out, err, cap);
    if (rc)
        return rc;
    char *time = at + 1, *params = strchr(time, ':');
    if (params)
        *params++ = 0;
    if (cli_parse_quantity(time, "s", &out->t) || !(out->t >= 0 && out->t <= 86400))
        return flt_err(err, cap, EK3_EPARSE, "fault '%s': time '%s' is not 0 s to a day", s, time);
    unsigned seen = 0;
    for (char *kv = params, *next; kv; kv = next) {
        next = strchr(kv, ',');
        if (next)
            *next++ = 0;
        char *eq = strchr(kv, '=');
        if (!eq)
            return flt_err(err, cap, EK3_EPARSE, "fault '%s': parameter '%s' is not P=V", s, kv);
        *eq = 0;
        unsigned i = 0;
        while (i < d->np && strcmp(d->p[i].name, kv))
            i++;
        if (i == d->np)
            return flt_err(err, cap, EK3_ENOENT, "%s: no parameter '%s' (%s)", d->name, kv,
                           d->np ? "ek3 faults lists them" : "it takes none");
        if (seen & 1u << i)
            return flt_err(err, cap, EK3_EPARSE, "%s: parameter %s given twice", d->name, kv);
        seen |= 1u << i;
        if (cli_parse_quantity(eq + 1, d->p[i].unit, &out->p[i]))
            return flt_err(err, cap, EK3_EPARSE, "%s: parameter %s='%s' is not a number%s%s", d->name, kv, eq + 1,
                           *d->p[i].unit ? " of " : "", d->p[i].unit);
    }
    return flt_check_params(out, err, cap);
}

int flt_check(const rig *g, const flt_spec *s, char *err, size_t cap)
{
    if (s->id >= flt_count)
        return flt_err(err, cap, EK3_ENOENT, "fault %u: no such fault", s->id);
    const flt_def *d = &flt_table[s->id];
    int rc = flt_check_params(s, err, cap);
    if (rc)
        return rc;
    unsigned n = g->o.modules;
    switch (d->target) {
    case FLT_T_NODE:
        if (s->target > n)
            return flt_err(err, cap, EK3_ENOENT, "%s: bus node %u is not in a rack of %u (0 to %u)", d->name,
                           s->target, n, n);
        break;
    case FLT_T_SLOT:
    case FLT_T_SERVICE:
        if (s->target < 1 || s->target > n)
            return flt_err(err, cap, EK3_ENOENT, "%s: slot %u is not in a rack of %u", d->name, s->target, n);
        break;
    default:
        break;
    }
    if (d->kind == FLT_KERNEL) {
        const rig_module *m = &g->m[s->target - 1];
        if (m->external)
            return flt_err(err, cap, EK3_EBUSY, "%s: slot %u runs its firmware in its own process (ek3 fw)",
                           d->name, s->target);
        if (d->target == FLT_T_SERVICE && (s->svc < 1 || s->svc >= m->fw.k.n))
            return flt_err(err, cap, EK3_ENOENT, "%s: slot %u's kernel has no service %u (1 to %u)", d->name,
                           s->target, s->svc, m->fw.k.n - 1);
        if (s->id == FLT_SVC_STRAY && (s->p[0] >= m->fw.k.n || (unsigned)s->p[0] == s->svc))
            return flt_err(err, cap, EK3_ERANGE, "%s: parameter victim=%g must be another service, 1 to %u", d->name,
                           s->p[0], m->fw.k.n - 1);
    }
    if (s->id == FLT_BUS_SPLIT && s->p[0] > n)
        return flt_err(err, cap, EK3_ERANGE, "%s: parameter at=%g must be a bus node 1 to %u", d->name, s->p[0], n);
    if (d->kind == FLT_HARDWARE && !g->plant.mod[s->target - 1].prot)
        return flt_err(err, cap, EK3_EBUSY, "%s: slot %u has no protection block", d->name, s->target);
    if (s->id == FLT_IGF && s->p[0] > g->plant.mod[s->target - 1].p.fs_igf)
        return flt_err(err, cap, EK3_ERANGE, "%s: parameter i=%g A is above the channel's full scale fs_igf=%g A",
                       d->name, s->p[0], g->plant.mod[s->target - 1].p.fs_igf);
    return EK3_OK;
}

static const unsigned flt_inj_kind[] = {
    [FLT_SVC_CRASH - FLT_SVC_CRASH] = INJ_CRASH, [FLT_SVC_HANG - FLT_SVC_CRASH] = INJ_HANG,
    [FLT_SVC_FLOOD - FLT_SVC_CRASH] = INJ_FLOOD, [FLT_SVC_CORRUPT - FLT_SVC_CRASH] = INJ_CORRUPT,
    [FLT_SVC_STALL - FLT_SVC_CRASH] = INJ_STALL, [FLT_SVC_STRAY - FLT_SVC_CRASH] = INJ_STRAY,
};

/* Apply (on) or undo (!on) through the owning module's function. */
static int flt_apply(rig *g, const flt_spec *s, int on)
{
    pmod *m = s->target >= 1 && s->target <= g->o.modules ? &g->plant.mod[s->target - 1] : NULL;
    switch ((flt_id)s->id) {
    case FLT_PULL:
        return on ? rack_remove(&g->plant, s->target - 1) : rack_insert(&g->plant, s->target - 1);
    case FLT_INSERT:
        return on ? rack_insert(&g->plant, s->target - 1) : rack_remove(&g->plant, s->target - 1);
    case FLT_IGF:
        return pmod_fault_igf(m, on ? s->p[0] : 0);
    case FLT_FAN:
        return pmod_fault_fan(m, on ? s->p[0] : 1);
    case FLT_SHORT:
        return rack_short(&g->plant, on ? s->p[0] : 0);
    case FLT_ADC_OFFSET:
        return pmod_fault_adc_offset(m, (unsigned)s->p[0], on ? s->p[1] : 0);
    case FLT_ADC_STUCK:
        return pmod_fault_adc_stuck(m, (unsigned)s->p[0], on ? (int)s->p[1] : -1);
    case FLT_BUS_CORRUPT:
        return cbus_fault_corrupt(&g->bus, s->target, on ? (uint32_t)s->p[0] : 0);
    case FLT_BUS_ERRORS:
        return on ? cbus_fault_rates(&g->bus, s->p[0], s->p[1]) : cbus_fault_rates(&g->bus, 0, 0);
    case FLT_BUS_CUT:
        return cbus_fault_cut(&g->bus, s->target, on);
    case FLT_BUS_BABBLE: {
        cfd_frame f = {.id = (uint32_t)s->p[0], .flags = 0, .len = 8, .data = {0}};
        return cbus_fault_babble(&g->bus, s->target, on ? &f : NULL);
    }
    case FLT_BUS_SPLIT:
        return cbus_fault_split(&g->bus, on ? (unsigned)s->p[0] : 0);
    case FLT_BUS_LATENCY:
        return cbus_fault_latency(&g->bus, s->target, on ? (int64_t)(s->p[0] * 1e9 + 0.5) : 0);
    case FLT_ISR_OVERRUN:
        return fwi_fault_overrun(&g->m[s->target - 1].fw, on ? (uint32_t)s->p[0] : 0,
                                 (int64_t)(s->p[1] * 1e9 + 0.5));
    case FLT_REBOOT:
        return on ? fwi_fault_reboot(&g->m[s->target - 1].fw) : EK3_EINVAL;
    case FLT_FORGE:
        return on ? stn_fault_forge(&g->stn, s->target, s->p[0], s->p[1]) : EK3_EINVAL;
    case FLT_REPLAY:
        return on ? stn_fault_replay(&g->stn, s->target) : EK3_EINVAL;
    case FLT_CMD_RANGE:
        return on ? stn_fault_command(&g->stn, g->t_ns, s->target, s->p[0], s->p[1]) : EK3_EINVAL;
    case FLT_API_FLOOD:
    case FLT_API_BAD_KEY:
        return stn_fault_flood(&g->stn, g->t_ns, on ? s->p[0] : 0, s->id == FLT_API_BAD_KEY);
    case FLT_SVC_CRASH:
    case FLT_SVC_HANG:
    case FLT_SVC_FLOOD:
    case FLT_SVC_CORRUPT:
    case FLT_SVC_STALL:
    case FLT_SVC_STRAY: {
        if (!on)
            return EK3_EINVAL;
        uint32_t param = s->id == FLT_SVC_STALL ? (uint32_t)(s->p[0] * 1e3 + 0.5)
                         : flt_table[s->id].np ? (uint32_t)s->p[0]
                                               : 0;
        return inj_fault(&g->m[s->target - 1].fw.k, (inj_kind)flt_inj_kind[s->id - FLT_SVC_CRASH],
                         s->id == FLT_SVC_STALL ? 0 : s->svc, param);
    }
    case FLT_TRIP_OVP:
    case FLT_TRIP_OCP:
    case FLT_TRIP_OTP:
    case FLT_TRIP_GFI:
        return pmod_fault_prot_step(m, RTLP_OVP + (s->id - FLT_TRIP_OVP), on ? s->p[0] : 0);
    case FLT_COUNT_:
        break;
    }
    return EK3_ENOENT;
}

int flt_inject(rig *g, const flt_spec *s)
{
    int rc = flt_check(g, s, NULL, 0);
    return rc ? rc : flt_apply(g, s, 1);
}

int flt_clear(rig *g, const flt_spec *s)
{
    int rc = flt_check(g, s, NULL, 0);
    if (rc)
        return rc;
    if (!flt_table[s->id].clearable)
        return EK3_EINVAL;
    return flt_apply(g, s, 0);
}

/* The shortest of %.15g .. %.17g that reads back as v. */
static const char *flt_num(char out[32], double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    return out;
}

int flt_format(const flt_spec *s, char *buf, size_t cap)
{
    char num[32];
    if (s->id >= flt_count)
        return EK3_ENOENT;
    const flt_def *d = &flt_table[s->id];
    char tgt[32];
    if (d->target == FLT_T_BUS || d->target == FLT_T_RACK || d->target == FLT_T_STATION)
        snprintf(tgt, sizeof tgt, "%s", flt_target_name[d->target]);
    else if (d->target == FLT_T_SERVICE)
        snprintf(tgt, sizeof tgt, "%u.%u", s->target, s->svc);
    else
        snprintf(tgt, sizeof tgt, "%u", s->target);
    size_t n = (size_t)snprintf(buf, cap, "%s:%s@%ss", d->name, tgt, flt_num(num, s->t));
    for (unsigned i = 0; i < d->np && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%c%s=%s%s", i ? ',' : ':', d->p[i].name, flt_num(num, s->p[i]),
                              d->p[i].unit);
    return n < cap ? EK3_OK : EK3_ENOSPC;
}

int flt_print(FILE *f, int markdown)
{
    if (markdown)
        fprintf(f, "| fault | kind | target | parameters (unit, range, default) | clear | models |\n"
                   "|---|---|---|---|---|---|\n");
    for (unsigned i = 0; i < flt_count; i++) {
        const flt_def *d = &flt_table[i];
        char ps[256] = "";
        size_t n = 0;
        for (unsigned j = 0; j < d->np && n < sizeof ps; j++) {
            const flt_param *p = &d->p[j];
            n += (size_t)snprintf(ps + n, sizeof ps - n, "%s%s%s%s%s %g..%g, %g", j ? "; " : "", p->name,
                                  *p->unit ? " (" : "", p->unit, *p->unit ? ")" : "", p->min, p->max, p->def);
        }
        if (markdown)
            fprintf(f, "| `%s` | %s | %s | %s | %s | %s |\n", d->name, flt_kind_name[d->kind],
                    flt_target_name[d->target], d->np ? ps : "-", d->clearable ? "yes" : "no", d->models);
        else
            fprintf(f, "%-12s %-8s %-12s %s\n%12s %s%s\n", d->name, flt_kind_name[d->kind], flt_target_name[d->target],
                    d->np ? ps : "-", "", d->models, d->clearable ? "" : " (cannot be cleared)");
    }
    return fflush(f) || ferror(f) ? EK3_EIO : EK3_OK;
}

unsigned flt_msg_code(unsigned code)
{
    switch (code) {
    case RTLP_OVP:
        return MSG_FAULT_OVP;
    case RTLP_OCP:
        return MSG_FAULT_OCP;
    case RTLP_OTP:
        return MSG_FAULT_OTP;
    case RTLP_GFI:
        return MSG_FAULT_GFI;
    default:
        return MSG_FAULT_NONE;
    }
}
